//! Outage processes: alternating up and down periods of a cloud region, a
//! user's own network or a local device, drawn from their own random
//! streams ([`crate::core::rng::outage_rng`]) so that they never move any
//! other draw. Up periods are exponential with rate `rate_per_s` per second
//! of uptime; down periods follow `duration_s`. The long-run share of time
//! down is `r·d / (1 + r·d)` (`d` the mean duration): an alternating
//! renewal process ([`OutageSpec::unavailable_share`]).
//!
//! A process starts in its stationary state at time 0: down with that
//! share, the first outage's remaining time drawn as a whole duration
//! (exact for exponential durations, whose residual is the same law), up
//! otherwise (the remaining uptime is exponential: memoryless).

use rand::RngExt;

use crate::core::dist::Dist;
use crate::core::rng::{outage_rng, SimRng};

/// One outage process, as the run layer needs it.
#[derive(Debug, Clone)]
pub struct OutageSpec {
    /// Outages start at this rate per second of uptime.
    pub rate_per_s: f64,
    /// Length of one outage, seconds.
    pub duration_s: Dist,
    /// One process per user (a home network, a user's own device) rather
    /// than one for the whole fleet (a region or service).
    pub per_user: bool,
    /// Index of the process in the scenario: keys its random streams.
    pub id: u64,
}

impl OutageSpec {
    /// Long-run share of time down: `r·d / (1 + r·d)`.
    pub fn unavailable_share(&self) -> f64 {
        let rd = self.rate_per_s * self.duration_s.mean();
        rd / (1.0 + rd)
    }

    /// The stream entity of `user` under this process.
    fn entity(&self, user: u32) -> u64 {
        if self.per_user {
            user as u64
        } else {
            u64::MAX
        }
    }

    /// The clock of this process as `user` sees it in one replication.
    pub fn clock(&self, seed: u64, replication: u64, user: u32) -> OutageClock {
        OutageClock::new(
            self,
            outage_rng(seed, replication, self.id, self.entity(user)),
        )
    }
}

/// The current or next outage of one process for one entity; asked in
/// time order.
#[derive(Debug, Clone)]
pub struct OutageClock {
    rng: SimRng,
    rate_per_s: f64,
    duration_s: Dist,
    /// Start of the current or next outage, seconds.
    start_s: f64,
    /// Its end, seconds.
    end_s: f64,
}

impl OutageClock {
    fn new(spec: &OutageSpec, mut rng: SimRng) -> Self {
        let down: f64 = rng.random();
        let (start_s, end_s) = if spec.rate_per_s <= 0.0 {
            (f64::INFINITY, f64::INFINITY)
        } else if down < spec.unavailable_share() {
            (0.0, spec.duration_s.sample(&mut rng))
        } else {
            let up = exp_draw(&mut rng) / spec.rate_per_s;
            (up, up + spec.duration_s.sample(&mut rng))
        };
        OutageClock {
            rng,
            rate_per_s: spec.rate_per_s,
            duration_s: spec.duration_s.clone(),
            start_s,
            end_s,
        }
    }

    /// Draw the outage after the current one.
    fn advance(&mut self) {
        let start = self.end_s + exp_draw(&mut self.rng) / self.rate_per_s;
        self.start_s = start;
        self.end_s = start + self.duration_s.sample(&mut self.rng);
    }

    /// The end of the outage in progress at `t` (None when up). Calls must
    /// come in non-decreasing `t`.
    #[inline]
    pub fn down_until(&mut self, t: f64) -> Option<f64> {
        while self.end_s <= t {
            self.advance();
        }
        (t >= self.start_s).then_some(self.end_s)
    }

    /// The next outage interval `[start, end)` starting before `until`
    /// (the one in progress first), consuming it.
    pub fn next_before(&mut self, until: f64) -> Option<(f64, f64)> {
        if self.start_s >= until {
            return None;
        }
        let out = (self.start_s, self.end_s);
        self.advance();
        Some(out)
    }
}

fn exp_draw(rng: &mut SimRng) -> f64 {
    let u: f64 = rng.random();
    -(1.0 - u).ln()
}

/// Seconds of `[from, to)` during which at least one of `clocks` is down
/// (the union of their outages); `buf` is scratch space.
pub fn down_seconds(
    clocks: &mut [OutageClock],
    from: f64,
    to: f64,
    buf: &mut Vec<(f64, f64)>,
) -> f64 {
    buf.clear();
    for c in clocks.iter_mut() {
        while let Some(iv) = c.next_before(to) {
            if iv.1 > from {
                buf.push(iv);
            }
        }
    }
    buf.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut total = 0.0;
    let mut cur: Option<(f64, f64)> = None;
    for &(a, b) in buf.iter() {
        match cur {
            Some((ca, cb)) if a <= cb => cur = Some((ca, cb.max(b))),
            _ => {
                if let Some((ca, cb)) = cur {
                    total += (cb.min(to) - ca.max(from)).max(0.0);
                }
                cur = Some((a, b));
            }
        }
    }
    if let Some((ca, cb)) = cur {
        total += (cb.min(to) - ca.max(from)).max(0.0);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(rate_per_h: f64, mean_h: f64, per_user: bool) -> OutageSpec {
        OutageSpec {
            rate_per_s: rate_per_h / 3600.0,
            duration_s: Dist::Exponential {
                mean: mean_h * 3600.0,
            },
            per_user,
            id: 0,
        }
    }

    #[test]
    fn union_of_overlapping_outages_is_counted_once() {
        let s = spec(0.5, 1.0, false);
        let mut a = s.clock(1, 0, 0);
        let mut b = s.clock(1, 0, 0);
        let mut buf = Vec::new();
        let one = down_seconds(std::slice::from_mut(&mut a), 0.0, 1e6, &mut buf);
        let mut both = [s.clock(1, 0, 0), b.clone()];
        let twice = down_seconds(&mut both, 0.0, 1e6, &mut buf);
        assert!(one > 0.0);
        assert_eq!(one, twice, "the same outages twice are one union");
        // A clock asked point by point agrees with the intervals.
        let mut probes = 0;
        let mut down = 0;
        let mut t = 0.0;
        while t < 1e6 {
            probes += 1;
            down += b.down_until(t).is_some() as u64;
            t += 10.0;
        }
        let share = down as f64 / probes as f64;
        assert!((share - one / 1e6).abs() < 0.01, "{share} vs {}", one / 1e6);
    }

    #[test]
    fn a_process_without_outages_is_always_up() {
        let mut c = spec(0.0, 1.0, true).clock(3, 1, 7);
        assert_eq!(c.down_until(1e9), None);
    }
}
