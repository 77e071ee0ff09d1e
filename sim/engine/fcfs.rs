//! Servers that do not batch: each request holds one server for its whole
//! service time, first come first served. These need no event queue at all
//! (docs/model.md section 4):
//!
//! - [`DedicatedDevices`]: one device per user, Lindley's recursion
//!   `start = max(arrival, device_free_at)` on an array of free times.
//! - [`PooledFleet`] with a central queue (M/G/c): the Kiefer-Wolfowitz
//!   recursion, a min-heap of server free times; the request starts on the
//!   server that frees first.
//! - [`PooledFleet`] with per-server queues: dispatch at arrival (round robin,
//!   join-shortest-queue, power of two choices), then Lindley per server.
//!
//! Requests must be offered in arrival order; each call returns when the
//! request starts and ends, which is exact for FCFS.

use std::collections::VecDeque;

use rand::RngExt;

use crate::core::rng::SimRng;

/// When a request started service and when it ended, seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Served {
    /// Time service started.
    pub start_s: f64,
    /// Time service ended.
    pub end_s: f64,
}

/// One device per user; a user's overlapping requests queue FCFS on it.
#[derive(Debug, Clone)]
pub struct DedicatedDevices {
    free_at_s: Vec<f64>,
}

impl DedicatedDevices {
    /// `users` idle devices.
    pub fn new(users: usize) -> Self {
        DedicatedDevices {
            free_at_s: vec![0.0; users],
        }
    }

    /// Serve a request of `user` arriving at `arrival_s` needing `service_s`.
    #[inline]
    pub fn serve(&mut self, user: u32, arrival_s: f64, service_s: f64) -> Served {
        let free = &mut self.free_at_s[user as usize];
        let start_s = arrival_s.max(*free);
        let end_s = start_s + service_s;
        *free = end_s;
        Served { start_s, end_s }
    }

    /// Number of devices.
    pub fn devices(&self) -> usize {
        self.free_at_s.len()
    }
}

/// How a pooled fleet assigns requests to servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dispatch {
    /// One FCFS queue shared by all servers (M/G/c): the head of the queue
    /// goes to the first server that frees. In LLM batching fleets: a
    /// request joins the least-loaded server (KV reserved + queued) that
    /// still has a batch slot and KV room for it, else a shared FIFO that
    /// whichever server frees room first drains.
    CentralQueue,
    /// Per-server queues, servers taken in turn.
    RoundRobin,
    /// Per-server queues, the server with the fewest requests (waiting plus
    /// in service); ties go to the lowest index.
    JoinShortestQueue,
    /// Per-server queues, the shorter of two servers drawn at random.
    PowerOfTwoChoices,
    /// Per-server queues, the server with the least KV cache reserved plus
    /// queued (LLM batching fleets only).
    LeastKvLoad,
    /// Per-server queues, the server caching the longest prefix of the
    /// prompt among those whose load is within a slack of the least loaded
    /// (LLM batching fleets with prefix caching only; elsewhere the fewest
    /// requests, as `join_shortest_queue`).
    PrefixAffinity,
}

impl Dispatch {
    /// Names as written in scenario files.
    pub const NAMES: [&'static str; 6] = [
        "central_queue",
        "round_robin",
        "join_shortest_queue",
        "power_of_two_choices",
        "least_kv_load",
        "prefix_affinity",
    ];

    /// Scenario-file name of this policy.
    pub fn name(&self) -> &'static str {
        match self {
            Dispatch::CentralQueue => Self::NAMES[0],
            Dispatch::RoundRobin => Self::NAMES[1],
            Dispatch::JoinShortestQueue => Self::NAMES[2],
            Dispatch::PowerOfTwoChoices => Self::NAMES[3],
            Dispatch::LeastKvLoad => Self::NAMES[4],
            Dispatch::PrefixAffinity => Self::NAMES[5],
        }
    }
}

/// A min-heap of server free times (f64 seconds), stored flat.
#[derive(Debug, Clone)]
struct FreeTimeHeap {
    t: Vec<f64>,
}

impl FreeTimeHeap {
    fn new(servers: usize) -> Self {
        FreeTimeHeap {
            t: vec![0.0; servers],
        }
    }

    #[inline]
    fn min(&self) -> f64 {
        self.t[0]
    }

    /// Replace the minimum with `v` and restore the heap order.
    #[inline]
    fn replace_min(&mut self, v: f64) {
        let n = self.t.len();
        let mut i = 0;
        loop {
            let l = 2 * i + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let c = if r < n && self.t[r] < self.t[l] { r } else { l };
            if self.t[c] < v {
                self.t[i] = self.t[c];
                i = c;
            } else {
                break;
            }
        }
        self.t[i] = v;
    }
}

/// Per-server queue state for dispatch at arrival.
#[derive(Debug, Clone)]
struct ServerQueues {
    /// Departure times of the requests assigned to each server and not yet
    /// gone, in FCFS (= departure) order.
    in_system: Vec<VecDeque<f64>>,
    free_at_s: Vec<f64>,
    next_rr: usize,
}

impl ServerQueues {
    /// Requests at server `s` at time `t`: drop those gone by then.
    #[inline]
    fn len_at(&mut self, s: usize, t: f64) -> usize {
        let q = &mut self.in_system[s];
        while q.front().is_some_and(|d| *d <= t) {
            q.pop_front();
        }
        q.len()
    }
}

#[derive(Debug, Clone)]
enum FleetState {
    Central(FreeTimeHeap),
    PerServer(ServerQueues),
}

/// A fleet of identical non-batching servers.
#[derive(Debug, Clone)]
pub struct PooledFleet {
    servers: usize,
    dispatch: Dispatch,
    state: FleetState,
    rng: SimRng,
}

impl PooledFleet {
    /// `servers` idle servers (at least 1). `rng` is used only by
    /// power-of-two-choices dispatch.
    pub fn new(servers: usize, dispatch: Dispatch, rng: SimRng) -> Self {
        assert!(servers >= 1, "a fleet needs at least one server");
        let state = match dispatch {
            Dispatch::CentralQueue => FleetState::Central(FreeTimeHeap::new(servers)),
            _ => FleetState::PerServer(ServerQueues {
                in_system: vec![VecDeque::new(); servers],
                free_at_s: vec![0.0; servers],
                next_rr: 0,
            }),
        };
        PooledFleet {
            servers,
            dispatch,
            state,
            rng,
        }
    }

    /// Number of servers.
    pub fn servers(&self) -> usize {
        self.servers
    }

    /// Serve a request arriving at `arrival_s` needing `service_s`.
    #[inline]
    pub fn serve(&mut self, arrival_s: f64, service_s: f64) -> Served {
        match &mut self.state {
            FleetState::Central(heap) => {
                let start_s = arrival_s.max(heap.min());
                let end_s = start_s + service_s;
                heap.replace_min(end_s);
                Served { start_s, end_s }
            }
            FleetState::PerServer(q) => {
                let n = self.servers;
                let s = match self.dispatch {
                    Dispatch::RoundRobin => {
                        let s = q.next_rr;
                        q.next_rr = (s + 1) % n;
                        s
                    }
                    Dispatch::JoinShortestQueue | Dispatch::PrefixAffinity => {
                        let mut best = 0;
                        let mut best_len = usize::MAX;
                        for s in 0..n {
                            let l = q.len_at(s, arrival_s);
                            if l < best_len {
                                best = s;
                                best_len = l;
                                if l == 0 {
                                    break;
                                }
                            }
                        }
                        best
                    }
                    Dispatch::PowerOfTwoChoices => {
                        two_choices(&mut self.rng, n, |s| q.len_at(s, arrival_s))
                    }
                    Dispatch::CentralQueue | Dispatch::LeastKvLoad => {
                        unreachable!(
                            "central queue uses the heap; least-KV is rejected for non-LLM fleets"
                        )
                    }
                };
                let start_s = arrival_s.max(q.free_at_s[s]);
                let end_s = start_s + service_s;
                q.free_at_s[s] = end_s;
                if self.dispatch != Dispatch::RoundRobin {
                    q.in_system[s].push_back(end_s);
                }
                Served { start_s, end_s }
            }
        }
    }
}

/// Power-of-two-choices dispatch over `n` servers: two distinct servers
/// drawn at random, the one with the smaller `load` (ties to the first).
pub(crate) fn two_choices(
    rng: &mut SimRng,
    n: usize,
    mut load: impl FnMut(usize) -> usize,
) -> usize {
    if n == 1 {
        return 0;
    }
    let a = rng.random_range(0..n);
    let mut b = rng.random_range(0..n - 1);
    if b >= a {
        b += 1;
    }
    if load(b) < load(a) {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng::{stream_rng, StreamKind};

    #[test]
    fn dedicated_device_without_overlap_never_waits() {
        let mut d = DedicatedDevices::new(2);
        let s = d.serve(0, 0.0, 1.0);
        assert_eq!(
            s,
            Served {
                start_s: 0.0,
                end_s: 1.0
            }
        );
        let s = d.serve(0, 1.0, 1.0);
        assert_eq!(s.start_s, 1.0);
        let s = d.serve(0, 1.5, 1.0);
        assert_eq!(s.start_s, 2.0, "overlap queues FCFS");
        let s = d.serve(1, 1.5, 1.0);
        assert_eq!(s.start_s, 1.5, "other user's device is free");
    }

    #[test]
    fn central_queue_takes_earliest_free_server() {
        let mut f = PooledFleet::new(
            2,
            Dispatch::CentralQueue,
            stream_rng(0, 0, StreamKind::Placement, 0),
        );
        assert_eq!(f.serve(0.0, 10.0).start_s, 0.0);
        assert_eq!(f.serve(0.0, 3.0).start_s, 0.0);
        assert_eq!(f.serve(1.0, 1.0).start_s, 3.0);
        assert_eq!(f.serve(1.0, 1.0).start_s, 4.0);
        assert_eq!(f.serve(1.0, 1.0).start_s, 5.0);
    }

    #[test]
    fn jsq_prefers_idle_server() {
        let mut f = PooledFleet::new(
            2,
            Dispatch::JoinShortestQueue,
            stream_rng(0, 0, StreamKind::Placement, 0),
        );
        f.serve(0.0, 10.0);
        let s = f.serve(0.5, 1.0);
        assert_eq!(s.start_s, 0.5);
        let s = f.serve(0.6, 1.0); // both have one request: lowest index (server 0)
        assert_eq!(s.start_s, 10.0);
        let s = f.serve(2.0, 1.0); // server 1 empty again
        assert_eq!(s.start_s, 2.0);
    }
}
