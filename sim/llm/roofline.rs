//! Roofline service times of one model on one device or one tensor-parallel
//! group of identical devices (docs/model.md section 5).
//!
//! With `g` devices in tensor parallel and parallel efficiency `p`
//! (ignored when `g = 1`): memory `M = g * mem`, bandwidth `B = g * bw * p`,
//! compute `F = g * tflops * p` (the FP8 figure for `fp8` weights when the
//! device has FP8 units, else BF16). `P` is the active parameter count,
//! `Wb` the weight bytes, `kv` the KV bytes per context token, `e_m`, `e_c`
//! and `t_0` the device's calibrated efficiencies and step overhead.
//!
//! - weight bytes read by one forward pass over `n` tokens:
//!   `R(n) = min(Wb, S + n * (A - S))`, where `A = P * Wb / P_total` is the
//!   bytes of the active parameters and `S` the bytes of the shared ones
//!   (MoE attention, unembedding). For a dense model `A = Wb`, so `R = Wb`;
//!   for an MoE model `R(1) = A` (only the routed experts of one token) and
//!   `R` grows to `Wb` as a batch touches more experts.
//! - prefill of `n` tokens: `t_pre(n) = t_0 + max(2 P n / (F e_c), R(n) / (B e_m))`
//! - one decode step of `b` sequences holding `T` context tokens in total:
//!   `t_step(b, T) = t_0 + max(2 P b / (F e_c), (R(b) + kv T) / (B e_m))`
//!
//! Attention FLOPs and the KV writes of prefill are ignored (small next to
//! the weight terms at the context lengths of interest).

use crate::llm::catalog::{Device, Model, ModelKind};

/// A model and device combination that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum RooflineError {
    /// The model has no weight size for this quantisation.
    #[error(
        "model `{model}` has no weights for quantisation `{quantisation}`; known: {known} \
         (or add `{quantisation} = <GB>` under [models.{model}.weights_gb] in models.toml)"
    )]
    UnknownQuantisation {
        /// The model.
        model: String,
        /// The quantisation asked for.
        quantisation: String,
        /// The quantisations the model has, comma separated.
        known: String,
    },
    /// The model is not a text generator, so the roofline does not apply.
    #[error(
        "model `{model}` is of kind `{kind}`: its service time is per second of audio, \
         not a prefill/decode roofline; use an `llm` model here"
    )]
    NotAnLlm {
        /// The model.
        model: String,
        /// Its kind.
        kind: ModelKind,
    },
    /// Tensor parallelism of 0 or a parallel efficiency outside (0, 1].
    #[error("{message}")]
    InvalidParallelism {
        /// What is wrong and what would be valid.
        message: String,
    },
    /// Weights plus the KV cache of one request do not fit the memory.
    #[error(
        "`{model}` ({quantisation}) does not fit {tensor_parallel} x {device}: it needs \
         {needed:.1} GB (weights {weights_gb:.1} GB + KV cache of {tokens} tokens \
         {kv_gb:.1} GB) but {usable_gb:.1} GB are usable, {short_gb:.1} GB short; use a \
         device with more memory, more tensor parallelism or a smaller quantisation",
        needed = .weights_gb + .kv_gb
    )]
    DoesNotFit {
        /// The device.
        device: String,
        /// The model.
        model: String,
        /// The quantisation.
        quantisation: String,
        /// Devices in tensor parallel.
        tensor_parallel: u32,
        /// Tokens of the one request checked.
        tokens: u64,
        /// Weight GB.
        weights_gb: f64,
        /// KV GB of the request.
        kv_gb: f64,
        /// Usable memory of the group, GB.
        usable_gb: f64,
        /// `needed_gb - usable_gb`.
        short_gb: f64,
    },
}

/// Service-time model of one model, at one quantisation, on one device or
/// tensor-parallel group. All times are in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct ServingCost {
    device: String,
    model: String,
    quantisation: String,
    tensor_parallel: u32,
    /// Usable bytes of the group (weights + KV).
    usable_bytes: f64,
    /// Effective bandwidth `B * e_m`, bytes/s.
    eff_bandwidth: f64,
    /// Effective compute `F * e_c`, FLOP/s.
    eff_flops: f64,
    /// `t_0`, seconds.
    step_overhead_s: f64,
    /// Active parameters (count).
    active_params: f64,
    /// `Wb`, bytes.
    weight_bytes: f64,
    /// Bytes of the shared (always read) parameters.
    shared_bytes: f64,
    /// Bytes of the routed parameters of one token (`A - S`).
    routed_bytes: f64,
    kv_bytes_per_token: f64,
    context_limit_tokens: u64,
}

impl ServingCost {
    /// Builds the cost model of `model` at `quantisation` on `tensor_parallel`
    /// devices of type `device` with parallel efficiency `tp_efficiency`
    /// (in (0, 1]; ignored when `tensor_parallel` is 1).
    ///
    /// Does not check that the model fits: see [`ServingCost::check_fits`].
    pub fn new(
        device: &Device,
        model: &Model,
        quantisation: &str,
        tensor_parallel: u32,
        tp_efficiency: f64,
    ) -> Result<ServingCost, RooflineError> {
        if model.kind != ModelKind::Llm {
            return Err(RooflineError::NotAnLlm {
                model: model.name.clone(),
                kind: model.kind,
            });
        }
        let weights_gb = *model.weights_gb.get(quantisation).ok_or_else(|| {
            RooflineError::UnknownQuantisation {
                model: model.name.clone(),
                quantisation: quantisation.to_string(),
                known: model.quantisations(),
            }
        })?;
        if tensor_parallel == 0 {
            return Err(RooflineError::InvalidParallelism {
                message: "tensor_parallel must be at least 1 (got 0)".to_string(),
            });
        }
        let g = f64::from(tensor_parallel);
        let scale = if tensor_parallel == 1 {
            1.0
        } else if tp_efficiency.is_finite() && tp_efficiency > 0.0 && tp_efficiency <= 1.0 {
            g * tp_efficiency
        } else {
            return Err(RooflineError::InvalidParallelism {
                message: format!(
                    "tp_efficiency must be greater than 0 and at most 1 (got {tp_efficiency}) \
                     when tensor_parallel is {tensor_parallel}"
                ),
            });
        };
        let tflops = if quantisation == "fp8" {
            device.tflops_fp8.unwrap_or(device.tflops)
        } else {
            device.tflops
        };
        let weight_bytes = weights_gb * 1e9;
        let bytes_per_param = weight_bytes / (model.total_params_b * 1e9);
        let active_bytes = model.active_params_b * 1e9 * bytes_per_param;
        let shared_bytes = model.shared_params_b * 1e9 * bytes_per_param;
        Ok(ServingCost {
            device: device.name.clone(),
            model: model.name.clone(),
            quantisation: quantisation.to_string(),
            tensor_parallel,
            usable_bytes: g * device.mem_gb * 1e9 * device.usable_memory_share,
            eff_bandwidth: scale * device.bandwidth_gb_s * 1e9 * device.bandwidth_efficiency,
            eff_flops: scale * tflops * 1e12 * device.compute_efficiency,
            step_overhead_s: device.step_overhead_s,
            active_params: model.active_params_b * 1e9,
            weight_bytes,
            shared_bytes,
            routed_bytes: active_bytes - shared_bytes,
            kv_bytes_per_token: model.kv_bytes_per_token,
            context_limit_tokens: model.context_limit_tokens,
        })
    }

    /// The same costs in the linear form the batching engine fast-forwards
    /// (see [`crate::llm::step::StepModel`]).
    pub fn step_model(&self) -> crate::llm::step::StepModel {
        crate::llm::step::StepModel {
            t0_s: self.step_overhead_s,
            compute_s_per_token: 2.0 * self.active_params / self.eff_flops,
            weights_full_s: self.weight_bytes / self.eff_bandwidth,
            weights_active_s: self.routed_bytes / self.eff_bandwidth,
            weights_shared_s: self.shared_bytes / self.eff_bandwidth,
            kv_s_per_token: self.kv_bytes_per_token / self.eff_bandwidth,
        }
    }

    /// The device name.
    pub fn device_name(&self) -> &str {
        &self.device
    }

    /// The model name.
    pub fn model_name(&self) -> &str {
        &self.model
    }

    /// The quantisation.
    pub fn quantisation(&self) -> &str {
        &self.quantisation
    }

    /// Devices in tensor parallel.
    pub fn tensor_parallel(&self) -> u32 {
        self.tensor_parallel
    }

    /// The model's context limit, tokens.
    pub fn context_limit_tokens(&self) -> u64 {
        self.context_limit_tokens
    }

    /// Weight bytes `Wb` (all experts).
    pub fn weight_bytes(&self) -> f64 {
        self.weight_bytes
    }

    /// KV-cache bytes per context token.
    pub fn kv_bytes_per_token(&self) -> f64 {
        self.kv_bytes_per_token
    }

    /// Usable bytes of the group: `g * mem_gb * 1e9 * usable_memory_share`.
    pub fn usable_bytes(&self) -> f64 {
        self.usable_bytes
    }

    /// Context tokens the KV cache can hold next to the weights:
    /// `(usable - Wb) / kv`, rounded down, 0 if the weights do not fit.
    pub fn kv_budget_tokens(&self) -> u64 {
        let free = self.usable_bytes - self.weight_bytes;
        if free <= 0.0 {
            0
        } else {
            (free / self.kv_bytes_per_token).floor() as u64
        }
    }

    /// Checks that the weights and the KV cache of one request of
    /// `tokens_one_request` context tokens fit the usable memory.
    pub fn check_fits(&self, tokens_one_request: u64) -> Result<(), RooflineError> {
        let kv = self.kv_bytes_per_token * tokens_one_request as f64;
        let needed = self.weight_bytes + kv;
        if needed <= self.usable_bytes {
            return Ok(());
        }
        Err(RooflineError::DoesNotFit {
            device: self.device.clone(),
            model: self.model.clone(),
            quantisation: self.quantisation.clone(),
            tensor_parallel: self.tensor_parallel,
            tokens: tokens_one_request,
            weights_gb: self.weight_bytes / 1e9,
            kv_gb: kv / 1e9,
            usable_gb: self.usable_bytes / 1e9,
            short_gb: (needed - self.usable_bytes) / 1e9,
        })
    }

    /// Weight bytes read by one forward pass over `tokens` tokens (a decode
    /// batch or a prompt): `min(Wb, S + tokens * (A - S))`; `Wb` for a dense
    /// model, 0 for no tokens.
    pub fn weight_bytes_read(&self, tokens: u64) -> f64 {
        self.bytes_read(tokens as f64)
    }

    fn bytes_read(&self, tokens: f64) -> f64 {
        if tokens <= 0.0 {
            return 0.0;
        }
        (self.shared_bytes + tokens * self.routed_bytes).min(self.weight_bytes)
    }

    /// Time to prefill a prompt of `n_tokens` tokens (one sequence):
    /// `t_0 + max(2 P n / (F e_c), R(n) / (B e_m))`; 0 for an empty prompt.
    pub fn prefill_s(&self, n_tokens: u64) -> f64 {
        if n_tokens == 0 {
            return 0.0;
        }
        let n = n_tokens as f64;
        let compute = 2.0 * self.active_params * n / self.eff_flops;
        let memory = self.bytes_read(n) / self.eff_bandwidth;
        self.step_overhead_s + compute.max(memory)
    }

    /// Time of one decode step of `batch` sequences holding `context_tokens`
    /// context tokens in total:
    /// `t_0 + max(2 P b / (F e_c), (R(b) + kv T) / (B e_m))`; 0 for an empty
    /// batch.
    pub fn decode_step_s(&self, batch: u32, context_tokens: u64) -> f64 {
        self.step_s(f64::from(batch), context_tokens as f64)
    }

    fn step_s(&self, batch: f64, context_tokens: f64) -> f64 {
        if batch <= 0.0 {
            return 0.0;
        }
        let compute = 2.0 * self.active_params * batch / self.eff_flops;
        let memory = (self.bytes_read(batch) + self.kv_bytes_per_token * context_tokens)
            / self.eff_bandwidth;
        self.step_overhead_s + compute.max(memory)
    }

    /// Decode speed of one stream alone (batch 1) at `context_tokens` of
    /// context: `1 / t_step(1, T)`, tokens/s.
    pub fn single_stream_tok_s(&self, context_tokens: u64) -> f64 {
        1.0 / self.decode_step_s(1, context_tokens)
    }

    /// Batch size of a saturated server: `max_batch`, capped by the KV
    /// budget at the mean context of a sequence in steady state,
    /// `floor(kv_budget_tokens / (input + output / 2))`.
    pub fn saturated_batch(&self, input_tokens: u64, output_tokens: u64, max_batch: u32) -> u32 {
        let per_sequence = input_tokens as f64 + output_tokens as f64 / 2.0;
        if per_sequence <= 0.0 {
            return max_batch;
        }
        let by_kv = (self.kv_budget_tokens() as f64 / per_sequence).floor();
        if by_kv < f64::from(max_batch) {
            by_kv as u32
        } else {
            max_batch
        }
    }

    /// Output tokens/s of a server kept full with `b` sequences
    /// ([`ServingCost::saturated_batch`]) of `input_tokens` prompt and
    /// `output_tokens` output tokens each.
    ///
    /// Each sequence needs one prefill of its prompt; in steady state the
    /// sequences are staggered, so a decode step holds `b` sequences at the
    /// mean context `input + output / 2`. One "generation" of `b` sequences
    /// produces `b * out` tokens in `b` prefills plus `out` decode steps:
    ///
    /// `tok/s = b * out / (b * t_pre(in) + out * t_step(b, b * (in + out / 2)))`
    ///
    /// Prefill is counted as not overlapping decode (no chunked prefill), so
    /// this is a lower bound for engines that fuse prefill into decode steps.
    /// 0 when no sequence fits or `output_tokens` is 0.
    pub fn saturated_output_tok_s(
        &self,
        input_tokens: u64,
        output_tokens: u64,
        max_batch: u32,
    ) -> f64 {
        let b = self.saturated_batch(input_tokens, output_tokens, max_batch);
        if b == 0 || output_tokens == 0 {
            return 0.0;
        }
        let b = f64::from(b);
        let out = output_tokens as f64;
        let context = b * (input_tokens as f64 + out / 2.0);
        b * out / (b * self.prefill_s(input_tokens) + out * self.step_s(b, context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::catalog::Catalog;
    use std::collections::BTreeMap;

    /// 100 GB, 1000 GB/s, 100 TFLOPS, perfect efficiency, 1 ms overhead.
    fn device() -> Device {
        Device {
            name: "toy".into(),
            mem_gb: 100.0,
            bandwidth_gb_s: 1000.0,
            tflops: 100.0,
            tflops_fp8: Some(200.0),
            tflops_fp4: None,
            idle_w: 10.0,
            busy_w: 100.0,
            price_usd: 1000.0,
            memory_price_share: 0.5,
            rental_usd_per_h: None,
            bandwidth_efficiency: 1.0,
            compute_efficiency: 1.0,
            step_overhead_s: 0.001,
            usable_memory_share: 1.0,
            speech_to_text_rtf: None,
            text_to_speech_rtf: None,
        }
    }

    /// Dense 10B model, 20 GB at bf16, 10 GB at fp8, 100 kB KV per token.
    fn dense() -> Model {
        Model {
            name: "dense".into(),
            kind: ModelKind::Llm,
            total_params_b: 10.0,
            active_params_b: 10.0,
            shared_params_b: 0.0,
            weights_gb: BTreeMap::from([("bf16".into(), 20.0), ("fp8".into(), 10.0)]),
            kv_bytes_per_token: 100_000.0,
            context_limit_tokens: 10_000,
        }
    }

    /// MoE: 100B total, 5B active of which 1B shared, 1 byte per param.
    fn moe() -> Model {
        Model {
            name: "moe".into(),
            kind: ModelKind::Llm,
            total_params_b: 100.0,
            active_params_b: 5.0,
            shared_params_b: 1.0,
            weights_gb: BTreeMap::from([("fp8".into(), 100.0)]),
            kv_bytes_per_token: 10_000.0,
            context_limit_tokens: 100_000,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
    }

    #[test]
    fn one_request_latency_has_the_closed_form() {
        let c = ServingCost::new(&device(), &dense(), "bf16", 1, 0.5).unwrap();
        // Prefill 1000 tokens: compute 2*10e9*1000/100e12 = 0.2 s, weights
        // 20e9/1e12 = 0.02 s: compute bound.
        assert!(close(c.prefill_s(1000), 0.001 + 0.2));
        // Decode at 1000 tokens of context: (20e9 + 1e8) / 1e12 = 0.0201 s.
        assert!(close(c.decode_step_s(1, 1000), 0.001 + 0.0201));
        assert!(close(c.single_stream_tok_s(1000), 1.0 / 0.0211));
        // A request of 1000 in, 100 out: TTFT + 99 steps (context held fixed
        // at 1000 here for the closed form).
        let e2e = c.prefill_s(1000) + 99.0 * c.decode_step_s(1, 1000);
        assert!(close(e2e, 0.201 + 99.0 * 0.0211));
        assert_eq!(c.weight_bytes(), 20e9);
        assert_eq!(c.usable_bytes(), 100e9);
        assert_eq!(c.kv_budget_tokens(), 800_000);
    }

    #[test]
    fn fp8_uses_the_fp8_compute_and_tensor_parallel_scales() {
        let c = ServingCost::new(&device(), &dense(), "fp8", 1, 1.0).unwrap();
        // 2*10e9*1000 / 200e12 = 0.1 s.
        assert!(close(c.prefill_s(1000), 0.001 + 0.1));
        let tp = ServingCost::new(&device(), &dense(), "bf16", 2, 0.5).unwrap();
        // g * p = 1: same speed as one device, twice the memory.
        assert!(close(tp.prefill_s(1000), 0.001 + 0.2));
        assert_eq!(tp.usable_bytes(), 200e9);
        let mut no_fp8 = device();
        no_fp8.tflops_fp8 = None;
        let c = ServingCost::new(&no_fp8, &dense(), "fp8", 1, 1.0).unwrap();
        assert!(close(c.prefill_s(1000), 0.001 + 0.2));
    }

    #[test]
    fn moe_reads_fewer_bytes_at_batch_1_than_at_batch_256() {
        let c = ServingCost::new(&device(), &moe(), "fp8", 1, 1.0).unwrap();
        // Batch 1: the 5B active params, 5 GB.
        assert!(close(c.weight_bytes_read(1), 5e9));
        // Batch 2: shared 1 GB + 2 x 4 GB routed.
        assert!(close(c.weight_bytes_read(2), 9e9));
        // Batch 256: capped at all 100 GB.
        assert!(close(c.weight_bytes_read(256), 100e9));
        assert!(c.weight_bytes_read(1) < c.weight_bytes_read(256));
        // Dense: always all the weights.
        let d = ServingCost::new(&device(), &dense(), "bf16", 1, 1.0).unwrap();
        assert_eq!(d.weight_bytes_read(1), 20e9);
        assert_eq!(d.weight_bytes_read(256), 20e9);
    }

    #[test]
    fn decode_throughput_grows_with_batch() {
        for model in [dense(), moe()] {
            let q = if model.name == "dense" { "bf16" } else { "fp8" };
            let c = ServingCost::new(&device(), &model, q, 1, 1.0).unwrap();
            let mut last = 0.0;
            for b in [1u32, 2, 4, 8, 16, 32, 64, 128, 256] {
                let tput = f64::from(b) / c.decode_step_s(b, u64::from(b) * 500);
                assert!(tput > last, "{}: batch {b}: {tput} <= {last}", model.name);
                last = tput;
            }
        }
    }

    #[test]
    fn saturated_throughput_follows_the_documented_formula() {
        let c = ServingCost::new(&device(), &dense(), "bf16", 1, 1.0).unwrap();
        // KV budget 800,000 tokens / (1000 + 500) = 533 sequences.
        assert_eq!(c.saturated_batch(1000, 1000, 10_000), 533);
        assert_eq!(c.saturated_batch(1000, 1000, 64), 64);
        let b = 64.0;
        let expected =
            b * 1000.0 / (b * c.prefill_s(1000) + 1000.0 * c.decode_step_s(64, 64 * 1500));
        assert!(close(c.saturated_output_tok_s(1000, 1000, 64), expected));
        assert!(c.saturated_output_tok_s(1000, 1000, 64) > c.single_stream_tok_s(1500));
        assert_eq!(c.saturated_output_tok_s(1000, 0, 64), 0.0);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let e = ServingCost::new(&device(), &dense(), "q4", 1, 1.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`q4`") && e.contains("bf16, fp8"), "{e}");
        let e = ServingCost::new(&device(), &dense(), "bf16", 0, 1.0).unwrap_err();
        assert!(matches!(e, RooflineError::InvalidParallelism { .. }));
        let e = ServingCost::new(&device(), &dense(), "bf16", 2, 1.5).unwrap_err();
        assert!(matches!(e, RooflineError::InvalidParallelism { .. }));
        // One device fits 20 GB of weights + 10,000 tokens x 100 kB = 1 GB.
        let c = ServingCost::new(&device(), &dense(), "bf16", 1, 1.0).unwrap();
        c.check_fits(10_000).unwrap();
        let mut small = device();
        small.mem_gb = 20.5;
        let c = ServingCost::new(&small, &dense(), "bf16", 1, 1.0).unwrap();
        let e = c.check_fits(10_000).unwrap_err().to_string();
        assert!(e.contains("`dense` (bf16) does not fit 1 x toy"), "{e}");
        assert!(e.contains("0.5 GB short"), "{e}");
        assert_eq!(c.kv_budget_tokens(), 5_000);
        small.mem_gb = 10.0;
        let c = ServingCost::new(&small, &dense(), "bf16", 1, 1.0).unwrap();
        assert_eq!(c.kv_budget_tokens(), 0);
        assert_eq!(c.saturated_output_tok_s(100, 100, 8), 0.0);
    }

    #[test]
    fn speech_to_text_is_not_a_roofline() {
        let catalog = Catalog::builtin().unwrap();
        let whisper = catalog.model("whisper_large_v3_turbo").unwrap();
        let d = catalog.device("rtx_4090").unwrap();
        let e = ServingCost::new(d, whisper, "fp16", 1, 1.0).unwrap_err();
        assert!(matches!(e, RooflineError::NotAnLlm { .. }), "{e}");
    }

    #[test]
    fn every_builtin_llm_fits_a_datacenter_gpu_group() {
        let catalog = Catalog::builtin().unwrap();
        let b200 = catalog.device("b200").unwrap();
        for m in catalog.models().filter(|m| m.kind == ModelKind::Llm) {
            for q in m.weights_gb.keys() {
                let c = ServingCost::new(b200, m, q, 2, 0.9).unwrap();
                c.check_fits(m.context_limit_tokens).unwrap();
                assert!(c.single_stream_tok_s(1000) > 0.0);
            }
        }
    }
}
