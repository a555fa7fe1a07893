//! The canvas wiring of the RED chart: sizes the backing store by the
//! device pixel ratio, picks the palette of the colour scheme, draws with
//! [`crate::charts::draw_red`] and redraws on resize. Marks
//! `obslab:ready` after the first successful draw.

use crate::charts::{draw_red, ChartStyle, Red};
use crate::ui::perf;
use leptos::ev;
use leptos::html;
use leptos::prelude::*;
use plotters::prelude::{DrawingBackend, IntoDrawingArea};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};
use plotters_canvas::CanvasBackend;
use std::rc::Rc;
use wasm_bindgen::JsCast;

#[component]
pub fn RedChart(red: Rc<Red>, service: String) -> impl IntoView {
    let canvas = NodeRef::<html::Canvas>::new();
    let resized = RwSignal::new(0_u32);
    let error = RwSignal::new(None::<String>);
    let handle = window_event_listener(ev::resize, move |_| resized.update(|n| *n += 1));
    on_cleanup(move || handle.remove());

    let summary = summary(&red);
    let mut marked = false;
    Effect::new(move |_| {
        resized.track();
        let Some(el) = canvas.get() else { return };
        match draw(&el, &red) {
            Ok(()) => {
                error.set(None);
                if !marked {
                    marked = true;
                    perf::mark(perf::READY);
                }
            }
            Err(e) => error.set(Some(e)),
        }
    });

    let label = format!("Request rate and latency of {service} over the simulated window. {summary}");
    view! {
        <figure class="chart">
            <figcaption class="chart__caption">
                <strong>{service.clone()}</strong>
                " — requests per second (top) and P99 / P50 latency (bottom), per scrape interval, summed over all pods"
            </figcaption>
            <canvas node_ref=canvas class="chart__canvas" role="img" aria-label=label data-testid="red-chart"></canvas>
            {move || error.get().map(|e| view! { <p class="notice notice--error" role="alert">{e}</p> })}
            <p class="chart__summary">{summary.clone()}</p>
        </figure>
    }
}

/// Sizes the canvas's backing store to its CSS size times the device
/// pixel ratio and draws in the page's colour scheme.
fn draw(el: &web_sys::HtmlCanvasElement, red: &Red) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let dpr = window.device_pixel_ratio();
    let (css_w, css_h) = (el.client_width().max(1) as f64, el.client_height().max(1) as f64);
    let (w, h) = ((css_w * dpr).round() as u32, (css_h * dpr).round() as u32);
    if el.width() != w {
        el.set_width(w);
    }
    if el.height() != h {
        el.set_height(h);
    }
    let dark = window
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches());
    draw_on_canvas(el, red, dpr, dark)
}

/// Draws `red` on the canvas's backing store as it is, at `scale` device
/// pixels per CSS pixel.
pub fn draw_on_canvas(el: &web_sys::HtmlCanvasElement, red: &Red, scale: f64, dark: bool) -> Result<(), String> {
    let style = if dark { ChartStyle::dark(scale) } else { ChartStyle::light(scale) };
    let backend = MeasuringCanvas::new(el).ok_or("this browser has no 2D canvas")?;
    let root = backend.into_drawing_area();
    draw_red(&root, red, &style).map_err(|e| format!("The chart could not be drawn: {e}"))
}

/// A sentence for screen readers and for anyone who prefers numbers.
fn summary(red: &Red) -> String {
    if !red.has_traffic() {
        return format!("No requests were recorded for {}.", red.service);
    }
    let finite = |v: &[f64]| v.iter().copied().filter(|x| x.is_finite()).collect::<Vec<_>>();
    let rates = finite(&red.rate);
    let mean_rate = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
    let peak_rate = rates.iter().copied().fold(0.0, f64::max);
    let mut p99 = finite(&red.p99);
    p99.sort_by(f64::total_cmp);
    let mut p50 = finite(&red.p50);
    p50.sort_by(f64::total_cmp);
    let median = |v: &[f64]| v.get(v.len() / 2).copied().unwrap_or(f64::NAN) * 1000.0;
    let worst = p99.last().copied().unwrap_or(f64::NAN) * 1000.0;
    format!(
        "{:.1} requests/s on average, {:.1} at the peak. P99 latency: typically {:.0} ms, worst {:.0} ms. P50 latency: typically {:.0} ms.",
        mean_rate,
        peak_rate,
        median(&p99),
        worst,
        median(&p50)
    )
}

/// plotters-canvas with text measured by the canvas itself. plotters'
/// own browser font measurement inserts a `style`d element into the page,
/// which the page's Content-Security-Policy blocks (and which forces a
/// layout per label).
struct MeasuringCanvas {
    inner: CanvasBackend,
    context: web_sys::CanvasRenderingContext2d,
}

type CanvasResult = Result<(), DrawingErrorKind<<CanvasBackend as DrawingBackend>::ErrorType>>;

impl MeasuringCanvas {
    fn new(el: &web_sys::HtmlCanvasElement) -> Option<Self> {
        let context = el.get_context("2d").ok()??.dyn_into().ok()?;
        Some(MeasuringCanvas { inner: CanvasBackend::with_canvas_object(el.clone())?, context })
    }
}

impl DrawingBackend for MeasuringCanvas {
    type ErrorType = <CanvasBackend as DrawingBackend>::ErrorType;
    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> CanvasResult {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> CanvasResult {
        self.inner.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> CanvasResult {
        self.inner.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, style: &S) -> CanvasResult {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(&mut self, ul: BackendCoord, br: BackendCoord, style: &S, fill: bool) -> CanvasResult {
        self.inner.draw_rect(ul, br, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, path: I, style: &S) -> CanvasResult {
        self.inner.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(&mut self, center: BackendCoord, radius: u32, style: &S, fill: bool) -> CanvasResult {
        self.inner.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, vert: I, style: &S) -> CanvasResult {
        self.inner.fill_polygon(vert, style)
    }
    fn draw_text<T: BackendTextStyle>(&mut self, text: &str, style: &T, pos: BackendCoord) -> CanvasResult {
        self.inner.draw_text(text, style, pos)
    }
    fn estimate_text_size<T: BackendTextStyle>(&self, text: &str, style: &T) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        // The same font string plotters-canvas draws with.
        self.context.set_font(&format!("{} {}px {}", style.style().as_str(), style.size(), style.family().as_str()));
        let width = self.context.measure_text(text).map(|m| m.width()).unwrap_or(0.0);
        Ok((width.ceil() as u32, style.size().ceil() as u32))
    }
}
