//! `[sizing]`: pool sizes, the largest fleet, the fewest measured requests,
//! and the catalogue devices every dedicated placement is also sized on.

use std::path::Path;

use super::super::check::Check;
use super::super::model::{ReactiveConfig, SizingConfig};
use super::super::raw::{RawCatalogFiles, RawReactive, RawSizing};
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
    let availability_target = match raw.and_then(|r| r.availability_target) {
        Some(a) if !(a.is_finite() && a > 0.0 && a <= 1.0) => {
            return Err(c.err(
                "sizing.availability_target",
                format!("must be a share between 0 (excluded) and 1, e.g. 0.999 for 99.9 % of a year's requests within the service level (got {a})"),
            ))
        }
        a => a,
    };
    let elastic = match raw.and_then(|r| r.elastic.as_deref()) {
        None | Some("static") => false,
        Some("hourly") => true,
        Some(other) => {
            return Err(c.err(
                "sizing.elastic",
                format!("unknown policy {other:?}: use \"static\" (one fleet all day) or \"hourly\" (sized hour by hour); a reactive autoscaler is its own table, [sizing.reactive]"),
            ))
        }
    };
    if raw.is_some_and(|r| r.billing.is_some()) {
        return Err(c.err(
            "sizing.billing",
            "was removed: a pooled placement's `ownership` says how its fleet is paid for: `ownership = \"rented\"` (per GPU-hour held) or `\"owned\"` (the default: bought, an elastic fleet owns its peak); remove `billing`",
        ));
    }
    let reactive = raw
        .and_then(|r| r.reactive.as_ref())
        .map(|r| resolve_reactive(c, r))
        .transpose()?;
    Ok(SizingConfig {
        pool_sizes,
        max_servers,
        min_measured_requests,
        availability_target,
        elastic,
        reactive,
        autoscaler: None,
    })
}

/// Resolve `[sizing.reactive]`.
fn resolve_reactive(c: &Check, r: &RawReactive) -> Result<ReactiveConfig, ScenarioError> {
    use crate::engine::ScaleMetric;
    let (metric, given, key, unit, example) = match (&r.target_in_flight, &r.target_requests_per_s) {
        (Some(_), Some(_)) => {
            return Err(c.err(
                "sizing.reactive.target_requests_per_s",
                "give either `target_in_flight` (the scaler reads requests in flight) or `target_requests_per_s` (it reads the arrival rate), not both",
            ))
        }
        (None, Some(v)) => (
            ScaleMetric::RequestsPerS,
            Some(v),
            "sizing.reactive.target_requests_per_s",
            "requests per second per server",
            "e.g. 4, or a list to try, e.g. [3, 4, 5]",
        ),
        (given, None) => (
            ScaleMetric::InFlight,
            given.as_ref(),
            "sizing.reactive.target_in_flight",
            "requests in flight per server",
            "e.g. 16, or a list to try, e.g. [8, 16, 32]",
        ),
    };
    let bad = |v: &toml::Value| {
        c.err(
            key,
            format!("{v} is not a target: use {unit} above 0, {example}"),
        )
    };
    let one = |v: &toml::Value| match v {
        toml::Value::Integer(k) if *k > 0 => Ok(*k as f64),
        toml::Value::Float(x) if x.is_finite() && *x > 0.0 => Ok(*x),
        _ => Err(bad(v)),
    };
    let mut targets = match given {
        None => vec![8.0, 16.0, 32.0, 64.0],
        Some(toml::Value::Array(list)) if !list.is_empty() => {
            list.iter().map(one).collect::<Result<Vec<f64>, _>>()?
        }
        Some(v @ toml::Value::Array(_)) => return Err(bad(v)),
        Some(v) => vec![one(v)?],
    };
    targets.sort_by(f64::total_cmp);
    targets.dedup();
    let minutes =
        |k: &str, v: Option<f64>, default: f64, least: f64| -> Result<f64, ScenarioError> {
            match v {
                None => Ok(default),
                Some(x)
                    if x.is_finite() && x >= least && x <= 1440.0 && (least == 0.0 || x > 0.0) =>
                {
                    Ok(x)
                }
                Some(x) => Err(c.err(
                    format!("sizing.reactive.{k}"),
                    format!(
                        "must be minutes between {} and 1440 (got {x})",
                        if least == 0.0 { "0" } else { "0 (excluded)" }
                    ),
                )),
            }
        };
    let delay_min = minutes("delay_min", r.delay_min, 0.0, 0.0)?;
    let interval_min = minutes("interval_min", r.interval_min, 1.0, f64::MIN_POSITIVE)?;
    let stabilization_min = minutes("stabilization_min", r.stabilization_min, 5.0, 0.0)?;
    let min_servers = match r.min_servers {
        Some(0) => {
            return Err(c.err(
                "sizing.reactive.min_servers",
                "must be at least 1 (a fleet that scales to zero is not modelled)",
            ))
        }
        Some(n) => n as usize,
        None => 1,
    };
    let max_servers = match r.max_servers {
        Some(n) if (n as usize) < min_servers => {
            return Err(c.err(
                "sizing.reactive.max_servers",
                format!("{n} is below min_servers ({min_servers}): raise it or remove it (default: twice the static fleet)"),
            ))
        }
        Some(n) => Some(n as usize),
        None => None,
    };
    Ok(ReactiveConfig {
        metric,
        targets,
        delay_s: delay_min * 60.0,
        interval_s: interval_min * 60.0,
        stabilization_s: stabilization_min * 60.0,
        min_servers,
        max_servers,
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
