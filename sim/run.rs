//! Running a scenario: every placement in every replication, in parallel on
//! the caller's rayon pool (one task per placement x replication, each
//! single-threaded and seeded from (scenario seed, replication) only, so the
//! results do not depend on the number of threads). All placements of one
//! replication see the same arrivals and request sizes (common random
//! numbers): they read the same stream.

use rayon::prelude::*;

use crate::arrivals::ArrivalCursor;
use crate::fcfs::{DedicatedDevices, PooledFleet};
use crate::metrics::{FcfsRecorder, Window};
use crate::rng::{stream_rng, SimRng, StreamKind};
use crate::scenario::{PlacementKind, Scenario};
use crate::stats::{Estimate, LatencyHistogram};
use crate::table::{cell, get, Row, Value};

/// One request as generated: who sent it, when, and how much work it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// Arrival time, seconds since simulation start (00:00 UTC).
    pub arrival_s: f64,
    /// Sender.
    pub user: u32,
    /// Service time on one server, seconds.
    pub service_s: f64,
}

/// The requests of one replication, in arrival order, up to the horizon.
pub struct RequestStream<'a> {
    scenario: &'a Scenario,
    rng: SimRng,
    cursor: ArrivalCursor,
}

impl<'a> RequestStream<'a> {
    /// The stream of replication `replication`.
    pub fn new(scenario: &'a Scenario, replication: usize) -> Self {
        RequestStream {
            scenario,
            rng: stream_rng(scenario.seed, replication as u64, StreamKind::Arrivals, 0),
            cursor: scenario.arrivals.cursor(),
        }
    }
}

impl Iterator for RequestStream<'_> {
    type Item = Request;

    #[inline]
    fn next(&mut self) -> Option<Request> {
        let (arrival_s, user) = self
            .scenario
            .arrivals
            .next(&mut self.cursor, &mut self.rng)?;
        if arrival_s >= self.scenario.horizon_s {
            return None;
        }
        let service_s = self.scenario.service.sample(&mut self.rng);
        Some(Request {
            arrival_s,
            user,
            service_s,
        })
    }
}

/// What one placement measured in one replication.
#[derive(Debug, Clone)]
pub struct ReplicationOutcome {
    /// Index into the scenario's placements.
    pub placement: usize,
    /// Replication number (0-based).
    pub replication: usize,
    /// Servers (pooled) or devices (dedicated: one per user).
    pub servers: usize,
    /// The measurements.
    pub recorder: FcfsRecorder,
}

/// Simulate one placement in one replication.
pub fn run_replication(s: &Scenario, placement: usize, replication: usize) -> ReplicationOutcome {
    let window = Window {
        warmup_s: s.warmup_s,
        horizon_s: s.horizon_s,
    };
    let mut rec = FcfsRecorder::new(window);
    let requests = RequestStream::new(s, replication);
    let servers = match &s.placements[placement].kind {
        PlacementKind::Dedicated => {
            let mut devices = DedicatedDevices::new(s.users);
            for r in requests {
                let sv = devices.serve(r.user, r.arrival_s, r.service_s);
                rec.record(r.arrival_s, sv.start_s, sv.end_s);
            }
            s.users
        }
        PlacementKind::Pooled { servers, dispatch } => {
            let rng = stream_rng(
                s.seed,
                replication as u64,
                StreamKind::Placement,
                placement as u64,
            );
            let mut fleet = PooledFleet::new(*servers, *dispatch, rng);
            for r in requests {
                let sv = fleet.serve(r.arrival_s, r.service_s);
                rec.record(r.arrival_s, sv.start_s, sv.end_s);
            }
            *servers
        }
    };
    ReplicationOutcome {
        placement,
        replication,
        servers,
        recorder: rec,
    }
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct RunResults {
    /// One row per placement x replication, placement-major.
    pub replications: Vec<Row>,
    /// One row per placement: means and 95 % confidence half-widths.
    pub summary: Vec<Row>,
}

/// Percentiles reported for every latency (plus any a service level bounds).
pub const PERCENTILES: [f64; 4] = [50.0, 90.0, 99.0, 99.9];

/// Column label of a percentile: 99 -> `p99`, 99.9 -> `p999`, 50 -> `p50`.
pub fn percentile_label(p: f64) -> String {
    format!("p{}", p.to_string().replace('.', ""))
}

/// The standard percentiles and those the service level names, ascending.
fn reported_percentiles(s: &Scenario) -> Vec<f64> {
    let mut ps: Vec<f64> = PERCENTILES.to_vec();
    ps.extend(s.service_level.targets.iter().map(|t| t.percentile));
    ps.sort_by(f64::total_cmp);
    ps.dedup();
    ps
}

/// Columns that identify a row rather than measure something.
const ID_COLUMNS: [&str; 7] = [
    "scenario",
    "placement",
    "kind",
    "dispatch",
    "replication",
    "seed",
    "unstable",
];

fn latency_cells(row: &mut Row, name: &str, h: &LatencyHistogram, percentiles: &[f64]) {
    row.push(cell(format!("{name}_mean_s"), Value::F64(h.mean_s())));
    for p in percentiles {
        row.push(cell(
            format!("{name}_{}_s", percentile_label(*p)),
            Value::F64(h.quantile_s(p / 100.0)),
        ));
    }
}

/// Offered utilisation of one server or device: (mean, peak hour).
fn offered_utilization(s: &Scenario, placement: usize) -> (f64, f64) {
    let es = s.service.mean();
    match &s.placements[placement].kind {
        PlacementKind::Dedicated => {
            // All users of a scenario share one per-user rate; the busiest hour
            // of the profile is the peak.
            let groups = s.arrivals.groups();
            let peak_w = groups.iter().map(|g| g.profile.peak()).fold(0.0, f64::max);
            let rate = s.requests_per_user_per_day / crate::arrivals::DAY_S;
            (rate * es, rate * peak_w * es)
        }
        PlacementKind::Pooled { servers, .. } => {
            let c = *servers as f64;
            (
                s.arrivals.mean_rate_per_s() * es / c,
                s.arrivals.peak_rate_per_s() * es / c,
            )
        }
    }
}

/// The flat row of one placement x replication (columns listed in
/// docs/results-schema.md).
pub fn replication_row(s: &Scenario, o: &ReplicationOutcome) -> Row {
    let p = &s.placements[o.placement];
    let r = &o.recorder;
    let w = r.window();
    let (util_offered, util_peak) = offered_utilization(s, o.placement);
    let throughput = r.measured as f64 / w.len_s();
    let mut row: Row = vec![
        cell("scenario", Value::Str(s.name.clone())),
        cell("placement", Value::Str(p.name.clone())),
        cell("kind", Value::Str(p.kind_name().into())),
        cell("dispatch", Value::Str(p.dispatch_name().into())),
        cell("replication", Value::U64(o.replication as u64)),
        cell("seed", Value::U64(s.seed)),
        cell("unstable", Value::Bool(Some(util_offered >= 1.0))),
        cell("users", Value::U64(s.users as u64)),
        cell("servers", Value::U64(o.servers as u64)),
        cell("horizon_s", Value::F64(Some(w.horizon_s))),
        cell("warmup_s", Value::F64(Some(w.warmup_s))),
        cell("arrived", Value::U64(r.arrived)),
        cell("completed_by_horizon", Value::U64(r.completed_by_horizon)),
        cell("in_flight_at_horizon", Value::U64(r.in_flight_at_horizon)),
        cell("rejected", Value::U64(0)),
        cell("measured", Value::U64(r.measured)),
        cell(
            "offered_load_erlangs",
            Value::F64(Some(s.offered_load_erlangs())),
        ),
        cell("offered_utilization", Value::F64(Some(util_offered))),
        cell("peak_offered_utilization", Value::F64(Some(util_peak))),
        cell(
            "utilization",
            Value::F64(Some(r.busy_s / (o.servers as f64 * w.len_s()))),
        ),
        cell("throughput_per_s", Value::F64(Some(throughput))),
        cell(
            "p_wait",
            Value::F64((r.measured > 0).then(|| r.waited as f64 / r.measured as f64)),
        ),
    ];
    let percentiles = reported_percentiles(s);
    latency_cells(&mut row, "wait", &r.wait, &percentiles);
    latency_cells(&mut row, "response", &r.response, &percentiles);
    row.push(cell(
        "mean_in_system",
        Value::F64(Some(r.in_system_s / w.len_s())),
    ));
    row.push(cell(
        "little_mean_in_system",
        Value::F64(r.response.mean_s().map(|m| m * throughput)),
    ));
    row
}

/// Summarise replication rows of one placement: identifiers from the first
/// row, then for every numeric column its mean and `<column>_ci95`.
pub fn summary_row(s: &Scenario, rows: &[&Row]) -> Row {
    let first = rows[0];
    let mut out: Row = first
        .iter()
        .filter(|(n, _)| ID_COLUMNS.contains(&n.as_str()) && n != "replication")
        .cloned()
        .collect();
    out.push(cell("replications", Value::U64(rows.len() as u64)));
    for (name, v) in first.iter() {
        if ID_COLUMNS.contains(&name.as_str()) || matches!(v, Value::Str(_) | Value::Bool(_)) {
            continue;
        }
        let est = Estimate::from_values(rows.iter().map(|r| get(r, name).and_then(Value::as_f64)));
        out.push(cell(name.clone(), Value::F64(est.map(|e| e.mean))));
        out.push(cell(
            format!("{name}_ci95"),
            Value::F64(est.and_then(|e| e.ci95.is_finite().then_some(e.ci95))),
        ));
    }
    // Service level: met when the upper end of each target's 95 % interval
    // is within the bound (with one replication, the point estimate).
    let met = if s.service_level.targets.is_empty() {
        None
    } else {
        let mut all = true;
        for t in &s.service_level.targets {
            let column = format!("{}_{}_s", t.metric.name(), percentile_label(t.percentile));
            let est =
                Estimate::from_values(rows.iter().map(|r| get(r, &column).and_then(Value::as_f64)));
            let upper = est.map(|e| {
                if e.ci95.is_finite() {
                    e.upper()
                } else {
                    e.mean
                }
            });
            all &= upper.is_some_and(|u| u <= t.max_s);
        }
        Some(all)
    };
    out.push(cell("slo_met", Value::Bool(met)));
    out
}

/// Run every placement x replication on the current rayon pool.
pub fn run_scenario(s: &Scenario) -> RunResults {
    let tasks: Vec<(usize, usize)> = (0..s.placements.len())
        .flat_map(|p| (0..s.replications).map(move |r| (p, r)))
        .collect();
    let outcomes: Vec<ReplicationOutcome> = tasks
        .par_iter()
        .map(|&(p, r)| run_replication(s, p, r))
        .collect();
    let replications: Vec<Row> = outcomes.iter().map(|o| replication_row(s, o)).collect();
    let summary = (0..s.placements.len())
        .map(|p| {
            let rows: Vec<&Row> = replications[p * s.replications..(p + 1) * s.replications]
                .iter()
                .collect();
            summary_row(s, &rows)
        })
        .collect();
    RunResults {
        replications,
        summary,
    }
}
