//! The hardware chart (`hardware-vs-users.png`): devices and memory of all
//! users vs users, one device per user (dashed) vs pooled (solid), log-log,
//! titled with how much less the pool needs at the largest user count.

use super::data::{group_rows, points, with_kind, Frame, Grouped};
use super::figure::{ci_bars, AxisSpec, Figure, Item, Layout, Panel, Scale};
use super::format::{human, ratio};
use super::labels::axis_label;
use super::notes::{hardware_source, infeasible_note, scenario_prefix, with_misses};
use super::style::{series_style, Style};
use super::Chart;
use crate::results::columns;

/// The x column.
const X: &str = "sweep_users_count";

pub(crate) fn build_hardware(f: &Frame) -> Result<Figure, String> {
    let need = Chart::HardwareVsUsers.needs();
    if !f.has(X) {
        return Err(format!("no {X} column; needs {need}"));
    }
    let x = f.num(X);
    let all: Vec<usize> = (0..f.rows()).collect();
    let g = group_rows(f, &all, Some(X));
    let dev_col = columns::DEVICES_TOTAL;
    let (panels, legend) = hardware_panels(f, &g, &x, dev_col);
    if panels.is_empty() {
        return Err(format!(
            "no row has devices_total or mem_gb_total (every point infeasible?); needs {need}"
        ));
    }
    let title = with_misses(hardware_title(f, &g, &x, dev_col), f, &all, Some(X));
    let mut sub = vec![format!(
        "{}{} at each user count; dashed: one device per user, solid: pooled.",
        scenario_prefix(f),
        hardware_source(f)
    )];
    let per_pool = f.num(columns::SERVERS_PER_POOL);
    for (label, kind, rows) in &g.groups {
        let one: Vec<f64> = rows
            .iter()
            .filter(|&&r| per_pool[r] == Some(1.0))
            .filter_map(|&r| x[r])
            .collect();
        if kind == "pooled" && one.len() >= 2 {
            sub.push(format!(
                "{label}: a single server serves up to {} users (the smallest possible pool), hence the flat stretch.",
                human(one.iter().copied().fold(0.0, f64::max))
            ));
        }
    }
    sub.extend(infeasible_note(f, X, &axis_label(f, X)));
    Ok(Figure {
        title,
        subtitle: sub,
        legend,
        panels,
        layout: Layout::Cols,
    })
}

/// A devices panel and a memory panel (those with data), one series per
/// group, and their legend.
fn hardware_panels(
    f: &Frame,
    g: &Grouped,
    x: &[Option<f64>],
    dev_col: &str,
) -> (Vec<Panel>, Vec<(String, Style)>) {
    let metrics = [
        (dev_col, "Devices for all users", "devices (all users)", ""),
        (
            columns::MEM_GB_TOTAL,
            "Memory for all users",
            "device memory, all users (GB)",
            "",
        ),
    ];
    let mut panels = Vec::new();
    let mut legend: Vec<(String, Style)> = Vec::new();
    for (col, title, desc, suffix) in metrics {
        let y = f.num(col);
        let mut items = Vec::new();
        for (gi, (label, kind, rows)) in g.groups.iter().enumerate() {
            let pts = points(x, &y, rows, true);
            if pts.is_empty() {
                continue;
            }
            let mut style = series_style(gi);
            if kind == "dedicated" {
                style = style.dashed();
            }
            let name = with_kind(label, kind);
            if !legend.iter().any(|l| l.0 == name) {
                legend.push((name, style));
            }
            items.extend(ci_bars(f, x, col, rows, 1.0, style.color));
            items.push(Item::Series {
                pts,
                style,
                dodge: 0.0,
            });
        }
        if !items.is_empty() {
            panels.push(Panel {
                title: title.into(),
                x: AxisSpec::new("users", Scale::Log),
                y: AxisSpec::new(desc, Scale::Log).suffix(suffix),
                items,
            });
        }
    }
    (panels, legend)
}

/// Headline: at the largest user count where a dedicated and a pooled
/// series both have hardware, how many fewer devices (and how much less
/// memory) the pool needs.
fn hardware_title(f: &Frame, g: &Grouped, x: &[Option<f64>], dev_col: &str) -> String {
    let devices = f.num(dev_col);
    let mem = f.num(columns::MEM_GB_TOTAL);
    let first = |kind: &str| g.groups.iter().find(|gr| gr.1 == kind);
    let mut title = "Hardware needed vs users: one device per user vs a shared pool".to_string();
    if let (Some(d), Some(p)) = (first("dedicated"), first("pooled")) {
        let mut best: Option<(f64, usize, usize)> = None;
        for &rd in &d.2 {
            for &rp in &p.2 {
                if x[rd].is_some()
                    && x[rd] == x[rp]
                    && devices[rd].is_some()
                    && devices[rp].is_some()
                {
                    let u = x[rd].unwrap_or(0.0);
                    if best.is_none_or(|b| u > b.0) {
                        best = Some((u, rd, rp));
                    }
                }
            }
        }
        if let Some((u, rd, rp)) = best {
            let rdev = devices[rd].unwrap_or(0.0) / devices[rp].unwrap_or(1.0);
            let verb = if f.has("feasible") {
                "needs"
            } else {
                "as configured has"
            };
            title = format!(
                "At {} users, the pool {verb} {} fewer devices",
                human(u),
                ratio(rdev)
            );
            if let (Some(md), Some(mp)) = (mem[rd], mem[rp]) {
                title.push_str(&format!(" and {} less memory", ratio(md / mp)));
            }
            title.push_str(" than one device per user");
        }
    }
    title
}
