//! The instant estimate (`sharesim estimate`): the closed-form answer of
//! every placement at every pool size, without simulating. Pooled fleets
//! take the sizing search's first guess ([`super::analytic_guess`] through
//! [`super::search_starts`], uncapped): Erlang-C for a wait-tail target of
//! a generic fleet, `ceil(a)` for batching LLM servers, else square-root
//! staffing `a + sqrt(a)` on the peak
//! offered load `a`, where a batching LLM server's capacity is the step
//! model's saturated request rate. Dedicated placements: one device per
//! user, unless no device can meet the service level or a user's own load
//! overloads one. The same figures sit beside every simulated size in
//! sizing.parquet (`estimate_servers_per_pool`), so the estimate's error is
//! read off any `size` run (docs/model.md, "The instant estimate").

use super::search::hopeless;
use super::{part_pool_users, search_starts};
use crate::results::columns;
use crate::results::table::{cell, get, Row, Value};
use crate::scenario::{PlacementKind, Scenario};

/// One row per placement and pool size (dedicated placements once, at the
/// whole population), in sizing.parquet's order: the peak load per pool,
/// the estimate of servers per pool and in all, devices per user and the
/// devices factor against the first dedicated placement serving the same
/// classes. Scenarios with outages are estimated without them, as `size`
/// sizes them.
pub fn estimate_rows(with_outages: &Scenario) -> Vec<Row> {
    let sized = with_outages.for_sizing();
    let s: &Scenario = &sized;
    let starts = search_starts(s);
    let all_users = s.users as f64;
    let mut rows = Vec::new();
    for (i, p) in s.placements.iter().enumerate() {
        let view = s.view(i);
        let per_server = p.llm().map_or(1.0, |l| f64::from(l.tensor_parallel));
        let base = |pool_size: usize, pool_users: usize| -> Row {
            vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell(columns::PLACEMENT, Value::Str(p.name.clone())),
                cell(columns::KIND, Value::Str(p.kind_name().into())),
                cell("classes", Value::Str(view.all_classes_label())),
                cell("users", Value::U64(view.users as u64)),
                cell(columns::POOL_SIZE, Value::U64(pool_size as u64)),
                cell(columns::POOL_USERS, Value::U64(pool_users as u64)),
                cell(
                    "pools",
                    Value::F64(Some(view.users as f64 / pool_users.max(1) as f64)),
                ),
            ]
        };
        let finish = |mut row: Row, servers: Option<f64>, pools: f64, reason: String| -> Row {
            row.extend([
                cell(columns::ESTIMATE_SERVERS_PER_POOL, Value::F64(servers)),
                cell(
                    columns::ESTIMATE_SERVERS_TOTAL,
                    Value::F64(servers.map(|n| n * pools)),
                ),
                cell(
                    "estimate_devices_per_user",
                    Value::F64(servers.map(|n| n * pools * per_server / all_users)),
                ),
                cell("feasible", Value::Bool(Some(servers.is_some()))),
                cell("reason", Value::Str(reason)),
            ]);
            row
        };
        match p.kind {
            PlacementKind::Dedicated => {
                let users = view.users;
                let reason = if let Some(r) = hopeless(&view, 0) {
                    r
                } else if crate::run::dedicated_overloaded(&view, 0) {
                    "the heaviest user's own load overloads a device".to_string()
                } else {
                    String::new()
                };
                let servers = reason.is_empty().then_some(users as f64);
                let mut row = base(s.users, users);
                row.extend(load_cells(None, None, ""));
                rows.push(finish(row, servers, 1.0, reason));
            }
            PlacementKind::Pooled { .. } => {
                for &k in &s.sizing.pool_sizes {
                    let users = part_pool_users(k, view.users, s.users);
                    let mine: Vec<_> = starts
                        .iter()
                        .filter(|st| st.placement == i && st.pool_size == k)
                        .collect();
                    let weighted = |f: &dyn Fn(&super::SearchStart) -> Option<f64>| {
                        mine.iter()
                            .map(|st| f(st).map(|x| st.share * x))
                            .sum::<Option<f64>>()
                    };
                    let servers = weighted(&|st| st.estimate.map(|n| n as f64));
                    let erlangs = weighted(&|st| Some(st.load.erlangs));
                    let capacity = mine
                        .iter()
                        .max_by(|a, b| a.share.total_cmp(&b.share))
                        .map(|st| st.load.server_capacity_per_s);
                    let reason = mine
                        .iter()
                        .filter_map(|st| st.start.as_ref().err())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ");
                    let method = mine.first().map_or("", |st| st.method);
                    let mut row = base(k, users);
                    row.extend(load_cells(erlangs, capacity, method));
                    let pools = view.users as f64 / users.max(1) as f64;
                    rows.push(finish(row, servers, pools, reason));
                }
            }
        }
    }
    add_estimate_factors(&mut rows);
    rows
}

/// The peak load, a server's capacity and the method of a pooled row.
fn load_cells(erlangs: Option<f64>, capacity: Option<f64>, method: &str) -> [(String, Value); 3] {
    [
        cell("peak_load_erlangs_per_pool", Value::F64(erlangs)),
        cell("server_capacity_per_s", Value::F64(capacity)),
        cell("estimate_method", Value::Str(method.to_string())),
    ]
}

/// The devices factor of every row: devices per user of the first
/// dedicated row serving the same classes over the row's own.
fn add_estimate_factors(rows: &mut [Row]) {
    let text = |r: &Row, c: &str| match get(r, c) {
        Some(Value::Str(t)) => t.clone(),
        _ => String::new(),
    };
    let references: Vec<Row> = rows
        .iter()
        .filter(|r| text(r, columns::KIND) == "dedicated")
        .cloned()
        .collect();
    for row in rows.iter_mut() {
        let reference = references
            .iter()
            .find(|d| text(d, "classes") == text(row, "classes"));
        let f = reference.and_then(|d| {
            let dv = get(d, "estimate_devices_per_user").and_then(Value::as_f64)?;
            let pv = get(row, "estimate_devices_per_user").and_then(Value::as_f64)?;
            (pv > 0.0).then(|| dv / pv)
        });
        row.push(cell("estimate_sharing_factor_devices", Value::F64(f)));
    }
}
