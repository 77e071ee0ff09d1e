//! `[[classes]]`: names and shares checked, users split between classes,
//! `serves` lists checked, each class resolved on its own
//! ([`super::class`]), and the results joined ([`super::join`]).

use std::path::Path;

use super::super::check::Check;
use super::super::raw::{RawClass, RawScenario};
use super::super::{Scenario, ScenarioError};
use super::class::resolve_class;

/// Resolve a population of `[[classes]]`: each class on its own (with the
/// placements that serve it), then joined. Classes hold contiguous user id
/// ranges in file order.
pub(super) fn resolve_classes(
    c: &Check,
    raw: RawScenario,
    classes: Vec<RawClass>,
    path: &Path,
) -> Result<Scenario, ScenarioError> {
    check_classes(c, &raw, &classes)?;
    let counts = class_counts(c, &classes, raw.users().count)?;
    let names: Vec<&str> = classes.iter().map(|k| k.name.as_str()).collect();
    check_serves(c, &raw, &names)?;
    // Each class alone, with the placements serving it.
    let mut subs: Vec<(Scenario, Vec<usize>)> = Vec::with_capacity(classes.len());
    for (ci, k) in classes.iter().enumerate() {
        let (r, idx) = resolve_class(c, &raw, ci, k, counts[ci], path)?;
        // An empty class (share 0) is still checked, as one user, so that a
        // sweep over the mix cannot hide a bad key; then left out.
        if counts[ci] > 0 {
            subs.push((r, idx));
        }
    }
    super::join::join_classes(c, &raw, subs, path)
}

/// Names distinct and non-empty, shares in [0, 1] summing to 1; no trace.
fn check_classes(c: &Check, raw: &RawScenario, classes: &[RawClass]) -> Result<(), ScenarioError> {
    if classes.is_empty() {
        return Err(c.err(
            "classes",
            "is empty: list at least one [[classes]] entry or remove the key",
        ));
    }
    if raw.trace.is_some() {
        return Err(c.err(
            "trace",
            "a trace replays one population: remove [[classes]] or [trace]",
        ));
    }
    let names: Vec<&str> = classes.iter().map(|k| k.name.as_str()).collect();
    for (i, k) in classes.iter().enumerate() {
        if k.name.is_empty() || names[..i].contains(&k.name.as_str()) {
            return Err(c.err(
                format!("classes[{i}].name"),
                format!("{:?}: each class needs a distinct, non-empty name", k.name),
            ));
        }
        if !(k.share.is_finite() && k.share >= 0.0 && k.share <= 1.0) {
            return Err(c.err(
                format!("classes[{i}].share"),
                format!("must be a share of the users in [0, 1] (got {})", k.share),
            ));
        }
    }
    let total_share: f64 = classes.iter().map(|k| k.share).sum();
    if (total_share - 1.0).abs() > 1e-6 {
        return Err(c.err(
            "classes",
            format!(
                "shares must sum to 1 (got {})",
                (total_share * 1e9).round() / 1e9
            ),
        ));
    }
    Ok(())
}

/// Users per class: cumulative rounding, so the counts add up to `total_users`.
fn class_counts(
    c: &Check,
    classes: &[RawClass],
    total_users: u64,
) -> Result<Vec<u64>, ScenarioError> {
    let mut counts = Vec::with_capacity(classes.len());
    let mut cum = 0.0;
    let mut prev = 0u64;
    for (i, k) in classes.iter().enumerate() {
        cum += k.share;
        let last_with_users = classes[i + 1..].iter().all(|k| k.share == 0.0);
        let end = if last_with_users {
            total_users
        } else {
            ((cum * total_users as f64).round() as u64).min(total_users)
        };
        if k.share == 0.0 {
            // An empty class (e.g. one end of a sweep over the mix).
            counts.push(0);
            continue;
        }
        if end <= prev {
            return Err(c.err(
                format!("classes[{i}].share"),
                format!(
                    "gives class {:?} none of the {total_users} users: raise its share or [users] count",
                    k.name
                ),
            ));
        }
        counts.push(end - prev);
        prev = end;
    }
    Ok(counts)
}

/// Every `serves` list is non-empty and names classes.
fn check_serves(c: &Check, raw: &RawScenario, names: &[&str]) -> Result<(), ScenarioError> {
    for (j, p) in raw.placements.iter().enumerate() {
        if let Some(list) = &p.serves {
            if list.is_empty() {
                return Err(c.err(
                    format!("placements[{j}].serves"),
                    "is empty: list class names, or remove it to serve every class",
                ));
            }
            if let Some(bad) = list.iter().find(|n| !names.contains(&n.as_str())) {
                return Err(c.err(
                    format!("placements[{j}].serves"),
                    format!("unknown class {bad:?}: use one of {}", names.join(", ")),
                ));
            }
        }
    }
    Ok(())
}
