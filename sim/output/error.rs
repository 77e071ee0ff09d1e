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
    /// The folder holds the results of another scenario.
    #[error("{dir}: this folder holds the results of another scenario (fingerprint {theirs}, from {their_file}); this one's fingerprint is {ours} (from {our_file}): write it elsewhere with another --out, or give it another `name`")]
    OtherScenario {
        /// The folder.
        dir: PathBuf,
        /// The fingerprint the folder records.
        theirs: String,
        /// The scenario file it records.
        their_file: String,
        /// This scenario's fingerprint.
        ours: String,
        /// This scenario's file.
        our_file: String,
    },
    /// Another process holds the folder's lock.
    #[error("{dir}: another sharesim (process {holder}) is writing to this folder: wait for it to finish, or write elsewhere with another --out")]
    Busy {
        /// The folder.
        dir: PathBuf,
        /// The process id in the lock file.
        holder: String,
    },
}
