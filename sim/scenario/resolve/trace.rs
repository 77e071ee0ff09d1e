//! `[trace]`: a replayed request trace, loaded in its format (named or
//! detected from the header) with its time scale and offset, and its
//! requests assigned to `[users] count` users. Trace errors are kept as
//! sources.

use std::path::Path;
use std::sync::Arc;

use crate::workload::trace::{
    ColumnMapping, ReplayOptions, Trace, TraceBlocks, TraceClock, TraceFormat, TraceRequest,
};

use super::super::check::Check;
use super::super::raw::RawScenario;
use super::super::ScenarioError;

/// A trace's requests and its wall clock, when it records one.
pub(super) type Replayed = (
    Arc<Vec<TraceRequest>>,
    (Option<TraceClock>, Option<Arc<TraceBlocks>>),
);

/// The replayed requests (arrival order, users assigned) and the trace's
/// wall clock when it records one, when `[trace]` is given.
pub(super) fn resolve_trace(
    c: &Check,
    raw: &RawScenario,
    base_dir: &Path,
) -> Result<Option<Replayed>, ScenarioError> {
    let Some(t) = &raw.trace else {
        return Ok(None);
    };
    if raw.model.is_none() {
        return Err(c.err(
            "trace",
            "a trace gives token counts: it needs an LLM scenario with [model]",
        ));
    }
    let file = base_dir.join(&t.file);
    let default = if t.columns.is_some() {
        "custom"
    } else {
        "auto"
    };
    let format = match (t.format.as_deref().unwrap_or(default), &t.columns) {
        ("custom", Some(cols)) => TraceFormat::Custom(column_mapping(c, cols)?),
        ("custom", None) => {
            return Err(c.err(
                "trace.columns",
                "missing: a custom format needs `columns = { time = ..., input = ..., output = ... }`",
            ))
        }
        (name, Some(_)) => {
            return Err(c.err(
                "trace.columns",
                format!("applies to format = \"custom\", not {name:?}: remove `format` or `columns`"),
            ))
        }
        ("auto", None) => TraceFormat::detect_file(&file)
            .map_err(|e| c.err_because("trace.file", e.to_string(), e))?,
        (name, None) => TraceFormat::from_name(name).ok_or_else(|| {
            c.err(
                "trace.format",
                format!("unknown format {name:?}: use azure, ragpulse, mooncake, auto, or custom with `columns`"),
            )
        })?,
    };
    let options = ReplayOptions {
        time_scale: t.time_scale.unwrap_or(1.0),
        time_offset_s: t.time_offset_s.unwrap_or(0.0),
        start_hour_of_day: t.start_hour_of_day,
        ..Default::default()
    };
    let mut tr = Trace::load(&file, &format, &options)
        .map_err(|e| c.err_because("trace.file", e.to_string(), e))?;
    let users = raw.users().count.clamp(1, u32::MAX as u64) as u32;
    tr.assign_users(users)
        .map_err(|e| c.err_because(c.users("count"), e.to_string(), e))?;
    Ok(Some((
        Arc::new(tr.requests),
        (tr.clock, tr.blocks.map(Arc::new)),
    )))
}

/// `[trace] columns`: every value a string (`block_tokens` may be a whole
/// number), then [`ColumnMapping::from_pairs`].
fn column_mapping(c: &Check, cols: &toml::Table) -> Result<ColumnMapping, ScenarioError> {
    let mut pairs = Vec::with_capacity(cols.len());
    for (k, v) in cols {
        let text = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) if k == "block_tokens" => i.to_string(),
            other => {
                return Err(c.err(
                    format!("trace.columns.{k}"),
                    format!("must be a column name in quotes (got {other})"),
                ))
            }
        };
        pairs.push((k.clone(), text));
    }
    ColumnMapping::from_pairs(&pairs)
        .map_err(|(k, message)| c.err(format!("trace.columns.{k}"), message))
}
