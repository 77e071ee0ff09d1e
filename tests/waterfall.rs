//! The decomposition waterfall (`sharesim waterfall`, docs/model.md section
//! 23): each step the ratio of two sized fleets, checked against closed
//! forms (Erlang-C), against separate `size` runs, and against each other
//! (the steps multiply to the total; a flat day in one time zone has a
//! time-zone step of exactly 1); the same bytes for 1 and 2 threads.

use sharesim::core::min_servers_for_wait_tail;
use sharesim::results::Row;
use sharesim::scenario::Counterfactual;
use sharesim::sizing::{parse_order, size_scenario, waterfall, Step, DEFAULT_ORDER};

use crate::support::scenarios::desktop_and_h100_pool;
use crate::support::{
    assert_success, documented, f64_of, num, read_parquet, row_of, scenario, sharesim, text, write,
};

/// M/M/c: 1,000 users sending `a` requests per second in all, exponential
/// 1 s service, P(wait > 0.5 s) <= 5 %; `extra` goes after `[users]`.
fn mmc(a: f64, extra: &str) -> String {
    format!(
        "seed = 5\nhorizon_s = 20000\nwarmup_s = 500\nreplications = 10\n\
         [users]\ncount = 1000\nrequests_per_day = {rpd}\n{extra}\n\
         [service]\ndistribution = \"exponential\"\nmean_s = 1.0\n\
         [[placements]]\nname = \"local\"\nkind = \"dedicated\"\n\
         [[placements]]\nname = \"pool\"\nkind = \"pooled\"\nservers = 1\n\
         [service_level]\np_wait_above_s = 0.5\np_wait_above_share_max = 0.05\n\
         [sizing]\nmin_measured_requests = 1000\n",
        rpd = a * 86_400.0 / 1000.0
    )
}

/// The step named `step` of the waterfall rows.
fn step<'a>(rows: &'a [Row], step: &str) -> &'a Row {
    rows.iter()
        .find(|r| text(r, "step") == step)
        .unwrap_or_else(|| panic!("no step {step}"))
}

/// The steps multiply to the total, which is devices before the first step
/// over devices after the last.
#[track_caller]
fn assert_steps_multiply(rows: &[Row]) {
    let product: f64 = rows.iter().map(|r| num(r, "factor")).product();
    let total = num(&rows[0], "total_factor");
    assert!(
        (product / total - 1.0).abs() < 1e-12,
        "product {product} vs total {total}"
    );
    let first = num(&rows[0], "from_devices_total");
    let last = num(rows.last().unwrap(), "to_devices_total");
    assert!((first / last / total - 1.0).abs() < 1e-12);
    let cumulative = num(rows.last().unwrap(), "cumulative_factor");
    assert!((cumulative / total - 1.0).abs() < 1e-12);
    // Each step's "after" fleet is the next step's "before".
    for w in rows.windows(2) {
        assert_eq!(text(&w[0], "to_fleet"), text(&w[1], "from_fleet"));
        assert_eq!(
            f64_of(&w[0], "to_devices_total"),
            f64_of(&w[1], "from_devices_total")
        );
    }
}

#[test]
fn multiplexing_step_of_mmc_is_the_erlang_c_ratio() {
    let a = 10.0;
    let s = scenario(&mmc(a, ""));
    let out = waterfall(&s, &DEFAULT_ORDER);
    let rows = &out.steps;
    assert_eq!(rows.len(), 6);
    // Idle time: 1,000 devices over the 10 Erlangs of offered load.
    let idle = step(rows, "idle_time");
    assert_eq!(num(idle, "from_devices_total"), 1000.0);
    assert_eq!(num(idle, "to_devices_total"), a);
    assert_eq!(num(idle, "factor"), 1000.0 / a);
    // Multiplexing: the busy fleet over the Erlang-C size, exactly.
    let c = min_servers_for_wait_tail(a, 1.0, 0.5, 0.05);
    let pool = step(rows, "pool_size");
    assert_eq!(num(pool, "to_devices_total"), c as f64);
    assert_eq!(num(pool, "factor"), a / c as f64);
    let multiplexing: f64 = ["pool_size", "diurnal_profile", "time_zones"]
        .iter()
        .map(|n| num(step(rows, n), "factor"))
        .product();
    assert_eq!(multiplexing, a / c as f64);
    // A flat day in one time zone: those steps are 1; generic servers do
    // not batch.
    for n in ["diurnal_profile", "time_zones", "batching"] {
        assert_eq!(num(step(rows, n), "factor"), 1.0, "{n}");
    }
    assert_steps_multiply(rows);
    // The total is size's own devices factor.
    let sized = size_scenario(&s).rows;
    assert_eq!(
        num(&rows[0], "total_factor"),
        num(row_of(&sized, "pool"), "sharing_factor_devices")
    );
}

#[test]
fn time_zone_step_is_one_on_a_flat_day_and_counts_on_a_peaked_one() {
    // Three time zones on a flat day: the time-zone pool is the one-zone
    // pool (exactly 1). With an evening peak the zones spread the peaks.
    let zones = "timezones = [ { offset_h = -5, share = 0.4 }, { offset_h = 1, share = 0.35 }, { offset_h = 8, share = 0.25 } ]";
    let flat = scenario(&mmc(10.0, zones));
    assert!(flat.has_time_zones() && !flat.has_diurnal_profile());
    let plain = flat.canonical_counterfactual(1, Counterfactual::PLAIN);
    let zoned = flat.canonical_counterfactual(
        1,
        Counterfactual {
            time_zones: true,
            ..Counterfactual::PLAIN
        },
    );
    assert_eq!(plain, zoned);
    let rows = waterfall(&flat, &DEFAULT_ORDER).steps;
    assert_eq!(num(step(&rows, "time_zones"), "factor"), 1.0);
    assert_eq!(num(step(&rows, "diurnal_profile"), "factor"), 1.0);
    assert_steps_multiply(&rows);

    let peaked = scenario(
        &mmc(10.0, &format!("profile = \"evening_peak\"\n{zones}")).replace(
            "horizon_s = 20000\nwarmup_s = 500\nreplications = 10",
            "horizon_h = 24\nwarmup_h = 0.5\nreplications = 4",
        ),
    );
    // One time zone: every group in the first group's; flat: every hour 1.
    let one = peaked.counterfactual_pool(0, 1, Counterfactual::PLAIN, 1000, "x");
    assert!(!one.has_time_zones() && !one.has_diurnal_profile());
    let rows = waterfall(&peaked, &DEFAULT_ORDER).steps;
    let day = num(step(&rows, "diurnal_profile"), "factor");
    let tz = num(step(&rows, "time_zones"), "factor");
    assert!(
        day < 1.0,
        "an evening peak needs more servers than a flat day: {day}"
    );
    assert!(tz > 1.0, "three time zones spread the peak: {tz}");
    assert_steps_multiply(&rows);
}

/// 1,000 gpt-oss-120b users at 1 % duty; `pool` goes after the pool's
/// `device` line.
fn llm(pool: &str) -> String {
    format!(
        "{}{}{pool}\nservers = 1\nnetwork_rtt_s = 0.05\n{}",
        r#"
seed = 4
horizon_h = 0.5
warmup_h = 0.1
replications = 3
[users]
count = 1000
duty_cycle = 0.01
[model]
name = "gpt_oss_120b"
quantisation = "mxfp4"
[requests]
input_tokens = { distribution = "lognormal", median = 1020, p99 = 4142 }
output_tokens = { distribution = "lognormal", median = 129, p99 = 601 }
"#,
        desktop_and_h100_pool!(),
        "[service_level]\nttft_p99_s = 8.0\ntpot_p99_s = 0.1\n[sizing]\nmin_measured_requests = 5000\n"
    )
}

#[test]
fn batching_step_of_an_llm_pool_equals_two_size_runs() {
    let s = scenario(&llm(""));
    // Hardware first, so that batching is the H100 pool's own.
    let order = parse_order("diurnal_profile,time_zones,hardware,batching").unwrap();
    let rows = waterfall(&s, &order).steps;
    let batching = step(&rows, "batching");
    let one = size_scenario(&scenario(&llm("max_batch = 1")));
    let default = size_scenario(&s);
    let devices = |r: &[Row]| num(row_of(r, "pool"), "devices_total");
    assert_eq!(num(batching, "from_devices_total"), devices(&one.rows));
    assert_eq!(num(batching, "to_devices_total"), devices(&default.rows));
    assert_eq!(
        num(batching, "factor"),
        devices(&one.rows) / devices(&default.rows)
    );
    assert!(num(batching, "factor") > 1.0, "batching saves H100s");
    assert_steps_multiply(&rows);
    assert_eq!(
        num(&rows[0], "total_factor"),
        num(row_of(&default.rows, "pool"), "sharing_factor_devices")
    );
}

#[test]
fn order_is_checked() {
    for (bad, says) in [
        ("batching,hardware,time_zones", "missing diurnal_profile"),
        ("batching,batching,hardware,time_zones", "named twice"),
        (
            "idle_time,batching,hardware,time_zones",
            "always comes first",
        ),
        (
            "batch,hardware,time_zones,diurnal_profile",
            "unknown step `batch`",
        ),
    ] {
        let e = parse_order(bad).unwrap_err();
        assert!(e.contains(says), "{bad}: {e}");
    }
    assert_eq!(
        parse_order("diurnal_profile,time_zones,batching,hardware").unwrap(),
        DEFAULT_ORDER
    );
    assert_eq!(Step::parse("hardware"), Some(Step::Hardware));
}

#[test]
fn command_writes_the_same_bytes_for_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "wf.toml", format!("name = \"wf\"\n{}", llm("")));
    let mut bytes = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("t{threads}"));
        let o = sharesim()
            .arg("waterfall")
            .arg(&path)
            .args(["--threads", threads, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert_success(&o);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(stdout.contains("the product of the 6 steps"), "{stdout}");
        let folder = out.join("wf");
        assert!(folder.join("decomposition-waterfall.png").exists());
        for name in ["waterfall", "waterfall_fleets"] {
            let df = read_parquet(&folder.join(format!("{name}.parquet")));
            assert!(df.height() > 0, "{name} is empty");
            for c in df.get_column_names() {
                let c = c.strip_suffix("_ci95").unwrap_or(c);
                assert!(documented(c), "{name}.parquet column {c} is not documented");
            }
        }
        bytes.push((
            std::fs::read(folder.join("waterfall.parquet")).unwrap(),
            std::fs::read(folder.join("waterfall_fleets.parquet")).unwrap(),
        ));
    }
    assert!(
        bytes[0] == bytes[1],
        "1 and 2 threads wrote different tables"
    );
}

#[test]
fn a_scenario_without_a_pair_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pooled_only = mmc(10.0, "").replace(
        "[[placements]]\nname = \"local\"\nkind = \"dedicated\"\n",
        "",
    );
    let path = write(dir.path(), "pool.toml", pooled_only);
    let o = sharesim()
        .arg("waterfall")
        .arg(&path)
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("pool.toml")
            && err.contains("placements")
            && err.contains("kind = \"dedicated\""),
        "{err}"
    );
    let o = sharesim()
        .arg("waterfall")
        .arg(&path)
        .args(["--order", "batching", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--order"));
}

#[test]
fn headline_states_the_total_or_the_fleet_that_misses() {
    use sharesim::charts::{chart_text, Chart};
    let s = scenario(&mmc(10.0, ""));
    let rows = waterfall(&s, &DEFAULT_ORDER).steps;
    let total = num(&rows[0], "total_factor");
    let title = chart_text(Chart::Waterfall, &crate::charts::df(&rows))
        .unwrap()
        .title;
    // 1,000 users over the Erlang-C pool, in the chart's words.
    let c = min_servers_for_wait_tail(10.0, 1.0, 0.5, 0.05);
    assert_eq!(total, 1000.0 / c as f64);
    assert!(
        title.starts_with("pool needs ") && title.contains("fewer devices than local"),
        "{title}"
    );
    assert!(!title.contains("misses"), "{title}");
    // The pool misses: no factor after it, no total; the headline says who.
    let missed: Vec<Row> = rows
        .into_iter()
        .map(|mut r| {
            let hit = text(&r, "step") == "pool_size";
            for (name, v) in r.iter_mut() {
                match name.as_str() {
                    "to_feasible" if hit => *v = sharesim::results::Value::Bool(Some(false)),
                    "factor" if hit => *v = sharesim::results::Value::F64(None),
                    "total_factor" | "cumulative_factor" => {
                        *v = sharesim::results::Value::F64(None)
                    }
                    _ => {}
                }
            }
            r
        })
        .collect();
    let title = chart_text(Chart::Waterfall, &crate::charts::df(&missed))
        .unwrap()
        .title;
    assert!(
        title.contains("no total")
            && title.contains("pool: batch 1, flat day, one time zone misses the service level"),
        "{title}"
    );
}
