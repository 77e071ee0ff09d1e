//! The grid of a sweep: the `[sweep]` table read and checked, its axes
//! expanded into points (the base table with each point's keys set, by
//! the key paths the error messages use), every point validated as a
//! scenario and given its stable id, seed and fingerprint.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::fingerprint::{FileHashes, Fingerprint};
use crate::core::rng::{derive_seed, fnv1a};
use crate::scenario::Scenario;
use crate::scenario::ScenarioError;

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
    /// Everything that determines its rows (its scenario table, the files
    /// it names, what it runs, the crate version).
    pub fingerprint: Fingerprint,
    /// Text columns written before the axis columns: what a point of a
    /// design is (`uncertainty_run`, `uncertainty_input`); empty for a grid.
    pub labels: Vec<(String, crate::results::Value)>,
}

/// One point of a design given point by point (the samples and swings of
/// `sharesim uncertainty`): a value per key of the design, and its labels.
#[derive(Debug, Clone)]
pub struct DesignPoint {
    /// One value per key, in the design's key order.
    pub values: Vec<toml::Value>,
    /// Text columns of its rows; also part of its id, so that two points
    /// with the same values (a range collapsed to one value) stay apart.
    pub labels: Vec<(String, crate::results::Value)>,
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
    /// The scenario file.
    pub source: PathBuf,
    /// The base scenario table (without `[sweep]`).
    pub base_table: toml::Table,
    /// The base scenario's fingerprint (see [`Fingerprint`]).
    pub base_fingerprint: Fingerprint,
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

pub(super) fn value_label(v: &toml::Value) -> String {
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
        let text = crate::scenario::read_scenario_text(path)?;
        Self::from_text(&text, path)
    }

    /// A sweep from the text of a scenario file (e.g. with keys set on the
    /// command line); `path` names it in errors and anchors relative file
    /// references.
    pub fn from_text(text: &str, path: &Path) -> Result<Sweep, ScenarioError> {
        // Validate the base file as a whole first (unknown keys, types).
        let base = Scenario::from_toml_str(text, path)?;
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| err(path, ".", e.to_string()))?;
        let spec = match table.remove("sweep") {
            Some(toml::Value::Table(t)) => t,
            _ => return Err(err(path, "sweep", "missing: add a [sweep] table with `axes = [{ key = \"users.duty_cycle\", values = [...] }]`")),
        };
        let (mode, zip, axes) = sweep_spec(path, &spec, &base)?;
        let combos = grid(path, &axes, zip)?;
        let files = FileHashes::default();
        let grid = Grid {
            path,
            table: &table,
            base: &base,
            axes: &axes,
            mode,
            files: &files,
            keep_seed: false,
        };
        // Resolved in parallel, but the error reported is the first point's
        // in grid order, whichever thread found one first.
        let points = combos
            .into_par_iter()
            .enumerate()
            .map(|(index, combo)| {
                let values = combo
                    .iter()
                    .zip(&axes)
                    .map(|(j, (_, vals))| vals[*j].clone())
                    .collect();
                sweep_point(&grid, index, values, Vec::new())
            })
            .collect::<Vec<Result<Point, ScenarioError>>>()
            .into_iter()
            .collect::<Result<Vec<Point>, ScenarioError>>()?;
        let base_fingerprint = Fingerprint::of_table(&table, base_dir(path), &files);
        Ok(Sweep {
            name: base.name,
            mode,
            keys: axes.into_iter().map(|a| a.0).collect(),
            points,
            source: path.to_path_buf(),
            base_table: table,
            base_fingerprint,
        })
    }

    /// A sweep of `size` at the points of a design given point by point
    /// (`sharesim uncertainty`): `table` is the base scenario table with
    /// its `[uncertainty]` table removed (the folder's record),
    /// `point_table` the same with any empty sections the design's keys
    /// need (the points are made from it), `base` that scenario resolved,
    /// `keys` the design's keys; every point keeps the base scenario's
    /// seed, so that points differ only in their values (common random
    /// numbers) and a point at the base values is the plain `size`.
    pub fn from_design(
        path: &Path,
        table: toml::Table,
        point_table: toml::Table,
        base: &Scenario,
        keys: Vec<String>,
        design: Vec<DesignPoint>,
    ) -> Result<Sweep, ScenarioError> {
        let axes: Vec<Axis> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        let files = FileHashes::default();
        let grid = Grid {
            path,
            table: &point_table,
            base,
            axes: &axes,
            mode: SweepMode::Size,
            files: &files,
            keep_seed: true,
        };
        let points = design
            .into_par_iter()
            .enumerate()
            .map(|(index, d)| sweep_point(&grid, index, d.values, d.labels))
            .collect::<Vec<Result<Point, ScenarioError>>>()
            .into_iter()
            .collect::<Result<Vec<Point>, ScenarioError>>()?;
        let base_fingerprint = Fingerprint::of_table(&table, base_dir(path), &files);
        Ok(Sweep {
            name: base.name.clone(),
            mode: SweepMode::Size,
            keys,
            points,
            source: path.to_path_buf(),
            base_table: table,
            base_fingerprint,
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
    if mode == SweepMode::Size && base.benchmark.is_some() {
        return Err(err(
            path,
            "sweep.mode",
            "a benchmark scenario is run, not sized: use mode = \"run\"",
        ));
    }
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

/// The folder file references are relative to.
pub(super) fn base_dir(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

/// What every point of a grid is made from.
struct Grid<'a> {
    path: &'a Path,
    table: &'a toml::Table,
    base: &'a Scenario,
    axes: &'a [Axis],
    mode: SweepMode,
    files: &'a FileHashes,
    /// Points run with the base scenario's seed (common random numbers
    /// across a design) instead of one derived from their id.
    keep_seed: bool,
}

/// Point `index` of the grid (value indices `combo`): the base table with
/// the point's values set, validated, with its stable id, seed and
/// fingerprint.
fn sweep_point(
    g: &Grid,
    index: usize,
    values: Vec<toml::Value>,
    labels: Vec<(String, crate::results::Value)>,
) -> Result<Point, ScenarioError> {
    let (path, table, base, axes) = (g.path, g.table, g.base, g.axes);
    let assignments: Vec<(String, toml::Value)> = values
        .into_iter()
        .zip(axes)
        .map(|(v, (k, _))| (k.clone(), v))
        .collect();
    let mut t = table.clone();
    for (k, v) in &assignments {
        set_path(&mut t, k, v.clone())
            .map_err(|m| err(path, k.clone(), format!("point {index}: {m}")))?;
    }
    let mut canon: String = assignments
        .iter()
        .map(|(k, v)| format!("{k}={v};"))
        .collect();
    for (k, v) in &labels {
        canon.push_str(&format!("#{k}={};", v.display()));
    }
    let h = fnv1a(canon.as_bytes());
    let mut fingerprint = Fingerprint::of_table(&t, base_dir(path), g.files)
        .with("sweep.mode", &format!("{:?}", g.mode));
    if g.keep_seed {
        fingerprint = fingerprint.with("sweep.seed", "the scenario's");
    }
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
    scenario.seed = if g.keep_seed {
        base.seed
    } else {
        derive_seed(&[base.seed, h])
    };
    scenario.name = base.name.clone();
    Ok(Point {
        index,
        id: format!("{h:016x}"),
        assignments,
        scenario,
        fingerprint,
        labels,
    })
}
