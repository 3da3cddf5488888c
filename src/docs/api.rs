//! `docs/script-api.md`: every script function and every record property,
//! read from the tables `casebook check`, `:help` and the REPL's completion
//! use (`script::api::FUNCTIONS`, `script::records::RECORD_TYPES`), with the
//! allowed values of enumerated properties from the model's enums.

use std::fmt::Write;

use super::values::{self, Domain};
use crate::repl::commands::COMMANDS;
use crate::script::api::FUNCTIONS;
use crate::script::records::RECORD_TYPES;

/// The variable the examples of a record type's properties use.
fn receiver(type_name: &str) -> &'static str {
    match type_name {
        "institution" => "i",
        "finding" => "f",
        "inspection" => "x",
        "application" => "a",
        "course" => "c",
        _ => "r",
    }
}

/// The collection a record type's examples draw from.
fn collection(type_name: &str) -> String {
    match type_name {
        "inspection" => "inspections()".into(),
        other => format!("{other}s()"),
    }
}

/// What some functions' arguments may be, where the signature alone does not say.
fn argument_values(name: &str) -> Option<String> {
    let kind = |t, p| values::property(t, p).map(|d: Domain| d.in_scripts());
    Some(match name {
        "set_status" => format!("`status`: {}", kind("institution", "status")?),
        "open_finding" => format!(
            "map keys: the finding columns of [file formats](file-formats.md#findings) \
             (`id` may be left out: one is made); `kind`: {}",
            kind("finding", "kind")?
        ),
        "list_add" | "list_remove" | "on_list" | "list_entries" => {
            "`list`: any name; the bundled rules use `blacklist` and `whitelist`".into()
        }
        "sort_by_key" => {
            "`key`: a property name, an array of names, or a function of one item".into()
        }
        "count_by" | "sum_by" | "group_by" => {
            "`\"prop\"`: any property of the items (records or maps)".into()
        }
        "notice" => "`kind`: the name of a template `templates/KIND.txt.j2` \
                     (bundled: `rectification_notice`, `overdue_reminder`, `blacklist_notice`)"
            .into(),
        "reject" | "reject_course" => "`reasons`: a text or an array of texts".into(),
        _ => return None,
    })
}

/// An expression using property `p` of record `r` the way rules use it.
fn example(r: &str, p: &str, desc: &str, dom: Option<&Domain>) -> String {
    let optional = desc.contains("or ()");
    match dom {
        Some(Domain::List(c)) => format!("{r}.{p}.contains(\"{}\")", c[0].en),
        Some(Domain::Enum(c)) => format!("{r}.{p} == \"{}\"", c[0].en),
        _ if optional => format!("{r}.{p} != ()"),
        Some(Domain::Date) => format!("as_of() - {r}.{p}"),
        Some(Domain::Int | Domain::Number(_) | Domain::Yuan) => format!("{r}.{p} > 0"),
        Some(Domain::Bool) => format!("!{r}.{p}"),
        Some(Domain::Severity) => format!("{r}.{p} >= 2"),
        _ => format!("{r}.{p}"),
    }
}

/// Escapes `|` for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The whole page.
pub fn script_api(header: &str) -> String {
    let mut s = String::new();
    s.push_str(header);
    s.push_str(
        "# Script API reference\n\n\
         Everything a rule script (`casebook run`, `score`, `test`, the REPL) can call or read. \
         The guide to writing rules is [writing-rules.md](writing-rules.md) \
         ([中文](writing-rules.zh.md)).\n\n\
         A script sees the ledger **as of one date** (`--as-of`, default today): records \
         opened after it are not there, dates after it read `()`, and derived properties \
         (`status`, `overdue`, `licensed`) are computed for it. A missing optional value is \
         `()`. Enumerated values are the English codes; the Chinese names in brackets are \
         what files and printed registers may use. Functions marked *(--write)* change the \
         ledger and are an error unless the run has `--write` (in the REPL: `:write on`); \
         all the writes of one run are one transaction, committed only if the script ends \
         without error.\n\n",
    );
    s.push_str(
        "## Functions\n\n| function | what it does | values | example |\n|---|---|---|---|\n",
    );
    for (name, sig, desc, ex) in FUNCTIONS {
        let vals = argument_values(name).unwrap_or_default();
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | `{}` |",
            cell(sig),
            cell(desc),
            cell(&vals),
            cell(ex)
        );
    }
    for t in RECORD_TYPES.iter() {
        let r = receiver(t.name);
        let _ = write!(
            s,
            "\n## {} properties\n\n`{}` is {} (`type_of` gives `\"{}\"`), e.g. from `{}`. \
             A table of them shows first: {}.\n\n\
             | property | meaning | values | example |\n|---|---|---|---|\n",
            t.name,
            r,
            t.friendly,
            t.name,
            collection(t.name),
            t.default_columns
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        for prop in t.props {
            let (p, desc) = (prop.name, prop.doc);
            let dom = values::property(t.name, p);
            let vals = dom.as_ref().map(|d| d.in_scripts()).unwrap_or_default();
            let ex = example(r, p, desc, dom.as_ref());
            let _ = writeln!(
                s,
                "| `{p}` | {} | {} | `{}` |",
                cell(desc),
                cell(&vals),
                cell(&ex)
            );
        }
    }
    s.push_str(
        "\n## Dates\n\n\
         | expression | gives |\n|---|---|\n\
         | `date(\"2019-02-20\")` | a date from ISO text (an error if it is no real date) |\n\
         | `as_of()` | the date the run sees the ledger as of |\n\
         | `d + 7`, `d - 7` | the date 7 days later, earlier |\n\
         | `d2 - d1` | whole days from `d1` to `d2` |\n\
         | `add_months(d, n)` | the date `n` calendar months later (earlier if `n < 0`) |\n\
         | `d.year`, `d.month`, `d.day`, `d.weekday` | its parts as numbers |\n\
         | `<` `<=` `>` `>=` `==` `!=` | compare two dates; a date is never equal to `()` |\n\
         | `d.to_string()`, `` `${d}` `` | ISO text `YYYY-MM-DD` |\n",
    );
    s.push_str("\n## REPL commands\n\n| command | what it does |\n|---|---|\n");
    for (c, h) in COMMANDS {
        let what = h.split_once(" — ").map(|x| x.1).unwrap_or(h);
        let usage = h.split_once(" — ").map(|x| x.0).unwrap_or(c);
        let _ = writeln!(s, "| `{}` | {} |", cell(usage), cell(what));
    }
    s
}
