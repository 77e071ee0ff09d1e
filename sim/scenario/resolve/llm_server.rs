//! The servers of an LLM placement: its device from the catalogue, its
//! serving engine and that pair's profile, tensor parallelism, batch size,
//! KV precision and allocation, network round trip, site PUE, and the
//! roofline step costs of the scenario's model on it (which must fit one
//! large request).

use std::path::Path;

use crate::llm::engines::KvPolicy;
use crate::llm::roofline::{KvPrecision, ServingCost, ServingOptions};

/// Power usage effectiveness of a datacenter when a placement gives none
/// [E]: between hyperscale sites (~1.1) and the industry average (~1.5).
pub const DEFAULT_POOLED_PUE: f64 = 1.3;

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
        (&key("lifetime_years"), p.lifetime_years),
    )?;
    let own = own_model(c, i, p, &catalog, l)?;
    let l = own.as_ref().unwrap_or(l);
    let tp = p.tensor_parallel.unwrap_or(1);
    if tp == 0 || tp > 64 {
        return Err(c.err(
            key("tensor_parallel"),
            format!("must be between 1 and 64 (got {tp})"),
        ));
    }
    let options = serving_options(c, i, p, &catalog, &device, l, tp)?;
    let engine_max_batch = options.max_batch();
    let max_batch = if dedicated {
        1
    } else {
        p.max_batch.unwrap_or(engine_max_batch)
    };
    if max_batch == 0 || max_batch > 65_536 {
        return Err(c.err(
            key("max_batch"),
            format!("must be between 1 and 65536 (got {max_batch})"),
        ));
    }
    let pue = p
        .pue
        .unwrap_or(if dedicated { 1.0 } else { DEFAULT_POOLED_PUE });
    if !(pue.is_finite() && (1.0..=3.0).contains(&pue)) {
        return Err(c.err(key("pue"), format!("must be between 1 and 3 (got {pue}): the site's wall power over its IT power (1.0 at home, ~1.1-1.6 for datacenters)")));
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
    let cost = ServingCost::new(&device, &l.model, &options)
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
        kv_fixed_tokens_per_seq: cost.kv_fixed_tokens_per_sequence(),
        kv_policy: options.engine.kv,
        engine: options.engine.name.clone(),
        pue,
        max_batch,
        network_rtt_s: rtt,
        network_rtt: rtt_dist,
        fast_forward: p.fast_forward.unwrap_or(true),
        chunked_prefill_tokens: match p.chunked_prefill_tokens {
            None if dedicated => None,
            None => options.chunked_prefill_tokens(),
            // 0 turns the engine's chunked prefill off: separate prefill steps.
            Some(0) => None,
            Some(n) => Some(n),
        },
        capex_per_device_usd: device.capex_usd(l.memory_price_multiplier),
        device,
        prefix_caching: p.prefix_caching.unwrap_or(false),
        own_model: own
            .as_ref()
            .map(|o| (o.model.name.clone(), o.quantisation.clone())),
        disaggregated: super::disagg::resolve_disaggregation(
            c,
            i,
            p,
            dedicated,
            cost.kv_bytes_per_token(),
        )?,
    })
}

/// A placement's own `model` (a smaller model on a fallback device, or a
/// what-if): its classes' workload served by that model instead (the same
/// requests, the same token counts), None without the key.
fn own_model(
    c: &Check,
    i: usize,
    p: &RawPlacement,
    catalog: &crate::llm::catalog::Catalog,
    l: &LlmWorkload,
) -> Result<Option<LlmWorkload>, ScenarioError> {
    let Some(m) = &p.model else {
        return Ok(None);
    };
    let key = c.placement_key(i, "model");
    let model = catalog
        .model(&m.name)
        .map_err(|e| c.err_because(format!("{key}.name"), e.to_string(), e))?;
    if !model.weights_gb.contains_key(&m.quantisation) {
        return Err(c.err(
            format!("{key}.quantisation"),
            format!(
                "{:?} is not listed for {}: use one of {}",
                m.quantisation,
                model.name,
                model.quantisations()
            ),
        ));
    }
    let mut own = l.clone();
    own.model = model.clone();
    own.quantisation = m.quantisation.clone();
    Ok(Some(own))
}

/// The engine, its profile on the device and the KV options of placement
/// `p` (resolved as number `i`).
fn serving_options(
    c: &Check,
    i: usize,
    p: &RawPlacement,
    catalog: &crate::llm::catalog::Catalog,
    device: &crate::llm::catalog::Device,
    l: &LlmWorkload,
    tp: u32,
) -> Result<ServingOptions, ScenarioError> {
    let key = |k: &str| c.placement_key(i, k);
    if p.tp_efficiency.is_some() {
        return Err(c.err(
            key("tp_efficiency"),
            "was removed: tensor parallelism now costs time per step (two all-reduces per layer, \
             from the engine profile's allreduce_latency_s and the device's link_gb_s); remove it",
        ));
    }
    let engine_name = p.engine.as_deref();
    let mut options =
        ServingOptions::from_catalog(catalog, device, &l.model, &l.quantisation, tp, engine_name)
            .map_err(|e| {
            c.err_because(
                key(if engine_name.is_some() {
                    "engine"
                } else {
                    "device"
                }),
                e.to_string(),
                e,
            )
        })?;
    for (name, given, what) in [
        (
            "bandwidth_efficiency",
            p.bandwidth_efficiency,
            "peak memory bandwidth",
        ),
        ("compute_efficiency", p.compute_efficiency, "peak compute"),
    ] {
        let Some(e) = given else { continue };
        if !(e.is_finite() && e > 0.0 && e <= 1.0) {
            return Err(c.err(
                key(name),
                format!("must be above 0 and at most 1 (got {e}): the achieved share of the device's {what}, replacing the engine profile's fitted value"),
            ));
        }
        let eff = crate::llm::engines::Efficiency::uniform(e);
        if name == "bandwidth_efficiency" {
            options.profile.bandwidth_efficiency = eff;
        } else {
            options.profile.compute_efficiency = eff;
        }
    }
    if let Some(k) = &p.kv_precision {
        options.kv_precision = KvPrecision::parse(k).ok_or_else(|| {
            c.err(
                key("kv_precision"),
                format!("must be \"bf16\" or \"fp8\" (got \"{k}\")"),
            )
        })?;
    }
    match p.kv_allocation.as_deref() {
        None => {}
        Some("reserved") => options.engine.kv = KvPolicy::Reserved,
        Some("paged") if options.engine.kv == KvPolicy::Reserved => {
            options.engine.kv = KvPolicy::Paged { block_tokens: 16 };
        }
        Some("paged") => {}
        Some(other) => {
            return Err(c.err(
                key("kv_allocation"),
                format!("must be \"paged\" or \"reserved\" (got \"{other}\")"),
            ))
        }
    }
    Ok(options)
}
