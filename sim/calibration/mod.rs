//! Calibration through the engine: each row of the measurement table
//! (`data/calibration/measurements.csv`) is simulated by running its
//! benchmark set-up through the real batching engine, the (device, engine)
//! step-cost parameters, expert pool shares and device power values are
//! fitted by least squares on the log errors within physical bounds, and
//! every (device, engine) pair with three or more set-ups is checked by
//! leaving each set-up out, refitting and predicting it.
//!
//! - [`table`]: the measurement table and its checks;
//! - [`simulate`]: one row's set-up through [`crate::engine::BatchingFleet`];
//! - [`fit`]: the parameters, the fit and the leave-one-out refits;
//! - [`report`]: docs/calibration.md and scenarios/catalog/calibrated.toml.
//!
//! `sharesim calibrate` runs it; `--write` regenerates both files, and a
//! test checks that they are current.

use std::path::PathBuf;

pub(crate) mod fit;
pub(crate) mod report;
pub(crate) mod simulate;
pub(crate) mod table;

pub use fit::{Field, Owner, Param, PRIOR_WEIGHT};
pub use report::{
    calibrate, calibrated_toml, markdown, predict_rows, rows_markdown, Calibration, LooResult,
    RowResult, LOO_TOLERANCE, POWER_TOLERANCE, TOLERANCE,
};
pub use simulate::{figure, run_setup, RunFigures, REQUESTS_PER_CLIENT};
pub use table::{
    read_measurements, shipped_measurements, Measurement, Metric, Setup, MEASUREMENTS_CSV,
    MEASUREMENTS_PATH, REFERENCE_POINTS_CSV, REFERENCE_POINTS_PATH,
};

/// A measurement table that cannot be used, or a row that cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// A row that does not parse or whose set-up cannot be expressed.
    #[error("{}:{line}: row `{id}`: {message}", file.display())]
    Row {
        /// The table.
        file: PathBuf,
        /// Line number (1-based).
        line: usize,
        /// The row id.
        id: String,
        /// What is wrong and the fix.
        message: String,
    },
    /// A row whose device, model or engine cannot be simulated.
    #[error("row `{id}`: {message}")]
    Setup {
        /// The row id.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// The catalogue does not load.
    #[error(transparent)]
    Catalog(Box<crate::llm::CatalogError>),
}
