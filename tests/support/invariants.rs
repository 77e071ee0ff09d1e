//! Invariants every simulated result keeps, checked by the tests and by the
//! fuzz targets alike (`fuzz/fuzz_targets/common.rs` includes this file with
//! `#[path]`, so it depends on the sharesim library only): a replication
//! row's counts add up, and so do a placement's class rows; shares stay in
//! [0, 1]; no table holds NaN or an infinity.

use sharesim::results::{get, Row, Value};
use sharesim::run::RunResults;

/// The count in column `c` of `row`: a `U64` cell (an identifier or input)
/// or a whole, non-negative `F64` (a count measured in a replication, f64
/// like every measured column); anything else panics, naming the column.
pub fn u64_of(row: &Row, c: &str) -> u64 {
    match get(row, c) {
        Some(Value::U64(v)) => *v,
        Some(Value::F64(Some(x))) if *x >= 0.0 && x.fract() == 0.0 && *x < 2f64.powi(53) => {
            *x as u64
        }
        other => panic!("column {c} is not a count: {other:?}"),
    }
}

/// A replication row's counts add up: arrived = completed by the horizon
/// + in flight at the horizon + rejected.
pub fn assert_counts_add_up(row: &Row) {
    assert_eq!(
        u64_of(row, "arrived"),
        u64_of(row, "completed_by_horizon")
            + u64_of(row, "in_flight_at_horizon")
            + u64_of(row, "rejected"),
        "counts do not add up: {row:?}"
    );
}

/// Each placement's class rows (`classes.parquet`) add up to its measured
/// requests.
pub fn assert_class_rows_add_up(r: &RunResults) {
    let placement = |row: &Row| match get(row, "placement") {
        Some(Value::Str(s)) => s.clone(),
        _ => String::new(),
    };
    let measured = |row: &Row| get(row, "measured").and_then(Value::as_f64);
    for p in &r.summary {
        let name = placement(p);
        let class_sum: f64 = r
            .classes
            .iter()
            .filter(|c| placement(c) == name)
            .map(|c| measured(c).unwrap_or_else(|| panic!("class row without `measured`: {c:?}")))
            .sum();
        if class_sum > 0.0 {
            let m = measured(p);
            assert!(
                m.is_some_and(|m| (class_sum - m).abs() < 1e-6 * class_sum.max(1.0)),
                "placement {name}: class rows measure {class_sum}, the placement {m:?}"
            );
        }
    }
}

/// Column `c` of `row`, when it holds a number, is a share: in [0, 1] (the
/// 1e-9 allows for the rounding of a sum of many busy periods of a server
/// that is never idle).
pub fn assert_share_if_set(row: &Row, c: &str) {
    if let Some(Value::F64(Some(x))) = get(row, c) {
        assert!((0.0..=1.0 + 1e-9).contains(x), "{c} {x}: {row:?}");
    }
}

/// Every f64 cell of the rows of `table` is a number (nulls are allowed:
/// they stand for "nothing measured"), never NaN or infinite.
pub fn assert_finite(table: &str, rows: &[Row]) {
    for row in rows {
        for (name, v) in row {
            if let Value::F64(Some(x)) = v {
                assert!(x.is_finite(), "{table}.{name} = {x} in {row:?}");
            }
        }
    }
}

/// [`assert_finite`] for every table a run writes.
pub fn assert_all_finite(r: &RunResults) {
    for (table, rows) in [
        ("results", &r.replications),
        ("summary", &r.summary),
        ("latency_cdf", &r.latency_cdf),
        ("timeline", &r.timeline),
    ] {
        assert_finite(table, rows);
    }
}
