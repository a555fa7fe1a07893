//! A scenario run: the briefing, then the simulation in time slices that
//! yield to the browser (the progress bar moves, the page never freezes),
//! then the workspace: the shared time range and the tools in tabs, kept
//! in step with the address bar. The briefing and the questions share a
//! side panel beside the tools (PRODUCT.md's scenario screen), which stays
//! in view while the tools scroll.

use crate::charts::timefmt;
use crate::scenario::{self, Model};
use crate::sim::time::SimDuration;
use crate::sim::{RunStats, Simulation};
use crate::ui::components::questions::{points, QuestionsPanel};
use crate::ui::components::time_bar::TimeBar;
use crate::ui::perf;
use crate::ui::route::{Route, Tab, View};
use crate::ui::saved::use_saved;
use crate::ui::state::{Lab, Side, SideTab};
use crate::ui::tabs::dashboards::DashboardsTab;
use crate::ui::tabs::explore::ExploreTab;
use crate::ui::tabs::logs::LogsTab;
use crate::ui::tabs::map::MapTab;
use crate::ui::tabs::profiles::ProfilesTab;
use crate::ui::tabs::traces::TracesTab;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Wall-clock budget of one slice of simulation before yielding: under
/// the 50 ms at which browsers count a task as long (input would wait),
/// and long enough that yielding costs little of the throughput.
const SLICE_MS: f64 = 40.0;

#[component]
pub fn ScenarioPage(id: String, seed: u64, view: Memo<View>) -> impl IntoView {
    // A drill is generated from its seed; the others are built-in files.
    let loaded = if id == crate::ui::custom::ID {
        crate::ui::custom::load()
    } else if id == scenario::drill::ID {
        scenario::drill::model(seed).map_err(|e| e.to_string())
    } else {
        scenario::load_builtin(&id).map_err(|e| e.to_string())
    };
    match loaded {
        Ok(model) => view! { <ScenarioRun model seed view/> }.into_any(),
        Err(e) => view! {
            <p class="notice notice--error" role="alert">{format!("The scenario “{id}” does not load: {e}")}</p>
        }
        .into_any(),
    }
}

/// What a finished run shows.
struct Finished {
    stats: RunStats,
    series: usize,
    samples: u64,
    log_records: usize,
    /// Filled in after the chart is drawn: hashing a month of samples takes a while.
    digest: RwSignal<Option<String>>,
    simulated_ms: f64,
    lab: Lab,
}

#[derive(Clone)]
enum Phase {
    Running,
    Done(Rc<Finished>),
}

#[component]
fn ScenarioRun(model: Model, seed: u64, view: Memo<View>) -> impl IntoView {
    let progress = RwSignal::new(0.0_f64);
    let phase = RwSignal::new_local(Phase::Running);
    let cancelled = Arc::new(AtomicBool::new(false));
    on_cleanup({
        let c = cancelled.clone();
        move || c.store(true, Ordering::Relaxed)
    });
    // The run's state belongs to this page, so leaving it frees the run.
    let owner = Owner::current().unwrap_or_default();
    spawn_local(simulate(model.clone(), seed, view, owner, progress, phase, cancelled));

    let title = model.title.clone();
    crate::ui::effect(move |_| {
        if let Some(d) = web_sys::window().and_then(|w| w.document()) {
            d.set_title(&format!("{title} · seed {seed} · obslab"));
        }
    });

    let duration_ms = model.duration.micros() / 1000;
    let window_text = format!(
        "{} of simulated time from {}, one scrape every {}.",
        timefmt::span(duration_ms),
        start_label(model.start_unix_ms),
        timefmt::span(model.scrape_interval.micros() / 1000)
    );
    let next = Route::scenario(model.id.clone(), seed.wrapping_add(1)).href();
    let paragraphs = model
        .briefing
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .map(|p| view! { <p>{emphasis(&p)}</p> })
        .collect_view();
    let id = model.id.clone();
    let qid = model.id.clone();
    let is_drill = model.id == scenario::drill::ID;

    // The questions come first when this run already has saved answers.
    let answered = use_saved().progress.with_untracked(|p| p.run(&model.id, seed).is_some_and(|r| !r.answers.is_empty()));
    let side = Side {
        tab: RwSignal::new(if answered { SideTab::Questions } else { SideTab::Briefing }),
        open: RwSignal::new(true),
        score: RwSignal::new(None),
    };
    provide_context(side);
    let side_tab = move |t: SideTab| {
        let (id, panel) = side_ids(t);
        let selected = move || side.tab.get() == t;
        let label = match t {
            SideTab::Briefing => view! { "Briefing" }.into_any(),
            SideTab::Questions => view! {
                "Questions"
                <span class="side__score" data-testid="score">
                    {move || side.score.get().map(|(s, m)| format!("{} / {}", points(s), points(m)))}
                </span>
            }
            .into_any(),
        };
        view! {
            <button
                type="button"
                role="tab"
                id=id
                class="tabs__tab side__tab"
                aria-selected=move || selected().to_string()
                aria-controls=panel
                tabindex=move || if selected() { "0" } else { "-1" }
                on:click=move |_| side.tab.set(t)
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    let next = match ev.key().as_str() {
                        "ArrowRight" | "ArrowLeft" => Some(if t == SideTab::Briefing { SideTab::Questions } else { SideTab::Briefing }),
                        "Home" => Some(SideTab::Briefing),
                        "End" => Some(SideTab::Questions),
                        _ => None,
                    };
                    if let Some(next) = next {
                        ev.prevent_default();
                        side.tab.set(next);
                        focus(side_ids(next).0);
                    }
                }
            >
                {label}
            </button>
        }
    };

    view! {
        <article class="scenario">
            <header class="scenario__head">
                <p class="crumbs"><a href="#/">"← All scenarios"</a></p>
                <h1>{model.title.clone()} <span class="scenario__subtitle">{model.subtitle.clone()}</span></h1>
                <p class="scenario__meta">
                    <span class="badge">{model.level.clone()}</span>
                    <span>{format!("about {} min", model.minutes)}</span>
                    <span class="seed">"seed " <strong data-testid="seed">{seed}</strong></span>
                    <a href=next>{if is_drill { format!("Next drill ({})", seed.wrapping_add(1)) } else { format!("Try seed {}", seed.wrapping_add(1)) }}</a>
                    {is_drill.then(|| view! { <DrillClock phase/> })}
                </p>
            </header>
            <div class="scenario__body" class:scenario__body--closed=move || !side.open.get()>
                <aside class="side" aria-label="Briefing and questions" data-testid="side">
                    <div class="side__head">
                        <div class="side__tabs" role="tablist" aria-label="Briefing and questions">
                            {side_tab(SideTab::Briefing)}
                            {side_tab(SideTab::Questions)}
                        </div>
                        <button
                            type="button"
                            class="button button--small side__toggle"
                            aria-expanded=move || side.open.get().to_string()
                            aria-controls="side-body"
                            data-testid="side-toggle"
                            title=move || side.open.get().then_some("Hide the briefing and questions")
                            on:click=move |_| side.open.update(|o| *o = !*o)
                        >
                            {move || if side.open.get() {
                                view! { <span aria-hidden="true">"«"</span><span class="visually-hidden">"Hide the briefing and questions"</span> }.into_any()
                            } else {
                                view! { "Show the briefing and questions" }.into_any()
                            }}
                        </button>
                    </div>
                    <div id="side-body" class="side__body" hidden=move || !side.open.get()>
                        <section id="side-briefing" class="briefing" role="tabpanel" aria-labelledby="side-tab-briefing" hidden=move || side.tab.get() != SideTab::Briefing>
                            <h2 id="briefing-title" class="visually-hidden">"Briefing"</h2>
                            {paragraphs}
                        </section>
                        <section id="side-questions" role="tabpanel" aria-labelledby="side-tab-questions" hidden=move || side.tab.get() != SideTab::Questions>
                            {move || match phase.get() {
                                Phase::Running => view! { <p class="side__wait">"The questions appear when the simulation is done."</p> }.into_any(),
                                Phase::Done(f) => view! { <QuestionsPanel lab=f.lab scenario=qid.clone() seed/> }.into_any(),
                            }}
                        </section>
                    </div>
                </aside>
                <div class="scenario__main">
                    <section class="panel run" aria-labelledby="run-title">
                        <h2 id="run-title">"Simulation"</h2>
                        <p class="run__window">{window_text}</p>
                        {move || match phase.get() {
                            Phase::Running => {
                                view! { <Progress progress duration_ms/> }.into_any()
                            }
                            Phase::Done(f) => view! { <RunResult f/> }.into_any(),
                        }}
                    </section>
                    {move || match phase.get() {
                        Phase::Running => None,
                        Phase::Done(f) => Some(view! { <Workspace lab=f.lab id=id.clone() seed view/> }),
                    }}
                </div>
            </div>
        </article>
    }
}

/// The element ids of a side tab and of its panel.
fn side_ids(t: SideTab) -> (&'static str, &'static str) {
    match t {
        SideTab::Briefing => ("side-tab-briefing", "side-briefing"),
        SideTab::Questions => ("side-tab-questions", "side-questions"),
    }
}

#[component]
fn Progress(progress: RwSignal<f64>, duration_ms: i64) -> impl IntoView {
    let label = move || {
        let p = progress.get();
        if p >= 1.0 {
            "Simulated; computing the charts…".to_string()
        } else {
            format!(
                "Simulating… {} of {} ({:.0}%)",
                timefmt::span((p * duration_ms as f64) as i64),
                timefmt::span(duration_ms),
                p * 100.0
            )
        }
    };
    view! {
        <div class="progress">
            <progress
                id="sim-progress"
                max="1"
                prop:value=move || progress.get()
                aria-valuetext=label
                aria-labelledby="sim-progress-label"
            ></progress>
            <p id="sim-progress-label" class="progress__label">{label}</p>
        </div>
    }
}

/// The tools of a finished run in tabs (the ARIA tabs pattern: arrow keys
/// move between tabs), over the shared time range.
#[component]
fn Workspace(lab: Lab, id: String, seed: u64, view: Memo<View>) -> impl IntoView {
    provide_context(lab);
    // The address bar follows the view: replaceState fires no hashchange,
    // so this never loops back into `view`.
    crate::ui::effect(move |_| {
        let href = Route::Scenario { id: id.clone(), seed, view: lab.view() }.href();
        let Some(w) = web_sys::window() else { return };
        if w.location().hash().ok().as_deref() != Some(href.as_str()) {
            if let Ok(h) = w.history() {
                let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&href));
            }
        }
    });
    // ...and an address typed or pasted in (a hashchange) sets the view.
    crate::ui::effect(move |prev: Option<()>| {
        let v = view.get();
        if prev.is_some() {
            lab.apply(&v);
        }
    });

    let tabs = Tab::ALL
        .into_iter()
        .map(|t| {
            let selected = move || lab.tab.get() == t;
            view! {
                <button
                    type="button"
                    role="tab"
                    id=format!("tab-{}", t.as_str())
                    class="tabs__tab"
                    aria-selected=move || selected().to_string()
                    aria-controls="tabpanel"
                    tabindex=move || if selected() { "0" } else { "-1" }
                    on:click=move |_| lab.tab.set(t)
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        let i = Tab::ALL.iter().position(|x| *x == t).unwrap_or(0);
                        let n = Tab::ALL.len();
                        let next = match ev.key().as_str() {
                            "ArrowRight" => Some(Tab::ALL[(i + 1) % n]),
                            "ArrowLeft" => Some(Tab::ALL[(i + n - 1) % n]),
                            "Home" => Some(Tab::ALL[0]),
                            "End" => Some(Tab::ALL[n - 1]),
                            _ => None,
                        };
                        if let Some(next) = next {
                            ev.prevent_default();
                            lab.tab.set(next);
                            focus(&format!("tab-{}", next.as_str()));
                        }
                    }
                >
                    {t.title()}
                </button>
            }
        })
        .collect_view();
    view! {
        <section class="workspace" aria-label="Investigation tools">
            <TimeBar/>
            <div class="tabs" role="tablist" aria-label="Tools">{tabs}</div>
            <div id="tabpanel" class="tabpanel" role="tabpanel" aria-labelledby=move || format!("tab-{}", lab.tab.get().as_str())>
                {move || match lab.tab.get() {
                    Tab::Dashboards => view! { <DashboardsTab/> }.into_any(),
                    Tab::Explore => view! { <ExploreTab/> }.into_any(),
                    Tab::Traces => view! { <TracesTab/> }.into_any(),
                    Tab::Logs => view! { <LogsTab/> }.into_any(),
                    Tab::Map => view! { <MapTab/> }.into_any(),
                    Tab::Profiles => view! { <ProfilesTab/> }.into_any(),
                }}
            </div>
        </section>
    }
}

/// Moves keyboard focus to the element with `id`, if there is one.
pub(crate) fn focus(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id)) {
        if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
    }
}

#[component]
fn RunResult(f: Rc<Finished>) -> impl IntoView {
    let s = &f.stats;
    let rows: Vec<(&str, String)> = vec![
        ("requests", fmt_int(s.requests)),
        ("completed", fmt_int(s.completed)),
        ("spans kept", fmt_int(s.spans_kept)),
        ("spans dropped by sampling", fmt_int(s.spans_dropped)),
        ("traces kept", fmt_int(s.traces_kept)),
        ("series", fmt_int(f.series as u64)),
        ("samples", fmt_int(f.samples)),
        ("log records", fmt_int(f.log_records as u64)),
    ];
    let rows = rows
        .into_iter()
        .map(|(k, v)| {
            view! {
                <div class="stats__item">
                    <dt>{k}</dt>
                    <dd>{v}</dd>
                </div>
            }
        })
        .collect_view();
    let took = format!("Simulated in {:.1} s in your browser.", f.simulated_ms / 1000.0);
    let digest = f.digest;
    view! {
        <dl class="stats" data-testid="stats">{rows}</dl>
        <p class="run__digest">
            <span role="status">{took}</span>
            " Telemetry digest "
            {move || match digest.get() {
                Some(d) => view! { <code data-testid="digest">{d}</code> }.into_any(),
                None => view! { <span>"(computing…)"</span> }.into_any(),
            }}
        </p>
    }
}

/// Runs the simulation in slices of about [`SLICE_MS`], yielding to the
/// browser between them, then computes what the page shows. Stops quietly
/// when the page is left (`cancelled`).
async fn simulate(model: Model, seed: u64, view: Memo<View>, owner: Owner, progress: RwSignal<f64>, phase: RwSignal<Phase, LocalStorage>, cancelled: Arc<AtomicBool>) {
    let t0 = perf::now();
    perf::mark(perf::SIM_START);
    let mut sim = Simulation::new(&model, seed, None);
    // One scrape interval per step keeps a step well under a slice.
    let step = SimDuration::from_micros(model.scrape_interval.micros().max(1_000_000));
    loop {
        let slice = perf::now();
        let mut done = sim.is_done();
        while !done && perf::now() - slice < SLICE_MS {
            done = sim.advance(step);
        }
        if cancelled.load(Ordering::Relaxed) {
            return;
        }
        progress.set(if done { 1.0 } else { sim.progress() });
        perf::yield_now().await;
        if cancelled.load(Ordering::Relaxed) {
            return;
        }
        if done {
            break;
        }
    }
    perf::mark(perf::SIM_END);
    let run = sim.finish();
    let tel = &run.telemetry;
    let digest = RwSignal::new(None);
    let (stats, series, samples, log_records) = (run.stats.clone(), tel.series.len(), tel.series.sample_count(), tel.logs.len());
    let lab = owner.with(|| Lab::new(run, &view.get_untracked()));
    let finished = Finished { stats, series, samples, log_records, digest, simulated_ms: perf::now() - t0, lab };
    perf::mark(perf::SIMULATED);
    if cancelled.load(Ordering::Relaxed) {
        return;
    }
    phase.set(Phase::Done(Rc::new(finished)));
    // Let the first charts draw first: they are drawn in the next frame,
    // once the browser has laid them out.
    perf::after_paint().await;
    if !cancelled.load(Ordering::Relaxed) {
        digest.set(Some(lab.run().telemetry.digest()));
    }
}

/// A briefing paragraph as text nodes, with Markdown's `*emphasis*` as
/// `<em>`. Nothing in it is ever parsed as HTML; unpaired asterisks stay
/// as they are.
fn emphasis(p: &str) -> impl IntoView + use<> {
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len().is_multiple_of(2) {
        return view! { {p.to_string()} }.into_any();
    }
    parts
        .into_iter()
        .enumerate()
        .filter(|(_, t)| !t.is_empty())
        .map(|(i, t)| if i % 2 == 1 { view! { <em>{t.to_string()}</em> }.into_any() } else { view! { {t.to_string()} }.into_any() })
        .collect_view()
        .into_any()
}

/// `1,234,567`
pub(crate) fn fmt_int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `2026-03-02 09:00 UTC`
fn start_label(ms: i64) -> String {
    let (y, mo, d, h, mi) = timefmt::civil(ms);
    format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02} UTC")
}

/// The drill's clock: time since the telemetry was ready, to the second.
#[component]
fn DrillClock(phase: RwSignal<Phase, LocalStorage>) -> impl IntoView {
    let elapsed = RwSignal::new(0u64);
    let started = RwSignal::new(None::<f64>);
    let now = || js_sys::Date::now();
    // The clock starts when the run is done (the telemetry is ready).
    crate::ui::effect(move |_| {
        if matches!(phase.get(), Phase::Done(_)) && started.get_untracked().is_none() {
            started.set(Some(now()));
        }
    });
    let handle = set_interval_with_handle(
        move || {
            if let Some(t0) = started.get_untracked() {
                elapsed.set(((now() - t0) / 1000.0) as u64);
            }
        },
        std::time::Duration::from_millis(500),
    )
    .ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });
    view! {
        <span class="drill-clock" data-testid="drill-clock" role="timer" aria-live="off">
            "clock "
            <strong>{move || format!("{:02}:{:02}", elapsed.get() / 60, elapsed.get() % 60)}</strong>
            <span class="visually-hidden">" since the telemetry was ready"</span>
        </span>
    }
}
