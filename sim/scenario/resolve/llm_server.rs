//! The servers of an LLM placement: its device from the catalogue, tensor
//! parallelism, batch size, network round trip, and the roofline step costs
//! of the scenario's model on it (which must fit one large request).

use std::path::Path;

use crate::llm::roofline::ServingCost;

use super::super::check::Check;
use super::super::placement::{LlmServer, PlacementKind};
use super::super::raw::{RawCatalogFiles, RawPlacement};
use super::super::views::{mean_single_request_s, typical_large_request_tokens};
use super::super::{LlmWorkload, ScenarioError, Workload};
use super::catalogue::{load_catalog, priced_device};
use super::dist::resolve_dist;
use super::llm_keys::{check_dedicated, check_generic, given_keys};

/// The LLM servers of placement `p` (resolved as number `i`), None for a
/// generic workload.
pub(super) fn resolve_llm_server(
    c: &Check,
    i: usize,
    p: &RawPlacement,
    kind: &PlacementKind,
    workload: &Workload,
    catalog_files: Option<&RawCatalogFiles>,
    base_dir: &Path,
) -> Result<Option<LlmServer>, ScenarioError> {
    let given = given_keys(p);
    let Workload::Llm(l) = workload else {
        check_generic(c, i, &given, kind)?;
        return Ok(None);
    };
    let dedicated = *kind == PlacementKind::Dedicated;
    if dedicated {
        check_dedicated(c, i, &given)?;
    }
    build_server(c, i, p, dedicated, l, catalog_files, base_dir).map(Some)
}

fn build_server(
    c: &Check,
    i: usize,
    p: &RawPlacement,
    dedicated: bool,
    l: &LlmWorkload,
    catalog_files: Option<&RawCatalogFiles>,
    base_dir: &Path,
) -> Result<LlmServer, ScenarioError> {
    let key = |k: &str| c.placement_key(i, k);
    let device_name = p.device.as_ref().ok_or_else(|| c.err(key("device"), "missing: an LLM placement needs `device`, a catalogue name such as \"h100_sxm\" or \"framework_desktop\""))?;
    let catalog = load_catalog(c, catalog_files, base_dir)?;
    let device = priced_device(
        c,
        &catalog,
        &key("device"),
        device_name,
        &key("price_usd"),
        p.price_usd,
    )?;
    let tp = p.tensor_parallel.unwrap_or(1);
    if tp == 0 || tp > 64 {
        return Err(c.err(
            key("tensor_parallel"),
            format!("must be between 1 and 64 (got {tp})"),
        ));
    }
    let tp_eff = p.tp_efficiency.unwrap_or(0.9);
    if !(tp_eff > 0.0 && tp_eff <= 1.0) {
        return Err(c.err(
            key("tp_efficiency"),
            format!("must be in (0, 1] (got {tp_eff})"),
        ));
    }
    let max_batch = if dedicated {
        1
    } else {
        p.max_batch.unwrap_or(256)
    };
    if max_batch == 0 || max_batch > 65_536 {
        return Err(c.err(
            key("max_batch"),
            format!("must be between 1 and 65536 (got {max_batch})"),
        ));
    }
    let rtt = p
        .network_rtt_s
        .unwrap_or(if dedicated { 0.0 } else { 0.05 });
    c.non_negative(&key("network_rtt_s"), rtt)?;
    let rtt_dist = match (&p.network_rtt, p.network_rtt_s) {
        (Some(_), Some(_)) => return Err(c.err(
            key("network_rtt"),
            "give either `network_rtt_s` (a constant) or `network_rtt` (a distribution), not both",
        )),
        (Some(d), None) => Some(resolve_dist(c, &key("network_rtt"), d, base_dir)?),
        (None, _) => None,
    };
    // Reported (and used by the sizing bounds) as the mean round trip; the
    // lower bound for hopeless targets uses 0 with a distribution.
    let rtt = rtt_dist.as_ref().map_or(rtt, |d| d.mean());
    let cost = ServingCost::new(&device, &l.model, &l.quantisation, tp, tp_eff)
        .map_err(|e| c.err_because(key("device"), e.to_string(), e))?;
    // The device must hold the weights and one large request (99th
    // percentile of prompt + output).
    let big = typical_large_request_tokens(l);
    cost.check_fits(big).map_err(|e| {
        c.err_because(
            key("device"),
            format!("{e} (one request of {big} tokens: the 99th percentile of prompt + output)"),
            e,
        )
    })?;
    let step = cost.step_model();
    Ok(LlmServer {
        tensor_parallel: tp,
        mean_request_s: mean_single_request_s(l, &step),
        step,
        kv_budget_tokens: cost.kv_budget_tokens(),
        max_batch,
        network_rtt_s: rtt,
        network_rtt: rtt_dist,
        fast_forward: p.fast_forward.unwrap_or(true),
        chunked_prefill_tokens: match p.chunked_prefill_tokens {
            None => None,
            Some(0) => {
                return Err(c.err(
                    key("chunked_prefill_tokens"),
                    "must be at least 1 token per step (e.g. 512), or remove it",
                ))
            }
            Some(n) => Some(n),
        },
        capex_per_device_usd: device.capex_usd(l.memory_price_multiplier),
        device,
    })
}
