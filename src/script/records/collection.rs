//! `records`: the lazy collections `institutions()`, `inspections()`,
//! `findings()`, `applications()` and `courses()`.

use std::sync::Arc;

use rhai::Dynamic;

use super::{ApplicationRef, CourseRef, FindingRef, InspectionRef, InstitutionRef};
use crate::model::RecordKind;
use crate::script::errors::{ledger_err, RResult};
use crate::script::state::Snapshot;

/// `institutions()`, `inspections()`, `findings()`, `applications()`,
/// `courses()`: walked lazily from the ledger, so a script over a million
/// findings never holds them all.
#[derive(Clone)]
pub struct Records {
    pub kind: RecordKind,
    pub snap: Arc<Snapshot>,
}

impl Records {
    /// Every record, in ledger order, as script values.
    pub fn iter(&self) -> Box<dyn Iterator<Item = RResult<Dynamic>> + '_> {
        let snap = self.snap.clone();
        let d = snap.as_of;
        match self.kind {
            RecordKind::Institutions => match self.snap.reader.institutions_as() {
                Ok(it) => Box::new(it.map(move |r| {
                    r.map(|x| Dynamic::from(InstitutionRef::new(Arc::new(x), snap.clone())))
                        .map_err(ledger_err)
                })),
                Err(e) => Box::new(std::iter::once(Err(ledger_err(e)))),
            },
            RecordKind::Findings => match self.snap.reader.findings_raw() {
                Ok(it) => Box::new(it.filter_map(move |r| {
                    let f = r.and_then(|raw| {
                        let n = raw.len();
                        FindingRef::stored(&Arc::new(raw), (0, n), d)
                    });
                    match f {
                        Ok(f) if f.visible() => Some(Ok(Dynamic::from(f))),
                        Ok(_) => None,
                        Err(e) => Some(Err(ledger_err(e))),
                    }
                })),
                Err(e) => Box::new(std::iter::once(Err(ledger_err(e)))),
            },
            RecordKind::Inspections => match self.snap.reader.inspections() {
                Ok(it) => Box::new(it.filter_map(move |r| match r {
                    Ok(i) if i.date <= d => {
                        Some(Ok(Dynamic::from(InspectionRef::new(Arc::new(i)))))
                    }
                    Ok(_) => None,
                    Err(e) => Some(Err(ledger_err(e))),
                })),
                Err(e) => Box::new(std::iter::once(Err(ledger_err(e)))),
            },
            // Applications are few (one per licence request), so they are read at once.
            RecordKind::Applications => match self.snap.reader.applications() {
                Ok(v) => Box::new(v.into_iter().filter(move |a| a.submitted_on <= d).map(
                    move |a| {
                        Ok(Dynamic::from(ApplicationRef {
                            application: Arc::new(a),
                            as_of: d,
                        }))
                    },
                )),
                Err(e) => Box::new(std::iter::once(Err(ledger_err(e)))),
            },
            RecordKind::Courses => match self.snap.reader.courses_as() {
                Ok(it) => Box::new(it.filter_map(move |r| match r {
                    Ok(c) if c.filed_on <= d => Some(Ok(Dynamic::from(CourseRef {
                        course: Arc::new(c),
                        as_of: d,
                    }))),
                    Ok(_) => None,
                    Err(e) => Some(Err(ledger_err(e))),
                })),
                Err(e) => Box::new(std::iter::once(Err(ledger_err(e)))),
            },
        }
    }
}

/// The `for` loop over a collection walks it lazily.
pub struct RecordsIter {
    // Declared first so it is dropped first: fields drop in declaration order,
    // and the iterator borrows `_keep` (the snapshot's tables) until it is gone.
    it: Box<dyn Iterator<Item = RResult<Dynamic>>>,
    _keep: Box<Records>,
}

impl Iterator for RecordsIter {
    type Item = RResult<Dynamic>;
    fn next(&mut self) -> Option<Self::Item> {
        self.it.next()
    }
}

impl IntoIterator for Records {
    type Item = RResult<Dynamic>;
    type IntoIter = RecordsIter;
    fn into_iter(self) -> RecordsIter {
        let keep = Box::new(self);
        // SAFETY: the iterator borrows `*keep`, a heap allocation owned by the
        // returned value, never moved, and dropped after the iterator (`it` is
        // declared before `_keep`).
        let r: &'static Records = unsafe { &*(keep.as_ref() as *const Records) };
        RecordsIter {
            it: r.iter(),
            _keep: keep,
        }
    }
}
