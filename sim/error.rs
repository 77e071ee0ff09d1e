//! Errors the library reports. Every user-facing error names what to fix:
//! the file, the key path inside it and what would be valid.

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
}

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

/// Deserialize TOML text into `T`. On failure, returns the key path of the
/// problem (e.g. `placements[1].servers`; `.` for the whole file) and a
/// message ending with the line number and that line's text, so that every
/// file format reports mistakes the same way.
pub fn deserialize_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, (String, String)> {
    let describe = |e: toml::de::Error| {
        let mut message = e.message().to_string();
        if let Some(span) = e.span() {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let text_of_line = text.lines().nth(line - 1).unwrap_or("").trim();
            message = format!("{message} (line {line}: {text_of_line:?})");
        }
        message
    };
    let de = toml::Deserializer::parse(text).map_err(|e| (".".to_string(), describe(e)))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        (key, describe(e.into_inner()))
    })
}
