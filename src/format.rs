//! The file formats of SPEC §3: which columns each record kind has, their
//! Chinese headers, and how a record becomes a row of text and back.
//! Import and export both use these tables, so a round trip cannot drift.

use chrono::NaiveDate;

use crate::model::*;

/// The record kinds that files carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Institutions,
    Inspections,
    Findings,
    /// Licence applications (办学许可证申请).
    Applications,
    /// Course filings (课程备案).
    Courses,
}

impl Kind {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Institutions => "institutions",
            Kind::Inspections => "inspections",
            Kind::Findings => "findings",
            Kind::Applications => "applications",
            Kind::Courses => "courses",
        }
    }

    /// The columns: English field name and accepted Chinese headers (the first is canonical).
    pub fn columns(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            Kind::Institutions => INSTITUTION_COLUMNS,
            Kind::Inspections => INSPECTION_COLUMNS,
            Kind::Findings => FINDING_COLUMNS,
            Kind::Applications => APPLICATION_COLUMNS,
            Kind::Courses => COURSE_COLUMNS,
        }
    }

    /// Fields that must have a column in every file.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Kind::Institutions => &[
                "id",
                "name",
                "district",
                "category",
                "status",
                "status_date",
            ],
            Kind::Inspections => &["id", "institution_id", "date"],
            Kind::Applications => &[
                "id",
                "institution_id",
                "submitted_on",
                "site_area_m2",
                "status",
            ],
            Kind::Courses => &[
                "id",
                "institution_id",
                "name",
                "subject_type",
                "mode",
                "class_hours",
                "fee_total",
                "starts_on",
                "ends_on",
                "daily_end_time",
                "filed_on",
                "status",
            ],
            Kind::Findings => &[
                "id",
                "institution_id",
                "kind",
                "severity",
                "opened_on",
                "deadline",
            ],
        }
    }

    /// Maps a header (English or Chinese, case and blanks ignored) to its field.
    pub fn field_of_header(self, h: &str) -> Option<&'static str> {
        let t = h.trim().trim_start_matches('\u{feff}');
        self.columns()
            .iter()
            .find(|(en, zh)| t.eq_ignore_ascii_case(en) || zh.contains(&t))
            .map(|(en, _)| *en)
    }
}

const APPLICATION_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["申请编号"]),
    ("institution_id", &["机构编号"]),
    ("submitted_on", &["申请日期"]),
    ("site_area_m2", &["场地面积"]),
    ("fire_approved", &["消防验收"]),
    ("teachers", &["教师数"]),
    ("qualified_teachers", &["持证教师数"]),
    ("status", &["审批状态", "状态"]),
    ("decided_on", &["审批日期"]),
    ("decision_reason", &["审批意见"]),
    ("licence_no", &["办学许可证号"]),
    ("licence_expires", &["许可证有效期至"]),
];

const COURSE_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["课程编号"]),
    ("institution_id", &["机构编号"]),
    ("name", &["课程名称"]),
    ("subject", &["科目"]),
    ("subject_type", &["课程类别", "类别"]),
    ("grade", &["年级"]),
    ("mode", &["授课方式"]),
    ("class_hours", &["课时"]),
    ("fee_total", &["收费总额"]),
    ("prepay_months", &["预收月数"]),
    ("starts_on", &["开课日期"]),
    ("ends_on", &["结课日期"]),
    ("daily_end_time", &["每日结束时间"]),
    ("filed_on", &["备案日期"]),
    ("status", &["备案状态", "状态"]),
    ("decision_reason", &["审核意见"]),
];

const INSTITUTION_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["机构编号"]),
    ("name", &["机构名称"]),
    ("uscc", &["统一社会信用代码"]),
    ("district", &["所属区"]),
    ("street", &["街镇"]),
    ("address", &["地址"]),
    ("category", &["类别"]),
    ("licence_no", &["办学许可证号"]),
    ("licence_issued", &["发证日期"]),
    ("licence_expires", &["许可证有效期至"]),
    ("organizer", &["举办者"]),
    ("students", &["学员数"]),
    ("teachers", &["教师数"]),
    ("qualified_teachers", &["持证教师数"]),
    ("area_m2", &["场地面积"]),
    ("prepaid_balance", &["预收费余额"]),
    ("fire_approved", &["消防验收"]),
    ("status", &["状态"]),
    ("status_date", &["状态日期"]),
];

const INSPECTION_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["检查编号"]),
    ("institution_id", &["机构编号"]),
    ("date", &["检查日期"]),
    ("operation", &["行动名称", "专项行动"]),
    ("departments", &["参与部门"]),
    ("inspectors", &["检查人次", "检查人数"]),
    ("note", &["备注"]),
];

const FINDING_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["整改项编号", "问题编号"]),
    ("institution_id", &["机构编号"]),
    ("inspection_id", &["检查编号"]),
    ("kind", &["问题类型"]),
    ("severity", &["严重程度"]),
    ("opened_on", &["发现日期"]),
    ("deadline", &["整改期限"]),
    ("rectified_on", &["整改日期"]),
    ("verified_on", &["销号日期"]),
    ("note", &["备注"]),
];

/// Text columns a spreadsheet might read as a formula; dates, numbers and enums never start so.
pub fn is_free_text(field: &str) -> bool {
    matches!(
        field,
        "name"
            | "street"
            | "address"
            | "organizer"
            | "licence_no"
            | "operation"
            | "note"
            | "uscc"
            | "id"
            | "institution_id"
            | "decision_reason"
            | "subject"
            | "grade"
            | "inspection_id"
    )
}

fn starts_formula(s: &str) -> bool {
    matches!(s.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'))
}

/// Neutralises a CSV cell a spreadsheet would run as a formula by prefixing `'`.
/// A cell that already starts with `'` before such a character gets one more,
/// so that [`unneutralise`] restores every value exactly.
pub fn neutralise(s: &str) -> std::borrow::Cow<'_, str> {
    if starts_formula(s)
        || (s.starts_with('\'') && (starts_formula(&s[1..]) || s[1..].starts_with('\'')))
    {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// Undoes [`neutralise`] on import.
pub fn unneutralise(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if starts_formula(rest) || rest.starts_with('\'') => rest,
        _ => s,
    }
}

fn d(v: Option<NaiveDate>) -> String {
    v.map(fmt_date).unwrap_or_default()
}

/// The row of an institution, in column order.
pub fn institution_row(x: &Institution) -> Vec<String> {
    vec![
        x.id.clone(),
        x.name.clone(),
        x.uscc.clone().unwrap_or_default(),
        x.district.clone(),
        x.street.clone(),
        x.address.clone(),
        x.category.as_str().into(),
        x.licence_no.clone().unwrap_or_default(),
        d(x.licence_issued),
        d(x.licence_expires),
        x.organizer.clone(),
        x.students.to_string(),
        x.teachers.to_string(),
        x.qualified_teachers.to_string(),
        fmt_num(x.area_m2),
        fmt_yuan(x.prepaid_fen),
        x.fire_approved.to_string(),
        x.status.as_str().into(),
        fmt_date(x.status_date),
    ]
}

/// The row of an inspection, in column order.
pub fn inspection_row(x: &Inspection) -> Vec<String> {
    vec![
        x.id.clone(),
        x.institution_id.clone(),
        fmt_date(x.date),
        x.operation.clone().unwrap_or_default(),
        x.departments
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        x.inspectors.to_string(),
        x.note.clone(),
    ]
}

/// The row of a finding, in column order.
pub fn finding_row(x: &Finding) -> Vec<String> {
    vec![
        x.id.clone(),
        x.institution_id.clone(),
        x.inspection_id.clone().unwrap_or_default(),
        x.kind.as_str().into(),
        x.severity.to_string(),
        fmt_date(x.opened_on),
        fmt_date(x.deadline),
        d(x.rectified_on),
        d(x.verified_on),
        x.note.clone(),
    ]
}

/// The row of a licence application, in column order.
pub fn application_row(x: &Application) -> Vec<String> {
    vec![
        x.id.clone(),
        x.institution_id.clone(),
        fmt_date(x.submitted_on),
        fmt_num(x.site_area_m2),
        x.fire_approved.to_string(),
        x.teachers.to_string(),
        x.qualified_teachers.to_string(),
        x.status.as_str().into(),
        d(x.decided_on),
        x.decision_reason.clone(),
        x.licence_no.clone().unwrap_or_default(),
        d(x.licence_expires),
    ]
}

/// The row of a course filing, in column order.
pub fn course_row(x: &Course) -> Vec<String> {
    vec![
        x.id.clone(),
        x.institution_id.clone(),
        x.name.clone(),
        x.subject.clone(),
        x.subject_type.as_str().into(),
        x.grade.clone(),
        x.mode.as_str().into(),
        x.class_hours.to_string(),
        fmt_yuan(x.fee_fen),
        x.prepay_months.to_string(),
        fmt_date(x.starts_on),
        fmt_date(x.ends_on),
        fmt_hhmm(x.daily_end_min),
        fmt_date(x.filed_on),
        x.status.as_str().into(),
        x.decision_reason.clone(),
    ]
}

/// Keeps the stored value of every optional field whose column `has` says the
/// file lacks (the required columns are always present). See `import::parse_row`.
pub fn keep_absent_institution(x: &mut Institution, old: &Institution, has: &dyn Fn(&str) -> bool) {
    macro_rules! keep {
        ($($col:literal => $f:ident),*) => {$(
            if !has($col) {
                x.$f = old.$f.clone();
            }
        )*};
    }
    keep!(
        "uscc" => uscc,
        "street" => street,
        "address" => address,
        "licence_no" => licence_no,
        "licence_issued" => licence_issued,
        "licence_expires" => licence_expires,
        "organizer" => organizer,
        "students" => students,
        "teachers" => teachers,
        "qualified_teachers" => qualified_teachers,
        "area_m2" => area_m2,
        "prepaid_balance" => prepaid_fen,
        "fire_approved" => fire_approved
    );
}

/// As [`keep_absent_institution`], for an inspection.
pub fn keep_absent_inspection(x: &mut Inspection, old: &Inspection, has: &dyn Fn(&str) -> bool) {
    if !has("operation") {
        x.operation = old.operation.clone();
    }
    if !has("departments") {
        x.departments = old.departments.clone();
    }
    if !has("inspectors") {
        x.inspectors = old.inspectors;
    }
    if !has("note") {
        x.note = old.note.clone();
    }
}

/// As [`keep_absent_institution`], for a finding.
pub fn keep_absent_finding(x: &mut Finding, old: &Finding, has: &dyn Fn(&str) -> bool) {
    if !has("inspection_id") {
        x.inspection_id = old.inspection_id.clone();
    }
    if !has("rectified_on") {
        x.rectified_on = old.rectified_on;
    }
    if !has("verified_on") {
        x.verified_on = old.verified_on;
    }
    if !has("note") {
        x.note = old.note.clone();
    }
}

/// Removes thousands separators ("12,000.50" → "12000.50"), refusing a comma
/// that is not one: "450,5" is a decimal comma and must not become 4505.
fn ungroup(v: &str) -> Result<std::borrow::Cow<'_, str>, &'static str> {
    if !v.contains(',') {
        return Ok(v.into());
    }
    let body = v.strip_prefix(['-', '+']).unwrap_or(v);
    let int = body.split('.').next().unwrap_or_default();
    let mut groups = int.split(',');
    let first = groups.next().unwrap_or_default();
    let digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
    if (1..=3).contains(&first.len()) && digits(first) && groups.all(|g| g.len() == 3 && digits(g))
    {
        Ok(v.replace(',', "").into())
    } else {
        Err("has a comma that is not a thousands separator: write decimals with a point, e.g. 450.5")
    }
}

/// Reads fields of one row by English field name; `None` or "" is a missing value.
pub trait Row {
    fn get(&self, field: &str) -> Option<&str>;

    /// Whether the row has a value or an empty cell for each of `columns`
    /// (a CSV file knows this once from its header).
    fn complete(&self, columns: &[(&str, &[&str])]) -> bool {
        columns.iter().all(|(f, _)| self.get(f).is_some())
    }
}

struct P<'r, R: Row + ?Sized> {
    row: &'r R,
    errs: Vec<FieldError>,
}

impl<'r, R: Row + ?Sized> P<'r, R> {
    fn opt(&self, f: &'static str) -> Option<&'r str> {
        self.row.get(f).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
    fn text(&self, f: &'static str) -> String {
        self.row
            .get(f)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }
    fn otext(&self, f: &'static str) -> Option<String> {
        self.opt(f).map(String::from)
    }
    fn req(&mut self, f: &'static str) -> Option<&'r str> {
        let v = self.opt(f);
        if v.is_none() {
            self.errs
                .push(FieldError::new(f, "", "is required but empty"));
        }
        v
    }
    fn date(&mut self, f: &'static str) -> NaiveDate {
        match self.req(f) {
            Some(v) => self.parse_date(f, v),
            None => NaiveDate::MIN,
        }
    }
    fn parse_date(&mut self, f: &'static str, v: &str) -> NaiveDate {
        match parse_date(v) {
            Ok(d) => d,
            Err(why) => {
                self.errs.push(FieldError::new(f, v, why));
                NaiveDate::MIN
            }
        }
    }
    fn odate(&mut self, f: &'static str) -> Option<NaiveDate> {
        let v = self.opt(f)?;
        Some(self.parse_date(f, v))
    }
    fn int(&mut self, f: &'static str) -> i64 {
        let Some(raw) = self.opt(f) else { return 0 };
        let v = match ungroup(raw) {
            Ok(v) => v,
            Err(why) => {
                self.errs.push(FieldError::new(f, raw, why));
                return 0;
            }
        };
        let v = v.as_ref();
        match v.parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                // Spreadsheets write whole numbers as "12.0".
                match v.parse::<f64>() {
                    Ok(x) if x.fract() == 0.0 && x.abs() < 1e15 => x as i64,
                    _ => {
                        self.errs
                            .push(FieldError::new(f, raw, "is not a whole number"));
                        0
                    }
                }
            }
        }
    }
    fn en<E>(
        &mut self,
        f: &'static str,
        parse: fn(&str) -> Option<E>,
        choices: fn() -> String,
        default: E,
    ) -> E {
        let Some(v) = self.req(f) else { return default };
        match parse(v) {
            Some(e) => e,
            None => {
                self.errs.push(FieldError::new(
                    f,
                    v,
                    format!("is not one of: {}", choices()),
                ));
                default
            }
        }
    }
}

/// Parses an institution row into a record (with defaults where a field was bad) and the
/// errors found. Validation against the ledger happens on write.
pub fn institution_from(row: &(impl Row + ?Sized)) -> (Institution, Vec<FieldError>) {
    let mut p = P {
        row,
        errs: Vec::new(),
    };
    let id = p.req("id").unwrap_or_default().to_string();
    let name = p.req("name").unwrap_or_default().to_string();
    let district = p.req("district").unwrap_or_default().to_string();
    let category = p.en(
        "category",
        Category::parse,
        Category::choices,
        Category::NonSubject,
    );
    let area_m2 = match p.opt("area_m2") {
        None => 0.0,
        Some(v) => match ungroup(v) {
            Ok(n) => n.parse::<f64>().unwrap_or_else(|_| {
                p.errs.push(FieldError::new(
                    "area_m2",
                    v,
                    "is not a number of square metres",
                ));
                0.0
            }),
            Err(why) => {
                p.errs.push(FieldError::new("area_m2", v, why));
                0.0
            }
        },
    };
    let prepaid_fen = match p.opt("prepaid_balance") {
        None => 0,
        Some(v) => match ungroup(without_currency(v))
            .map_err(String::from)
            .and_then(|n| parse_yuan(&n))
        {
            Ok(fen) => fen,
            Err(why) => {
                p.errs.push(FieldError::new("prepaid_balance", v, why));
                0
            }
        },
    };
    let fire_approved = match p.opt("fire_approved") {
        None => false,
        Some(v) => parse_bool(v).unwrap_or_else(|| {
            p.errs.push(FieldError::new(
                "fire_approved",
                v,
                "is not a yes/no value: true/false, 是/否 or 通过/未通过",
            ));
            false
        }),
    };
    let x = Institution {
        id,
        name,
        // The code is upper case by the standard; typed in lower case it is the same code.
        uscc: p.otext("uscc").map(|u| u.to_ascii_uppercase()),
        district,
        street: p.text("street"),
        address: p.text("address"),
        category,
        licence_no: p.otext("licence_no"),
        licence_issued: p.odate("licence_issued"),
        licence_expires: p.odate("licence_expires"),
        organizer: p.text("organizer"),
        students: p.int("students"),
        teachers: p.int("teachers"),
        qualified_teachers: p.int("qualified_teachers"),
        area_m2,
        prepaid_fen,
        fire_approved,
        status: p.en("status", Status::parse, Status::choices, Status::Operating),
        status_date: p.date("status_date"),
    };
    (x, p.errs)
}

/// Parses an inspection row.
pub fn inspection_from(row: &(impl Row + ?Sized)) -> (Inspection, Vec<FieldError>) {
    let mut p = P {
        row,
        errs: Vec::new(),
    };
    let mut departments = Vec::new();
    if let Some(v) = p.opt("departments") {
        for part in v
            .split([';', '；', ',', '，', '、', '|', ' '])
            .filter(|s| !s.trim().is_empty())
        {
            match Department::parse(part) {
                Some(d) if !departments.contains(&d) => departments.push(d),
                Some(_) => {}
                None => p.errs.push(FieldError::new(
                    "departments",
                    part,
                    format!(
                        "is not a department: {} (separate several with ';')",
                        Department::choices()
                    ),
                )),
            }
        }
    }
    let x = Inspection {
        id: p.req("id").unwrap_or_default().to_string(),
        institution_id: p.req("institution_id").unwrap_or_default().to_string(),
        date: p.date("date"),
        operation: p.otext("operation"),
        departments,
        inspectors: p.int("inspectors"),
        note: p.text("note"),
    };
    (x, p.errs)
}

/// Parses a finding row.
pub fn finding_from(row: &(impl Row + ?Sized)) -> (Finding, Vec<FieldError>) {
    let mut p = P {
        row,
        errs: Vec::new(),
    };
    let x = Finding {
        id: p.req("id").unwrap_or_default().to_string(),
        institution_id: p.req("institution_id").unwrap_or_default().to_string(),
        inspection_id: p.otext("inspection_id"),
        kind: p.en(
            "kind",
            FindingKind::parse,
            FindingKind::choices,
            FindingKind::Other,
        ),
        severity: if p.req("severity").is_some() {
            p.int("severity")
        } else {
            1
        },
        opened_on: p.date("opened_on"),
        deadline: p.date("deadline"),
        rectified_on: p.odate("rectified_on"),
        verified_on: p.odate("verified_on"),
        note: p.text("note"),
    };
    (x, p.errs)
}

/// Parses a licence application row.
pub fn application_from(row: &(impl Row + ?Sized)) -> (Application, Vec<FieldError>) {
    let mut p = P {
        row,
        errs: Vec::new(),
    };
    let site_area_m2 = match p.req("site_area_m2") {
        None => 0.0,
        Some(v) => v.parse::<f64>().unwrap_or_else(|_| {
            p.errs.push(FieldError::new(
                "site_area_m2",
                v,
                "is not a number of square metres",
            ));
            0.0
        }),
    };
    let fire_approved = match p.opt("fire_approved") {
        None => false,
        Some(v) => parse_bool(v).unwrap_or_else(|| {
            p.errs.push(FieldError::new(
                "fire_approved",
                v,
                "is not a yes/no value: true/false, 是/否 or 通过/未通过",
            ));
            false
        }),
    };
    let x = Application {
        id: p.req("id").unwrap_or_default().to_string(),
        institution_id: p.req("institution_id").unwrap_or_default().to_string(),
        submitted_on: p.date("submitted_on"),
        site_area_m2,
        fire_approved,
        teachers: p.int("teachers"),
        qualified_teachers: p.int("qualified_teachers"),
        status: p.en(
            "status",
            AppStatus::parse,
            AppStatus::choices,
            AppStatus::Submitted,
        ),
        decided_on: p.odate("decided_on"),
        decision_reason: p.text("decision_reason"),
        licence_no: p.otext("licence_no"),
        licence_expires: p.odate("licence_expires"),
    };
    (x, p.errs)
}

/// Parses a course filing row.
pub fn course_from(row: &(impl Row + ?Sized)) -> (Course, Vec<FieldError>) {
    let mut p = P {
        row,
        errs: Vec::new(),
    };
    let fee_fen = match p.req("fee_total") {
        None => 0,
        Some(v) => parse_yuan(without_currency(v)).unwrap_or_else(|why| {
            p.errs.push(FieldError::new("fee_total", v, why));
            0
        }),
    };
    let daily_end_min = match p.req("daily_end_time") {
        None => 0,
        Some(v) => parse_hhmm(v).unwrap_or_else(|why| {
            p.errs.push(FieldError::new("daily_end_time", v, why));
            0
        }),
    };
    let x = Course {
        id: p.req("id").unwrap_or_default().to_string(),
        institution_id: p.req("institution_id").unwrap_or_default().to_string(),
        name: p.req("name").unwrap_or_default().to_string(),
        subject: p.text("subject"),
        subject_type: p.en(
            "subject_type",
            Category::parse,
            Category::choices,
            Category::NonSubject,
        ),
        grade: p.text("grade"),
        mode: p.en("mode", Mode::parse, Mode::choices, Mode::Offline),
        class_hours: p.int("class_hours"),
        fee_fen,
        prepay_months: p.int("prepay_months"),
        starts_on: p.date("starts_on"),
        ends_on: p.date("ends_on"),
        daily_end_min,
        filed_on: p.date("filed_on"),
        status: p.en(
            "status",
            CourseStatus::parse,
            CourseStatus::choices,
            CourseStatus::Filed,
        ),
        decision_reason: p.text("decision_reason"),
    };
    (x, p.errs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralise_round_trips() {
        for s in [
            "=SUM(A1)", "+1", "-x", "@a", "'=x", "''", "'", "'abc", "plain", "", "\tx",
        ] {
            let n = neutralise(s);
            assert!(!starts_formula(&n), "{s:?} -> {n:?}");
            assert_eq!(unneutralise(&n), s, "{s:?}");
        }
    }

    #[test]
    fn only_real_thousands_separators_are_removed() {
        assert_eq!(ungroup("1,200").unwrap(), "1200");
        assert_eq!(ungroup("12,000.50").unwrap(), "12000.50");
        assert_eq!(ungroup("1,234,567").unwrap(), "1234567");
        assert_eq!(ungroup("450.5").unwrap(), "450.5");
        assert!(ungroup("450,5").is_err());
        assert!(ungroup("1,20").is_err());
        assert!(ungroup("1234,567").is_err());
        assert!(ungroup(",5").is_err());
    }

    #[test]
    fn headers_map_in_both_languages() {
        assert_eq!(Kind::Institutions.field_of_header("机构名称"), Some("name"));
        assert_eq!(Kind::Institutions.field_of_header(" Name "), Some("name"));
        assert_eq!(
            Kind::Findings.field_of_header("机构编号"),
            Some("institution_id")
        );
        assert_eq!(Kind::Findings.field_of_header("bogus"), None);
    }
}
