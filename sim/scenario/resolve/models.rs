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
