//! Dedicated placements: one device per user, judged as a whole and then
//! user group by user group (each class, and each fifth of a class's users
//! by request rate: [`DedicatedCheck`]), and sized on each catalogue device
//! alternative (`[sizing] dedicated_devices`).

use rayon::prelude::*;

use super::probe::{run_probe, Probe, ProbeCost};
use super::rows::sizing_row;
use super::search::hopeless;
use super::PoolSizing;
use crate::results::columns;
use crate::results::table::{cell, get, Row, Value};
use crate::scenario::Scenario;

/// One group of a dedicated placement's users checked on its own.
#[derive(Debug, Clone)]
pub struct UserGroupCheck {
    /// Class name.
    pub class: String,
    /// Which users: `all`, or a band of request rates such as `rate band 5/5`.
    pub band: String,
    /// Users in the group.
    pub users: usize,
    /// Least and most requests per day of one of its users (means).
    pub requests_per_day_min: f64,
    /// See `requests_per_day_min`.
    pub requests_per_day_max: f64,
    /// The group's service level holds (and the run is trusted).
    pub meets: bool,
    /// The verdict or why the run is not trusted.
    pub detail: String,
}

/// The per-user answer of a dedicated placement.
#[derive(Debug, Clone, Default)]
pub struct DedicatedCheck {
    /// Groups checked.
    pub groups: Vec<UserGroupCheck>,
    /// Groups run on their own (not the whole population's probe).
    pub probes: u64,
    /// What those probes cost.
    pub cost: ProbeCost,
}

impl DedicatedCheck {
    /// Share of users in groups whose service level holds.
    pub fn share_meeting(&self) -> f64 {
        let all: usize = self.groups.iter().map(|g| g.users).sum();
        let ok: usize = self
            .groups
            .iter()
            .filter(|g| g.meets)
            .map(|g| g.users)
            .sum();
        if all == 0 {
            0.0
        } else {
            ok as f64 / all as f64
        }
    }

    /// Why the groups that miss do (empty when every group meets).
    pub fn missing_detail(&self) -> String {
        self.groups
            .iter()
            .filter(|g| !g.meets)
            .map(|g| {
                let who = match (g.class.as_str(), g.band.as_str()) {
                    ("all", "all") => "all users".to_string(),
                    ("all", band) => band.to_string(),
                    (class, "all") => format!("class {class}"),
                    (class, band) => format!("class {class}, {band}"),
                };
                format!(
                    "{who} ({} users, {:.3}-{:.3} requests/day): {}",
                    g.users, g.requests_per_day_min, g.requests_per_day_max, g.detail
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Request-rate bands a class's users are checked in: quintiles of their
/// rate multipliers (one band when all users send alike).
const RATE_BANDS: usize = 5;

/// Check a dedicated placement (view `v`) user group by user group: each
/// class, and within a class with a rate spread each fifth of its users by
/// request rate, runs on its own devices (dedicated devices share nothing,
/// so a group alone sees what it sees in the population). The groups run
/// in parallel; each group's probe is its own, so the answer does not
/// depend on the thread count. `whole` is the whole population's probe,
/// needed only when it is the one group (one class, users alike).
fn check_dedicated_users(v: &Scenario, whole: Option<&Probe>) -> DedicatedCheck {
    let min_measured = v.sizing.min_measured_requests;
    // (class, band label, lowest and highest rate multiplier, users alike)
    let mut specs: Vec<(usize, String, f64, f64, bool)> = Vec::new();
    for (c, _) in v.classes.iter().enumerate() {
        let mut m = v.class_rate_multipliers(c);
        m.sort_by(f64::total_cmp);
        let alike = m.first() == m.last();
        let bands: Vec<(String, f64, f64)> = if alike {
            vec![("all".to_string(), f64::NEG_INFINITY, f64::INFINITY)]
        } else {
            (0..RATE_BANDS)
                .map(|b| {
                    let lo = if b == 0 {
                        f64::NEG_INFINITY
                    } else {
                        m[b * m.len() / RATE_BANDS]
                    };
                    let hi = if b + 1 == RATE_BANDS {
                        f64::INFINITY
                    } else {
                        m[(b + 1) * m.len() / RATE_BANDS]
                    };
                    (format!("rate band {}/{RATE_BANDS}", b + 1), lo, hi)
                })
                .collect()
        };
        specs.extend(bands.into_iter().map(|(l, lo, hi)| (c, l, lo, hi, alike)));
    }
    let checked: Vec<Option<(UserGroupCheck, Option<Probe>)>> = specs
        .into_par_iter()
        .map(|(c, label, lo, hi, alike)| {
            let class = &v.classes[c];
            let mut m = v.class_rate_multipliers(c);
            m.sort_by(f64::total_cmp);
            let sub = v.restrict_users(c, |w| w >= lo && w < hi)?;
            let ws = sub.class_rate_multipliers(0);
            let rate = class.requests_per_user_per_day;
            let mean_all = m.iter().sum::<f64>() / m.len() as f64;
            let per_day = |w: f64| rate * w / mean_all;
            let (wmin, wmax) = ws
                .iter()
                .fold((f64::INFINITY, 0.0f64), |(a, b), &w| (a.min(w), b.max(w)));
            // One class sending alike: the whole-population probe is this group.
            let own = match whole {
                Some(_) if alike && v.classes.len() == 1 => None,
                _ => Some(run_probe(&sub, 0, sub.users, None, min_measured)),
            };
            let probe = own
                .as_ref()
                .or(whole)
                .expect("the whole population's probe is passed for its one group");
            let detail = if !probe.trusted {
                probe.untrusted_reason.clone()
            } else {
                probe
                    .verdict
                    .as_ref()
                    .map_or(String::new(), |v| v.describe())
            };
            let group = UserGroupCheck {
                class: class.name.clone(),
                band: label,
                users: sub.users,
                requests_per_day_min: per_day(wmin),
                requests_per_day_max: per_day(wmax),
                meets: probe.meets,
                detail,
            };
            Some((group, own))
        })
        .collect();
    let mut check = DedicatedCheck::default();
    for (g, p) in checked.into_iter().flatten() {
        check.groups.push(g);
        if let Some(p) = p {
            check.probes += 1;
            check.cost.add(&p.cost);
        }
    }
    check
}

/// Whether the whole population is a dedicated placement's one user group
/// (one class whose users send alike).
fn whole_is_the_group(v: &Scenario) -> bool {
    let mut m = v.class_rate_multipliers(0);
    m.sort_by(f64::total_cmp);
    v.classes.len() == 1 && m.first() == m.last()
}

/// Size a dedicated placement (on its view `v`): one device per user; the
/// whole population's verdict, then user group by user group.
pub(crate) fn size_dedicated(v: &Scenario) -> (PoolSizing, DedicatedCheck) {
    let users = v.users;
    let mut out = PoolSizing {
        // One device per user, unless no device can meet the service
        // level or the heaviest user alone overloads one.
        estimate: (hopeless(v, 0).is_none() && !crate::run::dedicated_overloaded(v, 0))
            .then_some(users),
        ..PoolSizing::before_search(0, users)
    };
    if let Some(r) = hopeless(v, 0) {
        out.reason = r;
        let check = DedicatedCheck {
            probes: 0,
            cost: ProbeCost::default(),
            groups: v
                .classes
                .iter()
                .enumerate()
                .map(|(c, class)| UserGroupCheck {
                    class: class.name.clone(),
                    band: "all".into(),
                    users: v.class_users(c).1 as usize,
                    requests_per_day_min: class.requests_per_user_per_day,
                    requests_per_day_max: class.requests_per_user_per_day,
                    meets: false,
                    detail: out.reason.clone(),
                })
                .collect(),
        };
        return (out, check);
    }
    let whole = || run_probe(v, 0, users, None, v.sizing.min_measured_requests);
    // The groups' own probes run beside the whole population's.
    let (p, check) = if whole_is_the_group(v) {
        let p = whole();
        let check = check_dedicated_users(v, Some(&p));
        (p, check)
    } else {
        rayon::join(whole, || check_dedicated_users(v, None))
    };
    if p.meets {
        out.servers = Some(users);
    } else if !p.trusted {
        out.reason = p.untrusted_reason.clone();
    } else {
        out.reason = format!(
            "one device per user misses the service level: {}",
            p.verdict.as_ref().map_or(String::new(), |v| v.describe())
        );
    }
    out.probes.push(p);
    (out, check)
}

/// Size every dedicated placement on each of its device alternatives
/// (`[sizing] dedicated_devices`), in parallel: one row per pair.
pub(crate) fn choose_dedicated_devices(s: &Scenario) -> Vec<Row> {
    let pairs: Vec<(usize, usize)> = s
        .placements
        .iter()
        .enumerate()
        .flat_map(|(i, p)| (0..p.device_alternatives.len()).map(move |d| (i, d)))
        .collect();
    pairs
        .par_iter()
        .map(|&(i, d)| {
            let (device, alt) = &s.placements[i].device_alternatives[d];
            let mut row: Row = vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell(columns::PLACEMENT, Value::Str(s.placements[i].name.clone())),
                cell("device", Value::Str(device.clone())),
            ];
            let alt = match alt {
                Ok(a) => a,
                Err(why) => {
                    row.extend([
                        cell("serves", Value::Bool(Some(false))),
                        cell("feasible", Value::Bool(Some(false))),
                        cell("users_meeting_slo_share", Value::F64(Some(0.0))),
                        cell("price_usd", Value::F64(None)),
                        cell(columns::CAPEX_USD_PER_USER, Value::F64(None)),
                        cell(columns::MEM_GB_PER_USER, Value::F64(None)),
                        cell("energy_kwh_per_user_per_day", Value::F64(None)),
                        cell("reason", Value::Str(why.clone())),
                    ]);
                    return row;
                }
            };
            let mut with_alt = s.clone();
            with_alt.placements[i] = alt.clone();
            let v = with_alt.view(i);
            let (z, check) = size_dedicated(&v);
            let r = sizing_row(s, &v, s.users, &[(1.0, &z)], Some(&check));
            let price = alt
                .llm()
                .map(|l| l.device.price_usd)
                .or(alt.priced_device().map(|p| p.device.price_usd));
            let reason = match (z.reason.as_str(), check.missing_detail()) {
                ("", d) => d,
                (r, _) => r.to_string(),
            };
            row.extend([
                cell("serves", Value::Bool(Some(true))),
                cell("feasible", Value::Bool(Some(z.servers.is_some()))),
                cell(
                    "users_meeting_slo_share",
                    Value::F64(Some(check.share_meeting())),
                ),
                cell("price_usd", Value::F64(price)),
            ]);
            for c in [
                columns::CAPEX_USD_PER_USER,
                columns::MEM_GB_PER_USER,
                "energy_kwh_per_user_per_day",
            ] {
                row.push(cell(c, get(&r, c).cloned().unwrap_or(Value::F64(None))));
            }
            row.push(cell("reason", Value::Str(reason)));
            row
        })
        .collect()
}
