//! Summaries (summary.parquet, classes.parquet): a placement's
//! replication rows reduced to means and 95 % confidence half-widths and
//! judged against the service level ([`summary_row`]), and a hybrid's row
//! summing its parts.

use crate::core::stats::Estimate;
use crate::results::columns;
use crate::results::table::{cell, get, join_column, sum_column, Row, Value};
use crate::scenario::Scenario;

use super::bill::{summed_bill_cells, BILL_ID_COLUMNS};

/// Columns that identify a row rather than measure something.
const ID_COLUMNS: [&str; 38] = [
    "scenario",
    columns::PLACEMENT,
    columns::KIND,
    "class",
    "classes",
    "dispatch",
    "replication",
    "seed",
    "unstable",
    "users",
    "servers",
    "prefill_servers",
    "decode_servers",
    "horizon_s",
    "warmup_s",
    "offered_load_erlangs",
    "offered_utilization",
    "peak_offered_utilization",
    "requests_per_user_per_day",
    "model",
    "quantisation",
    "device",
    "tensor_parallel",
    "max_batch",
    "network_rtt_s",
    "memory_price_multiplier",
    columns::DEVICES_TOTAL,
    columns::MEM_GB_TOTAL,
    columns::MEM_GB_PER_USER,
    columns::CAPEX_USD_TOTAL,
    columns::CAPEX_USD_PER_USER,
    "rental_usd_per_day",
    columns::BENCHMARK_SETUP,
    columns::CONCURRENCY,
    columns::INPUT_TOKENS,
    columns::OUTPUT_TOKENS,
    columns::ON_OUTAGE,
    columns::FALLBACK,
];

/// Summarise replication rows of one placement: identifiers from the first
/// row, then for every numeric column its mean and `<column>_ci95`.
pub fn summary_row(s: &Scenario, rows: &[&Row]) -> Row {
    let first = rows[0];
    let mut out: Row = first
        .iter()
        .filter(|(n, _)| {
            (ID_COLUMNS.contains(&n.as_str()) || BILL_ID_COLUMNS.contains(&n.as_str()))
                && n != "replication"
        })
        .cloned()
        .collect();
    let any_unstable = rows
        .iter()
        .any(|r| matches!(get(r, "unstable"), Some(Value::Bool(Some(true)))));
    for c in out.iter_mut() {
        if c.0 == "unstable" {
            c.1 = Value::Bool(Some(any_unstable));
        }
    }
    out.push(cell("replications", Value::U64(rows.len() as u64)));
    for (name, v) in first.iter() {
        if ID_COLUMNS.contains(&name.as_str())
            || BILL_ID_COLUMNS.contains(&name.as_str())
            || matches!(v, Value::Str(_) | Value::Bool(_))
        {
            continue;
        }
        let est = Estimate::from_values(rows.iter().map(|r| get(r, name).and_then(Value::as_f64)));
        out.push(cell(name.clone(), Value::F64(est.map(|e| e.mean))));
        out.push(cell(
            format!("{name}_ci95"),
            Value::F64(est.and_then(|e| e.ci95.is_finite().then_some(e.ci95))),
        ));
    }
    let verdict = crate::slo::judge(s, rows);
    let met = verdict.as_ref().map(|v| v.met);
    out.push(cell(
        columns::SLO_DETAIL,
        Value::Str(verdict.map_or_else(String::new, |v| v.describe())),
    ));
    out.push(cell("slo_met", Value::Bool(met)));
    out
}

/// A hybrid's summary row: its parts' hardware, memory, capital and energy
/// summed (per-user figures over every user of the scenario); its service
/// level holds when every part's does.
pub(crate) fn hybrid_summary_row(
    s: &Scenario,
    name: &str,
    parts: &[usize],
    summary: &[Row],
) -> Row {
    let users = s.users as f64;
    let parts: Vec<&Row> = parts.iter().map(|&j| &summary[j]).collect();
    let sum = |c: &str| sum_column(&parts, c);
    let met: Option<bool> = parts
        .iter()
        .map(|r| match get(r, "slo_met") {
            Some(Value::Bool(b)) => *b,
            _ => None,
        })
        .collect::<Option<Vec<bool>>>()
        .map(|v| v.iter().all(|m| *m));
    let unstable = parts
        .iter()
        .any(|r| matches!(get(r, "unstable"), Some(Value::Bool(Some(true)))));
    let mut row = vec![
        cell("scenario", Value::Str(s.name.clone())),
        cell(columns::PLACEMENT, Value::Str(name.to_string())),
        cell(columns::KIND, Value::Str("hybrid".into())),
        cell("classes", Value::Str(s.all_classes_label())),
        cell(
            "parts",
            Value::Str(join_column(&parts, columns::PLACEMENT, "+")),
        ),
        cell("device", Value::Str(join_column(&parts, "device", "+"))),
        cell("unstable", Value::Bool(Some(unstable))),
        cell("users", Value::U64(s.users as u64)),
        cell(
            columns::DEVICES_TOTAL,
            Value::F64(sum(columns::DEVICES_TOTAL)),
        ),
        cell(
            columns::MEM_GB_TOTAL,
            Value::F64(sum(columns::MEM_GB_TOTAL)),
        ),
        cell(
            columns::MEM_GB_PER_USER,
            Value::F64(sum(columns::MEM_GB_TOTAL).map(|m| m / users)),
        ),
        cell(
            columns::CAPEX_USD_TOTAL,
            Value::F64(sum(columns::CAPEX_USD_TOTAL)),
        ),
        cell(
            columns::CAPEX_USD_PER_USER,
            Value::F64(sum(columns::CAPEX_USD_TOTAL).map(|m| m / users)),
        ),
        cell(
            columns::ENERGY_KWH_PER_DAY_TOTAL,
            Value::F64(sum(columns::ENERGY_KWH_PER_DAY_TOTAL)),
        ),
        cell(
            "energy_kwh_per_user_per_day",
            Value::F64(sum(columns::ENERGY_KWH_PER_DAY_TOTAL).map(|m| m / users)),
        ),
        cell(
            columns::SLO_DETAIL,
            Value::Str(join_column(&parts, columns::SLO_DETAIL, "; ")),
        ),
        cell("slo_met", Value::Bool(met)),
    ];
    row.extend(summed_bill_cells(&parts, users));
    row
}
