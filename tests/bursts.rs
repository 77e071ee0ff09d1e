//! Bursty arrivals and what traces say about them: the MMPP that
//! `fit-trace` fits to the shipped Azure code trace, written into a
//! scenario, reproduces the trace's index of dispersion at 1, 10 and 60 s
//! within 20 %; a Poisson workload gives an index of 1 within its sampling
//! error; a gamma renewal scenario gives the dispersion its fit predicts;
//! the unbounded-cache hit share of a Mooncake-format trace equals a
//! hand-computed value; and custom column mappings in `[trace]` read CSV
//! and JSONL traces.

use std::path::Path;

use sharesim::workload::{
    dispersion_of_arrivals, fit_trace, gamma_dispersion, ColumnMapping, ReplayOptions, Source,
    Trace, TraceFormat, DISPERSION_WINDOWS_S,
};

use crate::support::{repo_file, scenario, write};

/// Every open-loop arrival of replication 0 (instant responses).
fn arrivals(text: &str) -> Vec<f64> {
    let s = scenario(text);
    let mut src = Source::new(s.population(), 0);
    let mut out = Vec::new();
    while let Some((t, user)) = src.pop() {
        out.push(t);
        src.completed(user, t);
    }
    out
}

/// A generic scenario of 1,000 users sending `rate_per_s` requests per
/// second in total, flat, over `hours`, with `extra` under `[users]`.
fn stream(rate_per_s: f64, hours: f64, extra: &str) -> String {
    format!(
        r#"
horizon_h = {hours}
replications = 1
[users]
count = 1000
requests_per_day = {rpd}
{extra}
[service]
distribution = "deterministic"
value_s = 0.001
[[placements]]
name = "pool"
kind = "pooled"
servers = 1
"#,
        rpd = rate_per_s * 86_400.0 / 1000.0
    )
}

#[test]
fn fitted_mmpp_reproduces_the_azure_code_trace_dispersion() {
    let trace = Trace::load(
        &repo_file("data/traces/azure_llm_2023_code.csv"),
        &TraceFormat::Azure,
        &ReplayOptions::default(),
    )
    .unwrap();
    let fit = fit_trace(&trace);
    assert!(!fit.poisson_like);
    let bursts = fit.bursts.as_ref().expect("a bursty fit");
    let mmpp = &bursts.mmpp;
    assert_eq!(mmpp.process.name(), "mmpp");
    let rate = fit.arrival_rate_per_s.unwrap();
    // The fit's snippet line, in a scenario at the trace's rate, 200 hours.
    let got = arrivals(&stream(
        rate,
        200.0,
        &format!("bursts = {}", mmpp.process.toml()),
    ));
    let mean_rate = got.len() as f64 / (200.0 * 3600.0);
    assert!(
        (mean_rate / rate - 1.0).abs() < 0.05,
        "rate {mean_rate} vs {rate}"
    );
    for (w, target, _) in &fit.dispersion {
        let target = target.unwrap();
        let sim = dispersion_of_arrivals(&got, *w).unwrap();
        println!("window {w} s: trace {target:.2}, fitted MMPP simulated {sim:.2}");
        // The trace is far from Poisson at every window.
        assert!(target > 10.0, "{w}: {target}");
        assert!(
            (sim / target - 1.0).abs() <= 0.20,
            "window {w} s: simulated {sim} vs trace {target}"
        );
    }
}

#[test]
fn poisson_workload_has_dispersion_one() {
    let hours = 50.0;
    let got = arrivals(&stream(2.0, hours, ""));
    let trace = Trace::from_requests(
        got.iter()
            .map(|&t| sharesim::workload::TraceRequest {
                arrival_s: t,
                input_tokens: 1,
                output_tokens: 1,
                user: None,
                session: None,
            })
            .collect(),
        "<poisson>",
        None,
    );
    let fit = fit_trace(&trace);
    for &(w, d, n) in &fit.dispersion {
        let d = d.unwrap();
        // Standard error of the index over n windows: sqrt(2 / (n - 1)).
        let se = (2.0 / (n as f64 - 1.0)).sqrt();
        println!("window {w} s: {d:.4} (se {se:.4}, {n} windows)");
        assert!((d - 1.0).abs() < 4.0 * se, "window {w}: {d} (se {se})");
    }
    assert!(fit.poisson_like);
    assert!(fit.bursts.is_none());
}

#[test]
fn gamma_renewal_scenario_gives_its_predicted_dispersion() {
    let cv = 3.0;
    let rate = 2.0;
    let got = arrivals(&stream(
        rate,
        200.0,
        &format!("bursts = {{ process = \"gamma\", cv = {cv} }}"),
    ));
    let predicted = gamma_dispersion(cv, rate, &DISPERSION_WINDOWS_S);
    for (w, p) in DISPERSION_WINDOWS_S.iter().zip(&predicted) {
        let sim = dispersion_of_arrivals(&got, *w).unwrap();
        println!("window {w} s: scenario {sim:.2}, predicted {p:.2}");
        assert!((sim / p - 1.0).abs() < 0.15, "window {w}: {sim} vs {p}");
    }
    // Gaps with CV 3: the long-window index tends to cv^2 = 9.
    assert!(predicted[2] > 6.0 && predicted[2] < 10.0, "{predicted:?}");
}

/// A Mooncake-format trace (512-token blocks) with known overlaps, one
/// row out of time order, a blank line and an extra key.
const MOONCAKE: &str = r#"{"timestamp": 0, "input_length": 1200, "output_length": 10, "hash_ids": [10, 11, 12]}
{"timestamp": 500, "input_length": 1100, "output_length": 10, "hash_ids": [10, 11, 20]}
{"timestamp": 200, "input_length": 600, "output_length": 10, "hash_ids": [10, 30], "note": "x"}

{"timestamp": 900, "input_length": 300, "output_length": 10, "hash_ids": [40]}
{"timestamp": 1000, "input_length": 1100, "output_length": 10, "hash_ids": [10, 11, 20]}
{"timestamp": 1100, "input_length": 700, "output_length": 10, "hash_ids": [99, 11]}
"#;

#[test]
fn unbounded_cache_hit_share_is_the_hand_computed_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.jsonl", MOONCAKE);
    assert_eq!(
        TraceFormat::detect_file(&path).unwrap(),
        TraceFormat::Mooncake
    );
    let t = Trace::load(&path, &TraceFormat::Mooncake, &ReplayOptions::default()).unwrap();
    let times: Vec<f64> = t.requests.iter().map(|r| r.arrival_s).collect();
    assert_eq!(times, vec![0.0, 0.2, 0.5, 0.9, 1.0, 1.1]);
    assert_eq!(t.blocks.as_ref().unwrap().of(1), &[10, 30]);
    // In arrival order: [10 11 12] nothing cached; [10 30] hits 10: 512;
    // [10 11 20] hits 10, 11: 1024; [40] none; [10 11 20] all three, the
    // last block partial (1100 - 1024 = 76): 1100; [99 11] misses its
    // first block, so nothing (11 is cached but not a prefix).
    let hits = t.unbounded_cache_hits().unwrap();
    assert_eq!(hits.prompt_tokens, 1200 + 600 + 1100 + 300 + 1100 + 700);
    assert_eq!(hits.hit_tokens, 512 + 1024 + 1100);
    assert_eq!(hits.requests_with_hit, 3);
    assert!((hits.share() - 2636.0 / 5000.0).abs() < 1e-15);
    // The same through fit-trace, and the same file in CSV with a custom
    // mapping (ids as text lists, times in seconds) and 4-token blocks.
    let out = crate::support::sharesim()
        .args(["fit-trace", path.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(
            "52.7 % of prompt tokens served from cache (2636 of 5000; 3 requests with a hit)"
        ),
        "{text}"
    );
    let csv = write(
        dir.path(),
        "t.csv",
        "t,in,out,blocks\n0,12,1,\"[1, 2, 3]\"\n1,10,1,1;2;9\n2,7,1,[7 2]\n",
    );
    let pairs: Vec<(String, String)> = [
        ("time", "t"),
        ("input", "in"),
        ("output", "out"),
        ("block_hashes", "blocks"),
        ("block_tokens", "4"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let m = ColumnMapping::from_pairs(&pairs).unwrap();
    let t = Trace::load(&csv, &TraceFormat::Custom(m), &ReplayOptions::default()).unwrap();
    // [1 2 3] none; [1 2 9] of 10 tokens: 4 + 4; [7 2]: none.
    let hits = t.unbounded_cache_hits().unwrap();
    assert_eq!((hits.hit_tokens, hits.prompt_tokens), (8, 29));
}

#[test]
fn custom_column_mappings_in_the_scenario_read_csv_and_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "calls.csv",
        "when_ms,key,conv,prompt,answer\n1500,alice,c1,100,10\n500,bob,c2,200,20\n2500,alice,c1,300,30\n",
    );
    write(
        dir.path(),
        "calls.jsonl",
        "{\"when_ms\": 1500, \"key\": \"alice\", \"prompt\": 100, \"answer\": 10}\n{\"when_ms\": 500, \"key\": \"bob\", \"prompt\": 200, \"answer\": 20}\n{\"when_ms\": 2500, \"key\": \"alice\", \"prompt\": 300, \"answer\": 30}\n",
    );
    for (file, session) in [("calls.csv", ", session = \"conv\""), ("calls.jsonl", "")] {
        let text = format!(
            r#"
horizon_s = 10
replications = 1
[trace]
file = "{file}"
columns = {{ time = "when_ms", time_unit = "ms", input = "prompt", output = "answer", user = "key"{session} }}
start_hour_of_day = 9
[users]
count = 2
[model]
name = "gpt_oss_20b"
quantisation = "mxfp4"
[[placements]]
name = "pool"
kind = "pooled"
device = "h100_sxm"
servers = 1
"#
        );
        let path = write(dir.path(), "s.toml", &text);
        let s = sharesim::scenario::Scenario::load(Path::new(&path))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let reqs = s.trace.as_ref().unwrap();
        let got: Vec<(f64, u32, Option<u64>)> = reqs
            .iter()
            .map(|r| (r.arrival_s, r.input_tokens, r.user))
            .collect();
        // Sorted, milliseconds to seconds; bob first gets user 0, alice 1
        // (both of alice's requests).
        assert_eq!(
            got,
            vec![
                (0.5, 200, Some(0)),
                (1.5, 100, Some(1)),
                (2.5, 300, Some(1))
            ],
            "{file}"
        );
        assert_eq!(s.trace_clock.unwrap().hour_of_day(0.5), 9, "{file}");
    }
}
