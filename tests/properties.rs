//! Properties of random small scenarios (proptest): counts add up in every
//! replication row, utilisation stays in [0, 1], Little's law holds up to an
//! edge effect, no measurement is NaN or infinite, results do not depend on
//! the number of threads; for LLM scenarios the KV cache and the batch never
//! exceed their limits, and sizing never needs more servers for a looser
//! service level.
//!
//! Each property builds the scenario as TOML text, as a user would write it,
//! so the parser and the validation are exercised too.

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use sharesim::results::{get, Row, Value};
use sharesim::run::{run_replication, run_scenario, Measured, RunResults};
use sharesim::scenario::Scenario;
use sharesim::sizing::size_pool;

use crate::support::invariants::{assert_all_finite, assert_counts_add_up, assert_share_if_set};
use crate::support::scenarios::desktop_and_h100_pool;
use crate::support::{f64_of, flag, scenario, u64_of};

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// `arrived = completed_by_horizon + in_flight_at_horizon + rejected`.
fn assert_conservation(rows: &[Row]) {
    rows.iter().for_each(assert_counts_add_up);
}

/// Utilisation is busy server-seconds inside the window over servers x
/// window: always defined, and in [0, 1].
fn assert_utilisation(rows: &[Row]) {
    for row in rows {
        assert!(
            f64_of(row, "utilization_share").is_some(),
            "utilisation is always defined: {row:?}"
        );
        assert_share_if_set(row, "utilization_share");
    }
}

/// The same results in a 1-thread and a 2-thread pool, compared cell by cell.
fn run_and_check_threads(s: &Scenario) -> RunResults {
    let one = in_pool(1, || run_scenario(s));
    let two = in_pool(2, || run_scenario(s));
    assert!(one.replications == two.replications, "results rows differ");
    assert!(one.summary == two.summary, "summary rows differ");
    assert!(
        one.latency_cdf == two.latency_cdf,
        "latency_cdf rows differ"
    );
    assert!(one.timeline == two.timeline, "timeline rows differ");
    one
}

// ------------------------------------------------------------------ generic

const DISPATCH: [&str; 4] = [
    "central_queue",
    "round_robin",
    "join_shortest_queue",
    "power_of_two_choices",
];
const PROFILES: [&str; 3] = ["flat", "office_hours", "evening_peak"];

#[derive(Debug, Clone)]
struct Generic {
    seed: u64,
    users: u64,
    /// 0 exponential, 1 lognormal, 2 deterministic.
    service: usize,
    mean_s: f64,
    cv: f64,
    servers: u64,
    dispatch: usize,
    /// Offered utilisation of the pooled placement (above 1: unstable).
    rho: f64,
    horizon_s: f64,
    warmup_share: f64,
    replications: u64,
    profile: usize,
}

fn generic() -> impl Strategy<Value = Generic> {
    (
        (
            0u64..1_000_000,
            1u64..200,
            0usize..3,
            0.1f64..5.0,
            0.2f64..2.0,
        ),
        (1u64..=8, 0usize..4, 0.05f64..1.1),
        (2_000.0f64..20_000.0, 0.0f64..0.1, 2u64..=3, 0usize..3),
    )
        .prop_map(
            |(
                (seed, users, service, mean_s, cv),
                (servers, dispatch, rho),
                (horizon_s, warmup_share, replications, profile),
            )| Generic {
                seed,
                users,
                service,
                mean_s,
                cv,
                servers,
                dispatch,
                rho,
                horizon_s,
                warmup_share,
                replications,
                profile,
            },
        )
}

impl Generic {
    fn toml(&self) -> String {
        let rate = self.rho * self.servers as f64 / self.mean_s;
        // At most ~300,000 requests per replication keeps a case well under
        // a second; the horizon stays within 2,000-20,000 s.
        let horizon = self.horizon_s.min((300_000.0 / rate).max(2_000.0));
        let rpd = rate / self.users as f64 * 86_400.0;
        let service = match self.service {
            0 => format!("distribution = \"exponential\"\nmean_s = {}", self.mean_s),
            1 => format!(
                "distribution = \"lognormal\"\nmean_s = {}\ncv = {}",
                self.mean_s, self.cv
            ),
            _ => format!(
                "distribution = \"deterministic\"\nvalue_s = {}",
                self.mean_s
            ),
        };
        format!(
            "seed = {seed}\nhorizon_s = {horizon}\nwarmup_s = {warmup}\nreplications = {reps}\n\
             [users]\ncount = {users}\nrequests_per_day = {rpd}\nprofile = \"{profile}\"\n\
             [service]\n{service}\n\
             [[placements]]\nname = \"local\"\nkind = \"dedicated\"\n\
             [[placements]]\nname = \"pool\"\nkind = \"pooled\"\nservers = {servers}\ndispatch = \"{dispatch}\"\n",
            seed = self.seed,
            warmup = horizon * self.warmup_share,
            reps = self.replications,
            users = self.users,
            profile = PROFILES[self.profile],
            servers = self.servers,
            dispatch = DISPATCH[self.dispatch],
        )
    }
}

/// Cases where Little's law was compared (the check must not be vacuous).
static LITTLE_CHECKED: AtomicUsize = AtomicUsize::new(0);
/// Largest relative difference seen, in millionths (printed, to see the margin).
static LITTLE_WORST_PPM: AtomicUsize = AtomicUsize::new(0);

/// Little's law, `L = lambda W`, holds exactly for the requests of the
/// window up to an edge effect: `mean_in_system` integrates every request's
/// time inside `[warmup, horizon)`, while `throughput x response_mean`
/// counts whole response times of the requests arriving in it. They differ
/// by (time after the horizon of requests still in the system there) minus
/// (time inside the window of requests that arrived in the warm-up), divided
/// by the window length W. Each term is about L x (mean residual response)
/// / W, so the relative difference is of order (a tail response time) / W.
/// We compare when the run is long and stable enough for that to be small:
/// at least 2,000 measured requests, not flagged unstable, and the p99
/// response at most 1 % of the window; then 5 % leaves a margin of 5 for
/// the randomness of the two boundary terms.
fn check_little(row: &Row, window_s: f64) {
    let measured = u64_of(row, "measured");
    let (Some(l), Some(little), Some(p99)) = (
        f64_of(row, "mean_in_system"),
        f64_of(row, "little_mean_in_system"),
        f64_of(row, "response_p99_s"),
    ) else {
        return;
    };
    if measured < 2_000 || flag(row, "unstable") || p99 > 0.01 * window_s {
        return;
    }
    LITTLE_CHECKED.fetch_add(1, Ordering::Relaxed);
    let rel = (l - little).abs() / little;
    LITTLE_WORST_PPM.fetch_max((rel * 1e6) as usize, Ordering::Relaxed);
    assert!(
        rel < 0.05,
        "Little: mean_in_system {l} vs throughput x response {little} ({:.2} %), p99 response {p99} s over a {window_s} s window: {row:?}",
        rel * 100.0
    );
}

#[test]
fn generic_scenarios_keep_their_invariants() {
    let mut runner = TestRunner::new(Config {
        cases: 32,
        source_file: Some(file!()),
        ..Config::default()
    });
    runner
        .run(&generic(), |g| {
            let text = g.toml();
            let s = scenario(&text);
            let r = run_and_check_threads(&s);
            assert_eq!(r.replications.len(), 2 * g.replications as usize);
            assert_conservation(&r.replications);
            assert_utilisation(&r.replications);
            assert_utilisation(&r.summary);
            assert_all_finite(&r);
            for row in &r.replications {
                check_little(row, s.horizon_s - s.warmup_s);
            }
            Ok(())
        })
        .unwrap();
    let checked = LITTLE_CHECKED.load(Ordering::Relaxed);
    println!(
        "Little's law compared on {checked} replication rows; largest relative difference {:.3} %",
        LITTLE_WORST_PPM.load(Ordering::Relaxed) as f64 / 1e4
    );
    assert!(checked >= 5, "Little's law compared on {checked} rows only");
}

// ------------------------------------------------------------------ LLM

#[derive(Debug, Clone)]
struct Llm {
    seed: u64,
    users: u64,
    requests_per_day: f64,
    /// Input tokens: (lognormal?, median or value, p99 / median).
    input: (bool, f64, f64),
    output: (bool, f64, f64),
    h100: bool,
    servers: u64,
    max_batch: u32,
    /// Index into DISPATCH plus `least_kv_load`.
    dispatch: usize,
    fast_forward: bool,
    horizon_s: f64,
    warmup_share: f64,
}

fn llm() -> impl Strategy<Value = Llm> {
    (
        (0u64..1_000_000, 1u64..200, 10.0f64..2_000.0),
        (
            (any::<bool>(), 10.0f64..500.0, 1.5f64..5.0),
            (any::<bool>(), 1.0f64..150.0, 1.5f64..4.0),
        ),
        (any::<bool>(), 1u64..=3, 1u32..=64, 0usize..5, any::<bool>()),
        (600.0f64..3_600.0, 0.0f64..0.1),
    )
        .prop_map(
            |(
                (seed, users, requests_per_day),
                (input, output),
                (h100, servers, max_batch, dispatch, fast_forward),
                (horizon_s, warmup_share),
            )| Llm {
                seed,
                users,
                requests_per_day,
                input,
                output,
                h100,
                servers,
                max_batch,
                dispatch,
                fast_forward,
                horizon_s,
                warmup_share,
            },
        )
}

fn tokens((lognormal, median, ratio): (bool, f64, f64)) -> String {
    if lognormal {
        format!(
            "{{ distribution = \"lognormal\", median = {median}, p99 = {} }}",
            median * ratio
        )
    } else {
        format!("{{ distribution = \"fixed\", value = {} }}", median.round())
    }
}

impl Llm {
    fn toml(&self, service_level: &str) -> String {
        let dispatch = DISPATCH
            .get(self.dispatch)
            .copied()
            .unwrap_or("least_kv_load");
        format!(
            "seed = {seed}\nhorizon_s = {h}\nwarmup_s = {w}\nreplications = 2\n\
             [users]\ncount = {users}\nrequests_per_day = {rpd}\n\
             [model]\nname = \"gpt_oss_20b\"\nquantisation = \"mxfp4\"\n\
             [requests]\ninput_tokens = {input}\noutput_tokens = {output}\n\
             [[placements]]\nname = \"desktop\"\nkind = \"dedicated\"\ndevice = \"framework_desktop\"\n\
             [[placements]]\nname = \"pool\"\nkind = \"pooled\"\ndevice = \"{device}\"\nservers = {servers}\n\
             max_batch = {mb}\ndispatch = \"{dispatch}\"\nfast_forward = {ff}\n\
             {service_level}",
            seed = self.seed,
            h = self.horizon_s,
            w = self.horizon_s * self.warmup_share,
            users = self.users,
            rpd = self.requests_per_day,
            input = tokens(self.input),
            output = tokens(self.output),
            device = if self.h100 { "h100_sxm" } else { "framework_desktop" },
            servers = self.servers,
            mb = self.max_batch,
            ff = self.fast_forward,
        )
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn llm_scenarios_keep_their_invariants(l in llm()) {
        let s = scenario(&l.toml(""));
        let r = run_and_check_threads(&s);
        assert_conservation(&r.replications);
        assert_utilisation(&r.replications);
        assert_all_finite(&r);
        for row in &r.replications {
            if let Some(kv) = f64_of(row, "kv_occupancy_share") {
                prop_assert!((0.0..=1.0).contains(&kv), "kv_occupancy_share {} in {:?}", kv, row);
            }
            let max_batch = u64_of(row, "max_batch") as f64;
            if let Some(b) = f64_of(row, "mean_batch") {
                prop_assert!(b > 0.0 && b <= max_batch + 1e-9, "mean_batch {} above max_batch {}", b, max_batch);
                let fill = f64_of(row, "batch_fill_share");
                prop_assert!(fill.is_some_and(|f| (f - b / max_batch).abs() < 1e-12), "batch_fill_share {:?} is not mean_batch / max_batch in {:?}", fill, row);
            }
            if let Some(sat) = f64_of(row, "saturation_share") {
                prop_assert!(sat >= 0.0, "saturation_share {} in {:?}", sat, row);
            }
        }
        // The fleet's own high-water marks, from one replication.
        let server = s.placements[1].llm().unwrap();
        match run_replication(&s, 1, 0).measured {
            Measured::Llm(_, usage) => {
                prop_assert!(usage.max_kv_reserved_tokens <= server.kv_budget_tokens,
                    "KV reserved {} above the budget {}", usage.max_kv_reserved_tokens, server.kv_budget_tokens);
                prop_assert!(usage.max_batch_seen <= server.max_batch,
                    "batch {} above max_batch {}", usage.max_batch_seen, server.max_batch);
            }
            Measured::Fcfs(_) => prop_assert!(false, "an LLM placement measured FCFS"),
        }
    }
}

// ------------------------------------------------------------------ sizing

proptest! {
    // Each case sizes the pool twice (a handful of probes each).
    #![proptest_config(ProptestConfig { cases: 10, .. ProptestConfig::default() })]

    /// Every probe of the looser search simulates exactly what the tighter
    /// one does at the same fleet size (same seeds, same horizon), and a
    /// looser bound accepts everything a tighter one accepts; so the least
    /// fleet meeting the looser level is never larger.
    #[test]
    fn looser_service_level_never_needs_more_servers(
        l in llm(),
        tpot in 0.005f64..0.1,
        ttft in 0.2f64..5.0,
        loosen_tpot in 1.0f64..3.0,
        loosen_ttft in 1.0f64..3.0,
    ) {
        let l = Llm {
            // Small batches and more users than the run property, so that
            // more than one server is often needed.
            max_batch: 1 + l.max_batch % 8,
            requests_per_day: l.requests_per_day * 4.0,
            ..l
        };
        let level = |tpot: f64, ttft: f64| {
            format!(
                "[service_level]\ntpot_p99_s = {tpot}\nttft_p99_s = {ttft}\n\
                 [sizing]\nmin_measured_requests = 400\nmax_servers = 12\n"
            )
        };
        let tight = scenario(&l.toml(&level(tpot, ttft)));
        let loose = scenario(&l.toml(&level(tpot * loosen_tpot, ttft * loosen_ttft)));
        let users = tight.users;
        let a = size_pool(&tight, 1, users);
        let b = size_pool(&loose, 1, users);
        println!(
            "sizing: tight {:?} ({} probes), loose {:?} ({} probes)",
            a.servers, a.probes.len(), b.servers, b.probes.len()
        );
        let probes = |z: &sharesim::sizing::PoolSizing| {
            z.probes.iter().map(|p| (p.servers, p.meets)).collect::<Vec<_>>()
        };
        if let Some(n) = a.servers {
            let m = b.servers;
            prop_assert!(
                m.is_some_and(|m| m <= n),
                "tight level needs {} servers, looser needs {:?} ({}); probes tight {:?} loose {:?}",
                n, m, b.reason, probes(&a), probes(&b)
            );
        }
    }
}

// ------------------------------------------------------------------ known bugs

/// Requests longer than the model's context (prompt + output above
/// `context_limit_tokens`, 131,072 for gpt-oss) must be refused on every
/// placement, as docs/results-schema.md says of `rejected_context_limit`.
const OVER_CONTEXT: &str = concat!(
    r#"
seed = 1
horizon_s = 3600
replications = 2
[users]
count = 10
requests_per_day = 200
[model]
name = "gpt_oss_20b"
quantisation = "mxfp4"
[requests]
input_tokens = { distribution = "lognormal", median = 100000, p99 = 150000 }
output_tokens = { distribution = "fixed", value = 20 }
"#,
    desktop_and_h100_pool!(),
    r#"servers = 4
[service_level]
attainment_share = 0.9
attainment_e2e_s = 600
"#
);

#[test]
fn every_placement_rejects_requests_beyond_the_context() {
    let s = scenario(OVER_CONTEXT);
    let r = run_scenario(&s);
    for p in ["desktop", "pool"] {
        let rows: Vec<&Row> = r
            .replications
            .iter()
            .filter(|row| matches!(get(row, "placement"), Some(Value::Str(n)) if n == p))
            .collect();
        let rejected: u64 = rows
            .iter()
            .map(|row| u64_of(row, "rejected_context_limit"))
            .sum();
        println!("{p}: {rejected} requests rejected for the context limit");
        assert!(rejected > 0, "{p} rejects no request beyond the context");
    }
}

/// With no warm-up every arrival is in the measurement window, so
/// `measured` (docs: "requests arriving inside the measurement window")
/// equals `arrived`, and a refused request cannot meet the attainment
/// bounds: `slo_attainment_share` is at most the share served.
#[test]
fn refused_requests_count_against_attainment() {
    let s = scenario(OVER_CONTEXT);
    let r = run_scenario(&s);
    for row in &r.replications {
        let (arrived, rejected) = (u64_of(row, "arrived"), u64_of(row, "rejected"));
        assert_eq!(u64_of(row, "measured"), arrived, "{row:?}");
        let served_share = (arrived - rejected) as f64 / arrived as f64;
        let attainment = f64_of(row, "slo_attainment_share").unwrap();
        assert!(
            attainment <= served_share + 1e-12,
            "attainment {attainment} above the served share {served_share}"
        );
    }
}
