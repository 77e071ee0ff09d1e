//! Sweeps: results bit-identical for 1 and 2 threads and for three shards
//! merged; --resume finishes an interrupted sweep without duplicating a
//! point; adding an axis value leaves the other points unchanged.

use std::path::Path;

use polars::prelude::DataFrame;

use crate::support::scenarios::local_and_pool;
use crate::support::{assert_success, read_parquet, sharesim, sharesim_on, write, SHARD_ENV};

const SWEEP: &str = concat!(
    r#"
name = "sw"
seed = 9
horizon_s = 5000
warmup_s = 200
replications = 3
[users]
count = 200
duty_cycle = 0.02
[service]
distribution = "exponential"
mean_s = 2.0
"#,
    local_and_pool!(),
    r#"servers = 2
[service_level]
wait_p99_s = 3.0
[sizing]
min_measured_requests = 2000
[sweep]
mode = "size"
axes = [
  { key = "users.duty_cycle", values = [0.01, 0.05, 0.2] },
  { key = "users.count", log_range = [10, 1000, 3] },
]
"#
);

fn sweep(scenario: &Path, out: &Path, extra: &[&str]) {
    let o = sharesim()
        .args(["sweep", scenario.to_str().unwrap(), "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert_success(&o);
}

#[test]
fn identical_for_threads_and_shards() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "sw.toml", SWEEP);
    sweep(&scen, &dir.path().join("t1"), &["--threads", "1"]);
    sweep(&scen, &dir.path().join("t2"), &["--threads", "2"]);
    for i in 1..=3 {
        sweep(
            &scen,
            &dir.path().join("sh"),
            &["--shard", &format!("{i}/3")],
        );
    }
    // The last shard merged already (all parts present); merge again explicitly.
    sharesim()
        .arg("merge")
        .arg(dir.path().join("sh/sw"))
        .assert()
        .success();
    let a = std::fs::read(dir.path().join("t1/sw/sweep.parquet")).unwrap();
    let b = std::fs::read(dir.path().join("t2/sw/sweep.parquet")).unwrap();
    let c = std::fs::read(dir.path().join("sh/sw/sweep.parquet")).unwrap();
    assert_eq!(a, b, "1 vs 2 threads");
    assert_eq!(a, c, "one run vs three shards");
    let df = read_parquet(&dir.path().join("t1/sw/sweep.parquet"));
    assert_eq!(df.height(), 9 * 2, "9 points x 2 placements");
    let points = df.column("point").unwrap().u64().unwrap();
    let mut last = 0;
    for p in points.iter().flatten() {
        assert!(p >= last, "rows in point order");
        last = p;
    }
    for c in [
        "sweep_users_duty_cycle",
        "sweep_users_count",
        "point_id",
        "feasible",
        "sharing_factor_devices",
    ] {
        assert!(df.column(c).is_ok(), "column {c}");
    }
}

#[test]
fn merge_reports_missing_points() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "sw.toml", SWEEP);
    sweep(&scen, dir.path(), &["--shard", "1/3"]);
    let o = sharesim()
        .arg("merge")
        .arg(dir.path().join("sw"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("3 of 9 points") && err.contains("--resume"),
        "{err}"
    );
    assert!(!dir.path().join("sw/sweep.parquet").exists());
}

#[test]
fn resume_runs_only_missing_points() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "sw.toml", SWEEP);
    sweep(&scen, dir.path(), &[]);
    let full = std::fs::read(dir.path().join("sw/sweep.parquet")).unwrap();
    // Lose two points and the combined file, as after a crash.
    let parts = dir.path().join("sw/parts");
    let mut removed = 0;
    let mut kept_mtime = None;
    for (i, e) in std::fs::read_dir(&parts).unwrap().enumerate() {
        let e = e.unwrap().path();
        if i < 2 {
            std::fs::remove_dir_all(&e).unwrap();
            removed += 1;
        } else if kept_mtime.is_none() {
            kept_mtime = Some((
                e.join("part.parquet"),
                std::fs::metadata(e.join("part.parquet"))
                    .unwrap()
                    .modified()
                    .unwrap(),
            ));
        }
    }
    assert_eq!(removed, 2);
    std::fs::remove_file(dir.path().join("sw/sweep.parquet")).unwrap();
    sweep(&scen, dir.path(), &["--resume"]);
    assert_eq!(
        std::fs::read(dir.path().join("sw/sweep.parquet")).unwrap(),
        full
    );
    let (p, t) = kept_mtime.unwrap();
    assert_eq!(
        std::fs::metadata(p).unwrap().modified().unwrap(),
        t,
        "a finished point was not redone"
    );
    assert_eq!(
        std::fs::read_dir(&parts).unwrap().count(),
        9,
        "no point duplicated"
    );
}

#[test]
fn adding_an_axis_value_keeps_other_points() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "sw.toml", SWEEP);
    sweep(&scen, &dir.path().join("a"), &[]);
    let more = SWEEP.replace(
        "values = [0.01, 0.05, 0.2]",
        "values = [0.01, 0.03, 0.05, 0.2]",
    );
    let scen2 = write(dir.path(), "sw.toml", &more);
    sweep(&scen2, &dir.path().join("b"), &[]);
    let a = read_parquet(&dir.path().join("a/sw/sweep.parquet"));
    let b = read_parquet(&dir.path().join("b/sw/sweep.parquet"));
    // Every row of a (by point id and placement) appears unchanged in b,
    // ignoring the grid position.
    let drop = |df: &DataFrame| df.drop("point").unwrap();
    let (a, b) = (drop(&a), drop(&b));
    let ids_b = b.column("point_id").unwrap().str().unwrap().clone();
    for i in 0..a.height() {
        let id = a.column("point_id").unwrap().str().unwrap().get(i).unwrap();
        let place = a
            .column("placement")
            .unwrap()
            .str()
            .unwrap()
            .get(i)
            .unwrap();
        let j = (0..b.height())
            .find(|&j| {
                ids_b.get(j) == Some(id)
                    && b.column("placement").unwrap().str().unwrap().get(j) == Some(place)
            })
            .expect("point kept");
        assert!(
            a.slice(i as i64, 1).equals_missing(&b.slice(j as i64, 1)),
            "point {id} {place} changed"
        );
    }
}

#[test]
fn bad_axis_is_refused_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(
        dir.path(),
        "sw.toml",
        SWEEP.replace("users.count", "users.cuont"),
    );
    let o = sharesim_on("sweep", &scen, dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cuont"), "{err}");
    assert!(!dir.path().join("sw/parts").exists());
}

/// The point ids of the parts a sweep wrote into `dir` (its scenario's
/// output folder).
fn part_ids(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("parts")) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs one task of a cluster array: `sweep` with the scheduler's variables
/// `env` (and no others), into its own folder; returns the points it ran.
fn array_task(scen: &Path, out: &Path, env: &[(&str, String)]) -> Vec<String> {
    let mut c = sharesim();
    c.args([
        "sweep",
        scen.to_str().unwrap(),
        "--quiet",
        "--no-charts",
        "--out",
    ])
    .arg(out);
    for k in SHARD_ENV {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert_success(&o);
    part_ids(&out.join("sw"))
}

/// `sweep --points` gives the array size, and an array of that many tasks
/// (or fewer) runs every point exactly once whether its task ids start at 0
/// (`--array=0-8`, Kubernetes' JOB_COMPLETION_INDEX) or at 1
/// (`--array=1-9`): each task writes into a folder of its own, so a point
/// run twice would show in two folders.
#[test]
fn array_task_ids_from_0_or_1_cover_every_point_once() {
    let dir = tempfile::tempdir().unwrap();
    // Which task runs which point does not depend on the mode: `run` is
    // quicker than `size`.
    let quick = SWEEP.replace("mode = \"size\"", "mode = \"run\"");
    assert_ne!(quick, SWEEP);
    let scen = write(dir.path(), "sw.toml", quick);
    let o = sharesim()
        .args(["sweep", "--points"])
        .arg(&scen)
        .output()
        .unwrap();
    assert_success(&o);
    let points: usize = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    assert_eq!(points, 9, "3 duty cycles x 3 user counts");
    sweep(&scen, &dir.path().join("all"), &["--no-charts"]);
    let mut every = part_ids(&dir.path().join("all/sw"));
    every.sort();
    assert_eq!(every.len(), points);
    // (scheduler, tasks, first task id): one task per point as the README
    // submits it, and fewer tasks than points.
    let layouts = [
        ("slurm", points, 0),
        ("slurm", points, 1),
        ("slurm", 4, 1),
        ("kubernetes", 4, 0),
    ];
    for (scheduler, tasks, first) in layouts {
        let mut seen = Vec::new();
        for id in first..first + tasks {
            let env: Vec<(&str, String)> = if scheduler == "slurm" {
                vec![
                    ("SLURM_ARRAY_TASK_ID", id.to_string()),
                    ("SLURM_ARRAY_TASK_COUNT", tasks.to_string()),
                    ("SLURM_ARRAY_TASK_MIN", first.to_string()),
                    ("SLURM_ARRAY_TASK_MAX", (first + tasks - 1).to_string()),
                ]
            } else {
                vec![
                    ("JOB_COMPLETION_INDEX", id.to_string()),
                    ("SHARESIM_SHARD_COUNT", tasks.to_string()),
                ]
            };
            let out = dir.path().join(format!("{scheduler}-{tasks}-{first}-{id}"));
            let ran = array_task(&scen, &out, &env);
            assert!(
                !ran.is_empty() && ran.len() <= points.div_ceil(tasks),
                "{scheduler} task {id} of {first}..{}: ran {ran:?}",
                first + tasks - 1
            );
            seen.extend(ran);
        }
        seen.sort();
        assert_eq!(
            seen, every,
            "{scheduler}, {tasks} tasks numbered from {first}: every point once"
        );
    }
}
