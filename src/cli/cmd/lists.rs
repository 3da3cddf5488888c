//! `casebook lists`: black and white lists, their names and members.

use anyhow::Result;

use super::open_read;
use crate::cli::args::{as_of, ListsArgs, ListsCmd};
use crate::cli::{exit, Context};
use crate::ledger::{ListEntry, Reader};

/// Counts each list's members, or shows one list (`lists show`).
pub fn run(args: &ListsArgs, ctx: &Context) -> Result<i32> {
    let ledger = open_read(&ctx.db)?;
    let r = ledger.reader()?;
    let entries = r.list_entries("")?;
    match &args.cmd {
        None => counts(&entries, &args.as_of),
        Some(ListsCmd::Show {
            name,
            as_of: a,
            history,
            out,
        }) => show(&r, &entries, name, a, *history, out, ctx),
    }
}

/// One line per list: who is on it on the date, and how long its history is.
fn counts(entries: &[ListEntry], when: &Option<String>) -> Result<i32> {
    let today = as_of(when)?;
    let mut names: Vec<&str> = entries.iter().map(|e| e.list.as_str()).collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        outln!("no lists yet: scripts add entries with list_add(NAME, ID, REASON) under --write");
    }
    for n in names {
        let on = entries
            .iter()
            .filter(|e| e.list == n && e.on(today))
            .count();
        let ever = entries.iter().filter(|e| e.list == n).count();
        let when_text = match when {
            None => "today".to_string(),
            Some(_) => format!("on {today}"),
        };
        outln!("{n}: {on} on the list {when_text}, {ever} entries in its history");
    }
    Ok(exit::OK)
}

/// Who was on one list on a date (or ever, with `--history`), with who decided.
fn show(
    r: &Reader,
    entries: &[ListEntry],
    name: &str,
    a: &Option<String>,
    history: bool,
    out: &crate::cli::args::OutputArgs,
    ctx: &Context,
) -> Result<i32> {
    if !entries.iter().any(|e| e.list == name) {
        let mut names: Vec<&str> = entries.iter().map(|e| e.list.as_str()).collect();
        names.sort();
        names.dedup();
        eprintln!(
            "error: no list \"{name}\"; the lists are: {}",
            if names.is_empty() {
                "(none yet)".to_string()
            } else {
                names.join(", ")
            }
        );
        return Ok(exit::DATA);
    }
    let d = as_of(a)?;
    let cols: Vec<String> = [
        "id",
        "name",
        "district",
        "since",
        "until",
        "reason",
        "why it ended",
        "decided by",
        "operator",
        "owner",
    ]
    .map(String::from)
    .into();
    let mut rows = Vec::new();
    // One run adds many entries under one audit entry: each is read once.
    let mut decided_by = std::collections::HashMap::new();
    for e in entries
        .iter()
        .filter(|e| e.list == name && (history || e.on(d)))
    {
        if let std::collections::hash_map::Entry::Vacant(v) = decided_by.entry(e.audit) {
            v.insert(by(r, e.audit)?);
        }
        rows.push(row(r, e, &decided_by[&e.audit])?);
    }
    let mut sheet = crate::sheet::Sheet::from_text(name, &cols, &rows);
    sheet.title = Some(format!(
        "{name} as of {d}: {} {}",
        rows.len(),
        if history {
            "entries (with history)"
        } else {
            "on the list"
        }
    ));
    // Dates as dates in a workbook or a Parquet file.
    for r in &mut sheet.rows {
        for c in &mut r[3..5] {
            if let crate::sheet::Cell::Text(t) = c {
                if let Ok(d) = crate::model::parse_date(t) {
                    *c = crate::sheet::Cell::Date(d);
                }
            }
        }
    }
    crate::sheet::emit(out.file()?.as_ref(), out.format, &ctx.db, &[sheet])?;
    Ok(exit::OK)
}

/// The command (and script) that audit entry `n` records.
fn by(r: &Reader, n: u64) -> Result<String> {
    Ok(r.audit_entry(n)?
        .map(|h| {
            let v: serde_json::Value = serde_json::from_str(&h).unwrap_or_default();
            let cmd = v["command"].as_str().unwrap_or("").to_string();
            let sha: String = v["script_sha256"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(12)
                .collect();
            if sha.is_empty() {
                cmd
            } else {
                format!("{cmd} ({sha})")
            }
        })
        .unwrap_or_default())
}

/// One entry's row, naming the command (and script) that decided it.
fn row(r: &Reader, e: &ListEntry, by: &str) -> Result<Vec<String>> {
    let x = r.institution(&e.institution_id)?;
    Ok(vec![
        e.institution_id.clone(),
        x.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
        x.as_ref().map(|x| x.district.clone()).unwrap_or_default(),
        crate::model::fmt_date(e.added),
        e.removed.map(crate::model::fmt_date).unwrap_or_default(),
        e.reason.clone(),
        e.removed_reason.clone().unwrap_or_default(),
        by.to_string(),
        e.operator.clone(),
        match &e.removed_by {
            Some(r) => format!(
                "{} (taken off by {r})",
                crate::ledger::Owner::describe(e.owner.as_ref())
            ),
            None => crate::ledger::Owner::describe(e.owner.as_ref()),
        },
    ])
}
