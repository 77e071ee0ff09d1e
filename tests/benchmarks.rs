//! Benchmark set-ups (`[benchmark]`) through the real engine: each
//! set-up's columns against values computed here, step by step, from the
//! server's step costs (a single prompt's prompt throughput, a burst's
//! makespan as its prefills plus the decode steps, batched
//! decode throughput, a closed loop at concurrency 1 as lone requests back
//! to back), closed-loop throughput rising with concurrency, board power
//! read from the same energy as `energy_kwh_per_day`, determinism, the
//! printed answer and the shipped examples.

use sharesim::llm::StepModel;
use sharesim::results::{get, Row, Value};
use sharesim::run::run_scenario;
use sharesim::scenario::Scenario;

use crate::support::{assert_success, f64_of, num, repo_file, scenario, sharesim, text, write};

/// A benchmark of gpt-oss-20b on one H100 (or on `placement`), with the
/// `[benchmark]` keys `keys`.
fn bench(keys: &str, placement: &str) -> String {
    format!(
        r#"
seed = 7

[benchmark]
{keys}

[model]
name = "gpt_oss_20b"
quantisation = "mxfp4"

[[placements]]
name = "one"
{placement}
"#
    )
}

const POOLED: &str =
    "kind = \"pooled\"\ndevice = \"h100_sxm\"\nservers = 1\nmax_batch = 256\nnetwork_rtt_s = 0.0\nchunked_prefill_tokens = 0";

fn run(text: &str) -> (Scenario, Row) {
    let s = scenario(text);
    let r = run_scenario(&s);
    assert_eq!(r.replications.len(), 1, "one replication by default");
    (s, r.replications[0].clone())
}

fn step(s: &Scenario) -> StepModel {
    s.placements[0].llm().expect("an LLM placement").step
}

#[track_caller]
fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs(),
        "{what}: {got} vs {want} (expected)"
    );
}

/// The decode steps after one prefill of `n` prompts of `input` tokens,
/// each to `output` tokens, summed one step at a time (not the engine's
/// closed form for a run of steps).
fn decode_steps_s(m: &StepModel, n: u64, input: u64, output: u64) -> f64 {
    (0..output - 1)
        .map(|j| m.decode_step_s(n as u32, n * (input + 1) + n * j))
        .sum()
}

#[test]
fn single_prompt_throughput_is_the_prompt_over_its_prefill() {
    for rtt in ["0.0", "0.05"] {
        let placement = POOLED.replace("network_rtt_s = 0.0", &format!("network_rtt_s = {rtt}"));
        let (s, row) = run(&bench(
            "setup = \"single_prompt\"\ninput_tokens = 512",
            &placement,
        ));
        let prefill = step(&s).prefill_s(512);
        close(
            f64_of(&row, "prefill_tok_s").unwrap(),
            512.0 / prefill,
            "prefill_tok_s",
        );
        close(f64_of(&row, "makespan_s").unwrap(), prefill, "makespan_s");
        // TTFT still includes the round trip; the prompt throughput does not.
        let rtt: f64 = rtt.parse().unwrap();
        close(
            f64_of(&row, "ttft_mean_s").unwrap(),
            rtt + prefill,
            "ttft_mean_s",
        );
        assert_eq!(f64_of(&row, "decode_tok_s"), None, "not a batched decode");
        assert_eq!(text(&row, "benchmark_setup"), "single_prompt");
    }
    // The same prompt on a dedicated device of the same kind.
    let (s, row) = run(&bench(
        "setup = \"single_prompt\"\ninput_tokens = 512",
        "kind = \"dedicated\"\ndevice = \"h100_sxm\"",
    ));
    close(
        f64_of(&row, "prefill_tok_s").unwrap(),
        512.0 / step(&s).prefill_s(512),
        "dedicated prefill_tok_s",
    );
}

/// When `n` prompts of `input` tokens arrive together at an idle server,
/// the engine starts the first one's prefill at once (it is idle when that
/// request arrives) and prefills the other `n - 1` together when that step
/// ends; then all `n` decode in lockstep (the first sequence has not
/// decoded yet, so they finish together). With an engine that waits for the
/// end of the instant before starting an idle server, this becomes one
/// prefill of all `n` prompts (see the report of the benchmark branch).
fn burst_prefill_s(m: &StepModel, n: u64, input: u64) -> f64 {
    if n == 1 {
        m.prefill_s(input)
    } else {
        m.prefill_s(input) + m.prefill_s((n - 1) * input)
    }
}

#[test]
fn burst_makespan_is_the_prefills_then_the_decode_steps() {
    let (n, input, output) = (8u64, 300u64, 40u64);
    let (s, row) = run(&bench(
        &format!(
            "setup = \"burst\"\nrequests = {n}\ninput_tokens = {input}\noutput_tokens = {output}"
        ),
        POOLED,
    ));
    let m = step(&s);
    let makespan = burst_prefill_s(&m, n, input) + decode_steps_s(&m, n, input, output);
    close(f64_of(&row, "makespan_s").unwrap(), makespan, "makespan_s");
    close(
        f64_of(&row, "output_tok_s_per_gpu").unwrap(),
        (n * output) as f64 / makespan,
        "output_tok_s_per_gpu",
    );
    close(
        f64_of(&row, "total_tok_s_per_gpu").unwrap(),
        (n * (input + output)) as f64 / makespan,
        "total_tok_s_per_gpu",
    );
    // Every sequence decodes in lockstep; the first also waits out the
    // others' prefill after its first token.
    let decode = decode_steps_s(&m, n, input, output);
    let tpot = decode / (output - 1) as f64;
    let first_tpot = (m.prefill_s((n - 1) * input) + decode) / (output - 1) as f64;
    close(
        f64_of(&row, "tpot_mean_s").unwrap(),
        (first_tpot + (n - 1) as f64 * tpot) / n as f64,
        "tpot_mean_s",
    );
    let median = f64_of(&row, "tpot_p50_s").unwrap();
    assert!(
        (median - tpot).abs() <= 5e-4 * tpot,
        "tpot_p50_s {median} vs {tpot}"
    );
    assert_eq!(num(&row, "arrived"), n as f64);
    assert_eq!(
        num(&row, "horizon_s"),
        f64_of(&row, "makespan_s").unwrap(),
        "the window is the makespan"
    );
    assert_eq!(num(&row, "warmup_s"), 0.0);
    // A burst of one is a lone request.
    let (s, row) = run(&bench(
        &format!(
            "setup = \"burst\"\nrequests = 1\ninput_tokens = {input}\noutput_tokens = {output}"
        ),
        POOLED,
    ));
    let m = step(&s);
    close(
        f64_of(&row, "makespan_s").unwrap(),
        m.prefill_s(input) + decode_steps_s(&m, 1, input, output),
        "makespan_s of one",
    );
}

#[test]
fn batched_decode_excludes_the_prompt_time() {
    let (n, input, output) = (16u64, 128u64, 65u64);
    let (s, row) = run(&bench(
        &format!("setup = \"batched_decode\"\nrequests = {n}\ninput_tokens = {input}\noutput_tokens = {output}"),
        POOLED,
    ));
    let m = step(&s);
    let decode = decode_steps_s(&m, n, input, output);
    close(
        f64_of(&row, "decode_tok_s").unwrap(),
        (n * (output - 1)) as f64 / decode,
        "decode_tok_s",
    );
    close(
        f64_of(&row, "makespan_s").unwrap(),
        burst_prefill_s(&m, n, input) + decode,
        "makespan_s",
    );
    assert_eq!(f64_of(&row, "prefill_tok_s"), None, "not a single prompt");
}

#[test]
fn closed_loop_at_concurrency_one_is_lone_requests_back_to_back() {
    let (requests, input, output) = (5u64, 700u64, 30u64);
    for placement in [POOLED, "kind = \"dedicated\"\ndevice = \"h100_sxm\""] {
        let (s, row) = run(&bench(
            &format!("setup = \"closed_loop\"\nconcurrency = 1\nrequests = {requests}\ninput_tokens = {input}\noutput_tokens = {output}"),
            placement,
        ));
        let m = step(&s);
        let lone = m.prefill_s(input)
            + (0..output - 1)
                .map(|j| m.decode_step_s(1, input + 1 + j))
                .sum::<f64>();
        close(
            f64_of(&row, "makespan_s").unwrap(),
            requests as f64 * lone,
            "makespan_s",
        );
        assert_eq!(num(&row, "arrived"), requests as f64);
        assert_eq!(num(&row, "concurrency"), 1.0);
    }
}

#[test]
fn closed_loop_requests_per_client_sends_that_many_from_each() {
    let (_, row) = run(&bench(
        "setup = \"closed_loop\"\nconcurrency = 3\nrequests_per_client = 4\ninput_tokens = 100\noutput_tokens = 10",
        POOLED,
    ));
    assert_eq!(num(&row, "arrived"), 12.0);
    assert_eq!(num(&row, "users"), 3.0);
}

#[test]
fn closed_loop_throughput_rises_with_concurrency() {
    let throughput: Vec<f64> = [1, 4, 16, 64]
        .iter()
        .map(|c| {
            let (_, row) = run(&bench(
                &format!("setup = \"closed_loop\"\nconcurrency = {c}\nrequests = 128\ninput_tokens = 256\noutput_tokens = 128"),
                POOLED,
            ));
            f64_of(&row, "output_tok_s_per_gpu").unwrap()
        })
        .collect();
    assert!(
        throughput.windows(2).all(|w| w[1] > w[0]),
        "output tok/s per GPU at concurrency 1, 4, 16, 64: {throughput:?}"
    );
}

#[test]
fn board_power_comes_from_the_rows_energy() {
    let (s, row) = run(&bench(
        "setup = \"closed_loop\"\nconcurrency = 8\nrequests = 32\ninput_tokens = 256\noutput_tokens = 64",
        &POOLED.replace("servers = 1", "servers = 2"),
    ));
    let gpus = num(&row, "devices_total");
    assert_eq!(gpus, 2.0);
    let watts = f64_of(&row, "board_power_w_per_gpu").unwrap();
    // energy_kwh_per_day is the window's wall energy scaled to a day: the
    // board energy plus the host share, times the site's PUE.
    let kwh_per_day = f64_of(&row, "energy_kwh_per_day_total").unwrap();
    let server = s.placements[0].llm().unwrap();
    let d = &server.device;
    close(
        (watts + d.host_w) * gpus * server.pue * 86_400.0 / 3.6e6,
        kwh_per_day,
        "board power x GPUs vs energy",
    );
    assert!(
        watts >= d.idle_w * (1.0 - 1e-12) && watts <= d.busy_w * (1.0 + 1e-12),
        "{watts} W between idle {} and busy {}",
        d.idle_w,
        d.busy_w
    );
}

#[test]
fn benchmark_runs_are_deterministic() {
    let text = bench(
        "setup = \"closed_loop\"\nconcurrency = 6\nrequests = 40\ninput_tokens = 333\noutput_tokens = 77",
        &POOLED.replace("servers = 1", "servers = 2\ndispatch = \"power_of_two_choices\""),
    );
    let a = run_scenario(&scenario(&text));
    let b = run_scenario(&scenario(&text));
    assert_eq!(
        format!("{:?}", a.replications),
        format!("{:?}", b.replications)
    );
    assert_eq!(format!("{:?}", a.summary), format!("{:?}", b.summary));
}

#[test]
fn other_scenarios_have_no_benchmark_columns() {
    let chat = bench("setup = \"single_prompt\"\ninput_tokens = 10", POOLED)
        .replace("[benchmark]\nsetup = \"single_prompt\"\ninput_tokens = 10", "horizon_s = 600\nreplications = 1\n\n[users]\ncount = 10\nrequests_per_day = 500\n\n[requests]\ninput_tokens = { distribution = \"fixed\", value = 100 }\noutput_tokens = { distribution = \"fixed\", value = 20 }");
    let r = run_scenario(&scenario(&chat));
    for c in [
        "makespan_s",
        "output_tok_s_per_gpu",
        "decode_tok_s",
        "benchmark_setup",
    ] {
        assert!(
            get(&r.replications[0], c).is_none(),
            "{c} in a non-benchmark row"
        );
    }
}

#[test]
fn every_benchmark_column_is_documented() {
    let (_, row) = run(&bench(
        "setup = \"burst\"\nrequests = 2\ninput_tokens = 10\noutput_tokens = 3",
        POOLED,
    ));
    for c in [
        "benchmark_setup",
        "concurrency",
        "input_tokens",
        "output_tokens",
        "makespan_s",
        "output_tok_s_per_gpu",
        "total_tok_s_per_gpu",
        "decode_tok_s",
        "prefill_tok_s",
        "board_power_w_per_gpu",
    ] {
        assert!(get(&row, c).is_some(), "{c} missing from a benchmark row");
        assert!(
            crate::support::documented(c),
            "{c} not in docs/results-schema.md"
        );
    }
    assert!(matches!(get(&row, "decode_tok_s"), Some(Value::F64(None))));
}

#[test]
fn shipped_benchmarks_run_and_print_the_benchmark_answer() {
    for name in ["benchmark-closed-loop", "benchmark-burst"] {
        let out = tempfile::tempdir().unwrap();
        let o = sharesim()
            .arg("run")
            .arg(repo_file(&format!("scenarios/{name}.toml")))
            .arg("--out")
            .arg(out.path())
            .args(["--no-charts", "--threads", "1"])
            .env("COLUMNS", "200")
            .output()
            .unwrap();
        assert_success(&o);
        let stdout = String::from_utf8_lossy(&o.stdout);
        for header in ["makespan", "output tok/s per GPU", "TPOT median"] {
            assert!(
                stdout.contains(header),
                "{name}: {header:?} not in\n{stdout}"
            );
        }
        assert!(
            !stdout.contains("capex per user"),
            "{name}: the sharing answer printed\n{stdout}"
        );
        let df = crate::support::read_parquet(&out.path().join(name).join("results.parquet"));
        let makespan = crate::support::f64_column(&df, "makespan_s");
        assert!(
            makespan.iter().all(|m| m.is_some_and(|m| m > 0.0)),
            "{makespan:?}"
        );
    }
}

#[test]
fn a_benchmark_in_a_temporary_file_runs_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "b.toml",
        bench("setup = \"single_prompt\"\ninput_tokens = 2048", POOLED),
    );
    let o = sharesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["--no-charts", "--format", "csv"])
        .output()
        .unwrap();
    assert_success(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.lines().next().unwrap().contains("prefill_tok_s"),
        "{stdout}"
    );
}
