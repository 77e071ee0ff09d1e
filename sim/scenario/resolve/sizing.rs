//! `[sizing]`: pool sizes, the largest fleet, the fewest measured requests,
//! and the catalogue devices every dedicated placement is also sized on.

use std::path::Path;

use super::super::check::Check;
use super::super::model::{FleetBilling, SizingConfig};
use super::super::raw::{RawCatalogFiles, RawSizing};
use super::super::ScenarioError;
use super::catalogue::load_catalog;

/// Resolve `[sizing]` for a population of `users`.
pub(super) fn resolve_sizing(
    c: &Check,
    raw: Option<&RawSizing>,
    users: usize,
) -> Result<SizingConfig, ScenarioError> {
    let mut pool_sizes = Vec::new();
    if let Some(list) = raw.and_then(|r| r.pool_sizes.as_ref()) {
        if list.is_empty() {
            return Err(c.err(
                "sizing.pool_sizes",
                "is empty: list users per pool, e.g. [1, 4, 100, \"all\"], or remove the key",
            ));
        }
        for (i, v) in list.iter().enumerate() {
            let k = match v {
                toml::Value::Integer(k) if *k >= 1 => (*k as usize).min(users),
                toml::Value::String(a) if a == "all" => users,
                _ => {
                    return Err(c.err(
                        format!("sizing.pool_sizes[{i}]"),
                        format!("{v} is not a pool size: use a whole number of users (at least 1) or \"all\""),
                    ))
                }
            };
            pool_sizes.push(k);
        }
    } else {
        pool_sizes.push(users);
    }
    pool_sizes.sort_unstable();
    pool_sizes.dedup();
    let max_servers = match raw.and_then(|r| r.max_servers) {
        Some(0) => return Err(c.err("sizing.max_servers", "must be at least 1")),
        Some(n) => Some(n as usize),
        None => None,
    };
    let min_measured_requests = raw.and_then(|r| r.min_measured_requests).unwrap_or(20_000);
    if min_measured_requests == 0 {
        return Err(c.err("sizing.min_measured_requests", "must be at least 1"));
    }
    let elastic = match raw.and_then(|r| r.elastic.as_deref()) {
        None | Some("static") => false,
        Some("hourly") => true,
        Some(other) => {
            return Err(c.err(
                "sizing.elastic",
                format!("unknown policy {other:?}: use \"static\" (one fleet all day) or \"hourly\" (sized hour by hour)"),
            ))
        }
    };
    let billing = match raw.and_then(|r| r.billing.as_deref()) {
        None | Some("owned") => FleetBilling::Owned,
        Some("rental") => FleetBilling::Rental,
        Some(other) => {
            return Err(c.err(
                "sizing.billing",
                format!("unknown billing {other:?}: use \"owned\" (bought: a schedule owns its peak) or \"rental\" (paid per GPU-hour held)"),
            ))
        }
    };
    Ok(SizingConfig {
        pool_sizes,
        max_servers,
        min_measured_requests,
        elastic,
        billing,
    })
}

/// Device names of `[sizing] dedicated_devices` (empty without it).
pub(super) fn dedicated_device_names(
    c: &Check,
    sizing: Option<&RawSizing>,
    catalog_files: Option<&RawCatalogFiles>,
    base_dir: &Path,
) -> Result<Vec<String>, ScenarioError> {
    let Some(v) = sizing.and_then(|s| s.dedicated_devices.as_ref()) else {
        return Ok(Vec::new());
    };
    let catalog = load_catalog(c, catalog_files, base_dir)?;
    let known: Vec<String> = catalog.devices().map(|d| d.name.clone()).collect();
    let bad = || {
        c.err(
            "sizing.dedicated_devices",
            format!(
                "must be \"catalog\" (every device) or a list of device names from {}",
                known.join(", ")
            ),
        )
    };
    match v {
        toml::Value::String(s) if s == "catalog" => Ok(known),
        toml::Value::Array(list) if !list.is_empty() => {
            let mut out = Vec::new();
            for (i, item) in list.iter().enumerate() {
                let toml::Value::String(n) = item else {
                    return Err(bad());
                };
                if !known.contains(n) {
                    return Err(c.err(
                        format!("sizing.dedicated_devices[{i}]"),
                        format!("unknown device {n:?}: use one of {}", known.join(", ")),
                    ));
                }
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
            Ok(out)
        }
        _ => Err(bad()),
    }
}
