//! The device and model catalogue a scenario uses: the shipped files or
//! those `[catalog]` names, and catalogue devices looked up by placements
//! (with their `price_usd` override). Catalogue errors are kept as sources.

use std::path::{Path, PathBuf};

use crate::llm::catalog::{Catalog, Device};

use super::super::check::Check;
use super::super::raw::RawCatalogFiles;
use super::super::ScenarioError;

/// Load the catalogue: the shipped files, or those `files` names.
pub(super) fn load_catalog(
    c: &Check,
    files: Option<&RawCatalogFiles>,
    base_dir: &Path,
) -> Result<Catalog, ScenarioError> {
    use crate::llm::catalog::{
        BUILTIN_DEVICES_PATH, BUILTIN_DEVICES_TOML, BUILTIN_MODELS_PATH, BUILTIN_MODELS_TOML,
    };
    let read = |key: &str,
                f: Option<&String>,
                builtin: &'static str,
                builtin_path: &str|
     -> Result<(String, PathBuf), ScenarioError> {
        match f {
            None => Ok((builtin.to_string(), PathBuf::from(builtin_path))),
            Some(f) => {
                let p = base_dir.join(f);
                std::fs::read_to_string(&p)
                    .map(|t| (t, p.clone()))
                    .map_err(|e| c.err_because(key, format!("cannot read {}: {e}", p.display()), e))
            }
        }
    };
    let (dev, dev_path) = read(
        "catalog.devices_file",
        files.and_then(|f| f.devices_file.as_ref()),
        BUILTIN_DEVICES_TOML,
        BUILTIN_DEVICES_PATH,
    )?;
    let (mods, mods_path) = read(
        "catalog.models_file",
        files.and_then(|f| f.models_file.as_ref()),
        BUILTIN_MODELS_TOML,
        BUILTIN_MODELS_PATH,
    )?;
    // The shipped catalogue is parsed once per process (every LLM
    // placement of every sweep point loads it).
    static BUILTIN: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    if files.is_none_or(|f| f.devices_file.is_none() && f.models_file.is_none()) {
        if let Some(parsed) = BUILTIN.get() {
            return Ok(parsed.clone());
        }
    }
    let parsed = Catalog::from_toml(&dev, &dev_path, &mods, &mods_path)
        .map_err(|e| c.err_because("catalog", e.to_string(), e))?;
    if files.is_none_or(|f| f.devices_file.is_none() && f.models_file.is_none()) {
        let _ = BUILTIN.set(parsed.clone());
    }
    Ok(parsed)
}

/// Catalogue device `name` (named at `key`), its price replaced by
/// `price_usd` (at `price_key`) when given.
pub(super) fn priced_device(
    c: &Check,
    catalog: &Catalog,
    key: &str,
    name: &str,
    price_key: &str,
    price_usd: Option<f64>,
    lifetime: (&str, Option<f64>),
) -> Result<Device, ScenarioError> {
    let mut device = catalog
        .device(name)
        .map_err(|e| c.err_because(key, e.to_string(), e))?
        .clone();
    if let Some(price) = price_usd {
        device.price_usd = c.positive(price_key, price)?;
    }
    if let (key, Some(years)) = lifetime {
        if !(years.is_finite() && (0.1..=50.0).contains(&years)) {
            return Err(c.err(
                key,
                format!("must be between 0.1 and 50 years (got {years}): the years one device serves before it is replaced"),
            ));
        }
        device.ownership.lifetime_years = years;
    }
    Ok(device)
}
