//! Real request traces as simulator input: reading a CSV or Parquet trace
//! into arrival times and token counts ([`Trace::load`]), the column layouts
//! it understands ([`TraceFormat`]: the Azure 2023 LLM trace, RAGPulse, or a
//! [`ColumnMapping`] of your own), replay options (time scaling and offset),
//! the rule that assigns trace requests to simulated users
//! ([`Trace::assign_users`]) and exact descriptive statistics
//! ([`Trace::stats`]). Fitting distributions to a trace lives in
//! [`crate::workload::fit`].
//!
//! Rules (also in `docs/traces.md`):
//!
//! - Arrival time: `arrival_s = t * time_scale + time_offset_s`, where `t` is
//!   the trace's time in seconds: the time column as given for
//!   [`TimeUnit::Seconds`], divided by 1000 for [`TimeUnit::Milliseconds`],
//!   and seconds since the earliest row (the first row of a sorted trace) for
//!   [`TimeUnit::DateTime`]. Requests are sorted by arrival, stably (rows with
//!   equal times keep their file order).
//! - User and session ids: a cell of decimal digits that fits a `u64` is that
//!   number; any other non-empty cell is the 64-bit FNV-1a hash of its bytes;
//!   an empty cell is "no id". The same text always gives the same id.
//! - User assignment ([`Trace::assign_users`]): requests are walked in
//!   arrival order; each new unit takes the next simulated user in round
//!   robin (`0, 1, .., users-1, 0, ..`). A unit is the trace's user when the
//!   row has one, else its session (so a session stays with one user), else
//!   the request on its own.
//! - Percentiles are nearest-rank order statistics: the `q` quantile of `n`
//!   sorted values is the value of rank `ceil(q * n)` (1-based, at least 1).
//!   They are always observed values.
//! - Errors ([`TraceError`]) name the file, the line (the header is line 1,
//!   so data row `i` is line `i + 1`; a Parquet row is numbered the same way)
//!   and the column, and say what to fix. No input makes the reader panic:
//!   bytes that are not UTF-8, ragged rows and quoted fields (with commas,
//!   doubled quotes or line breaks inside) are handled or reported.
//! - Parquet: only the mapped columns are read; they must be integers,
//!   floats or text. Polars is built here without its date-time types, so a
//!   Parquet timestamp column is rejected with an error asking for text or
//!   seconds.
//!
//! Layout: `format` (layouts and column mapping), `replay` (replay options
//! and the clock), `error`, `csv` and `parquet` (the readers), `build`
//! (cells to requests), `datetime` and `stats`; the public names are
//! re-exported here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod build;
mod csv;
mod datetime;
mod error;
mod format;
mod parquet;
mod replay;
mod stats;
#[cfg(test)]
mod tests;

pub use error::TraceError;
pub use format::{ColumnMapping, TimeUnit, TraceFormat};
pub use replay::{ReplayOptions, TraceClock};
pub use stats::nearest_rank;

use build::Builder;
use csv::load_csv;
use parquet::{is_parquet, load_parquet};

/// One request of a trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceRequest {
    /// Arrival time, seconds (after scaling and offset).
    pub arrival_s: f64,
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Generated tokens.
    pub output_tokens: u32,
    /// User id (from the trace, or from [`Trace::assign_users`]).
    pub user: Option<u64>,
    /// Session id.
    pub session: Option<u64>,
}

/// A loaded trace: requests sorted by arrival.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Requests in arrival order (stable: equal times keep file order).
    pub requests: Vec<TraceRequest>,
    /// The file it came from.
    pub source: PathBuf,
    /// Format name (`azure`, `ragpulse`, `custom`).
    pub format: String,
    /// The trace's wall clock, when known (date-time traces, RAGPulse, or
    /// `start_hour_of_day`).
    pub clock: Option<TraceClock>,
}

impl Trace {
    /// Read a trace: Parquet when the file name ends in `.parquet`, CSV
    /// otherwise. See the module doc for the time, id and sorting rules.
    pub fn load(
        path: &Path,
        format: &TraceFormat,
        options: &ReplayOptions,
    ) -> Result<Trace, TraceError> {
        options.validate()?;
        let mapping = format.mapping();
        let start_hour = options
            .start_hour_of_day
            .or_else(|| format.default_start_hour_of_day());
        let mut b = Builder::new(path, &mapping, options);
        if is_parquet(path) {
            load_parquet(path, &mapping, &mut b)?;
        } else {
            load_csv(path, &mapping, &mut b)?;
        }
        b.finish(format.name(), start_hour)
    }

    /// A trace from requests made in code (sorted stably by arrival).
    pub fn from_requests(
        mut requests: Vec<TraceRequest>,
        source: impl Into<PathBuf>,
        clock: Option<TraceClock>,
    ) -> Trace {
        requests.sort_by(|a, b| a.arrival_s.total_cmp(&b.arrival_s));
        Trace {
            requests,
            source: source.into(),
            format: "custom".into(),
            clock,
        }
    }

    /// Give every request a simulated user in `0..users`: walking requests
    /// in arrival order, each new unit takes the next user in round robin.
    /// A unit is the request's trace user when it has one, else its session,
    /// else the request alone. So sessions (and trace users) stay whole, and
    /// users get equal numbers of units (within one). Replaces `user`.
    pub fn assign_users(&mut self, users: u32) -> Result<(), TraceError> {
        if users == 0 {
            return Err(TraceError::BadOption {
                option: "users",
                message: "must be at least 1".into(),
            });
        }
        #[derive(Hash, PartialEq, Eq)]
        enum Unit {
            User(u64),
            Session(u64),
        }
        let mut seen: HashMap<Unit, u64> = HashMap::new();
        let mut next: u64 = 0;
        let users = u64::from(users);
        for r in &mut self.requests {
            let unit = match (r.user, r.session) {
                (Some(u), _) => Some(Unit::User(u)),
                (None, Some(s)) => Some(Unit::Session(s)),
                (None, None) => None,
            };
            let mut take = || {
                let u = next % users;
                next += 1;
                u
            };
            let u = match unit {
                Some(unit) => *seen.entry(unit).or_insert_with(take),
                None => take(),
            };
            r.user = Some(u);
        }
        Ok(())
    }
}
