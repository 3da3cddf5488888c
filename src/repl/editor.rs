//! The line editor's helper (rustyline): completion of functions, variables,
//! properties and ledger ids; hints from history; highlighting; and the
//! validation that lets an unclosed bracket or string continue on the next line.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::commands::COMMANDS;
use crate::script::api::FUNCTIONS;
use crate::script::records::{
    self, APPLICATION_PROPS, COURSE_PROPS, FINDING_PROPS, INSPECTION_PROPS, INSTITUTION_PROPS,
};
use crate::script::state::Host;

/// Rhai's keywords, completed and highlighted.
const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "for", "in", "while", "loop", "do", "until", "break",
    "continue", "return", "throw", "try", "catch", "switch", "true", "false", "private", "import",
    "export", "as",
];

/// What completion, hints and highlighting need to know about the session.
pub(super) struct ReplHelper {
    host: Arc<Host>,
    names: Arc<Mutex<Vec<String>>>,
    hinter: HistoryHinter,
    colour: bool,
}

impl ReplHelper {
    /// A helper that completes from `host`'s ledger and API and from `names`
    /// (the session's variables and functions, kept current by the session).
    pub(super) fn new(host: Arc<Host>, names: Arc<Mutex<Vec<String>>>, colour: bool) -> Self {
        ReplHelper {
            host,
            names,
            hinter: HistoryHinter::new(),
            colour,
        }
    }
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

/// The values to offer after `.prop ==` / `.prop != "ab`: (where the
/// replacement starts, [(quoted value, its other name)]).
fn values_after_comparison(
    before: &str,
    districts: &[String],
) -> Option<(usize, Vec<(String, String)>)> {
    let op = before.rfind("==").or_else(|| before.rfind("!="))?;
    let rest = &before[op + 2..];
    let typed = rest.trim_start();
    if typed.contains('"') && !typed.starts_with('"') || typed[typed.len().min(1)..].contains('"') {
        return None;
    }
    let partial = typed.trim_start_matches('"');
    let start = before.len() - typed.len();
    let left = before[..op].trim_end();
    let dot = left.rfind('.')?;
    let prop = &left[dot + 1..];
    let tys: Vec<records::PropType> = records::RECORD_TYPES
        .iter()
        .flat_map(|t| t.props.iter())
        .filter(|p| p.name == prop && p.ty.is_enumerated())
        .map(|p| p.ty)
        .collect();
    if tys.is_empty() {
        return None;
    }
    let mut v: Vec<(String, String)> = Vec::new();
    // `status` is on four kinds of record: each one's values, once.
    for ty in tys {
        match ty.values() {
            Some(vals) => {
                for (en, zh) in vals.values {
                    v.push((format!("\"{en}\""), zh.join("/")));
                    for z in *zh {
                        v.push((format!("\"{z}\""), en.to_string()));
                    }
                }
            }
            None => {
                for d in districts {
                    v.push((format!("\"{d}\""), format!("{d}区")));
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    v.retain(|(s, _)| seen.insert(s.clone()));
    v.retain(|(s, _)| s[1..].starts_with(partial));
    Some((start, v))
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
        // After `x.prop ==` or `!=` on an enumerated property: its values, in both languages.
        if let Some((start, v)) =
            values_after_comparison(before, self.host.snap().reader.districts())
        {
            return Ok((start, v.iter().map(|(s, d)| pair(s, d)).collect()));
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
            for records::Prop {
                name: p, doc: d, ..
            } in INSTITUTION_PROPS
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
    fn values_are_offered_after_a_comparison_with_an_enumerated_property() {
        let d = vec!["天河".to_string()];
        let (start, v) = values_after_comparison("i.category == ", &d).unwrap();
        assert_eq!(start, "i.category == ".len());
        let vs: Vec<&str> = v.iter().map(|x| x.0.as_str()).collect();
        assert!(
            vs.contains(&"\"subject\"") && vs.contains(&"\"学科类\""),
            "{vs:?}"
        );
        let (_, v) = values_after_comparison("f.status != \"clo", &d).unwrap();
        assert_eq!(
            v.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
            ["\"closed\""]
        );
        let (_, v) = values_after_comparison("i.district == \"", &d).unwrap();
        assert_eq!(v[0].0, "\"天河\"");
        assert!(values_after_comparison("i.name == ", &d).is_none());
    }
}
