//! Streaming statistics: latency histograms whose memory does not grow with
//! the number of requests, and confidence intervals across replications.
//!
//! Percentiles come from an HDR histogram (`hdrhistogram` crate) at 3
//! significant digits with 1 microsecond resolution: a reported percentile is
//! the midpoint of its bucket, within 0.05 % (relative) of an exact order
//! statistic of the recorded values, or 0.5 microseconds near zero. Means are
//! exact (summed in f64 beside the histogram).

use hdrhistogram::Histogram;

/// Resolution of recorded latencies: 1 microsecond.
const TICKS_PER_S: f64 = 1e6;

/// A latency distribution in seconds, fixed memory (~100-200 KB).
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    hist: Histogram<u64>,
    sum_s: f64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram covering 1 microsecond to ~11.6 days, auto-resizing beyond.
    pub fn new() -> Self {
        let mut hist = Histogram::new_with_bounds(1, 1_000_000_000_000, 3).expect("valid bounds");
        hist.auto(true);
        LatencyHistogram { hist, sum_s: 0.0 }
    }

    /// Record one value in seconds (negative values are recorded as 0).
    #[inline]
    pub fn record(&mut self, seconds: f64) {
        let ticks = crate::core::units::round_to_u64(seconds.max(0.0) * TICKS_PER_S);
        self.hist.saturating_record(ticks);
        self.sum_s += seconds.max(0.0);
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Exact mean in seconds, `None` when empty.
    pub fn mean_s(&self) -> Option<f64> {
        (self.count() > 0).then(|| self.sum_s / self.count() as f64)
    }

    /// Value at quantile `q` in (0, 1], seconds; `None` when empty.
    pub fn quantile_s(&self, q: f64) -> Option<f64> {
        if self.count() == 0 {
            return None;
        }
        let v = self.hist.value_at_quantile(q);
        let mid = if v == 0 {
            0
        } else {
            self.hist.median_equivalent(v)
        };
        Some(mid as f64 / TICKS_PER_S)
    }

    /// Share of recorded values strictly greater than `t_s` seconds (at the
    /// histogram's resolution).
    pub fn share_above(&self, t_s: f64) -> Option<f64> {
        if self.count() == 0 {
            return None;
        }
        let ticks = (t_s * TICKS_PER_S).round() as u64;
        let at_or_below = self.hist.count_between(0, ticks);
        Some(1.0 - at_or_below as f64 / self.count() as f64)
    }

    /// Add another histogram's values.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        self.hist
            .add(&other.hist)
            .expect("auto-resizing histograms merge");
        self.sum_s += other.sum_s;
    }
}

/// 97.5 % quantile of Student's t with `df` degrees of freedom (two-sided 95 %).
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    student_t(df, &TABLE, 1.959_963_984_540_054)
}

/// 99.5 % quantile of Student's t with `df` degrees of freedom (two-sided
/// 99 %): the interval sizing's early looks compare (see `sizing`).
pub fn t_995(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355, 3.250, 3.169, 3.106, 3.055, 3.012,
        2.977, 2.947, 2.921, 2.898, 2.878, 2.861, 2.845, 2.831, 2.819, 2.807, 2.797, 2.787, 2.779,
        2.771, 2.763, 2.756, 2.750,
    ];
    student_t(df, &TABLE, 2.575_829_303_548_901)
}

/// A quantile of Student's t: tabulated for 1 to 30 degrees of freedom,
/// beyond that the Cornish-Fisher expansion around the normal quantile `z`.
fn student_t(df: usize, table: &[f64; 30], z: f64) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => table[df - 1],
        _ => {
            let n = df as f64;
            z + (z.powi(3) + z) / (4.0 * n)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * n * n)
        }
    }
}

/// Mean and 95 % confidence half-width of independent replications' values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Mean across replications.
    pub mean: f64,
    /// Half-width of the 95 % confidence interval (Student's t); infinite
    /// with one replication, NaN-free.
    pub ci95: f64,
    /// Standard error of the mean (0 with one replication).
    pub std_err: f64,
    /// Number of replications with a value.
    pub n: usize,
}

impl Estimate {
    /// Estimate from the values present (`None` entries, e.g. a percentile of
    /// a replication that completed nothing, are skipped). `None` when no value.
    pub fn from_values(values: impl IntoIterator<Item = Option<f64>>) -> Option<Estimate> {
        let v: Vec<f64> = values.into_iter().flatten().collect();
        if v.is_empty() {
            return None;
        }
        let n = v.len();
        let mean = v.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Some(Estimate {
                mean,
                ci95: f64::INFINITY,
                std_err: 0.0,
                n,
            });
        }
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let std_err = (var / n as f64).sqrt();
        Some(Estimate {
            mean,
            ci95: t_975(n - 1) * std_err,
            std_err,
            n,
        })
    }

    /// Upper end of the 95 % confidence interval.
    pub fn upper(&self) -> f64 {
        self.mean + self.ci95
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_within_stated_error() {
        let mut h = LatencyHistogram::new();
        for i in 1..=100_000u64 {
            h.record(i as f64 * 1e-3);
        }
        let p99 = h.quantile_s(0.99).unwrap();
        assert!((p99 - 99.0).abs() / 99.0 < 5e-4 + 1e-5, "{p99}");
        assert!((h.mean_s().unwrap() - 50.0005).abs() < 1e-6);
        let above = h.share_above(90.0).unwrap();
        assert!((above - 0.1).abs() < 1e-3, "{above}");
    }

    #[test]
    fn t_quantiles() {
        assert!((t_975(9) - 2.262).abs() < 1e-9);
        assert!((t_995(2) - 9.925).abs() < 1e-9);
        // The expansion beyond the table: t(0.995, 40) = 2.7045, t(0.995, 100) = 2.6259.
        assert!((t_995(40) - 2.7045).abs() < 1e-3);
        assert!((t_995(100) - 2.6259).abs() < 1e-3);
        assert!((t_975(60) - 2.0003).abs() < 1e-3);
        assert!((t_975(10_000) - 1.96).abs() < 1e-3);
    }

    #[test]
    fn estimate_skips_missing() {
        let e = Estimate::from_values([Some(1.0), None, Some(3.0)]).unwrap();
        assert_eq!(e.n, 2);
        assert_eq!(e.mean, 2.0);
        assert!(Estimate::from_values([None, None]).is_none());
    }
}
