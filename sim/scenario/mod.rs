//! Scenario files: TOML parsed into raw serde structs (unknown keys
//! rejected, `raw`), then validated into a resolved [`Scenario`] with
//! defaults applied (`resolve`, one resolver per section). Every rejected
//! value yields a [`ScenarioError`] naming the file, the key path where the
//! value was written and what would be valid (`check`). Nothing runs
//! before this succeeds.
//!
//! The resolved model is in `model` (scenario, classes, workloads),
//! `placement` and `service_level`; derived copies (views of one
//! placement, probes) and the estimates read from fixed samples are in
//! `views`.

mod check;
pub mod cost;
mod counterfactual;
mod error;
mod model;
mod placement;
mod raw;
mod resolve;
mod service_level;
mod views;

use std::path::Path;

pub use cost::{Billing, Costs, Ownership};
pub use counterfactual::Counterfactual;
pub use error::ScenarioError;
pub use model::{
    Benchmark, BenchmarkSetup, Hybrid, LlmWorkload, OutageProcess, ReactiveConfig, Scenario,
    SizingConfig, SpeechTask, UserClass, Workload,
};
pub use placement::{
    Disaggregation, LlmServer, ModelFleet, OutageRule, Placement, PlacementKind, PlacementOutage,
    PricedDevice, Servers, SizedPool, DEFAULT_LINK_GB_PER_S, DEFAULT_LINK_LATENCY_S,
    MAX_SERVICE_SCALE,
};
pub use service_level::{
    AttainmentTarget, LatencyMetric, PercentileTarget, ServiceLevel, WaitTailTarget,
};
pub use views::mean_single_request_s;

impl Scenario {
    /// Read, parse and validate a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = read_scenario_text(path)?;
        Self::from_toml_str(&text, path)
    }

    /// Parse and validate scenario text; `path` names it in errors and
    /// anchors relative file references.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        let raw = raw::parse_raw(text, path)?;
        resolve::resolve(raw, path)
    }

    /// Validate an already parsed TOML table (a sweep point); `path` names
    /// the file in errors and anchors relative file references.
    pub fn from_table(table: toml::Table, path: &Path) -> Result<Scenario, ScenarioError> {
        let text = toml::to_string(&table).map_err(|e| ScenarioError::Parse {
            file: path.to_path_buf(),
            key: ".".into(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text, path)
    }
}

/// The text of a scenario file, refused (naming the file, never quoting
/// its bytes) when it is not UTF-8 text or holds NUL bytes: a binary file
/// or UTF-16 text given where TOML is expected.
pub fn read_scenario_text(path: &Path) -> Result<String, ScenarioError> {
    let bytes = std::fs::read(path).map_err(|source| ScenarioError::Read {
        file: path.to_path_buf(),
        source,
    })?;
    let not_text = |what: String| {
        ScenarioError::Parse {
        file: path.to_path_buf(),
        key: ".".into(),
        message: format!("not a TOML text file: {what}; a scenario is TOML text in UTF-8 (copy one from scenarios/)"),
    }
    };
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(not_text(format!(
            "it holds NUL bytes (the first at byte {at}), so it is binary or UTF-16"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        not_text(format!(
            "it is not UTF-8 (byte {} is not), so it is binary or in another encoding",
            e.utf8_error().valid_up_to()
        ))
    })
}
