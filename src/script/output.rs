//! Rendering what scripts produce: emitted rows as a table, CSV, JSON or JSON
//! Lines, and any value the REPL shows.

use std::io::Write;

use comfy_table::{presets, ContentArrangement, Table};
use rhai::{Dynamic, Map, AST};

use super::api::{self, Date};
use crate::model::fmt_date;

/// Output format of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RowFormat {
    Table,
    Csv,
    Json,
    Jsonl,
}

/// Key orders of every map literal in a script, as written. Rhai maps are
/// sorted, so this is how `emit(#{name: …, id: …})` keeps its column order.
pub fn literal_key_orders(ast: &AST) -> Vec<Vec<String>> {
    let mut orders = Vec::new();
    ast.walk(&mut |path: &[rhai::ASTNode]| {
        if let Some(rhai::ASTNode::Expr(rhai::Expr::Map(m, _))) = path.last() {
            orders.push(m.0.iter().map(|(id, _)| id.name.to_string()).collect());
        }
        true
    });
    orders
}

/// The columns for a set of rows: explicit `columns([...])`, else the written
/// order of a map literal with the first row's keys, else the first row's
/// keys; keys that only later rows have are appended.
pub fn columns_for(
    rows: &[Map],
    explicit: Option<&[String]>,
    orders: &[Vec<String>],
) -> Vec<String> {
    if let Some(c) = explicit {
        return c.to_vec();
    }
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let mut cols: Vec<String> = orders
        .iter()
        .find(|o| o.len() == first.len() && o.iter().all(|k| first.contains_key(k.as_str())))
        .cloned()
        .unwrap_or_else(|| first.keys().map(|k| k.to_string()).collect());
    for r in rows.iter().skip(1) {
        for k in r.keys() {
            if !cols.iter().any(|c| c == k.as_str()) {
                cols.push(k.to_string());
            }
        }
    }
    cols
}

/// A value as text in a cell.
pub fn cell(v: &Dynamic) -> String {
    if v.is_unit() {
        return String::new();
    }
    // Most cells are text: answer before trying every record type.
    if let Ok(s) = v.as_immutable_string_ref() {
        return s.to_string();
    }
    if let Some(d) = v.read_lock::<Date>() {
        return fmt_date(d.0);
    }
    if let Ok(f) = v.as_float() {
        return if f.fract() == 0.0 && f.abs() < 1e15 {
            format!("{f:.1}")
        } else {
            let s = format!("{f:.4}");
            s.trim_end_matches('0').to_string()
        };
    }
    if let Some(id) = api::prop(v, "id").filter(|_| api::record_props(v).is_some()) {
        return id.to_string();
    }
    if v.is_array() {
        let a = v.read_lock::<rhai::Array>().unwrap();
        return a.iter().map(cell).collect::<Vec<_>>().join(";");
    }
    v.to_string()
}

/// A value as JSON.
pub fn json(v: &Dynamic) -> serde_json::Value {
    use serde_json::Value as J;
    if v.is_unit() {
        return J::Null;
    }
    if let Ok(b) = v.as_bool() {
        return J::Bool(b);
    }
    if let Ok(i) = v.as_int() {
        return J::from(i);
    }
    if let Ok(f) = v.as_float() {
        return serde_json::Number::from_f64(f)
            .map(J::Number)
            .unwrap_or(J::Null);
    }
    if let Some(d) = v.read_lock::<Date>() {
        return J::String(fmt_date(d.0));
    }
    if let Some(a) = v.read_lock::<rhai::Array>() {
        return J::Array(a.iter().map(json).collect());
    }
    if let Some(m) = v.read_lock::<Map>() {
        return J::Object(m.iter().map(|(k, v)| (k.to_string(), json(v))).collect());
    }
    if let Some(props) = api::record_props(v) {
        return J::Object(
            props
                .iter()
                .map(|(p, _)| (p.to_string(), json(&api::prop(v, p).unwrap_or_default())))
                .collect(),
        );
    }
    J::String(v.to_string())
}

/// An empty table in the house style. Cells are wrapped to the terminal's
/// width only when there is a real one: a pseudo-terminal reporting 0 columns
/// (`script`, some CI runners) would otherwise squeeze every cell to one letter.
pub fn new_table() -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    let wide_enough = t.width().is_some_and(|w| w >= 40);
    t.set_content_arrangement(if wide_enough {
        ContentArrangement::Dynamic
    } else {
        ContentArrangement::Disabled
    });
    t
}

/// A table with comfy-table, whose widths count Chinese characters as two columns.
pub fn table(cols: &[String], rows: &[Vec<String>]) -> String {
    let mut t = new_table();
    t.set_header(cols.to_vec());
    for r in rows {
        t.add_row(r.clone());
    }
    // Right-align columns that hold only numbers, as sqlite3 and DuckDB do.
    for (i, _) in cols.iter().enumerate() {
        let numeric = !rows.is_empty()
            && rows.iter().all(|r| {
                r.get(i).is_some_and(|c| {
                    c.is_empty() || c.replace([',', '%'], "").parse::<f64>().is_ok()
                })
            });
        if numeric {
            if let Some(c) = t.column_mut(i) {
                c.set_cell_alignment(comfy_table::CellAlignment::Right);
            }
        }
    }
    t.to_string()
}

/// Writes rows in a format.
pub fn write_rows(
    out: &mut dyn Write,
    fmt: RowFormat,
    cols: &[String],
    rows: &[Map],
) -> std::io::Result<()> {
    let get = |r: &Map, c: &str| r.get(c).cloned().unwrap_or_default();
    match fmt {
        RowFormat::Table => {
            if rows.is_empty() {
                return Ok(());
            }
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| cols.iter().map(|c| cell(&get(r, c))).collect())
                .collect();
            writeln!(out, "{}", table(cols, &cells))?;
            writeln!(
                out,
                "({} row{})",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            )?;
        }
        RowFormat::Csv => {
            if cols.is_empty() {
                return Ok(());
            }
            let mut w = csv::Writer::from_writer(out);
            w.write_record(cols).map_err(std::io::Error::other)?;
            for r in rows {
                let cells = cols.iter().map(|c| {
                    let s = cell(&get(r, c));
                    crate::format::neutralise(&s).into_owned()
                });
                w.write_record(cells).map_err(std::io::Error::other)?;
            }
            w.flush()?;
        }
        RowFormat::Json => {
            let arr: Vec<serde_json::Value> = rows.iter().map(|r| ordered_json(r, cols)).collect();
            serde_json::to_writer_pretty(&mut *out, &arr)?;
            writeln!(out)?;
        }
        RowFormat::Jsonl => {
            // Written straight from the row, without building a JSON object per
            // row: a course check prints hundreds of thousands of lines.
            let keys: Vec<String> = cols
                .iter()
                .map(|c| serde_json::to_string(c).unwrap_or_default())
                .collect();
            let mut line = Vec::new();
            for r in rows {
                line.clear();
                line.push(b'{');
                for (n, (c, k)) in cols.iter().zip(&keys).enumerate() {
                    if n > 0 {
                        line.push(b',');
                    }
                    line.extend_from_slice(k.as_bytes());
                    line.push(b':');
                    match r.get(c.as_str()) {
                        Some(v) => json_into(&mut line, v)?,
                        None => line.extend_from_slice(b"null"),
                    }
                }
                line.extend_from_slice(b"}\n");
                out.write_all(&line)?;
            }
        }
    }
    Ok(())
}

/// Appends `v` as JSON, exactly as [`json`] would give it.
fn json_into(out: &mut Vec<u8>, v: &Dynamic) -> std::io::Result<()> {
    if let Ok(s) = v.as_immutable_string_ref() {
        serde_json::to_writer(&mut *out, s.as_str())?;
    } else if let Ok(i) = v.as_int() {
        write!(out, "{i}")?;
    } else if let Ok(b) = v.as_bool() {
        out.extend_from_slice(if b { b"true" } else { b"false" });
    } else if v.is_unit() {
        out.extend_from_slice(b"null");
    } else {
        serde_json::to_writer(&mut *out, &json(v))?;
    }
    Ok(())
}

fn ordered_json(r: &Map, cols: &[String]) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for c in cols {
        m.insert(
            c.clone(),
            json(&r.get(c.as_str()).cloned().unwrap_or_default()),
        );
    }
    serde_json::Value::Object(m)
}
