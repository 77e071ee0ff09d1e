//! Why a trace cannot be used ([`TraceError`]): every variant names the
//! file; cell-level errors also name the line (header = line 1) and the
//! column, and say what to fix.

use std::path::{Path, PathBuf};

use crate::core::printable;

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
    /// Not a CSV text file (binary content where CSV is expected: NUL
    /// bytes, a header that is not UTF-8, a Parquet or image file). The
    /// content is described, never quoted.
    #[error("{}: not a CSV trace: {what}; a trace is CSV text (UTF-8, a header line, then one request per line) or a Parquet file named `.parquet`", file.display())]
    NotText {
        /// The trace file.
        file: PathBuf,
        /// What the content looks like instead.
        what: String,
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
    #[error("{}: line 1: the header ({}) matches no preset format: azure needs TIMESTAMP, ContextTokens, GeneratedTokens; ragpulse needs timestamp_s, input_length, output_length, session_id; mooncake (JSONL) needs timestamp, input_length, output_length, hash_ids; rename the columns to a preset's, give your own mapping (`columns` in [trace], `--column` on fit-trace), or convert the file to one of these layouts (docs/traces.md)", file.display(), quoted_list(header))]
    UnknownFormat {
        /// The trace file.
        file: PathBuf,
        /// The header's column names.
        header: Vec<String>,
    },
    /// A mapped column is not in the header.
    #[error("{}: line 1, column `{column}`: no such column for the {role}; the header has {}; choose the format whose columns the file has (`--format`, or `format` in [trace]; `auto` detects it), or rename the column", file.display(), quoted_list(header))]
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
    #[error("{}: line {line}, column `{column}`: {cell:?} is not {expected}; fix the cell (or choose the format whose `{column}` column holds this: `--format`, or `format` in [trace])", file.display())]
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
            | TraceError::NotText { file, .. }
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

pub(crate) fn quoted_list(names: &[String]) -> String {
    if names.is_empty() {
        return "no columns".into();
    }
    names
        .iter()
        .map(|n| format!("`{}`", printable(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) const UNCLOSED_QUOTE: &str =
    "a quoted field that starts here is never closed; add the closing `\"` (write `\"\"` for a quote inside a quoted field)";
