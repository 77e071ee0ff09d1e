//! Sizing one pooled placement ([`size_pool`]): targets no fleet can meet
//! end the search at once; otherwise an analytic first guess
//! ([`analytic_guess`]: Erlang-C for a wait-tail target, else square-root
//! staffing on the peak offered load), galloping away from it to a bracket
//! and bisection to the least fleet that meets the service level. No fleet
//! size is simulated twice; a probe far from its targets (every interval
//! end within half its bound, or beyond twice it) lets the gallop skip
//! ahead ([`far_from_targets`]).

use std::collections::BTreeMap;

use super::probe::{run_probe, Decision, Probe};
use crate::core::analytic::min_servers_for_wait_tail;
use crate::results::columns;
use crate::run::llm_server_capacity_per_s;
use crate::scenario::{LatencyMetric, Scenario, Workload};

/// The answer for one placement at one pool size.
#[derive(Debug, Clone)]
pub struct PoolSizing {
    /// Index of the placement.
    pub placement: usize,
    /// Users per pool.
    pub pool_users: usize,
    /// Servers per pool at the answer (None: infeasible).
    pub servers: Option<usize>,
    /// Why infeasible, or empty.
    pub reason: String,
    /// Probes in the order they ran.
    pub probes: Vec<Probe>,
    /// Users of each class in the pool, e.g. `agents 1 + chat 3` (empty
    /// with one class).
    pub composition: String,
    /// The closed-form estimate of servers per pool ([`analytic_guess`],
    /// not capped at `max_servers`): None when no fleet can meet the
    /// service level. The `estimate_servers_per_pool` column.
    pub estimate: Option<usize>,
    /// A multi-model placement: each model's label and replicas per pool
    /// at the answer (0 for a model no user of the pool uses); empty for
    /// one model.
    pub model_servers: Vec<(String, usize)>,
}

impl PoolSizing {
    /// Placement `placement` for pools of `users` before any probe: no
    /// answer yet, no estimate, one model.
    pub(crate) fn before_search(placement: usize, users: usize) -> PoolSizing {
        PoolSizing {
            placement,
            pool_users: users,
            servers: None,
            reason: String::new(),
            probes: Vec::new(),
            composition: String::new(),
            estimate: None,
            model_servers: Vec::new(),
        }
    }

    /// The probe at the answer.
    pub fn answer(&self) -> Option<&Probe> {
        let n = self.servers?;
        self.probes.iter().rev().find(|p| p.servers == n && p.meets)
    }
}

/// How [`analytic_guess`] guesses for `placement`: Erlang-C for a
/// wait-tail target of a generic (non-batching) fleet, the peak offered
/// load `a` itself for batching LLM servers, else square-root staffing
/// `a + sqrt(a)`.
pub fn guess_method(s: &Scenario, placement: usize) -> &'static str {
    match (s.workload_of(placement), s.service_level.wait_tail) {
        (Workload::Generic { .. }, Some(_)) => "Erlang-C",
        _ if batches(s, placement) => "offered load (batching)",
        _ => "square-root staffing",
    }
}

/// Where the search for one pool of `users` starts: the first fleet it
/// probes (the analytic guess, at most the largest fleet searched) and that
/// largest fleet; or why no fleet can meet the service level (no probe
/// runs). [`size_pool`] starts here, and `sharesim explain` prints it.
pub fn search_start(
    s: &Scenario,
    placement: usize,
    users: usize,
) -> Result<(usize, usize), String> {
    search_start_checked(s, placement, users, hopeless(s, placement))
}

/// [`search_start`] with its [`hopeless`] check already made (`hopeless`
/// is that check's answer for `s` and `placement`): [`super::search_starts`]
/// checks a one-class placement once for all its pool sizes.
pub(crate) fn search_start_checked(
    s: &Scenario,
    placement: usize,
    users: usize,
    hopeless: Option<String>,
) -> Result<(usize, usize), String> {
    if let Some(reason) = hopeless {
        return Err(reason);
    }
    let guess = analytic_guess(s, placement, users);
    let max_servers = s
        .sizing
        .max_servers
        .unwrap_or((guess * 16).max(guess + 64))
        .max(1);
    Ok((guess.min(max_servers), max_servers))
}

/// Whether a decided probe is far from its targets: it meets with every
/// interval's unfavourable end within half its bound (attainment: half way
/// from the bound to 1), or it misses with some interval wholly beyond
/// twice its bound (attainment: below half of it).
pub(crate) fn far_from_targets(p: &Probe) -> bool {
    let Some(v) = &p.verdict else {
        return false;
    };
    let at_least = |c: &str| c.starts_with(columns::SLO_ATTAINMENT_SHARE);
    match p.decision {
        Decision::Meets => v.targets.iter().all(|t| match t.compared {
            Some(x) if at_least(&t.column) => x >= 0.5 * (1.0 + t.bound),
            Some(x) => x <= 0.5 * t.bound,
            None => false,
        }),
        Decision::Misses => v.targets.iter().any(|t| {
            // The favourable end: the other end of a symmetric interval.
            let (Some(m), Some(x)) = (t.mean, t.compared) else {
                return false;
            };
            let other = 2.0 * m - x;
            t.surely_missed
                && if at_least(&t.column) {
                    other < 0.5 * t.bound
                } else {
                    other > 2.0 * t.bound
                }
        }),
        Decision::Undecided => false,
    }
}

/// The gallop step after probe `p` when the plain gallop would step `base`
/// servers (1, 2, 4, ...): twice that when `p` was far from its targets.
/// The skip does not compound: the next probe's step starts again from
/// the plain gallop's.
fn step_after(base: usize, p: Option<&Probe>) -> usize {
    if p.is_some_and(far_from_targets) {
        base * 2
    } else {
        base
    }
}

/// The peak offered load of a pool of `users` on one placement, in
/// servers' worth of work (Erlangs): the busiest hour's request rate over
/// one server's capacity, that of the step model at its saturated batch
/// for a batching LLM server ([`llm_server_capacity_per_s`]), else one
/// over the mean service time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeakLoad {
    /// Requests per second at the busiest hour.
    pub peak_rate_per_s: f64,
    /// Requests per second one server completes (at saturation).
    pub server_capacity_per_s: f64,
    /// `peak_rate_per_s / server_capacity_per_s`.
    pub erlangs: f64,
}

/// The peak offered load of a pool of `users` ([`PeakLoad`]).
pub fn peak_load(s: &Scenario, placement: usize, users: usize) -> PeakLoad {
    // Mean request rate of the pool (sessions and agents included: the
    // open-loop stream alone would miss their follow-ups), scaled to the
    // busiest hour of the daily profile.
    let all = s.view(placement).request_rate_process();
    let peak_rate = all.peak_rate_per_s() * users as f64 / s.served_users(placement).max(1) as f64;
    // (Erlangs formed as the first guess always formed them, so that its
    // guesses and the searches from them stay bit for bit the same.)
    let (mu, erlangs) = match s.workload_of(placement) {
        Workload::Generic { .. } => {
            let es = s.generic_mean_service_s(placement);
            (1.0 / es, peak_rate * es)
        }
        Workload::Llm(_) => match llm_server_capacity_per_s(s, placement) {
            Some(mu) => (mu, peak_rate / mu),
            None => (1.0 / s.mean_service_s, peak_rate * s.mean_service_s),
        },
    };
    PeakLoad {
        peak_rate_per_s: peak_rate,
        server_capacity_per_s: mu,
        erlangs,
    }
}

/// The analytic first guess of servers for a pool of `users`: the
/// closed-form estimate `sharesim estimate` prints and sizing.parquet
/// carries beside every simulated size. A multi-model placement (on its
/// view): the sum of each model's guess on its own classes and costs.
pub fn analytic_guess(s: &Scenario, placement: usize, users: usize) -> usize {
    if s.placements[placement].is_multi_model() && placement == 0 {
        return (0..s.placements[0].models.len())
            .filter_map(|m| s.model_part(m))
            .map(|part| {
                let n = super::part_pool_users(users, part.users, s.users);
                analytic_guess(&part, 0, n)
            })
            .sum();
    }
    let load = peak_load(s, placement, users);
    let a = load.erlangs;
    if let (Workload::Generic { .. }, Some(w)) =
        (s.workload_of(placement), s.service_level.wait_tail)
    {
        return min_servers_for_wait_tail(a, load.server_capacity_per_s, w.above_s, w.max_share);
    }
    if batches(s, placement) {
        // A batching server's capacity is already its saturated rate at
        // the largest batch: the slack below that batch absorbs the
        // variance square-root staffing would add a spare `sqrt(a)` for.
        return (a.ceil() as usize).max(1);
    }
    ((a + a.sqrt()).ceil() as usize).max(1)
}

/// Whether `placement`'s servers batch: LLM servers with `max_batch` > 1.
fn batches(s: &Scenario, placement: usize) -> bool {
    s.placements[placement]
        .llm()
        .is_some_and(|server| server.max_batch > 1)
}

/// Targets no fleet of this placement can meet, with the reason: checked
/// for each class alone when the placement (the view's only one) serves
/// several, since every class must meet the service level.
pub(crate) fn hopeless(s: &Scenario, placement: usize) -> Option<String> {
    if s.classes.len() > 1 && s.placements.len() == 1 {
        return (0..s.classes.len()).find_map(|c| {
            let sub = s.restrict_users(c, |_| true)?;
            hopeless_one(&sub, 0).map(|r| format!("class {}: {r}", s.classes[c].name))
        });
    }
    hopeless_one(s, placement)
}

fn hopeless_one(s: &Scenario, placement: usize) -> Option<String> {
    let p = &s.placements[placement];
    // With random round trips, 0 is the only safe lower bound.
    let rtt = p.llm().map_or(0.0, |l| {
        if l.network_rtt.is_some() {
            0.0
        } else {
            l.network_rtt_s
        }
    });
    for t in &s.service_level.targets {
        let q = t.percentile / 100.0;
        let (floor, what) = match (t.metric, p.llm()) {
            (LatencyMetric::Tpot, Some(l)) => {
                let (mean_in, _) = s.mean_tokens(placement).unwrap_or((1.0, 1.0));
                (
                    l.step.decode_step_s(1, mean_in as u64),
                    "a batch-1 decode step".to_string(),
                )
            }
            (LatencyMetric::Ttft, Some(_)) => (
                rtt + s.service_quantile_s(placement, q, false),
                format!("network {rtt} s + prefill at the same percentile"),
            ),
            (LatencyMetric::E2e, Some(_)) => (
                rtt + s.service_quantile_s(placement, q, true),
                format!("network {rtt} s + prefill + decode at batch 1 at the same percentile"),
            ),
            (LatencyMetric::Response, None) => (
                s.service_quantile_s(placement, q, true),
                "the service time at the same percentile".to_string(),
            ),
            _ => continue,
        };
        if t.max_s < floor * 0.999 {
            return Some(format!(
                "{} <= {} s cannot be met: {what} alone takes {:.4} s on {}",
                t.label(),
                t.max_s,
                floor,
                p.llm()
                    .map_or("this server".to_string(), |l| l.device.name.clone())
            ));
        }
    }
    None
}

/// Size one pooled placement for pools of `users` users.
pub fn size_pool(s: &Scenario, placement: usize, users: usize) -> PoolSizing {
    if s.placements[placement].is_multi_model() {
        return super::models::size_model_pool(s, placement, users);
    }
    if super::disagg::sized_whole(s, placement) {
        return super::disagg::size_disaggregated(s, placement, users);
    }
    let mut out = PoolSizing::before_search(placement, users);
    let (guess, max_servers) = match search_start(s, placement, users) {
        Ok(start) => start,
        Err(reason) => {
            out.reason = reason;
            return out;
        }
    };
    out.estimate = Some(analytic_guess(s, placement, users));
    let min_measured = s.sizing.min_measured_requests;
    let mut cache: BTreeMap<usize, bool> = BTreeMap::new();
    let mut probe = |n: usize, out: &mut PoolSizing| -> bool {
        if let Some(m) = cache.get(&n) {
            return *m;
        }
        let p = run_probe(s, placement, users, Some(n), min_measured);
        let m = p.meets;
        out.probes.push(p);
        cache.insert(n, m);
        m
    };
    // Gallop from the guess to a bracket (lo fails or is 0, hi meets).
    let (mut lo, mut hi);
    if probe(guess, &mut out) {
        hi = guess;
        lo = 0;
        let mut base = 1;
        let mut step = step_after(base, out.probes.last());
        while hi > 1 {
            let n = hi.saturating_sub(step).max(1);
            if probe(n, &mut out) {
                hi = n;
                base *= 2;
                step = step_after(base, out.probes.last());
            } else {
                lo = n;
                break;
            }
        }
    } else {
        lo = guess;
        let mut base = 1;
        let mut step = step_after(base, out.probes.last());
        loop {
            let n = (lo + step).min(max_servers);
            if n == lo {
                let last = out
                    .probes
                    .last()
                    .filter(|p| !p.trusted)
                    .map(|p| format!("; the last probe was not trusted: {}", p.untrusted_reason))
                    .unwrap_or_default();
                out.reason = format!("no fleet of up to {max_servers} servers meets the service level (raise sizing.max_servers to search further){last}");
                return out;
            }
            if probe(n, &mut out) {
                hi = n;
                break;
            }
            lo = n;
            base *= 2;
            step = step_after(base, out.probes.last());
        }
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if probe(mid, &mut out) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    out.servers = Some(hi);
    out
}
