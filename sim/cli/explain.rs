//! `sharesim explain`: what `run`, `size` or `sweep` would do with a
//! scenario, without simulating: the users and the load each class offers,
//! the placements and their devices, where the sizing search starts (the
//! analytic first guess of [`sharesim::sizing::search_starts`]), the peak
//! memory estimate that `--max-memory` checks, and the expected run time.
//!
//! The run time is an estimate: simulated requests (the offered rate x the
//! horizon x replications; a probe's horizon for sizing) x a measured cost
//! per request, divided over the worker threads. The costs were measured on
//! this project's 2-core machine (release build, `/usr/bin/time` on shipped
//! scenarios; see the constants); a faster machine divides them.

use std::path::Path;

use clap::Args;

use sharesim::output::terminal::{format_significant, wrap_words, Column, Format, Unit};
use sharesim::results::{cell, Row, Value};
use sharesim::run::{estimate_memory, estimate_sweep_memory, format_bytes, MemoryEstimate, Work};
use sharesim::scenario::{PlacementKind, Scenario, Workload};
use sharesim::sizing::{probe_horizon_s, search_starts, SearchStart};
use sharesim::sweep::{Sweep, SweepMode};

use super::answer::{terminal_width, PrintArgs};
use super::shared::{MemoryArgs, ThreadArgs};
use super::{Failure, Outcome};

// The costs below are CPU seconds per simulated request (user time from
// `/usr/bin/time -f "%U"` of a release build, divided by the requests the
// run reports), measured on this project's 2-core machine:
// - batching LLM fleet: `run` of scenarios/llm-chat.toml with only its
//   h100-pool placement and a 12 h horizon: 800,893 requests, 1.27 s;
// - dedicated LLM devices: the same with only desktop-per-user: 0.28 s;
// - generic: `run scenarios/mmc-erlang-check.toml --replications 2`:
//   12,794,336 requests, 2.24 s (scenarios/generic-queue.toml: 2,997,780
//   requests, 0.53 s).
// Probes per search: `size` of scenarios/llm-chat.toml and
// household-office-region.toml ran 1 probe where the first guess was 1
// server (11 searches), 2 for a guess of 2 and 4 for a guess of 7: about
// 1 + log2(guess). Checked against those `size` runs: household-office-region
// took 27.0 s of CPU, llm-chat 0.74 s.

/// CPU seconds per simulated request served by a batching LLM fleet
/// (continuous batching, KV cache: several events per request).
const LLM_POOLED_S_PER_REQUEST: f64 = 1.6e-6;
/// CPU seconds per simulated request on dedicated LLM devices.
const LLM_DEDICATED_S_PER_REQUEST: f64 = 0.35e-6;
/// CPU seconds per simulated request of a generic (non-LLM) placement.
const GENERIC_S_PER_REQUEST: f64 = 0.18e-6;
/// Start-up, writing the tables and charts, seconds.
const FIXED_S: f64 = 0.2;

/// Probes a sizing search runs from a first guess of `guess` servers
/// (the guess, a gallop and a bisection): measured as 1 + log2(guess).
fn probes_per_search(guess: usize) -> f64 {
    1.0 + (guess.max(1) as f64).log2().ceil()
}

/// Print what `run`, `size` or `sweep` would do with a scenario, without
/// simulating: users, offered load per class (requests/s and tokens/s,
/// mean and peak), placements with their devices and engines, the
/// analytic first guess the sizing search starts from, the peak memory
/// estimate and the expected run time. A bad scenario exits 2 as `run`.
/// `--format csv` prints the placements (for a sweep, its points), `json`
/// everything.
#[derive(Args)]
#[command(mut_arg("threads", |a| a.help("Worker threads the run would have (default: all cores)")))]
#[command(mut_arg("max_memory", |a| a.help("The memory limit the estimate is compared with, e.g. 8GB (default: the memory available, MemAvailable)")))]
pub struct ExplainArgs {
    /// Scenario file (TOML), with or without a [sweep] table.
    pub scenario: std::path::PathBuf,
    #[command(flatten)]
    pub threads: ThreadArgs,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// No notes on standard error.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub print: PrintArgs,
}

pub fn run(args: &ExplainArgs) -> Result<Outcome, Failure> {
    let path = &args.scenario;
    let threads = match args.threads.threads {
        Some(0) => {
            return Err(Failure::Input(anyhow::anyhow!(
                "--threads must be at least 1"
            )))
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let has_sweep = sharesim::scenario::read_scenario_text(path)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("sweep"));
    if has_sweep {
        let sweep = Sweep::load(path).map_err(anyhow::Error::from)?;
        explain_sweep(args, &sweep, threads);
    } else {
        let scenario = Scenario::load(path).map_err(anyhow::Error::from)?;
        explain_scenario(args, &scenario, threads);
    }
    if !args.quiet {
        eprintln!("explained without simulating; run times are estimates (see the last lines)");
    }
    Ok(Outcome::Done)
}

/// What one scenario would run: its figures, as the explanation prints them.
struct Plan {
    classes: Vec<Row>,
    placements: Vec<Row>,
    starts: Vec<Row>,
    run: Estimate,
    size: Option<Estimate>,
    memory_run: MemoryEstimate,
    memory_size: Option<MemoryEstimate>,
}

/// Expected simulated requests and wall time of one command.
#[derive(Clone, Copy, Default)]
struct Estimate {
    /// Requests simulated (all placements, replications, probes).
    requests: f64,
    /// Thread-seconds of simulation.
    work_s: f64,
    /// The longest task that cannot be split, thread-seconds.
    longest_s: f64,
}

impl Estimate {
    fn add(&mut self, requests: f64, cost_s: f64, split: usize) {
        self.requests += requests;
        self.work_s += requests * cost_s;
        self.longest_s = self.longest_s.max(requests * cost_s / split.max(1) as f64);
    }

    /// Wall seconds on `threads` workers.
    fn wall_s(&self, threads: usize) -> f64 {
        FIXED_S + (self.work_s / threads.max(1) as f64).max(self.longest_s)
    }
}

/// The cost of one simulated request on `placement`.
fn cost_per_request(s: &Scenario, placement: usize) -> f64 {
    let p = &s.placements[placement];
    match (&p.kind, p.llm()) {
        (_, None) => GENERIC_S_PER_REQUEST,
        (PlacementKind::Dedicated, Some(_)) => LLM_DEDICATED_S_PER_REQUEST,
        (PlacementKind::Pooled { .. }, Some(_)) => LLM_POOLED_S_PER_REQUEST,
    }
}

/// Requests one replication of `view` (one placement's view) simulates
/// over `horizon_s`.
fn requests_per_replication(view: &Scenario, horizon_s: f64) -> f64 {
    if let Some(b) = &view.benchmark {
        return b.requests as f64;
    }
    if let Some(t) = &view.trace {
        return t.len() as f64;
    }
    view.request_rate_process().mean_rate_per_s() * horizon_s
}

fn plan(s: &Scenario, threads: usize) -> Plan {
    let mut run = Estimate::default();
    for p in 0..s.placements.len() {
        let n = requests_per_replication(&s.view(p), s.horizon_s);
        for _ in 0..s.replications {
            run.add(n, cost_per_request(s, p), 1);
        }
    }
    let sizable = s.benchmark.is_none() && s.classes.iter().all(|c| !c.service_level.is_empty());
    let starts = if sizable {
        search_starts(s)
    } else {
        Vec::new()
    };
    let size = sizable.then(|| size_estimate(s, &starts));
    Plan {
        classes: class_rows(s),
        placements: placement_rows(s, &starts),
        starts: starts.iter().map(|st| start_row(s, st)).collect(),
        run,
        size,
        memory_run: estimate_memory(s, Work::Run, threads),
        memory_size: sizable.then(|| estimate_memory(s, Work::Size, threads)),
    }
}

/// Simulated requests of `size`: every pooled search runs about
/// [`probes_per_search`] probes of a probe's horizon, every dedicated
/// placement one probe of all its users.
fn size_estimate(s: &Scenario, starts: &[SearchStart]) -> Estimate {
    let mut e = Estimate::default();
    let min = s.sizing.min_measured_requests;
    let reps = s.replications as f64;
    for st in starts {
        let probes = match st.start {
            Ok((guess, _)) => probes_per_search(guess),
            Err(_) => 0.0,
        };
        let view = s.view(st.placement);
        let h = probe_horizon_s(&view, 0, st.pool_users, min);
        let probe = view.probe(0, st.pool_users, None, h);
        let n = probe.request_rate_process().mean_rate_per_s() * h * reps * probes * st.share;
        e.add(n, cost_per_request(s, st.placement), s.replications);
    }
    for p in 0..s.placements.len() {
        if s.placements[p].kind == PlacementKind::Dedicated {
            let view = s.view(p);
            let h = probe_horizon_s(&view, 0, view.users, min);
            let n = view.request_rate_process().mean_rate_per_s() * h * reps;
            e.add(n, cost_per_request(s, p), s.replications);
        }
    }
    e
}

/// The `arrivals` name of a class's behaviour.
fn behaviour_name(b: &sharesim::workload::Behaviour) -> &'static str {
    use sharesim::workload::Behaviour as B;
    match b {
        B::Poisson => "poisson",
        B::Sessions { .. } => "sessions",
        B::Agent { .. } => "agent",
        B::Clients { .. } => "benchmark clients",
    }
}

fn text(s: impl Into<String>) -> Value {
    Value::Str(s.into())
}

fn number(x: f64) -> Value {
    Value::F64(Some(x))
}

/// One row per class: users, behaviour, and the offered load, mean and
/// at the busiest hour, in requests/s and (LLM) tokens/s.
fn class_rows(s: &Scenario) -> Vec<Row> {
    (0..s.classes.len())
        .map(|c| {
            let class = &s.classes[c];
            let mean = s.class_request_rate_per_s(c);
            let peak = s
                .restrict_users(c, |_| true)
                .map_or(mean, |alone| alone.request_rate_process().peak_rate_per_s());
            let tokens = match &class.workload {
                Workload::Llm(l) => Some(l.input_tokens.mean() + l.output_tokens.mean()),
                Workload::Generic { .. } => None,
            };
            let what = match &class.workload {
                Workload::Llm(l) => format!("{} {}", l.model.name, l.quantisation),
                Workload::Generic { service } => {
                    format!("service mean {} s", format_significant(service.mean(), 4))
                }
            };
            vec![
                cell("class", text(&class.name)),
                cell("users", Value::U64(u64::from(s.class_users(c).1))),
                cell("arrivals", text(behaviour_name(&class.behaviour))),
                cell(
                    "requests_per_user_per_day",
                    number(class.requests_per_user_per_day),
                ),
                cell("requests_per_s_mean", number(mean)),
                cell("requests_per_s_peak", number(peak)),
                cell("tokens_per_s_mean", Value::F64(tokens.map(|t| t * mean))),
                cell("tokens_per_s_peak", Value::F64(tokens.map(|t| t * peak))),
                cell("serves", text(what)),
            ]
        })
        .collect()
}

/// One row per placement: kind, classes served, devices or servers, the
/// device and engine, and the first guess at the whole population.
fn placement_rows(s: &Scenario, starts: &[SearchStart]) -> Vec<Row> {
    (0..s.placements.len())
        .map(|p| {
            let pl = &s.placements[p];
            let devices = match pl.kind {
                PlacementKind::Dedicated => s.served_users(p) as u64,
                PlacementKind::Pooled { servers, .. } => servers as u64,
            };
            let device = match (pl.llm(), pl.priced_device()) {
                (Some(l), _) => l.device.name.clone(),
                (None, Some(d)) => d.device.name.clone(),
                (None, None) => String::new(),
            };
            let (engine, batch) = pl.llm().map_or((String::new(), None), |l| {
                (l.engine.clone(), Some(f64::from(l.max_batch)))
            });
            let guess = starts
                .iter()
                .filter(|st| st.placement == p && st.pool_size == s.users)
                .filter_map(|st| st.start.as_ref().ok().map(|(g, _)| *g as f64 * st.share))
                .reduce(|a, b| a + b);
            vec![
                cell("placement", text(&pl.name)),
                cell("kind", text(pl.kind_name())),
                cell("serves", text(s.classes_label(&pl.serves))),
                cell("devices", Value::U64(devices)),
                cell("device", text(device)),
                cell("engine", text(engine)),
                cell("max_batch", Value::F64(batch)),
                cell("dispatch", text(pl.dispatch_name())),
                cell("first_guess_servers", Value::F64(guess)),
            ]
        })
        .collect()
}

/// One row per search start (placement x pool size x composition).
fn start_row(s: &Scenario, st: &SearchStart) -> Row {
    let (guess, max, reason) = match &st.start {
        Ok((g, m)) => (Some(*g as f64), Some(*m as f64), String::new()),
        Err(r) => (None, None, r.clone()),
    };
    vec![
        cell("placement", text(&s.placements[st.placement].name)),
        cell("pool_size", Value::U64(st.pool_size as u64)),
        cell("pool_users", Value::U64(st.pool_users as u64)),
        cell("composition", text(&st.composition)),
        cell("composition_share", number(st.share)),
        cell("first_guess_servers", Value::F64(guess)),
        cell("method", text(st.method)),
        cell("max_servers", Value::F64(max)),
        cell("infeasible_reason", text(reason)),
    ]
}

fn class_columns() -> Vec<Column> {
    let c = Column::new;
    vec![
        c("class", "class", Unit::Text),
        c("users", "users", Unit::Count),
        c("requests_per_s_mean", "requests/s mean", Unit::Number),
        c("requests_per_s_peak", "requests/s peak", Unit::Number),
        c("tokens_per_s_mean", "tokens/s mean", Unit::Number),
        c("tokens_per_s_peak", "tokens/s peak", Unit::Number),
        c("arrivals", "arrivals", Unit::Text),
        c("serves", "requests", Unit::Text),
    ]
}

fn placement_columns() -> Vec<Column> {
    let c = Column::new;
    vec![
        c("placement", "placement", Unit::Text),
        c("kind", "kind", Unit::Text),
        c("devices", "devices", Unit::Count),
        c("device", "device", Unit::Text),
        c("engine", "engine", Unit::Text),
        c("max_batch", "max batch", Unit::Count),
        c("serves", "serves", Unit::Text),
    ]
}

fn start_columns(any_composition: bool) -> Vec<Column> {
    let c = Column::new;
    let mut cols = vec![
        c("placement", "placement", Unit::Text),
        c("pool_size", "pool of", Unit::Count),
        c("first_guess_servers", "first guess (servers)", Unit::Count),
        c("max_servers", "searched up to", Unit::Count),
    ];
    if any_composition {
        cols.push(c("composition", "composition", Unit::Text));
        cols.push(c("composition_share", "of pools", Unit::Share));
    }
    cols
}

/// Raw columns (CSV, JSON): every cell of the rows, in row order.
fn raw_columns(rows: &[Row]) -> Vec<Column> {
    rows.first()
        .map(|r| {
            r.iter()
                .map(|(n, _)| Column::new(n.clone(), n.clone(), Unit::Text))
                .collect()
        })
        .unwrap_or_default()
}

fn say(line: &str, width: usize) {
    for l in wrap_words(line, width) {
        println!("{l}");
    }
}

fn duration(s: f64) -> String {
    if s >= 2.0 * 86_400.0 {
        format!("{} d", format_significant(s / 86_400.0, 3))
    } else if s >= 2.0 * 3600.0 {
        format!("{} h", format_significant(s / 3600.0, 3))
    } else if s >= 120.0 {
        format!("{} min", format_significant(s / 60.0, 3))
    } else {
        format!("{} s", format_significant(s, 2))
    }
}

/// How an estimate was formed, in words.
fn formed(e: &Estimate, threads: usize, what: &str) -> String {
    format!(
        "about {} on {threads} free cores: {} simulated requests ({what}) x the CPU time of one, measured on shipped scenarios ({} µs on a batching LLM fleet, {} µs on dedicated LLM devices, {} µs generic), shared over the threads, + {} s start-up",
        duration(e.wall_s(threads)),
        format_significant(e.requests, 3),
        format_significant(LLM_POOLED_S_PER_REQUEST * 1e6, 2),
        format_significant(LLM_DEDICATED_S_PER_REQUEST * 1e6, 2),
        format_significant(GENERIC_S_PER_REQUEST * 1e6, 2),
        FIXED_S
    )
}

/// An axis value as a cell: numbers with at most 4 significant digits.
pub(super) fn axis_value(v: &toml::Value) -> String {
    match v {
        toml::Value::Float(x) => format_significant(*x, 4),
        toml::Value::Integer(n) => format_significant(*n as f64, 20),
        toml::Value::String(t) => t.clone(),
        other => other.to_string(),
    }
}

/// The memory line: the estimate and how it compares with the limit.
fn memory_line(
    args: &ExplainArgs,
    file: &Path,
    users: usize,
    what: &str,
    m: &MemoryEstimate,
) -> String {
    let verdict = match args.memory.check(file, users, m) {
        Ok(()) => "within the limit",
        Err(_) => "MORE than the limit: it would be refused (exit 2)",
    };
    format!(
        "peak memory of {what}: about {} ({}), {verdict}",
        format_bytes(m.bytes),
        m.describe()
    )
}

fn explain_scenario(args: &ExplainArgs, s: &Scenario, threads: usize) {
    let p = plan(s, threads);
    let width = terminal_width();
    match args.print.format() {
        Format::Table => print_plan(args, s, &p, threads, width),
        Format::Csv => print!(
            "{}",
            args.print
                .render(&p.placements, &raw_columns(&p.placements), width)
        ),
        Format::Json => {
            let section = |rows: &[Row]| -> serde_json::Value {
                let t = args.print.render(rows, &raw_columns(rows), width);
                serde_json::from_str(&t).unwrap_or(serde_json::Value::Array(Vec::new()))
            };
            let estimate = |e: &Estimate| {
                serde_json::json!({
                    "simulated_requests": e.requests,
                    "expected_s": e.wall_s(threads),
                })
            };
            let v = serde_json::json!({
                "scenario": s.name,
                "file": s.source.display().to_string(),
                "users": s.users,
                "replications": s.replications,
                "horizon_s": s.horizon_s,
                "warmup_s": s.warmup_s,
                "threads": threads,
                "classes": section(&p.classes),
                "placements": section(&p.placements),
                "first_guess": section(&p.starts),
                "run": estimate(&p.run),
                "size": p.size.as_ref().map(estimate),
                "memory_run_bytes": p.memory_run.bytes,
                "memory_size_bytes": p.memory_size.as_ref().map(|m| m.bytes),
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
    }
}

fn print_plan(args: &ExplainArgs, s: &Scenario, p: &Plan, threads: usize, width: usize) {
    say(
        &format!(
            "scenario {} ({}): {} users in {} class{}, {} replication{} of {} (statistics after a warm-up of {}), seed {}",
            s.name,
            s.source.display(),
            format_significant(s.users as f64, 20),
            s.classes.len(),
            if s.classes.len() == 1 { "" } else { "es" },
            s.replications,
            if s.replications == 1 { "" } else { "s" },
            duration(s.horizon_s),
            duration(s.warmup_s),
            s.seed
        ),
        width,
    );
    super::shared::print_service_level(s);
    println!("\noffered load by class (mean over the day, and at the busiest hour):");
    print!("{}", args.print.render(&p.classes, &class_columns(), width));
    println!("\nplacements (as `run` simulates them):");
    print!(
        "{}",
        args.print
            .render(&p.placements, &placement_columns(), width)
    );
    if !p.starts.is_empty() {
        println!();
        say("`size` starts each pooled search at an analytic first guess on the peak offered load (Erlang-C for a wait-tail target of a generic fleet, ceil(a) for a batching LLM server, whose capacity is its saturated request rate, else square-root staffing a + sqrt(a)), then gallops and bisects:", width);
        let any = s.classes.len() > 1;
        print!(
            "{}",
            args.print.render(&p.starts, &start_columns(any), width)
        );
        for r in &p.starts {
            let get = |c: &str| sharesim::results::get(r, c).map(Value::display);
            if let Some(reason) = get("infeasible_reason").filter(|t| !t.is_empty()) {
                let who = get("placement").unwrap_or_default();
                let k = get("pool_size").unwrap_or_default();
                say(&format!("{who}, pools of {k}: no search: {reason}"), width);
            }
        }
    }
    println!();
    say(
        &memory_line(args, &s.source, s.users, "run", &p.memory_run),
        width,
    );
    if let Some(m) = &p.memory_size {
        say(&memory_line(args, &s.source, s.users, "size", m), width);
    }
    say(
        &format!(
            "expected time of run: {}",
            formed(
                &p.run,
                threads,
                "offered rate x horizon x replications, every placement"
            )
        ),
        width,
    );
    if let Some(e) = &p.size {
        say(
            &format!(
                "expected time of size: {}",
                formed(e, threads, "about 1 + log2(first guess) probes per pooled search, as measured, each of a probe's horizon x replications; more when the guess is far from the answer")
            ),
            width,
        );
    }
}

fn explain_sweep(args: &ExplainArgs, sweep: &Sweep, threads: usize) {
    let width = terminal_width();
    let work = match sweep.mode {
        SweepMode::Run => Work::Run,
        SweepMode::Size => Work::Size,
    };
    let mut rows = Vec::new();
    let mut total = Estimate::default();
    for point in &sweep.points {
        let s = &point.scenario;
        let p = plan(s, 1);
        let e = match sweep.mode {
            SweepMode::Run => p.run,
            SweepMode::Size => p.size.unwrap_or(p.run),
        };
        total.requests += e.requests;
        total.work_s += e.work_s;
        total.longest_s = total.longest_s.max(e.work_s / s.replications.max(1) as f64);
        let mut row: Row = point
            .assignments
            .iter()
            .map(|(k, v)| cell(format!("sweep_{k}"), text(axis_value(v))))
            .collect();
        let peak: f64 = p
            .classes
            .iter()
            .filter_map(|r| {
                sharesim::results::get(r, "requests_per_s_peak").and_then(Value::as_f64)
            })
            .sum();
        let guesses: Vec<String> = p
            .placements
            .iter()
            .filter_map(|r| {
                let g = sharesim::results::get(r, "first_guess_servers")?.as_f64()?;
                let name = sharesim::results::get(r, "placement")?.display();
                Some(format!("{name} {}", format_significant(g, 4)))
            })
            .collect();
        row.extend([
            cell("point_id", text(&point.id)),
            cell("users", Value::U64(s.users as u64)),
            cell("requests_per_s_peak", number(peak)),
            cell("first_guess", text(guesses.join(", "))),
            cell("simulated_requests", number(e.requests)),
            cell("expected_s", number(e.wall_s(1))),
        ]);
        rows.push(row);
    }
    let points: Vec<&Scenario> = sweep.points.iter().map(|p| &p.scenario).collect();
    let memory = estimate_sweep_memory(&points, work, threads);
    let mode = match sweep.mode {
        SweepMode::Run => "run",
        SweepMode::Size => "size",
    };
    match args.print.format() {
        Format::Table => {
            say(
                &format!(
                    "sweep {} ({}): {} points, each a `{mode}`",
                    sweep.name,
                    sweep.source.display(),
                    sweep.points.len()
                ),
                width,
            );
            let mut cols: Vec<Column> = sweep
                .keys
                .iter()
                .map(|k| super::answer::column(&format!("sweep_{k}")))
                .map(|c| Column::new(c.name, c.header, Unit::Text))
                .collect();
            let c = Column::new;
            cols.extend([
                c("users", "users", Unit::Count),
                c("requests_per_s_peak", "requests/s peak", Unit::Number),
                c("expected_s", "expected on 1 thread", Unit::Seconds),
                c(
                    "first_guess",
                    "first guess (servers, whole population)",
                    Unit::Text,
                ),
            ]);
            print!("{}", args.print.render(&rows, &cols, width));
            let users = points.iter().map(|s| s.users).max().unwrap_or(0);
            say(
                &memory_line(args, &sweep.source, users, "the sweep", &memory),
                width,
            );
            say(
                &format!(
                    "expected time of the sweep: {}",
                    formed(
                        &total,
                        threads,
                        &format!("every point's `{mode}`, points in parallel")
                    )
                ),
                width,
            );
            say(
                "`sharesim explain` on a copy of the file without [sweep] details one point.",
                width,
            );
        }
        Format::Csv => print!("{}", args.print.render(&rows, &raw_columns(&rows), width)),
        Format::Json => {
            let t = args.print.render(&rows, &raw_columns(&rows), width);
            let pts: serde_json::Value =
                serde_json::from_str(&t).unwrap_or(serde_json::Value::Array(Vec::new()));
            let v = serde_json::json!({
                "sweep": sweep.name,
                "file": sweep.source.display().to_string(),
                "mode": mode,
                "points": pts,
                "threads": threads,
                "simulated_requests": total.requests,
                "expected_s": total.wall_s(threads),
                "memory_bytes": memory.bytes,
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
    }
}
