//! User classes, hybrids, speech classes and the per-user dedicated answer
//! (issues 4 and 5): a population mix sends each class's requests at its
//! own rate and profile; a placement serving one class sees exactly what
//! that class alone would send; hybrid rows add up their parts; speech
//! service times follow the catalogue's real-time factors; dedicated users
//! are judged by class and request-rate band, in line with M/M/1 theory;
//! the cheapest catalogue device is the cheapest that meets the service
//! level.

use sharesim::core::DAY_S;
use sharesim::results::{get, Row, Value};
use sharesim::run::run_scenario;
use sharesim::sizing::size_scenario;
use sharesim::workload::Source;

use crate::support::invariants::{assert_class_rows_add_up, assert_counts_add_up, assert_finite};
use crate::support::{assert_success, documented, read_parquet, scenario, write};
use crate::support::{flag, num, row_of, text};
use crate::support::{sharesim, sharesim_on};

#[test]
fn each_class_sends_its_own_load_and_profile() {
    // 3,000 users over 4 days: office workers (40 requests a day, office
    // hours, UTC+1) and night owls (10 a day, evening peak, UTC-5).
    let s = scenario(
        r#"
seed = 11
horizon_h = 96
replications = 3
[users]
count = 3000
[service]
distribution = "exponential"
mean_s = 1.0
[[classes]]
name = "office"
share = 0.7
requests_per_day = 40
profile = "office_hours"
timezones = [ { offset_h = 1, share = 1.0 } ]
[[classes]]
name = "owls"
share = 0.3
requests_per_day = 10
profile = "evening_peak"
timezones = [ { offset_h = -5, share = 1.0 } ]
[[placements]]
name = "pool"
kind = "pooled"
servers = 10
"#,
    );
    assert_eq!(s.class_users(0), (0, 2100));
    assert_eq!(s.class_users(1), (2100, 900));
    let days = 4.0;
    for rep in 0..3 {
        let mut src = Source::new(s.population(), rep);
        let mut counts = [0.0f64; 2];
        // Requests by local hour, per class.
        let mut by_hour = [[0.0f64; 24]; 2];
        while let Some((t, user)) = src.pop() {
            let c = src.last_class();
            assert_eq!(c, s.class_of_user(user), "class of user {user}");
            counts[c] += 1.0;
            let offset = if c == 0 { 1.0 } else { -5.0 };
            let local_h = (((t / 3600.0 + offset) % 24.0) + 24.0) % 24.0;
            by_hour[c][local_h as usize] += 1.0;
        }
        // The merged stream is Poisson: each class count has sd sqrt(mean).
        // 4.5 sd: a false alarm once in ~150,000 runs per check.
        for (c, (users, per_day)) in [(2100.0, 40.0), (900.0, 10.0)].iter().enumerate() {
            let expected = users * per_day * days;
            let z = (counts[c] - expected) / expected.sqrt();
            assert!(
                z.abs() < 4.5,
                "class {c}: {} vs {expected} (z {z:.2})",
                counts[c]
            );
        }
        // Profiles: each class's hourly counts follow its own profile.
        for (c, profile) in ["office_hours", "evening_peak"].iter().enumerate() {
            let d = sharesim::workload::DiurnalProfile::preset(profile).unwrap();
            let total: f64 = by_hour[c].iter().sum();
            for (h, got) in by_hour[c].iter().enumerate() {
                let expected = total * d.weight(h) / 24.0;
                let sd = (expected * (1.0 - d.weight(h) / 24.0)).sqrt().max(1.0);
                let z = (got - expected) / sd;
                assert!(
                    z.abs() < 5.0,
                    "class {c} hour {h}: {got} vs {expected:.0} (z {z:.2})"
                );
            }
        }
    }
    assert!((s.requests_per_user_per_day - (0.7 * 40.0 + 0.3 * 10.0)).abs() < 1e-9);
    let _ = DAY_S;
}

const TWO_CLASSES: &str = r#"
seed = 7
horizon_s = 20000
warmup_s = 1000
replications = 3
[users]
count = 1000
[service]
distribution = "lognormal"
mean_s = 30
cv = 1.5
[[classes]]
name = "light"
share = 0.6
requests_per_day = 20
arrivals = "sessions"
requests_per_day_cv = 1.0
[[classes]]
name = "heavy"
share = 0.4
requests_per_day = 200
[[placements]]
name = "light-pool"
kind = "pooled"
servers = 3
dispatch = "power_of_two_choices"
serves = ["light"]
[[placements]]
name = "heavy-pool"
kind = "pooled"
servers = 30
serves = ["heavy"]
[service_level]
wait_p99_s = 60
"#;

#[test]
fn a_placement_serving_one_class_equals_that_class_alone() {
    let mixed = scenario(TWO_CLASSES);
    // The light class on its own, as a single-class scenario.
    let alone = scenario(
        r#"
seed = 7
horizon_s = 20000
warmup_s = 1000
replications = 3
[users]
count = 600
requests_per_day = 20
arrivals = "sessions"
requests_per_day_cv = 1.0
[service]
distribution = "lognormal"
mean_s = 30
cv = 1.5
[[placements]]
name = "light-pool"
kind = "pooled"
servers = 3
dispatch = "power_of_two_choices"
[service_level]
wait_p99_s = 60
"#,
    );
    let a = run_scenario(&mixed);
    let b = run_scenario(&alone);
    let rows_a: Vec<&Row> = a
        .replications
        .iter()
        .filter(|r| text(r, "placement") == "light-pool")
        .collect();
    assert_eq!(rows_a.len(), b.replications.len());
    for (ra, rb) in rows_a.iter().zip(&b.replications) {
        let cells = |r: &Row| -> Vec<(String, Value)> {
            // Everything but the names: the class is "light" in one, "all" in the other.
            r.iter()
                .filter(|(n, _)| n != "scenario" && n != "classes")
                .cloned()
                .collect()
        };
        assert_eq!(
            cells(ra),
            cells(rb),
            "light-pool differs from the class alone"
        );
        assert!(num(ra, "measured") > 1000.0);
    }
    // The heavy pool saw the other class: far more requests per user.
    let heavy = row_of(&a.summary, "heavy-pool");
    let light = row_of(&a.summary, "light-pool");
    assert_eq!(num(heavy, "users"), 400.0);
    assert_eq!(num(light, "users"), 600.0);
    assert!(num(heavy, "arrived") / 400.0 > 5.0 * num(light, "arrived") / 600.0);
}

const SPEECH: &str = r#"
seed = 2
horizon_s = 7200
warmup_s = 600
replications = 2
[users]
count = 200
requests_per_day = 5
[[classes]]
name = "dictation"
share = 0.5
task = "speech_to_text"
service = { distribution = "deterministic", value_s = 10 }
[[classes]]
name = "read-aloud"
share = 0.5
task = "text_to_speech"
service = { distribution = "deterministic", value_s = 10 }
[[placements]]
name = "npu"
kind = "dedicated"
device = "copilot_laptop_npu"
[[placements]]
name = "npu-slow"
kind = "dedicated"
device = "copilot_laptop_npu"
service_scale = 0.2
serves = ["dictation"]
[[placements]]
name = "gpu-stt"
kind = "pooled"
device = "h100_sxm"
servers = 2
serves = ["dictation"]
[service_level]
response_p99_s = 5
"#;

#[test]
fn speech_times_come_from_the_catalogue_real_time_factors() {
    let s = scenario(SPEECH);
    let r = run_scenario(&s);
    // 10 s of audio: laptop NPU 0.1 x (1 s) to transcribe, 0.05 x (0.5 s)
    // to synthesise; an H100 0.005 x (0.05 s); service_scale 0.2 replaces
    // the factor (2 s). At 5 requests a day a device almost never queues,
    // so the median response is the service time (histogram error 0.05 %).
    let p50 = |name: &str| num(row_of(&r.summary, name), "response_p50_s");
    let close = |got: f64, want: f64| (got / want - 1.0).abs() < 2e-3;
    assert!(close(p50("gpu-stt"), 0.05), "{}", p50("gpu-stt"));
    assert!(close(p50("npu-slow"), 2.0), "{}", p50("npu-slow"));
    // The NPU serving both classes: half its requests take 1 s, half 0.5 s.
    let npu = row_of(&r.summary, "npu");
    let mean = num(npu, "response_mean_s");
    assert!((mean - 0.75).abs() < 0.02, "npu mean response {mean}");
    assert!(close(num(npu, "response_p99_s"), 1.0));
    // Priced from the catalogue: a laptop per user.
    assert_eq!(text(npu, "device"), "copilot_laptop_npu");
    assert_eq!(num(npu, "devices_total"), 200.0);
    assert_eq!(num(npu, "capex_usd_per_user"), 1250.0);
    assert_eq!(num(npu, "mem_gb_per_user"), 32.0);
    let gpu = row_of(&r.summary, "gpu-stt");
    assert_eq!(num(gpu, "devices_total"), 2.0);
    assert_eq!(num(gpu, "capex_usd_per_user"), 2.0 * 30000.0 / 100.0);
}

const HYBRID: &str = r#"
seed = 3
horizon_h = 2
warmup_h = 0.25
replications = 2
[users]
count = 400
[[classes]]
name = "speech"
share = 0.5
task = "speech_to_text"
requests_per_day = 40
service = { distribution = "lognormal", median_s = 10, p99_s = 60 }
[[classes]]
name = "chat"
share = 0.5
requests_per_day = 30
model = { name = "gpt_oss_20b", quantisation = "mxfp4" }
requests = { input_tokens = { distribution = "lognormal", median = 500, p99 = 3000 }, output_tokens = { distribution = "lognormal", median = 200, p99 = 1000 } }
service_level = { ttft_p99_s = 5.0, tpot_p99_s = 0.1 }
[service_level]
response_p99_s = 9.95
[[placements]]
name = "laptop-speech"
kind = "dedicated"
device = "copilot_laptop_npu"
serves = ["speech"]
[[placements]]
name = "desktop-chat"
kind = "dedicated"
device = "framework_desktop"
serves = ["chat"]
[[placements]]
name = "gpu-chat"
kind = "pooled"
device = "h100_sxm"
servers = 1
serves = ["chat"]
[[hybrids]]
name = "all-local"
parts = ["laptop-speech", "desktop-chat"]
[[hybrids]]
name = "speech-local"
parts = ["laptop-speech", "gpu-chat"]
[sizing]
pool_sizes = [20, "all"]
min_measured_requests = 4000
"#;

#[test]
fn hybrid_rows_add_up_their_parts() {
    let s = scenario(HYBRID);
    let r = size_scenario(&s);
    let rows = &r.rows;
    let at = |name: &str, k: f64| -> &Row {
        rows.iter()
            .find(|r| text(r, "placement") == name && num(r, "pool_size") == k)
            .unwrap_or_else(|| panic!("no row {name} at {k}"))
    };
    for k in [20.0, 400.0] {
        let h = at("speech-local", k);
        assert_eq!(text(h, "kind"), "hybrid");
        assert_eq!(text(h, "parts"), "laptop-speech+gpu-chat");
        let laptop = at("laptop-speech", 400.0);
        let gpu = at("gpu-chat", k);
        // The pooled part's pools hold its share of the k users.
        assert_eq!(num(gpu, "pool_users"), k / 2.0);
        for c in [
            "devices_total",
            "mem_gb_total",
            "capex_usd_total",
            "energy_kwh_per_day_total",
        ] {
            let want = num(laptop, c) + num(gpu, c);
            assert!((num(h, c) - want).abs() <= 1e-9 * want, "{c} at {k}");
        }
        assert!((num(h, "mem_gb_per_user") - num(h, "mem_gb_total") / 400.0).abs() < 1e-9);
        // Against the all-local hybrid (the reference of every class).
        let local = at("all-local", 400.0);
        let f = num(h, "sharing_factor_memory");
        assert!((f - num(local, "mem_gb_per_user") / num(h, "mem_gb_per_user")).abs() < 1e-9);
    }
    // Parts count all users in their per-user figures: 200 laptops / 400 users.
    assert_eq!(num(at("laptop-speech", 400.0), "devices_per_user"), 0.5);
    let local = at("all-local", 400.0);
    assert_eq!(num(local, "devices_per_user"), 1.0);
    assert_eq!(num(local, "sharing_factor_memory"), 1.0);
}

#[test]
fn dedicated_users_are_judged_by_rate_band_as_m_m_1_predicts() {
    // One device per user, exponential service of 60 s, a lognormal spread
    // of request rates (cv 2). Each user's device is an M/M/1 queue: the
    // 99th percentile of its wait is ln(rho / 0.01) / (mu (1 - rho)) when
    // rho > 0.01. A band whose heaviest user's p99 is well inside the bound
    // must meet it, a band whose lightest user's p99 is well outside must
    // miss (a band's pooled p99 lies between its users' p99s).
    let s = scenario(
        r#"
seed = 4
horizon_h = 24
warmup_h = 2
replications = 3
[users]
count = 2000
requests_per_day = 150
requests_per_day_cv = 2.0
[service]
distribution = "exponential"
mean_s = 60
[[placements]]
name = "device-per-user"
kind = "dedicated"
[service_level]
wait_p99_s = 120
[sizing]
min_measured_requests = 20000
"#,
    );
    let r = size_scenario(&s);
    let bands = &r.user_groups;
    assert_eq!(bands.len(), 5);
    let mu = 1.0 / 60.0;
    let p99 = |per_day: f64| {
        let rho = per_day / DAY_S * 60.0;
        if rho >= 1.0 {
            f64::INFINITY
        } else if rho <= 0.01 {
            0.0
        } else {
            (rho / 0.01).ln() / (mu * (1.0 - rho))
        }
    };
    let mut decided = 0;
    let mut meeting_users = 0.0;
    for b in bands {
        let meets = flag(b, "meets");
        let lo = num(b, "requests_per_user_per_day_min");
        let hi = num(b, "requests_per_user_per_day_max");
        if p99(hi) < 0.8 * 120.0 {
            assert!(meets, "band {lo}-{hi} should meet: {}", text(b, "detail"));
            decided += 1;
        }
        if p99(lo) > 1.25 * 120.0 {
            assert!(!meets, "band {lo}-{hi} should miss: {}", text(b, "detail"));
            decided += 1;
        }
        if meets {
            meeting_users += num(b, "users");
        }
    }
    assert!(decided >= 2, "the bands do not test the theory");
    let row = row_of(&r.rows, "device-per-user");
    let share = num(row, "users_meeting_slo_share");
    assert!(share > 0.0 && share < 1.0, "share {share}");
    assert!((share - meeting_users / 2000.0).abs() < 1e-12);
    assert!(text(row, "users_missing_slo_detail").contains("rate band 5/5"));
}

#[test]
fn cheapest_device_is_the_cheapest_that_meets_the_service_level() {
    let text_for = |tpot: f64| {
        format!(
            r#"
seed = 1
horizon_h = 2
warmup_h = 0.25
replications = 2
[users]
count = 50
requests_per_day = 20
[model]
name = "gpt_oss_120b"
quantisation = "mxfp4"
[requests]
input_tokens = {{ distribution = "lognormal", median = 500, p99 = 3000 }}
output_tokens = {{ distribution = "lognormal", median = 200, p99 = 1000 }}
[[placements]]
name = "local"
kind = "dedicated"
device = "framework_desktop"
[service_level]
tpot_p99_s = {tpot}
ttft_p99_s = 30
[sizing]
min_measured_requests = 2000
dedicated_devices = ["rtx_4090", "framework_desktop", "mac_studio_m3_ultra_96gb", "h100_sxm"]
"#
        )
    };
    // Loose TPOT: the desktop (1,999 USD) is the cheapest that holds the
    // model and meets; the RTX 4090 does not hold gpt-oss-120b.
    let r = size_scenario(&scenario(&text_for(0.1)));
    let choice = |r: &sharesim::sizing::SizingResults, d: &str| -> Row {
        r.device_choices
            .iter()
            .find(|x| text(x, "device") == d)
            .cloned()
            .unwrap()
    };
    assert!(text(&choice(&r, "rtx_4090"), "reason").contains("does not fit"));
    assert_eq!(text(&r.rows[0], "cheapest_device"), "framework_desktop");
    assert_eq!(
        num(&r.rows[0], "cheapest_device_capex_usd_per_user"),
        1999.0
    );
    // A TPOT below the desktop's batch-1 step (~17 ms) but above the Mac
    // Studio's (819 GB/s): the Mac is now the cheapest that meets.
    let desktop_step = {
        let s = scenario(&text_for(0.1));
        s.placements[0].llm().unwrap().step.decode_step_s(1, 500)
    };
    let tight = desktop_step * 0.8;
    let r = size_scenario(&scenario(&text_for(tight)));
    assert!(
        text(&choice(&r, "framework_desktop"), "reason").contains("cannot be met"),
        "{}",
        text(&choice(&r, "framework_desktop"), "reason")
    );
    assert_eq!(
        text(&r.rows[0], "cheapest_device"),
        "mac_studio_m3_ultra_96gb"
    );
}

#[test]
fn class_outputs_are_documented_and_charted() {
    let dir = tempfile::tempdir().unwrap();
    let text = HYBRID.replace(
        "min_measured_requests = 4000",
        "min_measured_requests = 4000\ndedicated_devices = [\"copilot_laptop_npu\", \"rtx_4090\", \"framework_desktop\"]",
    );
    let file = write(dir.path(), "hybrid.toml", text);
    let out = dir.path().join("out");
    for command in ["run", "size"] {
        assert_success(&sharesim_on(command, &file, &out));
    }
    let folder = out.join("hybrid");
    for name in [
        "results",
        "summary",
        "latency_cdf",
        "timeline",
        "sizing",
        "probes",
        "dedicated_users",
        "dedicated_devices",
    ] {
        let df = read_parquet(&folder.join(format!("{name}.parquet")));
        assert!(df.height() > 0, "{name} is empty");
        for c in df.get_column_names() {
            // Summary columns `x_ci95` are documented once, as `x` plus the rule.
            let c = c.strip_suffix("_ci95").unwrap_or(c);
            assert!(
                documented(c),
                "{name}.parquet column {c} is not documented in docs/results-schema.md"
            );
        }
    }
    assert!(folder.join("pool-size-curve.png").exists());
    // A placement serving several classes also writes classes.parquet.
    let mixed = write(
        dir.path(),
        "mixed.toml",
        TWO_CLASSES
            .replace("serves = [\"light\"]", "")
            .replace("serves = [\"heavy\"]", ""),
    );
    let o = sharesim()
        .args(["run", "--no-charts"])
        .arg(&mixed)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&o);
    let df = read_parquet(&out.join("mixed/classes.parquet"));
    assert_eq!(df.height(), 4, "2 placements x 2 classes");
    for c in df.get_column_names() {
        let c = c.strip_suffix("_ci95").unwrap_or(c);
        assert!(
            documented(c) || c.starts_with("wait_") || c.starts_with("response_"),
            "classes.parquet column {c} is not documented in docs/results-schema.md"
        );
    }
    // The summary has the hybrids, summed from their parts.
    let df = read_parquet(&folder.join("summary.parquet"));
    let kind = df.column("kind").unwrap().str().unwrap().clone();
    let kinds: Vec<Option<String>> = (0..df.height())
        .map(|i| kind.get(i).map(str::to_string))
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| k.as_deref() == Some("hybrid"))
            .count(),
        2
    );
}

#[test]
fn pool_compositions_keep_the_population_mix_exactly() {
    // Three classes of 1,000 users in several mixes and pool sizes: every
    // composition holds k users, the shares of pools sum to 1, and the
    // expected users of each class per pool is exactly k x its share.
    for (shares, k) in [
        ([0.05, 0.95, 0.0], 4usize),
        ([0.2, 0.5, 0.3], 4),
        ([0.333, 0.333, 0.334], 10),
        ([0.1, 0.1, 0.8], 3),
        ([0.5, 0.25, 0.25], 1),
        ([0.07, 0.41, 0.52], 16),
    ] {
        let mut text = String::from(
            "seed = 1\nhorizon_s = 1000\nreplications = 1\n[users]\ncount = 1000\nrequests_per_day = 10\n\
             [service]\ndistribution = \"exponential\"\nmean_s = 1\n\
             [[placements]]\nname = \"pool\"\nkind = \"pooled\"\nservers = 1\n",
        );
        for (i, sh) in shares.iter().enumerate() {
            text.push_str(&format!("[[classes]]\nname = \"c{i}\"\nshare = {sh}\n"));
        }
        let s = scenario(&text);
        let types = sharesim::sizing::pool_types(&s, k);
        let total_w: f64 = types.iter().map(|t| t.1).sum();
        assert!(
            (total_w - 1.0).abs() < 1e-9,
            "{shares:?} k {k}: weights {total_w}"
        );
        for (counts, w) in &types {
            assert!(*w > 0.0);
            assert_eq!(
                counts.iter().sum::<u32>() as usize,
                k,
                "{shares:?} k {k}: {counts:?}"
            );
        }
        for c in 0..s.classes.len() {
            let expected = k as f64 * s.class_users(c).1 as f64 / 1000.0;
            let got: f64 = types.iter().map(|(n, w)| w * n[c] as f64).sum();
            assert!(
                (got - expected).abs() < 1e-9,
                "{shares:?} k {k} class {c}: {got} vs {expected}"
            );
        }
    }
    // The example of the docs: 5 % agents in pools of 4.
    let s = scenario(
        "seed = 1\nhorizon_s = 1000\n[users]\ncount = 1000\nrequests_per_day = 10\n\
         [service]\ndistribution = \"exponential\"\nmean_s = 1\n\
         [[placements]]\nname = \"pool\"\nkind = \"pooled\"\nservers = 1\n\
         [[classes]]\nname = \"agents\"\nshare = 0.05\n[[classes]]\nname = \"chat\"\nshare = 0.95\n",
    );
    let mut types = sharesim::sizing::pool_types(&s, 4);
    types.sort_by(|a, b| a.1.total_cmp(&b.1));
    assert_eq!(types.len(), 2);
    assert_eq!(types[0].0, vec![1, 3]);
    assert!((types[0].1 - 0.2).abs() < 1e-9);
    assert_eq!(types[1].0, vec![0, 4]);
}

/// 1 % of the requests (the long class) take 30 s each; the rest 1 s.
const SHORT_AND_LONG: &str = r#"
seed = 9
horizon_s = 20000
warmup_s = 1000
replications = 3
[users]
count = 1000
[[classes]]
name = "short"
share = 0.9
requests_per_day = 200
service = { distribution = "exponential", mean_s = 1.0 }
[[classes]]
name = "long"
share = 0.1
requests_per_day = 10
service = { distribution = "deterministic", value_s = 30.0 }
[[placements]]
name = "pool"
kind = "pooled"
servers = 20
[service_level]
response_p99_s = 20
"#;

#[test]
fn every_class_must_meet_the_service_level_not_only_the_mix() {
    // 1 % of the requests take 30 s; the p99 over all requests is set by
    // the 1 s ones, so the mix meets a 20 s bound that the long class, alone,
    // cannot (each of its requests takes 30 s).
    let s = scenario(SHORT_AND_LONG);
    let r = run_scenario(&s);
    let pool = row_of(&r.summary, "pool");
    // Over all requests the bound holds...
    let rows: Vec<&Row> = r.replications.iter().collect();
    let mix = sharesim::slo::judge(&s, &rows).unwrap();
    assert!(mix.met, "{}", mix.describe());
    // ...but not for the long class, so the placement misses it.
    assert!(matches!(
        get(pool, "slo_met"),
        Some(Value::Bool(Some(false)))
    ));
    let detail = text(pool, "slo_detail");
    assert!(
        detail.contains("response_p99_s[long]") && detail.contains("MISSED"),
        "{detail}"
    );
    let long = r
        .classes
        .iter()
        .find(|c| text(c, "class") == "long")
        .expect("a classes row for the long class");
    assert!(num(long, "response_p99_s") >= 30.0);
    assert!(matches!(
        get(long, "slo_met"),
        Some(Value::Bool(Some(false)))
    ));
    // Sizing cannot fix it: no fleet makes a 30 s request take 20 s.
    let z = size_scenario(&scenario(&format!(
        "{SHORT_AND_LONG}\n[sizing]\nmax_servers = 40\n"
    )));
    let row = row_of(&z.rows, "pool");
    assert!(matches!(
        get(row, "feasible"),
        Some(Value::Bool(Some(false)))
    ));
    // Known without simulating: the long class's service alone is 30 s.
    assert_eq!(num(row, "probes"), 0.0);
    assert!(
        text(row, "reason").contains("class long"),
        "{}",
        text(row, "reason")
    );
}

/// Random mixes of two or three classes (open-loop, sessions and agents;
/// generic or LLM; some placements serving a subset): every class's
/// measured requests add up to the placement's, each replication row's
/// counts add up, sizing ends with every pool composition holding k users,
/// and nothing is NaN.
#[test]
fn random_class_mixes_add_up() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    let strategy = (
        2usize..=3,
        prop::collection::vec(0u8..3, 3),
        prop::collection::vec(1u32..=8, 3),
        any::<bool>(),
        1usize..=12,
        any::<bool>(),
    );
    runner
        .run(&strategy, |(n, kinds, weights, llm, k, subset)| {
            let text = class_mix_text(n, &kinds, &weights, llm, k, subset);
            let s = scenario(&text);
            let r = run_scenario(&s);
            for row in &r.replications {
                assert_counts_add_up(row);
            }
            assert_class_rows_add_up(&r);
            assert_finite("summary", &r.summary);
            assert_finite("classes", &r.classes);
            let view = s.view(1);
            for (counts, w) in sharesim::sizing::pool_types(&view, k.min(view.users)) {
                prop_assert!(w > 0.0);
                prop_assert_eq!(counts.iter().sum::<u32>() as usize, k.min(view.users));
            }
            let z = size_scenario(&s);
            prop_assert!(!z.rows.is_empty());
            Ok(())
        })
        .unwrap();
}

/// The scenario of one `random_class_mixes_add_up` case: `n` classes of
/// the given arrival kinds (0 open loop, 1 sessions, 2 agents) and share
/// weights, generic or LLM, a dedicated and a pooled placement (and one
/// serving only `c0` when `subset`), sized at pools of `k` and "all".
fn class_mix_text(
    n: usize,
    kinds: &[u8],
    weights: &[u32],
    llm: bool,
    k: usize,
    subset: bool,
) -> String {
    let total: u32 = weights[..n].iter().sum();
    let mut text = String::from(
        "seed = 3\nhorizon_s = 3600\nwarmup_s = 300\nreplications = 2\n[users]\ncount = 60\n",
    );
    if llm {
        text.push_str(
            "[model]\nname = \"gpt_oss_20b\"\nquantisation = \"mxfp4\"\n\
             [requests]\ninput_tokens = { distribution = \"lognormal\", median = 300, p99 = 2000 }\n\
             output_tokens = { distribution = \"lognormal\", median = 100, p99 = 600 }\n",
        );
    } else {
        text.push_str("[service]\ndistribution = \"exponential\"\nmean_s = 5\n");
    }
    let mut cum = 0u32;
    for c in 0..n {
        // Shares as multiples of 1/total; the last takes the rest exactly.
        let share = if c + 1 == n {
            1.0 - cum as f64 / total as f64
        } else {
            weights[c] as f64 / total as f64
        };
        cum += weights[c];
        text.push_str(&format!("[[classes]]\nname = \"c{c}\"\nshare = {share}\n"));
        match kinds[c] {
            0 => text.push_str("requests_per_day = 300\n"),
            1 => text.push_str("arrivals = \"sessions\"\nrequests_per_day = 200\n"),
            _ => text.push_str(
                "arrivals = \"agent\"\nagent_gap = { distribution = \"exponential\", mean_s = 60 }\n",
            ),
        }
    }
    let device = |d: &str| {
        if llm {
            format!("device = \"{d}\"\n")
        } else {
            String::new()
        }
    };
    text.push_str(&format!(
        "[[placements]]\nname = \"local\"\nkind = \"dedicated\"\n{}",
        device("h100_sxm")
    ));
    text.push_str(&format!(
        "[[placements]]\nname = \"pool\"\nkind = \"pooled\"\nservers = 3\n{}",
        device("h100_sxm")
    ));
    if subset {
        text.push_str(&format!(
            "[[placements]]\nname = \"part\"\nkind = \"pooled\"\nservers = 2\nserves = [\"c0\"]\n{}",
            device("h100_sxm")
        ));
    }
    let target = if llm {
        "ttft_p99_s = 60"
    } else {
        "response_p99_s = 600"
    };
    text.push_str(&format!(
        "[service_level]\n{target}\n[sizing]\npool_sizes = [{k}, \"all\"]\nmin_measured_requests = 200\nmax_servers = 64\n"
    ));
    text
}

/// Regression: a pool composition without some class (5 % of users in
/// pools of 4: most pools have none of them) was judged on that class's
/// empty rows and never met the service level.
#[test]
fn a_pool_without_some_class_is_judged_on_the_classes_it_has() {
    let s = scenario(
        r#"
seed = 2
horizon_s = 7200
warmup_s = 600
replications = 2
[users]
count = 400
[service]
distribution = "exponential"
mean_s = 2.0
[[classes]]
name = "rare"
share = 0.05
requests_per_day = 500
[[classes]]
name = "common"
share = 0.95
requests_per_day = 100
[[placements]]
name = "pool"
kind = "pooled"
servers = 1
[service_level]
response_p99_s = 30
[sizing]
pool_sizes = [4]
min_measured_requests = 2000
"#,
    );
    let z = size_scenario(&s);
    let row = row_of(&z.rows, "pool");
    assert_eq!(num(row, "pool_types"), 2.0);
    assert!(flag(row, "feasible"), "{}", text(row, "reason"));
    assert_eq!(num(row, "servers_per_pool"), 1.0);
}
