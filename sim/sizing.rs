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

use crate::core::analytic::min_servers_for_wait_tail;
use crate::results::table::{cell, get, join_column, rows_of_class, sum_column, Row, Value};
use crate::run::{class_rows, replication_row, run_replication, summary_row};
use crate::scenario::{LatencyMetric, PlacementKind, Scenario, Workload};
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

fn run_probe(
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

/// Capacity of one batching LLM server in requests per second at the mean
/// request size, with the largest batch the KV budget allows.
fn llm_server_capacity_per_s(s: &Scenario, placement: usize) -> Option<f64> {
    let server = s.placements[placement].llm()?;
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

/// Targets no fleet of this placement can meet, with the reason: checked
/// for each class alone when the placement (the view's only one) serves
/// several, since every class must meet the service level.
fn hopeless(s: &Scenario, placement: usize) -> Option<String> {
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
    let mut out = PoolSizing {
        placement,
        pool_users: users,
        servers: None,
        reason: String::new(),
        probes: Vec::new(),
        composition: String::new(),
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
    /// One row per placement (or hybrid) and pool size (sizing.parquet).
    pub rows: Vec<Row>,
    /// One row per probe (probes.parquet).
    pub probes: Vec<Row>,
    /// Dedicated placements: one row per group of users checked on their
    /// own (class x request-rate band) (dedicated_users.parquet).
    pub user_groups: Vec<Row>,
    /// Dedicated placements with `[sizing] dedicated_devices`: one row per
    /// placement and catalogue device tried (dedicated_devices.parquet).
    pub device_choices: Vec<Row>,
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

/// Totals summed over a hybrid's parts.
const SUMMED: [&str; 5] = [
    "servers_total",
    "devices_total",
    "mem_gb_total",
    "capex_usd_total",
    "energy_kwh_per_day_total",
];

/// The row of one placement (on its view `v`) at one pool size: `pool_size`
/// users per pool counting every class, `pool_users` of them served here.
///
/// `types` are the pool compositions sized (see [`pool_types`]): each with
/// the share of pools that have it and its answer; figures per pool are
/// their share-weighted means, latencies those of the most common type.
fn sizing_row(
    s: &Scenario,
    v: &Scenario,
    pool_size: usize,
    types: &[(f64, &PoolSizing)],
    dedicated: Option<&DedicatedCheck>,
) -> Row {
    let p = &v.placements[0];
    let users = v.users as f64;
    let main = types
        .iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .expect("at least one pool type")
        .1;
    let pool_users = main.pool_users;
    let feasible = types.iter().all(|(_, z)| z.servers.is_some());
    // Share-weighted sums over compositions; rounded to 12 significant
    // digits so that shares adding up to 1 - 2e-16 do not report 0.9999...
    // servers.
    let weighted = |f: &dyn Fn(&PoolSizing) -> Option<f64>| -> Option<f64> {
        let x = types
            .iter()
            .map(|(w, z)| f(z).map(|x| w * x))
            .sum::<Option<f64>>()?;
        if types.len() == 1 || x == 0.0 {
            return Some(x);
        }
        let scale = 10f64.powi(11 - x.abs().log10().floor() as i32);
        Some((x * scale).round() / scale)
    };
    let servers = weighted(&|z| z.servers.map(|n| n as f64));
    let answer = main.answer().map(|p| &p.summary).filter(|_| feasible);
    let pools = users / pool_users as f64;
    let per_pool = |c: &str| -> Option<f64> {
        weighted(&|z| {
            let r = &z.answer()?.summary;
            get(r, c)
                .and_then(Value::as_f64)
                .map(|x| x * z.pool_users as f64)
        })
    };
    let devices_per_pool = weighted(&|z| {
        let r = &z.answer()?.summary;
        get(r, "devices")
            .and_then(Value::as_f64)
            .or(z.servers.map(|n| n as f64))
    })
    .or(servers);
    // Per-user figures count every user of the scenario, so that a part
    // serving some classes adds up with the others in a hybrid.
    let all_users = s.users as f64;
    let total = |c: &str| per_pool(c).map(|m| m * pools);
    let reason = types
        .iter()
        .filter(|(_, z)| !z.reason.is_empty())
        .map(|(_, z)| {
            if types.len() > 1 {
                format!("pools of {}: {}", z.composition, z.reason)
            } else {
                z.reason.clone()
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let probes: usize = types.iter().map(|(_, z)| z.probes.len()).sum();
    let mut row: Row = vec![
        cell("scenario", Value::Str(s.name.clone())),
        cell("placement", Value::Str(p.name.clone())),
        cell("kind", Value::Str(p.kind_name().into())),
        cell("classes", Value::Str(v.all_classes_label())),
        cell("parts", Value::Str(String::new())),
        cell("users", Value::U64(v.users as u64)),
        cell("pool_size", Value::U64(pool_size as u64)),
        cell("pool_users", Value::U64(pool_users as u64)),
        cell("pools", Value::F64(Some(pools))),
        cell("pool_types", Value::U64(types.len() as u64)),
        cell("feasible", Value::Bool(Some(feasible))),
        cell("reason", Value::Str(reason)),
        cell("probes", Value::U64(probes as u64)),
        cell("servers_per_pool", Value::F64(servers)),
        cell("servers_total", Value::F64(servers.map(|n| n * pools))),
        cell(
            "devices_total",
            Value::F64(devices_per_pool.map(|d| d * pools)),
        ),
        cell(
            "devices_per_user",
            Value::F64(devices_per_pool.map(|d| d * pools / all_users)),
        ),
        cell("mem_gb_total", Value::F64(total("mem_gb_per_user"))),
        cell(
            "mem_gb_per_user",
            Value::F64(total("mem_gb_per_user").map(|t| t / all_users)),
        ),
        cell("capex_usd_total", Value::F64(total("capex_usd_per_user"))),
        cell(
            "capex_usd_per_user",
            Value::F64(total("capex_usd_per_user").map(|t| t / all_users)),
        ),
        cell(
            "energy_kwh_per_day_total",
            Value::F64(total("energy_kwh_per_user_per_day")),
        ),
        cell(
            "energy_kwh_per_user_per_day",
            Value::F64(total("energy_kwh_per_user_per_day").map(|t| t / all_users)),
        ),
        cell(
            "users_meeting_slo_share",
            Value::F64(dedicated.map(|d| d.share_meeting())),
        ),
        cell(
            "users_missing_slo_detail",
            Value::Str(dedicated.map_or(String::new(), |d| d.missing_detail())),
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

/// A hybrid's row at one pool size: its parts' rows summed. Its kind is
/// `dedicated` when every part is (local devices for every class: the
/// reference of sharing factors), else `hybrid`.
fn hybrid_row(s: &Scenario, name: &str, pool_size: usize, parts: &[&Row]) -> Row {
    let all_dedicated = parts
        .iter()
        .all(|r| matches!(get(r, "kind"), Some(Value::Str(k)) if k == "dedicated"));
    let all_users = s.users as f64;
    let sum = |c: &str| sum_column(parts, c);
    let text = |c: &str, sep: &str| join_column(parts, c, sep);
    let feasible = parts
        .iter()
        .all(|r| matches!(get(r, "feasible"), Some(Value::Bool(Some(true)))));
    let reasons: Vec<String> = parts
        .iter()
        .filter_map(|r| match (get(r, "placement"), get(r, "reason")) {
            (Some(Value::Str(p)), Some(Value::Str(t))) if !t.is_empty() => {
                Some(format!("{p}: {t}"))
            }
            _ => None,
        })
        .collect();
    let mut row: Row = vec![
        cell("scenario", Value::Str(s.name.clone())),
        cell("placement", Value::Str(name.to_string())),
        cell(
            "kind",
            Value::Str(if all_dedicated { "dedicated" } else { "hybrid" }.into()),
        ),
        cell("classes", Value::Str(s.all_classes_label())),
        cell("parts", Value::Str(text("placement", "+"))),
        cell("users", Value::U64(s.users as u64)),
        cell("pool_size", Value::U64(pool_size as u64)),
        cell("pool_users", Value::U64(pool_size as u64)),
        cell("pools", Value::F64(Some(all_users / pool_size as f64))),
        cell("feasible", Value::Bool(Some(feasible))),
        cell("reason", Value::Str(reasons.join("; "))),
        cell("probes", Value::U64(sum("probes").unwrap_or(0.0) as u64)),
        cell("servers_per_pool", Value::F64(None)),
    ];
    for c in SUMMED {
        row.push(cell(c, Value::F64(sum(c).filter(|_| feasible))));
    }
    let per_user = |c: &str| Value::F64(sum(c).filter(|_| feasible).map(|t| t / all_users));
    row.push(cell("devices_per_user", per_user("devices_total")));
    row.push(cell("mem_gb_per_user", per_user("mem_gb_total")));
    row.push(cell("capex_usd_per_user", per_user("capex_usd_total")));
    row.push(cell(
        "energy_kwh_per_user_per_day",
        per_user("energy_kwh_per_day_total"),
    ));
    row.push(cell("users_meeting_slo_share", Value::F64(None)));
    row.push(cell(
        "users_missing_slo_detail",
        Value::Str(text("users_missing_slo_detail", "; ")),
    ));
    for c in COPIED {
        let v = match c {
            "device" => Value::Str(text("device", "+")),
            "slo_detail" => Value::Str(text("slo_detail", "; ")),
            "tensor_parallel" => Value::U64(0),
            _ => Value::F64(None),
        };
        row.push(cell(c, v));
    }
    row
}

/// The class compositions of pools of `k` of a view's users, with the share
/// of pools that have each. Class c averages `k x share_c` users per pool:
/// every pool gets the whole part, and the fractional parts are dealt out
/// systematically (class after class around a circle of pools), so the
/// population's mix is kept exactly and every pool holds k users. One
/// composition when the view has one class or the shares divide evenly.
pub fn pool_types(v: &Scenario, k: usize) -> Vec<(Vec<u32>, f64)> {
    let n = v.classes.len();
    if n == 1 || k >= v.users {
        let counts = (0..n).map(|c| v.class_users(c).1).collect();
        let counts = if k >= v.users { counts } else { vec![k as u32] };
        return vec![(counts, 1.0)];
    }
    let pools = v.users as f64 / k as f64;
    let expected: Vec<f64> = (0..n).map(|c| v.class_users(c).1 as f64 / pools).collect();
    let base: Vec<u32> = expected.iter().map(|e| (e + 1e-9).floor() as u32).collect();
    let frac: Vec<f64> = expected
        .iter()
        .zip(&base)
        .map(|(e, b)| (e - *b as f64).max(0.0))
        .collect();
    // Class c's extra users go to pools in [F_{c-1}, F_c) around the circle.
    let mut bounds = vec![0.0];
    for f in &frac {
        bounds.push(bounds.last().expect("non-empty") + f);
    }
    let mut cuts: Vec<f64> = bounds.iter().map(|b| b.rem_euclid(1.0)).collect();
    cuts.extend([0.0, 1.0]);
    cuts.sort_by(f64::total_cmp);
    cuts.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    let mut out: Vec<(Vec<u32>, f64)> = Vec::new();
    for w in cuts.windows(2) {
        let share = w[1] - w[0];
        if share < 1e-9 {
            continue;
        }
        let x = 0.5 * (w[0] + w[1]);
        let counts: Vec<u32> = (0..n)
            .map(|c| {
                let (lo, hi) = (bounds[c], bounds[c + 1]);
                // Is x + m in [lo, hi) for some whole m?
                let m = (lo - x).ceil();
                base[c] + u32::from(x + m < hi)
            })
            .collect();
        match out.iter_mut().find(|(c, _)| *c == counts) {
            Some(t) => t.1 += share,
            None => out.push((counts, share)),
        }
    }
    out
}

/// `agents 1 + chat 3` for a pool composition.
fn composition_label(v: &Scenario, counts: &[u32]) -> String {
    v.classes
        .iter()
        .zip(counts)
        .map(|(c, n)| format!("{} {n}", c.name))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Users per pool of a placement serving `served` of `all` users when
/// pools hold `k` users of every class.
pub fn part_pool_users(k: usize, served: usize, all: usize) -> usize {
    if k >= all {
        return served;
    }
    ((k as f64 * served as f64 / all as f64).round() as usize).clamp(1, served)
}

/// One group of a dedicated placement's users checked on its own.
#[derive(Debug, Clone)]
pub struct UserGroupCheck {
    /// Class name.
    pub class: String,
    /// Which users: `all`, or a band of request rates such as `rate band 5/5`.
    pub band: String,
    /// Users in the group.
    pub users: usize,
    /// Least and most requests per day of one of its users (means).
    pub requests_per_day_min: f64,
    /// See `requests_per_day_min`.
    pub requests_per_day_max: f64,
    /// The group's service level holds (and the run is trusted).
    pub meets: bool,
    /// The verdict or why the run is not trusted.
    pub detail: String,
}

/// The per-user answer of a dedicated placement.
#[derive(Debug, Clone, Default)]
pub struct DedicatedCheck {
    /// Groups checked.
    pub groups: Vec<UserGroupCheck>,
}

impl DedicatedCheck {
    /// Share of users in groups whose service level holds.
    pub fn share_meeting(&self) -> f64 {
        let all: usize = self.groups.iter().map(|g| g.users).sum();
        let ok: usize = self
            .groups
            .iter()
            .filter(|g| g.meets)
            .map(|g| g.users)
            .sum();
        if all == 0 {
            0.0
        } else {
            ok as f64 / all as f64
        }
    }

    /// Why the groups that miss do (empty when every group meets).
    pub fn missing_detail(&self) -> String {
        self.groups
            .iter()
            .filter(|g| !g.meets)
            .map(|g| {
                let who = match (g.class.as_str(), g.band.as_str()) {
                    ("all", "all") => "all users".to_string(),
                    ("all", band) => band.to_string(),
                    (class, "all") => format!("class {class}"),
                    (class, band) => format!("class {class}, {band}"),
                };
                format!(
                    "{who} ({} users, {:.3}-{:.3} requests/day): {}",
                    g.users, g.requests_per_day_min, g.requests_per_day_max, g.detail
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Request-rate bands a class's users are checked in: quintiles of their
/// rate multipliers (one band when all users send alike).
const RATE_BANDS: usize = 5;

/// Check a dedicated placement (view `v`) user group by user group: each
/// class, and within a class with a rate spread each fifth of its users by
/// request rate, runs on its own devices (dedicated devices share nothing,
/// so a group alone sees what it sees in the population).
fn check_dedicated_users(v: &Scenario, whole: &Probe) -> DedicatedCheck {
    let min_measured = v.sizing.min_measured_requests;
    let mut groups = Vec::new();
    for (c, class) in v.classes.iter().enumerate() {
        let mut m = v.class_rate_multipliers(c);
        m.sort_by(f64::total_cmp);
        let alike = m.first() == m.last();
        let bands: Vec<(String, f64, f64)> = if alike {
            vec![("all".to_string(), f64::NEG_INFINITY, f64::INFINITY)]
        } else {
            (0..RATE_BANDS)
                .map(|b| {
                    let lo = if b == 0 {
                        f64::NEG_INFINITY
                    } else {
                        m[b * m.len() / RATE_BANDS]
                    };
                    let hi = if b + 1 == RATE_BANDS {
                        f64::INFINITY
                    } else {
                        m[(b + 1) * m.len() / RATE_BANDS]
                    };
                    (format!("rate band {}/{RATE_BANDS}", b + 1), lo, hi)
                })
                .collect()
        };
        for (label, lo, hi) in bands {
            let Some(sub) = v.restrict_users(c, |w| w >= lo && w < hi) else {
                continue;
            };
            let ws = sub.class_rate_multipliers(0);
            let rate = class.requests_per_user_per_day;
            let mean_all = m.iter().sum::<f64>() / m.len() as f64;
            let per_day = |w: f64| rate * w / mean_all;
            let (wmin, wmax) = ws
                .iter()
                .fold((f64::INFINITY, 0.0f64), |(a, b), &w| (a.min(w), b.max(w)));
            // One class sending alike: the whole-population probe is this group.
            let probe = if alike && v.classes.len() == 1 {
                whole.clone()
            } else {
                run_probe(&sub, 0, sub.users, None, min_measured)
            };
            let detail = if !probe.trusted {
                probe.untrusted_reason.clone()
            } else {
                probe
                    .verdict
                    .as_ref()
                    .map_or(String::new(), |v| v.describe())
            };
            groups.push(UserGroupCheck {
                class: class.name.clone(),
                band: label,
                users: sub.users,
                requests_per_day_min: per_day(wmin),
                requests_per_day_max: per_day(wmax),
                meets: probe.meets,
                detail,
            });
        }
    }
    DedicatedCheck { groups }
}

/// Size a dedicated placement (on its view `v`): one device per user; the
/// whole population's verdict, then user group by user group.
fn size_dedicated(v: &Scenario) -> (PoolSizing, DedicatedCheck) {
    let users = v.users;
    let mut out = PoolSizing {
        placement: 0,
        pool_users: users,
        servers: None,
        reason: String::new(),
        probes: Vec::new(),
        composition: String::new(),
    };
    if let Some(r) = hopeless(v, 0) {
        out.reason = r;
        let check = DedicatedCheck {
            groups: v
                .classes
                .iter()
                .enumerate()
                .map(|(c, class)| UserGroupCheck {
                    class: class.name.clone(),
                    band: "all".into(),
                    users: v.class_users(c).1 as usize,
                    requests_per_day_min: class.requests_per_user_per_day,
                    requests_per_day_max: class.requests_per_user_per_day,
                    meets: false,
                    detail: out.reason.clone(),
                })
                .collect(),
        };
        return (out, check);
    }
    let p = run_probe(v, 0, users, None, v.sizing.min_measured_requests);
    if p.meets {
        out.servers = Some(users);
    } else if !p.trusted {
        out.reason = p.untrusted_reason.clone();
    } else {
        out.reason = format!(
            "one device per user misses the service level: {}",
            p.verdict.as_ref().map_or(String::new(), |v| v.describe())
        );
    }
    let check = check_dedicated_users(v, &p);
    out.probes.push(p);
    (out, check)
}

/// One sizing task's answer: each pool composition's share of pools and
/// sizing, and the per-user check of a dedicated placement.
type TaskAnswer = (Vec<(f64, PoolSizing)>, Option<DedicatedCheck>);

/// Size every placement of the scenario at every pool size, each on its
/// view (the classes it serves), then add every hybrid's rows. Placements
/// and pool sizes run in parallel; each probe's replications too.
pub fn size_scenario(s: &Scenario) -> SizingResults {
    let views: Vec<Scenario> = (0..s.placements.len()).map(|p| s.view(p)).collect();
    // (placement, pool size over all classes, users per pool served here)
    let mut tasks: Vec<(usize, usize, usize)> = Vec::new();
    for (i, p) in s.placements.iter().enumerate() {
        match p.kind {
            PlacementKind::Dedicated => tasks.push((i, s.users, views[i].users)),
            PlacementKind::Pooled { .. } => tasks.extend(
                s.sizing
                    .pool_sizes
                    .iter()
                    .map(|&k| (i, k, part_pool_users(k, views[i].users, s.users))),
            ),
        }
    }
    // Pooled tasks with several classes size each pool composition.
    let mut subtasks: Vec<(usize, f64, Option<Vec<u32>>)> = Vec::new();
    for (t, &(i, _, k)) in tasks.iter().enumerate() {
        match s.placements[i].kind {
            PlacementKind::Dedicated => subtasks.push((t, 1.0, None)),
            PlacementKind::Pooled { .. } => {
                for (counts, w) in pool_types(&views[i], k) {
                    subtasks.push((t, w, Some(counts)));
                }
            }
        }
    }
    let done: Vec<(PoolSizing, Option<DedicatedCheck>)> = subtasks
        .par_iter()
        .map(|(t, _, counts)| {
            let (i, _, k) = tasks[*t];
            match counts {
                None => {
                    let (z, check) = size_dedicated(&views[i]);
                    (z, Some(check))
                }
                Some(counts) if views[i].classes.len() > 1 => {
                    let typed = views[i].with_class_users(counts);
                    let mut z = size_pool(&typed, 0, k);
                    z.composition = composition_label(&typed, counts);
                    (z, None)
                }
                Some(_) => (size_pool(&views[i], 0, k), None),
            }
        })
        .collect();
    // Regroup: per task, its (share of pools, answer) list.
    let mut sized: Vec<TaskAnswer> = tasks.iter().map(|_| (Vec::new(), None)).collect();
    for ((t, w, _), (z, check)) in subtasks.iter().zip(done) {
        sized[*t].0.push((*w, z));
        if check.is_some() {
            sized[*t].1 = check;
        }
    }
    let mut rows: Vec<Row> = sized
        .iter()
        .zip(&tasks)
        .map(|((types, check), &(i, k, _))| {
            let refs: Vec<(f64, &PoolSizing)> = types.iter().map(|(w, z)| (*w, z)).collect();
            sizing_row(s, &views[i], k, &refs, check.as_ref())
        })
        .collect();
    // Other catalogue devices for dedicated placements: each sized like the
    // placement itself; the cheapest that every user's service level holds
    // on is named in the placement's row.
    let device_choices = choose_dedicated_devices(s);
    for row in rows.iter_mut() {
        let name = match get(row, "placement") {
            Some(Value::Str(n)) => n.clone(),
            _ => String::new(),
        };
        let best = device_choices
            .iter()
            .filter(|r| matches!(get(r, "placement"), Some(Value::Str(n)) if *n == name))
            .filter(|r| {
                matches!(get(r, "users_meeting_slo_share"), Some(Value::F64(Some(x))) if *x >= 1.0)
                    && matches!(get(r, "feasible"), Some(Value::Bool(Some(true))))
            })
            .min_by(|a, b| {
                let c = |r: &Row| {
                    get(r, "capex_usd_per_user")
                        .and_then(Value::as_f64)
                        .unwrap_or(f64::INFINITY)
                };
                c(a).total_cmp(&c(b))
            });
        row.push(cell(
            "cheapest_device",
            Value::Str(
                best.and_then(|r| match get(r, "device") {
                    Some(Value::Str(d)) => Some(d.clone()),
                    _ => None,
                })
                .unwrap_or_default(),
            ),
        ));
        row.push(cell(
            "cheapest_device_capex_usd_per_user",
            Value::F64(best.and_then(|r| get(r, "capex_usd_per_user").and_then(Value::as_f64))),
        ));
    }
    // Hybrids: at every pool size, the parts' rows at that size (dedicated
    // parts have one row, whatever the size).
    for h in &s.hybrids {
        let local = h
            .parts
            .iter()
            .all(|&j| s.placements[j].kind == PlacementKind::Dedicated);
        // (Never empty: resolving `[sizing]` gives at least "all".)
        let sizes = if local {
            vec![s.users]
        } else {
            s.sizing.pool_sizes.clone()
        };
        for &k in &sizes {
            let parts: Vec<&Row> = h
                .parts
                .iter()
                .filter_map(|&j| {
                    let dedicated = s.placements[j].kind == PlacementKind::Dedicated;
                    tasks
                        .iter()
                        .position(|&(i, kk, _)| i == j && (dedicated || kk == k))
                        .map(|t| &rows[t])
                })
                .collect();
            if parts.len() == h.parts.len() {
                let row = hybrid_row(s, &h.name, k, &parts);
                rows.push(row);
            }
        }
    }
    // Sharing factors against the first dedicated placement serving the
    // same classes.
    let classes_of = |r: &Row| match get(r, "classes") {
        Some(Value::Str(c)) => c.clone(),
        _ => String::new(),
    };
    let references: Vec<Row> = rows
        .iter()
        .filter(|r| matches!(get(r, "kind"), Some(Value::Str(k)) if k == "dedicated"))
        .cloned()
        .collect();
    for row in rows.iter_mut() {
        let reference = references.iter().find(|d| classes_of(d) == classes_of(row));
        for (per_user, factor) in PER_USER {
            let v = reference.and_then(|d| {
                let dv = get(d, per_user).and_then(Value::as_f64)?;
                let pv = get(row, per_user).and_then(Value::as_f64)?;
                (pv > 0.0).then(|| dv / pv)
            });
            row.push(cell(factor, Value::F64(v)));
        }
    }
    let mut probes = Vec::new();
    let mut user_groups = Vec::new();
    for ((types, check), &(i, k, _)) in sized.iter().zip(&tasks) {
        let name = &s.placements[i].name;
        for (_, z) in types {
            for (n, p) in z.probes.iter().enumerate() {
                let num = |c: &str| get(&p.summary, c).cloned().unwrap_or(Value::F64(None));
                probes.push(vec![
                    cell("scenario", Value::Str(s.name.clone())),
                    cell("placement", Value::Str(name.clone())),
                    cell("pool_size", Value::U64(k as u64)),
                    cell("pool_users", Value::U64(z.pool_users as u64)),
                    cell("pool_type", Value::Str(z.composition.clone())),
                    cell("probe", Value::U64(n as u64)),
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
        for g in check.iter().flat_map(|c| &c.groups) {
            user_groups.push(vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell("placement", Value::Str(name.clone())),
                cell("class", Value::Str(g.class.clone())),
                cell("band", Value::Str(g.band.clone())),
                cell("users", Value::U64(g.users as u64)),
                cell(
                    "requests_per_user_per_day_min",
                    Value::F64(Some(g.requests_per_day_min)),
                ),
                cell(
                    "requests_per_user_per_day_max",
                    Value::F64(Some(g.requests_per_day_max)),
                ),
                cell("meets", Value::Bool(Some(g.meets))),
                cell("detail", Value::Str(g.detail.clone())),
            ]);
        }
    }
    SizingResults {
        rows,
        probes,
        user_groups,
        device_choices,
    }
}

/// Size every dedicated placement on each of its device alternatives
/// (`[sizing] dedicated_devices`), in parallel: one row per pair.
fn choose_dedicated_devices(s: &Scenario) -> Vec<Row> {
    let pairs: Vec<(usize, usize)> = s
        .placements
        .iter()
        .enumerate()
        .flat_map(|(i, p)| (0..p.device_alternatives.len()).map(move |d| (i, d)))
        .collect();
    pairs
        .par_iter()
        .map(|&(i, d)| {
            let (device, alt) = &s.placements[i].device_alternatives[d];
            let mut row: Row = vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell("placement", Value::Str(s.placements[i].name.clone())),
                cell("device", Value::Str(device.clone())),
            ];
            let alt = match alt {
                Ok(a) => a,
                Err(why) => {
                    row.extend([
                        cell("serves", Value::Bool(Some(false))),
                        cell("feasible", Value::Bool(Some(false))),
                        cell("users_meeting_slo_share", Value::F64(Some(0.0))),
                        cell("price_usd", Value::F64(None)),
                        cell("capex_usd_per_user", Value::F64(None)),
                        cell("mem_gb_per_user", Value::F64(None)),
                        cell("energy_kwh_per_user_per_day", Value::F64(None)),
                        cell("reason", Value::Str(why.clone())),
                    ]);
                    return row;
                }
            };
            let mut with_alt = s.clone();
            with_alt.placements[i] = alt.clone();
            let v = with_alt.view(i);
            let (z, check) = size_dedicated(&v);
            let r = sizing_row(s, &v, s.users, &[(1.0, &z)], Some(&check));
            let price = alt
                .llm()
                .map(|l| l.device.price_usd)
                .or(alt.priced_device().map(|p| p.device.price_usd));
            let reason = match (z.reason.as_str(), check.missing_detail()) {
                ("", d) => d,
                (r, _) => r.to_string(),
            };
            row.extend([
                cell("serves", Value::Bool(Some(true))),
                cell("feasible", Value::Bool(Some(z.servers.is_some()))),
                cell(
                    "users_meeting_slo_share",
                    Value::F64(Some(check.share_meeting())),
                ),
                cell("price_usd", Value::F64(price)),
            ]);
            for c in [
                "capex_usd_per_user",
                "mem_gb_per_user",
                "energy_kwh_per_user_per_day",
            ] {
                row.push(cell(c, get(&r, c).cloned().unwrap_or(Value::F64(None))));
            }
            row.push(cell("reason", Value::Str(reason)));
            row
        })
        .collect()
}
