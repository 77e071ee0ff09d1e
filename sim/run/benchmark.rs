//! The figures a serving benchmark prints, as columns of a benchmark
//! scenario's replication rows ([`benchmark_cells`]): the makespan,
//! throughput per GPU (generated, and prompt + generated), batched decode
//! and single-prompt throughput, and board power. Every benchmark row has
//! all of them (null where a set-up does not define one); other scenarios
//! have none. TPOT's mean and median are the `tpot_mean_s` and
//! `tpot_p50_s` every LLM row has.

use crate::metrics::LlmRecorder;
use crate::results::columns;
use crate::results::table::{cell, Row, Value};
use crate::scenario::{Benchmark, BenchmarkSetup};

/// The benchmark columns of one replication of `b` on `gpus` devices, whose
/// window is its makespan and which used `energy_j` joules (the energy
/// every LLM row's `energy_kwh_per_day` is computed from).
pub(super) fn benchmark_cells(b: &Benchmark, r: &LlmRecorder, gpus: f64, energy_j: f64) -> Row {
    let makespan = r.last_end_s;
    let positive = |x: f64| (x.is_finite() && x > 0.0).then_some(x);
    let per_gpu_s = positive(makespan * gpus);
    let generated = r.output_tokens as f64;
    let prompt = r.measured as f64 * b.input_tokens as f64;
    // Batched decode: the tokens decoded after the prompt step (which
    // yields each sequence's first token) over the time after the last
    // first token.
    let decode = (b.setup == BenchmarkSetup::BatchedDecode)
        .then(|| {
            let steps = b.output_tokens.saturating_sub(1) as f64;
            positive(makespan - r.last_first_token_s).map(|t| r.measured as f64 * steps / t)
        })
        .flatten();
    // A single prompt arrives at time 0 and is processed alone: its first
    // token, server side, is its prompt time (TTFT minus the round trip).
    let prefill = (b.setup == BenchmarkSetup::SinglePrompt)
        .then(|| positive(r.last_first_token_s).map(|t| b.input_tokens as f64 / t))
        .flatten();
    vec![
        cell(
            columns::BENCHMARK_SETUP,
            Value::Str(b.setup.name().to_string()),
        ),
        cell(columns::CONCURRENCY, Value::U64(b.concurrency as u64)),
        cell(columns::INPUT_TOKENS, Value::U64(b.input_tokens as u64)),
        cell(columns::OUTPUT_TOKENS, Value::U64(b.output_tokens as u64)),
        cell(columns::MAKESPAN_S, Value::F64(positive(makespan))),
        cell(
            columns::OUTPUT_TOK_S_PER_GPU,
            Value::F64(per_gpu_s.map(|t| generated / t)),
        ),
        cell(
            columns::TOTAL_TOK_S_PER_GPU,
            Value::F64(per_gpu_s.map(|t| (prompt + generated) / t)),
        ),
        cell(columns::DECODE_TOK_S, Value::F64(decode)),
        cell(columns::PREFILL_TOK_S, Value::F64(prefill)),
        cell(
            columns::BOARD_POWER_W_PER_GPU,
            Value::F64(per_gpu_s.map(|t| energy_j / t)),
        ),
    ]
}
