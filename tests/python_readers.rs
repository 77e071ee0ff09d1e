//! The Parquet output opens in independent readers (pyarrow and DuckDB),
//! with every column documented. `.ci/run` installs them in a virtualenv and
//! sets `SHARESIM_PYTHON`; without it the test uses `python3` when that has
//! both modules, and otherwise says how to run it instead of passing silently.

use std::process::Command;

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
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/mmc-erlang-check.toml"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_sharesim"))
        .args(["run", scenario, "--replications", "3", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/check_parquet.py"
        ))
        .arg(dir.path().join("mmc-erlang-check"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
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
    let out = Command::new(env!("CARGO_BIN_EXE_sharesim"))
        .args([
            "sweep",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/default.toml"),
            "--quiet",
            "--no-charts",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/run_readme_snippets.py"
        ))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/notebooks-output/README.md"
        ))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}
