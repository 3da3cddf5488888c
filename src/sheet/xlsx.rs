//! .xlsx files of sheets with rust_xlsxwriter, row by row in its
//! constant-memory mode (each row goes to a temporary file as it is
//! written); a record export's workbook is `xlsx_export`'s. Every sheet has a bold, frozen header
//! row, an autofilter and column widths that count a Chinese character as
//! two; dates are real dates, counts and areas numbers, amounts yuan with
//! thousands separators.

use std::path::Path;

use anyhow::{Context as _, Result};
use chrono::NaiveDate;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use unicode_width::UnicodeWidthStr;

use super::{Cell, Sheet};

/// The formats cells use.
struct Formats {
    header: Format,
    date: Format,
    yuan: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            yuan: Format::new().set_num_format("#,##0.00"),
        }
    }
}

/// Excel's serial number of a date (1900 system, where 1900-03-01 is 61).
pub fn serial(d: NaiveDate) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).expect("a date");
    (d - epoch).num_days() as f64
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if s.trim().is_empty() {
        "Sheet1".into()
    } else {
        s
    }
}

/// Column widths in Excel's units from display widths (a Chinese character counts two).
pub(super) struct Widths(Vec<usize>);

impl Widths {
    /// Widths that fit the headers.
    pub(super) fn new(cols: &[&str]) -> Widths {
        Widths(cols.iter().map(|c| c.width() + 4).collect())
    }

    /// Widens column `i` to fit a value `w` wide.
    pub(super) fn see(&mut self, i: usize, w: usize) {
        if let Some(x) = self.0.get_mut(i) {
            *x = (*x).max(w + 2);
        }
    }

    /// The widths, at most 60.
    pub(super) fn excel(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().map(|w| (*w).min(60))
    }

    fn apply(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        for (i, w) in self.excel().enumerate() {
            ws.set_column_width(i as u16, w as f64)?;
        }
        Ok(())
    }
}

/// Writes the header row, frozen.
fn header_row(ws: &mut Worksheet, cols: &[&str], f: &Formats) -> Result<(), XlsxError> {
    for (i, c) in cols.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *c, &f.header)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// A cell's display width, as it shows in Excel.
pub(super) fn cell_width(c: &Cell) -> usize {
    match c {
        Cell::Empty => 0,
        Cell::Text(s) => s.width(),
        Cell::Int(i) => i.to_string().len(),
        Cell::Num(x) => crate::model::fmt_num(*x).len(),
        Cell::Yuan(fen) => super::thousands(fen / 100).len() + 3,
        Cell::Date(_) => 10,
        Cell::Bool(_) => 5,
    }
}

/// Writes one typed cell; returns its display width.
fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    c: &Cell,
    f: &Formats,
) -> Result<usize, XlsxError> {
    match c {
        Cell::Empty => {}
        Cell::Text(s) => {
            ws.write_string(row, col, s)?;
        }
        Cell::Int(i) => {
            ws.write_number(row, col, *i as f64)?;
        }
        Cell::Num(x) => {
            ws.write_number(row, col, *x)?;
        }
        Cell::Yuan(fen) => {
            ws.write_number_with_format(row, col, *fen as f64 / 100.0, &f.yuan)?;
        }
        Cell::Date(d) => {
            ws.write_number_with_format(row, col, serial(*d), &f.date)?;
        }
        Cell::Bool(b) => {
            ws.write_boolean(row, col, *b)?;
        }
    }
    Ok(cell_width(c))
}

/// Writes sheets to an .xlsx file, one worksheet each.
pub fn write_sheets(path: &Path, sheets: &[Sheet]) -> Result<()> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    let mut used: Vec<String> = Vec::new();
    for s in sheets {
        let ws = wb.add_worksheet_with_constant_memory();
        let mut name = sheet_name(&s.name);
        while used.contains(&name) {
            name = sheet_name(&format!("{name}_"));
        }
        ws.set_name(&name)?;
        used.push(name);
        let cols: Vec<&str> = s.cols.iter().map(String::as_str).collect();
        header_row(ws, &cols, &f)?;
        let mut widths = Widths::new(&cols);
        for (r, row) in s.rows.iter().enumerate() {
            for (i, c) in row.iter().enumerate() {
                let w = write_cell(ws, r as u32 + 1, i as u16, c, &f)?;
                widths.see(i, w);
            }
        }
        if !cols.is_empty() {
            ws.autofilter(0, 0, s.rows.len() as u32, cols.len() as u16 - 1)?;
        }
        widths.apply(ws)?;
    }
    if sheets.is_empty() {
        wb.add_worksheet();
    }
    wb.save(path)
        .with_context(|| format!("cannot write {}", path.display()))
}
