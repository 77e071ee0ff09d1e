//! The p99 chart (`p99-latency-vs-<axis>.png`): p99 of the service-level
//! latencies (TTFT and TPOT, or wait and response time) per placement vs
//! the first numeric sweep axis, with 95 % error bars and the service
//! level, titled with where a placement exceeds it.

use super::data::{first_axis, group_rows, points, with_kind, Frame, Grouped};
use super::figure::{ci_legend, AxisSpec, Figure, Item, Layout, Panel, Scale};
use super::format::{list, sig, span_text};
use super::labels::{axis_label, AxisLabel};
use super::notes::{infeasible_note, scenario_prefix};
use super::style::{series_style, Style, VERMILLION};
use super::verdict::{miss_phrases, verdicts, Verdicts};
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

/// The x axis: the sweep column's values and how it is shown.
struct Sweep {
    x: Vec<Option<f64>>,
    label: AxisLabel,
}

/// What the panels found, for the legend, title and subtitle.
#[derive(Default)]
struct Findings {
    legend: Vec<(String, Style)>,
    any_bars: bool,
    any_slo: bool,
    /// Per latency: the p99 range of each series.
    summary: Vec<String>,
    /// The service-level bounds drawn, e.g. "p99 TTFT ≤ 5 s".
    bounds: Vec<String>,
}

pub(crate) fn build_p99(f: &Frame) -> Result<Figure, String> {
    let need = Chart::P99LatencyVsAxis.needs();
    let Some(xcol) = first_axis(f) else {
        return Err(format!("no numeric sweep_<axis> column; needs {need}"));
    };
    let label = axis_label(f, &xcol);
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
        label,
    };
    let all: Vec<usize> = (0..f.rows()).collect();
    let g = group_rows(f, &all, Some(&xcol));
    let v = verdicts(f);
    let mut found = Findings::default();
    let panels: Vec<Panel> = metrics
        .iter()
        .filter_map(|m| latency_panel(f, &sweep, &g, &v, m, &mut found))
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
    let title = p99_title(&v, &g, &sweep, &found.bounds, &names);
    let mut sub =
        vec![format!(
        "{}p99 latency at each sweep point{}; bars: 95 % confidence interval over replications.",
        scenario_prefix(f),
        if f.has("feasible") { " (at the least hardware meeting the service level)" } else { "" }
    )];
    sub.push(format!("{}.", found.summary.join("; ")));
    sub.extend(infeasible_note(f, &xcol, &sweep.label));
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
    v: &Verdicts,
    &(col, name, _): &Metric,
    found: &mut Findings,
) -> Option<Panel> {
    let (x, mul) = (&sweep.x, sweep.label.mul);
    let y = f.num(col);
    let ci = f.num(&format!("{col}_ci95"));
    let has_ci = ci.iter().any(|c| c.is_some_and(|c| c > 0.0));
    let all: Vec<usize> = (0..f.rows()).collect();
    let bounds = v.bounds_of(col, &all);
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
        let lname = with_kind(label, kind);
        if !found.legend.iter().any(|l| l.0 == lname) {
            found.legend.push((lname, style));
        }
        items.push(Item::Series { pts, style, dodge });
    }
    if items.is_empty() {
        return None;
    }
    // Every bound on this latency (a swept target, or per class), not
    // only the first.
    for (b, class) in &bounds {
        found.any_slo = true;
        let of = class
            .as_ref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        items.push(Item::HRule {
            y: *b,
            style: Style::line(VERMILLION).dashed().width(2),
            text: Some(format!("service level{of}: p99 ≤ {} s", sig(*b, 3))),
        });
        if let Some(t) = v
            .targets
            .iter()
            .flatten()
            .find(|t| t.column == col && t.bound == *b && t.class == *class)
        {
            let text = t.bound_text();
            if !found.bounds.contains(&text) {
                found.bounds.push(text);
            }
        }
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
        x: AxisSpec::new(sweep.label.desc.clone(), Scale::Auto).suffix(sweep.label.suffix),
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

/// The headline, from the rows' verdicts (`slo_met`, `feasible`,
/// `slo_detail`): who misses the service level and where, else that every
/// placement meets it (only when every row has a verdict and each is met).
fn p99_title(
    v: &Verdicts,
    g: &Grouped,
    sweep: &Sweep,
    bounds: &[String],
    names: &[&str],
) -> String {
    let series: Vec<(String, Vec<usize>)> = g
        .groups
        .iter()
        .map(|(l, _, r)| (l.clone(), r.clone()))
        .collect();
    let at = |r: usize| sweep.x[r].map(|x| sweep.label.value(x));
    let missed = miss_phrases(v, &series, &at);
    if !missed.is_empty() {
        return missed.join("; ");
    }
    let all: Vec<usize> = g
        .groups
        .iter()
        .flat_map(|gr| gr.2.iter().copied())
        .collect();
    let every_row_judged = all.iter().all(|&r| v.met[r].is_some());
    match v.all_met(&all) {
        Some(true) if every_row_judged => format!(
            "Every placement meets the service level{} across the sweep of {}",
            if bounds.is_empty() {
                String::new()
            } else {
                format!(" ({})", list(bounds))
            },
            sweep.label.short
        ),
        _ => format!("p99 {} vs {}", names.join(" and "), sweep.label.short),
    }
}
