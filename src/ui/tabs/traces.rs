//! Traces: a TraceQL box (with a form for the common filters) over the
//! kept traces in the shared time range, the matches as a duration scatter
//! and a list, and the waterfall of the open trace.

use crate::charts::timefmt;
use crate::charts::timeseries::{Marker, Plot};
use crate::charts::Unit;
use crate::query::diag::QueryError;
use crate::query::traceql::{self, SearchOptions, SearchResult};
use crate::ui::components::plot::PlotChart;
use crate::ui::components::query_box::QueryBox;
use crate::ui::components::query_error::QueryErrorView;
use crate::ui::components::waterfall::TraceView;
use crate::ui::perf;
use crate::ui::state::use_lab;
use leptos::prelude::*;
use std::rc::Rc;

/// Traces found per search (all in the scatter plot) and listed.
const LIMIT: usize = 500;
const LISTED: usize = 100;

enum Outcome {
    Found { result: SearchResult, took_ms: f64 },
    Error { query: String, error: QueryError },
}

#[component]
pub fn TracesTab() -> impl IntoView {
    let lab = use_lab();
    let draft = RwSignal::new(lab.traceql.get_untracked());
    crate::ui::effect(move |_| draft.set(lab.traceql.get()));
    let run_ = lab.run();
    let mut services: Vec<String> = run_.model.services.iter().map(|s| s.name.clone()).collect();
    crate::sort::sort(&mut services);

    // The form writes TraceQL, so learners see the query it stands for.
    let f_service = RwSignal::new(String::new());
    let f_min = RwSignal::new(String::new());
    let f_errors = RwSignal::new(false);
    let from_form = move |_| {
        let mut parts = Vec::new();
        let svc = f_service.get_untracked();
        if !svc.is_empty() {
            parts.push(format!("resource.service.name = \"{svc}\""));
        }
        let min = f_min.get_untracked();
        if !min.trim().is_empty() {
            parts.push(format!("duration > {}", min.trim()));
        }
        if f_errors.get_untracked() {
            parts.push("status = error".to_string());
        }
        let q = if parts.is_empty() { "{ }".to_string() } else { format!("{{ {} }}", parts.join(" && ")) };
        draft.set(q.clone());
        lab.traceql.set(q);
    };

    let outcome = RwSignal::new_local(None::<Rc<Outcome>>);
    crate::ui::effect(move |_| {
        let query = lab.traceql.get();
        let (from, to) = lab.range.get();
        let run = lab.run();
        let t0 = perf::now();
        let r = traceql::parse(&query).and_then(|q| {
            traceql::search_with(&run.telemetry, &q, &SearchOptions { limit: LIMIT, start_ms: Some(from), end_ms: Some(to), ..Default::default() })
        });
        outcome.set(Some(Rc::new(match r {
            Ok(result) => Outcome::Found { result, took_ms: perf::now() - t0 },
            Err(error) => Outcome::Error { query, error },
        })));
    });
    let run_query = move || lab.traceql.set(draft.get_untracked().trim().to_string());
    let service_options = services.into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view();

    view! {
        <section class="traces" aria-labelledby="traces-title">
            <h2 id="traces-title" class="visually-hidden">"Traces"</h2>
            <QueryBox lang="traceql" label="TraceQL" run_label="Search" draft on_run=Callback::new(move |_| run_query())>
            </QueryBox>
            <fieldset class="trace-form">
                <legend>"Or build the query"</legend>
                <label>"service "
                    <select on:change=move |ev| f_service.set(event_target_value(&ev))>
                        <option value="">"any"</option>
                        {service_options}
                    </select>
                </label>
                <label>"slower than "
                    <input type="text" size="6" placeholder="250ms" on:input=move |ev| f_min.set(event_target_value(&ev))/>
                </label>
                <label><input type="checkbox" on:change=move |ev| f_errors.set(event_target_checked(&ev))/>" errors only"</label>
                <button type="button" class="button button--small" on:click=from_form>"Write the query"</button>
            </fieldset>
            {move || outcome.get().map(|o| match &*o {
                Outcome::Error { query, error } => view! { <QueryErrorView query=query.clone() error=error.clone()/> }.into_any(),
                Outcome::Found { result, took_ms } => view! { <Results result=result.clone() took_ms=*took_ms/> }.into_any(),
            })}
            {move || lab.trace.get().map(|t| view! { <TraceView trace=t/> })}
        </section>
    }
}

#[component]
fn Results(result: SearchResult, took_ms: f64) -> impl IntoView {
    let lab = use_lab();
    let stats = format!(
        "{} traces found (newest first, at most {LIMIT}; the newest {LISTED} listed) · {} traces and {} spans inspected · {took_ms:.0} ms",
        result.traces.len(),
        result.inspected_traces,
        result.inspected_spans
    );
    let markers: Vec<Marker> = result
        .traces
        .iter()
        .map(|t| Marker { t: (t.start_unix_nano / 1_000_000) as i64, v: t.duration_ms as f64, line: Some(0) })
        .collect();
    let plot = Rc::new(Plot { lines: vec![], unit: Unit::Milliseconds, range: lab.range.get_untracked(), thresholds: vec![], markers });
    let rows = result
        .traces
        .iter()
        .take(LISTED)
        .map(|t| {
            let id = traceql::tempo_trace_id(t.trace_id);
            // Tempo prints ids without leading zeros; the waterfall and the address take all 32 digits.
            let open = t.trace_id.to_string();
            view! {
                <tr>
                    <td><button type="button" class="link-button" data-testid="trace-link" on:click=move |_| lab.trace.set(Some(open.clone()))><code>{id[..16.min(id.len())].to_string()}</code></button></td>
                    <td>{t.root_service_name.clone()}</td>
                    <td>{t.root_trace_name.clone()}</td>
                    <td>{timefmt::clock((t.start_unix_nano / 1_000_000) as i64)}</td>
                    <td class="num">{format!("{} ms", t.duration_ms)}</td>
                    <td class="num">{t.matched}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="result__stats" data-testid="traceql-stats">{stats}</p>
        {result.traces.is_empty().then(|| {
            let i = &lab.run().model.instrumentation;
            let text = format!(
                "No kept trace matches in this time range. Tail sampling keeps errors, traces slower than {} and {}% of the rest: widen the range or loosen the query.",
                Unit::Seconds.format(i.keep_slower_than.micros() as f64 / 1e6),
                i.keep_ratio * 100.0
            );
            view! { <p class="notice" role="status">{text}</p> }
        })}
        {(!result.traces.is_empty()).then(|| view! {
            <figure class="chart">
                <PlotChart
                    plot
                    label="Duration of each matching trace over time".to_string()
                    class="chart__canvas chart__canvas--panel"
                    on_zoom=Callback::new(move |r| lab.set_range(r))
                />
            </figure>
        })}
        <div class="table-scroll">
            <table class="table table--wide" data-testid="trace-results">
                <thead><tr><th scope="col">"trace"</th><th scope="col">"root service"</th><th scope="col">"root operation"</th><th scope="col">"start (UTC)"</th><th scope="col">"duration"</th><th scope="col">"matched spans"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
