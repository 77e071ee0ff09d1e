//! Real request traces as simulator input: reading a CSV, Parquet or JSONL
//! trace into arrival times, token counts and (when the trace has them) the
//! prompt's block hashes ([`Trace::load`], [`TraceBlocks`]), the column
//! layouts it understands ([`TraceFormat`]: the Azure 2023 LLM traces,
//! RAGPulse, Mooncake, or a [`ColumnMapping`] of your own), replay options
//! (time scaling and offset),
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
//!   floats or text (a block-hash column: text such as `[3, 4, 9]`). Polars
//!   is built here without its date-time types, so a Parquet timestamp
//!   column is rejected with an error asking for text or seconds.
//! - JSONL (file name ends in `.jsonl` or `.ndjson`): one JSON object per
//!   line, the mapped keys read from each (numbers, strings, null; the
//!   block-hash key an array of ids); other keys are ignored. Line numbers
//!   are the file's.
//!
//! Layout: `format` (layouts and column mapping), `replay` (replay options
//! and the clock), `error`, `csv`, `parquet` and `jsonl` (the readers), `build`
//! (cells to requests), `datetime` and `stats`; the public names are
//! re-exported here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod build;
mod csv;
mod datetime;
mod error;
mod format;
mod jsonl;
mod parquet;
mod replay;
mod stats;
#[cfg(test)]
mod tests;

pub use error::TraceError;
pub use format::{ColumnMapping, TimeUnit, TraceFormat, MAPPING_KEYS, MOONCAKE_BLOCK_TOKENS};
pub use replay::{ReplayOptions, TraceClock};
pub use stats::{dispersion_of_arrivals, nearest_rank};
pub use stats::{CacheHits, TraceStats};

use build::Builder;
use csv::load_csv;
use jsonl::{is_jsonl, load_jsonl};
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

/// The prompts' block hashes of a trace, stored compactly: one flat list
/// of ids and each request's range in it (request `i` of
/// [`Trace::requests`] owns `hashes[offsets[i]..offsets[i + 1]]`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceBlocks {
    /// Prompt tokens per hashed block (the last block of a prompt may hold
    /// fewer).
    pub block_tokens: u32,
    offsets: Vec<u32>,
    hashes: Vec<u64>,
}

impl TraceBlocks {
    /// From each request's list, in request order.
    pub fn from_lists<'a>(block_tokens: u32, lists: impl Iterator<Item = &'a [u64]>) -> Self {
        let mut out = TraceBlocks {
            block_tokens,
            offsets: vec![0],
            hashes: Vec::new(),
        };
        for l in lists {
            out.hashes.extend_from_slice(l);
            out.offsets.push(out.hashes.len() as u32);
        }
        out
    }

    /// Block hashes of request `i`.
    pub fn of(&self, i: usize) -> &[u64] {
        &self.hashes[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Requests covered.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when no request is covered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Block hashes over all requests.
    pub fn total_blocks(&self) -> usize {
        self.hashes.len()
    }
}

/// A loaded trace: requests sorted by arrival.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Requests in arrival order (stable: equal times keep file order).
    pub requests: Vec<TraceRequest>,
    /// Their block hashes, when the mapping names a block-hash column
    /// (aligned with `requests`).
    pub blocks: Option<TraceBlocks>,
    /// The file it came from.
    pub source: PathBuf,
    /// Format name (`azure`, `ragpulse`, `custom`).
    pub format: String,
    /// The trace's wall clock, when known (date-time traces, RAGPulse, or
    /// `start_hour_of_day`).
    pub clock: Option<TraceClock>,
}

impl Trace {
    /// Read a trace: Parquet when the file name ends in `.parquet`, JSONL
    /// when it ends in `.jsonl` or `.ndjson`, CSV otherwise. See the module
    /// doc for the time, id and sorting rules.
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
        } else if is_jsonl(path) {
            load_jsonl(path, &mapping, &mut b)?;
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
            blocks: None,
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
