//! The p99 chart (`p99-latency-vs-<axis>.png`): p99 of the service-level
//! latencies (TTFT and TPOT, or wait and response time) per placement vs
//! the first numeric sweep axis, with 95 % error bars and the service
//! level, titled with where a placement exceeds it.

use super::data::{
    axis_info, first_axis, group_rows, points, slo_bound, with_kind, Frame, Grouped,
};
use super::figure::{ci_legend, AxisSpec, Figure, Item, Layout, Panel, Scale};
use super::format::{fmt_tick, list, sig, span_text};
use super::notes::{infeasible_note, scenario_prefix};
use super::style::{series_style, Style, VERMILLION};
use super::Chart;
use crate::results::columns;

/// Latency p99 columns of LLM and generic scenarios, with their names.
pub(crate) const LATENCY_PAIRS: [[(&str, &str, &str); 2]; 2] = [
    [
        (columns::TTFT_P99_S, "time to first token", "TTFT"),
        (columns::TPOT_P99_S, "time per output token", "TPOT"),
    ],
    [
        (columns::WAIT_P99_S, "waiting time", "wait"),
        (columns::RESPONSE_P99_S, "response time", "response time"),
    ],
];

/// A latency: p99 column, long name, short name.
type Metric = (&'static str, &'static str, &'static str);

/// The x axis: the sweep column, its values and how it is shown.
struct Sweep {
    x: Vec<Option<f64>>,
    desc: String,
    mul: f64,
    suffix: &'static str,
    short: String,
}

/// What the panels found, for the legend, title and subtitle.
#[derive(Default)]
struct Findings {
    legend: Vec<(String, Style)>,
    any_bars: bool,
    any_slo: bool,
    /// Per latency: the p99 range of each series.
    summary: Vec<String>,
    /// Where a placement exceeds the service level.
    verdicts: Vec<String>,
}

pub(crate) fn build_p99(f: &Frame) -> Result<Figure, String> {
    let need = Chart::P99LatencyVsAxis.needs();
    let Some(xcol) = first_axis(f) else {
        return Err(format!("no numeric sweep_<axis> column; needs {need}"));
    };
    let (desc, mul, suffix, short) = axis_info(&xcol);
    let pair = if f.has_num(columns::TTFT_P99_S) {
        LATENCY_PAIRS[0]
    } else {
        LATENCY_PAIRS[1]
    };
    let metrics: Vec<Metric> = pair.into_iter().filter(|m| f.has_num(m.0)).collect();
    if metrics.is_empty() {
        return Err(format!(
            "no p99 latency values (ttft_p99_s, tpot_p99_s, wait_p99_s, response_p99_s all null or missing); needs {need}"
        ));
    }
    let sweep = Sweep {
        x: f.num(&xcol),
        desc,
        mul,
        suffix,
        short,
    };
    let all: Vec<usize> = (0..f.rows()).collect();
    let g = group_rows(f, &all, Some(&xcol));
    let mut found = Findings::default();
    let panels: Vec<Panel> = metrics
        .iter()
        .filter_map(|m| latency_panel(f, &sweep, &g, m, &mut found))
        .collect();
    if panels.is_empty() {
        return Err(format!(
            "no row has both {xcol} and a p99 latency; needs {need}"
        ));
    }
    let mut legend = found.legend;
    if found.any_bars {
        legend.push(ci_legend());
    }
    if found.any_slo {
        legend.push((
            "service-level bound".into(),
            Style::line(VERMILLION).dashed().width(2),
        ));
    }
    let names: Vec<&str> = metrics.iter().map(|m| m.2).collect();
    let title = if !found.verdicts.is_empty() {
        found.verdicts[0].clone()
    } else if found.any_slo {
        format!(
            "Every placement meets the p99 {} service level across the sweep of {}",
            names.join(" and "),
            sweep.short
        )
    } else {
        format!("p99 {} vs {}", names.join(" and "), sweep.short)
    };
    let mut sub =
        vec![format!(
        "{}p99 latency at each sweep point{}; bars: 95 % confidence interval over replications.",
        scenario_prefix(f),
        if f.has("feasible") { " (at the least hardware meeting the service level)" } else { "" }
    )];
    sub.push(format!("{}.", found.summary.join("; ")));
    sub.extend(infeasible_note(f, &xcol, mul, suffix));
    Ok(Figure {
        title,
        subtitle: sub,
        legend,
        panels,
        layout: Layout::Cols,
    })
}

/// The panel of one latency: a series (with error bars) per group and the
/// service level; None when no group has a value.
fn latency_panel(
    f: &Frame,
    sweep: &Sweep,
    g: &Grouped,
    &(col, name, abbr): &Metric,
    found: &mut Findings,
) -> Option<Panel> {
    let (x, mul) = (&sweep.x, sweep.mul);
    let y = f.num(col);
    let ci = f.num(&format!("{col}_ci95"));
    let has_ci = ci.iter().any(|c| c.is_some_and(|c| c > 0.0));
    let bound = slo_bound(f, col);
    let mut items = Vec::new();
    let mut ranges = Vec::new();
    let (mut all_lo, mut all_hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (gi, (label, kind, rows)) in g.groups.iter().enumerate() {
        let pts: Vec<(f64, f64)> = points(x, &y, rows, false)
            .into_iter()
            .map(|(a, b)| (a * mul, b))
            .collect();
        if pts.is_empty() {
            continue;
        }
        let style = series_style(gi);
        let dodge = dodge_for(gi, g.groups.len(), has_ci);
        let bars = error_bars(x, &y, &ci, rows, mul);
        if !bars.is_empty() {
            found.any_bars = true;
            items.push(Item::Bars {
                bars,
                color: style.color,
                dodge,
            });
        }
        let lo = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        all_lo = all_lo.min(lo);
        all_hi = all_hi.max(hi);
        ranges.push(format!("{label} {} s", span_text(&sig(lo, 2), &sig(hi, 2))));
        if let Some(b) = bound {
            found
                .verdicts
                .extend(over_bound(label, &pts, b, sweep, abbr));
        }
        let lname = with_kind(label, kind);
        if !found.legend.iter().any(|l| l.0 == lname) {
            found.legend.push((lname, style));
        }
        items.push(Item::Series { pts, style, dodge });
    }
    if items.is_empty() {
        return None;
    }
    if let Some(b) = bound {
        found.any_slo = true;
        items.push(Item::HRule {
            y: b,
            style: Style::line(VERMILLION).dashed().width(2),
            text: Some(format!("service level: p99 ≤ {} s", sig(b, 3))),
        });
    }
    if ranges.len() <= 3 {
        found
            .summary
            .push(format!("p99 {name}: {}", ranges.join(", ")));
    } else {
        found.summary.push(format!(
            "p99 {name}: {} s across the {} series",
            span_text(&sig(all_lo, 2), &sig(all_hi, 2)),
            ranges.len()
        ));
    }
    Some(Panel {
        title: format!("p99 {name}"),
        x: AxisSpec::new(sweep.desc.clone(), Scale::Auto).suffix(sweep.suffix),
        y: AxisSpec::new(format!("p99 {name} (s)"), Scale::Auto),
        items,
    })
}

/// Shift series apart when their error bars would overlap: the `gi`-th of
/// `n` series, as a share of the x axis.
fn dodge_for(gi: usize, n: usize, has_ci: bool) -> f64 {
    let n = n as f64;
    if n > 1.0 && has_ci {
        (gi as f64 - (n - 1.0) / 2.0) * (0.07 / (n - 1.0)).min(0.014)
    } else {
        0.0
    }
}

/// Error bars (x times `mul`, p99 ± half-width) of `rows` with a positive
/// confidence interval.
fn error_bars(
    x: &[Option<f64>],
    y: &[Option<f64>],
    ci: &[Option<f64>],
    rows: &[usize],
    mul: f64,
) -> Vec<(f64, f64, f64)> {
    let mut bars = Vec::new();
    for &r in rows {
        if let (Some(xv), Some(yv), Some(c)) = (x[r], y[r], ci[r]) {
            if c > 0.0 {
                bars.push((xv * mul, yv - c, yv + c));
            }
        }
    }
    bars
}

/// "<placement> exceeds the p99 <latency> service level at <points>", when
/// a point of `pts` is above `bound`.
fn over_bound(
    place: &str,
    pts: &[(f64, f64)],
    bound: f64,
    sweep: &Sweep,
    abbr: &str,
) -> Option<String> {
    let over: Vec<f64> = pts.iter().filter(|p| p.1 > bound).map(|p| p.0).collect();
    if over.is_empty() {
        return None;
    }
    let at = list(&over.iter().map(|v| fmt_tick(*v)).collect::<Vec<_>>());
    let at = if sweep.short == "users" {
        format!("{at} users")
    } else {
        format!("{} {at}{}", sweep.short, sweep.suffix)
    };
    Some(format!(
        "{place} exceeds the p99 {abbr} service level at {at}"
    ))
}
