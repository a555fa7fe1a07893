use obslab::scenario::{load, BUILTINS};

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
    // An unknown field is named with its line.
    let e = err(&good.replace("replicas = 2", "replicas = 2\nreplicaz = 3"));
    assert!(e.message.contains("replicaz"), "{e}");
    assert!(e.line > 0, "{e}");
    // A wrong type says what was expected.
    let e = err(&good.replace("replicas = 2", "replicas = \"two\""));
    assert!(e.line > 0 && e.message.contains("expected u32"), "{e}");
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
fn garbage_never_panics() {
    for s in ["", "[", "x = ", "[scenario]\nid = 3", "\u{0}\u{1}", "[[services]]\nname=1", &"[".repeat(10_000)] {
        let _ = load(s);
    }
}
