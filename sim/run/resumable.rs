//! A replication that can be looked at before its end and then continued
//! ([`ResumableReplication`]): what lets a sizing probe's early looks and
//! its full round share one simulation instead of each running its own
//! from time 0.
//!
//! A run to horizon `h` and a run to a later horizon `H` see the same
//! arrivals before `h` and, since nothing after `h` can change what
//! happened before it, the same events. So the run to `H` is taken up to
//! `h`; there it is forked (fleet, request source and recorder cloned),
//! the fork's stream is ended at `h` and it drains what is in flight with
//! nothing new arriving, measured over `[warm-up, h)`: that is the look.
//! The original then goes on from `h`. The look differs from a separate
//! run to `h` in one way only: the last open-loop request before `h` draws
//! its sizes from the arrival stream after the next arrival's time, which
//! the run to `H` draws up to `H` ([`Source::end_at`]). The full round is
//! exactly the run to `H`.
//!
//! Only a plain pooled batching placement (one model, colocated, no
//! autoscaler, no outages, generated requests) is resumable; other probes
//! run each round on its own.

use crate::engine::batching::{BatchingFleet, FleetUsage};
use crate::metrics::{LlmRecorder, Window};
use crate::scenario::{PlacementKind, Scenario, Workload};
use crate::workload::source::Source;

use super::replication::{llm_recorder, LlmRequests, LlmRun, Measured, ReplicationOutcome};

/// One replication of placement 0 of a probe view, run in steps.
pub struct ResumableReplication<'s> {
    s: &'s Scenario,
    replication: usize,
    source: Source<'s>,
    fleet: BatchingFleet,
    rec: LlmRecorder,
    servers: usize,
}

/// Whether placement 0 of the view `s` can be run in steps.
pub fn resumable(s: &Scenario) -> bool {
    let p = &s.placements[0];
    s.benchmark.is_none()
        && s.trace.is_none()
        && s.sizing.autoscaler.is_none()
        && matches!(s.workload_of(0), Workload::Llm(_))
        && matches!(p.kind, PlacementKind::Pooled { .. })
        && !p.is_multi_model()
        && p.llm().is_some_and(|l| l.disaggregated.is_none())
        && !super::outages::gated(s)
        && p.outage.backs.is_none()
}

impl<'s> ResumableReplication<'s> {
    /// Replication `replication` of placement 0 of the view `s`, at time 0;
    /// None when it cannot be run in steps ([`resumable`]).
    pub fn new(s: &'s Scenario, replication: usize) -> Option<Self> {
        if !resumable(s) {
            return None;
        }
        let window = Window {
            warmup_s: s.warmup_s,
            horizon_s: s.horizon_s,
        };
        let (servers, fleet) = LlmRun::new(s, 0, replication, window).colocated_fleet()?;
        Some(ResumableReplication {
            s,
            replication,
            source: Source::new(s.population(), replication),
            fleet,
            rec: llm_recorder(s, 0, replication, window),
            servers,
        })
    }

    /// Run on to `horizon_s` and measure a fork of the run ended there.
    pub fn look_at(&mut self, horizon_s: f64) -> ReplicationOutcome {
        let s = self.s;
        let mut requests = LlmRequests::new(&mut self.source, s);
        self.fleet
            .run_until(&mut requests, &mut self.rec, horizon_s);
        let mut source = self.source.clone();
        source.end_at(horizon_s);
        let mut fleet = self.fleet.clone();
        fleet.end_window_at(horizon_s);
        let mut rec = self.rec.clone();
        rec.end_window_at(horizon_s);
        let mut requests = LlmRequests::new(&mut source, s);
        fleet.run_until(&mut requests, &mut rec, f64::INFINITY);
        let usage = fleet.finish(&rec);
        outcome(self.replication, self.servers, rec, usage)
    }

    /// Run to the end: the outcome of the whole run.
    pub fn finish(self) -> ReplicationOutcome {
        let ResumableReplication {
            s,
            replication,
            mut source,
            mut fleet,
            mut rec,
            servers,
        } = self;
        let mut requests = LlmRequests::new(&mut source, s);
        fleet.run_until(&mut requests, &mut rec, f64::INFINITY);
        let usage = fleet.finish(&rec);
        outcome(replication, servers, rec, usage)
    }
}

fn outcome(
    replication: usize,
    servers: usize,
    rec: LlmRecorder,
    usage: FleetUsage,
) -> ReplicationOutcome {
    ReplicationOutcome {
        placement: 0,
        replication,
        servers,
        measured: Measured::Llm(Box::new(rec), usage),
        outage: None,
    }
}
