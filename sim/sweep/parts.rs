//! A sweep's points on disk: the rows of one point, where its files go
//! (`parts/`, `part-checks/`, the manifest, `sweep.parquet`), writing each
//! finished point with its check sidecar (size, checksum, fingerprint), and
//! on `--resume` which parts can be kept: those whose content matches their
//! sidecar and whose fingerprint matches the point's.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use super::fingerprint::{describe_changes, Fingerprint};
use super::grid::{value_label, Point, Sweep, SweepMode};
use crate::output::OutputError;
use crate::output::{encode_parquet, verify_checked, write_atomically, write_checked, Checked};
use crate::results::table::{cell, Row, Value};
use crate::run::run_scenario;
use crate::sizing::size_scenario;

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
                cell(POINT_ID, Value::Str(p.id.clone())),
                cell("point_seed", Value::U64(p.scenario.seed)),
            ];
            for (k, v) in &p.labels {
                row.push(cell(k.clone(), v.clone()));
            }
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
            .join(format!("{POINT_ID}={id}"))
            .join("part.parquet")
    }
    /// The check sidecar of a point's part (size, checksum, fingerprint):
    /// outside `parts/`, so that readers of the parts never see it.
    pub fn check(&self, id: &str) -> PathBuf {
        self.dir
            .join("part-checks")
            .join(format!("{POINT_ID}={id}.toml"))
    }
    /// Where parts of points no longer in the grid are moved.
    pub fn stale(&self) -> PathBuf {
        self.dir.join("parts-stale")
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
        "# sharesim sweep manifest: {} points of {}\nname = {:?}\nbase_fingerprint = \"{}\"\npoints = [\n",
        sweep.points.len(),
        sweep.name,
        sweep.name,
        sweep.base_fingerprint.hex(),
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

/// Run the points `indices` (skipping those in `finished`, see
/// [`plan_resume`]), writing each as it finishes with its check sidecar;
/// `stop` is checked before each point starts and before a finished point
/// is written (a point finished after Ctrl-C is abandoned: the caller may
/// have merged the parts already). Returns how many points are finished.
pub fn run_points(
    sweep: &Sweep,
    paths: &SweepPaths,
    indices: &[usize],
    finished: &HashSet<usize>,
    stop: &AtomicBool,
    on_done: &(dyn Fn(PointDone) + Sync),
) -> Result<usize, OutputError> {
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = indices.len();
    let report = |i: usize| {
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
                write_part(sweep, paths, &sweep.points[i], &rows)?;
                report(i);
            }
            Ok(())
        });
        // Err(()): the writer failed (its error is returned below).
        let computed = indices.par_iter().try_for_each_with(tx, |tx, &i| {
            if finished.contains(&i) {
                report(i);
                return Ok(());
            }
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            let rows = run_point(sweep, &sweep.points[i]);
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

/// Column of the point id: in sweep.parquet, and the hive key of the part
/// folders (`parts/point_id=<id>/`), which part files therefore do not
/// carry: a reader of `parts/` (pandas, pyarrow datasets, polars, DuckDB)
/// takes it from the folder name, and a column of the same name in the
/// file would clash with it.
pub const POINT_ID: &str = "point_id";

/// Write a point's part (its rows without [`POINT_ID`]), then its check
/// sidecar.
fn write_part(
    sweep: &Sweep,
    paths: &SweepPaths,
    p: &Point,
    rows: &[Row],
) -> Result<(), OutputError> {
    let part = paths.part(&p.id);
    let rows: Vec<Row> = rows
        .iter()
        .map(|r| r.iter().filter(|(n, _)| n != POINT_ID).cloned().collect())
        .collect();
    let bytes = encode_parquet(&part, &rows)?;
    let folder = part.parent().expect("part has a folder");
    std::fs::create_dir_all(folder).map_err(|source| OutputError::Io {
        path: folder.to_path_buf(),
        action: "cannot create the part folder",
        source,
    })?;
    let mut t = toml::Table::new();
    t.insert("point".into(), (p.index as i64).into());
    t.insert(POINT_ID.into(), p.id.clone().into());
    t.insert("fingerprint".into(), p.fingerprint.hex().into());
    t.insert(
        "base_fingerprint".into(),
        sweep.base_fingerprint.hex().into(),
    );
    t.insert(
        "sharesim_version".into(),
        env!("CARGO_PKG_VERSION").to_string().into(),
    );
    t.insert(
        "components".into(),
        toml::Value::Table(p.fingerprint.to_table()),
    );
    let note = toml::to_string(&t).unwrap_or_default();
    write_checked(&part, &paths.check(&p.id), &bytes, &note)
}

/// What `--resume` found among the parts of the points it runs.
#[derive(Debug, Default)]
pub struct ResumePlan {
    /// Points whose part is sound and of this scenario: kept.
    pub finished: HashSet<usize>,
    /// Points whose part was made from another version of the scenario.
    pub changed: Vec<usize>,
    /// What changed, as key paths (or files, or the version).
    pub changed_keys: Vec<String>,
    /// Points whose part is damaged, and why.
    pub damaged: Vec<(usize, String)>,
}

/// Check the parts of `indices` against their sidecars and the points'
/// fingerprints. `previous` is the base table the folder recorded before,
/// when it differed, to name the changed keys.
pub fn plan_resume(
    sweep: &Sweep,
    paths: &SweepPaths,
    indices: &[usize],
    previous: Option<&toml::Table>,
) -> ResumePlan {
    let plan = Mutex::new(ResumePlan::default());
    let names = Mutex::new(BTreeSet::new());
    indices.par_iter().for_each(|&i| {
        let p = &sweep.points[i];
        match verify_checked(&paths.part(&p.id), &paths.check(&p.id)) {
            Checked::Missing => {}
            Checked::Unchecked => plan
                .lock()
                .expect("not poisoned")
                .damaged
                .push((i, "it has no check file (its writer was stopped)".into())),
            Checked::Damaged(why) => plan.lock().expect("not poisoned").damaged.push((i, why)),
            Checked::Good(t) => {
                if t.get("fingerprint").and_then(|v| v.as_str()) == Some(&p.fingerprint.hex()) {
                    plan.lock().expect("not poisoned").finished.insert(i);
                    return;
                }
                let old = t
                    .get("components")
                    .and_then(|c| c.as_table())
                    .and_then(Fingerprint::from_table)
                    .unwrap_or_default();
                names
                    .lock()
                    .expect("not poisoned")
                    .extend(p.fingerprint.changed_since(&old));
                plan.lock().expect("not poisoned").changed.push(i);
            }
        }
    });
    let mut plan = plan.into_inner().expect("not poisoned");
    plan.changed.sort_unstable();
    plan.damaged.sort();
    let names: Vec<String> = names
        .into_inner()
        .expect("not poisoned")
        .into_iter()
        .collect();
    plan.changed_keys = describe_changes(&names, previous, &sweep.base_table);
    plan
}

/// Move the parts (and check sidecars) of points not in `sweep`'s grid
/// from `parts/` to `parts-stale/`, so that readers of `parts/` never mix
/// them in. Returns the folders moved.
pub fn move_stale_parts(
    paths: &SweepPaths,
    ids: &HashSet<String>,
) -> Result<Vec<PathBuf>, OutputError> {
    let parts = paths.dir.join("parts");
    let Ok(entries) = std::fs::read_dir(&parts) else {
        return Ok(Vec::new());
    };
    let io = |path: PathBuf| {
        move |source| OutputError::Io {
            path,
            action: "cannot move a part of a point no longer in the grid to parts-stale",
            source,
        }
    };
    let mut moved = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(id) = name
            .strip_prefix(POINT_ID)
            .and_then(|n| n.strip_prefix('='))
        else {
            continue;
        };
        if ids.contains(id) || !e.path().is_dir() {
            continue;
        }
        let to = paths.stale().join(&name);
        std::fs::create_dir_all(paths.stale()).map_err(io(paths.stale()))?;
        if to.exists() {
            std::fs::remove_dir_all(&to).map_err(io(to.clone()))?;
        }
        std::fs::rename(e.path(), &to).map_err(io(e.path()))?;
        let check = paths.check(id);
        if check.exists() {
            std::fs::rename(&check, to.join("check.toml")).map_err(io(check))?;
        }
        moved.push(to);
    }
    moved.sort();
    Ok(moved)
}
