//! The fit: (device, engine) step-cost parameters, expert pool shares and
//! device power values chosen by least squares on the log errors of the
//! rows' simulated figures, within physical bounds, and the leave-one-set-up-
//! out check.
//!
//! Parameters are fitted in log space by Levenberg-Marquardt with bounds
//! (a step that leaves them is clamped) from the priors of engines.toml and
//! devices.toml, with a weak pull toward each prior ([`PRIOR_WEIGHT`] per
//! log unit) so that a parameter the rows do not determine stays at its
//! estimate. Only parameters some row depends on are free: the per-sequence
//! cost needs a row with more than one sequence, the all-reduce latency a
//! row with tensor parallelism, the compute efficiency a row that times a
//! prompt, a pool share a prior in engines.toml and a row of that model and
//! engine, power values a power row of the device. Rows of a profile that
//! copies another (`like`) are predicted with the copied profile's fitted
//! values: out-of-sample checks, not fitted.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use crate::llm::{Catalog, Device, EngineCatalog, Model, ServingOptions};

use super::simulate::{figure, run_setup};
use super::table::{Measurement, Metric, Setup};
use super::CalibrationError;

/// Weight of the pull toward each parameter's prior, per log unit.
pub const PRIOR_WEIGHT: f64 = 0.02;

/// What a parameter sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    /// `layer_overhead_s` of a profile.
    LayerOverhead,
    /// `sequence_overhead_s` of a profile.
    SequenceOverhead,
    /// `allreduce_latency_s` of a profile.
    AllreduceLatency,
    /// `bandwidth_efficiency` (default) of a profile.
    BandwidthEfficiency,
    /// `compute_efficiency` (default) of a profile.
    ComputeEfficiency,
    /// `pool_share` of a model under an engine.
    PoolShare,
    /// A device's `idle_w`.
    IdleW,
    /// A device's `memory_power_w`.
    MemoryPowerW,
    /// A device's `compute_power_w`.
    ComputePowerW,
}

impl Field {
    /// The key in the catalogue files.
    pub fn key(self) -> &'static str {
        match self {
            Field::LayerOverhead => "layer_overhead_s",
            Field::SequenceOverhead => "sequence_overhead_s",
            Field::AllreduceLatency => "allreduce_latency_s",
            Field::BandwidthEfficiency => "bandwidth_efficiency",
            Field::ComputeEfficiency => "compute_efficiency",
            Field::PoolShare => "pool_share",
            Field::IdleW => "idle_w",
            Field::MemoryPowerW => "memory_power_w",
            Field::ComputePowerW => "compute_power_w",
        }
    }
}

/// Whose parameter it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    /// A (device, engine) profile.
    Profile(String, String),
    /// A model under an engine.
    Routing(String, String),
    /// A device's power.
    Power(String),
}

impl Owner {
    /// `device.engine`, `model.engine` or `device`.
    pub fn label(&self) -> String {
        match self {
            Owner::Profile(a, b) | Owner::Routing(a, b) => format!("{a}.{b}"),
            Owner::Power(d) => d.clone(),
        }
    }
}

/// One fitted (or fixed) parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Whose.
    pub owner: Owner,
    /// Which.
    pub field: Field,
    /// Starting value (engines.toml / devices.toml).
    pub prior: f64,
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
    /// The fitted value.
    pub value: f64,
}

/// Physical bounds of a field (`busy_w` bounds the power values).
fn bounds(field: Field, busy_w: f64) -> (f64, f64) {
    match field {
        Field::LayerOverhead => (1e-6, 5e-4),
        Field::SequenceOverhead => (1e-7, 1e-3),
        Field::AllreduceLatency => (1e-6, 2e-4),
        Field::BandwidthEfficiency => (0.3, 1.0),
        Field::ComputeEfficiency => (0.01, 1.0),
        Field::PoolShare => (0.05, 1.0),
        Field::IdleW => (busy_w * 7.0 / 100.0, busy_w * 30.0 / 100.0),
        Field::MemoryPowerW | Field::ComputePowerW => (busy_w * 5.0 / 100.0, busy_w),
    }
}

/// The rows, their resolved catalogue entries and the parameters.
pub struct Problem<'a> {
    rows: &'a [Measurement],
    catalog: &'a Catalog,
    priors: &'a EngineCatalog,
    /// Root (device, engine) of each row's profile (after `like`).
    root: Vec<(String, String)>,
    /// Whether each row is fitted (its profile is not a copy).
    pub fitted: Vec<bool>,
    /// The parameters.
    pub params: Vec<Param>,
    /// Free parameters (indices into `params`).
    free: Vec<usize>,
    /// Rows each parameter changes.
    affects: Vec<Vec<usize>>,
}

fn root_of(
    priors: &EngineCatalog,
    device: &str,
    engine: &str,
) -> Result<(String, String), CalibrationError> {
    let mut key = (device.to_string(), engine.to_string());
    for _ in 0..10 {
        let p = priors
            .profile(&key.0, &key.1)
            .map_err(|e| CalibrationError::Catalog(Box::new(e)))?;
        match &p.like {
            Some(parent) => key = parent.clone(),
            None => return Ok(key),
        }
    }
    Ok(key)
}

impl<'a> Problem<'a> {
    /// Sets up the fit of `rows` from the priors.
    pub fn new(
        rows: &'a [Measurement],
        catalog: &'a Catalog,
        priors: &'a EngineCatalog,
    ) -> Result<Problem<'a>, CalibrationError> {
        let mut root = Vec::new();
        let mut fitted = Vec::new();
        for m in rows {
            catalog.device(&m.device).map_err(|e| row_error(m, e))?;
            catalog.model(&m.model).map_err(|e| row_error(m, e))?;
            priors.engine(&m.engine).map_err(|e| row_error(m, e))?;
            priors
                .profile(&m.device, &m.engine)
                .map_err(|e| row_error(m, e))?;
            let r = root_of(priors, &m.device, &m.engine)?;
            fitted.push(r == (m.device.clone(), m.engine.clone()));
            root.push(r);
        }
        let mut params = Vec::new();
        let mut affects: Vec<Vec<usize>> = Vec::new();
        let mut push = |owner: Owner, field: Field, prior: f64, busy: f64, rows_of: Vec<usize>| {
            let (lo, hi) = bounds(field, busy);
            params.push(Param {
                owner,
                field,
                prior: prior.clamp(lo, hi),
                lo,
                hi,
                value: prior.clamp(lo, hi),
            });
            affects.push(rows_of);
        };
        let pairs: BTreeSet<(String, String)> = root.iter().cloned().collect();
        for (d, e) in &pairs {
            let p = priors
                .profile(d, e)
                .map_err(|e| CalibrationError::Catalog(Box::new(e)))?;
            let of: Vec<usize> = (0..rows.len())
                .filter(|&i| root[i] == (d.clone(), e.clone()))
                .collect();
            let owner = Owner::Profile(d.clone(), e.clone());
            push(
                owner.clone(),
                Field::LayerOverhead,
                p.layer_overhead_s,
                0.0,
                of.clone(),
            );
            push(
                owner.clone(),
                Field::SequenceOverhead,
                p.sequence_overhead_s,
                0.0,
                of.clone(),
            );
            push(
                owner.clone(),
                Field::AllreduceLatency,
                p.allreduce_latency_s,
                0.0,
                of.clone(),
            );
            push(
                owner.clone(),
                Field::BandwidthEfficiency,
                p.bandwidth_efficiency.default,
                0.0,
                of.clone(),
            );
            push(
                owner,
                Field::ComputeEfficiency,
                p.compute_efficiency.default,
                0.0,
                of,
            );
        }
        for ((model, engine), share) in &priors.routing {
            let of: Vec<usize> = (0..rows.len())
                .filter(|&i| &rows[i].model == model && &rows[i].engine == engine)
                .collect();
            if !of.is_empty() {
                push(
                    Owner::Routing(model.clone(), engine.clone()),
                    Field::PoolShare,
                    *share,
                    0.0,
                    of,
                );
            }
        }
        let power_devices: BTreeSet<String> = rows
            .iter()
            .filter(|m| m.metric.is_power())
            .map(|m| m.device.clone())
            .collect();
        for d in &power_devices {
            let dev = catalog
                .device(d)
                .map_err(|e| CalibrationError::Catalog(Box::new(e)))?;
            let of: Vec<usize> = (0..rows.len())
                .filter(|&i| &rows[i].device == d && rows[i].metric.is_power())
                .collect();
            let owner = Owner::Power(d.clone());
            push(
                owner.clone(),
                Field::IdleW,
                dev.idle_w,
                dev.busy_w,
                of.clone(),
            );
            push(
                owner.clone(),
                Field::MemoryPowerW,
                dev.memory_power_w,
                dev.busy_w,
                of.clone(),
            );
            push(
                owner,
                Field::ComputePowerW,
                dev.compute_power_w,
                dev.busy_w,
                of,
            );
        }
        let mut problem = Problem {
            rows,
            catalog,
            priors,
            root,
            fitted,
            params,
            free: Vec::new(),
            affects,
        };
        problem.free = (0..problem.params.len())
            .filter(|&j| problem.determined(j))
            .collect();
        Ok(problem)
    }

    /// Whether some fitted row depends on parameter `j`.
    fn determined(&self, j: usize) -> bool {
        let rows = self.affects[j]
            .iter()
            .filter(|&&i| self.fitted[i])
            .map(|&i| &self.rows[i]);
        let mut rows = rows.peekable();
        if rows.peek().is_none() {
            return false;
        }
        match self.params[j].field {
            Field::SequenceOverhead => rows.any(|m| m.concurrency > 1),
            Field::AllreduceLatency => rows.any(|m| m.tensor_parallel > 1),
            Field::ComputeEfficiency => rows.any(|m| {
                m.input_tokens > 0
                    && matches!(m.setup, Setup::Prefill | Setup::ClosedLoop | Setup::Offline)
            }),
            _ => true,
        }
    }

    /// Whether parameter `j` is fitted (some row determines it).
    pub fn is_free(&self, j: usize) -> bool {
        self.free.contains(&j)
    }

    /// The options, device and model row `i` runs with at parameter values `x`.
    fn setup_of(
        &self,
        i: usize,
        x: &[f64],
    ) -> Result<(Device, &'a Model, ServingOptions), CalibrationError> {
        let m = &self.rows[i];
        let mut device = self
            .catalog
            .device(&m.device)
            .map_err(|e| row_error(m, e))?
            .clone();
        let model = self.catalog.model(&m.model).map_err(|e| row_error(m, e))?;
        let mut options = ServingOptions {
            quantisation: m.quantisation.clone(),
            tensor_parallel: m.tensor_parallel,
            engine: self
                .priors
                .engine(&m.engine)
                .map_err(|e| row_error(m, e))?
                .clone(),
            profile: self
                .priors
                .profile(&m.device, &m.engine)
                .map_err(|e| row_error(m, e))?
                .clone(),
            pool_share: self.priors.pool_share(&m.model, &m.engine),
            kv_precision: crate::llm::KvPrecision::Bf16,
        };
        for (j, p) in self.params.iter().enumerate() {
            let v = x[j];
            match (&p.owner, p.field) {
                (Owner::Profile(d, e), f) if (d.clone(), e.clone()) == self.root[i] => {
                    let prof = &mut options.profile;
                    match f {
                        Field::LayerOverhead => prof.layer_overhead_s = v,
                        Field::SequenceOverhead => prof.sequence_overhead_s = v,
                        Field::AllreduceLatency => prof.allreduce_latency_s = v,
                        Field::BandwidthEfficiency => prof.bandwidth_efficiency.default = v,
                        Field::ComputeEfficiency => prof.compute_efficiency.default = v,
                        _ => {}
                    }
                }
                (Owner::Routing(model_name, engine), _)
                    if model_name == &m.model && engine == &m.engine =>
                {
                    options.pool_share = v;
                }
                (Owner::Power(d), f) if d == &m.device => match f {
                    Field::IdleW => device.idle_w = v,
                    Field::MemoryPowerW => device.memory_power_w = v,
                    Field::ComputePowerW => device.compute_power_w = v,
                    _ => {}
                },
                _ => {}
            }
        }
        Ok((device, model, options))
    }

    /// Row `i`'s simulated figure at parameter values `x`.
    pub fn predict(&self, i: usize, x: &[f64]) -> Result<f64, CalibrationError> {
        let (device, model, options) = self.setup_of(i, x)?;
        let run = run_setup(&self.rows[i], &device, model, &options)?;
        Ok(figure(&self.rows[i], &run))
    }

    fn predict_all(
        &self,
        rows: &[usize],
        x: &[f64],
    ) -> Result<Vec<(usize, f64)>, CalibrationError> {
        rows.par_iter()
            .map(|&i| self.predict(i, x).map(|p| (i, p)))
            .collect()
    }

    /// Current values of all parameters.
    pub fn values(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.value).collect()
    }

    /// Fits the free parameters among `only` (all free ones if None) to the
    /// fitted rows not in `left_out`, from `x0`; returns the values.
    pub fn fit(
        &self,
        x0: &[f64],
        left_out: &BTreeSet<usize>,
        only: Option<&BTreeSet<usize>>,
    ) -> Result<Vec<f64>, CalibrationError> {
        let free: Vec<usize> = self
            .free
            .iter()
            .copied()
            .filter(|j| only.is_none_or(|o| o.contains(j)))
            .collect();
        let rows: Vec<usize> = (0..self.rows.len())
            .filter(|i| {
                self.fitted[*i]
                    && !left_out.contains(i)
                    && free.iter().any(|&j| self.affects[j].contains(i))
            })
            .collect();
        let mut lm = Lm {
            problem: self,
            rows,
            free,
            x: x0.to_vec(),
            preds: BTreeMap::new(),
        };
        lm.run()?;
        Ok(lm.x)
    }
}

fn row_error(m: &Measurement, e: crate::llm::CatalogError) -> CalibrationError {
    CalibrationError::Setup {
        id: m.id.clone(),
        message: e.to_string(),
    }
}

/// One Jacobian column: its index, the log step taken, and the changed
/// rows' predictions.
type Column = (usize, f64, Vec<(usize, f64)>);

/// Levenberg-Marquardt in log space over a subset of rows and parameters.
struct Lm<'p, 'a> {
    problem: &'p Problem<'a>,
    rows: Vec<usize>,
    free: Vec<usize>,
    x: Vec<f64>,
    preds: BTreeMap<usize, f64>,
}

impl Lm<'_, '_> {
    fn residuals(&self, x: &[f64], preds: &BTreeMap<usize, f64>) -> Vec<f64> {
        let p = self.problem;
        let mut r: Vec<f64> = self
            .rows
            .iter()
            .map(|i| (preds[i] / p.rows[*i].value).ln())
            .collect();
        r.extend(
            self.free
                .iter()
                .map(|&j| PRIOR_WEIGHT * (x[j] / p.params[j].prior).ln()),
        );
        r
    }

    fn cost(r: &[f64]) -> f64 {
        r.iter().map(|v| v * v).sum()
    }

    fn run(&mut self) -> Result<(), CalibrationError> {
        if self.free.is_empty() || self.rows.is_empty() {
            return Ok(());
        }
        self.preds = self
            .problem
            .predict_all(&self.rows, &self.x)?
            .into_iter()
            .collect();
        let mut r = self.residuals(&self.x, &self.preds);
        let mut cost = Self::cost(&r);
        let mut lambda = 1e-2;
        for _ in 0..40 {
            let jac = self.jacobian(&r)?;
            let n = self.free.len();
            let mut a = vec![vec![0.0; n]; n];
            let mut g = vec![0.0; n];
            for (k, row) in jac.iter().enumerate() {
                for p in 0..n {
                    g[p] += row[p] * r[k];
                    for q in 0..n {
                        a[p][q] += row[p] * row[q];
                    }
                }
            }
            let mut accepted = false;
            while lambda < 1e8 {
                let mut m = a.clone();
                for p in 0..n {
                    m[p][p] += lambda * (a[p][p] + 1e-9);
                }
                let delta = solve(m, g.iter().map(|v| -v).collect());
                let mut x_new = self.x.clone();
                for (p, &j) in self.free.iter().enumerate() {
                    let prm = &self.problem.params[j];
                    x_new[j] = (self.x[j].ln() + delta[p]).exp().clamp(prm.lo, prm.hi);
                }
                let preds: BTreeMap<usize, f64> = self
                    .problem
                    .predict_all(&self.rows, &x_new)?
                    .into_iter()
                    .collect();
                let r_new = self.residuals(&x_new, &preds);
                let c_new = Self::cost(&r_new);
                if c_new < cost {
                    let gain = cost - c_new;
                    self.x = x_new;
                    self.preds = preds;
                    r = r_new;
                    cost = c_new;
                    lambda = (lambda / 3.0).max(1e-7);
                    accepted = gain > 1e-10 * cost.max(1e-12);
                    break;
                }
                lambda *= 4.0;
            }
            if !accepted {
                break;
            }
        }
        Ok(())
    }

    /// d r / d ln(x_j) by forward (or, at the upper bound, backward)
    /// differences, re-simulating only the rows each parameter changes.
    fn jacobian(&self, r: &[f64]) -> Result<Vec<Vec<f64>>, CalibrationError> {
        let p = self.problem;
        let n = self.free.len();
        let mut jac = vec![vec![0.0; n]; r.len()];
        let h = 1e-3;
        let cols: Vec<Column> = self
            .free
            .par_iter()
            .enumerate()
            .map(|(col, &j)| {
                let prm = &p.params[j];
                let mut x = self.x.clone();
                let up = (self.x[j].ln() + h).exp();
                let (xj, step) = if up <= prm.hi {
                    (up, h)
                } else {
                    ((self.x[j].ln() - h).exp(), -h)
                };
                x[j] = xj;
                let rows: Vec<usize> = self
                    .rows
                    .iter()
                    .copied()
                    .filter(|i| p.affects[j].contains(i))
                    .collect();
                let preds: Result<Vec<(usize, f64)>, CalibrationError> = rows
                    .iter()
                    .map(|&i| p.predict(i, &x).map(|v| (i, v)))
                    .collect();
                preds.map(|v| (col, step, v))
            })
            .collect::<Result<_, _>>()?;
        for (col, step, preds) in cols {
            for (i, v) in preds {
                let k = self.rows.iter().position(|&q| q == i).expect("fitted row");
                jac[k][col] = ((v / p.rows[i].value).ln() - r[k]) / step;
            }
            jac[self.rows.len() + col][col] = PRIOR_WEIGHT;
        }
        Ok(jac)
    }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let piv = (c..n)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .expect("rows");
        a.swap(c, piv);
        b.swap(c, piv);
        if a[c][c].abs() < 1e-300 {
            continue;
        }
        for i in c + 1..n {
            let f = a[i][c] / a[c][c];
            let (upper, lower) = a.split_at_mut(i);
            for (x, &y) in lower[0][c..].iter_mut().zip(&upper[c][c..]) {
                *x -= f * y;
            }
            b[i] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for c in (0..n).rev() {
        let s: f64 = (c + 1..n).map(|k| a[c][k] * x[k]).sum();
        x[c] = if a[c][c].abs() < 1e-300 {
            0.0
        } else {
            (b[c] - s) / a[c][c]
        };
    }
    x
}

/// Metric kinds the leave-one-out check asserts (throughput and TPOT).
pub fn loo_asserted(metric: Metric) -> bool {
    !matches!(metric, Metric::BoardPowerPerGpu | Metric::PrefillTokS)
}

impl Problem<'_> {
    /// The root (device, engine) pair of row `i`.
    pub fn root(&self, i: usize) -> &(String, String) {
        &self.root[i]
    }

    /// Indices of the parameters that change row `i`.
    pub fn params_of(&self, i: usize) -> BTreeSet<usize> {
        (0..self.params.len())
            .filter(|&j| self.affects[j].contains(&i))
            .collect()
    }

    /// The rows.
    pub fn rows(&self) -> &[Measurement] {
        self.rows
    }
}
