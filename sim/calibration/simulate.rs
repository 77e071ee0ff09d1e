//! One measurement's set-up run through the real batching engine
//! ([`BatchingFleet`]) on one server, and the figure it reports.
//!
//! - closed loop: `concurrency` clients start at 0, each sends
//!   [`REQUESTS_PER_CLIENT`] requests back to back (a gap of 0);
//! - batched decode: `concurrency` sequences arrive at 0 in one batch,
//!   each generating `output_tokens` after its first token (the prompt
//!   yields the first), prompts not chunked (llama-batched-bench processes
//!   them before generating);
//! - single stream: one sequence from a 1-token context generating
//!   `output_tokens` after the first;
//! - prefill: one prompt, one output token;
//! - offline: `concurrency` requests at 0.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::core::rng::stream_rng;
use crate::core::rng::StreamKind;
use crate::engine::{BatchConfig, BatchingFleet, Dispatch, LlmRequest, LlmSource};
use crate::llm::{Device, Model, ServingCost, ServingOptions};
use crate::metrics::{LlmRecorder, Window};

use super::table::{Measurement, Metric, Setup};
use super::CalibrationError;

/// Requests each closed-loop client sends (vLLM's benchmark clients send
/// about ten per slot of concurrency).
pub const REQUESTS_PER_CLIENT: u32 = 10;

/// What one simulated run gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunFigures {
    /// Time of the last completion, s.
    pub makespan_s: f64,
    /// Generated tokens of all requests.
    pub output_tokens: f64,
    /// Latest first token, s.
    pub last_first_token_s: f64,
    /// Mean TPOT over requests with more than one output token, s.
    pub tpot_mean_s: f64,
    /// Board energy of the run (idle included), J, all GPUs.
    pub board_energy_j: f64,
    /// GPUs of the server.
    pub gpus: f64,
}

/// Requests from `clients` closed-loop clients (or a burst when `resubmit`
/// is 0): every client's first request at 0, the next at its completion.
struct BenchSource {
    pending: BinaryHeap<Reverse<(u64, u64, u32)>>,
    left: Vec<u32>,
    seq: u64,
    input: u32,
    output: u32,
    makespan_s: f64,
}

impl BenchSource {
    fn new(clients: u32, requests_each: u32, input: u32, output: u32) -> Self {
        let pending = (0..clients)
            .map(|u| Reverse((0f64.to_bits(), u64::from(u), u)))
            .collect();
        BenchSource {
            pending,
            left: vec![requests_each.saturating_sub(1); clients as usize],
            seq: u64::from(clients),
            input,
            output,
            makespan_s: 0.0,
        }
    }
}

impl LlmSource for BenchSource {
    fn peek_s(&mut self) -> Option<f64> {
        self.pending
            .peek()
            .map(|Reverse((t, _, _))| f64::from_bits(*t))
    }
    fn next_request(&mut self) -> Option<LlmRequest> {
        let Reverse((t, _, user)) = self.pending.pop()?;
        Some(LlmRequest {
            prompt: Default::default(),
            arrival_s: f64::from_bits(t),
            user,
            input_tokens: self.input,
            output_tokens: self.output,
        })
    }
    fn completed(&mut self, user: u32, end_s: f64) {
        self.makespan_s = self.makespan_s.max(end_s);
        let left = &mut self.left[user as usize];
        if *left > 0 {
            *left -= 1;
            // Non-negative floats order as their bits.
            self.pending
                .push(Reverse((end_s.max(0.0).to_bits(), self.seq, user)));
            self.seq += 1;
        }
    }
}

/// Runs `m`'s set-up on one server of `device` with `options`.
pub fn run_setup(
    m: &Measurement,
    device: &Device,
    model: &Model,
    options: &ServingOptions,
) -> Result<RunFigures, CalibrationError> {
    let cost = ServingCost::new(device, model, options).map_err(|e| CalibrationError::Setup {
        id: m.id.clone(),
        message: e.to_string(),
    })?;
    let (clients, each, input, output) = match m.setup {
        Setup::ClosedLoop => (
            m.concurrency,
            REQUESTS_PER_CLIENT,
            m.input_tokens,
            m.output_tokens,
        ),
        Setup::Offline => (m.concurrency, 1, m.input_tokens, m.output_tokens),
        Setup::BatchedDecode => (m.concurrency, 1, m.input_tokens.max(1), m.output_tokens + 1),
        Setup::SingleStream => (1, 1, m.input_tokens.max(1), m.output_tokens + 1),
        Setup::Prefill => (1, 1, m.input_tokens, 1),
    };
    cost.check_fits(u64::from(input) + u64::from(output))
        .map_err(|e| CalibrationError::Setup {
            id: m.id.clone(),
            message: e.to_string(),
        })?;
    let engine_batch = options.max_batch();
    let (max_batch, chunk) = match m.setup {
        Setup::ClosedLoop | Setup::Offline => (engine_batch, options.chunked_prefill_tokens()),
        _ => (m.concurrency.max(1), None),
    };
    let step = cost.step_model();
    let cfg = BatchConfig {
        prefix: None,
        autoscaler: None,
        servers: 1,
        max_batch,
        kv_budget_tokens: cost.kv_budget_tokens(),
        context_limit_tokens: cost.context_limit_tokens(),
        step,
        dispatch: Dispatch::CentralQueue,
        fast_forward: true,
        chunked_prefill_tokens: chunk,
        kv_allocation: options.engine.kv.into(),
        kv_fixed_tokens_per_seq: cost.kv_fixed_tokens_per_sequence(),
    };
    let window = Window {
        warmup_s: 0.0,
        horizon_s: f64::MAX,
    };
    let mut rec = LlmRecorder::new(window, 0.0);
    let mut source = BenchSource::new(clients, each, input, output);
    let usage = BatchingFleet::new(cfg, window, stream_rng(0, 0, StreamKind::Placement, 0))
        .run_source(&mut source, &mut rec);
    if rec.measured < u64::from(clients) * u64::from(each) {
        return Err(CalibrationError::Setup {
            id: m.id.clone(),
            message: format!(
                "only {} of {} requests completed (refused: context {}, KV {})",
                rec.measured,
                clients * each,
                rec.rejected_context,
                rec.rejected_kv
            ),
        });
    }
    let makespan_s = source.makespan_s;
    Ok(RunFigures {
        makespan_s,
        output_tokens: rec.output_tokens as f64,
        last_first_token_s: rec.ttft.quantile_s(1.0).unwrap_or(0.0),
        tpot_mean_s: rec.tpot.mean_s().unwrap_or(f64::NAN),
        board_energy_j: step.idle_w * makespan_s + usage.active_energy_j,
        gpus: f64::from(options.tensor_parallel),
    })
}

/// The figure `m` reports, from its run.
pub fn figure(m: &Measurement, r: &RunFigures) -> f64 {
    let n = f64::from(m.concurrency);
    match m.metric {
        Metric::OutputTokSPerGpu => r.output_tokens / r.makespan_s / r.gpus,
        Metric::TpotMean => r.tpot_mean_s,
        Metric::BoardPowerPerGpu => r.board_energy_j / r.makespan_s / r.gpus,
        Metric::AggregateDecodeTokS => match m.setup {
            Setup::BatchedDecode => {
                n * f64::from(m.output_tokens) / (r.makespan_s - r.last_first_token_s)
            }
            _ => r.output_tokens / r.makespan_s,
        },
        Metric::DecodeTokS => f64::from(m.output_tokens) / (r.makespan_s - r.last_first_token_s),
        Metric::PrefillTokS => f64::from(m.input_tokens) / r.last_first_token_s,
    }
}
