use obslab::scenario::{load, BUILTINS};
use proptest::prelude::*;

#[test]
fn builtins_load() {
    for b in BUILTINS {
        let m = load(b.source).unwrap_or_else(|e| panic!("{}: {e}", b.id));
        assert_eq!(m.id, b.id);
    }
}

fn err(src: &str) -> obslab::scenario::ScenarioError {
    load(src).expect_err("should be rejected")
}

#[test]
fn bad_files_get_line_field_and_expectation() {
    let good = obslab::scenario::builtin("bookstore").unwrap();
    // An unknown field is named with its line and the fields that exist.
    let e = err(&good.replace("replicas = 2", "replicas = 2\nreplicaz = 3"));
    assert_eq!(e.path, "services[0].replicaz");
    assert!(e.message.starts_with("unknown field `replicaz`; expected one of: name, replicas,"), "{e}");
    assert!(e.line > 0, "{e}");
    // A wrong type says what was expected and what was found.
    let e = err(&good.replace("replicas = 2", "replicas = \"two\""));
    assert_eq!(e.to_string(), "line 47, column 12: services[0].replicas: expected a whole number, found a string \"two\"");
    let e = err(&good.replace("replicas = 2", "replicas = -2"));
    assert_eq!(e.to_string(), "line 47, column 12: services[0].replicas: expected an integer from 0 to 4294967295, found -2");
    // A dangling reference names the field path and the choices.
    let e = err(&good.replace("{ db = \"postgres\", op = \"SELECT\", table = \"books\", time = \"6ms\"", "{ db = \"postgrez\", op = \"SELECT\", table = \"books\", time = \"6ms\""));
    assert!(e.path.contains("steps[0].db") && e.message.contains("postgres") && e.line > 0, "{e}");
    // A bad duration.
    let e = err(&good.replace("duration = \"1h\"", "duration = \"1 hour\""));
    assert!(e.path == "scenario.duration" && e.line > 0, "{e}");
    // Unknown fault kind.
    let p99 = obslab::scenario::builtin("intermittent-p99").unwrap();
    let e = err(&p99.replace("kind = \"packet_loss\"", "kind = \"packet_lost\""));
    assert!(e.message.contains("packet_loss") && e.line > 0, "{e}");
}

#[test]
fn typed_fields_name_their_path() {
    let p99 = obslab::scenario::builtin("intermittent-p99").unwrap();
    let cases = [
        (p99.replace("timeout = \"5s\"", "timeout = 5"), "line 105, column 63: services[0].endpoints[3].steps[0].timeout: expected a string, found an integer 5"),
        (p99.replace("kind = \"cache\"", "kind = \"cachez\""), "line 46, column 8: datastores[1].kind: expected one of database, cache, external, found \"cachez\""),
        (p99.replace("rate = 60.0", ""), "line 194, column 1: traffic.rate: this field is required but missing"),
        (p99.replace("catalog-db = 10,", "catalog-db = 0,"), "line 116, column 24: services[1].pools.catalog-db: expected a pool size between 1 and 10000, found an integer 0"),
        (p99.replace("length = \"3m\"", "length = [\"3m\"]"), "line 213, column 10: incidents.length: expected a string, found an array"),
    ];
    for (src, want) in cases {
        assert_eq!(err(&src).to_string(), want);
    }
    let slo = obslab::scenario::builtin("slo-rollout").unwrap();
    let e = err(&slo.replace("length = [\"15m\", \"25m\"]", "length = [\"15m\"]"));
    assert_eq!((e.path.as_str(), e.message.as_str()), ("history.incidents[0].length", "expected an array of 2 values, found 1"));
    let e = err(&slo.replace("mode = \"aggregate\"", "mode = \"aggregated\""));
    assert_eq!(e.message, "expected one of requests, aggregate, found \"aggregated\"");
}

#[test]
fn toml_mistakes_get_a_position_and_a_hint() {
    let good = obslab::scenario::builtin("bookstore").unwrap();
    let cases = [
        (good.replace("duration = \"1h\"", "duration = 1h"), "line 21, column 12: expected a value, found `1h`; strings need quotes: \"1h\""),
        (good.replace("start = \"2026-03-02T11:30:00Z\"", "start = 2026-03-02T11:30:00Z"), "line 20, column 9: TOML dates and times are not supported in scenario files; write the time as a string such as \"2026-03-02T09:00:00Z\""),
        (good.replace("[traffic]", "[traffic]\n[traffic]"), "line 90, column 2: table `traffic` is defined twice"),
        (good.replace("replicas = 2", "replicas = 2\nreplicas = 3"), "line 48, column 1: duplicate key `replicas`"),
        (good.replace("title = \"Bookstore\"", "title = \"Bookstore"), "line 7, column 9: this string is not closed"),
    ];
    for (src, want) in cases {
        assert_eq!(err(&src).to_string(), want);
    }
}

#[test]
fn the_documented_example_fails_as_documented() {
    let doc = include_str!("../../docs/scenario-format.md");
    let worked = doc.split("## A worked example").nth(1).expect("the worked example section");
    let example = worked.split("```toml\n").nth(1).and_then(|s| s.split("```").next()).expect("a toml example in the docs");
    let m = load(example).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.id, "two-tier");
    let e = err(&example.replace("datastore = \"db\"", "datastore = \"dbb\""));
    assert_eq!(e.to_string(), "line 34, column 13: faults[0].datastore: expected a database datastore, found \"dbb\"");
}

#[test]
fn garbage_never_panics() {
    for s in ["", "[", "x = ", "[scenario]\nid = 3", "\u{0}\u{1}", "[[services]]\nname=1", &"[".repeat(10_000), &"x = [".repeat(10_000), &"a.".repeat(10_000)] {
        let _ = load(s);
    }
}

/// One edit to a built-in file: delete, duplicate or replace a byte range.
#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    Insert { at: usize, text: String },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop_oneof![
        Just("[".to_string()),
        Just("]]".to_string()),
        Just("\"".to_string()),
        Just("\"\"\"".to_string()),
        Just("'''".to_string()),
        Just("{ x = 1 }".to_string()),
        Just("\n[[services]]\n".to_string()),
        Just("\n[traffic]\n".to_string()),
        Just(" = ".to_string()),
        Just(",".to_string()),
        Just("\\".to_string()),
        Just("#".to_string()),
        Just("0x_1".to_string()),
        Just("1979-05-27".to_string()),
        "\\PC{0,8}",
    ];
    prop_oneof![
        (any::<usize>(), 1..40usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 1..200usize).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (any::<usize>(), snippet).prop_map(|(at, text)| Mutation::Insert { at, text }),
    ]
}

/// The nearest char boundary at or before `at`.
fn boundary(s: &str, at: usize) -> usize {
    (0..=at.min(s.len())).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0)
}

fn apply(src: &str, m: &Mutation) -> String {
    match m {
        Mutation::Delete { at, len } => {
            let a = boundary(src, at % (src.len() + 1));
            let b = boundary(src, a + len);
            format!("{}{}", &src[..a], &src[b..])
        }
        Mutation::Duplicate { at, len } => {
            let a = boundary(src, at % (src.len() + 1));
            let b = boundary(src, a + len);
            format!("{}{}", &src[..b], &src[a..])
        }
        Mutation::Insert { at, text } => {
            let a = boundary(src, at % (src.len() + 1));
            format!("{}{text}{}", &src[..a], &src[a..])
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,300}") {
        if let Err(e) = load(&src) {
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn mutated_builtins_never_panic(which in 0..BUILTINS.len(), edits in proptest::collection::vec(mutation(), 1..4)) {
        let mut src = BUILTINS[which].source.to_string();
        for m in &edits {
            src = apply(&src, m);
        }
        if let Err(e) = load(&src) {
            prop_assert!(!e.message.is_empty());
            prop_assert!(e.line <= src.lines().count() + 1, "{e}");
        }
    }
}
