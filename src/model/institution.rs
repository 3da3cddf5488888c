//! An off-campus training institution (one register, 一户一册): its
//! category, its status and its checks.

use chrono::NaiveDate;

use super::values::{check_uscc, domain_enum};
use super::{check_id, check_text, FieldError};

domain_enum!(
    /// Whether an institution trains K-12 school subjects (学科类) or not.
    Category, "category", {
    Subject => "subject", ["学科类"], "K-12 school-subject training; needs a school-running licence";
    NonSubject => "non_subject", ["非学科类"], "arts, sports, science and other non-subject training";
});

domain_enum!(
    /// An institution's operating status.
    Status, "status", {
    Operating => "operating", ["经营中"], "operating normally";
    Rectifying => "rectifying", ["整改中"], "ordered to rectify problems";
    Closed => "closed", ["已关停"], "closed by the authorities";
    SelfClosed => "self_closed", ["主动关停"], "closed of its own accord";
    Converted => "converted", ["已转型"], "promised to stop K-12 subject training";
});

/// An off-campus training institution: one register (一户一册), its texts
/// held as `String`s.
pub type Institution = InstitutionOf<String>;

/// An institution whose texts are of type `S`: `String` ([`Institution`]), or
/// a small-string type for the institutions scripts hold (short texts inline,
/// no allocation per text: see `script::records::ScriptInstitution`).
#[derive(Debug, Clone, PartialEq)]
pub struct InstitutionOf<S> {
    pub id: S,
    pub name: S,
    pub uscc: Option<S>,
    pub district: S,
    pub street: S,
    pub address: S,
    pub category: Category,
    pub licence_no: Option<S>,
    pub licence_issued: Option<NaiveDate>,
    pub licence_expires: Option<NaiveDate>,
    pub organizer: S,
    pub students: i64,
    pub teachers: i64,
    pub qualified_teachers: i64,
    pub area_m2: f64,
    /// Prepaid fees held, in fen (1/100 yuan); scripts and files see yuan.
    pub prepaid_fen: i64,
    pub fire_approved: bool,
    /// The status as of `status_date`, as given in the latest import. The dated
    /// history in the ledger is what scripts see.
    pub status: Status,
    pub status_date: NaiveDate,
}

impl<S> InstitutionOf<S> {
    /// The same institution with each text made by `t` (another text type).
    pub fn texts_as<T>(&self, t: impl Fn(&S) -> T) -> InstitutionOf<T> {
        InstitutionOf {
            id: t(&self.id),
            name: t(&self.name),
            uscc: self.uscc.as_ref().map(&t),
            district: t(&self.district),
            street: t(&self.street),
            address: t(&self.address),
            category: self.category,
            licence_no: self.licence_no.as_ref().map(&t),
            licence_issued: self.licence_issued,
            licence_expires: self.licence_expires,
            organizer: t(&self.organizer),
            students: self.students,
            teachers: self.teachers,
            qualified_teachers: self.qualified_teachers,
            area_m2: self.area_m2,
            prepaid_fen: self.prepaid_fen,
            fire_approved: self.fire_approved,
            status: self.status,
            status_date: self.status_date,
        }
    }
}

impl<S: std::ops::Deref<Target = str>> InstitutionOf<S> {
    /// Prepaid balance in yuan, as scripts and files see it.
    pub fn prepaid_yuan(&self) -> f64 {
        self.prepaid_fen as f64 / 100.0
    }

    /// Whether the licence is valid on `d`: a number, issued on or before `d`, expiring on or after it.
    pub fn licensed(&self, d: NaiveDate) -> bool {
        self.licence_no.as_deref().is_some_and(|s| !s.is_empty())
            && self.licence_issued.is_some_and(|i| i <= d)
            && self.licence_expires.is_some_and(|x| x >= d)
    }
}

impl Institution {
    /// Checks the institution against the ledger's configured districts.
    pub fn validate(&self, districts: &[String]) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_id(&mut e, "id", &self.id);
        if self.name.trim().is_empty() {
            e.push(FieldError::new("name", "", "must not be empty"));
        }
        for (field, v) in [
            ("name", &self.name),
            ("street", &self.street),
            ("address", &self.address),
            ("organizer", &self.organizer),
        ] {
            check_text(&mut e, field, v);
        }
        if let Some(l) = &self.licence_no {
            check_text(&mut e, "licence_no", l);
        }
        if let Some(u) = &self.uscc {
            if let Err(why) = check_uscc(u) {
                e.push(FieldError::new("uscc", u.clone(), why));
            }
        }
        if !districts.iter().any(|d| d == &self.district) {
            e.push(FieldError::new(
                "district",
                self.district.clone(),
                format!(
                    "is not one of the ledger's districts ({})",
                    districts.join(" ")
                ),
            ));
        }
        for (field, v) in [
            ("students", self.students),
            ("teachers", self.teachers),
            ("qualified_teachers", self.qualified_teachers),
            ("prepaid_balance", self.prepaid_fen),
        ] {
            if v < 0 {
                e.push(FieldError::new(
                    field,
                    v.to_string(),
                    "must not be negative",
                ));
            }
        }
        if self.area_m2.is_nan() || self.area_m2 < 0.0 || !self.area_m2.is_finite() {
            e.push(FieldError::new(
                "area_m2",
                self.area_m2.to_string(),
                "must be a number not below 0",
            ));
        }
        if self.qualified_teachers > self.teachers {
            e.push(FieldError::new(
                "qualified_teachers",
                self.qualified_teachers.to_string(),
                format!("is more than teachers ({})", self.teachers),
            ));
        }
        if let (Some(i), Some(x)) = (self.licence_issued, self.licence_expires) {
            if x <= i {
                e.push(FieldError::new(
                    "licence_expires",
                    x.to_string(),
                    format!("must be after licence_issued {i}"),
                ));
            }
        }
        let has_no = self.licence_no.as_deref().is_some_and(|s| !s.is_empty());
        if !has_no && (self.licence_issued.is_some() || self.licence_expires.is_some()) {
            e.push(FieldError::new(
                "licence_no",
                "",
                "is empty but licence dates are given",
            ));
        }
        e
    }
}
