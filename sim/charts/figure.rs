//! What a chart shows, before any pixel is drawn: a [`Figure`] of titles,
//! legend and [`Panel`]s, each panel a pair of [`AxisSpec`]s and the
//! [`Item`]s (series, error bars, blocks, rules, notes) plotted on them. The chart
//! builders produce these; `paint` draws them.

use plotters::style::RGBColor;

use super::data::Frame;
use super::format::list;
use super::style::{Style, GREY};

pub(crate) enum Item {
    Series {
        pts: Vec<(f64, f64)>,
        style: Style,
        /// Horizontal shift, as a share of the x axis, so that series with
        /// error bars at the same x do not hide each other.
        dodge: f64,
    },
    /// Vertical error bars: (x, low, high).
    Bars {
        bars: Vec<(f64, f64, f64)>,
        color: RGBColor,
        dodge: f64,
    },
    /// Filled rectangles (x0, x1, y0, y1), as waterfall steps.
    Blocks {
        blocks: Vec<(f64, f64, f64, f64)>,
        color: RGBColor,
    },
    HRule {
        y: f64,
        style: Style,
        text: Option<String>,
    },
    VRule {
        x: f64,
        style: Style,
        text: Option<String>,
    },
    Note {
        at: (f64, f64),
        text: String,
        color: RGBColor,
    },
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Scale {
    /// Log when positive data spans more than ~1.5 decades.
    Auto,
    Log,
    Linear,
    /// Cumulative share on a tail-stretched axis: -log10(1 - q).
    Nines,
    /// Hours of the day, linear, ticks as HH:00.
    Hours,
}

#[derive(Clone)]
pub(crate) struct AxisSpec {
    pub(crate) desc: String,
    pub(crate) scale: Scale,
    /// Linear axes of non-negative data start at 0.
    pub(crate) zero: bool,
    pub(crate) suffix: &'static str,
    /// Custom ticks (value, label) in data units.
    pub(crate) ticks: Option<Vec<(f64, String)>>,
    /// Values a log axis cannot show (<= 0) are drawn on its lower edge.
    pub(crate) clamp: bool,
}

impl AxisSpec {
    pub(crate) fn new(desc: impl Into<String>, scale: Scale) -> AxisSpec {
        AxisSpec {
            desc: desc.into(),
            scale,
            zero: false,
            suffix: "",
            ticks: None,
            clamp: false,
        }
    }
    pub(crate) fn suffix(self, suffix: &'static str) -> AxisSpec {
        AxisSpec { suffix, ..self }
    }
    /// A linear axis of non-negative data starts at 0.
    pub(crate) fn zero(self) -> AxisSpec {
        AxisSpec { zero: true, ..self }
    }
}

pub(crate) struct Panel {
    pub(crate) title: String,
    pub(crate) x: AxisSpec,
    pub(crate) y: AxisSpec,
    pub(crate) items: Vec<Item>,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Layout {
    /// Panels side by side.
    Cols,
    /// Panels stacked.
    Rows,
}

pub(crate) struct Figure {
    pub(crate) title: String,
    pub(crate) subtitle: Vec<String>,
    pub(crate) legend: Vec<(String, Style)>,
    pub(crate) panels: Vec<Panel>,
    pub(crate) layout: Layout,
}

/// The legend entry of error bars.
pub(crate) fn ci_legend() -> (String, Style) {
    (
        "95 % confidence interval (replications)".into(),
        Style {
            line: false,
            bar: true,
            ..Style::line(GREY)
        },
    )
}

/// Error bars from `<col>_ci95` (95 % half-widths) for `rows`, when the
/// column exists and holds a positive value.
pub(crate) fn ci_bars(
    f: &Frame,
    x: &[Option<f64>],
    col: &str,
    rows: &[usize],
    mul: f64,
    color: RGBColor,
) -> Option<Item> {
    let y = f.num(col);
    let ci = f.num(&format!("{col}_ci95"));
    let bars: Vec<(f64, f64, f64)> = rows
        .iter()
        .filter_map(|&r| {
            let (xv, yv, c) = (x[r]?, y[r]?, ci[r]?);
            (c > 0.0).then_some((xv * mul, yv - c, yv + c))
        })
        .collect();
    (!bars.is_empty()).then_some(Item::Bars {
        bars,
        color,
        dodge: 0.0,
    })
}

/// Series that coincide (every point of one is a point of the other, in
/// every panel) are drawn once, the legend naming both: "a and b (the same
/// values)". Without this the later series hides the earlier one and the
/// legend lists a line that cannot be seen. Series are told apart by their
/// style (each has its own); the longer series is kept.
pub(crate) fn merge_coinciding(fig: &mut Figure) {
    let mut names: Vec<Vec<String>> = fig.legend.iter().map(|l| vec![l.0.clone()]).collect();
    let mut i = 0;
    while i < fig.legend.len() {
        let mut j = i + 1;
        while j < fig.legend.len() {
            let (a, b) = (fig.legend[i].1, fig.legend[j].1);
            let (pa, pb) = (points_of(fig, &a), points_of(fig, &b));
            let drawn = pa.iter().any(|p| !p.is_empty()) && pb.iter().any(|p| !p.is_empty());
            let a_in_b = pa.iter().zip(&pb).all(|(x, y)| subset(x, y));
            let b_in_a = pa.iter().zip(&pb).all(|(x, y)| subset(y, x));
            if a.bar || b.bar || !drawn || !(a_in_b || b_in_a) {
                j += 1;
                continue;
            }
            // Drop the shorter series (b unless a lies within b).
            let (keep, drop) = if b_in_a { (a, b) } else { (b, a) };
            let shared_colour = fig
                .legend
                .iter()
                .any(|l| l.1 != drop && l.1.color == drop.color);
            for p in &mut fig.panels {
                p.items.retain(|it| match it {
                    Item::Series { style, .. } => *style != drop,
                    Item::Bars { color, .. } => shared_colour || *color != drop.color,
                    _ => true,
                });
            }
            fig.legend.remove(j);
            let name_b = names.remove(j);
            names[i].extend(name_b);
            fig.legend[i] = (merged_name(&names[i]), keep);
        }
        i += 1;
    }
}

/// The legend entry of series drawn as one: names that differ in one
/// ", "-separated part share the rest ("h100-pool (pooled), desktop price
/// $1,999, $2,459 and $6,500 (the same values)"), else all names listed.
fn merged_name(names: &[String]) -> String {
    let parts: Vec<Vec<&str>> = names.iter().map(|n| n.split(", ").collect()).collect();
    let n = parts[0].len();
    let same_len = parts.iter().all(|p| p.len() == n);
    let differing: Vec<usize> = (0..n)
        .filter(|&k| same_len && parts.iter().any(|p| p[k] != parts[0][k]))
        .collect();
    if !same_len || differing.len() != 1 {
        return format!("{}{SAME}", list(names));
    }
    let k = differing[0];
    // Words the differing parts share in front ("desktop price").
    let words: Vec<Vec<&str>> = parts.iter().map(|p| p[k].split(' ').collect()).collect();
    let mut common = 0;
    while words
        .iter()
        .all(|w| w.len() > common + 1 && w[common] == words[0][common])
    {
        common += 1;
    }
    let rest: Vec<String> = words.iter().map(|w| w[common..].join(" ")).collect();
    let head = words[0][..common].join(" ");
    let mut out: Vec<String> = parts[0].iter().map(|s| s.to_string()).collect();
    out[k] = if head.is_empty() {
        list(&rest)
    } else {
        format!("{head} {}", list(&rest))
    };
    format!("{}{SAME}", out.join(", "))
}

/// What a merged legend entry ends with.
const SAME: &str = " (the same values)";

/// The points of the series drawn in `style`, per panel.
fn points_of(fig: &Figure, style: &Style) -> Vec<Vec<(f64, f64)>> {
    fig.panels
        .iter()
        .map(|p| {
            p.items
                .iter()
                .filter_map(|i| match i {
                    Item::Series { pts, style: s, .. } if s == style => Some(pts.clone()),
                    _ => None,
                })
                .flatten()
                .collect()
        })
        .collect()
}

/// Every point of `a` is (within rounding) a point of `b`.
fn subset(a: &[(f64, f64)], b: &[(f64, f64)]) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-12);
    a.iter()
        .all(|p| b.iter().any(|q| close(p.0, q.0) && close(p.1, q.1)))
}
