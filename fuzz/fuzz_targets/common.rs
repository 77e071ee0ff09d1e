//! Shared by the fuzz targets: which scenarios are cheap enough to simulate
//! in one fuzz iteration, the invariants every result row must keep, and
//! the helpers that spell scenario TOML. (Each target uses part of it.)
#![allow(dead_code)]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use sharesim::run::run_scenario;
use sharesim::scenario::{PlacementKind, Scenario};
use sharesim::table::{get, Row, Value};

/// TOML spelling of an f64 (`inf`, `nan` as TOML writes them).
pub fn f(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:?}")
    }
}

/// One of `xs`, chosen by the input.
pub fn pick<'a>(u: &mut Unstructured, xs: &[&'a str]) -> Result<&'a str> {
    Ok(xs[u.choose_index(xs.len())?])
}

/// A replication row's counts add up: arrived = completed by the horizon
/// + in flight at the horizon + rejected.
pub fn assert_counts_add_up(row: &Row) {
    let n = |c: &str| match get(row, c) {
        Some(Value::U64(v)) => *v,
        other => panic!("column {c}: {other:?}"),
    };
    assert_eq!(
        n("arrived"),
        n("completed_by_horizon") + n("in_flight_at_horizon") + n("rejected"),
        "counts do not add up: {row:?}"
    );
}

/// Whether one replication of `s` is cheap enough for a fuzz iteration.
pub fn small(s: &Scenario) -> bool {
    let expected = s.requests_per_user_per_day * s.users as f64 * s.horizon_s / 86_400.0;
    let servers_ok = s.placements.iter().all(|p| match p.kind {
        PlacementKind::Pooled { servers, .. } => servers <= 256,
        PlacementKind::Dedicated => true,
    });
    let tokens_ok = (0..s.placements.len()).all(|p| {
        s.mean_tokens(p)
            .is_none_or(|(i, o)| i < 20_000.0 && o < 2_000.0)
    });
    expected.is_finite()
        && expected < 3_000.0
        && s.users <= 5_000
        && s.horizon_s <= 1e7
        && s.placements.len() <= 4
        && servers_ok
        && tokens_ok
        && s.trace.is_none()
}

/// One replication of `s`; panics if a row breaks an invariant.
pub fn run_and_check(s: &mut Scenario) {
    s.replications = 1;
    let results = run_scenario(s);
    for row in &results.replications {
        assert_counts_add_up(row);
        for (name, v) in row {
            if let Value::F64(Some(x)) = v {
                assert!(x.is_finite(), "{name} = {x}: {row:?}");
            }
        }
        if let Some(Value::F64(Some(u))) = get(row, "utilization") {
            assert!((0.0..=1.0 + 1e-9).contains(u), "utilization {u}: {row:?}");
        }
        if let Some(Value::F64(Some(k))) = get(row, "kv_occupancy") {
            assert!((0.0..=1.0 + 1e-9).contains(k), "kv_occupancy {k}: {row:?}");
        }
    }
    for table in [&results.summary, &results.latency_cdf, &results.timeline] {
        for row in table.iter() {
            for (name, v) in row {
                if let Value::F64(Some(x)) = v {
                    assert!(x.is_finite(), "{name} = {x}: {row:?}");
                }
            }
        }
    }
}
