//! LLM hardware and model data and the service times derived from them.
//!
//! This module owns the device and model catalogue ([`catalog`], read from
//! `scenarios/catalog/devices.toml` and `models.toml`), the roofline service
//! time model of docs/model.md section 5 ([`roofline`]: prefill time, decode step
//! time, memory budget of one model on one device or tensor-parallel group)
//! and the reference measurements that the catalogue's efficiency parameters
//! are calibrated against ([`calibration`]), and the per-step cost model the
//! batching engine evaluates and fast-forwards ([`step`]).
//!
//! It never prints and never simulates: the engine asks [`roofline::ServingCost`]
//! for step times and memory budgets.

pub(crate) mod calibration;
pub(crate) mod catalog;
pub(crate) mod roofline;
pub(crate) mod step;

pub use calibration::{
    calibration_table, markdown_table, predict, reference_measurements, CalibrationError,
    CalibrationRow, Measurement, TOLERANCE,
};
pub use catalog::{Catalog, CatalogError, Device, Model, ModelKind};
pub use roofline::{RooflineError, ServingCost};
pub use step::StepModel;
