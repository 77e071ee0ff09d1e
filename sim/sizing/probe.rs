//! Probes: one simulated fleet size run over all replications with common
//! random numbers ([`Probe`]), judged against the service level for the
//! mix and every class, and trusted only when stable, long enough (a short
//! run is lengthened, doubling its measured window up to 16x) and warmed up
//! for ten mean latencies; the horizon a probe needs ([`probe_horizon_s`]).

use rayon::prelude::*;

use crate::results::table::{get, rows_of_class, sum_column, Row, Value};
use crate::run::{class_rows, replication_row, run_replication, summary_row};
use crate::scenario::Scenario;
use crate::slo::{judge_with_classes, set_verdict, Verdict};

/// Longest a probe is lengthened: its measured window x 2^4.
const MAX_DOUBLINGS: u32 = 4;

/// Longest measurement window of a probe, seconds (100 years).
const MAX_PROBE_WINDOW_S: f64 = 100.0 * 365.0 * 86_400.0;

/// Fewest measured requests of each class of a mixed pool (all
/// replications), so that its own percentiles can be judged.
const CLASS_MIN_MEASURED: f64 = 1000.0;

/// Measured requests each class of a mixed pool needs when the whole probe
/// needs `min_measured`.
fn class_min_measured(min_measured: u64) -> f64 {
    (min_measured as f64).min(CLASS_MIN_MEASURED)
}

/// One simulated fleet size.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Servers in the pool.
    pub servers: usize,
    /// Horizon used (after any lengthening), seconds.
    pub horizon_s: f64,
    /// Service-level verdict.
    pub verdict: Option<Verdict>,
    /// Whether the run can be trusted (see the module doc).
    pub trusted: bool,
    /// Why not trusted (empty when trusted).
    pub untrusted_reason: String,
    /// Met and trusted.
    pub meets: bool,
    /// Summary row of the probe.
    pub summary: Row,
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
    let reps = s.replications as f64;
    let mut window = (min_measured as f64 / (rate * reps)).max(s.horizon_s - s.warmup_s);
    // Each class of a mixed pool is judged on its own: the least-sending
    // class needs its own share of requests too.
    if ps.classes.len() > 1 {
        let class_needed = class_min_measured(min_measured);
        for c in 0..ps.classes.len() {
            let class_rate = ps.class_request_rate_per_s(c);
            if class_rate > 0.0 {
                window = window.max(class_needed / (class_rate * reps));
            }
        }
    }
    // A class that sends almost nothing would ask for a window of ages (and
    // the arrival process steps through every day of it): cap it at 100
    // years; a probe still short of requests then is reported untrusted.
    let window = window.min(MAX_PROBE_WINDOW_S);
    let day = crate::workload::arrivals::DAY_S;
    let window = if s.horizon_s - s.warmup_s >= day {
        (window / day).ceil() * day
    } else {
        window
    };
    s.warmup_s + window
}

pub(crate) fn run_probe(
    s: &Scenario,
    placement: usize,
    users: usize,
    servers: Option<usize>,
    min_measured: u64,
) -> Probe {
    let mut horizon = probe_horizon_s(s, placement, users, min_measured);
    let mut doublings = 0;
    loop {
        let ps = s.probe(placement, users, servers, horizon);
        let (rows, per_class): (Vec<Row>, Vec<Vec<Row>>) = (0..ps.replications)
            .into_par_iter()
            .map(|r| {
                let o = run_replication(&ps, 0, r);
                (replication_row(&ps, &o), class_rows(&ps, &o))
            })
            .unzip();
        let per_class: Vec<Row> = per_class.into_iter().flatten().collect();
        let refs: Vec<&Row> = rows.iter().collect();
        let mut summary = summary_row(&ps, &refs);
        // Every class must meet the service level, not only the mix.
        let verdict = judge_with_classes(&ps, &refs, &per_class);
        set_verdict(&mut summary, verdict.clone());
        let num = |c: &str| get(&summary, c).and_then(Value::as_f64);
        let unstable = matches!(get(&summary, "unstable"), Some(Value::Bool(Some(true))));
        let measured_total = num("measured").unwrap_or(0.0) * ps.replications as f64;
        let n_servers = servers.unwrap_or(users) as f64;
        let needed = (min_measured as f64).max(if servers.is_some() {
            50.0 * n_servers
        } else {
            0.0
        });
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
        let mut reason = String::new();
        if unstable {
            reason = "unstable: the queue grows over the run".into();
        } else if measured_total < needed || class_least_measured < class_needed {
            if doublings < MAX_DOUBLINGS && horizon - s.warmup_s < MAX_PROBE_WINDOW_S {
                doublings += 1;
                horizon = s.warmup_s + (2.0 * (horizon - s.warmup_s)).min(MAX_PROBE_WINDOW_S);
                continue;
            }
            reason = if measured_total < needed {
                format!("too short: {measured_total:.0} measured requests, {needed:.0} needed")
            } else {
                format!("too short: {class_least_measured:.0} measured requests of class {class_least}, {class_needed:.0} needed")
            };
        } else if s.warmup_s < 10.0 * mean_latency {
            reason = format!(
                "warm-up {:.0} s shorter than 10 mean latencies ({:.1} s): raise warmup_s",
                s.warmup_s,
                10.0 * mean_latency
            );
        }
        let trusted = reason.is_empty();
        let met = verdict.as_ref().is_none_or(|v| v.met);
        return Probe {
            servers: servers.unwrap_or(users),
            horizon_s: horizon,
            meets: met && trusted,
            verdict,
            trusted,
            untrusted_reason: reason,
            summary,
        };
    }
}
