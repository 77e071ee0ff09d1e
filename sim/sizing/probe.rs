//! Probes: one simulated fleet size ([`Probe`]) run over all replications
//! with common random numbers, judged against the service level for the
//! mix and every class. A probe runs in rounds ([`run_probe`], the rule of
//! docs/model.md §10.3): early looks on shorter windows stop it as soon as
//! the 99 % interval of every judged figure lies on one side of its target;
//! otherwise the full round (lengthened, doubling its measured window up to
//! 16x, while it is short of measured requests) judges the 95 % intervals,
//! and a probe whose intervals still straddle a target is undecided, never
//! met. A batching pool's looks and its first full round continue one run
//! per replication ([`ResumableReplication`]): a look forks the run at its
//! horizon, and the full round goes on from there. The horizon a probe
//! needs: [`probe_horizon_s`].

use std::time::Instant;

use rayon::prelude::*;

use crate::results::table::{get, rows_of_class, sum_column, Row, Value};
use crate::run::{
    class_rows, replication_row, resumable, run_replication, summary_row, ReplicationOutcome,
    ResumableReplication,
};
use crate::scenario::Scenario;
use crate::slo::{judge_with_classes_at, set_verdict, Level, Verdict};
use crate::workload::arrivals::DAY_S;

/// Longest a probe is lengthened: its measured window x 2^4.
const MAX_DOUBLINGS: u32 = 4;

/// Longest measurement window of a probe, seconds (100 years).
const MAX_PROBE_WINDOW_S: f64 = 100.0 * 365.0 * 86_400.0;

/// Fewest measured requests of each class of a mixed pool (all
/// replications), so that its own percentiles can be judged.
const CLASS_MIN_MEASURED: f64 = 1000.0;

/// Windows of the early looks, as shares of the full round's window.
pub const EARLY_LOOKS: [f64; 2] = [1.0 / 16.0, 1.0 / 4.0];

/// An early look is taken only when its window is expected to measure this
/// many times the requests a probe needs (a margin on the rate estimate).
const EARLY_COUNT_MARGIN: f64 = 1.25;

/// Measured requests each class of a mixed pool needs when the whole probe
/// needs `min_measured`.
fn class_min_measured(min_measured: u64) -> f64 {
    (min_measured as f64).min(CLASS_MIN_MEASURED)
}

/// How a probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Trusted, and every target's interval lies within its bound.
    Meets,
    /// Some target's whole interval lies beyond its bound, or the queue
    /// grows over the run.
    Misses,
    /// The round budget was spent with an interval across a target, or the
    /// run could not be trusted (too short, warm-up too short): not met.
    Undecided,
}

impl Decision {
    /// `meets`, `misses` or `undecided` (probes.parquet `decision`).
    pub fn label(self) -> &'static str {
        match self {
            Decision::Meets => "meets",
            Decision::Misses => "misses",
            Decision::Undecided => "undecided",
        }
    }
}

/// What a probe cost: counts are deterministic; `seconds` is wall time
/// (for `--profile` only, never written to a table).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProbeCost {
    /// Rounds run (early looks and lengthenings included).
    pub rounds: u32,
    /// Replications simulated over all rounds.
    pub replications: u64,
    /// Requests generated over all rounds and replications.
    pub simulated_requests: u64,
    /// Lengthening steps passed without simulating them, because their
    /// round would surely have been short ([`surely_short`]).
    pub skipped_rounds: u32,
    /// Wall time, seconds.
    pub seconds: f64,
}

impl ProbeCost {
    /// A round of `replications` that continued earlier rounds' runs,
    /// which had generated `*arrived_before` requests; it generated
    /// `arrived` in all (and that becomes `*arrived_before`).
    fn add_continued(&mut self, replications: usize, arrived: u64, arrived_before: &mut u64) {
        self.rounds += 1;
        self.replications += replications as u64;
        self.simulated_requests += arrived.saturating_sub(*arrived_before);
        *arrived_before = arrived;
    }

    /// Add another cost.
    pub fn add(&mut self, o: &ProbeCost) {
        self.rounds += o.rounds;
        self.replications += o.replications;
        self.simulated_requests += o.simulated_requests;
        self.skipped_rounds += o.skipped_rounds;
        self.seconds += o.seconds;
    }
}

/// One simulated fleet size.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Servers in the pool.
    pub servers: usize,
    /// Horizon of the round that decided (after any lengthening), seconds.
    pub horizon_s: f64,
    /// Service-level verdict of the deciding round (an early look's compares
    /// the ends of 99 % intervals, the full round's of 95 % intervals).
    pub verdict: Option<Verdict>,
    /// Whether the run can be trusted (see the module doc).
    pub trusted: bool,
    /// Why not trusted (empty when trusted).
    pub untrusted_reason: String,
    /// Met and trusted (`decision` is [`Decision::Meets`]).
    pub meets: bool,
    /// How the probe ended.
    pub decision: Decision,
    /// Decided at an early look.
    pub early: bool,
    /// What it cost.
    pub cost: ProbeCost,
    /// Summary row of the deciding round.
    pub summary: Row,
}

/// Window (seconds) over which a pool of `users` measures `needed` requests
/// over all replications and each class of a mixed pool `class_needed`.
fn counts_window_s(ps: &Scenario, needed: f64, class_needed: f64) -> f64 {
    let rate = ps
        .arrivals
        .mean_rate_per_s()
        .max(ps.request_rate_process().mean_rate_per_s());
    if rate <= 0.0 {
        return 0.0;
    }
    let reps = ps.replications as f64;
    let mut window = needed / (rate * reps);
    // Each class of a mixed pool is judged on its own: the least-sending
    // class needs its own share of requests too.
    if ps.classes.len() > 1 {
        for c in 0..ps.classes.len() {
            let class_rate = ps.class_request_rate_per_s(c);
            if class_rate > 0.0 {
                window = window.max(class_needed / (class_rate * reps));
            }
        }
    }
    window
}

/// A horizon long enough to measure `min_measured` requests over all
/// replications of a pool of `users` (at least the scenario's horizon;
/// whole days when the scenario spans at least one).
pub fn probe_horizon_s(s: &Scenario, placement: usize, users: usize, min_measured: u64) -> f64 {
    // All requests of the probe's own users (follow-ups of sessions and
    // agents included).
    let ps = s.probe(placement, users, None, s.horizon_s);
    let rate = ps
        .arrivals
        .mean_rate_per_s()
        .max(ps.request_rate_process().mean_rate_per_s());
    if rate <= 0.0 {
        return s.horizon_s;
    }
    let needed = counts_window_s(&ps, min_measured as f64, class_min_measured(min_measured));
    let window = needed.max(s.horizon_s - s.warmup_s);
    // A class that sends almost nothing would ask for a window of ages (and
    // the arrival process steps through every day of it): cap it at 100
    // years; a probe still short of requests then is reported untrusted.
    let window = window.min(MAX_PROBE_WINDOW_S);
    let window = if s.horizon_s - s.warmup_s >= DAY_S {
        (window / DAY_S).ceil() * DAY_S
    } else {
        window
    };
    s.warmup_s + window
}

/// Requests a probe must measure: `min_measured`, and 50 per server.
fn needed_measured(min_measured: u64, servers: Option<usize>) -> f64 {
    (min_measured as f64).max(servers.map_or(0.0, |n| 50.0 * n as f64))
}

/// Expected measured requests must fall below this share of those needed
/// for a lengthening step to be skipped unsimulated ([`surely_short`]).
const SURELY_SHORT_SHARE: f64 = 0.25;

/// Whether a round at `horizon` would surely be short of measured requests
/// (so that the lengthening ladder can step past it without simulating
/// it): some class with an exogenous rate (Poisson or sessions; agents'
/// rates depend on the service, so they are never used) is expected, from
/// its daily profile integrated over the window, to send under a quarter
/// of what it needs. Counts that far below their mean have a negligible
/// chance (hundreds of standard deviations for the thousand requests a
/// class needs), so the skipped round would have been short and the
/// ladder reaches the same horizon as running every step.
fn surely_short(
    s: &Scenario,
    placement: usize,
    users: usize,
    servers: Option<usize>,
    horizon: f64,
    min_measured: u64,
) -> bool {
    use crate::workload::source::Behaviour;
    let ps = s.probe(placement, users, servers, horizon);
    let reps = ps.replications as f64;
    let needed = if ps.classes.len() > 1 {
        class_min_measured(min_measured)
    } else {
        needed_measured(min_measured, servers)
    };
    ps.classes.iter().any(|class| {
        if matches!(class.behaviour, Behaviour::Agent { .. }) || class.groups.is_empty() {
            return false;
        }
        let groups: Vec<_> = ps.arrivals.groups()[class.groups.clone()]
            .iter()
            .map(|g| {
                let mut g = g.clone();
                g.rate_per_user_per_s = class.requests_per_user_per_day / DAY_S;
                g
            })
            .collect();
        if groups.iter().all(|g| g.users == 0) {
            return false;
        }
        let process = crate::workload::arrivals::PoissonArrivals::new(groups);
        process.expected_count(ps.warmup_s, horizon) * reps < SURELY_SHORT_SHARE * needed
    })
}

/// Horizons of the early looks before the full round at `full_h`: windows of
/// [`EARLY_LOOKS`] of the full one, taken only with two or more
/// replications, when the window is expected to measure enough requests,
/// and when a shorter window sees the same load: a flat request rate, or
/// whole days of a scenario spanning whole days.
fn early_horizons(
    s: &Scenario,
    placement: usize,
    users: usize,
    servers: Option<usize>,
    min_measured: u64,
    full_h: f64,
) -> Vec<f64> {
    // A trace replays its own hour: a shorter window would see another load.
    if s.replications < 2 || s.trace.is_some() {
        return Vec::new();
    }
    let ps = s.probe(placement, users, servers, s.horizon_s);
    let all = ps.request_rate_process();
    let flat = all.peak_rate_per_s() <= all.mean_rate_per_s() * (1.0 + 1e-9)
        && ps.arrivals.peak_rate_per_s() <= ps.arrivals.mean_rate_per_s() * (1.0 + 1e-9);
    let full_w = full_h - s.warmup_s;
    let whole_days = s.horizon_s - s.warmup_s >= DAY_S;
    let counts_w = EARLY_COUNT_MARGIN
        * counts_window_s(
            &ps,
            needed_measured(min_measured, servers),
            class_min_measured(min_measured),
        );
    let mut out: Vec<f64> = Vec::new();
    for share in EARLY_LOOKS {
        let w = full_w * share;
        let w = if whole_days {
            (w / DAY_S).ceil() * DAY_S
        } else if flat {
            w
        } else {
            continue;
        };
        if w >= counts_w && w < full_w && out.last().is_none_or(|&h| h < s.warmup_s + w) {
            out.push(s.warmup_s + w);
        }
    }
    out
}

/// One round: every replication at one horizon, summarised and judged.
struct Round {
    horizon_s: f64,
    summary: Row,
    verdict: Option<Verdict>,
    unstable: bool,
    /// Why the round cannot be trusted, empty when it can; `short` when it
    /// measured too few requests.
    reason: String,
    short: bool,
    /// Requests generated over its replications.
    arrived: u64,
}

#[allow(clippy::too_many_arguments)]
fn run_round(
    s: &Scenario,
    placement: usize,
    users: usize,
    servers: Option<usize>,
    horizon: f64,
    min_measured: u64,
    level: Level,
    cost: &mut ProbeCost,
) -> Round {
    let ps = s.probe(placement, users, servers, horizon);
    let outcomes: Vec<ReplicationOutcome> = (0..ps.replications)
        .into_par_iter()
        .map(|r| run_replication(&ps, 0, r))
        .collect();
    let round = judge_round(&ps, &outcomes, servers, min_measured, level);
    cost.rounds += 1;
    cost.replications += outcomes.len() as u64;
    cost.simulated_requests += round.arrived;
    round
}

/// The round of replications `outcomes` of the probe view `ps` (horizon
/// included), summarised and judged.
fn judge_round(
    ps: &Scenario,
    outcomes: &[ReplicationOutcome],
    servers: Option<usize>,
    min_measured: u64,
    level: Level,
) -> Round {
    let horizon = ps.horizon_s;
    let (rows, per_class): (Vec<Row>, Vec<Vec<Row>>) = outcomes
        .par_iter()
        .map(|o| (replication_row(ps, o), class_rows(ps, o)))
        .unzip();
    let arrived = rows
        .iter()
        .map(|r| get(r, "arrived").and_then(Value::as_f64).unwrap_or(0.0) as u64)
        .sum::<u64>();
    let per_class: Vec<Row> = per_class.into_iter().flatten().collect();
    let refs: Vec<&Row> = rows.iter().collect();
    let mut summary = summary_row(ps, &refs);
    // Every class must meet the service level, not only the mix.
    let verdict = judge_with_classes_at(ps, &refs, &per_class, level);
    set_verdict(&mut summary, verdict.clone());
    let num = |c: &str| get(&summary, c).and_then(Value::as_f64);
    let unstable = matches!(get(&summary, "unstable"), Some(Value::Bool(Some(true))));
    let measured_total = num("measured").unwrap_or(0.0) * ps.replications as f64;
    let needed = needed_measured(min_measured, servers);
    let mean_latency = num("e2e_mean_s").or(num("response_mean_s")).unwrap_or(0.0);
    // Each class of a mixed pool is judged on its own requests: the
    // least-sent class needs enough of them too.
    // (Class rows exist only with several classes, for classes with users.)
    let class_needed = class_min_measured(min_measured);
    let (class_least, class_least_measured) = ps
        .classes
        .iter()
        .filter_map(|c| {
            let mine = rows_of_class(&per_class, &c.name);
            (!mine.is_empty()).then(|| {
                (
                    c.name.as_str(),
                    sum_column(&mine, "measured").unwrap_or(0.0),
                )
            })
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or(("", f64::INFINITY));
    let short = measured_total < needed || class_least_measured < class_needed;
    let reason = if unstable {
        "unstable: the queue grows over the run".into()
    } else if measured_total < needed {
        format!("too short: {measured_total:.0} measured requests, {needed:.0} needed")
    } else if class_least_measured < class_needed {
        format!("too short: {class_least_measured:.0} measured requests of class {class_least}, {class_needed:.0} needed")
    } else if ps.warmup_s < 10.0 * mean_latency {
        format!(
            "warm-up {:.0} s shorter than 10 mean latencies ({:.1} s): raise warmup_s",
            ps.warmup_s,
            10.0 * mean_latency
        )
    } else {
        String::new()
    };
    Round {
        horizon_s: horizon,
        summary,
        verdict,
        unstable,
        reason,
        short,
        arrived,
    }
}

/// The decision of an early look, if it is sure: it measured enough
/// requests, and either it is trusted and every 99 % interval lies within
/// its bound, or some 99 % interval lies wholly beyond its bound.
fn early_decision(r: &Round) -> Option<Decision> {
    if r.short {
        return None;
    }
    let v = r.verdict.as_ref()?;
    if v.met && r.reason.is_empty() {
        Some(Decision::Meets)
    } else if v.surely_missed() {
        Some(Decision::Misses)
    } else {
        None
    }
}

/// Whether the next early look, on `next_window` seconds instead of this
/// one's `window`, is unlikely to decide: some target that is neither met
/// nor surely missed has its mean nearer its bound than the next look's
/// half-width would be (half-widths shrink like one over the root of the
/// window). Skipping a look only removes a chance to stop early: it does
/// not change the error rate.
fn next_look_futile(r: &Round, window: f64, next_window: f64) -> bool {
    let Some(v) = &r.verdict else {
        return false;
    };
    let shrink = (window / next_window).sqrt();
    v.targets.iter().any(|t| match (t.mean, t.compared) {
        (Some(m), Some(x)) if !t.met && !t.surely_missed => {
            (m - t.bound).abs() <= (x - m).abs() * shrink
        }
        _ => false,
    })
}

/// The decision of the full round (95 % intervals): met and trusted; an
/// interval wholly beyond its bound in a trusted run, or an unstable queue;
/// otherwise undecided.
fn final_decision(r: &Round) -> Decision {
    let met = r.verdict.as_ref().is_none_or(|v| v.met);
    if met && r.reason.is_empty() {
        Decision::Meets
    } else if r.unstable
        || (r.reason.is_empty() && r.verdict.as_ref().is_some_and(Verdict::surely_missed))
    {
        Decision::Misses
    } else {
        Decision::Undecided
    }
}

/// One probe of `servers` servers for pools of `users` users of
/// `placement`, as a search runs it.
pub fn probe_fleet(s: &Scenario, placement: usize, users: usize, servers: usize) -> Probe {
    run_probe(
        s,
        placement,
        users,
        Some(servers),
        s.sizing.min_measured_requests,
    )
}

/// Run one fleet size (`servers`; `None`: a dedicated placement) for a pool
/// of `users`, in rounds (see the module doc).
pub(crate) fn run_probe(
    s: &Scenario,
    placement: usize,
    users: usize,
    servers: Option<usize>,
    min_measured: u64,
) -> Probe {
    let started = Instant::now();
    let mut cost = ProbeCost::default();
    let full = probe_horizon_s(s, placement, users, min_measured);
    let looks = early_horizons(s, placement, users, servers, min_measured, full);
    // The looks and the full round continue one run per replication where
    // the placement allows it (run::ResumableReplication).
    let ps_full = s.probe(placement, users, servers, full);
    let mut steps: Option<Vec<ResumableReplication>> = None;
    if !looks.is_empty()
        && resumable(&ps_full)
        && !surely_short(s, placement, users, servers, full, min_measured)
    {
        steps = (0..ps_full.replications)
            .map(|r| ResumableReplication::new(&ps_full, r))
            .collect();
    }
    // Requests the continued runs have generated so far.
    let mut arrived = 0;
    // A round of its own, from time 0.
    let fresh_round = |h: f64, level: Level, cost: &mut ProbeCost| {
        run_round(s, placement, users, servers, h, min_measured, level, cost)
    };
    let mut decided = None;
    for (j, &h) in looks.iter().enumerate() {
        let r = match &mut steps {
            Some(reps) => {
                let outcomes: Vec<ReplicationOutcome> =
                    reps.par_iter_mut().map(|rr| rr.look_at(h)).collect();
                let ps = s.probe(placement, users, servers, h);
                let r = judge_round(&ps, &outcomes, servers, min_measured, Level::Ci99);
                cost.add_continued(outcomes.len(), r.arrived, &mut arrived);
                r
            }
            None => fresh_round(h, Level::Ci99, &mut cost),
        };
        if let Some(d) = early_decision(&r) {
            decided = Some((r, d, true));
            break;
        }
        // Too near a bound for the next look: go to the full round.
        if let Some(&next) = looks.get(j + 1) {
            if !r.short && next_look_futile(&r, h - s.warmup_s, next - s.warmup_s) {
                break;
            }
        }
    }
    let (round, decision, early) = decided.unwrap_or_else(|| {
        let mut horizon = full;
        let mut doublings = 0;
        loop {
            let room = horizon - s.warmup_s < MAX_PROBE_WINDOW_S;
            if doublings < MAX_DOUBLINGS
                && room
                && surely_short(s, placement, users, servers, horizon, min_measured)
            {
                doublings += 1;
                cost.skipped_rounds += 1;
                horizon = s.warmup_s + (2.0 * (horizon - s.warmup_s)).min(MAX_PROBE_WINDOW_S);
                continue;
            }
            let r = match steps.take() {
                // The first full round continues the looks' runs.
                Some(reps) => {
                    let outcomes: Vec<ReplicationOutcome> =
                        reps.into_par_iter().map(|rr| rr.finish()).collect();
                    let r = judge_round(&ps_full, &outcomes, servers, min_measured, Level::Ci95);
                    cost.add_continued(outcomes.len(), r.arrived, &mut arrived);
                    r
                }
                None => fresh_round(horizon, Level::Ci95, &mut cost),
            };
            if !r.unstable && r.short && doublings < MAX_DOUBLINGS && room {
                doublings += 1;
                horizon = s.warmup_s + (2.0 * (horizon - s.warmup_s)).min(MAX_PROBE_WINDOW_S);
                continue;
            }
            let d = final_decision(&r);
            break (r, d, false);
        }
    });
    cost.seconds = started.elapsed().as_secs_f64();
    Probe {
        servers: servers.unwrap_or(users),
        horizon_s: round.horizon_s,
        meets: decision == Decision::Meets,
        decision,
        early,
        trusted: round.reason.is_empty(),
        untrusted_reason: round.reason,
        verdict: round.verdict,
        cost,
        summary: round.summary,
    }
}
