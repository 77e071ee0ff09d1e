//! The `sharesim` command line. Only this file prints; the library returns
//! values and typed errors. Exit codes: 0 success, 1 a check failed or an
//! internal error, 2 bad input (scenario, arguments, output folder).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use sharesim::error::{OutputError, ScenarioError};
use sharesim::output::{prepare_output_dir, write_parquet};
use sharesim::run::run_scenario;
use sharesim::scenario::Scenario;
use sharesim::table::{render, Row};
use sharesim::validate::{run_checks, ValidateOptions};

#[derive(Parser)]
#[command(
    name = "sharesim",
    version,
    about = "Dedicated vs pooled AI inference hardware at the same service level"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate every placement of a scenario; print a summary and write
    /// OUT/<scenario-name>/results.parquet (one row per placement x
    /// replication) and summary.parquet (one row per placement).
    Run {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "notebooks-output")]
        out: PathBuf,
        /// Override the scenario seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override the number of replications.
        #[arg(long)]
        replications: Option<usize>,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Do not draw PNG charts.
        #[arg(long)]
        no_charts: bool,
    },
    /// Find the least hardware that meets the scenario's service level:
    /// servers per pooled placement (at every pool size of [sizing]), and
    /// whether one device per user meets it; writes sizing.parquet (one row
    /// per placement and pool size) and probes.parquet (every fleet tried).
    Size {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "notebooks-output")]
        out: PathBuf,
        /// Override the scenario seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override the number of replications per probe.
        #[arg(long)]
        replications: Option<usize>,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Do not draw PNG charts.
        #[arg(long)]
        no_charts: bool,
    },
    /// Run `run` or `size` at every point of the scenario's [sweep] grid, in
    /// parallel; each finished point is written at once to
    /// OUT/<name>/parts/, and OUT/<name>/sweep.parquet combines them when all
    /// are done. Ctrl-C stops cleanly; --resume runs only missing points.
    Sweep {
        /// Scenario file with a [sweep] table.
        scenario: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "notebooks-output")]
        out: PathBuf,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Skip points whose part file exists.
        #[arg(long)]
        resume: bool,
        /// Run only shard I of N (1-based), e.g. 2/8: points with index % N == I - 1.
        /// Default: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or from
        /// JOB_COMPLETION_INDEX with SHARESIM_SHARD_COUNT (Kubernetes Indexed Job).
        #[arg(long)]
        shard: Option<String>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        /// Do not draw PNG charts.
        #[arg(long)]
        no_charts: bool,
    },
    /// Redraw the charts of a results file (sweep.parquet, sizing.parquet,
    /// latency_cdf.parquet, timeline.parquet) without simulating again.
    Plot {
        /// A Parquet file written by run, size or sweep.
        results: PathBuf,
        /// Output folder (default: the file's folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Combine the part files of a sweep folder (OUT/<name>) into sweep.parquet,
    /// e.g. after shards ran on several machines.
    Merge {
        /// The sweep's folder, OUT/<scenario-name>.
        dir: PathBuf,
    },
    /// Print the calibration table: predicted vs measured decode speeds for
    /// every reference measurement, from the shipped catalogue (the text of
    /// docs/calibration.md's table).
    Calibrate,
    /// Check the engine against closed forms (Erlang-C, Pollaczek-Khinchine,
    /// Little's law, conservation) on this machine; exits 1 if any fails.
    Validate {
        /// Replications per check (at least 5).
        #[arg(long, default_value_t = 20)]
        replications: usize,
        /// Measured customers per replication.
        #[arg(long, default_value_t = 400_000.0)]
        customers: f64,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Fit a real request trace (CSV or Parquet): print the arrival rate,
    /// requests per clock hour, token distributions and sessions, and a TOML
    /// snippet for a scenario (see docs/traces.md).
    FitTrace {
        /// Trace file (.csv, or .parquet).
        trace: PathBuf,
        /// Column layout: a preset, or `auto` to pick it from the header.
        #[arg(long, default_value = "auto", value_parser = ["azure", "ragpulse", "auto"])]
        format: String,
        /// Also write the snippet to this file (atomically).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// An error with the exit code it deserves.
enum Failure {
    /// Bad input: exit 2.
    Input(anyhow::Error),
    /// Anything else: exit 1.
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        let input = e.chain().any(|c| {
            c.downcast_ref::<ScenarioError>().is_some()
                || c.downcast_ref::<sharesim::trace::TraceError>().is_some()
                || matches!(
                    c.downcast_ref::<OutputError>(),
                    Some(OutputError::Io { .. })
                )
        });
        if input {
            Failure::Input(e)
        } else {
            Failure::Internal(e)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            scenario,
            out,
            seed,
            replications,
            threads,
            no_charts,
        } => cmd_run(&scenario, &out, seed, replications, threads).and_then(|dir| {
            draw_charts(
                no_charts,
                &[
                    dir.join("latency_cdf.parquet"),
                    dir.join("timeline.parquet"),
                ],
            )
        }),
        Command::Validate {
            replications,
            customers,
            threads,
        } => cmd_validate(replications, customers, threads),
        Command::Calibrate => cmd_calibrate(),
        Command::Sweep {
            scenario,
            out,
            threads,
            resume,
            shard,
            quiet,
            no_charts,
        } => cmd_sweep(&scenario, &out, threads, resume, shard.as_deref(), quiet).and_then(
            |(code, combined)| match combined {
                Some(p) => draw_charts(no_charts, &[p]),
                None => Ok(code),
            },
        ),
        Command::Plot { results, out } => cmd_plot(&results, out.as_deref()),
        Command::Merge { dir } => cmd_merge(&dir),
        Command::FitTrace { trace, format, out } => cmd_fit_trace(&trace, &format, out.as_deref()),
        Command::Size {
            scenario,
            out,
            seed,
            replications,
            threads,
            no_charts,
        } => cmd_size(&scenario, &out, seed, replications, threads)
            .and_then(|dir| draw_charts(no_charts, &[dir.join("sizing.parquet")])),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            let (e, code) = match f {
                Failure::Input(e) => (e, 2),
                Failure::Internal(e) => (e, 1),
            };
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(code)
        }
    }
}

fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, Failure> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if n == 0 {
            return Err(Failure::Input(anyhow::anyhow!(
                "--threads must be at least 1"
            )));
        }
        b = b.num_threads(n);
    }
    b.build()
        .context("cannot start worker threads")
        .map_err(Failure::Internal)
}

/// Load a scenario and apply the command-line overrides.
fn load_scenario(
    path: &Path,
    seed: Option<u64>,
    replications: Option<usize>,
) -> Result<Scenario, Failure> {
    let mut scenario = Scenario::load(path).map_err(anyhow::Error::from)?;
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    if let Some(r) = replications {
        if r == 0 {
            return Err(Failure::Input(anyhow::anyhow!(
                "--replications must be at least 1"
            )));
        }
        scenario.replications = r;
    }
    Ok(scenario)
}

fn cmd_run(
    path: &Path,
    out: &Path,
    seed: Option<u64>,
    replications: Option<usize>,
    threads: Option<usize>,
) -> Result<PathBuf, Failure> {
    let scenario = load_scenario(path, seed, replications)?;
    let dir = prepare_output_dir(&out.join(&scenario.name)).map_err(anyhow::Error::from)?;
    let pool = thread_pool(threads)?;
    eprintln!(
        "running {} ({} users, {} placements x {} replications, {:.0} s simulated each)",
        scenario.name,
        scenario.users,
        scenario.placements.len(),
        scenario.replications,
        scenario.horizon_s
    );
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
    print_summary(&scenario, &results.summary);
    let requests: f64 = results
        .replications
        .iter()
        .filter_map(|r| sharesim::table::get(r, "arrived").and_then(|v| v.as_f64()))
        .sum();
    eprintln!(
        "simulated {requests:.0} requests in {elapsed:.2} s; wrote {} and {}",
        results_path.display(),
        summary_path.display()
    );
    Ok(dir)
}

/// The service level's targets, one per line (`: target`), each prefixed
/// with the classes it applies to when classes differ.
fn service_level_lines(s: &Scenario) -> Vec<String> {
    let all_same = s
        .classes
        .iter()
        .all(|c| c.service_level == s.classes[0].service_level);
    if all_same {
        return s.classes[0]
            .service_level
            .describe()
            .into_iter()
            .map(|t| format!(": {t}"))
            .collect();
    }
    s.classes
        .iter()
        .flat_map(|c| {
            c.service_level
                .describe()
                .into_iter()
                .map(move |t| format!(" of class {}: {t}", c.name))
        })
        .collect()
}

fn print_summary(s: &Scenario, summary: &[Row]) {
    let any_llm = (0..s.placements.len()).any(|p| s.llm_of(p).is_some());
    let any_generic = (0..s.placements.len()).any(|p| s.llm_of(p).is_none());
    let mut cols = if any_llm {
        vec![
            "placement",
            "device",
            "devices",
            "utilization",
            "mean_batch",
            "ttft_p99_s",
            "ttft_p99_s_ci95",
            "tpot_p99_s",
            "e2e_p99_s",
            "mem_gb_per_user",
            "capex_usd_per_user",
            "energy_kwh_per_user_per_day",
            "rejected",
            "unstable",
        ]
    } else if s.placements.iter().any(|p| p.priced_device.is_some()) {
        vec![
            "placement",
            "device",
            "devices",
            "utilization",
            "wait_p99_s",
            "response_p99_s",
            "response_p99_s_ci95",
            "mem_gb_per_user",
            "capex_usd_per_user",
            "energy_kwh_per_user_per_day",
            "unstable",
        ]
    } else {
        vec![
            "placement",
            "kind",
            "servers",
            "utilization",
            "p_wait",
            "wait_mean_s",
            "wait_p99_s",
            "wait_p99_s_ci95",
            "response_p99_s",
            "unstable",
        ]
    };
    if any_llm && any_generic {
        cols.insert(cols.len() - 1, "response_p99_s");
    }
    if !s.service_level.is_empty() {
        cols.push("slo_met");
    }
    println!("{}", render(summary, &cols));
    for t in service_level_lines(s) {
        println!("service level{t} (judged at the unfavourable end of the 95 % interval)");
    }
    if summary.iter().any(|r| {
        matches!(
            sharesim::table::get(r, "unstable"),
            Some(sharesim::table::Value::Bool(Some(true)))
        )
    }) {
        println!("unstable: offered load >= capacity; its waits grow with the horizon and are not steady-state figures");
    }
}

fn cmd_validate(
    replications: usize,
    customers: f64,
    threads: Option<usize>,
) -> Result<ExitCode, Failure> {
    if replications < 5 {
        return Err(Failure::Input(anyhow::anyhow!(
            "--replications must be at least 5 for a t-based confidence interval"
        )));
    }
    if !(customers.is_finite() && customers >= 1000.0) {
        return Err(Failure::Input(anyhow::anyhow!(
            "--customers must be at least 1000"
        )));
    }
    let pool = thread_pool(threads)?;
    let opts = ValidateOptions {
        replications,
        customers_per_replication: customers,
        ..ValidateOptions::default()
    };
    let started = std::time::Instant::now();
    let results = pool.install(|| run_checks(&opts));
    let rows: Vec<Row> = results.iter().map(|r| r.row()).collect();
    println!(
        "{}",
        render(
            &rows,
            &[
                "check",
                "simulated",
                "exact",
                "std_err",
                "z",
                "z_limit",
                "customers",
                "pass"
            ]
        )
    );
    let failed = results.iter().filter(|r| !r.pass).count();
    println!(
        "{} passed, {} failed ({:.1} s)",
        results.len() - failed,
        failed,
        started.elapsed().as_secs_f64()
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn cmd_calibrate() -> Result<ExitCode, Failure> {
    use sharesim::llm::calibration::{calibration_table, markdown_table};
    use sharesim::llm::catalog::Catalog;
    let catalog = Catalog::builtin()
        .context("the shipped catalogue does not load")
        .map_err(Failure::Internal)?;
    let rows = calibration_table(&catalog)
        .context("cannot compute the calibration table")
        .map_err(Failure::Internal)?;
    print!("{}", markdown_table(&rows));
    let missed = rows
        .iter()
        .filter(|r| r.checked && !r.within_tolerance)
        .count();
    Ok(if missed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn cmd_size(
    path: &Path,
    out: &Path,
    seed: Option<u64>,
    replications: Option<usize>,
    threads: Option<usize>,
) -> Result<PathBuf, Failure> {
    let scenario = load_scenario(path, seed, replications)?;
    if let Some(class) = scenario.classes.iter().find(|c| c.service_level.is_empty()) {
        let whose = if scenario.classes.len() > 1 {
            format!(" (class {:?} has none)", class.name)
        } else {
            String::new()
        };
        return Err(Failure::Input(anyhow::anyhow!(
            "{}: service_level: sizing needs a service level{whose}: add a [service_level] table, e.g. `ttft_p99_s = 2.0`",
            path.display()
        )));
    }
    let dir = prepare_output_dir(&out.join(&scenario.name)).map_err(anyhow::Error::from)?;
    let pool = thread_pool(threads)?;
    eprintln!(
        "sizing {} ({} users, {} placements, pool sizes {:?}, {} replications per probe)",
        scenario.name,
        scenario.users,
        scenario.placements.len(),
        scenario.sizing.pool_sizes,
        scenario.replications
    );
    let started = std::time::Instant::now();
    let results = pool.install(|| sharesim::sizing::size_scenario(&scenario));
    let sizing_path = dir.join("sizing.parquet");
    let probes_path = dir.join("probes.parquet");
    write_parquet(&sizing_path, &results.rows).map_err(anyhow::Error::from)?;
    write_parquet(&probes_path, &results.probes).map_err(anyhow::Error::from)?;
    let devices_path = dir.join("dedicated_devices.parquet");
    if results.device_choices.is_empty() {
        let _ = std::fs::remove_file(&devices_path);
    } else {
        write_parquet(&devices_path, &results.device_choices).map_err(anyhow::Error::from)?;
    }
    let users_path = dir.join("dedicated_users.parquet");
    if results.user_groups.is_empty() {
        // No dedicated placement: a file left by an earlier run would lie.
        let _ = std::fs::remove_file(&users_path);
    } else {
        write_parquet(&users_path, &results.user_groups).map_err(anyhow::Error::from)?;
    }
    let cols = [
        "placement",
        "pool_size",
        "feasible",
        "servers_per_pool",
        "devices_per_user",
        "mem_gb_per_user",
        "capex_usd_per_user",
        "energy_kwh_per_user_per_day",
        "utilization",
        "probes",
        "users_meeting_slo_share",
        "sharing_factor_memory",
        "sharing_factor_capex",
    ];
    println!("{}", render(&results.rows, &cols));
    for t in service_level_lines(&scenario) {
        println!("service level{t} (judged at the unfavourable end of the 95 % interval)");
    }
    for r in &results.rows {
        if let Some(sharesim::table::Value::Str(reason)) = sharesim::table::get(r, "reason") {
            if !reason.is_empty() {
                let name = sharesim::table::get(r, "placement")
                    .map(|v| v.display())
                    .unwrap_or_default();
                println!("{name}: {reason}");
            }
        }
        if let Some(sharesim::table::Value::Str(d)) =
            sharesim::table::get(r, "users_missing_slo_detail")
        {
            if !d.is_empty() {
                let name = sharesim::table::get(r, "placement")
                    .map(|v| v.display())
                    .unwrap_or_default();
                println!("{name}: users missing the service level: {d}");
            }
        }
    }
    eprintln!(
        "sized in {:.1} s ({} probes); wrote {} and {}",
        started.elapsed().as_secs_f64(),
        results.probes.len(),
        sizing_path.display(),
        probes_path.display()
    );
    Ok(dir)
}

fn cmd_fit_trace(path: &Path, format: &str, out: Option<&Path>) -> Result<ExitCode, Failure> {
    use sharesim::trace::{ReplayOptions, Trace, TraceFormat};
    use std::io::Write;
    let format = match format {
        "auto" => TraceFormat::detect_file(path).map_err(anyhow::Error::from)?,
        name => TraceFormat::from_name(name).ok_or_else(|| {
            Failure::Input(anyhow::anyhow!(
                "--format must be one of azure, ragpulse, auto (got {name:?})"
            ))
        })?,
    };
    let trace =
        Trace::load(path, &format, &ReplayOptions::default()).map_err(anyhow::Error::from)?;
    let report = sharesim::fit::fit_trace(&trace);
    let snippet = report.to_scenario_snippet();
    println!("{}", report.describe());
    println!("{snippet}");
    if let Some(out) = out {
        sharesim::output::write_atomically(out, |file| {
            file.write_all(snippet.as_bytes())
                .map_err(|e| format!("cannot write the snippet: {e}"))
        })
        .map_err(anyhow::Error::from)?;
        eprintln!("wrote {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The shard to run: `--shard I/N`, else the cluster's array-job variables.
fn shard_spec(arg: Option<&str>) -> Result<(usize, usize), Failure> {
    let bad = |m: String| Failure::Input(anyhow::anyhow!(m));
    let parse = |i: &str, n: &str, what: &str| -> Result<(usize, usize), Failure> {
        let i: usize = i
            .trim()
            .parse()
            .map_err(|_| bad(format!("{what}: {i:?} is not a whole number")))?;
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| bad(format!("{what}: {n:?} is not a whole number")))?;
        if n == 0 || i == 0 || i > n {
            return Err(bad(format!(
                "{what}: shard {i} of {n} does not exist (shards are 1..=N)"
            )));
        }
        Ok((i, n))
    };
    if let Some(a) = arg {
        let (i, n) = a
            .split_once('/')
            .ok_or_else(|| bad(format!("--shard {a:?}: write I/N, e.g. 2/8")))?;
        return parse(i, n, "--shard");
    }
    let env = |k: &str| std::env::var(k).ok();
    if let (Some(id), Some(count)) = (env("SLURM_ARRAY_TASK_ID"), env("SLURM_ARRAY_TASK_COUNT")) {
        let min: usize = env("SLURM_ARRAY_TASK_MIN")
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        let id: usize = id
            .parse()
            .map_err(|_| bad(format!("SLURM_ARRAY_TASK_ID={id:?} is not a whole number")))?;
        return parse(
            &(id - min.min(id) + 1).to_string(),
            &count,
            "SLURM_ARRAY_TASK_ID",
        );
    }
    if let Some(idx) = env("JOB_COMPLETION_INDEX") {
        let count = env("SHARESIM_SHARD_COUNT").ok_or_else(|| {
            bad("JOB_COMPLETION_INDEX is set: also set SHARESIM_SHARD_COUNT to the job's completions".into())
        })?;
        let idx: usize = idx.parse().map_err(|_| {
            bad(format!(
                "JOB_COMPLETION_INDEX={idx:?} is not a whole number"
            ))
        })?;
        return parse(&(idx + 1).to_string(), &count, "JOB_COMPLETION_INDEX");
    }
    Ok((1, 1))
}

fn cmd_sweep(
    path: &Path,
    out: &Path,
    threads: Option<usize>,
    resume: bool,
    shard: Option<&str>,
    quiet: bool,
) -> Result<(ExitCode, Option<PathBuf>), Failure> {
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let (shard_i, shard_n) = shard_spec(shard)?;
    let pool = thread_pool(threads)?;
    let sweep = pool
        .install(|| sharesim::sweep::Sweep::load(path))
        .map_err(anyhow::Error::from)?;
    let dir = prepare_output_dir(&out.join(&sweep.name)).map_err(anyhow::Error::from)?;
    let paths = sharesim::sweep::SweepPaths::new(dir.clone());
    sharesim::sweep::write_manifest(&sweep, &paths).map_err(anyhow::Error::from)?;
    let indices = sweep.shard(shard_i, shard_n);
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\nstopping after the points in progress (Ctrl-C again to quit at once)");
        });
    }
    let bar = if quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(indices.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} points, {per_sec}, ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b
    };
    eprintln!(
        "sweep {}: {} points ({:?} mode), shard {shard_i}/{shard_n} runs {}{}",
        sweep.name,
        sweep.points.len(),
        sweep.mode,
        indices.len(),
        if resume {
            ", skipping finished points"
        } else {
            ""
        }
    );
    let started = std::time::Instant::now();
    let on_done = |_: sharesim::sweep::PointDone| bar.inc(1);
    let done = pool
        .install(|| sharesim::sweep::run_points(&sweep, &paths, &indices, resume, &stop, &on_done))
        .map_err(anyhow::Error::from)?;
    bar.finish_and_clear();
    if stop.load(Ordering::SeqCst) {
        eprintln!(
            "interrupted: {done} of {} points of this shard are saved in {}; run the same command with --resume to finish",
            indices.len(),
            dir.join("parts").display()
        );
        return Ok((ExitCode::from(130), None));
    }
    eprintln!("{done} points in {:.1} s", started.elapsed().as_secs_f64());
    match sharesim::sweep::merge(&dir) {
        Ok((rows, p)) => {
            eprintln!("wrote {} ({rows} rows)", p.display());
            Ok((ExitCode::SUCCESS, Some(p)))
        }
        Err(sharesim::sweep::MergeError::Missing { done, total, .. }) if shard_n > 1 => {
            eprintln!(
                "shard {shard_i}/{shard_n} done; {done} of {total} points finished overall: run `sharesim merge {}` when every shard is done",
                dir.display()
            );
            Ok((ExitCode::SUCCESS, None))
        }
        Err(e) => Err(Failure::Internal(anyhow::Error::from(e))),
    }
}

fn cmd_merge(dir: &Path) -> Result<ExitCode, Failure> {
    match sharesim::sweep::merge(dir) {
        Ok((rows, p)) => {
            eprintln!("wrote {} ({rows} rows)", p.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ sharesim::sweep::MergeError::Manifest(..)) => {
            Err(Failure::Input(anyhow::Error::from(e)))
        }
        Err(e) => Err(Failure::Internal(anyhow::Error::from(e))),
    }
}

/// Draw the charts of each results file next to it. A file that supports no
/// chart is reported, not an error: the results are written already.
fn draw_charts(skip: bool, files: &[PathBuf]) -> Result<ExitCode, Failure> {
    if skip {
        return Ok(ExitCode::SUCCESS);
    }
    for f in files {
        let dir = f.parent().unwrap_or(Path::new("."));
        match sharesim::charts::charts_for_file(f, dir) {
            Ok(pngs) => {
                for p in pngs {
                    eprintln!("chart: {}", p.display());
                }
            }
            Err(sharesim::charts::ChartError::NoData { .. }) => {}
            Err(e) => eprintln!("warning: no chart from {}: {e}", f.display()),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_plot(results: &Path, out: Option<&Path>) -> Result<ExitCode, Failure> {
    let dir = match out {
        Some(d) => prepare_output_dir(d).map_err(anyhow::Error::from)?,
        None => results.parent().unwrap_or(Path::new(".")).to_path_buf(),
    };
    match sharesim::charts::charts_for_file(results, &dir) {
        Ok(pngs) => {
            for p in pngs {
                println!("{}", p.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(Failure::Input(anyhow::Error::from(e))),
    }
}
