//! Where sizing's time goes: per placement, the probes it ran and what they
//! cost (rounds, replications, simulated requests, seconds), for `size
//! --profile`, `sweep --profile` and the line both print at the end.
//!
//! Every [`super::size_scenario`] call adds its placements' costs to a
//! process-wide tally (a sweep sizes many points, in parallel) that the
//! command reads once at the end with [`take`]. Counts are deterministic;
//! seconds are wall time summed over probes (probes run in parallel, so
//! they add up to more than the command's wall time) and are never written
//! to a table.

use std::sync::Mutex;

use super::probe::ProbeCost;

/// What one placement's sizing cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlacementProfile {
    /// Placement name.
    pub placement: String,
    /// Fleet sizes simulated (pool probes and dedicated group checks),
    /// each once however many pool sizes share it.
    pub probes: u64,
    /// Probes decided at an early look.
    pub early: u64,
    /// Probes left undecided.
    pub undecided: u64,
    /// Their rounds, replications, simulated requests and seconds.
    pub cost: ProbeCost,
}

impl PlacementProfile {
    /// Add another profile of the same placement.
    pub fn add(&mut self, o: &PlacementProfile) {
        self.probes += o.probes;
        self.early += o.early;
        self.undecided += o.undecided;
        self.cost.add(&o.cost);
    }
}

static TALLY: Mutex<Vec<PlacementProfile>> = Mutex::new(Vec::new());

/// Add `profiles` to the process-wide tally, by placement name.
pub(crate) fn record(profiles: &[PlacementProfile]) {
    let mut tally = TALLY.lock().unwrap_or_else(|e| e.into_inner());
    for p in profiles {
        match tally.iter_mut().find(|t| t.placement == p.placement) {
            Some(t) => t.add(p),
            None => tally.push(p.clone()),
        }
    }
}

/// The tally since the last call, emptied.
pub fn take() -> Vec<PlacementProfile> {
    std::mem::take(&mut *TALLY.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The tally's lines: one per placement, then the total (`--profile`); the
/// total alone when `detailed` is false.
pub fn describe(profiles: &[PlacementProfile], detailed: bool) -> Vec<String> {
    let line = |name: &str, p: &PlacementProfile| {
        format!(
            "{name}: {} probes ({} decided early, {} undecided), {} rounds ({} surely-short lengthenings skipped), {} replications, {} simulated requests, {:.1} s in probes",
            p.probes,
            p.early,
            p.undecided,
            p.cost.rounds,
            p.cost.skipped_rounds,
            p.cost.replications,
            p.cost.simulated_requests,
            p.cost.seconds
        )
    };
    let mut total = PlacementProfile::default();
    let mut out = Vec::new();
    for p in profiles {
        total.add(p);
        if detailed {
            out.push(line(&format!("  {}", p.placement), p));
        }
    }
    out.push(line("sizing", &total));
    out
}
