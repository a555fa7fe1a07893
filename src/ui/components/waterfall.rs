//! One trace as a waterfall: a row per span in tree order, bars on a
//! shared time scale, the critical path marked, and the details of the
//! selected span (attributes, resource, events, its log lines). Only the
//! rows in view are in the DOM, so 50,000 spans scroll like 50.

use crate::charts::timefmt;
use crate::charts::waterfall::{layout, Waterfall};
use crate::scenario::model::format_rfc3339_ms;
use crate::sim::Run;
use crate::telemetry::ids::TraceId;
use crate::telemetry::span::{SpanRecord, StatusCode};
use crate::ui::perf;
use crate::ui::state::{use_lab, Target};
use leptos::html;
use leptos::prelude::*;
use std::rc::Rc;

/// Row height in CSS pixels (keep in step with `.waterfall__row`).
const ROW_PX: f64 = 26.0;
/// Rows rendered above and below the visible ones.
const OVERSCAN: usize = 12;
/// Height of the scrolling rows area in CSS pixels.
const VIEW_PX: f64 = 520.0;

struct Loaded {
    spans: Vec<SpanRecord>,
    waterfall: Waterfall,
    /// Service name per span, and a colour index per service.
    service: Vec<(Rc<str>, usize)>,
    name: Vec<Rc<str>>,
    services: Vec<Rc<str>>,
    laid_out_ms: f64,
}

fn load(run: &Run, id: TraceId) -> Option<Loaded> {
    let tel = &run.telemetry;
    let summary = tel.traces.trace(id)?;
    let t0 = perf::now();
    let spans = tel.traces.trace_spans(summary).to_vec();
    let waterfall = layout(&spans);
    let mut services: Vec<Rc<str>> = Vec::new();
    let service = spans
        .iter()
        .map(|s| {
            let n: &str = &tel.resource(s.resource).service_name;
            let i = services.iter().position(|x| &**x == n).unwrap_or_else(|| {
                services.push(Rc::from(n));
                services.len() - 1
            });
            (services[i].clone(), i)
        })
        .collect();
    let name = spans.iter().map(|s| Rc::from(&*tel.traces.operation(s.op).name)).collect();
    Some(Loaded { spans, waterfall, service, name, services, laid_out_ms: perf::now() - t0 })
}

#[component]
pub fn TraceView(trace: String) -> impl IntoView {
    let lab = use_lab();
    let run = lab.run();
    // Tempo writes ids without leading zeros; accept both forms.
    let t = trace.trim();
    let padded = if t.len() < 32 { format!("{t:0>32}") } else { t.to_string() };
    let Some(id) = TraceId::from_hex(&padded).filter(|t| t.is_valid()) else {
        return view! {
            <p class="notice notice--error" role="alert">{format!("“{trace}” is not a trace id: a trace id is up to 32 hexadecimal digits.")}</p>
        }
        .into_any();
    };
    let Some(loaded) = load(&run, id) else {
        return view! {
            <p class="notice" role="status" data-testid="trace-missing">
                {format!("Trace {trace} is not in the store. ")}
                "Tail sampling keeps every error, every slow trace and a share of the rest; this one was dropped, so its metrics and logs exist but its spans do not."
            </p>
        }
        .into_any();
    };
    let loaded = Rc::new(loaded);
    let selected = RwSignal::new(loaded.waterfall.rows.first().map(|r| r.span));
    let scroll = RwSignal::new(0.0_f64);
    let rows_el = NodeRef::<html::Div>::new();
    let total = loaded.waterfall.rows.len();
    let dur = loaded.waterfall.duration_us.max(1) as f64;
    let root = loaded.waterfall.rows.first().map(|r| r.span);
    let title = root
        .map(|r| format!("{}: {}", loaded.service[r].0, loaded.name[r]))
        .unwrap_or_default();
    let errors = loaded.spans.iter().filter(|s| s.status == StatusCode::Error).count();
    let summary = format!(
        "{} spans · {} services · {} · {} on the critical path{} · laid out in {:.0} ms",
        total,
        loaded.services.len(),
        fmt_us(loaded.waterfall.duration_us),
        loaded.waterfall.critical,
        if errors > 0 { format!(" · {errors} with errors") } else { String::new() },
        loaded.laid_out_ms
    );
    let services = loaded
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| view! { <li><span class=format!("swatch swatch--{}", i % 8) aria-hidden="true"></span>{s.to_string()}</li> })
        .collect_view();

    // Reactive closures must be Send; the layout stays on this thread.
    let stored = StoredValue::new_local(loaded.clone());
    let visible = move || {
        let l = stored.get_value();
        let first = ((scroll.get() / ROW_PX) as usize).saturating_sub(OVERSCAN);
        let count = (VIEW_PX / ROW_PX) as usize + 2 * OVERSCAN;
        let end = (first + count).min(total);
        l.waterfall.rows[first.min(end)..end]
            .iter()
            .enumerate()
            .map(|(k, row)| {
                let i = row.span;
                let s = &l.spans[i];
                let (svc, colour) = (&l.service[i].0, l.service[i].1);
                let error = s.status == StatusCode::Error;
                let left = row.offset_us as f64 / dur * 100.0;
                let width = (row.duration_us as f64 / dur * 100.0).max(0.15);
                // Read after the visible text (its accessible name must contain it).
                let hidden = format!("{}{}", if row.critical { ", on the critical path" } else { "" }, if error { ", error" } else { "" });
                let top = (first + k) as f64 * ROW_PX;
                view! {
                    <button
                        type="button"
                        class="waterfall__row"
                        class:waterfall__row--selected=move || selected.get() == Some(i)
                        style:top=format!("{top}px")
                        aria-pressed=move || (selected.get() == Some(i)).to_string()
                        on:click=move |_| selected.set(Some(i))
                    >
                        <span class="waterfall__name" style:padding-left=format!("{}rem", row.depth.min(30) as f64 * 0.8)>
                            {error.then(|| view! { <span class="waterfall__error" title="error">"!"</span> })}
                            <span class=format!("swatch swatch--{}", colour % 8) aria-hidden="true"></span>
                            <span class="waterfall__service">{svc.to_string()}</span>
                            " "
                            {l.name[i].to_string()}
                        </span>
                        <span class="waterfall__track">
                            <span
                                class=format!("waterfall__bar bar--{}", colour % 8)
                                class:waterfall__bar--critical=row.critical
                                style:left=format!("{left:.3}%")
                                style:width=format!("{width:.3}%")
                            ></span>
                            <span class="waterfall__duration" style:left=format!("{:.3}%", (left + width).min(92.0))>{fmt_us(row.duration_us)}</span>
                        </span>
                        <span class="visually-hidden">{hidden}</span>
                    </button>
                }
            })
            .collect_view()
    };
    let details = move || selected.get().map(|i| view! { <SpanDetails loaded=stored.get_value() i/> });
    let full_id = id.to_string();
    let use_trace = lab.takes(Target::Evidence).then(|| view! {
        <button type="button" class="button button--small" data-testid="use-trace" on:click=move |_| lab.offer(Target::Evidence, full_id.clone())>
            "Use this trace as evidence"
        </button>
    });

    view! {
        <section class="trace" aria-labelledby="trace-title" data-testid="trace-view">
            <h3 id="trace-title" class="trace__title">{title}</h3>
            <p class="result__stats"><code>{trace.clone()}</code>" · "{summary}</p>
            {use_trace}
            <ul class="legend">{services}<li><span class="waterfall__legend-critical" aria-hidden="true"></span>"critical path"</li></ul>
            <div class="waterfall" role="group" aria-label="Spans of the trace">
                <div class="waterfall__head" aria-hidden="true">
                    <span>"service and operation"</span>
                    <span class="waterfall__scale"><span>"0"</span><span>{fmt_us(loaded.waterfall.duration_us / 2)}</span><span>{fmt_us(loaded.waterfall.duration_us)}</span></span>
                </div>
                <div
                    class="waterfall__rows"
                    node_ref=rows_el
                    style:height=format!("{}px", (total as f64 * ROW_PX).min(VIEW_PX))
                    on:scroll=move |_| {
                        if let Some(el) = rows_el.get() {
                            scroll.set(el.scroll_top() as f64);
                        }
                    }
                >
                    <div class="waterfall__spacer" style:height=format!("{}px", total as f64 * ROW_PX)>{visible}</div>
                </div>
            </div>
            {details}
        </section>
    }
    .into_any()
}

#[component]
fn SpanDetails(loaded: Rc<Loaded>, i: usize) -> impl IntoView {
    let lab = use_lab();
    let run = lab.run();
    let tel = &run.telemetry;
    let s = loaded.spans[i];
    let span = tel.traces.materialize(&s);
    let res = tel.resource(s.resource);
    let attrs = span
        .attributes
        .iter()
        .map(|(k, v)| view! { <tr><th scope="row">{*k}</th><td>{v.to_string()}</td></tr> })
        .collect_view();
    let resource = res.attributes().into_iter().map(|(k, v)| view! { <tr><th scope="row">{k}</th><td>{v.to_string()}</td></tr> }).collect_view();
    let events = span
        .events
        .iter()
        .map(|e| {
            let at = fmt_us(e.time.0 - s.start.0);
            let attrs: Vec<String> = e.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
            view! { <li><strong>{e.name.to_string()}</strong>{format!(" at +{at} ")}<code>{attrs.join(" ")}</code></li> }
        })
        .collect_view();
    let format = run.model.instrumentation.log_format;
    let logs: Vec<String> = tel
        .logs
        .records()
        .iter()
        .filter(|r| r.span_id == s.span_id && r.trace_id == s.trace_id)
        .take(50)
        .map(|r| tel.logs.format_line(r, tel.resource(r.resource), &format_rfc3339_ms(tel.unix_ms(r.time)), format))
        .collect();
    let logs_view = if logs.is_empty() {
        view! { <p class="result__stats">"No log lines carry this span's id."</p> }.into_any()
    } else {
        logs.into_iter().map(|l| view! { <pre class="logline">{l}</pre> }).collect_view().into_any()
    };
    let evidence = format!("{}/{}", s.trace_id, s.span_id);
    let use_span = lab.takes(Target::Evidence).then(|| view! {
        <button type="button" class="button button--small" data-testid="use-span" on:click=move |_| lab.offer(Target::Evidence, evidence.clone())>
            "Use this span as evidence"
        </button>
    });
    let status = match s.status {
        StatusCode::Error => format!("Error{}", if span.status_message.is_empty() { String::new() } else { format!(": {}", span.status_message) }),
        StatusCode::Ok => "Ok".to_string(),
        StatusCode::Unset => "Unset".to_string(),
    };
    view! {
        <div class="span-details" data-testid="span-details">
            <h4>{format!("{} · {}", loaded.service[i].0, span.name)}</h4>
            {use_span}
            <dl class="span-details__facts">
                <div><dt>"duration"</dt><dd>{fmt_us(s.duration_us())}</dd></div>
                <div><dt>"start"</dt><dd>{timefmt::instant(tel.unix_ms(s.start))}</dd></div>
                <div><dt>"kind"</dt><dd>{format!("{:?}", span.kind)}</dd></div>
                <div><dt>"status"</dt><dd>{status}</dd></div>
                <div><dt>"span id"</dt><dd><code>{s.span_id.to_string()}</code></dd></div>
            </dl>
            <div class="span-details__grid">
                <div>
                    <h5>"Attributes"</h5>
                    <table class="table">{attrs}</table>
                    <h5>"Resource"</h5>
                    <table class="table">{resource}</table>
                </div>
                <div>
                    <h5>"Events"</h5>
                    {if span.events.is_empty() { None } else { Some(view! { <ul class="span-details__events">{events}</ul> }) }}
                    <h5>"Logs of this span"</h5>
                    <div data-testid="span-logs">{logs_view}</div>
                </div>
            </div>
        </div>
    }
}

/// `850 µs`, `12.3 ms`, `1.25 s`.
pub fn fmt_us(us: i64) -> String {
    crate::charts::Unit::Seconds.format(us as f64 / 1e6)
}
