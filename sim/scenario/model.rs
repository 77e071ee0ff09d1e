//! The resolved scenario: what requests are ([`Workload`]), who sends them
//! ([`UserClass`]), where they are served ([`super::Placement`]) and how it
//! is judged ([`super::ServiceLevel`]), with the population accessors the
//! run and sizing layers read. Building one is [`super::resolve`]'s job;
//! derived copies (views, probes) are in [`super::views`].

use std::path::PathBuf;
use std::sync::Arc;

use crate::core::dist::Dist;
use crate::core::units::DAY_S;
use crate::llm::catalog::{Device, Model};
use crate::workload::arrivals::{DiurnalProfile, PoissonArrivals};
use crate::workload::source::Behaviour;

use super::{Placement, ServiceLevel};

/// What a request is and costs.
#[derive(Debug, Clone)]
pub enum Workload {
    /// A service time per request, the same on every server.
    Generic {
        /// Service time, seconds.
        service: Dist,
    },
    /// LLM requests: token counts, served per the roofline model.
    Llm(Box<LlmWorkload>),
}

/// The LLM side of a scenario.
#[derive(Debug, Clone)]
pub struct LlmWorkload {
    /// The model.
    pub model: Model,
    /// Its quantisation.
    pub quantisation: String,
    /// Prompt tokens per request.
    pub input_tokens: Dist,
    /// Output tokens per request.
    pub output_tokens: Dist,
    /// Multiplier on the memory share of device prices.
    pub memory_price_multiplier: f64,
    /// Tokens of the shared system prompt every request starts with,
    /// added to each draw of `input_tokens`.
    pub system_prompt_tokens: u32,
    /// Follow-ups continue the conversation (prompt = previous prompt +
    /// answer + new input).
    pub growing_context: bool,
    /// The fixed token-count draws of scenario-level estimates, drawn once
    /// ([`super::views`]'s `token_sample`): the token distributions are
    /// never changed after resolving, so the draws stay theirs.
    pub(crate) token_draws: TokenDraws,
}

/// A once-filled cache of an [`LlmWorkload`]'s fixed token-count draws
/// (clones share them).
#[derive(Clone, Default)]
pub(crate) struct TokenDraws(pub(crate) std::sync::OnceLock<std::sync::Arc<Vec<(u32, u32)>>>);

impl std::fmt::Debug for TokenDraws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenDraws")
    }
}

/// What a speech class's `service` (audio seconds) is converted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpeechTask {
    /// Transcription: `speech_to_text_rtf`.
    SpeechToText,
    /// Synthesis: `text_to_speech_rtf`.
    TextToSpeech,
}

impl SpeechTask {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "speech_to_text" => Some(SpeechTask::SpeechToText),
            "text_to_speech" => Some(SpeechTask::TextToSpeech),
            _ => None,
        }
    }

    /// The task's name in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            SpeechTask::SpeechToText => "speech_to_text",
            SpeechTask::TextToSpeech => "text_to_speech",
        }
    }

    /// The catalogue key of the device's real-time factor.
    pub fn rtf_key(&self) -> &'static str {
        match self {
            SpeechTask::SpeechToText => "speech_to_text_rtf",
            SpeechTask::TextToSpeech => "text_to_speech_rtf",
        }
    }

    /// The device's real-time factor for this task, if catalogued.
    pub fn rtf(&self, d: &Device) -> Option<f64> {
        match self {
            SpeechTask::SpeechToText => d.speech_to_text_rtf,
            SpeechTask::TextToSpeech => d.text_to_speech_rtf,
        }
    }
}

/// One class of users: a contiguous range of user ids with its own way of
/// sending requests, request sizes, model and service level.
#[derive(Debug, Clone)]
pub struct UserClass {
    /// Label (`all` when the scenario has no `[[classes]]`).
    pub name: String,
    /// Its groups in [`Scenario::arrivals`] (time zones), a contiguous range.
    pub groups: std::ops::Range<usize>,
    /// How its users send requests.
    pub behaviour: Behaviour,
    /// What its requests are.
    pub workload: Workload,
    /// Mean requests per user per day, follow-ups included.
    pub requests_per_user_per_day: f64,
    /// Mean device-seconds of one of its requests served alone on its
    /// reference placement (the first dedicated one serving it), seconds.
    pub mean_service_s: f64,
    /// Its targets.
    pub service_level: ServiceLevel,
    /// Its requests must stay on the user's own device (dedicated placements).
    pub local_only: bool,
}

/// A serving benchmark's set-up (`[benchmark] setup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchmarkSetup {
    /// `concurrency` clients, each sending its next request as soon as the
    /// previous completes (vLLM `benchmark_serving --max-concurrency`).
    ClosedLoop,
    /// Every request at time 0 (an offline throughput benchmark).
    Burst,
    /// Sequences that each get a prompt, then decode together
    /// (llama.cpp `llama-batched-bench`); reports decode throughput.
    BatchedDecode,
    /// One prompt processed alone (llama-bench `pp`); reports prompt throughput.
    SinglePrompt,
}

impl BenchmarkSetup {
    /// Every set-up with its name in scenario files.
    pub const ALL: [(BenchmarkSetup, &'static str); 4] = [
        (BenchmarkSetup::ClosedLoop, "closed_loop"),
        (BenchmarkSetup::Burst, "burst"),
        (BenchmarkSetup::BatchedDecode, "batched_decode"),
        (BenchmarkSetup::SinglePrompt, "single_prompt"),
    ];

    /// The set-up named `s` in a scenario file.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(b, _)| *b)
    }

    /// Its name in scenario files (the `benchmark_setup` column).
    pub fn name(&self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(b, _)| b == self)
            .map(|(_, n)| *n)
            .expect("every set-up is listed")
    }
}

/// A resolved `[benchmark]`: its clients are the scenario's users (their
/// behaviour [`Behaviour::Clients`]) and every request has the same size;
/// each replication runs until its last request completes, and that
/// makespan is its measurement window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Benchmark {
    /// Which set-up.
    pub setup: BenchmarkSetup,
    /// Clients sending at once (the scenario's users).
    pub concurrency: u32,
    /// Requests in total.
    pub requests: u64,
    /// Prompt tokens of every request.
    pub input_tokens: u32,
    /// Output tokens of every request.
    pub output_tokens: u32,
}

/// Placements reported together as one answer.
#[derive(Debug, Clone)]
pub struct Hybrid {
    /// Label.
    pub name: String,
    /// Indices of its placements; their served classes split all classes.
    pub parts: Vec<usize>,
}

/// A validated scenario, ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name (output folder).
    pub name: String,
    /// The file it came from.
    pub source: PathBuf,
    /// Scenario seed.
    pub seed: u64,
    /// Arrivals are generated in `[0, horizon_s)`, seconds.
    pub horizon_s: f64,
    /// Statistics cover arrivals in `[warmup_s, horizon_s)`, seconds.
    pub warmup_s: f64,
    /// Independent replications.
    pub replications: usize,
    /// Number of users (all classes).
    pub users: usize,
    /// Mean requests per user per day over all users (derived when a duty
    /// cycle was given; follow-ups included).
    pub requests_per_user_per_day: f64,
    /// The merged open-loop arrival process of all classes, their groups in
    /// class order (session starts for sessions; agents' groups have rate 0).
    pub arrivals: PoissonArrivals,
    /// The population's classes (one, `all`, without `[[classes]]`).
    pub classes: Vec<UserClass>,
    /// Replayed requests (arrival order, users assigned), when `[trace]` is given.
    pub trace: Option<Arc<Vec<crate::workload::trace::TraceRequest>>>,
    /// The replayed trace's wall clock (when the trace records one), so
    /// that load by time of day is reported in the trace's hours.
    pub trace_clock: Option<crate::workload::trace::TraceClock>,
    /// UTC clock hour at simulated time 0 (`start_hour_of_day`; 0 is
    /// midnight). Generated arrivals' groups carry it in their
    /// `tz_offset_h` (local hour = time + start + zone offset).
    pub start_hour_of_day: f64,
    /// The replayed trace's block hashes (aligned with `trace`), when it
    /// has them.
    pub trace_blocks: Option<Arc<crate::workload::trace::TraceBlocks>>,
    /// Mean device-seconds of one request served alone, request-weighted
    /// over classes (each class on its reference placement), seconds.
    pub mean_service_s: f64,
    /// Placements to compare.
    pub placements: Vec<Placement>,
    /// Placements combined into one answer.
    pub hybrids: Vec<Hybrid>,
    /// Targets (of the first class; classes served together share them).
    pub service_level: ServiceLevel,
    /// Sizing options.
    pub sizing: SizingConfig,
    /// The serving benchmark this scenario reproduces, if it is one.
    pub benchmark: Option<Benchmark>,
    /// Prices and carbon factors (`[costs]`, `[world]`).
    pub costs: super::cost::Costs,
    /// Outage processes (`[outages]`, enabled); None: nothing is ever down.
    pub outages: Option<Arc<Vec<OutageProcess>>>,
}

/// One `[[outages.processes]]` entry, resolved.
#[derive(Debug, Clone)]
pub struct OutageProcess {
    /// Its name.
    pub name: String,
    /// Rate, durations, scope and stream.
    pub spec: crate::workload::outages::OutageSpec,
}

/// Resolved `[sizing]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SizingConfig {
    /// Users per pool, ascending; the last is all users.
    pub pool_sizes: Vec<usize>,
    /// Largest fleet tried (None: derived from the analytic guess).
    pub max_servers: Option<usize>,
    /// Fewest measured requests per probe.
    pub min_measured_requests: u64,
    /// Share of a year's requests that must meet the service level with
    /// outages counted (`availability_target`).
    pub availability_target: Option<f64>,
    /// Also size every pooled placement hour by hour (`[sizing] elastic =
    /// "hourly"`) at the largest pool size, and report the cheapest of the
    /// static fleet, the hourly schedule and the reactive autoscaler.
    pub elastic: bool,
    /// Also run every pooled placement under a reactive autoscaler
    /// (`[sizing.reactive]`) at the largest pool size.
    pub reactive: Option<ReactiveConfig>,
    /// The autoscaler a run's pooled LLM placements serve under (set by
    /// sizing for its reactive runs; never read from a file).
    pub autoscaler: Option<crate::engine::Autoscaler>,
}

/// Resolved `[sizing.reactive]`: the reactive autoscaler policy sizing
/// tries (docs/model.md section 10.9).
#[derive(Debug, Clone, PartialEq)]
pub struct ReactiveConfig {
    /// What the scaler reads.
    pub metric: crate::engine::ScaleMetric,
    /// Targets tried (per server, in the metric's unit), ascending.
    pub targets: Vec<f64>,
    /// Provisioning delay, seconds.
    pub delay_s: f64,
    /// Seconds between two scaler decisions.
    pub interval_s: f64,
    /// Scale-down stabilization window, seconds.
    pub stabilization_s: f64,
    /// Fewest servers held.
    pub min_servers: usize,
    /// Most servers held (None: twice the static fleet).
    pub max_servers: Option<usize>,
}

impl Scenario {
    /// Whether placement `j` respects every `local_only` class it serves
    /// (dedicated, or serving none; a pooled `ignore_local_only`
    /// counterfactual serving one does not).
    pub fn respects_local_only(&self, j: usize) -> bool {
        let p = &self.placements[j];
        p.kind == super::PlacementKind::Dedicated
            || !p.serves.iter().any(|&ci| self.classes[ci].local_only)
    }

    /// Mean offered load in Erlangs: every class's request rate (follow-ups
    /// included) x its mean service time alone on its reference device.
    pub fn offered_load_erlangs(&self) -> f64 {
        (0..self.classes.len())
            .map(|c| self.class_request_rate_per_s(c) * self.classes[c].mean_service_s)
            .sum()
    }

    /// First user id and number of users of class `class`.
    pub fn class_users(&self, class: usize) -> (u32, u32) {
        let groups = &self.arrivals.groups()[self.classes[class].groups.clone()];
        let first = groups.first().map_or(0, |g| g.first_user);
        (first, groups.iter().map(|g| g.users).sum())
    }

    /// Names of the classes `which`, joined with `+` (the `classes` column).
    pub fn classes_label(&self, which: &[usize]) -> String {
        which
            .iter()
            .map(|&c| self.classes[c].name.as_str())
            .collect::<Vec<_>>()
            .join("+")
    }

    /// Names of every class, joined with `+`.
    pub fn all_classes_label(&self) -> String {
        self.classes_label(&(0..self.classes.len()).collect::<Vec<_>>())
    }

    /// One past the last user id of each class, in class order (classes
    /// hold contiguous id ranges); see [`crate::core::classes::class_index`].
    pub fn class_ends(&self) -> Vec<u32> {
        (0..self.classes.len())
            .map(|c| {
                let (first, n) = self.class_users(c);
                first + n
            })
            .collect()
    }

    /// Class of user `user`.
    pub fn class_of_user(&self, user: u32) -> usize {
        crate::core::classes::class_index(&self.class_ends(), user)
    }

    /// The users and how they send requests, as the request source needs them.
    pub fn population(&self) -> crate::workload::Population<'_> {
        crate::workload::Population {
            seed: self.seed,
            horizon_s: self.horizon_s,
            users: self.users,
            arrivals: &self.arrivals,
            behaviours: self.classes.iter().map(|c| &c.behaviour).collect(),
            class_ends: self.class_ends(),
            trace: self.trace.as_deref().map(|t| t.as_slice()),
        }
    }

    /// Mean request rate of class `class` (all its users, follow-ups
    /// included), requests per second.
    pub fn class_request_rate_per_s(&self, class: usize) -> f64 {
        self.class_users(class).1 as f64 * self.classes[class].requests_per_user_per_day / DAY_S
    }

    /// All requests (follow-ups included) as one Poisson-like process over
    /// the day: each class's groups at the class's full per-user rate
    /// (agents flat). Its mean and peak rates bound fleets analytically.
    pub fn request_rate_process(&self) -> PoissonArrivals {
        let mut groups = Vec::new();
        for class in &self.classes {
            for g in &self.arrivals.groups()[class.groups.clone()] {
                let mut g = g.clone();
                g.rate_per_user_per_s = class.requests_per_user_per_day / DAY_S;
                if matches!(class.behaviour, Behaviour::Agent { .. }) {
                    g.profile = DiurnalProfile::flat();
                }
                groups.push(g);
            }
        }
        PoissonArrivals::new(groups)
    }

    /// Users served by `placement`.
    pub fn served_users(&self, placement: usize) -> usize {
        self.placements[placement]
            .serves
            .iter()
            .map(|&c| self.class_users(c).1 as usize)
            .sum()
    }

    /// Share of `placement`'s requests that come from each class it
    /// serves, in `serves` order (equal shares when no class sends any).
    pub(crate) fn served_request_shares(&self, placement: usize) -> Vec<(usize, f64)> {
        let serves = &self.placements[placement].serves;
        let rates: Vec<f64> = serves
            .iter()
            .map(|&c| self.class_request_rate_per_s(c))
            .collect();
        let total: f64 = rates.iter().sum();
        serves
            .iter()
            .zip(&rates)
            .map(|(&c, r)| {
                let share = if total > 0.0 {
                    r / total
                } else {
                    1.0 / serves.len() as f64
                };
                (c, share)
            })
            .collect()
    }

    /// The workload of `placement`'s classes (they share its kind and model).
    pub fn workload_of(&self, placement: usize) -> &Workload {
        &self.classes[self.placements[placement].serves[0]].workload
    }

    /// The LLM served by `placement`, if it serves LLM classes.
    pub fn llm_of(&self, placement: usize) -> Option<&LlmWorkload> {
        match self.workload_of(placement) {
            Workload::Llm(l) => Some(l),
            Workload::Generic { .. } => None,
        }
    }

    /// Mean service time of one of `placement`'s generic requests on one of
    /// its servers, seconds (request-weighted over the classes it serves).
    pub fn generic_mean_service_s(&self, placement: usize) -> f64 {
        let p = &self.placements[placement];
        self.served_request_shares(placement)
            .iter()
            .map(|&(c, share)| match &self.classes[c].workload {
                Workload::Generic { service } => {
                    share * service.mean() * p.service_scale_by_class[c]
                }
                Workload::Llm(_) => 0.0,
            })
            .sum()
    }
}
