//! LLM hardware and model data and the service times derived from them.
//!
//! This module owns the device and model catalogue ([`catalog`], read from
//! `scenarios/catalog/devices.toml` and `models.toml`), the serving engines
//! and their step-cost profiles per device ([`engines`], `engines.toml` with
//! the fitted values of `calibrated.toml`), the roofline step costs of
//! docs/model.md section 5 ([`roofline`]: prefill time, decode step time,
//! memory budget of one model on one device or tensor-parallel group under
//! one engine), and the per-step cost and energy model the batching engine
//! evaluates and fast-forwards ([`step`]), and where the catalogue's
//! figures come from ([`sources`], the files' `# source:` comments).
//!
//! It never prints and never simulates: the engine asks [`roofline::ServingCost`]
//! for step times and memory budgets.

pub(crate) mod catalog;
pub(crate) mod engines;
pub mod ownership;
pub(crate) mod roofline;
pub mod sources;
pub(crate) mod step;

pub use catalog::{
    Catalog, CatalogError, Device, Model, ModelKind, Moe, SlidingWindow, BUILTIN_DEVICES_TOML,
    BUILTIN_MODELS_TOML,
};
pub use engines::{
    Efficiency, Engine, EngineCatalog, KvPolicy, PowerOverride, Profile, WeightsFormat,
    BUILTIN_CALIBRATED_TOML,
};
pub use ownership::{DeviceOwnership, MemoryKind};
pub use roofline::{KvPrecision, RooflineError, ServingCost, ServingOptions};
pub use step::{DecodeRun, StepModel};
