//! The colour theme: light, dark or the system's, chosen in the top bar
//! and kept in localStorage under [`STORAGE_KEY`]. A choice is applied as
//! `data-theme` on `<html>` (none for the system's: the stylesheet then
//! reads `prefers-color-scheme`, and so does `canvas::dark`). Canvases
//! cannot restyle themselves, so [`Theme::epoch`] changes whenever the
//! colours the page shows change, and every chart redraws on it.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Versioned: a later format gets a new key and this one is ignored.
pub const STORAGE_KEY: &str = "obslab.theme.v1";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Choice {
    #[default]
    System,
    Light,
    Dark,
}

impl Choice {
    pub const ALL: [Choice; 3] = [Choice::Light, Choice::Dark, Choice::System];
    pub fn as_str(self) -> &'static str {
        match self {
            Choice::System => "system",
            Choice::Light => "light",
            Choice::Dark => "dark",
        }
    }
    /// The stored value; anything else (an older or newer format, a
    /// hand edit) reads as `None`.
    pub fn parse(s: &str) -> Option<Choice> {
        Choice::ALL.into_iter().find(|c| c.as_str() == s)
    }
    fn title(self) -> &'static str {
        match self {
            Choice::System => "System",
            Choice::Light => "Light",
            Choice::Dark => "Dark",
        }
    }
}

#[derive(Clone, Copy)]
pub struct Theme {
    pub choice: RwSignal<Choice>,
    /// Changes when the page's colours change: a new choice, or the
    /// system's scheme while the choice is [`Choice::System`].
    pub epoch: RwSignal<u32>,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn set_attribute(c: Choice) {
    let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) else { return };
    let _ = match c {
        Choice::System => root.remove_attribute("data-theme"),
        c => root.set_attribute("data-theme", c.as_str()),
    };
}

impl Theme {
    /// Reads the stored choice and applies it (call once, when the app
    /// starts); follows the system's scheme from then on.
    pub fn load() -> Theme {
        let stored = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
        let choice = stored.as_deref().and_then(Choice::parse).unwrap_or_default();
        set_attribute(choice);
        let theme = Theme { choice: RwSignal::new(choice), epoch: RwSignal::new(0) };
        let media = web_sys::window().and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten());
        if let Some(m) = media {
            let on_change = Closure::<dyn Fn()>::new(move || {
                if theme.choice.get_untracked() == Choice::System {
                    theme.epoch.update(|e| *e += 1);
                }
            });
            let _ = m.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
            // The app lives as long as the page.
            on_change.forget();
        }
        theme
    }

    pub fn choose(&self, c: Choice) {
        if self.choice.get_untracked() == c {
            return;
        }
        set_attribute(c);
        if let Some(s) = storage() {
            // Not saved (storage blocked or full): the choice lasts this visit.
            let _ = if c == Choice::System { s.remove_item(STORAGE_KEY) } else { s.set_item(STORAGE_KEY, c.as_str()) };
        }
        self.choice.set(c);
        self.epoch.update(|e| *e += 1);
    }
}

/// The theme control of the top bar: three toggle buttons.
#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let theme = expect_context::<Theme>();
    let buttons = Choice::ALL
        .into_iter()
        .map(|c| {
            view! {
                <button
                    type="button"
                    class="button button--small"
                    data-theme-choice=c.as_str()
                    aria-pressed=move || (theme.choice.get() == c).to_string()
                    on:click=move |_| theme.choose(c)
                >
                    {c.title()}
                </button>
            }
        })
        .collect_view();
    view! {
        <span class="segmented topbar__theme" role="group" aria-label="Colour theme" data-testid="theme-switch">
            {buttons}
        </span>
    }
}
