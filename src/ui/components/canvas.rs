//! Canvas plumbing shared by every chart: a plotters backend that
//! measures text with the canvas itself, sizing a canvas's backing store
//! by the device pixel ratio, and the page's colour scheme.

use crate::charts::ChartStyle;
use plotters::prelude::DrawingBackend;
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};
use plotters_canvas::CanvasBackend;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Sizes the canvas's backing store to its CSS size (from
/// [`observe_size`]: reading `clientWidth` here would force a layout
/// whenever the page changed since the last one) times the device pixel
/// ratio and returns the chart style for it (scale and palette).
pub fn fit_size(el: &web_sys::HtmlCanvasElement, css_w: f64, css_h: f64) -> ChartStyle {
    let dpr = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0);
    let (css_w, css_h) = (css_w.max(1.0), css_h.max(1.0));
    let (w, h) = ((css_w * dpr).round() as u32, (css_h * dpr).round() as u32);
    if el.width() != w {
        el.set_width(w);
    }
    if el.height() != h {
        el.set_height(h);
    }
    style(dpr)
}

/// The CSS size of the canvas (whole pixels, as `clientWidth` gives it),
/// from a `ResizeObserver`: it is told after the browser's own layout,
/// before the paint, so reading it never forces a layout. `None` until
/// the canvas is first laid out.
pub fn observe_size(canvas: NodeRef<html::Canvas>) -> RwSignal<Option<(f64, f64)>> {
    let size = RwSignal::new(None);
    let observer = StoredValue::new_local(None::<(web_sys::ResizeObserver, Closure<dyn FnMut(js_sys::Array)>)>);
    crate::ui::effect(move |_| {
        let Some(el) = canvas.get() else { return };
        let on_resize = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            let Some(e) = entries.iter().last().and_then(|e| e.dyn_into::<web_sys::ResizeObserverEntry>().ok()) else { return };
            let r = e.content_rect();
            let s = Some((r.width().round(), r.height().round()));
            if size.get_untracked() != s {
                size.set(s);
            }
        });
        let Ok(ro) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) else { return };
        ro.observe(&el);
        if let Some((old, _)) = observer.try_update_value(|o| o.replace((ro, on_resize))).flatten() {
            old.disconnect();
        }
    });
    on_cleanup(move || {
        if let Some((ro, _)) = observer.try_update_value(Option::take).flatten() {
            ro.disconnect();
        }
    });
    size
}

/// The chart style of the page's current theme at `scale`.
pub fn style(scale: f64) -> ChartStyle {
    if dark() { ChartStyle::dark(scale) } else { ChartStyle::light(scale) }
}

/// Whether the page shows its dark theme: the `data-theme` the learner
/// chose, else the system's preference.
pub fn dark() -> bool {
    let Some(w) = web_sys::window() else { return false };
    if let Some(t) = w.document().and_then(|d| d.document_element()).and_then(|e| e.get_attribute("data-theme")) {
        return t == "dark";
    }
    w.match_media("(prefers-color-scheme: dark)").ok().flatten().is_some_and(|m| m.matches())
}

/// plotters-canvas with text measured by the canvas itself. plotters'
/// own browser font measurement inserts a `style`d element into the page,
/// which the page's Content-Security-Policy blocks (and which forces a
/// layout per label).
pub struct MeasuringCanvas {
    inner: CanvasBackend,
    context: web_sys::CanvasRenderingContext2d,
}

type CanvasResult = Result<(), DrawingErrorKind<<CanvasBackend as DrawingBackend>::ErrorType>>;

impl MeasuringCanvas {
    pub fn new(el: &web_sys::HtmlCanvasElement) -> Option<Self> {
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
