//! What several commands share: the arguments declared once here and
//! flattened into each command that takes them (`#[command(flatten)]`), and
//! the helpers that act on them: loading a scenario with its overrides,
//! starting the worker threads, drawing charts, printing the service level.
//! A command whose help for one of these arguments reads differently
//! rewords it with `#[command(mut_arg(..))]` on its own struct.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

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

/// Overrides of the scenario's seed and number of replications.
#[derive(Args)]
pub struct OverrideArgs {
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
        let mut scenario = Scenario::load(path).map_err(anyhow::Error::from)?;
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
    /// `--no-charts`. A file that supports no chart, or whose chart fails,
    /// is reported, not an error: the results are written already.
    pub fn draw(&self, files: &[PathBuf]) {
        if self.no_charts {
            return;
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
    }
}

/// Claim the output folder `dir` for the scenario file at `path` alone
/// (see [`sharesim::output::claim_folder`]): refused when it holds the
/// results of another scenario or another process writes to it. The lock is
/// held until the guard is dropped.
pub fn claim(dir: &Path, path: &Path) -> Result<sharesim::output::FolderGuard, Failure> {
    let record = sharesim::sweep::folder_record_of_file(path).ok_or_else(|| {
        Failure::Internal(anyhow::anyhow!(
            "{}: cannot read the scenario again",
            path.display()
        ))
    })?;
    sharesim::output::claim_folder(dir, &record, sharesim::output::LockKind::Exclusive, false)
        .map_err(|e| Failure::from(anyhow::Error::from(e)))
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
