//! `sharesim fit-trace`: fit a real request trace and print what it says
//! about arrivals, tokens and sessions, with a scenario snippet.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use sharesim::workload::{ReplayOptions, Trace, TraceFormat};

use super::{Failure, Outcome};

/// Fit a real request trace (CSV or Parquet): print the arrival rate,
/// requests per clock hour, token distributions and sessions, and a TOML
/// snippet for a scenario (see docs/traces.md).
#[derive(Args)]
pub struct FitTraceArgs {
    /// Trace file (.csv, or .parquet).
    pub trace: PathBuf,
    /// Column layout: a preset, or `auto` to pick it from the header.
    #[arg(long, default_value = "auto", value_parser = ["azure", "ragpulse", "auto"])]
    pub format: String,
    /// Also write the snippet to this file (atomically).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: &FitTraceArgs) -> Result<Outcome, Failure> {
    let path = &args.trace;
    let format = match args.format.as_str() {
        "auto" => TraceFormat::detect_file(path).map_err(anyhow::Error::from)?,
        name => TraceFormat::from_name(name).ok_or_else(|| {
            Failure::Input(anyhow::anyhow!(
                "--format must be one of azure, ragpulse, auto (got {name:?})"
            ))
        })?,
    };
    let trace =
        Trace::load(path, &format, &ReplayOptions::default()).map_err(anyhow::Error::from)?;
    let report = sharesim::workload::fit_trace(&trace);
    let snippet = report.to_scenario_snippet();
    println!("{}", report.describe());
    println!("{snippet}");
    if let Some(out) = &args.out {
        sharesim::output::write_atomically(out, |file| {
            file.write_all(snippet.as_bytes())
                .map_err(|e| format!("cannot write the snippet: {e}"))
        })
        .map_err(anyhow::Error::from)?;
        eprintln!("wrote {}", out.display());
    }
    Ok(Outcome::Done)
}
