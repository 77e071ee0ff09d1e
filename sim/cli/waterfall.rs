//! `sharesim waterfall`: the devices factor of every dedicated/pooled pair
//! split into its causes ([`sharesim::sizing::waterfall`]), each the ratio
//! of two fleets sized at the same service level; writes waterfall.parquet
//! (one row per step) and waterfall_fleets.parquet (every fleet's sizing
//! row), prints the steps and draws decomposition-waterfall.png.

use std::path::PathBuf;

use clap::Args;

use sharesim::output::terminal::{wrap_words, Column, Unit};
use sharesim::output::write_parquet;
use sharesim::results::{get, Row, Value};
use sharesim::run::Work;
use sharesim::sizing::{parse_order, waterfall_pairs, Step};

use super::answer::{terminal_width, PrintArgs};
use super::shared::{
    counted, prepare, print_service_level, ChartArgs, MemoryArgs, OverrideArgs, ProfileArgs,
    ScenarioArgs, ThreadArgs,
};
use super::{Failure, Outcome};

/// Split the devices factor (one device per user over the pooled fleet) of
/// every pooled placement and its dedicated reference into causes, each
/// the ratio of two fleets sized at the scenario's service level: idle
/// time (a device per user vs the devices kept busy all the time), pool
/// size (that vs a sized pool of the dedicated device at batch 1, flat day,
/// one time zone), then diurnal profile, time zones, batching and hardware
/// in the order of --order; the steps multiply to the total
/// (docs/model.md section 23). Writes waterfall.parquet and
/// waterfall_fleets.parquet (every fleet's sizing row), and
/// decomposition-waterfall.png. A bad scenario exits 2 as `size`.
#[derive(Args)]
#[command(mut_arg("replications", |a| a.help("Override the number of replications per probe")))]
pub struct WaterfallArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    /// The order of the steps after idle_time and pool_size: each of
    /// diurnal_profile, time_zones, batching and hardware once, comma
    /// separated.
    #[arg(long, default_value = "diurnal_profile,time_zones,batching,hardware")]
    pub order: String,
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
    #[command(flatten)]
    pub profile: ProfileArgs,
}

pub fn run(args: &WaterfallArgs) -> Result<Outcome, Failure> {
    let dir = split(args)?;
    args.charts.draw(&[dir.join("waterfall.parquet")])?;
    Ok(Outcome::Done)
}

/// Refuse what the waterfall cannot split, naming the file, key and fix.
fn check(args: &WaterfallArgs, s: &sharesim::scenario::Scenario) -> Result<Vec<Step>, Failure> {
    let path = &args.input.scenario;
    let bad = |m: String| Failure::Input(anyhow::anyhow!("{}: {m}", path.display()));
    let order = parse_order(&args.order).map_err(|m| {
        Failure::Input(anyhow::anyhow!(
            "--order {:?}: {m} (e.g. --order batching,hardware,diurnal_profile,time_zones)",
            args.order
        ))
    })?;
    if s.benchmark.is_some() {
        return Err(bad(
            "benchmark: a benchmark scenario is run, not sized: use `sharesim run`".into(),
        ));
    }
    if s.trace.is_some() {
        return Err(bad("trace: a replayed trace fixes every arrival, so the flat-day and one-time-zone pools cannot be built: remove [trace] (or use the [users] rates `sharesim fit-trace` prints)".into()));
    }
    if s.classes.iter().any(|c| c.service_level.is_empty()) {
        return Err(bad("service_level: the waterfall sizes fleets and needs a service level: add a [service_level] table, e.g. `ttft_p99_s = 2.0`".into()));
    }
    if waterfall_pairs(s).is_empty() {
        return Err(bad("placements: the waterfall splits the factor of a pooled placement over a dedicated one serving the same classes, and there is no such pair: add a `kind = \"dedicated\"` placement beside the pooled one".into()));
    }
    Ok(order)
}

/// Split, write the tables and print the steps; returns the folder written.
fn split(args: &WaterfallArgs) -> Result<PathBuf, Failure> {
    let scenario = args.overrides.load(&args.input.scenario)?;
    let order = check(args, &scenario)?;
    let (pool, dir, _guard) = prepare(
        &args.input,
        &args.overrides,
        &args.threads,
        &args.memory,
        &scenario,
        Work::Size,
        "waterfall",
    )?;
    let pairs = waterfall_pairs(&scenario).len();
    eprintln!(
        "waterfall of {} ({} users, {}, pools of {}, {} per probe)",
        scenario.name,
        scenario.users,
        counted(pairs, "dedicated/pooled pair"),
        scenario
            .sizing
            .pool_sizes
            .last()
            .copied()
            .unwrap_or(scenario.users),
        counted(scenario.replications, "replication")
    );
    let started = std::time::Instant::now();
    let results = pool.install(|| sharesim::sizing::waterfall(&scenario, &order));
    let steps_path = dir.join("waterfall.parquet");
    let fleets_path = dir.join("waterfall_fleets.parquet");
    write_parquet(&steps_path, &results.steps).map_err(anyhow::Error::from)?;
    write_parquet(&fleets_path, &results.fleets).map_err(anyhow::Error::from)?;
    print_steps(&results.steps, &args.print);
    if args.print.is_table() {
        print_service_level(&scenario);
        print_totals(&results.steps);
    }
    eprintln!(
        "split in {:.1} s ({} sized); wrote {} and {}",
        started.elapsed().as_secs_f64(),
        counted(results.fleets.len(), "fleet"),
        steps_path.display(),
        fleets_path.display()
    );
    args.profile.report();
    Ok(dir)
}

/// The steps as a table.
fn print_steps(rows: &[Row], print: &PrintArgs) {
    let c = Column::new;
    let columns = [
        c("pooled_placement", "pooled", Unit::Text),
        c("step_index", "#", Unit::Count),
        c("step", "step", Unit::Text),
        c("factor", "factor", Unit::Factor),
        c("cumulative_factor", "so far", Unit::Factor),
        c("from_devices_total", "devices before", Unit::Number),
        c("to_devices_total", "devices after", Unit::Number),
        c("to_feasible", "after meets SLO", Unit::Flag),
        c("to_fleet", "fleet after the step", Unit::Text),
    ];
    print!("{}", print.render(rows, &columns, terminal_width()));
}

/// One line per pair: the total, the product of the steps, and any fleet
/// that misses the service level.
fn print_totals(rows: &[Row]) {
    let width = terminal_width().max(20);
    let text = |r: &Row, c: &str| get(r, c).map(Value::display).unwrap_or_default();
    let num = |r: &Row, c: &str| get(r, c).and_then(Value::as_f64);
    let mut pooled: Vec<String> = Vec::new();
    for r in rows {
        let p = text(r, "pooled_placement");
        if !pooled.contains(&p) {
            pooled.push(p);
        }
    }
    for p in pooled {
        let steps: Vec<&Row> = rows
            .iter()
            .filter(|r| text(r, "pooled_placement") == p)
            .collect();
        let Some(last) = steps.last() else { continue };
        let line = match num(last, "total_factor") {
            Some(t) => format!(
                "{p} over {}: devices factor {} = the product of the {} steps above ({})",
                text(last, "dedicated_placement"),
                sharesim::results::format_number(t),
                steps.len(),
                steps
                    .iter()
                    .map(|r| num(r, "factor").map_or("-".into(), sharesim::results::format_number))
                    .collect::<Vec<_>>()
                    .join(" x ")
            ),
            None => {
                let missed: Vec<String> = steps
                    .iter()
                    .flat_map(|r| {
                        [("from", "from_fleet"), ("to", "to_fleet")]
                            .into_iter()
                            .filter(|(side, _)| {
                                matches!(
                                    get(r, &format!("{side}_feasible")),
                                    Some(Value::Bool(Some(false)))
                                )
                            })
                            .map(|(side, f)| {
                                format!(
                                    "{} ({})",
                                    text(r, f),
                                    text(r, &format!("{side}_slo_detail"))
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                    .collect();
                let mut missed_once: Vec<String> = Vec::new();
                for m in missed {
                    if !missed_once.contains(&m) {
                        missed_once.push(m);
                    }
                }
                format!(
                    "{p} over {}: no total, a fleet misses the service level: {}",
                    text(last, "dedicated_placement"),
                    missed_once.join("; ")
                )
            }
        };
        for l in wrap_words(&line, width) {
            println!("{l}");
        }
    }
}
