//! The `sharesim` binary end to end: bad scenarios give exit code 2 and a
//! message naming the key; results do not depend on the thread count; files
//! appear where the docs say.

use crate::support::scenarios::generic;
use crate::support::{assert_success, documented, f64_column, read_parquet, write};
use crate::support::{sharesim, sharesim_on};

/// The generic base scenario, run for 20,000 s in 3 replications.
const BASE: &str = generic!("horizon_s = 20000\nwarmup_s = 1000\nreplications = 3");

/// (what is wrong, edit applied to BASE as (from, to), text the error must contain)
const BAD: &[(&str, (&str, &str), &str)] = &[
    (
        "unknown top-level key",
        ("seed = 3", "seed = 3\nhorizon = 5"),
        "unknown field `horizon`",
    ),
    (
        "zero servers",
        ("servers = 4", "servers = 0"),
        "placements[1].servers",
    ),
    (
        "servers of the wrong type",
        ("servers = 4", "servers = \"four\""),
        "placements[1].servers",
    ),
    (
        "negative rate",
        ("requests_per_day = 100.0", "requests_per_day = -1.0"),
        "users.requests_per_day",
    ),
    (
        "percentile outside (0,100)",
        ("wait_p99_s = 5.0", "wait_p100_s = 5.0"),
        "service_level.wait_p100_s",
    ),
    (
        "empty time-zone mix",
        ("count = 50", "count = 50\ntimezones = []"),
        "users.timezones",
    ),
    (
        "unknown distribution",
        ("\"exponential\"", "\"weibull\""),
        "service.distribution",
    ),
    ("missing horizon", ("horizon_s = 20000", ""), "horizon_s"),
    (
        "warm-up longer than horizon",
        ("warmup_s = 1000", "warmup_s = 30000"),
        "warmup_s",
    ),
    (
        "unknown placement kind",
        ("kind = \"dedicated\"", "kind = \"local\""),
        "placements[0].kind",
    ),
    (
        "unknown dispatch",
        ("servers = 4", "servers = 4\ndispatch = \"random\""),
        "placements[1].dispatch",
    ),
    (
        "duty cycle above 1",
        ("requests_per_day = 100.0", "duty_cycle = 1.5"),
        "users.duty_cycle",
    ),
    (
        "zero replications",
        ("replications = 3", "replications = 0"),
        "replications",
    ),
    (
        "23 profile weights",
        (
            "count = 50",
            "count = 50\nprofile = [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]",
        ),
        "users.profile",
    ),
    (
        "time-zone shares not summing to 1",
        (
            "count = 50",
            "count = 50\ntimezones = [{ offset_h = 0, share = 0.5 }]",
        ),
        "users.timezones",
    ),
    (
        "lognormal without cv",
        (
            "distribution = \"exponential\"",
            "distribution = \"lognormal\"",
        ),
        "service",
    ),
    (
        "parameter another distribution uses",
        ("mean_s = 20.0", "mean_s = 20.0\nshape = 2.0"),
        "service.shape",
    ),
    (
        "duplicate placement name",
        ("name = \"pool\"", "name = \"local\""),
        "placements[1].name",
    ),
    (
        "empty service level",
        ("wait_p99_s = 5.0", ""),
        "service_level",
    ),
    (
        "unknown service-level metric",
        ("wait_p99_s = 5.0", "latency_p99_s = 5.0"),
        "service_level.latency_p99_s",
    ),
    ("zero users", ("count = 50", "count = 0"), "users.count"),
    (
        "unknown key in a placement",
        ("servers = 4", "servers = 4\nserverz = 5"),
        "placements[1]",
    ),
    ("not TOML at all", ("seed = 3", "seed = = 3"), "line 2"),
];

#[test]
fn bad_scenarios_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (what, (from, to), needle)) in BAD.iter().enumerate() {
        assert!(BASE.contains(from), "case {what}: edit does not apply");
        let text = BASE.replacen(from, to, 1);
        let path = write(dir.path(), &format!("bad{i}.toml"), &text);
        let out = sharesim_on("run", &path, &dir.path().join("out"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "case {what}: exit code; stderr: {stderr}"
        );
        assert!(
            stderr.contains(&format!("bad{i}.toml")),
            "case {what}: file not named: {stderr}"
        );
        assert!(
            stderr.contains(needle),
            "case {what}: {needle:?} not in: {stderr}"
        );
        assert!(
            !dir.path().join("out").join(format!("bad{i}")).exists(),
            "case {what}: output written"
        );
    }
}

#[test]
fn missing_file_and_unwritable_output_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = sharesim()
        .args(["run", "no/such/file.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.toml"));

    let good = write(dir.path(), "good.toml", BASE);
    let blocker = write(dir.path(), "not-a-dir", "x");
    let out = sharesim_on("run", &good, &blocker);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out"));
}

#[test]
fn results_identical_for_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(
        dir.path(),
        "det.toml",
        BASE.replace("replications = 3", "replications = 6"),
    );
    for t in ["1", "2"] {
        sharesim()
            .args(["run", scen.to_str().unwrap(), "--threads", t, "--out"])
            .arg(dir.path().join(format!("t{t}")))
            .assert()
            .success();
    }
    for f in ["results.parquet", "summary.parquet"] {
        let a = read_parquet(&dir.path().join("t1/det").join(f));
        let b = read_parquet(&dir.path().join("t2/det").join(f));
        assert!(a.height() > 0);
        assert!(a.equals_missing(&b), "{f} differs between 1 and 2 threads");
        let bytes_a = std::fs::read(dir.path().join("t1/det").join(f)).unwrap();
        let bytes_b = std::fs::read(dir.path().join("t2/det").join(f)).unwrap();
        assert_eq!(bytes_a, bytes_b, "{f} bytes differ");
    }
}

#[test]
fn run_writes_documented_columns_that_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "cols.toml", BASE);
    let out = sharesim_on("run", &scen, dir.path());
    assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("local") && stdout.contains("pool"),
        "{stdout}"
    );
    let df = read_parquet(&dir.path().join("cols/results.parquet"));
    assert_eq!(df.height(), 2 * 3);
    for name in df.get_column_names() {
        assert!(
            documented(name),
            "column {name} is not documented in docs/results-schema.md"
        );
    }
    let col = |n: &str| f64_column(&df, n);
    let arrived = col("arrived");
    let done = col("completed_by_horizon");
    let flight = col("in_flight_at_horizon");
    let rejected = col("rejected");
    for i in 0..df.height() {
        assert_eq!(
            arrived[i],
            Some(done[i].unwrap() + flight[i].unwrap() + rejected[i].unwrap())
        );
    }
    let summary = read_parquet(&dir.path().join("cols/summary.parquet"));
    assert_eq!(summary.height(), 2);
    for name in summary.get_column_names() {
        let base = name.strip_suffix("_ci95").unwrap_or(name);
        assert!(
            documented(base) || name == "replications" || name == "slo_met",
            "summary column {name} is not documented"
        );
    }
}

#[test]
fn validate_command_passes() {
    let out = sharesim()
        .args(["validate", "--replications", "10", "--customers", "200000"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("0 failed"), "{stdout}");
}

/// `validate` prints through the same printer as `run`, `size` and
/// `sweep`: `--format csv` gives raw columns on stdout, the verdict on stderr.
#[test]
fn validate_prints_csv_with_format() {
    let out = sharesim()
        .args(["validate", "--replications", "5", "--customers", "20000"])
        .args(["--format", "csv"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("check,pass,simulated,exact,std_err,z,z_limit,customers")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() >= 10, "{stdout}");
    assert!(rows.iter().all(|r| r.contains(",true,")), "{stdout}");
    assert!(!stdout.contains("passed"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("0 failed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--set KEY=VALUE` changes the scenario before it runs (here the number
/// of replications: one results row per placement and replication); a sweep
/// with `--set` is another scenario for its folder, so its parts never mix
/// with the unchanged file's; a bad `--set` exits 2 naming the file, the
/// option and the fix.
#[test]
fn set_changes_a_key_and_a_bad_set_names_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "base.toml", BASE);
    let rows = |sets: &[&str], out: &str| {
        let mut c = sharesim();
        c.arg("run")
            .arg(&file)
            .args(["--no-charts", "--out"])
            .arg(dir.path().join(out));
        for s in sets {
            c.args(["--set", s]);
        }
        let o = c.output().unwrap();
        assert_success(&o);
        read_parquet(&dir.path().join(out).join("base/results.parquet")).height()
    };
    let three = rows(&[], "a");
    let one = rows(&["replications=1", "horizon_s=5000"], "b");
    assert_eq!(three, 3 * one, "3 replications vs --set replications=1");

    let s = crate::support::repo_file("scenarios/latency-and-availability.toml");
    let out = dir.path().join("sw");
    let sweep_with = |sets: &[&str]| {
        let mut c = sharesim();
        c.arg("sweep")
            .arg(&s)
            .args(["--quiet", "--no-charts", "--out"])
            .arg(&out);
        for x in sets {
            c.args(["--set", x]);
        }
        c.output().unwrap()
    };
    assert_success(&sweep_with(&["replications=1"]));
    let o = sweep_with(&[]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "the unchanged file into the --set sweep's folder"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("another scenario"), "{err}");

    // So is a `run` or `size` with `--set`: the folder of "a" holds the
    // unchanged file's results, which a changed run must not overwrite or
    // join; the same `--set` again is the same scenario.
    let into_a = |command: &str, extra: &[&str]| {
        sharesim()
            .arg(command)
            .arg(&file)
            .args(["--no-charts", "--out"])
            .arg(dir.path().join("a"))
            .args(extra)
            .output()
            .unwrap()
    };
    let before = std::fs::read(dir.path().join("a/base/results.parquet")).unwrap();
    for command in ["run", "size"] {
        let o = into_a(command, &["--set", "replications=1"]);
        assert_eq!(o.status.code(), Some(2), "{command} --set into a");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("another scenario"), "{command}: {err}");
    }
    assert_eq!(
        std::fs::read(dir.path().join("a/base/results.parquet")).unwrap(),
        before,
        "the unchanged file's results are untouched"
    );
    assert_success(&into_a("run", &[]));
    let b_again = sharesim()
        .arg("run")
        .arg(&file)
        .args(["--no-charts", "--out"])
        .arg(dir.path().join("b"))
        .args(["--set", "replications=1", "--set", "horizon_s=5000"])
        .output()
        .unwrap();
    assert_success(&b_again);

    for (set, needles) in [
        (
            "replications",
            &["base.toml", "--set \"replications\"", "KEY=VALUE"][..],
        ),
        (
            "nosuch.key=1",
            &["base.toml", "nosuch.key", "the file has no \"nosuch\""][..],
        ),
        ("replications=0", &["base.toml", "replications"][..]),
    ] {
        let o = sharesim()
            .arg("run")
            .arg(&file)
            .args(["--set", set, "--out"])
            .arg(dir.path().join("bad"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "--set {set}");
        let err = String::from_utf8_lossy(&o.stderr);
        for n in needles {
            assert!(err.contains(n), "--set {set}: {n:?} not in {err}");
        }
    }
}
