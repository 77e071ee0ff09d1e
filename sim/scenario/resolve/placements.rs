//! `[[placements]]`: each one's kind (dedicated, or pooled with its servers
//! and dispatch), its LLM servers or the catalogue device pricing a generic
//! one, its service-time scale, and the same dedicated placement on the
//! devices of `[sizing] dedicated_devices`.

use std::path::Path;

use crate::engine::fcfs::Dispatch;

use super::super::check::Check;
use super::super::placement::{Placement, PlacementKind, PricedDevice, MAX_SERVICE_SCALE};
use super::super::raw::{RawCatalogFiles, RawPlacement, RawScenario};
use super::super::{ScenarioError, SpeechTask, Workload};
use super::catalogue::{load_catalog, priced_device};
use super::llm_server::resolve_llm_server;
use super::sizing::dedicated_device_names;

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
    let choices = dedicated_device_names(c, raw.sizing.as_ref(), cx.catalog_files, cx.base_dir)?;
    // Why a device cannot serve is quoted in another message: without the class.
    let quoted = c.unscoped();
    for (i, p) in raw.placements.iter().enumerate() {
        if placements[i].kind != PlacementKind::Dedicated {
            continue;
        }
        for name in &choices {
            let mut q = p.clone();
            q.device = Some(name.clone());
            q.price_usd = None;
            let alt = resolve_placement(&quoted, i, &q, cx).map_err(|e| match e {
                ScenarioError::Invalid { message, .. }
                | ScenarioError::InvalidBecause { message, .. } => message,
                other => other.to_string(),
            });
            placements[i].device_alternatives.push((name.clone(), alt));
        }
    }
    Ok(placements)
}

/// Mean device time of one request served alone: the first dedicated
/// placement's device (else the first placement's) defines the duty cycle.
pub(super) fn reference_service_s(workload: &Workload, placements: &[Placement]) -> f64 {
    let reference = placements
        .iter()
        .find(|p| p.kind == PlacementKind::Dedicated)
        .unwrap_or(&placements[0]);
    match workload {
        Workload::Generic { service } => service.mean() * reference.service_scale_by_class[0],
        Workload::Llm(_) => {
            reference
                .llm
                .as_ref()
                .expect("LLM placements resolved")
                .mean_request_s
        }
    }
}

fn parse_dispatch(s: &str) -> Option<Dispatch> {
    Some(match s {
        "central_queue" => Dispatch::CentralQueue,
        "round_robin" => Dispatch::RoundRobin,
        "join_shortest_queue" => Dispatch::JoinShortestQueue,
        "power_of_two_choices" => Dispatch::PowerOfTwoChoices,
        "least_kv_load" => Dispatch::LeastKvLoad,
        _ => return None,
    })
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
            let servers = p.servers.ok_or_else(|| {
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

/// Resolve placement `p` (resolved as number `i`).
fn resolve_placement(
    c: &Check,
    i: usize,
    p: &RawPlacement,
    cx: &PlacementContext,
) -> Result<Placement, ScenarioError> {
    let kind = placement_kind(c, i, p)?;
    let llm = resolve_llm_server(c, i, p, &kind, cx.workload, cx.catalog_files, cx.base_dir)?;
    // Generic placements may name a catalogue device: it prices them
    // and gives speech classes their real-time factor.
    let priced_device = match (cx.workload, &p.device) {
        (Workload::Generic { .. }, Some(name)) => {
            let catalog = load_catalog(c, cx.catalog_files, cx.base_dir)?;
            let device = priced_device(
                c,
                &catalog,
                &c.placement_key(i, "device"),
                name,
                &c.placement_key(i, "price_usd"),
                p.price_usd,
            )?;
            Some(PricedDevice {
                capex_per_device_usd: device.capex_usd(cx.memory_price_multiplier),
                device,
            })
        }
        _ => None,
    };
    let service_scale = service_scale(c, i, p, cx, priced_device.as_ref())?;
    Ok(Placement {
        name: p.name.clone(),
        kind,
        serves: vec![0],
        service_scale_by_class: vec![service_scale],
        llm,
        priced_device,
        stream_id: i as u64,
        device_alternatives: Vec::new(),
    })
}

/// The multiplier on generic service times: `service_scale`, or a speech
/// task's catalogue real-time factor, else 1.
fn service_scale(
    c: &Check,
    i: usize,
    p: &RawPlacement,
    cx: &PlacementContext,
    priced: Option<&PricedDevice>,
) -> Result<f64, ScenarioError> {
    let key = |k: &str| c.placement_key(i, k);
    Ok(match (p.service_scale, cx.workload, cx.task, priced) {
        (Some(_), Workload::Llm(_), ..) => {
            return Err(c.err(
                key("service_scale"),
                "LLM service times come from the device and model: remove it",
            ))
        }
        (Some(x), Workload::Generic { .. }, ..) => {
            // A multiplier on service times: beyond 1e6 the scaled times
            // overflow the statistics (found by fuzzing), and no device is a
            // million times slower than another.
            let x = c.positive(&key("service_scale"), x)?;
            if x > MAX_SERVICE_SCALE {
                return Err(c.err(
                    key("service_scale"),
                    format!("must be at most {MAX_SERVICE_SCALE:e} (got {x:e}): a multiplier on the service time, e.g. 0.1 for a real-time factor of 0.1"),
                ));
            }
            x
        }
        (None, Workload::Generic { .. }, Some(t), Some(d)) => t.rtf(&d.device).ok_or_else(|| {
            c.err(
                key("device"),
                format!(
                    "{} has no {} in the catalogue: add it to the device, or give the placement `service_scale`",
                    d.device.name,
                    t.rtf_key()
                ),
            )
        })?,
        (None, Workload::Generic { .. }, Some(t), None) => {
            return Err(c.err(
                key("device"),
                format!("missing: a placement serving {} requests needs `device` (its catalogue {}) or `service_scale`", t.name(), t.rtf_key()),
            ))
        }
        (None, ..) => 1.0,
    })
}
