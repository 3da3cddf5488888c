//! Files a script renders from templates: `notice` (recorded in the notice
//! register with the run's changes), `notices_sent`, and `publish` (a page).

use std::sync::Arc;

use rhai::{Dynamic, Engine, Map, INT};

use super::writes::check_write;
use crate::model::{fmt_date, FindingStatus};
use crate::script::errors::{err, ledger_err, RResult};
use crate::script::output::json;
use crate::script::records::{type_name, Date, FindingRef, InstitutionRef};
use crate::script::state::{Host, Snapshot, WriteOp};

/// Registers `notices_sent`, `notice` and `publish`.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    engine.register_fn(
        "notices_sent",
        move |i: Dynamic, kind: &str, since: Date| -> RResult<INT> {
            let id = record_id(&i)?;
            let snap = h.snap();
            let v = snap.reader.notices_of(&id).map_err(ledger_err)?;
            Ok(v.iter()
                .filter(|(k, d, _)| k == kind && *d >= since.0 && *d <= snap.as_of)
                .count() as INT)
        },
    );
    let h = host.clone();
    engine.register_fn(
        "notice",
        move |kind: &str, i: Dynamic, data: Map| -> RResult<bool> { notice(&h, kind, i, data) },
    );
    let h = host.clone();
    engine.register_fn("notice", move |kind: &str, i: Dynamic| -> RResult<bool> {
        notice(&h, kind, i, Map::new())
    });
    let h = host.clone();
    engine.register_fn(
        "publish",
        move |template: &str, file: &str, data: Map| -> RResult<()> {
            publish(&h, template, file, data)
        },
    );
}

/// `publish(template, file, data)`: renders a page, written under `--out` when the script succeeds.
fn publish(h: &Host, template: &str, file: &str, data: Map) -> RResult<()> {
    let Some(cfg) = &h.notices else {
        return err("publish writes a file, so the run needs --out DIR");
    };
    let kind = template.trim_end_matches(".j2");
    let (stem, _) = kind.rsplit_once('.').unwrap_or((kind, ""));
    let ctx = json(&Dynamic::from_map(data));
    let mut ctx = if ctx.is_object() {
        ctx
    } else {
        serde_json::json!({})
    };
    ctx["as_of"] = fmt_date(h.snap().as_of).into();
    let target = cfg.out.join(crate::script::writes::safe_file_name(file));
    if crate::script::writes::is_ledger(&target) {
        return err(format!(
            "publish: {} is a casebook ledger; a script never writes over one, so choose another file name",
            target.display()
        ));
    }
    let (_, text) = crate::notice::render(cfg, stem, &ctx).or_else(err)?;
    h.out
        .lock()
        .unwrap()
        .files
        .push((cfg.out.clone(), file.to_string(), text));
    Ok(())
}

/// The institution id of a record or an id string.
fn record_id(v: &Dynamic) -> RResult<String> {
    if let Some(i) = v.read_lock::<InstitutionRef>() {
        return Ok(i.institution.id.to_string());
    }
    if v.is_string() {
        return Ok(v.to_string());
    }
    err(format!(
        "expected an institution or its id, not {}",
        type_name(v)
    ))
}

/// `notice(kind, inst, data)`: renders and queues a notice; false if this kind
/// was already issued to the institution on the as-of date (so re-runs issue none).
fn notice(h: &Host, kind: &str, i: Dynamic, data: Map) -> RResult<bool> {
    check_write(h, "notice")?;
    let Some(cfg) = &h.notices else {
        return err(
            "notice writes files, so the run needs --out DIR (notices go to DIR/notices/KIND/)",
        );
    };
    let id = record_id(&i)?;
    let snap = h.snap();
    let Some(x) = snap.reader.institution_as(&id).map_err(ledger_err)? else {
        return err(format!("notice: no institution with id \"{id}\""));
    };
    let day = fmt_date(snap.as_of);
    let sent = snap.reader.notices_of(&id).map_err(ledger_err)?;
    if sent.iter().any(|(k, d, _)| k == kind && *d == snap.as_of) {
        return Ok(false);
    }
    let queued = (h.out.lock().unwrap().queued.notices).contains(&(id.clone(), kind.to_string()));
    if queued {
        return Ok(false);
    }
    let inst = Dynamic::from(InstitutionRef::new(Arc::new(x), snap.clone()));
    let ctx = notice_context(&snap, kind, &id, &inst, &day, data)?;
    let (ext, text) = crate::notice::render(cfg, kind, &ctx).or_else(err)?;
    let (dir, name) = crate::notice::file_name(kind, &id, &day, ext);
    h.out.lock().unwrap().queue(WriteOp::Notice {
        id,
        kind: kind.to_string(),
        dir: cfg.out.join(dir),
        name,
        text,
    });
    Ok(true)
}

/// What a notice template is rendered with: the institution, its open and
/// overdue findings (with Chinese names of kind and status), the date, `data`.
fn notice_context(
    snap: &Snapshot,
    kind: &str,
    id: &str,
    inst: &Dynamic,
    day: &str,
    data: Map,
) -> RResult<serde_json::Value> {
    let mut open = Vec::new();
    let mut overdue = Vec::new();
    for f in snap.reader.findings_of(id).map_err(ledger_err)? {
        if f.visible(snap.as_of) && f.status(snap.as_of) != FindingStatus::Closed {
            let fd = Dynamic::from(FindingRef::new(&f, snap.as_of));
            let mut j = json(&fd);
            j["kind_zh"] = f.kind.zh().into();
            j["status_zh"] = f.status(snap.as_of).zh().into();
            if f.overdue(snap.as_of) {
                overdue.push(j.clone());
            }
            open.push(j);
        }
    }
    let mut ij = json(inst);
    ij["category_zh"] = x_zh(inst);
    Ok(serde_json::json!({
        "kind": kind,
        "institution": ij,
        "findings": open,
        "overdue": overdue,
        "as_of": day,
        "data": json(&Dynamic::from_map(data)),
    }))
}

fn x_zh(inst: &Dynamic) -> serde_json::Value {
    inst.read_lock::<InstitutionRef>()
        .map(|i| i.institution.category.zh().into())
        .unwrap_or_default()
}
