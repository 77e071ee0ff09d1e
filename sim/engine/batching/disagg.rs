//! Prefill/decode disaggregation (DistServe, Mooncake, vLLM's disaggregated
//! prefill): a prefill pool and a decode pool of continuous-batching
//! servers, the prompt's KV sent between them over a link.
//!
//! A request is dispatched to a prefill server, which prefills it (its first
//! token: TTFT ends here) and keeps its KV while the KV is sent: the
//! transfer takes `latency + bytes / bandwidth`, bytes being the KV the
//! decode server allocates for the prompt (`kv_bytes_per_token` x (prompt
//! tokens + the fixed sliding-window tokens)). When the transfer ends the
//! prefill server frees that KV (at its next step boundary, or at once when
//! idle) and the request reaches the decode pool, whose dispatch and paged
//! KV admit it as any request (queueing while its KV does not fit); once
//! admitted it joins the decode batch without a prefill step and decodes
//! its other tokens. A request of one output token ends at its prefill.
//! Transfers do not contend for the link (each prefill server has its own
//! NIC, as on DGX H100: one 400 Gb/s port per GPU).
//!
//! Events: a prefill server's boundaries, a decode server's, and one
//! transfer end per request; transfers wait in a heap whose slots are
//! reused, so the loop allocates nothing per event once warm.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{BatchConfig, BatchingFleet, FleetUsage, LlmRequest, LlmSource, Phase, Role};
use crate::core::rng::SimRng;
use crate::metrics::{LlmRecorder, Window};

/// The link that carries KV from the prefill pool to the decode pool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KvLink {
    /// Bandwidth one transfer gets, bytes per second (may be infinite).
    pub bytes_per_s: f64,
    /// Time every transfer takes besides its bytes, seconds.
    pub latency_s: f64,
    /// KV bytes of one context token (full-attention layers).
    pub kv_bytes_per_token: f64,
    /// KV every sequence holds whatever its length (sliding-window
    /// layers), in token equivalents; sent with the prompt.
    pub kv_fixed_tokens_per_seq: u64,
}

impl KvLink {
    /// Bytes sent for a prompt of `input` tokens.
    pub fn bytes(&self, input: u32) -> f64 {
        self.kv_bytes_per_token * (input as u64 + self.kv_fixed_tokens_per_seq) as f64
    }

    /// Seconds the transfer of a prompt of `input` tokens takes.
    pub fn transfer_s(&self, input: u32) -> f64 {
        self.latency_s + self.bytes(input) / self.bytes_per_s
    }
}

/// A disaggregated fleet's pools and link.
#[derive(Debug, Clone)]
pub struct DisaggConfig {
    /// The prefill pool (its `servers` are prefill servers).
    pub prefill: BatchConfig,
    /// The decode pool (its `servers` are decode servers; prefix caching
    /// is the prefill pool's only).
    pub decode: BatchConfig,
    /// The link between them.
    pub link: KvLink,
}

/// A KV transfer in flight.
#[derive(Debug, Clone, Copy)]
struct Transfer {
    /// The prefill server holding the KV, and the sequence there.
    server: u32,
    id: u32,
    /// The request as it arrived.
    request: LlmRequest,
    /// Its prefill's first admission and end.
    start_s: f64,
    first_token_s: f64,
}

/// A prefill pool and a decode pool serving one stream of requests.
pub struct DisaggFleet {
    prefill: BatchingFleet,
    decode: BatchingFleet,
    link: KvLink,
    window: Window,
    /// Transfers in flight: (end time bits, order, slot in `slots`).
    in_flight: BinaryHeap<Reverse<(u64, u64, u32)>>,
    slots: Vec<Transfer>,
    free_slots: Vec<u32>,
    order: u64,
    transfers: u64,
    transfer_bytes: f64,
    transfer_s: f64,
}

/// What happens next, in the order ties are broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Next {
    Transfer,
    Decode,
    Prefill,
    Arrival,
}

impl DisaggFleet {
    /// An idle fleet; `rng` drives the prefill pool's power-of-two-choices
    /// dispatch, `decode_rng` the decode pool's.
    pub fn new(cfg: DisaggConfig, window: Window, rng: SimRng, decode_rng: SimRng) -> Self {
        assert!(
            cfg.link.bytes_per_s > 0.0 && cfg.link.latency_s >= 0.0,
            "a link with bandwidth"
        );
        let mut decode_cfg = cfg.decode;
        decode_cfg.prefix = None;
        let mut prefill = BatchingFleet::new(cfg.prefill, window, rng);
        prefill.role = Role::Prefill;
        let mut decode = BatchingFleet::new(decode_cfg, window, decode_rng);
        decode.role = Role::Decode;
        DisaggFleet {
            prefill,
            decode,
            link: cfg.link,
            window,
            in_flight: BinaryHeap::new(),
            slots: Vec::new(),
            free_slots: Vec::new(),
            order: 0,
            transfers: 0,
            transfer_bytes: 0.0,
            transfer_s: 0.0,
        }
    }

    /// Serve every request of `requests` (in arrival order), then drain.
    pub fn run(
        self,
        requests: impl Iterator<Item = LlmRequest>,
        rec: &mut LlmRecorder,
    ) -> FleetUsage {
        self.run_source(&mut super::IterSource::new(requests), rec)
    }

    /// Serve every request the source gives, reporting completions back to
    /// it, until it and both pools are empty.
    pub fn run_source(mut self, source: &mut impl LlmSource, rec: &mut LlmRecorder) -> FleetUsage {
        loop {
            let mut next: Option<(f64, Next)> = None;
            let mut consider = |t: Option<f64>, what: Next| {
                if let Some(t) = t {
                    if next.is_none_or(|(b, w)| t < b || (t == b && what < w)) {
                        next = Some((t, what));
                    }
                }
            };
            consider(
                self.in_flight
                    .peek()
                    .map(|Reverse((bits, _, _))| f64::from_bits(*bits)),
                Next::Transfer,
            );
            consider(self.decode.events.peek().map(|e| e.time_s), Next::Decode);
            consider(self.prefill.events.peek().map(|e| e.time_s), Next::Prefill);
            consider(source.peek_s(), Next::Arrival);
            let Some((t, what)) = next else { break };
            match what {
                Next::Arrival => {
                    let r = source.next_request().expect("peeked");
                    self.prefill.arrive(r, rec);
                }
                Next::Prefill => {
                    let e = self.prefill.events.pop().expect("peeked");
                    self.prefill.usage.events += 1;
                    self.prefill.boundary(e.server as usize, e.time_s, rec);
                }
                Next::Decode => {
                    let e = self.decode.events.pop().expect("peeked");
                    self.decode.usage.events += 1;
                    self.decode.boundary(e.server as usize, e.time_s, rec);
                }
                Next::Transfer => self.transfer_ends(t, rec),
            }
            self.start_transfers();
            self.prefill.report(source);
            self.decode.report(source);
        }
        let mut usage = self.prefill.usage.clone();
        usage.events += self.prefill.events.superseded();
        let d = &self.decode.usage;
        usage.busy_s += d.busy_s;
        usage.active_energy_j += d.active_energy_j;
        usage.batch_decode_area += d.batch_decode_area;
        usage.decode_s += d.decode_s;
        usage.kv_area += d.kv_area;
        usage.events += d.events + self.decode.events.superseded();
        usage.max_kv_reserved_tokens = usage.max_kv_reserved_tokens.max(d.max_kv_reserved_tokens);
        usage.max_batch_seen = usage.max_batch_seen.max(d.max_batch_seen);
        usage.preemptions += d.preemptions;
        usage.recomputed_tokens += d.recomputed_tokens;
        usage.kv_transfers = self.transfers;
        usage.kv_transfer_bytes = self.transfer_bytes;
        usage.kv_transfer_s = self.transfer_s;
        usage
    }

    /// Start the transfers of the sequences the prefill pool handed off.
    fn start_transfers(&mut self) {
        for i in 0..self.prefill.handoff.len() {
            let (server, id, t) = self.prefill.handoff[i];
            let seq = &self.prefill.seqs[id as usize];
            let request = LlmRequest {
                arrival_s: seq.arrival_s,
                user: seq.user,
                input_tokens: seq.input,
                output_tokens: seq.output,
                prompt: seq.prompt,
            };
            let took = self.link.transfer_s(seq.input);
            if self.window.measures(seq.arrival_s) {
                self.transfers += 1;
                self.transfer_bytes += self.link.bytes(seq.input);
                self.transfer_s += took;
            }
            let x = Transfer {
                server,
                id,
                request,
                start_s: seq.start_s,
                first_token_s: seq.first_token_s,
            };
            let slot = match self.free_slots.pop() {
                Some(k) => {
                    self.slots[k as usize] = x;
                    k
                }
                None => {
                    self.slots.push(x);
                    (self.slots.len() - 1) as u32
                }
            };
            self.order += 1;
            let end = t + took;
            self.in_flight
                .push(Reverse((end.to_bits(), self.order, slot)));
        }
        self.prefill.handoff.clear();
    }

    /// The earliest transfer in flight ends at `t`: the prefill server frees
    /// its KV, the request reaches the decode pool.
    fn transfer_ends(&mut self, t: f64, rec: &mut LlmRecorder) {
        let Reverse((_, _, slot)) = self.in_flight.pop().expect("peeked");
        self.free_slots.push(slot);
        let x = self.slots[slot as usize];
        let s = x.server as usize;
        self.prefill.servers[s].sent.push(x.id);
        if self.prefill.servers[s].phase == Phase::Idle {
            self.prefill.boundary(s, t, rec);
        }
        self.decode
            .arrive_at(x.request, t, x.start_s, x.first_token_s, rec);
    }
}
