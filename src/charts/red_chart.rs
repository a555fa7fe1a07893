//! The RED chart of one service: request rate on top, P99 and P50 latency
//! below, sharing a UTC time axis. Drawn on any plotters
//! [`DrawingBackend`]: a canvas in the browser, a recording backend in
//! tests. Every length is multiplied by [`ChartStyle::scale`] so the chart
//! is sharp on a backing store sized by the device pixel ratio; lines are
//! decimated to at most two points per device pixel column.

use super::decimate;
use super::red::Red;
use super::timeseries;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Colours of a chart; [`ChartStyle::light`] and [`ChartStyle::dark`]
/// match the page's two colour schemes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Palette {
    pub background: RGBColor,
    pub text: RGBColor,
    pub axis: RGBColor,
    pub grid: RGBColor,
    pub rate: RGBColor,
    pub p99: RGBColor,
    pub p50: RGBColor,
    /// Line colours of multi-series panels, in order (colour-blind safe).
    pub series: [RGBColor; 8],
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChartStyle {
    pub palette: Palette,
    /// Device pixels per CSS pixel (the canvas backing store's scale).
    pub scale: f64,
}

impl ChartStyle {
    pub fn light(scale: f64) -> Self {
        ChartStyle {
            palette: Palette {
                background: RGBColor(0xff, 0xff, 0xff),
                text: RGBColor(0x2b, 0x30, 0x3b),
                axis: RGBColor(0x8a, 0x91, 0x9e),
                grid: RGBColor(0xe4, 0xe7, 0xec),
                rate: RGBColor(0x1f, 0x6f, 0xd1),
                p99: RGBColor(0xc2, 0x41, 0x0c),
                p50: RGBColor(0x0f, 0x8a, 0x5f),
                series: [
                    RGBColor(0x00, 0x72, 0xb2),
                    RGBColor(0xd5, 0x5e, 0x00),
                    RGBColor(0x00, 0x9e, 0x73),
                    RGBColor(0xcc, 0x79, 0xa7),
                    RGBColor(0xb0, 0x7a, 0x00),
                    RGBColor(0x3f, 0x9b, 0xd6),
                    RGBColor(0x8c, 0x56, 0x4b),
                    RGBColor(0x6f, 0x6f, 0x6f),
                ],
            },
            scale: sane_scale(scale),
        }
    }
    pub fn dark(scale: f64) -> Self {
        ChartStyle {
            palette: Palette {
                background: RGBColor(0x1b, 0x1f, 0x27),
                text: RGBColor(0xd8, 0xdc, 0xe3),
                axis: RGBColor(0x6b, 0x73, 0x80),
                grid: RGBColor(0x2e, 0x34, 0x3e),
                rate: RGBColor(0x6c, 0xa8, 0xff),
                p99: RGBColor(0xff, 0x8a, 0x4c),
                p50: RGBColor(0x4c, 0xd3, 0x9b),
                series: [
                    RGBColor(0x56, 0xb4, 0xe9),
                    RGBColor(0xff, 0x8a, 0x4c),
                    RGBColor(0x4c, 0xd3, 0x9b),
                    RGBColor(0xe0, 0x8f, 0xc8),
                    RGBColor(0xf0, 0xc0, 0x40),
                    RGBColor(0x9a, 0xd0, 0xf5),
                    RGBColor(0xc4, 0x9c, 0x94),
                    RGBColor(0xbf, 0xbf, 0xbf),
                ],
            },
            scale: sane_scale(scale),
        }
    }
    pub(crate) fn px(&self, css: f64) -> i32 {
        (css * self.scale).round() as i32
    }
    pub(crate) fn font(&self, css: f64) -> TextStyle<'static> {
        ("sans-serif", css * self.scale).into_font().color(&self.palette.text)
    }
    pub(crate) fn line(&self, c: RGBColor, css: f64) -> ShapeStyle {
        c.stroke_width(self.px(css).max(1) as u32)
    }
}

fn sane_scale(s: f64) -> f64 {
    if s.is_finite() && s > 0.0 { s.clamp(0.5, 4.0) } else { 1.0 }
}

/// One line of a panel.
struct Line<'a> {
    name: &'a str,
    values: Vec<f64>,
    color: RGBColor,
    width: f64,
}

/// Draws `red` filling `area`.
pub fn draw_red<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, red: &Red, style: &ChartStyle) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let pal = &style.palette;
    area.fill(&pal.background)?;
    let (w, h) = area.dim_in_pixel();
    if !red.has_traffic() {
        let msg = format!("No requests recorded for {} in this window.", red.service);
        let font = style.font(14.0).pos(Pos::new(HPos::Center, VPos::Center));
        area.draw_text(&msg, &font, (w as i32 / 2, h as i32 / 2))?;
        return area.present();
    }
    let from = red.timestamps[0];
    let to = red.timestamps[red.len() - 1].max(from + 1);
    let (top, bottom) = area.split_vertically(h / 2);
    panel(
        &top,
        red,
        (from, to),
        "requests / s",
        &[Line { name: "req/s", values: red.rate.clone(), color: pal.rate, width: 1.5 }],
        style,
    )?;
    let ms = |v: &[f64]| v.iter().map(|x| x * 1000.0).collect::<Vec<_>>();
    panel(
        &bottom,
        red,
        (from, to),
        "latency (ms)",
        &[
            Line { name: "P99", values: ms(&red.p99), color: pal.p99, width: 1.75 },
            Line { name: "P50", values: ms(&red.p50), color: pal.p50, width: 1.25 },
        ],
        style,
    )?;
    area.present()
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    red: &Red,
    (from, to): (i64, i64),
    y_desc: &str,
    lines: &[Line<'_>],
    style: &ChartStyle,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let y_top = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let y_top = if y_top > 0.0 { y_top * 1.12 } else { 1.0 };

    let mut chart = timeseries::axes(area, (from, to), (0.0, y_top), y_desc, &|v| super::units::short(*v), style)?;
    let plot_w = chart.plotting_area().dim_in_pixel().0.max(1);
    for line in lines {
        let segments = decimate::min_max(&red.timestamps, &line.values, (from, to), plot_w as usize);
        let s = style.line(line.color, line.width);
        chart.draw_series(segments.into_iter().map(move |seg| PathElement::new(seg, s)))?;
    }
    if lines.len() > 1 {
        legend(area, chart.plotting_area().get_base_pixel(), lines, style)?;
    }
    Ok(())
}

/// A legend in the plot's top-left corner: a line sample and the name of
/// each line. Drawn here rather than with plotters' series labels, which
/// measure text through the font (a styled DOM element in the browser)
/// instead of through the backend.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot_origin: (i32, i32),
    lines: &[Line<'_>],
    style: &ChartStyle,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let pal = &style.palette;
    let font = style.font(11.0).pos(Pos::new(HPos::Left, VPos::Center));
    let (sample, gap, spacing, pad) = (style.px(18.0), style.px(5.0), style.px(14.0), style.px(6.0));
    let mut widths = Vec::with_capacity(lines.len());
    let mut text_h = 0;
    for l in lines {
        let (w, h) = area.estimate_text_size(l.name, &font)?;
        widths.push(w as i32);
        text_h = text_h.max(h as i32);
    }
    let base = area.get_base_pixel();
    let x0 = plot_origin.0 - base.0 + style.px(8.0);
    let y0 = plot_origin.1 - base.1 + style.px(6.0);
    let total: i32 = widths.iter().map(|w| sample + gap + w).sum::<i32>() + spacing * (lines.len() as i32 - 1);
    let height = text_h.max(style.px(12.0)) + 2 * pad;
    area.draw(&Rectangle::new([(x0, y0), (x0 + total + 2 * pad, y0 + height)], pal.background.mix(0.85).filled()))?;
    let y = y0 + height / 2;
    let mut x = x0 + pad;
    for (l, w) in lines.iter().zip(widths) {
        area.draw(&PathElement::new(vec![(x, y), (x + sample, y)], style.line(l.color, l.width.max(2.0))))?;
        area.draw_text(l.name, &font, (x + sample + gap, y))?;
        x += sample + gap + w + spacing;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::testing::Recorder;

    fn red_fixture(n: usize) -> Red {
        let start = 1_772_442_000_000; // 2026-03-02 09:00 UTC
        let timestamps: Vec<i64> = (1..=n as i64).map(|i| start + i * 15_000).collect();
        let p99: Vec<f64> = (0..n).map(|i| if i % 40 < 4 { 0.9 } else { 0.12 }).collect();
        Red {
            service: "frontend".into(),
            rate: (0..n).map(|i| 60.0 + (i % 5) as f64).collect(),
            errors: vec![0.0; n],
            p50: vec![0.03; n],
            p99,
            timestamps,
        }
    }

    /// Draws `red` on a fresh recorder of `size` and hands the recorder back.
    fn record(red: &Red, size: (u32, u32), style: &ChartStyle) -> Recorder {
        let mut rec = Recorder::new(size);
        draw_red(&rec.area(), red, style).expect("draws");
        rec
    }

    fn points(rec: &Recorder, c: RGBColor) -> usize {
        rec.points(c)
    }

    #[test]
    fn draws_both_panels_with_time_labels() {
        let red = red_fixture(240); // one hour at 15 s
        let style = ChartStyle::light(2.0);
        let rec = record(&red, (1600, 800), &style);
        let pal = style.palette;
        assert!(points(&rec, pal.rate) >= 200, "rate line drawn: {}", points(&rec, pal.rate));
        assert!(points(&rec, pal.p99) >= 200, "p99 line drawn");
        assert!(points(&rec, pal.p50) >= 2, "p50 line drawn");
        assert!(rec.texts.iter().any(|t| t == "09:30"), "time labels: {:?}", rec.texts);
        assert!(rec.texts.iter().any(|t| t == "requests / s"));
        assert!(rec.texts.iter().any(|t| t == "P99"));
        assert!(rec.paths.iter().all(|p| p.2 <= 1600), "nothing drawn outside the canvas");
    }

    #[test]
    fn a_month_is_decimated_to_two_points_per_column() {
        let red = red_fixture(43_200);
        let style = ChartStyle::dark(1.0);
        let rec = record(&red, (800, 400), &style);
        let n = points(&rec, style.palette.rate);
        assert!(n > 100 && n <= 2 * 800, "{n} points");
    }

    #[test]
    fn no_traffic_says_so() {
        let mut red = red_fixture(10);
        red.rate = vec![0.0; 10];
        let rec = record(&red, (400, 200), &ChartStyle::light(1.0));
        assert_eq!(rec.texts, vec!["No requests recorded for frontend in this window.".to_string()]);
    }


}
