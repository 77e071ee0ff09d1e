//! Sizing a disaggregated placement: each pool for the targets it serves.
//! TTFT ends at the prefill pool (its KV transfer and the decode pool come
//! after the first token), TPOT and the rest of a response are the decode
//! pool's. The search runs three of [`size_pool`]'s searches: the colocated
//! fleet of the same servers (an upper bound that surely keeps up with the
//! decode work), the least prefill pool meeting the TTFT targets beside a
//! decode pool of that size, then the least decode pool meeting every
//! target beside that prefill pool. The answer is their sum; its probes are
//! all three searches' (each probe's `servers` is the placement's total).

use super::search::{size_pool, PoolSizing};
use crate::scenario::{LatencyMetric, Scenario, SizedPool};

/// Whether placement `placement` of `s` is disaggregated with its probes
/// setting the whole placement (so [`size_pool`] must search both pools).
pub(crate) fn sized_whole(s: &Scenario, placement: usize) -> bool {
    s.placements[placement]
        .llm()
        .and_then(|l| l.disaggregated)
        .is_some_and(|d| d.sized == SizedPool::Both)
}

/// `s` with placement `placement` colocated (None) or sized as `sized`.
fn with_sizing(s: &Scenario, placement: usize, sized: Option<SizedPool>) -> Scenario {
    let mut t = s.clone();
    let l = t.placements[placement].llm_mut().expect("an LLM placement");
    match sized {
        None => l.disaggregated = None,
        Some(z) => l.disaggregated.as_mut().expect("disaggregated").sized = z,
    }
    t
}

/// Size both pools of disaggregated `placement` for pools of `users`.
pub(crate) fn size_disaggregated(s: &Scenario, placement: usize, users: usize) -> PoolSizing {
    let colocated = size_pool(&with_sizing(s, placement, None), placement, users);
    let Some(bound) = colocated.servers else {
        let mut out = colocated;
        out.reason = format!(
            "the colocated fleet that bounds the decode pool cannot be sized: {}",
            out.reason
        );
        return out;
    };
    let mut out = PoolSizing {
        servers: None,
        reason: String::new(),
        probes: colocated.probes,
        ..colocated
    };
    let mut prefill_only = with_sizing(s, placement, Some(SizedPool::Prefill { decode: bound }));
    let sl = &mut prefill_only.service_level;
    sl.targets.retain(|t| t.metric == LatencyMetric::Ttft);
    sl.attainment = None;
    sl.wait_tail = None;
    let mut prefill = size_pool(&prefill_only, placement, users);
    for p in &mut prefill.probes {
        p.servers += bound;
    }
    out.probes.append(&mut prefill.probes);
    let Some(p) = prefill.servers else {
        out.reason = format!("no prefill pool meets the TTFT targets: {}", prefill.reason);
        return out;
    };
    let decode_only = with_sizing(s, placement, Some(SizedPool::Decode { prefill: p }));
    let mut decode = size_pool(&decode_only, placement, users);
    for q in &mut decode.probes {
        q.servers += p;
    }
    out.probes.append(&mut decode.probes);
    match decode.servers {
        Some(d) => out.servers = Some(p + d),
        None => {
            out.reason = format!(
                "no decode pool beside {p} prefill servers meets the service level: {}",
                decode.reason
            )
        }
    }
    out
}
