//! The summary of an uncertainty design's rows (sweep.parquet of
//! `sharesim uncertainty`): per answer row (placement and pool size) and
//! headline figure, the 5th, 50th and 95th percentiles over the Latin
//! hypercube samples (`uncertainty.parquet`), and the one-at-a-time swings:
//! the figure with each input at its low and at its high value, the others
//! at their nominal, ranked by how far it moves (`swings.parquet`, the
//! tornado chart's data).

use super::parts::axis_column;
use super::uncertainty::{INPUT, RUN};
use crate::results::columns;
use crate::results::table::{cell, get, Row, Value};

/// The headline figures summarised, as `size` reports them: hardware,
/// memory, money, energy and carbon per user, and the sharing factors.
pub const FIGURES: [&str; 14] = [
    columns::SERVERS_PER_POOL,
    columns::DEVICES_PER_USER,
    columns::MEM_GB_PER_USER,
    columns::CAPEX_USD_PER_USER,
    "energy_kwh_per_user_per_day",
    "tco_usd_per_user_year",
    "carbon_kg_per_user_year",
    columns::SHARING_FACTOR_MEMORY,
    columns::SHARING_FACTOR_DEVICES,
    columns::SHARING_FACTOR_CAPEX,
    "sharing_factor_energy",
    "sharing_factor_tco",
    "sharing_factor_carbon",
    "breakeven_memory_price_multiplier",
];

/// The percentile of sorted `v` at share `q` (linear between order
/// statistics: Hyndman and Fan's type 7, numpy's default).
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// What a design's rows summarise to.
#[derive(Debug, Default)]
pub struct Summary {
    /// One row per answer row and figure (`uncertainty.parquet`).
    pub percentiles: Vec<Row>,
    /// One row per answer row, figure and input (`swings.parquet`).
    pub swings: Vec<Row>,
}

fn text(r: &Row, name: &str) -> String {
    get(r, name).map(Value::display).unwrap_or_default()
}

fn num(r: &Row, name: &str) -> Option<f64> {
    get(r, name).and_then(Value::as_f64)
}

/// An answer row's identity across points: its placement and pool size.
fn answer(r: &Row) -> (String, String) {
    (text(r, columns::PLACEMENT), text(r, columns::POOL_SIZE))
}

/// The cells every summary row starts with: the answer row it is of.
fn head(r: &Row, figure: &str) -> Row {
    let mut out: Row = Vec::new();
    for name in ["scenario", columns::PLACEMENT, columns::KIND] {
        out.push(cell(name, Value::Str(text(r, name))));
    }
    out.push(cell(
        columns::POOL_SIZE,
        get(r, columns::POOL_SIZE)
            .cloned()
            .unwrap_or(Value::F64(None)),
    ));
    out.push(cell("figure", Value::Str(figure.into())));
    out
}

/// Summarise the rows of an uncertainty design (None when they are not
/// one: no `uncertainty_run` column).
pub fn summarize(rows: &[Row]) -> Option<Summary> {
    if !rows.iter().any(|r| get(r, RUN).is_some()) {
        return None;
    }
    let run = |r: &Row| text(r, RUN);
    let mut answers: Vec<(String, String)> = Vec::new();
    let mut inputs: Vec<String> = Vec::new();
    for r in rows {
        let a = answer(r);
        if !answers.contains(&a) {
            answers.push(a);
        }
        let i = text(r, INPUT);
        if !i.is_empty() && !inputs.contains(&i) {
            inputs.push(i);
        }
    }
    let figures: Vec<&str> = FIGURES
        .into_iter()
        .filter(|f| rows.iter().any(|r| get(r, f).is_some()))
        .collect();
    let mut out = Summary::default();
    for a in &answers {
        let of_a: Vec<&Row> = rows.iter().filter(|r| answer(r) == *a).collect();
        let samples: Vec<&Row> = of_a
            .iter()
            .copied()
            .filter(|r| run(r) == "sample")
            .collect();
        let nominal = of_a.iter().copied().find(|r| run(r) == "nominal");
        let Some(first) = nominal.or(of_a.first().copied()) else {
            continue;
        };
        let feasible = samples
            .iter()
            .filter(|r| get(r, "feasible") == Some(&Value::Bool(Some(true))))
            .count();
        let feasible_share = (!samples.is_empty()).then(|| feasible as f64 / samples.len() as f64);
        for f in &figures {
            let mut v: Vec<f64> = samples.iter().filter_map(|r| num(r, f)).collect();
            v.sort_by(f64::total_cmp);
            let mut row = head(first, f);
            row.push(cell("samples", Value::U64(samples.len() as u64)));
            row.push(cell("samples_with_value", Value::U64(v.len() as u64)));
            row.push(cell("feasible_share", Value::F64(feasible_share)));
            for (name, q) in [("p5", 0.05), ("p50", 0.5), ("p95", 0.95)] {
                row.push(cell(name, Value::F64(percentile(&v, q))));
            }
            let mean = (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
            row.push(cell("mean", Value::F64(mean)));
            row.push(cell("min", Value::F64(v.first().copied())));
            row.push(cell("max", Value::F64(v.last().copied())));
            row.push(cell("nominal", Value::F64(nominal.and_then(|r| num(r, f)))));
            out.percentiles.push(row);
            out.swings
                .extend(swings_of(&of_a, nominal, first, f, &inputs));
        }
    }
    mark_tornado(&mut out.swings);
    Some(out)
}

/// The figures the tornado chart shows, in order of preference: the first
/// with a swing on a shared (pooled or hybrid) answer row, else on any.
pub const TORNADO_FIGURES: [&str; 5] = [
    "sharing_factor_tco",
    columns::SHARING_FACTOR_CAPEX,
    "tco_usd_per_user_year",
    columns::CAPEX_USD_PER_USER,
    columns::SERVERS_PER_POOL,
];

/// Column `tornado`: true on the swing rows of the one answer row and
/// figure the tornado chart draws (see [`TORNADO_FIGURES`]).
fn mark_tornado(swings: &mut [Row]) {
    let has_swing = |r: &Row| num(r, "swing").is_some();
    let shared = |r: &Row| text(r, columns::KIND) != "dedicated";
    let pick = TORNADO_FIGURES.iter().find_map(|f| {
        let of_f = |r: &&Row| text(r, "figure") == *f && has_swing(r);
        swings
            .iter()
            .filter(of_f)
            .find(|r| shared(r))
            .or_else(|| swings.iter().find(of_f))
            .map(|r| (answer(r), f.to_string()))
    });
    for r in swings.iter_mut() {
        let on = pick
            .as_ref()
            .is_some_and(|(a, f)| answer(r) == *a && text(r, "figure") == *f);
        r.push(cell("tornado", Value::Bool(Some(on))));
    }
}

/// The swing rows of one answer row and figure, one per input, ranked.
fn swings_of(
    of_a: &[&Row],
    nominal: Option<&Row>,
    first: &Row,
    figure: &str,
    inputs: &[String],
) -> Vec<Row> {
    let at = |run: &str, input: &str| {
        of_a.iter()
            .copied()
            .find(|r| text(r, RUN) == run && text(r, INPUT) == input)
    };
    let mut rows: Vec<(Option<f64>, Row)> = Vec::new();
    for input in inputs {
        let col = axis_column(input);
        let (lo, hi) = (at("low", input), at("high", input));
        let (y_lo, y_hi) = (
            lo.and_then(|r| num(r, figure)),
            hi.and_then(|r| num(r, figure)),
        );
        let y_nom = nominal.and_then(|r| num(r, figure));
        let swing = y_lo.zip(y_hi).map(|(a, b)| (b - a).abs());
        let mut row = head(first, figure);
        row.push(cell("input", Value::Str(input.clone())));
        row.push(cell("input_column", Value::Str(col.clone())));
        for (name, r) in [
            ("input_low", lo),
            ("input_nominal", nominal),
            ("input_high", hi),
        ] {
            row.push(cell(name, Value::F64(r.and_then(|r| num(r, &col)))));
        }
        row.push(cell("at_low", Value::F64(y_lo)));
        row.push(cell("at_nominal", Value::F64(y_nom)));
        row.push(cell("at_high", Value::F64(y_hi)));
        row.push(cell("swing", Value::F64(swing)));
        let share = swing
            .zip(y_nom)
            .filter(|(_, n)| *n != 0.0)
            .map(|(s, n)| s / n.abs());
        row.push(cell("swing_share", Value::F64(share)));
        rows.push((swing, row));
    }
    // Rank: the largest swing first; inputs without one (a side
    // infeasible) last; ties in input order.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| match (rows[a].0, rows[b].0) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.cmp(&b)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(&b),
    });
    let mut rank = vec![0u64; rows.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r as u64 + 1;
    }
    rows.into_iter()
        .zip(rank)
        .map(|((_, mut row), k)| {
            row.push(cell("rank", Value::U64(k)));
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_order_statistics() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 0.5), Some(3.0));
        assert_eq!(percentile(&v, 0.05), Some(1.2));
        assert!((percentile(&v, 0.95).unwrap() - 4.8).abs() < 1e-12);
        assert_eq!(percentile(&[7.0], 0.95), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
