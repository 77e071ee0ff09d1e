//! Reference measurements (docs/model.md section 14) and the catalogue's
//! predictions of them.
//!
//! The efficiencies `e_m`, `e_c` and the step overhead `t_0` of each device
//! in `scenarios/catalog/devices.toml` are fitted by hand to these rows, one
//! parameter set per device. [`calibration_table`] recomputes the
//! predictions from a catalogue, so a test (`tests/calibration.rs`) and the
//! `sharesim calibrate` command show the same table as
//! `docs/calibration.md` ([`markdown_table`]).

use std::fmt::Write as _;

use crate::llm::catalog::{Catalog, CatalogError};
use crate::llm::roofline::{RooflineError, ServingCost};

/// Largest relative error a checked row may have: 25 %.
pub const TOLERANCE: f64 = 0.25;

/// How a measurement was taken, and so how it is predicted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Workload {
    /// One stream decoding alone at `context_tokens` of context:
    /// predicted `1 / t_step(1, T)`.
    SingleStream {
        /// Context tokens during decode.
        context_tokens: u64,
    },
    /// `streams` streams decoding together, each at `context_tokens`:
    /// aggregate tok/s predicted as `b / t_step(b, b * T)`.
    Concurrent {
        /// Concurrent streams (batch).
        streams: u32,
        /// Context tokens of each stream.
        context_tokens: u64,
    },
    /// A server kept full (offline throughput benchmark): predicted by
    /// [`ServingCost::saturated_output_tok_s`].
    Saturated {
        /// Prompt tokens per request.
        input_tokens: u64,
        /// Output tokens per request.
        output_tokens: u64,
        /// Largest batch the engine runs (the KV budget may cap it lower).
        max_batch: u32,
    },
}

impl Workload {
    /// A short label, e.g. `single stream, 1000 ctx`.
    pub fn label(&self) -> String {
        match *self {
            Workload::SingleStream { context_tokens } => {
                format!("single stream, {context_tokens} ctx")
            }
            Workload::Concurrent {
                streams,
                context_tokens,
            } => format!("{streams} streams, {context_tokens} ctx each"),
            Workload::Saturated {
                input_tokens,
                output_tokens,
                max_batch,
            } => format!("saturated {input_tokens}/{output_tokens}, max batch {max_batch}"),
        }
    }
}

/// One published measurement of output tokens per second.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Catalogue device name.
    pub device: &'static str,
    /// Catalogue model name.
    pub model: &'static str,
    /// Quantisation (a key of the model's `weights_gb`).
    pub quantisation: &'static str,
    /// Devices in tensor parallel (1 = one device).
    pub tensor_parallel: u32,
    /// Parallel efficiency used when `tensor_parallel > 1` [E].
    pub tp_efficiency: f64,
    /// How the measurement was taken.
    pub workload: Workload,
    /// Measured output tokens/s (aggregate over the group).
    pub measured_tok_s: f64,
    /// Whether the prediction must be within [`TOLERANCE`]; unchecked rows
    /// are shown for information, with the reason in `note`.
    pub checked: bool,
    /// Where the figure comes from.
    pub source: &'static str,
    /// What the row is for, or why it is not checked.
    pub note: &'static str,
}

/// A measurement next to the catalogue's prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationRow {
    /// Catalogue device name.
    pub device: String,
    /// Catalogue model name.
    pub model: String,
    /// Quantisation.
    pub quantisation: String,
    /// Devices in tensor parallel.
    pub tensor_parallel: u32,
    /// How the measurement was taken.
    pub workload: Workload,
    /// Measured output tokens/s.
    pub measured_tok_s: f64,
    /// Predicted output tokens/s.
    pub predicted_tok_s: f64,
    /// `100 * (predicted / measured - 1)`.
    pub error_pct: f64,
    /// Whether the row must be within [`TOLERANCE`].
    pub checked: bool,
    /// Whether `|error| <= TOLERANCE`.
    pub within_tolerance: bool,
    /// Where the figure comes from.
    pub source: String,
    /// What the row is for, or why it is not checked.
    pub note: String,
}

/// A measurement that cannot be predicted from the catalogue.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// A device or model name is not in the catalogue.
    #[error(transparent)]
    Catalog(Box<CatalogError>),
    /// The model cannot be served as asked.
    #[error(transparent)]
    Roofline(Box<RooflineError>),
}

impl From<CatalogError> for CalibrationError {
    fn from(e: CatalogError) -> Self {
        CalibrationError::Catalog(Box::new(e))
    }
}

impl From<RooflineError> for CalibrationError {
    fn from(e: RooflineError) -> Self {
        CalibrationError::Roofline(Box::new(e))
    }
}

/// Short context of the single-stream benchmarks (llama-bench tg128 and
/// similar start near an empty context; 1000 tokens is a conservative
/// stand-in).
const SHORT_CONTEXT: u64 = 1000;

/// The reference measurements of docs/model.md section 14 (plus out-of-sample
/// cross-checks from the same sources).
pub fn reference_measurements() -> Vec<Measurement> {
    let single = Workload::SingleStream {
        context_tokens: SHORT_CONTEXT,
    };
    let trt_1000_1000 = Workload::Saturated {
        input_tokens: 1000,
        output_tokens: 1000,
        max_batch: 2048,
    };
    let m = |device, model, quantisation, measured_tok_s, source, note| Measurement {
        device,
        model,
        quantisation,
        tensor_parallel: 1,
        tp_efficiency: 1.0,
        workload: single,
        measured_tok_s,
        checked: true,
        source,
        note,
    };
    const STRIX: &str = "llm-tracker.info / kyuz0 amd-strix-halo-toolboxes (llama.cpp)";
    const APPLE: &str = "geerlingguy/ai-benchmarks";
    const TRT: &str = "TensorRT-LLM docs/source/performance/perf-overview.md";
    vec![
        m(
            "framework_desktop",
            "gpt_oss_120b",
            "mxfp4",
            56.6,
            STRIX,
            "fit",
        ),
        m(
            "framework_desktop",
            "gpt_oss_20b",
            "mxfp4",
            79.8,
            STRIX,
            "fit",
        ),
        m(
            "framework_desktop",
            "llama_3_1_70b",
            "q4",
            5.0,
            STRIX,
            "fit",
        ),
        m(
            "mac_studio_m3_ultra_512gb",
            "llama_3_1_70b",
            "q4",
            14.1,
            APPLE,
            "fit (MLX 4-bit)",
        ),
        m(
            "mac_studio_m3_ultra_512gb",
            "gpt_oss_20b",
            "mxfp4",
            115.0,
            APPLE,
            "fit",
        ),
        m(
            "dgx_spark",
            "gpt_oss_120b",
            "mxfp4",
            58.0,
            "docs/model.md section 14",
            "fit",
        ),
        Measurement {
            workload: Workload::Concurrent {
                streams: 64,
                context_tokens: SHORT_CONTEXT,
            },
            checked: false,
            note: "not checked: at 64 streams the model reads all experts (min(Wb, ...)); \
                   the measurement implies far fewer bytes per step",
            ..m(
                "dgx_spark",
                "gpt_oss_120b",
                "mxfp4",
                315.0,
                "docs/model.md section 14",
                "",
            )
        },
        m(
            "rtx_4090",
            "llama_3_1_8b",
            "q4",
            128.0,
            "docs/model.md section 14 (llama.cpp)",
            "fit (Llama 3 8B Q4, same architecture)",
        ),
        m(
            "rtx_4090",
            "gpt_oss_20b",
            "mxfp4",
            280.0,
            "docs/model.md section 14",
            "fit",
        ),
        Measurement {
            workload: trt_1000_1000,
            note: "fit (KV-limited batch)",
            ..m("h100_sxm", "llama_3_1_8b", "fp8", 15_220.0, TRT, "")
        },
        Measurement {
            tensor_parallel: 2,
            tp_efficiency: 0.9,
            workload: trt_1000_1000,
            note: "fit; Llama 3.3 70B FP8 on TP2 (~2,100 per GPU), tp_efficiency 0.9 [E]",
            ..m("h100_sxm", "llama_3_1_70b", "fp8", 4_205.0, TRT, "")
        },
        Measurement {
            workload: trt_1000_1000,
            note: "out of sample: H100 parameters reused",
            ..m("h200", "llama_3_1_8b", "fp8", 17_744.0, TRT, "")
        },
        Measurement {
            workload: trt_1000_1000,
            note: "out of sample: H100 parameters reused; Llama 3.3 70B FP8, TP1",
            ..m("h200", "llama_3_1_70b", "fp8", 2_909.0, TRT, "")
        },
    ]
}

/// The catalogue's prediction of one measurement, output tokens/s.
pub fn predict(catalog: &Catalog, m: &Measurement) -> Result<f64, CalibrationError> {
    let device = catalog.device(m.device)?;
    let model = catalog.model(m.model)?;
    let cost = ServingCost::new(
        device,
        model,
        m.quantisation,
        m.tensor_parallel,
        m.tp_efficiency,
    )?;
    Ok(match m.workload {
        Workload::SingleStream { context_tokens } => {
            cost.check_fits(context_tokens)?;
            cost.single_stream_tok_s(context_tokens)
        }
        Workload::Concurrent {
            streams,
            context_tokens,
        } => {
            let total = u64::from(streams) * context_tokens;
            cost.check_fits(total)?;
            f64::from(streams) / cost.decode_step_s(streams, total)
        }
        Workload::Saturated {
            input_tokens,
            output_tokens,
            max_batch,
        } => {
            cost.check_fits(input_tokens + output_tokens)?;
            cost.saturated_output_tok_s(input_tokens, output_tokens, max_batch)
        }
    })
}

/// Every reference measurement with the catalogue's prediction.
pub fn calibration_table(catalog: &Catalog) -> Result<Vec<CalibrationRow>, CalibrationError> {
    reference_measurements()
        .into_iter()
        .map(|m| {
            let predicted = predict(catalog, &m)?;
            let ratio = predicted / m.measured_tok_s - 1.0;
            Ok(CalibrationRow {
                device: m.device.to_string(),
                model: m.model.to_string(),
                quantisation: m.quantisation.to_string(),
                tensor_parallel: m.tensor_parallel,
                workload: m.workload,
                measured_tok_s: m.measured_tok_s,
                predicted_tok_s: predicted,
                error_pct: 100.0 * ratio,
                checked: m.checked,
                within_tolerance: ratio.abs() <= TOLERANCE,
                source: m.source.to_string(),
                note: m.note.to_string(),
            })
        })
        .collect()
}

/// The table as Markdown (the form `docs/calibration.md` and
/// `sharesim calibrate` show).
pub fn markdown_table(rows: &[CalibrationRow]) -> String {
    let mut s = String::from(
        "| device | model | quant | TP | workload | measured tok/s | predicted tok/s | error | checked | note |\n\
         |---|---|---|---|---|---:|---:|---:|---|---|\n",
    );
    for r in rows {
        let checked = match (r.checked, r.within_tolerance) {
            (true, true) => "yes, ok",
            (true, false) => "yes, FAILS",
            (false, _) => "no",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {:+.1} % | {} | {} |",
            r.device,
            r.model,
            r.quantisation,
            r.tensor_parallel,
            r.workload.label(),
            format_tok_s(r.measured_tok_s),
            format_tok_s(r.predicted_tok_s),
            r.error_pct,
            checked,
            r.note,
        );
    }
    s
}

/// One decimal below 100 tok/s, whole numbers above.
fn format_tok_s(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}
