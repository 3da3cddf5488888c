//! `casebook show ID`: the register of one institution (一户一册) as text.
//!
//! Each section is a [`Sheet`] with a title line: drawn by comfy-table on a
//! terminal (it measures cells by display width, so Chinese text stays
//! aligned), or written as CSV, JSON, .xlsx… by `crate::sheet`.

use crate::ledger::{LedgerError, Reader};
use crate::model::*;
use crate::sheet::{yuan_text, Cell, Sheet};
use chrono::NaiveDate;

/// A section of the register being built: a titled sheet whose rows are added as text.
struct Section(Sheet);

impl Section {
    fn set_header(&mut self, cols: Vec<&str>) {
        self.0.cols = cols.into_iter().map(String::from).collect();
    }

    fn add_row(&mut self, row: Vec<String>) {
        self.0.rows.push(row.into_iter().map(Cell::from).collect());
    }
}

/// A section named `name` (its sheet's name in a workbook).
fn table_named(name: &str) -> Section {
    Section(Sheet::new(name, &[]))
}

/// A date, or a dash for none.
fn date_or_dash(d: Option<NaiveDate>) -> String {
    d.map(fmt_date).unwrap_or_else(|| "—".into())
}

/// Renders the register of institution `id` as of `as_of`, or `None` if there is no such institution.
pub fn render(r: &Reader, id: &str, as_of: NaiveDate) -> Result<Option<String>, LedgerError> {
    let Some(sheets) = sheets(r, id, as_of)? else {
        return Ok(None);
    };
    let mut out = String::new();
    for (i, s) in sheets.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(s.title.as_deref().unwrap_or(&s.name));
        out.push('\n');
        if !s.rows.is_empty() {
            let mut t = crate::script::output::new_table();
            t.set_header(s.cols.clone());
            for r in s.text_rows() {
                t.add_row(r);
            }
            out.push_str(&crate::script::output::drawn(t));
            out.push('\n');
        }
    }
    // Text from the ledger never reaches a terminal raw (see `escape_controls`).
    Ok(Some(crate::model::escape_controls(&out).into_owned()))
}

/// The register of institution `id` as of `as_of` as sheets, one per
/// section, each titled; `None` if there is no such institution.
pub fn sheets(r: &Reader, id: &str, as_of: NaiveDate) -> Result<Option<Vec<Sheet>>, LedgerError> {
    let Some(x) = r.institution(id)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    let status_now = r.status_as_of(&x, as_of)?;
    let title = format!("{}  {}    (as of {})", x.id, x.name, fmt_date(as_of));
    particulars(&mut out, &x, status_now, as_of);
    out[0].title = Some(title);
    status_history(&mut out, r, id, as_of)?;
    inspections(&mut out, r, id)?;
    findings(&mut out, r, id, as_of)?;
    lists(&mut out, r, id, as_of)?;
    applications(&mut out, r, id, as_of)?;
    courses(&mut out, r, id, as_of)?;
    notices(&mut out, r, id, as_of)?;
    Ok(Some(out))
}

/// The institution's particulars, field by field, in English and Chinese.
fn particulars(
    out: &mut Vec<Sheet>,
    x: &Institution,
    status_now: Option<Status>,
    as_of: NaiveDate,
) {
    let mut t = table_named("particulars");
    t.set_header(vec!["field", "字段", "value"]);
    let lic = if x.licensed(as_of) {
        "valid"
    } else {
        "not valid"
    };
    let rows: Vec<(&str, &str, String)> = vec![
        (
            "uscc",
            "统一社会信用代码",
            x.uscc.clone().unwrap_or_else(|| "—".into()),
        ),
        (
            "district / street",
            "所属区 / 街镇",
            format!("{} / {}", x.district, x.street),
        ),
        ("address", "地址", x.address.clone()),
        (
            "category",
            "类别",
            format!("{} {}", x.category.zh(), x.category),
        ),
        ("organizer", "举办者", x.organizer.clone()),
        (
            "licence",
            "办学许可证",
            match &x.licence_no {
                Some(n) => format!(
                    "{n}  {} – {}  ({lic} on {})",
                    date_or_dash(x.licence_issued),
                    date_or_dash(x.licence_expires),
                    fmt_date(as_of)
                ),
                None => "none (无证)".into(),
            },
        ),
        (
            "students / teachers",
            "学员 / 教师 (持证)",
            format!(
                "{} / {} ({} qualified)",
                x.students, x.teachers, x.qualified_teachers
            ),
        ),
        ("area", "场地面积", format!("{} m²", fmt_num(x.area_m2))),
        ("prepaid balance", "预收费余额", yuan_text(x.prepaid_fen)),
        (
            "fire approved",
            "消防验收",
            if x.fire_approved {
                "是 yes".into()
            } else {
                "否 no".into()
            },
        ),
        (
            "status",
            "状态",
            match status_now {
                Some(s) => format!("{} {}", s.zh(), s),
                None => "— (no status yet on this date)".into(),
            },
        ),
    ];
    for (en, zh, v) in rows {
        t.add_row(vec![en.to_string(), zh.to_string(), v]);
    }
    out.push(t.0);
}

/// Its status history (状态变更), with changes dated after `as_of` marked.
fn status_history(
    out: &mut Vec<Sheet>,
    r: &Reader,
    id: &str,
    as_of: NaiveDate,
) -> Result<(), LedgerError> {
    let hist = r.status_history(id)?;
    let title = format!("Status history 状态变更 ({})", hist.len());
    let mut t = table_named("status history");
    t.0.title = Some(title);
    t.set_header(vec!["from", "status", "reason"]);
    for h in &hist {
        let mark = if h.date > as_of { " (after as-of)" } else { "" };
        t.add_row(vec![
            format!("{}{mark}", fmt_date(h.date)),
            format!("{} {}", h.status.zh(), h.status),
            h.reason.clone(),
        ]);
    }
    out.push(t.0);
    Ok(())
}

/// Its inspections (检查记录), by date.
fn inspections(out: &mut Vec<Sheet>, r: &Reader, id: &str) -> Result<(), LedgerError> {
    let mut insp = r.inspections_of(id)?;
    insp.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    let title = format!("Inspections 检查记录 ({})", insp.len());
    let mut t = table_named("inspections");
    t.0.title = Some(title);
    if !insp.is_empty() {
        t.set_header(vec![
            "date",
            "id",
            "operation",
            "departments",
            "inspectors",
            "note",
        ]);
        for i in &insp {
            t.add_row(vec![
                fmt_date(i.date),
                i.id.clone(),
                i.operation.clone().unwrap_or_default(),
                i.departments
                    .iter()
                    .map(|d| d.zh())
                    .collect::<Vec<_>>()
                    .join("、"),
                i.inspectors.to_string(),
                i.note.clone(),
            ]);
        }
    }
    out.push(t.0);
    Ok(())
}

/// Its findings (整改项) opened by `as_of`, with their state on that day.
fn findings(
    out: &mut Vec<Sheet>,
    r: &Reader,
    id: &str,
    as_of: NaiveDate,
) -> Result<(), LedgerError> {
    let mut fs = r.findings_of(id)?;
    fs.sort_by(|a, b| (a.opened_on, &a.id).cmp(&(b.opened_on, &b.id)));
    let later = fs.iter().filter(|f| !f.visible(as_of)).count();
    fs.retain(|f| f.visible(as_of));
    let count = |st: FindingStatus| fs.iter().filter(|f| f.status(as_of) == st).count();
    let overdue = fs.iter().filter(|f| f.overdue(as_of)).count();
    // Open, rectified and closed are counted apart: "open" alone would hide
    // that a rectified finding still awaits the bureau's close-out.
    let title = format!(
        "Findings 整改项 ({}: {} open, {} rectified, {} closed; {} overdue){}",
        fs.len(),
        count(FindingStatus::Open),
        count(FindingStatus::Rectified),
        count(FindingStatus::Closed),
        overdue,
        if later > 0 {
            format!("; {later} opened after {} not shown", fmt_date(as_of))
        } else {
            String::new()
        }
    );
    let mut t = table_named("findings");
    t.0.title = Some(title);
    if !fs.is_empty() {
        t.set_header(vec![
            "opened",
            "id",
            "kind",
            "sev",
            "deadline",
            "rectified",
            "closed out",
            "status",
            "note",
        ]);
        for f in &fs {
            let st = f.status(as_of);
            let status = if f.overdue(as_of) {
                format!(
                    "{} {} · 逾期 overdue {} d",
                    st.zh(),
                    st.as_str(),
                    (as_of - f.deadline).num_days()
                )
            } else {
                format!("{} {}", st.zh(), st.as_str())
            };
            let after = |d: Option<NaiveDate>| match d {
                Some(d) if d > as_of => format!("({})", fmt_date(d)),
                d => date_or_dash(d),
            };
            t.add_row(vec![
                fmt_date(f.opened_on),
                f.id.clone(),
                format!("{} {}", f.kind.zh(), f.kind),
                f.severity.to_string(),
                fmt_date(f.deadline),
                after(f.rectified_on),
                after(f.verified_on),
                status,
                f.note.clone(),
            ]);
        }
    }
    out.push(t.0);
    Ok(())
}

/// The lists (名单) it was put on by `as_of`.
fn lists(out: &mut Vec<Sheet>, r: &Reader, id: &str, as_of: NaiveDate) -> Result<(), LedgerError> {
    let mut lists = r.list_entries_of(id)?;
    lists.sort_by(|a, b| (a.added, &a.list).cmp(&(b.added, &b.list)));
    let later = lists.iter().filter(|e| e.added > as_of).count();
    lists.retain(|e| e.added <= as_of);
    let title = format!(
        "Lists 名单 ({}: on {} as of {}){}",
        lists.len(),
        lists.iter().filter(|e| e.on(as_of)).count(),
        fmt_date(as_of),
        if later > 0 {
            format!("; {later} added after {} not shown", fmt_date(as_of))
        } else {
            String::new()
        }
    );
    let mut t = table_named("lists");
    t.0.title = Some(title);
    if !lists.is_empty() {
        t.set_header(vec![
            "list",
            "added",
            "reason",
            "removed",
            "why removed",
            "by",
        ]);
        for e in &lists {
            let removed = match e.removed {
                Some(d) if d > as_of => format!("({})", fmt_date(d)),
                d => date_or_dash(d),
            };
            t.add_row(vec![
                e.list.clone(),
                fmt_date(e.added),
                e.reason.clone(),
                removed,
                e.removed_reason.clone().unwrap_or_default(),
                e.operator.clone(),
            ]);
        }
    }
    out.push(t.0);
    Ok(())
}

/// Its licence applications (办学许可证申请) submitted by `as_of`.
fn applications(
    out: &mut Vec<Sheet>,
    r: &Reader,
    id: &str,
    as_of: NaiveDate,
) -> Result<(), LedgerError> {
    let mut apps = r.applications_of(id)?;
    apps.retain(|a| a.submitted_on <= as_of);
    apps.sort_by(|a, b| (a.submitted_on, &a.id).cmp(&(b.submitted_on, &b.id)));
    let title = format!("Licence applications 办学许可证申请 ({})", apps.len());
    let mut t = table_named("applications");
    t.0.title = Some(title);
    if !apps.is_empty() {
        t.set_header(vec![
            "submitted",
            "id",
            "site m²",
            "fire",
            "teachers (qualified)",
            "status",
            "decided",
            "licence",
            "reasons",
        ]);
        for a in &apps {
            let decided = a.decided_on.is_some_and(|d| d <= as_of);
            t.add_row(vec![
                fmt_date(a.submitted_on),
                a.id.clone(),
                fmt_num(a.site_area_m2),
                if a.fire_approved {
                    "是".into()
                } else {
                    "否".into()
                },
                format!("{} ({})", a.teachers, a.qualified_teachers),
                if decided {
                    format!("{} {}", a.status.zh(), a.status)
                } else {
                    "待审批 submitted".into()
                },
                if decided {
                    date_or_dash(a.decided_on)
                } else {
                    "—".into()
                },
                if decided {
                    a.licence_no.clone().unwrap_or_default()
                } else {
                    String::new()
                },
                if decided {
                    a.decision_reason.clone()
                } else {
                    String::new()
                },
            ]);
        }
    }
    out.push(t.0);
    Ok(())
}

/// Its course filings (课程备案) filed by `as_of`.
fn courses(
    out: &mut Vec<Sheet>,
    r: &Reader,
    id: &str,
    as_of: NaiveDate,
) -> Result<(), LedgerError> {
    let mut courses = r.courses_of(id)?;
    courses.retain(|c| c.filed_on <= as_of);
    courses.sort_by(|a, b| (a.filed_on, &a.id).cmp(&(b.filed_on, &b.id)));
    let title = format!("Course filings 课程备案 ({})", courses.len());
    let mut t = table_named("courses");
    t.0.title = Some(title);
    if !courses.is_empty() {
        t.set_header(vec![
            "filed",
            "id",
            "course",
            "type",
            "mode",
            "hours",
            "fee",
            "prepay",
            "ends daily",
            "status",
            "reasons",
        ]);
        for c in &courses {
            t.add_row(vec![
                fmt_date(c.filed_on),
                c.id.clone(),
                format!("{} ({} {})", c.name, c.subject, c.grade),
                c.subject_type.zh().to_string(),
                c.mode.zh().to_string(),
                c.class_hours.to_string(),
                yuan_text(c.fee_fen),
                format!("{} mo", c.prepay_months),
                fmt_hhmm(c.daily_end_min),
                {
                    // As of a date before the decision, the course is still filed.
                    let st = c.status_on(as_of);
                    match c.decided_on.filter(|_| st != CourseStatus::Filed) {
                        Some(d) => format!("{} {st} {}", st.zh(), fmt_date(d)),
                        None => format!("{} {st}", st.zh()),
                    }
                },
                if c.status_on(as_of) == CourseStatus::Filed {
                    String::new()
                } else {
                    c.decision_reason.clone()
                },
            ]);
        }
    }
    out.push(t.0);
    Ok(())
}

/// The notices (文书) issued to it by `as_of`.
fn notices(
    out: &mut Vec<Sheet>,
    r: &Reader,
    id: &str,
    as_of: NaiveDate,
) -> Result<(), LedgerError> {
    let mut notices = r.notices_of(id)?;
    notices.retain(|(_, d, _)| *d <= as_of);
    notices.sort_by_key(|n| n.1);
    let title = format!("Notices 文书 ({})", notices.len());
    let mut t = table_named("notices");
    t.0.title = Some(title);
    if !notices.is_empty() {
        t.set_header(vec!["date", "kind", "file", "sha256", "by"]);
        for (kind, d, v) in &notices {
            t.add_row(vec![
                fmt_date(*d),
                kind.clone(),
                v["file"].as_str().unwrap_or("").to_string(),
                v["sha256"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(12)
                    .collect(),
                v["operator"].as_str().unwrap_or("").to_string(),
            ]);
        }
    }
    out.push(t.0);
    Ok(())
}
