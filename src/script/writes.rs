//! What a run leaves behind once its script has succeeded: the queued
//! writes applied to the ledger in one audited transaction, and files written
//! under `--out` (notices, pages, rows) so that a reader never sees half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::state::WriteOp;
use crate::ledger::{LedgerError, LedgerWriter, Operation, Tx};

/// What applying the queued writes did (or, in a dry run, would do).
#[derive(Debug, Default, Clone)]
pub struct Applied {
    /// One line per change, in the order made.
    pub changes: Vec<String>,
    /// Writes that asked for what already held (counted, not made).
    pub unchanged: Vec<String>,
    /// Whether nothing was committed (a preview).
    pub dry_run: bool,
}

impl Applied {
    /// The summary a run prints: what was committed (or would be), at most
    /// `shown` lines of it, and how many writes changed nothing.
    pub fn summary(&self, shown: usize) -> String {
        let mut s = String::new();
        if self.dry_run {
            s.push_str(&format!(
                "dry run: nothing was committed; {} change(s) would be made",
                self.changes.len()
            ));
        } else {
            s.push_str(&format!("committed {} change(s)", self.changes.len()));
        }
        if !self.unchanged.is_empty() {
            s.push_str(&format!(
                ", {} unchanged (already so)",
                self.unchanged.len()
            ));
        }
        s.push_str(if self.changes.is_empty() { "\n" } else { ":\n" });
        for c in self.changes.iter().take(shown) {
            s.push_str(&format!("  {c}\n"));
        }
        if self.changes.len() > shown {
            s.push_str(&format!(
                "  … and {} more: `casebook audit` lists the run's entry, `casebook audit --entry N` every change\n",
                self.changes.len() - shown
            ));
        }
        s
    }
}

/// How a change reads: done (`committed`) or to be done (a dry run's "would …").
fn line(dry_run: bool, done: String, would: String) -> String {
    if dry_run {
        format!("would {would}")
    } else {
        done
    }
}

/// Applies queued writes in one transaction dated `as_of`; returns a line per
/// change. With `dry_run` every write goes through the same transaction and
/// checks, which is then dropped: nothing is committed and no file written.
pub fn apply_writes(
    ledger: &LedgerWriter,
    op: &Operation,
    as_of: NaiveDate,
    writes: &[WriteOp],
    dry_run: bool,
) -> Result<Applied, LedgerError> {
    // Notice files are staged inside the transaction (hidden names in their
    // own directories), renamed into place only once it has committed, and
    // removed if it does not: a notice on disk is always in the register. A
    // crash between leaves only staged files, which the next run with --out
    // resolves against the register (see `recover_notices`).
    let mut written: Vec<(PathBuf, PathBuf)> = Vec::new();
    let r = ledger.transact(op, dry_run, |tx| -> Result<Applied, LedgerError> {
        let mut done = Applied {
            dry_run,
            ..Applied::default()
        };
        for w in writes {
            apply_one(tx, op, as_of, w, &mut done, &mut written)?;
        }
        Ok(done)
    });
    match r {
        Ok((mut done, _)) => {
            for (staged, target) in &written {
                let placed = place_new(staged, target).map_err(|e| {
                    LedgerError::Storage(format!(
                        "the changes are committed, but the notice {} could not be put in place ({e}); the next run with --out puts it there",
                        target.display()
                    ))
                })?;
                let _ = std::fs::remove_file(staged);
                if &placed != target {
                    done.changes.push(format!(
                        "(a different {} was there already and is kept; this notice is {})",
                        target.display(),
                        placed.display()
                    ));
                }
            }
            Ok(done)
        }
        Err(e) => {
            for (staged, _) in written {
                let _ = std::fs::remove_file(staged);
            }
            Err(e)
        }
    }
}

/// Applies one queued write inside the transaction, adding its line to
/// `done` (or to its unchanged lines) and any notice it stages to `written`.
fn apply_one(
    tx: &mut Tx<'_>,
    op: &Operation,
    as_of: NaiveDate,
    w: &WriteOp,
    done: &mut Applied,
    written: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<(), LedgerError> {
    let dry_run = done.dry_run;
    let lines = &mut done.changes;
    match w {
        WriteOp::Approve {
            id,
            licence_no,
            expires,
            reason,
        } => {
            tx.approve(id, licence_no, *expires, as_of, reason)?;
            lines.push(line(
                dry_run,
                format!(
                    "application {id}: approved, licence {licence_no} from {as_of} to {expires}"
                ),
                format!("approve application {id}: licence {licence_no} from {as_of} to {expires}"),
            ));
        }
        WriteOp::RejectApplication { id, reason } => {
            tx.reject_application(id, reason, as_of)?;
            lines.push(line(
                dry_run,
                format!("application {id}: rejected ({reason})"),
                format!("reject application {id} ({reason})"),
            ));
        }
        WriteOp::DecideCourse { id, accept, reason } => {
            tx.decide_course(id, *accept, reason, as_of)?;
            if *accept {
                lines.push(line(
                    dry_run,
                    format!("course {id}: accepted"),
                    format!("accept course {id}"),
                ));
            } else {
                lines.push(line(
                    dry_run,
                    format!("course {id}: rejected ({reason})"),
                    format!("reject course {id} ({reason})"),
                ));
            }
        }
        WriteOp::Notice { .. } => apply_notice(tx, op, as_of, w, done, written)?,
        WriteOp::SetStatus { id, status, reason } => {
            tx.set_status(id, *status, as_of, reason)?;
            lines.push(line(
                dry_run,
                format!("{id}: status {status} from {as_of} ({reason})"),
                format!("set {id}'s status to {status} from {as_of} ({reason})"),
            ));
        }
        WriteOp::OpenFinding(f) => {
            tx.upsert_finding(f)?;
            lines.push(line(
                dry_run,
                format!(
                    "{}: opened finding {} ({}), deadline {}",
                    f.institution_id, f.id, f.kind, f.deadline
                ),
                format!(
                    "open finding {} ({}) at {}, deadline {}",
                    f.id, f.kind, f.institution_id, f.deadline
                ),
            ));
        }
        WriteOp::Rectify(id) => {
            let mut f = tx.finding(id)?.ok_or_else(|| missing_finding(id))?;
            f.rectified_on = Some(as_of);
            tx.upsert_finding(&f)?;
            lines.push(line(
                dry_run,
                format!("{}: finding {id} rectified on {as_of}", f.institution_id),
                format!(
                    "record finding {id} at {} as rectified on {as_of}",
                    f.institution_id
                ),
            ));
        }
        WriteOp::CloseOut(id) => {
            let mut f = tx.finding(id)?.ok_or_else(|| missing_finding(id))?;
            f.verified_on = Some(as_of);
            tx.upsert_finding(&f)?;
            lines.push(line(
                dry_run,
                format!(
                    "{}: finding {id} closed out (销号) on {as_of}",
                    f.institution_id
                ),
                format!(
                    "close out (销号) finding {id} at {} on {as_of}",
                    f.institution_id
                ),
            ));
        }
        WriteOp::ListAdd {
            list,
            id,
            reason,
            owner,
        } => {
            if tx.list_add(list, id, as_of, reason, &op.operator, owner)? {
                lines.push(line(
                    dry_run,
                    format!("{id}: added to {list} from {as_of} ({reason})"),
                    format!("add {id} to {list} from {as_of} ({reason})"),
                ));
            } else {
                done.unchanged.push(format!("{id}: on {list} already"));
            }
        }
        WriteOp::ListRemove {
            list,
            id,
            reason,
            by,
            other,
        } => {
            if tx.list_remove(list, id, as_of, reason, by, *other)? {
                lines.push(line(
                    dry_run,
                    format!("{id}: removed from {list} on {as_of} ({reason})"),
                    format!("remove {id} from {list} on {as_of} ({reason})"),
                ));
            } else {
                done.unchanged
                    .push(format!("{id}: not on {list} (nothing to remove)"));
            }
        }
    }
    Ok(())
}

/// A notice: recorded in the register and staged under `--out` (or, in a
/// dry run, only listed); one issued already that day is unchanged.
fn apply_notice(
    tx: &mut Tx<'_>,
    op: &Operation,
    as_of: NaiveDate,
    w: &WriteOp,
    done: &mut Applied,
    written: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<(), LedgerError> {
    let WriteOp::Notice {
        id,
        kind,
        dir,
        name,
        text,
    } = w
    else {
        return Ok(());
    };
    let sha = sha256_hex(text);
    let rel = format!("{}/{name}", dir.display());
    if !tx.record_notice(id, kind, as_of, &rel, &sha, &op.operator)? {
        done.unchanged
            .push(format!("{id}: {kind} issued already on {as_of}"));
    } else if done.dry_run {
        let target = dir.join(safe_file_name(name));
        done.changes
            .push(format!("would issue {kind} to {id}: {}", target.display()));
    } else {
        let staged = stage(dir, name, text)
            .map_err(|e| LedgerError::Storage(format!("cannot write the notice {rel}: {e}")))?;
        done.changes
            .push(format!("{id}: {kind} issued: {}", staged.1.display()));
        written.push(staged);
    }
    Ok(())
}

/// The hidden name a file has while it waits for the commit: it carries the
/// process id, so a later run can tell a crashed run's file from a live one's.
fn staged_name(name: &str, pid: u32) -> String {
    format!(".{name}.{pid}.staged")
}

/// Writes `text` under `dir` with a staged name; returns (staged, final) paths.
fn stage(dir: &Path, name: &str, text: &str) -> std::io::Result<(PathBuf, PathBuf)> {
    let (target, safe) = target_under(dir, name)?;
    let staged = dir.join(staged_name(&safe, std::process::id()));
    write_synced(&staged, |w| w.write_all(text.as_bytes()))?;
    Ok((staged, target))
}

/// Resolves notices a crashed run left staged under `out/notices/KIND/`: one
/// whose text the register holds (the crash came after the commit) is put in
/// place, any other (the crash came before it) is removed. Files staged by a
/// run still going are left alone. Returns the notices put in place.
pub fn recover_notices(
    ledger: &crate::ledger::Ledger,
    out: &Path,
) -> Result<Vec<PathBuf>, LedgerError> {
    let root = out.join("notices");
    let Ok(kinds) = std::fs::read_dir(&root) else {
        return Ok(Vec::new());
    };
    let mut staged = Vec::new();
    for kind in kinds.flatten() {
        let Ok(files) = std::fs::read_dir(kind.path()) else {
            continue;
        };
        for f in files.flatten() {
            let n = f.file_name().to_string_lossy().into_owned();
            let Some((name, pid)) = n
                .strip_prefix('.')
                .and_then(|s| s.strip_suffix(".staged"))
                .and_then(|s| s.rsplit_once('.'))
            else {
                continue;
            };
            let Ok(pid) = pid.parse::<u32>() else {
                continue;
            };
            if pid == std::process::id() || process_alive(pid) {
                continue;
            }
            staged.push((f.path(), kind.path().join(name), name.to_string()));
        }
    }
    if staged.is_empty() {
        return Ok(Vec::new());
    }
    let issued: std::collections::HashSet<(String, String)> = ledger
        .reader()?
        .notice_files()?
        .into_iter()
        .filter_map(|(file, sha)| Some((file.rsplit('/').next()?.to_string(), sha)))
        .collect();
    let mut restored = Vec::new();
    for (path, target, name) in staged {
        let sha = std::fs::read(&path)
            .map(|b| sha256_hex(&b))
            .unwrap_or_default();
        if issued.contains(&(name, sha)) && !target.exists() {
            std::fs::rename(&path, &target).map_err(|e| {
                LedgerError::Storage(format!(
                    "cannot put the notice {} in place: {e}",
                    target.display()
                ))
            })?;
            restored.push(target);
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
    Ok(restored)
}

/// Whether a process with this id is running (it may be another program that
/// reused the id; then its staged files simply wait for a later run).
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn missing_finding(id: &str) -> LedgerError {
    LedgerError::Rejected(crate::ledger::Rejection(vec![
        crate::model::FieldError::new("finding_id", id, "no such finding"),
    ]))
}

/// SHA-256 of a script's text (recorded with every change it makes) or of
/// a notice's, as hex.
pub fn sha256_hex(text: impl AsRef<[u8]>) -> String {
    format!("{:x}", Sha256::digest(text.as_ref()))
}

/// The first bytes of every redb file (redb's own magic number).
const REDB_MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];

/// Whether `path` is a ledger (any redb file): files casebook writes for a
/// script never replace one, since the ledger and its audit log would be gone.
pub fn is_ledger(path: &Path) -> bool {
    let mut head = [0u8; REDB_MAGIC.len()];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|_| head == REDB_MAGIC)
}

/// The error for a file that would replace a ledger.
pub fn ledger_in_the_way(target: &Path) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!(
            "refusing to write {}: it is a casebook ledger, and a file written for a script never replaces one; choose another name or --out directory",
            target.display()
        ),
    )
}

/// `name` reduced to characters safe in a file name (no separators, no
/// leading dot), so a file written under a directory stays in it.
pub fn safe_file_name(name: &str) -> String {
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
    if safe.is_empty() {
        "out".to_string()
    } else {
        safe
    }
}

/// Where a file named `name` goes under `dir` (and its safe name): the
/// directory is made, and a ledger in the way is refused, never replaced.
fn target_under(dir: &Path, name: &str) -> std::io::Result<(PathBuf, String)> {
    let safe = safe_file_name(name);
    std::fs::create_dir_all(dir)?;
    let target = dir.join(&safe);
    if is_ledger(&target) {
        return Err(ledger_in_the_way(&target));
    }
    Ok((target, safe))
}

/// Writes `path` through `f` and syncs it; a file that cannot be written
/// whole (a full disk) is removed, never left behind half-written.
pub(crate) fn write_synced(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let written = (|| {
        let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
        f(&mut w)?;
        w.flush()?;
        w.get_ref().sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

/// Writes a file under `dir` only: the name is reduced to safe characters and
/// written beside its target first, then put in place, so a reader never sees
/// half a file. A file already there is never replaced (what one night wrote
/// stays for the next): the same text is left as it is, and different text
/// goes to the next free name `NAME.2.EXT`, `NAME.3.EXT`, …; the path
/// written (or found) is returned. A ledger in the way is refused.
pub fn write_under(
    dir: &Path,
    name: &str,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<PathBuf> {
    let (target, safe) = target_under(dir, name)?;
    let tmp = temporary_beside(&dir.join(safe));
    write_synced(&tmp, f)?;
    let placed = place_new(&tmp, &target);
    let _ = std::fs::remove_file(&tmp);
    placed
}

/// A hidden temporary name beside `path` (`.NAME.PID.NANOS.partial`),
/// unique per writer, so two processes writing the same file never share a
/// temporary.
pub fn temporary_beside(path: &Path) -> PathBuf {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.{nonce}.partial", std::process::id()))
}

/// Puts the file at `from` in place at `target` (or the next free numbered
/// name beside it) without ever replacing a file: returns where it is. A
/// target with the same bytes is kept as it is. `from` is left for the caller
/// to remove.
pub fn place_new(from: &Path, target: &Path) -> std::io::Result<PathBuf> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let file = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = match file.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (file.clone(), String::new()),
    };
    for n in 1u32.. {
        let candidate = if n == 1 {
            target.to_path_buf()
        } else {
            dir.join(format!("{stem}.{n}{ext}"))
        };
        if is_ledger(&candidate) {
            continue;
        }
        // A hard link fails if the name is taken, where a rename would replace
        // it: two runs racing for a name cannot overwrite each other.
        match std::fs::hard_link(from, &candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if same_bytes(from, &candidate) {
                    return Ok(candidate);
                }
            }
            // A file system without hard links: a rename, only onto a free name.
            Err(_) if !candidate.exists() => {
                std::fs::copy(from, &candidate)?;
                return Ok(candidate);
            }
            Err(_) => {
                if same_bytes(from, &candidate) {
                    return Ok(candidate);
                }
            }
        }
    }
    unreachable!("some numbered name is free")
}

/// Whether two files hold the same bytes.
fn same_bytes(a: &Path, b: &Path) -> bool {
    match (std::fs::read(a), std::fs::read(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_written_under_a_directory_never_replaces_a_ledger_there() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rows.csv");
        crate::ledger::LedgerWriter::create(&db).unwrap();
        let before = std::fs::read(&db).unwrap();
        let e = write_under(dir.path(), "rows.csv", |w| w.write_all(b"a,b\n")).unwrap_err();
        assert!(e.to_string().contains("is a casebook ledger"), "{e}");
        assert_eq!(std::fs::read(&db).unwrap(), before);
        // Other files are written as before, and nothing is left behind.
        let p = write_under(dir.path(), "../x/../other.csv", |w| w.write_all(b"a\n")).unwrap();
        assert_eq!(p, dir.path().join("_x_.._other.csv"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_file_already_there_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_under(dir.path(), "n-2019-02-20.jsonl", |w| {
            w.write_all(b"night 1\n")
        })
        .unwrap();
        // The same text: the file is left as it is.
        let q = write_under(dir.path(), "n-2019-02-20.jsonl", |w| {
            w.write_all(b"night 1\n")
        })
        .unwrap();
        assert_eq!(p, q);
        // Different text goes beside it.
        let r = write_under(dir.path(), "n-2019-02-20.jsonl", |w| {
            w.write_all(b"rerun\n")
        })
        .unwrap();
        assert_eq!(r, dir.path().join("n-2019-02-20.2.jsonl"));
        assert_eq!(std::fs::read(&p).unwrap(), b"night 1\n");
        assert_eq!(std::fs::read(&r).unwrap(), b"rerun\n");
        // No temporaries are left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_file_that_cannot_be_written_whole_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_under(dir.path(), "n.txt", |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("No space left on device"))
        })
        .unwrap_err();
        assert!(e.to_string().contains("No space"), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
