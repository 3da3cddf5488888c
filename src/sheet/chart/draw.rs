//! Drawing a checked [`Chart`] with plotters: the title and legend, the axes
//! (ticks placed by casebook, labels formatted by it), then bars, stacks or
//! lines. Every label is an SVG `<text>` in the page's font stack.

use chrono::NaiveDate;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{num_text, text_width, ticks, Chart, Kind, Xs, FONTS, SIZE};
use crate::model::fmt_date;

type Fallible = Result<(), Box<dyn std::error::Error>>;
type Plot<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Axis, Axis>>;

/// Draws `c` (checked) into `out`.
pub(super) fn draw(c: &Chart, out: &mut String) -> Fallible {
    let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let colors = c.colors();
    let top = header(&root, c, &colors)?;
    let (_, body) = root.split_vertically(top);

    let (lo, hi) = c.y_span();
    let (yt, ystep) = ticks(lo, hi, c.whole());
    let ylabel_w = yt
        .iter()
        .map(|t| text_width(&num_text(*t, ystep), 11.0))
        .fold(0.0, f64::max) as u32;
    let order = c.x.order();
    let x = XAxis::new(c, &order);
    let y = Axis {
        lo: yt[0],
        hi: yt[yt.len() - 1],
        keys: yt,
    };
    let mut chart = ChartBuilder::on(&body)
        .margin_left(8)
        .margin_right(20)
        .margin_bottom(6)
        .x_label_area_size(if c.x_label.is_some() { 44 } else { 24 })
        .y_label_area_size(ylabel_w + if c.y_label.is_some() { 30 } else { 12 })
        .build_cartesian_2d(x.axis.clone(), y)?;
    let x_text = |v: &f64| x.label(c, &order, *v);
    let y_text = |v: &f64| num_text(*v, ystep);
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .bold_line_style(RGBColor(0xE4, 0xE4, 0xE4))
        .axis_style(RGBColor(0x88, 0x88, 0x88))
        .label_style(font(11.0))
        .axis_desc_style(font(12.0))
        .x_label_formatter(&x_text)
        .y_label_formatter(&y_text);
    if let Some(d) = &c.x_label {
        mesh.x_desc(d.as_str());
    }
    if let Some(d) = &c.y_label {
        mesh.y_desc(d.as_str());
    }
    mesh.draw()?;

    let values: Vec<Vec<f64>> = c
        .series
        .iter()
        .map(|s| order.iter().map(|&i| s.values[i]).collect())
        .collect();
    match c.kind {
        Kind::Bar => bars(&mut chart, &values, &colors)?,
        Kind::StackedBar => stacks(&mut chart, &values, &colors)?,
        Kind::Line => lines(&mut chart, &x.points(c, &order), &values, &colors)?,
    }
    root.present()?;
    Ok(())
}

/// The chart font at `px` CSS pixels (plotters writes 1/1.24 of the size it is given).
fn font(px: f64) -> FontDesc<'static> {
    (FONTS, px * 1.24).into_font()
}

/// A value's small label, over a bar or a stack.
fn value_font() -> TextStyle<'static> {
    font(10.0).color(&RGBColor(0x44, 0x44, 0x44))
}

/// The title, then the legend in rows under it; returns the height they take.
fn header(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    c: &Chart,
    colors: &[RGBColor],
) -> Result<i32, Box<dyn std::error::Error>> {
    let w = SIZE.0 as i32;
    root.draw(&Text::new(
        c.title.clone(),
        (w / 2, 8),
        font(17.0)
            .style(FontStyle::Bold)
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let mut at = (12i32, 34i32);
    for (s, color) in c.series.iter().zip(colors) {
        let item = 18 + text_width(&s.name, 12.0) as i32 + 14;
        if at.0 > 12 && at.0 + item > w - 12 {
            at = (12, at.1 + 18);
        }
        root.draw(&Rectangle::new(
            [(at.0, at.1 + 1), (at.0 + 12, at.1 + 13)],
            color.filled(),
        ))?;
        root.draw(&Text::new(
            s.name.clone(),
            (at.0 + 17, at.1 + 7),
            font(12.0)
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        at.0 += item;
    }
    Ok(at.1 + 20)
}

/// The x axis: categories at 0, 1, … in drawing order (bars, and lines over
/// texts), or a time or number axis (lines over dates or numbers).
struct XAxis {
    axis: Axis,
    /// Dates or numbers placed by value, not as categories.
    scaled: bool,
    /// The tick step of a number axis (for its labels' decimals).
    step: f64,
}

impl XAxis {
    fn new(c: &Chart, order: &[usize]) -> XAxis {
        let n = order.len();
        let scaled = c.kind == Kind::Line && !matches!(c.x, Xs::Text(_));
        let (first, last) = (order[0], order[n - 1]);
        let (axis, step) = match &c.x {
            Xs::Date(d) if scaled => {
                let (a, b) = (d[first], d[last]);
                let pad = if a == b { 1.0 } else { 0.0 };
                let keys = date_ticks(a, b).into_iter().map(day).collect();
                (
                    Axis {
                        lo: day(a) - pad,
                        hi: day(b) + pad,
                        keys,
                    },
                    0.0,
                )
            }
            Xs::Num(v) if scaled => {
                let (a, b) = (v[first], v[last]);
                let (t, step) = ticks(a, b, v.iter().all(|x| x.fract() == 0.0));
                let keys = t.into_iter().filter(|x| *x >= a && *x <= b).collect();
                let pad = if a == b { 1.0 } else { 0.0 };
                (
                    Axis {
                        lo: a - pad,
                        hi: b + pad,
                        keys,
                    },
                    step,
                )
            }
            _ => {
                // Fewer labels than categories where they would overlap.
                let widest = (0..n)
                    .map(|i| text_width(&c.x.label(i), 11.0))
                    .fold(0.0, f64::max);
                let fit = ((f64::from(SIZE.0) - 80.0) / (widest + 8.0)).max(1.0) as usize;
                let every = n.div_ceil(fit).max(1);
                let keys = (0..n).step_by(every).map(|i| i as f64).collect();
                (
                    Axis {
                        lo: -0.5,
                        hi: n as f64 - 0.5,
                        keys,
                    },
                    0.0,
                )
            }
        };
        XAxis { axis, scaled, step }
    }

    /// The label of the tick at `v`.
    fn label(&self, c: &Chart, order: &[usize], v: f64) -> String {
        match &c.x {
            Xs::Date(_) if self.scaled => fmt_date(from_day(v)),
            Xs::Num(_) if self.scaled => num_text(v, self.step),
            _ => {
                let i = v.round();
                if i >= 0.0 && (i as usize) < order.len() {
                    c.x.label(order[i as usize])
                } else {
                    String::new()
                }
            }
        }
    }

    /// Where each point (in drawing order) sits along the axis.
    fn points(&self, c: &Chart, order: &[usize]) -> Vec<f64> {
        match &c.x {
            Xs::Date(d) if self.scaled => order.iter().map(|&i| day(d[i])).collect(),
            Xs::Num(v) if self.scaled => order.iter().map(|&i| v[i]).collect(),
            _ => (0..order.len()).map(|i| i as f64).collect(),
        }
    }
}

/// Bars side by side at each x, each with its value over it where it fits.
fn bars(chart: &mut Plot<'_, '_>, values: &[Vec<f64>], colors: &[RGBColor]) -> Fallible {
    let n = values[0].len();
    let bw = 0.8 / values.len() as f64;
    let px = f64::from(chart.plotting_area().dim_in_pixel().0) / n as f64 * bw;
    for (k, (vs, color)) in values.iter().zip(colors).enumerate() {
        for (i, &v) in vs.iter().enumerate() {
            let x0 = i as f64 - 0.4 + k as f64 * bw;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x0 + bw, v)],
                color.filled(),
            )))?;
            let t = num_text(v, 0.0);
            if px >= text_width(&t, 10.0) + 2.0 {
                let under = if v < 0.0 { VPos::Top } else { VPos::Bottom };
                chart.draw_series(std::iter::once(Text::new(
                    t,
                    (x0 + bw / 2.0, v),
                    value_font().pos(Pos::new(HPos::Center, under)),
                )))?;
            }
        }
    }
    Ok(())
}

/// The series stacked at each x (a part of 0 draws nothing), the total over each stack.
fn stacks(chart: &mut Plot<'_, '_>, values: &[Vec<f64>], colors: &[RGBColor]) -> Fallible {
    let mut base = vec![0.0; values[0].len()];
    for (vs, color) in values.iter().zip(colors) {
        for (i, &v) in vs.iter().enumerate() {
            if v > 0.0 {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(i as f64 - 0.4, base[i]), (i as f64 + 0.4, base[i] + v)],
                    color.filled(),
                )))?;
            }
            base[i] += v;
        }
    }
    chart.draw_series(base.iter().enumerate().map(|(i, t)| {
        Text::new(
            num_text(*t, 0.0),
            (i as f64, *t),
            value_font().pos(Pos::new(HPos::Center, VPos::Bottom)),
        )
    }))?;
    Ok(())
}

/// A line per series through its points, marked where there are few.
fn lines(
    chart: &mut Plot<'_, '_>,
    xs: &[f64],
    values: &[Vec<f64>],
    colors: &[RGBColor],
) -> Fallible {
    for (vs, color) in values.iter().zip(colors) {
        let pts: Vec<(f64, f64)> = xs.iter().copied().zip(vs.iter().copied()).collect();
        chart.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?;
        if pts.len() <= 60 {
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))?;
        }
    }
    Ok(())
}

/// A value axis from `lo` to `hi` with ticks (and grid lines) exactly at
/// `keys`: plotters' own choice would put district labels between bars.
#[derive(Clone)]
pub(super) struct Axis {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl Ranged for Axis {
    // Labels come from the chart's own formatters, never this default.
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.lo..self.hi).map(v, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Ticks along a date axis from `a` to `b`: days, weeks, months or years,
/// whichever gives about eight or fewer.
fn date_ticks(a: NaiveDate, b: NaiveDate) -> Vec<NaiveDate> {
    use chrono::{Datelike, Months};
    let days = (b - a).num_days();
    for step in [1i64, 2, 7, 14] {
        if days / step <= 8 {
            let mut v = Vec::new();
            let mut d = a;
            while d <= b {
                v.push(d);
                d += chrono::Duration::days(step);
            }
            return v;
        }
    }
    // Month starts every 1, 2, 3, 6 or 12 months (January, April, … for quarters).
    for months in [1u32, 2, 3, 6, 12] {
        let mut v = Vec::new();
        let mut d = NaiveDate::from_ymd_opt(a.year(), a.month(), 1).unwrap_or(a);
        while d <= b {
            if d >= a && (d.month() - 1).is_multiple_of(months) {
                v.push(d);
            }
            match d.checked_add_months(Months::new(1)) {
                Some(n) => d = n,
                None => break,
            }
        }
        if !v.is_empty() && v.len() <= 8 {
            return v;
        }
    }
    // New Year's days every 2, 5, 10, … years.
    for years in [2, 5, 10, 20, 50, 100, 1000] {
        let v: Vec<NaiveDate> = (a.year()..=b.year())
            .filter(|y| y % years == 0)
            .filter_map(|y| NaiveDate::from_ymd_opt(y, 1, 1))
            .filter(|d| *d >= a && *d <= b)
            .collect();
        if !v.is_empty() && v.len() <= 8 {
            return v;
        }
    }
    vec![a, b]
}

/// Days since the Unix epoch: a date's place on a time axis.
fn day(d: NaiveDate) -> f64 {
    (d - NaiveDate::default()).num_days() as f64
}

/// The date `x` days after the epoch.
fn from_day(x: f64) -> NaiveDate {
    NaiveDate::default() + chrono::Duration::days(x.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn date_ticks_are_days_weeks_or_month_starts() {
        assert_eq!(date_ticks(d("2019-02-14"), d("2019-02-20")).len(), 7);
        let weeks = date_ticks(d("2019-01-01"), d("2019-02-20"));
        assert_eq!(weeks[1] - weeks[0], chrono::Duration::days(7), "{weeks:?}");
        let months = date_ticks(d("2018-03-01"), d("2019-02-20"));
        assert_eq!(months[0], d("2018-03-01"), "{months:?}");
        assert!(months.len() <= 8 && months.iter().all(|m| m.format("%d").to_string() == "01"));
        let years = date_ticks(d("2000-06-01"), d("2019-02-20"));
        assert!(
            years.len() <= 8 || years == vec![d("2000-06-01"), d("2019-02-20")],
            "{years:?}"
        );
    }
}
