//! Fitting a loaded [`Trace`] to the scenario's workload parameters: the
//! share of requests per clock hour and an hourly profile, the mean arrival
//! rate, lognormal token distributions (by median and p99), and, when the
//! trace has sessions, requests per session (geometric) and think time
//! between a session's requests (lognormal by p50 and p90). The result
//! ([`FitReport`]) prints as a summary ([`FitReport::describe`]) and as a
//! TOML snippet for a scenario ([`FitReport::to_scenario_snippet`]).
//!
//! Rules (also in `docs/traces.md`):
//!
//! - Percentiles are nearest-rank ([`crate::workload::trace::nearest_rank`]).
//! - A lognormal fitted by median `m` and p99 `q` has `mu = ln m`,
//!   `sigma = ln(q / m) / 2.3263` (the scenario's own parametrisation); by
//!   p50 and p90 `sigma = ln(p90 / p50) / 1.2816`.
//! - Hour of day comes from the trace's clock ([`crate::workload::trace::TraceClock`]).
//!   `hourly_share[h]` is the share of requests in clock hour `h` (the
//!   figure the trace READMEs quote). `hourly_profile[h]` is the request rate
//!   in hour `h` (requests / hours of that clock hour covered between the
//!   first and last arrival) scaled to mean 1; it is only given for traces
//!   covering at least 24 hours, so that every hour is observed.
//! - Think time is the gap from one request's arrival to the next arrival of
//!   the same session (it includes the first request's response time).
//!   Requests per session counts a session's requests within the trace; the
//!   geometric fit on {1, 2, ..} has success probability `p = 1 / mean`
//!   (maximum likelihood), predicting a share `p` of single-request sessions.
//! - Burstiness: the index of dispersion of arrival counts in windows of
//!   1 s, 10 s and 60 s ([`crate::workload::trace::dispersion_of_arrivals`]);
//!   unless every window is within three standard errors of 1 (a Poisson
//!   stream; the standard error of the index over `n` windows is
//!   `sqrt(2 / (n - 1))`), an MMPP and a gamma renewal process are fitted
//!   to it ([`crate::workload::bursts::fit_bursts`]) and the better one goes
//!   into the snippet.
//! - Prefix cache: with block hashes, the share of prompt tokens an
//!   unbounded cache would serve ([`Trace::unbounded_cache_hits`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::core::dist::Z_P99;
use crate::workload::arrivals::DAY_S;
use crate::workload::bursts::{fit_bursts, BurstFit, DISPERSION_WINDOWS_S};
use crate::workload::trace::{nearest_rank, CacheHits, Trace};

/// z-value of the 90th percentile of the standard normal distribution.
pub const Z_P90: f64 = 1.281_551_565_544_600_4;

/// A lognormal distribution `exp(mu + sigma * Z)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormalFit {
    /// Log of the median.
    pub mu: f64,
    /// Log-scale standard deviation.
    pub sigma: f64,
}

impl LogNormalFit {
    /// Through a median and the quantile at standard normal `z` (`None`
    /// unless `0 < median < quantile`, both finite).
    pub fn from_quantiles(median: f64, quantile: f64, z: f64) -> Option<Self> {
        (median > 0.0 && quantile > median && quantile.is_finite()).then(|| LogNormalFit {
            mu: median.ln(),
            sigma: (quantile / median).ln() / z,
        })
    }

    /// Median, `exp(mu)`.
    pub fn median(&self) -> f64 {
        self.mu.exp()
    }

    /// Mean, `exp(mu + sigma^2 / 2)`.
    pub fn mean(&self) -> f64 {
        (self.mu + self.sigma * self.sigma / 2.0).exp()
    }

    /// Quantile at standard normal `z`.
    pub fn quantile(&self, z: f64) -> f64 {
        (self.mu + self.sigma * z).exp()
    }
}

/// A token-count distribution of a trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenFit {
    /// Empirical mean.
    pub mean: f64,
    /// Median (nearest rank).
    pub median: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Lognormal through median and p99 (`None` if `p99 <= median` or the
    /// median is 0).
    pub lognormal: Option<LogNormalFit>,
}

impl TokenFit {
    fn new(mut values: Vec<f64>) -> TokenFit {
        values.sort_by(f64::total_cmp);
        let mean = if values.is_empty() {
            0.0
        } else {
            values.iter().sum::<f64>() / values.len() as f64
        };
        let median = nearest_rank(&values, 0.5).unwrap_or(0.0);
        let p99 = nearest_rank(&values, 0.99).unwrap_or(0.0);
        TokenFit {
            mean,
            median,
            p99,
            lognormal: LogNormalFit::from_quantiles(median, p99, Z_P99),
        }
    }

    /// The scenario's inline token table.
    fn toml(&self) -> String {
        match self.lognormal {
            Some(_) => format!(
                "{{ distribution = \"lognormal\", median = {}, p99 = {} }}",
                self.median, self.p99
            ),
            None => format!(
                "{{ distribution = \"fixed\", value = {} }}",
                self.median.round().max(1.0)
            ),
        }
    }

    fn describe(&self) -> String {
        let mut s = format!(
            "mean {:.1}, p50 {}, p99 {}",
            self.mean, self.median, self.p99
        );
        match self.lognormal {
            Some(l) => {
                let _ = write!(
                    s,
                    "; lognormal by p50/p99: sigma {:.3}, mean {:.1} ({:+.1} % vs the data)",
                    l.sigma,
                    l.mean(),
                    (l.mean() / self.mean - 1.0) * 100.0
                );
            }
            None => {
                s.push_str("; no lognormal fit (p99 not above the median): fixed at the median")
            }
        }
        s
    }
}

/// Session structure of a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionFit {
    /// Distinct sessions.
    pub sessions: usize,
    /// Requests that carry a session id.
    pub requests: usize,
    /// Mean requests per session.
    pub requests_per_session_mean: f64,
    /// Share of sessions with one request.
    pub single_request_share: f64,
    /// Most requests in one session.
    pub max_requests: usize,
    /// Geometric fit on {1, 2, ..}: success probability `1 / mean`.
    pub geometric_p: f64,
    /// Number of think-time gaps (requests minus sessions).
    pub think_gaps: usize,
    /// Median think time, seconds (`None` without gaps).
    pub think_p50_s: Option<f64>,
    /// 90th percentile think time, seconds.
    pub think_p90_s: Option<f64>,
    /// Mean think time, seconds.
    pub think_mean_s: Option<f64>,
    /// Lognormal through p50 and p90 (`None` if `p50 = 0` or `p90 <= p50`).
    pub think_lognormal: Option<LogNormalFit>,
}

/// What a trace says about the workload.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    /// The trace file.
    pub source: PathBuf,
    /// Its format name.
    pub format: String,
    /// Number of requests.
    pub requests: usize,
    /// Last minus first arrival, seconds.
    pub duration_s: f64,
    /// Mean arrival rate, requests per second (`None` for a zero duration).
    pub arrival_rate_per_s: Option<f64>,
    /// Share of requests in each clock hour (hour 0 first); `None` without a
    /// clock.
    pub hourly_share: Option<[f64; 24]>,
    /// Request rate per clock hour, mean 1; `None` without a clock or for a
    /// trace shorter than 24 hours.
    pub hourly_profile: Option<[f64; 24]>,
    /// Prompt tokens.
    pub input_tokens: TokenFit,
    /// Generated tokens.
    pub output_tokens: TokenFit,
    /// Session structure, when requests carry session ids.
    pub sessions: Option<SessionFit>,
    /// Index of dispersion of arrival counts at each window of
    /// [`DISPERSION_WINDOWS_S`] (`None` for fewer than two whole windows),
    /// with the number of whole windows.
    pub dispersion: Vec<(f64, Option<f64>, usize)>,
    /// Whether every window's index is within three standard errors of 1.
    pub poisson_like: bool,
    /// MMPP and gamma renewal fits to the dispersion (`None` when the
    /// trace is Poisson-like or too short).
    pub bursts: Option<BurstFit>,
    /// What an unbounded prefix cache would serve (traces with block
    /// hashes), and the block size.
    pub cache_hits: Option<(CacheHits, u32)>,
}

/// Fit a trace (see the module doc for the rules).
pub fn fit_trace(trace: &Trace) -> FitReport {
    let reqs = &trace.requests;
    let n = reqs.len();
    let first = reqs.first().map_or(0.0, |r| r.arrival_s);
    let last = reqs.last().map_or(0.0, |r| r.arrival_s);
    let duration_s = last - first;

    let (hourly_share, hourly_profile) = match (&trace.clock, n) {
        (Some(clock), n) if n > 0 => {
            let mut counts = [0u64; 24];
            for r in reqs {
                counts[clock.hour_of_day(r.arrival_s)] += 1;
            }
            let share = counts.map(|c| c as f64 / n as f64);
            let t0 = clock.clock_s(first);
            let t1 = clock.clock_s(last);
            let profile = (t1 - t0 >= DAY_S).then(|| {
                let exposure = hour_exposure(t0, t1);
                let rate: Vec<f64> = (0..24).map(|h| counts[h] as f64 / exposure[h]).collect();
                let mean = rate.iter().sum::<f64>() / 24.0;
                let mut p = [0.0; 24];
                for h in 0..24 {
                    p[h] = if mean > 0.0 { rate[h] / mean } else { 1.0 };
                }
                p
            });
            (Some(share), profile)
        }
        _ => (None, None),
    };

    let rate = (duration_s > 0.0).then(|| n as f64 / duration_s);
    let (dispersion, poisson_like, bursts) = burstiness(trace, duration_s, rate);
    FitReport {
        source: trace.source.clone(),
        format: trace.format.clone(),
        requests: n,
        duration_s,
        arrival_rate_per_s: (duration_s > 0.0).then(|| n as f64 / duration_s),
        hourly_share,
        hourly_profile,
        input_tokens: TokenFit::new(reqs.iter().map(|r| f64::from(r.input_tokens)).collect()),
        output_tokens: TokenFit::new(reqs.iter().map(|r| f64::from(r.output_tokens)).collect()),
        sessions: fit_sessions(trace),
        poisson_like,
        bursts,
        dispersion,
        cache_hits: trace
            .unbounded_cache_hits()
            .zip(trace.blocks.as_ref().map(|b| b.block_tokens)),
    }
}

/// The index of dispersion at each window, whether all are within three
/// standard errors of 1, and the bursty fits when they are not.
type Burstiness = (Vec<(f64, Option<f64>, usize)>, bool, Option<BurstFit>);

fn burstiness(trace: &Trace, duration_s: f64, rate: Option<f64>) -> Burstiness {
    let dispersion: Vec<(f64, Option<f64>, usize)> = DISPERSION_WINDOWS_S
        .iter()
        .map(|&w| {
            let n = (duration_s / w).floor().max(0.0) as usize;
            (w, trace.dispersion_index(w), n)
        })
        .collect();
    let poisson_like = dispersion.iter().all(|(_, d, n)| match d {
        Some(d) => (d - 1.0).abs() <= 3.0 * (2.0 / (*n as f64 - 1.0).max(1.0)).sqrt(),
        None => true,
    });
    let known: Vec<(f64, f64)> = dispersion
        .iter()
        .filter_map(|(w, d, _)| d.map(|d| (*w, d)))
        .collect();
    let bursts = match rate {
        Some(r) if !poisson_like && !known.is_empty() => {
            let w: Vec<f64> = known.iter().map(|x| x.0).collect();
            let t: Vec<f64> = known.iter().map(|x| x.1).collect();
            fit_bursts(r, &w, &t)
        }
        _ => None,
    };
    (dispersion, poisson_like, bursts)
}

/// Seconds of each clock hour inside `[t0, t1]` (clock seconds, unwrapped).
fn hour_exposure(t0: f64, t1: f64) -> [f64; 24] {
    let span = (t1 - t0).max(0.0);
    let full_days = (span / DAY_S).floor();
    let mut e = [full_days * 3600.0; 24];
    let mut t = t0 + full_days * DAY_S;
    // The remainder is shorter than a day: at most 25 hour pieces.
    while t < t1 {
        let hour_start = (t / 3600.0).floor() * 3600.0;
        let end = (hour_start + 3600.0).min(t1);
        let h = ((hour_start / 3600.0).rem_euclid(24.0) as usize).min(23);
        e[h] += end - t;
        if end <= t {
            break;
        }
        t = end;
    }
    e
}

fn fit_sessions(trace: &Trace) -> Option<SessionFit> {
    // Arrivals of each session, in arrival order (requests are sorted).
    let mut order: Vec<u64> = Vec::new();
    let mut arrivals: HashMap<u64, Vec<f64>> = HashMap::new();
    for r in &trace.requests {
        if let Some(s) = r.session {
            arrivals
                .entry(s)
                .or_insert_with(|| {
                    order.push(s);
                    Vec::new()
                })
                .push(r.arrival_s);
        }
    }
    if order.is_empty() {
        return None;
    }
    let sessions = order.len();
    let mut requests = 0usize;
    let mut singles = 0usize;
    let mut max_requests = 0usize;
    let mut gaps = Vec::new();
    for s in &order {
        let a = &arrivals[s];
        requests += a.len();
        singles += usize::from(a.len() == 1);
        max_requests = max_requests.max(a.len());
        gaps.extend(a.windows(2).map(|w| w[1] - w[0]));
    }
    gaps.sort_by(f64::total_cmp);
    let mean = requests as f64 / sessions as f64;
    let p50 = nearest_rank(&gaps, 0.5);
    let p90 = nearest_rank(&gaps, 0.9);
    Some(SessionFit {
        sessions,
        requests,
        requests_per_session_mean: mean,
        single_request_share: singles as f64 / sessions as f64,
        max_requests,
        geometric_p: 1.0 / mean,
        think_gaps: gaps.len(),
        think_p50_s: p50,
        think_p90_s: p90,
        think_mean_s: (!gaps.is_empty()).then(|| gaps.iter().sum::<f64>() / gaps.len() as f64),
        think_lognormal: match (p50, p90) {
            (Some(a), Some(b)) => LogNormalFit::from_quantiles(a, b, Z_P90),
            _ => None,
        },
    })
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn duration_text(s: f64) -> String {
    if s >= 2.0 * DAY_S {
        format!("{:.2} days", s / DAY_S)
    } else if s >= 2.0 * 3600.0 {
        format!("{:.2} h", s / 3600.0)
    } else {
        format!("{:.1} min", s / 60.0)
    }
}

impl FitReport {
    /// Requests per day at the mean rate.
    pub fn requests_per_day(&self) -> Option<f64> {
        self.arrival_rate_per_s.map(|r| r * DAY_S)
    }

    /// The one-line session summary used in the snippet's comment.
    pub fn session_summary(&self) -> Option<String> {
        let s = self.sessions.as_ref()?;
        let mut t = format!(
            "mean {:.2} requests ({:.1} % single-request, geometric p = {:.3}, max {})",
            s.requests_per_session_mean,
            s.single_request_share * 100.0,
            s.geometric_p,
            s.max_requests
        );
        if let (Some(p50), Some(p90)) = (s.think_p50_s, s.think_p90_s) {
            let _ = write!(t, ", think p50 {p50:.0} s, p90 {p90:.0} s");
            if let Some(l) = s.think_lognormal {
                let _ = write!(t, " (lognormal mu {:.3}, sigma {:.3})", l.mu, l.sigma);
            }
        }
        Some(t)
    }

    /// Human-readable summary, several lines.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "trace: {} ({} format)",
            self.source.display(),
            self.format
        );
        let _ = write!(
            s,
            "requests: {} over {}",
            self.requests,
            duration_text(self.duration_s)
        );
        match self.arrival_rate_per_s {
            Some(r) => {
                let _ = writeln!(s, ": {r:.4} requests/s, {:.1} per day", r * DAY_S);
            }
            None => s.push('\n'),
        }
        let _ = writeln!(s, "input tokens: {}", self.input_tokens.describe());
        let _ = writeln!(s, "output tokens: {}", self.output_tokens.describe());
        match &self.hourly_share {
            Some(share) => {
                let _ = writeln!(s, "requests by clock hour (% of all):");
                for row in 0..4 {
                    let cells: Vec<String> = (row * 6..row * 6 + 6)
                        .map(|h| format!("{h:02}:00 {:5.2}", share[h] * 100.0))
                        .collect();
                    let _ = writeln!(s, "  {}", cells.join("   "));
                }
                if self.hourly_profile.is_none() {
                    let _ = writeln!(
                        s,
                        "  (the trace covers less than 24 hours: no hourly profile fitted)"
                    );
                }
            }
            None => {
                let _ = writeln!(
                    s,
                    "requests by clock hour: unknown (the trace has no clock; give start_hour_of_day)"
                );
            }
        }
        match &self.sessions {
            Some(f) => {
                let _ = writeln!(
                    s,
                    "sessions: {} ({} requests): mean {:.3} requests per session, {:.1} % single-request, max {}; geometric fit p = {:.4} predicts {:.1} % single-request",
                    f.sessions,
                    f.requests,
                    f.requests_per_session_mean,
                    f.single_request_share * 100.0,
                    f.max_requests,
                    f.geometric_p,
                    f.geometric_p * 100.0
                );
                match (f.think_p50_s, f.think_p90_s, f.think_mean_s) {
                    (Some(p50), Some(p90), Some(mean)) => {
                        let _ = write!(
                            s,
                            "think time (arrival to next arrival in a session, {} gaps): p50 {p50:.1} s, p90 {p90:.1} s, mean {mean:.1} s",
                            f.think_gaps
                        );
                        match f.think_lognormal {
                            Some(l) => {
                                let _ = writeln!(
                                    s,
                                    "; lognormal by p50/p90: mu {:.3}, sigma {:.3}",
                                    l.mu, l.sigma
                                );
                            }
                            None => {
                                s.push_str("; no lognormal fit (p50 is 0 or p90 not above it)\n")
                            }
                        }
                    }
                    _ => {
                        let _ = writeln!(s, "think time: no session has two requests");
                    }
                }
            }
            None => {
                let _ = writeln!(s, "sessions: none (no session column)");
            }
        }
        self.describe_burstiness(&mut s);
        match &self.cache_hits {
            Some((h, bt)) => {
                let _ = writeln!(
                    s,
                    "prefix cache (unbounded, {bt}-token blocks): {:.1} % of prompt tokens served from cache ({} of {}; {} requests with a hit)",
                    h.share() * 100.0,
                    h.hit_tokens,
                    h.prompt_tokens,
                    h.requests_with_hit
                );
            }
            None => {
                let _ = writeln!(s, "prefix cache: unknown (no block-hash column)");
            }
        }
        s
    }

    fn describe_burstiness(&self, s: &mut String) {
        let cells: Vec<String> = self
            .dispersion
            .iter()
            .map(|(w, d, n)| match d {
                Some(d) => format!("{w} s: {d:.2} ({n} windows)"),
                None => format!("{w} s: n/a ({n} windows)"),
            })
            .collect();
        let _ = writeln!(
            s,
            "index of dispersion of arrival counts: {}",
            cells.join(", ")
        );
        if self.poisson_like {
            let _ = writeln!(
                s,
                "  within three standard errors of 1 at every window: Poisson-like, no bursty process fitted"
            );
        }
        if let Some(b) = &self.bursts {
            b.describe(s);
        }
    }

    /// A TOML snippet for a scenario: `[users]` with the hourly `profile`
    /// (when fitted) and the sessions (`arrivals = "sessions"`,
    /// `session_requests_mean`, `think_time`, when the trace has a session
    /// column), and `[requests]` with lognormal token distributions. User
    /// count and load are comments: a trace does not say how many users
    /// sent it.
    pub fn to_scenario_snippet(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# Fitted by `sharesim fit-trace` from {} ({} format):",
            file_name(&self.source),
            self.format
        );
        let _ = write!(
            s,
            "# {} requests over {}",
            self.requests,
            duration_text(self.duration_s)
        );
        match self.requests_per_day() {
            Some(d) => {
                let _ = writeln!(s, " ({d:.1} requests per day in total).");
            }
            None => s.push_str(".\n"),
        }
        let _ = writeln!(
            s,
            "# Add `count` and `requests_per_day` to [users]: count * requests_per_day = total load."
        );
        if let Some(f) = &self.sessions {
            let _ = writeln!(
                s,
                "# The trace has {} sessions ({} requests with a session id).",
                f.sessions, f.requests
            );
        }
        s.push_str("\n[users]\n");
        match (&self.hourly_profile, &self.hourly_share) {
            (Some(p), _) => {
                s.push_str(
                    "# Request rate per local clock hour (00:00 first), mean 1, from the trace.\n",
                );
                let w: Vec<String> = p.iter().map(|w| format!("{w:.4}")).collect();
                let _ = writeln!(s, "profile = [{}]", w.join(", "));
            }
            (None, Some(_)) => {
                s.push_str("# No profile: the trace covers less than 24 hours (the scenario default is flat).\n");
            }
            (None, None) => {
                s.push_str(
                    "# No profile: the trace has no clock (the scenario default is flat).\n",
                );
            }
        }
        self.session_keys(&mut s);
        if let Some(b) = &self.bursts {
            let best = b.best();
            let d: Vec<String> = best.dispersion.iter().map(|x| format!("{x:.2}")).collect();
            let t: Vec<String> = self
                .dispersion
                .iter()
                .filter_map(|(_, x, _)| x.map(|x| format!("{x:.2}")))
                .collect();
            let _ = writeln!(
                s,
                "# Bursty arrivals: index of dispersion at 1 / 10 / 60 s windows {} in the trace, {} fitted\n# ({}, largest error {:.1} %; the other fit: {}).",
                t.join(" / "),
                d.join(" / "),
                best.process.name(),
                best.max_relative_error * 100.0,
                if best.process.name() == "mmpp" { b.gamma.process.toml() } else { b.mmpp.process.toml() }
            );
            let _ = writeln!(s, "bursts = {}", best.process.toml());
        }
        s.push_str("\n[requests]\n");
        let _ = writeln!(
            s,
            "# input: mean {:.1}; output: mean {:.1} (empirical); lognormal by median and p99.",
            self.input_tokens.mean, self.output_tokens.mean
        );
        let _ = writeln!(s, "input_tokens = {}", self.input_tokens.toml());
        let _ = writeln!(s, "output_tokens = {}", self.output_tokens.toml());
        s
    }

    /// The `[users]` keys of the trace's sessions (`arrivals = "sessions"`,
    /// `session_requests_mean`, `think_time`), with comments on what they
    /// are fitted from.
    fn session_keys(&self, s: &mut String) {
        let (Some(f), Some(summary)) = (&self.sessions, self.session_summary()) else {
            return;
        };
        let _ = writeln!(s, "# Sessions, from the trace's session column: {summary}.");
        s.push_str("arrivals = \"sessions\"\n");
        let _ = writeln!(
            s,
            "session_requests_mean = {:.3}",
            f.requests_per_session_mean.clamp(1.0, 10_000.0)
        );
        match (f.think_lognormal, f.think_p50_s, f.think_p90_s) {
            (Some(_), Some(p50), Some(p90)) => {
                s.push_str("# Think time: the trace's gap from a request's arrival to the next in its session,\n# which includes the first one's response time (the scenario adds that itself).\n");
                let _ = writeln!(
                    s,
                    "think_time = {{ distribution = \"lognormal\", median_s = {p50:.1}, p90_s = {p90:.1} }}"
                );
            }
            _ => s.push_str("# No think time fitted (no session has two requests, or p90 is not above p50):\n# the scenario default is lognormal with median 40 s and p90 300 s.\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposure_covers_every_second_once() {
        for (t0, t1) in [
            (0.0, 100.0),
            (43_200.0, 43_200.0 + 7.0 * DAY_S - 240.0),
            (3_599.5, 200_000.25),
        ] {
            let e = hour_exposure(t0, t1);
            assert!(
                (e.iter().sum::<f64>() - (t1 - t0)).abs() < 1e-6,
                "{t0} {t1}"
            );
        }
        let e = hour_exposure(12.0 * 3600.0, 13.5 * 3600.0);
        assert_eq!(e[12], 3600.0);
        assert_eq!(e[13], 1800.0);
    }

    #[test]
    fn lognormal_quantiles() {
        let l = LogNormalFit::from_quantiles(30.0, 200.0, Z_P90).unwrap();
        assert!((l.median() - 30.0).abs() < 1e-9);
        assert!((l.quantile(Z_P90) - 200.0).abs() < 1e-9);
        assert!(LogNormalFit::from_quantiles(0.0, 1.0, Z_P90).is_none());
        assert!(LogNormalFit::from_quantiles(2.0, 2.0, Z_P90).is_none());
    }
}
