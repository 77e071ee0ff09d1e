//! What the sized fleets' bills say together: the memory price multiplier
//! at which a pooled answer costs what the dedicated one does
//! ([`add_breakeven`]), the cost of keeping `local_only` classes on the
//! user's device ([`add_cost_of_privacy`]), and the world report: every
//! sized answer's per-user figures extrapolated to `[world] users`, its
//! memory beside the world's yearly DRAM output ([`world_rows`]).

use crate::results::columns;
use crate::results::table::{cell, get, Row, Value};
use crate::run::bill::BILL_PAIRS;
use crate::scenario::cost::{breakeven_multiplier, LinearTco};
use crate::scenario::Scenario;

fn num(r: &Row, c: &str) -> Option<f64> {
    get(r, c).and_then(Value::as_f64)
}

fn text(r: &Row, c: &str) -> String {
    match get(r, c) {
        Some(Value::Str(s)) => s.clone(),
        _ => String::new(),
    }
}

fn is_dedicated(r: &Row) -> bool {
    text(r, columns::KIND) == "dedicated"
}

fn feasible(r: &Row) -> bool {
    matches!(get(r, "feasible"), Some(Value::Bool(Some(true))))
}

/// The bill columns of a sizing row of view `v`: each [`BILL_PAIRS`] total
/// over all pools (`total` of its per-user column), per user over
/// `all_users`, and the cost per million output tokens from the two totals
/// (null when infeasible).
pub(crate) fn sizing_bill_cells(
    v: &Scenario,
    feasible: bool,
    all_users: f64,
    total: &dyn Fn(&str) -> Option<f64>,
) -> Row {
    let mut bill: Row = vec![cell(
        "respects_local_only",
        Value::Bool(Some(v.respects_local_only(0))),
    )];
    for (tot, per_user) in BILL_PAIRS {
        let t = total(per_user).filter(|_| feasible);
        bill.push(cell(tot, Value::F64(t)));
        bill.push(cell(per_user, Value::F64(t.map(|x| x / all_users))));
    }
    let per_m = match (
        num(&bill, "tco_usd_per_year_total"),
        num(&bill, "output_mtokens_per_year_total"),
    ) {
        (Some(t), Some(m)) if m > 0.0 => Some(t / m),
        _ => None,
    };
    bill.push(cell("tco_usd_per_million_output_tokens", Value::F64(per_m)));
    bill
}

/// TCO per user-year as a function of the memory price multiplier.
fn linear(r: &Row, m0: f64) -> Option<LinearTco> {
    Some(LinearTco::from_total(
        num(r, "tco_usd_per_user_year")?,
        num(r, "tco_memory_usd_per_user_year")?,
        m0,
    ))
}

/// Add `breakeven_memory_price_multiplier` to every row: for a shared
/// answer, the multiplier at which the first dedicated row serving the
/// same classes costs as much per user-year (null for dedicated rows, and
/// where the two do not cross between 0 and 1000).
pub(crate) fn add_breakeven(s: &Scenario, rows: &mut [Row]) {
    let m0 = s.costs.memory_price_multiplier;
    let references: Vec<Row> = rows
        .iter()
        .filter(|r| is_dedicated(r) && feasible(r))
        .cloned()
        .collect();
    for row in rows.iter_mut() {
        let v = (!is_dedicated(row) && feasible(row))
            .then(|| {
                let d = references
                    .iter()
                    .find(|d| text(d, "classes") == text(row, "classes"))?;
                breakeven_multiplier(linear(d, m0)?, linear(row, m0)?)
            })
            .flatten();
        row.push(cell("breakeven_memory_price_multiplier", Value::F64(v)));
    }
}

/// Add `tco_without_privacy_usd_per_user_year` (the cheapest feasible row
/// of the same classes and pool size, counterfactuals that ignore
/// `local_only` included) and `cost_of_privacy_usd_per_user_year` (this
/// row's TCO above it) to every row that respects the `local_only` classes,
/// in a scenario that has any (null otherwise).
pub(crate) fn add_cost_of_privacy(s: &Scenario, rows: &mut [Row]) {
    let any = s.classes.iter().any(|c| c.local_only);
    let keyed: Vec<(String, Option<u64>, f64)> = rows
        .iter()
        .filter(|r| feasible(r))
        .filter_map(|r| {
            let pool = match get(r, columns::POOL_SIZE) {
                Some(Value::U64(k)) => Some(*k),
                _ => None,
            };
            Some((text(r, "classes"), pool, num(r, "tco_usd_per_user_year")?))
        })
        .collect();
    for row in rows.iter_mut() {
        let respects = matches!(
            get(row, "respects_local_only"),
            Some(Value::Bool(Some(true)))
        );
        let pool = match get(row, columns::POOL_SIZE) {
            Some(Value::U64(k)) => Some(*k),
            _ => None,
        };
        let classes = text(row, "classes");
        let own = num(row, "tco_usd_per_user_year").filter(|_| feasible(row));
        let without = (any && respects)
            .then(|| {
                keyed
                    .iter()
                    .filter(|(c, k, _)| *c == classes && *k == pool)
                    .map(|(_, _, t)| *t)
                    .min_by(f64::total_cmp)
            })
            .flatten()
            .filter(|_| own.is_some());
        row.push(cell(
            "tco_without_privacy_usd_per_user_year",
            Value::F64(without),
        ));
        row.push(cell(
            "cost_of_privacy_usd_per_user_year",
            Value::F64(own.zip(without).map(|(o, w)| o - w)),
        ));
    }
}

/// The world report (world.parquet): one row per feasible sizing row, its
/// per-user figures times `[world] users` (empty without `[world]`).
pub fn world_rows(s: &Scenario, rows: &[Row]) -> Vec<Row> {
    let Some(world) = s.costs.world_users else {
        return Vec::new();
    };
    let output = s.costs.world_dram_output_gb_per_year;
    rows.iter()
        .filter(|r| feasible(r))
        .map(|r| {
            let pool = match get(r, columns::POOL_SIZE) {
                Some(Value::U64(k)) => *k,
                _ => 0,
            };
            let at = |c: &str| num(r, c).map(|x| x * world);
            let mem = at(columns::MEM_GB_PER_USER);
            let hbm = at("hbm_gb_per_user");
            let replaced = at("mem_gb_replaced_per_user_year");
            let extrapolation = format!(
                "per-user figures of pools of {pool} users, sized by simulating {} users, times {world} users ({:.4e} such pools); linear in users, so it assumes every region looks like the simulated one",
                s.users,
                world / pool.max(1) as f64
            );
            vec![
                cell("scenario", Value::Str(s.name.clone())),
                cell(columns::PLACEMENT, Value::Str(text(r, columns::PLACEMENT))),
                cell(columns::KIND, Value::Str(text(r, columns::KIND))),
                cell(columns::POOL_SIZE, Value::U64(pool)),
                cell("users_simulated", Value::U64(s.users as u64)),
                cell("world_users", Value::F64(Some(world))),
                cell("extrapolation", Value::Str(extrapolation)),
                cell("devices_world", Value::F64(at(columns::DEVICES_PER_USER))),
                cell("mem_gb_world", Value::F64(mem)),
                cell("hbm_gb_world", Value::F64(hbm)),
                cell(
                    "dram_gb_world",
                    Value::F64(mem.zip(hbm).map(|(m, h)| m - h)),
                ),
                cell("mem_gb_replaced_per_year_world", Value::F64(replaced)),
                cell("world_dram_output_gb_per_year", Value::F64(Some(output))),
                cell(
                    "share_of_world_dram_output",
                    Value::F64(replaced.map(|x| x / output)),
                ),
                cell(
                    "mem_years_of_world_dram_output",
                    Value::F64(mem.map(|x| x / output)),
                ),
                cell("tco_usd_per_year_world", Value::F64(at("tco_usd_per_user_year"))),
                cell(
                    "carbon_t_per_year_world",
                    Value::F64(at("carbon_kg_per_user_year").map(|x| x / 1000.0)),
                ),
                cell(
                    "energy_twh_per_year_world",
                    Value::F64(at("energy_kwh_per_user_per_day").map(|x| x * 365.0 / 1e9)),
                ),
            ]
        })
        .collect()
}
