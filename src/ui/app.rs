//! The app shell: a header (with the theme switch), and the page the URL fragment names. The
//! fragment is read on load and on every `hashchange`; a fragment that
//! names no page shows why instead of a page.

use crate::ui::pages::home::HomePage;
use crate::ui::pages::scenario::ScenarioPage;
use crate::ui::route::{self, Route, View};
use crate::ui::saved::Saved;
use crate::ui::theme::{Theme, ThemeSwitch};
use leptos::ev;
use leptos::prelude::*;

fn current_fragment() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

#[component]
pub fn App() -> impl IntoView {
    // Saved progress: read once, before any page shows it.
    let saved = Saved::load();
    provide_context(saved);
    provide_context(Theme::load());
    let fragment = RwSignal::new(current_fragment());
    let handle = window_event_listener(ev::hashchange, move |_| fragment.set(current_fragment()));
    on_cleanup(move || handle.remove());
    let route = Memo::new(move |_| route::parse(&fragment.get()));
    // The page to show, without the scenario's view: changing the tab or
    // the query in the address must not simulate the scenario again.
    let page = Memo::new(move |_| {
        route.get().map(|r| match r {
            Route::Scenario { id, seed, .. } => Route::scenario(id, seed),
            r => r,
        })
    });
    let view = Memo::new(move |_| match route.get() {
        Ok(Route::Scenario { view, .. }) => view,
        _ => View::default(),
    });

    crate::ui::effect(move |_| {
        let scenario = matches!(page.get(), Ok(Route::Scenario { .. }));
        if let (false, Some(d)) = (scenario, web_sys::window().and_then(|w| w.document())) {
            d.set_title("obslab — observability lab");
        }
        // A new page starts at its top.
        if let Some(w) = web_sys::window() {
            w.scroll_to_with_x_and_y(0.0, 0.0);
        }
    });

    view! {
        <a class="skip" href="#main" on:click=|ev| {
            // The fragment is the router's: move focus without navigating.
            ev.prevent_default();
            if let Some(m) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("main")) {
                use wasm_bindgen::JsCast;
                if let Some(m) = m.dyn_ref::<web_sys::HtmlElement>() {
                    let _ = m.focus();
                }
            }
        }>"Skip to content"</a>
        <header class="topbar">
            <a class="topbar__brand" href="#/">"obslab"</a>
            <span class="topbar__tagline">"an observability lab that runs in your browser"</span>
            <ThemeSwitch/>
        </header>
        <main id="main" class="page" tabindex="-1">
            {move || saved.notice.get().map(|n| view! {
                <div class="notice notice--error saved-notice" role="alert" data-testid="progress-notice">
                    <p>{n}</p>
                    <button type="button" class="button button--small" on:click=move |_| saved.notice.set(None)>"Dismiss"</button>
                </div>
            })}
            {move || match page.get() {
                Ok(Route::Home) => view! { <HomePage/> }.into_any(),
                Ok(Route::Scenario { id, seed, .. }) => view! { <ScenarioPage id seed view/> }.into_any(),
                Ok(Route::Crash) => panic!("the crash view was requested with #/debug/panic"),
                Err(e) => view! {
                    <section class="panel">
                        <h1>"Page not found"</h1>
                        <p class="notice notice--error" role="alert" data-testid="route-error">{e.message}</p>
                        <p><a href="#/">"See all scenarios"</a></p>
                    </section>
                }
                .into_any(),
            }}
        </main>
    }
}
