//! A reactive autoscaler for a batching fleet ([`Autoscaler`]), as the
//! autoscalers of inference fleets work (Knative/KServe's concurrency
//! target, Kubernetes' HPA): every `interval_s` the scaler reads the mean
//! number of requests in flight (queued or running, anywhere in the fleet)
//! since its last reading, or the requests arrived per second since then
//! ([`ScaleMetric`]), and wants `ceil(reading / target)` servers,
//! clamped to `[min_servers, max_servers]`; it asks for the most it wanted
//! over the stabilization window (the readings of the last
//! `stabilization_s`, as Kubernetes' HPA stabilizes scale-downs: a fleet
//! whose latency rises steeply as it shrinks would otherwise oscillate).
//!
//! - Scale-up: servers still draining are taken back at once (they are
//!   still held and warm); the rest are requested and become usable
//!   `delay_s` later (provisioning: a node, the weights loaded). A request
//!   already pending counts toward the fleet asked for.
//! - Scale-down: pending requests are cancelled first (newest first); then
//!   the accepting servers with the fewest requests in flight (the highest
//!   index on ties) drain: they take no new request, finish the ones they
//!   have (queued ones included), and are released when empty.
//!
//! A server is held (billed) from its request until its release. Events
//! added: one per scaler tick and one per server becoming ready, however
//! many tokens the run has; nothing here allocates per event.

use std::collections::VecDeque;

use super::BatchingFleet;
use crate::metrics::LlmRecorder;
use crate::workload::arrivals::DAY_S;

/// What a reactive autoscaler reads at each tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleMetric {
    /// Mean requests in flight (queued or running) over the last interval
    /// (Knative's concurrency metric).
    InFlight,
    /// Requests arrived per second over the last interval (Knative's `rps`
    /// metric): the load itself, which does not rise as the fleet shrinks.
    RequestsPerS,
}

impl ScaleMetric {
    /// `in_flight` or `requests_per_s`.
    pub fn name(self) -> &'static str {
        match self {
            ScaleMetric::InFlight => "in_flight",
            ScaleMetric::RequestsPerS => "requests_per_s",
        }
    }
}

/// How a reactive autoscaler decides (engine side).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Autoscaler {
    /// What it reads.
    pub metric: ScaleMetric,
    /// The reading per server it aims at (requests in flight, or requests
    /// per second, per server).
    pub target: f64,
    /// Seconds from a server's request to its first request served.
    pub delay_s: f64,
    /// Seconds between two readings (the first at `interval_s`).
    pub interval_s: f64,
    /// Scale-downs follow the most wanted over this many seconds of
    /// readings (0: the last reading alone).
    pub stabilization_s: f64,
    /// Fewest servers held.
    pub min_servers: usize,
    /// Servers accepting at time 0 (at least `min_servers`; at most the
    /// fleet's `servers`, which is the most it can hold).
    pub initial_servers: usize,
}

/// What the autoscaler did inside the measurement window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScalingUsage {
    /// Server-seconds held (requested, accepting or draining).
    pub held_s: f64,
    /// Most servers held at once.
    pub peak_held: u64,
    /// Server-seconds held in each hour of the day (UTC, by `t mod 24 h`).
    pub held_s_by_hour: [f64; 24],
    /// Window seconds in each hour of the day.
    pub window_s_by_hour: [f64; 24],
    /// Requests arriving while a scale-up was pending (measured ones).
    pub scaleup_measured: u64,
    /// Of them, those meeting the recorder's targets.
    pub scaleup_attained: u64,
    /// Servers requested (scale-ups, draining ones taken back included).
    pub servers_added: u64,
    /// Servers set to drain.
    pub servers_drained: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Held {
    /// Released (or never requested): not billed, not serving.
    Off,
    /// Serving and taking new requests.
    Accepting,
    /// Finishing its requests, taking no new ones.
    Draining,
}

/// The scaler's state inside a fleet.
#[derive(Debug, Clone)]
pub(super) struct ScaleState {
    cfg: Autoscaler,
    pub(super) held: Vec<Held>,
    /// Ready times of requested servers, in order.
    pending: VecDeque<f64>,
    draining: usize,
    next_tick: f64,
    last_tick: f64,
    /// Requests in flight now, and their integral since the last tick.
    pub(super) in_flight: u64,
    /// Requests arrived since the last tick.
    arrived: u64,
    /// The last readings' wanted sizes (a ring; the stabilization window).
    recent: Vec<usize>,
    recent_at: usize,
    area: f64,
    area_t: f64,
    held_t: f64,
    pub(super) usage: ScalingUsage,
}

impl ScaleState {
    pub(super) fn new(cfg: Autoscaler, servers: usize) -> Self {
        let first = cfg.initial_servers.clamp(cfg.min_servers.max(1), servers);
        ScaleState {
            cfg,
            held: (0..servers)
                .map(|s| {
                    if s < first {
                        Held::Accepting
                    } else {
                        Held::Off
                    }
                })
                .collect(),
            pending: VecDeque::new(),
            draining: 0,
            next_tick: cfg.interval_s,
            last_tick: 0.0,
            in_flight: 0,
            arrived: 0,
            recent: vec![first; (cfg.stabilization_s / cfg.interval_s).ceil().max(1.0) as usize],
            recent_at: 0,
            area: 0.0,
            area_t: 0.0,
            held_t: 0.0,
            usage: ScalingUsage::default(),
        }
    }

    /// Whether a scale-up is waiting for servers.
    #[inline]
    pub(super) fn scaling_up(&self) -> bool {
        !self.pending.is_empty()
    }

    /// When the scaler acts next.
    #[inline]
    pub(super) fn next_s(&self) -> f64 {
        self.pending
            .front()
            .map_or(self.next_tick, |&r| r.min(self.next_tick))
    }

    /// The in-flight count changes by `delta` at `t`.
    #[inline]
    pub(super) fn note_in_flight(&mut self, t: f64, delta: i64) {
        self.area += self.in_flight as f64 * (t - self.area_t);
        self.area_t = t;
        if delta > 0 {
            self.arrived += delta as u64;
        }
        self.in_flight = (self.in_flight as i64 + delta) as u64;
    }

    fn held_now(&self, accepting: usize) -> usize {
        accepting + self.draining + self.pending.len()
    }

    /// Count the servers held from the last change to `t` (before a change).
    pub(super) fn note_held(&mut self, t: f64, accepting: usize, window: crate::metrics::Window) {
        let held = self.held_now(accepting) as f64;
        let (a, b) = (self.held_t.max(window.warmup_s), t.min(window.horizon_s));
        self.held_t = t;
        if b <= a {
            return;
        }
        self.usage.held_s += held * (b - a);
        self.usage.peak_held = self.usage.peak_held.max(held as u64);
        // Split by hour of the day.
        let mut x = a;
        while x < b {
            let hour_end = ((x / 3600.0).floor() + 1.0) * 3600.0;
            let y = hour_end.min(b);
            let h = ((x.rem_euclid(DAY_S) / 3600.0) as usize).min(23);
            self.usage.held_s_by_hour[h] += held * (y - x);
            x = y;
        }
    }
}

impl BatchingFleet {
    /// The scaler's next action, if it has one.
    #[inline]
    pub(super) fn scale_next_s(&self) -> Option<f64> {
        self.scale.as_ref().map(|sc| sc.next_s())
    }

    /// Servers accepting requests now.
    fn accepting_now(&self) -> usize {
        self.active.len()
    }

    /// The scaler acts at `t`: servers whose provisioning ended start, and
    /// at a tick the fleet is resized.
    pub(super) fn scale_event(&mut self, t: f64, rec: &mut LlmRecorder) {
        let window = self.window;
        let accepting = self.accepting_now();
        let sc = self.scale.as_mut().expect("a scaler");
        sc.note_held(t, accepting, window);
        while let Some(sc) = self
            .scale
            .as_mut()
            .filter(|sc| sc.pending.front().is_some_and(|&r| r <= t))
        {
            sc.pending.pop_front();
            self.start_server(t, rec);
        }
        let sc = self.scale.as_mut().expect("a scaler");
        if sc.next_tick > t {
            return;
        }
        sc.note_in_flight(t, 0);
        let span = t - sc.last_tick;
        let reading = match (sc.cfg.metric, span > 0.0) {
            (_, false) => 0.0,
            (ScaleMetric::InFlight, true) => sc.area / span,
            (ScaleMetric::RequestsPerS, true) => sc.arrived as f64 / span,
        };
        sc.area = 0.0;
        sc.arrived = 0;
        sc.last_tick = t;
        sc.next_tick += sc.cfg.interval_s;
        let most = sc.held.len();
        let now =
            ((reading / sc.cfg.target).ceil() as usize).clamp(sc.cfg.min_servers.max(1), most);
        let k = sc.recent.len();
        sc.recent[sc.recent_at] = now;
        sc.recent_at = (sc.recent_at + 1) % k;
        let wanted = sc.recent.iter().copied().max().unwrap_or(now);
        let asked = self.active.len() + sc.pending.len();
        if wanted > asked {
            self.scale_up(t, wanted - asked, rec);
        } else if wanted < asked {
            self.scale_down(t, asked - wanted);
        }
    }

    /// Add `k` servers at `t`: draining ones back at once, the rest after
    /// the provisioning delay (at once when it is 0).
    fn scale_up(&mut self, t: f64, mut k: usize, rec: &mut LlmRecorder) {
        let n = self.servers.len();
        let sc = self.scale.as_mut().expect("a scaler");
        sc.usage.servers_added += k as u64;
        for s in 0..n {
            if k == 0 {
                break;
            }
            let sc = self.scale.as_mut().expect("a scaler");
            if sc.held[s] == Held::Draining {
                sc.held[s] = Held::Accepting;
                sc.draining -= 1;
                k -= 1;
                self.accept(s, t, rec);
            }
        }
        let sc = self.scale.as_mut().expect("a scaler");
        if sc.cfg.delay_s <= 0.0 {
            for _ in 0..k {
                self.start_server(t, rec);
            }
        } else {
            for _ in 0..k {
                sc.pending.push_back(t + sc.cfg.delay_s);
            }
        }
    }

    /// Remove `k` servers at `t`: cancel pending ones, then drain the least
    /// loaded accepting servers.
    fn scale_down(&mut self, t: f64, mut k: usize) {
        let sc = self.scale.as_mut().expect("a scaler");
        while k > 0 && sc.pending.pop_back().is_some() {
            k -= 1;
        }
        for _ in 0..k {
            let Some(i) = (0..self.active.len()).min_by_key(|&i| {
                let s = self.active[i] as usize;
                (self.servers[s].load(), std::cmp::Reverse(s))
            }) else {
                return;
            };
            let s = self.active.remove(i) as usize;
            self.servers[s].accepting = false;
            let sc = self.scale.as_mut().expect("a scaler");
            sc.usage.servers_drained += 1;
            sc.held[s] = Held::Draining;
            sc.draining += 1;
            self.refresh_row(s);
            self.release_if_empty(s, t);
        }
    }

    /// A server that finished provisioning at `t`: the lowest-numbered
    /// released one, started cold (empty prefix cache).
    fn start_server(&mut self, t: f64, rec: &mut LlmRecorder) {
        let sc = self.scale.as_mut().expect("a scaler");
        let Some(s) = sc.held.iter().position(|&h| h == Held::Off) else {
            return;
        };
        sc.held[s] = Held::Accepting;
        if self.servers[s].prefix.is_some() {
            self.servers[s].prefix = Some(Box::new(super::prefix::PrefixCache::new()));
        }
        self.accept(s, t, rec);
    }

    /// Server `s` takes new requests from `t`: listed for dispatch, and it
    /// starts on the shared queue if requests wait there.
    fn accept(&mut self, s: usize, t: f64, rec: &mut LlmRecorder) {
        self.servers[s].accepting = true;
        let at = self.active.partition_point(|&x| (x as usize) < s);
        self.active.insert(at, s as u32);
        self.refresh_row(s);
        if !self.central.is_empty() && self.servers[s].phase == super::Phase::Idle {
            self.boundary(s, t, rec);
        }
    }

    /// A draining server with nothing left is released.
    #[inline]
    pub(super) fn release_if_empty(&mut self, s: usize, t: f64) {
        let Some(sc) = self.scale.as_mut() else {
            return;
        };
        let sv = &self.servers[s];
        if sc.held[s] == Held::Draining && sv.load() == 0 && sv.phase == super::Phase::Idle {
            let accepting = self.active.len();
            let window = self.window;
            let sc = self.scale.as_mut().expect("a scaler");
            sc.note_held(t, accepting, window);
            sc.held[s] = Held::Off;
            sc.draining -= 1;
        }
    }

    /// Close the scaler's accounts at the end of the run (`t`).
    pub(super) fn finish_scaling(&mut self, t: f64) {
        let accepting = self.active.len();
        let window = self.window;
        if let Some(sc) = self.scale.as_mut() {
            sc.note_held(t.max(window.horizon_s), accepting, window);
            let mut x = window.warmup_s;
            while x < window.horizon_s {
                let y = (((x / 3600.0).floor() + 1.0) * 3600.0).min(window.horizon_s);
                let h = ((x.rem_euclid(DAY_S) / 3600.0) as usize).min(23);
                sc.usage.window_s_by_hour[h] += y - x;
                x = y;
            }
            self.usage.scaling = Some(Box::new(sc.usage.clone()));
        }
    }
}
