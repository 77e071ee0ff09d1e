//! Offered load from the scenario alone (no simulation): a server's or
//! device's offered utilisation (daily mean and peak hour) and whether a
//! dedicated device is overloaded by its own user.

use crate::scenario::{PlacementKind, Scenario};

/// Offered utilisation of one server or device: (daily mean, peak hour).
/// Unknown (None) for batching fleets, whose capacity depends on the batch.
pub(crate) fn offered_utilization(s: &Scenario, placement: usize) -> (Option<f64>, Option<f64>) {
    let p = &s.placements[placement];
    let es = match p.llm() {
        Some(l) => l.mean_request_s,
        None => s.generic_mean_service_s(placement),
    };
    match (&p.kind, p.llm()) {
        (PlacementKind::Dedicated, _) => {
            // The mean user's device; the peak is the busiest user (rate
            // spread) at the busiest hour of the profile.
            // Per class: its users' rate x its service time here (scaled
            // from its reference device by this placement's mean).
            let rate = s.requests_per_user_per_day / crate::workload::arrivals::DAY_S;
            let peak = (0..s.classes.len())
                .map(|c| {
                    let class = &s.classes[c];
                    let groups = &s.arrivals.groups()[class.groups.clone()];
                    let peak_w = match class.behaviour {
                        crate::workload::source::Behaviour::Agent { .. } => 1.0,
                        _ => groups.iter().map(|g| g.profile.peak()).fold(0.0, f64::max),
                    };
                    // (The ratio first: two long service times multiplied
                    // overflow; found by fuzzing.)
                    let es_c = if s.mean_service_s > 0.0 {
                        es * (class.mean_service_s / s.mean_service_s)
                    } else {
                        es
                    };
                    class.requests_per_user_per_day / crate::workload::arrivals::DAY_S
                        * busiest_user_multiplier(s, c)
                        * peak_w
                        * es_c
                })
                .fold(0.0, f64::max);
            (Some(rate * es), Some(peak))
        }
        (PlacementKind::Pooled { servers, .. }, None) => {
            let c = *servers as f64;
            let all = s.request_rate_process();
            (
                Some(all.mean_rate_per_s() * es / c),
                Some(all.peak_rate_per_s() * es / c),
            )
        }
        (PlacementKind::Pooled { .. }, Some(_)) => (None, None),
    }
}

/// Capacity of one batching LLM server in requests per second at the mean
/// request size, with the largest batch the KV budget allows (its
/// saturated throughput; sizing's first guess and the `saturation_share`
/// column divide by it).
pub fn llm_server_capacity_per_s(s: &Scenario, placement: usize) -> Option<f64> {
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

/// Rate multiplier of class `class`'s heaviest user (1 when its users are alike).
fn busiest_user_multiplier(s: &Scenario, class: usize) -> f64 {
    s.arrivals.groups()[s.classes[class].groups.clone()]
        .iter()
        .map(|g| g.spread.as_ref().map_or(1.0, |sp| sp.max() / sp.mean()))
        .fold(1.0, f64::max)
}

/// A dedicated device is unstable when its user's own load reaches it: the
/// heaviest user's daily mean, in the class that loads its device most.
pub(crate) fn dedicated_overloaded(s: &Scenario, placement: usize) -> bool {
    let p = &s.placements[placement];
    if p.kind != PlacementKind::Dedicated {
        return false;
    }
    let Some(mean_util) = offered_utilization(s, placement).0 else {
        return false;
    };
    let pop_rate = s.requests_per_user_per_day;
    (0..s.classes.len()).any(|c| {
        let class = &s.classes[c];
        let rel = if pop_rate > 0.0 && s.mean_service_s > 0.0 {
            (class.requests_per_user_per_day / pop_rate) * (class.mean_service_s / s.mean_service_s)
        } else {
            1.0
        };
        mean_util * rel * busiest_user_multiplier(s, c) >= 1.0
    })
}
