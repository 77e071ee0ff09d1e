//! Trace replay and `fit-trace` against the shipped real traces (checked
//! against independent computations in this file and the figures of
//! `data/traces/README.md`), against a synthetic session trace
//! with known parameters, and against broken files (typed errors naming
//! file, line and column; exit code 2 through the CLI).

use std::collections::HashMap;
use std::path::Path;

use proptest::prelude::*;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp, Geometric, LogNormal};

use sharesim::workload::{
    ColumnMapping, ReplayOptions, TimeUnit, Trace, TraceError, TraceFormat, TraceRequest,
};
use sharesim::{core::Z_P90, workload::fit_trace};

use crate::support::{repo_file, sharesim, write};

const AZURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/traces/azure_llm_2023_conv.csv"
);
const RAGPULSE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/traces/ragpulse_sessions.csv"
);

/// Nearest-rank quantile, written again here.
fn rank<T: Copy + Ord>(v: &[T], q: f64) -> T {
    let mut s = v.to_vec();
    s.sort();
    let r = (q * s.len() as f64).ceil() as usize;
    s[r.max(1) - 1]
}

/// Within a relative tolerance, or within half a unit of the last digit the
/// README prints (`0.3 %` stands for anything in [0.25 %, 0.35 %)).
fn near_readme(measured: f64, readme: f64, rel: f64, half_unit: f64) -> bool {
    (measured - readme).abs() <= (rel * readme).max(half_unit)
}

// ------------------------------------------------------------------ Azure

/// The Azure trace parsed independently: (100 ns ticks since the first row,
/// input, output).
fn azure_independent() -> Vec<(i64, u32, u32)> {
    let text = std::fs::read_to_string(AZURE).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap().trim_end(),
        "TIMESTAMP,ContextTokens,GeneratedTokens"
    );
    let mut month = None;
    let mut rows: Vec<(i64, u32, u32)> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.trim_end().split(',').collect();
            assert_eq!(f.len(), 3, "{l}");
            let (date, time) = f[0].split_once(' ').unwrap();
            // One month only, so day-of-month arithmetic is enough.
            let ym = &date[..7];
            assert_eq!(*month.get_or_insert(ym.to_string()), ym);
            let day: i64 = date[8..10].parse().unwrap();
            let (hms, frac) = time.split_once('.').unwrap();
            assert_eq!(frac.len(), 7);
            let p: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
            let secs = ((day * 24 + p[0]) * 60 + p[1]) * 60 + p[2];
            let ticks = secs * 10_000_000 + frac.parse::<i64>().unwrap();
            (ticks, f[1].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect();
    let t0 = rows.iter().map(|r| r.0).min().unwrap();
    for r in &mut rows {
        r.0 -= t0;
    }
    rows
}

#[test]
fn azure_replay_reproduces_the_trace() {
    let trace = Trace::load(
        Path::new(AZURE),
        &TraceFormat::Azure,
        &ReplayOptions {
            require_sorted: true,
            ..ReplayOptions::default()
        },
    )
    .unwrap();
    let s = trace.stats();
    let rows = azure_independent();
    let n = rows.len();
    let inputs: Vec<u32> = rows.iter().map(|r| r.1).collect();
    let outputs: Vec<u32> = rows.iter().map(|r| r.2).collect();
    let mean = |v: &[u32]| v.iter().map(|&x| x as u64).sum::<u64>() as f64 / v.len() as f64;
    println!(
        "azure: {} requests over {:.1} s ({:.3} /s, inter-arrival CV {:.3}); input mean {:.2} p50 {} p99 {}; output mean {:.2} p50 {} p99 {}; {} minutes",
        s.requests,
        s.duration_s,
        s.arrival_rate_per_s.unwrap(),
        s.interarrival_cv.unwrap(),
        s.input_mean,
        s.input_p50,
        s.input_p99,
        s.output_mean,
        s.output_p50,
        s.output_p99,
        s.per_minute_counts.len()
    );
    // The file holds 19,366 data rows (19,367 lines with the header and no
    // final line break). The README's 19,365 is `wc -l` minus the header,
    // which misses the unterminated last line.
    assert_eq!(n, 19_366);
    assert_eq!(s.requests, n);
    // Exact equality with the independent computation...
    assert_eq!(s.input_mean, mean(&inputs));
    assert_eq!(s.output_mean, mean(&outputs));
    assert_eq!(s.input_p50, rank(&inputs, 0.5));
    assert_eq!(s.input_p99, rank(&inputs, 0.99));
    assert_eq!(s.output_p50, rank(&outputs, 0.5));
    assert_eq!(s.output_p99, rank(&outputs, 0.99));
    // ...and with the README's rounded figures.
    assert_eq!(s.input_mean.round(), 1155.0);
    assert_eq!((s.input_p50, s.input_p99), (1020, 4142));
    assert_eq!(s.output_mean.round(), 211.0);
    assert_eq!((s.output_p50, s.output_p99), (129, 601));
    assert!(near_readme(s.interarrival_cv.unwrap(), 1.1, 0.0, 0.05));

    // Arrivals per minute, counted in integer 100 ns ticks.
    let minutes = (rows.iter().map(|r| r.0).max().unwrap() / 600_000_000) as usize + 1;
    let mut counts = vec![0u64; minutes];
    for r in &rows {
        counts[(r.0 / 600_000_000) as usize] += 1;
    }
    assert_eq!(s.per_minute_counts, counts);
    assert_eq!(s.per_minute_counts.iter().sum::<u64>(), n as u64);

    // Arrivals themselves, in file order (the file is sorted).
    for (req, row) in trace.requests.iter().zip(&rows) {
        assert!((req.arrival_s - row.0 as f64 * 1e-7).abs() < 1e-6);
        assert_eq!((req.input_tokens, req.output_tokens), (row.1, row.2));
        assert_eq!((req.user, req.session), (None, None));
    }
    // The clock: the first request is at 18:15:46.68.
    let clock = trace.clock.unwrap();
    assert!((clock.time_of_day_s(0.0) - (18.0 * 3600.0 + 15.0 * 60.0 + 46.68059)).abs() < 1e-6);
}

#[test]
fn time_scale_and_offset_move_arrivals_not_the_clock() {
    let base = Trace::load(
        Path::new(AZURE),
        &TraceFormat::Azure,
        &ReplayOptions::default(),
    )
    .unwrap();
    let opts = ReplayOptions {
        time_scale: 0.5,
        time_offset_s: 100.0,
        ..ReplayOptions::default()
    };
    let fast = Trace::load(Path::new(AZURE), &TraceFormat::Azure, &opts).unwrap();
    for (a, b) in base.requests.iter().zip(&fast.requests) {
        assert!((b.arrival_s - (100.0 + 0.5 * a.arrival_s)).abs() < 1e-9);
    }
    let (fa, fb) = (fit_trace(&base), fit_trace(&fast));
    assert_eq!(fa.hourly_share, fb.hourly_share);
    let ra = fa.arrival_rate_per_s.unwrap();
    assert!((fb.arrival_rate_per_s.unwrap() - 2.0 * ra).abs() < 1e-9 * ra);
    // Only 18:00 and 19:00 are covered; no profile from one hour of data.
    let share = fa.hourly_share.unwrap();
    assert!((share[18] + share[19] - 1.0).abs() < 1e-12);
    assert!(fa.hourly_profile.is_none());
    let bad = ReplayOptions {
        time_scale: 0.0,
        ..ReplayOptions::default()
    };
    assert!(matches!(
        Trace::load(Path::new(AZURE), &TraceFormat::Azure, &bad),
        Err(TraceError::BadOption {
            option: "time_scale",
            ..
        })
    ));
    let negative = ReplayOptions {
        time_offset_s: -10.0,
        ..ReplayOptions::default()
    };
    let e = Trace::load(Path::new(AZURE), &TraceFormat::Azure, &negative).unwrap_err();
    assert_eq!((e.line(), e.column()), (Some(2), Some("TIMESTAMP")));
}

// ------------------------------------------------------------------ RAGPulse

#[test]
fn ragpulse_fit_recovers_sessions_think_time_and_diurnal_shape() {
    let format = TraceFormat::detect_file(Path::new(RAGPULSE)).unwrap();
    assert_eq!(format, TraceFormat::RagPulse);
    let trace = Trace::load(Path::new(RAGPULSE), &format, &ReplayOptions::default()).unwrap();
    let fit = fit_trace(&trace);
    println!("{}", fit.describe());
    println!("{}", fit.to_scenario_snippet());
    let s = fit.sessions.clone().unwrap();
    let share = fit.hourly_share.unwrap();
    let (p50, p90) = (s.think_p50_s.unwrap(), s.think_p90_s.unwrap());

    // README figures: 7,106 requests, 3,990 sessions, 1.78 requests per
    // session (59 % single), think p50 40 s / p90 300 s, 0.3 % at 04:00 and
    // 6.8 % at 15:00, ~1,015 requests per day. Within 5 % (or half a unit
    // of the README's last printed digit, for the rounded shares).
    assert_eq!((fit.requests, s.sessions), (7106, 3990));
    assert!(near_readme(s.requests_per_session_mean, 1.78, 0.05, 0.005));
    assert!(near_readme(s.single_request_share, 0.59, 0.05, 0.005));
    assert!(near_readme(p50, 40.0, 0.05, 0.5));
    assert!(near_readme(p90, 300.0, 0.05, 5.0));
    assert!(
        near_readme(share[4] * 100.0, 0.3, 0.05, 0.05),
        "{}",
        share[4]
    );
    assert!(
        near_readme(share[15] * 100.0, 6.8, 0.05, 0.05),
        "{}",
        share[15]
    );
    assert!(near_readme(
        fit.requests_per_day().unwrap(),
        1015.0,
        0.05,
        0.5
    ));
    // 04:00 is the quietest hour and 15:00 the busiest, as the README says.
    let argmin = (0..24)
        .min_by(|&a, &b| share[a].total_cmp(&share[b]))
        .unwrap();
    let argmax = (0..24)
        .max_by(|&a, &b| share[a].total_cmp(&share[b]))
        .unwrap();
    assert_eq!((argmin, argmax), (4, 15));

    // Exactly equal to an independent computation from the file.
    let text = std::fs::read_to_string(RAGPULSE).unwrap();
    let mut hours = [0u64; 24];
    let mut per_session: HashMap<&str, Vec<f64>> = HashMap::new();
    let mut n = 0;
    for l in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = l.split(',').collect();
        let t: f64 = f[0].parse().unwrap();
        hours[(((t / 3600.0) + 12.0) % 24.0) as usize] += 1;
        per_session.entry(f[1]).or_default().push(t);
        n += 1;
    }
    for h in 0..24 {
        assert_eq!(share[h], hours[h] as f64 / n as f64);
    }
    let mut gaps: Vec<i64> = Vec::new();
    for v in per_session.values_mut() {
        v.sort_by(f64::total_cmp);
        gaps.extend(v.windows(2).map(|w| (w[1] - w[0]) as i64));
    }
    assert_eq!(p50, rank(&gaps, 0.5) as f64);
    assert_eq!(p90, rank(&gaps, 0.9) as f64);
    assert_eq!(
        s.requests_per_session_mean,
        n as f64 / per_session.len() as f64
    );
    let singles = per_session.values().filter(|v| v.len() == 1).count();
    assert_eq!(
        s.single_request_share,
        singles as f64 / per_session.len() as f64
    );

    // The profile: 24 rates with mean 1, same shape as the shares.
    let profile = fit.hourly_profile.unwrap();
    assert!((profile.iter().sum::<f64>() - 24.0).abs() < 1e-9);
    for h in 0..24 {
        assert!((profile[h] / 24.0 - share[h]).abs() < 0.003, "hour {h}");
    }
}

#[test]
fn snippet_is_accepted_by_the_scenario_format() {
    let scenario_path = &repo_file("scenarios/llm-chat.toml");
    let base: toml::Table = std::fs::read_to_string(scenario_path)
        .unwrap()
        .parse()
        .unwrap();
    for (path, format) in [
        (RAGPULSE, TraceFormat::RagPulse),
        (AZURE, TraceFormat::Azure),
    ] {
        let trace = Trace::load(Path::new(path), &format, &ReplayOptions::default()).unwrap();
        let fit = fit_trace(&trace);
        let snippet: toml::Table = fit.to_scenario_snippet().parse().unwrap();
        let mut merged = base.clone();
        let users = merged["users"].as_table_mut().unwrap();
        users.remove("profile");
        for (k, v) in snippet["users"].as_table().unwrap() {
            users.insert(k.clone(), v.clone());
        }
        merged.insert("requests".into(), snippet["requests"].clone());
        assert_eq!(snippet.len(), 2, "only [users] and [requests]");
        let text = toml::to_string(&merged).unwrap();
        let s = sharesim::scenario::Scenario::from_toml_str(&text, scenario_path);
        assert!(s.is_ok(), "{path}: {:?}\n{text}", s.err());
        let has_profile = snippet["users"].as_table().unwrap().contains_key("profile");
        assert_eq!(has_profile, format == TraceFormat::RagPulse);
        let req = snippet["requests"]["input_tokens"].as_table().unwrap();
        assert_eq!(req["distribution"].as_str(), Some("lognormal"));
        if format == TraceFormat::Azure {
            // The same numbers llm-chat.toml quotes from the README.
            assert_eq!(snippet["requests"], base["requests"]);
        }
    }
}

// ------------------------------------------------------------------ synthetic

/// Sessions with geometric lengths (mean 2.5) and lognormal think times
/// (p50 30 s, p90 200 s), starting as a Poisson stream over a week.
#[test]
fn synthetic_session_trace_is_recovered_within_sampling_error() {
    let (sessions, mean_len, think_p50, think_p90) = (5000usize, 2.5_f64, 30.0_f64, 200.0_f64);
    let p = 1.0 / mean_len;
    let sigma = (think_p90 / think_p50).ln() / Z_P90;
    let mut rng = sharesim::core::SimRng::seed_from_u64(20_250_101);
    let geometric = Geometric::new(p).unwrap();
    let think = LogNormal::new(f64::ln(think_p50), sigma).unwrap();
    let starts = Exp::new(sessions as f64 / (7.0 * 86_400.0)).unwrap();
    let mut rows: Vec<(f64, String)> = Vec::new();
    let mut t = 0.0;
    for i in 0..sessions {
        t += starts.sample(&mut rng);
        let k = 1 + geometric.sample(&mut rng);
        let id = format!("{}-s{i:05}", 1_700_000_000_000u64 + i as u64);
        let mut at = t;
        for j in 0..k {
            if j > 0 {
                at += think.sample(&mut rng);
            }
            rows.push((at, id.clone()));
        }
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut csv = String::from("timestamp_s,session_id,input_length,output_length\n");
    for (i, (t, id)) in rows.iter().enumerate() {
        csv.push_str(&format!("{t:.6},{id},{},{}\n", 500 + i % 97, 50 + i % 13));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "synthetic.csv", csv.as_bytes());
    let trace = Trace::load(
        &path,
        &TraceFormat::RagPulse,
        &ReplayOptions {
            require_sorted: true,
            ..ReplayOptions::default()
        },
    )
    .unwrap();
    let fit = fit_trace(&trace);
    let s = fit.sessions.unwrap();
    let n_gaps = s.think_gaps as f64;
    // Standard errors: the mean of a geometric (variance (1-p)/p^2); a share
    // (binomial); a sample quantile q of a lognormal,
    // sqrt(q(1-q)/n) / f(x_q) with f(x_q) = phi(z_q) / (x_q sigma).
    let se_mean = ((1.0 - p) / (p * p) / sessions as f64).sqrt();
    let se_single = (p * (1.0 - p) / sessions as f64).sqrt();
    let phi = |z: f64| (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let se_quantile = |q: f64, z: f64, x: f64| (q * (1.0 - q) / n_gaps).sqrt() * x * sigma / phi(z);
    let se_p50 = se_quantile(0.5, 0.0, think_p50);
    let se_p90 = se_quantile(0.9, Z_P90, think_p90);
    let l = s.think_lognormal.unwrap();
    println!(
        "synthetic: {} sessions, {} gaps; requests/session {:.4} (true {mean_len}, se {se_mean:.4}); single {:.4} (true {p}, se {se_single:.4}); think p50 {:.2} s (true {think_p50}, se {se_p50:.2}); p90 {:.1} s (true {think_p90}, se {se_p90:.1}); sigma {:.4} (true {sigma:.4})",
        s.sessions,
        s.think_gaps,
        s.requests_per_session_mean,
        s.single_request_share,
        s.think_p50_s.unwrap(),
        s.think_p90_s.unwrap(),
        l.sigma
    );
    assert_eq!(s.sessions, sessions);
    assert_eq!(s.requests, rows.len());
    assert!((s.requests_per_session_mean - mean_len).abs() < 4.0 * se_mean);
    assert!((s.geometric_p - p).abs() < 4.0 * se_mean / (mean_len * mean_len));
    assert!((s.single_request_share - p).abs() < 4.0 * se_single);
    assert!((s.think_p50_s.unwrap() - think_p50).abs() < 4.0 * se_p50);
    assert!((s.think_p90_s.unwrap() - think_p90).abs() < 4.0 * se_p90);
    // sigma = ln(p90/p50)/z: delta method on the two quantiles (upper bound,
    // ignoring their positive correlation).
    let se_sigma = ((se_p50 / think_p50).powi(2) + (se_p90 / think_p90).powi(2)).sqrt() / Z_P90;
    assert!((l.sigma - sigma).abs() < 4.0 * se_sigma);
}

// ------------------------------------------------------------------ user assignment, Parquet

#[test]
fn users_are_assigned_round_robin_by_session() {
    let mut trace = Trace::load(
        Path::new(RAGPULSE),
        &TraceFormat::RagPulse,
        &ReplayOptions::default(),
    )
    .unwrap();
    trace.assign_users(100).unwrap();
    let mut user_of_session: HashMap<u64, u64> = HashMap::new();
    let mut sessions_per_user = vec![0u32; 100];
    for r in &trace.requests {
        let u = r.user.unwrap();
        assert!(u < 100);
        let s = r.session.unwrap();
        match user_of_session.get(&s) {
            Some(&prev) => assert_eq!(prev, u, "a session stays with one user"),
            None => {
                user_of_session.insert(s, u);
                sessions_per_user[u as usize] += 1;
            }
        }
    }
    // 3,990 sessions over 100 users: 39 or 40 each.
    assert!(sessions_per_user.iter().all(|&c| c == 39 || c == 40));
    // Without sessions: plain round robin in arrival order.
    let mut azure = Trace::load(
        Path::new(AZURE),
        &TraceFormat::Azure,
        &ReplayOptions::default(),
    )
    .unwrap();
    azure.assign_users(7).unwrap();
    assert!(azure
        .requests
        .iter()
        .enumerate()
        .all(|(i, r)| r.user == Some(i as u64 % 7)));
    assert!(matches!(
        azure.assign_users(0),
        Err(TraceError::BadOption { .. })
    ));
}

#[test]
fn parquet_traces_load_like_csv() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    // RAGPulse with numeric times, text sessions.
    let csv = Trace::load(
        Path::new(RAGPULSE),
        &TraceFormat::RagPulse,
        &ReplayOptions::default(),
    )
    .unwrap();
    let text = std::fs::read_to_string(RAGPULSE).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let col_f = |i: usize| {
        rows.iter()
            .map(|r| r[i].parse::<f64>().unwrap())
            .collect::<Vec<f64>>()
    };
    let col_i = |i: usize| {
        rows.iter()
            .map(|r| r[i].parse::<i64>().unwrap())
            .collect::<Vec<i64>>()
    };
    let mut df = DataFrame::new(
        rows.len(),
        vec![
            Column::new("timestamp_s".into(), col_f(0)),
            Column::new(
                "session_id".into(),
                rows.iter()
                    .map(|r| r[1].to_string())
                    .collect::<Vec<String>>(),
            ),
            Column::new("input_length".into(), col_i(2)),
            Column::new("output_length".into(), col_i(3)),
        ],
    )
    .unwrap();
    let p = dir.path().join("ragpulse.parquet");
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .finish(&mut df)
        .unwrap();
    assert_eq!(TraceFormat::detect_file(&p).unwrap(), TraceFormat::RagPulse);
    let pq = Trace::load(&p, &TraceFormat::RagPulse, &ReplayOptions::default()).unwrap();
    assert_eq!(pq.requests, csv.requests);
    assert_eq!(pq.clock, csv.clock);

    // Azure with its TIMESTAMP as text.
    let azure = Trace::load(
        Path::new(AZURE),
        &TraceFormat::Azure,
        &ReplayOptions::default(),
    )
    .unwrap();
    let text = std::fs::read_to_string(AZURE).unwrap();
    let arows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.trim_end().split(',').collect())
        .collect();
    let tokens = |i: usize| {
        arows
            .iter()
            .map(|r| r[i].parse::<u32>().unwrap())
            .collect::<Vec<u32>>()
    };
    let mut df = DataFrame::new(
        arows.len(),
        vec![
            Column::new(
                "TIMESTAMP".into(),
                arows
                    .iter()
                    .map(|r| r[0].to_string())
                    .collect::<Vec<String>>(),
            ),
            Column::new("ContextTokens".into(), tokens(1)),
            Column::new("GeneratedTokens".into(), tokens(2)),
        ],
    )
    .unwrap();
    let p = dir.path().join("azure.parquet");
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .finish(&mut df)
        .unwrap();
    let pq = Trace::load(&p, &TraceFormat::Azure, &ReplayOptions::default()).unwrap();
    assert_eq!(pq.requests, azure.requests);
    assert_eq!(pq.clock, azure.clock);
    // A missing column in Parquet is reported like in CSV.
    let e = Trace::load(&p, &TraceFormat::RagPulse, &ReplayOptions::default()).unwrap_err();
    assert_eq!((e.line(), e.column()), (Some(1), Some("timestamp_s")));
}

/// A Parquet file written by pyarrow 26 (`pq.write_table`, no compression)
/// with TIMESTAMP as a Parquet timestamp (microseconds) and two rows.
const TIMESTAMP_PARQUET_HEX: &[&str] = &[
    "504152311504152015204c150415001200000e9b3c02490a0600e1707e02490a06001500151215122c15041510150615",
    "061c0000000200000004010103021504152015204c1504150012000076010000000000008c0100000000000015001512",
    "15122c15041510150615061c0000000200000004010103021504152015204c150415001200002c000000000000006d00",
    "0000000000001500151215122c15041510150615061c0000000200000004010103021504194c35001806736368656d61",
    "15060015042502180954494d455354414d5025144c8c121c2c000000000015042502180d436f6e74657874546f6b656e",
    "730015042502180f47656e657261746564546f6b656e73001604191c193c26001c1504193500061019180954494d4553",
    "54414d50150016041674167426442608292c15041500150200150015101502003c29061926000400000026001c150419",
    "3500061019180d436f6e74657874546f6b656e73150016041674167426b801267c292c15041500150200150015101502",
    "003c29061926000400000026001c1504193500061019180f47656e657261746564546f6b656e73150016041674167426",
    "ac0226f001292c15041500150200150015101502003c29061926000400000016dc021604260816dc0200282070617271",
    "7565742d6370702d6172726f772076657273696f6e2032362e302e31193c1c00001c00001c0000005601000050415231",
];

#[test]
fn unreadable_parquet_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let hex: String = TIMESTAMP_PARQUET_HEX.concat();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let p = write(dir.path(), "timestamps.parquet", &bytes);
    // The header is readable (the schema alone)...
    assert_eq!(TraceFormat::detect_file(&p).unwrap(), TraceFormat::Azure);
    // ...but this build of polars has no date-time types: a clear error.
    let e = Trace::load(&p, &TraceFormat::Azure, &ReplayOptions::default()).unwrap_err();
    println!("{e}");
    assert_eq!((e.line(), e.column()), (Some(1), Some("TIMESTAMP")));
    assert!(e.to_string().contains("store the time as text"));
    // Not Parquet at all.
    let p = write(dir.path(), "junk.parquet", b"PAR1 this is not parquet PAR1");
    let e = Trace::load(&p, &TraceFormat::Azure, &ReplayOptions::default()).unwrap_err();
    assert!(matches!(e, TraceError::Parquet { .. }), "{e}");
    let e = TraceFormat::detect_file(&p).unwrap_err();
    assert!(matches!(e, TraceError::Parquet { .. }), "{e}");
}

#[test]
fn custom_mapping_with_users_and_quoted_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "custom.csv",
        b"\xef\xbb\xbfms,who,\"prompt, tokens\",out,note\r\n\
          2000,alice,10,1,\"hello, world\"\r\n\
          1000,bob,20,2,\"say \"\"hi\"\"\"\r\n\
          \r\n\
          2000,alice,30,3,\"two\nlines\"\r\n",
    );
    let format = TraceFormat::Custom(ColumnMapping {
        time: "ms".into(),
        time_unit: TimeUnit::Milliseconds,
        input_tokens: "prompt, tokens".into(),
        output_tokens: "out".into(),
        user: Some("who".into()),
        session: None,
        block_hashes: None,
        block_tokens: 512,
    });
    assert_eq!(TraceFormat::detect(&["ms", "who"]), None);
    let opts = ReplayOptions {
        start_hour_of_day: Some(9.0),
        ..ReplayOptions::default()
    };
    let t = Trace::load(&path, &format, &opts).unwrap();
    let got: Vec<(f64, u32)> = t
        .requests
        .iter()
        .map(|r| (r.arrival_s, r.input_tokens))
        .collect();
    // Sorted by time, stable for equal times.
    assert_eq!(got, vec![(1.0, 20), (2.0, 10), (2.0, 30)]);
    assert_eq!(t.requests[1].user, t.requests[2].user);
    assert_ne!(t.requests[0].user, t.requests[1].user);
    assert_eq!(t.clock.unwrap().hour_of_day(1.0), 9);
    let s = t.stats();
    assert_eq!((s.users, s.sessions), (Some(2), None));
    // Numeric ids are their value.
    let path = write(
        dir.path(),
        "ids.csv",
        b"timestamp_s,session_id,input_length,output_length\n0,17,1,1\n",
    );
    let t = Trace::load(&path, &TraceFormat::RagPulse, &ReplayOptions::default()).unwrap();
    assert_eq!(t.requests[0].session, Some(17));
}

// ------------------------------------------------------------------ bad traces

const RAG_HEADER: &str = "timestamp_s,session_id,input_length,output_length\n";

/// (what is wrong, file bytes, require_sorted, line, column)
fn bad_traces() -> Vec<(&'static str, Vec<u8>, bool, usize, &'static str)> {
    let h = RAG_HEADER;
    vec![
        (
            "missing column",
            b"timestamp_s,session_id,input_len,output_length\n0,a,1,2\n".to_vec(),
            false,
            1,
            "input_length",
        ),
        (
            "non-numeric cell",
            format!("{h}0,a,10,5\n3,a,ten,5\n").into_bytes(),
            false,
            3,
            "input_length",
        ),
        (
            "time going backwards",
            format!("{h}0,a,1,1\n5,b,1,1\n3,a,1,1\n").into_bytes(),
            true,
            4,
            "timestamp_s",
        ),
        (
            "ragged row (short)",
            format!("{h}0,a,1,1\n1,b,1\n").into_bytes(),
            false,
            3,
            "output_length",
        ),
        (
            "ragged row (long)",
            format!("{h}0,a,1,1,9\n").into_bytes(),
            false,
            2,
            "field 5",
        ),
        (
            "negative value",
            format!("{h}0,a,1,-4\n").into_bytes(),
            false,
            2,
            "output_length",
        ),
        (
            "negative time",
            format!("{h}-1,a,1,4\n").into_bytes(),
            false,
            2,
            "timestamp_s",
        ),
        (
            "non-finite value",
            format!("{h}0,a,NaN,4\n").into_bytes(),
            false,
            2,
            "input_length",
        ),
        (
            "infinite time",
            format!("{h}inf,a,1,4\n").into_bytes(),
            false,
            2,
            "timestamp_s",
        ),
        (
            "fractional tokens",
            format!("{h}0,a,1.5,4\n").into_bytes(),
            false,
            2,
            "input_length",
        ),
        (
            "too many tokens",
            format!("{h}0,a,1,5000000000\n").into_bytes(),
            false,
            2,
            "output_length",
        ),
        (
            "empty cell",
            format!("{h}0,a,,4\n").into_bytes(),
            false,
            2,
            "input_length",
        ),
        (
            "non-UTF-8 bytes",
            [h.as_bytes(), b"0,a,1\xff\xfe,4\n"].concat(),
            false,
            2,
            "input_length",
        ),
        (
            "unclosed quote",
            format!("{h}0,\"a,1,4\n1,b,1,1\n").into_bytes(),
            false,
            2,
            "session_id",
        ),
        ("empty file", Vec::new(), false, 1, "input_length"),
        (
            "header only",
            h.as_bytes().to_vec(),
            false,
            2,
            "input_length",
        ),
        (
            "blank lines only after the header",
            format!("{h}\n  \n").into_bytes(),
            false,
            2,
            "input_length",
        ),
    ]
}

#[test]
fn bad_traces_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (what, bytes, sorted, line, column)) in bad_traces().into_iter().enumerate() {
        let path = write(dir.path(), &format!("bad{i}.csv"), &bytes);
        let opts = ReplayOptions {
            require_sorted: sorted,
            ..ReplayOptions::default()
        };
        let e = Trace::load(&path, &TraceFormat::RagPulse, &opts).unwrap_err();
        let msg = e.to_string();
        println!("{what}: {msg}");
        assert_eq!(e.file(), Some(path.as_path()), "{what}");
        assert_eq!(e.line(), Some(line), "{what}: {msg}");
        assert!(msg.contains(&path.display().to_string()), "{what}: {msg}");
        assert!(msg.contains(&format!("line {line}")), "{what}: {msg}");
        assert!(msg.contains(column), "{what}: {msg}");
        if !matches!(e, TraceError::Empty { .. }) {
            assert!(e.column().unwrap().contains(column), "{what}: {msg}");
        }
    }
    // Sorting is only enforced on request.
    let path = write(
        dir.path(),
        "unsorted.csv",
        format!("{RAG_HEADER}5,a,1,1\n3,b,2,1\n").as_bytes(),
    );
    let t = Trace::load(&path, &TraceFormat::RagPulse, &ReplayOptions::default()).unwrap();
    assert_eq!(t.requests[0].arrival_s, 3.0);
    // Bad date-times in the Azure layout.
    let path = write(
        dir.path(),
        "azure-bad.csv",
        b"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.1,1,1\n2023-11-16 25:00:00,1,1\n",
    );
    let e = Trace::load(&path, &TraceFormat::Azure, &ReplayOptions::default()).unwrap_err();
    assert_eq!((e.line(), e.column()), (Some(3), Some("TIMESTAMP")));
    // A header that matches no preset.
    let path = write(dir.path(), "unknown.csv", b"a,b\n1,2\n");
    let e = TraceFormat::detect_file(&path).unwrap_err();
    assert!(matches!(e, TraceError::UnknownFormat { .. }));
    assert!(e.to_string().contains("`a`, `b`"));
    // A file that does not exist.
    let e = Trace::load(
        &dir.path().join("nope.csv"),
        &TraceFormat::Azure,
        &ReplayOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, TraceError::Read { .. }));
}

#[test]
fn cli_fit_trace_exits_2_on_a_bad_trace() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "bad.csv",
        format!("{RAG_HEADER}0,a,10,5\n3,a,ten,5\n").as_bytes(),
    );
    let out = sharesim().arg("fit-trace").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&path.display().to_string()));
    assert!(stderr.contains("line 3"));
    assert!(stderr.contains("input_length"));
    // A header no preset matches, with --format auto (the default).
    let path = write(dir.path(), "odd.csv", b"t,in,out\n0,1,1\n");
    let out = sharesim().arg("fit-trace").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
    // A wrong --format value is a clap usage error (also exit 2).
    let out = sharesim()
        .args(["fit-trace", "x.csv", "--format", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cli_fit_trace_prints_and_writes_the_snippet() {
    let dir = tempfile::tempdir().unwrap();
    let snippet_path = dir.path().join("ragpulse-fit.toml");
    let out = sharesim()
        .args(["fit-trace", RAGPULSE, "--format", "ragpulse", "--out"])
        .arg(&snippet_path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let written = std::fs::read_to_string(&snippet_path).unwrap();
    assert!(stdout.contains(&written));
    assert!(stdout.contains("sessions: 3990"));
    assert!(written.contains("profile = ["));
    assert!(written.contains("# Sessions, from the trace's session column: mean 1.78 requests"));
    assert!(written.contains("think p50 40 s"));
    // Sessions are scenario keys: the snippet sets them.
    assert!(written.contains("arrivals = \"sessions\"\nsession_requests_mean = 1.781\n"));
    assert!(written.contains("median_s = 40.0, p90_s = 302.0"));
    // Written atomically: no temporary file left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // A folder that does not exist is bad input.
    let out = sharesim()
        .args(["fit-trace", AZURE, "--out"])
        .arg(dir.path().join("no/such/dir/x.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

// ------------------------------------------------------------------ robustness

fn load_all_formats(path: &Path) {
    for format in [TraceFormat::Azure, TraceFormat::RagPulse] {
        for require_sorted in [false, true] {
            let opts = ReplayOptions {
                require_sorted,
                ..ReplayOptions::default()
            };
            if let Ok(t) = Trace::load(path, &format, &opts) {
                let _ = t.stats();
                let _ = fit_trace(&t).to_scenario_snippet();
            }
        }
    }
    let _ = TraceFormat::detect_file(path);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let dir = tempfile::tempdir().unwrap();
        load_all_formats(&write(dir.path(), "fuzz.csv", &bytes));
    }

    #[test]
    fn csv_like_text_never_panics(body in "[0-9a-e,\"\r\n .:T+-]{0,300}", azure in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let header = if azure { "TIMESTAMP,ContextTokens,GeneratedTokens\n" } else { RAG_HEADER };
        load_all_formats(&write(dir.path(), "fuzz.csv", format!("{header}{body}").as_bytes()));
    }
}

#[test]
fn empty_in_memory_trace_has_zero_stats() {
    let t = Trace::from_requests(Vec::<TraceRequest>::new(), "none", None);
    let s = t.stats();
    assert_eq!(
        (s.requests, s.input_p99, s.per_minute_counts.len()),
        (0, 0, 0)
    );
    let f = fit_trace(&t);
    assert!(f.sessions.is_none() && f.hourly_share.is_none());
    let _ = f.describe();
    let _ = f.to_scenario_snippet();
}
