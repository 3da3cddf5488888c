//! `casebook import`: one file, one transaction.

use anyhow::Result;

use crate::cli::args::ImportArgs;
use crate::cli::{exit, Context};
use crate::import::{self, ImportOptions};
use crate::ledger::{busy_timeout, file_len, LedgerError, LedgerWriter};

/// Imports (or with `--dry-run` checks) a file and says what it changed.
pub fn run(args: &ImportArgs, ctx: &Context) -> Result<i32> {
    crate::alloc::return_memory_promptly();
    let workbook = args
        .file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| {
            ["xlsx", "xlsm", "xls"]
                .iter()
                .any(|w| e.eq_ignore_ascii_case(w))
        });
    if args.sheet.is_some() && !workbook {
        eprintln!("error: --sheet is for .xlsx and .xls files");
        return Ok(exit::USAGE);
    }
    let grown_from = file_len(&ctx.db);
    let ledger =
        LedgerWriter::open_write_cached(&ctx.db, busy_timeout(), import::cache_bytes(&ctx.db))?;
    let opts = ImportOptions {
        dry_run: args.dry_run,
        allow_shared_uscc: args.allow_shared_uscc,
        progress: true,
        operator: ctx.operator.clone(),
        sheet: args.sheet.clone(),
    };
    let r = import::import_file(&ledger, args.kind, &args.file, &opts)?;
    let c = r.counts;
    outln!(
        "{}{} {} rows from {} ({}): {} new, {} updated, {} unchanged{}",
        if r.dry_run { "checked " } else { "imported " },
        args.kind.as_str(),
        r.rows,
        args.file.display(),
        r.encoding,
        c.inserted,
        c.updated,
        c.unchanged,
        if r.dry_run {
            "; dry run, nothing written"
        } else {
            ""
        }
    );
    if !r.dry_run && file_len(&ctx.db) > grown_from {
        compact_after(ledger, &ctx.db);
    }
    Ok(exit::OK)
}

/// Gives back the pages an import that grew the file left free (redb grows
/// the file in steps, and a large transaction frees many of the pages it
/// wrote), so that the file holds what it needs and little more. The import
/// has committed: a reader elsewhere that keeps this from running (or a
/// writer that takes the file first) leaves it as it is, with a note.
fn compact_after(ledger: LedgerWriter, db: &std::path::Path) {
    match ledger.compact(std::time::Duration::ZERO) {
        Ok(_) => {}
        Err(LedgerError::ReadersBusy { .. } | LedgerError::Busy { .. }) => eprintln!(
            "note: {} was not compacted, as another process is using it; run `casebook compact` later to give its free pages back",
            db.display()
        ),
        Err(e) => eprintln!(
            "warning: the import is committed, but compacting {} failed: {e}",
            db.display()
        ),
    }
}
