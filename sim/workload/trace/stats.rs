//! Exact descriptive statistics of a trace ([`TraceStats`],
//! [`Trace::stats`]), the index of dispersion of its arrival counts
//! ([`Trace::dispersion_index`]), the prompt tokens an unbounded prefix
//! cache would serve ([`Trace::unbounded_cache_hits`]) and the
//! nearest-rank percentile rule ([`nearest_rank`]).

use super::{Trace, TraceRequest};

/// Exact descriptive statistics of a trace (see the module doc for the
/// percentile rule).
#[derive(Debug, Clone, PartialEq)]
pub struct TraceStats {
    /// Number of requests.
    pub requests: usize,
    /// Last arrival minus first arrival, seconds.
    pub duration_s: f64,
    /// `requests / duration_s` (`None` when the duration is 0).
    pub arrival_rate_per_s: Option<f64>,
    /// Coefficient of variation of the gaps between consecutive arrivals
    /// (`None` with fewer than 3 requests or a zero mean gap).
    pub interarrival_cv: Option<f64>,
    /// Mean prompt tokens.
    pub input_mean: f64,
    /// Median prompt tokens (nearest rank).
    pub input_p50: u32,
    /// 99th percentile of prompt tokens (nearest rank).
    pub input_p99: u32,
    /// Mean generated tokens.
    pub output_mean: f64,
    /// Median generated tokens (nearest rank).
    pub output_p50: u32,
    /// 99th percentile of generated tokens (nearest rank).
    pub output_p99: u32,
    /// Requests per minute: entry `k` counts arrivals in
    /// `[first + 60 k, first + 60 (k + 1))` seconds, where `first` is the
    /// first arrival. Empty if the trace spans more than
    /// [`MAX_MINUTES`] minutes.
    pub per_minute_counts: Vec<u64>,
    /// Distinct user ids (`None` when no request has one).
    pub users: Option<usize>,
    /// Distinct session ids (`None` when no request has one).
    pub sessions: Option<usize>,
}

/// Longest span, in minutes, for which [`TraceStats::per_minute_counts`] is
/// filled (2^24 minutes, about 32 years).
pub const MAX_MINUTES: u64 = 1 << 24;

/// Nearest-rank quantile of sorted values: the value of rank
/// `ceil(q * n)` (1-based, at least 1). `None` for no values.
pub fn nearest_rank<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    Some(sorted[rank - 1])
}

impl Trace {
    /// Exact statistics of the requests.
    pub fn stats(&self) -> TraceStats {
        let n = self.requests.len();
        let mut input: Vec<u32> = self.requests.iter().map(|r| r.input_tokens).collect();
        let mut output: Vec<u32> = self.requests.iter().map(|r| r.output_tokens).collect();
        input.sort_unstable();
        output.sort_unstable();
        let mean = |v: &[u32]| {
            if v.is_empty() {
                0.0
            } else {
                v.iter().map(|&x| u64::from(x)).sum::<u64>() as f64 / v.len() as f64
            }
        };
        let first = self.requests.first().map_or(0.0, |r| r.arrival_s);
        let last = self.requests.last().map_or(0.0, |r| r.arrival_s);
        let duration_s = last - first;
        let minutes = (duration_s / 60.0).floor();
        let per_minute_counts = if n > 0 && minutes < MAX_MINUTES as f64 {
            let mut counts = vec![0u64; minutes as usize + 1];
            for r in &self.requests {
                let k = (((r.arrival_s - first) / 60.0).floor() as usize).min(counts.len() - 1);
                counts[k] += 1;
            }
            counts
        } else {
            Vec::new()
        };
        let interarrival_cv = if n >= 3 {
            let gaps: Vec<f64> = self
                .requests
                .windows(2)
                .map(|w| w[1].arrival_s - w[0].arrival_s)
                .collect();
            let m = gaps.iter().sum::<f64>() / gaps.len() as f64;
            let var = gaps.iter().map(|g| (g - m) * (g - m)).sum::<f64>() / (gaps.len() - 1) as f64;
            (m > 0.0).then(|| var.sqrt() / m)
        } else {
            None
        };
        let distinct = |f: fn(&TraceRequest) -> Option<u64>| {
            let mut ids: Vec<u64> = self.requests.iter().filter_map(f).collect();
            ids.sort_unstable();
            ids.dedup();
            (!ids.is_empty()).then_some(ids.len())
        };
        TraceStats {
            requests: n,
            duration_s,
            arrival_rate_per_s: (duration_s > 0.0).then(|| n as f64 / duration_s),
            interarrival_cv,
            input_mean: mean(&input),
            input_p50: nearest_rank(&input, 0.5).unwrap_or(0),
            input_p99: nearest_rank(&input, 0.99).unwrap_or(0),
            output_mean: mean(&output),
            output_p50: nearest_rank(&output, 0.5).unwrap_or(0),
            output_p99: nearest_rank(&output, 0.99).unwrap_or(0),
            per_minute_counts,
            users: distinct(|r| r.user),
            sessions: distinct(|r| r.session),
        }
    }
}

/// What an unbounded prefix cache would serve of a trace's prompts
/// ([`Trace::unbounded_cache_hits`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CacheHits {
    /// Prompt tokens of every request.
    pub prompt_tokens: u64,
    /// Of them, tokens in blocks already seen (the longest cached prefix).
    pub hit_tokens: u64,
    /// Requests whose first block was already seen.
    pub requests_with_hit: u64,
}

impl CacheHits {
    /// `hit_tokens / prompt_tokens` (0 for no prompt tokens).
    pub fn share(&self) -> f64 {
        if self.prompt_tokens == 0 {
            0.0
        } else {
            self.hit_tokens as f64 / self.prompt_tokens as f64
        }
    }
}

/// Index of dispersion (variance / mean, sample variance over `n - 1`) of
/// the counts of `arrivals` (sorted, seconds) in consecutive windows of
/// `window_s` from the first arrival; only whole windows count (the
/// trace's last partial window is left out). `None` with fewer than two
/// whole windows or no arrival in them.
pub fn dispersion_of_arrivals(arrivals: &[f64], window_s: f64) -> Option<f64> {
    let first = *arrivals.first()?;
    let last = *arrivals.last()?;
    let n = ((last - first) / window_s).floor();
    if !(2.0..=1e8).contains(&n) {
        return None;
    }
    let n = n as usize;
    let mut counts = vec![0u64; n];
    for &t in arrivals {
        let k = ((t - first) / window_s).floor() as usize;
        if k < n {
            counts[k] += 1;
        }
    }
    let mean = counts.iter().sum::<u64>() as f64 / n as f64;
    if mean <= 0.0 {
        return None;
    }
    let var = counts
        .iter()
        .map(|&c| (c as f64 - mean) * (c as f64 - mean))
        .sum::<f64>()
        / (n - 1) as f64;
    Some(var / mean)
}

impl Trace {
    /// Index of dispersion of arrival counts in windows of `window_s`
    /// (see [`dispersion_of_arrivals`]): 1 for a Poisson stream, above 1
    /// for bursty arrivals.
    pub fn dispersion_index(&self, window_s: f64) -> Option<f64> {
        let t: Vec<f64> = self.requests.iter().map(|r| r.arrival_s).collect();
        dispersion_of_arrivals(&t, window_s)
    }

    /// The prompt tokens an unbounded prefix cache would serve, replaying
    /// the requests in arrival order: a request's hit is its longest prefix
    /// of blocks whose hashes all appeared in earlier requests; block `j`
    /// of a prompt of `n` tokens holds `min(block_tokens, n - j *
    /// block_tokens)` tokens (the last block may be partial), and hit
    /// blocks count their own tokens. Every block of the request then
    /// enters the cache. `None` when the trace has no block hashes.
    pub fn unbounded_cache_hits(&self) -> Option<CacheHits> {
        let blocks = self.blocks.as_ref()?;
        let bt = u64::from(blocks.block_tokens.max(1));
        let mut seen = std::collections::HashSet::with_capacity(blocks.total_blocks());
        let mut out = CacheHits {
            prompt_tokens: 0,
            hit_tokens: 0,
            requests_with_hit: 0,
        };
        for (i, r) in self.requests.iter().enumerate() {
            let n = u64::from(r.input_tokens);
            out.prompt_tokens += n;
            let hashes = blocks.of(i);
            let hit = hashes.iter().take_while(|h| seen.contains(*h)).count() as u64;
            out.hit_tokens += (0..hit)
                .map(|j| bt.min(n.saturating_sub(j * bt)))
                .sum::<u64>();
            out.requests_with_hit += u64::from(hit > 0);
            seen.extend(hashes.iter().copied());
        }
        Some(out)
    }
}
