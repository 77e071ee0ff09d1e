//! The scenario file as written: serde structs that mirror the TOML
//! (unknown keys rejected) and [`parse_raw`], which turns a parse failure
//! into a [`ScenarioError::Parse`] naming the key. Nothing here checks
//! values; [`super::resolve`] does.

use std::path::Path;

use serde::Deserialize;

use super::ScenarioError;

// ---------------------------------------------------------------- raw form

/// A scenario file as written. See `scenarios/*.toml` for commented examples.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Name used for the output folder; defaults to the file stem.
    pub name: Option<String>,
    /// Scenario seed; every random stream derives from it. Default 1.
    pub seed: Option<u64>,
    /// Simulated arrival period, seconds (or `horizon_h`, hours).
    pub horizon_s: Option<f64>,
    /// Simulated arrival period, hours.
    pub horizon_h: Option<f64>,
    /// Warm-up discarded from the statistics, seconds (or `warmup_h`). Default 0.
    pub warmup_s: Option<f64>,
    /// Warm-up, hours.
    pub warmup_h: Option<f64>,
    /// UTC clock hour at simulated time 0 (0 up to 24; default 0,
    /// midnight): where the daily profiles are when the run starts.
    pub start_hour_of_day: Option<f64>,
    /// Independent replications. Default 5.
    pub replications: Option<u64>,
    /// The user population and its arrival process (every scenario but a
    /// `[benchmark]` has one).
    pub users: Option<RawUsers>,
    /// A serving benchmark's set-up instead of users (`[benchmark]`): a
    /// closed loop at fixed concurrency, a burst, batched decode or a
    /// single prompt, run until the last request completes.
    pub benchmark: Option<RawBenchmark>,
    /// Generic service time of one request on one server (non-LLM
    /// scenarios). Give either `[service]` or `[model]` + `[requests]`.
    pub service: Option<RawDist>,
    /// The LLM every request uses (LLM scenarios).
    pub model: Option<RawModelChoice>,
    /// LLM request sizes.
    pub requests: Option<RawRequests>,
    /// Prices.
    pub costs: Option<RawCosts>,
    /// The whole user base the world report extrapolates to.
    pub world: Option<RawWorld>,
    /// Other catalogue files than the shipped ones.
    pub catalog: Option<RawCatalogFiles>,
    /// Placements to compare (all see the same arrivals).
    pub placements: Vec<RawPlacement>,
    /// Service-level targets, e.g. `wait_p99_s = 2.0`.
    pub service_level: Option<toml::Table>,
    /// Options of `sharesim size`.
    pub sizing: Option<RawSizing>,
    /// Axes of `sharesim sweep` (read by [`crate::sweep`]; ignored by run and size).
    pub sweep: Option<toml::Table>,
    /// `[uncertainty]`: ranges of scenario keys (`sharesim uncertainty`);
    /// read by the sweep layer from the file's table, ignored by `run` and
    /// `size`; here so that the file's keys are still checked.
    #[allow(dead_code)]
    pub uncertainty: Option<toml::Table>,
    /// Replay a request trace instead of generating arrivals and sizes.
    pub trace: Option<RawTrace>,
    /// A population mix: classes of users with shares of `[users] count`,
    /// each with its own arrivals, request sizes and model. Keys a class
    /// does not set come from `[users]`, `[model]`, `[requests]`, `[service]`.
    pub classes: Option<Vec<RawClass>>,
    /// Placements combined into one answer (e.g. speech on the local
    /// device, the chat model pooled): their `serves` lists split the classes.
    pub hybrids: Option<Vec<RawHybrid>>,
    /// Outage processes (a cloud region, a user's network, a local device)
    /// and which placements they take down (LLM scenarios).
    pub outages: Option<RawOutages>,
}

impl RawScenario {
    /// `[users]`; [`super::resolve`] refuses a file without it (other than
    /// a benchmark) before anything reads it.
    pub(crate) fn users(&self) -> &RawUsers {
        self.users
            .as_ref()
            .expect("[users] is checked before it is read")
    }
}

/// `[benchmark]`: a serving benchmark's set-up (docs: README, scenario files).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBenchmark {
    /// `closed_loop`, `burst`, `batched_decode` or `single_prompt`.
    pub setup: String,
    /// Closed loop: clients, each sending its next request as soon as the
    /// previous completes.
    pub concurrency: Option<u64>,
    /// Requests in total (closed loop; burst and batched decode: requests
    /// or sequences, all at time 0).
    pub requests: Option<u64>,
    /// Closed loop: requests per client (instead of `requests`).
    pub requests_per_client: Option<u64>,
    /// Prompt tokens of every request.
    pub input_tokens: Option<u64>,
    /// Output tokens of every request (the first comes from the prompt step).
    pub output_tokens: Option<u64>,
}

/// `[[classes]]`: one class of users.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    /// Label in tables and placements' `serves`.
    pub name: String,
    /// Share of `[users] count` in this class, in (0, 1]; shares sum to 1.
    pub share: f64,
    /// As `[users] requests_per_day`.
    pub requests_per_day: Option<f64>,
    /// As `[users] duty_cycle`.
    pub duty_cycle: Option<f64>,
    /// As `[users] profile`.
    pub profile: Option<RawProfile>,
    /// As `[users] timezones`.
    pub timezones: Option<Vec<RawTimeZone>>,
    /// As `[users] arrivals`.
    pub arrivals: Option<String>,
    /// As `[users] session_requests_mean`.
    pub session_requests_mean: Option<f64>,
    /// As `[users] think_time`.
    pub think_time: Option<RawDist>,
    /// As `[users] agent_gap`.
    pub agent_gap: Option<RawDist>,
    /// As `[users] agent_start_spread_s`.
    pub agent_start_spread_s: Option<f64>,
    /// As `[users] requests_per_day_cv`.
    pub requests_per_day_cv: Option<f64>,
    /// This class's LLM (replaces `[model]`).
    pub model: Option<RawModelChoice>,
    /// This class's token counts (replaces `[requests]`).
    pub requests: Option<RawRequests>,
    /// A generic service time for this class (replaces `[model]` and
    /// `[requests]`); with `task`, seconds of audio.
    pub service: Option<RawDist>,
    /// `speech_to_text` or `text_to_speech`: `service` is audio seconds and a
    /// placement's device converts it with its catalogue real-time factor.
    pub task: Option<String>,
    /// Its requests must stay on the user's own device: only dedicated
    /// placements may serve it.
    pub local_only: Option<bool>,
    /// This class's service level (replaces `[service_level]`).
    pub service_level: Option<toml::Table>,
}

/// `[[hybrids]]`: placements reported together as one answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHybrid {
    /// Label in tables and files.
    pub name: String,
    /// Placement names; their `serves` must split the classes between them.
    pub parts: Vec<String>,
}

/// `[outages]`: outage processes; placements say what happens to a request
/// that arrives while they are down (`on_outage`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutages {
    /// false: no outage is drawn (results as without the table). Default true.
    pub enabled: Option<bool>,
    /// The processes.
    #[serde(default)]
    pub processes: Vec<RawOutageProcess>,
}

/// `[[outages.processes]]`: one outage process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutageProcess {
    /// Label in messages.
    pub name: String,
    /// `fleet` (one process takes the whole placement down: a region or
    /// service outage) or `user` (one process per user: a home network, a
    /// user's own device).
    pub scope: String,
    /// Names of the placements it takes down.
    pub hits: Vec<String>,
    /// Outages start at this rate per hour of uptime.
    pub rate_per_h: Option<f64>,
    /// ... or per year of uptime.
    pub rate_per_year: Option<f64>,
    /// ... or as a device's annual failure rate (failures per device-year).
    pub annual_failure_rate: Option<f64>,
    /// Mean length of an outage, hours (exponential).
    pub duration_h: Option<f64>,
    /// ... or days (exponential; e.g. days to repair or replace a device).
    pub duration_days: Option<f64>,
    /// ... or a distribution of seconds.
    pub duration: Option<RawDist>,
}

/// `[trace]`: replay a real request trace (LLM scenarios).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrace {
    /// CSV, Parquet or JSONL file, relative to the scenario file.
    pub file: String,
    /// `azure`, `ragpulse`, `mooncake`, `auto` (from the header) or
    /// `custom` (with `columns`). Default auto, or custom with `columns`.
    pub format: Option<String>,
    /// Your own column mapping: `time`, `time_unit` (`s`, `ms`,
    /// `datetime`), `input`, `output`, and optionally `user`, `session`,
    /// `block_hashes`, `block_tokens`.
    pub columns: Option<toml::Table>,
    /// Local clock hour at trace time 0, for a trace whose time is a
    /// number of seconds or milliseconds (hour-of-day figures).
    pub start_hour_of_day: Option<f64>,
    /// Arrival times are multiplied by it (0.5 replays twice as fast). Default 1.
    pub time_scale: Option<f64>,
    /// Seconds added to every arrival after scaling. Default 0.
    pub time_offset_s: Option<f64>,
}

/// `[sizing]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSizing {
    /// Pool sizes k for the pool-size curve: whole numbers of users per pool,
    /// or "all". Default: ["all"].
    pub pool_sizes: Option<Vec<toml::Value>>,
    /// Largest fleet a probe may try before the answer is "infeasible".
    pub max_servers: Option<u64>,
    /// Fewest measured requests (all replications) a probe needs to be
    /// trusted; shorter runs are lengthened. Default 20,000.
    pub min_measured_requests: Option<u64>,
    /// Also size every dedicated placement on each of these catalogue
    /// devices (a list of names, or "catalog" for all) and report the
    /// cheapest that meets the service level for every user.
    pub dedicated_devices: Option<toml::Value>,
    /// Share of a year's requests that must meet the service level with
    /// outages counted, in (0, 1] (e.g. 0.999); sizing then reports which
    /// redundancy option (placement with its fallback) reaches it.
    pub availability_target: Option<f64>,
    /// `"static"` (default) or `"hourly"`: also size every pooled
    /// placement hour by hour over the day (an elastic fleet).
    pub elastic: Option<String>,
    /// Removed: a placement's `ownership` says how it is paid for (kept
    /// to name the key that replaced it).
    pub billing: Option<toml::Value>,
    /// `[sizing.reactive]`: also run every pooled placement under a
    /// reactive autoscaler.
    pub reactive: Option<RawReactive>,
}

/// `[sizing.reactive]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReactive {
    /// Requests in flight per server the scaler aims at: a number or a
    /// list to try.
    pub target_in_flight: Option<toml::Value>,
    /// Or: requests per second per server the scaler aims at (it reads the
    /// arrival rate instead): a number or a list to try.
    pub target_requests_per_s: Option<toml::Value>,
    /// Provisioning delay, minutes (default 0).
    pub delay_min: Option<f64>,
    /// Minutes between decisions (default 1).
    pub interval_min: Option<f64>,
    /// Scale-down stabilization window, minutes (default 5, as HPA's).
    pub stabilization_min: Option<f64>,
    /// Fewest servers held (default 1).
    pub min_servers: Option<u64>,
    /// Most servers held (default twice the static fleet).
    pub max_servers: Option<u64>,
}

/// `[users]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUsers {
    /// Number of users.
    pub count: u64,
    /// Mean requests per user per day.
    pub requests_per_day: Option<f64>,
    /// Share of time one user keeps a dedicated device busy, in (0, 1):
    /// rate = duty_cycle / mean service time.
    pub duty_cycle: Option<f64>,
    /// `"flat"`, `"office_hours"`, `"evening_peak"` or 24 hourly weights.
    pub profile: Option<RawProfile>,
    /// Time-zone mix: offsets from UTC in hours with shares summing to 1.
    pub timezones: Option<Vec<RawTimeZone>>,
    /// `poisson` (default: independent requests), `sessions` (requests in
    /// sessions, each after the previous response plus a think time) or
    /// `agent` (always on: each request after the previous response plus a gap).
    pub arrivals: Option<String>,
    /// Sessions: mean requests per session (geometric, at least 1). Default 1.8.
    pub session_requests_mean: Option<f64>,
    /// Sessions: think time after a response, seconds. Default lognormal
    /// with median 40 s and 90th percentile 300 s (RagPulse).
    pub think_time: Option<RawDist>,
    /// Agents: gap after a response, seconds.
    pub agent_gap: Option<RawDist>,
    /// Agents: first requests spread uniformly over this many seconds. Default 60.
    pub agent_start_spread_s: Option<f64>,
    /// Heterogeneous users: each user's rate is the mean rate times a
    /// lognormal multiplier with mean 1 and this coefficient of variation
    /// (e.g. 2: the top 10 % of users send about half the requests). Default 0.
    pub requests_per_day_cv: Option<f64>,
    /// Bursty open-loop arrivals (same mean rate): `{ process = "mmpp",
    /// rate_multipliers = [a, b], mean_sojourn_s = [s1, s2] }` or `{
    /// process = "gamma", cv = c }`. Default Poisson.
    pub bursts: Option<RawBursts>,
}

/// `[users] bursts`: how open-loop arrivals cluster.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBursts {
    /// `poisson`, `mmpp` or `gamma`.
    pub process: String,
    /// MMPP: the two states' rate multipliers (scaled to a time-weighted mean of 1).
    pub rate_multipliers: Option<Vec<f64>>,
    /// MMPP: mean sojourn in each state, seconds.
    pub mean_sojourn_s: Option<Vec<f64>>,
    /// Gamma renewal: coefficient of variation of the gaps.
    pub cv: Option<f64>,
}

/// A named profile or 24 weights.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawProfile {
    /// A preset name.
    Named(String),
    /// 24 hourly weights in local time.
    Weights(Vec<f64>),
}

/// One entry of `users.timezones`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeZone {
    /// Offset of local time from UTC, hours (-12..=14).
    pub offset_h: f64,
    /// Share of users in this zone.
    pub share: f64,
}

/// A distribution of seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
    /// `exponential`, `deterministic`, `lognormal`, `gamma`, `erlang` or `empirical`.
    pub distribution: String,
    /// Mean, seconds (exponential, lognormal, gamma, erlang).
    pub mean_s: Option<f64>,
    /// The value, seconds (deterministic).
    pub value_s: Option<f64>,
    /// Median, seconds (lognormal, with `p99_s`).
    pub median_s: Option<f64>,
    /// 99th percentile, seconds (lognormal, with `median_s`).
    pub p99_s: Option<f64>,
    /// 90th percentile, seconds (lognormal, with `median_s`).
    pub p90_s: Option<f64>,
    /// Coefficient of variation (lognormal, with `mean_s`).
    pub cv: Option<f64>,
    /// Shape (gamma).
    pub shape: Option<f64>,
    /// Number of phases (erlang).
    pub k: Option<u64>,
    /// File of observed values (empirical), relative to the scenario file.
    pub file: Option<String>,
    /// CSV column holding the values (empirical); without it, one value per line.
    pub column: Option<String>,
}

/// `[model]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModelChoice {
    /// Catalogue name, e.g. `gpt_oss_120b`.
    pub name: String,
    /// Quantisation key of the model's `weights_gb`, e.g. `mxfp4`, `fp8`, `q4`.
    pub quantisation: String,
}

/// `[requests]`: token counts per request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequests {
    /// Prompt tokens.
    pub input_tokens: RawTokens,
    /// Output tokens.
    pub output_tokens: RawTokens,
    /// A system prompt of this many tokens that every request of the class
    /// starts with (added to `input_tokens`). Default 0.
    pub system_prompt_tokens: Option<u64>,
    /// A follow-up (a session's later request, an agent's next step)
    /// continues the conversation: its prompt is the previous prompt and
    /// answer plus `input_tokens` new ones. Default false.
    pub growing_context: Option<bool>,
}

/// A distribution of token counts (rounded to whole tokens, at least 1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTokens {
    /// `fixed`, `lognormal` or `empirical`.
    pub distribution: String,
    /// The count (fixed).
    pub value: Option<f64>,
    /// Median (lognormal, with `p99`).
    pub median: Option<f64>,
    /// 99th percentile (lognormal, with `median`).
    pub p99: Option<f64>,
    /// Mean (lognormal, with `cv`).
    pub mean: Option<f64>,
    /// Coefficient of variation (lognormal, with `mean`).
    pub cv: Option<f64>,
    /// File of observed counts (empirical), relative to the scenario file.
    pub file: Option<String>,
    /// CSV column (empirical).
    pub column: Option<String>,
}

/// `[costs]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCosts {
    /// Multiplier on the memory share of every device price (1 = catalogue prices).
    pub memory_price_multiplier: Option<f64>,
    /// Electricity price in datacenters, USD per kWh.
    pub electricity_usd_per_kwh_datacenter: Option<f64>,
    /// Electricity price at home (residential), USD per kWh.
    pub electricity_usd_per_kwh_home: Option<f64>,
    /// Facility build cost per kW of IT load, USD.
    pub facility_usd_per_kw: Option<f64>,
    /// Years the facility is amortised over.
    pub facility_lifetime_years: Option<f64>,
    /// Operations as a share of an owned fleet's annualised capital.
    pub operations_share: Option<f64>,
    /// Grid carbon intensity at datacenters, g CO2e per kWh.
    pub grid_g_co2_per_kwh_datacenter: Option<f64>,
    /// Grid carbon intensity at home, g CO2e per kWh.
    pub grid_g_co2_per_kwh_home: Option<f64>,
    /// Embodied carbon of DRAM, kg CO2e per GB.
    pub embodied_kg_co2e_per_gb_dram: Option<f64>,
    /// Embodied carbon of HBM, kg CO2e per GB.
    pub embodied_kg_co2e_per_gb_hbm: Option<f64>,
    /// World DRAM output, GB per year.
    pub world_dram_output_gb_per_year: Option<f64>,
}

/// `[world]`: extrapolate the sized figures to a whole user base.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorld {
    /// Users in the whole user base.
    pub users: f64,
}

/// `[catalog]`: replace the shipped catalogue files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalogFiles {
    /// Device file, relative to the scenario file.
    pub devices_file: Option<String>,
    /// Model file, relative to the scenario file.
    pub models_file: Option<String>,
}

/// `[[placements]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlacement {
    /// Label in tables and files.
    pub name: String,
    /// `dedicated` or `pooled`.
    pub kind: String,
    /// Servers in a pooled fleet.
    pub servers: Option<u64>,
    /// Pooled dispatch: `central_queue` (default), `round_robin`,
    /// `join_shortest_queue`, `power_of_two_choices`, `least_kv_load`,
    /// `prefix_affinity` (LLM only).
    pub dispatch: Option<String>,
    /// LLM: cache prompt blocks (pooled: vLLM's automatic prefix caching;
    /// dedicated: the device keeps its user's last conversation, as
    /// llama.cpp's prompt cache). Default false.
    pub prefix_caching: Option<bool>,
    /// LLM: catalogue device of each server (pooled) or of each user (dedicated).
    pub device: Option<String>,
    /// LLM: the model it serves its classes' requests with instead of
    /// theirs (a smaller model on the user's own device while the cloud is
    /// down), `{ name, quantisation }`.
    pub model: Option<RawModelChoice>,
    /// LLM pooled: devices per server working in tensor parallel. Default 1.
    pub tensor_parallel: Option<u32>,
    /// Removed: tensor parallelism now costs time per step from the
    /// engine profile. Refused with that message.
    pub tp_efficiency: Option<f64>,
    /// LLM: the serving engine (`vllm`, `sglang`, `trtllm`, `llama.cpp`,
    /// `mlx`). Default: the device's `default_engine`.
    pub engine: Option<String>,
    /// LLM: KV cache precision, `bf16` (default) or `fp8`.
    pub kv_precision: Option<String>,
    /// LLM pooled: `paged` or `reserved` (whole context at admission).
    /// Default: the engine's.
    pub kv_allocation: Option<String>,
    /// Power usage effectiveness of the site (wall / IT power). Default 1.3
    /// pooled, 1.0 dedicated (at home).
    pub pue: Option<f64>,
    /// LLM pooled: most sequences in one batch. Default: the engine's.
    pub max_batch: Option<u32>,
    /// Network round trip added to TTFT and E2E, seconds. Default 0.05
    /// pooled, 0 dedicated.
    pub network_rtt_s: Option<f64>,
    /// A distribution of round trips instead (seconds), e.g.
    /// `{ distribution = "lognormal", median_s = 0.05, p99_s = 0.3 }`.
    pub network_rtt: Option<RawDist>,
    /// LLM pooled: plan runs of identical decode steps as one event
    /// (default true); false simulates every step (reference mode).
    pub fast_forward: Option<bool>,
    /// Price of one device, USD, replacing the catalogue price (before the
    /// memory price multiplier is applied).
    pub price_usd: Option<f64>,
    /// Years of service of one device, replacing the catalogue's
    /// `lifetime_years` (the bill amortises prices over it).
    pub lifetime_years: Option<f64>,
    /// LLM: achieved share of peak memory bandwidth, replacing the engine
    /// profile's fitted `bandwidth_efficiency` for this placement.
    pub bandwidth_efficiency: Option<f64>,
    /// LLM: achieved share of peak compute, replacing the engine profile's
    /// fitted `compute_efficiency` for this placement.
    pub compute_efficiency: Option<f64>,
    /// LLM pooled: chunked prefill, at most this many prompt tokens per step
    /// mixed with the decode batch (default: the engine's; 0 turns it off).
    pub chunked_prefill_tokens: Option<u32>,
    /// Generic scenarios: this placement's servers take `service_scale` x
    /// the `[service]` time (e.g. a real-time factor: `[service]` in audio
    /// seconds, 0.1 on a laptop NPU). Default 1, or for speech classes the
    /// device's catalogue real-time factor (which `service_scale` replaces).
    pub service_scale: Option<f64>,
    /// Class names this placement serves (default: every class).
    pub serves: Option<Vec<String>>,
    /// Pooled: `owned` (default: bought, in an owned datacenter) or
    /// `rented` (the catalogue's hourly price, held all year).
    pub ownership: Option<String>,
    /// Electricity price at this placement's site, USD per kWh (default:
    /// `[costs]`'s datacenter or home price).
    pub electricity_usd_per_kwh: Option<f64>,
    /// Grid carbon intensity at this placement's site, g CO2e per kWh.
    pub grid_g_co2_per_kwh: Option<f64>,
    /// Dedicated: price of the computer the user would own anyway, USD
    /// (the marginal cost subtracts it).
    pub baseline_price_usd: Option<f64>,
    /// Let this placement serve `local_only` classes, as a priced
    /// counterfactual (what the service would cost without the constraint).
    pub ignore_local_only: Option<bool>,
    /// What a request arriving while the placement is down does: `fail`
    /// (default), `wait` (until the outage ends) or `fallback` (served by
    /// the placement named in `fallback`).
    pub on_outage: Option<String>,
    /// With `on_outage = "fallback"`: the placement that serves requests
    /// during this one's outages (a `fallback_only` placement).
    pub fallback: Option<String>,
    /// Serves only the requests another placement sends it during its
    /// outages (a standby region, a local fallback device).
    pub fallback_only: Option<bool>,
    /// LLM pooled: separate prefill and decode pools
    /// (`[placements.disaggregated]`).
    pub disaggregated: Option<RawDisaggregated>,
    /// LLM pooled, serving classes of several models: rarely used models
    /// swapped in on a shared pool (`[placements.swap]`).
    pub swap: Option<RawSwap>,
}

/// `[placements.swap]`: models without replicas of their own, served by a
/// swap pool that loads them on demand.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSwap {
    /// Catalogue names of the models swapped in.
    pub models: Vec<String>,
    /// Rate at which a server loads a model's weights, GB/s (default 2).
    pub load_gb_per_s: Option<f64>,
    /// Servers of the swap pool for `run` (default 1; `size` sizes it).
    pub servers: Option<u64>,
}

/// `[placements.disaggregated]`: prefill/decode disaggregation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDisaggregated {
    /// Servers that only prefill.
    pub prefill_servers: Option<u64>,
    /// Servers that only decode.
    pub decode_servers: Option<u64>,
    /// Bandwidth of one KV transfer, GB/s (`inf` allowed). Default 50.
    pub link_gb_per_s: Option<f64>,
    /// Time every KV transfer takes besides its bytes, seconds. Default 0.001.
    pub link_latency_s: Option<f64>,
}

/// Parse scenario text into its raw form; `path` names the file in errors.
pub(crate) fn parse_raw(text: &str, path: &Path) -> Result<RawScenario, ScenarioError> {
    crate::core::error::deserialize_toml(text).map_err(|(key, message)| ScenarioError::Parse {
        file: path.to_path_buf(),
        key,
        message,
    })
}
