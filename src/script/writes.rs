//! What a run leaves behind once its script has succeeded: the queued
//! writes applied to the ledger in one audited transaction, and files written
//! under `--out` (notices, pages, rows) so that a reader never sees half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::state::WriteOp;
use crate::ledger::{LedgerError, LedgerWriter, Operation};

/// Applies queued writes in one transaction dated `as_of`; returns a line per change.
pub fn apply_writes(
    ledger: &LedgerWriter,
    op: &Operation,
    as_of: NaiveDate,
    writes: &[WriteOp],
) -> Result<Vec<String>, LedgerError> {
    // Notice files are written inside the transaction, before it commits, and
    // removed again if it does not: a notice on disk is always in the register.
    let mut written: Vec<std::path::PathBuf> = Vec::new();
    let r = ledger.transact(op, false, |tx| -> Result<Vec<String>, LedgerError> {
        let mut lines = Vec::new();
        for w in writes {
            match w {
                WriteOp::Approve { id, licence_no, expires, reason } => {
                    tx.approve(id, licence_no, *expires, as_of, reason)?;
                    lines.push(format!("application {id}: approved, licence {licence_no} from {as_of} to {expires}"));
                }
                WriteOp::RejectApplication { id, reason } => {
                    tx.reject_application(id, reason, as_of)?;
                    lines.push(format!("application {id}: rejected ({reason})"));
                }
                WriteOp::DecideCourse { id, accept, reason } => {
                    tx.decide_course(id, *accept, reason)?;
                    if *accept {
                        lines.push(format!("course {id}: accepted"));
                    } else {
                        lines.push(format!("course {id}: rejected ({reason})"));
                    }
                }
                WriteOp::Notice {
                    id,
                    kind,
                    dir,
                    name,
                    text,
                } => {
                    let sha = sha256_hex(text);
                    let rel = format!("{}/{name}", dir.display());
                    if tx.record_notice(id, kind, as_of, &rel, &sha, &op.operator)? {
                        let p =
                            write_under(dir, name, |w| w.write_all(text.as_bytes()))
                                .map_err(|e| {
                                    LedgerError::Storage(format!(
                                        "cannot write the notice {rel}: {e}"
                                    ))
                                })?;
                        lines.push(format!("{id}: {kind} issued: {}", p.display()));
                        written.push(p);
                    }
                }
                WriteOp::SetStatus { id, status, reason } => {
                    tx.set_status(id, *status, as_of, reason)?;
                    lines.push(format!("{id}: status {status} from {as_of} ({reason})"));
                }
                WriteOp::OpenFinding(f) => {
                    tx.upsert_finding(f)?;
                    lines.push(format!(
                        "{}: opened finding {} ({}), deadline {}",
                        f.institution_id, f.id, f.kind, f.deadline
                    ));
                }
                WriteOp::Rectify(id) => {
                    let mut f = tx.finding(id)?.ok_or_else(|| missing_finding(id))?;
                    f.rectified_on = Some(as_of);
                    tx.upsert_finding(&f)?;
                    lines.push(format!(
                        "{}: finding {id} rectified on {as_of}",
                        f.institution_id
                    ));
                }
                WriteOp::CloseOut(id) => {
                    let mut f = tx.finding(id)?.ok_or_else(|| missing_finding(id))?;
                    f.verified_on = Some(as_of);
                    tx.upsert_finding(&f)?;
                    lines.push(format!(
                        "{}: finding {id} closed out (销号) on {as_of}",
                        f.institution_id
                    ));
                }
                WriteOp::ListAdd { list, id, reason } => {
                    tx.list_add(list, id, as_of, reason, &op.operator)?;
                    lines.push(format!("{id}: added to {list} from {as_of} ({reason})"));
                }
                WriteOp::ListRemove { list, id, reason } => {
                    tx.list_remove(list, id, as_of, reason)?;
                    lines.push(format!("{id}: removed from {list} on {as_of} ({reason})"));
                }
            }
        }
        Ok(lines)
    });
    match r {
        Ok((lines, _)) => Ok(lines),
        Err(e) => {
            for p in written {
                let _ = std::fs::remove_file(p);
            }
            Err(e)
        }
    }
}

fn missing_finding(id: &str) -> LedgerError {
    LedgerError::Rejected(crate::ledger::Rejection(vec![
        crate::model::FieldError::new("finding_id", id, "no such finding"),
    ]))
}

/// SHA-256 of a script's text, recorded with every change it makes.
pub fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// Writes a file under `dir` only: the name is reduced to safe characters and
/// written beside its target first, then renamed, so a reader never sees half a file.
pub fn write_under(
    dir: &Path,
    name: &str,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<PathBuf> {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.').to_string();
    let safe = if safe.is_empty() {
        "out".to_string()
    } else {
        safe
    };
    std::fs::create_dir_all(dir)?;
    let target = dir.join(&safe);
    // Unique per writer, so two processes writing the same file never share a temporary.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(".{safe}.{}.{nonce}.partial", std::process::id()));
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        f(&mut w)?;
        w.flush()?;
        w.get_ref().sync_all()?;
    }
    std::fs::rename(&tmp, &target)?;
    Ok(target)
}
