//! How users send requests (`[users] arrivals` and the session and agent
//! keys): the name parsed into an [`Arrivals`], keys of the other kinds
//! refused, the [`Behaviour`] built.

use std::path::Path;

use crate::core::dist::Dist;
use crate::workload::source::Behaviour;

use super::super::check::Check;
use super::super::raw::RawUsers;
use super::super::ScenarioError;
use super::dist::resolve_dist;
use super::names::Arrivals;

/// Resolve the behaviour of `[users]` (or of a class's users).
pub(super) fn resolve_behaviour(
    c: &Check,
    u: &RawUsers,
    base_dir: &Path,
) -> Result<Behaviour, ScenarioError> {
    let name = u.arrivals.as_deref().unwrap_or("poisson");
    let kind = Arrivals::parse(name).ok_or_else(|| {
        c.err(
            c.users("arrivals"),
            format!("unknown arrivals {name:?}: use \"poisson\", \"sessions\" or \"agent\""),
        )
    })?;
    let only = |key: &str, given: bool, kinds: &str| -> Result<(), ScenarioError> {
        if given {
            Err(c.err(
                c.users(key),
                format!(
                    "applies to arrivals = {kinds} only (this scenario has arrivals = \"{name}\")"
                ),
            ))
        } else {
            Ok(())
        }
    };
    let sessions_keys = || -> Result<(), ScenarioError> {
        only(
            "session_requests_mean",
            u.session_requests_mean.is_some(),
            "\"sessions\"",
        )?;
        only("think_time", u.think_time.is_some(), "\"sessions\"")
    };
    let agent_keys = || -> Result<(), ScenarioError> {
        only("agent_gap", u.agent_gap.is_some(), "\"agent\"")?;
        only(
            "agent_start_spread_s",
            u.agent_start_spread_s.is_some(),
            "\"agent\"",
        )
    };
    match kind {
        Arrivals::Poisson => {
            sessions_keys()?;
            agent_keys()?;
            Ok(Behaviour::Poisson)
        }
        Arrivals::Sessions => {
            agent_keys()?;
            let mean_requests = u.session_requests_mean.unwrap_or(1.8);
            if !(mean_requests.is_finite() && (1.0..=10_000.0).contains(&mean_requests)) {
                return Err(c.err(
                    c.users("session_requests_mean"),
                    format!("must be between 1 and 10000 requests (got {mean_requests})"),
                ));
            }
            let think = match &u.think_time {
                Some(d) => resolve_dist(c, &c.users("think_time"), d, base_dir)?,
                None => Dist::lognormal_median_quantile(40.0, 300.0, crate::core::dist::Z_P90),
            };
            Ok(Behaviour::Sessions {
                mean_requests,
                think,
            })
        }
        Arrivals::Agent => {
            sessions_keys()?;
            let gap = u.agent_gap.as_ref().ok_or_else(|| c.err(c.users("agent_gap"), "missing: agents need `agent_gap`, the pause after each response, e.g. { distribution = \"exponential\", mean_s = 5 }"))?;
            let gap = resolve_dist(c, &c.users("agent_gap"), gap, base_dir)?;
            let spread = u.agent_start_spread_s.unwrap_or(60.0);
            c.non_negative(&c.users("agent_start_spread_s"), spread)?;
            Ok(Behaviour::Agent {
                gap,
                start_spread_s: spread,
            })
        }
    }
}
