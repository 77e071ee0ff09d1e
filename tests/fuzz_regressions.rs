//! Inputs found by fuzzing (fuzz/README.md), minimised, kept as tests.
//!
//! The `scenario`, `trace` and `scenario_run` targets ran 10 minutes each
//! without a failure. The structure-aware `scenario_params` target found, in
//! its first seconds, a service time whose parameters each pass validation
//! but whose mean is infinite: the run then writes `inf` and `NaN` into
//! Parquet columns (docs/results-schema.md: "Missing values are nulls, never
//! NaN"). The fuzzer's 25-byte input stands for the gamma scenario below;
//! the two lognormal cases are the same flaw reached through the other
//! parametrisations, found by reading the code after the fuzz finding.
//!
//! Each test accepts either fix: the scenario is refused with an error
//! naming the service distribution, or it runs and every number written is
//! finite.
//!
//! Once those were skipped, the same target found a hang (libFuzzer
//! timeout): a tiny but positive request rate; then NaN in the timeline of
//! a run whose horizon is a subnormal number of seconds; then another hang:
//! agents whose service time is almost always 0 (gamma with a tiny shape);
//! then a panic while loading a scenario: an Erlang mean of 5e-324 s.
//! The `scenario_classes` target (classes, hybrids, speech) then found a
//! `service_scale` so large that scaled service times overflow to `inf`.

use std::path::Path;

use sharesim::run::run_scenario;
use sharesim::scenario::Scenario;

use crate::support::invariants::{assert_all_finite, assert_finite};
use crate::support::{write, BIN};

fn scenario_with_service(service: &str) -> String {
    format!(
        "seed = 201326592\nhorizon_s = 2000\nwarmup_s = 100\nreplications = 2\n\
         [users]\ncount = 10\nrequests_per_day = 1000\n\
         [service]\n{service}\n\
         [[placements]]\nname = \"local\"\nkind = \"dedicated\"\n\
         [[placements]]\nname = \"pool\"\nkind = \"pooled\"\nservers = 1\n"
    )
}

/// Refused naming `service`, or run with only finite numbers in every table.
fn refused_or_finite(text: &str) {
    match Scenario::from_toml_str(text, Path::new("fuzz.toml")) {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("service"), "refused without naming it: {msg}");
        }
        Ok(s) => {
            assert!(
                s.mean_service_s.is_finite(),
                "accepted with a mean service time of {}",
                s.mean_service_s
            );
            assert_all_finite(&run_scenario(&s));
        }
    }
}

/// The fuzzer's find (`scenario_params`, crash-eb8003e2...): a gamma shape
/// of 1e-321 (subnormal, so "greater than 0") makes the scale
/// `mean / shape` infinite; every service time is infinite, and
/// `offered_load_erlangs`, `wait_mean_s`, `response_mean_s` are `inf` (with
/// `duty_cycle` instead of `requests_per_day`, `NaN`).
#[test]
fn gamma_with_a_subnormal_shape_gives_infinite_service_times() {
    refused_or_finite(&scenario_with_service(
        "distribution = \"gamma\"\nmean_s = 1.2\nshape = 1e-321",
    ));
}

/// The same through the duty cycle: rate = duty / mean service = 0 and
/// offered load = 0 x inf = NaN.
#[test]
fn gamma_with_a_subnormal_shape_and_a_duty_cycle_gives_nan() {
    let text = scenario_with_service("distribution = \"gamma\"\nmean_s = 1.2\nshape = 1e-321")
        .replace("requests_per_day = 1000", "duty_cycle = 0.001");
    refused_or_finite(&text);
}

/// cv = 1e200: sigma^2 = ln(1 + cv^2) is infinite, mu = ln(mean) - sigma^2/2
/// is -inf, and the mean exp(mu + sigma^2/2) is NaN: `offered_load_erlangs`
/// and the offered utilisations are NaN.
#[test]
fn lognormal_with_a_huge_cv_gives_a_nan_mean() {
    refused_or_finite(&scenario_with_service(
        "distribution = \"lognormal\"\nmean_s = 1.0\ncv = 1e200",
    ));
}

/// median 1 s, p99 1e300 s: sigma = 297, and the mean exp(mu + sigma^2 / 2)
/// overflows to inf.
#[test]
fn lognormal_with_a_huge_p99_gives_an_infinite_mean() {
    refused_or_finite(&scenario_with_service(
        "distribution = \"lognormal\"\nmedian_s = 1.0\np99_s = 1e300",
    ));
}

/// The fuzzer's timeout (`scenario_params`, timeout-6744b4ae...):
/// `requests_per_day = 1.1e-308` for 253 users. `PoissonArrivals::next`
/// (sim/arrivals.rs) has no horizon: it walks the daily profile segment by
/// segment until the first arrival, about 1 / rate seconds away, so the time
/// grows like 1 / rate (50 users: 0.4 s at 1e-9 requests per day, over 20 s
/// at 1e-12). The run must finish (with no arrival) or refuse the rate.
#[test]
fn tiny_request_rate_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario_with_service("distribution = \"exponential\"\nmean_s = 1.0")
        .replace("requests_per_day = 1000", "requests_per_day = 1e-12");
    let file = write(dir.path(), "tiny.toml", text);
    finishes_within_10_s(&file, dir.path());
}

/// The fuzzer's `crash-e7385d85...` (`scenario_params`): `horizon_s =
/// 1.1e-322` is "greater than 0", but in the timeline the covered seconds of
/// a minute divided by 60 underflow to 0 and `arrivals_per_min` is 0 / 0 =
/// NaN (sim/run.rs cdf_and_timeline tests `cov > 0` before dividing by
/// `cov / 60`). Minimised by hand: one pooled placement, one replication.
#[test]
fn subnormal_horizon_gives_nan_arrivals_per_minute() {
    let text = "horizon_s = 1e-322\nreplications = 1\n\
                [users]\ncount = 10\nrequests_per_day = 10\n\
                [service]\ndistribution = \"exponential\"\nmean_s = 1.0\n\
                [[placements]]\nname = \"pool\"\nkind = \"pooled\"\nservers = 1\n";
    match Scenario::from_toml_str(text, Path::new("fuzz.toml")) {
        Err(e) => assert!(e.to_string().contains("horizon_s"), "{e}"),
        Ok(s) => {
            assert_finite("timeline", &run_scenario(&s).timeline);
        }
    }
}

/// The fuzzer's `timeout-653952b6...` (`scenario_params`: 44 agents, gap
/// 4.5e-302 s, gamma service mean 177 s with shape 6.3e-304), minimised by
/// hand. A gamma with shape 1e-20 has a mean of 100 s, so the guard on
/// expected requests (rate = 1 / (mean service + mean gap)) lets it through,
/// but almost every sample is 0: an agent sends a request every 1e-9 s,
/// 1e12 requests in the horizon. The run must finish in seconds or be
/// refused (shape 1e-6: 0.05 s; 1e-20: over 10 s).
#[test]
fn agents_with_almost_always_zero_service_do_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let text = "horizon_s = 1000\nreplications = 1\n\
                [users]\ncount = 1\narrivals = \"agent\"\n\
                agent_gap = { distribution = \"exponential\", mean_s = 1e-9 }\n\
                [service]\ndistribution = \"gamma\"\nmean_s = 100\nshape = 1e-20\n\
                [[placements]]\nname = \"local\"\nkind = \"dedicated\"\n";
    let file = write(dir.path(), "agents.toml", text);
    finishes_within_10_s(&file, dir.path());
}

/// `sharesim run FILE` exits 0 or 2 within 10 s (killed otherwise).
fn finishes_within_10_s(file: &Path, dir: &Path) {
    finishes_within_10_s_with("run", file, dir)
}

/// `sharesim COMMAND FILE` ends (exit 0 or 2) within 10 s: a hang detector
/// (the runs take well under a second), not a speed test.
fn finishes_within_10_s_with(command: &str, file: &Path, dir: &Path) {
    let mut child = std::process::Command::new(BIN)
        .args([command, file.to_str().unwrap(), "--no-charts", "--out"])
        .arg(dir.join("out"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(10) {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.code() == Some(0) || status.code() == Some(2),
                "{status:?}"
            );
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    panic!("{} still running after 10 s", file.display());
}

/// The fuzzer's `crash-93b27fff...` (`scenario_params`, an Erlang-32 service
/// with `mean_s = 5e-324`), minimised by hand to Erlang-2: the mean is
/// "greater than 0", but the scale mean / k underflows to 0, and
/// `rand_distr::Gamma::new` refuses it; `Dist::gamma_mean_shape` unwraps
/// that refusal, so loading the scenario panics (`sharesim run` exits 101
/// with "validated shape and scale: ScaleTooSmall"). It must be refused
/// naming the key, or accepted.
#[test]
fn erlang_with_a_subnormal_mean_does_not_panic() {
    let text = scenario_with_service("distribution = \"erlang\"\nmean_s = 5e-324\nk = 2");
    if let Err(e) = Scenario::from_toml_str(&text, Path::new("fuzz.toml")) {
        let msg = e.to_string();
        assert!(msg.contains("service"), "refused without naming it: {msg}");
    }
}

/// The `scenario_classes` target's `crash-2cc2eecb...` and `crash-461b3cf0...`
/// (minimised by hand): a generic placement's `service_scale` of 1.6e307
/// (and 2e175) passes "greater than 0", but the scaled service times
/// overflow: `wait_mean_s`, `response_mean_s` and the offered utilisation
/// were written as `inf`. Now refused naming the key.
#[test]
fn enormous_service_scale_is_refused_not_written_as_inf() {
    for scale in ["1.6084179473629493e307", "1.975557620106302e175", "2e6"] {
        let text = format!(
            "{}service_scale = {scale}\n",
            scenario_with_service("distribution = \"exponential\"\nmean_s = 2.5")
        );
        let err = Scenario::from_toml_str(&text, Path::new("fuzz.toml"))
            .err()
            .unwrap_or_else(|| panic!("service_scale = {scale} accepted"));
        let msg = err.to_string();
        assert!(
            msg.contains("placements[1].service_scale") && msg.contains("at most"),
            "{msg}"
        );
    }
    // The largest accepted scale runs with finite numbers only.
    refused_or_finite(&format!(
        "{}service_scale = 1e6\n",
        scenario_with_service("distribution = \"exponential\"\nmean_s = 2.5")
    ));
}

/// Found by the `scenario_classes` target's helper run: a dedicated
/// device's peak offered utilisation multiplied two long service times
/// (`es * class_mean / mean`) and overflowed to `inf` once a scaled service
/// time passed ~1.3e154 s, even with `service_scale = 2`.
#[test]
fn long_service_times_do_not_overflow_the_offered_utilisation() {
    let text = "horizon_s = 7200\nreplications = 1\n\
                [users]\ncount = 8\nrequests_per_day = 5\n\
                [service]\ndistribution = \"deterministic\"\nvalue_s = 1.2e154\n\
                [[placements]]\nname = \"local\"\nkind = \"dedicated\"\nservice_scale = 2\n";
    refused_or_finite(text);
}

/// Found the same way: a class that sends almost nothing (2.2e-241 requests
/// a day) made `size` ask for a probe window of ~1e245 s, walked day by day:
/// it never ended. Probe windows are now capped at 100 years (the probe is
/// then reported too short).
#[test]
fn sizing_a_class_that_sends_almost_nothing_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let text = "seed = 2053199106\nhorizon_s = 16473.0\nwarmup_s = 11695.0\nreplications = 1\n\
                [users]\ncount = 140\n\
                [[classes]]\nname = \"c0\"\nshare = 1.0\nrequests_per_day = 2.2266028525347732e-241\n\
                service = { distribution = \"lognormal\", mean_s = 0.468, cv = 0.468 }\n\
                [[placements]]\nname = \"p0\"\nkind = \"dedicated\"\n\
                [[placements]]\nname = \"p1\"\nkind = \"pooled\"\nservers = 5\n\
                [service_level]\nresponse_p99_s = 1000.0\n\
                [sizing]\npool_sizes = [10, \"all\"]\nmin_measured_requests = 348\nmax_servers = 64\n";
    let file = write(dir.path(), "tiny-class.toml", text);
    finishes_within_10_s_with("size", &file, dir.path());
}
