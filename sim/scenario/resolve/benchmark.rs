//! `[benchmark]`: a serving benchmark's set-up instead of users and
//! arrivals. Its keys are checked per set-up ([`resolve_setup`]); the
//! tables that describe users, arrivals or a run length are refused (a
//! benchmark runs until its last request completes); the request sizes
//! become fixed token counts, the clients the scenario's users, sending
//! with [`Behaviour::Clients`]; the model and placements are resolved as
//! in any LLM scenario.

use std::path::Path;

use crate::workload::source::{Behaviour, RequestBudget};

use super::super::check::Check;
use super::super::raw::{RawBenchmark, RawRequests, RawScenario, RawTokens, RawUsers};
use super::super::{
    Benchmark, BenchmarkSetup, PlacementKind, Scenario, ScenarioError, UserClass, Workload,
};
use super::{arrivals, basics, placements, service_level, sizing, workload};

/// Most clients of a closed loop (each is a user with its own state).
const MAX_CONCURRENCY: u64 = 1_000_000;
/// Most requests of one benchmark run.
const MAX_REQUESTS: u64 = 100_000_000;
/// Most tokens of a prompt or an answer.
const MAX_TOKENS: u64 = 100_000_000;

/// Resolve a scenario with a `[benchmark]` table.
pub(super) fn resolve_benchmark(
    c: &Check,
    mut raw: RawScenario,
    path: &Path,
) -> Result<Scenario, ScenarioError> {
    let b = raw.benchmark.clone().expect("called with a [benchmark]");
    refuse_other_tables(c, &raw)?;
    let bench = resolve_setup(c, &b)?;
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let name = basics::resolve_name(c, &raw, path)?;
    // The same requests every time: one replication unless asked for more.
    let replications = basics::resolve_replications(c, &raw, 1)?;
    if raw.model.is_none() {
        return Err(c.err(
            "model",
            "missing: a benchmark runs an LLM: give [model] with `name` and `quantisation`",
        ));
    }
    raw.requests = Some(RawRequests {
        input_tokens: fixed(bench.input_tokens),
        output_tokens: fixed(bench.output_tokens),
        system_prompt_tokens: None,
        growing_context: None,
    });
    let (workload, memory_price_multiplier) = workload::resolve_workload(c, &raw, None, base_dir)?;
    let costs = super::costs::resolve_costs(c, &raw)?;
    if let Workload::Llm(l) = &workload {
        let need = bench.input_tokens as u64 + bench.output_tokens as u64;
        if need > l.model.context_limit_tokens {
            return Err(c.err(
                "benchmark.input_tokens",
                format!(
                    "input_tokens + output_tokens = {need} exceed {}'s context of {} tokens: shorten the prompt or the answer",
                    l.model.name, l.model.context_limit_tokens
                ),
            ));
        }
    }
    let placements = placements::resolve_placements(
        c,
        &raw,
        &placements::PlacementContext {
            workload: &workload,
            task: None,
            catalog_files: raw.catalog.as_ref(),
            base_dir,
            memory_price_multiplier,
            costs: &costs,
        },
    )?;
    check_dedicated(c, &placements, &bench)?;
    let mean_service_s = placements::reference_service_s(&workload, &placements);
    let users = bench.concurrency as usize;
    let seed = raw.seed.unwrap_or(1);
    // One group of clients with no open-loop rate: they start at time 0.
    let arrivals = arrivals::resolve_arrivals(c, &no_load(users as u64), users, 0.0, seed, 0.0)?;
    let service_level = service_level::resolve_service_level(c, raw.service_level.as_ref(), true)?;
    let sizing = sizing::resolve_sizing(c, raw.sizing.as_ref(), users)?;
    let budget = match b.requests_per_client {
        Some(k) => RequestBudget::PerClient(k as u32),
        None => RequestBudget::Total(bench.requests as u32),
    };
    // Not a window (each replication's is its own makespan): the length of
    // the run if every request were served alone, one after another, which
    // batching only shortens; the memory estimate and messages read it.
    let horizon_s = (bench.requests as f64 * mean_service_s).max(1.0);
    Ok(Scenario {
        name,
        source: path.to_path_buf(),
        seed,
        horizon_s,
        warmup_s: 0.0,
        replications,
        users,
        // Clients send as fast as they are answered: no offered rate.
        requests_per_user_per_day: 0.0,
        classes: vec![UserClass {
            name: "all".into(),
            groups: 0..arrivals.groups().len(),
            behaviour: Behaviour::Clients { budget },
            workload,
            requests_per_user_per_day: 0.0,
            mean_service_s,
            service_level: service_level.clone(),
            local_only: false,
        }],
        arrivals,
        trace: None,
        trace_clock: None,
        start_hour_of_day: 0.0,
        trace_blocks: None,
        mean_service_s,
        placements,
        hybrids: Vec::new(),
        service_level,
        sizing,
        outages: None,
        benchmark: Some(bench),
        costs,
    })
}

/// A fixed token count.
fn fixed(n: u32) -> RawTokens {
    RawTokens {
        distribution: "fixed".into(),
        value: Some(n as f64),
        median: None,
        p99: None,
        mean: None,
        cv: None,
        file: None,
        column: None,
    }
}

/// `[users]` of `count` clients with no profile, zones or load of their own.
fn no_load(count: u64) -> RawUsers {
    RawUsers {
        count,
        requests_per_day: None,
        duty_cycle: None,
        profile: None,
        timezones: None,
        arrivals: None,
        session_requests_mean: None,
        think_time: None,
        agent_gap: None,
        agent_start_spread_s: None,
        requests_per_day_cv: None,
        bursts: None,
    }
}

/// The tables and keys a benchmark replaces.
fn refuse_other_tables(c: &Check, raw: &RawScenario) -> Result<(), ScenarioError> {
    let given = [
        ("users", raw.users.is_some(), "the benchmark's clients are the users: remove [users] (set [benchmark] concurrency)"),
        ("classes", raw.classes.is_some(), "a benchmark has one kind of request: remove [[classes]] (or the [benchmark] table)"),
        ("hybrids", raw.hybrids.is_some(), "a benchmark has no classes to split: remove [[hybrids]]"),
        ("trace", raw.trace.is_some(), "a benchmark generates its own requests: remove [trace] (or the [benchmark] table)"),
        ("service", raw.service.is_some(), "a benchmark runs an LLM: remove [service] and give [model]"),
        ("requests", raw.requests.is_some(), "a benchmark's token counts are [benchmark] input_tokens and output_tokens: remove [requests]"),
        ("horizon_s", raw.horizon_s.is_some(), "a benchmark runs until its last request completes: remove horizon_s"),
        ("horizon_h", raw.horizon_h.is_some(), "a benchmark runs until its last request completes: remove horizon_h"),
        ("warmup_s", raw.warmup_s.is_some(), "a benchmark measures every request (no warm-up): remove warmup_s"),
        ("warmup_h", raw.warmup_h.is_some(), "a benchmark measures every request (no warm-up): remove warmup_h"),
    ];
    if let Some((key, _, message)) = given.iter().find(|(_, set, _)| *set) {
        return Err(c.err(*key, *message));
    }
    if let Some(i) = raw.placements.iter().position(|p| p.serves.is_some()) {
        return Err(c.err(
            c.placement_key(i, "serves"),
            "names classes, but a benchmark has none: remove `serves`",
        ));
    }
    Ok(())
}

/// A count key of `[benchmark]`: given, at least 1, at most `max`.
fn count(
    c: &Check,
    key: &str,
    v: Option<u64>,
    max: u64,
    example: &str,
) -> Result<u64, ScenarioError> {
    let full = format!("benchmark.{key}");
    match v {
        None => Err(c.err(
            full,
            format!("missing: this set-up needs `{key}`, e.g. {key} = {example}"),
        )),
        Some(0) => Err(c.err(full, "must be at least 1 (got 0)")),
        Some(n) if n > max => Err(c.err(full, format!("must be at most {max} (got {n})"))),
        Some(n) => Ok(n),
    }
}

/// Refuse `key` when given: it does not apply to set-up `setup`.
fn not_for(c: &Check, key: &str, given: bool, setup: &str, why: &str) -> Result<(), ScenarioError> {
    if given {
        Err(c.err(
            format!("benchmark.{key}"),
            format!("does not apply to setup = \"{setup}\" ({why}): remove it"),
        ))
    } else {
        Ok(())
    }
}

/// `[benchmark]`'s set-up and its keys.
fn resolve_setup(c: &Check, b: &RawBenchmark) -> Result<Benchmark, ScenarioError> {
    let names: Vec<String> = BenchmarkSetup::ALL
        .iter()
        .map(|(_, n)| format!("\"{n}\""))
        .collect();
    let setup = BenchmarkSetup::parse(&b.setup).ok_or_else(|| {
        c.err(
            "benchmark.setup",
            format!("unknown set-up {:?}: use {}", b.setup, names.join(", ")),
        )
    })?;
    let name = setup.name();
    let input = count(c, "input_tokens", b.input_tokens, MAX_TOKENS, "1024")? as u32;
    let (concurrency, requests, output) = match setup {
        BenchmarkSetup::ClosedLoop => {
            let clients = count(c, "concurrency", b.concurrency, MAX_CONCURRENCY, "16")?;
            let total = match (b.requests, b.requests_per_client) {
                (Some(_), Some(_)) => {
                    return Err(c.err(
                        "benchmark.requests_per_client",
                        "give either `requests` (in total) or `requests_per_client`, not both",
                    ))
                }
                (None, Some(k)) => {
                    let k = count(c, "requests_per_client", Some(k), MAX_REQUESTS, "4")?;
                    if k * clients > MAX_REQUESTS {
                        return Err(c.err(
                            "benchmark.requests_per_client",
                            format!(
                                "{k} x {clients} clients: at most {MAX_REQUESTS} requests in all"
                            ),
                        ));
                    }
                    k * clients
                }
                (r, None) => count(c, "requests", r, MAX_REQUESTS, "64")?,
            };
            if total < clients {
                return Err(c.err(
                    "benchmark.requests",
                    format!("{total} requests leave some of the {clients} clients idle: give at least `concurrency` requests"),
                ));
            }
            let output = count(c, "output_tokens", b.output_tokens, MAX_TOKENS, "1024")?;
            (clients, total, output)
        }
        BenchmarkSetup::Burst | BenchmarkSetup::BatchedDecode => {
            let why = "every request arrives at time 0";
            not_for(c, "concurrency", b.concurrency.is_some(), name, why)?;
            not_for(
                c,
                "requests_per_client",
                b.requests_per_client.is_some(),
                name,
                why,
            )?;
            let n = count(
                c,
                "requests",
                b.requests,
                MAX_REQUESTS.min(MAX_CONCURRENCY),
                "64",
            )?;
            let output = count(c, "output_tokens", b.output_tokens, MAX_TOKENS, "128")?;
            if setup == BenchmarkSetup::BatchedDecode && output < 2 {
                return Err(c.err(
                    "benchmark.output_tokens",
                    "must be at least 2 for batched decode (the first token comes from the prompt step; decode throughput needs a decode step)",
                ));
            }
            (n, n, output)
        }
        BenchmarkSetup::SinglePrompt => {
            let why = "one prompt processed alone";
            not_for(c, "concurrency", b.concurrency.is_some(), name, why)?;
            not_for(c, "requests", b.requests.is_some(), name, why)?;
            not_for(
                c,
                "requests_per_client",
                b.requests_per_client.is_some(),
                name,
                why,
            )?;
            let output = match b.output_tokens {
                None => 1,
                v => count(c, "output_tokens", v, MAX_TOKENS, "1")?,
            };
            (1, 1, output)
        }
    };
    Ok(Benchmark {
        setup,
        concurrency: concurrency as u32,
        requests,
        input_tokens: input,
        output_tokens: output as u32,
    })
}

/// A dedicated device serves one request at a time: only set-ups with one
/// client (a single prompt, a closed loop at concurrency 1) run on one.
fn check_dedicated(
    c: &Check,
    placements: &[super::super::Placement],
    b: &Benchmark,
) -> Result<(), ScenarioError> {
    if b.concurrency == 1 {
        return Ok(());
    }
    match placements.iter().position(|p| p.kind == PlacementKind::Dedicated) {
        Some(i) => Err(c.err(
            c.placement_key(i, "kind"),
            format!(
                "a dedicated device serves one request at a time, and setup = \"{}\" sends {} at once: use kind = \"pooled\" (servers = 1 is one server)",
                b.setup.name(),
                b.concurrency
            ),
        )),
        None => Ok(()),
    }
}
