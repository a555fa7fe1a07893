//! The questions beside the tools (in the side panel's Questions tab): every question of the scenario
//! with an input that fits its kind, graded by the core when the learner
//! presses Check (verdict as a word and an icon, score, feedback, what they
//! missed, the explanation); hints that cost points; the total. Answers are
//! saved per scenario and seed (`ui::saved`), restored and graded again on
//! load, exported as an answer sheet and imported from one. Tools hand
//! answers in through [`Lab::offer`] ("Use this trace", "Use this query").

use crate::grading::grade::grade;
use crate::grading::progress::{self, ImportError, RunProgress, SavedAnswer, SavedGrade};
use crate::grading::question::{EntityKind, Kind, Language, Question, Source};
use crate::grading::quantity::Dimension;
use crate::grading::{AnswerError, Grade, Verdict};
use crate::query::diag::{render_error, QueryError};
use crate::ui::pages::scenario::focus;
use crate::ui::saved::{use_saved, Saved};
use crate::ui::state::{Lab, Side, SideTab};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

/// Import files larger than this are refused unread (a sheet is a few KB).
const MAX_IMPORT_BYTES: f64 = 1_000_000.0;

#[derive(Clone, Debug, PartialEq)]
struct Checked {
    answer: String,
    grade: Grade,
}

/// One question's state in the panel.
#[derive(Clone, Copy)]
struct QState {
    draft: RwSignal<String>,
    hints: RwSignal<u32>,
    /// The last answer that could be graded, and its grade.
    graded: RwSignal<Option<Checked>>,
    /// The last checked answer, when it could not be read.
    error: RwSignal<Option<(String, AnswerError)>>,
}

impl QState {
    fn new() -> QState {
        QState { draft: RwSignal::new(String::new()), hints: RwSignal::new(0), graded: RwSignal::new(None), error: RwSignal::new(None) }
    }
    fn correct(&self) -> bool {
        self.graded.with(|g| g.as_ref().is_some_and(|c| c.grade.verdict == Verdict::Correct))
    }
}

/// What every part of the panel shares.
#[derive(Clone, Copy)]
struct Panel {
    lab: Lab,
    saved: Saved,
    scenario: StoredValue<String>,
    seed: u64,
    questions: StoredValue<Vec<Question>>,
    states: StoredValue<Vec<QState>>,
    /// Panel-wide news (an answer filled in from a tool, an import), announced politely.
    news: RwSignal<String>,
    /// The outcome of the last import: (ok, sentence).
    import: RwSignal<Option<(bool, String)>>,
    side: Side,
}

impl Panel {
    fn state(&self, i: usize) -> QState {
        self.states.with_value(|s| s[i])
    }

    /// Grades `answer` to question `i` with its hints (the core decides).
    fn grade_answer(&self, i: usize, answer: String) {
        let st = self.state(i);
        let empty = answer.trim().is_empty();
        let result = self.questions.with_value(|qs| {
            let q = &qs[i];
            match q.kind {
                Kind::Choice if empty => Err(AnswerError::new(0..0, "Pick an option first.")),
                Kind::Multi if empty => Err(AnswerError::new(0..0, "Pick at least one option first.")),
                _ => grade(q, &answer, &self.lab.run(), st.hints.get_untracked()),
            }
        });
        match result {
            Ok(grade) => {
                st.graded.set(Some(Checked { answer, grade }));
                st.error.set(None);
            }
            // An unreadable answer is not a wrong one: the last grade stands.
            Err(e) => st.error.set(Some((answer, e))),
        }
    }

    fn check(&self, i: usize) {
        let st = self.state(i);
        let answer = st.draft.get_untracked();
        // A wrong or partial grade shows what was missed, often the answer
        // itself: checking a different answer after it costs a hint, so a
        // second try cannot earn what the first one would have.
        if let Some(prev) = st.graded.get_untracked() {
            if matches!(prev.grade.verdict, Verdict::Wrong | Verdict::Partial) && prev.answer.trim() != answer.trim() {
                st.hints.update(|h| *h += 1);
            }
        }
        self.grade_answer(i, answer);
        self.save();
    }

    fn take_hint(&self, i: usize) {
        let st = self.state(i);
        st.hints.update(|h| *h += 1);
        // The score shown follows the hints at once.
        if let Some(c) = st.graded.get_untracked() {
            self.grade_answer(i, c.answer);
        }
        self.save();
    }

    fn run_progress(&self) -> RunProgress {
        let mut run = RunProgress::new(self.scenario.get_value(), self.seed);
        self.questions.with_value(|qs| {
            for (q, st) in qs.iter().zip(self.states.get_value()) {
                let hints = st.hints.get_untracked();
                let saved = match (st.graded.get_untracked(), st.error.get_untracked()) {
                    (Some(c), _) => Some(SavedAnswer { id: q.id.clone(), answer: c.answer, hints, grade: Some(SavedGrade::of(&c.grade)) }),
                    (None, Some((answer, _))) => Some(SavedAnswer { id: q.id.clone(), answer, hints, grade: None }),
                    (None, None) if hints > 0 => Some(SavedAnswer { id: q.id.clone(), answer: String::new(), hints, grade: None }),
                    (None, None) => None,
                };
                if let Some(s) = saved {
                    run.set(s);
                }
            }
        });
        run
    }

    fn save(&self) {
        self.saved.save_run(self.run_progress());
    }

    /// Sets question `i` to a saved or imported answer and grades it.
    fn restore(&self, i: usize, answer: String, hints: u32) {
        let st = self.state(i);
        st.draft.set(answer.clone());
        st.hints.set(hints);
        st.graded.set(None);
        st.error.set(None);
        if !answer.trim().is_empty() {
            self.grade_answer(i, answer);
        }
    }

    fn import(&self, name: &str, text: &str) {
        let sheet = match progress::read_sheet(text, &self.scenario.get_value(), self.seed) {
            Ok(s) => s,
            Err(e) => {
                let why = match &e {
                    ImportError::OtherSeed(s) => format!("it holds answers for seed {s}, and this is seed {}. Open seed {s} and import it there", self.seed),
                    ImportError::OtherScenario(s) => format!("it holds answers to the scenario “{s}”, not this one"),
                    ImportError::Unreadable { .. } => e.to_string(),
                };
                self.report(false, format!("“{name}” was not imported: {why}. Nothing was changed."));
                return;
            }
        };
        let ids: Vec<String> = self.questions.with_value(|qs| qs.iter().map(|q| q.id.clone()).collect());
        // A sheet may answer a question twice; the last answer counts, as in `obslab grade`.
        let (mut taken, mut unknown): (Vec<&str>, usize) = (Vec::new(), 0);
        for a in &sheet.answers {
            match ids.iter().position(|id| *id == a.id) {
                Some(i) => {
                    self.restore(i, a.answer.clone(), a.hints);
                    if !taken.contains(&a.id.as_str()) {
                        taken.push(&a.id);
                    }
                }
                None => unknown += 1,
            }
        }
        self.save();
        let n = taken.len();
        let mut msg = format!("Imported {n} answer{} from “{name}”.", if n == 1 { "" } else { "s" });
        if unknown > 0 {
            msg.push_str(&format!(" {unknown} answer{} to questions this scenario does not have {} skipped.", if unknown == 1 { "" } else { "s" }, if unknown == 1 { "was" } else { "were" }));
        }
        self.report(true, msg);
    }

    /// Shows the outcome of an import or export where the learner sees it.
    fn report(&self, ok: bool, msg: String) {
        self.import.set(Some((ok, msg)));
        spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(0).await;
            if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("import-result")) {
                el.scroll_into_view_with_bool(false);
            }
        });
    }

    /// Puts an answer a tool offered into the first open question that takes it.
    fn take_offer(&self) {
        let Some(offer) = self.lab.offer.get() else { return };
        self.lab.offer.set(None);
        let states = self.states.get_value();
        let found = untrack(|| {
            self.questions.with_value(|qs| {
                let fits: Vec<usize> = qs.iter().enumerate().filter(|(_, q)| offer.target.accepts(q)).map(|(i, _)| i).collect();
                fits.iter().copied().find(|&i| !states[i].correct()).or(fits.first().copied()).map(|i| (i, qs[i].id.clone()))
            })
        });
        let Some((i, id)) = found else { return };
        states[i].draft.set(offer.text.clone());
        self.side.open.set(true);
        self.side.tab.set(SideTab::Questions);
        self.news.set(format!("Question {} now holds {}. Press Check to grade it.", i + 1, short(&offer.text)));
        // After the panel has opened and the field shows the text.
        spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(0).await;
            focus(&input_id(&id));
        });
    }
}

fn short(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 60 { format!("{}…", one.chars().take(60).collect::<String>()) } else { one }
}

fn input_id(qid: &str) -> String {
    format!("q-{qid}-input")
}

/// `2`, `1.5`, `0.25`.
pub(crate) fn points(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    let s = format!("{r:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn hint_label(cost: f64) -> String {
    if cost <= 0.0 {
        "Hint (free)".to_string()
    } else {
        format!("Hint (−{} point{})", points(cost), if cost == 1.0 { "" } else { "s" })
    }
}

fn verdict_parts(v: Verdict) -> (&'static str, &'static str, &'static str) {
    match v {
        Verdict::Correct => ("✔", "Correct", "correct"),
        Verdict::Partial => ("◐", "Partly right", "partial"),
        Verdict::Wrong => ("✖", "Wrong", "wrong"),
        Verdict::SelfCheck => ("✎", "Self-check", "self-check"),
    }
}

fn placeholder(q: &Question) -> &'static str {
    match q.kind {
        Kind::Entity => match q.entity {
            Some(EntityKind::Service) => "a service name",
            Some(EntityKind::Endpoint) => "e.g. GET /cart",
            Some(EntityKind::Node) => "a node name",
            Some(EntityKind::Pod) => "a pod name",
            None => "a name",
        },
        Kind::Number => match q.dimension {
            Some(Dimension::Time) => "e.g. 43.2 min",
            Some(Dimension::Ratio) => "e.g. 0.35% or 0.0035",
            Some(Dimension::Rate) => "e.g. 12 req/s",
            Some(Dimension::Bytes) => "e.g. 2.5 MB",
            Some(Dimension::Count) | None => "e.g. 1200",
        },
        Kind::Evidence => "trace id, or trace id/span id",
        Kind::Window => "e.g. 09:14-09:19 (UTC)",
        Kind::Query => "the query",
        Kind::AlertRules => "your alert rules",
        Kind::Rubric => "your answer, in a few sentences",
        Kind::Plan => "metrics = true\nmetric_labels = [\"method\", \"route\", \"status\"]\ntracing = true\n...",
        Kind::Choice | Kind::Multi => "",
    }
}

#[component]
pub fn QuestionsPanel(lab: Lab, scenario: String, seed: u64) -> impl IntoView {
    let saved = use_saved();
    let side = expect_context::<Side>();
    let questions = lab.run().model.questions.clone();
    if questions.is_empty() {
        return view! { <p class="qpanel__none">"This scenario has no questions: explore it freely."</p> }.into_any();
    }
    let states: Vec<QState> = questions.iter().map(|_| QState::new()).collect();
    let panel = Panel {
        lab,
        saved,
        scenario: StoredValue::new(scenario.clone()),
        seed,
        questions: StoredValue::new(questions.clone()),
        states: StoredValue::new(states),
        news: RwSignal::new(String::new()),
        import: RwSignal::new(None),
        side,
    };
    // Restore (and grade again) what was saved for this scenario and seed.
    if let Some(r) = saved.progress.get_untracked().run(&scenario, seed).cloned() {
        for (i, q) in questions.iter().enumerate() {
            if let Some(a) = r.get(&q.id) {
                panel.restore(i, a.answer.clone(), a.hints);
            }
        }
    }
    crate::ui::effect(move |_| panel.take_offer());

    let max: f64 = questions.iter().map(|q| q.points).sum();
    let total = Memo::new(move |_| {
        panel.states.with_value(|s| {
            s.iter().fold((0usize, 0.0f64), |(n, pts), st| st.graded.with(|g| match g {
                Some(c) => (n + 1, pts + c.grade.score),
                None => (n, pts),
            }))
        })
    });
    // The side panel's tab shows the score.
    crate::ui::effect(move |_| side.score.set(Some((total.get().1, max))));
    on_cleanup(move || side.score.set(None));
    let count = questions.len();
    let cards = (0..count).map(|i| question_card(panel, i)).collect_view();

    view! {
        <div class="qpanel" data-testid="questions">
            <h2 class="visually-hidden">"Questions"</h2>
            <p class="qpanel__answered" data-testid="answered">
                {move || format!("{} of {count} answered · {} of {} points", total.get().0, points(total.get().1), points(max))}
            </p>
            <p class="visually-hidden" role="status">{move || panel.news.get()}</p>
            <ol class="questions">{cards}</ol>
            {files(panel)}
        </div>
    }
    .into_any()
}

fn question_card(panel: Panel, i: usize) -> impl IntoView {
    let q = panel.questions.with_value(|qs| qs[i].clone());
    let st = panel.state(i);
    let input = input_id(&q.id);
    let n = i + 1;
    let check = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        panel.check(i);
    };
    let submit_keys = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && (ev.shift_key() || ev.ctrl_key() || ev.meta_key()) {
            ev.prevent_default();
            panel.check(i);
        }
    };
    let prompt_text = format!("{n}. {}", q.prompt.trim());
    let field = match q.kind {
        Kind::Choice | Kind::Multi => {
            let multi = q.kind == Kind::Multi;
            let name = format!("q-{}", q.id);
            let opts = q
                .options
                .iter()
                .enumerate()
                .map(|(k, o)| {
                    let oid = o.id.clone();
                    let oid2 = o.id.clone();
                    let checked = move || {
                        let d = st.draft.get();
                        if multi { d.split(',').any(|p| p.trim() == oid) } else { d.trim() == oid }
                    };
                    let on_change = move |ev: leptos::ev::Event| {
                        let on = event_target_checked(&ev);
                        if multi {
                            st.draft.update(|d| {
                                let mut picks: Vec<String> = d.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty() && *p != oid2).collect();
                                if on {
                                    picks.push(oid2.clone());
                                }
                                *d = picks.join(", ");
                            });
                        } else if on {
                            st.draft.set(oid2.clone());
                        }
                    };
                    // The first option carries the id the "use this" focus and the tests look for.
                    let id = if k == 0 { input.clone() } else { format!("{input}-{k}") };
                    view! {
                        <li>
                            <label class="question__option">
                                <input type=if multi { "checkbox" } else { "radio" } id=id name=name.clone() value=o.id.clone() prop:checked=checked on:change=on_change/>
                                " "{o.text.clone()}
                            </label>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <fieldset class="question__choices">
                    <legend class="question__prompt">{prompt_text}</legend>
                    <ul class="question__options" data-testid=format!("answer-{}", q.id)>{opts}</ul>
                </fieldset>
            }
            .into_any()
        }
        Kind::Query | Kind::AlertRules | Kind::Rubric | Kind::Plan => {
            let mono = q.kind != Kind::Rubric;
            let is_plan = q.kind == Kind::Plan;
            let lab = panel.lab.clone();
            // The plan's series count and storage, live as the learner types.
            let estimate = move || {
                if !is_plan {
                    return None;
                }
                let text = st.draft.get();
                if text.trim().is_empty() {
                    return None;
                }
                Some(match crate::grading::plan::parse_plan(&text) {
                    Ok(p) => {
                        let e = crate::grading::plan::estimate(&p.instrumentation, &lab.run());
                        format!("Series: {}. Storage: {}.", e.formula(), e.storage())
                    }
                    Err(e) => format!("Not a plan yet: {}", e.message),
                })
            };
            let lang = match &q.source {
                Source::Reference { language, .. } => Some(format!("{} query", match language {
                    Language::PromQL => "PromQL",
                    Language::LogQL => "LogQL",
                    Language::TraceQL => "TraceQL",
                })),
                _ => None,
            };
            view! {
                <label for=input.clone() class="question__prompt">{prompt_text}</label>
                {lang.map(|l| view! { <span class="question__lang">{l}</span> })}
                <textarea
                    id=input.clone()
                    class="question__input"
                    class:question__input--mono=mono
                    rows=if mono { "3" } else { "5" }
                    spellcheck=if mono { "false" } else { "true" }
                    autocomplete="off"
                    placeholder=placeholder(&q)
                    data-testid=format!("answer-{}", q.id)
                    prop:value=move || st.draft.get()
                    on:input=move |ev| st.draft.set(event_target_value(&ev))
                    on:keydown=submit_keys
                ></textarea>
                {move || estimate().map(|e| view! { <p class="question__estimate" data-testid="plan-estimate" aria-live="polite">{e}</p> })}
            }
            .into_any()
        }
        _ => {
            let mono = matches!(q.kind, Kind::Evidence);
            view! {
                <label for=input.clone() class="question__prompt">{prompt_text}</label>
                <input
                    type="text"
                    id=input.clone()
                    class="question__input"
                    class:question__input--mono=mono
                    autocomplete="off"
                    spellcheck="false"
                    placeholder=placeholder(&q)
                    data-testid=format!("answer-{}", q.id)
                    prop:value=move || st.draft.get()
                    on:input=move |ev| st.draft.set(event_target_value(&ev))
                />
            }
            .into_any()
        }
    };

    let hints = q.hints.clone();
    let hint_count = hints.len();
    let cost = q.hint_cost;
    let shown_hints = move || {
        let h = st.hints.get() as usize;
        (h > 0).then(|| {
            let items = hints.iter().take(h).enumerate().map(|(k, t)| view! { <li><strong>{format!("Hint {}: ", k + 1)}</strong>{t.clone()}</li> }).collect_view();
            view! { <ul class="question__hints" data-testid="hints">{items}</ul> }
        })
    };
    let can_hint = move || (st.hints.get() as usize) < hint_count && !st.correct();
    let q_points = q.points;
    let model_answer = q.model_answer.trim().to_string();
    let explanation = q.explanation.split_whitespace().collect::<Vec<_>>().join(" ");
    let is_rubric = q.kind == Kind::Rubric;

    view! {
        <li class="question" data-qid=q.id.clone() data-testid="question">
            <form class="question__form" on:submit=check>
                {field}
                <div class="question__actions">
                    <button type="submit" class="button button--primary button--small" data-testid="check">"Check"</button>
                    {(hint_count > 0).then(|| view! {
                        <button
                            type="button"
                            class="button button--small"
                            data-testid="hint"
                            disabled=move || !can_hint()
                            on:click=move |_| panel.take_hint(i)
                        >
                            {hint_label(cost)}
                        </button>
                    })}
                    <span class="question__points">{format!("{} pt{}", points(q_points), if q_points == 1.0 { "" } else { "s" })}</span>
                </div>
            </form>
            {shown_hints}
            {move || st.error.get().map(|(answer, e)| answer_error(answer, e))}
            {move || st.graded.get().map(|c| {
                let (icon, word, modifier) = verdict_parts(c.grade.verdict);
                let missed = (!c.grade.missed.is_empty()).then(|| {
                    let items = c.grade.missed.iter().map(|m| view! { <li>{m.clone()}</li> }).collect_view();
                    view! {
                        <p class="grade__missed-title">"What you missed"</p>
                        <ul class="grade__missed">{items}</ul>
                    }
                });
                let compare = is_rubric.then(|| view! {
                    <div class="grade__compare">
                        <div>
                            <p class="grade__label">"Your answer"</p>
                            <p class="grade__text">{c.answer.clone()}</p>
                        </div>
                        <div>
                            <p class="grade__label">"Model answer"</p>
                            <p class="grade__text">{model_answer.clone()}</p>
                        </div>
                    </div>
                });
                // Said when the field no longer holds the graded answer (read
                // apart, so typing does not redraw the grade).
                let graded_answer = c.answer.clone();
                let stale = move || {
                    (st.draft.with(|d| d.trim() != graded_answer.trim()) && st.error.with(|e| e.is_none()))
                        .then(|| format!("For your answer “{}”.", short(&graded_answer)))
                };
                view! {
                    <div class=format!("grade grade--{modifier}") role="status" data-testid="grade" data-verdict=c.grade.verdict.as_str()>
                        <p class="grade__head">
                            <span class="grade__icon" aria-hidden="true">{icon}</span>
                            <strong class="grade__verdict">{word}</strong>
                            <span class="grade__score" data-testid="grade-score">{format!("{} / {}", points(c.grade.score), points(c.grade.max))}</span>
                        </p>
                        <p class="grade__stale">{stale}</p>
                        <p class="grade__feedback">{c.grade.feedback.clone()}</p>
                        {missed}
                        {compare}
                        {(!explanation.is_empty()).then(|| view! {
                            <p class="grade__label">"Explanation"</p>
                            <p class="grade__explanation">{explanation.clone()}</p>
                        })}
                    </div>
                }
                .into_any()
            })}
        </li>
    }
}

/// An answer the core could not read: the answer with a caret under the
/// part the message is about (as query errors show), or the message alone.
fn answer_error(answer: String, e: AnswerError) -> AnyView {
    let placed = !answer.trim().is_empty() && e.span.end > e.span.start;
    if placed {
        // The answer's line and the caret line scroll together; the sentence wraps.
        let text = render_error(&answer, &QueryError::parse(e.span.clone(), e.message.clone()));
        let lines: Vec<&str> = text.splitn(3, '\n').collect();
        let code = lines[..2.min(lines.len())].join("\n");
        view! {
            <div class="answer-error" role="alert" data-testid="answer-error">
                <pre class="answer-error__code" tabindex="0">{code}</pre>
                <p class="answer-error__message">{e.message}</p>
            </div>
        }
        .into_any()
    } else {
        view! { <p class="answer-error" role="alert" data-testid="answer-error">{e.message}</p> }.into_any()
    }
}

/// Export the answers as an answer sheet; import one.
fn files(panel: Panel) -> impl IntoView {
    let export = move |_| {
        let run = panel.run_progress();
        let name = format!("obslab-{}-seed-{}.json", run.scenario, run.seed);
        if download(&name, &progress::sheet_json(&run)).is_err() {
            panel.report(false, "The browser did not start the download.".to_string());
        }
    };
    let on_file = move |ev: leptos::ev::Event| {
        let Some(file) = picked_file(&ev) else { return };
        let name = file.name();
        if file.size() > MAX_IMPORT_BYTES {
            panel.report(false, format!("“{name}” was not imported: it is {:.0} KB, and an answer sheet is a few KB. Nothing was changed.", file.size() / 1000.0));
            return;
        }
        spawn_local(async move {
            match file_text(&file).await {
                Some(text) => panel.import(&name, &text),
                None => panel.report(false, format!("“{name}” could not be read as text. Nothing was changed.")),
            }
        });
    };
    let scenario = panel.scenario.get_value();
    let cli = format!("obslab grade {scenario} --seed {} --answers FILE", panel.seed);
    view! {
        <div class="qpanel__files">
            <p class="qpanel__files-title">"Your answers as a file"</p>
            <div class="qpanel__file-buttons">
                <button type="button" class="button button--small" data-testid="export" on:click=export>"Export"</button>
                <label class="button button--small qpanel__import">
                    "Import…"
                    <input type="file" accept=".json,application/json" class="visually-hidden" data-testid="import" on:change=on_file/>
                </label>
            </div>
            <p class="qpanel__files-help">"A facilitator grades exported files with "<code>{cli}</code>"."</p>
            {move || panel.import.get().map(|(ok, msg)| view! {
                <p class=if ok { "notice" } else { "notice notice--error" } role=if ok { "status" } else { "alert" } id="import-result" data-testid="import-result">{msg}</p>
            })}
        </div>
    }
}

/// The file chosen in the `<input type=file>` that fired `ev`. The input is
/// cleared, so choosing the same file again fires `change` again.
pub(crate) fn picked_file(ev: &leptos::ev::Event) -> Option<web_sys::File> {
    let input = ev.target()?.dyn_into::<web_sys::HtmlInputElement>().ok()?;
    let file = input.files()?.get(0)?;
    input.set_value("");
    Some(file)
}

/// A chosen file's contents as text (`None` when the browser cannot read it).
pub(crate) async fn file_text(file: &web_sys::File) -> Option<String> {
    wasm_bindgen_futures::JsFuture::from(file.text()).await.ok()?.as_string()
}

/// Saves `text` as a file called `name` (a download of a Blob URL).
fn download(name: &str, text: &str) -> Result<(), wasm_bindgen::JsValue> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("application/json");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let doc = web_sys::window().and_then(|w| w.document()).ok_or_else(|| wasm_bindgen::JsValue::from_str("no document"))?;
    let a: web_sys::HtmlAnchorElement = doc.create_element("a")?.dyn_into()?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    // Revoked once the download has surely started.
    spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(10_000).await;
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    Ok(())
}

/// "4/7 answered · 9/16 points" for a scenario's saved run.
pub(crate) fn progress_line(run: &RunProgress, questions: &[Question]) -> String {
    let ids: Vec<&str> = questions.iter().map(|q| q.id.as_str()).collect();
    let s = run.summary(&ids);
    let max: f64 = questions.iter().map(|q| q.points).sum();
    format!("{}/{} answered · {}/{} points", s.answered, questions.len(), points(s.score), points(max))
}
