//! The names of the result columns that code reads back (the service-level
//! verdict, sizing, the printed tables, the charts). Spelled here only, so a
//! rename is one edit and a typo is a compile error. The full list of
//! columns, with units and meaning, is docs/results-schema.md.

use crate::core::units::percentile_label;
use crate::scenario::LatencyMetric;

/// Placement name.
pub const PLACEMENT: &str = "placement";
/// Placement kind (`dedicated`, `pooled`, `hybrid`).
pub const KIND: &str = "kind";
/// Class name of a per-class row.
pub const CLASS: &str = "class";
/// Replication index.
pub const REPLICATION: &str = "replication";
/// Number of replications summarised.
pub const REPLICATIONS: &str = "replications";
/// Share of measured requests that waited longer than the wait-tail bound.
pub const P_WAIT_ABOVE: &str = "p_wait_above";
/// Share of measured requests within every latency target.
pub const SLO_ATTAINMENT: &str = "slo_attainment";
/// Whether the service level was met.
pub const SLO_MET: &str = "slo_met";
/// One line per target: value compared, bound, verdict.
pub const SLO_DETAIL: &str = "slo_detail";
/// Suffix of a summary column's 95 % confidence half-width.
pub const CI95_SUFFIX: &str = "_ci95";

/// Column of a latency percentile: `ttft`, 99 -> `ttft_p99_s`.
pub fn latency(metric: LatencyMetric, percentile: f64) -> String {
    format!("{}_{}_s", metric.name(), percentile_label(percentile))
}

/// The confidence half-width column of `column`: `ttft_p99_s_ci95`.
pub fn ci95(column: &str) -> String {
    format!("{column}{CI95_SUFFIX}")
}
