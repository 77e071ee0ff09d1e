//! One `[[classes]]` entry resolved on its own: a one-class scenario built
//! from its own keys and the inherited ones (`[users]`, `[model]`,
//! `[requests]`, `[service]`, `[service_level]`), resolved with a
//! [`Check`] that keys its errors where the class's keys were written.

use std::path::Path;

use super::super::check::Check;
use super::super::raw::{RawClass, RawScenario, RawUsers};
use super::super::{Scenario, ScenarioError, SpeechTask};
use super::names::Arrivals;
use super::resolve_one;

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
pub(super) fn resolve_class(
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
    r.classes[0].local_only = k.local_only.unwrap_or(false);
    Ok((r, idx))
}

/// The one-class scenario of class `k` with `count` users (at least one),
/// served by placements `idx`: its own keys, the rest inherited.
fn class_scenario(raw: &RawScenario, k: &RawClass, count: u64, idx: &[usize]) -> RawScenario {
    let mut sub = raw.clone();
    sub.classes = None;
    sub.hybrids = None;
    sub.sweep = None;
    sub.users = Some(class_users(raw.users(), k, count.max(1)));
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
        // One bursty modulation for the whole population's open-loop
        // stream; agents set their own pace.
        bursts: if agent { None } else { u.bursts.clone() },
    }
}
