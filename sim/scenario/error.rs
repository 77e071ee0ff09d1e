//! What can be wrong with a scenario: every variant names the file, the key
//! path inside it and what would be valid.

use std::path::PathBuf;

/// A scenario (or a file it points to) that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{file}: cannot read the scenario file: {source}")]
    Read {
        /// The scenario file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML does not parse or does not match the scenario structure
    /// (wrong type, unknown key, missing key).
    #[error("{file}: {key}: {message}")]
    Parse {
        /// The scenario file.
        file: PathBuf,
        /// Key path, e.g. `placements[1].servers` (`.` for the top level).
        key: String,
        /// What is wrong and where (line and column when known).
        message: String,
    },
    /// A value parses but is not valid.
    #[error("{file}: {key}: {message}")]
    Invalid {
        /// The scenario file.
        file: PathBuf,
        /// Key path, e.g. `placements[1].servers`.
        key: String,
        /// What is wrong and what would be valid.
        message: String,
    },
    /// A value is not valid because of an underlying error (a file it
    /// names cannot be read or used, a catalogue name that is not there):
    /// the message quotes it, and it is kept as the source.
    #[error("{file}: {key}: {message}")]
    InvalidBecause {
        /// The scenario file.
        file: PathBuf,
        /// Key path, e.g. `trace.file`.
        key: String,
        /// What is wrong and what would be valid.
        message: String,
        /// The underlying error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
