//! `sharesim merge`: combine the part files of a sweep folder into
//! sweep.parquet, e.g. after its shards ran on several machines, and draw
//! the sweep's charts beside it (as `sweep` does; `--no-charts` skips).

use std::path::PathBuf;

use clap::Args;

use sharesim::sweep::MergeError;

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
}

pub fn run(args: &MergeArgs) -> Result<Outcome, Failure> {
    match sharesim::sweep::merge(&args.dir) {
        Ok((rows, p)) => {
            eprintln!("wrote {} ({rows} rows)", p.display());
            args.charts.draw(&[p]);
            Ok(Outcome::Done)
        }
        Err(e @ MergeError::Manifest(..)) => Err(Failure::Input(anyhow::Error::from(e))),
        Err(e) => Err(Failure::Internal(anyhow::Error::from(e))),
    }
}
