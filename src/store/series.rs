//! The series store: one [`Series`] per label set, samples kept in columnar
//! vectors (timestamps in Unix milliseconds, float values), appended in time
//! order by the scraper, with exemplars beside them and an index by metric
//! name. Query engines read it; nothing here knows PromQL.

use crate::sim::dense::Dense;
use crate::telemetry::metric::{Exemplar, Labels, MetricFamily};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesId(pub u32);

#[derive(Clone, Debug, Default)]
pub struct Series {
    pub labels: Labels,
    /// Unix milliseconds, strictly increasing.
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
    /// Exemplars in time order (histogram `_bucket` series only).
    pub exemplars: Vec<Exemplar>,
}

impl Series {
    /// Index range of samples with `from <= t <= to`.
    pub fn range(&self, from: i64, to: i64) -> std::ops::Range<usize> {
        let a = self.timestamps.partition_point(|&t| t < from);
        let b = self.timestamps.partition_point(|&t| t <= to);
        a..b.max(a)
    }
}

#[derive(Clone, Debug, Default)]
pub struct SeriesStore {
    series: Dense<Series>,
    index: BTreeMap<Labels, SeriesId>,
    by_name: BTreeMap<Arc<str>, Vec<SeriesId>>,
    families: BTreeMap<Arc<str>, MetricFamily>,
    samples: u64,
}

impl SeriesStore {
    pub fn new() -> Self {
        Self::default()
    }
    /// Registers a family's metadata (type, help, unit); the last call wins.
    pub fn describe(&mut self, family: MetricFamily) {
        self.families.insert(family.name.clone(), family);
    }
    pub fn families(&self) -> impl Iterator<Item = &MetricFamily> {
        self.families.values()
    }
    pub fn family(&self, name: &str) -> Option<&MetricFamily> {
        self.families.get(name)
    }
    /// The id of the series with exactly these labels, creating it if new.
    pub fn get_or_create(&mut self, labels: Labels) -> SeriesId {
        if let Some(&id) = self.index.get(&labels) {
            return id;
        }
        let id = SeriesId(self.series.len() as u32);
        let name: Arc<str> = labels.name().unwrap_or("").into();
        self.by_name.entry(name).or_default().push(id);
        self.index.insert(labels.clone(), id);
        self.series.push(Series { labels, ..Default::default() });
        id
    }
    pub fn lookup(&self, labels: &Labels) -> Option<SeriesId> {
        self.index.get(labels).copied()
    }
    /// Appends a sample; a timestamp not after the last one is ignored, as
    /// Prometheus rejects out-of-order samples.
    pub fn append(&mut self, id: SeriesId, t_ms: i64, v: f64) -> bool {
        let s = &mut self.series[id.0 as usize];
        if s.timestamps.last().is_some_and(|&last| last >= t_ms) {
            return false;
        }
        s.timestamps.push(t_ms);
        s.values.push(v);
        self.samples += 1;
        true
    }
    /// Reserves room for `n` more samples in a series.
    pub fn reserve(&mut self, id: SeriesId, n: usize) {
        let s = &mut self.series[id.0 as usize];
        s.timestamps.reserve(n);
        s.values.reserve(n);
    }
    pub fn add_exemplar(&mut self, id: SeriesId, e: Exemplar) {
        self.series[id.0 as usize].exemplars.push(e);
    }
    pub fn get(&self, id: SeriesId) -> &Series {
        &self.series[id.0 as usize]
    }
    pub fn len(&self) -> usize {
        self.series.len()
    }
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
    pub fn sample_count(&self) -> u64 {
        self.samples
    }
    pub fn iter(&self) -> impl Iterator<Item = (SeriesId, &Series)> {
        self.series.iter().enumerate().map(|(i, s)| (SeriesId(i as u32), s))
    }
    /// Series ids of one metric name, in creation order.
    pub fn by_name(&self, name: &str) -> &[SeriesId] {
        self.by_name.get(name).map(|v| v.as_slice()).unwrap_or(&[])
    }
    /// All metric names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(|k| &**k)
    }
    /// Earliest and latest sample timestamps over all series.
    pub fn time_bounds(&self) -> Option<(i64, i64)> {
        let mut b: Option<(i64, i64)> = None;
        for s in &self.series {
            if let (Some(&a), Some(&z)) = (s.timestamps.first(), s.timestamps.last()) {
                b = Some(match b {
                    None => (a, z),
                    Some((x, y)) => (x.min(a), y.max(z)),
                });
            }
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn append_is_ordered_and_indexed() {
        let mut st = SeriesStore::new();
        let id = st.get_or_create(Labels::from_pairs([("__name__", "up"), ("job", "a")]));
        assert_eq!(st.get_or_create(Labels::from_pairs([("job", "a"), ("__name__", "up")])), id);
        assert!(st.append(id, 1000, 1.0));
        assert!(!st.append(id, 1000, 2.0));
        assert!(st.append(id, 2000, 3.0));
        assert_eq!(st.by_name("up"), &[id]);
        assert_eq!(st.get(id).range(1000, 1500), 0..1);
        assert_eq!(st.sample_count(), 2);
    }
}
