//! `casebook definitions DIR`: definition files (`*.d.rhai`) for the Rhai
//! language server, so an editor with the Rhai extension completes and
//! documents casebook's functions and properties.
//!
//! The signatures come from the engine itself (Rhai's `metadata` feature
//! writes every registered function); the doc text of each comes from the
//! tables `casebook check` and the REPL's `:help` use (`script::api::FUNCTIONS`
//! and the records' property tables), so the files cannot drift from either.

use std::path::{Path, PathBuf};

use crate::script::api::FUNCTIONS;
use crate::script::records::RECORD_TYPES;

/// The doc comment for a `fn NAME(` line of a definition file, or `None`.
fn doc_for(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("fn ")?;
    if let Some(prop) = rest.strip_prefix("get ") {
        // `fn get name(_: type) -> Ret;`
        let name = prop.split('(').next()?.trim();
        let ty = prop
            .split_once(": ")
            .and_then(|(_, t)| t.split([')', ',']).next())
            .unwrap_or("")
            .trim();
        let mut found: Vec<String> = RECORD_TYPES
            .iter()
            .filter(|t| ty.is_empty() || t.name == ty || ty.ends_with(t.name))
            .flat_map(|t| t.props.iter().filter(|p| p.name == name))
            .map(|p| p.doc.to_string())
            .collect();
        if found.is_empty() {
            found = RECORD_TYPES
                .iter()
                .flat_map(|t| t.props.iter().filter(|p| p.name == name))
                .map(|p| p.doc.to_string())
                .collect();
        }
        found.dedup();
        return found.first().map(|d| format!("/// .{name}: {d}\n"));
    }
    let name = rest.split(['(', '<']).next()?.trim();
    let entries: Vec<_> = FUNCTIONS.iter().filter(|f| f.0 == name).collect();
    if entries.is_empty() {
        return None;
    }
    let mut doc = String::new();
    for (i, (_, sig, desc, example)) in entries.iter().enumerate() {
        if i > 0 {
            doc.push_str("///\n");
        }
        doc.push_str(&format!(
            "/// `{sig}`: {desc}\n///\n/// ```rhai\n/// {example}\n/// ```\n"
        ));
    }
    Some(doc)
}

/// A definition file with casebook's doc text put above each casebook function.
pub fn annotate(content: &str) -> String {
    let mut out = String::with_capacity(content.len() * 2);
    let mut prev_doc = false;
    for line in content.lines() {
        // Keep Rhai's own doc comments where it has them.
        if !prev_doc {
            if let Some(doc) = doc_for(line) {
                out.push_str(&doc);
            }
        }
        prev_doc = line.trim_start().starts_with("///");
        // A native function returning `Result<Dynamic, Box<EvalAltResult>>`
        // comes out with a mangled type: it returns any value.
        let line = line.replace("-> EvalAltResult>>", "-> ?");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Writes the definition files into `dir` (made if missing); returns their paths.
pub fn write_definitions(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let scratch = tempfile::tempdir()?;
    let ledger = crate::ledger::LedgerWriter::create(&scratch.path().join("defs.redb"))?;
    let host = crate::script::ScriptHost::new(
        &ledger,
        chrono::NaiveDate::from_ymd_opt(2019, 1, 1).unwrap(),
        rhai::Map::new(),
        false,
        crate::script::Limits::default(),
    )?;
    let scope = host.scope();
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, content) in host.engine.definitions_with_scope(&scope).iter_files() {
        let p = dir.join(&name);
        std::fs::write(&p, annotate(&content))?;
        written.push(p);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_and_properties_get_their_doc_text() {
        let d = doc_for("fn institutions() -> Records;").unwrap();
        assert!(d.contains("every institution"), "{d}");
        assert!(d.contains("```rhai"), "{d}");
        let p = doc_for("fn get days_overdue(_: finding) -> ?;");
        assert!(p.is_some_and(|p| p.starts_with("/// .days_overdue: ")));
        // The property of the type named, not the first type having one so named.
        let f = doc_for("fn get status(_: finding) -> ?;").unwrap();
        let i = doc_for("fn get status(_: institution) -> ?;").unwrap();
        assert_ne!(f, i);
        assert!(doc_for("fn len(array: Array) -> int;").is_none());
    }
}
