//! Where requests come from: open-loop Poisson users, users who work in
//! sessions (closed within a session: the next request follows the previous
//! response after a think time), and always-on agents (closed loop: the next
//! request follows the previous response after a gap), and the clients of
//! a serving benchmark (closed loop with no gap: every client sends its
//! first request at time 0 and the next one the moment the previous
//! completes, until a request budget is spent).
//!
//! A [`Source`] merges the open-loop stream (session starts, single requests)
//! with a heap of follow-up requests scheduled when responses complete, and
//! hands requests out in time order. Placements report completions back with
//! [`Source::completed`], so a slow device delays its user's next request.
//!
//! Randomness: open-loop arrivals and their sizes come from the replication's
//! arrival stream (as before sessions existed); everything drawn for a
//! follow-up (think time, size, session length) comes from a counter-based
//! per-user stream derived from (seed, replication, user, draw number), so
//! two placements that answer at different times still give each user the
//! same sequence of requests (common random numbers).

use rand::RngExt;
use rand_distr::{Distribution, Geometric};

use crate::core::dist::Dist;
use crate::core::heap::QuadHeap;
use crate::core::rng::{derive_seed, extend_seed, stream_rng, SimRng, StreamKind};
use crate::workload::arrivals::ArrivalCursor;
use crate::workload::arrivals::PoissonArrivals;
use crate::workload::trace::TraceRequest;

/// How each user sends requests.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Independent requests (open loop).
    Poisson,
    /// Sessions start open-loop; a session holds a geometric number of
    /// requests (mean `mean_requests`), each after the previous response
    /// plus a think time.
    Sessions {
        /// Mean requests per session (at least 1).
        mean_requests: f64,
        /// Think time between a response and the next request, seconds.
        think: Dist,
    },
    /// Always on: the next request follows the previous response after a gap.
    Agent {
        /// Gap between a response and the next request, seconds.
        gap: Dist,
        /// First requests are spread uniformly over this many seconds.
        start_spread_s: f64,
    },
    /// Benchmark clients: every user sends a request at time 0 and the
    /// next one as soon as the previous completes (a gap of 0), until
    /// `budget` is spent.
    Clients {
        /// How many requests the clients send.
        budget: RequestBudget,
    },
}

/// How many requests benchmark clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBudget {
    /// This many in total: whichever client finishes next sends the next
    /// one (vLLM's `--max-concurrency` with `--num-prompts`).
    Total(u32),
    /// This many from each client.
    PerClient(u32),
}

/// A follow-up request waiting for its time. Ordered by time, then by
/// scheduling order (FIFO for equal times): one 128-bit integer, the time's
/// bit pattern (which orders non-negative floats as their values do) above
/// a 32-bit sequence number above the user, so that an entry is 16 bytes
/// (four children of the heap share a cache line) and a comparison is one
/// wide compare.
#[derive(Debug, Clone, Copy)]
struct FollowUp {
    key: u128,
}

impl FollowUp {
    fn new(time_s: f64, seq: u32, user: u32) -> Self {
        debug_assert!(time_s >= 0.0, "a follow-up before time 0");
        // + 0.0 turns a -0.0 into 0.0, whose bits order first.
        let time_bits = (time_s + 0.0).to_bits();
        FollowUp {
            key: (time_bits as u128) << 64 | (seq as u128) << 32 | user as u128,
        }
    }

    #[inline]
    fn time_s(&self) -> f64 {
        f64::from_bits((self.key >> 64) as u64)
    }

    #[inline]
    fn user(&self) -> u32 {
        self.key as u32
    }
}

impl PartialEq for FollowUp {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl Eq for FollowUp {}
impl PartialOrd for FollowUp {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for FollowUp {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.key.cmp(&o.key)
    }
}

/// The conversation a user's next request continues (growing context):
/// kept by the [`Source`] beside the user's draw counter, so that a
/// request's arrival touches one record of its user, not several.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conversation {
    /// Which conversation (0: none yet).
    pub id: u32,
    /// Its prompt and answer tokens so far.
    pub tokens: u32,
}

/// One user's state: its draw counter, the requests left in its session
/// and its conversation, side by side (16 bytes, one cache line holds
/// four users).
#[derive(Debug, Clone, Copy, Default)]
struct UserState {
    /// Draws taken from the user's stream so far.
    draws: u32,
    /// Requests left in the user's session (sessions and per-client
    /// budgets).
    remaining: u32,
    conversation: Conversation,
}

/// What a [`Source`] needs to know of a scenario: its users, how each class
/// sends requests, and the window requests are generated in.
#[derive(Debug, Clone)]
pub struct Population<'a> {
    /// Scenario seed.
    pub seed: u64,
    /// Requests are generated in `[0, horizon_s)`, seconds.
    pub horizon_s: f64,
    /// Number of users (all classes).
    pub users: usize,
    /// The merged open-loop arrival process of all classes.
    pub arrivals: &'a PoissonArrivals,
    /// How each class's users send requests, in class order.
    pub behaviours: Vec<&'a Behaviour>,
    /// One past the last user id of each class, in class order.
    pub class_ends: Vec<u32>,
    /// Replayed requests (arrival order, users assigned), if any.
    pub trace: Option<&'a [TraceRequest]>,
}

impl Population<'_> {
    /// First user id and number of users of class `class`.
    pub fn class_users(&self, class: usize) -> (u32, u32) {
        let first = if class == 0 {
            0
        } else {
            self.class_ends[class - 1]
        };
        (first, self.class_ends[class] - first)
    }
}

/// The requests of one replication, in time order. Cloning one forks the
/// replication's stream: see [`Source::end_at`].
#[derive(Clone)]
pub struct Source<'a> {
    population: Population<'a>,
    /// The seed path of the users' streams up to the user id.
    user_seed_path: u64,
    rng: SimRng,
    cursor: ArrivalCursor,
    next_open: Option<(f64, u32)>,
    follow: QuadHeap<FollowUp>,
    /// Each user's state (closed-loop behaviours and growing
    /// conversations only; empty otherwise).
    users: Vec<UserState>,
    /// Follow-ups scheduled since the last renumbering (the FIFO order of
    /// equal times).
    seq: u32,
    /// Which stream the last popped request's sizes come from.
    last_user_rng: Option<SimRng>,
    /// Next request of a replayed trace.
    trace_next: usize,
    /// Whether the last popped request was a follow-up.
    last_follow_up: bool,
    /// Token counts of the last popped trace request.
    last_trace_tokens: Option<(u32, u32)>,
    /// Class of the last popped request.
    last_class: usize,
    /// Requests benchmark clients may still send (a total budget).
    clients_left: u32,
    /// Conversations started so far (growing context): the last one's id.
    conversations: u32,
    /// Each class's distribution of a session's requests after its first
    /// (sessions classes only), built once.
    session_lengths: Vec<Option<Geometric>>,
}

impl<'a> Source<'a> {
    /// The source of replication `replication`.
    pub fn new(population: Population<'a>, replication: usize) -> Self {
        let rep = replication as u64;
        let closed_loop = population
            .behaviours
            .iter()
            .any(|b| !matches!(**b, Behaviour::Poisson));
        let agents: Vec<(usize, f64)> = population
            .behaviours
            .iter()
            .enumerate()
            .filter_map(|(ci, b)| match *b {
                Behaviour::Agent { start_spread_s, .. } => Some((ci, *start_spread_s)),
                _ => None,
            })
            .collect();
        let mut src = Source {
            user_seed_path: derive_seed(&[population.seed, rep, StreamKind::User as u64]),
            rng: stream_rng(population.seed, rep, StreamKind::Arrivals, 0),
            cursor: population.arrivals.cursor_for(population.seed, rep),
            next_open: None,
            follow: QuadHeap::new(),
            users: Vec::new(),
            seq: 0,
            last_user_rng: None,
            trace_next: 0,
            last_follow_up: false,
            last_trace_tokens: None,
            last_class: 0,
            clients_left: 0,
            conversations: 0,
            session_lengths: population
                .behaviours
                .iter()
                .map(|b| match b {
                    Behaviour::Sessions { mean_requests, .. } => {
                        let p = (1.0 / mean_requests).clamp(1e-9, 1.0);
                        Some(Geometric::new(p).expect("valid p"))
                    }
                    _ => None,
                })
                .collect(),
            population,
        };
        if closed_loop {
            src.users = vec![UserState::default(); src.population.users];
        }
        for (ci, start_spread_s) in agents {
            let (first, n) = src.population.class_users(ci);
            for u in first..first + n {
                let mut r = src.user_rng(u);
                let t = r.random::<f64>() * start_spread_s;
                src.schedule(u, t);
            }
        }
        src.start_clients();
        // Agents' and clients' groups have an open-loop rate of 0: they add
        // nothing here.
        src.next_open = src.draw_open();
        src
    }

    /// Benchmark clients: each sends its first request at time 0, in user
    /// order, while the budget lasts (the rest of a per-client budget is
    /// kept in `remaining`).
    fn start_clients(&mut self) {
        for ci in 0..self.population.behaviours.len() {
            let Behaviour::Clients { budget } = *self.population.behaviours[ci] else {
                continue;
            };
            let (first, n) = self.population.class_users(ci);
            let mut left = match budget {
                RequestBudget::Total(total) => total,
                RequestBudget::PerClient(_) => u32::MAX,
            };
            for u in first..first + n {
                if left == 0 {
                    break;
                }
                left -= 1;
                if let RequestBudget::PerClient(k) = budget {
                    self.users[u as usize].remaining = k.saturating_sub(1);
                }
                self.schedule(u, 0.0);
            }
            if let RequestBudget::Total(_) = budget {
                self.clients_left = left;
            }
        }
    }

    /// Class of user `user`.
    #[inline]
    fn class_of(&self, user: u32) -> usize {
        crate::core::classes::class_index(&self.population.class_ends, user)
    }

    /// Class of the last popped request (index into the scenario's classes).
    #[inline]
    pub fn last_class(&self) -> usize {
        self.last_class
    }

    fn draw_open(&mut self) -> Option<(f64, u32)> {
        if let Some(trace) = &self.population.trace {
            let r = trace.get(self.trace_next)?;
            return (r.arrival_s < self.population.horizon_s)
                .then_some((r.arrival_s, r.user.unwrap_or(0) as u32));
        }
        let horizon = self.population.horizon_s;
        let next = self
            .population
            .arrivals
            .next_before(&mut self.cursor, &mut self.rng, horizon);
        if let Some((_, u)) = next {
            self.prefetch_user(u);
        }
        next
    }

    /// Start loading `user`'s record: its request arrives or completes
    /// soon.
    #[inline]
    pub fn prefetch_user(&self, user: u32) {
        if let Some(state) = self.users.get(user as usize) {
            crate::core::prefetch::prefetch(state);
        }
    }

    /// The user's stream for its next draw.
    fn user_rng(&mut self, user: u32) -> SimRng {
        let n = &mut self.users[user as usize].draws;
        *n += 1;
        SimRng::from_seed_u64(extend_seed(self.user_seed_path, &[user as u64, *n as u64]))
    }

    fn schedule(&mut self, user: u32, time_s: f64) {
        if time_s < self.population.horizon_s {
            if self.seq == u32::MAX {
                self.renumber();
            }
            self.seq += 1;
            self.follow.push(FollowUp::new(time_s, self.seq, user));
        }
    }

    /// The 32-bit sequence ran out: see [`renumber`].
    #[cold]
    fn renumber(&mut self) {
        self.seq = renumber(&mut self.follow);
    }

    /// Time of the next request, if any before the horizon.
    #[inline]
    pub fn peek_s(&self) -> Option<f64> {
        let f = self.follow.peek().map(FollowUp::time_s);
        match (self.next_open, f) {
            (Some((a, _)), Some(b)) => Some(a.min(b)),
            (Some((a, _)), None) => Some(a),
            (None, b) => b,
        }
    }

    /// The next request's time and user; its sizes are then drawn with
    /// [`Source::size_rng`]. Open-loop requests win ties.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, u32)> {
        let follow_t = self.follow.peek().map(FollowUp::time_s);
        let take_open = match (self.next_open, follow_t) {
            (Some((a, _)), Some(b)) => a <= b,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if take_open {
            let (t, u) = self.next_open.expect("checked");
            if let Some(trace) = &self.population.trace {
                let r = &trace[self.trace_next];
                self.last_trace_tokens = Some((r.input_tokens.max(1), r.output_tokens.max(1)));
                self.trace_next += 1;
            }
            self.next_open = self.draw_open();
            self.last_user_rng = None;
            self.last_follow_up = false;
            self.last_class = self.class_of(u);
            let behaviour: &'a Behaviour = self.population.behaviours[self.last_class];
            if let Behaviour::Sessions { .. } = behaviour {
                // A session starts: draw its length from the user's stream.
                let mut r = self.user_rng(u);
                let lengths = self.session_lengths[self.last_class].as_ref();
                let k = 1 + lengths.expect("a sessions class").sample(&mut r) as u32;
                self.users[u as usize].remaining += k - 1;
                self.last_user_rng = Some(r);
            }
            Some((t, u))
        } else {
            let f = self.follow.pop().expect("checked");
            if let Some(next) = self.follow.peek() {
                self.prefetch_user(next.user());
            }
            self.last_follow_up = true;
            let user = f.user();
            self.last_class = self.class_of(user);
            let r = self.user_rng(user);
            self.last_user_rng = Some(r);
            Some((f.time_s(), user))
        }
    }

    /// The conversation of `user` (growing context): call
    /// [`Source::keep_conversations`] first.
    #[inline]
    pub fn conversation_mut(&mut self, user: u32) -> &mut Conversation {
        &mut self.users[user as usize].conversation
    }

    /// A new conversation's id (1, 2, ...).
    #[inline]
    pub fn new_conversation(&mut self) -> u32 {
        self.conversations = self
            .conversations
            .checked_add(1)
            .expect("fewer than 2^32 conversations in one replication");
        self.conversations
    }

    /// End this stream at `horizon_s`: no request at or after it, as if
    /// it had been generated up to there (a fork of a replication that a
    /// sizing probe looks at early). A request already drawn past it is
    /// dropped, as is a follow-up scheduled past it; the draws that placed
    /// them are not undone, so the last request before `horizon_s` may
    /// differ from a stream generated only to `horizon_s` (its sizes come
    /// from the arrival stream after the next arrival's time).
    pub fn end_at(&mut self, horizon_s: f64) {
        self.population.horizon_s = self.population.horizon_s.min(horizon_s);
        if self.next_open.is_some_and(|(t, _)| t >= horizon_s) {
            self.next_open = None;
        }
        // They come out in time order: keep them up to the first past it.
        let mut kept = QuadHeap::new();
        while let Some(f) = self.follow.pop().filter(|f| f.time_s() < horizon_s) {
            kept.push(f);
        }
        self.follow = kept;
    }

    /// Keep a conversation per user, also for open-loop users (whose
    /// requests each start one).
    pub fn keep_conversations(&mut self) {
        if self.users.is_empty() {
            self.users = vec![UserState::default(); self.population.users];
        }
    }

    /// Whether the popped request follows an earlier response of its user
    /// (a session's later request or an agent's next step) rather than
    /// starting something new.
    #[inline]
    pub fn last_was_follow_up(&self) -> bool {
        self.last_follow_up
    }

    /// Token counts of the popped request when it comes from a trace.
    #[inline]
    pub fn trace_tokens(&self) -> Option<(u32, u32)> {
        if self.population.trace.is_some() {
            self.last_trace_tokens
        } else {
            None
        }
    }

    /// Index in the trace of the popped request when it comes from a trace.
    #[inline]
    pub fn trace_index(&self) -> Option<usize> {
        self.population
            .trace
            .is_some()
            .then(|| self.trace_next.wrapping_sub(1))
    }

    /// The stream to draw the popped request's sizes from.
    #[inline]
    pub fn size_rng(&mut self) -> &mut SimRng {
        match &mut self.last_user_rng {
            Some(r) => r,
            None => &mut self.rng,
        }
    }

    /// `user`'s request finished (or was refused) at `end_s`: schedule what
    /// the user does next.
    #[inline]
    pub fn completed(&mut self, user: u32, end_s: f64) {
        let class = if self.population.behaviours.len() == 1 {
            0
        } else {
            self.class_of(user)
        };
        let behaviour: &'a Behaviour = self.population.behaviours[class];
        match behaviour {
            Behaviour::Poisson => {}
            Behaviour::Sessions { think, .. } => {
                let left = &mut self.users[user as usize].remaining;
                if *left > 0 {
                    *left -= 1;
                    let mut r = self.user_rng(user);
                    let t = end_s + think.sample(&mut r);
                    self.schedule(user, t);
                }
            }
            Behaviour::Agent { gap, .. } => {
                let mut r = self.user_rng(user);
                let t = end_s + gap.sample(&mut r);
                self.schedule(user, t);
            }
            Behaviour::Clients { budget } => {
                let left = match budget {
                    RequestBudget::Total(_) => &mut self.clients_left,
                    RequestBudget::PerClient(_) => &mut self.users[user as usize].remaining,
                };
                if *left > 0 {
                    *left -= 1;
                    self.schedule(user, end_s);
                }
            }
        }
    }
}

/// Number the waiting follow-ups 1, 2, ... in their order; returns the
/// last number given. Their order, and that of later ones (numbered after
/// them), is what it was: nothing observable changes.
fn renumber(follow: &mut QuadHeap<FollowUp>) -> u32 {
    let mut waiting = Vec::new();
    while let Some(f) = follow.pop() {
        waiting.push(f);
    }
    let mut seq = 0;
    for f in waiting {
        seq += 1;
        follow.push(FollowUp::new(f.time_s(), seq, f.user()));
    }
    seq
}

/// Seed a generator from one 64-bit value (named for readability here).
trait FromSeedU64 {
    fn from_seed_u64(seed: u64) -> Self;
}

impl FromSeedU64 for SimRng {
    fn from_seed_u64(seed: u64) -> Self {
        use rand::SeedableRng;
        SimRng::seed_from_u64(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::{renumber, FollowUp, QuadHeap};

    /// Renumbering when the sequence runs out keeps the order of the
    /// waiting follow-ups, equal times in scheduling order, and later ones
    /// at an equal time still come after them.
    #[test]
    fn renumbering_keeps_the_order() {
        let mut heap = QuadHeap::new();
        let scheduled = [
            (5.0, u32::MAX - 3, 7),
            (1.0, u32::MAX - 2, 8),
            (5.0, u32::MAX - 1, 9),
            (5.0, u32::MAX, 10),
        ];
        for (t, seq, user) in scheduled {
            heap.push(FollowUp::new(t, seq, user));
        }
        let last = renumber(&mut heap);
        assert_eq!(last, 4);
        heap.push(FollowUp::new(5.0, last + 1, 11));
        heap.push(FollowUp::new(1.0, last + 2, 12));
        let order: Vec<(f64, u32)> = std::iter::from_fn(|| heap.pop())
            .map(|f| (f.time_s(), f.user()))
            .collect();
        assert_eq!(
            order,
            vec![
                (1.0, 8),
                (1.0, 12),
                (5.0, 7),
                (5.0, 9),
                (5.0, 10),
                (5.0, 11)
            ]
        );
    }
}
