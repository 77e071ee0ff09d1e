//! Running a scenario: every placement in every replication, in parallel on
//! the caller's rayon pool (one task per placement x replication, each
//! single-threaded and seeded from (scenario seed, replication) only, so the
//! results do not depend on the number of threads). All placements of one
//! replication see the same arrivals and request sizes (common random
//! numbers): they read the same stream.

use rayon::prelude::*;

use crate::core::dist::{draw_tokens, Dist};
use crate::core::rng::{stream_rng, StreamKind};
use crate::core::stats::{Estimate, LatencyHistogram};
use crate::core::units::percentile_label;
use crate::engine::batching::{BatchConfig, BatchingFleet, FleetUsage, LlmRequest, LlmSource};
use crate::engine::fcfs::{DedicatedDevices, PooledFleet};
use crate::metrics::{FcfsRecorder, LlmRecorder, RejectReason, Window};
use crate::results::table::{cell, get, join_column, rows_of_class, sum_column, Row, Value};
use crate::scenario::{LatencyMetric, LlmServer, LlmWorkload, PlacementKind, Scenario, Workload};
use crate::slo::{judge_with_classes, set_verdict};
use crate::workload::source::Source;

/// One generic request as generated: who sent it, when, and how much work it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// Arrival time, seconds since simulation start (00:00 UTC).
    pub arrival_s: f64,
    /// Sender.
    pub user: u32,
    /// Service time on one server, seconds.
    pub service_s: f64,
}

/// LLM requests of a [`Source`]: token counts drawn from the request's
/// stream, with the sizes of its user's class.
pub struct LlmRequests<'a, 'b> {
    source: &'b mut Source<'a>,
    /// Each class's LLM workload, by class index.
    workloads: Vec<&'a LlmWorkload>,
}

impl<'a, 'b> LlmRequests<'a, 'b> {
    /// Wrap the source of a scenario whose classes are all LLM classes.
    pub fn new(source: &'b mut Source<'a>, scenario: &'a Scenario) -> Self {
        let workloads = scenario
            .classes
            .iter()
            .map(|c| match &c.workload {
                Workload::Llm(l) => l,
                Workload::Generic { .. } => panic!("an LLM placement serves LLM classes only"),
            })
            .collect();
        LlmRequests { source, workloads }
    }

    /// The next request, drawn now.
    #[inline]
    pub fn next_llm(&mut self) -> Option<LlmRequest> {
        let (arrival_s, user) = self.source.pop()?;
        let (input_tokens, output_tokens) = match self.source.trace_tokens() {
            Some(tokens) => tokens,
            None => {
                let w = self.workloads[self.source.last_class()];
                let rng = self.source.size_rng();
                let input = draw_tokens(&w.input_tokens, rng);
                (input, draw_tokens(&w.output_tokens, rng))
            }
        };
        Some(LlmRequest {
            arrival_s,
            user,
            input_tokens,
            output_tokens,
        })
    }
}

impl LlmSource for LlmRequests<'_, '_> {
    fn peek_s(&mut self) -> Option<f64> {
        self.source.peek_s()
    }
    fn next_request(&mut self) -> Option<LlmRequest> {
        self.next_llm()
    }
    fn completed(&mut self, user: u32, end_s: f64) {
        self.source.completed(user, end_s);
    }
}

/// Generic requests of a [`Source`]: service time drawn from the request's
/// stream, from its class's distribution times the placement's scale for it.
#[inline]
fn next_generic(source: &mut Source<'_>, services: &[(&Dist, f64)]) -> Option<Request> {
    let (arrival_s, user) = source.pop()?;
    let (service, scale) = services[source.last_class()];
    let service_s = service.sample(source.size_rng()) * scale;
    Some(Request {
        arrival_s,
        user,
        service_s,
    })
}

/// What a placement measured.
#[derive(Debug, Clone)]
pub enum Measured {
    /// Generic requests on non-batching servers.
    Fcfs(Box<FcfsRecorder>),
    /// LLM requests, with the fleet's time-integrated state.
    Llm(Box<LlmRecorder>, FleetUsage),
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
    pub measured: Measured,
}

impl ReplicationOutcome {
    /// The generic recorder (panics for LLM outcomes).
    pub fn fcfs(&self) -> &FcfsRecorder {
        match &self.measured {
            Measured::Fcfs(r) => r,
            Measured::Llm(..) => panic!("an LLM outcome has no FCFS recorder"),
        }
    }
}

/// Bounds a request must meet to count as attained: the attainment
/// target's, else every TTFT/TPOT/E2E percentile bound of the service level.
fn attainment_bounds(s: &Scenario) -> [f64; 3] {
    if let Some(a) = s.service_level.attainment {
        return [a.ttft_s, a.tpot_s, a.e2e_s];
    }
    let mut b = [f64::INFINITY; 3];
    for t in &s.service_level.targets {
        let i = match t.metric {
            LatencyMetric::Ttft => 0,
            LatencyMetric::Tpot => 1,
            LatencyMetric::E2e => 2,
            _ => continue,
        };
        b[i] = b[i].min(t.max_s);
    }
    b
}

/// Share of measured waits above the service level's wait-tail threshold
/// (exact count for a threshold of 0).
fn wait_tail_cell(
    s: &Scenario,
    wait: &LatencyHistogram,
    waited: u64,
    measured: u64,
) -> Option<(String, Value)> {
    let w = s.service_level.wait_tail?;
    let share = if measured == 0 {
        None
    } else if w.above_s == 0.0 {
        Some(waited as f64 / measured as f64)
    } else {
        wait.share_above(w.above_s)
    };
    Some(cell("p_wait_above", Value::F64(share)))
}

/// Simulate one placement in one replication.
pub fn run_replication(s: &Scenario, placement: usize, replication: usize) -> ReplicationOutcome {
    let window = Window {
        warmup_s: s.warmup_s,
        horizon_s: s.horizon_s,
    };
    let p = &s.placements[placement];
    assert_eq!(
        p.serves.len(),
        s.classes.len(),
        "run a placement on its Scenario::view"
    );
    let mut source = Source::new(s.population(), replication);
    let placement_rng = || {
        stream_rng(
            s.seed,
            replication as u64,
            StreamKind::Placement,
            p.stream_id,
        )
    };
    // Where each class's users end (latencies are also kept per class).
    let class_ends = s.class_ends();
    // Service times of each class on this placement's servers (generic).
    let services: Vec<(&Dist, f64)> = s
        .classes
        .iter()
        .enumerate()
        .filter_map(|(c, class)| match &class.workload {
            Workload::Generic { service } => Some((service, p.service_scale_by_class[c])),
            Workload::Llm(_) => None,
        })
        .collect();
    let (servers, measured) = match (s.workload_of(placement), &p.kind) {
        (Workload::Generic { .. }, PlacementKind::Dedicated) => {
            let mut rec = FcfsRecorder::new(window).with_classes(class_ends.clone());
            let mut devices = DedicatedDevices::new(s.users);
            while let Some(r) = next_generic(&mut source, &services) {
                let sv = devices.serve(r.user, r.arrival_s, r.service_s);
                rec.record(r.arrival_s, sv.start_s, sv.end_s, r.user);
                source.completed(r.user, sv.end_s);
            }
            (s.users, Measured::Fcfs(Box::new(rec)))
        }
        (Workload::Generic { .. }, PlacementKind::Pooled { servers, dispatch }) => {
            let mut rec = FcfsRecorder::new(window).with_classes(class_ends.clone());
            let mut fleet = PooledFleet::new(*servers, *dispatch, placement_rng());
            while let Some(r) = next_generic(&mut source, &services) {
                let sv = fleet.serve(r.arrival_s, r.service_s);
                rec.record(r.arrival_s, sv.start_s, sv.end_s, r.user);
                source.completed(r.user, sv.end_s);
            }
            (*servers, Measured::Fcfs(Box::new(rec)))
        }
        (Workload::Llm(l), kind) => {
            let server = p.llm().expect("LLM placements are resolved with servers");
            let [a, b, c] = attainment_bounds(s);
            let mut rec = LlmRecorder::new(window, server.network_rtt_s)
                .with_targets(a, b, c)
                .with_classes(class_ends.clone());
            if let Some(d) = &server.network_rtt {
                let rng = stream_rng(s.seed, replication as u64, StreamKind::Network, p.stream_id);
                rec = rec.with_rtt_distribution(d.clone(), rng);
            }
            match kind {
                PlacementKind::Dedicated => {
                    let usage = serve_dedicated_llm(
                        s.users,
                        l.model.context_limit_tokens,
                        server,
                        &mut LlmRequests::new(&mut source, s),
                        &mut rec,
                    );
                    (s.users, Measured::Llm(Box::new(rec), usage))
                }
                PlacementKind::Pooled { servers, dispatch } => {
                    let cfg = BatchConfig {
                        servers: *servers,
                        max_batch: server.max_batch,
                        kv_budget_tokens: server.kv_budget_tokens,
                        context_limit_tokens: l.model.context_limit_tokens,
                        step: server.step,
                        dispatch: *dispatch,
                        fast_forward: server.fast_forward,
                        chunked_prefill_tokens: server.chunked_prefill_tokens,
                    };
                    let fleet = BatchingFleet::new(cfg, window, placement_rng());
                    let usage = fleet.run_source(&mut LlmRequests::new(&mut source, s), &mut rec);
                    (*servers, Measured::Llm(Box::new(rec), usage))
                }
            }
        }
    };
    ReplicationOutcome {
        placement,
        replication,
        servers,
        measured,
    }
}

/// One device per user at batch 1 (Lindley's recursion with the roofline
/// service time): TTFT = wait + prefill, then one token per step.
fn serve_dedicated_llm(
    users: usize,
    context_limit_tokens: u64,
    server: &LlmServer,
    requests: &mut LlmRequests<'_, '_>,
    rec: &mut LlmRecorder,
) -> FleetUsage {
    let w = rec.window();
    let mut devices = DedicatedDevices::new(users);
    let mut usage = FleetUsage::default();
    while let Some(r) = requests.next_llm() {
        let need = r.input_tokens as u64 + r.output_tokens as u64;
        if need > context_limit_tokens {
            rec.reject(r.arrival_s, RejectReason::ContextLimit, r.user);
            requests.completed(r.user, r.arrival_s);
            continue;
        }
        if need > server.kv_budget_tokens {
            rec.reject(r.arrival_s, RejectReason::KvBudget, r.user);
            requests.completed(r.user, r.arrival_s);
            continue;
        }
        let (prefill, decode) = server
            .step
            .single_request_s(r.input_tokens as u64, r.output_tokens as u64);
        let sv = devices.serve(r.user, r.arrival_s, prefill + decode);
        let first = sv.start_s + prefill;
        rec.record(
            r.arrival_s,
            sv.start_s,
            first,
            sv.end_s,
            r.output_tokens,
            r.user,
        );
        requests.completed(r.user, sv.end_s);
        let busy = w.overlap_s(sv.start_s, sv.end_s);
        let decoding = w.overlap_s(first, sv.end_s);
        usage.busy_s += busy;
        rec.timeline.busy(sv.start_s, sv.end_s);
        usage.decode_s += decoding;
        usage.batch_decode_area += decoding;
        usage.kv_area += need as f64 * busy;
        usage.events += 1;
    }
    usage
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct RunResults {
    /// One row per placement x replication, placement-major.
    pub replications: Vec<Row>,
    /// One row per placement: means and 95 % confidence half-widths.
    pub summary: Vec<Row>,
    /// Latency distributions (all replications pooled): one row per
    /// placement, latency and quantile.
    pub latency_cdf: Vec<Row>,
    /// Load by minute of the day (all days and replications averaged): one
    /// row per placement and minute.
    pub timeline: Vec<Row>,
    /// Placements serving several classes: one summary row per placement
    /// and class, over that class's requests (classes.parquet).
    pub classes: Vec<Row>,
}

/// Quantiles at which the latency CDFs are tabulated.
fn cdf_quantiles() -> Vec<f64> {
    let mut q: Vec<f64> = (0..=99).map(|i| i as f64 / 100.0).collect();
    q.extend([0.995, 0.999, 0.9995, 0.9999, 1.0]);
    q
}

fn cdf_and_timeline(s: &Scenario, outcomes: &[ReplicationOutcome]) -> (Vec<Row>, Vec<Row>) {
    let mut cdf = Vec::new();
    let mut timeline = Vec::new();
    for (pi, p) in s.placements.iter().enumerate() {
        let mine: Vec<&ReplicationOutcome> =
            outcomes.iter().filter(|o| o.placement == pi).collect();
        let Some(first) = mine.first() else { continue };
        let mut hists: Vec<(&str, LatencyHistogram)> = Vec::new();
        let mut tl = match &first.measured {
            Measured::Fcfs(r) => {
                hists.push(("wait", LatencyHistogram::new()));
                hists.push(("response", LatencyHistogram::new()));
                (*r.timeline).clone()
            }
            Measured::Llm(r, _) => {
                for n in ["wait", "ttft", "tpot", "e2e"] {
                    hists.push((n, LatencyHistogram::new()));
                }
                (*r.timeline).clone()
            }
        };
        for (k, o) in mine.iter().enumerate() {
            let sources: Vec<&LatencyHistogram> = match &o.measured {
                Measured::Fcfs(r) => vec![&r.wait, &r.response],
                Measured::Llm(r, _) => vec![&r.wait, &r.ttft, &r.tpot, &r.e2e],
            };
            for ((_, h), src) in hists.iter_mut().zip(sources) {
                h.merge(src);
            }
            if k > 0 {
                match &o.measured {
                    Measured::Fcfs(r) => tl.merge(&r.timeline),
                    Measured::Llm(r, _) => tl.merge(&r.timeline),
                }
            }
        }
        for (name, h) in &hists {
            for q in cdf_quantiles() {
                let Some(v) = h.quantile_s(q.max(1e-9)) else {
                    continue;
                };
                // The service level's bound on this latency, if any, so that
                // charts redrawn from this file alone can show it.
                let target = s
                    .service_level
                    .targets
                    .iter()
                    .find(|t| t.metric.name() == *name);
                cdf.push(vec![
                    cell("scenario", Value::Str(s.name.clone())),
                    cell("placement", Value::Str(p.name.clone())),
                    cell("kind", Value::Str(p.kind_name().into())),
                    cell("latency", Value::Str((*name).into())),
                    cell("quantile", Value::F64(Some(q))),
                    cell("value_s", Value::F64(Some(v))),
                    cell("slo_percentile", Value::F64(target.map(|t| t.percentile))),
                    cell("slo_max_s", Value::F64(target.map(|t| t.max_s))),
                ]);
            }
        }
        let coverage = tl.coverage_s();
        let reps = mine.len() as f64;
        let servers = first.servers as f64;
        for (m, covered_s) in coverage.iter().enumerate() {
            let cov = covered_s * reps;
            timeline.push(vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell("placement", Value::Str(p.name.clone())),
                cell("kind", Value::Str(p.kind_name().into())),
                cell("minute_of_day", Value::U64(m as u64)),
                cell("hour_of_day", Value::F64(Some(m as f64 / 60.0))),
                cell("servers", Value::U64(servers as u64)),
                cell(
                    "arrivals_per_min",
                    Value::F64((cov > 0.0).then(|| tl.arrivals[m] as f64 / (cov / 60.0))),
                ),
                cell(
                    "busy_servers",
                    Value::F64((cov > 0.0).then(|| tl.busy_s[m] / cov)),
                ),
            ]);
        }
    }
    (cdf, timeline)
}

/// Percentiles reported for every latency (plus any a service level bounds).
pub const PERCENTILES: [f64; 4] = [50.0, 90.0, 99.0, 99.9];

/// The standard percentiles and those the service level names, ascending.
fn reported_percentiles(s: &Scenario) -> Vec<f64> {
    let mut ps: Vec<f64> = PERCENTILES.to_vec();
    ps.extend(s.service_level.targets.iter().map(|t| t.percentile));
    ps.sort_by(f64::total_cmp);
    ps.dedup();
    ps
}

/// Columns that identify a row rather than measure something.
const ID_COLUMNS: [&str; 30] = [
    "scenario",
    "placement",
    "kind",
    "class",
    "classes",
    "dispatch",
    "replication",
    "seed",
    "unstable",
    "users",
    "servers",
    "horizon_s",
    "warmup_s",
    "offered_load_erlangs",
    "offered_utilization",
    "peak_offered_utilization",
    "requests_per_user_per_day",
    "model",
    "quantisation",
    "device",
    "tensor_parallel",
    "max_batch",
    "network_rtt_s",
    "memory_price_multiplier",
    "devices",
    "mem_gb_total",
    "mem_gb_per_user",
    "capex_usd",
    "capex_usd_per_user",
    "rental_usd_per_day",
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

/// Offered utilisation of one server or device: (daily mean, peak hour).
/// Unknown (None) for batching fleets, whose capacity depends on the batch.
fn offered_utilization(s: &Scenario, placement: usize) -> (Option<f64>, Option<f64>) {
    let p = &s.placements[placement];
    let es = match p.llm() {
        Some(l) => l.mean_request_s,
        None => s.generic_mean_service_s(placement),
    };
    match (&p.kind, p.llm()) {
        (PlacementKind::Dedicated, _) => {
            // The mean user's device; the peak is the busiest user (rate
            // spread) at the busiest hour of the profile.
            // Per class: its users' rate x its service time here (scaled
            // from its reference device by this placement's mean).
            let rate = s.requests_per_user_per_day / crate::workload::arrivals::DAY_S;
            let peak = (0..s.classes.len())
                .map(|c| {
                    let class = &s.classes[c];
                    let groups = &s.arrivals.groups()[class.groups.clone()];
                    let peak_w = match class.behaviour {
                        crate::workload::source::Behaviour::Agent { .. } => 1.0,
                        _ => groups.iter().map(|g| g.profile.peak()).fold(0.0, f64::max),
                    };
                    // (The ratio first: two long service times multiplied
                    // overflow; found by fuzzing.)
                    let es_c = if s.mean_service_s > 0.0 {
                        es * (class.mean_service_s / s.mean_service_s)
                    } else {
                        es
                    };
                    class.requests_per_user_per_day / crate::workload::arrivals::DAY_S
                        * busiest_user_multiplier(s, c)
                        * peak_w
                        * es_c
                })
                .fold(0.0, f64::max);
            (Some(rate * es), Some(peak))
        }
        (PlacementKind::Pooled { servers, .. }, None) => {
            let c = *servers as f64;
            let all = s.request_rate_process();
            (
                Some(all.mean_rate_per_s() * es / c),
                Some(all.peak_rate_per_s() * es / c),
            )
        }
        (PlacementKind::Pooled { .. }, Some(_)) => (None, None),
    }
}

/// Rate multiplier of class `class`'s heaviest user (1 when its users are alike).
fn busiest_user_multiplier(s: &Scenario, class: usize) -> f64 {
    s.arrivals.groups()[s.classes[class].groups.clone()]
        .iter()
        .map(|g| g.spread.as_ref().map_or(1.0, |sp| sp.max() / sp.mean()))
        .fold(1.0, f64::max)
}

/// A dedicated device is unstable when its user's own load reaches it: the
/// heaviest user's daily mean, in the class that loads its device most.
fn dedicated_overloaded(s: &Scenario, placement: usize) -> bool {
    let p = &s.placements[placement];
    if p.kind != PlacementKind::Dedicated {
        return false;
    }
    let Some(mean_util) = offered_utilization(s, placement).0 else {
        return false;
    };
    let pop_rate = s.requests_per_user_per_day;
    (0..s.classes.len()).any(|c| {
        let class = &s.classes[c];
        let rel = if pop_rate > 0.0 && s.mean_service_s > 0.0 {
            (class.requests_per_user_per_day / pop_rate) * (class.mean_service_s / s.mean_service_s)
        } else {
            1.0
        };
        mean_util * rel * busiest_user_multiplier(s, c) >= 1.0
    })
}

fn common_cells(s: &Scenario, o: &ReplicationOutcome, unstable: bool, w: Window) -> Row {
    let p = &s.placements[o.placement];
    let (util_offered, util_peak) = offered_utilization(s, o.placement);
    vec![
        cell("scenario", Value::Str(s.name.clone())),
        cell("placement", Value::Str(p.name.clone())),
        cell("kind", Value::Str(p.kind_name().into())),
        cell("classes", Value::Str(s.classes_label(&p.serves))),
        cell("dispatch", Value::Str(p.dispatch_name().into())),
        cell("replication", Value::U64(o.replication as u64)),
        cell("seed", Value::U64(s.seed)),
        cell("unstable", Value::Bool(Some(unstable))),
        cell("users", Value::U64(s.users as u64)),
        cell("servers", Value::U64(o.servers as u64)),
        cell("horizon_s", Value::F64(Some(w.horizon_s))),
        cell("warmup_s", Value::F64(Some(w.warmup_s))),
        cell(
            "requests_per_user_per_day",
            Value::F64(Some(s.requests_per_user_per_day)),
        ),
        cell(
            "offered_load_erlangs",
            Value::F64(Some(s.offered_load_erlangs())),
        ),
        cell("offered_utilization", Value::F64(util_offered)),
        cell("peak_offered_utilization", Value::F64(util_peak)),
    ]
}

/// The flat row of one placement x replication (columns listed in
/// docs/results-schema.md).
pub fn replication_row(s: &Scenario, o: &ReplicationOutcome) -> Row {
    match &o.measured {
        Measured::Fcfs(r) => fcfs_row(s, o, r),
        Measured::Llm(r, usage) => llm_row(s, o, r, usage),
    }
}

fn fcfs_row(s: &Scenario, o: &ReplicationOutcome, r: &FcfsRecorder) -> Row {
    let w = r.window();
    let unstable = offered_utilization(s, o.placement)
        .0
        .is_some_and(|u| u >= 1.0)
        || dedicated_overloaded(s, o.placement);
    let throughput = r.measured as f64 / w.len_s();
    let mut row = common_cells(s, o, unstable, w);
    row.extend([
        cell("arrived", Value::U64(r.arrived)),
        cell("completed_by_horizon", Value::U64(r.completed_by_horizon)),
        cell("in_flight_at_horizon", Value::U64(r.in_flight_at_horizon)),
        cell("rejected", Value::U64(0)),
        cell("measured", Value::U64(r.measured)),
        cell(
            "utilization",
            Value::F64(Some(r.busy_s / (o.servers as f64 * w.len_s()))),
        ),
        cell("throughput_per_s", Value::F64(Some(throughput))),
        cell(
            "p_wait",
            Value::F64((r.measured > 0).then(|| r.waited as f64 / r.measured as f64)),
        ),
    ]);
    if let Some(pd) = s.placements[o.placement].priced_device() {
        row.push(cell("device", Value::Str(pd.device.name.clone())));
        let (cost, _) = device_cost_cells(
            s,
            &pd.device,
            o.servers as f64,
            pd.capex_per_device_usd,
            r.busy_s,
            w.len_s(),
        );
        row.extend(cost);
    }
    row.extend(wait_tail_cell(s, &r.wait, r.waited, r.measured));
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

/// Seconds in a day.
const DAY: f64 = crate::workload::arrivals::DAY_S;

/// Hardware, memory, capital and energy of `devices` devices busy for
/// `busy_device_s` device-seconds of a `win_s` window (the rest idle), and
/// the energy in joules.
fn device_cost_cells(
    s: &Scenario,
    dev: &crate::llm::catalog::Device,
    devices: f64,
    capex_per_device_usd: f64,
    busy_device_s: f64,
    win_s: f64,
) -> (Row, f64) {
    let mem_total = devices * dev.mem_gb;
    let capex = devices * capex_per_device_usd;
    let energy_j =
        dev.busy_w * busy_device_s + dev.idle_w * (devices * win_s - busy_device_s).max(0.0);
    let energy_kwh_day = energy_j / 3.6e6 * DAY / win_s;
    let users = s.users as f64;
    let cells = vec![
        cell("devices", Value::U64(devices as u64)),
        cell("mem_gb_total", Value::F64(Some(mem_total))),
        cell("mem_gb_per_user", Value::F64(Some(mem_total / users))),
        cell("capex_usd", Value::F64(Some(capex))),
        cell("capex_usd_per_user", Value::F64(Some(capex / users))),
        cell(
            "rental_usd_per_day",
            Value::F64(dev.rental_usd_per_h.map(|h| h * 24.0 * devices)),
        ),
        cell("energy_kwh_per_day", Value::F64(Some(energy_kwh_day))),
        cell(
            "energy_kwh_per_user_per_day",
            Value::F64(Some(energy_kwh_day / users)),
        ),
    ];
    (cells, energy_j)
}

fn llm_row(s: &Scenario, o: &ReplicationOutcome, r: &LlmRecorder, u: &FleetUsage) -> Row {
    let p = &s.placements[o.placement];
    let server = p.llm().expect("LLM placement");
    let l = s.llm_of(o.placement).expect("LLM placement");
    let w = r.window();
    let win = w.len_s();
    let analytic_overload = offered_utilization(s, o.placement)
        .0
        .is_some_and(|x| x >= 1.0)
        || dedicated_overloaded(s, o.placement);
    // Pooled batching fleets: more than 1 % of the arrivals still queued
    // (not admitted) at the horizon means the queue kept growing.
    let backlog = r.queued_at_horizon() as f64 > 0.01 * r.arrived as f64;
    let unstable = analytic_overload || backlog;
    let devices = o.servers as f64 * server.tensor_parallel as f64;
    let dev = &server.device;
    let busy_device_s = u.busy_s * server.tensor_parallel as f64;
    let (cost, energy_j) = device_cost_cells(
        s,
        dev,
        devices,
        server.capex_per_device_usd,
        busy_device_s,
        win,
    );
    let out_tok_s = r.output_tokens as f64 / win;
    let mut row = common_cells(s, o, unstable, w);
    row.extend([
        cell("model", Value::Str(l.model.name.clone())),
        cell("quantisation", Value::Str(l.quantisation.clone())),
        cell("device", Value::Str(dev.name.clone())),
        cell("tensor_parallel", Value::U64(server.tensor_parallel as u64)),
        cell("max_batch", Value::U64(server.max_batch as u64)),
        cell("network_rtt_s", Value::F64(Some(server.network_rtt_s))),
        cell(
            "memory_price_multiplier",
            Value::F64(Some(l.memory_price_multiplier)),
        ),
        cell("arrived", Value::U64(r.arrived)),
        cell("completed_by_horizon", Value::U64(r.completed_by_horizon)),
        cell("in_flight_at_horizon", Value::U64(r.in_flight_at_horizon)),
        cell("rejected", Value::U64(r.rejected())),
        cell("rejected_context_limit", Value::U64(r.rejected_context)),
        cell("rejected_kv_budget", Value::U64(r.rejected_kv)),
        cell("queued_at_horizon", Value::U64(r.queued_at_horizon())),
        cell("measured", Value::U64(r.measured)),
    ]);
    row.extend(cost);
    row.extend([
        cell(
            "utilization",
            Value::F64(Some(u.busy_s / (o.servers as f64 * win))),
        ),
        cell(
            "throughput_per_s",
            Value::F64(Some(r.measured as f64 / win)),
        ),
        cell("output_tokens_per_s", Value::F64(Some(out_tok_s))),
        cell(
            "output_tokens_per_s_per_device",
            Value::F64(Some(out_tok_s / devices)),
        ),
        cell(
            "tokens_per_joule",
            Value::F64((energy_j > 0.0).then(|| r.output_tokens as f64 / energy_j)),
        ),
        cell(
            "mean_batch",
            Value::F64((u.decode_s > 0.0).then(|| u.batch_decode_area / u.decode_s)),
        ),
        cell(
            "kv_occupancy",
            Value::F64(Some(
                u.kv_area / (o.servers as f64 * server.kv_budget_tokens.max(1) as f64 * win),
            )),
        ),
        cell("events", Value::U64(u.events)),
        cell(
            "p_wait",
            Value::F64((r.measured > 0).then(|| r.waited as f64 / r.measured as f64)),
        ),
        cell(
            "slo_attainment",
            Value::F64((r.measured > 0).then(|| r.attained as f64 / r.measured as f64)),
        ),
    ]);
    row.extend(wait_tail_cell(s, &r.wait, r.waited, r.measured));
    let percentiles = reported_percentiles(s);
    for (name, h) in [
        ("wait", &r.wait),
        ("ttft", &r.ttft),
        ("tpot", &r.tpot),
        ("e2e", &r.e2e),
    ] {
        latency_cells(&mut row, name, h, &percentiles);
    }
    row
}

/// One row per class of a placement serving several classes (none for one
/// class), for one replication: the latency and service-level columns of
/// [`replication_row`], over that class's requests only.
pub fn class_rows(s: &Scenario, o: &ReplicationOutcome) -> Vec<Row> {
    let p = &s.placements[o.placement];
    let by_class = match &o.measured {
        Measured::Fcfs(r) => &r.by_class,
        Measured::Llm(r, _) => &r.by_class,
    };
    let percentiles = reported_percentiles(s);
    by_class
        .classes
        .iter()
        .enumerate()
        // A class with no user in this run (a pool composition without it)
        // has nothing to judge.
        .filter(|(c, _)| s.class_users(*c).1 > 0)
        .map(|(c, k)| {
            let mut row = vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell("placement", Value::Str(p.name.clone())),
                cell("kind", Value::Str(p.kind_name().into())),
                cell("class", Value::Str(s.classes[c].name.clone())),
                cell("replication", Value::U64(o.replication as u64)),
                cell("users", Value::U64(s.class_users(c).1 as u64)),
                cell("measured", Value::U64(k.measured)),
                cell(
                    "p_wait",
                    Value::F64((k.measured > 0).then(|| k.waited as f64 / k.measured as f64)),
                ),
            ];
            row.extend(wait_tail_cell(s, &k.wait, k.waited, k.measured));
            match &o.measured {
                Measured::Fcfs(_) => {
                    latency_cells(&mut row, "wait", &k.wait, &percentiles);
                    latency_cells(&mut row, "response", &k.response, &percentiles);
                }
                Measured::Llm(..) => {
                    row.push(cell(
                        "slo_attainment",
                        Value::F64((k.measured > 0).then(|| k.attained as f64 / k.measured as f64)),
                    ));
                    for (name, h) in [
                        ("wait", &k.wait),
                        ("ttft", &k.ttft),
                        ("tpot", &k.tpot),
                        ("e2e", &k.e2e),
                    ] {
                        latency_cells(&mut row, name, h, &percentiles);
                    }
                }
            }
            row
        })
        .collect()
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
    let any_unstable = rows
        .iter()
        .any(|r| matches!(get(r, "unstable"), Some(Value::Bool(Some(true)))));
    for c in out.iter_mut() {
        if c.0 == "unstable" {
            c.1 = Value::Bool(Some(any_unstable));
        }
    }
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
    let verdict = crate::slo::judge(s, rows);
    let met = verdict.as_ref().map(|v| v.met);
    out.push(cell(
        "slo_detail",
        Value::Str(verdict.map_or_else(String::new, |v| v.describe())),
    ));
    out.push(cell("slo_met", Value::Bool(met)));
    out
}

/// A hybrid's summary row: its parts' hardware, memory, capital and energy
/// summed (per-user figures over every user of the scenario); its service
/// level holds when every part's does.
fn hybrid_summary_row(s: &Scenario, name: &str, parts: &[usize], summary: &[Row]) -> Row {
    let users = s.users as f64;
    let parts: Vec<&Row> = parts.iter().map(|&j| &summary[j]).collect();
    let sum = |c: &str| sum_column(&parts, c);
    let met: Option<bool> = parts
        .iter()
        .map(|r| match get(r, "slo_met") {
            Some(Value::Bool(b)) => *b,
            _ => None,
        })
        .collect::<Option<Vec<bool>>>()
        .map(|v| v.iter().all(|m| *m));
    let unstable = parts
        .iter()
        .any(|r| matches!(get(r, "unstable"), Some(Value::Bool(Some(true)))));
    vec![
        cell("scenario", Value::Str(s.name.clone())),
        cell("placement", Value::Str(name.to_string())),
        cell("kind", Value::Str("hybrid".into())),
        cell("classes", Value::Str(s.all_classes_label())),
        cell("parts", Value::Str(join_column(&parts, "placement", "+"))),
        cell("device", Value::Str(join_column(&parts, "device", "+"))),
        cell("unstable", Value::Bool(Some(unstable))),
        cell("users", Value::U64(s.users as u64)),
        cell("devices", Value::F64(sum("devices"))),
        cell("mem_gb_total", Value::F64(sum("mem_gb_total"))),
        cell(
            "mem_gb_per_user",
            Value::F64(sum("mem_gb_total").map(|m| m / users)),
        ),
        cell("capex_usd", Value::F64(sum("capex_usd"))),
        cell(
            "capex_usd_per_user",
            Value::F64(sum("capex_usd").map(|m| m / users)),
        ),
        cell("energy_kwh_per_day", Value::F64(sum("energy_kwh_per_day"))),
        cell(
            "energy_kwh_per_user_per_day",
            Value::F64(sum("energy_kwh_per_day").map(|m| m / users)),
        ),
        cell(
            "slo_detail",
            Value::Str(join_column(&parts, "slo_detail", "; ")),
        ),
        cell("slo_met", Value::Bool(met)),
    ]
}

/// Run every placement x replication on the current rayon pool. Each
/// placement runs on its view (the classes it serves).
pub fn run_scenario(s: &Scenario) -> RunResults {
    let views: Vec<Scenario> = (0..s.placements.len()).map(|p| s.view(p)).collect();
    let tasks: Vec<(usize, usize)> = (0..s.placements.len())
        .flat_map(|p| (0..s.replications).map(move |r| (p, r)))
        .collect();
    let outcomes: Vec<ReplicationOutcome> = tasks
        .par_iter()
        .map(|&(p, r)| run_replication(&views[p], 0, r))
        .collect();
    let replications: Vec<Row> = outcomes
        .iter()
        .zip(&tasks)
        .map(|(o, &(p, _))| replication_row(&views[p], o))
        .collect();
    let mut summary = Vec::with_capacity(s.placements.len());
    let mut latency_cdf = Vec::new();
    let mut timeline = Vec::new();
    let mut classes = Vec::new();
    for (p, view) in views.iter().enumerate() {
        let range = p * s.replications..(p + 1) * s.replications;
        let rows: Vec<&Row> = replications[range.clone()].iter().collect();
        let mut row = summary_row(view, &rows);
        let per_class: Vec<Row> = outcomes[range.clone()]
            .iter()
            .flat_map(|o| class_rows(view, o))
            .collect();
        if !per_class.is_empty() {
            // The placement meets its service level only if every class does.
            let verdict = judge_with_classes(view, &rows, &per_class);
            set_verdict(&mut row, verdict);
            for class in &view.classes {
                let mine = rows_of_class(&per_class, &class.name);
                if !mine.is_empty() {
                    classes.push(summary_row(view, &mine));
                }
            }
        }
        summary.push(row);
        let (cdf, tl) = cdf_and_timeline(view, &outcomes[range]);
        latency_cdf.extend(cdf);
        timeline.extend(tl);
    }
    let hybrids: Vec<Row> = s
        .hybrids
        .iter()
        .map(|h| hybrid_summary_row(s, &h.name, &h.parts, &summary))
        .collect();
    summary.extend(hybrids);
    RunResults {
        replications,
        summary,
        latency_cdf,
        timeline,
        classes,
    }
}
