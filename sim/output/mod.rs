//! Writing results: Parquet tables built from [`Row`]s, written to a
//! temporary file in the destination folder and renamed into place, so a
//! reader never sees a half-written file and a failed run never destroys the
//! previous result.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

mod error;
mod folder;
pub mod terminal;
use crate::results::table::{Row, Value};
pub use error::OutputError;
pub use folder::{
    checksum, claim_folder, verify_checked, write_checked, Checked, FolderGuard, LockKind,
    LOCK_FILE, RECORD_FILE,
};

/// Create the output folder (and parents) and prove it is writable, before
/// any long work starts.
pub fn prepare_output_dir(dir: &Path) -> Result<PathBuf, OutputError> {
    std::fs::create_dir_all(dir).map_err(|source| OutputError::Io {
        path: dir.to_path_buf(),
        action: "cannot create the output folder (choose another with --out)",
        source,
    })?;
    let probe = dir.join(format!(".sharesim-write-test-{}", std::process::id()));
    let written = File::create(&probe).and_then(|mut f| f.write_all(b"ok"));
    // Removed whether or not the write went through (a full disk creates
    // the file, then fails to write it).
    let _ = std::fs::remove_file(&probe);
    written.map_err(|source| OutputError::Io {
        path: dir.to_path_buf(),
        action: "the output folder is not writable (choose another with --out)",
        source,
    })?;
    Ok(dir.to_path_buf())
}

/// The type of a column: that of its first value other than a missing
/// measurement (`F64(None)`, what [`align_rows`] fills in). A column's type
/// never depends on the data: a count stays a (nullable) `UInt64` when some
/// rows lack it, and a column mixing counts with measurements is an error
/// of the code that built the rows, not something to paper over by casting.
fn column_kind<'a>(rows: &'a [Row], i: usize, name: &str) -> PolarsResult<&'a Value> {
    let is_missing = |v: &Value| matches!(v, Value::F64(None));
    let proto = rows
        .iter()
        .map(|r| &r[i].1)
        .find(|v| !is_missing(v))
        .unwrap_or(&rows[0][i].1);
    let same = |a: &Value, b: &Value| std::mem::discriminant(a) == std::mem::discriminant(b);
    if let Some(other) = rows
        .iter()
        .map(|r| &r[i].1)
        .find(|v| !is_missing(v) && !same(v, proto))
    {
        polars_bail!(ComputeError: "column `{name}` holds both {proto:?} and {other:?}: one type per column");
    }
    Ok(proto)
}

/// Build a polars DataFrame from rows that share one column layout (the
/// first row's). Strings become `String`, counts `UInt64`, measurements
/// `Float64` and flags `Boolean`; missing values become nulls.
pub fn rows_to_dataframe(rows: &[Row]) -> PolarsResult<DataFrame> {
    let Some(first) = rows.first() else {
        return Ok(DataFrame::empty());
    };
    let same_layout = rows
        .iter()
        .all(|r| r.len() == first.len() && r.iter().zip(first).all(|(a, b)| a.0 == b.0));
    if !same_layout {
        return rows_to_dataframe(&align_rows(rows));
    }
    let mut columns: Vec<Column> = Vec::with_capacity(first.len());
    for (i, (name, _)) in first.iter().enumerate() {
        let proto = column_kind(rows, i, name)?;
        let name = PlSmallStr::from(name.as_str());
        fn value_at(r: &Row, i: usize) -> &Value {
            &r[i].1
        }
        let at = |r| value_at(r, i);
        let col = match proto {
            Value::Str(_) => Column::new(
                name,
                rows.iter()
                    .map(|r| match at(r) {
                        Value::Str(s) => s.clone(),
                        _ => String::new(),
                    })
                    .collect::<Vec<String>>(),
            ),
            Value::U64(_) => Column::new(
                name,
                rows.iter()
                    .map(|r| match at(r) {
                        Value::U64(v) => Some(*v),
                        _ => None,
                    })
                    .collect::<Vec<Option<u64>>>(),
            ),
            Value::F64(_) => Column::new(
                name,
                rows.iter()
                    .map(|r| at(r).as_f64())
                    .collect::<Vec<Option<f64>>>(),
            ),
            Value::Bool(_) => Column::new(
                name,
                rows.iter()
                    .map(|r| match at(r) {
                        Value::Bool(b) => *b,
                        _ => None,
                    })
                    .collect::<Vec<Option<bool>>>(),
            ),
        };
        columns.push(col);
    }
    DataFrame::new(rows.len(), columns)
}

/// Read a Parquet table written by [`write_parquet`] back into rows, with
/// the same cell types (other numeric types become measurements).
pub fn read_rows(path: &Path) -> Result<Vec<Row>, OutputError> {
    let parquet_error = |e: PolarsError| OutputError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = File::open(path).map_err(|source| OutputError::Io {
        path: path.to_path_buf(),
        action: "cannot open the table",
        source,
    })?;
    let df = ParquetReader::new(file).finish().map_err(parquet_error)?;
    let mut rows: Vec<Row> = vec![Vec::with_capacity(df.width()); df.height()];
    for column in df.columns() {
        let name = column.name().to_string();
        let series = column.as_materialized_series();
        let cells: Vec<Value> = match series.dtype() {
            DataType::String => series
                .str()
                .map_err(parquet_error)?
                .iter()
                .map(|v| Value::Str(v.unwrap_or_default().to_string()))
                .collect(),
            DataType::UInt64 => series
                .u64()
                .map_err(parquet_error)?
                .iter()
                // A null count reads back as a missing value.
                .map(|v| v.map_or(Value::F64(None), Value::U64))
                .collect(),
            DataType::Boolean => series
                .bool()
                .map_err(parquet_error)?
                .iter()
                .map(Value::Bool)
                .collect(),
            _ => series
                .cast(&DataType::Float64)
                .map_err(parquet_error)?
                .f64()
                .map_err(parquet_error)?
                .iter()
                .map(Value::F64)
                .collect(),
        };
        for (row, v) in rows.iter_mut().zip(cells) {
            row.push((name.clone(), v));
        }
    }
    Ok(rows)
}

/// Rows with different columns (e.g. an LLM placement beside a speech one)
/// on one layout: the union of columns in first-seen order; a missing value
/// is null (an empty string for text; a missing count or measurement is
/// `F64(None)`, which [`rows_to_dataframe`] writes as a null of the column's type).
fn align_rows(rows: &[Row]) -> Vec<Row> {
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        for (n, _) in r {
            if !names.contains(&n.as_str()) {
                names.push(n);
            }
        }
    }
    let lookup = |r: &Row, n: &str| r.iter().find(|(m, _)| m == n).map(|(_, v)| v.clone());
    rows.iter()
        .map(|r| {
            names
                .iter()
                .map(|n| {
                    let proto = rows.iter().find_map(|r| lookup(r, n)).expect("seen");
                    let v = match lookup(r, n) {
                        Some(v) => v,
                        None => match proto {
                            Value::Str(_) => Value::Str(String::new()),
                            Value::Bool(_) => Value::Bool(None),
                            _ => Value::F64(None),
                        },
                    };
                    (n.to_string(), v)
                })
                .collect()
        })
        .collect()
}

/// Write rows to `path` as Parquet, atomically (temporary file + rename).
pub fn write_parquet(path: &Path, rows: &[Row]) -> Result<(), OutputError> {
    // Encoded in memory first, so that an I/O failure (a full disk, a
    // vanished folder) is reported as the OS error it is, not as a Parquet
    // encoding error.
    let bytes = encode_parquet(path, rows)?;
    write_bytes_atomically(path, &bytes)
}

/// Rows encoded as the bytes of a Parquet file (`path` names it in errors).
pub fn encode_parquet(path: &Path, rows: &[Row]) -> Result<Vec<u8>, OutputError> {
    let parquet_err = |message: String| OutputError::Parquet {
        path: path.to_path_buf(),
        message,
    };
    let mut df = rows_to_dataframe(rows).map_err(|e| parquet_err(e.to_string()))?;
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .finish(&mut df)
        .map_err(|e| parquet_err(e.to_string()))?;
    Ok(bytes)
}

/// Write `bytes` to `path` atomically (temporary file, sync, rename); I/O
/// failures are [`OutputError::Io`] naming what failed.
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let io_err = |action: &'static str| {
        move |source| OutputError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let result = File::create(&tmp)
        .map_err(io_err(
            "cannot create a temporary file beside it (is the disk full or the folder read-only?)",
        ))
        .and_then(|mut f| {
            f.write_all(bytes)
                .map_err(io_err("cannot write the file (is the disk full?)"))?;
            f.sync_all()
                .map_err(io_err("cannot flush the file to disk (is the disk full?)"))
        });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_err("cannot move the finished file into place")(e)
    })
}

/// Write a file whose content `fill` produces (into memory), atomically: a
/// temporary sibling, synced, then renamed over `path` (see
/// [`write_bytes_atomically`]). A `fill` error is reported as an encoding
/// error; on any failure `path` is untouched.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut Vec<u8>) -> Result<(), String>,
) -> Result<(), OutputError> {
    let mut bytes = Vec::new();
    fill(&mut bytes).map_err(|message| OutputError::Parquet {
        path: path.to_path_buf(),
        message,
    })?;
    write_bytes_atomically(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::table::cell;

    #[test]
    fn tables_read_back_as_the_rows_written() {
        let dir = tempfile::tempdir().unwrap();
        let rows = vec![
            vec![
                cell("a", Value::Str("x".into())),
                cell("b", Value::U64(3)),
                cell("c", Value::F64(Some(1.5))),
                cell("d", Value::Bool(Some(true))),
            ],
            vec![
                cell("a", Value::Str("y".into())),
                cell("b", Value::U64(4)),
                cell("c", Value::F64(None)),
                cell("d", Value::Bool(None)),
            ],
        ];
        let path = dir.path().join("t.parquet");
        write_parquet(&path, &rows).unwrap();
        assert_eq!(read_rows(&path).unwrap(), rows);
    }

    #[test]
    fn a_count_missing_from_some_rows_stays_a_nullable_count() {
        // A hybrid row has no `pool_types`: the column stays UInt64, null
        // there, whatever the order of the rows.
        let with = vec![cell("a", Value::Str("x".into())), cell("n", Value::U64(2))];
        let without = vec![cell("a", Value::Str("y".into()))];
        for rows in [
            vec![with.clone(), without.clone()],
            vec![without.clone(), with.clone()],
        ] {
            let df = rows_to_dataframe(&rows).unwrap();
            let n = df.column("n").unwrap();
            assert_eq!(n.dtype(), &DataType::UInt64);
            assert_eq!(n.null_count(), 1);
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        write_parquet(&p, &[without, with]).unwrap();
        let back = read_rows(&p).unwrap();
        assert_eq!(get_value(&back[0], "n"), Some(&Value::F64(None)));
        assert_eq!(get_value(&back[1], "n"), Some(&Value::U64(2)));
    }

    #[test]
    fn a_column_mixing_counts_and_measurements_is_refused() {
        let rows = vec![
            vec![cell("n", Value::U64(2))],
            vec![cell("n", Value::F64(Some(2.5)))],
        ];
        let e = rows_to_dataframe(&rows).unwrap_err().to_string();
        assert!(e.contains("column `n`"), "{e}");
    }

    fn get_value<'a>(r: &'a Row, n: &str) -> Option<&'a Value> {
        crate::results::table::get(r, n)
    }

    #[test]
    fn rows_become_typed_columns_with_nulls() {
        let rows: Vec<Row> = vec![
            vec![
                cell("a", Value::Str("x".into())),
                cell("b", Value::F64(Some(1.5))),
                cell("c", Value::Bool(Some(true))),
            ],
            vec![
                cell("a", Value::Str("y".into())),
                cell("b", Value::F64(None)),
                cell("c", Value::Bool(None)),
            ],
        ];
        let df = rows_to_dataframe(&rows).unwrap();
        assert_eq!(df.shape(), (2, 3));
        assert_eq!(df.column("b").unwrap().null_count(), 1);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        write_parquet(&p, &rows).unwrap();
        let back = ParquetReader::new(File::open(&p).unwrap())
            .finish()
            .unwrap();
        assert!(back.equals_missing(&df));
        // Only the finished file is left.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
