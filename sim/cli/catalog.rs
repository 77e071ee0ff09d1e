//! `sharesim catalog`: list the device, model and engine catalogue (the
//! files of `scenarios/catalog/`, as compiled into this binary, with the
//! fitted values of calibrated.toml laid over them) with each entry's key
//! figures and where they come from.

use clap::{Args, ValueEnum};

use sharesim::llm::sources::{entry_sources, EntrySource};
use sharesim::llm::{Catalog, KvPolicy, WeightsFormat};
use sharesim::output::terminal::{wrap_words, Column, Format, Unit};
use sharesim::results::{cell, Row, Value};

use super::answer::{terminal_width, PrintArgs};
use super::{Failure, Outcome};

/// The catalogue files, as the messages name them.
const DEVICES_FILE: &str = "scenarios/catalog/devices.toml";
const MODELS_FILE: &str = "scenarios/catalog/models.toml";
const ENGINES_FILE: &str = "scenarios/catalog/engines.toml";
const CALIBRATED_FILE: &str = "scenarios/catalog/calibrated.toml";

/// List the catalogue scenarios use: devices (memory, bandwidth, compute,
/// price, power, default engine), models (parameters, weights per
/// quantisation, layers, KV cache per token) and serving engines (KV
/// allocation, batch limit, chunked prefill, profiled devices), each with
/// its source. Values fitted by `sharesim calibrate` (calibrated.toml)
/// replace the catalogue's priors.
#[derive(Args)]
pub struct CatalogArgs {
    /// Which part to list (default: all three).
    #[arg(value_enum)]
    pub kind: Option<Kind>,
    /// No note on standard error about where the catalogue comes from.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub print: PrintArgs,
}

/// A part of the catalogue.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Devices (scenarios/catalog/devices.toml).
    Devices,
    /// Models (scenarios/catalog/models.toml).
    Models,
    /// Serving engines and their (device, engine) profiles
    /// (scenarios/catalog/engines.toml, calibrated.toml).
    Engines,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Devices => "devices",
            Kind::Models => "models",
            Kind::Engines => "engines",
        }
    }
}

/// One listed part: rows, the columns of the table and of CSV/JSON, and
/// the notes printed under the table (sources).
struct Listing {
    rows: Vec<Row>,
    /// The rows of the table, when they differ from `rows`.
    table_rows: Vec<Row>,
    table: Vec<Column>,
    raw: Vec<Column>,
    notes_title: String,
    notes: Vec<(String, String)>,
}

pub fn run(args: &CatalogArgs) -> Result<Outcome, Failure> {
    let catalog = Catalog::builtin().map_err(|e| Failure::Internal(e.into()))?;
    let kinds = match args.kind {
        Some(k) => vec![k],
        None => vec![Kind::Devices, Kind::Models, Kind::Engines],
    };
    if args.kind.is_none() && args.print.format() == Format::Csv {
        return Err(Failure::Input(anyhow::anyhow!(
            "--format csv: name one part of the catalogue, e.g. `sharesim catalog devices --format csv` (each part has its own columns)"
        )));
    }
    if !args.quiet {
        eprintln!(
            "catalogue compiled into this binary from scenarios/catalog/ ({}); fitted values from {CALIBRATED_FILE}",
            kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
        );
    }
    let width = terminal_width();
    let listings: Vec<(Kind, Listing)> = kinds
        .iter()
        .map(|&k| {
            let l = match k {
                Kind::Devices => devices(&catalog),
                Kind::Models => models(&catalog),
                Kind::Engines => engines(&catalog),
            };
            (k, l)
        })
        .collect();
    match args.print.format() {
        Format::Table => {
            for (i, (k, l)) in listings.iter().enumerate() {
                if i > 0 {
                    println!();
                }
                println!("{} ({})", k.name(), l.rows.len());
                let rows = if l.table_rows.is_empty() {
                    &l.rows
                } else {
                    &l.table_rows
                };
                print!("{}", args.print.render(rows, &l.table, width));
                print_notes(&l.notes_title, &l.notes, width);
            }
        }
        Format::Csv => {
            let (_, l) = &listings[0];
            print!("{}", args.print.render(&l.rows, &l.raw, width));
        }
        Format::Json => {
            if let [(_, l)] = listings.as_slice() {
                print!("{}", args.print.render(&l.rows, &l.raw, width));
            } else {
                let mut object = serde_json::Map::new();
                for (k, l) in &listings {
                    let text = args.print.render(&l.rows, &l.raw, width);
                    let v: serde_json::Value = serde_json::from_str(&text)
                        .map_err(|e| Failure::Internal(anyhow::anyhow!("catalogue JSON: {e}")))?;
                    object.insert(k.name().to_string(), v);
                }
                let text = serde_json::to_string_pretty(&serde_json::Value::Object(object))
                    .map_err(|e| Failure::Internal(anyhow::anyhow!("catalogue JSON: {e}")))?;
                println!("{text}");
            }
        }
    }
    Ok(Outcome::Done)
}

/// `title`, then each `name: text` wrapped to `width` with a hanging indent.
fn print_notes(title: &str, notes: &[(String, String)], width: usize) {
    if notes.is_empty() {
        return;
    }
    for line in wrap_words(title, width) {
        println!("{line}");
    }
    for (name, text) in notes {
        let lines = wrap_words(&format!("{name}: {text}"), width.saturating_sub(4).max(20));
        for (i, line) in lines.iter().enumerate() {
            let indent = if i == 0 { "  " } else { "    " };
            println!("{indent}{line}");
        }
    }
}

fn text(s: impl Into<String>) -> Value {
    Value::Str(s.into())
}

fn number(x: f64) -> Value {
    Value::F64(Some(x))
}

fn maybe(x: Option<f64>) -> Value {
    Value::F64(x)
}

/// An entry's source with its estimates and fitted keys, as one text.
fn provenance(s: Option<&EntrySource>, fitted: &[&str], file: &str) -> String {
    let mut parts = Vec::new();
    match s {
        Some(s) if !s.source.is_empty() => parts.push(s.source.trim_end_matches('.').to_string()),
        _ => parts.push(format!("no source comment in {file}")),
    }
    if let Some(s) = s.filter(|s| !s.estimates.is_empty()) {
        parts.push(format!("estimates [E]: {}", s.estimates.join(", ")));
    }
    if !fitted.is_empty() {
        parts.push(format!(
            "fitted by calibration ({CALIBRATED_FILE}): {}",
            fitted.join(", ")
        ));
    }
    parts.join("; ")
}

fn devices(catalog: &Catalog) -> Listing {
    let sources = entry_sources(sharesim::llm::BUILTIN_DEVICES_TOML, "devices");
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for d in catalog.devices() {
        let fitted: Vec<&str> = catalog
            .engines()
            .fitted_power(&d.name)
            .map(|p| {
                [
                    ("idle_w", p.idle_w),
                    ("memory_power_w", p.memory_power_w),
                    ("compute_power_w", p.compute_power_w),
                ]
                .into_iter()
                .filter(|(_, v)| v.is_some())
                .map(|(k, _)| k)
                .collect()
            })
            .unwrap_or_default();
        let source = provenance(sources.get(&d.name), &fitted, DEVICES_FILE);
        notes.push((d.name.clone(), source.clone()));
        rows.push(vec![
            cell("device", text(&d.name)),
            cell("mem_gb", number(d.mem_gb)),
            cell("bandwidth_gb_s", number(d.bandwidth_gb_s)),
            cell("tflops", number(d.tflops)),
            cell("tflops_fp8", maybe(d.tflops_fp8)),
            cell("tflops_fp4", maybe(d.tflops_fp4)),
            cell("price_usd", number(d.price_usd)),
            cell(
                "power_w",
                text(format!(
                    "{}-{}",
                    sharesim::output::terminal::format_significant(d.idle_w, 4),
                    sharesim::output::terminal::format_significant(d.busy_w, 4)
                )),
            ),
            cell("idle_w", number(d.idle_w)),
            cell("busy_w", number(d.busy_w)),
            cell("memory_power_w", number(d.memory_power_w)),
            cell("compute_power_w", number(d.compute_power_w)),
            cell("host_w", number(d.host_w)),
            cell("default_engine", text(&d.default_engine)),
            cell("memory_price_share", number(d.memory_price_share)),
            cell("memory_kind", text(d.ownership.memory_kind.name())),
            cell("lifetime_years", number(d.ownership.lifetime_years)),
            cell("host_usd", number(d.ownership.host_usd)),
            cell("network_usd", number(d.ownership.network_usd)),
            cell("rental_usd_per_h", maybe(d.rental_usd_per_h)),
            cell(
                "embodied_kg_co2e_rest",
                number(d.ownership.embodied_kg_co2e_rest),
            ),
            cell("source", text(source)),
            cell("fitted", text(fitted.join(", "))),
        ]);
    }
    let c = Column::new;
    let table = vec![
        c("device", "device", Unit::Text),
        c("mem_gb", "mem", Unit::Gb),
        c("bandwidth_gb_s", "GB/s", Unit::Number),
        c("tflops", "TFLOPS", Unit::Number),
        c("price_usd", "price", Unit::Usd),
        c("default_engine", "engine", Unit::Text),
        c("power_w", "power (W)", Unit::Text),
        c("lifetime_years", "life (y)", Unit::Number),
        c("host_usd", "host", Unit::Usd),
        c("rental_usd_per_h", "rent ($/h)", Unit::Number),
    ];
    let raw = [
        "device",
        "mem_gb",
        "bandwidth_gb_s",
        "tflops",
        "tflops_fp8",
        "tflops_fp4",
        "price_usd",
        "idle_w",
        "busy_w",
        "memory_power_w",
        "compute_power_w",
        "host_w",
        "default_engine",
        "memory_price_share",
        "memory_kind",
        "lifetime_years",
        "host_usd",
        "network_usd",
        "rental_usd_per_h",
        "embodied_kg_co2e_rest",
        "source",
        "fitted",
    ]
    .iter()
    .map(|n| c(n, n, Unit::Text))
    .collect();
    Listing {
        table_rows: Vec::new(),
        rows,
        table,
        raw,
        notes_title: format!("mem: memory. power: idle-busy. TFLOPS: dense BF16. life: years before replacement; host: the host server's price per device; rent: cloud price per device-hour (- where none). Sources (the comment above each entry in {DEVICES_FILE}; [E] marks an estimate):"),
        notes,
    }
}

fn models(catalog: &Catalog) -> Listing {
    let sources = entry_sources(sharesim::llm::BUILTIN_MODELS_TOML, "models");
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for m in catalog.models() {
        let source = provenance(sources.get(&m.name), &[], MODELS_FILE);
        notes.push((m.name.clone(), source.clone()));
        let weights: Vec<String> = m
            .weights_gb
            .iter()
            .map(|(q, gb)| {
                format!(
                    "{q} {}",
                    sharesim::output::terminal::format_significant(*gb, 4)
                )
            })
            .collect();
        let mut row = vec![
            cell("model", text(&m.name)),
            cell("kind", text(m.kind.to_string())),
            cell("total_params_b", number(m.total_params_b)),
            cell("active_params_b", number(m.active_params_b)),
            cell("weights_gb", text(weights.join(", "))),
            cell("layers", Value::U64(u64::from(m.layers))),
            cell("kv_bytes_per_token", number(m.kv_bytes_per_token)),
            cell("context_limit_tokens", Value::U64(m.context_limit_tokens)),
            cell(
                "experts",
                text(
                    m.moe
                        .as_ref()
                        .map(|e| format!("{} of {}", e.experts_per_token, e.experts))
                        .unwrap_or_default(),
                ),
            ),
            cell("source", text(source)),
        ];
        for (q, gb) in &m.weights_gb {
            row.push(cell(format!("weights_gb_{q}"), number(*gb)));
        }
        rows.push(row);
    }
    let c = Column::new;
    let table = vec![
        c("model", "model", Unit::Text),
        c("quantisation", "quant", Unit::Text),
        c("weights", "weights", Unit::Gb),
        c("total_params_b", "params (B)", Unit::Number),
        c("active_params_b", "active (B)", Unit::Number),
        c("layers", "layers", Unit::Count),
        c("kv_bytes_per_token", "KV B/token", Unit::Count),
    ];
    let mut raw: Vec<Column> = [
        "model",
        "kind",
        "total_params_b",
        "active_params_b",
        "layers",
        "kv_bytes_per_token",
        "context_limit_tokens",
        "experts",
    ]
    .iter()
    .map(|n| c(n, n, Unit::Text))
    .collect();
    let mut quants: Vec<String> = catalog
        .models()
        .flat_map(|m| m.weights_gb.keys().cloned())
        .collect();
    quants.sort();
    quants.dedup();
    raw.extend(quants.iter().map(|q| {
        let n = format!("weights_gb_{q}");
        Column::new(n.clone(), n, Unit::Text)
    }));
    raw.push(c("source", "source", Unit::Text));
    Listing {
        table_rows: per_quantisation(&rows, catalog),
        rows,
        table,
        raw,
        notes_title: format!("weights: GB per quantisation. params, active: billions, all and used per token. KV: bytes per context token of the full-attention layers. Sources (the comment above each entry in {MODELS_FILE}; [E] marks an estimate):"),
        notes,
    }
}

/// The model rows as the table shows them: one line per quantisation, the
/// model's own figures on its first line only.
fn per_quantisation(rows: &[Row], catalog: &Catalog) -> Vec<Row> {
    let blank = || Value::Str(" ".into());
    let mut out = Vec::new();
    for (row, m) in rows.iter().zip(catalog.models()) {
        for (i, (q, gb)) in m.weights_gb.iter().enumerate() {
            let mut r: Row = if i == 0 {
                row.clone()
            } else {
                row.iter().map(|(n, _)| cell(n.clone(), blank())).collect()
            };
            r.push(cell("quantisation", text(q)));
            r.push(cell("weights", number(*gb)));
            out.push(r);
        }
    }
    out
}

/// Whether calibrated.toml holds fitted values of profile (device, engine)
/// itself (not copied through `like`).
fn own_fit(calibrated: &toml::Table, device: &str, engine: &str) -> bool {
    calibrated
        .get("profiles")
        .and_then(|p| p.get(device))
        .and_then(|d| d.get(engine))
        .is_some()
}

fn engines(catalog: &Catalog) -> Listing {
    let e = catalog.engines();
    let calibrated: toml::Table = sharesim::llm::BUILTIN_CALIBRATED_TOML
        .parse()
        .unwrap_or_default();
    let mut rows = Vec::new();
    for engine in e.engines() {
        let devices: Vec<&String> = e
            .profiles()
            .filter(|((_, en), _)| *en == engine.name)
            .map(|((d, _), _)| d)
            .collect();
        let fitted_here = devices
            .iter()
            .filter(|d| own_fit(&calibrated, d, &engine.name))
            .count();
        let (kv, block) = match engine.kv {
            KvPolicy::Paged { block_tokens } => ("paged", Some(f64::from(block_tokens))),
            KvPolicy::Reserved => ("reserved", None),
        };
        rows.push(vec![
            cell("engine", text(&engine.name)),
            cell("kv_allocation", text(kv)),
            cell("kv_block_tokens", maybe(block)),
            cell("max_batch", Value::U64(u64::from(engine.max_batch))),
            cell(
                "chunked_prefill_tokens",
                maybe(engine.chunked_prefill_tokens.map(f64::from)),
            ),
            cell(
                "weights_format",
                text(match engine.weights_format {
                    WeightsFormat::Checkpoint => "checkpoint",
                    WeightsFormat::Gguf => "gguf",
                }),
            ),
            cell(
                "profiled",
                text(format!("{} ({fitted_here} fitted)", devices.len())),
            ),
            cell(
                "profiled_devices",
                text(
                    devices
                        .iter()
                        .map(|d| d.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ),
            cell("source", text(ENGINES_FILE)),
        ]);
    }
    let notes = e
        .profiles()
        .map(|((d, en), p)| {
            let mut parts = Vec::new();
            if !p.source.is_empty() {
                parts.push(p.source.trim_end_matches('.').to_string());
            }
            if let Some((ld, le)) = &p.like {
                parts.push(format!("starts from {ld}.{le}"));
            }
            if own_fit(&calibrated, d, en) {
                parts.push(format!(
                    "fitted by calibration ({CALIBRATED_FILE}): {}",
                    p.fitted.join(", ")
                ));
            } else if !p.fitted.is_empty() {
                parts.push(format!("fitted values copied: {}", p.fitted.join(", ")));
            }
            if parts.is_empty() {
                parts.push(format!("no source in {ENGINES_FILE}"));
            }
            (format!("{d}.{en}"), parts.join("; "))
        })
        .collect();
    let c = Column::new;
    let table = vec![
        c("engine", "engine", Unit::Text),
        c("kv_allocation", "KV", Unit::Text),
        c("kv_block_tokens", "block tokens", Unit::Count),
        c("max_batch", "max batch", Unit::Count),
        c("chunked_prefill_tokens", "chunk tokens", Unit::Count),
        c("profiled", "device profiles", Unit::Text),
        c("weights_format", "weights", Unit::Text),
    ];
    let raw = [
        "engine",
        "kv_allocation",
        "kv_block_tokens",
        "max_batch",
        "chunked_prefill_tokens",
        "weights_format",
        "profiled_devices",
        "source",
    ]
    .iter()
    .map(|n| c(n, n, Unit::Text))
    .collect();
    Listing {
        table_rows: Vec::new(),
        rows,
        table,
        raw,
        notes_title: format!("KV: paged (blocks of `block tokens`) or reserved (a request's whole context). chunk: chunked prefill budget per step. Device profiles (device.engine: the step costs of {ENGINES_FILE}, with the values fitted in {CALIBRATED_FILE}):"),
        notes,
    }
}
