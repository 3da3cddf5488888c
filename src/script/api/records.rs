//! The record types: their names, getters and text, and what a record leads
//! to (an institution's findings, inspections, history, lists, applications
//! and courses; the institution of a finding, application or course).

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map};

use crate::script::errors::{ledger_err, RResult};
use crate::script::records::{
    sym, ApplicationRef, CourseRef, Date, FindingRef, InspectionRef, InstitutionRef, Records,
    ScriptRecord,
};
use crate::script::state::Host;

/// Registers `R` under its script name with a getter per property.
fn register_record<R: ScriptRecord>(engine: &mut Engine) {
    engine.register_type_with_name::<R>(R::TYPE_NAME);
    for p in R::PROPS {
        let name = p.name;
        let get =
            R::getter(name).unwrap_or_else(|| panic!("{} has no getter for {name}", R::TYPE_NAME));
        engine.register_get(name, move |r: &mut R| get(r));
    }
}

/// Registers the record types, their text and what they lead to.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    register_record::<InstitutionRef>(engine);
    register_record::<FindingRef>(engine);
    register_record::<InspectionRef>(engine);
    engine.register_type_with_name::<Date>("date");
    engine.register_type_with_name::<Records>("records");
    engine.register_iterator_result::<Records, Dynamic>();
    register_text(engine);
    register_institution_methods(engine);
    register_record::<ApplicationRef>(engine);
    register_record::<CourseRef>(engine);
    engine.register_fn("to_string", |a: &mut ApplicationRef| {
        let a = &a.application;
        format!("application {} of {}", a.id, a.institution_id)
    });
    engine.register_fn("to_string", |c: &mut CourseRef| {
        let c = &c.course;
        format!("course {} {} of {}", c.id, c.name, c.institution_id)
    });
    register_platform_methods(engine);
    let h = host.clone();
    engine.register_fn(
        "institution",
        move |f: &mut FindingRef| -> RResult<Dynamic> {
            institution_by_id(&h, &f.institution_id())
        },
    );
    let h = host.clone();
    engine.register_fn(
        "institution",
        move |a: &mut ApplicationRef| -> RResult<Dynamic> {
            institution_by_id(&h, &a.application.institution_id)
        },
    );
    let h = host.clone();
    engine.register_fn(
        "institution",
        move |c: &mut CourseRef| -> RResult<Dynamic> {
            institution_by_id(&h, &c.course.institution_id)
        },
    );
    let h = host.clone();
    engine.register_fn("institution", move |id: &str| institution_by_id(&h, id));
}

/// `to_string`, `to_debug` and `==` of institutions, findings and inspections.
fn register_text(engine: &mut Engine) {
    engine.register_fn("to_string", |i: &mut InstitutionRef| {
        format!("institution {} {}", i.institution.id, i.institution.name)
    });
    engine.register_fn("to_debug", |i: &mut InstitutionRef| {
        format!("institution {} {}", i.institution.id, i.institution.name)
    });
    engine.register_fn("to_string", |f: &mut FindingRef| {
        format!(
            "finding {} {} of {}",
            f.id(),
            f.core.kind,
            f.institution_id()
        )
    });
    engine.register_fn("to_debug", |f: &mut FindingRef| {
        format!(
            "finding {} {} of {}",
            f.id(),
            f.core.kind,
            f.institution_id()
        )
    });
    engine.register_fn("to_string", |i: &mut InspectionRef| {
        format!(
            "inspection {} of {} on {}",
            i.inspection.id, i.inspection.institution_id, i.inspection.date
        )
    });
    engine.register_fn("to_debug", |i: &mut InspectionRef| {
        format!(
            "inspection {} of {} on {}",
            i.inspection.id, i.inspection.institution_id, i.inspection.date
        )
    });
    engine.register_fn("==", |a: &mut InstitutionRef, b: InstitutionRef| {
        a.institution.id == b.institution.id
    });
    engine.register_fn("==", |a: &mut FindingRef, b: FindingRef| a.id() == b.id());
}

/// `inst.findings()`, `inst.inspections()` (range scans of one institution),
/// `inst.status_history()` and `inst.lists()`.
fn register_institution_methods(engine: &mut Engine) {
    engine.register_fn("findings", |i: &mut InstitutionRef| -> RResult<Array> {
        let mut out = Array::new();
        each_finding(i, |f| {
            out.push(Dynamic::from(f));
            Ok(())
        })?;
        Ok(out)
    });
    engine.register_fn("inspections", |i: &mut InstitutionRef| -> RResult<Array> {
        let d = i.snap.as_of;
        let v = i
            .snap
            .reader
            .inspections_of(&i.institution.id)
            .map_err(ledger_err)?;
        Ok(v.into_iter()
            .filter(|x| x.date <= d)
            .map(|x| Dynamic::from(InspectionRef::new(Arc::new(x))))
            .collect())
    });
    engine.register_fn(
        "status_history",
        |i: &mut InstitutionRef| -> RResult<Array> {
            let v = i
                .snap
                .reader
                .status_history(&i.institution.id)
                .map_err(ledger_err)?;
            Ok(v.into_iter()
                .filter(|c| c.date <= i.snap.as_of)
                .map(|c| {
                    let mut m = Map::new();
                    m.insert("date".into(), Dynamic::from(Date(c.date)));
                    m.insert("status".into(), sym(c.status.as_str()));
                    m.insert("reason".into(), c.reason.into());
                    Dynamic::from_map(m)
                })
                .collect())
        },
    );
    engine.register_fn("lists", |i: &mut InstitutionRef| -> Array {
        match i.snap.list_index().get(i.institution.id.as_str()) {
            Some(v) => v
                .iter()
                .filter(|e| e.on(i.snap.as_of))
                .map(|e| e.list.clone().into())
                .collect(),
            None => Array::new(),
        }
    });
}

/// Calls `f` with each finding of `i` visible on its date, in ledger order:
/// `inst.findings()`, and the compiled loop over it (`script::compile`) whose
/// body reads a text, which reads the findings without making a script value
/// of each (one reading no text uses [`each_finding_days`]).
pub fn each_finding(
    i: &InstitutionRef,
    mut f: impl FnMut(FindingRef) -> RResult<()>,
) -> RResult<()> {
    let d = i.snap.as_of;
    // The institution's findings' bytes, one after another, and where each one is.
    // (`RawRecords::push` makes room for a usual institution's at once.)
    let mut raw = crate::ledger::RawRecords::default();
    let taken = match i.snap.cursor.lock().unwrap().as_mut() {
        Some(c) => c.take(&i.institution.id, &mut raw).map_err(ledger_err)?,
        None => false,
    };
    if !taken {
        i.snap
            .reader
            .findings_raw_of(&i.institution.id, &mut raw)
            .map_err(ledger_err)?;
    }
    let (buf, spans) = (Arc::new(raw.buf), raw.spans);
    let day = crate::model::FindingDays::day(d);
    for at in &spans {
        // No snapshot handle per finding: two threads bumping one shared
        // reference count for every finding costs more than the rule.
        if let Some(x) = FindingRef::keyed_visible(&buf, at, day, d).map_err(ledger_err)? {
            f(x)?;
        }
    }
    Ok(())
}

/// The kind, severity and day numbers of each finding of `i` visible on its
/// date, in ledger order, appended to `out`: for the compiled loop over
/// `inst.findings()` whose body reads none of a finding's texts. Each one is
/// decoded straight from the ledger's page (its CRC checked as for every
/// read), so neither its bytes nor its key are copied.
pub fn each_finding_days(
    i: &InstitutionRef,
    out: &mut Vec<crate::model::FindingDays>,
) -> RResult<()> {
    let day = crate::model::FindingDays::day(i.snap.as_of);
    let mut each = |_: &str, stored: &[u8]| -> Result<(), crate::ledger::LedgerError> {
        let x = crate::ledger::codec::decode_finding_days(stored)?;
        if x.visible_on(day) {
            out.push(x);
        }
        Ok(())
    };
    let taken = match i.snap.cursor.lock().unwrap().as_mut() {
        Some(c) => c
            .take_each(&i.institution.id, &mut each)
            .map_err(ledger_err)?,
        None => false,
    };
    if !taken {
        i.snap
            .reader
            .findings_each_of(&i.institution.id, each)
            .map_err(ledger_err)?;
    }
    Ok(())
}

/// `inst.applications()` and `inst.courses()`.
fn register_platform_methods(engine: &mut Engine) {
    engine.register_fn("applications", |i: &mut InstitutionRef| -> RResult<Array> {
        let d = i.snap.as_of;
        let v = i
            .snap
            .reader
            .applications_of(&i.institution.id)
            .map_err(ledger_err)?;
        Ok(v.into_iter()
            .filter(|a| a.submitted_on <= d)
            .map(|a| {
                Dynamic::from(ApplicationRef {
                    application: Arc::new(a),
                    as_of: d,
                })
            })
            .collect())
    });
    engine.register_fn("courses", |i: &mut InstitutionRef| -> RResult<Array> {
        let d = i.snap.as_of;
        let v = i
            .snap
            .reader
            .courses_of(&i.institution.id)
            .map_err(ledger_err)?;
        Ok(v.into_iter()
            .filter(|c| c.filed_on <= d)
            .map(|c| Dynamic::from(CourseRef::of(c, d)))
            .collect())
    });
}

/// The institution with `id` in the host's current snapshot, or `()`.
pub fn institution_by_id(h: &Host, id: &str) -> RResult<Dynamic> {
    let snap = h.snap();
    let mut last = h.last_inst.lock().unwrap();
    // The cached record holds its snapshot, so a new snapshot (the REPL's date
    // changed, a fixture was written) can never share its address.
    if let Some((x, s)) = &*last {
        if x.id == id && Arc::ptr_eq(s, &snap) {
            return Ok(Dynamic::from(InstitutionRef::new(x.clone(), s.clone())));
        }
    }
    match snap.reader.institution_as(id).map_err(ledger_err)? {
        Some(x) => {
            let x = Arc::new(x);
            *last = Some((x.clone(), snap.clone()));
            Ok(Dynamic::from(InstitutionRef::new(x, snap)))
        }
        None => Ok(Dynamic::UNIT),
    }
}
