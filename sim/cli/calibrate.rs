//! `sharesim calibrate`: print the calibration table of the shipped
//! catalogue, predicted vs measured decode speeds.

use anyhow::Context;
use clap::Args;

use sharesim::llm::Catalog;
use sharesim::llm::{calibration_table, markdown_table};

use super::{Failure, Outcome};

/// Print the calibration table: predicted vs measured decode speeds for
/// every reference measurement, from the shipped catalogue (the text of
/// docs/calibration.md's table).
#[derive(Args)]
pub struct CalibrateArgs {}

/// Print the table; [`Outcome::ChecksFailed`] if a checked measurement is
/// outside its tolerance.
pub fn run(_: &CalibrateArgs) -> Result<Outcome, Failure> {
    let catalog = Catalog::builtin()
        .context("the shipped catalogue does not load")
        .map_err(Failure::Internal)?;
    let rows = calibration_table(&catalog)
        .context("cannot compute the calibration table")
        .map_err(Failure::Internal)?;
    print!("{}", markdown_table(&rows));
    let missed = rows
        .iter()
        .filter(|r| r.checked && !r.within_tolerance)
        .count();
    Ok(if missed == 0 {
        Outcome::Done
    } else {
        Outcome::ChecksFailed
    })
}
