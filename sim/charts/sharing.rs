//! The sharing-factor chart (`sharing-factor-vs-duty-cycle.png`): per
//! metric (devices, memory, capital cost), dedicated ÷ pooled hardware per
//! user vs duty cycle, log-log, against the naive 1 / duty cycle, titled
//! with where that naive estimate holds.

use std::collections::BTreeSet;

use plotters::style::RGBColor;

use super::data::{group_rows, rows_of_kind, Frame, Grouped};
use super::figure::{AxisSpec, Figure, Item, Layout, Panel, Scale};
use super::format::{fmt_tick, list, ratio, sig, span_text};
use super::notes::{scenario_prefix, with_misses};
use super::style::{series_style, Marker, Style, BLUE_, GREEN_, INK, ORANGE};
use super::Chart;
use crate::results::columns;

/// The x column.
const X: &str = "sweep_users_duty_cycle";

/// A sharing factor column, its name, and its colour and marker when one
/// series is drawn.
type Metric = (&'static str, &'static str, RGBColor, Marker);

/// Per metric, measured ÷ naive at each duty cycle (headline series only).
type Versus = Vec<(String, Vec<(f64, f64)>)>;

/// The measured series of the chart.
#[derive(Default)]
struct Measured {
    items: Vec<Item>,
    legend: Vec<(String, Style)>,
    /// Duty cycles (x 1e9, rounded) where a metric has no sharing factor.
    omitted: BTreeSet<i64>,
    /// Duty cycles plotted for some metric.
    plotted_x: Vec<f64>,
    versus: Versus,
}

pub(crate) fn build_sharing(f: &Frame) -> Result<Figure, String> {
    let need = Chart::SharingFactorVsDutyCycle.needs();
    if !f.has(X) {
        return Err(format!("no sweep_users_duty_cycle column; needs {need}"));
    }
    let metrics = sharing_metrics(f);
    if metrics.is_empty() {
        return Err(format!(
            "no sharing factor: every sharing_factor_* value is null or missing (a sharing factor \
             needs a feasible dedicated and pooled placement at the same point; see the reason \
             column); needs {need}"
        ));
    }
    let dc = f.num(X);
    let pooled = rows_of_kind(f, "pooled");
    if pooled.is_empty() {
        return Err(format!("no pooled rows (kind = \"pooled\"); needs {need}"));
    }
    let g = group_rows(f, &pooled, Some(X));
    let head = headline_group(f, &g);
    let mut m = gather_series(f, &g, &metrics, &dc, head);
    if m.items.is_empty() {
        return Err(format!(
            "no pooled row has a sharing factor (the dedicated or the pooled placement misses \
             the service level at every duty cycle; see the reason column); needs {need}"
        ));
    }
    // Points plotted for some metric are not "omitted".
    for x in &m.plotted_x {
        m.omitted.remove(&((x * 1e9).round() as i64));
    }
    let naive_style = Style::line(INK).dashed().width(2);
    m.items.push(Item::Series {
        pts: naive_line(&m.plotted_x),
        style: naive_style,
        dodge: 0.0,
    });
    m.legend
        .push(("naive estimate: 1 / duty cycle".into(), naive_style));

    let mut title = sharing_title(&m.versus);
    if g.groups.len() > 1 {
        title.push_str(&format!(" ({})", g.groups[head].0));
    }
    let subtitle = sharing_subtitle(f, &g, head, &dc, &m);
    let all: Vec<usize> = (0..f.rows()).collect();
    let title = with_misses(title, f, &all, Some(X));
    Ok(Figure {
        title,
        subtitle,
        legend: m.legend,
        panels: vec![Panel {
            title: "Sharing factor vs duty cycle".into(),
            x: AxisSpec::new(
                "duty cycle: share of the day one user keeps a device busy (%)",
                Scale::Log,
            )
            .suffix(" %"),
            y: AxisSpec::new("sharing factor (dedicated ÷ pooled, ×)", Scale::Log).suffix("×"),
            items: m.items,
        }],
        layout: Layout::Cols,
    })
}

/// The sharing factors the file holds a value of.
fn sharing_metrics(f: &Frame) -> Vec<Metric> {
    [
        (
            columns::SHARING_FACTOR_DEVICES,
            "devices",
            BLUE_,
            Marker::Circle,
        ),
        (
            columns::SHARING_FACTOR_MEMORY,
            "memory",
            ORANGE,
            Marker::Triangle,
        ),
        (
            columns::SHARING_FACTOR_CAPEX,
            "capital cost",
            GREEN_,
            Marker::Square,
        ),
    ]
    .into_iter()
    .filter(|m| f.has_num(m.0))
    .collect()
}

/// The headline series: the largest pool (several pool sizes), else the first.
fn headline_group(f: &Frame, g: &Grouped) -> usize {
    let pool = f.num(columns::POOL_USERS);
    (0..g.groups.len())
        .max_by(|&a, &b| {
            let k = |i: usize| {
                g.groups[i]
                    .2
                    .iter()
                    .filter_map(|&r| pool[r])
                    .fold(0.0, f64::max)
            };
            k(a).total_cmp(&k(b)).then(b.cmp(&a))
        })
        .unwrap_or(0)
}

/// One series per group and metric, styled by metric when there is one
/// group and by group when there are several.
fn gather_series(
    f: &Frame,
    g: &Grouped,
    metrics: &[Metric],
    dc: &[Option<f64>],
    head: usize,
) -> Measured {
    let many = g.groups.len() > 1;
    let mut m = Measured::default();
    for (gi, (label, _, rows)) in g.groups.iter().enumerate() {
        for (col, name, color, marker) in metrics {
            let pts = metric_points(dc, &f.num(col), rows, &mut m.omitted);
            if pts.is_empty() {
                continue;
            }
            if gi == head {
                m.versus.push((
                    name.to_string(),
                    pts.iter().map(|(x, y)| (*x, x * y)).collect(),
                ));
            }
            m.plotted_x.extend(pts.iter().map(|p| p.0));
            // A colour and marker of its own per series.
            let style = if many {
                series_style(m.items.len())
            } else {
                Style::marked(*color, *marker)
            };
            m.legend.push((
                if many {
                    format!("{label}: {name}")
                } else {
                    format!("{name} ({label})")
                },
                style,
            ));
            m.items.push(Item::Series {
                pts: pts.iter().map(|&(x, y)| (x * 100.0, y)).collect(),
                style,
                dodge: 0.0,
            });
        }
    }
    m
}

/// (duty cycle, sharing factor) of `rows`, sorted; duty cycles without a
/// positive sharing factor go to `omitted`.
fn metric_points(
    dc: &[Option<f64>],
    v: &[Option<f64>],
    rows: &[usize],
    omitted: &mut BTreeSet<i64>,
) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for &r in rows {
        let Some(x) = dc[r].filter(|x| *x > 0.0) else {
            continue;
        };
        match v[r].filter(|y| *y > 0.0) {
            Some(y) => pts.push((x, y)),
            None => {
                omitted.insert((x * 1e9).round() as i64);
            }
        }
    }
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

/// 1 / duty cycle over the plotted duty cycles (x in %).
fn naive_line(plotted_x: &[f64]) -> Vec<(f64, f64)> {
    let mut xs = plotted_x.to_vec();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let (x0, x1) = (xs[0], xs[xs.len() - 1]);
    (0..=40)
        .map(|i| {
            let x = x0 * (x1 / x0).powf(f64::from(i) / 40.0);
            (x * 100.0, 1.0 / x)
        })
        .collect()
}

/// What the sharing factor is, measured ÷ naive per metric, the flat
/// stretch of a one-server pool and the duty cycles not shown.
fn sharing_subtitle(
    f: &Frame,
    g: &Grouped,
    head: usize,
    dc: &[Option<f64>],
    m: &Measured,
) -> Vec<String> {
    let many = g.groups.len() > 1;
    let dedicated: Vec<String> = group_rows(f, &rows_of_kind(f, "dedicated"), Some(X))
        .groups
        .iter()
        .map(|g| g.0.clone())
        .collect();
    let ranges: Vec<String> = m
        .versus
        .iter()
        .map(|(name, r)| {
            let lo = r.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            let hi = r.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
            format!("{name} {}", span_text(&ratio(lo), &ratio(hi)))
        })
        .collect();
    let mut sub = vec![format!(
        "{}sharing factor = hardware per user with one device per user{} ÷ hardware per user in the pool; higher means pooling saves more. Dashed: the back-of-envelope 1 / duty cycle. Measured ÷ naive{}: {}.",
        scenario_prefix(f),
        if dedicated.is_empty() { String::new() } else { format!(" ({})", list(&dedicated)) },
        if many { format!(" ({})", g.groups[head].0) } else { String::new() },
        ranges.join(", ")
    )];
    sub.extend(one_server_note(f, g, head, dc));
    if !m.omitted.is_empty() {
        let o: Vec<String> = m
            .omitted
            .iter()
            .map(|x| format!("{} %", fmt_tick(*x as f64 / 1e9 * 100.0)))
            .collect();
        sub.push(format!(
            "Not shown: duty cycle {} (a placement misses the service level there, so there is no sharing factor).",
            list(&o)
        ));
    }
    sub
}

/// Where one pooled server already serves every user, the sharing factor
/// cannot grow further: say so, or the flat stretch looks like a finding.
fn one_server_note(f: &Frame, g: &Grouped, head: usize, dc: &[Option<f64>]) -> Option<String> {
    let per_pool = f.num(columns::SERVERS_PER_POOL);
    let floor: Vec<f64> = g
        .groups
        .get(head)
        .map(|gr| {
            gr.2.iter()
                .filter(|&&r| per_pool[r] == Some(1.0))
                .filter_map(|&r| dc[r])
                .collect()
        })
        .unwrap_or_default();
    if floor.len() < 2 {
        return None;
    }
    let top = floor.iter().copied().fold(0.0, f64::max);
    Some(format!(
        "Up to a duty cycle of {} %, one server of {} serves every user of its pool: the pool cannot shrink further, so the sharing factor stays flat there.",
        fmt_tick(top * 100.0),
        g.groups[head].0
    ))
}

/// The point of the sharing-factor chart: for each metric, does the
/// measured sharing factor beat the naive 1 / duty cycle (measured x duty
/// cycle > 1), fall short, or cross it (and where)?
fn sharing_title(versus: &[(String, Vec<(f64, f64)>)]) -> String {
    let (mut above, mut below, mut near, mut mixed) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (name, r) in versus {
        let lo = r.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = r.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        if lo >= 0.8 && hi <= 1.25 {
            near.push(name.clone());
        } else if lo > 1.0 {
            above.push(name.clone());
        } else if hi < 1.0 {
            below.push(name.clone());
        } else {
            mixed.push(crossing_phrase(name, r));
        }
    }
    let mut parts = Vec::new();
    if !above.is_empty() {
        parts.push(format!(
            "Pooling beats the 1 / duty-cycle estimate on {}",
            list(&above)
        ));
    }
    if !mixed.is_empty() {
        if parts.is_empty() {
            parts.push(format!(
                "Pooling beats the 1 / duty-cycle estimate on {}",
                list(&mixed)
            ));
        } else {
            parts.push(format!("on {}", list(&mixed)));
        }
    }
    if !below.is_empty() {
        parts.push(format!("falls short of it on {}", list(&below)));
    }
    if !near.is_empty() {
        parts.push(format!(
            "1 / duty cycle holds within 25 % for {}",
            list(&near)
        ));
    }
    if above.is_empty() && mixed.is_empty() && !below.is_empty() {
        parts[0] = format!(
            "Pooling saves less than 1 / duty cycle predicts on {}",
            list(&below)
        );
    }
    let mut t = parts.join("; ");
    if let Some(first) = t.get(..1) {
        t = first.to_uppercase() + &t[1..];
    }
    t
}

/// "<metric> only above/below a duty cycle of ~x %": where measured ÷
/// naive crosses 1 (log-linear interpolation).
fn crossing_phrase(name: &str, r: &[(f64, f64)]) -> String {
    let cross = r.windows(2).find_map(|w| {
        let (a, b) = (w[0].1.ln(), w[1].1.ln());
        (a.signum() != b.signum()).then(|| {
            let s = a / (a - b);
            let x = (w[0].0.ln() + (w[1].0.ln() - w[0].0.ln()) * s).exp();
            (x, b > a)
        })
    });
    match cross {
        Some((x, rising)) => format!(
            "{name} only {} a duty cycle of ~{} %",
            if rising { "above" } else { "below" },
            sig(x * 100.0, 2)
        ),
        None => format!("{name} only at some duty cycles"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharing_titles_state_where_the_rule_breaks() {
        let above = vec![("devices".to_string(), vec![(0.001, 2.0), (0.01, 5.0)])];
        assert!(sharing_title(&above).starts_with("Pooling beats"));
        let crossing = vec![("capital cost".to_string(), vec![(0.001, 0.5), (0.01, 2.0)])];
        let t = sharing_title(&crossing);
        assert!(t.contains("only above a duty cycle of ~0.32 %"), "{t}");
        let below = vec![("memory".to_string(), vec![(0.001, 0.2), (0.01, 0.5)])];
        assert!(
            sharing_title(&below).starts_with("Pooling saves less"),
            "{}",
            sharing_title(&below)
        );
    }
}
