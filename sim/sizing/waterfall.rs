//! The decomposition waterfall (docs/model.md section 23): the devices
//! factor of a dedicated/pooled placement pair (one device per user over
//! the pooled fleet, `sharing_factor_devices` of sizing.parquet) split into
//! its causes, each the ratio of two fleets, the steps multiplying exactly
//! to the total.
//!
//! The chain of fleets, from the dedicated end:
//!
//! 1. `idle_time`: one device per user (the dedicated placement, as `size`
//!    checks it) over the same devices kept busy all the time (the offered
//!    load in device-seconds per second, `U x duty cycle`): 1 / duty cycle.
//! 2. `pool_size`: that busy fleet over the dedicated device pooled at
//!    batch 1, with a flat day and one time zone, sized at the largest pool
//!    size: the headroom random arrivals need (at most 1).
//! 3. then, in the order asked ([`DEFAULT_ORDER`] unless told), each step
//!    turns on one feature of the pooled placement in the pool of the step
//!    before: `diurnal_profile` (the users' daily profiles), `time_zones`
//!    (their time zones), `batching` (the pooled placement's `max_batch` and
//!    chunked prefill), `hardware` (its servers: device, engine, tensor
//!    parallel). After the last the pool is the pooled placement itself.
//!
//! Every pool is a [`Scenario::counterfactual_pool`] sized by
//! [`super::size_scenario`] like any scenario, at the same service level;
//! fleets that are the same scenario (a feature that changes nothing, see
//! [`Scenario::canonical_counterfactual`]) are sized once, so their step is
//! exactly 1. Fleets are sized in parallel; each answer depends only on its
//! own scenario, so results are the same for any thread count.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::results::columns;
use crate::results::table::{cell, get, Row, Value};
use crate::scenario::{Counterfactual, PlacementKind, Scenario};

/// One step of the waterfall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// One device per user vs the same devices kept busy all the time.
    IdleTime,
    /// The busy fleet vs a sized pool of the dedicated device at batch 1,
    /// flat day, one time zone.
    PoolSize,
    /// Flat day vs the users' daily profiles.
    DiurnalProfile,
    /// One time zone vs the users' time zones.
    TimeZones,
    /// Batch 1 vs the pooled placement's batching.
    Batching,
    /// The dedicated device vs the pooled placement's servers.
    Hardware,
}

/// The steps whose order can be chosen, in their default order.
pub const DEFAULT_ORDER: [Step; 4] = [
    Step::DiurnalProfile,
    Step::TimeZones,
    Step::Batching,
    Step::Hardware,
];

impl Step {
    /// Every step, in the default order.
    pub const ALL: [Step; 6] = [
        Step::IdleTime,
        Step::PoolSize,
        Step::DiurnalProfile,
        Step::TimeZones,
        Step::Batching,
        Step::Hardware,
    ];

    /// Its name (the `step` column and `--order`).
    pub fn name(self) -> &'static str {
        match self {
            Step::IdleTime => "idle_time",
            Step::PoolSize => "pool_size",
            Step::DiurnalProfile => "diurnal_profile",
            Step::TimeZones => "time_zones",
            Step::Batching => "batching",
            Step::Hardware => "hardware",
        }
    }

    /// The cause it belongs to (the `cause` column).
    pub fn cause(self) -> &'static str {
        match self {
            Step::IdleTime => "idle time",
            Step::PoolSize | Step::DiurnalProfile | Step::TimeZones => "statistical multiplexing",
            Step::Batching => "batching",
            Step::Hardware => "hardware class",
        }
    }

    /// The step named `name`.
    pub fn parse(name: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The feature of the pooled placement this step turns on.
    fn turn_on(self, c: &mut Counterfactual) {
        match self {
            Step::DiurnalProfile => c.profile = true,
            Step::TimeZones => c.time_zones = true,
            Step::Batching => c.batching = true,
            Step::Hardware => c.accelerator = true,
            Step::IdleTime | Step::PoolSize => {}
        }
    }
}

/// The order of the movable steps from a comma-separated list naming each
/// of them once (`diurnal_profile`, `time_zones`, `batching`, `hardware`);
/// the error says what is wrong and what is valid.
pub fn parse_order(text: &str) -> Result<Vec<Step>, String> {
    let valid = DEFAULT_ORDER.map(Step::name).join(",");
    let mut out = Vec::new();
    for word in text.split(',').map(str::trim) {
        match Step::parse(word) {
            Some(s) if DEFAULT_ORDER.contains(&s) && !out.contains(&s) => out.push(s),
            Some(s) if out.contains(&s) => {
                return Err(format!(
                    "`{word}` is named twice; name each of {valid} once"
                ))
            }
            Some(_) => {
                return Err(format!(
                    "`{word}` always comes first (idle_time, then pool_size); order only {valid}"
                ))
            }
            None => return Err(format!("unknown step `{word}`; name each of {valid} once")),
        }
    }
    if out.len() != DEFAULT_ORDER.len() {
        let missing: Vec<&str> = DEFAULT_ORDER
            .iter()
            .filter(|s| !out.contains(s))
            .map(|s| s.name())
            .collect();
        return Err(format!(
            "missing {}; name each of {valid} once",
            missing.join(", ")
        ));
    }
    Ok(out)
}

/// Everything a waterfall produced.
#[derive(Debug, Clone, Default)]
pub struct WaterfallResults {
    /// One row per pair and step (waterfall.parquet).
    pub steps: Vec<Row>,
    /// The sizing row of every fleet sized (waterfall_fleets.parquet).
    pub fleets: Vec<Row>,
}

/// The placement pairs a waterfall splits: every pooled placement with the
/// first dedicated placement serving the same classes (its sharing-factor
/// reference), as (dedicated, pooled).
pub fn waterfall_pairs(s: &Scenario) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (j, p) in s.placements.iter().enumerate() {
        if p.kind == PlacementKind::Dedicated {
            continue;
        }
        let reference = s
            .placements
            .iter()
            .position(|d| d.kind == PlacementKind::Dedicated && d.serves == p.serves);
        if let Some(d) = reference {
            out.push((d, j));
        }
    }
    out
}

/// A fleet of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fleet {
    /// One device per user.
    Dedicated,
    /// The dedicated devices kept busy all the time (not sized).
    Busy,
    /// A counterfactual pool (canonical).
    Pool(Counterfactual),
}

/// One fleet's answer: its label, devices (None: infeasible), verdict and
/// sizing row (None for the busy fleet).
#[derive(Debug, Clone)]
struct Answer {
    label: String,
    devices: Option<f64>,
    feasible: Option<bool>,
    servers_per_pool: Option<f64>,
    slo_detail: String,
    row: Option<Row>,
}

/// The chain of fleets of one pair for `order`: the fleet before each step
/// and after it, canonical.
fn chain(s: &Scenario, pooled: usize, order: &[Step]) -> Vec<(Step, Fleet, Fleet)> {
    let mut c = Counterfactual::PLAIN;
    let canon = |c: Counterfactual| Fleet::Pool(s.canonical_counterfactual(pooled, c));
    let mut out = vec![
        (Step::IdleTime, Fleet::Dedicated, Fleet::Busy),
        (Step::PoolSize, Fleet::Busy, canon(c)),
    ];
    for &step in order {
        let before = canon(c);
        step.turn_on(&mut c);
        out.push((step, before, canon(c)));
    }
    out
}

/// The label of a fleet of the pair (`d`, `p`).
fn label(s: &Scenario, d: usize, p: usize, f: Fleet) -> String {
    let device_of = |i: usize| {
        let q = &s.placements[i];
        q.device()
            .map(|dev| dev.name.clone())
            .unwrap_or_else(|| format!("{}'s servers", q.name))
    };
    match f {
        Fleet::Dedicated => format!("{}: one {} per user", s.placements[d].name, device_of(d)),
        Fleet::Busy => format!("{} kept busy all the time", device_of(d)),
        Fleet::Pool(c) => {
            let device = device_of(if c.accelerator { p } else { d });
            let batch = match s.placements[p].llm() {
                Some(l) if c.batching && l.max_batch > 1 => format!("batch up to {}", l.max_batch),
                Some(_) if c.batching => "batch 1, chunked prefill".to_string(),
                _ => "batch 1".to_string(),
            };
            let day = if c.profile && s.has_diurnal_profile() {
                "daily profile"
            } else {
                "flat day"
            };
            let tz = if c.time_zones && s.has_time_zones() {
                "time zones as given"
            } else {
                "one time zone"
            };
            format!("{device} pool: {batch}, {day}, {tz}")
        }
    }
}

/// Split the devices factor of every pair of `s` (see [`waterfall_pairs`])
/// into steps, the movable ones in `order` (a permutation of
/// [`DEFAULT_ORDER`]), at the largest pool size.
pub fn waterfall(with_outages: &Scenario, order: &[Step]) -> WaterfallResults {
    let sized = with_outages.for_sizing();
    let s: &Scenario = &sized;
    let pool_size = s.sizing.pool_sizes.last().copied().unwrap_or(s.users);
    let order_label = [Step::IdleTime, Step::PoolSize]
        .iter()
        .chain(order)
        .map(|st| st.name())
        .collect::<Vec<_>>()
        .join(",");
    let pairs = waterfall_pairs(s);
    let chains: Vec<Vec<(Step, Fleet, Fleet)>> =
        pairs.iter().map(|&(_, p)| chain(s, p, order)).collect();
    // Every fleet to size once: (pair, fleet), in a fixed order.
    let mut todo: BTreeMap<(usize, Fleet), ()> = BTreeMap::new();
    for (k, c) in chains.iter().enumerate() {
        for &(_, a, b) in c {
            todo.insert((k, a), ());
            todo.insert((k, b), ());
        }
    }
    let keys: Vec<(usize, Fleet)> = todo.into_keys().collect();
    let answers: Vec<Answer> = keys
        .par_iter()
        .map(|&(k, f)| answer(s, pairs[k], f, pool_size))
        .collect();
    let found = |k: usize, f: Fleet| -> &Answer {
        let i = keys
            .iter()
            .position(|&x| x == (k, f))
            .expect("every fleet of a chain is sized");
        &answers[i]
    };
    let mut out = WaterfallResults::default();
    for (k, c) in chains.iter().enumerate() {
        let (d, p) = pairs[k];
        let factors: Vec<Option<f64>> = c
            .iter()
            .map(|&(_, a, b)| step_factor(found(k, a), found(k, b)))
            .collect();
        let first = found(k, Fleet::Dedicated);
        let last = found(k, c.last().expect("a chain has steps").2);
        let total = step_factor(first, last);
        let mut cumulative = Some(1.0);
        for (n, (&(step, a, b), factor)) in c.iter().zip(&factors).enumerate() {
            cumulative = cumulative.zip(*factor).map(|(x, y)| x * y);
            let (from, to) = (found(k, a), found(k, b));
            let mut row = vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell(
                    "dedicated_placement",
                    Value::Str(s.placements[d].name.clone()),
                ),
                cell("pooled_placement", Value::Str(s.placements[p].name.clone())),
                cell(columns::POOL_SIZE, Value::U64(pool_size as u64)),
                cell("order", Value::Str(order_label.clone())),
                cell("step_index", Value::U64(n as u64 + 1)),
                cell("step", Value::Str(step.name().into())),
                cell("cause", Value::Str(step.cause().into())),
            ];
            for (side, x) in [("from", from), ("to", to)] {
                row.extend([
                    cell(format!("{side}_fleet"), Value::Str(x.label.clone())),
                    cell(format!("{side}_devices_total"), Value::F64(x.devices)),
                    cell(format!("{side}_feasible"), Value::Bool(x.feasible)),
                    cell(
                        format!("{side}_servers_per_pool"),
                        Value::F64(x.servers_per_pool),
                    ),
                    cell(
                        format!("{side}_slo_detail"),
                        Value::Str(x.slo_detail.clone()),
                    ),
                ]);
            }
            row.extend([
                cell("factor", Value::F64(*factor)),
                cell("cumulative_factor", Value::F64(cumulative)),
                cell("total_factor", Value::F64(total)),
            ]);
            out.steps.push(row);
        }
        for (&(kk, f), a) in keys.iter().zip(&answers) {
            let Some(r) = &a.row else { continue };
            if kk != k {
                continue;
            }
            let mut row = vec![
                cell("fleet", Value::Str(a.label.clone())),
                cell(
                    "dedicated_placement",
                    Value::Str(s.placements[d].name.clone()),
                ),
                cell("pooled_placement", Value::Str(s.placements[p].name.clone())),
                cell(
                    "fleet_kind",
                    Value::Str(
                        if f == Fleet::Dedicated {
                            "dedicated"
                        } else {
                            "pool"
                        }
                        .into(),
                    ),
                ),
            ];
            row.extend(r.iter().cloned());
            out.fleets.push(row);
        }
    }
    out
}

/// The factor of one step: devices before over devices after, when both
/// fleets have a size that meets the service level (the busy fleet is not
/// sized: it has the offered load's devices).
fn step_factor(from: &Answer, to: &Answer) -> Option<f64> {
    let ok = |a: &Answer| a.feasible != Some(false);
    let (x, y) = (from.devices?, to.devices?);
    (ok(from) && ok(to) && y > 0.0).then(|| x / y)
}

/// Size (or, for the busy fleet, compute) one fleet of the pair (`d`, `p`).
fn answer(s: &Scenario, (d, p): (usize, usize), f: Fleet, pool_size: usize) -> Answer {
    let name = label(s, d, p, f);
    let fleet_scenario = match f {
        Fleet::Dedicated => s.dedicated_only(d, &name),
        Fleet::Pool(c) => s.counterfactual_pool(d, p, c, pool_size, &name),
        Fleet::Busy => {
            // The dedicated devices' offered load: device-seconds of work
            // per second, each request alone on its user's device.
            let v = s.view(d);
            let tp = s.placements[d]
                .llm()
                .map_or(1.0, |l| f64::from(l.tensor_parallel));
            return Answer {
                label: name,
                devices: Some(v.offered_load_erlangs() * tp),
                feasible: None,
                servers_per_pool: None,
                slo_detail:
                    "not sized: the offered load (requests per second x mean service time alone)"
                        .into(),
                row: None,
            };
        }
    };
    let rows = super::size_scenario(&fleet_scenario).rows;
    let row = rows
        .into_iter()
        .next()
        .expect("a one-placement scenario has one sizing row");
    let number = |c: &str| get(&row, c).and_then(Value::as_f64);
    let feasible = matches!(get(&row, "feasible"), Some(Value::Bool(Some(true))));
    let text = |c: &str| get(&row, c).map(Value::display).unwrap_or_default();
    let detail = if feasible {
        text(columns::SLO_DETAIL)
    } else {
        let reason = text("reason");
        if reason.is_empty() {
            text(columns::SLO_DETAIL)
        } else {
            reason
        }
    };
    Answer {
        label: name,
        devices: number(columns::DEVICES_TOTAL).filter(|_| feasible),
        feasible: Some(feasible),
        servers_per_pool: number(columns::SERVERS_PER_POOL),
        slo_detail: detail,
        row: Some(row),
    }
}
