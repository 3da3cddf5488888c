//! The script API of SPEC §5: what scripts see, registered section by
//! section (as Rhai's own `packages`, one file per feature).
//!
//! Records reach scripts as registered custom types with getters, not as maps
//! built per record: a getter computes one field when the script asks for it.
//! Every record carries the as-of date of the run that produced it, so derived
//! fields (`status`, `overdue`, `licensed`) are computed for that date and
//! never from a global.

pub(crate) mod aggregation;
mod charts;
pub(crate) mod collections;
mod common;
pub(crate) mod dates;
mod decisions;
mod enums;
mod growth;
mod growth_text;
mod notices;
mod pacing;
mod platform;
pub(crate) mod records;
pub(crate) mod rows;
mod sort;
mod writes;

use std::sync::Arc;

use rhai::Engine;

use super::par::BuildEngine;

/// Registers the whole API on `engine`, bound to `host`; `build` makes the
/// engines of a parallel map's workers (the engine module's builder, which
/// this module may not name: it depends on this one).
pub fn register(engine: &mut Engine, host: Arc<super::state::Host>, build: BuildEngine) {
    records::register(engine, &host);
    enums::register(engine, &host);
    dates::register(engine, &host);
    collections::register(engine, &host, build);
    decisions::register(engine, &host);
    platform::register(engine, &host);
    notices::register(engine, &host);
    sort::register(engine, host.limits.max_memory);
    aggregation::register(engine, host.limits.max_memory);
    rows::register(engine, &host);
    charts::register(engine, &host);
    writes::register(engine, &host);
    growth::register(engine, &host);
    pacing::register(engine, &host);
}

/// Names, signatures, descriptions and examples of the script functions: the
/// text of `:help`, and the list `casebook check` knows.
pub const FUNCTIONS: &[(&str, &str, &str, &str)] = &[
    ("institutions", "institutions()", "every institution, closed ones included (lazy; for, filter, map, len)", "institutions().filter(|i| i.district == \"天河\").len()"),
    ("institution", "institution(id)", "one institution, or () if unknown", "institution(\"GZ-TH-00001\").name"),
    ("inspections", "inspections()", "every inspection dated on or before the as-of date", "inspections().len()"),
    ("findings", "findings()", "every finding opened on or before the as-of date", "findings().filter(|f| f.overdue).len()"),
    ("districts", "districts()", "the ledger's configured districts", "districts()"),
    ("value_of", "value_of(prop, text)", "the code text names for an enumerated property, in English or Chinese (an error naming every value if none)", "value_of(\"district\", \"天河区\")  // \"天河\""),
    ("as_of", "as_of()", "the date the script sees the ledger as of", "as_of() - 7"),
    ("date", "date(\"YYYY-MM-DD\")", "a date from ISO text", "date(\"2019-02-20\") + 30"),
    ("emit", "emit(map)", "add one row to the result", "emit(#{id: i.id, name: i.name})"),
    ("chart", "chart(#{kind, title, x, series})", "add a chart to the report page (run -o FILE.html): kind \"bar\", \"stacked_bar\" or \"line\"; x the points along the bottom (texts, numbers or dates); series a map of name → one number per x; optional x_label, y_label, colors", "chart(#{kind: \"bar\", title: \"各区逾期问题\", x: [\"越秀\", \"海珠\"], series: #{\"逾期\": [29, 36]}})"),
    ("columns", "columns([names])", "fix the order of result columns", "columns([\"id\", \"name\"])"),
    ("count_by", "count_by(items, \"prop\")", "map of property value → count", "count_by(findings(), \"kind\")"),
    ("sum_by", "sum_by(items, \"prop\")", "sum of a numeric property", "sum_by(institutions(), \"students\")"),
    ("group_by", "group_by(items, \"prop\")", "map of property value → array of items", "group_by(institutions(), \"district\")"),
    ("sort_by_key", "array.sort_by_key(key) / array.sort_by_key(key, \"desc\")", "sort in place by a property, several properties, or a function's result (ties keep their order)", "v.sort_by_key([\"filed_on\", \"id\"])"),
    ("can_write", "can_write()", "whether write calls are accepted (--write or --dry-run; in the REPL, :write on or preview); scripts need it only to branch", "if can_write() { accept_course(c.id) }"),
    ("dry_run", "dry_run()", "whether the writes are only previewed (--dry-run; in the REPL, :write preview): checked and listed, never committed", "let applied = can_write() && !dry_run();"),
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
    ("list_entries", "list_entries(name)", "entries on a named list as of the date: #{id, since, reason, operator, owner, mine} (mine: this rule or person put it there)", "list_entries(\"whitelist\")"),
    ("publish", "publish(template, file, data)", "(--out) render templates/TEMPLATE.j2 with data into --out/FILE, e.g. a page", "publish(\"lists_page.html\", \"lists.html\", #{districts: []})"),
    ("set_status", "set_status(id, status, reason)", "(--write) change an institution's status from the as-of date", "set_status(\"GZ-1\", \"closed\", \"无证办学\")"),
    ("open_finding", "open_finding(map)", "(--write) record a new finding; returns its id", "open_finding(#{institution_id: \"GZ-1\", kind: \"fire_hazard\", severity: 2, deadline: as_of() + 15})"),
    ("rectify", "rectify(finding_id)", "(--write) mark a finding rectified on the as-of date", "rectify(\"F2018-000001\")"),
    ("close_out", "close_out(finding_id)", "(--write) close out (销号) a rectified finding on the as-of date", "close_out(\"F2018-000001\")"),
    ("list_add", "list_add(list, id, reason)", "(--write) put an institution on a named list, owned by this rule (or, in the REPL, this person); already on it: unchanged", "list_add(\"blacklist\", \"GZ-1\", \"无证办学\")"),
    ("list_remove", "list_remove(list, id, reason)", "(--write) take an institution off a named list: only an entry this rule or person added; not on it: unchanged", "list_remove(\"blacklist\", \"GZ-1\", \"整改完成\")"),
    ("list_remove_other", "list_remove_other(list, id, reason)", "(--write) take off an entry another rule or person added, saying why", "list_remove_other(\"blacklist\", \"GZ-1\", \"复核：误列\")"),
];
