//! Placements serving classes of several models: one sub-fleet per model
//! ([`ModelFleet`]), each with that model's servers as the class using it
//! first resolved them (its step costs and KV budget on the placement's
//! device, checked to fit there), and its batch-1 request time mixed over
//! its own classes.

use super::super::placement::{ModelFleet, Placement, PlacementKind};
use super::super::{UserClass, Workload};

/// The model sub-fleets of placement `p` from the
/// per-class resolutions `served`; empty when its classes use one model
/// (or none: generic classes). A pooled placement's `servers` is each
/// model's replicas, and its fleet becomes their sum.
pub(super) fn model_fleets(
    p: &Placement,
    served: &[(usize, &Placement)],
    user_classes: &[UserClass],
) -> Vec<ModelFleet> {
    let mut fleets: Vec<ModelFleet> = Vec::new();
    for &(ci, q) in served {
        let Workload::Llm(l) = &user_classes[ci].workload else {
            return Vec::new();
        };
        // A fallback's own model serves every class it serves.
        let label = match q.llm().and_then(|s| s.own_model.as_ref()) {
            Some((m, quant)) => format!("{m} {quant}"),
            None => format!("{} {}", l.model.name, l.quantisation),
        };
        match fleets.iter_mut().find(|f| f.label == label) {
            Some(f) => f.classes.push(ci),
            None => {
                let server = q
                    .llm()
                    .expect("an LLM class's placement has LLM servers")
                    .clone();
                let servers = match p.kind {
                    PlacementKind::Pooled { servers, .. } => servers,
                    PlacementKind::Dedicated => 0,
                };
                fleets.push(ModelFleet {
                    label,
                    classes: vec![ci],
                    server,
                    servers,
                    swapped: false,
                    load_s: 0.0,
                });
            }
        }
    }
    if fleets.len() < 2 {
        return Vec::new();
    }
    fleets
}

/// A multi-model placement: its fleet is the sum of its models' replicas,
/// and each sub-fleet's batch-1 request time is mixed over its own classes
/// (`shares`: each served class's share of the placement's requests;
/// `times`: its batch-1 time on its model, both in `serves` order).
pub(super) fn mix_fleet_request_times(p: &mut Placement, shares: &[(usize, f64)], times: &[f64]) {
    if p.models.is_empty() || times.len() != shares.len() {
        return;
    }
    let total: usize = p.models.iter().map(|f| f.servers).sum();
    if let PlacementKind::Pooled { servers, .. } = &mut p.kind {
        *servers = total;
    }
    for f in &mut p.models {
        let (mut w, mut t) = (0.0, 0.0);
        for ((c, sh), time) in shares.iter().zip(times) {
            if f.classes.contains(c) {
                w += sh;
                t += sh * time;
            }
        }
        if w > 0.0 {
            f.server.mean_request_s = t / w;
        }
    }
}

/// Weights are loaded at this rate when a placement's `[placements.swap]`
/// gives none, GB/s [E]: a server reading them from a local NVMe cache
/// (3-7 GB/s) or network storage (1-2 GB/s per server).
pub const DEFAULT_LOAD_GB_PER_S: f64 = 2.0;

/// `[placements.swap]` of every placement (`swaps`, by placement index):
/// the models named are swapped in, on a pooled placement serving classes
/// of several models, each with its load time (its weights over
/// `load_gb_per_s`); the swap pool has `servers` servers (default 1) for
/// `run`, and `size` sizes it.
pub(super) fn apply_swaps(
    c: &crate::scenario::check::Check,
    swaps: &[Option<crate::scenario::raw::RawSwap>],
    s: &mut crate::scenario::Scenario,
) -> Result<(), crate::scenario::ScenarioError> {
    for (j, sw) in swaps.iter().enumerate() {
        let Some(sw) = sw else { continue };
        let key = c.placement_key(j, "swap");
        let classes = &s.classes;
        let p = &mut s.placements[j];
        if !matches!(p.kind, PlacementKind::Pooled { .. }) || !p.is_multi_model() {
            return Err(c.err(key, "applies to a pooled placement serving classes of several models (classes with their own `model`): a dedicated device holds its user's one model; remove [placements.swap]"));
        }
        let load = sw.load_gb_per_s.unwrap_or(DEFAULT_LOAD_GB_PER_S);
        if !(load.is_finite() && load > 0.0 && load <= 1000.0) {
            return Err(c.err(
                format!("{key}.load_gb_per_s"),
                format!("must be GB/s between 0 (excluded) and 1000 (got {load})"),
            ));
        }
        if sw.models.is_empty() {
            return Err(c.err(
                format!("{key}.models"),
                "is empty: name the models to swap in, e.g. [\"llama_3_1_70b\"]",
            ));
        }
        // Each sub-fleet's model name, as its first class resolved it.
        let names: Vec<String> = p
            .models
            .iter()
            .map(|f| match &classes[f.classes[0]].workload {
                Workload::Llm(l) => l.model.name.clone(),
                Workload::Generic { .. } => unreachable!("a model sub-fleet serves LLM classes"),
            })
            .collect();
        for name in &sw.models {
            let Some(m) = names.iter().position(|n| n == name) else {
                return Err(c.err(
                    format!("{key}.models"),
                    format!(
                        "{name:?} is not a model this placement serves: use one of {}",
                        names.join(", ")
                    ),
                ));
            };
            let f = &mut p.models[m];
            let Workload::Llm(l) = &classes[f.classes[0]].workload else {
                unreachable!("a model sub-fleet serves LLM classes")
            };
            let weights_gb = l
                .model
                .weights_gb
                .get(&l.quantisation)
                .copied()
                .unwrap_or(0.0);
            f.swapped = true;
            f.servers = 0;
            f.load_s = weights_gb / load;
        }
        // The swap pool beside the models' own replicas.
        let pool = match sw.servers {
            None => 1,
            Some(n) if (1..=10_000).contains(&n) => n as usize,
            Some(n) => {
                return Err(c.err(
                    format!("{key}.servers"),
                    format!("must be between 1 and 10000 (got {n})"),
                ))
            }
        };
        let resident: usize = p.models.iter().map(|f| f.servers).sum();
        if let PlacementKind::Pooled { servers, .. } = &mut p.kind {
            *servers = resident + pool;
        }
    }
    Ok(())
}
