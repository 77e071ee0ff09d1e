//! Outages as a transformation of a placement's request stream, around the
//! engine (which never sees an outage): an [`OutageGate`] sits between the
//! request source and the servers and, for each request, asks the outage
//! clocks of the placement (and, for a `fallback_only` placement, of the
//! placement it backs) whether the request's placement is down when it
//! arrives. A request arriving during an outage
//!
//! - fails (`on_outage = "fail"`): it never reaches the servers, and is
//!   recorded afterwards as refused for `RejectReason::Outage`;
//! - waits (`"wait"`): it is given to the servers at the outage's end (its
//!   latencies count from its arrival through [`DeferredArrivals`]);
//! - falls back (`"fallback"`): it is counted here and served by the
//!   fallback placement's own run, whose gate keeps exactly the requests
//!   arriving while this placement is down (the same clocks: the same
//!   streams).
//!
//! Requests already admitted when an outage starts are served to the end
//! (docs/model.md section 20).

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};

use crate::engine::batching::{LlmRequest, LlmSource};
use crate::metrics::{DeferredArrivals, LlmRecorder, RejectReason, Window};
use crate::results::columns;
use crate::results::table::{cell, Value};
use crate::scenario::{OutageRule, Scenario};
use crate::workload::outages::{down_seconds, OutageClock, OutageSpec};

use super::{Measured, ReplicationOutcome};

/// The clocks of some outage processes, for every user: fleet processes
/// have one clock, per-user processes one per user (made when first asked).
struct Clocks {
    seed: u64,
    replication: u64,
    fleet: Vec<OutageClock>,
    per_user: Vec<(OutageSpec, Vec<Option<OutageClock>>)>,
}

impl Clocks {
    fn new(specs: &[&OutageSpec], seed: u64, replication: u64, users: usize) -> Self {
        let fleet = specs
            .iter()
            .filter(|s| !s.per_user)
            .map(|s| s.clock(seed, replication, 0))
            .collect();
        let per_user = specs
            .iter()
            .filter(|s| s.per_user)
            .map(|s| ((*s).clone(), vec![None; users]))
            .collect();
        Clocks {
            seed,
            replication,
            fleet,
            per_user,
        }
    }

    /// When the outage `user` sees at `t` ends (the latest end of the
    /// processes down at `t`), None when up. Asked in time order per user.
    fn down_until(&mut self, user: u32, t: f64) -> Option<f64> {
        let mut end: Option<f64> = None;
        for c in &mut self.fleet {
            if let Some(e) = c.down_until(t) {
                end = Some(end.map_or(e, |x: f64| x.max(e)));
            }
        }
        for (spec, clocks) in &mut self.per_user {
            let c = clocks[user as usize]
                .get_or_insert_with(|| spec.clock(self.seed, self.replication, user));
            if let Some(e) = c.down_until(t) {
                end = Some(end.map_or(e, |x: f64| x.max(e)));
            }
        }
        end
    }
}

/// A request waiting to be given to the servers at `time_s`.
struct Pending {
    time_s: f64,
    seq: u64,
    request: LlmRequest,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        self.time_s
            .total_cmp(&other.time_s)
            .then(self.seq.cmp(&other.seq))
    }
}

/// What the gate did in one replication.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OutageCounts {
    /// Requests that failed (arrived during an outage, rule `fail`, or a
    /// fallback-only placement's own outage with rule `fail`).
    pub failed: u64,
    /// Requests that waited for an outage's end.
    pub deferred: u64,
    /// Requests sent to the fallback placement (generated before the
    /// horizon: the fallback's `arrived`).
    pub fallback: u64,
    /// Share of user-time inside the window during which the placement was
    /// down for the user (the union of its processes' outages), in [0, 1].
    pub unavailable_share: f64,
}

/// A placement's request stream with its outages applied (see the module
/// doc); an [`LlmSource`] for the servers.
pub(super) struct OutageGate<'a, S: LlmSource> {
    inner: &'a mut S,
    rule: OutageRule,
    own: Clocks,
    /// A fallback-only placement: the clocks of the placement it backs.
    backs: Option<Clocks>,
    heap: BinaryHeap<Reverse<Pending>>,
    seq: u64,
    deferred: DeferredArrivals,
    /// Failed requests (arrival, user), recorded after the run.
    failed: Vec<(f64, u32)>,
    counts: OutageCounts,
    /// Requests sent to the fallback, kept when asked ([`Self::capturing`]).
    captured: Option<Vec<LlmRequest>>,
}

/// Whether placement 0 of the view `s` has an outage gate: something can
/// take it down, or it backs another placement.
pub(super) fn gated(s: &Scenario) -> bool {
    let p = &s.placements[0];
    s.outages.is_some() && !(p.outage.processes.is_empty() && p.outage.backs.is_none())
}

impl<'a, S: LlmSource> OutageGate<'a, S> {
    /// The gate of placement 0 of the view `s` in one replication, or None
    /// when nothing can take it down and it backs no placement.
    pub(super) fn new(s: &Scenario, replication: usize, inner: &'a mut S) -> Option<Self> {
        if !gated(s) {
            return None;
        }
        let processes = s.outages.as_deref()?;
        let p = &s.placements[0];
        let specs = |ids: &[usize]| -> Vec<&OutageSpec> {
            ids.iter().map(|&i| &processes[i].spec).collect()
        };
        let r = replication as u64;
        let own = Clocks::new(&specs(&p.outage.processes), s.seed, r, s.users);
        let backs = p
            .outage
            .backs
            .as_ref()
            .map(|(_, ids)| Clocks::new(&specs(ids), s.seed, r, s.users));
        Some(OutageGate {
            inner,
            rule: p.outage.rule,
            own,
            backs,
            heap: BinaryHeap::new(),
            seq: 0,
            deferred: Arc::new(Mutex::new(HashMap::new())),
            failed: Vec::new(),
            counts: OutageCounts::default(),
            captured: None,
        })
    }

    /// Keep (with `keep`) the requests sent to the fallback, in arrival
    /// order, for its run to replay ([`Self::finish`] returns them).
    pub(super) fn capturing(mut self, keep: bool) -> Self {
        self.captured = keep.then(Vec::new);
        self
    }

    /// The map the recorder needs to count waited requests from their
    /// arrival.
    pub(super) fn deferrals(&self) -> DeferredArrivals {
        self.deferred.clone()
    }

    fn push(&mut self, time_s: f64, request: LlmRequest) {
        self.seq += 1;
        self.heap.push(Reverse(Pending {
            time_s,
            seq: self.seq,
            request,
        }));
    }

    /// Decide what happens to `r`, the source's next request.
    fn classify(&mut self, mut r: LlmRequest) {
        let t = r.arrival_s;
        if let Some(backs) = &mut self.backs {
            if backs.down_until(r.user, t).is_none() {
                // Its placement is up: not this fallback's request.
                self.inner.completed(r.user, t);
                return;
            }
        }
        let Some(end) = self.own.down_until(r.user, t) else {
            self.push(t, r);
            return;
        };
        match self.rule {
            OutageRule::Fail => {
                self.counts.failed += 1;
                self.failed.push((t, r.user));
                self.inner.completed(r.user, t);
            }
            OutageRule::Fallback => {
                self.counts.fallback += 1;
                if let Some(kept) = &mut self.captured {
                    kept.push(r);
                }
                self.inner.completed(r.user, t);
            }
            OutageRule::Wait => {
                self.counts.deferred += 1;
                let mut map = self.deferred.lock().expect("never poisoned");
                let mut release = end;
                while map.contains_key(&(r.user, release.to_bits())) {
                    release = release.next_up();
                }
                map.insert((r.user, release.to_bits()), t);
                drop(map);
                r.arrival_s = release;
                self.push(release, r);
            }
        }
    }

    /// Pull requests from the source until the earliest one due is known.
    fn fill(&mut self) {
        loop {
            let due = self.heap.peek().map_or(f64::INFINITY, |p| p.0.time_s);
            match self.inner.peek_s() {
                Some(t) if t < due || self.heap.is_empty() => {
                    let r = self.inner.next_request().expect("peeked");
                    self.classify(r);
                }
                _ => return,
            }
        }
    }

    /// Record the failed requests in `rec` and return the counts, with the
    /// placement's unavailable share over `window`, and the requests sent
    /// to the fallback when they were kept (else none).
    pub(super) fn finish(
        self,
        s: &Scenario,
        replication: usize,
        rec: &mut LlmRecorder,
    ) -> (OutageCounts, Vec<LlmRequest>) {
        for &(t, user) in &self.failed {
            rec.reject(t, RejectReason::Outage, user);
        }
        let mut counts = self.counts;
        counts.unavailable_share = unavailable_share(s, replication, rec.window());
        (counts, self.captured.unwrap_or_default())
    }
}

impl<S: LlmSource> LlmSource for OutageGate<'_, S> {
    fn peek_s(&mut self) -> Option<f64> {
        self.fill();
        self.heap.peek().map(|p| p.0.time_s)
    }
    fn next_request(&mut self) -> Option<LlmRequest> {
        self.fill();
        self.heap.pop().map(|p| p.0.request)
    }
    fn completed(&mut self, user: u32, end_s: f64) {
        self.inner.completed(user, end_s);
    }
}

/// Share of user-time in `window` during which placement 0 of the view `s`
/// is down (its own processes), replication `replication`.
fn unavailable_share(s: &Scenario, replication: usize, window: Window) -> f64 {
    let Some(processes) = s.outages.as_deref() else {
        return 0.0;
    };
    let ids = &s.placements[0].outage.processes;
    let specs: Vec<&OutageSpec> = ids.iter().map(|&i| &processes[i].spec).collect();
    let len = window.len_s();
    if specs.is_empty() || len <= 0.0 || s.users == 0 {
        return 0.0;
    }
    let per_user = specs.iter().any(|sp| sp.per_user);
    let users = if per_user { s.users } else { 1 };
    let mut buf = Vec::new();
    let mut total = 0.0;
    for u in 0..users {
        let mut clocks: Vec<OutageClock> = specs
            .iter()
            .map(|sp| sp.clock(s.seed, replication as u64, u as u32))
            .collect();
        total += down_seconds(&mut clocks, window.warmup_s, window.horizon_s, &mut buf) / len;
    }
    total / users as f64
}

/// Share of measured requests within the service level, outages counted:
/// a failed request misses, a waited one is judged on its latency from
/// arrival, and a request sent to the fallback is judged where it was
/// served (`fallback`: the fallback placement's outcome in the same
/// replication).
pub(super) fn attainment_with_outages(
    own: &ReplicationOutcome,
    fallback: Option<&ReplicationOutcome>,
) -> Option<f64> {
    let counts = |o: &ReplicationOutcome| match &o.measured {
        Measured::Llm(r, _) => (r.attained, r.measured),
        Measured::Fcfs(_) => (0, 0),
    };
    let (mut attained, mut measured) = counts(own);
    if let Some(f) = fallback {
        let (a, m) = counts(f);
        attained += a;
        measured += m;
    }
    (measured > 0).then(|| attained as f64 / measured as f64)
}

/// The outage columns of a replication row (scenarios with `[outages]`):
/// the rule, the fallback, what the outages did and the attainment with
/// them counted (the fallback's part is added by [`super::run_scenario`]).
pub(super) fn outage_cells(s: &Scenario, o: &ReplicationOutcome) -> Vec<(String, Value)> {
    if s.outages.is_none() {
        return Vec::new();
    }
    let p = &s.placements[o.placement];
    let c = o.outage.unwrap_or_default();
    let role = match &p.outage.backs {
        Some((primary, _)) => format!("fallback of {primary}"),
        None => p.outage.rule.name().to_string(),
    };
    vec![
        cell(columns::ON_OUTAGE, Value::Str(role)),
        cell(
            columns::FALLBACK,
            Value::Str(p.outage.fallback.clone().unwrap_or_default()),
        ),
        cell("outage_failed", Value::F64(Some(c.failed as f64))),
        cell("outage_deferred", Value::F64(Some(c.deferred as f64))),
        cell(
            columns::OUTAGE_FALLBACK,
            Value::F64(Some(c.fallback as f64)),
        ),
        cell("unavailable_share", Value::F64(Some(c.unavailable_share))),
        cell(
            columns::SLO_ATTAINMENT_SHARE_WITH_OUTAGES,
            Value::F64(attainment_with_outages(o, None)),
        ),
    ]
}
