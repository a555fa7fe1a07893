//! A time-series chart on a canvas: draws a core [`Plot`] sharp at the
//! device pixel ratio, shows the values under the pointer, zooms the shared
//! time range by dragging across it (pausing a live replay), and carries
//! an HTML legend and a table of the same data (for keyboards, screen
//! readers and exact numbers).
//!
//! The plot is a signal: a new plot (a live replay's tick) redraws the
//! canvas and updates the legend in place, keeping the chart's elements;
//! no plot yet shows the chart's frame as a placeholder, marked busy. The
//! canvas's size comes from a `ResizeObserver`, after the browser's own
//! layout, so drawing never forces one; the table is built when opened.

use crate::charts::{draw_plot, Frame, Plot};
use crate::charts::timefmt;
use crate::ui::components::canvas::{self, MeasuringCanvas};
use leptos::ev;
use leptos::html;
use leptos::prelude::*;
use plotters::prelude::IntoDrawingArea;
use std::rc::Rc;

/// Lines listed in the tooltip, largest values first.
const TOOLTIP_LINES: usize = 8;
/// A drag shorter than this many CSS pixels is a click, not a zoom.
const MIN_DRAG_PX: f64 = 6.0;

#[derive(Clone, Debug, PartialEq)]
struct Tip {
    x: f64,
    y: f64,
    time: String,
    rows: Vec<(usize, String, String)>,
}

/// Legends of up to this many series wrap in full; longer ones scroll.
const LEGEND_WRAPS: usize = 8;

#[component]
pub fn PlotChart(
    /// What to draw; `None` while it is being computed.
    #[prop(into)]
    plot: Signal<Option<Rc<Plot>>, LocalStorage>,
    /// What the chart shows, for screen readers.
    label: String,
    /// Called with a new time range when the learner drags across the chart.
    #[prop(optional)]
    on_zoom: Option<Callback<(i64, i64)>>,
    /// Called with a marker's index when the learner clicks it.
    #[prop(optional)]
    on_marker: Option<Callback<usize>>,
    /// Called after each successful draw with the time it took (ms).
    #[prop(optional)]
    on_drawn: Option<Callback<f64>>,
    #[prop(default = "chart__canvas")] class: &'static str,
) -> impl IntoView {
    let canvas = NodeRef::<html::Canvas>::new();
    let frame = StoredValue::new(None::<Frame>);
    let redraw = RwSignal::new(0_u32);
    let error = RwSignal::new(None::<String>);
    let tip = RwSignal::new(None::<Tip>);
    // Marker positions in CSS pixels, for the buttons over the dots. While
    // a replay plays they wait in `moved` and the buttons are hidden (a
    // press on the chart pauses it, and a click on a dot still opens its
    // trace), so a tick moves no elements.
    let marker_px = RwSignal::new(Vec::<(f64, f64)>::new());
    let moved = StoredValue::new(None::<Vec<(f64, f64)>>);
    let lab = use_context::<crate::ui::state::Lab>();
    let playing = move || lab.is_some_and(|l| l.playing.get());
    crate::ui::effect(move |_| {
        if !playing()
            && let Some(px) = moved.try_update_value(Option::take).flatten()
        {
            marker_px.set(px);
        }
    });
    let drag = RwSignal::new(None::<(f64, f64)>);
    // A new device pixel ratio (zoom, another screen) redraws sharp.
    let handle = window_event_listener(ev::resize, move |_| redraw.update(|n| *n += 1));
    on_cleanup(move || handle.remove());
    let size = canvas::observe_size(canvas);

    // A new theme (or the system's scheme under "system") redraws in its colours.
    let theme = use_context::<crate::ui::theme::Theme>();
    crate::ui::effect(move |_| {
        redraw.track();
        if let Some(t) = theme {
            t.epoch.track();
        }
        let (Some((w, h)), Some(p)) = (size.get(), plot.get()) else { return };
        let Some(el) = canvas.get_untracked() else { return };
        let t0 = crate::ui::perf::now();
        let style = canvas::fit_size(&el, w, h);
        let Some(backend) = MeasuringCanvas::new(&el) else {
            error.set(Some("This browser has no 2D canvas.".into()));
            return;
        };
        match draw_plot(&backend.into_drawing_area(), &p, &style) {
            Ok(f) => {
                frame.set_value(Some(f));
                if on_marker.is_some() {
                    let s = style.scale;
                    let px = p.markers.iter().map(|m| (f.x_of(m.t) / s, f.y_of(m.v) / s)).collect();
                    if lab.is_some_and(|l| l.playing.get_untracked()) {
                        moved.set_value(Some(px));
                    } else {
                        marker_px.set(px);
                    }
                }
                if error.with_untracked(Option::is_some) {
                    error.set(None);
                }
                if let Some(cb) = on_drawn {
                    cb.run(crate::ui::perf::now() - t0);
                }
            }
            Err(e) => error.set(Some(format!("The chart could not be drawn: {e}"))),
        }
    });

    let dpr = || web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0);
    let on_move = move |e: ev::MouseEvent| {
        let (x, y) = (e.offset_x() as f64, e.offset_y() as f64);
        if let Some((start, _)) = drag.get_untracked() {
            drag.set(Some((start, x)));
        }
        let (Some(f), Some(p)) = (frame.get_value(), plot.get_untracked()) else { return };
        let s = dpr();
        if !f.contains(x * s, y * s) {
            tip.set(None);
            return;
        }
        if on_marker.is_some() && f.marker_at(&p, x * s, y * s, 8.0 * s).is_some() {
            let time = timefmt::instant(f.time_at(x * s));
            tip.set(Some(Tip { x, y, time, rows: vec![(usize::MAX, "exemplar: click to open its trace".into(), String::new())] }));
            return;
        }
        let t = f.time_at(x * s);
        let mut rows: Vec<(usize, f64, String)> = p
            .lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.nearest(t).map(|(_, v)| (i, v, l.label.clone())))
            .collect();
        crate::sort::sort_by(&mut rows, |a, b| b.1.total_cmp(&a.1));
        let rows = rows.into_iter().take(TOOLTIP_LINES).map(|(i, v, label)| (i, label, p.unit.format(v))).collect();
        tip.set(Some(Tip { x, y, time: timefmt::instant(t), rows }));
    };
    // A replay redraws the chart as now moves: pressing on it pauses the
    // replay, so the chart holds still for a drag.
    let on_down = move |e: ev::MouseEvent| {
        if e.button() == 0 && (on_zoom.is_some() || on_marker.is_some()) {
            if let (Some(lab), Some(_)) = (lab, on_zoom) {
                lab.pause();
            }
            let x = e.offset_x() as f64;
            drag.set(Some((x, x)));
        }
    };
    let on_up = move |e: ev::MouseEvent| {
        let Some((a, b)) = drag.get_untracked() else { return };
        drag.set(None);
        let (Some(f), Some(p)) = (frame.get_value(), plot.get_untracked()) else { return };
        if (a - b).abs() < MIN_DRAG_PX {
            let s = dpr();
            if let (Some(cb), Some(i)) = (on_marker, f.marker_at(&p, e.offset_x() as f64 * s, e.offset_y() as f64 * s, 8.0 * s)) {
                cb.run(i);
            }
            return;
        }
        let Some(cb) = on_zoom else { return };
        let s = dpr();
        let (t0, t1) = (f.time_at(a.min(b) * s), f.time_at(a.max(b) * s));
        if t1 > t0 {
            cb.run((t0, t1));
        }
    };
    let on_leave = move |_: ev::MouseEvent| {
        tip.set(None);
        drag.set(None);
    };

    // The legend changes only when the lines do (not on every tick). A
    // long legend scrolls, so it takes keyboard focus; a short one just wraps.
    let labels = RwSignal::new(Vec::<String>::new());
    crate::ui::effect(move |_| {
        let now: Vec<String> = plot.with(|p| p.as_ref().map(|p| p.lines.iter().map(|l| l.label.clone()).collect()).unwrap_or_default());
        if labels.with_untracked(|l| *l != now) {
            labels.set(now);
        }
    });
    let long_legend = move || labels.with(|l| l.len() > LEGEND_WRAPS);
    let legend = move || {
        labels
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, label)| {
                view! {
                    <li class="legend__item">
                        <span class=format!("swatch swatch--{}", i % 8) aria-hidden="true"></span>
                        {label}
                    </li>
                }
            })
            .collect_view()
    };
    let table_open = RwSignal::new(false);
    let table_rows = move || table_open.get().then(|| plot.with(|p| p.as_deref().map(table)));
    let drag_box = move || {
        drag.get().filter(|(a, b)| (a - b).abs() >= MIN_DRAG_PX).map(|(a, b)| {
            view! { <div class="chart__selection" style:left=format!("{}px", a.min(b)) style:width=format!("{}px", (a - b).abs())></div> }
        })
    };
    let tooltip = move || {
        tip.get().filter(|_| drag.get().is_none()).map(|t| {
            let rows = t
                .rows
                .into_iter()
                .map(|(i, label, v)| {
                    view! {
                        <li>
                            <span class=format!("swatch swatch--{}", if i == usize::MAX { "exemplar".to_string() } else { (i % 8).to_string() }) aria-hidden="true"></span>
                            <span class="tooltip__label">{label}</span>
                            <strong class="tooltip__value">{v}</strong>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="tooltip" style:left=format!("{}px", t.x + 14.0) style:top=format!("{}px", t.y + 10.0)>
                    <p class="tooltip__time">{t.time}</p>
                    <ul>{rows}</ul>
                </div>
            }
        })
    };

    // One button per exemplar dot, made again only when their number
    // changes: a tick moves the buttons and renames them. (The tooltip
    // names a dot under the pointer.)
    let marker_count = RwSignal::new(0_usize);
    crate::ui::effect(move |_| {
        let n = marker_px.with(Vec::len);
        if marker_count.get_untracked() != n {
            marker_count.set(n);
        }
    });
    let marker_buttons = move || {
        let cb = on_marker?;
        let n = marker_count.get();
        let at = move |i: usize| marker_px.with(|px| px.get(i).copied()).filter(|(x, y)| x.is_finite() && y.is_finite());
        // Named when they move (the plot may change before, while playing).
        let label = move |i: usize| {
            marker_px.track();
            plot.with_untracked(|p| {
                p.as_ref()
                    .and_then(|p| p.markers.get(i).map(|m| format!("Exemplar at {}, {}: open its trace", timefmt::instant(m.t), p.unit.format(m.v))))
                    .unwrap_or_default()
            })
        };
        let buttons = (0..n)
            .map(|i| {
                view! {
                    <button
                        type="button"
                        class="chart__marker"
                        tabindex="-1"
                        data-testid="exemplar"
                        aria-label=move || label(i)
                        hidden=move || at(i).is_none()
                        style:left=move || at(i).map(|(x, _)| format!("{}px", x - 6.0)).unwrap_or_default()
                        style:top=move || at(i).map(|(_, y)| format!("{}px", y - 6.0)).unwrap_or_default()
                        on:click=move |_| cb.run(i)
                    ></button>
                }
            })
            .collect_view();
        Some(view! { <div class="chart__markers" hidden=playing>{buttons}</div> })
    };
    let busy = move || plot.with(Option::is_none);

    view! {
        <div class="chart__plot">
            <canvas
                node_ref=canvas
                class=class
                role="img"
                aria-label=label
                aria-busy=move || busy().then_some("true")
                data-testid="chart"
                on:mousemove=on_move
                on:mousedown=on_down
                on:mouseup=on_up
                on:mouseleave=on_leave
            ></canvas>
            <p class="chart__loading" data-testid="chart-loading" hidden=move || !busy()>"Loading…"</p>
            {drag_box}
            {marker_buttons}
            {tooltip}
        </div>
        {move || error.get().map(|e| view! { <p class="notice notice--error" role="alert">{e}</p> })}
        <ul class="legend" tabindex=move || long_legend().then_some("0") aria-label=move || long_legend().then_some("Legend")>{legend}</ul>
        <details class="chart__table" hidden=move || !busy() && labels.with(Vec::is_empty) on:toggle=move |e| table_open.set(event_target::<web_sys::HtmlDetailsElement>(&e).open())>
            <summary>"Table"</summary>
            {table_rows}
        </details>
    }
}

/// The same data as numbers: each line's last, minimum, mean and maximum
/// over the range.
fn table(plot: &Plot) -> impl IntoView + use<> {
    let unit = plot.unit;
    let rows = plot
        .lines
        .iter()
        .map(|l| {
            let (from, to) = plot.range;
            let vals: Vec<f64> = l.ts.iter().zip(&l.vs).filter(|(t, v)| **t >= from && **t <= to && v.is_finite()).map(|(_, v)| *v).collect();
            let cell = |v: Option<f64>| v.map(|v| unit.format(v)).unwrap_or_else(|| "–".into());
            let last = vals.last().copied();
            let min = vals.iter().copied().reduce(f64::min);
            let max = vals.iter().copied().reduce(f64::max);
            let mean = (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64);
            view! {
                <tr>
                    <th scope="row">{l.label.clone()}</th>
                    <td>{cell(last)}</td>
                    <td>{cell(min)}</td>
                    <td>{cell(mean)}</td>
                    <td>{cell(max)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"series"</th>
                        <th scope="col">"last"</th>
                        <th scope="col">"min"</th>
                        <th scope="col">"mean"</th>
                        <th scope="col">"max"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
    }
}
