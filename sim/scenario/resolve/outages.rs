//! `[outages]` and the placements' `on_outage`, `fallback` and
//! `fallback_only`: resolved after the placements are, since processes and
//! fallbacks name them. A disabled or absent table leaves the scenario as
//! it was (no process, every placement always up).

use std::path::Path;
use std::sync::Arc;

use crate::core::dist::Dist;
use crate::core::units::DAY_S;
use crate::workload::outages::OutageSpec;
use crate::workload::source::Behaviour;

use super::super::check::Check;
use super::super::model::OutageProcess;
use super::super::placement::OutageRule;
use super::super::raw::{RawOutageProcess, RawOutages, RawPlacement};
use super::super::{Scenario, ScenarioError, Workload};
use super::dist::resolve_dist;

/// Hours in a year (365 days), for rates per year.
const YEAR_H: f64 = 8760.0;

/// The placement keys this resolver reads, taken from the raw file before
/// the placements are resolved.
#[derive(Debug, Clone)]
pub(super) struct OutageKeys {
    on_outage: Option<String>,
    fallback: Option<String>,
    fallback_only: Option<bool>,
}

impl OutageKeys {
    pub(super) fn of(p: &RawPlacement) -> Self {
        OutageKeys {
            on_outage: p.on_outage.clone(),
            fallback: p.fallback.clone(),
            fallback_only: p.fallback_only,
        }
    }

    fn is_set(&self) -> bool {
        self.on_outage.is_some() || self.fallback.is_some() || self.fallback_only.is_some()
    }
}

/// Apply `[outages]` (and the placements' outage keys `keys`, in file
/// order) to the resolved scenario `s`.
pub(super) fn apply_outages(
    c: &Check,
    raw: Option<&RawOutages>,
    keys: &[OutageKeys],
    s: &mut Scenario,
    base_dir: &Path,
) -> Result<(), ScenarioError> {
    let enabled = raw.is_some_and(|o| o.enabled.unwrap_or(true));
    if !enabled {
        // Validate the table anyway, so that turning it on later does not
        // reveal an error; then draw nothing.
        if let Some(o) = raw {
            for (i, p) in o.processes.iter().enumerate() {
                resolve_process(c, i, p, s, base_dir)?;
            }
        }
        return Ok(());
    }
    let o = raw.expect("enabled implies present");
    if s.classes
        .iter()
        .any(|k| !matches!(k.workload, Workload::Llm(_)))
    {
        return Err(c.err(
            "outages",
            "outages are modelled for LLM scenarios only ([model] + [requests] or a trace): remove [outages] or set `enabled = false`",
        ));
    }
    let mut processes = Vec::with_capacity(o.processes.len());
    for (i, p) in o.processes.iter().enumerate() {
        let (spec, hits) = resolve_process(c, i, p, s, base_dir)?;
        for j in hits {
            if s.placements[j].is_multi_model() {
                return Err(c.err(
                    format!("outages.processes[{i}]"),
                    format!("takes down placement {:?}, which serves classes of several models: outages of a multi-model fleet are not modelled; give each model its own placement or scope the process to other placements", s.placements[j].name),
                ));
            }
            s.placements[j].outage.processes.push(i);
        }
        processes.push(OutageProcess {
            name: p.name.clone(),
            spec,
        });
    }
    for (j, k) in keys.iter().enumerate() {
        let rule = match k.on_outage.as_deref() {
            None | Some("fail") => OutageRule::Fail,
            Some("wait") => OutageRule::Wait,
            Some("fallback") => OutageRule::Fallback,
            Some(other) => {
                return Err(c.err(
                    format!("placements[{j}].on_outage"),
                    format!("{other:?}: use \"fail\", \"wait\" or \"fallback\""),
                ))
            }
        };
        s.placements[j].outage.rule = rule;
    }
    resolve_fallbacks(c, keys, s)?;
    s.outages = Some(Arc::new(processes));
    Ok(())
}

/// Refuse the placements' outage keys in a scenario without an enabled
/// `[outages]` table only when they could not mean anything later either.
pub(super) fn check_keys_without_outages(
    c: &Check,
    raw: Option<&RawOutages>,
    keys: &[OutageKeys],
) -> Result<(), ScenarioError> {
    if raw.is_some() {
        return Ok(());
    }
    match keys.iter().position(OutageKeys::is_set) {
        Some(j) => Err(c.err(
            format!("placements[{j}]"),
            "sets `on_outage`, `fallback` or `fallback_only`, but the scenario has no [outages] table: add one (with `enabled = false` to turn outages off) or remove the keys",
        )),
        None => Ok(()),
    }
}

fn resolve_process(
    c: &Check,
    i: usize,
    p: &RawOutageProcess,
    s: &Scenario,
    base_dir: &Path,
) -> Result<(OutageSpec, Vec<usize>), ScenarioError> {
    let key = |f: &str| format!("outages.processes[{i}].{f}");
    let per_user = match p.scope.as_str() {
        "fleet" => false,
        "user" => true,
        other => {
            return Err(c.err(
                key("scope"),
                format!("{other:?}: use \"fleet\" (one process takes the whole placement down: a region or service) or \"user\" (one per user: a home network, a user's own device)"),
            ))
        }
    };
    let rates = [
        ("rate_per_h", p.rate_per_h, 1.0),
        ("rate_per_year", p.rate_per_year, 1.0 / YEAR_H),
        ("annual_failure_rate", p.annual_failure_rate, 1.0 / YEAR_H),
    ];
    let given: Vec<_> = rates.iter().filter(|r| r.1.is_some()).collect();
    let (rate_key, rate, per_h) = match given.as_slice() {
        [one] => (one.0, one.1.expect("given"), one.2),
        _ => {
            return Err(c.err(
                key("rate_per_h"),
                "give exactly one of `rate_per_h`, `rate_per_year` or `annual_failure_rate` (outages started per hour, per year of uptime, or failures per device-year)",
            ))
        }
    };
    if !(rate.is_finite() && rate >= 0.0 && rate * per_h <= 3600.0) {
        return Err(c.err(
            key(rate_key),
            format!(
                "must be a rate between 0 and {} (got {rate})",
                3600.0 / per_h
            ),
        ));
    }
    let duration_s = match (p.duration_h, p.duration_days, &p.duration) {
        (Some(h), None, None) => exponential_s(c, &key("duration_h"), h, 3600.0)?,
        (None, Some(d), None) => exponential_s(c, &key("duration_days"), d, DAY_S)?,
        (None, None, Some(d)) => resolve_dist(c, &key("duration"), d, base_dir)?,
        _ => {
            return Err(c.err(
                key("duration_h"),
                "give exactly one of `duration_h`, `duration_days` (means of exponential durations) or `duration` (a distribution of seconds)",
            ))
        }
    };
    let mut hits = Vec::new();
    for n in &p.hits {
        let j = s
            .placements
            .iter()
            .position(|q| &q.name == n)
            .ok_or_else(|| {
                c.err(
                    key("hits"),
                    format!(
                        "unknown placement {n:?}: use one of {}",
                        names(s).join(", ")
                    ),
                )
            })?;
        hits.push(j);
    }
    if hits.is_empty() {
        return Err(c.err(key("hits"), "is empty: name the placements it takes down"));
    }
    Ok((
        OutageSpec {
            rate_per_s: rate * per_h / 3600.0,
            duration_s,
            per_user,
            id: i as u64,
        },
        hits,
    ))
}

fn exponential_s(c: &Check, key: &str, mean: f64, unit_s: f64) -> Result<Dist, ScenarioError> {
    if mean.is_finite() && mean > 0.0 && mean * unit_s <= 100.0 * 365.0 * DAY_S {
        Ok(Dist::Exponential {
            mean: mean * unit_s,
        })
    } else {
        Err(c.err(
            key,
            format!("must be a mean duration greater than 0 and at most 100 years (got {mean})"),
        ))
    }
}

fn names(s: &Scenario) -> Vec<&str> {
    s.placements.iter().map(|p| p.name.as_str()).collect()
}

/// `fallback` and `fallback_only`: each fallback-only placement backs
/// exactly one placement serving the same classes (and keeps a copy of it:
/// closed-loop users' requests depend on where earlier ones were served,
/// so the fallback's run repeats its primary's).
fn resolve_fallbacks(
    c: &Check,
    keys: &[OutageKeys],
    s: &mut Scenario,
) -> Result<(), ScenarioError> {
    let n = s.placements.len();
    let mut backed_by: Vec<Option<usize>> = vec![None; n];
    for (j, k) in keys.iter().enumerate() {
        let rule = s.placements[j].outage.rule;
        let fb = match (&k.fallback, rule) {
            (None, OutageRule::Fallback) => {
                return Err(c.err(
                    format!("placements[{j}].fallback"),
                    "missing: `on_outage = \"fallback\"` needs `fallback`, the name of a `fallback_only` placement",
                ))
            }
            (Some(_), r) if r != OutageRule::Fallback => {
                return Err(c.err(
                    format!("placements[{j}].fallback"),
                    "is set, but `on_outage` is not \"fallback\": set `on_outage = \"fallback\"` or remove `fallback`",
                ))
            }
            (None, _) => continue,
            (Some(f), _) => f,
        };
        let key = format!("placements[{j}].fallback");
        let f = s
            .placements
            .iter()
            .position(|q| &q.name == fb)
            .filter(|&f| f != j)
            .ok_or_else(|| {
                c.err(
                    &key,
                    format!(
                        "{fb:?} is not another placement: use one of {}",
                        names(s).join(", ")
                    ),
                )
            })?;
        if keys[f].fallback_only != Some(true) {
            return Err(c.err(
                &key,
                format!("{fb:?} must be marked `fallback_only = true` (it then serves only the requests sent to it during outages)"),
            ));
        }
        if keys[j].fallback_only == Some(true) {
            return Err(c.err(&key, "a fallback_only placement cannot have a fallback of its own: set its `on_outage` to \"fail\" or \"wait\""));
        }
        if let Some(other) = backed_by[f] {
            return Err(c.err(
                &key,
                format!(
                    "{fb:?} already backs {:?}: give each placement its own fallback",
                    s.placements[other].name
                ),
            ));
        }
        if s.placements[f].serves != s.placements[j].serves {
            return Err(c.err(
                &key,
                format!(
                    "{fb:?} must serve the same classes as {:?} (its `serves`)",
                    s.placements[j].name
                ),
            ));
        }
        if let Some(ci) = s.placements[j]
            .serves
            .iter()
            .copied()
            .find(|&ci| !matches!(s.classes[ci].behaviour, Behaviour::Poisson))
            .filter(|_| s.placements[j].is_multi_model())
        {
            return Err(c.err(
                &key,
                format!("class {:?} does not send Poisson requests: the fallback of a placement serving several models is modelled for Poisson users only (give each model's classes their own placement and fallback)", s.classes[ci].name),
            ));
        }
        backed_by[f] = Some(j);
        s.placements[j].outage.fallback = Some(fb.clone());
        let processes = s.placements[j].outage.processes.clone();
        let name = s.placements[j].name.clone();
        s.placements[f].outage.backs = Some((name, processes));
        s.placements[f].outage.primary = Some(Box::new(s.placements[j].clone()));
    }
    if let Some(f) = (0..n).find(|&f| keys[f].fallback_only == Some(true) && backed_by[f].is_none())
    {
        return Err(c.err(
            format!("placements[{f}].fallback_only"),
            "no placement names it as its `fallback`: name it in another placement's `fallback` or remove `fallback_only`",
        ));
    }
    Ok(())
}
