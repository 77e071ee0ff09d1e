//! The calibration's results: every row's prediction and error, the fitted
//! parameters, the leave-one-set-up-out predictions, as Markdown
//! (docs/calibration.md) and as the fitted-values file
//! (scenarios/catalog/calibrated.toml).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::llm::{Catalog, EngineCatalog};

use super::fit::{loo_asserted, Field, Owner, Param, Problem, PRIOR_WEIGHT};
use super::table::{Measurement, Metric};
use super::CalibrationError;

/// Largest relative error of a throughput, TPOT, prefill or decode row.
pub const TOLERANCE: f64 = 0.20;
/// Largest relative error of a power row.
pub const POWER_TOLERANCE: f64 = 0.25;
/// Largest relative error of a left-out set-up's throughput or TPOT.
pub const LOO_TOLERANCE: f64 = 0.30;

/// One row next to its prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct RowResult {
    /// The measurement.
    pub m: Measurement,
    /// The simulated figure.
    pub predicted: f64,
    /// `predicted / measured - 1`.
    pub error: f64,
    /// The row's tolerance.
    pub tolerance: f64,
    /// Whether `|error| <= tolerance`.
    pub within: bool,
    /// Whether the row was fitted (false: out of sample).
    pub fitted: bool,
}

impl RowResult {
    /// `m` next to its prediction; `fitted` false for out-of-sample rows.
    fn new(m: &Measurement, predicted: f64, fitted: bool) -> RowResult {
        let error = predicted / m.value - 1.0;
        // Power rows and the former reference points are held to 25 %.
        let tolerance = if m.metric.is_power() || m.reference_point {
            POWER_TOLERANCE
        } else {
            TOLERANCE
        };
        RowResult {
            m: m.clone(),
            predicted,
            error,
            tolerance,
            within: error.abs() <= tolerance,
            fitted,
        }
    }

    /// The row as a Markdown table line ending in `status`.
    fn markdown_line(&self, status: &str) -> String {
        let m = &self.m;
        format!(
            "| {} | {}.{} | {} {} | {} | {} | {} | {} | {:+.1} % | {status} |",
            m.id,
            m.device,
            m.engine,
            m.model,
            m.quantisation,
            m.setup_label(),
            m.metric.name(),
            unit_value(m, m.value),
            unit_value(m, self.predicted),
            self.error * 100.0,
        )
    }
}

/// A left-out set-up's row predicted from the other set-ups.
#[derive(Debug, Clone, PartialEq)]
pub struct LooResult {
    /// `device.engine`.
    pub pair: String,
    /// The measurement left out.
    pub m: Measurement,
    /// Its prediction after the refit.
    pub predicted: f64,
    /// `predicted / measured - 1`.
    pub error: f64,
    /// Whether the check asserts it (throughput and TPOT).
    pub asserted: bool,
    /// Whether `|error| <= LOO_TOLERANCE`.
    pub within: bool,
}

/// The whole calibration.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Every row.
    pub rows: Vec<RowResult>,
    /// Every parameter, fitted or not, and whether it was free.
    pub params: Vec<(Param, bool)>,
    /// Leave-one-set-up-out predictions.
    pub loo: Vec<LooResult>,
}

/// Four significant digits (what calibrated.toml stores).
fn round4(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let e = v.abs().log10().floor() as i32 - 3;
    let f = 10f64.powi(-e);
    (v * f).round() / f
}

/// Fits `rows` from the priors (`catalog` without fitted values, `priors`
/// the engine file without calibrated.toml) and checks every pair by
/// leaving each of its set-ups out.
pub fn calibrate(
    rows: &[Measurement],
    catalog: &Catalog,
    priors: &EngineCatalog,
) -> Result<Calibration, CalibrationError> {
    let problem = Problem::new(rows, catalog, priors)?;
    let x0 = problem.values();
    let fitted = problem.fit(&x0, &BTreeSet::new(), None)?;
    let x: Vec<f64> = fitted
        .iter()
        .zip(&problem.params)
        .map(|(&v, p)| round4(v).clamp(p.lo, p.hi))
        .collect();
    let mut out = Vec::new();
    for (i, m) in rows.iter().enumerate() {
        out.push(RowResult::new(
            m,
            problem.predict(i, &x)?,
            problem.fitted[i],
        ));
    }
    let loo = leave_one_out(&problem, &x)?;
    let params = problem
        .params
        .iter()
        .enumerate()
        .map(|(j, p)| {
            let free = problem.is_free(j);
            let mut p = p.clone();
            p.value = if free { x[j] } else { p.prior };
            (p, free)
        })
        .collect();
    Ok(Calibration {
        rows: out,
        params,
        loo,
    })
}

/// Predicts `rows` with the fitted values already in `catalog` (no refit):
/// how the shipped profiles do on measurements they were not fitted to.
pub fn predict_rows(
    rows: &[Measurement],
    catalog: &Catalog,
) -> Result<Vec<RowResult>, CalibrationError> {
    let problem = Problem::new(rows, catalog, catalog.engines())?;
    let x = problem.values();
    rows.iter()
        .enumerate()
        .map(|(i, m)| Ok(RowResult::new(m, problem.predict(i, &x)?, false)))
        .collect()
}

/// A Markdown table of predicted rows ([`predict_rows`]).
pub fn rows_markdown(rows: &[RowResult]) -> String {
    let mut s = String::from("| id | device.engine | model | set-up | metric | measured | predicted | error | within |\n|---|---|---|---|---|---:|---:|---:|---|\n");
    for r in rows {
        let _ = writeln!(
            s,
            "{}",
            r.markdown_line(if r.within { "yes" } else { "NO" })
        );
    }
    s
}

fn leave_one_out(problem: &Problem<'_>, x: &[f64]) -> Result<Vec<LooResult>, CalibrationError> {
    let rows = problem.rows();
    let mut out = Vec::new();
    let pairs: BTreeSet<(String, String)> = (0..rows.len())
        .filter(|&i| problem.fitted[i])
        .map(|i| problem.root(i).clone())
        .collect();
    for pair in pairs {
        let of: Vec<usize> = (0..rows.len())
            .filter(|&i| problem.fitted[i] && problem.root(i) == &pair)
            .collect();
        let setups: BTreeSet<_> = of.iter().map(|&i| rows[i].setup_key()).collect();
        if setups.len() < 3 {
            continue;
        }
        for setup in setups {
            let left: BTreeSet<usize> = of
                .iter()
                .copied()
                .filter(|&i| rows[i].setup_key() == setup)
                .collect();
            let only: BTreeSet<usize> = of
                .iter()
                .flat_map(|&i| problem.params_of(i))
                .filter(|&j| match &problem.params[j].owner {
                    Owner::Profile(d, e) => (d, e) == (&pair.0, &pair.1),
                    Owner::Routing(..) => true,
                    Owner::Power(d) => d == &pair.0,
                })
                .collect();
            let refit = problem.fit(x, &left, Some(&only))?;
            for &i in &left {
                let predicted = problem.predict(i, &refit)?;
                let error = predicted / rows[i].value - 1.0;
                let asserted = loo_asserted(rows[i].metric);
                out.push(LooResult {
                    pair: format!("{}.{}", pair.0, pair.1),
                    m: rows[i].clone(),
                    predicted,
                    error,
                    asserted,
                    within: error.abs() <= LOO_TOLERANCE,
                });
            }
        }
    }
    Ok(out)
}

fn unit_value(m: &Measurement, v: f64) -> String {
    match m.metric {
        Metric::TpotMean => format!("{:.2} ms", v * 1e3),
        Metric::BoardPowerPerGpu => format!("{v:.0} W"),
        _ if v < 100.0 => format!("{v:.1} tok/s"),
        _ => format!("{v:.0} tok/s"),
    }
}

fn value_text(_field: Field, v: f64) -> String {
    let t = format!("{}", round4(v));
    if t.contains(['.', 'e', 'i', 'N']) {
        t
    } else {
        format!("{t}.0")
    }
}

/// docs/calibration.md.
pub fn markdown(c: &Calibration) -> String {
    let mut s = String::from(
        "# Calibration\n\n\
         Generated by `sharesim calibrate --write` from `data/calibration/measurements.csv`: do not edit.\n\
         Every row's benchmark set-up is simulated through the batching engine (docs/model.md section 14);\n\
         the (device, engine) parameters, expert pool shares and device power values are fitted by\n\
         least squares on log errors within physical bounds, from the priors of\n\
         `scenarios/catalog/engines.toml` and `devices.toml`",
    );
    let _ = writeln!(
        s,
        " (with a pull of {PRIOR_WEIGHT} per log unit toward each prior), and written to\n\
         `scenarios/catalog/calibrated.toml`. Tolerances: {:.0} % for throughput, TPOT, prefill and decode\n\
         rows, {:.0} % for power rows and the former reference points (data/calibration/reference-points.csv); rows of a profile that copies another (`like`) are out of sample.\n",
        TOLERANCE * 100.0,
        POWER_TOLERANCE * 100.0
    );
    s.push_str("## Rows\n\n| id | device.engine | model | set-up | metric | measured | predicted | error | status |\n|---|---|---|---|---|---:|---:|---:|---|\n");
    for r in &c.rows {
        let status = match (r.fitted, r.within) {
            (true, true) => "fit, ok",
            (true, false) => "fit, OUTSIDE",
            (false, true) => "out of sample, ok",
            (false, false) => "out of sample, OUTSIDE",
        };
        let _ = writeln!(s, "{}", r.markdown_line(status));
    }
    s.push_str("\n## Leave one set-up out\n\nFor every (device, engine) pair with three or more set-ups: every row of one set-up removed, that\npair's parameters (and the pool shares of its rows) refitted on the rest, the set-up predicted.\nThroughput and TPOT rows must be within ");
    let _ = writeln!(
        s,
        "{:.0} % (power and prefill rows are shown, not asserted).\n",
        LOO_TOLERANCE * 100.0
    );
    s.push_str("| pair | left out | model | metric | measured | predicted | error | asserted |\n|---|---|---|---|---:|---:|---:|---|\n");
    for l in &c.loo {
        let _ = writeln!(
            s,
            "| {} | {} | {} {} | {} | {} | {} | {:+.1} % | {} |",
            l.pair,
            l.m.setup_label(),
            l.m.model,
            l.m.quantisation,
            l.m.metric.name(),
            unit_value(&l.m, l.m.value),
            unit_value(&l.m, l.predicted),
            l.error * 100.0,
            match (l.asserted, l.within) {
                (true, true) => "yes, ok",
                (true, false) => "yes, OUTSIDE",
                (false, _) => "no",
            }
        );
    }
    s.push_str(
        "\n## Parameters\n\n| owner | key | prior | fitted | bounds |\n|---|---|---:|---:|---|\n",
    );
    for (p, free) in &c.params {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} - {} |",
            p.owner.label(),
            p.field.key(),
            value_text(p.field, p.prior),
            if *free {
                value_text(p.field, p.value)
            } else {
                "not fitted (no row determines it)".into()
            },
            value_text(p.field, p.lo),
            value_text(p.field, p.hi)
        );
    }
    s
}

/// scenarios/catalog/calibrated.toml.
pub fn calibrated_toml(c: &Calibration) -> String {
    let mut s = String::from(
        "# Fitted step-cost and power values, written by `sharesim calibrate --write`\n\
         # from data/calibration/measurements.csv: do not edit by hand. They override\n\
         # the priors of engines.toml and devices.toml; docs/calibration.md shows each\n\
         # fit's residuals and leave-one-out errors.\n",
    );
    let mut last: Option<Owner> = None;
    for (p, free) in &c.params {
        if !free {
            continue;
        }
        if last.as_ref() != Some(&p.owner) {
            let header = match &p.owner {
                Owner::Profile(d, e) => format!("profiles.{d}.{}", quote(e)),
                Owner::Routing(m, e) => format!("expert_routing.{m}.{}", quote(e)),
                Owner::Power(d) => format!("power.{d}"),
            };
            let _ = write!(s, "\n[{header}]\n");
            last = Some(p.owner.clone());
        }
        let _ = writeln!(s, "{} = {}", p.field.key(), value_text(p.field, p.value));
    }
    s
}

fn quote(key: &str) -> String {
    if key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_string()
    } else {
        format!("\"{key}\"")
    }
}
