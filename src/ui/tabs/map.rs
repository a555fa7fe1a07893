//! The service map over the shared time range: services and datastores as
//! boxes, calls as arrows labelled with rate, error ratio and P99, health
//! as a word and a border style as well as a colour, and the same numbers
//! in a table. Clicking a service opens its P99 by route in Explore.

use crate::charts::service_map::{build, Health, ServiceMap};
use crate::charts::Unit;
use crate::ui::perf;
use crate::ui::route::Tab;
use crate::ui::state::use_lab;
use leptos::prelude::*;
use std::rc::Rc;

const COL_W: f64 = 290.0;
const ROW_H: f64 = 96.0;
const BOX_W: f64 = 210.0;
const BOX_H: f64 = 62.0;
const PAD: f64 = 20.0;

fn health_icon(h: Health) -> &'static str {
    match h {
        Health::Ok => "✓",
        Health::Degraded => "▲",
        Health::Failing => "✖",
        Health::Idle => "–",
    }
}

fn pct(v: f64) -> String {
    if v.is_nan() { "–".into() } else { Unit::PercentUnit.format(v) }
}

fn secs(v: f64) -> String {
    if v.is_nan() { "–".into() } else { Unit::Seconds.format(v) }
}

#[component]
pub fn MapTab() -> impl IntoView {
    let lab = use_lab();
    let result = RwSignal::new_local(None::<Rc<Result<(ServiceMap, f64), String>>>);
    crate::ui::effect(move |_| {
        let range = lab.range.get();
        let run = lab.run();
        let services: Vec<String> = run.model.services.iter().map(|s| s.name.clone()).collect();
        let stores: Vec<String> = run.model.datastores.iter().map(|d| d.name.clone()).collect();
        let entry = services.get(run.model.entry_service).cloned().unwrap_or_default();
        let t0 = perf::now();
        let r = build(&run.telemetry.series, &services, &stores, &entry, range).map(|m| (m, perf::now() - t0)).map_err(|e| e.message);
        result.set(Some(Rc::new(r)));
    });
    view! {
        <section class="map" aria-labelledby="map-title">
            <h2 id="map-title" class="visually-hidden">"Service map"</h2>
            {move || result.get().map(|r| match &*r {
                Err(e) => view! { <p class="notice notice--error" role="alert">{format!("The map could not be computed: {e}")}</p> }.into_any(),
                Ok((m, took)) => view! { <MapView map=m.clone() took=*took/> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn MapView(map: ServiceMap, took: f64) -> impl IntoView {
    let lab = use_lab();
    let width = PAD * 2.0 + (map.columns.max(1) as f64 - 1.0) * COL_W + BOX_W;
    let height = PAD * 2.0 + (map.rows.max(1) as f64 - 1.0) * ROW_H + BOX_H;
    let pos = |i: usize| (PAD + map.nodes[i].column as f64 * COL_W, PAD + map.nodes[i].row as f64 * ROW_H);
    let edges = map
        .edges
        .iter()
        .map(|e| {
            let (ax, ay) = pos(e.from);
            let (bx, by) = pos(e.to);
            let (x1, y1) = (ax + BOX_W, ay + BOX_H / 2.0);
            let (x2, y2) = if bx > ax { (bx, by + BOX_H / 2.0) } else { (bx + BOX_W / 2.0, by) };
            let mid = (x1 + x2) / 2.0;
            let d = format!("M{x1:.1},{y1:.1} C{mid:.1},{y1:.1} {mid:.1},{y2:.1} {x2:.1},{y2:.1}");
            // Numbers on hover and in the table: labels on every curve overlap.
            let label = format!(
                "{} → {}: {} · {} errors · P99 {} · {}",
                map.nodes[e.from].name,
                map.nodes[e.to].name,
                Unit::RequestsPerSecond.format(e.red.rate),
                pct(e.red.errors),
                secs(e.red.p99),
                e.health.as_str()
            );
            let class = format!("map__edge map__edge--{}", e.health.as_str());
            let width = format!("{:.1}", (1.0 + e.red.rate.max(0.0).ln_1p()).clamp(1.0, 6.0));
            view! {
                <path class=class d=d marker-end="url(#arrow)" stroke-width=width>
                    <title>{label}</title>
                </path>
            }
        })
        .collect_view();
    let nodes = map
        .nodes
        .iter()
        .map(|n| {
            let i = map.nodes.iter().position(|m| m.name == n.name).unwrap_or(0);
            let (x, y) = pos(i);
            let class = format!("map__node map__node--{}{}", n.health.as_str(), if n.store { " map__node--store" } else { "" });
            let line2 = match n.red {
                Some(r) => format!("{} · {} 5xx · P99 {}", Unit::RequestsPerSecond.format(r.rate), pct(r.errors), secs(r.p99)),
                None => format!("datastore · {} {}", health_icon(n.health), n.health.as_str()),
            };
            let title = format!("{}: {} {}", n.name, health_icon(n.health), n.health.as_str());
            let name = n.name.clone();
            let service = !n.store;
            let open = move |_| {
                if service {
                    lab.promql.set(format!(
                        "histogram_quantile(0.99, sum by (http_route, le) (rate(http_server_request_duration_seconds_bucket{{service=\"{name}\"}}[5m])))"
                    ));
                    lab.tab.set(Tab::Explore);
                }
            };
            view! {
                <g class=class on:click=open>
                    <title>{title}</title>
                    <rect x=format!("{x:.1}") y=format!("{y:.1}") width=BOX_W height=BOX_H rx="8"></rect>
                    <text class="map__name" x=format!("{:.1}", x + 10.0) y=format!("{:.1}", y + 22.0)>{n.name.clone()}</text>
                    {service.then(|| view! {
                        <text class="map__health" x=format!("{:.1}", x + BOX_W - 10.0) y=format!("{:.1}", y + 22.0) text-anchor="end">
                            {format!("{} {}", health_icon(n.health), n.health.as_str())}
                        </text>
                    })}
                    <text class="map__red" x=format!("{:.1}", x + 10.0) y=format!("{:.1}", y + 46.0)>{line2}</text>
                </g>
            }
        })
        .collect_view();
    let rows = map
        .edges
        .iter()
        .map(|e| {
            view! {
                <tr>
                    <td>{map.nodes[e.from].name.clone()}</td>
                    <td>{map.nodes[e.to].name.clone()}</td>
                    <td>{Unit::RequestsPerSecond.format(e.red.rate)}</td>
                    <td>{pct(e.red.errors)}</td>
                    <td>{secs(e.red.p99)}</td>
                    <td>{format!("{} {}", health_icon(e.health), e.health.as_str())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="result__stats">{format!("{} services and datastores, {} calls, measured over the time range from client and server metrics · {took:.0} ms", map.nodes.len(), map.edges.len())}</p>
        <div class="map__scroll">
            <svg class="map__svg" viewBox=format!("0 0 {width:.0} {height:.0}") width=format!("{width:.0}") height=format!("{height:.0}") role="img" aria-label="Service map: services and datastores with the calls between them" data-testid="service-map">
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse">
                        <path class="map__arrow" d="M0,0 L10,5 L0,10 z"></path>
                    </marker>
                </defs>
                {edges}
                {nodes}
            </svg>
        </div>
        <details class="chart__table">
            <summary>"Calls as a table"</summary>
            <table class="table table--wide" data-testid="map-table">
                <thead><tr><th scope="col">"caller"</th><th scope="col">"callee"</th><th scope="col">"rate"</th><th scope="col">"errors"</th><th scope="col">"P99"</th><th scope="col">"health"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    }
}
