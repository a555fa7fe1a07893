//! Routes live in the URL fragment so the lab works from any static
//! server: `#/` is the catalogue, `#/scenario/<id>?seed=<n>` a scenario run
//! with a seed a facilitator can share. Parsing never panics: anything
//! malformed becomes a [`RouteError`] with a sentence for the learner.

use crate::scenario::BUILTINS;
use std::fmt;

/// The seed a scenario link without `?seed=` runs with.
pub const DEFAULT_SEED: u64 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// The scenario catalogue.
    Home,
    /// One built-in scenario run with a seed.
    Scenario { id: String, seed: u64 },
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

impl Route {
    /// The fragment (with its `#`) that [`parse`] turns back into this route.
    pub fn href(&self) -> String {
        match self {
            Route::Home => "#/".to_string(),
            Route::Scenario { id, seed } => format!("#/scenario/{id}?seed={seed}"),
            Route::Crash => "#/debug/panic".to_string(),
        }
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
            if !BUILTINS.iter().any(|b| b.id == *id) {
                let known: Vec<&str> = BUILTINS.iter().map(|b| b.id).collect();
                return Err(RouteError {
                    message: format!("There is no scenario called “{}”. The built-in scenarios are: {}.", clip(id), known.join(", ")),
                });
            }
            Ok(Route::Scenario { id: id.to_string(), seed: seed(query)? })
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
