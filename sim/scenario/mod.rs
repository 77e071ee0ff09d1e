//! Scenario files: TOML parsed into raw serde structs (unknown keys
//! rejected), then validated into a resolved [`Scenario`] with defaults
//! applied. Every rejected value yields a [`ScenarioError`] naming the file,
//! the key path and what would be valid. Nothing runs before this succeeds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::core::dist::{draw_tokens, Dist};
use crate::workload::arrivals::{DiurnalProfile, PoissonArrivals, UserGroup, DAY_S};
mod error;
use crate::core::rng::{stream_rng, StreamKind};
use crate::engine::fcfs::Dispatch;
use crate::llm::catalog::{Catalog, Device, Model};
use crate::llm::roofline::ServingCost;
use crate::llm::step::StepModel;
use crate::workload::source::Behaviour;
pub use error::ScenarioError;

// ---------------------------------------------------------------- raw form

/// A scenario file as written. See `scenarios/*.toml` for commented examples.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Name used for the output folder; defaults to the file stem.
    pub name: Option<String>,
    /// Scenario seed; every random stream derives from it. Default 1.
    pub seed: Option<u64>,
    /// Simulated arrival period, seconds (or `horizon_h`, hours).
    pub horizon_s: Option<f64>,
    /// Simulated arrival period, hours.
    pub horizon_h: Option<f64>,
    /// Warm-up discarded from the statistics, seconds (or `warmup_h`). Default 0.
    pub warmup_s: Option<f64>,
    /// Warm-up, hours.
    pub warmup_h: Option<f64>,
    /// Independent replications. Default 5.
    pub replications: Option<u64>,
    /// The user population and its arrival process.
    pub users: RawUsers,
    /// Generic service time of one request on one server (non-LLM
    /// scenarios). Give either `[service]` or `[model]` + `[requests]`.
    pub service: Option<RawDist>,
    /// The LLM every request uses (LLM scenarios).
    pub model: Option<RawModelChoice>,
    /// LLM request sizes.
    pub requests: Option<RawRequests>,
    /// Prices.
    pub costs: Option<RawCosts>,
    /// Other catalogue files than the shipped ones.
    pub catalog: Option<RawCatalogFiles>,
    /// Placements to compare (all see the same arrivals).
    pub placements: Vec<RawPlacement>,
    /// Service-level targets, e.g. `wait_p99_s = 2.0`.
    pub service_level: Option<toml::Table>,
    /// Options of `sharesim size`.
    pub sizing: Option<RawSizing>,
    /// Axes of `sharesim sweep` (read by [`crate::sweep`]; ignored by run and size).
    pub sweep: Option<toml::Table>,
    /// Replay a request trace instead of generating arrivals and sizes.
    pub trace: Option<RawTrace>,
    /// A population mix: classes of users with shares of `[users] count`,
    /// each with its own arrivals, request sizes and model. Keys a class
    /// does not set come from `[users]`, `[model]`, `[requests]`, `[service]`.
    pub classes: Option<Vec<RawClass>>,
    /// Placements combined into one answer (e.g. speech on the local
    /// device, the chat model pooled): their `serves` lists split the classes.
    pub hybrids: Option<Vec<RawHybrid>>,
}

/// `[[classes]]`: one class of users.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    /// Label in tables and placements' `serves`.
    pub name: String,
    /// Share of `[users] count` in this class, in (0, 1]; shares sum to 1.
    pub share: f64,
    /// As `[users] requests_per_day`.
    pub requests_per_day: Option<f64>,
    /// As `[users] duty_cycle`.
    pub duty_cycle: Option<f64>,
    /// As `[users] profile`.
    pub profile: Option<RawProfile>,
    /// As `[users] timezones`.
    pub timezones: Option<Vec<RawTimeZone>>,
    /// As `[users] arrivals`.
    pub arrivals: Option<String>,
    /// As `[users] session_requests_mean`.
    pub session_requests_mean: Option<f64>,
    /// As `[users] think_time`.
    pub think_time: Option<RawDist>,
    /// As `[users] agent_gap`.
    pub agent_gap: Option<RawDist>,
    /// As `[users] agent_start_spread_s`.
    pub agent_start_spread_s: Option<f64>,
    /// As `[users] requests_per_day_cv`.
    pub requests_per_day_cv: Option<f64>,
    /// This class's LLM (replaces `[model]`).
    pub model: Option<RawModelChoice>,
    /// This class's token counts (replaces `[requests]`).
    pub requests: Option<RawRequests>,
    /// A generic service time for this class (replaces `[model]` and
    /// `[requests]`); with `task`, seconds of audio.
    pub service: Option<RawDist>,
    /// `speech_to_text` or `text_to_speech`: `service` is audio seconds and a
    /// placement's device converts it with its catalogue real-time factor.
    pub task: Option<String>,
    /// This class's service level (replaces `[service_level]`).
    pub service_level: Option<toml::Table>,
}

/// `[[hybrids]]`: placements reported together as one answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHybrid {
    /// Label in tables and files.
    pub name: String,
    /// Placement names; their `serves` must split the classes between them.
    pub parts: Vec<String>,
}

/// `[trace]`: replay a real request trace (LLM scenarios).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrace {
    /// CSV or Parquet file, relative to the scenario file.
    pub file: String,
    /// `azure`, `ragpulse` or `auto` (from the header). Default auto.
    pub format: Option<String>,
    /// Arrival times are multiplied by it (0.5 replays twice as fast). Default 1.
    pub time_scale: Option<f64>,
    /// Seconds added to every arrival after scaling. Default 0.
    pub time_offset_s: Option<f64>,
}

/// `[sizing]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSizing {
    /// Pool sizes k for the pool-size curve: whole numbers of users per pool,
    /// or "all". Default: ["all"].
    pub pool_sizes: Option<Vec<toml::Value>>,
    /// Largest fleet a probe may try before the answer is "infeasible".
    pub max_servers: Option<u64>,
    /// Fewest measured requests (all replications) a probe needs to be
    /// trusted; shorter runs are lengthened. Default 20,000.
    pub min_measured_requests: Option<u64>,
    /// Also size every dedicated placement on each of these catalogue
    /// devices (a list of names, or "catalog" for all) and report the
    /// cheapest that meets the service level for every user.
    pub dedicated_devices: Option<toml::Value>,
}

/// Resolved `[sizing]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SizingConfig {
    /// Users per pool, ascending; the last is all users.
    pub pool_sizes: Vec<usize>,
    /// Largest fleet tried (None: derived from the analytic guess).
    pub max_servers: Option<usize>,
    /// Fewest measured requests per probe.
    pub min_measured_requests: u64,
}

/// `[users]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUsers {
    /// Number of users.
    pub count: u64,
    /// Mean requests per user per day.
    pub requests_per_day: Option<f64>,
    /// Share of time one user keeps a dedicated device busy, in (0, 1):
    /// rate = duty_cycle / mean service time.
    pub duty_cycle: Option<f64>,
    /// `"flat"`, `"office_hours"`, `"evening_peak"` or 24 hourly weights.
    pub profile: Option<RawProfile>,
    /// Time-zone mix: offsets from UTC in hours with shares summing to 1.
    pub timezones: Option<Vec<RawTimeZone>>,
    /// `poisson` (default: independent requests), `sessions` (requests in
    /// sessions, each after the previous response plus a think time) or
    /// `agent` (always on: each request after the previous response plus a gap).
    pub arrivals: Option<String>,
    /// Sessions: mean requests per session (geometric, at least 1). Default 1.8.
    pub session_requests_mean: Option<f64>,
    /// Sessions: think time after a response, seconds. Default lognormal
    /// with median 40 s and 90th percentile 300 s (RagPulse).
    pub think_time: Option<RawDist>,
    /// Agents: gap after a response, seconds.
    pub agent_gap: Option<RawDist>,
    /// Agents: first requests spread uniformly over this many seconds. Default 60.
    pub agent_start_spread_s: Option<f64>,
    /// Heterogeneous users: each user's rate is the mean rate times a
    /// lognormal multiplier with mean 1 and this coefficient of variation
    /// (e.g. 2: the top 10 % of users send about half the requests). Default 0.
    pub requests_per_day_cv: Option<f64>,
}

/// A named profile or 24 weights.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawProfile {
    /// A preset name.
    Named(String),
    /// 24 hourly weights in local time.
    Weights(Vec<f64>),
}

/// One entry of `users.timezones`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeZone {
    /// Offset of local time from UTC, hours (-12..=14).
    pub offset_h: f64,
    /// Share of users in this zone.
    pub share: f64,
}

/// A distribution of seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
    /// `exponential`, `deterministic`, `lognormal`, `gamma`, `erlang` or `empirical`.
    pub distribution: String,
    /// Mean, seconds (exponential, lognormal, gamma, erlang).
    pub mean_s: Option<f64>,
    /// The value, seconds (deterministic).
    pub value_s: Option<f64>,
    /// Median, seconds (lognormal, with `p99_s`).
    pub median_s: Option<f64>,
    /// 99th percentile, seconds (lognormal, with `median_s`).
    pub p99_s: Option<f64>,
    /// 90th percentile, seconds (lognormal, with `median_s`).
    pub p90_s: Option<f64>,
    /// Coefficient of variation (lognormal, with `mean_s`).
    pub cv: Option<f64>,
    /// Shape (gamma).
    pub shape: Option<f64>,
    /// Number of phases (erlang).
    pub k: Option<u64>,
    /// File of observed values (empirical), relative to the scenario file.
    pub file: Option<String>,
    /// CSV column holding the values (empirical); without it, one value per line.
    pub column: Option<String>,
}

/// `[model]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModelChoice {
    /// Catalogue name, e.g. `gpt_oss_120b`.
    pub name: String,
    /// Quantisation key of the model's `weights_gb`, e.g. `mxfp4`, `fp8`, `q4`.
    pub quantisation: String,
}

/// `[requests]`: token counts per request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequests {
    /// Prompt tokens.
    pub input_tokens: RawTokens,
    /// Output tokens.
    pub output_tokens: RawTokens,
}

/// A distribution of token counts (rounded to whole tokens, at least 1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTokens {
    /// `fixed`, `lognormal` or `empirical`.
    pub distribution: String,
    /// The count (fixed).
    pub value: Option<f64>,
    /// Median (lognormal, with `p99`).
    pub median: Option<f64>,
    /// 99th percentile (lognormal, with `median`).
    pub p99: Option<f64>,
    /// Mean (lognormal, with `cv`).
    pub mean: Option<f64>,
    /// Coefficient of variation (lognormal, with `mean`).
    pub cv: Option<f64>,
    /// File of observed counts (empirical), relative to the scenario file.
    pub file: Option<String>,
    /// CSV column (empirical).
    pub column: Option<String>,
}

/// `[costs]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCosts {
    /// Multiplier on the memory share of every device price (1 = catalogue prices).
    pub memory_price_multiplier: Option<f64>,
}

/// `[catalog]`: replace the shipped catalogue files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalogFiles {
    /// Device file, relative to the scenario file.
    pub devices_file: Option<String>,
    /// Model file, relative to the scenario file.
    pub models_file: Option<String>,
}

/// `[[placements]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlacement {
    /// Label in tables and files.
    pub name: String,
    /// `dedicated` or `pooled`.
    pub kind: String,
    /// Servers in a pooled fleet.
    pub servers: Option<u64>,
    /// Pooled dispatch: `central_queue` (default), `round_robin`,
    /// `join_shortest_queue`, `power_of_two_choices`, `least_kv_load` (LLM only).
    pub dispatch: Option<String>,
    /// LLM: catalogue device of each server (pooled) or of each user (dedicated).
    pub device: Option<String>,
    /// LLM pooled: devices per server working in tensor parallel. Default 1.
    pub tensor_parallel: Option<u32>,
    /// LLM pooled: parallel efficiency of a tensor-parallel group. Default 0.9.
    pub tp_efficiency: Option<f64>,
    /// LLM pooled: most sequences in one batch. Default 256.
    pub max_batch: Option<u32>,
    /// Network round trip added to TTFT and E2E, seconds. Default 0.05
    /// pooled, 0 dedicated.
    pub network_rtt_s: Option<f64>,
    /// A distribution of round trips instead (seconds), e.g.
    /// `{ distribution = "lognormal", median_s = 0.05, p99_s = 0.3 }`.
    pub network_rtt: Option<RawDist>,
    /// LLM pooled: plan runs of identical decode steps as one event
    /// (default true); false simulates every step (reference mode).
    pub fast_forward: Option<bool>,
    /// Price of one device, USD, replacing the catalogue price (before the
    /// memory price multiplier is applied).
    pub price_usd: Option<f64>,
    /// LLM pooled: chunked prefill, at most this many prompt tokens per step
    /// mixed with the decode batch (default: separate prefill steps).
    pub chunked_prefill_tokens: Option<u32>,
    /// Generic scenarios: this placement's servers take `service_scale` x
    /// the [service] time (e.g. a real-time factor: [service] in audio
    /// seconds, 0.1 on a laptop NPU). Default 1, or for speech classes the
    /// device's catalogue real-time factor (which `service_scale` replaces).
    pub service_scale: Option<f64>,
    /// Class names this placement serves (default: every class).
    pub serves: Option<Vec<String>>,
}

// ----------------------------------------------------------- resolved form

/// Where requests are served.
#[derive(Debug, Clone, PartialEq)]
pub enum PlacementKind {
    /// One device per user.
    Dedicated,
    /// A shared fleet.
    Pooled {
        /// Number of servers.
        servers: usize,
        /// Dispatch policy.
        dispatch: Dispatch,
    },
}

/// How an LLM placement's servers are built.
#[derive(Debug, Clone)]
pub struct LlmServer {
    /// The device of each server or user.
    pub device: Device,
    /// Devices per server (tensor parallel).
    pub tensor_parallel: u32,
    /// Step costs of the model on one server.
    pub step: StepModel,
    /// KV-cache tokens one server holds after its weights.
    pub kv_budget_tokens: u64,
    /// Most sequences in a batch (1 for dedicated devices).
    pub max_batch: u32,
    /// Network round trip added to TTFT and E2E, seconds.
    pub network_rtt_s: f64,
    /// Random round trips (None: the constant `network_rtt_s`).
    pub network_rtt: Option<Dist>,
    /// Fast-forward runs of identical steps.
    pub fast_forward: bool,
    /// Chunked prefill token budget per step (None: separate prefill steps).
    pub chunked_prefill_tokens: Option<u32>,
    /// Price of one device after the memory price multiplier, USD.
    pub capex_per_device_usd: f64,
    /// Mean time of one request served alone (batch 1) on one server, seconds.
    pub mean_request_s: f64,
}

/// A catalogue device that prices a generic (non-LLM) placement.
#[derive(Debug, Clone)]
pub struct PricedDevice {
    /// The device of each server or user.
    pub device: Device,
    /// Price of one device after the memory price multiplier, USD.
    pub capex_per_device_usd: f64,
}

/// One placement to simulate.
#[derive(Debug, Clone)]
pub struct Placement {
    /// Label.
    pub name: String,
    /// What it is.
    pub kind: PlacementKind,
    /// Indices of the classes whose requests it serves, ascending.
    pub serves: Vec<usize>,
    /// Multiplier on each class's generic service time on this placement's
    /// servers (a real-time factor for speech classes), by class index.
    pub service_scale_by_class: Vec<f64>,
    /// LLM servers (LLM classes only).
    pub llm: Option<LlmServer>,
    /// Generic placements with a catalogue `device`: what prices them.
    pub priced_device: Option<PricedDevice>,
    /// Its index in the scenario file, which keys its random streams
    /// (dispatch, network), kept in views so a view draws what the whole
    /// scenario would.
    pub stream_id: u64,
    /// Dedicated placements with `[sizing] dedicated_devices`: the same
    /// placement on each listed catalogue device, or why that device cannot
    /// serve it (e.g. the model does not fit).
    pub device_alternatives: Vec<(String, Result<Placement, String>)>,
}

impl Placement {
    /// `dedicated` or `pooled`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            PlacementKind::Dedicated => "dedicated",
            PlacementKind::Pooled { .. } => "pooled",
        }
    }

    /// Dispatch policy name, `none` for dedicated devices.
    pub fn dispatch_name(&self) -> &'static str {
        match &self.kind {
            PlacementKind::Dedicated => "none",
            PlacementKind::Pooled { dispatch, .. } => dispatch.name(),
        }
    }
}

/// A latency a service level can bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LatencyMetric {
    /// Time queued before service starts.
    Wait,
    /// Time from arrival to the end of service (generic scenarios).
    Response,
    /// Time to first token (LLM scenarios).
    Ttft,
    /// Time per output token after the first (LLM scenarios).
    Tpot,
    /// End-to-end latency (LLM scenarios).
    E2e,
}

impl LatencyMetric {
    /// Name used in keys and columns.
    pub fn name(&self) -> &'static str {
        match self {
            LatencyMetric::Wait => "wait",
            LatencyMetric::Response => "response",
            LatencyMetric::Ttft => "ttft",
            LatencyMetric::Tpot => "tpot",
            LatencyMetric::E2e => "e2e",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "wait" => Some(LatencyMetric::Wait),
            "response" => Some(LatencyMetric::Response),
            "ttft" => Some(LatencyMetric::Ttft),
            "tpot" => Some(LatencyMetric::Tpot),
            "e2e" => Some(LatencyMetric::E2e),
            _ => None,
        }
    }
}

/// What a request is and costs.
#[derive(Debug, Clone)]
pub enum Workload {
    /// A service time per request, the same on every server.
    Generic {
        /// Service time, seconds.
        service: Dist,
    },
    /// LLM requests: token counts, served per the roofline model.
    Llm(LlmWorkload),
}

/// The LLM side of a scenario.
#[derive(Debug, Clone)]
pub struct LlmWorkload {
    /// The model.
    pub model: Model,
    /// Its quantisation.
    pub quantisation: String,
    /// Prompt tokens per request.
    pub input_tokens: Dist,
    /// Output tokens per request.
    pub output_tokens: Dist,
    /// Multiplier on the memory share of device prices.
    pub memory_price_multiplier: f64,
}

/// "The `percentile` of `metric` must not exceed `max_s`".
#[derive(Debug, Clone, PartialEq)]
pub struct PercentileTarget {
    /// What is bounded.
    pub metric: LatencyMetric,
    /// Percentile in (0, 100).
    pub percentile: f64,
    /// Bound, seconds.
    pub max_s: f64,
}

impl PercentileTarget {
    /// Column name of the bounded percentile, e.g. `wait_p99_s`, `response_p999_s`.
    pub fn label(&self) -> String {
        format!(
            "{}_{}_s",
            self.metric.name(),
            crate::core::units::percentile_label(self.percentile)
        )
    }
}

/// "At most `max_share` of requests wait longer than `above_s`".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitTailTarget {
    /// Wait threshold, seconds (0: any wait).
    pub above_s: f64,
    /// Largest share of requests allowed above it.
    pub max_share: f64,
}

/// DistServe-style: at least `share` of requests meet every bound at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttainmentTarget {
    /// Required share of requests, in (0, 1].
    pub share: f64,
    /// TTFT bound, seconds (infinite: none).
    pub ttft_s: f64,
    /// TPOT bound, seconds (infinite: none).
    pub tpot_s: f64,
    /// E2E bound, seconds (infinite: none).
    pub e2e_s: f64,
}

/// All targets of a scenario (possibly none: then nothing is judged). Every
/// target must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceLevel {
    /// Percentile bounds.
    pub targets: Vec<PercentileTarget>,
    /// A bound on the share of requests waiting longer than a threshold.
    pub wait_tail: Option<WaitTailTarget>,
    /// An attainment target (LLM scenarios).
    pub attainment: Option<AttainmentTarget>,
}

impl ServiceLevel {
    /// True when nothing is bounded.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty() && self.wait_tail.is_none() && self.attainment.is_none()
    }

    /// One line per target, for printing.
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .targets
            .iter()
            .map(|t| format!("{} <= {} s", t.label(), t.max_s))
            .collect();
        if let Some(w) = self.wait_tail {
            out.push(format!("P(wait > {} s) <= {}", w.above_s, w.max_share));
        }
        if let Some(a) = self.attainment {
            let mut bounds = Vec::new();
            for (n, v) in [("TTFT", a.ttft_s), ("TPOT", a.tpot_s), ("E2E", a.e2e_s)] {
                if v.is_finite() {
                    bounds.push(format!("{n} <= {v} s"));
                }
            }
            out.push(format!(
                "at least {} of requests meet {}",
                a.share,
                bounds.join(" and ")
            ));
        }
        out
    }
}

/// One class of users: a contiguous range of user ids with its own way of
/// sending requests, request sizes, model and service level.
#[derive(Debug, Clone)]
pub struct UserClass {
    /// Label (`all` when the scenario has no `[[classes]]`).
    pub name: String,
    /// Its groups in [`Scenario::arrivals`] (time zones), a contiguous range.
    pub groups: std::ops::Range<usize>,
    /// How its users send requests.
    pub behaviour: Behaviour,
    /// What its requests are.
    pub workload: Workload,
    /// Mean requests per user per day, follow-ups included.
    pub requests_per_user_per_day: f64,
    /// Mean device-seconds of one of its requests served alone on its
    /// reference placement (the first dedicated one serving it), seconds.
    pub mean_service_s: f64,
    /// Its targets.
    pub service_level: ServiceLevel,
}

/// Placements reported together as one answer.
#[derive(Debug, Clone)]
pub struct Hybrid {
    /// Label.
    pub name: String,
    /// Indices of its placements; their served classes split all classes.
    pub parts: Vec<usize>,
}

/// A validated scenario, ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name (output folder).
    pub name: String,
    /// The file it came from.
    pub source: PathBuf,
    /// Scenario seed.
    pub seed: u64,
    /// Arrivals are generated in `[0, horizon_s)`, seconds.
    pub horizon_s: f64,
    /// Statistics cover arrivals in `[warmup_s, horizon_s)`, seconds.
    pub warmup_s: f64,
    /// Independent replications.
    pub replications: usize,
    /// Number of users (all classes).
    pub users: usize,
    /// Mean requests per user per day over all users (derived when a duty
    /// cycle was given; follow-ups included).
    pub requests_per_user_per_day: f64,
    /// The merged open-loop arrival process of all classes, their groups in
    /// class order (session starts for sessions; agents' groups have rate 0).
    pub arrivals: PoissonArrivals,
    /// The population's classes (one, `all`, without `[[classes]]`).
    pub classes: Vec<UserClass>,
    /// Replayed requests (arrival order, users assigned), when `[trace]` is given.
    pub trace: Option<Arc<Vec<crate::workload::trace::TraceRequest>>>,
    /// Mean device-seconds of one request served alone, request-weighted
    /// over classes (each class on its reference placement), seconds.
    pub mean_service_s: f64,
    /// Placements to compare.
    pub placements: Vec<Placement>,
    /// Placements combined into one answer.
    pub hybrids: Vec<Hybrid>,
    /// Targets (of the first class; classes served together share them).
    pub service_level: ServiceLevel,
    /// Sizing options.
    pub sizing: SizingConfig,
}

impl Scenario {
    /// Read, parse and validate a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Parse and validate scenario text; `path` names it in errors and
    /// anchors relative file references.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        let raw = parse_raw(text, path)?;
        resolve(raw, path)
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

    /// Mean offered load in Erlangs: every class's request rate (follow-ups
    /// included) x its mean service time alone on its reference device.
    pub fn offered_load_erlangs(&self) -> f64 {
        (0..self.classes.len())
            .map(|c| self.class_request_rate_per_s(c) * self.classes[c].mean_service_s)
            .sum()
    }

    /// First user id and number of users of class `class`.
    pub fn class_users(&self, class: usize) -> (u32, u32) {
        let groups = &self.arrivals.groups()[self.classes[class].groups.clone()];
        let first = groups.first().map_or(0, |g| g.first_user);
        (first, groups.iter().map(|g| g.users).sum())
    }

    /// Names of the classes `which`, joined with `+` (the `classes` column).
    pub fn classes_label(&self, which: &[usize]) -> String {
        which
            .iter()
            .map(|&c| self.classes[c].name.as_str())
            .collect::<Vec<_>>()
            .join("+")
    }

    /// Names of every class, joined with `+`.
    pub fn all_classes_label(&self) -> String {
        self.classes_label(&(0..self.classes.len()).collect::<Vec<_>>())
    }

    /// One past the last user id of each class, in class order (classes
    /// hold contiguous id ranges); see [`crate::core::classes::class_index`].
    pub fn class_ends(&self) -> Vec<u32> {
        (0..self.classes.len())
            .map(|c| {
                let (first, n) = self.class_users(c);
                first + n
            })
            .collect()
    }

    /// Class of user `user`.
    pub fn class_of_user(&self, user: u32) -> usize {
        crate::core::classes::class_index(&self.class_ends(), user)
    }

    /// The users and how they send requests, as the request source needs them.
    pub fn population(&self) -> crate::workload::Population<'_> {
        crate::workload::Population {
            seed: self.seed,
            horizon_s: self.horizon_s,
            users: self.users,
            arrivals: &self.arrivals,
            behaviours: self.classes.iter().map(|c| &c.behaviour).collect(),
            class_ends: self.class_ends(),
            trace: self.trace.as_deref().map(|t| t.as_slice()),
        }
    }

    /// Mean request rate of class `class` (all its users, follow-ups
    /// included), requests per second.
    pub fn class_request_rate_per_s(&self, class: usize) -> f64 {
        self.class_users(class).1 as f64 * self.classes[class].requests_per_user_per_day / DAY_S
    }

    /// All requests (follow-ups included) as one Poisson-like process over
    /// the day: each class's groups at the class's full per-user rate
    /// (agents flat). Its mean and peak rates bound fleets analytically.
    pub fn request_rate_process(&self) -> PoissonArrivals {
        let mut groups = Vec::new();
        for class in &self.classes {
            for g in &self.arrivals.groups()[class.groups.clone()] {
                let mut g = g.clone();
                g.rate_per_user_per_s = class.requests_per_user_per_day / DAY_S;
                if matches!(class.behaviour, Behaviour::Agent { .. }) {
                    g.profile = DiurnalProfile::flat();
                }
                groups.push(g);
            }
        }
        PoissonArrivals::new(groups)
    }

    /// Users served by `placement`.
    pub fn served_users(&self, placement: usize) -> usize {
        self.placements[placement]
            .serves
            .iter()
            .map(|&c| self.class_users(c).1 as usize)
            .sum()
    }

    /// Share of `placement`'s requests that come from each class it
    /// serves, in `serves` order (equal shares when no class sends any).
    fn served_request_shares(&self, placement: usize) -> Vec<(usize, f64)> {
        let serves = &self.placements[placement].serves;
        let rates: Vec<f64> = serves
            .iter()
            .map(|&c| self.class_request_rate_per_s(c))
            .collect();
        let total: f64 = rates.iter().sum();
        serves
            .iter()
            .zip(&rates)
            .map(|(&c, r)| {
                let share = if total > 0.0 {
                    r / total
                } else {
                    1.0 / serves.len() as f64
                };
                (c, share)
            })
            .collect()
    }

    /// The workload of `placement`'s classes (they share its kind and model).
    pub fn workload_of(&self, placement: usize) -> &Workload {
        &self.classes[self.placements[placement].serves[0]].workload
    }

    /// The LLM served by `placement`, if it serves LLM classes.
    pub fn llm_of(&self, placement: usize) -> Option<&LlmWorkload> {
        match self.workload_of(placement) {
            Workload::Llm(l) => Some(l),
            Workload::Generic { .. } => None,
        }
    }

    /// Mean service time of one of `placement`'s generic requests on one of
    /// its servers, seconds (request-weighted over the classes it serves).
    pub fn generic_mean_service_s(&self, placement: usize) -> f64 {
        let p = &self.placements[placement];
        self.served_request_shares(placement)
            .iter()
            .map(|&(c, share)| match &self.classes[c].workload {
                Workload::Generic { service } => {
                    share * service.mean() * p.service_scale_by_class[c]
                }
                Workload::Llm(_) => 0.0,
            })
            .sum()
    }

    /// A copy holding only `placement` and the classes it serves (users
    /// renumbered from 0, class order kept). Running a placement on its view
    /// equals running it in the whole scenario: placements serving the same
    /// classes see the same requests (common random numbers).
    pub fn view(&self, placement: usize) -> Scenario {
        let p = &self.placements[placement];
        let mut s = self.clone();
        let mut groups = Vec::new();
        let mut classes = Vec::with_capacity(p.serves.len());
        let mut first = 0u32;
        for &c in &p.serves {
            let class = &self.classes[c];
            let start = groups.len();
            for g in &self.arrivals.groups()[class.groups.clone()] {
                let mut g = g.clone();
                g.first_user = first;
                first += g.users;
                groups.push(g);
            }
            classes.push(UserClass {
                groups: start..groups.len(),
                ..class.clone()
            });
        }
        let mut q = p.clone();
        q.service_scale_by_class = p
            .serves
            .iter()
            .map(|&c| p.service_scale_by_class[c])
            .collect();
        q.serves = (0..classes.len()).collect();
        s.service_level = classes[0].service_level.clone();
        s.arrivals = PoissonArrivals::new(groups);
        s.users = first as usize;
        s.classes = classes;
        s.placements = vec![q];
        s.hybrids = Vec::new();
        s.refresh_means();
        s
    }

    /// Rate multipliers of class `class`'s users (1 for users without a
    /// rate spread), in user id order.
    pub fn class_rate_multipliers(&self, class: usize) -> Vec<f64> {
        let mut out = Vec::new();
        for g in &self.arrivals.groups()[self.classes[class].groups.clone()] {
            match &g.spread {
                Some(sp) => out.extend(sp.weights.iter().copied()),
                None => out.extend(std::iter::repeat_n(1.0, g.users as usize)),
            }
        }
        out
    }

    /// The users of class `class` whose rate multiplier `keep` accepts, as a
    /// scenario of their own (that class only, the first placement only).
    /// Dedicated devices share nothing, so these users see what they would
    /// see in the whole population. None when no user is kept.
    pub fn restrict_users(&self, class: usize, keep: impl Fn(f64) -> bool) -> Option<Scenario> {
        let mut s = self.clone();
        let mut groups = Vec::new();
        let mut first = 0u32;
        let mut kept_sum = 0.0;
        let all = self.class_rate_multipliers(class);
        for g in &self.arrivals.groups()[self.classes[class].groups.clone()] {
            let weights: Vec<f64> = match &g.spread {
                Some(sp) => sp.weights.iter().copied().filter(|w| keep(*w)).collect(),
                None => std::iter::repeat_n(1.0, g.users as usize)
                    .filter(|w| keep(*w))
                    .collect(),
            };
            if weights.is_empty() {
                continue;
            }
            kept_sum += weights.iter().sum::<f64>();
            let n = weights.len() as u32;
            let mut g = g.clone();
            g.first_user = first;
            g.users = n;
            if g.spread.is_some() {
                g.spread = Some(Arc::new(crate::workload::arrivals::RateSpread::new(
                    weights,
                )));
            }
            first += n;
            groups.push(g);
        }
        if first == 0 {
            return None;
        }
        let class_mean = all.iter().sum::<f64>() / all.len().max(1) as f64;
        let kept_mean = kept_sum / first as f64;
        let mut k = self.classes[class].clone();
        k.groups = 0..groups.len();
        if class_mean > 0.0 {
            k.requests_per_user_per_day *= kept_mean / class_mean;
        }
        let mut p = self.placements[0].clone();
        p.service_scale_by_class = vec![p.service_scale_by_class[class]];
        p.serves = vec![0];
        if let Some(l) = p.llm.as_mut() {
            // This class's batch-1 time on this device (the placement's
            // mean was mixed over its classes).
            if self.mean_service_s > 0.0 {
                l.mean_request_s *= k.mean_service_s / self.mean_service_s;
            }
        }
        s.service_level = k.service_level.clone();
        s.classes = vec![k];
        s.arrivals = PoissonArrivals::new(groups);
        s.users = first as usize;
        s.placements = vec![p];
        s.hybrids = Vec::new();
        s.refresh_means();
        Some(s)
    }

    /// A copy with `counts[c]` users in class `c` (each class keeps its
    /// per-user load, profile and time-zone mix; users renumbered from 0).
    /// Sizing builds pools of a given class composition this way.
    pub fn with_class_users(&self, counts: &[u32]) -> Scenario {
        let mut s = self.clone();
        let mut groups = Vec::new();
        let mut first = 0u32;
        for (c, class) in self.classes.iter().enumerate() {
            let own = PoissonArrivals::new(self.arrivals.groups()[class.groups.clone()].to_vec());
            let start = groups.len();
            for g in own.with_users(counts[c]).groups() {
                let mut g = g.clone();
                g.first_user = first;
                first += g.users;
                groups.push(g);
            }
            s.classes[c].groups = start..groups.len();
        }
        s.arrivals = PoissonArrivals::new(groups);
        s.users = first as usize;
        s.refresh_means();
        s
    }

    /// Recompute the population means after classes or users changed.
    fn refresh_means(&mut self) {
        let rates: Vec<f64> = (0..self.classes.len())
            .map(|c| self.class_request_rate_per_s(c))
            .collect();
        let total: f64 = rates.iter().sum();
        self.requests_per_user_per_day = total * DAY_S / self.users.max(1) as f64;
        self.mean_service_s = if total > 0.0 {
            rates
                .iter()
                .zip(&self.classes)
                .map(|(r, c)| r * c.mean_service_s)
                .sum::<f64>()
                / total
        } else {
            self.classes.iter().map(|c| c.mean_service_s).sum::<f64>() / self.classes.len() as f64
        };
    }

    /// The view of `placement` (see [`Scenario::view`]) for `users` of its
    /// users (same per-user load and class mix), optionally with `servers`
    /// servers and another horizon. Sizing probes are built this way.
    pub fn probe(
        &self,
        placement: usize,
        users: usize,
        servers: Option<usize>,
        horizon_s: f64,
    ) -> Scenario {
        let mut s = self.view(placement);
        if let (Some(n), PlacementKind::Pooled { servers, .. }) =
            (servers, &mut s.placements[0].kind)
        {
            *servers = n;
        }
        if users != s.users {
            s.users = users;
            s.arrivals = s.arrivals.with_users(users as u32);
            s.refresh_means();
        }
        s.horizon_s = horizon_s;
        s
    }

    /// Percentile `q` (0..1) of a request's service time alone on a server
    /// of `placement` (generic: the service time; LLM: prefill, or prefill +
    /// decode when `whole` is true), from a fixed sample of 20,000 requests
    /// mixed over the classes it serves by their request rates.
    pub fn service_quantile_s(&self, placement: usize, q: f64, whole: bool) -> f64 {
        let p = &self.placements[placement];
        let mut v: Vec<f64> = Vec::with_capacity(20_000);
        for (c, share) in self.served_request_shares(placement) {
            let n = ((share * 20_000.0).round() as usize).max(1);
            match (&self.classes[c].workload, &p.llm) {
                (Workload::Llm(l), Some(server)) => {
                    v.extend(token_sample(l).iter().take(n).map(|&(i, o)| {
                        let (pre, dec) = server.step.single_request_s(i as u64, o as u64);
                        if whole {
                            pre + dec
                        } else {
                            pre
                        }
                    }))
                }
                (Workload::Generic { service }, _) => {
                    let mut rng = stream_rng(0x70_6b_65_6e, 0, StreamKind::Arrivals, 1);
                    let scale = p.service_scale_by_class[c];
                    v.extend((0..n).map(|_| service.sample(&mut rng) * scale));
                }
                (Workload::Llm(_), None) => return 0.0,
            }
        }
        v.sort_by(f64::total_cmp);
        let idx = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
        v[idx]
    }

    /// Mean prompt and output tokens of `placement`'s requests (LLM),
    /// request-weighted over the classes it serves, from fixed samples.
    pub fn mean_tokens(&self, placement: usize) -> Option<(f64, f64)> {
        self.llm_of(placement)?;
        let mut mean = (0.0, 0.0);
        for (c, share) in self.served_request_shares(placement) {
            let Workload::Llm(l) = &self.classes[c].workload else {
                continue;
            };
            let sample = token_sample(l);
            let n = sample.len() as f64;
            mean.0 += share * sample.iter().map(|x| x.0 as f64).sum::<f64>() / n;
            mean.1 += share * sample.iter().map(|x| x.1 as f64).sum::<f64>() / n;
        }
        Some(mean)
    }
}

fn parse_raw(text: &str, path: &Path) -> Result<RawScenario, ScenarioError> {
    crate::core::error::deserialize_toml(text).map_err(|(key, message)| ScenarioError::Parse {
        file: path.to_path_buf(),
        key,
        message,
    })
}

/// Builds `Invalid` errors for one file.
struct Check<'a> {
    file: &'a Path,
}

impl Check<'_> {
    fn err(&self, key: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.to_path_buf(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// Reject keys of a distribution table that its `distribution` does not
    /// use (they would be silently ignored): `given` pairs each key with
    /// whether it is set, `allowed` lists the ones this distribution takes.
    fn only_keys(
        &self,
        key: &str,
        distribution: &str,
        given: &[(&str, bool)],
        allowed: &[&str],
    ) -> Result<(), ScenarioError> {
        match given.iter().find(|(n, set)| *set && !allowed.contains(n)) {
            Some((extra, _)) => Err(self.err(
                format!("{key}.{extra}"),
                format!(
                    "not used by a {distribution} distribution (it takes {})",
                    allowed.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    /// A finite number > 0.
    fn positive(&self, key: &str, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.err(key, format!("must be a number greater than 0 (got {v})")))
        }
    }

    /// A finite number >= 0.
    fn non_negative(&self, key: &str, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(self.err(key, format!("must be a number of at least 0 (got {v})")))
        }
    }

    /// Exactly one of a seconds key and an hours key.
    fn seconds_or_hours(
        &self,
        s_key: &str,
        s: Option<f64>,
        h_key: &str,
        h: Option<f64>,
    ) -> Result<Option<f64>, ScenarioError> {
        match (s, h) {
            (Some(_), Some(_)) => Err(self.err(
                s_key,
                format!("give either `{s_key}` or `{h_key}`, not both"),
            )),
            (Some(s), None) => Ok(Some(s)),
            (None, Some(h)) => Ok(Some(h * 3600.0)),
            (None, None) => Ok(None),
        }
    }
}

fn resolve(mut raw: RawScenario, path: &Path) -> Result<Scenario, ScenarioError> {
    let c = Check { file: path };
    let Some(classes) = raw.classes.take() else {
        if raw.hybrids.is_some() {
            return Err(c.err(
                "hybrids",
                "combine placements that serve different [[classes]]: add [[classes]] or remove [[hybrids]]",
            ));
        }
        if let Some(i) = raw.placements.iter().position(|p| p.serves.is_some()) {
            return Err(c.err(
                format!("placements[{i}].serves"),
                "names classes, but the scenario has no [[classes]]: add them or remove `serves`",
            ));
        }
        return resolve_one(raw, path, None);
    };
    resolve_classes(raw, classes, path)
}

/// The `[users]` of one class: its own keys, the rest from `[users]` (load
/// keys and behaviour keys inherited as groups: a class that sets any load
/// key (`requests_per_day`, `duty_cycle`) or any behaviour key (`arrivals`,
/// session and agent keys) takes none of that group from `[users]`).
fn class_users(u: &RawUsers, k: &RawClass, count: u64) -> RawUsers {
    let own_load = k.requests_per_day.is_some() || k.duty_cycle.is_some();
    let own_behaviour = k.arrivals.is_some()
        || k.session_requests_mean.is_some()
        || k.think_time.is_some()
        || k.agent_gap.is_some()
        || k.agent_start_spread_s.is_some();
    fn pick<T: Clone>(own: bool, mine: &Option<T>, base: &Option<T>) -> Option<T> {
        if own {
            mine.clone()
        } else {
            base.clone()
        }
    }
    let agent = k.arrivals.as_deref() == Some("agent");
    RawUsers {
        count,
        requests_per_day: pick(own_load, &k.requests_per_day, &u.requests_per_day),
        duty_cycle: pick(own_load, &k.duty_cycle, &u.duty_cycle),
        profile: k.profile.clone().or_else(|| u.profile.clone()),
        timezones: k.timezones.clone().or_else(|| u.timezones.clone()),
        arrivals: pick(own_behaviour, &k.arrivals, &u.arrivals),
        session_requests_mean: pick(
            own_behaviour,
            &k.session_requests_mean,
            &u.session_requests_mean,
        ),
        think_time: pick(own_behaviour, &k.think_time, &u.think_time),
        agent_gap: pick(own_behaviour, &k.agent_gap, &u.agent_gap),
        agent_start_spread_s: pick(
            own_behaviour,
            &k.agent_start_spread_s,
            &u.agent_start_spread_s,
        ),
        requests_per_day_cv: k.requests_per_day_cv.or(if agent {
            None
        } else {
            u.requests_per_day_cv
        }),
    }
}

/// Point an error found while resolving class `ci` on its own at the key
/// the user wrote: the class's own key when it set it, the placement's
/// index in the file, and the class's name in the message.
fn rekey_class_error(
    e: ScenarioError,
    ci: usize,
    k: &RawClass,
    placements: &[usize],
) -> ScenarioError {
    let ScenarioError::Invalid { file, key, message } = e else {
        return e;
    };
    let set = |field: &str| -> bool {
        match field {
            "requests_per_day" => k.requests_per_day.is_some(),
            "duty_cycle" => k.duty_cycle.is_some(),
            "profile" => k.profile.is_some(),
            "timezones" => k.timezones.is_some(),
            "arrivals" => k.arrivals.is_some(),
            "session_requests_mean" => k.session_requests_mean.is_some(),
            "think_time" => k.think_time.is_some(),
            "agent_gap" => k.agent_gap.is_some(),
            "agent_start_spread_s" => k.agent_start_spread_s.is_some(),
            "requests_per_day_cv" => k.requests_per_day_cv.is_some(),
            "model" => k.model.is_some(),
            "requests" => k.requests.is_some(),
            "service" => k.service.is_some(),
            "service_level" => k.service_level.is_some(),
            _ => false,
        }
    };
    let head = key.split(['.', '[']).next().unwrap_or("").to_string();
    let new_key = if let Some(rest) = key.strip_prefix("users.") {
        let field = rest.split(['.', '[']).next().unwrap_or("");
        if set(field) {
            format!("classes[{ci}].{rest}")
        } else {
            key.clone()
        }
    } else if let Some(rest) = key.strip_prefix("placements[") {
        match rest.split_once(']') {
            Some((j, tail)) => match j.parse::<usize>().ok().and_then(|j| placements.get(j)) {
                Some(orig) => format!("placements[{orig}]{tail}"),
                None => key.clone(),
            },
            None => key.clone(),
        }
    } else if set(&head) {
        format!("classes[{ci}].{key}")
    } else {
        key.clone()
    };
    ScenarioError::Invalid {
        file,
        key: new_key,
        message: format!("in class {:?}: {message}", k.name),
    }
}

/// Resolve a population of `[[classes]]`: each class on its own (with the
/// placements that serve it), then joined. Classes hold contiguous user id
/// ranges in file order.
fn resolve_classes(
    raw: RawScenario,
    classes: Vec<RawClass>,
    path: &Path,
) -> Result<Scenario, ScenarioError> {
    let c = Check { file: path };
    if classes.is_empty() {
        return Err(c.err(
            "classes",
            "is empty: list at least one [[classes]] entry or remove the key",
        ));
    }
    if raw.trace.is_some() {
        return Err(c.err(
            "trace",
            "a trace replays one population: remove [[classes]] or [trace]",
        ));
    }
    let names: Vec<&str> = classes.iter().map(|k| k.name.as_str()).collect();
    for (i, k) in classes.iter().enumerate() {
        if k.name.is_empty() || names[..i].contains(&k.name.as_str()) {
            return Err(c.err(
                format!("classes[{i}].name"),
                format!("{:?}: each class needs a distinct, non-empty name", k.name),
            ));
        }
        if !(k.share.is_finite() && k.share >= 0.0 && k.share <= 1.0) {
            return Err(c.err(
                format!("classes[{i}].share"),
                format!("must be a share of the users in [0, 1] (got {})", k.share),
            ));
        }
    }
    let total_share: f64 = classes.iter().map(|k| k.share).sum();
    if (total_share - 1.0).abs() > 1e-6 {
        return Err(c.err(
            "classes",
            format!(
                "shares must sum to 1 (got {})",
                (total_share * 1e9).round() / 1e9
            ),
        ));
    }
    // Users per class: cumulative rounding, so the counts add up.
    let total_users = raw.users.count;
    let mut counts = Vec::with_capacity(classes.len());
    let mut cum = 0.0;
    let mut prev = 0u64;
    for (i, k) in classes.iter().enumerate() {
        cum += k.share;
        let last_with_users = classes[i + 1..].iter().all(|k| k.share == 0.0);
        let end = if last_with_users {
            total_users
        } else {
            ((cum * total_users as f64).round() as u64).min(total_users)
        };
        if k.share == 0.0 {
            // An empty class (e.g. one end of a sweep over the mix).
            counts.push(0);
            continue;
        }
        if end <= prev {
            return Err(c.err(
                format!("classes[{i}].share"),
                format!(
                    "gives class {:?} none of the {total_users} users: raise its share or [users] count",
                    k.name
                ),
            ));
        }
        counts.push(end - prev);
        prev = end;
    }
    for (j, p) in raw.placements.iter().enumerate() {
        if let Some(list) = &p.serves {
            if list.is_empty() {
                return Err(c.err(
                    format!("placements[{j}].serves"),
                    "is empty: list class names, or remove it to serve every class",
                ));
            }
            if let Some(bad) = list.iter().find(|n| !names.contains(&n.as_str())) {
                return Err(c.err(
                    format!("placements[{j}].serves"),
                    format!("unknown class {bad:?}: use one of {}", names.join(", ")),
                ));
            }
        }
    }

    // Each class alone, with the placements serving it.
    let mut subs: Vec<(Scenario, Vec<usize>)> = Vec::with_capacity(classes.len());
    for (ci, k) in classes.iter().enumerate() {
        // An empty class (share 0) is still checked, as one user, so that a
        // sweep over the mix cannot hide a bad key; then left out.
        let empty = counts[ci] == 0;
        let key = |f: &str| format!("classes[{ci}].{f}");
        let task = match &k.task {
            None => None,
            Some(t) => Some(SpeechTask::parse(t).ok_or_else(|| {
                c.err(
                    key("task"),
                    format!("unknown task {t:?}: use \"speech_to_text\" or \"text_to_speech\" (or remove it for a generic or LLM class)"),
                )
            })?),
        };
        if task.is_some() && k.service.is_none() {
            return Err(c.err(
                key("service"),
                "missing: a speech class needs `service`, the seconds of audio per request",
            ));
        }
        if k.service.is_some() && (k.model.is_some() || k.requests.is_some()) {
            return Err(c.err(
                key("service"),
                "give either `service` (a generic or speech class) or `model` / `requests` (an LLM class), not both",
            ));
        }
        let mut sub = raw.clone();
        sub.classes = None;
        sub.hybrids = None;
        sub.sweep = None;
        sub.users = class_users(&raw.users, k, counts[ci].max(1));
        if let Some(svc) = &k.service {
            sub.service = Some(svc.clone());
            sub.model = None;
            sub.requests = None;
        }
        if let Some(m) = &k.model {
            sub.model = Some(m.clone());
            sub.service = None;
        }
        if let Some(r) = &k.requests {
            sub.requests = Some(r.clone());
            sub.service = None;
        }
        if k.service_level.is_some() {
            sub.service_level = k.service_level.clone();
        }
        let idx: Vec<usize> = raw
            .placements
            .iter()
            .enumerate()
            .filter(|(_, p)| p.serves.as_ref().is_none_or(|l| l.contains(&k.name)))
            .map(|(j, _)| j)
            .collect();
        if idx.is_empty() {
            return Err(c.err(
                format!("classes[{ci}]"),
                format!("no placement serves class {:?}: add it to a placement's `serves` (or leave `serves` out to serve every class)", k.name),
            ));
        }
        sub.placements = idx
            .iter()
            .map(|&j| {
                let mut p = raw.placements[j].clone();
                p.serves = None;
                p
            })
            .collect();
        let mut r = resolve_one(sub, path, task).map_err(|e| rekey_class_error(e, ci, k, &idx))?;
        r.classes[0].name = k.name.clone();
        if !empty {
            subs.push((r, idx));
        }
    }

    // Join: merged arrivals (class order), classes, placements.
    let mut groups = Vec::new();
    let mut user_classes = Vec::with_capacity(subs.len());
    let mut first = 0u32;
    for (r, _) in subs.iter() {
        let start = groups.len();
        for g in r.arrivals.groups() {
            let mut g = g.clone();
            g.first_user += first;
            groups.push(g);
        }
        first += r.users as u32;
        let mut class = r.classes[0].clone();
        class.groups = start..groups.len();
        user_classes.push(class);
    }
    let mut placements = Vec::with_capacity(raw.placements.len());
    for j in 0..raw.placements.len() {
        let mut served: Vec<(usize, &Placement)> = Vec::new();
        for (ci, (r, idx)) in subs.iter().enumerate() {
            if let Some(pos) = idx.iter().position(|&x| x == j) {
                served.push((ci, &r.placements[pos]));
            }
        }
        let Some(&(c0, p0)) = served.first() else {
            return Err(c.err(
                format!("placements[{j}].serves"),
                "serves no class: list at least one class name",
            ));
        };
        let w0 = &user_classes[c0].workload;
        for &(ci, _) in &served[1..] {
            let w = &user_classes[ci].workload;
            let same = match (w0, w) {
                (Workload::Generic { .. }, Workload::Generic { .. }) => true,
                (Workload::Llm(a), Workload::Llm(b)) => {
                    a.model.name == b.model.name && a.quantisation == b.quantisation
                }
                _ => false,
            };
            if !same {
                return Err(c.err(
                    format!("placements[{j}].serves"),
                    format!(
                        "serves classes {:?} ({}) and {:?} ({}): one server holds one model; give each its own placement and join them in [[hybrids]]",
                        user_classes[c0].name,
                        workload_label(w0),
                        user_classes[ci].name,
                        workload_label(w)
                    ),
                ));
            }
            if user_classes[ci].service_level != user_classes[c0].service_level {
                return Err(c.err(
                    format!("placements[{j}].serves"),
                    format!(
                        "serves classes {:?} and {:?} with different service levels: one fleet is sized for one service level; give each its own placement",
                        user_classes[c0].name, user_classes[ci].name
                    ),
                ));
            }
        }
        let mut p = p0.clone();
        p.serves = served.iter().map(|(ci, _)| *ci).collect();
        p.service_scale_by_class = vec![1.0; user_classes.len()];
        for (ci, q) in &served {
            p.service_scale_by_class[*ci] = q.service_scale_by_class[0];
        }
        p.stream_id = j as u64;
        // A device alternative serves the placement if it serves every
        // class the placement serves.
        p.device_alternatives = p0
            .device_alternatives
            .iter()
            .enumerate()
            .map(|(d, (name, _))| {
                let mut problems = Vec::new();
                let mut alt: Option<Placement> = None;
                for (ci, q) in &served {
                    match &q.device_alternatives[d].1 {
                        Ok(a) => {
                            let a0 = alt.get_or_insert_with(|| {
                                let mut a0 = a.clone();
                                a0.serves = p.serves.clone();
                                a0.service_scale_by_class = vec![1.0; user_classes.len()];
                                a0.stream_id = j as u64;
                                a0
                            });
                            a0.service_scale_by_class[*ci] = a.service_scale_by_class[0];
                        }
                        Err(m) => problems.push(format!("class {:?}: {m}", user_classes[*ci].name)),
                    }
                }
                let result = match (problems.is_empty(), alt) {
                    (true, Some(a)) => Ok(a),
                    _ => Err(problems.join("; ")),
                };
                (name.clone(), result)
            })
            .collect();
        placements.push(p);
    }
    // Hybrids: their parts split the classes.
    let mut hybrids = Vec::new();
    for (h, raw_h) in raw.hybrids.iter().flatten().enumerate() {
        let key = |f: &str| format!("hybrids[{h}].{f}");
        if raw_h.name.is_empty()
            || hybrids.iter().any(|x: &Hybrid| x.name == raw_h.name)
            || placements.iter().any(|p| p.name == raw_h.name)
        {
            return Err(c.err(
                key("name"),
                format!(
                    "{:?}: a hybrid needs a non-empty name no placement or other hybrid uses",
                    raw_h.name
                ),
            ));
        }
        let mut parts = Vec::new();
        let mut covered = vec![0usize; user_classes.len()];
        for n in &raw_h.parts {
            let j = placements
                .iter()
                .position(|p| &p.name == n)
                .ok_or_else(|| {
                    c.err(
                        key("parts"),
                        format!(
                            "unknown placement {n:?}: use one of {}",
                            placements
                                .iter()
                                .map(|p| p.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?;
            for &ci in &placements[j].serves {
                covered[ci] += 1;
            }
            parts.push(j);
        }
        if parts.len() < 2 {
            return Err(c.err(
                key("parts"),
                "needs at least two placements (one placement is reported on its own)",
            ));
        }
        if let Some(ci) = covered.iter().position(|&n| n != 1) {
            return Err(c.err(
                key("parts"),
                format!(
                    "class {:?} is served by {} of the parts: every class must be served by exactly one part (set each part's `serves`)",
                    user_classes[ci].name, covered[ci]
                ),
            ));
        }
        hybrids.push(Hybrid {
            name: raw_h.name.clone(),
            parts,
        });
    }

    let (first_sub, _) = &subs[0];
    let mut s = Scenario {
        name: first_sub.name.clone(),
        source: path.to_path_buf(),
        seed: first_sub.seed,
        horizon_s: first_sub.horizon_s,
        warmup_s: first_sub.warmup_s,
        replications: first_sub.replications,
        users: first as usize,
        requests_per_user_per_day: 0.0,
        arrivals: PoissonArrivals::new(groups),
        classes: user_classes,
        trace: None,
        mean_service_s: 0.0,
        placements,
        hybrids,
        service_level: first_sub.service_level.clone(),
        sizing: resolve_sizing(&c, raw.sizing.as_ref(), total_users as usize)?,
    };
    s.refresh_means();
    // An LLM placement's batch-1 request time (and that of each of its
    // device alternatives): request-weighted over the classes it serves,
    // each class's own on its own resolution (its token counts).
    for j in 0..s.placements.len() {
        let shares = s.served_request_shares(j);
        // Per served class (class order, as `shares`): the time of the
        // placement picked by `pick` in that class's resolution.
        let mixed = |pick: &dyn Fn(&Placement) -> Option<f64>| -> Option<f64> {
            let times: Vec<f64> = subs
                .iter()
                .filter_map(|(r, idx)| {
                    let pos = idx.iter().position(|&x| x == j)?;
                    pick(&r.placements[pos])
                })
                .collect();
            (times.len() == shares.len())
                .then(|| shares.iter().zip(&times).map(|((_, sh), t)| sh * t).sum())
        };
        let request_s = |p: &Placement| p.llm.as_ref().map(|l| l.mean_request_s);
        let main = mixed(&request_s);
        if let (Some(l), Some(t)) = (s.placements[j].llm.as_mut(), main) {
            l.mean_request_s = t;
        }
        for d in 0..s.placements[j].device_alternatives.len() {
            let on_device =
                |p: &Placement| p.device_alternatives[d].1.as_ref().ok().and_then(request_s);
            let t = mixed(&on_device);
            if let (Ok(a), Some(t)) = (&mut s.placements[j].device_alternatives[d].1, t) {
                if let Some(l) = a.llm.as_mut() {
                    l.mean_request_s = t;
                }
            }
        }
    }
    Ok(s)
}

/// Largest `service_scale` (and catalogue real-time factor) accepted.
pub const MAX_SERVICE_SCALE: f64 = 1e6;

/// Resolve placement `i` of the file for a workload (and a speech task).
#[allow(clippy::too_many_arguments)]
fn resolve_placement(
    c: &Check,
    i: usize,
    p: &RawPlacement,
    workload: &Workload,
    task: Option<SpeechTask>,
    catalog_files: Option<&RawCatalogFiles>,
    base_dir: &Path,
    memory_price_multiplier: f64,
) -> Result<Placement, ScenarioError> {
    let key = |k: &str| format!("placements[{i}].{k}");
    let kind = match p.kind.as_str() {
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
            PlacementKind::Dedicated
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
            PlacementKind::Pooled {
                servers: servers as usize,
                dispatch,
            }
        }
        other => {
            return Err(c.err(
                key("kind"),
                format!("unknown kind {other:?}: use \"dedicated\" or \"pooled\""),
            ))
        }
    };
    let llm = resolve_llm_server(c, i, p, &kind, workload, catalog_files, base_dir)?;
    // Generic placements may name a catalogue device: it prices them
    // and gives speech classes their real-time factor.
    let priced_device = match (workload, &p.device) {
        (Workload::Generic { .. }, Some(name)) => {
            let catalog = load_catalog(c, catalog_files, base_dir)?;
            let mut device = catalog
                .device(name)
                .map_err(|e| c.err(key("device"), e.to_string()))?
                .clone();
            if let Some(price) = p.price_usd {
                device.price_usd = c.positive(&key("price_usd"), price)?;
            }
            Some(PricedDevice {
                capex_per_device_usd: device.capex_usd(memory_price_multiplier),
                device,
            })
        }
        _ => None,
    };
    let service_scale = match (p.service_scale, workload, task, &priced_device) {
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
    };
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

/// Device names of `[sizing] dedicated_devices` (empty without it).
fn dedicated_device_names(
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

/// Short description of a class's workload for messages.
fn workload_label(w: &Workload) -> String {
    match w {
        Workload::Generic { .. } => "a generic service time".into(),
        Workload::Llm(l) => format!("{} {}", l.model.name, l.quantisation),
    }
}

/// What a speech class's `service` (audio seconds) is converted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpeechTask {
    /// Transcription: `speech_to_text_rtf`.
    SpeechToText,
    /// Synthesis: `text_to_speech_rtf`.
    TextToSpeech,
}

impl SpeechTask {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "speech_to_text" => Some(SpeechTask::SpeechToText),
            "text_to_speech" => Some(SpeechTask::TextToSpeech),
            _ => None,
        }
    }

    /// The task's name in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            SpeechTask::SpeechToText => "speech_to_text",
            SpeechTask::TextToSpeech => "text_to_speech",
        }
    }

    /// The catalogue key of the device's real-time factor.
    pub fn rtf_key(&self) -> &'static str {
        match self {
            SpeechTask::SpeechToText => "speech_to_text_rtf",
            SpeechTask::TextToSpeech => "text_to_speech_rtf",
        }
    }

    /// The device's real-time factor for this task, if catalogued.
    pub fn rtf(&self, d: &Device) -> Option<f64> {
        match self {
            SpeechTask::SpeechToText => d.speech_to_text_rtf,
            SpeechTask::TextToSpeech => d.text_to_speech_rtf,
        }
    }
}

/// Resolve a scenario with one class of users (no `[[classes]]`, or one
/// class's part of a population); speech classes pass their `task`.
fn resolve_one(
    raw: RawScenario,
    path: &Path,
    task: Option<SpeechTask>,
) -> Result<Scenario, ScenarioError> {
    let c = Check { file: path };
    let base_dir = path.parent().unwrap_or(Path::new("."));

    let name = match raw.name {
        Some(n) => {
            if n.is_empty()
                || !n
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' || ch == '.')
                || n.starts_with('.')
            {
                return Err(c.err(
                    "name",
                    format!("{n:?} must be non-empty and use only letters, digits, '-', '_' and '.' (it names the output folder)"),
                ));
            }
            n
        }
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into()),
    };

    let horizon_s = c
        .seconds_or_hours("horizon_s", raw.horizon_s, "horizon_h", raw.horizon_h)?
        .ok_or_else(|| c.err("horizon_s", "missing: give the simulated duration as `horizon_s` (seconds) or `horizon_h` (hours)"))?;
    let horizon_key = if raw.horizon_s.is_some() {
        "horizon_s"
    } else {
        "horizon_h"
    };
    c.positive(horizon_key, horizon_s)?;
    let warmup_s = c
        .seconds_or_hours("warmup_s", raw.warmup_s, "warmup_h", raw.warmup_h)?
        .unwrap_or(0.0);
    let warmup_key = if raw.warmup_h.is_some() {
        "warmup_h"
    } else {
        "warmup_s"
    };
    c.non_negative(warmup_key, warmup_s)?;
    if warmup_s >= horizon_s {
        return Err(c.err(
            warmup_key,
            format!("the warm-up ({warmup_s} s) must be shorter than the horizon ({horizon_s} s)"),
        ));
    }
    // A window below a second measures nothing useful, and sub-second
    // subnormal horizons underflow the per-minute statistics.
    if horizon_s - warmup_s < 1.0 {
        return Err(c.err(
            horizon_key,
            format!("the measurement window (horizon {horizon_s} s minus warm-up {warmup_s} s) must be at least 1 s"),
        ));
    }
    let replications = raw.replications.unwrap_or(5);
    if replications == 0 || replications > 10_000 {
        return Err(c.err(
            "replications",
            format!("must be between 1 and 10000 (got {replications})"),
        ));
    }

    // A replayed trace: its requests, users assigned over [users].count.
    let trace = match &raw.trace {
        None => None,
        Some(t) => {
            if raw.model.is_none() {
                return Err(c.err(
                    "trace",
                    "a trace gives token counts: it needs an LLM scenario with [model]",
                ));
            }
            let file = base_dir.join(&t.file);
            let format = match t.format.as_deref().unwrap_or("auto") {
                "auto" => crate::workload::trace::TraceFormat::detect_file(&file)
                    .map_err(|e| c.err("trace.file", e.to_string()))?,
                name => crate::workload::trace::TraceFormat::from_name(name).ok_or_else(|| {
                    c.err(
                        "trace.format",
                        format!("unknown format {name:?}: use azure, ragpulse or auto"),
                    )
                })?,
            };
            let options = crate::workload::trace::ReplayOptions {
                time_scale: t.time_scale.unwrap_or(1.0),
                time_offset_s: t.time_offset_s.unwrap_or(0.0),
                ..Default::default()
            };
            let mut tr = crate::workload::trace::Trace::load(&file, &format, &options)
                .map_err(|e| c.err("trace.file", e.to_string()))?;
            let users = raw.users.count.clamp(1, u32::MAX as u64) as u32;
            tr.assign_users(users)
                .map_err(|e| c.err("users.count", e.to_string()))?;
            Some(Arc::new(tr.requests))
        }
    };

    // What requests are: a generic service time, or an LLM and its token counts.
    let workload = match (&raw.service, &raw.model, &raw.requests) {
        (Some(svc), None, None) => {
            let service = resolve_dist(&c, "service", svc, base_dir)?;
            if service.mean() <= 0.0 {
                return Err(c.err("service", "the mean service time must be greater than 0"));
            }
            Workload::Generic { service }
        }
        (None, Some(m), req) if req.is_some() || raw.trace.is_some() => {
            let catalog = load_catalog(&c, raw.catalog.as_ref(), base_dir)?;
            let model = catalog
                .model(&m.name)
                .map_err(|e| c.err("model.name", e.to_string()))?
                .clone();
            if !model.weights_gb.contains_key(&m.quantisation) {
                return Err(c.err(
                    "model.quantisation",
                    format!("{:?} is not listed for {}: use one of {}", m.quantisation, model.name, model.quantisations()),
                ));
            }
            let multiplier = raw.costs.as_ref().and_then(|x| x.memory_price_multiplier).unwrap_or(1.0);
            c.positive("costs.memory_price_multiplier", multiplier)?;
            Workload::Llm(LlmWorkload {
                model,
                quantisation: m.quantisation.clone(),
                input_tokens: match (req, &trace) {
                    (Some(_), Some(_)) => return Err(c.err("requests", "token counts come from the [trace]: remove [requests]")),
                    (Some(req), None) => resolve_tokens(&c, "requests.input_tokens", &req.input_tokens, base_dir)?,
                    (None, Some(t)) => Dist::Empirical { values: t.iter().map(|r| r.input_tokens as f64).collect::<Vec<_>>().into() },
                    (None, None) => unreachable!("matched above"),
                },
                output_tokens: match (req, &trace) {
                    (Some(req), None) => resolve_tokens(&c, "requests.output_tokens", &req.output_tokens, base_dir)?,
                    (_, Some(t)) => Dist::Empirical { values: t.iter().map(|r| r.output_tokens as f64).collect::<Vec<_>>().into() },
                    (None, None) => unreachable!("matched above"),
                },
                memory_price_multiplier: multiplier,
            })
        }
        (Some(_), _, _) => {
            return Err(c.err(
                "service",
                "give either [service] (a generic service time) or [model] with [requests] (an LLM), not both",
            ))
        }
        (None, None, None) => {
            return Err(c.err(
                "service",
                "missing: give [service] (a generic service time) or [model] with [requests] (an LLM)",
            ))
        }
        (None, None, Some(_)) => return Err(c.err("model", "missing: [requests] needs a [model] with `name` and `quantisation`")),
        (None, Some(_), _) => return Err(c.err("requests", "missing: an LLM scenario needs [requests] with `input_tokens` and `output_tokens` (or a [trace])")),
    };
    let any_device = raw.placements.iter().any(|p| p.device.is_some());
    if let (Workload::Generic { .. }, Some(_), false) = (&workload, &raw.costs, any_device) {
        return Err(c.err(
            "costs",
            "prices apply to catalogue devices (LLM scenarios, or placements with `device`): remove [costs]",
        ));
    }
    if let (Workload::Generic { .. }, Some(_), false) = (&workload, &raw.catalog, any_device) {
        return Err(c.err(
            "catalog",
            "the catalogue applies to LLM scenarios and placements with `device`: remove [catalog]",
        ));
    }
    let memory_price_multiplier = raw
        .costs
        .as_ref()
        .and_then(|x| x.memory_price_multiplier)
        .unwrap_or(1.0);
    c.positive("costs.memory_price_multiplier", memory_price_multiplier)?;

    // Placements.
    if raw.placements.is_empty() {
        return Err(c.err(
            "placements",
            "no placement: add at least one [[placements]] with kind = \"dedicated\" or \"pooled\"",
        ));
    }
    let mut placements: Vec<Placement> = Vec::with_capacity(raw.placements.len());
    for (i, p) in raw.placements.iter().enumerate() {
        let key = |k: &str| format!("placements[{i}].{k}");
        if p.name.is_empty() || placements.iter().any(|q| q.name == p.name) {
            return Err(c.err(
                key("name"),
                format!(
                    "{:?}: each placement needs a distinct, non-empty name",
                    p.name
                ),
            ));
        }
        placements.push(resolve_placement(
            &c,
            i,
            p,
            &workload,
            task,
            raw.catalog.as_ref(),
            base_dir,
            memory_price_multiplier,
        )?);
    }
    // The same dedicated placements on other catalogue devices.
    let choices = dedicated_device_names(&c, raw.sizing.as_ref(), raw.catalog.as_ref(), base_dir)?;
    for (i, p) in raw.placements.iter().enumerate() {
        if placements[i].kind != PlacementKind::Dedicated {
            continue;
        }
        for name in &choices {
            let mut q = p.clone();
            q.device = Some(name.clone());
            q.price_usd = None;
            let alt = resolve_placement(
                &c,
                i,
                &q,
                &workload,
                task,
                raw.catalog.as_ref(),
                base_dir,
                memory_price_multiplier,
            )
            .map_err(|e| match e {
                ScenarioError::Invalid { message, .. } => message,
                other => other.to_string(),
            });
            placements[i].device_alternatives.push((name.clone(), alt));
        }
    }

    // Mean device time of one request served alone: the first dedicated
    // placement's device defines the duty cycle.
    let mean_service_s = match &workload {
        Workload::Generic { service } => {
            let reference = placements
                .iter()
                .find(|p| p.kind == PlacementKind::Dedicated)
                .unwrap_or(&placements[0]);
            service.mean() * reference.service_scale_by_class[0]
        }
        Workload::Llm(_) => {
            let reference = placements
                .iter()
                .find(|p| p.kind == PlacementKind::Dedicated)
                .unwrap_or(&placements[0]);
            reference
                .llm
                .as_ref()
                .expect("LLM placements resolved")
                .mean_request_s
        }
    };

    // Users and arrivals.
    let u = &raw.users;
    // Per-user state (device free times, session counters, agent loops) is
    // ~40 bytes a user: 100 million users stay under ~4 GB.
    const MAX_USERS: u64 = 100_000_000;
    if u.count == 0 || u.count > MAX_USERS {
        return Err(c.err(
            "users.count",
            format!("must be between 1 and {MAX_USERS} (got {}): larger populations need more than ~4 GB of per-user state; simulate one pool of them with [sizing] pool_sizes instead", u.count),
        ));
    }
    let users = u.count as usize;
    let behaviour = resolve_behaviour(&c, u, base_dir)?;
    if let Some(cv) = u.requests_per_day_cv {
        if !(cv.is_finite() && (0.0..=20.0).contains(&cv)) {
            return Err(c.err(
                "users.requests_per_day_cv",
                format!("must be between 0 and 20 (got {cv})"),
            ));
        }
        if matches!(behaviour, Behaviour::Agent { .. }) || raw.trace.is_some() {
            return Err(c.err("users.requests_per_day_cv", "applies to poisson and sessions users (agents and traces set their own pace): remove it"));
        }
    }
    let rate_per_user_per_s = if let Some(t) = &trace {
        for (k, given) in [
            ("requests_per_day", u.requests_per_day.is_some()),
            ("duty_cycle", u.duty_cycle.is_some()),
            ("arrivals", u.arrivals.is_some()),
        ] {
            if given {
                return Err(c.err(
                    format!("users.{k}"),
                    "the [trace] gives the arrivals: remove this key",
                ));
            }
        }
        let span = t
            .last()
            .map_or(0.0, |r| r.arrival_s)
            .min(horizon_s)
            .max(1.0);
        let in_horizon = t.iter().take_while(|r| r.arrival_s < horizon_s).count() as f64;
        in_horizon / span / u.count.max(1) as f64
    } else if let Behaviour::Agent { gap, .. } = &behaviour {
        for (k, given) in [
            ("requests_per_day", u.requests_per_day.is_some()),
            ("duty_cycle", u.duty_cycle.is_some()),
        ] {
            if given {
                return Err(c.err(format!("users.{k}"), "agents send their next request after each response: their load comes from `agent_gap`, remove this key"));
            }
        }
        // A dedicated device's cycle: one request, then the gap.
        1.0 / (mean_service_s + gap.mean())
    } else {
        match (u.requests_per_day, u.duty_cycle) {
            (Some(_), Some(_)) => {
                return Err(c.err(
                    "users.requests_per_day",
                    "give either `requests_per_day` or `duty_cycle`, not both",
                ))
            }
            (Some(r), None) => c.positive("users.requests_per_day", r)? / DAY_S,
            (None, Some(d)) => {
                if !(d.is_finite() && d > 0.0 && d < 1.0) {
                    return Err(c.err(
                        "users.duty_cycle",
                        format!("must be a share of time in (0, 1), e.g. 0.01 for 1 % (got {d})"),
                    ));
                }
                d / mean_service_s
            }
            (None, None) => {
                return Err(c.err(
                    "users",
                    "missing the load: give `requests_per_day` or `duty_cycle`",
                ))
            }
        }
    };
    // The open-loop stream: single requests, session starts, or nothing (agents).
    let open_rate_per_user_per_s = match &behaviour {
        Behaviour::Poisson if trace.is_some() => 0.0,
        Behaviour::Poisson => rate_per_user_per_s,
        Behaviour::Sessions { mean_requests, .. } => rate_per_user_per_s / mean_requests,
        Behaviour::Agent { .. } => 0.0,
    };
    let profile = match &u.profile {
        None => DiurnalProfile::flat(),
        Some(RawProfile::Named(n)) => DiurnalProfile::preset(n).ok_or_else(|| {
            c.err(
                "users.profile",
                format!(
                    "unknown profile {n:?}: use one of {} or a list of 24 hourly weights",
                    DiurnalProfile::PRESETS.join(", ")
                ),
            )
        })?,
        Some(RawProfile::Weights(w)) => {
            let arr: [f64; 24] = w.as_slice().try_into().map_err(|_| {
                c.err(
                    "users.profile",
                    format!("needs exactly 24 hourly weights (got {})", w.len()),
                )
            })?;
            DiurnalProfile::from_weights(&arr).ok_or_else(|| {
                c.err(
                    "users.profile",
                    "weights must be finite, at least 0, and not all 0",
                )
            })?
        }
    };
    let zones: Vec<(f64, f64)> = match &u.timezones {
        None => vec![(0.0, 1.0)],
        Some(z) if z.is_empty() => {
            return Err(c.err(
                "users.timezones",
                "is empty: list at least one { offset_h, share } or remove the key",
            ))
        }
        Some(z) => {
            let mut out = Vec::with_capacity(z.len());
            for (i, tz) in z.iter().enumerate() {
                if !(tz.offset_h.is_finite() && (-12.0..=14.0).contains(&tz.offset_h)) {
                    return Err(c.err(
                        format!("users.timezones[{i}].offset_h"),
                        format!(
                            "must be a UTC offset in hours between -12 and 14 (got {})",
                            tz.offset_h
                        ),
                    ));
                }
                c.non_negative(&format!("users.timezones[{i}].share"), tz.share)?;
                out.push((tz.offset_h, tz.share));
            }
            let total: f64 = out.iter().map(|z| z.1).sum();
            if (total - 1.0).abs() > 1e-6 {
                return Err(c.err(
                    "users.timezones",
                    format!("shares must sum to 1 (got {total})"),
                ));
            }
            out
        }
    };
    // Assign users to zones in id order: largest-remainder rounding of shares.
    let mut groups = Vec::with_capacity(zones.len());
    let mut first = 0u64;
    let mut cum_share = 0.0;
    for (offset_h, share) in &zones {
        cum_share += share;
        let end = ((cum_share * users as f64).round() as u64).min(users as u64);
        let spread = match u.requests_per_day_cv {
            Some(cv) if cv > 0.0 => {
                // The population is part of the scenario: drawn once from the
                // scenario seed, the same in every replication and placement.
                let d = Dist::lognormal_mean_cv(1.0, cv);
                let mut rng = stream_rng(raw.seed.unwrap_or(1), u64::MAX, StreamKind::User, first);
                let w: Vec<f64> = (first..end).map(|_| d.sample(&mut rng)).collect();
                (!w.is_empty()).then(|| Arc::new(crate::workload::arrivals::RateSpread::new(w)))
            }
            _ => None,
        };
        groups.push(UserGroup {
            spread,
            first_user: first as u32,
            users: (end - first) as u32,
            rate_per_user_per_s: open_rate_per_user_per_s,
            tz_offset_h: *offset_h,
            profile: profile.clone(),
        });
        first = end;
    }
    if let Some(last) = groups.last_mut() {
        last.users += (users as u64 - first) as u32;
    }
    let arrivals = PoissonArrivals::new(groups);

    let service_level = resolve_service_level(
        &c,
        raw.service_level.as_ref(),
        matches!(workload, Workload::Llm(_)),
    )?;

    let sizing = resolve_sizing(&c, raw.sizing.as_ref(), users)?;
    // Refuse runs that would not finish: beyond ~10^10 requests per
    // replication (hours of CPU even at millions of requests per second).
    // Agents loop as fast as their cycle (service + gap) allows; a skewed
    // distribution (e.g. gamma with a tiny shape) can have a large mean but
    // almost always sample ~0, so bound the rate by the median cycle too.
    let agent_rate_per_s = match (&behaviour, &workload) {
        (Behaviour::Agent { gap, .. }, workload) => {
            let mut rng = stream_rng(0x6167_656e, 0, StreamKind::User, 0);
            let mut cycles: Vec<f64> = (0..20_001)
                .map(|_| {
                    let svc = match workload {
                        Workload::Generic { service } => service.sample(&mut rng),
                        Workload::Llm(_) => mean_service_s,
                    };
                    svc + gap.sample(&mut rng)
                })
                .collect();
            cycles.sort_by(f64::total_cmp);
            let median = cycles[cycles.len() / 2];
            if median > 0.0 {
                1.0 / median
            } else {
                f64::INFINITY
            }
        }
        _ => 0.0,
    };
    let expected_requests = rate_per_user_per_s.max(agent_rate_per_s) * users as f64 * horizon_s;
    if expected_requests > 1e10 {
        return Err(c.err(
            if raw.horizon_h.is_some() { "horizon_h" } else { "horizon_s" },
            format!("{expected_requests:.2e} requests per replication expected: at most 1e10; shorten the horizon or lower the load"),
        ));
    }

    Ok(Scenario {
        name,
        source: path.to_path_buf(),
        seed: raw.seed.unwrap_or(1),
        horizon_s,
        warmup_s,
        replications: replications as usize,
        users,
        requests_per_user_per_day: rate_per_user_per_s * DAY_S,
        classes: vec![UserClass {
            name: "all".into(),
            groups: 0..arrivals.groups().len(),
            behaviour,
            workload,
            requests_per_user_per_day: rate_per_user_per_s * DAY_S,
            mean_service_s,
            service_level: service_level.clone(),
        }],
        arrivals,
        trace,
        mean_service_s,
        placements,
        hybrids: Vec::new(),
        service_level,
        sizing,
    })
}

fn resolve_sizing(
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
    Ok(SizingConfig {
        pool_sizes,
        max_servers,
        min_measured_requests,
    })
}

fn load_catalog(
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
                    .map_err(|e| c.err(key, format!("cannot read {}: {e}", p.display())))
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
    Catalog::from_toml(&dev, &dev_path, &mods, &mods_path)
        .map_err(|e| c.err("catalog", e.to_string()))
}

const TOKEN_DISTRIBUTIONS: &str = "fixed, lognormal, empirical";

fn resolve_tokens(
    c: &Check,
    key: &str,
    t: &RawTokens,
    base_dir: &Path,
) -> Result<Dist, ScenarioError> {
    let dist = resolve_tokens_unchecked(c, key, t, base_dir)?;
    finite_moments(c, key, dist)
}

fn resolve_tokens_unchecked(
    c: &Check,
    key: &str,
    t: &RawTokens,
    base_dir: &Path,
) -> Result<Dist, ScenarioError> {
    let k = |f: &str| format!("{key}.{f}");
    let need = |f: &str, v: Option<f64>| -> Result<f64, ScenarioError> {
        let v = v.ok_or_else(|| {
            c.err(
                k(f),
                format!(
                    "missing: a {} token distribution needs `{f}`",
                    t.distribution
                ),
            )
        })?;
        c.positive(&k(f), v)
    };
    let given = [
        ("value", t.value.is_some()),
        ("median", t.median.is_some()),
        ("p99", t.p99.is_some()),
        ("mean", t.mean.is_some()),
        ("cv", t.cv.is_some()),
        ("file", t.file.is_some()),
        ("column", t.column.is_some()),
    ];
    let allowed: &[&str] = match t.distribution.as_str() {
        "fixed" => &["value"],
        "lognormal" => &["median", "p99", "mean", "cv"],
        "empirical" => &["file", "column"],
        other => {
            return Err(c.err(
                k("distribution"),
                format!("unknown token distribution {other:?}: use one of {TOKEN_DISTRIBUTIONS}"),
            ))
        }
    };
    c.only_keys(key, &t.distribution, &given, allowed)?;
    Ok(match t.distribution.as_str() {
        "fixed" => Dist::Deterministic { value: need("value", t.value)?.round().max(1.0) },
        "lognormal" => match (t.median, t.p99, t.mean, t.cv) {
            (Some(_), Some(_), None, None) => {
                let median = need("median", t.median)?;
                let p99 = need("p99", t.p99)?;
                if p99 <= median {
                    return Err(c.err(k("p99"), format!("must be greater than median ({median}), got {p99}")));
                }
                Dist::lognormal_median_p99(median, p99)
            }
            (None, None, Some(_), Some(_)) => Dist::lognormal_mean_cv(need("mean", t.mean)?, need("cv", t.cv)?),
            _ => return Err(c.err(key, "a lognormal token distribution takes either `median` and `p99`, or `mean` and `cv`")),
        },
        "empirical" => {
            let file = t.file.as_ref().ok_or_else(|| c.err(k("file"), "missing: an empirical distribution needs `file`"))?;
            let values = read_values(&base_dir.join(file), t.column.as_deref()).map_err(|m| c.err(k("file"), m))?;
            Dist::Empirical { values: Arc::from(values) }
        }
        _ => unreachable!("checked above"),
    })
}

/// Keys that only LLM placements take.
const LLM_PLACEMENT_KEYS: [&str; 9] = [
    "device",
    "tensor_parallel",
    "tp_efficiency",
    "max_batch",
    "network_rtt_s",
    "fast_forward",
    "price_usd",
    "chunked_prefill_tokens",
    "network_rtt",
];

fn resolve_llm_server(
    c: &Check,
    i: usize,
    p: &RawPlacement,
    kind: &PlacementKind,
    workload: &Workload,
    catalog_files: Option<&RawCatalogFiles>,
    base_dir: &Path,
) -> Result<Option<LlmServer>, ScenarioError> {
    let key = |k: &str| format!("placements[{i}].{k}");
    let given = [
        p.device.is_some(),
        p.tensor_parallel.is_some(),
        p.tp_efficiency.is_some(),
        p.max_batch.is_some(),
        p.network_rtt_s.is_some(),
        p.fast_forward.is_some(),
        p.price_usd.is_some(),
        p.chunked_prefill_tokens.is_some(),
        p.network_rtt.is_some(),
    ];
    let Workload::Llm(l) = workload else {
        // `device` and `price_usd` price a generic placement too.
        let llm_only = |n: &usize| !matches!(LLM_PLACEMENT_KEYS[*n], "device" | "price_usd");
        if let Some(n) = (0..given.len()).filter(llm_only).find(|n| given[*n]) {
            return Err(c.err(
                key(LLM_PLACEMENT_KEYS[n]),
                "applies to LLM scenarios ([model] + [requests]) only: remove it",
            ));
        }
        if let PlacementKind::Pooled {
            dispatch: Dispatch::LeastKvLoad,
            ..
        } = kind
        {
            return Err(c.err(key("dispatch"), "least_kv_load needs an LLM scenario: use central_queue, round_robin, join_shortest_queue or power_of_two_choices"));
        }
        return Ok(None);
    };
    let dedicated = *kind == PlacementKind::Dedicated;
    if dedicated {
        for (n, k) in [
            (1usize, "tensor_parallel"),
            (2, "tp_efficiency"),
            (3, "max_batch"),
            (5, "fast_forward"),
            (7, "chunked_prefill_tokens"),
        ] {
            if given[n] {
                return Err(c.err(
                    key(k),
                    "a dedicated device serves one request at a time at batch 1: remove it",
                ));
            }
        }
    }
    let device_name = p.device.as_ref().ok_or_else(|| c.err(key("device"), "missing: an LLM placement needs `device`, a catalogue name such as \"h100_sxm\" or \"framework_desktop\""))?;
    let catalog = load_catalog(c, catalog_files, base_dir)?;
    let mut device = catalog
        .device(device_name)
        .map_err(|e| c.err(key("device"), e.to_string()))?
        .clone();
    if let Some(price) = p.price_usd {
        device.price_usd = c.positive(&key("price_usd"), price)?;
    }
    let tp = p.tensor_parallel.unwrap_or(1);
    if tp == 0 || tp > 64 {
        return Err(c.err(
            key("tensor_parallel"),
            format!("must be between 1 and 64 (got {tp})"),
        ));
    }
    let tp_eff = p.tp_efficiency.unwrap_or(0.9);
    if !(tp_eff > 0.0 && tp_eff <= 1.0) {
        return Err(c.err(
            key("tp_efficiency"),
            format!("must be in (0, 1] (got {tp_eff})"),
        ));
    }
    let max_batch = if dedicated {
        1
    } else {
        p.max_batch.unwrap_or(256)
    };
    if max_batch == 0 || max_batch > 65_536 {
        return Err(c.err(
            key("max_batch"),
            format!("must be between 1 and 65536 (got {max_batch})"),
        ));
    }
    let rtt = p
        .network_rtt_s
        .unwrap_or(if dedicated { 0.0 } else { 0.05 });
    c.non_negative(&key("network_rtt_s"), rtt)?;
    let rtt_dist = match (&p.network_rtt, p.network_rtt_s) {
        (Some(_), Some(_)) => return Err(c.err(
            key("network_rtt"),
            "give either `network_rtt_s` (a constant) or `network_rtt` (a distribution), not both",
        )),
        (Some(d), None) => Some(resolve_dist(c, &key("network_rtt"), d, base_dir)?),
        (None, _) => None,
    };
    // Reported (and used by the sizing bounds) as the mean round trip; the
    // lower bound for hopeless targets uses 0 with a distribution.
    let rtt = rtt_dist.as_ref().map_or(rtt, |d| d.mean());
    let cost = ServingCost::new(&device, &l.model, &l.quantisation, tp, tp_eff)
        .map_err(|e| c.err(key("device"), e.to_string()))?;
    // The device must hold the weights and one large request (99th
    // percentile of prompt + output).
    let big = typical_large_request_tokens(l);
    cost.check_fits(big).map_err(|e| {
        c.err(
            key("device"),
            format!("{e} (one request of {big} tokens: the 99th percentile of prompt + output)"),
        )
    })?;
    let step = cost.step_model();
    Ok(Some(LlmServer {
        tensor_parallel: tp,
        mean_request_s: mean_single_request_s(l, &step),
        step,
        kv_budget_tokens: cost.kv_budget_tokens(),
        max_batch,
        network_rtt_s: rtt,
        network_rtt: rtt_dist,
        fast_forward: p.fast_forward.unwrap_or(true),
        chunked_prefill_tokens: match p.chunked_prefill_tokens {
            None => None,
            Some(0) => {
                return Err(c.err(
                    key("chunked_prefill_tokens"),
                    "must be at least 1 token per step (e.g. 512), or remove it",
                ))
            }
            Some(n) => Some(n),
        },
        capex_per_device_usd: device.capex_usd(l.memory_price_multiplier),
        device,
    }))
}

/// Token-count draws used for scenario-level estimates (duty cycle, fit
/// check): a fixed stream, so they do not change with the run's seed.
fn token_sample(l: &LlmWorkload) -> Vec<(u32, u32)> {
    let mut rng = stream_rng(0x70_6b_65_6e, 0, StreamKind::Arrivals, 0);
    (0..20_000)
        .map(|_| {
            (
                draw_tokens(&l.input_tokens, &mut rng),
                draw_tokens(&l.output_tokens, &mut rng),
            )
        })
        .collect()
}

fn typical_large_request_tokens(l: &LlmWorkload) -> u64 {
    let mut totals: Vec<u64> = token_sample(l)
        .iter()
        .map(|(i, o)| *i as u64 + *o as u64)
        .collect();
    totals.sort_unstable();
    totals[totals.len() * 99 / 100]
}

/// Mean batch-1 device time of one request (prefill + decode), seconds.
pub fn mean_single_request_s(l: &LlmWorkload, step: &StepModel) -> f64 {
    let sample = token_sample(l);
    sample
        .iter()
        .map(|&(i, o)| {
            let (pre, dec) = step.single_request_s(i as u64, o as u64);
            pre + dec
        })
        .sum::<f64>()
        / sample.len() as f64
}

fn resolve_behaviour(c: &Check, u: &RawUsers, base_dir: &Path) -> Result<Behaviour, ScenarioError> {
    let kind = u.arrivals.as_deref().unwrap_or("poisson");
    let only = |key: &str, given: bool, kinds: &str| -> Result<(), ScenarioError> {
        if given {
            Err(c.err(
                format!("users.{key}"),
                format!(
                    "applies to arrivals = {kinds} only (this scenario has arrivals = \"{kind}\")"
                ),
            ))
        } else {
            Ok(())
        }
    };
    match kind {
        "poisson" => {
            only(
                "session_requests_mean",
                u.session_requests_mean.is_some(),
                "\"sessions\"",
            )?;
            only("think_time", u.think_time.is_some(), "\"sessions\"")?;
            only("agent_gap", u.agent_gap.is_some(), "\"agent\"")?;
            only(
                "agent_start_spread_s",
                u.agent_start_spread_s.is_some(),
                "\"agent\"",
            )?;
            Ok(Behaviour::Poisson)
        }
        "sessions" => {
            only("agent_gap", u.agent_gap.is_some(), "\"agent\"")?;
            only(
                "agent_start_spread_s",
                u.agent_start_spread_s.is_some(),
                "\"agent\"",
            )?;
            let mean_requests = u.session_requests_mean.unwrap_or(1.8);
            if !(mean_requests.is_finite() && (1.0..=10_000.0).contains(&mean_requests)) {
                return Err(c.err(
                    "users.session_requests_mean",
                    format!("must be between 1 and 10000 requests (got {mean_requests})"),
                ));
            }
            let think = match &u.think_time {
                Some(d) => resolve_dist(c, "users.think_time", d, base_dir)?,
                None => Dist::lognormal_median_quantile(40.0, 300.0, crate::core::dist::Z_P90),
            };
            Ok(Behaviour::Sessions {
                mean_requests,
                think,
            })
        }
        "agent" => {
            only(
                "session_requests_mean",
                u.session_requests_mean.is_some(),
                "\"sessions\"",
            )?;
            only("think_time", u.think_time.is_some(), "\"sessions\"")?;
            let gap = u.agent_gap.as_ref().ok_or_else(|| c.err("users.agent_gap", "missing: agents need `agent_gap`, the pause after each response, e.g. { distribution = \"exponential\", mean_s = 5 }"))?;
            let gap = resolve_dist(c, "users.agent_gap", gap, base_dir)?;
            let spread = u.agent_start_spread_s.unwrap_or(60.0);
            c.non_negative("users.agent_start_spread_s", spread)?;
            Ok(Behaviour::Agent {
                gap,
                start_spread_s: spread,
            })
        }
        other => Err(c.err(
            "users.arrivals",
            format!("unknown arrivals {other:?}: use \"poisson\", \"sessions\" or \"agent\""),
        )),
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

const DISTRIBUTIONS: &str = "exponential, deterministic, lognormal, gamma, erlang, empirical";

/// A distribution whose parameters each pass but whose moments overflow
/// (e.g. gamma shape 1e-321, lognormal cv 1e200) would write inf or NaN
/// into results: refuse it, naming the key.
fn finite_moments(c: &Check, key: &str, d: Dist) -> Result<Dist, ScenarioError> {
    let (m, m2) = (d.mean(), d.second_moment());
    if m.is_finite() && m > 0.0 && m2.is_finite() {
        Ok(d)
    } else {
        Err(c.err(
            key,
            format!("its parameters give a mean of {m} and a second moment of {m2}: both must be finite and the mean positive; use a smaller spread (cv, p99) or a larger shape"),
        ))
    }
}

/// A gamma (or Erlang) distribution, refused when its scale `mean / shape`
/// is not a normal positive number (e.g. `mean_s = 5e-324` underflows).
fn gamma(c: &Check, key: &str, mean: f64, shape: f64) -> Result<Dist, ScenarioError> {
    let scale = mean / shape;
    if !(scale.is_normal() && scale > 0.0 && shape.is_normal()) {
        return Err(c.err(
            key,
            format!("mean {mean} and shape {shape} give a scale of {scale}: use a mean and shape whose ratio is a normal positive number"),
        ));
    }
    Ok(Dist::gamma_mean_shape(mean, shape))
}

fn resolve_dist(c: &Check, key: &str, d: &RawDist, base_dir: &Path) -> Result<Dist, ScenarioError> {
    let dist = resolve_dist_unchecked(c, key, d, base_dir)?;
    finite_moments(c, key, dist)
}

fn resolve_dist_unchecked(
    c: &Check,
    key: &str,
    d: &RawDist,
    base_dir: &Path,
) -> Result<Dist, ScenarioError> {
    let k = |f: &str| format!("{key}.{f}");
    let need = |f: &str, v: Option<f64>| -> Result<f64, ScenarioError> {
        let v = v.ok_or_else(|| {
            c.err(
                k(f),
                format!("missing: a {} distribution needs `{f}`", d.distribution),
            )
        })?;
        c.positive(&k(f), v)
    };
    // Keys each distribution accepts, to reject ones that would be ignored.
    let given = [
        ("mean_s", d.mean_s.is_some()),
        ("value_s", d.value_s.is_some()),
        ("median_s", d.median_s.is_some()),
        ("p99_s", d.p99_s.is_some()),
        ("p90_s", d.p90_s.is_some()),
        ("cv", d.cv.is_some()),
        ("shape", d.shape.is_some()),
        ("k", d.k.is_some()),
        ("file", d.file.is_some()),
        ("column", d.column.is_some()),
    ];
    let allowed: &[&str] = match d.distribution.as_str() {
        "exponential" => &["mean_s"],
        "deterministic" => &["value_s"],
        "lognormal" => &["mean_s", "cv", "median_s", "p99_s", "p90_s"],
        "gamma" => &["mean_s", "shape"],
        "erlang" => &["mean_s", "k"],
        "empirical" => &["file", "column"],
        other => {
            return Err(c.err(
                k("distribution"),
                format!("unknown distribution {other:?}: use one of {DISTRIBUTIONS}"),
            ))
        }
    };
    c.only_keys(key, &d.distribution, &given, allowed)?;
    Ok(match d.distribution.as_str() {
        "exponential" => Dist::Exponential { mean: need("mean_s", d.mean_s)? },
        "deterministic" => Dist::Deterministic { value: need("value_s", d.value_s)? },
        "lognormal" => match (d.mean_s, d.cv, d.median_s, d.p99_s) {
            (None, None, Some(_), None) if d.p90_s.is_some() => {
                let median = need("median_s", d.median_s)?;
                let p90 = need("p90_s", d.p90_s)?;
                if p90 <= median {
                    return Err(c.err(k("p90_s"), format!("must be greater than median_s ({median}), got {p90}")));
                }
                Dist::lognormal_median_quantile(median, p90, crate::core::dist::Z_P90)
            }
            (Some(_), Some(_), None, None) if d.p90_s.is_none() => {
                Dist::lognormal_mean_cv(need("mean_s", d.mean_s)?, need("cv", d.cv)?)
            }
            (None, None, Some(_), Some(_)) if d.p90_s.is_none() => {
                let median = need("median_s", d.median_s)?;
                let p99 = need("p99_s", d.p99_s)?;
                if p99 <= median {
                    return Err(c.err(k("p99_s"), format!("must be greater than median_s ({median}), got {p99}")));
                }
                Dist::lognormal_median_p99(median, p99)
            }
            _ => {
                return Err(c.err(
                    key,
                    "a lognormal distribution takes `mean_s` and `cv`, or `median_s` with `p99_s` or `p90_s`",
                ))
            }
        },
        "gamma" => gamma(c, key, need("mean_s", d.mean_s)?, need("shape", d.shape)?)?,
        "erlang" => {
            let kk = d.k.ok_or_else(|| c.err(k("k"), "missing: an erlang distribution needs `k` (phases, at least 1)"))?;
            if kk == 0 || kk > 10_000 {
                return Err(c.err(k("k"), format!("must be between 1 and 10000 (got {kk})")));
            }
            gamma(c, key, need("mean_s", d.mean_s)?, kk as f64)?
        }
        "empirical" => {
            let file = d.file.as_ref().ok_or_else(|| c.err(k("file"), "missing: an empirical distribution needs `file` (values, one per line, or a CSV with `column`)"))?;
            let p = base_dir.join(file);
            let values = read_values(&p, d.column.as_deref()).map_err(|m| c.err(k("file"), m))?;
            Dist::Empirical { values: Arc::from(values) }
        }
        _ => unreachable!("checked above"),
    })
}

/// Read non-negative numbers: one per line, or one CSV column by header name.
/// Blank lines and lines starting with `#` are skipped.
pub fn read_values(path: &Path, column: Option<&str>) -> Result<Vec<f64>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let col_idx = match column {
        None => None,
        Some(name) => {
            let (_, header) = lines.next().ok_or_else(|| {
                format!(
                    "{}: empty file, expected a header with column {name:?}",
                    path.display()
                )
            })?;
            let idx = header
                .split(',')
                .position(|h| h.trim() == name)
                .ok_or_else(|| {
                    format!(
                        "{}: line 1: no column {name:?} in header {header:?}",
                        path.display()
                    )
                })?;
            Some(idx)
        }
    };
    let mut values = Vec::new();
    for (i, line) in lines {
        let cell = match col_idx {
            None => line.trim(),
            Some(idx) => line.split(',').nth(idx).map(str::trim).ok_or_else(|| {
                format!(
                    "{}: line {}: missing column {}",
                    path.display(),
                    i + 1,
                    idx + 1
                )
            })?,
        };
        let v: f64 = cell.parse().map_err(|_| {
            format!(
                "{}: line {}, column {}: {cell:?} is not a number",
                path.display(),
                i + 1,
                col_idx.map_or(1, |c| c + 1)
            )
        })?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(format!(
                "{}: line {}: {v} must be a finite number of at least 0",
                path.display(),
                i + 1
            ));
        }
        values.push(v);
    }
    if values.is_empty() || values.iter().all(|v| *v == 0.0) {
        return Err(format!("{}: no positive values", path.display()));
    }
    Ok(values)
}

/// Parse a percentile spelled as in `p99`, `p999` (99.9) or `p50`.
fn parse_percentile_digits(d: &str) -> Option<f64> {
    if d.is_empty() || !d.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if d.len() > 2 && d.starts_with("99") {
        // "999" -> 99.9, "9999" -> 99.99, "995" -> 99.5
        let (int, frac) = d.split_at(2);
        return format!("{int}.{frac}").parse().ok();
    }
    d.parse().ok()
}

fn number(c: &Check, key: &str, v: &toml::Value) -> Result<f64, ScenarioError> {
    match v {
        toml::Value::Float(f) => Ok(*f),
        toml::Value::Integer(i) => Ok(*i as f64),
        _ => Err(c.err(key, "must be a number")),
    }
}

fn resolve_service_level(
    c: &Check,
    t: Option<&toml::Table>,
    llm: bool,
) -> Result<ServiceLevel, ScenarioError> {
    let Some(t) = t else {
        return Ok(ServiceLevel::default());
    };
    let mut targets = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut wait_above_s = None;
    let mut wait_above_max = None;
    let mut attainment_share = None;
    let mut attainment_bounds = [None; 3];
    for (k, v) in t {
        let key = format!("service_level.{k}");
        let value = number(c, &key, v)?;
        match k.as_str() {
            "p_wait_above_s" => {
                wait_above_s = Some(c.non_negative(&key, value)?);
                continue;
            }
            "p_wait_above_max" => {
                if !(value > 0.0 && value < 1.0) {
                    return Err(c.err(
                        &key,
                        format!("must be a share in (0, 1), e.g. 0.01 (got {value})"),
                    ));
                }
                wait_above_max = Some(value);
                continue;
            }
            "attainment" => {
                if !(value > 0.0 && value <= 1.0) {
                    return Err(c.err(
                        &key,
                        format!("must be a share in (0, 1], e.g. 0.9 (got {value})"),
                    ));
                }
                attainment_share = Some(value);
                continue;
            }
            "attainment_ttft_s" | "attainment_tpot_s" | "attainment_e2e_s" => {
                if !llm {
                    return Err(c.err(
                        &key,
                        "attainment bounds apply to LLM scenarios ([model] + [requests])",
                    ));
                }
                let i = ["attainment_ttft_s", "attainment_tpot_s", "attainment_e2e_s"]
                    .iter()
                    .position(|x| x == k)
                    .expect("listed");
                attainment_bounds[i] = Some(c.positive(&key, value)?);
                continue;
            }
            _ => {}
        }
        let parsed = k
            .strip_suffix("_s")
            .and_then(|rest| rest.rsplit_once("_p"))
            .and_then(|(m, d)| Some((LatencyMetric::parse(m)?, d)));
        let Some((metric, digits)) = parsed else {
            return Err(c.err(
                &key,
                "unknown target: write `<metric>_p<percentile>_s = seconds` (metric wait or response; ttft, tpot, e2e in LLM scenarios), e.g. `wait_p99_s = 2.0`; or `p_wait_above_s` with `p_wait_above_max`; or `attainment` with `attainment_ttft_s` / `attainment_tpot_s` / `attainment_e2e_s`",
            ));
        };
        let llm_metric = matches!(
            metric,
            LatencyMetric::Ttft | LatencyMetric::Tpot | LatencyMetric::E2e
        );
        if llm_metric && !llm {
            return Err(c.err(&key, format!("{} applies to LLM scenarios; this scenario has a generic [service]: use wait or response", metric.name())));
        }
        if metric == LatencyMetric::Response && llm {
            return Err(c.err(
                &key,
                "an LLM scenario measures ttft, tpot and e2e: use e2e instead of response",
            ));
        }
        let percentile = parse_percentile_digits(digits)
            .filter(|p| *p > 0.0 && *p < 100.0)
            .ok_or_else(|| {
                c.err(
                    &key,
                    format!(
                        "percentile {digits:?} must be in (0, 100), e.g. p50, p99, p999 (99.9)"
                    ),
                )
            })?;
        c.positive(&key, value)?;
        let target = PercentileTarget {
            metric,
            percentile,
            max_s: value,
        };
        if let Some(prev) = seen.insert(target.label(), key.clone()) {
            return Err(c.err(
                &key,
                format!("bounds the same percentile as {prev}: keep one"),
            ));
        }
        targets.push(target);
    }
    let wait_tail = match (wait_above_s, wait_above_max) {
        (Some(above_s), Some(max_share)) => Some(WaitTailTarget { above_s, max_share }),
        (None, None) => None,
        (Some(_), None) => return Err(c.err("service_level.p_wait_above_max", "missing: `p_wait_above_s` needs `p_wait_above_max`, the largest share of requests that may wait longer")),
        (None, Some(_)) => return Err(c.err("service_level.p_wait_above_s", "missing: `p_wait_above_max` needs `p_wait_above_s`, the wait in seconds it bounds (0 for any wait)")),
    };
    let attainment = match (attainment_share, attainment_bounds) {
        (None, [None, None, None]) => None,
        (Some(_), [None, None, None]) => return Err(c.err("service_level.attainment", "needs at least one of `attainment_ttft_s`, `attainment_tpot_s`, `attainment_e2e_s`")),
        (None, _) => return Err(c.err("service_level.attainment", "missing: attainment bounds need `attainment`, the share of requests that must meet them all (e.g. 0.9)")),
        (Some(share), [ttft, tpot, e2e]) => Some(AttainmentTarget {
            share,
            ttft_s: ttft.unwrap_or(f64::INFINITY),
            tpot_s: tpot.unwrap_or(f64::INFINITY),
            e2e_s: e2e.unwrap_or(f64::INFINITY),
        }),
    };
    // Contradictions: a bound on a higher percentile below the bound on a lower
    // percentile of the same metric only makes the lower one redundant, and e2e
    // >= ttft makes a lower e2e bound redundant too: accepted. What cannot be
    // judged (empty tables, half pairs, duplicates) is rejected above and here.
    if targets.is_empty() && wait_tail.is_none() && attainment.is_none() {
        return Err(c.err(
            "service_level",
            "is empty: give at least one target such as `wait_p99_s = 2.0`, or remove the table",
        ));
    }
    targets.sort_by(|a, b| {
        a.metric
            .cmp(&b.metric)
            .then(a.percentile.total_cmp(&b.percentile))
    });
    Ok(ServiceLevel {
        targets,
        wait_tail,
        attainment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_spellings() {
        assert_eq!(parse_percentile_digits("99"), Some(99.0));
        assert_eq!(parse_percentile_digits("999"), Some(99.9));
        assert_eq!(parse_percentile_digits("50"), Some(50.0));
        assert_eq!(parse_percentile_digits("x"), None);
        assert_eq!(parse_percentile_digits("100"), Some(100.0));
        assert_eq!(parse_percentile_digits("9999"), Some(99.99));
    }
}
