//! Paged KV-cache accounting of one server (vLLM's block manager), in the
//! closed form the fast-forward needs.
//!
//! The cache is `total` blocks of `block` tokens. A running sequence with
//! `c` context tokens holds `ceil(c / block)` blocks, plus `fixed` blocks
//! whatever its length (the sliding-window layers' cache); a sequence being
//! prefilled holds the blocks of its whole prefill plus its first generated
//! token, from admission on.
//!
//! While a server decodes, every running context grows by one per step, so
//! a running sequence's context at server step `s` is `a + s` with an offset
//! `a` (context at admission minus the server's steps at admission) that
//! stays fixed. Writing `a + block - 1 = block * q + r` (Euclidean division),
//! its blocks at step `s` are `q + floor(s / block) + [r + s mod block >=
//! block]`, so the blocks of all running sequences are `sum q + n *
//! floor(s / block) + #{r >= block - s mod block}`: a Fenwick tree over the
//! residues `r` answers that count in O(log block), and the first step whose
//! demand exceeds the cache is found by binary search.

/// Block accounting of one server's running and prefilling sequences.
#[derive(Debug, Clone)]
pub(super) struct PagedKv {
    /// Tokens per block.
    pub block: u64,
    /// Blocks every admitted sequence holds whatever its length.
    pub fixed: u64,
    /// Blocks in the cache.
    pub total: u64,
    /// `log2(block)` when the block is a power of two (vLLM's are: 16),
    /// so the divisions by it are shifts; else `None`.
    shift: Option<u32>,
    /// Fenwick tree (1-based) counting running sequences by residue `r`.
    tree: Vec<u32>,
    /// Sum of the running sequences' quotients `q`.
    sum_q: i64,
    /// Running sequences.
    running: u64,
    /// Blocks held by sequences being prefilled (fixed blocks included).
    prefill_blocks: u64,
}

impl PagedKv {
    /// An empty cache of `floor(budget_tokens / block)` blocks; each
    /// sequence also holds `ceil(fixed_tokens / block)` blocks.
    pub fn new(budget_tokens: u64, block: u32, fixed_tokens: u64) -> Self {
        assert!(block >= 1, "KvAllocation::Paged needs block_tokens >= 1");
        let block = block as u64;
        PagedKv {
            block,
            fixed: fixed_tokens.div_ceil(block),
            total: budget_tokens / block,
            shift: block.is_power_of_two().then(|| block.trailing_zeros()),
            tree: vec![0; block as usize + 1],
            sum_q: 0,
            running: 0,
            prefill_blocks: 0,
        }
    }

    /// Blocks a sequence of `tokens` context tokens holds (fixed ones included).
    #[inline]
    pub fn blocks_for(&self, tokens: u64) -> u64 {
        let whole = match self.shift {
            Some(k) => (tokens >> k) + (tokens & (self.block - 1) != 0) as u64,
            None => tokens.div_ceil(self.block),
        };
        whole + self.fixed
    }

    /// `(s / block, s % block)`.
    #[inline]
    fn div_rem(&self, s: u64) -> (u64, u64) {
        match self.shift {
            Some(k) => (s >> k, s & (self.block - 1)),
            None => (s / self.block, s % self.block),
        }
    }

    #[inline]
    fn split(&self, offset: i64) -> (i64, usize) {
        let b = self.block as i64;
        let x = offset + b - 1;
        match self.shift {
            // An arithmetic shift is the floor division, the mask the
            // non-negative remainder, for negative offsets too.
            Some(k) => (x >> k, (x & (b - 1)) as usize),
            None => (x.div_euclid(b), x.rem_euclid(b) as usize),
        }
    }

    fn tree_add(&mut self, r: usize, up: bool) {
        let mut i = r + 1;
        while i < self.tree.len() {
            if up {
                self.tree[i] += 1;
            } else {
                self.tree[i] -= 1;
            }
            i += i & i.wrapping_neg();
        }
    }

    /// Running sequences with residue `r < k`.
    #[inline]
    fn count_below(&self, k: usize) -> u64 {
        let mut i = k;
        let mut n = 0u64;
        while i > 0 {
            n += self.tree[i] as u64;
            i &= i - 1;
        }
        n
    }

    /// A sequence starts decoding with context `a + s` at server step `s`.
    pub fn add_running(&mut self, offset: i64) {
        let (q, r) = self.split(offset);
        self.sum_q += q;
        self.running += 1;
        self.tree_add(r, true);
    }

    /// A running sequence of offset `offset` leaves (finished or preempted).
    pub fn remove_running(&mut self, offset: i64) {
        let (q, r) = self.split(offset);
        self.sum_q -= q;
        self.running -= 1;
        self.tree_add(r, false);
    }

    /// A sequence holding `blocks` starts (or stops) prefilling.
    #[inline]
    pub fn add_prefill(&mut self, blocks: u64) {
        self.prefill_blocks += blocks;
    }

    /// See [`PagedKv::add_prefill`].
    #[inline]
    pub fn remove_prefill(&mut self, blocks: u64) {
        self.prefill_blocks -= blocks;
    }

    /// Blocks in use during server step `s` (its decode token included).
    #[inline]
    pub fn demand(&self, s: u64) -> u64 {
        let b = self.block;
        let (whole, sr) = self.div_rem(s);
        let sr = sr as usize;
        let crossing = if sr == 0 {
            0
        } else {
            self.running - self.count_below(b as usize - sr)
        };
        let running_blocks = self.sum_q
            + (self.running * whole) as i64
            + crossing as i64
            + self.fixed as i64 * self.running as i64;
        debug_assert!(running_blocks >= 0);
        running_blocks as u64 + self.prefill_blocks
    }

    /// Of `steps` decode steps from server step `s` (the first of which
    /// fits), how many fit before one would need more blocks than the
    /// cache, and the blocks the last of them uses.
    pub fn steps_that_fit(&self, s: u64, steps: u64) -> (u64, u64) {
        let last = self.demand(s + steps.max(1) - 1);
        if steps <= 1 || last <= self.total {
            return (steps, last);
        }
        // The first j in [1, steps - 1] whose demand overflows.
        let (mut lo, mut hi) = (1u64, steps - 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.demand(s + mid) > self.total {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        (lo, self.demand(s + lo - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The closed form agrees with summing ceil(c / B) directly.
    #[test]
    fn demand_is_the_sum_of_blocks() {
        for block in [1u32, 3, 16] {
            let mut kv = PagedKv::new(1 << 30, block, 5);
            // (context at admission, step at admission)
            let seqs = [(1u64, 0u64), (17, 3), (100, 40), (33, 7), (16, 16)];
            for &(c, s0) in &seqs {
                kv.add_running(c as i64 - s0 as i64);
            }
            kv.add_prefill(7);
            for s in 40..200u64 {
                let direct: u64 = seqs
                    .iter()
                    .map(|&(c, s0)| (c + s - s0).div_ceil(block as u64) + kv.fixed)
                    .sum::<u64>()
                    + 7;
                assert_eq!(kv.demand(s), direct, "block {block} step {s}");
            }
            kv.remove_running(100 - 40);
            let direct: u64 = (17 + 100 - 3u64).div_ceil(block as u64)
                + (1 + 100u64).div_ceil(block as u64)
                + (33 + 100 - 7u64).div_ceil(block as u64)
                + (16 + 100 - 16u64).div_ceil(block as u64)
                + 4 * kv.fixed
                + 7;
            assert_eq!(kv.demand(100), direct);
        }
    }

    /// Sequences admitted late in a server's life have negative offsets;
    /// the shift path (powers of two) and the division path agree there.
    #[test]
    fn negative_offsets_count_their_blocks() {
        for block in [4u32, 5, 16, 17] {
            let mut kv = PagedKv::new(1 << 30, block, 2);
            let seqs = [(5u64, 30u64), (1, 64), (40, 41), (16, 100)];
            for &(c, s0) in &seqs {
                kv.add_running(c as i64 - s0 as i64);
            }
            for s in 100..300u64 {
                let direct: u64 = seqs
                    .iter()
                    .map(|&(c, s0)| (c + s - s0).div_ceil(block as u64) + kv.fixed)
                    .sum();
                assert_eq!(kv.demand(s), direct, "block {block} step {s}");
            }
            for tokens in 0..100u64 {
                assert_eq!(
                    kv.blocks_for(tokens),
                    tokens.div_ceil(block as u64) + kv.fixed
                );
            }
        }
    }

    #[test]
    fn steps_that_fit_stops_before_the_first_overflow() {
        let mut kv = PagedKv::new(16 * 10, 16, 0);
        kv.add_running(20); // 20 tokens at step 0: 2 blocks, 3 from step 13
        kv.add_running(100); // 7 blocks, 8 from step 13
        assert_eq!(kv.demand(0), 9);
        assert_eq!(kv.demand(12), 9);
        assert_eq!(kv.demand(13), 11);
        assert_eq!(kv.steps_that_fit(0, 50), (13, 9));
        assert_eq!(kv.steps_that_fit(0, 13), (13, 9));
        assert_eq!(kv.steps_that_fit(5, 1), (1, 9));
    }
}
