//! Sizing rows (sizing.parquet): one per placement and pool size, with
//! share-weighted figures over pool compositions ([`sizing_row`]), one per
//! hybrid summing its parts ([`hybrid_row`]), the cheapest dedicated device
//! and the sharing factors against the dedicated reference; and the probe
//! and dedicated user-group rows (probes.parquet, dedicated_users.parquet).

use super::{DedicatedCheck, PoolSizing, Task, TaskAnswer, UserGroupCheck};
use crate::results::columns;
use crate::results::table::{cell, get, join_column, sum_column, Row, Value};
use crate::run::bill::summed_bill_cells;
use crate::scenario::{PlacementKind, Scenario};

/// Per-user figures of a summary row that sharing factors compare.
const PER_USER: [(&str, &str); 6] = [
    (columns::DEVICES_PER_USER, columns::SHARING_FACTOR_DEVICES),
    (columns::MEM_GB_PER_USER, columns::SHARING_FACTOR_MEMORY),
    (columns::CAPEX_USD_PER_USER, columns::SHARING_FACTOR_CAPEX),
    ("energy_kwh_per_user_per_day", "sharing_factor_energy"),
    ("tco_usd_per_user_year", "sharing_factor_tco"),
    ("carbon_kg_per_user_year", "sharing_factor_carbon"),
];

/// Latency and load columns copied from the answer's summary.
const COPIED: [&str; 30] = [
    "device",
    "prefill_servers",
    "decode_servers",
    "kv_transfer_mean_s",
    "ownership",
    "electricity_usd_per_kwh",
    "grid_g_co2_per_kwh",
    columns::UTILIZATION_SHARE,
    "mean_batch",
    "batch_fill_share",
    "kv_occupancy_share",
    "saturation_share",
    "prefix_cache_hit_share",
    columns::P_WAIT_SHARE,
    columns::P_WAIT_ABOVE_SHARE,
    columns::WAIT_P99_S,
    columns::RESPONSE_P99_S,
    "response_p99_s_ci95",
    "ttft_p50_s",
    columns::TTFT_P99_S,
    "ttft_p99_s_ci95",
    "tpot_p50_s",
    columns::TPOT_P99_S,
    "tpot_p99_s_ci95",
    columns::E2E_P99_S,
    columns::SLO_ATTAINMENT_SHARE,
    "rental_usd_per_day",
    "network_rtt_s",
    "tensor_parallel",
    columns::SLO_DETAIL,
];

/// Totals summed over a hybrid's parts.
const SUMMED: [&str; 5] = [
    "servers_total",
    columns::DEVICES_TOTAL,
    columns::MEM_GB_TOTAL,
    columns::CAPEX_USD_TOTAL,
    columns::ENERGY_KWH_PER_DAY_TOTAL,
];

/// The row of one placement (on its view `v`) at one pool size: `pool_size`
/// users per pool counting every class, `pool_users` of them served here.
///
/// `types` are the pool compositions sized (see [`super::pool_types`]): each with
/// the share of pools that have it and its answer; figures per pool are
/// their share-weighted means, latencies those of the most common type.
pub(crate) fn sizing_row(
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
    let estimate = weighted(&|z| z.estimate.map(|n| n as f64));
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
        get(r, columns::DEVICES_TOTAL)
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
        cell(columns::PLACEMENT, Value::Str(p.name.clone())),
        cell(columns::KIND, Value::Str(p.kind_name().into())),
        cell("classes", Value::Str(v.all_classes_label())),
        cell("parts", Value::Str(String::new())),
        cell("users", Value::U64(v.users as u64)),
        cell(columns::POOL_SIZE, Value::U64(pool_size as u64)),
        cell(columns::POOL_USERS, Value::U64(pool_users as u64)),
        cell("pools", Value::F64(Some(pools))),
        cell("pool_types", Value::U64(types.len() as u64)),
        cell("feasible", Value::Bool(Some(feasible))),
        cell("reason", Value::Str(reason)),
        cell("probes", Value::U64(probes as u64)),
        cell(columns::SERVERS_PER_POOL, Value::F64(servers)),
        cell("servers_total", Value::F64(servers.map(|n| n * pools))),
        cell(columns::ESTIMATE_SERVERS_PER_POOL, Value::F64(estimate)),
        cell(
            columns::ESTIMATE_SERVERS_TOTAL,
            Value::F64(estimate.map(|n| n * pools)),
        ),
        cell(
            columns::ESTIMATE_ERROR_SHARE,
            Value::F64(estimate_error(estimate, servers)),
        ),
        cell(
            columns::DEVICES_TOTAL,
            Value::F64(devices_per_pool.map(|d| d * pools)),
        ),
        cell(
            columns::DEVICES_PER_USER,
            Value::F64(devices_per_pool.map(|d| d * pools / all_users)),
        ),
        cell(
            columns::MEM_GB_TOTAL,
            Value::F64(total(columns::MEM_GB_PER_USER)),
        ),
        cell(
            columns::MEM_GB_PER_USER,
            Value::F64(total(columns::MEM_GB_PER_USER).map(|t| t / all_users)),
        ),
        cell(
            columns::CAPEX_USD_TOTAL,
            Value::F64(total(columns::CAPEX_USD_PER_USER)),
        ),
        cell(
            columns::CAPEX_USD_PER_USER,
            Value::F64(total(columns::CAPEX_USD_PER_USER).map(|t| t / all_users)),
        ),
        cell(
            columns::ENERGY_KWH_PER_DAY_TOTAL,
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
            ("device", None) | ("ownership", None) | (columns::SLO_DETAIL, None) => {
                Value::Str(String::new())
            }
            ("tensor_parallel", None) => Value::U64(0),
            ("prefill_servers" | "decode_servers", None) => Value::U64(0),
            (_, None) => Value::F64(None),
        };
        row.push(cell(c, v));
    }
    let bill = super::bill::sizing_bill_cells(v, feasible, all_users, &total);
    row.extend(bill);
    row
}

/// The closed-form estimate's relative error against the simulated size,
/// `estimate / simulated - 1` (negative: the estimate is too small).
pub(crate) fn estimate_error(estimate: Option<f64>, simulated: Option<f64>) -> Option<f64> {
    match (estimate, simulated) {
        (Some(e), Some(n)) if n > 0.0 => Some(e / n - 1.0),
        _ => None,
    }
}

/// A hybrid's row at one pool size: its parts' rows summed. Its kind is
/// `dedicated` when every part is (local devices for every class: the
/// reference of sharing factors), else `hybrid`.
pub(crate) fn hybrid_row(s: &Scenario, name: &str, pool_size: usize, parts: &[&Row]) -> Row {
    let all_dedicated = parts
        .iter()
        .all(|r| matches!(get(r, columns::KIND), Some(Value::Str(k)) if k == "dedicated"));
    let all_users = s.users as f64;
    let sum = |c: &str| sum_column(parts, c);
    let text = |c: &str, sep: &str| join_column(parts, c, sep);
    let feasible = parts
        .iter()
        .all(|r| matches!(get(r, "feasible"), Some(Value::Bool(Some(true)))));
    let reasons: Vec<String> = parts
        .iter()
        .filter_map(|r| match (get(r, columns::PLACEMENT), get(r, "reason")) {
            (Some(Value::Str(p)), Some(Value::Str(t))) if !t.is_empty() => {
                Some(format!("{p}: {t}"))
            }
            _ => None,
        })
        .collect();
    let mut row: Row = vec![
        cell("scenario", Value::Str(s.name.clone())),
        cell(columns::PLACEMENT, Value::Str(name.to_string())),
        cell(
            columns::KIND,
            Value::Str(if all_dedicated { "dedicated" } else { "hybrid" }.into()),
        ),
        cell("classes", Value::Str(s.all_classes_label())),
        cell("parts", Value::Str(text(columns::PLACEMENT, "+"))),
        cell("users", Value::U64(s.users as u64)),
        cell(columns::POOL_SIZE, Value::U64(pool_size as u64)),
        cell(columns::POOL_USERS, Value::U64(pool_size as u64)),
        cell("pools", Value::F64(Some(all_users / pool_size as f64))),
        cell("feasible", Value::Bool(Some(feasible))),
        cell("reason", Value::Str(reasons.join("; "))),
        cell("probes", Value::U64(sum("probes").unwrap_or(0.0) as u64)),
        cell(columns::SERVERS_PER_POOL, Value::F64(None)),
    ];
    for c in SUMMED {
        row.push(cell(c, Value::F64(sum(c).filter(|_| feasible))));
        if c == "servers_total" {
            let estimate = sum(columns::ESTIMATE_SERVERS_TOTAL);
            row.push(cell(columns::ESTIMATE_SERVERS_PER_POOL, Value::F64(None)));
            row.push(cell(columns::ESTIMATE_SERVERS_TOTAL, Value::F64(estimate)));
            row.push(cell(
                columns::ESTIMATE_ERROR_SHARE,
                Value::F64(estimate_error(estimate, sum(c).filter(|_| feasible))),
            ));
        }
    }
    let per_user = |c: &str| Value::F64(sum(c).filter(|_| feasible).map(|t| t / all_users));
    row.push(cell(
        columns::DEVICES_PER_USER,
        per_user(columns::DEVICES_TOTAL),
    ));
    row.push(cell(
        columns::MEM_GB_PER_USER,
        per_user(columns::MEM_GB_TOTAL),
    ));
    row.push(cell(
        columns::CAPEX_USD_PER_USER,
        per_user(columns::CAPEX_USD_TOTAL),
    ));
    row.push(cell(
        "energy_kwh_per_user_per_day",
        per_user(columns::ENERGY_KWH_PER_DAY_TOTAL),
    ));
    row.push(cell("users_meeting_slo_share", Value::F64(None)));
    row.push(cell(
        "users_missing_slo_detail",
        Value::Str(text("users_missing_slo_detail", "; ")),
    ));
    for c in COPIED {
        let v = match c {
            "device" => Value::Str(text("device", "+")),
            "ownership" => Value::Str(text("ownership", "+")),
            columns::SLO_DETAIL => Value::Str(text(columns::SLO_DETAIL, "; ")),
            "tensor_parallel" => Value::U64(0),
            _ => Value::F64(None),
        };
        row.push(cell(c, v));
    }
    let mut bill = summed_bill_cells(parts, all_users);
    if !feasible {
        for (_, v) in bill.iter_mut() {
            if let Value::F64(x) = v {
                *x = None;
            }
        }
    }
    row.extend(bill);
    row
}

/// Name in each placement's row the cheapest of its dedicated device
/// alternatives (`device_choices`) on which every user's service level
/// holds, with its capital cost per user (empty and null when none does).
pub(crate) fn add_cheapest_devices(rows: &mut [Row], device_choices: &[Row]) {
    for row in rows.iter_mut() {
        let name = match get(row, columns::PLACEMENT) {
            Some(Value::Str(n)) => n.clone(),
            _ => String::new(),
        };
        let best = device_choices
            .iter()
            .filter(|r| matches!(get(r, columns::PLACEMENT), Some(Value::Str(n)) if *n == name))
            .filter(|r| {
                matches!(get(r, "users_meeting_slo_share"), Some(Value::F64(Some(x))) if *x >= 1.0)
                    && matches!(get(r, "feasible"), Some(Value::Bool(Some(true))))
            })
            .min_by(|a, b| {
                let c = |r: &Row| {
                    get(r, columns::CAPEX_USD_PER_USER)
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
            Value::F64(
                best.and_then(|r| get(r, columns::CAPEX_USD_PER_USER).and_then(Value::as_f64)),
            ),
        ));
    }
}

/// Append every hybrid's rows: at every pool size, its parts' rows at that
/// size summed (dedicated parts have one row, whatever the size). `rows[t]`
/// is the row of `tasks[t]`.
pub(crate) fn add_hybrid_rows(s: &Scenario, tasks: &[Task], rows: &mut Vec<Row>) {
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
}

/// Add the sharing factors to every row: each per-user figure of the first
/// dedicated row serving the same classes over the row's own.
pub(crate) fn add_sharing_factors(rows: &mut [Row]) {
    let classes_of = |r: &Row| match get(r, "classes") {
        Some(Value::Str(c)) => c.clone(),
        _ => String::new(),
    };
    let references: Vec<Row> = rows
        .iter()
        .filter(|r| matches!(get(r, columns::KIND), Some(Value::Str(k)) if k == "dedicated"))
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
}

/// The probe rows (probes.parquet) and dedicated user-group rows
/// (dedicated_users.parquet) of every task, in task order.
pub(crate) fn probe_and_group_rows(
    s: &Scenario,
    tasks: &[Task],
    sized: &[TaskAnswer],
) -> (Vec<Row>, Vec<Row>) {
    let mut probes = Vec::new();
    let mut user_groups = Vec::new();
    for ((types, check), &(i, k, _)) in sized.iter().zip(tasks) {
        let name = &s.placements[i].name;
        for (_, z) in types {
            probes.extend(probe_rows(s, name, k, z));
        }
        for g in check.iter().flat_map(|c| &c.groups) {
            user_groups.push(user_group_row(s, name, g));
        }
    }
    (probes, user_groups)
}

/// One row per probe of a pool composition's sizing `z` at pool size `k`.
fn probe_rows(s: &Scenario, name: &str, k: usize, z: &PoolSizing) -> Vec<Row> {
    z.probes
        .iter()
        .enumerate()
        .map(|(n, p)| {
            let num = |c: &str| get(&p.summary, c).cloned().unwrap_or(Value::F64(None));
            vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell(columns::PLACEMENT, Value::Str(name.to_string())),
                cell(columns::POOL_SIZE, Value::U64(k as u64)),
                cell(columns::POOL_USERS, Value::U64(z.pool_users as u64)),
                cell("pool_type", Value::Str(z.composition.clone())),
                cell("probe", Value::U64(n as u64)),
                cell("servers", Value::U64(p.servers as u64)),
                cell("horizon_s", Value::F64(Some(p.horizon_s))),
                cell("meets", Value::Bool(Some(p.meets))),
                cell("decision", Value::Str(p.decision.label().into())),
                cell("early_look", Value::Bool(Some(p.early))),
                cell("rounds", Value::U64(p.cost.rounds.into())),
                cell("replications_run", Value::U64(p.cost.replications)),
                cell("simulated_requests", Value::U64(p.cost.simulated_requests)),
                cell("trusted", Value::Bool(Some(p.trusted))),
                cell("untrusted_reason", Value::Str(p.untrusted_reason.clone())),
                cell(
                    columns::SLO_DETAIL,
                    Value::Str(p.verdict.as_ref().map_or(String::new(), |v| v.describe())),
                ),
                cell(columns::UTILIZATION_SHARE, num(columns::UTILIZATION_SHARE)),
                cell("measured", num("measured")),
            ]
        })
        .collect()
}

/// The row of one dedicated user group checked on its own.
fn user_group_row(s: &Scenario, name: &str, g: &UserGroupCheck) -> Row {
    vec![
        cell("scenario", Value::Str(s.name.clone())),
        cell(columns::PLACEMENT, Value::Str(name.to_string())),
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
    ]
}
