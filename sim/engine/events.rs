//! The future-event list for servers that need real events (continuous
//! batching). Events are ordered by time, then by insertion sequence.
//!
//! Why the sequence: two events at the same time must be handled in the
//! order they were scheduled (FIFO), never in an order that depends on heap
//! internals, so that a run is reproducible bit for bit and equal-time
//! causality (an arrival scheduled before a completion at the same instant)
//! is kept. Arrivals, which come already sorted from their own stream, take
//! a sequence number from the same counter when drawn and wait beside the
//! queue instead of inside it (one comparison per event instead of an entry
//! per user).
//!
//! A server has at most one pending event: scheduling a new one supersedes
//! the old (the server re-planned), so the queue is a tournament tree with
//! one leaf per server, updated in `log2(servers)` comparisons, and a
//! superseded event is dropped at once instead of waiting in a heap to be
//! skipped. [`EventQueue::superseded`] counts them.

/// A scheduled server event: the end of a step (or run of steps) on `server`.
/// It is always the server's latest plan (a newer one replaces it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// When, seconds.
    pub time_s: f64,
    /// Insertion sequence (FIFO tie-break).
    pub seq: u64,
    /// Which server.
    pub server: u32,
}

/// Min-queue of events by (time, insertion sequence), one pending event per
/// server.
#[derive(Debug, Clone, Default)]
pub struct EventQueue {
    /// Each server's pending event (meaningless where its key is `EMPTY`).
    slots: Vec<Event>,
    /// Each slot's order key ([`order_key`]; `EMPTY`: no event), apart from
    /// the events so that a comparison is one integer compare.
    keys: Vec<u128>,
    /// Tournament tree over the slots: `winners[i]` is the slot with the
    /// earliest event under node `i` (root 1; node `leaves + j` is slot `j`).
    winners: Vec<u32>,
    leaves: usize,
    next_seq: u64,
    superseded: u64,
}

const EMPTY: u128 = u128::MAX;

/// (time, seq) as one integer with the same order: the time's bits mapped
/// so that unsigned order is `f64::total_cmp` order, then the sequence.
#[inline]
fn order_key(time_s: f64, seq: u64) -> u128 {
    let bits = time_s.to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    ((ordered as u128) << 64) | seq as u128
}

impl EventQueue {
    /// An empty queue for `servers` servers.
    pub fn for_servers(servers: usize) -> Self {
        let leaves = servers.max(1).next_power_of_two();
        let mut winners = vec![0u32; 2 * leaves];
        for (j, w) in winners[leaves..].iter_mut().enumerate() {
            *w = j as u32;
        }
        // Every node's winner lies in its own subtree, from the start: a
        // winner from elsewhere could hide an event when that slot empties.
        for i in (1..leaves).rev() {
            winners[i] = winners[2 * i];
        }
        let none = Event {
            time_s: f64::INFINITY,
            seq: u64::MAX,
            server: 0,
        };
        EventQueue {
            slots: vec![none; leaves],
            keys: vec![EMPTY; leaves],
            winners,
            leaves,
            next_seq: 0,
            superseded: 0,
        }
    }

    /// Take the next insertion sequence number (also used for arrivals
    /// waiting beside the queue).
    #[inline]
    pub fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    /// Schedule an event for `server` at `time_s`, superseding the one it
    /// has pending, if any.
    #[inline]
    pub fn push(&mut self, time_s: f64, server: u32) {
        let seq = self.take_seq();
        let j = server as usize;
        let (old, key) = (self.keys[j], order_key(time_s, seq));
        self.superseded += (old != EMPTY) as u64;
        self.keys[j] = key;
        self.slots[j] = Event {
            time_s,
            seq,
            server,
        };
        if key < old {
            self.sift_earlier(j);
        } else {
            self.replay(j);
        }
    }

    /// The earliest event, if any.
    #[inline]
    pub fn peek(&self) -> Option<&Event> {
        let j = self.winners[1] as usize;
        (self.keys[j] != EMPTY).then(|| &self.slots[j])
    }

    /// Remove and return the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        let j = self.winners[1] as usize;
        if self.keys[j] == EMPTY {
            return None;
        }
        self.keys[j] = EMPTY;
        self.replay(j);
        Some(self.slots[j])
    }

    /// Events dropped because their server scheduled a newer one.
    pub fn superseded(&self) -> u64 {
        self.superseded
    }

    /// Slot `j`'s key became earlier: it takes over the nodes on its path
    /// where it now wins, and stops at the first it loses (no node above
    /// had it as winner, and nothing else changed).
    #[inline]
    fn sift_earlier(&mut self, j: usize) {
        let key = self.keys[j];
        let mut i = (self.leaves + j) / 2;
        while i >= 1 {
            let w = self.winners[i] as usize;
            if w != j {
                if key < self.keys[w] {
                    self.winners[i] = j as u32;
                } else {
                    return;
                }
            }
            i /= 2;
        }
    }

    /// Recompute the winners on the path from slot `j` to the root.
    #[inline]
    fn replay(&mut self, j: usize) {
        let mut i = (self.leaves + j) / 2;
        while i >= 1 {
            let (a, b) = (self.winners[2 * i], self.winners[2 * i + 1]);
            let a_first = self.keys[a as usize] <= self.keys[b as usize];
            self.winners[i] = if a_first { a } else { b };
            i /= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::for_servers(4);
        q.push(2.0, 0);
        q.push(1.0, 1);
        q.push(1.0, 2);
        q.push(1.0, 3);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.server).collect();
        assert_eq!(order, vec![1, 2, 3, 0]);
        assert!(q.peek().is_none());
    }

    /// Emptying one slot never hides another server's event (each node's
    /// winner stays inside its own subtree).
    #[test]
    fn popping_one_server_leaves_the_others_visible() {
        let mut q = EventQueue::for_servers(4);
        q.push(1.0, 0);
        q.push(2.0, 3);
        q.push(3.0, 2);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.server).collect();
        assert_eq!(order, vec![0, 3, 2]);
    }

    /// Interleaved pushes and pops agree with a brute-force scan of every
    /// server's newest event, for fleets of 1 to 40 servers.
    #[test]
    fn agrees_with_a_scan_of_all_servers() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in 1..=40usize {
            let mut q = EventQueue::for_servers(n);
            // Reference: each server's pending (time, seq), if any.
            let mut pending: Vec<Option<(f64, u64)>> = vec![None; n];
            let mut seq = 0u64;
            for _ in 0..2000 {
                if next() % 3 != 0 {
                    let s = (next() % n as u64) as usize;
                    let t = (next() % 50) as f64; // many equal times
                    q.push(t, s as u32);
                    pending[s] = Some((t, seq));
                    seq += 1;
                } else {
                    let want = (0..n)
                        .filter_map(|s| pending[s].map(|(t, q)| (t, q, s)))
                        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    let got = q.pop().map(|e| (e.time_s, e.seq, e.server as usize));
                    assert_eq!(got, want, "{n} servers");
                    if let Some((_, _, s)) = want {
                        pending[s] = None;
                    }
                }
            }
        }
    }

    /// The order key sorts like (time by `total_cmp`, then sequence).
    #[test]
    fn order_key_sorts_like_time_then_sequence() {
        let times = [-1.5, -0.0, 0.0, 1e-300, 0.5, 2.0, 1e300, f64::INFINITY];
        for (i, &a) in times.iter().enumerate() {
            for (j, &b) in times.iter().enumerate() {
                for (sa, sb) in [(0u64, 1u64), (1, 0), (5, 5)] {
                    let want = a.total_cmp(&b).then(sa.cmp(&sb));
                    let got = order_key(a, sa).cmp(&order_key(b, sb));
                    assert_eq!(got, want, "times {i} {j} seqs {sa} {sb}");
                }
            }
        }
    }

    /// A newer event of a server replaces its pending one, whatever their
    /// times, and the queue still pops the earliest of all servers.
    #[test]
    fn a_server_keeps_only_its_newest_event() {
        let mut q = EventQueue::for_servers(3);
        q.push(5.0, 0);
        q.push(3.0, 1);
        q.push(1.0, 0); // supersedes 5.0
        q.push(9.0, 1); // supersedes 3.0
        q.push(4.0, 2);
        assert_eq!(q.superseded(), 2);
        let order: Vec<(u32, f64)> = std::iter::from_fn(|| q.pop())
            .map(|e| (e.server, e.time_s))
            .collect();
        assert_eq!(order, vec![(0, 1.0), (2, 4.0), (1, 9.0)]);
    }
}
