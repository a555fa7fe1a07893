//! Routes live in the URL fragment so the lab works from any static
//! server: `#/` is the catalogue, `#/scenario/<id>?seed=<n>` a scenario run
//! with a seed a facilitator can share. The rest of a scenario link is its
//! [`View`]: `tab`, `q` (the tab's query), `from`/`to` (Unix ms),
//! `trace`, the live replay (`live=play|pause`, `now`, `speed`) and the
//! Profiles tab's selection (`profile=service:replica`, `pcmp`, `pq`,
//! `pzoom`), so a shared link opens exactly what its sender saw. Parsing
//! never panics: anything malformed becomes a [`RouteError`] with a
//! sentence for the learner.

use crate::scenario::BUILTINS;
use std::fmt;

/// The seed a scenario link without `?seed=` runs with.
pub const DEFAULT_SEED: u64 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// The scenario catalogue.
    Home,
    /// One built-in scenario run with a seed, showing `view`.
    Scenario { id: String, seed: u64, view: View },
    /// Panics on purpose, so the crash view can be checked end to end.
    Crash,
}

/// Why a URL fragment names no page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteError {
    pub message: String,
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RouteError {}

/// A tool of the scenario page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Tab {
    #[default]
    Dashboards,
    Explore,
    Traces,
    Logs,
    Profiles,
    Map,
}

impl Tab {
    pub const ALL: [Tab; 6] = [Tab::Dashboards, Tab::Explore, Tab::Traces, Tab::Logs, Tab::Profiles, Tab::Map];
    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Dashboards => "dashboards",
            Tab::Explore => "explore",
            Tab::Traces => "traces",
            Tab::Logs => "logs",
            Tab::Profiles => "profiles",
            Tab::Map => "map",
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            Tab::Dashboards => "Dashboards",
            Tab::Explore => "Explore metrics",
            Tab::Traces => "Traces",
            Tab::Logs => "Logs",
            Tab::Profiles => "Profiles",
            Tab::Map => "Service map",
        }
    }
}

/// What a scenario page shows: the part of its link after the seed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    pub tab: Tab,
    /// The query of the tab (PromQL, TraceQL or LogQL).
    pub query: Option<String>,
    /// The time range, Unix ms; absent: the whole run.
    pub range: Option<(i64, i64)>,
    /// The trace open in the waterfall (32 hex digits).
    pub trace: Option<String>,
    /// The live replay, when it is on.
    pub live: Option<Live>,
    /// The Profiles tab's selection (written with `tab=profiles` only).
    pub profile: Option<ProfileView>,
}

/// Replay speeds: simulated seconds per second of wall time.
pub const SPEEDS: [u32; 4] = [1, 10, 60, 600];

/// The live replay: a "now" cursor moving through the simulated run at
/// `speed`; nothing after `now` is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Live {
    pub playing: bool,
    /// Unix ms.
    pub now: i64,
    /// One of [`SPEEDS`].
    pub speed: u32,
}

/// What the Profiles tab compares the shared window with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compare {
    #[default]
    Off,
    /// The window of the same length just before the shared range.
    Previous,
    /// The first window of the same length in the run.
    RunStart,
}

impl Compare {
    pub const ALL: [Compare; 3] = [Compare::Off, Compare::Previous, Compare::RunStart];
    pub fn as_str(self) -> &'static str {
        match self {
            Compare::Off => "off",
            Compare::Previous => "previous",
            Compare::RunStart => "start",
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            Compare::Off => "nothing",
            Compare::Previous => "the window just before",
            Compare::RunStart => "the start of the run",
        }
    }
}

/// The Profiles tab's selection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileView {
    /// The service; empty: every service; `None`: the run's entry service.
    pub service: Option<String>,
    /// The replica (pod); empty: every replica.
    pub replica: String,
    pub compare: Compare,
    pub search: String,
    /// The zoomed frame's path from the root, frame names.
    pub zoom: Vec<String>,
}

impl ProfileView {
    /// Checks the service and replica against a run's resources, given as
    /// `(service, pod)` pairs, so a link from another scenario or a typo
    /// gets a sentence instead of an empty graph.
    pub fn check<'a>(&self, resources: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> Result<(), RouteError> {
        let Some(service) = &self.service else { return Ok(()) };
        if !service.is_empty() && !resources.clone().any(|(s, _)| s == service) {
            let mut names: Vec<&str> = resources.map(|(s, _)| s).collect();
            crate::sort::sort(&mut names);
            names.dedup();
            return Err(RouteError {
                message: format!("The profile in the address names a service “{}” this run does not have. Its services are: {}.", clip(service), names.join(", ")),
            });
        }
        if !self.replica.is_empty() && !resources.clone().any(|(s, p)| s == service && p == self.replica) {
            return Err(RouteError {
                message: format!("The profile in the address names a replica “{}” that the service “{}” does not have.", clip(&self.replica), clip(service)),
            });
        }
        Ok(())
    }
}

impl View {
    /// `&tab=...&q=...` (empty for the default view).
    fn query_string(&self) -> String {
        let mut out = String::new();
        if self.tab != Tab::default() {
            out.push_str("&tab=");
            out.push_str(self.tab.as_str());
        }
        if let Some(q) = self.query.as_deref().filter(|q| !q.is_empty()) {
            out.push_str("&q=");
            out.push_str(&encode_component(q));
        }
        if let Some((from, to)) = self.range {
            out.push_str(&format!("&from={from}&to={to}"));
        }
        if let Some(t) = &self.trace {
            out.push_str("&trace=");
            out.push_str(&encode_component(t));
        }
        if let Some(l) = self.live {
            out.push_str(&format!("&live={}&now={}&speed={}", if l.playing { "play" } else { "pause" }, l.now, l.speed));
        }
        if let Some(p) = self.profile.as_ref().filter(|_| self.tab == Tab::Profiles) {
            if let Some(service) = &p.service {
                out.push_str("&profile=");
                out.push_str(&encode_component(service));
                if !p.replica.is_empty() {
                    out.push(':');
                    out.push_str(&encode_component(&p.replica));
                }
            }
            if p.compare != Compare::Off {
                out.push_str("&pcmp=");
                out.push_str(p.compare.as_str());
            }
            if !p.search.is_empty() {
                out.push_str("&pq=");
                out.push_str(&encode_component(&p.search));
            }
            if !p.zoom.is_empty() {
                out.push_str("&pzoom=");
                out.push_str(&encode_component(&p.zoom.join(";")));
            }
        }
        out
    }
}

impl Route {
    /// The fragment (with its `#`) that [`parse`] turns back into this route.
    pub fn href(&self) -> String {
        match self {
            Route::Home => "#/".to_string(),
            Route::Scenario { id, seed, view } => format!("#/scenario/{id}?seed={seed}{}", view.query_string()),
            Route::Crash => "#/debug/panic".to_string(),
        }
    }
    /// A scenario run with the default view.
    pub fn scenario(id: impl Into<String>, seed: u64) -> Route {
        Route::Scenario { id: id.into(), seed, view: View::default() }
    }
}

/// Parses a URL fragment such as `#/scenario/intermittent-p99?seed=7`.
pub fn parse(fragment: &str) -> Result<Route, RouteError> {
    let raw = fragment.strip_prefix('#').unwrap_or(fragment);
    let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] => Ok(Route::Home),
        ["scenario", id] => {
            if !BUILTINS.iter().any(|b| b.id == *id) && *id != crate::scenario::drill::ID && *id != crate::ui::custom::ID {
                let mut known: Vec<&str> = BUILTINS.iter().map(|b| b.id).collect();
                known.push(crate::scenario::drill::ID);
                return Err(RouteError {
                    message: format!("There is no scenario called “{}”. The built-in scenarios are: {}.", clip(id), known.join(", ")),
                });
            }
            Ok(Route::Scenario { id: id.to_string(), seed: seed(query)?, view: view(query)? })
        }
        ["debug", "panic"] => Ok(Route::Crash),
        _ => Err(RouteError { message: format!("The address “#{}” does not match any page of the lab.", clip(raw)) }),
    }
}

/// The `seed` parameter of a query string; [`DEFAULT_SEED`] when absent.
fn seed(query: &str) -> Result<u64, RouteError> {
    let mut found = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "seed" {
            found = Some(v);
        }
    }
    let Some(v) = found else { return Ok(DEFAULT_SEED) };
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RouteError {
            message: format!("The seed in the address, “{}”, is not a whole number. Use digits only, for example ?seed=7.", clip(v)),
        });
    }
    v.parse::<u64>().map_err(|_| RouteError {
        message: format!("The seed in the address, “{}”, is too large: the largest seed is {}.", clip(v), u64::MAX),
    })
}

/// The view parameters of a query string; unknown parameters are ignored
/// (a link from a newer version still opens).
fn view(query: &str) -> Result<View, RouteError> {
    let mut v = View::default();
    let (mut from, mut to) = (None, None);
    let (mut live, mut now, mut speed) = (None, None, None);
    let mut profile: Option<ProfileView> = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, raw) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "tab" => {
                v.tab = Tab::ALL.into_iter().find(|t| t.as_str() == raw).ok_or_else(|| RouteError {
                    message: format!(
                        "The tab in the address, “{}”, is not one of the lab's tools: {}.",
                        clip(raw),
                        Tab::ALL.map(|t| t.as_str()).join(", ")
                    ),
                })?
            }
            "q" => v.query = Some(decode_component(raw)?),
            "trace" => v.trace = Some(decode_component(raw)?),
            "from" => from = Some(millis("from", raw)?),
            "to" => to = Some(millis("to", raw)?),
            "live" => {
                live = Some(match raw {
                    "play" => true,
                    "pause" => false,
                    _ => return Err(RouteError { message: format!("“live” in the address, “{}”, is neither “play” nor “pause”.", clip(raw)) }),
                })
            }
            "now" => now = Some(millis("now", raw)?),
            "speed" => {
                let s = raw.strip_suffix('x').unwrap_or(raw);
                speed = Some(SPEEDS.into_iter().find(|n| n.to_string() == s).ok_or_else(|| RouteError {
                    message: format!(
                        "The replay speed in the address, “{}”, is not one the lab offers: {}.",
                        clip(raw),
                        SPEEDS.map(|n| n.to_string()).join(", ")
                    ),
                })?)
            }
            "profile" => {
                let (svc, pod) = raw.split_once(':').unwrap_or((raw, ""));
                let p = profile.get_or_insert_with(ProfileView::default);
                let service = decode_component(svc)?;
                p.replica = decode_component(pod)?;
                if service.is_empty() && !p.replica.is_empty() {
                    return Err(RouteError { message: "The profile in the address names a replica but no service: write profile=service:replica.".into() });
                }
                p.service = Some(service);
            }
            "pcmp" => {
                profile.get_or_insert_with(ProfileView::default).compare = Compare::ALL.into_iter().find(|c| c.as_str() == raw).ok_or_else(|| RouteError {
                    message: format!(
                        "The profile comparison in the address, “{}”, is not one of: {}.",
                        clip(raw),
                        Compare::ALL.map(|c| c.as_str()).join(", ")
                    ),
                })?
            }
            "pq" => {
                profile.get_or_insert_with(ProfileView::default).search = decode_component(raw)?
            }
            "pzoom" => {
                let path = decode_component(raw)?;
                profile.get_or_insert_with(ProfileView::default).zoom = path.split(';').filter(|f| !f.is_empty()).map(str::to_string).collect();
            }
            _ => {}
        }
    }
    v.profile = profile;
    v.live = match (live, now) {
        (None, None) if speed.is_none() => None,
        (Some(playing), Some(now)) => Some(Live { playing, now, speed: speed.unwrap_or(SPEEDS[0]) }),
        (Some(_), None) => return Err(RouteError { message: "The live replay in the address needs “now”, the replay's moment in Unix milliseconds.".into() }),
        _ => return Err(RouteError { message: "“now” and “speed” in the address belong to the live replay: add live=play or live=pause.".into() }),
    };
    v.range = match (from, to) {
        (None, None) => None,
        (Some(f), Some(t)) if f < t => Some((f, t)),
        (Some(_), Some(_)) => return Err(RouteError { message: "The time range in the address ends before it starts: “from” must be earlier than “to”.".into() }),
        _ => return Err(RouteError { message: "The time range in the address needs both “from” and “to” (Unix milliseconds).".into() }),
    };
    Ok(v)
}

fn millis(name: &str, raw: &str) -> Result<i64, RouteError> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RouteError { message: format!("“{name}” in the address, “{}”, is not a time in Unix milliseconds.", clip(raw)) });
    }
    raw.parse::<i64>().map_err(|_| RouteError { message: format!("“{name}” in the address, “{}”, is out of range.", clip(raw)) })
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (and `+` as a space, as forms write it).
pub fn decode_component(s: &str) -> Result<String, RouteError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(b) = hex else {
                    return Err(RouteError { message: format!("The address has a broken escape at character {}: “%” must be followed by two hex digits.", i + 1) });
                };
                out.push(b);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| RouteError { message: "The address has escapes that do not spell UTF-8 text.".into() })
}

/// Keeps quoted user input short enough to read.
fn clip(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}
