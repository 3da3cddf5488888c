//! Record properties read straight from the record: the getter each record
//! type registers for a name, looked up once when the function is compiled.

use rhai::Dynamic;

use crate::script::records::{
    ApplicationRef, CourseRef, FindingRef, InspectionRef, InstitutionRef, ScriptRecord,
};

/// The getters of one property name, per record type (`None`: the type has no such property).
pub struct Getter {
    institution: Option<fn(&InstitutionRef) -> Dynamic>,
    finding: Option<fn(&FindingRef) -> Dynamic>,
    inspection: Option<fn(&InspectionRef) -> Dynamic>,
    application: Option<fn(&ApplicationRef) -> Dynamic>,
    course: Option<fn(&CourseRef) -> Dynamic>,
}

/// The getters of property `name`.
pub fn getter(name: &str) -> Getter {
    Getter {
        institution: InstitutionRef::getter(name),
        finding: FindingRef::getter(name),
        inspection: InspectionRef::getter(name),
        application: ApplicationRef::getter(name),
        course: CourseRef::getter(name),
    }
}

impl Getter {
    /// The property of `v` if it is a record with one: the same function the
    /// interpreter's `get$name` calls.
    #[inline]
    pub fn read(&self, v: &Dynamic) -> Option<Dynamic> {
        fn one<R: ScriptRecord>(g: Option<fn(&R) -> Dynamic>, v: &Dynamic) -> Option<Dynamic> {
            let g = g?;
            let r = v.read_lock::<R>()?;
            Some(g(&r))
        }
        one(self.finding, v)
            .or_else(|| one(self.institution, v))
            .or_else(|| one(self.course, v))
            .or_else(|| one(self.inspection, v))
            .or_else(|| one(self.application, v))
    }
}

/// A text property borrowed from the record, without a script string.
type TextOf<R> = Option<fn(&R) -> &str>;

/// The text properties of one name whose getter is certain to return the
/// same text as a string (enumerated codes and stored texts), per record type.
pub struct Text {
    institution: TextOf<InstitutionRef>,
    course: TextOf<CourseRef>,
}

/// The borrowed-text reads of property `name`, if a record type has one.
pub fn text(name: &str) -> Option<Text> {
    let institution: TextOf<InstitutionRef> = match name {
        "id" => Some(|r| r.institution.id.as_str()),
        "name" => Some(|r| r.institution.name.as_str()),
        "district" => Some(|r| r.institution.district.as_str()),
        "category" => Some(|r| r.institution.category.as_str()),
        _ => None,
    };
    let course: TextOf<CourseRef> = match name {
        "id" => Some(|r| r.course.id.as_str()),
        "institution_id" => Some(|r| r.course.institution_id.as_str()),
        "name" => Some(|r| r.course.name.as_str()),
        "subject_type" => Some(|r| r.course.subject_type.as_str()),
        "mode" => Some(|r| r.course.mode.as_str()),
        "status" => Some(|r| r.course.status_on(r.as_of).as_str()),
        _ => None,
    };
    (institution.is_some() || course.is_some()).then_some(Text {
        institution,
        course,
    })
}

impl Text {
    /// `f` of `v`'s property, if `v` is a record of a type this covers.
    #[inline]
    pub fn with<T>(&self, v: &Dynamic, f: impl FnOnce(&str) -> T) -> Option<T> {
        if let (Some(g), Some(r)) = (self.course, v.read_lock::<CourseRef>()) {
            return Some(f(g(&r)));
        }
        if let (Some(g), Some(r)) = (self.institution, v.read_lock::<InstitutionRef>()) {
            return Some(f(g(&r)));
        }
        None
    }
}

/// A date property read as a date, not a script value.
type DateOf<R> = Option<fn(&R) -> chrono::NaiveDate>;

/// The date properties of one name that are always a date (never `()`), per
/// record type: read without boxing a `Date` into a script value, which
/// costs two allocations (see `lower::dates`). Each is what the record's
/// own getter puts in its `Date`.
pub struct DateGetter {
    /// A finding's, also for a loop variable held as a finding (`Frame::findings`).
    pub finding: DateOf<FindingRef>,
    course: DateOf<CourseRef>,
    inspection: DateOf<InspectionRef>,
    application: DateOf<ApplicationRef>,
}

/// The unboxed date reads of property `name`, if a record type has one.
pub fn date(name: &str) -> Option<DateGetter> {
    use crate::model::FindingDays;
    let finding: DateOf<FindingRef> = match name {
        "opened_on" => Some(|r| FindingDays::date(r.core.opened_on)),
        "deadline" => Some(|r| FindingDays::date(r.core.deadline)),
        _ => None,
    };
    let course: DateOf<CourseRef> = match name {
        "starts_on" => Some(|r| r.course.starts_on),
        "ends_on" => Some(|r| r.course.ends_on),
        "filed_on" => Some(|r| r.course.filed_on),
        _ => None,
    };
    let inspection: DateOf<InspectionRef> = match name {
        "date" => Some(|r| r.inspection.date),
        _ => None,
    };
    let application: DateOf<ApplicationRef> = match name {
        "submitted_on" => Some(|r| r.application.submitted_on),
        _ => None,
    };
    let any = finding.is_some() || course.is_some();
    (any || inspection.is_some() || application.is_some()).then_some(DateGetter {
        finding,
        course,
        inspection,
        application,
    })
}

impl DateGetter {
    /// `v`'s property as a date, if `v` is a record of a type this covers.
    #[inline]
    pub fn read(&self, v: &Dynamic) -> Option<crate::script::records::Date> {
        fn one<R: ScriptRecord>(g: DateOf<R>, v: &Dynamic) -> Option<chrono::NaiveDate> {
            let g = g?;
            let r = v.read_lock::<R>()?;
            Some(g(&r))
        }
        one(self.course, v)
            .or_else(|| one(self.finding, v))
            .or_else(|| one(self.inspection, v))
            .or_else(|| one(self.application, v))
            .map(crate::script::records::Date)
    }
}
