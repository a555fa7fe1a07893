//! The query editor every tool shares: a labelled monospace box that runs
//! on submit or Shift/Ctrl+Enter, with the tool's own controls beside the
//! run button. The draft is the tool's; running hands it to `on_run`.
//! When a question of the run takes a query in this language, a "Use this
//! query" button hands the draft to the questions panel. Given a `complete`
//! callback it offers completions in a listbox under the box (the ARIA
//! combobox pattern: arrows move, Enter or Tab accepts, Escape closes,
//! Ctrl+Space opens it anywhere).

use crate::grading::question::Language;
use crate::query::promql::complete::{Completion, Context};
use crate::ui::state::{use_lab, Target};
use leptos::prelude::*;

/// The byte offset of a UTF-16 offset (the DOM's selection unit).
fn byte_offset(s: &str, utf16: usize) -> usize {
    let mut n = 0;
    for (i, c) in s.char_indices() {
        if n >= utf16 {
            return i;
        }
        n += c.len_utf16();
    }
    s.len()
}

#[component]
pub fn QueryBox(
    /// `promql`, `logql`, `traceql`: the element ids and test ids derive from it.
    lang: &'static str,
    /// Shown as the box's label.
    label: &'static str,
    draft: RwSignal<String>,
    on_run: Callback<()>,
    #[prop(default = "Run query")] run_label: &'static str,
    /// Completions for the text and cursor (a byte offset).
    #[prop(optional)]
    complete: Option<Callback<(String, usize), Completion>>,
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
    let input = NodeRef::<leptos::html::Textarea>::new();
    let list = RwSignal::new(None::<Completion>);
    let active = RwSignal::new(0usize);
    let list_id = format!("{lang}-suggest");
    let option_id = move |i: usize| format!("{lang}-suggest-{i}");
    // Opens the list when there is something to offer: always when asked
    // (Ctrl+Space), else once a word is begun or inside labels.
    let suggest = move |asked: bool| {
        let (Some(cb), Some(el)) = (complete, input.get_untracked()) else { return };
        let text = el.value();
        let cursor = byte_offset(&text, el.selection_start().ok().flatten().unwrap_or(0) as usize);
        let c = cb.run((text, cursor));
        let open = !c.items.is_empty() && (asked || !c.prefix.is_empty() || matches!(c.context, Context::LabelName { .. } | Context::LabelValue { .. }));
        active.set(0);
        list.set(open.then_some(c));
    };
    let accept = move |i: usize| {
        let Some((range, insert)) = list.with_untracked(|l| l.as_ref().and_then(|c| Some((c.replace.clone(), c.items.get(i)?.insert.clone())))) else { return };
        let text = draft.get_untracked();
        let (Some(head), Some(tail)) = (text.get(..range.start), text.get(range.end..)) else { return };
        let new = format!("{head}{insert}{tail}");
        let at = (head.len() + insert.len()) as u32;
        if let Some(el) = input.get_untracked() {
            el.set_value(&new);
            let at = new[..at as usize].encode_utf16().count() as u32;
            let _ = el.set_selection_range(at, at);
        }
        draft.set(new);
        suggest(false);
    };
    let open = move || list.with(|l| l.is_some());
    let options = move || {
        let active = active.get();
        list.get().map(|c| {
            let items = c
                .items
                .iter()
                .enumerate()
                .map(|(i, it)| {
                    let m = it.matched.clone();
                    let l = &it.label;
                    view! {
                        <li id=option_id(i) role="option" class="suggest__item" aria-selected=(active == i).to_string()
                            on:mousedown=move |ev| { ev.prevent_default(); accept(i); }>
                            <span class="suggest__label">{l[..m.start].to_string()}<mark>{l[m.clone()].to_string()}</mark>{l[m.end..].to_string()}</span>
                            <span class="suggest__kind">{it.kind.as_str()}</span>
                        </li>
                    }
                })
                .collect_view();
            let more = (c.total > c.items.len()).then(|| view! { <li class="suggest__more" role="presentation">{format!("{} more: keep typing", c.total - c.items.len())}</li> });
            view! { <ul id=list_id.clone() class="suggest" role="listbox" aria-label="Suggestions" data-testid=format!("{lang}-suggest")>{items}{more}</ul> }
        })
    };
    view! {
        <form class="query" on:submit=move |ev| { ev.prevent_default(); on_run.run(()); }>
            <label for=id.clone() class="query__label">{label}</label>
            <div class="query__field">
            <textarea
                id=id
                node_ref=input
                class="query__input"
                rows="2"
                spellcheck="false"
                autocomplete="off"
                aria-autocomplete=complete.map(|_| "list")
                aria-controls=move || open().then(|| format!("{lang}-suggest"))
                aria-activedescendant=move || open().then(|| option_id(active.get()))
                data-testid=format!("{lang}-input")
                prop:value=move || draft.get()
                on:input=move |ev| {
                    draft.set(event_target_value(&ev));
                    suggest(false);
                }
                on:blur=move |_| list.set(None)
                on:click=move |_| list.set(None)
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    let key = ev.key();
                    let plain = !(ev.shift_key() || ev.ctrl_key() || ev.meta_key() || ev.alt_key());
                    let n = list.with_untracked(|l| l.as_ref().map_or(0, |c| c.items.len()));
                    if n > 0 {
                        let step = match key.as_str() {
                            "ArrowDown" => Some(1),
                            "ArrowUp" => Some(n - 1),
                            _ => None,
                        };
                        if let Some(step) = step {
                            ev.prevent_default();
                            active.update(|a| *a = (*a + step) % n);
                            return;
                        }
                        if plain && (key == "Enter" || key == "Tab") {
                            ev.prevent_default();
                            accept(active.get_untracked());
                            return;
                        }
                        if key == "Escape" {
                            ev.prevent_default();
                            ev.stop_propagation();
                            list.set(None);
                            return;
                        }
                    }
                    if key == " " && ev.ctrl_key() {
                        ev.prevent_default();
                        suggest(true);
                    } else if key == "Enter" && (ev.shift_key() || ev.ctrl_key() || ev.meta_key()) {
                        ev.prevent_default();
                        list.set(None);
                        on_run.run(());
                    }
                }
            ></textarea>
            {options}
            </div>
            <div class="query__actions">
                <button type="submit" class="button button--primary" data-testid=format!("{lang}-run")>{run_label}</button>
                {offer}
                <span class="query__hint">{if complete.is_some() { "Shift+Enter runs it; Ctrl+Space suggests." } else { "Shift+Enter runs it." }}</span>
                {children.map(|c| c())}
            </div>
        </form>
    }
}
