//! What one placement measures in one replication: counts that must add up,
//! latency distributions of the requests that arrive inside the measurement
//! window `[warmup_s, horizon_s)`, busy time and time-in-system integrated
//! over that window (for utilisation and Little's law).

use crate::stats::LatencyHistogram;

/// The measurement window: arrivals before `warmup_s` are simulated but not
/// measured; no arrival is generated at or after `horizon_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// End of the warm-up, seconds.
    pub warmup_s: f64,
    /// End of the arrival period, seconds.
    pub horizon_s: f64,
}

impl Window {
    /// Length of the measurement window, seconds.
    pub fn len_s(&self) -> f64 {
        self.horizon_s - self.warmup_s
    }

    /// Length of `[a, b]` inside the window.
    #[inline]
    pub fn overlap_s(&self, a: f64, b: f64) -> f64 {
        (b.min(self.horizon_s) - a.max(self.warmup_s)).max(0.0)
    }

    /// Whether an arrival at `t` is measured.
    #[inline]
    pub fn measures(&self, t: f64) -> bool {
        t >= self.warmup_s && t < self.horizon_s
    }
}

/// Streaming recorder for requests served FCFS (one server per request).
#[derive(Debug, Clone)]
pub struct FcfsRecorder {
    window: Window,
    /// Requests generated in `[0, horizon)`.
    pub arrived: u64,
    /// Requests finished at or before the horizon.
    pub completed_by_horizon: u64,
    /// Requests that arrived before the horizon and finish after it.
    pub in_flight_at_horizon: u64,
    /// Requests arriving inside the window (their latencies are recorded).
    pub measured: u64,
    /// Measured requests that waited a positive time.
    pub waited: u64,
    /// Waiting time (queueing before service), seconds.
    pub wait: LatencyHistogram,
    /// Response time (waiting plus service), seconds.
    pub response: LatencyHistogram,
    /// Server busy seconds inside the window (all requests).
    pub busy_s: f64,
    /// Request-seconds in the system inside the window (all requests).
    pub in_system_s: f64,
    /// Service seconds of measured requests.
    pub service_s: f64,
}

impl FcfsRecorder {
    /// An empty recorder for `window`.
    pub fn new(window: Window) -> Self {
        FcfsRecorder {
            window,
            arrived: 0,
            completed_by_horizon: 0,
            in_flight_at_horizon: 0,
            measured: 0,
            waited: 0,
            wait: LatencyHistogram::new(),
            response: LatencyHistogram::new(),
            busy_s: 0.0,
            in_system_s: 0.0,
            service_s: 0.0,
        }
    }

    /// The window this recorder measures.
    pub fn window(&self) -> Window {
        self.window
    }

    /// Record a request that arrived at `arrival_s`, started at `start_s`
    /// and ended at `end_s`.
    #[inline]
    pub fn record(&mut self, arrival_s: f64, start_s: f64, end_s: f64) {
        self.arrived += 1;
        if end_s <= self.window.horizon_s {
            self.completed_by_horizon += 1;
        } else {
            self.in_flight_at_horizon += 1;
        }
        self.busy_s += self.window.overlap_s(start_s, end_s);
        self.in_system_s += self.window.overlap_s(arrival_s, end_s);
        if self.window.measures(arrival_s) {
            let wait = start_s - arrival_s;
            self.measured += 1;
            self.waited += (wait > 0.0) as u64;
            self.wait.record(wait);
            self.response.record(end_s - arrival_s);
            self.service_s += end_s - start_s;
        }
    }
}
