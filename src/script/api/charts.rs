//! `chart(#{kind, title, x, series, …})`: a chart on the run's report page.
//!
//! One map, each part named, so a policy clerk can write it from an example
//! without knowing the order of arguments. The map is read strictly: an
//! unknown key (a typo), a value that is not a number, lengths that differ
//! and empty data are runtime errors at the call, never a chart that shows
//! something else. The chart is drawn (SVG, `sheet::chart`) at the call and
//! kept with the run's output: `run -o FILE.html` puts it on the page, and a
//! run with any other output says on stderr that it was not shown.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map};

use super::common::as_f64;
use crate::script::errors::{err, RResult};
use crate::script::records::{type_name, Date};
use crate::script::state::Host;
use crate::sheet::chart::{Chart, Kind, Series, Xs};

/// The keys a chart's map may have.
const KEYS: &[&str] = &[
    "kind", "title", "x", "series", "x_label", "y_label", "colors",
];

/// Registers `chart`.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    engine.register_fn("chart", move |spec: Map| -> RResult<()> {
        let c = read(&spec).or_else(|e| err(format!("chart: {e}")))?;
        let title = c.title.clone();
        let svg = c.svg().or_else(|e| err(format!("chart {title:?}: {e}")))?;
        h.out.lock().unwrap().charts.push(svg);
        Ok(())
    });
    engine.register_fn("chart", |v: Dynamic| -> RResult<()> {
        err(format!(
            "chart takes one map like #{{kind: \"bar\", title: \"…\", x: [...], series: #{{\"逾期\": [...]}}}}, not {}",
            type_name(&v)
        ))
    });
}

/// A value and its kind, as an error names it: `"12" (a string)`.
fn shown(v: &Dynamic) -> String {
    if v.is_unit() {
        "() (nothing)".into()
    } else if v.is_string() {
        format!("{:?} ({})", v.to_string(), type_name(v))
    } else {
        format!("{} ({})", super::common::key_text(v), type_name(v))
    }
}

/// Text under `key`, if given.
fn text(spec: &Map, key: &str) -> Result<Option<String>, String> {
    match spec.get(key) {
        None => Ok(None),
        Some(v) if v.is_string() => Ok(Some(v.to_string())),
        Some(v) => Err(format!("{key} must be a text, not {}", shown(v))),
    }
}

/// The chart the map describes (checked in `Chart::svg`).
fn read(spec: &Map) -> Result<Chart, String> {
    if let Some(k) = spec.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "unknown key {:?}; a chart's keys are {}",
            k.as_str(),
            KEYS.join(", ")
        ));
    }
    let names = || {
        Kind::NAMES
            .iter()
            .map(|(_, en, zh)| format!("\"{en}\" ({zh})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let kind = match text(spec, "kind")? {
        None => return Err(format!("kind is missing: give one of {}", names())),
        Some(k) => {
            Kind::parse(&k).ok_or_else(|| format!("unknown kind {k:?}: give one of {}", names()))?
        }
    };
    let title = text(spec, "title")?
        .ok_or("title is missing: give the chart a title, like title: \"各区逾期问题\"")?;
    let x = match spec.get("x") {
        None => {
            return Err(
                "x is missing: give the points along the bottom, like x: districts()".into(),
            )
        }
        Some(v) => xs(v)?,
    };
    let mut series = match spec.get("series") {
        None => {
            return Err(
                "series is missing: give the numbers, like series: #{\"逾期\": [3, 5]}".into(),
            )
        }
        Some(v) => read_series(v, &x)?,
    };
    if let Some(c) = spec.get("colors") {
        colors(c, &mut series)?;
    }
    Ok(Chart {
        kind,
        title,
        x,
        series,
        x_label: text(spec, "x_label")?,
        y_label: text(spec, "y_label")?,
    })
}

/// The points along x: all texts, all numbers or all dates.
fn xs(v: &Dynamic) -> Result<Xs, String> {
    let Some(a) = v.read_lock::<Array>() else {
        return Err(format!(
            "x must be an array, like [\"越秀\", \"海珠\"], not {}",
            shown(v)
        ));
    };
    let what = |v: &Dynamic| {
        if v.is_string() {
            0
        } else if as_f64(v).is_some() {
            1
        } else if v.read_lock::<Date>().is_some() {
            2
        } else {
            3
        }
    };
    let first = a.first().map(what).unwrap_or(0);
    for (i, item) in a.iter().enumerate() {
        let w = what(item);
        if w == 3 || w != first {
            return Err(format!(
                "x item {} is {}: x holds all texts, all numbers or all dates",
                i + 1,
                shown(item)
            ));
        }
    }
    Ok(match first {
        0 => Xs::Text(a.iter().map(|v| v.to_string()).collect()),
        1 => Xs::Num(a.iter().filter_map(as_f64).collect()),
        _ => Xs::Date(
            a.iter()
                .filter_map(|v| v.read_lock::<Date>().map(|d| d.0))
                .collect(),
        ),
    })
}

/// The series: a map of name → numbers (drawn in the names' order), or an
/// array of `#{name, values}` (drawn in the array's order).
fn read_series(v: &Dynamic, x: &Xs) -> Result<Vec<Series>, String> {
    let pairs: Vec<(String, Dynamic)> = if let Some(m) = v.read_lock::<Map>() {
        m.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    } else if let Some(a) = v.read_lock::<Array>() {
        let mut p = Vec::new();
        for (i, item) in a.iter().enumerate() {
            let Some(m) = item.read_lock::<Map>() else {
                return Err(format!(
                    "series item {} is {}: give #{{name: \"…\", values: [...]}}",
                    i + 1,
                    shown(item)
                ));
            };
            let (Some(name), Some(values)) = (m.get("name"), m.get("values")) else {
                return Err(format!(
                    "series item {} needs a name and values, like #{{name: \"逾期\", values: [3, 5]}}",
                    i + 1
                ));
            };
            if let Some(k) = m.keys().find(|k| *k != "name" && *k != "values") {
                return Err(format!(
                    "series item {}: unknown key {:?}; give name and values",
                    i + 1,
                    k.as_str()
                ));
            }
            if !name.is_string() {
                return Err(format!(
                    "series item {}: the name must be a text, not {}",
                    i + 1,
                    shown(name)
                ));
            }
            p.push((name.to_string(), values.clone()));
        }
        p
    } else {
        return Err(format!(
            "series must be a map like #{{\"逾期\": [3, 5]}}, not {}",
            shown(v)
        ));
    };
    pairs
        .into_iter()
        .map(|(name, values)| {
            let Some(a) = values.read_lock::<Array>() else {
                return Err(format!(
                    "series {name:?} must be an array of numbers, not {}",
                    shown(&values)
                ));
            };
            let mut out = Vec::with_capacity(a.len());
            for (i, v) in a.iter().enumerate() {
                let Some(n) = as_f64(v) else {
                    let at = if i < x.len() {
                        format!(" (x = {})", x.label(i))
                    } else {
                        String::new()
                    };
                    let hint = if v.is_unit() { "; use 0 for none" } else { "" };
                    return Err(format!(
                        "series {name:?}, value {}{at} is {}, not a number{hint}",
                        i + 1,
                        shown(v)
                    ));
                };
                out.push(n);
            }
            Ok(Series {
                name,
                values: out,
                color: None,
            })
        })
        .collect()
}

/// `colors: #{"A": "#59A14F", …}`: a colour for some series by name.
fn colors(v: &Dynamic, series: &mut [Series]) -> Result<(), String> {
    let Some(m) = v.read_lock::<Map>() else {
        return Err(format!(
            "colors must be a map of series name to colour, like #{{\"逾期\": \"#E15759\"}}, not {}",
            shown(v)
        ));
    };
    for (name, c) in m.iter() {
        let Some(s) = series.iter_mut().find(|s| s.name == name.as_str()) else {
            return Err(format!(
                "colors names {:?}, which is no series; the series are {}",
                name.as_str(),
                series
                    .iter()
                    .map(|s| format!("{:?}", s.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        let t = c.to_string();
        let hex = t
            .strip_prefix('#')
            .filter(|h| h.len() == 6 && h.chars().all(|c| c.is_ascii_hexdigit()));
        let (Some(h), true) = (hex, c.is_string()) else {
            return Err(format!(
                "the colour of {:?} is {}: write it as \"#RRGGBB\", like \"#E15759\"",
                name.as_str(),
                shown(c)
            ));
        };
        let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).unwrap_or(0);
        s.color = Some((byte(0), byte(2), byte(4)));
    }
    Ok(())
}
