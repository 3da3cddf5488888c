//! `casebook export KIND -o FILE.xlsx`: one sheet of records written
//! straight into the workbook's zip, on two cores. rust_xlsxwriter (which
//! writes every other .xlsx, `sheet::xlsx`) keeps a large sheet's XML in a
//! temporary file and compresses it on one core after the last row, which
//! doubled the time of a million-finding export; here this thread reads the
//! ledger and writes the sheet's XML while a second one compresses it.
//!
//! The workbook is the one `sheet::xlsx` writes: a bold, frozen header row,
//! an autofilter, column widths from the first rows (a Chinese character
//! counts two), dates as dates, counts and areas as numbers, amounts as
//! yuan with thousands separators, strings inline.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::pipe::{stopped, two_cores, Typed};
use super::values::header;
use super::xlsx::{cell_width, serial, Widths};
use super::Cell;
use crate::export::each_row;
use crate::ledger::Reader;
use crate::model::RecordKind;

/// Rows whose widths size the columns (held back until then: the widths
/// come before the rows in the sheet's XML).
const SIZED_ROWS: usize = 10_000;

/// The most rows a sheet holds, header included.
const MAX_ROWS: u64 = 1_048_576;

/// The most characters a cell holds.
const MAX_CHARS: usize = 32_767;

/// Sheet XML handed to the compressing thread at a time.
const CHUNK: usize = 256 * 1024;

/// Style indices in [`STYLES`].
const BOLD: u8 = 1;
const DATE: u8 = 2;
const YUAN: u8 = 3;

const XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;
const NS: &str = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;

const CONTENT_TYPES: &str = r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

const WORKBOOK_RELS: &str = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;

/// Plain, bold (header), date and yuan (`#,##0.00`, built-in format 4).
const STYLES: &str = r#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles><dxfs count="0"/><tableStyles count="0"/></styleSheet>"#;

/// A column's letters: 0 → `A`, 26 → `AA`.
fn col_name(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII")
}

/// Appends text as XML character data the way Excel reads it back: `&<>`
/// as entities, control characters as `_xHHHH_`, and a literal `_xHHHH_`
/// escaped so that it stays literal.
fn escape(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    let mut from = 0;
    for (i, &c) in b.iter().enumerate() {
        let rep: &[u8] = match c {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\t' | b'\n' => continue,
            0..=0x1f => {
                out.extend_from_slice(&b[from..i]);
                out.extend_from_slice(format!("_x{c:04X}_").as_bytes());
                from = i + 1;
                continue;
            }
            b'_' if b.len() >= i + 7
                && b[i + 1] == b'x'
                && b[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit)
                && b[i + 6] == b'_' =>
            {
                b"_x005F"
            }
            _ => continue,
        };
        out.extend_from_slice(&b[from..i]);
        out.extend_from_slice(rep);
        from = i + if c == b'_' { 0 } else { 1 };
    }
    out.extend_from_slice(&b[from..]);
}

/// Writes a sheet's rows as XML into chunks.
struct SheetXml {
    buf: Vec<u8>,
    /// `A`, `B`, …: one per column.
    cols: Vec<String>,
    /// The row number last written (1: the header).
    row: u64,
}

impl SheetXml {
    /// The sheet's start: the frozen header row and the column widths.
    fn start(heads: &[&str], widths: &Widths) -> SheetXml {
        let mut x = SheetXml {
            buf: Vec::with_capacity(CHUNK + 4096),
            cols: (0..heads.len()).map(col_name).collect(),
            row: 0,
        };
        let b = &mut x.buf;
        b.extend_from_slice(XML.as_bytes());
        b.extend_from_slice(format!("<worksheet {NS}>").as_bytes());
        b.extend_from_slice(br#"<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>"#);
        if !heads.is_empty() {
            b.extend_from_slice(b"<cols>");
            for (i, w) in widths.excel().enumerate() {
                // Excel's stored width of a column w characters wide.
                let w = w as f64 + 0.7109375;
                let c = i + 1;
                b.extend_from_slice(
                    format!(r#"<col min="{c}" max="{c}" width="{w}" customWidth="1"/>"#).as_bytes(),
                );
            }
            b.extend_from_slice(b"</cols>");
        }
        b.extend_from_slice(b"<sheetData>");
        let cells: Vec<Cell> = heads.iter().map(|h| Cell::Text(h.to_string())).collect();
        x.row(&cells, BOLD).expect("headers are short");
        x
    }

    /// Appends a row; `style` is the style of its text cells.
    fn row(&mut self, cells: &[Cell], style: u8) -> Result<()> {
        self.row += 1;
        if self.row > MAX_ROWS {
            bail!(
                "an .xlsx sheet holds at most {} rows: export to .csv or .parquet",
                MAX_ROWS - 1
            );
        }
        let mut n = itoa::Buffer::new();
        let r = n.format(self.row).as_bytes();
        let b = &mut self.buf;
        b.extend_from_slice(br#"<row r=""#);
        b.extend_from_slice(r);
        b.extend_from_slice(br#"">"#);
        for (i, c) in cells.iter().enumerate() {
            let open = |b: &mut Vec<u8>, s: u8, t: &[u8]| {
                b.extend_from_slice(br#"<c r=""#);
                b.extend_from_slice(self.cols[i].as_bytes());
                b.extend_from_slice(r);
                b.push(b'"');
                if s > 0 {
                    b.extend_from_slice(br#" s=""#);
                    b.push(b'0' + s);
                    b.push(b'"');
                }
                b.extend_from_slice(t);
                b.push(b'>');
            };
            let mut int = itoa::Buffer::new();
            match c {
                Cell::Empty => {}
                Cell::Text(s) => {
                    if s.len() > MAX_CHARS && s.chars().count() > MAX_CHARS {
                        bail!(
                            "row {}: a cell of {} characters; an .xlsx cell holds at most {MAX_CHARS}",
                            self.row,
                            s.chars().count()
                        );
                    }
                    open(b, style, br#" t="inlineStr""#);
                    inline(b, s);
                }
                Cell::Int(v) => {
                    open(b, 0, b"");
                    b.extend_from_slice(b"<v>");
                    b.extend_from_slice(int.format(*v).as_bytes());
                    b.extend_from_slice(b"</v></c>");
                }
                // Excel has no NaN or infinity (an area the model let through would
                // be text, as rust_xlsxwriter writes it).
                Cell::Num(v) if !v.is_finite() => {
                    open(b, 0, br#" t="inlineStr""#);
                    inline(b, &crate::model::fmt_num(*v));
                }
                Cell::Num(v) => {
                    open(b, 0, b"");
                    number(b, *v);
                }
                Cell::Yuan(fen) => {
                    open(b, YUAN, b"");
                    number(b, *fen as f64 / 100.0);
                }
                Cell::Date(d) => {
                    open(b, DATE, b"");
                    b.extend_from_slice(b"<v>");
                    b.extend_from_slice(int.format(serial(*d) as i64).as_bytes());
                    b.extend_from_slice(b"</v></c>");
                }
                Cell::Bool(v) => {
                    open(b, 0, br#" t="b""#);
                    b.extend_from_slice(if *v { b"<v>1</v></c>" } else { b"<v>0</v></c>" });
                }
            }
        }
        b.extend_from_slice(b"</row>");
        Ok(())
    }

    /// The XML gathered so far, once there is a chunk's worth.
    fn take(&mut self, at_least: usize) -> Option<Vec<u8>> {
        (self.buf.len() >= at_least)
            .then(|| std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + 4096)))
    }

    /// The sheet's end: the autofilter over every row.
    fn end(mut self) -> Vec<u8> {
        let last = format!(
            "{}{}",
            self.cols.last().map_or("A", String::as_str),
            self.row
        );
        self.buf.extend_from_slice(
            format!(r#"</sheetData><autoFilter ref="A1:{last}"/><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>"#)
                .as_bytes(),
        );
        self.buf
    }
}

/// An inline string's element and the cell's end (spaces at either end kept).
fn inline(b: &mut Vec<u8>, s: &str) {
    let ws = [' ', '\t', '\n'];
    if s.starts_with(ws) || s.ends_with(ws) {
        b.extend_from_slice(br#"<is><t xml:space="preserve">"#);
    } else {
        b.extend_from_slice(b"<is><t>");
    }
    escape(b, s);
    b.extend_from_slice(b"</t></is></c>");
}

/// A number's value element and the cell's end (no `.0` on whole numbers).
fn number(b: &mut Vec<u8>, v: f64) {
    b.extend_from_slice(format!("<v>{v}</v></c>").as_bytes());
}

/// The workbook's zip: every part is deflated as it is written.
type Zip = ZipWriter<BufWriter<File>>;

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o600)
}

fn part(zip: &mut Zip, name: &str, xml: &str) -> Result<()> {
    zip.start_file(name, options())?;
    zip.write_all(XML.as_bytes())?;
    zip.write_all(xml.as_bytes())?;
    Ok(())
}

/// Exports every record of `kind` to an .xlsx file; returns the rows written.
pub fn export(reader: &Reader, kind: RecordKind, zh: bool, path: &Path) -> Result<u64> {
    let typed = Typed::new(kind, zh, true);
    let heads: Vec<&str> = typed.fields().iter().map(|c| header(kind, c, zh)).collect();
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    part(&mut zip, "[Content_Types].xml", CONTENT_TYPES)?;
    part(&mut zip, "_rels/.rels", ROOT_RELS)?;
    part(&mut zip, "xl/_rels/workbook.xml.rels", WORKBOOK_RELS)?;
    part(&mut zip, "xl/styles.xml", STYLES)?;
    zip.start_file("xl/worksheets/sheet1.xml", options())?;
    let mut rows = 0u64;
    let produce = |send: &mut dyn FnMut(Vec<u8>) -> bool| -> Result<()> {
        let mut widths = Widths::new(&heads);
        let mut held: Vec<Vec<Cell>> = Vec::new();
        let mut sheet: Option<SheetXml> = None;
        let mut failed = None;
        each_row(reader, kind, &mut |r| {
            let mut cells = Vec::with_capacity(heads.len());
            typed.row_into(r, &mut cells);
            rows += 1;
            let x = match &mut sheet {
                Some(x) => x,
                None if held.len() < SIZED_ROWS => {
                    for (i, c) in cells.iter().enumerate() {
                        widths.see(i, cell_width(c));
                    }
                    held.push(cells);
                    return Ok(());
                }
                None => {
                    let mut x = SheetXml::start(&heads, &widths);
                    for h in held.drain(..) {
                        x.row(&h, 0).map_err(|e| stash(&mut failed, e))?;
                    }
                    sheet.insert(x)
                }
            };
            x.row(&cells, 0).map_err(|e| stash(&mut failed, e))?;
            match x.take(CHUNK) {
                Some(chunk) => send(chunk).then_some(()).ok_or_else(stopped),
                None => Ok(()),
            }
        })
        .map_err(|e| failed.take().unwrap_or_else(|| e.into()))?;
        let mut x = sheet.unwrap_or_else(|| SheetXml::start(&heads, &widths));
        for h in held.drain(..) {
            x.row(&h, 0)?;
        }
        if let Some(chunk) = x.take(1) {
            send(chunk);
        }
        send(x.end());
        Ok(())
    };
    let mut zip = two_cores(produce, move |rx| {
        for chunk in rx {
            zip.write_all(&chunk)?;
        }
        Ok(zip)
    })?;
    let name = if zh { kind.zh() } else { kind.as_str() };
    let last = format!("${}${}", col_name(heads.len().max(1) - 1), rows + 1);
    part(
        &mut zip,
        "xl/workbook.xml",
        &format!(
            r#"<workbook {NS}><bookViews><workbookView/></bookViews><sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets><definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'{name}'!$A$1:{last}</definedName></definedNames></workbook>"#
        ),
    )?;
    let mut out = zip.finish()?;
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(rows)
}

/// Keeps a row's error (the export's real reason) and gives the row loop
/// an error to stop on.
fn stash(failed: &mut Option<anyhow::Error>, e: anyhow::Error) -> crate::export::ExportError {
    failed.get_or_insert(e);
    stopped()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_lettered_as_excel_does() {
        assert_eq!(col_name(0), "A");
        assert_eq!(col_name(25), "Z");
        assert_eq!(col_name(26), "AA");
        assert_eq!(col_name(27), "AB");
        assert_eq!(col_name(701), "ZZ");
        assert_eq!(col_name(702), "AAA");
    }

    #[test]
    fn text_is_escaped_as_excel_reads_it() {
        let e = |s: &str| {
            let mut v = Vec::new();
            escape(&mut v, s);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(e("a<b & c>d"), "a&lt;b &amp; c&gt;d");
        assert_eq!(e("x\u{1}y\tz\n"), "x_x0001_y\tz\n");
        assert_eq!(e("_x0041_ and _x00"), "_x005F_x0041_ and _x00");
        assert_eq!(e("机构_名"), "机构_名");
    }
}
