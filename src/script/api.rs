//! The script API of SPEC §5: record types, dates, collections and functions.
//!
//! Records reach scripts as registered custom types with getters, not as maps
//! built per record: a getter computes one field when the script asks for it.
//! Every record carries the as-of date of the run that produced it, so derived
//! fields (`status`, `overdue`, `licensed`) are computed for that date and
//! never from a global.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{Datelike, Duration, NaiveDate};
use rhai::{
    Array, Dynamic, Engine, EvalAltResult, FnPtr, ImmutableString, Map, NativeCallContext,
    Position, INT,
};

use crate::ledger::{LedgerError, Reader};
use crate::model::*;

/// The ledger as one run sees it: a consistent snapshot and the as-of date.
pub struct Snapshot {
    /// Shared by the per-thread copies of one snapshot (see [`Snapshot::for_worker`]).
    pub reader: Arc<Reader>,
    pub as_of: NaiveDate,
    /// Saved runs with an as-of date on or before this one, newest first (read once, on first use).
    pub runs: std::sync::OnceLock<Vec<(u64, NaiveDate)>>,
    lists: std::sync::OnceLock<HashMap<String, Vec<crate::ledger::ListEntry>>>,
    /// While a worker runs over a batch of institutions: one walk over their
    /// findings that `inst.findings()` takes from instead of a range scan each.
    pub cursor: Mutex<Option<crate::ledger::FindingCursor>>,
}

impl Snapshot {
    /// A snapshot of `reader` as of `as_of`.
    pub fn new(reader: Reader, as_of: NaiveDate) -> Snapshot {
        Snapshot {
            reader: Arc::new(reader),
            as_of,
            runs: std::sync::OnceLock::new(),
            lists: std::sync::OnceLock::new(),
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
            runs: std::sync::OnceLock::new(),
            lists: std::sync::OnceLock::new(),
            cursor: Mutex::new(None),
        })
    }

    /// Every list entry by institution, read once per snapshot: `inst.lists()`
    /// in a loop over every institution would otherwise read every list each time.
    pub fn list_index(&self) -> &HashMap<String, Vec<crate::ledger::ListEntry>> {
        self.lists.get_or_init(|| {
            let mut m: HashMap<String, Vec<crate::ledger::ListEntry>> = HashMap::new();
            for e in self.reader.list_entries("").unwrap_or_default() {
                m.entry(e.institution_id.clone()).or_default().push(e);
            }
            m
        })
    }

    fn past_runs(&self) -> &[(u64, NaiveDate)] {
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
    },
    ListRemove {
        list: String,
        id: String,
        reason: String,
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
        dir: std::path::PathBuf,
        name: String,
        text: String,
    },
}

/// What a run collects: emitted rows, explicit columns, queued writes.
#[derive(Default)]
pub struct Output {
    pub rows: super::output::Rows,
    pub columns: Option<Vec<String>>,
    pub writes: Vec<WriteOp>,
    /// Pages rendered by `publish`: (directory, file name, text), written when the script succeeds.
    pub files: Vec<(std::path::PathBuf, String, String)>,
    /// Applications and courses decided in this run ("app:ID", "course:ID"): a
    /// set, because a nightly run decides hundreds of thousands and a scan of
    /// the queue per decision would be quadratic.
    pub decided: std::collections::HashSet<String>,
    /// Whether `columns` was set by emitting a record first (not by `columns()`),
    /// so a parallel map's merge applies it only where a sequential run would.
    pub columns_from_emit: bool,
}

/// State shared by the functions registered on one engine.
pub struct Host {
    /// The snapshot new reads use; the REPL swaps it when the date changes or the ledger moves on.
    pub snap: RwLock<Arc<Snapshot>>,
    pub out: Mutex<Output>,
    /// Whether write functions are allowed (`--write`, or `:write on`).
    pub write: std::sync::atomic::AtomicBool,
    /// Script arguments (`--arg K=V`), as strings.
    pub args: Map,
    /// The script being run, so that worker threads can call its functions.
    pub ast: RwLock<Option<Arc<rhai::AST>>>,
    /// The limits, and the stop flag and clock the progress callback reads (shared with workers).
    pub limits: super::host::Limits,
    pub cancel: Arc<std::sync::atomic::AtomicBool>,
    pub started: Arc<Mutex<std::time::Instant>>,
    /// In a worker thread, `print` output waits here to be printed in order.
    pub prints: Option<Mutex<Vec<String>>>,
    /// Reasons recorded by `deduct` during the current `score` call.
    pub trace: Mutex<Vec<(f64, String)>>,
    /// Under `casebook test`: the scratch ledger fixture helpers write to.
    pub fixture: Option<Arc<crate::ledger::Ledger>>,
    /// Where notices are rendered from and written to (set with `--out`).
    pub notices: Option<crate::notice::NoticeCfg>,
    /// The institution `institution(id)` found last: courses and findings come
    /// grouped by institution, so a loop asking each for its institution asks
    /// for the same one several times in a row.
    last_inst: Mutex<Option<Inst>>,
}

impl Host {
    /// A host over `snap` with nothing emitted yet.
    pub fn new(snap: Arc<Snapshot>, args: Map, write: bool, limits: super::host::Limits) -> Host {
        Host {
            snap: RwLock::new(snap),
            out: Mutex::new(Output::default()),
            write: std::sync::atomic::AtomicBool::new(write),
            args,
            ast: RwLock::new(None),
            limits,
            cancel: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            started: Arc::new(Mutex::new(std::time::Instant::now())),
            prints: None,
            trace: Mutex::new(Vec::new()),
            fixture: None,
            notices: None,
            last_inst: Mutex::new(None),
        }
    }

    /// A host for a worker thread: same snapshot, script, limits and stop flag;
    /// its own output and printed lines, merged back in order by the caller.
    pub fn worker(&self) -> Host {
        Host {
            snap: RwLock::new(self.snap()),
            out: Mutex::new(Output::default()),
            write: std::sync::atomic::AtomicBool::new(
                self.write.load(std::sync::atomic::Ordering::Relaxed),
            ),
            args: self.args.clone(),
            ast: RwLock::new(self.ast.read().unwrap().clone()),
            limits: self.limits.clone(),
            cancel: self.cancel.clone(),
            started: self.started.clone(),
            prints: Some(Mutex::new(Vec::new())),
            trace: Mutex::new(Vec::new()),
            fixture: None,
            notices: self.notices.clone(),
            last_inst: Mutex::new(None),
        }
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

/// A date in scripts: ISO when printed, compared with dates only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

/// An institution as of a date.
#[derive(Clone)]
pub struct Inst {
    pub x: Arc<Institution>,
    pub snap: Arc<Snapshot>,
}

/// A finding as of a date.
///
/// Its dates, kind and severity are decoded; its texts (id, institution,
/// inspection, note) stay in the encoded bytes until a script asks for one.
/// The bytes of all the findings one scan reads share one buffer, so a finding
/// costs no allocation of its own beyond its script value: the credit rule
/// reads a million findings and not one of their texts.
#[derive(Clone)]
pub struct Find {
    pub core: FindingCore,
    raw: Arc<Vec<u8>>,
    at: (u32, u32),
    pub as_of: NaiveDate,
}

impl Find {
    /// A finding held in memory (a fixture, a notice) as the script sees it on `as_of`.
    pub fn new(f: &Finding, as_of: NaiveDate) -> Find {
        let raw = crate::codec::encode_finding(f);
        let n = raw.len() as u32;
        Find {
            core: f.core(),
            raw: Arc::new(raw),
            at: (0, n),
            as_of,
        }
    }

    /// A finding from its encoded bytes `raw[at]` (a whole record, as the ledger's walks hand them out).
    fn stored(
        raw: &Arc<Vec<u8>>,
        at: (usize, usize),
        as_of: NaiveDate,
    ) -> Result<Find, LedgerError> {
        let core = crate::codec::decode_finding_core(&raw[at.0..at.1])?;
        Ok(Find {
            core,
            raw: raw.clone(),
            at: (at.0 as u32, at.1 as u32),
            as_of,
        })
    }

    fn bytes(&self) -> &[u8] {
        &self.raw[self.at.0 as usize..self.at.1 as usize]
    }

    fn text(&self, tag: u8) -> Option<String> {
        crate::codec::text_field(self.bytes(), tag)
    }

    /// The finding's id.
    pub fn id(&self) -> String {
        self.text(1).unwrap_or_default()
    }

    /// The id of the institution the finding belongs to.
    pub fn institution_id(&self) -> String {
        self.text(2).unwrap_or_default()
    }
}

/// An inspection.
#[derive(Clone)]
pub struct Insp {
    pub i: Arc<Inspection>,
}

/// A licence application.
#[derive(Clone)]
pub struct App {
    pub a: Arc<Application>,
    pub as_of: NaiveDate,
}

/// A course filing.
#[derive(Clone)]
pub struct Crs {
    pub c: Arc<Course>,
}

/// Application properties.
pub const APPLICATION_PROPS: &[(&str, &str)] = &[
    ("id", "application id"),
    ("institution_id", "institution's ledger number"),
    ("submitted_on", "date submitted"),
    ("site_area_m2", "site area in m² (float)"),
    ("fire_approved", "fire-safety acceptance passed (bool)"),
    ("teachers", "number of teachers"),
    ("qualified_teachers", "teachers holding a qualification"),
    (
        "status",
        "\"submitted\", \"approved\" or \"rejected\" on the as-of date",
    ),
    ("decided_on", "date decided, or ()"),
    ("decision_reason", "reasons of the decision"),
    ("licence_no", "licence number issued, or ()"),
    ("licence_expires", "licence expiry date, or ()"),
];

/// Course filing properties.
pub const COURSE_PROPS: &[(&str, &str)] = &[
    ("id", "course id"),
    ("institution_id", "institution's ledger number"),
    ("name", "course name"),
    ("subject", "subject, e.g. 数学"),
    ("subject_type", "\"subject\" or \"non_subject\""),
    ("grade", "grade, e.g. 小学三年级"),
    ("mode", "\"offline\" or \"online\""),
    ("class_hours", "class hours"),
    ("fee_total", "total fee, yuan (float)"),
    ("prepay_months", "months paid in advance"),
    ("starts_on", "first day"),
    ("ends_on", "last day"),
    ("daily_end_time", "\"HH:MM\" the last class of a day ends"),
    (
        "end_minutes",
        "daily_end_time as minutes after midnight (20:30 is 1230)",
    ),
    ("filed_on", "date filed"),
    ("status", "\"filed\", \"accepted\" or \"rejected\""),
    ("decision_reason", "reasons of the decision"),
];

fn app_prop(x: &App, k: usize) -> Dynamic {
    let a = &x.a;
    // A decision after the as-of date has not happened yet.
    let decided = a.decided_on.is_some_and(|d| d <= x.as_of);
    match k {
        0 => a.id.clone().into(),
        1 => a.institution_id.clone().into(),
        2 => Dynamic::from(Date(a.submitted_on)),
        3 => a.site_area_m2.into(),
        4 => a.fire_approved.into(),
        5 => (a.teachers as INT).into(),
        6 => (a.qualified_teachers as INT).into(),
        7 => sym(if decided {
            a.status.as_str()
        } else {
            "submitted"
        }),
        8 => {
            if decided {
                opt_date(a.decided_on)
            } else {
                Dynamic::UNIT
            }
        }
        9 => {
            if decided {
                a.decision_reason.clone().into()
            } else {
                "".into()
            }
        }
        10 => {
            if decided {
                opt_str(&a.licence_no)
            } else {
                Dynamic::UNIT
            }
        }
        11 => {
            if decided {
                opt_date(a.licence_expires)
            } else {
                Dynamic::UNIT
            }
        }
        _ => Dynamic::UNIT,
    }
}

fn course_prop(x: &Crs, k: usize) -> Dynamic {
    let c = &x.c;
    match k {
        0 => c.id.clone().into(),
        1 => c.institution_id.clone().into(),
        2 => c.name.clone().into(),
        3 => c.subject.clone().into(),
        4 => sym(c.subject_type.as_str()),
        5 => c.grade.clone().into(),
        6 => sym(c.mode.as_str()),
        7 => (c.class_hours as INT).into(),
        8 => c.fee_yuan().into(),
        9 => (c.prepay_months as INT).into(),
        10 => Dynamic::from(Date(c.starts_on)),
        11 => Dynamic::from(Date(c.ends_on)),
        12 => fmt_hhmm(c.daily_end_min).into(),
        13 => (c.daily_end_min as INT).into(),
        14 => Dynamic::from(Date(c.filed_on)),
        15 => sym(c.status.as_str()),
        16 => c.decision_reason.clone().into(),
        _ => Dynamic::UNIT,
    }
}

/// Which records a lazy collection walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecKind {
    Institutions,
    Inspections,
    Findings,
    Applications,
    Courses,
}

/// `institutions()`, `inspections()`, `findings()`, `applications()`,
/// `courses()`: walked lazily from the ledger, so a script over a million
/// findings never holds them all.
#[derive(Clone)]
pub struct Records {
    pub kind: RecKind,
    pub snap: Arc<Snapshot>,
}

/// Property names of each record type with a one-line description: the one
/// list used by getters, `:help`, completion and `casebook check`.
pub const INSTITUTION_PROPS: &[(&str, &str)] = &[
    ("id", "ledger number"),
    ("name", "name (机构名称)"),
    ("uscc", "unified social credit code, or ()"),
    ("district", "district (所属区)"),
    ("street", "street or town (街镇)"),
    ("address", "address"),
    ("category", "\"subject\" or \"non_subject\""),
    ("licence_no", "school-running licence number, or ()"),
    ("licence_issued", "licence issue date, or ()"),
    ("licence_expires", "licence expiry date, or ()"),
    ("organizer", "organizer (举办者)"),
    ("students", "number of students"),
    ("teachers", "number of teachers"),
    (
        "qualified_teachers",
        "teachers holding a teacher qualification",
    ),
    ("area_m2", "teaching area in m² (float)"),
    ("prepaid_balance", "prepaid fees held, yuan (float)"),
    ("fire_approved", "fire-safety acceptance passed (bool)"),
    (
        "status",
        "status in force on the as-of date, or () if none yet",
    ),
    ("status_date", "date the status in force took effect, or ()"),
    ("licensed", "licence valid on the as-of date (bool)"),
];

/// Finding properties.
pub const FINDING_PROPS: &[(&str, &str)] = &[
    ("id", "finding id"),
    ("institution_id", "institution's ledger number"),
    ("inspection_id", "inspection that found it, or ()"),
    ("kind", "kind of problem, e.g. \"fire_hazard\""),
    ("severity", "1 (minor) to 3 (serious)"),
    ("opened_on", "date found"),
    ("deadline", "rectification deadline"),
    (
        "rectified_on",
        "date reported fixed, or () (also () if after the as-of date)",
    ),
    (
        "verified_on",
        "date closed out (销号), or () (also () if after the as-of date)",
    ),
    ("note", "note"),
    (
        "status",
        "\"open\", \"rectified\" or \"closed\" on the as-of date",
    ),
    (
        "overdue",
        "not closed and past its deadline on the as-of date (bool)",
    ),
    ("days_overdue", "days past the deadline if overdue, else 0"),
];

/// Inspection properties.
pub const INSPECTION_PROPS: &[(&str, &str)] = &[
    ("id", "inspection id"),
    ("institution_id", "institution's ledger number"),
    ("date", "date of the visit"),
    ("operation", "campaign name, or ()"),
    (
        "departments",
        "array of departments, e.g. [\"education\", \"fire\"]",
    ),
    ("inspectors", "number of inspectors (人次)"),
    ("note", "note"),
];

thread_local! {
    // FxHash: the key is a pointer, and this runs for every enum property read.
    static SYMS: std::cell::RefCell<rustc_hash::FxHashMap<usize, ImmutableString>> = Default::default();
}

/// A shared string for a `'static` name, so enum getters do not allocate.
fn sym(s: &'static str) -> Dynamic {
    SYMS.with(|m| {
        m.borrow_mut()
            .entry(s.as_ptr() as usize ^ (s.len() << 48))
            .or_insert_with(|| ImmutableString::from(s))
            .clone()
            .into()
    })
}

fn opt_str(s: &Option<String>) -> Dynamic {
    match s {
        Some(s) => s.clone().into(),
        None => Dynamic::UNIT,
    }
}

fn opt_date(d: Option<NaiveDate>) -> Dynamic {
    match d {
        Some(d) => Dynamic::from(Date(d)),
        None => Dynamic::UNIT,
    }
}

/// One institution property by index into [`INSTITUTION_PROPS`].
fn inst_prop(i: &Inst, k: usize) -> Dynamic {
    let x = &i.x;
    let d = i.snap.as_of;
    match k {
        0 => x.id.clone().into(),
        1 => x.name.clone().into(),
        2 => opt_str(&x.uscc),
        3 => x.district.clone().into(),
        4 => x.street.clone().into(),
        5 => x.address.clone().into(),
        6 => sym(x.category.as_str()),
        7 => match licence_entry(i) {
            Some((no, _, _)) => no.into(),
            None => Dynamic::UNIT,
        },
        8 => opt_date(licence_entry(i).map(|l| l.1)),
        9 => opt_date(licence_entry(i).and_then(|l| l.2)),
        10 => x.organizer.clone().into(),
        11 => (x.students as INT).into(),
        12 => (x.teachers as INT).into(),
        13 => (x.qualified_teachers as INT).into(),
        14 => x.area_m2.into(),
        15 => x.prepaid_yuan().into(),
        16 => x.fire_approved.into(),
        17 => match status_entry(i) {
            Some((_, s)) => sym(s.as_str()),
            None => Dynamic::UNIT,
        },
        18 => match status_entry(i) {
            Some((dt, _)) => Dynamic::from(Date(dt)),
            None => Dynamic::UNIT,
        },
        // The current licence answers for dates since it was issued; an earlier
        // date looks in the licence history (renewals keep the old licence there).
        19 => {
            if x.licence_issued.is_none_or(|i| i <= d) {
                x.licensed(d).into()
            } else {
                licence_entry(i)
                    .is_some_and(|(no, _, exp)| !no.is_empty() && exp.is_some_and(|e| e >= d))
                    .into()
            }
        }
        _ => Dynamic::UNIT,
    }
}

/// The licence held on the snapshot's date, if any.
fn licence_entry(i: &Inst) -> Option<(String, NaiveDate, Option<NaiveDate>)> {
    let d = i.snap.as_of;
    i.x.licence_issued?;
    i.snap.reader.licence_as_of(&i.x, d).ok().flatten()
}

/// The status in force on the snapshot's date and the date it took effect.
fn status_entry(i: &Inst) -> Option<(NaiveDate, Status)> {
    let d = i.snap.as_of;
    if i.x.status_date <= d {
        return Some((i.x.status_date, i.x.status));
    }
    let hist = i.snap.reader.status_history(&i.x.id).ok()?;
    hist.into_iter()
        .rev()
        .find(|c| c.date <= d)
        .map(|c| (c.date, c.status))
}

/// One finding property by index into [`FINDING_PROPS`].
fn find_prop(f: &Find, k: usize) -> Dynamic {
    let x = &f.core;
    let d = f.as_of;
    let upto = |v: Option<NaiveDate>| opt_date(v.filter(|v| *v <= d));
    match k {
        0 => f.id().into(),
        1 => f.institution_id().into(),
        2 => opt_str(&f.text(3)),
        3 => sym(x.kind.as_str()),
        4 => (x.severity as INT).into(),
        5 => Dynamic::from(Date(x.opened_on)),
        6 => Dynamic::from(Date(x.deadline)),
        7 => upto(x.rectified_on),
        8 => upto(x.verified_on),
        9 => f.text(10).unwrap_or_default().into(),
        10 => sym(x.status(d).as_str()),
        11 => x.overdue(d).into(),
        12 => (if x.overdue(d) {
            (d - x.deadline).num_days()
        } else {
            0
        } as INT)
            .into(),
        _ => Dynamic::UNIT,
    }
}

/// One inspection property by index into [`INSPECTION_PROPS`].
fn insp_prop(i: &Insp, k: usize) -> Dynamic {
    let x = &i.i;
    match k {
        0 => x.id.clone().into(),
        1 => x.institution_id.clone().into(),
        2 => Dynamic::from(Date(x.date)),
        3 => opt_str(&x.operation),
        4 => x
            .departments
            .iter()
            .map(|d| sym(d.as_str()))
            .collect::<Array>()
            .into(),
        5 => (x.inspectors as INT).into(),
        6 => x.note.clone().into(),
        _ => Dynamic::UNIT,
    }
}

/// A property of any record or map by name (for `group_by`, `sum_by`, tables); `None` if it has none.
pub fn prop(v: &Dynamic, name: &str) -> Option<Dynamic> {
    if let Some(i) = v.read_lock::<Inst>() {
        let k = INSTITUTION_PROPS.iter().position(|(n, _)| *n == name)?;
        return Some(inst_prop(&i, k));
    }
    if let Some(f) = v.read_lock::<Find>() {
        let k = FINDING_PROPS.iter().position(|(n, _)| *n == name)?;
        return Some(find_prop(&f, k));
    }
    if let Some(i) = v.read_lock::<Insp>() {
        let k = INSPECTION_PROPS.iter().position(|(n, _)| *n == name)?;
        return Some(insp_prop(&i, k));
    }
    if let Some(a) = v.read_lock::<App>() {
        let k = APPLICATION_PROPS.iter().position(|(n, _)| *n == name)?;
        return Some(app_prop(&a, k));
    }
    if let Some(c) = v.read_lock::<Crs>() {
        let k = COURSE_PROPS.iter().position(|(n, _)| *n == name)?;
        return Some(course_prop(&c, k));
    }
    if let Some(m) = v.read_lock::<Map>() {
        return m.get(name).cloned();
    }
    None
}

/// The property names of a record, for tables and field lists; `None` for other values.
pub fn record_props(v: &Dynamic) -> Option<&'static [(&'static str, &'static str)]> {
    if v.is::<Inst>() {
        Some(INSTITUTION_PROPS)
    } else if v.is::<Find>() {
        Some(FINDING_PROPS)
    } else if v.is::<Insp>() {
        Some(INSPECTION_PROPS)
    } else if v.is::<App>() {
        Some(APPLICATION_PROPS)
    } else if v.is::<Crs>() {
        Some(COURSE_PROPS)
    } else {
        None
    }
}

type RResult<T> = Result<T, Box<EvalAltResult>>;

fn err<T>(msg: impl Into<String>) -> RResult<T> {
    Err(Box::new(EvalAltResult::ErrorRuntime(
        msg.into().into(),
        Position::NONE,
    )))
}

fn ledger_err(e: LedgerError) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        format!("ledger: {e}").into(),
        Position::NONE,
    ))
}

impl Records {
    /// Every record, in ledger order, as script values.
    pub fn iter(&self) -> Box<dyn Iterator<Item = RResult<Dynamic>> + '_> {
        let snap = self.snap.clone();
        let d = snap.as_of;
        match self.kind {
            RecKind::Institutions => match self.snap.reader.institutions() {
                Ok(it) => Box::new(it.map(move |r| {
                    r.map(|x| {
                        Dynamic::from(Inst {
                            x: Arc::new(x),
                            snap: snap.clone(),
                        })
                    })
                    .map_err(ledger_err)
                })),
                Err(e) => Box::new(std::iter::once(Err(ledger_err(e)))),
            },
            RecKind::Findings => match self.snap.reader.findings_raw() {
                Ok(it) => Box::new(it.filter_map(move |r| {
                    let f = r.and_then(|raw| {
                        let n = raw.len();
                        Find::stored(&Arc::new(raw), (0, n), d)
                    });
                    match f {
                        Ok(f) if f.core.visible(d) => Some(Ok(Dynamic::from(f))),
                        Ok(_) => None,
                        Err(e) => Some(Err(ledger_err(e))),
                    }
                })),
                Err(e) => Box::new(std::iter::once(Err(ledger_err(e)))),
            },
            RecKind::Inspections => match self.snap.reader.inspections() {
                Ok(it) => Box::new(it.filter_map(move |r| match r {
                    Ok(i) if i.date <= d => Some(Ok(Dynamic::from(Insp { i: Arc::new(i) }))),
                    Ok(_) => None,
                    Err(e) => Some(Err(ledger_err(e))),
                })),
                Err(e) => Box::new(std::iter::once(Err(ledger_err(e)))),
            },
            // Applications are few (one per licence request), so they are read at once.
            RecKind::Applications => match self.snap.reader.applications() {
                Ok(v) => Box::new(v.into_iter().filter(move |a| a.submitted_on <= d).map(
                    move |a| {
                        Ok(Dynamic::from(App {
                            a: Arc::new(a),
                            as_of: d,
                        }))
                    },
                )),
                Err(e) => Box::new(std::iter::once(Err(ledger_err(e)))),
            },
            RecKind::Courses => match self.snap.reader.courses() {
                Ok(it) => Box::new(it.filter_map(move |r| match r {
                    Ok(c) if c.filed_on <= d => Some(Ok(Dynamic::from(Crs { c: Arc::new(c) }))),
                    Ok(_) => None,
                    Err(e) => Some(Err(ledger_err(e))),
                })),
                Err(e) => Box::new(std::iter::once(Err(ledger_err(e)))),
            },
        }
    }
}

/// The `for` loop over a collection walks it lazily.
pub struct RecordsIter {
    // The iterator borrows the snapshot's tables, which live as long as this Arc.
    _keep: Box<Records>,
    it: Box<dyn Iterator<Item = RResult<Dynamic>>>,
}

impl Iterator for RecordsIter {
    type Item = RResult<Dynamic>;
    fn next(&mut self) -> Option<Self::Item> {
        self.it.next()
    }
}

impl IntoIterator for Records {
    type Item = RResult<Dynamic>;
    type IntoIter = RecordsIter;
    fn into_iter(self) -> RecordsIter {
        let keep = Box::new(self);
        // SAFETY: the iterator borrows `*keep`, a heap allocation owned by the
        // returned value and never moved or dropped before the iterator (field order).
        let r: &'static Records = unsafe { &*(keep.as_ref() as *const Records) };
        RecordsIter {
            it: r.iter(),
            _keep: keep,
        }
    }
}

fn call_bool(ctx: &NativeCallContext, f: &FnPtr, v: Dynamic) -> RResult<bool> {
    let r: Dynamic = f.call_within_context(ctx, (v,))?;
    r.as_bool().or_else(|_| {
        err(format!(
            "the function passed to filter must return true or false, not {}",
            type_name(&r)
        ))
    })
}

/// The plain-words name of a value's type, for error messages.
pub fn type_name(v: &Dynamic) -> String {
    let n = v.type_name();
    friendly_type(n).to_string()
}

/// Maps Rust/Rhai type names to the words scripts use.
pub fn friendly_type(n: &str) -> &str {
    match n {
        "i64" | "int" => "a number",
        "f64" | "float" => "a decimal number",
        "string" | "ImmutableString" | "&str" | "&str | ImmutableString | String" => "a string",
        "bool" => "true/false",
        "()" => "nothing (())",
        "array" => "an array",
        "map" => "a map",
        _ if n.ends_with("Date") || n == "date" => "a date",
        _ if n.ends_with("Inst") || n == "institution" => "an institution",
        _ if n.ends_with("Find") || n == "finding" => "a finding",
        _ if n.ends_with("Insp") || n == "inspection" => "an inspection",
        _ if n.ends_with("::App") || n == "application" => "a licence application",
        _ if n.ends_with("::Crs") || n == "course" => "a course filing",
        _ if n.ends_with("Records") || n == "records" => "a collection of records",
        _ => n,
    }
}

/// Names, signatures, descriptions and examples of the script functions: the
/// text of `:help`, and the list `casebook check` knows.
pub const FUNCTIONS: &[(&str, &str, &str, &str)] = &[
    ("institutions", "institutions()", "every institution, closed ones included (lazy; for, filter, map, len)", "institutions().filter(|i| i.district == \"天河\").len()"),
    ("institution", "institution(id)", "one institution, or () if unknown", "institution(\"GZ-TH-00001\").name"),
    ("inspections", "inspections()", "every inspection dated on or before the as-of date", "inspections().len()"),
    ("findings", "findings()", "every finding opened on or before the as-of date", "findings().filter(|f| f.overdue).len()"),
    ("districts", "districts()", "the ledger's configured districts", "districts()"),
    ("as_of", "as_of()", "the date the script sees the ledger as of", "as_of() - 7"),
    ("date", "date(\"YYYY-MM-DD\")", "a date from ISO text", "date(\"2019-02-20\") + 30"),
    ("emit", "emit(map)", "add one row to the result", "emit(#{id: i.id, name: i.name})"),
    ("columns", "columns([names])", "fix the order of result columns", "columns([\"id\", \"name\"])"),
    ("count_by", "count_by(items, \"prop\")", "map of property value → count", "count_by(findings(), \"kind\")"),
    ("sum_by", "sum_by(items, \"prop\")", "sum of a numeric property", "sum_by(institutions(), \"students\")"),
    ("group_by", "group_by(items, \"prop\")", "map of property value → array of items", "group_by(institutions(), \"district\")"),
    ("sort_by_key", "array.sort_by_key(key) / array.sort_by_key(key, \"desc\")", "sort in place by a property, several properties, or a function's result (ties keep their order)", "v.sort_by_key([\"filed_on\", \"id\"])"),
    ("can_write", "can_write()", "whether this run may change the ledger (--write; in the REPL, :write on)", "if can_write() { accept_course(c.id) }"),
    ("sum", "sum(array)", "sum of numbers", "sum([1, 2, 3])"),
    ("yuan", "yuan(amount)", "money as text with thousands separators", "yuan(1234567.5)  // \"1,234,567.50\""),
    ("fmt_num", "fmt_num(number, decimals)", "a number as text with thousands separators", "fmt_num(12345, 0)  // \"12,345\""),
    ("pct", "pct(part, whole)", "percentage text with one decimal", "pct(3, 8)  // \"37.5%\""),
    ("to_array", "records.to_array()", "a lazy collection as an array (to sort it, for example)", "findings().to_array()"),
    ("status_history", "inst.status_history()", "array of #{date, status, reason}, oldest first", "institution(\"GZ-1\").status_history()"),
    ("lists", "inst.lists()", "names of the lists the institution is on as of the date", "i.lists().contains(\"blacklist\")"),
    ("institution", "finding.institution()", "the institution a finding belongs to", "f.institution().name"),
    ("add_months", "add_months(date, n)", "the date n calendar months later (or earlier if n < 0)", "add_months(as_of(), -1)"),
    ("is_empty", "records.is_empty()", "whether a collection has no records as of the date", "findings().is_empty()"),
    ("join", "join(array, separator)", "array items as one text", "join([\"a\", \"b\"], \"、\")"),
    ("deduct", "deduct(points, reason)", "in fn score: record why points are lost; returns the points", "s -= deduct(20, \"无证办学\");"),
    ("last_grade", "inst.last_grade()", "grade in the latest saved scoring run on or before the date, or ()", "i.last_grade() == \"D\""),
    ("past_grades", "inst.past_grades()", "saved grades newest first: #{run, as_of, grade, score}", "i.past_grades().len()"),
    ("notice", "notice(kind, inst, data)", "(--write --out) render templates/KIND.txt.j2 for an institution, file it under --out and record it; false if already issued today", "notice(\"overdue_reminder\", i, #{})"),
    ("notices_sent", "notices_sent(inst, kind, since)", "how many notices of a kind the institution got from `since` to the as-of date", "notices_sent(i, \"overdue_reminder\", as_of() - 7) == 0"),
    ("applications", "applications() / inst.applications()", "licence applications submitted on or before the date", "applications().filter(|a| a.status == \"submitted\")"),
    ("courses", "courses() / inst.courses()", "course filings filed on or before the date", "courses().filter(|c| c.end_minutes > 1230)"),
    ("approve", "approve(app_id, licence_no, expires)", "(--write) approve a submitted application: the institution's licence runs from the as-of date", "approve(\"A2019-001\", \"教民144010620190001号\", as_of() + 3 * 365)"),
    ("reject", "reject(app_id, reasons)", "(--write) reject a submitted application with reasons (text or array)", "reject(\"A2019-002\", [\"场地面积不足\"])"),
    ("accept_course", "accept_course(course_id)", "(--write) accept a filed course", "accept_course(\"C1\")"),
    ("reject_course", "reject_course(course_id, reasons)", "(--write) reject a filed course with reasons", "reject_course(\"C1\", \"下课时间晚于20:30\")"),
    ("on_list", "on_list(name)", "ids on a named list as of the date", "on_list(\"blacklist\").len()"),
    ("list_entries", "list_entries(name)", "entries on a named list as of the date: #{id, since, reason, operator}", "list_entries(\"whitelist\")"),
    ("publish", "publish(template, file, data)", "(--out) render templates/TEMPLATE.j2 with data into --out/FILE, e.g. a page", "publish(\"lists_page.html\", \"lists.html\", #{districts: []})"),
    ("set_status", "set_status(id, status, reason)", "(--write) change an institution's status from the as-of date", "set_status(\"GZ-1\", \"closed\", \"无证办学\")"),
    ("open_finding", "open_finding(map)", "(--write) record a new finding; returns its id", "open_finding(#{institution_id: \"GZ-1\", kind: \"fire_hazard\", severity: 2, deadline: as_of() + 15})"),
    ("rectify", "rectify(finding_id)", "(--write) mark a finding rectified on the as-of date", "rectify(\"F2018-000001\")"),
    ("close_out", "close_out(finding_id)", "(--write) close out (销号) a rectified finding on the as-of date", "close_out(\"F2018-000001\")"),
    ("list_add", "list_add(list, id, reason)", "(--write) put an institution on a named list", "list_add(\"blacklist\", \"GZ-1\", \"无证办学\")"),
    ("list_remove", "list_remove(list, id, reason)", "(--write) take an institution off a named list", "list_remove(\"blacklist\", \"GZ-1\", \"整改完成\")"),
];

fn collect(ctx: &NativeCallContext, v: Dynamic) -> RResult<Vec<Dynamic>> {
    let _ = ctx;
    if let Some(r) = v.read_lock::<Records>().map(|r| r.clone()) {
        return r.iter().collect();
    }
    if v.is_array() {
        return Ok(v.into_array().unwrap());
    }
    err(format!(
        "expected an array or a collection of records, got {}",
        type_name(&v)
    ))
}

/// Sorts `a` in place, stably, by `key`: a property name, an array of property
/// names (compared in turn), or a function of the item.
fn sort_keyed(ctx: &NativeCallContext, a: &mut Array, key: &Dynamic, desc: bool) -> RResult<()> {
    let key_of = |x: &Dynamic| -> RResult<Dynamic> {
        if let Some(f) = key.read_lock::<FnPtr>() {
            return f.call_within_context(ctx, (x.clone(),));
        }
        if let Ok(p) = key.as_immutable_string_ref() {
            return sort_prop(x, &p);
        }
        if let Some(names) = key.read_lock::<Array>() {
            let mut k = Array::with_capacity(names.len());
            for n in names.iter() {
                let Ok(p) = n.as_immutable_string_ref() else {
                    return err(format!(
                        "sort_by_key: a list of keys holds property names, not {}",
                        type_name(n)
                    ));
                };
                k.push(sort_prop(x, &p)?);
            }
            return Ok(Dynamic::from_array(k));
        }
        err(format!(
            "sort_by_key: sort by a property name, a list of names or a function, not {}",
            type_name(key)
        ))
    };
    // Keys first: a key that fails leaves the array as it was.
    let mut keys = Vec::with_capacity(a.len());
    for x in a.iter() {
        keys.push(key_of(x)?);
    }
    let mut keyed: Vec<(Dynamic, Dynamic)> = keys.into_iter().zip(a.drain(..)).collect();
    keyed.sort_by(|(x, _), (y, _)| {
        let o = cmp_keys(x, y);
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    a.extend(keyed.into_iter().map(|(_, x)| x));
    Ok(())
}

/// A property to sort by; a map without the key sorts as `()`, like `m.key` reads.
fn sort_prop(x: &Dynamic, p: &str) -> RResult<Dynamic> {
    match prop(x, p) {
        Some(v) => Ok(v),
        None if x.is_map() => Ok(Dynamic::UNIT),
        None => Err(no_prop(x, p)),
    }
}

/// A total order on sort keys: () first, then true/false, numbers, text,
/// dates, arrays (item by item), anything else (as equal).
fn cmp_keys(a: &Dynamic, b: &Dynamic) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn rank(v: &Dynamic) -> u8 {
        if v.is_unit() {
            0
        } else if v.is_bool() {
            1
        } else if v.is_int() || v.is_float() {
            2
        } else if v.is_string() {
            3
        } else if v.is::<Date>() {
            4
        } else if v.is_array() {
            5
        } else {
            6
        }
    }
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match ra {
        1 => a.as_bool().unwrap().cmp(&b.as_bool().unwrap()),
        2 => match (a.as_int(), b.as_int(), a.as_float(), b.as_float()) {
            (Ok(x), Ok(y), ..) => x.cmp(&y),
            (Ok(x), _, _, Ok(y)) => cmp_int_float(x, y),
            (_, Ok(y), Ok(x), _) => cmp_int_float(y, x).reverse(),
            (_, _, Ok(x), Ok(y)) => x.total_cmp(&y),
            _ => Ordering::Equal,
        },
        3 => a
            .as_immutable_string_ref()
            .unwrap()
            .as_str()
            .cmp(b.as_immutable_string_ref().unwrap().as_str()),
        4 => a
            .read_lock::<Date>()
            .unwrap()
            .0
            .cmp(&b.read_lock::<Date>().unwrap().0),
        5 => {
            let (x, y) = (
                a.read_lock::<Array>().unwrap(),
                b.read_lock::<Array>().unwrap(),
            );
            for (p, q) in x.iter().zip(y.iter()) {
                let o = cmp_keys(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => Ordering::Equal,
    }
}

/// An integer against a float, exactly (through f64 two integers above 2^53
/// could compare equal to one float and not to each other, and a sort whose
/// order is not total may panic). NaN sorts after every number.
fn cmp_int_float(i: INT, f: f64) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    if f.is_nan() {
        return Ordering::Less;
    }
    if f >= 9.3e18 {
        return Ordering::Less;
    }
    if f < -9.3e18 {
        return Ordering::Greater;
    }
    let t = f.trunc();
    match i.cmp(&(t as INT)) {
        Ordering::Equal if f > t => Ordering::Less,
        Ordering::Equal if f < t => Ordering::Greater,
        o => o,
    }
}

fn key_text(v: &Dynamic) -> String {
    if v.is_unit() {
        "()".into()
    } else if let Some(d) = v.read_lock::<Date>() {
        fmt_date(d.0)
    } else {
        v.to_string()
    }
}

fn as_f64(v: &Dynamic) -> Option<f64> {
    v.as_int()
        .map(|i| i as f64)
        .ok()
        .or_else(|| v.as_float().ok())
}

/// Thousands separators for the integer part.
pub fn group_digits(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s
        .split_once('.')
        .map(|(a, b)| (a.to_string(), Some(b.to_string())))
        .unwrap_or((s.clone(), None));
    let mut out = String::new();
    for (n, c) in int.chars().enumerate() {
        if n > 0 && (int.len() - n) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(&f);
    }
    if v < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A finding as the run sees it: one queued by `open_finding` earlier in the run, else the ledger's.
fn finding_for_write(h: &Host, snap: &Snapshot, id: &str) -> RResult<Option<Finding>> {
    let queued = last_queued(h, |w| match w {
        WriteOp::OpenFinding(f) if f.id == id => Some(f.clone()),
        _ => None,
    });
    match queued {
        Some(f) => Ok(Some(f)),
        None => snap.reader.finding(id).map_err(ledger_err),
    }
}

/// Since when `id` is on `list` in the ledger (an entry not yet ended), if it is.
fn open_list_entry(snap: &Snapshot, list: &str, id: &str) -> Option<NaiveDate> {
    snap.list_index()
        .get(id)?
        .iter()
        .find(|e| e.list == list && e.removed.is_none())
        .map(|e| e.added)
}

/// Whether adds and removes queued earlier in this run leave `id` on `list`
/// (the last one wins), or `None` if none was queued.
fn queued_on_list(h: &Host, list: &str, id: &str) -> Option<bool> {
    last_queued(h, |w| match w {
        WriteOp::ListAdd { list: l, id: i, .. } if l == list && i == id => Some(true),
        WriteOp::ListRemove { list: l, id: i, .. } if l == list && i == id => Some(false),
        _ => None,
    })
}

/// What `f` makes of the latest write queued in this run that it answers for.
fn last_queued<T>(h: &Host, f: impl FnMut(&WriteOp) -> Option<T>) -> Option<T> {
    h.out.lock().unwrap().writes.iter().rev().find_map(f)
}

fn check_write(host: &Host, what: &str) -> RResult<()> {
    if host.write.load(std::sync::atomic::Ordering::Relaxed) {
        Ok(())
    } else {
        err(format!(
            "{what} changes the ledger, which this run may not do: run with --write to allow it (in the REPL, :write on). Nothing was changed."
        ))
    }
}

/// Registers the whole API on `engine`, bound to `host`.
pub fn register(engine: &mut Engine, host: Arc<Host>) {
    // ---- types and properties
    engine.register_type_with_name::<Inst>("institution");
    engine.register_type_with_name::<Find>("finding");
    engine.register_type_with_name::<Insp>("inspection");
    engine.register_type_with_name::<Date>("date");
    engine.register_type_with_name::<Records>("records");
    engine.register_iterator_result::<Records, Dynamic>();

    for (k, (name, _)) in INSTITUTION_PROPS.iter().enumerate() {
        engine.register_get(*name, move |i: &mut Inst| inst_prop(i, k));
    }
    for (k, (name, _)) in FINDING_PROPS.iter().enumerate() {
        engine.register_get(*name, move |f: &mut Find| find_prop(f, k));
    }
    for (k, (name, _)) in INSPECTION_PROPS.iter().enumerate() {
        engine.register_get(*name, move |i: &mut Insp| insp_prop(i, k));
    }
    engine.register_fn("to_string", |i: &mut Inst| {
        format!("institution {} {}", i.x.id, i.x.name)
    });
    engine.register_fn("to_debug", |i: &mut Inst| {
        format!("institution {} {}", i.x.id, i.x.name)
    });
    engine.register_fn("to_string", |f: &mut Find| {
        format!(
            "finding {} {} of {}",
            f.id(),
            f.core.kind,
            f.institution_id()
        )
    });
    engine.register_fn("to_debug", |f: &mut Find| {
        format!(
            "finding {} {} of {}",
            f.id(),
            f.core.kind,
            f.institution_id()
        )
    });
    engine.register_fn("to_string", |i: &mut Insp| {
        format!(
            "inspection {} of {} on {}",
            i.i.id, i.i.institution_id, i.i.date
        )
    });
    engine.register_fn("to_debug", |i: &mut Insp| {
        format!(
            "inspection {} of {} on {}",
            i.i.id, i.i.institution_id, i.i.date
        )
    });
    engine.register_fn("==", |a: &mut Inst, b: Inst| a.x.id == b.x.id);
    engine.register_fn("==", |a: &mut Find, b: Find| a.id() == b.id());

    // inst.findings(), inst.inspections(): range scans of one institution.
    engine.register_fn("findings", |i: &mut Inst| -> RResult<Array> {
        let d = i.snap.as_of;
        // The institution's findings' bytes, one after another, and where each one is.
        let mut raw = crate::ledger::RawRecords::default();
        let taken = match i.snap.cursor.lock().unwrap().as_mut() {
            Some(c) => c.take(&i.x.id, &mut raw).map_err(ledger_err)?,
            None => false,
        };
        if !taken {
            i.snap
                .reader
                .findings_raw_of(&i.x.id, &mut raw)
                .map_err(ledger_err)?;
        }
        let (buf, spans) = (Arc::new(raw.buf), raw.spans);
        let mut out = Array::with_capacity(spans.len());
        for at in spans {
            // No snapshot handle per finding: two threads bumping one shared
            // reference count for every finding costs more than the rule.
            let f = Find::stored(&buf, at, d).map_err(ledger_err)?;
            if f.core.visible(d) {
                out.push(Dynamic::from(f));
            }
        }
        Ok(out)
    });
    engine.register_fn("inspections", |i: &mut Inst| -> RResult<Array> {
        let d = i.snap.as_of;
        let v = i.snap.reader.inspections_of(&i.x.id).map_err(ledger_err)?;
        Ok(v.into_iter()
            .filter(|x| x.date <= d)
            .map(|x| Dynamic::from(Insp { i: Arc::new(x) }))
            .collect())
    });
    engine.register_fn("status_history", |i: &mut Inst| -> RResult<Array> {
        let v = i.snap.reader.status_history(&i.x.id).map_err(ledger_err)?;
        Ok(v.into_iter()
            .filter(|c| c.date <= i.snap.as_of)
            .map(|c| {
                let mut m = Map::new();
                m.insert("date".into(), Dynamic::from(Date(c.date)));
                m.insert("status".into(), sym(c.status.as_str()));
                m.insert("reason".into(), c.reason.into());
                Dynamic::from_map(m)
            })
            .collect())
    });
    engine.register_fn("lists", |i: &mut Inst| -> Array {
        match i.snap.list_index().get(&i.x.id) {
            Some(v) => v
                .iter()
                .filter(|e| e.on(i.snap.as_of))
                .map(|e| e.list.clone().into())
                .collect(),
            None => Array::new(),
        }
    });
    let h = host.clone();
    engine.register_fn("institution", move |f: &mut Find| -> RResult<Dynamic> {
        institution_by_id(&h, &f.institution_id())
    });

    // ---- dates
    engine.register_fn("date", |s: &str| -> RResult<Date> {
        parse_date(s)
            .map(Date)
            .or_else(|why| err(format!("date(\"{s}\"): \"{s}\" {why}")))
    });
    engine.register_fn("to_string", |d: &mut Date| fmt_date(d.0));
    engine.register_fn("to_debug", |d: &mut Date| fmt_date(d.0));
    engine.register_get("year", |d: &mut Date| d.0.year() as INT);
    engine.register_get("month", |d: &mut Date| d.0.month() as INT);
    engine.register_get("day", |d: &mut Date| d.0.day() as INT);
    engine.register_get("weekday", |d: &mut Date| {
        d.0.weekday().number_from_monday() as INT
    });
    engine.register_fn("+", |d: Date, n: INT| -> RResult<Date> {
        d.0.checked_add_signed(Duration::days(n))
            .map(Date)
            .ok_or_else(|| "date out of range".into())
    });
    engine.register_fn("-", |d: Date, n: INT| -> RResult<Date> {
        d.0.checked_sub_signed(Duration::days(n))
            .map(Date)
            .ok_or_else(|| "date out of range".into())
    });
    engine.register_fn("-", |a: Date, b: Date| (a.0 - b.0).num_days() as INT);
    engine.register_fn("==", |a: Date, b: Date| a == b);
    engine.register_fn("!=", |a: Date, b: Date| a != b);
    engine.register_fn("<", |a: Date, b: Date| a < b);
    engine.register_fn("<=", |a: Date, b: Date| a <= b);
    engine.register_fn(">", |a: Date, b: Date| a > b);
    engine.register_fn(">=", |a: Date, b: Date| a >= b);
    engine.register_fn("add_months", |d: Date, n: INT| -> RResult<Date> {
        let m = chrono::Months::new(n.unsigned_abs() as u32);
        let r = if n >= 0 {
            d.0.checked_add_months(m)
        } else {
            d.0.checked_sub_months(m)
        };
        r.map(Date).ok_or_else(|| "date out of range".into())
    });
    // Comparing a date with text is the commonest slip: say what to write instead.
    for op in ["==", "!=", "<", "<=", ">", ">="] {
        engine.register_fn(op, move |_: Date, s: ImmutableString| -> RResult<bool> {
            err(format!(
                "cannot compare a date with a string: use date(\"{s}\")"
            ))
        });
        engine.register_fn(op, move |s: ImmutableString, _: Date| -> RResult<bool> {
            err(format!(
                "cannot compare a string with a date: use date(\"{s}\")"
            ))
        });
    }
    // Optional dates are (): comparing them answers false rather than stopping the run.
    for op in ["<", "<=", ">", ">="] {
        engine.register_fn(op, |_: Date, _: ()| false);
        engine.register_fn(op, |_: (), _: Date| false);
    }
    engine.register_fn("==", |_: Date, _: ()| false);
    engine.register_fn("==", |_: (), _: Date| false);
    engine.register_fn("!=", |_: Date, _: ()| true);
    engine.register_fn("!=", |_: (), _: Date| true);

    // ---- collections
    let h = host.clone();
    engine.register_fn("institutions", move || Records {
        kind: RecKind::Institutions,
        snap: h.snap(),
    });
    let h = host.clone();
    engine.register_fn("findings", move || Records {
        kind: RecKind::Findings,
        snap: h.snap(),
    });
    let h = host.clone();
    engine.register_fn("inspections", move || Records {
        kind: RecKind::Inspections,
        snap: h.snap(),
    });
    let h = host.clone();
    engine.register_fn("institution", move |id: &str| institution_by_id(&h, id));
    let h = host.clone();
    engine.register_fn("districts", move || -> Array {
        h.snap()
            .reader
            .districts()
            .iter()
            .map(|d| d.clone().into())
            .collect()
    });
    let h = host.clone();
    engine.register_fn("as_of", move || Date(h.snap().as_of));
    let h = host.clone();
    engine.register_fn("list_entries", move |name: &str| -> RResult<Array> {
        let snap = h.snap();
        let v = snap.reader.list_entries(name).map_err(ledger_err)?;
        Ok(v.into_iter()
            .filter(|e| e.on(snap.as_of))
            .map(|e| {
                let mut m = Map::new();
                m.insert("id".into(), e.institution_id.into());
                m.insert("since".into(), Dynamic::from(Date(e.added)));
                m.insert("reason".into(), e.reason.into());
                m.insert("operator".into(), e.operator.into());
                Dynamic::from_map(m)
            })
            .collect())
    });
    let h = host.clone();
    engine.register_fn(
        "publish",
        move |template: &str, file: &str, data: Map| -> RResult<()> {
            let Some(cfg) = &h.notices else {
                return err("publish writes a file, so the run needs --out DIR");
            };
            let kind = template.trim_end_matches(".j2");
            let (stem, _) = kind.rsplit_once('.').unwrap_or((kind, ""));
            let ctx = super::output::json(&Dynamic::from_map(data));
            let mut ctx = if ctx.is_object() {
                ctx
            } else {
                serde_json::json!({})
            };
            ctx["as_of"] = fmt_date(h.snap().as_of).into();
            let (_, text) = crate::notice::render(cfg, stem, &ctx).or_else(err)?;
            h.out
                .lock()
                .unwrap()
                .files
                .push((cfg.out.clone(), file.to_string(), text));
            Ok(())
        },
    );
    let h = host.clone();
    engine.register_fn("on_list", move |name: &str| -> RResult<Array> {
        let snap = h.snap();
        let v = snap.reader.list_entries(name).map_err(ledger_err)?;
        Ok(v.into_iter()
            .filter(|e| e.on(snap.as_of))
            .map(|e| e.institution_id.into())
            .collect())
    });

    engine.register_fn("len", |r: &mut Records| -> RResult<INT> {
        match r.kind {
            RecKind::Institutions => Ok(r.snap.reader.counts().map_err(ledger_err)?.0 as INT),
            _ => {
                let mut n = 0;
                for x in r.iter() {
                    let _ = x?;
                    n += 1;
                }
                Ok(n)
            }
        }
    });
    engine.register_fn("is_empty", |r: &mut Records| -> RResult<bool> {
        Ok(r.iter().next().transpose()?.is_none())
    });
    engine.register_fn("to_array", |r: &mut Records| -> RResult<Array> {
        r.iter().collect()
    });
    // `findings().filter(…)` is already an array; asking again is harmless.
    engine.register_fn("to_array", |a: Array| a);
    engine.register_fn(
        "filter",
        |ctx: NativeCallContext, r: &mut Records, f: FnPtr| -> RResult<Array> {
            let mut out = Array::new();
            for x in r.iter() {
                let x = x?;
                if call_bool(&ctx, &f, x.clone())? {
                    out.push(x);
                }
            }
            Ok(out)
        },
    );
    let h = host.clone();
    engine.register_fn(
        "map",
        move |ctx: NativeCallContext, r: &mut Records, f: FnPtr| -> RResult<Array> {
            let at = (ctx.call_source().unwrap_or(""), ctx.call_position());
            // Top-level constants, which functions read as `global::NAME`.
            let consts: Vec<(String, Dynamic)> = ctx
                .global_runtime_state()
                .constants
                .as_ref()
                .map(|c| {
                    c.read()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(out) = super::par::try_par_map(&h, r, &f, at, &consts)? {
                return Ok(out);
            }
            let mut out = Array::new();
            for x in r.iter() {
                out.push(f.call_within_context(&ctx, (x?,))?);
            }
            Ok(out)
        },
    );
    engine.register_fn(
        "count",
        |ctx: NativeCallContext, r: &mut Records, f: FnPtr| -> RResult<INT> {
            let mut n = 0;
            for x in r.iter() {
                if call_bool(&ctx, &f, x?)? {
                    n += 1;
                }
            }
            Ok(n)
        },
    );
    engine.register_fn(
        "count",
        |ctx: NativeCallContext, r: Array, f: FnPtr| -> RResult<INT> {
            let mut n = 0;
            for x in r {
                if call_bool(&ctx, &f, x)? {
                    n += 1;
                }
            }
            Ok(n)
        },
    );
    engine.register_fn(
        "any",
        |ctx: NativeCallContext, r: &mut Records, f: FnPtr| -> RResult<bool> {
            for x in r.iter() {
                if call_bool(&ctx, &f, x?)? {
                    return Ok(true);
                }
            }
            Ok(false)
        },
    );
    engine.register_fn(
        "all",
        |ctx: NativeCallContext, r: &mut Records, f: FnPtr| -> RResult<bool> {
            for x in r.iter() {
                if !call_bool(&ctx, &f, x?)? {
                    return Ok(false);
                }
            }
            Ok(true)
        },
    );

    engine.register_fn("join", |a: Array, sep: &str| -> String {
        a.iter().map(key_text).collect::<Vec<_>>().join(sep)
    });
    engine.register_indexer_get(|r: &mut Records, i: INT| -> RResult<Dynamic> {
        // Walks to the i-th record: fine for a look, slow in a loop (use `for` or to_array()).
        let n = usize::try_from(i).map_err(|_| format!("index {i} is negative"))?;
        match r.iter().nth(n) {
            Some(x) => x,
            None => err(format!("index {i} is past the end of the collection")),
        }
    });

    // ---- decisions: reasons and the decision log
    let h = host.clone();
    engine.register_fn(
        "deduct",
        move |points: Dynamic, reason: &str| -> RResult<Dynamic> {
            let p = as_f64(&points).ok_or_else(|| {
                format!("deduct: {} is not a number of points", type_name(&points))
            })?;
            h.trace.lock().unwrap().push((p, reason.to_string()));
            Ok(points)
        },
    );
    engine.register_fn("past_grades", |i: &mut Inst| -> RResult<Array> {
        let mut out = Array::new();
        for (run, d) in i.snap.past_runs() {
            if let Some(r) = i
                .snap
                .reader
                .run_result(*run, &i.x.id)
                .map_err(ledger_err)?
            {
                let mut m = Map::new();
                m.insert("run".into(), (*run as INT).into());
                m.insert("as_of".into(), Dynamic::from(Date(*d)));
                m.insert("grade".into(), r["grade"].as_str().unwrap_or("").into());
                m.insert("score".into(), json_num(&r["score"]));
                out.push(Dynamic::from_map(m));
            }
        }
        Ok(out)
    });
    engine.register_fn("last_grade", |i: &mut Inst| -> RResult<Dynamic> {
        for (run, _) in i.snap.past_runs() {
            if let Some(r) = i
                .snap
                .reader
                .run_result(*run, &i.x.id)
                .map_err(ledger_err)?
            {
                return Ok(r["grade"]
                    .as_str()
                    .map(|g| g.to_string().into())
                    .unwrap_or(Dynamic::UNIT));
            }
        }
        Ok(Dynamic::UNIT)
    });

    // ---- licence applications and course filings
    engine.register_type_with_name::<App>("application");
    engine.register_type_with_name::<Crs>("course");
    for (k, (name, _)) in APPLICATION_PROPS.iter().enumerate() {
        engine.register_get(*name, move |a: &mut App| app_prop(a, k));
    }
    for (k, (name, _)) in COURSE_PROPS.iter().enumerate() {
        engine.register_get(*name, move |c: &mut Crs| course_prop(c, k));
    }
    engine.register_fn("to_string", |a: &mut App| {
        format!("application {} of {}", a.a.id, a.a.institution_id)
    });
    engine.register_fn("to_string", |c: &mut Crs| {
        format!("course {} {} of {}", c.c.id, c.c.name, c.c.institution_id)
    });
    engine.register_fn("applications", |i: &mut Inst| -> RResult<Array> {
        let d = i.snap.as_of;
        let v = i.snap.reader.applications_of(&i.x.id).map_err(ledger_err)?;
        Ok(v.into_iter()
            .filter(|a| a.submitted_on <= d)
            .map(|a| {
                Dynamic::from(App {
                    a: Arc::new(a),
                    as_of: d,
                })
            })
            .collect())
    });
    engine.register_fn("courses", |i: &mut Inst| -> RResult<Array> {
        let d = i.snap.as_of;
        let v = i.snap.reader.courses_of(&i.x.id).map_err(ledger_err)?;
        Ok(v.into_iter()
            .filter(|c| c.filed_on <= d)
            .map(|c| Dynamic::from(Crs { c: Arc::new(c) }))
            .collect())
    });
    let h = host.clone();
    engine.register_fn("institution", move |a: &mut App| -> RResult<Dynamic> {
        institution_by_id(&h, &a.a.institution_id)
    });
    let h = host.clone();
    engine.register_fn("institution", move |c: &mut Crs| -> RResult<Dynamic> {
        institution_by_id(&h, &c.c.institution_id)
    });
    let h = host.clone();
    engine.register_fn("applications", move || Records {
        kind: RecKind::Applications,
        snap: h.snap(),
    });
    let h = host.clone();
    engine.register_fn("courses", move || Records {
        kind: RecKind::Courses,
        snap: h.snap(),
    });
    let h = host.clone();
    engine.register_fn(
        "approve",
        move |id: &str, licence_no: &str, expires: Date| -> RResult<()> {
            check_write(&h, "approve")?;
            let snap = h.snap();
            let Some(a) = snap.reader.application(id).map_err(ledger_err)? else {
                return err(format!("approve: no application with id \"{id}\""));
            };
            pending_application(&h, &a, "approve")?;
            if licence_no.trim().is_empty() {
                return err("approve: give the licence number");
            }
            if expires.0 <= snap.as_of {
                return err(format!(
                    "approve: the licence must expire after {}, not on {}",
                    snap.as_of, expires.0
                ));
            }
            let mut out = h.out.lock().unwrap();
            out.decided.insert(format!("app:{id}"));
            out.writes.push(WriteOp::Approve {
                id: id.into(),
                licence_no: licence_no.into(),
                expires: expires.0,
                reason: String::new(),
            });
            Ok(())
        },
    );
    let h = host.clone();
    engine.register_fn("reject", move |id: &str, reason: Dynamic| -> RResult<()> {
        check_write(&h, "reject")?;
        let reason = reasons_text(&reason);
        if reason.trim().is_empty() {
            return err("reject: give the reasons; the institution is told them");
        }
        let Some(a) = h.snap().reader.application(id).map_err(ledger_err)? else {
            return err(format!("reject: no application with id \"{id}\""));
        };
        pending_application(&h, &a, "reject")?;
        let mut out = h.out.lock().unwrap();
        out.decided.insert(format!("app:{id}"));
        out.writes.push(WriteOp::RejectApplication {
            id: id.into(),
            reason,
        });
        Ok(())
    });
    let h = host.clone();
    engine.register_fn("accept_course", move |id: &str| -> RResult<()> {
        decide_course(&h, id, true, String::new())
    });
    let h = host.clone();
    engine.register_fn(
        "reject_course",
        move |id: &str, reason: Dynamic| -> RResult<()> {
            let reason = reasons_text(&reason);
            if reason.trim().is_empty() {
                return err("reject_course: give the reasons");
            }
            decide_course(&h, id, false, reason)
        },
    );

    // ---- notices
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

    engine.register_fn(
        "any",
        |ctx: NativeCallContext, a: Array, f: FnPtr| -> RResult<bool> {
            for x in a {
                if call_bool(&ctx, &f, x)? {
                    return Ok(true);
                }
            }
            Ok(false)
        },
    );

    // ---- sorting: keys are read once per item and compared natively, which is
    // what makes sorting half a million courses take a blink instead of the
    // ten million script calls of `sort(|a, b| …)`.
    engine.register_fn(
        "sort_by_key",
        |ctx: NativeCallContext, a: &mut Array, key: Dynamic| -> RResult<()> {
            sort_keyed(&ctx, a, &key, false)
        },
    );
    engine.register_fn(
        "sort_by_key",
        |ctx: NativeCallContext, a: &mut Array, key: Dynamic, order: &str| -> RResult<()> {
            let desc = match order {
                "desc" | "descending" => true,
                "asc" | "ascending" => false,
                _ => {
                    return err(format!(
                        "sort_by_key: the order is \"asc\" or \"desc\", not \"{order}\""
                    ))
                }
            };
            sort_keyed(&ctx, a, &key, desc)
        },
    );
    let h = host.clone();
    engine.register_fn("can_write", move || {
        h.write.load(std::sync::atomic::Ordering::Relaxed)
    });

    // ---- aggregation
    engine.register_fn(
        "count_by",
        |ctx: NativeCallContext, items: Dynamic, p: &str| -> RResult<Map> {
            let mut m = Map::new();
            for x in collect(&ctx, items)? {
                let k = key_text(&prop(&x, p).ok_or_else(|| no_prop(&x, p))?);
                let e = m.entry(k.into()).or_insert(Dynamic::from(0 as INT));
                *e = Dynamic::from(e.as_int().unwrap_or(0) + 1);
            }
            Ok(m)
        },
    );
    engine.register_fn(
        "group_by",
        |ctx: NativeCallContext, items: Dynamic, p: &str| -> RResult<Map> {
            let mut m: Map = Map::new();
            for x in collect(&ctx, items)? {
                let k = key_text(&prop(&x, p).ok_or_else(|| no_prop(&x, p))?);
                let e = m
                    .entry(k.into())
                    .or_insert_with(|| Dynamic::from_array(Array::new()));
                e.write_lock::<Array>().unwrap().push(x);
            }
            Ok(m)
        },
    );
    engine.register_fn(
        "sum_by",
        |ctx: NativeCallContext, items: Dynamic, p: &str| -> RResult<Dynamic> {
            let (mut i, mut f, mut float) = (0 as INT, 0.0f64, false);
            for x in collect(&ctx, items)? {
                let v = prop(&x, p).ok_or_else(|| no_prop(&x, p))?;
                if let Ok(n) = v.as_int() {
                    i += n;
                } else if let Ok(n) = v.as_float() {
                    f += n;
                    float = true;
                } else if !v.is_unit() {
                    return err(format!(
                        "sum_by: property {p} is {}, not a number",
                        type_name(&v)
                    ));
                }
            }
            Ok(if float {
                Dynamic::from(f + i as f64)
            } else {
                Dynamic::from(i)
            })
        },
    );
    engine.register_fn("sum", |a: Array| -> RResult<Dynamic> {
        let (mut i, mut f, mut float) = (0 as INT, 0.0f64, false);
        for v in a {
            if let Ok(n) = v.as_int() {
                i += n;
            } else if let Ok(n) = v.as_float() {
                f += n;
                float = true;
            } else {
                return err(format!("sum: {} is not a number", type_name(&v)));
            }
        }
        Ok(if float {
            Dynamic::from(f + i as f64)
        } else {
            Dynamic::from(i)
        })
    });
    engine.register_fn("yuan", |v: Dynamic| -> RResult<String> {
        as_f64(&v)
            .map(|x| group_digits(x, 2))
            .ok_or_else(|| format!("yuan: {} is not a number", type_name(&v)).into())
    });
    engine.register_fn("fmt_num", |v: Dynamic, dec: INT| -> RResult<String> {
        as_f64(&v)
            .map(|x| group_digits(x, dec.clamp(0, 10) as usize))
            .ok_or_else(|| format!("fmt_num: {} is not a number", type_name(&v)).into())
    });
    engine.register_fn("pct", |a: Dynamic, b: Dynamic| -> RResult<String> {
        match (as_f64(&a), as_f64(&b)) {
            (Some(_), Some(0.0)) => Ok("—".into()),
            (Some(p), Some(w)) => Ok(format!("{:.1}%", p * 100.0 / w)),
            _ => err("pct: both arguments must be numbers"),
        }
    });

    // ---- output
    let h = host.clone();
    engine.register_fn("emit", move |m: Map| {
        h.out.lock().unwrap().rows.push(m);
    });
    let h = host.clone();
    engine.register_fn("emit", move |v: Dynamic| -> RResult<()> {
        let Some(props) = record_props(&v) else {
            return err(format!(
                "emit takes a map like #{{id: i.id}} or a record, not {}",
                type_name(&v)
            ));
        };
        let mut m = Map::new();
        for (p, _) in props {
            m.insert((*p).into(), prop(&v, p).unwrap_or_default());
        }
        let mut out = h.out.lock().unwrap();
        // A record emitted first fixes the columns in its fields' order (SPEC §2), not alphabetically.
        if out.rows.is_empty() && out.columns.is_none() {
            out.columns = Some(props.iter().map(|(p, _)| p.to_string()).collect());
            out.columns_from_emit = true;
        }
        out.rows.push(m);
        Ok(())
    });
    let h = host.clone();
    engine.register_fn("columns", move |a: Array| {
        let mut out = h.out.lock().unwrap();
        out.columns = Some(a.iter().map(|v| v.to_string()).collect());
        out.columns_from_emit = false;
    });

    // ---- writes (queued, applied in one transaction when the script ends without error)
    let h = host.clone();
    engine.register_fn(
        "set_status",
        move |id: &str, status: &str, reason: &str| -> RResult<()> {
            check_write(&h, "set_status")?;
            let Some(s) = Status::parse(status) else {
                return err(format!(
                    "set_status: \"{status}\" is not a status; use one of {}",
                    Status::choices()
                ));
            };
            if h.snap()
                .reader
                .institution(id)
                .map_err(ledger_err)?
                .is_none()
            {
                return err(format!("set_status: no institution with id \"{id}\""));
            }
            if reason.trim().is_empty() {
                return err("set_status: give a reason; it is recorded in the status history");
            }
            h.out.lock().unwrap().writes.push(WriteOp::SetStatus {
                id: id.into(),
                status: s,
                reason: reason.into(),
            });
            Ok(())
        },
    );
    let h = host.clone();
    engine.register_fn("open_finding", move |m: Map| -> RResult<String> {
        check_write(&h, "open_finding")?;
        let snap = h.snap();
        let mut fields: Vec<(&'static str, String)> = Vec::new();
        for (k, v) in &m {
            let Some(f) = crate::format::Kind::Findings.field_of_header(k) else {
                return err(format!(
                    "open_finding: unknown field \"{k}\"; the fields are {}",
                    crate::format::Kind::Findings
                        .columns()
                        .iter()
                        .map(|c| c.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            };
            if !v.is_unit() {
                fields.push((f, key_text(v)));
            }
        }
        if !fields.iter().any(|(f, _)| *f == "opened_on") {
            fields.push(("opened_on", fmt_date(snap.as_of)));
        }
        let mut out = h.out.lock().unwrap();
        if !fields.iter().any(|(f, _)| *f == "id") {
            let queued: Vec<&str> = out
                .writes
                .iter()
                .filter_map(|w| match w {
                    WriteOp::OpenFinding(f) => Some(f.id.as_str()),
                    _ => None,
                })
                .collect();
            let base = format!("F{}", snap.as_of.format("%Y%m%d"));
            let mut n = 1;
            let id = loop {
                let id = format!("{base}-{n:04}");
                if !queued.contains(&id.as_str())
                    && snap.reader.finding(&id).map_err(ledger_err)?.is_none()
                {
                    break id;
                }
                n += 1;
            };
            fields.push(("id", id));
        }
        struct R<'a>(&'a [(&'static str, String)]);
        impl crate::format::Row for R<'_> {
            fn get(&self, field: &str) -> Option<&str> {
                self.0
                    .iter()
                    .find(|(f, _)| *f == field)
                    .map(|(_, v)| v.as_str())
            }
        }
        let (f, mut errs) = crate::format::finding_from(&R(&fields));
        if errs.is_empty() {
            errs = f.validate();
        }
        if errs.is_empty()
            && snap
                .reader
                .institution(&f.institution_id)
                .map_err(ledger_err)?
                .is_none()
        {
            errs.push(FieldError::new(
                "institution_id",
                f.institution_id.clone(),
                "no such institution",
            ));
        }
        let queued_same = out
            .writes
            .iter()
            .any(|w| matches!(w, WriteOp::OpenFinding(q) if q.id == f.id));
        if errs.is_empty()
            && (queued_same || snap.reader.finding(&f.id).map_err(ledger_err)?.is_some())
        {
            errs.push(FieldError::new(
                "id",
                f.id.clone(),
                "a finding with this id exists already",
            ));
        }
        if !errs.is_empty() {
            let v: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
            return err(format!("open_finding: {}", v.join("; ")));
        }
        let id = f.id.clone();
        out.writes.push(WriteOp::OpenFinding(f));
        Ok(id)
    });
    let h = host.clone();
    engine.register_fn("rectify", move |id: &str| -> RResult<()> {
        check_write(&h, "rectify")?;
        let snap = h.snap();
        let Some(f) = finding_for_write(&h, &snap, id)? else {
            return err(format!("rectify: no finding with id \"{id}\""));
        };
        if let Some(r) = f.rectified_on.filter(|r| *r <= snap.as_of) {
            return err(format!(
                "rectify: finding {id} was already rectified on {r}"
            ));
        }
        if f.opened_on > snap.as_of {
            return err(format!(
                "rectify: finding {id} is opened on {}, after {}",
                f.opened_on, snap.as_of
            ));
        }
        h.out
            .lock()
            .unwrap()
            .writes
            .push(WriteOp::Rectify(id.into()));
        Ok(())
    });
    let h = host.clone();
    engine.register_fn("close_out", move |id: &str| -> RResult<()> {
        check_write(&h, "close_out")?;
        let snap = h.snap();
        let Some(f) = finding_for_write(&h, &snap, id)? else {
            return err(format!("close_out: no finding with id \"{id}\""));
        };
        if let Some(v) = f.verified_on.filter(|v| *v <= snap.as_of) {
            return err(format!("close_out: finding {id} was already closed out on {v}"));
        }
        let queued_rectify = h.out.lock().unwrap().writes.iter().any(|w| matches!(w, WriteOp::Rectify(x) if x == id));
        if f.rectified_on.is_none_or(|r| r > snap.as_of) && !queued_rectify {
            return err(format!("close_out: finding {id} is not rectified yet; a finding is closed out (销号) after it is rectified: call rectify(\"{id}\") first"));
        }
        h.out.lock().unwrap().writes.push(WriteOp::CloseOut(id.into()));
        Ok(())
    });
    let h = host.clone();
    engine.register_fn(
        "list_add",
        move |list: &str, id: &str, reason: &str| -> RResult<()> {
            check_write(&h, "list_add")?;
            if h.snap()
                .reader
                .institution(id)
                .map_err(ledger_err)?
                .is_none()
            {
                return err(format!("list_add: no institution with id \"{id}\""));
            }
            if list.trim().is_empty() {
                return err("list_add: the list needs a name, e.g. \"blacklist\"");
            }
            let open = open_list_entry(&h.snap(), list, id);
            if queued_on_list(&h, list, id).unwrap_or(open.is_some()) {
                let since = open.map(|d| format!(" since {d}")).unwrap_or_default();
                return err(format!(
                    "list_add: {id} is already on list \"{list}\"{since}"
                ));
            }
            h.out.lock().unwrap().writes.push(WriteOp::ListAdd {
                list: list.into(),
                id: id.into(),
                reason: reason.into(),
            });
            Ok(())
        },
    );
    let h = host;
    engine.register_fn(
        "list_remove",
        move |list: &str, id: &str, reason: &str| -> RResult<()> {
            check_write(&h, "list_remove")?;
            let on_now = open_list_entry(&h.snap(), list, id).is_some();
            if !queued_on_list(&h, list, id).unwrap_or(on_now) {
                return err(format!("list_remove: {id} is not on list \"{list}\""));
            }
            h.out.lock().unwrap().writes.push(WriteOp::ListRemove {
                list: list.into(),
                id: id.into(),
                reason: reason.into(),
            });
            Ok(())
        },
    );
}

/// The institution with `id` in the host's current snapshot, or `()`.
fn institution_by_id(h: &Host, id: &str) -> RResult<Dynamic> {
    let snap = h.snap();
    let mut last = h.last_inst.lock().unwrap();
    // The cached record holds its snapshot, so a new snapshot (the REPL's date
    // changed, a fixture was written) can never share its address.
    if let Some(i) = &*last {
        if i.x.id == id && Arc::ptr_eq(&i.snap, &snap) {
            return Ok(Dynamic::from(i.clone()));
        }
    }
    match snap.reader.institution(id).map_err(ledger_err)? {
        Some(x) => {
            let i = Inst {
                x: Arc::new(x),
                snap,
            };
            *last = Some(i.clone());
            Ok(Dynamic::from(i))
        }
        None => Ok(Dynamic::UNIT),
    }
}

/// Reasons given as text or as an array of texts, joined with "；".
fn reasons_text(v: &Dynamic) -> String {
    if let Some(a) = v.read_lock::<Array>() {
        a.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("；")
    } else {
        v.to_string()
    }
}

/// Refuses a decision on an application that is decided, or already decided in this run.
fn pending_application(h: &Host, a: &Application, what: &str) -> RResult<()> {
    let snap = h.snap();
    let decided = a.decided_on.is_some_and(|d| d <= snap.as_of);
    if decided || a.status != AppStatus::Submitted {
        return err(format!(
            "{what}: application {} is {} already (decided {}); only a submitted application can be decided",
            a.id,
            a.status,
            a.decided_on.map(fmt_date).unwrap_or_default()
        ));
    }
    let queued = h
        .out
        .lock()
        .unwrap()
        .decided
        .contains(&format!("app:{}", a.id));
    if queued {
        return err(format!(
            "{what}: application {} was already decided in this run",
            a.id
        ));
    }
    Ok(())
}

fn decide_course(h: &Host, id: &str, accept: bool, reason: String) -> RResult<()> {
    let what = if accept {
        "accept_course"
    } else {
        "reject_course"
    };
    check_write(h, what)?;
    let Some(c) = h.snap().reader.course(id).map_err(ledger_err)? else {
        return err(format!("{what}: no course with id \"{id}\""));
    };
    if c.status != CourseStatus::Filed {
        return err(format!(
            "{what}: course {id} is {} already; only a filed course can be decided",
            c.status
        ));
    }
    let queued = h
        .out
        .lock()
        .unwrap()
        .decided
        .contains(&format!("course:{id}"));
    if queued {
        return err(format!(
            "{what}: course {id} was already decided in this run"
        ));
    }
    let mut out = h.out.lock().unwrap();
    out.decided.insert(format!("course:{id}"));
    out.writes.push(WriteOp::DecideCourse {
        id: id.into(),
        accept,
        reason,
    });
    Ok(())
}

/// The institution id of a record or an id string.
fn record_id(v: &Dynamic) -> RResult<String> {
    if let Some(i) = v.read_lock::<Inst>() {
        return Ok(i.x.id.clone());
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
    let Some(x) = snap.reader.institution(&id).map_err(ledger_err)? else {
        return err(format!("notice: no institution with id \"{id}\""));
    };
    let day = fmt_date(snap.as_of);
    let sent = snap.reader.notices_of(&id).map_err(ledger_err)?;
    if sent.iter().any(|(k, d, _)| k == kind && *d == snap.as_of) {
        return Ok(false);
    }
    let queued = h
        .out
        .lock()
        .unwrap()
        .writes
        .iter()
        .any(|w| matches!(w, WriteOp::Notice { id: q, kind: k, .. } if q == &id && k == kind));
    if queued {
        return Ok(false);
    }
    let inst = Dynamic::from(Inst {
        x: Arc::new(x),
        snap: snap.clone(),
    });
    let mut open = Vec::new();
    let mut overdue = Vec::new();
    for f in snap.reader.findings_of(&id).map_err(ledger_err)? {
        if f.visible(snap.as_of) && f.status(snap.as_of) != FindingStatus::Closed {
            let fd = Dynamic::from(Find::new(&f, snap.as_of));
            let mut j = super::output::json(&fd);
            j["kind_zh"] = f.kind.zh().into();
            j["status_zh"] = f.status(snap.as_of).zh().into();
            if f.overdue(snap.as_of) {
                overdue.push(j.clone());
            }
            open.push(j);
        }
    }
    let mut ij = super::output::json(&inst);
    ij["category_zh"] = x_zh(&inst);
    let ctx = serde_json::json!({
        "kind": kind,
        "institution": ij,
        "findings": open,
        "overdue": overdue,
        "as_of": day,
        "data": super::output::json(&Dynamic::from_map(data)),
    });
    let (ext, text) = crate::notice::render(cfg, kind, &ctx).or_else(err)?;
    let (dir, name) = crate::notice::file_name(kind, &id, &day, ext);
    h.out.lock().unwrap().writes.push(WriteOp::Notice {
        id,
        kind: kind.to_string(),
        dir: cfg.out.join(dir),
        name,
        text,
    });
    Ok(true)
}

fn x_zh(inst: &Dynamic) -> serde_json::Value {
    inst.read_lock::<Inst>()
        .map(|i| i.x.category.zh().into())
        .unwrap_or_default()
}

fn json_num(v: &serde_json::Value) -> Dynamic {
    match v.as_i64() {
        Some(i) => (i as INT).into(),
        None => v.as_f64().map(Dynamic::from).unwrap_or(Dynamic::UNIT),
    }
}

fn no_prop(x: &Dynamic, p: &str) -> Box<EvalAltResult> {
    let known = record_props(x)
        .map(|ps| ps.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    if known.is_empty() {
        format!("{} has no property \"{p}\"", type_name(x)).into()
    } else {
        format!("{} has no property \"{p}\"; it has: {known}", type_name(x)).into()
    }
}
