//! A spreadsheet's rows (.xlsx, .xls, read with calamine): the first sheet
//! or the one named, each row turned into text cells the way the CSV reader
//! gives them and checked by the same [`Table`], with the row number Excel
//! shows. An .xlsx sheet is read cell by cell, so memory stays flat; an
//! .xls sheet (a binary format of at most 65,536 rows) is read whole. Date cells become `YYYY-MM-DD`, time cells `HH:MM`, whole numbers
//! lose Excel's `.0`.

use std::path::Path;

use calamine::{Data, DataRef, Reader};

use super::csv::Table;
use super::sink::Sink;
use super::ImportError;

/// Reads the sheet `sheet` (or the first) of the workbook at `path` into `sink`.
pub(super) fn read_sheet(
    path: &Path,
    sheet: Option<&str>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let bad = |message: String| ImportError::Header {
        path: path.into(),
        line: 1,
        message,
    };
    let mut book = calamine::open_workbook_auto(path)
        .map_err(|e| bad(format!("cannot read the workbook: {e}")))?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .cloned()
            .ok_or_else(|| {
                bad(format!(
                    "no sheet \"{s}\"; the sheets are: {}",
                    names
                        .iter()
                        .map(|n| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| bad("the workbook has no sheet".into()))?,
    };
    if let calamine::Sheets::Xlsx(xlsx) = &mut book {
        return stream_xlsx(xlsx, &name, sink, &bad);
    }
    // .xls (and the other formats calamine opens) are read whole.
    let range = book
        .worksheet_range(&name)
        .map_err(|e| bad(format!("cannot read sheet \"{name}\": {e}")))?;
    // Rows above the first used one are not in the range: Excel numbers
    // rows from 1 at the top of the sheet.
    let first = range.start().map_or(0, |(r, _)| r as u64) + 1;
    let mut rows = range.rows();
    let Some(header) = rows.next() else {
        return Err(bad(format!(
            "sheet \"{name}\" is empty: its first row must be the column headers"
        )));
    };
    let table = Table::new(sink, first, &record(header))?;
    for (i, row) in rows.enumerate() {
        table.row(sink, first + 1 + i as u64, &record(row))?;
    }
    Ok(())
}

/// Reads an .xlsx sheet cell by cell (memory stays flat however many rows
/// it has): the first row with a value is the header; columns count from
/// Excel's column A, and each row is padded to the header's width, as a
/// whole sheet read into a rectangle would be.
fn stream_xlsx<RS: std::io::Read + std::io::Seek>(
    book: &mut calamine::Xlsx<RS>,
    name: &str,
    sink: &mut Sink<'_>,
    bad: &dyn Fn(String) -> ImportError,
) -> Result<(), ImportError> {
    let mut cells = book
        .worksheet_cells_reader(name)
        .map_err(|e| bad(format!("cannot read sheet \"{name}\": {e}")))?;
    let unreadable = |e: calamine::XlsxError| bad(format!("cannot read sheet \"{name}\": {e}"));
    let mut table: Option<Table> = None;
    let mut row: Vec<String> = Vec::new();
    // The row being gathered (0-based, as calamine counts), if any cell.
    let mut at: Option<u32> = None;
    loop {
        let next = cells.next_cell().map_err(unreadable)?;
        let row_of_next = next.as_ref().map(|c| c.get_position().0);
        if at.is_some() && row_of_next != at {
            let line = u64::from(at.take().expect("a row")) + 1;
            if let Some(t) = &mut table {
                t.widen(row.len());
                row.resize(t.width(), String::new());
                t.row(sink, line, &row.iter().collect())?;
            } else if row.iter().any(|c| !c.is_empty()) {
                table = Some(Table::new(sink, line, &row.iter().collect())?);
            }
            row.clear();
        }
        let Some(cell) = next else { break };
        let (r, c) = cell.get_position();
        at = Some(r);
        let text = match cell.get_value() {
            DataRef::String(s) => s.clone(),
            DataRef::SharedString(s) => s.to_string(),
            v => cell_text(&Data::from(v.clone())),
        };
        let c = c as usize;
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = text;
    }
    if table.is_none() {
        return Err(bad(format!(
            "sheet \"{name}\" is empty: its first row must be the column headers"
        )));
    }
    Ok(())
}

/// A sheet row as text cells.
fn record(row: &[Data]) -> ::csv::StringRecord {
    row.iter().map(cell_text).collect()
}

/// A cell as the text a CSV file would hold.
fn cell_text(c: &Data) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Whole numbers without Excel's ".0"; others as short as they read back.
        Data::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", *x as i64),
        // Others to the 15 significant digits Excel shows (0.1 + 0.2 is 0.3).
        Data::Float(x) => format!("{x:.14e}").parse::<f64>().unwrap_or(*x).to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => {
            let (y, m, day, h, min, _, _) = d.to_ymd_hms_milli();
            // A time of day alone (class hours' end) is a fraction of a day.
            if d.as_f64() < 1.0 {
                format!("{h:02}:{min:02}")
            } else {
                format!("{y:04}-{m:02}-{day:02}")
            }
        }
        // `#N/A`, `#VALUE!`: kept, so the field says what it holds.
        Data::Error(e) => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_as_the_text_excel_shows() {
        assert_eq!(cell_text(&Data::Float(12.0)), "12");
        assert_eq!(cell_text(&Data::Float(0.1 + 0.2)), "0.3");
        assert_eq!(cell_text(&Data::Float(2880.5)), "2880.5");
        assert_eq!(cell_text(&Data::Int(-4)), "-4");
        assert_eq!(cell_text(&Data::Bool(true)), "true");
        let dt = |v| {
            Data::DateTime(calamine::ExcelDateTime::new(
                v,
                calamine::ExcelDateTimeType::DateTime,
                false,
            ))
        };
        assert_eq!(cell_text(&dt(43466.0)), "2019-01-01");
        assert_eq!(cell_text(&dt(0.875)), "21:00");
    }
}
