//! Raw scenario -> resolved [`Scenario`], one small resolver per section:
//! the run length ([`basics`]), `[trace]`, what requests are
//! ([`workload`], [`tokens`], [`dist`], the [`catalogue`]), placements and
//! their LLM servers, users and their behaviour and arrivals,
//! `[service_level]`, `[sizing]`; a population of `[[classes]]` is
//! resolved class by class ([`classes`]), then joined ([`join`],
//! [`hybrids`]). Checks run in a fixed order, so the first error reported
//! for a file does not change.

mod alternatives;
mod arrivals;
mod basics;
mod behaviour;
mod benchmark;
mod catalogue;
mod class;
mod classes;
mod costs;
mod disagg;
mod dist;
mod hybrids;
mod join;
mod llm_keys;
mod llm_server;
mod models;
mod names;
mod outages;
mod placements;
mod privacy;
mod service_level;
mod service_scale;
mod sizing;
mod targets;
mod tokens;
mod trace;
mod users;
mod workload;

use std::path::Path;

use crate::core::units::DAY_S;

use super::check::Check;
use super::raw::RawScenario;
use super::{Scenario, ScenarioError, SpeechTask, UserClass, Workload};

/// Resolve a parsed scenario file.
pub(crate) fn resolve(mut raw: RawScenario, path: &Path) -> Result<Scenario, ScenarioError> {
    let c = Check::new(path);
    let raw_outages = raw.outages.take();
    let outage_keys: Vec<outages::OutageKeys> =
        raw.placements.iter().map(outages::OutageKeys::of).collect();
    if raw.benchmark.is_some() {
        if raw_outages.is_some() {
            return Err(c.err(
                "outages",
                "a [benchmark] reproduces a measurement and has no outages: remove [outages]",
            ));
        }
        outages::check_keys_without_outages(&c, None, &outage_keys)?;
        if let Some(j) = raw.placements.iter().position(|p| p.swap.is_some()) {
            return Err(c.err(
                c.placement_key(j, "swap"),
                "a [benchmark] serves one model: remove [placements.swap]",
            ));
        }
        return benchmark::resolve_benchmark(&c, raw, path);
    }
    outages::check_keys_without_outages(&c, raw_outages.as_ref(), &outage_keys)?;
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let swaps: Vec<_> = raw.placements.iter().map(|p| p.swap.clone()).collect();
    let mut s = resolve_population(&c, raw, path)?;
    models::apply_swaps(&c, &swaps, &mut s)?;
    outages::apply_outages(&c, raw_outages.as_ref(), &outage_keys, &mut s, base_dir)?;
    Ok(s)
}

/// Resolve everything but `[outages]`.
fn resolve_population(
    c: &Check,
    mut raw: RawScenario,
    path: &Path,
) -> Result<Scenario, ScenarioError> {
    let c = c.clone();
    if raw.users.is_none() {
        return Err(c.err(
            "users",
            "missing: give [users] with `count` and a load (`requests_per_day` or `duty_cycle`), or a [benchmark] table",
        ));
    }
    let Some(classes) = raw.classes.take() else {
        if raw.hybrids.is_some() {
            return Err(c.err(
                "hybrids",
                "combine placements that serve different [[classes]]: add [[classes]] or remove [[hybrids]]",
            ));
        }
        if let Some(i) = raw.placements.iter().position(|p| p.serves.is_some()) {
            return Err(c.err(
                format!("placements[{i}].serves"),
                "names classes, but the scenario has no [[classes]]: add them or remove `serves`",
            ));
        }
        return resolve_one(&c, raw, path, None);
    };
    classes::resolve_classes(&c, raw, classes, path)
}

/// Resolve a scenario with one class of users (no `[[classes]]`, or one
/// class's part of a population, `c` then keying errors as the class's);
/// speech classes pass their `task`.
fn resolve_one(
    c: &Check,
    raw: RawScenario,
    path: &Path,
    task: Option<SpeechTask>,
) -> Result<Scenario, ScenarioError> {
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let run = basics::resolve_run_length(c, &raw, path)?;
    let (trace, clock_blocks) = trace::resolve_trace(c, &raw, base_dir)?.unzip();
    let (trace_clock, trace_blocks) = clock_blocks.unzip();
    let traced = trace.as_deref().map(|t| t.as_slice());
    let (workload, memory_price_multiplier) =
        workload::resolve_workload(c, &raw, traced, base_dir)?;
    let costs = costs::resolve_costs(c, &raw)?;
    let placements = placements::resolve_placements(
        c,
        &raw,
        &placements::PlacementContext {
            workload: &workload,
            task,
            catalog_files: raw.catalog.as_ref(),
            base_dir,
            memory_price_multiplier,
            costs: &costs,
        },
    )?;
    let mean_service_s = placements::reference_service_s(&workload, &placements);

    // Users and arrivals.
    let u = raw.users();
    let users = users::user_count(c, u)?;
    let behaviour = behaviour::resolve_behaviour(c, u, base_dir)?;
    users::check_rate_spread(c, u, &behaviour, raw.trace.is_some())?;
    let rate_per_user_per_s = users::request_rate_per_user_per_s(
        c,
        u,
        traced,
        &behaviour,
        run.horizon_s,
        mean_service_s,
    )?;
    let open_rate =
        users::open_rate_per_user_per_s(&behaviour, trace.is_some(), rate_per_user_per_s);
    let seed = raw.seed.unwrap_or(1);
    let arrivals = arrivals::resolve_arrivals(c, u, users, open_rate, seed, run.start_hour_of_day)?;

    let service_level = service_level::resolve_service_level(
        c,
        raw.service_level.as_ref(),
        matches!(workload, Workload::Llm(_)),
    )?;
    let sizing = sizing::resolve_sizing(c, raw.sizing.as_ref(), users)?;
    if sizing.elastic && raw.trace.is_some() {
        return Err(c.err(
            "sizing.elastic",
            "an hourly schedule needs generated arrivals with a daily profile, and a [trace] replays its own: remove `elastic` or the [trace]",
        ));
    }
    if sizing.reactive.is_some() && !matches!(workload, Workload::Llm(_)) {
        return Err(c.err(
            "sizing.reactive",
            "the reactive autoscaler drives continuous-batching LLM servers, and this scenario's workload is generic: remove [sizing.reactive]",
        ));
    }
    basics::check_request_count(
        c,
        &raw,
        &behaviour,
        &workload,
        mean_service_s,
        rate_per_user_per_s,
        users,
        run.horizon_s,
    )?;

    Ok(Scenario {
        name: run.name,
        source: path.to_path_buf(),
        seed,
        horizon_s: run.horizon_s,
        warmup_s: run.warmup_s,
        replications: run.replications,
        users,
        requests_per_user_per_day: rate_per_user_per_s * DAY_S,
        classes: vec![UserClass {
            name: "all".into(),
            groups: 0..arrivals.groups().len(),
            behaviour,
            workload,
            requests_per_user_per_day: rate_per_user_per_s * DAY_S,
            mean_service_s,
            service_level: service_level.clone(),
            local_only: false,
        }],
        arrivals,
        trace,
        trace_clock: trace_clock.flatten(),
        start_hour_of_day: run.start_hour_of_day,
        trace_blocks: trace_blocks.flatten(),
        mean_service_s,
        placements,
        hybrids: Vec::new(),
        service_level,
        sizing,
        outages: None,
        benchmark: None,
        costs,
    })
}
