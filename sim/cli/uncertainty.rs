//! `sharesim uncertainty`: size a seeded Latin hypercube of samples over
//! the ranges of a scenario's `[uncertainty]` table, and each input at its
//! low and high value (the others nominal), as the points of a sweep (one
//! part per point; `--resume`, `--shard`, `sharesim merge` as for `sweep`);
//! then write uncertainty.parquet (p5 / p50 / p95 of every headline figure)
//! and swings.parquet (the one-at-a-time swings), print both and draw the
//! tornado chart.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::Args;

use sharesim::results::{get, Row, Value};
use sharesim::sweep::summary::summarize;
use sharesim::sweep::uncertainty::uncertainty_sweep;

use super::answer::PrintArgs;
use super::shared::{ChartArgs, MemoryArgs, ProfileArgs, ScenarioArgs, SetArgs, ThreadArgs};
use super::sweep::{execute, Execution};
use super::{Failure, Outcome};

/// Size the samples of a scenario's [uncertainty] ranges (a seeded Latin
/// hypercube) and each input at its low and high value, as the points of a
/// sweep written to OUT/<name>/parts/; then report the 5th, 50th and 95th
/// percentiles of every headline figure (uncertainty.parquet), the
/// one-at-a-time swings (swings.parquet) and a tornado chart (tornado.png).
#[derive(Args)]
#[command(mut_arg("scenario", |a| a.help("Scenario file with an [uncertainty] table")))]
pub struct UncertaintyArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    #[command(flatten)]
    pub set: SetArgs,
    #[command(flatten)]
    pub threads: ThreadArgs,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Latin hypercube samples (default: [uncertainty] samples, else 100).
    #[arg(long)]
    pub samples: Option<usize>,
    /// Seed of the Latin hypercube (default: the scenario's seed). The
    /// simulations keep the scenario's own seed (`--set seed=N` changes it).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Skip points whose part file is sound and of this design; compute the rest.
    #[arg(long)]
    pub resume: bool,
    /// Run only shard I of N (1-based), as `sweep --shard`; `sharesim merge
    /// OUT/<name>` combines the shards and writes the summary.
    #[arg(long)]
    pub shard: Option<String>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub charts: ChartArgs,
    #[command(flatten)]
    pub print: PrintArgs,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

pub fn run(args: &UncertaintyArgs, on_ctrl_c: fn(Arc<AtomicBool>)) -> Result<Outcome, Failure> {
    let pool = args.threads.pool()?;
    let path = &args.input.scenario;
    let text = args.set.text(path)?;
    let (sweep, spec) = pool
        .install(|| uncertainty_sweep(&text, path, args.samples, args.seed))
        .map_err(anyhow::Error::from)?;
    eprintln!(
        "uncertainty {}: {} inputs, {} Latin hypercube samples, the nominal point and {} swings",
        sweep.name,
        spec.inputs.len(),
        spec.samples,
        2 * spec.inputs.len()
    );
    let how = Execution {
        scenario: path,
        out: &args.input.out,
        shard: args.shard.as_deref(),
        resume: args.resume,
        quiet: args.quiet,
        memory: &args.memory,
        profile: &args.profile,
    };
    let (outcome, combined) = execute(&how, sweep, pool, on_ctrl_c)?;
    if let Some(p) = combined {
        finish(&p, &args.print, &args.charts)?;
    }
    Ok(outcome)
}

/// Whether sweep.parquet at `combined` holds an uncertainty design's rows.
pub fn is_design(combined: &Path) -> bool {
    sharesim::output::read_rows(combined).is_ok_and(|rows| {
        rows.iter()
            .any(|r| get(r, sharesim::sweep::uncertainty::RUN).is_some())
    })
}

/// From the design's sweep.parquet: write uncertainty.parquet and
/// swings.parquet beside it, print them and draw the tornado chart.
pub fn finish(combined: &Path, print: &PrintArgs, charts: &ChartArgs) -> Result<(), Failure> {
    let rows = sharesim::output::read_rows(combined).map_err(anyhow::Error::from)?;
    let summary = summarize(&rows).ok_or_else(|| {
        Failure::Internal(anyhow::anyhow!(
            "{}: not the rows of an uncertainty design",
            combined.display()
        ))
    })?;
    let dir = combined.parent().unwrap_or(Path::new("."));
    let (pct, swings) = (dir.join("uncertainty.parquet"), dir.join("swings.parquet"));
    sharesim::output::write_parquet(&pct, &summary.percentiles).map_err(anyhow::Error::from)?;
    sharesim::output::write_parquet(&swings, &summary.swings).map_err(anyhow::Error::from)?;
    eprintln!("wrote {} and {}", pct.display(), swings.display());
    let mut names = vec!["placement"];
    if distinct(&summary.percentiles, "pool_size") > 1 {
        names.push("pool_size");
    }
    names.extend(["figure", "p5", "p50", "p95", "nominal", "feasible_share"]);
    print.print(&summary.percentiles, &names);
    let tornado: Vec<Row> = summary
        .swings
        .into_iter()
        .filter(|r| get(r, "tornado") == Some(&Value::Bool(Some(true))))
        .collect();
    // The swings are a second table: printed for people only, so that CSV
    // and JSON output stay one table (swings.parquet has them all).
    if let Some(first) = tornado.first().filter(|_| print.is_table()) {
        println!(
            "\nswings of {} of {}, each input at its low and high value, the others nominal:",
            get(first, "figure").map(Value::display).unwrap_or_default(),
            get(first, "placement")
                .map(Value::display)
                .unwrap_or_default()
        );
        let mut ranked = tornado.clone();
        ranked.sort_by_key(|r| get(r, "rank").and_then(Value::as_f64).unwrap_or(f64::MAX) as u64);
        print.print(
            &ranked,
            &[
                "rank",
                "input",
                "input_low",
                "input_high",
                "at_low",
                "at_high",
                "swing",
            ],
        );
    }
    charts.draw(&[swings])
}

fn distinct(rows: &[Row], name: &str) -> usize {
    let mut v: Vec<String> = rows
        .iter()
        .filter_map(|r| get(r, name))
        .map(Value::display)
        .collect();
    v.sort();
    v.dedup();
    v.len()
}
