//! Performance marks the end-to-end tests read (`obslab:interactive`,
//! `obslab:sim-start`, `obslab:sim-end`, `obslab:simulated`,
//! `obslab:ready`, `obslab:panels`) and a monotonic clock for time-slicing. Both degrade to no-ops where `performance` is missing.

/// The app is mounted and answers input.
pub const INTERACTIVE: &str = "obslab:interactive";
/// A scenario's simulation starts its first slice.
pub const SIM_START: &str = "obslab:sim-start";
/// Its last slice is done (telemetry not yet finished and summarised).
pub const SIM_END: &str = "obslab:sim-end";
/// A scenario's simulation has finished and its chart data is computed.
pub const SIMULATED: &str = "obslab:simulated";
/// A scenario is simulated and its first chart (on the dashboards, its
/// first row of panels) drawn.
pub const READY: &str = "obslab:ready";
/// Every panel of a dashboard has its data, the first time.
pub const PANELS: &str = "obslab:panels";

fn performance() -> Option<web_sys::Performance> {
    web_sys::window()?.performance()
}

pub fn mark(name: &str) {
    if let Some(p) = performance() {
        let _ = p.mark(name);
    }
}

/// Milliseconds since the page's time origin.
pub fn now() -> f64 {
    performance().map(|p| p.now()).unwrap_or(0.0)
}

/// Lets the browser handle input and paint, then resumes as soon as it
/// has: a message to ourselves through a `MessageChannel`, which, unlike
/// a `setTimeout(0)` nested in timeouts, is not clamped to 4 ms. A
/// simulation that yields every slice loses a few ms per slice less.
pub async fn yield_now() {
    let Ok(channel) = web_sys::MessageChannel::new() else {
        gloo_timers::future::TimeoutFuture::new(0).await;
        return;
    };
    let port = channel.port1();
    let resumed = js_sys::Promise::new(&mut |resolve, _| port.set_onmessage(Some(&resolve)));
    if channel.port2().post_message(&wasm_bindgen::JsValue::NULL).is_err() {
        port.set_onmessage(None);
        gloo_timers::future::TimeoutFuture::new(0).await;
        return;
    }
    let _ = wasm_bindgen_futures::JsFuture::from(resumed).await;
    port.set_onmessage(None);
}

/// Resumes after the browser's next paint: in the task after the next
/// animation frame (whose paint follows its callbacks).
pub async fn after_paint() {
    if let Some(w) = web_sys::window() {
        let frame = js_sys::Promise::new(&mut |resolve, _| {
            if w.request_animation_frame(&resolve).is_err() {
                let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(frame).await;
    }
    yield_now().await;
}
