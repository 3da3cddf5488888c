//! `-o/--output FILE`: the format from the file's extension unless
//! `--format` names one, the file written beside its target under a hidden
//! temporary name, synced, then renamed over it, so a reader never sees half
//! a file. A ledger is never replaced (the check `run --out` uses).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use super::{OutFormat, Sheet};
use crate::script::writes::{is_ledger, write_synced};

/// Where a command's data goes with `-o`, and in which format.
#[derive(Debug, Clone)]
pub struct Output {
    pub path: PathBuf,
    pub format: OutFormat,
}

impl Output {
    /// The output for `-o path`, `--format` taking precedence over the
    /// extension; `None` without `-o`.
    pub fn new(path: Option<&Path>, asked: Option<OutFormat>) -> Result<Option<Output>> {
        let Some(path) = path else {
            return Ok(None);
        };
        let format = match asked.or_else(|| OutFormat::from_path(path)) {
            Some(f) => f,
            None => bail!(
                "cannot tell the format of {} from its name: end it in .csv, .jsonl, .json, .xlsx, .parquet or .html, or give --format",
                path.display()
            ),
        };
        Ok(Some(Output {
            path: path.to_path_buf(),
            format,
        }))
    }

    /// Writes sheets (and, on an HTML page, charts) to the file.
    pub fn write_sheets(&self, db: &Path, sheets: &[Sheet], charts: &[String]) -> Result<()> {
        match self.format {
            OutFormat::Xlsx => {
                replace(&self.path, db, |tmp| super::xlsx::write_sheets(tmp, sheets))
            }
            OutFormat::Parquet => {
                let [sheet] = sheets else {
                    bail!(
                        "a .parquet file holds one table and this command gives {}: use .xlsx or .json",
                        sheets.len()
                    );
                };
                replace(&self.path, db, |tmp| {
                    super::parquet::write_sheet(tmp, sheet)
                })
            }
            OutFormat::Html => {
                let title = self
                    .path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("report")
                    .to_string();
                let page = super::html::page(&title, sheets, charts);
                replace_with(&self.path, db, |w| w.write_all(page.as_bytes()))
            }
            fmt => replace_with(&self.path, db, |w| super::write_text(w, fmt, sheets)),
        }
    }
}

/// The file `path` would replace is the ledger (by content or by name).
fn refuse_ledger(path: &Path, db: &Path) -> Result<()> {
    let same = matches!((path.canonicalize(), db.canonicalize()), (Ok(a), Ok(b)) if a == b);
    if same || is_ledger(path) {
        bail!(
            "refusing to write {}: it is a casebook ledger, and -o never replaces one; choose another file",
            path.display()
        );
    }
    Ok(())
}

/// Writes `path` by `f` writing a temporary file beside it, which is synced
/// and renamed over `path`; on failure the temporary is removed.
pub fn replace(path: &Path, db: &Path, f: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    refuse_ledger(path, db)?;
    let tmp = crate::script::writes::temporary_beside(path);
    let done = f(&tmp).and_then(|()| {
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// [`replace`] for a writer of bytes.
pub fn replace_with(
    path: &Path,
    db: &Path,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    replace(path, db, |tmp| {
        write_synced(tmp, f).with_context(|| format!("cannot write {}", path.display()))
    })
}
