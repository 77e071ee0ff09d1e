//! Replication rows (replications.parquet): one flat row per placement x
//! replication ([`replication_row`]) for FCFS and LLM placements, with the
//! hardware, memory, capital and energy cells of its devices, the latency
//! percentiles and the wait tail; and one row per class of a placement
//! serving several ([`class_rows`]).

use super::load::{dedicated_overloaded, offered_utilization};
use super::{Measured, ReplicationOutcome};
use crate::core::stats::LatencyHistogram;
use crate::core::units::percentile_label;
use crate::engine::batching::FleetUsage;
use crate::metrics::{FcfsRecorder, LlmRecorder, Window};
use crate::results::columns;
use crate::results::table::{cell, Row, Value};
use crate::scenario::{LlmServer, Scenario};

/// A count measured in one replication: a measurement (`f64`) like every
/// other measured column, so that it has the type of its mean across
/// replications in summary.parquet (`u64` columns are identifiers and
/// inputs, copied unchanged into summaries).
fn count(n: u64) -> Value {
    Value::F64(Some(n as f64))
}

/// Percentiles reported for every latency (plus any a service level bounds).
pub const PERCENTILES: [f64; 4] = [50.0, 90.0, 99.0, 99.9];

/// The standard percentiles and those the service level names, ascending.
fn reported_percentiles(s: &Scenario) -> Vec<f64> {
    let mut ps: Vec<f64> = PERCENTILES.to_vec();
    ps.extend(s.service_level.targets.iter().map(|t| t.percentile));
    ps.sort_by(f64::total_cmp);
    ps.dedup();
    ps
}

/// Share of measured waits above the service level's wait-tail threshold
/// (exact count for a threshold of 0).
fn wait_tail_cell(
    s: &Scenario,
    wait: &LatencyHistogram,
    waited: u64,
    measured: u64,
) -> Option<(String, Value)> {
    let w = s.service_level.wait_tail?;
    let share = if measured == 0 {
        None
    } else if w.above_s == 0.0 {
        Some(waited as f64 / measured as f64)
    } else {
        wait.share_above(w.above_s)
    };
    Some(cell(columns::P_WAIT_ABOVE_SHARE, Value::F64(share)))
}

fn latency_cells(row: &mut Row, name: &str, h: &LatencyHistogram, percentiles: &[f64]) {
    row.push(cell(format!("{name}_mean_s"), Value::F64(h.mean_s())));
    for p in percentiles {
        row.push(cell(
            format!("{name}_{}_s", percentile_label(*p)),
            Value::F64(h.quantile_s(p / 100.0)),
        ));
    }
}

fn common_cells(s: &Scenario, o: &ReplicationOutcome, unstable: bool, w: Window) -> Row {
    let p = &s.placements[o.placement];
    let (util_offered, util_peak) = offered_utilization(s, o.placement);
    vec![
        cell("scenario", Value::Str(s.name.clone())),
        cell(columns::PLACEMENT, Value::Str(p.name.clone())),
        cell(columns::KIND, Value::Str(p.kind_name().into())),
        cell("classes", Value::Str(s.classes_label(&p.serves))),
        cell("dispatch", Value::Str(p.dispatch_name().into())),
        cell("replication", Value::U64(o.replication as u64)),
        cell("seed", Value::U64(s.seed)),
        cell("unstable", Value::Bool(Some(unstable))),
        cell("users", Value::U64(s.users as u64)),
        cell("servers", Value::U64(o.servers as u64)),
        cell("horizon_s", Value::F64(Some(w.horizon_s))),
        cell("warmup_s", Value::F64(Some(w.warmup_s))),
        cell(
            "requests_per_user_per_day",
            Value::F64(Some(s.requests_per_user_per_day)),
        ),
        cell(
            "offered_load_erlangs",
            Value::F64(Some(s.offered_load_erlangs())),
        ),
        cell("offered_utilization", Value::F64(util_offered)),
        cell("peak_offered_utilization", Value::F64(util_peak)),
    ]
}

/// The flat row of one placement x replication (columns listed in
/// docs/results-schema.md).
pub fn replication_row(s: &Scenario, o: &ReplicationOutcome) -> Row {
    let mut row = match &o.measured {
        Measured::Fcfs(r) => fcfs_row(s, o, r),
        Measured::Llm(r, usage) => llm_row(s, o, r, usage),
    };
    row.extend(super::outages::outage_cells(s, o));
    row
}

fn fcfs_row(s: &Scenario, o: &ReplicationOutcome, r: &FcfsRecorder) -> Row {
    let w = r.window();
    let unstable = offered_utilization(s, o.placement)
        .0
        .is_some_and(|u| u >= 1.0)
        || dedicated_overloaded(s, o.placement);
    let throughput = r.measured as f64 / w.len_s();
    let mut row = common_cells(s, o, unstable, w);
    row.extend([
        cell("arrived", count(r.arrived)),
        cell("completed_by_horizon", count(r.completed_by_horizon)),
        cell("in_flight_at_horizon", count(r.in_flight_at_horizon)),
        cell("rejected", count(0)),
        cell("measured", count(r.measured)),
        cell(
            columns::UTILIZATION_SHARE,
            Value::F64(Some(r.busy_s / (o.servers as f64 * w.len_s()))),
        ),
        cell("throughput_per_s", Value::F64(Some(throughput))),
        cell(
            columns::P_WAIT_SHARE,
            Value::F64((r.measured > 0).then(|| r.waited as f64 / r.measured as f64)),
        ),
    ]);
    if let Some(pd) = s.placements[o.placement].priced_device() {
        row.push(cell("device", Value::Str(pd.device.name.clone())));
        // Generic service times: busy power while serving, idle otherwise.
        let d = &pd.device;
        let board_j =
            d.busy_w * r.busy_s + d.idle_w * (o.servers as f64 * w.len_s() - r.busy_s).max(0.0);
        let energy = Energy {
            board_j,
            wall_j: board_j + d.host_w * o.servers as f64 * w.len_s(),
            pue: 1.0,
        };
        let (cost, _) = device_cost_cells(
            s,
            o.placement,
            d,
            o.servers as f64,
            pd.capex_per_device_usd,
            energy,
            (w.len_s(), None),
        );
        row.extend(cost);
    }
    row.extend(wait_tail_cell(s, &r.wait, r.waited, r.measured));
    let percentiles = reported_percentiles(s);
    latency_cells(&mut row, "wait", &r.wait, &percentiles);
    latency_cells(&mut row, "response", &r.response, &percentiles);
    row.push(cell(
        "mean_in_system",
        Value::F64(Some(r.in_system_s / w.len_s())),
    ));
    row.push(cell(
        "little_mean_in_system",
        Value::F64(r.response.mean_s().map(|m| m * throughput)),
    ));
    row
}

/// Seconds in a day.
const DAY: f64 = crate::workload::arrivals::DAY_S;

/// Energy of a placement's devices over a window, J.
#[derive(Debug, Clone, Copy)]
struct Energy {
    /// The devices' own energy (GPU boards; computers at the wall).
    board_j: f64,
    /// At the wall: boards plus host share, times the site's PUE.
    wall_j: f64,
    /// The site's PUE `wall_j` includes.
    pue: f64,
}

/// Hardware, memory, capital, energy (`energy.wall_j` over a `win_s`
/// window) and the whole bill of placement `j`'s `devices` devices, which
/// produced `output_tokens_per_s` (LLM placements).
fn device_cost_cells(
    s: &Scenario,
    j: usize,
    dev: &crate::llm::catalog::Device,
    devices: f64,
    capex_per_device_usd: f64,
    energy: Energy,
    (win_s, output_tokens_per_s): (f64, Option<f64>),
) -> (Row, f64) {
    let energy_j = energy.wall_j;
    let mem_total = devices * dev.mem_gb;
    let capex = devices * capex_per_device_usd;
    let energy_kwh_day = energy_j / 3.6e6 * DAY / win_s;
    let users = s.users as f64;
    let mut cells = vec![
        cell(columns::DEVICES_TOTAL, Value::F64(Some(devices))),
        cell(columns::MEM_GB_TOTAL, Value::F64(Some(mem_total))),
        cell(
            columns::MEM_GB_PER_USER,
            Value::F64(Some(mem_total / users)),
        ),
        cell(columns::CAPEX_USD_TOTAL, Value::F64(Some(capex))),
        cell(columns::CAPEX_USD_PER_USER, Value::F64(Some(capex / users))),
        cell(
            "rental_usd_per_day",
            Value::F64(dev.rental_usd_per_h.map(|h| h * 24.0 * devices)),
        ),
        cell(
            columns::ENERGY_KWH_PER_DAY_TOTAL,
            Value::F64(Some(energy_kwh_day)),
        ),
        cell(
            "energy_kwh_per_user_per_day",
            Value::F64(Some(energy_kwh_day / users)),
        ),
    ];
    let drawn = super::bill::Drawn {
        wall_kwh_per_day: energy_kwh_day,
        pue: energy.pue,
        output_tokens_per_s,
    };
    cells.extend(super::bill::bill_cells(
        s,
        j,
        dev,
        devices,
        capex_per_device_usd,
        &drawn,
    ));
    (cells, energy_j)
}

/// Energy of an LLM placement over a `win_s` window: idle power of every
/// device all the time, plus the energy above idle of the steps run (pooled:
/// counted by the engine step by step; dedicated: busy time x the mean
/// power above idle of a lone request of mean size), plus the host share,
/// times the site's PUE (docs/model.md section 8).
fn llm_energy(s: &Scenario, o: &ReplicationOutcome, u: &FleetUsage, win_s: f64) -> Energy {
    let server = s.placements[o.placement].llm().expect("LLM placement");
    let l = s.llm_of(o.placement).expect("LLM placement");
    let devices = o.servers as f64 * server.tensor_parallel as f64;
    let dev = &server.device;
    let active_j = match s.placements[o.placement].kind {
        crate::scenario::PlacementKind::Dedicated => {
            let (input, output) = (
                l.input_tokens.mean().round() as u64,
                l.output_tokens.mean().round().max(1.0) as u64,
            );
            let (pre, dec) = server.step.single_request_s(input, output);
            let active_w =
                server.step.single_request_active_j(input, output) / (pre + dec).max(1e-12);
            active_w * u.busy_s
        }
        _ => u.active_energy_j,
    };
    let board_j = dev.idle_w * devices * win_s + active_j;
    Energy {
        board_j,
        wall_j: (board_j + dev.host_w * devices * win_s) * server.pue,
        pue: server.pue,
    }
}

/// `model_loads`: the swap pool's loads (null without swapped models).
fn model_loads_cell(p: &crate::scenario::Placement, u: &FleetUsage) -> (String, Value) {
    let swaps = p.models.iter().any(|f| f.swapped);
    cell(
        "model_loads",
        Value::F64(swaps.then_some(u.model_loads as f64)),
    )
}

fn llm_row(s: &Scenario, o: &ReplicationOutcome, r: &LlmRecorder, u: &FleetUsage) -> Row {
    let p = &s.placements[o.placement];
    let server = p.llm().expect("LLM placement");
    let l = s.llm_of(o.placement).expect("LLM placement");
    // The model served: a fallback's own, else its classes'.
    let (model, quantisation) = server
        .own_model
        .as_ref()
        .map_or((&l.model.name, &l.quantisation), |(m, q)| (m, q));
    let w = r.window();
    let win = w.len_s();
    let analytic_overload = offered_utilization(s, o.placement)
        .0
        .is_some_and(|x| x >= 1.0)
        || dedicated_overloaded(s, o.placement);
    // Pooled batching fleets: more than 1 % of the arrivals still queued
    // (not admitted) at the horizon means the queue kept growing.
    let backlog = r.queued_at_horizon() as f64 > 0.01 * r.arrived as f64;
    let unstable = analytic_overload || backlog;
    let devices = o.servers as f64 * server.tensor_parallel as f64;
    let dev = &server.device;
    let energy = llm_energy(s, o, u, win);
    let out_tok_s = r.output_tokens as f64 / win;
    let (cost, energy_j) = device_cost_cells(
        s,
        o.placement,
        dev,
        devices,
        server.capex_per_device_usd,
        energy,
        (win, Some(out_tok_s)),
    );
    let mean_batch = (u.decode_s > 0.0).then(|| u.batch_decode_area / u.decode_s);
    let mut row = common_cells(s, o, unstable, w);
    if let Some(b) = &s.benchmark {
        row.extend(super::benchmark::benchmark_cells(
            b,
            r,
            devices,
            energy.board_j,
        ));
    }
    row.extend([
        cell("model", Value::Str(model.to_string())),
        cell("quantisation", Value::Str(quantisation.to_string())),
        cell("device", Value::Str(dev.name.clone())),
        cell("tensor_parallel", Value::U64(server.tensor_parallel as u64)),
        cell("engine", Value::Str(server.engine.clone())),
        cell("pue", Value::F64(Some(server.pue))),
        cell("preemptions", count(u.preemptions)),
        model_loads_cell(p, u),
        cell(
            "prefix_cache_hit_share",
            Value::F64(
                (server.prefix_caching && u.prompt_tokens > 0)
                    .then(|| u.prefix_hit_tokens as f64 / u.prompt_tokens as f64),
            ),
        ),
        cell(
            "prefill_tokens_saved",
            Value::F64(server.prefix_caching.then_some(u.prefix_hit_tokens as f64)),
        ),
        cell(
            "prefix_cache_evictions",
            Value::F64(server.prefix_caching.then_some(u.prefix_evictions as f64)),
        ),
        cell("max_batch", Value::U64(server.max_batch as u64)),
    ]);
    row.extend(disaggregation_cells(server, o.servers, u));
    row.extend([
        cell("network_rtt_s", Value::F64(Some(server.network_rtt_s))),
        cell(
            "memory_price_multiplier",
            Value::F64(Some(l.memory_price_multiplier)),
        ),
        cell("arrived", count(r.arrived)),
        cell("completed_by_horizon", count(r.completed_by_horizon)),
        cell("in_flight_at_horizon", count(r.in_flight_at_horizon)),
        cell("rejected", count(r.rejected())),
        cell("rejected_context_limit", count(r.rejected_context)),
        cell("rejected_kv_budget", count(r.rejected_kv)),
        cell("queued_at_horizon", count(r.queued_at_horizon())),
        cell("measured", count(r.measured)),
    ]);
    row.extend(cost);
    row.extend([
        cell(
            columns::UTILIZATION_SHARE,
            Value::F64(Some(u.busy_s / (o.servers as f64 * win))),
        ),
        cell(
            "throughput_per_s",
            Value::F64(Some(r.measured as f64 / win)),
        ),
        cell("output_tokens_per_s", Value::F64(Some(out_tok_s))),
        cell(
            "output_tokens_per_s_per_device",
            Value::F64(Some(out_tok_s / devices)),
        ),
        cell(
            "tokens_per_joule",
            Value::F64((energy_j > 0.0).then(|| r.output_tokens as f64 / energy_j)),
        ),
        cell("mean_batch", Value::F64(mean_batch)),
        // Headroom beside `utilization` (a batching server is busy with a
        // batch of any size): how full its batches, its KV cache and its
        // request capacity are.
        cell(
            "batch_fill_share",
            Value::F64(mean_batch.map(|b| b / server.max_batch.max(1) as f64)),
        ),
        cell(
            "kv_occupancy_share",
            Value::F64(Some(
                u.kv_area / (o.servers as f64 * server.kv_budget_tokens.max(1) as f64 * win),
            )),
        ),
        cell(
            "saturation_share",
            Value::F64(
                super::load::llm_server_capacity_per_s(s, o.placement)
                    .filter(|c| *c > 0.0)
                    .map(|c| r.measured as f64 / win / (o.servers as f64 * c)),
            ),
        ),
        cell("events", count(u.events)),
        cell(
            columns::P_WAIT_SHARE,
            Value::F64((r.measured > 0).then(|| r.waited as f64 / r.measured as f64)),
        ),
        cell(
            columns::SLO_ATTAINMENT_SHARE,
            Value::F64((r.measured > 0).then(|| r.attained as f64 / r.measured as f64)),
        ),
    ]);
    row.extend(wait_tail_cell(s, &r.wait, r.waited, r.measured));
    let percentiles = reported_percentiles(s);
    for (name, h) in [
        ("wait", &r.wait),
        ("ttft", &r.ttft),
        ("tpot", &r.tpot),
        ("e2e", &r.e2e),
    ] {
        latency_cells(&mut row, name, h, &percentiles);
    }
    row
}

/// One row per class of a placement serving several classes (none for one
/// class), for one replication: the latency and service-level columns of
/// [`replication_row`], over that class's requests only.
pub fn class_rows(s: &Scenario, o: &ReplicationOutcome) -> Vec<Row> {
    let p = &s.placements[o.placement];
    let by_class = match &o.measured {
        Measured::Fcfs(r) => &r.by_class,
        Measured::Llm(r, _) => &r.by_class,
    };
    let percentiles = reported_percentiles(s);
    by_class
        .classes
        .iter()
        .enumerate()
        // A class with no user in this run (a pool composition without it)
        // has nothing to judge.
        .filter(|(c, _)| s.class_users(*c).1 > 0)
        .map(|(c, k)| {
            let mut row = vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell(columns::PLACEMENT, Value::Str(p.name.clone())),
                cell(columns::KIND, Value::Str(p.kind_name().into())),
                cell("class", Value::Str(s.classes[c].name.clone())),
                cell("replication", Value::U64(o.replication as u64)),
                cell("users", Value::U64(s.class_users(c).1 as u64)),
                cell("measured", count(k.measured)),
                cell(
                    columns::P_WAIT_SHARE,
                    Value::F64((k.measured > 0).then(|| k.waited as f64 / k.measured as f64)),
                ),
            ];
            row.extend(wait_tail_cell(s, &k.wait, k.waited, k.measured));
            match &o.measured {
                Measured::Fcfs(_) => {
                    latency_cells(&mut row, "wait", &k.wait, &percentiles);
                    latency_cells(&mut row, "response", &k.response, &percentiles);
                }
                Measured::Llm(..) => {
                    row.push(cell(
                        columns::SLO_ATTAINMENT_SHARE,
                        Value::F64((k.measured > 0).then(|| k.attained as f64 / k.measured as f64)),
                    ));
                    for (name, h) in [
                        ("wait", &k.wait),
                        ("ttft", &k.ttft),
                        ("tpot", &k.tpot),
                        ("e2e", &k.e2e),
                    ] {
                        latency_cells(&mut row, name, h, &percentiles);
                    }
                }
            }
            row
        })
        .collect()
}

/// A disaggregated placement's pools and KV transfers (0, 0 and nulls
/// without `[placements.disaggregated]`).
fn disaggregation_cells(
    server: &LlmServer,
    servers: usize,
    u: &FleetUsage,
) -> Vec<(String, Value)> {
    let transfers =
        (server.disaggregated.is_some() && u.kv_transfers > 0).then_some(u.kv_transfers as f64);
    vec![
        cell(
            "prefill_servers",
            Value::U64(server.disaggregated.map_or(0, |d| d.prefill_servers as u64)),
        ),
        cell(
            "decode_servers",
            Value::U64(
                server
                    .disaggregated
                    .map_or(0, |d| (servers - d.prefill_servers) as u64),
            ),
        ),
        cell(
            "kv_transfer_mean_s",
            Value::F64(transfers.map(|n| u.kv_transfer_s / n)),
        ),
        cell(
            "kv_transfer_mb_mean",
            Value::F64(transfers.map(|n| u.kv_transfer_bytes / n / 1e6)),
        ),
    ]
}
