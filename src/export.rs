//! `casebook export`: what import reads, written back out.
//!
//! CSV uses the English headers and neutralises free-text cells a spreadsheet
//! would run as a formula (see `format::neutralise`); JSON Lines writes typed
//! values (numbers, booleans, null, arrays). Import of either gives back the
//! same records. `--excel` CSV (and `--headers zh`) gives the Chinese
//! headers and values; .xlsx and .parquet are written by `crate::sheet`.

use std::io::Write;

use crate::format;
use crate::ledger::{LedgerError, Reader};
use crate::model::RecordKind;

/// Output format of export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
    Xlsx,
    Parquet,
}

/// How a CSV export looks.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvStyle {
    /// Chinese headers and values (`状态`, `营业中`) instead of field names and codes.
    pub zh: bool,
    /// For Excel: a UTF-8 BOM (else Chinese Excel reads UTF-8 as GBK) and CRLF row ends.
    pub excel: bool,
}

/// Errors of export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    // Not `#[from]`: that would make the error its own source, and `{:#}`
    // would print the reason twice.
    #[error("cannot write the export: {0}")]
    Io(std::io::Error),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl From<std::io::Error> for ExportError {
    fn from(e: std::io::Error) -> Self {
        ExportError::Io(e)
    }
}

impl From<csv::Error> for ExportError {
    fn from(e: csv::Error) -> Self {
        // Keep the I/O error itself, so that a closed pipe (`| head`) is still
        // recognised as one and not reported as a failure.
        if e.is_io_error() {
            if let csv::ErrorKind::Io(io) = e.into_kind() {
                return ExportError::Io(io);
            }
            unreachable!("is_io_error");
        }
        ExportError::Io(std::io::Error::other(e.to_string()))
    }
}

/// Writes every record of `kind` to `out`; returns the number of rows.
pub fn export(
    reader: &Reader,
    kind: RecordKind,
    fmt: ExportFormat,
    style: CsvStyle,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    let cols: Vec<&'static str> = kind.columns().iter().map(|(en, _)| *en).collect();
    let mut n = 0u64;
    match fmt {
        ExportFormat::Xlsx | ExportFormat::Parquet => {
            return Err(ExportError::Io(std::io::Error::other(
                "an .xlsx or .parquet export is written to a file: give it with -o FILE",
            )))
        }
        ExportFormat::Csv => {
            if style.excel {
                out.write_all("\u{feff}".as_bytes())?;
            }
            let mut w = csv::WriterBuilder::new()
                .terminator(if style.excel {
                    csv::Terminator::CRLF
                } else {
                    csv::Terminator::Any(b'\n')
                })
                .from_writer(out);
            let heads: Vec<&str> = cols
                .iter()
                .map(|c| crate::sheet::values::header(kind, c, style.zh))
                .collect();
            w.write_record(&heads)?;
            let mut emit = |row: Vec<String>| -> Result<(), ExportError> {
                for (v, c) in row.iter().zip(&cols) {
                    if format::is_free_text(c) {
                        w.write_field(format::neutralise(v).as_bytes())?;
                    } else if style.zh {
                        w.write_field(crate::sheet::values::zh_value(kind, c, v).as_bytes())?;
                    } else {
                        w.write_field(v.as_bytes())?;
                    }
                }
                w.write_record(None::<&[u8]>)?;
                n += 1;
                Ok(())
            };
            each_row(reader, kind, &mut emit)?;
            w.flush()?;
        }
        ExportFormat::Jsonl => {
            let mut line = String::new();
            let mut emit = |row: Vec<String>| -> Result<(), ExportError> {
                line.clear();
                line.push('{');
                for (i, (v, c)) in row.iter().zip(&cols).enumerate() {
                    if i > 0 {
                        line.push(',');
                    }
                    line.push('"');
                    line.push_str(c);
                    line.push_str("\":");
                    line.push_str(&json_value(c, v));
                }
                line.push_str("}\n");
                out.write_all(line.as_bytes())?;
                n += 1;
                Ok(())
            };
            each_row(reader, kind, &mut emit)?;
            out.flush()?;
        }
    }
    Ok(n)
}

fn json_value(col: &str, v: &str) -> String {
    if v.is_empty()
        && !matches!(
            col,
            "name"
                | "street"
                | "address"
                | "organizer"
                | "note"
                | "decision_reason"
                | "subject"
                | "grade"
        )
    {
        return "null".into();
    }
    match col {
        "students" | "teachers" | "qualified_teachers" | "area_m2" | "prepaid_balance"
        | "inspectors" | "severity" | "site_area_m2" | "class_hours" | "fee_total"
        | "prepay_months" => v.to_string(),
        "fire_approved" => v.to_string(),
        "departments" => serde_json::to_string(&v.split(';').collect::<Vec<_>>()).unwrap(),
        _ => serde_json::to_string(v).unwrap(),
    }
}

/// Calls `emit` with the row of every record of `kind`, in key order.
pub fn each_row(
    reader: &Reader,
    kind: RecordKind,
    emit: &mut dyn FnMut(Vec<String>) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    match kind {
        RecordKind::Institutions => {
            for x in reader.institutions()? {
                emit(format::institution_row(&x?))?;
            }
        }
        RecordKind::Inspections => {
            for x in reader.inspections()? {
                emit(format::inspection_row(&x?))?;
            }
        }
        RecordKind::Findings => {
            for x in reader.findings()? {
                emit(format::finding_row_of(x?))?;
            }
        }
        RecordKind::Applications => {
            for x in reader.applications()? {
                emit(format::application_row(&x))?;
            }
        }
        RecordKind::Courses => {
            for x in reader.courses()? {
                emit(format::course_row(&x?))?;
            }
        }
    }
    Ok(())
}
