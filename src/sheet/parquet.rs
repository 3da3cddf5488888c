//! Parquet for analysts, through the parquet crate's column writers (no
//! arrow: typed columns need none): dates as DATE, counts as INT64, areas
//! and amounts (yuan) as DOUBLE, booleans as BOOLEAN, enums and text as
//! UTF-8 strings; every column nullable. Rows are gathered into row groups
//! of [`GROUP_ROWS`] and written column by column, Snappy-compressed; an
//! export reads the ledger on one core and encodes on the other (`pipe`).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use super::pipe::{stopped, two_cores, Typed};
use super::values::ColType;
use super::{Cell, Sheet};
use crate::export::each_row;
use crate::ledger::Reader;
use crate::model::RecordKind;

/// Rows per row group: large enough for good compression and fast scans,
/// small enough that a group's columns stay a few tens of MB.
const GROUP_ROWS: usize = 131_072;

/// Rows handed from the reading thread to the writing one at a time.
const BATCH_ROWS: usize = 1024;

/// What a Parquet column holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Date,
    Int,
    Double,
    Bool,
}

/// One column's values and definition levels (0: null) for the row group being gathered.
enum Column {
    Text(Vec<ByteArray>, Vec<i16>),
    Date(Vec<i32>, Vec<i16>),
    Int(Vec<i64>, Vec<i16>),
    Double(Vec<f64>, Vec<i16>),
    Bool(Vec<bool>, Vec<i16>),
}

impl Column {
    fn new(k: Kind) -> Column {
        match k {
            Kind::Text => Column::Text(Vec::new(), Vec::new()),
            Kind::Date => Column::Date(Vec::new(), Vec::new()),
            Kind::Int => Column::Int(Vec::new(), Vec::new()),
            Kind::Double => Column::Double(Vec::new(), Vec::new()),
            Kind::Bool => Column::Bool(Vec::new(), Vec::new()),
        }
    }

    /// Adds a cell (text moved, not copied); one the column's type cannot
    /// hold is written as null (never happens for a column typed from its cells).
    fn push(&mut self, c: Cell) {
        let days = |d: &chrono::NaiveDate| {
            (*d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date")).num_days() as i32
        };
        match (self, c) {
            (Column::Text(v, d), Cell::Text(s)) => {
                v.push(ByteArray::from(s.into_bytes()));
                d.push(1);
            }
            (Column::Text(v, d), c) if c != Cell::Empty => {
                v.push(ByteArray::from(c.text().as_str()));
                d.push(1);
            }
            (Column::Date(v, d), Cell::Date(x)) => {
                v.push(days(&x));
                d.push(1);
            }
            (Column::Int(v, d), Cell::Int(x)) => {
                v.push(x);
                d.push(1);
            }
            (Column::Double(v, d), Cell::Num(x)) => {
                v.push(x);
                d.push(1);
            }
            (Column::Double(v, d), Cell::Yuan(x)) => {
                v.push(x as f64 / 100.0);
                d.push(1);
            }
            (Column::Double(v, d), Cell::Int(x)) => {
                v.push(x as f64);
                d.push(1);
            }
            (Column::Bool(v, d), Cell::Bool(x)) => {
                v.push(x);
                d.push(1);
            }
            (
                Column::Text(_, d)
                | Column::Date(_, d)
                | Column::Int(_, d)
                | Column::Double(_, d)
                | Column::Bool(_, d),
                _,
            ) => d.push(0),
        }
    }
}

/// A Parquet file being written, a row group at a time.
struct Writer {
    file: SerializedFileWriter<std::io::BufWriter<std::fs::File>>,
    kinds: Vec<Kind>,
    cols: Vec<Column>,
    rows: usize,
}

impl Writer {
    fn create(path: &Path, names: &[&str], kinds: Vec<Kind>) -> Result<Writer> {
        let fields = names
            .iter()
            .zip(&kinds)
            .map(|(n, k)| {
                let (p, l) = match k {
                    Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
                    Kind::Date => (Physical::INT32, Some(LogicalType::Date)),
                    Kind::Int => (Physical::INT64, None),
                    Kind::Double => (Physical::DOUBLE, None),
                    Kind::Bool => (Physical::BOOLEAN, None),
                };
                Type::primitive_type_builder(n, p)
                    .with_repetition(Repetition::OPTIONAL)
                    .with_logical_type(l)
                    .build()
                    .map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let schema = Type::group_type_builder("casebook")
            .with_fields(fields)
            .build()?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("casebook {}", env!("CARGO_PKG_VERSION")))
            .build();
        let f = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let file = SerializedFileWriter::new(
            std::io::BufWriter::with_capacity(1 << 20, f),
            Arc::new(schema),
            Arc::new(props),
        )?;
        let cols = kinds.iter().map(|k| Column::new(*k)).collect();
        Ok(Writer {
            file,
            kinds,
            cols,
            rows: 0,
        })
    }

    /// Adds a row (missing cells empty).
    fn push(&mut self, row: impl IntoIterator<Item = Cell>) -> Result<()> {
        let mut row = row.into_iter();
        for c in self.cols.iter_mut() {
            c.push(row.next().unwrap_or(Cell::Empty));
        }
        self.rows += 1;
        if self.rows == GROUP_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the gathered rows as one row group.
    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut rg = self.file.next_row_group()?;
        let fresh: Vec<Column> = self.kinds.iter().map(|k| Column::new(*k)).collect();
        for col in std::mem::replace(&mut self.cols, fresh) {
            let mut w = rg.next_column()?.context("a column per field")?;
            match col {
                Column::Text(v, d) => {
                    w.typed::<ByteArrayType>().write_batch(&v, Some(&d), None)?;
                }
                Column::Date(v, d) => {
                    w.typed::<Int32Type>().write_batch(&v, Some(&d), None)?;
                }
                Column::Int(v, d) => {
                    w.typed::<Int64Type>().write_batch(&v, Some(&d), None)?;
                }
                Column::Double(v, d) => {
                    w.typed::<DoubleType>().write_batch(&v, Some(&d), None)?;
                }
                Column::Bool(v, d) => {
                    w.typed::<BoolType>().write_batch(&v, Some(&d), None)?;
                }
            }
            w.close()?;
        }
        rg.close()?;
        self.rows = 0;
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.flush()?;
        self.file.close()?;
        Ok(())
    }
}

/// The Parquet type of an exported record's column.
fn kind_of(t: ColType) -> Kind {
    match t {
        ColType::Date => Kind::Date,
        ColType::Int => Kind::Int,
        ColType::Num | ColType::Yuan => Kind::Double,
        ColType::Bool => Kind::Bool,
        ColType::Text | ColType::Enum => Kind::Text,
    }
}

/// Exports every record of `kind` to a Parquet file (English column names
/// and codes, as analysts join them); returns the rows written. The ledger
/// is read on this thread, the file encoded on a second one.
pub fn export(reader: &Reader, kind: RecordKind, path: &Path) -> Result<u64> {
    let typed = Typed::new(kind, false, false);
    let width = typed.fields().len();
    let kinds = typed.types().iter().map(|t| kind_of(*t)).collect();
    let mut w = Writer::create(path, typed.fields(), kinds)?;
    let mut n = 0u64;
    // The reading thread only reads and decodes; typing the cells (parsing
    // the dates back) is the writing thread's, which balances the two.
    let produce = |send: &mut dyn FnMut(Vec<String>) -> bool| -> Result<()> {
        // Rows laid end to end, `width` values each: one allocation a batch.
        let mut batch = Vec::with_capacity(BATCH_ROWS * width);
        each_row(reader, kind, &mut |r| {
            batch.extend(r);
            n += 1;
            if batch.len() < BATCH_ROWS * width {
                return Ok(());
            }
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS * width));
            send(full).then_some(()).ok_or_else(stopped)
        })?;
        if !batch.is_empty() {
            send(batch);
        }
        Ok(())
    };
    two_cores(produce, move |rx| {
        let mut row = Vec::with_capacity(width);
        for batch in rx {
            let mut values = batch.into_iter();
            while !values.as_slice().is_empty() {
                row.clear();
                typed.row_into(values.by_ref().take(width), &mut row);
                w.push(row.drain(..))?;
            }
        }
        w.finish()
    })?;
    Ok(n)
}

/// Writes a sheet as a Parquet file, each column typed by its cells
/// (text where they disagree).
pub fn write_sheet(path: &Path, s: &Sheet) -> Result<()> {
    let kinds: Vec<Kind> = (0..s.cols.len())
        .map(|i| {
            let mut k = None;
            for r in &s.rows {
                let this = match r.get(i) {
                    None | Some(Cell::Empty) => continue,
                    Some(Cell::Text(_)) => Kind::Text,
                    Some(Cell::Date(_)) => Kind::Date,
                    Some(Cell::Int(_)) => Kind::Int,
                    Some(Cell::Num(_) | Cell::Yuan(_)) => Kind::Double,
                    Some(Cell::Bool(_)) => Kind::Bool,
                };
                k = match (k, this) {
                    (None, t) => Some(t),
                    (Some(a), b) if a == b => Some(a),
                    (Some(Kind::Int | Kind::Double), Kind::Int | Kind::Double) => {
                        Some(Kind::Double)
                    }
                    _ => Some(Kind::Text),
                };
            }
            k.unwrap_or(Kind::Text)
        })
        .collect();
    let names: Vec<&str> = s.cols.iter().map(String::as_str).collect();
    let mut w = Writer::create(path, &names, kinds)?;
    for r in &s.rows {
        w.push(r.iter().cloned())?;
    }
    w.finish()
}
