//! The Parquet output opens in independent readers (pyarrow and DuckDB),
//! with every column documented. `.ci/run` installs them in a virtualenv and
//! sets `SHARESIM_PYTHON`; without it the test uses `python3` when that has
//! both modules, and otherwise says how to run it instead of passing silently.

use std::process::Command;

use crate::support::{assert_success, repo_file, sharesim};

#[test]
fn parquet_opens_in_pyarrow_and_duckdb() {
    let python = std::env::var("SHARESIM_PYTHON").ok();
    let explicit = python.is_some();
    let python = python.unwrap_or_else(|| "python3".into());
    let has_modules = Command::new(&python)
        .args(["-c", "import pyarrow, duckdb"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_modules {
        assert!(
            !explicit,
            "SHARESIM_PYTHON={python} lacks pyarrow or duckdb"
        );
        eprintln!("SKIPPED: no python with pyarrow and duckdb; `bash .ci/run` installs them and runs this test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = sharesim()
        .arg("run")
        .arg(repo_file("scenarios/mmc-erlang-check.toml"))
        .args(["--replications", "3", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_success(&out);
    let check = Command::new(&python)
        .arg(repo_file("tests/python/check_parquet.py"))
        .arg(dir.path().join("mmc-erlang-check"))
        .output()
        .unwrap();
    assert_success(&check);
}

/// The snippets of notebooks-output/README.md run against a fresh default
/// sweep (polars, pandas, DuckDB), so the documentation stays true.
#[test]
fn readme_snippets_run_against_the_default_sweep() {
    let Ok(python) = std::env::var("SHARESIM_PYTHON") else {
        eprintln!("SKIPPED: set SHARESIM_PYTHON (bash .ci/run does) to run the README snippets");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = sharesim()
        .arg("sweep")
        .arg(repo_file("scenarios/default.toml"))
        .args(["--quiet", "--no-charts", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_success(&out);
    let run = Command::new(&python)
        .arg(repo_file("tests/python/run_readme_snippets.py"))
        .arg(repo_file("notebooks-output/README.md"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert_success(&run);
}
