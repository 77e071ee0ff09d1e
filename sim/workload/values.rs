//! Observed values for empirical distributions: non-negative numbers read
//! from a file, one per line or one column of a CSV by header name (a
//! deliberately small reader: traces have their own, in [`super::trace`]).

use std::path::{Path, PathBuf};

/// A values file that cannot be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A column was asked for, but the file has no header line.
    #[error("{}: empty file, expected a header with column {column:?}", path.display())]
    NoHeader {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
    },
    /// The header does not name the column.
    #[error("{}: line 1: no column {column:?} in header {header:?}", path.display())]
    NoColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The header line.
        header: String,
    },
    /// A line has fewer cells than the column's position.
    #[error("{}: line {line}: missing column {column}", path.display())]
    MissingCell {
        /// The file.
        path: PathBuf,
        /// Line number (1-based, blank and comment lines counted).
        line: usize,
        /// Column number (1-based).
        column: usize,
    },
    /// A cell is not a number.
    #[error("{}: line {line}, column {column}: {cell:?} is not a number", path.display())]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// Line number (1-based).
        line: usize,
        /// Column number (1-based).
        column: usize,
        /// The cell, trimmed.
        cell: String,
    },
    /// A value is negative or not finite.
    #[error("{}: line {line}: {value} must be a finite number of at least 0", path.display())]
    Negative {
        /// The file.
        path: PathBuf,
        /// Line number (1-based).
        line: usize,
        /// The value.
        value: f64,
    },
    /// No value, or only zeros.
    #[error("{}: no positive values", path.display())]
    NoPositive {
        /// The file.
        path: PathBuf,
    },
}

/// Read non-negative numbers: one per line, or one CSV column by header name.
/// Blank lines and lines starting with `#` are skipped.
pub fn read_values(path: &Path, column: Option<&str>) -> Result<Vec<f64>, ValuesError> {
    let file = || path.to_path_buf();
    let text = std::fs::read_to_string(path).map_err(|source| ValuesError::Read {
        path: file(),
        source,
    })?;
    // UTF-16 or binary content that happens to be valid UTF-8: refused
    // before a line of it is quoted in an error.
    if text.contains('\0') {
        return Err(ValuesError::Read {
            path: file(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "it holds NUL bytes (binary or UTF-16): give a UTF-8 text file of numbers",
            ),
        });
    }
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let col_idx = match column {
        None => None,
        Some(name) => {
            let (_, header) = lines.next().ok_or_else(|| ValuesError::NoHeader {
                path: file(),
                column: name.to_string(),
            })?;
            let idx = header
                .split(',')
                .position(|h| h.trim() == name)
                .ok_or_else(|| ValuesError::NoColumn {
                    path: file(),
                    column: name.to_string(),
                    header: header.to_string(),
                })?;
            Some(idx)
        }
    };
    let mut values = Vec::new();
    for (i, line) in lines {
        let cell =
            match col_idx {
                None => line.trim(),
                Some(idx) => line.split(',').nth(idx).map(str::trim).ok_or_else(|| {
                    ValuesError::MissingCell {
                        path: file(),
                        line: i + 1,
                        column: idx + 1,
                    }
                })?,
            };
        let v: f64 = cell.parse().map_err(|_| ValuesError::NotANumber {
            path: file(),
            line: i + 1,
            column: col_idx.map_or(1, |c| c + 1),
            cell: cell.to_string(),
        })?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(ValuesError::Negative {
                path: file(),
                line: i + 1,
                value: v,
            });
        }
        values.push(v);
    }
    if values.is_empty() || values.iter().all(|v| *v == 0.0) {
        return Err(ValuesError::NoPositive { path: file() });
    }
    Ok(values)
}
