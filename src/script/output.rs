//! Rendering what scripts produce: emitted rows as a table, CSV, JSON or JSON
//! Lines, and any value the REPL shows.

use std::borrow::Cow;
use std::io::Write;

use comfy_table::{presets, ContentArrangement, Table};
use rhai::{Dynamic, Map, AST};

use super::records::{self, Date};

use super::state::{CellRef, Rows};
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
    rows: &Rows,
    explicit: Option<&[String]>,
    orders: &[Vec<String>],
) -> Vec<String> {
    if let Some(c) = explicit {
        return c.to_vec();
    }
    if rows.is_empty() {
        return Vec::new();
    }
    let first = rows.first_keys();
    let mut cols: Vec<String> = orders
        .iter()
        .find(|o| o.len() == first.len() && o.iter().all(|k| first.contains(k)))
        .cloned()
        .unwrap_or_else(|| {
            let mut v = first.to_vec();
            records::props::bureau_order(&mut v);
            v
        });
    for k in &rows.keys[rows.first_len..] {
        if !cols.contains(k) {
            cols.push(k.clone());
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
    if let Some(id) = records::prop(v, "id").filter(|_| records::record_props(v).is_some()) {
        return id.to_string();
    }
    if v.is_array() {
        let a = v.read_lock::<rhai::Array>().unwrap();
        return a.iter().map(cell).collect::<Vec<_>>().join(";");
    }
    if let Some(m) = v.read_lock::<Map>() {
        // As Rhai writes a map, but in the bureau's order (count_by's districts).
        let items: Vec<String> = bureau_keys(&m)
            .into_iter()
            .map(|k| format!("{k:?}: {:?}", m[k.as_str()]))
            .collect();
        return format!("#{{{}}}", items.join(", "));
    }
    v.to_string()
}

impl Rows {
    /// Every row as a map, in the order emitted.
    pub fn iter(&self) -> impl Iterator<Item = Map> + '_ {
        (0..self.len()).map(|r| self.row_map(r))
    }

    /// Row `r` as a map again.
    pub fn row_map(&self, r: usize) -> Map {
        (0..self.keys.len())
            .map_while(|i| {
                self.cell_in(r, i)
                    .map(|c| (self.keys[i].as_str().into(), value_of(c)))
            })
            .collect()
    }
}

/// The script value a row's cell stands for.
pub fn value_of(c: CellRef<'_>) -> Dynamic {
    match c {
        CellRef::Val(v) => v.clone(),
        CellRef::Text(s) => s.into(),
        CellRef::Date(d) => Dynamic::from(Date(d)),
    }
}

/// A row's cell as text in a cell: [`cell`] of the value it stands for.
fn cell_of(c: CellRef<'_>) -> Cow<'_, str> {
    match c {
        CellRef::Val(v) => Cow::Owned(cell(v)),
        CellRef::Text(s) => Cow::Borrowed(s),
        CellRef::Date(d) => Cow::Owned(fmt_date(d)),
    }
}

/// A map's keys in the bureau's order where they are districts or an enum's codes.
fn bureau_keys(m: &Map) -> Vec<String> {
    let mut k: Vec<String> = m.keys().map(|k| k.to_string()).collect();
    records::props::bureau_order(&mut k);
    k
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
        return J::Object(
            bureau_keys(&m)
                .into_iter()
                .map(|k| {
                    let x = json(&m[k.as_str()]);
                    (k, x)
                })
                .collect(),
        );
    }
    if let Some(props) = records::record_props(v) {
        return J::Object(
            props
                .iter()
                .map(|p| {
                    let p = p.name;
                    (
                        p.to_string(),
                        json(&records::prop(v, p).unwrap_or_default()),
                    )
                })
                .collect(),
        );
    }
    J::String(v.to_string())
}

/// A row's cell as JSON: [`json`] of the value it stands for.
fn json_of(c: CellRef<'_>) -> serde_json::Value {
    match c {
        CellRef::Val(v) => json(v),
        CellRef::Text(s) => serde_json::Value::String(s.to_string()),
        CellRef::Date(d) => serde_json::Value::String(fmt_date(d)),
    }
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
    fill_table(new_table(), cols, rows)
}

/// The widest value, in terminal columns, that a table tries to keep on one
/// line: ids, dates and numbers up to this width are not broken across lines
/// while the terminal leaves the other columns room to wrap (see [`drawn`]);
/// a longer one (a hash) wraps like text.
const UNBROKEN: usize = 24;

/// [`table`] into `t`, set up by the caller (for tests, a fixed width).
fn fill_table(mut t: Table, cols: &[String], rows: &[Vec<String>]) -> String {
    t.set_header(cols.to_vec());
    // A table is read on a terminal: data's control characters are shown as
    // escapes, never sent raw (an ESC sequence could retitle or clear it).
    for r in rows {
        t.add_row(
            r.iter()
                .map(|c| crate::model::escape_controls(c).into_owned()),
        );
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
    drawn(t)
}

/// The table as text, with the columns of ids, dates and numbers (ASCII
/// words without spaces, holding a digit: `GZ-TH-00846`, `2018-04-06`,
/// `1,413,254.00`) kept whole when the terminal leaves the other columns
/// room to wrap in; text, and Chinese, which breaks between any two
/// characters, wraps.
pub fn drawn(mut t: Table) -> String {
    // Without a terminal's width nothing wraps: no column needs keeping whole.
    let Some(width) = t.width() else {
        return t.to_string();
    };
    let mut widest: Vec<Option<usize>> = Vec::new();
    for row in t.row_iter() {
        for (i, cell) in row.cell_iter().enumerate() {
            if widest.len() <= i {
                widest.resize(i + 1, Some(0));
            }
            let c = cell.content();
            let atomic = c.is_empty()
                || (c.is_ascii()
                    && !c.contains(char::is_whitespace)
                    && c.contains(|ch: char| ch.is_ascii_digit()));
            widest[i] = widest[i].filter(|_| atomic).map(|w| w.max(c.len()));
        }
    }
    let mut keep: Vec<Option<usize>> = widest
        .into_iter()
        .map(|w| w.filter(|w| (1..=UNBROKEN).contains(w)))
        .collect();
    // Each column takes its width, padding and a border; one that wraps
    // needs room for a few characters (a Chinese character is two columns:
    // narrower than that, the table loses its alignment). On a terminal too
    // narrow for all, the narrowest stay whole (in the bureau's tables:
    // counts, then dates, then ids), the rest wrap.
    const WRAPPED_MIN: usize = 6;
    let mut room = (width as usize).saturating_sub(1 + keep.len() * 3);
    room = room.saturating_sub(keep.iter().filter(|k| k.is_none()).count() * WRAPPED_MIN);
    let mut order: Vec<usize> = (0..keep.len()).filter(|&i| keep[i].is_some()).collect();
    order.sort_by_key(|&i| keep[i]);
    for i in order {
        let w = keep[i].unwrap_or(0);
        if w <= room {
            room -= w;
        } else {
            room = room.saturating_sub(WRAPPED_MIN);
            keep[i] = None;
        }
    }
    for (i, w) in keep.into_iter().enumerate() {
        let Some(w) = w else {
            continue;
        };
        if let Some(c) = t.column_mut(i) {
            // The boundary counts the cell's padding too.
            let padding = c.padding_width();
            c.set_constraint(comfy_table::ColumnConstraint::LowerBoundary(
                comfy_table::Width::Fixed(w as u16 + padding),
            ));
        }
    }
    t.to_string()
}

/// A value as a typed cell of a file (.xlsx, Parquet, a report page).
pub fn typed_cell(v: &Dynamic) -> crate::sheet::Cell {
    use crate::sheet::Cell;
    if v.is_unit() {
        return Cell::Empty;
    }
    if let Ok(s) = v.as_immutable_string_ref() {
        return Cell::from(s.as_str());
    }
    if let Ok(i) = v.as_int() {
        return Cell::Int(i);
    }
    if let Ok(f) = v.as_float() {
        return Cell::Num(f);
    }
    if let Ok(b) = v.as_bool() {
        return Cell::Bool(b);
    }
    if let Some(d) = v.read_lock::<Date>() {
        return Cell::Date(d.0);
    }
    Cell::from(cell(v))
}

/// A row's cell as a typed cell: [`typed_cell`] of the value it stands for.
fn typed_cell_of(c: CellRef<'_>) -> crate::sheet::Cell {
    match c {
        CellRef::Val(v) => typed_cell(v),
        CellRef::Text(s) => crate::sheet::Cell::from(s),
        CellRef::Date(d) => crate::sheet::Cell::Date(d),
    }
}

/// The rows as one sheet, named after the script.
pub fn sheet(rows: &Rows, cols: &[String], script: &std::path::Path) -> crate::sheet::Sheet {
    let at = rows.positions(cols);
    crate::sheet::Sheet {
        name: script
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("rows")
            .to_string(),
        title: None,
        cols: cols.to_vec(),
        rows: (0..rows.len())
            .map(|r| rows.values(r, &at).map(typed_cell_of).collect())
            .collect(),
    }
}

/// Whether writing failed because the reader of a pipe went away (`| head`),
/// also when the CSV writer wrapped the error.
pub fn pipe_closed(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
        || e.get_ref().is_some_and(|inner| {
            inner
                .downcast_ref::<std::io::Error>()
                .is_some_and(pipe_closed)
                || matches!(
                    inner.downcast_ref::<csv::Error>().map(|c| c.kind()),
                    Some(csv::ErrorKind::Io(io)) if pipe_closed(io)
                )
        })
}

/// Writes the first `limit` rows in a format.
pub fn write_rows(
    out: &mut dyn Write,
    fmt: RowFormat,
    cols: &[String],
    rows: &Rows,
    limit: usize,
) -> std::io::Result<()> {
    write_rows_from(out, fmt, cols, rows, limit, true)
}

/// [`write_rows`], with or without the CSV header: a streamed run writes it
/// before its first rows only.
pub fn write_rows_from(
    out: &mut dyn Write,
    fmt: RowFormat,
    cols: &[String],
    rows: &Rows,
    limit: usize,
    header: bool,
) -> std::io::Result<()> {
    let n = rows.len().min(limit);
    let at = rows.positions(cols);
    match fmt {
        RowFormat::Table => {
            if n == 0 {
                return Ok(());
            }
            let cells: Vec<Vec<String>> = (0..n)
                .map(|r| {
                    rows.values(r, &at)
                        .map(|c| cell_of(c).into_owned())
                        .collect()
                })
                .collect();
            writeln!(out, "{}", table(cols, &cells))?;
            writeln!(out, "({} row{})", n, if n == 1 { "" } else { "s" })?;
        }
        RowFormat::Csv => {
            if cols.is_empty() {
                return Ok(());
            }
            let mut w = csv::Writer::from_writer(out);
            if header {
                w.write_record(cols).map_err(std::io::Error::other)?;
            }
            let mut cells: Vec<Cow<str>> = Vec::with_capacity(cols.len());
            for r in 0..n {
                cells.clear();
                cells.extend(rows.values(r, &at).map(|c| match c {
                    // Only text can be a formula: a negative number is a number.
                    CellRef::Text(s) => crate::format::neutralise(s),
                    CellRef::Val(v) if v.is_string() => {
                        Cow::Owned(crate::format::neutralise(&cell(v)).into_owned())
                    }
                    c => cell_of(c),
                }));
                w.write_record(cells.iter().map(|c| c.as_bytes()))
                    .map_err(std::io::Error::other)?;
            }
            w.flush()?;
        }
        RowFormat::Json => {
            let arr: Vec<serde_json::Value> = (0..n)
                .map(|r| {
                    let m: serde_json::Map<String, serde_json::Value> = cols
                        .iter()
                        .cloned()
                        .zip(rows.values(r, &at).map(json_of))
                        .collect();
                    serde_json::Value::Object(m)
                })
                .collect();
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
            for r in 0..n {
                line.clear();
                line.push(b'{');
                for (j, (k, v)) in keys.iter().zip(rows.values(r, &at)).enumerate() {
                    if j > 0 {
                        line.push(b',');
                    }
                    line.extend_from_slice(k.as_bytes());
                    line.push(b':');
                    json_into(&mut line, v)?;
                }
                line.extend_from_slice(b"}\n");
                out.write_all(&line)?;
            }
        }
    }
    Ok(())
}

/// Appends `c` as JSON, exactly as [`json_of`] would give it.
fn json_into(out: &mut Vec<u8>, c: CellRef<'_>) -> std::io::Result<()> {
    let v = match c {
        CellRef::Val(v) => v,
        CellRef::Text(s) => return json_str(out, s),
        CellRef::Date(d) => return json_str(out, &fmt_date(d)),
    };
    // The types are tested by their tags first: a failed `as_…` names the
    // value's type, which costs more than the rest of the cell.
    if v.is_string() {
        if let Ok(s) = v.as_immutable_string_ref() {
            return json_str(out, s.as_str());
        }
    }
    if v.is_int() {
        if let Ok(i) = v.as_int() {
            write!(out, "{i}")?;
            return Ok(());
        }
    }
    if v.is_bool() {
        if let Ok(b) = v.as_bool() {
            out.extend_from_slice(if b { b"true" } else { b"false" });
            return Ok(());
        }
    }
    if let Ok(s) = v.as_immutable_string_ref() {
        json_str(out, s.as_str())?;
    } else if let Ok(i) = v.as_int() {
        write!(out, "{i}")?;
    } else if let Ok(b) = v.as_bool() {
        out.extend_from_slice(if b { b"true" } else { b"false" });
    } else if v.is_unit() {
        out.extend_from_slice(b"null");
    } else if let Some(d) = v.read_lock::<Date>() {
        // What `json` gives a date (a JSON string), without the JSON value.
        json_str(out, &fmt_date(d.0))?;
    } else {
        serde_json::to_writer(&mut *out, &json(v))?;
    }
    Ok(())
}

/// `s` as a JSON string, as serde_json writes it: text with nothing to
/// escape (most cells, Chinese included) is copied as it is; anything else
/// goes through serde_json itself.
fn json_str(out: &mut Vec<u8>, s: &str) -> std::io::Result<()> {
    if needs_escape(s.as_bytes()) {
        serde_json::to_writer(&mut *out, s)?;
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
    Ok(())
}

/// Whether `b` has a byte JSON escapes (a control character, `"` or `\`),
/// eight bytes at a time: a byte below `n` shows as a set top bit of
/// `(x - n·0x01…) & !x & 0x80…` (exact for whether there is one, n ≤ 128).
fn needs_escape(b: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const TOPS: u64 = ONES << 7;
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * n as u64) & !x & TOPS;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let x = u64::from_ne_bytes(c.try_into().expect("eight bytes"));
        let quote = x ^ (ONES * b'"' as u64);
        let slash = x ^ (ONES * b'\\' as u64);
        if below(x, 0x20) | below(quote, 1) | below(slash, 1) != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&c| c < 0x20 || c == b'"' || c == b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_string_is_written_as_serde_json_writes_it() {
        for s in [
            "",
            "plain",
            "培训机构0 / 下课时间 21:30",
            "quote \" and \\ backslash",
            "tab\tnew\nline\r\u{8}\u{c}\u{0}\u{1f}\u{7f}",
            "\u{2028}\u{2029} emoji 🦀",
            "long text of more than eight bytes, then a quote \" here",
            "十二个字节的中文然后\\",
            "0123456789abcdef\u{1f}",
            "0123456789abcdef\u{20}\u{21}\u{5b}\u{5d}\u{7f}\u{80}",
        ] {
            let mut got = Vec::new();
            json_str(&mut got, s).unwrap();
            assert_eq!(got, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
        // Every byte that can stand alone in text, at every place of an eight-byte word.
        for c in (0u8..0x80).map(char::from).chain(['é', '中', '\u{2028}']) {
            for at in 0..17 {
                let s = format!("{}{c}bcdefghij", "a".repeat(at));
                let mut got = Vec::new();
                json_str(&mut got, &s).unwrap();
                assert_eq!(got, serde_json::to_vec(&s).unwrap(), "{s:?}");
                let escapes = c < ' ' || c == '"' || c == '\\';
                assert_eq!(needs_escape(s.as_bytes()), escapes, "{s:?}");
            }
        }
    }

    #[test]
    fn a_table_shows_control_characters_as_escapes() {
        let cols = vec!["name".to_string()];
        let rows = vec![vec!["a\u{1b}]0;x\u{7}\u{1b}[2Jb\u{0}".to_string()]];
        let text = table(&cols, &rows);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(
            text.contains("a\\u{1b}]0;x\\u{7}\\u{1b}[2Jb\\u{0}"),
            "{text}"
        );
    }

    #[test]
    fn a_narrow_table_wraps_text_before_it_splits_an_id_a_date_or_a_number() {
        let cols: Vec<String> = ["问题编号", "机构名称", "整改期限", "逾期天数", "amount"]
            .map(String::from)
            .into();
        let rows = vec![vec![
            "GZ-TH-00846".to_string(),
            "广州市天河区启智教育科技有限公司".to_string(),
            "2018-04-06".to_string(),
            "150".to_string(),
            "1,413,254.00".to_string(),
        ]];
        let mut t = new_table();
        t.set_content_arrangement(ContentArrangement::Dynamic);
        t.set_width(60);
        let text = fill_table(t, &cols, &rows);
        for whole in ["GZ-TH-00846", "2018-04-06", "150", "1,413,254.00"] {
            assert!(text.contains(whole), "{whole} split:\n{text}");
        }
        // The name had to wrap to make room.
        assert!(!text.contains("广州市天河区启智教育科技有限公司"), "{text}"); // Too narrow for all: the narrowest stay whole, the table still fits.
        let mut t = new_table();
        t.set_content_arrangement(ContentArrangement::Dynamic);
        t.set_width(46);
        let text = fill_table(t, &cols, &rows);
        for whole in ["150", "2018-04-06", "GZ-TH-00846"] {
            assert!(text.contains(whole), "{whole} split:\n{text}");
        }
        for l in text.lines() {
            let w: usize = l
                .chars()
                .map(|c| {
                    if c.is_ascii() || "│┆─┬┼┴┌┐└┘╞╪╡═├┤".contains(c)
                    {
                        1
                    } else {
                        2
                    }
                })
                .sum();
            assert!(w <= 46, "{w} columns: {l}\n{text}");
        }
    }

    fn map(pairs: &[(&str, i64)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), Dynamic::from(*v)))
            .collect()
    }

    fn jsonl(rows: &Rows, cols: &[String]) -> String {
        let mut out = Vec::new();
        write_rows(&mut out, RowFormat::Jsonl, cols, rows, usize::MAX).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rows_keep_the_union_of_keys_and_append_remaps_them() {
        let mut a: Rows = [map(&[("b", 1), ("a", 2)]), map(&[("c", 3)])]
            .into_iter()
            .collect();
        // The first row's keys (map order), then keys as they first appear.
        let cols = columns_for(&a, None, &[]);
        assert_eq!(cols, ["a", "b", "c"]);
        // A written order that matches the first row's keys wins.
        let written = vec![vec!["b".to_string(), "a".to_string()]];
        assert_eq!(columns_for(&a, None, &written), ["b", "a", "c"]);
        let b: Rows = [map(&[("d", 4), ("a", 5)])].into_iter().collect();
        a.append(b);
        assert_eq!(a.len(), 3);
        assert!(matches!(a.get(2, "a"), Some(CellRef::Val(v)) if v.as_int().unwrap() == 5));
        assert!(a
            .get(1, "a")
            .is_none_or(|c| matches!(c, CellRef::Val(v) if v.is_unit())));
        let cols = columns_for(&a, None, &[]);
        assert_eq!(cols, ["a", "b", "c", "d"]);
        assert_eq!(
            jsonl(&a, &cols),
            "{\"a\":2,\"b\":1,\"c\":null,\"d\":null}\n\
             {\"a\":null,\"b\":null,\"c\":3,\"d\":null}\n\
             {\"a\":5,\"b\":null,\"c\":null,\"d\":4}\n"
        );
        let back: Vec<Map> = a.iter().collect();
        assert_eq!(back[2]["d"].as_int().unwrap(), 4);
    }

    #[test]
    fn a_row_of_texts_and_dates_is_written_as_the_same_script_values_are() {
        use super::super::state::NewRow;
        let d = chrono::NaiveDate::from_ymd_opt(2019, 1, 19).unwrap();
        let text = |s: &str| Dynamic::from(s.to_string());
        let (mut kept, mut values) = (Rows::default(), Rows::default());
        let mut r = NewRow::new(3, 0);
        r.set_text(0, "引号\"x\\\t");
        r.set_date(1, d);
        r.set_static(2, "online");
        kept.push_row(&["a", "b", "c"], r);
        values.push(
            [
                ("a".into(), text("引号\"x\\\t")),
                ("b".into(), Dynamic::from(Date(d))),
                ("c".into(), text("online")),
            ]
            .into_iter()
            .collect(),
        );
        // Other keys than the first row's, a text that looks like a formula.
        let mut r = NewRow::new(3, 0);
        r.set(0, Dynamic::from(5_i64));
        r.set_text(1, "=1+1");
        r.set_text(2, "-");
        kept.push_row(&["b", "d", "e"], r);
        values.push(
            [
                ("b".into(), Dynamic::from(5_i64)),
                ("d".into(), text("=1+1")),
                ("e".into(), text("-")),
            ]
            .into_iter()
            .collect(),
        );
        let cols = columns_for(&values, None, &[]);
        assert_eq!(columns_for(&kept, None, &[]), cols);
        for fmt in [
            RowFormat::Jsonl,
            RowFormat::Csv,
            RowFormat::Json,
            RowFormat::Table,
        ] {
            let mut a = Vec::new();
            let mut b = Vec::new();
            write_rows(&mut a, fmt, &cols, &kept, usize::MAX).unwrap();
            write_rows(&mut b, fmt, &cols, &values, usize::MAX).unwrap();
            assert_eq!(String::from_utf8(a), String::from_utf8(b), "{fmt:?}");
        }
        let sheet = |r: &Rows| format!("{:?}", sheet(r, &cols, std::path::Path::new("x")).rows);
        assert_eq!(sheet(&kept), sheet(&values));
        let maps = |r: &Rows| format!("{:?}", r.iter().collect::<Vec<_>>());
        assert_eq!(maps(&kept), maps(&values));
    }

    #[test]
    fn appending_to_nothing_takes_the_rows_as_they_are() {
        let mut a = Rows::default();
        a.append([map(&[("x", 1)])].into_iter().collect());
        assert_eq!(columns_for(&a, None, &[]), ["x"]);
        assert_eq!(jsonl(&a, &["x".to_string()]), "{\"x\":1}\n");
    }
}
