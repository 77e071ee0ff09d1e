//! A pooled fleet of LLM servers running continuous (iteration-level)
//! batching, as vLLM and Orca do.
//!
//! At every step boundary a server retires finished sequences, then admits
//! waiting requests in FCFS order while the batch has a free slot (up to
//! `max_batch`) and the KV cache can hold them. How the cache is allocated
//! is [`KvAllocation`]: either each request's whole context (prompt +
//! output) is reserved at admission, so the cache never overflows, or the
//! cache is paged as in vLLM: blocks are allocated as contexts grow, and
//! when a step needs more blocks than are free the most recently admitted
//! sequences are preempted (recompute: their blocks are freed, they go back
//! to the front of the queue and re-prefill prompt + generated tokens when
//! readmitted; block accounting in `kv.rs`, boundaries in `step.rs`).
//! Newly admitted requests are prefilled together in one step (the prefill
//! yields their first token; running sequences pause, as in vLLM without
//! chunked prefill); otherwise all running sequences decode one token. With chunked prefill (`chunked_prefill_tokens`), prompts are fed
//! up to that many tokens per step into mixed steps that also decode one
//! token for every running sequence (Sarathi-Serve), one event per step.
//!
//! Event cost: the batch only changes at an admission or a completion, so a
//! server plans a whole run of decode steps up to its next completion (or,
//! paged, up to the first step whose blocks do not fit) as one event (closed
//! form in [`StepModel::decode_run_s`]). An arrival that can be admitted
//! cuts the run short at the end of the step in progress. The
//! step-by-step reference mode (`fast_forward = false`) plans one step per
//! event and must give the same latencies (exactly, except with the central
//! queue: a server drains the shared FIFO only at its own boundaries, which
//! fast-forward makes fewer, so a request another server's admission brings
//! to the head can wait until the next completion).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::core::rng::SimRng;
use crate::engine::events::EventQueue;
use crate::engine::fcfs::Dispatch;
use crate::llm::engines::KvPolicy;
use crate::llm::step::{DecodeRun, StepModel};
use crate::metrics::{LlmRecorder, RejectReason, Window};

pub use disagg::{DisaggConfig, DisaggFleet, KvLink};
use kv::PagedKv;
use prefix::PrefixCache;
pub use prefix::{PrefixCaching, PromptBlocks};

mod disagg;
mod kv;
mod prefix;
mod scale;
mod step;

pub use scale::{Autoscaler, ScaleMetric, ScalingUsage};

/// One LLM request as generated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LlmRequest {
    /// Arrival time at the serving side, seconds.
    pub arrival_s: f64,
    /// Sender.
    pub user: u32,
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Output tokens (at least 1).
    pub output_tokens: u32,
    /// Its prompt's blocks, for prefix caching.
    pub prompt: PromptBlocks,
}

/// How a server's KV cache is given to sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KvAllocation {
    /// Reserve a request's whole context (prompt + output) at admission:
    /// the cache never overflows, nothing is ever preempted, and batches
    /// are as small as if every sequence were already at full length.
    #[default]
    ReserveWholeContext,
    /// vLLM's paged cache: `floor(kv_budget_tokens / block_tokens)` blocks,
    /// a sequence of `c` context tokens holds `ceil(c / block_tokens)`.
    /// Admission needs the blocks of the prompt plus the first generated
    /// token; when a step needs more blocks than are free, the most recently
    /// admitted sequences are preempted (recompute mode).
    Paged {
        /// Tokens per block (vLLM's `block_size`, 16 by default there).
        block_tokens: u32,
    },
}

impl From<KvPolicy> for KvAllocation {
    /// The allocation an engine's KV policy asks for.
    fn from(p: KvPolicy) -> Self {
        match p {
            KvPolicy::Paged { block_tokens } => KvAllocation::Paged { block_tokens },
            KvPolicy::Reserved => KvAllocation::ReserveWholeContext,
        }
    }
}

/// Fixed properties of a batching fleet.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// Number of servers (each possibly a tensor-parallel group of GPUs).
    pub servers: usize,
    /// Most sequences in one batch.
    pub max_batch: u32,
    /// KV-cache tokens one server can hold after its weights.
    pub kv_budget_tokens: u64,
    /// How the KV cache is allocated to sequences.
    pub kv_allocation: KvAllocation,
    /// KV every admitted sequence holds whatever its length, in token
    /// equivalents (the cache of sliding-window layers); 0 for none. Counted
    /// in both modes (paged: `ceil(fixed / block_tokens)` extra blocks per
    /// sequence). The step costs do not see it.
    pub kv_fixed_tokens_per_seq: u64,
    /// Longest context (prompt + output) the model accepts.
    pub context_limit_tokens: u64,
    /// Step costs.
    pub step: StepModel,
    /// How arriving requests are assigned to servers.
    pub dispatch: Dispatch,
    /// Plan whole runs of identical steps as one event (false: step by step).
    pub fast_forward: bool,
    /// Chunked prefill (Sarathi-Serve style): prompts are processed up to
    /// this many tokens per step, mixed into the decode steps of the running
    /// batch, instead of in separate prefill steps that pause decoding.
    pub chunked_prefill_tokens: Option<u32>,
    /// Prefix caching (`None`: off, every prompt is prefilled whole).
    pub prefix: Option<PrefixCaching>,
    /// A reactive autoscaler (`None`: every server serves the whole run);
    /// `servers` is then the most it can hold.
    pub autoscaler: Option<Autoscaler>,
}

/// Where a batching fleet's requests come from, in time order; told of
/// every completion so that closed-loop users can send their next request.
pub trait LlmSource {
    /// Time of the next request, if any.
    fn peek_s(&mut self) -> Option<f64>;
    /// The next request.
    fn next_request(&mut self) -> Option<LlmRequest>;
    /// `user`'s request finished (or was refused) at `end_s`.
    fn completed(&mut self, user: u32, end_s: f64);
    /// `user`'s request is planned to finish soon: its state may be
    /// loaded ahead (a hint; nothing observable).
    #[inline]
    fn finishing_soon(&self, _user: u32) {}
}

/// A fixed list of requests (open loop).
pub struct IterSource<I: Iterator<Item = LlmRequest>>(std::iter::Peekable<I>);

impl<I: Iterator<Item = LlmRequest>> IterSource<I> {
    /// Wrap an iterator of requests in arrival order.
    pub fn new(it: I) -> Self {
        IterSource(it.peekable())
    }
}

impl<I: Iterator<Item = LlmRequest>> LlmSource for IterSource<I> {
    fn peek_s(&mut self) -> Option<f64> {
        self.0.peek().map(|r| r.arrival_s)
    }
    fn next_request(&mut self) -> Option<LlmRequest> {
        self.0.next()
    }
    fn completed(&mut self, _user: u32, _end_s: f64) {}
}

/// Bytes of one request's state in a batching fleet (its sequence record),
/// for memory estimates.
pub const SEQUENCE_BYTES: usize = std::mem::size_of::<Seq>();

#[derive(Debug, Clone, Copy)]
struct Seq {
    user: u32,
    arrival_s: f64,
    start_s: f64,
    first_token_s: f64,
    input: u32,
    output: u32,
    /// Prefill tokens not yet processed (chunked prefill).
    prompt_left: u32,
    /// Tokens generated before its current admission (after a preemption
    /// it re-prefills `input + generated` tokens).
    generated: u32,
    /// KV tokens it needs to be admitted (counted in its queue's `queued_kv`).
    need: u64,
    /// Paged, while running: context tokens minus the server's steps.
    offset: i64,
    /// Admission stamp, unique over the run; 0 when not admitted.
    stamp: u64,
    /// Decoding (else prefilling or waiting).
    running: bool,
    /// Prompt tokens its current admission found cached (not prefilled).
    cached: u32,
    /// Its prompt's blocks.
    prompt: PromptBlocks,
    /// Where its conversation's entry sat in the prefix cache of the
    /// server that last admitted it (a hint; `prefix::NO_SLOT`: none).
    cache_slot: u32,
    /// Arrived while an autoscaler's scale-up was pending.
    scaleup: bool,
}

impl Seq {
    /// Tokens its next prefill processes.
    #[inline]
    fn prefill_len(&self) -> u64 {
        self.input as u64 + self.generated as u64
    }

    /// Tokens its next prefill computes (the cached prefix skipped).
    #[inline]
    fn compute_len(&self) -> u64 {
        self.prefill_len() - self.cached as u64
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Idle,
    Prefill {
        start_s: f64,
        tokens: u64,
    },
    Decode {
        start_s: f64,
        steps: u64,
        /// The run's coefficients (batch and starting context fixed).
        run: DecodeRun,
    },
    /// One chunked-prefill step: `chunk` prompt tokens plus one decode token
    /// for every running sequence.
    Mixed {
        start_s: f64,
        chunk: u64,
    },
}

#[derive(Debug, Clone)]
struct Server {
    queue: VecDeque<u32>,
    /// (finishing step, id, stamp); entries whose stamp is no longer the
    /// sequence's (preempted) are skipped.
    running: BinaryHeap<Reverse<(u64, u32, u64)>>,
    prefilling: Vec<u32>,
    batch: u32,
    context: u64,
    steps_done: u64,
    kv_reserved: u64,
    queued_kv: u64,
    phase: Phase,
    end_s: f64,
    /// Plans made so far (wrapping): tells `kv_seen` which plan it belongs to.
    epoch: u32,
    /// Paged cache accounting (`None`: whole-context reservation).
    paged: Option<Box<PagedKv>>,
    /// Paged: (stamp, id) of admitted sequences, most recent last; entries
    /// whose stamp is stale are skipped and compacted away.
    admitted: Vec<(u64, u32)>,
    /// Paged: the blocks in use (tokens) during a decode run, valid for the
    /// plan `epoch` from the start of a step until its end: (epoch, from,
    /// until, tokens). Arrivals ask all servers; most fall in the same step.
    kv_seen: std::cell::Cell<(u32, f64, f64, u64)>,
    /// KV tokens in use anywhere in the current plan: (at its start, at its
    /// last step); equal unless paged and decoding (demand only grows within
    /// a decode run). Lets dispatch skip servers without asking `kv_now`.
    kv_range: (u64, u64),
    /// Cached prompt blocks (prefix caching on).
    prefix: Option<Box<PrefixCache>>,
    /// Prefill pool of a disaggregated fleet: prefilled sequences whose
    /// KV transfer has ended; their KV is freed at the next boundary.
    sent: Vec<u32>,
    /// Takes new requests (false: draining or released by an autoscaler).
    accepting: bool,
}

impl Server {
    fn new(cfg: &BatchConfig) -> Self {
        Server {
            queue: VecDeque::new(),
            running: BinaryHeap::new(),
            prefilling: Vec::new(),
            batch: 0,
            context: 0,
            steps_done: 0,
            kv_reserved: 0,
            queued_kv: 0,
            phase: Phase::Idle,
            end_s: 0.0,
            epoch: 0,
            kv_seen: std::cell::Cell::new((u32::MAX, 0.0, -1.0, 0)),
            kv_range: (0, 0),
            paged: match cfg.kv_allocation {
                KvAllocation::ReserveWholeContext => None,
                KvAllocation::Paged { block_tokens } => Some(Box::new(PagedKv::new(
                    cfg.kv_budget_tokens,
                    block_tokens,
                    cfg.kv_fixed_tokens_per_seq,
                ))),
            },
            admitted: Vec::new(),
            prefix: cfg.prefix.as_ref().map(|_| Box::new(PrefixCache::new())),
            sent: Vec::new(),
            accepting: true,
        }
    }

    /// KV tokens in use at the step boundary the server last passed (paged:
    /// blocks of the step that starts there, times the block size).
    #[inline]
    fn kv_in_use(&self) -> u64 {
        match &self.paged {
            None => self.kv_reserved,
            Some(p) => p.demand(self.steps_done) * p.block,
        }
    }

    /// Whether a request needing `kv` tokens could be admitted now, of a
    /// cache of `cap` tokens.
    #[inline]
    fn can_admit(&self, kv: u64, cfg: &BatchConfig, cap: u64) -> bool {
        self.batch + (self.prefilling.len() as u32) < cfg.max_batch && self.kv_in_use() + kv <= cap
    }

    /// Whether a batch slot would be left after every request already
    /// waiting here is admitted.
    #[inline]
    fn has_slot_after_queue(&self, cfg: &BatchConfig) -> bool {
        self.batch + self.prefilling.len() as u32 + (self.queue.len() as u32) < cfg.max_batch
    }

    /// The KV range ([`Server::kv_range`]) of a plan whose use does not
    /// change while it lasts (idle, prefill, mixed step, or a decode run with
    /// whole contexts reserved).
    fn note_constant_kv_range(&mut self) {
        let now = self.kv_in_use();
        self.kv_range = (now, now);
    }

    /// Requests waiting or running here.
    #[inline]
    fn load(&self) -> usize {
        self.queue.len() + self.batch as usize + self.prefilling.len()
    }
}

/// Time-integrated fleet state inside the measurement window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetUsage {
    /// Server-seconds with a step running.
    pub busy_s: f64,
    /// Energy above idle of the steps inside the window, all servers, J
    /// ([`StepModel`]'s power model; a step crossing a window edge counts
    /// its share inside).
    pub active_energy_j: f64,
    /// Sum over decode time of the batch size (divide by decode seconds).
    pub batch_decode_area: f64,
    /// Server-seconds spent decoding.
    pub decode_s: f64,
    /// Sum over time of reserved KV tokens (all servers; paged: blocks in
    /// use times the block size, linear within a fast-forwarded decode run).
    pub kv_area: f64,
    /// Events handled (server boundaries, including superseded ones).
    pub events: u64,
    /// Most KV tokens ever reserved on one server (never above the budget;
    /// paged: blocks in use times the block size).
    pub max_kv_reserved_tokens: u64,
    /// Most sequences ever running or prefilling on one server (never above
    /// `max_batch`).
    pub max_batch_seen: u32,
    /// Sequences preempted (paged cache full) inside the window.
    pub preemptions: u64,
    /// Prompt and generated tokens prefilled again because a preemption
    /// inside the window discarded their KV.
    pub recomputed_tokens: u64,
    /// Prompt tokens of the requests admitted whose arrival is inside the
    /// window (first admissions), with prefix caching on.
    pub prompt_tokens: u64,
    /// Of those, tokens found in a prefix cache and not prefilled.
    pub prefix_hit_tokens: u64,
    /// Cached blocks evicted inside the window (at the source's block size).
    pub prefix_evictions: u64,
    /// Swap pools: model loads for requests whose arrival is inside the
    /// window.
    pub model_loads: u64,
    /// Disaggregated fleets: KV transfers from the prefill pool to the
    /// decode pool of requests whose arrival is inside the window.
    pub kv_transfers: u64,
    /// Their bytes.
    pub kv_transfer_bytes: f64,
    /// Their link seconds (latency + bytes / bandwidth), summed.
    pub kv_transfer_s: f64,
    /// What the autoscaler did (with one).
    pub scaling: Option<Box<ScalingUsage>>,
}

/// What a fleet's servers do in a disaggregated deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Role {
    /// Prefill and decode on the same server (every fleet but a
    /// disaggregated one).
    #[default]
    Colocated,
    /// Prefill only: a prefilled request that has tokens left is handed
    /// off (its KV held until the transfer ends), not decoded.
    Prefill,
    /// Decode only: requests arrive prefilled, with their KV; admission
    /// puts them straight into the decode batch.
    Decode,
}

/// A fleet of continuous-batching servers. Cloning one (with its source
/// and recorder) forks a run: a sizing probe's early look drains a fork
/// while the original goes on to the full horizon.
#[derive(Debug, Clone)]
pub struct BatchingFleet {
    cfg: BatchConfig,
    window: Window,
    servers: Vec<Server>,
    seqs: Vec<Seq>,
    free_ids: Vec<u32>,
    central: VecDeque<u32>,
    events: EventQueue,
    next_rr: usize,
    rng: SimRng,
    usage: FleetUsage,
    kv_total: u64,
    kv_last_s: f64,
    /// KV tokens one server can use: the budget, or whole blocks of it.
    kv_cap: u64,
    /// Last admission stamp given.
    stamps: u64,
    /// Completions (user, time) not yet reported to the source.
    done: Vec<(u32, f64)>,
    /// Users whose requests a plan made last to finish next (for
    /// [`LlmSource::finishing_soon`]).
    finishing: Vec<u32>,
    /// Weight-read seconds of a step, by tokens in it.
    weights: WeightReads,
    /// Each server's [`DispatchRow`], refreshed whenever the server changes
    /// (at the end of `boundary`, `enqueue` and `poke`, the only places that
    /// change a server), so dispatch scans a few cache lines, not servers.
    rows: Vec<DispatchRow>,
    /// Colocated, or one pool of a disaggregated fleet.
    role: Role,
    /// Prefill pool: (server, id, time) of sequences prefilled with tokens
    /// left, to be transferred to the decode pool.
    handoff: Vec<(u32, u32, f64)>,
    /// Servers taking new requests, by index (all without an autoscaler).
    active: Vec<u32>,
    /// The autoscaler's state (with one).
    scale: Option<Box<scale::ScaleState>>,
    /// Order of the next arrival among events at the same time (taken
    /// when the run starts and after each arrival).
    arrival_seq: Option<u64>,
}

/// What central-queue dispatch needs of a server, kept beside the servers:
/// its plan's KV range plus the KV queued there, or `NO_ROOM` in both when
/// no batch slot would be left after its queue.
#[derive(Debug, Clone, Copy, PartialEq)]
struct DispatchRow {
    lo_with_queue: u64,
    hi_with_queue: u64,
    queued_kv: u64,
}

const NO_ROOM: u64 = u64::MAX;

impl DispatchRow {
    fn of(sv: &Server, cfg: &BatchConfig) -> Self {
        if sv.accepting && sv.has_slot_after_queue(cfg) {
            DispatchRow {
                lo_with_queue: sv.kv_range.0 + sv.queued_kv,
                hi_with_queue: sv.kv_range.1 + sv.queued_kv,
                queued_kv: sv.queued_kv,
            }
        } else {
            DispatchRow {
                lo_with_queue: NO_ROOM,
                hi_with_queue: NO_ROOM,
                queued_kv: sv.queued_kv,
            }
        }
    }
}

/// Weight-read seconds of a step by its token count, remembered for the
/// counts a fleet's steps can have (decode batches and mixed steps), since
/// the expert-coverage term costs two transcendental functions per step.
#[derive(Debug, Clone)]
struct WeightReads {
    /// `weights_s(n)` at index `n`; NaN until first asked.
    table: Vec<f64>,
}

impl WeightReads {
    fn new(cfg: &BatchConfig) -> Self {
        let most = cfg.max_batch as usize + cfg.chunked_prefill_tokens.unwrap_or(0) as usize;
        WeightReads {
            table: vec![f64::NAN; most + 1],
        }
    }

    /// `step.weights_s(tokens)`, the same number computed at most once.
    #[inline]
    fn get(&mut self, step: &StepModel, tokens: u64) -> f64 {
        match self.table.get_mut(tokens as usize) {
            Some(w) if !w.is_nan() => *w,
            Some(w) => {
                *w = step.weights_s(tokens as f64);
                *w
            }
            None => step.weights_s(tokens as f64),
        }
    }
}

impl BatchingFleet {
    /// An idle fleet; `rng` is used by power-of-two-choices dispatch only.
    pub fn new(cfg: BatchConfig, window: Window, rng: SimRng) -> Self {
        assert!(cfg.servers >= 1 && cfg.max_batch >= 1);
        let mut servers: Vec<Server> = (0..cfg.servers).map(|_| Server::new(&cfg)).collect();
        let scale = cfg
            .autoscaler
            .map(|a| Box::new(scale::ScaleState::new(a, cfg.servers)));
        if let Some(sc) = &scale {
            for (sv, h) in servers.iter_mut().zip(&sc.held) {
                sv.accepting = *h == scale::Held::Accepting;
            }
        }
        let active = (0..cfg.servers as u32)
            .filter(|&s| servers[s as usize].accepting)
            .collect();
        let kv_cap = match &servers[0].paged {
            None => cfg.kv_budget_tokens,
            Some(p) => p.total * p.block,
        };
        let rows = servers.iter().map(|sv| DispatchRow::of(sv, &cfg)).collect();
        BatchingFleet {
            rows,
            active,
            scale,
            arrival_seq: None,
            kv_cap,
            weights: WeightReads::new(&cfg),
            stamps: 0,
            events: EventQueue::for_servers(cfg.servers),
            cfg,
            window,
            servers,
            seqs: Vec::new(),
            free_ids: Vec::new(),
            central: VecDeque::new(),
            next_rr: 0,
            rng,
            usage: FleetUsage::default(),
            kv_total: 0,
            kv_last_s: 0.0,
            done: Vec::new(),
            finishing: Vec::new(),
            role: Role::Colocated,
            handoff: Vec::new(),
        }
    }

    /// Serve every request of `requests` (in arrival order), then drain.
    pub fn run(
        self,
        requests: impl Iterator<Item = LlmRequest>,
        rec: &mut LlmRecorder,
    ) -> FleetUsage {
        self.run_source(&mut IterSource::new(requests), rec)
    }

    /// Serve every request the source gives, reporting completions back to
    /// it, until it and the fleet are empty.
    pub fn run_source(mut self, source: &mut impl LlmSource, rec: &mut LlmRecorder) -> FleetUsage {
        self.run_until(source, rec, f64::INFINITY);
        self.finish(rec)
    }

    /// Serve what happens before `until_s`: every arrival and event at an
    /// earlier time, in the order [`BatchingFleet::run_source`] would, and
    /// stop before the first at `until_s` or later. Running on (here, or in
    /// a clone) continues the same run.
    pub fn run_until(&mut self, source: &mut impl LlmSource, rec: &mut LlmRecorder, until_s: f64) {
        let mut arrival_seq = match self.arrival_seq {
            Some(q) => q,
            None => self.events.take_seq(),
        };
        loop {
            let next_arrival = source.peek_s().map(|t| (t, arrival_seq));
            let next_event = self.events.peek().map(|e| (e.time_s, e.seq));
            // The scaler acts before arrivals and events at the same time,
            // and only while requests are left to come.
            if let (Some(ts), Some((ta, _))) = (self.scale_next_s(), next_arrival) {
                if ts <= ta && next_event.is_none_or(|e| ts <= e.0) {
                    if ts >= until_s {
                        break;
                    }
                    self.scale_event(ts, rec);
                    continue;
                }
            }
            let take_arrival = match (next_arrival, next_event) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(a), Some(e)) => a.0 < e.0 || (a.0 == e.0 && a.1 < e.1),
            };
            if take_arrival {
                if next_arrival.is_some_and(|a| a.0 >= until_s) {
                    break;
                }
                let r = source.next_request().expect("peeked");
                arrival_seq = self.events.take_seq();
                self.arrive(r, rec);
            } else {
                if next_event.is_some_and(|e| e.0 >= until_s) {
                    break;
                }
                let e = self.events.pop().expect("peeked");
                self.usage.events += 1;
                self.boundary(e.server as usize, e.time_s, rec);
                if self.scale.is_some() {
                    self.release_if_empty(e.server as usize, e.time_s);
                }
            }
            self.report(source);
        }
        self.arrival_seq = Some(arrival_seq);
    }

    /// Tell `source` of the completions since the last call, and of the
    /// users whose requests the plans made since then finish next (every
    /// event loop calls this after each event).
    pub(super) fn report(&mut self, source: &mut impl LlmSource) {
        for (user, t) in self.done.drain(..) {
            source.completed(user, t);
        }
        for user in self.finishing.drain(..) {
            source.finishing_soon(user);
        }
    }

    /// End a run that [`BatchingFleet::run_until`] took to its end: what it
    /// used.
    pub fn finish(mut self, rec: &LlmRecorder) -> FleetUsage {
        let end = rec.last_end_s;
        self.finish_scaling(end);
        // A superseded event counts as handled, as when it was popped and
        // skipped.
        self.usage.events += self.events.superseded();
        self.usage
    }

    /// Measure up to `horizon_s` from now on (a fork that ends early): its
    /// usage integrals stop there.
    pub fn end_window_at(&mut self, horizon_s: f64) {
        self.window.horizon_s = horizon_s;
    }

    fn note_kv(&mut self, t: f64) {
        self.usage.kv_area += self.kv_total as f64 * self.window.overlap_s(self.kv_last_s, t);
        self.kv_last_s = t;
    }

    /// KV tokens a request needs to be admitted: its whole context, or the
    /// blocks of its prefill plus the next generated token.
    #[inline]
    fn admission_need(&self, seq: &Seq) -> u64 {
        match &self.servers[0].paged {
            // A prefill server holds the prompt and its first token only.
            None if self.role == Role::Prefill => {
                seq.input as u64 + 1 + self.cfg.kv_fixed_tokens_per_seq
            }
            None => seq.input as u64 + seq.output as u64 + self.cfg.kv_fixed_tokens_per_seq,
            Some(p) => p.blocks_for(seq.prefill_len() + 1) * p.block,
        }
    }

    /// KV tokens server `s` uses at `t` (paged and decoding: the blocks of
    /// the step in progress).
    fn kv_now(&self, s: usize, t: f64) -> u64 {
        let sv = &self.servers[s];
        if sv.paged.is_none() {
            return sv.kv_reserved;
        }
        match (&sv.paged, sv.phase) {
            (
                Some(p),
                Phase::Decode {
                    start_s,
                    steps,
                    run,
                },
            ) => {
                let (epoch, from, until, tokens) = sv.kv_seen.get();
                if epoch == sv.epoch && t >= from && t < until {
                    return tokens;
                }
                let done = run.steps_within(steps, t - start_s).min(steps - 1);
                let tokens = p.demand(sv.steps_done + done) * p.block;
                let from = start_s + run.time_s(done);
                let until = if done + 1 < steps {
                    start_s + run.time_s(done + 1)
                } else {
                    f64::INFINITY
                };
                sv.kv_seen.set((sv.epoch, from, until, tokens));
                tokens
            }
            _ => sv.kv_in_use(),
        }
    }

    fn arrive(&mut self, r: LlmRequest, rec: &mut LlmRecorder) {
        self.arrive_at(r, r.arrival_s, f64::NAN, f64::NAN, rec);
    }

    /// Request `r` reaches the fleet at `t`; `start_s` and `first_token_s`
    /// are NaN, or (decode pool) when its prefill started and ended.
    fn arrive_at(
        &mut self,
        r: LlmRequest,
        t: f64,
        start_s: f64,
        first_token_s: f64,
        rec: &mut LlmRecorder,
    ) {
        let need = r.input_tokens as u64 + r.output_tokens as u64;
        if need > self.cfg.context_limit_tokens {
            rec.reject(t, RejectReason::ContextLimit, r.user);
            self.done.push((r.user, t));
            return;
        }
        let too_big = match &self.servers[0].paged {
            None => need + self.cfg.kv_fixed_tokens_per_seq > self.cfg.kv_budget_tokens,
            Some(p) => {
                p.blocks_for(r.input_tokens as u64 + r.output_tokens.max(1) as u64) > p.total
            }
        };
        if too_big {
            rec.reject(t, RejectReason::KvBudget, r.user);
            self.done.push((r.user, t));
            return;
        }
        let mut seq = Seq {
            user: r.user,
            arrival_s: r.arrival_s,
            start_s,
            first_token_s,
            input: r.input_tokens,
            output: r.output_tokens.max(1),
            prompt_left: r.input_tokens,
            generated: 0,
            need: 0,
            offset: 0,
            stamp: 0,
            running: false,
            cached: 0,
            prompt: r.prompt,
            cache_slot: prefix::NO_SLOT,
            scaleup: false,
        };
        if let Some(sc) = self.scale.as_mut() {
            seq.scaleup = sc.scaling_up();
            sc.note_in_flight(t, 1);
        }
        seq.need = self.admission_need(&seq);
        let need = seq.need;
        let id = match self.free_ids.pop() {
            Some(id) => {
                self.seqs[id as usize] = seq;
                id
            }
            None => {
                self.seqs.push(seq);
                (self.seqs.len() - 1) as u32
            }
        };
        let n = self.active.len();
        let active = &self.active;
        match self.cfg.dispatch {
            Dispatch::CentralQueue => {
                // Join the least-loaded server that has room now; without
                // one, wait in the shared FIFO that any server drains when
                // room frees (at a completion, a step boundary in every mode).
                let mut best: Option<(u64, usize)> = None;
                if self.central.is_empty() {
                    best = self.least_loaded_with_room(need, t);
                }
                match best {
                    Some((_, s)) => self.enqueue(s, id, need, t, rec),
                    None => self.central.push_back(id),
                }
            }
            policy => {
                let s = match policy {
                    Dispatch::RoundRobin => {
                        let i = self.next_rr % n;
                        self.next_rr = (i + 1) % n;
                        active[i] as usize
                    }
                    Dispatch::JoinShortestQueue => active
                        .iter()
                        .map(|&s| s as usize)
                        .min_by_key(|&s| (self.servers[s].load(), s))
                        .expect("servers"),
                    Dispatch::LeastKvLoad => active
                        .iter()
                        .map(|&s| s as usize)
                        .min_by_key(|&s| (self.kv_now(s, t) + self.servers[s].queued_kv, s))
                        .expect("servers"),
                    Dispatch::PowerOfTwoChoices => {
                        let servers = &self.servers;
                        let i = crate::engine::fcfs::two_choices(&mut self.rng, n, |i| {
                            servers[active[i] as usize].load()
                        });
                        active[i] as usize
                    }
                    Dispatch::PrefixAffinity => self.affine_server(&seq, t),
                    Dispatch::CentralQueue => unreachable!(),
                };
                self.enqueue(s, id, need, t, rec);
            }
        }
    }

    /// `prefix_affinity`: of the servers whose KV load (in use at `t` plus
    /// queued) is within the slack of the least loaded one's, the one
    /// caching the longest prefix of `seq`'s prompt; ties go to the less
    /// loaded, then the lowest index.
    fn affine_server(&self, seq: &Seq, t: f64) -> usize {
        let active = || self.active.iter().map(|&s| s as usize);
        let Some(cfg) = &self.cfg.prefix else {
            return active()
                .min_by_key(|&s| (self.servers[s].load(), s))
                .expect("servers");
        };
        let kv_load = |s: usize| self.kv_now(s, t) + self.servers[s].queued_kv;
        let least = active().map(kv_load).min().expect("servers");
        let bound = least + self.kv_cap / 100 * cfg.affinity_slack_percent as u64;
        let mut best = (0u64, u64::MAX, 0usize);
        for s in active() {
            let load = kv_load(s);
            if load > bound {
                continue;
            }
            let sv = &self.servers[s];
            let hit = sv
                .prefix
                .as_ref()
                .map_or(0, |c| c.peek_hit(cfg, &seq.prompt, seq.input as u64));
            if best.1 == u64::MAX || hit > best.0 || (hit == best.0 && load < best.1) {
                best = (hit, load, s);
            }
        }
        best.2
    }

    /// The server with room for `need` more KV tokens (after its queue) and
    /// the least KV in use plus queued at `t`, first by index on ties.
    ///
    /// Exact like asking every server, but cheaper: a server's use lies in
    /// its plan's [`Server::kv_range`], so the lowest upper end among servers
    /// that surely have room bounds the answer, and only servers whose lower
    /// end is within it (and could have room) are asked exactly.
    fn least_loaded_with_room(&self, need: u64, t: f64) -> Option<(u64, usize)> {
        debug_assert!(self
            .servers
            .iter()
            .zip(&self.rows)
            .all(|(sv, row)| DispatchRow::of(sv, &self.cfg) == *row));
        // A server has room when its use plus queue is at most `limit`
        // (`need` never exceeds the cap: larger requests are refused).
        let limit = self.kv_cap - need;
        let mut bound = NO_ROOM;
        for row in &self.rows {
            if row.hi_with_queue <= limit {
                bound = bound.min(row.hi_with_queue);
            }
        }
        let bound = bound.min(limit);
        let mut best: Option<(u64, usize)> = None;
        for (s, row) in self.rows.iter().enumerate() {
            if row.lo_with_queue > bound {
                continue;
            }
            let load = if row.lo_with_queue == row.hi_with_queue {
                row.lo_with_queue
            } else {
                self.kv_now(s, t) + row.queued_kv
            };
            debug_assert!(row.lo_with_queue <= load && load <= row.hi_with_queue);
            if load <= limit && best.is_none_or(|(l, _)| load < l) {
                best = Some((load, s));
            }
        }
        best
    }

    /// Bring server `s`'s [`DispatchRow`] up to date after it changed.
    #[inline]
    pub(super) fn refresh_row(&mut self, s: usize) {
        self.rows[s] = DispatchRow::of(&self.servers[s], &self.cfg);
    }

    /// Put request `id` in server `s`'s queue; if it is the head and fits,
    /// the server admits it at its next step boundary.
    fn enqueue(&mut self, s: usize, id: u32, need: u64, t: f64, rec: &mut LlmRecorder) {
        let server = &mut self.servers[s];
        server.queue.push_back(id);
        server.queued_kv += need;
        if server.queue.len() == 1 && server.can_admit(need, &self.cfg, self.kv_cap) {
            self.poke(s, t, rec);
        }
        self.refresh_row(s);
    }

    /// A server learns at `t` that it could admit a request: an idle server
    /// starts now; a decoding server stops its run at the end of the step in
    /// progress; a prefilling server admits at the end of its prefill.
    fn poke(&mut self, s: usize, t: f64, rec: &mut LlmRecorder) {
        let server = &self.servers[s];
        match server.phase {
            Phase::Idle => self.boundary(s, t, rec),
            Phase::Prefill { .. } | Phase::Mixed { .. } => {}
            Phase::Decode {
                start_s,
                steps,
                run,
            } => {
                let done = run.steps_within(steps, t - start_s);
                if done < steps {
                    let new_steps = done + 1;
                    let end = start_s + run.time_s(new_steps);
                    let server = &mut self.servers[s];
                    server.phase = Phase::Decode {
                        start_s,
                        steps: new_steps,
                        run,
                    };
                    server.end_s = end;
                    if let Some(p) = &server.paged {
                        server.kv_range.1 = p.demand(server.steps_done + new_steps - 1) * p.block;
                    }
                    server.epoch = server.epoch.wrapping_add(1);
                    self.events.push(end, s as u32);
                }
            }
        }
        self.refresh_row(s);
    }
}

/// Share of a phase from `a` to `b` that lies in the window (`overlap` of it).
#[inline]
fn share(overlap: f64, a: f64, b: f64) -> f64 {
    if b > a {
        overlap / (b - a)
    } else {
        0.0
    }
}
