//! Running a placement whose classes use several models (docs/model.md,
//! "Many models in one fleet"): each model's sub-fleet serves its own
//! classes' requests on its own servers (that model's step costs and KV
//! budget), all into one recorder. Every sub-fleet reads the replication's
//! whole request stream and keeps its classes' requests, so each request
//! is the one the whole placement would have been sent (common random
//! numbers with the other placements); the placement's servers are the
//! sub-fleets' sum and its usage their total. Swapped models
//! (`[placements.swap]`) share a swap pool instead of replicas of their
//! own ([`serve_swap_pool`]).

use crate::engine::batching::{FleetUsage, LlmRequest, LlmSource};
use crate::engine::SwapFleet;
use crate::metrics::{LlmRecorder, Window};
use crate::scenario::{PlacementKind, Scenario, Workload};
use crate::workload::source::Source;

use super::replication::{
    add_batch1_usage, decode_stream, placement_stream, recorder_of_server, refused_alone,
    LlmRequests, LlmRun,
};

/// The requests of `inner` whose sender's class is kept (the others are
/// drawn, so the stream stays aligned, and dropped).
struct KeptClasses<'r, 'a, 'b> {
    inner: &'r mut LlmRequests<'a, 'b>,
    /// One past the last user id of each class.
    class_ends: &'r [u32],
    /// Kept, by class index.
    keep: &'r [bool],
    /// The next kept request, drawn ahead for `peek_s`.
    next: Option<LlmRequest>,
}

impl KeptClasses<'_, '_, '_> {
    #[inline]
    fn fill(&mut self) {
        while self.next.is_none() {
            let Some(r) = self.inner.next_llm() else {
                return;
            };
            let class = crate::core::classes::class_index(self.class_ends, r.user);
            if self.keep[class] {
                self.next = Some(r);
            }
        }
    }
}

impl LlmSource for KeptClasses<'_, '_, '_> {
    fn peek_s(&mut self) -> Option<f64> {
        self.fill();
        self.next.map(|r| r.arrival_s)
    }
    fn next_request(&mut self) -> Option<LlmRequest> {
        self.fill();
        self.next.take()
    }
    fn completed(&mut self, user: u32, end_s: f64) {
        self.inner.completed(user, end_s);
    }
}

/// Add one sub-fleet's usage to the placement's.
fn add_usage(total: &mut FleetUsage, u: &FleetUsage) {
    total.busy_s += u.busy_s;
    total.active_energy_j += u.active_energy_j;
    total.batch_decode_area += u.batch_decode_area;
    total.decode_s += u.decode_s;
    total.kv_area += u.kv_area;
    total.events += u.events;
    total.max_kv_reserved_tokens = total.max_kv_reserved_tokens.max(u.max_kv_reserved_tokens);
    total.max_batch_seen = total.max_batch_seen.max(u.max_batch_seen);
    total.preemptions += u.preemptions;
    total.recomputed_tokens += u.recomputed_tokens;
    total.prompt_tokens += u.prompt_tokens;
    total.prefix_hit_tokens += u.prefix_hit_tokens;
    total.prefix_evictions += u.prefix_evictions;
    total.model_loads += u.model_loads;
}

/// Serve the view `s`'s multi-model placement in one replication,
/// measuring `window`: its servers (pooled: the sum of every model's
/// replicas; dedicated: one device per user), what was recorded and the
/// fleets' total usage.
pub(super) fn serve_model_fleets(
    s: &Scenario,
    replication: usize,
    window: Window,
    source_horizon_s: f64,
) -> (usize, LlmRecorder, FleetUsage) {
    let p = &s.placements[0];
    let first = &p.models[0].server;
    let mut rec = recorder_of_server(s, first, p.stream_id, replication, window);
    let mut usage = FleetUsage::default();
    let mut servers = 0;
    let mut keep = vec![false; s.classes.len()];
    for fleet in &p.models {
        let pooled = matches!(p.kind, PlacementKind::Pooled { .. });
        if fleet.swapped {
            continue;
        }
        if pooled && fleet.servers == 0 {
            // Sizing gives no replica to a model no user of the pool uses.
            assert!(
                fleet.classes.iter().all(|&c| s.class_users(c).1 == 0),
                "a model its users use has replicas"
            );
            continue;
        }
        keep.iter_mut().for_each(|k| *k = false);
        for &c in &fleet.classes {
            keep[c] = true;
        }
        let Workload::Llm(l) = &s.classes[fleet.classes[0]].workload else {
            unreachable!("a model sub-fleet serves LLM classes")
        };
        let kind = match p.kind {
            PlacementKind::Pooled { dispatch, .. } => PlacementKind::Pooled {
                servers: fleet.servers,
                dispatch,
            },
            PlacementKind::Dedicated => PlacementKind::Dedicated,
        };
        let run = LlmRun {
            s,
            workload: l,
            server: &fleet.server,
            kind: &kind,
            window,
            rng: placement_stream(s, replication, p.stream_id),
            // (Disaggregation is refused on a multi-model placement.)
            decode_rng: decode_stream(s, replication, p.stream_id),
        };
        let (n, u) = with_kept_classes(s, replication, source_horizon_s, &keep, |kept| {
            run.serve(kept, &mut rec)
        });
        add_usage(&mut usage, &u);
        servers = match p.kind {
            PlacementKind::Pooled { .. } => servers + n,
            PlacementKind::Dedicated => n,
        };
    }
    if p.models.iter().any(|f| f.swapped) {
        let n = p.swap_servers();
        let u = serve_swap_pool(s, replication, source_horizon_s, n, &mut rec);
        add_usage(&mut usage, &u);
        servers += n;
    }
    (servers, rec, usage)
}

/// Serve the requests of the view `s`'s swapped models (placement 0's
/// `[placements.swap]`) on its swap pool of `n` servers, one request at a
/// time: each pays its model's load time when its server holds another
/// model (docs/model.md, "Many models in one fleet").
fn serve_swap_pool(
    s: &Scenario,
    replication: usize,
    source_horizon_s: f64,
    n: usize,
    rec: &mut LlmRecorder,
) -> FleetUsage {
    let p = &s.placements[0];
    let class_ends = s.class_ends();
    // The swapped model of each class (None: a resident model's class).
    let mut model_of: Vec<Option<u32>> = vec![None; s.classes.len()];
    for (m, f) in p.models.iter().enumerate() {
        if f.swapped {
            for &c in &f.classes {
                model_of[c] = Some(m as u32);
            }
        }
    }
    let keep: Vec<bool> = model_of.iter().map(Option::is_some).collect();
    let mut usage = FleetUsage::default();
    if n == 0 {
        assert!(
            (0..s.classes.len()).all(|c| !keep[c] || s.class_users(c).1 == 0),
            "a swapped model its users use has a swap pool"
        );
        return usage;
    }
    let w = rec.window();
    let mut pool = SwapFleet::new(n);
    with_kept_classes(s, replication, source_horizon_s, &keep, |kept| {
        while let Some(r) = kept.next_request() {
            let class = crate::core::classes::class_index(&class_ends, r.user);
            let m = model_of[class].expect("a kept request is of a swapped model");
            let f = &p.models[m as usize];
            let need = r.input_tokens as u64 + r.output_tokens as u64;
            let Workload::Llm(l) = &s.classes[class].workload else {
                unreachable!("a model sub-fleet serves LLM classes")
            };
            let (limit, budget) = (l.model.context_limit_tokens, f.server.kv_budget_tokens);
            if refused_alone(&r, need, limit, budget, rec) {
                kept.completed(r.user, r.arrival_s);
                continue;
            }
            let (prefill, decode) = f
                .server
                .step
                .single_request_s(r.input_tokens as u64, r.output_tokens as u64);
            let sv = pool.serve(r.arrival_s, m, f.load_s, prefill, decode);
            rec.record(
                r.arrival_s,
                sv.start_s,
                sv.first_token_s,
                sv.end_s,
                r.output_tokens,
                r.user,
            );
            kept.completed(r.user, sv.end_s);
            add_batch1_usage(
                &mut usage,
                rec,
                (sv.start_s, sv.first_token_s, sv.end_s),
                need,
            );
            if sv.loaded && w.measures(r.arrival_s) {
                usage.model_loads += 1;
            }
        }
    });
    usage
}

/// Run `serve` on the requests of replication `replication` of the view
/// `s` generated before `source_horizon_s`, of the classes marked in
/// `keep` only (the whole stream is drawn, so each request is the one the
/// placement would have been sent).
fn with_kept_classes<T>(
    s: &Scenario,
    replication: usize,
    source_horizon_s: f64,
    keep: &[bool],
    serve: impl FnOnce(&mut KeptClasses) -> T,
) -> T {
    let class_ends = s.class_ends();
    let mut population = s.population();
    population.horizon_s = source_horizon_s;
    let mut source = Source::new(population, replication);
    let mut requests = LlmRequests::new(&mut source, s);
    let mut kept = KeptClasses {
        inner: &mut requests,
        class_ends: &class_ends,
        keep,
        next: None,
    };
    serve(&mut kept)
}
