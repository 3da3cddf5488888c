//! Record properties read straight from the record: the getter each record
//! type registers for a name, looked up once when the function is compiled.

use chrono::NaiveDate;
use rhai::Dynamic;

use crate::script::records::{
    ApplicationRef, CourseRef, FindingRef, InspectionRef, InstitutionRef, ScriptRecord,
};
use crate::script::state::NewRow;

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

/// How one property of one record type is read without a script value:
/// its text, borrowed from the record; an enumerated code's text; a date.
/// Only where the record's getter is certain to give a string of that text
/// or a date of that day, and nothing else.
pub enum Read<R> {
    Text(fn(&R) -> &str),
    Code(fn(&R) -> &'static str),
    Date(fn(&R) -> NaiveDate),
}

impl<R> Clone for Read<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for Read<R> {}

impl<R> Read<R> {
    /// The text read, if this is one.
    fn text(self) -> Option<fn(&R) -> &str> {
        match self {
            Read::Text(f) => Some(f),
            Read::Code(f) => Some(f),
            Read::Date(_) => None,
        }
    }

    /// The date read, if this is one.
    fn date(self) -> Option<fn(&R) -> NaiveDate> {
        match self {
            Read::Date(f) => Some(f),
            _ => None,
        }
    }
}

/// An institution's properties read without a script value: the one table
/// the comparisons (`text`), the row cells (`cell_read`) and the dates take theirs from.
fn institution_read(name: &str) -> Option<Read<InstitutionRef>> {
    Some(match name {
        "id" => Read::Text(|r| r.institution.id.as_str()),
        "name" => Read::Text(|r| r.institution.name.as_str()),
        "district" => Read::Text(|r| r.institution.district.as_str()),
        "category" => Read::Code(|r| r.institution.category.as_str()),
        _ => return None,
    })
}

/// A course's properties read without a script value (see [`institution_read`]).
fn course_read(name: &str) -> Option<Read<CourseRef>> {
    Some(match name {
        "id" => Read::Text(|r| r.course.id.as_str()),
        "institution_id" => Read::Text(|r| r.course.institution_id.as_str()),
        "name" => Read::Text(|r| r.course.name.as_str()),
        "subject_type" => Read::Code(|r| r.course.subject_type.as_str()),
        "mode" => Read::Code(|r| r.course.mode.as_str()),
        "status" => Read::Code(|r| r.course.status_on(r.as_of).as_str()),
        "filed_on" => Read::Date(|r| r.course.filed_on),
        "starts_on" => Read::Date(|r| r.course.starts_on),
        "ends_on" => Read::Date(|r| r.course.ends_on),
        _ => return None,
    })
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
    let institution = institution_read(name).and_then(Read::text);
    let course = course_read(name).and_then(Read::text);
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

/// A record property that `emit(#{…})` keeps in the row as the text or
/// date the record holds, without a script string or a boxed date (see
/// [`NewRow`]).
pub struct CellRead {
    institution: Option<Read<InstitutionRef>>,
    course: Option<Read<CourseRef>>,
}

/// The row reads of property `name`, if a record type has one.
pub fn cell_read(name: &str) -> Option<CellRead> {
    let (institution, course) = (institution_read(name), course_read(name));
    (institution.is_some() || course.is_some()).then_some(CellRead {
        institution,
        course,
    })
}

impl CellRead {
    /// Sets cell `i` of `row` to `v`'s property if `v` is a record this
    /// covers; false (and `row` unchanged) otherwise.
    #[inline]
    pub fn fill(&self, v: &Dynamic, row: &mut NewRow, i: usize) -> bool {
        fn one<R: rhai::Variant + Clone>(
            g: Option<Read<R>>,
            v: &Dynamic,
            row: &mut NewRow,
            i: usize,
        ) -> bool {
            let Some(g) = g else {
                return false;
            };
            let Some(r) = v.read_lock::<R>() else {
                return false;
            };
            match g {
                Read::Text(f) => row.set_text(i, f(&r)),
                Read::Code(f) => row.set_static(i, f(&r)),
                Read::Date(f) => row.set_date(i, f(&r)),
            }
            true
        }
        one(self.course, v, row, i) || one(self.institution, v, row, i)
    }
}

/// A date property read as a date, not a script value.
type DateOf<R> = Option<fn(&R) -> NaiveDate>;

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
    let course: DateOf<CourseRef> = course_read(name).and_then(Read::date);
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
        fn one<R: ScriptRecord>(g: DateOf<R>, v: &Dynamic) -> Option<NaiveDate> {
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
