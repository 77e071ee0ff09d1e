//! `[[classes]]`: names and shares checked, users split between classes,
//! `serves` lists checked, and each class resolved on its own, as a
//! one-class scenario built from its own keys and the inherited ones, with
//! a [`Check`] that keys its errors where the class's keys were written.
//! [`super::join`] joins the results.

use std::path::Path;

use super::super::check::Check;
use super::super::raw::{RawClass, RawScenario, RawUsers};
use super::super::{Scenario, ScenarioError, SpeechTask};
use super::behaviour::Arrivals;
use super::resolve_one;

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
    let counts = class_counts(c, &classes, raw.users.count)?;
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

/// `task`, `service` and the LLM keys of class `ci` fit together.
fn class_task(c: &Check, ci: usize, k: &RawClass) -> Result<Option<SpeechTask>, ScenarioError> {
    let key = |f: &str| format!("classes[{ci}].{f}");
    let task = match &k.task {
        None => None,
        Some(t) => Some(SpeechTask::parse(t).ok_or_else(|| {
            c.err(
                key("task"),
                format!("unknown task {t:?}: use \"speech_to_text\" or \"text_to_speech\" (or remove it for a generic or LLM class)"),
            )
        })?),
    };
    if task.is_some() && k.service.is_none() {
        return Err(c.err(
            key("service"),
            "missing: a speech class needs `service`, the seconds of audio per request",
        ));
    }
    if k.service.is_some() && (k.model.is_some() || k.requests.is_some()) {
        return Err(c.err(
            key("service"),
            "give either `service` (a generic or speech class) or `model` / `requests` (an LLM class), not both",
        ));
    }
    Ok(task)
}

/// Class `ci` (`k`, `count` users) resolved on its own, with the file
/// indices of the placements serving it.
fn resolve_class(
    c: &Check,
    raw: &RawScenario,
    ci: usize,
    k: &RawClass,
    count: u64,
    path: &Path,
) -> Result<(Scenario, Vec<usize>), ScenarioError> {
    let task = class_task(c, ci, k)?;
    let idx: Vec<usize> = raw
        .placements
        .iter()
        .enumerate()
        .filter(|(_, p)| p.serves.as_ref().is_none_or(|l| l.contains(&k.name)))
        .map(|(j, _)| j)
        .collect();
    if idx.is_empty() {
        return Err(c.err(
            format!("classes[{ci}]"),
            format!("no placement serves class {:?}: add it to a placement's `serves` (or leave `serves` out to serve every class)", k.name),
        ));
    }
    let sub = class_scenario(raw, k, count, &idx);
    let mut r = resolve_one(&c.for_class(ci, k, &idx), sub, path, task)?;
    r.classes[0].name = k.name.clone();
    Ok((r, idx))
}

/// The one-class scenario of class `k` with `count` users (at least one),
/// served by placements `idx`: its own keys, the rest inherited.
fn class_scenario(raw: &RawScenario, k: &RawClass, count: u64, idx: &[usize]) -> RawScenario {
    let mut sub = raw.clone();
    sub.classes = None;
    sub.hybrids = None;
    sub.sweep = None;
    sub.users = class_users(&raw.users, k, count.max(1));
    if let Some(svc) = &k.service {
        sub.service = Some(svc.clone());
        sub.model = None;
        sub.requests = None;
    }
    if let Some(m) = &k.model {
        sub.model = Some(m.clone());
        sub.service = None;
    }
    if let Some(r) = &k.requests {
        sub.requests = Some(r.clone());
        sub.service = None;
    }
    if k.service_level.is_some() {
        sub.service_level = k.service_level.clone();
    }
    sub.placements = idx
        .iter()
        .map(|&j| {
            let mut p = raw.placements[j].clone();
            p.serves = None;
            p
        })
        .collect();
    sub
}

/// The `[users]` of one class: its own keys, the rest from `[users]` (load
/// keys and behaviour keys inherited as groups: a class that sets any load
/// key (`requests_per_day`, `duty_cycle`) or any behaviour key (`arrivals`,
/// session and agent keys) takes none of that group from `[users]`).
fn class_users(u: &RawUsers, k: &RawClass, count: u64) -> RawUsers {
    let own_load = k.requests_per_day.is_some() || k.duty_cycle.is_some();
    let own_behaviour = k.arrivals.is_some()
        || k.session_requests_mean.is_some()
        || k.think_time.is_some()
        || k.agent_gap.is_some()
        || k.agent_start_spread_s.is_some();
    fn pick<T: Clone>(own: bool, mine: &Option<T>, base: &Option<T>) -> Option<T> {
        if own {
            mine.clone()
        } else {
            base.clone()
        }
    }
    let agent = k.arrivals.as_deref().and_then(Arrivals::parse) == Some(Arrivals::Agent);
    RawUsers {
        count,
        requests_per_day: pick(own_load, &k.requests_per_day, &u.requests_per_day),
        duty_cycle: pick(own_load, &k.duty_cycle, &u.duty_cycle),
        profile: k.profile.clone().or_else(|| u.profile.clone()),
        timezones: k.timezones.clone().or_else(|| u.timezones.clone()),
        arrivals: pick(own_behaviour, &k.arrivals, &u.arrivals),
        session_requests_mean: pick(
            own_behaviour,
            &k.session_requests_mean,
            &u.session_requests_mean,
        ),
        think_time: pick(own_behaviour, &k.think_time, &u.think_time),
        agent_gap: pick(own_behaviour, &k.agent_gap, &u.agent_gap),
        agent_start_spread_s: pick(
            own_behaviour,
            &k.agent_start_spread_s,
            &u.agent_start_spread_s,
        ),
        requests_per_day_cv: k.requests_per_day_cv.or(if agent {
            None
        } else {
            u.requests_per_day_cv
        }),
    }
}
