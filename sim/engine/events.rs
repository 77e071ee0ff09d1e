//! The future-event list for servers that need real events (continuous
//! batching). Events are ordered by time, then by insertion sequence.
//!
//! Why the sequence: two events at the same time must be handled in the
//! order they were scheduled (FIFO), never in an order that depends on heap
//! internals, so that a run is reproducible bit for bit and equal-time
//! causality (an arrival scheduled before a completion at the same instant)
//! is kept. Arrivals, which come already sorted from their own stream, take
//! a sequence number from the same counter when drawn and wait beside the
//! heap instead of inside it (one comparison per event instead of a heap
//! entry per user).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A scheduled server event: the end of a step (or run of steps) on `server`.
/// `epoch` lets a rescheduled server ignore its superseded events.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    /// When, seconds.
    pub time_s: f64,
    /// Insertion sequence (FIFO tie-break).
    pub seq: u64,
    /// Which server.
    pub server: u32,
    /// Server epoch at scheduling time.
    pub epoch: u32,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest
    /// (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time_s
            .total_cmp(&self.time_s)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// Min-queue of events by (time, insertion sequence).
#[derive(Debug, Default)]
pub struct EventQueue {
    heap: BinaryHeap<Event>,
    next_seq: u64,
}

impl EventQueue {
    /// An empty queue with room for `capacity` events.
    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(capacity),
            next_seq: 0,
        }
    }

    /// Take the next insertion sequence number (also used for arrivals
    /// waiting beside the heap).
    #[inline]
    pub fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    /// Schedule an event for `server` at `time_s`.
    #[inline]
    pub fn push(&mut self, time_s: f64, server: u32, epoch: u32) {
        let seq = self.take_seq();
        self.heap.push(Event {
            time_s,
            seq,
            server,
            epoch,
        });
    }

    /// The earliest event, if any.
    #[inline]
    pub fn peek(&self) -> Option<&Event> {
        self.heap.peek()
    }

    /// Remove and return the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        self.heap.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::with_capacity(4);
        q.push(2.0, 0, 0);
        q.push(1.0, 1, 0);
        q.push(1.0, 2, 0);
        q.push(1.0, 3, 0);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.server).collect();
        assert_eq!(order, vec![1, 2, 3, 0]);
    }
}
