//! Deciding licence applications and course filings: `approve`, `reject`,
//! `accept_course`, `reject_course` (queued like every write).

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine};

use super::common::plain_text;
use super::writes::check_write;
use crate::model::{fmt_date, AppStatus, Application, CourseStatus};
use crate::script::errors::{err, ledger_err, RResult};
use crate::script::records::Date;
use crate::script::state::{Host, WriteOp};

/// Registers the decisions on applications and courses.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    engine.register_fn(
        "approve",
        move |id: &str, licence_no: &str, expires: Date| -> RResult<()> {
            approve(&h, id, licence_no, expires)
        },
    );
    let h = host.clone();
    engine.register_fn("reject", move |id: &str, reason: Dynamic| -> RResult<()> {
        check_write(&h, "reject")?;
        let reason = reasons_text(&reason);
        if reason.trim().is_empty() {
            return err("reject: give the reasons; the institution is told them");
        }
        plain_text("reject", "reason", &reason)?;
        let Some(a) = h.snap().reader.application(id).map_err(ledger_err)? else {
            return err(format!("reject: no application with id \"{id}\""));
        };
        pending_application(&h, &a, "reject")?;
        let mut out = h.out.lock().unwrap();
        out.decided.insert(format!("app:{id}"));
        out.queue(WriteOp::RejectApplication {
            id: id.into(),
            reason,
        });
        Ok(())
    });
    let h = host.clone();
    engine.register_fn("accept_course", move |id: &str| -> RResult<()> {
        decide_course(&h, id, true, String::new())
    });
    let h = host.clone();
    engine.register_fn(
        "reject_course",
        move |id: &str, reason: Dynamic| -> RResult<()> {
            let reason = reasons_text(&reason);
            if reason.trim().is_empty() {
                return err("reject_course: give the reasons");
            }
            plain_text("reject_course", "reason", &reason)?;
            decide_course(&h, id, false, reason)
        },
    );
}

/// `approve(app_id, licence_no, expires)`.
fn approve(h: &Host, id: &str, licence_no: &str, expires: Date) -> RResult<()> {
    plain_text("approve", "licence number", licence_no)?;
    check_write(h, "approve")?;
    let snap = h.snap();
    let Some(a) = snap.reader.application(id).map_err(ledger_err)? else {
        return err(format!("approve: no application with id \"{id}\""));
    };
    pending_application(h, &a, "approve")?;
    if licence_no.trim().is_empty() {
        return err("approve: give the licence number");
    }
    if expires.0 <= snap.as_of {
        return err(format!(
            "approve: the licence must expire after {}, not on {}",
            snap.as_of, expires.0
        ));
    }
    let mut out = h.out.lock().unwrap();
    out.decided.insert(format!("app:{id}"));
    out.queue(WriteOp::Approve {
        id: id.into(),
        licence_no: licence_no.into(),
        expires: expires.0,
        reason: String::new(),
    });
    Ok(())
}

/// Reasons given as text or as an array of texts, joined with "；".
fn reasons_text(v: &Dynamic) -> String {
    if let Some(a) = v.read_lock::<Array>() {
        a.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("；")
    } else {
        v.to_string()
    }
}

/// Refuses a decision on an application that is decided, or already decided in this run.
fn pending_application(h: &Host, a: &Application, what: &str) -> RResult<()> {
    let snap = h.snap();
    let decided = a.decided_on.is_some_and(|d| d <= snap.as_of);
    if decided || a.status != AppStatus::Submitted {
        return err(format!(
            "{what}: application {} is {} already (decided {}); only a submitted application can be decided",
            a.id,
            a.status,
            a.decided_on.map(fmt_date).unwrap_or_default()
        ));
    }
    let queued = h
        .out
        .lock()
        .unwrap()
        .decided
        .contains(&format!("app:{}", a.id));
    if queued {
        return err(format!(
            "{what}: application {} was already decided in this run",
            a.id
        ));
    }
    Ok(())
}

/// `accept_course(id)` and `reject_course(id, reasons)`.
fn decide_course(h: &Host, id: &str, accept: bool, reason: String) -> RResult<()> {
    let what = if accept {
        "accept_course"
    } else {
        "reject_course"
    };
    check_write(h, what)?;
    let Some(c) = h.snap().reader.course(id).map_err(ledger_err)? else {
        return err(format!("{what}: no course with id \"{id}\""));
    };
    if c.status != CourseStatus::Filed {
        let as_of = h.snap().as_of;
        let same = (c.status == CourseStatus::Accepted) == accept;
        let on = c.decided_on.map(|d| format!(" on {d}")).unwrap_or_default();
        // The same decision again is a repeat, not an error; the other one conflicts.
        if same && c.decided_on.is_none_or(|d| d <= as_of) {
            h.out
                .lock()
                .unwrap()
                .unchanged
                .push(format!("course {id}: {} already{on}", c.status));
            return Ok(());
        }
        return err(format!(
            "{what}: course {id} is {} already{on}; only a filed course can be decided",
            c.status
        ));
    }
    let queued = h
        .out
        .lock()
        .unwrap()
        .decided
        .contains(&format!("course:{id}"));
    if queued {
        return err(format!(
            "{what}: course {id} was already decided in this run"
        ));
    }
    let mut out = h.out.lock().unwrap();
    out.decided.insert(format!("course:{id}"));
    out.queue(WriteOp::DecideCourse {
        id: id.into(),
        accept,
        reason,
    });
    Ok(())
}
