//! What one placement measures in one replication: counts that must add up,
//! latency distributions of the requests that arrive inside the measurement
//! window `[warmup_s, horizon_s)`, busy time and time-in-system integrated
//! over that window (for utilisation and Little's law).

use crate::core::stats::LatencyHistogram;

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

/// Minutes in a day: the resolution of [`DayTimeline`].
pub const MINUTES_PER_DAY: usize = 1440;

/// Load by minute of the day (simulation clock, 00:00 UTC), folded over all
/// the days of the measurement window: arrivals and busy server-seconds per
/// minute, fixed memory whatever the horizon.
#[derive(Debug, Clone)]
pub struct DayTimeline {
    window: Window,
    /// Arrivals per minute of the day, summed over days.
    pub arrivals: Vec<u64>,
    /// Busy server-seconds per minute of the day, summed over days.
    pub busy_s: Vec<f64>,
}

impl DayTimeline {
    /// An empty timeline over `window`.
    pub fn new(window: Window) -> Self {
        DayTimeline {
            window,
            arrivals: vec![0; MINUTES_PER_DAY],
            busy_s: vec![0.0; MINUTES_PER_DAY],
        }
    }

    #[inline]
    fn minute(t: f64) -> usize {
        // Inside the first day `rem_euclid` is the identity: skip its call.
        let of_day = if (0.0..86_400.0).contains(&t) {
            t
        } else {
            t.rem_euclid(86_400.0)
        };
        ((of_day / 60.0) as usize).min(MINUTES_PER_DAY - 1)
    }

    /// An arrival at `t` (counted when inside the window).
    #[inline]
    pub fn arrival(&mut self, t: f64) {
        if self.window.measures(t) {
            self.arrivals[Self::minute(t)] += 1;
        }
    }

    /// A server busy over `[a, b]` (the part inside the window counts).
    #[inline]
    pub fn busy(&mut self, a: f64, b: f64) {
        let mut a = a.max(self.window.warmup_s);
        let b = b.min(self.window.horizon_s);
        while a < b {
            let next = (crate::core::units::floor_non_negative(a / 60.0) + 1.0) * 60.0;
            let end = next.min(b);
            self.busy_s[Self::minute(a)] += end - a;
            a = end;
        }
    }

    /// Seconds of the window that fall in each minute of the day.
    pub fn coverage_s(&self) -> Vec<f64> {
        let mut cov = vec![0.0; MINUTES_PER_DAY];
        let mut a = self.window.warmup_s;
        let b = self.window.horizon_s;
        while a < b {
            let next = ((a / 60.0).floor() + 1.0) * 60.0;
            let end = next.min(b);
            cov[Self::minute(a)] += end - a;
            a = end;
        }
        cov
    }

    /// Add another timeline (same window).
    pub fn merge(&mut self, other: &DayTimeline) {
        for m in 0..MINUTES_PER_DAY {
            self.arrivals[m] += other.arrivals[m];
            self.busy_s[m] += other.busy_s[m];
        }
    }
}

/// The latencies of one class's measured requests, kept beside a
/// recorder's totals when a placement serves several classes: a service
/// level holds only if every class meets it, not just the mix.
#[derive(Debug, Clone)]
pub struct ClassLatency {
    /// Measured requests of the class (refused ones included, LLM).
    pub measured: u64,
    /// Measured requests that waited a positive time.
    pub waited: u64,
    /// Measured requests meeting every attainment bound (LLM).
    pub attained: u64,
    /// Waiting time, seconds.
    pub wait: LatencyHistogram,
    /// Response time, seconds (generic requests).
    pub response: LatencyHistogram,
    /// Time to first token, seconds (LLM).
    pub ttft: LatencyHistogram,
    /// Time per output token, seconds (LLM).
    pub tpot: LatencyHistogram,
    /// End-to-end latency, seconds (LLM).
    pub e2e: LatencyHistogram,
}

impl ClassLatency {
    fn new() -> Self {
        ClassLatency {
            measured: 0,
            waited: 0,
            attained: 0,
            wait: LatencyHistogram::new(),
            response: LatencyHistogram::new(),
            ttft: LatencyHistogram::new(),
            tpot: LatencyHistogram::new(),
            e2e: LatencyHistogram::new(),
        }
    }
}

/// Per-class latencies: class of a user by contiguous id ranges. Empty (and
/// free) for a single class.
#[derive(Debug, Clone, Default)]
pub struct ByClass {
    /// One past the last user id of each class.
    ends: Vec<u32>,
    /// Per class, in class order.
    pub classes: Vec<ClassLatency>,
}

impl ByClass {
    /// Track classes ending (exclusive) at these user ids; nothing for one class.
    pub fn new(class_ends: Vec<u32>) -> Self {
        if class_ends.len() <= 1 {
            return ByClass::default();
        }
        ByClass {
            classes: class_ends.iter().map(|_| ClassLatency::new()).collect(),
            ends: class_ends,
        }
    }

    /// The class record of `user`, when classes are tracked.
    #[inline]
    fn of(&mut self, user: u32) -> Option<&mut ClassLatency> {
        if self.ends.is_empty() {
            return None;
        }
        let c = crate::core::classes::class_index(&self.ends, user);
        Some(&mut self.classes[c])
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
    /// Load by minute of the day.
    pub timeline: Box<DayTimeline>,
    /// Latencies per class (several classes only).
    pub by_class: ByClass,
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
            timeline: Box::new(DayTimeline::new(window)),
            by_class: ByClass::default(),
        }
    }

    /// Also keep latencies per class (see [`ByClass::new`]).
    pub fn with_classes(mut self, class_ends: Vec<u32>) -> Self {
        self.by_class = ByClass::new(class_ends);
        self
    }

    /// The window this recorder measures.
    pub fn window(&self) -> Window {
        self.window
    }

    /// Record a request of `user` that arrived at `arrival_s`, started at
    /// `start_s` and ended at `end_s`.
    #[inline]
    pub fn record(&mut self, arrival_s: f64, start_s: f64, end_s: f64, user: u32) {
        self.arrived += 1;
        if end_s <= self.window.horizon_s {
            self.completed_by_horizon += 1;
        } else {
            self.in_flight_at_horizon += 1;
        }
        self.busy_s += self.window.overlap_s(start_s, end_s);
        self.timeline.arrival(arrival_s);
        self.timeline.busy(start_s, end_s);
        self.in_system_s += self.window.overlap_s(arrival_s, end_s);
        if self.window.measures(arrival_s) {
            let wait = start_s - arrival_s;
            self.measured += 1;
            self.waited += (wait > 0.0) as u64;
            self.wait.record(wait);
            self.response.record(end_s - arrival_s);
            self.service_s += end_s - start_s;
            if let Some(c) = self.by_class.of(user) {
                c.measured += 1;
                c.waited += (wait > 0.0) as u64;
                c.wait.record(wait);
                c.response.record(end_s - arrival_s);
            }
        }
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// Prompt + output exceed the model's context limit.
    ContextLimit,
    /// Prompt + output exceed the KV cache an empty server can hold.
    KvBudget,
    /// The request arrived during an outage of its placement and failed.
    Outage,
}

/// Requests released at the end of an outage they waited for: (user,
/// release time's bits) -> original arrival, so that their latencies count
/// from when they were sent. Shared by the request stream that defers them
/// and the recorder that records them.
pub type DeferredArrivals =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<(u32, u64), f64>>>;

/// Streaming recorder for LLM requests: TTFT, TPOT and end-to-end latency.
///
/// The network round trip `rtt_s` is added to TTFT and E2E (the request
/// travels to the server, the tokens stream back); it does not change TPOT.
#[derive(Debug, Clone)]
pub struct LlmRecorder {
    window: Window,
    rtt_s: f64,
    /// Random round trips: a distribution and its own stream.
    rtt_dist: Option<(crate::core::dist::Dist, crate::core::rng::SimRng)>,
    /// Requests generated in `[0, horizon)`.
    pub arrived: u64,
    /// Finished at or before the horizon.
    pub completed_by_horizon: u64,
    /// Arrived before the horizon, finished after it.
    pub in_flight_at_horizon: u64,
    /// Refused: longer than the model's context limit.
    pub rejected_context: u64,
    /// Refused: larger than an empty server's KV budget.
    pub rejected_kv: u64,
    /// Failed: arrived during an outage of the placement.
    pub rejected_outage: u64,
    /// Requests arriving inside the window and completed (latencies recorded).
    pub measured: u64,
    /// Measured requests that queued a positive time before their prefill.
    pub waited: u64,
    /// Queueing before the prefill starts, seconds.
    pub wait: LatencyHistogram,
    /// Time to first token, seconds (network + queueing + prefill).
    pub ttft: LatencyHistogram,
    /// Time per output token after the first, seconds.
    pub tpot: LatencyHistogram,
    /// End-to-end latency, seconds.
    pub e2e: LatencyHistogram,
    /// Output tokens of measured requests.
    pub output_tokens: u64,
    /// Latest first token of any finished request (server side), seconds
    /// (0 before one): a benchmark's decode phase starts there.
    pub last_first_token_s: f64,
    /// Latest end of any finished request (server side), seconds (0 before
    /// one): a benchmark's makespan.
    pub last_end_s: f64,
    /// Measured requests whose TTFT, TPOT and E2E all met the targets given
    /// to [`LlmRecorder::with_targets`].
    pub attained: u64,
    targets: Option<[f64; 3]>,
    queued_at_horizon: u64,
    /// Load by minute of the day.
    pub timeline: Box<DayTimeline>,
    /// Latencies per class (several classes only).
    pub by_class: ByClass,
    /// Requests that waited for an outage's end (outages only).
    deferred: Option<DeferredArrivals>,
}

impl LlmRecorder {
    /// An empty recorder; `rtt_s` is added to TTFT and E2E.
    pub fn new(window: Window, rtt_s: f64) -> Self {
        LlmRecorder {
            window,
            rtt_s,
            rtt_dist: None,
            arrived: 0,
            completed_by_horizon: 0,
            in_flight_at_horizon: 0,
            rejected_context: 0,
            rejected_kv: 0,
            rejected_outage: 0,
            measured: 0,
            waited: 0,
            wait: LatencyHistogram::new(),
            ttft: LatencyHistogram::new(),
            tpot: LatencyHistogram::new(),
            e2e: LatencyHistogram::new(),
            output_tokens: 0,
            last_first_token_s: 0.0,
            last_end_s: 0.0,
            attained: 0,
            targets: None,
            queued_at_horizon: 0,
            timeline: Box::new(DayTimeline::new(window)),
            by_class: ByClass::default(),
            deferred: None,
        }
    }

    /// Count the latencies of requests released at the end of an outage
    /// (listed in `deferred`) from their original arrival.
    pub fn with_deferrals(mut self, deferred: DeferredArrivals) -> Self {
        self.deferred = Some(deferred);
        self
    }

    /// The arrival a request of `user` given to the servers at `t` was
    /// sent at: `t`, or its original arrival if it waited for an outage.
    #[inline]
    fn sent_at(&self, t: f64, user: u32) -> f64 {
        match &self.deferred {
            None => t,
            Some(d) => d
                .lock()
                .expect("the deferral map is never poisoned")
                .remove(&(user, t.to_bits()))
                .unwrap_or(t),
        }
    }

    /// Also keep latencies per class (see [`ByClass::new`]).
    pub fn with_classes(mut self, class_ends: Vec<u32>) -> Self {
        self.by_class = ByClass::new(class_ends);
        self
    }

    /// Count requests meeting TTFT <= a, TPOT <= b and E2E <= c (seconds;
    /// infinity for no bound).
    pub fn with_targets(mut self, ttft_s: f64, tpot_s: f64, e2e_s: f64) -> Self {
        self.targets = Some([ttft_s, tpot_s, e2e_s]);
        self
    }

    /// Draw each request's round trip from `dist` (seconds) with `rng`
    /// instead of adding a constant.
    pub fn with_rtt_distribution(
        mut self,
        dist: crate::core::dist::Dist,
        rng: crate::core::rng::SimRng,
    ) -> Self {
        self.rtt_dist = Some((dist, rng));
        self
    }

    /// The window.
    pub fn window(&self) -> Window {
        self.window
    }

    /// Measure up to `horizon_s` from now on: a fork of a run that ends
    /// there (a sizing probe's early look). Whatever was recorded so far
    /// ended before `horizon_s`, so it reads the same under either window.
    pub fn end_window_at(&mut self, horizon_s: f64) {
        self.window.horizon_s = horizon_s;
        self.timeline.window.horizon_s = horizon_s;
    }

    /// Network round trip added to TTFT and E2E, seconds.
    pub fn rtt_s(&self) -> f64 {
        self.rtt_s
    }

    /// Requests arriving before the horizon that had not started (were still
    /// queued) at the horizon.
    pub fn queued_at_horizon(&self) -> u64 {
        self.queued_at_horizon
    }

    /// Requests refused, all reasons.
    pub fn rejected(&self) -> u64 {
        self.rejected_context + self.rejected_kv + self.rejected_outage
    }

    /// A refused request of `user` arriving at `arrival_s`. Inside the
    /// window it counts as measured and never as attained (it has no latency
    /// to record).
    pub fn reject(&mut self, arrival_s: f64, reason: RejectReason, user: u32) {
        let arrival_s = self.sent_at(arrival_s, user);
        self.timeline.arrival(arrival_s);
        self.arrived += 1;
        if self.window.measures(arrival_s) {
            self.measured += 1;
            if let Some(c) = self.by_class.of(user) {
                c.measured += 1;
            }
        }
        match reason {
            RejectReason::ContextLimit => self.rejected_context += 1,
            RejectReason::KvBudget => self.rejected_kv += 1,
            RejectReason::Outage => self.rejected_outage += 1,
        }
    }

    /// A finished request: arrived, prefill started, first token, last token
    /// (server-side times, seconds) and its output tokens.
    #[inline]
    pub fn record(
        &mut self,
        arrival_s: f64,
        start_s: f64,
        first_token_s: f64,
        end_s: f64,
        output_tokens: u32,
        user: u32,
    ) {
        let arrival_s = self.sent_at(arrival_s, user);
        self.timeline.arrival(arrival_s);
        self.arrived += 1;
        self.last_first_token_s = self.last_first_token_s.max(first_token_s);
        self.last_end_s = self.last_end_s.max(end_s);
        if end_s <= self.window.horizon_s {
            self.completed_by_horizon += 1;
        } else {
            self.in_flight_at_horizon += 1;
            self.queued_at_horizon += (start_s > self.window.horizon_s) as u64;
        }
        if !self.window.measures(arrival_s) {
            return;
        }
        let wait = start_s - arrival_s;
        let rtt = match &mut self.rtt_dist {
            Some((d, rng)) => d.sample(rng),
            None => self.rtt_s,
        };
        let ttft = rtt + first_token_s - arrival_s;
        let e2e = rtt + end_s - arrival_s;
        self.measured += 1;
        self.waited += (wait > 0.0) as u64;
        self.output_tokens += output_tokens as u64;
        self.wait.record(wait);
        self.ttft.record(ttft);
        self.e2e.record(e2e);
        let tpot = if output_tokens > 1 {
            let v = (end_s - first_token_s) / (output_tokens - 1) as f64;
            self.tpot.record(v);
            v
        } else {
            0.0
        };
        let attained = match self.targets {
            Some([a, b, c]) => (ttft <= a && tpot <= b && e2e <= c) as u64,
            None => 0,
        };
        self.attained += attained;
        if let Some(c) = self.by_class.of(user) {
            c.measured += 1;
            c.waited += (wait > 0.0) as u64;
            c.attained += attained;
            c.wait.record(wait);
            c.ttft.record(ttft);
            c.e2e.record(e2e);
            if output_tokens > 1 {
                c.tpot.record(tpot);
            }
        }
    }
}
