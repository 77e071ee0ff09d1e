//! The Parquet reader: the schema without the data, the column types this
//! build reads (integers, floats, text), panics inside polars turned into
//! errors, and loading a Parquet trace's mapped columns into the
//! [`Builder`].

use std::borrow::Cow;
use std::fs::File;
use std::path::Path;

use super::build::{parse_block_list, Builder, Cell, RowCells};
use super::error::TraceError;
use super::format::column_indices;
use super::ColumnMapping;

pub(crate) fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case("parquet"))
}

/// Run a polars call, turning a panic inside polars into an error (some
/// unsupported or corrupt files make it panic rather than fail).
pub(crate) fn guarded<T>(
    path: &Path,
    f: impl FnOnce() -> polars::prelude::PolarsResult<T>,
) -> Result<T, TraceError> {
    let err = |message: String| TraceError::Parquet {
        file: path.to_path_buf(),
        message,
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(err(e.to_string())),
        Err(p) => Err(err(format!(
            "polars failed on this file ({}); check that it is a valid Parquet file",
            p.downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default()
        ))),
    }
}

/// The Parquet schema: column names and Arrow types, without reading data.
pub(crate) fn parquet_schema(
    path: &Path,
) -> Result<Vec<(String, polars::prelude::ArrowDataType)>, TraceError> {
    use polars::prelude::{ParquetReader, SerReader};
    let file = File::open(path).map_err(|source| TraceError::Read {
        file: path.to_path_buf(),
        source,
    })?;
    guarded(path, || {
        let schema = ParquetReader::new(file).schema()?;
        Ok(schema
            .iter_values()
            .map(|f| (f.name.to_string(), f.dtype.clone()))
            .collect())
    })
}

pub(crate) fn parquet_header(path: &Path) -> Result<Vec<String>, TraceError> {
    Ok(parquet_schema(path)?.into_iter().map(|(n, _)| n).collect())
}

/// Arrow types this build reads: integers, floats and text. (Polars is
/// built without its date-time types, so a Parquet timestamp column must be
/// stored as text or seconds.)
pub(crate) fn readable_arrow_type(dt: &polars::prelude::ArrowDataType) -> bool {
    use polars::prelude::ArrowDataType as A;
    match dt {
        A::Int8
        | A::Int16
        | A::Int32
        | A::Int64
        | A::UInt8
        | A::UInt16
        | A::UInt32
        | A::UInt64
        | A::Float32
        | A::Float64
        | A::Utf8
        | A::LargeUtf8
        | A::Utf8View => true,
        A::Dictionary(_, values, _) => matches!(**values, A::Utf8 | A::LargeUtf8 | A::Utf8View),
        _ => false,
    }
}

pub(crate) fn load_parquet(
    path: &Path,
    m: &ColumnMapping,
    b: &mut Builder,
) -> Result<(), TraceError> {
    use polars::prelude::{DataType, ParquetReader, SerReader};
    let schema = parquet_schema(path)?;
    let header: Vec<String> = schema.iter().map(|(n, _)| n.clone()).collect();
    let ix = column_indices(path, m, &header)?;
    let needed: Vec<usize> = ix.all();
    for &i in &needed {
        let (name, dt) = &schema[i];
        if !readable_arrow_type(dt) {
            let hint = if m.time == *name {
                "store the time as text (YYYY-MM-DD HH:MM:SS.fffffff) or as a number of seconds or milliseconds"
            } else if m.block_hashes.as_deref() == Some(name.as_str()) {
                "store the block hashes as text such as [3, 4, 9]"
            } else {
                "store it as integers or text"
            };
            return Err(TraceError::InvalidValue {
                file: path.to_path_buf(),
                line: 1,
                column: name.clone(),
                message: format!(
                    "the Parquet column has type {dt:?}, which cannot be read: {hint}"
                ),
            });
        }
    }
    let file = File::open(path).map_err(|source| TraceError::Read {
        file: path.to_path_buf(),
        source,
    })?;
    let mut projection = needed.clone();
    projection.sort_unstable();
    projection.dedup();
    let df = guarded(path, || {
        ParquetReader::new(file)
            .with_projection(Some(projection))
            .finish()
    })?;
    // Every needed column as owned cells: numbers stay numbers (ids become
    // their decimal text), everything else is read as text.
    let cells = |idx: usize, ids: bool| -> Result<Vec<Cell<'static>>, TraceError> {
        let name = &header[idx];
        guarded(path, || {
            let col = df.column(name)?;
            if col.dtype().is_primitive_numeric() && !ids {
                let c = col.cast(&DataType::Float64)?;
                Ok(c.f64()?
                    .iter()
                    .map(|x| x.map_or(Cell::Null, Cell::Number))
                    .collect())
            } else {
                let c = col.cast(&DataType::String)?;
                Ok(c.str()?
                    .iter()
                    .map(|v| {
                        v.map_or(Cell::Null, |v| {
                            Cell::Text(Cow::Owned(v.as_bytes().to_vec()))
                        })
                    })
                    .collect())
            }
        })
    };
    let mut time = cells(ix.time, false)?;
    let mut input = cells(ix.input, false)?;
    let mut output = cells(ix.output, false)?;
    let mut user = ix.user.map(|i| cells(i, true)).transpose()?;
    let mut session = ix.session.map(|i| cells(i, true)).transpose()?;
    let mut blocks = ix.blocks.map(|i| cells(i, true)).transpose()?;
    let take = |v: &mut Vec<Cell<'static>>, i: usize| {
        v.get_mut(i)
            .map_or(Cell::Null, |c| std::mem::replace(c, Cell::Null))
    };
    for i in 0..df.height() {
        let list = match blocks.as_mut().map(|v| take(v, i)) {
            None => None,
            Some(Cell::Text(t)) => Some(parse_block_list(&t)),
            Some(_) => Some(Ok(Vec::new())),
        };
        let list = list
            .transpose()
            .map_err(|message| TraceError::InvalidValue {
                file: path.to_path_buf(),
                line: i + 2,
                column: header[ix.blocks.unwrap_or(0)].clone(),
                message,
            })?;
        let row = RowCells {
            time: take(&mut time, i),
            input: take(&mut input, i),
            output: take(&mut output, i),
            user: user.as_mut().map(|u| take(u, i)),
            session: session.as_mut().map(|s| take(s, i)),
            blocks: list,
        };
        b.push(i + 2, row)?;
    }
    Ok(())
}
