//! Token-count distributions (`[requests] input_tokens` / `output_tokens`):
//! the `distribution` name parsed into a [`TokenDistName`], the keys it
//! takes checked, counts rounded to whole tokens.

use std::path::Path;

use crate::core::dist::Dist;

use super::super::check::Check;
use super::super::raw::RawTokens;
use super::super::ScenarioError;
use super::dist::{empirical, finite_moments};
use super::names::TokenDistName;

const TOKEN_DISTRIBUTIONS: &str = "fixed, lognormal, empirical";

/// Resolve the token-count distribution at `key`.
pub(super) fn resolve_tokens(
    c: &Check,
    key: &str,
    t: &RawTokens,
    base_dir: &Path,
) -> Result<Dist, ScenarioError> {
    let dist = resolve_tokens_unchecked(c, key, t, base_dir)?;
    finite_moments(c, key, dist)
}

fn resolve_tokens_unchecked(
    c: &Check,
    key: &str,
    t: &RawTokens,
    base_dir: &Path,
) -> Result<Dist, ScenarioError> {
    let k = |f: &str| format!("{key}.{f}");
    let need = |f: &str, v: Option<f64>| -> Result<f64, ScenarioError> {
        let v = v.ok_or_else(|| {
            c.err(
                k(f),
                format!(
                    "missing: a {} token distribution needs `{f}`",
                    t.distribution
                ),
            )
        })?;
        c.positive(&k(f), v)
    };
    let given = [
        ("value", t.value.is_some()),
        ("median", t.median.is_some()),
        ("p99", t.p99.is_some()),
        ("mean", t.mean.is_some()),
        ("cv", t.cv.is_some()),
        ("file", t.file.is_some()),
        ("column", t.column.is_some()),
    ];
    let name = TokenDistName::parse(&t.distribution).ok_or_else(|| {
        c.err(
            k("distribution"),
            format!(
                "unknown token distribution {:?}: use one of {TOKEN_DISTRIBUTIONS}",
                t.distribution
            ),
        )
    })?;
    c.only_keys(key, &t.distribution, &given, name.keys())?;
    Ok(match name {
        TokenDistName::Fixed => Dist::Deterministic { value: need("value", t.value)?.round().max(1.0) },
        TokenDistName::Lognormal => match (t.median, t.p99, t.mean, t.cv) {
            (Some(_), Some(_), None, None) => {
                let median = need("median", t.median)?;
                let p99 = need("p99", t.p99)?;
                if p99 <= median {
                    return Err(c.err(k("p99"), format!("must be greater than median ({median}), got {p99}")));
                }
                Dist::lognormal_median_p99(median, p99)
            }
            (None, None, Some(_), Some(_)) => Dist::lognormal_mean_cv(need("mean", t.mean)?, need("cv", t.cv)?),
            _ => return Err(c.err(key, "a lognormal token distribution takes either `median` and `p99`, or `mean` and `cv`")),
        },
        TokenDistName::Empirical => {
            let file = t.file.as_ref().ok_or_else(|| c.err(k("file"), "missing: an empirical distribution needs `file`"))?;
            empirical(c, &k("file"), &base_dir.join(file), t.column.as_deref())?
        }
    })
}
