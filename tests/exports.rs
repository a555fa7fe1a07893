//! The exporters on real runs: a five-minute simulation of each request-mode
//! built-in, exported in every format and checked for structure (OpenMetrics
//! families grouped, series contiguous and in time order, `# EOF` last; OTLP
//! JSON that parses, with hex ids and counts matching the stores; JSON lines
//! and folded stacks that add up), plus the `obslab` command line's
//! scripted contract (exit codes, `--json` keys).

use obslab::sim::time::SimDuration;
use obslab::sim::Run;
use obslab::store::Telemetry;
use obslab::telemetry::export::{folded, jsonl, openmetrics, otlp, ExportKind};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

fn run_of(id: &str, seed: u64) -> Run {
    let model = obslab::scenario::load_builtin(id).expect("built-in scenario loads");
    obslab::sim::run(&model, seed, Some(SimDuration::from_secs(300)))
}

/// Five minutes of intermittent-p99 (seed 7) and bookstore (seed 3), run once.
fn runs() -> &'static [(&'static str, Run)] {
    static RUNS: OnceLock<Vec<(&'static str, Run)>> = OnceLock::new();
    RUNS.get_or_init(|| vec![("intermittent-p99", run_of("intermittent-p99", 7)), ("bookstore", run_of("bookstore", 3))])
}

// ------------------------------------------------------------ OpenMetrics

/// One sample line, parsed the way Prometheus's OpenMetrics parser reads it.
#[derive(Debug)]
struct SampleLine {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
    /// Milliseconds as Prometheus computes them: `int64(seconds * 1000)`.
    ts_ms: i64,
    exemplar: Option<(String, i64)>,
}

/// Parses `{a="b",...}` from `s` (starting at `{`); returns pairs and the rest.
fn parse_labels(s: &str) -> (Vec<(String, String)>, &str) {
    assert!(s.starts_with('{'));
    let b = s.as_bytes();
    let mut i = 1;
    let mut out = Vec::new();
    while b[i] != b'}' {
        let eq = s[i..].find('=').unwrap() + i;
        let name = s[i..eq].to_string();
        assert_eq!(b[eq + 1], b'"', "label value must be quoted in {s}");
        let mut j = eq + 2;
        let mut value = String::new();
        loop {
            match b[j] {
                b'\\' => {
                    value.push(match b[j + 1] {
                        b'n' => '\n',
                        b'\\' => '\\',
                        b'"' => '"',
                        c => panic!("bad escape \\{} in {s}", c as char),
                    });
                    j += 2;
                }
                b'"' => break,
                _ => {
                    let c = s[j..].chars().next().unwrap();
                    value.push(c);
                    j += c.len_utf8();
                }
            }
        }
        out.push((name, value));
        i = j + 1;
        if b[i] == b',' {
            i += 1;
        }
    }
    (out, &s[i + 1..])
}

fn parse_float(s: &str) -> f64 {
    match s {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        _ => s.parse().unwrap_or_else(|_| panic!("bad float {s:?}")),
    }
}

fn go_ms(s: &str) -> i64 {
    (parse_float(s) * 1000.0) as i64
}

fn parse_sample(line: &str) -> SampleLine {
    let (main, exemplar) = match line.split_once(" # ") {
        Some((m, e)) => (m, Some(e)),
        None => (line, None),
    };
    let name_end = main.find(['{', ' ']).unwrap();
    let name = main[..name_end].to_string();
    let (labels, rest) = if main[name_end..].starts_with('{') { parse_labels(&main[name_end..]) } else { (Vec::new(), &main[name_end..]) };
    let parts: Vec<&str> = rest.trim_start().split(' ').collect();
    assert_eq!(parts.len(), 2, "value and timestamp expected: {line}");
    let exemplar = exemplar.map(|e| {
        let (l, rest) = parse_labels(e);
        let trace = l.iter().find(|(k, _)| k == "trace_id").expect("exemplar trace_id").1.clone();
        let parts: Vec<&str> = rest.trim_start().split(' ').collect();
        assert_eq!(parts.len(), 2, "exemplar value and timestamp expected: {line}");
        (trace, go_ms(parts[1]))
    });
    SampleLine { name, labels, value: parse_float(parts[0]), ts_ms: go_ms(parts[1]), exemplar }
}

/// Checks one OpenMetrics text against the store it came from; returns
/// (samples, series, exemplars) seen.
fn check_openmetrics(text: &str, tel: &Telemetry) -> (u64, usize, usize) {
    assert!(text.ends_with("# EOF\n"), "must end with # EOF");
    // Stored series by their labels as Prometheus sees them: an empty value
    // is no label at all.
    let key_of = |pairs: &mut Vec<(String, String)>| {
        pairs.retain(|(_, v)| !v.is_empty());
        pairs.sort();
        pairs.clone()
    };
    let mut stored: BTreeMap<Vec<(String, String)>, obslab::store::SeriesId> = BTreeMap::new();
    for (id, s) in tel.series.iter() {
        let mut pairs: Vec<(String, String)> = s.labels.iter().map(|l| (l.name.to_string(), l.value.to_string())).collect();
        assert!(stored.insert(key_of(&mut pairs), id).is_none(), "two stored series differ only by empty labels");
    }
    assert_eq!(text.matches("# EOF").count(), 1);
    let mut families: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<(String, String)> = None; // (family, type)
    let mut done_series: BTreeSet<String> = BTreeSet::new();
    let mut last: Option<(String, i64)> = None;
    let (mut samples, mut exemplars) = (0u64, 0usize);
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').unwrap();
            assert!(families.insert(name.to_string()), "family {name} appears twice");
            assert!(["counter", "gauge", "histogram", "unknown"].contains(&ty));
            current = Some((name.to_string(), ty.to_string()));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# UNIT ") {
            let (name, unit) = rest.split_once(' ').unwrap();
            assert_eq!(Some(name), current.as_ref().map(|c| c.0.as_str()));
            assert!(name.ends_with(&format!("_{unit}")), "UNIT {unit} is not a suffix of {name}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has text");
            assert!(!help.is_empty());
            assert_eq!(Some(name), current.as_ref().map(|c| c.0.as_str()));
            continue;
        }
        if line == "# EOF" {
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment {line}");
        let s = parse_sample(line);
        let (fam, ty) = current.as_ref().expect("sample before any TYPE");
        let suffixes: &[&str] = match ty.as_str() {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_sum", "_count"],
            _ => &[""],
        };
        assert!(suffixes.iter().any(|suf| s.name == format!("{fam}{suf}")), "{} outside its family {fam}", s.name);
        // Contiguity and time order per series.
        let series_key = format!("{}{:?}", s.name, s.labels);
        match &last {
            Some((k, t)) if *k == series_key => assert!(s.ts_ms > *t, "samples of {series_key} out of order"),
            _ => {
                if let Some((k, _)) = last.take() {
                    done_series.insert(k);
                }
                assert!(!done_series.contains(&series_key), "series {series_key} is not contiguous");
            }
        }
        last = Some((series_key, s.ts_ms));
        if let Some((trace, ets)) = &s.exemplar {
            assert!(s.name.ends_with("_bucket"), "exemplar on {}", s.name);
            assert_eq!(trace.len(), 32);
            assert!(ets <= &s.ts_ms, "exemplar after its sample");
            exemplars += 1;
        }
        // Round trip: the sample is in the store, at exactly this time and value.
        let mut pairs = s.labels.clone();
        assert!(pairs.iter().all(|(_, v)| !v.is_empty()), "empty label value in {line}");
        pairs.push(("__name__".to_string(), s.name.clone()));
        let id = *stored.get(&key_of(&mut pairs)).unwrap_or_else(|| panic!("{line} is not a stored series"));
        let st = tel.series.get(id);
        let i = st.timestamps.binary_search(&s.ts_ms).unwrap_or_else(|_| panic!("{line}: no stored sample at {}", s.ts_ms));
        let v = st.values[i];
        assert!(v == s.value || (v.is_nan() && s.value.is_nan()), "{line}: stored value {v}");
        samples += 1;
    }
    if let Some((k, _)) = last {
        done_series.insert(k);
    }
    (samples, done_series.len(), exemplars)
}

#[test]
fn openmetrics_round_trips_every_sample() {
    for (id, run) in runs() {
        let tel = &run.telemetry;
        let text = openmetrics::render(tel);
        let (samples, series, exemplars) = check_openmetrics(&text, tel);
        assert_eq!(samples, tel.series.sample_count(), "{id}: sample count");
        assert_eq!(series, tel.series.len(), "{id}: series count");
        assert!(exemplars > 0, "{id}: no exemplars exported");
        let stored_exemplars: usize = tel.series.iter().map(|(_, s)| s.exemplars.len()).sum();
        assert!(exemplars <= stored_exemplars);
        // The family metadata is all there.
        for f in tel.series.families() {
            if tel.series.iter().any(|(_, s)| s.labels.name().is_some_and(|n| n.starts_with(&*f.name))) {
                assert!(text.contains(&format!("# TYPE {} {}\n", f.name, f.kind.as_str())), "{id}: no TYPE for {}", f.name);
            }
        }
    }
}

#[test]
fn exports_are_deterministic() {
    let again = run_of("bookstore", 3);
    let (_, first) = &runs()[1];
    for kind in ExportKind::ALL {
        assert!(kind.render(&first.telemetry) == kind.render(&again.telemetry), "{} differs between runs of one seed", kind.file_name());
    }
}

// ------------------------------------------------------------------- OTLP

fn is_hex(s: &Value, len: usize) -> bool {
    s.as_str().is_some_and(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

fn nanos(v: &Value) -> u128 {
    v.as_str().expect("64-bit integers are strings").parse().expect("decimal nanoseconds")
}

fn attr<'a>(attrs: &'a Value, key: &str) -> Option<&'a Value> {
    attrs.as_array()?.iter().find(|a| a["key"] == key).map(|a| &a["value"])
}

#[test]
fn otlp_traces_parse_and_hold_every_kept_span() {
    for (id, run) in runs() {
        let tel = &run.telemetry;
        let v: Value = serde_json::from_str(&otlp::traces(tel)).expect("traces JSON parses");
        let mut spans = 0usize;
        let mut resources = BTreeSet::new();
        for rs in v["resourceSpans"].as_array().unwrap() {
            let svc = attr(&rs["resource"]["attributes"], "service.name").expect("service.name");
            let pod = attr(&rs["resource"]["attributes"], "k8s.pod.name").expect("k8s.pod.name");
            assert!(resources.insert((svc.to_string(), pod.to_string())), "{id}: a resource appears twice");
            for ss in rs["scopeSpans"].as_array().unwrap() {
                for s in ss["spans"].as_array().unwrap() {
                    spans += 1;
                    assert!(is_hex(&s["traceId"], 32) && is_hex(&s["spanId"], 16), "{id}: bad ids {s}");
                    assert!(s.get("parentSpanId").is_none_or(|p| is_hex(p, 16)));
                    assert!(nanos(&s["endTimeUnixNano"]) >= nanos(&s["startTimeUnixNano"]));
                    assert!((1..=5).contains(&s["kind"].as_i64().unwrap()));
                    assert!((0..=2).contains(&s["status"]["code"].as_i64().unwrap()));
                }
            }
        }
        assert_eq!(spans, tel.traces.span_count(), "{id}: span count");
        assert_eq!(spans as u64, run.stats.spans_kept, "{id}: kept spans");
    }
}

#[test]
fn otlp_logs_parse_and_hold_every_record() {
    for (id, run) in runs() {
        let tel = &run.telemetry;
        let v: Value = serde_json::from_str(&otlp::logs(tel)).expect("logs JSON parses");
        let mut n = 0;
        for rl in v["resourceLogs"].as_array().unwrap() {
            for sl in rl["scopeLogs"].as_array().unwrap() {
                assert!(sl["scope"]["name"].as_str().is_some_and(|s| !s.is_empty()));
                for r in sl["logRecords"].as_array().unwrap() {
                    n += 1;
                    assert!((1..=24).contains(&r["severityNumber"].as_i64().unwrap()));
                    assert!(r["body"]["stringValue"].is_string());
                    nanos(&r["timeUnixNano"]);
                    assert!(r.get("traceId").is_none_or(|t| is_hex(t, 32)));
                    assert!(r.get("spanId").is_none_or(|t| is_hex(t, 16)));
                }
            }
        }
        assert_eq!(n, tel.logs.len(), "{id}: log record count");
    }
}

#[test]
fn otlp_metrics_account_for_every_sample() {
    for (id, run) in runs() {
        let tel = &run.telemetry;
        let v: Value = serde_json::from_str(&otlp::metrics(tel)).expect("metrics JSON parses");
        let mut samples = 0u64;
        let mut names = BTreeSet::new();
        for rm in v["resourceMetrics"].as_array().unwrap() {
            assert!(attr(&rm["resource"]["attributes"], "service.name").is_some(), "{id}: resource without service.name");
            for sm in rm["scopeMetrics"].as_array().unwrap() {
                for m in sm["metrics"].as_array().unwrap() {
                    names.insert(m["name"].as_str().unwrap().to_string());
                    if let Some(s) = m.get("sum") {
                        assert_eq!(s["aggregationTemporality"], 2);
                        assert_eq!(s["isMonotonic"], true);
                        samples += s["dataPoints"].as_array().unwrap().len() as u64;
                    } else if let Some(g) = m.get("gauge") {
                        samples += g["dataPoints"].as_array().unwrap().len() as u64;
                    } else {
                        let h = &m["histogram"];
                        assert_eq!(h["aggregationTemporality"], 2);
                        for p in h["dataPoints"].as_array().unwrap() {
                            let counts: Vec<u64> = p["bucketCounts"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().parse().unwrap()).collect();
                            let bounds = p["explicitBounds"].as_array().unwrap();
                            assert_eq!(counts.len(), bounds.len() + 1, "{id}: {}", m["name"]);
                            assert_eq!(counts.iter().sum::<u64>(), nanos(&p["count"]) as u64, "{id}: {}", m["name"]);
                            assert!(nanos(&p["startTimeUnixNano"]) <= nanos(&p["timeUnixNano"]));
                            for e in p.get("exemplars").and_then(|e| e.as_array()).into_iter().flatten() {
                                assert!(is_hex(&e["traceId"], 32) && is_hex(&e["spanId"], 16));
                            }
                            // Buckets (with +Inf), _sum and _count.
                            samples += counts.len() as u64 + 2;
                        }
                    }
                }
            }
        }
        assert_eq!(samples, tel.series.sample_count(), "{id}: data points do not account for the store's samples");
        let families: BTreeSet<String> = openmetrics_family_names(tel);
        assert_eq!(names, families, "{id}: metric names");
    }
}

fn openmetrics_family_names(tel: &Telemetry) -> BTreeSet<String> {
    openmetrics::render(tel).lines().filter_map(|l| l.strip_prefix("# TYPE ")).map(|l| l.split(' ').next().unwrap().to_string()).collect()
}

// ------------------------------------------------------ JSON lines, folded

#[test]
fn logs_jsonl_is_one_object_per_record() {
    for (id, run) in runs() {
        let tel = &run.telemetry;
        let text = jsonl::logs(tel);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), tel.logs.len(), "{id}");
        let mut by_service: BTreeMap<String, usize> = BTreeMap::new();
        for l in &lines {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{id}: {e}: {l}"));
            for k in ["ts", "level", "msg", "service", "pod"] {
                assert!(v[k].is_string(), "{id}: no {k} in {l}");
            }
            *by_service.entry(v["service"].as_str().unwrap().to_string()).or_default() += 1;
        }
        let mut want: BTreeMap<String, usize> = BTreeMap::new();
        for r in tel.logs.records() {
            *want.entry(tel.resource(r.resource).service_name.to_string()).or_default() += 1;
        }
        assert_eq!(by_service, want, "{id}: lines per service");
    }
}

#[test]
fn folded_profiles_sum_to_the_store() {
    for (id, run) in runs() {
        let tel = &run.telemetry;
        let text = folded::profiles(tel);
        let lines: Vec<&str> = text.lines().collect();
        assert!(!lines.is_empty(), "{id}: no profile lines");
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted, "{id}: lines not sorted");
        let mut total = 0u64;
        for l in &lines {
            let (stack, n) = l.rsplit_once(' ').unwrap();
            // Frames may contain spaces (`GC Thread`); the count is after the last one.
            let parts: Vec<&str> = stack.split(';').collect();
            assert!(parts.len() >= 3 && parts.iter().all(|p| !p.is_empty()), "{id}: {l}");
            assert!(!parts[0].contains(' ') && !parts[1].contains(' '), "{id}: service and pod have no spaces: {l}");
            total += n.parse::<u64>().unwrap();
        }
        assert_eq!(total, tel.profiles.total_samples(), "{id}");
    }
}

// -------------------------------------------------------------------- CLI

mod cli {
    use super::*;
    use std::process::Command;

    fn obslab(args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_obslab")).args(args).output().expect("runs the binary");
        (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    }

    #[test]
    fn list_prints_one_line_per_builtin_and_the_drill() {
        let (code, out, _) = obslab(&["list"]);
        assert_eq!(code, 0);
        let ids: Vec<&str> = out.lines().map(|l| l.split_whitespace().next().unwrap()).collect();
        let mut want: Vec<&str> = obslab::scenario::BUILTINS.iter().map(|b| b.id).collect();
        want.push(obslab::scenario::drill::ID);
        assert_eq!(ids, want);
    }

    #[test]
    fn grade_reads_a_sheet_and_grades_it_against_the_run() {
        let (code, out, err) = obslab(&["questions", "intermittent-p99", "--seed", "4", "--duration", "20m", "--key"]);
        assert_eq!(code, 0, "{err}");
        let q: Value = serde_json::from_str(&out).unwrap();
        let culprit = q["questions"].as_array().unwrap().iter().find(|q| q["id"] == "culprit").unwrap()["expected"].as_str().unwrap().to_string();
        let dir = std::env::temp_dir().join(format!("obslab-grade-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sheet = dir.join("answers.json");
        std::fs::write(&sheet, format!(r#"{{"format":"obslab-answers/1","scenario":"intermittent-p99","seed":4,"answers":[{{"id":"culprit","answer":"{culprit}","hints":1}},{{"id":"mechanism","answer":"no-such-option"}}]}}"#)).unwrap();
        let (code, out, err) = obslab(&["grade", "intermittent-p99", "--duration", "20m", "--answers", sheet.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let g: Value = serde_json::from_str(&out).unwrap();
        let by = |id: &str| g["questions"].as_array().unwrap().iter().find(|q| q["id"] == id).unwrap().clone();
        assert_eq!(by("culprit")["verdict"], "correct");
        assert_eq!(by("culprit")["score"], 1.0, "2 points minus a 1-point hint");
        assert_eq!(by("mechanism")["verdict"], "invalid");
        assert!(by("mechanism")["error"]["message"].as_str().unwrap().contains("not an option"));
        assert_eq!(by("evidence")["answered"], false);
        std::fs::write(&sheet, "{\"answers\": [1,}").unwrap();
        let (code, _, err) = obslab(&["grade", "intermittent-p99", "--answers", sheet.to_str().unwrap()]);
        assert_eq!(code, 1);
        assert!(err.contains("line 1, column"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn run_json_has_the_documented_keys() {
        let (code, out, err) = obslab(&["run", "bookstore", "--seed", "3", "--duration", "2m", "--json"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.lines().count(), 1);
        let v: Value = serde_json::from_str(&out).unwrap();
        let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        let want: BTreeSet<&str> = [
            "scenario", "seed", "duration_s", "requests", "completed", "in_flight", "spans", "spans_kept", "spans_dropped",
            "traces_kept", "traces_dropped", "series", "samples", "log_records", "profile_samples", "events", "wall_ms",
            "spans_per_sec", "events_per_sec", "digest",
        ]
        .into_iter()
        .collect();
        assert_eq!(keys, want);
        assert_eq!(v["seed"], 3);
        assert_eq!(v["duration_s"].as_f64(), Some(120.0));
        let again = run_of_cli_digest();
        assert_eq!(v["digest"].as_str(), Some(again.as_str()));
    }

    fn run_of_cli_digest() -> String {
        let model = obslab::scenario::load_builtin("bookstore").unwrap();
        obslab::sim::run(&model, 3, Some(SimDuration::from_secs(120))).telemetry.digest()
    }

    #[test]
    fn bad_arguments_exit_2_with_usage() {
        for args in [&[][..], &["run"], &["run", "bookstore", "--seed", "x"], &["run", "bookstore", "--bogus"], &["export", "bookstore"], &["frob"], &["bench", "--seconds", "-1"]] {
            let (code, _, err) = obslab(args);
            assert_eq!(code, 2, "{args:?}");
            assert!(err.lines().any(|l| l.starts_with("usage:")), "{args:?}: {err}");
        }
        for args in [&["query"][..], &["query", "bookstore"], &["query", "bookstore", "--promql", "up", "--start", "0"]] {
            let (code, _, err) = obslab(args);
            assert_eq!(code, 2, "{args:?}");
            assert!(err.lines().any(|l| l.starts_with("usage:")), "{args:?}: {err}");
        }
    }

    #[test]
    fn query_prints_prometheus_api_json() {
        let (code, out, _) = obslab(&["query", "bookstore", "--seed", "3", "--duration", "5m", "--promql", "count(up)"]);
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["status"], "success");
        assert_eq!(v["data"]["resultType"], "vector");
        // Two bookstore pods, two nodes, one database, one payment gateway.
        assert_eq!(v["data"]["result"][0]["value"][1], "6");
        let (code, out, err) = obslab(&["query", "bookstore", "--duration", "5m", "--promql", "sum(rate(x[5m])"]);
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["status"], "error");
        assert_eq!(v["errorType"], "bad_data");
        assert!(err.contains('^'), "no caret under the error: {err}");
    }

    #[test]
    fn errors_exit_1_with_a_sentence() {
        let (code, _, err) = obslab(&["run", "no-such-scenario"]);
        assert_eq!(code, 1);
        assert!(err.contains("no built-in scenario"), "{err}");
        let dir = std::env::temp_dir().join(format!("obslab-cli-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[scenario]\nid = 3\n").unwrap();
        let (code, out, err) = obslab(&["check", bad.to_str().unwrap()]);
        assert_eq!(code, 1, "{out}");
        assert!(err.contains("line "), "{err}");
        let good = dir.join("good.toml");
        std::fs::write(&good, obslab::scenario::builtin("bookstore").unwrap()).unwrap();
        let (code, out, _) = obslab(&["check", good.to_str().unwrap()]);
        assert_eq!(code, 0);
        assert_eq!(out.trim(), "ok: bookstore (Bookstore)");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn export_writes_every_file() {
        let dir = std::env::temp_dir().join(format!("obslab-export-test-{}", std::process::id()));
        let (code, out, err) = obslab(&["export", "bookstore", "--seed", "3", "--duration", "1m", "--out", dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        for kind in ExportKind::ALL {
            let path = dir.join(kind.file_name());
            let len = std::fs::metadata(&path).unwrap().len();
            assert!(out.contains(&format!("{} ", kind.file_name())), "{out}");
            assert!(out.contains(&format!("{len} bytes")), "{out}");
        }
        assert!(std::fs::read_to_string(dir.join("metrics.om")).unwrap().ends_with("# EOF\n"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
