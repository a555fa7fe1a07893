//! What a scenario page's tools share: the finished run, the one time
//! range and clock every tool reads (with the live replay that moves it),
//! the open tab, each tab's query, the open trace, the Profiles tab's
//! selection, and the answer a tool last offered to the questions panel
//! ("Use this trace"). [`Lab`] is `Copy` and lives in context; its
//! [`Lab::view`] is what the address bar shows, so a reload or a shared
//! link restores it.
//!
//! The live replay: the run is simulated in advance, and a "now" cursor
//! moves through it at a chosen speed; the range ends at now, so nothing
//! after it is shown, and every tool re-queries as the range moves. The
//! UI's timer calls [`Lab::tick`] with the wall time that passed; the
//! core never reads a clock.

use crate::grading::question::{Kind, Language, Question, Source};
use crate::sim::Run;
use crate::ui::perf;
use crate::ui::route::{Compare, Live, ProfileView, RouteError, Tab, View, SPEEDS};
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
    /// The live replay's "now" (Unix ms); `None` when not replaying.
    pub now: RwSignal<Option<i64>>,
    /// Whether now moves.
    pub playing: RwSignal<bool>,
    /// Simulated seconds per wall-clock second (one of [`SPEEDS`]).
    pub speed: RwSignal<u32>,
    /// Said when the replay stopped by itself (it reached the run's end).
    pub live_note: RwSignal<Option<String>>,
    /// The length of the window that follows now.
    span: StoredValue<i64>,
    pub profile: ProfileSel,
    ready: StoredValue<bool>,
}

/// The Profiles tab's selection, kept here so it survives a change of tab
/// and goes into the address.
#[derive(Clone, Copy)]
pub struct ProfileSel {
    /// Empty: every service.
    pub service: RwSignal<String>,
    /// Empty: every replica.
    pub replica: RwSignal<String>,
    pub compare: RwSignal<Compare>,
    pub search: RwSignal<String>,
    /// The zoomed frame's path from the root.
    pub zoom: RwSignal<Vec<String>>,
    /// Why the selection in the address was not used.
    pub error: RwSignal<Option<RouteError>>,
    /// The service shown by default: the run's entry service.
    entry: StoredValue<String>,
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

/// The window a replay started on the whole run follows (at most a
/// quarter of the run).
const REPLAY_SPAN_MS: i64 = 15 * 60_000;

impl Lab {
    pub fn new(run: Run, view: &View) -> Lab {
        let from = run.telemetry.start_unix_ms;
        let full = (from, from + run.model.duration.micros() / 1000);
        let entry = run.model.services.get(run.model.entry_service).map(|s| s.name.clone()).unwrap_or_default();
        let profile = ProfileSel {
            service: RwSignal::new(entry.clone()),
            replica: RwSignal::new(String::new()),
            compare: RwSignal::new(Compare::Off),
            search: RwSignal::new(String::new()),
            zoom: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            entry: StoredValue::new(entry.clone()),
        };
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
            now: RwSignal::new(None),
            playing: RwSignal::new(false),
            speed: RwSignal::new(SPEEDS[2]),
            live_note: RwSignal::new(None),
            span: StoredValue::new(0),
            profile,
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
            live: self.now.get().map(|now| Live { playing: self.playing.get(), now, speed: self.speed.get() }),
            profile: (tab == Tab::Profiles).then(|| self.profile.view()),
        }
    }

    /// Shows `view` (from the address bar).
    pub fn apply(&self, view: &View) {
        self.tab.set(view.tab);
        if let (Some(q), Some(sig)) = (&view.query, self.query(view.tab)) {
            sig.set(q.clone());
        }
        let (lo, hi) = self.full;
        match view.live {
            Some(l) => {
                // A replay's window is at least the shortest range long.
                self.now.set(Some(l.now.clamp((lo + MIN_RANGE_MS).min(hi), hi)));
                self.speed.set(l.speed);
                self.playing.set(l.playing && l.now < hi);
            }
            None => {
                self.now.set(None);
                self.playing.set(false);
            }
        }
        self.live_note.set(None);
        let range = view.range.unwrap_or(self.full);
        self.span.set_value(range.1 - range.0);
        self.put_range(range);
        self.trace.set(view.trace.clone());
        let run = self.run();
        self.profile.apply(view.profile.as_ref(), run.telemetry.resources.iter().map(|r| (&*r.service_name, &*r.pod)));
    }

    /// The end of what may be shown: now while replaying, else the run's end.
    pub fn end(&self) -> i64 {
        self.now.get_untracked().unwrap_or(self.full.1)
    }

    /// Sets the shared range (a zoom, a step earlier or later), clamped
    /// to the run (to now while replaying) and at least [`MIN_RANGE_MS`]
    /// long. A range that leaves now behind pauses the replay.
    pub fn set_range(&self, range: (i64, i64)) {
        let shown = self.put_range(range);
        if self.playing.get_untracked() && shown.1 != self.end() {
            self.playing.set(false);
        }
        self.span.set_value(shown.1 - shown.0);
    }

    /// The last `len` ms before the end (now while replaying, which keeps
    /// following it).
    pub fn show_last(&self, len: i64) {
        let end = self.end();
        self.span.set_value(len);
        self.put_range((end - len, end));
    }

    fn put_range(&self, (from, to): (i64, i64)) -> (i64, i64) {
        let (lo, hi) = (self.full.0, self.end());
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
        (from, to)
    }

    /// Starts or resumes the replay. A replay that is not on starts at the
    /// end of the shown window, or at the run's start when the window ends
    /// with the run; one that reached the end starts again.
    pub fn play(&self) {
        let (lo, hi) = self.full;
        let (from, to) = self.range.get_untracked();
        self.live_note.set(None);
        let now = match self.now.get_untracked() {
            Some(now) if now < hi => now,
            _ => {
                let mut len = to - from;
                if len >= hi - lo {
                    len = REPLAY_SPAN_MS.min((hi - lo) / 4).max(MIN_RANGE_MS);
                }
                self.span.set_value(len);
                if to < hi && self.now.get_untracked().is_none() { to } else { (lo + len).min(hi) }
            }
        };
        self.now.set(Some(now));
        self.playing.set(true);
        self.follow(now);
    }

    pub fn pause(&self) {
        self.playing.set(false);
    }

    /// Ends the replay: the whole run can be shown again (the range stays).
    pub fn stop_live(&self) {
        self.playing.set(false);
        self.now.set(None);
        self.live_note.set(None);
    }

    /// Moves now by `wall_ms` of wall time at the replay's speed; at the
    /// run's end the replay pauses with a note.
    pub fn tick(&self, wall_ms: f64) {
        let (Some(now), true) = (self.now.get_untracked(), self.playing.get_untracked()) else { return };
        let hi = self.full.1;
        let next = (now + (wall_ms * self.speed.get_untracked() as f64) as i64).min(hi);
        if next == hi {
            self.playing.set(false);
            self.live_note.set(Some(format!(
                "The replay reached the end of the simulated data ({} UTC) and paused. Press Play to replay it from the start.",
                crate::charts::timefmt::clock(hi)
            )));
        }
        self.now.set(Some(next));
        self.follow(next);
    }

    /// The window of the replay's length ending at `now`.
    fn follow(&self, now: i64) {
        let len = self.span.get_value().max(MIN_RANGE_MS);
        self.put_range((now - len, now));
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

impl ProfileSel {
    /// The selection as the address writes it (the entry service with
    /// every replica is the default, left out).
    pub fn view(&self) -> ProfileView {
        let service = self.service.get();
        let replica = self.replica.get();
        let default = replica.is_empty() && self.entry.with_value(|e| *e == service);
        ProfileView {
            service: (!default).then_some(service),
            replica,
            compare: self.compare.get(),
            search: self.search.get(),
            zoom: self.zoom.get(),
        }
    }

    /// Shows `p` (from the address), checked against the run's
    /// `(service, pod)` pairs; a selection the run cannot show leaves the
    /// default and says why.
    fn apply<'a>(&self, p: Option<&ProfileView>, resources: impl Iterator<Item = (&'a str, &'a str)> + Clone) {
        let default = ProfileView::default();
        let p = p.unwrap_or(&default);
        let checked = p.check(resources);
        let (service, replica) = match (&checked, &p.service) {
            (Ok(()), Some(s)) => (s.clone(), p.replica.clone()),
            _ => (self.entry.get_value(), String::new()),
        };
        self.error.set(checked.err());
        set_if_changed(self.service, service);
        set_if_changed(self.replica, replica);
        set_if_changed(self.compare, p.compare);
        set_if_changed(self.search, p.search.clone());
        set_if_changed(self.zoom, p.zoom.clone());
    }
}

/// Sets `sig` only when the value differs, so effects reading it do not
/// run again for nothing (loading a profile takes a while).
fn set_if_changed<T: PartialEq + Send + Sync + 'static>(sig: RwSignal<T>, v: T) {
    if sig.with_untracked(|x| *x != v) {
        sig.set(v);
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
