//! Tables that leave casebook as files or for programs: a [`Sheet`] of typed
//! [`Cell`]s, the [`OutFormat`]s it can be written in (a terminal table, CSV,
//! JSON, JSON Lines, .xlsx, .parquet, an HTML page), and `-o FILE`
//! ([`Output`]), which picks the format from the file's extension and writes
//! the file beside its target, then renames it.
//!
//! Commands that print data build sheets; this module owns how they look
//! outside the terminal. `xlsx`, `parquet` and `html` write those formats
//! (`xlsx_export` a record export's .xlsx, and `pipe` runs exports on two
//! cores); `values` gives the Chinese headers and values of exported records;
//! `chart` draws a script's charts as SVG.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::model::fmt_date;

pub mod chart;
pub mod file;
pub mod html;
pub mod parquet;
pub mod pipe;
pub mod values;
pub mod xlsx;
pub mod xlsx_export;

pub use file::Output;

/// One value of a table, typed so that a spreadsheet, Parquet and JSON get
/// numbers, dates and booleans, not their text.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Num(f64),
    /// An amount in fen (1/100 yuan), shown in yuan.
    Yuan(i64),
    Date(NaiveDate),
    Bool(bool),
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        s.to_string().into()
    }
}

impl Cell {
    /// The cell as text in CSV and a terminal table (amounts in yuan, no separators).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Num(f) => crate::model::fmt_num(*f),
            Cell::Yuan(fen) => crate::model::fmt_yuan(*fen),
            Cell::Date(d) => fmt_date(*d),
            Cell::Bool(b) => b.to_string(),
        }
    }

    /// The cell as JSON.
    pub fn json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Cell::Empty => J::Null,
            Cell::Text(s) => J::String(s.clone()),
            Cell::Int(i) => J::from(*i),
            Cell::Num(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            Cell::Yuan(fen) => serde_json::Number::from_f64(*fen as f64 / 100.0)
                .map(J::Number)
                .unwrap_or(J::Null),
            Cell::Date(d) => J::String(fmt_date(*d)),
            Cell::Bool(b) => J::Bool(*b),
        }
    }
}

/// One table: a name (the sheet's name in .xlsx, the `table` key in JSON
/// when a command gives several), an optional line above it on a terminal,
/// its columns and rows.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    pub title: Option<String>,
    pub cols: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Sheet {
    /// An empty sheet with these columns.
    pub fn new(name: &str, cols: &[&str]) -> Sheet {
        Sheet {
            name: name.to_string(),
            title: None,
            cols: cols.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// A sheet of text rows, whole numbers typed as numbers (ids with a
    /// leading zero stay text).
    pub fn from_text(name: &str, cols: &[String], rows: &[Vec<String>]) -> Sheet {
        let cell = |v: &String| match v.parse::<i64>() {
            Ok(i) if !(v.starts_with('+') || v.starts_with('0') && v.len() > 1) => Cell::Int(i),
            _ => Cell::from(v.clone()),
        };
        Sheet {
            name: name.to_string(),
            title: None,
            cols: cols.to_vec(),
            rows: rows.iter().map(|r| r.iter().map(cell).collect()).collect(),
        }
    }

    /// The rows as text, for a terminal table.
    pub fn text_rows(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|r| r.iter().map(Cell::text).collect())
            .collect()
    }
}

/// Every format data can be written in: the first four on standard output
/// or to a file, the last three to a file (`-o`) only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutFormat {
    Table,
    Csv,
    Json,
    Jsonl,
    Xlsx,
    Parquet,
    Html,
}

impl OutFormat {
    /// The format a file's extension names.
    pub fn from_path(p: &Path) -> Option<OutFormat> {
        let ext = p.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" | "txt" => OutFormat::Csv,
            "json" => OutFormat::Json,
            "jsonl" | "ndjson" => OutFormat::Jsonl,
            "xlsx" => OutFormat::Xlsx,
            "parquet" => OutFormat::Parquet,
            "html" | "htm" => OutFormat::Html,
            _ => return None,
        })
    }

    /// The format for standard output: what was asked, else a table on a
    /// terminal and JSON Lines when piped.
    pub fn for_stdout(asked: Option<OutFormat>) -> anyhow::Result<OutFormat> {
        use std::io::IsTerminal;
        match asked {
            Some(f @ (OutFormat::Xlsx | OutFormat::Parquet | OutFormat::Html)) => {
                anyhow::bail!("--format {} writes a file: give it with -o FILE", f.name())
            }
            Some(f) => Ok(f),
            None if std::io::stdout().is_terminal() => Ok(OutFormat::Table),
            None => Ok(OutFormat::Jsonl),
        }
    }

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            OutFormat::Table => "table",
            OutFormat::Csv => "csv",
            OutFormat::Json => "json",
            OutFormat::Jsonl => "jsonl",
            OutFormat::Xlsx => "xlsx",
            OutFormat::Parquet => "parquet",
            OutFormat::Html => "html",
        }
    }

    /// The row format of script output, for the four it shares.
    pub fn row_format(self) -> Option<crate::script::RowFormat> {
        use crate::script::RowFormat as R;
        Some(match self {
            OutFormat::Table => R::Table,
            OutFormat::Csv => R::Csv,
            OutFormat::Json => R::Json,
            OutFormat::Jsonl => R::Jsonl,
            _ => return None,
        })
    }
}

/// Writes sheets as text (table, CSV, JSON, JSON Lines). Several sheets:
/// a table each with its title; CSV blocks apart by a blank line; one JSON
/// object keyed by sheet name; JSON Lines with a `table` key first.
pub fn write_text(out: &mut dyn Write, fmt: OutFormat, sheets: &[Sheet]) -> std::io::Result<()> {
    let many = sheets.len() > 1;
    match fmt {
        OutFormat::Table => {
            for (i, s) in sheets.iter().enumerate() {
                if let Some(t) = &s.title {
                    if i > 0 {
                        writeln!(out)?;
                    }
                    writeln!(out, "{}", crate::model::escape_controls(t))?;
                }
                if !s.rows.is_empty() {
                    writeln!(
                        out,
                        "{}",
                        crate::script::output::table(&s.cols, &s.text_rows())
                    )?;
                }
            }
        }
        OutFormat::Csv => {
            for (i, s) in sheets.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                let mut w = csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(&mut *out);
                w.write_record(&s.cols).map_err(std::io::Error::other)?;
                for r in &s.rows {
                    w.write_record(r.iter().map(|c| match c {
                        Cell::Text(t) => crate::format::neutralise(t).into_owned(),
                        c => c.text(),
                    }))
                    .map_err(std::io::Error::other)?;
                }
                w.flush()?;
            }
        }
        OutFormat::Json => {
            let table = |s: &Sheet| -> serde_json::Value {
                serde_json::Value::Array(s.rows.iter().map(|r| object(s, r)).collect())
            };
            let v = if many {
                serde_json::Value::Object(
                    sheets.iter().map(|s| (s.name.clone(), table(s))).collect(),
                )
            } else {
                sheets
                    .first()
                    .map(table)
                    .unwrap_or(serde_json::Value::Array(Vec::new()))
            };
            serde_json::to_writer_pretty(&mut *out, &v)?;
            writeln!(out)?;
        }
        _ => {
            for s in sheets {
                for r in &s.rows {
                    let mut o = object(s, r);
                    if many {
                        let mut m = serde_json::Map::new();
                        m.insert("table".into(), s.name.clone().into());
                        m.extend(o.as_object_mut().map(std::mem::take).unwrap_or_default());
                        o = serde_json::Value::Object(m);
                    }
                    serde_json::to_writer(&mut *out, &o)?;
                    writeln!(out)?;
                }
            }
        }
    }
    Ok(())
}

/// One row as a JSON object in column order.
fn object(s: &Sheet, r: &[Cell]) -> serde_json::Value {
    serde_json::Value::Object(
        s.cols
            .iter()
            .zip(r)
            .map(|(c, v)| (c.clone(), v.json()))
            .collect(),
    )
}

/// Writes sheets where a command's data goes: to `-o FILE` in the format
/// its extension (or `--format`) names, else to standard output.
pub fn emit(
    output: Option<&Output>,
    asked: Option<OutFormat>,
    db: &Path,
    sheets: &[Sheet],
) -> anyhow::Result<Option<PathBuf>> {
    match output {
        Some(o) => {
            o.write_sheets(db, sheets, &[])?;
            Ok(Some(o.path.clone()))
        }
        None => {
            let fmt = OutFormat::for_stdout(asked)?;
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            write_text(&mut w, fmt, sheets)?;
            w.flush()?;
            Ok(None)
        }
    }
}

/// Groups digits by thousands: `1446907` → `1,446,907`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// An amount in fen as people read it: `1,446,907 元`, `12.50 元`.
pub fn yuan_text(fen: i64) -> String {
    let whole = thousands(fen / 100);
    let cents = (fen % 100).abs();
    let sign = if fen < 0 && fen / 100 == 0 { "-" } else { "" };
    if cents == 0 {
        format!("{sign}{whole} 元")
    } else {
        format!("{sign}{whole}.{cents:02} 元")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_with_thousands_separators() {
        assert_eq!(yuan_text(144_690_700), "1,446,907 元");
        assert_eq!(yuan_text(1_250), "12.50 元");
        assert_eq!(yuan_text(-50), "-0.50 元");
        assert_eq!(yuan_text(0), "0 元");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn the_extension_names_the_format() {
        assert_eq!(
            OutFormat::from_path(Path::new("a/b.XLSX")),
            Some(OutFormat::Xlsx)
        );
        assert_eq!(
            OutFormat::from_path(Path::new("r.parquet")),
            Some(OutFormat::Parquet)
        );
        assert_eq!(OutFormat::from_path(Path::new("r.redb")), None);
    }
}
