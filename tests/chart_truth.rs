//! Charts tell the truth: for every chart kind, one placement that misses
//! the service level (by the verdict columns the tables print) makes the
//! headline say so; sweep keys and placements read as words, never key
//! paths, on the shipped scenarios' data; series that coincide are drawn
//! once with both names; a replayed trace keeps its clock hours.

use polars::prelude::DataFrame;
use sharesim::charts::{self, chart_text, Chart};
use sharesim::results::{cell, get, Row, Value};

use crate::charts::{df, duty_sweep, latency_cdf, memory_sweep, s, sizing, timeline, users_sweep};
use crate::support::{assert_success, f64_column, read_parquet, repo_file, sharesim_on};

/// `rows` with the row of `placement` where `pick` holds made infeasible,
/// as `sharesim size` writes a miss (feasible = false, the reason's MISSED
/// target).
fn infeasible(rows: Vec<Row>, placement: &str, pick: impl Fn(&Row) -> bool) -> Vec<Row> {
    let mut hit = 0;
    let out = rows
        .into_iter()
        .map(|mut r| {
            if get(&r, "placement") == Some(&s(placement)) && pick(&r) {
                hit += 1;
                for (name, v) in r.iter_mut() {
                    match name.as_str() {
                        "feasible" => *v = Value::Bool(Some(false)),
                        "reason" => {
                            *v = s("misses the service level: ttft_p99_s 7.1 (<= 5) MISSED; tpot_p99_s 0.02 (<= 0.1) ok")
                        }
                        "slo_detail" => *v = s(""),
                        _ => {}
                    }
                }
            }
            r
        })
        .collect();
    assert!(hit > 0, "no row of {placement} picked");
    out
}

fn at(col: &'static str, x: f64) -> impl Fn(&Row) -> bool {
    move |r: &Row| get(r, col).and_then(Value::as_f64) == Some(x)
}

fn title(chart: Chart, rows: &[Row]) -> String {
    chart_text(chart, &df(rows))
        .unwrap_or_else(|e| panic!("{chart:?}: {e}"))
        .title
}

#[track_caller]
fn says_missed(t: &str, who_where: &str) {
    assert!(
        t.contains(who_where),
        "the headline does not say {who_where:?}: {t}"
    );
    assert!(!t.contains("Every placement meets"), "{t}");
}

#[test]
fn sharing_headline_names_the_miss() {
    // duty_sweep: one device per user is infeasible at 10 %.
    let t = title(Chart::SharingFactorVsDutyCycle, &duty_sweep());
    says_missed(&t, "desktop misses the service level at duty cycle 10 %");
    assert!(t.contains("p99 TTFT 6.6 s > 5 s"), "{t}");
}

#[test]
fn hardware_headline_names_the_miss() {
    let rows = infeasible(users_sweep(), "gpu-pool", at("sweep_users_count", 1000.0));
    let t = title(Chart::HardwareVsUsers, &rows);
    says_missed(&t, "gpu-pool misses the service level at 1,000 users");
}

#[test]
fn pool_size_headline_names_the_miss() {
    let rows = infeasible(sizing(), "gpu-pool", at("pool_users", 4.0));
    let t = title(Chart::PoolSizeCurve, &rows);
    says_missed(&t, "gpu-pool misses the service level at a pool of 4");
    let rows = infeasible(sizing(), "desktop", |_| true);
    let t = title(Chart::PoolSizeCurve, &rows);
    says_missed(
        &t,
        "desktop misses the service level (p99 TTFT 7.1 s > 5 s)",
    );
}

#[test]
fn cost_headline_names_the_miss() {
    let rows = infeasible(
        memory_sweep(),
        "gpu-pool",
        at("sweep_costs_memory_price_multiplier", 5.0),
    );
    let t = title(Chart::CostVsMemoryPrice, &rows);
    says_missed(&t, "gpu-pool misses the service level at memory price ×5");
}

#[test]
fn p99_headline_names_the_miss_in_size_and_run_mode() {
    // Size mode: the infeasible point has no p99 to plot; the headline
    // still says so (it used to say every placement meets the level).
    let t = title(Chart::P99LatencyVsAxis, &duty_sweep());
    says_missed(&t, "desktop misses the service level at duty cycle 10 %");
    // Run mode: slo_met = false on a plotted point whose p99 is below the
    // bound drawn (the verdict is judged at the upper end of the interval).
    let rows: Vec<Row> = users_sweep()
        .into_iter()
        .map(|mut r| {
            let miss = get(&r, "placement") == Some(&s("desktop"))
                && get(&r, "sweep_users_count").and_then(Value::as_f64) == Some(10.0);
            r.retain(|(n, _)| n != "feasible" && n != "slo_detail");
            r.push(cell("slo_met", Value::Bool(Some(!miss))));
            r.push(cell(
                "slo_detail",
                s(if miss {
                    "ttft_p99_s 5.2 (<= 5) MISSED; tpot_p99_s 0.017 (<= 0.1) ok"
                } else {
                    "ttft_p99_s 3 (<= 5) ok; tpot_p99_s 0.017 (<= 0.1) ok"
                }),
            ));
            r
        })
        .collect();
    let t = title(Chart::P99LatencyVsAxis, &rows);
    says_missed(
        &t,
        "desktop misses the service level at 10 users (p99 TTFT 5.2 s > 5 s)",
    );
}

#[test]
fn p99_draws_every_swept_target() {
    // A swept TTFT target: each series' own bound is drawn and judged.
    let mut rows = Vec::new();
    for (i, bound) in [5.0, 30.0].into_iter().enumerate() {
        for r in duty_sweep() {
            let mut r: Row = r
                .into_iter()
                .map(|(n, v)| match n.as_str() {
                    "reason" | "slo_detail" => {
                        let t = match &v {
                            Value::Str(t) => t.replace("(<= 5)", &format!("(<= {bound})")),
                            _ => String::new(),
                        };
                        (n, s(&t))
                    }
                    _ => (n, v),
                })
                .collect();
            if bound == 30.0 {
                // At 30 s the desktop meets it everywhere.
                for (n, v) in r.iter_mut() {
                    if n == "feasible" {
                        *v = Value::Bool(Some(true));
                    }
                }
            }
            r.push(cell(
                "sweep_service_level_ttft_p99_s",
                Value::F64(Some(bound)),
            ));
            r.push(cell("point_pair", Value::U64(i as u64)));
            rows.push(r);
        }
    }
    let text = chart_text(Chart::P99LatencyVsAxis, &df(&rows)).unwrap();
    for bound in ["p99 ≤ 5 s", "p99 ≤ 30 s"] {
        assert!(
            text.notes.iter().any(|n| n.contains(bound)),
            "{bound} not drawn: {:?}",
            text.notes
        );
    }
    says_missed(
        &text.title,
        "desktop (TTFT p99 target 5 s) misses the service level at duty cycle 10 %",
    );
    assert!(!text.title.contains("target 30 s"), "{}", text.title);
}

/// latency_cdf rows with each placement's verdict, as `sharesim run`
/// writes them: desktop misses TPOT only.
fn cdf_with_verdicts() -> Vec<Row> {
    latency_cdf()
        .into_iter()
        .map(|mut r| {
            let desktop = get(&r, "placement") == Some(&s("desktop"));
            r.push(cell("slo_met", Value::Bool(Some(!desktop))));
            r.push(cell(
                "slo_detail",
                s(if desktop {
                    "ttft_p99_s 1.9 (<= 2) ok; tpot_p99_s 0.2 (<= 0.1) MISSED"
                } else {
                    "ttft_p99_s 0.5 (<= 2) ok; tpot_p99_s 0.05 (<= 0.1) ok"
                }),
            ));
            r
        })
        .collect()
}

#[test]
fn cdf_headline_judges_every_target() {
    let text = chart_text(Chart::LatencyCdf, &df(&cdf_with_verdicts())).unwrap();
    let t = &text.title;
    says_missed(t, "desktop (p99 TPOT 0.2 s > 0.1 s) misses it");
    assert!(t.contains("p99 TTFT ≤ 2 s and p99 TPOT ≤ 0.1 s"), "{t}");
    assert!(t.starts_with("gpu-pool meets"), "{t}");
    // TPOT is a target, so it has a panel with its bound.
    assert!(
        text.axes.iter().any(|a| a.contains("TPOT")),
        "{:?}",
        text.axes
    );
    assert!(
        text.notes.iter().any(|n| n.contains("≤ 0.1 s")),
        "{:?}",
        text.notes
    );
}

#[test]
fn load_headline_names_the_miss() {
    let rows: Vec<Row> = timeline()
        .into_iter()
        .map(|mut r| {
            r.push(cell("slo_met", Value::Bool(Some(false))));
            r.push(cell(
                "slo_detail",
                s("ttft_p99_s 9 (<= 5) MISSED; tpot_p99_s 0.02 (<= 0.1) ok"),
            ));
            r
        })
        .collect();
    let t = title(Chart::LoadOverTheDay, &rows);
    says_missed(&t, "gpu-pool misses the service level (p99 TTFT 9 s > 5 s)");
}

#[test]
fn coinciding_series_are_drawn_once_with_both_names() {
    // A second pool with the very same numbers as gpu-pool.
    let mut rows = duty_sweep();
    let twins: Vec<Row> = rows
        .iter()
        .filter(|r| get(r, "placement") == Some(&s("gpu-pool")))
        .map(|r| {
            r.iter()
                .map(|(n, v)| {
                    if n == "placement" {
                        (n.clone(), s("gpu-pool-b"))
                    } else {
                        (n.clone(), v.clone())
                    }
                })
                .collect()
        })
        .collect();
    rows.extend(twins);
    for chart in [Chart::P99LatencyVsAxis, Chart::SharingFactorVsDutyCycle] {
        let text = chart_text(chart, &df(&rows)).unwrap();
        // Every entry naming one pool names its twin: no series hides another.
        let pools: Vec<&String> = text
            .legend
            .iter()
            .filter(|l| l.contains("gpu-pool"))
            .collect();
        assert!(!pools.is_empty(), "{chart:?}: {:?}", text.legend);
        for l in pools {
            assert!(
                l.contains("gpu-pool-b") && l.contains("the same values"),
                "{chart:?}: {l:?} in {:?}",
                text.legend
            );
        }
        charts::render_rgb(chart, &df(&rows)).unwrap();
    }
}

/// A label reads as words: no key path (`users.duty_cycle`,
/// `placements[0]`, `sweep_...`, "placements 0 price usd").
#[track_caller]
fn words_only(label: &str, what: &str) {
    let bytes = label.as_bytes();
    let dotted = bytes
        .windows(3)
        .any(|w| w[1] == b'.' && w[0].is_ascii_alphabetic() && w[2].is_ascii_alphabetic());
    assert!(
        !dotted
            && !label.contains('[')
            && !label.contains('_')
            && !label.contains("placements ")
            && !label.contains("classes "),
        "{what} has a key path: {label:?}"
    );
}

fn assert_words(chart: Chart, data: &DataFrame, what: &str) {
    let Ok(text) = chart_text(chart, data) else {
        return;
    };
    for l in text.legend.iter().chain(&text.axes).chain(&text.notes) {
        words_only(l, &format!("{what} {chart:?}"));
    }
    words_only(&text.title, &format!("{what} {chart:?} title"));
}

#[test]
fn sweep_keys_read_as_words() {
    // The keys the shipped sweeps use, on frames shaped like their output.
    let keyed = |key: &str, values: [f64; 5]| -> DataFrame {
        let rows: Vec<Row> = duty_sweep()
            .into_iter()
            .map(|mut r| {
                let p = get(&r, "point").and_then(Value::as_f64).unwrap_or(0.0) as usize;
                r.retain(|(n, _)| n != "sweep_users_duty_cycle");
                r.push(cell(key, Value::F64(Some(values[p]))));
                r.push(cell("classes", s("chat+agent")));
                r
            })
            .collect();
        df(&rows)
    };
    let cases = [
        (
            "sweep_placements_0_price_usd",
            [1999.0, 2459.0, 2500.0, 6500.0, 7000.0],
            "desktop price $1,999",
        ),
        (
            "sweep_placements_1_network_rtt_s",
            [0.02, 0.05, 0.1, 0.2, 0.5],
            "gpu-pool network round trip 500 ms",
        ),
        (
            "sweep_classes_0_share",
            [1.0, 0.5, 0.2, 0.05, 0.01],
            "chat share 50 %",
        ),
        (
            "sweep_service_level_ttft_p99_s",
            [5.0, 10.0, 20.0, 30.0, 60.0],
            "TTFT p99 target 5 s",
        ),
    ];
    for (key, values, words) in cases {
        let data = keyed(key, values);
        let text = chart_text(Chart::P99LatencyVsAxis, &data).unwrap();
        let all = format!("{} {:?} {:?}", text.title, text.axes, text.subtitle);
        let short = words.rsplit_once(' ').map(|w| w.0).unwrap_or(words);
        let short = short.rsplit_once(' ').map(|w| w.0).unwrap_or(short);
        assert!(all.contains(short), "{key}: {short:?} not in {all}");
        for chart in Chart::ALL {
            assert_words(chart, &data, key);
        }
    }
}

#[test]
fn shipped_scenarios_chart_in_words_and_keep_the_trace_clock() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    assert_success(&sharesim_on(
        "sweep",
        &repo_file("scenarios/latency-and-availability.toml"),
        out,
    ));
    assert_success(&sharesim_on(
        "run",
        &repo_file("scenarios/azure-trace.toml"),
        out,
    ));
    let files = [
        "latency-and-availability/sweep.parquet",
        "azure-trace/latency_cdf.parquet",
        "azure-trace/timeline.parquet",
    ];
    for f in files {
        let data = read_parquet(&out.join(f));
        for chart in Chart::ALL {
            assert_words(chart, &data, f);
        }
    }
    // latency-and-availability's finding: the pool cannot meet the level
    // at a 500 ms round trip; the headline says so.
    let sweep = read_parquet(&out.join(files[0]));
    let t = chart_text(Chart::P99LatencyVsAxis, &sweep).unwrap().title;
    says_missed(
        &t,
        "h100-pool misses the service level at h100-pool network round trip 500 ms",
    );
    // The Azure hour was recorded 18:15-19:13 UTC: its load is there.
    let tl = read_parquet(&out.join(files[2]));
    let hours = f64_column(&tl, "hour_of_day");
    let arrivals = f64_column(&tl, "arrivals_per_min");
    let measured: Vec<f64> = hours
        .iter()
        .zip(&arrivals)
        .filter(|(_, a)| a.is_some())
        .filter_map(|(h, _)| *h)
        .collect();
    assert!(!measured.is_empty());
    let (lo, hi) = measured
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |m, h| {
            (m.0.min(*h), m.1.max(*h))
        });
    assert!(
        lo >= 18.25 && hi <= 19.3,
        "load at {lo}-{hi} h, not 18:15-19:15"
    );
}

/// One input's swing: (input, input column, low, high, answer at low, at
/// high, rank).
type Swing<'a> = (&'a str, &'a str, f64, f64, Option<f64>, Option<f64>, u64);

/// swings.parquet rows of one answer, one per [`Swing`].
/// A row of the dedicated placement comes first, not drawn, as `size`
/// writes the placements in file order.
fn swings(rows: &[Swing]) -> Vec<Row> {
    let first = ("desktop-per-user", "dedicated", false);
    let pool = ("h100-pool", "pooled", true);
    std::iter::once((first, rows[0]))
        .chain(rows.iter().map(|r| (pool, *r)))
        .map(
            |((placement, kind, drawn), (input, col, il, ih, lo, hi, rank))| {
                let opt = |v: Option<f64>| Value::F64(v);
                vec![
                    cell("scenario", s("unc")),
                    cell("placement", s(placement)),
                    cell("kind", s(kind)),
                    cell("pool_size", Value::U64(10_000)),
                    cell("figure", s("sharing_factor_tco")),
                    cell("input", s(input)),
                    cell("input_column", s(col)),
                    cell("input_low", Value::F64(Some(il))),
                    cell("input_high", Value::F64(Some(ih))),
                    cell("at_low", opt(lo)),
                    cell("at_nominal", Value::F64(Some(237.0))),
                    cell("at_high", opt(hi)),
                    cell("swing", opt(lo.zip(hi).map(|(a, b)| (b - a).abs()))),
                    cell("rank", Value::U64(rank)),
                    cell("tornado", Value::Bool(Some(drawn))),
                ]
            },
        )
        .collect()
}

#[test]
fn tornado_headline_is_the_first_ranked_input() {
    let data = swings(&[
        (
            "placements[1].pue",
            "sweep_placements_1_pue",
            1.1,
            1.6,
            Some(240.0),
            Some(233.0),
            3,
        ),
        (
            "users.duty_cycle",
            "sweep_users_duty_cycle",
            0.001,
            0.01,
            Some(475.0),
            Some(119.0),
            1,
        ),
        (
            "placements[1].price_usd",
            "sweep_placements_1_price_usd",
            25000.0,
            40000.0,
            Some(268.0),
            Some(193.0),
            2,
        ),
    ]);
    let text = chart_text(Chart::Tornado, &df(&data)).unwrap();
    assert!(
        text.title
            .starts_with("Duty cycle moves the TCO sharing factor of h100-pool most"),
        "{}",
        text.title
    );
    assert!(text.title.contains("×475 to ×119"), "{}", text.title);
    assert_words(Chart::Tornado, &df(&data), "swings");
    // The ranks decide, not the order of the rows or a recomputation.
    let reranked: Vec<Row> = data
        .into_iter()
        .map(|mut r| {
            let drawn = get(&r, "tornado") == Some(&Value::Bool(Some(true)));
            for (n, v) in r.iter_mut() {
                if n == "rank" && drawn {
                    let swapped = match &*v {
                        Value::U64(1) => 2,
                        Value::U64(2) => 1,
                        other => other.as_f64().unwrap() as u64,
                    };
                    *v = Value::U64(swapped);
                }
            }
            r
        })
        .collect();
    let t = chart_text(Chart::Tornado, &df(&reranked)).unwrap().title;
    assert!(t.starts_with("H100-pool price moves"), "{t}");
    // An input whose answer is infeasible at one end is named, not drawn.
    let open = swings(&[
        (
            "users.duty_cycle",
            "sweep_users_duty_cycle",
            0.001,
            0.5,
            Some(475.0),
            None,
            2,
        ),
        (
            "placements[1].pue",
            "sweep_placements_1_pue",
            1.1,
            1.6,
            Some(240.0),
            Some(233.0),
            1,
        ),
    ]);
    let text = chart_text(Chart::Tornado, &df(&open)).unwrap();
    assert!(
        text.title.starts_with("H100-pool PUE moves"),
        "{}",
        text.title
    );
    let all = format!("{:?}", text.subtitle);
    assert!(all.contains("Not drawn: duty cycle"), "{all}");
}
