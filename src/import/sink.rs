//! Staging parsed rows and writing them: the state an import carries from
//! row to row on the parsing thread (a [`Sink`]), the chunks it hands over,
//! and the writing thread that puts them into the ledger's transaction.

use std::path::Path;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

use super::errors::{RowError, RowErrors};
use super::parse::{parse_row, Rec};
use super::seen::SeenIds;
use super::uscc::UsccHolders;
use super::ImportError;
use crate::format::Row;
use crate::ledger::{Batch, InstitutionCheck, LedgerError, NewInstitutions, Spill, Stager, Tx};
use crate::model::RecordKind;
use crate::model::{FieldError, Institution};

/// Rows buffered before they are written in key order (bounded, so memory
/// stays flat: a staged finding is about 100 bytes, and at most three chunks
/// are alive, one parsing, one handed over, one writing). Larger chunks put
/// more rows into each B-tree page they touch: for a million findings,
/// 65,536 rows a chunk wrote in 1.78 s what 262,144 write in 1.42 s.
pub(super) const CHUNK: usize = 262_144;

/// What a chunk of keyed records may take however many rows it has:
/// 262,144 findings take 28 MB.
const CHUNK_BYTES: usize = 32 << 20;

/// What a chunk of institutions may take. Institutions are three times the
/// size of findings, and their B-tree gains less from long chunks: a million
/// new ones import as fast with 16 MB chunks as with 32 (2.25 s, 2.32 s) and
/// peak 46 MB lower (27 MB lower when they update ones the ledger holds).
const INSTITUTION_CHUNK_BYTES: usize = 16 << 20;

/// About what an institution the ledger holds takes while it waits to be
/// written: the record and its texts.
const PENDING_BYTES: usize = std::mem::size_of::<Institution>() + 256;

/// What a repeated id is told. Not "first on line N": a repeat found while
/// parsing is told the last line the id was on that is still in memory.
fn repeat_reason(earlier: u32) -> String {
    format!("repeats the id on line {earlier}: an id may appear once in a file")
}

/// Parsed rows on their way from the parsing thread to the writing one.
pub(super) enum Chunk {
    /// Institutions: new ones staged, and ones the ledger holds (whose
    /// status history the writer reads); each in id order.
    Institutions(NewInstitutions, Vec<Institution>),
    /// Records of a keyed kind (not institutions), checked and encoded, to
    /// be put in key order and their institutions checked (where the parser
    /// let that wait) on the writing thread: sorting was a quarter of the
    /// parser's time, which bounds an import's first part.
    Keyed(RecordKind, Batch, InstitutionCheck),
}

/// The state one import carries from row to row (on the parsing thread).
pub(super) struct Sink<'p> {
    /// Rows to gather before sending them (grows to [`CHUNK`]).
    chunk: usize,
    /// Institutions the ledger holds, checked and not yet sent.
    pending: Vec<Institution>,
    /// New institutions staged and not yet sent.
    fresh: NewInstitutions,
    /// The status history's reason for new institutions, and the audit entry.
    reason: &'p str,
    audit: u64,
    /// Keyed records checked and not yet sent.
    batch: Batch,
    /// Where full chunks go to be written; `None` once the writer has stopped.
    out: Option<SyncSender<Chunk>>,
    /// The rows of the chunks sent whose institution the ledger does not
    /// hold, as the writing thread finds them (see [`sort_chunk`]): taken
    /// at each send, so that at most a chunk or two of them wait.
    unknown: Option<Receiver<Unknown>>,
    districts: Vec<String>,
    pub(super) path: &'p Path,
    pub(super) kind: RecordKind,
    errors: RowErrors,
    seen: SeenIds,
    pub(super) rows: u64,
    /// Checks references and stages keyed records against the ledger as this
    /// import's transaction began; that snapshot also gives the fields a file
    /// leaves out.
    stager: Stager,
    /// Whether two institutions may share a USCC (`--allow-shared-uscc`).
    pub(super) allow_shared_uscc: bool,
    /// Each USCC and the institution holding it (with the line that gave it,
    /// 0 for the ledger): the ledger's, read at the first institution with
    /// one, and this file's.
    usccs: Option<UsccHolders>,
    /// About how many rows the file holds (an overestimate: 64 bytes a row).
    rows_hint: usize,
}

/// Rows of a chunk that name an institution the ledger does not hold: line, id, error.
type Unknown = Vec<(u64, String, FieldError)>;

impl<'p> Sink<'p> {
    /// A sink for a file of `kind` at `path` and the receiving end of the
    /// chunks it sends. `rows` is about how many rows the file holds.
    pub(super) fn new(
        kind: RecordKind,
        path: &'p Path,
        reason: &'p str,
        audit: u64,
        districts: Vec<String>,
        rows: usize,
        stager: Stager,
    ) -> (Self, Receiver<Chunk>) {
        let (send, chunks) = sync_channel::<Chunk>(0);
        let sink = Sink {
            chunk: 4096,
            pending: Vec::new(),
            fresh: NewInstitutions::default(),
            reason,
            audit,
            batch: Batch::default(),
            out: Some(send),
            unknown: None,
            districts,
            path,
            kind,
            errors: RowErrors::new(),
            // Sized for the file (rows of 64 bytes or more), not grown a million ids at a time.
            seen: SeenIds::with_capacity(rows),
            rows: 0,
            stager,
            allow_shared_uscc: false,
            usccs: None,
            rows_hint: rows,
        };
        (sink, chunks)
    }

    /// Every error of the file, once it has all been read: the rows' own,
    /// and the repeats of ids the parser had written out of memory.
    pub(super) fn into_errors(self) -> Result<RowErrors, ImportError> {
        // The writer may have met a repeat first (an id's index entry
        // written twice) and stopped; the rows' errors say better what is
        // wrong.
        let mut errors = self.errors;
        self.seen
            .finish(|r| {
                errors.push(RowError {
                    line: r.line.into(),
                    id: r.id.clone(),
                    field: "id".into(),
                    value: r.id,
                    reason: repeat_reason(r.first),
                })
            })
            .map_err(|err| ImportError::Temp {
                dir: std::env::temp_dir(),
                err,
            })?;
        Ok(errors)
    }
}

impl Sink<'_> {
    /// Adds a row's errors; `id` is the record's id as the row gives it.
    pub(super) fn push(&mut self, line: u64, id: &str, errs: Vec<FieldError>) {
        for e in errs {
            self.errors.push(RowError {
                line,
                id: id.to_string(),
                field: e.field.to_string(),
                value: e.value,
                reason: e.reason,
            });
        }
    }

    pub(super) fn row(&mut self, line: u64, row: &dyn Row) -> Result<(), LedgerError> {
        self.rows += 1;
        let id = row.get("id").unwrap_or("").trim();
        let mut twice = None;
        if !id.is_empty() {
            if let Some(first) = self.seen.first_line(id, line) {
                twice = Some(FieldError::new("id", id, repeat_reason(first)))
            }
        }
        // A repeated row is still checked, so all its problems are reported at once.
        let parsed = parse_row(self.kind, &row, &self.districts, self.stager.reader())?;
        let rec = match (parsed, twice) {
            (Ok(r), None) => r,
            (Ok(r), Some(t)) => {
                let mut errs = vec![t];
                errs.extend(r.validate(&self.districts));
                self.push(line, id, errs);
                return Ok(());
            }
            (Err(e), t) => {
                self.push(line, id, t.into_iter().chain(e).collect());
                return Ok(());
            }
        };
        self.batch.at_line(line);
        let staged = match rec {
            Rec::Institution(x) => {
                if let Some(e) = self.shared_uscc(&x, line)? {
                    self.push(line, id, vec![e]);
                    return Ok(());
                }
                if !self
                    .stager
                    .new_institution(&x, self.reason, self.audit, &mut self.fresh)?
                {
                    self.pending.push(x);
                }
                Ok(())
            }
            Rec::Inspection(x) => self.stager.inspection(&x, &mut self.batch)?,
            Rec::Finding(x) => self.stager.finding(&x, &mut self.batch)?,
            Rec::Application(x) => self.stager.application(&x, &mut self.batch)?,
            Rec::Course(x) => self.stager.course(&x, &mut self.batch)?,
        };
        if let Err(errs) = staged {
            self.push(line, id, errs);
        }
        let full = self.batch.len() >= self.chunk
            || self.batch.bytes() >= CHUNK_BYTES
            || self.pending.len() + self.fresh.len() >= self.chunk
            || self.fresh.bytes() + self.pending.len() * PENDING_BYTES >= INSTITUTION_CHUNK_BYTES;
        if full {
            self.send();
        }
        Ok(())
    }

    /// The error for an institution whose USCC another institution holds
    /// (in the ledger or earlier in the file), unless that is allowed.
    fn shared_uscc(
        &mut self,
        x: &Institution,
        line: u64,
    ) -> Result<Option<FieldError>, LedgerError> {
        let Some(u) = x.uscc.as_deref().filter(|_| !self.allow_shared_uscc) else {
            return Ok(None);
        };
        if self.usccs.is_none() {
            // Room for the ledger's codes and the file's (whose rows are
            // rarely under 128 bytes), so the map is not rebuilt as it grows.
            let held = self.stager.reader().counts()?.0 as usize;
            let mut m = UsccHolders::with_capacity(held + self.rows_hint / 2);
            for i in self.stager.reader().institutions()? {
                let i = i?;
                if let Some(c) = i.uscc {
                    m.claim(&c, &i.id, 0);
                }
            }
            self.usccs = Some(m);
        }
        let m = self.usccs.as_mut().expect("filled above");
        Ok(m.claim(u, &x.id, line).map(|(other, at)| {
            let whence = if at == 0 {
                "in the ledger".to_string()
            } else {
                format!("on line {at}")
            };
            FieldError::new(
                "uscc",
                u,
                format!(
                    "is already the USCC of {other} ({whence}), so {} and {other} would share it; a USCC identifies one legal entity, so this is nearly always a typo: correct it, or import with --allow-shared-uscc if they really share one (a branch)",
                    x.id
                ),
            )
        }))
    }

    /// Hands the pending rows to the writer. If the writer has stopped (it met
    /// a storage error, which it reports), the rows are dropped and parsing
    /// goes on only to finish reading.
    pub(super) fn send(&mut self) {
        // The writer waits for the first chunk, so the first are small: it
        // starts after a few thousand rows, not after 65,536.
        self.chunk = (self.chunk * 2).min(CHUNK);
        let chunk = match self.kind {
            RecordKind::Institutions => {
                let mut held = std::mem::take(&mut self.pending);
                held.sort_unstable_by(|a, b| a.id.cmp(&b.id));
                let mut fresh = self.fresh.take();
                fresh.sort();
                Chunk::Institutions(fresh, held)
            }
            k => {
                let next = self.batch.lengths();
                let batch = std::mem::replace(&mut self.batch, Batch::with_capacity(next));
                Chunk::Keyed(k, batch, self.stager.institution_check())
            }
        };
        if let Some(out) = &self.out {
            if out.send(chunk).is_err() {
                self.out = None;
            }
        }
        self.take_unknown();
    }

    /// Adds the errors the writing thread found in the chunks sent so far.
    fn take_unknown(&mut self) {
        let found: Vec<Unknown> = match &self.unknown {
            Some(r) => r.try_iter().collect(),
            None => return,
        };
        for (line, id, e) in found.into_iter().flatten() {
            self.push(line, &id, vec![e]);
        }
    }

    pub(super) fn header_error(&self, line: u64, message: String) -> ImportError {
        ImportError::Header {
            path: self.path.into(),
            line,
            message,
        }
    }
}

/// Puts a chunk of keyed records in key order and checks the institutions
/// the parser did not, telling the parser the rows that name none the
/// ledger holds.
fn sort_chunk(chunk: &mut Chunk, unknown: &Sender<Unknown>) {
    if let Chunk::Keyed(_, batch, check) = chunk {
        batch.sort();
        let found = check.unknown_institutions(batch);
        if !found.is_empty() {
            // The parser holds the receiver until this thread is done.
            let _ = unknown.send(found);
        }
    }
}

/// Writes one chunk, which the parsing thread checked and [`sort_chunk`]
/// put in key order (on the writing thread), or, with a `spill`, adds its
/// records to it as a run. Nothing here refuses a row: the checks ran before.
fn write_chunk(
    tx: &mut Tx<'_>,
    chunk: Chunk,
    reason: &str,
    spill: &mut Option<Spill>,
) -> Result<(), LedgerError> {
    match chunk {
        Chunk::Keyed(kind, batch, _) => match spill {
            Some(s) => tx.spill_batch(kind, &batch, s),
            None => tx.write_batch(kind, &batch),
        },
        Chunk::Institutions(fresh, held) => {
            tx.insert_new_institutions(&fresh)?;
            for x in &held {
                tx.upsert_valid_institution(x, reason)?;
            }
            Ok(())
        }
    }
}

/// Runs `read` on a parsing thread that fills `sink`, while this thread
/// writes the chunks it sends into `tx` (or, given a `spill`, their records
/// into it): the two halves of an import take about as long as each other.
/// Returns the sink once the file is read, and whether every chunk was written.
pub(super) fn parse_and_write<'p>(
    tx: &mut Tx<'_>,
    mut sink: Sink<'p>,
    chunks: Receiver<Chunk>,
    reason: &str,
    spill: &mut Option<Spill>,
    read: impl FnOnce(&mut Sink<'p>) -> Result<(), ImportError> + Send,
) -> (Result<Sink<'p>, ImportError>, Result<(), LedgerError>) {
    let (tell, told) = channel();
    sink.unknown = Some(told);
    std::thread::scope(|s| {
        // Named so that a profile or a debugger tells the threads apart.
        let parse = std::thread::Builder::new().name("import-parse".into());
        let parser = parse.spawn_scoped(s, move || -> Result<Sink, ImportError> {
            read(&mut sink)?;
            sink.send();
            sink.out = None;
            Ok(sink)
        });
        // As `s.spawn` does when the system has no thread to give.
        let parser = parser.expect("cannot start the parsing thread");
        let mut written = Ok(());
        for mut chunk in chunks.iter() {
            // Once a write failed, chunks are still checked, so that the
            // report names every bad row, but no longer written.
            sort_chunk(&mut chunk, &tell);
            if written.is_ok() {
                written = write_chunk(tx, chunk, reason, spill);
            }
        }
        let parsed = parser.join().expect("the parsing thread panicked");
        let parsed = parsed.map(|mut sink| {
            // What the last chunks gave, after the parser's last look.
            sink.take_unknown();
            sink.unknown = None;
            sink
        });
        (parsed, written)
    })
}

#[cfg(test)]
mod tests {
    use crate::import::{import_file, seen, ImportError};
    use crate::model::RecordKind;

    /// The writing thread checks the institutions the parser let wait, and
    /// goes on checking after a write failed: here the index entry of a
    /// repeated id the parser had written out of memory (so the writer
    /// meets it first), then three thousand rows of an institution the
    /// ledger does not hold in the chunk after. Every bad row is reported
    /// with its line, and nothing is written.
    #[test]
    fn rows_checked_on_the_writing_thread_are_reported_after_a_failed_write() {
        seen::TEST_LIMIT.set(64);
        let dir = tempfile::tempdir().unwrap();
        let (ledger, opts) = crate::import::tests::with_one_institution(dir.path());
        let row =
            |id: &str, inst: &str| format!("{id},{inst},fire_hazard,2,2019-01-01,2019-03-01\n");
        let mut text = String::from("id,institution_id,kind,severity,opened_on,deadline\n");
        // 4,096 institutions looked up and not found: the stager then reads
        // every institution, and lets later rows' checks wait for their chunk.
        for n in 0..4096 {
            text.push_str(&row(&format!("FX{n:04}"), &format!("GZ-X{n}")));
        }
        for n in 0..5000 {
            text.push_str(&row(&format!("F{n:05}"), "GZ-1"));
        }
        text.push_str(&row("F00000", "GZ-1"));
        for n in 5000..13_000 {
            text.push_str(&row(&format!("F{n:05}"), "GZ-1"));
        }
        for n in 13_000..16_000 {
            text.push_str(&row(&format!("F{n:05}"), "GZ-404"));
        }
        let f = dir.path().join("find.csv");
        std::fs::write(&f, text).unwrap();
        let r = import_file(&ledger, RecordKind::Findings, &f, &opts);
        let Err(ImportError::BadRows { errors, .. }) = r else {
            panic!("not refused: {r:?}");
        };
        let errors = errors.to_vec().unwrap();
        let field = |f: &str| errors.iter().filter(|e| e.field == f).count();
        assert_eq!(field("institution_id"), 4096 + 3000);
        assert_eq!(field("id"), 1);
        assert_eq!(errors.len(), 4096 + 3000 + 1);
        let late: Vec<u64> = errors
            .iter()
            .filter(|e| e.value == "GZ-404")
            .map(|e| e.line)
            .collect();
        assert_eq!(
            late,
            (4096 + 5000 + 8000 + 3..4096 + 5000 + 8000 + 3003).collect::<Vec<u64>>()
        );
        assert_eq!(ledger.reader().unwrap().counts().unwrap(), (1, 0, 0));
    }
}
