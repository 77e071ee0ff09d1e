//! Running a scenario: every placement in every replication, in parallel on
//! the caller's rayon pool (one task per placement x replication, each
//! single-threaded and seeded from (scenario seed, replication) only, so the
//! results do not depend on the number of threads). All placements of one
//! replication see the same arrivals and request sizes (common random
//! numbers): they read the same stream.
//!
//! Layout: `replication` (one placement in one replication, the request
//! adapters), `rows` (replication and class rows, cost cells),
//! `benchmark` (the columns of a benchmark scenario), `load`
//! (offered utilisation), `summary` (summaries and hybrids),
//! `distributions` (latency CDFs and day timelines), `memory` (the peak
//! memory estimate checked before a run starts); [`run_scenario`] here
//! puts them together. The public names are re-exported here.

use rayon::prelude::*;

use crate::results::columns;
use crate::results::table::{cell, get, rows_of_class, Row, Value};
use crate::scenario::Scenario;
use crate::slo::{judge_with_classes, set_verdict};

mod benchmark;
pub mod bill;
mod distributions;
mod load;
mod memory;
mod models;
mod outages;
mod replication;
mod resumable;
mod rows;
mod summary;

pub(crate) use load::dedicated_overloaded;
pub use load::llm_server_capacity_per_s;
pub use memory::{
    estimate_memory, estimate_sweep_memory, format_bytes, memory_available, MemoryEstimate, Work,
};
pub use outages::OutageCounts;
pub use replication::{run_replication, LlmRequests, Measured, ReplicationOutcome, Request};
pub use resumable::{resumable, ResumableReplication};
pub use rows::{class_rows, replication_row, PERCENTILES};
pub use summary::summary_row;

use distributions::cdf_and_timeline;
use summary::hybrid_summary_row;

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct RunResults {
    /// One row per placement x replication, placement-major.
    pub replications: Vec<Row>,
    /// One row per placement: means and 95 % confidence half-widths.
    pub summary: Vec<Row>,
    /// Latency distributions (all replications pooled): one row per
    /// placement, latency and quantile.
    pub latency_cdf: Vec<Row>,
    /// Load by minute of the day (all days and replications averaged): one
    /// row per placement and minute.
    pub timeline: Vec<Row>,
    /// Placements serving several classes: one summary row per placement
    /// and class, over that class's requests (classes.parquet).
    pub classes: Vec<Row>,
}

/// A placement with a fallback: its attainment with outages counts the
/// requests it sent there as the fallback's run judged them (same
/// replication).
fn add_fallback_attainment(s: &Scenario, outcomes: &[ReplicationOutcome], rows: &mut [Row]) {
    let reps = s.replications;
    for (p, placement) in s.placements.iter().enumerate() {
        let Some(name) = &placement.outage.fallback else {
            continue;
        };
        let f = s
            .placements
            .iter()
            .position(|q| &q.name == name)
            .expect("a fallback names a placement (resolved)");
        for r in 0..reps {
            let v = outages::attainment_with_outages(
                &outcomes[p * reps + r],
                Some(&outcomes[f * reps + r]),
            );
            for c in rows[p * reps + r].iter_mut() {
                if c.0 == columns::SLO_ATTAINMENT_SHARE_WITH_OUTAGES {
                    c.1 = Value::F64(v);
                }
            }
        }
    }
}

/// Run every placement x replication on the current rayon pool. Each
/// placement runs on its view (the classes it serves).
pub fn run_scenario(s: &Scenario) -> RunResults {
    let views: Vec<Scenario> = (0..s.placements.len()).map(|p| s.view(p)).collect();
    let tasks: Vec<(usize, usize)> = (0..s.placements.len())
        .flat_map(|p| (0..s.replications).map(move |r| (p, r)))
        .collect();
    let outcomes: Vec<ReplicationOutcome> = tasks
        .par_iter()
        .map(|&(p, r)| run_replication(&views[p], 0, r))
        .collect();
    let mut replications: Vec<Row> = outcomes
        .iter()
        .zip(&tasks)
        .map(|(o, &(p, _))| replication_row(&views[p], o))
        .collect();
    add_fallback_attainment(s, &outcomes, &mut replications);
    let mut summary = Vec::with_capacity(s.placements.len());
    let mut latency_cdf = Vec::new();
    let mut timeline = Vec::new();
    let mut classes = Vec::new();
    for (p, view) in views.iter().enumerate() {
        let range = p * s.replications..(p + 1) * s.replications;
        let rows: Vec<&Row> = replications[range.clone()].iter().collect();
        let mut row = summary_row(view, &rows);
        let per_class: Vec<Row> = outcomes[range.clone()]
            .iter()
            .flat_map(|o| class_rows(view, o))
            .collect();
        if !per_class.is_empty() {
            // The placement meets its service level only if every class does.
            let verdict = judge_with_classes(view, &rows, &per_class);
            set_verdict(&mut row, verdict);
            for class in &view.classes {
                let mine = rows_of_class(&per_class, &class.name);
                if !mine.is_empty() {
                    classes.push(summary_row(view, &mine));
                }
            }
        }
        let (mut cdf, mut tl) = cdf_and_timeline(view, &outcomes[range]);
        // The placement's verdict on every distribution row, so that a chart
        // drawn from latency_cdf.parquet or timeline.parquet alone states the
        // verdict the summary table prints.
        let verdict: Vec<(&str, Value)> = [columns::SLO_MET, columns::SLO_DETAIL]
            .into_iter()
            .filter_map(|c| Some((c, get(&row, c)?.clone())))
            .collect();
        for r in cdf.iter_mut().chain(tl.iter_mut()) {
            r.extend(verdict.iter().map(|(c, v)| cell(*c, v.clone())));
        }
        summary.push(row);
        latency_cdf.extend(cdf);
        timeline.extend(tl);
    }
    let hybrids: Vec<Row> = s
        .hybrids
        .iter()
        .map(|h| hybrid_summary_row(s, &h.name, &h.parts, &summary))
        .collect();
    summary.extend(hybrids);
    RunResults {
        replications,
        summary,
        latency_cdf,
        timeline,
        classes,
    }
}
