//! Charts scripts ask for with `chart(…)`: bar, stacked bar and line,
//! drawn by plotters as SVG. plotters over charming: it renders in-process
//! to an SVG string with no JavaScript runtime, and keeps labels as SVG
//! `<text>`, so a page shows them in the reader's CJK font and a test finds
//! them in the DOM.
//!
//! A [`Chart`] is checked whole before anything is drawn ([`Chart::check`]):
//! lengths that differ, empty data, numbers that are not finite, an x value
//! given twice and negative parts of a stack are errors, never a chart that
//! quietly shows something else. Dates and numbers along x are put in order;
//! texts keep the order given (districts in the ledger's order).

mod draw;

use chrono::NaiveDate;
use plotters::style::RGBColor;

use crate::model::fmt_date;

/// Width and height of a chart in CSS pixels: two fit side by side on a
/// screen, one per line on an A4 landscape page.
const SIZE: (u32, u32) = (640, 360);
/// Most series a chart shows: one colour each, told apart in the legend.
pub const MAX_SERIES: usize = 10;
/// Most points along x: more bars than this are unreadable.
pub const MAX_POINTS: usize = 5000;
/// The fonts of chart labels, as the page's: a CJK font first.
const FONTS: &str = "Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, WenQuanYi Micro Hei, sans-serif";
/// The colours of series, in order (Tableau 10: told apart in print and by
/// most colour-blind readers).
const PALETTE: [(u8, u8, u8); MAX_SERIES] = [
    (0x4E, 0x79, 0xA7),
    (0xF2, 0x8E, 0x2B),
    (0xE1, 0x57, 0x59),
    (0x76, 0xB7, 0xB2),
    (0x59, 0xA1, 0x4F),
    (0xED, 0xC9, 0x48),
    (0xB0, 0x7A, 0xA1),
    (0xFF, 0x9D, 0xA7),
    (0x9C, 0x75, 0x5F),
    (0xBA, 0xB0, 0xAC),
];

/// What a chart draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One bar per series side by side at each x.
    Bar,
    /// The series' bars stacked at each x: the stack's height is their sum.
    StackedBar,
    /// One line per series through its points.
    Line,
}

impl Kind {
    /// Every kind with the names a script may give it (English, Chinese).
    pub const NAMES: &'static [(Kind, &'static str, &'static str)] = &[
        (Kind::Bar, "bar", "柱状图"),
        (Kind::StackedBar, "stacked_bar", "堆叠柱状图"),
        (Kind::Line, "line", "折线图"),
    ];

    /// The kind a name gives, or `None`.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::NAMES
            .iter()
            .find(|(_, en, zh)| *en == name || *zh == name)
            .map(|(k, _, _)| *k)
    }
}

/// The values along x: all texts, all numbers or all dates.
#[derive(Debug, Clone, PartialEq)]
pub enum Xs {
    Text(Vec<String>),
    Num(Vec<f64>),
    Date(Vec<NaiveDate>),
}

impl Xs {
    /// How many points.
    pub fn len(&self) -> usize {
        match self {
            Xs::Text(v) => v.len(),
            Xs::Num(v) => v.len(),
            Xs::Date(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point `i` as a label.
    pub fn label(&self, i: usize) -> String {
        match self {
            Xs::Text(v) => v[i].clone(),
            Xs::Num(v) => num_text(v[i], 0.0),
            Xs::Date(v) => fmt_date(v[i]),
        }
    }

    /// The order points are drawn in: dates and numbers ascending, texts as given.
    fn order(&self) -> Vec<usize> {
        let mut o: Vec<usize> = (0..self.len()).collect();
        match self {
            Xs::Text(_) => {}
            Xs::Num(v) => o.sort_by(|&a, &b| v[a].total_cmp(&v[b])),
            Xs::Date(v) => o.sort_by_key(|&i| v[i]),
        }
        o
    }
}

/// One named row of numbers, a value per x.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
    /// Its colour, else the palette's next.
    pub color: Option<(u8, u8, u8)>,
}

/// A chart as a script describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub kind: Kind,
    pub title: String,
    pub x: Xs,
    pub series: Vec<Series>,
    pub x_label: Option<String>,
    pub y_label: Option<String>,
}

impl Chart {
    /// Every reason the chart cannot be drawn as asked, first one first.
    pub fn check(&self) -> Result<(), String> {
        if self.title.trim().is_empty() {
            return Err("the title is empty: a chart needs one, the page shows it".into());
        }
        let n = self.x.len();
        if n == 0 {
            return Err("x is empty: there is nothing to draw".into());
        }
        if n > MAX_POINTS {
            return Err(format!(
                "x has {n} points; a chart shows at most {MAX_POINTS} (group them, by week or district)"
            ));
        }
        let order = self.x.order();
        for w in order.windows(2) {
            let same = match &self.x {
                Xs::Text(_) => false,
                Xs::Num(v) => v[w[0]] == v[w[1]],
                Xs::Date(v) => v[w[0]] == v[w[1]],
            };
            if same {
                return Err(format!(
                    "x has {} twice: each point of x is one place on the chart",
                    self.x.label(w[0])
                ));
            }
        }
        if let Xs::Text(v) = &self.x {
            let mut seen = std::collections::HashSet::new();
            if let Some(dup) = v.iter().find(|s| !seen.insert(s.as_str())) {
                return Err(format!(
                    "x has {dup:?} twice: each point of x is one place on the chart"
                ));
            }
        }
        if self.series.is_empty() {
            return Err("series is empty: give at least one, like #{\"逾期\": [3, 5]}".into());
        }
        if self.series.len() > MAX_SERIES {
            return Err(format!(
                "{} series; a chart shows at most {MAX_SERIES}",
                self.series.len()
            ));
        }
        for s in &self.series {
            if s.name.trim().is_empty() {
                return Err("a series has no name: the legend shows it".into());
            }
            if s.values.len() != n {
                return Err(format!(
                    "series {:?} has {} values but x has {n}: one value per point of x",
                    s.name,
                    s.values.len()
                ));
            }
            if let Some(i) = s.values.iter().position(|v| !v.is_finite()) {
                return Err(format!(
                    "series {:?}, value {} (x = {}) is {}, not a number a chart can show",
                    s.name,
                    i + 1,
                    self.x.label(i),
                    s.values[i]
                ));
            }
            if self.kind == Kind::StackedBar {
                if let Some(i) = s.values.iter().position(|v| *v < 0.0) {
                    return Err(format!(
                        "series {:?}, value {} (x = {}) is {}: stacked bars add up parts, which cannot be negative",
                        s.name,
                        i + 1,
                        self.x.label(i),
                        num_text(s.values[i], 0.0)
                    ));
                }
            }
        }
        Ok(())
    }

    /// The chart as an `<svg>` element, after [`Chart::check`].
    pub fn svg(&self) -> Result<String, String> {
        self.check()?;
        let mut out = String::new();
        draw::draw(self, &mut out).map_err(|e| format!("drawing the chart failed: {e}"))?;
        Ok(out)
    }

    /// Each series' colour.
    fn colors(&self) -> Vec<RGBColor> {
        self.series
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (r, g, b) = s.color.unwrap_or(PALETTE[i % PALETTE.len()]);
                RGBColor(r, g, b)
            })
            .collect()
    }

    /// Whether every value is a whole number (counts): ticks step by whole numbers.
    fn whole(&self) -> bool {
        self.series
            .iter()
            .all(|s| s.values.iter().all(|v| v.fract() == 0.0))
    }

    /// The lowest and highest value the y axis must reach (0 included).
    fn y_span(&self) -> (f64, f64) {
        let n = self.x.len();
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        if self.kind == Kind::StackedBar {
            for i in 0..n {
                hi = hi.max(self.series.iter().map(|s| s.values[i]).sum());
            }
        } else {
            for v in self.series.iter().flat_map(|s| &s.values) {
                lo = lo.min(*v);
                hi = hi.max(*v);
            }
        }
        (lo, hi)
    }
}

/// The ticks of a value axis spanning `lo..=hi`: about five round steps
/// (1, 2 or 5 times a power of ten; whole numbers for counts).
pub fn ticks(lo: f64, hi: f64, whole: bool) -> (Vec<f64>, f64) {
    let span = if hi > lo { hi - lo } else { 1.0 };
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    if whole && step < 1.0 {
        step = 1.0;
    }
    let first = (lo / step).floor() as i64;
    let last = ((if hi > lo { hi } else { lo + 1.0 }) / step).ceil() as i64;
    ((first..=last).map(|k| k as f64 * step).collect(), step)
}

/// A number as a label: thousands separators, as many decimals as `step` needs.
pub fn num_text(v: f64, step: f64) -> String {
    let decimals = if step > 0.0 && step.fract() != 0.0 {
        (-step.log10().floor()).max(0.0) as usize
    } else if v.fract() != 0.0 && step == 0.0 {
        2
    } else {
        0
    };
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut o = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            o.push(',');
        }
        o.push(c);
    }
    if !frac.is_empty() {
        o.push('.');
        o.push_str(frac.trim_end_matches('0'));
        if o.ends_with('.') {
            o.pop();
        }
    }
    if v < 0.0 && o.chars().any(|c| c.is_ascii_digit() && c != '0') {
        o.insert(0, '-');
    }
    o
}

/// The width of a text in pixels at `size`, estimated: CJK characters are
/// square, others about 0.6 of the size (for the legend's layout and the
/// space left for labels; the browser places the text itself).
pub fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| if c as u32 >= 0x2E80 { 1.0 } else { 0.6 })
        .sum::<f64>()
        * size
}

#[cfg(test)]
mod tests {
    use super::*;

    fn districts() -> Xs {
        Xs::Text(vec!["越秀".into(), "海珠".into(), "天河".into()])
    }

    fn series(name: &str, values: &[f64]) -> Series {
        Series {
            name: name.into(),
            values: values.to_vec(),
            color: None,
        }
    }

    fn chart(kind: Kind, x: Xs, s: Vec<Series>) -> Chart {
        Chart {
            kind,
            title: "各区未销号与逾期问题".into(),
            x,
            series: s,
            x_label: None,
            y_label: Some("问题数".into()),
        }
    }

    /// The `<rect>`s filled with a series' colour, less its legend swatch.
    fn bars(svg: &str, color: (u8, u8, u8)) -> Vec<(f64, f64)> {
        let fill = format!("fill=\"#{:02X}{:02X}{:02X}\"", color.0, color.1, color.2);
        let attr = |tag: &str, name: &str| -> f64 {
            let at = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            tag[at..].split('"').next().unwrap().parse().unwrap()
        };
        let mut v: Vec<(f64, f64)> = svg
            .split("<rect")
            .skip(1)
            .map(|t| t.split('>').next().unwrap())
            .filter(|t| t.contains(&fill))
            .map(|t| (attr(t, "y"), attr(t, "height")))
            .collect();
        v.remove(0);
        v
    }

    #[test]
    fn labels_title_and_legend_are_svg_text() {
        let c = chart(
            Kind::Bar,
            districts(),
            vec![
                series("未销号", &[3.0, 5.0, 8.0]),
                series("逾期", &[1.0, 0.0, 2.0]),
            ],
        );
        let svg = c.svg().unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        for t in [
            "各区未销号与逾期问题",
            "越秀",
            "海珠",
            "天河",
            "未销号",
            "逾期",
            "问题数",
        ] {
            assert!(
                svg.contains(&format!(">\n{t}\n</text>")) || svg.contains(&format!(">{t}</text>")),
                "{t} is a <text>:\n{svg}"
            );
        }
        assert!(svg.contains("font-family=\"Noto Sans CJK SC"), "{svg}");
        // One bar per district and series.
        assert_eq!(bars(&svg, PALETTE[0]).len(), 3);
        assert_eq!(bars(&svg, PALETTE[1]).len(), 3);
    }

    #[test]
    fn stacked_bars_stack_to_their_sum() {
        let c = chart(
            Kind::StackedBar,
            districts(),
            vec![
                series("A", &[10.0, 20.0, 0.0]),
                series("B", &[5.0, 0.0, 7.0]),
                series("C", &[1.0, 4.0, 3.0]),
            ],
        );
        let svg = c.svg().unwrap();
        let (a, b, cc) = (
            bars(&svg, PALETTE[0]),
            bars(&svg, PALETTE[1]),
            bars(&svg, PALETTE[2]),
        );
        // Zero parts draw nothing.
        assert_eq!((a.len(), b.len(), cc.len()), (2, 2, 3));
        // 越秀: B sits on A, C on B (SVG's y grows downwards).
        assert!((b[0].0 + b[0].1 - a[0].0).abs() <= 1.0, "{a:?} {b:?}");
        assert!((cc[0].0 + cc[0].1 - b[0].0).abs() <= 1.0, "{b:?} {cc:?}");
        // Heights in proportion to the values: 10 : 5 : 1.
        assert!((a[0].1 / b[0].1 - 2.0).abs() < 0.1, "{a:?} {b:?}");
        // The totals are written over the stacks.
        for t in ["16", "24", "10"] {
            assert!(svg.contains(&format!("\n{t}\n</text>")), "{t}:\n{svg}");
        }
        // The tallest stack (24) sets the axis: a tick at or above it.
        let (t, _) = ticks(0.0, 24.0, true);
        assert!(*t.last().unwrap() >= 24.0 && t[0] == 0.0, "{t:?}");
    }

    #[test]
    fn a_line_over_dates_is_drawn_in_date_order() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let c = chart(
            Kind::Line,
            Xs::Date(vec![d("2019-02-20"), d("2018-03-01"), d("2018-09-01")]),
            vec![series("未销号", &[40.0, 0.0, 300.0])],
        );
        let svg = c.svg().unwrap();
        let path = svg
            .split("<polyline")
            .find(|p| p.contains("stroke=\"#4E79A7\""))
            .unwrap();
        let pts: Vec<(f64, f64)> = path
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .split_whitespace()
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        assert_eq!(pts.len(), 3);
        assert!(pts[0].0 < pts[1].0 && pts[1].0 < pts[2].0, "{pts:?}");
        // 2018-03-01 (0) is lowest on the page, 2018-09-01 (300) highest.
        assert!(pts[0].1 > pts[2].1 && pts[1].1 < pts[2].1, "{pts:?}");
        assert!(
            svg.contains("2018-03-01") || svg.contains("2018-04-01"),
            "{svg}"
        );
    }

    #[test]
    fn wrong_data_is_an_error_not_a_chart() {
        let ok = chart(Kind::Bar, districts(), vec![series("a", &[1.0, 2.0, 3.0])]);
        assert!(ok.check().is_ok());
        let mut c = ok.clone();
        c.series[0].values.pop();
        assert_eq!(
            c.check().unwrap_err(),
            "series \"a\" has 2 values but x has 3: one value per point of x"
        );
        let mut c = ok.clone();
        c.x = Xs::Text(vec![]);
        assert!(c.check().unwrap_err().contains("x is empty"));
        let mut c = ok.clone();
        c.series.clear();
        assert!(c.check().unwrap_err().contains("series is empty"));
        let mut c = ok.clone();
        c.series[0].values[1] = f64::NAN;
        assert!(
            c.check().unwrap_err().contains("x = 海珠"),
            "{:?}",
            c.check()
        );
        let mut c = ok.clone();
        c.x = Xs::Text(vec!["越秀".into(), "越秀".into(), "天河".into()]);
        assert!(c.check().unwrap_err().contains("\"越秀\" twice"));
        let mut c = ok.clone();
        c.kind = Kind::StackedBar;
        c.series[0].values[0] = -1.0;
        assert!(c.check().unwrap_err().contains("cannot be negative"));
        let mut c = ok;
        c.title = " ".into();
        assert!(c.check().unwrap_err().contains("title is empty"));
    }

    #[test]
    fn ticks_are_round_and_cover_the_data() {
        assert_eq!(
            ticks(0.0, 24.0, true).0,
            vec![0.0, 5.0, 10.0, 15.0, 20.0, 25.0]
        );
        assert_eq!(ticks(0.0, 3.0, true).0, vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(ticks(0.0, 0.0, true).0, vec![0.0, 1.0]);
        assert_eq!(ticks(-7.0, 12.0, true).0.first(), Some(&-10.0));
        assert_eq!(num_text(7089.0, 1.0), "7,089");
        assert_eq!(num_text(0.25, 0.05), "0.25");
        assert_eq!(num_text(-1500.0, 500.0), "-1,500");
        assert_eq!(Kind::parse("折线图"), Some(Kind::Line));
        assert_eq!(Kind::parse("pie"), None);
    }
}
