//! Sweeps: a scenario file with a `[sweep]` table runs `run` or `size` at
//! every point of a grid of scenario keys, in parallel, writing each finished
//! point at once so that nothing finished is ever lost.
//!
//! ```toml
//! [sweep]
//! mode = "size"                      # or "run"
//! zip = false                        # true: axes advance together
//! axes = [
//!   { key = "users.duty_cycle", values = [0.0002, 0.003, 0.01, 0.1] },
//!   { key = "costs.memory_price_multiplier", range = [1.0, 3.0, 5] },   # start, stop, points
//!   { key = "users.count", log_range = [100, 100000, 4] },
//!   { key = "placements[1].device", values = ["h100_sxm", "b200"] },
//! ]
//! ```
//!
//! An axis names any key of the scenario file by the same path the error
//! messages use; each point is the base file with those keys set, validated
//! like any scenario before anything runs. A point's id and seed derive from
//! its own assignments (`key=value` pairs), so adding a value to an axis
//! leaves every other point's results unchanged.
//!
//! Output, in `OUT/<scenario-name>/`: `sweep-manifest.toml` (every point,
//! written before the run), `parts/point_id=<id>/part.parquet` (one per
//! finished point, written atomically), and `sweep.parquet`, the parts in
//! point order, once every point is there (column `partial` false), or the
//! points finished when Ctrl-C stopped the sweep (`partial` true). Rows are
//! bit-identical for any thread count and any shard split.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use polars::prelude::*;
use rayon::prelude::*;

use crate::core::rng::{derive_seed, fnv1a};
use crate::output::OutputError;
use crate::output::{write_atomically, write_parquet};
use crate::results::table::{cell, Row, Value};
use crate::run::run_scenario;
use crate::scenario::Scenario;
use crate::scenario::ScenarioError;
use crate::sizing::size_scenario;

/// What each point runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepMode {
    /// `sharesim run`: one summary row per placement.
    Run,
    /// `sharesim size`: one sizing row per placement and pool size.
    Size,
}

/// One point of the grid.
#[derive(Debug, Clone)]
pub struct Point {
    /// Position in the grid (row-major over the axes in file order).
    pub index: usize,
    /// Stable id from the assignments (16 hex digits).
    pub id: String,
    /// `(key, value)` per axis.
    pub assignments: Vec<(String, toml::Value)>,
    /// The validated scenario of this point.
    pub scenario: Scenario,
}

/// A validated sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Scenario name (output folder).
    pub name: String,
    /// What each point runs.
    pub mode: SweepMode,
    /// Axis keys in file order.
    pub keys: Vec<String>,
    /// Every point, in grid order.
    pub points: Vec<Point>,
}

fn err(file: &Path, key: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        file: file.to_path_buf(),
        key: key.into(),
        message: message.into(),
    }
}

/// Split `placements[1].servers` into `placements`, `[1]`, `servers`.
enum Seg {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Option<Vec<Seg>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (name, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty() {
            return None;
        }
        out.push(Seg::Key(name.to_string()));
        let mut rest = rest;
        while let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            out.push(Seg::Index(r[..close].parse().ok()?));
            rest = &r[close + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

/// Set `path` in `table` to `value`. Every table and list on the way must
/// exist; the last key may be new. On error `table` is unchanged.
pub fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) -> Result<(), String> {
    let segs = parse_path(path).ok_or_else(|| {
        format!("{path:?} is not a key path (write e.g. users.count or placements[1].servers)")
    })?;
    let mut root = toml::Value::Table(table.clone());
    set_in(&mut root, &segs, value, path)?;
    if let toml::Value::Table(t) = root {
        *table = t;
    }
    Ok(())
}

fn set_in(
    cur: &mut toml::Value,
    segs: &[Seg],
    value: toml::Value,
    path: &str,
) -> Result<(), String> {
    let (seg, rest) = segs.split_first().expect("non-empty path");
    match seg {
        Seg::Key(k) => {
            let t = cur
                .as_table_mut()
                .ok_or_else(|| format!("{path}: the part before {k:?} is not a table"))?;
            if rest.is_empty() {
                t.insert(k.clone(), value);
                return Ok(());
            }
            let next = t
                .get_mut(k)
                .ok_or_else(|| format!("{path}: the file has no {k:?} there"))?;
            set_in(next, rest, value, path)
        }
        Seg::Index(n) => {
            let a = cur
                .as_array_mut()
                .ok_or_else(|| format!("{path}: not a list before [{n}]"))?;
            let len = a.len();
            let item = a
                .get_mut(*n)
                .ok_or_else(|| format!("{path}: index {n} is past the end (the list has {len})"))?;
            if rest.is_empty() {
                *item = value;
                return Ok(());
            }
            set_in(item, rest, value, path)
        }
    }
}

fn axis_values(
    file: &Path,
    i: usize,
    axis: &toml::Table,
) -> Result<(String, Vec<toml::Value>), ScenarioError> {
    let k = |f: &str| format!("sweep.axes[{i}].{f}");
    let key = axis
        .get("key")
        .and_then(|v| v.as_str())
        .ok_or_else(|| err(file, k("key"), "missing: each axis needs `key`, the scenario key it varies, e.g. \"users.duty_cycle\""))?
        .to_string();
    for name in axis.keys() {
        if !["key", "values", "range", "log_range"].contains(&name.as_str()) {
            return Err(err(
                file,
                k(name),
                "unknown axis field: use key with one of values, range, log_range",
            ));
        }
    }
    let given: Vec<&str> = ["values", "range", "log_range"]
        .into_iter()
        .filter(|f| axis.contains_key(*f))
        .collect();
    if given.len() != 1 {
        return Err(err(file, k("values"), "give exactly one of `values`, `range = [start, stop, points]`, `log_range = [start, stop, points]`"));
    }
    let f = given[0];
    let arr = axis[f]
        .as_array()
        .ok_or_else(|| err(file, k(f), "must be a list"))?;
    let values = if f == "values" {
        if arr.is_empty() {
            return Err(err(file, k(f), "is empty: list at least one value"));
        }
        arr.clone()
    } else {
        let num = |v: &toml::Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
        let (Some(a), Some(b), Some(n)) = (
            arr.first().and_then(num),
            arr.get(1).and_then(num),
            arr.get(2).and_then(|v| v.as_integer()),
        ) else {
            return Err(err(
                file,
                k(f),
                "must be [start, stop, points] with numbers and a whole number of points",
            ));
        };
        if arr.len() != 3 || !(1..=100_000).contains(&n) {
            return Err(err(
                file,
                k(f),
                "must be [start, stop, points] with 1 to 100000 points",
            ));
        }
        if f == "log_range" && (a <= 0.0 || b <= 0.0) {
            return Err(err(
                file,
                k(f),
                "a log range needs start and stop greater than 0",
            ));
        }
        let integers = arr[0].is_integer() && arr[1].is_integer();
        (0..n)
            .map(|j| {
                let frac = if n == 1 {
                    0.0
                } else {
                    j as f64 / (n - 1) as f64
                };
                let x = if f == "range" {
                    a + (b - a) * frac
                } else {
                    (a.ln() + (b.ln() - a.ln()) * frac).exp()
                };
                if integers {
                    toml::Value::Integer(x.round() as i64)
                } else {
                    toml::Value::Float(x)
                }
            })
            .collect()
    };
    Ok((key, values))
}

fn value_label(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A swept key and its values.
type Axis = (String, Vec<toml::Value>);

impl Sweep {
    /// Read a scenario file with a `[sweep]` table and validate every point.
    pub fn load(path: &Path) -> Result<Sweep, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        // Validate the base file as a whole first (unknown keys, types).
        let base = Scenario::from_toml_str(&text, path)?;
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| err(path, ".", e.to_string()))?;
        let spec = match table.remove("sweep") {
            Some(toml::Value::Table(t)) => t,
            _ => return Err(err(path, "sweep", "missing: add a [sweep] table with `axes = [{ key = \"users.duty_cycle\", values = [...] }]`")),
        };
        let (mode, zip, axes) = sweep_spec(path, &spec, &base)?;
        let combos = grid(path, &axes, zip)?;
        let points = combos
            .into_par_iter()
            .enumerate()
            .map(|(index, combo)| sweep_point(path, &table, &base, &axes, index, &combo))
            .collect::<Result<Vec<Point>, ScenarioError>>()?;
        Ok(Sweep {
            name: base.name,
            mode,
            keys: axes.into_iter().map(|a| a.0).collect(),
            points,
        })
    }

    /// Indices of the points shard `i` of `n` (1-based) runs: every n-th.
    pub fn shard(&self, i: usize, n: usize) -> Vec<usize> {
        (0..self.points.len()).filter(|p| p % n == i - 1).collect()
    }
}

/// The `[sweep]` table: its mode, whether axes are zipped, and the axes.
fn sweep_spec(
    path: &Path,
    spec: &toml::Table,
    base: &Scenario,
) -> Result<(SweepMode, bool, Vec<Axis>), ScenarioError> {
    for name in spec.keys() {
        if !["mode", "zip", "axes"].contains(&name.as_str()) {
            return Err(err(
                path,
                format!("sweep.{name}"),
                "unknown key: use mode, zip, axes",
            ));
        }
    }
    let mode = match spec.get("mode").map(|v| v.as_str()) {
        None => SweepMode::Run,
        Some(Some("run")) => SweepMode::Run,
        Some(Some("size")) => SweepMode::Size,
        Some(_) => return Err(err(path, "sweep.mode", "must be \"run\" or \"size\"")),
    };
    if mode == SweepMode::Size && base.service_level.is_empty() {
        return Err(err(path, "sweep.mode", "\"size\" needs a [service_level]"));
    }
    let zip = match spec.get("zip") {
        None => false,
        Some(toml::Value::Boolean(b)) => *b,
        Some(_) => return Err(err(path, "sweep.zip", "must be true or false")),
    };
    let axes_raw = spec.get("axes").and_then(|a| a.as_array()).ok_or_else(|| {
        err(
            path,
            "sweep.axes",
            "missing: list the axes, e.g. axes = [{ key = \"users.count\", values = [10, 100] }]",
        )
    })?;
    if axes_raw.is_empty() {
        return Err(err(path, "sweep.axes", "is empty: add at least one axis"));
    }
    let mut axes = Vec::new();
    for (i, a) in axes_raw.iter().enumerate() {
        let t = a.as_table().ok_or_else(|| {
            err(
                path,
                format!("sweep.axes[{i}]"),
                "must be a table { key = ..., values = [...] }",
            )
        })?;
        let (key, values) = axis_values(path, i, t)?;
        if axes
            .iter()
            .any(|(k, _): &(String, Vec<toml::Value>)| *k == key)
        {
            return Err(err(
                path,
                format!("sweep.axes[{i}].key"),
                format!("{key} is swept twice"),
            ));
        }
        axes.push((key, values));
    }
    Ok((mode, zip, axes))
}

/// The grid of value indices, one per point: the row-major cartesian
/// product of the axes, or the axes zipped (at most 1,000,000 points).
fn grid(path: &Path, axes: &[Axis], zip: bool) -> Result<Vec<Vec<usize>>, ScenarioError> {
    // The grid: row-major cartesian product, or zipped.
    let combos: Vec<Vec<usize>> = if zip {
        let n = axes[0].1.len();
        if let Some((i, _)) = axes.iter().enumerate().find(|(_, a)| a.1.len() != n) {
            return Err(err(
                path,
                format!("sweep.axes[{i}]"),
                format!("zipped axes need the same number of values ({n})"),
            ));
        }
        (0..n).map(|j| vec![j; axes.len()]).collect()
    } else {
        let mut out = vec![vec![]];
        for (_, vals) in axes {
            out = out
                .into_iter()
                .flat_map(|c| {
                    (0..vals.len()).map(move |j| {
                        let mut c = c.clone();
                        c.push(j);
                        c
                    })
                })
                .collect();
        }
        out
    };
    if combos.len() > 1_000_000 {
        return Err(err(
            path,
            "sweep.axes",
            format!("{} points: at most 1,000,000", combos.len()),
        ));
    }
    Ok(combos)
}

/// Point `index` of the grid (value indices `combo`): the base table with
/// the point's values set, validated, with its stable id and seed.
fn sweep_point(
    path: &Path,
    table: &toml::Table,
    base: &Scenario,
    axes: &[Axis],
    index: usize,
    combo: &[usize],
) -> Result<Point, ScenarioError> {
    let assignments: Vec<(String, toml::Value)> = combo
        .iter()
        .zip(axes)
        .map(|(j, (k, vals))| (k.clone(), vals[*j].clone()))
        .collect();
    let mut t = table.clone();
    for (k, v) in &assignments {
        set_path(&mut t, k, v.clone())
            .map_err(|m| err(path, k.clone(), format!("point {index}: {m}")))?;
    }
    let canon: String = assignments
        .iter()
        .map(|(k, v)| format!("{k}={v};"))
        .collect();
    let h = fnv1a(canon.as_bytes());
    let mut scenario = Scenario::from_table(t, path).map_err(|e| {
        let desc: Vec<String> = assignments
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        err(
            path,
            "sweep",
            format!(
                "point {index} ({}) is not a valid scenario: {e}",
                desc.join(", ")
            ),
        )
    })?;
    scenario.seed = derive_seed(&[base.seed, h]);
    scenario.name = base.name.clone();
    Ok(Point {
        index,
        id: format!("{h:016x}"),
        assignments,
        scenario,
    })
}

/// Column name of an axis: `sweep_` + the key with non-alphanumerics as `_`.
pub fn axis_column(key: &str) -> String {
    let mut s: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    format!("sweep_{}", s.trim_matches('_'))
}

/// Rows of one point: the point columns, then the run or size rows.
pub fn run_point(sweep: &Sweep, p: &Point) -> Vec<Row> {
    let rows = match sweep.mode {
        SweepMode::Run => run_scenario(&p.scenario).summary,
        SweepMode::Size => size_scenario(&p.scenario).rows,
    };
    rows.into_iter()
        .map(|r| {
            let mut row: Row = vec![
                cell("point", Value::U64(p.index as u64)),
                cell("point_id", Value::Str(p.id.clone())),
                cell("point_seed", Value::U64(p.scenario.seed)),
            ];
            for (k, v) in &p.assignments {
                let val = match v {
                    toml::Value::Integer(i) => Value::F64(Some(*i as f64)),
                    toml::Value::Float(f) => Value::F64(Some(*f)),
                    other => Value::Str(value_label(other)),
                };
                row.push(cell(axis_column(k), val));
            }
            row.extend(r);
            row
        })
        .collect()
}

/// Where a sweep writes.
#[derive(Debug, Clone)]
pub struct SweepPaths {
    /// `OUT/<name>/`.
    pub dir: PathBuf,
}

impl SweepPaths {
    /// Paths under `dir`.
    pub fn new(dir: PathBuf) -> Self {
        SweepPaths { dir }
    }
    /// The part file of a point.
    pub fn part(&self, id: &str) -> PathBuf {
        self.dir
            .join("parts")
            .join(format!("point_id={id}"))
            .join("part.parquet")
    }
    /// The list of every point.
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("sweep-manifest.toml")
    }
    /// The combined result.
    pub fn combined(&self) -> PathBuf {
        self.dir.join("sweep.parquet")
    }
}

/// Write the manifest (every point's index, id and assignments).
pub fn write_manifest(sweep: &Sweep, paths: &SweepPaths) -> Result<(), OutputError> {
    let mut text = format!(
        "# sharesim sweep manifest: {} points of {}\nname = {:?}\npoints = [\n",
        sweep.points.len(),
        sweep.name,
        sweep.name
    );
    for p in &sweep.points {
        let a: Vec<String> = p
            .assignments
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        text.push_str(&format!(
            "  {{ index = {}, id = \"{}\", set = {:?} }},\n",
            p.index,
            p.id,
            a.join(", ")
        ));
    }
    text.push_str("]\n");
    write_atomically(&paths.manifest(), |f| {
        std::io::Write::write_all(f, text.as_bytes()).map_err(|e| e.to_string())
    })
}

/// Progress of a sweep, reported after each point.
#[derive(Debug, Clone)]
pub struct PointDone {
    /// Points finished in this invocation (including skipped on resume).
    pub done: usize,
    /// Points this invocation handles.
    pub total: usize,
    /// Which point.
    pub index: usize,
}

/// Run the points `indices` (skipping finished ones when `resume`), writing
/// each as it finishes; `stop` is checked before each point starts and
/// before a finished point is written (a point finished after Ctrl-C is
/// abandoned: the caller may have merged the parts already). Returns how
/// many points are finished.
pub fn run_points(
    sweep: &Sweep,
    paths: &SweepPaths,
    indices: &[usize],
    resume: bool,
    stop: &AtomicBool,
    on_done: &(dyn Fn(PointDone) + Sync),
) -> Result<usize, OutputError> {
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = indices.len();
    let finished = |i: usize| {
        let d = done.fetch_add(1, Ordering::SeqCst) + 1;
        on_done(PointDone {
            done: d,
            total,
            index: i,
        });
    };
    // Parts are written by a thread outside the pool: polars encodes on its
    // own pool, and a worker of this pool waiting for it would meanwhile
    // start another point, leaving a finished point unwritten for as long.
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Vec<Row>)>();
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| -> Result<(), OutputError> {
            for (i, rows) in rx {
                if stop.load(Ordering::SeqCst) {
                    // Abandoned: the caller may have merged the parts already.
                    continue;
                }
                write_part(&paths.part(&sweep.points[i].id), &rows)?;
                finished(i);
            }
            Ok(())
        });
        // Err(()): the writer failed (its error is returned below).
        let computed = indices.par_iter().try_for_each_with(tx, |tx, &i| {
            let p = &sweep.points[i];
            if resume && paths.part(&p.id).exists() {
                finished(i);
                return Ok(());
            }
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            let rows = run_point(sweep, p);
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            tx.send((i, rows)).map_err(|_| ())
        });
        let written = writer.join().expect("the part writer does not panic");
        written.map(|()| debug_assert!(computed.is_ok()))
    })?;
    Ok(done.load(Ordering::SeqCst))
}

/// Write one point's rows as its part file (atomically), creating its folder.
fn write_part(part: &Path, rows: &[Row]) -> Result<(), OutputError> {
    let folder = part.parent().expect("part has a folder");
    std::fs::create_dir_all(folder).map_err(|source| OutputError::Io {
        path: folder.to_path_buf(),
        action: "cannot create the part folder",
        source,
    })?;
    write_parquet(part, rows)
}

/// Combine the part files of every point listed in the manifest of `dir`
/// into `sweep.parquet`, in point order. Errors name missing points.
pub fn merge(dir: &Path) -> Result<(usize, PathBuf), MergeError> {
    let m = merge_parts(dir, false)?;
    Ok((m.rows, m.path))
}

/// What [`merge_finished`] wrote.
#[derive(Debug, Clone)]
pub struct Merged {
    /// Rows of sweep.parquet.
    pub rows: usize,
    /// Points in it.
    pub points: usize,
    /// Points of the manifest.
    pub total: usize,
    /// sweep.parquet (not written when no point is finished).
    pub path: PathBuf,
}

impl Merged {
    /// Some points are missing: sweep.parquet says `partial = true`.
    pub fn partial(&self) -> bool {
        self.points < self.total
    }
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
                    .map_err(|e| MergeError::Part(part.clone(), e.to_string()))?,
            ),
            Err(_) => missing.push(index),
        }
    }
    let finished = frames.len();
    if finished == 0 && allow_missing {
        return Ok(Merged {
            rows: 0,
            points: 0,
            total: points.len(),
            path: paths.combined(),
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
    })
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
