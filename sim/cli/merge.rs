//! `sharesim merge`: combine the part files of a sweep folder into
//! sweep.parquet, e.g. after its shards ran on several machines.

use std::path::PathBuf;

use clap::Args;

use sharesim::sweep::MergeError;

use super::{Failure, Outcome};

/// Combine the part files of a sweep folder (OUT/<name>) into sweep.parquet,
/// e.g. after shards ran on several machines.
#[derive(Args)]
pub struct MergeArgs {
    /// The sweep's folder, OUT/<scenario-name>.
    pub dir: PathBuf,
}

pub fn run(args: &MergeArgs) -> Result<Outcome, Failure> {
    match sharesim::sweep::merge(&args.dir) {
        Ok(m) => {
            super::sweep::report_stale(&m.stale);
            eprintln!("wrote {} ({} rows)", m.path.display(), m.rows);
            Ok(Outcome::Done)
        }
        Err(e @ (MergeError::Manifest(..) | MergeError::Mixed { .. })) => {
            Err(Failure::Input(anyhow::Error::from(e)))
        }
        Err(e) => Err(super::sweep::merge_failure(e)),
    }
}
