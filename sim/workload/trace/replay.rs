//! How a trace is replayed ([`ReplayOptions`]: time scale, offset,
//! sortedness, start hour) and the trace's wall clock ([`TraceClock`]),
//! which maps a replayed arrival back to local time of day.

use super::error::TraceError;
use crate::workload::arrivals::DAY_S;

/// How a trace is replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    /// Arrival times are multiplied by it (0.5 replays twice as fast).
    /// Must be positive and finite. Default 1.
    pub time_scale: f64,
    /// Seconds added after scaling (may be negative as long as no arrival
    /// becomes negative). Default 0.
    pub time_offset_s: f64,
    /// Reject a trace whose time goes backwards (otherwise rows are sorted).
    /// Default false.
    pub require_sorted: bool,
    /// Local clock hour (0 to 24) at trace time 0 for traces whose time is a
    /// number of seconds or milliseconds; `None` uses the format's default
    /// (12 for RAGPulse, unknown otherwise). Ignored for date-time traces,
    /// which carry their own clock.
    pub start_hour_of_day: Option<f64>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            time_scale: 1.0,
            time_offset_s: 0.0,
            require_sorted: false,
            start_hour_of_day: None,
        }
    }
}

impl ReplayOptions {
    pub(crate) fn validate(&self) -> Result<(), TraceError> {
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(TraceError::BadOption {
                option: "time_scale",
                message: format!(
                    "must be a positive finite factor, e.g. 0.5 to replay twice as fast (got {})",
                    self.time_scale
                ),
            });
        }
        if !self.time_offset_s.is_finite() {
            return Err(TraceError::BadOption {
                option: "time_offset_s",
                message: format!(
                    "must be a finite number of seconds (got {})",
                    self.time_offset_s
                ),
            });
        }
        if let Some(h) = self.start_hour_of_day {
            if !(h.is_finite() && (0.0..24.0).contains(&h)) {
                return Err(TraceError::BadOption {
                    option: "start_hour_of_day",
                    message: format!("must be a clock hour in [0, 24), e.g. 12 for noon (got {h})"),
                });
            }
        }
        Ok(())
    }
}

/// The wall clock of a trace: maps an arrival back to the trace's local
/// time of day, undoing the replay scaling and offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceClock {
    /// Seconds after local midnight at trace time 0 (before scaling).
    pub origin_time_of_day_s: f64,
    /// The replay's `time_scale`.
    pub time_scale: f64,
    /// The replay's `time_offset_s`.
    pub time_offset_s: f64,
}

impl TraceClock {
    /// Seconds since local midnight of the day trace time 0 falls on (not
    /// wrapped; 90,000 is 01:00 the next day).
    pub fn clock_s(&self, arrival_s: f64) -> f64 {
        self.origin_time_of_day_s + (arrival_s - self.time_offset_s) / self.time_scale
    }

    /// Local time of day, seconds in `[0, 86400)`.
    pub fn time_of_day_s(&self, arrival_s: f64) -> f64 {
        self.clock_s(arrival_s).rem_euclid(DAY_S)
    }

    /// Local clock hour, 0 to 23.
    pub fn hour_of_day(&self, arrival_s: f64) -> usize {
        ((self.time_of_day_s(arrival_s) / 3600.0) as usize).min(23)
    }
}
