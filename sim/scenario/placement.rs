//! Resolved placements: where requests are served ([`PlacementKind`]), how an
//! LLM placement's servers are built ([`LlmServer`]) and what prices a
//! generic one ([`PricedDevice`]).

use super::cost::Billing;
use crate::core::dist::Dist;
use crate::engine::fcfs::Dispatch;
use crate::llm::catalog::Device;
use crate::llm::engines::KvPolicy;
use crate::llm::step::StepModel;

/// Largest `service_scale` (and catalogue real-time factor) accepted.
pub const MAX_SERVICE_SCALE: f64 = 1e6;

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
    /// KV a running sequence holds whatever its length (sliding-window
    /// layers), in full-attention token equivalents.
    pub kv_fixed_tokens_per_seq: u64,
    /// How the engine allocates the KV cache.
    pub kv_policy: KvPolicy,
    /// The serving engine's name.
    pub engine: String,
    /// Power usage effectiveness of the site (wall / IT power).
    pub pue: f64,
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
    /// Prompt blocks are cached (`prefix_caching`).
    pub prefix_caching: bool,
    /// Separate prefill and decode pools (`[placements.disaggregated]`);
    /// the placement's `servers` are both pools together.
    pub disaggregated: Option<Disaggregation>,
    /// The placement's own `model` (name, quantisation), served instead of
    /// its classes' model (a smaller model on a fallback); None: theirs.
    pub own_model: Option<(String, String)>,
}

/// Bandwidth of one KV transfer when a placement gives none, GB/s: one
/// 400 Gb/s InfiniBand NDR / RoCE port per GPU (NVIDIA ConnectX-7, as on
/// DGX H100: eight ports for eight GPUs).
pub const DEFAULT_LINK_GB_PER_S: f64 = 50.0;

/// Time every KV transfer takes besides its bytes when a placement gives
/// none, seconds [E]: RDMA's wire latency is a few microseconds, but a
/// transfer engine (Mooncake's, vLLM's NIXL connector) exchanges block
/// tables and registers memory before the bytes move, about a millisecond.
pub const DEFAULT_LINK_LATENCY_S: f64 = 0.001;

/// Prefill/decode disaggregation of a pooled LLM placement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Disaggregation {
    /// Servers that only prefill; the others of the placement only decode.
    pub prefill_servers: usize,
    /// Bandwidth of one KV transfer, bytes per second (may be infinite).
    pub link_bytes_per_s: f64,
    /// Time every transfer takes besides its bytes, seconds.
    pub link_latency_s: f64,
    /// KV bytes per full-attention context token of the model on these
    /// servers (at the placement's KV precision).
    pub kv_bytes_per_token: f64,
    /// What a sizing probe's server count sets.
    pub sized: SizedPool,
}

/// Which pool of a disaggregated placement a sizing probe's server count
/// sets ([`super::Scenario::probe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SizedPool {
    /// The whole placement: the prefill pool keeps its size (at least one
    /// decode server is left).
    #[default]
    Both,
    /// The prefill pool, beside a decode pool of this many servers.
    Prefill {
        /// Decode servers.
        decode: usize,
    },
    /// The decode pool, beside a prefill pool of this many servers.
    Decode {
        /// Prefill servers.
        prefill: usize,
    },
}

/// A catalogue device that prices a generic (non-LLM) placement.
#[derive(Debug, Clone)]
pub struct PricedDevice {
    /// The device of each server or user.
    pub device: Device,
    /// Price of one device after the memory price multiplier, USD.
    pub capex_per_device_usd: f64,
}

/// What a placement's servers are built from.
#[derive(Debug, Clone)]
pub enum Servers {
    /// Servers of generic service times (generic and speech classes).
    Generic {
        /// The catalogue `device` that prices them, if named.
        priced_device: Option<Box<PricedDevice>>,
    },
    /// LLM servers (LLM classes).
    Llm(Box<LlmServer>),
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
    /// What its servers are: LLM servers, or generic ones (possibly priced
    /// by a catalogue device), never both.
    pub servers: Servers,
    /// Its index in the scenario file, which keys its random streams
    /// (dispatch, network), kept in views so a view draws what the whole
    /// scenario would.
    pub stream_id: u64,
    /// Dedicated placements with `[sizing] dedicated_devices`: the same
    /// placement on each listed catalogue device, or why that device cannot
    /// serve it (e.g. the model does not fit).
    pub device_alternatives: Vec<(String, Result<Placement, String>)>,
    /// Who owns its devices, its site's electricity price and carbon.
    pub billing: Billing,
    /// The outages that take it down and what its requests do then
    /// (`[outages]`; empty without it).
    pub outage: PlacementOutage,
    /// An LLM placement whose classes use several models: one sub-fleet
    /// per model (its own replicas, weights and step costs), in order of
    /// the first class using each. Empty when every class it serves uses
    /// one model (then `servers` is that model's servers).
    pub models: Vec<ModelFleet>,
}

/// One model's sub-fleet of a placement serving classes of several models
/// (docs/model.md, "Many models in one fleet"): pooled, its own replicas
/// holding its own copy of the weights; dedicated, the model each of its
/// classes' users' devices hold.
#[derive(Debug, Clone)]
pub struct ModelFleet {
    /// `<model> <quantisation>`, e.g. `gpt_oss_120b mxfp4`.
    pub label: String,
    /// The classes whose requests it serves (scenario class indices).
    pub classes: Vec<usize>,
    /// Its servers: this model's step costs and KV budget on the device.
    pub server: LlmServer,
    /// Its replicas (pooled; the placement's `servers` is their sum and
    /// the swap pool's servers).
    pub servers: usize,
    /// Swapped in (`[placements.swap]`): no replicas of its own; its
    /// requests go to the swap pool, which loads it when needed.
    pub swapped: bool,
    /// Seconds a server takes to load its weights (swapped models).
    pub load_s: f64,
}

/// What a request arriving during an outage of its placement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutageRule {
    /// Fails: counted (`outage_failed`), never within the service level.
    #[default]
    Fail,
    /// Waits for the outage's end; its latencies count from its arrival.
    Wait,
    /// Served by the placement's `fallback` instead.
    Fallback,
}

impl OutageRule {
    /// The rule's name in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            OutageRule::Fail => "fail",
            OutageRule::Wait => "wait",
            OutageRule::Fallback => "fallback",
        }
    }
}

/// A placement's outages (`[outages]` processes that hit it) and its rule.
#[derive(Debug, Clone, Default)]
pub struct PlacementOutage {
    /// Indices of the processes in [`super::Scenario::outages`] that take
    /// it down.
    pub processes: Vec<usize>,
    /// What its requests do while it is down.
    pub rule: OutageRule,
    /// With [`OutageRule::Fallback`]: the placement serving them then.
    pub fallback: Option<String>,
    /// A `fallback_only` placement: the placement it backs and that
    /// placement's processes; it serves only the requests arriving while
    /// those take it down.
    pub backs: Option<(String, Vec<usize>)>,
    /// A `fallback_only` placement: the placement it backs, whose run it
    /// repeats when that placement's users are closed-loop (sessions,
    /// agents) or replay a trace, to learn which requests fall back.
    pub primary: Option<Box<Placement>>,
}

impl Placement {
    /// Its LLM servers, if it serves LLM classes.
    pub fn llm(&self) -> Option<&LlmServer> {
        match &self.servers {
            Servers::Llm(l) => Some(l),
            Servers::Generic { .. } => None,
        }
    }

    /// Its LLM servers, mutable.
    pub fn llm_mut(&mut self) -> Option<&mut LlmServer> {
        match &mut self.servers {
            Servers::Llm(l) => Some(l),
            Servers::Generic { .. } => None,
        }
    }

    /// The catalogue device it holds (LLM servers' or the one pricing a
    /// generic placement), if any.
    pub fn device(&self) -> Option<&Device> {
        match &self.servers {
            Servers::Llm(l) => Some(&l.device),
            Servers::Generic { priced_device } => priced_device.as_deref().map(|p| &p.device),
        }
    }

    /// The catalogue device pricing a generic placement, if named.
    pub fn priced_device(&self) -> Option<&PricedDevice> {
        match &self.servers {
            Servers::Generic { priced_device } => priced_device.as_deref(),
            Servers::Llm(_) => None,
        }
    }

    /// Whether it serves classes of several models (sub-fleets in `models`).
    pub fn is_multi_model(&self) -> bool {
        !self.models.is_empty()
    }

    /// Servers of its swap pool: the fleet beyond its models' own replicas
    /// (0 without swapped models).
    pub fn swap_servers(&self) -> usize {
        if !self.models.iter().any(|f| f.swapped) {
            return 0;
        }
        let resident: usize = self.models.iter().map(|f| f.servers).sum();
        match self.kind {
            PlacementKind::Pooled { servers, .. } => servers.saturating_sub(resident),
            PlacementKind::Dedicated => 0,
        }
    }

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
