//! Parquet that joins (docs/results-schema.md, "One type per column name"):
//! the outputs of the fast shipped scenarios, read by independent readers
//! (tests/python/check_joins.py with pyarrow, pandas, polars and DuckDB):
//! every column name has one type across all of them, any two sizing.parquet
//! files concatenate in polars and pandas, and a sweep's `parts/` folder
//! reads in pandas, pyarrow datasets, polars and DuckDB. Without
//! `SHARESIM_PYTHON` (`bash .ci/run` sets it) the tests use `python3` when it
//! has those modules, and otherwise say how to run them instead of passing
//! silently.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

use crate::support::{assert_success, repo_file, sharesim};

/// The Python with pyarrow, pandas, polars and DuckDB, or None (skip).
fn python() -> Option<String> {
    let explicit = std::env::var("SHARESIM_PYTHON").ok();
    let python = explicit.clone().unwrap_or_else(|| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import pyarrow, pandas, polars, duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            explicit.is_none(),
            "SHARESIM_PYTHON={python} lacks pyarrow, pandas, polars or duckdb"
        );
        eprintln!("SKIPPED: no python with pyarrow, pandas, polars and duckdb; `bash .ci/run` installs them and runs this test");
        return None;
    }
    Some(python)
}

/// The fast shipped scenarios, each as its header runs it, plus `run` of
/// the sized ones (their run tables hold hybrids and classes), written once
/// for every test of this module: `OUT/<command>/<scenario>/`.
const FAST: [(&str, &str); 9] = [
    ("run", "generic-queue"),
    ("run", "mmc-erlang-check"),
    ("run", "benchmark-burst"),
    ("run", "benchmark-closed-loop"),
    ("run", "small-models"),
    ("run", "llm-chat"),
    ("size", "small-models"),
    ("size", "llm-chat"),
    ("sweep", "latency-and-availability"),
];

static OUTPUTS: LazyLock<(tempfile::TempDir, PathBuf)> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    for (command, name) in FAST {
        let mut cmd = sharesim();
        cmd.arg(command)
            .arg(repo_file(&format!("scenarios/{name}.toml")))
            .arg("--out")
            .arg(dir.path().join(command))
            .arg("--no-charts");
        if name == "mmc-erlang-check" {
            // Its ten replications of 200,000 s take the longest; three
            // write the same columns.
            cmd.args(["--replications", "3"]);
        }
        if command == "sweep" {
            cmd.arg("--quiet");
        }
        assert_success(&cmd.output().unwrap());
    }
    let root = dir.path().to_path_buf();
    (dir, root)
});

fn check(python: &str, args: &[&Path]) {
    let out = Command::new(python)
        .arg(repo_file("tests/python/check_joins.py"))
        .args(args)
        .output()
        .unwrap();
    assert_success(&out);
}

#[test]
fn every_column_name_has_one_type_across_the_fast_scenarios() {
    let Some(python) = python() else { return };
    let root = &OUTPUTS.1;
    check(&python, &[Path::new("types"), root]);
}

#[test]
fn any_two_sizing_files_concatenate_in_polars_and_pandas() {
    let Some(python) = python() else { return };
    let root = &OUTPUTS.1;
    let files: Vec<PathBuf> = ["small-models", "llm-chat"]
        .iter()
        .map(|n| root.join("size").join(n).join("sizing.parquet"))
        .collect();
    let mut args: Vec<&Path> = vec![Path::new("concat")];
    args.extend(files.iter().map(PathBuf::as_path));
    check(&python, &args);
}

#[test]
fn a_sweeps_parts_folder_reads_in_pandas_pyarrow_polars_and_duckdb() {
    let Some(python) = python() else { return };
    let sweep = OUTPUTS.1.join("sweep").join("latency-and-availability");
    check(&python, &[Path::new("parts"), &sweep]);
}

/// The checker fails on what it must catch: a column with two types, and a
/// part file that also carries its hive key (the layout pandas cannot read).
#[test]
fn the_checks_fail_on_a_clash() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("parts").join("point_id=ab12");
    std::fs::create_dir_all(&parts).unwrap();
    let script = format!(
        r#"
import polars as pl
pl.DataFrame({{"pool_types": [1, 2]}}, schema={{"pool_types": pl.UInt64}}).write_parquet(r"{a}")
pl.DataFrame({{"pool_types": [1.0, None]}}).write_parquet(r"{b}")
pl.DataFrame({{"point": [0], "point_id": ["ab12"]}}).write_parquet(r"{part}")
pl.DataFrame({{"point": [0], "point_id": ["ab12"], "partial": [False]}}).write_parquet(r"{sweep}")
"#,
        a = dir.path().join("a.parquet").display(),
        b = dir.path().join("b.parquet").display(),
        part = parts.join("part.parquet").display(),
        sweep = dir.path().join("sweep.parquet").display(),
    );
    assert_success(
        &Command::new(&python)
            .args(["-c", &script])
            .output()
            .unwrap(),
    );
    let run = |args: &[&Path]| {
        Command::new(&python)
            .arg(repo_file("tests/python/check_joins.py"))
            .args(args)
            .output()
            .unwrap()
    };
    let types = run(&[Path::new("types"), dir.path()]);
    assert!(!types.status.success());
    assert!(
        String::from_utf8_lossy(&types.stderr).contains("column pool_types"),
        "{}",
        String::from_utf8_lossy(&types.stderr)
    );
    let parts_check = run(&[Path::new("parts"), dir.path()]);
    assert!(!parts_check.status.success());
}
