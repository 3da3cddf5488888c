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
