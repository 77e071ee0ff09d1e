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

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::workload::arrivals::DAY_S;

// ------------------------------------------------------------------ formats

/// How the time column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// A number of seconds (any origin; kept as given).
    Seconds,
    /// A number of milliseconds (kept as given, divided by 1000).
    Milliseconds,
    /// A calendar time `YYYY-MM-DD HH:MM:SS[.fraction]` (a `T` may replace
    /// the space, a trailing `Z` is ignored), as text also in Parquet;
    /// converted to seconds since the earliest row.
    DateTime,
}

/// Which columns hold what. Column names match the header exactly (after
/// trimming spaces and a UTF-8 byte-order mark).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMapping {
    /// Arrival time column.
    pub time: String,
    /// How the time column is written.
    pub time_unit: TimeUnit,
    /// Prompt (input) token count column.
    pub input_tokens: String,
    /// Generated (output) token count column.
    pub output_tokens: String,
    /// Optional user id column.
    pub user: Option<String>,
    /// Optional session id column.
    pub session: Option<String>,
}

/// A trace layout: a preset or a custom column mapping.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceFormat {
    /// Azure LLM inference trace 2023: `TIMESTAMP` (date-time),
    /// `ContextTokens`, `GeneratedTokens`; no user or session.
    Azure,
    /// RAGPulse: `timestamp_s` (seconds from the start, which is 12:00 local
    /// time), `input_length`, `output_length`, `session_id`.
    RagPulse,
    /// Your own columns.
    Custom(ColumnMapping),
}

impl TraceFormat {
    /// Names accepted by [`TraceFormat::from_name`].
    pub const PRESETS: [&'static str; 2] = ["azure", "ragpulse"];

    /// A preset by name (`azure`, `ragpulse`; case-insensitive).
    pub fn from_name(name: &str) -> Option<TraceFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "azure" => Some(TraceFormat::Azure),
            "ragpulse" => Some(TraceFormat::RagPulse),
            _ => None,
        }
    }

    /// `azure`, `ragpulse` or `custom`.
    pub fn name(&self) -> &'static str {
        match self {
            TraceFormat::Azure => "azure",
            TraceFormat::RagPulse => "ragpulse",
            TraceFormat::Custom(_) => "custom",
        }
    }

    /// The columns this format reads.
    pub fn mapping(&self) -> ColumnMapping {
        match self {
            TraceFormat::Azure => ColumnMapping {
                time: "TIMESTAMP".into(),
                time_unit: TimeUnit::DateTime,
                input_tokens: "ContextTokens".into(),
                output_tokens: "GeneratedTokens".into(),
                user: None,
                session: None,
            },
            TraceFormat::RagPulse => ColumnMapping {
                time: "timestamp_s".into(),
                time_unit: TimeUnit::Seconds,
                input_tokens: "input_length".into(),
                output_tokens: "output_length".into(),
                user: None,
                session: Some("session_id".into()),
            },
            TraceFormat::Custom(m) => m.clone(),
        }
    }

    /// Local clock hour at trace time 0 when the format knows it (RAGPulse
    /// starts at 12:00). Date-time traces carry their own clock.
    pub fn default_start_hour_of_day(&self) -> Option<f64> {
        match self {
            TraceFormat::RagPulse => Some(12.0),
            _ => None,
        }
    }

    /// The preset whose columns all appear in `header`, if any.
    pub fn detect<S: AsRef<str>>(header: &[S]) -> Option<TraceFormat> {
        let names: Vec<&str> = header.iter().map(|h| clean_name(h.as_ref())).collect();
        [TraceFormat::Azure, TraceFormat::RagPulse]
            .into_iter()
            .find(|f| {
                let m = f.mapping();
                m.required()
                    .iter()
                    .chain(m.optional().iter())
                    .all(|(_, c)| names.contains(&c.as_str()))
            })
    }

    /// Read the header of a CSV or Parquet file and [`detect`](Self::detect)
    /// its preset.
    pub fn detect_file(path: &Path) -> Result<TraceFormat, TraceError> {
        let header = if is_parquet(path) {
            parquet_header(path)?
        } else {
            let data = read_bytes(path)?;
            let mut csv = Csv::new(&data);
            match csv.next_record() {
                None => {
                    return Err(TraceError::Empty {
                        file: path.to_path_buf(),
                        line: 1,
                        columns: "its columns".into(),
                    })
                }
                Some(Err((line, _))) => {
                    return Err(TraceError::InvalidValue {
                        file: path.to_path_buf(),
                        line,
                        column: "(header)".into(),
                        message: UNCLOSED_QUOTE.into(),
                    })
                }
                Some(Ok((_, fields))) => header_names(&fields),
            }
        };
        TraceFormat::detect(&header).ok_or_else(|| TraceError::UnknownFormat {
            file: path.to_path_buf(),
            header,
        })
    }
}

impl ColumnMapping {
    fn required(&self) -> Vec<(&'static str, &String)> {
        vec![
            ("arrival time", &self.time),
            ("input tokens", &self.input_tokens),
            ("output tokens", &self.output_tokens),
        ]
    }

    fn optional(&self) -> Vec<(&'static str, &String)> {
        let mut v = Vec::new();
        if let Some(u) = &self.user {
            v.push(("user id", u));
        }
        if let Some(s) = &self.session {
            v.push(("session id", s));
        }
        v
    }
}

/// How a trace is replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    /// Arrival times are multiplied by it (0.5 replays twice as fast).
    /// Must be positive and finite. Default 1.
    pub time_scale: f64,
    /// Seconds added after scaling (may be negative as long as no arrival
    /// becomes negative). Default 0.
    pub time_offset_s: f64,
    /// Reject a trace whose time goes backwards (otherwise rows are sorted).
    /// Default false.
    pub require_sorted: bool,
    /// Local clock hour (0 to 24) at trace time 0 for traces whose time is a
    /// number of seconds or milliseconds; `None` uses the format's default
    /// (12 for RAGPulse, unknown otherwise). Ignored for date-time traces,
    /// which carry their own clock.
    pub start_hour_of_day: Option<f64>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            time_scale: 1.0,
            time_offset_s: 0.0,
            require_sorted: false,
            start_hour_of_day: None,
        }
    }
}

impl ReplayOptions {
    fn validate(&self) -> Result<(), TraceError> {
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(TraceError::BadOption {
                option: "time_scale",
                message: format!(
                    "must be a positive finite factor, e.g. 0.5 to replay twice as fast (got {})",
                    self.time_scale
                ),
            });
        }
        if !self.time_offset_s.is_finite() {
            return Err(TraceError::BadOption {
                option: "time_offset_s",
                message: format!(
                    "must be a finite number of seconds (got {})",
                    self.time_offset_s
                ),
            });
        }
        if let Some(h) = self.start_hour_of_day {
            if !(h.is_finite() && (0.0..24.0).contains(&h)) {
                return Err(TraceError::BadOption {
                    option: "start_hour_of_day",
                    message: format!("must be a clock hour in [0, 24), e.g. 12 for noon (got {h})"),
                });
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------------------ errors

/// A trace that cannot be used. Every variant names the file; cell-level
/// errors also name the line (header = line 1) and the column.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be read.
    #[error("{}: cannot read the trace: {source}", file.display())]
    Read {
        /// The trace file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Polars could not read the Parquet file.
    #[error("{}: cannot read the Parquet trace: {message}", file.display())]
    Parquet {
        /// The trace file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No header, or a header and no data rows.
    #[error("{}: line {line}: no data rows; a trace needs a header line naming {columns}, then at least one data row", file.display())]
    Empty {
        /// The trace file.
        file: PathBuf,
        /// Where a row was expected.
        line: usize,
        /// The columns a row needs.
        columns: String,
    },
    /// The header matches no preset (format `auto`).
    #[error("{}: line 1: the header ({}) matches no preset format: azure needs TIMESTAMP, ContextTokens, GeneratedTokens; ragpulse needs timestamp_s, input_length, output_length, session_id; choose a format or a custom column mapping", file.display(), quoted_list(header))]
    UnknownFormat {
        /// The trace file.
        file: PathBuf,
        /// The header's column names.
        header: Vec<String>,
    },
    /// A mapped column is not in the header.
    #[error("{}: line 1, column `{column}`: no such column for the {role}; the header has {}; choose the matching format or column mapping", file.display(), quoted_list(header))]
    MissingColumn {
        /// The trace file.
        file: PathBuf,
        /// The column that was looked for.
        column: String,
        /// What it would hold, e.g. `arrival time`.
        role: &'static str,
        /// The header's column names.
        header: Vec<String>,
    },
    /// A row with a different number of fields than the header.
    #[error("{}: line {line}, column `{column}`: the row has {found} fields but the header has {expected}; give every row one field per header column (quote fields that contain commas)", file.display())]
    Ragged {
        /// The trace file.
        file: PathBuf,
        /// The row's line.
        line: usize,
        /// The first missing column, or a note for extra fields.
        column: String,
        /// Fields in the row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// A cell that is not a number (or not a date-time).
    #[error("{}: line {line}, column `{column}`: {cell:?} is not {expected}; fix the cell or the column mapping", file.display())]
    NotANumber {
        /// The trace file.
        file: PathBuf,
        /// The row's line.
        line: usize,
        /// The column.
        column: String,
        /// The cell as read (lossy UTF-8, shortened).
        cell: String,
        /// What was expected, e.g. `a whole number of tokens`.
        expected: &'static str,
    },
    /// A number out of range: negative, not finite, fractional tokens, too
    /// large, or an arrival made negative by the time offset.
    #[error("{}: line {line}, column `{column}`: {message}", file.display())]
    InvalidValue {
        /// The trace file.
        file: PathBuf,
        /// The row's line.
        line: usize,
        /// The column.
        column: String,
        /// What is wrong and what would be valid.
        message: String,
    },
    /// Time goes backwards and `require_sorted` is set.
    #[error("{}: line {line}, column `{column}`: time goes backwards ({time} s after the trace origin, but line {previous_line} has {previous} s); sort the file by `{column}` or replay without require_sorted", file.display())]
    Unsorted {
        /// The trace file.
        file: PathBuf,
        /// The row whose time is earlier than the previous row's.
        line: usize,
        /// The time column.
        column: String,
        /// This row's time, seconds.
        time: f64,
        /// The previous row's time, seconds.
        previous: f64,
        /// The previous row's line.
        previous_line: usize,
    },
    /// An invalid replay option or argument.
    #[error("{option}: {message}")]
    BadOption {
        /// The option.
        option: &'static str,
        /// What is wrong and what would be valid.
        message: String,
    },
}

impl TraceError {
    /// The trace file, when the error concerns one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            TraceError::Read { file, .. }
            | TraceError::Parquet { file, .. }
            | TraceError::Empty { file, .. }
            | TraceError::UnknownFormat { file, .. }
            | TraceError::MissingColumn { file, .. }
            | TraceError::Ragged { file, .. }
            | TraceError::NotANumber { file, .. }
            | TraceError::InvalidValue { file, .. }
            | TraceError::Unsorted { file, .. } => Some(file),
            TraceError::BadOption { .. } => None,
        }
    }

    /// The 1-based line (header = 1), when the error concerns one.
    pub fn line(&self) -> Option<usize> {
        match self {
            TraceError::Empty { line, .. }
            | TraceError::Ragged { line, .. }
            | TraceError::NotANumber { line, .. }
            | TraceError::InvalidValue { line, .. }
            | TraceError::Unsorted { line, .. } => Some(*line),
            TraceError::UnknownFormat { .. } | TraceError::MissingColumn { .. } => Some(1),
            _ => None,
        }
    }

    /// The column name, when the error concerns one.
    pub fn column(&self) -> Option<&str> {
        match self {
            TraceError::MissingColumn { column, .. }
            | TraceError::Ragged { column, .. }
            | TraceError::NotANumber { column, .. }
            | TraceError::InvalidValue { column, .. }
            | TraceError::Unsorted { column, .. } => Some(column),
            _ => None,
        }
    }
}

fn quoted_list(names: &[String]) -> String {
    if names.is_empty() {
        return "no columns".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

const UNCLOSED_QUOTE: &str =
    "a quoted field that starts here is never closed; add the closing `\"` (write `\"\"` for a quote inside a quoted field)";

// ------------------------------------------------------------------ trace

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

/// The wall clock of a trace: maps an arrival back to the trace's local
/// time of day, undoing the replay scaling and offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceClock {
    /// Seconds after local midnight at trace time 0 (before scaling).
    pub origin_time_of_day_s: f64,
    /// The replay's `time_scale`.
    pub time_scale: f64,
    /// The replay's `time_offset_s`.
    pub time_offset_s: f64,
}

impl TraceClock {
    /// Seconds since local midnight of the day trace time 0 falls on (not
    /// wrapped; 90,000 is 01:00 the next day).
    pub fn clock_s(&self, arrival_s: f64) -> f64 {
        self.origin_time_of_day_s + (arrival_s - self.time_offset_s) / self.time_scale
    }

    /// Local time of day, seconds in `[0, 86400)`.
    pub fn time_of_day_s(&self, arrival_s: f64) -> f64 {
        self.clock_s(arrival_s).rem_euclid(DAY_S)
    }

    /// Local clock hour, 0 to 23.
    pub fn hour_of_day(&self, arrival_s: f64) -> usize {
        ((self.time_of_day_s(arrival_s) / 3600.0) as usize).min(23)
    }
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

/// Exact descriptive statistics of a trace (see the module doc for the
/// percentile rule).
#[derive(Debug, Clone, PartialEq)]
pub struct TraceStats {
    /// Number of requests.
    pub requests: usize,
    /// Last arrival minus first arrival, seconds.
    pub duration_s: f64,
    /// `requests / duration_s` (`None` when the duration is 0).
    pub arrival_rate_per_s: Option<f64>,
    /// Coefficient of variation of the gaps between consecutive arrivals
    /// (`None` with fewer than 3 requests or a zero mean gap).
    pub interarrival_cv: Option<f64>,
    /// Mean prompt tokens.
    pub input_mean: f64,
    /// Median prompt tokens (nearest rank).
    pub input_p50: u32,
    /// 99th percentile of prompt tokens (nearest rank).
    pub input_p99: u32,
    /// Mean generated tokens.
    pub output_mean: f64,
    /// Median generated tokens (nearest rank).
    pub output_p50: u32,
    /// 99th percentile of generated tokens (nearest rank).
    pub output_p99: u32,
    /// Requests per minute: entry `k` counts arrivals in
    /// `[first + 60 k, first + 60 (k + 1))` seconds, where `first` is the
    /// first arrival. Empty if the trace spans more than
    /// [`MAX_MINUTES`] minutes.
    pub per_minute_counts: Vec<u64>,
    /// Distinct user ids (`None` when no request has one).
    pub users: Option<usize>,
    /// Distinct session ids (`None` when no request has one).
    pub sessions: Option<usize>,
}

/// Longest span, in minutes, for which [`TraceStats::per_minute_counts`] is
/// filled (2^24 minutes, about 32 years).
pub const MAX_MINUTES: u64 = 1 << 24;

/// Nearest-rank quantile of sorted values: the value of rank
/// `ceil(q * n)` (1-based, at least 1). `None` for no values.
pub fn nearest_rank<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    Some(sorted[rank - 1])
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

    /// Exact statistics of the requests.
    pub fn stats(&self) -> TraceStats {
        let n = self.requests.len();
        let mut input: Vec<u32> = self.requests.iter().map(|r| r.input_tokens).collect();
        let mut output: Vec<u32> = self.requests.iter().map(|r| r.output_tokens).collect();
        input.sort_unstable();
        output.sort_unstable();
        let mean = |v: &[u32]| {
            if v.is_empty() {
                0.0
            } else {
                v.iter().map(|&x| u64::from(x)).sum::<u64>() as f64 / v.len() as f64
            }
        };
        let first = self.requests.first().map_or(0.0, |r| r.arrival_s);
        let last = self.requests.last().map_or(0.0, |r| r.arrival_s);
        let duration_s = last - first;
        let minutes = (duration_s / 60.0).floor();
        let per_minute_counts = if n > 0 && minutes < MAX_MINUTES as f64 {
            let mut counts = vec![0u64; minutes as usize + 1];
            for r in &self.requests {
                let k = (((r.arrival_s - first) / 60.0).floor() as usize).min(counts.len() - 1);
                counts[k] += 1;
            }
            counts
        } else {
            Vec::new()
        };
        let interarrival_cv = if n >= 3 {
            let gaps: Vec<f64> = self
                .requests
                .windows(2)
                .map(|w| w[1].arrival_s - w[0].arrival_s)
                .collect();
            let m = gaps.iter().sum::<f64>() / gaps.len() as f64;
            let var = gaps.iter().map(|g| (g - m) * (g - m)).sum::<f64>() / (gaps.len() - 1) as f64;
            (m > 0.0).then(|| var.sqrt() / m)
        } else {
            None
        };
        let distinct = |f: fn(&TraceRequest) -> Option<u64>| {
            let mut ids: Vec<u64> = self.requests.iter().filter_map(f).collect();
            ids.sort_unstable();
            ids.dedup();
            (!ids.is_empty()).then_some(ids.len())
        };
        TraceStats {
            requests: n,
            duration_s,
            arrival_rate_per_s: (duration_s > 0.0).then(|| n as f64 / duration_s),
            interarrival_cv,
            input_mean: mean(&input),
            input_p50: nearest_rank(&input, 0.5).unwrap_or(0),
            input_p99: nearest_rank(&input, 0.99).unwrap_or(0),
            output_mean: mean(&output),
            output_p50: nearest_rank(&output, 0.5).unwrap_or(0),
            output_p99: nearest_rank(&output, 0.99).unwrap_or(0),
            per_minute_counts,
            users: distinct(|r| r.user),
            sessions: distinct(|r| r.session),
        }
    }
}

// ------------------------------------------------------------------ building

/// One cell as read, before interpretation.
enum Cell<'a> {
    /// CSV text or a Parquet string (raw bytes, maybe not UTF-8).
    Text(Cow<'a, [u8]>),
    /// A Parquet number (a Parquet id column is read as text).
    Number(f64),
    /// A Parquet null.
    Null,
}

/// A row's time before rebasing.
#[derive(Clone, Copy)]
enum RawTime {
    /// Seconds (or milliseconds already converted).
    Relative(f64),
    /// Whole seconds since 1970 and a fraction in [0, 1).
    Absolute(i64, f64),
}

struct Pending {
    line: usize,
    time: RawTime,
    input: u32,
    output: u32,
    user: Option<u64>,
    session: Option<u64>,
}

struct Builder<'p> {
    file: &'p Path,
    mapping: &'p ColumnMapping,
    options: &'p ReplayOptions,
    rows: Vec<Pending>,
    /// Previous row's time as seconds (relative to the first row for
    /// date-times) and line, for the sortedness check.
    previous: Option<(f64, usize)>,
    /// First row's whole seconds (date-times).
    base: Option<i64>,
}

impl<'p> Builder<'p> {
    fn new(file: &'p Path, mapping: &'p ColumnMapping, options: &'p ReplayOptions) -> Self {
        Builder {
            file,
            mapping,
            options,
            rows: Vec::new(),
            previous: None,
            base: None,
        }
    }

    fn not_a_number(
        &self,
        line: usize,
        column: &str,
        cell: &Cell,
        expected: &'static str,
    ) -> TraceError {
        TraceError::NotANumber {
            file: self.file.to_path_buf(),
            line,
            column: column.to_string(),
            cell: show_cell(cell),
            expected,
        }
    }

    fn invalid(&self, line: usize, column: &str, message: String) -> TraceError {
        TraceError::InvalidValue {
            file: self.file.to_path_buf(),
            line,
            column: column.to_string(),
            message,
        }
    }

    fn push(
        &mut self,
        line: usize,
        time: Cell,
        input: Cell,
        output: Cell,
        user: Option<Cell>,
        session: Option<Cell>,
    ) -> Result<(), TraceError> {
        let time = self.time(line, &time)?;
        let input = self.tokens(line, &self.mapping.input_tokens, &input)?;
        let output = self.tokens(line, &self.mapping.output_tokens, &output)?;
        let user = user.and_then(|c| parse_id(&c));
        let session = session.and_then(|c| parse_id(&c));
        let rel = match time {
            RawTime::Relative(t) => t,
            RawTime::Absolute(s, f) => {
                let base = *self.base.get_or_insert(s);
                (s - base) as f64 + f
            }
        };
        if let Some((prev, prev_line)) = self.previous {
            if self.options.require_sorted && rel < prev {
                let shift = match time {
                    RawTime::Absolute(..) => self.rows.first().map_or(0.0, |r| match r.time {
                        RawTime::Absolute(_, f) => f,
                        RawTime::Relative(_) => 0.0,
                    }),
                    RawTime::Relative(_) => 0.0,
                };
                return Err(TraceError::Unsorted {
                    file: self.file.to_path_buf(),
                    line,
                    column: self.mapping.time.clone(),
                    time: rel - shift,
                    previous: prev - shift,
                    previous_line: prev_line,
                });
            }
        }
        self.previous = Some((rel, line));
        self.rows.push(Pending {
            line,
            time,
            input,
            output,
            user,
            session,
        });
        Ok(())
    }

    fn time(&self, line: usize, cell: &Cell) -> Result<RawTime, TraceError> {
        let col = &self.mapping.time;
        let unit = self.mapping.time_unit;
        match (unit, cell) {
            (TimeUnit::DateTime, Cell::Text(t)) => {
                let text = std::str::from_utf8(t).ok().map(str::trim).unwrap_or("");
                parse_datetime(text)
                    .map(|(s, f)| RawTime::Absolute(s, f))
                    .ok_or_else(|| {
                        self.not_a_number(line, col, cell, "a date-time like 2023-11-16 18:15:46.6805900")
                    })
            }
            (TimeUnit::DateTime, _) => Err(self.not_a_number(
                line,
                col,
                cell,
                "a date-time like 2023-11-16 18:15:46.6805900 (use a seconds or milliseconds time unit for numbers)",
            )),
            (_, _) => {
                let v = cell_number(cell).ok_or_else(|| {
                    self.not_a_number(line, col, cell, "a number of seconds or milliseconds")
                })?;
                if !v.is_finite() || v < 0.0 {
                    return Err(self.invalid(
                        line,
                        col,
                        format!("time {v} must be a finite number of at least 0"),
                    ));
                }
                let s = if unit == TimeUnit::Milliseconds { v / 1000.0 } else { v };
                Ok(RawTime::Relative(s))
            }
        }
    }

    fn tokens(&self, line: usize, col: &str, cell: &Cell) -> Result<u32, TraceError> {
        let v = cell_number(cell)
            .ok_or_else(|| self.not_a_number(line, col, cell, "a whole number of tokens"))?;
        if !v.is_finite() || v < 0.0 {
            return Err(self.invalid(
                line,
                col,
                format!("{v} tokens: a token count must be a finite whole number of at least 0"),
            ));
        }
        if v.fract() != 0.0 || v > f64::from(u32::MAX) {
            return Err(self.invalid(
                line,
                col,
                format!(
                    "{v} tokens: a token count must be a whole number from 0 to {}",
                    u32::MAX
                ),
            ));
        }
        Ok(v as u32)
    }

    fn finish(self, format: &str, start_hour: Option<f64>) -> Result<Trace, TraceError> {
        let Some(first) = self.rows.first() else {
            return Err(TraceError::Empty {
                file: self.file.to_path_buf(),
                line: 2,
                columns: columns_phrase(self.mapping),
            });
        };
        let opts = self.options;
        // Trace time (seconds) of every row and the clock at trace time 0.
        let (times, clock_origin): (Vec<f64>, Option<f64>) = match first.time {
            RawTime::Relative(_) => (
                self.rows
                    .iter()
                    .map(|r| match r.time {
                        RawTime::Relative(t) => t,
                        RawTime::Absolute(..) => 0.0,
                    })
                    .collect(),
                start_hour.map(|h| h * 3600.0),
            ),
            RawTime::Absolute(..) => {
                let key = |r: &Pending| match r.time {
                    RawTime::Absolute(s, f) => (s, f),
                    RawTime::Relative(_) => (0, 0.0),
                };
                let (s0, f0) = self
                    .rows
                    .iter()
                    .map(key)
                    .min_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
                    .unwrap_or((0, 0.0));
                let times = self
                    .rows
                    .iter()
                    .map(|r| {
                        let (s, f) = key(r);
                        (s - s0) as f64 + (f - f0)
                    })
                    .collect();
                (
                    times,
                    Some((s0.rem_euclid(86_400) as f64 + f0).rem_euclid(DAY_S)),
                )
            }
        };
        let mut requests = Vec::with_capacity(self.rows.len());
        for (r, t) in self.rows.iter().zip(times) {
            let arrival_s = t * opts.time_scale + opts.time_offset_s;
            if !(arrival_s.is_finite() && arrival_s >= 0.0) {
                return Err(TraceError::InvalidValue {
                    file: self.file.to_path_buf(),
                    line: r.line,
                    column: self.mapping.time.clone(),
                    message: format!(
                        "time {t} s becomes arrival {arrival_s} s with time_scale {} and time_offset_s {}; arrivals must be finite and at least 0: raise time_offset_s",
                        opts.time_scale, opts.time_offset_s
                    ),
                });
            }
            requests.push(TraceRequest {
                arrival_s,
                input_tokens: r.input,
                output_tokens: r.output,
                user: r.user,
                session: r.session,
            });
        }
        requests.sort_by(|a, b| a.arrival_s.total_cmp(&b.arrival_s));
        Ok(Trace {
            requests,
            source: self.file.to_path_buf(),
            format: format.to_string(),
            clock: clock_origin.map(|o| TraceClock {
                origin_time_of_day_s: o,
                time_scale: opts.time_scale,
                time_offset_s: opts.time_offset_s,
            }),
        })
    }
}

fn columns_phrase(m: &ColumnMapping) -> String {
    let names: Vec<String> = m
        .required()
        .iter()
        .chain(m.optional().iter())
        .map(|(_, c)| c.to_string())
        .collect();
    format!("columns {}", quoted_list(&names))
}

fn show_cell(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => {
            let s = String::from_utf8_lossy(t);
            let s = s.trim();
            if s.chars().count() > 40 {
                format!("{}...", s.chars().take(40).collect::<String>())
            } else {
                s.to_string()
            }
        }
        Cell::Number(v) => v.to_string(),
        Cell::Null => "(null)".into(),
    }
}

fn cell_number(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Number(v) => Some(*v),
        Cell::Text(t) => {
            let s = std::str::from_utf8(t).ok()?.trim();
            if s.is_empty() {
                return None;
            }
            s.parse::<f64>().ok()
        }
        _ => None,
    }
}

/// Decimal digits that fit a `u64` are that number; other non-empty text is
/// its FNV-1a hash; empty text and nulls are no id.
fn parse_id(cell: &Cell) -> Option<u64> {
    match cell {
        Cell::Null => None,
        Cell::Number(v) => {
            if v.is_finite() && v.fract() == 0.0 && *v >= 0.0 && *v < 1.8e19 {
                Some(*v as u64)
            } else {
                Some(fnv1a(v.to_string().as_bytes()))
            }
        }
        Cell::Text(t) => {
            let t = trim_bytes(t);
            if t.is_empty() {
                None
            } else if t.iter().all(u8::is_ascii_digit) {
                std::str::from_utf8(t)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                    .or_else(|| Some(fnv1a(t)))
            } else {
                Some(fnv1a(t))
            }
        }
    }
}

/// 64-bit FNV-1a: stable across platforms and Rust versions.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn trim_bytes(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// `YYYY-MM-DD HH:MM:SS[.fraction]` (or `T` between date and time, optional
/// trailing `Z`) to whole seconds since 1970-01-01 and the fraction.
fn parse_datetime(s: &str) -> Option<(i64, f64)> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    let b = s.as_bytes();
    if b.len() < 19 || !s.is_char_boundary(19) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = &b[r];
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b' ' || b[10] == b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59
    {
        return None;
    }
    let frac = match &s[19..] {
        "" => 0.0,
        rest => {
            let digits = rest.strip_prefix('.')?;
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            format!("0.{digits}").parse::<f64>().ok()?
        }
    };
    let days = days_from_civil(y, mo, d);
    Some((
        days * 86_400 + h * 3600 + mi * 60 + sec,
        frac.min(1.0 - f64::EPSILON),
    ))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ------------------------------------------------------------------ CSV

fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case("parquet"))
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, TraceError> {
    std::fs::read(path).map_err(|source| TraceError::Read {
        file: path.to_path_buf(),
        source,
    })
}

fn clean_name(s: &str) -> &str {
    s.trim_start_matches('\u{feff}').trim()
}

fn header_names(fields: &[Cow<[u8]>]) -> Vec<String> {
    fields
        .iter()
        .map(|f| clean_name(&String::from_utf8_lossy(f)).to_string())
        .collect()
}

/// A small RFC 4180 reader over bytes: `,` separates fields, `"` quotes a
/// field (a doubled `""` is a quote inside it; commas and line breaks inside
/// are kept), lines end with `\n`, `\r\n` or `\r`. Lines holding only spaces
/// are skipped.
struct Csv<'a> {
    data: &'a [u8],
    pos: usize,
    line: usize,
}

type Record<'a> = (usize, Vec<Cow<'a, [u8]>>);

impl<'a> Csv<'a> {
    fn new(data: &'a [u8]) -> Self {
        Csv {
            data,
            pos: 0,
            line: 1,
        }
    }

    /// The next non-blank record and the line it starts on, or the line
    /// and field index of a quote that is never closed.
    fn next_record(&mut self) -> Option<Result<Record<'a>, (usize, usize)>> {
        loop {
            if self.pos >= self.data.len() {
                return None;
            }
            let start_line = self.line;
            let mut fields: Vec<Cow<'a, [u8]>> = Vec::new();
            let mut blank = true;
            loop {
                let field_line = self.line;
                let Some((field, quoted)) = self.field() else {
                    return Some(Err((field_line, fields.len())));
                };
                if quoted || !field.iter().all(u8::is_ascii_whitespace) {
                    blank = false;
                }
                fields.push(field);
                match self.data.get(self.pos) {
                    Some(b',') => {
                        self.pos += 1;
                        blank = false;
                    }
                    Some(b'\r') => {
                        self.pos += 1;
                        if self.data.get(self.pos) == Some(&b'\n') {
                            self.pos += 1;
                        }
                        self.line += 1;
                        break;
                    }
                    Some(b'\n') => {
                        self.pos += 1;
                        self.line += 1;
                        break;
                    }
                    _ => break,
                }
            }
            if !blank {
                return Some(Ok((start_line, fields)));
            }
        }
    }

    /// One field; stops before `,`, a line end or the end of the data.
    /// `None` for an unclosed quote.
    fn field(&mut self) -> Option<(Cow<'a, [u8]>, bool)> {
        let d = self.data;
        let start = self.pos;
        let mut p = start;
        while p < d.len() && (d[p] == b' ' || d[p] == b'\t') {
            p += 1;
        }
        let is_end = |c: u8| c == b',' || c == b'\n' || c == b'\r';
        if d.get(p) == Some(&b'"') {
            p += 1;
            let mut out = Vec::new();
            loop {
                match d.get(p) {
                    None => return None,
                    Some(b'"') => {
                        if d.get(p + 1) == Some(&b'"') {
                            out.push(b'"');
                            p += 2;
                        } else {
                            p += 1;
                            break;
                        }
                    }
                    Some(&c) => {
                        if c == b'\n' || (c == b'\r' && d.get(p + 1) != Some(&b'\n')) {
                            self.line += 1;
                        }
                        out.push(c);
                        p += 1;
                    }
                }
            }
            // Text between the closing quote and the next separator is kept.
            while let Some(&c) = d.get(p) {
                if is_end(c) {
                    break;
                }
                out.push(c);
                p += 1;
            }
            self.pos = p;
            Some((Cow::Owned(out), true))
        } else {
            while let Some(&c) = d.get(p) {
                if is_end(c) {
                    break;
                }
                p += 1;
            }
            self.pos = p;
            Some((Cow::Borrowed(&d[start..p]), false))
        }
    }
}

/// Find each mapped column in the header: (index of time, input, output,
/// user, session).
type Indices = (usize, usize, usize, Option<usize>, Option<usize>);

fn column_indices(
    path: &Path,
    m: &ColumnMapping,
    header: &[String],
) -> Result<Indices, TraceError> {
    let find = |role: &'static str, name: &str| {
        header
            .iter()
            .position(|h| h == clean_name(name))
            .ok_or_else(|| TraceError::MissingColumn {
                file: path.to_path_buf(),
                column: name.to_string(),
                role,
                header: header.to_vec(),
            })
    };
    Ok((
        find("arrival time", &m.time)?,
        find("input tokens", &m.input_tokens)?,
        find("output tokens", &m.output_tokens)?,
        m.user.as_deref().map(|u| find("user id", u)).transpose()?,
        m.session
            .as_deref()
            .map(|s| find("session id", s))
            .transpose()?,
    ))
}

fn load_csv(path: &Path, m: &ColumnMapping, b: &mut Builder) -> Result<(), TraceError> {
    let data = read_bytes(path)?;
    let mut csv = Csv::new(&data);
    let unclosed = |line: usize, column: String| TraceError::InvalidValue {
        file: path.to_path_buf(),
        line,
        column,
        message: UNCLOSED_QUOTE.into(),
    };
    let header = match csv.next_record() {
        None => {
            return Err(TraceError::Empty {
                file: path.to_path_buf(),
                line: 1,
                columns: columns_phrase(m),
            })
        }
        Some(Err((line, _))) => return Err(unclosed(line, "(header)".into())),
        Some(Ok((_, fields))) => header_names(&fields),
    };
    let (ti, ii, oi, ui, si) = column_indices(path, m, &header)?;
    while let Some(rec) = csv.next_record() {
        let (line, fields) = match rec {
            Ok(r) => r,
            Err((line, idx)) => {
                let column = header
                    .get(idx)
                    .cloned()
                    .unwrap_or_else(|| format!("field {}", idx + 1));
                return Err(unclosed(line, column));
            }
        };
        if fields.len() != header.len() {
            let column = match header.get(fields.len()) {
                Some(c) => c.clone(),
                None => format!(
                    "field {} (after the last header column `{}`)",
                    header.len() + 1,
                    header.last().map_or("", String::as_str)
                ),
            };
            return Err(TraceError::Ragged {
                file: path.to_path_buf(),
                line,
                column,
                found: fields.len(),
                expected: header.len(),
            });
        }
        let mut fields: Vec<Option<Cow<[u8]>>> = fields.into_iter().map(Some).collect();
        let mut take = |i: usize| Cell::Text(fields[i].take().unwrap_or(Cow::Borrowed(&[])));
        let time = take(ti);
        let input = take(ii);
        let output = take(oi);
        let user = ui.map(&mut take);
        let session = si.map(&mut take);
        b.push(line, time, input, output, user, session)?;
    }
    Ok(())
}

// ------------------------------------------------------------------ Parquet

/// Run a polars call, turning a panic inside polars into an error (some
/// unsupported or corrupt files make it panic rather than fail).
fn guarded<T>(
    path: &Path,
    f: impl FnOnce() -> polars::prelude::PolarsResult<T>,
) -> Result<T, TraceError> {
    let err = |message: String| TraceError::Parquet {
        file: path.to_path_buf(),
        message,
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(err(e.to_string())),
        Err(p) => Err(err(format!(
            "polars failed on this file ({}); check that it is a valid Parquet file",
            p.downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default()
        ))),
    }
}

/// The Parquet schema: column names and Arrow types, without reading data.
fn parquet_schema(
    path: &Path,
) -> Result<Vec<(String, polars::prelude::ArrowDataType)>, TraceError> {
    use polars::prelude::{ParquetReader, SerReader};
    let file = File::open(path).map_err(|source| TraceError::Read {
        file: path.to_path_buf(),
        source,
    })?;
    guarded(path, || {
        let schema = ParquetReader::new(file).schema()?;
        Ok(schema
            .iter_values()
            .map(|f| (f.name.to_string(), f.dtype.clone()))
            .collect())
    })
}

fn parquet_header(path: &Path) -> Result<Vec<String>, TraceError> {
    Ok(parquet_schema(path)?.into_iter().map(|(n, _)| n).collect())
}

/// Arrow types this build reads: integers, floats and text. (Polars is
/// built without its date-time types, so a Parquet timestamp column must be
/// stored as text or seconds.)
fn readable_arrow_type(dt: &polars::prelude::ArrowDataType) -> bool {
    use polars::prelude::ArrowDataType as A;
    match dt {
        A::Int8
        | A::Int16
        | A::Int32
        | A::Int64
        | A::UInt8
        | A::UInt16
        | A::UInt32
        | A::UInt64
        | A::Float32
        | A::Float64
        | A::Utf8
        | A::LargeUtf8
        | A::Utf8View => true,
        A::Dictionary(_, values, _) => matches!(**values, A::Utf8 | A::LargeUtf8 | A::Utf8View),
        _ => false,
    }
}

fn load_parquet(path: &Path, m: &ColumnMapping, b: &mut Builder) -> Result<(), TraceError> {
    use polars::prelude::{DataType, ParquetReader, SerReader};
    let schema = parquet_schema(path)?;
    let header: Vec<String> = schema.iter().map(|(n, _)| n.clone()).collect();
    let (ti, ii, oi, ui, si) = column_indices(path, m, &header)?;
    let needed: Vec<usize> = [Some(ti), Some(ii), Some(oi), ui, si]
        .into_iter()
        .flatten()
        .collect();
    for &i in &needed {
        let (name, dt) = &schema[i];
        if !readable_arrow_type(dt) {
            let hint = if m.time == *name {
                "store the time as text (YYYY-MM-DD HH:MM:SS.fffffff) or as a number of seconds or milliseconds"
            } else {
                "store it as integers or text"
            };
            return Err(TraceError::InvalidValue {
                file: path.to_path_buf(),
                line: 1,
                column: name.clone(),
                message: format!(
                    "the Parquet column has type {dt:?}, which cannot be read: {hint}"
                ),
            });
        }
    }
    let file = File::open(path).map_err(|source| TraceError::Read {
        file: path.to_path_buf(),
        source,
    })?;
    let mut projection = needed.clone();
    projection.sort_unstable();
    projection.dedup();
    let df = guarded(path, || {
        ParquetReader::new(file)
            .with_projection(Some(projection))
            .finish()
    })?;
    // Every needed column as owned cells: numbers stay numbers (ids become
    // their decimal text), everything else is read as text.
    let cells = |idx: usize, ids: bool| -> Result<Vec<Cell<'static>>, TraceError> {
        let name = &header[idx];
        guarded(path, || {
            let col = df.column(name)?;
            if col.dtype().is_primitive_numeric() && !ids {
                let c = col.cast(&DataType::Float64)?;
                Ok(c.f64()?
                    .iter()
                    .map(|x| x.map_or(Cell::Null, Cell::Number))
                    .collect())
            } else {
                let c = col.cast(&DataType::String)?;
                Ok(c.str()?
                    .iter()
                    .map(|v| {
                        v.map_or(Cell::Null, |v| {
                            Cell::Text(Cow::Owned(v.as_bytes().to_vec()))
                        })
                    })
                    .collect())
            }
        })
    };
    let mut time = cells(ti, false)?;
    let mut input = cells(ii, false)?;
    let mut output = cells(oi, false)?;
    let mut user = ui.map(|i| cells(i, true)).transpose()?;
    let mut session = si.map(|i| cells(i, true)).transpose()?;
    let take = |v: &mut Vec<Cell<'static>>, i: usize| {
        v.get_mut(i)
            .map_or(Cell::Null, |c| std::mem::replace(c, Cell::Null))
    };
    for i in 0..df.height() {
        b.push(
            i + 2,
            take(&mut time, i),
            take(&mut input, i),
            take(&mut output, i),
            user.as_mut().map(|u| take(u, i)),
            session.as_mut().map(|s| take(s, i)),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Owned = Result<(usize, Vec<String>), (usize, usize)>;

    fn records(s: &str) -> Vec<Owned> {
        let mut c = Csv::new(s.as_bytes());
        let mut out = Vec::new();
        while let Some(r) = c.next_record() {
            let stop = r.is_err();
            out.push(r.map(|(l, f)| {
                (
                    l,
                    f.iter()
                        .map(|x| String::from_utf8_lossy(x).into_owned())
                        .collect(),
                )
            }));
            if stop {
                break;
            }
        }
        out
    }

    #[test]
    fn csv_quotes_line_ends_and_blank_lines() {
        let r = records("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\n\n  \n\"two\nlines\",3\n4,5");
        assert_eq!(
            r,
            vec![
                Ok((1, vec!["a".into(), "b".into()])),
                Ok((2, vec!["x,1".into(), "say \"hi\"".into()])),
                Ok((5, vec!["two\nlines".into(), "3".into()])),
                Ok((7, vec!["4".into(), "5".into()])),
            ]
        );
        assert_eq!(
            records("a,b\n1,\"open\n"),
            vec![Ok((1, vec!["a".into(), "b".into()])), Err((2, 1))]
        );
    }

    #[test]
    fn datetimes() {
        assert_eq!(parse_datetime("1970-01-01 00:00:00"), Some((0, 0.0)));
        let (s, f) = parse_datetime("2023-11-16 18:15:46.6805900").unwrap();
        assert_eq!(s, 1_700_158_546);
        assert!((f - 0.68059).abs() < 1e-12);
        assert_eq!(
            parse_datetime("2024-02-29T23:59:59Z"),
            Some((1_709_251_199, 0.0))
        );
        for bad in [
            "2023-02-29 00:00:00",
            "2023-11-16 24:00:00",
            "2023-11-16 18:15",
            "2023-11-16 18:15:46.",
            "2023-11-16 18:15:46+01:00",
            "2023-11-16 18:15:4é",
            "",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_and_ranks() {
        assert_eq!(parse_id(&Cell::Text(Cow::Borrowed(b" 42 "))), Some(42));
        assert_eq!(parse_id(&Cell::Text(Cow::Borrowed(b""))), None);
        assert_eq!(
            parse_id(&Cell::Text(Cow::Borrowed(b"abc"))),
            Some(fnv1a(b"abc"))
        );
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        let v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(nearest_rank(&v, 0.5), Some(5));
        assert_eq!(nearest_rank(&v, 0.99), Some(10));
        assert_eq!(nearest_rank(&v, 0.0), Some(1));
        assert_eq!(nearest_rank::<u32>(&[], 0.5), None);
    }

    #[test]
    fn assignment_keeps_sessions_together_and_round_robins() {
        let r = |t: f64, s: Option<u64>| TraceRequest {
            arrival_s: t,
            input_tokens: 1,
            output_tokens: 1,
            user: None,
            session: s,
        };
        let mut t = Trace::from_requests(
            vec![
                r(0.0, Some(7)),
                r(1.0, None),
                r(2.0, Some(7)),
                r(3.0, Some(9)),
                r(4.0, None),
            ],
            "x",
            None,
        );
        t.assign_users(2).unwrap();
        let users: Vec<u64> = t.requests.iter().map(|r| r.user.unwrap()).collect();
        assert_eq!(users, vec![0, 1, 0, 0, 1]);
        assert!(t.assign_users(0).is_err());
    }
}
