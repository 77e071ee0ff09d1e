//! The printed answer: `run`, `size` and `sweep` end with a table that fits
//! the terminal (`COLUMNS`), checked against committed snapshots at 80 and
//! 200 columns, and the same rows as CSV or JSON for scripts.
//! `SHARESIM_BLESS=1 cargo test --release answers::` rewrites the snapshots
//! after a deliberate change to what is printed.

use crate::support::{repo_file, sharesim};

/// Standard output of `sharesim <args>` with `COLUMNS=<width>`.
fn stdout_at(width: usize, args: &[&str]) -> String {
    let out = tempfile::tempdir().expect("temporary folder");
    let o = sharesim()
        .args(args)
        .arg("--out")
        .arg(out.path())
        .args(["--no-charts", "--threads", "1"])
        .env("COLUMNS", width.to_string())
        .output()
        .expect("sharesim runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

fn matches_snapshot(name: &str, text: &str) {
    let path = repo_file(&format!("tests/snapshots/{name}.txt"));
    if std::env::var_os("SHARESIM_BLESS").is_some() {
        std::fs::write(&path, text).expect("snapshot written");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        text,
        want,
        "printed answer differs from {} (SHARESIM_BLESS=1 rewrites it after a deliberate change)",
        path.display()
    );
}

fn assert_fits(text: &str, width: usize) {
    for line in text.lines() {
        assert!(
            line.chars().count() <= width,
            "line wider than {width}: {line:?}\n{text}"
        );
    }
}

#[test]
fn sweep_prints_one_line_per_point_and_placement_that_fits() {
    let scenario = repo_file("scenarios/latency-and-availability.toml");
    let scenario = scenario.to_str().expect("UTF-8 path");
    for width in [80, 200] {
        let text = stdout_at(width, &["sweep", scenario, "--quiet"]);
        assert_fits(&text, width);
        // 5 points x 2 placements, under a header.
        let lines = |name: &str| text.lines().filter(|l| l.contains(name)).count();
        assert_eq!(lines("desktop-per-user"), 5, "{text}");
        assert_eq!(lines("h100-pool"), 5, "{text}");
        matches_snapshot(&format!("latency-and-availability-sweep-{width}"), &text);
    }
}

#[test]
fn size_prints_a_table_that_fits() {
    let scenario = repo_file("scenarios/small-models.toml");
    let scenario = scenario.to_str().expect("UTF-8 path");
    for width in [80, 200] {
        let text = stdout_at(width, &["size", scenario]);
        assert_fits(&text, width);
        matches_snapshot(&format!("small-models-size-{width}"), &text);
    }
}

#[test]
fn csv_and_json_carry_the_raw_columns() {
    let scenario = repo_file("scenarios/small-models.toml");
    let scenario = scenario.to_str().expect("UTF-8 path");
    let csv = stdout_at(80, &["size", scenario, "--format", "csv"]);
    let header = csv.lines().next().expect("a header line");
    assert!(
        header.starts_with("placement,pool_size,feasible,"),
        "{header}"
    );
    // 4 placements at 4 pool sizes, 1 dedicated row each, plus hybrids: every
    // line has as many fields as the header (no field holds a comma).
    let fields = header.split(',').count();
    assert!(
        csv.lines().skip(1).all(|l| l.split(',').count() == fields),
        "{csv}"
    );
    let json = stdout_at(80, &["size", scenario, "--format", "json"]);
    assert!(
        json.trim_start().starts_with('[') && json.contains("\"capex_usd_per_user\""),
        "{json}"
    );
    assert_eq!(
        json.matches("\"placement\"").count(),
        csv.lines().count() - 1,
        "one JSON object per CSV row"
    );
}

/// `--all-columns`: every column of the results, the ones sizing.parquet
/// holds, not only the printed few (for scripts such as
/// scripts/readme-results.pl).
#[test]
fn all_columns_prints_every_result_column() {
    let out = tempfile::tempdir().expect("temporary folder");
    let o = sharesim()
        .arg("size")
        .arg(repo_file("scenarios/azure-trace.toml"))
        .arg("--out")
        .arg(out.path())
        .args(["--format", "json", "--all-columns", "--threads", "1"])
        .output()
        .expect("sharesim runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let rows = printed.as_array().expect("an array of rows");
    let file = crate::support::read_parquet(&out.path().join("azure-trace/sizing.parquet"));
    assert_eq!(rows.len(), file.height());
    for name in file.get_column_names() {
        assert!(
            rows.iter().all(|r| r.get(name.as_str()).is_some()),
            "column {name} of sizing.parquet not printed"
        );
    }
    let few = stdout_at(
        80,
        &[
            "size",
            repo_file("scenarios/azure-trace.toml").to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert!(
        !few.contains("\"slo_detail\""),
        "without the option, the chosen few"
    );
}
