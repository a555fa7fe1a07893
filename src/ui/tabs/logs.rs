//! Logs: a LogQL box over the run's log store in the shared time range.
//! A log query shows a volume histogram by level (itself a LogQL metric
//! query) and the newest lines, each with its level as a word and an icon,
//! its labels on demand and a link to its trace; a metric query shows a
//! chart.

use crate::charts::panel::step_for;
use crate::charts::timeseries::{Line, Plot};
use crate::charts::{timefmt, Unit};
use crate::query::diag::QueryError;
use crate::query::logql::{self, Expr, Options, Value};
use crate::telemetry::metric::Labels;
use crate::ui::components::plot::PlotChart;
use crate::ui::components::query_box::QueryBox;
use crate::ui::components::query_error::QueryErrorView;
use crate::ui::perf;
use crate::ui::route::Tab;
use crate::ui::state::use_lab;
use leptos::prelude::*;
use std::rc::Rc;

/// Lines shown per query (Loki's default limit in Grafana is 1000; the
/// newest few hundred are what anyone reads).
const LINES: usize = 300;

struct LogLine {
    ts_ms: i64,
    line: String,
    labels: Rc<Labels>,
}

enum Outcome {
    Lines { volume: Option<Rc<Plot>>, lines: Vec<LogLine>, scanned: u64, took_ms: f64 },
    Metric { plot: Rc<Plot>, scanned: u64, took_ms: f64 },
    Error { query: String, error: QueryError },
}

fn run_query(tel: &crate::store::Telemetry, query: &str, range: (i64, i64), scrape_ms: i64) -> Result<Outcome, QueryError> {
    let t0 = perf::now();
    let expr = logql::parse(query)?;
    let (from, to) = range;
    let opts = Options::default();
    match &expr {
        Expr::Log(_) => {
            let r = logql::query_range_with(tel, &expr, from, to, 0, LINES, &opts)?;
            let Value::Streams(streams) = r.value else { return Err(QueryError::eval("a log query must return log lines")) };
            let mut lines: Vec<LogLine> = Vec::new();
            for s in streams {
                let labels = Rc::new(s.labels);
                for e in s.entries {
                    lines.push(LogLine { ts_ms: (e.ts_ns / 1_000_000) as i64, line: e.line, labels: labels.clone() });
                }
            }
            crate::sort::sort_by(&mut lines, |a, b| b.ts_ms.cmp(&a.ts_ms));
            lines.truncate(LINES);
            // The volume: the same pipeline counted per level and step.
            let step = step_for(range, 120, 1000);
            let volume_q = format!("sum by (level) (count_over_time({query} [{}s]))", step / 1000);
            let volume = logql::parse(&volume_q)
                .and_then(|v| logql::query_range_with(tel, &v, from, to, step, LINES, &opts))
                .ok()
                .and_then(|v| match v.value {
                    Value::Matrix(m) => Some(Rc::new(Plot {
                        lines: m.iter().map(|s| Line::from_points(s.labels.get("level").unwrap_or("lines").to_string(), &s.points, step)).collect(),
                        unit: Unit::Short,
                        range,
                        thresholds: vec![],
                        markers: vec![],
                    })),
                    _ => None,
                });
            Ok(Outcome::Lines { volume, lines, scanned: r.stats.lines_scanned, took_ms: perf::now() - t0 })
        }
        _ => {
            let step = step_for(range, 300, scrape_ms.min(15_000));
            let r = logql::query_range_with(tel, &expr, from, to, step, LINES, &opts)?;
            let Value::Matrix(m) = r.value else { return Err(QueryError::eval("a metric query must return a range of values")) };
            let lines = m.iter().map(|s| Line::from_points(crate::charts::panel::legend(None, &s.labels), &s.points, step)).collect();
            Ok(Outcome::Metric {
                plot: Rc::new(Plot { lines, unit: Unit::Short, range, thresholds: vec![], markers: vec![] }),
                scanned: r.stats.lines_scanned,
                took_ms: perf::now() - t0,
            })
        }
    }
}

#[component]
pub fn LogsTab() -> impl IntoView {
    let lab = use_lab();
    let draft = RwSignal::new(lab.logql.get_untracked());
    crate::ui::effect(move |_| draft.set(lab.logql.get()));
    let scrape_ms = lab.run().model.scrape_interval.micros() / 1000;
    let outcome = RwSignal::new_local(None::<Rc<Outcome>>);
    crate::ui::effect(move |_| {
        let query = lab.logql.get();
        let range = lab.range.get();
        let run = lab.run();
        let o = run_query(&run.telemetry, &query, range, scrape_ms).unwrap_or_else(|error| Outcome::Error { query, error });
        outcome.set(Some(Rc::new(o)));
    });
    let submit = move || lab.logql.set(draft.get_untracked().trim().to_string());

    view! {
        <section class="logs" aria-labelledby="logs-title">
            <h2 id="logs-title" class="visually-hidden">"Logs"</h2>
            <QueryBox lang="logql" label="LogQL" draft on_run=Callback::new(move |_| submit())>
                    <span class="query__hint">"Labels: service, level, pod, node. Try "<code>"|= \"timeout\""</code>" or "<code>"| json | duration_ms > 500"</code>"."</span>
            </QueryBox>
            {move || outcome.get().map(|o| match &*o {
                Outcome::Error { query, error } => view! { <QueryErrorView query=query.clone() error=error.clone()/> }.into_any(),
                Outcome::Metric { plot, scanned, took_ms } => view! {
                    <p class="result__stats">{format!("{} series · {scanned} lines scanned · {took_ms:.0} ms", plot.lines.len())}</p>
                    <figure class="chart">
                        <PlotChart plot=plot.clone() label="Chart of the LogQL metric query".to_string() on_zoom=Callback::new(move |r| lab.set_range(r))/>
                    </figure>
                }
                .into_any(),
                Outcome::Lines { volume, lines, scanned, took_ms } => {
                    let stats = format!(
                        "{} lines shown (newest first, at most {LINES}) · {scanned} lines scanned · {took_ms:.0} ms",
                        lines.len()
                    );
                    let rows = lines.iter().map(|l| view! { <LogRow line=l/> }).collect_view();
                    view! {
                        <p class="result__stats" data-testid="logql-stats">{stats}</p>
                        {volume.clone().map(|plot| view! {
                            <figure class="chart">
                                <figcaption class="chart__caption">"Log volume by level"</figcaption>
                                <PlotChart
                                    plot
                                    label="Log lines per step by level".to_string()
                                    class="chart__canvas chart__canvas--volume"
                                    on_zoom=Callback::new(move |r| lab.set_range(r))
                                />
                            </figure>
                        })}
                        <ol class="loglines" data-testid="log-lines">{rows}</ol>
                    }
                    .into_any()
                }
            })}
        </section>
    }
}

/// Unicode uppercase by the browser's `String.prototype.toUpperCase`, so
/// the wasm carries no uppercase table of its own (the level is a label
/// value: a query can set it to anything).
fn upper(s: &str) -> String {
    js_sys::JsString::from(s).to_upper_case().into()
}

#[component]
fn LogRow<'a>(line: &'a LogLine) -> impl IntoView {
    let lab = use_lab();
    let level = line.labels.get("level").unwrap_or("info").to_string();
    let (icon, modifier) = match level.as_str() {
        "error" | "fatal" | "critical" => ("✖", "error"),
        "warn" | "warning" => ("▲", "warn"),
        "debug" | "trace" => ("·", "debug"),
        _ => ("●", "info"),
    };
    // Log lines outlive their traces: tail sampling dropped most of them.
    let trace = trace_id_in(&line.line).map(|t| {
        let kept = crate::telemetry::ids::TraceId::from_hex(&t).is_some_and(|id| lab.run().telemetry.traces.trace(id).is_some());
        (t, kept)
    });
    let labels = line.labels.to_string();
    // Opened, a line lists its fields as `| json` or `| logfmt` reads them:
    // read when the line is first opened, not for every line shown. (A
    // click on the summary also comes from Enter and Space on it.)
    let opened = RwSignal::new(false);
    let text = line.line.clone();
    let fields = move || {
        if !opened.get() {
            return None;
        }
        let fields = crate::query::logql::detected_fields(&text);
        (!fields.is_empty()).then(|| {
            let rows = fields
                .into_iter()
                .map(|(k, v)| view! { <tr><th scope="row">{k}</th><td>{v}</td></tr> })
                .collect_view();
            view! {
                <table class="logline__fields" data-testid="log-fields">
                    <caption class="visually-hidden">"Fields of this line"</caption>
                    <tbody>{rows}</tbody>
                </table>
            }
        })
    };
    view! {
        <li class=format!("logline logline--{modifier}")>
            <details>
                <summary on:click=move |_| opened.set(true)>
                    <span class="logline__time">{timefmt::clock(line.ts_ms)}{format!(".{:03}", line.ts_ms.rem_euclid(1000))}</span>
                    <span class=format!("logline__level level--{modifier}")><span aria-hidden="true">{icon}</span>" "{upper(&level)}</span>
                    <span class="logline__text">{line.line.clone()}</span>
                </summary>
                <div class="logline__more">
                    <p><span class="logline__heading">"Labels "</span><code>{labels}</code></p>
                    {fields}
                    {trace.map(|(t, kept)| {
                        let open = t.clone();
                        if kept {
                            view! {
                                <button type="button" class="button button--small" data-testid="log-trace-link"
                                    on:click=move |_| { lab.trace.set(Some(open.clone())); lab.tab.set(Tab::Traces); }>
                                    {format!("Open trace {}", &t[..8])}
                                </button>
                            }
                            .into_any()
                        } else {
                            view! { <span class="result__stats">{format!("Trace {} was not kept by tail sampling.", &t[..8])}</span> }.into_any()
                        }
                    })}
                </div>
            </details>
        </li>
    }
}

/// The 32-hex-digit trace id a log line carries (`"trace_id":"…"` in JSON
/// lines, `trace_id=…` in plain ones).
pub fn trace_id_in(line: &str) -> Option<String> {
    let at = line.find("trace_id")?;
    let rest = &line[at + "trace_id".len()..];
    let rest = rest.trim_start_matches(['"', ':', '=', ' ']);
    let hex: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (hex.len() == 32).then_some(hex)
}
