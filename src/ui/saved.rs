//! The learner's saved progress in localStorage (the format is
//! `grading::progress`; this is only the storage glue). Loaded once when
//! the app starts: an entry this version cannot read is moved to a backup
//! key and reported in a notice, never dropped; no other key is touched.
//! Each save reads the stored value again and replaces only its own run,
//! so two tabs on different scenarios do not undo each other.

use crate::grading::progress::{self, Progress, RunProgress, STORAGE_KEY};
use leptos::prelude::*;
use web_sys::Storage;

#[derive(Clone, Copy)]
pub struct Saved {
    pub progress: RwSignal<Progress>,
    /// A sentence about saved progress the learner should read (shown under the top bar).
    pub notice: RwSignal<Option<String>>,
    /// False when the stored value could not be set aside: saving would overwrite it.
    writable: StoredValue<bool>,
}

fn storage() -> Option<Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Reads the stored progress; an unreadable value is moved aside.
/// Returns what to show and, if something was wrong, why.
fn read(s: &Storage) -> (Progress, Option<String>, bool) {
    let Ok(Some(raw)) = s.get_item(STORAGE_KEY) else { return (Progress::default(), None, true) };
    match progress::parse(&raw) {
        Ok(p) => (p, None, true),
        Err(e) => {
            let backup = progress::backup_key(|k| s.get_item(k).ok().flatten().is_some());
            if s.set_item(&backup, &raw).is_ok() && s.remove_item(STORAGE_KEY).is_ok() {
                let msg = format!("Your saved progress could not be read ({e}). It was kept under “{backup}” in this browser's storage and the lab starts afresh.");
                (Progress::default(), Some(msg), true)
            } else {
                let msg = format!("Your saved progress could not be read ({e}) and could not be set aside, so the lab will not save over it in this tab.");
                (Progress::default(), Some(msg), false)
            }
        }
    }
}

impl Saved {
    /// Loads the stored progress (call once, when the app starts).
    pub fn load() -> Saved {
        let (p, notice, writable) = match storage() {
            Some(s) => read(&s),
            None => (Progress::default(), Some("This browser does not let the lab use its storage: your answers will not be saved. Export them before you leave.".to_string()), false),
        };
        Saved { progress: RwSignal::new(p), notice: RwSignal::new(notice), writable: StoredValue::new(writable) }
    }

    /// Saves `run`'s answers (replacing its scenario and seed).
    pub fn save_run(&self, run: RunProgress) {
        self.progress.update(|p| p.put(run.clone()));
        if !self.writable.get_value() {
            return;
        }
        let Some(s) = storage() else { return };
        // Another tab may have saved since: start from what is stored now.
        let (mut stored, notice, writable) = read(&s);
        if notice.is_some() {
            self.notice.set(notice);
        }
        if !writable {
            self.writable.set_value(false);
            return;
        }
        stored.put(run);
        if s.set_item(STORAGE_KEY, &progress::to_json(&stored)).is_err() {
            self.notice.set(Some("Your answers could not be saved: the browser's storage is full or blocked. Export them to keep them.".to_string()));
        }
        self.progress.set(stored);
    }
}

pub fn use_saved() -> Saved {
    expect_context::<Saved>()
}
