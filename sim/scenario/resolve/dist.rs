//! Distributions of seconds (`service`, think times, agent gaps, network
//! round trips): the `distribution` name parsed into a [`DistName`], the
//! keys it takes checked, and the moments required finite.

use std::path::Path;
use std::sync::Arc;

use crate::core::dist::Dist;
use crate::workload::values::read_values;

use super::super::check::Check;
use super::super::raw::RawDist;
use super::super::ScenarioError;
use super::names::DistName;

const DISTRIBUTIONS: &str = "exponential, deterministic, lognormal, gamma, erlang, empirical";

/// A distribution whose parameters each pass but whose moments overflow
/// (e.g. gamma shape 1e-321, lognormal cv 1e200) would write inf or NaN
/// into results: refuse it, naming the key.
pub(super) fn finite_moments(c: &Check, key: &str, d: Dist) -> Result<Dist, ScenarioError> {
    let (m, m2) = (d.mean(), d.second_moment());
    if m.is_finite() && m > 0.0 && m2.is_finite() {
        Ok(d)
    } else {
        Err(c.err(
            key,
            format!("its parameters give a mean of {m} and a second moment of {m2}: both must be finite and the mean positive; use a smaller spread (cv, p99) or a larger shape"),
        ))
    }
}

/// A gamma (or Erlang) distribution, refused when its scale `mean / shape`
/// is not a normal positive number (e.g. `mean_s = 5e-324` underflows).
fn gamma(c: &Check, key: &str, mean: f64, shape: f64) -> Result<Dist, ScenarioError> {
    let scale = mean / shape;
    if !(scale.is_normal() && scale > 0.0 && shape.is_normal()) {
        return Err(c.err(
            key,
            format!("mean {mean} and shape {shape} give a scale of {scale}: use a mean and shape whose ratio is a normal positive number"),
        ));
    }
    Ok(Dist::gamma_mean_shape(mean, shape))
}

/// The values of an empirical distribution's `file` (key `file_key`).
pub(super) fn empirical(
    c: &Check,
    file_key: &str,
    file: &Path,
    column: Option<&str>,
) -> Result<Dist, ScenarioError> {
    let values =
        read_values(file, column).map_err(|e| c.err_because(file_key, e.to_string(), e))?;
    Ok(Dist::Empirical {
        values: Arc::from(values),
    })
}

/// Resolve the distribution of seconds at `key`.
pub(super) fn resolve_dist(
    c: &Check,
    key: &str,
    d: &RawDist,
    base_dir: &Path,
) -> Result<Dist, ScenarioError> {
    let dist = resolve_dist_unchecked(c, key, d, base_dir)?;
    finite_moments(c, key, dist)
}

fn resolve_dist_unchecked(
    c: &Check,
    key: &str,
    d: &RawDist,
    base_dir: &Path,
) -> Result<Dist, ScenarioError> {
    let k = |f: &str| format!("{key}.{f}");
    let need = |f: &str, v: Option<f64>| -> Result<f64, ScenarioError> {
        let v = v.ok_or_else(|| {
            c.err(
                k(f),
                format!("missing: a {} distribution needs `{f}`", d.distribution),
            )
        })?;
        c.positive(&k(f), v)
    };
    // Keys each distribution accepts, to reject ones that would be ignored.
    let given = [
        ("mean_s", d.mean_s.is_some()),
        ("value_s", d.value_s.is_some()),
        ("median_s", d.median_s.is_some()),
        ("p99_s", d.p99_s.is_some()),
        ("p90_s", d.p90_s.is_some()),
        ("cv", d.cv.is_some()),
        ("shape", d.shape.is_some()),
        ("k", d.k.is_some()),
        ("file", d.file.is_some()),
        ("column", d.column.is_some()),
    ];
    let name = DistName::parse(&d.distribution).ok_or_else(|| {
        c.err(
            k("distribution"),
            format!(
                "unknown distribution {:?}: use one of {DISTRIBUTIONS}",
                d.distribution
            ),
        )
    })?;
    c.only_keys(key, &d.distribution, &given, name.keys())?;
    Ok(match name {
        DistName::Exponential => Dist::Exponential { mean: need("mean_s", d.mean_s)? },
        DistName::Deterministic => Dist::Deterministic { value: need("value_s", d.value_s)? },
        DistName::Lognormal => match (d.mean_s, d.cv, d.median_s, d.p99_s) {
            (None, None, Some(_), None) if d.p90_s.is_some() => {
                let median = need("median_s", d.median_s)?;
                let p90 = need("p90_s", d.p90_s)?;
                if p90 <= median {
                    return Err(c.err(k("p90_s"), format!("must be greater than median_s ({median}), got {p90}")));
                }
                Dist::lognormal_median_quantile(median, p90, crate::core::dist::Z_P90)
            }
            (Some(_), Some(_), None, None) if d.p90_s.is_none() => {
                Dist::lognormal_mean_cv(need("mean_s", d.mean_s)?, need("cv", d.cv)?)
            }
            (None, None, Some(_), Some(_)) if d.p90_s.is_none() => {
                let median = need("median_s", d.median_s)?;
                let p99 = need("p99_s", d.p99_s)?;
                if p99 <= median {
                    return Err(c.err(k("p99_s"), format!("must be greater than median_s ({median}), got {p99}")));
                }
                Dist::lognormal_median_p99(median, p99)
            }
            _ => {
                return Err(c.err(
                    key,
                    "a lognormal distribution takes `mean_s` and `cv`, or `median_s` with `p99_s` or `p90_s`",
                ))
            }
        },
        DistName::Gamma => gamma(c, key, need("mean_s", d.mean_s)?, need("shape", d.shape)?)?,
        DistName::Erlang => {
            let kk = d.k.ok_or_else(|| c.err(k("k"), "missing: an erlang distribution needs `k` (phases, at least 1)"))?;
            if kk == 0 || kk > 10_000 {
                return Err(c.err(k("k"), format!("must be between 1 and 10000 (got {kk})")));
            }
            gamma(c, key, need("mean_s", d.mean_s)?, kk as f64)?
        }
        DistName::Empirical => {
            let file = d.file.as_ref().ok_or_else(|| c.err(k("file"), "missing: an empirical distribution needs `file` (values, one per line, or a CSV with `column`)"))?;
            empirical(c, &k("file"), &base_dir.join(file), d.column.as_deref())?
        }
    })
}
