//! `casebook audit`: the audit log, every change ever made.

use anyhow::{bail, Result};

use super::open_read;
use crate::cli::args::AuditArgs;
use crate::cli::{exit, Context};
use crate::model::RecordKind;

/// Lists the last entries, or with `--entry N` what one entry changed.
pub fn run(args: &AuditArgs, ctx: &Context) -> Result<i32> {
    match args.entry {
        Some(n) => entry(ctx, n),
        None => last(ctx, args.last),
    }
}

/// What one entry changed: every record, with its value before.
fn entry(ctx: &Context, n: u64) -> Result<i32> {
    let ledger = open_read(&ctx.db)?;
    let r = ledger.reader()?;
    let Some(h) = r.audit_entry(n)? else {
        bail!("there is no audit entry #{n}; `casebook audit` lists them");
    };
    outln!("#{n} {h}");
    for c in r.audit_changes(n)? {
        let before = describe_before(&c.kind, &c.before);
        match c.action.as_str() {
            "insert" => {
                let ids: Vec<&str> = c.id.lines().collect();
                outln!("  insert {} {}: {}", ids.len(), c.kind, ids.join(" "));
            }
            a => outln!(
                "  {a} {} {}{}",
                c.kind,
                c.id,
                before
                    .map(|b| format!("\n    before: {b}"))
                    .unwrap_or_default()
            ),
        }
    }
    Ok(exit::OK)
}

/// The headers of the last `last` entries, saying on stderr what it left out.
fn last(ctx: &Context, last: usize) -> Result<i32> {
    let ledger = open_read(&ctx.db)?;
    let entries = ledger.reader()?.audit()?;
    let skip = entries.len().saturating_sub(last);
    for (n, header) in &entries[skip..] {
        outln!("#{n} {}", crate::cli::local_time::shown_in_header(header));
    }
    if skip > 0 {
        eprintln!(
            "({skip} earlier {} not shown: --last {} shows them all)",
            if skip == 1 { "entry" } else { "entries" },
            entries.len()
        );
    }
    Ok(exit::OK)
}

/// A before-image from the audit log as one line of text.
fn describe_before(kind: &str, b: &[u8]) -> Option<String> {
    if b.is_empty() {
        return None;
    }
    let Some(kind) = RecordKind::from_audit_name(kind) else {
        return Some(String::from_utf8_lossy(b).into_owned());
    };
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
    Some(row.join(","))
}
