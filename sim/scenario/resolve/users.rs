//! `[users]`: how many, and how much each sends: a request rate or a duty
//! cycle, the pace agents set themselves, or the trace's; and the spread of
//! rates over users (`requests_per_day_cv`).

use crate::core::units::DAY_S;
use crate::workload::source::Behaviour;
use crate::workload::trace::TraceRequest;

use super::super::check::Check;
use super::super::raw::RawUsers;
use super::super::ScenarioError;

/// The most users a scenario may have. Per-user state (a dedicated device's
/// free time, session counters, an agent's next request, a rate spread) is
/// 8 to ~60 bytes a user in each simulation running at once; whether a
/// population fits the machine is checked against its estimated peak
/// memory before a run starts (`crate::run::estimate_memory`).
const MAX_USERS: u64 = 100_000_000;

/// `[users] count`.
pub(super) fn user_count(c: &Check, u: &RawUsers) -> Result<usize, ScenarioError> {
    if u.count == 0 || u.count > MAX_USERS {
        return Err(c.err(
            c.users("count"),
            format!("must be between 1 and {MAX_USERS} (got {}): larger populations need several GB of per-user state in each simulation running at once; simulate one pool of them with [sizing] pool_sizes instead", u.count),
        ));
    }
    Ok(u.count as usize)
}

/// `requests_per_day_cv`: in range, and only where users set their own pace.
pub(super) fn check_rate_spread(
    c: &Check,
    u: &RawUsers,
    behaviour: &Behaviour,
    traced: bool,
) -> Result<(), ScenarioError> {
    if u.bursts.is_some() && (matches!(behaviour, Behaviour::Agent { .. }) || traced) {
        return Err(c.err(
            c.users("bursts"),
            "applies to poisson and sessions users (agents and traces set their own pace): remove it",
        ));
    }
    let Some(cv) = u.requests_per_day_cv else {
        return Ok(());
    };
    let key = c.users("requests_per_day_cv");
    if !(cv.is_finite() && (0.0..=20.0).contains(&cv)) {
        return Err(c.err(key, format!("must be between 0 and 20 (got {cv})")));
    }
    if matches!(behaviour, Behaviour::Agent { .. }) || traced {
        return Err(c.err(key, "applies to poisson and sessions users (agents and traces set their own pace): remove it"));
    }
    Ok(())
}

/// Refuse `keys` (with whether each is set) with `message`.
fn refuse_keys(c: &Check, keys: &[(&str, bool)], message: &str) -> Result<(), ScenarioError> {
    match keys.iter().find(|(_, given)| *given) {
        Some((k, _)) => Err(c.err(c.users(k), message)),
        None => Ok(()),
    }
}

/// Mean requests per user per second, follow-ups included: from the trace,
/// an agent's cycle on its reference device (`mean_service_s` per request),
/// or `requests_per_day` / `duty_cycle`.
pub(super) fn request_rate_per_user_per_s(
    c: &Check,
    u: &RawUsers,
    trace: Option<&[TraceRequest]>,
    behaviour: &Behaviour,
    horizon_s: f64,
    mean_service_s: f64,
) -> Result<f64, ScenarioError> {
    if let Some(t) = trace {
        refuse_keys(
            c,
            &[
                ("requests_per_day", u.requests_per_day.is_some()),
                ("duty_cycle", u.duty_cycle.is_some()),
                ("arrivals", u.arrivals.is_some()),
            ],
            "the [trace] gives the arrivals: remove this key",
        )?;
        let span = t
            .last()
            .map_or(0.0, |r| r.arrival_s)
            .min(horizon_s)
            .max(1.0);
        let in_horizon = t.iter().take_while(|r| r.arrival_s < horizon_s).count() as f64;
        return Ok(in_horizon / span / u.count.max(1) as f64);
    }
    if let Behaviour::Agent { gap, .. } = behaviour {
        refuse_keys(
            c,
            &[
                ("requests_per_day", u.requests_per_day.is_some()),
                ("duty_cycle", u.duty_cycle.is_some()),
            ],
            "agents send their next request after each response: their load comes from `agent_gap`, remove this key",
        )?;
        // A dedicated device's cycle: one request, then the gap.
        return Ok(1.0 / (mean_service_s + gap.mean()));
    }
    match (u.requests_per_day, u.duty_cycle) {
        (Some(_), Some(_)) => Err(c.err(
            c.users("requests_per_day"),
            "give either `requests_per_day` or `duty_cycle`, not both",
        )),
        (Some(r), None) => Ok(c.positive(&c.users("requests_per_day"), r)? / DAY_S),
        (None, Some(d)) => {
            if !(d.is_finite() && d > 0.0 && d < 1.0) {
                return Err(c.err(
                    c.users("duty_cycle"),
                    format!("must be a share of time in (0, 1), e.g. 0.01 for 1 % (got {d})"),
                ));
            }
            Ok(d / mean_service_s)
        }
        (None, None) => Err(c.err(
            "users",
            "missing the load: give `requests_per_day` or `duty_cycle`",
        )),
    }
}

/// The open-loop rate per user: single requests, session starts, or
/// nothing (agents, traces).
pub(super) fn open_rate_per_user_per_s(behaviour: &Behaviour, traced: bool, rate: f64) -> f64 {
    match behaviour {
        Behaviour::Poisson if traced => 0.0,
        Behaviour::Poisson => rate,
        Behaviour::Sessions { mean_requests, .. } => rate / mean_requests,
        Behaviour::Agent { .. } | Behaviour::Clients { .. } => 0.0,
    }
}
