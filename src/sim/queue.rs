//! The event queue: a priority queue keyed by (time, sequence) so events
//! at the same instant pop in the order they were scheduled (FIFO
//! tie-break). Popping advances [`EventQueue::now`]; time never goes
//! backwards.
//!
//! The heap is 4-ary and holds only 16-byte keys (time, then the sequence
//! number with the event's slot in its low bits); events wait in a slab.
//! Sifting moves a quarter of the bytes a heap of whole events would, over
//! half the levels of a binary heap. Keys are unique, so any correct heap
//! pops in the same order.
//!
//! Events scheduled a fixed delay after now (call timeouts: one delay per
//! call site) arrive in (time, sequence) order per delay, so each such
//! delay gets a FIFO lane instead of the heap: they are most of what is
//! pending (a timeout waits seconds, other events micro- to milliseconds),
//! and keeping them out makes every heap operation cheaper. Popping takes
//! the least (time, sequence) of the heap's top and the lanes' fronts, so
//! the order is exactly the one a single heap gives.

use super::dense::Dense;
use super::time::{SimDuration, SimTime};
use std::collections::VecDeque;

/// Distinct fixed delays given lanes; further ones use the heap.
const MAX_LANES: usize = 8;
/// Low bits of a heap key's tag that name the event's slot: 2^28 pending
/// events would take more memory than wasm32 has.
const SLOT_BITS: u32 = 28;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;

/// The front key of an empty lane: after every event.
const EMPTY_LANE: (i64, u64) = (i64::MAX, u64::MAX);

/// A heap key: earlier time first, then lower sequence number (the tag's
/// high bits; its low bits are the slot, never compared in practice since
/// sequence numbers are unique).
#[derive(Clone, Copy)]
struct Key {
    time: i64,
    tag: u64,
}

impl Key {
    #[inline(always)]
    fn before(self, o: Key) -> bool {
        self.time < o.time || (self.time == o.time && self.tag < o.tag)
    }
    fn seq(self) -> u64 {
        self.tag >> SLOT_BITS
    }
}

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

/// A priority queue of future events with a current time.
pub struct EventQueue<E> {
    /// 4-ary min-heap of keys.
    heap: Dense<Key>,
    /// Events of heap keys by slot, and the free slots.
    slots: Dense<Option<E>>,
    free: Vec<u32>,
    /// FIFO lanes of [`EventQueue::schedule_after`], by delay in µs.
    lanes: Vec<(i64, VecDeque<Entry<E>>)>,
    /// (time, sequence) of each lane's front, `(i64::MAX, u64::MAX)` when
    /// empty: kept beside the lanes so choosing the next event reads a
    /// flat array instead of each `VecDeque`'s front.
    fronts: Dense<(i64, u64)>,
    seq: u64,
    now: SimTime,
    popped: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue { heap: Dense::with_capacity(1024), slots: Dense::with_capacity(1024), free: Vec::new(), lanes: Vec::new(), fronts: Dense::new(), seq: 0, now: SimTime::ZERO, popped: 0 }
    }
    /// The time of the last popped event.
    pub fn now(&self) -> SimTime {
        self.now
    }
    /// Events popped so far.
    pub fn events_processed(&self) -> u64 {
        self.popped
    }
    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(|l| l.1.len()).sum::<usize>()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Schedules `event` at `time`; a time in the past is clamped to now so
    /// the clock stays monotonic.
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let time = time.max(self.now);
        self.seq += 1;
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(event);
                i
            }
            None => {
                self.slots.push(Some(event));
                self.slots.len() as u32 - 1
            }
        };
        debug_assert!((slot as u64) <= SLOT_MASK && self.seq < 1 << (64 - SLOT_BITS));
        self.push_key(Key { time: time.0, tag: self.seq << SLOT_BITS | slot as u64 });
    }
    fn push_key(&mut self, key: Key) {
        let mut hole = self.heap.len();
        self.heap.push(key);
        while hole > 0 {
            let parent = (hole - 1) / 4;
            let p = self.heap[parent];
            if !key.before(p) {
                break;
            }
            self.heap[hole] = p;
            hole = parent;
        }
        self.heap[hole] = key;
    }
    /// Removes the heap's least key.
    fn pop_key(&mut self) -> Option<Key> {
        let last = self.heap.pop()?;
        let n = self.heap.len();
        if n == 0 {
            return Some(last);
        }
        let top = self.heap[0];
        let mut hole = 0;
        loop {
            let first = 4 * hole + 1;
            if first >= n {
                break;
            }
            let mut m = first;
            let mut mk = self.heap[first];
            for c in first + 1..(first + 4).min(n) {
                let ck = self.heap[c];
                if ck.before(mk) {
                    m = c;
                    mk = ck;
                }
            }
            if !mk.before(last) {
                break;
            }
            self.heap[hole] = mk;
            hole = m;
        }
        self.heap[hole] = last;
        Some(top)
    }
    /// Schedules `event` `delay` after now, as `schedule(now + delay)`
    /// does; meant for delays that repeat (a call site's timeout), which
    /// share a FIFO lane.
    pub fn schedule_after(&mut self, delay: SimDuration, event: E) {
        let d = delay.0.max(0);
        let time = SimTime(self.now.0 + d);
        let lane = match self.lanes.iter().position(|l| l.0 == d) {
            Some(i) => i,
            None if self.lanes.len() < MAX_LANES => {
                self.lanes.push((d, VecDeque::new()));
                self.fronts.push(EMPTY_LANE);
                self.lanes.len() - 1
            }
            None => return self.schedule(time, event),
        };
        self.seq += 1;
        if self.lanes[lane].1.is_empty() {
            self.fronts[lane] = (time.0, self.seq);
        }
        self.lanes[lane].1.push_back(Entry { time, seq: self.seq, event });
    }
    /// The lane whose front comes before the heap's top, if any.
    #[inline]
    fn first_lane(&self) -> Option<usize> {
        // An empty heap or lane compares as (i64::MAX, u64::MAX), after
        // every real event (sequence numbers never reach u64::MAX).
        let (mut bt, mut bs) = if self.heap.is_empty() { EMPTY_LANE } else { (self.heap[0].time, self.heap[0].seq()) };
        let mut best = usize::MAX;
        let fronts: &[(i64, u64)] = &self.fronts;
        for (i, &(t, s)) in fronts.iter().enumerate() {
            if t < bt || (t == bt && s < bs) {
                (bt, bs, best) = (t, s, i);
            }
        }
        (best != usize::MAX).then_some(best)
    }
    pub fn peek_time(&self) -> Option<SimTime> {
        match self.first_lane() {
            Some(i) => self.lanes[i].1.front().map(|e| e.time),
            None => self.heap.first().map(|k| SimTime(k.time)),
        }
    }
    /// Pops the next event if it is due at or before `limit`.
    pub fn pop_until(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        let (time, event) = match self.first_lane() {
            Some(i) => {
                if self.fronts[i].0 > limit.0 {
                    return None;
                }
                let lane = &mut self.lanes[i].1;
                let e = lane.pop_front()?;
                self.fronts[i] = lane.front().map_or(EMPTY_LANE, |f| (f.time.0, f.seq));
                (e.time, e.event)
            }
            None => {
                if self.heap.is_empty() || self.heap[0].time > limit.0 {
                    return None;
                }
                let k = self.pop_key()?;
                let slot = (k.tag & SLOT_MASK) as u32;
                self.free.push(slot);
                (SimTime(k.time), self.slots[slot as usize].take()?)
            }
        };
        self.now = time;
        self.popped += 1;
        Some((time, event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(5), 'b');
        q.schedule(SimTime(1), 'a');
        q.schedule(SimTime(5), 'c');
        q.schedule(SimTime(5), 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop_until(SimTime(10)).map(|e| e.1)).collect();
        assert_eq!(order, vec!['a', 'b', 'c', 'd']);
        assert_eq!(q.now(), SimTime(5));
    }

    #[test]
    fn pops_in_time_then_schedule_order_like_a_sorted_map() {
        // The same random schedule into a sorted map keyed by (time, seq)
        // (the reference), through `schedule` only, and through lanes for
        // some fixed delays must pop identically, ties included.
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut reference = std::collections::BTreeMap::new();
        let (mut rnow, mut rseq) = (0i64, 0u64);
        let (mut a, mut b) = (EventQueue::new(), EventQueue::new());
        let delays = [0i64, 5, 50, 1000, 7, 9, 11, 13, 17, 19];
        let (mut pr, mut pa, mut pb) = (Vec::new(), Vec::new(), Vec::new());
        let mut id = 0u32;
        for step in 0..20_000i64 {
            for _ in 0..(next() % 4) {
                id += 1;
                let lane = next() % 2 == 0;
                let d = if lane { delays[(next() % delays.len() as u64) as usize] } else { (next() % 40) as i64 - 5 };
                let t = SimTime(a.now().0 + d);
                rseq += 1;
                reference.insert((t.0.max(rnow), rseq), id);
                a.schedule(t, id);
                if lane {
                    b.schedule_after(SimDuration(d), id);
                } else {
                    b.schedule(t, id);
                }
            }
            let limit = SimTime(step * 3);
            while let Some(e) = reference.first_entry() {
                if e.key().0 > limit.0 {
                    break;
                }
                rnow = e.key().0;
                pr.push((SimTime(rnow), e.remove()));
            }
            while let Some(e) = a.pop_until(limit) {
                pa.push(e);
            }
            while let Some(e) = b.pop_until(limit) {
                pb.push(e);
            }
            assert_eq!(a.len(), reference.len());
            assert_eq!(b.len(), reference.len());
            assert_eq!(a.peek_time(), b.peek_time());
            assert_eq!(a.peek_time().map(|t| t.0), reference.keys().next().map(|k| k.0));
        }
        assert!(pr.len() > 20_000);
        assert_eq!(pa, pr);
        assert_eq!(pb, pr);
        assert_eq!(a.events_processed(), pr.len() as u64);
        assert_eq!(b.events_processed(), pr.len() as u64);
    }

    #[test]
    fn pop_until_respects_limit_and_past_is_clamped() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(10), 1);
        assert!(q.pop_until(SimTime(9)).is_none());
        assert_eq!(q.pop_until(SimTime(10)).unwrap().0, SimTime(10));
        q.schedule(SimTime(3), 2);
        assert_eq!(q.pop_until(SimTime(100)).unwrap().0, SimTime(10));
    }
}
