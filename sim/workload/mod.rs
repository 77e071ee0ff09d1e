//! Where requests come from: arrival processes with daily profiles and time
//! zones ([`arrivals`]), the per-replication request source with sessions and
//! always-on agents ([`source`]), replayed traces ([`trace`]) and workload
//! parameters fitted to a trace ([`fit`]), and observed values for
//! empirical distributions ([`values`]).
//!
//! This layer knows the core only: a scenario hands it a
//! [`source::Population`], never itself.

pub mod arrivals;
pub mod fit;
pub mod source;
pub mod trace;
pub mod values;

pub use source::{Behaviour, Population, Source};
