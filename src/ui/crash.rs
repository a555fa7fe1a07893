//! The crash view. A panic in wasm aborts the module, so nothing reactive
//! can run afterwards: the panic hook logs the panic to the console and
//! builds a plain DOM dialog saying what happened, with a reload button
//! and a link back to the catalogue. The page never ends blank.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Installs the panic hook; call once before mounting.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let message = match info.payload().downcast_ref::<&str>() {
            Some(s) => s.to_string(),
            None => info.payload().downcast_ref::<String>().cloned().unwrap_or_else(|| "unknown error".to_string()),
        };
        let place = info.location().map(|l| format!(" ({}:{})", l.file(), l.line())).unwrap_or_default();
        // Nothing may panic in here: every step is fallible and ignored.
        let _ = show(&format!("{message}{place}"));
    }));
}

fn show(detail: &str) -> Option<()> {
    let window = web_sys::window()?;
    let document = window.document()?;
    let body = document.body()?;
    if document.get_element_by_id("crash").is_some() {
        return Some(());
    }
    let el = |tag: &str, class: &str, text: &str| -> Option<web_sys::Element> {
        let e = document.create_element(tag).ok()?;
        if !class.is_empty() {
            e.set_class_name(class);
        }
        if !text.is_empty() {
            e.set_text_content(Some(text));
        }
        Some(e)
    };
    let dialog = el("div", "crash", "")?;
    dialog.set_id("crash");
    dialog.set_attribute("role", "alertdialog").ok()?;
    dialog.set_attribute("aria-labelledby", "crash-title").ok()?;
    dialog.set_attribute("aria-describedby", "crash-text").ok()?;
    let title = el("h2", "crash__title", "Something went wrong")?;
    title.set_id("crash-title");
    let text = el(
        "p",
        "crash__text",
        "The lab hit an internal error and stopped. The address still holds the scenario and the seed, \
         so reloading starts again from the same place. If it happens again, please report the details below.",
    )?;
    text.set_id("crash-text");
    let details = el("pre", "crash__detail", detail)?;
    let actions = el("p", "crash__actions", "")?;
    let reload = el("button", "button button--primary", "Reload")?;
    reload.set_attribute("type", "button").ok()?;
    let on_click = Closure::<dyn FnMut()>::new(move || {
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    });
    reload.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref()).ok()?;
    on_click.forget();
    let home = el("a", "button", "Back to the scenarios")?;
    // A different document URL, so following it loads the app afresh.
    home.set_attribute("href", &window.location().pathname().unwrap_or_else(|_| "/".into())).ok()?;
    actions.append_child(&reload).ok()?;
    actions.append_child(&home).ok()?;
    for child in [&title, &text, &details, &actions] {
        dialog.append_child(child).ok()?;
    }
    body.class_list().add_1("crashed").ok()?;
    body.append_child(&dialog).ok()?;
    reload.dyn_ref::<web_sys::HtmlElement>()?.focus().ok()?;
    Some(())
}
