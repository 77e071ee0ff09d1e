//! Trace bytes -> a temporary CSV -> `Trace::load` with the auto-detected
//! format, each preset and a custom mapping (milliseconds, date-time, user
//! and session columns), sorted or not; then the statistics, the fit and the
//! user assignment a scenario would run. Any input must give `Ok` or a typed
//! `Err`, never a panic.
//!
//! CSV only: the Parquet reader wraps polars in `catch_unwind`, and
//! libFuzzer's panic hook aborts before an unwind can be caught, so polars'
//! own panics on corrupt Parquet would be reported as sharesim crashes.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sharesim::workload::fit_trace;
use sharesim::workload::{ColumnMapping, ReplayOptions, TimeUnit, Trace, TraceFormat};

fn scratch() -> &'static PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        std::env::temp_dir().join(format!("sharesim-fuzz-trace-{}.csv", std::process::id()))
    })
}

fn formats() -> Vec<TraceFormat> {
    let custom = |time: &str, unit| {
        TraceFormat::Custom(ColumnMapping {
            time: time.into(),
            time_unit: unit,
            input_tokens: "in".into(),
            output_tokens: "out".into(),
            user: Some("user".into()),
            session: Some("session".into()),
        })
    };
    vec![
        TraceFormat::Azure,
        TraceFormat::RagPulse,
        custom("ms", TimeUnit::Milliseconds),
        custom("t", TimeUnit::DateTime),
        custom("s", TimeUnit::Seconds),
    ]
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    std::fs::write(path, data).expect("write the scratch file");
    let mut formats = formats();
    if let Ok(f) = TraceFormat::detect_file(path) {
        formats.insert(0, f);
    }
    // The first byte picks replay options, so scaling and offsets are fuzzed too.
    let k = data.first().copied().unwrap_or(0);
    let options = [
        ReplayOptions::default(),
        ReplayOptions {
            require_sorted: true,
            time_scale: [1.0, 0.5, 1e-9, 1e12][(k & 3) as usize],
            time_offset_s: [0.0, 100.0, -1.0, 1e15][((k >> 2) & 3) as usize],
            start_hour_of_day: [None, Some(0.0), Some(12.5), Some(23.999)][((k >> 4) & 3) as usize],
        },
    ];
    for format in &formats {
        for opts in &options {
            if let Ok(mut t) = Trace::load(path, format, opts) {
                let _ = t.stats();
                let fit = fit_trace(&t);
                let _ = fit.describe();
                let _ = fit.to_scenario_snippet();
                let _ = t.assign_users(1 + (k as u32 % 7));
            }
        }
    }
});
