//! `[costs]` and `[world]` (prices, carbon factors, the user base of the
//! world report), each key defaulting to `scenarios/catalog/costs.toml`;
//! and each placement's billing keys (`ownership`, site prices and carbon,
//! `baseline_price_usd`, `ignore_local_only`).

use super::super::check::Check;
use super::super::cost::{Billing, Costs, Ownership};
use super::super::placement::PlacementKind;
use super::super::raw::{RawCosts, RawPlacement, RawScenario};
use super::super::ScenarioError;
use crate::llm::Device;

/// The shipped cost defaults, embedded at build time.
pub const BUILTIN_COSTS_TOML: &str = include_str!("../../../scenarios/catalog/costs.toml");

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CostsFile {
    costs: RawCosts,
}

fn defaults() -> RawCosts {
    crate::core::error::deserialize_toml::<CostsFile>(BUILTIN_COSTS_TOML)
        .expect("scenarios/catalog/costs.toml parses (checked by a test)")
        .costs
}

/// A value of `key` within `[lo, hi]`, or an error naming the key, the
/// valid range and what the value means.
fn within(
    c: &Check,
    key: &str,
    v: f64,
    lo: f64,
    hi: f64,
    what: &str,
) -> Result<f64, ScenarioError> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(c.err(
            key,
            format!("must be between {lo} and {hi} (got {v}): {what}"),
        ))
    }
}

/// `[costs]` and `[world]` resolved, defaults from the cost catalogue.
pub(super) fn resolve_costs(c: &Check, raw: &RawScenario) -> Result<Costs, ScenarioError> {
    let d = defaults();
    let given = raw.costs.clone();
    let pick = |f: fn(&RawCosts) -> Option<f64>| -> f64 {
        given
            .as_ref()
            .and_then(f)
            .or(f(&d))
            .expect("every cost key has a default in costs.toml")
    };
    let k = |f: &str| format!("costs.{f}");
    let multiplier = given
        .as_ref()
        .and_then(|x| x.memory_price_multiplier)
        .unwrap_or(1.0);
    let facility_life = pick(|x| x.facility_lifetime_years);
    if !(facility_life.is_finite() && facility_life > 0.0 && facility_life <= 100.0) {
        return Err(c.err(
            k("facility_lifetime_years"),
            format!("must be greater than 0 and at most 100 (got {facility_life}): the years the facility is amortised over"),
        ));
    }
    let usd_kwh = "an electricity price in USD per kWh";
    let grid = "a grid carbon intensity in g CO2e per kWh";
    let per_gb = "embodied carbon in kg CO2e per GB of memory";
    let world_output = pick(|x| x.world_dram_output_gb_per_year);
    if !(world_output.is_finite() && world_output > 0.0) {
        return Err(c.err(
            k("world_dram_output_gb_per_year"),
            format!(
                "must be a number greater than 0 (got {world_output}): GB of DRAM made in a year"
            ),
        ));
    }
    let world_users = match &raw.world {
        None => None,
        Some(w) => Some(within(
            c,
            "world.users",
            w.users,
            1.0,
            1e11,
            "the users of the whole user base",
        )?),
    };
    Ok(Costs {
        memory_price_multiplier: c.positive(&k("memory_price_multiplier"), multiplier)?,
        electricity_usd_per_kwh_datacenter: within(
            c,
            &k("electricity_usd_per_kwh_datacenter"),
            pick(|x| x.electricity_usd_per_kwh_datacenter),
            0.0,
            10.0,
            usd_kwh,
        )?,
        electricity_usd_per_kwh_home: within(
            c,
            &k("electricity_usd_per_kwh_home"),
            pick(|x| x.electricity_usd_per_kwh_home),
            0.0,
            10.0,
            usd_kwh,
        )?,
        facility_usd_per_kw: within(
            c,
            &k("facility_usd_per_kw"),
            pick(|x| x.facility_usd_per_kw),
            0.0,
            1e6,
            "the facility build cost in USD per kW of IT load",
        )?,
        facility_lifetime_years: facility_life,
        operations_share: within(
            c,
            &k("operations_share"),
            pick(|x| x.operations_share),
            0.0,
            10.0,
            "operations as a share of annualised capital",
        )?,
        grid_g_co2_per_kwh_datacenter: within(
            c,
            &k("grid_g_co2_per_kwh_datacenter"),
            pick(|x| x.grid_g_co2_per_kwh_datacenter),
            0.0,
            5000.0,
            grid,
        )?,
        grid_g_co2_per_kwh_home: within(
            c,
            &k("grid_g_co2_per_kwh_home"),
            pick(|x| x.grid_g_co2_per_kwh_home),
            0.0,
            5000.0,
            grid,
        )?,
        embodied_kg_co2e_per_gb_dram: within(
            c,
            &k("embodied_kg_co2e_per_gb_dram"),
            pick(|x| x.embodied_kg_co2e_per_gb_dram),
            0.0,
            1000.0,
            per_gb,
        )?,
        embodied_kg_co2e_per_gb_hbm: within(
            c,
            &k("embodied_kg_co2e_per_gb_hbm"),
            pick(|x| x.embodied_kg_co2e_per_gb_hbm),
            0.0,
            1000.0,
            per_gb,
        )?,
        world_dram_output_gb_per_year: world_output,
        world_users,
    })
}

/// How placement `p` (file index `i`, of `kind`, on `device` when it has a
/// catalogue device) is billed.
pub(super) fn resolve_billing(
    c: &Check,
    i: usize,
    p: &RawPlacement,
    kind: &PlacementKind,
    device: Option<&Device>,
    costs: &Costs,
) -> Result<Billing, ScenarioError> {
    let key = |f: &str| c.placement_key(i, f);
    let dedicated = *kind == PlacementKind::Dedicated;
    let ownership = match (p.ownership.as_deref(), dedicated) {
        (None, true) => Ownership::Local,
        (None, false) | (Some("owned"), false) => Ownership::Owned,
        (Some("rented"), false) => Ownership::Rented,
        (Some(_), true) => {
            return Err(c.err(
                key("ownership"),
                "a dedicated placement is the user's own device: remove `ownership` (it applies to pooled placements: \"owned\" or \"rented\")",
            ))
        }
        (Some(o), false) => {
            return Err(c.err(
                key("ownership"),
                format!("unknown ownership {o:?}: use \"owned\" or \"rented\""),
            ))
        }
    };
    if let (Ownership::Rented, Some(d)) = (ownership, device) {
        if d.rental_usd_per_h.is_none() {
            return Err(c.err(
                key("ownership"),
                format!("\"rented\" needs an hourly price, and device `{}` has no rental_usd_per_h in the catalogue: use \"owned\" or a rentable device", d.name),
            ));
        }
    }
    if p.baseline_price_usd.is_some() && !dedicated {
        return Err(c.err(
            key("baseline_price_usd"),
            "applies to dedicated placements (the computer the user would own anyway): remove it",
        ));
    }
    let baseline = p
        .baseline_price_usd
        .map(|v| {
            within(
                c,
                &key("baseline_price_usd"),
                v,
                0.0,
                1e7,
                "the price in USD of the computer the user would own anyway",
            )
        })
        .transpose()?;
    let (price, grid) = if dedicated {
        (
            costs.electricity_usd_per_kwh_home,
            costs.grid_g_co2_per_kwh_home,
        )
    } else {
        (
            costs.electricity_usd_per_kwh_datacenter,
            costs.grid_g_co2_per_kwh_datacenter,
        )
    };
    Ok(Billing {
        ownership,
        electricity_usd_per_kwh: within(
            c,
            &key("electricity_usd_per_kwh"),
            p.electricity_usd_per_kwh.unwrap_or(price),
            0.0,
            10.0,
            "an electricity price in USD per kWh",
        )?,
        grid_g_co2_per_kwh: within(
            c,
            &key("grid_g_co2_per_kwh"),
            p.grid_g_co2_per_kwh.unwrap_or(grid),
            0.0,
            5000.0,
            "a grid carbon intensity in g CO2e per kWh",
        )?,
        baseline_price_usd: baseline,
        ignore_local_only: p.ignore_local_only.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_cost_defaults_parse_and_set_every_key() {
        let d = super::defaults();
        assert!(d.electricity_usd_per_kwh_home.is_some());
        assert!(d.world_dram_output_gb_per_year.is_some());
        assert!(d.embodied_kg_co2e_per_gb_hbm.is_some());
        assert!(d.memory_price_multiplier.is_none());
    }
}
