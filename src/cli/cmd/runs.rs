//! `casebook runs`: the decision log of saved scoring runs.

use anyhow::{bail, Result};

use super::open_read;
use crate::cli::args::{OutputArgs, RunsArgs, RunsCmd};
use crate::cli::exit::{self, Rendered};
use crate::cli::Context;
use crate::ledger::{Ledger, Reader};
use crate::script::RowFormat;
use crate::sheet::{Cell, OutFormat, Sheet};

/// Lists the saved runs, or shows one (`runs show`).
pub fn run(args: &RunsArgs, ctx: &Context) -> Result<i32> {
    let ledger = open_read(&ctx.db)?;
    let r = ledger.reader()?;
    match &args.cmd {
        None => list(&r, &args.out, ctx),
        Some(RunsCmd::Show {
            run,
            id,
            limit,
            out,
        }) => {
            drop(r);
            // `runs --format csv show 3` and `runs show 3 --format csv` alike.
            let out = OutputArgs {
                format: out.format.or(args.out.format),
                output: out.output.clone().or(args.out.output.clone()),
            };
            show(&ledger, *run, id.as_deref(), &out, *limit, ctx)
        }
    }
}

/// One line per saved run.
fn list(r: &Reader, out: &OutputArgs, ctx: &Context) -> Result<i32> {
    let cols: Vec<String> = [
        "run", "as of", "script", "sha256", "operator", "saved at", "grades",
    ]
    .map(String::from)
    .into();
    let rows: Vec<Vec<String>> = r
        .runs()?
        .iter()
        .map(|(n, h)| {
            vec![
                n.to_string(),
                h["as_of"].as_str().unwrap_or("").into(),
                h["script"].as_str().unwrap_or("").into(),
                h["script_sha256"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(12)
                    .collect(),
                h["operator"].as_str().unwrap_or("").into(),
                crate::cli::local_time::shown(h["at"].as_str().unwrap_or("")),
                h["grades"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(g, n)| format!("{g}:{n}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let file = out.file()?;
    if rows.is_empty() && file.is_none() && OutFormat::for_stdout(out.format)? == OutFormat::Table {
        outln!("no saved runs yet: `casebook score RULE --save` records one");
        return Ok(exit::OK);
    }
    let mut sheet = Sheet::from_text("runs", &cols, &rows);
    // The run's number is a number; the rest (a hash of digits too) stays text.
    for r in &mut sheet.rows {
        for c in r.iter_mut().skip(1) {
            if let Cell::Int(i) = c {
                *c = Cell::Text(i.to_string());
            }
        }
    }
    crate::sheet::emit(file.as_ref(), out.format, &ctx.db, &[sheet])?;
    Ok(exit::OK)
}

/// One saved run: its header on a terminal, then its decisions.
fn show(
    ledger: &Ledger,
    run: u64,
    id: Option<&str>,
    out: &OutputArgs,
    limit_rows: usize,
    ctx: &Context,
) -> Result<i32> {
    let (header, mut ds) = crate::decide::load_run(ledger, run).rendered()?;
    if let Some(id) = id {
        ds.retain(|d| d.id == id);
        if ds.is_empty() {
            bail!("run {run} has no decision for \"{id}\"");
        }
    }
    if let Some(o) = out.file()? {
        o.write_sheets(&ctx.db, &[crate::decide::decisions_sheet(&ds)], &[])?;
        eprintln!("wrote {}", o.path.display());
        return Ok(exit::OK);
    }
    let fmt = OutFormat::for_stdout(out.format)?
        .row_format()
        .expect("a text format");
    if fmt == RowFormat::Table {
        outln!(
            "run {run}: {} as of {} by {} at {} (sha256 {})",
            header["script"].as_str().unwrap_or(""),
            header["as_of"].as_str().unwrap_or(""),
            header["operator"].as_str().unwrap_or(""),
            crate::cli::local_time::shown(header["at"].as_str().unwrap_or("")),
            header["script_sha256"].as_str().unwrap_or("")
        );
    }
    let mut limit = usize::MAX;
    if fmt == RowFormat::Table {
        // As `score` shows them: the ones to look at first.
        ds.sort_by(|a, b| a.score.total_cmp(&b.score).then_with(|| a.id.cmp(&b.id)));
        limit = limit_rows;
    }
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    crate::decide::write_decisions(&mut w, fmt, &ds, limit)?;
    Ok(exit::OK)
}
