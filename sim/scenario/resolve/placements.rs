//! `[[placements]]`: each one's kind (dedicated, or pooled with its servers
//! and dispatch), its LLM servers or the catalogue device pricing a generic
//! one, and its service-time scale; the reference placement of a class.

use std::path::Path;

use crate::engine::fcfs::Dispatch;

use super::super::check::Check;
use super::super::placement::{Placement, PlacementKind, PricedDevice, Servers};
use super::super::raw::{RawCatalogFiles, RawPlacement, RawScenario};
use super::super::{ScenarioError, SpeechTask, Workload};
use super::catalogue::{load_catalog, priced_device};
use super::llm_server::resolve_llm_server;
use super::names::parse_dispatch;
use super::service_scale::service_scale;

/// What every placement of one resolution shares.
pub(super) struct PlacementContext<'a> {
    /// What requests are.
    pub workload: &'a Workload,
    /// The speech task of a speech class.
    pub task: Option<SpeechTask>,
    /// `[catalog]`.
    pub catalog_files: Option<&'a RawCatalogFiles>,
    /// The scenario file's folder.
    pub base_dir: &'a Path,
    /// `[costs] memory_price_multiplier`.
    pub memory_price_multiplier: f64,
    /// `[costs]` resolved.
    pub costs: &'a crate::scenario::Costs,
}

/// Every placement of `raw`, with its device alternatives.
pub(super) fn resolve_placements(
    c: &Check,
    raw: &RawScenario,
    cx: &PlacementContext,
) -> Result<Vec<Placement>, ScenarioError> {
    if raw.placements.is_empty() {
        return Err(c.err(
            "placements",
            "no placement: add at least one [[placements]] with kind = \"dedicated\" or \"pooled\"",
        ));
    }
    let mut placements: Vec<Placement> = Vec::with_capacity(raw.placements.len());
    for (i, p) in raw.placements.iter().enumerate() {
        if p.name.is_empty() || placements.iter().any(|q| q.name == p.name) {
            return Err(c.err(
                c.placement_key(i, "name"),
                format!(
                    "{:?}: each placement needs a distinct, non-empty name",
                    p.name
                ),
            ));
        }
        placements.push(resolve_placement(c, i, p, cx)?);
    }
    // The same dedicated placements on other catalogue devices.
    super::alternatives::resolve_alternatives(c, raw, cx, &mut placements)?;
    Ok(placements)
}

/// Mean device time of one request served alone: the first dedicated
/// placement's device (else the first placement's) defines the duty cycle,
/// of the placements serving the classes' own model (a placement with its
/// own `model`, e.g. a smaller fallback, is a reference only if all are).
pub(super) fn reference_service_s(workload: &Workload, placements: &[Placement]) -> f64 {
    let own_model = |p: &Placement| p.llm().is_some_and(|l| l.own_model.is_some());
    let reference = placements
        .iter()
        .find(|p| p.kind == PlacementKind::Dedicated && !own_model(p))
        .or_else(|| placements.iter().find(|p| !own_model(p)))
        .unwrap_or(&placements[0]);
    match workload {
        Workload::Generic { service } => service.mean() * reference.service_scale_by_class[0],
        Workload::Llm(_) => {
            reference
                .llm()
                .expect("LLM placements resolved")
                .mean_request_s
        }
    }
}

/// `kind`, with `servers` and `dispatch` for a pooled placement.
fn placement_kind(c: &Check, i: usize, p: &RawPlacement) -> Result<PlacementKind, ScenarioError> {
    let key = |k: &str| c.placement_key(i, k);
    match p.kind.as_str() {
        "dedicated" => {
            if p.servers.is_some() {
                return Err(c.err(
                    key("servers"),
                    "a dedicated placement has one device per user: remove `servers`",
                ));
            }
            if p.dispatch.is_some() {
                return Err(c.err(
                    key("dispatch"),
                    "a dedicated placement has no dispatch: remove `dispatch`",
                ));
            }
            Ok(PlacementKind::Dedicated)
        }
        "pooled" => {
            let servers = super::disagg::disaggregated_servers(c, i, p)?;
            let servers = servers.or(p.servers).ok_or_else(|| {
                c.err(
                    key("servers"),
                    "missing: a pooled placement needs `servers` (at least 1)",
                )
            })?;
            if servers == 0 || servers > 10_000_000 {
                return Err(c.err(
                    key("servers"),
                    format!("must be between 1 and 10000000 (got {servers})"),
                ));
            }
            let dispatch = match p.dispatch.as_deref() {
                None => Dispatch::CentralQueue,
                Some(d) => parse_dispatch(d).ok_or_else(|| {
                    c.err(
                        key("dispatch"),
                        format!(
                            "unknown dispatch {d:?}: use one of {}",
                            Dispatch::NAMES.join(", ")
                        ),
                    )
                })?,
            };
            Ok(PlacementKind::Pooled {
                servers: servers as usize,
                dispatch,
            })
        }
        other => Err(c.err(
            key("kind"),
            format!("unknown kind {other:?}: use \"dedicated\" or \"pooled\""),
        )),
    }
}

/// A generic placement may name a catalogue device: it prices it and gives
/// speech classes their real-time factor.
fn generic_device(
    c: &Check,
    i: usize,
    p: &RawPlacement,
    cx: &PlacementContext,
) -> Result<Option<PricedDevice>, ScenarioError> {
    let Some(name) = &p.device else {
        return Ok(None);
    };
    let catalog = load_catalog(c, cx.catalog_files, cx.base_dir)?;
    let device = priced_device(
        c,
        &catalog,
        &c.placement_key(i, "device"),
        name,
        &c.placement_key(i, "price_usd"),
        p.price_usd,
        (&c.placement_key(i, "lifetime_years"), p.lifetime_years),
    )?;
    Ok(Some(PricedDevice {
        capex_per_device_usd: device.capex_usd(cx.memory_price_multiplier),
        device,
    }))
}

/// Resolve placement `p` (resolved as number `i`).
pub(super) fn resolve_placement(
    c: &Check,
    i: usize,
    p: &RawPlacement,
    cx: &PlacementContext,
) -> Result<Placement, ScenarioError> {
    let kind = placement_kind(c, i, p)?;
    let servers =
        match resolve_llm_server(c, i, p, &kind, cx.workload, cx.catalog_files, cx.base_dir)? {
            Some(llm) => Servers::Llm(Box::new(llm)),
            None => Servers::Generic {
                priced_device: generic_device(c, i, p, cx)?.map(Box::new),
            },
        };
    if let (Some(_), Servers::Generic { .. }) = (&p.disaggregated, &servers) {
        return Err(c.err(
            c.placement_key(i, "disaggregated"),
            "prefill/decode disaggregation applies to LLM scenarios ([model] + [requests]) only: remove [placements.disaggregated]",
        ));
    }
    let priced = match &servers {
        Servers::Generic { priced_device } => priced_device.as_deref(),
        Servers::Llm(_) => None,
    };
    let service_scale = service_scale(c, i, p, cx, priced)?;
    let device = match &servers {
        Servers::Llm(l) => Some(&l.device),
        Servers::Generic { priced_device } => priced_device.as_deref().map(|d| &d.device),
    };
    let billing = super::costs::resolve_billing(c, i, p, &kind, device, cx.costs)?;
    Ok(Placement {
        name: p.name.clone(),
        kind,
        serves: vec![0],
        service_scale_by_class: vec![service_scale],
        servers,
        stream_id: i as u64,
        device_alternatives: Vec::new(),
        billing,
        outage: Default::default(),
        models: Vec::new(),
    })
}
