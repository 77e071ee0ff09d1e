//! The device and model catalogue: `scenarios/catalog/devices.toml` and
//! `scenarios/catalog/models.toml`, parsed, validated and resolved into
//! [`Device`] and [`Model`].
//!
//! [`Catalog::builtin`] parses the copies embedded in the binary;
//! [`Catalog::load`] reads other files of the same format. Every error names
//! the file, the key (e.g. `devices.h100_sxm.mem_gb`) and what would be valid.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::llm::engines::EngineCatalog;
use crate::llm::ownership::{resolve_ownership, DeviceOwnership, MemoryKind};

/// The shipped device catalogue, embedded at build time.
pub const BUILTIN_DEVICES_TOML: &str = include_str!("../../scenarios/catalog/devices.toml");
/// The shipped model catalogue, embedded at build time.
pub const BUILTIN_MODELS_TOML: &str = include_str!("../../scenarios/catalog/models.toml");
/// Repository path of the shipped device catalogue (used in error messages).
pub const BUILTIN_DEVICES_PATH: &str = "scenarios/catalog/devices.toml";
/// Repository path of the shipped model catalogue (used in error messages).
pub const BUILTIN_MODELS_PATH: &str = "scenarios/catalog/models.toml";

/// A catalogue file that cannot be used, or a name that is not in it.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file could not be read.
    #[error("{file}: cannot read the catalogue file: {source}")]
    Read {
        /// The catalogue file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML does not parse or does not match the catalogue structure
    /// (wrong type, unknown key, missing key).
    #[error("{file}: {key}: {message}")]
    Parse {
        /// The catalogue file.
        file: PathBuf,
        /// Key path, e.g. `devices.h100_sxm.mem_gb` (`.` for the top level).
        key: String,
        /// What is wrong (with the line when known).
        message: String,
    },
    /// A value parses but is not valid.
    #[error("{file}: {key}: {message}")]
    Invalid {
        /// The catalogue file.
        file: PathBuf,
        /// Key path, e.g. `devices.h100_sxm.mem_gb`.
        key: String,
        /// What is wrong and what would be valid.
        message: String,
    },
    /// A device name that the catalogue does not hold.
    #[error("unknown device `{name}`; the catalogue knows: {known}")]
    UnknownDevice {
        /// The name asked for.
        name: String,
        /// The known device names, comma separated.
        known: String,
    },
    /// An engine name that the catalogue does not hold.
    #[error("unknown engine `{name}`; the catalogue knows: {known}")]
    UnknownEngine {
        /// The name asked for.
        name: String,
        /// The known engine names, comma separated.
        known: String,
    },
    /// A (device, engine) pair without a step-cost profile.
    #[error(
        "engine `{engine}` has no profile for device `{device}` in engines.toml; profiled \
         pairs (device.engine): {profiled}; use one of them, or add \
         [profiles.{device}.\"{engine}\"] (e.g. `like = \"<device>.<engine>\"`)"
    )]
    NoProfile {
        /// The device.
        device: String,
        /// The engine.
        engine: String,
        /// The profiled pairs, comma separated.
        profiled: String,
    },
    /// A model name that the catalogue does not hold.
    #[error("unknown model `{name}`; the catalogue knows: {known}")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The known model names, comma separated.
        known: String,
    },
}

/// One device type (one accelerator or one computer), resolved and
/// validated. Units: GB = 1e9 bytes, GB/s, dense TFLOPS, W, USD.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// Catalogue key, e.g. `h100_sxm`.
    pub name: String,
    /// Memory size in GB.
    pub mem_gb: f64,
    /// Peak memory bandwidth in GB/s.
    pub bandwidth_gb_s: f64,
    /// Dense BF16/FP16 tensor TFLOPS.
    pub tflops: f64,
    /// Dense FP8 TFLOPS, if the device has FP8 tensor units.
    pub tflops_fp8: Option<f64>,
    /// Dense FP4 TFLOPS, if the device has FP4 tensor units.
    pub tflops_fp4: Option<f64>,
    /// Power when idle, W (board for accelerators, wall for computers).
    pub idle_w: f64,
    /// Most power when serving, W (the cap of the step power model).
    pub busy_w: f64,
    /// Power above idle while a step streams memory, W.
    pub memory_power_w: f64,
    /// Power above idle while a step is compute bound, W.
    pub compute_power_w: f64,
    /// Host share per device (CPU, DRAM, NIC, fans of its server), W.
    pub host_w: f64,
    /// Device-to-device link bandwidth per direction (NVLink), GB/s.
    pub link_gb_s: Option<f64>,
    /// Serving engine used when a placement names none.
    pub default_engine: String,
    /// Purchase price of one device, USD.
    pub price_usd: f64,
    /// Share of `price_usd` that is memory, in [0, 1] (an estimate).
    pub memory_price_share: f64,
    /// Cloud rental price of one device, USD per hour, if rentable.
    pub rental_usd_per_h: Option<f64>,
    /// Share of `mem_gb` usable for weights and KV cache, in (0, 1].
    pub usable_memory_share: f64,
    /// Speech to text: device seconds per second of audio (Whisper
    /// large-v3-turbo class), if known.
    pub speech_to_text_rtf: Option<f64>,
    /// Text to speech: device seconds per second of generated audio, if known.
    pub text_to_speech_rtf: Option<f64>,
    /// Lifetime, host and network shares, memory kind, embodied carbon.
    pub ownership: DeviceOwnership,
}

impl Device {
    /// Capital cost of one device when memory costs `memory_price_multiplier`
    /// times the catalogue price: `price * ((1 - share) + share * multiplier)`.
    pub fn capex_usd(&self, memory_price_multiplier: f64) -> f64 {
        self.price_usd
            * ((1.0 - self.memory_price_share) + self.memory_price_share * memory_price_multiplier)
    }
}

/// What a model does, which decides how its service time is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// A text generator: prefill + decode steps (roofline).
    Llm,
    /// Speech to text: a service time per second of audio.
    SpeechToText,
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModelKind::Llm => "llm",
            ModelKind::SpeechToText => "speech_to_text",
        })
    }
}

/// One model, resolved and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Catalogue key, e.g. `gpt_oss_120b`.
    pub name: String,
    /// What the model does.
    pub kind: ModelKind,
    /// All parameters (every expert), billions.
    pub total_params_b: f64,
    /// Parameters used per token, billions (dense: equal to the total).
    pub active_params_b: f64,
    /// Transformer layers.
    pub layers: u32,
    /// Model width (hidden size).
    pub hidden_size: u32,
    /// Mixture-of-experts structure, None for dense models.
    pub moe: Option<Moe>,
    /// Weight size in GB per quantisation name (`bf16`, `fp8`, `q4`, ...).
    pub weights_gb: BTreeMap<String, f64>,
    /// KV-cache bytes per context token of the full-attention layers.
    pub kv_bytes_per_token: f64,
    /// Sliding-window layers, if any.
    pub window: Option<SlidingWindow>,
    /// Longest context the model supports, tokens.
    pub context_limit_tokens: u64,
}

impl Model {
    /// Whether the model is a mixture of experts.
    pub fn is_moe(&self) -> bool {
        self.moe.is_some()
    }

    /// The quantisation names that have a weight size, comma separated.
    pub fn quantisations(&self) -> String {
        join_keys(self.weights_gb.keys())
    }
}

/// Mixture-of-experts structure of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Moe {
    /// Experts per layer, `E`.
    pub experts: u32,
    /// Routed experts per token, `k`.
    pub experts_per_token: u32,
    /// GB of all experts of all layers, per quantisation.
    pub expert_gb: BTreeMap<String, f64>,
    /// GB read at every step besides the experts, per quantisation.
    pub dense_gb: BTreeMap<String, f64>,
    /// The same in llama.cpp's GGUF files, where it differs.
    pub dense_gb_gguf: BTreeMap<String, f64>,
}

/// Sliding-window attention layers of a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlidingWindow {
    /// KV bytes per token of all sliding-window layers together.
    pub kv_bytes_per_token: f64,
    /// Tokens each of them holds at most.
    pub tokens: u32,
}

/// The device, model and engine catalogue.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Devices as devices.toml gives them.
    base_devices: BTreeMap<String, Device>,
    /// The same with the fitted power values of `engines` applied.
    devices: BTreeMap<String, Device>,
    models: BTreeMap<String, Model>,
    engines: EngineCatalog,
}

impl Catalog {
    /// Reads and validates a device file and a model file.
    pub fn load(
        devices_path: impl AsRef<Path>,
        models_path: impl AsRef<Path>,
    ) -> Result<Catalog, CatalogError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| CatalogError::Read {
                file: path.to_path_buf(),
                source,
            })
        };
        let devices_path = devices_path.as_ref();
        let models_path = models_path.as_ref();
        let devices = read(devices_path)?;
        let models = read(models_path)?;
        Catalog::from_toml(&devices, devices_path, &models, models_path)
    }

    /// The catalogue shipped in `scenarios/catalog/`, embedded at build time.
    pub fn builtin() -> Result<Catalog, CatalogError> {
        Catalog::from_toml(
            BUILTIN_DEVICES_TOML,
            Path::new(BUILTIN_DEVICES_PATH),
            BUILTIN_MODELS_TOML,
            Path::new(BUILTIN_MODELS_PATH),
        )
    }

    /// Parses and validates catalogue text; the paths only name the files
    /// in error messages.
    pub fn from_toml(
        devices_toml: &str,
        devices_file: &Path,
        models_toml: &str,
        models_file: &Path,
    ) -> Result<Catalog, CatalogError> {
        let raw_devices: DevicesFile = parse(devices_toml, devices_file)?;
        let raw_models: ModelsFile = parse(models_toml, models_file)?;
        let check = Check { file: devices_file };
        if raw_devices.devices.is_empty() {
            return Err(check.err("devices", "holds no device; add a [devices.<name>] table"));
        }
        let devices = raw_devices
            .devices
            .into_iter()
            .map(|(name, raw)| Ok((name.clone(), resolve_device(&check, name, raw)?)))
            .collect::<Result<BTreeMap<_, _>, CatalogError>>()?;
        let check = Check { file: models_file };
        if raw_models.models.is_empty() {
            return Err(check.err("models", "holds no model; add a [models.<name>] table"));
        }
        let models = raw_models
            .models
            .into_iter()
            .map(|(name, raw)| Ok((name.clone(), resolve_model(&check, name, raw)?)))
            .collect::<Result<BTreeMap<_, _>, CatalogError>>()?;
        let engines = EngineCatalog::builtin()?;
        Ok(Catalog {
            base_devices: devices.clone(),
            devices,
            models,
            engines,
        }
        .with_fitted_power())
    }

    /// The same devices and models with other engine and fitted files.
    pub fn with_engines(mut self, engines: EngineCatalog) -> Catalog {
        self.engines = engines;
        self.with_fitted_power()
    }

    /// Applies the fitted power values of the engine catalogue to devices.
    fn with_fitted_power(mut self) -> Catalog {
        self.devices = self.base_devices.clone();
        for (name, p) in &self.engines.power {
            if let Some(d) = self.devices.get_mut(name) {
                d.idle_w = p.idle_w.unwrap_or(d.idle_w);
                d.memory_power_w = p.memory_power_w.unwrap_or(d.memory_power_w);
                d.compute_power_w = p.compute_power_w.unwrap_or(d.compute_power_w);
            }
        }
        self
    }

    /// The engines, profiles and expert routing.
    pub fn engines(&self) -> &EngineCatalog {
        &self.engines
    }

    /// The device called `name`; the error lists the known names.
    pub fn device(&self, name: &str) -> Result<&Device, CatalogError> {
        self.devices
            .get(name)
            .ok_or_else(|| CatalogError::UnknownDevice {
                name: name.to_string(),
                known: join_keys(self.devices.keys()),
            })
    }

    /// The model called `name`; the error lists the known names.
    pub fn model(&self, name: &str) -> Result<&Model, CatalogError> {
        self.models
            .get(name)
            .ok_or_else(|| CatalogError::UnknownModel {
                name: name.to_string(),
                known: join_keys(self.models.keys()),
            })
    }

    /// All devices, by name.
    pub fn devices(&self) -> impl Iterator<Item = &Device> {
        self.devices.values()
    }

    /// All models, by name.
    pub fn models(&self) -> impl Iterator<Item = &Model> {
        self.models.values()
    }
}

fn join_keys<'a>(keys: impl Iterator<Item = &'a String>) -> String {
    keys.map(String::as_str).collect::<Vec<_>>().join(", ")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DevicesFile {
    devices: BTreeMap<String, RawDevice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    mem_gb: f64,
    bandwidth_gb_s: f64,
    tflops: f64,
    #[serde(default)]
    tflops_fp8: Option<f64>,
    #[serde(default)]
    tflops_fp4: Option<f64>,
    idle_w: f64,
    busy_w: f64,
    price_usd: f64,
    memory_price_share: f64,
    #[serde(default)]
    rental_usd_per_h: Option<f64>,
    usable_memory_share: f64,
    default_engine: String,
    #[serde(default)]
    link_gb_s: Option<f64>,
    host_w: f64,
    memory_power_w: f64,
    compute_power_w: f64,
    #[serde(default)]
    speech_to_text_rtf: Option<f64>,
    #[serde(default)]
    text_to_speech_rtf: Option<f64>,
    lifetime_years: f64,
    host_usd: f64,
    network_usd: f64,
    memory_kind: MemoryKind,
    embodied_kg_co2e_rest: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelsFile {
    models: BTreeMap<String, RawModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    kind: ModelKind,
    total_params_b: f64,
    active_params_b: f64,
    layers: u32,
    hidden_size: u32,
    #[serde(default)]
    experts: Option<u32>,
    #[serde(default)]
    experts_per_token: Option<u32>,
    weights_gb: BTreeMap<String, f64>,
    #[serde(default)]
    expert_gb: BTreeMap<String, f64>,
    #[serde(default)]
    dense_gb: BTreeMap<String, f64>,
    #[serde(default)]
    dense_gb_gguf: BTreeMap<String, f64>,
    kv_bytes_per_token: f64,
    #[serde(default)]
    window_kv_bytes_per_token: Option<f64>,
    #[serde(default)]
    window_tokens: Option<u32>,
    context_limit_tokens: u64,
}

fn parse<T: serde::de::DeserializeOwned>(text: &str, file: &Path) -> Result<T, CatalogError> {
    crate::core::error::deserialize_toml(text).map_err(|(key, message)| CatalogError::Parse {
        file: file.to_path_buf(),
        key,
        message,
    })
}

/// Builds `Invalid` errors for one file.
struct Check<'a> {
    file: &'a Path,
}

impl Check<'_> {
    fn err(&self, key: impl Into<String>, message: impl Into<String>) -> CatalogError {
        CatalogError::Invalid {
            file: self.file.to_path_buf(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// A finite number > 0; `what` says what the value means.
    fn positive(&self, key: String, v: f64, what: &str) -> Result<f64, CatalogError> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.err(
                key,
                format!("must be a number greater than 0 (got {v}): {what}"),
            ))
        }
    }

    /// A finite number >= 0.
    fn non_negative(&self, key: String, v: f64, what: &str) -> Result<f64, CatalogError> {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(self.err(
                key,
                format!("must be a number of at least 0 (got {v}): {what}"),
            ))
        }
    }

    /// A share in [0, 1].
    fn share(&self, key: String, v: f64, what: &str) -> Result<f64, CatalogError> {
        if v.is_finite() && (0.0..=1.0).contains(&v) {
            Ok(v)
        } else {
            Err(self.err(key, format!("must be between 0 and 1 (got {v}): {what}")))
        }
    }

    /// A share in (0, 1].
    fn efficiency(&self, key: String, v: f64, what: &str) -> Result<f64, CatalogError> {
        if v.is_finite() && v > 0.0 && v <= 1.0 {
            Ok(v)
        } else {
            Err(self.err(
                key,
                format!("must be greater than 0 and at most 1 (got {v}): {what}"),
            ))
        }
    }

    /// An optional real-time factor: greater than 0 and at most 1,000
    /// (beyond that the scaled service times are meaningless and overflow).
    fn real_time_factor(
        &self,
        key: String,
        v: Option<f64>,
        what: &str,
    ) -> Result<Option<f64>, CatalogError> {
        match self.optional_positive(key.clone(), v, what)? {
            Some(x) if x > 1000.0 => {
                Err(self.err(key, format!("must be at most 1000 (got {x}): {what}")))
            }
            other => Ok(other),
        }
    }

    fn optional_positive(
        &self,
        key: String,
        v: Option<f64>,
        what: &str,
    ) -> Result<Option<f64>, CatalogError> {
        v.map(|v| self.positive(key, v, what)).transpose()
    }
}

fn resolve_device(check: &Check<'_>, name: String, raw: RawDevice) -> Result<Device, CatalogError> {
    let k = |field: &str| format!("devices.{name}.{field}");
    let idle_w = check.non_negative(k("idle_w"), raw.idle_w, "the idle power in W")?;
    let busy_w = check.positive(k("busy_w"), raw.busy_w, "the power when serving, in W")?;
    if idle_w > busy_w {
        return Err(check.err(
            k("idle_w"),
            format!("is above busy_w ({idle_w} > {busy_w}); idle power must not exceed busy power"),
        ));
    }
    Ok(Device {
        mem_gb: check.positive(k("mem_gb"), raw.mem_gb, "the device memory in GB")?,
        bandwidth_gb_s: check.positive(
            k("bandwidth_gb_s"),
            raw.bandwidth_gb_s,
            "the peak memory bandwidth in GB/s",
        )?,
        tflops: check.positive(k("tflops"), raw.tflops, "dense BF16/FP16 TFLOPS")?,
        tflops_fp8: check.optional_positive(
            k("tflops_fp8"),
            raw.tflops_fp8,
            "dense FP8 TFLOPS (leave the key out if the device has no FP8 units)",
        )?,
        tflops_fp4: check.optional_positive(
            k("tflops_fp4"),
            raw.tflops_fp4,
            "dense FP4 TFLOPS (leave the key out if the device has no FP4 units)",
        )?,
        idle_w,
        busy_w,
        price_usd: check.positive(k("price_usd"), raw.price_usd, "the device price in USD")?,
        memory_price_share: check.share(
            k("memory_price_share"),
            raw.memory_price_share,
            "the share of the price that is memory",
        )?,
        rental_usd_per_h: check.optional_positive(
            k("rental_usd_per_h"),
            raw.rental_usd_per_h,
            "the rental price in USD per hour (leave the key out if not rentable)",
        )?,
        memory_power_w: check.non_negative(
            k("memory_power_w"),
            raw.memory_power_w,
            "the power above idle while streaming memory, in W",
        )?,
        compute_power_w: check.non_negative(
            k("compute_power_w"),
            raw.compute_power_w,
            "the power above idle while compute bound, in W",
        )?,
        host_w: check.non_negative(
            k("host_w"),
            raw.host_w,
            "the host server's share per device, in W (0 for wall figures)",
        )?,
        link_gb_s: check.optional_positive(
            k("link_gb_s"),
            raw.link_gb_s,
            "the device-to-device link bandwidth per direction in GB/s",
        )?,
        default_engine: raw.default_engine,
        usable_memory_share: check.efficiency(
            k("usable_memory_share"),
            raw.usable_memory_share,
            "the share of memory usable for weights and KV cache",
        )?,
        speech_to_text_rtf: check.real_time_factor(
            k("speech_to_text_rtf"),
            raw.speech_to_text_rtf,
            "device seconds per second of transcribed audio (e.g. 0.1)",
        )?,
        text_to_speech_rtf: check.real_time_factor(
            k("text_to_speech_rtf"),
            raw.text_to_speech_rtf,
            "device seconds per second of generated audio (e.g. 0.05)",
        )?,
        ownership: resolve_ownership(
            &name,
            raw.lifetime_years,
            raw.host_usd,
            raw.network_usd,
            raw.memory_kind,
            raw.embodied_kg_co2e_rest,
            |key, message| check.err(key, message),
        )?,
        name,
    })
}

fn resolve_model(check: &Check<'_>, name: String, raw: RawModel) -> Result<Model, CatalogError> {
    let k = |field: &str| format!("models.{name}.{field}");
    let total = check.positive(
        k("total_params_b"),
        raw.total_params_b,
        "all parameters in billions",
    )?;
    let active = check.positive(
        k("active_params_b"),
        raw.active_params_b,
        "parameters used per token in billions",
    )?;
    if active > total {
        return Err(check.err(
            k("active_params_b"),
            format!(
                "is above total_params_b ({active} > {total}); active parameters are a part of the total"
            ),
        ));
    }
    if raw.weights_gb.is_empty() {
        return Err(check.err(
            k("weights_gb"),
            "holds no quantisation; add e.g. `bf16 = <GB>` under this table",
        ));
    }
    for (q, gb) in &raw.weights_gb {
        check.positive(
            format!("models.{name}.weights_gb.{q}"),
            *gb,
            "the weight size in GB at this quantisation",
        )?;
    }
    let kv = check.positive(
        k("kv_bytes_per_token"),
        raw.kv_bytes_per_token,
        "KV-cache bytes per context token",
    )?;
    if raw.context_limit_tokens == 0 {
        return Err(check.err(
            k("context_limit_tokens"),
            "must be at least 1: the longest context the model supports, in tokens",
        ));
    }
    if raw.layers == 0 || raw.hidden_size == 0 {
        return Err(check.err(
            k(if raw.layers == 0 {
                "layers"
            } else {
                "hidden_size"
            }),
            "must be at least 1 (from the model card)",
        ));
    }
    let moe = resolve_moe(check, &name, &raw, active < total)?;
    let window =
        match (raw.window_kv_bytes_per_token, raw.window_tokens) {
            (None, None) => None,
            (Some(b), Some(t)) if t > 0 => Some(SlidingWindow {
                kv_bytes_per_token: check.non_negative(
                    k("window_kv_bytes_per_token"),
                    b,
                    "KV bytes per token of the sliding-window layers",
                )?,
                tokens: t,
            }),
            _ => return Err(check.err(
                k("window_tokens"),
                "give both window_kv_bytes_per_token and window_tokens (at least 1), or neither",
            )),
        };
    Ok(Model {
        name,
        kind: raw.kind,
        total_params_b: total,
        active_params_b: active,
        layers: raw.layers,
        hidden_size: raw.hidden_size,
        moe,
        weights_gb: raw.weights_gb,
        kv_bytes_per_token: kv,
        window,
        context_limit_tokens: raw.context_limit_tokens,
    })
}

/// The expert structure of a model with fewer active than total parameters.
fn resolve_moe(
    check: &Check<'_>,
    name: &str,
    raw: &RawModel,
    is_moe: bool,
) -> Result<Option<Moe>, CatalogError> {
    let k = |field: &str| format!("models.{name}.{field}");
    let (experts, per_token) = match (is_moe, raw.experts, raw.experts_per_token) {
        (false, None, None) => return Ok(None),
        (false, _, _) => {
            return Err(check.err(
                k("experts"),
                "a dense model (active = total parameters) has no experts; remove experts and experts_per_token",
            ))
        }
        (true, Some(e), Some(t)) if t >= 1 && t <= e => (e, t),
        (true, _, _) => {
            return Err(check.err(
                k("experts"),
                "a mixture-of-experts model (active < total parameters) needs experts (E) and experts_per_token (k), with 1 <= k <= E, from its model card",
            ))
        }
    };
    for q in raw.weights_gb.keys() {
        let (Some(&e), Some(&d)) = (raw.expert_gb.get(q), raw.dense_gb.get(q)) else {
            return Err(check.err(
                k(&format!("expert_gb.{q}")),
                format!("missing: a mixture-of-experts model needs expert_gb.{q} and dense_gb.{q} for every quantisation of weights_gb"),
            ));
        };
        let w = raw.weights_gb[q];
        if !(e > 0.0 && d >= 0.0 && e + d <= w * 1.0001) {
            return Err(check.err(
                k(&format!("expert_gb.{q}")),
                format!("expert_gb ({e}) + dense_gb ({d}) must be positive and at most weights_gb ({w})"),
            ));
        }
    }
    Ok(Some(Moe {
        experts,
        experts_per_token: per_token,
        expert_gb: raw.expert_gb.clone(),
        dense_gb: raw.dense_gb.clone(),
        dense_gb_gguf: raw.dense_gb_gguf.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE_DEVICE: &str = r#"
[devices.toy]
mem_gb = 10
bandwidth_gb_s = 100.0
tflops = 10.0
idle_w = 5.0
busy_w = 50.0
price_usd = 1000.0
memory_price_share = 0.5
usable_memory_share = 1.0
default_engine = "vllm"
host_w = 0.0
memory_power_w = 20.0
compute_power_w = 40.0
lifetime_years = 4
host_usd = 0
network_usd = 0
memory_kind = "dram"
embodied_kg_co2e_rest = 100
"#;

    const ONE_MODEL: &str = r#"
[models.toy]
kind = "llm"
layers = 2
hidden_size = 64
total_params_b = 1.0
active_params_b = 1.0
kv_bytes_per_token = 1000
context_limit_tokens = 100

[models.toy.weights_gb]
bf16 = 2.0
"#;

    fn from(devices: &str, models: &str) -> Result<Catalog, CatalogError> {
        Catalog::from_toml(
            devices,
            Path::new("devices.toml"),
            models,
            Path::new("models.toml"),
        )
    }

    #[test]
    fn builtin_catalogue_loads_and_holds_the_reference_entries() {
        let c = Catalog::builtin().expect("the shipped catalogue is valid");
        for d in [
            "framework_desktop",
            "mac_studio_m3_ultra_96gb",
            "mac_studio_m3_ultra_512gb",
            "dgx_spark",
            "rtx_5090",
            "rtx_4090",
            "copilot_laptop_npu",
            "a100_80gb",
            "h100_sxm",
            "h200",
            "b200",
            "mi300x",
        ] {
            assert_eq!(c.device(d).unwrap().name, d);
        }
        for m in [
            "llama_3_1_8b",
            "llama_3_1_70b",
            "qwen3_30b_a3b",
            "gpt_oss_20b",
            "gpt_oss_120b",
            "phi_4_mini",
            "whisper_large_v3_turbo",
        ] {
            assert_eq!(c.model(m).unwrap().name, m);
        }
        assert_eq!(c.devices().count(), 12);
        assert_eq!(c.models().count(), 7);
        let h100 = c.device("h100_sxm").unwrap();
        assert_eq!(h100.mem_gb, 80.0);
        assert_eq!(h100.tflops_fp8, Some(1979.0));
        assert!(c.device("a100_80gb").unwrap().tflops_fp8.is_none());
        let oss = c.model("gpt_oss_120b").unwrap();
        assert!(oss.is_moe());
        assert_eq!(oss.weights_gb["mxfp4"], 65.3);
        assert_eq!(oss.moe.as_ref().unwrap().experts, 128);
        assert!(!c.model("llama_3_1_8b").unwrap().is_moe());
        assert_eq!(
            c.model("whisper_large_v3_turbo").unwrap().kind,
            ModelKind::SpeechToText
        );
    }

    #[test]
    fn files_on_disk_match_the_embedded_copies() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let c = Catalog::load(
            root.join(BUILTIN_DEVICES_PATH),
            root.join(BUILTIN_MODELS_PATH),
        )
        .unwrap();
        let b = Catalog::builtin().unwrap();
        assert_eq!(c.devices, b.devices);
        assert_eq!(c.models, b.models);
    }

    #[test]
    fn integers_parse_as_numbers_and_capex_scales_the_memory_share() {
        let c = from(ONE_DEVICE, ONE_MODEL).unwrap();
        let d = c.device("toy").unwrap();
        assert_eq!(d.mem_gb, 10.0);
        assert_eq!(d.capex_usd(1.0), 1000.0);
        assert_eq!(d.capex_usd(3.0), 2000.0);
        assert!(c.model("toy").unwrap().moe.is_none());
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let c = Catalog::builtin().unwrap();
        let e = c.device("h100").unwrap_err().to_string();
        assert!(e.contains("unknown device `h100`"), "{e}");
        assert!(
            e.contains("h100_sxm") && e.contains("framework_desktop"),
            "{e}"
        );
        let e = c.model("llama").unwrap_err().to_string();
        assert!(
            e.contains("unknown model `llama`") && e.contains("gpt_oss_20b"),
            "{e}"
        );
    }

    #[test]
    fn invalid_values_name_file_key_and_fix() {
        let bad = ONE_DEVICE.replace("mem_gb = 10", "mem_gb = -1");
        let e = from(&bad, ONE_MODEL).unwrap_err().to_string();
        assert!(
            e.starts_with("devices.toml: devices.toy.mem_gb: must be a number greater than 0"),
            "{e}"
        );

        let bad = ONE_DEVICE.replace("memory_price_share = 0.5", "memory_price_share = 1.5");
        let e = from(&bad, ONE_MODEL).unwrap_err().to_string();
        assert!(
            e.contains("devices.toy.memory_price_share: must be between 0 and 1"),
            "{e}"
        );

        let bad = ONE_DEVICE.replace("usable_memory_share = 1.0", "usable_memory_share = 0.0");
        let e = from(&bad, ONE_MODEL).unwrap_err().to_string();
        assert!(
            e.contains("devices.toy.usable_memory_share: must be greater than 0 and at most 1"),
            "{e}"
        );

        let bad = ONE_MODEL.replace("active_params_b = 1.0", "active_params_b = 2.0");
        let e = from(ONE_DEVICE, &bad).unwrap_err().to_string();
        assert!(
            e.starts_with("models.toml: models.toy.active_params_b: is above total_params_b"),
            "{e}"
        );

        let bad = ONE_MODEL.replace("bf16 = 2.0", "bf16 = 0.0");
        let e = from(ONE_DEVICE, &bad).unwrap_err().to_string();
        assert!(
            e.contains("models.toy.weights_gb.bf16: must be a number greater than 0"),
            "{e}"
        );
    }

    #[test]
    fn unknown_and_missing_keys_are_parse_errors_with_the_key_path() {
        let bad = ONE_DEVICE.replace("mem_gb = 10", "mem_gb = 10\nmemory_gb = 10");
        let e = from(&bad, ONE_MODEL).unwrap_err();
        assert!(matches!(e, CatalogError::Parse { .. }), "{e}");
        let e = e.to_string();
        assert!(
            e.contains("devices.toml: devices.toy") && e.contains("memory_gb"),
            "{e}"
        );

        let bad = ONE_DEVICE.replace("tflops = 10.0\n", "");
        let e = from(&bad, ONE_MODEL).unwrap_err().to_string();
        assert!(e.contains("devices.toy") && e.contains("tflops"), "{e}");

        let bad = ONE_MODEL.replace("kind = \"llm\"", "kind = \"vision\"");
        let e = from(ONE_DEVICE, &bad).unwrap_err().to_string();
        assert!(e.contains("models.toy.kind"), "{e}");
    }
}
