//! The query editor every tool shares: a labelled monospace box that runs
//! on submit or Shift/Ctrl+Enter, with the tool's own controls beside the
//! run button. The draft is the tool's; running hands it to `on_run`.
//! When a question of the run takes a query in this language, a "Use this
//! query" button hands the draft to the questions panel.

use crate::grading::question::Language;
use crate::ui::state::{use_lab, Target};
use leptos::prelude::*;

#[component]
pub fn QueryBox(
    /// `promql`, `logql`, `traceql`: the element ids and test ids derive from it.
    lang: &'static str,
    /// Shown as the box's label.
    label: &'static str,
    draft: RwSignal<String>,
    on_run: Callback<()>,
    #[prop(default = "Run query")] run_label: &'static str,
    /// Controls after the run button (hints, pickers, toggles).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let id = format!("{lang}-input");
    let language = match lang {
        "promql" => Some(Language::PromQL),
        "logql" => Some(Language::LogQL),
        "traceql" => Some(Language::TraceQL),
        _ => None,
    };
    let lab = use_lab();
    let offer = language.map(Target::Query).filter(|t| lab.takes(*t)).map(|t| {
        view! {
            <button type="button" class="button button--small" data-testid=format!("{lang}-use")
                on:click=move |_| lab.offer(t, draft.get_untracked().trim().to_string())>
                "Use this query as an answer"
            </button>
        }
    });
    view! {
        <form class="query" on:submit=move |ev| { ev.prevent_default(); on_run.run(()); }>
            <label for=id.clone() class="query__label">{label}</label>
            <textarea
                id=id
                class="query__input"
                rows="2"
                spellcheck="false"
                autocomplete="off"
                data-testid=format!("{lang}-input")
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && (ev.shift_key() || ev.ctrl_key() || ev.meta_key()) {
                        ev.prevent_default();
                        on_run.run(());
                    }
                }
            ></textarea>
            <div class="query__actions">
                <button type="submit" class="button button--primary" data-testid=format!("{lang}-run")>{run_label}</button>
                {offer}
                <span class="query__hint">"Shift+Enter runs it."</span>
                {children.map(|c| c())}
            </div>
        </form>
    }
}
