//! Scenario text -> `Scenario::from_toml_str`: any input must give `Ok` or a
//! typed `Err`, never a panic (libFuzzer reports a panic as a crash).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sharesim::scenario::Scenario;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A folder that does not exist: relative file references (empirical
    // distributions, catalogues, traces) fail to read instead of touching
    // whatever happens to be in the working directory.
    let path = Path::new("/nonexistent-sharesim-fuzz/fuzz.toml");
    if let Ok(s) = Scenario::from_toml_str(text, path) {
        // Cheap derived figures a run or a sizing starts with.
        let _ = s.offered_load_erlangs();
        for p in 0..s.placements.len() {
            let _ = s.mean_tokens(p);
        }
        let _ = s.service_level.describe();
    }
});
