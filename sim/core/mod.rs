//! The bottom layer: what every other layer uses and that knows nothing of
//! scenarios, servers or results.
//!
//! - [`rng`]: seeded, counter-based random streams (one per replication,
//!   stream kind and index), so results do not depend on thread count.
//! - [`dist`]: service-time and token-count distributions.
//! - [`stats`]: streaming latency histograms and replication estimates.
//! - [`analytic`]: closed forms from queueing theory (Erlang-C,
//!   Pollaczek-Khinchine, square-root staffing) the engine is checked against.
//! - [`units`]: time constants, the one spelling of a percentile, and
//!   terminal-safe text.
//! - [`classes`]: the contiguous user-id ranges of a population's classes.
//! - [`heap`]: a four-ary min-heap for queues popped once per request.
//! - [`prefetch`]: a cache hint for per-user records read an event later.
//! - [`error`]: TOML deserialisation that names the key and line of a mistake.

pub(crate) mod analytic;
pub(crate) mod classes;
pub(crate) mod dist;
pub(crate) mod error;
pub(crate) mod heap;
pub(crate) mod prefetch;
pub(crate) mod rng;
pub(crate) mod stats;
pub(crate) mod units;

pub use analytic::{
    erlang_c, min_servers_for_wait_tail, normal_quantile, pollaczek_khinchine_wait, t_quantile,
    MmcWait,
};
pub use dist::{draw_tokens, Dist, Z_P90, Z_P99};
pub use rng::{derive_seed, stream_rng, SimRng, StreamKind};
pub use stats::{Estimate, LatencyHistogram};
pub use units::{percentile_label, printable, DAY_S};
