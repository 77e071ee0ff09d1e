//! Closed-form checks (docs/model.md section 11) run through the real engine:
//! M/M/c against Erlang-C, M/D/1 and M/G/1 against Pollaczek-Khinchine,
//! dedicated devices against M/M/1, Little's law and conservation of counts.
//!
//! Each check runs R independent replications (fresh seeds, warm-up
//! discarded), takes the mean and its standard error across replications,
//! and passes when `|simulated - exact| / std_err` stays below a critical
//! value derived from the run, not picked: Student's t with R - 1 degrees of
//! freedom at a family-wise false-alarm rate of 0.1 % split evenly over all
//! checks (Bonferroni).

use std::path::Path;

use rayon::prelude::*;

use crate::core::analytic::{erlang_c, pollaczek_khinchine_wait, t_quantile, MmcWait};
use crate::core::stats::Estimate;
use crate::results::table::{cell, Row, Value};
use crate::run::{run_replication, ReplicationOutcome};
use crate::scenario::Scenario;

/// Family-wise probability that a correct engine fails any check.
pub const FAMILY_FALSE_ALARM: f64 = 0.001;

/// How much to simulate.
#[derive(Debug, Clone, Copy)]
pub struct ValidateOptions {
    /// Independent replications per check (at least 5).
    pub replications: usize,
    /// Measured customers per replication (roughly).
    pub customers_per_replication: f64,
    /// Base seed.
    pub seed: u64,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            replications: 20,
            customers_per_replication: 400_000.0,
            seed: 20_260_101,
        }
    }
}

/// One compared quantity.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// What is checked, e.g. `M/M/10 rho=0.8 P(wait>0)`.
    pub name: String,
    /// Mean over replications.
    pub simulated: f64,
    /// Standard error of that mean.
    pub std_err: f64,
    /// The closed form.
    pub exact: f64,
    /// (simulated - exact) / std_err; 0 for exact-count checks that hold.
    pub z: f64,
    /// Largest |z| accepted.
    pub z_limit: f64,
    /// Customers simulated in total for this check.
    pub customers: u64,
    /// Whether it passed.
    pub pass: bool,
}

impl CheckResult {
    /// As a table row.
    pub fn row(&self) -> Row {
        vec![
            cell("check", Value::Str(self.name.clone())),
            cell("simulated", Value::F64(Some(self.simulated))),
            cell("exact", Value::F64(Some(self.exact))),
            cell("std_err", Value::F64(Some(self.std_err))),
            cell("z", Value::F64(Some(self.z))),
            cell("z_limit", Value::F64(Some(self.z_limit))),
            cell("customers", Value::U64(self.customers)),
            cell("pass", Value::Bool(Some(self.pass))),
        ]
    }
}

/// A queue to simulate: `servers` (0 = dedicated devices, one per user).
struct Model {
    label: String,
    servers: usize,
    users: usize,
    lambda: f64,
    service: String,
}

impl Model {
    fn scenario(&self, o: &ValidateOptions, relax_s: f64) -> Scenario {
        let horizon = o.customers_per_replication / self.lambda;
        let warmup = (0.05 * horizon).max(20.0 * relax_s).min(0.5 * horizon);
        let placement = if self.servers == 0 {
            "kind = \"dedicated\"".to_string()
        } else {
            format!("kind = \"pooled\"\nservers = {}", self.servers)
        };
        let text = format!(
            "seed = {seed}\nhorizon_s = {h}\nwarmup_s = {w}\nreplications = {r}\n\
             [users]\ncount = {u}\nrequests_per_day = {rpd}\n\
             [service]\n{svc}\n\
             [[placements]]\nname = \"q\"\n{placement}\n",
            seed = o.seed,
            h = horizon + warmup,
            w = warmup,
            r = o.replications,
            u = self.users,
            rpd = self.lambda / self.users as f64 * 86_400.0,
            svc = self.service,
        );
        Scenario::from_toml_str(&text, Path::new(&format!("<validate {}>", self.label)))
            .expect("validation scenarios are valid")
    }

    fn run(&self, o: &ValidateOptions, relax_s: f64) -> Vec<ReplicationOutcome> {
        let s = self.scenario(o, relax_s);
        (0..s.replications)
            .into_par_iter()
            .map(|r| run_replication(&s, 0, r))
            .collect()
    }
}

struct Pending {
    name: String,
    values: Vec<f64>,
    exact: f64,
    customers: u64,
}

fn pending(
    name: String,
    outs: &[ReplicationOutcome],
    exact: f64,
    f: impl Fn(&ReplicationOutcome) -> f64,
) -> Pending {
    Pending {
        name,
        values: outs.iter().map(f).collect(),
        exact,
        customers: outs.iter().map(|o| o.fcfs().measured).sum(),
    }
}

/// Run every check and return the results (the caller decides how to show them).
pub fn run_checks(o: &ValidateOptions) -> Vec<CheckResult> {
    assert!(
        o.replications >= 5,
        "at least 5 replications for a t-based interval"
    );
    let mut checks: Vec<Pending> = Vec::new();
    let mut exact_failures: Vec<CheckResult> = Vec::new();
    mmc_checks(o, &mut checks, &mut exact_failures);
    dedicated_checks(o, &mut checks);
    pollaczek_khinchine_checks(o, &mut checks);
    let mut results = judge(checks, o.replications);
    results.extend(exact_failures);
    results
}

/// M/M/c against Erlang-C; at c = 10 also Little's law and conservation of
/// counts (an exact check, in `exact_failures`).
fn mmc_checks(
    o: &ValidateOptions,
    checks: &mut Vec<Pending>,
    exact_failures: &mut Vec<CheckResult>,
) {
    for (c, rho) in [(1usize, 0.5), (4, 0.75), (10, 0.8), (100, 0.9), (100, 0.95)] {
        let lambda = rho * c as f64;
        let m = Model {
            label: format!("M/M/{c} rho={rho}"),
            servers: c,
            users: 1,
            lambda,
            service: "distribution = \"exponential\"\nmean_s = 1.0".into(),
        };
        let exact = MmcWait::new(c, lambda, 1.0);
        let t = 1.0 / exact.tail_rate;
        let outs = m.run(o, 1.0 / (1.0 - rho.sqrt()).powi(2) / c as f64);
        checks.push(pending(
            format!("{} P(wait>0)", m.label),
            &outs,
            exact.p_wait,
            |x| x.fcfs().waited as f64 / x.fcfs().measured as f64,
        ));
        checks.push(pending(
            format!("{} E[Wq] s", m.label),
            &outs,
            exact.mean_wait_s,
            |x| x.fcfs().wait.mean_s().unwrap_or(0.0),
        ));
        checks.push(pending(
            format!("{} P(Wq>{t:.3}s)", m.label),
            &outs,
            exact.p_wait_above(t),
            |x| x.fcfs().wait.share_above(t).unwrap_or(0.0),
        ));
        if c == 10 {
            checks.push(little_check(&m.label, &outs));
            exact_failures.push(conservation_check(&m.label, &outs));
        }
    }
}

/// Little's law: time-average number in system vs throughput x mean
/// response time, per replication; the difference must be 0.
fn little_check(label: &str, outs: &[ReplicationOutcome]) -> Pending {
    pending(format!("{label} Little L - lambda W"), outs, 0.0, |x| {
        let r = x.fcfs();
        let w = r.window();
        r.in_system_s / w.len_s()
            - r.measured as f64 / w.len_s() * r.response.mean_s().unwrap_or(0.0)
    })
}

/// Conservation of counts: exact.
fn conservation_check(label: &str, outs: &[ReplicationOutcome]) -> CheckResult {
    let bad = outs
        .iter()
        .filter(|x| {
            let r = x.fcfs();
            r.arrived != r.completed_by_horizon + r.in_flight_at_horizon
        })
        .count();
    CheckResult {
        name: format!("{label} conservation arrived = completed + in flight"),
        simulated: bad as f64,
        std_err: 0.0,
        exact: 0.0,
        z: 0.0,
        z_limit: 0.0,
        customers: outs.iter().map(|x| x.fcfs().arrived).sum(),
        pass: bad == 0,
    }
}

/// Dedicated devices: each is an M/M/1 queue at the user's own load.
fn dedicated_checks(o: &ValidateOptions, checks: &mut Vec<Pending>) {
    let (users, rho) = (1000usize, 0.3);
    let m = Model {
        label: format!("dedicated x{users} M/M/1 rho={rho}"),
        servers: 0,
        users,
        lambda: rho * users as f64,
        service: "distribution = \"exponential\"\nmean_s = 1.0".into(),
    };
    let outs = m.run(o, 1.0 / (1.0 - rho));
    let exact = MmcWait::new(1, rho, 1.0);
    checks.push(pending(
        format!("{} P(wait>0)", m.label),
        &outs,
        erlang_c(1, rho),
        |x| x.fcfs().waited as f64 / x.fcfs().measured as f64,
    ));
    checks.push(pending(
        format!("{} E[Wq] s", m.label),
        &outs,
        exact.mean_wait_s,
        |x| x.fcfs().wait.mean_s().unwrap_or(0.0),
    ));
}

/// M/D/1 and M/G/1 (lognormal, scv = 4) against Pollaczek-Khinchine.
fn pollaczek_khinchine_checks(o: &ValidateOptions, checks: &mut Vec<Pending>) {
    for (label, svc, rho, es2) in [
        (
            "M/D/1 rho=0.7",
            "distribution = \"deterministic\"\nvalue_s = 1.0",
            0.7,
            1.0,
        ),
        (
            "M/G/1 lognormal scv=4 rho=0.5",
            "distribution = \"lognormal\"\nmean_s = 1.0\ncv = 2.0",
            0.5,
            5.0,
        ),
    ] {
        let m = Model {
            label: label.into(),
            servers: 1,
            users: 1,
            lambda: rho,
            service: svc.into(),
        };
        let outs = m.run(o, 10.0 / (1.0 - rho).powi(2));
        checks.push(pending(
            format!("{label} E[Wq] s"),
            &outs,
            pollaczek_khinchine_wait(rho, 1.0, es2),
            |x| x.fcfs().wait.mean_s().unwrap_or(0.0),
        ));
    }
}

/// Judge every statistical check at the Bonferroni-split Student's t limit
/// for `replications - 1` degrees of freedom.
fn judge(checks: Vec<Pending>, replications: usize) -> Vec<CheckResult> {
    let k = checks.len();
    let z_limit = t_quantile(
        1.0 - FAMILY_FALSE_ALARM / (2.0 * k as f64),
        replications - 1,
    );
    checks
        .into_iter()
        .map(|p| {
            let e =
                Estimate::from_values(p.values.iter().map(|v| Some(*v))).expect("replications ran");
            let z = if e.std_err > 0.0 {
                (e.mean - p.exact) / e.std_err
            } else if e.mean == p.exact {
                0.0
            } else {
                f64::INFINITY
            };
            CheckResult {
                name: p.name,
                simulated: e.mean,
                std_err: e.std_err,
                exact: p.exact,
                z,
                z_limit,
                customers: p.customers,
                pass: z.abs() <= z_limit,
            }
        })
        .collect()
}
