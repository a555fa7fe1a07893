use super::run;

#[test]
fn each_builtin_scenario_reproduces_its_digest() {
    for (id, minutes) in [("intermittent-p99", 10), ("bookstore", 10), ("slo-rollout", 3 * 24 * 60)] {
        let a = run(id, 7, minutes);
        let b = run(id, 7, minutes);
        assert_eq!(a.telemetry.digest(), b.telemetry.digest(), "{id} seed 7 is not deterministic");
        assert_eq!(a.truth, b.truth, "{id} seed 7 ground truth differs between runs");
        let c = run(id, 8, minutes);
        assert_ne!(a.telemetry.digest(), c.telemetry.digest(), "{id}: seeds 7 and 8 gave the same telemetry");
    }
}
