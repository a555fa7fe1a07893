//! The time range every tool shares: what it is, presets relative to the
//! end of the run, zoom out, and steps back and forward. Dragging across
//! any chart zooms in (see [`super::plot`]).

use crate::charts::timefmt;
use crate::ui::state::use_lab;
use leptos::prelude::*;

const MINUTE: i64 = 60_000;

#[component]
pub fn TimeBar() -> impl IntoView {
    let lab = use_lab();
    let (lo, hi) = lab.full;
    let whole = hi - lo;
    let label = move || {
        let (from, to) = lab.range.get();
        let fmt = |t: i64| if whole <= 86_400_000 { timefmt::clock(t) } else { timefmt::instant(t).trim_end_matches(" UTC").to_string() };
        format!("{} – {} UTC ({})", fmt(from), fmt(to), timefmt::span(to - from))
    };
    let mut presets: Vec<(String, i64)> = vec![("Whole run".to_string(), whole)];
    for m in [5, 15, 60, 6 * 60, 24 * 60, 7 * 24 * 60] {
        let len = m * MINUTE;
        if len < whole {
            presets.push((format!("Last {}", timefmt::span(len)), len));
        }
    }
    let buttons = presets
        .into_iter()
        .map(|(name, len)| {
            let pressed = move || {
                let (from, to) = lab.range.get();
                (to == hi && to - from == len).to_string()
            };
            view! {
                <button type="button" class="button button--small" aria-pressed=pressed on:click=move |_| lab.set_range((hi - len, hi))>
                    {name}
                </button>
            }
        })
        .collect_view();
    let shift = move |dir: i64| {
        let (from, to) = lab.range.get_untracked();
        let d = (to - from) / 2 * dir;
        let d = d.clamp(lo - from, hi - to);
        lab.set_range((from + d, to + d));
    };
    let zoom_out = move |_| {
        let (from, to) = lab.range.get_untracked();
        let len = (to - from) * 2;
        let mid = (from + to) / 2;
        let (mut a, mut b) = (mid - len / 2, mid + len / 2);
        if a < lo {
            b += lo - a;
            a = lo;
        }
        if b > hi {
            a -= b - hi;
            b = hi;
        }
        lab.set_range((a, b));
    };
    view! {
        <div class="timebar" role="group" aria-label="Time range">
            <span class="timebar__range" data-testid="time-range" aria-live="polite">{label}</span>
            <span class="timebar__buttons">
                <button type="button" class="button button--small" on:click=move |_| shift(-1) aria-label="Earlier">"◀ Earlier"</button>
                <button type="button" class="button button--small" on:click=zoom_out>"Zoom out"</button>
                <button type="button" class="button button--small" on:click=move |_| shift(1) aria-label="Later">"Later ▶"</button>
                {buttons}
            </span>
            <span class="timebar__hint">"Drag across a chart to zoom in."</span>
        </div>
    }
}
