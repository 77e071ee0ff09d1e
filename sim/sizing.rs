//! Service-level sizing: the least hardware that meets the scenario's
//! service level, for every placement and every pool size.
//!
//! Pooled fleets: an analytic first guess (Erlang-C for a wait-tail target,
//! else square-root staffing `a + sqrt(a)` on the peak offered load, where a
//! batching LLM server's capacity is its saturated request rate), then
//! galloping away from the guess and bisection between the last failing and
//! the first passing fleet. Every probe runs the scenario's replications with
//! the same seeds (common random numbers), so probes differ only by the fleet.
//! A probe meets the service level only if every target holds at the
//! unfavourable end of its 95 % interval ([`crate::slo`]) and the probe is
//! trusted: no replication unstable, enough measured requests (a short run
//! is lengthened, doubling its measured window up to 16x), and a warm-up of
//! at least ten mean response times. Bounds that no fleet can beat (TPOT
//! below the device's batch-1 step, TTFT below network + prefill) end the
//! search at once with "infeasible"; otherwise the search stops at
//! `max_servers` with "infeasible".
//!
//! Pool-size curve: users split into pools of k; pools are statistically
//! identical, so one pool of k users is sized and the result scaled by
//! users / k.
//!
//! Dedicated placements are judged as they are: one device per user.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::analytic::min_servers_for_wait_tail;
use crate::run::{replication_row, run_replication, summary_row};
use crate::scenario::{LatencyMetric, PlacementKind, Scenario, Workload};
use crate::slo::{judge, Verdict};
use crate::table::{cell, get, Row, Value};

/// Longest a probe is lengthened: its measured window x 2^4.
const MAX_DOUBLINGS: u32 = 4;

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
}

impl PoolSizing {
    /// The probe at the answer.
    pub fn answer(&self) -> Option<&Probe> {
        let n = self.servers?;
        self.probes.iter().rev().find(|p| p.servers == n && p.meets)
    }
}

/// A horizon long enough to measure `min_measured` requests over all
/// replications of a pool of `users` (at least the scenario's horizon;
/// whole days when the scenario spans at least one).
pub fn probe_horizon_s(s: &Scenario, users: usize, min_measured: u64) -> f64 {
    // All requests (follow-ups of sessions and agents included).
    let rate = s
        .arrivals
        .with_users(users as u32)
        .mean_rate_per_s()
        .max(s.request_rate_process().mean_rate_per_s() * users as f64 / s.users.max(1) as f64);
    if rate <= 0.0 {
        return s.horizon_s;
    }
    let window =
        (min_measured as f64 / (rate * s.replications as f64)).max(s.horizon_s - s.warmup_s);
    let day = crate::arrivals::DAY_S;
    let window = if s.horizon_s - s.warmup_s >= day {
        (window / day).ceil() * day
    } else {
        window
    };
    s.warmup_s + window
}

fn run_probe(
    s: &Scenario,
    placement: usize,
    users: usize,
    servers: Option<usize>,
    min_measured: u64,
) -> Probe {
    let mut horizon = probe_horizon_s(s, users, min_measured);
    let mut doublings = 0;
    loop {
        let ps = s.probe(placement, users, servers, horizon);
        let rows: Vec<Row> = (0..ps.replications)
            .into_par_iter()
            .map(|r| replication_row(&ps, &run_replication(&ps, 0, r)))
            .collect();
        let refs: Vec<&Row> = rows.iter().collect();
        let summary = summary_row(&ps, &refs);
        let verdict = judge(&ps, &refs);
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
        let mut reason = String::new();
        if unstable {
            reason = "unstable: the queue grows over the run".into();
        } else if measured_total < needed {
            if doublings < MAX_DOUBLINGS {
                doublings += 1;
                horizon = s.warmup_s + 2.0 * (horizon - s.warmup_s);
                continue;
            }
            reason =
                format!("too short: {measured_total:.0} measured requests, {needed:.0} needed");
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

/// Capacity of one batching LLM server in requests per second at the mean
/// request size, with the largest batch the KV budget allows.
fn llm_server_capacity_per_s(s: &Scenario, placement: usize) -> Option<f64> {
    let server = s.placements[placement].llm.as_ref()?;
    let (mean_in, mean_out) = s.mean_tokens(placement)?;
    let per_req_kv = mean_in + mean_out;
    let b = (server.max_batch as f64)
        .min((server.kv_budget_tokens as f64 / per_req_kv).floor())
        .max(1.0);
    let ctx = b * (mean_in + mean_out / 2.0);
    let step = server.step.decode_step_s(b as u32, ctx as u64);
    let prefill = server.step.prefill_s(mean_in as u64);
    // Per request: its share of decode steps plus its own prefill.
    Some(1.0 / (mean_out * step / b + prefill))
}

/// The analytic first guess of servers for a pool of `users`.
pub fn analytic_guess(s: &Scenario, placement: usize, users: usize) -> usize {
    // Mean request rate of the pool (sessions and agents included: the
    // open-loop stream alone would miss their follow-ups), scaled to the
    // busiest hour of the daily profile.
    let all = s.view(placement).request_rate_process();
    let peak_rate = all.peak_rate_per_s() * users as f64 / s.served_users(placement).max(1) as f64;
    let es = match s.workload_of(placement) {
        Workload::Generic { .. } => s.generic_mean_service_s(placement),
        Workload::Llm(_) => s.mean_service_s,
    };
    let a = match s.workload_of(placement) {
        Workload::Generic { .. } => peak_rate * es,
        Workload::Llm(_) => match llm_server_capacity_per_s(s, placement) {
            Some(mu) => peak_rate / mu,
            None => peak_rate * s.mean_service_s,
        },
    };
    if let (Workload::Generic { .. }, Some(w)) =
        (s.workload_of(placement), s.service_level.wait_tail)
    {
        return min_servers_for_wait_tail(a, 1.0 / es, w.above_s, w.max_share);
    }
    ((a + a.sqrt()).ceil() as usize).max(1)
}

/// Targets no fleet of this placement can meet, with the reason.
fn hopeless(s: &Scenario, placement: usize) -> Option<String> {
    let p = &s.placements[placement];
    // With random round trips, 0 is the only safe lower bound.
    let rtt = p.llm.as_ref().map_or(0.0, |l| {
        if l.network_rtt.is_some() {
            0.0
        } else {
            l.network_rtt_s
        }
    });
    for t in &s.service_level.targets {
        let q = t.percentile / 100.0;
        let (floor, what) = match (t.metric, &p.llm) {
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
                p.llm
                    .as_ref()
                    .map_or("this server".to_string(), |l| l.device.name.clone())
            ));
        }
    }
    None
}

/// Size one pooled placement for pools of `users` users.
pub fn size_pool(s: &Scenario, placement: usize, users: usize) -> PoolSizing {
    let mut out = PoolSizing {
        placement,
        pool_users: users,
        servers: None,
        reason: String::new(),
        probes: Vec::new(),
    };
    if let Some(reason) = hopeless(s, placement) {
        out.reason = reason;
        return out;
    }
    let min_measured = s.sizing.min_measured_requests;
    let guess = analytic_guess(s, placement, users);
    let max_servers = s
        .sizing
        .max_servers
        .unwrap_or((guess * 16).max(guess + 64))
        .max(1);
    let guess = guess.min(max_servers);
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
        let mut step = 1;
        while hi > 1 {
            let n = hi.saturating_sub(step).max(1);
            if probe(n, &mut out) {
                hi = n;
                step *= 2;
            } else {
                lo = n;
                break;
            }
        }
    } else {
        lo = guess;
        let mut step = 1;
        loop {
            let n = (lo + step).min(max_servers);
            if n == lo {
                out.reason = format!("no fleet of up to {max_servers} servers meets the service level (raise sizing.max_servers to search further)");
                return out;
            }
            if probe(n, &mut out) {
                hi = n;
                break;
            }
            lo = n;
            step *= 2;
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

/// Everything `sharesim size` produced.
#[derive(Debug, Clone)]
pub struct SizingResults {
    /// One row per placement and pool size (sizing.parquet).
    pub rows: Vec<Row>,
    /// One row per probe (probes.parquet).
    pub probes: Vec<Row>,
}

/// Per-user figures of a summary row that sharing factors compare.
const PER_USER: [(&str, &str); 4] = [
    ("devices_per_user", "sharing_factor_devices"),
    ("mem_gb_per_user", "sharing_factor_memory"),
    ("capex_usd_per_user", "sharing_factor_capex"),
    ("energy_kwh_per_user_per_day", "sharing_factor_energy"),
];

/// Latency and load columns copied from the answer's summary.
const COPIED: [&str; 20] = [
    "device",
    "utilization",
    "mean_batch",
    "p_wait",
    "p_wait_above",
    "wait_p99_s",
    "response_p99_s",
    "response_p99_s_ci95",
    "ttft_p50_s",
    "ttft_p99_s",
    "ttft_p99_s_ci95",
    "tpot_p50_s",
    "tpot_p99_s",
    "tpot_p99_s_ci95",
    "e2e_p99_s",
    "slo_attainment",
    "rental_usd_per_day",
    "network_rtt_s",
    "tensor_parallel",
    "slo_detail",
];

fn sizing_row(
    s: &Scenario,
    placement: usize,
    pool_users: usize,
    servers: Option<usize>,
    reason: &str,
    probes: usize,
    answer: Option<&Row>,
) -> Row {
    let p = &s.placements[placement];
    let users = s.users as f64;
    let pools = users / pool_users as f64;
    let num = |c: &str| answer.and_then(|r| get(r, c)).and_then(Value::as_f64);
    let devices_per_pool = num("devices").or(servers.map(|n| n as f64));
    let mut row: Row = vec![
        cell("scenario", Value::Str(s.name.clone())),
        cell("placement", Value::Str(p.name.clone())),
        cell("kind", Value::Str(p.kind_name().into())),
        cell("users", Value::U64(s.users as u64)),
        cell("pool_users", Value::U64(pool_users as u64)),
        cell("pools", Value::F64(Some(pools))),
        cell("feasible", Value::Bool(Some(servers.is_some()))),
        cell("reason", Value::Str(reason.to_string())),
        cell("probes", Value::U64(probes as u64)),
        cell("servers_per_pool", Value::F64(servers.map(|n| n as f64))),
        cell(
            "servers_total",
            Value::F64(servers.map(|n| n as f64 * pools)),
        ),
        cell(
            "devices_total",
            Value::F64(devices_per_pool.map(|d| d * pools)),
        ),
        cell(
            "devices_per_user",
            Value::F64(devices_per_pool.map(|d| d / pool_users as f64)),
        ),
        cell(
            "mem_gb_total",
            Value::F64(num("mem_gb_per_user").map(|m| m * users)),
        ),
        cell("mem_gb_per_user", Value::F64(num("mem_gb_per_user"))),
        cell(
            "capex_usd_total",
            Value::F64(num("capex_usd_per_user").map(|m| m * users)),
        ),
        cell("capex_usd_per_user", Value::F64(num("capex_usd_per_user"))),
        cell(
            "energy_kwh_per_day_total",
            Value::F64(num("energy_kwh_per_user_per_day").map(|m| m * users)),
        ),
        cell(
            "energy_kwh_per_user_per_day",
            Value::F64(num("energy_kwh_per_user_per_day")),
        ),
    ];
    for c in COPIED {
        let v = answer.and_then(|r| get(r, c)).cloned();
        let v = match (c, v) {
            (_, Some(v)) => v,
            ("device", None) | ("slo_detail", None) => Value::Str(String::new()),
            ("tensor_parallel", None) => Value::U64(0),
            (_, None) => Value::F64(None),
        };
        row.push(cell(c, v));
    }
    row
}

/// Size every placement of the scenario at every pool size. Placements and
/// pool sizes run in parallel; each probe's replications too.
pub fn size_scenario(s: &Scenario) -> SizingResults {
    let mut tasks: Vec<(usize, usize)> = Vec::new();
    for (i, p) in s.placements.iter().enumerate() {
        match p.kind {
            PlacementKind::Dedicated => tasks.push((i, s.users)),
            PlacementKind::Pooled { .. } => {
                tasks.extend(s.sizing.pool_sizes.iter().map(|k| (i, *k)))
            }
        }
    }
    let sized: Vec<PoolSizing> = tasks
        .par_iter()
        .map(|&(i, k)| match s.placements[i].kind {
            PlacementKind::Dedicated => {
                let mut out = PoolSizing {
                    placement: i,
                    pool_users: k,
                    servers: None,
                    reason: String::new(),
                    probes: Vec::new(),
                };
                if let Some(r) = hopeless(s, i) {
                    out.reason = r;
                    return out;
                }
                let p = run_probe(s, i, k, None, s.sizing.min_measured_requests);
                if p.meets {
                    out.servers = Some(k);
                } else if !p.trusted {
                    out.reason = p.untrusted_reason.clone();
                } else {
                    out.reason = format!(
                        "one device per user misses the service level: {}",
                        p.verdict.as_ref().map_or(String::new(), |v| v.describe())
                    );
                }
                out.probes.push(p);
                out
            }
            PlacementKind::Pooled { .. } => size_pool(s, i, k),
        })
        .collect();
    let mut rows: Vec<Row> = sized
        .iter()
        .map(|z| {
            sizing_row(
                s,
                z.placement,
                z.pool_users,
                z.servers,
                &z.reason,
                z.probes.len(),
                z.answer().map(|p| &p.summary),
            )
        })
        .collect();
    // Sharing factors against the first dedicated placement.
    let reference: Option<Row> = rows
        .iter()
        .find(|r| matches!(get(r, "kind"), Some(Value::Str(k)) if k == "dedicated"))
        .cloned();
    for row in rows.iter_mut() {
        for (per_user, factor) in PER_USER {
            let v = reference.as_ref().and_then(|d| {
                let dv = get(d, per_user).and_then(Value::as_f64)?;
                let pv = get(row, per_user).and_then(Value::as_f64)?;
                (pv > 0.0).then(|| dv / pv)
            });
            row.push(cell(factor, Value::F64(v)));
        }
    }
    let mut probes = Vec::new();
    for z in &sized {
        for (i, p) in z.probes.iter().enumerate() {
            let num = |c: &str| get(&p.summary, c).cloned().unwrap_or(Value::F64(None));
            probes.push(vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell(
                    "placement",
                    Value::Str(s.placements[z.placement].name.clone()),
                ),
                cell("pool_users", Value::U64(z.pool_users as u64)),
                cell("probe", Value::U64(i as u64)),
                cell("servers", Value::U64(p.servers as u64)),
                cell("horizon_s", Value::F64(Some(p.horizon_s))),
                cell("meets", Value::Bool(Some(p.meets))),
                cell("trusted", Value::Bool(Some(p.trusted))),
                cell("untrusted_reason", Value::Str(p.untrusted_reason.clone())),
                cell(
                    "slo_detail",
                    Value::Str(p.verdict.as_ref().map_or(String::new(), |v| v.describe())),
                ),
                cell("utilization", num("utilization")),
                cell("measured", num("measured")),
            ]);
        }
    }
    SizingResults { rows, probes }
}
