//! `sharesim calibrate`: fit the (device, engine) step-cost parameters,
//! expert pool shares and power values by simulating every row of a
//! measurement table through the engine, and print each row's error and the
//! leave-one-set-up-out errors (the text of docs/calibration.md).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use sharesim::calibration::{
    calibrate, calibrated_toml, markdown, predict_rows, read_measurements, rows_markdown,
    shipped_measurements,
};
use sharesim::llm::{Catalog, EngineCatalog};

use super::{Failure, Outcome};

/// Fit the step-cost profiles to measured serving benchmarks, each simulated
/// through the engine, and print every row's error and the leave-one-out
/// errors.
#[derive(Args)]
pub struct CalibrateArgs {
    /// Measurement table (the format of data/calibration/measurements.csv);
    /// default: the shipped table and reference points.
    #[arg(long, value_name = "FILE")]
    measurements: Option<PathBuf>,
    /// Write docs/calibration.md and scenarios/catalog/calibrated.toml (run
    /// from the repository root).
    #[arg(long)]
    write: bool,
    /// Do not fit: predict the rows of this table (same format) with the
    /// shipped fitted profiles and print each row's error.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["measurements", "write"])]
    predict: Option<PathBuf>,
}

/// Fit, print; [`Outcome::ChecksFailed`] if a row or an asserted
/// leave-one-out prediction is outside its tolerance.
pub fn run(args: &CalibrateArgs) -> Result<Outcome, Failure> {
    if let Some(p) = &args.predict {
        return predict(p);
    }
    let rows = match &args.measurements {
        None => shipped_measurements(),
        Some(p) => {
            let text = read_table(p)?;
            read_measurements(&text, p)
        }
    }
    .map_err(|e| Failure::Input(e.into()))?;
    let priors = EngineCatalog::priors().map_err(|e| Failure::Internal(e.into()))?;
    let catalog = Catalog::builtin()
        .map_err(|e| Failure::Internal(e.into()))?
        .with_engines(priors.clone());
    let c = calibrate(&rows, &catalog, &priors).map_err(|e| Failure::Input(e.into()))?;
    let doc = markdown(&c);
    print!("{doc}");
    if args.write {
        for (file, body) in [
            (Path::new("docs/calibration.md"), doc.as_str()),
            (
                Path::new("scenarios/catalog/calibrated.toml"),
                calibrated_toml(&c).as_str(),
            ),
        ] {
            std::fs::write(file, body)
                .with_context(|| {
                    format!(
                        "{}: cannot write (run from the repository root)",
                        file.display()
                    )
                })
                .map_err(Failure::Input)?;
            eprintln!("wrote {}", file.display());
        }
    }
    let missed = c.rows.iter().filter(|r| !r.within).count()
        + c.loo.iter().filter(|l| l.asserted && !l.within).count();
    Ok(if missed == 0 {
        Outcome::Done
    } else {
        Outcome::ChecksFailed
    })
}

/// `--predict FILE`: the shipped profiles on other measurements.
fn predict(path: &Path) -> Result<Outcome, Failure> {
    let text = read_table(path)?;
    let rows = read_measurements(&text, path).map_err(|e| Failure::Input(e.into()))?;
    let catalog = Catalog::builtin().map_err(|e| Failure::Internal(e.into()))?;
    let results = predict_rows(&rows, &catalog).map_err(|e| Failure::Input(e.into()))?;
    print!("{}", rows_markdown(&results));
    Ok(if results.iter().all(|r| r.within) {
        Outcome::Done
    } else {
        Outcome::ChecksFailed
    })
}

/// A measurement table's text; refused (bad input) when it cannot be read,
/// is not UTF-8 or holds NUL bytes (binary or UTF-16), before any of it is
/// quoted in an error.
fn read_table(path: &Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| {
            format!(
                "{}: cannot read the measurement table (a CSV text file in UTF-8)",
                path.display()
            )
        })
        .map_err(Failure::Input)?;
    if text.contains('\0') {
        return Err(Failure::Input(anyhow::anyhow!(
            "{}: not a CSV text file: it holds NUL bytes (binary or UTF-16); give the measurement table as UTF-8 CSV",
            path.display()
        )));
    }
    Ok(text)
}
