//! The fault matrix, rows of signals, memory and the disk: each row either
//! gives the correct result (the bytes of an uninterrupted run) or is
//! refused with exit 2 and a message naming the cause, printed once. A full
//! disk (a file-size limit, SIGXFSZ ignored) while the parts, sweep.parquet
//! or the charts are written; 1e8 users; Ctrl-C in the middle of a sweep,
//! then `--resume`; `run` of a scenario with a [sweep] table.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{assert_success, files_under, read_parquet, sharesim, write, BIN};

/// Points of a few milliseconds each; parts of ~22 kB, sweep.parquet larger.
const SWEEP: &str = r#"
name = "fs"
seed = 9
horizon_s = 5000
warmup_s = 200
replications = 2
[users]
count = 200
duty_cycle = 0.02
[service]
distribution = "exponential"
mean_s = 2.0
[[placements]]
name = "local"
kind = "dedicated"
[[placements]]
name = "pool"
kind = "pooled"
servers = 4
[sweep]
mode = "run"
axes = [ { key = "users.count", values = [100, 200, 300, 400, 500, 600, 700, 800] } ]
"#;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `sharesim ARGS` with every file limited to `bytes` (SIGXFSZ ignored, so
/// a write past it fails with EFBIG); None where `prlimit` is missing.
fn with_file_size_limit(bytes: u64, args: &[&str]) -> Option<Output> {
    if Command::new("prlimit").arg("--version").output().is_err() {
        println!("prlimit not found: skipped");
        return None;
    }
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; exec prlimit --fsize={bytes} \"$0\" \"$@\""
        ))
        .arg(BIN)
        .args(args)
        .output()
        .unwrap();
    Some(o)
}

/// Exit 2, the needles in the message, the OS error printed once.
fn assert_refused(o: &Output, needles: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr: {err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
    assert_eq!(err.matches("(os error").count(), 1, "OS error once: {err}");
    err
}

/// No temporary file and no write probe is left behind.
fn assert_nothing_left_behind(dir: &Path) {
    for f in files_under(dir) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.starts_with(".sharesim-write-test") && !name.contains(".tmp"),
            "left behind: {}",
            f.display()
        );
    }
}

/// The sweep run uninterrupted into `out`: its sweep.parquet bytes.
fn uninterrupted(scenario: &Path, out: &Path) -> Vec<u8> {
    let o = sharesim()
        .args([
            "sweep",
            scenario.to_str().unwrap(),
            "--quiet",
            "--no-charts",
        ])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert_success(&o);
    std::fs::read(out.join("fs/sweep.parquet")).unwrap()
}

/// Resume the sweep in `out` without the limit: its sweep.parquet bytes.
fn resumed(scenario: &Path, out: &Path) -> Vec<u8> {
    let o = sharesim()
        .args([
            "sweep",
            scenario.to_str().unwrap(),
            "--quiet",
            "--no-charts",
        ])
        .args(["--resume", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert_success(&o);
    std::fs::read(out.join("fs/sweep.parquet")).unwrap()
}

/// Disk full while the parts are written: exit 2 naming a part and the OS
/// error once, nothing half-written; `--resume` then gives the bytes of an
/// uninterrupted sweep.
#[test]
fn full_disk_during_parts() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "fs.toml", SWEEP);
    let out = dir.path().join("out");
    let s = scen.to_str().unwrap();
    let o_dir = out.to_str().unwrap();
    let args = ["sweep", s, "--quiet", "--no-charts", "--out", o_dir];
    let Some(o) = with_file_size_limit(10_000, &args) else {
        return;
    };
    assert_refused(&o, &["part.parquet", "File too large"]);
    assert!(!out.join("fs/sweep.parquet").exists());
    assert_nothing_left_behind(&out);
    let full = uninterrupted(&scen, &dir.path().join("ref"));
    assert_eq!(resumed(&scen, &out), full);
}

/// Disk full while sweep.parquet is written (every part fits): exit 2
/// naming sweep.parquet; `--resume` then finishes it, identical.
#[test]
fn full_disk_during_sweep_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "fs.toml", SWEEP);
    let out = dir.path().join("out");
    let full = uninterrupted(&scen, &dir.path().join("ref"));
    let largest_part = files_under(&dir.path().join("ref/fs/parts"))
        .iter()
        .map(|f| f.metadata().unwrap().len())
        .max()
        .unwrap();
    assert!(
        largest_part < full.len() as u64 - 1000,
        "parts {largest_part}"
    );
    let limit = (largest_part + full.len() as u64) / 2;
    let s = scen.to_str().unwrap();
    let o_dir = out.to_str().unwrap();
    let args = ["sweep", s, "--quiet", "--no-charts", "--out", o_dir];
    let Some(o) = with_file_size_limit(limit, &args) else {
        return;
    };
    assert_refused(&o, &["sweep.parquet", "File too large"]);
    assert!(!out.join("fs/sweep.parquet").exists());
    assert_nothing_left_behind(&out);
    assert_eq!(resumed(&scen, &out), full);
}

/// Disk full while the charts are drawn (every table fits): exit 2 naming
/// the PNG, the tables written and correct, no temporary PNG left.
#[test]
fn full_disk_during_charts() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "fs.toml", SWEEP);
    let out = dir.path().join("out");
    let full = uninterrupted(&scen, &dir.path().join("ref"));
    let s = scen.to_str().unwrap();
    let o_dir = out.to_str().unwrap();
    let Some(o) = with_file_size_limit(60_000, &["sweep", s, "--quiet", "--out", o_dir]) else {
        return;
    };
    assert_refused(&o, &[".png", "File too large"]);
    assert!(
        !stderr(&o).contains("Error {"),
        "no debug text: {}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(out.join("fs/sweep.parquet")).unwrap(), full);
    assert_nothing_left_behind(&out);
}

/// 1e8 users: refused within a second, before any output, naming
/// `users.count`, the estimate and how to shrink the run, when the
/// estimate exceeds `--max-memory` (one device per user: 800 MB of device
/// state per simulation; an overloaded LLM pool: its backlog).
#[test]
fn hundred_million_users_are_refused_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let generic = SWEEP
        .split("[sweep]")
        .next()
        .unwrap()
        .replace("count = 200", "count = 100000000")
        .replace("duty_cycle = 0.02", "requests_per_day = 0.01");
    let llm = format!(
        "{}{}",
        generic
            .split("[service]")
            .next()
            .unwrap()
            .replace("requests_per_day = 0.01", "requests_per_day = 10"),
        r#"[model]
name = "gpt_oss_120b"
quantisation = "mxfp4"
[requests]
input_tokens = { distribution = "lognormal", median = 1020, p99 = 4142 }
output_tokens = { distribution = "lognormal", median = 129, p99 = 601 }
[[placements]]
name = "desk"
kind = "dedicated"
device = "framework_desktop"
[[placements]]
name = "pool"
kind = "pooled"
device = "h100_sxm"
servers = 10
"#
    );
    for (name, text, limit) in [("g", generic, "1GB"), ("l", llm, "2GB")] {
        let scen = write(dir.path(), &format!("{name}.toml"), text);
        let out = dir.path().join(name);
        let started = Instant::now();
        let o = sharesim()
            .args(["run", scen.to_str().unwrap(), "--threads", "2"])
            .args(["--max-memory", limit])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
        for n in [
            "users.count",
            "100000000 users need about",
            "GB",
            "pool_sizes",
            "--max-memory",
        ] {
            assert!(err.contains(n), "{n:?} not in: {err}");
        }
        assert!(!out.exists(), "nothing written before the refusal");
    }
}

/// Ctrl-C (SIGINT) in the middle of a sweep: exit 130 within two seconds,
/// the finished points in sweep.parquet marked partial; `--resume` then
/// runs the rest and gives the bytes of an uninterrupted sweep.
#[test]
fn ctrl_c_mid_sweep_then_resume() {
    let dir = tempfile::tempdir().unwrap();
    // Points of about a second each.
    let text = SWEEP
        .replace("horizon_s = 5000", "horizon_s = 50000")
        .replace(
            "values = [100, 200, 300, 400, 500, 600, 700, 800]",
            "values = [2000, 2100, 2200, 2300, 2400, 2500]",
        )
        .replace("servers = 4", "servers = 60");
    let scen = write(dir.path(), "fs.toml", text);
    let out = dir.path().join("out");
    let mut child = Command::new(BIN)
        .args(["sweep", scen.to_str().unwrap(), "--quiet", "--no-charts"])
        .args(["--threads", "2", "--out"])
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for a first finished point.
    let parts = out.join("fs/parts");
    let waited = Instant::now();
    while !files_under(&parts)
        .iter()
        .any(|f| f.ends_with("part.parquet"))
    {
        assert!(
            waited.elapsed() < Duration::from_secs(120),
            "no point finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let signalled = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "still running"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = signalled.elapsed();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(took < Duration::from_secs(2), "exit took {took:?}: {err}");
    let partial = out.join("fs/sweep.parquet");
    if err.contains("marked partial") {
        let df = read_parquet(&partial);
        let flags = df.column("partial").unwrap().bool().unwrap();
        assert!(flags.iter().all(|f| f == Some(true)), "{df}");
        assert!(df.height() < 12, "fewer than every point's rows");
    } else {
        // Every point had finished: the combined file is complete.
        assert!(err.contains("wrote"), "{err}");
    }
    let full = uninterrupted(&scen, &dir.path().join("ref"));
    assert_eq!(resumed(&scen, &out), full);
    let df = read_parquet(&partial);
    let flags = df.column("partial").unwrap().bool().unwrap();
    assert!(flags.iter().all(|f| f == Some(false)));
}

/// `run` and `size` of a scenario with a [sweep] table: refused, pointing
/// to `sweep`, before any output.
#[test]
fn run_and_size_of_a_sweep_point_to_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let text = SWEEP.replace("[sweep]", "[service_level]\nwait_p99_s = 3.0\n[sweep]");
    let scen = write(dir.path(), "fs.toml", text);
    for command in ["run", "size"] {
        let out = dir.path().join(command);
        let o = sharesim()
            .args([command, scen.to_str().unwrap(), "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("sweep: this scenario has a [sweep] table"),
            "{err}"
        );
        assert!(err.contains("sharesim sweep"), "{err}");
        assert!(!out.exists());
    }
}
