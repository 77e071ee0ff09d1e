//! Counterfactual scenarios of the decomposition waterfall (docs/model.md
//! section 23): a dedicated/pooled placement pair turned into the ordinary
//! one-placement scenarios whose sized fleets the waterfall compares.
//!
//! A [`Counterfactual`] says which of the pooled placement's features a
//! fleet has: its accelerator (else the dedicated device, pooled), its
//! batching (else batch 1), the users' daily profiles (else flat) and their
//! time zones (else all in the first group's). [`Scenario::counterfactual_pool`]
//! builds that pool as a scenario that `size` sizes like any other; with
//! every feature on it is the pooled placement itself.
//! [`Scenario::dedicated_only`] is the dedicated side. Both drop outages,
//! hybrids, the hourly schedule and other dedicated devices (sizing sizes
//! without outages anyway), so a sizing of them is one fleet's answer.

use super::{PlacementKind, Scenario};

/// Which of the pooled placement's features a counterfactual fleet has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Counterfactual {
    /// The pooled placement's servers (device, engine, tensor parallel);
    /// else the dedicated placement's device, pooled.
    pub accelerator: bool,
    /// The pooled placement's batching (`max_batch`, chunked prefill);
    /// else batch 1 (`max_batch = 1`, the servers' own prefill: the
    /// dedicated device's separate prefill steps, or the pooled
    /// placement's chunked prefill).
    pub batching: bool,
    /// Users' daily profiles as the scenario gives them; else flat (the
    /// same daily mean every hour).
    pub profile: bool,
    /// Users' time zones as given; else every group in the first group's.
    pub time_zones: bool,
}

impl Counterfactual {
    /// The pool with none of the pooled placement's features: the dedicated
    /// device pooled at batch 1, flat day, one time zone.
    pub const PLAIN: Counterfactual = Counterfactual {
        accelerator: false,
        batching: false,
        profile: false,
        time_zones: false,
    };
}

impl Scenario {
    /// Whether some user group's daily profile is not flat.
    pub fn has_diurnal_profile(&self) -> bool {
        self.arrivals.groups().iter().any(|g| !g.profile.is_flat())
    }

    /// Whether user groups sit in more than one time zone.
    pub fn has_time_zones(&self) -> bool {
        let groups = self.arrivals.groups();
        groups
            .iter()
            .any(|g| g.tz_offset_h != groups[0].tz_offset_h)
    }

    /// `c` with every feature that changes nothing in this scenario turned
    /// on, so that two fleets that are the same scenario are one fleet (and
    /// their step is exactly 1): a flat day (none given, or flattened) makes
    /// time zones moot; one time zone makes them moot too; batching is moot
    /// when the pooled placement does not batch (generic servers, or
    /// `max_batch = 1` with nothing else to change).
    pub fn canonical_counterfactual(&self, pooled: usize, c: Counterfactual) -> Counterfactual {
        let mut c = c;
        if !self.has_diurnal_profile() {
            c.profile = true;
        }
        // A flat day (given or made) looks the same from every time zone.
        if !c.profile || !self.has_diurnal_profile() || !self.has_time_zones() {
            c.time_zones = true;
        }
        // Batching is moot when the pooled placement does not batch
        // (generic servers, or `max_batch = 1` with the same prefill as the
        // servers it would be given to).
        let moot = match self.placements[pooled].llm() {
            None => true,
            Some(l) => l.max_batch == 1 && (c.accelerator || l.chunked_prefill_tokens.is_none()),
        };
        if moot {
            c.batching = true;
        }
        c
    }

    /// The scenario of one counterfactual pool of the pair (`dedicated`,
    /// `pooled`) at `pool_size` users per pool: one pooled placement named
    /// `name`, with the pooled placement's dispatch, network round trip and
    /// random streams (common random numbers across fleets), and the
    /// servers, batching, profiles and time zones `c` says.
    pub fn counterfactual_pool(
        &self,
        dedicated: usize,
        pooled: usize,
        c: Counterfactual,
        pool_size: usize,
        name: &str,
    ) -> Scenario {
        let pool = &self.placements[pooled];
        let mut q = if c.accelerator {
            pool.clone()
        } else {
            let mut q = self.placements[dedicated].clone();
            q.kind = pool.kind.clone();
            q.stream_id = pool.stream_id;
            q.billing = pool.billing.clone();
            if let (Some(l), Some(pl)) = (q.llm_mut(), pool.llm()) {
                l.network_rtt_s = pl.network_rtt_s;
                l.network_rtt = pl.network_rtt.clone();
                l.pue = pl.pue;
            }
            q
        };
        if let Some(l) = q.llm_mut() {
            let from = pool
                .llm()
                .expect("an LLM pair has LLM servers on both sides");
            if c.batching {
                l.max_batch = from.max_batch;
                l.chunked_prefill_tokens = from.chunked_prefill_tokens;
            } else {
                // Batch 1, the servers' own prefill otherwise (as
                // `max_batch = 1` in a scenario file gives).
                l.max_batch = 1;
            }
        }
        q.name = name.to_string();
        q.device_alternatives = Vec::new();
        q.outage = Default::default();
        let mut s = self.one_fleet(q);
        s.sizing.pool_sizes = vec![pool_size];
        let first_tz = self.arrivals.groups()[0].tz_offset_h;
        let groups: Vec<_> = self
            .arrivals
            .groups()
            .iter()
            .map(|g| {
                let mut g = g.clone();
                if !c.profile {
                    g.profile = crate::workload::DiurnalProfile::flat();
                }
                if !c.time_zones {
                    g.tz_offset_h = first_tz;
                }
                g
            })
            .collect();
        if !(c.profile && c.time_zones) {
            s.arrivals = crate::workload::arrivals::PoissonArrivals::new(groups)
                .with_bursts(self.arrivals.bursts());
        }
        s
    }

    /// The dedicated placement `dedicated` alone, named `name` (one device
    /// per user, as `size` checks it).
    pub fn dedicated_only(&self, dedicated: usize, name: &str) -> Scenario {
        let mut q = self.placements[dedicated].clone();
        debug_assert_eq!(q.kind, PlacementKind::Dedicated);
        q.name = name.to_string();
        q.device_alternatives = Vec::new();
        q.outage = Default::default();
        self.one_fleet(q)
    }

    /// A copy holding only placement `q` (which serves the same classes),
    /// without outages, hybrids or an hourly schedule.
    fn one_fleet(&self, q: super::Placement) -> Scenario {
        let mut s = self.clone();
        s.placements = vec![q];
        s.hybrids = Vec::new();
        s.outages = None;
        s.sizing.elastic = false;
        s
    }
}
