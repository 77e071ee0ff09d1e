//! Structure-aware, for population mixes: the fuzz input chooses a small
//! scenario with 1 to 3 `[[classes]]` (shares summing to 1, sometimes an
//! empty class; each with its own arrivals (poisson, sessions, agents),
//! load, profile, time zones, rate spread and workload: inherited generic
//! `[service]`, its own generic or speech `service` with `task`, or an LLM
//! `model` + `requests` with its own `service_level`), 1 to 4 placements
//! serving subsets of the classes (`serves`), `[[hybrids]]` whose parts
//! split the classes, a service level and `[sizing]`, rendered as TOML the
//! way a user writes it. Most inputs are valid scenarios.
//!
//! A valid scenario must keep every pooled placement's pool compositions
//! (`sizing::pool_types`) summing to the pool size; when it is small enough,
//! `run_scenario` and `size_scenario` must not panic, every replication
//! row's counts add up, a placement's class rows add up to its measured
//! requests, and no number in any result table is NaN or infinite.
//!
//! `SHARESIM_FUZZ_PRINT=1` prints the scenario an input stands for (and why
//! it was refused or skipped); `SHARESIM_FUZZ_STATS=1` prints, every 1,000
//! inputs, how many were valid, run and sized.
#![no_main]

use std::fmt::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use sharesim::run::{run_scenario, RunResults};
use sharesim::scenario::{PlacementKind, Scenario};
use sharesim::sizing::{
    part_pool_users, pool_types, probe_horizon_s, size_scenario, SizingResults,
};

#[path = "common.rs"]
mod common;
use common::invariants::{
    assert_all_finite, assert_class_rows_add_up, assert_counts_add_up, assert_finite,
};
use common::{f, pick};

/// Most expected requests of one replication of the whole scenario.
const MAX_RUN_REQUESTS: f64 = 20_000.0;
/// Most estimated simulated requests of the whole sizing.
const MAX_SIZING_REQUESTS: f64 = 400_000.0;

// ------------------------------------------------------------ helpers

/// A positive number: mostly log-uniform in [lo, hi], rarely any f64 the
/// input spells (extremes, subnormals, zero, NaN).
fn num(u: &mut Unstructured, lo: f64, hi: f64) -> Result<f64> {
    if rarely(u, 1, 64)? {
        return u.arbitrary::<f64>();
    }
    let t = u.int_in_range(0..=u16::MAX)? as f64 / u16::MAX as f64;
    Ok((lo.ln() + t * (hi.ln() - lo.ln())).exp())
}

/// True about n times in d; false when the input is used up (`ratio` is
/// true then), so short inputs take the common, valid path.
fn rarely(u: &mut Unstructured, n: u32, d: u32) -> Result<bool> {
    Ok(!u.ratio(d - n, d)?)
}

/// A distribution of seconds with mean in about [lo, hi], as the inside
/// of an inline table.
fn seconds_dist(u: &mut Unstructured, lo: f64, hi: f64) -> Result<String> {
    Ok(match u.int_in_range(0..=5)? {
        0 => format!(
            "distribution = \"exponential\", mean_s = {}",
            f(num(u, lo, hi)?)
        ),
        1 => format!(
            "distribution = \"deterministic\", value_s = {}",
            f(num(u, lo, hi)?)
        ),
        2 => format!(
            "distribution = \"lognormal\", mean_s = {}, cv = {}",
            f(num(u, lo, hi)?),
            f(num(u, 1e-2, 5.0)?)
        ),
        3 => {
            let m = num(u, lo, hi)?;
            format!(
                "distribution = \"lognormal\", median_s = {}, p99_s = {}",
                f(m),
                f(m * num(u, 1.0001, 50.0)?)
            )
        }
        4 => format!(
            "distribution = \"gamma\", mean_s = {}, shape = {}",
            f(num(u, lo, hi)?),
            f(num(u, 0.05, 50.0)?)
        ),
        _ => format!(
            "distribution = \"erlang\", mean_s = {}, k = {}",
            f(num(u, lo, hi)?),
            u.int_in_range(1..=20)?
        ),
    })
}

/// A token-count distribution, as an inline table.
fn tokens(u: &mut Unstructured, hi: f64) -> Result<String> {
    Ok(match u.int_in_range(0..=2)? {
        0 => format!(
            "{{ distribution = \"fixed\", value = {} }}",
            f(num(u, 1.0, hi)?)
        ),
        1 => {
            let m = num(u, 1.0, hi / 4.0)?;
            format!(
                "{{ distribution = \"lognormal\", median = {}, p99 = {} }}",
                f(m),
                f(m * num(u, 1.0001, 8.0)?)
            )
        }
        _ => format!(
            "{{ distribution = \"lognormal\", mean = {}, cv = {} }}",
            f(num(u, 1.0, hi / 2.0)?),
            f(num(u, 0.01, 2.0)?)
        ),
    })
}

fn profile(u: &mut Unstructured) -> Result<String> {
    Ok(if u.arbitrary::<bool>()? {
        format!(
            "\"{}\"",
            pick(u, &["flat", "office_hours", "evening_peak"])?
        )
    } else {
        let w: Vec<String> = (0..24)
            .map(|_| u.int_in_range(0..=20u8).map(|x| x.to_string()))
            .collect::<Result<_>>()?;
        format!("[{}]", w.join(", "))
    })
}

fn timezones(u: &mut Unstructured) -> Result<String> {
    let n = u.int_in_range(1..=3)?;
    let weights: Vec<u32> = (0..n)
        .map(|_| u.int_in_range(1..=10u32))
        .collect::<Result<_>>()?;
    let total: u32 = weights.iter().sum();
    let mut zones = Vec::new();
    let mut acc = 0.0;
    for (i, w) in weights.iter().enumerate() {
        // The last share closes the sum to exactly 1.
        let share = if i + 1 == weights.len() {
            1.0 - acc
        } else {
            *w as f64 / total as f64
        };
        acc += share;
        zones.push(format!(
            "{{ offset_h = {}, share = {} }}",
            u.int_in_range(-12..=14i32)?,
            f(share)
        ));
    }
    Ok(format!("[{}]", zones.join(", ")))
}

// ---------------------------------------------------------- generator

/// What a class's requests are.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Work {
    /// The top-level `[service]`.
    Inherit,
    /// Its own generic `service`.
    Generic,
    /// A speech `task` with `service` in audio seconds.
    Speech(&'static str),
    /// gpt-oss-20b with its own token counts.
    Llm,
}

impl Work {
    fn llm(self) -> bool {
        self == Work::Llm
    }
}

/// The scenario an input stands for, drawn in file order: the classes'
/// kinds, the header and `[users]`, the `[[classes]]`, which placements
/// serve which classes, the `[[placements]]`, `[[hybrids]]`, and the service
/// level and `[sizing]`.
fn scenario_text(u: &mut Unstructured) -> Result<String> {
    let mut t = String::new();
    let (works, arrivals, top_service) = class_kinds(u)?;
    let any_agent = arrivals.contains(&Some("agent"));
    let any_generic = works.iter().any(|w| !w.llm());
    let top_rate = header_text(u, &mut t, any_agent, top_service)?;
    classes_text(u, &mut t, &works, &arrivals, top_rate)?;
    let (p_llm, serves) = placement_serves(u, &works)?;
    placements_text(u, &mut t, &works, &p_llm, &serves)?;
    hybrids_text(u, &mut t, works.len(), &serves)?;
    sizing_text(u, &mut t, any_generic)?;
    Ok(t)
}

/// Each class's workload and arrivals, and whether there is a top-level
/// `[service]`.
type ClassKinds = (Vec<Work>, Vec<Option<&'static str>>, bool);

/// One to three classes: each one's workload and arrivals (`None`: inherit
/// `[users]`), and whether there is a top-level `[service]`.
fn class_kinds(u: &mut Unstructured) -> Result<ClassKinds> {
    let n_classes = u.int_in_range(1..=3usize)?;
    let top_service = u.arbitrary::<bool>()?;
    let mut works = Vec::with_capacity(n_classes);
    let mut arrivals = Vec::with_capacity(n_classes);
    for _ in 0..n_classes {
        works.push(match u.int_in_range(0..=4)? {
            0 if top_service => Work::Inherit,
            0 | 1 => Work::Generic,
            2 => Work::Speech(pick(u, &["speech_to_text", "text_to_speech"])?),
            _ => Work::Llm,
        });
        // None: inherit `[users]` (poisson by default).
        arrivals.push(match u.int_in_range(0..=4)? {
            0 | 1 => None,
            2 => Some("poisson"),
            3 => Some("sessions"),
            _ => Some("agent"),
        });
    }
    Ok((works, arrivals, top_service))
}

/// Seed, horizon, warm-up, replications, `[users]` and the top-level
/// `[service]`; whether `[users]` has a `requests_per_day`.
fn header_text(
    u: &mut Unstructured,
    t: &mut String,
    any_agent: bool,
    top_service: bool,
) -> Result<bool> {
    // Agents loop: keep their runs short.
    let horizon = if any_agent {
        u.int_in_range(600..=3600u32)?
    } else {
        u.int_in_range(600..=20_000u32)?
    } as f64;
    let warmup = (horizon * u.int_in_range(0..=90u32)? as f64 / 100.0).floor();
    writeln!(t, "seed = {}", u.int_in_range(0..=u32::MAX)?).unwrap();
    writeln!(t, "horizon_s = {}\nwarmup_s = {}", f(horizon), f(warmup)).unwrap();
    writeln!(t, "replications = {}", u.int_in_range(1..=2)?).unwrap();

    t.push_str("\n[users]\n");
    writeln!(t, "count = {}", u.int_in_range(2..=400u32)?).unwrap();
    // An agent class would inherit `requests_per_day` (and be refused).
    let top_rate = !any_agent && u.arbitrary::<bool>()?;
    if top_rate {
        writeln!(t, "requests_per_day = {}", f(num(u, 0.1, 1000.0)?)).unwrap();
    }
    if u.ratio(1, 4)? {
        writeln!(t, "profile = {}", profile(u)?).unwrap();
    }
    if top_service {
        writeln!(
            t,
            "\n[service]\n{}",
            seconds_dist(u, 1e-2, 100.0)?.replace(", ", "\n")
        )
        .unwrap();
    }
    Ok(top_rate)
}

/// The `[[classes]]`: shares summing to 1, arrivals, load, profile, time
/// zones, rate spread and workload of each.
fn classes_text(
    u: &mut Unstructured,
    t: &mut String,
    works: &[Work],
    arrivals: &[Option<&'static str>],
    top_rate: bool,
) -> Result<()> {
    let n_classes = works.len();
    // Shares: multiples of 1/total, the last closing the sum to exactly 1;
    // sometimes 0 for a class that is not the last.
    let weights: Vec<u32> = (0..n_classes)
        .map(|i| {
            if i + 1 < n_classes && rarely(u, 1, 10)? {
                Ok(0)
            } else {
                u.int_in_range(1..=10u32)
            }
        })
        .collect::<Result<_>>()?;
    let total: u32 = weights.iter().sum();
    let llm_target = if u.ratio(3, 4)? {
        1000.0
    } else {
        num(u, 0.5, 1000.0)?
    };
    let mut acc = 0.0;
    for c in 0..n_classes {
        let share = if c + 1 == n_classes {
            1.0 - acc
        } else {
            weights[c] as f64 / total as f64
        };
        acc += share;
        writeln!(t, "\n[[classes]]\nname = \"c{c}\"\nshare = {}", f(share)).unwrap();
        let agent = arrivals[c] == Some("agent");
        if let Some(a) = arrivals[c] {
            writeln!(t, "arrivals = \"{a}\"").unwrap();
        }
        match arrivals[c] {
            Some("agent") => {
                // Mean gaps of at least a second.
                if u.ratio(3, 4)? {
                    writeln!(
                        t,
                        "agent_gap = {{ distribution = \"exponential\", mean_s = {} }}",
                        f(num(u, 1.0, 3600.0)?)
                    )
                    .unwrap();
                } else {
                    writeln!(t, "agent_gap = {{ {} }}", seconds_dist(u, 1.0, 3600.0)?).unwrap();
                }
                if u.ratio(1, 3)? {
                    writeln!(t, "agent_start_spread_s = {}", f(num(u, 1.0, 3600.0)?)).unwrap();
                }
            }
            Some("sessions") => {
                if u.ratio(1, 2)? {
                    writeln!(t, "session_requests_mean = {}", f(num(u, 1.0, 20.0)?)).unwrap();
                }
                if u.ratio(1, 3)? {
                    writeln!(t, "think_time = {{ {} }}", seconds_dist(u, 1.0, 600.0)?).unwrap();
                }
            }
            _ => {}
        }
        if !agent && (!top_rate || u.arbitrary::<bool>()?) {
            writeln!(t, "requests_per_day = {}", f(num(u, 0.1, 1000.0)?)).unwrap();
        }
        if u.ratio(1, 3)? {
            writeln!(t, "profile = {}", profile(u)?).unwrap();
        }
        if u.ratio(1, 4)? {
            writeln!(t, "timezones = {}", timezones(u)?).unwrap();
        }
        if !agent && u.ratio(1, 4)? {
            let cv = u.int_in_range(0..=300u32)? as f64 / 100.0;
            writeln!(t, "requests_per_day_cv = {}", f(cv)).unwrap();
        }
        match works[c] {
            Work::Inherit => {}
            Work::Generic => {
                writeln!(t, "service = {{ {} }}", seconds_dist(u, 1e-2, 100.0)?).unwrap()
            }
            Work::Speech(task) => {
                writeln!(t, "task = \"{task}\"").unwrap();
                writeln!(t, "service = {{ {} }}", seconds_dist(u, 1.0, 120.0)?).unwrap();
            }
            Work::Llm => {
                t.push_str("model = { name = \"gpt_oss_20b\", quantisation = \"mxfp4\" }\n");
                writeln!(
                    t,
                    "requests = {{ input_tokens = {}, output_tokens = {} }}",
                    tokens(u, 4000.0)?,
                    tokens(u, 1000.0)?
                )
                .unwrap();
                writeln!(t, "service_level = {{ ttft_p99_s = {} }}", f(llm_target)).unwrap();
            }
        }
    }
    Ok(())
}

/// Which placements there are (`true`: LLM) and the classes each serves.
fn placement_serves(u: &mut Unstructured, works: &[Work]) -> Result<(Vec<bool>, Vec<Vec<usize>>)> {
    let n_classes = works.len();
    // Placements: each serves classes of one kind (generic or LLM); every
    // class has a home placement of its kind.
    let kinds: Vec<bool> = {
        let mut k: Vec<bool> = works.iter().map(|w| w.llm()).collect();
        k.sort();
        k.dedup();
        k
    };
    let n_placements = u.int_in_range(1..=4usize)?.max(kinds.len());
    let mut p_llm: Vec<bool> = (0..n_placements)
        .map(|_| u.choose(&kinds).copied())
        .collect::<Result<_>>()?;
    // Every kind present gets a placement.
    for (i, k) in kinds.iter().enumerate() {
        if !p_llm.contains(k) {
            p_llm[i] = *k;
        }
    }
    let mut serves: Vec<Vec<usize>> = vec![Vec::new(); n_placements];
    for c in 0..n_classes {
        let homes: Vec<usize> = (0..n_placements)
            .filter(|&j| p_llm[j] == works[c].llm())
            .collect();
        let j = *u.choose(&homes)?;
        serves[j].push(c);
    }
    for j in 0..n_placements {
        let same: Vec<usize> = (0..n_classes)
            .filter(|&c| works[c].llm() == p_llm[j])
            .collect();
        for &c in &same {
            if !serves[j].contains(&c) && u.ratio(1, 3)? {
                serves[j].push(c);
            }
        }
        if serves[j].is_empty() {
            serves[j].push(*u.choose(&same)?);
        }
        // Rarely, a class of the other kind (refused: one model per server).
        if rarely(u, 1, 50)? {
            serves[j].push(u.choose_index(n_classes)?);
        }
        serves[j].sort();
        serves[j].dedup();
    }
    Ok((p_llm, serves))
}

/// The `[[placements]]`: kind, servers, dispatch, device and the classes
/// served (`serves` left out, sometimes, when a placement serves them all).
fn placements_text(
    u: &mut Unstructured,
    t: &mut String,
    works: &[Work],
    p_llm: &[bool],
    serves: &[Vec<usize>],
) -> Result<()> {
    let (n_classes, n_placements) = (works.len(), p_llm.len());
    let mut explicit = vec![true; n_placements];
    for j in 0..n_placements {
        if serves[j].len() == n_classes && u.arbitrary::<bool>()? {
            explicit[j] = false;
        }
    }
    let mut pooled = vec![false; n_placements];
    for j in 0..n_placements {
        writeln!(t, "\n[[placements]]\nname = \"p{j}\"").unwrap();
        pooled[j] = u.arbitrary::<bool>()?;
        if pooled[j] {
            writeln!(
                t,
                "kind = \"pooled\"\nservers = {}",
                u.int_in_range(1..=50u32)?
            )
            .unwrap();
            if u.arbitrary::<bool>()? {
                let mut d = vec![
                    "central_queue",
                    "round_robin",
                    "join_shortest_queue",
                    "power_of_two_choices",
                ];
                if p_llm[j] {
                    d.push("least_kv_load");
                }
                writeln!(t, "dispatch = \"{}\"", pick(u, &d)?).unwrap();
            }
        } else {
            t.push_str("kind = \"dedicated\"\n");
        }
        if p_llm[j] {
            let device = pick(u, &["h100_sxm", "b200", "framework_desktop"])?;
            writeln!(t, "device = \"{device}\"").unwrap();
            if u.ratio(1, 3)? {
                writeln!(t, "network_rtt_s = {}", f(num(u, 1e-4, 1.0)?)).unwrap();
            }
            if pooled[j] && u.ratio(1, 3)? {
                writeln!(t, "max_batch = {}", u.int_in_range(1..=256)?).unwrap();
            }
        } else {
            let speech = serves[j]
                .iter()
                .any(|&c| matches!(works[c], Work::Speech(_)));
            // Speech needs a device (its real-time factor) or a scale.
            match u.int_in_range(0..=3)? {
                0 if !speech => {}
                0 | 1 => writeln!(
                    t,
                    "device = \"{}\"",
                    pick(u, &["copilot_laptop_npu", "h100_sxm"])?
                )
                .unwrap(),
                2 => writeln!(t, "service_scale = {}", f(num(u, 1e-3, 2.0)?)).unwrap(),
                _ => writeln!(
                    t,
                    "device = \"{}\"\nservice_scale = {}",
                    pick(u, &["copilot_laptop_npu", "h100_sxm", "framework_desktop"])?,
                    f(num(u, 1e-3, 2.0)?)
                )
                .unwrap(),
            }
        }
        if explicit[j] {
            let names: Vec<String> = serves[j].iter().map(|c| format!("\"c{c}\"")).collect();
            writeln!(t, "serves = [{}]", names.join(", ")).unwrap();
        }
    }
    Ok(())
}

/// Up to two `[[hybrids]]`, each a set of at least two placements whose
/// classes split all classes.
fn hybrids_text(
    u: &mut Unstructured,
    t: &mut String,
    n_classes: usize,
    serves: &[Vec<usize>],
) -> Result<()> {
    let n_placements = serves.len();
    // Hybrids: sets of at least two placements whose classes split all classes.
    let mut splits = Vec::new();
    for mask in 1u32..(1 << n_placements) {
        if mask.count_ones() < 2 {
            continue;
        }
        let mut covered = vec![0; n_classes];
        for j in 0..n_placements {
            if mask & (1 << j) != 0 {
                for &c in &serves[j] {
                    covered[c] += 1;
                }
            }
        }
        if covered.iter().all(|&n| n == 1) {
            splits.push(mask);
        }
    }
    let n_hybrids = if splits.is_empty() {
        0
    } else {
        u.int_in_range(0..=2usize)?
    };
    for h in 0..n_hybrids {
        let mask = *u.choose(&splits)?;
        let parts: Vec<String> = (0..n_placements)
            .filter(|j| mask & (1 << j) != 0)
            .map(|j| format!("\"p{j}\""))
            .collect();
        writeln!(
            t,
            "\n[[hybrids]]\nname = \"h{h}\"\nparts = [{}]",
            parts.join(", ")
        )
        .unwrap();
    }
    Ok(())
}

/// The generic service level (when a class is generic) and `[sizing]`.
fn sizing_text(u: &mut Unstructured, t: &mut String, any_generic: bool) -> Result<()> {
    if any_generic {
        let target = if u.ratio(3, 4)? {
            1000.0
        } else {
            num(u, 0.5, 1000.0)?
        };
        writeln!(t, "\n[service_level]\nresponse_p99_s = {}", f(target)).unwrap();
    }
    t.push_str("\n[sizing]\n");
    writeln!(t, "pool_sizes = [{}, \"all\"]", u.int_in_range(1..=20u32)?).unwrap();
    writeln!(
        t,
        "min_measured_requests = {}",
        u.int_in_range(50..=500u32)?
    )
    .unwrap();
    t.push_str("max_servers = 64\n");
    if u.ratio(1, 4)? {
        t.push_str("dedicated_devices = [\"framework_desktop\", \"h100_sxm\"]\n");
    }
    Ok(())
}

// ------------------------------------------------------------- checks

/// Expected requests of one replication (follow-ups and agents included).
fn expected_requests(s: &Scenario) -> f64 {
    (0..s.classes.len())
        .map(|c| s.class_request_rate_per_s(c))
        .sum::<f64>()
        * s.horizon_s
}

/// Steps of the arrival process over a probe horizon: it walks the daily
/// profile's segments (up to about two an hour) even where no request falls.
fn segment_steps(horizon_s: f64) -> f64 {
    horizon_s / 1800.0
}

/// The horizon `sizing` gives a probe of `rate_per_s` requests a second that
/// needs `min_measured` requests over all replications.
fn probe_window_s(s: &Scenario, rate_per_s: f64, min_measured: u64) -> f64 {
    let reps = s.replications as f64;
    let window = if rate_per_s > 0.0 {
        (min_measured as f64 / (rate_per_s * reps)).max(s.horizon_s - s.warmup_s)
    } else {
        s.horizon_s - s.warmup_s
    };
    s.warmup_s + window
}

/// A rough count of the work `size_scenario` does: requests simulated plus
/// profile segments stepped, over every probe.
fn sizing_cost(s: &Scenario) -> f64 {
    let reps = s.replications as f64;
    let mm = s.sizing.min_measured_requests;
    let mut total = 0.0;
    for (i, p) in s.placements.iter().enumerate() {
        let v = s.view(i);
        match p.kind {
            PlacementKind::Dedicated => {
                let h = probe_horizon_s(&v, 0, v.users, mm);
                let rate = v.request_rate_process().mean_rate_per_s();
                let mut cost = rate * h * reps + segment_steps(h);
                // Then each class in up to 5 bands of request rates: the
                // lightest band is probed longest.
                for c in 0..v.classes.len() {
                    let mut m = v.class_rate_multipliers(c);
                    if m.is_empty() {
                        continue;
                    }
                    m.sort_by(f64::total_cmp);
                    let mean = m.iter().sum::<f64>() / m.len() as f64;
                    let low: f64 = m[..(m.len() / 5).max(1)].iter().sum();
                    let per_user = v.classes[c].requests_per_user_per_day / 86_400.0;
                    let band_rate = if mean > 0.0 {
                        per_user * low / mean
                    } else {
                        0.0
                    };
                    let hb = probe_window_s(&v, band_rate, mm);
                    let class_rate = v.class_request_rate_per_s(c);
                    cost += 5.0 * (mm as f64).max(class_rate * hb * reps) + 5.0 * segment_steps(hb);
                }
                // On each device alternative too.
                total += (1.0 + p.device_alternatives.len() as f64) * cost;
            }
            PlacementKind::Pooled { .. } => {
                for &k in &s.sizing.pool_sizes {
                    let ku = part_pool_users(k, v.users, s.users);
                    for (counts, _) in pool_types(&v, ku) {
                        let typed = if v.classes.len() > 1 {
                            v.with_class_users(&counts)
                        } else {
                            v.clone()
                        };
                        let h = probe_horizon_s(&typed, 0, ku, mm);
                        let ps = typed.probe(0, ku, None, h);
                        let rate = ps
                            .arrivals
                            .mean_rate_per_s()
                            .max(ps.request_rate_process().mean_rate_per_s());
                        // About ten probes, each needing up to 50 x servers requests.
                        total += 10.0 * ((rate * h * reps).max(3200.0) + segment_steps(h));
                    }
                }
            }
        }
        if !total.is_finite() || total > MAX_SIZING_REQUESTS {
            return f64::INFINITY;
        }
    }
    total
}

/// Every pooled placement's pool compositions hold k users, never more of a
/// class than it has, with shares summing to 1.
fn check_pool_types(s: &Scenario) {
    for (i, p) in s.placements.iter().enumerate() {
        if !matches!(p.kind, PlacementKind::Pooled { .. }) {
            continue;
        }
        let v = s.view(i);
        for k in 1..=v.users {
            let types = pool_types(&v, k);
            let mut share = 0.0;
            for (counts, w) in &types {
                assert_eq!(
                    counts.iter().map(|&n| n as usize).sum::<usize>(),
                    k,
                    "placement {}: pool of {k}: composition {counts:?} ({types:?})",
                    p.name
                );
                for (c, &n) in counts.iter().enumerate() {
                    assert!(
                        n <= v.class_users(c).1,
                        "placement {}: pool of {k}: {n} users of class {c} ({types:?})",
                        p.name
                    );
                }
                assert!(*w > 0.0 && w.is_finite(), "share {w} in {types:?}");
                share += w;
            }
            assert!(
                (share - 1.0).abs() < 1e-6,
                "placement {}: pool of {k}: shares sum to {share} ({types:?})",
                p.name
            );
        }
    }
}

fn check_run(r: &RunResults) {
    for row in &r.replications {
        assert_counts_add_up(row);
    }
    assert_all_finite(r);
    assert_finite("classes", &r.classes);
    assert_class_rows_add_up(r);
}

fn check_sizing(z: &SizingResults) {
    assert_finite("sizing rows", &z.rows);
    assert_finite("probes", &z.probes);
    assert_finite("user_groups", &z.user_groups);
    assert_finite("device_choices", &z.device_choices);
}

static INPUTS: AtomicU64 = AtomicU64::new(0);
static VALID: AtomicU64 = AtomicU64::new(0);
static RAN: AtomicU64 = AtomicU64::new(0);
static SIZED: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(text) = scenario_text(&mut u) else {
        return;
    };
    let print = std::env::var_os("SHARESIM_FUZZ_PRINT").is_some();
    if print {
        // Reproducing a crash: show the scenario the input stands for.
        eprintln!("--- scenario ---\n{text}--- end ---");
    }
    let inputs = INPUTS.fetch_add(1, Ordering::Relaxed) + 1;
    if inputs % 1000 == 0 && std::env::var_os("SHARESIM_FUZZ_STATS").is_some() {
        eprintln!(
            "scenario_classes stats: {inputs} inputs, {} valid, {} run, {} sized",
            VALID.load(Ordering::Relaxed),
            RAN.load(Ordering::Relaxed),
            SIZED.load(Ordering::Relaxed)
        );
    }
    let s = match Scenario::from_toml_str(&text, Path::new("<fuzz>")) {
        Ok(s) => s,
        Err(e) => {
            if print {
                eprintln!("refused: {e}");
            }
            return;
        }
    };
    VALID.fetch_add(1, Ordering::Relaxed);
    check_pool_types(&s);
    let expected = expected_requests(&s);
    if !(expected.is_finite() && expected <= MAX_RUN_REQUESTS) {
        if print {
            eprintln!("skipped: {expected:.0} expected requests per replication");
        }
        return;
    }
    RAN.fetch_add(1, Ordering::Relaxed);
    let r = run_scenario(&s);
    check_run(&r);
    let cost = sizing_cost(&s);
    if cost > MAX_SIZING_REQUESTS {
        if print {
            eprintln!("run; sizing skipped (estimated {cost:.0} requests)");
        }
        return;
    }
    SIZED.fetch_add(1, Ordering::Relaxed);
    let z = size_scenario(&s);
    check_sizing(&z);
    if print {
        eprintln!(
            "run and sized: {} summary rows, {} sizing rows",
            r.summary.len(),
            z.rows.len()
        );
    }
});
