//! The flame graph of a real run: it accounts for every sample in the
//! profile store, per service and per replica, and a window compared
//! with itself shows no change anywhere.

use obslab::charts::flame::{DiffClass, FlameGraph};
use obslab::telemetry::resource::ResourceId;

#[test]
fn the_flame_graph_of_a_run_accounts_for_every_stored_sample() {
    let run = crate::run("intermittent-p99", 7, 5);
    let p = &run.telemetry.profiles;
    assert!(p.total_samples() > 1000, "{} samples", p.total_samples());
    let (from, to) = (0, run.model.duration.micros().min(5 * 60_000_000));
    let all = p.folded(from, to, |_| true);
    let g = FlameGraph::from_folded(all.iter().map(|(k, v)| (*k, *v)));
    assert_eq!(g.total, p.total_samples());
    assert_eq!(g.nodes[0].total_samples, p.total_samples());
    assert!((g.nodes[0].width - 1.0).abs() < 1e-12);
    // Each stack's samples end on one frame.
    assert_eq!(g.nodes.iter().map(|n| n.self_samples).sum::<u64>(), p.total_samples());
    assert!(g.max_depth >= 4, "depth {}", g.max_depth);

    // Per service and per replica, the parts add up to the whole.
    let tel = &run.telemetry;
    let mut by_service = 0;
    let mut services: Vec<&str> = tel.resources.iter().map(|r| &*r.service_name).collect();
    services.sort();
    services.dedup();
    for svc in services {
        let keep = |r: ResourceId| &*tel.resource(r).service_name == svc;
        let g = FlameGraph::from_folded(p.folded(from, to, keep));
        by_service += g.total;
        let mut by_pod = 0;
        for (i, _) in tel.resources.iter().enumerate().filter(|(_, r)| &*r.service_name == svc) {
            by_pod += FlameGraph::from_folded(p.folded(from, to, |x| x.0 as usize == i)).total;
        }
        assert_eq!(by_pod, g.total, "{svc}");
    }
    assert_eq!(by_service, p.total_samples());

    // Zooming into the widest first frame and searching it covers it whole.
    let top = g.children(0).max_by_key(|&c| g.nodes[c].total_samples).unwrap();
    let z = g.zoom(top);
    assert_eq!(z.nodes[z.focus].total_samples, g.nodes[top].total_samples);
    let s = z.search(&g.nodes[top].name);
    assert_eq!(s.samples, g.nodes[top].total_samples);
}

#[test]
fn a_window_diffed_with_itself_is_zero_everywhere() {
    let run = crate::run("intermittent-p99", 7, 5);
    let p = &run.telemetry.profiles;
    let w = p.folded(60_000_000, 180_000_000, |_| true);
    assert!(!w.is_empty());
    let d = FlameGraph::diff(w.iter().map(|(k, v)| (*k, *v)), w.iter().map(|(k, v)| (*k, *v)));
    for n in &d.nodes {
        let x = n.diff.expect("a diff node");
        assert_eq!(x.base_samples, x.comparison_samples, "{}", n.name);
        assert_eq!(x.base_share, x.comparison_share, "{}", n.name);
        assert_eq!(x.class(), DiffClass::Same, "{}", n.name);
        assert_eq!(x.label(), "±0%");
    }
    for f in d.functions() {
        let (b, c) = f.diff_self.unwrap();
        assert_eq!(b, c, "{}", f.name);
    }
}
