//! `docs/file-formats.md`: the columns of every record kind, read from the
//! tables import and export use (`RecordKind::columns`, `required`), with the
//! values each accepts (`super::values`, the model's enums).

use std::fmt::Write;

use super::values;
use crate::model::{parse_bool, RecordKind, DEFAULT_DISTRICTS};

/// The yes/no words import accepts, checked against `parse_bool` so the list
/// cannot claim a word it refuses.
const YES: &[&str] = &["true", "yes", "y", "t", "1", "是", "通过", "合格", "√", "✓"];
const NO: &[&str] = &[
    "false",
    "no",
    "n",
    "f",
    "0",
    "否",
    "未通过",
    "不通过",
    "不合格",
    "×",
    "✗",
];

/// The whole page; an error names a column `values` does not know.
pub fn file_formats(header: &str) -> Result<String, String> {
    for w in YES {
        if parse_bool(w) != Some(true) {
            return Err(format!("file formats: import does not read {w:?} as yes"));
        }
    }
    for w in NO {
        if parse_bool(w) != Some(false) {
            return Err(format!("file formats: import does not read {w:?} as no"));
        }
    }
    let mut s = String::new();
    s.push_str(header);
    s.push_str(
        "# File formats\n\n\
         `casebook import KIND FILE` reads these files and `casebook export KIND` writes them \
         (export then import gives back the same records). KIND is one of: ",
    );
    s.push_str(
        &RecordKind::ALL
            .iter()
            .map(|k| format!("`{}` ({})", k.as_str(), k.zh()))
            .collect::<Vec<_>>()
            .join(", "),
    );
    s.push_str(
        ".\n\n\
         ## Files\n\n\
         - **CSV** (`.csv`, `.txt`): the first line is the header. The separator is a comma, \
         else a tab, else `;` (judged from the header line). The encoding is found by itself: \
         UTF-8, UTF-8 with a BOM, or GB18030 (which includes GBK, what Excel saves on a \
         Chinese Windows).\n\
         - **JSON Lines** (`.jsonl`, `.ndjson`): one JSON object per line, keyed by the English \
         field names; numbers and booleans may be JSON numbers and booleans, `departments` a \
         JSON array; `null` empties a field.\n\
         - **Excel** (`.xlsx`, `.xls`): the first sheet, or the one `--sheet NAME` names; its \
         first used row is the header. Date cells, numbers and booleans are read as what \
         they show.\n\n\
         Headers may be the English field name (any case) or any of its Chinese headers below; \
         columns may come in any order; a column (or JSON key) that is none of them is ignored \
         with one warning naming it. Codes, numbers and dates typed in full width (`２６０`) \
         are read as their ASCII forms (NFKC); names, addresses and notes are kept as written. \
         A date may also be an Excel serial number (1900 system: 43466 is 2019-01-01). \
         Enumerated values may be the English code or any of its Chinese names. \
         **One file is one transaction**: if any row is bad, every bad row is reported \
         (file, row as Excel numbers it, field, value, why, and the record's id) and nothing is written (exit 1). \
         Rows are upserts by `id`: importing the same file again changes nothing, and a \
         column the file leaves out keeps the stored value of an optional field. \
         `--dry-run` checks every row and writes nothing.\n\n\
         On export, a CSV cell that a spreadsheet would run as a formula (starting with \
         `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, which import \
         removes again.\n\n",
    );
    for kind in RecordKind::ALL {
        let _ = write!(
            s,
            "## {}\n\n{} (`casebook import {} FILE`). Required columns are in **bold**.\n\n\
             | field | Chinese headers | value | accepted |\n|---|---|---|---|\n",
            kind.as_str(),
            kind.zh(),
            kind.as_str()
        );
        for (field, zh) in kind.columns() {
            let dom = values::column(kind, field).ok_or_else(|| {
                format!(
                    "file formats: column `{field}` of {} has no kind of value in src/docs/values.rs",
                    kind.as_str()
                )
            })?;
            let name = if kind.required().contains(field) {
                format!("**`{field}`**")
            } else {
                format!("`{field}`")
            };
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} |",
                zh.join(" / "),
                dom.short(),
                dom.accepted_in_files().replace('|', "\\|")
            );
        }
        s.push('\n');
    }
    s.push_str(
        "## Dates\n\n\
         `YYYY-MM-DD` (`2019-02-20`) is the form casebook writes. Import also reads the forms \
         spreadsheet programs rewrite dates into: `2019/2/20`, `2019-2-20` and `2019年2月20日`. \
         A date that is not on the calendar (`2019-02-30`) is an error, not the next valid day.\n\n\
         ## Yes and no\n\n",
    );
    let _ = writeln!(
        s,
        "Yes: {}. No: {}. Case and surrounding blanks do not matter.\n",
        YES.iter()
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
            .join(", "),
        NO.iter()
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    s.push_str("## Enumerated values\n\n");
    let mut seen = std::collections::BTreeSet::new();
    for kind in RecordKind::ALL {
        for (field, _) in kind.columns() {
            let Some(dom) = values::column(kind, field) else {
                continue;
            };
            let Some(choices) = dom.choices() else {
                continue;
            };
            let title = format!("{}.{field}", kind.audit_name());
            if !seen.insert(title.clone()) {
                continue;
            }
            let _ = write!(
                s,
                "### {title}\n\n| code | Chinese | meaning |\n|---|---|---|\n"
            );
            for c in choices {
                let _ = writeln!(s, "| `{}` | {} | {} |", c.en, c.zh.join(" / "), c.desc);
            }
            s.push('\n');
        }
    }
    let _ = writeln!(
        s,
        "## Districts\n\n`casebook init` configures a new ledger with {} districts: {}. \
         A file may write a district with its 区 (`天河区`) or without (`天河`).",
        DEFAULT_DISTRICTS.len(),
        DEFAULT_DISTRICTS.join(" ")
    );
    Ok(s)
}
