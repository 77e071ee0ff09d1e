//! Serving engines and the step-cost profiles of (device, engine) pairs:
//! `scenarios/catalog/engines.toml`, overlaid by the fitted values of
//! `scenarios/catalog/calibrated.toml` (written by `sharesim calibrate
//! --write`), parsed and validated into [`Engine`] and [`Profile`].
//!
//! A profile may start from another (`like = "h100_sxm.vllm"`); it is
//! resolved after the overlay, so a profile copied from a fitted one carries
//! the fitted values. Every error names the file and the key.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::llm::catalog::CatalogError;

/// The shipped engine file, embedded at build time.
pub const BUILTIN_ENGINES_TOML: &str = include_str!("../../scenarios/catalog/engines.toml");
/// The shipped fitted values, embedded at build time.
pub const BUILTIN_CALIBRATED_TOML: &str = include_str!("../../scenarios/catalog/calibrated.toml");
/// Repository path of the shipped engine file.
pub const BUILTIN_ENGINES_PATH: &str = "scenarios/catalog/engines.toml";
/// Repository path of the shipped fitted values.
pub const BUILTIN_CALIBRATED_PATH: &str = "scenarios/catalog/calibrated.toml";

/// How an engine holds the KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvPolicy {
    /// Blocks of `block_tokens` allocated as sequences grow; preemption
    /// (recompute) when the cache is full.
    Paged {
        /// Tokens per block.
        block_tokens: u32,
    },
    /// A request's whole context reserved at admission.
    Reserved,
}

/// How the engine's weight files store a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightsFormat {
    /// The published checkpoint (safetensors).
    Checkpoint,
    /// llama.cpp's GGUF files.
    Gguf,
}

/// What a serving engine does, whatever the chip.
#[derive(Debug, Clone, PartialEq)]
pub struct Engine {
    /// Engine name, e.g. `vllm`.
    pub name: String,
    /// KV cache allocation.
    pub kv: KvPolicy,
    /// Most sequences in one step.
    pub max_batch: u32,
    /// Chunked prefill budget per step, tokens.
    pub chunked_prefill_tokens: Option<u32>,
    /// Weight file layout.
    pub weights_format: WeightsFormat,
}

/// An efficiency that may differ by quantisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Efficiency {
    /// Used when the quantisation has no entry.
    pub default: f64,
    /// Per quantisation name.
    pub by_quantisation: BTreeMap<String, f64>,
}

impl Efficiency {
    /// A single value for every quantisation.
    pub fn uniform(v: f64) -> Self {
        Efficiency {
            default: v,
            by_quantisation: BTreeMap::new(),
        }
    }

    /// The value for `quantisation`.
    pub fn at(&self, quantisation: &str) -> f64 {
        *self
            .by_quantisation
            .get(quantisation)
            .unwrap_or(&self.default)
    }
}

/// Step-cost parameters of one (device, engine) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Fixed cost per step and per model layer, seconds.
    pub layer_overhead_s: f64,
    /// Cost per sequence in a step, seconds.
    pub sequence_overhead_s: f64,
    /// Latency of one tensor-parallel all-reduce, seconds.
    pub allreduce_latency_s: f64,
    /// Achieved share of peak memory bandwidth, `e_m`.
    pub bandwidth_efficiency: Efficiency,
    /// Achieved share of peak compute, `e_c`.
    pub compute_efficiency: Efficiency,
    /// Overrides of the engine's batch limit.
    pub max_batch: Option<u32>,
    /// Override of the engine's chunked prefill budget.
    pub chunked_prefill_tokens: Option<u32>,
    /// Where the values come from.
    pub source: String,
    /// Keys whose values come from calibrated.toml (fitted).
    pub fitted: Vec<String>,
    /// The (device, engine) profile this one copies (`like`), if any.
    pub like: Option<(String, String)>,
}

/// Device power values fitted by calibration (override devices.toml).
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerOverride {
    /// Board power when idle, W.
    pub idle_w: Option<f64>,
    /// Board power above idle while streaming memory, W.
    pub memory_power_w: Option<f64>,
    /// Board power above idle while compute bound, W.
    pub compute_power_w: Option<f64>,
}

/// Engines, profiles, expert routing and fitted power values.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineCatalog {
    pub(crate) engines: BTreeMap<String, Engine>,
    pub(crate) profiles: BTreeMap<(String, String), Profile>,
    pub(crate) routing: BTreeMap<(String, String), f64>,
    pub(crate) power: BTreeMap<String, PowerOverride>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EnginesFile {
    #[serde(default)]
    engines: BTreeMap<String, RawEngine>,
    #[serde(default)]
    profiles: BTreeMap<String, BTreeMap<String, RawProfile>>,
    #[serde(default)]
    expert_routing: BTreeMap<String, BTreeMap<String, RawRouting>>,
    #[serde(default)]
    power: BTreeMap<String, PowerOverride>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEngine {
    kv_allocation: String,
    kv_block_tokens: Option<u32>,
    max_batch: u32,
    chunked_prefill_tokens: Option<u32>,
    weights_format: WeightsFormat,
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    like: Option<String>,
    layer_overhead_s: Option<f64>,
    sequence_overhead_s: Option<f64>,
    allreduce_latency_s: Option<f64>,
    bandwidth_efficiency: Option<RawEfficiency>,
    compute_efficiency: Option<RawEfficiency>,
    max_batch: Option<u32>,
    chunked_prefill_tokens: Option<u32>,
    source: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct RawRouting {
    pool_share: f64,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum RawEfficiency {
    One(f64),
    Table(BTreeMap<String, f64>),
}

fn parse<T: serde::de::DeserializeOwned>(text: &str, file: &Path) -> Result<T, CatalogError> {
    crate::core::error::deserialize_toml(text).map_err(|(key, message)| CatalogError::Parse {
        file: file.to_path_buf(),
        key,
        message,
    })
}

fn invalid(file: &Path, key: String, message: impl Into<String>) -> CatalogError {
    CatalogError::Invalid {
        file: file.to_path_buf(),
        key,
        message: message.into(),
    }
}

impl EngineCatalog {
    /// The shipped engines and fitted values.
    pub fn builtin() -> Result<EngineCatalog, CatalogError> {
        EngineCatalog::from_toml(
            BUILTIN_ENGINES_TOML,
            Path::new(BUILTIN_ENGINES_PATH),
            BUILTIN_CALIBRATED_TOML,
            Path::new(BUILTIN_CALIBRATED_PATH),
        )
    }

    /// The shipped engines without fitted values (the calibration's priors).
    pub fn priors() -> Result<EngineCatalog, CatalogError> {
        EngineCatalog::from_toml(
            BUILTIN_ENGINES_TOML,
            Path::new(BUILTIN_ENGINES_PATH),
            "",
            Path::new(BUILTIN_CALIBRATED_PATH),
        )
    }

    /// Parses an engine file and the fitted values laid over it.
    pub fn from_toml(
        engines_toml: &str,
        engines_file: &Path,
        calibrated_toml: &str,
        calibrated_file: &Path,
    ) -> Result<EngineCatalog, CatalogError> {
        let base: EnginesFile = parse(engines_toml, engines_file)?;
        let fitted: EnginesFile = parse(calibrated_toml, calibrated_file)?;
        if !fitted.engines.is_empty() {
            return Err(invalid(
                calibrated_file,
                "engines".into(),
                "holds engine definitions; they belong in engines.toml (this file holds fitted values only)",
            ));
        }
        let engines = base
            .engines
            .iter()
            .map(|(name, raw)| Ok((name.clone(), resolve_engine(engines_file, name, raw)?)))
            .collect::<Result<BTreeMap<_, _>, CatalogError>>()?;
        let mut raw_profiles = BTreeMap::new();
        for (device, by_engine) in &base.profiles {
            for (engine, raw) in by_engine {
                if !engines.contains_key(engine) {
                    return Err(invalid(
                        engines_file,
                        format!("profiles.{device}.{engine}"),
                        format!("names engine `{engine}`, which has no [engines.{engine}] table; known: {}", join(engines.keys())),
                    ));
                }
                raw_profiles.insert((device.clone(), engine.clone()), (raw.clone(), Vec::new()));
            }
        }
        overlay_fitted(&fitted, calibrated_file, &mut raw_profiles)?;
        let mut profiles = BTreeMap::new();
        for key in raw_profiles.keys() {
            let p = resolve_profile(engines_file, key, &raw_profiles, 0)?;
            profiles.insert(key.clone(), p);
        }
        let mut routing = BTreeMap::new();
        for file in [(&base, engines_file), (&fitted, calibrated_file)] {
            for (model, by_engine) in &file.0.expert_routing {
                for (engine, r) in by_engine {
                    let key = format!("expert_routing.{model}.{engine}.pool_share");
                    if !(r.pool_share.is_finite() && r.pool_share > 0.0 && r.pool_share <= 1.0) {
                        return Err(invalid(file.1, key, format!("must be greater than 0 and at most 1 (got {}): the share of a layer's experts a batch draws from", r.pool_share)));
                    }
                    routing.insert((model.clone(), engine.clone()), r.pool_share);
                }
            }
        }
        Ok(EngineCatalog {
            engines,
            profiles,
            routing,
            power: fitted.power,
        })
    }

    /// The engine called `name`; the error lists the known engines.
    pub fn engine(&self, name: &str) -> Result<&Engine, CatalogError> {
        self.engines
            .get(name)
            .ok_or_else(|| CatalogError::UnknownEngine {
                name: name.to_string(),
                known: join(self.engines.keys()),
            })
    }

    /// The profile of `engine` on `device`; the error names both and the
    /// profiled pairs.
    pub fn profile(&self, device: &str, engine: &str) -> Result<&Profile, CatalogError> {
        self.profiles
            .get(&(device.to_string(), engine.to_string()))
            .ok_or_else(|| CatalogError::NoProfile {
                device: device.to_string(),
                engine: engine.to_string(),
                profiled: self
                    .profiles
                    .keys()
                    .map(|(d, e)| format!("{d}.{e}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The expert pool share of `model` under `engine` (1 when not given:
    /// uniform routing).
    pub fn pool_share(&self, model: &str, engine: &str) -> f64 {
        *self
            .routing
            .get(&(model.to_string(), engine.to_string()))
            .unwrap_or(&1.0)
    }

    /// All profiles, by (device, engine).
    pub fn profiles(&self) -> impl Iterator<Item = (&(String, String), &Profile)> {
        self.profiles.iter()
    }

    /// All engines.
    pub fn engines(&self) -> impl Iterator<Item = &Engine> {
        self.engines.values()
    }

    /// The power values of `device` fitted by calibration (calibrated.toml
    /// `[power.<device>]`), which replace those of devices.toml.
    pub fn fitted_power(&self, device: &str) -> Option<&PowerOverride> {
        self.power.get(device)
    }
}

fn join<'a>(keys: impl Iterator<Item = &'a String>) -> String {
    keys.map(String::as_str).collect::<Vec<_>>().join(", ")
}

type RawProfiles = BTreeMap<(String, String), (RawProfile, Vec<String>)>;

/// Lays the fitted values over the hand-written profiles, recording which
/// keys were fitted.
fn overlay_fitted(
    fitted: &EnginesFile,
    file: &Path,
    raw: &mut RawProfiles,
) -> Result<(), CatalogError> {
    for (device, by_engine) in &fitted.profiles {
        for (engine, f) in by_engine {
            let Some((p, keys)) = raw.get_mut(&(device.clone(), engine.clone())) else {
                return Err(invalid(
                    file,
                    format!("profiles.{device}.{engine}"),
                    "fits a profile that engines.toml does not define; rerun `sharesim calibrate --write`",
                ));
            };
            let mut set = |name: &str, v: Option<f64>, slot: &mut Option<f64>| {
                if let Some(v) = v {
                    *slot = Some(v);
                    keys.push(name.to_string());
                }
            };
            set(
                "layer_overhead_s",
                f.layer_overhead_s,
                &mut p.layer_overhead_s,
            );
            set(
                "sequence_overhead_s",
                f.sequence_overhead_s,
                &mut p.sequence_overhead_s,
            );
            set(
                "allreduce_latency_s",
                f.allreduce_latency_s,
                &mut p.allreduce_latency_s,
            );
            if let Some(e) = &f.bandwidth_efficiency {
                p.bandwidth_efficiency = Some(e.clone());
                keys.push("bandwidth_efficiency".into());
            }
            if let Some(e) = &f.compute_efficiency {
                p.compute_efficiency = Some(e.clone());
                keys.push("compute_efficiency".into());
            }
        }
    }
    Ok(())
}

fn resolve_engine(file: &Path, name: &str, raw: &RawEngine) -> Result<Engine, CatalogError> {
    let k = |f: &str| format!("engines.{name}.{f}");
    let kv = match (raw.kv_allocation.as_str(), raw.kv_block_tokens) {
        ("paged", Some(b)) if (1..=4096).contains(&b) => KvPolicy::Paged { block_tokens: b },
        ("paged", _) => {
            return Err(invalid(
                file,
                k("kv_block_tokens"),
                "a paged engine needs kv_block_tokens between 1 and 4096 (vLLM uses 16)",
            ))
        }
        ("reserved", None) => KvPolicy::Reserved,
        ("reserved", Some(_)) => {
            return Err(invalid(
                file,
                k("kv_block_tokens"),
                "only paged engines have blocks; remove it or set kv_allocation = \"paged\"",
            ))
        }
        (other, _) => {
            return Err(invalid(
                file,
                k("kv_allocation"),
                format!("must be \"paged\" or \"reserved\" (got \"{other}\")"),
            ))
        }
    };
    if raw.max_batch == 0 {
        return Err(invalid(file, k("max_batch"), "must be at least 1"));
    }
    if raw.chunked_prefill_tokens == Some(0) {
        return Err(invalid(
            file,
            k("chunked_prefill_tokens"),
            "must be at least 1 token per step, or leave it out",
        ));
    }
    Ok(Engine {
        name: name.to_string(),
        kv,
        max_batch: raw.max_batch,
        chunked_prefill_tokens: raw.chunked_prefill_tokens,
        weights_format: raw.weights_format,
    })
}

/// Resolves `like` chains (at most 8 deep) and checks every value.
fn resolve_profile(
    file: &Path,
    key: &(String, String),
    raw: &RawProfiles,
    depth: u32,
) -> Result<Profile, CatalogError> {
    let name = format!("profiles.{}.{}", key.0, key.1);
    let (p, fitted) = &raw[key];
    let parent = match &p.like {
        None => None,
        Some(_) if depth >= 8 => {
            return Err(invalid(
                file,
                format!("{name}.like"),
                "forms a chain of more than 8 profiles (a loop?)",
            ))
        }
        Some(like) => {
            // Engine names may contain dots (llama.cpp): try each split.
            let found = like
                .match_indices('.')
                .map(|(i, _)| (like[..i].to_string(), like[i + 1..].to_string()))
                .find(|k| raw.contains_key(k));
            let Some(parent_key) = found else {
                return Err(invalid(
                    file,
                    format!("{name}.like"),
                    format!(
                        "names `{like}`, which is not a profile here (write \"<device>.<engine>\")"
                    ),
                ));
            };
            Some((
                parent_key.clone(),
                resolve_profile(file, &parent_key, raw, depth + 1)?,
            ))
        }
    };
    let num = |field: &str, own: Option<f64>, inherited: Option<f64>, max: f64| {
        let v = own.or(inherited).ok_or_else(|| {
            invalid(
                file,
                format!("{name}.{field}"),
                "missing: give a value or `like = \"<device>.<engine>\"`",
            )
        })?;
        if v.is_finite() && v >= 0.0 && v <= max {
            Ok(v)
        } else {
            Err(invalid(
                file,
                format!("{name}.{field}"),
                format!("must be between 0 and {max} (got {v})"),
            ))
        }
    };
    let eff = |field: &str, own: &Option<RawEfficiency>, inherited: Option<&Efficiency>| {
        let e = match own {
            Some(RawEfficiency::One(v)) => Efficiency::uniform(*v),
            Some(RawEfficiency::Table(t)) => {
                let Some(&default) = t.get("default") else {
                    return Err(invalid(
                        file,
                        format!("{name}.{field}"),
                        "a table of efficiencies needs a `default` entry",
                    ));
                };
                let mut by_quantisation = t.clone();
                by_quantisation.remove("default");
                Efficiency {
                    default,
                    by_quantisation,
                }
            }
            None => inherited.cloned().ok_or_else(|| {
                invalid(
                    file,
                    format!("{name}.{field}"),
                    "missing: give a value or `like = \"<device>.<engine>\"`",
                )
            })?,
        };
        for v in std::iter::once(&e.default).chain(e.by_quantisation.values()) {
            if !(v.is_finite() && *v > 0.0 && *v <= 1.0) {
                return Err(invalid(file, format!("{name}.{field}"), format!("must be greater than 0 and at most 1 (got {v}): an achieved share of the peak")));
            }
        }
        Ok(e)
    };
    let like = parent.as_ref().map(|(k, _)| k.clone());
    let parent = parent.map(|(_, p)| p);
    let pp = parent.as_ref();
    let mut fitted_keys = pp.map(|p| p.fitted.clone()).unwrap_or_default();
    fitted_keys.extend(fitted.iter().cloned());
    Ok(Profile {
        layer_overhead_s: num(
            "layer_overhead_s",
            p.layer_overhead_s,
            pp.map(|p| p.layer_overhead_s),
            0.01,
        )?,
        sequence_overhead_s: num(
            "sequence_overhead_s",
            p.sequence_overhead_s,
            pp.map(|p| p.sequence_overhead_s),
            0.01,
        )?,
        allreduce_latency_s: num(
            "allreduce_latency_s",
            p.allreduce_latency_s,
            pp.map(|p| p.allreduce_latency_s),
            0.01,
        )?,
        bandwidth_efficiency: eff(
            "bandwidth_efficiency",
            &p.bandwidth_efficiency,
            pp.map(|p| &p.bandwidth_efficiency),
        )?,
        compute_efficiency: eff(
            "compute_efficiency",
            &p.compute_efficiency,
            pp.map(|p| &p.compute_efficiency),
        )?,
        max_batch: p.max_batch.or(pp.and_then(|p| p.max_batch)),
        chunked_prefill_tokens: p
            .chunked_prefill_tokens
            .or(pp.and_then(|p| p.chunked_prefill_tokens)),
        source: p
            .source
            .clone()
            .or(pp.map(|p| p.source.clone()))
            .unwrap_or_default(),
        fitted: fitted_keys,
        like,
    })
}
