//! Typed access to what the replications of one placement measured: an
//! estimate (mean and 95 % interval across replications) keyed by what was
//! measured, not by a column name. The service-level verdict and sizing read
//! results through this.

use crate::core::stats::Estimate;
use crate::results::columns;
use crate::results::table::{get, Row, Value};
use crate::scenario::LatencyMetric;

/// A figure the service level can be judged on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    /// A latency percentile (seconds).
    Latency {
        /// Which latency.
        metric: LatencyMetric,
        /// Which percentile, e.g. 99.0.
        percentile: f64,
    },
    /// Share of measured requests that waited longer than the wait-tail bound.
    WaitAbove,
    /// Share of measured requests within every latency target.
    Attainment,
}

impl Measure {
    /// The column it is stored in.
    pub fn column(&self) -> String {
        match *self {
            Measure::Latency { metric, percentile } => columns::latency(metric, percentile),
            Measure::WaitAbove => columns::P_WAIT_ABOVE_SHARE.to_string(),
            Measure::Attainment => columns::SLO_ATTAINMENT_SHARE.to_string(),
        }
    }
}

/// The replication rows of one placement (or of one class on it).
#[derive(Debug, Clone, Copy)]
pub struct Replications<'a> {
    rows: &'a [&'a Row],
}

impl<'a> Replications<'a> {
    /// A view over replication rows.
    pub fn new(rows: &'a [&'a Row]) -> Self {
        Replications { rows }
    }

    /// The estimate of `measure` across the replications (None when no
    /// replication measured it).
    pub fn estimate(&self, measure: Measure) -> Option<Estimate> {
        let column = measure.column();
        Estimate::from_values(
            self.rows
                .iter()
                .map(|r| get(r, &column).and_then(Value::as_f64)),
        )
    }
}
