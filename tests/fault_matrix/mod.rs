//! The fault matrix of sweeps and output folders, one test per row: each
//! fault ends either in the correct result (sweep.parquet equal to an
//! uninterrupted run of the unedited, or the edited, scenario in a fresh
//! folder) or in a refusal with exit 2 naming its cause. Rows: edit +
//! `--resume`; SIGKILL + edit + resume; two concurrent sweeps of different
//! scenarios (same name) into one folder; a second writer of the same
//! scenario; two shards into one folder; shards of different scenarios
//! merged; a truncated or altered part + resume; points dropped from the grid.
//! The rows of signals, memory and a full disk are in [`signals`].

mod signals;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::scenarios::local_and_pool;
use crate::support::{assert_success, read_parquet, write, BIN};

/// A sweep of six sub-second points whose pooled placement has `servers`.
fn scenario(servers: u64) -> String {
    format!(
        concat!(
            r#"
name = "fm"
seed = 5
horizon_s = 2000
warmup_s = 100
replications = 2
[users]
count = 200
duty_cycle = 0.02
[service]
distribution = "exponential"
mean_s = 2.0
"#,
            local_and_pool!(),
            r#"servers = {}
[sweep]
mode = "run"
axes = [
  {{ key = "users.duty_cycle", values = [0.01, 0.02, 0.05] }},
  {{ key = "users.count", values = [100, 200] }},
]
"#
        ),
        servers
    )
}

fn command(scen: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("sweep")
        .arg(scen)
        .args(["--quiet", "--no-charts", "--out"])
        .arg(out)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn sweep(scen: &Path, out: &Path, extra: &[&str]) -> Output {
    command(scen, out, extra).output().unwrap()
}

fn spawn(scen: &Path, out: &Path, extra: &[&str]) -> Child {
    command(scen, out, extra).spawn().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// sweep.parquet of `servers`' scenario run uninterrupted in a fresh folder.
fn reference(dir: &Path, servers: u64) -> PathBuf {
    let folder = dir.join(format!("ref-{servers}"));
    std::fs::create_dir_all(&folder).unwrap();
    let scen = write(&folder, "fm.toml", scenario(servers));
    assert_success(&sweep(&scen, &folder.join("out"), &[]));
    folder.join("out/fm/sweep.parquet")
}

/// The combined results are those of the reference: equal values, and
/// (since results are bit-identical) equal bytes.
#[track_caller]
fn assert_same_results(got: &Path, want: &Path) {
    assert!(
        read_parquet(got).equals_missing(&read_parquet(want)),
        "{} differs from {}",
        got.display(),
        want.display()
    );
    assert_eq!(std::fs::read(got).unwrap(), std::fs::read(want).unwrap());
}

/// The pooled placement's `servers` column, to tell the versions apart.
fn servers_in(p: &Path) -> Vec<Option<f64>> {
    let df = read_parquet(p);
    let pool: Vec<bool> = df
        .column("placement")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s == Some("pool"))
        .collect();
    crate::support::f64_column(&df, "servers")
        .into_iter()
        .zip(pool)
        .filter_map(|(v, p)| p.then_some(v))
        .collect()
}

#[track_caller]
fn assert_refused(o: &Output, causes: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for c in causes {
        assert!(err.contains(c), "{c:?} not in: {err}");
    }
}

#[test]
fn edit_then_resume_recomputes_the_changed_points() {
    let dir = tempfile::tempdir().unwrap();
    let edited = reference(dir.path(), 20);
    let scen = write(dir.path(), "fm.toml", scenario(200));
    let out = dir.path().join("out");
    assert_success(&sweep(&scen, &out, &[]));
    assert!(servers_in(&out.join("fm/sweep.parquet"))
        .iter()
        .all(|s| *s == Some(200.0)));
    write(dir.path(), "fm.toml", scenario(20));
    // Without --resume: refused, naming both fingerprints and a way out.
    let o = sweep(&scen, &out, &[]);
    assert_refused(
        &o,
        &["holds the results of another scenario", "another --out"],
    );
    // With --resume: every point redone, naming the key that changed.
    let o = sweep(&scen, &out, &["--resume"]);
    assert_success(&o);
    let err = stderr(&o);
    assert!(
        err.contains("6 points redone") && err.contains("placements[1].servers"),
        "{err}"
    );
    assert_same_results(&out.join("fm/sweep.parquet"), &edited);
    // And resuming again keeps every point.
    let o = sweep(&scen, &out, &["--resume"]);
    assert_success(&o);
    assert!(
        stderr(&o).contains("6 finished points kept"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn kill_then_edit_then_resume_never_mixes_versions() {
    let dir = tempfile::tempdir().unwrap();
    let edited = reference(dir.path(), 20);
    let scen = write(dir.path(), "fm.toml", scenario(200));
    let out = dir.path().join("out");
    let started = Instant::now();
    let mut child = spawn(&scen, &out, &["--threads", "1"]);
    // Kill once the first part is written (or when the sweep ends first).
    let first_check = out.join("fm/part-checks");
    while child.try_wait().unwrap().is_none()
        && started.elapsed() < Duration::from_secs(60)
        && std::fs::read_dir(&first_check).map_or(0, |d| d.count()) < 2
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    write(dir.path(), "fm.toml", scenario(20));
    let o = sweep(&scen, &out, &["--resume"]);
    assert_success(&o);
    let got = out.join("fm/sweep.parquet");
    assert!(servers_in(&got).iter().all(|s| *s == Some(20.0)));
    assert_same_results(&got, &edited);
}

#[test]
fn concurrent_sweeps_of_different_scenarios_into_one_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (ref200, ref20) = (reference(dir.path(), 200), reference(dir.path(), 20));
    let a = write(dir.path(), "a.toml", scenario(200));
    let b = write(dir.path(), "b.toml", scenario(20));
    let out = dir.path().join("out");
    let (ca, cb) = (spawn(&a, &out, &[]), spawn(&b, &out, &[]));
    let (oa, ob) = (
        ca.wait_with_output().unwrap(),
        cb.wait_with_output().unwrap(),
    );
    // Exactly one writes; the other is refused, naming why.
    let ok: Vec<bool> = [&oa, &ob].iter().map(|o| o.status.success()).collect();
    assert_eq!(
        ok.iter().filter(|s| **s).count(),
        1,
        "{}\n{}",
        stderr(&oa),
        stderr(&ob)
    );
    let (winner, loser, want) = if ok[0] {
        (&oa, &ob, &ref200)
    } else {
        (&ob, &oa, &ref20)
    };
    assert_success(winner);
    let err = stderr(loser);
    assert_eq!(loser.status.code(), Some(2), "{err}");
    assert!(
        err.contains("holds the results of another scenario")
            || err.contains("another sharesim (process"),
        "{err}"
    );
    assert_same_results(&out.join("fm/sweep.parquet"), want);
}

#[test]
fn a_second_writer_of_the_same_scenario_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "fm.toml", scenario(200));
    let out = dir.path().join("out");
    assert_success(&sweep(&scen, &out, &[]));
    // Another process holds the folder's lock (here: this test).
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(out.join("fm/sharesim.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    std::fs::write(out.join("fm/sharesim.lock"), "4242\n").unwrap();
    let o = sweep(&scen, &out, &["--resume"]);
    assert_refused(&o, &["another sharesim (process 4242)"]);
    // A lock of a process that ended is taken over.
    drop(lock);
    assert_success(&sweep(&scen, &out, &["--resume"]));
}

#[test]
fn two_shards_into_one_folder_equal_one_machine() {
    let dir = tempfile::tempdir().unwrap();
    let want = reference(dir.path(), 200);
    let scen = write(dir.path(), "fm.toml", scenario(200));
    let out = dir.path().join("out");
    let (c1, c2) = (
        spawn(&scen, &out, &["--shard", "1/2"]),
        spawn(&scen, &out, &["--shard", "2/2"]),
    );
    assert_success(&c1.wait_with_output().unwrap());
    assert_success(&c2.wait_with_output().unwrap());
    let o = Command::new(BIN)
        .arg("merge")
        .arg(out.join("fm"))
        .output()
        .unwrap();
    assert_success(&o);
    assert_same_results(&out.join("fm/sweep.parquet"), &want);
}

#[test]
fn shards_of_different_scenarios_are_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "fm.toml", scenario(200));
    let out = dir.path().join("out");
    assert_success(&sweep(&scen, &out, &["--shard", "1/2"]));
    // The second shard of an edited scenario: refused, unless told to
    // continue the folder (--resume), when merge refuses the mix.
    write(dir.path(), "fm.toml", scenario(20));
    assert_refused(
        &sweep(&scen, &out, &["--shard", "2/2"]),
        &["holds the results of another scenario"],
    );
    // That shard merges at its end (every point has a part): refused.
    assert_refused(
        &sweep(&scen, &out, &["--shard", "2/2", "--resume"]),
        &["parts of different scenarios", "base fingerprint"],
    );
    let o = Command::new(BIN)
        .arg("merge")
        .arg(out.join("fm"))
        .output()
        .unwrap();
    assert_refused(&o, &["parts of different scenarios", "base fingerprint"]);
    assert!(!out.join("fm/sweep.parquet").exists());
    // As the message says, --resume recomputes the other scenario's points.
    let o = sweep(&scen, &out, &["--resume"]);
    assert_success(&o);
    assert!(stderr(&o).contains("3 points redone"), "{}", stderr(&o));
    assert_same_results(&out.join("fm/sweep.parquet"), &reference(dir.path(), 20));
}

#[test]
fn truncated_or_altered_part_is_recomputed_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "fm.toml", scenario(200));
    let out = dir.path().join("out");
    assert_success(&sweep(&scen, &out, &[]));
    let want = dir.path().join("want.parquet");
    std::fs::copy(out.join("fm/sweep.parquet"), &want).unwrap();
    let mut parts: Vec<PathBuf> = std::fs::read_dir(out.join("fm/parts"))
        .unwrap()
        .map(|e| e.unwrap().path().join("part.parquet"))
        .collect();
    parts.sort();
    // One truncated, one of the same size with a byte changed.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&parts[0])
        .unwrap();
    f.set_len(f.metadata().unwrap().len() / 2).unwrap();
    let mut bytes = std::fs::read(&parts[1]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&parts[1], bytes).unwrap();
    std::fs::remove_file(out.join("fm/sweep.parquet")).unwrap();
    let o = sweep(&scen, &out, &["--resume"]);
    assert_success(&o);
    let err = stderr(&o);
    assert!(
        err.contains("2 damaged parts recomputed") && err.contains("4 finished points kept"),
        "{err}"
    );
    assert_same_results(&out.join("fm/sweep.parquet"), &want);
}

#[test]
fn points_dropped_from_the_grid_move_to_parts_stale() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "fm.toml", scenario(200));
    let out = dir.path().join("out");
    assert_success(&sweep(&scen, &out, &[]));
    // Drop users.count = 200 from the grid: three points leave it.
    let fewer = scenario(200).replace("values = [100, 200]", "values = [100]");
    write(dir.path(), "fm.toml", fewer);
    let o = sweep(&scen, &out, &["--resume"]);
    assert_success(&o);
    let err = stderr(&o);
    assert!(
        err.contains("moved 3 parts of points no longer in the grid")
            && err.contains("3 finished points kept"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(out.join("fm/parts")).unwrap().count(), 3);
    assert_eq!(
        std::fs::read_dir(out.join("fm/parts-stale"))
            .unwrap()
            .count(),
        3
    );
    assert_eq!(read_parquet(&out.join("fm/sweep.parquet")).height(), 6);
}
