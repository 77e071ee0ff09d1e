//! Trace layouts: how the time column is written ([`TimeUnit`]), which
//! columns hold what ([`ColumnMapping`], also built from `key = value`
//! pairs: [`ColumnMapping::from_pairs`]), the presets ([`TraceFormat`]:
//! Azure 2023, RAGPulse, Mooncake, custom), detecting a preset from a
//! header, and finding the mapped columns in a header.

use std::path::Path;

use super::csv::{header_names, read_bytes, Csv};
use super::error::{TraceError, UNCLOSED_QUOTE};
use super::jsonl::{is_jsonl, jsonl_header};
use super::parquet::{is_parquet, parquet_header};

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
    /// Optional column of the prompt's block hashes: a JSON array, or in
    /// CSV and Parquet text such as `[3, 4, 9]` (commas, semicolons or
    /// spaces between ids). Block `j` covers prompt tokens
    /// `[j * block_tokens, (j + 1) * block_tokens)`; its hash stands for the
    /// whole prefix up to its end.
    pub block_hashes: Option<String>,
    /// Tokens per hashed block (Mooncake: 512).
    pub block_tokens: u32,
}

/// Block size of the Mooncake traces, tokens.
pub const MOONCAKE_BLOCK_TOKENS: u32 = 512;

/// Keys of [`ColumnMapping::from_pairs`] (and of `[trace] columns`).
pub const MAPPING_KEYS: [&str; 8] = [
    "time",
    "time_unit",
    "input",
    "output",
    "user",
    "session",
    "block_hashes",
    "block_tokens",
];

/// A trace layout: a preset or a custom column mapping.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceFormat {
    /// Azure LLM inference trace 2023: `TIMESTAMP` (date-time),
    /// `ContextTokens`, `GeneratedTokens`; no user or session.
    Azure,
    /// RAGPulse: `timestamp_s` (seconds from the start, which is 12:00 local
    /// time), `input_length`, `output_length`, `session_id`.
    RagPulse,
    /// Mooncake FAST'25 (JSONL): `timestamp` (milliseconds from the start),
    /// `input_length`, `output_length`, `hash_ids` (512-token blocks).
    Mooncake,
    /// Your own columns.
    Custom(ColumnMapping),
}

impl TraceFormat {
    /// Names accepted by [`TraceFormat::from_name`].
    pub const PRESETS: [&'static str; 3] = ["azure", "ragpulse", "mooncake"];

    /// A preset by name (`azure`, `ragpulse`, `mooncake`; case-insensitive).
    pub fn from_name(name: &str) -> Option<TraceFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "azure" => Some(TraceFormat::Azure),
            "ragpulse" => Some(TraceFormat::RagPulse),
            "mooncake" => Some(TraceFormat::Mooncake),
            _ => None,
        }
    }

    /// `azure`, `ragpulse`, `mooncake` or `custom`.
    pub fn name(&self) -> &'static str {
        match self {
            TraceFormat::Azure => "azure",
            TraceFormat::RagPulse => "ragpulse",
            TraceFormat::Mooncake => "mooncake",
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
                block_hashes: None,
                block_tokens: MOONCAKE_BLOCK_TOKENS,
            },
            TraceFormat::RagPulse => ColumnMapping {
                time: "timestamp_s".into(),
                time_unit: TimeUnit::Seconds,
                input_tokens: "input_length".into(),
                output_tokens: "output_length".into(),
                user: None,
                session: Some("session_id".into()),
                block_hashes: None,
                block_tokens: MOONCAKE_BLOCK_TOKENS,
            },
            TraceFormat::Mooncake => ColumnMapping {
                time: "timestamp".into(),
                time_unit: TimeUnit::Milliseconds,
                input_tokens: "input_length".into(),
                output_tokens: "output_length".into(),
                user: None,
                session: None,
                block_hashes: Some("hash_ids".into()),
                block_tokens: MOONCAKE_BLOCK_TOKENS,
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
        [
            TraceFormat::Azure,
            TraceFormat::RagPulse,
            TraceFormat::Mooncake,
        ]
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
        } else if is_jsonl(path) {
            jsonl_header(path)?
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
    pub(crate) fn required(&self) -> Vec<(&'static str, &String)> {
        vec![
            ("arrival time", &self.time),
            ("input tokens", &self.input_tokens),
            ("output tokens", &self.output_tokens),
        ]
    }

    pub(crate) fn optional(&self) -> Vec<(&'static str, &String)> {
        let mut v = Vec::new();
        if let Some(u) = &self.user {
            v.push(("user id", u));
        }
        if let Some(s) = &self.session {
            v.push(("session id", s));
        }
        if let Some(b) = &self.block_hashes {
            v.push(("block hashes", b));
        }
        v
    }

    /// A mapping from `key = value` pairs (the keys of [`MAPPING_KEYS`]):
    /// `time`, `input` and `output` are required; `time_unit` is `s`
    /// (default), `ms` or `datetime`; `user`, `session` and `block_hashes`
    /// are optional column names; `block_tokens` (default 512) is the
    /// tokens per hashed block. An error is `(key, what is wrong and the
    /// fix)`.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<ColumnMapping, (String, String)> {
        let mut get = std::collections::BTreeMap::new();
        for (k, v) in pairs {
            if !MAPPING_KEYS.contains(&k.as_str()) {
                return Err((
                    k.clone(),
                    format!("unknown column key: use {}", MAPPING_KEYS.join(", ")),
                ));
            }
            if get.insert(k.as_str(), v.trim().to_string()).is_some() {
                return Err((k.clone(), "given twice: keep one".into()));
            }
        }
        let need = |k: &str, what: &str| -> Result<String, (String, String)> {
            match get.get(k) {
                Some(v) if !v.is_empty() => Ok(v.clone()),
                _ => Err((
                    k.to_string(),
                    format!("missing: name the column holding the {what}"),
                )),
            }
        };
        let time_unit = match get.get("time_unit").map(String::as_str) {
            None | Some("s") | Some("seconds") => TimeUnit::Seconds,
            Some("ms") | Some("milliseconds") => TimeUnit::Milliseconds,
            Some("datetime") => TimeUnit::DateTime,
            Some(other) => {
                return Err((
                    "time_unit".into(),
                    format!("unknown unit {other:?}: use s, ms or datetime (YYYY-MM-DD HH:MM:SS)"),
                ))
            }
        };
        let block_tokens = match get.get("block_tokens") {
            None => MOONCAKE_BLOCK_TOKENS,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err((
                        "block_tokens".into(),
                        format!(
                            "must be a whole number of tokens of at least 1, e.g. 512 (got {v:?})"
                        ),
                    ))
                }
            },
        };
        let opt = |k: &str| get.get(k).filter(|v| !v.is_empty()).cloned();
        if get.contains_key("block_tokens") && opt("block_hashes").is_none() {
            return Err((
                "block_tokens".into(),
                "applies to the block_hashes column: name it, or remove block_tokens".into(),
            ));
        }
        Ok(ColumnMapping {
            time: need("time", "arrival time")?,
            time_unit,
            input_tokens: need("input", "prompt (input) token count")?,
            output_tokens: need("output", "generated (output) token count")?,
            user: opt("user"),
            session: opt("session"),
            block_hashes: opt("block_hashes"),
            block_tokens,
        })
    }
}

pub(crate) fn clean_name(s: &str) -> &str {
    s.trim_start_matches('\u{feff}').trim()
}

/// Where each mapped column is in the header.
pub(crate) struct Indices {
    pub(crate) time: usize,
    pub(crate) input: usize,
    pub(crate) output: usize,
    pub(crate) user: Option<usize>,
    pub(crate) session: Option<usize>,
    pub(crate) blocks: Option<usize>,
}

impl Indices {
    /// Every mapped column's index.
    pub(crate) fn all(&self) -> Vec<usize> {
        [
            Some(self.time),
            Some(self.input),
            Some(self.output),
            self.user,
            self.session,
            self.blocks,
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

pub(crate) fn column_indices(
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
    Ok(Indices {
        time: find("arrival time", &m.time)?,
        input: find("input tokens", &m.input_tokens)?,
        output: find("output tokens", &m.output_tokens)?,
        user: m.user.as_deref().map(|u| find("user id", u)).transpose()?,
        session: m
            .session
            .as_deref()
            .map(|s| find("session id", s))
            .transpose()?,
        blocks: m
            .block_hashes
            .as_deref()
            .map(|b| find("block hashes", b))
            .transpose()?,
    })
}
