//! The load chart (`load-over-the-day.png`): demand (requests arriving per
//! minute) and supply (busy servers against the fleet size) over the day
//! per pooled placement, titled with how much demand swings and how busy
//! the fleet runs.

use super::data::{group_rows, points, rows_of_kind, with_kind, Frame, Labelled};
use super::figure::{AxisSpec, Figure, Item, Layout, Panel, Scale};
use super::format::{human, list, ratio, sig, span_text};
use super::notes::{scenario_prefix, with_misses};
use super::style::{series_style, Style, INK};
use super::Chart;
use crate::results::columns;

/// A busy-servers series: label, kind, points and the fleet size.
type Busy = (String, String, Vec<(f64, f64)>, Option<f64>);

pub(crate) fn build_load(f: &Frame) -> Result<Figure, String> {
    let need = Chart::LoadOverTheDay.needs();
    let hour = hours(f);
    if hour.iter().all(Option::is_none) {
        return Err(format!(
            "no hour_of_day or minute_of_day values; needs {need}"
        ));
    }
    let pooled = rows_of_kind(f, "pooled");
    if pooled.is_empty() {
        return Err(format!(
            "no pooled placement (kind = \"pooled\"); needs {need}"
        ));
    }
    let (arrivals, busy) = load_series(f, &pooled, &hour);
    if arrivals.is_empty() && busy.is_empty() {
        return Err(format!(
            "every arrivals_per_min and busy_servers value is null (nothing measured); needs {need}"
        ));
    }
    let mut legend: Vec<(String, Style)> = Vec::new();
    let mut panels = Vec::new();
    panels.extend(demand_panel(&arrivals, &mut legend));
    panels.extend(supply_panel(&busy, &mut legend));
    let period = load_period(&arrivals, &busy);
    let mut title = "Load over the day".to_string();
    let mut sub = vec![format!(
        "{}per-minute means over the measured window (and all replications); pooled placements only.",
        scenario_prefix(f)
    )];
    let demand = demand_headline(&arrivals, period, &mut sub);
    let supply = supply_headline(&busy);
    match (demand, supply) {
        (Some(d), Some(s)) => title = format!("{d}; {s}"),
        (Some(d), None) => title = d,
        (None, Some(s)) => title = s,
        (None, None) => {}
    }
    let title = with_misses(title, f, &pooled, None);
    Ok(Figure {
        title,
        subtitle: sub,
        legend,
        panels,
        layout: Layout::Rows,
    })
}

/// The hour of day of each row (from minute_of_day when hour_of_day has no
/// value).
fn hours(f: &Frame) -> Vec<Option<f64>> {
    if f.has_num(columns::HOUR_OF_DAY) {
        f.num(columns::HOUR_OF_DAY)
    } else {
        f.num(columns::MINUTE_OF_DAY)
            .into_iter()
            .map(|m| m.map(|m| m / 60.0))
            .collect()
    }
}

/// Arrivals and busy-servers series per pooled group, those with points.
fn load_series(f: &Frame, pooled: &[usize], hour: &[Option<f64>]) -> (Vec<Labelled>, Vec<Busy>) {
    let arr = f.num(columns::ARRIVALS_PER_MIN);
    let busy = f.num(columns::BUSY_SERVERS);
    let servers = f.num("servers");
    let g = group_rows(f, pooled, Some(columns::HOUR_OF_DAY));
    let mut arrivals: Vec<Labelled> = Vec::new();
    let mut busy_series = Vec::new();
    for (label, kind, rows) in &g.groups {
        let a = points(hour, &arr, rows, false);
        let b = points(hour, &busy, rows, false);
        let s = rows.iter().find_map(|&r| servers[r]);
        if !a.is_empty() {
            arrivals.push((label.clone(), kind.clone(), a));
        }
        if !b.is_empty() {
            busy_series.push((label.clone(), kind.clone(), b, s));
        }
    }
    (arrivals, busy_series)
}

/// Requests arriving per minute: one line when every placement sees the
/// same arrivals, else one per placement.
fn demand_panel(arrivals: &[Labelled], legend: &mut Vec<(String, Style)>) -> Option<Panel> {
    let same = arrivals.windows(2).all(|w| w[0].2 == w[1].2);
    let mut items = Vec::new();
    if same && !arrivals.is_empty() {
        let style = Style::line(INK).width(2);
        legend.push((
            if arrivals.len() > 1 {
                "requests arriving per minute (same for every placement)".into()
            } else {
                "requests arriving per minute".into()
            },
            style,
        ));
        items.push(Item::Series {
            pts: arrivals[0].2.clone(),
            style,
            dodge: 0.0,
        });
    } else {
        for (gi, (label, _, pts)) in arrivals.iter().enumerate() {
            let style = series_style(gi).width(2).spread(12);
            legend.push((format!("{label}: arrivals per minute"), style));
            items.push(Item::Series {
                pts: pts.clone(),
                style,
                dodge: 0.0,
            });
        }
    }
    (!items.is_empty()).then(|| Panel {
        title: "Demand: requests arriving per minute".into(),
        x: AxisSpec::new("time of day (UTC)", Scale::Hours),
        y: AxisSpec::new("arrivals per minute", Scale::Auto).zero(),
        items,
    })
}

/// Busy servers per placement, with the fleet sizes dashed: one rule per
/// size, naming every placement of that size (rules of equal fleets would
/// hide each other and overprint their labels).
fn supply_panel(busy: &[Busy], legend: &mut Vec<(String, Style)>) -> Option<Panel> {
    let mut items = Vec::new();
    let mut fleets: Vec<(f64, Vec<usize>)> = Vec::new();
    for (gi, (label, kind, pts, s)) in busy.iter().enumerate() {
        let style = series_style(gi).width(2).spread(12);
        legend.push((format!("{}: busy servers", with_kind(label, kind)), style));
        items.push(Item::Series {
            pts: pts.clone(),
            style,
            dodge: 0.0,
        });
        if let Some(s) = s {
            match fleets.iter_mut().find(|f| f.0 == *s) {
                Some(f) => f.1.push(gi),
                None => fleets.push((*s, vec![gi])),
            }
        }
    }
    for (s, who) in &fleets {
        let names: Vec<String> = who.iter().map(|&i| busy[i].0.clone()).collect();
        let colour = if who.len() == 1 {
            series_style(who[0]).color
        } else {
            INK
        };
        let rule = Style::line(colour).dashed().width(2);
        items.push(Item::HRule {
            y: *s,
            style: rule,
            text: Some(format!("fleet of {} servers: {}", human(*s), list(&names))),
        });
        legend.push((format!("fleet size: {}", list(&names)), rule));
    }
    (!items.is_empty()).then(|| Panel {
        title: "Supply: servers busy (mean over each minute)".into(),
        x: AxisSpec::new("time of day (UTC)", Scale::Hours),
        y: AxisSpec::new("busy servers", Scale::Linear).zero(),
        items,
    })
}

/// Mean per hour of day (0-23) of (hour, value) points, hours with data.
fn hourly(pts: &[(f64, f64)]) -> Vec<(usize, f64)> {
    let mut sums = [(0.0f64, 0usize); 24];
    for &(h, v) in pts {
        let i = (h.floor() as usize).min(23);
        sums[i].0 += v;
        sums[i].1 += 1;
    }
    sums.iter()
        .enumerate()
        .filter(|(_, s)| s.1 > 0)
        .map(|(i, s)| (i, s.0 / s.1 as f64))
        .collect::<Vec<_>>()
}

/// "over the day" when the measured hours span most of a day.
fn load_period(arrivals: &[Labelled], busy: &[Busy]) -> &'static str {
    let measured: Vec<f64> = arrivals
        .iter()
        .flat_map(|a| a.2.iter().map(|p| p.0))
        .chain(busy.iter().flat_map(|b| b.2.iter().map(|p| p.0)))
        .collect();
    let span = measured.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - measured.iter().copied().fold(f64::INFINITY, f64::min);
    if span >= 20.0 {
        "over the day"
    } else {
        "over the simulated hours"
    }
}

/// How much demand swings between the busiest and quietest hour (the
/// hours named in `sub`), or that it is steady.
fn demand_headline(arrivals: &[Labelled], period: &str, sub: &mut Vec<String>) -> Option<String> {
    let (_, _, pts) = arrivals.first()?;
    let h = hourly(pts);
    let (Some(peak), Some(low)) = (
        h.iter().max_by(|a, b| a.1.total_cmp(&b.1)),
        h.iter().min_by(|a, b| a.1.total_cmp(&b.1)),
    ) else {
        return None;
    };
    if low.1 > 0.0 && peak.1 / low.1 >= 1.2 {
        sub.push(format!(
            "Hourly mean arrivals: peak {}/min at {:02}:00, lowest {}/min at {:02}:00.",
            human(peak.1),
            peak.0,
            human(low.1),
            low.0
        ));
        Some(format!("Demand swings {} {period}", ratio(peak.1 / low.1)))
    } else {
        let mean = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
        Some(format!(
            "Steady demand of ~{} requests/min {period}",
            human(mean)
        ))
    }
}

/// How busy the first placement's fleet runs, hour by hour.
fn supply_headline(busy: &[Busy]) -> Option<String> {
    let Some((label, _, pts, Some(s))) = busy.first() else {
        return None;
    };
    let h = hourly(pts);
    let peak = h.iter().map(|x| x.1).fold(0.0, f64::max);
    let low = h.iter().map(|x| x.1).fold(f64::INFINITY, f64::min);
    Some(format!(
        "{label}'s {} servers run {} % busy by the hour",
        human(*s),
        span_text(&sig(low / s * 100.0, 2), &sig(peak / s * 100.0, 2))
    ))
}
