//! sharesim: a discrete-event simulator that compares dedicated (one device
//! per user) and pooled (shared fleet) AI inference at the same service
//! level.
//!
//! The library is laid out in layers; each uses only those listed before it:
//!
//! 1. [`core`]: random streams, distributions, streaming statistics, closed
//!    forms, units;
//! 2. [`llm`] (catalogue, roofline step costs, calibration), [`workload`]
//!    (arrivals, request sources, traces, trace fitting) and [`metrics`]
//!    (recorders, measurement windows, day timelines);
//! 3. [`engine`]: FCFS fleets, dedicated devices, continuous batching;
//! 4. [`scenario`]: the TOML file read, checked and resolved into a model;
//! 5. [`results`] (rows) and [`output`] (Parquet files, atomic writes);
//! 6. [`slo`] -> [`run`] -> [`selfcheck`] and [`sizing`] -> [`sweep`];
//! 7. [`charts`], which reads result tables only.
//!
//! A request flows: scenario file ([`scenario`]) -> merged arrival stream
//! and request source ([`workload`]) -> a placement's servers ([`engine`])
//! -> a streaming recorder ([`metrics`]) -> one row per placement and
//! replication ([`run`], [`results`]) -> Parquet ([`output`]).
//!
//! The library never prints; the `sharesim` binary does.

pub mod charts;
pub mod core;
pub mod engine;
pub mod llm;
pub mod metrics;
pub mod output;
pub mod results;
pub mod run;
pub mod scenario;
pub mod selfcheck;
pub mod sizing;
pub mod slo;
pub mod sweep;
pub mod workload;
