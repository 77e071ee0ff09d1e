//! `sharesim merge`: combine the part files of a sweep folder into
//! sweep.parquet, e.g. after its shards ran on several machines, and draw
//! the sweep's charts beside it (as `sweep` does; `--no-charts` skips);
//! prints the sweep's answer as `sweep` does (an uncertainty design's
//! folder: its percentiles, swings and tornado chart, as `uncertainty` does).

use std::path::PathBuf;

use clap::Args;

use sharesim::sweep::MergeError;

use super::answer::PrintArgs;
use super::shared::ChartArgs;
use super::{Failure, Outcome};

/// Combine the part files of a sweep folder (OUT/<name>) into sweep.parquet,
/// e.g. after shards ran on several machines.
#[derive(Args)]
pub struct MergeArgs {
    /// The sweep's folder, OUT/<scenario-name>.
    pub dir: PathBuf,
    #[command(flatten)]
    pub charts: ChartArgs,
    #[command(flatten)]
    pub print: PrintArgs,
}

pub fn run(args: &MergeArgs) -> Result<Outcome, Failure> {
    match sharesim::sweep::merge(&args.dir) {
        Ok(m) => {
            super::sweep::report_stale(&m.stale);
            eprintln!("wrote {} ({} rows)", m.path.display(), m.rows);
            if super::uncertainty::is_design(&m.path) {
                super::uncertainty::finish(&m.path, &args.print, &args.charts)?;
                return Ok(Outcome::Done);
            }
            super::sweep::print_answer(&m.path, &args.print)?;
            args.charts.draw(&[m.path])?;
            Ok(Outcome::Done)
        }
        Err(e @ (MergeError::Manifest(..) | MergeError::Mixed { .. })) => {
            Err(Failure::Input(anyhow::Error::from(e)))
        }
        Err(e) => Err(super::sweep::merge_failure(e)),
    }
}
