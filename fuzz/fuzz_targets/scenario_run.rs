//! Scenario text -> `Scenario::from_toml_str` -> when the scenario is small
//! (few expected requests, few servers), one replication of `run_scenario`.
//! A valid scenario must run without panicking, and its rows must keep the
//! documented invariants: counts add up, no NaN or infinite measurement,
//! utilisation in [0, 1]. A violated invariant is reported as a crash.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sharesim::scenario::Scenario;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/nonexistent-sharesim-fuzz/fuzz.toml");
    let Ok(mut s) = Scenario::from_toml_str(text, path) else {
        return;
    };
    if common::small(&s) {
        common::run_and_check(&mut s);
    }
});
