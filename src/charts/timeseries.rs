//! The time-series panel every dashboard, the PromQL explorer and the
//! LogQL metric view draw: any number of lines over one UTC time axis,
//! with a unit on the value axis, threshold lines and exemplar dots.
//! Drawing is generic over plotters' [`DrawingBackend`] and returns the
//! [`Frame`] it drew in, so the browser can map a pointer back to a time
//! (hover, drag-to-zoom) without knowing how the chart is laid out.
//! Lines are decimated to at most two points per device-pixel column.

use super::decimate;
use super::style::ChartStyle;
use super::timefmt;
use super::units::Unit;
use plotters::coord::types::{RangedCoordf64, RangedCoordi64};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One line: a series' samples in time order; NaN breaks the line.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub label: String,
    pub ts: Vec<i64>,
    pub vs: Vec<f64>,
}

impl Line {
    /// A line from a query result's points, with a break wherever more than
    /// one and a half steps pass without a point (an absent series shows as
    /// a gap, not as a straight line across it).
    pub fn from_points(label: String, points: &[(i64, f64)], step_ms: i64) -> Line {
        let mut ts = Vec::with_capacity(points.len());
        let mut vs = Vec::with_capacity(points.len());
        let gap = step_ms.max(1).saturating_mul(3) / 2;
        for (i, &(t, v)) in points.iter().enumerate() {
            if i > 0 && t - points[i - 1].0 > gap {
                ts.push(points[i - 1].0 + step_ms.max(1));
                vs.push(f64::NAN);
            }
            ts.push(t);
            vs.push(v);
        }
        Line { label, ts, vs }
    }

    /// The sample nearest to `t` (by time), if any is finite.
    pub fn nearest(&self, t: i64) -> Option<(i64, f64)> {
        let i = self.ts.partition_point(|&x| x < t);
        let cands = [i.checked_sub(1), (i < self.ts.len()).then_some(i)];
        cands
            .into_iter()
            .flatten()
            .filter(|&k| self.vs[k].is_finite())
            .min_by_key(|&k| (self.ts[k] - t).abs())
            .map(|k| (self.ts[k], self.vs[k]))
    }
}

/// A dot on a line that opens something (an exemplar opens its trace).
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub t: i64,
    pub v: f64,
    /// The line whose colour the dot takes; `None`: the text colour.
    pub line: Option<usize>,
}

/// What one panel shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plot {
    pub lines: Vec<Line>,
    pub unit: Unit,
    /// Unix ms shown on the time axis.
    pub range: (i64, i64),
    /// Horizontal lines (an SLO target, an alert threshold), in the unit.
    pub thresholds: Vec<f64>,
    pub markers: Vec<Marker>,
}

impl Plot {
    /// The value-axis range: from zero (or the lowest value, if negative)
    /// to a little above the highest value or threshold.
    pub fn y_range(&self) -> (f64, f64) {
        let (from, to) = self.range;
        let mut lo = 0.0_f64;
        let mut hi = f64::NEG_INFINITY;
        for l in &self.lines {
            let a = l.ts.partition_point(|&t| t < from);
            let b = l.ts.partition_point(|&t| t <= to);
            for &v in &l.vs[a..b] {
                if v.is_finite() {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
        for m in &self.markers {
            if m.v.is_finite() && m.t >= from && m.t <= to {
                hi = hi.max(m.v);
                lo = lo.min(m.v);
            }
        }
        for &t in &self.thresholds {
            if t.is_finite() {
                hi = hi.max(t);
                lo = lo.min(t);
            }
        }
        if !hi.is_finite() || hi <= lo {
            hi = lo + 1.0;
        }
        (lo, hi + (hi - lo) * 0.08)
    }
    pub fn has_data(&self) -> bool {
        self.lines.iter().any(|l| l.vs.iter().any(|v| v.is_finite())) || self.markers.iter().any(|m| m.v.is_finite())
    }
}

/// Where a plot was drawn, in the backend's pixels: maps pointer
/// positions to times and values and back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub left: i32,
    pub top: i32,
    pub right: i32,
    pub bottom: i32,
    pub range: (i64, i64),
    pub y: (f64, f64),
}

impl Frame {
    /// The time under pixel column `x`, clamped to the range.
    pub fn time_at(&self, x: f64) -> i64 {
        let w = (self.right - self.left).max(1) as f64;
        let f = ((x - self.left as f64) / w).clamp(0.0, 1.0);
        self.range.0 + ((self.range.1 - self.range.0) as f64 * f).round() as i64
    }
    pub fn x_of(&self, t: i64) -> f64 {
        let span = (self.range.1 - self.range.0).max(1) as f64;
        self.left as f64 + (t - self.range.0) as f64 / span * (self.right - self.left) as f64
    }
    pub fn y_of(&self, v: f64) -> f64 {
        let span = if self.y.1 > self.y.0 { self.y.1 - self.y.0 } else { 1.0 };
        self.bottom as f64 - (v - self.y.0) / span * (self.bottom - self.top) as f64
    }
    /// The marker of `plot` nearest to pixel `(x, y)`, within `radius`.
    pub fn marker_at(&self, plot: &Plot, x: f64, y: f64, radius: f64) -> Option<usize> {
        plot.markers
            .iter()
            .enumerate()
            .map(|(i, m)| (i, (self.x_of(m.t) - x).hypot(self.y_of(m.v) - y)))
            .filter(|&(_, d)| d <= radius)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    }
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.left as f64 && x <= self.right as f64 && y >= self.top as f64 && y <= self.bottom as f64
    }
}

/// The colour of line `i`: a colour-blind-safe cycle (Okabe–Ito based).
pub fn line_color(style: &ChartStyle, i: usize) -> RGBColor {
    let p = &style.palette.series;
    p[i % p.len()]
}

pub type TimeChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordi64, RangedCoordf64>>;

/// Draws the mesh, value labels through `y_fmt` and round-UTC time ticks;
/// hands back the chart to draw lines into.
pub fn axes<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    (from, to): (i64, i64),
    (y0, y1): (f64, f64),
    y_desc: &str,
    y_fmt: &dyn Fn(&f64) -> String,
    style: &ChartStyle,
) -> Result<TimeChart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let pal = &style.palette;
    let mut chart = ChartBuilder::on(area)
        .margin_top(style.px(12.0))
        .margin_right(style.px(16.0))
        .margin_left(style.px(4.0))
        .x_label_area_size(style.px(22.0))
        .y_label_area_size(style.px(if y_desc.is_empty() { 58.0 } else { 70.0 }))
        .build_cartesian_2d(from..to.max(from + 1), y0..y1)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        // Our own time ticks are drawn below; plotters' x labels are blanked
        // (`x_labels(0)` would make plotters loop looking for key points).
        .x_labels(2)
        .x_label_formatter(&|_| String::new())
        .set_tick_mark_size(LabelAreaPosition::Bottom, 0)
        .y_labels(5)
        .y_label_formatter(y_fmt)
        .y_desc(y_desc)
        .label_style(style.font(11.0))
        .axis_desc_style(style.font(11.0))
        .axis_style(style.line(pal.axis, 1.0))
        .bold_line_style(style.line(pal.grid, 1.0))
        .light_line_style(pal.background.stroke_width(0))
        .draw()?;

    // Time ticks at round UTC instants (plotters' own would fall on round
    // milliseconds, not round minutes).
    let plot_w = chart.plotting_area().dim_in_pixel().0.max(1);
    let max_ticks = (plot_w as f64 / (style.scale * 90.0)).floor().max(2.0) as usize;
    let (ticks, step) = timefmt::ticks(from, to, max_ticks);
    chart.draw_series(ticks.iter().map(|&t| PathElement::new(vec![(t, y0), (t, y1)], style.line(pal.grid, 1.0))))?;
    let base = area.get_base_pixel();
    let font = style.font(11.0).pos(Pos::new(HPos::Center, VPos::Top));
    for &t in &ticks {
        let (x, y) = chart.backend_coord(&(t, y0));
        area.draw_text(&timefmt::label(t, step), &font, (x - base.0, y - base.1 + style.px(5.0)))?;
    }
    Ok(chart)
}

/// Draws `plot` filling `area` and returns where the plotting area is.
pub fn draw_plot<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, plot: &Plot, style: &ChartStyle) -> Result<Frame, DrawingAreaErrorKind<DB::ErrorType>> {
    let pal = &style.palette;
    area.fill(&pal.background)?;
    let (w, h) = area.dim_in_pixel();
    let (from, to) = (plot.range.0, plot.range.1.max(plot.range.0 + 1));
    if !plot.has_data() {
        let font = style.font(13.0).pos(Pos::new(HPos::Center, VPos::Center));
        area.draw_text("No data in this time range.", &font, (w as i32 / 2, h as i32 / 2))?;
        area.present()?;
        return Ok(Frame { left: 0, top: 0, right: w as i32, bottom: h as i32, range: (from, to), y: (0.0, 1.0) });
    }
    let (y0, y1) = plot.y_range();
    let unit = plot.unit;
    let fmt = move |v: &f64| unit.format(*v);
    let mut chart = axes(area, (from, to), (y0, y1), "", &fmt, style)?;
    let plot_w = chart.plotting_area().dim_in_pixel().0.max(1) as usize;

    for &t in &plot.thresholds {
        if t.is_finite() {
            let s = style.line(pal.threshold, 1.0);
            chart.draw_series(std::iter::once(PathElement::new(vec![(from, t), (to, t)], s)))?;
        }
    }
    for (i, line) in plot.lines.iter().enumerate() {
        let segments = decimate::min_max(&line.ts, &line.vs, (from, to), plot_w);
        let s = style.line(line_color(style, i), 1.5);
        chart.draw_series(segments.into_iter().map(move |seg| PathElement::new(seg, s)))?;
    }
    let r = style.px(3.5).max(2) as u32;
    for m in &plot.markers {
        if m.t >= from && m.t <= to && m.v.is_finite() && m.v >= y0 && m.v <= y1 {
            let c = m.line.map(|i| line_color(style, i)).unwrap_or(pal.text);
            chart.draw_series(std::iter::once(Circle::new((m.t, m.v), r, c.filled())))?;
            chart.draw_series(std::iter::once(Circle::new((m.t, m.v), r, pal.background.stroke_width(1))))?;
        }
    }
    let (l, t) = chart.backend_coord(&(from, y1));
    let (r, b) = chart.backend_coord(&(to, y0));
    area.present()?;
    Ok(Frame { left: l, top: t, right: r, bottom: b, range: (from, to), y: (y0, y1) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::testing::Recorder;

    fn plot(n: usize, lines: usize) -> Plot {
        let start = 1_772_442_000_000;
        Plot {
            lines: (0..lines)
                .map(|k| Line {
                    label: format!("pod-{k}"),
                    ts: (0..n as i64).map(|i| start + i * 15_000).collect(),
                    vs: (0..n).map(|i| (k + 1) as f64 * (1.0 + (i % 10) as f64 / 10.0)).collect(),
                })
                .collect(),
            unit: Unit::Seconds,
            range: (start, start + (n as i64 - 1) * 15_000),
            thresholds: vec![0.5],
            markers: vec![Marker { t: start + 15_000, v: 1.1, line: Some(0) }],
        }
    }

    #[test]
    fn draws_every_line_in_its_colour_and_the_unit_on_the_axis() {
        let p = plot(240, 3);
        let style = ChartStyle::light(2.0);
        let mut rec = Recorder::new((1600, 600));
        let frame = draw_plot(&rec.area(), &p, &style).expect("draws");
        for i in 0..3 {
            assert!(rec.points(line_color(&style, i)) >= 200, "line {i}");
        }
        assert!(rec.texts.iter().any(|t| t.ends_with(" s") || t.ends_with(" ms")), "unit labels: {:?}", rec.texts);
        assert!(rec.circles >= 1, "the exemplar dot");
        assert!(frame.left > 0 && frame.right <= 1600 && frame.top < frame.bottom);
        // The frame maps its own edges back to the range.
        assert_eq!(frame.time_at(frame.left as f64), p.range.0);
        assert_eq!(frame.time_at(frame.right as f64), p.range.1);
        assert!((frame.x_of(p.range.1) - frame.right as f64).abs() < 1.0);
    }

    #[test]
    fn a_month_is_decimated() {
        let mut p = plot(43_200, 1);
        p.thresholds.clear();
        let style = ChartStyle::dark(1.0);
        let mut rec = Recorder::new((800, 300));
        draw_plot(&rec.area(), &p, &style).expect("draws");
        let n = rec.points(line_color(&style, 0));
        assert!(n > 100 && n <= 2 * 800, "{n} points");
    }

    #[test]
    fn no_data_says_so() {
        let p = Plot { range: (0, 60_000), ..Default::default() };
        let mut rec = Recorder::new((400, 200));
        draw_plot(&rec.area(), &p, &ChartStyle::light(1.0)).expect("draws");
        assert_eq!(rec.texts, vec!["No data in this time range.".to_string()]);
    }

    #[test]
    fn absent_steps_break_the_line_and_nearest_finds_samples() {
        let l = Line::from_points("x".into(), &[(0, 1.0), (10, 2.0), (50, 3.0)], 10);
        assert_eq!(l.ts.len(), 4);
        assert!(l.vs[2].is_nan());
        assert_eq!(l.nearest(12), Some((10, 2.0)));
        assert_eq!(l.nearest(45), Some((50, 3.0)));
        assert_eq!(l.nearest(-100), Some((0, 1.0)));
        assert_eq!(Line::from_points("e".into(), &[], 10).nearest(0), None);
    }

    #[test]
    fn y_range_starts_at_zero_and_covers_thresholds() {
        let mut p = plot(10, 1);
        p.thresholds = vec![100.0];
        let (lo, hi) = p.y_range();
        assert_eq!(lo, 0.0);
        assert!(hi >= 100.0);
    }
}
