//! Dashboards: the scenario's own (from its file) and the built-in RED
//! and USE dashboards, each a grid of PromQL panels over the shared time
//! range. The bar says how long the panels took; each can open its query
//! in Explore.
//!
//! The first row of panels is evaluated and drawn first (the scenario is
//! ready when it is), then the others one per task, each showing a
//! placeholder of its final size until its data comes. A new range (a
//! live replay's tick) evaluates the panels again the same way but keeps
//! their elements: each panel's slot gets the new result and its chart
//! redraws in place. `obslab:panels` marks the first time every panel of
//! a dashboard has its data.

use crate::charts::panel::{builtin_dashboards, evaluate, expand, step_for, Dashboard, PanelSpec};
use crate::charts::Plot;
use crate::telemetry::ids::TraceId;
use crate::query::diag::QueryError;
use crate::query::promql::{self, EvalOptions};
use crate::ui::components::plot::PlotChart;
use crate::ui::components::query_error::QueryErrorView;
use crate::ui::perf;
use crate::ui::route::Tab;
use crate::ui::state::{use_lab, Lab};
use leptos::prelude::*;
use std::rc::Rc;

#[component]
pub fn DashboardsTab() -> impl IntoView {
    let lab = use_lab();
    let run = lab.run();
    let entry = run.model.services.get(run.model.entry_service).map(|s| s.name.clone()).unwrap_or_default();
    // The scenario's own dashboards first, then the built-in RED (and, when
    // single requests are simulated, USE) dashboards.
    let mut all: Vec<Dashboard> = run.model.dashboards.clone();
    let mut builtin = builtin_dashboards(&entry);
    if run.model.mode == crate::scenario::format::Mode::Aggregate {
        builtin.truncate(1);
    }
    all.extend(builtin);
    let dashboards: Rc<Vec<Dashboard>> = Rc::new(all);
    let selected = RwSignal::new(0_usize);
    let scrape_ms = run.model.scrape_interval.micros() / 1000;

    let picker = dashboards
        .iter()
        .enumerate()
        .map(|(i, d)| {
            view! {
                <button type="button" class="button button--small" aria-pressed=move || (selected.get() == i).to_string() on:click=move |_| selected.set(i)>
                    {d.title.clone()}
                </button>
            }
        })
        .collect_view();

    // One slot per panel position, holding its latest result: the panels'
    // elements stay while their data changes (a tick of the replay).
    let most = dashboards.iter().map(|d| d.panels.len()).max().unwrap_or(0);
    let slots: Vec<Slot> = (0..most).map(|_| RwSignal::new_local(None)).collect();
    // Panels evaluated so far, of how many, and the time they took.
    let progress = RwSignal::new((0_usize, 0_usize, 0.0_f64));
    // Which evaluation is current: a newer range or dashboard stops an older one.
    let generation = StoredValue::new(0_usize);
    let shown = StoredValue::new(usize::MAX);
    let first_drawn = StoredValue::new(0_usize);

    let ds = dashboards.clone();
    let sl = slots.clone();
    crate::ui::effect(move |_| {
        let range = lab.range.get();
        let sel = selected.get().min(ds.len() - 1);
        let current = generation.get_value() + 1;
        generation.set_value(current);
        let panels: Vec<PanelSpec> = ds[sel].panels.clone();
        if shown.get_value() != sel {
            // Another dashboard: its panels wait for their own data.
            shown.set_value(sel);
            for s in sl.iter() {
                s.set(None);
            }
        }
        let slots = sl.clone();
        let n = panels.len();
        // The bar counts the panels while they first come in; a new range
        // keeps the last figure until the new one is complete.
        let fresh = slots.iter().take(n).any(|s| s.with_untracked(Option::is_none));
        if fresh {
            progress.set((0, n, 0.0));
        }
        leptos::task::spawn_local(async move {
            let run = lab.run();
            let step = step_for(range, 500, scrape_ms);
            let mut took = 0.0;
            let mut i = 0;
            while i < n {
                // Stopped by a newer range or dashboard, or the tab closed.
                if generation.try_get_value() != Some(current) {
                    return;
                }
                // The first row alone, so it shows at once; then as many
                // panels as fit in a slice, so input and paints come between.
                let (task, first) = (perf::now(), i == 0);
                while i < n && (if first { i < FIRST_ROW } else { perf::now() - task < SLICE_MS }) {
                    let p = &panels[i];
                    let t0 = perf::now();
                    let r = evaluate_panel(&run, p, range, step, scrape_ms);
                    took += perf::now() - t0;
                    if r.is_err() && i < FIRST_ROW {
                        // An error shows without a draw.
                        first_row_done(lab, first_drawn, i, n);
                    }
                    slots[i].set(Some(Rc::new(r)));
                    i += 1;
                }
                if fresh || i == n {
                    progress.set((i, n, took));
                }
                if i == n {
                    if fresh {
                        perf::mark(perf::PANELS);
                    }
                } else if first && fresh {
                    // The rest once the first row is on screen.
                    perf::after_paint().await;
                } else {
                    perf::yield_now().await;
                }
            }
        });
    });

    let specs = StoredValue::new_local(dashboards);
    let panel_views = move || {
        let sel = selected.get();
        let panels = specs.with_value(|d| d[sel.min(d.len() - 1)].panels.clone());
        let n = panels.len();
        panels
            .into_iter()
            .zip(slots.iter())
            .enumerate()
            .map(|(i, (spec, slot))| {
                let on_drawn = (i < FIRST_ROW).then(|| Callback::new(move |_| first_row_done(lab, first_drawn, i, n)));
                view! { <Panel spec data=*slot on_drawn/> }
            })
            .collect_view()
    };

    view! {
        <section class="dashboards" aria-labelledby="dashboards-title">
            <h2 id="dashboards-title" class="visually-hidden">"Dashboards"</h2>
            <div class="dashboards__bar">
                <span class="segmented" role="group" aria-label="Dashboard">{picker}</span>
                <span class="result__stats" data-testid="dashboard-stats">
                    {move || {
                        let (done, n, ms) = progress.get();
                        if done < n { format!("{done} of {n} panels evaluated…") } else { format!("{n} panels evaluated in {ms:.0} ms") }
                    }}
                </span>
            </div>
            <div class="panels">{panel_views}</div>
        </section>
    }
}

/// Panels evaluated and drawn in the first task, before any other: the
/// first row at 1280 px wide with the side panel open (the widest usual
/// view); the rest follow one per task.
const FIRST_ROW: usize = 2;

/// Evaluation time of the panels in one task after the first row, ms:
/// with their draws, a task stays well under the 50 ms of a long task,
/// and a tick of the replay takes few tasks (each costs a frame).
const SLICE_MS: f64 = 16.0;

/// A panel's latest result: its plot and the trace of each exemplar dot,
/// or why the query failed. `None` until its first evaluation.
type Slot = RwSignal<Option<Rc<Result<Loaded, QueryError>>>, LocalStorage>;
/// A panel's data once its query ran: the plot and its exemplars' traces.
type Loaded = (Rc<Plot>, Vec<TraceId>);

/// What a slot holds when its query ran without error.
fn loaded(s: &Option<Rc<Result<Loaded, QueryError>>>) -> Option<&Loaded> {
    s.as_deref()?.as_ref().ok()
}

/// One panel's query over `range` (its variables expanded for `step`).
#[inline(never)]
fn evaluate_panel(run: &crate::sim::Run, p: &PanelSpec, range: (i64, i64), step: i64, scrape_ms: i64) -> Result<Loaded, QueryError> {
    let d = promql::parse(&expand(&p.expr, step, scrape_ms)).and_then(|e| evaluate(&run.telemetry.series, p, &e, range, step, &EvalOptions::default()))?;
    Ok((Rc::new(d.plot), d.exemplar_traces))
}

/// Notes first-row panel `i` drawn (or failed); when the whole first row
/// is, the scenario is ready.
fn first_row_done(lab: Lab, drawn: StoredValue<usize>, i: usize, panels: usize) {
    drawn.update_value(|d| *d |= 1 << i);
    if drawn.get_value().count_ones() as usize >= FIRST_ROW.min(panels) {
        lab.mark_drawn();
    }
}

#[component]
fn Panel(spec: PanelSpec, data: Slot, on_drawn: Option<Callback<f64>>) -> impl IntoView {
    let slot = data;
    let lab = use_lab();
    let expr = spec.expr.clone();
    // Explore has no variables: it gets the query as this range runs it.
    let explore = move |_| {
        let run = lab.run();
        let scrape_ms = run.model.scrape_interval.micros() / 1000;
        lab.promql.set(expand(&expr, step_for(lab.range.get_untracked(), 500, scrape_ms), scrape_ms));
        lab.tab.set(Tab::Explore);
    };
    let plot = Signal::derive_local(move || slot.with(|s| loaded(s).map(|(p, _)| p.clone())));
    let failed = RwSignal::new(false);
    crate::ui::effect(move |_| {
        let f = slot.with(|s| s.as_ref().is_some_and(|r| r.is_err()));
        if failed.get_untracked() != f {
            failed.set(f);
        }
    });
    // A line kept for the exemplars' note, so its coming moves nothing;
    // once the data is in, it says whether the panel has any.
    let exemplars = move || {
        let n = slot.with(|s| loaded(s).map(|(_, t)| t.len()))?;
        Some(if n > 0 { format!("{n} exemplars: click a dot to open its trace.") } else { "No exemplars on this panel.".to_string() })
    };
    let label = format!("{}: {}", spec.title, spec.description);
    let query = spec.expr.clone();
    // The chart stays while its data changes; a failed query shows why instead.
    let body = move || match failed.get().then(|| slot.with_untracked(|s| s.as_deref().and_then(|r| r.as_ref().err().cloned()))).flatten() {
        None => view! {
            <p class="panel-card__description panel-card__exemplars">{exemplars}</p>
            <PlotChart
                plot
                on_marker=Callback::new(move |i: usize| {
                    let trace = slot.with_untracked(|s| loaded(s).and_then(|(_, t)| t.get(i).copied()));
                    if let Some(t) = trace {
                        lab.open_trace(crate::query::traceql::tempo_trace_id(t));
                    }
                })
                label=label.clone()
                class="chart__canvas chart__canvas--panel"
                on_zoom=Callback::new(move |r| lab.set_range(r))
                on_drawn=on_drawn.unwrap_or_else(|| Callback::new(|_| ()))
            />
        }
        .into_any(),
        Some(error) => view! { <QueryErrorView query=query.clone() error/> }.into_any(),
    };
    view! {
        <figure class="panel-card" data-testid="panel">
            <figcaption class="panel-card__head">
                <span class="panel-card__title">{spec.title.clone()}</span>
                <button type="button" class="link-button" on:click=explore title="Open this panel's query in Explore">"Explore"</button>
            </figcaption>
            <p class="panel-card__description">{spec.description.clone()}</p>
            {body}
        </figure>
    }
}
