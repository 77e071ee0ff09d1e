//! Bursty open-loop arrivals ([`Bursts`]) and fitting them to a trace's
//! index of dispersion ([`fit_bursts`]).
//!
//! The open-loop stream's rate is the diurnal rate of its user groups
//! ([`crate::workload::arrivals`]); a bursty process changes how arrivals
//! cluster around that rate without changing its mean:
//!
//! - **MMPP** (two-state Markov-modulated Poisson process): the rate is
//!   multiplied by `m1` or `m2`; the multiplier holds for an exponential
//!   sojourn of mean `s1` or `s2` seconds (real time), then switches. The
//!   multipliers are scaled so that their time-weighted mean
//!   `(s1 m1 + s2 m2) / (s1 + s2)` is 1. With `r = 1/s1 + 1/s2` and `V`
//!   the variance of the multiplier, the index of dispersion of the counts
//!   in a window of `T` seconds at a steady rate `lambda` is
//!   `1 + (2 lambda V / r) (1 - (1 - exp(-r T)) / (r T))`.
//! - **Gamma renewal**: the gaps between arrivals, measured in expected
//!   arrivals of the diurnal rate (operational time), are gamma with mean
//!   1 and coefficient of variation `cv`; the index of dispersion tends to
//!   `cv^2` over windows of many gaps.
//!
//! Fitting ([`fit_bursts`]) matches the index of dispersion of arrival
//! counts at the windows of [`DISPERSION_WINDOWS_S`]: the MMPP by a search
//! over `r` with the best `2 lambda V / r` for each (least largest
//! relative error), then the state shares set so that the burst state
//! takes half the largest share the variance allows (`pi1 = 1 / (2 (1 +
//! V))`, which keeps the quiet state's rate above 0); the gamma renewal by
//! a search over `cv`, each candidate's dispersion measured on a fixed
//! simulated stream.

use std::fmt::Write as _;

use rand::SeedableRng;
use rand_distr::{Distribution, Gamma};

use crate::core::rng::SimRng;
use crate::workload::trace::dispersion_of_arrivals;

/// Windows at which dispersion is reported and fitted, seconds.
pub const DISPERSION_WINDOWS_S: [f64; 3] = [1.0, 10.0, 60.0];

/// How open-loop arrivals cluster around their (diurnal) rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bursts {
    /// Independent arrivals (the default).
    Poisson,
    /// Two-state Markov-modulated Poisson process.
    Mmpp {
        /// Rate multipliers of the two states (time-weighted mean 1).
        multipliers: [f64; 2],
        /// Mean sojourn in each state, seconds.
        mean_sojourn_s: [f64; 2],
    },
    /// Gamma renewal process in operational time.
    Gamma {
        /// Coefficient of variation of the gaps.
        cv: f64,
    },
}

impl Bursts {
    /// An MMPP from multipliers (scaled here to time-weighted mean 1) and
    /// mean sojourns; `None` unless the sojourns are positive and finite and
    /// the multipliers non-negative, finite and not both 0.
    pub fn mmpp(multipliers: [f64; 2], mean_sojourn_s: [f64; 2]) -> Option<Bursts> {
        let ok_s = mean_sojourn_s.iter().all(|s| s.is_finite() && *s > 0.0);
        let ok_m = multipliers.iter().all(|m| m.is_finite() && *m >= 0.0);
        if !(ok_s && ok_m) {
            return None;
        }
        let [s1, s2] = mean_sojourn_s;
        let mean = (s1 * multipliers[0] + s2 * multipliers[1]) / (s1 + s2);
        (mean > 0.0).then(|| Bursts::Mmpp {
            multipliers: multipliers.map(|m| m / mean),
            mean_sojourn_s,
        })
    }

    /// `poisson`, `mmpp` or `gamma`.
    pub fn name(&self) -> &'static str {
        match self {
            Bursts::Poisson => "poisson",
            Bursts::Mmpp { .. } => "mmpp",
            Bursts::Gamma { .. } => "gamma",
        }
    }

    /// Share of time in the first state (MMPP).
    pub fn first_state_share(&self) -> f64 {
        match self {
            Bursts::Mmpp { mean_sojourn_s, .. } => {
                mean_sojourn_s[0] / (mean_sojourn_s[0] + mean_sojourn_s[1])
            }
            _ => 1.0,
        }
    }

    /// Index of dispersion of counts in windows of `window_s` at a steady
    /// rate `rate_per_s`: exact for Poisson (1) and the MMPP (module doc);
    /// for the gamma renewal, measured on a fixed simulated stream
    /// ([`gamma_dispersion`]).
    pub fn dispersion_index(&self, rate_per_s: f64, window_s: f64) -> f64 {
        match *self {
            Bursts::Poisson => 1.0,
            Bursts::Mmpp {
                multipliers,
                mean_sojourn_s,
            } => {
                let p1 = self.first_state_share();
                let v = p1 * (1.0 - p1) * (multipliers[0] - multipliers[1]).powi(2);
                let r = 1.0 / mean_sojourn_s[0] + 1.0 / mean_sojourn_s[1];
                1.0 + 2.0 * rate_per_s * v / r * shape_g(r * window_s)
            }
            Bursts::Gamma { cv } => gamma_dispersion(cv, rate_per_s, &[window_s])[0],
        }
    }

    /// The scenario's inline table (`[users] bursts = ...`).
    pub fn toml(&self) -> String {
        match self {
            Bursts::Poisson => "{ process = \"poisson\" }".into(),
            Bursts::Mmpp {
                multipliers,
                mean_sojourn_s,
            } => format!(
                "{{ process = \"mmpp\", rate_multipliers = [{:.4}, {:.4}], mean_sojourn_s = [{:.3}, {:.3}] }}",
                multipliers[0], multipliers[1], mean_sojourn_s[0], mean_sojourn_s[1]
            ),
            Bursts::Gamma { cv } => format!("{{ process = \"gamma\", cv = {cv:.4} }}"),
        }
    }
}

/// `1 - (1 - exp(-x)) / x`, the MMPP dispersion's window shape (0 at 0,
/// 1 at infinity).
fn shape_g(x: f64) -> f64 {
    if x < 1e-6 {
        x / 2.0
    } else {
        1.0 - (1.0 - (-x).exp()) / x
    }
}

/// Windows of the largest size in the simulated gamma stream.
const GAMMA_SIM_WINDOWS: f64 = 4000.0;

/// Index of dispersion of a gamma renewal stream (gaps of mean
/// `1 / rate_per_s`, coefficient of variation `cv`) at each window, from
/// one fixed simulated stream of `4000` of the largest windows (the same
/// stream for every call: seed 0x0067_616d_6d61).
pub fn gamma_dispersion(cv: f64, rate_per_s: f64, windows_s: &[f64]) -> Vec<f64> {
    let longest = windows_s.iter().cloned().fold(0.0, f64::max);
    let horizon = longest * GAMMA_SIM_WINDOWS;
    let shape = 1.0 / (cv * cv);
    let Ok(g) = Gamma::new(shape, 1.0 / (shape * rate_per_s)) else {
        return vec![f64::NAN; windows_s.len()];
    };
    let mut rng = SimRng::seed_from_u64(0x0067_616d_6d61);
    let mut t = 0.0;
    let mut arrivals = Vec::new();
    while t < horizon && arrivals.len() < 20_000_000 {
        t += g.sample(&mut rng);
        arrivals.push(t);
    }
    windows_s
        .iter()
        .map(|&w| dispersion_of_arrivals(&arrivals, w).unwrap_or(f64::NAN))
        .collect()
}

/// A fitted bursty process and its dispersion at each window.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstCandidate {
    /// The process.
    pub process: Bursts,
    /// Its index of dispersion at each of [`DISPERSION_WINDOWS_S`].
    pub dispersion: Vec<f64>,
    /// Largest relative error against the trace's, over the windows.
    pub max_relative_error: f64,
}

/// What [`fit_bursts`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstFit {
    /// The MMPP fit.
    pub mmpp: BurstCandidate,
    /// The gamma renewal fit.
    pub gamma: BurstCandidate,
}

impl BurstFit {
    /// The candidate with the smaller largest relative error.
    pub fn best(&self) -> &BurstCandidate {
        if self.gamma.max_relative_error < self.mmpp.max_relative_error {
            &self.gamma
        } else {
            &self.mmpp
        }
    }

    /// Lines describing both fits.
    pub fn describe(&self, s: &mut String) {
        for (what, c) in [("MMPP", &self.mmpp), ("gamma renewal", &self.gamma)] {
            let d: Vec<String> = c.dispersion.iter().map(|x| format!("{x:.2}")).collect();
            let _ = writeln!(
                s,
                "  fitted {what}: {} -> dispersion {} (largest error {:.1} %)",
                c.process.toml(),
                d.join(" / "),
                c.max_relative_error * 100.0
            );
        }
    }
}

fn max_rel_error(got: &[f64], target: &[f64]) -> f64 {
    got.iter()
        .zip(target)
        .map(|(g, t)| ((g - t) / t).abs())
        .fold(
            0.0,
            |a: f64, e| if e.is_nan() { f64::INFINITY } else { a.max(e) },
        )
}

/// Fit an MMPP and a gamma renewal process at a steady `rate_per_s` to the
/// index of dispersion `target[i]` at window `windows_s[i]` (module doc).
/// `None` unless the rate is positive and every target is finite and at
/// least 1 (a stream less variable than Poisson is not bursty).
pub fn fit_bursts(rate_per_s: f64, windows_s: &[f64], target: &[f64]) -> Option<BurstFit> {
    if rate_per_s.is_nan()
        || rate_per_s <= 0.0
        || windows_s.len() != target.len()
        || target.is_empty()
        || target.iter().any(|t| !t.is_finite() || *t < 1.0)
    {
        return None;
    }
    Some(BurstFit {
        mmpp: fit_mmpp(rate_per_s, windows_s, target),
        gamma: fit_gamma(rate_per_s, windows_s, target),
    })
}

fn fit_mmpp(rate: f64, windows: &[f64], target: &[f64]) -> BurstCandidate {
    let err = |r: f64, a: f64| {
        let got: Vec<f64> = windows.iter().map(|w| 1.0 + a * shape_g(r * w)).collect();
        max_rel_error(&got, target)
    };
    // For each switching rate, the best amplitude by ternary search on its
    // logarithm (the largest relative error is unimodal in it).
    let best_a = |r: f64| {
        let top = target.iter().cloned().fold(1.0, f64::max);
        let (mut lo, mut hi) = ((1e-6f64).ln(), (top * 1e4 + 1.0).ln());
        for _ in 0..100 {
            let m1 = lo + (hi - lo) / 3.0;
            let m2 = hi - (hi - lo) / 3.0;
            if err(r, m1.exp()) <= err(r, m2.exp()) {
                hi = m2;
            } else {
                lo = m1;
            }
        }
        (0.5 * (lo + hi)).exp()
    };
    let shortest = windows.iter().cloned().fold(f64::INFINITY, f64::min);
    let longest = windows.iter().cloned().fold(0.0, f64::max);
    let (r_lo, r_hi) = ((0.01 / longest).ln(), (100.0 / shortest).ln());
    let mut best = (f64::INFINITY, 1.0, 0.0);
    for i in 0..=2000 {
        let r = (r_lo + (r_hi - r_lo) * i as f64 / 2000.0).exp();
        let a = best_a(r);
        let e = err(r, a);
        if e < best.0 {
            best = (e, r, a);
        }
    }
    let (_, r, a) = best;
    let v = a * r / (2.0 * rate);
    let p1 = 0.5 / (1.0 + v);
    let p2 = 1.0 - p1;
    let m1 = 1.0 + (v * p2 / p1).sqrt();
    let m2 = 1.0 - (v * p1 / p2).sqrt();
    let process =
        Bursts::mmpp([m1, m2], [1.0 / (r * p2), 1.0 / (r * p1)]).unwrap_or(Bursts::Poisson);
    let dispersion: Vec<f64> = windows
        .iter()
        .map(|w| process.dispersion_index(rate, *w))
        .collect();
    BurstCandidate {
        max_relative_error: max_rel_error(&dispersion, target),
        process,
        dispersion,
    }
}

fn fit_gamma(rate: f64, windows: &[f64], target: &[f64]) -> BurstCandidate {
    let lo = target
        .iter()
        .cloned()
        .fold(f64::INFINITY, f64::min)
        .max(1.0);
    let hi = target.iter().cloned().fold(1.0, f64::max);
    // Candidate cv^2 from the smallest to the largest target (the
    // long-window limit of the dispersion is cv^2), geometric steps.
    let steps = 24;
    let mut best: Option<BurstCandidate> = None;
    for i in 0..=steps {
        let cv2 = lo * (hi / lo).powf(i as f64 / steps as f64);
        let cv = cv2.sqrt().max(1e-3);
        let dispersion = gamma_dispersion(cv, rate, windows);
        let e = max_rel_error(&dispersion, target);
        if best.as_ref().is_none_or(|b| e < b.max_relative_error) {
            best = Some(BurstCandidate {
                process: Bursts::Gamma { cv },
                dispersion,
                max_relative_error: e,
            });
        }
    }
    best.expect("at least one candidate")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmpp_multipliers_have_mean_one_and_dispersion_grows_with_the_window() {
        let b = Bursts::mmpp([4.0, 1.0], [5.0, 20.0]).unwrap();
        let Bursts::Mmpp { multipliers, .. } = b else {
            panic!()
        };
        let p1 = b.first_state_share();
        assert!((p1 * multipliers[0] + (1.0 - p1) * multipliers[1] - 1.0).abs() < 1e-12);
        let d: Vec<f64> = [0.1, 1.0, 10.0, 1000.0]
            .iter()
            .map(|w| b.dispersion_index(2.0, *w))
            .collect();
        assert!(d.windows(2).all(|w| w[1] > w[0]), "{d:?}");
        assert!(d[0] > 1.0);
    }
}
