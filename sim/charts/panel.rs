//! Drawing one [`Panel`]: its axes built from the values it plots, the
//! plotters chart with mesh, tick labels and axis descriptions, and each
//! [`Item`] (series with markers, error bars, horizontal and vertical
//! rules with their labels, notes) in plot coordinates.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::figure::{Item, Panel};
use super::paint::{err, marker_at, shape, text_width, Area};
use super::style::{font, Dash, Marker, Style, INK};

type Plot<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<Ticked, Ticked>>;

/// A linear coordinate (in plot units: log10 of the value on log axes) with
/// the tick positions chosen by [`Axis::build`].
struct Ticked {
    lo: f64,
    hi: f64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        if self.hi == self.lo {
            return (limit.0 + limit.1) / 2;
        }
        let share = (v - self.lo) / (self.hi - self.lo);
        limit.0 + (share * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Values that set a panel's axis ranges: x, y (error-bar ends only when
/// positive, so that a bar reaching below zero neither forces a linear axis
/// nor stretches one below zero).
fn collect_values(items: &[Item]) -> (Vec<f64>, Vec<f64>) {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for item in items {
        match item {
            Item::Series { pts, .. } => {
                for &(x, y) in pts {
                    xs.push(x);
                    ys.push(y);
                }
            }
            Item::Bars { bars, .. } => {
                for &(x, lo, hi) in bars {
                    xs.push(x);
                    ys.extend([lo, hi].into_iter().filter(|v| *v > 0.0));
                }
            }
            Item::Blocks { blocks, .. } => {
                for &(x0, x1, y0, y1) in blocks {
                    xs.extend([x0, x1]);
                    ys.extend([y0, y1]);
                }
            }
            Item::HRule { y, .. } => ys.push(*y),
            Item::VRule { x, .. } => xs.push(*x),
            Item::Note { at, .. } => {
                xs.push(at.0);
                ys.push(at.1);
            }
        }
    }
    (xs, ys)
}

/// The x and y axes of a panel, from what it plots.
pub(crate) fn panel_axes(panel: &Panel) -> (Axis, Axis) {
    let (xs, ys) = collect_values(&panel.items);
    (Axis::build(&panel.x, &xs), Axis::build(&panel.y, &ys))
}

/// The width of the widest y tick label.
pub(crate) fn y_label_width(area: &Area, ay: &Axis) -> i32 {
    ay.ticks
        .iter()
        .map(|t| text_width(area, &t.1, 18))
        .max()
        .unwrap_or(40)
}

pub(crate) fn paint_panel(
    panel: &Panel,
    area: &Area,
    ax: Axis,
    ay: Axis,
    y_label_w: i32,
) -> Result<(), String> {
    let ticked = |a: &Axis| Ticked {
        lo: a.lo,
        hi: a.hi,
        bold: a.ticks.iter().map(|t| t.0).collect(),
        light: a.light.clone(),
    };
    let (x_spec, y_spec) = (ticked(&ax), ticked(&ay));
    let mut chart = ChartBuilder::on(area)
        .margin_left(16)
        .margin_right(40)
        .margin_top(8)
        .margin_bottom(10)
        .caption(&panel.title, font(24).color(&INK))
        .x_label_area_size(64)
        .y_label_area_size((y_label_w + 50).max(80) as u32)
        .build_cartesian_2d(x_spec, y_spec)
        .map_err(err)?;
    let xfmt = |v: &f64| ax.label(*v);
    let yfmt = |v: &f64| ay.label(*v);
    chart
        .configure_mesh()
        .x_desc(log_note(&ax, &panel.x.desc))
        .y_desc(log_note(&ay, &panel.y.desc))
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .label_style(font(18).color(&INK))
        .axis_desc_style(font(20).color(&INK))
        .bold_line_style(INK.mix(0.16))
        .light_line_style(INK.mix(0.06))
        .axis_style(INK.mix(0.7))
        .draw()
        .map_err(err)?;
    let mut labels = Vec::new();
    for item in &panel.items {
        labels.extend(draw_item(&mut chart, item, &ax, &ay)?);
    }
    place_labels(&chart, &labels)
}

/// A text to draw beside a rule or note once every line is drawn, at a
/// pixel anchor (backend coordinates) plus an offset.
struct Label {
    text: String,
    color: RGBColor,
    size: u32,
    anchor: (i32, i32),
    offset: (i32, i32),
    h: HPos,
    v: VPos,
}

/// Draw the labels, each moved (up or down in steps of its height) off the
/// labels already placed so that no text overprints another; a label that
/// cannot be moved clear within the plot keeps its first place.
fn place_labels(chart: &Plot<'_, '_>, labels: &[Label]) -> Result<(), String> {
    let plot = chart.plotting_area().strip_coord_spec();
    let (x0, y0) = plot.get_base_pixel();
    let (w_plot, h_plot) = plot.dim_in_pixel();
    let mut placed: Vec<[i32; 4]> = Vec::new();
    for l in labels {
        let style = font(l.size).color(&l.color).pos(Pos::new(l.h, l.v));
        let (w, h) = plot
            .estimate_text_size(&l.text, &style)
            .map(|(w, h)| (w as i32, h as i32))
            .unwrap_or((l.text.len() as i32 * l.size as i32 / 2, l.size as i32));
        let rect = |dy: i32| {
            let x = l.anchor.0 - x0 + l.offset.0;
            let y = l.anchor.1 - y0 + l.offset.1 + dy;
            let left = match l.h {
                HPos::Left => x,
                HPos::Center => x - w / 2,
                HPos::Right => x - w,
            };
            let top = match l.v {
                VPos::Top => y,
                VPos::Center => y - h / 2,
                VPos::Bottom => y - h,
            };
            [left, top, left + w, top + h]
        };
        let inside =
            |r: &[i32; 4]| r[1] >= 0 && r[3] <= h_plot as i32 && r[0] >= 0 && r[2] <= w_plot as i32;
        let clear = |r: &[i32; 4]| {
            placed.iter().all(|p| {
                r[2] + 4 <= p[0] || p[2] + 4 <= r[0] || r[3] + 2 <= p[1] || p[3] + 2 <= r[1]
            })
        };
        let step = h + 4;
        let mut dy = 0;
        for k in 0..16 {
            // 0, below, above, further below, further above, ...
            let cand = if k % 2 == 1 {
                (k / 2 + 1) * step
            } else {
                -(k / 2) * step
            };
            let r = rect(cand);
            if clear(&r) && (inside(&r) || k == 0) {
                dy = cand;
                break;
            }
        }
        let r = rect(dy);
        placed.push(r);
        let at = (
            l.anchor.0 - x0 + l.offset.0,
            l.anchor.1 - y0 + l.offset.1 + dy,
        );
        plot.draw(&Text::new(l.text.clone(), at, style))
            .map_err(err)?;
    }
    Ok(())
}

/// An axis description, with "log scale" added when the axis is log.
fn log_note(a: &Axis, desc: &str) -> String {
    if !a.log || desc.contains("log scale") {
        desc.to_string()
    } else if let Some(open) = desc.strip_suffix(')') {
        format!("{open}, log scale)")
    } else {
        format!("{desc} (log scale)")
    }
}

fn draw_item(
    chart: &mut Plot<'_, '_>,
    item: &Item,
    ax: &Axis,
    ay: &Axis,
) -> Result<Option<Label>, String> {
    match item {
        Item::Series { pts, style, dodge } => {
            draw_series(chart, pts, style, *dodge, ax, ay).map(|_| None)
        }
        Item::Bars { bars, color, dodge } => {
            draw_bars(chart, bars, *color, *dodge, ax, ay).map(|_| None)
        }
        Item::Blocks { blocks, color } => draw_blocks(chart, blocks, *color, ax, ay).map(|_| None),
        Item::HRule { y, style, text } => draw_hrule(chart, *y, style, text.as_deref(), ax, ay),
        Item::VRule { x, style, text } => draw_vrule(chart, *x, style, text.as_deref(), ax, ay),
        Item::Note { at, text, color } => draw_note(chart, *at, text, *color, ax, ay),
    }
}

/// A line through plot coordinates `pts`, solid, dashed or dotted.
fn draw_line(chart: &mut Plot<'_, '_>, pts: Vec<(f64, f64)>, style: &Style) -> Result<(), String> {
    let s = shape(style);
    match style.dash {
        Dash::Solid => chart.draw_series(LineSeries::new(pts, s)).map(|_| ()),
        Dash::Dashed => chart
            .draw_series(DashedLineSeries::new(pts, 14, 8, s))
            .map(|_| ()),
        Dash::Dotted => chart
            .draw_series(DashedLineSeries::new(pts, 3, 6, s))
            .map(|_| ()),
    }
    .map_err(err)
}

/// A marker of `size` at plot coordinates `(x, y)`.
fn draw_marker(
    chart: &Plot<'_, '_>,
    (x, y): (f64, f64),
    marker: Marker,
    color: RGBColor,
    size: i32,
) -> Result<(), String> {
    let plot = chart.plotting_area().strip_coord_spec();
    let (x0, y0) = plot.get_base_pixel();
    let p = chart.backend_coord(&(x, y));
    marker_at(&plot, (p.0 - x0, p.1 - y0), marker, color, size)
}

fn draw_series(
    chart: &mut Plot<'_, '_>,
    pts: &[(f64, f64)],
    style: &Style,
    dodge: f64,
    ax: &Axis,
    ay: &Axis,
) -> Result<(), String> {
    let shift = dodge * (ax.hi - ax.lo);
    let tp: Vec<(f64, f64)> = pts
        .iter()
        .filter_map(|&(x, y)| Some((ax.t(x)? + shift, ay.t(y)?)))
        .collect();
    if style.line && tp.len() > 1 {
        draw_line(chart, tp.clone(), style)?;
    }
    if let Some(m) = style.marker {
        let n = tp.len();
        let every = if style.spread > 1 && n > style.spread {
            n.div_ceil(style.spread)
        } else {
            1
        };
        for (i, &p) in tp.iter().enumerate() {
            if i % every == 0 || (every > 1 && i == n - 1) {
                draw_marker(chart, p, m, style.color, 7)?;
            }
        }
    }
    Ok(())
}

fn draw_bars(
    chart: &mut Plot<'_, '_>,
    bars: &[(f64, f64, f64)],
    color: RGBColor,
    dodge: f64,
    ax: &Axis,
    ay: &Axis,
) -> Result<(), String> {
    let s = color.stroke_width(2);
    for &(x, lo, hi) in bars {
        let (Some(tx), Some(tlo), Some(thi)) = (ax.t(x), ay.t_clamped(lo), ay.t_clamped(hi)) else {
            continue;
        };
        let tx = tx + dodge * (ax.hi - ax.lo);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(tx, tlo), (tx, thi)],
                s,
            )))
            .map_err(err)?;
        for ty in [tlo, thi] {
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((tx, ty)) + PathElement::new(vec![(-8, 0), (8, 0)], s),
                ))
                .map_err(err)?;
        }
    }
    Ok(())
}

/// Filled rectangles between data coordinates, outlined in ink.
fn draw_blocks(
    chart: &mut Plot<'_, '_>,
    blocks: &[(f64, f64, f64, f64)],
    color: RGBColor,
    ax: &Axis,
    ay: &Axis,
) -> Result<(), String> {
    for &(x0, x1, y0, y1) in blocks {
        let (Some(a), Some(b), Some(c), Some(d)) =
            (ax.t(x0), ax.t(x1), ay.t_clamped(y0), ay.t_clamped(y1))
        else {
            continue;
        };
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a, c), (b, d)],
                color.filled(),
            )))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a, c), (b, d)],
                INK.stroke_width(1),
            )))
            .map_err(err)?;
    }
    Ok(())
}

/// A horizontal rule across the panel; its label goes above its right end.
fn draw_hrule(
    chart: &mut Plot<'_, '_>,
    y: f64,
    style: &Style,
    text: Option<&str>,
    ax: &Axis,
    ay: &Axis,
) -> Result<Option<Label>, String> {
    let Some(ty) = ay.t(y) else { return Ok(None) };
    draw_line(chart, vec![(ax.lo, ty), (ax.hi, ty)], style)?;
    Ok(text.map(|text| Label {
        text: text.to_string(),
        color: style.color,
        size: 19,
        anchor: chart.backend_coord(&(ax.hi, ty)),
        offset: (-10, -6),
        h: HPos::Right,
        v: VPos::Bottom,
    }))
}

/// A vertical rule up the panel; its label goes at the top on the side
/// with more room.
fn draw_vrule(
    chart: &mut Plot<'_, '_>,
    x: f64,
    style: &Style,
    text: Option<&str>,
    ax: &Axis,
    ay: &Axis,
) -> Result<Option<Label>, String> {
    let Some(tx) = ax.t(x) else { return Ok(None) };
    draw_line(chart, vec![(tx, ay.lo), (tx, ay.hi)], style)?;
    let right = (tx - ax.lo) < (ax.hi - ax.lo) * 0.6;
    let (h, dx) = if right {
        (HPos::Left, 10)
    } else {
        (HPos::Right, -10)
    };
    Ok(text.map(|text| Label {
        text: text.to_string(),
        color: style.color,
        size: 19,
        anchor: chart.backend_coord(&(tx, ay.hi)),
        offset: (dx, 10),
        h,
        v: VPos::Top,
    }))
}

/// A diamond at a point; its text goes beside it, on the side with more
/// room.
fn draw_note(
    chart: &mut Plot<'_, '_>,
    at: (f64, f64),
    text: &str,
    color: RGBColor,
    ax: &Axis,
    ay: &Axis,
) -> Result<Option<Label>, String> {
    let (Some(tx), Some(ty)) = (ax.t(at.0), ay.t(at.1)) else {
        return Ok(None);
    };
    draw_marker(chart, (tx, ty), Marker::Diamond, color, 9)?;
    let right = (tx - ax.lo) < (ax.hi - ax.lo) * 0.6;
    let (h, dx) = if right {
        (HPos::Left, 16)
    } else {
        (HPos::Right, -16)
    };
    Ok(Some(Label {
        text: text.to_string(),
        color,
        size: 20,
        anchor: chart.backend_coord(&(tx, ty)),
        offset: (dx, -10),
        h,
        v: VPos::Bottom,
    }))
}
