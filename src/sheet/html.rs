//! A report as a styled HTML page: the rows as tables, a script's charts
//! as inline SVG above them, CJK fonts, and print rules for A4 landscape
//! (`chromium --print-to-pdf`). Every text is escaped.

use super::{Cell, Sheet};

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = r#"
@page { size: A4 landscape; margin: 12mm; }
:root { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; color: #1a1a1a; }
body { margin: 24px; font-size: 13px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #666; margin-bottom: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure.chart { margin: 0; border: 1px solid #ddd; padding: 6px; break-inside: avoid; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; margin-bottom: 12px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eef2f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafafa; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
@media print {
  body { margin: 0; font-size: 10.5px; }
  tr:nth-child(even) td { background: none; }
  /* Two charts side by side across the A4 landscape page, scaled to fit. */
  .charts { gap: 8px; }
  figure.chart { flex: 0 0 calc(50% - 4px); box-sizing: border-box; padding: 4px; }
  figure.chart svg { width: 100%; }
}
"#;

/// The page: a title, the charts (SVG), then each sheet as a table.
pub fn page(title: &str, sheets: &[Sheet], charts: &[String]) -> String {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str(&format!(
        "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(title)
    ));
    o.push_str(&format!("<h1>{}</h1>\n", esc(title)));
    let rows: usize = sheets.iter().map(|s| s.rows.len()).sum();
    o.push_str(&format!(
        "<p class=\"meta\">casebook · {} · {rows} rows</p>\n",
        chrono::Local::now().format("%Y-%m-%d %H:%M")
    ));
    if !charts.is_empty() {
        o.push_str("<div class=\"charts\">\n");
        for c in charts {
            o.push_str("<figure class=\"chart\">");
            o.push_str(c);
            o.push_str("</figure>\n");
        }
        o.push_str("</div>\n");
    }
    for s in sheets {
        if sheets.len() > 1 || s.title.is_some() {
            o.push_str(&format!(
                "<h2>{}</h2>\n",
                esc(s.title.as_deref().unwrap_or(&s.name))
            ));
        }
        if s.cols.is_empty() {
            continue;
        }
        o.push_str("<table>\n<thead><tr>");
        for c in &s.cols {
            o.push_str(&format!("<th>{}</th>", esc(c)));
        }
        o.push_str("</tr></thead>\n<tbody>\n");
        for r in &s.rows {
            o.push_str("<tr>");
            for c in r {
                let (class, text) = match c {
                    Cell::Int(_) | Cell::Num(_) => (" class=\"num\"", c.text()),
                    Cell::Yuan(f) => (" class=\"num\"", super::yuan_text(*f)),
                    c => ("", c.text()),
                };
                o.push_str(&format!("<td{class}>{}</td>", esc(&text)));
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</tbody>\n</table>\n");
    }
    o.push_str("</body>\n</html>\n");
    o
}
