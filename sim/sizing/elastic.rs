//! Elastic fleets (`[sizing] elastic = "hourly"`): a pooled placement
//! sized hour by hour over the day, against the static fleet sized for the
//! whole day.
//!
//! Each UTC hour `h` is sized on its own steady state
//! ([`Scenario::at_hour`]: every group at its profile's rate of that hour,
//! the scenario's service level, a window of one hour: [`HOUR_WINDOW_S`]),
//! with the same search as the static fleet ([`size_pool`]); hours whose
//! groups have the same weights are sized once. The schedule holds `n_h` servers in hour `h`:
//!
//! - GPU-hours per day: `sum_h n_h * d` (`d` devices per server), against
//!   `24 * n * d` for a static fleet of `n`;
//! - peak and mean servers: `max_h n_h`, `sum_h n_h / 24`;
//! - energy per day: `sum_h E_h / 24`, `E_h` the energy per day of hour
//!   `h`'s answer (servers switched off draw nothing);
//! - rented (`ownership = "rented"`): GPU-hours times the catalogue's
//!   price per device-hour; owned: the schedule owns its peak, capex
//!   `max_h n_h` servers.
//!
//! With `[sizing.reactive]` the row also gets the reactive autoscaler's
//! columns ([`super::reactive`]: the least-cost concurrency target meeting
//! the service level) and elastic.parquet its servers held in each hour.
//!
//! The cheapest policy (`elastic_policy`) of static, hourly and reactive:
//! by rental per day when the placement is rented (`ownership =
//! "rented"`), else by capex, then energy; ties go to the static fleet,
//! then the hourly schedule; a schedule with an infeasible hour and a
//! reactive policy with no target meeting the service level are out.

use rayon::prelude::*;

use super::reactive::{cheapest, describe, ReactiveRun};
use super::search::{size_pool, PoolSizing};
use crate::engine::ScaleMetric;
use crate::results::columns;
use crate::results::table::{cell, get, Row, Value};
use crate::scenario::Scenario;

/// One hour of an elastic schedule.
#[derive(Debug, Clone)]
pub struct HourSizing {
    /// UTC hour, 0-23.
    pub hour: usize,
    /// Mean request rate of the hour (follow-ups included), requests/s.
    pub request_rate_per_s: f64,
    /// The hour's fleet search.
    pub sizing: PoolSizing,
    /// Whether this hour ran the search (the first hour of its weights);
    /// the others share it, so only these count in `--profile`.
    pub searched: bool,
}

/// Size placement 0 of view `v` (one pooled placement) for pools of
/// `users`, hour by hour; hours with equal group weights share a search.
pub fn size_hours(v: &Scenario, users: usize) -> Vec<HourSizing> {
    let weights: Vec<Vec<u64>> = (0..24)
        .map(|h| v.hour_weights(h).iter().map(|w| w.to_bits()).collect())
        .collect();
    let mut unique: Vec<usize> = Vec::new();
    let slot: Vec<usize> = (0..24)
        .map(
            |h| match unique.iter().position(|&u| weights[u] == weights[h]) {
                Some(i) => i,
                None => {
                    unique.push(h);
                    unique.len() - 1
                }
            },
        )
        .collect();
    let sized: Vec<(f64, PoolSizing)> = unique
        .par_iter()
        .map(|&h| {
            let s = hour_scenario(v, h);
            let rate =
                s.request_rate_process().mean_rate_per_s() * users as f64 / s.users.max(1) as f64;
            (rate, size_pool(&s, 0, users))
        })
        .collect();
    (0..24)
        .map(|h| {
            let (rate, z) = &sized[slot[h]];
            HourSizing {
                hour: h,
                request_rate_per_s: *rate,
                sizing: z.clone(),
                searched: unique[slot[h]] == h,
            }
        })
        .collect()
}

/// The window an hour is judged on: one hour of its steady state.
pub const HOUR_WINDOW_S: f64 = 3600.0;

/// Hour `h` of view `v` as [`Scenario::at_hour`] builds it, judged on a
/// window of one hour ([`HOUR_WINDOW_S`], or the scenario's own window if
/// shorter; a probe still lengthens it while it is short of requests): the
/// hour's rate is flat, so a longer window only narrows the intervals of
/// a steady state the hour does not last. An hour whose weights are all 1
/// is the scenario itself, kept whole, so a flat profile sizes every hour
/// as the static fleet.
fn hour_scenario(v: &Scenario, h: usize) -> Scenario {
    let mut s = v.at_hour(h);
    if v.hour_weights(h).iter().any(|w| *w != 1.0) {
        s.horizon_s = s.horizon_s.min(s.warmup_s + HOUR_WINDOW_S);
    }
    s
}

/// Columns every sizing row gets when hourly or reactive sizing is on
/// (null, or empty text, on rows without them).
pub(crate) const ELASTIC_COLUMNS: [&str; 10] = [
    "elastic_policy",
    "billing",
    "servers_peak",
    "servers_mean",
    "gpu_hours_per_day_static",
    "gpu_hours_per_day_hourly",
    "rental_usd_per_day_static",
    "rental_usd_per_day_hourly",
    "capex_usd_total_hourly",
    "energy_kwh_per_day_hourly",
];

/// Columns every sizing row also gets with `[sizing.reactive]`.
pub(crate) const REACTIVE_COLUMNS: [&str; 12] = [
    "reactive_target_in_flight",
    "reactive_target_requests_per_s",
    "reactive_delay_min",
    "reactive_min_servers",
    "servers_peak_reactive",
    "servers_mean_reactive",
    "gpu_hours_per_day_reactive",
    "rental_usd_per_day_reactive",
    "capex_usd_total_reactive",
    "scaleup_requests",
    "scaleup_attainment_share",
    "reactive_runs",
];

fn num(row: &Row, c: &str) -> Option<f64> {
    get(row, c).and_then(Value::as_f64)
}

/// Energy per day of an hour's answer at steady state (the fleet's whole
/// pool), kWh per day.
fn hour_energy_per_day(z: &PoolSizing) -> Option<f64> {
    let r = &z.answer()?.summary;
    num(r, "energy_kwh_per_user_per_day").map(|e| e * z.pool_users as f64)
}

/// One elastic policy's cost: (primary, tie-break); lower is cheaper.
type Cost = (Option<f64>, Option<f64>);

/// The cheapest of `(name, cost)` in order (earlier wins ties); a policy
/// whose primary cost is unknown is out.
fn cheapest_policy(costs: &[(&'static str, Cost)]) -> &'static str {
    let mut best: Option<(&'static str, f64, f64)> = None;
    for &(name, (a, b)) in costs {
        let Some(a) = a else { continue };
        let b = b.unwrap_or(f64::INFINITY);
        if best.is_none_or(|(_, x, y)| a < x || (a == x && b < y)) {
            best = Some((name, a, b));
        }
    }
    best.map_or("static", |b| b.0)
}

/// The elastic columns of `row` (the static answer of the same placement
/// and pool size, of a placement `rented` or owned) from its hourly
/// schedule (empty when off) and reactive runs (None when off), and the
/// elastic.parquet rows (one per hour).
pub(crate) fn elastic_cells(
    s: &Scenario,
    row: &Row,
    hours: &[HourSizing],
    reactive: Option<&[ReactiveRun]>,
    rented: bool,
) -> (Vec<(&'static str, Value)>, Vec<Row>) {
    let hourly_on = !hours.is_empty();
    let servers: Vec<Option<f64>> = hours
        .iter()
        .map(|h| h.sizing.servers.map(|n| n as f64))
        .collect();
    let static_servers = num(row, "servers_total");
    let static_devices = num(row, columns::DEVICES_TOTAL);
    let per_server = match (static_devices, static_servers) {
        (Some(d), Some(n)) if n > 0.0 => d / n,
        _ => 1.0,
    };
    let held: Option<Vec<f64>> = if hourly_on {
        servers.iter().copied().collect()
    } else {
        None
    };
    let peak = held.as_ref().map(|h| h.iter().cloned().fold(0.0, f64::max));
    let mean = held.as_ref().map(|h| h.iter().sum::<f64>() / 24.0);
    let gpu_static = static_devices.map(|d| d * 24.0);
    let gpu_hourly = held.as_ref().map(|h| h.iter().sum::<f64>() * per_server);
    // Rental price per device-hour, from the static answer's rental.
    let price_h = match (num(row, "rental_usd_per_day"), static_devices) {
        (Some(r), Some(d)) if d > 0.0 => Some(r / (24.0 * d)),
        _ => None,
    };
    let rental_static = price_h.zip(gpu_static).map(|(p, g)| p * g);
    let rental_hourly = price_h.zip(gpu_hourly).map(|(p, g)| p * g);
    let capex = num(row, columns::CAPEX_USD_TOTAL);
    let capex_at = |n: Option<f64>| match (capex, static_servers, n) {
        (Some(c), Some(st), Some(p)) if st > 0.0 => Some(c / st * p),
        _ => None,
    };
    let capex_hourly = capex_at(peak);
    let energies: Option<Vec<f64>> = if hourly_on {
        hours
            .iter()
            .map(|h| hour_energy_per_day(&h.sizing))
            .collect()
    } else {
        None
    };
    let energy_hourly = energies.map(|e| e.iter().sum::<f64>() / 24.0);
    let energy_static = num(row, columns::ENERGY_KWH_PER_DAY_TOTAL);
    let chosen = reactive.and_then(|runs| cheapest(runs, rented));
    let gpu_reactive = chosen.map(|r| r.servers_mean() * 24.0 * per_server);
    let rental_reactive = price_h.zip(gpu_reactive).map(|(p, g)| p * g);
    let capex_reactive = capex_at(chosen.map(ReactiveRun::servers_peak));
    let policy = if static_servers.is_none() {
        "static"
    } else if rented {
        let cost = |r: Option<f64>, g: Option<f64>| if price_h.is_some() { r } else { g };
        cheapest_policy(&[
            ("static", (cost(rental_static, gpu_static), None)),
            ("hourly", (cost(rental_hourly, gpu_hourly), None)),
            ("reactive", (cost(rental_reactive, gpu_reactive), None)),
        ])
    } else {
        cheapest_policy(&[
            ("static", (capex, energy_static)),
            ("hourly", (capex_hourly, energy_hourly)),
            ("reactive", (capex_reactive, None)),
        ])
    };
    let mut cells = vec![
        ("elastic_policy", Value::Str(policy.into())),
        (
            "billing",
            Value::Str(if rented { "rental" } else { "owned" }.into()),
        ),
        ("servers_peak", Value::F64(peak)),
        ("servers_mean", Value::F64(mean)),
        ("gpu_hours_per_day_static", Value::F64(gpu_static)),
        ("gpu_hours_per_day_hourly", Value::F64(gpu_hourly)),
        ("rental_usd_per_day_static", Value::F64(rental_static)),
        ("rental_usd_per_day_hourly", Value::F64(rental_hourly)),
        ("capex_usd_total_hourly", Value::F64(capex_hourly)),
        ("energy_kwh_per_day_hourly", Value::F64(energy_hourly)),
    ];
    if let (Some(runs), Some(cfg)) = (reactive, s.sizing.reactive.as_ref()) {
        cells.extend(reactive_cells(
            cfg,
            runs,
            chosen,
            [gpu_reactive, rental_reactive, capex_reactive],
        ));
    }
    let placement = get(row, columns::PLACEMENT)
        .cloned()
        .unwrap_or(Value::Str(String::new()));
    let rows = (0..24)
        .map(|h| {
            let hour = hours.get(h);
            let n = servers.get(h).copied().flatten();
            let mut r = vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell(columns::PLACEMENT, placement.clone()),
                cell(columns::KIND, Value::Str("pooled".into())),
                cell(columns::HOUR_OF_DAY, Value::F64(Some(h as f64))),
                cell(
                    "request_rate_per_s",
                    Value::F64(hour.map(|h| h.request_rate_per_s)),
                ),
                cell("feasible", Value::Bool(hour.map(|_| n.is_some()))),
                cell(
                    "reason",
                    Value::Str(hour.map_or(String::new(), |h| h.sizing.reason.clone())),
                ),
                cell("servers_held", Value::F64(n)),
                cell("devices_held", Value::F64(n.map(|n| n * per_server))),
                cell("servers_static", Value::F64(static_servers)),
                cell(
                    "energy_kwh_in_hour",
                    Value::F64(
                        hour.and_then(|h| hour_energy_per_day(&h.sizing))
                            .map(|e| e / 24.0),
                    ),
                ),
                cell(
                    "probes",
                    Value::U64(hour.map_or(0, |h| h.sizing.probes.len() as u64)),
                ),
            ];
            if reactive.is_some() {
                r.push(cell(
                    "servers_reactive",
                    Value::F64(chosen.and_then(|c| c.servers_in_hour(h))),
                ));
            }
            r
        })
        .collect();
    (cells, rows)
}

/// Empty elastic columns for a row without a schedule (and without
/// reactive runs: the reactive columns too when `reactive`).
pub(crate) fn no_elastic_cells(reactive: bool) -> Vec<(&'static str, Value)> {
    let names = ELASTIC_COLUMNS
        .iter()
        .chain(REACTIVE_COLUMNS.iter().filter(|_| reactive));
    names
        .map(|&c| {
            let v = match c {
                "elastic_policy" | "billing" | "reactive_runs" => Value::Str(String::new()),
                _ => Value::F64(None),
            };
            (c, v)
        })
        .collect()
}

/// The reactive columns: the chosen run's figures (`costs`: its GPU-hours
/// and rental per day, and capex at its peak) and every run's summary.
fn reactive_cells(
    cfg: &crate::scenario::ReactiveConfig,
    runs: &[ReactiveRun],
    chosen: Option<&ReactiveRun>,
    costs: [Option<f64>; 3],
) -> Vec<(&'static str, Value)> {
    let [gpu_reactive, rental_reactive, capex_reactive] = costs;
    vec![
        (
            "reactive_target_in_flight",
            Value::F64(
                chosen
                    .filter(|_| cfg.metric == ScaleMetric::InFlight)
                    .map(|r| r.target),
            ),
        ),
        (
            "reactive_target_requests_per_s",
            Value::F64(
                chosen
                    .filter(|_| cfg.metric == ScaleMetric::RequestsPerS)
                    .map(|r| r.target),
            ),
        ),
        ("reactive_delay_min", Value::F64(Some(cfg.delay_s / 60.0))),
        (
            "reactive_min_servers",
            Value::F64(Some(cfg.min_servers as f64)),
        ),
        (
            "servers_peak_reactive",
            Value::F64(chosen.map(ReactiveRun::servers_peak)),
        ),
        (
            "servers_mean_reactive",
            Value::F64(chosen.map(ReactiveRun::servers_mean)),
        ),
        ("gpu_hours_per_day_reactive", Value::F64(gpu_reactive)),
        ("rental_usd_per_day_reactive", Value::F64(rental_reactive)),
        ("capex_usd_total_reactive", Value::F64(capex_reactive)),
        (
            "scaleup_requests",
            Value::F64(chosen.map(ReactiveRun::scaleup_requests)),
        ),
        (
            "scaleup_attainment_share",
            Value::F64(chosen.and_then(ReactiveRun::scaleup_attainment)),
        ),
        ("reactive_runs", Value::Str(describe(runs))),
    ]
}
