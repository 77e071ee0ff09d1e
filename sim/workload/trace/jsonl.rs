//! The JSONL reader (one JSON object per line, as the Mooncake traces are
//! written): the keys of the first object ([`jsonl_header`], for format
//! detection) and loading each object's mapped keys into the [`Builder`].
//! Blank lines are skipped; line numbers are the file's (the first object
//! is usually line 1).

use std::borrow::Cow;
use std::path::Path;

use serde_json::{Map, Value};

use super::build::{columns_phrase, parse_id, Builder, Cell, RowCells};
use super::error::{quoted_list, TraceError};
use super::ColumnMapping;

/// Whether `path` names a JSONL file (`.jsonl` or `.ndjson`).
pub(crate) fn is_jsonl(path: &Path) -> bool {
    path.extension().is_some_and(|e| {
        let e = e.to_string_lossy();
        e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson")
    })
}

fn read_text(path: &Path) -> Result<Vec<u8>, TraceError> {
    std::fs::read(path).map_err(|source| TraceError::Read {
        file: path.to_path_buf(),
        source,
    })
}

/// The non-blank lines of a JSONL file, each parsed as an object, with
/// their 1-based line numbers.
fn objects<'d>(
    path: &Path,
    data: &'d [u8],
) -> impl Iterator<Item = Result<(usize, Map<String, Value>), TraceError>> + 'd {
    let file = path.to_path_buf();
    data.split(|&b| b == b'\n')
        .enumerate()
        .filter_map(move |(i, raw)| {
            let line = i + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let raw = if line == 1 {
                raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw)
            } else {
                raw
            };
            if raw.iter().all(u8::is_ascii_whitespace) {
                return None;
            }
            let invalid = |message: String| TraceError::InvalidValue {
                file: file.clone(),
                line,
                column: "(line)".into(),
                message,
            };
            let text = match std::str::from_utf8(raw) {
                Ok(t) => t,
                Err(e) => {
                    return Some(Err(invalid(format!(
                        "not UTF-8 text (byte {}): a JSONL trace is UTF-8 text, one JSON object per line",
                        e.valid_up_to()
                    ))))
                }
            };
            Some(match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => Ok((line, m)),
                Ok(_) => Err(invalid(
                    "not a JSON object: write one object per line, e.g. {\"timestamp\": 0, \"input_length\": 12, \"output_length\": 3}".into(),
                )),
                Err(e) => Err(invalid(format!(
                    "not valid JSON ({e}): write one complete JSON object per line"
                ))),
            })
        })
}

/// Keys of the first object (for [`super::TraceFormat::detect`]).
pub(crate) fn jsonl_header(path: &Path) -> Result<Vec<String>, TraceError> {
    let data = read_text(path)?;
    let first = objects(path, &data).next();
    match first {
        None => Err(TraceError::Empty {
            file: path.to_path_buf(),
            line: 1,
            columns: "its keys".into(),
        }),
        Some(r) => Ok(r?.1.keys().cloned().collect()),
    }
}

/// A scalar value as a cell: numbers stay numbers (ids become their
/// decimal text, so large ids keep every digit), strings are text, null
/// is null; anything else is its JSON text (and then not a number).
fn cell(v: &Value, id: bool) -> Cell<'static> {
    match v {
        Value::Null => Cell::Null,
        Value::String(s) => Cell::Text(Cow::Owned(s.as_bytes().to_vec())),
        Value::Number(n) if id => Cell::Text(Cow::Owned(n.to_string().into_bytes())),
        Value::Number(n) => n.as_f64().map_or(Cell::Null, Cell::Number),
        other => Cell::Text(Cow::Owned(other.to_string().into_bytes())),
    }
}

/// A block-hash list: a JSON array of ids (numbers or strings), or a
/// string written as in CSV; null is no blocks.
fn block_list(v: &Value) -> Result<Vec<u64>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|x| match x {
                Value::Number(n) => n.as_u64().ok_or_else(|| {
                    format!("block id {n} is not a whole number of at least 0: use whole numbers or strings")
                }),
                Value::String(s) => parse_id(&Cell::Text(Cow::Borrowed(s.as_bytes())))
                    .ok_or_else(|| "an empty string among the block ids".to_string()),
                other => Err(format!(
                    "block id {other} is neither a number nor a string"
                )),
            })
            .collect(),
        Value::String(s) => super::build::parse_block_list(s.as_bytes()),
        other => Err(format!(
            "{other} is not a list of block ids: write an array such as [3, 4, 9]"
        )),
    }
}

pub(crate) fn load_jsonl(
    path: &Path,
    m: &ColumnMapping,
    b: &mut Builder,
) -> Result<(), TraceError> {
    let data = read_text(path)?;
    let mut any = false;
    for rec in objects(path, &data) {
        let (line, obj) = rec?;
        any = true;
        let get = |role: &'static str, key: &str| -> Result<&Value, TraceError> {
            obj.get(key).ok_or_else(|| TraceError::InvalidValue {
                file: path.to_path_buf(),
                line,
                column: key.to_string(),
                message: format!(
                    "no key `{key}` for the {role}; the object has {}; name the right key in the column mapping ([trace] columns, or --column on fit-trace) or choose the format whose keys the file has",
                    quoted_list(&obj.keys().cloned().collect::<Vec<_>>())
                ),
            })
        };
        let blocks = match &m.block_hashes {
            Some(k) => Some(block_list(get("block hashes", k)?).map_err(|message| {
                TraceError::InvalidValue {
                    file: path.to_path_buf(),
                    line,
                    column: k.clone(),
                    message,
                }
            })?),
            None => None,
        };
        let row = RowCells {
            time: cell(get("arrival time", &m.time)?, false),
            input: cell(get("input tokens", &m.input_tokens)?, false),
            output: cell(get("output tokens", &m.output_tokens)?, false),
            user: m
                .user
                .as_deref()
                .map(|k| get("user id", k).map(|v| cell(v, true)))
                .transpose()?,
            session: m
                .session
                .as_deref()
                .map(|k| get("session id", k).map(|v| cell(v, true)))
                .transpose()?,
            blocks,
        };
        b.push(line, row)?;
    }
    if !any {
        return Err(TraceError::Empty {
            file: path.to_path_buf(),
            line: 1,
            columns: columns_phrase(m),
        });
    }
    Ok(())
}
