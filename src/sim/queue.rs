//! The event queue: a priority queue keyed by (time, sequence) so events
//! at the same instant pop in the order they were scheduled (FIFO
//! tie-break). Popping advances [`EventQueue::now`]; time never goes
//! backwards.
//!
//! Events are `Copy`; the heap, the free slots and the lanes are indexed
//! storage with their live lengths kept beside them (see [`Stack`]), so
//! the browser build pushes and pops without calls into `Vec` or
//! `VecDeque`.
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
    /// Written with `&`/`|` rather than `&&`/`||` so it compiles to
    /// compares and selects instead of branches: which child of a heap
    /// node is least is a coin toss the branch predictor loses.
    #[inline(always)]
    fn before(self, o: Key) -> bool {
        (self.time < o.time) | ((self.time == o.time) & (self.tag < o.tag))
    }
    #[inline(always)]
    fn seq(self) -> u64 {
        self.tag >> SLOT_BITS
    }
}

/// A growable stack whose live length is kept beside the storage, so
/// pushing and popping in the steady state (storage already grown) are
/// plain indexed stores and loads: the browser build (opt-level `z`,
/// inline threshold 0) calls `Vec::push` and `Vec::pop` out of line, and
/// the queue does one of each per event. Entries past `len` are stale.
struct Stack<T: Copy> {
    buf: Dense<T>,
    len: usize,
}

impl<T: Copy> Stack<T> {
    fn with_capacity(n: usize) -> Self {
        Stack { buf: Dense::with_capacity(n), len: 0 }
    }
    #[inline(always)]
    fn push(&mut self, v: T) {
        if self.len < self.buf.len() {
            self.buf[self.len] = v;
        } else {
            self.buf.push(v);
        }
        self.len += 1;
    }
    #[inline(always)]
    fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        Some(self.buf[self.len])
    }
}

/// A FIFO ring of (time, sequence, event) with a power-of-two capacity,
/// indexed directly for the same reason as [`Stack`].
struct Lane<E: Copy> {
    delay: i64,
    buf: Dense<(i64, u64, E)>,
    head: usize,
    len: usize,
}

impl<E: Copy> Lane<E> {
    #[inline(always)]
    fn push_back(&mut self, e: (i64, u64, E)) {
        if self.len == self.buf.len() {
            self.grow(e);
        }
        let mask = self.buf.len() - 1;
        self.buf[(self.head + self.len) & mask] = e;
        self.len += 1;
    }
    /// Doubles the ring (to at least 16 entries), unwrapping it to start
    /// at 0; `fill` pads the new half (never read before written).
    #[cold]
    fn grow(&mut self, fill: (i64, u64, E)) {
        let cap = self.buf.len();
        let new_cap = (cap * 2).max(16);
        let mut next = Dense::with_capacity(new_cap);
        for i in 0..self.len {
            next.push(self.buf[(self.head + i) & cap.wrapping_sub(1)]);
        }
        next.resize(new_cap, fill);
        self.buf = next;
        self.head = 0;
    }
    #[inline(always)]
    fn pop_front(&mut self) -> Option<(i64, u64, E)> {
        if self.len == 0 {
            return None;
        }
        let e = self.buf[self.head];
        self.head = (self.head + 1) & (self.buf.len() - 1);
        self.len -= 1;
        Some(e)
    }
    #[inline(always)]
    fn front_key(&self) -> (i64, u64) {
        if self.len == 0 {
            return EMPTY_LANE;
        }
        let (t, s, _) = self.buf[self.head];
        (t, s)
    }
}

/// A priority queue of future events with a current time.
pub struct EventQueue<E: Copy> {
    /// 4-ary min-heap of keys.
    heap: Stack<Key>,
    /// Events of heap keys by slot (stale in free slots), and the free slots.
    slots: Dense<E>,
    free: Stack<u32>,
    /// FIFO lanes of [`EventQueue::schedule_after`], one per delay in µs.
    lanes: Vec<Lane<E>>,
    /// (time, sequence) of each lane's front, `(i64::MAX, u64::MAX)` when
    /// empty: kept beside the lanes so choosing the next event reads a
    /// flat array instead of each lane's ring.
    fronts: Dense<(i64, u64)>,
    seq: u64,
    now: SimTime,
    popped: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue { heap: Stack::with_capacity(1024), slots: Dense::with_capacity(1024), free: Stack::with_capacity(1024), lanes: Vec::new(), fronts: Dense::new(), seq: 0, now: SimTime::ZERO, popped: 0 }
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
        self.heap.len + self.lanes.iter().map(|l| l.len).sum::<usize>()
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
                self.slots[i as usize] = event;
                i
            }
            None => {
                self.slots.push(event);
                self.slots.len() as u32 - 1
            }
        };
        debug_assert!((slot as u64) <= SLOT_MASK && self.seq < 1 << (64 - SLOT_BITS));
        self.push_key(Key { time: time.0, tag: self.seq << SLOT_BITS | slot as u64 });
    }
    #[inline(always)]
    fn push_key(&mut self, key: Key) {
        let mut hole = self.heap.len;
        self.heap.push(key);
        let heap = &mut self.heap.buf;
        while hole > 0 {
            let parent = (hole - 1) / 4;
            let p = heap[parent];
            if !key.before(p) {
                break;
            }
            heap[hole] = p;
            hole = parent;
        }
        heap[hole] = key;
    }
    /// Removes the heap's least key.
    #[inline(always)]
    fn pop_key(&mut self) -> Option<Key> {
        let last = self.heap.pop()?;
        let n = self.heap.len;
        if n == 0 {
            return Some(last);
        }
        let heap = &mut self.heap.buf;
        let top = heap[0];
        let mut hole = 0;
        loop {
            let first = 4 * hole + 1;
            if first >= n {
                break;
            }
            let (mut m, mut mk) = (first, heap[first]);
            if first + 3 < n {
                // A full node (the usual case): its four children, unrolled.
                for c in first + 1..first + 4 {
                    let ck = heap[c];
                    let b = ck.before(mk);
                    m = if b { c } else { m };
                    mk = if b { ck } else { mk };
                }
            } else {
                for c in first + 1..n {
                    let ck = heap[c];
                    if ck.before(mk) {
                        (m, mk) = (c, ck);
                    }
                }
            }
            if !mk.before(last) {
                break;
            }
            heap[hole] = mk;
            hole = m;
        }
        heap[hole] = last;
        Some(top)
    }
    /// Schedules `event` `delay` after now, as `schedule(now + delay)`
    /// does; meant for delays that repeat (a call site's timeout), which
    /// share a FIFO lane.
    pub fn schedule_after(&mut self, delay: SimDuration, event: E) {
        let d = delay.0.max(0);
        let time = SimTime(self.now.0 + d);
        let lane = match self.lanes.iter().position(|l| l.delay == d) {
            Some(i) => i,
            None if self.lanes.len() < MAX_LANES => {
                self.lanes.push(Lane { delay: d, buf: Dense::new(), head: 0, len: 0 });
                self.fronts.push(EMPTY_LANE);
                self.lanes.len() - 1
            }
            None => return self.schedule(time, event),
        };
        self.seq += 1;
        let l = &mut self.lanes[lane];
        if l.len == 0 {
            self.fronts[lane] = (time.0, self.seq);
        }
        l.push_back((time.0, self.seq, event));
    }
    /// The lane whose front comes before the heap's top, if any.
    #[inline(always)]
    fn first_lane(&self) -> Option<usize> {
        // An empty heap or lane compares as (i64::MAX, u64::MAX), after
        // every real event (sequence numbers never reach u64::MAX).
        let (mut bt, mut bs) = if self.heap.len == 0 { EMPTY_LANE } else { (self.heap.buf[0].time, self.heap.buf[0].seq()) };
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
            Some(i) => Some(SimTime(self.fronts[i].0)),
            None => (self.heap.len > 0).then(|| SimTime(self.heap.buf[0].time)),
        }
    }
    /// Pops the next event if it is due at or before `limit`.
    pub fn pop_until(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        let (time, event) = match self.first_lane() {
            Some(i) => {
                if self.fronts[i].0 > limit.0 {
                    return None;
                }
                let lane = &mut self.lanes[i];
                let (t, _, e) = lane.pop_front()?;
                self.fronts[i] = lane.front_key();
                (SimTime(t), e)
            }
            None => {
                if self.heap.len == 0 || self.heap.buf[0].time > limit.0 {
                    return None;
                }
                let k = self.pop_key()?;
                let slot = (k.tag & SLOT_MASK) as u32;
                self.free.push(slot);
                (SimTime(k.time), self.slots[slot as usize])
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
