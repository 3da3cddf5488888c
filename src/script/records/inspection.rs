//! `inspection`: a visit to an institution.

use std::sync::Arc;

use rhai::{Array, Dynamic, INT};

use super::{opt_str, sym, Date, ScriptRecord};
use crate::model::Inspection;

/// An inspection.
#[derive(Clone)]
pub struct InspectionRef {
    /// The stored inspection.
    // layout: keeps its old name `i` (ruletest.rs builds this with a struct
    // literal); to be renamed `inspection` after merge.
    pub i: Arc<Inspection>,
}

impl InspectionRef {
    /// The inspection `i` as scripts see it.
    pub fn new(i: Arc<Inspection>) -> InspectionRef {
        InspectionRef { i }
    }
}

/// Inspection properties (see [`ScriptRecord::PROPS`]).
pub const INSPECTION_PROPS: &[(&str, &str)] = &[
    ("id", "inspection id"),
    ("institution_id", "institution's ledger number"),
    ("date", "date of the visit"),
    ("operation", "campaign name, or ()"),
    (
        "departments",
        "array of departments, e.g. [\"education\", \"fire\"]",
    ),
    ("inspectors", "number of inspectors (人次)"),
    ("note", "note"),
];

impl ScriptRecord for InspectionRef {
    const TYPE_NAME: &'static str = "inspection";
    const FRIENDLY: &'static str = "an inspection";
    const PROPS: &'static [(&'static str, &'static str)] = INSPECTION_PROPS;
    const DEFAULT_COLUMNS: &'static [&'static str] = &[
        "id",
        "institution_id",
        "date",
        "operation",
        "departments",
        "inspectors",
    ];

    fn get(&self, k: usize) -> Dynamic {
        let x = &self.i;
        match k {
            0 => x.id.clone().into(),
            1 => x.institution_id.clone().into(),
            2 => Dynamic::from(Date(x.date)),
            3 => opt_str(&x.operation),
            4 => x
                .departments
                .iter()
                .map(|d| sym(d.as_str()))
                .collect::<Array>()
                .into(),
            5 => (x.inspectors as INT).into(),
            6 => x.note.clone().into(),
            _ => Dynamic::UNIT,
        }
    }
}
