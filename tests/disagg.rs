//! Prefill/decode disaggregation: with an infinite link and one request at
//! a time TTFT is the prefill alone; a finite link adds exactly its
//! transfer before decoding starts; every request is prefilled, sent and
//! decoded; results do not depend on threads; placements without the
//! option are unchanged (tests/expected).

use sharesim::core::{stream_rng, StreamKind};
use sharesim::engine::{
    BatchConfig, BatchingFleet, DisaggConfig, DisaggFleet, Dispatch, KvAllocation, KvLink,
    LlmRequest,
};
use sharesim::llm::{Catalog, ServingCost, ServingOptions, StepModel};
use sharesim::metrics::{LlmRecorder, Window};

use crate::support::{assert_success, read_parquet, run_refused, sharesim, write};

fn step_model() -> StepModel {
    let cat = Catalog::builtin().unwrap();
    let (d, m) = (
        cat.device("h100_sxm").unwrap(),
        cat.model("gpt_oss_120b").unwrap(),
    );
    let options = ServingOptions::from_catalog(&cat, d, m, "mxfp4", 1, None).unwrap();
    ServingCost::new(d, m, &options).unwrap().step_model()
}

fn window() -> Window {
    Window {
        warmup_s: 0.0,
        horizon_s: 1e9,
    }
}

fn config(servers: usize, paged: bool) -> BatchConfig {
    BatchConfig {
        prefix: None,
        servers,
        max_batch: 64,
        kv_budget_tokens: 200_000,
        kv_allocation: if paged {
            KvAllocation::Paged { block_tokens: 16 }
        } else {
            KvAllocation::ReserveWholeContext
        },
        kv_fixed_tokens_per_seq: 0,
        context_limit_tokens: 131_072,
        step: step_model(),
        dispatch: Dispatch::CentralQueue,
        fast_forward: true,
        chunked_prefill_tokens: None,
        autoscaler: None,
    }
}

fn link(gb_per_s: f64, latency_s: f64) -> KvLink {
    KvLink {
        bytes_per_s: gb_per_s * 1e9,
        latency_s,
        kv_bytes_per_token: 36_864.0,
        kv_fixed_tokens_per_seq: 0,
    }
}

fn disagg(prefill: usize, decode: usize, link: KvLink, paged: bool) -> DisaggFleet {
    DisaggFleet::new(
        DisaggConfig {
            prefill: config(prefill, paged),
            decode: config(decode, paged),
            link,
        },
        window(),
        stream_rng(1, 0, StreamKind::Placement, 0),
        stream_rng(1, 0, StreamKind::Placement, 1),
    )
}

/// Requests one at a time: each arrives long after the previous ended.
fn lone_requests() -> Vec<LlmRequest> {
    [(1000u32, 200u32), (4000, 50), (37, 2), (2500, 1)]
        .iter()
        .enumerate()
        .map(|(i, &(input, output))| LlmRequest {
            prompt: Default::default(),
            arrival_s: 100.0 * i as f64,
            user: i as u32,
            input_tokens: input,
            output_tokens: output,
        })
        .collect()
}

/// (TTFT, E2E) of each request, served alone.
fn latencies(run: impl Fn(LlmRequest, &mut LlmRecorder)) -> Vec<(f64, f64)> {
    lone_requests()
        .into_iter()
        .map(|r| {
            let mut rec = LlmRecorder::new(window(), 0.0);
            run(
                LlmRequest {
                    arrival_s: 0.0,
                    ..r
                },
                &mut rec,
            );
            assert_eq!(rec.measured, 1);
            (rec.ttft.mean_s().unwrap(), rec.e2e.mean_s().unwrap())
        })
        .collect()
}

#[test]
fn infinite_link_ttft_is_the_prefill_alone() {
    let step = step_model();
    for paged in [false, true] {
        let got = latencies(|r, rec| {
            disagg(1, 1, link(f64::INFINITY, 0.0), paged).run(std::iter::once(r), rec);
        });
        let colocated = latencies(|r, rec| {
            BatchingFleet::new(
                config(1, paged),
                window(),
                stream_rng(1, 0, StreamKind::Placement, 0),
            )
            .run(std::iter::once(r), rec);
        });
        for ((r, (ttft, e2e)), (_, e2e_colocated)) in
            lone_requests().iter().zip(&got).zip(&colocated)
        {
            // Exactly the step model's prefill of the prompt.
            assert_eq!(*ttft, step.prefill_s(r.input_tokens as u64), "{r:?}");
            // Nothing sent, nothing waited: decoding is the colocated one.
            assert!(
                (e2e - e2e_colocated).abs() <= 1e-12 * e2e,
                "{e2e} vs {e2e_colocated}"
            );
        }
    }
}

#[test]
fn a_finite_link_adds_exactly_its_transfer_before_decoding() {
    let l = link(50.0, 0.002);
    for paged in [false, true] {
        let free = latencies(|r, rec| {
            disagg(1, 1, link(f64::INFINITY, 0.0), paged).run(std::iter::once(r), rec);
        });
        let sent = latencies(|r, rec| {
            disagg(1, 1, l, paged).run(std::iter::once(r), rec);
        });
        for ((r, a), b) in lone_requests().iter().zip(&free).zip(&sent) {
            // TTFT does not see the link.
            assert_eq!(a.0, b.0);
            let transfer = if r.output_tokens > 1 {
                0.002 + 36_864.0 * r.input_tokens as f64 / 50e9
            } else {
                0.0 // one token: done at the prefill, nothing sent
            };
            assert!(
                ((b.1 - a.1) - transfer).abs() <= 1e-12 * b.1,
                "{r:?}: {} vs {transfer}",
                b.1 - a.1
            );
        }
    }
}

/// `n` requests `gap_s` apart from `users` users, of deterministic sizes
/// spread over `input.0..input.0 + input.1` prompt and `1..=output`
/// output tokens.
fn spread(n: u32, gap_s: f64, users: u32, input: (u32, u32), output: u32) -> Vec<LlmRequest> {
    (0..n)
        .map(|i| LlmRequest {
            prompt: Default::default(),
            arrival_s: i as f64 * gap_s,
            user: i % users,
            input_tokens: input.0 + (i * 7919) % input.1,
            output_tokens: 1 + (i * 104_729) % output,
        })
        .collect()
}

/// Many requests at once on small pools (queueing and, paged, preemption
/// on the decode pool): every request is prefilled, sent and decoded.
#[test]
fn every_request_is_prefilled_sent_and_decoded() {
    let requests = spread(3000, 0.05, 97, (200, 3000), 400);
    let multi = requests.iter().filter(|r| r.output_tokens > 1).count() as u64;
    for paged in [false, true] {
        let mut rec = LlmRecorder::new(window(), 0.0);
        let mut cfg = DisaggConfig {
            prefill: config(2, paged),
            decode: config(1, paged),
            link: link(50.0, 0.001),
        };
        cfg.decode.kv_budget_tokens = 30_000;
        let u = DisaggFleet::new(
            cfg,
            window(),
            stream_rng(1, 0, StreamKind::Placement, 0),
            stream_rng(1, 0, StreamKind::Placement, 1),
        )
        .run(requests.iter().copied(), &mut rec);
        assert_eq!(rec.measured, requests.len() as u64, "paged {paged}");
        assert_eq!(rec.arrived, requests.len() as u64);
        assert_eq!(u.kv_transfers, multi);
        let bytes: f64 = requests
            .iter()
            .filter(|r| r.output_tokens > 1)
            .map(|r| 36_864.0 * r.input_tokens as f64)
            .sum();
        assert!((u.kv_transfer_bytes - bytes).abs() <= 1e-9 * bytes);
        assert!(u.max_kv_reserved_tokens <= 200_000);
        if paged {
            assert!(u.preemptions > 0, "the small decode cache must preempt");
        }
        // Time order: TTFT <= E2E for every request (means suffice here).
        assert!(rec.ttft.mean_s().unwrap() < rec.e2e.mean_s().unwrap());
    }
}

/// An LLM scenario of a colocated and a disaggregated pool of H100s.
const SCENARIO: &str = r#"
seed = 5
horizon_s = 1200
warmup_s = 200
replications = 2

[users]
count = 400
requests_per_day = 200

[model]
name = "gpt_oss_120b"
quantisation = "mxfp4"

[requests]
input_tokens = { distribution = "lognormal", median = 4000, p99 = 16000 }
output_tokens = { distribution = "lognormal", median = 129, p99 = 601 }

[[placements]]
name = "colocated"
kind = "pooled"
device = "h100_sxm"
servers = 2

[[placements]]
name = "disaggregated"
kind = "pooled"
device = "h100_sxm"

[placements.disaggregated]
prefill_servers = 1
decode_servers = 1

[service_level]
ttft_p99_s = 8.0
tpot_p99_s = 0.05
"#;

/// The tables `sharesim <command>` writes for `text` with `threads` threads.
fn tables(
    command: &str,
    text: &str,
    threads: &str,
    names: &[&str],
) -> Vec<polars::prelude::DataFrame> {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "d.toml", text);
    let out = dir.path().join("out");
    let o = sharesim()
        .arg(command)
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .args(["--threads", threads, "--no-charts"])
        .output()
        .unwrap();
    assert_success(&o);
    names
        .iter()
        .map(|n| read_parquet(&out.join("d").join(n)))
        .collect()
}

#[test]
fn sizing_is_bit_identical_for_one_and_two_threads_and_reports_both_pools() {
    let names = ["sizing.parquet", "probes.parquet"];
    let one = tables("size", SCENARIO, "1", &names);
    let two = tables("size", SCENARIO, "2", &names);
    for (a, b) in one.iter().zip(&two) {
        assert!(a.equals_missing(b), "{a}\n{b}");
    }
    let sizing = &one[0];
    let col = |c: &str| sizing.column(c).unwrap().as_materialized_series().clone();
    let total = col("servers_per_pool").f64().unwrap().get(1).unwrap();
    let prefill = col("prefill_servers").u64().unwrap().get(1).unwrap();
    let decode = col("decode_servers").u64().unwrap().get(1).unwrap();
    assert!(prefill >= 1 && decode >= 1);
    assert_eq!(total, (prefill + decode) as f64);
    // The colocated row has no pools.
    assert_eq!(col("prefill_servers").u64().unwrap().get(0), Some(0));
    assert!(col("feasible").bool().unwrap().get(1).unwrap());
}

#[test]
fn bad_disaggregation_input_exits_2_naming_the_key() {
    let edit = |from: &str, to: &str| {
        assert!(SCENARIO.contains(from), "{from}");
        SCENARIO.replacen(from, to, 1)
    };
    run_refused(
        &edit("prefill_servers = 1\n", ""),
        &["placements[1].disaggregated.prefill_servers", "missing"],
    );
    run_refused(
        &edit("decode_servers = 1", "decode_servers = 0"),
        &["placements[1].disaggregated.decode_servers", "at least 1"],
    );
    run_refused(
        &edit(
            "decode_servers = 1",
            "decode_servers = 1\nlink_gb_per_s = 0",
        ),
        &[
            "placements[1].disaggregated.link_gb_per_s",
            "above 0",
            "(got 0)",
        ],
    );
    run_refused(
        &edit(
            "decode_servers = 1",
            "decode_servers = 1\nlink_latency_s = -1",
        ),
        &["placements[1].disaggregated.link_latency_s"],
    );
    run_refused(
        &edit(
            "device = \"h100_sxm\"\n\n[placements.disaggregated]",
            "device = \"h100_sxm\"\nservers = 3\n\n[placements.disaggregated]",
        ),
        &["placements[1].servers", "is 3", "remove `servers`"],
    );
    run_refused(
        &edit("decode_servers = 1", "decode_servers = 1\nbandwidth = 3"),
        &["placements[1].disaggregated", "bandwidth"],
    );
    run_refused(
        &edit(
            "name = \"disaggregated\"\nkind = \"pooled\"",
            "name = \"disaggregated\"\nkind = \"dedicated\"",
        ),
        &[
            "placements[1].disaggregated",
            "remove [placements.disaggregated]",
        ],
    );
}

/// Fast-forwarded decode runs give the step-by-step latencies on both
/// pools (round-robin dispatch: exact up to rounding, as colocated).
#[test]
fn fast_forward_matches_step_by_step_on_both_pools() {
    let requests = spread(2000, 0.08, 53, (100, 5000), 300);
    let run = |ff: bool| {
        let mut cfg = DisaggConfig {
            prefill: config(2, true),
            decode: config(2, true),
            link: link(50.0, 0.001),
        };
        for pool in [&mut cfg.prefill, &mut cfg.decode] {
            pool.fast_forward = ff;
            pool.dispatch = Dispatch::RoundRobin;
        }
        let mut rec = LlmRecorder::new(window(), 0.0);
        let u = DisaggFleet::new(
            cfg,
            window(),
            stream_rng(1, 0, StreamKind::Placement, 0),
            stream_rng(1, 0, StreamKind::Placement, 1),
        )
        .run(requests.iter().copied(), &mut rec);
        (rec, u)
    };
    let ((a, ua), (b, ub)) = (run(true), run(false));
    assert_eq!(a.measured, b.measured);
    assert!(ua.events < ub.events, "{} vs {}", ua.events, ub.events);
    for (x, y) in [
        (a.ttft.mean_s(), b.ttft.mean_s()),
        (a.tpot.mean_s(), b.tpot.mean_s()),
        (a.e2e.mean_s(), b.e2e.mean_s()),
    ] {
        let (x, y) = (x.unwrap(), y.unwrap());
        assert!((x - y).abs() <= 1e-9 * y, "{x} vs {y}");
    }
}
