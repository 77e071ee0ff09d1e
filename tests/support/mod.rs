//! Shared by the test modules: the `sharesim` binary and scenario files in
//! temporary folders, scenarios from TOML text and the base scenarios that
//! several modules edit (`scenarios`), reading results back (Parquet files
//! and their columns, result rows, PNG headers), and the invariants every
//! result keeps (`invariants`, shared with the fuzz targets).

pub mod invariants;
pub mod scenarios;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::LazyLock;

use polars::prelude::{DataFrame, DataType, ParquetReader, PolarsResult, SerReader};
use sharesim::results::{get, Row, Value};
use sharesim::scenario::Scenario;

pub use invariants::u64_of;

// ------------------------------------------------------------------ the binary, files

/// The `sharesim` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_sharesim");

/// The variables sharesim reads its shard from (Slurm arrays, Kubernetes
/// indexed jobs): tests remove them so the machine running the tests does
/// not leak its own into a run.
pub const SHARD_ENV: [&str; 6] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "JOB_COMPLETION_INDEX",
    "SHARESIM_SHARD_COUNT",
];

/// A command running the `sharesim` binary.
pub fn sharesim() -> assert_cmd::Command {
    assert_cmd::Command::new(BIN)
}

/// Runs `sharesim COMMAND SCENARIO --out OUT` to its end; returns its exit
/// status and what it printed.
pub fn sharesim_on(command: &str, scenario: &Path, out: &Path) -> Output {
    sharesim()
        .arg(command)
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// Asserts that a finished command succeeded, showing what it printed
/// (stdout, then stderr) if not.
#[track_caller]
pub fn assert_success(o: &Output) {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Writes `contents` to `dir/name` and returns that path.
pub fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

/// `sharesim run` on scenario `text` (written as `bad.toml`) exits 2,
/// naming the file and every needle, and writes nothing.
pub fn run_refused(text: &str, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "bad.toml", text);
    let out = dir.path().join("out");
    let o = sharesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.toml"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in {err}");
    }
    assert!(!out.exists());
}

/// A file of the repository, from its path relative to the top folder.
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A scenario from TOML text (panics with the error and the text).
pub fn scenario(text: &str) -> Scenario {
    Scenario::from_toml_str(text, Path::new("<test>"))
        .unwrap_or_else(|e| panic!("{e}\n--- scenario ---\n{text}"))
}

// ------------------------------------------------------------------ Parquet

/// A Parquet file as a data frame, or polars' error (panics when the file
/// cannot be opened at all).
pub fn try_read_parquet(p: &Path) -> PolarsResult<DataFrame> {
    let f = std::fs::File::open(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    ParquetReader::new(f).finish()
}

/// A Parquet file as a data frame (panics naming the file).
pub fn read_parquet(p: &Path) -> DataFrame {
    try_read_parquet(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A numeric column as f64 values (nulls as None).
pub fn f64_column(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .to_vec()
}

/// Whether docs/results-schema.md documents the column `name` (as `` `name` ``).
pub fn documented(name: &str) -> bool {
    static SCHEMA: LazyLock<String> =
        LazyLock::new(|| std::fs::read_to_string(repo_file("docs/results-schema.md")).unwrap());
    SCHEMA.contains(&format!("`{name}`"))
}

/// The PNG signature and the IHDR width and height of an image file.
pub fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

// ------------------------------------------------------------------ result rows

/// The f64 cell in column `c` of `row` (None is a null; a cell of another
/// type panics, naming the column).
pub fn f64_of(row: &Row, c: &str) -> Option<f64> {
    match get(row, c) {
        Some(Value::F64(v)) => *v,
        other => panic!("column {c} is {other:?}"),
    }
}

/// The number in column `c` of `row`, whole or not (panics when there is none).
pub fn num(row: &Row, c: &str) -> f64 {
    get(row, c)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number in column {c}"))
}

/// The text in column `c` of `row` (panics when it holds none).
pub fn text(row: &Row, c: &str) -> String {
    match get(row, c) {
        Some(Value::Str(s)) => s.clone(),
        other => panic!("column {c}: {other:?}"),
    }
}

/// Whether column `c` of `row` is true.
pub fn flag(row: &Row, c: &str) -> bool {
    matches!(get(row, c), Some(Value::Bool(Some(true))))
}

/// The row of `rows` whose `placement` is `placement` (panics when none is).
pub fn row_of<'a>(rows: &'a [Row], placement: &str) -> &'a Row {
    rows.iter()
        .find(|r| text(r, "placement") == placement)
        .unwrap_or_else(|| panic!("no row for {placement}"))
}

/// Every file under `dir`, recursively, sorted (empty when it does not exist).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.expect("directory entry").path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}
