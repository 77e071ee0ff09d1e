//! Probability distributions for service times (seconds) and request sizes
//! (tokens, audio seconds). A [`Dist`] is resolved and validated: it can be
//! sampled and knows its first two moments, which the analytic estimates
//! (Erlang-C, Pollaczek-Khinchine) and the duty-cycle conversion need.

use std::sync::Arc;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, StandardNormal};

/// z-value of the 99th percentile of the standard normal distribution.
pub const Z_P99: f64 = 2.326_347_874_040_841;
/// z-value of the 90th percentile of the standard normal distribution.
pub const Z_P90: f64 = 1.281_551_565_544_601;

/// A validated, sampleable distribution of a non-negative quantity.
#[derive(Debug, Clone)]
pub enum Dist {
    /// Exponential with the given mean.
    Exponential { mean: f64 },
    /// Always the same value.
    Deterministic { value: f64 },
    /// Lognormal: `exp(mu + sigma * Z)`.
    LogNormal { mu: f64, sigma: f64 },
    /// Gamma with shape `k` and scale `theta` (Erlang-k when `k` is whole).
    Gamma {
        shape: f64,
        scale: f64,
        sampler: rand_distr::Gamma<f64>,
    },
    /// Uniform resampling of observed values (bootstrap).
    Empirical { values: Arc<[f64]> },
}

impl Dist {
    /// Lognormal with the given mean and coefficient of variation (sd / mean).
    pub fn lognormal_mean_cv(mean: f64, cv: f64) -> Dist {
        let sigma2 = (1.0 + cv * cv).ln();
        Dist::LogNormal {
            mu: mean.ln() - sigma2 / 2.0,
            sigma: sigma2.sqrt(),
        }
    }

    /// Lognormal with the given median and 99th percentile (`p99 > median`).
    pub fn lognormal_median_p99(median: f64, p99: f64) -> Dist {
        Dist::LogNormal {
            mu: median.ln(),
            sigma: (p99 / median).ln() / Z_P99,
        }
    }

    /// Lognormal with the given median and the quantile whose standard
    /// normal z-value is `z` (e.g. [`Z_P90`]).
    pub fn lognormal_median_quantile(median: f64, quantile: f64, z: f64) -> Dist {
        Dist::LogNormal {
            mu: median.ln(),
            sigma: (quantile / median).ln() / z,
        }
    }

    /// Gamma with the given mean and shape (shape 1 is exponential, shape k
    /// whole is Erlang-k, squared CV is 1/shape).
    pub fn gamma_mean_shape(mean: f64, shape: f64) -> Dist {
        let scale = mean / shape;
        Dist::Gamma {
            shape,
            scale,
            sampler: rand_distr::Gamma::new(shape, scale).expect("validated shape and scale"),
        }
    }

    /// Draw one value.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Dist::Deterministic { value } => *value,
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::Gamma { sampler, .. } => sampler.sample(rng),
            Dist::Empirical { values } => values[rng.random_range(0..values.len())],
        }
    }

    /// Expected value.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Exponential { mean } => *mean,
            Dist::Deterministic { value } => *value,
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Gamma { shape, scale, .. } => shape * scale,
            Dist::Empirical { values } => values.iter().sum::<f64>() / values.len() as f64,
        }
    }

    /// `E[X^2]`, needed by Pollaczek-Khinchine.
    pub fn second_moment(&self) -> f64 {
        match self {
            Dist::Exponential { mean } => 2.0 * mean * mean,
            Dist::Deterministic { value } => value * value,
            Dist::LogNormal { mu, sigma } => (2.0 * mu + 2.0 * sigma * sigma).exp(),
            Dist::Gamma { shape, scale, .. } => shape * (shape + 1.0) * scale * scale,
            Dist::Empirical { values } => {
                values.iter().map(|v| v * v).sum::<f64>() / values.len() as f64
            }
        }
    }

    /// Squared coefficient of variation, `Var[X] / E[X]^2`.
    pub fn scv(&self) -> f64 {
        let m = self.mean();
        if m == 0.0 {
            return 0.0;
        }
        self.second_moment() / (m * m) - 1.0
    }

    /// Short human-readable description, e.g. `lognormal(mean=1, scv=4)`.
    pub fn describe(&self) -> String {
        let name = match self {
            Dist::Exponential { .. } => "exponential",
            Dist::Deterministic { .. } => "deterministic",
            Dist::LogNormal { .. } => "lognormal",
            Dist::Gamma { .. } => "gamma",
            Dist::Empirical { .. } => "empirical",
        };
        format!("{name}(mean={:.4}, scv={:.3})", self.mean(), self.scv())
    }
}

/// Draw a whole token count (at least 1, at most `u32::MAX`) from a token
/// distribution, rounded half away from zero.
#[inline]
pub fn draw_tokens<R: rand::Rng + ?Sized>(d: &Dist, rng: &mut R) -> u32 {
    crate::core::units::round_to_u64(d.sample(rng)).clamp(1, u32::MAX as u64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng::{stream_rng, StreamKind};

    fn sample_moments(d: &Dist, n: usize) -> (f64, f64) {
        let mut rng = stream_rng(1, 0, StreamKind::Arrivals, 0);
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let x = d.sample(&mut rng);
            s += x;
            s2 += x * x;
        }
        (s / n as f64, s2 / n as f64)
    }

    #[test]
    fn moments_match_sampling() {
        let n = 400_000;
        for d in [
            Dist::Exponential { mean: 2.0 },
            Dist::lognormal_mean_cv(1.0, 0.5),
            Dist::gamma_mean_shape(3.0, 4.0),
            Dist::Empirical {
                values: vec![1.0, 2.0, 6.0].into(),
            },
        ] {
            let (m, m2) = sample_moments(&d, n);
            let var = d.second_moment() - d.mean().powi(2);
            // 5 standard errors of the sample mean.
            let tol = 5.0 * (var / n as f64).sqrt();
            assert!(
                (m - d.mean()).abs() < tol,
                "{}: {m} vs {}",
                d.describe(),
                d.mean()
            );
            assert!(m2 > 0.0);
        }
    }

    #[test]
    fn lognormal_parametrisations() {
        let d = Dist::lognormal_median_p99(129.0, 601.0);
        if let Dist::LogNormal { mu, sigma } = d {
            assert!((mu.exp() - 129.0).abs() < 1e-9);
            assert!(((mu + Z_P99 * sigma).exp() - 601.0).abs() < 1e-6);
        }
        let d = Dist::lognormal_mean_cv(2.0, 2.0);
        assert!((d.mean() - 2.0).abs() < 1e-12);
        assert!((d.scv() - 4.0).abs() < 1e-9);
    }
}
