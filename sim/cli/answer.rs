//! The answer a command prints on standard output: which result columns it
//! shows, their human headers and units, the format (`--format table`,
//! `csv` or `json`) and, for tables, the terminal's width. Informational
//! lines (what is running, where files went) go to standard error.

use clap::{Args, ValueEnum};

use sharesim::output::terminal::{render, Column, Format, Unit};
use sharesim::results::{columns, Row};

/// How results are printed.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// An aligned table fitted to the terminal's width.
    Table,
    /// Comma-separated values with the raw column names and values.
    Csv,
    /// A JSON array of objects with the raw column names and values.
    Json,
}

/// The printing options every command that prints results takes.
#[derive(Args)]
pub struct PrintArgs {
    /// How to print the results on standard output.
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Print every column of the results (raw names, in the order the rows
    /// hold them) instead of the chosen few: for scripts, with `--format csv`
    /// or `--format json`.
    #[arg(long)]
    pub all_columns: bool,
}

impl PrintArgs {
    /// Print `rows` with the given result columns (those no row has are left out).
    pub fn print(&self, rows: &[Row], names: &[&str]) {
        let present: Vec<Column> = names
            .iter()
            .filter(|n| rows.iter().any(|r| sharesim::results::get(r, n).is_some()))
            .map(|n| column(n))
            .collect();
        print!("{}", self.render(rows, &present, terminal_width()));
    }

    /// The output format asked for.
    pub fn format(&self) -> Format {
        match self.format {
            FormatArg::Table => Format::Table,
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
        }
    }

    /// `rows` with the given printed columns, in the format asked for.
    pub fn render(&self, rows: &[Row], columns: &[Column], width: usize) -> String {
        if !self.all_columns {
            return render(rows, columns, self.format(), width);
        }
        let mut every: Vec<Column> = Vec::new();
        for (name, _) in rows.iter().flatten() {
            if !every.iter().any(|c| &c.name == name) {
                every.push(column(name));
            }
        }
        render(rows, &every, self.format(), width)
    }

    /// Whether the output is for people (informational notes may follow).
    pub fn is_table(&self) -> bool {
        self.format == FormatArg::Table
    }
}

/// The width to fit tables to: `COLUMNS` when set, else the terminal's,
/// else 100.
pub fn terminal_width() -> usize {
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w >= 20)
    {
        return w;
    }
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(w, _)| usize::from(w.0))
        .filter(|w| *w >= 20)
        .unwrap_or(100)
}

/// The header and unit of a result column: known columns by name, others by
/// the unit their name ends with (`_s`, `_usd`, `_gb`, `_share`, ...).
pub fn column(name: &str) -> Column {
    let known = |header: &str, unit| Column::new(name, header, unit);
    match name {
        columns::PLACEMENT => known("placement", Unit::Text),
        columns::KIND => known("kind", Unit::Text),
        columns::POOL_SIZE => known("pool of", Unit::Count),
        columns::SERVERS_PER_POOL => known("servers per pool", Unit::Count),
        columns::DEVICES_PER_USER => known("devices per user", Unit::Number),
        columns::DEVICES_TOTAL => known("devices", Unit::Count),
        columns::MEM_GB_PER_USER => known("memory per user", Unit::Gb),
        columns::CAPEX_USD_PER_USER => known("capex per user", Unit::Usd),
        columns::SHARING_FACTOR_MEMORY => known("memory factor", Unit::Factor),
        columns::SHARING_FACTOR_DEVICES => known("devices factor", Unit::Factor),
        columns::SHARING_FACTOR_CAPEX => known("capex factor", Unit::Factor),
        "sharing_factor_energy" => known("energy factor", Unit::Factor),
        "energy_kwh_per_user_per_day" => known("energy per user per day", Unit::Kwh),
        "feasible" => known("meets target", Unit::Flag),
        columns::SLO_MET => known("meets target", Unit::Flag),
        columns::UTILIZATION_SHARE => known("utilization", Unit::Share),
        "users_meeting_slo_share" => known("users meeting it", Unit::Share),
        "mean_batch" => known("mean batch", Unit::Number),
        "batch_fill_share" => known("batch fill", Unit::Share),
        "kv_occupancy_share" => known("KV occupancy", Unit::Share),
        "prefix_cache_hit_share" => known("prompt from cache", Unit::Share),
        "saturation_share" => known("load / saturation", Unit::Share),
        "device" => known("device", Unit::Text),
        "servers" => known("servers", Unit::Count),
        "probes" => known("probes", Unit::Count),
        // `sharesim uncertainty`.
        "figure" => known("figure", Unit::Text),
        "input" => known("input", Unit::Text),
        "p5" => known("p5", Unit::Number),
        "p50" => known("p50", Unit::Number),
        "p95" => known("p95", Unit::Number),
        "nominal" => known("nominal", Unit::Number),
        "feasible_share" => known("samples feasible", Unit::Share),
        "input_low" => known("input low", Unit::Number),
        "input_high" => known("input high", Unit::Number),
        "at_low" => known("answer at low", Unit::Number),
        "at_high" => known("answer at high", Unit::Number),
        "swing" => known("swing", Unit::Number),
        "rank" => known("rank", Unit::Count),
        "rejected" => known("rejected", Unit::Count),
        "unstable" => known("unstable", Unit::Flag),
        columns::P_WAIT_SHARE => known("waited", Unit::Share),
        // `sharesim validate`.
        "check" => known("check", Unit::Text),
        "pass" => known("pass", Unit::Flag),
        "simulated" => known("simulated", Unit::Number),
        "exact" => known("exact", Unit::Number),
        "std_err" => known("std. error", Unit::Number),
        "z" => known("z", Unit::Number),
        "z_limit" => known("z limit", Unit::Number),
        "customers" => known("customers", Unit::Count),
        columns::BENCHMARK_SETUP => known("set-up", Unit::Text),
        columns::CONCURRENCY => known("concurrency", Unit::Count),
        columns::MAKESPAN_S => known("makespan", Unit::Seconds),
        columns::OUTPUT_TOK_S_PER_GPU => known("output tok/s per GPU", Unit::Number),
        columns::TOTAL_TOK_S_PER_GPU => known("total tok/s per GPU", Unit::Number),
        columns::DECODE_TOK_S => known("decode tok/s", Unit::Number),
        columns::PREFILL_TOK_S => known("prompt tok/s", Unit::Number),
        columns::BOARD_POWER_W_PER_GPU => known("board power per GPU (W)", Unit::Number),
        columns::TPOT_MEAN_S => known("TPOT mean", Unit::Seconds),
        columns::TPOT_P50_S => known("TPOT median", Unit::Seconds),
        columns::TTFT_MEAN_S => known("TTFT mean", Unit::Seconds),
        _ => by_suffix(name),
    }
}

/// The header of a latency percentile column, saying how it was formed: a
/// summary's `ttft_p99_s` is the mean of the replications' p99s ("TTFT
/// mean p99"), its
/// `_ci95` the half-width of that mean's 95 % interval (the verdict compares
/// the interval's upper end; latency_cdf.parquet pools the replications).
fn latency_header(name: &str) -> Option<String> {
    let (stem, ci) = match name.strip_suffix("_ci95") {
        Some(s) => (s, true),
        None => (name, false),
    };
    let (metric, p) = stem.strip_suffix("_s")?.rsplit_once("_p")?;
    if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let metric = match metric {
        "ttft" | "tpot" | "e2e" => metric.to_uppercase(),
        "wait" | "response" => metric.to_string(),
        _ => return None,
    };
    // p999 is the 99.9th percentile.
    let p = if p.len() > 2 {
        format!("{}.{}", &p[..2], &p[2..])
    } else {
        p.to_string()
    };
    Some(if ci {
        format!("{metric} p{p} ±95% CI")
    } else {
        format!("{metric} mean p{p}")
    })
}

fn by_suffix(name: &str) -> Column {
    let words = |s: &str| s.trim_start_matches("sweep_").replace('_', " ");
    if let Some(h) = latency_header(name) {
        return Column::new(name, h, Unit::Seconds);
    }
    let (stem, unit) = if let Some(s) = name.strip_suffix("_ci95") {
        (
            format!("{} ±95%", words(s.trim_end_matches("_s"))),
            Unit::Seconds,
        )
    } else if let Some(s) = name.strip_suffix("_share") {
        (words(s), Unit::Share)
    } else if let Some(s) = name.strip_suffix("_usd") {
        (words(s), Unit::Usd)
    } else if let Some(s) = name.strip_suffix("_gb") {
        (words(s), Unit::Gb)
    } else if let Some(s) = name.strip_suffix("_s") {
        (words(s), Unit::Seconds)
    } else {
        (words(name), Unit::Number)
    };
    Column::new(name, stem, unit)
}

/// The columns of a benchmark scenario's answer, instead of the sharing
/// answer: the figures the benchmark it reproduces prints (those a set-up
/// does not define are null and left out).
pub fn benchmark_columns(rows: &[Row]) -> Vec<&'static str> {
    let all = [
        columns::PLACEMENT,
        columns::MAKESPAN_S,
        columns::OUTPUT_TOK_S_PER_GPU,
        columns::TOTAL_TOK_S_PER_GPU,
        columns::DECODE_TOK_S,
        columns::PREFILL_TOK_S,
        columns::TPOT_MEAN_S,
        columns::TPOT_P50_S,
        columns::TTFT_MEAN_S,
        columns::TTFT_P99_S,
        columns::BOARD_POWER_W_PER_GPU,
        columns::DEVICES_TOTAL,
        columns::CONCURRENCY,
        "device",
    ];
    all.into_iter()
        .filter(|n| {
            rows.iter().any(|r| {
                sharesim::results::get(r, n)
                    .is_some_and(|v| !matches!(v, sharesim::results::Value::F64(None)))
            })
        })
        .collect()
}

/// The columns of a sweep's answer: its axes, then who serves, how much
/// hardware, memory and money per user, the sharing factors and the verdict.
pub fn sweep_columns(rows: &[Row]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in rows {
        for (n, _) in r {
            if n.starts_with("sweep_") && !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    let pool_sizes_vary = {
        let mut sizes: Vec<String> = rows
            .iter()
            .filter_map(|r| sharesim::results::get(r, columns::POOL_SIZE))
            .map(|v| v.display())
            .collect();
        sizes.sort();
        sizes.dedup();
        sizes.len() > 1
    };
    names.push(columns::PLACEMENT.into());
    if rows
        .iter()
        .any(|r| sharesim::results::get(r, columns::MAKESPAN_S).is_some())
    {
        // A sweep of a benchmark: the benchmark's figures at every point
        // (a key an axis already shows, e.g. the concurrency, once).
        for n in benchmark_columns(rows) {
            if n != columns::PLACEMENT && !names.iter().any(|m| m.ends_with(n)) {
                names.push(n.into());
            }
        }
        return names;
    }
    if pool_sizes_vary {
        names.push(columns::POOL_SIZE.into());
    }
    // Most telling first: a narrow terminal drops columns from the right.
    for n in [
        "feasible",
        columns::SLO_MET,
        columns::MEM_GB_PER_USER,
        columns::CAPEX_USD_PER_USER,
        columns::SHARING_FACTOR_MEMORY,
        columns::SHARING_FACTOR_CAPEX,
        columns::SHARING_FACTOR_DEVICES,
        "sharing_factor_energy",
        columns::SERVERS_PER_POOL,
        columns::DEVICES_TOTAL,
    ] {
        names.push(n.into());
    }
    names
}
