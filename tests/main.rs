//! The integration tests, as one test binary: one link of the library (and of
//! polars and plotters) instead of one per file. Each module below is one
//! subject, in the file of its name beside this one; `support` holds what
//! several of them use (the binary, scenario files, base scenarios, reading
//! results, and the invariants shared with the fuzz targets).
//!
//! Run one module with a filter: `cargo test --release traces::`.

mod support;

mod answers;
mod autoscale;
mod benchmarks;
mod bill;
mod bursts;

mod calibration;
mod chart_truth;
mod charts;
mod classes;
mod cli;
mod closed_forms;
mod commands;
mod crash_safety;
mod disagg;
mod end_to_end;
mod errors;
mod estimate;
mod expected;
mod fault_matrix;
mod fuzz_regressions;
mod llm_engine;
mod models;
mod outages;
mod parquet_joins;
mod prefix;
mod properties;
mod python_readers;
mod readme;
mod shape;
mod sizing;
mod stopping;
mod sweep;
mod traces;
mod uncertainty;
mod waterfall;
mod workloads;
