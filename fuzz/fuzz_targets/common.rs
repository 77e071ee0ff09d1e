//! Shared by the fuzz targets: which scenarios are cheap enough to simulate
//! in one fuzz iteration, one checked replication (the invariants
//! themselves are the tests' own, in tests/support/invariants.rs), and the
//! helpers that spell scenario TOML. (Each target uses part of it.)
#![allow(dead_code)]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use sharesim::run::run_scenario;
use sharesim::scenario::{PlacementKind, Scenario};

#[path = "../../tests/support/invariants.rs"]
pub mod invariants;
use invariants::{assert_all_finite, assert_counts_add_up, assert_share_if_set};

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
        assert_share_if_set(row, "utilization_share");
        assert_share_if_set(row, "kv_occupancy_share");
    }
    assert_all_finite(&results);
}
