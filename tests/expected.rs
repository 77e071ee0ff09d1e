//! Expected tables: three fast shipped scenarios (a `run`, a `size` and a
//! `sweep`) are run with the built binary and every table they write is
//! compared, value for value, with the copy committed under
//! `tests/expected/<scenario>/`. A change that must not move results (a
//! restructure, a speed-up) cannot pass with different numbers.
//!
//! A change that moves results on purpose (the model changes) re-baselines
//! them in a commit of its own that says why the numbers moved:
//! `SHARESIM_BLESS=1 cargo test --release expected::` rewrites the files.
//! `scripts/baseline.sh` does the same comparison for every shipped scenario.

use polars::prelude::*;

use crate::support::{assert_success, read_parquet, repo_file, sharesim};

/// Run `command` on `scenarios/<name>.toml` with one thread and no charts,
/// then compare each of `tables` with its expected copy.
fn matches_expected(command: &str, name: &str, tables: &[&str]) {
    let out = tempfile::tempdir().expect("temporary folder");
    let scenario = repo_file(&format!("scenarios/{name}.toml"));
    let mut cmd = sharesim();
    cmd.arg(command)
        .arg(&scenario)
        .arg("--out")
        .arg(out.path())
        .args(["--threads", "1", "--no-charts"]);
    if command == "sweep" {
        cmd.arg("--quiet");
    }
    assert_success(&cmd.output().expect("sharesim runs"));
    let bless = std::env::var_os("SHARESIM_BLESS").is_some();
    let mut differences = Vec::new();
    for table in tables {
        let got_path = out.path().join(name).join(table);
        let want_path = repo_file(&format!("tests/expected/{name}/{table}"));
        if bless {
            std::fs::copy(&got_path, &want_path).expect("expected table written");
            continue;
        }
        if let Some(d) = difference(&read_parquet(&want_path), &read_parquet(&got_path)) {
            differences.push(format!("{name}/{table}: {d}"));
        }
    }
    assert!(
        differences.is_empty(),
        "results differ from tests/expected (rerun with SHARESIM_BLESS=1 only if the change is meant to move them):\n{}",
        differences.join("\n")
    );
}

/// The first difference between two tables, if any: columns, row count,
/// then the first column whose values differ.
fn difference(want: &DataFrame, got: &DataFrame) -> Option<String> {
    let names = |df: &DataFrame| -> Vec<String> {
        df.get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect()
    };
    if names(want) != names(got) {
        return Some(format!("columns {:?} vs {:?}", names(want), names(got)));
    }
    if want.height() != got.height() {
        return Some(format!("{} rows vs {}", want.height(), got.height()));
    }
    for (w, g) in want.columns().iter().zip(got.columns()) {
        if w.dtype() != g.dtype() {
            return Some(format!(
                "column {} is {} vs {}",
                w.name(),
                w.dtype(),
                g.dtype()
            ));
        }
        if !w
            .as_materialized_series()
            .equals_missing(g.as_materialized_series())
        {
            return Some(format!("column {} differs", w.name()));
        }
    }
    None
}

#[test]
fn generic_queue_run_is_unchanged() {
    matches_expected(
        "run",
        "generic-queue",
        &["results.parquet", "summary.parquet"],
    );
}

#[test]
fn small_models_sizing_is_unchanged() {
    matches_expected(
        "size",
        "small-models",
        &[
            "sizing.parquet",
            "probes.parquet",
            "dedicated_users.parquet",
        ],
    );
}

#[test]
fn latency_and_availability_sweep_is_unchanged() {
    matches_expected("sweep", "latency-and-availability", &["sweep.parquet"]);
}

#[test]
fn a_changed_value_is_a_difference() {
    let want = df!("a" => [1.0, 2.0], "b" => ["x", "y"]).expect("frame");
    assert_eq!(difference(&want, &want.clone()), None);
    let moved = df!("a" => [1.0, 2.000001], "b" => ["x", "y"]).expect("frame");
    assert_eq!(difference(&want, &moved), Some("column a differs".into()));
    let renamed = df!("a" => [1.0, 2.0], "c" => ["x", "y"]).expect("frame");
    assert!(difference(&want, &renamed).is_some());
}
