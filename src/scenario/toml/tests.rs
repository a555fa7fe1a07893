//! Unit tests of the TOML reader: values, keys, tables, the structure
//! rules, spans, error positions, and a property test that no input
//! panics.

use super::{parse, Error, ErrorKind, Table, Value};
use proptest::prelude::*;

fn doc(src: &str) -> Table {
    parse(src).unwrap_or_else(|e| panic!("{src:?}: {e} at {}", e.at))
}

fn fail(src: &str) -> Error {
    match parse(src) {
        Ok(t) => panic!("{src:?} should be rejected, parsed as {t:?}"),
        Err(e) => e,
    }
}

/// The value at a dotted path, stepping into the last element of arrays.
fn at<'t>(t: &'t Table, path: &str) -> &'t Value {
    let mut table = t;
    let mut parts = path.split('.').peekable();
    while let Some(p) = parts.next() {
        let v = table.get(p).unwrap_or_else(|| panic!("no {p} in {path}")).get_ref();
        if parts.peek().is_none() {
            return v;
        }
        table = match v {
            Value::Table(t) => t,
            Value::Array(items) => match items.last().map(|i| i.get_ref()) {
                Some(Value::Table(t)) => t,
                _ => panic!("{p} is not an array of tables"),
            },
            _ => panic!("{p} is not a table"),
        };
    }
    unreachable!("empty path")
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

#[test]
fn strings() {
    let t = doc(concat!(
        "a = \"tab\\there \\\"q\\\" \\\\ \\u00e9\\U0001F600\"\n",
        "b = 'C:\\path\\no escapes'\n",
        "c = \"\"\"\nline one\nline two\"\"\"\n",
        "d = \"\"\"one \\\n    two \\   \n\n  three\"\"\"\n",
        "e = '''\n'raw' \\n text\n'''\n",
        "f = \"\"\"ends in quotes\"\"\"\"\"\n",
        "g = ''\n",
        "h = \"\\b\\f\\r\\n\"\n",
    ));
    assert_eq!(at(&t, "a"), &s("tab\there \"q\" \\ é😀"));
    assert_eq!(at(&t, "b"), &s("C:\\path\\no escapes"));
    assert_eq!(at(&t, "c"), &s("line one\nline two"));
    assert_eq!(at(&t, "d"), &s("one two three"));
    assert_eq!(at(&t, "e"), &s("'raw' \\n text\n"));
    assert_eq!(at(&t, "f"), &s("ends in quotes\"\""));
    assert_eq!(at(&t, "g"), &s(""));
    assert_eq!(at(&t, "h"), &s("\u{8}\u{c}\r\n"));
}

#[test]
fn numbers_and_booleans() {
    let t = doc("a = 1_000\nb = -17\nc = +3\nd = 0xdead_BEEF\ne = 0o755\nf = 0b1101\ng = 3.25\nh = -1e-3\ni = 6.02E+2_3\nj = inf\nk = -inf\nl = nan\nm = true\nn = false\no = 0\np = -0.0\nq = 9223372036854775807\nr = -9223372036854775808\n");
    let want = [
        ("a", Value::Integer(1000)),
        ("b", Value::Integer(-17)),
        ("c", Value::Integer(3)),
        ("d", Value::Integer(0xdead_beef)),
        ("e", Value::Integer(0o755)),
        ("f", Value::Integer(0b1101)),
        ("g", Value::Float(3.25)),
        ("h", Value::Float(-1e-3)),
        ("i", Value::Float(6.02e23)),
        ("j", Value::Float(f64::INFINITY)),
        ("k", Value::Float(f64::NEG_INFINITY)),
        ("m", Value::Boolean(true)),
        ("n", Value::Boolean(false)),
        ("o", Value::Integer(0)),
        ("p", Value::Float(-0.0)),
        ("q", Value::Integer(i64::MAX)),
        ("r", Value::Integer(i64::MIN)),
    ];
    for (k, v) in want {
        assert_eq!(at(&t, k), &v, "{k}");
    }
    assert!(matches!(at(&t, "l"), Value::Float(x) if x.is_nan()));
}

#[test]
fn bad_numbers() {
    for src in ["a = 012", "a = 1__0", "a = 1_", "a = 1.", "a = .5", "a = 1e", "a = +0x10", "a = 0xg", "a = 1.5.5", "a = 9223372036854775808", "a = -"] {
        let e = fail(src);
        assert_eq!(e.at, 4, "{src}: {e}");
        assert!(matches!(e.kind, ErrorKind::BadNumber { .. } | ErrorKind::IntegerOverflow { .. }), "{src}: {e}");
    }
}

#[test]
fn keys() {
    let t = doc("bare_key-1 = 1\n\"quoted key\" = 2\n'lit.key' = 3\nsite . \"google.com\" . x = 4\n1234 = 5\n\"\" = 6\n");
    assert_eq!(t.get("bare_key-1").map(|v| v.get_ref()), Some(&Value::Integer(1)));
    assert_eq!(t.get("quoted key").map(|v| v.get_ref()), Some(&Value::Integer(2)));
    assert_eq!(t.get("lit.key").map(|v| v.get_ref()), Some(&Value::Integer(3)));
    let Value::Table(site) = at(&t, "site") else { panic!("site is a table") };
    let Some(Value::Table(google)) = site.get("google.com").map(|v| v.get_ref()) else { panic!("google.com is a table") };
    assert_eq!(google.get("x").map(|v| v.get_ref()), Some(&Value::Integer(4)));
    assert_eq!(t.get("1234").map(|v| v.get_ref()), Some(&Value::Integer(5)));
    assert_eq!(t.get("").map(|v| v.get_ref()), Some(&Value::Integer(6)));
}

#[test]
fn tables_and_arrays_of_tables() {
    let src = "\
# comment
title = \"x\" # trailing comment

[a.b]
c = 1
[a]
d = 2

[[svc]]
name = \"one\"
[[svc.ep]]
name = \"GET /\"
[svc.meta]
x = 1
[[svc]]
name = \"two\"

[fruit]
apple.color = \"red\"
apple.taste.sweet = true
[fruit.apple.texture]
smooth = true
";
    let t = doc(src);
    assert_eq!(at(&t, "a.b.c"), &Value::Integer(1));
    assert_eq!(at(&t, "a.d"), &Value::Integer(2));
    let Value::Array(svcs) = at(&t, "svc") else { panic!("svc is an array") };
    assert_eq!(svcs.len(), 2);
    let Value::Table(first) = svcs[0].get_ref() else { panic!("table") };
    assert_eq!(first.get("name").map(|v| v.get_ref()), Some(&s("one")));
    assert!(first.get("ep").is_some() && first.get("meta").is_some());
    assert_eq!(at(&t, "svc.name"), &s("two"));
    assert_eq!(at(&t, "fruit.apple.taste.sweet"), &Value::Boolean(true));
    assert_eq!(at(&t, "fruit.apple.texture.smooth"), &Value::Boolean(true));
}

#[test]
fn arrays_and_inline_tables() {
    let t = doc("a = [\n  1, # one\n  2,\n\n  3,\n]\nb = []\nc = [[1, 2], ['x'], [{ k = 1 }]]\nd = { x = 1, y.z = \"w\", e = {} }\nf = [ \"mixed\", 1, 2.5 ]\n");
    let Value::Array(a) = at(&t, "a") else { panic!("array") };
    assert_eq!(a.iter().map(|v| v.get_ref().as_integer()).collect::<Vec<_>>(), [Some(1), Some(2), Some(3)]);
    assert_eq!(at(&t, "b"), &Value::Array(vec![]));
    assert_eq!(at(&t, "d.y.z"), &s("w"));
    assert!(matches!(at(&t, "d.e"), Value::Table(e) if e.is_empty()));
    assert!(matches!(at(&t, "f"), Value::Array(v) if v.len() == 3));
}

#[test]
fn spans_cover_the_value_as_written() {
    let src = "[t]\nname = \"frontend\"\nn = [1, 2]\nx = { a = 1 }\n";
    let t = doc(src);
    let Some(Value::Table(table)) = t.get("t").map(|v| v.get_ref()) else { panic!("t") };
    let span = |k: &str| table.get(k).map(|v| &src[v.span()]).unwrap_or("");
    assert_eq!(span("name"), "\"frontend\"");
    assert_eq!(span("n"), "[1, 2]");
    assert_eq!(span("x"), "{ a = 1 }");
    assert_eq!(t.get("t").map(|v| &src[v.span()]), Some("[t]"));
    assert_eq!(table.entry("name").map(|e| &src[e.key_span.clone()]), Some("name"));
}

#[test]
fn structure_errors() {
    type Case = (&'static str, fn(&ErrorKind) -> bool, usize);
    let cases: &[Case] = &[
        ("a = 1\na = 2", |k| matches!(k, ErrorKind::DuplicateKey { .. }), 6),
        ("[a]\n[a]", |k| matches!(k, ErrorKind::TableRedefined { .. }), 5),
        ("[a.b]\n[a]\n[a]", |k| matches!(k, ErrorKind::TableRedefined { .. }), 11),
        ("a.b = 1\n[a]", |k| matches!(k, ErrorKind::TableRedefined { .. }), 9),
        ("[fruit]\napple.color = 1\n[fruit.apple]", |k| matches!(k, ErrorKind::TableRedefined { .. }), 31),
        ("[a.b.c]\nz = 9\n[a]\nb.c.t = 1", |k| matches!(k, ErrorKind::NotExtendable { .. }), 18),
        ("a = { b = 1 }\na.c = 2", |k| matches!(k, ErrorKind::NotExtendable { .. }), 14),
        ("a = { b = 1 }\n[a.c]", |k| matches!(k, ErrorKind::NotExtendable { .. }), 15),
        ("a = [1]\n[[a]]", |k| matches!(k, ErrorKind::NotExtendable { .. }), 10),
        ("a = []\n[[a]]", |k| matches!(k, ErrorKind::NotExtendable { .. }), 9),
        ("[[a]]\n[a]", |k| matches!(k, ErrorKind::NotExtendable { .. }), 7),
        ("[a]\n[[a]]", |k| matches!(k, ErrorKind::NotExtendable { .. }), 6),
        ("a = 1\n[a.b]", |k| matches!(k, ErrorKind::NotExtendable { .. }), 7),
        ("a = { b = 1, b = 2 }", |k| matches!(k, ErrorKind::DuplicateKey { .. }), 13),
        ("a = { b = { c = 1 }, b.d = 2 }", |k| matches!(k, ErrorKind::NotExtendable { .. }), 21),
    ];
    for (src, want, pos) in cases {
        let e = fail(src);
        assert!(want(&e.kind), "{src:?}: {e}");
        assert_eq!(e.at, *pos, "{src:?}: {e}");
    }
}

#[test]
fn syntax_errors_say_what_was_expected() {
    let cases: &[(&str, usize, &str)] = &[
        ("a = \"open", 4, "not closed"),
        ("a = \"line\nbreak\"", 4, "not closed"),
        ("a = \"\\q\"", 5, "invalid escape \"\\q\""),
        ("a = \"\\uD800\"", 5, "invalid escape"),
        ("a = frontend", 4, "strings need quotes: \"frontend\""),
        ("a = _1", 4, "strings need quotes"),
        ("a = 250ms", 4, "found `250ms`; strings need quotes: \"250ms\""),
        ("a = 1979-05-27T07:32:00Z", 4, "dates and times are not supported"),
        ("a = 07:32:00", 4, "dates and times are not supported"),
        ("a = { b = 1, }", 13, "expected a key"),
        ("a = { b = 1\n}", 11, "inline table stays on one line"),
        ("a = [1 2]", 7, "',' or ']'"),
        ("a = [1,", 7, "the file ends"),
        ("a = 1 b = 2", 6, "a line break after the value"),
        ("[a] x", 4, "a line break after the table header"),
        ("[a", 2, "']'"),
        ("[[a]", 4, "']]'"),
        ("a", 1, "'='"),
        ("= 1", 0, "expected a key"),
        ("a = ", 4, "the file ends"),
        ("a = 1\r", 5, "U+000D"),
        ("# bell \u{7}", 7, "control character U+0007"),
        ("a = \"x\u{0}\"", 6, "control character U+0000"),
        ("a = '''never closed", 4, "not closed"),
    ];
    for (src, pos, text) in cases {
        let e = fail(src);
        assert_eq!(e.at, *pos, "{src:?}: {e}");
        assert!(e.to_string().contains(text), "{src:?}: {e}");
    }
}

#[test]
fn nesting_is_bounded() {
    let e = fail(&format!("a = {}", "[".repeat(100_000)));
    assert_eq!(e.kind, ErrorKind::TooDeep);
    let e = fail(&format!("a = {}", "{ b = ".repeat(100_000)));
    assert_eq!(e.kind, ErrorKind::TooDeep);
    let e = fail(&format!("{} = 1", vec!["k"; 100_000].join(".")));
    assert_eq!(e.kind, ErrorKind::TooDeep);
    let e = fail(&format!("[{}]", vec!["k"; 100_000].join(".")));
    assert_eq!(e.kind, ErrorKind::TooDeep);
    doc(&format!("a = {}{}", "[".repeat(60), "]".repeat(60)));
}

#[test]
fn crlf_and_bom() {
    let t = doc("\u{feff}a = 1\r\nb = \"\"\"x\r\ny\"\"\"\r\n");
    assert_eq!(at(&t, "a"), &Value::Integer(1));
    assert_eq!(at(&t, "b"), &s("x\r\ny"));
}

#[test]
fn builtin_scenarios_parse() {
    for b in crate::scenario::BUILTINS {
        let t = doc(b.source);
        assert!(t.get("scenario").is_some(), "{}", b.id);
    }
}

proptest! {
    #[test]
    fn any_input_parses_or_fails_cleanly(src in "\\PC{0,200}") {
        if let Err(e) = parse(&src) {
            prop_assert!(e.at <= src.len());
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn toml_like_input_parses_or_fails_cleanly(src in "([\\[\\]{}=,.\"'#\\\\ \\n\\r\\tabu0-9_+:eE-]|\"\"\"|'''){0,120}") {
        if let Err(e) = parse(&src) {
            prop_assert!(e.at <= src.len());
        }
    }
}
