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
    if !r.dry_run && worth_compacting(grown_from, file_len(&ctx.db)) {
        compact_after(ledger, &ctx.db);
    }
    Ok(exit::OK)
}

/// Whether an import that took the file from `before` to `after` bytes
/// should compact it: when it grew the file by more than an eighth. A large
/// import leaves many pages free (its transaction frees pages it wrote), and
/// redb grows the file in steps; but a day's few rows into a province-sized
/// ledger that happen to need one more step are not worth rewriting
/// gigabytes for (`casebook compact` is there for a file that crept up).
fn worth_compacting(before: u64, after: u64) -> bool {
    after > before && (after - before) * 8 > before
}

/// Whether `unused` bytes of a file of `len` are worth a compaction: more
/// than a tenth. redb doubles a file of up to 4 GiB when it needs room, so
/// an import that grew it leaves anything from nothing to half of it free.
/// The ten-million-finding import leaves 7% (1.39 GB, 1.30 GB compacted),
/// the city's million 8% (143 MB, 131 MB): compacting them took 4 s and
/// 0.6 s (much longer while the kernel still writes the import out) to
/// take the file from 1.09x sqlite3's to 1.02x. At a tenth, a file stays
/// within about 1.11x what it holds.
fn much_unused(unused: u64, len: u64) -> bool {
    unused * 10 > len
}

/// Gives back the pages an import that grew the file left free (redb grows
/// the file in steps, and a large transaction frees many of the pages it
/// wrote), so that the file holds what it needs and little more, when more
/// than a tenth of it is unused ([`much_unused`]). The import
/// has committed: a reader elsewhere that keeps this from running (or a
/// writer that takes the file first) leaves it as it is, with a note.
fn compact_after(ledger: LedgerWriter, db: &std::path::Path) {
    match ledger.compact_if(std::time::Duration::ZERO, much_unused) {
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

#[cfg(test)]
mod tests {
    use super::{much_unused, worth_compacting};

    #[test]
    fn only_an_import_that_grew_the_file_much_compacts_it() {
        // The first import into a new ledger.
        assert!(worth_compacting(1 << 20, 300 << 20));
        // Unchanged or shrunk: nothing to give back.
        assert!(!worth_compacting(300 << 20, 300 << 20));
        assert!(!worth_compacting(300 << 20, 200 << 20));
        // One growth step of a 1.3 GB ledger for a few rows.
        assert!(!worth_compacting(1300 << 20, 1364 << 20));
        // A tenth of the city again.
        assert!(worth_compacting(1300 << 20, 1700 << 20));
    }

    #[test]
    fn only_a_file_a_tenth_unused_is_compacted() {
        // The province's findings: 1.39 GB, 94 MB unused.
        assert!(!much_unused(94 << 20, 1391 << 20));
        // A doubling that the import used a little of.
        assert!(much_unused(600 << 20, 1391 << 20));
        assert!(!much_unused(0, 0));
    }
}
