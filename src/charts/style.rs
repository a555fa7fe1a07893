//! How charts look: the palette of each colour scheme and the scale of
//! the canvas's backing store (device pixels per CSS pixel), so every length
//! and font is multiplied by it and charts stay sharp at any pixel ratio.

use plotters::prelude::*;

/// Colours of a chart; [`ChartStyle::light`] and [`ChartStyle::dark`]
/// match the page's two colour schemes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Palette {
    pub background: RGBColor,
    pub text: RGBColor,
    pub axis: RGBColor,
    pub grid: RGBColor,
    /// Threshold lines (an SLO target, an alert level).
    pub threshold: RGBColor,
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
                threshold: RGBColor(0xc2, 0x41, 0x0c),
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
                threshold: RGBColor(0xff, 0x8a, 0x4c),
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
