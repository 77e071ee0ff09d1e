//! Sizing against theory: exact Erlang-C minima, a bounded monotone search,
//! the sharing factor of non-batching and batching servers, and infeasible
//! targets that end at once.

use sharesim::core::MmcWait;
use sharesim::results::{get, Row, Value};
use sharesim::scenario::Scenario;
use sharesim::sizing::{size_pool, size_scenario};

use crate::support::scenarios::desktop_and_h100_pool;
use crate::support::{num, scenario};

fn mmc(
    users: u64,
    rate_per_s: f64,
    service: &str,
    target: &str,
    reps: u32,
    horizon_s: f64,
) -> Scenario {
    scenario(&format!(
        "seed = 5\nhorizon_s = {horizon_s}\nwarmup_s = 500\nreplications = {reps}\n\
         [users]\ncount = {users}\nrequests_per_day = {rpd}\n\
         [service]\n{service}\n\
         [[placements]]\nname = \"local\"\nkind = \"dedicated\"\n\
         [[placements]]\nname = \"pool\"\nkind = \"pooled\"\nservers = 1\n\
         [service_level]\n{target}\n\
         [sizing]\nmin_measured_requests = 1000\n",
        rpd = rate_per_s * 86_400.0 / users as f64
    ))
}

const EXP: &str = "distribution = \"exponential\"\nmean_s = 1.0";

#[test]
fn erlang_c_minimum_for_p_wait_at_a_10() {
    // a = 10 Erlangs, P(wait > 0) <= 1 %: 19 servers (0.0079 at 19, 0.0159 at 18).
    let s = mmc(
        1000,
        10.0,
        EXP,
        "p_wait_above_s = 0\np_wait_above_share_max = 0.01",
        20,
        40_000.0,
    );
    let z = size_pool(&s, 1, 1000);
    assert_eq!(
        z.servers,
        Some(19),
        "probes: {:?}",
        z.probes
            .iter()
            .map(|p| (p.servers, p.meets))
            .collect::<Vec<_>>()
    );
    assert!(z.probes.len() as f64 <= 2.0 * 19f64.log2() + 4.0);
    assert!((MmcWait::new(19, 10.0, 1.0).p_wait - 0.0079).abs() < 1e-4);
    // The instant estimate is exact Erlang-C here: error 0.
    assert_eq!(z.estimate, z.servers);
}

#[test]
fn erlang_c_minimum_for_wait_tail_at_a_100() {
    // a = 100, P(wait > 0.1 s) <= 1 %: 118 servers (0.0085 at 118, 0.0116 at 117).
    let s = mmc(
        1000,
        100.0,
        EXP,
        "p_wait_above_s = 0.1\np_wait_above_share_max = 0.01",
        20,
        10_000.0,
    );
    let z = size_pool(&s, 1, 1000);
    assert_eq!(z.servers, Some(118));
    assert!(z.probes.len() as f64 <= 2.0 * 118f64.log2() + 4.0);
    assert_eq!(
        z.estimate, z.servers,
        "the instant estimate is exact Erlang-C"
    );
}

#[test]
fn search_is_monotone_and_bounded_when_the_guess_is_far() {
    // Heavy-tailed service (lognormal, scv 4) and a response-time target: the
    // square-root-staffing guess is off; the answer must still be the least
    // fleet that meets, found in at most 2 log2(N) + 4 probes.
    let svc = "distribution = \"lognormal\"\nmean_s = 1.0\ncv = 2.0";
    let s = mmc(1000, 20.0, svc, "wait_p99_s = 0.05", 10, 20_000.0);
    let z = size_pool(&s, 1, 1000);
    let n = z.servers.expect("feasible");
    assert!(
        z.probes.len() as f64 <= 2.0 * (n as f64).log2() + 4.0,
        "{} probes for {n}",
        z.probes.len()
    );
    // Every probe below the answer failed, every probe at or above it met.
    for p in &z.probes {
        assert_eq!(
            p.meets,
            p.servers >= n,
            "probe at {} servers: meets = {}",
            p.servers,
            p.meets
        );
    }
    assert!(
        z.probes.iter().any(|p| p.servers == n - 1),
        "the answer's neighbour below was checked"
    );
}

fn factor(rows: &[Row], placement: &str, column: &str) -> Option<f64> {
    rows.iter()
        .find(|r| matches!(get(r, "placement"), Some(Value::Str(p)) if p == placement))
        .and_then(|r| get(r, column))
        .and_then(Value::as_f64)
}

#[test]
fn sharing_factor_of_non_batching_servers_follows_square_root_staffing() {
    // Users at 1 % duty on 1 s requests; SLO P(wait > 0.5 s) <= 5 %. The
    // devices factor should grow with users roughly like users / (a + b sqrt(a)).
    let mut last = 0.0;
    for users in [100u64, 1000, 10_000] {
        let a = users as f64 * 0.01;
        let s = mmc(
            users,
            a,
            EXP,
            "p_wait_above_s = 0.5\np_wait_above_share_max = 0.05",
            10,
            20_000.0,
        );
        let rows = size_scenario(&s).rows;
        let f = factor(&rows, "pool", "sharing_factor_devices").expect("both feasible");
        let servers = users as f64 / f;
        assert!(
            servers >= a && servers <= a + 3.0 * a.sqrt() + 2.0,
            "{users} users: {servers} servers for a = {a}"
        );
        assert!(f > last, "factor grows with users: {f} after {last}");
        last = f;
    }
    // Users who keep their device busy 90 % of the time gain little from sharing.
    let s = mmc(100, 90.0, EXP, "wait_p99_s = 60", 10, 20_000.0);
    let rows = size_scenario(&s).rows;
    let f = factor(&rows, "pool", "sharing_factor_devices").expect("both feasible");
    assert!(f > 0.9 && f < 1.3, "always-busy users: factor {f}");
}

#[test]
fn batching_keeps_the_factor_far_above_one_for_busy_users() {
    // Users keeping a 128 GB desktop busy half the time (agents, heavy use)
    // with gpt-oss-120b; an H100 batches their streams, so the memory factor
    // stays far above 1 even though the devices are busy.
    let s = scenario(concat!(
        r#"
seed = 2
horizon_h = 2
warmup_h = 0.25
replications = 4
[users]
count = 400
duty_cycle = 0.5
[model]
name = "gpt_oss_120b"
quantisation = "mxfp4"
[requests]
input_tokens = { distribution = "lognormal", median = 500, p99 = 2000 }
output_tokens = { distribution = "lognormal", median = 300, p99 = 1200 }
"#,
        desktop_and_h100_pool!(),
        r#"servers = 1
[service_level]
tpot_p99_s = 0.1
e2e_p99_s = 300
"#
    ));
    let rows = size_scenario(&s).rows;
    let mem = factor(&rows, "pool", "sharing_factor_memory").expect("both feasible");
    let capex = factor(&rows, "pool", "sharing_factor_capex").expect("both feasible");
    assert!(mem > 20.0, "memory factor {mem}");
    assert!(capex > 5.0, "capex factor {capex}");
}

#[test]
fn infeasible_tpot_ends_at_once_with_the_reason() {
    let s = scenario(concat!(
        r#"
seed = 2
horizon_h = 1
warmup_h = 0.1
replications = 2
[users]
count = 100
requests_per_day = 50
[model]
name = "llama_3_1_70b"
quantisation = "q4"
[requests]
input_tokens = { distribution = "fixed", value = 500 }
output_tokens = { distribution = "fixed", value = 200 }
"#,
        desktop_and_h100_pool!(),
        r#"tensor_parallel = 2
servers = 1
[service_level]
tpot_p99_s = 0.001
"#
    ));
    let started = std::time::Instant::now();
    let rows = size_scenario(&s).rows;
    for r in &rows {
        assert_eq!(get(r, "feasible"), Some(&Value::Bool(Some(false))));
        let Some(Value::Str(reason)) = get(r, "reason") else {
            panic!("no reason")
        };
        assert!(
            reason.contains("tpot_p99_s") && reason.contains("batch-1"),
            "{reason}"
        );
        assert_eq!(get(r, "probes"), Some(&Value::U64(0)));
    }
    assert!(started.elapsed().as_secs() < 10);
}

/// A pooled generic fleet of 2,000 users with `profile`, sized statically
/// and hour by hour.
fn elastic_scenario(profile: &str) -> String {
    format!(
        r#"
seed = 5
horizon_h = 24
warmup_h = 0.5
replications = 2
[users]
count = 2000
requests_per_day = 216
profile = "{profile}"
[service]
distribution = "exponential"
mean_s = 1.0
[[placements]]
name = "pool"
kind = "pooled"
servers = 1
[service_level]
wait_p99_s = 0.5
[sizing]
elastic = "hourly"
min_measured_requests = 5000
"#
    )
}

fn elastic_of(profile: &str) -> (Row, Vec<Row>) {
    let s = scenario(&elastic_scenario(profile));
    let r = size_scenario(&s);
    assert_eq!(r.elastic.len(), 24, "one row per hour");
    (r.rows[0].clone(), r.elastic)
}

#[test]
fn elastic_flat_profile_holds_the_static_fleet_every_hour() {
    let (row, hours) = elastic_of("flat");
    let fixed = num(&row, "servers_total");
    for h in &hours {
        assert_eq!(
            num(h, "servers_held"),
            fixed,
            "hour {}",
            num(h, "hour_of_day")
        );
    }
    assert_eq!(num(&row, "servers_peak"), fixed);
    assert_eq!(num(&row, "servers_mean"), fixed);
    assert_eq!(
        num(&row, "gpu_hours_per_day_hourly"),
        num(&row, "gpu_hours_per_day_static")
    );
    // A tie goes to the static fleet.
    assert_eq!(crate::support::text(&row, "elastic_policy"), "static");
}

#[test]
fn elastic_evening_peak_holds_fewer_servers_on_average_than_at_peak() {
    let (row, hours) = elastic_of("evening_peak");
    let held: Vec<f64> = hours.iter().map(|h| num(h, "servers_held")).collect();
    let peak = held.iter().cloned().fold(0.0, f64::max);
    let mean = held.iter().sum::<f64>() / 24.0;
    println!(
        "held by hour {held:?}; static {}",
        num(&row, "servers_total")
    );
    assert_eq!(num(&row, "servers_peak"), peak);
    assert!((num(&row, "servers_mean") - mean).abs() < 1e-9);
    assert!(mean < peak, "mean {mean} vs peak {peak}");
    // The busiest hour (20:00 UTC, weight 2.3) holds more than the quietest
    // (03:00, weight 0.1).
    assert!(held[20] > held[3], "{held:?}");
    // Servers follow the load: never fewer in a busier hour.
    let rate: Vec<f64> = hours.iter().map(|h| num(h, "request_rate_per_s")).collect();
    for a in 0..24 {
        for b in 0..24 {
            if rate[a] > rate[b] {
                assert!(held[a] >= held[b], "hours {a}, {b}: {held:?}");
            }
        }
    }
    // GPU-hours: the schedule's sum against 24 x the static fleet.
    assert!((num(&row, "gpu_hours_per_day_hourly") - held.iter().sum::<f64>()).abs() < 1e-9);
    assert!(num(&row, "gpu_hours_per_day_hourly") < num(&row, "gpu_hours_per_day_static"));
}
