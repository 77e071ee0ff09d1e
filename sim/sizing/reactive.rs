//! Reactive autoscaling (`[sizing.reactive]`): a pooled LLM placement run
//! over the whole horizon (its daily profile as it is) under the engine's
//! autoscaler ([`crate::engine::Autoscaler`]) at each concurrency target
//! listed, judged on the service level like a probe (every replication,
//! 95 % intervals, every class), and the cheapest target that meets it.
//!
//! The fleet can grow to `max_servers` (default twice the static fleet)
//! and starts at the static fleet (clamped to the limits); the run's
//! warm-up hides the start. Servers held are counted in the measurement
//! window from their request to their release:
//!
//! - GPU-hours per day: `d x held server-seconds / window x 24` (`d`
//!   devices per server);
//! - peak and mean servers held, and the mean held in each UTC hour;
//! - attainment during scale-ups: the share of measured requests that
//!   arrived while a scale-up was pending and met the targets.

use rayon::prelude::*;

use crate::engine::{Autoscaler, ScalingUsage};
use crate::results::table::{get, Row, Value};
use crate::run::{class_rows, replication_row, run_replication, summary_row, Measured};
use crate::scenario::{ReactiveConfig, Scenario};
use crate::slo::{judge_with_classes_at, Level};

/// One target's run.
#[derive(Debug, Clone)]
pub struct ReactiveRun {
    /// The reading per server it aimed at (requests in flight or requests
    /// per second, by `[sizing.reactive]`'s metric).
    pub target: f64,
    /// Whether it met the service level (trusted and every interval within
    /// its bound).
    pub meets: bool,
    /// Why not, or empty.
    pub reason: String,
    /// Most servers it could hold.
    pub max_servers: usize,
    /// The autoscaler's accounts, summed over replications.
    pub usage: ScalingUsage,
    /// Replications run.
    pub replications: usize,
    /// Requests simulated (all replications).
    pub simulated_requests: u64,
}

impl ReactiveRun {
    /// Mean servers held over the window.
    pub fn servers_mean(&self) -> f64 {
        let window: f64 = self.usage.window_s_by_hour.iter().sum();
        if window > 0.0 {
            self.usage.held_s / window
        } else {
            0.0
        }
    }

    /// Most servers held at once (the largest over replications).
    pub fn servers_peak(&self) -> f64 {
        self.usage.peak_held as f64
    }

    /// Mean servers held in UTC hour `h` (None when the window misses it).
    pub fn servers_in_hour(&self, h: usize) -> Option<f64> {
        let w = self.usage.window_s_by_hour[h];
        (w > 0.0).then(|| self.usage.held_s_by_hour[h] / w)
    }

    /// Share of the requests arriving during a scale-up that met the
    /// targets (None without any).
    pub fn scaleup_attainment(&self) -> Option<f64> {
        (self.usage.scaleup_measured > 0)
            .then(|| self.usage.scaleup_attained as f64 / self.usage.scaleup_measured as f64)
    }

    /// Requests arriving during a scale-up, per replication.
    pub fn scaleup_requests(&self) -> f64 {
        self.usage.scaleup_measured as f64 / self.replications.max(1) as f64
    }
}

/// The engine's autoscaler for target `target` of `cfg` (in its metric), most
/// `max_servers`, starting at `initial`.
pub fn autoscaler(cfg: &ReactiveConfig, target: f64, initial: usize) -> Autoscaler {
    Autoscaler {
        metric: cfg.metric,
        target,
        delay_s: cfg.delay_s,
        interval_s: cfg.interval_s,
        stabilization_s: cfg.stabilization_s,
        min_servers: cfg.min_servers,
        initial_servers: initial,
    }
}

/// Run placement 0 of view `v` (pooled, LLM) for pools of `users` under
/// the autoscaler at every target of `[sizing.reactive]`; the static fleet
/// of `static_servers` sets the default limit and the start. In target
/// order; targets run in parallel, each one's replications too.
pub fn run_reactive(v: &Scenario, users: usize, static_servers: usize) -> Vec<ReactiveRun> {
    let Some(cfg) = v.sizing.reactive.as_ref() else {
        return Vec::new();
    };
    let most = cfg
        .max_servers
        .unwrap_or(2 * static_servers.max(1))
        .max(cfg.min_servers);
    let initial = static_servers.clamp(cfg.min_servers, most);
    cfg.targets
        .par_iter()
        .map(|&target| {
            let mut s = v.clone();
            s.sizing.autoscaler = Some(autoscaler(cfg, target, initial));
            run_target(&s, users, most, target)
        })
        .collect()
}

/// One target's run (see [`run_reactive`]).
fn run_target(s: &Scenario, users: usize, most: usize, target: f64) -> ReactiveRun {
    let ps = s.probe(0, users, Some(most), s.horizon_s);
    let done: Vec<(Row, Vec<Row>, ScalingUsage)> = (0..ps.replications)
        .into_par_iter()
        .map(|r| {
            let o = run_replication(&ps, 0, r);
            let usage = match &o.measured {
                Measured::Llm(_, u) => u.scaling.as_deref().cloned().unwrap_or_default(),
                Measured::Fcfs(_) => ScalingUsage::default(),
            };
            (replication_row(&ps, &o), class_rows(&ps, &o), usage)
        })
        .collect();
    let rows: Vec<&Row> = done.iter().map(|d| &d.0).collect();
    let per_class: Vec<Row> = done.iter().flat_map(|d| d.1.clone()).collect();
    let mut usage = ScalingUsage::default();
    for (_, _, u) in &done {
        add_usage(&mut usage, u);
    }
    let summary = summary_row(&ps, &rows);
    let verdict = judge_with_classes_at(&ps, &rows, &per_class, Level::Ci95);
    let num = |c: &str| get(&summary, c).and_then(Value::as_f64);
    let unstable = matches!(get(&summary, "unstable"), Some(Value::Bool(Some(true))));
    let measured = num("measured").unwrap_or(0.0) * ps.replications as f64;
    let needed = s.sizing.min_measured_requests as f64;
    let reason = if unstable {
        "unstable: the queue grows over the run".to_string()
    } else if measured < needed {
        format!("too short: {measured:.0} measured requests, {needed:.0} needed")
    } else {
        match &verdict {
            Some(v) if !v.met => "misses the service level".to_string(),
            _ => String::new(),
        }
    };
    let simulated_requests = rows
        .iter()
        .map(|r| get(r, "arrived").and_then(Value::as_f64).unwrap_or(0.0) as u64)
        .sum();
    ReactiveRun {
        target,
        meets: reason.is_empty(),
        reason,
        max_servers: most,
        usage,
        replications: ps.replications,
        simulated_requests,
    }
}

/// Add `b`'s accounts to `a` (peak: the larger).
fn add_usage(a: &mut ScalingUsage, b: &ScalingUsage) {
    a.held_s += b.held_s;
    a.peak_held = a.peak_held.max(b.peak_held);
    for h in 0..24 {
        a.held_s_by_hour[h] += b.held_s_by_hour[h];
        a.window_s_by_hour[h] += b.window_s_by_hour[h];
    }
    a.scaleup_measured += b.scaleup_measured;
    a.scaleup_attained += b.scaleup_attained;
    a.servers_added += b.servers_added;
    a.servers_drained += b.servers_drained;
}

/// The least-cost run meeting the service level: fewest GPU-hours when
/// `rented`, else the lowest peak, then fewest GPU-hours; ties go to the
/// lower target (more headroom).
pub fn cheapest(runs: &[ReactiveRun], rented: bool) -> Option<&ReactiveRun> {
    runs.iter().filter(|r| r.meets).min_by(|a, b| {
        let key = |r: &ReactiveRun| {
            if rented {
                (r.usage.held_s, 0.0)
            } else {
                (r.servers_peak(), r.usage.held_s)
            }
        };
        let (ka, kb) = (key(a), key(b));
        ka.0.total_cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(a.target.total_cmp(&b.target))
    })
}

/// Each run in a line: `target 16: 120.3 server-hours a day, peak 9, meets`.
pub fn describe(runs: &[ReactiveRun]) -> String {
    runs.iter()
        .map(|r| {
            format!(
                "{}: mean {:.2} peak {:.0} servers, {}",
                crate::results::format_number(r.target),
                r.servers_mean(),
                r.servers_peak(),
                if r.meets { "meets" } else { r.reason.as_str() }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
