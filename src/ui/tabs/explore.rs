//! Explore metrics: a PromQL box over the run's series store, as a graph
//! over the shared time range or a table at its end, with the error caret
//! on a bad query, the metric names of the store to pick from, completion
//! in the box, and an "Explain" tree of every sub-expression's result size.

use crate::charts::panel::{legend, step_for};
use crate::charts::timeseries::{Line, Plot};
use crate::charts::{timefmt, Unit};
use crate::query::diag::QueryError;
use crate::query::promql::explain::{self, Node, Window};
use crate::query::promql::{self, EvalOptions, Value};
use crate::ui::components::plot::PlotChart;
use crate::ui::components::query_box::QueryBox;
use crate::ui::components::query_error::QueryErrorView;
use crate::ui::perf;
use crate::ui::state::use_lab;
use leptos::prelude::*;
use std::rc::Rc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Graph,
    Table,
}

/// The graph's grid over a time range: (start, end, step).
fn graph_grid((from, to): (i64, i64), scrape_ms: i64) -> (i64, i64, i64) {
    let step = step_for((from, to), 500, scrape_ms);
    let start = from.div_euclid(step) * step + step;
    (start, to.max(start), step)
}

/// A node of the explain tree and its children, as nested lists; clicking
/// its expression runs it.
fn node_view(n: &Node, run: Callback<String>) -> AnyView {
    let text = n.text.clone();
    let children = (!n.children.is_empty()).then(|| view! { <ul>{n.children.iter().map(|c| node_view(c, run)).collect_view()}</ul> });
    view! {
        <li>
            <button type="button" class="explain__expr" data-testid="explain-node" on:click=move |_| run.run(text.clone())>{n.text.clone()}</button>
            <span class=if n.result.is_err() { "explain__size explain__size--error" } else { "explain__size" } data-testid="explain-size">{n.summary()}</span>
            <p class="explain__about">{format!("{}: {}", n.label(), n.about)}</p>
            {children}
        </li>
    }
    .into_any()
}

enum Outcome {
    Graph { plot: Rc<Plot>, series: usize, samples: u64, step_ms: i64, took_ms: f64, warnings: Vec<String> },
    Table { rows: Vec<(String, String)>, samples: u64, at: i64, took_ms: f64 },
    Error { query: String, error: QueryError },
}

#[component]
pub fn ExploreTab() -> impl IntoView {
    let lab = use_lab();
    let draft = RwSignal::new(lab.promql.get_untracked());
    let mode = RwSignal::new(Mode::Graph);
    // Keep the box in step when the address bar changes the query.
    crate::ui::effect(move |_| draft.set(lab.promql.get()));

    let run = lab.run();
    let scrape_ms = run.model.scrape_interval.micros() / 1000;
    let metric_names: Vec<String> = run.telemetry.series.names().map(str::to_string).collect();

    // Evaluated in an effect into a local signal: results hold `Rc`s.
    let outcome = RwSignal::new_local(None::<Rc<Outcome>>);
    crate::ui::effect(move |_| {
        let query = lab.promql.get();
        let (from, to) = lab.range.get();
        let m = mode.get();
        let run = lab.run();
        let store = &run.telemetry.series;
        let t0 = perf::now();
        let expr = match promql::parse(&query) {
            Ok(e) => e,
            Err(error) => return outcome.set(Some(Rc::new(Outcome::Error { query, error }))),
        };
        let opts = EvalOptions::default();
        let res = match m {
            Mode::Graph => {
                let (start, end, step) = graph_grid((from, to), scrape_ms);
                promql::range_query_with(store, &expr, start, end, step, &opts).and_then(|r| {
                    let Value::Matrix(mx) = r.value else { return Err(QueryError::eval("a range query must return a range of values")) };
                    let lines: Vec<Line> = mx.iter().map(|s| Line::from_points(legend(None, &s.labels), &s.points, step)).collect();
                    let series = lines.len();
                    Ok(Outcome::Graph {
                        plot: Rc::new(Plot { lines, unit: Unit::Short, range: (from, to), thresholds: vec![], markers: vec![] }),
                        series,
                        samples: r.samples,
                        step_ms: step,
                        took_ms: perf::now() - t0,
                        warnings: r.annotations.iter().map(|a| a.message.clone()).collect(),
                    })
                })
            }
            Mode::Table => promql::instant_query_with(store, &expr, to, &opts).map(|r| {
                let rows = match &r.value {
                    Value::Vector(v) => v.iter().map(|s| (legend(None, &s.labels), promql::format_value(s.f))).collect(),
                    Value::Scalar { v, .. } => vec![("scalar".to_string(), promql::format_value(*v))],
                    Value::String { v, .. } => vec![("string".to_string(), v.clone())],
                    Value::Matrix(m) => m
                        .iter()
                        .map(|s| {
                            let vals: Vec<String> = s.points.iter().map(|(t, v)| format!("{} @{}", promql::format_value(*v), timefmt::clock(*t))).collect();
                            (legend(None, &s.labels), vals.join("\n"))
                        })
                        .collect(),
                };
                Outcome::Table { rows, samples: r.samples, at: to, took_ms: perf::now() - t0 }
            }),
        };
        outcome.set(Some(Rc::new(res.unwrap_or_else(|error| Outcome::Error { query, error }))));
    });

    // The explain tree of the query over the same window, when asked for.
    let explaining = RwSignal::new(false);
    let tree = move || {
        let query = lab.promql.get();
        let window = match mode.get() {
            Mode::Graph => {
                let (start, end, step) = graph_grid(lab.range.get(), scrape_ms);
                Window::Range { start, end, step }
            }
            Mode::Table => Window::Instant(lab.range.get().1),
        };
        explaining.get().then(|| promql::parse(&query).ok()).flatten().map(|e| explain::explain(&lab.run().telemetry.series, &query, &e, window, &EvalOptions::default()))
    };
    let run_text = Callback::new(move |q: String| {
        draft.set(q.clone());
        lab.promql.set(q);
    });
    let complete = Callback::new(move |(text, cursor): (String, usize)| promql::complete::complete(&text, cursor, &lab.run().telemetry.series, 15));

    let run_query = move || lab.promql.set(draft.get_untracked().trim().to_string());
    let options = metric_names.into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view();
    let insert_metric = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        if !name.is_empty() {
            draft.set(name.clone());
            lab.promql.set(name);
        }
    };

    view! {
        <section class="explore" aria-labelledby="explore-title">
            <h2 id="explore-title" class="visually-hidden">"Explore metrics"</h2>
            <QueryBox lang="promql" label="PromQL" draft complete on_run=Callback::new(move |_| run_query())>
                    <label class="query__metrics">
                        "Metrics "
                        <select on:change=insert_metric>
                            <option value="">"choose a metric…"</option>
                            {options}
                        </select>
                    </label>
                    <span class="segmented" role="group" aria-label="Result as">
                        <button type="button" class="button button--small" aria-pressed=move || (mode.get() == Mode::Graph).to_string() on:click=move |_| mode.set(Mode::Graph)>"Graph"</button>
                        <button type="button" class="button button--small" aria-pressed=move || (mode.get() == Mode::Table).to_string() on:click=move |_| mode.set(Mode::Table)>"Table"</button>
                    </span>
                    <button type="button" class="button button--small" data-testid="promql-explain" aria-pressed=move || explaining.get().to_string()
                        on:click=move |_| explaining.update(|e| *e = !*e)>"Explain"</button>
            </QueryBox>
            {move || tree().map(|n| view! {
                <section class="explain" aria-labelledby="explain-title" data-testid="explain-tree">
                    <h3 id="explain-title" class="explain__title">"Explain: every sub-expression alone, with its result size"</h3>
                    <p class="result__stats">{if mode.get_untracked() == Mode::Graph { "Over the graph's range (range vectors at its end). Click one to run it." } else { "At the table's instant. Click one to run it." }}</p>
                    <ul class="explain__tree">{node_view(&n, run_text)}</ul>
                </section>
            })}
            {move || outcome.get().map(|o| match &*o {
                Outcome::Error { query, error } => view! { <QueryErrorView query=query.clone() error=error.clone()/> }.into_any(),
                Outcome::Graph { plot, series, samples, step_ms, took_ms, warnings } => {
                    let stats = format!(
                        "{series} series · {samples} samples touched · step {} · {took_ms:.0} ms",
                        timefmt::span(*step_ms)
                    );
                    let warnings = warnings.iter().map(|w| view! { <p class="notice">{w.clone()}</p> }).collect_view();
                    view! {
                        <p class="result__stats" data-testid="promql-stats">{stats}</p>
                        {warnings}
                        <figure class="chart">
                            <PlotChart
                                plot=plot.clone()
                                label=format!("Graph of the query {}", lab.promql.get_untracked())
                                on_zoom=Callback::new(move |r| lab.set_range(r))
                                on_drawn=Callback::new(move |_| lab.mark_drawn())
                            />
                        </figure>
                    }
                    .into_any()
                }
                Outcome::Table { rows, samples, at, took_ms } => {
                    let stats = format!("{} results at {} · {samples} samples touched · {took_ms:.0} ms", rows.len(), timefmt::instant(*at));
                    let body = rows
                        .iter()
                        .map(|(l, v)| view! { <tr><th scope="row"><code>{l.clone()}</code></th><td class="num">{v.clone()}</td></tr> })
                        .collect_view();
                    view! {
                        <p class="result__stats" data-testid="promql-stats">{stats}</p>
                        <table class="table table--wide" data-testid="promql-table">
                            <thead><tr><th scope="col">"series"</th><th scope="col">"value"</th></tr></thead>
                            <tbody>{body}</tbody>
                        </table>
                    }
                    .into_any()
                }
            })}
        </section>
    }
}
