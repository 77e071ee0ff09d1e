//! The whole bill of one placement's devices as result cells: total cost of
//! ownership per year by part, per user and per million output tokens,
//! operational and embodied carbon, HBM and the memory replaced each year
//! (docs/model.md section 19, columns in docs/results-schema.md). The
//! arithmetic is [`crate::scenario::cost`]'s; this only lays it out, and
//! sums the same columns over a hybrid's parts ([`summed_bill_cells`]).

use crate::llm::{Device, MemoryKind};
use crate::results::table::{cell, get, sum_column, Row, Value};
use crate::scenario::cost::{self, Fleet};
use crate::scenario::Scenario;

/// Days in a year (the bill is yearly; the simulated window is scaled).
pub const DAYS_PER_YEAR: f64 = 365.0;

/// (total per year, per user per year) column pairs: the totals add up over
/// a hybrid's parts and over pools; the per-user figure is the total over
/// every user of the scenario.
pub const BILL_PAIRS: [(&str, &str); 9] = [
    ("tco_usd_per_year_total", "tco_usd_per_user_year"),
    (
        "tco_memory_usd_per_year_total",
        "tco_memory_usd_per_user_year",
    ),
    (
        "tco_marginal_usd_per_year_total",
        "tco_marginal_usd_per_user_year",
    ),
    (
        "carbon_operational_kg_per_year_total",
        "carbon_operational_kg_per_user_year",
    ),
    (
        "carbon_embodied_kg_per_year_total",
        "carbon_embodied_kg_per_user_year",
    ),
    ("carbon_kg_per_year_total", "carbon_kg_per_user_year"),
    ("hbm_gb_total", "hbm_gb_per_user"),
    (
        "mem_gb_replaced_per_year_total",
        "mem_gb_replaced_per_user_year",
    ),
    (
        "output_mtokens_per_year_total",
        "output_mtokens_per_user_year",
    ),
];

/// The TCO parts, USD per year for the placement's whole fleet.
pub const TCO_PARTS: [&str; 7] = [
    "tco_accelerator_usd_per_year",
    "tco_host_usd_per_year",
    "tco_network_usd_per_year",
    "tco_facility_usd_per_year",
    "tco_energy_usd_per_year",
    "tco_operations_usd_per_year",
    "tco_rental_usd_per_year",
];

/// Bill columns that depend only on the fleet, not on what a replication
/// measured: summaries copy them from the first replication (no interval).
pub const BILL_ID_COLUMNS: [&str; 18] = [
    "ownership",
    "respects_local_only",
    "electricity_usd_per_kwh",
    "grid_g_co2_per_kwh",
    "tco_accelerator_usd_per_year",
    "tco_host_usd_per_year",
    "tco_network_usd_per_year",
    "tco_facility_usd_per_year",
    "tco_rental_usd_per_year",
    "tco_memory_usd_per_year_total",
    "tco_memory_usd_per_user_year",
    "carbon_embodied_kg_per_year_total",
    "carbon_embodied_kg_per_user_year",
    "carbon_embodied_memory_kg_per_year_total",
    "hbm_gb_total",
    "hbm_gb_per_user",
    "mem_gb_replaced_per_year_total",
    "mem_gb_replaced_per_user_year",
];

/// What one placement's devices drew and produced, scaled to a day.
pub(super) struct Drawn {
    /// Wall energy (after PUE) per day, kWh.
    pub wall_kwh_per_day: f64,
    /// The site's PUE the wall energy includes.
    pub pue: f64,
    /// Output tokens per second (LLM placements).
    pub output_tokens_per_s: Option<f64>,
}

/// The bill cells of placement `j`'s `devices` devices of `dev`, each
/// priced `capex_per_device_usd`.
pub(super) fn bill_cells(
    s: &Scenario,
    j: usize,
    dev: &Device,
    devices: f64,
    capex_per_device_usd: f64,
    drawn: &Drawn,
) -> Row {
    let p = &s.placements[j];
    let b = &p.billing;
    let users = s.users as f64;
    let fleet = Fleet {
        device: dev,
        devices,
        capex_per_device_usd,
        it_kwh_per_year: drawn.wall_kwh_per_day / drawn.pue * DAYS_PER_YEAR,
        pue: drawn.pue,
    };
    let tco = cost::tco(&s.costs, b, &fleet).ok();
    let co2 = cost::carbon(&s.costs, b, &fleet);
    let marginal = tco.and_then(|t| cost::marginal(&t, b, &fleet));
    let total = tco.map(|t| t.total());
    let mtok = drawn
        .output_tokens_per_s
        .map(|t| t * 86_400.0 * DAYS_PER_YEAR / 1e6);
    let hbm = if dev.ownership.memory_kind == MemoryKind::Hbm {
        devices * dev.mem_gb
    } else {
        0.0
    };
    let replaced = devices * dev.mem_gb / dev.ownership.lifetime_years;
    let totals = [
        total,
        tco.map(|t| t.memory),
        marginal,
        Some(co2.operational),
        Some(co2.embodied),
        Some(co2.operational + co2.embodied),
        Some(hbm),
        Some(replaced),
        mtok,
    ];
    let mut row = vec![
        cell("ownership", Value::Str(b.ownership.name().into())),
        cell(
            "respects_local_only",
            Value::Bool(Some(s.respects_local_only(j))),
        ),
        cell(
            "electricity_usd_per_kwh",
            Value::F64(Some(b.electricity_usd_per_kwh)),
        ),
        cell("grid_g_co2_per_kwh", Value::F64(Some(b.grid_g_co2_per_kwh))),
    ];
    let parts = tco.map(|t| {
        [
            t.accelerator,
            t.host,
            t.network,
            t.facility,
            t.energy,
            t.operations,
            t.rental,
        ]
    });
    for (n, name) in TCO_PARTS.iter().enumerate() {
        row.push(cell(*name, Value::F64(parts.map(|x| x[n]))));
    }
    for ((tot, per_user), v) in BILL_PAIRS.iter().zip(totals) {
        row.push(cell(*tot, Value::F64(v)));
        row.push(cell(*per_user, Value::F64(v.map(|x| x / users))));
    }
    row.push(cell(
        "carbon_embodied_memory_kg_per_year_total",
        Value::F64(Some(co2.embodied_memory)),
    ));
    row.push(per_million(
        "tco_usd_per_million_output_tokens",
        total,
        mtok,
    ));
    row
}

/// `total / million output tokens` (null without tokens).
fn per_million(name: &str, total: Option<f64>, mtok: Option<f64>) -> (String, Value) {
    cell(
        name,
        Value::F64(match (total, mtok) {
            (Some(t), Some(m)) if m > 0.0 => Some(t / m),
            _ => None,
        }),
    )
}

/// The bill columns of a hybrid: every total of [`BILL_PAIRS`] summed over
/// its `parts` (null when a part lacks it), per user over `users`; the cost
/// per million output tokens from the summed totals; and whether every part
/// respects the `local_only` classes.
pub(crate) fn summed_bill_cells(parts: &[&Row], users: f64) -> Row {
    let mut row = Vec::new();
    let respects = parts.iter().all(|r| {
        !matches!(
            get(r, "respects_local_only"),
            Some(Value::Bool(Some(false)))
        )
    });
    row.push(cell("respects_local_only", Value::Bool(Some(respects))));
    // Parts without output tokens (speech) add none.
    let some_sum = |c: &str| -> Option<f64> {
        let v: Vec<f64> = parts
            .iter()
            .filter_map(|r| get(r, c).and_then(Value::as_f64))
            .collect();
        (!v.is_empty()).then(|| v.iter().sum())
    };
    for (tot, per_user) in BILL_PAIRS {
        let v = match tot {
            "output_mtokens_per_year_total" => some_sum(tot),
            // Parts without a baseline (pooled ones) add their whole TCO.
            "tco_marginal_usd_per_year_total" => some_sum(tot).and_then(|_| {
                parts
                    .iter()
                    .map(|r| {
                        get(r, tot)
                            .and_then(Value::as_f64)
                            .or_else(|| get(r, "tco_usd_per_year_total").and_then(Value::as_f64))
                    })
                    .sum()
            }),
            _ => sum_column(parts, tot),
        };
        row.push(cell(tot, Value::F64(v)));
        row.push(cell(per_user, Value::F64(v.map(|x| x / users))));
    }
    let total = sum_column(parts, "tco_usd_per_year_total");
    let mtok = some_sum("output_mtokens_per_year_total");
    row.push(per_million(
        "tco_usd_per_million_output_tokens",
        total,
        mtok,
    ));
    row
}
