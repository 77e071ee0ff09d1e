//! Subtitle phrases several charts share: the scenario name, where the
//! hardware comes from (sized or as configured), the sweep points a
//! placement could not meet the service level at, and who misses it, for
//! headlines ([`with_misses`]).

use super::data::{group_rows, Frame};
use super::format::{human, list};
use super::labels::{axis_label, AxisLabel};
use super::verdict::{miss_phrases, verdicts};
use crate::results::columns;

/// "scenario: " from the `scenario` column, or nothing.
pub(crate) fn scenario_prefix(f: &Frame) -> String {
    f.first_text("scenario")
        .map(|s| format!("{s}: "))
        .unwrap_or_default()
}

/// Where the hardware of a row comes from: sized (a `size` answer) or as
/// configured (a run-mode sweep).
pub(crate) fn hardware_source(f: &Frame) -> &'static str {
    if f.has("feasible") {
        "least hardware meeting the service level (sized by sharesim size)"
    } else {
        "hardware as configured in the scenario (a run-mode sweep: not sized)"
    }
}

/// "Not shown: ..." naming, per placement, the `x_col` values (as `label`
/// words them) of infeasible rows; None when every row is feasible.
pub(crate) fn infeasible_note(f: &Frame, x_col: &str, label: &AxisLabel) -> Option<String> {
    let feasible = f.flag("feasible");
    let x = f.num(x_col);
    let placement = f.text(columns::PLACEMENT);
    let mut missed: Vec<(String, Vec<f64>)> = Vec::new();
    for r in 0..f.rows() {
        if feasible[r] == Some(false) {
            let p = placement[r].clone().unwrap_or_default();
            let Some(v) = x[r] else { continue };
            match missed.iter_mut().find(|m| m.0 == p) {
                Some(m) => m.1.push(v),
                None => missed.push((p, vec![v])),
            }
        }
    }
    if missed.is_empty() {
        return None;
    }
    let parts: Vec<String> = missed
        .iter()
        .map(|(p, xs)| {
            let v: Vec<String> = xs.iter().map(|x| label.amount(*x)).collect();
            format!("{p} at {}", list(&v))
        })
        .collect();
    Some(format!(
        "Not shown: {} (cannot meet the service level there).",
        list(&parts)
    ))
}

/// `title`, followed by who misses the service level among `rows` and
/// where ("; desktop misses the service level at duty cycle 10 % (p99 TTFT
/// 6.6 s > 5 s)"), from the verdicts the tables print. Series are grouped
/// as the chart groups them, points worded by the `x_col` they are plotted
/// against (a sweep axis, or the pool size).
pub(crate) fn with_misses(title: String, f: &Frame, rows: &[usize], x_col: Option<&str>) -> String {
    let v = verdicts(f);
    let g = group_rows(f, rows, x_col);
    let series: Vec<(String, Vec<usize>)> = g
        .groups
        .iter()
        .map(|(l, _, r)| (l.clone(), r.clone()))
        .collect();
    let x = x_col.map(|c| f.num(c)).unwrap_or_default();
    let label = x_col
        .filter(|c| c.starts_with("sweep_"))
        .map(|c| axis_label(f, c));
    let at = |r: usize| {
        let xv = x.get(r).copied().flatten()?;
        Some(match &label {
            Some(l) => l.value(xv),
            None => format!("a pool of {}", human(xv)),
        })
    };
    let missed = miss_phrases(&v, &series, &at);
    if missed.is_empty() {
        title
    } else {
        format!("{title}; {}", missed.join("; "))
    }
}
