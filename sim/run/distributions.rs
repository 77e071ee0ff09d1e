//! Pooled distributions over all replications of a placement: latency
//! CDFs at fixed quantiles with the service level's bound
//! (latency_cdf.parquet) and load by minute of the day (timeline.parquet).

use super::{Measured, ReplicationOutcome};
use crate::core::stats::LatencyHistogram;
use crate::results::columns;
use crate::results::table::{cell, Row, Value};
use crate::scenario::Scenario;

/// Minutes from the simulation clock's midnight to the replayed trace's
/// clock time of day (a trace recorded from 18:15 starts at simulated time
/// 0, so its minute 0 is reported as 18:15). 0 without a trace clock, and
/// when the replay rescales time (`time_scale` != 1: a simulated minute is
/// then not a minute of the trace's clock, and the simulation clock is kept).
fn clock_shift_minutes(s: &Scenario) -> usize {
    match s.trace_clock {
        Some(c) if c.time_scale == 1.0 => {
            let minutes = (c.time_of_day_s(0.0) / 60.0).round() as usize;
            minutes % crate::metrics::MINUTES_PER_DAY
        }
        // Generated arrivals: the clock starts at `start_hour_of_day`.
        _ => (s.start_hour_of_day * 60.0).round() as usize % crate::metrics::MINUTES_PER_DAY,
    }
}

/// Quantiles at which the latency CDFs are tabulated.
fn cdf_quantiles() -> Vec<f64> {
    let mut q: Vec<f64> = (0..=99).map(|i| i as f64 / 100.0).collect();
    q.extend([0.995, 0.999, 0.9995, 0.9999, 1.0]);
    q
}

pub(crate) fn cdf_and_timeline(
    s: &Scenario,
    outcomes: &[ReplicationOutcome],
) -> (Vec<Row>, Vec<Row>) {
    let mut cdf = Vec::new();
    let mut timeline = Vec::new();
    for (pi, p) in s.placements.iter().enumerate() {
        let mine: Vec<&ReplicationOutcome> =
            outcomes.iter().filter(|o| o.placement == pi).collect();
        let Some(first) = mine.first() else { continue };
        let mut hists: Vec<(&str, LatencyHistogram)> = Vec::new();
        let mut tl = match &first.measured {
            Measured::Fcfs(r) => {
                hists.push(("wait", LatencyHistogram::new()));
                hists.push(("response", LatencyHistogram::new()));
                (*r.timeline).clone()
            }
            Measured::Llm(r, _) => {
                for n in ["wait", "ttft", "tpot", "e2e"] {
                    hists.push((n, LatencyHistogram::new()));
                }
                (*r.timeline).clone()
            }
        };
        for (k, o) in mine.iter().enumerate() {
            let sources: Vec<&LatencyHistogram> = match &o.measured {
                Measured::Fcfs(r) => vec![&r.wait, &r.response],
                Measured::Llm(r, _) => vec![&r.wait, &r.ttft, &r.tpot, &r.e2e],
            };
            for ((_, h), src) in hists.iter_mut().zip(sources) {
                h.merge(src);
            }
            if k > 0 {
                match &o.measured {
                    Measured::Fcfs(r) => tl.merge(&r.timeline),
                    Measured::Llm(r, _) => tl.merge(&r.timeline),
                }
            }
        }
        for (name, h) in &hists {
            for q in cdf_quantiles() {
                let Some(v) = h.quantile_s(q.max(1e-9)) else {
                    continue;
                };
                // The service level's bound on this latency, if any, so that
                // charts redrawn from this file alone can show it.
                let target = s
                    .service_level
                    .targets
                    .iter()
                    .find(|t| t.metric.name() == *name);
                cdf.push(vec![
                    cell("scenario", Value::Str(s.name.clone())),
                    cell(columns::PLACEMENT, Value::Str(p.name.clone())),
                    cell(columns::KIND, Value::Str(p.kind_name().into())),
                    cell("latency", Value::Str((*name).into())),
                    cell(columns::QUANTILE, Value::F64(Some(q))),
                    cell(columns::VALUE_S, Value::F64(Some(v))),
                    cell(
                        columns::SLO_QUANTILE,
                        Value::F64(target.map(|t| t.percentile / 100.0)),
                    ),
                    cell(columns::SLO_MAX_S, Value::F64(target.map(|t| t.max_s))),
                ]);
            }
        }
        let coverage = tl.coverage_s();
        let reps = mine.len() as f64;
        let servers = first.servers as f64;
        let shift = clock_shift_minutes(s);
        for clock_m in 0..coverage.len() {
            // Rows by minute of the trace's clock (the simulation clock
            // without a trace clock); `m` is the simulated minute.
            let m = (clock_m + coverage.len() - shift) % coverage.len();
            let cov = coverage[m] * reps;
            timeline.push(vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell(columns::PLACEMENT, Value::Str(p.name.clone())),
                cell(columns::KIND, Value::Str(p.kind_name().into())),
                cell(columns::MINUTE_OF_DAY, Value::U64(clock_m as u64)),
                cell(
                    columns::HOUR_OF_DAY,
                    Value::F64(Some(clock_m as f64 / 60.0)),
                ),
                cell("servers", Value::U64(servers as u64)),
                cell(
                    columns::ARRIVALS_PER_MIN,
                    Value::F64((cov > 0.0).then(|| tl.arrivals[m] as f64 / (cov / 60.0))),
                ),
                cell(
                    columns::BUSY_SERVERS,
                    Value::F64((cov > 0.0).then(|| tl.busy_s[m] / cov)),
                ),
            ]);
        }
    }
    (cdf, timeline)
}
