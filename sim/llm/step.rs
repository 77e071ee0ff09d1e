//! The cost and energy of one engine step on one server (a device or a
//! tensor-parallel group), in the form the fast-forward needs
//! (docs/model.md section 5).
//!
//! A step over `n` tokens (a decode batch of `b` sequences, a prompt, or a
//! mixed step) costs
//!
//! `fixed(n) + max(c * n, w(n) + v * b + k * T)`
//!
//! - `fixed(n) = L * t_layer + t_seq * b + tp(n)`: the per-layer overhead, a
//!   cost per sequence, and the tensor-parallel all-reduces,
//!   `tp(n) = 2 L (alpha + n * beta)` (0 on one device);
//! - `c`: compute seconds per token;
//! - `w(n) = d + x * E_p (1 - (1 - k / E_p)^n)`: weight-read seconds, the
//!   dense part `d` plus the experts the step's tokens touch (`x` seconds per
//!   expert across all layers; `E_p` the expert pool, `k` experts per token;
//!   0 experts for a dense model). `w(1)` is the active weights, `w` grows
//!   with `n` and never exceeds all the weights;
//! - `v`: a sequence's sliding-window KV (held at the window, whatever its
//!   length) and `k`: seconds per full-attention context token, `T` tokens
//!   in total.
//!
//! Between two changes of batch membership only `T` changes, by `b` per step,
//! so the time of `m` consecutive steps has a closed form
//! ([`StepModel::decode_run_s`]), and so does its inverse
//! ([`StepModel::steps_within`]) and its energy
//! ([`StepModel::decode_run_active_j`]).
//!
//! Energy: a step's board energy is `idle_w * t + memory_w * t_mem +
//! compute_w * t_comp`, `t_mem` the memory term and `t_comp = c * n`, at most
//! `busy_w * t`. The `*_active_j` methods return the part above idle.

/// Per-step cost and power coefficients of one model on one server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepModel {
    /// Fixed cost of every step: layers x per-layer overhead, seconds.
    pub layer_fixed_s: f64,
    /// Cost per sequence in a step, seconds.
    pub sequence_s: f64,
    /// Tensor-parallel latency per step (2 L all-reduces), seconds.
    pub tp_fixed_s: f64,
    /// Tensor-parallel transfer per token in a step, seconds.
    pub tp_s_per_token: f64,
    /// Compute seconds per token processed.
    pub compute_s_per_token: f64,
    /// Seconds to read the weights every step reads (dense model: all).
    pub dense_s: f64,
    /// Seconds to read one expert in every layer (0 for dense models).
    pub expert_s: f64,
    /// Expert pool `E_p` a batch's tokens draw from.
    pub expert_pool: f64,
    /// Routed experts per token, `k`.
    pub experts_per_token: f64,
    /// Seconds to read one sequence's sliding-window KV.
    pub window_s_per_seq: f64,
    /// Seconds to read one full-attention context token's KV.
    pub kv_s_per_token: f64,
    /// Power of the server when idle, W.
    pub idle_w: f64,
    /// Power above idle while streaming memory, W.
    pub memory_w: f64,
    /// Power above idle while compute bound, W.
    pub compute_w: f64,
    /// Most power of the server, W.
    pub busy_w: f64,
}

/// The constant parts of a run of decode steps at one batch size and
/// starting context ([`StepModel::decode_run`]): computed once per run, so
/// that asking how far a run has got costs no transcendental functions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeRun {
    fixed: f64,
    compute: f64,
    mem0: f64,
    slope: f64,
    /// Steps before the run turns memory bound: 0 when it starts memory
    /// bound, infinite when it never does, else `ceil((compute - mem0) /
    /// slope)` (computed once; `time_s` and `inverse` cap it).
    compute_bound_steps: f64,
}

impl DecodeRun {
    /// Time of the first `steps` steps of the run.
    #[inline]
    pub fn time_s(&self, steps: u64) -> f64 {
        if steps == 0 {
            return 0.0;
        }
        let k = steps as f64;
        // Steps j < j_star are compute bound (mem_j < compute).
        let j_star = self.compute_bound_steps.min(k);
        let mem_steps = k - j_star;
        // sum_{j=j_star}^{k-1} j = (j_star + k - 1) * (k - j_star) / 2
        let sum_j = (j_star + k - 1.0) * mem_steps / 2.0;
        k * self.fixed + j_star * self.compute + mem_steps * self.mem0 + self.slope * sum_j
    }

    /// The largest `m <= max_steps` whose first `m` steps take at most
    /// `elapsed_s` (steps completed by then): the inverse of the closed form
    /// (a line, then a quadratic), corrected to the exact integer.
    pub fn steps_within(&self, max_steps: u64, elapsed_s: f64) -> u64 {
        if max_steps == 0 || elapsed_s.is_nan() || elapsed_s < 0.0 {
            return 0;
        }
        let guess = self.inverse(elapsed_s);
        let mut m = if guess.is_finite() {
            // `as` truncates and saturates: the floor, 0 below zero.
            (guess as u64).min(max_steps)
        } else {
            max_steps
        };
        while m < max_steps && self.time_s(m + 1) <= elapsed_s {
            m += 1;
        }
        while m > 0 && self.time_s(m) > elapsed_s {
            m -= 1;
        }
        m
    }

    /// Real-valued steps that take `t` seconds.
    fn inverse(&self, t: f64) -> f64 {
        let per = self.fixed + self.compute;
        let j_star = self.compute_bound_steps;
        let (base, left) = if j_star > 0.0 {
            if j_star.is_infinite() || t <= j_star * per {
                return t / per;
            }
            (j_star, t - j_star * per)
        } else {
            (0.0, t)
        };
        // Memory-bound from step `base`: step j costs fixed + mem0 + slope j.
        let a = self.slope / 2.0;
        let b = self.fixed + self.mem0 + self.slope * base - a;
        let n = if a <= 0.0 {
            left / b
        } else {
            (-b + (b * b + 4.0 * a * left).sqrt()) / (2.0 * a)
        };
        base + n
    }
}

impl StepModel {
    /// A dense model's step costs with no per-sequence, tensor-parallel or
    /// window terms: `t0 + max(c * n, w + k * T)`, power zero (for tests and
    /// hand-built servers).
    pub fn simple(
        t0_s: f64,
        compute_s_per_token: f64,
        weights_s: f64,
        kv_s_per_token: f64,
    ) -> Self {
        StepModel {
            layer_fixed_s: t0_s,
            sequence_s: 0.0,
            tp_fixed_s: 0.0,
            tp_s_per_token: 0.0,
            compute_s_per_token,
            dense_s: weights_s,
            expert_s: 0.0,
            expert_pool: 1.0,
            experts_per_token: 1.0,
            window_s_per_seq: 0.0,
            kv_s_per_token,
            idle_w: 0.0,
            memory_w: 0.0,
            compute_w: 0.0,
            busy_w: 0.0,
        }
    }

    /// Expected experts (per layer) the tokens of a step touch:
    /// `E_p (1 - (1 - k / E_p)^n)`; 0 for no tokens.
    #[inline]
    pub fn experts_touched(&self, tokens: f64) -> f64 {
        if tokens <= 0.0 || self.expert_s == 0.0 {
            return 0.0;
        }
        let miss = 1.0 - self.experts_per_token / self.expert_pool;
        if miss <= 0.0 {
            return self.expert_pool;
        }
        self.expert_pool * -(tokens * (-self.experts_per_token / self.expert_pool).ln_1p()).exp_m1()
    }

    /// Weight-read seconds of a step over `tokens` tokens; 0 for none.
    #[inline]
    pub fn weights_s(&self, tokens: f64) -> f64 {
        if tokens <= 0.0 {
            return 0.0;
        }
        self.dense_s + self.expert_s * self.experts_touched(tokens)
    }

    /// Fixed part of a step over `tokens` tokens of `sequences` sequences.
    #[inline]
    fn fixed_s(&self, sequences: f64, tokens: f64) -> f64 {
        self.layer_fixed_s
            + self.sequence_s * sequences
            + self.tp_fixed_s
            + self.tp_s_per_token * tokens
    }

    /// The run of decode steps of `batch` sequences from `context_tokens`.
    #[inline]
    pub fn decode_run(&self, batch: u32, context_tokens: u64) -> DecodeRun {
        self.decode_run_reading(batch, context_tokens, self.weights_s(f64::from(batch)))
    }

    /// [`StepModel::decode_run`] given its weight-read seconds
    /// `weights_s(batch)`, for callers that keep a table of them (the
    /// expert-coverage term costs two transcendental functions).
    #[inline]
    pub fn decode_run_reading(&self, batch: u32, context_tokens: u64, weights_s: f64) -> DecodeRun {
        let b = f64::from(batch);
        let compute = self.compute_s_per_token * b;
        let mem0 =
            weights_s + self.window_s_per_seq * b + self.kv_s_per_token * context_tokens as f64;
        let slope = self.kv_s_per_token * b;
        let compute_bound_steps = if mem0 >= compute {
            0.0
        } else if slope <= 0.0 {
            f64::INFINITY
        } else {
            ((compute - mem0) / slope).ceil().max(0.0)
        };
        DecodeRun {
            fixed: self.fixed_s(b, b),
            compute,
            mem0,
            slope,
            compute_bound_steps,
        }
    }

    /// One decode step of `batch` sequences holding `context_tokens` in total.
    #[inline]
    pub fn decode_step_s(&self, batch: u32, context_tokens: u64) -> f64 {
        let r = self.decode_run(batch, context_tokens);
        r.fixed + r.compute.max(r.mem0)
    }

    /// Prefill of `prompt_tokens` tokens (one or several prompts together).
    #[inline]
    pub fn prefill_s(&self, prompt_tokens: u64) -> f64 {
        let n = prompt_tokens.max(1) as f64;
        self.fixed_s(1.0, n) + (self.compute_s_per_token * n).max(self.weights_s(n))
    }

    /// One chunked-prefill step: `chunk` prompt tokens processed together
    /// with one decode token for each of `batch` sequences holding
    /// `context_tokens` (Sarathi-Serve style mixed batch).
    #[inline]
    pub fn mixed_step_s(&self, batch: u32, context_tokens: u64, chunk: u64) -> f64 {
        let (t, _) = self.mixed_parts(batch, context_tokens, chunk);
        t
    }

    /// (time, memory-term seconds) of a mixed step.
    fn mixed_parts(&self, batch: u32, context_tokens: u64, chunk: u64) -> (f64, f64) {
        let tokens = f64::from(batch) + chunk as f64;
        self.mixed_parts_reading(batch, context_tokens, chunk, self.weights_s(tokens))
    }

    /// (time, memory-term seconds) of a mixed step, given its weight-read
    /// seconds `weights_s(batch + chunk)` (see [`StepModel::decode_run_reading`]).
    #[inline]
    pub fn mixed_parts_reading(
        &self,
        batch: u32,
        context_tokens: u64,
        chunk: u64,
        weights_s: f64,
    ) -> (f64, f64) {
        let b = f64::from(batch);
        let tokens = b + chunk as f64;
        let sequences = b + if chunk > 0 { 1.0 } else { 0.0 };
        let mem =
            weights_s + self.window_s_per_seq * b + self.kv_s_per_token * context_tokens as f64;
        (
            self.fixed_s(sequences, tokens) + (self.compute_s_per_token * tokens).max(mem),
            mem,
        )
    }

    /// Time of `steps` consecutive decode steps of `batch` sequences starting
    /// with `context_tokens` in total (growing by `batch` per step).
    pub fn decode_run_s(&self, batch: u32, context_tokens: u64, steps: u64) -> f64 {
        self.decode_run(batch, context_tokens).time_s(steps)
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
        self.decode_run(batch, context_tokens)
            .steps_within(max_steps, elapsed_s)
    }

    /// Energy above idle of a step of `time_s` with `mem_s` of memory
    /// streaming and `compute_s` of compute, capped at `busy_w`.
    #[inline]
    fn active_j(&self, time_s: f64, mem_s: f64, compute_s: f64) -> f64 {
        (self.memory_w * mem_s + self.compute_w * compute_s)
            .min((self.busy_w - self.idle_w).max(0.0) * time_s)
    }

    /// Energy above idle of a run of decode steps ([`StepModel::decode_run_s`]).
    pub fn decode_run_active_j(&self, batch: u32, context_tokens: u64, steps: u64) -> f64 {
        if steps == 0 {
            return 0.0;
        }
        self.run_active_j(&self.decode_run(batch, context_tokens), steps)
    }

    /// Energy above idle of the first `steps` steps of `run`.
    pub fn run_active_j(&self, run: &DecodeRun, steps: u64) -> f64 {
        if steps == 0 {
            return 0.0;
        }
        let k = steps as f64;
        let mem = k * run.mem0 + run.slope * k * (k - 1.0) / 2.0;
        self.active_j(run.time_s(steps), mem, k * run.compute)
    }

    /// Energy above idle of a prefill ([`StepModel::prefill_s`]).
    pub fn prefill_active_j(&self, prompt_tokens: u64) -> f64 {
        let n = prompt_tokens.max(1) as f64;
        self.active_j(
            self.prefill_s(prompt_tokens),
            self.weights_s(n),
            self.compute_s_per_token * n,
        )
    }

    /// Energy above idle of a mixed step ([`StepModel::mixed_step_s`]).
    pub fn mixed_active_j(&self, batch: u32, context_tokens: u64, chunk: u64) -> f64 {
        let tokens = f64::from(batch) + chunk as f64;
        self.mixed_active_j_reading(batch, context_tokens, chunk, self.weights_s(tokens))
    }

    /// [`StepModel::mixed_active_j`] given the step's weight-read seconds.
    #[inline]
    pub fn mixed_active_j_reading(
        &self,
        batch: u32,
        context_tokens: u64,
        chunk: u64,
        weights_s: f64,
    ) -> f64 {
        let (t, mem) = self.mixed_parts_reading(batch, context_tokens, chunk, weights_s);
        let tokens = f64::from(batch) + chunk as f64;
        self.active_j(t, mem, self.compute_s_per_token * tokens)
    }

    /// Service time of one request alone on a device (batch 1): prefill,
    /// then `output_tokens - 1` decode steps (the prefill yields the first token).
    pub fn single_request_s(&self, input_tokens: u64, output_tokens: u64) -> (f64, f64) {
        let prefill = self.prefill_s(input_tokens);
        let decode = self.decode_run_s(1, input_tokens + 1, output_tokens.saturating_sub(1));
        (prefill, decode)
    }

    /// [`StepModel::single_request_s`] of many requests `(input, output)`:
    /// the same values, the batch-1 weight read formed once.
    pub fn single_requests_s<'a>(
        &'a self,
        requests: impl Iterator<Item = (u64, u64)> + 'a,
    ) -> impl Iterator<Item = (f64, f64)> + 'a {
        let w1 = self.weights_s(1.0);
        requests.map(move |(i, o)| {
            let steps = o.saturating_sub(1);
            let decode = self.decode_run_reading(1, i + 1, w1).time_s(steps);
            (self.prefill_s(i), decode)
        })
    }

    /// Energy above idle of one request alone (as [`StepModel::single_request_s`]).
    pub fn single_request_active_j(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        self.prefill_active_j(input_tokens)
            + self.decode_run_active_j(1, input_tokens + 1, output_tokens.saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> StepModel {
        StepModel {
            layer_fixed_s: 0.002,
            sequence_s: 2e-5,
            tp_fixed_s: 0.001,
            tp_s_per_token: 1e-7,
            compute_s_per_token: 1e-4,
            dense_s: 0.001,
            expert_s: 0.0005,
            expert_pool: 40.0,
            experts_per_token: 4.0,
            window_s_per_seq: 1e-6,
            kv_s_per_token: 1e-7,
            idle_w: 100.0,
            memory_w: 300.0,
            compute_w: 500.0,
            busy_w: 700.0,
        }
    }

    #[test]
    fn many_lone_requests_cost_what_each_does_alone() {
        let m = model();
        let requests = [(1u64, 0u64), (1, 1), (100, 2), (4096, 700), (30_000, 5)];
        let many: Vec<(f64, f64)> = m.single_requests_s(requests.iter().copied()).collect();
        for (&(i, o), got) in requests.iter().zip(many) {
            assert_eq!(got, m.single_request_s(i, o), "({i}, {o})");
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
    fn run_energy_equals_sum_of_steps_below_the_cap() {
        let m = model();
        for (b, t0, k) in [(1u32, 100u64, 50u64), (64, 10_000, 300), (256, 1_000, 20)] {
            let direct: f64 = (0..k)
                .map(|j| m.decode_run_active_j(b, t0 + b as u64 * j, 1))
                .sum();
            let closed = m.decode_run_active_j(b, t0, k);
            assert!(
                (direct - closed).abs() <= 1e-9 * direct.max(1.0),
                "b={b}: {direct} vs {closed}"
            );
        }
    }

    #[test]
    fn steps_within_is_the_exact_inverse_everywhere() {
        let mut m = model();
        for (compute, slope_kv) in [(1e-4, 1e-7), (1e-2, 1e-9), (1e-2, 0.0), (1e-6, 1e-6)] {
            m.compute_s_per_token = compute;
            m.kv_s_per_token = slope_kv;
            for b in [1u32, 7, 64, 300] {
                let r = m.decode_run(b, 5_000);
                for k in [0u64, 1, 2, 17, 500, 4000] {
                    let t = r.time_s(k);
                    for e in [t, t * (1.0 + 1e-9), t * (1.0 - 1e-9), t + 1e-3] {
                        let mut lo = 0;
                        while lo < 5000 && r.time_s(lo + 1) <= e {
                            lo += 1;
                        }
                        assert_eq!(r.steps_within(5000, e), lo, "b={b} k={k} e={e}");
                    }
                }
            }
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
    fn expert_reads_are_the_active_experts_at_one_token_and_grow_to_the_pool() {
        let m = model();
        assert!((m.experts_touched(1.0) - 4.0).abs() < 1e-12);
        let mut last = 0.0;
        for n in 1..2000 {
            let x = m.experts_touched(f64::from(n));
            assert!(x >= last && x <= 40.0, "n={n}: {x}");
            last = x;
        }
        assert!(m.weights_s(1e6) <= m.dense_s + 40.0 * m.expert_s + 1e-15);
        let mut all = m;
        all.expert_pool = 4.0; // k = E: every token reads every expert
        assert_eq!(all.experts_touched(1.0), 4.0);
        assert_eq!(all.weights_s(0.0), 0.0);
    }

    #[test]
    fn energy_per_token_falls_with_batch_and_is_capped() {
        let m = model();
        let mut last = f64::INFINITY;
        for b in [1u32, 2, 4, 8, 16, 32, 64, 128] {
            let t = m.decode_run_s(b, u64::from(b) * 1000, 100);
            let j = m.decode_run_active_j(b, u64::from(b) * 1000, 100) + m.idle_w * t;
            let per_token = j / (100.0 * f64::from(b));
            assert!(per_token < last, "b={b}: {per_token} >= {last}");
            assert!(j <= m.busy_w * t * (1.0 + 1e-12));
            last = per_token;
        }
    }
}
