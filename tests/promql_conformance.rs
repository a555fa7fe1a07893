//! Runs Prometheus's own PromQL test scripts (../shared/testdata/promql)
//! through obslab's engine and requires zero failures. Unsupported features
//! are reported by name, never counted as passing.

use obslab::query::promql::testing::run_script;
use std::path::Path;

#[test]
fn prometheus_test_scripts_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/promql");
    // The scripts live beside the project in every checkout and CI run.
    let rd = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "test")).collect();
    files.sort();
    let (mut passed, mut failed, mut unsupported, mut native) = (0, 0, 0, 0);
    let mut report = String::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let rep = run_script(&text);
        let name = f.file_name().unwrap().to_string_lossy();
        for fail in &rep.failures {
            report.push_str(&format!("FAIL {name}: {fail}\n"));
        }
        let feats: Vec<String> = rep.features.iter().map(|(k, v)| format!("{k} x{v}")).collect();
        report.push_str(&format!("{name}: {} passed, {} failed, {} unsupported ({})\n", rep.passed, rep.failed, rep.unsupported, feats.join(", ")));
        passed += rep.passed;
        failed += rep.failed;
        unsupported += rep.unsupported;
        native += rep.native;
    }
    let float = passed + failed + unsupported - native;
    report.push_str(&format!(
        "{passed} passed, {failed} failed, {unsupported} unsupported; {:.1}% of {float} float evals supported and passing\n",
        100.0 * passed as f64 / float.max(1) as f64
    ));
    println!("{report}");
    assert_eq!(failed, 0, "PromQL conformance failures:\n{report}");
}
