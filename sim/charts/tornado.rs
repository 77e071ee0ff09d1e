//! The tornado chart (`tornado.png`) of `sharesim uncertainty`: from
//! swings.parquet, one bar per uncertain input, from the answer with the
//! input at its low value to the answer at its high value (the others at
//! their nominal), the input that moves the answer most on top; the
//! nominal answer ruled. Titled with the input ranked first (the `rank`
//! column), never a recomputation.

use super::data::Frame;
use super::figure::{AxisSpec, Figure, Item, Layout, Panel, Scale};
use super::format::{list, sig};
use super::labels::axis_label;
use super::notes::scenario_prefix;
use super::style::{Marker, Style, BLUE_, GREY, SKY, VERMILLION};
use super::Chart;

/// How a figure reads in a title and on the axis.
fn figure_words(figure: &str) -> (&'static str, &'static str) {
    match figure {
        "sharing_factor_tco" => ("TCO sharing factor", "×"),
        "sharing_factor_capex" => ("capex sharing factor", "×"),
        "sharing_factor_memory" => ("memory sharing factor", "×"),
        "sharing_factor_devices" => ("devices sharing factor", "×"),
        "sharing_factor_energy" => ("energy sharing factor", "×"),
        "sharing_factor_carbon" => ("carbon sharing factor", "×"),
        "tco_usd_per_user_year" => ("TCO per user-year (USD)", ""),
        "capex_usd_per_user" => ("capex per user (USD)", ""),
        "servers_per_pool" => ("servers per pool", ""),
        _ => ("answer", ""),
    }
}

fn amount(v: f64, unit: &str) -> String {
    if unit == "×" {
        format!("×{}", sig(v, 3))
    } else {
        sig(v, 3)
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

pub(crate) fn build_tornado(f: &Frame) -> Result<Figure, String> {
    let need = Chart::Tornado.needs();
    if !f.has("swing") || !f.has("tornado") {
        return Err(format!("no swing or tornado column; needs {need}"));
    }
    let on = f.flag("tornado");
    let rank = f.num("rank");
    let mut rows: Vec<usize> = (0..f.rows()).filter(|&r| on[r] == Some(true)).collect();
    if rows.is_empty() {
        return Err(format!(
            "no row is marked for the tornado chart; needs {need}"
        ));
    }
    rows.sort_by(|&a, &b| {
        rank[a]
            .unwrap_or(f64::MAX)
            .total_cmp(&rank[b].unwrap_or(f64::MAX))
    });
    let (lo, hi, nom) = (f.num("at_low"), f.num("at_high"), f.num("at_nominal"));
    let (in_lo, in_hi) = (f.num("input_low"), f.num("input_high"));
    let input_col = f.text("input_column");
    let figure = f.text("figure")[rows[0]].clone().unwrap_or_default();
    let placement = f.text("placement")[rows[0]].clone().unwrap_or_default();
    let (words, unit) = figure_words(&figure);
    let n = rows.len();
    let (mut items, mut ticks, mut open) = (Vec::new(), Vec::new(), Vec::new());
    let bar = Style::line(SKY).width(22);
    let low_mark = Style {
        line: false,
        ..Style::marked(BLUE_, Marker::Circle)
    };
    let high_mark = Style {
        line: false,
        ..Style::marked(VERMILLION, Marker::Square)
    };
    let mut names = Vec::new();
    for (i, &r) in rows.iter().enumerate() {
        let y = (n - i) as f64;
        let label = axis_label(f, input_col[r].as_deref().unwrap_or(""));
        let range = match (in_lo[r], in_hi[r]) {
            (Some(a), Some(b)) => {
                format!("{} {} – {}", label.short, label.amount(a), label.amount(b))
            }
            _ => label.short.clone(),
        };
        names.push((label.short.clone(), range.clone()));
        ticks.push((y, range));
        match (lo[r], hi[r]) {
            (Some(a), Some(b)) => {
                items.push(Item::Series {
                    pts: vec![(a, y), (b, y)],
                    style: bar,
                    dodge: 0.0,
                });
                items.push(Item::Series {
                    pts: vec![(a, y)],
                    style: low_mark,
                    dodge: 0.0,
                });
                items.push(Item::Series {
                    pts: vec![(b, y)],
                    style: high_mark,
                    dodge: 0.0,
                });
            }
            _ => open.push(label.short.clone()),
        }
    }
    let nominal = nom[rows[0]];
    if let Some(x) = nominal {
        items.push(Item::VRule {
            x,
            style: Style::line(GREY).dashed(),
            text: Some(format!("nominal {}", amount(x, unit))),
        });
        // Room above the top bar and below the last (drawn as nothing).
        let blank = Style {
            line: false,
            marker: None,
            ..Style::line(GREY)
        };
        items.push(Item::Series {
            pts: vec![(x, 0.4), (x, n as f64 + 0.6)],
            style: blank,
            dodge: 0.0,
        });
    }
    let top = rows[0];
    let title = match (lo[top], hi[top]) {
        (Some(a), Some(b)) if a != b => format!(
            "{} moves the {words} of {placement} most: {} to {}",
            capitalised(&names[0].0),
            amount(a, unit),
            amount(b, unit)
        ),
        (Some(_), Some(_)) => format!(
            "No input moves the {words} of {placement}: it is {} at every input's low and high value",
            nominal.map_or("the same".into(), |x| amount(x, unit))
        ),
        _ => format!("Every input leaves the {words} of {placement} infeasible at one end of its range"),
    };
    let mut subtitle = vec![format!(
        "{}each input at its low and at its high value, every other input at its nominal value \
         (sized by sharesim size); inputs ranked by how far they move the answer",
        scenario_prefix(f)
    )];
    if !open.is_empty() {
        subtitle.push(format!(
            "Not drawn: {} (the answer is infeasible at one end of the range)",
            list(&open)
        ));
    }
    Ok(Figure {
        title,
        subtitle,
        legend: vec![
            ("answer with the input at its low value".into(), low_mark),
            ("answer with the input at its high value".into(), high_mark),
        ],
        panels: vec![Panel {
            title: format!("{words} of {placement}, one input at a time"),
            x: AxisSpec::new(words, Scale::Auto),
            y: AxisSpec {
                ticks: Some(ticks),
                ..AxisSpec::new("uncertain input and its range", Scale::Linear)
            },
            items,
        }],
        layout: Layout::Cols,
    })
}
