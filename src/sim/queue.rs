//! The event queue: a binary heap keyed by (time, sequence) so events at
//! the same instant pop in the order they were scheduled (FIFO tie-break).
//! Popping advances [`EventQueue::now`]; time never goes backwards.
//!
//! Events scheduled a fixed delay after now (call timeouts: one delay per
//! call site) arrive in (time, sequence) order per delay, so each such
//! delay gets a FIFO lane instead of the heap: they are most of what is
//! pending (a timeout waits seconds, other events micro- to milliseconds),
//! and keeping them out makes every heap operation cheaper. Popping takes
//! the least (time, sequence) of the heap's top and the lanes' fronts, so
//! the order is exactly the one a single heap gives.

use super::time::{SimDuration, SimTime};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// Distinct fixed delays given lanes; further ones use the heap.
const MAX_LANES: usize = 8;

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        self.time == o.time && self.seq == o.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    fn cmp(&self, o: &Self) -> Ordering {
        o.time.cmp(&self.time).then_with(|| o.seq.cmp(&self.seq))
    }
}

/// A priority queue of future events with a current time.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    /// FIFO lanes of [`EventQueue::schedule_after`], by delay in µs.
    lanes: Vec<(i64, VecDeque<Entry<E>>)>,
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
        EventQueue { heap: BinaryHeap::with_capacity(1024), lanes: Vec::new(), seq: 0, now: SimTime::ZERO, popped: 0 }
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
        self.heap.push(Entry { time, seq: self.seq, event });
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
                self.lanes.len() - 1
            }
            None => return self.schedule(time, event),
        };
        self.seq += 1;
        self.lanes[lane].1.push_back(Entry { time, seq: self.seq, event });
    }
    /// The lane whose front comes before the heap's top, if any.
    fn first_lane(&self) -> Option<usize> {
        let mut best: Option<(SimTime, u64, usize)> = self.heap.peek().map(|e| (e.time, e.seq, usize::MAX));
        for (i, l) in self.lanes.iter().enumerate() {
            if let Some(e) = l.1.front() {
                if best.is_none_or(|b| (e.time, e.seq) < (b.0, b.1)) {
                    best = Some((e.time, e.seq, i));
                }
            }
        }
        best.and_then(|b| (b.2 != usize::MAX).then_some(b.2))
    }
    pub fn peek_time(&self) -> Option<SimTime> {
        match self.first_lane() {
            Some(i) => self.lanes[i].1.front().map(|e| e.time),
            None => self.heap.peek().map(|e| e.time),
        }
    }
    /// Pops the next event if it is due at or before `limit`.
    pub fn pop_until(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        let e = match self.first_lane() {
            Some(i) => {
                if self.lanes[i].1.front()?.time > limit {
                    return None;
                }
                self.lanes[i].1.pop_front()?
            }
            None => {
                if self.heap.peek()?.time > limit {
                    return None;
                }
                self.heap.pop()?
            }
        };
        self.now = e.time;
        self.popped += 1;
        Some((e.time, e.event))
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
    fn lanes_pop_in_the_order_one_heap_gives() {
        // The same schedule through `schedule` only and through lanes for
        // some fixed delays must pop identically, ties included.
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let (mut a, mut b) = (EventQueue::new(), EventQueue::new());
        let delays = [0i64, 5, 50, 1000, 7, 9, 11, 13, 17, 19];
        let (mut pa, mut pb) = (Vec::new(), Vec::new());
        let mut id = 0u32;
        for step in 0..20_000 {
            for _ in 0..(next() % 3) {
                id += 1;
                if next() % 2 == 0 {
                    let d = delays[(next() % delays.len() as u64) as usize];
                    a.schedule(SimTime(a.now().0 + d), id);
                    b.schedule_after(SimDuration(d), id);
                } else {
                    let t = SimTime(a.now().0 + (next() % 30) as i64);
                    a.schedule(t, id);
                    b.schedule(t, id);
                }
            }
            let limit = SimTime(step * 3);
            while let Some(e) = a.pop_until(limit) {
                pa.push(e);
            }
            while let Some(e) = b.pop_until(limit) {
                pb.push(e);
            }
            assert_eq!(a.len(), b.len());
            assert_eq!(a.peek_time(), b.peek_time());
        }
        assert!(pa.len() > 10_000);
        assert_eq!(pa, pb);
        assert_eq!(a.events_processed(), b.events_processed());
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
