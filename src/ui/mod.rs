//! The browser app: a Leptos (client-side rendered) shell over the core.
//! [`mount`] installs the crash view, mounts [`app::App`] and marks
//! `obslab:interactive`. Pages hold their state in signals and call the
//! core; nothing here computes telemetry.

mod app;
mod components;
mod crash;
mod custom;
mod pages;
pub mod perf;
pub mod route;
mod saved;
mod state;
mod tabs;
mod theme;

pub use components::canvas::MeasuringCanvas;

/// Starts the app in the page's `<body>`.
pub fn mount() {
    crash::install();
    leptos::mount::mount_to_body(app::App);
    if let Some(boot) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("boot")) {
        boot.remove();
    }
    perf::mark(perf::INTERACTIVE);
}

/// `Effect::new(f)` for every effect of the app through a single
/// instantiation: Leptos's effect machinery (a spawned task that waits for
/// changes) is generic over the closure, so each effect otherwise carried
/// its own copy of it. The closure gets the previous run's `()` or `None`,
/// as with `Effect::new`.
pub(crate) fn effect(f: impl FnMut(Option<()>) + 'static) {
    effect_dyn(Box::new(f));
}

#[inline(never)]
fn effect_dyn(f: Box<dyn FnMut(Option<()>)>) {
    leptos::prelude::Effect::new(f);
}
