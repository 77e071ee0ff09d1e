//! Resolved service levels: the latency metrics a target can bound and the
//! targets themselves (percentile bounds, a wait tail, an attainment).

/// A latency a service level can bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LatencyMetric {
    /// Time queued before service starts.
    Wait,
    /// Time from arrival to the end of service (generic scenarios).
    Response,
    /// Time to first token (LLM scenarios).
    Ttft,
    /// Time per output token after the first (LLM scenarios).
    Tpot,
    /// End-to-end latency (LLM scenarios).
    E2e,
}

impl LatencyMetric {
    /// Name used in keys and columns.
    pub fn name(&self) -> &'static str {
        match self {
            LatencyMetric::Wait => "wait",
            LatencyMetric::Response => "response",
            LatencyMetric::Ttft => "ttft",
            LatencyMetric::Tpot => "tpot",
            LatencyMetric::E2e => "e2e",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "wait" => Some(LatencyMetric::Wait),
            "response" => Some(LatencyMetric::Response),
            "ttft" => Some(LatencyMetric::Ttft),
            "tpot" => Some(LatencyMetric::Tpot),
            "e2e" => Some(LatencyMetric::E2e),
            _ => None,
        }
    }
}

/// "The `percentile` of `metric` must not exceed `max_s`".
#[derive(Debug, Clone, PartialEq)]
pub struct PercentileTarget {
    /// What is bounded.
    pub metric: LatencyMetric,
    /// Percentile in (0, 100).
    pub percentile: f64,
    /// Bound, seconds.
    pub max_s: f64,
}

impl PercentileTarget {
    /// Column name of the bounded percentile, e.g. `wait_p99_s`, `response_p999_s`.
    pub fn label(&self) -> String {
        format!(
            "{}_{}_s",
            self.metric.name(),
            crate::core::units::percentile_label(self.percentile)
        )
    }
}

/// "At most `max_share` of requests wait longer than `above_s`".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitTailTarget {
    /// Wait threshold, seconds (0: any wait).
    pub above_s: f64,
    /// Largest share of requests allowed above it.
    pub max_share: f64,
}

/// DistServe-style: at least `share` of requests meet every bound at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttainmentTarget {
    /// Required share of requests, in (0, 1].
    pub share: f64,
    /// TTFT bound, seconds (infinite: none).
    pub ttft_s: f64,
    /// TPOT bound, seconds (infinite: none).
    pub tpot_s: f64,
    /// E2E bound, seconds (infinite: none).
    pub e2e_s: f64,
}

/// All targets of a scenario (possibly none: then nothing is judged). Every
/// target must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceLevel {
    /// Percentile bounds.
    pub targets: Vec<PercentileTarget>,
    /// A bound on the share of requests waiting longer than a threshold.
    pub wait_tail: Option<WaitTailTarget>,
    /// An attainment target (LLM scenarios).
    pub attainment: Option<AttainmentTarget>,
}

impl ServiceLevel {
    /// True when nothing is bounded.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty() && self.wait_tail.is_none() && self.attainment.is_none()
    }

    /// One line per target, for printing.
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .targets
            .iter()
            .map(|t| format!("{} <= {} s", t.label(), t.max_s))
            .collect();
        if let Some(w) = self.wait_tail {
            out.push(format!("P(wait > {} s) <= {}", w.above_s, w.max_share));
        }
        if let Some(a) = self.attainment {
            let mut bounds = Vec::new();
            for (n, v) in [("TTFT", a.ttft_s), ("TPOT", a.tpot_s), ("E2E", a.e2e_s)] {
                if v.is_finite() {
                    bounds.push(format!("{n} <= {v} s"));
                }
            }
            out.push(format!(
                "at least {} of requests meet {}",
                a.share,
                bounds.join(" and ")
            ));
        }
        out
    }
}
