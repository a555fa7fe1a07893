//! Your own scenario: a facilitator loads a scenario file in the browser.
//! The file is checked with the same loader as the built-ins and
//! `obslab check`; a bad file gets its line, field and what was expected,
//! and nothing saved is touched. A good file is kept in localStorage under
//! its own key (so a reload, or a shared link on the same machine, reopens
//! it) and runs under the route `#/scenario/custom?seed=N`.

use crate::scenario::{self, Model};
use crate::ui::components::questions::{file_text, picked_file};
use crate::ui::route::{Route, DEFAULT_SEED};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The route id of the loaded file.
pub const ID: &str = "custom";
/// Where the loaded file's source is kept.
const STORAGE_KEY: &str = "obslab.custom-scenario.v1";
/// A scenario file is a few KB; anything this large is not one.
const MAX_BYTES: f64 = 512_000.0;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The loaded scenario, or a sentence saying why there is none.
pub fn load() -> Result<Model, String> {
    let src = storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .ok_or_else(|| "No scenario file is loaded in this browser. Load one from the home page.".to_string())?;
    scenario::load(&src).map_err(|e| format!("The saved scenario file no longer loads: {e}"))
}

/// The home page's "Your own scenario" card.
#[component]
pub fn CustomCard() -> impl IntoView {
    let result = RwSignal::new(None::<Result<String, String>>);
    let on_file = move |ev: leptos::ev::Event| {
        let Some(file) = picked_file(&ev) else { return };
        let name = file.name();
        if file.size() > MAX_BYTES {
            result.set(Some(Err(format!("“{name}” is {:.0} KB; a scenario file is a few KB. Nothing was changed.", file.size() / 1000.0))));
            return;
        }
        spawn_local(async move {
            let Some(text) = file_text(&file).await else {
                result.set(Some(Err(format!("“{name}” could not be read as text. Nothing was changed."))));
                return;
            };
            match scenario::load(&text) {
                Err(e) => result.set(Some(Err(format!("“{name}” does not load: {e}. Nothing was changed.")))),
                Ok(model) => match storage().map(|s| s.set_item(STORAGE_KEY, &text)) {
                    Some(Ok(())) => {
                        result.set(Some(Ok(format!("Loaded “{}” from {name}.", model.title))));
                        let href = Route::scenario(ID, DEFAULT_SEED).href();
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().set_hash(href.trim_start_matches('#'));
                        }
                    }
                    _ => result.set(Some(Err("The browser refused to store the file (storage full or disabled).".into()))),
                },
            }
        });
    };
    view! {
        <li class="card" data-scenario="custom">
            <h2 class="card__title">"Your own scenario"</h2>
            <p class="card__subtitle">"For facilitators: a scenario file of your own"</p>
            <p class="card__drill-note">
                "Write a scenario file (the format is in docs/scenario-format.md, or start from a built-in one) and load it here. "
                "It is checked as "<code>"obslab check"</code>" checks it."
            </p>
            <label class="button button--small">
                "Load a scenario file…"
                <input type="file" accept=".toml,text/plain" class="visually-hidden" data-testid="load-scenario" on:change=on_file/>
            </label>
            {move || result.get().map(|r| match r {
                Ok(m) => view! { <p class="notice" role="status" data-testid="load-result">{m}</p> }.into_any(),
                Err(m) => view! { <p class="notice notice--error" role="alert" data-testid="load-result">{m}</p> }.into_any(),
            })}
        </li>
    }
}
