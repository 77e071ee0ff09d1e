//! Trace layouts: how the time column is written ([`TimeUnit`]), which
//! columns hold what ([`ColumnMapping`]), the presets ([`TraceFormat`]:
//! Azure 2023, RAGPulse, custom), detecting a preset from a header, and
//! finding the mapped columns in a header.

use std::path::Path;

use super::csv::{header_names, read_bytes, Csv};
use super::error::{TraceError, UNCLOSED_QUOTE};
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
        v
    }
}

pub(crate) fn clean_name(s: &str) -> &str {
    s.trim_start_matches('\u{feff}').trim()
}

/// Find each mapped column in the header: (index of time, input, output,
/// user, session).
pub(crate) type Indices = (usize, usize, usize, Option<usize>, Option<usize>);

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
