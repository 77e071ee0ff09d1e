//! The decomposition waterfall (`decomposition-waterfall.png`, from
//! waterfall.parquet of `sharesim waterfall`): per dedicated/pooled pair,
//! the devices factor built up step by step on a log axis, each step a
//! block from the factor before it to the factor after it (up: fewer
//! devices, down: more), the total last, each labelled with its factor.
//! The headline states the total and the largest step, or the fleet that
//! misses the service level when there is no total.

use super::data::Frame;
use super::figure::{AxisSpec, Figure, Item, Layout, Panel, Scale};
use super::format::{list, ratio};
use super::notes::scenario_prefix;
use super::style::{BLUE_, GREY, INK, ORANGE};
use super::Chart;

/// A step's name in words.
fn words(step: &str) -> String {
    match step {
        "idle_time" => "idle time".into(),
        "pool_size" => "pool size".into(),
        "diurnal_profile" => "daily profile".into(),
        "time_zones" => "time zones".into(),
        "batching" => "batching".into(),
        "hardware" => "hardware class".into(),
        other => other.replace('_', " "),
    }
}

/// The half-width of a block, in x units (steps sit at 0, 1, 2, ...).
const HALF: f64 = 0.35;

/// The columns a waterfall panel reads.
struct Cols {
    pooled: Vec<Option<String>>,
    dedicated: Vec<Option<String>>,
    step: Vec<Option<String>>,
    factor: Vec<Option<f64>>,
    total: Vec<Option<f64>>,
    index: Vec<Option<f64>>,
    feasible: [Vec<Option<bool>>; 2],
    fleets: [Vec<Option<String>>; 2],
}

pub(crate) fn build_waterfall(f: &Frame) -> Result<Figure, String> {
    let need = Chart::Waterfall.needs();
    let c = Cols {
        pooled: f.text("pooled_placement"),
        dedicated: f.text("dedicated_placement"),
        step: f.text("step"),
        factor: f.num("factor"),
        total: f.num("total_factor"),
        index: f.num("step_index"),
        feasible: [f.flag("from_feasible"), f.flag("to_feasible")],
        fleets: [f.text("from_fleet"), f.text("to_fleet")],
    };
    let mut pairs: Vec<String> = Vec::new();
    for p in c.pooled.iter().flatten() {
        if !pairs.contains(p) {
            pairs.push(p.clone());
        }
    }
    if pairs.is_empty() {
        return Err(format!("no rows name a pooled_placement; needs {need}"));
    }
    let (panels, headline): (Vec<Panel>, Vec<String>) =
        pairs.iter().map(|name| pair_panel(f, &c, name)).unzip();
    let legend = vec![
        (
            "step that cuts devices (factor above 1)".to_string(),
            block_style(BLUE_),
        ),
        (
            "step that adds devices (factor below 1)".to_string(),
            block_style(ORANGE),
        ),
        (
            "total: the product of the steps".to_string(),
            block_style(GREY),
        ),
    ];
    Ok(Figure {
        title: headline.join("; "),
        subtitle: vec![format!(
            "{}each step is the ratio of two fleets sized at the same service level (waterfall.parquet; \
             waterfall_fleets.parquet holds every fleet's sizing row); idle time is one device per \
             user over the offered load; docs/model.md section 23",
            scenario_prefix(f)
        )],
        legend,
        panels,
        layout: Layout::Rows,
    })
}

/// The panel of the pair whose pooled placement is `name`, and its headline.
fn pair_panel(f: &Frame, c: &Cols, name: &str) -> (Panel, String) {
    let mut rows: Vec<usize> = (0..f.rows())
        .filter(|&r| c.pooled[r].as_deref() == Some(name))
        .collect();
    rows.sort_by(|&a, &b| {
        c.index[a]
            .unwrap_or(0.0)
            .total_cmp(&c.index[b].unwrap_or(0.0))
    });
    let against = rows
        .first()
        .and_then(|&r| c.dedicated[r].clone())
        .unwrap_or_default();
    let step_words = |r: usize| words(c.step[r].as_deref().unwrap_or(""));
    let mut ticks = Vec::new();
    let (mut up, mut down, mut sum) = (Vec::new(), Vec::new(), Vec::new());
    let mut notes = Vec::new();
    let mut level = 1.0;
    let mut complete = true;
    for (i, &r) in rows.iter().enumerate() {
        let x = i as f64;
        ticks.push((x, step_words(r)));
        let Some(k) = c.factor[r] else {
            complete = false;
            continue;
        };
        let next = level * k;
        let block = (x - HALF, x + HALF, level.min(next), level.max(next));
        if k >= 1.0 {
            up.push(block)
        } else {
            down.push(block)
        }
        notes.push(Item::Note {
            at: (x, level.max(next)),
            text: ratio(k),
            color: INK,
        });
        level = next;
    }
    let x = rows.len() as f64;
    ticks.push((x, "total".into()));
    let pair_total = rows.first().and_then(|&r| c.total[r]).filter(|_| complete);
    let headline = if let Some(t) = pair_total {
        sum.push((x - HALF, x + HALF, 1f64.min(t), 1f64.max(t)));
        notes.push(Item::Note {
            at: (x, t.max(1.0)),
            text: ratio(t),
            color: INK,
        });
        let by = rows
            .iter()
            .filter_map(|&r| Some((c.factor[r]?, r)))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(k, r)| format!(", {} the largest step ({})", step_words(r), ratio(k)))
            .unwrap_or_default();
        format!("{name} needs {} fewer devices than {against}{by}", ratio(t))
    } else {
        let mut missed: Vec<String> = Vec::new();
        for &r in &rows {
            for side in 0..2 {
                let who = c.fleets[side][r].clone().unwrap_or_default();
                if c.feasible[side][r] == Some(false) && !missed.contains(&who) {
                    missed.push(who);
                }
            }
        }
        if missed.is_empty() {
            format!("{name} over {against}: no total (a step has no factor)")
        } else {
            format!(
                "{name} over {against}: no total, {} {} the service level",
                list(&missed),
                if missed.len() == 1 { "misses" } else { "miss" }
            )
        }
    };
    let mut items = Vec::new();
    for (blocks, color) in [(up, BLUE_), (down, ORANGE), (sum, GREY)] {
        if !blocks.is_empty() {
            items.push(Item::Blocks { blocks, color });
        }
    }
    items.push(Item::HRule {
        y: 1.0,
        style: super::style::Style::line(INK).dashed().width(1),
        text: None,
    });
    items.extend(notes);
    let panel = Panel {
        title: format!("{name} over {against}"),
        x: AxisSpec {
            ticks: Some(ticks),
            ..AxisSpec::new("step (in the order they are applied)", Scale::Linear)
        },
        y: AxisSpec::new("devices factor so far (dedicated ÷ fleet)", Scale::Log),
        items,
    };
    (panel, headline)
}

/// The legend entry of a block colour.
fn block_style(color: plotters::style::RGBColor) -> super::style::Style {
    super::style::Style::line(color).width(12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_words() {
        for s in [
            "idle_time",
            "pool_size",
            "diurnal_profile",
            "time_zones",
            "batching",
            "hardware",
        ] {
            assert!(!words(s).contains('_'), "{s}");
        }
    }
}
