//! The bottom layer: what every other layer uses and that knows nothing of
//! scenarios, servers or results.
//!
//! - [`rng`]: seeded, counter-based random streams (one per replication,
//!   stream kind and index), so results do not depend on thread count.
//! - [`dist`]: service-time and token-count distributions.
//! - [`stats`]: streaming latency histograms and replication estimates.
//! - [`analytic`]: closed forms from queueing theory (Erlang-C,
//!   Pollaczek-Khinchine, square-root staffing) the engine is checked against.
//! - [`units`]: time constants and the one spelling of a percentile.
//! - [`classes`]: the contiguous user-id ranges of a population's classes.
//! - [`error`]: TOML deserialisation that names the key and line of a mistake.

pub mod analytic;
pub mod classes;
pub mod dist;
pub mod error;
pub mod rng;
pub mod stats;
pub mod units;
