//! The instant estimate (`sharesim estimate`): exact Erlang-C on M/M/c
//! pools, instant on every shipped scenario, the same figure `size` writes
//! beside every simulated size, and within the error docs/model.md reports
//! ("The instant estimate") on the shipped LLM scenarios.

use std::path::Path;
use std::time::{Duration, Instant};

use sharesim::results::{get, Row, Value};
use sharesim::sizing::estimate_rows;

use crate::support::{
    assert_success, documented, f64_column, read_parquet, repo_file, scenario, sharesim, write,
};

/// The error docs/model.md reports on the shipped LLM scenarios (run
/// `scripts/estimate-error.sh`): the estimate never has fewer servers than
/// the simulated size, and at most twice as many.
const LLM_RATIO_MIN: f64 = 1.0;
const LLM_RATIO_MAX: f64 = 2.0;

/// `sharesim estimate FILE --format json`: its rows, and how long it took.
fn estimate_json(file: &Path) -> (Vec<serde_json::Value>, Duration) {
    let started = Instant::now();
    let o = sharesim()
        .arg("estimate")
        .arg(file)
        .args(["--format", "json", "--quiet"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_success(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON rows");
    (v.as_array().expect("an array of rows").clone(), took)
}

fn mmc_file(dir: &Path, rate_per_s: f64, target: &str) -> std::path::PathBuf {
    write(
        dir,
        "mmc.toml",
        format!(
            "seed = 5\nhorizon_s = 10000\nwarmup_s = 500\nreplications = 5\n\
             [users]\ncount = 1000\nrequests_per_day = {rpd}\n\
             [service]\ndistribution = \"exponential\"\nmean_s = 1.0\n\
             [[placements]]\nname = \"local\"\nkind = \"dedicated\"\n\
             [[placements]]\nname = \"pool\"\nkind = \"pooled\"\nservers = 1\n\
             [service_level]\n{target}\n",
            rpd = rate_per_s * 86_400.0 / 1000.0
        ),
    )
}

fn pooled_at(rows: &[serde_json::Value], pool_size: u64) -> &serde_json::Value {
    rows.iter()
        .find(|r| r["kind"] == "pooled" && r["pool_size"].as_u64() == Some(pool_size))
        .expect("a pooled row at that pool size")
}

#[test]
fn estimate_is_exact_erlang_c_on_mmc_pools() {
    // The two M/M/c cases tests/sizing.rs sizes by simulation to 19 and 118
    // servers (and checks the estimate equals them there): a = 10 with
    // P(wait > 0) <= 1 %, a = 100 with P(wait > 0.1 s) <= 1 %.
    let dir = tempfile::tempdir().unwrap();
    for (rate, target, servers) in [
        (
            10.0,
            "p_wait_above_s = 0\np_wait_above_share_max = 0.01",
            19.0,
        ),
        (
            100.0,
            "p_wait_above_s = 0.1\np_wait_above_share_max = 0.01",
            118.0,
        ),
    ] {
        let file = mmc_file(dir.path(), rate, target);
        let (rows, _) = estimate_json(&file);
        let pool = pooled_at(&rows, 1000);
        assert_eq!(pool["estimate_servers_per_pool"].as_f64(), Some(servers));
        assert_eq!(pool["estimate_method"], "Erlang-C");
        assert!((pool["peak_load_erlangs_per_pool"].as_f64().unwrap() - rate).abs() < 1e-9);
        let local = rows.iter().find(|r| r["kind"] == "dedicated").unwrap();
        assert_eq!(local["estimate_servers_per_pool"].as_f64(), Some(1000.0));
        let factor = pool["estimate_sharing_factor_devices"].as_f64().unwrap();
        assert!((factor - 1000.0 / servers).abs() < 1e-9, "{factor}");
    }
}

#[test]
fn estimate_is_instant_on_every_shipped_scenario() {
    // Well under a second each (docs/model.md reports the measured times;
    // generous here: the test machine is shared), and one row per
    // placement and pool size of every point.
    for entry in std::fs::read_dir(repo_file("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let (rows, took) = estimate_json(&path);
        assert!(
            took < Duration::from_secs(2),
            "{}: {took:?}",
            path.display()
        );
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if name == "default" {
            let sweep = sharesim::sweep::Sweep::load(&path).unwrap();
            let per_point = estimate_rows(&sweep.points[0].scenario).len();
            assert_eq!(rows.len(), sweep.points.len() * per_point);
            assert!(rows.iter().all(|r| r["sweep_users.duty_cycle"].is_string()));
        }
    }
}

fn f(r: &Row, c: &str) -> Option<f64> {
    get(r, c).and_then(Value::as_f64)
}

#[test]
fn size_carries_the_estimate_within_the_documented_error() {
    for name in ["llm-chat", "small-models"] {
        let file = repo_file(&format!("scenarios/{name}.toml"));
        let dir = tempfile::tempdir().unwrap();
        let o = sharesim()
            .arg("size")
            .arg(&file)
            .arg("--out")
            .arg(dir.path())
            .args(["--no-charts"])
            .output()
            .unwrap();
        assert_success(&o);
        let df = read_parquet(&dir.path().join(name).join("sizing.parquet"));
        for c in [
            "estimate_servers_per_pool",
            "estimate_servers_total",
            "estimate_error_share",
        ] {
            assert!(df.column(c).is_ok(), "{name}: sizing.parquet lacks {c}");
            assert!(documented(c), "{c} is not in docs/results-schema.md");
        }
        let s = sharesim::scenario::Scenario::load(&file).unwrap();
        let estimated = estimate_rows(&s);
        let (kinds, sizes, servers, est, total, est_total, err) = (
            df.column("kind").unwrap().str().unwrap().clone(),
            df.column("pool_size").unwrap().u64().unwrap().clone(),
            f64_column(&df, "servers_per_pool"),
            f64_column(&df, "estimate_servers_per_pool"),
            f64_column(&df, "servers_total"),
            f64_column(&df, "estimate_servers_total"),
            f64_column(&df, "estimate_error_share"),
        );
        let placements = df.column("placement").unwrap().str().unwrap().clone();
        let mut pooled = 0;
        for i in 0..df.height() {
            if let (Some(e), Some(n)) = (est_total[i], total[i]) {
                let share = err[i].expect("an error beside both sizes");
                assert!((share - (e / n - 1.0)).abs() < 1e-12);
            }
            if kinds.get(i) != Some("pooled") {
                continue;
            }
            pooled += 1;
            // The same figure `sharesim estimate` prints.
            let mine = estimated
                .iter()
                .find(|r| {
                    get(r, "placement").map(Value::display).as_deref() == placements.get(i)
                        && f(r, "pool_size") == sizes.get(i).map(|k| k as f64)
                })
                .expect("an estimate row for every sizing row");
            assert_eq!(f(mine, "estimate_servers_per_pool"), est[i]);
            let (e, n) = (est[i].unwrap(), servers[i].unwrap());
            assert!(
                (LLM_RATIO_MIN..=LLM_RATIO_MAX).contains(&(e / n)),
                "{name} {:?} pools of {:?}: estimate {e} vs simulated {n}",
                placements.get(i),
                sizes.get(i)
            );
        }
        assert!(pooled >= 4, "{name}: {pooled} pooled rows");
    }
}

#[test]
fn estimate_rows_match_the_search_starts() {
    // `estimate` builds on the sizing search's start: the estimate is its
    // first guess wherever the search bound does not cap it.
    let s = scenario(crate::support::scenarios::generic!(
        "horizon_s = 20000\nwarmup_s = 1000\nreplications = 2"
    ));
    let rows = estimate_rows(&s);
    for st in sharesim::sizing::search_starts(&s) {
        let (guess, max) = st.start.clone().unwrap();
        let row = rows
            .iter()
            .find(|r| {
                f(r, "pool_size") == Some(st.pool_size as f64)
                    && get(r, "kind").map(Value::display).as_deref() == Some("pooled")
            })
            .unwrap();
        let e = f(row, "estimate_servers_per_pool").unwrap();
        assert_eq!(st.estimate, Some(e as usize));
        if guess < max {
            assert_eq!(e as usize, guess);
        }
    }
}
