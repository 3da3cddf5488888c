//! The state of one script run, shared by the engine, the API, the parallel
//! map and the output: the ledger snapshot it reads, the limits it runs
//! under, and what it collects (rows, columns, queued writes, files).
//!
//! This module depends on no other part of the script host: everything else
//! uses it, so it is where a run's data lives.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rhai::{Dynamic, Map};

use crate::ledger::{FindingCursor, ListEntry, Owner, Reader};
use crate::model::{parse_date, Finding, Status};

/// Limits a script runs under. Every one is named in the error that hits it.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock limit (`--timeout`).
    pub timeout: Duration,
    /// Operations limit (`--max-operations`), 0 for none.
    pub max_operations: u64,
    pub max_call_depth: usize,
    pub max_expr_depth: usize,
    /// Heap limit in bytes (`--max-memory`, MiB on the command line).
    pub max_memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(60),
            max_operations: 0,
            max_call_depth: 64,
            max_expr_depth: 128,
            max_memory: 2048 << 20,
        }
    }
}

/// The ledger as one run sees it: a consistent snapshot and the as-of date.
pub struct Snapshot {
    /// Shared by the per-thread copies of one snapshot (see [`Snapshot::for_worker`]).
    pub reader: Arc<Reader>,
    pub as_of: NaiveDate,
    /// Saved runs with an as-of date on or before this one, newest first (read once, on first use).
    pub runs: OnceLock<Vec<(u64, NaiveDate)>>,
    lists: OnceLock<HashMap<String, Vec<ListEntry>>>,
    /// While a worker runs over a batch of institutions: one walk over their
    /// findings that `inst.findings()` takes from instead of a range scan each.
    pub cursor: Mutex<Option<FindingCursor>>,
}

impl Snapshot {
    /// A snapshot of `reader` as of `as_of`.
    pub fn new(reader: Reader, as_of: NaiveDate) -> Snapshot {
        Snapshot {
            reader: Arc::new(reader),
            as_of,
            runs: OnceLock::new(),
            lists: OnceLock::new(),
            cursor: Mutex::new(None),
        }
    }

    /// The same snapshot behind a handle of the worker thread's own: every record
    /// carries a handle, and two threads counting references on one handle for
    /// every record fight over its cache line.
    pub fn for_worker(&self) -> Arc<Snapshot> {
        Arc::new(Snapshot {
            reader: self.reader.clone(),
            as_of: self.as_of,
            runs: OnceLock::new(),
            lists: OnceLock::new(),
            cursor: Mutex::new(None),
        })
    }

    /// Every list entry by institution, read once per snapshot: `inst.lists()`
    /// in a loop over every institution would otherwise read every list each time.
    pub fn list_index(&self) -> &HashMap<String, Vec<ListEntry>> {
        self.lists.get_or_init(|| {
            let mut m: HashMap<String, Vec<ListEntry>> = HashMap::new();
            for e in self.reader.list_entries("").unwrap_or_default() {
                m.entry(e.institution_id.clone()).or_default().push(e);
            }
            m
        })
    }

    /// Saved runs on or before the as-of date, newest first.
    pub fn past_runs(&self) -> &[(u64, NaiveDate)] {
        self.runs.get_or_init(|| {
            let mut v: Vec<(u64, NaiveDate)> = self
                .reader
                .runs()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(n, h)| Some((n, parse_date(h["as_of"].as_str()?).ok()?)))
                .filter(|(_, d)| *d <= self.as_of)
                .collect();
            v.sort_by_key(|r| std::cmp::Reverse((r.1, r.0)));
            v
        })
    }
}

/// A change a script asked for; applied in one transaction when the script ends without error.
#[derive(Debug, Clone)]
pub enum WriteOp {
    SetStatus {
        id: String,
        status: Status,
        reason: String,
    },
    OpenFinding(Finding),
    Rectify(String),
    CloseOut(String),
    ListAdd {
        list: String,
        id: String,
        reason: String,
        /// Who the entry will belong to (the run's rule, or the REPL's person).
        owner: Owner,
    },
    ListRemove {
        list: String,
        id: String,
        reason: String,
        /// Who takes it off.
        by: Owner,
        /// Whether the entry may be another owner's (`list_remove_other`).
        other: bool,
    },
    Approve {
        id: String,
        licence_no: String,
        expires: NaiveDate,
        reason: String,
    },
    RejectApplication {
        id: String,
        reason: String,
    },
    DecideCourse {
        id: String,
        accept: bool,
        reason: String,
    },
    /// A rendered notice: written under `--out` and recorded in the notice register at commit.
    Notice {
        id: String,
        kind: String,
        dir: PathBuf,
        name: String,
        text: String,
    },
}

/// What a run collects: emitted rows, explicit columns, queued writes.
#[derive(Default)]
pub struct Output {
    pub rows: Rows,
    pub columns: Option<Vec<String>>,
    /// The queued writes, in the order they were made. Only [`Output::queue`]
    /// adds to them, so that [`Output::queued`] stays their index.
    pub writes: Vec<WriteOp>,
    /// What the queued writes say about one list entry, finding or notice, so
    /// that a write call checks the queue with a lookup, not a scan: a run that
    /// lists 100,000 institutions made 100,000 scans of a growing queue.
    pub queued: QueuedIndex,
    /// Pages rendered by `publish`: (directory, file name, text), written when the script succeeds.
    pub files: Vec<(PathBuf, String, String)>,
    /// Applications and courses decided in this run ("app:ID", "course:ID"): a
    /// set, because a nightly run decides hundreds of thousands and a scan of
    /// the queue per decision would be quadratic.
    pub decided: HashSet<String>,
    /// Whether `columns` was set by emitting a record first (not by `columns()`),
    /// so a parallel map's merge applies it only where a sequential run would.
    pub columns_from_emit: bool,
    /// Charts drawn by `chart(…)`, as SVG, in the order asked: a report
    /// page (`run -o FILE.html`) shows them above the rows.
    pub charts: Vec<String>,
    /// Write calls that asked for what already holds (an institution already
    /// on the list, a status it already has): one line each, never queued.
    pub unchanged: Vec<String>,
}

/// An index of the queued writes (see [`Output::queue`]).
#[derive(Default)]
pub struct QueuedIndex {
    /// Whether the latest queued add or remove leaves an id on a list: (list, id).
    pub on_list: HashMap<(String, String), bool>,
    /// Notices queued: (institution id, kind).
    pub notices: HashSet<(String, String)>,
    /// Findings queued by `open_finding`: id → position in the queue.
    pub opened: HashMap<String, usize>,
    /// Findings queued for `rectify`.
    pub rectified: HashSet<String>,
    /// Findings queued for `close_out`.
    pub closed: HashSet<String>,
    /// The status the latest queued `set_status` gives an institution.
    pub status: HashMap<String, Status>,
    /// For each `F<date>` prefix, the number below which every finding id
    /// is taken (in the ledger or the queue): where the next search starts.
    pub finding_floor: HashMap<String, u32>,
}

impl Output {
    /// Queues a write and indexes it.
    pub fn queue(&mut self, w: WriteOp) {
        let q = &mut self.queued;
        match &w {
            WriteOp::ListAdd { list, id, .. } => {
                q.on_list.insert((list.clone(), id.clone()), true);
            }
            WriteOp::ListRemove { list, id, .. } => {
                q.on_list.insert((list.clone(), id.clone()), false);
            }
            WriteOp::Notice { id, kind, .. } => {
                q.notices.insert((id.clone(), kind.clone()));
            }
            WriteOp::OpenFinding(f) => {
                q.opened.insert(f.id.clone(), self.writes.len());
            }
            WriteOp::Rectify(id) => {
                q.rectified.insert(id.clone());
            }
            WriteOp::CloseOut(id) => {
                q.closed.insert(id.clone());
            }
            WriteOp::SetStatus { id, status, .. } => {
                q.status.insert(id.clone(), *status);
            }
            _ => {}
        }
        self.writes.push(w);
    }

    /// The finding `open_finding` queued under `id`, if any.
    pub fn opened_finding(&self, id: &str) -> Option<&Finding> {
        match self.writes.get(*self.queued.opened.get(id)?) {
            Some(WriteOp::OpenFinding(f)) => Some(f),
            _ => None,
        }
    }
}

/// State shared by the functions registered on one engine.
pub struct Host {
    /// The snapshot new reads use; the REPL swaps it when the date changes or the ledger moves on.
    pub snap: RwLock<Arc<Snapshot>>,
    pub out: Mutex<Output>,
    /// Whether write functions are allowed (`--write`, `--dry-run`, or `:write on|preview`).
    pub write: AtomicBool,
    /// Whether the writes are only previewed (`--dry-run`, `:write preview`):
    /// validated and listed, never committed.
    pub dry_run: AtomicBool,
    /// Who list entries this run adds belong to, and whose it may take off.
    pub owner: RwLock<Owner>,
    /// Script arguments (`--arg K=V`), as strings.
    pub args: Map,
    /// The script being run, so that worker threads can call its functions.
    pub ast: RwLock<Option<Arc<rhai::AST>>>,
    /// Its compiled functions, which every engine built for this run registers.
    pub compiled: RwLock<Option<Arc<crate::script::compile::Lib>>>,
    /// The limits, and the stop flag and clock the progress callback reads (shared with workers).
    pub limits: Limits,
    pub cancel: Arc<AtomicBool>,
    pub started: Arc<Mutex<Instant>>,
    /// In a worker thread, `print` output waits here to be printed in order.
    pub prints: Option<Mutex<Vec<String>>>,
    /// Reasons recorded by `deduct` during the current `score` call.
    pub trace: Mutex<Vec<(f64, String)>>,
    /// Where notices are rendered from and written to (set with `--out`).
    pub notices: Option<crate::notice::NoticeCfg>,
    /// The institution `institution(id)` found last, with the snapshot it was
    /// read from: courses and findings come grouped by institution, so a loop
    /// asking each for its institution asks for the same one several times in a row.
    pub(super) last_inst: Mutex<Option<(Arc<super::records::ScriptInstitution>, Arc<Snapshot>)>>,
    /// Where rows go as they are emitted, when the run streams them
    /// (`super::stream`); never in a worker, whose rows are merged in order.
    pub stream: Mutex<Option<super::stream::RowStream>>,
}

impl Host {
    /// A host over `snap` with nothing emitted yet.
    pub fn new(snap: Arc<Snapshot>, args: Map, write: bool, limits: Limits) -> Host {
        Host {
            snap: RwLock::new(snap),
            out: Mutex::new(Output::default()),
            write: AtomicBool::new(write),
            dry_run: AtomicBool::new(false),
            owner: RwLock::new(Owner::Person {
                name: "unknown".into(),
            }),
            args,
            ast: RwLock::new(None),
            compiled: RwLock::new(None),
            limits,
            cancel: Arc::new(AtomicBool::new(false)),
            started: Arc::new(Mutex::new(Instant::now())),
            prints: None,
            trace: Mutex::new(Vec::new()),
            notices: None,
            last_inst: Mutex::new(None),
            stream: Mutex::new(None),
        }
    }

    /// A host for a worker thread: same snapshot, script, limits and stop flag;
    /// its own output and printed lines, merged back in order by the caller.
    pub fn worker(&self) -> Host {
        Host {
            snap: RwLock::new(self.snap()),
            out: Mutex::new(Output::default()),
            write: AtomicBool::new(self.write.load(Ordering::Relaxed)),
            dry_run: AtomicBool::new(self.dry_run.load(Ordering::Relaxed)),
            owner: RwLock::new(self.owner()),
            args: self.args.clone(),
            ast: RwLock::new(self.ast.read().unwrap().clone()),
            compiled: RwLock::new(self.compiled.read().unwrap().clone()),
            limits: self.limits.clone(),
            cancel: self.cancel.clone(),
            started: self.started.clone(),
            prints: Some(Mutex::new(Vec::new())),
            trace: Mutex::new(Vec::new()),
            notices: self.notices.clone(),
            last_inst: Mutex::new(None),
            stream: Mutex::new(None),
        }
    }

    /// Who this run's list entries belong to.
    pub fn owner(&self) -> Owner {
        self.owner.read().unwrap().clone()
    }

    /// The current snapshot.
    pub fn snap(&self) -> Arc<Snapshot> {
        self.snap.read().unwrap().clone()
    }

    /// Makes new reads use `snap`, and lets go of records held from the old one
    /// (which would keep its read transaction open).
    pub fn set_snap(&self, snap: Arc<Snapshot>) {
        *self.snap.write().unwrap() = snap;
        *self.last_inst.lock().unwrap() = None;
    }
}

/// Emitted rows, held compactly until the run succeeds: each row is its values
/// in the order of `keys`, not a map of its own. A course check keeps
/// hundreds of thousands of twelve-column rows, and a Rhai map per row cost
/// 2.5 KB (970 MiB for the benchmark's 378,947 rows).
#[derive(Default, Debug, Clone)]
pub struct Rows {
    /// Every key seen, the first row's first, then new ones as they appear.
    pub(super) keys: Vec<String>,
    /// How many of `keys` the first row has.
    pub(super) first_len: usize,
    data: Vec<Row>,
}

/// One row: its cells, and the text its [`Cell::Text`] cells are slices of.
#[derive(Debug, Clone)]
struct Row {
    cells: Box<[Cell]>,
    text: String,
}

/// One cell of a row. A record's text or date read by `emit(#{…})` is kept
/// as plain text or a date (see [`NewRow`]): a script string or a boxed
/// date per cell was an allocation made on the script's thread and freed on
/// the writing one, several per row.
#[derive(Debug, Clone)]
enum Cell {
    /// A script value.
    Val(Dynamic),
    /// A text, as the byte range `start..start + len` of the row's `text`.
    Text(usize, usize),
    /// A text that lives as long as the program (an enumerated code).
    Static(&'static str),
    /// A date.
    Date(NaiveDate),
}

/// A cell as its readers see it: a script value, or what stands for a
/// script string or date (written exactly as that value would be).
#[derive(Debug, Clone, Copy)]
pub enum CellRef<'a> {
    /// A script value.
    Val(&'a Dynamic),
    /// A text, as a script string holding it.
    Text(&'a str),
    /// A date, as a script date holding it.
    Date(NaiveDate),
}

/// A row being filled by compiled code's `emit(#{…})`, its cells in the
/// order of the keys it will be pushed with ([`Rows::push_row`]): one
/// allocation for the cells and one for all its texts.
pub struct NewRow {
    cells: Vec<Cell>,
    text: String,
}

impl NewRow {
    /// A row of `n` cells, each `()` until set, with room for `text` bytes
    /// of text (what the previous row of the same `emit` held).
    pub fn new(n: usize, text: usize) -> NewRow {
        let mut cells = Vec::with_capacity(n);
        cells.extend(std::iter::repeat_with(|| Cell::Val(Dynamic::UNIT)).take(n));
        NewRow {
            cells,
            text: String::with_capacity(text),
        }
    }

    /// The bytes of text its cells hold.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Cell `i` holds `v`.
    pub fn set(&mut self, i: usize, v: Dynamic) {
        self.cells[i] = Cell::Val(v);
    }

    /// Cell `i` holds the text `s` (written as a script string holding it).
    pub fn set_text(&mut self, i: usize, s: &str) {
        let start = self.text.len();
        self.text.push_str(s);
        self.cells[i] = Cell::Text(start, s.len());
    }

    /// Cell `i` holds the text `s` that lives as long as the program.
    pub fn set_static(&mut self, i: usize, s: &'static str) {
        self.cells[i] = Cell::Static(s);
    }

    /// Cell `i` holds the date `d` (written as a script date holding it).
    pub fn set_date(&mut self, i: usize, d: NaiveDate) {
        self.cells[i] = Cell::Date(d);
    }
}

impl Rows {
    fn key_index(&mut self, k: &str) -> usize {
        match self.keys.iter().position(|c| c == k) {
            Some(i) => i,
            None => {
                self.keys.push(k.to_string());
                self.keys.len() - 1
            }
        }
    }

    /// Adds a row.
    pub fn push(&mut self, m: Map) {
        self.push_pairs(m)
    }

    /// Adds a row given as its keys and values, in the map's (sorted) key
    /// order: what [`Rows::push`] does with a map, without the map.
    pub fn push_pairs<K: AsRef<str>>(&mut self, m: impl IntoIterator<Item = (K, Dynamic)>) {
        let mut vals: Vec<Cell> = Vec::with_capacity(self.keys.len());
        vals.extend(std::iter::repeat_with(|| Cell::Val(Dynamic::UNIT)).take(self.keys.len()));
        for (n, (k, v)) in m.into_iter().enumerate() {
            // Rows of one `emit` have the same keys in the same order: the
            // key at the pair's own place is tried first.
            let k = k.as_ref();
            let i = match self.keys.get(n) {
                Some(c) if c == k => n,
                _ => self.key_index(k),
            };
            if i >= vals.len() {
                vals.resize(i + 1, Cell::Val(Dynamic::UNIT));
            }
            vals[i] = Cell::Val(v);
        }
        self.push_cells(vals.into_boxed_slice(), String::new());
    }

    /// Adds `row`, whose cells are for `keys` (the map's sorted key order),
    /// as [`Rows::push_pairs`] adds the same keys and values.
    pub fn push_row<K: AsRef<str>>(&mut self, keys: &[K], mut row: NewRow) {
        // Room reserved for a longer row's text is given back where the
        // allocator would move it (more than half unused): rows kept to the
        // end of a run (`--write`) hold little more than their text.
        if row.text.capacity() > 2 * row.text.len() + 64 {
            row.text.shrink_to_fit();
        }
        let same = keys.len() == self.keys.len()
            && keys.iter().zip(&self.keys).all(|(k, c)| k.as_ref() == c);
        if same {
            return self.push_cells(row.cells.into_boxed_slice(), row.text);
        }
        let at: Vec<usize> = keys.iter().map(|k| self.key_index(k.as_ref())).collect();
        let mut vals = vec![Cell::Val(Dynamic::UNIT); self.keys.len()];
        for (c, i) in row.cells.into_iter().zip(at) {
            vals[i] = c;
        }
        self.push_cells(vals.into_boxed_slice(), row.text);
    }

    fn push_cells(&mut self, cells: Box<[Cell]>, text: String) {
        if self.data.is_empty() {
            self.first_len = self.keys.len();
        }
        self.data.push(Row { cells, text });
    }

    /// Adds `other`'s rows after these.
    pub fn append(&mut self, other: Rows) {
        if self.data.is_empty() && self.keys.is_empty() {
            *self = other;
            return;
        }
        let to: Vec<usize> = other.keys.iter().map(|k| self.key_index(k)).collect();
        // The same keys in the same order (a parallel map's batches): a row
        // as long as the keys moves as it is, without a copy.
        let same = to.iter().enumerate().all(|(j, &i)| i == j);
        for row in other.data {
            if same && row.cells.len() == self.keys.len() {
                self.push_cells(row.cells, row.text);
                continue;
            }
            let mut vals = vec![Cell::Val(Dynamic::UNIT); self.keys.len()];
            for (j, v) in row.cells.into_vec().into_iter().enumerate() {
                vals[to[j]] = v;
            }
            self.push_cells(vals.into_boxed_slice(), row.text);
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row `r`'s value under `key` (a key the row lacks reads as `()`, as in a map).
    pub fn get(&self, r: usize, key: &str) -> Option<CellRef<'_>> {
        let i = self.keys.iter().position(|c| c == key)?;
        self.cell_in(r, i)
    }

    /// Row `r`'s cell `i`, `()` where it has none.
    fn cell(&self, r: usize, i: usize) -> CellRef<'_> {
        self.cell_in(r, i).unwrap_or(CellRef::Val(&UNIT))
    }

    /// Row `r`'s cell `i`, if the row is that long.
    pub(super) fn cell_in(&self, r: usize, i: usize) -> Option<CellRef<'_>> {
        let row = &self.data[r];
        Some(match row.cells.get(i)? {
            Cell::Val(v) => CellRef::Val(v),
            &Cell::Text(start, len) => CellRef::Text(&row.text[start..start + len]),
            Cell::Static(s) => CellRef::Text(s),
            &Cell::Date(d) => CellRef::Date(d),
        })
    }

    /// The values of row `r` for `cols`, `()` where it has none.
    pub(super) fn values<'a>(
        &'a self,
        r: usize,
        cols: &'a [usize],
    ) -> impl Iterator<Item = CellRef<'a>> + 'a {
        cols.iter().map(move |&i| self.cell(r, i))
    }

    /// Where each of `cols` is among the keys (`usize::MAX` for a column no row has).
    pub(super) fn positions(&self, cols: &[String]) -> Vec<usize> {
        cols.iter()
            .map(|c| self.keys.iter().position(|k| k == c).unwrap_or(usize::MAX))
            .collect()
    }

    /// The first row's keys, in map order.
    pub(super) fn first_keys(&self) -> &[String] {
        &self.keys[..self.first_len]
    }
}

static UNIT: Dynamic = Dynamic::UNIT;

impl FromIterator<Map> for Rows {
    fn from_iter<I: IntoIterator<Item = Map>>(it: I) -> Rows {
        let mut rows = Rows::default();
        for m in it {
            rows.push(m);
        }
        rows
    }
}
