//! `sharesim run`: simulate every placement of a scenario, write its result
//! tables, print the summary table and draw its charts.

use std::path::PathBuf;

use clap::Args;

use sharesim::output::write_parquet;
use sharesim::results::Row;
use sharesim::run::run_scenario;
use sharesim::run::Work;
use sharesim::scenario::Scenario;

use super::answer::PrintArgs;
use super::shared::{
    counted, prepare, print_service_level, ChartArgs, MemoryArgs, OverrideArgs, ScenarioArgs,
    ThreadArgs,
};
use super::{Failure, Outcome};
use sharesim::results::columns;

/// Simulate every placement of a scenario; print a summary and write
/// OUT/<scenario-name>/results.parquet (one row per placement x
/// replication) and summary.parquet (one row per placement).
#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    #[command(flatten)]
    pub threads: ThreadArgs,
    #[command(flatten)]
    pub memory: MemoryArgs,
    #[command(flatten)]
    pub charts: ChartArgs,
    #[command(flatten)]
    pub print: PrintArgs,
}

pub fn run(args: &RunArgs) -> Result<Outcome, Failure> {
    let dir = simulate(args)?;
    args.charts.draw(&[
        dir.join("latency_cdf.parquet"),
        dir.join("timeline.parquet"),
    ])?;
    Ok(Outcome::Done)
}

/// Simulate, write the tables and print the summary; returns the folder
/// written.
fn simulate(args: &RunArgs) -> Result<PathBuf, Failure> {
    let scenario = args.overrides.load(&args.input.scenario)?;
    let (pool, dir, _guard) = prepare(
        &args.input,
        &args.overrides,
        &args.threads,
        &args.memory,
        &scenario,
        Work::Run,
        "run",
    )?;
    match &scenario.benchmark {
        Some(b) => eprintln!(
            "running {} (benchmark {}: {} requests from {} clients, {} x {}, each until its last request completes)",
            scenario.name,
            b.setup.name(),
            b.requests,
            b.concurrency,
            counted(scenario.placements.len(), "placement"),
            counted(scenario.replications, "replication"),
        ),
        None => eprintln!(
            "running {} ({} users, {} x {}, {:.0} s simulated each)",
            scenario.name,
            scenario.users,
            counted(scenario.placements.len(), "placement"),
            counted(scenario.replications, "replication"),
            scenario.horizon_s
        ),
    }
    let started = std::time::Instant::now();
    let results = pool.install(|| run_scenario(&scenario));
    let elapsed = started.elapsed().as_secs_f64();
    let results_path = dir.join("results.parquet");
    let summary_path = dir.join("summary.parquet");
    write_parquet(&results_path, &results.replications).map_err(anyhow::Error::from)?;
    write_parquet(&summary_path, &results.summary).map_err(anyhow::Error::from)?;
    write_parquet(&dir.join("latency_cdf.parquet"), &results.latency_cdf)
        .map_err(anyhow::Error::from)?;
    write_parquet(&dir.join("timeline.parquet"), &results.timeline).map_err(anyhow::Error::from)?;
    let classes_path = dir.join("classes.parquet");
    if results.classes.is_empty() {
        // One class: a file left by an earlier run would lie.
        let _ = std::fs::remove_file(&classes_path);
    } else {
        write_parquet(&classes_path, &results.classes).map_err(anyhow::Error::from)?;
    }
    print_summary(&scenario, &results.summary, &args.print);
    let requests: f64 = results
        .replications
        .iter()
        .filter_map(|r| sharesim::results::get(r, "arrived").and_then(|v| v.as_f64()))
        .sum();
    eprintln!(
        "simulated {requests:.0} requests in {elapsed:.2} s; wrote {} and {}",
        results_path.display(),
        summary_path.display()
    );
    Ok(dir)
}

/// The summary table (its columns chosen by the kind of placements), the
/// service level, and a warning if a placement is unstable.
fn print_summary(s: &Scenario, summary: &[Row], print: &PrintArgs) {
    let any_llm = (0..s.placements.len()).any(|p| s.llm_of(p).is_some());
    let any_generic = (0..s.placements.len()).any(|p| s.llm_of(p).is_none());
    let mut cols = if s.benchmark.is_some() {
        super::answer::benchmark_columns(summary)
    } else if any_llm {
        vec![
            columns::PLACEMENT,
            columns::DEVICES_TOTAL,
            columns::TTFT_P99_S,
            columns::TPOT_P99_S,
            columns::MEM_GB_PER_USER,
            columns::CAPEX_USD_PER_USER,
            "energy_kwh_per_user_per_day",
            "mean_batch",
            columns::UTILIZATION_SHARE,
            "batch_fill_share",
            "saturation_share",
            columns::E2E_P99_S,
            "ttft_p99_s_ci95",
            "device",
            "rejected",
            "unstable",
        ]
    } else if s.placements.iter().any(|p| p.priced_device().is_some()) {
        vec![
            columns::PLACEMENT,
            columns::DEVICES_TOTAL,
            columns::RESPONSE_P99_S,
            columns::MEM_GB_PER_USER,
            columns::CAPEX_USD_PER_USER,
            "energy_kwh_per_user_per_day",
            columns::WAIT_P99_S,
            columns::UTILIZATION_SHARE,
            "response_p99_s_ci95",
            "device",
            "unstable",
        ]
    } else {
        vec![
            columns::PLACEMENT,
            columns::KIND,
            "servers",
            columns::UTILIZATION_SHARE,
            columns::P_WAIT_SHARE,
            "wait_mean_s",
            columns::WAIT_P99_S,
            "wait_p99_s_ci95",
            columns::RESPONSE_P99_S,
            "unstable",
        ]
    };
    if any_llm && any_generic {
        cols.insert(4, columns::RESPONSE_P99_S);
    }
    let caching = s
        .placements
        .iter()
        .any(|p| p.llm().is_some_and(|l| l.prefix_caching));
    if caching && s.benchmark.is_none() {
        cols.insert(4, "prefix_cache_hit_share");
    }
    if !s.service_level.is_empty() {
        // The verdict right after the name: a narrow terminal drops columns
        // from the right.
        cols.insert(1, columns::SLO_MET);
    }
    print.print(summary, &cols);
    if !print.is_table() {
        return;
    }
    print_service_level(s);
    if summary.iter().any(|r| {
        matches!(
            sharesim::results::get(r, "unstable"),
            Some(sharesim::results::Value::Bool(Some(true)))
        )
    }) {
        println!("unstable: offered load >= capacity; its waits grow with the horizon and are not steady-state figures");
    }
}
