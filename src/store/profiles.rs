//! The profile store: CPU samples (100 Hz, 10 ms each) as folded stacks per
//! resource (replica) and time bucket. Stacks are interned; frames are
//! separated by `;` with the root first, as in Brendan Gregg's folded format.

use crate::telemetry::resource::ResourceId;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StackId(pub u32);

/// Sampling period of the CPU profiler, microseconds.
pub const SAMPLE_PERIOD_US: i64 = 10_000;

#[derive(Clone, Debug, Default)]
pub struct ProfileStore {
    stacks: Vec<Arc<str>>,
    stack_index: BTreeMap<Arc<str>, StackId>,
    /// Bucket width in microseconds of simulated time.
    pub bucket_us: i64,
    /// (bucket start µs, resource, stack) → samples.
    samples: BTreeMap<(i64, ResourceId, StackId), u64>,
}

impl ProfileStore {
    pub fn new(bucket_us: i64) -> Self {
        ProfileStore { bucket_us: bucket_us.max(1), ..Default::default() }
    }
    pub fn intern(&mut self, folded: &str) -> StackId {
        if let Some(&id) = self.stack_index.get(folded) {
            return id;
        }
        let id = StackId(self.stacks.len() as u32);
        let a: Arc<str> = folded.into();
        self.stacks.push(a.clone());
        self.stack_index.insert(a, id);
        id
    }
    pub fn stack(&self, id: StackId) -> &str {
        &self.stacks[id.0 as usize]
    }
    pub fn add(&mut self, bucket_start_us: i64, res: ResourceId, stack: StackId, samples: u64) {
        if samples > 0 {
            *self.samples.entry((bucket_start_us, res, stack)).or_default() += samples;
        }
    }
    pub fn samples(&self) -> impl Iterator<Item = (&(i64, ResourceId, StackId), &u64)> {
        self.samples.iter()
    }
    pub fn total_samples(&self) -> u64 {
        self.samples.values().sum()
    }
    /// Folded stacks summed over `[from, to)` µs for the resources `keep` accepts.
    pub fn folded(&self, from: i64, to: i64, keep: impl Fn(ResourceId) -> bool) -> BTreeMap<&str, u64> {
        let mut out: BTreeMap<&str, u64> = BTreeMap::new();
        for (&(b, r, s), &n) in &self.samples {
            if b >= from && b < to && keep(r) {
                *out.entry(self.stack(s)).or_default() += n;
            }
        }
        out
    }
}
