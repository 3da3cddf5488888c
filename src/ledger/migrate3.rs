//! Schema 2 → 3: every table rewritten with sealed values, and the ledger's
//! state summed for the migration's audit entry, which brings the log into
//! the hash chain (see `schema::migrate`).

use redb::{Key, ReadableTable, TableDefinition, TableHandle, Value, WriteTransaction};

use super::schema::*;
use super::seal::{self, Bytes, Sealed, Text};
use super::state::{record_hash, Sum256};
use super::LedgerError;

/// Rewrites every table but `meta` with sealed values.
pub(super) fn reseal_all(w: &WriteTransaction) -> Result<(), LedgerError> {
    reseal::<&str, &[u8], Bytes>(w, INSTITUTIONS)?;
    reseal::<(&str, &str), &[u8], Bytes>(w, INSPECTIONS)?;
    reseal::<&str, &str, Text>(w, INSPECTION_IDS)?;
    reseal::<(&str, &str), &[u8], Bytes>(w, FINDINGS)?;
    reseal::<&str, &str, Text>(w, FINDING_IDS)?;
    reseal::<(&str, u64), &[u8], Bytes>(w, STATUS_HISTORY)?;
    reseal::<u64, &str, Text>(w, AUDIT)?;
    reseal::<(u64, u64), &[u8], Bytes>(w, AUDIT_CHANGES)?;
    reseal::<(&str, &str, u64), &str, Text>(w, LISTS)?;
    reseal::<u64, &str, Text>(w, RUNS)?;
    reseal::<(u64, &str), &str, Text>(w, RUN_RESULTS)?;
    reseal::<(&str, &str, i64), &str, Text>(w, NOTICES)?;
    reseal::<(&str, &str), &[u8], Bytes>(w, APPLICATIONS)?;
    reseal::<&str, &str, Text>(w, APPLICATION_IDS)?;
    reseal::<(&str, &str), &[u8], Bytes>(w, COURSES)?;
    reseal::<&str, &str, Text>(w, COURSE_IDS)?;
    reseal::<(&str, u64), &str, Text>(w, LICENCE_HISTORY)?;
    Ok(())
}

/// Rewrites one table, stored with values of type `Old`, as `def` (whose
/// value type seals the same bytes). A table an older build never created is
/// left for `ensure_tables`.
fn reseal<K: Key + 'static, Old: Value + 'static, New: Value + 'static>(
    w: &WriteTransaction,
    def: TableDefinition<K, New>,
) -> Result<(), LedgerError> {
    let old: TableDefinition<K, Old> = TableDefinition::new(def.name());
    let rows: Vec<(Vec<u8>, Vec<u8>)> = match w.open_table(old) {
        Ok(t) => t
            .iter()?
            .map(|e| {
                e.map(|(k, v)| {
                    (
                        K::as_bytes(&k.value()).as_ref().to_vec(),
                        seal::seal(Old::as_bytes(&v.value()).as_ref()),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    w.delete_table(old)?;
    let mut t = w.open_table(def)?;
    for (k, v) in &rows {
        t.insert(K::from_bytes(k), New::from_bytes(v))?;
    }
    Ok(())
}

/// The state digest of every tracked table as `w` sees it (see `state`).
pub(super) fn live_state(w: &WriteTransaction) -> Result<Vec<(&'static str, Sum256)>, LedgerError> {
    Ok(vec![
        sum(w, INSTITUTIONS)?,
        sum(w, INSPECTIONS)?,
        sum(w, INSPECTION_IDS)?,
        sum(w, FINDINGS)?,
        sum(w, FINDING_IDS)?,
        sum(w, STATUS_HISTORY)?,
        sum(w, LISTS)?,
        sum(w, RUNS)?,
        sum(w, RUN_RESULTS)?,
        sum(w, NOTICES)?,
        sum(w, APPLICATIONS)?,
        sum(w, APPLICATION_IDS)?,
        sum(w, COURSES)?,
        sum(w, COURSE_IDS)?,
        sum(w, LICENCE_HISTORY)?,
    ])
}

fn sum<K: Key + 'static, V: Sealed>(
    w: &WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<(&'static str, Sum256), LedgerError> {
    let name = tracked_name(def.name());
    let mut s = Sum256::default();
    for e in w.open_table(def)?.iter()? {
        let (k, v) = e?;
        s.add(&record_hash(
            name,
            K::as_bytes(&k.value()).as_ref(),
            V::payload(&v.value()),
        ));
    }
    Ok((name, s))
}
