//! Turning cells into requests: a cell as read ([`Cell`]), the per-row
//! checks of time and token counts, id parsing (decimal or FNV-1a hash),
//! block-hash lists ([`parse_block_list`]), the sortedness check, and
//! rebasing times into a sorted [`Trace`] with its clock and block lists
//! ([`Builder::finish`]). The CSV, Parquet and JSONL readers feed it.

use std::borrow::Cow;
use std::path::Path;

use super::datetime::parse_datetime;
use super::error::{quoted_list, TraceError};
use super::{ColumnMapping, ReplayOptions, TimeUnit, Trace, TraceBlocks, TraceClock, TraceRequest};
use crate::core::rng::fnv1a;
use crate::workload::arrivals::DAY_S;

/// One cell as read, before interpretation.
pub(crate) enum Cell<'a> {
    /// CSV text or a Parquet string (raw bytes, maybe not UTF-8).
    Text(Cow<'a, [u8]>),
    /// A Parquet number (a Parquet id column is read as text).
    Number(f64),
    /// A Parquet null.
    Null,
}

/// A row's time before rebasing.
#[derive(Clone, Copy)]
pub(crate) enum RawTime {
    /// Seconds (or milliseconds already converted).
    Relative(f64),
    /// Whole seconds since 1970 and a fraction in [0, 1).
    Absolute(i64, f64),
}

pub(crate) struct Pending {
    line: usize,
    time: RawTime,
    input: u32,
    output: u32,
    user: Option<u64>,
    session: Option<u64>,
    blocks: Vec<u64>,
}

/// The mapped cells of one row, as a reader found them; `blocks` is the
/// row's block-hash list already parsed (when the mapping has one).
pub(crate) struct RowCells<'a> {
    pub(crate) time: Cell<'a>,
    pub(crate) input: Cell<'a>,
    pub(crate) output: Cell<'a>,
    pub(crate) user: Option<Cell<'a>>,
    pub(crate) session: Option<Cell<'a>>,
    pub(crate) blocks: Option<Vec<u64>>,
}

pub(crate) struct Builder<'p> {
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
    pub(crate) fn new(
        file: &'p Path,
        mapping: &'p ColumnMapping,
        options: &'p ReplayOptions,
    ) -> Self {
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

    pub(crate) fn push(&mut self, line: usize, row: RowCells) -> Result<(), TraceError> {
        let time = self.time(line, &row.time)?;
        let input = self.tokens(line, &self.mapping.input_tokens, &row.input)?;
        let output = self.tokens(line, &self.mapping.output_tokens, &row.output)?;
        let user = row.user.and_then(|c| parse_id(&c));
        let session = row.session.and_then(|c| parse_id(&c));
        let blocks = row.blocks.unwrap_or_default();
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
            blocks,
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

    pub(crate) fn finish(self, format: &str, start_hour: Option<f64>) -> Result<Trace, TraceError> {
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
        let mut requests: Vec<(TraceRequest, usize)> = Vec::with_capacity(self.rows.len());
        for (i, (r, t)) in self.rows.iter().zip(times).enumerate() {
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
            requests.push((
                TraceRequest {
                    arrival_s,
                    input_tokens: r.input,
                    output_tokens: r.output,
                    user: r.user,
                    session: r.session,
                },
                i,
            ));
        }
        requests.sort_by(|a, b| a.0.arrival_s.total_cmp(&b.0.arrival_s));
        let blocks = self.mapping.block_hashes.as_ref().map(|_| {
            TraceBlocks::from_lists(
                self.mapping.block_tokens,
                requests
                    .iter()
                    .map(|(_, i)| self.rows[*i].blocks.as_slice()),
            )
        });
        Ok(Trace {
            requests: requests.into_iter().map(|(r, _)| r).collect(),
            blocks,
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

pub(crate) fn columns_phrase(m: &ColumnMapping) -> String {
    let names: Vec<String> = m
        .required()
        .iter()
        .chain(m.optional().iter())
        .map(|(_, c)| c.to_string())
        .collect();
    format!("columns {}", quoted_list(&names))
}

pub(crate) fn show_cell(cell: &Cell) -> String {
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

pub(crate) fn cell_number(cell: &Cell) -> Option<f64> {
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
pub(crate) fn parse_id(cell: &Cell) -> Option<u64> {
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

pub(crate) fn trim_bytes(b: &[u8]) -> &[u8] {
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

/// A block-hash list written as text: ids separated by commas, semicolons
/// or spaces, optionally in square brackets (`[3, 4, 9]`, `3 4 9`); each id
/// as [`parse_id`] reads it (decimal digits are their value, other text its
/// hash). Empty text (or `[]`) is an empty list. The error says what is
/// wrong.
pub(crate) fn parse_block_list(text: &[u8]) -> Result<Vec<u64>, String> {
    let t = trim_bytes(text);
    let inner = match (t.first(), t.last()) {
        (Some(b'['), Some(b']')) => &t[1..t.len() - 1],
        (Some(b'['), _) | (_, Some(b']')) => {
            return Err("a block-hash list opens `[` without closing `]` (or the reverse): write it as [3, 4, 9]".into())
        }
        _ => t,
    };
    inner
        .split(|c| *c == b',' || *c == b';' || c.is_ascii_whitespace())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let p = trim_bytes(p);
            let p = p
                .strip_prefix(b"\"")
                .and_then(|q| q.strip_suffix(b"\""))
                .unwrap_or(p);
            parse_id(&Cell::Text(Cow::Borrowed(p)))
                .ok_or_else(|| "an empty id inside the block-hash list".to_string())
        })
        .collect()
}
