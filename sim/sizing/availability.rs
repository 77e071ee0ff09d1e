//! Availability over a year (`[outages]`, `[sizing] availability_target`):
//! fleets are sized without outages (a fallback-only placement, sized on
//! its primary's whole load, can then carry everything failed over to it),
//! and each placement's rows get the expected share of a year's requests
//! within the service level with its outages counted, from the long-run
//! unavailable share `u = r·d / (1 + r·d)` of every process
//! (docs/model.md section 20):
//!
//! ```text
//! down(P)          = 1 − Π_{i ∈ P} (1 − u_i)
//! P down, F up     = Π_{i ∈ F} (1 − u_i) · (1 − Π_{i ∈ P \ F} (1 − u_i))
//! availability     = (1 − down(P)) · attainment(P) + [P down, F up] · attainment(F)
//! ```
//!
//! (Poisson arrivals see time averages, so a share of time down is a share
//! of requests; independent processes multiply; a process hitting both the
//! placement and its fallback, such as the user's own network, takes both
//! down together.) A request that fails or waits for the end of an outage
//! counts as missing the service level. More servers in one region do not
//! raise `1 − down(P)`: only a fallback does, which is why the redundancy
//! options are placements with fallbacks, each priced with its fallback.

use crate::results::columns;
use crate::results::table::{cell, get, Row, Value};
use crate::scenario::{OutageRule, Scenario};

/// Long-run share of time down of each process of `s`.
fn process_shares(s: &Scenario) -> Vec<f64> {
    s.outages
        .as_deref()
        .map(|ps| ps.iter().map(|p| p.spec.unavailable_share()).collect())
        .unwrap_or_default()
}

/// `Π (1 − u_i)` over the processes `ids`.
fn up_share(u: &[f64], ids: impl Iterator<Item = usize>) -> f64 {
    ids.map(|i| 1.0 - u[i]).product()
}

/// Long-run share of time placement `p` is down, and the share during which
/// it is down while its fallback is up (0 without one).
pub fn down_shares(s: &Scenario, p: usize) -> (f64, f64) {
    let u = process_shares(s);
    let own = &s.placements[p].outage.processes;
    let down = 1.0 - up_share(&u, own.iter().copied());
    let Some(name) = &s.placements[p].outage.fallback else {
        return (down, 0.0);
    };
    let f = s
        .placements
        .iter()
        .position(|q| &q.name == name)
        .expect("a fallback names a placement (resolved)");
    let fb = &s.placements[f].outage.processes;
    let fallback_up = up_share(&u, fb.iter().copied());
    let only_own = 1.0 - up_share(&u, own.iter().copied().filter(|i| !fb.contains(i)));
    (down, fallback_up * only_own)
}

fn text(row: &Row, name: &str) -> String {
    match get(row, name) {
        Some(Value::Str(t)) => t.clone(),
        _ => String::new(),
    }
}

fn number(row: &Row, name: &str) -> Option<f64> {
    get(row, name).and_then(Value::as_f64)
}

fn pool_size(row: &Row) -> u64 {
    match get(row, columns::POOL_SIZE) {
        Some(Value::U64(k)) => *k,
        _ => 0,
    }
}

/// The fallback's row for a placement's row at pool size `k`: the one at
/// `k`, else its largest pool (a dedicated fallback has one row).
fn fallback_row<'a>(rows: &'a [Row], name: &str, k: u64) -> Option<&'a Row> {
    let mine: Vec<&Row> = rows
        .iter()
        .filter(|r| text(r, columns::PLACEMENT) == name)
        .collect();
    mine.iter()
        .find(|r| pool_size(r) == k)
        .or_else(|| mine.iter().max_by_key(|r| pool_size(r)))
        .copied()
}

/// Add the availability columns to every placement row of `rows` (sizing
/// rows of `s`, which has enabled outages), and mark, per pool size, the
/// cheapest option meeting `[sizing] availability_target`.
pub(crate) fn add_availability(s: &Scenario, rows: &mut [Row]) {
    if s.outages.is_none() {
        return;
    }
    let target = s.sizing.availability_target;
    let snapshot: Vec<Row> = rows.to_vec();
    for row in rows.iter_mut() {
        let name = text(row, columns::PLACEMENT);
        let Some(p) = s.placements.iter().position(|q| q.name == name) else {
            continue;
        };
        let placement = &s.placements[p];
        let (down, covered) = down_shares(s, p);
        let feasible = matches!(get(row, "feasible"), Some(Value::Bool(Some(true))));
        let own_att = number(row, columns::SLO_ATTAINMENT_SHARE);
        let own_capex = number(row, columns::CAPEX_USD_PER_USER);
        let fb = placement
            .outage
            .fallback
            .as_ref()
            .map(|f| (f.clone(), fallback_row(&snapshot, f, pool_size(row))));
        let (availability, capex, fb_feasible) = match (&placement.outage.backs, &fb) {
            (Some(_), _) => (None, own_capex, false),
            (None, None) => (own_att.map(|a| (1.0 - down) * a), own_capex, true),
            (None, Some((_, f))) => {
                let f_att = f.and_then(|f| number(f, columns::SLO_ATTAINMENT_SHARE));
                let f_capex = f.and_then(|f| number(f, columns::CAPEX_USD_PER_USER));
                let f_ok =
                    f.is_some_and(|f| matches!(get(f, "feasible"), Some(Value::Bool(Some(true)))));
                let a = own_att
                    .zip(f_att)
                    .map(|(a, b)| (1.0 - down) * a + covered * b);
                (a, own_capex.zip(f_capex).map(|(a, b)| a + b), f_ok)
            }
        };
        let role = match &placement.outage.backs {
            Some((primary, _)) => format!("fallback of {primary}"),
            None => placement.outage.rule.name().to_string(),
        };
        let meets = match (target, availability) {
            (Some(t), Some(a)) => Some(feasible && fb_feasible && a >= t),
            (Some(_), None) if placement.outage.backs.is_none() => Some(false),
            _ => None,
        };
        row.extend([
            cell(columns::ON_OUTAGE, Value::Str(role)),
            cell(
                columns::FALLBACK,
                Value::Str(fb.map(|(f, _)| f).unwrap_or_default()),
            ),
            cell("unavailable_share_year", Value::F64(Some(down))),
            cell(
                "fallback_covers_share_year",
                Value::F64((placement.outage.rule == OutageRule::Fallback).then_some(covered)),
            ),
            cell(columns::AVAILABILITY_SHARE, Value::F64(availability)),
            cell(
                columns::CAPEX_WITH_FALLBACK,
                Value::F64(if placement.outage.backs.is_some() {
                    None
                } else {
                    capex
                }),
            ),
            cell("availability_target", Value::F64(target)),
            cell(columns::MEETS_AVAILABILITY, Value::Bool(meets)),
        ]);
    }
    mark_choices(rows);
}

/// Per pool size, the cheapest row (capital with its fallback) meeting the
/// availability target: `availability_choice`.
fn mark_choices(rows: &mut [Row]) {
    let mut best: Vec<(u64, usize, f64)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if !matches!(
            get(r, columns::MEETS_AVAILABILITY),
            Some(Value::Bool(Some(true)))
        ) {
            continue;
        }
        let Some(c) = number(r, columns::CAPEX_WITH_FALLBACK) else {
            continue;
        };
        let k = pool_size(r);
        match best.iter_mut().find(|b| b.0 == k) {
            Some(b) if c < b.2 => *b = (k, i, c),
            Some(_) => {}
            None => best.push((k, i, c)),
        }
    }
    for (i, r) in rows.iter_mut().enumerate() {
        let chosen = match get(r, columns::MEETS_AVAILABILITY) {
            None => continue,
            Some(Value::Bool(None)) => None,
            Some(_) => Some(best.iter().any(|b| b.1 == i)),
        };
        r.push(cell(columns::AVAILABILITY_CHOICE, Value::Bool(chosen)));
    }
}
