//! Where requests come from: arrival processes with daily profiles and time
//! zones ([`arrivals`]), the per-replication request source with sessions and
//! always-on agents ([`source`]), bursty arrivals ([`bursts`]), replayed
//! traces ([`trace`]) and workload parameters fitted to a trace ([`fit`]),
//! observed values for empirical distributions ([`values`]) and outage
//! processes ([`outages`]).
//!
//! This layer knows the core only: a scenario hands it a
//! [`source::Population`], never itself.

pub(crate) mod arrivals;
pub(crate) mod bursts;
pub(crate) mod fit;
pub mod outages;
pub(crate) mod source;
pub(crate) mod trace;
pub(crate) mod values;

pub use arrivals::{DiurnalProfile, PoissonArrivals, RateSpread, UserGroup};
pub use bursts::{
    fit_bursts, gamma_dispersion, BurstCandidate, BurstFit, Bursts, DISPERSION_WINDOWS_S,
};
pub use fit::{fit_trace, FitReport, LogNormalFit, SessionFit, TokenFit};
pub use outages::{down_seconds, OutageClock, OutageSpec};
pub use source::{Behaviour, Population, RequestBudget, Source};
pub use trace::{
    dispersion_of_arrivals, CacheHits, ColumnMapping, ReplayOptions, TimeUnit, Trace, TraceBlocks,
    TraceClock, TraceError, TraceFormat, TraceRequest, TraceStats, MAPPING_KEYS,
    MOONCAKE_BLOCK_TOKENS,
};
pub use values::{read_values, ValuesError};
