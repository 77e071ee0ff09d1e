//! Drawing a [`Figure`] into pixels: the RGB buffer ([`render`]), the page
//! layout (title, subtitle, legend, then the panels side by side or
//! stacked), text measuring and wrapping, markers, and encoding and writing
//! the PNG atomically ([`write_figure`]).

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::axis::Axis;
use super::figure::{Figure, Layout};
use super::panel::{paint_panel, panel_axes, y_label_width};
use super::style::{font, register_font, Dash, Marker, Style, GREY, INK};
use super::{ChartError, HEIGHT, WIDTH};

pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Left and right page margin, pixels.
const MARGIN: i32 = 40;

pub(crate) fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// The figure as [`WIDTH`] x [`HEIGHT`] RGB pixels.
pub(crate) fn render(fig: &Figure) -> Result<Vec<u8>, String> {
    register_font()?;
    let mut buf = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        paint(fig, &root)?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

/// Render the figure, encode it as a PNG in memory (the encoding plotters'
/// bitmap backend used: fast compression, adaptive filters) and write it
/// to `out` atomically (a temporary sibling renamed into place), so that
/// an I/O failure is the OS error it is ([`ChartError::Write`]).
pub(crate) fn write_figure(fig: &Figure, out: &Path) -> Result<PathBuf, ChartError> {
    let draw_err = |message: String| ChartError::Draw {
        file: out.to_path_buf(),
        message,
    };
    let buf = render(fig).map_err(draw_err)?;
    let png = encode_png(&buf).map_err(draw_err)?;
    crate::output::write_bytes_atomically(out, &png).map_err(ChartError::Write)?;
    Ok(out.to_path_buf())
}

/// RGB pixels of [`WIDTH`] x [`HEIGHT`] as PNG bytes.
fn encode_png(rgb: &[u8]) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        encoder.set_filter(png::FilterType::Sub);
        encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut writer = encoder.write_header().map_err(err)?;
        writer.write_image_data(rgb).map_err(err)?;
    }
    Ok(bytes)
}

pub(crate) fn text_width(area: &Area, text: &str, size: u32) -> i32 {
    area.estimate_text_size(text, &TextStyle::from(font(size)))
        .map(|(w, _)| w as i32)
        .unwrap_or(text.len() as i32 * size as i32 / 2)
}

/// Split `text` into lines no wider than `width` at `size`.
fn wrap(area: &Area, text: &str, size: u32, width: i32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if text_width(area, &candidate, size) > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            line = word.to_string();
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

pub(crate) fn shape(style: &Style) -> ShapeStyle {
    ShapeStyle {
        color: style.color.to_rgba(),
        filled: false,
        stroke_width: style.width,
    }
}

fn draw_text(
    area: &Area,
    text: &str,
    at: (i32, i32),
    size: u32,
    color: &RGBColor,
) -> Result<(), String> {
    area.draw(&Text::new(text.to_string(), at, font(size).color(color)))
        .map_err(err)
}

/// A marker centred on a pixel.
pub(crate) fn marker_at<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    marker: Marker,
    color: RGBColor,
    size: i32,
) -> Result<(), String> {
    let fill = color.filled();
    let (x, y) = at;
    let r = match marker {
        Marker::Circle => area.draw(&Circle::new(at, size, fill)),
        Marker::Triangle => area.draw(&Polygon::new(
            vec![
                (x, y - size - 1),
                (x + size + 1, y + size - 1),
                (x - size - 1, y + size - 1),
            ],
            fill,
        )),
        Marker::Square => area.draw(&Rectangle::new(
            [(x - size + 1, y - size + 1), (x + size - 1, y + size - 1)],
            fill,
        )),
        Marker::Diamond => area.draw(&Polygon::new(
            vec![
                (x, y - size - 2),
                (x + size + 1, y),
                (x, y + size + 2),
                (x - size - 1, y),
            ],
            fill,
        )),
        Marker::Cross => area.draw(&Cross::new(at, size, color.stroke_width(3))),
        Marker::TriangleDown => area.draw(&Polygon::new(
            vec![
                (x, y + size + 1),
                (x + size + 1, y - size + 1),
                (x - size - 1, y - size + 1),
            ],
            fill,
        )),
        Marker::Plus => area
            .draw(&Rectangle::new(
                [(x - size, y - 1), (x + size, y + 2)],
                fill,
            ))
            .and_then(|_| {
                area.draw(&Rectangle::new(
                    [(x - 1, y - size), (x + 2, y + size)],
                    fill,
                ))
            }),
    };
    r.map_err(err)
}

/// The whole page: title and subtitle, legend, then the panels below.
fn paint(fig: &Figure, root: &Area) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let y = paint_titles(fig, root)?;
    let y = paint_legend(&fig.legend, root, y)?;
    paint_panels(fig, root, y)
}

/// Title (shrunk to fit, then wrapped) and subtitle paragraphs; returns
/// the y below them.
fn paint_titles(fig: &Figure, root: &Area) -> Result<i32, String> {
    let width = WIDTH as i32 - 2 * MARGIN;
    let mut y = 16;
    let mut size = 36;
    while size > 26 && text_width(root, &fig.title, size) > width {
        size -= 2;
    }
    for line in wrap(root, &fig.title, size, width) {
        draw_text(root, &line, (MARGIN, y), size, &INK)?;
        y += size as i32 + 8;
    }
    y += 2;
    for para in &fig.subtitle {
        for line in wrap(root, para, 21, width) {
            draw_text(root, &line, (MARGIN, y), 21, &GREY)?;
            y += 27;
        }
    }
    y += 6;
    Ok(y)
}

/// The legend from `y` down, wrapped into rows; returns the y below it.
fn paint_legend(legend: &[(String, Style)], root: &Area, mut y: i32) -> Result<i32, String> {
    let mut x = MARGIN;
    let row_h = 30;
    let mut legend_rows = 0;
    if !legend.is_empty() {
        legend_rows = 1;
    }
    let right = WIDTH as i32 - MARGIN;
    for (label, style) in legend {
        let w = 56 + text_width(root, label, 20) + 30;
        if x + w > right && x > MARGIN {
            x = MARGIN;
            y += row_h;
            legend_rows += 1;
        }
        legend_key(root, (x, y + 11), style)?;
        if x + w > right {
            // Wider than the page: wrapped onto rows of its own.
            let lines = wrap(root, label, 20, right - x - 56);
            for (k, line) in lines.iter().enumerate() {
                if k > 0 {
                    y += row_h;
                    legend_rows += 1;
                }
                draw_text(root, line, (x + 56, y), 20, &INK)?;
            }
            x = right;
            continue;
        }
        draw_text(root, label, (x + 56, y), 20, &INK)?;
        x += w;
    }
    if legend_rows > 0 {
        y += row_h;
    }
    y += 4;
    Ok(y)
}

/// A legend entry's sample (error bar, line, marker), 48 pixels wide from
/// `x`, centred on `cy`.
fn legend_key(root: &Area, (x, cy): (i32, i32), style: &Style) -> Result<(), String> {
    if style.bar {
        root.draw(&PathElement::new(
            vec![(x + 24, cy - 10), (x + 24, cy + 10)],
            shape(style).stroke_width(2),
        ))
        .map_err(err)?;
        for yy in [cy - 10, cy + 10] {
            root.draw(&PathElement::new(
                vec![(x + 18, yy), (x + 30, yy)],
                shape(style).stroke_width(2),
            ))
            .map_err(err)?;
        }
    }
    if style.line {
        let pts = vec![(x, cy), (x + 48, cy)];
        match style.dash {
            Dash::Solid => root.draw(&PathElement::new(pts, shape(style))),
            Dash::Dashed => root.draw(&DashedPathElement::new(pts, 12, 6, shape(style))),
            Dash::Dotted => root.draw(&DashedPathElement::new(pts, 3, 5, shape(style))),
        }
        .map_err(err)?;
    }
    if let Some(m) = style.marker {
        marker_at(root, (x + 24, cy), m, style.color, 6)?;
    }
    Ok(())
}

/// The panels in the page below `y`, side by side or stacked.
fn paint_panels(fig: &Figure, root: &Area, y: i32) -> Result<(), String> {
    let (_, body) = root.split_vertically(y);
    let n = fig.panels.len().max(1);
    let areas = match fig.layout {
        Layout::Cols => body.split_evenly((1, n)),
        Layout::Rows => body.split_evenly((n, 1)),
    };
    // One width for every panel's tick labels, so stacked panels align.
    let axes: Vec<(Axis, Axis)> = fig.panels.iter().map(panel_axes).collect();
    let y_label_w = axes
        .iter()
        .map(|(_, ay)| y_label_width(root, ay))
        .max()
        .unwrap_or(40);
    for ((panel, area), (ax, ay)) in fig.panels.iter().zip(areas.iter()).zip(axes) {
        paint_panel(panel, area, ax, ay, y_label_w)?;
    }
    Ok(())
}
