//! Judging a service level from replications. A target is met only when the
//! whole 95 % confidence interval of its estimate (Student's t across the
//! replications) is on the right side of the bound: the upper end for
//! percentiles and tail shares, the lower end for attainment. With one
//! replication the point estimate is used and the verdict says so. Sizing's
//! early looks judge the 99 % interval instead ([`Level`]), and ask whether
//! the whole interval is on the wrong side ([`TargetVerdict::surely_missed`]).

use crate::core::stats::{t_995, Estimate};
use crate::results::columns;
use crate::results::table::{rows_of_class, Row, Value};
use crate::results::{Measure, Replications};
use crate::scenario::Scenario;

/// The verdict on one target.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetVerdict {
    /// Column judged, e.g. `ttft_p99_s`.
    pub column: String,
    /// Mean across replications (None: nothing measured).
    pub mean: Option<f64>,
    /// The end of the interval that was compared (None: nothing measured).
    pub compared: Option<f64>,
    /// The bound.
    pub bound: f64,
    /// Met?
    pub met: bool,
    /// The whole interval is on the wrong side of the bound (its favourable
    /// end misses too; with one replication: the point estimate misses).
    pub surely_missed: bool,
}

/// The verdict on a whole service level.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Every target met.
    pub met: bool,
    /// Per target.
    pub targets: Vec<TargetVerdict>,
}

impl Verdict {
    /// Some target's whole interval is on the wrong side of its bound.
    pub fn surely_missed(&self) -> bool {
        self.targets.iter().any(|t| t.surely_missed)
    }

    /// One line, e.g. `ttft_p99_s 1.2 (<= 2) ok; tpot_p99_s 0.13 (<= 0.1) MISSED`.
    pub fn describe(&self) -> String {
        self.targets
            .iter()
            .map(|t| {
                let v = t
                    .compared
                    .map_or("none".to_string(), crate::results::table::format_number);
                let op = if t.column == columns::SLO_ATTAINMENT_SHARE {
                    ">="
                } else {
                    "<="
                };
                format!(
                    "{} {v} ({op} {}) {}",
                    t.column,
                    t.bound,
                    if t.met { "ok" } else { "MISSED" }
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Confidence level of the intervals a verdict compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// 95 % (Student's t): every verdict but sizing's early looks.
    Ci95,
    /// 99 % (Student's t): sizing's early looks ([`crate::sizing`]).
    Ci99,
}

/// Half-width of the interval at `level`; infinite with one replication.
fn half_width(e: &Estimate, level: Level) -> f64 {
    match level {
        Level::Ci95 => e.ci95,
        Level::Ci99 if e.n > 1 => t_995(e.n - 1) * e.std_err,
        Level::Ci99 => f64::INFINITY,
    }
}

/// Upper end of the interval, or the mean with one replication.
fn upper(e: &Estimate, level: Level) -> f64 {
    match level {
        Level::Ci95 if e.ci95.is_finite() => e.upper(),
        _ => {
            let h = half_width(e, level);
            if h.is_finite() {
                e.mean + h
            } else {
                e.mean
            }
        }
    }
}

/// Lower end of the interval, or the mean with one replication.
fn lower(e: &Estimate, level: Level) -> f64 {
    let h = half_width(e, level);
    if h.is_finite() {
        e.mean - h
    } else {
        e.mean
    }
}

/// Which end of a target's interval must lie within its bound.
#[derive(Clone, Copy)]
enum Bound {
    /// The upper end must not exceed it (percentiles, tail shares).
    AtMost(f64),
    /// The lower end must reach it (attainment).
    AtLeast(f64),
}

fn judge_one(runs: Replications, measure: Measure, bound: Bound, level: Level) -> TargetVerdict {
    let e = runs.estimate(measure);
    let (compared, met, surely_missed, bound) = match bound {
        Bound::AtMost(b) => {
            let u = e.as_ref().map(|e| upper(e, level));
            let l = e.as_ref().map(|e| lower(e, level));
            (u, u.is_some_and(|u| u <= b), l.is_some_and(|l| l > b), b)
        }
        Bound::AtLeast(b) => {
            let l = e.as_ref().map(|e| lower(e, level));
            let u = e.as_ref().map(|e| upper(e, level));
            (l, l.is_some_and(|l| l >= b), u.is_some_and(|u| u < b), b)
        }
    };
    TargetVerdict {
        column: measure.column(),
        mean: e.map(|e| e.mean),
        compared,
        bound,
        met,
        surely_missed,
    }
}

/// Judge the scenario's service level on the replication rows of one
/// placement. `None` when the scenario has no service level.
pub fn judge(s: &Scenario, rows: &[&Row]) -> Option<Verdict> {
    judge_at(s, rows, Level::Ci95)
}

/// [`judge`] comparing the ends of the intervals at `level`.
pub fn judge_at(s: &Scenario, rows: &[&Row], level: Level) -> Option<Verdict> {
    let sl = &s.service_level;
    if sl.is_empty() {
        return None;
    }
    let runs = Replications::new(rows);
    let mut targets: Vec<TargetVerdict> = sl
        .targets
        .iter()
        .map(|t| {
            let measure = Measure::Latency {
                metric: t.metric,
                percentile: t.percentile,
            };
            judge_one(runs, measure, Bound::AtMost(t.max_s), level)
        })
        .collect();
    if let Some(w) = sl.wait_tail {
        targets.push(judge_one(
            runs,
            Measure::WaitAbove,
            Bound::AtMost(w.max_share),
            level,
        ));
    }
    if let Some(a) = sl.attainment {
        targets.push(judge_one(
            runs,
            Measure::Attainment,
            Bound::AtLeast(a.share),
            level,
        ));
    }
    Some(Verdict {
        met: targets.iter().all(|t| t.met),
        targets,
    })
}

/// The verdict on a placement's service level over all its requests and,
/// when it serves several classes, over each class's requests (`class_rows`
/// of every replication): every class must meet it, not only the mix.
/// Class targets are named `<column>[<class>]`.
pub fn judge_with_classes(s: &Scenario, rows: &[&Row], class_rows: &[Row]) -> Option<Verdict> {
    judge_with_classes_at(s, rows, class_rows, Level::Ci95)
}

/// [`judge_with_classes`] comparing the ends of the intervals at `level`.
pub fn judge_with_classes_at(
    s: &Scenario,
    rows: &[&Row],
    class_rows: &[Row],
    level: Level,
) -> Option<Verdict> {
    let mut verdict = judge_at(s, rows, level)?;
    for class in &s.classes {
        let mine = rows_of_class(class_rows, &class.name);
        if mine.is_empty() {
            continue;
        }
        if let Some(v) = judge_at(s, &mine, level) {
            verdict.met &= v.met;
            verdict.targets.extend(v.targets.into_iter().map(|mut t| {
                t.column = format!("{}[{}]", t.column, class.name);
                t
            }));
        }
    }
    Some(verdict)
}

/// Replace a summary row's `slo_detail` and `slo_met` with `verdict`'s.
pub fn set_verdict(row: &mut Row, verdict: Option<Verdict>) {
    for (name, value) in row.iter_mut() {
        match name.as_str() {
            columns::SLO_DETAIL => {
                *value = Value::Str(verdict.as_ref().map_or_else(String::new, |v| v.describe()))
            }
            columns::SLO_MET => *value = Value::Bool(verdict.as_ref().map(|v| v.met)),
            _ => {}
        }
    }
}
