//! Service-level sizing: the least hardware that meets the scenario's
//! service level, for every placement and every pool size.
//!
//! Pooled fleets: an analytic first guess (Erlang-C for a wait-tail target,
//! the offered load `a` itself for batching LLM servers, else square-root
//! staffing `a + sqrt(a)` on the peak offered load, where a
//! batching LLM server's capacity is its saturated request rate), then
//! galloping away from the guess and bisection between the last failing and
//! the first passing fleet. Every probe runs the scenario's replications with
//! the same seeds (common random numbers), so probes differ only by the fleet.
//! A probe runs in rounds: early looks on a sixteenth and a quarter of its
//! window stop it once every target's 99 % interval lies on one side of its
//! bound; otherwise the full round judges the 95 % intervals
//! ([`crate::slo`]). A probe meets the service level only if every target
//! holds at the unfavourable end of its interval and the probe is trusted:
//! no replication unstable, enough measured requests (a short run is
//! lengthened, doubling its measured window up to 16x), and a warm-up of at
//! least ten mean response times; an interval still across a bound at the
//! end is "undecided", never met. Bounds that no fleet can beat (TPOT
//! below the device's batch-1 step, TTFT below network + prefill) end the
//! search at once with "infeasible"; otherwise the search stops at
//! `max_servers` with "infeasible".
//!
//! Pool-size curve: users split into pools of k; pools are statistically
//! identical, so one pool of k users is sized and the result scaled by
//! users / k.
//!
//! Dedicated placements are judged as they are: one device per user.
//!
//! Elastic fleets (`[sizing] elastic = "hourly"`): every pooled placement
//! is also sized hour by hour at its largest pool size ([`elastic`]); its
//! row gains the schedule's peak and mean servers, GPU-hours, rental,
//! capex and energy, and the cheaper policy, and elastic.parquet one row
//! per hour.
//!
//! Pool sizes, pool compositions and dedicated user groups are sized in
//! parallel; every probe's answer depends only on its own inputs, so the
//! results are the same for any thread count. Pool compositions that are
//! the same pool (same placement, users and class counts: users are
//! renumbered from 0) are sized once and share their probes.
//!
//! Layout: `probe` (one fleet size run and judged), `search` (the analytic
//! guess and the galloping/bisection search of [`size_pool`]), `pools`
//! (pool compositions), `dedicated` (dedicated users and devices), `rows`
//! (sizing, hybrid, probe and user-group rows), `profile` (what each
//! placement's probes cost), `elastic` (hourly schedules), `waterfall`
//! (the devices factor split into causes, from counterfactual sizings);
//! [`size_scenario`] here puts them together. The
//! public names are re-exported here.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::results::table::Row;
use crate::scenario::{PlacementKind, Scenario};

mod availability;
pub mod bill;
mod dedicated;
mod disagg;
pub mod elastic;
mod estimate;
mod models;
mod pools;
mod probe;
pub mod profile;
pub mod reactive;
mod rows;
mod search;
pub mod waterfall;

pub use availability::down_shares;
pub use dedicated::{DedicatedCheck, UserGroupCheck};
pub use estimate::estimate_rows;
pub use pools::{part_pool_users, pool_types};
pub use probe::{probe_fleet, probe_horizon_s, Decision, Probe, ProbeCost, EARLY_LOOKS};
pub use profile::PlacementProfile;
pub use search::{
    analytic_guess, guess_method, peak_load, search_start, size_pool, PeakLoad, PoolSizing,
};
pub use waterfall::{
    parse_order, waterfall, waterfall_pairs, Step, WaterfallResults, DEFAULT_ORDER,
};

use dedicated::{choose_dedicated_devices, size_dedicated};
use pools::composition_label;
use rows::{
    add_cheapest_devices, add_hybrid_rows, add_sharing_factors, probe_and_group_rows, sizing_row,
};

/// Everything `sharesim size` produced.
#[derive(Debug, Clone)]
pub struct SizingResults {
    /// One row per placement (or hybrid) and pool size (sizing.parquet).
    pub rows: Vec<Row>,
    /// One row per probe (probes.parquet).
    pub probes: Vec<Row>,
    /// Dedicated placements: one row per group of users checked on their
    /// own (class x request-rate band) (dedicated_users.parquet).
    pub user_groups: Vec<Row>,
    /// Dedicated placements with `[sizing] dedicated_devices`: one row per
    /// placement and catalogue device tried (dedicated_devices.parquet).
    pub device_choices: Vec<Row>,
    /// What each placement's probes cost (also added to
    /// [`profile::take`]'s tally).
    pub profile: Vec<PlacementProfile>,
    /// With `[world]`: every feasible answer extrapolated to the whole user
    /// base (world.parquet).
    pub world: Vec<Row>,
    /// Elastic schedules: one row per pooled placement and UTC hour
    /// (elastic.parquet); empty unless `[sizing] elastic = "hourly"`.
    pub elastic: Vec<Row>,
}

/// One sizing task: (placement, pool size over all classes, users per pool
/// served here).
pub(crate) type Task = (usize, usize, usize);

/// One pool composition of a task to size: (task index, share of pools
/// with it, users of each class; `None` for a dedicated placement).
type Subtask = (usize, f64, Option<Vec<u32>>);

/// One sizing task's answer: each pool composition's share of pools and
/// sizing, and the per-user check of a dedicated placement.
pub(crate) type TaskAnswer = (Vec<(f64, PoolSizing)>, Option<DedicatedCheck>);

/// Size every placement of the scenario at every pool size, each on its
/// view (the classes it serves), then add every hybrid's rows. Placements
/// and pool sizes run in parallel; each probe's replications too.
pub fn size_scenario(with_outages: &Scenario) -> SizingResults {
    // Fleets are sized without outages (docs/model.md section 20); the
    // availability columns add them back analytically.
    let sized = with_outages.for_sizing();
    let s: &Scenario = &sized;
    let views: Vec<Scenario> = (0..s.placements.len()).map(|p| s.view(p)).collect();
    let tasks = sizing_tasks(s, &views);
    let subtasks = pool_subtasks(s, &views, &tasks);
    let (sized, profile) = size_subtasks(s, &views, &tasks, &subtasks);
    profile::record(&profile);
    let mut rows: Vec<Row> = sized
        .iter()
        .zip(&tasks)
        .map(|((types, check), &(i, k, _))| {
            let refs: Vec<(f64, &PoolSizing)> = types.iter().map(|(w, z)| (*w, z)).collect();
            sizing_row(s, &views[i], k, &refs, check.as_ref())
        })
        .collect();
    // Other catalogue devices for dedicated placements: each sized like the
    // placement itself; the cheapest that every user's service level holds
    // on is named in the placement's row.
    let device_choices = choose_dedicated_devices(s);
    add_cheapest_devices(&mut rows, &device_choices);
    add_hybrid_rows(s, &tasks, &mut rows);
    // Sharing factors against the first dedicated placement serving the
    // same classes.
    add_sharing_factors(&mut rows);
    bill::add_breakeven(s, &mut rows);
    bill::add_cost_of_privacy(s, &mut rows);
    let world = bill::world_rows(s, &rows);
    availability::add_availability(with_outages, &mut rows);
    let elastic_rows = add_elastic(s, &views, &tasks, &sized, &mut rows);
    models::add_model_replicas(s, &sized, &mut rows);
    let (probes, user_groups) = probe_and_group_rows(s, &tasks, &sized);
    SizingResults {
        rows,
        probes,
        user_groups,
        device_choices,
        profile,
        world,
        elastic: elastic_rows,
    }
}

/// With `[sizing] elastic = "hourly"`, size every pooled placement hour by
/// hour at the largest pool size, and with `[sizing.reactive]` run it under
/// the reactive autoscaler; add the policies' columns to its row (every
/// other row gets them empty); the elastic.parquet rows. Without either,
/// rows are left as they are.
fn add_elastic(
    s: &Scenario,
    views: &[Scenario],
    tasks: &[Task],
    sized: &[TaskAnswer],
    rows: &mut [Row],
) -> Vec<Row> {
    let reactive_on = s.sizing.reactive.is_some();
    if !s.sizing.elastic && !reactive_on {
        return Vec::new();
    }
    let largest = s.sizing.pool_sizes.last().copied().unwrap_or(s.users);
    let chosen: Vec<usize> = (0..tasks.len())
        .filter(|&t| {
            let (i, k, _) = tasks[t];
            k == largest && matches!(s.placements[i].kind, PlacementKind::Pooled { .. })
        })
        .collect();
    type Policies = (Vec<elastic::HourSizing>, Option<Vec<reactive::ReactiveRun>>);
    let policies: Vec<Policies> = chosen
        .par_iter()
        .map(|&t| {
            let (i, _, users) = tasks[t];
            let hours = if s.sizing.elastic {
                elastic::size_hours(&views[i], users)
            } else {
                Vec::new()
            };
            let servers = sized[t].0.first().and_then(|(_, z)| z.servers);
            let runs = reactive_on.then(|| match servers {
                Some(n) => reactive::run_reactive(&views[i], users, n),
                None => Vec::new(),
            });
            (hours, runs)
        })
        .collect();
    // The hourly searches' and reactive runs' cost, under their own names
    // in `--profile`.
    let mut extra: Vec<PlacementProfile> = Vec::new();
    for (&t, (hours, runs)) in chosen.iter().zip(&policies) {
        let name = &s.placements[tasks[t].0].name;
        if s.sizing.elastic {
            let mut p = PlacementProfile {
                placement: format!("{name} (hourly schedule)"),
                ..PlacementProfile::default()
            };
            for probe in hours
                .iter()
                .filter(|h| h.searched)
                .flat_map(|h| &h.sizing.probes)
            {
                p.probes += 1;
                p.early += u64::from(probe.early);
                p.undecided += u64::from(probe.decision == Decision::Undecided);
                p.cost.add(&probe.cost);
            }
            extra.push(p);
        }
        if let Some(runs) = runs {
            let mut p = PlacementProfile {
                placement: format!("{name} (reactive autoscaler)"),
                ..PlacementProfile::default()
            };
            for r in runs {
                p.probes += 1;
                p.cost.rounds += 1;
                p.cost.replications += r.replications as u64;
                p.cost.simulated_requests += r.simulated_requests;
            }
            extra.push(p);
        }
    }
    profile::record(&extra);
    let mut out = Vec::new();
    let mut cells: Vec<Option<Vec<(&'static str, crate::results::table::Value)>>> =
        vec![None; rows.len()];
    for (&t, (hours, runs)) in chosen.iter().zip(&policies) {
        let rented =
            s.placements[tasks[t].0].billing.ownership == crate::scenario::Ownership::Rented;
        let (c, r) = elastic::elastic_cells(s, &rows[t], hours, runs.as_deref(), rented);
        cells[t] = Some(c);
        out.extend(r);
    }
    for (row, c) in rows.iter_mut().zip(cells) {
        for (name, v) in c.unwrap_or_else(|| elastic::no_elastic_cells(reactive_on)) {
            row.push(crate::results::table::cell(name, v));
        }
    }
    out
}

/// Where the sizing of one pooled placement at one pool size (and pool
/// composition) starts: what [`size_scenario`] would probe first.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchStart {
    /// Index of the placement.
    pub placement: usize,
    /// Users per pool over all classes (the `pool_size` column).
    pub pool_size: usize,
    /// Of them, users this placement serves.
    pub pool_users: usize,
    /// Users of each class in the pool, e.g. `agents 1 + chat 3` (empty
    /// with one class).
    pub composition: String,
    /// Share of the pools with this composition.
    pub share: f64,
    /// The first fleet probed and the largest searched, or why no fleet
    /// can meet the service level (see [`search_start`]).
    pub start: Result<(usize, usize), String>,
    /// How the first guess is made ([`guess_method`]).
    pub method: &'static str,
    /// The closed-form estimate of servers per pool ([`analytic_guess`],
    /// not capped at the largest fleet searched); None when the search
    /// cannot start.
    pub estimate: Option<usize>,
    /// The pool's peak offered load the estimate is formed from.
    pub load: PeakLoad,
}

/// Where the sizing search of every pooled placement, pool size and pool
/// composition of `s` starts, without simulating: the same tasks, views
/// and [`search_start`] that [`size_scenario`] runs. Dedicated placements
/// have no search (one device per user) and are left out.
pub fn search_starts(s: &Scenario) -> Vec<SearchStart> {
    let views: Vec<Scenario> = (0..s.placements.len()).map(|p| s.view(p)).collect();
    let tasks = sizing_tasks(s, &views);
    let mut out = Vec::new();
    // A one-class placement's infeasible bounds do not depend on the pool
    // size: checked once (with several classes they depend on the mix).
    let mut checked: BTreeMap<usize, Option<String>> = BTreeMap::new();
    for (t, share, counts) in pool_subtasks(s, &views, &tasks) {
        let (i, k, users) = tasks[t];
        let Some(counts) = counts else { continue };
        let typed;
        let (pool, composition, check) = if views[i].classes.len() > 1 {
            typed = views[i].with_class_users(&counts);
            let label = composition_label(&typed, &counts);
            let check = search::hopeless(&typed, 0);
            (&typed, label, check)
        } else {
            let check = checked
                .entry(i)
                .or_insert_with(|| search::hopeless(&views[i], 0))
                .clone();
            (&views[i], String::new(), check)
        };
        let start = search::search_start_checked(pool, 0, users, check);
        out.push(SearchStart {
            placement: i,
            pool_size: k,
            pool_users: users,
            composition,
            share,
            estimate: start.is_ok().then(|| analytic_guess(pool, 0, users)),
            load: peak_load(pool, 0, users),
            start,
            method: guess_method(&views[i], 0),
        });
    }
    out
}

/// The tasks: a dedicated placement once (at the whole population), a
/// pooled one at every pool size.
fn sizing_tasks(s: &Scenario, views: &[Scenario]) -> Vec<Task> {
    let mut tasks: Vec<Task> = Vec::new();
    for (i, p) in s.placements.iter().enumerate() {
        match p.kind {
            PlacementKind::Dedicated => tasks.push((i, s.users, views[i].users)),
            PlacementKind::Pooled { .. } => tasks.extend(
                s.sizing
                    .pool_sizes
                    .iter()
                    .map(|&k| (i, k, part_pool_users(k, views[i].users, s.users))),
            ),
        }
    }
    tasks
}

/// Pooled tasks with several classes size each pool composition.
fn pool_subtasks(s: &Scenario, views: &[Scenario], tasks: &[Task]) -> Vec<Subtask> {
    let mut subtasks: Vec<Subtask> = Vec::new();
    for (t, &(i, _, k)) in tasks.iter().enumerate() {
        match s.placements[i].kind {
            PlacementKind::Dedicated => subtasks.push((t, 1.0, None)),
            PlacementKind::Pooled { .. } => {
                for (counts, w) in pool_types(&views[i], k) {
                    subtasks.push((t, w, Some(counts)));
                }
            }
        }
    }
    subtasks
}

/// Size every subtask in parallel, then regroup: per task, its (share of
/// pools, answer) list and its dedicated check; and what each placement's
/// probes cost. Subtasks that are the same pool (placement, users per pool
/// and class counts) are sized once.
fn size_subtasks(
    s: &Scenario,
    views: &[Scenario],
    tasks: &[Task],
    subtasks: &[Subtask],
) -> (Vec<TaskAnswer>, Vec<PlacementProfile>) {
    let mut first: BTreeMap<(usize, usize, Option<Vec<u32>>), usize> = BTreeMap::new();
    let mut unique: Vec<usize> = Vec::new();
    let slot: Vec<usize> = subtasks
        .iter()
        .enumerate()
        .map(|(j, (t, _, counts))| {
            let (i, _, k) = tasks[*t];
            *first.entry((i, k, counts.clone())).or_insert_with(|| {
                unique.push(j);
                unique.len() - 1
            })
        })
        .collect();
    let done: Vec<(PoolSizing, Option<DedicatedCheck>)> = unique
        .par_iter()
        .map(|&j| &subtasks[j])
        .map(|(t, _, counts)| {
            let (i, _, k) = tasks[*t];
            match counts {
                None => {
                    let (z, check) = size_dedicated(&views[i]);
                    (z, Some(check))
                }
                Some(counts) if views[i].classes.len() > 1 => {
                    let typed = views[i].with_class_users(counts);
                    let mut z = size_pool(&typed, 0, k);
                    z.composition = composition_label(&typed, counts);
                    (z, None)
                }
                Some(_) => (size_pool(&views[i], 0, k), None),
            }
        })
        .collect();
    let profile = placement_profiles(s, tasks, subtasks, &unique, &done);
    let mut sized: Vec<TaskAnswer> = tasks.iter().map(|_| (Vec::new(), None)).collect();
    for ((t, w, _), j) in subtasks.iter().zip(slot) {
        let (z, check) = &done[j];
        sized[*t].0.push((*w, z.clone()));
        if check.is_some() {
            sized[*t].1 = check.clone();
        }
    }
    (sized, profile)
}

/// What each placement's probes cost, over the subtasks actually sized
/// (`unique`, answered by `done`), in placement order.
fn placement_profiles(
    s: &Scenario,
    tasks: &[Task],
    subtasks: &[Subtask],
    unique: &[usize],
    done: &[(PoolSizing, Option<DedicatedCheck>)],
) -> Vec<PlacementProfile> {
    let mut out: Vec<PlacementProfile> = s
        .placements
        .iter()
        .map(|p| PlacementProfile {
            placement: p.name.clone(),
            ..PlacementProfile::default()
        })
        .collect();
    for (&j, (z, check)) in unique.iter().zip(done) {
        let o = &mut out[tasks[subtasks[j].0].0];
        for p in &z.probes {
            o.probes += 1;
            o.early += u64::from(p.early);
            o.undecided += u64::from(p.decision == Decision::Undecided);
            o.cost.add(&p.cost);
        }
        if let Some(c) = check {
            o.probes += c.probes;
            o.cost.add(&c.cost);
        }
    }
    out
}
