//! Peak memory of a run, a sizing or a sweep, estimated from the scenario
//! alone before anything runs ([`estimate_memory`], [`estimate_sweep_memory`]),
//! so that a run too large for the machine is refused at once instead of
//! swapping for minutes. What grows is, in order of size in practice:
//!
//! - per-user state of each simulation in progress: a dedicated device's
//!   free time (8 bytes a user), the draw counters of closed-loop users (4),
//!   the session counters (4, plus follow-ups waiting) and the agents'
//!   heap of next requests (24 bytes an entry, grown by doubling);
//! - the per-user rate spread (`requests_per_day_cv`), held once by the
//!   scenario: the multipliers and Vose's alias table (20 bytes a user, 28
//!   while it is built), and a trace's requests;
//! - the requests queued by an overloaded pooled fleet (a batching fleet's
//!   sequences, a per-server queue's departure times), which grow with the
//!   horizon;
//! - the statistics kept: each placement x replication's latency
//!   histograms (~256 KiB each; `run` keeps all of them until the summary).
//!
//! Simulations in progress are at most the number of worker threads. The
//! constants are measured (peak RSS from `/usr/bin/time -v`, see
//! `scripts/memory-check.sh`, which holds the estimate within 2x of it); an
//! estimate errs high where a fleet's behaviour is unknown before running.

use crate::engine::Dispatch;
use crate::scenario::{PlacementKind, Scenario};
use crate::workload::Behaviour;

/// The process before any per-user state: the binary, the catalogue,
/// polars and the worker threads' stacks (measured: ~28 MiB).
const BASE_BYTES: f64 = 32.0 * MIB;
const MIB: f64 = 1024.0 * 1024.0;
/// One latency histogram (HDR, 3 digits, 1 us to ~11.6 days), as resident.
const HISTOGRAM_BYTES: f64 = 256.0 * 1024.0;
/// A recorder besides its histograms (day timeline, counters).
const RECORDER_BYTES: f64 = 32.0 * 1024.0;
/// A dedicated device: its free time.
const DEDICATED_DEVICE_BYTES: f64 = 8.0;
/// A closed-loop user's record: draw counter, requests left in its
/// session, its conversation (workload::source's `UserState`).
const CLOSED_LOOP_USER_BYTES: f64 = 16.0;
/// A sessions user: a share of the follow-up heap.
const SESSION_USER_BYTES: f64 = 4.0;
/// An agent: its next request in the follow-up heap (16 bytes), with the
/// heap's growth by doubling.
const AGENT_USER_BYTES: f64 = 24.0;
/// A user of a rate spread: multiplier, alias probability and alias, plus
/// the lists used while the table is built.
const SPREAD_USER_BYTES: f64 = 28.0;
/// A user of a rate spread during sizing: the sorted multipliers and the
/// rate bands' own tables.
const SPREAD_SIZING_USER_BYTES: f64 = 24.0;
/// One request beyond a batching fleet's capacity: its sequence record and
/// its id in a queue, times 0.8 because the capacity estimate errs low
/// (measured: ~32 bytes a request beyond the estimated capacity when the
/// record was 40 bytes; `scripts/memory-check.sh` checks the estimate).
const QUEUED_LLM_BYTES: f64 = 0.8 * crate::engine::SEQUENCE_BYTES as f64;
/// One request queued at a per-server FCFS queue (a departure time).
const QUEUED_FCFS_BYTES: f64 = 12.0;
/// One server's state: a batching server, a per-server FCFS queue, a
/// central queue's free time.
const LLM_SERVER_BYTES: f64 = 256.0;
const QUEUE_SERVER_BYTES: f64 = 48.0;
const CENTRAL_SERVER_BYTES: f64 = 8.0;

/// What is run: `run` keeps every replication's statistics until the
/// summary; `size` keeps only the probes in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// `sharesim run`.
    Run,
    /// `sharesim size`.
    Size,
}

/// An estimate of peak resident memory, with what it is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEstimate {
    /// Estimated peak resident memory, bytes.
    pub bytes: u64,
    /// Its largest parts, bytes each, largest first.
    pub parts: Vec<(String, u64)>,
}

impl MemoryEstimate {
    /// The parts as text, e.g. `per-user state of 2 simulations 1.6 GB,
    /// statistics 4 MB`.
    pub fn describe(&self) -> String {
        self.parts
            .iter()
            .filter(|(_, b)| *b > 0)
            .map(|(what, b)| format!("{what} {}", format_bytes(*b)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Bytes in a readable unit: `1.6 GB`, `340 MB`, `12 kB` (decimal units).
pub fn format_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

/// Estimated peak memory of `work` on scenario `s` with `threads` worker
/// threads.
pub fn estimate_memory(s: &Scenario, work: Work, threads: usize) -> MemoryEstimate {
    let parts = scenario_parts(s, work, threads.max(1));
    finish(BASE_BYTES, parts)
}

/// Estimated peak memory of a sweep over `points` (each point's scenario)
/// with `threads` worker threads: every point's scenario is held for the
/// whole sweep, and up to `threads` points run at once, each with its
/// share of the threads.
pub fn estimate_sweep_memory(points: &[&Scenario], work: Work, threads: usize) -> MemoryEstimate {
    let threads = threads.max(1);
    let held: f64 = points.iter().map(|s| held_bytes(s, work)).sum();
    let per_point = |s: &Scenario| -> f64 {
        let running = if points.len() >= threads {
            1
        } else {
            threads.div_ceil(points.len().max(1))
        };
        scenario_parts(s, work, running)
            .iter()
            .filter(|(what, _)| what != HELD)
            .map(|(_, b)| b)
            .sum()
    };
    let mut running: Vec<f64> = points.iter().map(|s| per_point(s)).collect();
    running.sort_by(|a, b| b.total_cmp(a));
    let at_once: f64 = running.iter().take(threads).sum();
    let n = points.len().min(threads);
    finish(
        BASE_BYTES,
        vec![
            (HELD.to_string(), held),
            (format!("{n} points running at once"), at_once),
        ],
    )
}

const HELD: &str = "per-user rates and traces";

fn finish(base: f64, mut parts: Vec<(String, f64)>) -> MemoryEstimate {
    let total = base + parts.iter().map(|(_, b)| b).sum::<f64>();
    parts.sort_by(|a, b| b.1.total_cmp(&a.1));
    MemoryEstimate {
        bytes: total as u64,
        parts: parts.into_iter().map(|(w, b)| (w, b as u64)).collect(),
    }
}

/// The parts of one scenario's estimate (all but the base).
fn scenario_parts(s: &Scenario, work: Work, threads: usize) -> Vec<(String, f64)> {
    let sims = match work {
        Work::Run => threads.min(s.placements.len() * s.replications).max(1),
        // Probes: many, each of its replications in parallel; a batching
        // pool's probe keeps every replication's run between its rounds
        // and forks one per thread at an early look (run::resumable).
        Work::Size => s.replications.max(threads) + threads,
    };
    let per_sim = (0..s.placements.len())
        .map(|p| simulation_bytes(s, p, work))
        .fold(0.0, f64::max);
    let kept = match work {
        Work::Run => (0..s.placements.len())
            .map(|p| outcome_bytes(s, p) * s.replications as f64)
            .sum(),
        Work::Size => 0.0,
    };
    vec![
        (HELD.to_string(), held_bytes(s, work)),
        (
            format!("per-user state and queues of {sims} simulations at once"),
            per_sim * sims as f64,
        ),
        ("statistics kept".to_string(), kept),
    ]
}

/// What the scenario holds for the whole run: rate spreads and a trace.
fn held_bytes(s: &Scenario, work: Work) -> f64 {
    let spread_users: f64 = s
        .arrivals
        .groups()
        .iter()
        .filter(|g| g.spread.is_some())
        .map(|g| g.users as f64)
        .sum();
    let per_user = match work {
        Work::Run => SPREAD_USER_BYTES,
        Work::Size => SPREAD_USER_BYTES + SPREAD_SIZING_USER_BYTES,
    };
    let trace = s.trace.as_ref().map_or(0.0, |t| {
        (t.len() * std::mem::size_of::<crate::workload::TraceRequest>()) as f64
    });
    spread_users * per_user + trace
}

/// One simulation of placement `p` in progress: its users' state, its
/// servers, its queue when overloaded, its recorder.
/// The outage clocks a run of placement `p` keeps per user: one per
/// per-user process that takes it (or the placement it backs) down
/// (docs/model.md section 20; sizing runs without outages).
fn outage_bytes_per_user(s: &Scenario, p: usize) -> f64 {
    let Some(processes) = s.outages.as_deref() else {
        return 0.0;
    };
    let o = &s.placements[p].outage;
    let per_user = o
        .processes
        .iter()
        .chain(o.backs.iter().flat_map(|(_, ids)| ids))
        .filter(|&&i| processes[i].spec.per_user)
        .count();
    (per_user * std::mem::size_of::<Option<crate::workload::OutageClock>>()) as f64
}

fn simulation_bytes(s: &Scenario, p: usize, work: Work) -> f64 {
    let placement = &s.placements[p];
    let users = match (work, &placement.kind) {
        (Work::Size, PlacementKind::Pooled { .. }) => s
            .sizing
            .pool_sizes
            .iter()
            .copied()
            .max()
            .unwrap_or(s.users)
            .min(s.users),
        _ => s.users,
    } as f64;
    let share = users / s.users.max(1) as f64;
    let mut per_user = source_bytes_per_user(s);
    if matches!(work, Work::Run) {
        per_user += outage_bytes_per_user(s, p);
    }
    let servers = match &placement.kind {
        PlacementKind::Dedicated => {
            per_user += DEDICATED_DEVICE_BYTES;
            0.0
        }
        PlacementKind::Pooled { servers, dispatch } => {
            let each = if placement.llm().is_some() {
                LLM_SERVER_BYTES
            } else if *dispatch == Dispatch::CentralQueue {
                CENTRAL_SERVER_BYTES
            } else {
                QUEUE_SERVER_BYTES
            };
            *servers as f64 * each
        }
    };
    per_user * users + servers + backlog_bytes(s, p) * share + outcome_bytes(s, p)
}

/// The request source's state per user, averaged over the classes.
fn source_bytes_per_user(s: &Scenario) -> f64 {
    let mut closed = false;
    let mut bytes = 0.0;
    for (c, class) in s.classes.iter().enumerate() {
        let n = s.class_users(c).1 as f64;
        bytes += n * match class.behaviour {
            Behaviour::Poisson => 0.0,
            Behaviour::Sessions { .. } => {
                closed = true;
                SESSION_USER_BYTES
            }
            Behaviour::Agent { .. } | Behaviour::Clients { .. } => {
                closed = true;
                AGENT_USER_BYTES
            }
        };
    }
    let users = s.users.max(1) as f64;
    bytes / users + if closed { CLOSED_LOOP_USER_BYTES } else { 0.0 }
}

/// Requests an overloaded pooled fleet queues by the horizon: arrivals
/// beyond its capacity (at most one waiting request per closed-loop user),
/// times the bytes of a queued request. A batching fleet's capacity is
/// taken at its full batch (slots or KV cache, whichever binds first); a central FCFS queue keeps no
/// state per waiting request.
fn backlog_bytes(s: &Scenario, p: usize) -> f64 {
    let placement = &s.placements[p];
    let PlacementKind::Pooled { servers, dispatch } = &placement.kind else {
        return 0.0;
    };
    let (capacity_per_s, each) = match placement.llm() {
        Some(l) => {
            // A full batch (bounded by its slots and the KV cache): each
            // request takes its prefill alone and a 1/batch share of its
            // decode steps.
            let (input, output) = s.llm_of(p).map_or((1.0, 1.0), |w| {
                (w.input_tokens.mean(), w.output_tokens.mean())
            });
            let batch = (l.max_batch as f64)
                .min(l.kv_budget_tokens as f64 / (input + output).max(1.0))
                .max(1.0);
            let context = (batch * (input + output / 2.0)) as u64;
            let per_request_s = l.step.prefill_s(input as u64)
                + output * l.step.decode_step_s(batch as u32, context) / batch;
            (*servers as f64 / per_request_s.max(1e-12), QUEUED_LLM_BYTES)
        }
        None if *dispatch == Dispatch::CentralQueue => return 0.0,
        None => (
            *servers as f64 / s.generic_mean_service_s(p).max(1e-12),
            QUEUED_FCFS_BYTES,
        ),
    };
    let open_users: f64 = s
        .classes
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.behaviour, Behaviour::Poisson))
        .map(|(i, _)| s.class_users(i).1 as f64)
        .sum();
    let rate = s.request_rate_process().mean_rate_per_s();
    let excess = ((rate - capacity_per_s).max(0.0) * s.horizon_s).min(1e10);
    // Closed-loop users wait for their answer: one queued request each.
    let closed_users = s.users as f64 - open_users;
    let queued = if open_users > 0.0 {
        excess + closed_users
    } else {
        excess.min(closed_users)
    };
    queued * each
}

/// The recorder one placement x replication keeps: its histograms (two for
/// generic requests, four for LLM ones, five more per class with several
/// classes) and the rest.
fn outcome_bytes(s: &Scenario, p: usize) -> f64 {
    let own = if s.placements[p].llm().is_some() {
        4
    } else {
        2
    };
    let classes = if s.classes.len() > 1 {
        5 * s.classes.len()
    } else {
        0
    };
    (own + classes) as f64 * HISTOGRAM_BYTES + RECORDER_BYTES
}

/// Memory the system can give without swapping: `MemAvailable` of
/// `/proc/meminfo` (Linux), bytes; `None` where it is not known.
pub fn memory_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_in_decimal_units() {
        assert_eq!(format_bytes(1_640_000_000), "1.6 GB");
        assert_eq!(format_bytes(34_000_000), "34 MB");
        assert_eq!(format_bytes(12_000), "12 kB");
    }

    #[test]
    fn meminfo_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(memory_available().unwrap() > 0);
        }
    }
}
