//! Faults as they run: which are drawn for a seed, their time windows
//! (incident windows are drawn per seed; red herrings get their own), the
//! replica a per-replica fault hits, and fast "is it active now" checks.

use super::rng::{self, stable_hash};
use super::time::{SimDuration, SimTime};
use crate::scenario::model::{Fault, FaultKind, Model};
use rand::Rng;

#[derive(Clone, Debug)]
pub struct RunFault {
    /// 1-based id, the `cause` of affected spans.
    pub id: u16,
    pub kind: FaultKind,
    pub windows: Vec<(SimTime, SimTime)>,
    /// The replica index a per-replica fault hits.
    pub replica: Option<u32>,
    pub red_herring: bool,
}

impl RunFault {
    /// Whether `t` falls in one of the windows.
    #[inline]
    pub fn active(&self, t: SimTime) -> bool {
        let i = self.windows.partition_point(|w| w.1 <= t);
        self.windows.get(i).is_some_and(|w| w.0 <= t)
    }
    /// The start of the window containing `t`.
    pub fn window_start(&self, t: SimTime) -> Option<SimTime> {
        let i = self.windows.partition_point(|w| w.1 <= t);
        self.windows.get(i).filter(|w| w.0 <= t).map(|w| w.0)
    }
}

/// The incident windows for a seed.
pub fn incident_windows(model: &Model, seed: u64) -> Vec<(SimTime, SimTime)> {
    let Some(inc) = &model.incidents else { return Vec::new() };
    let mut r = rng::stream(seed, "incidents");
    let end = SimTime(model.duration.micros());
    let mut out = Vec::new();
    let mut t = SimTime(inc.first_after.micros()) + SimDuration::from_secs_f64(inc.every.as_secs_f64() * 0.3 * rng::unit(&mut r));
    while t < end {
        let len = SimDuration::from_secs_f64(inc.length.as_secs_f64() * (0.7 + 0.6 * rng::unit(&mut r)));
        let stop = (t + len).min(end);
        if stop > t {
            out.push((t, stop));
        }
        let gap = SimDuration::from_secs_f64(inc.every.as_secs_f64() * (0.6 + 0.8 * rng::unit(&mut r)));
        t = stop + gap;
    }
    out
}

/// The catalogue fault index drawn for `seed`: every block of N consecutive
/// seeds covers each of the N faults once, in a seed-dependent order.
pub fn drawn_indexes(model: &Model, seed: u64) -> Vec<usize> {
    let Some(c) = &model.catalogue else { return Vec::new() };
    if c.healthy_every > 0 && seed % c.healthy_every == 0 {
        return Vec::new();
    }
    let n = c.faults.len() as u64;
    let rot = stable_hash(&[b"catalogue", &(seed / n).to_le_bytes()]) % n;
    let first = ((seed % n + rot) % n) as usize;
    (0..c.draw as usize).map(|k| (first + k) % n as usize).collect()
}

/// All faults of a run: fixed ones, those drawn from the catalogue, then red herrings.
pub fn plan(model: &Model, seed: u64) -> (Vec<RunFault>, Vec<(SimTime, SimTime)>) {
    let incidents = incident_windows(model, seed);
    let mut faults: Vec<&Fault> = model.faults.iter().collect();
    if let Some(c) = &model.catalogue {
        faults.extend(drawn_indexes(model, seed).into_iter().map(|i| &c.faults[i]));
    }
    let mut out = Vec::new();
    let end = SimTime(model.duration.micros());
    for (k, f) in faults.into_iter().enumerate() {
        let mut r = rng::stream(seed, &format!("fault/{k}"));
        out.push(RunFault {
            id: out.len() as u16 + 1,
            kind: f.kind.clone(),
            windows: explicit(f, end).unwrap_or_else(|| incidents.clone()),
            replica: pick_replica(model, &f.kind, &mut r),
            red_herring: false,
        });
    }
    for (k, f) in model.red_herrings.iter().enumerate() {
        let mut r = rng::stream(seed, &format!("herring/{k}"));
        let windows = explicit(f, end).unwrap_or_else(|| herring_windows(&f.kind, &incidents, end, &mut r));
        out.push(RunFault { id: out.len() as u16 + 1, kind: f.kind.clone(), windows, replica: pick_replica(model, &f.kind, &mut r), red_herring: true });
    }
    (out, incidents)
}

fn explicit(f: &Fault, end: SimTime) -> Option<Vec<(SimTime, SimTime)>> {
    let ws = f.windows.as_ref()?;
    let mut v: Vec<(SimTime, SimTime)> = ws.iter().map(|&(a, b)| (SimTime(a.micros()).min(end), SimTime(b.micros()).min(end))).filter(|w| w.0 < w.1).collect();
    crate::sort::sort(&mut v);
    Some(v)
}

fn pick_replica(model: &Model, kind: &FaultKind, r: &mut rng::SimRng) -> Option<u32> {
    match kind {
        FaultKind::GcPauses { service, replica, .. } | FaultKind::BadReplica { service, replica, .. } => {
            Some(replica.unwrap_or_else(|| r.random_range(0..model.services[*service].replicas)))
        }
        _ => None,
    }
}

/// Red herrings avoid the incident windows so they never explain them.
fn herring_windows(kind: &FaultKind, incidents: &[(SimTime, SimTime)], end: SimTime, r: &mut rng::SimRng) -> Vec<(SimTime, SimTime)> {
    let (count, min_s, max_s) = match kind {
        FaultKind::NoisyWarning { .. } => return vec![(SimTime::ZERO, end)],
        FaultKind::ErrorBurst { .. } => (1, 60.0, 100.0),
        FaultKind::CpuSpike { .. } => (2, 120.0, 240.0),
        _ => (1, 60.0, 120.0),
    };
    let mut out = Vec::new();
    for _ in 0..count * 20 {
        if out.len() == count {
            break;
        }
        let len = SimDuration::from_secs_f64(min_s + (max_s - min_s) * rng::unit(r));
        let span = (end.0 - len.0).max(1);
        let start = SimTime((rng::unit(r) * span as f64) as i64);
        let stop = (start + len).min(end);
        let clash = incidents.iter().chain(out.iter()).any(|w| start < w.1 + SimDuration::from_secs(30) && w.0 < stop + SimDuration::from_secs(30));
        if !clash {
            out.push((start, stop));
        }
    }
    crate::sort::sort(&mut out);
    out
}
