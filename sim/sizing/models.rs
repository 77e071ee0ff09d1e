//! Sizing a pooled placement whose classes use several models (docs/model.md,
//! "Many models in one fleet"): each model's replicas are sized on their
//! own (the model's classes alone on its sub-fleet, at least one replica
//! for any model a user of the pool uses), then the whole pool, every
//! model's replicas together, is probed once more and must meet the
//! service level too. The pool's servers are the sum of the replicas and
//! of the swap pool, sized by a linear search from one server on the
//! swapped models' classes alone (`[placements.swap]`).

use super::probe::run_probe;
use super::search::{size_pool, PoolSizing};
use super::TaskAnswer;
use crate::results::table::{cell, Row, Value};
use crate::scenario::Scenario;

/// The `model_replicas_per_pool` column, only in scenarios with a
/// multi-model placement (so the tables of every other scenario keep their
/// columns): each model's replicas per pool, share-weighted over pool
/// compositions, e.g. `gpt_oss_120b mxfp4 1 + phi_4_mini q4 1`; empty on
/// the rows of single-model placements, dedicated ones and hybrids.
pub(crate) fn add_model_replicas(s: &Scenario, sized: &[TaskAnswer], rows: &mut [Row]) {
    if !s.placements.iter().any(|p| p.is_multi_model()) {
        return;
    }
    for (t, row) in rows.iter_mut().enumerate() {
        let text = sized
            .get(t)
            .map(|(types, _)| weighted_label(types))
            .unwrap_or_default();
        row.push(cell(MODEL_REPLICAS_PER_POOL, Value::Str(text)));
    }
}

/// The column's name.
pub const MODEL_REPLICAS_PER_POOL: &str = "model_replicas_per_pool";

/// Most servers a swap pool is searched up to (a pool needing more holds
/// its models resident instead).
const MAX_SWAP_SERVERS: usize = 16;

/// Each model's replicas, share-weighted over the compositions `types`
/// (empty when they hold no model sub-fleets or one is infeasible).
fn weighted_label(types: &[(f64, PoolSizing)]) -> String {
    let Some((_, first)) = types.first() else {
        return String::new();
    };
    if first.model_servers.is_empty() || types.iter().any(|(_, z)| z.servers.is_none()) {
        return String::new();
    }
    first
        .model_servers
        .iter()
        .enumerate()
        .map(|(m, (label, _))| {
            let n: f64 = types
                .iter()
                .map(|(w, z)| w * z.model_servers.get(m).map_or(0.0, |x| x.1 as f64))
                .sum();
            format!("{label} {}", (n * 1e6).round() / 1e6)
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Size the multi-model pooled placement of the view `s` (its placement
/// `placement`, 0) for pools of `users` users.
pub(crate) fn size_model_pool(s: &Scenario, placement: usize, users: usize) -> PoolSizing {
    assert_eq!(placement, 0, "size a multi-model placement on its view");
    let fleets = &s.placements[0].models;
    let mut out = PoolSizing {
        estimate: Some(0),
        model_servers: Vec::with_capacity(fleets.len()),
        ..PoolSizing::before_search(placement, users)
    };
    let mut counts = Vec::with_capacity(fleets.len());
    let mut reasons = Vec::new();
    for (m, f) in fleets.iter().enumerate() {
        if f.swapped {
            counts.push(0);
            out.model_servers
                .push((format!("{} (swapped)", f.label), 0));
            continue;
        }
        let Some(part) = s.model_part(m) else {
            counts.push(0);
            out.model_servers.push((f.label.clone(), 0));
            continue;
        };
        let part_users = super::part_pool_users(users, part.users, s.users);
        let z = size_pool(&part, 0, part_users);
        out.probes.extend(z.probes);
        out.estimate = match (out.estimate, z.estimate) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        match z.servers {
            Some(n) => counts.push(n),
            None => {
                counts.push(0);
                reasons.push(format!("{}: {}", f.label, z.reason));
            }
        }
        out.model_servers.push((f.label.clone(), counts[m]));
    }
    // The swap pool: the fewest servers on which the swapped models'
    // classes alone meet the service level, from one up.
    let mut swap = 0;
    let swaps = fleets.iter().any(|f| f.swapped);
    if let Some(part) = s.swap_part() {
        let part_users = super::part_pool_users(users, part.users, s.users);
        let most = part_users.clamp(1, MAX_SWAP_SERVERS);
        let mut found = None;
        for n in 1..=most {
            if probed(&mut out, &part, part_users, n) {
                found = Some(n);
                break;
            }
        }
        match found {
            Some(n) => swap = n,
            None => reasons.push(format!(
                "the swap pool: no pool of 1 to {most} servers meets the service level for the swapped models"
            )),
        }
        out.estimate = out.estimate.map(|e| e + 1);
    }
    if swaps {
        // (Listed for every pool, none when its users use no swapped model,
        // so that the compositions' lists line up.)
        out.model_servers.push(("swap pool".to_string(), swap));
    }
    if !reasons.is_empty() {
        out.reason = reasons.join("; ");
        return out;
    }
    // Every model's replicas together, judged over all the pool's classes.
    let total: usize = counts.iter().sum::<usize>() + swap;
    let mut whole = s.with_model_servers(&counts);
    if let crate::scenario::PlacementKind::Pooled { servers, .. } = &mut whole.placements[0].kind {
        *servers = total;
    }
    if probed(&mut out, &whole, users, total) {
        out.servers = Some(total);
    } else {
        out.reason = format!(
            "each model's replicas ({}) met the service level alone but the pool of {total} did not together",
            model_servers_label(&out.model_servers)
        );
    }
    out
}

/// Probe `servers` servers of placement 0 of `v` for pools of `users`,
/// keep the probe in `out`, and say whether it met the service level.
fn probed(out: &mut PoolSizing, v: &Scenario, users: usize, servers: usize) -> bool {
    let p = run_probe(v, 0, users, Some(servers), v.sizing.min_measured_requests);
    let meets = p.meets;
    out.probes.push(p);
    meets
}

/// `gpt_oss_120b mxfp4 2 + phi_4_mini q4 1`.
pub(crate) fn model_servers_label(m: &[(String, usize)]) -> String {
    m.iter()
        .map(|(label, n)| format!("{label} {n}"))
        .collect::<Vec<_>>()
        .join(" + ")
}
