//! The open-loop arrival process of one class: its daily profile (a preset
//! or 24 weights), its time-zone mix, and its users split into groups by
//! zone, each user's rate multiplier drawn once from the scenario seed.

use std::sync::Arc;

use crate::core::dist::Dist;
use crate::core::rng::{stream_rng, StreamKind};
use crate::workload::arrivals::{Bursts, DiurnalProfile, PoissonArrivals, RateSpread, UserGroup};

use super::super::check::Check;
use super::super::raw::{RawBursts, RawProfile, RawUsers};
use super::super::ScenarioError;

/// `[users] profile` (default flat).
fn resolve_profile(c: &Check, u: &RawUsers) -> Result<DiurnalProfile, ScenarioError> {
    let key = c.users("profile");
    match &u.profile {
        None => Ok(DiurnalProfile::flat()),
        Some(RawProfile::Named(n)) => DiurnalProfile::preset(n).ok_or_else(|| {
            c.err(
                &key,
                format!(
                    "unknown profile {n:?}: use one of {} or a list of 24 hourly weights",
                    DiurnalProfile::PRESETS.join(", ")
                ),
            )
        }),
        Some(RawProfile::Weights(w)) => {
            let arr: [f64; 24] = w.as_slice().try_into().map_err(|_| {
                c.err(
                    &key,
                    format!("needs exactly 24 hourly weights (got {})", w.len()),
                )
            })?;
            DiurnalProfile::from_weights(&arr)
                .ok_or_else(|| c.err(&key, "weights must be finite, at least 0, and not all 0"))
        }
    }
}

/// `[users] timezones` as (offset, share) pairs (default UTC only).
fn resolve_zones(c: &Check, u: &RawUsers) -> Result<Vec<(f64, f64)>, ScenarioError> {
    let key = c.users("timezones");
    let z = match &u.timezones {
        None => return Ok(vec![(0.0, 1.0)]),
        Some(z) if z.is_empty() => {
            return Err(c.err(
                key,
                "is empty: list at least one { offset_h, share } or remove the key",
            ))
        }
        Some(z) => z,
    };
    let mut out = Vec::with_capacity(z.len());
    for (i, tz) in z.iter().enumerate() {
        if !(tz.offset_h.is_finite() && (-12.0..=14.0).contains(&tz.offset_h)) {
            return Err(c.err(
                format!("{key}[{i}].offset_h"),
                format!(
                    "must be a UTC offset in hours between -12 and 14 (got {})",
                    tz.offset_h
                ),
            ));
        }
        c.non_negative(&format!("{key}[{i}].share"), tz.share)?;
        out.push((tz.offset_h, tz.share));
    }
    let total: f64 = out.iter().map(|z| z.1).sum();
    if (total - 1.0).abs() > 1e-6 {
        return Err(c.err(key, format!("shares must sum to 1 (got {total})")));
    }
    Ok(out)
}

/// The open-loop arrivals of `users` users sending `open_rate_per_user_per_s`
/// each (before their rate multipliers), `seed` drawing the multipliers;
/// the clock starts at UTC hour `start_hour_of_day` (added to every
/// group's zone offset).
pub(super) fn resolve_arrivals(
    c: &Check,
    u: &RawUsers,
    users: usize,
    open_rate_per_user_per_s: f64,
    seed: u64,
    start_hour_of_day: f64,
) -> Result<PoissonArrivals, ScenarioError> {
    let profile = resolve_profile(c, u)?;
    let zones = resolve_zones(c, u)?;
    // Assign users to zones in id order: largest-remainder rounding of shares.
    let mut groups = Vec::with_capacity(zones.len());
    let mut first = 0u64;
    let mut cum_share = 0.0;
    for (offset_h, share) in &zones {
        cum_share += share;
        let end = ((cum_share * users as f64).round() as u64).min(users as u64);
        let spread = match u.requests_per_day_cv {
            Some(cv) if cv > 0.0 => {
                // The population is part of the scenario: drawn once from the
                // scenario seed, the same in every replication and placement.
                let d = Dist::lognormal_mean_cv(1.0, cv);
                let mut rng = stream_rng(seed, u64::MAX, StreamKind::User, first);
                let w: Vec<f64> = (first..end).map(|_| d.sample(&mut rng)).collect();
                (!w.is_empty()).then(|| Arc::new(RateSpread::new(w)))
            }
            _ => None,
        };
        groups.push(UserGroup {
            spread,
            first_user: first as u32,
            users: (end - first) as u32,
            rate_per_user_per_s: open_rate_per_user_per_s,
            tz_offset_h: *offset_h + start_hour_of_day,
            profile: profile.clone(),
        });
        first = end;
    }
    if let Some(last) = groups.last_mut() {
        last.users += (users as u64 - first) as u32;
    }
    let bursts = match &u.bursts {
        Some(b) => resolve_bursts(c, b)?,
        None => Bursts::Poisson,
    };
    Ok(PoissonArrivals::new(groups).with_bursts(bursts))
}

/// `[users] bursts`: the process and its parameters.
fn resolve_bursts(c: &Check, b: &RawBursts) -> Result<Bursts, ScenarioError> {
    let key = |f: &str| c.users(&format!("bursts.{f}"));
    let none_of = |keys: &[(&str, bool)], process: &str| -> Result<(), ScenarioError> {
        match keys.iter().find(|(_, set)| *set) {
            Some((k, _)) => Err(c.err(
                key(k),
                format!("does not apply to process = \"{process}\": remove it"),
            )),
            None => Ok(()),
        }
    };
    match b.process.as_str() {
        "poisson" => {
            none_of(
                &[
                    ("rate_multipliers", b.rate_multipliers.is_some()),
                    ("mean_sojourn_s", b.mean_sojourn_s.is_some()),
                    ("cv", b.cv.is_some()),
                ],
                "poisson",
            )?;
            Ok(Bursts::Poisson)
        }
        "mmpp" => {
            none_of(&[("cv", b.cv.is_some())], "mmpp")?;
            let pair =
                |k: &str, v: &Option<Vec<f64>>, what: &str| -> Result<[f64; 2], ScenarioError> {
                    let v = v.as_ref().ok_or_else(|| {
                        c.err(key(k), format!("missing: an MMPP needs two {what}"))
                    })?;
                    <[f64; 2]>::try_from(v.as_slice()).map_err(|_| {
                        c.err(
                            key(k),
                            format!("needs exactly two {what}, one per state (got {})", v.len()),
                        )
                    })
                };
            let m = pair(
                "rate_multipliers",
                &b.rate_multipliers,
                "rate multipliers (e.g. [4.0, 0.5])",
            )?;
            let s = pair(
                "mean_sojourn_s",
                &b.mean_sojourn_s,
                "mean sojourns in seconds (e.g. [5.0, 30.0])",
            )?;
            for (i, x) in s.iter().enumerate() {
                if !(x.is_finite() && *x > 0.0) {
                    return Err(c.err(
                        format!("{}[{i}]", key("mean_sojourn_s")),
                        format!("must be a positive number of seconds (got {x})"),
                    ));
                }
            }
            for (i, x) in m.iter().enumerate() {
                if !(x.is_finite() && *x >= 0.0) {
                    return Err(c.err(
                        format!("{}[{i}]", key("rate_multipliers")),
                        format!("must be a finite multiplier of at least 0 (got {x})"),
                    ));
                }
            }
            Bursts::mmpp(m, s).ok_or_else(|| {
                c.err(
                    key("rate_multipliers"),
                    "are both 0: give at least one state a positive rate",
                )
            })
        }
        "gamma" => {
            none_of(
                &[
                    ("rate_multipliers", b.rate_multipliers.is_some()),
                    ("mean_sojourn_s", b.mean_sojourn_s.is_some()),
                ],
                "gamma",
            )?;
            let cv = b.cv.ok_or_else(|| {
                c.err(key("cv"), "missing: a gamma renewal process needs `cv`, the gaps' coefficient of variation (1 is Poisson)")
            })?;
            if !(cv.is_finite() && (0.01..=100.0).contains(&cv)) {
                return Err(c.err(
                    key("cv"),
                    format!("must be a coefficient of variation between 0.01 and 100 (got {cv})"),
                ));
            }
            Ok(Bursts::Gamma { cv })
        }
        other => Err(c.err(
            key("process"),
            format!("unknown process {other:?}: use \"poisson\", \"mmpp\" or \"gamma\""),
        )),
    }
}
