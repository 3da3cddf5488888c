//! `casebook repl`: the investigator's interactive session (SPEC §6).
//!
//! One Rhai scope lives for the whole session, and every function defined in
//! an entry is kept (the session AST accumulates functions and drops its
//! statements after each evaluation). Reads are as of the session's date and
//! see the ledger as committed when the entry started. The ledger is opened
//! read-only, so a REPL never blocks a nightly `casebook run` or import;
//! `:write on` reopens it for writing and then holds the writer lock until
//! `:write off`.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Result;
use chrono::NaiveDate;
use rhai::{Dynamic, Map, Scope, AST};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper};

use crate::ledger::{busy_timeout, Ledger, Operation};
use crate::script::api::{
    self, Date, Records, APPLICATION_PROPS, COURSE_PROPS, FINDING_PROPS, FUNCTIONS,
    INSPECTION_PROPS, INSTITUTION_PROPS,
};
use crate::script::{diag, host, output, Limits, RowFormat, ScriptHost};

/// REPL commands with their help text.
pub const COMMANDS: &[(&str, &str)] = &[
    (
        ":help",
        ":help [NAME] — the API, or one function or property",
    ),
    (
        ":load",
        ":load FILE — run a script into this session (its functions and variables stay)",
    ),
    (
        ":as-of",
        ":as-of DATE — see the ledger as of another date (shown in the prompt)",
    ),
    (
        ":show",
        ":show ID — the register of one institution (一户一册)",
    ),
    (
        ":format",
        ":format table|json|jsonl|csv — how results are shown",
    ),
    (":timing", ":timing on|off — time each evaluation"),
    (
        ":write",
        ":write on|off — allow statements to change the ledger (each change is committed at once and listed)",
    ),
    (":quit", ":quit — leave (Ctrl-D too)"),
];

const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "for", "in", "while", "loop", "do", "until", "break",
    "continue", "return", "throw", "try", "catch", "switch", "true", "false", "private", "import",
    "export", "as",
];

/// What completion, hints and highlighting need to know about the session.
struct ReplHelper {
    host: Arc<api::Host>,
    names: Arc<Mutex<Vec<String>>>,
    hinter: HistoryHinter,
    colour: bool,
}

impl Helper for ReplHelper {}

/// Whether the input so far leaves a bracket or string open (then the entry continues).
pub fn is_incomplete(src: &str) -> bool {
    let mut depth: i32 = 0;
    let mut chars = src.chars().peekable();
    let mut in_str: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                c if c == q => in_str = None,
                _ => {}
            }
            continue;
        }
        match c {
            '"' | '`' => in_str = Some(c),
            '\'' => {
                // A character literal: skip it whole.
                if chars.next() == Some('\\') {
                    chars.next();
                }
                chars.next();
            }
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    in_str.is_some() || depth > 0
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if input.trim_start().starts_with(':') || !is_incomplete(input) {
            Ok(ValidationResult::Valid(None))
        } else {
            Ok(ValidationResult::Incomplete)
        }
    }
}

fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == ':' || *c == '-'))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0)
}

impl Completer for ReplHelper {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let pair = |s: &str, d: &str| Pair {
            display: if d.is_empty() {
                s.to_string()
            } else {
                format!("{s}  — {d}")
            },
            replacement: s.to_string(),
        };
        // Inside institution("…: complete ledger ids.
        let before = &line[..pos];
        if let Some(i) = before.rfind("institution(\"") {
            let start = i + "institution(\"".len();
            let prefix = &before[start..];
            if !prefix.contains('"') {
                let ids = self
                    .host
                    .snap()
                    .reader
                    .institution_ids_with_prefix(prefix, 50)
                    .unwrap_or_default();
                return Ok((start, ids.iter().map(|s| pair(s, "")).collect()));
            }
        }
        let start = word_start(line, pos);
        let word = &line[start..pos];
        if start == 0 && word.starts_with(':') {
            let v = COMMANDS
                .iter()
                .filter(|(c, _)| c.starts_with(word))
                .map(|(c, _)| pair(c, ""))
                .collect();
            return Ok((0, v));
        }
        let mut out: Vec<Pair> = Vec::new();
        if start > 0 && line[..start].ends_with('.') {
            // After a dot: properties and methods of records, dates and collections.
            let mut seen = std::collections::HashSet::new();
            for (p, d) in INSTITUTION_PROPS
                .iter()
                .chain(FINDING_PROPS)
                .chain(INSPECTION_PROPS)
                .chain(APPLICATION_PROPS)
                .chain(COURSE_PROPS)
            {
                if p.starts_with(word) && seen.insert(*p) {
                    out.push(pair(p, d));
                }
            }
            for m in [
                "findings()",
                "inspections()",
                "status_history()",
                "lists()",
                "institution()",
                "filter(",
                "map(",
                "len()",
                "count(",
                "any(",
                "all(",
                "to_array()",
                "year",
                "month",
                "day",
                "contains(",
                "starts_with(",
                "ends_with(",
                "sort(",
                "push(",
                "to_string()",
            ] {
                if m.starts_with(word) && seen.insert(m) {
                    out.push(pair(m, ""));
                }
            }
        } else {
            for (name, sig, desc, _) in FUNCTIONS {
                if name.starts_with(word) && !sig.contains('.') {
                    out.push(Pair {
                        display: format!("{sig}  — {desc}"),
                        replacement: format!("{name}("),
                    });
                }
            }
            for n in self.names.lock().unwrap().iter() {
                if n.starts_with(word) {
                    out.push(pair(n, ""));
                }
            }
            for k in KEYWORDS {
                if k.starts_with(word) && !word.is_empty() {
                    out.push(pair(k, ""));
                }
            }
        }
        Ok((start, out))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<String> {
        self.hinter.hint(line, pos, ctx)
    }
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.colour || line.starts_with(':') {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight_rhai(line))
    }
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.colour {
            Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }
    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.colour
    }
}

/// ANSI-colours keywords (bold blue), strings (green) and numbers (yellow).
pub fn highlight_rhai(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 32);
    let cs: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c == '"' || c == '`' {
            let mut j = i + 1;
            while j < cs.len() && cs[j] != c {
                if cs[j] == '\\' {
                    j += 1;
                }
                j += 1;
            }
            let end = (j + 1).min(cs.len());
            out.push_str("\x1b[32m");
            out.extend(&cs[i..end]);
            out.push_str("\x1b[0m");
            i = end;
        } else if c == '/' && cs.get(i + 1) == Some(&'/') {
            out.push_str("\x1b[2m");
            out.extend(&cs[i..]);
            out.push_str("\x1b[0m");
            break;
        } else if c.is_ascii_digit() {
            let mut j = i;
            while j < cs.len() && (cs[j].is_ascii_digit() || cs[j] == '.' || cs[j] == '_') {
                j += 1;
            }
            out.push_str("\x1b[33m");
            out.extend(&cs[i..j]);
            out.push_str("\x1b[0m");
            i = j;
        } else if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < cs.len() && (cs[j].is_alphanumeric() || cs[j] == '_') {
                j += 1;
            }
            let w: String = cs[i..j].iter().collect();
            if KEYWORDS.contains(&w.as_str()) {
                out.push_str("\x1b[1;34m");
                out.push_str(&w);
                out.push_str("\x1b[0m");
            } else {
                out.push_str(&w);
            }
            i = j;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Columns shown for a list of records: the ones an investigator reads first.
fn default_columns(v: &Dynamic) -> Option<Vec<&'static str>> {
    if v.is::<api::Inst>() {
        Some(vec![
            "id", "name", "district", "category", "status", "licensed", "students",
        ])
    } else if v.is::<api::Find>() {
        Some(vec![
            "id",
            "institution_id",
            "kind",
            "severity",
            "opened_on",
            "deadline",
            "status",
            "overdue",
        ])
    } else if v.is::<api::Insp>() {
        Some(vec![
            "id",
            "institution_id",
            "date",
            "operation",
            "departments",
            "inspectors",
        ])
    } else if v.is::<api::App>() {
        Some(vec![
            "id",
            "institution_id",
            "submitted_on",
            "status",
            "site_area_m2",
            "fire_approved",
            "qualified_teachers",
        ])
    } else if v.is::<api::Crs>() {
        Some(vec![
            "id",
            "institution_id",
            "name",
            "subject_type",
            "mode",
            "daily_end_time",
            "prepay_months",
            "fee_total",
            "filed_on",
            "status",
        ])
    } else {
        // Any other record: all its properties.
        api::record_props(v).map(|p| p.iter().map(|(n, _)| *n).collect())
    }
}

/// How many rows a table shows before it says how many it left out.
const MAX_ROWS: usize = 50;

/// Renders a value the way people read it: records and maps in an array as a
/// table, one record as a field list, scalars plainly.
pub fn render(v: &Dynamic, fmt: RowFormat) -> String {
    render_ordered(v, fmt, &[])
}

/// [`render`], with maps' columns in the order their literals were written
/// (`orders` as from [`output::literal_key_orders`]; Rhai maps themselves are sorted).
pub fn render_ordered(v: &Dynamic, fmt: RowFormat, orders: &[Vec<String>]) -> String {
    if v.is_unit() {
        return String::new();
    }
    if let Some(r) = v.read_lock::<Records>().map(|r| r.clone()) {
        // A table shows the first MAX_ROWS; csv and json show every record.
        let keep = if fmt == RowFormat::Table {
            MAX_ROWS
        } else {
            usize::MAX
        };
        let mut items = Vec::new();
        let mut total = 0usize;
        for x in r.iter() {
            match x {
                Ok(x) => {
                    if items.len() < keep {
                        items.push(x);
                    }
                    total += 1;
                }
                Err(e) => return format!("error: {e}"),
            }
        }
        if total == 0 && fmt == RowFormat::Table {
            return "(0 records)".to_string();
        }
        // render_array ends a table with the count (or what it left out): no second count here.
        return render_array(&items, fmt, total, orders);
    }
    if let Some(a) = v.read_lock::<rhai::Array>() {
        let keep = if fmt == RowFormat::Table {
            a.len().min(MAX_ROWS)
        } else {
            a.len()
        };
        return render_array(&a[..keep], fmt, a.len(), orders);
    }
    if fmt == RowFormat::Json {
        return serde_json::to_string_pretty(&output::json(v)).unwrap_or_default();
    }
    if let Some(props) = api::record_props(v) {
        let w = props.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
        return props
            .iter()
            .map(|(p, _)| {
                format!(
                    "{p:>w$}: {}",
                    output::cell(&api::prop(v, p).unwrap_or_default())
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    if let Some(m) = v.read_lock::<Map>() {
        let w = m
            .keys()
            .map(|k| unicode_width::UnicodeWidthStr::width(k.as_str()))
            .max()
            .unwrap_or(0);
        let one: output::Rows = std::iter::once(m.clone()).collect();
        let keys = output::columns_for(&one, None, orders);
        return keys
            .iter()
            .map(|k| {
                let pad = w - unicode_width::UnicodeWidthStr::width(k.as_str());
                let x = m.get(k.as_str()).cloned().unwrap_or_default();
                format!("{}{k}: {}", " ".repeat(pad), output::cell(&x))
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    if let Some(d) = v.read_lock::<Date>() {
        return crate::model::fmt_date(d.0);
    }
    output::cell(v)
}

fn render_array(items: &[Dynamic], fmt: RowFormat, total: usize, orders: &[Vec<String>]) -> String {
    let table_like = !items.is_empty()
        && items
            .iter()
            .all(|x| x.is_map() || api::record_props(x).is_some());
    if !table_like {
        if fmt == RowFormat::Json {
            return serde_json::to_string_pretty(&output::json(&Dynamic::from_array(
                items.to_vec(),
            )))
            .unwrap_or_default();
        }
        let mut s = format!(
            "[{}]",
            items.iter().map(quote).collect::<Vec<_>>().join(", ")
        );
        if total > items.len() {
            s.push_str(&format!("\n… {} more not shown", total - items.len()));
        }
        return s;
    }
    let cols: Vec<String> = match default_columns(&items[0]) {
        Some(c) => c.into_iter().map(String::from).collect(),
        None => {
            let maps: output::Rows = items
                .iter()
                .filter_map(|x| x.read_lock::<Map>().map(|m| m.clone()))
                .collect();
            output::columns_for(&maps, None, orders)
        }
    };
    let rows: output::Rows = items
        .iter()
        .map(|x| {
            cols.iter()
                .map(|c| (c.as_str().into(), api::prop(x, c).unwrap_or_default()))
                .collect()
        })
        .collect();
    let mut buf = Vec::new();
    let _ = output::write_rows(&mut buf, fmt, &cols, &rows, usize::MAX);
    let mut s = String::from_utf8_lossy(&buf).trim_end().to_string();
    if fmt == RowFormat::Table {
        // write_rows appends "(N rows)"; say how many were left out instead when truncated.
        if total > items.len() {
            if let Some(i) = s.rfind("\n(") {
                s.truncate(i);
            }
            s.push_str(&format!(
                "\n… showing {} of {total}; filter, or :format csv to see all",
                items.len()
            ));
        }
    }
    s
}

fn quote(v: &Dynamic) -> String {
    if v.is_string() {
        format!("{:?}", v.to_string())
    } else {
        output::cell(v)
    }
}

/// The history file: `$CASEBOOK_HISTORY`, else the user's data directory.
pub fn history_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CASEBOOK_HISTORY") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var("XDG_DATA_HOME")
        .ok()
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var("HOME")
                .ok()
                .map(|h| PathBuf::from(h).join(".local/share"))
        })?;
    Some(base.join("casebook").join("history"))
}

struct Session {
    db: PathBuf,
    ledger: Ledger,
    host: ScriptHost,
    scope: Scope<'static>,
    lib: AST,
    fmt: RowFormat,
    timing: bool,
    write: bool,
    operator: String,
    names: Arc<Mutex<Vec<String>>>,
    /// Key orders of the map literals of every entry so far, so that a map
    /// built by a function defined earlier still shows its keys as written.
    orders: Vec<Vec<String>>,
    /// An entry failed: a session fed from a file or a pipe then exits 1,
    /// as sqlite3 does, so a job that runs one can tell.
    failed: bool,
}

impl Session {
    fn prompt(&self) -> String {
        format!(
            "casebook {}{}> ",
            self.host.as_of(),
            if self.write { " [write]" } else { "" }
        )
    }

    fn refresh_names(&self) {
        let mut v: Vec<String> = self.scope.iter().map(|(n, _, _)| n.to_string()).collect();
        v.extend(self.lib.iter_functions().map(|f| f.name.to_string()));
        *self.names.lock().unwrap() = v;
    }

    /// Evaluates one entry; errors are printed, never fatal.
    fn eval(&mut self, src: &str, file: &str, out: &mut dyn Write) {
        // A fresh snapshot per entry: the REPL sees what others committed meanwhile.
        if let Err(e) = self.host.set_snapshot(&self.ledger, self.host.as_of()) {
            self.error(out, format_args!("{e}"));
            return;
        }
        let t = Instant::now();
        let (ast, orders) = match self.host.compile_in(&self.scope, src) {
            Ok(a) => a,
            Err(e) => {
                let _ = write!(out, "{}", diag::parse_diag(&e).render(file, src));
                self.failed = true;
                return;
            }
        };
        for o in orders {
            if !self.orders.contains(&o) {
                self.orders.push(o);
            }
        }
        let saved = self.lib.clone();
        let scope_len = self.scope.len();
        self.lib += ast;
        let r = self.host.run(&mut self.scope, &self.lib);
        // Keep the functions, drop the statements, so the next entry does not run them again.
        self.lib.clear_statements();
        let result = self.host.take_output();
        match r {
            Err(e) => {
                self.failed = true;
                self.lib = saved.merge(&self.lib.clone_functions_only());
                // Past the memory limit, the variables this entry made are what holds
                // the memory: drop them, or every later entry would hit the limit too.
                if matches!(e.unwrap_inner(), rhai::EvalAltResult::ErrorTerminated(t, _) if t.to_string().starts_with("memory:"))
                {
                    self.scope.rewind(scope_len);
                    let _ = writeln!(
                        out,
                        "(the variables this entry created were dropped to free the memory)"
                    );
                }
                let _ = write!(
                    out,
                    "{}",
                    diag::runtime_diag(&e, &self.host.limits).render(file, src)
                );
                if !result.writes.is_empty() {
                    let _ = writeln!(out, "(nothing was written)");
                }
            }
            Ok(v) => {
                if !result.rows.is_empty() {
                    let cols =
                        output::columns_for(&result.rows, result.columns.as_deref(), &self.orders);
                    let _ = output::write_rows(out, self.fmt, &cols, &result.rows, usize::MAX);
                }
                let text = render_ordered(&v, self.fmt, &self.orders);
                if !text.is_empty() {
                    let _ = writeln!(out, "{text}");
                }
                if !result.writes.is_empty() {
                    let op = Operation {
                        operator: self.operator.clone(),
                        command: format!("repl: {}", src.trim()),
                        script_sha256: Some(crate::script::sha256_hex(src)),
                        file: None,
                    };
                    match host::apply_writes(&self.ledger, &op, self.host.as_of(), &result.writes) {
                        Ok(lines) => {
                            let _ = writeln!(out, "committed {} change(s):", lines.len());
                            for l in lines {
                                let _ = writeln!(out, "  {l}");
                            }
                        }
                        Err(e) => self.error(
                            out,
                            format_args!("the changes were refused, nothing was written: {e}"),
                        ),
                    }
                }
            }
        }
        if self.timing {
            let _ = writeln!(out, "({:.1?})", t.elapsed());
        }
        self.refresh_names();
    }

    /// Says what went wrong with an entry, and remembers that one did.
    fn error(&mut self, out: &mut dyn Write, what: std::fmt::Arguments) {
        self.failed = true;
        let _ = writeln!(out, "error: {what}");
    }

    /// Runs a `:command`; returns false to leave.
    fn command(&mut self, line: &str, out: &mut dyn Write) -> bool {
        let mut parts = line.trim().splitn(2, char::is_whitespace);
        let cmd = parts.next().unwrap_or("");
        let arg = parts.next().unwrap_or("").trim();
        match cmd {
            ":quit" | ":q" | ":exit" => return false,
            ":help" | ":h" => {
                let _ = writeln!(out, "{}", help_text(arg));
            }
            ":as-of" => match crate::model::parse_date(arg) {
                Ok(d) => match self.host.set_snapshot(&self.ledger, d) {
                    Ok(()) => {
                        let _ = writeln!(
                            out,
                            "now as of {d} (records already held in variables keep the date they were read on: read them again)"
                        );
                    }
                    Err(e) => {
                        self.error(out, format_args!("{e}"));
                    }
                },
                Err(why) => {
                    self.error(out, format_args!(":as-of \"{arg}\" {why}"));
                }
            },
            ":show" if arg.is_empty() => {
                self.error(
                    out,
                    format_args!(":show ID — give an institution's ledger number"),
                );
            }
            ":show" => {
                let r = self
                    .ledger
                    .reader()
                    .and_then(|r| crate::register::render(&r, arg, self.host.as_of()));
                match r {
                    Ok(Some(t)) => {
                        let _ = write!(out, "{t}");
                    }
                    Ok(None) => {
                        self.error(out, format_args!("no institution with id \"{arg}\""));
                    }
                    Err(e) => {
                        self.error(out, format_args!("{e}"));
                    }
                }
            }
            ":format" if arg.is_empty() => {
                let _ = writeln!(
                    out,
                    "results are shown as {}; :format table|json|jsonl|csv to change",
                    format!("{:?}", self.fmt).to_lowercase()
                );
            }
            ":format" => {
                self.fmt = match arg {
                    "table" => RowFormat::Table,
                    "json" => RowFormat::Json,
                    "csv" => RowFormat::Csv,
                    "jsonl" => RowFormat::Jsonl,
                    _ => {
                        self.error(out, format_args!(":format table, json, jsonl or csv"));
                        return true;
                    }
                };
            }
            ":timing" => match arg {
                "" => {
                    let on = if self.timing { "on" } else { "off" };
                    let _ = writeln!(out, "timing is {on}; :timing on|off to change");
                }
                "on" => self.timing = true,
                "off" => self.timing = false,
                _ => {
                    self.error(out, format_args!(":timing on or off"));
                }
            },
            ":write" if arg.is_empty() => {
                let on = if self.write { "on" } else { "off" };
                let _ = writeln!(out, "writes are {on}; :write on|off to change");
            }
            ":write" => {
                let want = match arg {
                    "on" => true,
                    "off" => false,
                    _ => {
                        self.error(out, format_args!(":write on or off"));
                        return true;
                    }
                };
                if want != self.write {
                    let reopened = if want {
                        Ledger::open_write(&self.db, busy_timeout())
                    } else {
                        Ledger::open_read(&self.db)
                    };
                    match reopened {
                        Ok(l) => {
                            // Only one handle per process: the old one is closed first by replacement.
                            self.ledger = l;
                            self.write = want;
                            self.host.host.write.store(want, Ordering::Relaxed);
                            let _ = writeln!(
                                out,
                                "{}",
                                if want {
                                    "writes are on: statements may change the ledger; each change is committed and listed"
                                } else {
                                    "writes are off"
                                }
                            );
                        }
                        Err(e) => {
                            self.error(out, format_args!("{e}"));
                        }
                    }
                }
            }
            ":load" if arg.is_empty() => {
                self.error(out, format_args!(":load FILE — give the script to run"));
            }
            ":load" => match std::fs::read_to_string(arg) {
                Ok(src) => self.eval(&src, arg, out),
                Err(e) => {
                    self.error(out, format_args!("cannot read {arg}: {e}"));
                }
            },
            _ => {
                self.failed = true;
                let _ = writeln!(out, "unknown command {cmd}; :help lists them");
            }
        }
        true
    }
}

/// The text of `:help` and `:help NAME`.
pub fn help_text(name: &str) -> String {
    let name = name.trim().trim_end_matches("()");
    if name.is_empty() {
        let mut s = String::from("Functions (:help NAME for one):\n");
        for (_, sig, desc, _) in FUNCTIONS {
            s.push_str(&format!("  {sig:<34} {desc}\n"));
        }
        s.push_str("\nInstitution properties: ");
        s.push_str(
            &INSTITUTION_PROPS
                .iter()
                .map(|p| p.0)
                .collect::<Vec<_>>()
                .join(" "),
        );
        s.push_str("\nFinding properties: ");
        s.push_str(
            &FINDING_PROPS
                .iter()
                .map(|p| p.0)
                .collect::<Vec<_>>()
                .join(" "),
        );
        for (what, props) in [
            ("Inspection", INSPECTION_PROPS),
            ("Licence application", APPLICATION_PROPS),
            ("Course filing", COURSE_PROPS),
        ] {
            s.push_str(&format!("\n{what} properties: "));
            s.push_str(&props.iter().map(|p| p.0).collect::<Vec<_>>().join(" "));
        }
        s.push_str("\nDates: date(\"2019-02-20\"), d + 7, d - 7, d2 - d1 (days), d.year d.month d.day, < <= > >= == !=\n\nCommands:\n");
        for (_, h) in COMMANDS {
            s.push_str(&format!("  {h}\n"));
        }
        s.push_str("\nAn unclosed ( [ { or string continues on the next line. Tab completes; Ctrl-C cancels; Ctrl-D leaves.");
        return s;
    }
    let mut s = String::new();
    for (n, sig, desc, ex) in FUNCTIONS {
        if *n == name {
            s.push_str(&format!("{sig}\n  {desc}\n  example: {ex}\n"));
        }
    }
    for (what, props) in [
        ("institution", INSTITUTION_PROPS),
        ("finding", FINDING_PROPS),
        ("inspection", INSPECTION_PROPS),
        ("application", APPLICATION_PROPS),
        ("course", COURSE_PROPS),
    ] {
        for (p, d) in props {
            if *p == name {
                s.push_str(&format!("{what}.{p}: {d}\n"));
            }
        }
    }
    for (c, h) in COMMANDS {
        if c.trim_start_matches(':') == name.trim_start_matches(':') {
            s.push_str(&format!("{h}\n"));
        }
    }
    if s.is_empty() {
        let all = FUNCTIONS.iter().map(|f| f.0).chain(diag::all_props());
        match diag::did_you_mean(name, all) {
            Some(m) => format!("nothing called {name}; did you mean {m}?"),
            None => format!("nothing called {name}; :help lists everything"),
        }
    } else {
        s.trim_end().to_string()
    }
}

/// Runs the REPL on `db` until `:quit` or Ctrl-D. Returns whether every
/// entry succeeded, or true on a terminal (where failures were seen).
pub fn run(db: &Path, as_of: NaiveDate, operator: String) -> Result<bool> {
    let ledger = Ledger::open_read(db)?;
    let host = ScriptHost::new(&ledger, as_of, Map::new(), false, Limits::default())?;
    let colour = std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let names = Arc::new(Mutex::new(Vec::new()));
    let helper = ReplHelper {
        host: host.host.clone(),
        names: names.clone(),
        hinter: HistoryHinter::new(),
        colour,
    };
    // Ctrl-C while a statement runs stops that statement, not the session.
    let cancel = host.cancel.clone();
    let _ = ctrlc::set_handler(move || cancel.store(true, Ordering::Relaxed));
    let scope = host.scope();
    let mut s = Session {
        db: db.to_path_buf(),
        ledger,
        host,
        scope,
        lib: AST::empty(),
        fmt: RowFormat::Table,
        timing: false,
        write: false,
        operator,
        names,
        orders: Vec::new(),
        failed: false,
    };
    s.refresh_names();
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .max_history_size(10_000)?
        .build();
    let mut rl: Editor<ReplHelper, rustyline::history::DefaultHistory> =
        Editor::with_config(config)?;
    rl.set_helper(Some(helper));
    let hist = history_path();
    if let Some(h) = &hist {
        let _ = rl.load_history(h);
    }
    let (n, _, _) = s.ledger.reader()?.counts()?;
    println!(
        "casebook repl on {} ({n} institutions). :help for help, Ctrl-D to leave.",
        db.display()
    );
    let stdout = std::io::stdout();
    loop {
        match rl.readline(&s.prompt()) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(line.as_str());
                if let Some(h) = &hist {
                    if let Some(dir) = h.parent() {
                        let _ = std::fs::create_dir_all(dir);
                    }
                    let _ = rl.append_history(h);
                }
                let mut out = stdout.lock();
                if line.trim_start().starts_with(':') {
                    if !s.command(&line, &mut out) {
                        break;
                    }
                } else {
                    s.host.cancel.store(false, Ordering::Relaxed);
                    s.eval(&line, "<repl>", &mut out);
                }
                let _ = out.flush();
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(std::io::stdin().is_terminal() || !s.failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_brackets_and_strings_continue_the_entry() {
        assert!(is_incomplete("fn f(x) {"));
        assert!(is_incomplete("let a = [1, 2,"));
        assert!(is_incomplete("let s = \"abc"));
        assert!(!is_incomplete("let s = \"a{b\";"));
        assert!(!is_incomplete("fn f(x) { x + 1 }"));
        assert!(!is_incomplete("// a comment with ( in it"));
    }

    #[test]
    fn help_names_functions_and_suggests() {
        assert!(help_text("findings").contains("example"));
        assert!(help_text("overdeu").contains("did you mean overdue"));
        assert!(help_text("").contains(":as-of"));
    }
}
