//! Metric instruments as an SDK holds them between scrapes: counters,
//! gauges and explicit-bucket histograms with exemplars, each bound to a
//! label set and a scrape target. A scrape copies every instrument of one
//! target into the series store, as Prometheus scraping an OTel exporter
//! would (cumulative temporality, `_bucket{le}`/`_sum`/`_count`). A
//! per-metric cardinality limit folds extra label sets into an
//! `otel_metric_overflow="true"` series, as the OTel SDK does.

use crate::store::{SeriesId, SeriesStore};
use crate::telemetry::ids::{SpanId, TraceId};
use crate::telemetry::metric::{format_float, Exemplar, Labels, MetricFamily, MetricKind};
use super::dense::Dense;
use super::fxhash::FxHashMap;
use std::sync::Arc;

const RECENT_BITS: u32 = 12;
const RECENT: usize = 1 << RECENT_BITS;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstrumentId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FamilyId(pub u16);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TargetId(pub u16);

struct Family {
    meta: MetricFamily,
    label_sets: u32,
    limit: u32,
    overflow: FxHashMap<TargetId, InstrumentId>,
}

enum Value {
    Counter(f64),
    Gauge(f64),
    Histogram { counts: Dense<u64>, sum: f64, count: u64, exemplars: Dense<Option<(f64, TraceId, SpanId, i64)>> },
}

struct Instrument {
    family: FamilyId,
    labels: Labels,
    value: Value,
    /// Series ids once created at the first scrape: one for counters and
    /// gauges; buckets (incl. +Inf), then sum, then count for histograms.
    series: Vec<SeriesId>,
}

/// All instruments of a run, grouped by scrape target.
#[derive(Default)]
pub struct Instruments {
    families: Dense<Family>,
    instruments: Dense<Instrument>,
    by_key: FxHashMap<(FamilyId, u64), InstrumentId>,
    /// A direct-mapped cache in front of `by_key`: most lookups hit it
    /// without probing the map.
    recent: Dense<(FamilyId, u64, InstrumentId)>,
    targets: Vec<(Labels, Vec<InstrumentId>)>,
}

impl Instruments {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn family(&mut self, name: &str, kind: MetricKind, help: &str, unit: &str, buckets: &[f64], limit: u32) -> FamilyId {
        self.families.push(Family {
            meta: MetricFamily { name: name.into(), kind, help: help.into(), unit: unit.into(), buckets: buckets.to_vec() },
            label_sets: 0,
            limit: limit.max(1),
            overflow: FxHashMap::default(),
        });
        debug_assert!(self.families.len() < u16::MAX as usize, "u16::MAX marks an empty cache entry");
        FamilyId(self.families.len() as u16 - 1)
    }
    /// Registers a scrape target with its target labels (job, instance, ...).
    pub fn target(&mut self, labels: Labels) -> TargetId {
        self.targets.push((labels, Vec::new()));
        TargetId(self.targets.len() as u16 - 1)
    }
    pub fn describe_all(&self, store: &mut SeriesStore) {
        for f in &self.families {
            store.describe(f.meta.clone());
        }
    }
    /// The instrument for `key` in `family`; `labels` builds its own labels
    /// (without target labels) the first time the key is seen.
    pub fn get(&mut self, family: FamilyId, target: TargetId, key: u64, labels: impl FnOnce() -> Vec<(&'static str, Arc<str>)>) -> InstrumentId {
        if self.recent.is_empty() {
            // No family has this id, so no lookup matches an empty entry.
            self.recent = vec![(FamilyId(u16::MAX), 0, InstrumentId(0)); RECENT].into();
        }
        let slot = Self::slot(family, key);
        let (f, k, id) = self.recent[slot];
        if f == family && k == key {
            return id;
        }
        let id = self.lookup_or_create(family, target, key, labels);
        self.recent[slot] = (family, key, id);
        id
    }
    #[inline(always)]
    fn slot(family: FamilyId, key: u64) -> usize {
        let h = (key ^ (family.0 as u64) << 48).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> (64 - RECENT_BITS)) as usize
    }
    fn lookup_or_create(&mut self, family: FamilyId, target: TargetId, key: u64, labels: impl FnOnce() -> Vec<(&'static str, Arc<str>)>) -> InstrumentId {
        if let Some(&id) = self.by_key.get(&(family, key)) {
            return id;
        }
        let fam = &mut self.families[family.0 as usize];
        let over = fam.label_sets >= fam.limit;
        if over {
            if let Some(&id) = fam.overflow.get(&target) {
                self.by_key.insert((family, key), id);
                return id;
            }
        }
        fam.label_sets += 1;
        let name = fam.meta.name.clone();
        let kind = fam.meta.kind;
        let nb = fam.meta.buckets.len() + 1;
        let mut l = self.targets[target.0 as usize].0.clone();
        if over {
            l.set("otel_metric_overflow", "true");
        } else {
            for (k, v) in labels() {
                // An empty value means "no label", as in Prometheus.
                if !v.is_empty() {
                    l.set_arc(k.into(), v);
                }
            }
        }
        l.set(crate::telemetry::metric::METRIC_NAME, &name);
        let value = match kind {
            MetricKind::Counter => Value::Counter(0.0),
            MetricKind::Gauge => Value::Gauge(0.0),
            MetricKind::Histogram => Value::Histogram { counts: vec![0; nb].into(), sum: 0.0, count: 0, exemplars: vec![None; nb].into() },
        };
        let id = InstrumentId(self.instruments.len() as u32);
        self.instruments.push(Instrument { family, labels: l, value, series: Vec::new() });
        self.targets[target.0 as usize].1.push(id);
        self.by_key.insert((family, key), id);
        if over {
            self.families[family.0 as usize].overflow.insert(target, id);
        }
        id
    }
    /// Distinct label sets the instrumentation asked for in a family,
    /// including those folded into overflow.
    pub fn attempted_label_sets(&self, family: FamilyId) -> usize {
        self.by_key.keys().filter(|(f, _)| *f == family).count()
    }
    pub fn add(&mut self, id: InstrumentId, v: f64) {
        match &mut self.instruments[id.0 as usize].value {
            Value::Counter(c) => *c += v,
            Value::Gauge(g) => *g += v,
            Value::Histogram { .. } => {}
        }
    }
    /// Sets a counter from a cumulative total kept elsewhere; never decreases.
    pub fn set_counter(&mut self, id: InstrumentId, v: f64) {
        if let Value::Counter(c) = &mut self.instruments[id.0 as usize].value {
            if v > *c {
                *c = v;
            }
        }
    }
    pub fn set(&mut self, id: InstrumentId, v: f64) {
        if let Value::Gauge(g) = &mut self.instruments[id.0 as usize].value {
            *g = v;
        }
    }
    /// Records one histogram observation; a valid trace id becomes the
    /// bucket's exemplar (the latest one wins, as in the OTel SDK's reservoir).
    pub fn observe(&mut self, id: InstrumentId, v: f64, trace: TraceId, span: SpanId, t_ms: i64) {
        let inst = &mut self.instruments[id.0 as usize];
        let fam = &self.families[inst.family.0 as usize];
        if let Value::Histogram { counts, sum, count, exemplars } = &mut inst.value {
            // The first bucket with `v <= le` (bounds are strictly increasing,
            // and most observations land in the first few).
            let bounds: &[f64] = &fam.meta.buckets;
            let mut b = 0;
            while b < bounds.len() && bounds[b] < v {
                b += 1;
            }
            counts[b] += 1;
            *sum += v;
            *count += 1;
            if trace.is_valid() {
                exemplars[b] = Some((v, trace, span, t_ms));
            }
        }
    }
    /// Appends the current value of every instrument of `target` at `t_ms`.
    pub fn scrape(&mut self, target: TargetId, t_ms: i64, store: &mut SeriesStore) {
        let ids = std::mem::take(&mut self.targets[target.0 as usize].1);
        for &id in &ids {
            let inst = &mut self.instruments[id.0 as usize];
            let fam = &self.families[inst.family.0 as usize];
            if inst.series.is_empty() {
                match fam.meta.kind {
                    MetricKind::Counter => {
                        let mut l = inst.labels.clone();
                        l.set(crate::telemetry::metric::METRIC_NAME, &format!("{}_total", fam.meta.name));
                        inst.series.push(store.get_or_create(l));
                    }
                    MetricKind::Gauge => inst.series.push(store.get_or_create(inst.labels.clone())),
                    MetricKind::Histogram => {
                        for i in 0..=fam.meta.buckets.len() {
                            let mut l = inst.labels.clone();
                            l.set(crate::telemetry::metric::METRIC_NAME, &format!("{}_bucket", fam.meta.name));
                            let le = fam.meta.buckets.get(i).copied().unwrap_or(f64::INFINITY);
                            l.set("le", &format_float(le));
                            inst.series.push(store.get_or_create(l));
                        }
                        for suffix in ["_sum", "_count"] {
                            let mut l = inst.labels.clone();
                            l.set(crate::telemetry::metric::METRIC_NAME, &format!("{}{suffix}", fam.meta.name));
                            inst.series.push(store.get_or_create(l));
                        }
                    }
                }
            }
            match &mut inst.value {
                Value::Counter(v) | Value::Gauge(v) => {
                    store.append(inst.series[0], t_ms, *v);
                }
                Value::Histogram { counts, sum, count, exemplars } => {
                    let mut cum = 0u64;
                    for (i, c) in counts.iter().enumerate() {
                        cum += c;
                        store.append(inst.series[i], t_ms, cum as f64);
                        if let Some((v, tr, sp, ts)) = exemplars[i].take() {
                            store.add_exemplar(inst.series[i], Exemplar { timestamp_ms: ts, value: v, trace_id: tr, span_id: sp });
                        }
                    }
                    store.append(inst.series[counts.len()], t_ms, *sum);
                    store.append(inst.series[counts.len() + 1], t_ms, *count as f64);
                }
            }
        }
        self.targets[target.0 as usize].1 = ids;
    }
    pub fn target_count(&self) -> usize {
        self.targets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn histogram_scrape_is_cumulative_with_exemplars() {
        let mut ins = Instruments::new();
        let f = ins.family("h", MetricKind::Histogram, "help", "seconds", &[0.1, 1.0], 10);
        let t = ins.target(Labels::from_pairs([("job", "a")]));
        let id = ins.get(f, t, 1, || vec![("x", "y".into())]);
        ins.observe(id, 0.05, TraceId(7), SpanId(1), 10);
        ins.observe(id, 0.5, TraceId::INVALID, SpanId::INVALID, 11);
        ins.observe(id, 5.0, TraceId::INVALID, SpanId::INVALID, 12);
        let mut st = SeriesStore::new();
        ins.scrape(t, 1000, &mut st);
        let v: Vec<f64> = st.by_name("h_bucket").iter().map(|&s| st.get(s).values[0]).collect();
        assert_eq!(v, vec![1.0, 2.0, 3.0]);
        assert_eq!(st.get(st.by_name("h_count")[0]).values[0], 3.0);
        assert_eq!(st.get(st.by_name("h_bucket")[0]).exemplars[0].trace_id, TraceId(7));
    }

    #[test]
    fn cardinality_limit_folds_into_overflow() {
        let mut ins = Instruments::new();
        let f = ins.family("c", MetricKind::Counter, "", "", &[], 2);
        let t = ins.target(Labels::from_pairs([("job", "a")]));
        for k in 0..5u64 {
            let id = ins.get(f, t, k, || vec![("user", k.to_string().into())]);
            ins.add(id, 1.0);
        }
        let mut st = SeriesStore::new();
        ins.scrape(t, 1000, &mut st);
        assert_eq!(st.by_name("c_total").len(), 3);
        assert_eq!(ins.attempted_label_sets(f), 5);
        let over = st.lookup(&Labels::from_pairs([("__name__", "c_total"), ("job", "a"), ("otel_metric_overflow", "true")])).unwrap();
        assert_eq!(st.get(over).values[0], 3.0);
    }
}
