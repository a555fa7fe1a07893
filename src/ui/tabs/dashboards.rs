//! Dashboards: the scenario's own (from its file) and the built-in RED
//! and USE dashboards, each a grid of PromQL panels over the shared time
//! range. Every panel says how long it took and can open its query in
//! Explore.

use crate::charts::panel::{builtin_dashboards, evaluate, expand, step_for, Dashboard, PanelData, PanelSpec};
use crate::query::diag::QueryError;
use crate::query::promql::{self, EvalOptions};
use crate::ui::components::plot::PlotChart;
use crate::ui::components::query_error::QueryErrorView;
use crate::ui::perf;
use crate::ui::route::Tab;
use crate::ui::state::use_lab;
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

    // All panels of the dashboard are evaluated together so the time it
    // takes can be reported as one figure (the 12-panel budget).
    let ds = dashboards.clone();
    let evaluated: RwSignal<Rc<(Vec<(PanelSpec, Result<PanelData, QueryError>)>, f64)>, LocalStorage> = RwSignal::new_local(Rc::new((Vec::new(), 0.0)));
    crate::ui::effect(move |_| {
        let range = lab.range.get();
        let d = &ds[selected.get().min(ds.len() - 1)];
        let run = lab.run();
        let step = step_for(range, 500, scrape_ms);
        let t0 = perf::now();
        let panels: Vec<(PanelSpec, Result<PanelData, QueryError>)> = d
            .panels
            .iter()
            .map(|p| {
                let r = promql::parse(&expand(&p.expr, step, scrape_ms)).and_then(|e| evaluate(&run.telemetry.series, p, &e, range, step, &EvalOptions::default()));
                (p.clone(), r)
            })
            .collect();
        evaluated.set(Rc::new((panels, perf::now() - t0)));
    });

    view! {
        <section class="dashboards" aria-labelledby="dashboards-title">
            <h2 id="dashboards-title" class="visually-hidden">"Dashboards"</h2>
            <div class="dashboards__bar">
                <span class="segmented" role="group" aria-label="Dashboard">{picker}</span>
                <span class="result__stats" data-testid="dashboard-stats">
                    {move || {
                        let e = evaluated.get();
                        format!("{} panels evaluated in {:.0} ms", e.0.len(), e.1)
                    }}
                </span>
            </div>
            <div class="panels">
                {move || {
                    let e = evaluated.get();
                    e.0.iter().map(|(spec, r)| view! { <Panel spec=spec.clone() result=r.clone()/> }).collect_view()
                }}
            </div>
        </section>
    }
}

#[component]
fn Panel(spec: PanelSpec, result: Result<PanelData, QueryError>) -> impl IntoView {
    let lab = use_lab();
    let expr = spec.expr.clone();
    // Explore has no variables: it gets the query as this range runs it.
    let explore = move |_| {
        let run = lab.run();
        let scrape_ms = run.model.scrape_interval.micros() / 1000;
        lab.promql.set(expand(&expr, step_for(lab.range.get_untracked(), 500, scrape_ms), scrape_ms));
        lab.tab.set(Tab::Explore);
    };
    let body = match result {
        Ok(data) => {
            let traces = data.exemplar_traces.clone();
            let exemplars = (!traces.is_empty()).then(|| format!("{} exemplars: click a dot to open its trace.", traces.len()));
            view! {
            {exemplars.map(|t| view! { <p class="panel-card__description">{t}</p> })}
            <PlotChart
                plot=Rc::new(data.plot)
                on_marker=Callback::new(move |i: usize| {
                    if let Some(t) = traces.get(i) {
                        lab.open_trace(crate::query::traceql::tempo_trace_id(*t));
                    }
                })
                label=format!("{}: {}", spec.title, spec.description)
                class="chart__canvas chart__canvas--panel"
                on_zoom=Callback::new(move |r| lab.set_range(r))
                on_drawn=Callback::new(move |_| lab.mark_drawn())
            />
            }
            .into_any()
        }
        Err(error) => view! { <QueryErrorView query=spec.expr.clone() error/> }.into_any(),
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
