//! `sharesim plot`: redraw the charts of a results file without simulating
//! again.

use std::path::{Path, PathBuf};

use clap::Args;

use sharesim::output::prepare_output_dir;

use super::{Failure, Outcome};

/// Redraw the charts of a results file (sweep.parquet, sizing.parquet,
/// latency_cdf.parquet, timeline.parquet) without simulating again.
#[derive(Args)]
pub struct PlotArgs {
    /// A Parquet file written by run, size or sweep.
    pub results: PathBuf,
    /// Output folder (default: the file's folder).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: &PlotArgs) -> Result<Outcome, Failure> {
    let dir = match &args.out {
        Some(d) => prepare_output_dir(d).map_err(anyhow::Error::from)?,
        None => args
            .results
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf(),
    };
    match sharesim::charts::charts_for_file(&args.results, &dir) {
        Ok(pngs) => {
            for p in pngs {
                println!("{}", p.display());
            }
            Ok(Outcome::Done)
        }
        Err(e) => Err(Failure::Input(anyhow::Error::from(e))),
    }
}
