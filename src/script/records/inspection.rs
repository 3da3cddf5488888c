//! `inspection`: a visit to an institution.

use std::sync::Arc;

use rhai::{Array, Dynamic, INT};

use super::props::{p, t, Prop};
use super::{opt_str, sym, Date, ScriptRecord};
use crate::model::Inspection;

/// An inspection.
#[derive(Clone)]
pub struct InspectionRef {
    /// The stored inspection.
    pub inspection: Arc<Inspection>,
}

impl InspectionRef {
    /// The `inspection` as scripts see it.
    pub fn new(inspection: Arc<Inspection>) -> InspectionRef {
        InspectionRef { inspection }
    }
}

/// Inspection properties (see [`ScriptRecord::PROPS`]).
pub const INSPECTION_PROPS: &[Prop] = &[
    p("id", t::TEXT, "inspection id"),
    p("institution_id", t::TEXT, "institution's ledger number"),
    p("date", t::DATE, "date of the visit"),
    p("operation", t::TEXT, "campaign name, or ()"),
    p(
        "departments",
        t::DEPARTMENTS,
        "array of departments, e.g. [\"education\", \"fire\"]",
    ),
    p("inspectors", t::INT, "number of inspectors (人次)"),
    p("note", t::TEXT, "note"),
];

impl ScriptRecord for InspectionRef {
    const TYPE_NAME: &'static str = "inspection";
    const FRIENDLY: &'static str = "an inspection";
    const PROPS: &'static [Prop] = INSPECTION_PROPS;
    const DEFAULT_COLUMNS: &'static [&'static str] = &[
        "id",
        "institution_id",
        "date",
        "operation",
        "departments",
        "inspectors",
    ];

    fn getter(name: &str) -> Option<fn(&Self) -> Dynamic> {
        let get: fn(&Self) -> Dynamic = match name {
            "id" => |r| r.inspection.id.clone().into(),
            "institution_id" => |r| r.inspection.institution_id.clone().into(),
            "date" => |r| Dynamic::from(Date(r.inspection.date)),
            "operation" => |r| opt_str(&r.inspection.operation),
            "departments" => |r| {
                r.inspection
                    .departments
                    .iter()
                    .map(|d| sym(d.as_str()))
                    .collect::<Array>()
                    .into()
            },
            "inspectors" => |r| (r.inspection.inspectors as INT).into(),
            "note" => |r| r.inspection.note.clone().into(),
            _ => return None,
        };
        Some(get)
    }
}
