//! Prefix caching (model.md §6.8): off, it changes no result; with a cache
//! large enough to keep everything, a replayed block-hash trace's hit share
//! is exactly the share computed from its hash ids alone, and smaller
//! caches never do better and do not do worse with more memory; a growing
//! conversation saves exactly the prefill a hand count gives.

use std::collections::HashSet;

use sharesim::run::run_scenario;

use crate::support::{assert_success, num, read_parquet, repo_file, scenario, sharesim, write};

/// Run `scenario` with the binary (one thread, no charts) into `out`; the
/// results table.
fn results_of(scenario: &std::path::Path, out: &std::path::Path) -> Vec<u8> {
    let o = sharesim()
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .args(["--threads", "1", "--no-charts"])
        .output()
        .expect("sharesim runs");
    assert_success(&o);
    let name = std::fs::read_to_string(scenario)
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("name = ")
                .map(|n| n.trim_matches('"').to_string())
        })
        .expect("a name");
    std::fs::read(out.join(name).join("results.parquet")).expect("results written")
}

/// A shipped LLM scenario as is, with prefix caching said off in full, and
/// with caches on but no prompt blocks to find: the same results file, byte
/// for byte, but for the three prefix columns.
#[test]
fn prefix_caching_off_changes_no_result() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(repo_file("scenarios/llm-chat.toml")).unwrap();
    let as_shipped = write(dir.path(), "a.toml", &shipped);
    let explicit = shipped
        .replace(
            "[[placements]]\n",
            "[[placements]]\nprefix_caching = false\n",
        )
        .replace(
            "[requests]\n",
            "[requests]\nsystem_prompt_tokens = 0\ngrowing_context = false\n",
        );
    assert_ne!(explicit, shipped, "the keys were added");
    let explicit = write(dir.path(), "b.toml", &explicit);
    let a = results_of(&as_shipped, &dir.path().join("a"));
    let b = results_of(&explicit, &dir.path().join("b"));
    assert!(a == b, "an explicit `off` moved the results file");
    // Caches on, but prompts without blocks: every earlier column equal.
    let on = shipped.replace(
        "[[placements]]\n",
        "[[placements]]\nprefix_caching = true\n",
    );
    let on = write(dir.path(), "c.toml", &on);
    results_of(&on, &dir.path().join("c"));
    let want = read_parquet(&dir.path().join("a/llm-chat/results.parquet"));
    let got = read_parquet(&dir.path().join("c/llm-chat/results.parquet"));
    let prefix_cols = [
        "prefix_cache_hit_share",
        "prefill_tokens_saved",
        "prefix_cache_evictions",
    ];
    for col in want.columns() {
        if prefix_cols.contains(&col.name().as_str()) {
            continue;
        }
        let g = got.column(col.name()).expect("same columns");
        assert!(
            col.as_materialized_series()
                .equals_missing(g.as_materialized_series()),
            "column {} moved with empty caches",
            col.name()
        );
    }
    let saved = crate::support::f64_column(&got, "prefill_tokens_saved");
    assert!(!saved.is_empty() && saved.iter().all(|v| *v == Some(0.0)));
}

/// A synthetic Mooncake trace: 240 requests of 8 blocks (512 tokens each,
/// the last one partial), one every 2 s; request `i` shares its first
/// `i % 7` blocks with request `i / 2`'s chain (a deterministic pattern of
/// overlaps), the rest its own.
fn synthetic_trace() -> (String, Vec<(u32, Vec<u64>)>) {
    let mut rows: Vec<(u32, Vec<u64>)> = Vec::new();
    let mut lines = String::new();
    let mut next_id = 1_000_000u64;
    for i in 0..240usize {
        let input = 8 * 512 - 100 + (i as u32 % 50);
        let shared = i % 7;
        let mut ids: Vec<u64> = Vec::new();
        if i > 0 {
            let parent: &Vec<u64> = &rows[i / 2].1;
            ids.extend(parent.iter().take(shared));
        }
        while ids.len() < 8 {
            next_id += 1;
            ids.push(next_id);
        }
        lines.push_str(&format!(
            "{{\"timestamp\": {}, \"input_length\": {input}, \"output_length\": 8, \"hash_ids\": {:?}}}\n",
            i * 2000,
            ids
        ));
        rows.push((input, ids));
    }
    (lines, rows)
}

/// The exact share, from the hash ids alone: in arrival order a request's
/// hit is its longest run of leading blocks seen before (block `j` holding
/// `min(512, n - 512 j)` tokens), at most `n - 1` (the last prompt token
/// is always computed), then all its blocks are seen.
fn exact_share(rows: &[(u32, Vec<u64>)]) -> (f64, u64) {
    let mut seen = HashSet::new();
    let (mut hit, mut total) = (0u64, 0u64);
    for (n, ids) in rows {
        let mut h = 0u64;
        for (j, id) in ids.iter().enumerate() {
            if !seen.contains(id) {
                break;
            }
            h += (*n as u64 - 512 * j as u64).min(512);
        }
        hit += h.min(*n as u64 - 1);
        total += *n as u64;
        seen.extend(ids.iter().copied());
    }
    (hit as f64 / total as f64, hit)
}

#[test]
fn a_large_cache_hits_exactly_the_trace_share_and_smaller_ones_less() {
    let dir = tempfile::tempdir().unwrap();
    let (lines, rows) = synthetic_trace();
    write(dir.path(), "t.jsonl", lines);
    let (exact, exact_tokens) = exact_share(&rows);
    assert!(
        exact > 0.2 && exact < 0.8,
        "the trace has overlaps: {exact}"
    );
    let mut shares = Vec::new();
    let mut evictions = Vec::new();
    // Memory for the cache: KV budgets of 1, 2 and 4 devices.
    for tp in [1, 2, 4] {
        let text = format!(
            r#"
name = "trace-cache"
seed = 1
horizon_h = 1
warmup_h = 0
replications = 1
[users]
count = 4
[model]
name = "gpt_oss_120b"
quantisation = "mxfp4"
[trace]
file = "{}"
format = "mooncake"
[[placements]]
name = "pool"
kind = "pooled"
device = "h100_sxm"
tensor_parallel = {tp}
servers = 1
prefix_caching = true
"#,
            dir.path().join("t.jsonl").display()
        );
        let r = run_scenario(&scenario(&text));
        let row = &r.replications[0];
        assert_eq!(num(row, "measured"), rows.len() as f64);
        shares.push(num(row, "prefix_cache_hit_share"));
        evictions.push(num(row, "prefix_cache_evictions"));
        if evictions.last() == Some(&0.0) {
            assert_eq!(num(row, "prefill_tokens_saved"), exact_tokens as f64);
        }
    }
    assert!(
        evictions[0] > 0.0,
        "the smallest cache evicts: {evictions:?}"
    );
    assert_eq!(*evictions.last().unwrap(), 0.0, "the largest keeps all");
    assert!(
        (shares.last().unwrap() - exact).abs() < 1e-12,
        "unbounded {shares:?} vs exact {exact}"
    );
    for w in shares.windows(2) {
        assert!(w[0] <= w[1], "more memory never hits less: {shares:?}");
    }
    assert!(shares.iter().all(|&s| s <= exact + 1e-12));
    assert!(shares[0] < exact, "a small cache loses hits: {shares:?}");
}

/// One agent in one conversation: a 1,000-token system prompt, then 100
/// new tokens and 50 generated per step, every step continuing the
/// conversation. Step `k`'s prompt is `P_k = P_{k-1} + 50 + 100` with
/// `P_0 = 1,100`. A pooled server (vLLM, 16-token blocks) finds the full
/// blocks of the previous prompt and answer: `16 floor((P_{k-1} + 50) /
/// 16)`; a dedicated device (llama.cpp) the previous prompt and answer
/// exactly: `P_{k-1} + 50`.
#[test]
fn a_growing_conversation_saves_the_hand_counted_prefill() {
    let text = r#"
name = "growing"
seed = 5
horizon_h = 0.5
warmup_h = 0
replications = 1
[users]
count = 1
arrivals = "agent"
agent_gap = { distribution = "deterministic", value_s = 30 }
[model]
name = "gpt_oss_120b"
quantisation = "mxfp4"
[requests]
input_tokens = { distribution = "fixed", value = 100 }
output_tokens = { distribution = "fixed", value = 50 }
system_prompt_tokens = 1000
growing_context = true
[[placements]]
name = "pool"
kind = "pooled"
device = "h100_sxm"
servers = 1
prefix_caching = true
[[placements]]
name = "local"
kind = "dedicated"
device = "framework_desktop"
prefix_caching = true
[[placements]]
name = "local-no-cache"
kind = "dedicated"
device = "framework_desktop"
"#;
    let r = run_scenario(&scenario(text));
    for (i, block) in [(0usize, 16u64), (1, 1)] {
        let row = &r.replications[i];
        let n = num(row, "measured") as u64;
        assert!(n >= 10, "a long conversation: {n} steps");
        let (mut p, mut saved, mut prompts) = (1100u64, 0u64, 1100u64);
        for _ in 1..n {
            saved += (p + 50) / block * block;
            p += 150;
            prompts += p;
        }
        assert_eq!(num(row, "prefill_tokens_saved"), saved as f64, "row {i}");
        let share = num(row, "prefix_cache_hit_share");
        assert!((share - saved as f64 / prompts as f64).abs() < 1e-12);
        assert_eq!(num(row, "prefix_cache_evictions"), 0.0);
    }
    // The device that keeps its conversation starts answering sooner.
    let cached = num(&r.replications[1], "ttft_mean_s");
    let uncached = num(&r.replications[2], "ttft_mean_s");
    assert!(cached < 0.5 * uncached, "{cached} vs {uncached}");
}
