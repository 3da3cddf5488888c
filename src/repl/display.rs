//! How the REPL shows a value: records and maps in an array as a table (with
//! the columns an investigator reads first), one record as a field list,
//! scalars plainly; json, jsonl and csv on request.

use rhai::{Dynamic, Map};

use crate::script::records::{self, Date, Records};
use crate::script::state::Rows;
use crate::script::{output, RowFormat};

/// How many rows a table shows before it says how many it left out.
const MAX_ROWS: usize = 50;

/// Renders a value the way people read it: records and maps in an array as a
/// table, one record as a field list, scalars plainly.
pub fn render(v: &Dynamic, fmt: RowFormat) -> String {
    render_ordered(v, fmt, &[])
}

/// [`render`], with maps' columns in the order their literals were written
/// (`orders` as from [`output::literal_key_orders`]; Rhai maps themselves are sorted).
pub fn render_ordered(v: &Dynamic, fmt: RowFormat, orders: &[Vec<String>]) -> String {
    if v.is_unit() {
        return String::new();
    }
    if let Some(r) = v.read_lock::<Records>().map(|r| r.clone()) {
        // A table shows the first MAX_ROWS; csv and json show every record.
        let keep = if fmt == RowFormat::Table {
            MAX_ROWS
        } else {
            usize::MAX
        };
        let mut items = Vec::new();
        let mut total = 0usize;
        for x in r.iter() {
            match x {
                Ok(x) => {
                    if items.len() < keep {
                        items.push(x);
                    }
                    total += 1;
                }
                Err(e) => return format!("error: {e}"),
            }
        }
        if total == 0 && fmt == RowFormat::Table {
            return "(0 records)".to_string();
        }
        // render_array ends a table with the count (or what it left out): no second count here.
        return render_array(&items, fmt, total, orders);
    }
    if let Some(a) = v.read_lock::<rhai::Array>() {
        let keep = if fmt == RowFormat::Table {
            a.len().min(MAX_ROWS)
        } else {
            a.len()
        };
        return render_array(&a[..keep], fmt, a.len(), orders);
    }
    if fmt == RowFormat::Json {
        return serde_json::to_string_pretty(&output::json(v)).unwrap_or_default();
    }
    if let Some(props) = records::record_props(v) {
        let w = props.iter().map(|p| p.name.len()).max().unwrap_or(0);
        return props
            .iter()
            .map(|p| {
                let p = p.name;
                format!(
                    "{p:>w$}: {}",
                    output::cell(&records::prop(v, p).unwrap_or_default())
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    if let Some(m) = v.read_lock::<Map>() {
        let w = m
            .keys()
            .map(|k| unicode_width::UnicodeWidthStr::width(k.as_str()))
            .max()
            .unwrap_or(0);
        let one: Rows = std::iter::once(m.clone()).collect();
        let keys = output::columns_for(&one, None, orders);
        return keys
            .iter()
            .map(|k| {
                let pad = w - unicode_width::UnicodeWidthStr::width(k.as_str());
                let x = m.get(k.as_str()).cloned().unwrap_or_default();
                format!("{}{k}: {}", " ".repeat(pad), output::cell(&x))
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    if let Some(d) = v.read_lock::<Date>() {
        return crate::model::fmt_date(d.0);
    }
    output::cell(v)
}

/// An array (or the first rows of a record collection of `total`) as a
/// table when every item is a record or map, else as a list.
fn render_array(items: &[Dynamic], fmt: RowFormat, total: usize, orders: &[Vec<String>]) -> String {
    let table_like = !items.is_empty()
        && items
            .iter()
            .all(|x| x.is_map() || records::record_props(x).is_some());
    if !table_like {
        if fmt == RowFormat::Json {
            return serde_json::to_string_pretty(&output::json(&Dynamic::from_array(
                items.to_vec(),
            )))
            .unwrap_or_default();
        }
        let mut s = format!(
            "[{}]",
            items.iter().map(quote).collect::<Vec<_>>().join(", ")
        );
        if total > items.len() {
            s.push_str(&format!("\n… {} more not shown", total - items.len()));
        }
        return s;
    }
    let cols: Vec<String> = match records::default_columns(&items[0]) {
        Some(c) => c.iter().map(|s| s.to_string()).collect(),
        None => {
            let maps: Rows = items
                .iter()
                .filter_map(|x| x.read_lock::<Map>().map(|m| m.clone()))
                .collect();
            output::columns_for(&maps, None, orders)
        }
    };
    let rows: Rows = items
        .iter()
        .map(|x| {
            cols.iter()
                .map(|c| (c.as_str().into(), records::prop(x, c).unwrap_or_default()))
                .collect()
        })
        .collect();
    let mut buf = Vec::new();
    let _ = output::write_rows(&mut buf, fmt, &cols, &rows, usize::MAX);
    let mut s = String::from_utf8_lossy(&buf).trim_end().to_string();
    if fmt == RowFormat::Table {
        // write_rows appends "(N rows)"; say how many were left out instead when truncated.
        if total > items.len() {
            if let Some(i) = s.rfind("\n(") {
                s.truncate(i);
            }
            s.push_str(&format!(
                "\n… showing {} of {total}; filter, or :format csv to see all",
                items.len()
            ));
        }
    }
    s
}

/// An item of a list: strings quoted, so that "1" and 1 differ.
fn quote(v: &Dynamic) -> String {
    if v.is_string() {
        format!("{:?}", v.to_string())
    } else {
        output::cell(v)
    }
}
