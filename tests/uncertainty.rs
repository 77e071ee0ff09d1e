//! `sharesim uncertainty`: every range collapsed to one value gives exactly
//! the rows of `sharesim size`; the percentiles are ordered; results are
//! byte-identical for 1 and 2 threads and for 3 shards merged; the Latin
//! hypercube puts one sample in each of N strata of every input; the
//! swings are the answers at each input's low and high value.

use std::path::Path;

use polars::prelude::*;

use crate::support::scenarios::desktop_and_h100_pool;
use crate::support::{
    assert_success, documented, f64_column, read_parquet, sharesim, write, SHARD_ENV,
};
use sharesim::sweep::uncertainty::{latin_hypercube, stratified};

/// A small LLM scenario: 5,000 users of gpt-oss-20b, a desktop each or a pool
/// of H100s; `RANGES` follows.
const BASE: &str = concat!(
    r#"
name = "unc"
seed = 5
horizon_s = 900
warmup_s = 60
replications = 2

[users]
count = 5000
requests_per_day = 200

[model]
name = "gpt_oss_20b"
quantisation = "mxfp4"

[requests]
input_tokens = { distribution = "lognormal", median = 400, p99 = 2000 }
output_tokens = { distribution = "lognormal", median = 100, p99 = 400 }

"#,
    desktop_and_h100_pool!(),
    r#"servers = 1
pue = 1.3

[service_level]
ttft_p99_s = 8.0
tpot_p99_s = 0.1

[sizing]
min_measured_requests = 500
"#
);

/// Ranges of four inputs, two of them moving the simulation (the request
/// rate and the pool's bandwidth efficiency), two only the bill.
const RANGES: &str = r#"
[uncertainty]
samples = 7

[uncertainty.ranges]
"users.requests_per_day" = { low = 50.0, high = 400.0, nominal = 200.0 }
"placements[1].bandwidth_efficiency" = { low = 0.2, high = 0.5 }
"costs.memory_price_multiplier" = { dist = "triangular", low = 0.5, mode = 1.0, high = 4.0 }
"placements[1].price_usd" = { low = 20000, high = 40000 }
"#;

/// Every range collapsed to the value `size` uses anyway.
const COLLAPSED: &str = r#"
[uncertainty]
samples = 3

[uncertainty.ranges]
"users.requests_per_day" = { low = 200.0, high = 200.0 }
"placements[1].pue" = { low = 1.3, high = 1.3 }
"costs.memory_price_multiplier" = { low = 1.0, high = 1.0 }
"placements[0].lifetime_years" = { low = 5.0, high = 5.0 }
"#;

fn uncertainty(scenario: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut c = sharesim();
    c.args([
        "uncertainty",
        scenario.to_str().unwrap(),
        "--quiet",
        "--out",
    ])
    .arg(out)
    .args(extra);
    for k in SHARD_ENV {
        c.env_remove(k);
    }
    let o = c.output().unwrap();
    assert_success(&o);
    o
}

/// The columns of sizing.parquet.
fn sizing_columns(df: &DataFrame) -> Vec<PlSmallStr> {
    df.get_column_names().into_iter().cloned().collect()
}

#[test]
fn collapsed_ranges_equal_the_plain_size() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "unc.toml", format!("{BASE}{COLLAPSED}"));
    let out = dir.path().join("out");
    let o = sharesim()
        .args(["size", file.to_str().unwrap(), "--no-charts", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&o);
    uncertainty(&file, &out, &["--no-charts"]);
    let size = read_parquet(&out.join("unc/sizing.parquet"));
    let design = read_parquet(&out.join("unc/sweep.parquet"));
    let points = design.column("point").unwrap().u64().unwrap().clone();
    let n_points = 3 + 1 + 2 * 4;
    assert_eq!(design.height(), n_points * size.height());
    let cols = sizing_columns(&size);
    for p in 0..n_points as u64 {
        let at = design
            .filter(&points.equal(p))
            .unwrap()
            .select(cols.clone())
            .unwrap();
        assert!(
            at.equals_missing(&size),
            "point {p} differs from sharesim size:\n{at}\n{size}"
        );
    }
    // Every percentile is the plain answer.
    let pct = read_parquet(&out.join("unc/uncertainty.parquet"));
    let figure = pct.column("figure").unwrap().str().unwrap().clone();
    let placement = pct.column("placement").unwrap().str().unwrap().clone();
    let size_place = size.column("placement").unwrap().str().unwrap().clone();
    let (p5, p50, p95) = (
        f64_column(&pct, "p5"),
        f64_column(&pct, "p50"),
        f64_column(&pct, "p95"),
    );
    let mut checked = 0;
    for r in 0..pct.height() {
        let f = figure.get(r).unwrap();
        let row = (0..size.height())
            .find(|&i| size_place.get(i) == placement.get(r))
            .unwrap();
        let plain = f64_column(&size, f)[row];
        assert_eq!(p5[r], plain, "{f} p5");
        assert_eq!(p50[r], plain, "{f} p50");
        assert_eq!(p95[r], plain, "{f} p95");
        checked += plain.is_some() as usize;
    }
    assert!(checked >= 20, "only {checked} figures had a value");
    // Every swing is nil.
    let sw = read_parquet(&out.join("unc/swings.parquet"));
    for s in f64_column(&sw, "swing").into_iter().flatten() {
        assert_eq!(s, 0.0);
    }
}

#[test]
fn ordered_percentiles_identical_for_threads_and_shards() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "unc.toml", format!("{BASE}{RANGES}"));
    let d = dir.path();
    uncertainty(&file, &d.join("t1"), &["--threads", "1"]);
    uncertainty(&file, &d.join("t2"), &["--threads", "2", "--no-charts"]);
    for i in 1..=3 {
        uncertainty(
            &file,
            &d.join("sh"),
            &["--shard", &format!("{i}/3"), "--no-charts"],
        );
    }
    sharesim()
        .arg("merge")
        .arg(d.join("sh/unc"))
        .arg("--no-charts")
        .assert()
        .success();
    for f in ["sweep.parquet", "uncertainty.parquet", "swings.parquet"] {
        let a = std::fs::read(d.join("t1/unc").join(f)).unwrap();
        let b = std::fs::read(d.join("t2/unc").join(f)).unwrap();
        let c = std::fs::read(d.join("sh/unc").join(f)).unwrap();
        assert_eq!(a, b, "{f}: 1 vs 2 threads");
        assert_eq!(a, c, "{f}: one run vs three shards merged");
    }
    assert!(d.join("t1/unc/tornado.png").exists());
    for f in ["sweep.parquet", "uncertainty.parquet", "swings.parquet"] {
        for c in read_parquet(&d.join("t1/unc").join(f)).get_column_names() {
            let c = c.as_str();
            let axis = c.starts_with("sweep_");
            assert!(
                axis || documented(c),
                "{f}: {c} is not in docs/results-schema.md"
            );
        }
    }
    let pct = read_parquet(&d.join("t1/unc/uncertainty.parquet"));
    let (p5, p50, p95) = (
        f64_column(&pct, "p5"),
        f64_column(&pct, "p50"),
        f64_column(&pct, "p95"),
    );
    let mut spread = 0;
    for r in 0..pct.height() {
        if let (Some(a), Some(b), Some(c)) = (p5[r], p50[r], p95[r]) {
            assert!(a <= b && b <= c, "row {r}: {a} {b} {c}");
            spread += (a < c) as usize;
        }
    }
    assert!(spread > 5, "the ranges move only {spread} figures");
    // The Latin hypercube: each input's 7 samples fall one in each seventh
    // of its range (uniform inputs: linear in the value).
    let design = read_parquet(&d.join("t1/unc/sweep.parquet"));
    let run = design
        .column("uncertainty_run")
        .unwrap()
        .str()
        .unwrap()
        .clone();
    let place = design.column("placement").unwrap().str().unwrap().clone();
    let samples: Vec<usize> = (0..design.height())
        .filter(|&r| run.get(r) == Some("sample") && place.get(r) == Some("pool"))
        .collect();
    assert_eq!(samples.len(), 7);
    let share = |col: &str, cdf: &dyn Fn(f64) -> f64| -> Vec<f64> {
        let v = f64_column(&design, col);
        samples.iter().map(|&r| cdf(v[r].unwrap())).collect()
    };
    let uniform = |a: f64, b: f64| move |x: f64| (x - a) / (b - a);
    // Triangular (0.5, 1, 4): its distribution function.
    let triangular = |x: f64| {
        let (a, c, b) = (0.5, 1.0, 4.0);
        if x < c {
            (x - a).powi(2) / ((b - a) * (c - a))
        } else {
            1.0 - (b - x).powi(2) / ((b - a) * (b - c))
        }
    };
    for (col, u) in [
        (
            "users.requests_per_day",
            share("sweep_users_requests_per_day", &uniform(50.0, 400.0)),
        ),
        (
            "bandwidth_efficiency",
            share(
                "sweep_placements_1_bandwidth_efficiency",
                &uniform(0.2, 0.5),
            ),
        ),
        (
            "memory_price_multiplier",
            share("sweep_costs_memory_price_multiplier", &triangular),
        ),
    ] {
        assert!(stratified(&u), "{col}: {u:?}");
    }
}

#[test]
fn swings_are_the_answers_at_each_end() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "unc.toml", format!("{BASE}{RANGES}"));
    let out = dir.path().join("out");
    uncertainty(&file, &out, &["--samples", "2", "--no-charts"]);
    let design = read_parquet(&out.join("unc/sweep.parquet"));
    let sw = read_parquet(&out.join("unc/swings.parquet"));
    let text = |df: &DataFrame, c: &str| -> Vec<Option<String>> {
        df.column(c)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|s| s.map(str::to_string))
            .collect()
    };
    let (run, input, place) = (
        text(&design, "uncertainty_run"),
        text(&design, "uncertainty_input"),
        text(&design, "placement"),
    );
    let capex = f64_column(&design, "capex_usd_per_user");
    let (sw_input, sw_fig, sw_place) = (
        text(&sw, "input"),
        text(&sw, "figure"),
        text(&sw, "placement"),
    );
    let (lo, hi, swing) = (
        f64_column(&sw, "at_low"),
        f64_column(&sw, "at_high"),
        f64_column(&sw, "swing"),
    );
    let mut checked = 0;
    for r in 0..sw.height() {
        if sw_fig[r].as_deref() != Some("capex_usd_per_user") {
            continue;
        }
        let find = |which: &str| {
            (0..design.height())
                .find(|&i| {
                    run[i].as_deref() == Some(which)
                        && input[i] == sw_input[r]
                        && place[i] == sw_place[r]
                })
                .map(|i| capex[i])
                .unwrap()
        };
        assert_eq!(lo[r], find("low"));
        assert_eq!(hi[r], find("high"));
        if let (Some(a), Some(b)) = (lo[r], hi[r]) {
            assert_eq!(swing[r], Some((b - a).abs()));
        }
        checked += 1;
    }
    assert_eq!(checked, 2 * 4, "2 placements x 4 inputs");
    // The pool's price moves only the pool's capex: up at its high value.
    let row = (0..sw.height())
        .find(|&r| {
            sw_fig[r].as_deref() == Some("capex_usd_per_user")
                && sw_place[r].as_deref() == Some("pool")
                && sw_input[r].as_deref() == Some("placements[1].price_usd")
        })
        .unwrap();
    assert!(hi[row].unwrap() > lo[row].unwrap());
}

#[test]
fn latin_hypercube_hits_every_stratum_once() {
    for (n, d, seed) in [(1, 4, 1), (10, 10, 2), (100, 10, 3), (997, 3, 4)] {
        let u = latin_hypercube(n, d, seed);
        assert_eq!(u.len(), n);
        for k in 0..d {
            let col: Vec<f64> = u.iter().map(|r| r[k]).collect();
            assert!(stratified(&col), "n {n}, input {k}");
            assert!(col.iter().all(|x| (0.0..1.0).contains(x)));
        }
        assert_eq!(u, latin_hypercube(n, d, seed), "deterministic");
    }
    // Not the identity: the strata are matched across inputs at random.
    let u = latin_hypercube(50, 2, 9);
    let same = u
        .iter()
        .filter(|r| (r[0] * 50.0).floor() == (r[1] * 50.0).floor())
        .count();
    assert!(same < 10, "{same} of 50 samples share their stratum");
}
