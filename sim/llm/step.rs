//! The cost of one engine step on one server, in the linear form the
//! fast-forward needs (docs/model.md section 5):
//!
//! - decode step of `b` sequences holding `T` context tokens:
//!   `t0 + max(c * b, w(b) + k * T)` with `c` compute seconds per token,
//!   `w(b) = min(W_full, b * w_active + w_shared)` weight-read seconds
//!   (mixture-of-experts models read only the active experts at small batch)
//!   and `k` KV-read seconds per context token;
//! - prefill of `n` prompt tokens: `t0 + max(c * n, w(n))`.
//!
//! Between two changes of batch membership only `T` changes, by `b` per step,
//! so the time of `m` consecutive steps has a closed form
//! ([`StepModel::decode_run_s`]) and so does its inverse
//! ([`StepModel::steps_within`]).

/// Per-step cost coefficients of one model on one server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepModel {
    /// Fixed per-step overhead (kernel launches, sampling, scheduling), seconds.
    pub t0_s: f64,
    /// Compute seconds per token processed: `2 * active_params / (flops * e_c)`.
    pub compute_s_per_token: f64,
    /// Seconds to read all weights once: `weight_bytes / (bandwidth * e_m)`.
    pub weights_full_s: f64,
    /// Seconds to read one token's active expert weights (equals
    /// `weights_full_s` minus shared for dense models).
    pub weights_active_s: f64,
    /// Seconds to read the weights every token uses (attention, embeddings).
    pub weights_shared_s: f64,
    /// Seconds to read one context token's KV cache.
    pub kv_s_per_token: f64,
}

impl StepModel {
    /// Weight-read seconds of a step serving `tokens` tokens (sequences in decode).
    #[inline]
    pub fn weights_s(&self, tokens: f64) -> f64 {
        (tokens * self.weights_active_s + self.weights_shared_s).min(self.weights_full_s)
    }

    /// One decode step of `batch` sequences holding `context_tokens` in total.
    #[inline]
    pub fn decode_step_s(&self, batch: u32, context_tokens: u64) -> f64 {
        let b = batch as f64;
        self.t0_s
            + (self.compute_s_per_token * b)
                .max(self.weights_s(b) + self.kv_s_per_token * context_tokens as f64)
    }

    /// Prefill of `prompt_tokens` tokens (one or several prompts together).
    #[inline]
    pub fn prefill_s(&self, prompt_tokens: u64) -> f64 {
        let n = prompt_tokens.max(1) as f64;
        self.t0_s + (self.compute_s_per_token * n).max(self.weights_s(n))
    }

    /// One chunked-prefill step: `chunk` prompt tokens processed together
    /// with one decode token for each of `batch` sequences holding
    /// `context_tokens` (Sarathi-Serve style mixed batch).
    #[inline]
    pub fn mixed_step_s(&self, batch: u32, context_tokens: u64, chunk: u64) -> f64 {
        let tokens = batch as f64 + chunk as f64;
        self.t0_s
            + (self.compute_s_per_token * tokens)
                .max(self.weights_s(tokens) + self.kv_s_per_token * context_tokens as f64)
    }

    /// Time of `steps` consecutive decode steps of `batch` sequences starting
    /// with `context_tokens` in total (growing by `batch` per step).
    pub fn decode_run_s(&self, batch: u32, context_tokens: u64, steps: u64) -> f64 {
        if steps == 0 {
            return 0.0;
        }
        let b = batch as f64;
        let k = steps as f64;
        let compute = self.compute_s_per_token * b;
        let mem0 = self.weights_s(b) + self.kv_s_per_token * context_tokens as f64;
        let slope = self.kv_s_per_token * b; // growth of the memory term per step
                                             // Steps j < j_star are compute bound (mem_j < compute).
        let j_star = if mem0 >= compute {
            0.0
        } else if slope <= 0.0 {
            k
        } else {
            ((compute - mem0) / slope).ceil().clamp(0.0, k)
        };
        let mem_steps = k - j_star;
        // sum_{j=j_star}^{k-1} j = (j_star + k - 1) * (k - j_star) / 2
        let sum_j = (j_star + k - 1.0) * mem_steps / 2.0;
        k * self.t0_s + j_star * compute + mem_steps * mem0 + slope * sum_j
    }

    /// The largest `m <= max_steps` whose run of `m` steps takes at most
    /// `elapsed_s` (steps completed by then).
    pub fn steps_within(
        &self,
        batch: u32,
        context_tokens: u64,
        max_steps: u64,
        elapsed_s: f64,
    ) -> u64 {
        let (mut lo, mut hi) = (0u64, max_steps);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if self.decode_run_s(batch, context_tokens, mid) <= elapsed_s {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    }

    /// Service time of one request alone on a device (batch 1): prefill,
    /// then `output_tokens - 1` decode steps (the prefill yields the first token).
    pub fn single_request_s(&self, input_tokens: u64, output_tokens: u64) -> (f64, f64) {
        let prefill = self.prefill_s(input_tokens);
        let decode = self.decode_run_s(1, input_tokens + 1, output_tokens.saturating_sub(1));
        (prefill, decode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> StepModel {
        StepModel {
            t0_s: 0.003,
            compute_s_per_token: 1e-4,
            weights_full_s: 0.02,
            weights_active_s: 0.002,
            weights_shared_s: 0.001,
            kv_s_per_token: 1e-7,
        }
    }

    #[test]
    fn run_equals_sum_of_steps() {
        let m = model();
        for (b, t0, k) in [
            (1u32, 100u64, 50u64),
            (64, 10_000, 300),
            (400, 1_000, 1000),
            (256, 5_000_000, 7),
        ] {
            let direct: f64 = (0..k).map(|j| m.decode_step_s(b, t0 + b as u64 * j)).sum();
            let closed = m.decode_run_s(b, t0, k);
            assert!(
                (direct - closed).abs() <= 1e-9 * direct.max(1.0),
                "b={b}: {direct} vs {closed}"
            );
        }
    }

    #[test]
    fn steps_within_inverts_run() {
        let m = model();
        let total = m.decode_run_s(200, 1000, 500);
        assert_eq!(m.steps_within(200, 1000, 500, total), 500);
        assert_eq!(m.steps_within(200, 1000, 500, 0.0), 0);
        let t = m.decode_run_s(200, 1000, 123) + 1e-12;
        assert_eq!(m.steps_within(200, 1000, 500, t), 123);
    }

    #[test]
    fn moe_reads_fewer_weights_at_small_batch() {
        let m = model();
        assert!(m.weights_s(1.0) < m.weights_s(256.0));
        assert_eq!(m.weights_s(1e6), m.weights_full_s);
    }
}
