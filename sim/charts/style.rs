//! How series look: the palette (Okabe-Ito, extended with Paul Tol's
//! muted colours), markers, line dashes, the [`Style`] of a series or rule,
//! and the embedded font every chart uses. Series take a colour and a
//! marker each in turn ([`series_style`]): ten colours and seven markers,
//! so no two of the first ten series share a colour and no two of the
//! first seventy share both. Vermillion is kept for service-level rules.

use std::sync::OnceLock;

use plotters::prelude::*;

/// Okabe-Ito palette.
pub(crate) const BLUE_: RGBColor = RGBColor(0x00, 0x72, 0xB2);
pub(crate) const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
pub(crate) const GREEN_: RGBColor = RGBColor(0x00, 0x9E, 0x73);
pub(crate) const PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
pub(crate) const SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
pub(crate) const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
pub(crate) const INK: RGBColor = RGBColor(0x00, 0x00, 0x00);
/// Paul Tol's muted scheme, after the Okabe-Ito colours run out.
const INDIGO: RGBColor = RGBColor(0x33, 0x22, 0x88);
const WINE: RGBColor = RGBColor(0x88, 0x22, 0x55);
const OLIVE: RGBColor = RGBColor(0x99, 0x99, 0x33);
const TEAL: RGBColor = RGBColor(0x44, 0xAA, 0x99);
const BROWN: RGBColor = RGBColor(0x8C, 0x51, 0x0A);
/// Series colours, in the order series take them (no vermillion: the
/// service-level rules are vermillion).
pub(crate) const PALETTE: [RGBColor; 10] = [
    BLUE_, ORANGE, GREEN_, PURPLE, SKY, INDIGO, WINE, OLIVE, TEAL, BROWN,
];
pub(crate) const GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
    Cross,
    TriangleDown,
    Plus,
}
const MARKERS: [Marker; 7] = [
    Marker::Circle,
    Marker::Triangle,
    Marker::Square,
    Marker::Diamond,
    Marker::Cross,
    Marker::TriangleDown,
    Marker::Plus,
];

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Dash {
    Solid,
    Dashed,
    Dotted,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) struct Style {
    pub(crate) color: RGBColor,
    pub(crate) width: u32,
    pub(crate) dash: Dash,
    pub(crate) marker: Option<Marker>,
    /// Draw the line (false: markers only).
    pub(crate) line: bool,
    /// Legend shows an error bar.
    pub(crate) bar: bool,
    /// Markers on a long line: at most this many, spread along it (0: a
    /// marker on every point).
    pub(crate) spread: usize,
}

impl Style {
    pub(crate) fn line(color: RGBColor) -> Style {
        Style {
            color,
            width: 3,
            dash: Dash::Solid,
            marker: None,
            line: true,
            bar: false,
            spread: 0,
        }
    }
    pub(crate) fn marked(color: RGBColor, marker: Marker) -> Style {
        Style {
            marker: Some(marker),
            ..Style::line(color)
        }
    }
    pub(crate) fn dashed(self) -> Style {
        Style {
            dash: Dash::Dashed,
            ..self
        }
    }
    pub(crate) fn dotted(self) -> Style {
        Style {
            dash: Dash::Dotted,
            ..self
        }
    }
    pub(crate) fn width(self, width: u32) -> Style {
        Style { width, ..self }
    }
    /// At most `n` markers, spread along the line.
    pub(crate) fn spread(self, n: usize) -> Style {
        Style { spread: n, ..self }
    }
}

/// The style of the `i`-th series: palette colour and marker in turn.
pub(crate) fn series_style(i: usize) -> Style {
    Style::marked(PALETTE[i % PALETTE.len()], MARKERS[i % MARKERS.len()])
}

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Register the embedded font with plotters (once per process).
pub(crate) fn register_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES)
            .map_err(|_| "the embedded font assets/DejaVuSans.ttf is not a valid font".to_string())
    })
    .clone()
}

/// The embedded font at `size` pixels.
pub(crate) fn font(size: u32) -> FontDesc<'static> {
    (FONT, size).into_font()
}
