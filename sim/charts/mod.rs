//! Charts a reader understands at a glance: PNG files drawn with plotters
//! from sharesim's Parquet outputs, or from DataFrames already in memory.
//!
//! [`charts_for_file`] draws every chart a file supports; one public function
//! per chart draws it from a DataFrame ([`sharing_factor_vs_duty_cycle`],
//! [`hardware_vs_users`], [`pool_size_curve`], [`cost_vs_memory_price`],
//! [`p99_latency_vs_axis`], [`latency_cdf`], [`load_over_the_day`]).
//!
//! Every chart is a 1600 x 1000 PNG on white, in the embedded DejaVu Sans,
//! with the Okabe-Ito colour-blind-safe palette, a title that states the
//! point (computed from the data), axis labels with units, a legend, log axes
//! where the data spans more than ~1.5 decades, and error bars where a
//! `<col>_ci95` column exists for a plotted estimate. A chart without data is
//! refused with [`ChartError::NoData`] instead of being drawn empty, and PNGs
//! are drawn to a temporary name in the destination folder and renamed into
//! place, so a reader never sees half a file. See docs/charts.md.
//!
//! Drawing happens in an RGB buffer ([`render_rgb`]), which is then written
//! as PNG; tests inspect the same buffer.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader};

/// Width of every chart, pixels.
pub const WIDTH: u32 = 1600;
/// Height of every chart, pixels.
pub const HEIGHT: u32 = 1000;

/// Why a chart was not drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The data holds nothing this chart (or, for a file, any chart) can show.
    #[error("{}: no chart drawn: {reason}", file.display())]
    NoData {
        /// The Parquet file read, or the PNG that was not written.
        file: PathBuf,
        /// What is missing and how to produce it.
        reason: String,
    },
    /// The Parquet file could not be read.
    #[error("cannot read {}: {message} (expected a Parquet file written by `sharesim run`, `size` or `sweep`)", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The reader's message.
        message: String,
    },
    /// Drawing or writing the PNG failed.
    #[error("cannot draw {}: {message}", file.display())]
    Draw {
        /// The PNG (or folder) being written.
        file: PathBuf,
        /// What failed.
        message: String,
    },
}

/// The charts this module draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// `sharing-factor-vs-duty-cycle.png`.
    SharingFactorVsDutyCycle,
    /// `hardware-vs-users.png`.
    HardwareVsUsers,
    /// `pool-size-curve.png`.
    PoolSizeCurve,
    /// `cost-vs-memory-price.png`.
    CostVsMemoryPrice,
    /// `p99-latency-vs-<axis>.png`.
    P99LatencyVsAxis,
    /// `latency-cdf.png`.
    LatencyCdf,
    /// `load-over-the-day.png`.
    LoadOverTheDay,
}

impl Chart {
    /// Every chart, in the order [`charts_for_file`] tries them.
    pub const ALL: [Chart; 7] = [
        Chart::SharingFactorVsDutyCycle,
        Chart::HardwareVsUsers,
        Chart::PoolSizeCurve,
        Chart::CostVsMemoryPrice,
        Chart::P99LatencyVsAxis,
        Chart::LatencyCdf,
        Chart::LoadOverTheDay,
    ];

    /// The PNG file name of this chart for this data (the p99 chart names
    /// its sweep axis, e.g. `p99-latency-vs-users-duty-cycle.png`).
    pub fn file_name(self, df: &DataFrame) -> String {
        match self {
            Chart::SharingFactorVsDutyCycle => "sharing-factor-vs-duty-cycle.png".into(),
            Chart::HardwareVsUsers => "hardware-vs-users.png".into(),
            Chart::PoolSizeCurve => "pool-size-curve.png".into(),
            Chart::CostVsMemoryPrice => "cost-vs-memory-price.png".into(),
            Chart::P99LatencyVsAxis => {
                let axis = first_axis(&Frame { df })
                    .map(|a| a.trim_start_matches("sweep_").replace('_', "-"))
                    .unwrap_or_else(|| "axis".into());
                format!("p99-latency-vs-{axis}.png")
            }
            Chart::LatencyCdf => "latency-cdf.png".into(),
            Chart::LoadOverTheDay => "load-over-the-day.png".into(),
        }
    }

    /// The columns this chart needs and how to produce a file that has them.
    pub fn needs(self) -> &'static str {
        match self {
            Chart::SharingFactorVsDutyCycle => {
                "sweep_users_duty_cycle, kind and sharing_factor_devices or sharing_factor_memory \
                 (sweep.parquet of `sharesim sweep` in size mode with a users.duty_cycle axis, \
                 e.g. `sharesim sweep scenarios/default.toml`)"
            }
            Chart::HardwareVsUsers => {
                "sweep_users_count, placement, devices_total and/or mem_gb_total (sweep.parquet of \
                 `sharesim sweep` in size mode with a users.count axis)"
            }
            Chart::PoolSizeCurve => {
                "pool_users, kind, placement and mem_gb_per_user, capex_usd_per_user or \
                 devices_per_user, with at least two pool sizes for a pooled placement \
                 (sizing.parquet of `sharesim size` on a scenario whose [sizing] pool_sizes \
                 lists several sizes, e.g. scenarios/llm-chat.toml)"
            }
            Chart::CostVsMemoryPrice => {
                "sweep_costs_memory_price_multiplier, placement and capex_usd_total (sweep.parquet \
                 of `sharesim sweep` in size mode with a costs.memory_price_multiplier axis on an \
                 LLM scenario)"
            }
            Chart::P99LatencyVsAxis => {
                "a numeric sweep_<axis> column, placement and ttft_p99_s/tpot_p99_s or \
                 wait_p99_s/response_p99_s, optionally with <col>_ci95 (sweep.parquet of \
                 `sharesim sweep`)"
            }
            Chart::LatencyCdf => {
                "placement, latency, quantile and value_s (latency_cdf.parquet of `sharesim run`)"
            }
            Chart::LoadOverTheDay => {
                "hour_of_day or minute_of_day, kind, placement, arrivals_per_min and busy_servers \
                 for a pooled placement (timeline.parquet of `sharesim run`)"
            }
        }
    }

    /// Whether the data has this chart's identifying columns (the chart may
    /// still find no usable rows).
    fn applies(self, f: &Frame) -> bool {
        match self {
            Chart::SharingFactorVsDutyCycle => {
                f.has("sweep_users_duty_cycle")
                    && (f.has("sharing_factor_devices") || f.has("sharing_factor_memory"))
            }
            Chart::HardwareVsUsers => {
                f.has("sweep_users_count")
                    && ["devices_total", "devices", "mem_gb_total"]
                        .iter()
                        .any(|c| f.has(c))
            }
            Chart::PoolSizeCurve => f.has("pool_users"),
            Chart::CostVsMemoryPrice => {
                f.has("sweep_costs_memory_price_multiplier")
                    && (f.has("capex_usd_total") || f.has("capex_usd"))
            }
            Chart::P99LatencyVsAxis => {
                first_axis(f).is_some() && LATENCY_PAIRS.iter().flatten().any(|(c, _, _)| f.has(c))
            }
            Chart::LatencyCdf => f.has("latency") && f.has("value_s") && f.has("quantile"),
            Chart::LoadOverTheDay => {
                f.has("arrivals_per_min") && (f.has("hour_of_day") || f.has("minute_of_day"))
            }
        }
    }

    fn build(self, f: &Frame) -> Result<Figure, String> {
        let mut fig = self.build_figure(f)?;
        let bars = fig
            .panels
            .iter()
            .any(|p| p.items.iter().any(|i| matches!(i, Item::Bars { .. })));
        if bars && !fig.legend.iter().any(|l| l.1.bar) {
            fig.legend.push((
                "95 % confidence interval (replications)".into(),
                Style {
                    line: false,
                    bar: true,
                    ..Style::line(GREY)
                },
            ));
        }
        Ok(fig)
    }

    fn build_figure(self, f: &Frame) -> Result<Figure, String> {
        match self {
            Chart::SharingFactorVsDutyCycle => build_sharing(f),
            Chart::HardwareVsUsers => build_hardware(f),
            Chart::PoolSizeCurve => build_pool_size(f),
            Chart::CostVsMemoryPrice => build_cost(f),
            Chart::P99LatencyVsAxis => build_p99(f),
            Chart::LatencyCdf => build_cdf(f),
            Chart::LoadOverTheDay => build_load(f),
        }
    }
}

/// Draw every chart the Parquet file supports into `out_dir` (created if
/// needed); returns the PNG paths. Charts whose columns are present but hold
/// no usable rows (e.g. every point infeasible) are skipped; a file that
/// supports no chart is [`ChartError::NoData`] naming the columns it would
/// need.
pub fn charts_for_file(parquet: &Path, out_dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    let read_err = |message: String| ChartError::Read {
        file: parquet.to_path_buf(),
        message,
    };
    let file = File::open(parquet).map_err(|e| read_err(e.to_string()))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| read_err(e.to_string()))?;
    let f = Frame { df: &df };
    let mut skipped = Vec::new();
    let mut figures = Vec::new();
    for chart in Chart::ALL {
        if !chart.applies(&f) {
            continue;
        }
        match chart.build(&f) {
            Ok(fig) => figures.push((chart.file_name(&df), fig)),
            Err(reason) => skipped.push(format!("{}: {reason}", chart.file_name(&df))),
        }
    }
    if figures.is_empty() {
        let reason = if skipped.is_empty() {
            let needs: Vec<String> = Chart::ALL
                .iter()
                .map(|c| format!("{} needs {}", c.file_name(&df), c.needs()))
                .collect();
            let names: Vec<&str> = df.get_column_names().iter().map(|c| c.as_str()).collect();
            let shown = if names.len() > 12 {
                format!("{}, ... ({} columns)", names[..12].join(", "), names.len())
            } else {
                names.join(", ")
            };
            format!(
                "charts are drawn from sweep.parquet, sizing.parquet, latency_cdf.parquet or \
                 timeline.parquet, and this file has none of the columns they need ({} rows; \
                 columns: {shown}). {}",
                df.height(),
                needs.join("; ")
            )
        } else {
            skipped.join("; ")
        };
        return Err(ChartError::NoData {
            file: parquet.to_path_buf(),
            reason,
        });
    }
    std::fs::create_dir_all(out_dir).map_err(|e| ChartError::Draw {
        file: out_dir.to_path_buf(),
        message: format!("cannot create the output folder: {e}"),
    })?;
    let mut written = Vec::new();
    for (name, fig) in figures {
        written.push(write_figure(&fig, &out_dir.join(name))?);
    }
    Ok(written)
}

/// Draw `chart` from `df` into the PNG `out`; [`ChartError::NoData`] (and no
/// file) when the data holds nothing to show.
pub fn draw_chart(chart: Chart, df: &DataFrame, out: &Path) -> Result<PathBuf, ChartError> {
    let fig = chart
        .build(&Frame { df })
        .map_err(|reason| ChartError::NoData {
            file: out.to_path_buf(),
            reason,
        })?;
    write_figure(&fig, out)
}

/// Draw `chart` from `df` into an RGB buffer of [`WIDTH`] x [`HEIGHT`]
/// pixels (3 bytes each, row-major): the pixels the PNG would hold.
pub fn render_rgb(chart: Chart, df: &DataFrame) -> Result<Vec<u8>, ChartError> {
    let fig = chart
        .build(&Frame { df })
        .map_err(|reason| ChartError::NoData {
            file: PathBuf::from("(DataFrame)"),
            reason,
        })?;
    render(&fig).map_err(|message| ChartError::Draw {
        file: PathBuf::from("(DataFrame)"),
        message,
    })
}

/// Log-log sharing factor (dedicated / pooled hardware per user) for
/// devices, memory and capital cost vs duty cycle, with the naive
/// 1 / duty cycle dashed.
pub fn sharing_factor_vs_duty_cycle(df: &DataFrame, out: &Path) -> Result<PathBuf, ChartError> {
    draw_chart(Chart::SharingFactorVsDutyCycle, df, out)
}

/// Devices and memory of all users vs users, dedicated vs pooled, log-log.
pub fn hardware_vs_users(df: &DataFrame, out: &Path) -> Result<PathBuf, ChartError> {
    draw_chart(Chart::HardwareVsUsers, df, out)
}

/// Memory and capital cost per user vs users per pool k, log-log, with one
/// device per user as a reference line.
pub fn pool_size_curve(df: &DataFrame, out: &Path) -> Result<PathBuf, ChartError> {
    draw_chart(Chart::PoolSizeCurve, df, out)
}

/// Capital cost of all users per placement vs the memory price multiplier,
/// the crossing point marked.
pub fn cost_vs_memory_price(df: &DataFrame, out: &Path) -> Result<PathBuf, ChartError> {
    draw_chart(Chart::CostVsMemoryPrice, df, out)
}

/// p99 of the service-level latencies with 95 % error bars vs the first
/// numeric sweep axis.
pub fn p99_latency_vs_axis(df: &DataFrame, out: &Path) -> Result<PathBuf, ChartError> {
    draw_chart(Chart::P99LatencyVsAxis, df, out)
}

/// CDFs of TTFT and E2E (or wait and response) per placement, with the
/// service level.
pub fn latency_cdf(df: &DataFrame, out: &Path) -> Result<PathBuf, ChartError> {
    draw_chart(Chart::LatencyCdf, df, out)
}

/// Arrivals per minute and busy servers over the day per pooled placement.
pub fn load_over_the_day(df: &DataFrame, out: &Path) -> Result<PathBuf, ChartError> {
    draw_chart(Chart::LoadOverTheDay, df, out)
}

// ---------------------------------------------------------------------------
// Reading columns

struct Frame<'a> {
    df: &'a DataFrame,
}

impl Frame<'_> {
    fn rows(&self) -> usize {
        self.df.height()
    }

    fn has(&self, name: &str) -> bool {
        self.df.column(name).is_ok()
    }

    /// A numeric column as f64 (nulls and non-finite values as None); all
    /// None when missing or not numeric.
    fn num(&self, name: &str) -> Vec<Option<f64>> {
        let none = vec![None; self.rows()];
        let Ok(col) = self.df.column(name) else {
            return none;
        };
        if !col.dtype().is_primitive_numeric() {
            return none;
        }
        let Ok(c) = col.cast(&DataType::Float64) else {
            return none;
        };
        match c.f64() {
            Ok(ca) => ca.iter().map(|v| v.filter(|x| x.is_finite())).collect(),
            Err(_) => none,
        }
    }

    fn has_num(&self, name: &str) -> bool {
        self.num(name).iter().any(Option::is_some)
    }

    /// The first of `names` that holds a value (sized and run-mode
    /// sweeps name some totals differently), else the first name.
    fn pick<'n>(&self, names: &[&'n str]) -> &'n str {
        names.iter().find(|n| self.has_num(n)).unwrap_or(&names[0])
    }

    fn text(&self, name: &str) -> Vec<Option<String>> {
        let none = vec![None; self.rows()];
        let Ok(col) = self.df.column(name) else {
            return none;
        };
        let Ok(c) = col.cast(&DataType::String) else {
            return none;
        };
        match c.str() {
            Ok(ca) => ca.iter().map(|v| v.map(str::to_string)).collect(),
            Err(_) => none,
        }
    }

    fn flag(&self, name: &str) -> Vec<Option<bool>> {
        let none = vec![None; self.rows()];
        let Ok(col) = self.df.column(name) else {
            return none;
        };
        match col.bool() {
            Ok(ca) => ca.iter().collect(),
            Err(_) => none,
        }
    }

    fn first_text(&self, name: &str) -> Option<String> {
        self.text(name)
            .into_iter()
            .flatten()
            .find(|s| !s.is_empty())
    }

    /// Numeric `sweep_*` columns, in column order.
    fn sweep_axes(&self) -> Vec<String> {
        self.df
            .columns()
            .iter()
            .filter(|c| c.name().starts_with("sweep_") && c.dtype().is_primitive_numeric())
            .map(|c| c.name().to_string())
            .collect()
    }
}

/// The first numeric sweep axis that varies (or the first numeric one).
fn first_axis(f: &Frame) -> Option<String> {
    let axes = f.sweep_axes();
    axes.iter()
        .find(|a| distinct(&f.num(a)).len() > 1)
        .or(axes.first())
        .cloned()
}

fn distinct(v: &[Option<f64>]) -> Vec<f64> {
    let mut d: Vec<f64> = v.iter().flatten().copied().collect();
    d.sort_by(f64::total_cmp);
    d.dedup();
    d
}

/// How a sweep axis is shown: description, multiplier on the value, tick suffix, short name.
fn axis_info(col: &str) -> (String, f64, &'static str, String) {
    match col {
        "sweep_users_duty_cycle" => (
            "duty cycle: share of the day one user keeps a device busy (%)".into(),
            100.0,
            " %",
            "duty cycle".into(),
        ),
        "sweep_users_count" => ("users".into(), 1.0, "", "users".into()),
        "sweep_costs_memory_price_multiplier" => (
            "memory price multiplier (× today's memory price)".into(),
            1.0,
            "×",
            "memory price".into(),
        ),
        "sweep_users_requests_per_day" => (
            "requests per user per day".into(),
            1.0,
            "",
            "requests per day".into(),
        ),
        other => {
            let name = other.trim_start_matches("sweep_").replace('_', " ");
            (name.clone(), 1.0, "", name)
        }
    }
}

/// The rows of a chart, each with its series label.
struct Grouped {
    /// (series label, kind, row indices) in order of first appearance.
    groups: Vec<(String, String, Vec<usize>)>,
}

/// Group `rows` into series: by placement (with its kind), plus the other
/// sweep axes that vary, plus the pool size when a placement has several at
/// one x value.
fn group_rows(f: &Frame, rows: &[usize], x_col: Option<&str>) -> Grouped {
    let placement = f.text("placement");
    let kind = f.text("kind");
    let others: Vec<(String, Vec<Option<f64>>)> = f
        .sweep_axes()
        .into_iter()
        .filter(|a| Some(a.as_str()) != x_col)
        .map(|a| {
            let v = f.num(&a);
            (a, v)
        })
        .filter(|(_, v)| distinct(&rows.iter().map(|&r| v[r]).collect::<Vec<_>>()).len() > 1)
        .collect();
    let xs = x_col.map(|c| f.num(c));
    // A sweep axis that moves with the x sweep axis (a zipped sweep: one
    // value per x value) is part of the x axis, not a series of its own.
    let x_is_axis = x_col.is_some_and(|c| c.starts_with("sweep_"));
    let others: Vec<(String, Vec<Option<f64>>)> = match &xs {
        Some(x) if x_is_axis => others
            .into_iter()
            .filter(|(_, v)| {
                let mut seen: Vec<(Option<f64>, Option<f64>)> = Vec::new();
                for &r in rows {
                    match seen.iter().find(|(xv, _)| *xv == x[r]) {
                        Some((_, av)) if *av != v[r] => return true,
                        Some(_) => {}
                        None => seen.push((x[r], v[r])),
                    }
                }
                false
            })
            .collect(),
        _ => others,
    };
    let pool = f.num("pool_users");
    let key = |r: usize| {
        let mut k = placement[r].clone().unwrap_or_else(|| "all rows".into());
        for (a, v) in &others {
            let (_, mul, suffix, short) = axis_info(a);
            if let Some(x) = v[r] {
                k.push_str(&format!(", {short} {}{suffix}", fmt_tick(x * mul)));
            }
        }
        k
    };
    // Several pool sizes per (series, x)? Then the pool size joins that
    // placement's labels.
    let mut seen = BTreeSet::new();
    let mut with_k = BTreeSet::new();
    for &r in rows {
        let x = xs.as_ref().and_then(|v| v[r]).map(f64::to_bits);
        if !seen.insert((key(r), x)) {
            with_k.insert(placement[r].clone());
        }
    }
    let mut groups: Vec<(String, String, Vec<usize>)> = Vec::new();
    for &r in rows {
        let mut label = key(r);
        if with_k.contains(&placement[r]) {
            if let Some(k) = pool[r] {
                label.push_str(&format!(", pool of {}", human(k)));
            }
        }
        let kd = kind[r].clone().unwrap_or_default();
        match groups.iter_mut().find(|g| g.0 == label) {
            Some(g) => g.2.push(r),
            None => groups.push((label, kd, vec![r])),
        }
    }
    Grouped { groups }
}

fn with_kind(label: &str, kind: &str) -> String {
    if kind.is_empty() {
        label.to_string()
    } else {
        match label.split_once(", ") {
            Some((p, rest)) => format!("{p} ({kind}), {rest}"),
            None => format!("{label} ({kind})"),
        }
    }
}

/// The bound of a service-level metric (e.g. `ttft_p99_s`) from `slo_detail`
/// or `reason` text such as `ttft_p99_s 1.2 (<= 2) ok`.
fn slo_bound(f: &Frame, metric: &str) -> Option<f64> {
    for col in ["slo_detail", "reason"] {
        for text in f.text(col).into_iter().flatten() {
            for part in text.split(';') {
                let Some(i) = part.find(metric) else { continue };
                let rest = &part[i + metric.len()..];
                if !rest.starts_with(' ') {
                    continue;
                }
                let Some(j) = rest.find("(<= ") else { continue };
                let tail = &rest[j + 4..];
                let end = tail.find(')').unwrap_or(tail.len());
                if let Ok(v) = tail[..end].trim().parse::<f64>() {
                    return Some(v);
                }
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Number formatting

/// Significant digits without trailing zeros.
fn sig(v: f64, digits: i32) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let d = (digits - 1 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.d$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Tick label: 1000, 10k, 2.5M, 0.0002.
fn fmt_tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if a < 1e-4 {
        let e = a.log10().floor();
        let m = v / 10f64.powf(e);
        return if (m - m.round()).abs() < 1e-9 && m.round() == 1.0 {
            format!("1e{e}")
        } else {
            format!("{}e{e}", sig(m, 2))
        };
    }
    let (s, suf) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    format!("{}{suf}", sig(s, 4))
}

/// A number for prose: 3 significant digits, thousands separated.
fn human(v: f64) -> String {
    let a = v.abs();
    if a >= 1e7 {
        return format!("{} million", sig(v / 1e6, 3));
    }
    if a >= 1000.0 {
        let p = 10f64.powi(a.log10().floor() as i32 - 2);
        let r = ((v / p).round() * p) as i64;
        let s = r.abs().to_string();
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        return if r < 0 { format!("-{out}") } else { out };
    }
    sig(v, 3)
}

fn ratio(v: f64) -> String {
    if v < 10.0 {
        format!("{}×", sig(v, 2))
    } else {
        format!("{}×", human(v))
    }
}

/// "a–b" of two numbers as shown, or one number when they read the same.
fn span_text(lo: &str, hi: &str) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}–{hi}")
    }
}

fn usd(v: f64) -> String {
    format!("${}", human(v))
}

// ---------------------------------------------------------------------------
// Figure description

/// Okabe-Ito palette.
const BLUE_: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const GREEN_: RGBColor = RGBColor(0x00, 0x9E, 0x73);
const PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
const SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const INK: RGBColor = RGBColor(0x00, 0x00, 0x00);
const PALETTE: [RGBColor; 6] = [BLUE_, ORANGE, GREEN_, PURPLE, SKY, VERMILLION];
const GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);

#[derive(Clone, Copy, PartialEq)]
enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
    Cross,
}
const MARKERS: [Marker; 5] = [
    Marker::Circle,
    Marker::Triangle,
    Marker::Square,
    Marker::Diamond,
    Marker::Cross,
];

#[derive(Clone, Copy, PartialEq)]
enum Dash {
    Solid,
    Dashed,
    Dotted,
}

#[derive(Clone, Copy)]
struct Style {
    color: RGBColor,
    width: u32,
    dash: Dash,
    marker: Option<Marker>,
    /// Draw the line (false: markers only).
    line: bool,
    /// Legend shows an error bar.
    bar: bool,
}

impl Style {
    fn line(color: RGBColor) -> Style {
        Style {
            color,
            width: 3,
            dash: Dash::Solid,
            marker: None,
            line: true,
            bar: false,
        }
    }
    fn marked(color: RGBColor, marker: Marker) -> Style {
        Style {
            marker: Some(marker),
            ..Style::line(color)
        }
    }
    fn dashed(self) -> Style {
        Style {
            dash: Dash::Dashed,
            ..self
        }
    }
    fn dotted(self) -> Style {
        Style {
            dash: Dash::Dotted,
            ..self
        }
    }
    fn width(self, width: u32) -> Style {
        Style { width, ..self }
    }
}

fn series_style(i: usize) -> Style {
    Style::marked(PALETTE[i % PALETTE.len()], MARKERS[i % MARKERS.len()])
}

enum Item {
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
enum Scale {
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
struct AxisSpec {
    desc: String,
    scale: Scale,
    /// Linear axes of non-negative data start at 0.
    zero: bool,
    suffix: &'static str,
    /// Custom ticks (value, label) in data units.
    ticks: Option<Vec<(f64, String)>>,
    /// Values a log axis cannot show (<= 0) are drawn on its lower edge.
    clamp: bool,
}

impl AxisSpec {
    fn new(desc: impl Into<String>, scale: Scale) -> AxisSpec {
        AxisSpec {
            desc: desc.into(),
            scale,
            zero: false,
            suffix: "",
            ticks: None,
            clamp: false,
        }
    }
    fn suffix(self, suffix: &'static str) -> AxisSpec {
        AxisSpec { suffix, ..self }
    }
    /// A linear axis of non-negative data starts at 0.
    fn zero(self) -> AxisSpec {
        AxisSpec { zero: true, ..self }
    }
}

struct Panel {
    title: String,
    x: AxisSpec,
    y: AxisSpec,
    items: Vec<Item>,
}

#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// Panels side by side.
    Cols,
    /// Panels stacked.
    Rows,
}

struct Figure {
    title: String,
    subtitle: Vec<String>,
    legend: Vec<(String, Style)>,
    panels: Vec<Panel>,
    layout: Layout,
}

// ---------------------------------------------------------------------------
// Axes

struct Axis {
    log: bool,
    nines: bool,
    lo: f64,
    hi: f64,
    clamp: bool,
    ticks: Vec<(f64, String)>,
    light: Vec<f64>,
}

impl Axis {
    /// Value to plot coordinate; None if it cannot be shown.
    fn t(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        if self.nines {
            return (0.0..1.0).contains(&v).then(|| -(1.0 - v).log10());
        }
        if self.log {
            if v > 0.0 {
                Some(v.log10())
            } else if self.clamp {
                Some(self.lo)
            } else {
                None
            }
        } else {
            Some(v)
        }
    }

    /// Plot coordinate kept inside the axis.
    fn t_clamped(&self, v: f64) -> Option<f64> {
        let t = if self.log && v <= 0.0 {
            self.lo
        } else {
            self.t(v)?
        };
        Some(t.clamp(self.lo, self.hi))
    }

    fn label(&self, t: f64) -> String {
        self.ticks
            .iter()
            .min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()))
            .map(|x| x.1.clone())
            .unwrap_or_default()
    }

    fn build(spec: &AxisSpec, values: &[f64]) -> Axis {
        let vals: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let pos: Vec<f64> = vals.iter().copied().filter(|v| *v > 0.0).collect();
        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log = match spec.scale {
            Scale::Log => !pos.is_empty(),
            Scale::Auto => {
                !pos.is_empty()
                    && (pos.len() == vals.len() || spec.clamp)
                    && max(&pos) / min(&pos) > 10f64.powf(1.5)
            }
            _ => false,
        };
        let mut axis = Axis {
            log,
            nines: spec.scale == Scale::Nines,
            lo: 0.0,
            hi: 1.0,
            clamp: spec.clamp,
            ticks: Vec::new(),
            light: Vec::new(),
        };
        if axis.nines {
            let top = vals
                .iter()
                .filter(|v| (0.0..1.0).contains(*v))
                .map(|v| -(1.0 - v).log10())
                .fold(2.0, f64::max);
            axis.hi = top + 0.12;
            let qs = [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999];
            let names = [
                "0 %", "50 %", "90 %", "99 %", "99.9 %", "99.99 %", "99.999 %",
            ];
            for (q, n) in qs.iter().zip(names) {
                let t = -(1.0f64 - q).log10();
                if t <= axis.hi {
                    axis.ticks.push((t, n.to_string()));
                }
            }
            for q in [0.25, 0.75, 0.8, 0.95, 0.98, 0.995, 0.998, 0.9995, 0.9998] {
                let t = -(1.0f64 - q).log10();
                if t <= axis.hi {
                    axis.light.push(t);
                }
            }
            return axis;
        }
        if log {
            let (a, b) = (min(&pos).log10(), max(&pos).log10());
            let (a, b) = if b - a < 1e-9 {
                (a - 0.5, b + 0.5)
            } else {
                (a, b)
            };
            let pad = ((b - a) * 0.05).max(0.04);
            axis.lo = a - pad;
            axis.hi = b + pad;
        } else if vals.is_empty() {
            axis.lo = 0.0;
            axis.hi = 1.0;
        } else {
            let (mut a, mut b) = (min(&vals), max(&vals));
            if spec.scale == Scale::Hours {
                a = a.floor();
                b = b.ceil();
                if b - a < 1.0 {
                    b = a + 1.0;
                }
            } else {
                if spec.zero && a >= 0.0 {
                    a = 0.0;
                }
                if spec.zero && b <= 0.0 {
                    b = 0.0;
                }
                if b - a < 1e-12 {
                    let d = if a.abs() > 0.0 { a.abs() * 0.1 } else { 1.0 };
                    a -= d;
                    b += d;
                }
                let pad = (b - a) * 0.05;
                if !(spec.zero && a == 0.0) {
                    a -= pad;
                }
                b += pad;
            }
            axis.lo = a;
            axis.hi = b;
        }
        let in_range = |t: f64| t >= axis.lo - 1e-9 && t <= axis.hi + 1e-9;
        if let Some(ticks) = &spec.ticks {
            for (v, label) in ticks {
                if let Some(t) = axis.t(*v) {
                    if in_range(t) {
                        axis.ticks.push((t, label.clone()));
                    }
                }
            }
        } else if log {
            let span = axis.hi - axis.lo;
            let mantissas: &[f64] = if span <= 1.3 {
                &[1.0, 2.0, 3.0, 5.0]
            } else if span <= 4.2 {
                &[1.0, 2.0, 5.0]
            } else {
                &[1.0]
            };
            let every = if span > 9.0 { 2 } else { 1 };
            let (d0, d1) = (axis.lo.floor() as i32, axis.hi.ceil() as i32);
            for d in d0..=d1 {
                for &m in mantissas {
                    let v = m * 10f64.powi(d);
                    let t = v.log10();
                    if in_range(t) && (m != 1.0 || d.rem_euclid(every) == 0) {
                        axis.ticks
                            .push((t, format!("{}{}", fmt_tick(v), spec.suffix)));
                    }
                }
                if span <= 9.0 {
                    for m in 2..=9 {
                        let t = (f64::from(m) * 10f64.powi(d)).log10();
                        if in_range(t) {
                            axis.light.push(t);
                        }
                    }
                }
            }
            // Labels closer than ~5 % of the axis would collide.
            let mut kept: Vec<(f64, String)> = Vec::new();
            for tick in std::mem::take(&mut axis.ticks) {
                if kept.last().is_none_or(|k| tick.0 - k.0 >= span * 0.05) {
                    kept.push(tick);
                }
            }
            axis.ticks = kept;
            if axis.ticks.len() < 2 {
                for t in [axis.lo + span * 0.1, axis.hi - span * 0.1] {
                    let v = 10f64.powf(t);
                    let v = sig(v, 2).parse::<f64>().unwrap_or(v);
                    axis.ticks
                        .push((v.log10(), format!("{}{}", fmt_tick(v), spec.suffix)));
                }
            }
        } else if spec.scale == Scale::Hours {
            let span = axis.hi - axis.lo;
            let step = if span <= 6.0 {
                1.0
            } else if span <= 12.0 {
                2.0
            } else {
                3.0
            };
            let mut h = (axis.lo / step).ceil() * step;
            while h <= axis.hi + 1e-9 {
                axis.ticks.push((h, format!("{:02}:00", h as i64)));
                h += step;
            }
        } else {
            let step = nice_step((axis.hi - axis.lo) / 6.0);
            let mut k = (axis.lo / step).ceil();
            while k * step <= axis.hi + 1e-9 * step {
                let v = k * step;
                let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
                axis.ticks
                    .push((v, format!("{}{}", fmt_tick(v), spec.suffix)));
                k += 1.0;
            }
        }
        axis
    }
}

fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    let n = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 2.5 {
        2.5
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    n * p
}

// ---------------------------------------------------------------------------
// Painting

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn register_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES)
            .map_err(|_| "the embedded font assets/DejaVuSans.ttf is not a valid font".to_string())
    })
    .clone()
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type Coord = Cartesian2d<Ticked, Ticked>;

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

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn render(fig: &Figure) -> Result<Vec<u8>, String> {
    register_font()?;
    let mut buf = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        paint(fig, &root)?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

fn write_figure(fig: &Figure, out: &Path) -> Result<PathBuf, ChartError> {
    let draw_err = |message: String| ChartError::Draw {
        file: out.to_path_buf(),
        message,
    };
    let buf = render(fig).map_err(draw_err)?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| draw_err("the output path has no file name".into()))?;
    let stem = name.strip_suffix(".png").unwrap_or(&name);
    let tmp = out.with_file_name(format!(".{stem}.tmp.png"));
    let result = (|| -> Result<(), String> {
        let mut backend = BitMapBackend::new(&tmp, (WIDTH, HEIGHT));
        backend
            .blit_bitmap((0, 0), (WIDTH, HEIGHT), &buf)
            .map_err(err)?;
        backend.present().map_err(err)?;
        drop(backend);
        // The encoder reports some failures only by leaving no file.
        if !tmp.is_file() {
            return Err(format!(
                "the PNG encoder wrote no file at {}",
                tmp.display()
            ));
        }
        std::fs::rename(&tmp, out)
            .map_err(|e| format!("cannot move the finished PNG into place: {e}"))
    })();
    if let Err(message) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(draw_err(message));
    }
    Ok(out.to_path_buf())
}

fn font(size: u32) -> FontDesc<'static> {
    (FONT, size).into_font()
}

fn text_width(area: &Area, text: &str, size: u32) -> i32 {
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

fn shape(style: &Style) -> ShapeStyle {
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
fn marker_at<DB: DrawingBackend>(
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
    };
    r.map_err(err)
}

fn paint(fig: &Figure, root: &Area) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let margin = 40;
    let width = WIDTH as i32 - 2 * margin;
    let mut y = 16;
    // Title: shrink to fit, then wrap.
    let mut size = 36;
    while size > 26 && text_width(root, &fig.title, size) > width {
        size -= 2;
    }
    for line in wrap(root, &fig.title, size, width) {
        draw_text(root, &line, (margin, y), size, &INK)?;
        y += size as i32 + 8;
    }
    y += 2;
    for para in &fig.subtitle {
        for line in wrap(root, para, 21, width) {
            draw_text(root, &line, (margin, y), 21, &GREY)?;
            y += 27;
        }
    }
    y += 6;
    // Legend, wrapped.
    let mut x = margin;
    let row_h = 30;
    let mut legend_rows = 0;
    if !fig.legend.is_empty() {
        legend_rows = 1;
    }
    for (label, style) in &fig.legend {
        let w = 56 + text_width(root, label, 20) + 30;
        if x + w > WIDTH as i32 - margin && x > margin {
            x = margin;
            y += row_h;
            legend_rows += 1;
        }
        let cy = y + 11;
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
        draw_text(root, label, (x + 56, y), 20, &INK)?;
        x += w;
    }
    if legend_rows > 0 {
        y += row_h;
    }
    y += 4;
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

fn panel_axes(panel: &Panel) -> (Axis, Axis) {
    let (xs, ys) = collect_values(&panel.items);
    (Axis::build(&panel.x, &xs), Axis::build(&panel.y, &ys))
}

fn y_label_width(area: &Area, ay: &Axis) -> i32 {
    ay.ticks
        .iter()
        .map(|t| text_width(area, &t.1, 18))
        .max()
        .unwrap_or(40)
}

fn paint_panel(
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
    let log_note = |a: &Axis, desc: &str| {
        if !a.log || desc.contains("log scale") {
            desc.to_string()
        } else if let Some(open) = desc.strip_suffix(')') {
            format!("{open}, log scale)")
        } else {
            format!("{desc} (log scale)")
        }
    };
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
    for item in &panel.items {
        draw_item(&mut chart, item, &ax, &ay)?;
    }
    Ok(())
}

fn draw_item(
    chart: &mut ChartContext<'_, BitMapBackend<'_>, Coord>,
    item: &Item,
    ax: &Axis,
    ay: &Axis,
) -> Result<(), String> {
    let plot = chart.plotting_area().strip_coord_spec();
    let (x0, y0) = plot.get_base_pixel();
    match item {
        Item::Series { pts, style, dodge } => {
            let shift = dodge * (ax.hi - ax.lo);
            let tp: Vec<(f64, f64)> = pts
                .iter()
                .filter_map(|&(x, y)| Some((ax.t(x)? + shift, ay.t(y)?)))
                .collect();
            if style.line && tp.len() > 1 {
                let s = shape(style);
                match style.dash {
                    Dash::Solid => chart
                        .draw_series(LineSeries::new(tp.clone(), s))
                        .map(|_| ()),
                    Dash::Dashed => chart
                        .draw_series(DashedLineSeries::new(tp.clone(), 14, 8, s))
                        .map(|_| ()),
                    Dash::Dotted => chart
                        .draw_series(DashedLineSeries::new(tp.clone(), 3, 6, s))
                        .map(|_| ()),
                }
                .map_err(err)?;
            }
            if let Some(m) = style.marker {
                for &(x, y) in &tp {
                    let p = chart.backend_coord(&(x, y));
                    marker_at(&plot, (p.0 - x0, p.1 - y0), m, style.color, 7)?;
                }
            }
        }
        Item::Bars { bars, color, dodge } => {
            let s = color.stroke_width(2);
            for &(x, lo, hi) in bars {
                let (Some(tx), Some(tlo), Some(thi)) =
                    (ax.t(x), ay.t_clamped(lo), ay.t_clamped(hi))
                else {
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
        }
        Item::HRule { y, style, text } => {
            let Some(ty) = ay.t(*y) else { return Ok(()) };
            let pts = vec![(ax.lo, ty), (ax.hi, ty)];
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
            .map_err(err)?;
            if let Some(text) = text {
                let ts = font(19)
                    .color(&style.color)
                    .pos(Pos::new(HPos::Right, VPos::Bottom));
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((ax.hi, ty)) + Text::new(text.clone(), (-10, -6), ts),
                    ))
                    .map_err(err)?;
            }
        }
        Item::VRule { x, style, text } => {
            let Some(tx) = ax.t(*x) else { return Ok(()) };
            let pts = vec![(tx, ay.lo), (tx, ay.hi)];
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
            .map_err(err)?;
            if let Some(text) = text {
                // Label beside the line, on the side with more room.
                let right = (tx - ax.lo) < (ax.hi - ax.lo) * 0.6;
                let (h, dx) = if right {
                    (HPos::Left, 10)
                } else {
                    (HPos::Right, -10)
                };
                let ts = font(19).color(&style.color).pos(Pos::new(h, VPos::Top));
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((tx, ay.hi)) + Text::new(text.clone(), (dx, 10), ts),
                    ))
                    .map_err(err)?;
            }
        }
        Item::Note { at, text, color } => {
            let (Some(tx), Some(ty)) = (ax.t(at.0), ay.t(at.1)) else {
                return Ok(());
            };
            let p = chart.backend_coord(&(tx, ty));
            marker_at(&plot, (p.0 - x0, p.1 - y0), Marker::Diamond, *color, 9)?;
            let right = (tx - ax.lo) < (ax.hi - ax.lo) * 0.6;
            let (h, dx) = if right {
                (HPos::Left, 16)
            } else {
                (HPos::Right, -16)
            };
            let ts = font(20).color(color).pos(Pos::new(h, VPos::Bottom));
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((tx, ty)) + Text::new(text.clone(), (dx, -10), ts),
                ))
                .map_err(err)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Charts

fn scenario_prefix(f: &Frame) -> String {
    f.first_text("scenario")
        .map(|s| format!("{s}: "))
        .unwrap_or_default()
}

fn list(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        _ => format!(
            "{} and {}",
            items[..items.len() - 1].join(", "),
            items[items.len() - 1]
        ),
    }
}

/// Rows whose `kind` is `kind` (all rows when the column is missing).
fn rows_of_kind(f: &Frame, kind: &str) -> Vec<usize> {
    if !f.has("kind") {
        return (0..f.rows()).collect();
    }
    f.text("kind")
        .iter()
        .enumerate()
        .filter(|(_, k)| k.as_deref() == Some(kind))
        .map(|(i, _)| i)
        .collect()
}

fn build_sharing(f: &Frame) -> Result<Figure, String> {
    let need = Chart::SharingFactorVsDutyCycle.needs();
    if !f.has("sweep_users_duty_cycle") {
        return Err(format!("no sweep_users_duty_cycle column; needs {need}"));
    }
    let metrics: Vec<(&str, &str, RGBColor, Marker)> = [
        ("sharing_factor_devices", "devices", BLUE_, Marker::Circle),
        ("sharing_factor_memory", "memory", ORANGE, Marker::Triangle),
        (
            "sharing_factor_capex",
            "capital cost",
            GREEN_,
            Marker::Square,
        ),
    ]
    .into_iter()
    .filter(|m| f.has_num(m.0))
    .collect();
    if metrics.is_empty() {
        return Err(format!(
            "no sharing factor: every sharing_factor_* value is null or missing (a sharing factor \
             needs a feasible dedicated and pooled placement at the same point; see the reason \
             column); needs {need}"
        ));
    }
    let dc = f.num("sweep_users_duty_cycle");
    let pooled = rows_of_kind(f, "pooled");
    if pooled.is_empty() {
        return Err(format!("no pooled rows (kind = \"pooled\"); needs {need}"));
    }
    let g = group_rows(f, &pooled, Some("sweep_users_duty_cycle"));
    let many = g.groups.len() > 1;
    // The headline series: the largest pool (several pool sizes), else the first.
    let pool = f.num("pool_users");
    let head = (0..g.groups.len())
        .max_by(|&a, &b| {
            let k = |i: usize| {
                g.groups[i]
                    .2
                    .iter()
                    .filter_map(|&r| pool[r])
                    .fold(0.0, f64::max)
            };
            k(a).total_cmp(&k(b)).then(b.cmp(&a))
        })
        .unwrap_or(0);
    let mut items = Vec::new();
    let mut legend = Vec::new();
    let mut omitted = BTreeSet::new();
    let mut plotted_x = Vec::new();
    // Per metric (headline series only): measured ÷ naive at each duty cycle.
    let mut versus: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for (gi, (label, _, rows)) in g.groups.iter().enumerate() {
        for (col, name, color, marker) in &metrics {
            let v = f.num(col);
            let mut pts: Vec<(f64, f64)> = Vec::new();
            for &r in rows {
                let Some(x) = dc[r].filter(|x| *x > 0.0) else {
                    continue;
                };
                match v[r].filter(|y| *y > 0.0) {
                    Some(y) => pts.push((x, y)),
                    None => {
                        omitted.insert((x * 1e9).round() as i64);
                    }
                }
            }
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            if pts.is_empty() {
                continue;
            }
            if gi == head {
                versus.push((
                    name.to_string(),
                    pts.iter().map(|(x, y)| (*x, x * y)).collect(),
                ));
            }
            plotted_x.extend(pts.iter().map(|p| p.0));
            let style = match (many, metrics.len()) {
                (true, 1) => series_style(gi),
                (true, _) => Style::marked(PALETTE[gi % PALETTE.len()], *marker),
                (false, _) => Style::marked(*color, *marker),
            };
            legend.push((
                if many {
                    format!("{label}: {name}")
                } else {
                    format!("{name} ({label})")
                },
                style,
            ));
            items.push(Item::Series {
                pts: pts.iter().map(|&(x, y)| (x * 100.0, y)).collect(),
                style,
                dodge: 0.0,
            });
        }
    }
    if items.is_empty() {
        return Err(format!(
            "no pooled row has a sharing factor (the dedicated or the pooled placement misses \
             the service level at every duty cycle; see the reason column); needs {need}"
        ));
    }
    // Points plotted for some metric are not "omitted".
    for x in &plotted_x {
        omitted.remove(&((x * 1e9).round() as i64));
    }
    let mut xs = plotted_x.clone();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let naive_style = Style::line(INK).dashed().width(2);
    let (x0, x1) = (xs[0], xs[xs.len() - 1]);
    let naive: Vec<(f64, f64)> = (0..=40)
        .map(|i| {
            let x = x0 * (x1 / x0).powf(f64::from(i) / 40.0);
            (x * 100.0, 1.0 / x)
        })
        .collect();
    items.push(Item::Series {
        pts: naive,
        style: naive_style,
        dodge: 0.0,
    });
    legend.push(("naive estimate: 1 / duty cycle".into(), naive_style));

    let mut title = sharing_title(&versus);
    if many {
        title.push_str(&format!(" ({})", g.groups[head].0));
    }
    let dedicated: Vec<String> = group_rows(
        f,
        &rows_of_kind(f, "dedicated"),
        Some("sweep_users_duty_cycle"),
    )
    .groups
    .iter()
    .map(|g| g.0.clone())
    .collect();
    let ranges: Vec<String> = versus
        .iter()
        .map(|(name, r)| {
            let lo = r.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            let hi = r.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
            format!("{name} {}", span_text(&ratio(lo), &ratio(hi)))
        })
        .collect();
    let mut sub = vec![format!(
        "{}sharing factor = hardware per user with one device per user{} ÷ hardware per user in the pool; higher means pooling saves more. Dashed: the back-of-envelope 1 / duty cycle. Measured ÷ naive{}: {}.",
        scenario_prefix(f),
        if dedicated.is_empty() { String::new() } else { format!(" ({})", list(&dedicated)) },
        if many { format!(" ({})", g.groups[head].0) } else { String::new() },
        ranges.join(", ")
    )];
    // Where one pooled server already serves every user, the sharing factor
    // cannot grow further: say so, or the flat stretch looks like a finding.
    let per_pool = f.num("servers_per_pool");
    let floor: Vec<f64> = g
        .groups
        .get(head)
        .map(|gr| {
            gr.2.iter()
                .filter(|&&r| per_pool[r] == Some(1.0))
                .filter_map(|&r| dc[r])
                .collect()
        })
        .unwrap_or_default();
    if floor.len() >= 2 {
        let top = floor.iter().copied().fold(0.0, f64::max);
        sub.push(format!(
            "Up to a duty cycle of {} %, one server of {} serves every user of its pool: the pool cannot shrink further, so the sharing factor stays flat there.",
            fmt_tick(top * 100.0),
            g.groups[head].0
        ));
    }
    if !omitted.is_empty() {
        let o: Vec<String> = omitted
            .iter()
            .map(|x| format!("{} %", fmt_tick(*x as f64 / 1e9 * 100.0)))
            .collect();
        sub.push(format!(
            "Not shown: duty cycle {} (a placement misses the service level there, so there is no sharing factor).",
            list(&o)
        ));
    }
    Ok(Figure {
        title,
        subtitle: sub,
        legend,
        panels: vec![Panel {
            title: "Sharing factor vs duty cycle".into(),
            x: AxisSpec::new(
                "duty cycle: share of the day one user keeps a device busy (%)",
                Scale::Log,
            )
            .suffix(" %"),
            y: AxisSpec::new("sharing factor (dedicated ÷ pooled, ×)", Scale::Log).suffix("×"),
            items,
        }],
        layout: Layout::Cols,
    })
}

/// The point of the sharing-factor chart: for each metric, does the
/// measured sharing factor beat the naive 1 / duty cycle (measured x duty
/// cycle > 1), fall short, or cross it (and where)?
fn sharing_title(versus: &[(String, Vec<(f64, f64)>)]) -> String {
    let (mut above, mut below, mut near, mut mixed) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (name, r) in versus {
        let lo = r.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = r.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        if lo >= 0.8 && hi <= 1.25 {
            near.push(name.clone());
        } else if lo > 1.0 {
            above.push(name.clone());
        } else if hi < 1.0 {
            below.push(name.clone());
        } else {
            // Where the ratio crosses 1 (log-linear interpolation).
            let cross = r.windows(2).find_map(|w| {
                let (a, b) = (w[0].1.ln(), w[1].1.ln());
                (a.signum() != b.signum()).then(|| {
                    let s = a / (a - b);
                    let x = (w[0].0.ln() + (w[1].0.ln() - w[0].0.ln()) * s).exp();
                    (x, b > a)
                })
            });
            mixed.push(match cross {
                Some((x, rising)) => format!(
                    "{name} only {} a duty cycle of ~{} %",
                    if rising { "above" } else { "below" },
                    sig(x * 100.0, 2)
                ),
                None => format!("{name} only at some duty cycles"),
            });
        }
    }
    let mut parts = Vec::new();
    if !above.is_empty() {
        parts.push(format!(
            "Pooling beats the 1 / duty-cycle estimate on {}",
            list(&above)
        ));
    }
    if !mixed.is_empty() {
        if parts.is_empty() {
            parts.push(format!(
                "Pooling beats the 1 / duty-cycle estimate on {}",
                list(&mixed)
            ));
        } else {
            parts.push(format!("on {}", list(&mixed)));
        }
    }
    if !below.is_empty() {
        parts.push(format!("falls short of it on {}", list(&below)));
    }
    if !near.is_empty() {
        parts.push(format!(
            "1 / duty cycle holds within 25 % for {}",
            list(&near)
        ));
    }
    if above.is_empty() && mixed.is_empty() && !below.is_empty() {
        parts[0] = format!(
            "Pooling saves less than 1 / duty cycle predicts on {}",
            list(&below)
        );
    }
    let mut t = parts.join("; ");
    if let Some(first) = t.get(..1) {
        t = first.to_uppercase() + &t[1..];
    }
    t
}

/// Where the hardware of a row comes from: sized (a `size` answer) or as
/// configured (a run-mode sweep).
fn hardware_source(f: &Frame) -> &'static str {
    if f.has("feasible") {
        "least hardware meeting the service level (sized by sharesim size)"
    } else {
        "hardware as configured in the scenario (a run-mode sweep: not sized)"
    }
}

/// Error bars from `<col>_ci95` (95 % half-widths) for `rows`, when the
/// column exists and holds a positive value.
fn ci_bars(
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

/// A series: its label, its placement's kind and its points.
type Labelled = (String, String, Vec<(f64, f64)>);

/// Points (x, y) of `rows` for numeric columns, sorted by x; rows with a
/// missing or non-positive value (when `positive`) skipped.
fn points(x: &[Option<f64>], y: &[Option<f64>], rows: &[usize], positive: bool) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|&r| Some((x[r]?, y[r]?)))
        .filter(|(a, b)| !positive || (*a > 0.0 && *b > 0.0))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

fn infeasible_note(f: &Frame, x_col: &str, mul: f64, suffix: &str) -> Option<String> {
    let feasible = f.flag("feasible");
    let x = f.num(x_col);
    let placement = f.text("placement");
    let mut missed: Vec<(String, Vec<f64>)> = Vec::new();
    for r in 0..f.rows() {
        if feasible[r] == Some(false) {
            let p = placement[r].clone().unwrap_or_default();
            let Some(v) = x[r] else { continue };
            match missed.iter_mut().find(|m| m.0 == p) {
                Some(m) => m.1.push(v),
                None => missed.push((p, vec![v])),
            }
        }
    }
    if missed.is_empty() {
        return None;
    }
    let parts: Vec<String> = missed
        .iter()
        .map(|(p, xs)| {
            let v: Vec<String> = xs
                .iter()
                .map(|x| format!("{}{suffix}", fmt_tick(x * mul)))
                .collect();
            format!("{p} at {}", list(&v))
        })
        .collect();
    Some(format!(
        "Not shown: {} (cannot meet the service level there).",
        list(&parts)
    ))
}

fn build_hardware(f: &Frame) -> Result<Figure, String> {
    let need = Chart::HardwareVsUsers.needs();
    let xcol = "sweep_users_count";
    if !f.has(xcol) {
        return Err(format!("no {xcol} column; needs {need}"));
    }
    let x = f.num(xcol);
    let all: Vec<usize> = (0..f.rows()).collect();
    let g = group_rows(f, &all, Some(xcol));
    let dev_col = f.pick(&["devices_total", "devices"]);
    let metrics = [
        (dev_col, "Devices for all users", "devices (all users)", ""),
        (
            "mem_gb_total",
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
            let pts = points(&x, &y, rows, true);
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
            items.extend(ci_bars(f, &x, col, rows, 1.0, style.color));
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
    if panels.is_empty() {
        return Err(format!(
            "no row has devices_total or mem_gb_total (every point infeasible?); needs {need}"
        ));
    }
    // Headline: at the largest user count where a dedicated and a pooled
    // series both have hardware.
    let devices = f.num(dev_col);
    let mem = f.num("mem_gb_total");
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
    let mut sub = vec![format!(
        "{}{} at each user count; dashed: one device per user, solid: pooled.",
        scenario_prefix(f),
        hardware_source(f)
    )];
    let per_pool = f.num("servers_per_pool");
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
    sub.extend(infeasible_note(f, xcol, 1.0, " users"));
    Ok(Figure {
        title,
        subtitle: sub,
        legend,
        panels,
        layout: Layout::Cols,
    })
}

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
    let kinds = f.text("kind");
    let pooled_full = (0..f.rows())
        .any(|r| full[r] && matches!(kinds[r].as_deref(), Some("pooled") | Some("hybrid")));
    pooled_full.then_some(full)
}

fn build_pool_size(f: &Frame) -> Result<Figure, String> {
    let need = Chart::PoolSizeCurve.needs();
    if !f.has("pool_users") {
        return Err(format!("no pool_users column; needs {need}"));
    }
    // Users per pool counting every class (pool_size) when the file has it.
    let xcol = if f.has("pool_size") {
        "pool_size"
    } else {
        "pool_users"
    };
    let k = f.num(xcol);
    let full = rows_covering_all_classes(f);
    let keep = |r: &usize| full.as_ref().is_none_or(|v| v[*r]);
    let mut pooled = rows_of_kind(f, "pooled");
    pooled.extend(rows_of_kind(f, "hybrid"));
    pooled.sort_unstable();
    pooled.retain(keep);
    let g = group_rows(f, &pooled, Some(xcol));
    let enough: Vec<&(String, String, Vec<usize>)> = g
        .groups
        .iter()
        .filter(|gr| distinct(&gr.2.iter().map(|&r| k[r]).collect::<Vec<_>>()).len() >= 2)
        .collect();
    if enough.is_empty() {
        return Err(format!(
            "no pooled placement has two or more pool sizes (pool_users); needs {need}"
        ));
    }
    let mut metrics: Vec<(&str, &str, &str)> = vec![
        (
            "mem_gb_per_user",
            "Memory per user",
            "device memory per user (GB)",
        ),
        (
            "capex_usd_per_user",
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
        metrics.push(("devices_per_user", "Devices per user", "devices per user"));
    }
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
    let ticks = (ks.len() <= 10).then(|| {
        ks.iter()
            .map(|&v| (v, pool_label(v, kmax)))
            .collect::<Vec<_>>()
    });
    let mut dedicated = rows_of_kind(f, "dedicated");
    dedicated.retain(keep);
    let dedicated = if f.has("kind") { dedicated } else { Vec::new() };
    let dg = group_rows(f, &dedicated, Some(xcol));
    let mut panels = Vec::new();
    let mut legend: Vec<(String, Style)> = Vec::new();
    let mut ded_missing: Vec<String> = Vec::new();
    let mut beats: Vec<String> = Vec::new();
    let mut headline = None;
    for (col, title, desc) in &metrics {
        let y = f.num(col);
        let mut items = Vec::new();
        for (gi, gr) in enough.iter().enumerate() {
            let pts = points(&k, &y, &gr.2, true);
            if pts.is_empty() {
                continue;
            }
            if headline.is_none() {
                headline = Some((col.to_string(), gr.0.clone(), pts.clone()));
            }
            let style = series_style(gi);
            let name = with_kind(&gr.0, &gr.1);
            if !legend.iter().any(|l| l.0 == name) {
                legend.push((name, style));
            }
            items.extend(ci_bars(f, &k, col, &gr.2, 1.0, style.color));
            items.push(Item::Series {
                pts,
                style,
                dodge: 0.0,
            });
        }
        if items.is_empty() {
            continue;
        }
        // One dashed line per distinct dedicated value (sweep points often share it).
        let mut refs: Vec<(f64, Vec<String>)> = Vec::new();
        for (label, _, rows) in &dg.groups {
            match rows.iter().find_map(|&r| y[r].filter(|v| *v > 0.0)) {
                Some(v) => match refs.iter_mut().find(|r| (r.0 - v).abs() <= 1e-9 * v) {
                    Some(r) => r.1.push(label.clone()),
                    None => refs.push((v, vec![label.clone()])),
                },
                None => {
                    if !ded_missing.contains(label) {
                        ded_missing.push(label.clone());
                    }
                }
            }
        }
        // From which pool size does the (first) pool beat one device per user?
        if let (Some((v, _)), Some(gr)) = (refs.first(), enough.first()) {
            let pts = points(&k, &y, &gr.2, true);
            let what = title.to_lowercase();
            match pts.iter().find(|p| p.1 < *v) {
                Some(p) => beats.push(format!("{what} from a pool of {}", human(p.0))),
                None => beats.push(format!("{what} at no pool size shown")),
            }
        }
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
            let who = if refs.len() == 1 && dg.groups.len() > 1 {
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
        let mut xspec = AxisSpec::new("users per pool k", Scale::Log);
        xspec.ticks = ticks.clone();
        panels.push(Panel {
            title: title.to_string(),
            x: xspec,
            y: AxisSpec::new(*desc, Scale::Log),
            items,
        });
    }
    if panels.is_empty() {
        return Err(format!(
            "the pooled rows have no mem_gb_per_user, capex_usd_per_user or devices_per_user (infeasible at every pool size?); needs {need}"
        ));
    }
    let mut title = "Bigger pools need less hardware per user".to_string();
    if let Some((col, label, pts)) = &headline {
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
        title =
            format!(
            "Sharing {place} among more users cuts {} from {} (pool of {}) to {} (pool of {}){}",
            what.0,
            what.1,
            human(k0),
            what.2,
            human(k1),
            if rest.is_empty() { String::new() } else { format!(" at {rest}") }
        );
    }
    let mut sub = vec![format!(
        "{}least pooled hardware meeting the service level, per user, vs the users sharing one pool (k); dashed: one device per user.",
        scenario_prefix(f)
    )];
    if !beats.is_empty() {
        let who = enough
            .first()
            .map(|g| g.0.split(", ").next().unwrap_or_default().to_string())
            .unwrap_or_default();
        sub.push(format!(
            "{who} needs less hardware per user than one device per user: {}.",
            list(&beats)
        ));
    }
    if !ded_missing.is_empty() {
        sub.push(format!(
            "No one-device-per-user line for {}: one device per user cannot meet the service level there.",
            list(&ded_missing)
        ));
    }
    Ok(Figure {
        title,
        subtitle: sub,
        legend,
        panels,
        layout: Layout::Rows,
    })
}

fn build_cost(f: &Frame) -> Result<Figure, String> {
    let need = Chart::CostVsMemoryPrice.needs();
    let xcol = "sweep_costs_memory_price_multiplier";
    if !f.has(xcol) {
        return Err(format!("no {xcol} column; needs {need}"));
    }
    let x = f.num(xcol);
    let capex_col = f.pick(&["capex_usd_total", "capex_usd"]);
    let y = f.num(capex_col);
    let all: Vec<usize> = (0..f.rows()).collect();
    let g = group_rows(f, &all, Some(xcol));
    let mut items = Vec::new();
    let mut legend = Vec::new();
    let mut series: Vec<Labelled> = Vec::new();
    for (gi, (label, kind, rows)) in g.groups.iter().enumerate() {
        let pts = points(&x, &y, rows, true);
        if pts.is_empty() {
            continue;
        }
        let mut style = series_style(gi);
        if kind == "dedicated" {
            style = style.dashed();
        }
        legend.push((with_kind(label, kind), style));
        items.extend(ci_bars(f, &x, capex_col, rows, 1.0, style.color));
        items.push(Item::Series {
            pts: pts.clone(),
            style,
            dodge: 0.0,
        });
        series.push((label.clone(), kind.clone(), pts));
    }
    if series.is_empty() {
        return Err(format!("no row has {capex_col} (every point infeasible, or a generic scenario without prices?); needs {need}"));
    }
    // Crossings between every pair of series with different kinds (or any
    // pair when kinds are unknown).
    let mut crossings = Vec::new();
    for i in 0..series.len() {
        for j in i + 1..series.len() {
            let (a, b) = (&series[i], &series[j]);
            if a.1 == b.1 && !a.1.is_empty() {
                continue;
            }
            let common: Vec<(f64, f64, f64)> = a
                .2
                .iter()
                .filter_map(|&(xa, ya)| b.2.iter().find(|p| p.0 == xa).map(|&(_, yb)| (xa, ya, yb)))
                .collect();
            for w in common.windows(2) {
                let (x0, a0, b0) = w[0];
                let (x1, a1, b1) = w[1];
                let (d0, d1) = (a0 - b0, a1 - b1);
                if d0 == 0.0 || d0.signum() != d1.signum() && d1 != 0.0 {
                    let s = if d0 == d1 { 0.0 } else { d0 / (d0 - d1) };
                    let xc = x0 + (x1 - x0) * s;
                    let yc = a0 + (a1 - a0) * s;
                    // After the crossing, which one is cheaper?
                    let cheaper_after = if d1 < 0.0 { &a.0 } else { &b.0 };
                    crossings.push((xc, yc, cheaper_after.clone(), a.0.clone(), b.0.clone()));
                }
            }
        }
    }
    for (xc, yc, _, _, _) in &crossings {
        items.push(Item::Note {
            at: (*xc, *yc),
            text: format!("curves cross at ×{}: {}", sig(*xc, 3), usd(*yc)),
            color: INK,
        });
    }
    if !crossings.is_empty() {
        legend.push((
            "where the curves cross".into(),
            Style {
                line: false,
                ..Style::marked(INK, Marker::Diamond)
            },
        ));
    }
    let xs = distinct(&x);
    let (xa, xb) = (
        xs.first().copied().unwrap_or(1.0),
        xs.last().copied().unwrap_or(1.0),
    );
    let title = if let Some((xc, _, cheaper, _, _)) = crossings.first() {
        format!(
            "Above ×{} memory price, {cheaper} becomes the cheaper way to serve everyone",
            sig(*xc, 2)
        )
    } else if series.len() >= 2 {
        let ded = series.iter().find(|s| s.1 == "dedicated");
        let pool = series.iter().find(|s| s.1 == "pooled");
        match (ded, pool) {
            (Some(d), Some(p)) => {
                let rs: Vec<f64> =
                    d.2.iter()
                        .filter_map(|&(xd, yd)| p.2.iter().find(|q| q.0 == xd).map(|q| yd / q.1))
                        .collect();
                let lo = rs.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = rs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if rs.is_empty() {
                    "Capital cost vs memory price: dedicated vs pooled".to_string()
                } else if lo > 1.0 {
                    format!(
                        "{} stays {}–{} cheaper than one device per user at every memory price from ×{} to ×{}",
                        p.0,
                        ratio(lo),
                        ratio(hi),
                        sig(xa, 3),
                        sig(xb, 3)
                    )
                } else if hi < 1.0 {
                    format!(
                        "One device per user ({}) stays cheaper than {} at every memory price from ×{} to ×{}",
                        d.0,
                        p.0,
                        sig(xa, 3),
                        sig(xb, 3)
                    )
                } else {
                    "Capital cost vs memory price: dedicated vs pooled".to_string()
                }
            }
            _ => "Capital cost vs memory price".to_string(),
        }
    } else {
        format!("Capital cost of {} vs memory price", series[0].0)
    };
    let growth: Vec<String> = series
        .iter()
        .filter(|s| s.2.len() >= 2)
        .map(|s| format!("{} ×{}", s.0, sig(s.2[s.2.len() - 1].1 / s.2[0].1, 3)))
        .collect();
    let mut sub = vec![format!(
        "{}purchase cost of the {}; the memory share of each device's price is scaled by the multiplier.",
        scenario_prefix(f),
        hardware_source(f)
    )];
    if !growth.is_empty() {
        sub.push(format!(
            "From ×{} to ×{} memory price, capital cost grows: {}.{}",
            sig(xa, 3),
            sig(xb, 3),
            growth.join(", "),
            if crossings.is_empty() {
                " The curves do not cross in this range."
            } else {
                ""
            }
        ));
    }
    sub.extend(infeasible_note(f, xcol, 1.0, "×"));
    Ok(Figure {
        title,
        subtitle: sub,
        legend,
        panels: vec![Panel {
            title: "Capital cost of serving every user".into(),
            x: AxisSpec::new(
                "memory price multiplier (× today's memory price)",
                Scale::Auto,
            )
            .suffix("×"),
            y: AxisSpec::new("capital cost, all users (USD)", Scale::Auto).zero(),
            items,
        }],
        layout: Layout::Cols,
    })
}

/// Latency p99 columns of LLM and generic scenarios, with their names.
const LATENCY_PAIRS: [[(&str, &str, &str); 2]; 2] = [
    [
        ("ttft_p99_s", "time to first token", "TTFT"),
        ("tpot_p99_s", "time per output token", "TPOT"),
    ],
    [
        ("wait_p99_s", "waiting time", "wait"),
        ("response_p99_s", "response time", "response time"),
    ],
];

fn build_p99(f: &Frame) -> Result<Figure, String> {
    let need = Chart::P99LatencyVsAxis.needs();
    let Some(xcol) = first_axis(f) else {
        return Err(format!("no numeric sweep_<axis> column; needs {need}"));
    };
    let (xdesc, mul, suffix, short) = axis_info(&xcol);
    let pair = if f.has_num("ttft_p99_s") {
        LATENCY_PAIRS[0]
    } else {
        LATENCY_PAIRS[1]
    };
    let metrics: Vec<(&str, &str, &str)> = pair.into_iter().filter(|m| f.has_num(m.0)).collect();
    if metrics.is_empty() {
        return Err(format!(
            "no p99 latency values (ttft_p99_s, tpot_p99_s, wait_p99_s, response_p99_s all null or missing); needs {need}"
        ));
    }
    let x = f.num(&xcol);
    let all: Vec<usize> = (0..f.rows()).collect();
    let g = group_rows(f, &all, Some(&xcol));
    let mut panels = Vec::new();
    let mut legend: Vec<(String, Style)> = Vec::new();
    let mut any_bars = false;
    let mut any_slo = false;
    let mut summary = Vec::new();
    let mut verdicts = Vec::new();
    for (col, name, abbr) in &metrics {
        let y = f.num(col);
        let ci = f.num(&format!("{col}_ci95"));
        let has_ci = ci.iter().any(|c| c.is_some_and(|c| c > 0.0));
        let bound = slo_bound(f, col);
        let mut items = Vec::new();
        let mut ranges = Vec::new();
        let (mut all_lo, mut all_hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (gi, (label, kind, rows)) in g.groups.iter().enumerate() {
            let pts: Vec<(f64, f64)> = points(&x, &y, rows, false)
                .into_iter()
                .map(|(a, b)| (a * mul, b))
                .collect();
            if pts.is_empty() {
                continue;
            }
            let style = series_style(gi);
            // Shift series apart when their error bars would overlap.
            let n = g.groups.len() as f64;
            let dodge = if n > 1.0 && has_ci {
                (gi as f64 - (n - 1.0) / 2.0) * (0.07 / (n - 1.0)).min(0.014)
            } else {
                0.0
            };
            let mut bars = Vec::new();
            for &r in rows {
                if let (Some(xv), Some(yv), Some(c)) = (x[r], y[r], ci[r]) {
                    if c > 0.0 {
                        bars.push((xv * mul, yv - c, yv + c));
                    }
                }
            }
            if !bars.is_empty() {
                any_bars = true;
                items.push(Item::Bars {
                    bars,
                    color: style.color,
                    dodge,
                });
            }
            let lo = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            let hi = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
            all_lo = all_lo.min(lo);
            all_hi = all_hi.max(hi);
            let place = label.clone();
            ranges.push(format!("{place} {} s", span_text(&sig(lo, 2), &sig(hi, 2))));
            if let Some(b) = bound {
                let over: Vec<f64> = pts.iter().filter(|p| p.1 > b).map(|p| p.0).collect();
                if !over.is_empty() {
                    let at = list(&over.iter().map(|v| fmt_tick(*v)).collect::<Vec<_>>());
                    let at = if short == "users" {
                        format!("{at} users")
                    } else {
                        format!("{short} {at}{suffix}")
                    };
                    verdicts.push(format!(
                        "{place} exceeds the p99 {abbr} service level at {at}"
                    ));
                }
            }
            let lname = with_kind(label, kind);
            if !legend.iter().any(|l| l.0 == lname) {
                legend.push((lname, style));
            }
            items.push(Item::Series { pts, style, dodge });
        }
        if items.is_empty() {
            continue;
        }
        if let Some(b) = bound {
            any_slo = true;
            items.push(Item::HRule {
                y: b,
                style: Style::line(VERMILLION).dashed().width(2),
                text: Some(format!("service level: p99 ≤ {} s", sig(b, 3))),
            });
        }
        if ranges.len() <= 3 {
            summary.push(format!("p99 {name}: {}", ranges.join(", ")));
        } else {
            summary.push(format!(
                "p99 {name}: {} s across the {} series",
                span_text(&sig(all_lo, 2), &sig(all_hi, 2)),
                ranges.len()
            ));
        }
        panels.push(Panel {
            title: format!("p99 {name}"),
            x: AxisSpec::new(xdesc.clone(), Scale::Auto).suffix(suffix),
            y: AxisSpec::new(format!("p99 {name} (s)"), Scale::Auto),
            items,
        });
    }
    if panels.is_empty() {
        return Err(format!(
            "no row has both {xcol} and a p99 latency; needs {need}"
        ));
    }
    if any_bars {
        legend.push((
            "95 % confidence interval (replications)".into(),
            Style {
                line: false,
                bar: true,
                ..Style::line(GREY)
            },
        ));
    }
    if any_slo {
        legend.push((
            "service-level bound".into(),
            Style::line(VERMILLION).dashed().width(2),
        ));
    }
    let names: Vec<&str> = metrics.iter().map(|m| m.2).collect();
    let title = if !verdicts.is_empty() {
        verdicts[0].clone()
    } else if any_slo {
        format!(
            "Every placement meets the p99 {} service level across the sweep of {short}",
            names.join(" and ")
        )
    } else {
        format!("p99 {} vs {short}", names.join(" and "))
    };
    let mut sub =
        vec![format!(
        "{}p99 latency at each sweep point{}; bars: 95 % confidence interval over replications.",
        scenario_prefix(f),
        if f.has("feasible") { " (at the least hardware meeting the service level)" } else { "" }
    )];
    sub.push(format!("{}.", summary.join("; ")));
    sub.extend(infeasible_note(f, &xcol, mul, suffix));
    Ok(Figure {
        title,
        subtitle: sub,
        legend,
        panels,
        layout: Layout::Cols,
    })
}

fn build_cdf(f: &Frame) -> Result<Figure, String> {
    let need = Chart::LatencyCdf.needs();
    for c in ["latency", "quantile", "value_s"] {
        if !f.has(c) {
            return Err(format!("no {c} column; needs {need}"));
        }
    }
    let lat = f.text("latency");
    let q = f.num("quantile");
    let v = f.num("value_s");
    let pmax = f.num("slo_max_s");
    let ppct = f.num("slo_percentile");
    let present: BTreeSet<String> = lat.iter().flatten().cloned().collect();
    let llm = present.contains("ttft") || present.contains("e2e");
    let mut wanted: Vec<(&str, &str)> = if llm {
        vec![
            ("ttft", "time to first token, TTFT"),
            ("e2e", "end-to-end latency, E2E"),
        ]
    } else {
        vec![("wait", "waiting time")]
    };
    // Generic placements (e.g. speech classes beside a chat model) too.
    if !llm || present.contains("response") {
        wanted.push(("response", "response time"));
    }
    let all: Vec<usize> = (0..f.rows()).collect();
    let g = group_rows(f, &all, None);
    let mut panels = Vec::new();
    let mut legend: Vec<(String, Style)> = Vec::new();
    let mut verdict = Vec::new();
    let mut any_zero = false;
    for &(name, long) in &wanted {
        let mut items = Vec::new();
        let mut slo: Option<(f64, f64)> = None;
        let mut at_slo = Vec::new();
        for (gi, (label, kind, rows)) in g.groups.iter().enumerate() {
            let mine: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&r| lat[r].as_deref() == Some(name))
                .collect();
            let mut pts: Vec<(f64, f64)> = mine
                .iter()
                .filter_map(|&r| Some((v[r]?, q[r]?)))
                .filter(|p| p.0 >= 0.0 && (0.0..1.0).contains(&p.1))
                .collect();
            pts.sort_by(|a, b| a.1.total_cmp(&b.1));
            any_zero |= pts.iter().any(|p| p.0 <= 0.0);
            if pts.iter().all(|p| p.0 <= 0.0) {
                continue;
            }
            for &r in &mine {
                if let (Some(m), Some(p)) = (pmax[r], ppct[r]) {
                    slo = Some((m, p));
                }
            }
            if let Some((m, p)) = slo {
                let target = p / 100.0;
                if let Some(val) = mine
                    .iter()
                    .filter_map(|&r| Some((q[r]?, v[r]?)))
                    .find(|(qq, _)| (qq - target).abs() < 1e-9)
                    .map(|x| x.1)
                {
                    at_slo.push((label.clone(), val, val <= m));
                }
            }
            let style = Style::line(PALETTE[gi % PALETTE.len()]);
            let style = if kind == "dedicated" {
                style.dashed()
            } else {
                style
            };
            let lname = with_kind(label, kind);
            if !legend.iter().any(|l| l.0 == lname) {
                legend.push((lname, style));
            }
            items.push(Item::Series {
                pts,
                style,
                dodge: 0.0,
            });
        }
        if items.is_empty() {
            continue;
        }
        if let Some((m, p)) = slo {
            items.push(Item::VRule {
                x: m,
                style: Style::line(VERMILLION).dashed().width(2),
                text: Some(format!("service level: p{} ≤ {} s", sig(p, 3), sig(m, 3))),
            });
            items.push(Item::HRule {
                y: p / 100.0,
                style: Style::line(GREY).dotted().width(2),
                text: None,
            });
            if verdict.is_empty() && !at_slo.is_empty() {
                let met: Vec<String> = at_slo
                    .iter()
                    .filter(|a| a.2)
                    .map(|a| format!("{} ({} s)", a.0, sig(a.1, 2)))
                    .collect();
                let missed: Vec<String> = at_slo
                    .iter()
                    .filter(|a| !a.2)
                    .map(|a| format!("{} ({} s)", a.0, sig(a.1, 2)))
                    .collect();
                let short = match name {
                    "ttft" => "TTFT",
                    "e2e" => "E2E",
                    "response" => "response time",
                    other => other,
                };
                let bound = format!("p{} {short} ≤ {} s", sig(p, 3), sig(m, 3));
                verdict.push(match (met.is_empty(), missed.is_empty()) {
                    (false, false) => format!(
                        "{} meets the {bound} service level; {} misses it",
                        list(&met),
                        list(&missed)
                    ),
                    (false, true) => format!(
                        "Every placement meets the {bound} service level: {}",
                        list(&met)
                    ),
                    (true, false) => format!(
                        "Every placement misses the {bound} service level: {}",
                        list(&missed)
                    ),
                    (true, true) => String::new(),
                });
            }
        }
        let mut xspec = AxisSpec::new(format!("{long} (s)"), Scale::Log);
        xspec.clamp = true;
        panels.push(Panel {
            title: format!("Distribution of {long}"),
            x: xspec,
            y: AxisSpec::new(
                "requests at or below x (percentile, tail stretched)",
                Scale::Nines,
            ),
            items,
        });
    }
    if panels.is_empty() {
        return Err(format!(
            "no {} / {} rows with positive latencies; needs {need}",
            wanted[0].0, wanted[1].0
        ));
    }
    if panels
        .iter()
        .any(|p| p.items.iter().any(|i| matches!(i, Item::VRule { .. })))
    {
        legend.push((
            "service-level bound".into(),
            Style::line(VERMILLION).dashed().width(2),
        ));
        legend.push((
            "the percentile the service level bounds".into(),
            Style::line(GREY).dotted().width(2),
        ));
    }
    let title = verdict
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| format!("Latency distributions: {} and {}", wanted[0].0, wanted[1].0));
    let sub = vec![format!(
        "{}share of measured requests (all replications) finishing within x seconds; the vertical axis stretches the tail (50 %, 90 %, 99 %, 99.9 %) and x is log scale.{}",
        scenario_prefix(f),
        if any_zero { " Zero latencies (no wait) sit on the left edge." } else { "" }
    )];
    Ok(Figure {
        title,
        subtitle: sub,
        legend,
        panels,
        layout: Layout::Cols,
    })
}

fn build_load(f: &Frame) -> Result<Figure, String> {
    let need = Chart::LoadOverTheDay.needs();
    let hour: Vec<Option<f64>> = if f.has_num("hour_of_day") {
        f.num("hour_of_day")
    } else {
        f.num("minute_of_day")
            .into_iter()
            .map(|m| m.map(|m| m / 60.0))
            .collect()
    };
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
    let arr = f.num("arrivals_per_min");
    let busy = f.num("busy_servers");
    let servers = f.num("servers");
    let g = group_rows(f, &pooled, Some("hour_of_day"));
    let mut arrivals: Vec<Labelled> = Vec::new();
    let mut busy_series = Vec::new();
    for (label, kind, rows) in &g.groups {
        let a = points(&hour, &arr, rows, false);
        let b = points(&hour, &busy, rows, false);
        let s = rows.iter().find_map(|&r| servers[r]);
        if !a.is_empty() {
            arrivals.push((label.clone(), kind.clone(), a));
        }
        if !b.is_empty() {
            busy_series.push((label.clone(), kind.clone(), b, s));
        }
    }
    if arrivals.is_empty() && busy_series.is_empty() {
        return Err(format!(
            "every arrivals_per_min and busy_servers value is null (nothing measured); needs {need}"
        ));
    }
    let mut legend: Vec<(String, Style)> = Vec::new();
    let mut panels = Vec::new();
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
            let style = Style::line(PALETTE[gi % PALETTE.len()]).width(2);
            legend.push((format!("{label}: arrivals per minute"), style));
            items.push(Item::Series {
                pts: pts.clone(),
                style,
                dodge: 0.0,
            });
        }
    }
    if !items.is_empty() {
        panels.push(Panel {
            title: "Demand: requests arriving per minute".into(),
            x: AxisSpec::new("time of day (UTC)", Scale::Hours),
            y: AxisSpec::new("arrivals per minute", Scale::Auto).zero(),
            items,
        });
    }
    let mut items = Vec::new();
    for (gi, (label, kind, pts, s)) in busy_series.iter().enumerate() {
        let style = Style::line(PALETTE[gi % PALETTE.len()]).width(2);
        legend.push((format!("{}: busy servers", with_kind(label, kind)), style));
        items.push(Item::Series {
            pts: pts.clone(),
            style,
            dodge: 0.0,
        });
        if let Some(s) = s {
            let rule = Style::line(PALETTE[gi % PALETTE.len()]).dashed().width(2);
            items.push(Item::HRule {
                y: *s,
                style: rule,
                text: Some(format!("{label}: fleet of {} servers", human(*s))),
            });
            legend.push((format!("{label}: fleet size"), rule));
        }
    }
    if !items.is_empty() {
        panels.push(Panel {
            title: "Supply: servers busy (mean over each minute)".into(),
            x: AxisSpec::new("time of day (UTC)", Scale::Hours),
            y: AxisSpec::new("busy servers", Scale::Linear).zero(),
            items,
        });
    }
    // Headline from hourly means.
    let hourly = |pts: &[(f64, f64)]| {
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
    };
    let measured: Vec<f64> = arrivals
        .iter()
        .flat_map(|a| a.2.iter().map(|p| p.0))
        .chain(busy_series.iter().flat_map(|b| b.2.iter().map(|p| p.0)))
        .collect();
    let span = measured.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - measured.iter().copied().fold(f64::INFINITY, f64::min);
    let period = if span >= 20.0 {
        "over the day"
    } else {
        "over the simulated hours"
    };
    let mut title = "Load over the day".to_string();
    let mut sub = vec![format!(
        "{}per-minute means over the measured window (and all replications); pooled placements only.",
        scenario_prefix(f)
    )];
    let mut demand = None;
    if let Some((_, _, pts)) = arrivals.first() {
        let h = hourly(pts);
        if let (Some(peak), Some(low)) = (
            h.iter().max_by(|a, b| a.1.total_cmp(&b.1)),
            h.iter().min_by(|a, b| a.1.total_cmp(&b.1)),
        ) {
            if low.1 > 0.0 && peak.1 / low.1 >= 1.2 {
                demand = Some(format!("Demand swings {} {period}", ratio(peak.1 / low.1)));
                sub.push(format!(
                    "Hourly mean arrivals: peak {}/min at {:02}:00, lowest {}/min at {:02}:00.",
                    human(peak.1),
                    peak.0,
                    human(low.1),
                    low.0
                ));
            } else {
                let mean = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
                demand = Some(format!(
                    "Steady demand of ~{} requests/min {period}",
                    human(mean)
                ));
            }
        }
    }
    let mut supply = None;
    if let Some((label, _, pts, Some(s))) = busy_series.first() {
        let h = hourly(pts);
        let peak = h.iter().map(|x| x.1).fold(0.0, f64::max);
        let low = h.iter().map(|x| x.1).fold(f64::INFINITY, f64::min);
        supply = Some(format!(
            "{label}'s {} servers run {} % busy by the hour",
            human(*s),
            span_text(&sig(low / s * 100.0, 2), &sig(peak / s * 100.0, 2))
        ));
    }
    match (demand, supply) {
        (Some(d), Some(s)) => title = format!("{d}; {s}"),
        (Some(d), None) => title = d,
        (None, Some(s)) => title = s,
        (None, None) => {}
    }
    Ok(Figure {
        title,
        subtitle: sub,
        legend,
        panels,
        layout: Layout::Rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_tick(1000.0), "1000");
        assert_eq!(fmt_tick(20000.0), "20k");
        assert_eq!(fmt_tick(2.5e6), "2.5M");
        assert_eq!(fmt_tick(0.0002), "0.0002");
        assert_eq!(human(16000.0), "16,000");
        assert_eq!(human(2.85), "2.85");
        assert_eq!(human(1.999e7), "20 million");
    }

    #[test]
    fn log_axis_ticks_cover_the_range() {
        let a = Axis::build(&AxisSpec::new("x", Scale::Log), &[1.0, 20000.0]);
        assert!(a.log);
        let labels: Vec<&str> = a.ticks.iter().map(|t| t.1.as_str()).collect();
        assert!(
            labels.contains(&"1") && labels.contains(&"10k"),
            "{labels:?}"
        );
        let b = Axis::build(&AxisSpec::new("x", Scale::Auto), &[1.0, 5.0]);
        assert!(!b.log);
    }

    #[test]
    fn zipped_sweep_axes_do_not_split_series() {
        // Two axes advancing together (a zipped sweep) are one x axis; a
        // crossed axis still splits the series.
        let zipped = polars::df!(
            "sweep_classes_0_share" => [1.0, 0.5, 0.2, 1.0, 0.5, 0.2],
            "sweep_classes_1_share" => [0.0, 0.5, 0.8, 0.0, 0.5, 0.8],
            "placement" => ["a", "a", "a", "b", "b", "b"],
            "kind" => ["pooled"; 6],
        )
        .unwrap();
        let f = Frame { df: &zipped };
        let all: Vec<usize> = (0..6).collect();
        let g = group_rows(&f, &all, Some("sweep_classes_0_share"));
        assert_eq!(g.groups.len(), 2, "{:?}", g.groups);
        let crossed = polars::df!(
            "sweep_x" => [1.0, 2.0, 1.0, 2.0],
            "sweep_y" => [5.0, 5.0, 7.0, 7.0],
            "placement" => ["a"; 4],
            "kind" => ["pooled"; 4],
        )
        .unwrap();
        let f = Frame { df: &crossed };
        let g = group_rows(&f, &[0, 1, 2, 3], Some("sweep_x"));
        assert_eq!(g.groups.len(), 2, "{:?}", g.groups);
    }

    #[test]
    fn crossing_costs_are_found_and_named() {
        let m = [1.0, 2.0, 3.0, 1.0, 2.0, 3.0];
        let capex = [110.0, 120.0, 130.0, 80.0, 110.0, 140.0];
        let df = polars::df!(
            "sweep_costs_memory_price_multiplier" => m,
            "placement" => ["desk", "desk", "desk", "pool", "pool", "pool"],
            "kind" => ["dedicated", "dedicated", "dedicated", "pooled", "pooled", "pooled"],
            "capex_usd_total" => capex,
        )
        .unwrap();
        let fig = build_cost(&Frame { df: &df }).unwrap();
        // 120 - 110 = 10 at x = 2, 130 - 140 = -10 at x = 3: they cross at 2.5.
        assert!(fig.title.contains("×2.5"), "{}", fig.title);
        assert!(fig.title.contains("desk"), "{}", fig.title);
        let notes: Vec<&Item> = fig.panels[0]
            .items
            .iter()
            .filter(|i| matches!(i, Item::Note { .. }))
            .collect();
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn sharing_titles_state_where_the_rule_breaks() {
        let above = vec![("devices".to_string(), vec![(0.001, 2.0), (0.01, 5.0)])];
        assert!(sharing_title(&above).starts_with("Pooling beats"));
        let crossing = vec![("capital cost".to_string(), vec![(0.001, 0.5), (0.01, 2.0)])];
        let t = sharing_title(&crossing);
        assert!(t.contains("only above a duty cycle of ~0.32 %"), "{t}");
        let below = vec![("memory".to_string(), vec![(0.001, 0.2), (0.01, 0.5)])];
        assert!(
            sharing_title(&below).starts_with("Pooling saves less"),
            "{}",
            sharing_title(&below)
        );
    }

    #[test]
    fn slo_bounds_parse_from_the_verdict() {
        let df =
            polars::df!("slo_detail" => ["ttft_p99_s 0.1 (<= 5) ok; tpot_p99_s 0.01 (<= 0.1) ok"])
                .unwrap();
        let f = Frame { df: &df };
        assert_eq!(slo_bound(&f, "ttft_p99_s"), Some(5.0));
        assert_eq!(slo_bound(&f, "tpot_p99_s"), Some(0.1));
        assert_eq!(slo_bound(&f, "e2e_p99_s"), None);
    }
}
