//! Open-loop arrivals: per-user Poisson streams, shaped by a 24-hour profile
//! in each user's local time, merged into one time-ordered stream.
//!
//! The superposition of independent Poisson streams is Poisson with the sum of
//! the rates, so the merged stream draws the next arrival time from the total
//! rate and then the user who sent it (group by its share of the rate, user
//! uniformly within the group). This costs O(1) per arrival whatever the
//! number of users, with no per-user state. The profile is piecewise constant
//! per local hour and time-zone offsets shift it per group, so the total rate
//! is piecewise constant too: the generator inverts it exactly segment by
//! segment (memorylessness lets it restart at each boundary), with no
//! thinning waste.

use std::sync::Arc;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, Gamma};

use crate::core::rng::{stream_rng, SimRng, StreamKind};
pub use crate::core::units::DAY_S;
pub use crate::workload::bursts::Bursts;

/// 24 hourly weights in local time with mean 1 (a user with `r` requests per
/// day sends `r * w[h] / 24` of them in local hour `h`).
#[derive(Debug, Clone, PartialEq)]
pub struct DiurnalProfile {
    hourly: [f64; 24],
}

impl DiurnalProfile {
    /// The same rate at every hour.
    pub fn flat() -> Self {
        DiurnalProfile { hourly: [1.0; 24] }
    }

    /// Scale non-negative weights to mean 1. Returns `None` when any weight is
    /// negative or not finite, or all are zero.
    pub fn from_weights(weights: &[f64; 24]) -> Option<Self> {
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return None;
        }
        let sum: f64 = weights.iter().sum();
        if sum <= 0.0 {
            return None;
        }
        let mut hourly = [0.0; 24];
        for (h, w) in weights.iter().enumerate() {
            hourly[h] = w * 24.0 / sum;
        }
        Some(DiurnalProfile { hourly })
    }

    /// A named preset: `flat`, `office_hours` (09-17 busy, evenings light,
    /// nights near zero) or `evening_peak` (consumer use peaking 19-23).
    pub fn preset(name: &str) -> Option<Self> {
        let w: [f64; 24] = match name {
            "flat" => return Some(Self::flat()),
            "office_hours" => [
                0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 1.6, 2.4, 2.6, 2.6, 2.0, 2.4, 2.6, 2.5,
                2.2, 1.5, 0.8, 0.5, 0.4, 0.3, 0.2, 0.15,
            ],
            "evening_peak" => [
                0.4, 0.25, 0.15, 0.1, 0.1, 0.15, 0.3, 0.6, 0.8, 0.9, 1.0, 1.1, 1.2, 1.1, 1.0, 1.0,
                1.1, 1.3, 1.6, 2.0, 2.3, 2.3, 1.9, 1.0,
            ],
            _ => return None,
        };
        Self::from_weights(&w)
    }

    /// Names accepted by [`DiurnalProfile::preset`].
    pub const PRESETS: [&'static str; 3] = ["flat", "office_hours", "evening_peak"];

    /// Weight of local hour `h` (0..24).
    pub fn weight(&self, h: usize) -> f64 {
        self.hourly[h]
    }

    /// Largest hourly weight.
    pub fn peak(&self) -> f64 {
        self.hourly.iter().cloned().fold(0.0, f64::max)
    }

    /// True when every hour has weight 1.
    pub fn is_flat(&self) -> bool {
        self.hourly.iter().all(|w| (*w - 1.0).abs() < 1e-12)
    }
}

/// Users that share a rate, a profile and a time-zone offset: ids
/// `first_user .. first_user + users`.
#[derive(Debug, Clone)]
pub struct UserGroup {
    /// Id of the group's first user.
    pub first_user: u32,
    /// Number of users in the group.
    pub users: u32,
    /// Mean request rate of one user, requests per second (the daily mean).
    pub rate_per_user_per_s: f64,
    /// Offset of the users' local time from simulation time, hours: their
    /// UTC offset (UTC-5 is -5) plus the UTC hour at simulation time 0 (the
    /// scenario's `start_hour_of_day`, default 0: midnight).
    pub tz_offset_h: f64,
    /// Daily profile in local time.
    pub profile: DiurnalProfile,
    /// Per-user rate multipliers (mean 1) when users differ, with the alias
    /// table that picks a user in proportion to them; `None`: all alike.
    pub spread: Option<Arc<RateSpread>>,
}

/// Heterogeneous per-user rates within a group: multiplier `w[i]` for the
/// group's i-th user, and Vose's alias table to draw a user in proportion
/// to them in O(1).
#[derive(Debug, Clone)]
pub struct RateSpread {
    /// Rate multiplier of each user of the group.
    pub weights: Vec<f64>,
    prob: Vec<f64>,
    alias: Vec<u32>,
}

impl RateSpread {
    /// Build from positive weights.
    pub fn new(weights: Vec<f64>) -> Self {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        let mut prob: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut alias = vec![0u32; n];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| prob[i] < 1.0);
        while let (Some(sm), Some(&lg)) = (small.pop(), large.last()) {
            alias[sm] = lg as u32;
            prob[lg] -= 1.0 - prob[sm];
            if prob[lg] < 1.0 {
                large.pop();
                small.push(lg);
            }
        }
        for i in large.into_iter().chain(small) {
            prob[i] = 1.0;
        }
        RateSpread {
            weights,
            prob,
            alias,
        }
    }

    /// Mean multiplier.
    pub fn mean(&self) -> f64 {
        self.weights.iter().sum::<f64>() / self.weights.len().max(1) as f64
    }

    /// Largest multiplier.
    pub fn max(&self) -> f64 {
        self.weights.iter().cloned().fold(0.0, f64::max)
    }

    #[inline]
    fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        let i = rng.random_range(0..self.prob.len());
        if rng.random::<f64>() < self.prob[i] {
            i as u32
        } else {
            self.alias[i]
        }
    }
}

/// One piece of the day over which every group's rate is constant.
#[derive(Debug, Clone)]
struct Segment {
    /// Segment end, seconds since the start of the day.
    end_s: f64,
    /// Total arrival rate, requests per second.
    rate_per_s: f64,
    /// Cumulative share of the total rate per group (last entry 1).
    cum_share: Vec<f64>,
}

/// The merged Poisson stream of a set of user groups (or, with
/// [`PoissonArrivals::with_bursts`], a bursty stream of the same rate).
#[derive(Debug, Clone)]
pub struct PoissonArrivals {
    groups: Vec<UserGroup>,
    segments: Vec<Segment>,
    mean_rate_per_s: f64,
    peak_rate_per_s: f64,
    bursts: Bursts,
}

fn local_hour(t_s: f64, tz_offset_h: f64) -> usize {
    let local = (t_s + tz_offset_h * 3600.0).rem_euclid(DAY_S);
    ((local / 3600.0) as usize).min(23)
}

impl PoissonArrivals {
    /// Build the merged stream. Groups with zero users or zero rate are kept
    /// (they simply never send).
    pub fn new(groups: Vec<UserGroup>) -> Self {
        // Breakpoints: every group's local hour boundaries, in simulation time.
        let mut cuts: Vec<f64> = vec![0.0, DAY_S];
        for g in &groups {
            if g.profile.is_flat() {
                continue;
            }
            for h in 0..24 {
                let t = (h as f64 * 3600.0 - g.tz_offset_h * 3600.0).rem_euclid(DAY_S);
                cuts.push(t);
            }
        }
        cuts.sort_by(f64::total_cmp);
        cuts.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        let mut segments = Vec::with_capacity(cuts.len());
        let mut area = 0.0;
        let mut peak: f64 = 0.0;
        for w in cuts.windows(2) {
            let (start, end) = (w[0], w[1]);
            let mid = 0.5 * (start + end);
            let rates: Vec<f64> = groups
                .iter()
                .map(|g| {
                    g.users as f64
                        * g.spread.as_ref().map_or(1.0, |sp| sp.mean())
                        * g.rate_per_user_per_s
                        * g.profile.weight(local_hour(mid, g.tz_offset_h))
                })
                .collect();
            let total: f64 = rates.iter().sum();
            let mut acc = 0.0;
            let cum_share = rates
                .iter()
                .map(|r| {
                    acc += r;
                    if total > 0.0 {
                        acc / total
                    } else {
                        1.0
                    }
                })
                .collect();
            area += total * (end - start);
            peak = peak.max(total);
            segments.push(Segment {
                end_s: end,
                rate_per_s: total,
                cum_share,
            });
        }
        PoissonArrivals {
            groups,
            segments,
            mean_rate_per_s: area / DAY_S,
            peak_rate_per_s: peak,
            bursts: Bursts::Poisson,
        }
    }

    /// The same rates, clustered as `bursts` (mean rates unchanged).
    pub fn with_bursts(mut self, bursts: Bursts) -> Self {
        self.bursts = bursts;
        self
    }

    /// How arrivals cluster ([`Bursts::Poisson`] unless set).
    pub fn bursts(&self) -> Bursts {
        self.bursts
    }

    /// The same population shape with `users` users: every group keeps its
    /// per-user rate, profile and time zone, and its share of the users
    /// (rounded so that the counts add up to `users`).
    pub fn with_users(&self, users: u32) -> PoissonArrivals {
        let total: u64 = self.groups.iter().map(|g| g.users as u64).sum();
        let mut groups = Vec::with_capacity(self.groups.len());
        let mut first = 0u64;
        let mut cum = 0u64;
        for g in &self.groups {
            cum += g.users as u64;
            let end = if total == 0 {
                0
            } else {
                (cum as f64 / total as f64 * users as f64).round() as u64
            };
            let n = (end - first) as u32;
            groups.push(UserGroup {
                first_user: first as u32,
                users: n,
                spread: g.spread.as_ref().map(|sp| {
                    Arc::new(RateSpread::new(
                        sp.weights
                            .iter()
                            .cycle()
                            .take(n as usize)
                            .cloned()
                            .collect(),
                    ))
                }),
                ..g.clone()
            });
            first = end;
        }
        PoissonArrivals::new(groups).with_bursts(self.bursts)
    }

    /// Daily mean of the total arrival rate, requests per second.
    pub fn mean_rate_per_s(&self) -> f64 {
        self.mean_rate_per_s
    }

    /// Highest total arrival rate over the day, requests per second.
    pub fn peak_rate_per_s(&self) -> f64 {
        self.peak_rate_per_s
    }

    /// Expected arrivals in `[from_s, to_s)`: the rate over the day
    /// (time zones and profiles included), integrated.
    pub fn expected_count(&self, from_s: f64, to_s: f64) -> f64 {
        if to_s.partial_cmp(&from_s) != Some(std::cmp::Ordering::Greater)
            || !from_s.is_finite()
            || !to_s.is_finite()
        {
            return 0.0;
        }
        let first_day = (from_s / DAY_S).floor();
        let last_day = (to_s / DAY_S).ceil();
        let whole_days = (last_day - first_day - 2.0).max(0.0);
        // Days strictly inside contribute a whole day each; the first and
        // last are clipped segment by segment.
        let mut count = whole_days * self.mean_rate_per_s * DAY_S;
        let mut edge_days = vec![first_day];
        if last_day - first_day >= 2.0 {
            edge_days.push(last_day - 1.0);
        }
        for day in edge_days {
            let day_start = day * DAY_S;
            let mut start = day_start;
            for seg in &self.segments {
                let end = day_start + seg.end_s;
                let overlap = (end.min(to_s) - start.max(from_s)).max(0.0);
                count += seg.rate_per_s * overlap;
                start = end;
            }
        }
        count
    }

    /// The user groups, in id order.
    pub fn groups(&self) -> &[UserGroup] {
        &self.groups
    }

    /// A cursor at time 0 (an MMPP's state switches then draw from the
    /// arrivals' own generator; see [`PoissonArrivals::cursor_for`]).
    pub fn cursor(&self) -> ArrivalCursor {
        ArrivalCursor {
            now_s: 0.0,
            day_start_s: 0.0,
            segment: 0,
            state: 0,
            switch_s: 0.0,
            burst_rng: None,
        }
    }

    /// A cursor at time 0 whose MMPP state switches come from their own
    /// stream of (seed, replication), so that every probe of a scenario,
    /// whatever its users, sees the same bursts.
    pub fn cursor_for(&self, seed: u64, replication: u64) -> ArrivalCursor {
        let mut c = self.cursor();
        if matches!(self.bursts, Bursts::Mmpp { .. }) {
            c.burst_rng = Some(stream_rng(seed, replication, StreamKind::Arrivals, 0xb0b5));
        }
        c
    }

    /// The next arrival after the cursor: its time (seconds) and user id.
    /// Returns `None` when the total rate is zero all day.
    #[inline]
    pub fn next<R: Rng + ?Sized>(
        &self,
        cursor: &mut ArrivalCursor,
        rng: &mut R,
    ) -> Option<(f64, u32)> {
        self.next_before(cursor, rng, f64::INFINITY)
    }

    /// The next arrival before `until_s`, if any. Bounding the search keeps a
    /// tiny rate from walking day after day far past the horizon.
    #[inline]
    pub fn next_before<R: Rng + ?Sized>(
        &self,
        cursor: &mut ArrivalCursor,
        rng: &mut R,
        until_s: f64,
    ) -> Option<(f64, u32)> {
        if self.mean_rate_per_s <= 0.0 {
            return None;
        }
        match self.bursts {
            Bursts::Poisson => {}
            Bursts::Mmpp {
                multipliers,
                mean_sojourn_s,
            } => return self.next_mmpp(cursor, rng, until_s, multipliers, mean_sojourn_s),
            Bursts::Gamma { cv } => return self.next_gamma(cursor, rng, until_s, cv),
        }
        loop {
            if cursor.now_s >= until_s {
                return None;
            }
            let seg = &self.segments[cursor.segment];
            let seg_end = cursor.day_start_s + seg.end_s;
            if seg.rate_per_s > 0.0 {
                let e: f64 = Exp1.sample(rng);
                let t = cursor.now_s + e / seg.rate_per_s;
                if t < seg_end {
                    cursor.now_s = t;
                    return (t < until_s).then(|| (t, self.pick_user(seg, rng)));
                }
            }
            cursor.now_s = seg_end;
            cursor.segment += 1;
            if cursor.segment == self.segments.len() {
                cursor.segment = 0;
                cursor.day_start_s += DAY_S;
            }
        }
    }

    /// Move the cursor to the end of its segment (the next day after the
    /// last).
    #[inline]
    fn next_segment(&self, cursor: &mut ArrivalCursor) {
        cursor.segment += 1;
        if cursor.segment == self.segments.len() {
            cursor.segment = 0;
            cursor.day_start_s += DAY_S;
        }
    }

    /// The next MMPP arrival before `until_s`: exact inversion of a rate
    /// that is constant between profile boundaries and state switches.
    fn next_mmpp<R: Rng + ?Sized>(
        &self,
        cursor: &mut ArrivalCursor,
        rng: &mut R,
        until_s: f64,
        multipliers: [f64; 2],
        mean_sojourn_s: [f64; 2],
    ) -> Option<(f64, u32)> {
        let switch_draw = |cursor: &mut ArrivalCursor, rng: &mut R| -> f64 {
            match cursor.burst_rng.as_mut() {
                Some(r) => Exp1.sample(r),
                None => Exp1.sample(rng),
            }
        };
        if cursor.state == 0 {
            // Start in the stationary distribution.
            let u: f64 = match cursor.burst_rng.as_mut() {
                Some(r) => r.random(),
                None => rng.random(),
            };
            let p1 = mean_sojourn_s[0] / (mean_sojourn_s[0] + mean_sojourn_s[1]);
            cursor.state = if u < p1 { 1 } else { 2 };
            let e = switch_draw(cursor, rng);
            cursor.switch_s = cursor.now_s + e * mean_sojourn_s[cursor.state as usize - 1];
        }
        loop {
            if cursor.now_s >= until_s {
                return None;
            }
            let seg = &self.segments[cursor.segment];
            let seg_end = cursor.day_start_s + seg.end_s;
            let bound = seg_end.min(cursor.switch_s);
            let rate = seg.rate_per_s * multipliers[cursor.state as usize - 1];
            if rate > 0.0 {
                let e: f64 = Exp1.sample(rng);
                let t = cursor.now_s + e / rate;
                if t < bound {
                    cursor.now_s = t;
                    return (t < until_s).then(|| (t, self.pick_user(seg, rng)));
                }
            }
            cursor.now_s = bound;
            if cursor.switch_s <= bound {
                cursor.state = 3 - cursor.state;
                let e = switch_draw(cursor, rng);
                cursor.switch_s = bound + e * mean_sojourn_s[cursor.state as usize - 1];
            }
            if seg_end <= bound {
                self.next_segment(cursor);
            }
        }
    }

    /// The next gamma-renewal arrival before `until_s`: a gap of mean one
    /// expected arrival, walked through the segments' rates.
    fn next_gamma<R: Rng + ?Sized>(
        &self,
        cursor: &mut ArrivalCursor,
        rng: &mut R,
        until_s: f64,
        cv: f64,
    ) -> Option<(f64, u32)> {
        let shape = 1.0 / (cv * cv);
        let mut need = Gamma::new(shape, 1.0 / shape).map_or(1.0, |g| g.sample(rng));
        loop {
            if cursor.now_s >= until_s {
                return None;
            }
            let seg = &self.segments[cursor.segment];
            let seg_end = cursor.day_start_s + seg.end_s;
            if seg.rate_per_s > 0.0 {
                let room = seg.rate_per_s * (seg_end - cursor.now_s);
                if need < room {
                    let t = cursor.now_s + need / seg.rate_per_s;
                    cursor.now_s = t;
                    return (t < until_s).then(|| (t, self.pick_user(seg, rng)));
                }
                need -= room;
            }
            cursor.now_s = seg_end;
            self.next_segment(cursor);
        }
    }

    #[inline]
    fn pick_user<R: Rng + ?Sized>(&self, seg: &Segment, rng: &mut R) -> u32 {
        let g = if self.groups.len() == 1 {
            0
        } else {
            let u: f64 = rng.random();
            seg.cum_share
                .iter()
                .position(|c| u < *c)
                .unwrap_or(self.groups.len() - 1)
        };
        let group = &self.groups[g];
        if let Some(sp) = &group.spread {
            group.first_user + sp.pick(rng)
        } else if group.users <= 1 {
            group.first_user
        } else {
            group.first_user + rng.random_range(0..group.users)
        }
    }
}

/// Position of a reader in a [`PoissonArrivals`] stream.
#[derive(Debug, Clone)]
pub struct ArrivalCursor {
    now_s: f64,
    day_start_s: f64,
    segment: usize,
    /// MMPP state: 0 before the first draw, then 1 or 2.
    state: u8,
    /// Time of the next MMPP state switch, seconds.
    switch_s: f64,
    /// The MMPP switches' own stream ([`PoissonArrivals::cursor_for`]).
    burst_rng: Option<SimRng>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng::{stream_rng, StreamKind};

    fn group(first: u32, users: u32, rpd: f64, tz: f64, profile: DiurnalProfile) -> UserGroup {
        UserGroup {
            first_user: first,
            users,
            rate_per_user_per_s: rpd / DAY_S,
            tz_offset_h: tz,
            profile,
            spread: None,
        }
    }

    /// The integral of the rate: a whole day is the daily mean times a
    /// day, an evening-peak day's halves add up, a flat rate is rate x time.
    #[test]
    fn expected_count_integrates_the_rate() {
        let g = group(
            0,
            1000,
            24.0,
            0.0,
            DiurnalProfile::preset("evening_peak").unwrap(),
        );
        let a = PoissonArrivals::new(vec![g]);
        let day = a.expected_count(0.0, DAY_S);
        assert!((day - 24_000.0).abs() < 1e-6 * 24_000.0, "{day}");
        let halves = a.expected_count(0.0, 40_000.0) + a.expected_count(40_000.0, DAY_S);
        assert!((halves - day).abs() < 1e-6 * day);
        let three = a.expected_count(3_000.0, 3_000.0 + 3.0 * DAY_S);
        assert!((three - 3.0 * day).abs() < 1e-6 * day, "{three}");
        let night = a.expected_count(0.0, 3_600.0);
        assert!(
            night < day / 24.0,
            "the evening peak sends less at midnight: {night}"
        );
        let flat = PoissonArrivals::new(vec![group(0, 10, 8.64, 0.0, DiurnalProfile::flat())]);
        assert!((flat.expected_count(100.0, 1_100.0) - 1.0).abs() < 1e-9);
        assert_eq!(flat.expected_count(5.0, 5.0), 0.0);
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn hourly_counts_follow_profile_and_time_zone() {
        let office = DiurnalProfile::preset("office_hours").unwrap();
        // One group at UTC+0, one at UTC-6: the second's 09:00 is 15:00 here.
        let arr = PoissonArrivals::new(vec![
            group(0, 1000, 100.0, 0.0, office.clone()),
            group(1000, 1000, 100.0, -6.0, office.clone()),
        ]);
        assert!((arr.mean_rate_per_s() * DAY_S - 200_000.0).abs() < 1e-6);
        let mut rng = stream_rng(3, 0, StreamKind::Arrivals, 0);
        let mut cur = arr.cursor();
        let days = 5.0;
        let mut by_hour = [[0u64; 24]; 2];
        while let Some((t, u)) = arr.next(&mut cur, &mut rng) {
            if t >= days * DAY_S {
                break;
            }
            let h = local_hour(t, 0.0);
            by_hour[(u >= 1000) as usize][h] += 1;
        }
        for h in 0..24 {
            let exp0 = days * 1000.0 * 100.0 / 24.0 * office.weight(h);
            let exp1 = days * 1000.0 * 100.0 / 24.0
                * office.weight(local_hour(h as f64 * 3600.0 + 1.0, -6.0));
            for (obs, exp) in [(by_hour[0][h] as f64, exp0), (by_hour[1][h] as f64, exp1)] {
                // Poisson count: sd = sqrt(mean); 5 sd.
                assert!(
                    (obs - exp).abs() < 5.0 * exp.sqrt() + 1.0,
                    "hour {h}: {obs} vs {exp}"
                );
            }
        }
    }

    #[test]
    fn users_are_uniform_within_group() {
        let arr = PoissonArrivals::new(vec![group(0, 10, 86_400.0, 0.0, DiurnalProfile::flat())]);
        let mut rng = stream_rng(5, 0, StreamKind::Arrivals, 0);
        let mut cur = arr.cursor();
        let mut counts = [0u64; 10];
        for _ in 0..100_000 {
            let (_, u) = arr.next(&mut cur, &mut rng).unwrap();
            counts[u as usize] += 1;
        }
        for c in counts {
            assert!((c as f64 - 10_000.0).abs() < 5.0 * 10_000f64.sqrt() * 0.95);
        }
    }
}

#[cfg(test)]
mod spread_tests {
    use super::*;
    use crate::core::rng::{stream_rng, StreamKind};

    #[test]
    fn alias_table_draws_in_proportion() {
        let sp = RateSpread::new(vec![1.0, 2.0, 7.0]);
        let mut rng = stream_rng(2, 0, StreamKind::Arrivals, 0);
        let mut c = [0u64; 3];
        let n = 200_000;
        for _ in 0..n {
            c[sp.pick(&mut rng) as usize] += 1;
        }
        for (i, w) in [0.1, 0.2, 0.7].iter().enumerate() {
            let p = c[i] as f64 / n as f64;
            let se = (w * (1.0 - w) / n as f64).sqrt();
            assert!((p - w).abs() < 5.0 * se, "{i}: {p} vs {w}");
        }
    }
}
