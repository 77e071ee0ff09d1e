//! `sharesim sweep`: run `run` or `size` at every point of a scenario's
//! [sweep] grid (or one shard of it), saving each point as it finishes, and
//! combine the points into sweep.parquet when all are done. Also owns the
//! choice of shard: `--shard I/N`, or the cluster's array-job variables.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;

use clap::Args;

use sharesim::output::{claim_folder, prepare_output_dir, LockKind};
use sharesim::run::{estimate_sweep_memory, Work};
use sharesim::sweep::{MergeError, PointDone, ResumePlan, Sweep, SweepMode, SweepPaths};

use super::answer::{sweep_columns, PrintArgs};
use super::shared::{ChartArgs, MemoryArgs, ProfileArgs, ScenarioArgs, SetArgs, ThreadArgs};
use super::{Failure, Outcome};

/// Run `run` or `size` at every point of the scenario's [sweep] grid, in
/// parallel; each finished point is written at once to
/// OUT/<name>/parts/, and OUT/<name>/sweep.parquet combines them when all
/// are done. Ctrl-C stops cleanly; --resume runs only missing points.
#[derive(Args)]
#[command(mut_arg("scenario", |a| a.help("Scenario file with a [sweep] table")))]
pub struct SweepArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    #[command(flatten)]
    pub set: SetArgs,
    #[command(flatten)]
    pub threads: ThreadArgs,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Skip points whose part file is sound and of this scenario (its size,
    /// checksum and fingerprint match); recompute the others. Also lets a
    /// folder of an earlier version of this scenario be continued.
    #[arg(long)]
    pub resume: bool,
    /// Run only shard I of N (1-based), e.g. 2/8: points with index % N == I - 1.
    /// Default: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or from
    /// JOB_COMPLETION_INDEX with SHARESIM_SHARD_COUNT (Kubernetes Indexed Job).
    #[arg(long)]
    pub shard: Option<String>,
    /// Print the number of points of the grid and exit, without running
    /// anything: the size of a cluster array with one task per point
    /// (e.g. `sbatch --array=1-$(sharesim sweep --points FILE) ...`).
    #[arg(long)]
    pub points: bool,
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

/// Run the sweep. `on_ctrl_c` is called once, just before the points start,
/// with the flag that Ctrl-C must raise to stop the sweep after the points in
/// progress.
pub fn run(args: &SweepArgs, on_ctrl_c: fn(Arc<AtomicBool>)) -> Result<Outcome, Failure> {
    if args.points {
        let pool = args.threads.pool()?;
        let text = args.set.text(&args.input.scenario)?;
        let sweep = pool
            .install(|| Sweep::from_text(&text, &args.input.scenario))
            .map_err(anyhow::Error::from)?;
        println!("{}", sweep.points.len());
        return Ok(Outcome::Done);
    }
    let (outcome, combined) = sweep(args, on_ctrl_c)?;
    if let Some(p) = combined {
        print_answer(&p, &args.print)?;
        args.charts.draw(&[p])?;
    }
    Ok(outcome)
}

/// Run this shard's points and merge them if the sweep is complete; returns
/// the combined file when there is one.
fn sweep(
    args: &SweepArgs,
    on_ctrl_c: fn(Arc<AtomicBool>),
) -> Result<(Outcome, Option<PathBuf>), Failure> {
    shard_spec(args.shard.as_deref())?;
    let pool = args.threads.pool()?;
    let text = args.set.text(&args.input.scenario)?;
    let sweep = pool
        .install(|| Sweep::from_text(&text, &args.input.scenario))
        .map_err(anyhow::Error::from)?;
    let how = Execution {
        scenario: &args.input.scenario,
        out: &args.input.out,
        shard: args.shard.as_deref(),
        resume: args.resume,
        quiet: args.quiet,
        memory: &args.memory,
        profile: &args.profile,
    };
    execute(&how, sweep, pool, on_ctrl_c)
}

/// How a sweep's points run: the options `sweep` and `uncertainty` share.
pub(super) struct Execution<'a> {
    /// The scenario file (named in memory errors).
    pub scenario: &'a Path,
    /// The output folder (the sweep writes into OUT/<name>/).
    pub out: &'a Path,
    /// `--shard I/N`.
    pub shard: Option<&'a str>,
    /// `--resume`.
    pub resume: bool,
    /// `--quiet`: no progress bar.
    pub quiet: bool,
    /// `--max-memory`.
    pub memory: &'a MemoryArgs,
    /// `--profile`.
    pub profile: &'a ProfileArgs,
}

/// Run this shard's points of `sweep` (on `pool`) and merge them if the
/// sweep is complete; returns the combined file when there is one.
pub(super) fn execute(
    args: &Execution,
    sweep: Sweep,
    pool: rayon::ThreadPool,
    on_ctrl_c: fn(Arc<AtomicBool>),
) -> Result<(Outcome, Option<PathBuf>), Failure> {
    let (shard_i, shard_n) = shard_spec(args.shard)?;
    let indices = sweep.shard(shard_i, shard_n);
    check_memory(args, &sweep, &indices, pool.current_num_threads())?;
    let dir = prepare_output_dir(&args.out.join(&sweep.name)).map_err(anyhow::Error::from)?;
    // Shards of one sweep share the folder; anything else has it alone.
    let kind = if shard_n > 1 {
        LockKind::Shared
    } else {
        LockKind::Exclusive
    };
    let guard = claim_folder(&dir, &sweep.folder_record(), kind, args.resume)
        .map_err(anyhow::Error::from)?;
    let previous = guard
        .replaced
        .as_deref()
        .and_then(sharesim::sweep::read_folder_record);
    if let Some((old_table, old_fp)) = &previous {
        let changed = sharesim::sweep::describe_changes(
            &sweep.base_fingerprint.changed_since(old_fp),
            Some(old_table),
            &sweep.base_table,
        );
        eprintln!(
            "note: {} held the results of another version of this scenario (changed: {}); the points it affects are recomputed",
            dir.display(),
            changed.join(", ")
        );
    }
    let paths = SweepPaths::new(dir.clone());
    sharesim::sweep::write_manifest(&sweep, &paths).map_err(anyhow::Error::from)?;
    let ids = sweep.points.iter().map(|p| p.id.clone()).collect();
    let stale = sharesim::sweep::move_stale_parts(&paths, &ids).map_err(anyhow::Error::from)?;
    report_stale(&stale);
    let plan = if args.resume {
        let plan =
            sharesim::sweep::plan_resume(&sweep, &paths, &indices, previous.as_ref().map(|p| &p.0));
        report_resume(&plan);
        plan
    } else {
        ResumePlan::default()
    };
    let stop = Arc::new(AtomicBool::new(false));
    on_ctrl_c(stop.clone());
    let bar = progress_bar(args.quiet, indices.len());
    eprintln!(
        "sweep {}: {} points ({:?} mode), shard {shard_i}/{shard_n} runs {}{}",
        sweep.name,
        sweep.points.len(),
        sweep.mode,
        indices.len(),
        if args.resume {
            ", skipping finished points"
        } else {
            ""
        }
    );
    let started = std::time::Instant::now();
    let total = indices.len();
    let Some(done) = run_until_stopped(sweep, paths, indices, plan.finished, pool, &stop, &bar)?
    else {
        bar.finish_and_clear();
        return interrupted(&dir, total);
    };
    bar.finish_and_clear();
    eprintln!("{done} points in {:.1} s", started.elapsed().as_secs_f64());
    args.profile.report();
    match sharesim::sweep::merge(&dir) {
        Ok(m) => {
            report_stale(&m.stale);
            eprintln!("wrote {} ({} rows)", m.path.display(), m.rows);
            drop(guard);
            Ok((Outcome::Done, Some(m.path)))
        }
        Err(MergeError::Missing { done, total, .. }) if shard_n > 1 => {
            eprintln!(
                "shard {shard_i}/{shard_n} done; {done} of {total} points finished overall: run `sharesim merge {}` when every shard is done",
                dir.display()
            );
            Ok((Outcome::Done, None))
        }
        Err(e) => Err(merge_failure(e)),
    }
}

/// A merge that failed: bad input (exit 2) when the OS refused to write
/// sweep.parquet (the output folder is the problem), else internal.
pub(super) fn merge_failure(e: MergeError) -> Failure {
    match e {
        MergeError::Output(o) => Failure::from(anyhow::Error::from(o)),
        // Parts of another scenario are bad input; the rest internal.
        other => Failure::from(anyhow::Error::from(other)),
    }
}

/// The answer of a finished sweep, read back from sweep.parquet: one line
/// per point and placement with its axis values, hardware, memory and
/// capital per user, the sharing factors and the verdict.
pub(super) fn print_answer(combined: &std::path::Path, print: &PrintArgs) -> Result<(), Failure> {
    let rows = sharesim::output::read_rows(combined).map_err(anyhow::Error::from)?;
    let names = sweep_columns(&rows);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    print.print(&rows, &names);
    Ok(())
}

/// List the parts moved to parts-stale/ (points no longer in the grid).
pub fn report_stale(stale: &[PathBuf]) {
    if stale.is_empty() {
        return;
    }
    eprintln!(
        "moved {} parts of points no longer in the grid to parts-stale/:",
        stale.len()
    );
    for p in stale {
        eprintln!("  {}", p.display());
    }
}

/// What `--resume` keeps and what it recomputes, and why.
fn report_resume(plan: &ResumePlan) {
    if !plan.changed.is_empty() {
        eprintln!(
            "resume: {} points redone: the scenario changed since their parts were written ({})",
            plan.changed.len(),
            plan.changed_keys.join(", ")
        );
    }
    if !plan.damaged.is_empty() {
        eprintln!("resume: {} damaged parts recomputed:", plan.damaged.len());
        for (i, why) in &plan.damaged {
            eprintln!("  point {i}: {why}");
        }
    }
    eprintln!("resume: {} finished points kept", plan.finished.len());
}

/// Run the points on a thread of their own while this one watches `stop`:
/// the number of points finished, or None when Ctrl-C raised `stop` (the
/// points in progress are abandoned, not waited for: the process exits
/// with them still running).
fn run_until_stopped(
    sweep: Sweep,
    paths: SweepPaths,
    indices: Vec<usize>,
    finished: std::collections::HashSet<usize>,
    pool: rayon::ThreadPool,
    stop: &Arc<AtomicBool>,
    bar: &indicatif::ProgressBar,
) -> Result<Option<usize>, Failure> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (flag, progress) = (stop.clone(), bar.clone());
    std::thread::spawn(move || {
        let on_done = |_: PointDone| progress.inc(1);
        let result = pool.install(|| {
            sharesim::sweep::run_points(&sweep, &paths, &indices, &finished, &flag, &on_done)
        });
        let _ = tx.send(result);
    });
    loop {
        match rx.recv_timeout(std::time::Duration::from_millis(50)) {
            Ok(result) if !stop.load(Ordering::SeqCst) => {
                return Ok(Some(result.map_err(anyhow::Error::from)?));
            }
            Ok(_) => return Ok(None),
            Err(RecvTimeoutError::Timeout) if stop.load(Ordering::SeqCst) => return Ok(None),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Failure::Internal(anyhow::anyhow!(
                    "the sweep's worker thread stopped without a result"
                )))
            }
        }
    }
}

/// Ctrl-C: combine the points finished so far into sweep.parquet, marked
/// partial, and say how to finish.
fn interrupted(dir: &Path, total: usize) -> Result<(Outcome, Option<PathBuf>), Failure> {
    let m = sharesim::sweep::merge_finished(dir).map_err(merge_failure)?;
    if m.points == 0 {
        eprintln!(
            "interrupted: no point of this shard's {total} finished; run the same command with --resume to start again"
        );
    } else if m.partial() {
        eprintln!(
            "interrupted: {} of {} points are finished; wrote {} ({} rows, marked partial: column `partial` is true); run the same command with --resume to finish",
            m.points,
            m.total,
            m.path.display(),
            m.rows
        );
    } else {
        eprintln!("wrote {} ({} rows)", m.path.display(), m.rows);
        return Ok((Outcome::Done, Some(m.path)));
    }
    Ok((Outcome::Interrupted, None))
}

/// Refuse a shard whose points would need more memory than allowed.
fn check_memory(
    args: &Execution,
    sweep: &Sweep,
    indices: &[usize],
    threads: usize,
) -> Result<(), Failure> {
    let points: Vec<&sharesim::scenario::Scenario> =
        indices.iter().map(|&i| &sweep.points[i].scenario).collect();
    let work = match sweep.mode {
        SweepMode::Run => Work::Run,
        SweepMode::Size => Work::Size,
    };
    let estimate = estimate_sweep_memory(&points, work, threads);
    let users = points.iter().map(|s| s.users).max().unwrap_or(0);
    args.memory.check(args.scenario, users, &estimate)
}

/// A progress bar over `points` on a terminal, unless `quiet`; hidden
/// otherwise.
fn progress_bar(quiet: bool, points: usize) -> indicatif::ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(points as u64);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} points, {per_sec}, ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    b
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
