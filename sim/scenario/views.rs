//! Derived copies of a scenario and estimates read from it: the view of one
//! placement, a class's users filtered by rate, other class sizes, one hour
//! of the day held steady (elastic sizing), sizing probes, and the
//! service-time quantiles and token means computed from fixed samples (so
//! they do not change with the run's seed).

use std::sync::Arc;

use crate::core::dist::draw_tokens;
use crate::core::rng::{stream_rng, StreamKind};
use crate::core::units::DAY_S;
use crate::llm::step::StepModel;
use crate::workload::arrivals::PoissonArrivals;

use super::placement::{Servers, SizedPool};
use super::{LlmWorkload, PlacementKind, Scenario, UserClass, Workload};

impl Scenario {
    /// A copy holding only `placement` and the classes it serves (users
    /// renumbered from 0, class order kept). Running a placement on its view
    /// equals running it in the whole scenario: placements serving the same
    /// classes see the same requests (common random numbers).
    pub fn view(&self, placement: usize) -> Scenario {
        self.view_of(placement, &self.placements[placement].serves)
    }

    /// The view of `placement` restricted to the classes `keep` (a subset
    /// of those it serves, ascending): users renumbered from 0, each model
    /// sub-fleet keeping the kept classes it serves (renumbered).
    fn view_of(&self, placement: usize, keep: &[usize]) -> Scenario {
        let p = &self.placements[placement];
        let mut s = self.clone();
        let mut groups = Vec::new();
        let mut classes = Vec::with_capacity(keep.len());
        let mut first = 0u32;
        for &c in keep {
            let class = &self.classes[c];
            let start = groups.len();
            for g in &self.arrivals.groups()[class.groups.clone()] {
                let mut g = g.clone();
                g.first_user = first;
                first += g.users;
                groups.push(g);
            }
            classes.push(UserClass {
                groups: start..groups.len(),
                ..class.clone()
            });
        }
        let mut q = restricted(p, keep);
        if let Some(primary) = &p.outage.primary {
            q.outage.primary = Some(Box::new(restricted(primary, keep)));
        }
        s.service_level = classes[0].service_level.clone();
        s.arrivals = PoissonArrivals::new(groups).with_bursts(self.arrivals.bursts());
        s.users = first as usize;
        s.classes = classes;
        s.placements = vec![q];
        s.hybrids = Vec::new();
        s.refresh_means();
        s
    }

    /// Of a view of a multi-model placement (its placement 0): the
    /// sub-fleet of model `m` alone, as a single-model placement serving
    /// only that model's classes with its replicas; None when no user of
    /// the view uses it. Sizing sizes each model's replicas on these.
    pub fn model_part(&self, m: usize) -> Option<Scenario> {
        let f = &self.placements[0].models[m];
        if f.classes.iter().all(|&c| self.class_users(c).1 == 0) {
            return None;
        }
        let mut s = self.view_of(0, &f.classes.clone());
        let q = &mut s.placements[0];
        let server = q.models[m].server.clone();
        let replicas = q.models[m].servers;
        q.models = Vec::new();
        q.servers = super::Servers::Llm(Box::new(server));
        if let PlacementKind::Pooled { servers, .. } = &mut q.kind {
            *servers = replicas;
        }
        Some(s)
    }

    /// Of a view of a multi-model placement (its placement 0): its swapped
    /// models' classes alone on its swap pool (no resident replica; the
    /// pool's servers are the placement's); None when it swaps no model
    /// or no user of the view uses one.
    pub fn swap_part(&self) -> Option<Scenario> {
        let p = &self.placements[0];
        let classes: Vec<usize> = p
            .models
            .iter()
            .filter(|f| f.swapped)
            .flat_map(|f| f.classes.iter().copied())
            .collect();
        if classes.iter().all(|&c| self.class_users(c).1 == 0) {
            return None;
        }
        let mut keep = classes;
        keep.sort_unstable();
        let mut s = self.view_of(0, &keep);
        s.placements[0].models.retain(|f| f.swapped);
        Some(s)
    }

    /// A view of a multi-model placement with `counts[m]` replicas of
    /// model `m` (the fleet their sum).
    pub fn with_model_servers(&self, counts: &[usize]) -> Scenario {
        let mut s = self.clone();
        let q = &mut s.placements[0];
        for (f, &n) in q.models.iter_mut().zip(counts) {
            f.servers = n;
        }
        if let PlacementKind::Pooled { servers, .. } = &mut q.kind {
            // (Its swap pool, if any, is what the caller adds on top.)
            *servers = counts.iter().sum();
        }
        s
    }

    /// A copy without outages (every placement always up), as sizing
    /// probes run.
    pub fn without_outages(&self) -> Scenario {
        let mut s = self.clone();
        s.outages = None;
        s
    }

    /// This scenario as sizing sees it: itself when it has no outages, else
    /// a copy without them (fleets are sized without outages).
    pub fn for_sizing(&self) -> std::borrow::Cow<'_, Scenario> {
        if self.outages.is_some() {
            std::borrow::Cow::Owned(self.without_outages())
        } else {
            std::borrow::Cow::Borrowed(self)
        }
    }

    /// Rate multipliers of class `class`'s users (1 for users without a
    /// rate spread), in user id order.
    pub fn class_rate_multipliers(&self, class: usize) -> Vec<f64> {
        let mut out = Vec::new();
        for g in &self.arrivals.groups()[self.classes[class].groups.clone()] {
            match &g.spread {
                Some(sp) => out.extend(sp.weights.iter().copied()),
                None => out.extend(std::iter::repeat_n(1.0, g.users as usize)),
            }
        }
        out
    }

    /// The users of class `class` whose rate multiplier `keep` accepts, as a
    /// scenario of their own (that class only, the first placement only).
    /// Dedicated devices share nothing, so these users see what they would
    /// see in the whole population. None when no user is kept.
    pub fn restrict_users(&self, class: usize, keep: impl Fn(f64) -> bool) -> Option<Scenario> {
        let mut s = self.clone();
        let mut groups = Vec::new();
        let mut first = 0u32;
        let mut kept_sum = 0.0;
        let all = self.class_rate_multipliers(class);
        for g in &self.arrivals.groups()[self.classes[class].groups.clone()] {
            let weights: Vec<f64> = match &g.spread {
                Some(sp) => sp.weights.iter().copied().filter(|w| keep(*w)).collect(),
                None => std::iter::repeat_n(1.0, g.users as usize)
                    .filter(|w| keep(*w))
                    .collect(),
            };
            if weights.is_empty() {
                continue;
            }
            kept_sum += weights.iter().sum::<f64>();
            let n = weights.len() as u32;
            let mut g = g.clone();
            g.first_user = first;
            g.users = n;
            if g.spread.is_some() {
                g.spread = Some(Arc::new(crate::workload::arrivals::RateSpread::new(
                    weights,
                )));
            }
            first += n;
            groups.push(g);
        }
        if first == 0 {
            return None;
        }
        let class_mean = all.iter().sum::<f64>() / all.len().max(1) as f64;
        let kept_mean = kept_sum / first as f64;
        let mut k = self.classes[class].clone();
        k.groups = 0..groups.len();
        if class_mean > 0.0 {
            k.requests_per_user_per_day *= kept_mean / class_mean;
        }
        let mut p = self.placements[0].clone();
        p.service_scale_by_class = vec![p.service_scale_by_class[class]];
        p.serves = vec![0];
        // A multi-model placement: this class's model's servers.
        if let Some(f) = p.models.iter().find(|f| f.classes.contains(&class)) {
            let mut server = f.server.clone();
            // This class's batch-1 time (the sub-fleet's was mixed over
            // its classes), as for a one-model placement below.
            let (mut rate, mut weighted) = (0.0, 0.0);
            for &c in &f.classes {
                let r = self.class_request_rate_per_s(c);
                rate += r;
                weighted += r * self.classes[c].mean_service_s;
            }
            if rate > 0.0 && weighted > 0.0 {
                server.mean_request_s *= k.mean_service_s * rate / weighted;
            }
            p.servers = super::Servers::Llm(Box::new(server));
            p.models = Vec::new();
        } else if let Some(l) = p.llm_mut() {
            // This class's batch-1 time on this device (the placement's
            // mean was mixed over its classes).
            if self.mean_service_s > 0.0 {
                l.mean_request_s *= k.mean_service_s / self.mean_service_s;
            }
        }
        s.service_level = k.service_level.clone();
        s.classes = vec![k];
        s.arrivals = PoissonArrivals::new(groups).with_bursts(self.arrivals.bursts());
        s.users = first as usize;
        s.placements = vec![p];
        s.hybrids = Vec::new();
        s.refresh_means();
        Some(s)
    }

    /// A copy with `counts[c]` users in class `c` (each class keeps its
    /// per-user load, profile and time-zone mix; users renumbered from 0).
    /// Sizing builds pools of a given class composition this way.
    pub fn with_class_users(&self, counts: &[u32]) -> Scenario {
        let mut s = self.clone();
        let mut groups = Vec::new();
        let mut first = 0u32;
        for (c, class) in self.classes.iter().enumerate() {
            let own = PoissonArrivals::new(self.arrivals.groups()[class.groups.clone()].to_vec());
            let start = groups.len();
            for g in own.with_users(counts[c]).groups() {
                let mut g = g.clone();
                g.first_user = first;
                first += g.users;
                groups.push(g);
            }
            s.classes[c].groups = start..groups.len();
        }
        s.arrivals = PoissonArrivals::new(groups).with_bursts(self.arrivals.bursts());
        s.users = first as usize;
        s.refresh_means();
        s
    }

    /// The profile weight of each user group in UTC hour `hour` (0-23): its
    /// local hour's weight (groups with a flat profile: 1).
    pub fn hour_weights(&self, hour: usize) -> Vec<f64> {
        self.arrivals
            .groups()
            .iter()
            .map(|g| {
                // (`tz_offset_h` includes the clock's start hour.)
                let local =
                    (hour as f64 + 0.5 + g.tz_offset_h - self.start_hour_of_day).rem_euclid(24.0);
                g.profile.weight((local.floor() as usize).min(23))
            })
            .collect()
    }

    /// A copy in which UTC hour `hour` lasts all day: every user group
    /// sends at its rate of that hour (its profile's weight there times its
    /// daily mean) with a flat profile, and every class's requests per user
    /// per day (follow-ups included) scales with its open-loop rate. Sizing
    /// this copy gives the fleet that hour needs in steady state; with a
    /// flat profile it is the scenario itself.
    pub fn at_hour(&self, hour: usize) -> Scenario {
        let weights = self.hour_weights(hour);
        let mut s = self.clone();
        let groups: Vec<_> = self
            .arrivals
            .groups()
            .iter()
            .zip(&weights)
            .map(|(g, w)| {
                let mut g = g.clone();
                g.rate_per_user_per_s *= w;
                g.profile = crate::workload::DiurnalProfile::flat();
                g
            })
            .collect();
        for (c, class) in s.classes.iter_mut().enumerate() {
            let range = self.classes[c].groups.clone();
            let rate = |scale: bool| -> f64 {
                self.arrivals.groups()[range.clone()]
                    .iter()
                    .zip(&weights[range.clone()])
                    .map(|(g, w)| {
                        let m = g.spread.as_ref().map_or(1.0, |sp| sp.mean());
                        g.users as f64 * m * g.rate_per_user_per_s * if scale { *w } else { 1.0 }
                    })
                    .sum()
            };
            let (at, mean) = (rate(true), rate(false));
            if mean > 0.0 && at != mean {
                class.requests_per_user_per_day *= at / mean;
            }
        }
        s.arrivals = PoissonArrivals::new(groups).with_bursts(self.arrivals.bursts());
        if weights.iter().any(|w| *w != 1.0) {
            s.refresh_means();
        }
        s
    }

    /// Recompute the population means after classes or users changed.
    pub(crate) fn refresh_means(&mut self) {
        let rates: Vec<f64> = (0..self.classes.len())
            .map(|c| self.class_request_rate_per_s(c))
            .collect();
        let total: f64 = rates.iter().sum();
        self.requests_per_user_per_day = total * DAY_S / self.users.max(1) as f64;
        self.mean_service_s = if total > 0.0 {
            rates
                .iter()
                .zip(&self.classes)
                .map(|(r, c)| r * c.mean_service_s)
                .sum::<f64>()
                / total
        } else {
            self.classes.iter().map(|c| c.mean_service_s).sum::<f64>() / self.classes.len() as f64
        };
    }

    /// The view of `placement` (see [`Scenario::view`]) for `users` of its
    /// users (same per-user load and class mix), optionally with `servers`
    /// servers and another horizon. Sizing probes are built this way.
    pub fn probe(
        &self,
        placement: usize,
        users: usize,
        servers: Option<usize>,
        horizon_s: f64,
    ) -> Scenario {
        let mut s = self.view(placement);
        let pl = &mut s.placements[0];
        if let (Some(n), PlacementKind::Pooled { servers: total, .. }) = (servers, &mut pl.kind) {
            *total = n;
            if let Servers::Llm(l) = &mut pl.servers {
                if let Some(d) = &mut l.disaggregated {
                    match d.sized {
                        SizedPool::Both => *total = n.max(d.prefill_servers + 1),
                        SizedPool::Prefill { decode } => {
                            d.prefill_servers = n;
                            *total = n + decode;
                        }
                        SizedPool::Decode { prefill } => {
                            d.prefill_servers = prefill;
                            *total = prefill + n;
                        }
                    }
                }
            }
        }
        if users != s.users {
            s.users = users;
            s.arrivals = s.arrivals.with_users(users as u32);
            s.refresh_means();
        }
        s.horizon_s = horizon_s;
        s
    }

    /// Percentile `q` (0..1) of a request's service time alone on a server
    /// of `placement` (generic: the service time; LLM: prefill, or prefill +
    /// decode when `whole` is true), from a fixed sample of 20,000 requests
    /// mixed over the classes it serves by their request rates.
    pub fn service_quantile_s(&self, placement: usize, q: f64, whole: bool) -> f64 {
        let p = &self.placements[placement];
        let mut v: Vec<f64> = Vec::with_capacity(20_000);
        for (c, share) in self.served_request_shares(placement) {
            let n = ((share * 20_000.0).round() as usize).max(1);
            match (&self.classes[c].workload, p.llm()) {
                (Workload::Llm(l), Some(server)) => {
                    // (The prefill alone is single_request_s's prefill,
                    // without the decode it would also cost.)
                    let sample = token_sample(l);
                    let requests = sample.iter().take(n).map(|&(i, o)| (i as u64, o as u64));
                    if whole {
                        v.extend(
                            server
                                .step
                                .single_requests_s(requests)
                                .map(|(pre, dec)| pre + dec),
                        );
                    } else {
                        v.extend(requests.map(|(i, _)| server.step.prefill_s(i)));
                    }
                }
                (Workload::Generic { service }, _) => {
                    let mut rng = stream_rng(0x70_6b_65_6e, 0, StreamKind::Arrivals, 1);
                    let scale = p.service_scale_by_class[c];
                    v.extend((0..n).map(|_| service.sample(&mut rng) * scale));
                }
                (Workload::Llm(_), None) => return 0.0,
            }
        }
        v.sort_by(f64::total_cmp);
        let idx = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
        v[idx]
    }

    /// Mean prompt and output tokens of `placement`'s requests (LLM),
    /// request-weighted over the classes it serves, from fixed samples.
    pub fn mean_tokens(&self, placement: usize) -> Option<(f64, f64)> {
        self.llm_of(placement)?;
        let mut mean = (0.0, 0.0);
        for (c, share) in self.served_request_shares(placement) {
            let Workload::Llm(l) = &self.classes[c].workload else {
                continue;
            };
            let sample = token_sample(l);
            let n = sample.len() as f64;
            mean.0 += share * sample.iter().map(|x| x.0 as f64).sum::<f64>() / n;
            mean.1 += share * sample.iter().map(|x| x.1 as f64).sum::<f64>() / n;
        }
        Some(mean)
    }
}

/// Token-count draws used for scenario-level estimates (duty cycle, fit
/// check): a fixed stream, so they do not change with the run's seed.
/// Drawn once per workload (the same draws every call, whatever calls
/// first).
pub(crate) fn token_sample(l: &LlmWorkload) -> std::sync::Arc<Vec<(u32, u32)>> {
    l.token_draws
        .0
        .get_or_init(|| {
            let mut rng = stream_rng(0x70_6b_65_6e, 0, StreamKind::Arrivals, 0);
            std::sync::Arc::new(
                (0..20_000)
                    .map(|_| {
                        (
                            draw_tokens(&l.input_tokens, &mut rng),
                            draw_tokens(&l.output_tokens, &mut rng),
                        )
                    })
                    .collect(),
            )
        })
        .clone()
}

/// The 99th percentile of prompt + output tokens of one request.
pub(crate) fn typical_large_request_tokens(l: &LlmWorkload) -> u64 {
    let mut totals: Vec<u64> = token_sample(l)
        .iter()
        .map(|(i, o)| *i as u64 + *o as u64)
        .collect();
    totals.sort_unstable();
    totals[totals.len() * 99 / 100]
}

/// Mean batch-1 device time of one request (prefill + decode), seconds.
pub fn mean_single_request_s(l: &LlmWorkload, step: &StepModel) -> f64 {
    let sample = token_sample(l);
    step.single_requests_s(sample.iter().map(|&(i, o)| (i as u64, o as u64)))
        .map(|(pre, dec)| pre + dec)
        .sum::<f64>()
        / sample.len() as f64
}

/// Placement `p` serving only the classes `keep` (of those it serves,
/// ascending), renumbered from 0 as in a view.
fn restricted(p: &super::Placement, keep: &[usize]) -> super::Placement {
    let mut q = p.clone();
    q.service_scale_by_class = keep.iter().map(|&c| p.service_scale_by_class[c]).collect();
    q.serves = (0..keep.len()).collect();
    for f in &mut q.models {
        f.classes = f
            .classes
            .iter()
            .filter_map(|c| keep.iter().position(|k| k == c))
            .collect();
    }
    q
}
