//! The README's first command, end to end: the default sweep from the CLI
//! writes Parquet and charts with sane values (pooling saves more than 1x at
//! 1 % duty, and more as the duty cycle falls).

use assert_cmd::Command;
use polars::prelude::*;

#[test]
fn default_scenario_writes_sane_results_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sharesim"))
        .args([
            "sweep",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/default.toml"),
            "--quiet",
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
    let folder = dir.path().join("default");
    let df = ParquetReader::new(std::fs::File::open(folder.join("sweep.parquet")).unwrap())
        .finish()
        .unwrap();
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
        let bytes = std::fs::read(folder.join(png)).unwrap_or_else(|e| panic!("{png}: {e}"));
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{png} is a PNG");
        // IHDR width and height.
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        assert_eq!((w, h), (1600, 1000), "{png} size");
        assert!(
            bytes.len() > 50_000,
            "{png} is not blank ({} bytes)",
            bytes.len()
        );
    }
}
