//! Uncertainty: a scenario's `[uncertainty]` table gives ranges or
//! distributions of any numeric scenario keys (by the key paths sweep axes
//! and `--set` use); `sharesim uncertainty` sizes a seeded Latin hypercube
//! of samples over them, and one-at-a-time swings (each input at its low
//! and high value, the others at their nominal), as the points of a sweep
//! (parts, resume, shards, merge: the sweep machinery), then summarises
//! them ([`super::summary`]).
//!
//! ```toml
//! [uncertainty]
//! samples = 100                       # Latin hypercube samples (default 100)
//! [uncertainty.ranges]
//! "costs.memory_price_multiplier" = { low = 1.0, high = 3.0 }
//! "placements[0].price_usd" = { dist = "triangular", low = 1999, mode = 2459, high = 6500 }
//! "users.duty_cycle" = { dist = "log_uniform", low = 0.001, high = 0.01, nominal = 0.003 }
//! ```
//!
//! Every point keeps the scenario's seed (common random numbers), so that
//! points differ only in their inputs, and a point whose inputs are the
//! file's values gives exactly the rows of `sharesim size`.

use std::path::Path;

use rand::{RngExt, SeedableRng};

use super::grid::{set_path, DesignPoint, Sweep};
use crate::core::rng::{derive_seed, fnv1a, SimRng};
use crate::results::Value;
use crate::scenario::{Scenario, ScenarioError};

/// Samples when the file and the command line give none.
pub const DEFAULT_SAMPLES: usize = 100;
/// Most samples of one design.
pub const MAX_SAMPLES: usize = 100_000;

/// Column naming what a point of the design is: `sample`, `nominal`,
/// `low` or `high`.
pub const RUN: &str = "uncertainty_run";
/// Column naming the input a swing point moves (empty for the others).
pub const INPUT: &str = "uncertainty_input";
/// Column numbering the Latin hypercube samples (null for the others).
pub const SAMPLE: &str = "uncertainty_sample";

/// The distribution of one uncertain input.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// Every value in `[low, high]` equally likely.
    Uniform {
        /// Least value.
        low: f64,
        /// Greatest value.
        high: f64,
    },
    /// Triangular on `[low, high]` with its peak at `mode`.
    Triangular {
        /// Least value.
        low: f64,
        /// Most likely value.
        mode: f64,
        /// Greatest value.
        high: f64,
    },
    /// Uniform in the logarithm: each decade of `[low, high]` equally likely.
    LogUniform {
        /// Least value (above 0).
        low: f64,
        /// Greatest value.
        high: f64,
    },
}

impl Dist {
    /// Least value.
    pub fn low(&self) -> f64 {
        match *self {
            Dist::Uniform { low, .. }
            | Dist::Triangular { low, .. }
            | Dist::LogUniform { low, .. } => low,
        }
    }

    /// Greatest value.
    pub fn high(&self) -> f64 {
        match *self {
            Dist::Uniform { high, .. }
            | Dist::Triangular { high, .. }
            | Dist::LogUniform { high, .. } => high,
        }
    }

    /// The value below which a share `u` in [0, 1] of the distribution lies.
    pub fn quantile(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        let (a, b) = (self.low(), self.high());
        if a == b {
            return a;
        }
        let x = match *self {
            Dist::Uniform { .. } => a + (b - a) * u,
            Dist::LogUniform { .. } => (a.ln() + (b.ln() - a.ln()) * u).exp(),
            Dist::Triangular { mode: c, .. } => {
                let f = (c - a) / (b - a);
                if u < f {
                    a + (u * (b - a) * (c - a)).sqrt()
                } else {
                    b - ((1.0 - u) * (b - a) * (b - c)).sqrt()
                }
            }
        };
        x.clamp(a, b)
    }

    /// The median.
    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// The name written in the file.
    pub fn name(&self) -> &'static str {
        match self {
            Dist::Uniform { .. } => "uniform",
            Dist::Triangular { .. } => "triangular",
            Dist::LogUniform { .. } => "log_uniform",
        }
    }
}

/// One uncertain input.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The scenario key, e.g. `costs.memory_price_multiplier`.
    pub key: String,
    /// Its distribution.
    pub dist: Dist,
    /// Its value while other inputs swing: `nominal`, else the median.
    pub nominal: f64,
    /// Written as whole numbers (low and high were): values are rounded.
    pub integer: bool,
}

impl Input {
    /// The TOML value of `x` for this input.
    pub fn value(&self, x: f64) -> toml::Value {
        if self.integer {
            toml::Value::Integer(x.round() as i64)
        } else {
            toml::Value::Float(x)
        }
    }
}

/// A scenario's `[uncertainty]` table, read and checked.
#[derive(Debug, Clone)]
pub struct UncertaintySpec {
    /// Latin hypercube samples.
    pub samples: usize,
    /// The inputs, in key order.
    pub inputs: Vec<Input>,
}

fn err(file: &Path, key: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        file: file.to_path_buf(),
        key: key.into(),
        message: message.into(),
    }
}

/// A number of the table: an integer or a float.
fn number(v: &toml::Value) -> Option<f64> {
    v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
}

/// One entry of `[uncertainty.ranges]`.
fn read_input(file: &Path, key: &str, v: &toml::Value) -> Result<Input, ScenarioError> {
    let at = |f: &str| format!("uncertainty.ranges.\"{key}\".{f}");
    let t = v.as_table().ok_or_else(|| {
        err(
            file,
            format!("uncertainty.ranges.\"{key}\""),
            "must be a table such as { low = 1.0, high = 3.0 } or { dist = \"triangular\", low = 1.0, mode = 1.5, high = 3.0 }",
        )
    })?;
    for name in t.keys() {
        if !["low", "high", "mode", "dist", "nominal"].contains(&name.as_str()) {
            return Err(err(
                file,
                at(name),
                "unknown field: use low, high, and optionally dist (\"uniform\", \"triangular\", \"log_uniform\"), mode (triangular) and nominal",
            ));
        }
    }
    let get = |f: &str| -> Result<Option<f64>, ScenarioError> {
        match t.get(f) {
            None => Ok(None),
            Some(v) => match number(v) {
                Some(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(err(file, at(f), format!("must be a number (got {v})"))),
            },
        }
    };
    let (Some(low), Some(high)) = (get("low")?, get("high")?) else {
        return Err(err(
            file,
            at(if t.contains_key("low") { "high" } else { "low" }),
            "missing: each range needs `low` and `high` (equal values fix the input)",
        ));
    };
    if low > high {
        return Err(err(
            file,
            at("low"),
            format!("low {low} is above high {high}: swap them"),
        ));
    }
    let dist_name = match t.get("dist") {
        None => "uniform",
        Some(d) => d.as_str().ok_or_else(|| {
            err(
                file,
                at("dist"),
                "must be \"uniform\", \"triangular\" or \"log_uniform\"",
            )
        })?,
    };
    let mode = get("mode")?;
    let dist = match (dist_name, mode) {
        ("uniform", None) => Dist::Uniform { low, high },
        ("log_uniform", None) if low > 0.0 => Dist::LogUniform { low, high },
        ("log_uniform", None) => {
            return Err(err(
                file,
                at("low"),
                format!("a log_uniform range needs low above 0 (got {low})"),
            ))
        }
        ("triangular", Some(m)) if (low..=high).contains(&m) => Dist::Triangular {
            low,
            mode: m,
            high,
        },
        ("triangular", Some(m)) => {
            return Err(err(
                file,
                at("mode"),
                format!("must be between low {low} and high {high} (got {m})"),
            ))
        }
        ("triangular", None) => {
            return Err(err(
                file,
                at("mode"),
                "missing: a triangular range needs `mode`, its most likely value",
            ))
        }
        ("uniform" | "log_uniform", Some(_)) => {
            return Err(err(
                file,
                at("mode"),
                "only a triangular range takes `mode`: remove it or set dist = \"triangular\"",
            ))
        }
        (other, _) => {
            return Err(err(
                file,
                at("dist"),
                format!("unknown distribution {other:?}: use \"uniform\", \"triangular\" or \"log_uniform\""),
            ))
        }
    };
    let nominal = match get("nominal")? {
        Some(n) if (low..=high).contains(&n) => n,
        Some(n) => {
            return Err(err(
                file,
                at("nominal"),
                format!("must be between low {low} and high {high} (got {n})"),
            ))
        }
        None => dist.median(),
    };
    let integer = ["low", "high", "mode", "nominal"]
        .iter()
        .all(|f| t.get(*f).is_none_or(|v| v.is_integer()));
    Ok(Input {
        key: key.to_string(),
        dist,
        nominal,
        integer,
    })
}

impl UncertaintySpec {
    /// The `[uncertainty]` table of a scenario table; `file` names it in
    /// errors. Each input is checked by setting it to its low and its high
    /// value in `table` and validating the scenario: an unknown key, a key
    /// that is not a number, or a value outside the key's valid range is
    /// refused with the scenario's own message.
    pub fn from_table(file: &Path, table: &toml::Table) -> Result<UncertaintySpec, ScenarioError> {
        let spec = match table.get("uncertainty") {
            Some(toml::Value::Table(t)) => t,
            Some(_) => return Err(err(file, "uncertainty", "must be a table: [uncertainty]")),
            None => return Err(err(file, "uncertainty", "missing: add an [uncertainty] table with ranges, e.g. [uncertainty.ranges] \"costs.memory_price_multiplier\" = { low = 1.0, high = 3.0 }")),
        };
        for name in spec.keys() {
            if !["samples", "ranges"].contains(&name.as_str()) {
                return Err(err(
                    file,
                    format!("uncertainty.{name}"),
                    "unknown key: use samples and [uncertainty.ranges] (keys are quoted key paths: \"users.duty_cycle\" = { low = .., high = .. })",
                ));
            }
        }
        let samples = match spec.get("samples") {
            None => DEFAULT_SAMPLES,
            Some(v) => match v.as_integer() {
                Some(n) if (1..=MAX_SAMPLES as i64).contains(&n) => n as usize,
                _ => {
                    return Err(err(
                        file,
                        "uncertainty.samples",
                        format!("must be a whole number from 1 to {MAX_SAMPLES} (got {v})"),
                    ))
                }
            },
        };
        let ranges = spec.get("ranges").and_then(|r| r.as_table()).ok_or_else(|| {
            err(file, "uncertainty.ranges", "missing: list the uncertain keys, e.g. [uncertainty.ranges] \"costs.memory_price_multiplier\" = { low = 1.0, high = 3.0 }")
        })?;
        if ranges.is_empty() {
            return Err(err(
                file,
                "uncertainty.ranges",
                "is empty: give at least one key a range",
            ));
        }
        let mut base = table.clone();
        base.remove("uncertainty");
        add_sections(&mut base, ranges.keys());
        let inputs = ranges
            .iter()
            .map(|(k, v)| {
                let input = read_input(file, k, v)?;
                check_input(file, &base, &input)?;
                Ok(input)
            })
            .collect::<Result<Vec<Input>, ScenarioError>>()?;
        Ok(UncertaintySpec { samples, inputs })
    }
}

/// Add the empty top-level sections (`[costs]`, `[world]`, ...) that keys
/// such as `costs.electricity_usd_per_kwh_home` need and the file leaves
/// out, so that a range can set a key whose section holds only defaults.
fn add_sections<'a>(table: &mut toml::Table, keys: impl Iterator<Item = &'a String>) {
    for key in keys {
        if let Some((section, _)) = key.split_once('.') {
            if !section.contains('[') && !table.contains_key(section) {
                table.insert(section.to_string(), toml::Value::Table(toml::Table::new()));
            }
        }
    }
}

/// `input` at its low and at its high value, the rest of `base` as it is,
/// is a valid scenario; else the scenario's error, naming the range.
fn check_input(file: &Path, base: &toml::Table, input: &Input) -> Result<(), ScenarioError> {
    let key = &input.key;
    let at = |f: &str| format!("uncertainty.ranges.\"{key}\".{f}");
    if key == "seed" || key == "name" || key.starts_with("sweep") || key.starts_with("uncertainty")
    {
        return Err(err(file, at("low"), format!("{key} cannot be uncertain: give ranges of the scenario's inputs (prices, rates, efficiencies, lifetimes, ...)")));
    }
    for (field, x) in [("low", input.dist.low()), ("high", input.dist.high())] {
        let mut t = base.clone();
        set_path(&mut t, key, input.value(x)).map_err(|m| err(file, at(field), m))?;
        Scenario::from_table(t, file).map_err(|e| {
            err(
                file,
                at(field),
                format!(
                    "the scenario with {key} = {} is not valid: {e}",
                    input.value(x)
                ),
            )
        })?;
    }
    Ok(())
}

/// A Latin hypercube of `n` points in `d` dimensions, as shares in [0, 1):
/// in every dimension each of the `n` strata `[j/n, (j+1)/n)` holds exactly
/// one point, placed uniformly within it; the strata are matched across
/// dimensions by independent random permutations. Deterministic in `seed`.
pub fn latin_hypercube(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut out = vec![vec![0.0; d]; n];
    for k in 0..d {
        let mut rng = SimRng::seed_from_u64(derive_seed(&[seed, k as u64]));
        let mut strata: Vec<usize> = (0..n).collect();
        // Fisher-Yates.
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            strata.swap(i, j);
        }
        for (i, row) in out.iter_mut().enumerate() {
            let jitter: f64 = rng.random();
            row[k] = (strata[i] as f64 + jitter) / n as f64;
        }
    }
    out
}

/// The seed of the design: the scenario's (or `--seed`'s), apart from
/// every simulation stream.
pub fn design_seed(seed: u64) -> u64 {
    derive_seed(&[seed, fnv1a(b"uncertainty latin hypercube")])
}

/// The points of the design: the `samples` Latin hypercube samples (in
/// sample order), then the nominal point (every input at its nominal
/// value), then each input at its low and at its high value with the
/// others nominal.
pub fn design(spec: &UncertaintySpec, samples: usize, seed: u64) -> Vec<DesignPoint> {
    let d = spec.inputs.len();
    let label = |run: &str, input: &str, sample: Option<usize>| {
        vec![
            (RUN.to_string(), Value::Str(run.into())),
            (INPUT.to_string(), Value::Str(input.into())),
            (SAMPLE.to_string(), Value::F64(sample.map(|s| s as f64))),
        ]
    };
    let mut points: Vec<DesignPoint> = latin_hypercube(samples, d, design_seed(seed))
        .into_iter()
        .enumerate()
        .map(|(i, u)| DesignPoint {
            values: spec
                .inputs
                .iter()
                .zip(&u)
                .map(|(inp, &u)| inp.value(inp.dist.quantile(u)))
                .collect(),
            labels: label("sample", "", Some(i)),
        })
        .collect();
    let nominal: Vec<toml::Value> = spec.inputs.iter().map(|i| i.value(i.nominal)).collect();
    points.push(DesignPoint {
        values: nominal.clone(),
        labels: label("nominal", "", None),
    });
    for (k, inp) in spec.inputs.iter().enumerate() {
        for (run, x) in [("low", inp.dist.low()), ("high", inp.dist.high())] {
            let mut values = nominal.clone();
            values[k] = inp.value(x);
            points.push(DesignPoint {
                values,
                labels: label(run, &inp.key, None),
            });
        }
    }
    points
}

/// The sweep of an uncertainty design: the scenario text (with its
/// `[uncertainty]` table; no `[sweep]`), `samples` and `seed` overriding
/// the file's. Errors name the file and the key.
pub fn uncertainty_sweep(
    text: &str,
    path: &Path,
    samples: Option<usize>,
    seed: Option<u64>,
) -> Result<(Sweep, UncertaintySpec), ScenarioError> {
    let base = Scenario::from_toml_str(text, path)?;
    let mut table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| err(path, ".", e.to_string()))?;
    if table.contains_key("sweep") {
        return Err(err(path, "sweep", "an uncertainty design samples one scenario: remove the [sweep] table (or copy one point of it into a file of its own)"));
    }
    if base.benchmark.is_some() {
        return Err(err(
            path,
            "benchmark",
            "a benchmark scenario is run, not sized: `uncertainty` sizes every sample",
        ));
    }
    if base.classes.iter().any(|c| c.service_level.is_empty()) {
        return Err(err(path, "service_level", "`uncertainty` sizes every sample and needs a service level: add a [service_level] table"));
    }
    let mut spec = UncertaintySpec::from_table(path, &table)?;
    if let Some(n) = samples {
        if !(1..=MAX_SAMPLES).contains(&n) {
            return Err(err(
                path,
                "--samples",
                format!("must be from 1 to {MAX_SAMPLES} (got {n})"),
            ));
        }
        spec.samples = n;
    }
    table.remove("uncertainty");
    let mut with_sections = table.clone();
    add_sections(&mut with_sections, spec.inputs.iter().map(|i| &i.key));
    let keys = spec.inputs.iter().map(|i| i.key.clone()).collect();
    let points = design(&spec, spec.samples, seed.unwrap_or(base.seed));
    let sweep = Sweep::from_design(path, table, with_sections, &base, keys, points)?;
    Ok((sweep, spec))
}

/// Shares `u` hit every stratum of `n` exactly once: the Latin hypercube
/// property, per dimension.
pub fn stratified(column: &[f64]) -> bool {
    let n = column.len();
    let mut seen = vec![false; n];
    for &u in column {
        let j = (u * n as f64).floor() as usize;
        if j >= n || seen[j] {
            return false;
        }
        seen[j] = true;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stratum_once_per_input() {
        for (n, d, seed) in [(1, 1, 1), (7, 3, 2), (100, 9, 3), (1000, 2, 4)] {
            let u = latin_hypercube(n, d, seed);
            for k in 0..d {
                let col: Vec<f64> = u.iter().map(|r| r[k]).collect();
                assert!(stratified(&col), "n {n} dimension {k}");
            }
        }
    }

    #[test]
    fn quantiles_invert_the_distributions() {
        let t = Dist::Triangular {
            low: 1.0,
            mode: 2.0,
            high: 5.0,
        };
        // Triangular CDF at the mode: (c - a) / (b - a).
        assert!((t.quantile(0.25) - 2.0).abs() < 1e-12);
        let l = Dist::LogUniform {
            low: 1.0,
            high: 100.0,
        };
        assert!((l.median() - 10.0).abs() < 1e-9);
        let u = Dist::Uniform {
            low: 2.0,
            high: 4.0,
        };
        assert_eq!(u.quantile(0.0), 2.0);
        assert_eq!(u.quantile(1.0), 4.0);
        assert_eq!(
            Dist::Uniform {
                low: 3.0,
                high: 3.0
            }
            .quantile(0.7),
            3.0
        );
    }
}
