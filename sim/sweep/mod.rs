//! Sweeps: a scenario file with a `[sweep]` table runs `run` or `size` at
//! every point of a grid of scenario keys, in parallel, writing each finished
//! point at once so that nothing finished is ever lost.
//!
//! ```toml
//! [sweep]
//! mode = "size"                      # or "run"
//! zip = false                        # true: axes advance together
//! axes = [
//!   { key = "users.duty_cycle", values = [0.0002, 0.003, 0.01, 0.1] },
//!   { key = "costs.memory_price_multiplier", range = [1.0, 3.0, 5] },   # start, stop, points
//!   { key = "users.count", log_range = [100, 100000, 4] },
//!   { key = "placements[1].device", values = ["h100_sxm", "b200"] },
//! ]
//! ```
//!
//! An axis names any key of the scenario file by the same path the error
//! messages use; each point is the base file with those keys set, validated
//! like any scenario before anything runs. A point's id and seed derive from
//! its own assignments (`key=value` pairs), so adding a value to an axis
//! leaves every other point's results unchanged.
//!
//! Output, in `OUT/<scenario-name>/`: `sweep-manifest.toml` (every point,
//! written before the run), `parts/point_id=<id>/part.parquet` (one per
//! finished point, written atomically) with its check sidecar
//! `part-checks/point_id=<id>.toml` (size, checksum, fingerprint), and
//! `sweep.parquet`, the parts in point order, once every point is there
//! (column `partial` false), or the points finished when Ctrl-C stopped the
//! sweep (`partial` true). Rows are bit-identical for any thread count and any shard split.
//!
//! Every point has a [`Fingerprint`] of everything that determines its
//! rows; `--resume` keeps a part only when it matches its sidecar and its
//! fingerprint matches ([`plan_resume`]). The folder records the base
//! scenario's fingerprint ([`folder_record`], claimed through
//! [`crate::output::claim_folder`]).
//!
//! The grid is read in `grid`, fingerprints in `fingerprint`, parts on disk
//! in `parts`, the combination in `merge`. An uncertainty design (`uncertainty`:
//! Latin hypercube samples and one-at-a-time swings of a scenario's
//! `[uncertainty]` ranges) runs as a sweep of its own points, and `summary`
//! turns its rows into percentiles and swings.

mod fingerprint;
mod grid;
mod merge;
mod parts;
pub mod summary;
pub mod uncertainty;

use std::path::Path;

pub use fingerprint::{
    describe_changes, folder_record, read_folder_record, scenario_table, FileHashes, Fingerprint,
};
pub use grid::{set_path, DesignPoint, Point, Sweep, SweepMode};
pub use merge::{merge, merge_finished, MergeError, Merged};
pub use parts::{
    axis_column, move_stale_parts, plan_resume, run_point, run_points, write_manifest, PointDone,
    ResumePlan, SweepPaths,
};

impl Sweep {
    /// The record of this sweep's base scenario for its output folder.
    pub fn folder_record(&self) -> String {
        folder_record(&self.base_fingerprint, &self.source, &self.base_table)
    }
}

/// The folder record of scenario `text` from the file at `path` (for
/// `run`, `size` and `waterfall`: the file's text with the command line's
/// overrides), its `[sweep]` table left out; `None` if it does not parse
/// (it was validated already, so it does).
pub fn folder_record_of_text(text: &str, path: &Path) -> Option<String> {
    let table = scenario_table(text)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let fp = Fingerprint::of_table(&table, base, &FileHashes::default());
    Some(folder_record(&fp, path, &table))
}
