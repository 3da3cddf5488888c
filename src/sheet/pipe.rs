//! Exports to .xlsx and Parquet on two cores: this thread reads the ledger,
//! a second one writes the file (compresses, encodes), fed through a short
//! bounded queue ([`two_cores`]) so memory stays flat however many records
//! there are. [`Typed`] types each record's cells, on whichever side
//! balances the two (the reader's for .xlsx, the writer's for Parquet).

use std::borrow::Cow;
use std::sync::mpsc;

use anyhow::Result;

use super::values::{col_type, typed, zh_value, ColType};
use super::Cell;
use crate::model::RecordKind;

/// Batches waiting between the two threads: enough to ride out a slow
/// moment on either side, few enough that memory stays a few MB.
const DEPTH: usize = 8;

/// Runs `consume` on a second thread over the batches `produce` sends from
/// this one. `produce`'s send returns false once `consume` has stopped (it
/// failed), and `produce` should stop then. The consumer's error comes first
/// (it is why the producer stopped); then the producer's (a ledger error:
/// the consumer saw a short input, and its file is discarded).
pub fn two_cores<B: Send, T: Send>(
    produce: impl FnOnce(&mut dyn FnMut(B) -> bool) -> Result<()>,
    consume: impl FnOnce(mpsc::Receiver<B>) -> Result<T> + Send,
) -> Result<T> {
    let (tx, rx) = mpsc::sync_channel(DEPTH);
    std::thread::scope(|s| {
        let handle = s.spawn(move || consume(rx));
        let produced = produce(&mut |b| tx.send(b).is_ok());
        drop(tx);
        let consumed = handle
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        let t = consumed?;
        produced?;
        Ok(t)
    })
}

/// The error a producer returns when the consumer has stopped; never shown
/// (the consumer's own error is).
pub fn stopped() -> crate::export::ExportError {
    crate::export::ExportError::Io(std::io::Error::other("the file writer stopped"))
}

/// How an export's text rows become typed cells: dates, counts, areas and
/// amounts typed by their column ([`typed`]); with Chinese values (`zh`),
/// enum codes and booleans as their Chinese names.
pub struct Typed {
    kind: RecordKind,
    zh: bool,
    fields: Vec<&'static str>,
    types: Vec<ColType>,
    /// Booleans as text (`true`, `是`), as the .xlsx export has always
    /// written them; Parquet keeps them BOOLEAN.
    bool_text: bool,
}

impl Typed {
    /// The typing of `kind`'s columns.
    pub fn new(kind: RecordKind, zh: bool, bool_text: bool) -> Typed {
        let fields: Vec<&'static str> = kind.columns().iter().map(|(en, _)| *en).collect();
        let types = fields.iter().map(|c| col_type(c)).collect();
        Typed {
            kind,
            zh,
            fields,
            types,
            bool_text,
        }
    }

    /// The columns' field names.
    pub fn fields(&self) -> &[&'static str] {
        &self.fields
    }

    /// The columns' types.
    pub fn types(&self) -> &[ColType] {
        &self.types
    }

    /// One row's cells, appended to `out`.
    pub fn row_into(&self, row: impl IntoIterator<Item = String>, out: &mut Vec<Cell>) {
        for (i, v) in row.into_iter().enumerate() {
            let t = self.types.get(i).copied().unwrap_or(ColType::Text);
            let as_text = match t {
                ColType::Bool => self.bool_text || self.zh,
                ColType::Enum => self.zh,
                _ => false,
            };
            out.push(if v.is_empty() {
                Cell::Empty
            } else if as_text && self.zh {
                // The code itself when it has no Chinese name: no copy.
                let named = match zh_value(self.kind, self.fields[i], &v) {
                    Cow::Owned(z) => Some(z),
                    Cow::Borrowed(z) if z.as_ptr() != v.as_ptr() => Some(z.to_string()),
                    Cow::Borrowed(_) => None,
                };
                Cell::Text(named.unwrap_or(v))
            } else if as_text {
                Cell::Text(v)
            } else {
                typed(t, v)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consumers_error_is_the_one_returned() {
        let r: Result<()> = two_cores(
            |send| {
                for i in 0..100 {
                    if !send(i) {
                        anyhow::bail!("stopped");
                    }
                }
                Ok(())
            },
            |rx| {
                for i in rx {
                    if i == 3 {
                        anyhow::bail!("disk full");
                    }
                }
                Ok(())
            },
        );
        assert_eq!(r.unwrap_err().to_string(), "disk full");
        let sum = two_cores(
            |send| {
                (1..=10).for_each(|i| assert!(send(i)));
                Ok(())
            },
            |rx| Ok(rx.iter().sum::<i32>()),
        );
        assert_eq!(sum.unwrap(), 55);
    }

    #[test]
    fn xlsx_cells_keep_booleans_and_chinese_values_as_text() {
        let t = Typed::new(RecordKind::Institutions, true, true);
        let mut row: Vec<String> = t.fields().iter().map(|_| String::new()).collect();
        let at = |f: &str| t.fields().iter().position(|c| *c == f).unwrap();
        row[at("status")] = "operating".into();
        row[at("fire_approved")] = "true".into();
        row[at("students")] = "12".into();
        let mut out = Vec::new();
        t.row_into(row.clone(), &mut out);
        assert_eq!(out[at("fire_approved")], Cell::Text("是".into()));
        assert_eq!(out[at("students")], Cell::Int(12));
        assert!(matches!(&out[at("status")], Cell::Text(s) if !s.is_ascii()));
        let en = Typed::new(RecordKind::Institutions, false, false);
        out.clear();
        en.row_into(row, &mut out);
        assert_eq!(out[at("fire_approved")], Cell::Bool(true));
        assert_eq!(out[at("status")], Cell::Text("operating".into()));
    }
}
