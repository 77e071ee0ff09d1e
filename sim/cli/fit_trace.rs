//! `sharesim fit-trace`: fit a real request trace and print what it says
//! about arrivals, tokens and sessions, with a scenario snippet.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use sharesim::workload::{ColumnMapping, ReplayOptions, Trace, TraceFormat};

use super::{Failure, Outcome};

/// Fit a real request trace (CSV, Parquet or JSONL): print the arrival
/// rate, requests per clock hour, token distributions, sessions, the index
/// of dispersion of arrivals (with bursty fits) and the prefix-cache hit
/// share, and a TOML snippet for a scenario (see docs/traces.md).
#[derive(Args)]
pub struct FitTraceArgs {
    /// Trace file (.csv, .parquet, or .jsonl).
    pub trace: PathBuf,
    /// Column layout: a preset, `auto` to pick it from the header, or
    /// `custom` with `--column`.
    #[arg(long, default_value = "auto", value_parser = ["azure", "ragpulse", "mooncake", "auto", "custom"])]
    pub format: String,
    /// A custom column mapping, one KEY=VALUE each (keys as in `[trace]
    /// columns`: time, time_unit, input, output, user, session,
    /// block_hashes, block_tokens), e.g. `--column time=ts --column
    /// time_unit=ms`. Implies `--format custom`.
    #[arg(long = "column", value_name = "KEY=VALUE")]
    pub columns: Vec<String>,
    /// Also write the snippet to this file (atomically).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: &FitTraceArgs) -> Result<Outcome, Failure> {
    let path = &args.trace;
    let input = |m: String| Failure::Input(anyhow::anyhow!(m));
    let format =
        match (args.format.as_str(), args.columns.is_empty()) {
            ("auto" | "custom", false) => {
                let mut pairs = Vec::new();
                for c in &args.columns {
                    let (k, v) = c.split_once('=').ok_or_else(|| {
                        input(format!(
                            "--column {c:?}: write KEY=VALUE, e.g. --column time=ts"
                        ))
                    })?;
                    pairs.push((k.trim().to_string(), v.trim().to_string()));
                }
                TraceFormat::Custom(
                    ColumnMapping::from_pairs(&pairs)
                        .map_err(|(k, m)| input(format!("--column {k}: {m}")))?,
                )
            }
            ("custom", true) => return Err(input(
                "--format custom needs --column time=... --column input=... --column output=..."
                    .into(),
            )),
            (name, false) => {
                return Err(input(format!(
                "--column gives a custom mapping: drop --format {name} (or the --column options)"
            )))
            }
            ("auto", true) => TraceFormat::detect_file(path).map_err(anyhow::Error::from)?,
            (name, true) => TraceFormat::from_name(name).ok_or_else(|| {
                input(format!(
                "--format must be one of azure, ragpulse, mooncake, auto, custom (got {name:?})"
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
