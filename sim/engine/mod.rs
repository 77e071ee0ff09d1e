//! The servers: pooled FCFS fleets and dedicated devices ([`fcfs`]), LLM
//! servers with continuous batching ([`batching`]), a swap pool of rarely
//! used models ([`swap`]) and the event queue they share ([`events`]). The engine takes requests and a placement's
//! parameters, and reports into [`crate::metrics`] recorders; it knows
//! nothing of scenarios or result rows.

pub(crate) mod batching;
pub(crate) mod events;
pub(crate) mod fcfs;
pub(crate) mod swap;

pub use batching::{
    Autoscaler, BatchConfig, BatchingFleet, DisaggConfig, DisaggFleet, FleetUsage, KvAllocation,
    KvLink, LlmRequest, LlmSource, PrefixCaching, PromptBlocks, ScaleMetric, ScalingUsage,
    SEQUENCE_BYTES,
};
pub use fcfs::{DedicatedDevices, Dispatch, PooledFleet, Served};
pub use swap::{SwapFleet, Swapped};
