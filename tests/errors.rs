//! The error catalogue of docs/errors.md, entry by entry: each bad input
//! exits with code 2 and a message that names what to fix (the file, the
//! key or option, and what would be valid), before any output is written.
//! Entries already covered by tests/cli.rs (the `BAD` list, a missing
//! scenario file, a file given as `--out`) and tests/traces.rs (bad trace
//! files, `fit-trace`) are not repeated here.

use std::path::Path;
use std::process::Output;

use crate::support::scenarios::{desktop_and_h100_pool, generic, local_and_pool};
use crate::support::{
    assert_success, sharesim, sharesim_on, try_read_parquet, write, BIN, SHARD_ENV,
};

const GENERIC: &str = generic!("horizon_s = 2000\nwarmup_s = 100\nreplications = 2");

/// An LLM scenario (gpt-oss-20b, a desktop each and one H100) with `$tail`
/// after its `[service_level]`.
macro_rules! llm {
    ($tail:literal) => {
        concat!(
            r#"
seed = 1
horizon_s = 600
replications = 2

[users]
count = 10
requests_per_day = 20

[model]
name = "gpt_oss_20b"
quantisation = "mxfp4"

[requests]
input_tokens = { distribution = "fixed", value = 100 }
output_tokens = { distribution = "fixed", value = 50 }

"#,
            desktop_and_h100_pool!(),
            r#"servers = 1

[service_level]
tpot_p99_s = 0.1
"#,
            $tail
        )
    };
}

const LLM: &str = llm!("");

/// [`LLM`] with two classes, one of them `local_only`.
const LLM_PRIVATE: &str = llm!(
    r#"
[[classes]]
name = "private"
share = 0.5
local_only = true

[[classes]]
name = "open"
share = 0.5
"#
);

/// [`LLM`] with an `[uncertainty]` table of one range.
const UNC: &str = llm!(
    r#"
[uncertainty]
samples = 2

[uncertainty.ranges]
"costs.memory_price_multiplier" = { low = 1.0, high = 3.0 }
"#
);

const SWEEP: &str = generic!(
    "horizon_s = 2000\nreplications = 2",
    "",
    "[sweep]\naxes = [ { key = \"users.count\", values = [10, 20] } ]\n"
);

const BENCH: &str = r#"
seed = 1

[benchmark]
setup = "closed_loop"
concurrency = 16
requests = 64
input_tokens = 1024
output_tokens = 1024

[model]
name = "gpt_oss_20b"
quantisation = "mxfp4"

[[placements]]
name = "h100"
kind = "pooled"
device = "h100_sxm"
servers = 1
"#;

const BURST: &str = r#"
[benchmark]
setup = "burst"
requests = 8
input_tokens = 100
output_tokens = 10

[model]
name = "gpt_oss_20b"
quantisation = "mxfp4"

[[placements]]
name = "h100"
kind = "pooled"
device = "h100_sxm"
servers = 1
"#;

const RAG_HEADER: &str = "timestamp_s,session_id,input_length,output_length\n";

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code 2 and every needle in the message.
fn assert_bad(o: &Output, needles: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr: {err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
    err
}

/// Apply `edits` (from, to) to `base`, write it as `<case>.toml` beside any
/// `extra` files, run `sharesim <command> FILE --out DIR/out`, and expect
/// exit 2 with the file name and the needles in the message, and no output
/// folder.
fn bad_scenario(
    command: &str,
    case: &str,
    base: &str,
    edits: &[(&str, &str)],
    extra: &[(&str, &str)],
    needles: &[&str],
) {
    let dir = tempfile::tempdir().unwrap();
    let mut text = base.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "{case}: edit {from:?} does not apply");
        text = text.replacen(from, to, 1);
    }
    for (name, body) in extra {
        write(dir.path(), name, body);
    }
    let file = write(dir.path(), &format!("{case}.toml"), &text);
    let out = dir.path().join("out");
    let o = sharesim_on(command, &file, &out);
    let err = assert_bad(&o, needles);
    assert!(
        err.contains(&format!("{case}.toml")),
        "file not named: {err}"
    );
    assert!(!out.exists(), "{case}: output written before the error");
}

macro_rules! bad {
    ($($name:ident: $command:literal, $base:expr, [$(($from:expr, $to:expr)),* $(,)?], [$($file:expr),* $(,)?], [$($needle:expr),+ $(,)?];)+) => {
        $(
            #[test]
            fn $name() {
                bad_scenario(
                    $command,
                    stringify!($name),
                    $base,
                    &[$(($from, $to)),*],
                    &[$($file),*],
                    &[$($needle),+],
                );
            }
        )+
    };
}

// ------------------------------------------------------------------ scenario

bad! {
    benchmark_unknown_setup: "run", BENCH,
        [("setup = \"closed_loop\"", "setup = \"offline\"")], [],
        ["benchmark.setup", "unknown set-up \"offline\"", "\"closed_loop\", \"burst\""];
    benchmark_without_concurrency: "run", BENCH,
        [("concurrency = 16\n", "")], [],
        ["benchmark.concurrency", "missing: this set-up needs `concurrency`"];
    benchmark_without_output_tokens: "run", BURST,
        [("output_tokens = 10\n", "")], [],
        ["benchmark.output_tokens", "missing"];
    benchmark_with_zero_requests: "run", BENCH,
        [("requests = 64", "requests = 0")], [],
        ["benchmark.requests", "must be at least 1 (got 0)"];
    benchmark_with_zero_input_tokens: "run", BURST,
        [("input_tokens = 100", "input_tokens = 0")], [],
        ["benchmark.input_tokens", "must be at least 1 (got 0)"];
    benchmark_with_fewer_requests_than_clients: "run", BENCH,
        [("requests = 64", "requests = 8")], [],
        ["benchmark.requests", "leave some of the 16 clients idle"];
    benchmark_with_both_request_counts: "run", BENCH,
        [("requests = 64", "requests = 64\nrequests_per_client = 4")], [],
        ["benchmark.requests_per_client", "not both"];
    benchmark_burst_with_concurrency: "run", BURST,
        [("requests = 8", "requests = 8\nconcurrency = 4")], [],
        ["benchmark.concurrency", "does not apply to setup = \"burst\"", "remove it"];
    benchmark_batched_decode_of_one_token: "run", BURST,
        [("setup = \"burst\"", "setup = \"batched_decode\""), ("output_tokens = 10", "output_tokens = 1")], [],
        ["benchmark.output_tokens", "at least 2 for batched decode"];
    benchmark_with_users: "run", BENCH,
        [("seed = 1", "seed = 1\n[users]\ncount = 10\nrequests_per_day = 5\narrivals = \"agent\"\n")], [],
        ["users", "the benchmark's clients are the users: remove [users]"];
    benchmark_with_classes: "run", BENCH,
        [("[[placements]]", "[[classes]]\nname = \"a\"\nshare = 1.0\n\n[[placements]]")], [],
        ["classes", "remove [[classes]]"];
    benchmark_with_a_horizon: "run", BENCH,
        [("seed = 1", "seed = 1\nhorizon_s = 600")], [],
        ["horizon_s", "runs until its last request completes: remove horizon_s"];
    benchmark_with_requests: "run", BENCH,
        [("[[placements]]", "[requests]\ninput_tokens = { distribution = \"fixed\", value = 1 }\noutput_tokens = { distribution = \"fixed\", value = 1 }\n\n[[placements]]")], [],
        ["requests", "remove [requests]"];
    benchmark_without_a_model: "run", BENCH,
        [("[model]\nname = \"gpt_oss_20b\"\nquantisation = \"mxfp4\"\n", "")], [],
        ["model", "missing: a benchmark runs an LLM"];
    benchmark_beyond_the_context: "run", BURST,
        [("input_tokens = 100", "input_tokens = 140000")], [],
        ["benchmark.input_tokens", "exceed gpt_oss_20b's context"];
    benchmark_burst_on_a_dedicated_device: "run", BURST,
        [("kind = \"pooled\"\ndevice = \"h100_sxm\"\nservers = 1", "kind = \"dedicated\"\ndevice = \"h100_sxm\"")], [],
        ["placements[0].kind", "serves one request at a time", "sends 8 at once", "kind = \"pooled\""];
    benchmark_sized: "size", BENCH,
        [], [],
        ["benchmark", "is run, not sized: use `sharesim run`"];
    benchmark_swept_in_size_mode: "sweep", BENCH,
        [("servers = 1\n", "servers = 1\n\n[service_level]\nttft_p99_s = 1.0\n\n[sweep]\nmode = \"size\"\naxes = [ { key = \"benchmark.concurrency\", values = [1, 2] } ]\n")], [],
        ["sweep.mode", "is run, not sized: use mode = \"run\""];
    no_users_and_no_benchmark: "run", GENERIC,
        [("[users]\ncount = 50\nrequests_per_day = 100.0\n", "")], [],
        ["users", "missing: give [users]", "or a [benchmark] table"];

    horizon_in_seconds_and_hours: "run", GENERIC,
        [("horizon_s = 2000", "horizon_s = 2000\nhorizon_h = 1")], [],
        ["horizon_s", "give either `horizon_s` or `horizon_h`, not both"];
    infinite_horizon: "run", GENERIC,
        [("horizon_s = 2000", "horizon_s = inf")], [],
        ["horizon_s", "must be a number greater than 0 (got inf)"];
    name_that_is_not_a_folder_name: "run", GENERIC,
        [("seed = 3", "name = \"../up\"\nseed = 3")], [],
        ["name", "only letters, digits"];
    rate_and_duty_cycle_both_given: "run", GENERIC,
        [("requests_per_day = 100.0", "requests_per_day = 100.0\nduty_cycle = 0.1")], [],
        ["users.requests_per_day", "not both"];
    no_load_given: "run", GENERIC,
        [("requests_per_day = 100.0", "")], [],
        ["users", "give `requests_per_day` or `duty_cycle`"];
    start_hour_outside_the_day: "run", GENERIC,
        [("seed = 3", "seed = 3\nstart_hour_of_day = 24")], [],
        ["start_hour_of_day", "from 0 up to (not including) 24 (got 24)", "start the run at 09:00"];
    unknown_profile_name: "run", GENERIC,
        [("count = 50", "count = 50\nprofile = \"weekend\"")], [],
        ["users.profile", "unknown profile \"weekend\"", "office_hours"];
    unknown_arrivals: "run", GENERIC,
        [("count = 50", "count = 50\narrivals = \"bursty\"")], [],
        ["users.arrivals", "\"poisson\", \"sessions\" or \"agent\""];
    session_key_without_sessions: "run", GENERIC,
        [("count = 50", "count = 50\nsession_requests_mean = 3")], [],
        ["users.session_requests_mean", "applies to arrivals = \"sessions\" only"];
    empirical_file_missing: "run", GENERIC,
        [("distribution = \"exponential\"\nmean_s = 20.0", "distribution = \"empirical\"\nfile = \"values.txt\"")], [],
        ["service.file", "cannot read", "values.txt", "No such file"];
    empirical_value_not_a_number: "run", GENERIC,
        [("distribution = \"exponential\"\nmean_s = 20.0", "distribution = \"empirical\"\nfile = \"values.txt\"")],
        [("values.txt", "1.5\n2\nabc\n")],
        ["service.file", "line 3", "\"abc\" is not a number"];
    erlang_without_phases: "run", GENERIC,
        [("distribution = \"exponential\"", "distribution = \"erlang\"")], [],
        ["service.k", "needs `k`"];
    no_service_and_no_model: "run", GENERIC,
        [("[service]\ndistribution = \"exponential\"\nmean_s = 20.0", "")], [],
        ["service", "give [service] (a generic service time) or [model] with [requests]"];
    no_placements: "run", GENERIC,
        [(concat!(local_and_pool!(), "servers = 4"), "")], [],
        ["placements", "missing field `placements`"];
    empty_placements: "run", GENERIC,
        [("seed = 3", "placements = []\nseed = 3"), (concat!(local_and_pool!(), "servers = 4"), "")], [],
        ["placements", "add at least one [[placements]]"];
    dedicated_with_servers: "run", GENERIC,
        [("kind = \"dedicated\"", "kind = \"dedicated\"\nservers = 3")], [],
        ["placements[0].servers", "one device per user: remove `servers`"];
    pooled_without_servers: "run", GENERIC,
        [("servers = 4", "")], [],
        ["placements[1].servers", "needs `servers`"];
    wait_tail_without_share: "run", GENERIC,
        [("wait_p99_s = 5.0", "p_wait_above_s = 1.0")], [],
        ["service_level.p_wait_above_share_max", "needs `p_wait_above_share_max`"];
    wait_tail_share_under_its_old_name: "run", GENERIC,
        [("wait_p99_s = 5.0", "p_wait_above_s = 1.0\np_wait_above_max = 0.01")], [],
        ["service_level.p_wait_above_max", "renamed to `p_wait_above_share_max`", "write `p_wait_above_share_max = 0.01`"];
    same_percentile_twice: "run", GENERIC,
        [("wait_p99_s = 5.0", "wait_p99_s = 5.0\nwait_p990_s = 4.0")], [],
        ["bounds the same percentile"];
    llm_metric_in_a_generic_scenario: "run", GENERIC,
        [("wait_p99_s = 5.0", "ttft_p99_s = 5.0")], [],
        ["service_level.ttft_p99_s", "use wait or response"];
    users_beyond_the_memory_bound: "run", GENERIC,
        [("count = 50", "count = 4294967295"), ("requests_per_day = 100.0", "requests_per_day = 0.0001")], [],
        ["users.count", "must be between 1 and 100000000 (got 4294967295)", "pool_sizes"];
    run_that_would_not_finish: "run", GENERIC,
        [("horizon_s = 2000", "horizon_s = 1e12")], [],
        ["horizon_s", "requests per replication expected: at most 1e10", "shorten the horizon"];
    costs_in_a_generic_scenario: "run", GENERIC,
        [("[service_level]", "[costs]\nmemory_price_multiplier = 2\n[service_level]")], [],
        ["costs", "remove [costs]"];
}

// ------------------------------------------------------------------ LLM

bad! {
    elastic_unknown_policy: "run", LLM,
        [("tpot_p99_s = 0.1\n", "tpot_p99_s = 0.1\n\n[sizing]\nelastic = \"reactive\"\n")], [],
        ["sizing.elastic", "unknown policy \"reactive\"", "\"hourly\""];
    billing_removed: "run", LLM,
        [("tpot_p99_s = 0.1\n", "tpot_p99_s = 0.1\n\n[sizing]\nbilling = \"rental\"\n")], [],
        ["sizing.billing", "was removed", "ownership = \"rented\""];
    reactive_target_not_positive: "run", LLM,
        [("tpot_p99_s = 0.1\n", "tpot_p99_s = 0.1\n\n[sizing.reactive]\ntarget_in_flight = [16, 0]\n")], [],
        ["sizing.reactive.target_in_flight", "0 is not a target", "[8, 16, 32]"];
    reactive_rate_target_not_positive: "run", LLM,
        [("tpot_p99_s = 0.1\n", "tpot_p99_s = 0.1\n\n[sizing.reactive]\ntarget_requests_per_s = -2\n")], [],
        ["sizing.reactive.target_requests_per_s", "-2 is not a target", "requests per second per server", "[3, 4, 5]"];
    reactive_two_metrics: "run", LLM,
        [("tpot_p99_s = 0.1\n", "tpot_p99_s = 0.1\n\n[sizing.reactive]\ntarget_in_flight = 16\ntarget_requests_per_s = 4\n")], [],
        ["sizing.reactive.target_requests_per_s", "not both"];
    reactive_max_below_min: "run", LLM,
        [("tpot_p99_s = 0.1\n", "tpot_p99_s = 0.1\n\n[sizing.reactive]\nmin_servers = 4\nmax_servers = 2\n")], [],
        ["sizing.reactive.max_servers", "below min_servers (4)"];
    reactive_delay_negative: "run", LLM,
        [("tpot_p99_s = 0.1\n", "tpot_p99_s = 0.1\n\n[sizing.reactive]\ndelay_min = -1\n")], [],
        ["sizing.reactive.delay_min", "between 0 and 1440"];
    bursts_with_an_unknown_process: "run", LLM,
        [("requests_per_day = 20", "requests_per_day = 20\nbursts = { process = \"hawkes\" }")], [],
        ["users.bursts.process", "unknown process \"hawkes\"", "\"mmpp\" or \"gamma\""];
    bursts_mmpp_with_one_state: "run", LLM,
        [("requests_per_day = 20", "requests_per_day = 20\nbursts = { process = \"mmpp\", rate_multipliers = [2.0], mean_sojourn_s = [5.0, 5.0] }")], [],
        ["users.bursts.rate_multipliers", "needs exactly two"];
    bursts_gamma_without_cv: "run", LLM,
        [("requests_per_day = 20", "requests_per_day = 20\nbursts = { process = \"gamma\" }")], [],
        ["users.bursts.cv", "missing"];
    engine_without_profile: "run", LLM,
        [("servers = 1", "servers = 1\nengine = \"mlx\"")], [],
        ["placements[1].engine", "engine `mlx` has no profile for device `h100_sxm`", "h100_sxm.vllm"];
    unknown_engine: "run", LLM,
        [("servers = 1", "servers = 1\nengine = \"vllm2\"")], [],
        ["placements[1].engine", "unknown engine `vllm2`", "llama.cpp, mlx, sglang, trtllm, vllm"];
    tp_efficiency_removed: "run", LLM,
        [("servers = 1", "servers = 1\ntp_efficiency = 0.9")], [],
        ["placements[1].tp_efficiency", "was removed", "allreduce_latency_s"];
    bad_kv_precision: "run", LLM,
        [("servers = 1", "servers = 1\nkv_precision = \"int4\"")], [],
        ["placements[1].kv_precision", "must be \"bf16\" or \"fp8\""];
    pue_below_one: "run", LLM,
        [("servers = 1", "servers = 1\npue = 0.9")], [],
        ["placements[1].pue", "must be between 1 and 3"];
    electricity_price_negative: "run", LLM,
        [("[service_level]", "[costs]\nelectricity_usd_per_kwh_home = -0.1\n[service_level]")], [],
        ["costs.electricity_usd_per_kwh_home", "must be between 0 and 10 (got -0.1)", "USD per kWh"];
    placement_electricity_price_negative: "run", LLM,
        [("servers = 1", "servers = 1\nelectricity_usd_per_kwh = -1")], [],
        ["placements[1].electricity_usd_per_kwh", "must be between 0 and 10 (got -1)"];
    carbon_intensity_negative: "run", LLM,
        [("servers = 1", "servers = 1\ngrid_g_co2_per_kwh = -5")], [],
        ["placements[1].grid_g_co2_per_kwh", "must be between 0 and 5000 (got -5)", "g CO2e per kWh"];
    embodied_carbon_negative: "run", LLM,
        [("[service_level]", "[costs]\nembodied_kg_co2e_per_gb_hbm = -1\n[service_level]")], [],
        ["costs.embodied_kg_co2e_per_gb_hbm", "must be between 0 and 1000 (got -1)"];
    facility_lifetime_zero: "run", LLM,
        [("[service_level]", "[costs]\nfacility_lifetime_years = 0\n[service_level]")], [],
        ["costs.facility_lifetime_years", "must be greater than 0 and at most 100 (got 0)"];
    baseline_price_negative: "run", LLM,
        [("device = \"framework_desktop\"", "device = \"framework_desktop\"\nbaseline_price_usd = -5")], [],
        ["placements[0].baseline_price_usd", "must be between 0 and 10000000 (got -5)"];
    ownership_unknown: "run", LLM,
        [("servers = 1", "servers = 1\nownership = \"leased\"")], [],
        ["placements[1].ownership", "unknown ownership \"leased\"", "\"owned\" or \"rented\""];
    ownership_on_a_dedicated_placement: "run", LLM,
        [("device = \"framework_desktop\"", "device = \"framework_desktop\"\nownership = \"rented\"")], [],
        ["placements[0].ownership", "the user's own device"];
    rented_without_an_hourly_price: "run", LLM,
        [("device = \"h100_sxm\"", "device = \"framework_desktop\""),
         ("servers = 1", "servers = 1\nownership = \"rented\"")], [],
        ["placements[1].ownership", "framework_desktop", "no rental_usd_per_h"];
    local_only_class_on_a_pooled_placement: "run", LLM_PRIVATE,
        [], [],
        ["placements[1].serves", "placement \"pool\" is pooled and serves class \"private\", which is local_only", "ignore_local_only"];
    hybrid_putting_a_local_only_class_on_its_pooled_part: "size", LLM_PRIVATE,
        [("device = \"framework_desktop\"", "device = \"framework_desktop\"\nserves = [\"open\"]"),
         ("servers = 1", "servers = 1\nserves = [\"private\"]"),
         ("[[classes]]", "[[hybrids]]\nname = \"mix\"\nparts = [\"desktop\", \"pool\"]\n\n[[classes]]")], [],
        ["placements[1].serves", "\"pool\" is pooled and serves class \"private\""];
    unknown_model: "run", LLM,
        [("gpt_oss_20b", "gpt_oss_21b")], [],
        ["model.name", "unknown model `gpt_oss_21b`", "the catalogue knows", "gpt_oss_20b"];
    unknown_quantisation: "run", LLM,
        [("\"mxfp4\"", "\"fp8\"")], [],
        ["model.quantisation", "\"fp8\" is not listed for gpt_oss_20b", "use one of mxfp4"];
    unknown_device: "run", LLM,
        [("\"h100_sxm\"", "\"h100\"")], [],
        ["placements[1].device", "unknown device `h100`", "h100_sxm"];
    missing_device: "run", LLM,
        [("device = \"framework_desktop\"", "")], [],
        ["placements[0].device", "needs `device`"];
    device_too_small_for_the_model: "run", LLM,
        [("gpt_oss_20b", "gpt_oss_120b"), ("\"h100_sxm\"", "\"rtx_4090\"")], [],
        ["placements[1].device", "does not fit 1 x rtx_4090", "GB short", "more memory, more tensor parallelism or a smaller quantisation"];
    llm_key_in_a_generic_scenario: "run", GENERIC,
        [("servers = 4", "servers = 4\nmax_batch = 8")], [],
        ["placements[1].max_batch", "applies to LLM scenarios", "remove it"];
    batch_key_on_a_dedicated_device: "run", LLM,
        [("device = \"framework_desktop\"", "device = \"framework_desktop\"\nmax_batch = 4")], [],
        ["placements[0].max_batch", "batch 1: remove it"];
    tensor_parallel_zero: "run", LLM,
        [("servers = 1", "servers = 1\ntensor_parallel = 0")], [],
        ["placements[1].tensor_parallel", "between 1 and 64 (got 0)"];
    max_batch_zero: "run", LLM,
        [("servers = 1", "servers = 1\nmax_batch = 0")], [],
        ["placements[1].max_batch", "between 1 and 65536 (got 0)"];
    service_and_model_both: "run", LLM,
        [("[requests]", "[service]\ndistribution = \"exponential\"\nmean_s = 1\n[requests]")], [],
        ["service", "not both"];
    requests_without_model: "run", LLM,
        [("[model]\nname = \"gpt_oss_20b\"\nquantisation = \"mxfp4\"", "")], [],
        ["model", "[requests] needs a [model]"];
    model_without_requests: "run", LLM,
        [("[requests]\ninput_tokens = { distribution = \"fixed\", value = 100 }\noutput_tokens = { distribution = \"fixed\", value = 50 }", "")], [],
        ["requests", "needs [requests] with `input_tokens` and `output_tokens`"];
    unknown_token_distribution: "run", LLM,
        [("\"fixed\", value = 100", "\"poisson\", value = 100")], [],
        ["requests.input_tokens.distribution", "use one of fixed, lognormal, empirical"];
    response_target_in_an_llm_scenario: "run", LLM,
        [("tpot_p99_s = 0.1", "response_p99_s = 1")], [],
        ["service_level.response_p99_s", "use e2e instead of response"];
    attainment_bound_without_share: "run", LLM,
        [("tpot_p99_s = 0.1", "attainment_ttft_s = 1")], [],
        ["service_level.attainment_share", "need `attainment_share`"];
    attainment_share_under_its_old_name: "run", LLM,
        [("tpot_p99_s = 0.1", "attainment = 0.9\nattainment_ttft_s = 1")], [],
        ["service_level.attainment", "renamed to `attainment_share`", "write `attainment_share = 0.9`"];
    fraction_swept_under_its_old_name: "sweep", LLM,
        [("[service_level]", "[sweep]\naxes = [ { key = \"service_level.p_wait_above_max\", values = [0.01, 0.05] } ]\n\n[service_level]\np_wait_above_s = 0\np_wait_above_share_max = 0.05")], [],
        ["service_level.p_wait_above_max", "renamed to `p_wait_above_share_max`", "write `p_wait_above_share_max = 0.01`"]; // the first point in grid order
    least_kv_load_in_a_generic_scenario: "run", GENERIC,
        [("servers = 4", "servers = 4\ndispatch = \"least_kv_load\"")], [],
        ["placements[1].dispatch", "least_kv_load needs an LLM scenario"];
    catalogue_file_missing: "run", LLM,
        [("[service_level]", "[catalog]\ndevices_file = \"my-devices.toml\"\n[service_level]")], [],
        ["catalog.devices_file", "cannot read", "my-devices.toml"];
    memory_price_multiplier_zero: "run", LLM,
        [("[service_level]", "[costs]\nmemory_price_multiplier = 0\n[service_level]")], [],
        ["costs.memory_price_multiplier", "greater than 0"];
}

/// Not an error: a TPOT bound below what the device's batch-1 decode step
/// takes runs (exit 0) and sizes as infeasible, with the reason printed and
/// in sizing.parquet, without a single probe.
#[test]
fn tpot_target_that_cannot_be_met_is_reported_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "fast.toml",
        LLM.replace("tpot_p99_s = 0.1", "tpot_p99_s = 0.0001"),
    );
    let o = sharesim_on("size", &file, dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "pool: tpot_p99_s <= 0.0001 s cannot be met: a batch-1 decode step alone takes",
        "on h100_sxm",
        "desktop: tpot_p99_s <= 0.0001 s cannot be met",
    ] {
        assert!(stdout.contains(needle), "{needle:?} not in: {stdout}");
    }
    assert!(dir.path().join("fast/sizing.parquet").exists());
}

// ------------------------------------------------------------------ classes and hybrids

const CLASSES: &str = generic!(
    "horizon_s = 2000\nreplications = 2",
    "\n[[classes]]\nname = \"light\"\nshare = 0.6\n\n\
     [[classes]]\nname = \"heavy\"\nshare = 0.4\nrequests_per_day = 300.0\n",
    "[service_level]\nwait_p99_s = 5.0\n"
);

const NO_RTF_DEVICES: &str = r#"
[devices.box]
mem_gb = 16.0
bandwidth_gb_s = 100.0
tflops = 10.0
idle_w = 5.0
busy_w = 50.0
price_usd = 500.0
memory_price_share = 0.3
usable_memory_share = 0.8
default_engine = "llama.cpp"
host_w = 0.0
memory_power_w = 20.0
compute_power_w = 40.0
lifetime_years = 4
host_usd = 0
network_usd = 0
memory_kind = "dram"
embodied_kg_co2e_rest = 100
"#;

bad! {
    device_lifetime_zero: "run", LLM,
        [("[service_level]", "[catalog]\ndevices_file = \"devices.toml\"\n[service_level]")],
        [("devices.toml", NO_RTF_DEVICES.replace("lifetime_years = 4", "lifetime_years = 0").as_str())],
        ["devices.box.lifetime_years", "must be greater than 0 and at most 50 (got 0)"];
    device_host_price_negative: "run", LLM,
        [("[service_level]", "[catalog]\ndevices_file = \"devices.toml\"\n[service_level]")],
        [("devices.toml", NO_RTF_DEVICES.replace("host_usd = 0", "host_usd = -1").as_str())],
        ["devices.box.host_usd", "must be a number of at least 0 (got -1)"];
}

bad! {
    class_shares_not_summing_to_one: "run", CLASSES,
        [("share = 0.4", "share = 0.3")], [],
        ["classes", "shares must sum to 1 (got 0.9)"];
    class_names_repeated: "run", CLASSES,
        [("name = \"heavy\"", "name = \"light\"")], [],
        ["classes[1].name", "each class needs a distinct, non-empty name"];
    class_with_no_users: "run", CLASSES,
        [("share = 0.6", "share = 0.995"), ("share = 0.4", "share = 0.005")], [],
        ["classes[1].share", "none of the 50 users"];
    empty_class_is_still_checked: "run", CLASSES,
        [("share = 0.6", "share = 1.0"), ("share = 0.4", "share = 0.0"),
         ("requests_per_day = 300.0", "requests_per_day = -1.0")], [],
        ["classes[1].requests_per_day", "greater than 0"];
    class_key_out_of_range: "run", CLASSES,
        [("requests_per_day = 300.0", "requests_per_day = -1.0")], [],
        ["classes[1].requests_per_day", "in class \"heavy\"", "greater than 0"];
    serves_an_unknown_class: "run", CLASSES,
        [("servers = 4", "servers = 4\nserves = [\"hevy\"]")], [],
        ["placements[1].serves", "unknown class \"hevy\"", "light, heavy"];
    serves_without_classes: "run", GENERIC,
        [("servers = 4", "servers = 4\nserves = [\"heavy\"]")], [],
        ["placements[1].serves", "no [[classes]]"];
    class_served_by_no_placement: "run", CLASSES,
        [("kind = \"dedicated\"", "kind = \"dedicated\"\nserves = [\"light\"]"),
         ("servers = 4", "servers = 4\nserves = [\"light\"]")], [],
        ["classes[1]", "no placement serves class \"heavy\""];
    placement_serving_two_models: "run", CLASSES,
        [("requests_per_day = 300.0", "requests_per_day = 300.0\nmodel = { name = \"gpt_oss_20b\", quantisation = \"mxfp4\" }\nrequests = { input_tokens = { distribution = \"fixed\", value = 100 }, output_tokens = { distribution = \"fixed\", value = 50 } }\nservice_level = { tpot_p99_s = 0.1 }"),
         ("kind = \"dedicated\"", "kind = \"dedicated\"\ndevice = \"framework_desktop\""),
         ("servers = 4", "servers = 4\ndevice = \"h100_sxm\"")], [],
        ["placements[0].serves", "generic service times or an LLM", "[[hybrids]]"];
    placement_serving_two_service_levels: "run", CLASSES,
        [("requests_per_day = 300.0", "requests_per_day = 300.0\nservice_level = { wait_p99_s = 1.0 }")], [],
        ["placements[0].serves", "different service levels"];
    class_with_service_and_model: "run", CLASSES,
        [("requests_per_day = 300.0", "requests_per_day = 300.0\nservice = { distribution = \"exponential\", mean_s = 1 }\nmodel = { name = \"gpt_oss_20b\", quantisation = \"mxfp4\" }")], [],
        ["classes[1].service", "not both"];
    unknown_speech_task: "run", CLASSES,
        [("share = 0.4", "share = 0.4\ntask = \"speech\"\nservice = { distribution = \"exponential\", mean_s = 10 }")], [],
        ["classes[1].task", "unknown task \"speech\"", "speech_to_text"];
    speech_class_without_audio: "run", CLASSES,
        [("share = 0.4", "share = 0.4\ntask = \"speech_to_text\"")], [],
        ["classes[1].service", "seconds of audio"];
    speech_placement_without_device: "run", CLASSES,
        [("share = 0.4", "share = 0.4\ntask = \"speech_to_text\"\nservice = { distribution = \"exponential\", mean_s = 10 }")], [],
        ["placements[0].device", "speech_to_text_rtf", "service_scale"];
    speech_device_without_real_time_factor: "run", CLASSES,
        [("share = 0.4", "share = 0.4\ntask = \"text_to_speech\"\nservice = { distribution = \"exponential\", mean_s = 10 }"),
         ("kind = \"dedicated\"", "kind = \"dedicated\"\ndevice = \"box\""),
         ("servers = 4", "servers = 4\ndevice = \"box\""),
         ("[service_level]", "[catalog]\ndevices_file = \"devices.toml\"\n[service_level]")],
        [("devices.toml", NO_RTF_DEVICES)],
        ["placements[0].device", "box has no text_to_speech_rtf"];
    hybrids_without_classes: "run", GENERIC,
        [("[service_level]", "[[hybrids]]\nname = \"h\"\nparts = [\"local\", \"pool\"]\n[service_level]")], [],
        ["hybrids", "add [[classes]]"];
    hybrid_parts_overlapping: "run", CLASSES,
        [("[service_level]", "[[hybrids]]\nname = \"h\"\nparts = [\"local\", \"pool\"]\n[service_level]")], [],
        ["hybrids[0].parts", "class \"light\" is served by 2 of the parts"];
    hybrid_with_an_unknown_part: "run", CLASSES,
        [("[service_level]", "[[hybrids]]\nname = \"h\"\nparts = [\"local\", \"cloud\"]\n[service_level]")], [],
        ["hybrids[0].parts", "unknown placement \"cloud\"", "local, pool"];
    hybrid_with_one_part: "run", CLASSES,
        [("[service_level]", "[[hybrids]]\nname = \"h\"\nparts = [\"local\"]\n[service_level]")], [],
        ["hybrids[0].parts", "at least two placements"];
    classes_with_a_trace: "run", LLM,
        [("requests_per_day = 20", "[[classes]]\nname = \"a\"\nshare = 1.0\n[trace]\nfile = \"t.csv\"")], [],
        ["trace", "remove [[classes]] or [trace]"];
    dedicated_devices_unknown: "size", LLM,
        [("tpot_p99_s = 0.1", "tpot_p99_s = 0.1\n[sizing]\ndedicated_devices = [\"h100\"]")], [],
        ["sizing.dedicated_devices[0]", "unknown device \"h100\"", "h100_sxm"];
    dedicated_devices_not_a_list: "size", LLM,
        [("tpot_p99_s = 0.1", "tpot_p99_s = 0.1\n[sizing]\ndedicated_devices = \"all\"")], [],
        ["sizing.dedicated_devices", "\"catalog\""];
    size_with_a_class_without_service_level: "size", CLASSES,
        [("[service_level]\nwait_p99_s = 5.0", "")], [],
        ["service_level", "sizing needs a service level"];
}

// ------------------------------------------------------------------ traces in scenarios

fn llm_with_trace(trace_table: &str) -> String {
    LLM.replace(
        "[requests]\ninput_tokens = { distribution = \"fixed\", value = 100 }\noutput_tokens = { distribution = \"fixed\", value = 50 }",
        trace_table,
    )
}

#[test]
fn trace_file_missing() {
    bad_scenario(
        "run",
        "trace_file_missing",
        &llm_with_trace("[trace]\nfile = \"trace.csv\""),
        &[],
        &[],
        &["trace.file", "trace.csv: cannot read the trace"],
    );
}

#[test]
fn trace_columns_without_input() {
    bad_scenario(
        "run",
        "trace_columns_without_input",
        &llm_with_trace(
            "[trace]\nfile = \"trace.csv\"\ncolumns = { time = \"ts\", output = \"out\" }",
        ),
        &[],
        &[("trace.csv", "ts,in,out\n0,10,5\n")],
        &[
            "trace.columns.input",
            "missing: name the column holding the prompt (input) token count",
        ],
    );
}

#[test]
fn trace_columns_with_a_bad_time_unit() {
    bad_scenario(
        "run",
        "trace_columns_with_a_bad_time_unit",
        &llm_with_trace(
            "[trace]\nfile = \"trace.csv\"\ncolumns = { time = \"ts\", time_unit = \"hours\", input = \"in\", output = \"out\" }",
        ),
        &[],
        &[("trace.csv", "ts,in,out\n0,10,5\n")],
        &["trace.columns.time_unit", "unknown unit \"hours\": use s, ms or datetime"],
    );
}

#[test]
fn trace_jsonl_without_a_mapped_key() {
    bad_scenario(
        "run",
        "trace_jsonl_without_a_mapped_key",
        &llm_with_trace("[trace]\nfile = \"trace.jsonl\"\nformat = \"mooncake\""),
        &[],
        &[(
            "trace.jsonl",
            "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 2, \"hash_ids\": [1]}\n{\"timestamp\": 5, \"input_length\": 10, \"output_length\": 2}\n",
        )],
        &[
            "trace.file",
            "line 2, column `hash_ids`",
            "no key `hash_ids` for the block hashes",
        ],
    );
}

#[test]
fn trace_with_a_bad_cell() {
    let body = format!("{RAG_HEADER}0,a,10,5\n3,a,ten,5\n");
    bad_scenario(
        "run",
        "trace_with_a_bad_cell",
        &llm_with_trace("[trace]\nfile = \"trace.csv\""),
        &[],
        &[("trace.csv", &body)],
        &[
            "trace.file",
            "line 3",
            "input_length",
            "\"ten\" is not a whole number",
        ],
    );
}

#[test]
fn trace_with_an_unknown_format() {
    let body = format!("{RAG_HEADER}0,a,10,5\n");
    bad_scenario(
        "run",
        "trace_with_an_unknown_format",
        &llm_with_trace("[trace]\nfile = \"trace.csv\"\nformat = \"splitwise\""),
        &[],
        &[("trace.csv", &body)],
        &[
            "trace.format",
            "unknown format \"splitwise\"",
            "azure, ragpulse, mooncake, auto",
        ],
    );
}

#[test]
fn trace_and_requests_both_given() {
    let body = format!("{RAG_HEADER}0,a,10,5\n");
    bad_scenario(
        "run",
        "trace_and_requests_both_given",
        LLM,
        &[("[requests]", "[trace]\nfile = \"trace.csv\"\n[requests]")],
        &[("trace.csv", &body)],
        &[
            "requests",
            "token counts come from the [trace]: remove [requests]",
        ],
    );
}

#[test]
fn trace_in_a_generic_scenario() {
    let body = format!("{RAG_HEADER}0,a,10,5\n");
    bad_scenario(
        "run",
        "trace_in_a_generic_scenario",
        GENERIC,
        &[("[service]", "[trace]\nfile = \"trace.csv\"\n[service]")],
        &[("trace.csv", &body)],
        &["trace", "needs an LLM scenario with [model]"],
    );
}

#[test]
fn trace_with_a_request_rate() {
    let body = format!("{RAG_HEADER}0,a,10,5\n");
    bad_scenario(
        "run",
        "trace_with_a_request_rate",
        &llm_with_trace("[trace]\nfile = \"trace.csv\""),
        &[],
        &[("trace.csv", &body)],
        &[
            "users.requests_per_day",
            "the [trace] gives the arrivals: remove this key",
        ],
    );
}

// ------------------------------------------------------------------ sweeps

bad! {
    sweep_without_sweep_table: "sweep", SWEEP,
        [("[sweep]\naxes = [ { key = \"users.count\", values = [10, 20] } ]", "")], [],
        ["sweep", "add a [sweep] table"];
    sweep_unknown_key: "sweep", SWEEP,
        [("[sweep]", "[sweep]\nspeed = 2")], [],
        ["sweep.speed", "use mode, zip, axes"];
    sweep_unknown_mode: "sweep", SWEEP,
        [("[sweep]", "[sweep]\nmode = \"walk\"")], [],
        ["sweep.mode", "must be \"run\" or \"size\""];
    sweep_size_without_service_level: "sweep", SWEEP,
        [("[sweep]", "[sweep]\nmode = \"size\"")], [],
        ["sweep.mode", "needs a [service_level]"];
    sweep_without_axes: "sweep", SWEEP,
        [("axes = [ { key = \"users.count\", values = [10, 20] } ]", "")], [],
        ["sweep.axes", "list the axes"];
    sweep_empty_axes: "sweep", SWEEP,
        [("axes = [ { key = \"users.count\", values = [10, 20] } ]", "axes = []")], [],
        ["sweep.axes", "add at least one axis"];
    sweep_axis_without_key: "sweep", SWEEP,
        [("key = \"users.count\", ", "")], [],
        ["sweep.axes[0].key", "needs `key`"];
    sweep_axis_unknown_field: "sweep", SWEEP,
        [("values = [10, 20] }", "values = [10, 20], step = 2 }")], [],
        ["sweep.axes[0].step", "use key with one of values, range, log_range"];
    sweep_axis_empty_values: "sweep", SWEEP,
        [("values = [10, 20]", "values = []")], [],
        ["sweep.axes[0].values", "list at least one value"];
    sweep_axis_two_value_kinds: "sweep", SWEEP,
        [("values = [10, 20]", "values = [10, 20], range = [1, 5, 2]")], [],
        ["sweep.axes[0].values", "give exactly one of"];
    sweep_axis_malformed_range: "sweep", SWEEP,
        [("values = [10, 20]", "range = [1, 10]")], [],
        ["sweep.axes[0].range", "[start, stop, points]"];
    sweep_axis_log_range_from_zero: "sweep", SWEEP,
        [("values = [10, 20]", "log_range = [0, 10, 3]")], [],
        ["sweep.axes[0].log_range", "greater than 0"];
    sweep_axis_swept_twice: "sweep", SWEEP,
        [("values = [10, 20] }", "values = [10, 20] }, { key = \"users.count\", values = [1] }")], [],
        ["sweep.axes[1].key", "users.count is swept twice"];
    sweep_zipped_axes_of_different_lengths: "sweep", SWEEP,
        [("[sweep]", "[sweep]\nzip = true"), ("values = [10, 20] }", "values = [10, 20] }, { key = \"seed\", values = [1, 2, 3] }")], [],
        ["sweep.axes[1]", "zipped axes need the same number of values (2)"];
    sweep_axis_index_past_the_end: "sweep", SWEEP,
        [("key = \"users.count\"", "key = \"placements[5].servers\"")], [],
        ["placements[5].servers", "index 5 is past the end (the list has 2)"];
    sweep_axis_not_a_key_path: "sweep", SWEEP,
        [("key = \"users.count\"", "key = \"users..count\"")], [],
        ["users..count", "is not a key path"];
    sweep_point_not_a_valid_scenario: "sweep", SWEEP,
        [("values = [10, 20]", "values = [10, 0]")], [],
        ["sweep", "point 1 (users.count = 0) is not a valid scenario", "users.count: must be between 1"];
    sweep_too_many_points: "sweep", SWEEP,
        [("values = [10, 20] }", "range = [10, 20, 100000] }, { key = \"seed\", range = [1, 11, 11] }")], [],
        ["sweep.axes", "1100000 points: at most 1,000,000"];
}

// ------------------------------------------------------------------ uncertainty

bad! {
    uncertainty_without_table: "uncertainty", UNC,
        [("[uncertainty]\nsamples = 2\n\n[uncertainty.ranges]\n\"costs.memory_price_multiplier\" = { low = 1.0, high = 3.0 }\n", "")], [],
        ["uncertainty", "missing: add an [uncertainty] table"];
    uncertainty_unknown_key: "uncertainty", UNC,
        [("\"costs.memory_price_multiplier\"", "\"costs.memory_price_multiplyer\"")], [],
        ["uncertainty.ranges.\"costs.memory_price_multiplyer\".low", "unknown field `memory_price_multiplyer`"];
    uncertainty_key_not_in_the_file: "uncertainty", UNC,
        [("\"costs.memory_price_multiplier\"", "\"placements[4].pue\"")], [],
        ["uncertainty.ranges.\"placements[4].pue\".low", "index 4 is past the end (the list has 2)"];
    uncertainty_low_above_high: "uncertainty", UNC,
        [("low = 1.0, high = 3.0", "low = 3.0, high = 1.0")], [],
        ["uncertainty.ranges.\"costs.memory_price_multiplier\".low", "low 3 is above high 1: swap them"];
    uncertainty_outside_the_valid_range: "uncertainty", UNC,
        [("\"costs.memory_price_multiplier\" = { low = 1.0, high = 3.0 }", "\"placements[1].pue\" = { low = 0.5, high = 1.5 }")], [],
        ["uncertainty.ranges.\"placements[1].pue\".low", "placements[1].pue: must be between 1 and 3 (got 0.5)"];
    uncertainty_not_a_number: "uncertainty", UNC,
        [("\"costs.memory_price_multiplier\"", "\"placements[1].device\"")], [],
        ["uncertainty.ranges.\"placements[1].device\".low", "placements[1].device"];
    uncertainty_unknown_range_field: "uncertainty", UNC,
        [("low = 1.0, high = 3.0", "low = 1.0, high = 3.0, spread = 2")], [],
        ["uncertainty.ranges.\"costs.memory_price_multiplier\".spread", "unknown field: use low, high"];
    uncertainty_triangular_mode_outside: "uncertainty", UNC,
        [("low = 1.0, high = 3.0", "dist = \"triangular\", low = 1.0, mode = 4.0, high = 3.0")], [],
        ["uncertainty.ranges.\"costs.memory_price_multiplier\".mode", "must be between low 1 and high 3 (got 4)"];
    uncertainty_unknown_distribution: "uncertainty", UNC,
        [("low = 1.0, high = 3.0", "dist = \"normal\", low = 1.0, high = 3.0")], [],
        ["uncertainty.ranges.\"costs.memory_price_multiplier\".dist", "unknown distribution \"normal\""];
    uncertainty_with_a_sweep: "uncertainty", UNC,
        [("[uncertainty]", "[sweep]\naxes = [ { key = \"users.count\", values = [10, 20] } ]\n\n[uncertainty]")], [],
        ["sweep", "remove the [sweep] table"];
    uncertainty_zero_samples: "uncertainty", UNC,
        [("samples = 2", "samples = 0")], [],
        ["uncertainty.samples", "must be a whole number from 1 to 100000 (got 0)"];
    placement_bandwidth_efficiency_above_one: "run", LLM,
        [("servers = 1\n", "servers = 1\nbandwidth_efficiency = 1.5\n")], [],
        ["placements[1].bandwidth_efficiency", "must be above 0 and at most 1 (got 1.5)"];
    placement_lifetime_of_zero: "run", LLM,
        [("servers = 1\n", "servers = 1\nlifetime_years = 0\n")], [],
        ["placements[1].lifetime_years", "must be between 0.1 and 50 years (got 0)"];
}

// ------------------------------------------------------------------ command line

fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = sharesim();
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    // Shard variables of the machine running the tests must not leak in.
    for k in SHARD_ENV {
        if !env.iter().any(|(e, _)| *e == k) {
            c.env_remove(k);
        }
    }
    c.output().unwrap()
}

/// A sweep run with these options and environment must fail with exit 2
/// before writing anything.
fn bad_sweep_invocation(extra: &[&str], env: &[(&str, &str)], needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "sw.toml", SWEEP);
    let out = dir.path().join("out");
    let mut args = vec![
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    assert_bad(&cli(&args, env), needles);
    assert!(!out.exists(), "output written before the error");
}

#[test]
fn shard_without_a_slash() {
    bad_sweep_invocation(
        &["--shard", "2"],
        &[],
        &["--shard \"2\"", "write I/N, e.g. 2/8"],
    );
}

#[test]
fn shard_zero() {
    bad_sweep_invocation(
        &["--shard", "0/3"],
        &[],
        &["--shard", "shard 0 of 3 does not exist", "1..=N"],
    );
}

#[test]
fn shard_past_the_count() {
    bad_sweep_invocation(
        &["--shard", "4/3"],
        &[],
        &["--shard", "shard 4 of 3 does not exist"],
    );
}

#[test]
fn shard_not_a_number() {
    bad_sweep_invocation(
        &["--shard", "a/3"],
        &[],
        &["--shard", "\"a\" is not a whole number"],
    );
}

#[test]
fn slurm_task_id_not_a_number() {
    bad_sweep_invocation(
        &[],
        &[
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ],
        &["SLURM_ARRAY_TASK_ID=\"x\" is not a whole number"],
    );
}

#[test]
fn kubernetes_index_without_a_shard_count() {
    bad_sweep_invocation(
        &[],
        &[("JOB_COMPLETION_INDEX", "1")],
        &["JOB_COMPLETION_INDEX is set", "SHARESIM_SHARD_COUNT"],
    );
}

#[test]
fn zero_threads() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "g.toml", GENERIC);
    let f = file.to_str().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    for args in [
        vec!["run", f, "--out", o, "--threads", "0"],
        vec!["size", f, "--out", o, "--threads", "0"],
        vec!["validate", "--threads", "0"],
    ] {
        assert_bad(&cli(&args, &[]), &["--threads must be at least 1"]);
    }
    bad_sweep_invocation(&["--threads", "0"], &[], &["--threads must be at least 1"]);
}

#[test]
fn zero_replications() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "g.toml", GENERIC);
    let out = dir.path().join("out");
    for cmd in ["run", "size"] {
        let o = cli(
            &[
                cmd,
                file.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--replications",
                "0",
            ],
            &[],
        );
        assert_bad(&o, &["--replications must be at least 1"]);
    }
    assert!(!out.exists());
}

#[test]
fn validate_with_too_few_replications_or_customers() {
    assert_bad(
        &cli(&["validate", "--replications", "3"], &[]),
        &["--replications must be at least 5"],
    );
    assert_bad(
        &cli(&["validate", "--customers", "10"], &[]),
        &["--customers must be at least 1000"],
    );
}

#[test]
fn missing_scenario_for_size_and_sweep() {
    for cmd in ["size", "sweep"] {
        let o = cli(&[cmd, "no/such/scenario.toml"], &[]);
        assert_bad(
            &o,
            &[
                "no/such/scenario.toml",
                "cannot read the scenario file",
                "No such file",
            ],
        );
    }
}

#[test]
fn folder_given_as_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let o = cli(&["run", dir.path().to_str().unwrap()], &[]);
    assert_bad(
        &o,
        &[
            &dir.path().display().to_string(),
            "cannot read the scenario file",
        ],
    );
}

#[test]
fn size_without_a_service_level() {
    let dir = tempfile::tempdir().unwrap();
    let text = GENERIC.replace("[service_level]\nwait_p99_s = 5.0", "");
    let file = write(dir.path(), "nosl.toml", &text);
    let out = dir.path().join("out");
    let o = cli(
        &[
            "size",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_bad(
        &o,
        &["nosl.toml", "service_level", "add a [service_level] table"],
    );
    assert!(!out.exists());
}

#[test]
fn usage_errors_are_clap_errors() {
    // Unknown subcommand, a value that is not a number, a missing argument:
    // clap prints the usage and exits 2.
    assert_bad(
        &cli(&["frobnicate"], &[]),
        &["unrecognized subcommand 'frobnicate'", "Usage:"],
    );
    assert_bad(
        &cli(&["run", "x.toml", "--seed", "abc"], &[]),
        &["invalid value 'abc' for '--seed <SEED>'"],
    );
    assert_bad(&cli(&["run"], &[]), &["<SCENARIO>", "Usage:"]);
}

#[test]
fn merge_of_a_folder_that_is_not_a_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let o = cli(&["merge", dir.path().to_str().unwrap()], &[]);
    assert_bad(
        &o,
        &[
            "sweep-manifest.toml",
            "cannot read the sweep manifest",
            "OUT/<scenario-name>",
        ],
    );
}

/// Exit 1, not 2: the sweep's own output is damaged (not the user's input).
/// The message names the part and says how to repair it.
#[test]
fn merge_with_a_damaged_part_exits_1_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "sw.toml", SWEEP);
    let out = dir.path().join("out");
    let o = cli(
        &[
            "sweep",
            file.to_str().unwrap(),
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_success(&o);
    let parts = out.join("sw/parts");
    let first = std::fs::read_dir(&parts)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("part.parquet");
    std::fs::write(&first, b"PAR1 not really").unwrap();
    let o = cli(&["merge", out.join("sw").to_str().unwrap()], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&first.display().to_string()), "{err}");
    assert!(
        err.contains("delete it and run the sweep again with --resume"),
        "{err}"
    );
}

// ------------------------------------------------------------------ output folder

#[test]
fn read_only_output_folder() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "g.toml", GENERIC);
    let ro = dir.path().join("read-only");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Tests often run as root, for whom permission bits do not bite (root
    // may create files in a 0555 folder). Detect that, and then use a path
    // under a regular file instead, which no user can create a folder in.
    let probe = ro.join("probe");
    let out = if std::fs::write(&probe, b"x").is_ok() {
        std::fs::remove_file(&probe).unwrap();
        let blocker = write(&ro, "a-file", "x");
        println!("permissions do not apply (root?): using a path under a regular file");
        blocker.join("sub")
    } else {
        ro.join("sub")
    };
    let o = cli(
        &[
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_bad(
        &o,
        &[
            "--out",
            "cannot create the output folder",
            &out.display().to_string(),
        ],
    );
}

#[test]
fn file_where_a_folder_is_expected_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = write(dir.path(), "a-file", "x");
    let g = write(dir.path(), "g.toml", GENERIC);
    let s = write(dir.path(), "sw.toml", SWEEP);
    let under = blocker.join("sub");
    for (cmd, file) in [("run", &g), ("size", &g), ("sweep", &s)] {
        let o = cli(
            &[
                cmd,
                file.to_str().unwrap(),
                "--out",
                under.to_str().unwrap(),
            ],
            &[],
        );
        assert_bad(&o, &["--out", "Not a directory"]);
    }
}

/// Runs `sharesim run` with the largest file it may write limited to
/// `bytes` (`prlimit --fsize`, SIGXFSZ ignored so that writes fail with
/// EFBIG, "File too large", as they fail with ENOSPC on a full disk).
/// None when `prlimit` is not installed.
fn run_with_file_size_limit(scenario: &Path, out: &Path, bytes: u64) -> Option<Output> {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("prlimit not found: skipped");
        return None;
    }
    Some(
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "trap '' XFSZ; exec prlimit --fsize={bytes} \"$0\" run \"$1\" --out \"$2\""
            ))
            .arg(BIN)
            .arg(scenario)
            .arg(out)
            .output()
            .unwrap(),
    )
}

/// A disk that fills up while tables are written: the run fails, and the
/// table being written is neither left half-written nor as a temporary file.
#[test]
fn full_disk_leaves_no_partial_or_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "g.toml", GENERIC);
    let out = dir.path().join("out");
    let Some(o) = run_with_file_size_limit(&file, &out, 15_000) else {
        return;
    };
    assert!(!o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    println!("{err}");
    assert!(
        err.contains("cannot write the file") && err.contains("File too large"),
        "{err}"
    );
    for e in std::fs::read_dir(out.join("g")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp-"), "temporary file left: {name}");
        // Whatever was renamed into place is complete.
        if name.ends_with(".parquet") {
            assert!(
                try_read_parquet(&out.join("g").join(&name)).is_ok(),
                "{name} does not read"
            );
        }
    }
}

/// docs/errors.md: a full disk should be reported like the other output
/// folder problems, exit 2 with the operating system's reason. Today the
/// reason is lost inside polars ("Invalid thrift: transport error") and the
/// exit code is 1.
#[test]
fn full_disk_names_the_reason_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "g.toml", GENERIC);
    let out = dir.path().join("out");
    let Some(o) = run_with_file_size_limit(&file, &out, 15_000) else {
        return;
    };
    assert_bad(&o, &["File too large"]);
}
