//! The cost chart (`cost-vs-memory-price.png`): capital cost of serving
//! every user per placement vs the memory price multiplier, where the
//! curves cross marked, titled with the price at which the cheaper way
//! changes (or by how much one stays cheaper).

use super::data::{distinct, group_rows, points, with_kind, Frame, Labelled};
use super::figure::{ci_bars, AxisSpec, Figure, Item, Layout, Panel, Scale};
use super::format::{ratio, sig, usd};
use super::labels::axis_label;
use super::notes::{hardware_source, infeasible_note, scenario_prefix, with_misses};
use super::style::{series_style, Marker, Style, INK};
use super::Chart;
use crate::results::columns;

/// The x column.
const X: &str = "sweep_costs_memory_price_multiplier";

/// Where two series cross: (x, y, the one cheaper after the crossing,
/// first series, second series).
type Crossing = (f64, f64, String, String, String);

pub(crate) fn build_cost(f: &Frame) -> Result<Figure, String> {
    let need = Chart::CostVsMemoryPrice.needs();
    if !f.has(X) {
        return Err(format!("no {X} column; needs {need}"));
    }
    let x = f.num(X);
    let capex_col = columns::CAPEX_USD_TOTAL;
    let y = f.num(capex_col);
    let all: Vec<usize> = (0..f.rows()).collect();
    let g = group_rows(f, &all, Some(X));
    let mut items = Vec::new();
    let mut legend = Vec::new();
    let mut series: Vec<Labelled> = Vec::new();
    for (gi, (label, kind, rows)) in g.groups.iter().enumerate() {
        let pts = points(&x, &y, rows, true);
        if pts.is_empty() {
            continue;
        }
        let mut style = series_style(gi);
        if kind == "dedicated" {
            style = style.dashed();
        }
        legend.push((with_kind(label, kind), style));
        items.extend(ci_bars(f, &x, capex_col, rows, 1.0, style.color));
        items.push(Item::Series {
            pts: pts.clone(),
            style,
            dodge: 0.0,
        });
        series.push((label.clone(), kind.clone(), pts));
    }
    if series.is_empty() {
        return Err(format!("no row has {capex_col} (every point infeasible, or a generic scenario without prices?); needs {need}"));
    }
    let crossings = crossings(&series);
    for (xc, yc, _, _, _) in &crossings {
        items.push(Item::Note {
            at: (*xc, *yc),
            text: format!("curves cross at ×{}: {}", sig(*xc, 3), usd(*yc)),
            color: INK,
        });
    }
    if !crossings.is_empty() {
        legend.push((
            "where the curves cross".into(),
            Style {
                line: false,
                ..Style::marked(INK, Marker::Diamond)
            },
        ));
    }
    let xs = distinct(&x);
    let (xa, xb) = (
        xs.first().copied().unwrap_or(1.0),
        xs.last().copied().unwrap_or(1.0),
    );
    let title = with_misses(cost_title(&crossings, &series, xa, xb), f, &all, Some(X));
    let subtitle = cost_subtitle(f, &series, crossings.is_empty(), xa, xb);
    Ok(Figure {
        title,
        subtitle,
        legend,
        panels: vec![Panel {
            title: "Capital cost of serving every user".into(),
            x: AxisSpec::new(
                "memory price multiplier (× today's memory price)",
                Scale::Auto,
            )
            .suffix("×"),
            y: AxisSpec::new("capital cost, all users (USD)", Scale::Auto).zero(),
            items,
        }],
        layout: Layout::Cols,
    })
}

/// Crossings between every pair of series with different kinds (or any
/// pair when kinds are unknown), linearly interpolated between the
/// multipliers both have.
fn crossings(series: &[Labelled]) -> Vec<Crossing> {
    let mut crossings = Vec::new();
    for i in 0..series.len() {
        for j in i + 1..series.len() {
            let (a, b) = (&series[i], &series[j]);
            if a.1 == b.1 && !a.1.is_empty() {
                continue;
            }
            let common: Vec<(f64, f64, f64)> = a
                .2
                .iter()
                .filter_map(|&(xa, ya)| b.2.iter().find(|p| p.0 == xa).map(|&(_, yb)| (xa, ya, yb)))
                .collect();
            for w in common.windows(2) {
                let (x0, a0, b0) = w[0];
                let (x1, a1, b1) = w[1];
                let (d0, d1) = (a0 - b0, a1 - b1);
                if d0 == 0.0 || d0.signum() != d1.signum() && d1 != 0.0 {
                    let s = if d0 == d1 { 0.0 } else { d0 / (d0 - d1) };
                    let xc = x0 + (x1 - x0) * s;
                    let yc = a0 + (a1 - a0) * s;
                    // After the crossing, which one is cheaper?
                    let cheaper_after = if d1 < 0.0 { &a.0 } else { &b.0 };
                    crossings.push((xc, yc, cheaper_after.clone(), a.0.clone(), b.0.clone()));
                }
            }
        }
    }
    crossings
}

/// The price where the cheaper way changes, else how much cheaper one
/// stays over the whole range `xa`..`xb`.
fn cost_title(crossings: &[Crossing], series: &[Labelled], xa: f64, xb: f64) -> String {
    if let Some((xc, _, cheaper, _, _)) = crossings.first() {
        return format!(
            "Above ×{} memory price, {cheaper} becomes the cheaper way to serve everyone",
            sig(*xc, 2)
        );
    }
    if series.len() < 2 {
        return format!("Capital cost of {} vs memory price", series[0].0);
    }
    let ded = series.iter().find(|s| s.1 == "dedicated");
    let pool = series.iter().find(|s| s.1 == "pooled");
    let (Some(d), Some(p)) = (ded, pool) else {
        return "Capital cost vs memory price".to_string();
    };
    let rs: Vec<f64> =
        d.2.iter()
            .filter_map(|&(xd, yd)| p.2.iter().find(|q| q.0 == xd).map(|q| yd / q.1))
            .collect();
    let lo = rs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = rs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if rs.is_empty() {
        "Capital cost vs memory price: dedicated vs pooled".to_string()
    } else if lo > 1.0 {
        format!(
            "{} stays {}–{} cheaper than one device per user at every memory price from ×{} to ×{}",
            p.0,
            ratio(lo),
            ratio(hi),
            sig(xa, 3),
            sig(xb, 3)
        )
    } else if hi < 1.0 {
        format!(
            "One device per user ({}) stays cheaper than {} at every memory price from ×{} to ×{}",
            d.0,
            p.0,
            sig(xa, 3),
            sig(xb, 3)
        )
    } else {
        "Capital cost vs memory price: dedicated vs pooled".to_string()
    }
}

/// What is plotted, how much each series grows over the range, and the
/// points not shown.
fn cost_subtitle(
    f: &Frame,
    series: &[Labelled],
    no_crossing: bool,
    xa: f64,
    xb: f64,
) -> Vec<String> {
    let growth: Vec<String> = series
        .iter()
        .filter(|s| s.2.len() >= 2)
        .map(|s| format!("{} ×{}", s.0, sig(s.2[s.2.len() - 1].1 / s.2[0].1, 3)))
        .collect();
    let mut sub = vec![format!(
        "{}purchase cost of the {}; the memory share of each device's price is scaled by the multiplier.",
        scenario_prefix(f),
        hardware_source(f)
    )];
    if !growth.is_empty() {
        sub.push(format!(
            "From ×{} to ×{} memory price, capital cost grows: {}.{}",
            sig(xa, 3),
            sig(xb, 3),
            growth.join(", "),
            if no_crossing {
                " The curves do not cross in this range."
            } else {
                ""
            }
        ));
    }
    sub.extend(infeasible_note(f, X, &axis_label(f, X)));
    sub
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_costs_are_found_and_named() {
        let m = [1.0, 2.0, 3.0, 1.0, 2.0, 3.0];
        let capex = [110.0, 120.0, 130.0, 80.0, 110.0, 140.0];
        let df = polars::df!(
            "sweep_costs_memory_price_multiplier" => m,
            columns::PLACEMENT => ["desk", "desk", "desk", "pool", "pool", "pool"],
            columns::KIND => ["dedicated", "dedicated", "dedicated", "pooled", "pooled", "pooled"],
            columns::CAPEX_USD_TOTAL => capex,
        )
        .unwrap();
        let fig = build_cost(&Frame { df: &df }).unwrap();
        // 120 - 110 = 10 at x = 2, 130 - 140 = -10 at x = 3: they cross at 2.5.
        assert!(fig.title.contains("×2.5"), "{}", fig.title);
        assert!(fig.title.contains("desk"), "{}", fig.title);
        let notes: Vec<&Item> = fig.panels[0]
            .items
            .iter()
            .filter(|i| matches!(i, Item::Note { .. }))
            .collect();
        assert_eq!(notes.len(), 1);
    }
}
