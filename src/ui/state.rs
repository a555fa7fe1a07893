//! What a scenario page's tools share: the finished run, the one time
//! range and clock every tool reads, the open tab, each tab's query and
//! the open trace, and the answer a tool last offered to the questions
//! panel ("Use this trace"). [`Lab`] is `Copy` and lives in context; its
//! [`Lab::view`] is what the address bar shows, so a reload or a shared
//! link restores it.

use crate::grading::question::{Kind, Language, Question, Source};
use crate::sim::Run;
use crate::ui::perf;
use crate::ui::route::{Tab, View};
use leptos::prelude::*;
use std::rc::Rc;

#[derive(Clone, Copy)]
pub struct Lab {
    run: StoredValue<Rc<Run>, LocalStorage>,
    /// The whole simulated window, Unix ms.
    pub full: (i64, i64),
    /// The range every tool shows.
    pub range: RwSignal<(i64, i64)>,
    pub tab: RwSignal<Tab>,
    pub promql: RwSignal<String>,
    pub logql: RwSignal<String>,
    pub traceql: RwSignal<String>,
    /// The trace open in the waterfall (32 hex digits).
    pub trace: RwSignal<Option<String>>,
    /// An answer a tool hands to the questions panel, which takes it (and
    /// sets this back to `None`).
    pub offer: RwSignal<Option<Offer>>,
    ready: StoredValue<bool>,
}

/// An answer offered by a tool: a trace (or `trace/span`) for an evidence
/// question, or a query for a query question in its language.
#[derive(Clone, Debug, PartialEq)]
pub struct Offer {
    pub target: Target,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Evidence,
    Query(Language),
}

impl Target {
    /// Whether `q` takes answers of this kind.
    pub fn accepts(self, q: &Question) -> bool {
        match self {
            Target::Evidence => q.kind == Kind::Evidence,
            Target::Query(l) => q.kind == Kind::Query && matches!(&q.source, Source::Reference { language, .. } if *language == l),
        }
    }
}

/// The shortest range a zoom may reach.
pub const MIN_RANGE_MS: i64 = 30_000;

impl Lab {
    pub fn new(run: Run, view: &View) -> Lab {
        let from = run.telemetry.start_unix_ms;
        let full = (from, from + run.model.duration.micros() / 1000);
        let entry = run.model.services.get(run.model.entry_service).map(|s| s.name.clone()).unwrap_or_default();
        let lab = Lab {
            run: StoredValue::new_local(Rc::new(run)),
            full,
            range: RwSignal::new(full),
            tab: RwSignal::new(view.tab),
            promql: RwSignal::new(format!(
                "histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket{{service=\"{entry}\"}}[1m])))"
            )),
            logql: RwSignal::new(format!("{{service=\"{entry}\"}}")),
            traceql: RwSignal::new(format!("{{ resource.service.name = \"{entry}\" }}")),
            trace: RwSignal::new(None),
            offer: RwSignal::new(None),
            ready: StoredValue::new(false),
        };
        lab.apply(view);
        lab
    }

    /// The run (simulated telemetry, model and ground truth).
    pub fn run(&self) -> Rc<Run> {
        self.run.get_value()
    }

    /// The query signal of a tab, if the tab has one.
    pub fn query(&self, tab: Tab) -> Option<RwSignal<String>> {
        match tab {
            Tab::Explore => Some(self.promql),
            Tab::Traces => Some(self.traceql),
            Tab::Logs => Some(self.logql),
            Tab::Dashboards | Tab::Map | Tab::Profiles => None,
        }
    }

    /// The view the address bar should show (tracks every signal it reads).
    pub fn view(&self) -> View {
        let tab = self.tab.get();
        let range = self.range.get();
        View {
            tab,
            query: self.query(tab).map(|q| q.get()),
            range: (range != self.full).then_some(range),
            trace: self.trace.get(),
        }
    }

    /// Shows `view` (from the address bar).
    pub fn apply(&self, view: &View) {
        self.tab.set(view.tab);
        if let (Some(q), Some(sig)) = (&view.query, self.query(view.tab)) {
            sig.set(q.clone());
        }
        self.set_range(view.range.unwrap_or(self.full));
        self.trace.set(view.trace.clone());
    }

    /// Sets the shared range, clamped to the run and at least
    /// [`MIN_RANGE_MS`] long.
    pub fn set_range(&self, (from, to): (i64, i64)) {
        let (lo, hi) = self.full;
        let mut from = from.clamp(lo, hi);
        let mut to = to.clamp(lo, hi);
        if to - from < MIN_RANGE_MS {
            let mid = (from + to) / 2;
            from = (mid - MIN_RANGE_MS / 2).max(lo);
            to = (from + MIN_RANGE_MS).min(hi);
        }
        if self.range.get_untracked() != (from, to) {
            self.range.set((from, to));
        }
    }


    /// Whether a question of this run takes answers for `target` (tools
    /// show their "Use this ..." button only then).
    pub fn takes(&self, target: Target) -> bool {
        self.run.with_value(|r| r.model.questions.iter().any(|q| target.accepts(q)))
    }

    /// Hands `text` to the questions panel.
    pub fn offer(&self, target: Target, text: String) {
        self.offer.set(Some(Offer { target, text }));
    }

    /// Opens a trace in the Traces tab.
    pub fn open_trace(&self, trace_id: String) {
        self.trace.set(Some(trace_id));
        self.tab.set(Tab::Traces);
    }

    /// Marks `obslab:ready` the first time a chart of this run is drawn.
    pub fn mark_drawn(&self) {
        if !self.ready.get_value() {
            self.ready.set_value(true);
            perf::mark(perf::READY);
        }
    }
}

/// The scenario page's side panel: the briefing and the questions in two
/// tabs, beside the tools; it can be closed to a narrow strip.
#[derive(Clone, Copy)]
pub struct Side {
    pub tab: RwSignal<SideTab>,
    pub open: RwSignal<bool>,
    /// Points scored and the maximum, once the questions are shown.
    pub score: RwSignal<Option<(f64, f64)>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SideTab {
    Briefing,
    Questions,
}

pub fn use_lab() -> Lab {
    expect_context::<Lab>()
}
