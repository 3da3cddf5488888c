//! Write calls: each is checked when the script makes it and queued; the
//! queue is applied in one transaction when the script ends without error
//! (see `script::writes`). `set_status`, `open_finding`, `rectify`,
//! `close_out`, `list_add`, `list_remove`, `list_remove_other`, `can_write()`
//! and `dry_run()`. A call asking for what already holds is "unchanged":
//! counted, never queued, never an error.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rhai::{Engine, Map};

use super::common::{key_text, plain_text};
use crate::ledger::{ListEntry, Owner};
use crate::model::{fmt_date, FieldError, Finding, Status};
use crate::script::errors::{err, ledger_err, RResult};
use crate::script::state::{Host, Output, Snapshot, WriteOp};

/// Registers the write functions, `can_write` and `dry_run`.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    engine.register_fn("can_write", move || h.write.load(Ordering::Relaxed));
    let h = host.clone();
    engine.register_fn("dry_run", move || h.dry_run.load(Ordering::Relaxed));
    let h = host.clone();
    engine.register_fn(
        "set_status",
        move |id: &str, status: &str, reason: &str| -> RResult<()> {
            set_status(&h, id, status, reason)
        },
    );
    let h = host.clone();
    engine.register_fn("open_finding", move |m: Map| -> RResult<String> {
        open_finding(&h, m)
    });
    let h = host.clone();
    engine.register_fn("rectify", move |id: &str| -> RResult<()> {
        rectify(&h, id)
    });
    let h = host.clone();
    engine.register_fn("close_out", move |id: &str| -> RResult<()> {
        close_out(&h, id)
    });
    let h = host.clone();
    engine.register_fn(
        "list_add",
        move |list: &str, id: &str, reason: &str| -> RResult<()> { list_add(&h, list, id, reason) },
    );
    let h = host.clone();
    engine.register_fn(
        "list_remove",
        move |list: &str, id: &str, reason: &str| -> RResult<()> {
            list_remove(&h, "list_remove", list, id, reason)
        },
    );
    let h = host.clone();
    engine.register_fn(
        "list_remove_other",
        move |list: &str, id: &str, reason: &str| -> RResult<()> {
            list_remove(&h, "list_remove_other", list, id, reason)
        },
    );
}

/// Refuses a write call in a run that may not change the ledger.
pub fn check_write(host: &Host, what: &str) -> RResult<()> {
    if host.write.load(Ordering::Relaxed) {
        Ok(())
    } else {
        err(format!(
            "{what} changes the ledger, which this run may not do: run with --write to apply the changes, or with --dry-run to see them without applying them (in the REPL, :write on or :write preview). Nothing was changed."
        ))
    }
}

/// `set_status(id, status, reason)`.
fn set_status(h: &Host, id: &str, status: &str, reason: &str) -> RResult<()> {
    check_write(h, "set_status")?;
    plain_text("set_status", "reason", reason)?;
    let Some(s) = Status::parse(status) else {
        return err(format!(
            "set_status: \"{status}\" is not a status; use one of {}",
            Status::choices()
        ));
    };
    let snap = h.snap();
    let Some(x) = snap.reader.institution(id).map_err(ledger_err)? else {
        return err(format!("set_status: no institution with id \"{id}\""));
    };
    if reason.trim().is_empty() {
        return err("set_status: give a reason; it is recorded in the status history");
    }
    let mut out = h.out.lock().unwrap();
    let now = match out.queued.status.get(id) {
        Some(q) => Some(*q),
        None => snap
            .reader
            .status_as_of(&x, snap.as_of)
            .map_err(ledger_err)?,
    };
    if now == Some(s) {
        out.unchanged
            .push(format!("{id}: status is {s} already on {}", snap.as_of));
        return Ok(());
    }
    out.queue(WriteOp::SetStatus {
        id: id.into(),
        status: s,
        reason: reason.into(),
    });
    Ok(())
}

/// `open_finding(map)`: a finding from import-file fields, validated as an
/// import would; returns its id (made up from the date when not given).
fn open_finding(h: &Host, m: Map) -> RResult<String> {
    check_write(h, "open_finding")?;
    let snap = h.snap();
    let mut fields = finding_fields(&m)?;
    if !fields.iter().any(|(f, _)| *f == "opened_on") {
        fields.push(("opened_on", fmt_date(snap.as_of)));
    }
    let mut out = h.out.lock().unwrap();
    if !fields.iter().any(|(f, _)| *f == "id") {
        fields.push(("id", next_finding_id(&snap, &mut out)?));
    }
    let (f, mut errs) = crate::format::finding_from(&crate::format::FieldRow(fields));
    if errs.is_empty() {
        errs = f.validate();
    }
    if errs.is_empty() {
        errs = new_finding_errors(&snap, &out, &f)?;
    }
    if !errs.is_empty() {
        let v: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        return err(format!("open_finding: {}", v.join("; ")));
    }
    let id = f.id.clone();
    out.queue(WriteOp::OpenFinding(f));
    Ok(id)
}

/// The fields of an `open_finding` map by their import-file names (`()` values left out).
fn finding_fields(m: &Map) -> RResult<Vec<(&'static str, String)>> {
    let mut fields: Vec<(&'static str, String)> = Vec::new();
    for (k, v) in m {
        let Some(f) = crate::model::RecordKind::Findings.field_of_header(k) else {
            return err(format!(
                "open_finding: unknown field \"{k}\"; the fields are {}",
                crate::model::RecordKind::Findings
                    .columns()
                    .iter()
                    .map(|c| c.0)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        if !v.is_unit() {
            fields.push((f, key_text(v)));
        }
    }
    Ok(fields)
}

/// The first free id `F<date>-NNNN`, in the ledger and in this run's queue.
/// The search starts where the last one ended (every number below it was
/// taken then, and the run only takes more), so opening many findings is
/// not quadratic.
fn next_finding_id(snap: &Snapshot, out: &mut Output) -> RResult<String> {
    let base = format!("F{}", snap.as_of.format("%Y%m%d"));
    let mut n = out.queued.finding_floor.get(&base).copied().unwrap_or(1);
    loop {
        let id = format!("{base}-{n:04}");
        if !out.queued.opened.contains_key(&id)
            && snap.reader.finding(&id).map_err(ledger_err)?.is_none()
        {
            out.queued.finding_floor.insert(base, n);
            return Ok(id);
        }
        n += 1;
    }
}

/// What refuses a valid finding: an unknown institution, or an id taken
/// (in the ledger or earlier in this run).
fn new_finding_errors(snap: &Snapshot, out: &Output, f: &Finding) -> RResult<Vec<FieldError>> {
    let mut errs = Vec::new();
    if snap
        .reader
        .institution(&f.institution_id)
        .map_err(ledger_err)?
        .is_none()
    {
        errs.push(FieldError::new(
            "institution_id",
            f.institution_id.clone(),
            "no such institution",
        ));
    }
    let queued_same = out.queued.opened.contains_key(&f.id);
    if errs.is_empty() && (queued_same || snap.reader.finding(&f.id).map_err(ledger_err)?.is_some())
    {
        errs.push(FieldError::new(
            "id",
            f.id.clone(),
            "a finding with this id exists already",
        ));
    }
    Ok(errs)
}

/// `rectify(finding_id)`.
fn rectify(h: &Host, id: &str) -> RResult<()> {
    check_write(h, "rectify")?;
    let snap = h.snap();
    let Some(f) = finding_for_write(h, &snap, id)? else {
        return err(format!("rectify: no finding with id \"{id}\""));
    };
    if let Some(r) = f.rectified_on.filter(|r| *r <= snap.as_of) {
        let line = format!("{id}: finding rectified already on {r}");
        h.out.lock().unwrap().unchanged.push(line);
        return Ok(());
    }
    if h.out.lock().unwrap().queued.rectified.contains(id) {
        let line = format!("{id}: finding rectified already in this run");
        h.out.lock().unwrap().unchanged.push(line);
        return Ok(());
    }
    if f.opened_on > snap.as_of {
        return err(format!(
            "rectify: finding {id} is opened on {}, after {}",
            f.opened_on, snap.as_of
        ));
    }
    h.out.lock().unwrap().queue(WriteOp::Rectify(id.into()));
    Ok(())
}

/// `close_out(finding_id)`: only after the finding is rectified (in the ledger or in this run).
fn close_out(h: &Host, id: &str) -> RResult<()> {
    check_write(h, "close_out")?;
    let snap = h.snap();
    let Some(f) = finding_for_write(h, &snap, id)? else {
        return err(format!("close_out: no finding with id \"{id}\""));
    };
    if let Some(v) = f.verified_on.filter(|v| *v <= snap.as_of) {
        let line = format!("{id}: finding closed out already on {v}");
        h.out.lock().unwrap().unchanged.push(line);
        return Ok(());
    }
    if h.out.lock().unwrap().queued.closed.contains(id) {
        let line = format!("{id}: finding closed out already in this run");
        h.out.lock().unwrap().unchanged.push(line);
        return Ok(());
    }
    let queued_rectify = h.out.lock().unwrap().queued.rectified.contains(id);
    if f.rectified_on.is_none_or(|r| r > snap.as_of) && !queued_rectify {
        return err(format!("close_out: finding {id} is not rectified yet; a finding is closed out (销号) after it is rectified: call rectify(\"{id}\") first"));
    }
    h.out.lock().unwrap().queue(WriteOp::CloseOut(id.into()));
    Ok(())
}

/// `list_add(list, id, reason)`.
fn list_add(h: &Host, list: &str, id: &str, reason: &str) -> RResult<()> {
    check_write(h, "list_add")?;
    plain_text("list_add", "list name", list)?;
    plain_text("list_add", "reason", reason)?;
    if h.snap()
        .reader
        .institution(id)
        .map_err(ledger_err)?
        .is_none()
    {
        return err(format!("list_add: no institution with id \"{id}\""));
    }
    if list.trim().is_empty() {
        return err("list_add: the list needs a name, e.g. \"blacklist\"");
    }
    let snap = h.snap();
    let open = open_list_entry(&snap, list, id);
    if queued_on_list(h, list, id).unwrap_or(open.is_some()) {
        let since = match open {
            Some(e) => format!(" since {} ({})", e.added, Owner::describe(e.owner.as_ref())),
            None => " (added earlier in this run)".into(),
        };
        let line = format!("{id}: on {list} already{since}");
        h.out.lock().unwrap().unchanged.push(line);
        return Ok(());
    }
    let owner = h.owner();
    h.out.lock().unwrap().queue(WriteOp::ListAdd {
        list: list.into(),
        id: id.into(),
        reason: reason.into(),
        owner,
    });
    Ok(())
}

/// `list_remove(list, id, reason)` (only the caller's own entries) and
/// `list_remove_other(list, id, reason)` (any owner's, said explicitly).
fn list_remove(h: &Host, what: &str, list: &str, id: &str, reason: &str) -> RResult<()> {
    check_write(h, what)?;
    plain_text(what, "reason", reason)?;
    let other = what == "list_remove_other";
    if other && reason.trim().is_empty() {
        return err("list_remove_other: give a reason for taking off another owner's entry");
    }
    let snap = h.snap();
    let open = open_list_entry(&snap, list, id);
    let queued = queued_on_list(h, list, id);
    if !queued.unwrap_or(open.is_some()) {
        let line = format!("{id}: not on {list} (nothing to remove)");
        h.out.lock().unwrap().unchanged.push(line);
        return Ok(());
    }
    let by = h.owner();
    // An entry this run added is its own; one in the ledger is its owner's.
    if let (None, Some(e)) = (queued, open) {
        if !other && !e.owner.as_ref().is_some_and(|o| o.same(&by)) {
            return err(format!(
                "list_remove: {id} is on list \"{list}\" by {}, not by {by}: a rule or person takes off only the entries it added. To take off another owner's entry say so: list_remove_other(\"{list}\", \"{id}\", REASON)",
                Owner::describe(e.owner.as_ref())
            ));
        }
    }
    h.out.lock().unwrap().queue(WriteOp::ListRemove {
        list: list.into(),
        id: id.into(),
        reason: reason.into(),
        by,
        other,
    });
    Ok(())
}

/// A finding as the run sees it: one queued by `open_finding` earlier in the run, else the ledger's.
fn finding_for_write(h: &Host, snap: &Snapshot, id: &str) -> RResult<Option<Finding>> {
    let queued = h.out.lock().unwrap().opened_finding(id).cloned();
    match queued {
        Some(f) => Ok(Some(f)),
        None => snap.reader.finding(id).map_err(ledger_err),
    }
}

/// `id`'s entry on `list` in the ledger not yet ended, if it is on it.
fn open_list_entry<'a>(snap: &'a Snapshot, list: &str, id: &str) -> Option<&'a ListEntry> {
    snap.list_index()
        .get(id)?
        .iter()
        .find(|e| e.list == list && e.removed.is_none())
}

/// Whether adds and removes queued earlier in this run leave `id` on `list`
/// (the last one wins), or `None` if none was queued.
fn queued_on_list(h: &Host, list: &str, id: &str) -> Option<bool> {
    let out = h.out.lock().unwrap();
    out.queued
        .on_list
        .get(&(list.to_string(), id.to_string()))
        .copied()
}
