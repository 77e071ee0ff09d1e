//! The bill's charts: `carbon-by-placement.png`, operational and embodied
//! carbon per user-year of every answer of sizing.parquet (or of a sweep's
//! first point), one column of markers per placement; and
//! `breakeven-memory-price.png`, the memory price multiplier at which a
//! shared answer costs what one device per user does, vs duty cycle, with
//! today's price (x1) ruled.

use super::data::{distinct, Frame};
use super::figure::{AxisSpec, Figure, Item, Layout, Panel, Scale};
use super::format::sig;
use super::notes::scenario_prefix;
use super::style::{series_style, Marker, Style, GREY, ORANGE, SKY};
use super::Chart;
use crate::results::columns;

const OPERATIONAL: &str = "carbon_operational_kg_per_user_year";
const EMBODIED: &str = "carbon_embodied_kg_per_user_year";
const BREAKEVEN: &str = "breakeven_memory_price_multiplier";
const DUTY: &str = "sweep_users_duty_cycle";

/// A shared answer that crosses: its label, its (duty cycle, break-even
/// multiplier) points, and whether a device per user is cheaper today.
type Crossed = (String, Vec<(f64, f64)>, bool);

/// Rows to show: feasible ones (when the file says), at the first sweep
/// point (when it is a sweep).
fn shown_rows(f: &Frame) -> Vec<usize> {
    let feasible = f.flag("feasible");
    let point = f.num("point");
    let first_point = point
        .iter()
        .flatten()
        .copied()
        .fold(f64::INFINITY, f64::min);
    (0..f.rows())
        .filter(|&r| feasible.get(r).copied().flatten().unwrap_or(true))
        .filter(|&r| !f.has("point") || point[r] == Some(first_point))
        .collect()
}

pub(crate) fn build_carbon(f: &Frame) -> Result<Figure, String> {
    let need = Chart::CarbonByPlacement.needs();
    let (op, emb) = (f.num(OPERATIONAL), f.num(EMBODIED));
    let name = f.text(columns::PLACEMENT);
    let kind = f.text(columns::KIND);
    let pool = f.num(columns::POOL_USERS);
    let rows: Vec<usize> = shown_rows(f)
        .into_iter()
        .filter(|&r| op[r].is_some() && emb[r].is_some())
        .collect();
    if rows.is_empty() {
        return Err(format!(
            "no feasible row has {OPERATIONAL} and {EMBODIED}; needs {need}"
        ));
    }
    let mut ticks = Vec::new();
    let (mut op_pts, mut emb_pts, mut total_pts) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &r) in rows.iter().enumerate() {
        let x = i as f64;
        let dedicated = kind[r].as_deref() == Some("dedicated");
        let label = match pool[r] {
            Some(k) if f.has(columns::POOL_USERS) && !dedicated => {
                format!(
                    "{} (pools of {})",
                    name[r].clone().unwrap_or_default(),
                    sig(k, 3)
                )
            }
            _ => name[r].clone().unwrap_or_default(),
        };
        ticks.push((x, label));
        let (o, e) = (op[r].unwrap_or(0.0), emb[r].unwrap_or(0.0));
        op_pts.push((x, o));
        emb_pts.push((x, e));
        total_pts.push((x, o + e));
    }
    let marker = |c, m| Style {
        line: false,
        ..Style::marked(c, m)
    };
    let styles = [
        (
            "operational (kWh x PUE x grid)",
            marker(ORANGE, Marker::Circle),
            op_pts,
        ),
        (
            "embodied (device memory + rest, over its lifetime)",
            marker(SKY, Marker::Square),
            emb_pts,
        ),
        ("total", marker(GREY, Marker::Diamond), total_pts.clone()),
    ];
    let mut items = Vec::new();
    let mut legend = Vec::new();
    for (label, style, pts) in styles {
        legend.push((label.to_string(), style));
        items.push(Item::Series {
            pts,
            style,
            dodge: 0.0,
        });
    }
    let (lo_i, hi_i) = (
        total_pts
            .iter()
            .enumerate()
            .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1)),
        total_pts
            .iter()
            .enumerate()
            .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1)),
    );
    let title = match (lo_i, hi_i) {
        (Some((a, lo)), Some((b, hi))) if a != b && lo.1 > 0.0 => format!(
            "{} emits {}x less CO2e per user-year than {}",
            ticks[a].1,
            sig(hi.1 / lo.1, 3),
            ticks[b].1
        ),
        _ => "Carbon per user-year, operational and embodied".to_string(),
    };
    Ok(Figure {
        title,
        subtitle: vec![format!(
            "{}kg CO2e per user per year of each sized answer: operational carbon is the energy \
             drawn at the site's grid intensity, embodied carbon the devices' manufacture (memory \
             per GB plus the rest) spread over their lifetime (docs/model.md section 19)",
            scenario_prefix(f)
        )],
        legend,
        panels: vec![Panel {
            title: "Carbon per user-year".into(),
            x: AxisSpec {
                ticks: Some(ticks),
                ..AxisSpec::new("placement", Scale::Linear)
            },
            y: AxisSpec::new("kg CO2e per user per year", Scale::Auto),
            items,
        }],
        layout: Layout::Cols,
    })
}

pub(crate) fn build_breakeven(f: &Frame) -> Result<Figure, String> {
    let need = Chart::BreakevenMemoryPrice.needs();
    if !f.has(DUTY) {
        return Err(format!("no {DUTY} column; needs {need}"));
    }
    let (x, y) = (f.num(DUTY), f.num(BREAKEVEN));
    let name = f.text(columns::PLACEMENT);
    let pool = f.num(columns::POOL_USERS);
    let kind = f.text(columns::KIND);
    let factor = f.num("sharing_factor_tco");
    let shared: Vec<usize> = (0..f.rows())
        .filter(|&r| kind[r].as_deref().is_some_and(|k| k != "dedicated"))
        .collect();
    // One series per (placement, pool size).
    let mut keys: Vec<(String, Option<f64>)> = Vec::new();
    for &r in &shared {
        let k = (name[r].clone().unwrap_or_default(), pool[r]);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let mut items = Vec::new();
    let mut legend = Vec::new();
    let mut crossed = Vec::new();
    let mut crossed_keys = Vec::new();
    for (i, (n, k)) in keys.iter().enumerate() {
        let mut pts: Vec<(f64, f64)> = shared
            .iter()
            .filter(|&&r| name[r].as_deref() == Some(n) && pool[r] == *k)
            .filter_map(|&r| Some((x[r]?, y[r]?)))
            .collect();
        if pts.is_empty() {
            continue;
        }
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        crossed_keys.push((n.clone(), *k));
        let style = series_style(i);
        let label = match k {
            Some(k) => format!("{n}, pools of {}", sig(*k, 3)),
            None => n.clone(),
        };
        let local_cheaper_today = shared
            .iter()
            .filter(|&&r| name[r].as_deref() == Some(n) && pool[r] == *k)
            .any(|&r| factor[r].is_some_and(|v| v < 1.0));
        crossed.push((label.clone(), pts.clone(), local_cheaper_today));
        legend.push((label, style));
        items.push(Item::Series {
            pts,
            style,
            dodge: 0.0,
        });
    }
    if crossed.is_empty() {
        return Err(format!(
            "no shared answer crosses one device per user at any memory price multiplier in [0, 1000] \
             (the pool is cheaper at every memory price, or the other way round); needs {need}"
        ));
    }
    items.push(Item::HRule {
        y: 1.0,
        style: Style::line(GREY).dashed(),
        text: Some("today's memory price (x1)".into()),
    });
    let title = breakeven_title(&crossed);
    let never: Vec<String> = keys
        .iter()
        .filter(|key| !crossed_keys.contains(key))
        .map(|(n, k)| {
            let pooled_cheaper = shared
                .iter()
                .filter(|&&r| name[r].as_deref() == Some(n) && pool[r] == *k)
                .any(|&r| factor[r].is_some_and(|v| v > 1.0));
            let who = if pooled_cheaper {
                "shared cheaper"
            } else {
                "a device per user cheaper"
            };
            match k {
                Some(k) => format!("{n}, pools of {} ({who})", sig(*k, 3)),
                None => format!("{n} ({who})"),
            }
        })
        .collect();
    let mut subtitle = vec![format!(
        "{}the memory price multiplier at which the TCO per user-year of one device per user equals \
         that of the shared answer (root of TCO_local(m) = TCO_pooled(m), by bisection); points \
         without a crossing in [0, 1000] are not drawn",
        scenario_prefix(f)
    )];
    if !never.is_empty() {
        subtitle.push(format!(
            "never cross, one side cheaper at every memory price: {}",
            never.join("; ")
        ));
    }
    let xs = distinct(&x);
    Ok(Figure {
        title,
        subtitle,
        legend,
        panels: vec![Panel {
            title: format!(
                "Break-even memory price, duty cycle {}–{}",
                sig(xs.first().copied().unwrap_or(0.0) * 100.0, 2) + " %",
                sig(xs.last().copied().unwrap_or(0.0) * 100.0, 2) + " %"
            ),
            x: AxisSpec::new(
                "duty cycle (share of the day one user keeps a device busy)",
                Scale::Log,
            ),
            y: AxisSpec::new(
                "memory price multiplier at break-even (× today's)",
                Scale::Auto,
            )
            .suffix("×"),
            items,
        }],
        layout: Layout::Cols,
    })
}

/// The headline of the break-even chart: for the first answer that
/// crosses, which side is cheaper today and up to (or down to) what price.
fn breakeven_title(crossed: &[Crossed]) -> String {
    let (label, pts, local_cheaper) = &crossed[0];
    let lo = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let span = if sig(lo, 2) == sig(hi, 2) {
        format!("×{}", sig(lo, 2))
    } else {
        format!("×{}–{}", sig(lo, 2), sig(hi, 2))
    };
    if *local_cheaper {
        format!("A device per user costs less than {label} until memory costs {span} today's price")
    } else {
        format!("A device per user costs as little as {label} once memory falls to {span} today's price")
    }
}
