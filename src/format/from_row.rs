//! A row of text as a record: where a cell of an imported file (or a field
//! of a `casebook test` fixture) becomes a field, with an error in plain words
//! for each cell that cannot. Validation of the whole record is the model's.

use chrono::NaiveDate;

use crate::model::*;

/// Keeps the stored value of every optional field whose column `has` says the
/// file lacks (the required columns are always present). See `import::parse::parse_row`.
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

/// A row given as its fields by English name: a JSON object's (import), an
/// `open_finding` map's (scripts) or a test fixture's (`casebook test`).
pub struct FieldRow(pub Vec<(&'static str, String)>);

impl Row for FieldRow {
    fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
    }
}

/// The date of an Excel serial number (1900 system: 1 is 1900-01-01, 61 is
/// 1900-03-01, 43466 is 2019-01-01), if `v` is a plain number Excel could
/// show as a date (1 to 2958465, 9999-12-31). Excel's day 60, the 29th of
/// February 1900 it believes in, is none; a fraction (a time) is dropped.
pub fn excel_serial_date(v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let x: f64 = v.parse().ok()?;
    if !(1.0..2_958_466.0).contains(&x) {
        return None;
    }
    let days = x.floor() as i64;
    let epoch = match days {
        ..60 => NaiveDate::from_ymd_opt(1899, 12, 31)?,
        60 => return None,
        _ => NaiveDate::from_ymd_opt(1899, 12, 30)?,
    };
    epoch.checked_add_signed(chrono::Duration::days(days))
}

/// Reads the fields of one row, gathering an error for each bad cell so that
/// a row's every problem is reported at once.
struct RowParser<'r, R: Row + ?Sized> {
    row: &'r R,
    errs: Vec<FieldError>,
}

impl<'r, R: Row + ?Sized> RowParser<'r, R> {
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
            // A date cell that lost its format reaches a CSV file as its serial number.
            Err(why) => excel_serial_date(v).unwrap_or_else(|| {
                self.errs.push(FieldError::new(f, v, why));
                NaiveDate::MIN
            }),
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
    fn choice<E>(
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
    let mut p = RowParser {
        row,
        errs: Vec::new(),
    };
    let id = p.req("id").unwrap_or_default().to_string();
    let name = p.req("name").unwrap_or_default().to_string();
    let district = p.req("district").unwrap_or_default().to_string();
    let category = p.choice(
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
        status: p.choice("status", Status::parse, Status::choices, Status::Operating),
        status_date: p.date("status_date"),
    };
    (x, p.errs)
}

/// Parses an inspection row.
pub fn inspection_from(row: &(impl Row + ?Sized)) -> (Inspection, Vec<FieldError>) {
    let mut p = RowParser {
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
    let mut p = RowParser {
        row,
        errs: Vec::new(),
    };
    let x = Finding {
        id: p.req("id").unwrap_or_default().to_string(),
        institution_id: p.req("institution_id").unwrap_or_default().to_string(),
        inspection_id: p.otext("inspection_id"),
        kind: p.choice(
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
    let mut p = RowParser {
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
        status: p.choice(
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
    let mut p = RowParser {
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
        subject_type: p.choice(
            "subject_type",
            Category::parse,
            Category::choices,
            Category::NonSubject,
        ),
        grade: p.text("grade"),
        mode: p.choice("mode", Mode::parse, Mode::choices, Mode::Offline),
        class_hours: p.int("class_hours"),
        fee_fen,
        prepay_months: p.int("prepay_months"),
        starts_on: p.date("starts_on"),
        ends_on: p.date("ends_on"),
        daily_end_min,
        filed_on: p.date("filed_on"),
        status: p.choice(
            "status",
            CourseStatus::parse,
            CourseStatus::choices,
            CourseStatus::Filed,
        ),
        decision_reason: p.text("decision_reason"),
        decided_on: p.odate("decided_on"),
    };
    (x, p.errs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_serial_numbers_are_dates_of_the_1900_system() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(excel_serial_date("43466"), d(2019, 1, 1));
        assert_eq!(excel_serial_date("43466.75"), d(2019, 1, 1));
        assert_eq!(excel_serial_date("1"), d(1900, 1, 1));
        assert_eq!(excel_serial_date("59"), d(1900, 2, 28));
        assert_eq!(excel_serial_date("60"), None);
        assert_eq!(excel_serial_date("61"), d(1900, 3, 1));
        assert_eq!(excel_serial_date("2958465"), d(9999, 12, 31));
        for bad in ["0", "20190101", "-5", "4e4", "", "2019-01-01"] {
            assert_eq!(excel_serial_date(bad), None, "{bad}");
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
}
