//! The README's first command, end to end: the default sweep from the CLI
//! writes Parquet and charts with sane values (pooling saves more than 1x at
//! 1 % duty, and more as the duty cycle falls).

use polars::prelude::ChunkCompareEq;

use crate::support::{assert_success, png_size, read_parquet, repo_file, sharesim};

#[test]
fn default_scenario_writes_sane_results_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    let out = sharesim()
        .arg("sweep")
        .arg(repo_file("scenarios/default.toml"))
        .args(["--quiet", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_success(&out);
    let folder = dir.path().join("default");
    let df = read_parquet(&folder.join("sweep.parquet"));
    let pooled = df
        .filter(&df.column("kind").unwrap().str().unwrap().equal("pooled"))
        .unwrap();
    let duty = pooled
        .column("sweep_users_duty_cycle")
        .unwrap()
        .f64()
        .unwrap()
        .clone();
    let capex = pooled
        .column("sharing_factor_capex")
        .unwrap()
        .f64()
        .unwrap()
        .clone();
    let mut points: Vec<(f64, f64)> = duty
        .iter()
        .zip(capex.iter())
        .filter_map(|(d, f)| Some((d?, f?)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(
        points.len() >= 4,
        "sharing factors at most duty cycles: {points:?}"
    );
    let at_1pct = points
        .iter()
        .find(|p| (p.0 - 0.01).abs() < 1e-12)
        .expect("1 % point");
    assert!(
        at_1pct.1 > 1.0,
        "pooling saves capex at 1 % duty: {}",
        at_1pct.1
    );
    for w in points.windows(2) {
        assert!(
            w[0].1 >= w[1].1,
            "factor does not fall as duty falls: {points:?}"
        );
    }
    assert!(
        points.first().unwrap().1 > points.last().unwrap().1,
        "factor grows as duty falls"
    );
    for png in [
        "sharing-factor-vs-duty-cycle.png",
        "p99-latency-vs-users-duty-cycle.png",
    ] {
        // The PNG signature, and the IHDR width and height.
        assert_eq!(png_size(&folder.join(png)), (1600, 1000), "{png} size");
        let bytes = std::fs::read(folder.join(png)).unwrap();
        assert!(
            bytes.len() > 50_000,
            "{png} is not blank ({} bytes)",
            bytes.len()
        );
    }
}
