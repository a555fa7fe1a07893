//! Browser tests (wasm-bindgen-test in headless Chromium): the simulation
//! is deterministic across platforms, the RED computation works on a real
//! run, the chart draws real pixels on a canvas, and URLs parse without
//! panicking. Run by `make test-wasm`, which computes the native digests
//! first (`obslab run ... --json`) and passes them in
//! `OBSLAB_NATIVE_DIGESTS` at compile time.
#![cfg(target_arch = "wasm32")]

use obslab::charts::panel::{builtin_dashboards, evaluate, expand, step_for};
use obslab::charts::{draw_plot, ChartStyle};
use plotters::prelude::IntoDrawingArea;
use obslab::scenario;
use obslab::sim::{self, time::parse_duration};
use obslab::ui::route::{parse, Compare, Live, ProfileView, Route, Tab, View, DEFAULT_SEED, SPEEDS};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// `scenario:seed:duration=digest` entries, comma-separated, computed
/// natively by `make native-digests`.
const NATIVE_DIGESTS: Option<&str> = option_env!("OBSLAB_NATIVE_DIGESTS");

#[wasm_bindgen_test]
fn digests_match_native() {
    let Some(all) = NATIVE_DIGESTS.filter(|s| !s.trim().is_empty()) else {
        panic!(
            "OBSLAB_NATIVE_DIGESTS was not set when this test was compiled; run `make test-wasm`, \
             which computes the native digests with `obslab run --json` first"
        );
    };
    let mut checked = 0;
    for entry in all.trim().split(',') {
        let (run, want) = entry.split_once('=').expect("scenario:seed:duration=digest");
        let parts: Vec<&str> = run.split(':').collect();
        let [id, seed, duration] = parts.as_slice() else { panic!("bad entry {entry:?}") };
        let model = scenario::load_builtin(id).expect("a built-in scenario");
        let seed: u64 = seed.parse().expect("a seed");
        let duration = parse_duration(duration).expect("a duration");
        let got = sim::run(&model, seed, Some(duration)).telemetry.digest();
        assert_eq!(got, want, "{id} seed {seed} over {duration:?}: the browser's digest differs from the native one");
        checked += 1;
    }
    assert!(checked > 0);
}

#[wasm_bindgen_test]
fn the_chart_draws_pixels_on_a_canvas() {
    let document = web_sys::window().unwrap().document().unwrap();
    let canvas: web_sys::HtmlCanvasElement = document.create_element("canvas").unwrap().dyn_into().unwrap();
    canvas.set_width(800);
    canvas.set_height(400);
    document.body().unwrap().append_child(&canvas).unwrap();
    // The first RED panel (request rate per service) of a real run.
    let model = scenario::load_builtin("bookstore").unwrap();
    let run = sim::run(&model, 7, Some(sim::time::SimDuration::from_secs(600)));
    let entry = &model.services[model.entry_service].name;
    let spec = &builtin_dashboards(entry)[0].panels[0];
    let range = (run.telemetry.start_unix_ms, run.telemetry.start_unix_ms + 600_000);
    let step = step_for(range, 500, 15_000);
    let expr = obslab::query::promql::parse(&expand(&spec.expr, step, 15_000)).unwrap();
    let data = evaluate(&run.telemetry.series, spec, &expr, range, step, &Default::default()).unwrap();
    let backend = obslab::ui::MeasuringCanvas::new(&canvas).expect("a 2D canvas");
    draw_plot(&backend.into_drawing_area(), &data.plot, &ChartStyle::light(1.0)).expect("draws");
    let ctx: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").unwrap().unwrap().dyn_into().unwrap();
    let data = ctx.get_image_data(0.0, 0.0, 800.0, 400.0).unwrap().data();
    let bg = [data[0], data[1], data[2]];
    let mut differ = 0;
    let mut coloured = 0;
    for px in data.chunks_exact(4) {
        let d: i32 = (0..3).map(|i| (px[i] as i32 - bg[i] as i32).abs()).sum();
        if d > 40 {
            differ += 1;
        }
        let (mx, mn) = (px[..3].iter().max().unwrap(), px[..3].iter().min().unwrap());
        if mx - mn > 90 {
            coloured += 1;
        }
    }
    assert!(differ > 800 * 400 / 100, "{differ} pixels differ from the background");
    assert!(coloured > 500, "{coloured} coloured pixels: the lines are missing");
    canvas.remove();
}

#[wasm_bindgen_test]
fn routes_parse_defensively() {
    assert_eq!(parse(""), Ok(Route::Home));
    assert_eq!(parse("#/"), Ok(Route::Home));
    let r = Route::scenario("intermittent-p99", 7);
    assert_eq!(parse("#/scenario/intermittent-p99?seed=7"), Ok(r.clone()));
    assert_eq!(parse(&r.href()), Ok(r));
    assert_eq!(parse("#/scenario/bookstore"), Ok(Route::scenario("bookstore", DEFAULT_SEED)));
    assert_eq!(parse("#/scenario/bookstore?x=1&seed=0"), Ok(Route::scenario("bookstore", 0)));
    assert_eq!(parse("#/debug/panic"), Ok(Route::Crash));
    for bad in ["#/scenario/bookstore?seed=abc", "#/scenario/bookstore?seed=", "#/scenario/bookstore?seed=-1", "#/scenario/bookstore?seed=1e3"] {
        let e = parse(bad).unwrap_err();
        assert!(e.message.contains("not a whole number"), "{bad}: {e}");
    }
    assert!(parse("#/scenario/bookstore?seed=18446744073709551616").unwrap_err().message.contains("too large"));
    assert!(parse("#/scenario/nope").unwrap_err().message.contains("bookstore"));
    assert!(parse("#/nowhere/at/all").unwrap_err().message.contains("does not match"));
    // The view: tab, query, range and trace survive a round trip.
    let r = Route::Scenario {
        id: "bookstore".into(),
        seed: 3,
        view: View {
            tab: Tab::Explore,
            query: Some("sum by (le) (rate(http_server_request_duration_seconds_bucket{route=~\"/books/.*\"}[5m])) # 100% & more".into()),
            range: Some((1_772_442_000_000, 1_772_442_900_000)),
            trace: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            ..View::default()
        },
    };
    assert_eq!(parse(&r.href()), Ok(r));
    assert!(parse("#/scenario/bookstore?tab=nope").unwrap_err().message.contains("explore"));
    assert!(parse("#/scenario/bookstore?q=%zz").unwrap_err().message.contains("escape"));
    assert!(parse("#/scenario/bookstore?q=%ff").unwrap_err().message.contains("UTF-8"));
    assert!(parse("#/scenario/bookstore?from=5&to=1").unwrap_err().message.contains("before"));
    assert!(parse("#/scenario/bookstore?from=5").unwrap_err().message.contains("both"));
    assert!(parse("#/scenario/bookstore?from=x&to=1").unwrap_err().message.contains("Unix milliseconds"));
    let long = format!("#/{}", "x".repeat(10_000));
    assert!(parse(&long).unwrap_err().message.chars().count() < 200, "long input is clipped");
}

#[wasm_bindgen_test]
fn live_replay_in_the_address() {
    let scenario = |view: View| Route::Scenario { id: "bookstore".into(), seed: 7, view };
    // Playing and paused, each speed: a round trip.
    for playing in [true, false] {
        for speed in SPEEDS {
            let r = scenario(View {
                range: Some((1_772_451_000_000, 1_772_451_900_000)),
                live: Some(Live { playing, now: 1_772_451_900_000, speed }),
                ..View::default()
            });
            assert_eq!(parse(&r.href()), Ok(r.clone()), "{}", r.href());
        }
    }
    let href = scenario(View { live: Some(Live { playing: true, now: 5, speed: 60 }), ..View::default() }).href();
    assert!(href.ends_with("&live=play&now=5&speed=60"), "{href}");
    // A missing speed is the slowest.
    let Ok(Route::Scenario { view, .. }) = parse("#/scenario/bookstore?live=pause&now=9") else { panic!("no route") };
    assert_eq!(view.live, Some(Live { playing: false, now: 9, speed: SPEEDS[0] }));
    // Bad values: a sentence each, no panic.
    for (bad, says) in [
        ("live=run&now=5", "neither"),
        ("live=play", "needs “now”"),
        ("live=play&now=soon", "Unix milliseconds"),
        ("live=play&now=5&speed=7", "60"),
        ("live=play&now=5&speed=", "not one the lab offers"),
        ("live=play&now=5&speed=99999999999999999999", "not one the lab offers"),
        ("now=5", "live=play"),
        ("speed=10", "live=play"),
    ] {
        let e = parse(&format!("#/scenario/bookstore?{bad}")).unwrap_err();
        assert!(e.message.contains(says), "{bad}: {e}");
    }
}

#[wasm_bindgen_test]
fn profile_selection_in_the_address() {
    let scenario = |profile: ProfileView| Route::Scenario {
        id: "intermittent-p99".into(),
        seed: 7,
        view: View { tab: Tab::Profiles, profile: Some(profile), ..View::default() },
    };
    let full = ProfileView {
        service: Some("cart".into()),
        replica: "cart-7d9f-2".into(),
        compare: Compare::Previous,
        search: "json: encode & 100%".into(),
        zoom: vec!["main".into(), "net/http.(*conn).serve".into(), "main.getProductId".into()],
    };
    let r = scenario(full.clone());
    assert_eq!(parse(&r.href()), Ok(r.clone()), "{}", r.href());
    assert!(r.href().contains("&profile=cart:cart-7d9f-2&pcmp=previous&pq="), "{}", r.href());
    // Every service; and each setting alone.
    for p in [
        ProfileView { service: Some(String::new()), ..ProfileView::default() },
        ProfileView { service: Some("cart".into()), ..ProfileView::default() },
        ProfileView { service: Some("cart".into()), compare: Compare::RunStart, ..ProfileView::default() },
        ProfileView { service: Some("cart".into()), search: "a:b".into(), ..ProfileView::default() },
    ] {
        let r = scenario(p);
        assert_eq!(parse(&r.href()), Ok(r.clone()), "{}", r.href());
    }
    // The default selection writes nothing; settings without a service keep the default service.
    assert_eq!(scenario(ProfileView::default()).href(), "#/scenario/intermittent-p99?seed=7&tab=profiles");
    let Ok(Route::Scenario { view, .. }) = parse("#/scenario/intermittent-p99?tab=profiles&pq=json") else { panic!("no route") };
    assert_eq!(view.profile, Some(ProfileView { search: "json".into(), ..ProfileView::default() }));
    // The selection is written with the Profiles tab only.
    let mut r = scenario(full);
    if let Route::Scenario { view, .. } = &mut r {
        view.tab = Tab::Logs;
    }
    assert!(!r.href().contains("profile"), "{}", r.href());
    // Bad values: a sentence each, no panic.
    for (bad, says) in [
        ("profile=:pod-1", "no service"),
        ("profile=cart&pcmp=yesterday", "previous"),
        ("profile=%zz", "escape"),
        ("profile=cart:%ff", "UTF-8"),
        ("profile=cart&pq=%", "escape"),
        ("profile=cart&pzoom=%e2%82", "UTF-8"),
    ] {
        let e = parse(&format!("#/scenario/intermittent-p99?tab=profiles&{bad}")).unwrap_err();
        assert!(e.message.contains(says), "{bad}: {e}");
    }
    // Checked against a run: an unknown service or a replica of another service.
    let resources = [("cart", "cart-1"), ("cart", "cart-2"), ("frontend", "frontend-1")];
    let check = |service: &str, replica: &str| {
        ProfileView { service: Some(service.into()), replica: replica.into(), ..ProfileView::default() }.check(resources.iter().map(|&(s, p)| (s, p)))
    };
    assert_eq!(check("cart", "cart-2"), Ok(()));
    assert_eq!(check("", ""), Ok(()));
    assert_eq!(ProfileView::default().check(resources.iter().map(|&(s, p)| (s, p))), Ok(()));
    let e = check("payments", "").unwrap_err();
    assert!(e.message.contains("payments") && e.message.contains("cart, frontend"), "{e}");
    let e = check("cart", "frontend-1").unwrap_err();
    assert!(e.message.contains("frontend-1") && e.message.contains("cart"), "{e}");
}
