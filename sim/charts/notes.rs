//! Subtitle phrases several charts share: the scenario name, where the
//! hardware comes from (sized or as configured), and the sweep points a
//! placement could not meet the service level at.

use super::data::Frame;
use super::format::{fmt_tick, list};
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

/// "Not shown: ..." naming, per placement, the `x_col` values (times `mul`,
/// with `suffix`) of infeasible rows; None when every row is feasible.
pub(crate) fn infeasible_note(f: &Frame, x_col: &str, mul: f64, suffix: &str) -> Option<String> {
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
            let v: Vec<String> = xs
                .iter()
                .map(|x| format!("{}{suffix}", fmt_tick(x * mul)))
                .collect();
            format!("{p} at {}", list(&v))
        })
        .collect();
    Some(format!(
        "Not shown: {} (cannot meet the service level there).",
        list(&parts)
    ))
}
