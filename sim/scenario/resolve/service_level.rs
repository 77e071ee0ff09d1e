//! `[service_level]` (or a class's own): percentile bounds such as
//! `wait_p99_s`, the wait-tail pair and the attainment target, checked
//! against the scenario's kind (generic or LLM).

use std::collections::BTreeMap;

use super::super::check::Check;
use super::super::service_level::{
    AttainmentTarget, PercentileTarget, ServiceLevel, WaitTailTarget,
};
use super::super::ScenarioError;
use super::targets::percentile_target;

fn number(c: &Check, key: &str, v: &toml::Value) -> Result<f64, ScenarioError> {
    match v {
        toml::Value::Float(f) => Ok(*f),
        toml::Value::Integer(i) => Ok(*i as f64),
        _ => Err(c.err(key, "must be a number")),
    }
}

/// The non-percentile targets as they are read, paired up at the end.
#[derive(Default)]
struct Pairs {
    wait_above_s: Option<f64>,
    wait_above_max: Option<f64>,
    attainment_share: Option<f64>,
    attainment_bounds: [Option<f64>; 3],
}

const ATTAINMENT_BOUNDS: [&str; 3] = ["attainment_ttft_s", "attainment_tpot_s", "attainment_e2e_s"];

/// Targets that are fractions, renamed to end in `_share` like their result
/// columns (`p_wait_above_share`, `slo_attainment_share`): (old, new). An
/// old key is refused with the new one to write, not read silently.
const RENAMED: [(&str, &str); 2] = [
    ("p_wait_above_max", "p_wait_above_share_max"),
    ("attainment", "attainment_share"),
];

/// Read `name = value` into `pairs` if it is a wait-tail or attainment
/// key (true), else leave it (false).
fn read_pair_key(
    c: &Check,
    pairs: &mut Pairs,
    name: &str,
    key: &str,
    value: f64,
    llm: bool,
) -> Result<bool, ScenarioError> {
    if let Some((_, new)) = RENAMED.iter().find(|(old, _)| *old == name) {
        return Err(c.err(
            key,
            format!("renamed to `{new}` (fractions are named as shares, like the result columns): write `{new} = {value}`"),
        ));
    }
    match name {
        "p_wait_above_s" => pairs.wait_above_s = Some(c.non_negative(key, value)?),
        "p_wait_above_share_max" => {
            if !(value > 0.0 && value < 1.0) {
                return Err(c.err(
                    key,
                    format!("must be a share in (0, 1), e.g. 0.01 (got {value})"),
                ));
            }
            pairs.wait_above_max = Some(value);
        }
        "attainment_share" => {
            if !(value > 0.0 && value <= 1.0) {
                return Err(c.err(
                    key,
                    format!("must be a share in (0, 1], e.g. 0.9 (got {value})"),
                ));
            }
            pairs.attainment_share = Some(value);
        }
        _ => match ATTAINMENT_BOUNDS.iter().position(|x| *x == name) {
            Some(i) => {
                if !llm {
                    return Err(c.err(
                        key,
                        "attainment bounds apply to LLM scenarios ([model] + [requests])",
                    ));
                }
                pairs.attainment_bounds[i] = Some(c.positive(key, value)?);
            }
            None => return Ok(false),
        },
    }
    Ok(true)
}

/// The wait-tail and attainment targets, each complete or absent.
fn finish_pairs(
    c: &Check,
    sec: &str,
    p: Pairs,
) -> Result<(Option<WaitTailTarget>, Option<AttainmentTarget>), ScenarioError> {
    let wait_tail = match (p.wait_above_s, p.wait_above_max) {
        (Some(above_s), Some(max_share)) => Some(WaitTailTarget { above_s, max_share }),
        (None, None) => None,
        (Some(_), None) => return Err(c.err(format!("{sec}.p_wait_above_share_max"), "missing: `p_wait_above_s` needs `p_wait_above_share_max`, the largest share of requests that may wait longer")),
        (None, Some(_)) => return Err(c.err(format!("{sec}.p_wait_above_s"), "missing: `p_wait_above_share_max` needs `p_wait_above_s`, the wait in seconds it bounds (0 for any wait)")),
    };
    let attainment = match (p.attainment_share, p.attainment_bounds) {
        (None, [None, None, None]) => None,
        (Some(_), [None, None, None]) => return Err(c.err(format!("{sec}.attainment_share"), "needs at least one of `attainment_ttft_s`, `attainment_tpot_s`, `attainment_e2e_s`")),
        (None, _) => return Err(c.err(format!("{sec}.attainment_share"), "missing: attainment bounds need `attainment_share`, the share of requests that must meet them all (e.g. 0.9)")),
        (Some(share), [ttft, tpot, e2e]) => Some(AttainmentTarget {
            share,
            ttft_s: ttft.unwrap_or(f64::INFINITY),
            tpot_s: tpot.unwrap_or(f64::INFINITY),
            e2e_s: e2e.unwrap_or(f64::INFINITY),
        }),
    };
    Ok((wait_tail, attainment))
}

/// Resolve a `[service_level]` table (none: nothing is judged); `llm`
/// says which metrics apply.
pub(super) fn resolve_service_level(
    c: &Check,
    t: Option<&toml::Table>,
    llm: bool,
) -> Result<ServiceLevel, ScenarioError> {
    let Some(t) = t else {
        return Ok(ServiceLevel::default());
    };
    let sec = c.section("service_level");
    let mut targets: Vec<PercentileTarget> = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut pairs = Pairs::default();
    for (k, v) in t {
        let key = format!("{sec}.{k}");
        let value = number(c, &key, v)?;
        if read_pair_key(c, &mut pairs, k, &key, value, llm)? {
            continue;
        }
        let target = percentile_target(c, k, &key, value, llm)?;
        // The message names the earlier key as `[service_level]` spells it
        // (as it always has, also in a class's own table).
        if let Some(prev) = seen.insert(target.label(), format!("service_level.{k}")) {
            return Err(c.err(
                &key,
                format!("bounds the same percentile as {prev}: keep one"),
            ));
        }
        targets.push(target);
    }
    let (wait_tail, attainment) = finish_pairs(c, &sec, pairs)?;
    // Contradictions: a bound on a higher percentile below the bound on a lower
    // percentile of the same metric only makes the lower one redundant, and e2e
    // >= ttft makes a lower e2e bound redundant too: accepted. What cannot be
    // judged (empty tables, half pairs, duplicates) is rejected above and here.
    if targets.is_empty() && wait_tail.is_none() && attainment.is_none() {
        return Err(c.err(
            sec,
            "is empty: give at least one target such as `wait_p99_s = 2.0`, or remove the table",
        ));
    }
    targets.sort_by(|a, b| {
        a.metric
            .cmp(&b.metric)
            .then(a.percentile.total_cmp(&b.percentile))
    });
    Ok(ServiceLevel {
        targets,
        wait_tail,
        attainment,
    })
}
