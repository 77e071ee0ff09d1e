//! What several commands share: the arguments declared once here and
//! flattened into each command that takes them (`#[command(flatten)]`), and
//! the helpers that act on them: loading a scenario with its overrides,
//! starting the worker threads, drawing charts, printing the service level.
//! A command whose help for one of these arguments reads differently
//! rewords it with `#[command(mut_arg(..))]` on its own struct.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use sharesim::run::{format_bytes, memory_available, MemoryEstimate};
use sharesim::scenario::Scenario;

use super::Failure;

/// The scenario file a command reads and the folder it writes under.
#[derive(Args)]
pub struct ScenarioArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Output folder.
    #[arg(long, default_value = "notebooks-output")]
    pub out: PathBuf,
}

/// Scenario keys set on the command line.
#[derive(Args)]
pub struct SetArgs {
    /// Set a scenario key before anything runs (repeatable), by the path
    /// the error messages and sweep axes use; the value is TOML. E.g. a
    /// quick look: `--set replications=1 --set horizon_h=0.25 --set
    /// warmup_h=0.05`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

impl SetArgs {
    /// The text of the scenario file at `path` with the `--set` keys
    /// changed; the file's own text when there are none.
    pub fn text(&self, path: &Path) -> Result<String, Failure> {
        let text = sharesim::scenario::read_scenario_text(path)
            .map_err(|e| Failure::from(anyhow::Error::from(e)))?;
        if self.set.is_empty() {
            return Ok(text);
        }
        let bad = |m: String| Failure::Input(anyhow::anyhow!("{}: {m}", path.display()));
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| bad(e.to_string()))?;
        for kv in &self.set {
            let (key, value) = kv.split_once('=').ok_or_else(|| {
                bad(format!(
                    "--set {kv:?}: write KEY=VALUE, e.g. replications=1"
                ))
            })?;
            let value = parse_value(value.trim());
            sharesim::sweep::set_path(&mut table, key.trim(), value)
                .map_err(|m| bad(format!("--set {kv:?}: {m}")))?;
        }
        toml::to_string(&table).map_err(|e| Failure::Internal(anyhow::Error::from(e)))
    }
}

/// A `--set` value as TOML (`3`, `0.5`, `true`, `[1, 2]`, `"text"`), or
/// as a string when it is not TOML (`--set placements[1].device=b200`).
fn parse_value(text: &str) -> toml::Value {
    format!("v = {text}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_string()))
}

/// Overrides of the scenario's keys, seed and number of replications.
#[derive(Args)]
pub struct OverrideArgs {
    #[command(flatten)]
    pub set: SetArgs,
    /// Override the scenario seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override the number of replications.
    #[arg(long)]
    pub replications: Option<usize>,
}

/// The number of worker threads.
#[derive(Args)]
pub struct ThreadArgs {
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
}

/// What sizing cost.
#[derive(Args)]
pub struct ProfileArgs {
    /// Print, per placement, the probes sizing ran (decided early,
    /// undecided), their rounds, replications, simulated requests and time
    /// (the total line is printed without it too).
    #[arg(long)]
    pub profile: bool,
}

impl ProfileArgs {
    /// Print what sizing cost since the last call (nothing if nothing was
    /// sized): per placement with `--profile`, and the total.
    pub fn report(&self) {
        let tally = sharesim::sizing::profile::take();
        if tally.is_empty() {
            return;
        }
        for line in sharesim::sizing::profile::describe(&tally, self.profile) {
            eprintln!("{line}");
        }
    }
}

/// The most memory a command may use.
#[derive(Args)]
pub struct MemoryArgs {
    /// Refuse to start when the estimated peak memory exceeds this, e.g.
    /// 8GB or 512MiB (default: the memory available, MemAvailable).
    #[arg(long, value_parser = parse_bytes)]
    pub max_memory: Option<u64>,
}

/// `8GB`, `8G`, `512MiB`, `1.5TB`, `1000000` (bytes): decimal units for
/// k/M/G/T, binary ones with `i`.
fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{text:?}: write a size such as 8GB or 512MiB"))?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit: use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB"
            ))
        }
    };
    Ok((n * scale) as u64)
}

impl MemoryArgs {
    /// Refuse (bad input, exit 2) when `estimate` exceeds `--max-memory`,
    /// else the memory available; `file` is the scenario.
    pub fn check(
        &self,
        file: &Path,
        users: usize,
        estimate: &MemoryEstimate,
    ) -> Result<(), Failure> {
        let (limit, what) = match self.max_memory {
            Some(m) => (m, "allowed by --max-memory"),
            None => match memory_available() {
                Some(m) => (m, "available (MemAvailable)"),
                None => return Ok(()),
            },
        };
        if estimate.bytes <= limit {
            return Ok(());
        }
        Err(Failure::Input(anyhow::anyhow!(
            "{}: users.count: {users} users need about {} of memory ({}), more than the {} {what}: simulate fewer users (or replications, or --threads), or one pool of them with [sizing] pool_sizes; --max-memory sets the limit",
            file.display(),
            format_bytes(estimate.bytes),
            estimate.describe(),
            format_bytes(limit),
        )))
    }
}

/// Whether to draw the PNG charts of the results written.
#[derive(Args)]
pub struct ChartArgs {
    /// Do not draw PNG charts.
    #[arg(long)]
    pub no_charts: bool,
}

impl OverrideArgs {
    /// Load the scenario at `path` and apply the overrides.
    pub fn load(&self, path: &Path) -> Result<Scenario, Failure> {
        let text = self.set.text(path)?;
        let mut scenario = Scenario::from_toml_str(&text, path).map_err(anyhow::Error::from)?;
        if let Some(seed) = self.seed {
            scenario.seed = seed;
        }
        if let Some(r) = self.replications {
            if r == 0 {
                return Err(Failure::Input(anyhow::anyhow!(
                    "--replications must be at least 1"
                )));
            }
            scenario.replications = r;
        }
        Ok(scenario)
    }
}

impl ThreadArgs {
    /// A pool of `--threads` workers, or of one per core.
    pub fn pool(&self) -> Result<rayon::ThreadPool, Failure> {
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(n) = self.threads {
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
}

impl ChartArgs {
    /// Draw the charts of each results file next to it, unless
    /// `--no-charts`. A file that supports no chart is skipped; a chart that
    /// cannot be drawn or written is an error naming the file (bad input,
    /// exit 2, when the OS refused the write: the output folder is the
    /// problem), after the other charts are tried.
    pub fn draw(&self, files: &[PathBuf]) -> Result<(), Failure> {
        if self.no_charts {
            return Ok(());
        }
        let mut first_error = None;
        for f in files {
            let dir = f.parent().unwrap_or(Path::new("."));
            match sharesim::charts::charts_for_file(f, dir) {
                Ok(pngs) => {
                    for p in pngs {
                        eprintln!("chart: {}", p.display());
                    }
                }
                Err(sharesim::charts::ChartError::NoData { .. }) => {}
                Err(e) => {
                    let failure = match e {
                        sharesim::charts::ChartError::Write(w) => {
                            Failure::from(anyhow::Error::from(w))
                        }
                        other => Failure::Internal(anyhow::Error::from(other)),
                    };
                    first_error.get_or_insert(failure);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Claim the output folder `dir` for the scenario file at `path` alone
/// (see [`sharesim::output::claim_folder`]): refused when it holds the
/// results of another scenario or another process writes to it. The lock is
/// held until the guard is dropped.
pub fn claim(
    dir: &Path,
    path: &Path,
    text: &str,
) -> Result<sharesim::output::FolderGuard, Failure> {
    let record = sharesim::sweep::folder_record_of_text(text, path).ok_or_else(|| {
        Failure::Internal(anyhow::anyhow!(
            "{}: cannot read the scenario again",
            path.display()
        ))
    })?;
    sharesim::output::claim_folder(dir, &record, sharesim::output::LockKind::Exclusive, false)
        .map_err(|e| Failure::from(anyhow::Error::from(e)))
}

/// `run` and `size` simulate the base scenario only: refuse a file with a
/// `[sweep]` table (bad input) rather than silently ignore its grid.
pub fn refuse_sweep_table(path: &Path, command: &str) -> Result<(), Failure> {
    let has_sweep = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("sweep"));
    if has_sweep {
        return Err(Failure::Input(anyhow::anyhow!(
            "{}: sweep: this scenario has a [sweep] table, which `{command}` would ignore: run its grid with `sharesim sweep {}`, or remove the table to {command} the base scenario",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

/// Print the service level's targets, one line each, under a results table.
pub fn print_service_level(s: &Scenario) {
    let width = super::answer::terminal_width();
    for t in service_level_lines(s) {
        let line =
            format!("service level{t} (judged at the unfavourable end of the 95 % interval)");
        for part in sharesim::output::terminal::wrap_words(&line, width) {
            println!("{part}");
        }
    }
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

/// What `run` and `size` set up before simulating `scenario`: the refusal
/// of a `[sweep]` table, the worker threads, the memory check, and the
/// output folder, created and claimed (held until the guard is dropped).
pub fn prepare(
    input: &ScenarioArgs,
    overrides: &OverrideArgs,
    threads: &ThreadArgs,
    memory: &MemoryArgs,
    scenario: &Scenario,
    work: sharesim::run::Work,
    command: &str,
) -> Result<(rayon::ThreadPool, PathBuf, sharesim::output::FolderGuard), Failure> {
    refuse_sweep_table(&input.scenario, command)?;
    let pool = threads.pool()?;
    let estimate = sharesim::run::estimate_memory(scenario, work, pool.current_num_threads());
    memory.check(&input.scenario, scenario.users, &estimate)?;
    let dir = sharesim::output::prepare_output_dir(&input.out.join(&scenario.name))
        .map_err(anyhow::Error::from)?;
    // The folder records the scenario simulated: the file with its `--set`
    // keys (another `--set` is another scenario, as in a sweep; `--seed`
    // and `--replications` are not part of its identity, as there).
    let guard = claim(&dir, &input.scenario, &overrides.set.text(&input.scenario)?)?;
    Ok((pool, dir, guard))
}

/// `n` and a noun, singular for one: "1 replication", "3 replications".
pub fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
