//! The top-level keys of a run: `name`, the horizon and warm-up (seconds
//! or hours), `replications`, and the refusal of runs too long to finish.

use std::path::Path;

use crate::core::rng::{stream_rng, StreamKind};
use crate::workload::source::Behaviour;

use super::super::check::Check;
use super::super::raw::RawScenario;
use super::super::{ScenarioError, Workload};

/// Name, horizon, warm-up and replications, checked.
pub(super) struct RunLength {
    /// `start_hour_of_day` (default 0).
    pub start_hour_of_day: f64,
    pub name: String,
    pub horizon_s: f64,
    pub warmup_s: f64,
    pub replications: usize,
}

/// `name` (default: the file stem); it names the output folder.
pub(super) fn resolve_name(
    c: &Check,
    raw: &RawScenario,
    path: &Path,
) -> Result<String, ScenarioError> {
    match &raw.name {
        Some(n) => {
            if n.is_empty()
                || !n
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' || ch == '.')
                || n.starts_with('.')
            {
                return Err(c.err(
                    "name",
                    format!("{n:?} must be non-empty and use only letters, digits, '-', '_' and '.' (it names the output folder)"),
                ));
            }
            Ok(n.clone())
        }
        None => Ok(path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into())),
    }
}

/// The key the horizon was given as.
pub(super) fn horizon_key(raw: &RawScenario) -> &'static str {
    if raw.horizon_s.is_some() {
        "horizon_s"
    } else {
        "horizon_h"
    }
}

pub(super) fn resolve_run_length(
    c: &Check,
    raw: &RawScenario,
    path: &Path,
) -> Result<RunLength, ScenarioError> {
    let name = resolve_name(c, raw, path)?;
    let horizon_s = c
        .seconds_or_hours("horizon_s", raw.horizon_s, "horizon_h", raw.horizon_h)?
        .ok_or_else(|| c.err("horizon_s", "missing: give the simulated duration as `horizon_s` (seconds) or `horizon_h` (hours)"))?;
    let horizon_key = horizon_key(raw);
    c.positive(horizon_key, horizon_s)?;
    let warmup_s = c
        .seconds_or_hours("warmup_s", raw.warmup_s, "warmup_h", raw.warmup_h)?
        .unwrap_or(0.0);
    let warmup_key = if raw.warmup_h.is_some() {
        "warmup_h"
    } else {
        "warmup_s"
    };
    c.non_negative(warmup_key, warmup_s)?;
    if warmup_s >= horizon_s {
        return Err(c.err(
            warmup_key,
            format!("the warm-up ({warmup_s} s) must be shorter than the horizon ({horizon_s} s)"),
        ));
    }
    // A window below a second measures nothing useful, and sub-second
    // subnormal horizons underflow the per-minute statistics.
    if horizon_s - warmup_s < 1.0 {
        return Err(c.err(
            horizon_key,
            format!("the measurement window (horizon {horizon_s} s minus warm-up {warmup_s} s) must be at least 1 s"),
        ));
    }
    let start_hour_of_day = match raw.start_hour_of_day {
        None => 0.0,
        Some(h) if h.is_finite() && (0.0..24.0).contains(&h) => h,
        Some(h) => {
            return Err(c.err(
                "start_hour_of_day",
                format!("must be a UTC clock hour from 0 up to (not including) 24 (got {h}), e.g. 9 to start the run at 09:00"),
            ))
        }
    };
    if raw.start_hour_of_day.is_some() && raw.trace.is_some() {
        return Err(c.err(
            "start_hour_of_day",
            "a [trace] replays on its own clock: give its hour as `[trace] start_hour_of_day`, or remove the top-level key",
        ));
    }
    Ok(RunLength {
        name,
        horizon_s,
        warmup_s,
        start_hour_of_day,
        replications: resolve_replications(c, raw, 5)?,
    })
}

/// `replications` (default `default`), in 1..=10000.
pub(super) fn resolve_replications(
    c: &Check,
    raw: &RawScenario,
    default: u64,
) -> Result<usize, ScenarioError> {
    let replications = raw.replications.unwrap_or(default);
    if replications == 0 || replications > 10_000 {
        return Err(c.err(
            "replications",
            format!("must be between 1 and 10000 (got {replications})"),
        ));
    }
    Ok(replications as usize)
}

/// Agents loop as fast as their cycle (service + gap) allows; a skewed
/// distribution (e.g. gamma with a tiny shape) can have a large mean but
/// almost always sample ~0, so bound the rate by the median cycle too.
fn agent_rate_per_s(behaviour: &Behaviour, workload: &Workload, mean_service_s: f64) -> f64 {
    let Behaviour::Agent { gap, .. } = behaviour else {
        return 0.0;
    };
    let mut rng = stream_rng(0x6167_656e, 0, StreamKind::User, 0);
    let mut cycles: Vec<f64> = (0..20_001)
        .map(|_| {
            let svc = match workload {
                Workload::Generic { service } => service.sample(&mut rng),
                Workload::Llm(_) => mean_service_s,
            };
            svc + gap.sample(&mut rng)
        })
        .collect();
    cycles.sort_by(f64::total_cmp);
    let median = cycles[cycles.len() / 2];
    if median > 0.0 {
        1.0 / median
    } else {
        f64::INFINITY
    }
}

/// Refuse runs that would not finish: beyond ~10^10 requests per
/// replication (hours of CPU even at millions of requests per second).
#[allow(clippy::too_many_arguments)]
pub(super) fn check_request_count(
    c: &Check,
    raw: &RawScenario,
    behaviour: &Behaviour,
    workload: &Workload,
    mean_service_s: f64,
    rate_per_user_per_s: f64,
    users: usize,
    horizon_s: f64,
) -> Result<(), ScenarioError> {
    let agent_rate = agent_rate_per_s(behaviour, workload, mean_service_s);
    let expected_requests = rate_per_user_per_s.max(agent_rate) * users as f64 * horizon_s;
    if expected_requests > 1e10 {
        return Err(c.err(
            if raw.horizon_h.is_some() { "horizon_h" } else { "horizon_s" },
            format!("{expected_requests:.2e} requests per replication expected: at most 1e10; shorten the horizon or lower the load"),
        ));
    }
    Ok(())
}
