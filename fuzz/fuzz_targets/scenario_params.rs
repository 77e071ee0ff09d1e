//! Structure-aware: the fuzz input chooses the parameters of a scenario
//! (users, load, arrivals, daily profile, time zones, service or LLM token
//! distributions, placements, dispatch, horizon, warm-up), rendered as TOML
//! the way a user writes it. Almost every input is then a valid scenario, so
//! the simulation itself is fuzzed: a valid, small scenario must run one
//! replication without panicking, with counts that add up, no NaN or
//! infinite value and utilisation and KV occupancy in [0, 1].
#![no_main]

use std::fmt::Write;
use std::path::Path;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use sharesim::scenario::Scenario;

#[path = "common.rs"]
mod common;
use common::{f, pick};

/// A positive number: mostly in a sensible range (a log-uniform draw),
/// sometimes any f64 the input spells (extremes, subnormals, zero).
fn num(u: &mut Unstructured, lo: f64, hi: f64) -> Result<f64> {
    if u.ratio(1, 16)? {
        return u.arbitrary::<f64>();
    }
    let t = u.int_in_range(0..=u16::MAX)? as f64 / u16::MAX as f64;
    Ok((lo.ln() + t * (hi.ln() - lo.ln())).exp())
}

fn service_dist(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0..=5)? {
        0 => format!(
            "distribution = \"exponential\"\nmean_s = {}",
            f(num(u, 1e-3, 1e3)?)
        ),
        1 => format!(
            "distribution = \"deterministic\"\nvalue_s = {}",
            f(num(u, 1e-3, 1e3)?)
        ),
        2 => format!(
            "distribution = \"lognormal\"\nmean_s = {}\ncv = {}",
            f(num(u, 1e-3, 1e3)?),
            f(num(u, 1e-3, 10.0)?)
        ),
        3 => {
            let m = num(u, 1e-3, 1e3)?;
            format!(
                "distribution = \"lognormal\"\nmedian_s = {}\np99_s = {}",
                f(m),
                f(m * num(u, 1.0001, 1e3)?)
            )
        }
        4 => format!(
            "distribution = \"gamma\"\nmean_s = {}\nshape = {}",
            f(num(u, 1e-3, 1e3)?),
            f(num(u, 1e-3, 100.0)?)
        ),
        _ => format!(
            "distribution = \"erlang\"\nmean_s = {}\nk = {}",
            f(num(u, 1e-3, 1e3)?),
            u.int_in_range(1..=50)?
        ),
    })
}

fn tokens(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0..=2)? {
        0 => format!(
            "{{ distribution = \"fixed\", value = {} }}",
            f(num(u, 1.0, 5_000.0)?)
        ),
        1 => {
            let m = num(u, 1.0, 3_000.0)?;
            format!(
                "{{ distribution = \"lognormal\", median = {}, p99 = {} }}",
                f(m),
                f(m * num(u, 1.0001, 50.0)?)
            )
        }
        _ => format!(
            "{{ distribution = \"lognormal\", mean = {}, cv = {} }}",
            f(num(u, 1.0, 3_000.0)?),
            f(num(u, 0.01, 5.0)?)
        ),
    })
}

/// The scenario an input stands for: horizon, seed and replications, then
/// `[users]`, the workload and the placements, each drawn in that order.
fn scenario_text(u: &mut Unstructured) -> Result<String> {
    let mut t = String::new();
    let horizon = num(u, 1.0, 2e6)?;
    let warmup = horizon * u.int_in_range(0..=99)? as f64 / 100.0;
    writeln!(t, "seed = {}", u.int_in_range(0..=u32::MAX)?).unwrap();
    writeln!(t, "horizon_s = {}\nwarmup_s = {}", f(horizon), f(warmup)).unwrap();
    writeln!(t, "replications = {}", u.int_in_range(1..=3)?).unwrap();
    let llm = u.arbitrary::<bool>()?;
    users_text(u, &mut t, llm)?;
    workload_text(u, &mut t, llm)?;
    placements_text(u, &mut t, llm)?;
    Ok(t)
}

/// `[users]`: count, arrivals (with their rate, sessions or agent gaps),
/// daily profile and time zones.
fn users_text(u: &mut Unstructured, t: &mut String, llm: bool) -> Result<()> {
    t.push_str("[users]\n");
    writeln!(t, "count = {}", u.int_in_range(1..=3_000)?).unwrap();
    let arrivals = pick(u, &["poisson", "sessions", "agent"])?;
    writeln!(t, "arrivals = \"{arrivals}\"").unwrap();
    match arrivals {
        "agent" => {
            writeln!(t, "agent_start_spread_s = {}", f(num(u, 1e-3, 1e5)?)).unwrap();
            writeln!(
                t,
                "agent_gap = {{ {} }}",
                service_dist(u)?.replace('\n', ", ")
            )
            .unwrap();
        }
        a => {
            if u.arbitrary::<bool>()? && !llm {
                writeln!(t, "duty_cycle = {}", f(num(u, 1e-6, 0.999)?)).unwrap();
            } else {
                writeln!(t, "requests_per_day = {}", f(num(u, 1e-3, 1e5)?)).unwrap();
            }
            if a == "sessions" {
                writeln!(t, "session_requests_mean = {}", f(num(u, 1.0, 50.0)?)).unwrap();
                if u.arbitrary::<bool>()? {
                    writeln!(
                        t,
                        "think_time = {{ {} }}",
                        service_dist(u)?.replace('\n', ", ")
                    )
                    .unwrap();
                }
            }
        }
    }
    match u.int_in_range(0..=3)? {
        0 => {}
        1 => writeln!(
            t,
            "profile = \"{}\"",
            pick(u, &["flat", "office_hours", "evening_peak"])?
        )
        .unwrap(),
        _ => {
            let w: Vec<String> = (0..24)
                .map(|_| u.int_in_range(0..=20u8).map(|x| x.to_string()))
                .collect::<Result<_>>()?;
            writeln!(t, "profile = [{}]", w.join(", ")).unwrap();
        }
    }
    if u.arbitrary::<bool>()? {
        let n = u.int_in_range(1..=4)?;
        let shares: Vec<u32> = (0..n)
            .map(|_| u.int_in_range(1..=10u32))
            .collect::<Result<_>>()?;
        let total: u32 = shares.iter().sum();
        let mut zones = Vec::new();
        let mut acc = 0.0;
        for (i, s) in shares.iter().enumerate() {
            // The last share closes the sum to exactly 1.
            let share = if i + 1 == shares.len() {
                1.0 - acc
            } else {
                *s as f64 / total as f64
            };
            acc += share;
            zones.push(format!(
                "{{ offset_h = {}, share = {} }}",
                u.int_in_range(-12..=14i32)?,
                f(share)
            ));
        }
        writeln!(t, "timezones = [{}]", zones.join(", ")).unwrap();
    }
    Ok(())
}

/// `[model]` and `[requests]` for an LLM scenario, else `[service]`.
fn workload_text(u: &mut Unstructured, t: &mut String, llm: bool) -> Result<()> {
    if llm {
        let model = pick(
            u,
            &[
                "gpt_oss_20b",
                "gpt_oss_120b",
                "llama_3_1_8b",
                "qwen3_30b_a3b",
            ],
        )?;
        let quant = match model {
            "gpt_oss_20b" | "gpt_oss_120b" => "mxfp4",
            _ => pick(u, &["q4", "fp8", "bf16"])?,
        };
        writeln!(t, "[model]\nname = \"{model}\"\nquantisation = \"{quant}\"").unwrap();
        writeln!(
            t,
            "[requests]\ninput_tokens = {}\noutput_tokens = {}",
            tokens(u)?,
            tokens(u)?
        )
        .unwrap();
    } else {
        writeln!(t, "[service]\n{}", service_dist(u)?).unwrap();
    }

    Ok(())
}

/// One to three `[[placements]]`, dedicated or pooled, with LLM servers'
/// devices and batching.
fn placements_text(u: &mut Unstructured, t: &mut String, llm: bool) -> Result<()> {
    let placements = u.int_in_range(1..=3)?;
    for i in 0..placements {
        writeln!(t, "[[placements]]\nname = \"p{i}\"").unwrap();
        let dedicated = u.arbitrary::<bool>()?;
        if dedicated {
            t.push_str("kind = \"dedicated\"\n");
        } else {
            writeln!(
                t,
                "kind = \"pooled\"\nservers = {}",
                u.int_in_range(1..=300)?
            )
            .unwrap();
            let mut d = vec![
                "central_queue",
                "round_robin",
                "join_shortest_queue",
                "power_of_two_choices",
            ];
            if llm {
                d.push("least_kv_load");
            }
            writeln!(t, "dispatch = \"{}\"", pick(u, &d)?).unwrap();
        }
        if llm {
            let device = pick(
                u,
                &[
                    "h100_sxm",
                    "framework_desktop",
                    "b200",
                    "rtx_5090",
                    "mac_studio_m3_ultra_512gb",
                ],
            )?;
            writeln!(t, "device = \"{device}\"").unwrap();
            writeln!(t, "network_rtt_s = {}", f(num(u, 1e-4, 1.0)?)).unwrap();
            if !dedicated {
                writeln!(t, "max_batch = {}", u.int_in_range(1..=512)?).unwrap();
                writeln!(t, "tensor_parallel = {}", pick(u, &["1", "2", "4", "8"])?).unwrap();
                writeln!(t, "fast_forward = {}", u.arbitrary::<bool>()?).unwrap();
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(text) = scenario_text(&mut u) else {
        return;
    };
    if std::env::var_os("SHARESIM_FUZZ_PRINT").is_some() {
        // Reproducing a crash: show the scenario the input stands for.
        eprintln!("--- scenario ---\n{text}--- end ---");
    }
    let path = Path::new("/nonexistent-sharesim-fuzz/params.toml");
    let Ok(mut s) = Scenario::from_toml_str(&text, path) else {
        return;
    };
    if common::small(&s) {
        common::run_and_check(&mut s);
    }
});
