//! Outages (`[outages]`, docs/model.md section 20): turning them off leaves
//! every result bit-identical; the share of time down matches the
//! alternating renewal process's `r·d / (1 + r·d)` within its sampling
//! error; requests that fail, wait or fall back are all accounted for; and
//! bad input exits 2 naming the key and the valid range.

use std::path::Path;

use sharesim::results::Row;
use sharesim::run::run_scenario;

use crate::support::invariants::assert_counts_add_up;
use crate::support::{
    assert_success, documented, f64_of, files_under, num, read_parquet, repo_file, row_of,
    run_refused, scenario, sharesim, text, write,
};

/// Runs `sharesim run SCENARIO --out OUT` quickly (`--set` shortens it).
fn quick_run(scenario: &Path, out: &Path, extra: &[&str]) {
    let mut c = sharesim();
    c.arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .arg("--no-charts");
    for s in ["horizon_h=0.25", "warmup_h=0.05", "replications=2"]
        .iter()
        .chain(extra)
    {
        c.args(["--set", s]);
    }
    assert_success(&c.output().unwrap());
}

/// The Parquet files under `dir` (relative path, bytes).
fn parquet_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            (rel, std::fs::read(&p).unwrap())
        })
        .collect()
}

fn assert_same_parquet(a: &Path, b: &Path) {
    let (fa, fb) = (parquet_files(a), parquet_files(b));
    assert!(fa.len() >= 4, "results, summary, cdf, timeline: {fa:?}");
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fa), names(&fb));
    for ((name, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "{name} differs");
    }
}

#[test]
fn disabled_or_absent_outages_leave_every_result_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    // A shipped scenario without [outages], and the same with a disabled
    // table whose processes would hit both placements.
    // (Its [sweep] table left out: `run` runs the base scenario.)
    let file =
        std::fs::read_to_string(repo_file("scenarios/latency-and-availability.toml")).unwrap();
    let shipped = file[..file.find("[sweep]").unwrap()].to_string();
    let plain = write(dir.path(), "plain.toml", &shipped);
    let disabled = shipped
        .replace(
            "network_rtt_s = 0.05\n",
            "network_rtt_s = 0.05\non_outage = \"wait\"\n",
        )
        .replacen(
            "[service_level]",
            "[outages]\nenabled = false\n\n[[outages.processes]]\nname = \"region\"\nscope = \"fleet\"\nhits = [\"h100-pool\"]\nrate_per_h = 2\nduration_h = 0.1\n\n[[outages.processes]]\nname = \"device\"\nscope = \"user\"\nhits = [\"desktop-per-user\"]\nannual_failure_rate = 500\nduration_days = 0.01\n\n[service_level]",
            1,
        );
    assert_ne!(disabled, shipped);
    let disabled = write(dir.path(), "disabled.toml", &disabled);
    quick_run(&plain, &dir.path().join("a"), &[]);
    quick_run(&disabled, &dir.path().join("b"), &[]);
    assert_same_parquet(&dir.path().join("a"), &dir.path().join("b"));

    // The shipped availability scenario with `enabled = false`, against the
    // same file with the table and the placements' outage keys removed.
    let path = repo_file("scenarios/always-available-assistant.toml");
    let mut table: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    assert!(table.remove("outages").is_some());
    for p in table["placements"].as_array_mut().unwrap() {
        let p = p.as_table_mut().unwrap();
        for k in ["on_outage", "fallback", "fallback_only"] {
            p.remove(k);
        }
    }
    let absent = write(dir.path(), "absent.toml", toml::to_string(&table).unwrap());
    quick_run(&path, &dir.path().join("c"), &["outages.enabled=false"]);
    quick_run(&absent, &dir.path().join("d"), &[]);
    assert_same_parquet(&dir.path().join("c"), &dir.path().join("d"));
    // And turned on, the outages do change the results.
    quick_run(&path, &dir.path().join("e"), &[]);
    let on = read_parquet(
        &dir.path()
            .join("e/always-available-assistant/results.parquet"),
    );
    for name in on.get_column_names() {
        assert!(documented(name), "column {name} is not documented");
    }
    assert!(on.column("unavailable_share").is_ok());
}

/// A long run with a region outage taking a pool down (rate `r` per hour
/// of uptime, mean `d` hours) and a per-user device outage of the same law.
fn renewal_scenario(r_per_h: f64, d_h: f64, duration: &str) -> String {
    format!(
        r#"
seed = 3
horizon_h = 200
warmup_h = 1
replications = 12
[users]
count = 60
requests_per_day = 40
[model]
name = "llama_3_1_8b"
quantisation = "q4"
[requests]
input_tokens = {{ distribution = "fixed", value = 40 }}
output_tokens = {{ distribution = "fixed", value = 20 }}
[[placements]]
name = "cloud"
kind = "pooled"
device = "h100_sxm"
servers = 1
[[placements]]
name = "local"
kind = "dedicated"
device = "framework_desktop"
[service_level]
ttft_p99_s = 2
[outages]
[[outages.processes]]
name = "region"
scope = "fleet"
hits = ["cloud"]
rate_per_h = {r_per_h}
{duration}
[[outages.processes]]
name = "device"
scope = "user"
hits = ["local"]
rate_per_h = {r_per_h}
{duration}
"#,
        duration = duration.replace("D", &d_h.to_string())
    )
}

/// Mean and standard error of `xs` (independent replications).
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

#[test]
fn unavailable_share_matches_the_renewal_formula_within_sampling_error() {
    // Exponential durations (the stationary start is exact for them) and
    // lognormal ones (the formula holds for any law with that mean).
    let cases = [
        (0.5, 0.2, "duration_h = D".to_string()),
        (
            2.0,
            0.25,
            "duration = { distribution = \"lognormal\", mean_s = 900, cv = 1.5 }".to_string(),
        ),
    ];
    for (r, d, duration) in cases {
        let s = scenario(&renewal_scenario(r, d, &duration));
        let u = r * d / (1.0 + r * d);
        let res = run_scenario(&s);
        for placement in ["cloud", "local"] {
            let rows: Vec<_> = res
                .replications
                .iter()
                .filter(|row| text(row, "placement") == placement)
                .collect();
            assert_eq!(rows.len(), 12);
            let down: Vec<f64> = rows
                .iter()
                .map(|row| f64_of(row, "unavailable_share").unwrap())
                .collect();
            let (m, se) = mean_se(&down);
            assert!(se > 0.0, "{placement}: outages vary between replications");
            // Four standard errors: a false alarm about once in 15,000.
            assert!(
                (m - u).abs() <= 4.0 * se,
                "{placement} r={r} d={d}: unavailable share {m} vs r·d/(1+r·d) = {u} (se {se})"
            );
            // Poisson arrivals see time averages: the share of requests
            // that failed estimates the same quantity.
            let failed: Vec<f64> = rows
                .iter()
                .map(|row| num(row, "outage_failed") / num(row, "arrived"))
                .collect();
            let (mf, sef) = mean_se(&failed);
            assert!(
                (mf - u).abs() <= 4.0 * sef.max(se),
                "{placement}: failed share {mf} vs {u} (se {sef})"
            );
        }
    }
}

const FALLBACK: &str = r#"
seed = 5
horizon_h = 40
warmup_h = 1
replications = 3
[users]
count = 100
requests_per_day = 100
[model]
name = "llama_3_1_8b"
quantisation = "q4"
[requests]
input_tokens = { distribution = "lognormal", median = 40, p99 = 200 }
output_tokens = { distribution = "lognormal", median = 60, p99 = 300 }
[[placements]]
name = "reference"
kind = "pooled"
device = "h100_sxm"
servers = 1
[[placements]]
name = "desktop"
kind = "dedicated"
device = "framework_desktop"
on_outage = "fallback"
fallback = "cloud-backup"
[[placements]]
name = "cloud-backup"
kind = "pooled"
device = "h100_sxm"
servers = 1
fallback_only = true
[[placements]]
name = "waiter"
kind = "pooled"
device = "h100_sxm"
servers = 1
on_outage = "wait"
[service_level]
ttft_p99_s = 2
tpot_p99_s = 0.1
[outages]
[[outages.processes]]
name = "device"
scope = "user"
hits = ["desktop"]
rate_per_h = 0.05
duration_h = 1
[[outages.processes]]
name = "region"
scope = "fleet"
hits = ["cloud-backup", "waiter"]
rate_per_h = 0.1
duration_h = 1
"#;

#[test]
fn fallback_and_waiting_account_for_every_request() {
    let s = scenario(FALLBACK);
    let res = run_scenario(&s);
    let reps = 3;
    let of = |name: &str, r: usize| {
        res.replications
            .iter()
            .filter(|row| text(row, "placement") == name)
            .nth(r)
            .unwrap()
    };
    let mut deferred = 0.0;
    let mut backup_failed = 0.0;
    for r in 0..reps {
        let (reference, desktop, backup, waiter) = (
            of("reference", r),
            of("desktop", r),
            of("cloud-backup", r),
            of("waiter", r),
        );
        let n = |row, c| num(row, c);
        // The same requests (common random numbers): those the desktop
        // sent to its fallback are exactly the fallback's.
        assert!(n(desktop, "outage_fallback") > 0.0);
        assert_eq!(n(desktop, "outage_fallback"), n(backup, "arrived"));
        assert_eq!(
            n(desktop, "arrived") + n(desktop, "outage_fallback"),
            n(reference, "arrived")
        );
        assert_eq!(n(desktop, "outage_failed"), 0.0);
        // The fallback's own region outages fail its requests; the counts
        // still add up.
        backup_failed += n(backup, "outage_failed");
        for row in [reference, desktop, backup, waiter] {
            assert_eq!(
                n(row, "arrived"),
                n(row, "completed_by_horizon")
                    + n(row, "in_flight_at_horizon")
                    + n(row, "rejected")
            );
        }
        // Waiting loses no request and keeps each in the window of its
        // arrival; the wait is part of its latency.
        assert_eq!(n(waiter, "arrived"), n(reference, "arrived"));
        assert_eq!(n(waiter, "measured"), n(reference, "measured"));
        deferred += n(waiter, "outage_deferred");
        if n(waiter, "outage_deferred") > 0.0 {
            assert!(n(waiter, "e2e_mean_s") > n(reference, "e2e_mean_s"));
        }
        // Attainment with outages: the desktop's own requests and those its
        // fallback served, each judged where it was served.
        let joint = (n(desktop, "slo_attainment_share") * n(desktop, "measured")
            + n(backup, "slo_attainment_share") * n(backup, "measured"))
            / (n(desktop, "measured") + n(backup, "measured"));
        let reported = n(desktop, "slo_attainment_share_with_outages");
        assert!((reported - joint).abs() < 1e-12, "{reported} vs {joint}");
    }
    assert!(deferred > 0.0, "some requests waited for the region");
    assert!(
        backup_failed > 0.0,
        "the fallback's own outages failed some"
    );
    let summary = row_of(&res.summary, "desktop");
    assert_eq!(text(summary, "fallback"), "cloud-backup");
    assert_eq!(
        text(row_of(&res.summary, "cloud-backup"), "on_outage"),
        "fallback of desktop"
    );
}

#[test]
fn sizing_reports_availability_and_the_cheapest_option_meeting_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let path = repo_file("scenarios/always-available-assistant.toml");
    let o = sharesim()
        .arg("size")
        .arg(&path)
        .arg("--out")
        .arg(dir.path())
        .args([
            "--no-charts",
            "--set",
            "horizon_h=0.25",
            "--set",
            "warmup_h=0.05",
        ])
        .output()
        .unwrap();
    assert_success(&o);
    let df = read_parquet(&dir.path().join("always-available-assistant/sizing.parquet"));
    for name in df.get_column_names() {
        assert!(documented(name), "sizing column {name} is not documented");
    }
    let s = sharesim::scenario::Scenario::load(&path).unwrap();
    let placement = df.column("placement").unwrap().str().unwrap().clone();
    let names: Vec<String> = (0..df.height())
        .map(|i| placement.get(i).unwrap().to_string())
        .collect();
    let col = |c: &str| crate::support::f64_column(&df, c);
    let (att, down, avail) = (
        col("slo_attainment_share"),
        col("unavailable_share_year"),
        col("availability_share"),
    );
    for (i, name) in names.iter().enumerate() {
        let p = s.placements.iter().position(|q| &q.name == name).unwrap();
        let (d, covered) = sharesim::sizing::down_shares(&s, p);
        assert!((down[i].unwrap() - d).abs() < 1e-15);
        // The processes multiply: one region's share down is the same
        // whatever its servers.
        let shares: Vec<f64> = s
            .outages
            .as_ref()
            .unwrap()
            .iter()
            .map(|x| x.spec.unavailable_share())
            .collect();
        let expect: f64 = 1.0
            - s.placements[p]
                .outage
                .processes
                .iter()
                .map(|&k| 1.0 - shares[k])
                .product::<f64>();
        assert!((d - expect).abs() < 1e-15);
        match &s.placements[p].outage.fallback {
            None if s.placements[p].outage.backs.is_none() => {
                let a = avail[i].unwrap();
                assert!((a - (1.0 - d) * att[i].unwrap()).abs() < 1e-12);
            }
            Some(f) => {
                let j = names.iter().position(|n| n == f).unwrap();
                let a = avail[i].unwrap();
                let expect = (1.0 - d) * att[i].unwrap() + covered * att[j].unwrap();
                assert!((a - expect).abs() < 1e-12, "{name}: {a} vs {expect}");
                assert!(
                    a > (1.0 - d) * att[i].unwrap(),
                    "{name}: a fallback adds availability"
                );
            }
            None => assert!(
                avail[i].is_none(),
                "a fallback-only row has no availability of its own"
            ),
        }
    }
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("availability (share of a year's requests"),
        "{stdout}"
    );
}

#[test]
fn bad_outage_input_exits_2_naming_the_key_and_range() {
    let base = FALLBACK;
    let edit = |from: &str, to: &str| {
        assert!(base.contains(from), "{from}");
        base.replacen(from, to, 1)
    };
    run_refused(
        &edit(
            "[service_level]",
            "[sizing]\navailability_target = 1.5\n[service_level]",
        ),
        &[
            "sizing.availability_target",
            "between 0 (excluded) and 1",
            "(got 1.5)",
        ],
    );
    run_refused(
        &edit("rate_per_h = 0.05", "rate_per_h = -0.05"),
        &[
            "outages.processes[0].rate_per_h",
            "between 0 and 3600",
            "(got -0.05)",
        ],
    );
    run_refused(
        &edit("rate_per_h = 0.05", "annual_failure_rate = -1"),
        &[
            "outages.processes[0].annual_failure_rate",
            "between 0 and",
            "(got -1)",
        ],
    );
    run_refused(
        &edit("rate_per_h = 0.1", "rate_per_h = 0.1\nrate_per_year = 3"),
        &["outages.processes[1].rate_per_h", "exactly one of"],
    );
    run_refused(
        &edit("duration_h = 1", "duration_h = 0"),
        &[
            "outages.processes[0].duration_h",
            "greater than 0",
            "(got 0)",
        ],
    );
    run_refused(
        &edit("scope = \"user\"", "scope = \"planet\""),
        &["outages.processes[0].scope", "\"fleet\"", "\"user\""],
    );
    run_refused(
        &edit("hits = [\"desktop\"]", "hits = [\"laptop\"]"),
        &["outages.processes[0].hits", "unknown placement \"laptop\""],
    );
    run_refused(
        &edit("on_outage = \"wait\"", "on_outage = \"retry\""),
        &[
            "placements[3].on_outage",
            "\"fail\", \"wait\" or \"fallback\"",
        ],
    );
    run_refused(
        &edit("fallback_only = true\n", ""),
        &["placements[1].fallback", "fallback_only = true"],
    );
    let no_table = &base[..base.find("[outages]").unwrap()];
    run_refused(no_table, &["placements[1]", "no [outages] table"]);
}

/// A desktop each (the duty cycle's reference device), and the cloud with
/// the user's laptop as its fallback; `laptop_model` is the laptop's own
/// `model` line (or nothing: the classes' model).
fn laptop_fallback(laptop_model: &str) -> String {
    format!(
        r#"
seed = 9
horizon_h = 30
warmup_h = 1
replications = 2
[users]
count = 60
requests_per_day = 100
[model]
name = "llama_3_1_8b"
quantisation = "q4"
[requests]
input_tokens = {{ distribution = "lognormal", median = 40, p99 = 200 }}
output_tokens = {{ distribution = "lognormal", median = 60, p99 = 300 }}
[[placements]]
name = "desktop"
kind = "dedicated"
device = "framework_desktop"
[[placements]]
name = "cloud"
kind = "pooled"
device = "h100_sxm"
servers = 1
on_outage = "fallback"
fallback = "laptop"
[[placements]]
name = "laptop"
kind = "dedicated"
device = "copilot_laptop_npu"
fallback_only = true
{laptop_model}
[service_level]
ttft_p99_s = 2
tpot_p99_s = 0.1
[outages]
[[outages.processes]]
name = "region"
scope = "fleet"
hits = ["cloud"]
rate_per_h = 0.1
duration_h = 1
"#
    )
}

#[test]
fn a_fallback_may_serve_a_smaller_model_of_its_own() {
    let small = run_scenario(&scenario(&laptop_fallback(
        "model = { name = \"phi_4_mini\", quantisation = \"q4\" }",
    )));
    let same = run_scenario(&scenario(&laptop_fallback("")));
    let rows = |res: &sharesim::run::RunResults, name: &str| -> Vec<Row> {
        res.replications
            .iter()
            .filter(|r| text(r, "placement") == name)
            .cloned()
            .collect()
    };
    let (small_cloud, same_cloud) = (rows(&small, "cloud"), rows(&same, "cloud"));
    let (small_laptop, same_laptop) = (rows(&small, "laptop"), rows(&same, "laptop"));
    assert_eq!(small_laptop.len(), 2);
    for r in 0..2 {
        // The primary is untouched by its fallback's model, apart from
        // the attainment joined with the fallback's.
        let but_joint = |row: &Row| -> Row {
            row.iter()
                .filter(|(c, _)| c != "slo_attainment_share_with_outages")
                .cloned()
                .collect()
        };
        assert_eq!(but_joint(&small_cloud[r]), but_joint(&same_cloud[r]));
        // The same requests fall back (common random numbers) ...
        assert!(num(&small_laptop[r], "arrived") > 0.0);
        assert_eq!(
            num(&small_laptop[r], "arrived"),
            num(&same_laptop[r], "arrived")
        );
        assert_eq!(
            num(&small_cloud[r], "outage_fallback"),
            num(&small_laptop[r], "arrived")
        );
        // ... and are served by the laptop's own model, whose weights
        // (2.3 GB against 4.9 GB) stream in less time per token.
        assert_eq!(text(&small_laptop[r], "model"), "phi_4_mini");
        assert_eq!(text(&small_laptop[r], "quantisation"), "q4");
        assert_eq!(text(&same_laptop[r], "model"), "llama_3_1_8b");
        assert_eq!(text(&small_cloud[r], "model"), "llama_3_1_8b");
        let tpot = |row: &Row| num(row, "tpot_mean_s");
        assert!(
            tpot(&small_laptop[r]) < 0.7 * tpot(&same_laptop[r]),
            "{} vs {}",
            tpot(&small_laptop[r]),
            tpot(&same_laptop[r])
        );
    }
}

#[test]
fn an_unknown_placement_model_is_refused() {
    run_refused(
        &laptop_fallback("model = { name = \"phi_4_mini\", quantisation = \"q3\" }"),
        &["placements[2].model.quantisation", "\"q3\"", "q4"],
    );
    run_refused(
        &laptop_fallback("model = { name = \"phi_5\", quantisation = \"q4\" }"),
        &["placements[2].model.name", "phi_5"],
    );
}

/// Sessions and agents on a region that fails over to a standby region:
/// closed-loop users, whose next request follows from the last one.
const CLOSED_LOOP_FALLBACK: &str = r#"
seed = 11
horizon_h = 20
warmup_h = 1
replications = 2
[users]
count = 40
[model]
name = "llama_3_1_8b"
quantisation = "q4"
[requests]
input_tokens = { distribution = "lognormal", median = 40, p99 = 200 }
output_tokens = { distribution = "lognormal", median = 60, p99 = 300 }
[[classes]]
name = "chat"
share = 0.5
arrivals = "sessions"
requests_per_day = 200
session_requests_mean = 4
think_time = { distribution = "exponential", mean_s = 30 }
[[classes]]
name = "agents"
share = 0.5
arrivals = "agent"
agent_gap = { distribution = "exponential", mean_s = 60.0 }
[[placements]]
name = "region"
kind = "pooled"
device = "h100_sxm"
servers = 1
on_outage = "fallback"
fallback = "standby"
[[placements]]
name = "standby"
kind = "pooled"
device = "h100_sxm"
servers = 1
fallback_only = true
[service_level]
ttft_p99_s = 2
tpot_p99_s = 0.1
[outages]
[[outages.processes]]
name = "region_a"
scope = "fleet"
hits = ["region"]
rate_per_h = 0.2
duration_h = 0.5
[[outages.processes]]
name = "region_b"
scope = "fleet"
hits = ["standby"]
rate_per_h = 0.2
duration_h = 0.5
"#;

#[test]
fn closed_loop_users_fall_back_request_for_request() {
    let res = run_scenario(&scenario(CLOSED_LOOP_FALLBACK));
    let rows = |name: &str| -> Vec<&Row> {
        res.replications
            .iter()
            .filter(|r| text(r, "placement") == name)
            .collect()
    };
    let (region, standby) = (rows("region"), rows("standby"));
    assert_eq!(region.len(), 2);
    for (r, b) in region.iter().zip(&standby) {
        // Every request the region sent is one the standby received: its
        // run repeats the region's (the same streams) to learn them.
        assert!(num(r, "outage_fallback") > 0.0, "some requests fell back");
        assert_eq!(num(r, "outage_fallback"), num(b, "arrived"));
        assert_eq!(num(r, "outage_failed"), 0.0);
        assert_counts_add_up(r);
        assert_counts_add_up(b);
        let joint = (num(r, "slo_attainment_share") * num(r, "measured")
            + num(b, "slo_attainment_share") * num(b, "measured"))
            / (num(r, "measured") + num(b, "measured"));
        let reported = num(r, "slo_attainment_share_with_outages");
        assert!((reported - joint).abs() < 1e-12, "{reported} vs {joint}");
    }
    // Both classes fall back: the standby's class rows count each.
    for class in ["chat", "agents"] {
        let sent: f64 = res
            .classes
            .iter()
            .filter(|r| text(r, "placement") == "standby" && text(r, "class") == class)
            .map(|r| num(r, "measured"))
            .sum();
        assert!(sent > 0.0, "{class}: no request fell back");
    }
}
