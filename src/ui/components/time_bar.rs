//! The time range every tool shares: what it is, presets relative to the
//! end of the run (or to now during a replay), an absolute range typed in
//! a form (parsed by [`crate::charts::range_input`]), zoom out, steps back
//! and forward, and the live replay's play, pause and speed. Dragging
//! across any chart zooms in (see [`super::plot`]).
//!
//! The replay's clock is a gloo-timers interval here, in the UI: it hands
//! [`Lab::tick`](crate::ui::state::Lab::tick) the wall time that passed.
//! It fires no faster than once a second, and no faster than a scrape
//! interval of simulated time, so charts redraw only when there can be
//! new samples to show.

use crate::charts::range_input::{self, RangeInputError};
use crate::charts::timefmt;
use crate::query::diag::render_error;
use crate::ui::route::SPEEDS;
use crate::ui::state::{use_lab, MIN_RANGE_MS};
use gloo_timers::callback::Interval;
use leptos::prelude::*;
use std::cell::Cell;
use std::rc::Rc;

const MINUTE: i64 = 60_000;
/// The replay's slowest tick, wall-clock ms.
const TICK_MS: i64 = 1000;

#[component]
pub fn TimeBar() -> impl IntoView {
    let lab = use_lab();
    let (lo, hi) = lab.full;
    let whole = hi - lo;
    let fmt = move |t: i64| if whole <= 86_400_000 { timefmt::clock(t) } else { timefmt::instant(t).trim_end_matches(" UTC").to_string() };
    let label = move || {
        let (from, to) = lab.range.get();
        format!("{} – {} UTC ({})", fmt(from), fmt(to), timefmt::span(to - from))
    };
    // The end presets count back from: now while replaying.
    let end = move || lab.now.get().unwrap_or(hi);
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
                let end = end();
                (to == end && (to - from == len || (len == whole && from == lo))).to_string()
            };
            view! {
                <button type="button" class="button button--small" aria-pressed=pressed on:click=move |_| lab.show_last(len)>
                    {name}
                </button>
            }
        })
        .collect_view();
    let shift = move |dir: i64| {
        let (from, to) = lab.range.get_untracked();
        let d = (to - from) / 2 * dir;
        let d = d.clamp(lo - from, lab.end() - to);
        lab.set_range((from + d, to + d));
    };
    let zoom_out = move |_| {
        let (from, to) = lab.range.get_untracked();
        let end = lab.end();
        if lab.playing.get_untracked() {
            // A replay keeps following now.
            lab.show_last(((to - from) * 2).min(end - lo));
            return;
        }
        let len = (to - from) * 2;
        let mid = (from + to) / 2;
        let (mut a, mut b) = (mid - len / 2, mid + len / 2);
        if a < lo {
            b += lo - a;
            a = lo;
        }
        if b > end {
            a -= b - end;
            b = end;
        }
        lab.set_range((a, b));
    };

    // The replay's clock: a new interval when play starts or the speed
    // changes; dropping it (pause, leaving the page) stops it.
    let scrape_ms = lab.run().model.scrape_interval.micros() / 1000;
    let timer = StoredValue::new_local(None::<Interval>);
    crate::ui::effect(move |_| {
        let (playing, speed) = (lab.playing.get(), lab.speed.get());
        if !playing {
            timer.set_value(None);
            return;
        }
        let period = (scrape_ms / speed.max(1) as i64).clamp(TICK_MS, 60 * TICK_MS);
        let last = Rc::new(Cell::new(js_sys::Date::now()));
        let tick = move || {
            let t = js_sys::Date::now();
            lab.tick(t - last.replace(t));
        };
        timer.set_value(Some(Interval::new(period as u32, tick)));
    });
    on_cleanup(move || timer.dispose());

    // The absolute range: a form under the bar, filled with the shown
    // range when it opens; Apply (or Enter) sets it or says what is wrong.
    let custom_open = RwSignal::new(false);
    let from_text = RwSignal::new(String::new());
    let to_text = RwSignal::new(String::new());
    let custom_error = RwSignal::new(None::<(String, RangeInputError)>);
    let toggle_custom = move |_| {
        if !custom_open.get_untracked() {
            let (from, to) = lab.range.get_untracked();
            from_text.set(range_input::format_input(from));
            to_text.set(range_input::format_input(to));
            custom_error.set(None);
        }
        custom_open.update(|o| *o = !*o);
    };
    let apply_custom = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (from, to) = (from_text.get_untracked(), to_text.get_untracked());
        match range_input::parse_range(&from, &to, (lo, lab.end()), MIN_RANGE_MS) {
            Ok(r) => {
                custom_error.set(None);
                lab.set_range(r);
                custom_open.set(false);
            }
            Err(e) => {
                let text = if e.field == range_input::RangeField::From { from } else { to };
                custom_error.set(Some((text, e)));
            }
        }
    };
    let custom_error_view = move || {
        custom_error.get().map(|(text, e)| {
            let shown = if e.error.span.is_empty() { e.error.message.clone() } else { render_error(&text, &e.error) };
            view! { <pre class="query-error timebar__error" role="alert" data-testid="range-error">{format!("{}:\n{shown}", e.field.name())}</pre> }
        })
    };
    // One labelled input per end of the range, marked invalid when the error is about it.
    let field_input = move |field: range_input::RangeField, text: RwSignal<String>, testid: &'static str| {
        let invalid = move || custom_error.with(|e| e.as_ref().is_some_and(|(_, e)| e.field == field)).to_string();
        view! {
            <label>
                {field.name()}" "
                <input type="text" size="21" spellcheck="false" autocomplete="off" data-testid=testid
                    aria-invalid=invalid
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            </label>
        }
    };

    let live = move || lab.now.get().is_some();
    let playing = move || lab.playing.get();
    let speeds = SPEEDS
        .into_iter()
        .map(|s| {
            view! {
                <button
                    type="button"
                    class="button button--small"
                    aria-pressed=move || (lab.speed.get() == s).to_string()
                    aria-label=format!("{s}× speed")
                    data-speed=s
                    on:click=move |_| lab.speed.set(s)
                >
                    {format!("{s}×")}
                </button>
            }
        })
        .collect_view();
    let status = move || {
        let Some(now) = lab.now.get() else { return String::new() };
        if lab.playing.get() {
            format!("Replaying at {}×: now {} UTC", lab.speed.get(), fmt(now))
        } else {
            format!("Replay paused at {} UTC", fmt(now))
        }
    };
    view! {
        <div class="timebar" role="group" aria-label="Time range">
            <span class="timebar__range" data-testid="time-range" aria-live=move || if playing() { "off" } else { "polite" }>{label}</span>
            <span class="timebar__buttons">
                <button type="button" class="button button--small" on:click=move |_| shift(-1) aria-label="Earlier">"◀ Earlier"</button>
                <button type="button" class="button button--small" on:click=zoom_out>"Zoom out"</button>
                <button type="button" class="button button--small" on:click=move |_| shift(1) aria-label="Later">"Later ▶"</button>
                {buttons}
                <button
                    type="button"
                    class="button button--small"
                    data-testid="range-custom"
                    aria-expanded=move || custom_open.get().to_string()
                    aria-controls="timebar-custom"
                    on:click=toggle_custom
                >
                    "Custom…"
                </button>
            </span>
            <span class="timebar__live" role="group" aria-label="Live replay" data-testid="live">
                <button
                    type="button"
                    class="button button--small"
                    data-testid="live-play"
                    aria-pressed=move || playing().to_string()
                    title="Replay the run as if live, from the end of the shown range"
                    on:click=move |_| lab.play()
                >
                    <span aria-hidden="true">"▶ "</span>"Play"
                </button>
                <button
                    type="button"
                    class="button button--small"
                    data-testid="live-pause"
                    aria-pressed=move || (live() && !playing()).to_string()
                    disabled=move || !live()
                    on:click=move |_| lab.pause()
                >
                    <span aria-hidden="true">"❚❚ "</span>"Pause"
                </button>
                <span class="segmented" role="group" aria-label="Replay speed">{speeds}</span>
                <span class="timebar__now" data-testid="live-status" hidden=move || !live()>{status}</span>
                <button type="button" class="link-button" data-testid="live-stop" hidden=move || !live() on:click=move |_| lab.stop_live()>
                    "Leave the replay"
                </button>
            </span>
            <p class="timebar__note" role="status" data-testid="live-note" hidden=move || lab.live_note.with(Option::is_none)>
                {move || lab.live_note.get().unwrap_or_default()}
            </p>
            <span class="timebar__hint">"Drag across a chart to zoom in."</span>
            <form id="timebar-custom" class="timebar__custom" hidden=move || !custom_open.get() on:submit=apply_custom aria-label="Absolute time range" data-testid="range-form">
                {field_input(range_input::RangeField::From, from_text, "range-from")}
                {field_input(range_input::RangeField::To, to_text, "range-to")}
                <button type="submit" class="button button--small">"Apply"</button>
                <span class="timebar__hint">"UTC; a date and time, or a time of day (09:45)."</span>
                {custom_error_view}
            </form>
        </div>
    }
}
