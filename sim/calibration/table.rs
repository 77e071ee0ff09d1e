//! The measurement table, `data/calibration/measurements.csv`: one published
//! figure per row, with the set-up that produced it. [`read_measurements`]
//! parses and checks it; a row whose set-up the engine cannot express is an
//! error naming the row.

use std::path::Path;

use super::CalibrationError;

/// The repository path of the shipped table.
pub const MEASUREMENTS_PATH: &str = "data/calibration/measurements.csv";
/// The shipped table, embedded at build time.
pub const MEASUREMENTS_CSV: &str = include_str!("../../data/calibration/measurements.csv");
/// The repository path of the former reference points (same format).
pub const REFERENCE_POINTS_PATH: &str = "data/calibration/reference-points.csv";
/// The former reference points, embedded at build time (held to 25 %).
pub const REFERENCE_POINTS_CSV: &str = include_str!("../../data/calibration/reference-points.csv");

const HEADER: &str = "id,device,engine,model,quantisation,tensor_parallel,workload,concurrency,input_tokens,output_tokens,metric,value,unit,source,date";

/// How a benchmark drove the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Setup {
    /// `concurrency` clients, each sending its next request when the
    /// previous one completes.
    ClosedLoop,
    /// `concurrency` sequences decoding together after their prompts.
    BatchedDecode,
    /// One sequence decoding from an empty context.
    SingleStream,
    /// One prompt processed alone.
    Prefill,
    /// `concurrency` requests all at time 0 (offline throughput).
    Offline,
}

impl Setup {
    fn parse(s: &str) -> Option<Setup> {
        Some(match s {
            "closed_loop" => Setup::ClosedLoop,
            "batched_decode" => Setup::BatchedDecode,
            "single_stream" => Setup::SingleStream,
            "prefill" => Setup::Prefill,
            "offline" => Setup::Offline,
            _ => return None,
        })
    }

    /// The name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Setup::ClosedLoop => "closed_loop",
            Setup::BatchedDecode => "batched_decode",
            Setup::SingleStream => "single_stream",
            Setup::Prefill => "prefill",
            Setup::Offline => "offline",
        }
    }
}

/// What was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// Generated tokens / wall time / GPUs, prompt processing included.
    OutputTokSPerGpu,
    /// Mean time per output token after the first, per request (seconds).
    TpotMean,
    /// Mean GPU board power over the run, W per GPU.
    BoardPowerPerGpu,
    /// Batched decode: generated tokens / generation time; closed loop:
    /// generated tokens / wall time.
    AggregateDecodeTokS,
    /// One stream's decode speed.
    DecodeTokS,
    /// Prompt tokens / prompt time.
    PrefillTokS,
}

impl Metric {
    fn parse(s: &str) -> Option<Metric> {
        Some(match s {
            "output_tok_s_per_gpu" => Metric::OutputTokSPerGpu,
            "tpot_mean" => Metric::TpotMean,
            "board_power_per_gpu" => Metric::BoardPowerPerGpu,
            "aggregate_decode_tok_s" => Metric::AggregateDecodeTokS,
            "decode_tok_s" => Metric::DecodeTokS,
            "prefill_tok_s" => Metric::PrefillTokS,
            _ => return None,
        })
    }

    /// The name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Metric::OutputTokSPerGpu => "output_tok_s_per_gpu",
            Metric::TpotMean => "tpot_mean",
            Metric::BoardPowerPerGpu => "board_power_per_gpu",
            Metric::AggregateDecodeTokS => "aggregate_decode_tok_s",
            Metric::DecodeTokS => "decode_tok_s",
            Metric::PrefillTokS => "prefill_tok_s",
        }
    }

    /// Whether the metric is a power (checked within 25 %, not 20 %).
    pub fn is_power(self) -> bool {
        self == Metric::BoardPowerPerGpu
    }

    fn fits(self, setup: Setup) -> bool {
        use Metric::*;
        use Setup::*;
        matches!(
            (self, setup),
            (
                OutputTokSPerGpu | TpotMean | BoardPowerPerGpu,
                ClosedLoop | Offline
            ) | (AggregateDecodeTokS, BatchedDecode | ClosedLoop)
                | (DecodeTokS, SingleStream)
                | (PrefillTokS, Prefill)
        )
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Row id, e.g. `h100-vllm-tp8-c4-tput`.
    pub id: String,
    /// Catalogue device.
    pub device: String,
    /// Serving engine.
    pub engine: String,
    /// Catalogue model.
    pub model: String,
    /// Quantisation (a key of the model's weights).
    pub quantisation: String,
    /// Devices in tensor parallel.
    pub tensor_parallel: u32,
    /// How the server was driven.
    pub setup: Setup,
    /// Clients, sequences or requests (see [`Setup`]).
    pub concurrency: u32,
    /// Prompt tokens per request.
    pub input_tokens: u32,
    /// Generated tokens per request.
    pub output_tokens: u32,
    /// What was measured.
    pub metric: Metric,
    /// The figure, in SI units (seconds for TPOT).
    pub value: f64,
    /// Unit as written (`tok/s`, `ms`, `W`).
    pub unit: String,
    /// Where it was published.
    pub source: String,
    /// When.
    pub date: String,
    /// A former reference point (held to 25 %, not 20 %).
    pub reference_point: bool,
}

impl Measurement {
    /// The set-up as a key: rows of one run share it.
    pub fn setup_key(&self) -> (String, String, String, String, u32, Setup, u32, u32, u32) {
        (
            self.device.clone(),
            self.engine.clone(),
            self.model.clone(),
            self.quantisation.clone(),
            self.tensor_parallel,
            self.setup,
            self.concurrency,
            self.input_tokens,
            self.output_tokens,
        )
    }

    /// A short label of the set-up, e.g. `closed loop c16, 1024/1024, TP8`.
    pub fn setup_label(&self) -> String {
        let tp = if self.tensor_parallel > 1 {
            format!(", TP{}", self.tensor_parallel)
        } else {
            String::new()
        };
        let (i, o) = (self.input_tokens, self.output_tokens);
        match self.setup {
            Setup::ClosedLoop => format!("closed loop c{}, {i}/{o}{tp}", self.concurrency),
            Setup::BatchedDecode => format!("batched decode b{}, {i}+{o}{tp}", self.concurrency),
            Setup::SingleStream => format!("single stream tg{o}{tp}"),
            Setup::Prefill => format!("prefill pp{i}{tp}"),
            Setup::Offline => format!("offline {} requests, {i}/{o}{tp}", self.concurrency),
        }
    }
}

/// Parses a measurement table (`file` names it in errors).
pub fn read_measurements(text: &str, file: &Path) -> Result<Vec<Measurement>, CalibrationError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let err = |line: usize, id: &str, message: String| CalibrationError::Row {
        file: file.to_path_buf(),
        line: line + 1,
        id: id.to_string(),
        message,
    };
    match lines.next() {
        Some((_, h)) if h.trim() == HEADER => {}
        _ => {
            return Err(err(
                0,
                "header",
                format!("the first line must be the header `{HEADER}`"),
            ))
        }
    }
    let mut rows: Vec<Measurement> = Vec::new();
    for (n, line) in lines {
        let f = split_csv(line);
        if f.len() != 15 {
            return Err(err(
                n,
                f.first().map_or("", |s| s.as_str()),
                format!("has {} fields; a row has 15 ({HEADER})", f.len()),
            ));
        }
        let id = f[0].clone();
        let e = |m: String| err(n, &id, m);
        let int = |i: usize, name: &str| -> Result<u32, CalibrationError> {
            f[i].parse::<u32>()
                .map_err(|_| e(format!("{name} must be a whole number (got `{}`)", f[i])))
        };
        let setup = Setup::parse(&f[6]).ok_or_else(|| e(format!("workload `{}` cannot be simulated; use closed_loop, batched_decode, single_stream, prefill or offline", f[6])))?;
        let metric = Metric::parse(&f[10]).ok_or_else(|| e(format!("metric `{}` is not one the engine reports; use output_tok_s_per_gpu, tpot_mean, board_power_per_gpu, aggregate_decode_tok_s, decode_tok_s or prefill_tok_s", f[10])))?;
        if !metric.fits(setup) {
            return Err(e(format!(
                "metric {} does not describe a {} run",
                metric.name(),
                setup.name()
            )));
        }
        let raw: f64 = f[11]
            .parse()
            .map_err(|_| e(format!("value must be a number (got `{}`)", f[11])))?;
        let value = match (metric, f[12].as_str()) {
            (Metric::TpotMean, "ms") => raw / 1e3,
            (Metric::TpotMean, "s") => raw,
            (Metric::BoardPowerPerGpu, "W") => raw,
            (Metric::TpotMean | Metric::BoardPowerPerGpu, u) => {
                return Err(e(format!(
                    "unit `{u}` does not fit {}: use ms (or s) for TPOT, W for power",
                    metric.name()
                )))
            }
            (_, "tok/s") => raw,
            (_, u) => {
                return Err(e(format!(
                    "unit `{u}` does not fit {}: use tok/s",
                    metric.name()
                )))
            }
        };
        if !(value.is_finite() && value > 0.0) {
            return Err(e(format!("value must be greater than 0 (got {raw})")));
        }
        let m = Measurement {
            device: f[1].clone(),
            engine: f[2].clone(),
            model: f[3].clone(),
            quantisation: f[4].clone(),
            tensor_parallel: int(5, "tensor_parallel")?,
            setup,
            concurrency: int(7, "concurrency")?,
            input_tokens: int(8, "input_tokens")?,
            output_tokens: int(9, "output_tokens")?,
            metric,
            value,
            unit: f[12].clone(),
            source: f[13].clone(),
            date: f[14].clone(),
            id: id.clone(),
            reference_point: false,
        };
        check_setup(&m).map_err(&e)?;
        if rows.iter().any(|r| r.id == m.id) {
            return Err(e("repeats an id; give every row its own".into()));
        }
        rows.push(m);
    }
    Ok(rows)
}

/// The shipped rows: the measurement table, then the former reference
/// points (marked as such).
pub fn shipped_measurements() -> Result<Vec<Measurement>, CalibrationError> {
    let mut rows = read_measurements(MEASUREMENTS_CSV, Path::new(MEASUREMENTS_PATH))?;
    let mut refs = read_measurements(REFERENCE_POINTS_CSV, Path::new(REFERENCE_POINTS_PATH))?;
    for r in &mut refs {
        r.reference_point = true;
    }
    rows.extend(refs);
    Ok(rows)
}

/// Whether the engine can run the row's set-up.
fn check_setup(m: &Measurement) -> Result<(), String> {
    if m.tensor_parallel == 0 || m.tensor_parallel > 64 {
        return Err(format!(
            "tensor_parallel must be between 1 and 64 (got {})",
            m.tensor_parallel
        ));
    }
    if m.concurrency == 0 || m.concurrency > 100_000 {
        return Err(format!(
            "concurrency must be between 1 and 100000 (got {})",
            m.concurrency
        ));
    }
    match m.setup {
        Setup::Prefill if m.input_tokens == 0 => Err("a prefill row needs input_tokens > 0".into()),
        Setup::Prefill if m.concurrency != 1 => {
            Err("a prefill row processes one prompt: concurrency must be 1".into())
        }
        Setup::SingleStream if m.concurrency != 1 => {
            Err("a single_stream row has concurrency 1".into())
        }
        Setup::Prefill => Ok(()),
        _ if m.output_tokens < 2 => Err(format!(
            "a {} row needs output_tokens >= 2 to time decoding (got {})",
            m.setup.name(),
            m.output_tokens
        )),
        _ => Ok(()),
    }
}

/// Splits one CSV line; fields may be quoted with `"` (doubled inside).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses() {
        let rows = read_measurements(MEASUREMENTS_CSV, Path::new(MEASUREMENTS_PATH)).unwrap();
        assert!(rows.len() >= 24);
        let tpot = rows
            .iter()
            .find(|r| r.id == "h100-vllm-tp8-c4-tpot")
            .unwrap();
        assert_eq!(tpot.metric, Metric::TpotMean);
        assert!((tpot.value - 3.71e-3).abs() < 1e-12);
    }

    #[test]
    fn rows_that_cannot_be_simulated_are_named() {
        let bad = format!("{HEADER}\nx1,h100_sxm,vllm,m,q,1,poisson,4,1,2,tpot_mean,3,ms,s,d\n");
        let e = read_measurements(&bad, Path::new("m.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("m.csv:2") && e.contains("x1") && e.contains("poisson"),
            "{e}"
        );
        let bad = format!("{HEADER}\nx2,h100_sxm,vllm,m,q,1,prefill,1,512,0,tpot_mean,3,ms,s,d\n");
        let e = read_measurements(&bad, Path::new("m.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x2") && e.contains("does not describe a prefill run"),
            "{e}"
        );
        let bad =
            format!("{HEADER}\nx3,h100_sxm,vllm,m,q,1,prefill,1,512,0,prefill_tok_s,3,ms,s,d\n");
        let e = read_measurements(&bad, Path::new("m.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("x3") && e.contains("unit `ms`"), "{e}");
        assert_eq!(split_csv("a,\"b,c\",d"), vec!["a", "b,c", "d"]);
    }
}
