//! A pooled fleet of LLM servers running continuous (iteration-level)
//! batching, as vLLM and Orca do.
//!
//! At every step boundary a server retires finished sequences, then admits
//! waiting requests in FCFS order while the batch has a free slot (up to
//! `max_batch`) and the KV cache can hold the request's whole context
//! (prompt + output, reserved at admission so the cache can never
//! overflow). Newly admitted requests are prefilled together in one step
//! (the prefill yields their first token; running sequences pause, as in
//! vLLM without chunked prefill); otherwise all running sequences decode one
//! token. With chunked prefill (`chunked_prefill_tokens`), prompts are fed
//! up to that many tokens per step into mixed steps that also decode one
//! token for every running sequence (Sarathi-Serve), one event per step.
//!
//! Event cost: the batch only changes at an admission or a completion, so a
//! server plans a whole run of decode steps up to its next completion as one
//! event (closed form in [`StepModel::decode_run_s`]). An arrival that can be
//! admitted cuts the run short at the end of the step in progress. The
//! step-by-step reference mode (`fast_forward = false`) plans one step per
//! event and must give the same latencies.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::RngExt;

use crate::core::rng::SimRng;
use crate::engine::events::EventQueue;
use crate::engine::fcfs::Dispatch;
use crate::llm::step::StepModel;
use crate::metrics::{LlmRecorder, RejectReason, Window};

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
}

/// How a server allocates its KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvAllocation {
    /// A request's whole context (prompt + output) reserved at admission.
    ReserveWholeContext,
    /// Blocks of `block_tokens` allocated as sequences grow.
    Paged {
        /// Tokens per block.
        block_tokens: u32,
    },
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
    /// Longest context (prompt + output) the model accepts.
    pub context_limit_tokens: u64,
    /// Step costs.
    pub step: StepModel,
    /// How arriving requests are assigned to servers.
    pub dispatch: Dispatch,
    /// Plan whole runs of identical steps as one event (false: step by step).
    pub fast_forward: bool,
    /// How the KV cache is allocated.
    pub kv_allocation: KvAllocation,
    /// KV a running sequence holds whatever its length (token equivalents).
    pub kv_fixed_tokens_per_seq: u64,
    /// Chunked prefill (Sarathi-Serve style): prompts are processed up to
    /// this many tokens per step, mixed into the decode steps of the running
    /// batch, instead of in separate prefill steps that pause decoding.
    pub chunked_prefill_tokens: Option<u32>,
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

#[derive(Debug, Clone, Copy)]
struct Seq {
    user: u32,
    arrival_s: f64,
    start_s: f64,
    first_token_s: f64,
    input: u32,
    output: u32,
    /// Prompt tokens not yet prefilled (chunked prefill).
    prompt_left: u32,
}

impl Seq {
    #[inline]
    fn kv_need(&self) -> u64 {
        self.input as u64 + self.output as u64
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
    running: BinaryHeap<Reverse<(u64, u32)>>,
    prefilling: Vec<u32>,
    batch: u32,
    context: u64,
    steps_done: u64,
    kv_reserved: u64,
    queued_kv: u64,
    phase: Phase,
    end_s: f64,
    epoch: u32,
}

impl Server {
    fn new() -> Self {
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
        }
    }

    /// Whether a request needing `kv` tokens could be admitted now.
    #[inline]
    fn can_admit(&self, kv: u64, cfg: &BatchConfig) -> bool {
        self.batch + (self.prefilling.len() as u32) < cfg.max_batch
            && self.kv_reserved + kv <= cfg.kv_budget_tokens
    }

    /// Whether a request needing `kv` tokens would still fit after every
    /// request already waiting here is admitted.
    #[inline]
    fn has_room_after_queue(&self, kv: u64, cfg: &BatchConfig) -> bool {
        self.batch + self.prefilling.len() as u32 + (self.queue.len() as u32) < cfg.max_batch
            && self.kv_reserved + self.queued_kv + kv <= cfg.kv_budget_tokens
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
    /// Sum over time of reserved KV tokens (all servers).
    pub kv_area: f64,
    /// Events handled (server boundaries, including superseded ones).
    pub events: u64,
    /// Most KV tokens ever reserved on one server (never above the budget).
    pub max_kv_reserved_tokens: u64,
    /// Most sequences ever running or prefilling on one server (never above
    /// `max_batch`).
    pub max_batch_seen: u32,
}

/// A fleet of continuous-batching servers.
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
    /// Completions (user, time) not yet reported to the source.
    done: Vec<(u32, f64)>,
}

impl BatchingFleet {
    /// An idle fleet; `rng` is used by power-of-two-choices dispatch only.
    pub fn new(cfg: BatchConfig, window: Window, rng: SimRng) -> Self {
        assert!(cfg.servers >= 1 && cfg.max_batch >= 1);
        let servers = (0..cfg.servers).map(|_| Server::new()).collect();
        BatchingFleet {
            events: EventQueue::with_capacity(cfg.servers * 2 + 16),
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
        let mut arrival_seq = self.events.take_seq();
        loop {
            let next_arrival = source.peek_s().map(|t| (t, arrival_seq));
            let next_event = self.events.peek().map(|e| (e.time_s, e.seq));
            let take_arrival = match (next_arrival, next_event) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(a), Some(e)) => a.0 < e.0 || (a.0 == e.0 && a.1 < e.1),
            };
            if take_arrival {
                let r = source.next_request().expect("peeked");
                arrival_seq = self.events.take_seq();
                self.arrive(r, rec);
            } else {
                let e = self.events.pop().expect("peeked");
                self.usage.events += 1;
                let s = e.server as usize;
                if e.epoch != self.servers[s].epoch {
                    continue; // superseded by a shorter plan
                }
                self.boundary(s, e.time_s, rec);
            }
            for (user, t) in self.done.drain(..) {
                source.completed(user, t);
            }
        }
        self.usage
    }

    fn note_kv(&mut self, t: f64) {
        self.usage.kv_area += self.kv_total as f64 * self.window.overlap_s(self.kv_last_s, t);
        self.kv_last_s = t;
    }

    fn arrive(&mut self, r: LlmRequest, rec: &mut LlmRecorder) {
        let t = r.arrival_s;
        let need = r.input_tokens as u64 + r.output_tokens as u64;
        if need > self.cfg.context_limit_tokens {
            rec.reject(t, RejectReason::ContextLimit, r.user);
            self.done.push((r.user, t));
            return;
        }
        if need > self.cfg.kv_budget_tokens {
            rec.reject(t, RejectReason::KvBudget, r.user);
            self.done.push((r.user, t));
            return;
        }
        let seq = Seq {
            user: r.user,
            arrival_s: t,
            start_s: f64::NAN,
            first_token_s: f64::NAN,
            input: r.input_tokens,
            output: r.output_tokens.max(1),
            prompt_left: r.input_tokens,
        };
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
        let n = self.servers.len();
        match self.cfg.dispatch {
            Dispatch::CentralQueue => {
                // Join the least-loaded server that has room now; without
                // one, wait in the shared FIFO that any server drains when
                // room frees (at a completion, a step boundary in every mode).
                let mut best: Option<(u64, usize)> = None;
                if self.central.is_empty() {
                    for s in 0..n {
                        let sv = &self.servers[s];
                        if sv.has_room_after_queue(need, &self.cfg) {
                            let load = sv.kv_reserved + sv.queued_kv;
                            if best.is_none_or(|(l, _)| load < l) {
                                best = Some((load, s));
                            }
                        }
                    }
                }
                match best {
                    Some((_, s)) => self.enqueue(s, id, need, t, rec),
                    None => self.central.push_back(id),
                }
            }
            policy => {
                let s = match policy {
                    Dispatch::RoundRobin => {
                        let s = self.next_rr;
                        self.next_rr = (s + 1) % n;
                        s
                    }
                    Dispatch::JoinShortestQueue => (0..n)
                        .min_by_key(|&s| (self.servers[s].load(), s))
                        .expect("servers"),
                    Dispatch::LeastKvLoad => (0..n)
                        .min_by_key(|&s| {
                            (self.servers[s].kv_reserved + self.servers[s].queued_kv, s)
                        })
                        .expect("servers"),
                    Dispatch::PowerOfTwoChoices => {
                        if n == 1 {
                            0
                        } else {
                            let a = self.rng.random_range(0..n);
                            let mut b = self.rng.random_range(0..n - 1);
                            if b >= a {
                                b += 1;
                            }
                            if self.servers[b].load() < self.servers[a].load() {
                                b
                            } else {
                                a
                            }
                        }
                    }
                    Dispatch::CentralQueue => unreachable!(),
                };
                self.enqueue(s, id, need, t, rec);
            }
        }
    }

    /// Put request `id` in server `s`'s queue; if it is the head and fits,
    /// the server admits it at its next step boundary.
    fn enqueue(&mut self, s: usize, id: u32, need: u64, t: f64, rec: &mut LlmRecorder) {
        let server = &mut self.servers[s];
        server.queue.push_back(id);
        server.queued_kv += need;
        if server.queue.len() == 1 && server.can_admit(need, &self.cfg) {
            self.poke(s, t, rec);
        }
    }

    /// A server learns at `t` that it could admit a request: an idle server
    /// starts now; a decoding server stops its run at the end of the step in
    /// progress; a prefilling server admits at the end of its prefill.
    fn poke(&mut self, s: usize, t: f64, rec: &mut LlmRecorder) {
        let server = &self.servers[s];
        match server.phase {
            Phase::Idle => self.boundary(s, t, rec),
            Phase::Prefill { .. } | Phase::Mixed { .. } => {}
            Phase::Decode { start_s, steps } => {
                let step = &self.cfg.step;
                let done = step.steps_within(server.batch, server.context, steps, t - start_s);
                if done < steps {
                    let new_steps = done + 1;
                    let end = start_s + step.decode_run_s(server.batch, server.context, new_steps);
                    let server = &mut self.servers[s];
                    server.phase = Phase::Decode {
                        start_s,
                        steps: new_steps,
                    };
                    server.end_s = end;
                    server.epoch = server.epoch.wrapping_add(1);
                    self.events.push(end, s as u32, server.epoch);
                }
            }
        }
    }

    /// End of the current phase of server `s` at `t` (or a start from idle):
    /// retire, admit, plan the next phase.
    fn boundary(&mut self, s: usize, t: f64, rec: &mut LlmRecorder) {
        let w = self.window;
        let phase = self.servers[s].phase;
        match phase {
            Phase::Idle => {}
            Phase::Prefill { start_s, tokens } => {
                let overlap = w.overlap_s(start_s, t);
                self.usage.busy_s += overlap;
                self.usage.active_energy_j +=
                    share(overlap, start_s, t) * self.cfg.step.prefill_active_j(tokens);
                rec.timeline.busy(start_s, t);
                let ids = std::mem::take(&mut self.servers[s].prefilling);
                for &id in &ids {
                    let seq = &mut self.seqs[id as usize];
                    seq.first_token_s = t;
                    if seq.output <= 1 {
                        self.complete(s, id, t, rec);
                    } else {
                        let server = &mut self.servers[s];
                        server
                            .running
                            .push(Reverse((server.steps_done + seq.output as u64 - 1, id)));
                        server.batch += 1;
                        server.context += seq.input as u64 + 1;
                    }
                }
                let mut ids = ids;
                ids.clear();
                self.servers[s].prefilling = ids; // keep the allocation
            }
            Phase::Mixed { start_s, chunk } => {
                let overlap = w.overlap_s(start_s, t);
                self.usage.busy_s += overlap;
                let sv = &self.servers[s];
                self.usage.active_energy_j += share(overlap, start_s, t)
                    * self.cfg.step.mixed_active_j(sv.batch, sv.context, chunk);
                rec.timeline.busy(start_s, t);
                if self.servers[s].batch > 0 {
                    self.usage.decode_s += overlap;
                    self.usage.batch_decode_area += self.servers[s].batch as f64 * overlap;
                }
                let server = &mut self.servers[s];
                server.steps_done += 1;
                server.context += server.batch as u64;
                self.retire_finished(s, t, rec);
                // The chunk's prompt tokens go to the prefilling requests in
                // admission order; a finished prompt yields its first token.
                let mut left = chunk;
                let ids = std::mem::take(&mut self.servers[s].prefilling);
                let mut still = Vec::with_capacity(ids.len());
                for &id in &ids {
                    let seq = &mut self.seqs[id as usize];
                    let take = (seq.prompt_left as u64).min(left);
                    seq.prompt_left -= take as u32;
                    left -= take;
                    if seq.prompt_left > 0 {
                        still.push(id);
                        continue;
                    }
                    seq.first_token_s = t;
                    if seq.output <= 1 {
                        self.complete(s, id, t, rec);
                    } else {
                        let seq = *seq;
                        let server = &mut self.servers[s];
                        server
                            .running
                            .push(Reverse((server.steps_done + seq.output as u64 - 1, id)));
                        server.batch += 1;
                        server.context += seq.input as u64 + 1;
                    }
                }
                self.servers[s].prefilling = still;
            }
            Phase::Decode { start_s, steps } => {
                let overlap = w.overlap_s(start_s, t);
                self.usage.busy_s += overlap;
                let sv = &self.servers[s];
                self.usage.active_energy_j += share(overlap, start_s, t)
                    * self.cfg.step.decode_run_active_j(sv.batch, sv.context, steps);
                rec.timeline.busy(start_s, t);
                self.usage.decode_s += overlap;
                self.usage.batch_decode_area += self.servers[s].batch as f64 * overlap;
                let server = &mut self.servers[s];
                server.steps_done += steps;
                server.context += server.batch as u64 * steps;
                self.retire_finished(s, t, rec);
            }
        }
        // Admission, FCFS from this server's queue, then the central queue.
        self.note_kv(t);
        let cfg = &self.cfg;
        let mut prompt_tokens = 0u64;
        loop {
            let server = &self.servers[s];
            let head = if let Some(&id) = server.queue.front() {
                Some((id, false))
            } else {
                self.central.front().map(|&id| (id, true))
            };
            let Some((id, central)) = head else { break };
            let need = self.seqs[id as usize].kv_need();
            if !server.can_admit(need, cfg) {
                break;
            }
            if central {
                self.central.pop_front();
            } else {
                self.servers[s].queue.pop_front();
                self.servers[s].queued_kv -= need;
            }
            let seq = &mut self.seqs[id as usize];
            seq.start_s = t;
            prompt_tokens += seq.input as u64;
            let server = &mut self.servers[s];
            server.kv_reserved += need;
            server.prefilling.push(id);
            self.kv_total += need;
        }
        self.plan(s, t, prompt_tokens);
    }

    /// Plan the next phase of server `s` from `t`: prefill what was just
    /// admitted, else decode up to the next completion, else idle.
    fn plan(&mut self, s: usize, t: f64, prompt_tokens: u64) {
        let step = self.cfg.step;
        let server = &mut self.servers[s];
        self.usage.max_kv_reserved_tokens =
            self.usage.max_kv_reserved_tokens.max(server.kv_reserved);
        self.usage.max_batch_seen = self
            .usage
            .max_batch_seen
            .max(server.batch + server.prefilling.len() as u32);
        if let (false, Some(budget)) = (
            server.prefilling.is_empty(),
            self.cfg.chunked_prefill_tokens,
        ) {
            let pending: u64 = server
                .prefilling
                .iter()
                .map(|&id| self.seqs[id as usize].prompt_left as u64)
                .sum();
            let chunk = pending.min(budget as u64);
            server.phase = Phase::Mixed { start_s: t, chunk };
            server.end_s = t + step.mixed_step_s(server.batch, server.context, chunk);
        } else if !server.prefilling.is_empty() {
            server.phase = Phase::Prefill {
                start_s: t,
                tokens: prompt_tokens,
            };
            server.end_s = t + step.prefill_s(prompt_tokens);
        } else if server.batch > 0 {
            let Reverse((next_finish, _)) = *server.running.peek().expect("batch > 0");
            let mut steps = next_finish - server.steps_done;
            if !self.cfg.fast_forward {
                steps = 1;
            }
            server.phase = Phase::Decode { start_s: t, steps };
            server.end_s = t + step.decode_run_s(server.batch, server.context, steps);
        } else {
            server.phase = Phase::Idle;
            return;
        }
        server.epoch = server.epoch.wrapping_add(1);
        self.events.push(server.end_s, s as u32, server.epoch);
    }

    /// Complete every running sequence whose last step is done.
    fn retire_finished(&mut self, s: usize, t: f64, rec: &mut LlmRecorder) {
        while let Some(&Reverse((finish, id))) = self.servers[s].running.peek() {
            if finish > self.servers[s].steps_done {
                break;
            }
            self.servers[s].running.pop();
            let seq = self.seqs[id as usize];
            let server = &mut self.servers[s];
            server.batch -= 1;
            server.context -= seq.input as u64 + seq.output as u64;
            self.complete(s, id, t, rec);
        }
    }

    fn complete(&mut self, s: usize, id: u32, t: f64, rec: &mut LlmRecorder) {
        let seq = self.seqs[id as usize];
        let server = &mut self.servers[s];
        server.kv_reserved -= seq.kv_need();
        self.note_kv(t);
        self.kv_total -= seq.kv_need();
        rec.record(
            seq.arrival_s,
            seq.start_s,
            seq.first_token_s,
            t,
            seq.output,
            seq.user,
        );
        self.done.push((seq.user, t));
        self.free_ids.push(id);
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
