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
/// Share of busy server-seconds in the measurement window.
pub const UTILIZATION_SHARE: &str = "utilization_share";
/// Share of measured requests that waited a positive time.
pub const P_WAIT_SHARE: &str = "p_wait_share";
/// Share of measured requests that waited longer than the wait-tail bound.
pub const P_WAIT_ABOVE_SHARE: &str = "p_wait_above_share";
/// Share of measured requests within every latency target.
pub const SLO_ATTAINMENT_SHARE: &str = "slo_attainment_share";
/// Whether the service level was met.
pub const SLO_MET: &str = "slo_met";
/// One line per target: value compared, bound, verdict.
pub const SLO_DETAIL: &str = "slo_detail";
/// What a placement's requests do during its outages (`fail`, `wait`,
/// `fallback`, or `fallback of <placement>`).
pub const ON_OUTAGE: &str = "on_outage";
/// The placement serving a placement's requests during its outages.
pub const FALLBACK: &str = "fallback";
/// Requests a placement sent to its fallback.
pub const OUTAGE_FALLBACK: &str = "outage_fallback";
/// Share of measured requests within the service level, outages counted.
pub const SLO_ATTAINMENT_SHARE_WITH_OUTAGES: &str = "slo_attainment_share_with_outages";
/// Expected share of a year's requests within the service level, outages
/// counted (sizing).
pub const AVAILABILITY_SHARE: &str = "availability_share";
/// Capital per user of a placement and its fallback (sizing).
pub const CAPEX_WITH_FALLBACK: &str = "capex_usd_per_user_with_fallback";
/// The availability target is met (sizing).
pub const MEETS_AVAILABILITY: &str = "meets_availability_target";
/// The cheapest option meeting the availability target (sizing).
pub const AVAILABILITY_CHOICE: &str = "availability_choice";
/// Suffix of a summary column's 95 % confidence half-width.
pub const CI95_SUFFIX: &str = "_ci95";

/// Column `arrivals_per_min` (docs/results-schema.md).
pub const ARRIVALS_PER_MIN: &str = "arrivals_per_min";
/// Column `busy_servers` (docs/results-schema.md).
pub const BUSY_SERVERS: &str = "busy_servers";
/// Column `capex_usd_per_user` (docs/results-schema.md).
pub const CAPEX_USD_PER_USER: &str = "capex_usd_per_user";
/// Column `capex_usd_total` (docs/results-schema.md).
pub const CAPEX_USD_TOTAL: &str = "capex_usd_total";
/// Column `devices_per_user` (docs/results-schema.md).
pub const DEVICES_PER_USER: &str = "devices_per_user";
/// Column `devices_total` (docs/results-schema.md).
pub const DEVICES_TOTAL: &str = "devices_total";
/// Column `energy_kwh_per_day_total` (docs/results-schema.md).
pub const ENERGY_KWH_PER_DAY_TOTAL: &str = "energy_kwh_per_day_total";
/// Column `e2e_p99_s` (docs/results-schema.md).
pub const E2E_P99_S: &str = "e2e_p99_s";
/// Column `hour_of_day` (docs/results-schema.md).
pub const HOUR_OF_DAY: &str = "hour_of_day";
/// Column `mem_gb_per_user` (docs/results-schema.md).
pub const MEM_GB_PER_USER: &str = "mem_gb_per_user";
/// Column `mem_gb_total` (docs/results-schema.md).
pub const MEM_GB_TOTAL: &str = "mem_gb_total";
/// Column `minute_of_day` (docs/results-schema.md).
pub const MINUTE_OF_DAY: &str = "minute_of_day";
/// Column `pool_size` (docs/results-schema.md).
pub const POOL_SIZE: &str = "pool_size";
/// Column `pool_users` (docs/results-schema.md).
pub const POOL_USERS: &str = "pool_users";
/// Column `quantile` (docs/results-schema.md).
pub const QUANTILE: &str = "quantile";
/// Column `response_p99_s` (docs/results-schema.md).
pub const RESPONSE_P99_S: &str = "response_p99_s";
/// Column `servers_per_pool` (docs/results-schema.md).
pub const SERVERS_PER_POOL: &str = "servers_per_pool";
/// The closed-form estimate of servers per pool beside the simulated size.
pub const ESTIMATE_SERVERS_PER_POOL: &str = "estimate_servers_per_pool";
/// The closed-form estimate of all servers (every pool).
pub const ESTIMATE_SERVERS_TOTAL: &str = "estimate_servers_total";
/// The estimate's relative error, `estimate / simulated - 1`.
pub const ESTIMATE_ERROR_SHARE: &str = "estimate_error_share";
/// Column `sharing_factor_capex` (docs/results-schema.md).
pub const SHARING_FACTOR_CAPEX: &str = "sharing_factor_capex";
/// Column `sharing_factor_devices` (docs/results-schema.md).
pub const SHARING_FACTOR_DEVICES: &str = "sharing_factor_devices";
/// Column `sharing_factor_memory` (docs/results-schema.md).
pub const SHARING_FACTOR_MEMORY: &str = "sharing_factor_memory";
/// Column `slo_max_s` (docs/results-schema.md).
pub const SLO_MAX_S: &str = "slo_max_s";
/// Column `slo_quantile` (docs/results-schema.md): in [0, 1], like `quantile`.
pub const SLO_QUANTILE: &str = "slo_quantile";
/// Column `tpot_p99_s` (docs/results-schema.md).
pub const TPOT_P99_S: &str = "tpot_p99_s";
/// Column `ttft_p99_s` (docs/results-schema.md).
pub const TTFT_P99_S: &str = "ttft_p99_s";
/// Column `value_s` (docs/results-schema.md).
pub const VALUE_S: &str = "value_s";
/// Column `wait_p99_s` (docs/results-schema.md).
pub const WAIT_P99_S: &str = "wait_p99_s";

/// Column `benchmark_setup` (docs/results-schema.md, benchmark scenarios).
pub const BENCHMARK_SETUP: &str = "benchmark_setup";
/// Column `concurrency` (benchmark scenarios).
pub const CONCURRENCY: &str = "concurrency";
/// Column `input_tokens` (benchmark scenarios).
pub const INPUT_TOKENS: &str = "input_tokens";
/// Column `output_tokens` (benchmark scenarios).
pub const OUTPUT_TOKENS: &str = "output_tokens";
/// Column `makespan_s` (benchmark scenarios).
pub const MAKESPAN_S: &str = "makespan_s";
/// Column `output_tok_s_per_gpu` (benchmark scenarios).
pub const OUTPUT_TOK_S_PER_GPU: &str = "output_tok_s_per_gpu";
/// Column `total_tok_s_per_gpu` (benchmark scenarios).
pub const TOTAL_TOK_S_PER_GPU: &str = "total_tok_s_per_gpu";
/// Column `decode_tok_s` (benchmark scenarios, batched decode).
pub const DECODE_TOK_S: &str = "decode_tok_s";
/// Column `prefill_tok_s` (benchmark scenarios, single prompt).
pub const PREFILL_TOK_S: &str = "prefill_tok_s";
/// Column `board_power_w_per_gpu` (benchmark scenarios).
pub const BOARD_POWER_W_PER_GPU: &str = "board_power_w_per_gpu";
/// Column `tpot_mean_s` (docs/results-schema.md).
pub const TPOT_MEAN_S: &str = "tpot_mean_s";
/// Column `tpot_p50_s` (docs/results-schema.md).
pub const TPOT_P50_S: &str = "tpot_p50_s";
/// Column `ttft_mean_s` (docs/results-schema.md).
pub const TTFT_MEAN_S: &str = "ttft_mean_s";

/// Column of a latency percentile: `ttft`, 99 -> `ttft_p99_s`.
pub fn latency(metric: LatencyMetric, percentile: f64) -> String {
    format!("{}_{}_s", metric.name(), percentile_label(percentile))
}

/// The confidence half-width column of `column`: `ttft_p99_s_ci95`.
pub fn ci95(column: &str) -> String {
    format!("{column}{CI95_SUFFIX}")
}
