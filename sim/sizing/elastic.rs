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
//! - rental (`billing = "rental"`): GPU-hours times the catalogue's price
//!   per device-hour; owned (`billing = "owned"`): the schedule owns its
//!   peak, capex `max_h n_h` servers.
//!
//! The cheaper policy (`elastic_policy`): by rental per day when rented,
//! else by capex, then energy; the static fleet wins ties and any schedule
//! with an infeasible hour.

use rayon::prelude::*;

use super::search::{size_pool, PoolSizing};
use crate::results::columns;
use crate::results::table::{cell, get, Row, Value};
use crate::scenario::{ElasticBilling, Scenario};

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

/// Columns every sizing row gets (null, or empty text, without an
/// elastic schedule).
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

fn num(row: &Row, c: &str) -> Option<f64> {
    get(row, c).and_then(Value::as_f64)
}

/// Energy per day of an hour's answer at steady state (the fleet's whole
/// pool), kWh per day.
fn hour_energy_per_day(z: &PoolSizing) -> Option<f64> {
    let r = &z.answer()?.summary;
    num(r, "energy_kwh_per_user_per_day").map(|e| e * z.pool_users as f64)
}

/// The elastic columns of `row` (the static answer of the same placement
/// and pool size) from its hourly schedule, and the elastic.parquet rows
/// (one per hour).
pub(crate) fn elastic_cells(
    s: &Scenario,
    row: &Row,
    hours: &[HourSizing],
) -> (Vec<(&'static str, Value)>, Vec<Row>) {
    let servers: Vec<Option<f64>> = hours
        .iter()
        .map(|h| h.sizing.servers.map(|n| n as f64))
        .collect();
    let all_feasible = servers.iter().all(Option::is_some);
    let static_servers = num(row, "servers_total");
    let static_devices = num(row, columns::DEVICES_TOTAL);
    let per_server = match (static_devices, static_servers) {
        (Some(d), Some(n)) if n > 0.0 => d / n,
        _ => 1.0,
    };
    let held: Option<Vec<f64>> = servers.iter().copied().collect();
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
    let capex_hourly = match (num(row, columns::CAPEX_USD_TOTAL), static_servers, peak) {
        (Some(c), Some(n), Some(p)) if n > 0.0 => Some(c / n * p),
        _ => None,
    };
    let energies: Option<Vec<f64>> = hours
        .iter()
        .map(|h| hour_energy_per_day(&h.sizing))
        .collect();
    let energy_hourly = energies.map(|e| e.iter().sum::<f64>() / 24.0);
    let energy_static = num(row, columns::ENERGY_KWH_PER_DAY_TOTAL);
    let cheaper = |a: Option<f64>, b: Option<f64>| matches!((a, b), (Some(h), Some(st)) if h < st);
    let hourly_wins = all_feasible
        && static_servers.is_some()
        && match s.sizing.billing {
            ElasticBilling::Rental => {
                cheaper(rental_hourly, rental_static)
                    || (rental_hourly.is_none() && cheaper(gpu_hourly, gpu_static))
            }
            ElasticBilling::Owned => {
                cheaper(capex_hourly, num(row, columns::CAPEX_USD_TOTAL))
                    || (capex_hourly == num(row, columns::CAPEX_USD_TOTAL)
                        && cheaper(energy_hourly, energy_static))
            }
        };
    let cells = vec![
        (
            "elastic_policy",
            Value::Str(if hourly_wins { "hourly" } else { "static" }.into()),
        ),
        ("billing", Value::Str(s.sizing.billing.label().into())),
        ("servers_peak", Value::F64(peak)),
        ("servers_mean", Value::F64(mean)),
        ("gpu_hours_per_day_static", Value::F64(gpu_static)),
        ("gpu_hours_per_day_hourly", Value::F64(gpu_hourly)),
        ("rental_usd_per_day_static", Value::F64(rental_static)),
        ("rental_usd_per_day_hourly", Value::F64(rental_hourly)),
        ("capex_usd_total_hourly", Value::F64(capex_hourly)),
        ("energy_kwh_per_day_hourly", Value::F64(energy_hourly)),
    ];
    let placement = get(row, columns::PLACEMENT)
        .cloned()
        .unwrap_or(Value::Str(String::new()));
    let rows = hours
        .iter()
        .zip(&servers)
        .map(|(h, n)| {
            vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell(columns::PLACEMENT, placement.clone()),
                cell(columns::KIND, Value::Str("pooled".into())),
                cell(columns::HOUR_OF_DAY, Value::F64(Some(h.hour as f64))),
                cell("request_rate_per_s", Value::F64(Some(h.request_rate_per_s))),
                cell("feasible", Value::Bool(Some(n.is_some()))),
                cell("reason", Value::Str(h.sizing.reason.clone())),
                cell("servers_held", Value::F64(*n)),
                cell("devices_held", Value::F64(n.map(|n| n * per_server))),
                cell("servers_static", Value::F64(static_servers)),
                cell(
                    "energy_kwh_in_hour",
                    Value::F64(hour_energy_per_day(&h.sizing).map(|e| e / 24.0)),
                ),
                cell("probes", Value::U64(h.sizing.probes.len() as u64)),
            ]
        })
        .collect();
    (cells, rows)
}

/// Empty elastic columns for a row without a schedule.
pub(crate) fn no_elastic_cells() -> Vec<(&'static str, Value)> {
    ELASTIC_COLUMNS
        .iter()
        .map(|&c| {
            let v = match c {
                "elastic_policy" | "billing" => Value::Str(String::new()),
                _ => Value::F64(None),
            };
            (c, v)
        })
        .collect()
}
