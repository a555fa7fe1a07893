//! Incident drills (SCENARIOS.md §4): a generator of fresh incidents for
//! interview practice. A drill is the intermittent-P99 shop with its load,
//! capacity, incident timing, severity and red herrings drawn from the
//! drill's seed, and the cause drawn from the catalogue by the same seed;
//! it asks culprit, mechanism, evidence and window. The seed is the drill's
//! name ("drill 4127"), so two people can compare on the same incident.

use super::model::{FaultKind, Model};
use super::{load_builtin, ScenarioError};
use crate::sim::rng;
use crate::sim::time::SimDuration;
use rand::Rng;

/// The scenario id drills are routed under.
pub const ID: &str = "drill";

/// Severity of a drill, which scales the cause's strength.
pub const SEVERITIES: [(&str, f64); 3] = [("mild", 0.85), ("moderate", 1.0), ("severe", 1.2)];

/// The questions a drill asks (ids from intermittent-p99).
const QUESTIONS: [&str; 4] = ["culprit", "mechanism", "evidence", "window"];

fn minutes(m: f64) -> SimDuration {
    SimDuration::from_micros((m * 60e6) as i64)
}

fn scale(d: SimDuration, s: f64) -> SimDuration {
    SimDuration::from_micros((d.micros() as f64 * s) as i64)
}

/// The drill for `seed`.
pub fn model(seed: u64) -> Result<Model, ScenarioError> {
    let mut m = load_builtin("intermittent-p99")?;
    let mut r = rng::stream(seed, "drill");
    // Timing: 30 minutes with at least two incidents.
    m.duration = minutes(30.0);
    if let Some(inc) = &mut m.incidents {
        inc.every = minutes(r.random_range(7.0..12.0));
        inc.length = minutes(r.random_range(2.0..4.0));
        inc.first_after = minutes(r.random_range(2.0..5.0));
    }
    // Load and capacity.
    let load = r.random_range(0.8..1.2);
    m.traffic.rate *= load;
    for n in &mut m.nodes {
        n.cores = (n.cores * r.random_range(0.9..1.25)).round().max(2.0);
    }
    // Severity scales the strength of every catalogue cause.
    let (severity, s) = SEVERITIES[r.random_range(0..SEVERITIES.len())];
    if let Some(c) = &mut m.catalogue {
        for f in &mut c.faults {
            strengthen(&mut f.kind, s);
        }
    }
    // Red herrings: each kept with probability 3/4, moved to a drawn place.
    let services = m.services.len();
    let nodes = m.nodes.len();
    let mut herrings = Vec::new();
    for mut h in std::mem::take(&mut m.red_herrings) {
        if r.random_bool(0.25) {
            continue;
        }
        match &mut h.kind {
            FaultKind::ErrorBurst { service, .. } | FaultKind::NoisyWarning { service, .. } => *service = r.random_range(0..services),
            FaultKind::CpuSpike { node, .. } => *node = r.random_range(0..nodes),
            _ => {}
        }
        herrings.push(h);
    }
    m.red_herrings = herrings;
    m.questions.retain(|q| QUESTIONS.contains(&q.id.as_str()));
    m.id = ID.to_string();
    m.title = format!("Incident drill {seed}");
    m.subtitle = format!("A {severity} incident, drawn from the catalogue");
    m.level = "drill".into();
    m.minutes = 15;
    m.briefing = format!(
        "Pager: *checkout and product pages are slow for some users*. Load is {:.0}% of usual. \
         You have 30 minutes of telemetry. Find the culprit, the mechanism and a trace that proves it — \
         against the clock if you like. Drill {seed}: share the number and a colleague gets the same incident.",
        load * 100.0
    );
    Ok(m)
}

fn strengthen(k: &mut FaultKind, s: f64) {
    let ratio = |r: &mut f64| *r = (*r * s).min(0.95);
    match k {
        // Never stronger than the scenario's: a longer leak makes the
        // callers' 1 s timeouts fire, and the incident turns into a
        // timeout-and-retry cascade (drill 17 with severe: the solver,
        // like a hurried learner, answered timeouts_retries).
        FaultKind::PoolExhaustion { ratio: r, hold, .. } => {
            let s = s.min(1.0);
            *r *= s;
            *hold = scale(*hold, s);
        }
        FaultKind::GcPauses { pause, .. } => *pause = scale(*pause, s),
        FaultKind::CpuThrottling { ratio: r, .. } => *r = (*r * s).min(0.97),
        FaultKind::BadReplica { factor, .. } => *factor *= s,
        FaultKind::FlakyDependency { ratio: r, .. } => ratio(r),
        FaultKind::ThreadStarvation { hold, ratio: r, .. } => {
            *hold = scale(*hold, s);
            ratio(r);
        }
        FaultKind::CacheStampede { .. } => {}
        FaultKind::NPlusOne { queries, .. } => *queries = ((*queries as f64) * s).round() as u32,
        FaultKind::LockContention { hold, .. } => *hold = scale(*hold, s),
        FaultKind::PacketLoss { ratio: r, .. } => ratio(r),
        FaultKind::ErrorBurst { .. } | FaultKind::NoisyWarning { .. } | FaultKind::CpuSpike { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drills_differ_by_seed_and_repeat_for_the_same_seed() {
        let a = model(11).unwrap();
        let b = model(11).unwrap();
        let c = model(12).unwrap();
        assert_eq!(format!("{:?}", a.incidents), format!("{:?}", b.incidents));
        assert_eq!(a.briefing, b.briefing);
        assert_ne!(format!("{:?}{}", a.incidents, a.briefing), format!("{:?}{}", c.incidents, c.briefing));
        assert_eq!(a.questions.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(), QUESTIONS);
        let inc = a.incidents.as_ref().unwrap();
        assert!(inc.first_after.micros() + inc.every.micros() + inc.length.micros() <= a.duration.micros(), "two incidents fit in the drill");
    }
}
