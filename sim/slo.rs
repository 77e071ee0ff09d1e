//! Judging a service level from replications. A target is met only when the
//! whole 95 % confidence interval of its estimate (Student's t across the
//! replications) is on the right side of the bound: the upper end for
//! percentiles and tail shares, the lower end for attainment. With one
//! replication the point estimate is used and the verdict says so.

use crate::core::stats::Estimate;
use crate::core::units::percentile_label;
use crate::results::table::{get, rows_of_class, Row, Value};
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
    /// One line, e.g. `ttft_p99_s 1.2 (<= 2) ok; tpot_p99_s 0.13 (<= 0.1) MISSED`.
    pub fn describe(&self) -> String {
        self.targets
            .iter()
            .map(|t| {
                let v = t
                    .compared
                    .map_or("none".to_string(), crate::results::table::format_number);
                let op = if t.column == "slo_attainment" {
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

fn estimate(rows: &[&Row], column: &str) -> Option<Estimate> {
    Estimate::from_values(rows.iter().map(|r| get(r, column).and_then(Value::as_f64)))
}

/// Upper end of the 95 % interval, or the mean with one replication.
fn upper(e: &Estimate) -> f64 {
    if e.ci95.is_finite() {
        e.upper()
    } else {
        e.mean
    }
}

/// Lower end of the 95 % interval, or the mean with one replication.
fn lower(e: &Estimate) -> f64 {
    if e.ci95.is_finite() {
        e.mean - e.ci95
    } else {
        e.mean
    }
}

/// Judge the scenario's service level on the replication rows of one
/// placement. `None` when the scenario has no service level.
pub fn judge(s: &Scenario, rows: &[&Row]) -> Option<Verdict> {
    let sl = &s.service_level;
    if sl.is_empty() {
        return None;
    }
    let mut targets = Vec::new();
    for t in &sl.targets {
        let column = format!("{}_{}_s", t.metric.name(), percentile_label(t.percentile));
        let e = estimate(rows, &column);
        let compared = e.as_ref().map(upper);
        targets.push(TargetVerdict {
            met: compared.is_some_and(|u| u <= t.max_s),
            mean: e.map(|e| e.mean),
            compared,
            bound: t.max_s,
            column,
        });
    }
    if let Some(w) = sl.wait_tail {
        let e = estimate(rows, "p_wait_above");
        let compared = e.as_ref().map(upper);
        targets.push(TargetVerdict {
            column: "p_wait_above".into(),
            mean: e.map(|e| e.mean),
            compared,
            bound: w.max_share,
            met: compared.is_some_and(|u| u <= w.max_share),
        });
    }
    if let Some(a) = sl.attainment {
        let e = estimate(rows, "slo_attainment");
        let compared = e.as_ref().map(lower);
        targets.push(TargetVerdict {
            column: "slo_attainment".into(),
            mean: e.map(|e| e.mean),
            compared,
            bound: a.share,
            met: compared.is_some_and(|l| l >= a.share),
        });
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
    let mut verdict = judge(s, rows)?;
    for class in &s.classes {
        let mine = rows_of_class(class_rows, &class.name);
        if mine.is_empty() {
            continue;
        }
        if let Some(v) = judge(s, &mine) {
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
            "slo_detail" => {
                *value = Value::Str(verdict.as_ref().map_or_else(String::new, |v| v.describe()))
            }
            "slo_met" => *value = Value::Bool(verdict.as_ref().map(|v| v.met)),
            _ => {}
        }
    }
}
