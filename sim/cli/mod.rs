//! The command-line surface of `sharesim`: the parser ([`Cli`], one
//! [`Command`] per subcommand) and the vocabulary every command answers in,
//! [`Outcome`] or [`Failure`]. Each command lives in its own file, which owns
//! its arguments (a `clap::Args` struct, its help text included) and the code
//! that runs it; the arguments several commands take are declared once in
//! [`shared`] and flattened into each. Commands print; they never exit:
//! `main.rs` alone turns an outcome or a failure into an exit code.

use clap::{Parser, Subcommand};

use sharesim::output::OutputError;
use sharesim::scenario::ScenarioError;

pub mod answer;
pub mod calibrate;
pub mod catalog;
pub mod completions;
pub mod estimate;
pub mod explain;
pub mod fit_trace;
pub mod merge;
pub mod plot;
pub mod run;
pub mod shared;
pub mod size;
pub mod sweep;
pub mod uncertainty;
pub mod validate;

/// The version `--version` prints: the package version and the commit the
/// binary was built from (`unknown` without git; see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SHARESIM_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "sharesim",
    version = VERSION,
    about = "Dedicated vs pooled AI inference hardware at the same service level"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// The help of each command is the doc comment of its arguments struct, in
// the command's own file.
#[derive(Subcommand)]
pub enum Command {
    Run(run::RunArgs),
    Size(size::SizeArgs),
    Sweep(sweep::SweepArgs),
    Uncertainty(uncertainty::UncertaintyArgs),
    Plot(plot::PlotArgs),
    Merge(merge::MergeArgs),
    Calibrate(calibrate::CalibrateArgs),
    Validate(validate::ValidateArgs),
    FitTrace(fit_trace::FitTraceArgs),
    Explain(explain::ExplainArgs),
    Estimate(estimate::EstimateArgs),
    Catalog(catalog::CatalogArgs),
    Completions(completions::CompletionsArgs),
}

/// How a command that ran to its end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done.
    Done,
    /// The command ran, but a check it reports on failed (`validate`,
    /// `calibrate`).
    ChecksFailed,
    /// Ctrl-C stopped the command; what finished is saved (`sweep`).
    Interrupted,
}

/// Why a command could not do what it was asked.
#[derive(Debug)]
pub enum Failure {
    /// Bad input: the scenario, a trace, an argument or the output folder.
    Input(anyhow::Error),
    /// Anything else.
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        let input = e.chain().any(|c| {
            c.downcast_ref::<ScenarioError>().is_some()
                || c.downcast_ref::<sharesim::workload::TraceError>().is_some()
                || matches!(
                    c.downcast_ref::<OutputError>(),
                    Some(
                        OutputError::Io { .. }
                            | OutputError::OtherScenario { .. }
                            | OutputError::Busy { .. }
                    )
                )
                || matches!(
                    c.downcast_ref::<sharesim::sweep::MergeError>(),
                    Some(sharesim::sweep::MergeError::Mixed { .. })
                )
        });
        if input {
            Failure::Input(e)
        } else {
            Failure::Internal(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// clap's own consistency checks, including that every argument a
    /// command rewords with `mut_arg` exists.
    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
