//! Running one placement in one replication ([`run_replication`]): the
//! request adapters that draw generic service times and LLM token counts
//! from the replication's request source ([`LlmRequests`]), the FCFS,
//! dedicated and batching servers they feed, and what was measured
//! ([`ReplicationOutcome`]).

use crate::core::dist::{draw_tokens, Dist};
use crate::core::rng::{stream_rng, StreamKind};
use crate::engine::batching::{
    BatchConfig, BatchingFleet, DisaggConfig, DisaggFleet, FleetUsage, IterSource, KvLink,
    LlmRequest, LlmSource, PrefixCaching, PromptBlocks,
};
use crate::engine::fcfs::{DedicatedDevices, PooledFleet};
use crate::metrics::{FcfsRecorder, LlmRecorder, RejectReason, Window};
use crate::scenario::{
    LatencyMetric, LlmServer, LlmWorkload, Placement, PlacementKind, Scenario, Workload,
};
use crate::workload::source::{Conversation, Source};

use super::outages::{OutageCounts, OutageGate};

/// One generic request as generated: who sent it, when, and how much work it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// Arrival time, seconds since simulation start (00:00 UTC).
    pub arrival_s: f64,
    /// Sender.
    pub user: u32,
    /// Service time on one server, seconds.
    pub service_s: f64,
}

/// LLM requests of a [`Source`]: token counts drawn from the request's
/// stream, with the sizes of its user's class.
pub struct LlmRequests<'a, 'b> {
    source: &'b mut Source<'a>,
    /// Each class's LLM workload, by class index.
    workloads: Vec<&'a LlmWorkload>,
    /// Prompts carry blocks ([`PromptBlocks`]): the trace lists them.
    listed: bool,
}

impl<'a, 'b> LlmRequests<'a, 'b> {
    /// Wrap the source of a scenario whose classes are all LLM classes.
    pub fn new(source: &'b mut Source<'a>, scenario: &'a Scenario) -> Self {
        let workloads: Vec<&LlmWorkload> = scenario
            .classes
            .iter()
            .map(|c| match &c.workload {
                Workload::Llm(l) => &**l,
                Workload::Generic { .. } => panic!("an LLM placement serves LLM classes only"),
            })
            .collect();
        if workloads.iter().any(|w: &&LlmWorkload| w.growing_context) {
            source.keep_conversations();
        }
        LlmRequests {
            listed: scenario.trace_blocks.is_some(),
            source,
            workloads,
        }
    }

    /// The popped request's prompt blocks; `input` becomes its whole
    /// prompt (system prompt and conversation so far included).
    #[inline]
    fn prompt_of(&mut self, user: u32, input: &mut u32, output: u32) -> PromptBlocks {
        if self.listed {
            let i = self.source.trace_index().expect("a trace request");
            return PromptBlocks::Listed { request: i as u32 };
        }
        let class = self.source.last_class();
        let w = self.workloads[class];
        if w.system_prompt_tokens == 0 && !w.growing_context {
            return PromptBlocks::None;
        }
        let fresh = input.saturating_add(w.system_prompt_tokens);
        let mut conversation = 0;
        if w.growing_context {
            let follow_up = self.source.last_was_follow_up();
            let c = *self.source.conversation_mut(user);
            let grown = c.tokens as u64 + *input as u64 + output as u64;
            // A conversation that would outgrow its model's context
            // limit starts afresh.
            let id = if follow_up && c.id != 0 && grown <= w.model.context_limit_tokens {
                *input += c.tokens;
                c.id
            } else {
                *input = fresh;
                self.source.new_conversation()
            };
            *self.source.conversation_mut(user) = Conversation {
                id,
                tokens: *input + output,
            };
            conversation = (1 << 63) | id as u64;
        } else {
            *input = fresh;
        }
        PromptBlocks::Implicit {
            class_key: 0x5eed_c1a5_0000_0000 | class as u64,
            system_tokens: w.system_prompt_tokens,
            conversation,
        }
    }

    /// The next request, drawn now.
    #[inline]
    pub fn next_llm(&mut self) -> Option<LlmRequest> {
        let (arrival_s, user) = self.source.pop()?;
        let (mut input_tokens, output_tokens) = match self.source.trace_tokens() {
            Some(tokens) => tokens,
            None => {
                let w = self.workloads[self.source.last_class()];
                let rng = self.source.size_rng();
                let input = draw_tokens(&w.input_tokens, rng);
                (input, draw_tokens(&w.output_tokens, rng))
            }
        };
        let prompt = self.prompt_of(user, &mut input_tokens, output_tokens);
        Some(LlmRequest {
            prompt,
            arrival_s,
            user,
            input_tokens,
            output_tokens,
        })
    }
}

impl LlmSource for LlmRequests<'_, '_> {
    fn peek_s(&mut self) -> Option<f64> {
        self.source.peek_s()
    }
    fn next_request(&mut self) -> Option<LlmRequest> {
        self.next_llm()
    }
    fn completed(&mut self, user: u32, end_s: f64) {
        self.source.completed(user, end_s);
    }
    #[inline]
    fn finishing_soon(&self, user: u32) {
        self.source.prefetch_user(user);
    }
}

/// Generic requests of a [`Source`]: service time drawn from the request's
/// stream, from its class's distribution times the placement's scale for it.
#[inline]
fn next_generic(source: &mut Source<'_>, services: &[(&Dist, f64)]) -> Option<Request> {
    let (arrival_s, user) = source.pop()?;
    let (service, scale) = services[source.last_class()];
    let service_s = service.sample(source.size_rng()) * scale;
    Some(Request {
        arrival_s,
        user,
        service_s,
    })
}

/// What a placement measured.
#[derive(Debug, Clone)]
pub enum Measured {
    /// Generic requests on non-batching servers.
    Fcfs(Box<FcfsRecorder>),
    /// LLM requests, with the fleet's time-integrated state.
    Llm(Box<LlmRecorder>, FleetUsage),
}

/// What one placement measured in one replication.
#[derive(Debug, Clone)]
pub struct ReplicationOutcome {
    /// Index into the scenario's placements.
    pub placement: usize,
    /// Replication number (0-based).
    pub replication: usize,
    /// Servers (pooled) or devices (dedicated: one per user).
    pub servers: usize,
    /// The measurements.
    pub measured: Measured,
    /// What outages did to its requests (scenarios with `[outages]` whose
    /// processes hit this placement, or a fallback-only placement).
    pub outage: Option<OutageCounts>,
}

impl ReplicationOutcome {
    /// The generic recorder (panics for LLM outcomes).
    pub fn fcfs(&self) -> &FcfsRecorder {
        match &self.measured {
            Measured::Fcfs(r) => r,
            Measured::Llm(..) => panic!("an LLM outcome has no FCFS recorder"),
        }
    }
}

/// Bounds a request must meet to count as attained: the attainment
/// target's, else every TTFT/TPOT/E2E percentile bound of the service level.
pub(super) fn attainment_bounds(s: &Scenario) -> [f64; 3] {
    if let Some(a) = s.service_level.attainment {
        return [a.ttft_s, a.tpot_s, a.e2e_s];
    }
    let mut b = [f64::INFINITY; 3];
    for t in &s.service_level.targets {
        let i = match t.metric {
            LatencyMetric::Ttft => 0,
            LatencyMetric::Tpot => 1,
            LatencyMetric::E2e => 2,
            _ => continue,
        };
        b[i] = b[i].min(t.max_s);
    }
    b
}

/// Simulate one placement in one replication. A benchmark runs until its
/// last request completes: once to find that makespan, then again with it
/// as the measurement window, so that every rate and integral of the
/// replication covers exactly the run (the two runs are the same events:
/// nothing a benchmark's source or server does depends on the window).
pub fn run_replication(s: &Scenario, placement: usize, replication: usize) -> ReplicationOutcome {
    if s.benchmark.is_none() {
        let window = Window {
            warmup_s: s.warmup_s,
            horizon_s: s.horizon_s,
        };
        return run_in_window(s, placement, replication, window, s.horizon_s);
    }
    let unbounded = Window {
        warmup_s: 0.0,
        horizon_s: f64::INFINITY,
    };
    let first = run_in_window(s, placement, replication, unbounded, f64::INFINITY);
    let makespan_s = match &first.measured {
        Measured::Llm(r, _) => r.last_end_s,
        Measured::Fcfs(_) => unreachable!("a benchmark runs an LLM"),
    };
    let window = Window {
        warmup_s: 0.0,
        horizon_s: makespan_s,
    };
    run_in_window(s, placement, replication, window, f64::INFINITY)
}

/// The dispatch stream of the placement keyed `stream_id` in `replication`.
pub(super) fn placement_stream(
    s: &Scenario,
    replication: usize,
    stream_id: u64,
) -> crate::core::rng::SimRng {
    stream_rng(s.seed, replication as u64, StreamKind::Placement, stream_id)
}

/// The dispatch stream of a disaggregated placement's decode pool (unused
/// by other placements): its own, beside [`placement_stream`]'s.
pub(super) fn decode_stream(
    s: &Scenario,
    replication: usize,
    stream_id: u64,
) -> crate::core::rng::SimRng {
    placement_stream(s, replication, stream_id | 1 << 32)
}

/// Simulate one placement in one replication, measuring `window`;
/// requests are generated before `source_horizon_s`.
fn run_in_window(
    s: &Scenario,
    placement: usize,
    replication: usize,
    window: Window,
    source_horizon_s: f64,
) -> ReplicationOutcome {
    let p = &s.placements[placement];
    assert_eq!(
        p.serves.len(),
        s.classes.len(),
        "run a placement on its Scenario::view"
    );
    let mut population = s.population();
    population.horizon_s = source_horizon_s;
    let mut source = Source::new(population, replication);
    let placement_rng = || placement_stream(s, replication, p.stream_id);
    // Where each class's users end (latencies are also kept per class).
    let class_ends = s.class_ends();
    // Service times of each class on this placement's servers (generic).
    let services: Vec<(&Dist, f64)> = s
        .classes
        .iter()
        .enumerate()
        .filter_map(|(c, class)| match &class.workload {
            Workload::Generic { service } => Some((service, p.service_scale_by_class[c])),
            Workload::Llm(_) => None,
        })
        .collect();
    let mut outage = None;
    let (servers, measured) = match (s.workload_of(placement), &p.kind) {
        (Workload::Generic { .. }, PlacementKind::Dedicated) => {
            let mut rec = FcfsRecorder::new(window).with_classes(class_ends.clone());
            let mut devices = DedicatedDevices::new(s.users);
            while let Some(r) = next_generic(&mut source, &services) {
                let sv = devices.serve(r.user, r.arrival_s, r.service_s);
                rec.record(r.arrival_s, sv.start_s, sv.end_s, r.user);
                source.completed(r.user, sv.end_s);
            }
            (s.users, Measured::Fcfs(Box::new(rec)))
        }
        (Workload::Generic { .. }, PlacementKind::Pooled { servers, dispatch }) => {
            let mut rec = FcfsRecorder::new(window).with_classes(class_ends.clone());
            let mut fleet = PooledFleet::new(*servers, *dispatch, placement_rng());
            while let Some(r) = next_generic(&mut source, &services) {
                let sv = fleet.serve(r.arrival_s, r.service_s);
                rec.record(r.arrival_s, sv.start_s, sv.end_s, r.user);
                source.completed(r.user, sv.end_s);
            }
            (*servers, Measured::Fcfs(Box::new(rec)))
        }
        (Workload::Llm(_), _) if p.is_multi_model() => {
            let (servers, rec, usage) =
                super::models::serve_model_fleets(s, replication, window, source_horizon_s);
            (servers, Measured::Llm(Box::new(rec), usage))
        }
        (Workload::Llm(_), _) => match closed_loop_primary(s, placement) {
            None => {
                let mut requests = LlmRequests::new(&mut source, s);
                let served = serve_llm(s, placement, replication, window, &mut requests, false);
                outage = served.outage;
                (served.servers, served.measured)
            }
            Some(primary) => {
                // Closed-loop users: the requests its primary sends it are
                // known only by running the primary (the same streams),
                // then replayed here.
                let mut pv = s.clone();
                pv.placements = vec![primary.clone()];
                let mut requests = LlmRequests::new(&mut source, &pv);
                let sent = serve_llm(&pv, 0, replication, window, &mut requests, true).captured;
                let mut replay = IterSource::new(sent.into_iter());
                let served = serve_llm(s, placement, replication, window, &mut replay, false);
                outage = served.outage;
                (served.servers, served.measured)
            }
        },
    };
    ReplicationOutcome {
        placement,
        replication,
        servers,
        measured,
        outage,
    }
}

/// The placement a fallback-only `placement` of view `s` backs, when the
/// view's users are not all Poisson senders (sessions, agents, a trace):
/// their requests depend on where earlier ones were served, so the
/// fallback's run repeats its primary's to learn which fall back.
fn closed_loop_primary(s: &Scenario, placement: usize) -> Option<&Placement> {
    use crate::workload::source::Behaviour;
    let p = &s.placements[placement];
    p.outage.backs.as_ref()?;
    s.outages.as_ref()?;
    let open = s
        .classes
        .iter()
        .all(|c| matches!(c.behaviour, Behaviour::Poisson));
    (!open).then_some(p.outage.primary.as_deref()?)
}

/// What [`serve_llm`] gives.
struct ServedLlm {
    servers: usize,
    measured: Measured,
    outage: Option<OutageCounts>,
    /// The requests sent to the fallback (when asked to keep them).
    captured: Vec<LlmRequest>,
}

/// Serve `requests` on `placement` of `s` (an LLM placement of one model),
/// its outages applied when it has any (placement 0 of a view); with
/// `capture`, the requests it sends to its fallback are kept.
fn serve_llm(
    s: &Scenario,
    placement: usize,
    replication: usize,
    window: Window,
    requests: &mut impl LlmSource,
    capture: bool,
) -> ServedLlm {
    let mut rec = llm_recorder(s, placement, replication, window);
    let llm = LlmRun::new(s, placement, replication, window);
    match OutageGate::new(s, replication, requests) {
        None => {
            let (servers, usage) = llm.serve(requests, &mut rec);
            ServedLlm {
                servers,
                measured: Measured::Llm(Box::new(rec), usage),
                outage: None,
                captured: Vec::new(),
            }
        }
        Some(gate) => {
            let mut gate = gate.capturing(capture);
            rec = rec.with_deferrals(gate.deferrals());
            let (servers, usage) = llm.serve(&mut gate, &mut rec);
            let (counts, captured) = gate.finish(s, replication, &mut rec);
            ServedLlm {
                servers,
                measured: Measured::Llm(Box::new(rec), usage),
                outage: Some(counts),
                captured,
            }
        }
    }
}

/// The recorder of LLM `placement` of `s` in `replication`: its network
/// round trips, attainment bounds and classes.
pub(super) fn llm_recorder(
    s: &Scenario,
    placement: usize,
    replication: usize,
    window: Window,
) -> LlmRecorder {
    let p = &s.placements[placement];
    let server = p.llm().expect("LLM placements are resolved with servers");
    recorder_of_server(s, server, p.stream_id, replication, window)
}

/// The recorder of a placement (stream `stream_id`) whose requests travel
/// over `server`'s network.
pub(super) fn recorder_of_server(
    s: &Scenario,
    server: &LlmServer,
    stream_id: u64,
    replication: usize,
    window: Window,
) -> LlmRecorder {
    let [a, b, c] = attainment_bounds(s);
    let mut rec = LlmRecorder::new(window, server.network_rtt_s)
        .with_targets(a, b, c)
        .with_classes(s.class_ends());
    if let Some(d) = &server.network_rtt {
        let rng = stream_rng(s.seed, replication as u64, StreamKind::Network, stream_id);
        rec = rec.with_rtt_distribution(d.clone(), rng);
    }
    rec
}

/// What serving one LLM placement needs besides its requests.
pub(super) struct LlmRun<'a> {
    pub(super) s: &'a Scenario,
    pub(super) workload: &'a LlmWorkload,
    pub(super) server: &'a LlmServer,
    pub(super) kind: &'a PlacementKind,
    pub(super) window: Window,
    pub(super) rng: crate::core::rng::SimRng,
    pub(super) decode_rng: crate::core::rng::SimRng,
}

impl<'a> LlmRun<'a> {
    /// LLM `placement` of `s` (one model) in `replication`, measuring
    /// `window`.
    pub(super) fn new(
        s: &'a Scenario,
        placement: usize,
        replication: usize,
        window: Window,
    ) -> Self {
        let p = &s.placements[placement];
        LlmRun {
            s,
            workload: s.llm_of(placement).expect("an LLM placement"),
            server: p.llm().expect("LLM placements are resolved with servers"),
            kind: &p.kind,
            window,
            rng: placement_stream(s, replication, p.stream_id),
            decode_rng: decode_stream(s, replication, p.stream_id),
        }
    }

    /// The batching engine's configuration of a pooled placement of
    /// `servers` servers (dispatched by `dispatch`).
    fn batch_config(&self, servers: usize, dispatch: crate::engine::Dispatch) -> BatchConfig {
        let server = self.server;
        BatchConfig {
            prefix: self.prefix_caching(),
            servers,
            max_batch: server.max_batch,
            kv_budget_tokens: server.kv_budget_tokens,
            context_limit_tokens: self.workload.model.context_limit_tokens,
            step: server.step,
            dispatch,
            fast_forward: server.fast_forward,
            chunked_prefill_tokens: server.chunked_prefill_tokens,
            kv_allocation: server.kv_policy.into(),
            kv_fixed_tokens_per_seq: server.kv_fixed_tokens_per_seq,
            autoscaler: self.s.sizing.autoscaler,
        }
    }

    /// The batching fleet of a pooled placement that is not disaggregated
    /// (None otherwise), and its servers.
    pub(super) fn colocated_fleet(self) -> Option<(usize, BatchingFleet)> {
        let PlacementKind::Pooled { servers, dispatch } = self.kind else {
            return None;
        };
        if self.server.disaggregated.is_some() {
            return None;
        }
        let cfg = self.batch_config(*servers, *dispatch);
        Some((*servers, BatchingFleet::new(cfg, self.window, self.rng)))
    }

    /// The placement's prefix caching, when `prefix_caching` is on: blocks
    /// of generated prompts are the engine's KV blocks (16 tokens when it
    /// reserves whole contexts); a trace's are its own.
    fn prefix_caching(&self) -> Option<PrefixCaching> {
        let server = self.server;
        server.prefix_caching.then(|| PrefixCaching {
            block_tokens: match server.kv_policy {
                crate::llm::engines::KvPolicy::Paged { block_tokens } => block_tokens,
                crate::llm::engines::KvPolicy::Reserved => 16,
            },
            listed: self.s.trace_blocks.clone(),
            affinity_slack_percent: 10,
        })
    }

    /// Serve every request of `requests`: servers (or devices) and usage.
    pub(super) fn serve(
        self,
        requests: &mut impl LlmSource,
        rec: &mut LlmRecorder,
    ) -> (usize, FleetUsage) {
        let l = self.workload;
        match self.kind {
            PlacementKind::Dedicated => {
                let usage = serve_dedicated_llm(
                    self.s.users,
                    l.model.context_limit_tokens,
                    self.server,
                    self.prefix_caching().as_ref(),
                    requests,
                    rec,
                );
                (self.s.users, usage)
            }
            PlacementKind::Pooled { servers, dispatch } => {
                let server = self.server;
                let Some(d) = server.disaggregated else {
                    let (n, fleet) = self.colocated_fleet().expect("colocated");
                    return (n, fleet.run_source(requests, rec));
                };
                let cfg = self.batch_config(*servers, *dispatch);
                // The decode pool's own dispatch stream: the prefill pool
                // keeps the placement's, so its draws are a colocated pool's.
                let mut prefill = cfg.clone();
                prefill.servers = d.prefill_servers;
                let mut decode = cfg;
                decode.servers = *servers - d.prefill_servers;
                let link = KvLink {
                    bytes_per_s: d.link_bytes_per_s,
                    latency_s: d.link_latency_s,
                    kv_bytes_per_token: d.kv_bytes_per_token,
                    kv_fixed_tokens_per_seq: server.kv_fixed_tokens_per_seq,
                };
                let cfg = DisaggConfig {
                    prefill,
                    decode,
                    link,
                };
                let fleet = DisaggFleet::new(cfg, self.window, self.rng, self.decode_rng);
                (*servers, fleet.run_source(requests, rec))
            }
        }
    }
}

/// One device per user at batch 1 (Lindley's recursion with the roofline
/// service time): TTFT = wait + prefill, then one token per step.
fn serve_dedicated_llm(
    users: usize,
    context_limit_tokens: u64,
    server: &LlmServer,
    prefix: Option<&PrefixCaching>,
    requests: &mut impl LlmSource,
    rec: &mut LlmRecorder,
) -> FleetUsage {
    let w = rec.window();
    let mut devices = DedicatedDevices::new(users);
    // With a prompt cache, each device's last conversation: (prompt blocks,
    // prompt tokens, prompt + answer tokens).
    let mut last: Vec<(PromptBlocks, u32, u64)> = match prefix {
        Some(_) => vec![(PromptBlocks::None, 0, 0); users],
        None => Vec::new(),
    };
    let mut usage = FleetUsage::default();
    while let Some(r) = requests.next_request() {
        let need = r.input_tokens as u64 + r.output_tokens as u64;
        if refused_alone(&r, need, context_limit_tokens, server.kv_budget_tokens, rec) {
            requests.completed(r.user, r.arrival_s);
            continue;
        }
        let (mut prefill, decode) = server
            .step
            .single_request_s(r.input_tokens as u64, r.output_tokens as u64);
        if let Some(cfg) = prefix {
            let kept = &mut last[r.user as usize];
            let reused = cfg.reused_tokens(&kept.0, kept.1, kept.2, &r.prompt, r.input_tokens);
            *kept = (r.prompt, r.input_tokens, need);
            if reused > 0 {
                prefill = server.step.prefill_s((r.input_tokens - reused) as u64);
            }
            if w.measures(r.arrival_s) {
                usage.prompt_tokens += r.input_tokens as u64;
                usage.prefix_hit_tokens += reused as u64;
            }
        }
        let sv = devices.serve(r.user, r.arrival_s, prefill + decode);
        let first = sv.start_s + prefill;
        rec.record(
            r.arrival_s,
            sv.start_s,
            first,
            sv.end_s,
            r.output_tokens,
            r.user,
        );
        requests.completed(r.user, sv.end_s);
        add_batch1_usage(&mut usage, rec, (sv.start_s, first, sv.end_s), need);
    }
    usage
}

/// Refuse (record in `rec`) request `r` of `need` context tokens served
/// alone when it exceeds the model's context limit or the device's KV
/// budget; whether it was.
pub(super) fn refused_alone(
    r: &LlmRequest,
    need: u64,
    context_limit_tokens: u64,
    kv_budget_tokens: u64,
    rec: &mut LlmRecorder,
) -> bool {
    let reason = if need > context_limit_tokens {
        RejectReason::ContextLimit
    } else if need > kv_budget_tokens {
        RejectReason::KvBudget
    } else {
        return false;
    };
    rec.reject(r.arrival_s, reason, r.user);
    true
}

/// Count a request served alone on a device from `start_s`, its first
/// token at `first_s`, done at `end_s`, holding `tokens` of context: busy
/// and decoding time inside the window, the timeline, KV held, one event.
pub(super) fn add_batch1_usage(
    usage: &mut FleetUsage,
    rec: &mut LlmRecorder,
    (start_s, first_s, end_s): (f64, f64, f64),
    tokens: u64,
) {
    let w = rec.window();
    let busy = w.overlap_s(start_s, end_s);
    let decoding = w.overlap_s(first_s, end_s);
    usage.busy_s += busy;
    rec.timeline.busy(start_s, end_s);
    usage.decode_s += decoding;
    usage.batch_decode_area += decoding;
    usage.kv_area += tokens as f64 * busy;
    usage.events += 1;
}
