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
//! The library never prints; the `sharesim` binary does. The model, with
//! its formulas, checks and sources, is described in `docs/model.md`.
//!
//! Load a scenario, run it, read a row:
//!
//! ```
//! use std::path::Path;
//!
//! use sharesim::results::{columns, get, Value};
//! use sharesim::run::run_scenario;
//! use sharesim::scenario::Scenario;
//!
//! let text = r#"
//!     seed = 1
//!     horizon_s = 20000
//!     warmup_s = 1000
//!     replications = 2
//!     [users]
//!     count = 50
//!     requests_per_day = 100.0
//!     [service]
//!     distribution = "exponential"
//!     mean_s = 20.0
//!     [[placements]]
//!     name = "local"
//!     kind = "dedicated"
//!     [[placements]]
//!     name = "pool"
//!     kind = "pooled"
//!     servers = 4
//!     [service_level]
//!     wait_p99_s = 5.0
//! "#;
//! let scenario = Scenario::from_toml_str(text, Path::new("example.toml"))?;
//! let results = run_scenario(&scenario);
//! // One summary row per placement, in scenario order.
//! let pool = &results.summary[1];
//! assert_eq!(get(pool, columns::PLACEMENT), Some(&Value::Str("pool".into())));
//! // The verdict on the service level, judged on the upper end of the
//! // 95 % interval of the p99 wait across the two replications.
//! let met = get(pool, columns::SLO_MET);
//! assert!(matches!(met, Some(Value::Bool(Some(_)))));
//! # Ok::<(), sharesim::scenario::ScenarioError>(())
//! ```

pub mod calibration;
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
