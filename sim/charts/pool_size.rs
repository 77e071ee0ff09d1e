//! The pool-size chart (`pool-size-curve.png`): memory and capital cost
//! (or devices) per user vs the users sharing one pool, log-log, one panel
//! per metric, with one device per user as dashed reference lines, titled
//! with how much a bigger pool saves.

use super::data::{distinct, group_rows, points, rows_of_kind, with_kind, Frame, Group, Grouped};
use super::figure::{ci_bars, AxisSpec, Figure, Item, Layout, Panel, Scale};
use super::format::{fmt_tick, human, list, usd};
use super::notes::{scenario_prefix, with_misses};
use super::style::{series_style, Style, GREY, INK};
use super::Chart;
use crate::results::columns;

/// A metric: column, panel title, axis description.
type Metric = (&'static str, &'static str, &'static str);

/// The first series drawn: (metric column, label, points).
type Headline = (String, String, Vec<(f64, f64)>);

pub(crate) fn build_pool_size(f: &Frame) -> Result<Figure, String> {
    let need = Chart::PoolSizeCurve.needs();
    if !f.has(columns::POOL_USERS) {
        return Err(format!("no pool_users column; needs {need}"));
    }
    // Users per pool counting every class (pool_size) when the file has it.
    let xcol = if f.has(columns::POOL_SIZE) {
        columns::POOL_SIZE
    } else {
        columns::POOL_USERS
    };
    let k = f.num(xcol);
    let full = rows_covering_all_classes(f);
    let keep = |r: &usize| full.as_ref().is_none_or(|v| v[*r]);
    let mut pooled = rows_of_kind(f, "pooled");
    pooled.extend(rows_of_kind(f, "hybrid"));
    pooled.sort_unstable();
    pooled.retain(keep);
    let g = group_rows(f, &pooled, Some(xcol));
    let enough: Vec<&Group> = g
        .groups
        .iter()
        .filter(|gr| distinct(&gr.2.iter().map(|&r| k[r]).collect::<Vec<_>>()).len() >= 2)
        .collect();
    if enough.is_empty() {
        return Err(format!(
            "no pooled placement has two or more pool sizes (pool_users); needs {need}"
        ));
    }
    let metrics = pool_metrics(f, &enough);
    let ticks = pool_ticks(&enough, &k);
    let mut dedicated = rows_of_kind(f, "dedicated");
    dedicated.retain(keep);
    let dedicated = if f.has(columns::KIND) {
        dedicated
    } else {
        Vec::new()
    };
    let dg = group_rows(f, &dedicated, Some(xcol));
    let dedicated_rows = dedicated;
    let curves = Curves {
        f,
        k,
        enough,
        dg,
        ticks,
    };
    let mut found = Findings::default();
    let panels: Vec<Panel> = metrics
        .iter()
        .filter_map(|m| curves.panel(m, &mut found))
        .collect();
    if panels.is_empty() {
        return Err(format!(
            "the pooled rows have no mem_gb_per_user, capex_usd_per_user or devices_per_user (infeasible at every pool size?); needs {need}"
        ));
    }
    let title = with_misses(pool_title(found.headline.as_ref()), f, &pooled, Some(xcol));
    let title = with_misses(title, f, &dedicated_rows, None);
    let subtitle = pool_subtitle(f, &curves.enough, &found);
    Ok(Figure {
        title,
        subtitle,
        legend: found.legend,
        panels,
        layout: Layout::Rows,
    })
}

/// A pool size as a tick label, with the household / office / region
/// sizes named.
fn pool_label(k: f64, kmax: f64) -> String {
    let n = fmt_tick(k);
    if k == 1.0 {
        format!("{n} (like dedicated)")
    } else if k == 4.0 {
        format!("{n} (household)")
    } else if k == 100.0 {
        format!("{n} (office)")
    } else if k == kmax && k > 100.0 {
        format!("{n} (region)")
    } else {
        n
    }
}

/// Rows of a population with classes that cover every class (hybrids and
/// placements serving all classes), when the file has such pooled rows:
/// curves of parts serving some classes would not compare with one device
/// per user for everything. None when there is nothing to restrict.
fn rows_covering_all_classes(f: &Frame) -> Option<Vec<bool>> {
    if !f.has("classes") {
        return None;
    }
    let classes = f.text("classes");
    let width = |c: &Option<String>| c.as_deref().map_or(0, |c| c.split('+').count());
    // Per sweep point (a point may leave a class empty): its widest rows.
    let point: Vec<Option<f64>> = if f.has("point") {
        f.num("point")
    } else {
        vec![None; f.rows()]
    };
    let widest_at = |p: Option<f64>| {
        (0..f.rows())
            .filter(|&r| point[r] == p)
            .map(|r| width(&classes[r]))
            .max()
            .unwrap_or(0)
    };
    let full: Vec<bool> = (0..f.rows())
        .map(|r| width(&classes[r]) == widest_at(point[r]))
        .collect();
    if full.iter().all(|x| *x) {
        return None;
    }
    let kinds = f.text(columns::KIND);
    let pooled_full = (0..f.rows())
        .any(|r| full[r] && matches!(kinds[r].as_deref(), Some("pooled") | Some("hybrid")));
    pooled_full.then_some(full)
}

/// Memory and capital cost per user where a series has them, else devices
/// per user.
fn pool_metrics(f: &Frame, enough: &[&Group]) -> Vec<Metric> {
    let mut metrics: Vec<Metric> = vec![
        (
            columns::MEM_GB_PER_USER,
            "Memory per user",
            "device memory per user (GB)",
        ),
        (
            columns::CAPEX_USD_PER_USER,
            "Capital cost per user",
            "purchase cost per user (USD)",
        ),
    ];
    metrics.retain(|m| {
        enough
            .iter()
            .any(|gr| gr.2.iter().any(|&r| f.num(m.0)[r].is_some()))
    });
    if metrics.is_empty() {
        metrics.push((
            columns::DEVICES_PER_USER,
            "Devices per user",
            "devices per user",
        ));
    }
    metrics
}

/// One labelled tick per pool size, when there are at most ten.
fn pool_ticks(enough: &[&Group], k: &[Option<f64>]) -> Option<Vec<(f64, String)>> {
    let kmax = enough
        .iter()
        .flat_map(|gr| gr.2.iter().filter_map(|&r| k[r]))
        .fold(0.0, f64::max);
    let ks = distinct(
        &enough
            .iter()
            .flat_map(|gr| gr.2.iter().map(|&r| k[r]))
            .collect::<Vec<_>>(),
    );
    (ks.len() <= 10).then(|| {
        ks.iter()
            .map(|&v| (v, pool_label(v, kmax)))
            .collect::<Vec<_>>()
    })
}

/// What every metric's panel draws from.
struct Curves<'a> {
    f: &'a Frame<'a>,
    /// Users per pool of each row.
    k: Vec<Option<f64>>,
    /// The pooled series with two or more pool sizes.
    enough: Vec<&'a Group>,
    /// The dedicated series.
    dg: Grouped,
    ticks: Option<Vec<(f64, String)>>,
}

/// What the panels found, for the legend, title and subtitle.
#[derive(Default)]
struct Findings {
    legend: Vec<(String, Style)>,
    /// Dedicated series with no value (cannot meet the service level).
    ded_missing: Vec<String>,
    /// Per metric: from which pool size the first pool beats one device per user.
    beats: Vec<String>,
    headline: Option<Headline>,
}

impl Curves<'_> {
    /// The panel of one metric, None when no series has a value of it.
    fn panel(&self, &(col, title, desc): &Metric, found: &mut Findings) -> Option<Panel> {
        let y = self.f.num(col);
        let mut items = self.pool_series(col, &y, found);
        if items.is_empty() {
            return None;
        }
        let refs = self.dedicated_refs(&y, &mut found.ded_missing);
        // From which pool size does the (first) pool beat one device per user?
        if let (Some((v, _)), Some(gr)) = (refs.first(), self.enough.first()) {
            let pts = points(&self.k, &y, &gr.2, true);
            let what = title.to_lowercase();
            match pts.iter().find(|p| p.1 < *v) {
                Some(p) => found
                    .beats
                    .push(format!("{what} from a pool of {}", human(p.0))),
                None => found.beats.push(format!("{what} at no pool size shown")),
            }
        }
        self.reference_lines(col, &refs, &mut items, &mut found.legend);
        let mut xspec = AxisSpec::new("users per pool k", Scale::Log);
        xspec.ticks = self.ticks.clone();
        Some(Panel {
            title: title.to_string(),
            x: xspec,
            y: AxisSpec::new(desc, Scale::Log),
            items,
        })
    }

    /// One series per pooled placement (with error bars); the first one
    /// drawn is the headline.
    fn pool_series(&self, col: &str, y: &[Option<f64>], found: &mut Findings) -> Vec<Item> {
        let mut items = Vec::new();
        for (gi, gr) in self.enough.iter().enumerate() {
            let pts = points(&self.k, y, &gr.2, true);
            if pts.is_empty() {
                continue;
            }
            if found.headline.is_none() {
                found.headline = Some((col.to_string(), gr.0.clone(), pts.clone()));
            }
            let style = series_style(gi);
            let name = with_kind(&gr.0, &gr.1);
            if !found.legend.iter().any(|l| l.0 == name) {
                found.legend.push((name, style));
            }
            items.extend(ci_bars(self.f, &self.k, col, &gr.2, 1.0, style.color));
            items.push(Item::Series {
                pts,
                style,
                dodge: 0.0,
            });
        }
        items
    }

    /// One value per distinct dedicated value (sweep points often share
    /// it) with the dedicated series that have it; series without a value
    /// go to `missing`.
    fn dedicated_refs(
        &self,
        y: &[Option<f64>],
        missing: &mut Vec<String>,
    ) -> Vec<(f64, Vec<String>)> {
        let mut refs: Vec<(f64, Vec<String>)> = Vec::new();
        for (label, _, rows) in &self.dg.groups {
            match rows.iter().find_map(|&r| y[r].filter(|v| *v > 0.0)) {
                Some(v) => match refs.iter_mut().find(|r| (r.0 - v).abs() <= 1e-9 * v) {
                    Some(r) => r.1.push(label.clone()),
                    None => refs.push((v, vec![label.clone()])),
                },
                None => {
                    if !missing.contains(label) {
                        missing.push(label.clone());
                    }
                }
            }
        }
        refs
    }

    /// One dashed line per dedicated value, labelled with who and how much.
    fn reference_lines(
        &self,
        col: &str,
        refs: &[(f64, Vec<String>)],
        items: &mut Vec<Item>,
        legend: &mut Vec<(String, Style)>,
    ) {
        for (di, (v, labels)) in refs.iter().enumerate() {
            let style = Style::line(if di == 0 { INK } else { GREY })
                .dashed()
                .width(2);
            let unit = if col.starts_with("mem") {
                format!("{} GB", human(*v))
            } else if col.starts_with("capex") {
                usd(*v)
            } else {
                human(*v)
            };
            let who = if refs.len() == 1 && self.dg.groups.len() > 1 {
                labels[0].split(',').next().unwrap_or_default().to_string()
            } else {
                labels.join("; ")
            };
            items.push(Item::HRule {
                y: *v,
                style,
                text: Some(format!("one device per user ({who}): {unit}")),
            });
            let name = format!("one device per user: {who} (dedicated)");
            if !legend.iter().any(|l| l.0 == name) {
                legend.push((name, style));
            }
        }
    }
}

/// "Sharing <placement> among more users cuts <metric> from a (pool of k0)
/// to b (pool of k1)", from the headline series.
fn pool_title(headline: Option<&Headline>) -> String {
    let Some((col, label, pts)) = headline else {
        return "Bigger pools need less hardware per user".to_string();
    };
    let (k0, v0) = pts[0];
    let (k1, v1) = pts[pts.len() - 1];
    let what = if col.starts_with("mem") {
        (
            "memory per user",
            format!("{} GB", human(v0)),
            format!("{} GB", human(v1)),
        )
    } else if col.starts_with("capex") {
        ("capital cost per user", usd(v0), usd(v1))
    } else {
        ("devices per user", human(v0), human(v1))
    };
    let (place, rest) = label.split_once(", ").unwrap_or((label, ""));
    format!(
        "Sharing {place} among more users cuts {} from {} (pool of {}) to {} (pool of {}){}",
        what.0,
        what.1,
        human(k0),
        what.2,
        human(k1),
        if rest.is_empty() {
            String::new()
        } else {
            format!(" at {rest}")
        }
    )
}

fn pool_subtitle(f: &Frame, enough: &[&Group], found: &Findings) -> Vec<String> {
    let mut sub = vec![format!(
        "{}least pooled hardware meeting the service level, per user, vs the users sharing one pool (k); dashed: one device per user.",
        scenario_prefix(f)
    )];
    if !found.beats.is_empty() {
        let who = enough
            .first()
            .map(|g| g.0.split(", ").next().unwrap_or_default().to_string())
            .unwrap_or_default();
        sub.push(format!(
            "{who} needs less hardware per user than one device per user: {}.",
            list(&found.beats)
        ));
    }
    if !found.ded_missing.is_empty() {
        sub.push(format!(
            "No one-device-per-user line for {}: one device per user cannot meet the service level there.",
            list(&found.ded_missing)
        ));
    }
    sub
}
