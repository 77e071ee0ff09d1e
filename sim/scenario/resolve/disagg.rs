//! `[placements.disaggregated]`: a pooled LLM placement's prefill and
//! decode pools and the link that carries KV between them.

use super::super::check::Check;
use super::super::placement::{Disaggregation, DEFAULT_LINK_GB_PER_S, DEFAULT_LINK_LATENCY_S};
use super::super::raw::RawPlacement;
use super::super::ScenarioError;

/// A disaggregated pooled placement's servers: both pools together (and
/// `servers`, when also given, must be that sum); None without the table.
pub(super) fn disaggregated_servers(
    c: &Check,
    i: usize,
    p: &RawPlacement,
) -> Result<Option<u64>, ScenarioError> {
    let Some(d) = &p.disaggregated else {
        return Ok(None);
    };
    let key = |k: &str| c.placement_key(i, &format!("disaggregated.{k}"));
    let pool = |k: &str, v: Option<u64>| -> Result<u64, ScenarioError> {
        match v {
            None => Err(c.err(
                key(k),
                format!("missing: a disaggregated placement needs `{k}` (at least 1)"),
            )),
            Some(0) => Err(c.err(
                key(k),
                "must be at least 1 (got 0): each pool needs a server",
            )),
            Some(n) if n > 5_000_000 => {
                Err(c.err(key(k), format!("must be at most 5000000 (got {n})")))
            }
            Some(n) => Ok(n),
        }
    };
    let total =
        pool("prefill_servers", d.prefill_servers)? + pool("decode_servers", d.decode_servers)?;
    if let Some(n) = p.servers.filter(|&n| n != total) {
        return Err(c.err(
            c.placement_key(i, "servers"),
            format!("is {n}, but the disaggregated pools hold {total}: remove `servers` (it is prefill_servers + decode_servers)"),
        ));
    }
    Ok(Some(total))
}

/// The disaggregation of LLM placement `p` (resolved as number `i`), whose
/// model holds `kv_bytes_per_token` of KV per context token.
pub(super) fn resolve_disaggregation(
    c: &Check,
    i: usize,
    p: &RawPlacement,
    dedicated: bool,
    kv_bytes_per_token: f64,
) -> Result<Option<Disaggregation>, ScenarioError> {
    let Some(d) = &p.disaggregated else {
        return Ok(None);
    };
    let key = |k: &str| c.placement_key(i, &format!("disaggregated.{k}"));
    if dedicated {
        return Err(c.err(
            c.placement_key(i, "disaggregated"),
            "a dedicated device prefills and decodes its own requests: remove [placements.disaggregated] or use kind = \"pooled\"",
        ));
    }
    let gb = d.link_gb_per_s.unwrap_or(DEFAULT_LINK_GB_PER_S);
    if gb.is_nan() || gb <= 0.0 {
        return Err(c.err(
            key("link_gb_per_s"),
            format!("must be above 0 (got {gb}): GB/s of one KV transfer, e.g. 50 for a 400 Gb/s InfiniBand port, inf for an ideal link"),
        ));
    }
    let latency = d.link_latency_s.unwrap_or(DEFAULT_LINK_LATENCY_S);
    c.non_negative(&key("link_latency_s"), latency)?;
    let prefill_servers = d
        .prefill_servers
        .expect("checked with the placement's kind") as usize;
    Ok(Some(Disaggregation {
        prefill_servers,
        link_bytes_per_s: gb * 1e9,
        link_latency_s: latency,
        kv_bytes_per_token,
        sized: Default::default(),
    }))
}
