//! Charts: every chart renders a 1600 x 1000 PNG with visible content from
//! small tables shaped like sharesim's outputs, files are written atomically,
//! and data without anything to show is refused with a clear message and no
//! file.

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;
use sharesim::charts::{self, Chart, ChartError, HEIGHT, WIDTH};
use sharesim::output::{rows_to_dataframe, write_parquet};
use sharesim::results::{cell, Row, Value};

use crate::support::png_size;

pub(crate) fn f(v: f64) -> Value {
    Value::F64(Some(v))
}
fn none() -> Value {
    Value::F64(None)
}
pub(crate) fn s(v: &str) -> Value {
    Value::Str(v.into())
}
fn opt(v: Option<f64>) -> Value {
    Value::F64(v)
}

/// One sizing row, as `sharesim size` writes it (the columns the charts read).
#[allow(clippy::too_many_arguments)]
pub(crate) fn sizing_row(
    placement: &str,
    kind: &str,
    users: u64,
    pool_users: u64,
    feasible: bool,
    devices: Option<f64>,
    mem_per_device: f64,
    price: f64,
) -> Row {
    let u = users as f64;
    let mem = devices.map(|d| d * mem_per_device);
    let capex = devices.map(|d| d * price);
    vec![
        cell("scenario", s("test")),
        cell("placement", s(placement)),
        cell("kind", s(kind)),
        cell("users", Value::U64(users)),
        cell("pool_users", Value::U64(pool_users)),
        cell("feasible", Value::Bool(Some(feasible))),
        cell(
            "reason",
            s(if feasible {
                ""
            } else {
                "one device per user misses the service level: ttft_p99_s 6.6 (<= 5) MISSED"
            }),
        ),
        cell(
            "servers_per_pool",
            opt(devices.map(|d| d * pool_users as f64 / u)),
        ),
        cell("devices_total", opt(devices)),
        cell("devices_per_user", opt(devices.map(|d| d / u))),
        cell("mem_gb_total", opt(mem)),
        cell("mem_gb_per_user", opt(mem.map(|m| m / u))),
        cell("capex_usd_total", opt(capex)),
        cell("capex_usd_per_user", opt(capex.map(|c| c / u))),
        cell(
            "ttft_p99_s",
            opt(feasible.then_some(if kind == "pooled" { 0.15 } else { 3.0 })),
        ),
        cell("ttft_p99_s_ci95", opt(feasible.then_some(0.02))),
        cell(
            "tpot_p99_s",
            opt(feasible.then_some(if kind == "pooled" { 0.03 } else { 0.017 })),
        ),
        cell("tpot_p99_s_ci95", opt(feasible.then_some(0.002))),
        cell("wait_p99_s", opt(feasible.then_some(0.01))),
        cell("response_p99_s", none()),
        cell(
            "slo_detail",
            s(if feasible {
                "ttft_p99_s 0.15 (<= 5) ok; tpot_p99_s 0.03 (<= 0.1) ok"
            } else {
                ""
            }),
        ),
    ]
}

/// Add the sharing factors of each pooled row against the dedicated row of
/// the same point, as `sharesim size` does.
pub(crate) fn with_sharing(mut rows: Vec<Row>) -> Vec<Row> {
    let per_user = |r: &Row, c: &str| sharesim::results::get(r, c).and_then(Value::as_f64);
    let dedicated = rows
        .iter()
        .find(|r| sharesim::results::get(r, "kind") == Some(&s("dedicated")))
        .cloned();
    for r in &mut rows {
        for (metric, col) in [
            ("devices", "devices_per_user"),
            ("memory", "mem_gb_per_user"),
            ("capex", "capex_usd_per_user"),
        ] {
            let v = dedicated
                .as_ref()
                .and_then(|d| Some(per_user(d, col)? / per_user(r, col)?));
            r.push(cell(format!("sharing_factor_{metric}"), opt(v)));
        }
    }
    rows
}

pub(crate) fn sweep_point(point: u64, axis: &str, x: f64, rows: Vec<Row>) -> Vec<Row> {
    rows.into_iter()
        .map(|r| {
            let mut out = vec![
                cell("point", Value::U64(point)),
                cell(format!("sweep_{axis}"), f(x)),
            ];
            out.extend(r);
            out
        })
        .collect()
}

/// A size-mode sweep over the duty cycle: 10,000 users, the pool grows with
/// the duty cycle, one device per user is infeasible at the last point.
pub(crate) fn duty_sweep() -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, (dc, pooled)) in [
        (0.0002, 1.0),
        (0.001, 1.0),
        (0.01, 2.0),
        (0.03, 5.0),
        (0.1, 12.0),
    ]
    .into_iter()
    .enumerate()
    {
        let ok = dc < 0.1;
        let point = with_sharing(vec![
            sizing_row(
                "desktop",
                "dedicated",
                10_000,
                10_000,
                ok,
                ok.then_some(10_000.0),
                128.0,
                2000.0,
            ),
            sizing_row(
                "gpu-pool",
                "pooled",
                10_000,
                10_000,
                true,
                Some(pooled),
                80.0,
                30_000.0,
            ),
        ]);
        rows.extend(sweep_point(i as u64, "users_duty_cycle", dc, point));
    }
    rows
}

pub(crate) fn users_sweep() -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, (users, pooled)) in [
        (10u64, 1.0),
        (100, 1.0),
        (1000, 2.0),
        (10_000, 8.0),
        (100_000, 60.0),
    ]
    .into_iter()
    .enumerate()
    {
        let point = with_sharing(vec![
            sizing_row(
                "desktop",
                "dedicated",
                users,
                users,
                true,
                Some(users as f64),
                128.0,
                2000.0,
            ),
            sizing_row(
                "gpu-pool",
                "pooled",
                users,
                users,
                true,
                Some(pooled),
                80.0,
                30_000.0,
            ),
        ]);
        rows.extend(sweep_point(i as u64, "users_count", users as f64, point));
    }
    rows
}

/// Capital cost vs memory price: dedicated 100 + 10 m, pooled 50 + 30 m
/// (USD), so the curves cross at m = 2.5.
pub(crate) fn memory_sweep() -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, m) in [1.0, 2.0, 3.0, 4.0, 5.0].into_iter().enumerate() {
        let point = with_sharing(vec![
            sizing_row(
                "desktop",
                "dedicated",
                10,
                10,
                true,
                Some(10.0),
                128.0,
                (100.0 + 10.0 * m) / 10.0,
            ),
            sizing_row(
                "gpu-pool",
                "pooled",
                10,
                10,
                true,
                Some(1.0),
                80.0,
                50.0 + 30.0 * m,
            ),
        ]);
        rows.extend(sweep_point(
            i as u64,
            "costs_memory_price_multiplier",
            m,
            point,
        ));
    }
    rows
}

/// sizing.parquet of `sharesim size` with pool sizes 1, 4, 16, 100 and all.
pub(crate) fn sizing() -> Vec<Row> {
    let mut rows = vec![sizing_row(
        "desktop",
        "dedicated",
        1000,
        1000,
        true,
        Some(1000.0),
        128.0,
        2000.0,
    )];
    for (k, per_pool) in [(1u64, 1.0), (4, 1.0), (16, 2.0), (100, 4.0), (1000, 20.0)] {
        let pools = 1000.0 / k as f64;
        rows.push(sizing_row(
            "gpu-pool",
            "pooled",
            1000,
            k,
            true,
            Some(per_pool * pools),
            80.0,
            30_000.0,
        ));
    }
    with_sharing(rows)
}

/// latency_cdf.parquet of an LLM `sharesim run`.
pub(crate) fn latency_cdf() -> Vec<Row> {
    let mut quantiles: Vec<f64> = (0..=99).map(|i| f64::from(i) / 100.0).collect();
    quantiles.extend([0.995, 0.999, 0.9995, 0.9999, 1.0]);
    let mut rows = Vec::new();
    for (placement, kind, scale) in [("desktop", "dedicated", 2.0), ("gpu-pool", "pooled", 0.1)] {
        for (latency, slo) in [
            ("wait", None),
            ("ttft", Some(2.0)),
            ("tpot", Some(0.1)),
            ("e2e", None),
        ] {
            for &q in &quantiles {
                // An exponential-ish tail; waits are zero for most requests.
                let base = -(1.0 - q.min(0.99995)).ln() * scale;
                let value = if latency == "wait" {
                    (base - 3.0 * scale).max(0.0)
                } else {
                    base + scale * 0.2
                };
                rows.push(vec![
                    cell("scenario", s("test")),
                    cell("placement", s(placement)),
                    cell("kind", s(kind)),
                    cell("latency", s(latency)),
                    cell("quantile", f(q)),
                    cell("value_s", f(value)),
                    cell("slo_quantile", opt(slo.map(|_| 0.99))),
                    cell("slo_max_s", opt(slo)),
                ]);
            }
        }
    }
    rows
}

/// timeline.parquet of a 24 h diurnal `sharesim run` (the first hour is warm-up).
pub(crate) fn timeline() -> Vec<Row> {
    let mut rows = Vec::new();
    for (placement, kind, servers) in [
        ("desktop", "dedicated", 1000u64),
        ("gpu-pool", "pooled", 24),
    ] {
        for m in 0..1440u64 {
            let h = m as f64 / 60.0;
            let demand = 6000.0 + 2500.0 * (std::f64::consts::TAU * (h - 8.0) / 24.0).sin();
            let measured = m >= 60;
            rows.push(vec![
                cell("scenario", s("test")),
                cell("placement", s(placement)),
                cell("kind", s(kind)),
                cell("minute_of_day", Value::U64(m)),
                cell("hour_of_day", f(h)),
                cell("servers", Value::U64(servers)),
                cell("arrivals_per_min", opt(measured.then_some(demand))),
                cell(
                    "busy_servers",
                    opt(measured.then_some((demand / 8600.0 * servers as f64).min(servers as f64))),
                ),
            ]);
        }
    }
    rows
}

pub(crate) fn df(rows: &[Row]) -> DataFrame {
    rows_to_dataframe(rows).unwrap()
}

/// Share of pixels that are not white.
fn ink(rgb: &[u8]) -> f64 {
    let dark = rgb.chunks(3).filter(|p| p != &[255, 255, 255]).count();
    dark as f64 / (rgb.len() / 3) as f64
}

/// Only these files (no temporary leftovers) in `dir`.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn assert_chart(
    chart: Chart,
    rows: &[Row],
    draw: fn(&DataFrame, &Path) -> Result<PathBuf, ChartError>,
) {
    let data = df(rows);
    let dir = tempfile::tempdir().unwrap();
    let name = chart.file_name(&data);
    let out = dir.path().join(&name);
    let written = draw(&data, &out).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(written, out);
    assert_eq!(png_size(&out), (WIDTH, HEIGHT), "{name}");
    assert_eq!(
        files_in(dir.path()),
        vec![name.clone()],
        "only the finished PNG is left"
    );
    let rgb = charts::render_rgb(chart, &data).unwrap();
    assert_eq!(rgb.len(), (WIDTH * HEIGHT * 3) as usize);
    let share = ink(&rgb);
    assert!(
        share >= 0.02,
        "{name}: only {:.2} % of pixels are drawn",
        share * 100.0
    );
    // Not a blank or single-colour canvas: the palette shows up.
    let blue = rgb.chunks(3).filter(|p| p == &[0x00, 0x72, 0xB2]).count();
    let orange = rgb.chunks(3).filter(|p| p == &[0xE6, 0x9F, 0x00]).count();
    assert!(
        blue + orange > 500,
        "{name}: the data series are missing ({blue} blue, {orange} orange pixels)"
    );
}

#[test]
fn sharing_factor_vs_duty_cycle_draws() {
    assert_chart(
        Chart::SharingFactorVsDutyCycle,
        &duty_sweep(),
        charts::sharing_factor_vs_duty_cycle,
    );
}

#[test]
fn hardware_vs_users_draws() {
    assert_chart(
        Chart::HardwareVsUsers,
        &users_sweep(),
        charts::hardware_vs_users,
    );
}

#[test]
fn pool_size_curve_draws() {
    assert_chart(Chart::PoolSizeCurve, &sizing(), charts::pool_size_curve);
}

#[test]
fn cost_vs_memory_price_draws() {
    assert_chart(
        Chart::CostVsMemoryPrice,
        &memory_sweep(),
        charts::cost_vs_memory_price,
    );
}

#[test]
fn p99_latency_vs_axis_draws_and_names_its_axis() {
    let data = df(&duty_sweep());
    assert_eq!(
        Chart::P99LatencyVsAxis.file_name(&data),
        "p99-latency-vs-users-duty-cycle.png"
    );
    assert_chart(
        Chart::P99LatencyVsAxis,
        &duty_sweep(),
        charts::p99_latency_vs_axis,
    );
}

#[test]
fn latency_cdf_draws() {
    assert_chart(Chart::LatencyCdf, &latency_cdf(), charts::latency_cdf);
}

#[test]
fn load_over_the_day_draws() {
    assert_chart(
        Chart::LoadOverTheDay,
        &timeline(),
        charts::load_over_the_day,
    );
}

#[test]
fn rendering_is_deterministic() {
    let data = df(&duty_sweep());
    let a = charts::render_rgb(Chart::SharingFactorVsDutyCycle, &data).unwrap();
    let b = charts::render_rgb(Chart::SharingFactorVsDutyCycle, &data).unwrap();
    assert!(a == b);
}

#[test]
fn files_get_every_chart_they_support() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("charts");
    let cases: Vec<(&str, Vec<Row>, Vec<&str>)> = vec![
        (
            "duty.parquet",
            duty_sweep(),
            vec![
                "sharing-factor-vs-duty-cycle.png",
                "p99-latency-vs-users-duty-cycle.png",
            ],
        ),
        (
            "users.parquet",
            users_sweep(),
            vec!["hardware-vs-users.png", "p99-latency-vs-users-count.png"],
        ),
        (
            "memory.parquet",
            memory_sweep(),
            vec![
                "cost-vs-memory-price.png",
                "p99-latency-vs-costs-memory-price-multiplier.png",
            ],
        ),
        ("sizing.parquet", sizing(), vec!["pool-size-curve.png"]),
        (
            "latency_cdf.parquet",
            latency_cdf(),
            vec!["latency-cdf.png"],
        ),
        (
            "timeline.parquet",
            timeline(),
            vec!["load-over-the-day.png"],
        ),
    ];
    for (file, rows, expected) in cases {
        let parquet = dir.path().join(file);
        write_parquet(&parquet, &rows).unwrap();
        let written =
            charts::charts_for_file(&parquet, &out).unwrap_or_else(|e| panic!("{file}: {e}"));
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, expected, "{file}");
        for p in &written {
            assert_eq!(png_size(p), (WIDTH, HEIGHT));
        }
    }
    assert!(files_in(&out)
        .iter()
        .all(|n| n.ends_with(".png") && !n.starts_with('.')));
}

#[test]
fn a_file_without_chartable_columns_is_no_data_naming_what_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("other.parquet");
    let rows: Vec<Row> = (0..3)
        .map(|i| {
            vec![
                cell("placement", s("x")),
                cell("utilization_share", f(0.1 * f64::from(i))),
            ]
        })
        .collect();
    write_parquet(&parquet, &rows).unwrap();
    let out = dir.path().join("charts");
    let e = charts::charts_for_file(&parquet, &out).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ChartError::NoData { .. }), "{msg}");
    for needed in [
        "other.parquet",
        "sweep_users_duty_cycle",
        "latency_cdf.parquet",
        "timeline.parquet",
        "sharesim sweep",
    ] {
        assert!(msg.contains(needed), "message lacks {needed:?}: {msg}");
    }
    assert!(!out.exists(), "nothing is written for a file with no chart");
}

#[test]
fn a_chart_without_usable_rows_is_refused_and_writes_nothing() {
    // Every point infeasible: no sharing factor anywhere.
    let rows: Vec<Row> = duty_sweep()
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|(n, v)| {
                    if n.starts_with("sharing_factor") {
                        (n, none())
                    } else {
                        (n, v)
                    }
                })
                .collect()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sharing-factor-vs-duty-cycle.png");
    let e = charts::sharing_factor_vs_duty_cycle(&df(&rows), &out).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ChartError::NoData { .. }), "{msg}");
    assert!(
        msg.contains("sharing factor") && msg.contains("sharesim sweep"),
        "{msg}"
    );
    assert!(
        files_in(dir.path()).is_empty(),
        "no PNG and no temporary file"
    );

    // The wrong file for a chart says which columns it needs.
    let e = charts::load_over_the_day(&df(&sizing()), &dir.path().join("x.png")).unwrap_err();
    assert!(e.to_string().contains("arrivals_per_min"), "{e}");
    // An empty frame.
    let e = charts::latency_cdf(&DataFrame::empty(), &dir.path().join("y.png")).unwrap_err();
    assert!(matches!(e, ChartError::NoData { .. }), "{e}");
    // A timeline of dedicated placements only.
    let dedicated: Vec<Row> = timeline()
        .into_iter()
        .filter(|r| sharesim::results::get(r, "kind") == Some(&s("dedicated")))
        .collect();
    let e = charts::load_over_the_day(&df(&dedicated), &dir.path().join("z.png")).unwrap_err();
    assert!(e.to_string().contains("pooled"), "{e}");
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn a_file_that_is_not_parquet_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.parquet");
    std::fs::write(&bogus, b"not parquet").unwrap();
    let e = charts::charts_for_file(&bogus, dir.path()).unwrap_err();
    assert!(matches!(e, ChartError::Read { .. }), "{e}");
    let e = charts::charts_for_file(&dir.path().join("missing.parquet"), dir.path()).unwrap_err();
    assert!(matches!(e, ChartError::Read { .. }), "{e}");
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    // The destination is an existing folder: the rename cannot replace it.
    let out = dir.path().join("latency-cdf.png");
    std::fs::create_dir(&out).unwrap();
    let e = charts::latency_cdf(&df(&latency_cdf()), &out).unwrap_err();
    // An I/O failure is the OS error, naming the file (issue 15).
    assert!(
        matches!(
            e,
            ChartError::Write(sharesim::output::OutputError::Io { .. })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("latency-cdf.png"), "{e}");
    assert_eq!(files_in(dir.path()), vec!["latency-cdf.png".to_string()]);
    assert!(out.is_dir());
}

/// Render the charts of real output files: `CHART_FILES=a.parquet:b.parquet
/// CHART_OUT=/tmp/charts cargo test --release charts::render_files_from_env -- --ignored`.
#[test]
#[ignore]
fn render_files_from_env() {
    let files = std::env::var("CHART_FILES").unwrap_or_default();
    let out = PathBuf::from(std::env::var("CHART_OUT").unwrap_or_else(|_| "/tmp/charts".into()));
    for f in files.split(':').filter(|s| !s.is_empty()) {
        match charts::charts_for_file(Path::new(f), &out) {
            Ok(p) => eprintln!("{f}: {p:?}"),
            Err(e) => eprintln!("{f}: ERROR {e}"),
        }
    }
}
