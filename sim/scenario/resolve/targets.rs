//! Percentile targets of a service level, `<metric>_p<percentile>_s =
//! seconds`: the metric and percentile read from the key, checked against
//! the scenario's kind.

use super::super::check::Check;
use super::super::service_level::{LatencyMetric, PercentileTarget};
use super::super::ScenarioError;

/// Parse a percentile spelled as in `p99`, `p999` (99.9) or `p50`.
fn parse_percentile_digits(d: &str) -> Option<f64> {
    if d.is_empty() || !d.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if d.len() > 2 && d.starts_with("99") {
        // "999" -> 99.9, "9999" -> 99.99, "995" -> 99.5
        let (int, frac) = d.split_at(2);
        return format!("{int}.{frac}").parse().ok();
    }
    d.parse().ok()
}

/// `<metric>_p<percentile>_s = value` at `key`.
pub(super) fn percentile_target(
    c: &Check,
    name: &str,
    key: &str,
    value: f64,
    llm: bool,
) -> Result<PercentileTarget, ScenarioError> {
    let parsed = name
        .strip_suffix("_s")
        .and_then(|rest| rest.rsplit_once("_p"))
        .and_then(|(m, d)| Some((LatencyMetric::parse(m)?, d)));
    let Some((metric, digits)) = parsed else {
        return Err(c.err(
            key,
            "unknown target: write `<metric>_p<percentile>_s = seconds` (metric wait or response; ttft, tpot, e2e in LLM scenarios), e.g. `wait_p99_s = 2.0`; or `p_wait_above_s` with `p_wait_above_share_max`; or `attainment_share` with `attainment_ttft_s` / `attainment_tpot_s` / `attainment_e2e_s`",
        ));
    };
    let llm_metric = matches!(
        metric,
        LatencyMetric::Ttft | LatencyMetric::Tpot | LatencyMetric::E2e
    );
    if llm_metric && !llm {
        return Err(c.err(key, format!("{} applies to LLM scenarios; this scenario has a generic [service]: use wait or response", metric.name())));
    }
    if metric == LatencyMetric::Response && llm {
        return Err(c.err(
            key,
            "an LLM scenario measures ttft, tpot and e2e: use e2e instead of response",
        ));
    }
    let percentile = parse_percentile_digits(digits)
        .filter(|p| *p > 0.0 && *p < 100.0)
        .ok_or_else(|| {
            c.err(
                key,
                format!("percentile {digits:?} must be in (0, 100), e.g. p50, p99, p999 (99.9)"),
            )
        })?;
    c.positive(key, value)?;
    Ok(PercentileTarget {
        metric,
        percentile,
        max_s: value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_spellings() {
        assert_eq!(parse_percentile_digits("99"), Some(99.0));
        assert_eq!(parse_percentile_digits("999"), Some(99.9));
        assert_eq!(parse_percentile_digits("50"), Some(50.0));
        assert_eq!(parse_percentile_digits("x"), None);
        assert_eq!(parse_percentile_digits("100"), Some(100.0));
        assert_eq!(parse_percentile_digits("9999"), Some(99.99));
    }
}
