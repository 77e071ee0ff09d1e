//! The elastic-fleet chart (`elastic-fleet.png`, from elastic.parquet of
//! `sharesim size` with `[sizing] elastic = "hourly"`): the servers an
//! hourly schedule holds in each UTC hour, against the static fleet
//! (dashed), the mean servers the reactive autoscaler held in each hour
//! (with `[sizing.reactive]`), and the load each hour is sized for.

use super::data::{points, Frame};
use super::figure::{AxisSpec, Figure, Item, Layout, Panel, Scale};
use super::format::human;
use super::notes::scenario_prefix;
use super::style::{series_style, Style, INK};
use super::Chart;
use crate::results::columns;

/// Each hour's value held until the next hour: (h, v), (h + 1, v).
fn steps(pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    pts.iter()
        .flat_map(|&(h, v)| [(h, v), (h + 1.0, v)])
        .collect()
}

pub(crate) fn build_elastic(f: &Frame) -> Result<Figure, String> {
    let need = Chart::ElasticFleet.needs();
    let hour = f.num(columns::HOUR_OF_DAY);
    let held = f.num("servers_held");
    let fixed = f.num("servers_static");
    let rate = f.num("request_rate_per_s");
    let reactive = if f.has("servers_reactive") {
        f.num("servers_reactive")
    } else {
        vec![None; f.rows()]
    };
    let placement = f.text(columns::PLACEMENT);
    let mut names: Vec<String> = Vec::new();
    for p in placement.iter().flatten() {
        if !names.contains(p) {
            names.push(p.clone());
        }
    }
    let mut legend: Vec<(String, Style)> = Vec::new();
    let mut supply = Vec::new();
    let mut demand = Vec::new();
    let mut headline = Vec::new();
    for (gi, name) in names.iter().enumerate() {
        let rows: Vec<usize> = (0..f.rows())
            .filter(|&r| placement[r].as_deref() == Some(name.as_str()))
            .collect();
        let pts = points(&hour, &held, &rows, false);
        let style = series_style(gi).width(3);
        if !pts.is_empty() {
            legend.push((format!("{name}: servers held (hourly schedule)"), style));
            supply.push(Item::Series {
                pts: steps(&pts),
                style,
                dodge: 0.0,
            });
        }
        let scaled = points(&hour, &reactive, &rows, false);
        if !scaled.is_empty() {
            let style = series_style(gi + names.len()).width(2);
            legend.push((
                format!("{name}: mean servers held (reactive autoscaler)"),
                style,
            ));
            supply.push(Item::Series {
                pts: steps(&scaled),
                style,
                dodge: 0.0,
            });
        }
        if let Some(s) = rows.iter().find_map(|&r| fixed[r]) {
            let rule = Style::line(series_style(gi).color).dashed().width(2);
            legend.push((format!("{name}: static fleet"), rule));
            supply.push(Item::HRule {
                y: s,
                style: rule,
                text: Some(format!("static: {} servers all day", human(s))),
            });
            let low = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            let peak = pts.iter().map(|p| p.1).fold(0.0, f64::max);
            if !pts.is_empty() {
                headline.push(format!(
                    "{name} holds {} to {} servers by the hour vs {} all day",
                    human(low),
                    human(peak),
                    human(s)
                ));
            }
        }
        let load = points(&hour, &rate, &rows, false);
        if gi == 0 && !load.is_empty() {
            let style = Style::line(INK).width(2);
            legend.push(("requests per second the hour is sized for".into(), style));
            demand.push(Item::Series {
                pts: steps(&load),
                style,
                dodge: 0.0,
            });
        }
    }
    if supply.is_empty() {
        return Err(format!(
            "every servers_held and servers_reactive value is null; needs {need}"
        ));
    }
    let mut panels = vec![Panel {
        title: "Supply: servers held in each UTC hour".into(),
        x: AxisSpec::new("time of day (UTC)", Scale::Hours),
        y: AxisSpec::new("servers", Scale::Linear).zero(),
        items: supply,
    }];
    if !demand.is_empty() {
        panels.push(Panel {
            title: "Demand: mean request rate of each hour".into(),
            x: AxisSpec::new("time of day (UTC)", Scale::Hours),
            y: AxisSpec::new("requests per second", Scale::Linear).zero(),
            items: demand,
        });
    }
    Ok(Figure {
        title: if headline.is_empty() {
            "Servers held hour by hour".into()
        } else {
            headline.join("; ")
        },
        subtitle: vec![format!(
            "{}each hour sized on its own steady load at the scenario's service level; the reactive autoscaler's servers are its hourly means over the simulated day (elastic.parquet).",
            scenario_prefix(f)
        )],
        legend,
        panels,
        layout: Layout::Rows,
    })
}
