//! The catalogue: every built-in scenario, parsed from its file, with what
//! it teaches, a link that runs it with the default seed, and the
//! learner's saved progress on the seeds they played.

use crate::scenario::{self, BUILTINS};
use crate::ui::components::questions::progress_line;
use crate::ui::route::{Route, DEFAULT_SEED};
use crate::ui::custom::CustomCard;
use crate::grading::question::Question;
use crate::ui::saved::{use_saved, Saved};
use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    let saved = use_saved();
    let cards = BUILTINS
        .iter()
        .map(|b| match scenario::load(b.source) {
            Ok(model) => {
                let href = Route::scenario(b.id, DEFAULT_SEED).href();
                let level_class = format!("badge badge--{}", level_modifier(&model.level));
                let questions = model.questions.clone();
                let id = b.id;
                // The seeds played most recently, with their progress.
                let progress = move || played(saved, id, 3, "seed", "Your progress", "card-progress", &questions);
                let teaches = model.teaches.into_iter().map(|t| view! { <li>{t}</li> }).collect_view();
                view! {
                    <li class="card" data-scenario=b.id>
                        <h2 class="card__title">
                            <a class="card__link" href=href>{model.title}</a>
                        </h2>
                        <p class="card__subtitle">{model.subtitle}</p>
                        <p class="card__meta">
                            <span class=level_class>{model.level}</span>
                            <span>{format!("about {} min", model.minutes)}</span>
                        </p>
                        <p class="card__teaches-title">"You will practise"</p>
                        <ul class="card__teaches">{teaches}</ul>
                        {progress}
                    </li>
                }
                .into_any()
            }
            Err(e) => view! {
                <li class="card card--broken" data-scenario=b.id>
                    <h2 class="card__title">{b.id}</h2>
                    <p class="notice notice--error" role="alert">
                        {format!("This scenario file does not load: {e}")}
                    </p>
                </li>
            }
            .into_any(),
        })
        .collect_view();
    view! {
        <section class="intro">
            <h1>"Scenarios"</h1>
            <p>
                "Each scenario simulates a small system in your browser and gives you its metrics, traces and logs to investigate. "
                "The seed in the address decides everything that happens, so sharing the link shares the exact same incident."
            </p>
        </section>
        <ul class="catalogue">{cards}<DrillCard/><CustomCard/></ul>
    }
}

/// Incident drills: a fresh incident per seed, timed, with the learner's
/// score history. The seed of a new drill is drawn here (the page may use
/// randomness; the core never does).
#[component]
fn DrillCard() -> impl IntoView {
    let saved = use_saved();
    let questions = scenario::drill::model(DEFAULT_SEED).map(|m| m.questions).unwrap_or_default();
    let new_seed = RwSignal::new(fresh_seed());
    let href = move || Route::scenario(scenario::drill::ID, new_seed.get()).href();
    let history = move || played(saved, scenario::drill::ID, 10, "drill", "Your drills", "drill-history", &questions);
    view! {
        <li class="card" data-scenario="drill">
            <h2 class="card__title">
                <a class="card__link" href=href data-testid="new-drill" on:click=move |_| new_seed.set(fresh_seed())>"Incident drill"</a>
            </h2>
            <p class="card__subtitle">"A fresh incident every time, against the clock"</p>
            <p class="card__meta">
                <span class="badge badge--other">"drill"</span>
                <span>"about 15 min"</span>
            </p>
            <p class="card__teaches-title">"You will practise"</p>
            <ul class="card__teaches">
                <li>"finding the culprit, the mechanism and the evidence of an unknown incident"</li>
                <li>"interview-style troubleshooting with a timer"</li>
            </ul>
            <p class="card__drill-note">"Each drill has a number: share it and a colleague gets the same incident."</p>
            {history}
        </li>
    }
}

/// The `take` most recent seeds of scenario `id` the learner played, each a
/// link (`"{noun} {seed}"`) with its progress; nothing when there are none.
fn played(saved: Saved, id: &'static str, take: usize, noun: &'static str, title: &'static str, testid: &'static str, questions: &[Question]) -> Option<impl IntoView + use<>> {
    let p = saved.progress.get();
    let items = p
        .runs_of(id)
        .take(take)
        .map(|r| {
            let href = Route::scenario(id, r.seed).href();
            view! { <li><a class="card__seed" href=href>{format!("{noun} {}", r.seed)}</a>{format!(": {}", progress_line(r, questions))}</li> }
        })
        .collect::<Vec<_>>();
    (!items.is_empty()).then(|| view! {
        <div class="card__progress" data-testid=testid>
            <p class="card__progress-title">{title}</p>
            <ul class="card__progress-list">{items}</ul>
        </div>
    })
}

/// A drill number from 1 to 99,999.
fn fresh_seed() -> u64 {
    1 + (js_sys::Math::random() * 99_999.0) as u64
}

/// A CSS modifier for a level; unknown levels get a neutral badge.
fn level_modifier(level: &str) -> &'static str {
    match level {
        "beginner" => "beginner",
        "intermediate" => "intermediate",
        "advanced" => "advanced",
        _ => "other",
    }
}
