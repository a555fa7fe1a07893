//! Profiles: the CPU samples of one service (all its replicas or one pod)
//! in the shared time range as a flame graph (Pyroscope's icicle: callers
//! on top), optionally as the diff against an earlier window of the same
//! length; with search, click-to-zoom and a breadcrumb, keyboard movement
//! between frames, and a table of functions by self time. The selection
//! lives in the [`Lab`](crate::ui::state::Lab), so it survives a change
//! of tab and is part of the address.

use crate::charts::flame::{palette_index, signed_percent, FlameGraph, FlameNode, FunctionStat, SearchResult, ROOT};
use crate::charts::timefmt;
use crate::store::profiles::SAMPLE_PERIOD_US;
use crate::ui::perf;
use crate::ui::route::Compare;
use crate::ui::state::use_lab;
use leptos::prelude::*;
use std::rc::Rc;

/// Frame height in CSS pixels (keep in step with `.flame__frame`).
const ROW_PX: f64 = 20.0;
/// Frames narrower than this share of the width are not drawn (Gregg's
/// `--minwidth` idea: about a pixel on a laptop screen); the table lists them.
const MIN_WIDTH: f64 = 0.0008;
/// Rows of the functions table.
const TOP_FUNCTIONS: usize = 40;

/// A profile read from the store and laid out.
struct Loaded {
    graph: FlameGraph,
    window: (i64, i64),
    /// The compared window and its samples; `None` when not comparing.
    base: Option<((i64, i64), u64)>,
    samples: u64,
    /// Why the comparison asked for is not shown.
    note: Option<String>,
    laid_out_ms: f64,
}

/// What is drawn: the loaded graph zoomed, and the search over it.
struct Shown {
    graph: FlameGraph,
    /// Is a search typed (the result may still match nothing)?
    searching: bool,
    search: SearchResult,
    functions: Vec<FunctionStat>,
}

#[component]
pub fn ProfilesTab() -> impl IntoView {
    let lab = use_lab();
    let run = lab.run();
    let tel = &run.telemetry;
    let services: Vec<String> = crate::sort::sorted_unique(tel.resources.iter().map(|r| r.service_name.to_string()));
    let has_profiles = tel.profiles.total_samples() > 0;

    let sel = lab.profile;
    let (service, replica, compare, search, zoom) = (sel.service, sel.replica, sel.compare, sel.search, sel.zoom);
    let current = RwSignal::new(0_usize);
    let hover = RwSignal::new(None::<usize>);
    // Set when a zoom came from the keyboard, so focus follows it into the new graph.
    let refocus = RwSignal::new(false);

    let loaded = RwSignal::new_local(None::<Rc<Loaded>>);
    crate::ui::effect(move |_| {
        let (svc, pod, cmp, range) = (service.get(), replica.get(), compare.get(), lab.range.get());
        let run = lab.run();
        loaded.set(Some(Rc::new(load(&run, &svc, &pod, cmp, range, lab.full))));
        lab.mark_drawn();
    });
    let shown = RwSignal::new_local(None::<Rc<Shown>>);
    crate::ui::effect(move |_| {
        let Some(l) = loaded.get() else { return };
        let path = zoom.get();
        let graph = match l.graph.find(&path) {
            Some(i) if i > 0 => l.graph.zoom(i),
            _ => l.graph.clone(),
        };
        let pattern = search.get();
        let result = graph.search(&pattern);
        let functions = graph.functions().into_iter().take(TOP_FUNCTIONS).collect();
        current.set(graph.focus);
        hover.set(None);
        shown.set(Some(Rc::new(Shown { graph, searching: !pattern.trim().is_empty(), search: result, functions })));
    });

    let service_options = services
        .iter()
        .map(|s| {
            let (v, sel) = (s.clone(), s.clone());
            view! { <option value=v selected=move || service.get() == sel>{s.clone()}</option> }
        })
        .collect_view();
    let replica_options = move || {
        let run = lab.run();
        let svc = service.get();
        let pods: Vec<String> = run.telemetry.resources.iter().filter(|r| *r.service_name == *svc).map(|r| r.pod.to_string()).collect();
        pods.into_iter()
            .map(|p| {
                let sel = p.clone();
                view! { <option value=p.clone() selected=move || replica.get() == sel>{p.clone()}</option> }
            })
            .collect_view()
    };
    let compare_options = Compare::ALL
        .into_iter()
        .map(|c| view! { <option value=c.as_str() selected=move || compare.get() == c>{c.title()}</option> })
        .collect_view();

    view! {
        <section class="profiles" aria-labelledby="profiles-title">
            <h2 id="profiles-title" class="visually-hidden">"Profiles"</h2>
            <p class="notice notice--error" role="alert" data-testid="profile-route-error" hidden=move || sel.error.with(Option::is_none)>
                {move || sel.error.get().map(|e| e.message + " The default selection is shown.").unwrap_or_default()}
            </p>
            {(!has_profiles).then(|| view! {
                <p class="notice" role="status">"This run has no CPU profiles: the scenario turns profiling off."</p>
            })}
            <div class="profiles__controls">
                <label>"service "
                    <select data-testid="profile-service" on:change=move |ev| {
                        sel.error.set(None);
                        service.set(event_target_value(&ev));
                        replica.set(String::new());
                        zoom.set(Vec::new());
                    }>
                        <option value="" selected=move || service.get().is_empty()>"all services"</option>
                        {service_options}
                    </select>
                </label>
                <label>"replica "
                    <select data-testid="profile-replica" on:change=move |ev| {
                        sel.error.set(None);
                        replica.set(event_target_value(&ev));
                    }>
                        <option value="" selected=move || replica.get().is_empty()>"all replicas"</option>
                        {replica_options}
                    </select>
                </label>
                <label>"compare with "
                    <select data-testid="profile-compare" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        compare.set(Compare::ALL.into_iter().find(|c| c.as_str() == v).unwrap_or(Compare::Off));
                    }>{compare_options}</select>
                </label>
                <label class="profiles__search">"search "
                    <input
                        type="search"
                        data-testid="profile-search"
                        placeholder="function name"
                        spellcheck="false"
                        prop:value=move || search.get()
                        on:input=move |ev| search.set(event_target_value(&ev))
                    />
                </label>
            </div>
            {move || loaded.get().map(|l| view! { <Summary l/> })}
            {move || shown.get().map(|s| view! { <Graph shown=s zoom current hover refocus/> })}
        </section>
    }
}

/// Reads the profile of service `svc` (every service when empty) and
/// replica `pod` (every replica when empty) over `range` (Unix ms) from the store, with the comparison window if asked for.
fn load(run: &crate::sim::Run, svc: &str, pod: &str, cmp: Compare, range: (i64, i64), full: (i64, i64)) -> Loaded {
    let t0 = perf::now();
    let tel = &run.telemetry;
    // The store keys buckets by simulated µs; a bucket counts when it starts in the window.
    let us = |ms: i64| (ms - tel.start_unix_ms).saturating_mul(1000);
    // All services: each service's stacks under a frame named after it, as
    // in the folded export, so runtimes' shared root frames do not merge.
    let services: Vec<&str> = if svc.is_empty() {
        crate::sort::sorted_unique(tel.resources.iter().map(|r| &*r.service_name))
    } else {
        vec![svc]
    };
    let folded = |(from, to): (i64, i64)| -> Vec<(String, u64)> {
        let mut out = Vec::new();
        for name in &services {
            let keep: Vec<bool> = tel.resources.iter().map(|r| *r.service_name == **name && (pod.is_empty() || *r.pod == *pod)).collect();
            let keep = |r: crate::telemetry::resource::ResourceId| keep.get(r.0 as usize).copied().unwrap_or(false);
            for (stack, n) in tel.profiles.folded(us(from), us(to), keep) {
                out.push((if svc.is_empty() { format!("{name};{stack}") } else { stack.to_string() }, n));
            }
        }
        out
    };
    let (from, to) = range;
    let len = to - from;
    let base_window = match cmp {
        Compare::Off => Err(None),
        Compare::Previous if from - len >= full.0 => Ok((from - len, from)),
        Compare::Previous if from > full.0 => Ok((full.0, from)),
        Compare::Previous => Err(Some("The window starts with the run, so there is no window before it to compare with.".to_string())),
        Compare::RunStart if from >= full.0 + len => Ok((full.0, full.0 + len)),
        Compare::RunStart => Err(Some("The window overlaps the start of the run: narrow it or move it later to compare with the run's first minutes.".to_string())),
    };
    let now = folded(range);
    let samples: u64 = now.iter().map(|(_, n)| n).sum();
    let (graph, base, note) = match base_window {
        Ok(w) => {
            let before = folded(w);
            let n: u64 = before.iter().map(|(_, n)| n).sum();
            let note = (n == 0).then(|| "The compared window has no samples: every frame shows as new.".to_string());
            (FlameGraph::diff(before.iter().map(|(k, v)| (k.as_str(), *v)), now.iter().map(|(k, v)| (k.as_str(), *v))), Some((w, n)), note)
        }
        Err(note) => (FlameGraph::from_folded(now.iter().map(|(k, v)| (k.as_str(), *v))), None, note),
    };
    Loaded { graph, window: range, base, samples, note, laid_out_ms: perf::now() - t0 }
}

/// `12.3 s of CPU` for a sample count.
fn cpu(samples: u64) -> String {
    crate::charts::Unit::Seconds.format(samples as f64 * SAMPLE_PERIOD_US as f64 / 1e6)
}

fn window_text((from, to): (i64, i64)) -> String {
    format!("{}–{} UTC", timefmt::clock(from), timefmt::clock(to))
}

#[component]
fn Summary(l: Rc<Loaded>) -> impl IntoView {
    let mut text = format!("{} samples ({} of CPU at 100 Hz) in {}", fmt_count(l.samples), cpu(l.samples), window_text(l.window));
    if let Some((w, n)) = l.base {
        text.push_str(&format!(", compared with {} samples in {}", fmt_count(n), window_text(w)));
    }
    text.push_str(&format!(" · {} frames · laid out in {:.0} ms", l.graph.nodes.len().saturating_sub(1), l.laid_out_ms));
    let diff_legend = l.base.is_some().then(|| {
        view! {
            <ul class="legend flame__legend" aria-label="Colours of the comparison">
                <li><span class="flame__key flame__frame--grew-much" aria-hidden="true"></span>"grew 50%+"</li>
                <li><span class="flame__key flame__frame--grew" aria-hidden="true"></span>"grew 10–50%"</li>
                <li><span class="flame__key flame__frame--same" aria-hidden="true"></span>"within ±10%"</li>
                <li><span class="flame__key flame__frame--shrank" aria-hidden="true"></span>"shrank 10–50%"</li>
                <li><span class="flame__key flame__frame--shrank-much" aria-hidden="true"></span>"shrank 50%+"</li>
                <li><span class="flame__key flame__frame--new" aria-hidden="true"></span>"new"</li>
                <li><span class="flame__key flame__frame--gone" aria-hidden="true"></span>"gone"</li>
                <li>"Labels carry the change of each frame's share of its window's samples; widths are the mean of both shares."</li>
            </ul>
        }
    });
    view! {
        <p class="result__stats" data-testid="profile-stats">{text}</p>
        {l.note.clone().map(|n| view! { <p class="notice" role="status">{n}</p> })}
        {diff_legend}
    }
}

#[component]
fn Graph(shown: Rc<Shown>, zoom: RwSignal<Vec<String>>, current: RwSignal<usize>, hover: RwSignal<Option<usize>>, refocus: RwSignal<bool>) -> impl IntoView {
    let g = &shown.graph;
    let focus_id = format!("flame-frame-{}", g.focus);
    crate::ui::effect(move |_| {
        if refocus.get_untracked() {
            refocus.set(false);
            focus(&focus_id);
        }
    });
    if g.is_empty() {
        return view! {
            <p class="notice" role="status" data-testid="profile-empty">
                "No CPU samples for this selection in this window. Profiles are kept in 10-second buckets: widen the range or pick another replica."
            </p>
        }
        .into_any();
    }
    let searching = shown.searching;
    let search_text = searching.then(|| {
        if shown.search.frames == 0 {
            "No frame matches the search.".to_string()
        } else {
            format!(
                "{} matching frame{} · {} of the samples shown",
                shown.search.frames,
                if shown.search.frames == 1 { "" } else { "s" },
                percent(shown.search.share)
            )
        }
    });

    // Breadcrumb: the zoom path, each step a button back to it.
    let path: Vec<String> = g.path(g.focus).into_iter().map(str::to_string).collect();
    let crumbs = (0..=path.len())
        .map(|k| {
            let target: Vec<String> = path[..k].to_vec();
            let name = if k == 0 { ROOT.to_string() } else { path[k - 1].clone() };
            let last = k == path.len();
            view! {
                <li>
                    <button type="button" class="link-button" aria-current=last.then_some("true") disabled=last on:click=move |_| zoom.set(target.clone())>{name}</button>
                </li>
            }
        })
        .collect_view();

    let stored = StoredValue::new_local(shown.clone());
    let visible = g.visible(MIN_WIDTH);
    let hidden = g.nodes.len() - visible.len();
    let frames = visible
        .iter()
        .map(|&i| {
            let n = &g.nodes[i];
            let matched = shown.search.matched.get(i).copied().unwrap_or(false);
            let dim = searching && shown.search.frames > 0 && !matched;
            let ancestor = i < g.focus;
            let colour = match n.diff {
                Some(d) => format!("flame__frame--{}", d.class().as_str()),
                None => format!("flame__frame--c{}", palette_index(&n.name)),
            };
            let label = match n.diff {
                Some(d) => format!("{} ({})", n.name, d.label()),
                None => n.name.clone(),
            };
            let aria = describe(&shown.graph, n);
            let to_path: Vec<String> = g.path(i).into_iter().map(str::to_string).collect();
            view! {
                <button
                    type="button"
                    id=format!("flame-frame-{i}")
                    class=format!("flame__frame {colour}")
                    class:flame__frame--match=matched
                    class:flame__frame--dim=dim
                    class:flame__frame--ancestor=ancestor
                    data-testid="flame-frame"
                    data-match=matched.then_some("true")
                    style:left=format!("{:.4}%", n.x * 100.0)
                    style:width=format!("{:.4}%", n.width * 100.0)
                    style:top=format!("{}px", n.depth as f64 * ROW_PX)
                    tabindex=move || if current.get() == i { "0" } else { "-1" }
                    aria-label=aria
                    on:click=move |ev: leptos::ev::MouseEvent| {
                        // A click from Enter or Space has no pointer position history: detail is 0.
                        refocus.set(ev.detail() == 0);
                        zoom.set(to_path.clone());
                    }
                    on:mouseenter=move |_| hover.set(Some(i))
                    on:mouseleave=move |_| hover.set(None)
                    on:focus=move |_| {
                        current.set(i);
                        hover.set(Some(i));
                    }
                    on:blur=move |_| hover.set(None)
                >
                    <span class="flame__label">{label}</span>
                </button>
            }
        })
        .collect_view();
    let visible_set: Rc<Vec<bool>> = Rc::new({
        let mut v = vec![false; g.nodes.len()];
        for &i in &visible {
            v[i] = true;
        }
        v
    });
    let vis = StoredValue::new_local(visible_set);
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let s = stored.get_value();
        let g = &s.graph;
        let at = current.get_untracked();
        let next = match ev.key().as_str() {
            "ArrowUp" => g.parent(at),
            "ArrowDown" => g.first_child(at),
            "ArrowLeft" => g.prev_sibling(at),
            "ArrowRight" => g.next_sibling(at),
            "Home" => Some(0),
            "Escape" => {
                let mut p = zoom.get_untracked();
                if p.pop().is_some() {
                    ev.prevent_default();
                    refocus.set(true);
                    zoom.set(p);
                }
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        if let Some(n) = next.filter(|&n| vis.get_value().get(n).copied().unwrap_or(false)) {
            current.set(n);
            focus(&format!("flame-frame-{n}"));
        }
    };
    let height = (g.max_depth as f64 + 1.0) * ROW_PX;
    let tooltip = move || {
        let i = hover.get()?;
        let s = stored.get_value();
        let n = s.graph.nodes.get(i)?;
        let centre = n.x + n.width / 2.0;
        let top = format!("{}px", (n.depth as f64 + 1.0) * ROW_PX + 4.0);
        let lines = tooltip_lines(&s.graph, n);
        let body = view! {
            <p class="tooltip__title">{n.name.clone()}</p>
            <ul>{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
        };
        Some(if centre < 0.5 {
            view! { <div class="tooltip flame__tooltip" data-testid="flame-tooltip" style:left=format!("{:.3}%", (centre * 100.0).max(0.0)) style:top=top>{body}</div> }.into_any()
        } else {
            view! { <div class="tooltip flame__tooltip" data-testid="flame-tooltip" style:right=format!("{:.3}%", ((1.0 - centre) * 100.0).max(0.0)) style:top=top>{body}</div> }.into_any()
        })
    };
    let live = move || {
        let s = stored.get_value();
        let i = hover.get().unwrap_or(current.get());
        s.graph.nodes.get(i).map(|n| describe(&s.graph, n)).unwrap_or_default()
    };

    view! {
        <nav aria-label="Zoom" class="flame__crumbs">
            <ol>{crumbs}</ol>
            {if path.is_empty() {
                view! { <span class="result__stats">"Click a frame to zoom into it."</span> }.into_any()
            } else {
                view! { <button type="button" class="button button--small" data-testid="flame-reset" on:click=move |_| zoom.set(Vec::new())>"Reset zoom"</button> }.into_any()
            }}
        </nav>
        {search_text.map(|t| view! { <p class="result__stats" role="status" data-testid="profile-search-stats">{t}</p> })}
        <div
            class="flame"
            role="group"
            aria-label="Flame graph: callers above callees, width is the share of samples. Arrow keys move between frames, Enter zooms, Escape zooms out."
            data-testid="flame"
            style:height=format!("{height}px")
            on:keydown=on_key
        >
            {frames}
            {tooltip}
        </div>
        <p class="flame__live" aria-live="polite">{live}</p>
        {(hidden > 0).then(|| view! { <p class="result__stats">{format!("{hidden} frame{} narrower than {:.2}% of the width {} not drawn; the table counts {}.", if hidden == 1 { "" } else { "s" }, MIN_WIDTH * 100.0, if hidden == 1 { "is" } else { "are" }, if hidden == 1 { "it" } else { "them" })}</p> })}
        <Functions shown=shown.clone()/>
    }
    .into_any()
}

/// One sentence about a frame, for its label and the live region.
fn describe(g: &FlameGraph, n: &FlameNode) -> String {
    let share = percent(n.total_samples as f64 / g.total.max(1) as f64);
    match n.diff {
        Some(d) => format!(
            "{}: {} of samples before, {} now ({}), self {} → {}",
            n.name,
            percent(d.base_share),
            percent(d.comparison_share),
            d.label(),
            fmt_count(d.base_self),
            fmt_count(d.comparison_self)
        ),
        None => format!("{}: {} samples ({share}), self {}", n.name, fmt_count(n.total_samples), fmt_count(n.self_samples)),
    }
}

fn tooltip_lines(g: &FlameGraph, n: &FlameNode) -> Vec<String> {
    match n.diff {
        Some(d) => vec![
            format!("before: {} samples, {} of its window", fmt_count(d.base_samples), percent(d.base_share)),
            format!("now: {} samples, {} of its window", fmt_count(d.comparison_samples), percent(d.comparison_share)),
            format!("change of share: {}", d.label()),
            format!("self: {} → {} samples", fmt_count(d.base_self), fmt_count(d.comparison_self)),
        ],
        None => {
            let focus_total = g.nodes.get(g.focus).map_or(0, |f| f.total_samples).max(1);
            let mut v = vec![
                format!("{} samples ({}), {}", fmt_count(n.total_samples), cpu(n.total_samples), percent(n.total_samples as f64 / g.total.max(1) as f64)),
                format!("self: {} samples, {}", fmt_count(n.self_samples), percent(n.self_samples as f64 / g.total.max(1) as f64)),
            ];
            if g.focus > 0 {
                v.push(format!("{} of the zoomed frame", percent(n.total_samples as f64 / focus_total as f64)));
            }
            v
        }
    }
}

#[component]
fn Functions(shown: Rc<Shown>) -> impl IntoView {
    let g = &shown.graph;
    let total = g.nodes.get(g.focus).map_or(0, |f| f.total_samples).max(1) as f64;
    let diff = g.nodes.first().and_then(|r| r.diff);
    let head = if diff.is_some() {
        view! { <tr><th scope="col">"function"</th><th scope="col">"self before"</th><th scope="col">"self now"</th><th scope="col">"change"</th><th scope="col">"total (both windows)"</th></tr> }.into_any()
    } else {
        view! { <tr><th scope="col">"function"</th><th scope="col">"self"</th><th scope="col">"self %"</th><th scope="col">"total"</th><th scope="col">"total %"</th></tr> }.into_any()
    };
    let rows = shown
        .functions
        .iter()
        .map(|f| match (f.diff_self, diff) {
            (Some((b, c)), Some(root)) => {
                let bs = b as f64 / root.base_samples.max(1) as f64;
                let cs = c as f64 / root.comparison_samples.max(1) as f64;
                let change = match (b, c) {
                    (0, 0) => "—".to_string(),
                    (0, _) => "new".to_string(),
                    (_, 0) => "gone".to_string(),
                    _ => signed_percent(cs / bs - 1.0),
                };
                view! {
                    <tr>
                        <td><code>{f.name.clone()}</code></td>
                        <td class="num">{format!("{} ({})", fmt_count(b), percent(bs))}</td>
                        <td class="num">{format!("{} ({})", fmt_count(c), percent(cs))}</td>
                        <td class="num">{change}</td>
                        <td class="num">{fmt_count(f.total_samples)}</td>
                    </tr>
                }
                .into_any()
            }
            _ => view! {
                <tr>
                    <td><code>{f.name.clone()}</code></td>
                    <td class="num">{fmt_count(f.self_samples)}</td>
                    <td class="num">{percent(f.self_samples as f64 / total)}</td>
                    <td class="num">{fmt_count(f.total_samples)}</td>
                    <td class="num">{percent(f.total_samples as f64 / total)}</td>
                </tr>
            }
            .into_any(),
        })
        .collect_view();
    view! {
        <h3 class="profiles__table-title" id="profile-functions-title">"Top functions by self time"</h3>
        <div class="table-scroll">
            <table class="table table--wide" data-testid="profile-functions" aria-labelledby="profile-functions-title">
                <thead>{head}</thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// `12.3%`, `0.42%`, `100%`.
fn percent(f: f64) -> String {
    let p = f * 100.0;
    if p >= 99.95 || p == 0.0 {
        format!("{p:.0}%")
    } else if p >= 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.2}%")
    }
}

/// `1,234,567`
fn fmt_count(n: u64) -> String {
    crate::ui::pages::scenario::fmt_int(n)
}

fn focus(id: &str) {
    crate::ui::pages::scenario::focus(id)
}
