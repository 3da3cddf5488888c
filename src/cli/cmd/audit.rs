//! `casebook audit`: the audit log, every change ever made, as a table
//! (when, who, command, changes by kind) or rows for programs; `--entry N`
//! shows each record one entry changed, field by field before and after.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

use super::open_read;
use crate::cli::args::AuditArgs;
use crate::cli::{exit, Context};
use crate::ledger::Reader;
use crate::model::RecordKind;
use crate::sheet::{Cell, OutFormat, Sheet};
use std::io::Write;

/// Lists the last entries, or with `--entry N` what one entry changed.
pub fn run(args: &AuditArgs, ctx: &Context) -> Result<i32> {
    if args.head {
        return head(ctx);
    }
    let ledger = open_read(&ctx.db)?;
    let r = ledger.reader()?;
    let file = args.out.file()?;
    let sheet = match args.entry {
        Some(n) => entry(&r, n)?,
        None => {
            let (sheet, headers) = last(&r, args)?;
            let fmt = match &file {
                Some(o) => o.format,
                None => OutFormat::for_stdout(args.out.format)?,
            };
            // For programs, each entry's whole header: every field it records.
            if matches!(fmt, OutFormat::Json | OutFormat::Jsonl) {
                let mut text = Vec::new();
                if fmt == OutFormat::Json {
                    serde_json::to_writer_pretty(&mut text, &headers)?;
                    text.push(b'\n');
                } else {
                    for h in &headers {
                        serde_json::to_writer(&mut text, h)?;
                        text.push(b'\n');
                    }
                }
                match &file {
                    Some(o) => {
                        crate::sheet::file::replace_with(&o.path, &ctx.db, |w| w.write_all(&text))?
                    }
                    None => {
                        let mut out = std::io::stdout().lock();
                        out.write_all(&text)?;
                        out.flush()?;
                    }
                }
                return Ok(exit::OK);
            }
            sheet
        }
    };
    crate::sheet::emit(file.as_ref(), args.out.format, &ctx.db, &[sheet])?;
    Ok(exit::OK)
}

/// When an entry was made, as the table shows it: local time with the
/// offset (the log stores UTC). The one place audit times are formatted.
pub fn when_text(at: &str) -> String {
    crate::cli::local_time::shown(at)
}

/// What an entry changed, counted by kind and action: `finding insert`,
/// `status change`, `list add`… (the header's "other" is all but inserts
/// and updates of records: statuses, list entries, saved runs, notices,
/// decisions).
fn counts_by_kind(r: &Reader, n: u64) -> Result<BTreeMap<String, u64>> {
    let mut m = BTreeMap::new();
    for c in r.audit_changes(n)? {
        let action = c.action.split_whitespace().next().unwrap_or("").to_string();
        let k = if action.is_empty() || action.contains(':') {
            c.kind.clone()
        } else {
            format!("{} {action}", c.kind)
        };
        let count = if c.action == "insert" {
            c.id.lines().count() as u64
        } else {
            1
        };
        *m.entry(k).or_insert(0) += count;
    }
    Ok(m)
}

/// Whether entry `n` changed institution `id` or one of its records.
fn touches(r: &Reader, n: u64, id: &str) -> Result<bool> {
    for c in r.audit_changes(n)? {
        for one in c.id.lines() {
            if one == id {
                return Ok(true);
            }
            let owner = match RecordKind::from_audit_name(&c.kind) {
                Some(RecordKind::Findings) => r.finding_institution(one)?,
                Some(RecordKind::Inspections) => r.inspection(one)?.map(|x| x.institution_id),
                Some(RecordKind::Applications) => r.application(one)?.map(|x| x.institution_id),
                Some(RecordKind::Courses) => r.course(one)?.map(|x| x.institution_id),
                _ => None,
            };
            if owner.as_deref() == Some(id) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The last entries the filters keep, one row each; says on stderr what it left out.
fn last(r: &Reader, args: &AuditArgs) -> Result<(Sheet, Vec<serde_json::Value>)> {
    let since = match &args.since {
        Some(s) => Some(
            crate::model::parse_date(s).map_err(|why| anyhow::anyhow!("--since \"{s}\" {why}"))?,
        ),
        None => None,
    };
    let mut kept = Vec::new();
    for (n, header) in r.audit()? {
        let h: serde_json::Value = serde_json::from_str(&header).unwrap_or_default();
        let at = h["at"].as_str().unwrap_or("");
        if let Some(d) = since {
            let day = chrono::DateTime::parse_from_rfc3339(at)
                .map(|t| t.with_timezone(&chrono::Local).date_naive());
            if day.is_ok_and(|day| day < d) {
                continue;
            }
        }
        if let Some(op) = &args.operator {
            if h["operator"].as_str() != Some(op.as_str()) {
                continue;
            }
        }
        kept.push((n, h));
    }
    if let Some(id) = &args.institution {
        let mut v = Vec::new();
        for (n, h) in kept {
            if touches(r, n, id)? {
                v.push((n, h));
            }
        }
        kept = v;
    }
    let skip = kept.len().saturating_sub(args.last);
    let mut s = Sheet::new(
        "audit",
        &[
            "entry",
            "when",
            "operator",
            "command",
            "inserted",
            "updated",
            "unchanged",
            "changes",
        ],
    );
    let mut headers = Vec::new();
    for (n, h) in &kept[skip..] {
        let kinds = counts_by_kind(r, *n)?;
        let mut full = serde_json::Map::new();
        full.insert("entry".into(), (*n).into());
        full.extend(h.as_object().cloned().unwrap_or_default());
        // Stored in UTC; shown, as everywhere, in local time with the offset.
        if let Some(at) = h["at"].as_str() {
            full.insert("at".into(), when_text(at).into());
        }
        full.insert(
            "changes".into(),
            serde_json::Value::Object(
                kinds
                    .iter()
                    .map(|(k, c)| (k.clone(), serde_json::Value::from(*c)))
                    .collect(),
            ),
        );
        headers.push(serde_json::Value::Object(full));
        let changes = kinds
            .iter()
            .map(|(k, c)| format!("{k} {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let num = |k: &str| Cell::Int(h[k].as_i64().unwrap_or(0));
        s.rows.push(vec![
            Cell::Int(*n as i64),
            Cell::from(when_text(h["at"].as_str().unwrap_or(""))),
            Cell::from(h["operator"].as_str().unwrap_or("")),
            Cell::from(h["command"].as_str().unwrap_or("")),
            num("inserted"),
            num("updated"),
            num("unchanged"),
            Cell::from(changes),
        ]);
    }
    if skip > 0 {
        eprintln!(
            "({skip} earlier {} not shown: --last {} shows them all)",
            if skip == 1 { "entry" } else { "entries" },
            kept.len()
        );
    }
    Ok((s, headers))
}

/// A stored record as (field, value) pairs, decoded from its bytes.
fn fields(kind: &str, b: &[u8]) -> Option<Vec<(&'static str, String)>> {
    if b.is_empty() {
        return None;
    }
    let kind = RecordKind::from_audit_name(kind)?;
    let row = match kind {
        RecordKind::Institutions => crate::ledger::codec::decode_institution(b)
            .ok()
            .map(|x| crate::format::institution_row(&x)),
        RecordKind::Findings => crate::ledger::codec::decode_finding(b)
            .ok()
            .map(|x| crate::format::finding_row(&x)),
        RecordKind::Inspections => crate::ledger::codec::decode_inspection(b)
            .ok()
            .map(|x| crate::format::inspection_row(&x)),
        RecordKind::Applications => crate::ledger::codec::decode_application(b)
            .ok()
            .map(|x| crate::format::application_row(&x)),
        RecordKind::Courses => crate::ledger::codec::decode_course(b)
            .ok()
            .map(|x| crate::format::course_row(&x)),
    }?;
    Some(kind.columns().iter().map(|(f, _)| *f).zip(row).collect())
}

/// A record as it is now in the ledger, as (field, value) pairs.
fn current(r: &Reader, kind: &str, id: &str) -> Result<Option<Vec<(&'static str, String)>>> {
    let Some(k) = RecordKind::from_audit_name(kind) else {
        return Ok(None);
    };
    let row = match k {
        RecordKind::Institutions => r
            .institution(id)?
            .map(|x| crate::format::institution_row(&x)),
        RecordKind::Findings => r.finding(id)?.map(|x| crate::format::finding_row(&x)),
        RecordKind::Inspections => r.inspection(id)?.map(|x| crate::format::inspection_row(&x)),
        RecordKind::Applications => r
            .application(id)?
            .map(|x| crate::format::application_row(&x)),
        RecordKind::Courses => r.course(id)?.map(|x| crate::format::course_row(&x)),
    };
    Ok(row.map(|row| k.columns().iter().map(|(f, _)| *f).zip(row).collect()))
}

/// What one entry changed: for each changed record, every field that
/// differs, before and after side by side. The after value is the record as
/// the next entry to change it found it, or as it is now.
fn entry(r: &Reader, n: u64) -> Result<Sheet> {
    let Some(h) = r.audit_entry(n)? else {
        bail!("there is no audit entry #{n}; `casebook audit` lists them");
    };
    let h: serde_json::Value = serde_json::from_str(&h).unwrap_or_default();
    let changes = r.audit_changes(n)?;
    // The next before-image of each record changed here, from later entries.
    let mut after: BTreeMap<(String, String), Vec<u8>> = BTreeMap::new();
    let wanted: std::collections::BTreeSet<(String, String)> = changes
        .iter()
        .filter(|c| !c.before.is_empty())
        .map(|c| (c.kind.clone(), c.id.clone()))
        .collect();
    if !wanted.is_empty() {
        let last = r.last_audit()?.max(n);
        for m in n + 1..=last {
            for c in r.audit_changes(m)? {
                let key = (c.kind.clone(), c.id.clone());
                if wanted.contains(&key) && !after.contains_key(&key) && !c.before.is_empty() {
                    after.insert(key, c.before);
                }
            }
        }
    }
    let mut s = Sheet::new(
        &format!("entry {n}"),
        &["kind", "id", "action", "field", "before", "after"],
    );
    s.title = Some(format!(
        "#{n} {} by {}: {}",
        when_text(h["at"].as_str().unwrap_or("")),
        h["operator"].as_str().unwrap_or(""),
        h["command"].as_str().unwrap_or("")
    ));
    for c in &changes {
        let row = |field: &str, before: &str, after: &str| {
            vec![
                Cell::from(c.kind.as_str()),
                Cell::from(c.id.lines().collect::<Vec<_>>().join(" ")),
                Cell::from(c.action.as_str()),
                Cell::from(field),
                Cell::from(before),
                Cell::from(after),
            ]
        };
        let Some(old) = fields(&c.kind, &c.before) else {
            s.rows.push(row("", "", ""));
            continue;
        };
        let key = (c.kind.clone(), c.id.clone());
        let new = match after.get(&key) {
            Some(b) => fields(&c.kind, b),
            None => current(r, &c.kind, &c.id)?,
        };
        let mut any = false;
        for (i, (f, before)) in old.iter().enumerate() {
            let now = new.as_ref().map(|v| v[i].1.as_str()).unwrap_or("");
            if before != now {
                s.rows.push(row(f, before, now));
                any = true;
            }
        }
        if !any {
            s.rows.push(row("", "", ""));
        }
    }
    Ok(s)
}

/// The chain's head as stored, `N:HASH` (`verify` recomputes it).
fn head(ctx: &Context) -> Result<i32> {
    match open_read(&ctx.db)?.chain_head()? {
        Some((n, h)) => outln!("{n}:{h}"),
        None => anyhow::bail!("the audit log is empty: there is no head yet"),
    }
    Ok(exit::OK)
}
