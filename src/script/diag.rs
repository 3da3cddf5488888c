//! Errors and warnings in words policy staff can act on: file, line, column,
//! the source line with a caret under the spot, and the chain of function calls.

use rhai::{EvalAltResult, ParseError, Position};

use super::api::FUNCTIONS;
use super::records::friendly_type;
use super::state::Limits;

/// A located message about a script.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: &'static str,
    pub message: String,
    pub line: usize,
    pub column: usize,
    /// Function frames, innermost last: (function name, line, column of the call).
    pub stack: Vec<(String, usize, usize)>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// Renders like a compiler: `error: …`, `--> file:line:col`, the line, a caret.
    pub fn render(&self, file: &str, src: &str) -> String {
        let mut s = format!("{}: {}\n", self.severity, self.message);
        if self.line > 0 {
            s.push_str(&format!("  --> {file}:{}:{}\n", self.line, self.column));
            if let Some(text) = src.lines().nth(self.line - 1) {
                let num = self.line.to_string();
                let pad = " ".repeat(num.len());
                s.push_str(&format!("{pad} |\n{num} | {text}\n"));
                // The caret goes under the column, counting display width for Chinese text.
                let before: String = text.chars().take(self.column.saturating_sub(1)).collect();
                let w = unicode_width::UnicodeWidthStr::width(before.as_str());
                let lead: String = before
                    .chars()
                    .filter(|c| *c == '\t')
                    .map(|_| '\t')
                    .collect();
                let spaces = w.saturating_sub(lead.len());
                s.push_str(&format!("{pad} | {lead}{}^\n", " ".repeat(spaces)));
            }
        } else {
            s.push_str(&format!("  --> {file}\n"));
        }
        for (name, l, c) in self.stack.iter().rev() {
            if *l == 0 {
                // Called by casebook itself (score, test), not from a line of the script.
                s.push_str(&format!("  = in fn {name}\n"));
            } else {
                s.push_str(&format!("  = in fn {name}, called at {file}:{l}:{c}\n"));
            }
        }
        if let Some(h) = &self.help {
            s.push_str(&format!("  = help: {h}\n"));
        }
        s
    }
}

fn loc(p: Position) -> (usize, usize) {
    (p.line().unwrap_or(0), p.position().unwrap_or(0))
}

/// A parse error as a diagnostic.
pub fn parse_diag(e: &ParseError) -> Diagnostic {
    let (line, column) = loc(e.1);
    if let rhai::ParseErrorType::BadInput(rhai::LexError::Runtime(m)) = &*e.0 {
        if let Some(t) = m.strip_prefix(super::engine::PARSE_LIMIT) {
            return parse_limit_diag(t, line, column);
        }
    }
    let msg = e.0.to_string();
    // `script::compare`'s findings (a value that is no value of a property)
    // come as lexer errors: they are not syntax.
    let message = match &*e.0 {
        rhai::ParseErrorType::BadInput(rhai::LexError::Runtime(m)) => m.clone(),
        _ => format!("syntax: {}", msg.trim_end_matches('.')),
    };
    Diagnostic {
        severity: "error",
        message,
        line,
        column,
        stack: Vec::new(),
        help: None,
    }
}

/// Parsing stopped at a limit (see `engine::limit_parsing`): the token says which.
fn parse_limit_diag(token: &str, line: usize, column: usize) -> Diagnostic {
    let (message, help) = if let Some(mib) = token.strip_prefix("memory:") {
        (
            format!("parsing the script used more than the memory limit of {mib} MiB"),
            "is the file really a script? Raise the limit with --max-memory MIB if it is",
        )
    } else if let Some(secs) = token.strip_prefix("timeout:") {
        (
            format!("parsing the script took longer than the time limit of {secs} s"),
            "is the file really a script? Raise the limit with --timeout SECONDS if it is",
        )
    } else {
        ("cancelled".to_string(), "")
    };
    Diagnostic {
        severity: "error",
        message,
        line,
        column,
        stack: Vec::new(),
        help: (!help.is_empty()).then(|| help.to_string()),
    }
}

/// Whether `e` is a statement missing its `;`.
pub fn is_missing_semicolon(e: &ParseError) -> bool {
    matches!(&*e.0, rhai::ParseErrorType::MissingToken(t, _) if t == ";")
}

/// A parse error as a diagnostic, placed where the script's author must act:
/// Rhai reports a missing `;` at the next statement; it belongs at the end
/// of the code before it.
pub fn parse_diag_in(e: &ParseError, src: &str) -> Diagnostic {
    let mut d = parse_diag(e);
    if is_missing_semicolon(e) && d.line > 0 {
        if let Some((line, column)) = end_of_code_before(src, d.line, d.column) {
            d.line = line;
            d.column = column;
            d.message = "syntax: a ';' is missing at the end of this statement".into();
        }
    }
    d
}

/// The (line, column) just after the last code character before (line, column),
/// skipping blank lines and `//` comments.
pub fn end_of_code_before(src: &str, line: usize, column: usize) -> Option<(usize, usize)> {
    let lines: Vec<&str> = src.lines().collect();
    let mut l = line;
    let mut limit = column.saturating_sub(1);
    while l >= 1 {
        let text: String = lines.get(l - 1)?.chars().take(limit).collect();
        let code = match text.find("//") {
            Some(i) => &text[..i],
            None => &text[..],
        };
        let code = code.trim_end();
        if !code.is_empty() {
            return Some((l, code.chars().count() + 1));
        }
        l -= 1;
        limit = usize::MAX;
    }
    None
}

/// Rewrites Rhai's type names in a message into the words scripts use.
fn friendly_sig(sig: &str) -> String {
    // e.g. "< (date, string)" or "foo (i64)"
    let Some((name, rest)) = sig.split_once(" (") else {
        return sig.to_string();
    };
    let args: Vec<&str> = rest
        .trim_end_matches(')')
        .split(", ")
        .filter(|a| !a.is_empty())
        .collect();
    let words: Vec<&str> = args
        .iter()
        .map(|a| friendly_type(a.trim_start_matches("&mut ")))
        .collect();
    let name = name.trim();
    let ops = ["<", "<=", ">", ">=", "==", "!="];
    if ops.contains(&name) && words.len() == 2 {
        return format!("cannot compare {} with {}", words[0], words[1]);
    }
    if ["+", "-", "*", "/", "%"].contains(&name) && words.len() == 2 {
        return format!("cannot use {name} on {} and {}", words[0], words[1]);
    }
    if words.is_empty() {
        format!("there is no function {name}()")
    } else {
        format!(
            "there is no function {name} that takes ({})",
            words.join(", ")
        )
    }
}

/// Closest known name within a small edit distance, for "did you mean".
pub fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d > 0 && *d <= 2.max(word.len() / 4) && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A runtime error as a diagnostic, with its call stack and the limit it hit, if any.
pub fn runtime_diag(e: &EvalAltResult, limits: &Limits) -> Diagnostic {
    let mut stack = Vec::new();
    let mut cur = e;
    while let EvalAltResult::ErrorInFunctionCall(name, _src, inner, pos) = cur {
        let (l, c) = loc(*pos);
        if !name.starts_with("anon$") {
            stack.push((name.clone(), l, c));
        } else {
            stack.push(("|closure|".into(), l, c));
        }
        cur = inner;
    }
    let (line, column) = loc(cur.position());
    let mut help = None;
    let message = match cur {
        EvalAltResult::ErrorTerminated(token, _) => {
            let t = token.to_string();
            if t == "cancelled" {
                "cancelled".to_string()
            } else if t.starts_with("memory:") {
                help = Some("a loop that keeps growing a string, array or map? Raise the limit with --max-memory MIB if the data really is this large".into());
                format!(
                    "the script used more than the memory limit of {} MiB",
                    limits.max_memory >> 20
                )
            } else {
                help = Some("raise the limit with --timeout SECONDS if the script is meant to run this long".into());
                format!(
                    "the script ran longer than the time limit of {} s",
                    limits.timeout.as_secs_f64()
                )
            }
        }
        EvalAltResult::ErrorTooManyOperations(_) => {
            help = Some(
                "raise the limit with --max-operations N (0 means no limit); an endless loop?"
                    .into(),
            );
            format!(
                "the script ran more than {} operations",
                limits.max_operations
            )
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            help = Some("a function that calls itself without end? The limit is fixed to protect the process".into());
            format!(
                "functions called each other more than {} deep",
                limits.max_call_depth
            )
        }
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            help = Some("a loop that keeps growing a value?".into());
            format!("{what} grew past its size limit")
        }
        EvalAltResult::ErrorFunctionNotFound(sig, _) => {
            let name = sig.split(" (").next().unwrap_or(sig).trim();
            if let Some(m) = did_you_mean(name, FUNCTIONS.iter().map(|f| f.0)) {
                help = Some(format!("did you mean {m}?"));
            }
            friendly_sig(sig)
        }
        EvalAltResult::ErrorPropertyNotFound(p, _) | EvalAltResult::ErrorDotExpr(p, _) => {
            let name = p
                .split('\'')
                .nth(1)
                .or_else(|| p.split('`').nth(1))
                .unwrap_or(p.as_str())
                .to_string();
            if let Some(m) = did_you_mean(&name, super::records::all_props()) {
                help = Some(format!("did you mean .{m}?"));
            }
            if p.contains("getter") || p.contains("Unknown property") {
                format!(
                    "no property .{name} here: {}",
                    p.replace("Unknown property", "unknown property")
                )
            } else {
                format!("no property .{name}")
            }
        }
        EvalAltResult::ErrorVariableNotFound(v, _) => {
            let cands = FUNCTIONS.iter().map(|f| f.0);
            if let Some(m) = did_you_mean(v, cands) {
                help = Some(format!("did you mean {m}()?"));
            }
            format!("there is no variable {v}: declare it with let {v} = …")
        }
        EvalAltResult::ErrorMismatchDataType(want, got, _) => {
            format!(
                "expected {} but got {}",
                friendly_type(want),
                friendly_type(got)
            )
        }
        EvalAltResult::ErrorArithmetic(m, _) => format!("arithmetic: {m}"),
        EvalAltResult::ErrorDataRace(_, _) => {
            help = Some(
                "copy what the closure needs into a variable first, e.g. `let id = i.id;` then `|f| f.institution_id == id`"
                    .into(),
            );
            "a closure here captures a variable that this same expression is also using (Rhai cannot lend it twice)".to_string()
        }
        EvalAltResult::ErrorModuleNotFound(m, _) => {
            help = Some("put the shared functions in the same script".into());
            format!("scripts cannot import modules (\"{m}\"): they may not read files")
        }
        EvalAltResult::ErrorRuntime(v, _) => v.to_string(),
        other => {
            let s = other.to_string();
            // Drop Rhai's own " (line x, position y)" suffix: the location is printed separately.
            match s.rfind(" (line ") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    };
    Diagnostic {
        severity: "error",
        message,
        line,
        column,
        stack,
        help,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::records::all_props;

    #[test]
    fn operator_signatures_become_words() {
        assert_eq!(
            friendly_sig("< (date, string)"),
            "cannot compare a date with a string"
        );
        assert!(friendly_sig("foo (i64)").contains("there is no function foo"));
    }

    #[test]
    fn typos_find_their_names() {
        assert_eq!(did_you_mean("overdeu", all_props()), Some("overdue"));
        assert_eq!(
            did_you_mean("institutons", FUNCTIONS.iter().map(|f| f.0)),
            Some("institutions")
        );
        assert_eq!(did_you_mean("zzzzzz", all_props()), None);
    }

    #[test]
    fn caret_sits_under_the_column_with_chinese_text() {
        let d = Diagnostic {
            severity: "error",
            message: "m".into(),
            line: 1,
            column: 8,
            stack: vec![],
            help: None,
        };
        let out = d.render("x.rhai", "let 逾期 = 1 +;");
        let lines: Vec<&str> = out.lines().collect();
        let src = lines.iter().find(|l| l.contains("逾期")).unwrap();
        let caret = lines.iter().find(|l| l.trim_end().ends_with('^')).unwrap();
        let col = unicode_width::UnicodeWidthStr::width(&caret[..caret.find('^').unwrap()]);
        let want = unicode_width::UnicodeWidthStr::width(&src[..src.find('=').unwrap()]);
        assert_eq!(col, want);
    }
}
