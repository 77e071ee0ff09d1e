//! sharesim: a discrete-event simulator that compares dedicated (one device
//! per user) and pooled (shared fleet) AI inference at the same service
//! level.
//!
//! A request flows: scenario file ([`scenario`]) -> merged arrival stream
//! ([`arrivals`]) and service time ([`dist`]) -> a placement's servers
//! ([`fcfs`]) -> a streaming recorder ([`metrics`]) -> one flat row per
//! placement and replication ([`run`]) -> Parquet ([`output`]).
//!
//! The library never prints; the `sharesim` binary does.

pub mod analytic;
pub mod arrivals;
pub mod batching;
pub mod charts;
pub mod dist;
pub mod error;
pub mod events;
pub mod fcfs;
pub mod fit;
pub mod llm;
pub mod metrics;
pub mod output;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod sizing;
pub mod slo;
pub mod stats;
pub mod step;
pub mod sweep;
pub mod table;
pub mod trace;
pub mod validate;
pub mod workload;
