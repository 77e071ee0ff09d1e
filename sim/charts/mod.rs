//! Charts a reader understands at a glance: PNG files drawn with plotters
//! from sharesim's Parquet outputs, or from DataFrames already in memory.
//!
//! [`charts_for_file`] draws every chart a file supports; one public function
//! per chart draws it from a DataFrame ([`sharing_factor_vs_duty_cycle`],
//! [`hardware_vs_users`], [`pool_size_curve`], [`cost_vs_memory_price`],
//! [`p99_latency_vs_axis`], [`latency_cdf`], [`load_over_the_day`],
//! [`carbon_by_placement`], [`breakeven_memory_price`], [`elastic_fleet`],
//! [`decomposition_waterfall`], and the tornado chart of `sharesim uncertainty`,
//! through [`draw_chart`]).
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
//! as PNG; tests inspect the same buffer, and the words of a chart
//! ([`chart_text`]: headline, legend, axis labels).
//!
//! Headlines state the verdicts the tables print (`slo_met`, `feasible`,
//! `slo_detail`, read by `verdict`), never a recomputation; sweep keys are
//! worded by `labels` ("desktop price $1,999", never a key path); series
//! that coincide are drawn once with both names; each series has its own
//! colour and marker; rule and note labels are moved off each other.
//!
//! This file is the public face (the chart list, errors, entry points). Each
//! chart is built as a `Figure` description (`figure`) from the data in its
//! own file (`sharing`, `hardware`, `pool_size`, `cost`, `p99`, `cdf`,
//! `load`, `elastic`, `waterfall`), from columns read through a `Frame` (`data`) with
//! numbers worded by `format` and shared subtitle phrases from `notes`; the
//! description is then laid out and drawn by `paint` (titles, legend, PNG
//! writing), `panel` (one plot) and `axis` (ranges and ticks), in the palette
//! and font of `style`.

mod axis;
mod bill;
mod cdf;
mod cost;
mod data;
mod elastic;
mod figure;
mod format;
mod hardware;
mod labels;
mod load;
mod notes;
mod p99;
mod paint;
mod panel;
mod pool_size;
mod sharing;
mod style;
mod tornado;
mod verdict;
mod waterfall;

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::{DataFrame, ParquetReader, SerReader};

use crate::results::columns;
use data::{first_axis, Frame};
use figure::{ci_legend, merge_coinciding, Figure, Item};
use p99::LATENCY_PAIRS;
use paint::{render, write_figure};

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
    /// Drawing or encoding the PNG failed.
    #[error("cannot draw {}: {message}", file.display())]
    Draw {
        /// The PNG (or folder) being written.
        file: PathBuf,
        /// What failed.
        message: String,
    },
    /// Writing the PNG failed (the OS error, naming the file).
    #[error(transparent)]
    Write(crate::output::OutputError),
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
    /// `carbon-by-placement.png`.
    CarbonByPlacement,
    /// `breakeven-memory-price.png`.
    BreakevenMemoryPrice,
    /// `elastic-fleet.png`.
    ElasticFleet,
    /// `tornado.png`.
    Tornado,
    /// `decomposition-waterfall.png`.
    Waterfall,
}

impl Chart {
    /// Every chart, in the order [`charts_for_file`] tries them.
    pub const ALL: [Chart; 12] = [
        Chart::SharingFactorVsDutyCycle,
        Chart::HardwareVsUsers,
        Chart::PoolSizeCurve,
        Chart::CostVsMemoryPrice,
        Chart::P99LatencyVsAxis,
        Chart::LatencyCdf,
        Chart::LoadOverTheDay,
        Chart::CarbonByPlacement,
        Chart::BreakevenMemoryPrice,
        Chart::ElasticFleet,
        Chart::Tornado,
        Chart::Waterfall,
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
            Chart::CarbonByPlacement => "carbon-by-placement.png".into(),
            Chart::BreakevenMemoryPrice => "breakeven-memory-price.png".into(),
            Chart::ElasticFleet => "elastic-fleet.png".into(),
            Chart::Tornado => "tornado.png".into(),
            Chart::Waterfall => "decomposition-waterfall.png".into(),
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
            Chart::CarbonByPlacement => {
                "placement, carbon_operational_kg_per_user_year and \
                 carbon_embodied_kg_per_user_year (sizing.parquet of `sharesim size`, or \
                 sweep.parquet in size mode: its first point)"
            }
            Chart::BreakevenMemoryPrice => {
                "sweep_users_duty_cycle, kind, placement and breakeven_memory_price_multiplier \
                 (sweep.parquet of `sharesim sweep` in size mode with a users.duty_cycle axis, \
                 e.g. `sharesim sweep scenarios/memory-breakeven.toml`)"
            }
            Chart::ElasticFleet => {
                "hour_of_day, placement, servers_held (or servers_reactive), servers_static and \
                 request_rate_per_s (elastic.parquet of `sharesim size` with [sizing] elastic = \
                 \"hourly\" or [sizing.reactive], e.g. scenarios/elastic-region.toml)"
            }
            Chart::Tornado => {
                "figure, input, input_column, at_low, at_high, at_nominal, swing, rank and tornado \
                 (swings.parquet of `sharesim uncertainty`, e.g. \
                 `sharesim uncertainty scenarios/default-uncertainty.toml`)"
            }
            Chart::Waterfall => {
                "pooled_placement, dedicated_placement, step, step_index, factor and total_factor \
                 (waterfall.parquet of `sharesim waterfall`)"
            }
        }
    }

    /// Whether the data has this chart's identifying columns (the chart may
    /// still find no usable rows).
    fn applies(self, f: &Frame) -> bool {
        match self {
            Chart::SharingFactorVsDutyCycle => {
                f.has("sweep_users_duty_cycle")
                    && (f.has(columns::SHARING_FACTOR_DEVICES)
                        || f.has(columns::SHARING_FACTOR_MEMORY))
            }
            Chart::HardwareVsUsers => {
                f.has("sweep_users_count")
                    && [columns::DEVICES_TOTAL, columns::MEM_GB_TOTAL]
                        .iter()
                        .any(|c| f.has(c))
            }
            Chart::PoolSizeCurve => f.has(columns::POOL_USERS),
            Chart::CostVsMemoryPrice => {
                f.has("sweep_costs_memory_price_multiplier") && f.has(columns::CAPEX_USD_TOTAL)
            }
            Chart::P99LatencyVsAxis => {
                first_axis(f).is_some() && LATENCY_PAIRS.iter().flatten().any(|(c, _, _)| f.has(c))
            }
            Chart::LatencyCdf => {
                f.has("latency") && f.has(columns::VALUE_S) && f.has(columns::QUANTILE)
            }
            Chart::LoadOverTheDay => {
                f.has(columns::ARRIVALS_PER_MIN)
                    && (f.has(columns::HOUR_OF_DAY) || f.has(columns::MINUTE_OF_DAY))
            }
            Chart::CarbonByPlacement => {
                f.has("carbon_operational_kg_per_user_year")
                    && f.has("carbon_embodied_kg_per_user_year")
                    && f.has("feasible")
            }
            Chart::BreakevenMemoryPrice => {
                f.has("sweep_users_duty_cycle") && f.has("breakeven_memory_price_multiplier")
            }
            Chart::ElasticFleet => f.has("servers_held") && f.has(columns::HOUR_OF_DAY),
            Chart::Tornado => f.has("swing") && f.has("tornado"),
            Chart::Waterfall => f.has("step") && f.has("cumulative_factor"),
        }
    }

    fn build(self, f: &Frame) -> Result<Figure, String> {
        let mut fig = self.build_figure(f)?;
        let bars = fig
            .panels
            .iter()
            .any(|p| p.items.iter().any(|i| matches!(i, Item::Bars { .. })));
        if bars && !fig.legend.iter().any(|l| l.1.bar) {
            fig.legend.push(ci_legend());
        }
        merge_coinciding(&mut fig);
        Ok(fig)
    }

    fn build_figure(self, f: &Frame) -> Result<Figure, String> {
        match self {
            Chart::SharingFactorVsDutyCycle => sharing::build_sharing(f),
            Chart::HardwareVsUsers => hardware::build_hardware(f),
            Chart::PoolSizeCurve => pool_size::build_pool_size(f),
            Chart::CostVsMemoryPrice => cost::build_cost(f),
            Chart::P99LatencyVsAxis => p99::build_p99(f),
            Chart::LatencyCdf => cdf::build_cdf(f),
            Chart::LoadOverTheDay => load::build_load(f),
            Chart::CarbonByPlacement => bill::build_carbon(f),
            Chart::BreakevenMemoryPrice => bill::build_breakeven(f),
            Chart::ElasticFleet => elastic::build_elastic(f),
            Chart::Tornado => tornado::build_tornado(f),
            Chart::Waterfall => waterfall::build_waterfall(f),
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
            no_chart_reason(&df)
        } else {
            skipped.join("; ")
        };
        return Err(ChartError::NoData {
            file: parquet.to_path_buf(),
            reason,
        });
    }
    std::fs::create_dir_all(out_dir).map_err(|source| {
        ChartError::Write(crate::output::OutputError::Io {
            path: out_dir.to_path_buf(),
            action: "cannot create the chart folder",
            source,
        })
    })?;
    let mut written = Vec::new();
    for (name, fig) in figures {
        written.push(write_figure(&fig, &out_dir.join(name))?);
    }
    Ok(written)
}

/// Why a file with none of the charts' columns has no chart: its shape and
/// what each chart would need.
fn no_chart_reason(df: &DataFrame) -> String {
    let needs: Vec<String> = Chart::ALL
        .iter()
        .map(|c| format!("{} needs {}", c.file_name(df), c.needs()))
        .collect();
    let names: Vec<&str> = df.get_column_names().iter().map(|c| c.as_str()).collect();
    let shown = if names.len() > 12 {
        format!("{}, ... ({} columns)", names[..12].join(", "), names.len())
    } else {
        names.join(", ")
    };
    format!(
        "charts are drawn from sweep.parquet, sizing.parquet, latency_cdf.parquet, \
         timeline.parquet, elastic.parquet or waterfall.parquet, and this file has none of the columns they need ({} rows; \
         columns: {shown}). {}",
        df.height(),
        needs.join("; ")
    )
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

/// The words of a chart: what [`render_rgb`] would write on it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartText {
    /// The headline.
    pub title: String,
    /// The subtitle paragraphs.
    pub subtitle: Vec<String>,
    /// The legend entries, in order.
    pub legend: Vec<String>,
    /// Each panel's title and its x and y axis descriptions.
    pub axes: Vec<String>,
    /// Labels drawn beside rules and notes in the panels.
    pub notes: Vec<String>,
}

/// The words `chart` would draw from `df` (headline, legend, axis labels),
/// without drawing it; [`ChartError::NoData`] as for [`draw_chart`].
pub fn chart_text(chart: Chart, df: &DataFrame) -> Result<ChartText, ChartError> {
    let fig = chart
        .build(&Frame { df })
        .map_err(|reason| ChartError::NoData {
            file: PathBuf::from("(DataFrame)"),
            reason,
        })?;
    let notes = fig
        .panels
        .iter()
        .flat_map(|p| p.items.iter())
        .filter_map(|i| match i {
            Item::HRule { text, .. } | Item::VRule { text, .. } => text.clone(),
            Item::Note { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    Ok(ChartText {
        title: fig.title.clone(),
        subtitle: fig.subtitle.clone(),
        legend: fig.legend.iter().map(|l| l.0.clone()).collect(),
        axes: fig
            .panels
            .iter()
            .flat_map(|p| [p.title.clone(), p.x.desc.clone(), p.y.desc.clone()])
            .collect(),
        notes,
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

/// Operational and embodied carbon per user-year of every sized answer.
pub fn carbon_by_placement(df: &DataFrame, out: &Path) -> Result<PathBuf, ChartError> {
    draw_chart(Chart::CarbonByPlacement, df, out)
}

/// The memory price multiplier at which sharing and one device per user
/// cost the same, vs duty cycle.
pub fn breakeven_memory_price(df: &DataFrame, out: &Path) -> Result<PathBuf, ChartError> {
    draw_chart(Chart::BreakevenMemoryPrice, df, out)
}

/// Servers an hourly schedule holds and the load of each hour
/// (elastic.parquet).
pub fn elastic_fleet(df: &DataFrame, out: &Path) -> Result<PathBuf, ChartError> {
    draw_chart(Chart::ElasticFleet, df, out)
}

/// The devices factor of each dedicated/pooled pair built up step by step
/// (waterfall.parquet), the total last.
pub fn decomposition_waterfall(df: &DataFrame, out: &Path) -> Result<PathBuf, ChartError> {
    draw_chart(Chart::Waterfall, df, out)
}
