//! Crash safety: `sharesim sweep` and `sharesim run` killed with SIGKILL at
//! several moments leave only complete, readable Parquet files (temporary
//! files may remain, under names that start with `.` and contain `.tmp-`);
//! `sweep --resume` then finishes with a `sweep.parquet` byte-identical to
//! an uninterrupted run's; a killed `run` leaves the previous complete
//! `results.parquet` untouched.
//!
//! `std::process::Child::kill` sends SIGKILL on Unix: no handler runs, so
//! this is what a crash, an OOM kill or a pulled plug looks like to the
//! files (minus the page cache, which a process kill does not lose).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::scenarios::local_and_pool;
use crate::support::{assert_success, files_under, try_read_parquet, write, BIN};

/// 12 points (4 user counts x 3 fleet sizes), a few seconds in all.
const SWEEP: &str = concat!(
    r#"
name = "crash"
seed = 4
horizon_s = 4000
warmup_s = 100
replications = 2
[users]
count = 500
duty_cycle = 0.2
[service]
distribution = "exponential"
mean_s = 0.5
"#,
    local_and_pool!(),
    r#"servers = 120
dispatch = "join_shortest_queue"
[service_level]
wait_p99_s = 1.0
[sweep]
mode = "run"
axes = [
  { key = "users.count", values = [400, 450, 500, 550] },
  { key = "placements[1].servers", values = [120, 130, 140] },
]
"#
);

/// One `run` of a few seconds (no sweep table).
const RUN: &str = concat!(
    r#"
name = "big"
seed = 1
horizon_s = 12000
warmup_s = 200
replications = 6
[users]
count = 2000
duty_cycle = 0.1
[service]
distribution = "lognormal"
mean_s = 1.0
cv = 1.5
"#,
    local_and_pool!(),
    r#"servers = 230
dispatch = "power_of_two_choices"
[[placements]]
name = "central"
kind = "pooled"
servers = 230
"#
);

fn spawn(args: &[&str], scenario: &Path, out: &Path) -> Child {
    Command::new(BIN)
        .args(args)
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn run_to_end(args: &[&str], scenario: &Path, out: &Path) -> Duration {
    let started = Instant::now();
    let o = spawn(args, scenario, out).wait_with_output().unwrap();
    assert_success(&o);
    started.elapsed()
}

/// Kill `child` after `after` (SIGKILL), or let it be if it finished first.
/// Returns whether it was still running when killed.
fn kill_after(mut child: Child, after: Duration) -> bool {
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    running
}

/// Every file under `dir` is a temporary file (name starting with `.`), a
/// readable manifest, the folder's lock or record, a complete part check
/// sidecar (identical to the uninterrupted run's), or a complete Parquet file: readable, with rows, and
/// byte-identical to the file at the same place under `reference` when that
/// exists. Returns the number of Parquet files.
fn assert_only_complete_files(dir: &Path, reference: &Path, when: &str) -> usize {
    let mut parquet = 0;
    for f in files_under(dir) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let rel = f.strip_prefix(dir).unwrap();
        if name.starts_with('.') {
            // A temporary file (`.<name>.tmp-<pid>`)
            // of `write_atomically` for tables and charts, or the write probe of
            // `prepare_output_dir` (`.sharesim-write-test-<pid>`): left by the
            // kill, never mistaken for a result since it is hidden and does
            // not end in `.parquet`.
            assert!(
                name.contains(".tmp") || name.starts_with(".sharesim-write-test-"),
                "{when}: unexpected hidden file {}",
                f.display()
            );
            assert!(!name.ends_with(".parquet"), "{when}: {}", f.display());
            continue;
        }
        if name.ends_with(".png") {
            // A chart: complete means the PNG signature and the IEND chunk.
            let bytes = std::fs::read(&f).unwrap();
            assert!(
                bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.ends_with(b"IEND\xae\x42\x60\x82"),
                "{when}: {} is not a complete PNG",
                f.display()
            );
            continue;
        }
        if name == "sharesim.lock" {
            // The folder's lock: the process id of its last holder (or
            // empty, killed between creating and writing it).
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(
                text.trim().is_empty() || text.trim().parse::<u32>().is_ok(),
                "{when}: lock file holds {text:?}"
            );
            continue;
        }
        if name == "fingerprint.toml" || rel.starts_with("part-checks") {
            // The folder's record, or a part's check sidecar: complete TOML
            // (written atomically), with its fingerprint.
            let text = std::fs::read_to_string(&f).unwrap();
            let t: toml::Table = text
                .parse()
                .unwrap_or_else(|e| panic!("{when}: half-written {}: {e}", rel.display()));
            assert!(t.contains_key("fingerprint"), "{when}: {}", rel.display());
            let twin = reference.join(rel);
            if rel.starts_with("part-checks") && twin.exists() {
                assert_eq!(
                    text,
                    std::fs::read_to_string(&twin).unwrap(),
                    "{when}: {} differs from the uninterrupted run's",
                    rel.display()
                );
            }
            continue;
        }
        if name == "sweep-manifest.toml" {
            let text = std::fs::read_to_string(&f).unwrap();
            let t: toml::Table = text
                .parse()
                .unwrap_or_else(|e| panic!("{when}: half-written manifest: {e}"));
            assert!(t.contains_key("points"), "{when}: manifest without points");
            continue;
        }
        assert!(
            name.ends_with(".parquet"),
            "{when}: unexpected file {}",
            f.display()
        );
        let df = try_read_parquet(&f)
            .unwrap_or_else(|e| panic!("{when}: {} does not read: {e}", f.display()));
        assert!(df.height() > 0, "{when}: {} has no rows", f.display());
        let twin = reference.join(rel);
        if twin.exists() {
            assert_eq!(
                std::fs::read(&f).unwrap(),
                std::fs::read(&twin).unwrap(),
                "{when}: {} differs from the uninterrupted run's",
                rel.display()
            );
        }
        parquet += 1;
    }
    parquet
}

fn temporary_files(dir: &Path) -> usize {
    files_under(dir)
        .iter()
        .filter(|f| f.file_name().unwrap().to_string_lossy().starts_with('.'))
        .count()
}

#[test]
fn killed_sweep_leaves_complete_parts_and_resumes_identically() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "crash.toml", SWEEP);
    let reference = dir.path().join("reference");
    let took = run_to_end(&["sweep", "--quiet"], &scen, &reference);
    let reference = reference.join("crash");
    let parts = files_under(&reference.join("parts")).len();
    assert_eq!(parts, 12, "one part per point");
    println!("uninterrupted sweep: {:.2} s", took.as_secs_f64());
    let full = std::fs::read(reference.join("sweep.parquet")).unwrap();

    // Kill early (the manifest or the first parts being written), a quarter
    // and half way through: relative to this machine's speed, so that the
    // kills land inside the run however fast it is.
    // The reference run may have been slowed by other load on a shared
    // machine: when a run ends before its kill time, try again at half the
    // delay (a fresh folder each time), so the kill lands inside the run.
    let mut landed = 0;
    for share in [0.08, 0.25, 0.5] {
        let mut ms = ((took.as_secs_f64() * share * 1000.0) as u64).max(50);
        let out = loop {
            let out = dir.path().join(format!("killed-{ms}"));
            let child = spawn(&["sweep", "--quiet"], &scen, &out);
            if kill_after(child, Duration::from_millis(ms)) {
                break Some(out);
            }
            println!("the sweep finished before {ms} ms: retrying earlier");
            if ms <= 40 {
                break None;
            }
            ms /= 2;
        };
        let Some(out) = out else { continue };
        landed += 1;
        let when = format!("after a kill at {ms} ms");
        let n = assert_only_complete_files(&out.join("crash"), &reference, &when);
        println!(
            "{when}: {n} complete Parquet files, {} temporary files",
            temporary_files(&out)
        );
        assert!(
            !out.join("crash/sweep.parquet").exists(),
            "{when}: sweep.parquet written before every point finished"
        );
        // A second kill on top of the first, while resuming.
        let child = spawn(&["sweep", "--quiet", "--resume"], &scen, &out);
        kill_after(child, Duration::from_millis(ms / 2));
        assert_only_complete_files(
            &out.join("crash"),
            &reference,
            &format!("{when} and another"),
        );
        run_to_end(&["sweep", "--quiet", "--resume"], &scen, &out);
        assert_only_complete_files(&out.join("crash"), &reference, &format!("{when}, resumed"));
        assert_eq!(
            std::fs::read(out.join("crash/sweep.parquet")).unwrap(),
            full,
            "{when}: resumed sweep.parquet differs from the uninterrupted run's"
        );
        assert_eq!(
            files_under(&out.join("crash/parts")).len() - temporary_files(&out.join("crash/parts")),
            12
        );
    }
    assert!(landed > 0, "no kill landed inside a sweep");
}

#[test]
fn killed_run_leaves_no_partial_results_and_keeps_the_previous_ones() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "big.toml", RUN);
    // References: the complete results for seeds 1 and 2.
    let ref1 = dir.path().join("ref1");
    let ref2 = dir.path().join("ref2");
    let took = run_to_end(&["run"], &scen, &ref1);
    run_to_end(&["run", "--seed", "2"], &scen, &ref2);
    println!("uninterrupted run: {:.2} s", took.as_secs_f64());
    // Kill times relative to this machine's speed: inside the simulation,
    // before the tables are written at its end.
    let kill_ms: Vec<u64> = [0.05, 0.15, 0.5]
        .iter()
        .map(|share| ((took.as_secs_f64() * share * 1000.0) as u64).max(50))
        .collect();
    let (ref1, ref2) = (ref1.join("big"), ref2.join("big"));
    let tables = [
        "results.parquet",
        "summary.parquet",
        "latency_cdf.parquet",
        "timeline.parquet",
    ];

    // A fresh folder: killed mid-run, no table exists yet (or it is complete).
    // A run that ends before its kill time (a faster moment of a shared
    // machine) still must leave only complete files; at least one kill of
    // each kind must land inside a run.
    let mut landed = 0;
    for &ms in &kill_ms {
        let out = dir.path().join(format!("fresh-{ms}"));
        let killed = kill_after(spawn(&["run"], &scen, &out), Duration::from_millis(ms));
        landed += killed as usize;
        assert_only_complete_files(
            &out.join("big"),
            &ref1,
            &format!("fresh, killed at {ms} ms"),
        );
    }

    // A folder holding complete seed-1 results; a seed-2 run is killed: every
    // table is still the seed-1 file, byte for byte (or, had the kill come
    // after a rename, the complete seed-2 file).
    let out = dir.path().join("previous");
    run_to_end(&["run"], &scen, &out);
    for &ms in &kill_ms {
        let killed = kill_after(
            spawn(&["run", "--seed", "2"], &scen, &out),
            Duration::from_millis(ms),
        );
        landed += killed as usize;
        for t in tables {
            let now = std::fs::read(out.join("big").join(t)).unwrap();
            assert!(
                now == std::fs::read(ref1.join(t)).unwrap()
                    || now == std::fs::read(ref2.join(t)).unwrap(),
                "kill at {ms} ms: {t} is neither the previous nor the new complete file"
            );
            assert!(try_read_parquet(&out.join("big").join(t)).is_ok());
        }
        // The simulation takes most of the time and the tables are written
        // at its end: a kill at most half way leaves the previous results.
        if killed {
            assert_eq!(
                std::fs::read(out.join("big/results.parquet")).unwrap(),
                std::fs::read(ref1.join("results.parquet")).unwrap(),
                "kill at {ms} ms replaced results.parquet"
            );
        }
    }
    assert!(landed > 0, "no kill landed inside a run");
}
