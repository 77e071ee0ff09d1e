//! Many models in one fleet (docs/model.md section 22): classes naming
//! the scenario's own model run exactly as the scenario-level model does;
//! a pooled placement serving two models holds a replica of each, even in
//! a pool of 4 users; the sub-fleets are deterministic for any thread
//! count; bad class models exit 2 naming the file, the key and the fix.

use sharesim::results::{get, Row, Value};
use sharesim::run::run_scenario;
use sharesim::sizing::size_scenario;

use crate::support::{num, row_of, run_refused, scenario, sharesim_on, text, write};

/// Two classes (chat, code) served by a desktop per user and an H100
/// pool; `chat_model` and `code_model` are class `model` tables, or empty
/// to use the scenario's `[model]`.
fn two_classes(chat_model: &str, code_model: &str) -> String {
    format!(
        r#"
name = "models-test"
seed = 7
horizon_h = 2
warmup_h = 0.25
replications = 2

[users]
count = 8
requests_per_day = 40

[model]
name = "gpt_oss_20b"
quantisation = "mxfp4"

[requests]
input_tokens = {{ distribution = "lognormal", median = 1000, p99 = 4000 }}
output_tokens = {{ distribution = "lognormal", median = 200, p99 = 800 }}

[[classes]]
name = "chat"
share = 0.5
{chat_model}

[[classes]]
name = "code"
share = 0.5
{code_model}

[[placements]]
name = "desktop"
kind = "dedicated"
device = "framework_desktop"

[[placements]]
name = "h100-pool"
kind = "pooled"
device = "h100_sxm"
servers = 1

[service_level]
ttft_p99_s = 8.0
tpot_p99_s = 0.1

[sizing]
pool_sizes = [1, 4, "all"]
min_measured_requests = 2000
"#
    )
}

const GPT_OSS_20B: &str = r#"model = { name = "gpt_oss_20b", quantisation = "mxfp4" }"#;
const QWEN3_30B: &str = r#"model = { name = "qwen3_30b_a3b", quantisation = "fp8" }"#;

fn same_rows(what: &str, a: &[Row], b: &[Row]) {
    assert_eq!(a.len(), b.len(), "{what}: row count");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(format!("{x:?}"), format!("{y:?}"), "{what}: rows differ");
    }
}

/// Every class naming the scenario's own model is the one-model scenario:
/// no sub-fleets, and the same results, row for row.
#[test]
fn every_class_on_one_model_is_todays_scenario() {
    let plain = scenario(&two_classes("", ""));
    let named = scenario(&two_classes(GPT_OSS_20B, GPT_OSS_20B));
    assert!(named.placements.iter().all(|p| !p.is_multi_model()));
    let (a, b) = (run_scenario(&plain), run_scenario(&named));
    same_rows("replications", &a.replications, &b.replications);
    same_rows("summary", &a.summary, &b.summary);
    same_rows("classes", &a.classes, &b.classes);
    let (a, b) = (size_scenario(&plain), size_scenario(&named));
    same_rows("sizing", &a.rows, &b.rows);
    assert!(
        a.rows
            .iter()
            .all(|r| get(r, "model_replicas_per_pool").is_none()),
        "a one-model scenario's sizing rows keep their columns"
    );
}

/// Two models: the pool holds one sub-fleet per model, a run's servers are
/// the replicas of each, and every size of pool whose users use both
/// models holds at least one replica of each (4 users: 2 chat + 2 code).
#[test]
fn a_pool_of_four_users_of_two_models_holds_a_replica_of_each() {
    let s = scenario(&two_classes("", QWEN3_30B));
    let pool = &s.placements[1];
    assert!(pool.is_multi_model());
    let labels: Vec<&str> = pool.models.iter().map(|f| f.label.as_str()).collect();
    assert_eq!(labels, ["gpt_oss_20b mxfp4", "qwen3_30b_a3b fp8"]);
    // Each model's own step costs: qwen3 at FP8 reads more bytes per step.
    let step = |m: usize| pool.models[m].server.step.decode_step_s(1, 1000);
    assert!(step(1) > step(0), "{} vs {}", step(1), step(0));
    let r = run_scenario(&s);
    assert_eq!(num(row_of(&r.summary, "h100-pool"), "devices_total"), 2.0);
    let sized = size_scenario(&s);
    for k in [4u64, 8] {
        let row = sized
            .rows
            .iter()
            .find(|r| {
                text(r, "placement") == "h100-pool"
                    && matches!(get(r, "pool_size"), Some(Value::U64(n)) if *n == k)
            })
            .expect("a row per pool size");
        let replicas = text(row, "model_replicas_per_pool");
        let counts: Vec<f64> = replicas
            .split(" + ")
            .map(|m| m.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(counts.len(), 2, "{replicas}");
        assert!(counts.iter().all(|&n| n >= 1.0), "pool of {k}: {replicas}");
        assert_eq!(
            num(row, "servers_per_pool"),
            counts.iter().sum::<f64>(),
            "servers are the sum of the replicas: {replicas}"
        );
    }
}

/// The sub-fleets give the same rows on one thread as on two.
#[test]
fn model_sub_fleets_are_deterministic_across_threads() {
    let s = scenario(&two_classes("", QWEN3_30B));
    let in_pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| (run_scenario(&s), size_scenario(&s)))
    };
    let (a, b) = (in_pool(1), in_pool(2));
    same_rows("summary", &a.0.summary, &b.0.summary);
    same_rows("sizing", &a.1.rows, &b.1.rows);
}

/// Bad class models: exit 2, naming the file, the key and the fix.
#[test]
fn bad_class_models_name_the_file_key_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            r#"model = { name = "qwen9", quantisation = "fp8" }"#,
            vec![
                "models.toml",
                "classes[1].model.name",
                "unknown model `qwen9`",
                "qwen3_30b_a3b",
            ],
        ),
        (
            r#"model = { name = "llama_3_1_70b", quantisation = "bf16" }"#,
            vec![
                "models.toml",
                "placements[0].device",
                "in class \"code\"",
                "does not fit 1 x framework_desktop",
                "use a device with more memory",
            ],
        ),
    ];
    for (model, needles) in cases {
        let file = write(dir.path(), "models.toml", two_classes("", model));
        let o = sharesim_on("run", &file, dir.path());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        for n in needles {
            assert!(err.contains(n), "{n:?} not in: {err}");
        }
    }
}

/// The shipped household-office scenario: three classes on three models,
/// and two pools swapping the less used two in (at 2 and 20 GB/s).
fn shipped_models() -> String {
    std::fs::read_to_string(crate::support::repo_file(
        "scenarios/household-office-models.toml",
    ))
    .unwrap()
}

/// A swapping pool serves every request the placement is sent (the same
/// ones as the pool of resident replicas: common random numbers), counts
/// its loads, and pays them in TTFT.
#[test]
fn a_swap_pool_serves_every_request_and_pays_its_loads() {
    let s = scenario(&shipped_models().replace("horizon_h = 24", "horizon_h = 10"));
    let res = run_scenario(&s);
    let by = |name: &str| -> Vec<&Row> {
        res.replications
            .iter()
            .filter(|r| text(r, "placement") == name)
            .collect()
    };
    let resident = by("h100-pool");
    for name in ["h100-pool-swap-nvme", "h100-pool-swap-host-memory"] {
        for (r, plain) in by(name).iter().zip(&resident) {
            assert_eq!(num(r, "arrived"), num(plain, "arrived"), "{name}");
            assert_eq!(
                num(r, "arrived"),
                num(r, "completed_by_horizon")
                    + num(r, "in_flight_at_horizon")
                    + num(r, "rejected")
            );
            // 1 resident replica of gpt-oss-20b and 1 swap server.
            assert_eq!(num(r, "servers"), 2.0, "{name}");
            assert!(num(r, "model_loads") > 0.0, "{name}: no load");
            assert!(get(plain, "model_loads").and_then(Value::as_f64).is_none());
        }
    }
    // Slower loads, later first tokens.
    let p99 = |name: &str| num(row_of(&res.summary, name), "ttft_p99_s");
    assert!(p99("h100-pool-swap-nvme") > p99("h100-pool-swap-host-memory"));
    assert!(p99("h100-pool-swap-host-memory") > p99("h100-pool"));
}

/// Swapping saves servers only where the loads are quick: with weights
/// copied from host memory (20 GB/s) the office's pool needs fewer H100s
/// than one replica of each model; read from storage (2 GB/s), the 15 s
/// loads of Qwen3-30B break the 8 s p99 TTFT, and it does not.
#[test]
fn swapping_lowers_the_pool_where_loads_are_quick() {
    let r = size_scenario(&scenario(&shipped_models()));
    let servers = |placement: &str, pool: u64| -> f64 {
        let row = r
            .rows
            .iter()
            .find(|row| {
                text(row, "placement") == placement
                    && get(row, "pool_size").and_then(Value::as_f64) == Some(pool as f64)
            })
            .unwrap_or_else(|| panic!("{placement} pool {pool}"));
        assert!(
            text(row, "model_replicas_per_pool").contains(if placement == "h100-pool" {
                "llama_3_1_8b fp8 1"
            } else {
                "swap pool"
            }),
            "{placement}: {}",
            text(row, "model_replicas_per_pool")
        );
        num(row, "servers_per_pool")
    };
    for pool in [20, 100] {
        let resident = servers("h100-pool", pool);
        assert!(
            servers("h100-pool-swap-host-memory", pool) < resident,
            "pool {pool}"
        );
        assert!(
            servers("h100-pool-swap-nvme", pool) >= resident,
            "pool {pool}"
        );
    }
}

/// Bad `[placements.swap]`: exit 2, naming the key and the fix.
#[test]
fn bad_swaps_name_the_key_and_fix() {
    let two = two_classes("", QWEN3_30B);
    let cases = [
        (
            two.replace(
                "servers = 1\n",
                "servers = 1\nswap = { models = [\"qwen3\"] }\n",
            ),
            vec!["placements[1].swap.models", "\"qwen3\"", "qwen3_30b_a3b"],
        ),
        (
            two.replace(
                "servers = 1\n",
                "servers = 1\nswap = { models = [\"qwen3_30b_a3b\"], load_gb_per_s = 0 }\n",
            ),
            vec!["placements[1].swap.load_gb_per_s", "(got 0)"],
        ),
        (
            two.replace(
                "servers = 1\n",
                "servers = 1\nswap = { models = [\"qwen3_30b_a3b\"], servers = 0 }\n",
            ),
            vec!["placements[1].swap.servers", "between 1 and 10000"],
        ),
        (
            two.replace(
                "device = \"framework_desktop\"\n",
                "device = \"framework_desktop\"\nswap = { models = [\"qwen3_30b_a3b\"] }\n",
            ),
            vec![
                "placements[0].swap",
                "pooled placement serving classes of several models",
            ],
        ),
        (
            two_classes("", "").replace(
                "servers = 1\n",
                "servers = 1\nswap = { models = [\"gpt_oss_20b\"] }\n",
            ),
            vec!["placements[1].swap", "several models"],
        ),
    ];
    for (text, needles) in cases {
        run_refused(&text, &needles);
    }
}
