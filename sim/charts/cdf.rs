//! The latency CDF chart (`latency-cdf.png`): the distribution of TTFT,
//! TPOT (when the service level bounds it) and E2E (or waiting and response
//! time) per placement on a tail-stretched percentile axis, with every
//! service-level target of each latency, titled with who meets the service
//! level by the verdict the summary table prints (`slo_met`, `slo_detail`).

use std::collections::BTreeSet;

use super::data::{group_rows, with_kind, Frame, Grouped};
use super::figure::{AxisSpec, Figure, Item, Layout, Panel, Scale};
use super::format::{list, sig};
use super::notes::scenario_prefix;
use super::style::{series_style, Style, GREY, VERMILLION};
use super::verdict::{verdicts, Verdicts};
use super::Chart;
use crate::results::columns;

/// The columns of latency_cdf.parquet the chart reads.
struct Columns {
    lat: Vec<Option<String>>,
    q: Vec<Option<f64>>,
    v: Vec<Option<f64>>,
    pmax: Vec<Option<f64>>,
    ppct: Vec<Option<f64>>,
    verdicts: Verdicts,
}

/// What the panels found, for the legend, title and subtitle.
#[derive(Default)]
struct Findings {
    legend: Vec<(String, Style)>,
    /// Who meets the first service level shown.
    verdict: Vec<String>,
    /// Some latency is zero (drawn on the left edge).
    any_zero: bool,
}

/// A placement's latency at the service level's percentile: (label,
/// value, meets the bound).
type AtSlo = (String, f64, bool);

pub(crate) fn build_cdf(f: &Frame) -> Result<Figure, String> {
    let need = Chart::LatencyCdf.needs();
    for c in ["latency", columns::QUANTILE, columns::VALUE_S] {
        if !f.has(c) {
            return Err(format!("no {c} column; needs {need}"));
        }
    }
    let c = Columns {
        lat: f.text("latency"),
        q: f.num(columns::QUANTILE),
        v: f.num(columns::VALUE_S),
        pmax: f.num(columns::SLO_MAX_S),
        // The file's quantile (0-1) as the percentile the verdicts name
        // (rounded: 0.999 x 100 is not 99.9 in binary).
        ppct: f
            .num(columns::SLO_QUANTILE)
            .into_iter()
            .map(|q| q.map(|q| (q * 100.0 * 1e9).round() / 1e9))
            .collect(),
        verdicts: verdicts(f),
    };
    let wanted = wanted_latencies(&c);
    let all: Vec<usize> = (0..f.rows()).collect();
    let g = group_rows(f, &all, None);
    let mut found = Findings::default();
    let panels: Vec<Panel> = wanted
        .iter()
        .filter_map(|&w| latency_panel(&c, &g, w, &mut found))
        .collect();
    if panels.is_empty() {
        return Err(format!(
            "no {} / {} rows with positive latencies; needs {need}",
            wanted[0].0, wanted[1].0
        ));
    }
    let mut legend = found.legend;
    if panels
        .iter()
        .any(|p| p.items.iter().any(|i| matches!(i, Item::VRule { .. })))
    {
        legend.push((
            "service-level bound".into(),
            Style::line(VERMILLION).dashed().width(2),
        ));
        legend.push((
            "the percentile the service level bounds".into(),
            Style::line(GREY).dotted().width(2),
        ));
    }
    let title = table_verdict(&c, &g)
        .or_else(|| found.verdict.into_iter().find(|s| !s.is_empty()))
        .unwrap_or_else(|| {
            let names: Vec<String> = wanted.iter().map(|w| w.0.to_uppercase()).collect();
            format!("Latency distributions: {}", list(&names))
        });
    let sub = vec![format!(
        "{}share of measured requests (all replications) finishing within x seconds; the vertical axis stretches the tail (50 %, 90 %, 99 %, 99.9 %) and x is log scale.{}",
        scenario_prefix(f),
        if found.any_zero { " Zero latencies (no wait) sit on the left edge." } else { "" }
    )];
    Ok(Figure {
        title,
        subtitle: sub,
        legend,
        panels,
        layout: Layout::Cols,
    })
}

/// The latencies to draw (name in the `latency` column, long name): TTFT
/// and E2E of LLM placements, else waiting time, plus response time of
/// generic placements.
fn wanted_latencies(c: &Columns) -> Vec<(&'static str, &'static str)> {
    let present: BTreeSet<String> = c.lat.iter().flatten().cloned().collect();
    let llm = present.contains("ttft") || present.contains("e2e");
    let mut wanted: Vec<(&str, &str)> = if llm {
        vec![
            ("ttft", "time to first token, TTFT"),
            ("e2e", "end-to-end latency, E2E"),
        ]
    } else {
        vec![("wait", "waiting time")]
    };
    // TPOT when a service-level target bounds it (its panel shows the target).
    let tpot_target = c
        .verdicts
        .targets
        .iter()
        .flatten()
        .any(|t| t.latency().is_some_and(|l| l.0 == "tpot"))
        || (0..c.lat.len()).any(|r| c.lat[r].as_deref() == Some("tpot") && c.pmax[r].is_some());
    if llm && tpot_target && present.contains("tpot") {
        wanted.insert(1, ("tpot", "time per output token, TPOT"));
    }
    // Generic placements (e.g. speech classes beside a chat model) too.
    if !llm || present.contains("response") {
        wanted.push(("response", "response time"));
    }
    wanted
}

/// The panel of one latency: a CDF per group and the service level; None
/// when no group has a positive latency.
fn latency_panel(
    c: &Columns,
    g: &Grouped,
    (name, long): (&str, &str),
    found: &mut Findings,
) -> Option<Panel> {
    let mut items = Vec::new();
    let mut slo: Option<(f64, f64)> = None;
    let mut at_slo: Vec<AtSlo> = Vec::new();
    let mut targets: Vec<(f64, f64, Option<String>)> = Vec::new();
    for (gi, (label, kind, rows)) in g.groups.iter().enumerate() {
        let mine: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&r| c.lat[r].as_deref() == Some(name))
            .collect();
        let pts = cdf_points(c, &mine);
        found.any_zero |= pts.iter().any(|p| p.0 <= 0.0);
        if pts.iter().all(|p| p.0 <= 0.0) {
            continue;
        }
        for &r in &mine {
            if let (Some(m), Some(p)) = (c.pmax[r], c.ppct[r]) {
                slo = Some((m, p));
            }
            for t in &c.verdicts.targets[r] {
                if let Some((lat, p)) = t.latency() {
                    let key = (t.bound, p, t.class.clone());
                    if lat == name && !targets.contains(&key) {
                        targets.push(key);
                    }
                }
            }
        }
        if let Some((m, p)) = slo {
            if let Some(val) = value_at(c, &mine, p / 100.0) {
                at_slo.push((label.clone(), val, val <= m));
            }
        }
        let style = series_style(gi).spread(8);
        let style = if kind == "dedicated" {
            style.dashed()
        } else {
            style
        };
        let lname = with_kind(label, kind);
        if !found.legend.iter().any(|l| l.0 == lname) {
            found.legend.push((lname, style));
        }
        items.push(Item::Series {
            pts,
            style,
            dodge: 0.0,
        });
    }
    if items.is_empty() {
        return None;
    }
    // Every target on this latency (from the verdict text), else the one
    // the file's slo_max_s / slo_quantile columns give.
    if targets.is_empty() {
        targets.extend(slo.map(|(m, p)| (m, p, None)));
    }
    let mut percentiles: Vec<f64> = Vec::new();
    for (m, p, class) in &targets {
        let of = class
            .as_ref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        items.push(Item::VRule {
            x: *m,
            style: Style::line(VERMILLION).dashed().width(2),
            text: Some(format!(
                "service level{of}: p{} ≤ {} s",
                sig(*p, 3),
                sig(*m, 3)
            )),
        });
        if !percentiles.contains(p) {
            percentiles.push(*p);
            items.push(Item::HRule {
                y: p / 100.0,
                style: Style::line(GREY).dotted().width(2),
                text: None,
            });
        }
    }
    if let Some((m, p)) = slo {
        if found.verdict.is_empty() && !at_slo.is_empty() {
            found.verdict.push(slo_verdict(&at_slo, name, m, p));
        }
    }
    let mut xspec = AxisSpec::new(format!("{long} (s)"), Scale::Log);
    xspec.clamp = true;
    Some(Panel {
        title: format!("Distribution of {long}"),
        x: xspec,
        y: AxisSpec::new(
            "requests at or below x (percentile, tail stretched)",
            Scale::Nines,
        ),
        items,
    })
}

/// (latency, quantile) of `rows`, by quantile, non-negative latencies and
/// quantiles below 1 only.
fn cdf_points(c: &Columns, rows: &[usize]) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|&r| Some((c.v[r]?, c.q[r]?)))
        .filter(|p| p.0 >= 0.0 && (0.0..1.0).contains(&p.1))
        .collect();
    pts.sort_by(|a, b| a.1.total_cmp(&b.1));
    pts
}

/// The latency of `rows` at quantile `target`.
fn value_at(c: &Columns, rows: &[usize], target: f64) -> Option<f64> {
    rows.iter()
        .filter_map(|&r| Some((c.q[r]?, c.v[r]?)))
        .find(|(qq, _)| (qq - target).abs() < 1e-9)
        .map(|x| x.1)
}

/// Who meets and who misses the service level "p<p> <latency> ≤ <m> s".
fn slo_verdict(at_slo: &[AtSlo], name: &str, m: f64, p: f64) -> String {
    let met: Vec<String> = at_slo
        .iter()
        .filter(|a| a.2)
        .map(|a| format!("{} ({} s)", a.0, sig(a.1, 2)))
        .collect();
    let missed: Vec<String> = at_slo
        .iter()
        .filter(|a| !a.2)
        .map(|a| format!("{} ({} s)", a.0, sig(a.1, 2)))
        .collect();
    let short = match name {
        "ttft" => "TTFT",
        "e2e" => "E2E",
        "response" => "response time",
        other => other,
    };
    let bound = format!("p{} {short} ≤ {} s", sig(p, 3), sig(m, 3));
    match (met.is_empty(), missed.is_empty()) {
        (false, false) => format!(
            "{} meets the {bound} service level; {} misses it",
            list(&met),
            list(&missed)
        ),
        (false, true) => format!(
            "Every placement meets the {bound} service level: {}",
            list(&met)
        ),
        (true, false) => format!(
            "Every placement misses the {bound} service level: {}",
            list(&missed)
        ),
        (true, true) => String::new(),
    }
}

/// Who meets and who misses the service level by the placements' own
/// verdicts (`slo_met`, with the targets of `slo_detail`), judging every
/// target (TTFT and TPOT), not only the latencies drawn; None when the file
/// carries no verdict.
fn table_verdict(c: &Columns, g: &Grouped) -> Option<String> {
    let v = &c.verdicts;
    let mut met = Vec::new();
    let mut missed = Vec::new();
    let mut bounds: Vec<String> = Vec::new();
    for (label, _, rows) in &g.groups {
        let Some(&r) = rows.iter().find(|&&r| v.met[r].is_some()) else {
            continue;
        };
        for t in v.targets[r].iter().filter(|t| t.class.is_none()) {
            let b = t.bound_text();
            if !bounds.contains(&b) {
                bounds.push(b);
            }
        }
        if v.met[r] == Some(true) {
            met.push(label.clone());
        } else {
            let why = v.missed_text(r);
            missed.push(if why.is_empty() {
                label.clone()
            } else {
                format!("{label} ({})", why.join("; "))
            });
        }
    }
    if met.is_empty() && missed.is_empty() {
        return None;
    }
    let level = if bounds.is_empty() {
        "the service level".to_string()
    } else {
        format!("the service level ({})", list(&bounds))
    };
    Some(match (met.is_empty(), missed.is_empty()) {
        (false, true) => format!("Every placement meets {level}: {}", list(&met)),
        (true, false) => format!("Every placement misses {level}: {}", list(&missed)),
        _ => format!(
            "{} {} {level}; {} {} it",
            list(&met),
            if met.len() == 1 { "meets" } else { "meet" },
            list(&missed),
            if missed.len() == 1 { "misses" } else { "miss" }
        ),
    })
}
