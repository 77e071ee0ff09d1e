//! Errors writing results: the path and what was being done.

use std::path::PathBuf;

/// Errors writing results.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file or folder could not be created or written.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What was being done, e.g. "cannot create the output folder".
        action: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Polars failed to build or write a table.
    #[error("{path}: cannot write Parquet: {message}")]
    Parquet {
        /// The path.
        path: PathBuf,
        /// Polars' message.
        message: String,
    },
}
