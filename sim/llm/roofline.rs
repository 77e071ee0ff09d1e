//! Roofline step costs of one model on one device or one tensor-parallel
//! group of identical devices, under one serving engine (docs/model.md
//! section 5), turned into the [`StepModel`] the batching engine runs.
//!
//! With `g` devices in tensor parallel: memory `M = g * mem`, bandwidth
//! `B = g * bw * e_m`, compute `F = g * tflops(q) * e_c` where `tflops(q)` is
//! the device's rate at the weights' precision (FP4 units for MXFP4/FP4 if
//! the device has them, FP8 units for FP8, else BF16: weight-only formats
//! such as Q4 or MXFP4 on a chip without FP4 units run at the BF16 rate) and
//! `e_m`, `e_c` the (device, engine) profile's efficiencies. The
//! tensor-parallel cost is time per step, two all-reduces per layer, each
//! `alpha + 2 (g - 1) / g * n * hidden * 2 bytes / link`, not a multiplier.
//!
//! Weight bytes read by a step of `n` tokens: the dense part (attention,
//! router, unembedding; a dense model's whole checkpoint) plus the experts
//! the tokens touch, `E_p (1 - (1 - k / E_p)^n)` of a layer's `E` experts
//! (`E_p = max(k, pool_share * E)`; `pool_share = 1` is uniform routing).
//!
//! KV per token: the full-attention layers' bytes per context token, and for
//! models with sliding-window layers a fixed part per sequence (the window).
//! KV at FP8 halves both.
//!
//! Attention FLOPs and the KV writes of prefill are ignored (small next to
//! the weight terms at the context lengths of interest).

use crate::llm::catalog::{Catalog, CatalogError, Device, Model, ModelKind};
use crate::llm::engines::{Engine, Profile, WeightsFormat};
use crate::llm::step::StepModel;

/// Link bandwidth assumed between devices that have no `link_gb_s` (PCIe
/// 4.0 x16, per direction, achieved), GB/s.
const PCIE_LINK_GB_S: f64 = 25.0;

/// Precision of the KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvPrecision {
    /// 2 bytes per value (the catalogue's KV sizes).
    Bf16,
    /// 1 byte per value.
    Fp8,
}

impl KvPrecision {
    /// Parses `bf16` or `fp8`.
    pub fn parse(s: &str) -> Option<KvPrecision> {
        match s {
            "bf16" | "fp16" => Some(KvPrecision::Bf16),
            "fp8" => Some(KvPrecision::Fp8),
            _ => None,
        }
    }

    fn scale(self) -> f64 {
        match self {
            KvPrecision::Bf16 => 1.0,
            KvPrecision::Fp8 => 0.5,
        }
    }
}

/// Everything that decides a server's step costs besides the device and
/// the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ServingOptions {
    /// Quantisation (a key of the model's `weights_gb`).
    pub quantisation: String,
    /// Devices in tensor parallel (1 = one device).
    pub tensor_parallel: u32,
    /// The serving engine.
    pub engine: Engine,
    /// Its step-cost profile on the device.
    pub profile: Profile,
    /// Share of a layer's experts a batch draws from.
    pub pool_share: f64,
    /// KV cache precision.
    pub kv_precision: KvPrecision,
}

impl ServingOptions {
    /// Most sequences in one step: the profile's override, else the engine's.
    pub fn max_batch(&self) -> u32 {
        self.profile.max_batch.unwrap_or(self.engine.max_batch)
    }

    /// Chunked prefill budget: the profile's override, else the engine's.
    pub fn chunked_prefill_tokens(&self) -> Option<u32> {
        self.profile
            .chunked_prefill_tokens
            .or(self.engine.chunked_prefill_tokens)
    }

    /// The options of `engine` (or the device's default engine) from the
    /// catalogue.
    pub fn from_catalog(
        catalog: &Catalog,
        device: &Device,
        model: &Model,
        quantisation: &str,
        tensor_parallel: u32,
        engine: Option<&str>,
    ) -> Result<ServingOptions, CatalogError> {
        let engines = catalog.engines();
        let name = engine.unwrap_or(&device.default_engine);
        let engine = engines.engine(name)?.clone();
        let profile = engines.profile(&device.name, name)?.clone();
        Ok(ServingOptions {
            quantisation: quantisation.to_string(),
            tensor_parallel,
            pool_share: engines.pool_share(&model.name, name),
            engine,
            profile,
            kv_precision: KvPrecision::Bf16,
        })
    }
}

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
    /// Tensor parallelism of 0.
    #[error("tensor_parallel must be at least 1 (got 0)")]
    NoDevices,
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
/// tensor-parallel group, under one engine. All times are in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct ServingCost {
    device: String,
    model: String,
    quantisation: String,
    tensor_parallel: u32,
    engine: Engine,
    /// Usable bytes of the group (weights + KV).
    usable_bytes: f64,
    /// Bytes the weights take in memory.
    weight_bytes: f64,
    kv_bytes_per_token: f64,
    /// KV bytes a sequence holds whatever its length (sliding window).
    kv_bytes_per_sequence: f64,
    context_limit_tokens: u64,
    step: StepModel,
}

impl ServingCost {
    /// Builds the cost model of `model` on `options.tensor_parallel` devices
    /// of type `device`. Does not check that the model fits: see
    /// [`ServingCost::check_fits`].
    pub fn new(
        device: &Device,
        model: &Model,
        options: &ServingOptions,
    ) -> Result<ServingCost, RooflineError> {
        if model.kind != ModelKind::Llm {
            return Err(RooflineError::NotAnLlm {
                model: model.name.clone(),
                kind: model.kind,
            });
        }
        let q = options.quantisation.as_str();
        let weights_gb =
            *model
                .weights_gb
                .get(q)
                .ok_or_else(|| RooflineError::UnknownQuantisation {
                    model: model.name.clone(),
                    quantisation: q.to_string(),
                    known: model.quantisations(),
                })?;
        if options.tensor_parallel == 0 {
            return Err(RooflineError::NoDevices);
        }
        let g = f64::from(options.tensor_parallel);
        let p = &options.profile;
        let bandwidth = g * device.bandwidth_gb_s * 1e9 * p.bandwidth_efficiency.at(q);
        let flops = g * peak_tflops(device, q) * 1e12 * p.compute_efficiency.at(q);
        let layers = f64::from(model.layers);
        let (dense_bytes, expert_bytes, pool, per_token) =
            weight_reads(model, q, weights_gb, options);
        let kv_scale = options.kv_precision.scale();
        let kv = model.kv_bytes_per_token * kv_scale;
        let window = model.window.map_or(0.0, |w| {
            w.kv_bytes_per_token * kv_scale * f64::from(w.tokens)
        });
        let (tp_fixed_s, tp_s_per_token) = if options.tensor_parallel > 1 {
            let link = device.link_gb_s.unwrap_or(PCIE_LINK_GB_S) * 1e9;
            let bytes_per_token = 2.0 * (g - 1.0) / g * f64::from(model.hidden_size) * 2.0;
            (
                2.0 * layers * p.allreduce_latency_s,
                2.0 * layers * bytes_per_token / link,
            )
        } else {
            (0.0, 0.0)
        };
        let step = StepModel {
            layer_fixed_s: layers * p.layer_overhead_s,
            sequence_s: p.sequence_overhead_s,
            tp_fixed_s,
            tp_s_per_token,
            compute_s_per_token: 2.0 * model.active_params_b * 1e9 / flops,
            dense_s: dense_bytes / bandwidth,
            expert_s: expert_bytes / bandwidth,
            expert_pool: pool,
            experts_per_token: per_token,
            window_s_per_seq: window / bandwidth,
            kv_s_per_token: kv / bandwidth,
            idle_w: g * device.idle_w,
            memory_w: g * device.memory_power_w,
            compute_w: g * device.compute_power_w,
            busy_w: g * device.busy_w,
        };
        Ok(ServingCost {
            device: device.name.clone(),
            model: model.name.clone(),
            quantisation: q.to_string(),
            tensor_parallel: options.tensor_parallel,
            engine: options.engine.clone(),
            usable_bytes: g * device.mem_gb * 1e9 * device.usable_memory_share,
            weight_bytes: weights_gb * 1e9,
            kv_bytes_per_token: kv,
            kv_bytes_per_sequence: window,
            context_limit_tokens: model.context_limit_tokens,
            step,
        })
    }

    /// The step costs the batching engine runs.
    pub fn step_model(&self) -> StepModel {
        self.step
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

    /// The serving engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The model's context limit, tokens.
    pub fn context_limit_tokens(&self) -> u64 {
        self.context_limit_tokens
    }

    /// Weight bytes in memory.
    pub fn weight_bytes(&self) -> f64 {
        self.weight_bytes
    }

    /// KV-cache bytes per full-attention context token.
    pub fn kv_bytes_per_token(&self) -> f64 {
        self.kv_bytes_per_token
    }

    /// KV a sequence holds whatever its length (sliding-window layers), in
    /// full-attention token equivalents, rounded up.
    pub fn kv_fixed_tokens_per_sequence(&self) -> u64 {
        (self.kv_bytes_per_sequence / self.kv_bytes_per_token).ceil() as u64
    }

    /// Usable bytes of the group: `g * mem_gb * 1e9 * usable_memory_share`.
    pub fn usable_bytes(&self) -> f64 {
        self.usable_bytes
    }

    /// Context tokens the KV cache can hold next to the weights:
    /// `(usable - weights) / kv`, rounded down, 0 if the weights do not fit.
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
        let kv = self.kv_bytes_per_token * tokens_one_request as f64 + self.kv_bytes_per_sequence;
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

    /// Time to prefill a prompt of `n_tokens` tokens alone; 0 for an empty prompt.
    pub fn prefill_s(&self, n_tokens: u64) -> f64 {
        if n_tokens == 0 {
            return 0.0;
        }
        self.step.prefill_s(n_tokens)
    }

    /// Time of one decode step of `batch` sequences holding `context_tokens`
    /// full-attention context tokens in total; 0 for an empty batch.
    pub fn decode_step_s(&self, batch: u32, context_tokens: u64) -> f64 {
        if batch == 0 {
            return 0.0;
        }
        self.step.decode_step_s(batch, context_tokens)
    }

    /// Decode speed of one stream alone at `context_tokens` of context, tok/s.
    pub fn single_stream_tok_s(&self, context_tokens: u64) -> f64 {
        1.0 / self.decode_step_s(1, context_tokens)
    }
}

/// The device's peak TFLOPS at the weights' precision.
fn peak_tflops(device: &Device, quantisation: &str) -> f64 {
    match quantisation {
        "fp8" => device.tflops_fp8.unwrap_or(device.tflops),
        "mxfp4" | "fp4" | "nvfp4" => device.tflops_fp4.unwrap_or(device.tflops),
        _ => device.tflops,
    }
}

/// (dense bytes read per step, bytes of one expert in all layers, expert
/// pool, experts per token) of `model` at `q` in the engine's weight format.
fn weight_reads(
    model: &Model,
    q: &str,
    weights_gb: f64,
    options: &ServingOptions,
) -> (f64, f64, f64, f64) {
    let Some(moe) = &model.moe else {
        return (weights_gb * 1e9, 0.0, 1.0, 1.0);
    };
    let dense_gb = match options.engine.weights_format {
        WeightsFormat::Gguf => moe.dense_gb_gguf.get(q).or(moe.dense_gb.get(q)),
        WeightsFormat::Checkpoint => moe.dense_gb.get(q),
    }
    .copied()
    .unwrap_or(0.0);
    let experts = f64::from(moe.experts);
    let k = f64::from(moe.experts_per_token);
    let expert_gb = moe.expert_gb.get(q).copied().unwrap_or(0.0);
    let pool = (options.pool_share * experts).clamp(k, experts);
    (dense_gb * 1e9, expert_gb * 1e9 / experts, pool, k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::engines::{Efficiency, KvPolicy};
    use std::collections::BTreeMap;

    /// 100 GB, 1000 GB/s, 100 TFLOPS, 50 GB/s link.
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
            memory_power_w: 50.0,
            compute_power_w: 80.0,
            host_w: 0.0,
            link_gb_s: Some(50.0),
            default_engine: "toy".into(),
            price_usd: 1000.0,
            memory_price_share: 0.5,
            rental_usd_per_h: None,
            usable_memory_share: 1.0,
            speech_to_text_rtf: None,
            text_to_speech_rtf: None,
            ownership: crate::llm::ownership::DeviceOwnership::plain(4.0),
        }
    }

    /// Dense 10B model, 10 layers, 20 GB at bf16, 10 GB at fp8, 100 kB KV per token.
    fn dense() -> Model {
        Model {
            name: "dense".into(),
            kind: ModelKind::Llm,
            total_params_b: 10.0,
            active_params_b: 10.0,
            layers: 10,
            hidden_size: 1000,
            moe: None,
            weights_gb: BTreeMap::from([("bf16".into(), 20.0), ("fp8".into(), 10.0)]),
            kv_bytes_per_token: 100_000.0,
            window: None,
            context_limit_tokens: 10_000,
        }
    }

    /// MoE: 100 experts, 4 per token, 96 GB of experts + 4 GB dense at fp8.
    fn moe() -> Model {
        Model {
            name: "moe".into(),
            kind: ModelKind::Llm,
            total_params_b: 100.0,
            active_params_b: 7.84,
            layers: 10,
            hidden_size: 1000,
            moe: Some(crate::llm::catalog::Moe {
                experts: 100,
                experts_per_token: 4,
                expert_gb: BTreeMap::from([("fp8".into(), 96.0)]),
                dense_gb: BTreeMap::from([("fp8".into(), 4.0)]),
                dense_gb_gguf: BTreeMap::new(),
            }),
            weights_gb: BTreeMap::from([("fp8".into(), 100.0)]),
            kv_bytes_per_token: 10_000.0,
            window: None,
            context_limit_tokens: 100_000,
        }
    }

    fn options(q: &str, tp: u32) -> ServingOptions {
        ServingOptions {
            quantisation: q.into(),
            tensor_parallel: tp,
            engine: Engine {
                name: "toy".into(),
                kv: KvPolicy::Reserved,
                max_batch: 8,
                chunked_prefill_tokens: None,
                weights_format: WeightsFormat::Checkpoint,
            },
            profile: Profile {
                layer_overhead_s: 1e-4,
                sequence_overhead_s: 0.0,
                allreduce_latency_s: 1e-5,
                bandwidth_efficiency: Efficiency::uniform(1.0),
                compute_efficiency: Efficiency::uniform(1.0),
                max_batch: None,
                chunked_prefill_tokens: None,
                source: String::new(),
                fitted: Vec::new(),
                like: None,
            },
            pool_share: 1.0,
            kv_precision: KvPrecision::Bf16,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
    }

    #[test]
    fn one_request_latency_has_the_closed_form() {
        let c = ServingCost::new(&device(), &dense(), &options("bf16", 1)).unwrap();
        // Fixed: 10 layers x 0.1 ms = 1 ms. Prefill 1000 tokens: compute
        // 2*10e9*1000/100e12 = 0.2 s, weights 20e9/1e12 = 0.02 s.
        assert!(close(c.prefill_s(1000), 0.001 + 0.2));
        // Decode at 1000 tokens of context: (20e9 + 1e8) / 1e12 = 0.0201 s.
        assert!(close(c.decode_step_s(1, 1000), 0.001 + 0.0201));
        assert!(close(c.single_stream_tok_s(1000), 1.0 / 0.0211));
        assert_eq!(c.weight_bytes(), 20e9);
        assert_eq!(c.kv_budget_tokens(), 800_000);
    }

    #[test]
    fn fp8_uses_fp8_compute_and_tensor_parallel_adds_time_per_step() {
        let c = ServingCost::new(&device(), &dense(), &options("fp8", 1)).unwrap();
        assert!(close(c.prefill_s(1000), 0.001 + 0.1));
        let tp = ServingCost::new(&device(), &dense(), &options("bf16", 2)).unwrap();
        // Two devices: half the weight time, plus 2 x 10 all-reduces of
        // 10 us + (2 x 1/2 x 1000 x 2 bytes) / 50 GB/s per token.
        let per_token = 20.0 * 1000.0 * 2.0 / 50e9;
        let expected = 0.001 + 20.0 * 1e-5 + per_token + (20e9 + 1e8) / 2e12;
        assert!(
            close(tp.decode_step_s(1, 1000), expected),
            "{}",
            tp.decode_step_s(1, 1000)
        );
        assert_eq!(tp.usable_bytes(), 200e9);
    }

    #[test]
    fn moe_reads_the_active_experts_at_batch_1_and_never_more_than_all() {
        let c = ServingCost::new(&device(), &moe(), &options("fp8", 1)).unwrap();
        let s = c.step_model();
        // Batch 1: dense 4 GB + 4 experts x 0.96 GB.
        assert!(close(s.weights_s(1.0), (4e9 + 4.0 * 0.96e9) / 1e12));
        // Batch 2: 100 (1 - 0.96^2) = 7.84 experts.
        assert!(close(s.weights_s(2.0), (4e9 + 7.84 * 0.96e9) / 1e12));
        assert!(s.weights_s(1e5) <= 100e9 / 1e12 * (1.0 + 1e-12));
        let mut half = options("fp8", 1);
        half.pool_share = 0.5;
        let h = ServingCost::new(&device(), &moe(), &half)
            .unwrap()
            .step_model();
        assert!(close(h.weights_s(1.0), s.weights_s(1.0)));
        assert!(h.weights_s(64.0) < s.weights_s(64.0));
        assert!(close(h.weights_s(1e6), (4e9 + 50.0 * 0.96e9) / 1e12));
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let e = ServingCost::new(&device(), &dense(), &options("q4", 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`q4`") && e.contains("bf16, fp8"), "{e}");
        let e = ServingCost::new(&device(), &dense(), &options("bf16", 0)).unwrap_err();
        assert!(matches!(e, RooflineError::NoDevices));
        let mut small = device();
        small.mem_gb = 20.5;
        let c = ServingCost::new(&small, &dense(), &options("bf16", 1)).unwrap();
        let e = c.check_fits(10_000).unwrap_err().to_string();
        assert!(e.contains("`dense` (bf16) does not fit 1 x toy"), "{e}");
        assert!(e.contains("0.5 GB short"), "{e}");
        assert_eq!(c.kv_budget_tokens(), 5_000);
    }

    #[test]
    fn speech_to_text_is_not_a_roofline() {
        let catalog = Catalog::builtin().unwrap();
        let whisper = catalog.model("whisper_large_v3_turbo").unwrap();
        let d = catalog.device("rtx_4090").unwrap();
        let o = ServingOptions::from_catalog(&catalog, d, whisper, "fp16", 1, None).unwrap();
        let e = ServingCost::new(d, whisper, &o).unwrap_err();
        assert!(matches!(e, RooflineError::NotAnLlm { .. }), "{e}");
    }

    #[test]
    fn every_builtin_llm_fits_a_datacenter_gpu_group_under_every_engine() {
        let catalog = Catalog::builtin().unwrap();
        let b200 = catalog.device("b200").unwrap();
        for m in catalog.models().filter(|m| m.kind == ModelKind::Llm) {
            for q in m.weights_gb.keys() {
                for engine in ["vllm", "sglang", "trtllm"] {
                    let o = ServingOptions::from_catalog(&catalog, b200, m, q, 2, Some(engine))
                        .unwrap();
                    let c = ServingCost::new(b200, m, &o).unwrap();
                    c.check_fits(m.context_limit_tokens).unwrap();
                    assert!(c.single_stream_tok_s(1000) > 0.0);
                }
            }
        }
    }

    #[test]
    fn every_device_has_a_profile_for_its_default_engine() {
        let catalog = Catalog::builtin().unwrap();
        for d in catalog.devices() {
            catalog
                .engines()
                .profile(&d.name, &d.default_engine)
                .unwrap();
        }
        let e = catalog
            .engines()
            .profile("rtx_4090", "trtllm")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rtx_4090") && e.contains("trtllm") && e.contains("h100_sxm.vllm"),
            "{e}"
        );
    }
}
