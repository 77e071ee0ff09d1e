//! The keys of a placement that only LLM placements take (refused on
//! generic ones), and those a dedicated device at batch 1 does not take.

use crate::engine::fcfs::Dispatch;

use super::super::check::Check;
use super::super::placement::PlacementKind;
use super::super::raw::RawPlacement;
use super::super::ScenarioError;

/// Keys that only LLM placements take.
const LLM_PLACEMENT_KEYS: [&str; 16] = [
    "device",
    "tensor_parallel",
    "engine",
    "max_batch",
    "network_rtt_s",
    "fast_forward",
    "price_usd",
    "chunked_prefill_tokens",
    "network_rtt",
    "kv_precision",
    "pue",
    "kv_allocation",
    "prefix_caching",
    "bandwidth_efficiency",
    "compute_efficiency",
    "model",
];

/// Which of [`LLM_PLACEMENT_KEYS`] placement `p` sets.
pub(super) fn given_keys(p: &RawPlacement) -> [bool; 16] {
    [
        p.device.is_some(),
        p.tensor_parallel.is_some(),
        p.engine.is_some(),
        p.max_batch.is_some(),
        p.network_rtt_s.is_some(),
        p.fast_forward.is_some(),
        p.price_usd.is_some(),
        p.chunked_prefill_tokens.is_some(),
        p.network_rtt.is_some(),
        p.kv_precision.is_some(),
        p.pue.is_some(),
        p.kv_allocation.is_some(),
        p.prefix_caching.is_some(),
        p.bandwidth_efficiency.is_some(),
        p.compute_efficiency.is_some(),
        p.model.is_some(),
    ]
}

/// A generic placement (resolved as number `i`) sets no LLM-only key.
pub(super) fn check_generic(
    c: &Check,
    i: usize,
    given: &[bool; 16],
    kind: &PlacementKind,
) -> Result<(), ScenarioError> {
    // `device` and `price_usd` price a generic placement too.
    let llm_only = |n: &usize| !matches!(LLM_PLACEMENT_KEYS[*n], "device" | "price_usd");
    if let Some(n) = (0..given.len()).filter(llm_only).find(|n| given[*n]) {
        return Err(c.err(
            c.placement_key(i, LLM_PLACEMENT_KEYS[n]),
            "applies to LLM scenarios ([model] + [requests]) only: remove it",
        ));
    }
    if let PlacementKind::Pooled {
        dispatch: d @ (Dispatch::LeastKvLoad | Dispatch::PrefixAffinity),
        ..
    } = kind
    {
        return Err(c.err(c.placement_key(i, "dispatch"), format!("{} needs an LLM scenario: use central_queue, round_robin, join_shortest_queue or power_of_two_choices", d.name())));
    }
    Ok(())
}

/// A dedicated LLM placement sets no batching key.
pub(super) fn check_dedicated(
    c: &Check,
    i: usize,
    given: &[bool; 16],
) -> Result<(), ScenarioError> {
    for (n, k) in [
        (1usize, "tensor_parallel"),
        (3, "max_batch"),
        (5, "fast_forward"),
        (7, "chunked_prefill_tokens"),
        (11, "kv_allocation"),
    ] {
        if given[n] {
            return Err(c.err(
                c.placement_key(i, k),
                "a dedicated device serves one request at a time at batch 1: remove it",
            ));
        }
    }
    Ok(())
}
