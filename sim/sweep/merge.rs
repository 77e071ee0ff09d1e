//! Combining a sweep's parts into `sweep.parquet`: every point of the
//! manifest, in point order, each part verified against its check sidecar
//! and of the manifest's base scenario (parts of another are refused, naming
//! both fingerprints); parts of points no longer in the grid are moved to
//! `parts-stale/` first.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::parts::{move_stale_parts, SweepPaths, POINT_ID};
use crate::output::{verify_checked, write_atomically, Checked, OutputError};

/// What [`merge`] wrote.
#[derive(Debug)]
pub struct Merged {
    /// Rows of sweep.parquet.
    pub rows: usize,
    /// Points in it.
    pub points: usize,
    /// Points of the manifest.
    pub total: usize,
    /// sweep.parquet (not written when no point is finished).
    pub path: PathBuf,
    /// Parts of points no longer in the grid, moved to `parts-stale/`.
    pub stale: Vec<PathBuf>,
}

impl Merged {
    /// Some points are missing: sweep.parquet says `partial = true`.
    pub fn partial(&self) -> bool {
        self.points < self.total
    }
}

/// Combine the part files of every point listed in the manifest of `dir`
/// into `sweep.parquet`, in point order (column `partial` false). Errors
/// name missing points, damaged parts and parts of another scenario.
pub fn merge(dir: &Path) -> Result<Merged, MergeError> {
    merge_parts(dir, false)
}

/// Combine the part files of the points finished so far (a sweep stopped
/// by Ctrl-C) into `sweep.parquet`, its column `partial` true when points
/// are missing. Nothing is written when no point is finished.
pub fn merge_finished(dir: &Path) -> Result<Merged, MergeError> {
    merge_parts(dir, true)
}

fn merge_parts(dir: &Path, allow_missing: bool) -> Result<Merged, MergeError> {
    let paths = SweepPaths::new(dir.to_path_buf());
    let text = std::fs::read_to_string(paths.manifest())
        .map_err(|e| MergeError::Manifest(paths.manifest(), e.to_string()))?;
    let manifest: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| MergeError::Manifest(paths.manifest(), e.to_string()))?;
    let points = manifest
        .get("points")
        .and_then(|p| p.as_array())
        .ok_or_else(|| MergeError::Manifest(paths.manifest(), "no points list".into()))?;
    let ids: HashSet<String> = points
        .iter()
        .filter_map(|p| p.get("id").and_then(|v| v.as_str()).map(str::to_string))
        .collect();
    let stale = move_stale_parts(&paths, &ids).map_err(MergeError::Output)?;
    // The base scenario every part must be of: the manifest's, else the
    // first part's.
    let mut base: Option<(String, String)> = manifest
        .get("base_fingerprint")
        .and_then(|v| v.as_str())
        .map(|f| (f.to_string(), paths.manifest().display().to_string()));
    let mut frames = Vec::with_capacity(points.len());
    let mut missing = Vec::new();
    for p in points {
        let id = p.get("id").and_then(|v| v.as_str()).unwrap_or_default();
        let index = p.get("index").and_then(|v| v.as_integer()).unwrap_or(-1);
        let part = paths.part(id);
        match File::open(&part) {
            Ok(f) => frames.push(
                ParquetReader::new(f)
                    .finish()
                    .and_then(|df| with_point_id(df, id))
                    .map_err(|e| MergeError::Part(part.clone(), e.to_string()))?,
            ),
            Err(_) => {
                missing.push(index);
                continue;
            }
        }
        let check = match verify_checked(&part, &paths.check(id)) {
            Checked::Good(t) => t,
            Checked::Damaged(why) => return Err(MergeError::Damaged(part, why)),
            // Being written by a shard (its sidecar follows), or its writer
            // was killed in between: not finished.
            Checked::Missing | Checked::Unchecked => {
                frames.pop();
                missing.push(index);
                continue;
            }
        };
        let fp = check
            .get("base_fingerprint")
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_string();
        match &base {
            None => base = Some((fp, part.display().to_string())),
            Some((b, whose)) if *b != fp => {
                return Err(MergeError::Mixed {
                    dir: dir.to_path_buf(),
                    first: whose.clone(),
                    first_fp: b.clone(),
                    part,
                    fp,
                })
            }
            Some(_) => {}
        }
    }
    let finished = frames.len();
    if finished == 0 && allow_missing {
        return Ok(Merged {
            rows: 0,
            points: 0,
            total: points.len(),
            path: paths.combined(),
            stale,
        });
    }
    if !missing.is_empty() && !allow_missing {
        return Err(MergeError::Missing {
            dir: dir.to_path_buf(),
            done: frames.len(),
            total: points.len(),
            missing,
        });
    }
    let combined =
        concat_aligned(frames).map_err(|e| MergeError::Part(paths.combined(), e.to_string()))?;
    let n = combined.height();
    let mut df = combined;
    df.with_column(Column::new("partial".into(), vec![!missing.is_empty(); n]))
        .map_err(|e| MergeError::Part(paths.combined(), e.to_string()))?;
    write_atomically(&paths.combined(), |file| {
        ParquetWriter::new(file)
            .finish(&mut df)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .map_err(MergeError::Output)?;
    Ok(Merged {
        rows: n,
        points: finished,
        total: points.len(),
        path: paths.combined(),
        stale,
    })
}

/// A part's rows with their point id back (the part's folder name carries
/// it, the file does not: see [`POINT_ID`]), after the `point` column as
/// in the rows the sweep computed.
fn with_point_id(mut df: DataFrame, id: &str) -> PolarsResult<DataFrame> {
    if df.column(POINT_ID).is_ok() {
        // A part written before the id moved to the folder name only.
        return Ok(df);
    }
    let at = df
        .get_column_names()
        .iter()
        .position(|n| n.as_str() == "point")
        .map_or(0, |i| i + 1);
    let h = df.height();
    df.insert_column(at, Column::new(POINT_ID.into(), vec![id.to_string(); h]))?;
    Ok(df)
}

/// Stack frames whose columns may differ: the union of columns in first-seen
/// order, missing ones null.
fn concat_aligned(frames: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let mut names: Vec<(PlSmallStr, DataType)> = Vec::new();
    for f in &frames {
        for c in f.columns() {
            if !names.iter().any(|(n, _)| n == c.name()) {
                names.push((c.name().clone(), c.dtype().clone()));
            }
        }
    }
    let mut out: Option<DataFrame> = None;
    for mut f in frames {
        for (n, dt) in &names {
            if f.column(n).is_err() {
                let h = f.height();
                f.with_column(Column::full_null(n.clone(), h, dt))?;
            }
        }
        let f = f.select(names.iter().map(|(n, _)| n.clone()))?;
        match &mut out {
            None => out = Some(f),
            Some(o) => {
                o.vstack_mut(&f)?;
            }
        }
    }
    let mut df = out.unwrap_or_else(DataFrame::empty);
    df.rechunk_mut();
    Ok(df)
}

/// Errors of `merge`.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// The manifest is missing or unreadable.
    #[error("{0}: cannot read the sweep manifest ({1}); is this the folder of a sweep (OUT/<scenario-name>)?")]
    Manifest(PathBuf, String),
    /// A part file does not read.
    #[error(
        "{0}: cannot read this part file ({1}); delete it and run the sweep again with --resume"
    )]
    Part(PathBuf, String),
    /// A part does not match its check sidecar.
    #[error(
        "{0}: this part is damaged ({1}); run the sweep again with --resume, which recomputes it"
    )]
    Damaged(PathBuf, String),
    /// Parts of different scenarios.
    #[error("{dir}: parts of different scenarios: {first} has base fingerprint {first_fp}, {part} has {fp}; run the sweep again with --resume, which recomputes the points of another scenario")]
    Mixed {
        /// The folder.
        dir: PathBuf,
        /// The manifest or the first part.
        first: String,
        /// Its base fingerprint.
        first_fp: String,
        /// The part that differs.
        part: PathBuf,
        /// Its base fingerprint.
        fp: String,
    },
    /// Points are not finished.
    #[error("{dir}: {done} of {total} points finished; missing points {missing:?}: run the missing shards, or the sweep again with --resume")]
    Missing {
        /// The folder.
        dir: PathBuf,
        /// Parts present.
        done: usize,
        /// Points in the manifest.
        total: usize,
        /// Indices missing.
        missing: Vec<i64>,
    },
    /// Writing sweep.parquet failed.
    #[error(transparent)]
    Output(OutputError),
}
