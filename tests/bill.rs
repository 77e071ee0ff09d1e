//! The whole bill end to end (docs/model.md section 19): the TCO columns of
//! real runs add up to their parts and price energy as kWh x PUE x price;
//! `local_only` classes are never served by a pooled placement that claims
//! to respect them, and the cost of privacy is what the rows say; the
//! break-even memory price really equalises the two TCOs when the scenario
//! is re-sized at that price; the world report scales per-user figures.

use sharesim::results::{get, Row, Value};
use sharesim::run::bill::TCO_PARTS;
use sharesim::run::run_scenario;
use sharesim::sizing::size_scenario;

use crate::support::{flag, num, row_of, scenario, text};

/// 400 heavy chat users of gpt-oss-20b, a desktop each or an H100 pool.
fn base(extra_placement_keys: &str, tail: &str) -> String {
    format!(
        r#"
name = "bill"
seed = 2
horizon_s = 900
warmup_s = 120
replications = 2

[users]
count = 400
duty_cycle = 0.003

[model]
name = "gpt_oss_20b"
quantisation = "mxfp4"

[requests]
input_tokens = {{ distribution = "lognormal", median = 500, p99 = 2000 }}
output_tokens = {{ distribution = "lognormal", median = 100, p99 = 400 }}

[[placements]]
name = "desktop"
kind = "dedicated"
device = "framework_desktop"

[[placements]]
name = "pool"
kind = "pooled"
device = "h100_sxm"
servers = 1
{extra_placement_keys}

[service_level]
ttft_p99_s = 8.0
tpot_p99_s = 0.1
{tail}
"#
    )
}

fn opt(r: &Row, c: &str) -> Option<f64> {
    get(r, c).and_then(Value::as_f64)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-12)
}

#[test]
fn tco_columns_add_up_and_energy_is_kwh_times_price() {
    for ops in ["0.0", "0.15"] {
        let s = scenario(&base("", &format!("[costs]\noperations_share = {ops}\n")));
        let rows = run_scenario(&s).replications;
        assert_eq!(rows.len(), 4);
        for r in &rows {
            let parts: f64 = TCO_PARTS.iter().map(|c| num(r, c)).sum();
            let total = num(r, "tco_usd_per_year_total");
            assert!(close(parts, total, 1e-12), "{parts} vs {total}");
            // The wall energy already holds the PUE: kWh at the IT load x
            // PUE x price = wall kWh x price.
            let energy =
                num(r, "energy_kwh_per_day_total") * 365.0 * num(r, "electricity_usd_per_kwh");
            assert!(close(num(r, "tco_energy_usd_per_year"), energy, 1e-12));
            let per_user = total / num(r, "users");
            assert!(close(num(r, "tco_usd_per_user_year"), per_user, 1e-12));
            let mtok = num(r, "output_tokens_per_s") * 86_400.0 * 365.0 / 1e6;
            assert!(close(
                num(r, "tco_usd_per_million_output_tokens"),
                total / mtok,
                1e-12
            ));
            let carbon =
                num(r, "energy_kwh_per_day_total") * 365.0 * num(r, "grid_g_co2_per_kwh") / 1000.0;
            assert!(close(
                num(r, "carbon_operational_kg_per_year_total"),
                carbon,
                1e-12
            ));
        }
        let pool = rows
            .iter()
            .find(|r| text(r, "placement") == "pool")
            .unwrap();
        // One H100 amortised over 5 years at the catalogue price of 30k.
        assert!(close(
            num(pool, "tco_accelerator_usd_per_year"),
            6_000.0,
            1e-12
        ));
        let capital = num(pool, "tco_accelerator_usd_per_year")
            + num(pool, "tco_host_usd_per_year")
            + num(pool, "tco_network_usd_per_year")
            + num(pool, "tco_facility_usd_per_year");
        let expected_ops: f64 = ops.parse::<f64>().unwrap() * capital;
        assert!(
            close(
                num(pool, "tco_operations_usd_per_year"),
                expected_ops,
                1e-12
            ) || expected_ops == 0.0
        );
        let desk = rows
            .iter()
            .find(|r| text(r, "placement") == "desktop")
            .unwrap();
        assert_eq!(text(desk, "ownership"), "local");
        assert_eq!(num(desk, "tco_facility_usd_per_year"), 0.0);
        assert_eq!(num(desk, "electricity_usd_per_kwh"), 0.16);
    }
}

#[test]
fn a_rented_pool_pays_the_hourly_price_all_year() {
    let s = scenario(&base("ownership = \"rented\"", ""));
    let rows = run_scenario(&s).summary;
    let pool = row_of(&rows, "pool");
    assert_eq!(text(pool, "ownership"), "rented");
    assert_eq!(num(pool, "tco_rental_usd_per_year"), 3.0 * 8760.0);
    assert!(close(
        num(pool, "tco_usd_per_year_total"),
        3.0 * 8760.0,
        1e-12
    ));
}

const PRIVATE_CLASSES: &str = r#"
[[classes]]
name = "private"
share = 0.3
local_only = true

[[classes]]
name = "open"
share = 0.7

[[hybrids]]
name = "private-local"
parts = ["desktop-private", "pool-open"]
"#;

fn privacy_scenario() -> String {
    base("ignore_local_only = true", PRIVATE_CLASSES).replace(
        "[service_level]",
        "[[placements]]\nname = \"desktop-private\"\nkind = \"dedicated\"\ndevice = \"framework_desktop\"\nserves = [\"private\"]\n\n\
         [[placements]]\nname = \"pool-open\"\nkind = \"pooled\"\ndevice = \"h100_sxm\"\nservers = 1\nserves = [\"open\"]\n\n[service_level]",
    )
}

#[test]
fn local_only_classes_never_sit_on_a_pool_that_claims_to_respect_them() {
    let s = scenario(&privacy_scenario());
    let private = s.classes.iter().position(|c| c.name == "private").unwrap();
    for (j, p) in s.placements.iter().enumerate() {
        if p.kind != sharesim::scenario::PlacementKind::Dedicated && p.serves.contains(&private) {
            assert!(!s.respects_local_only(j), "{} serves private", p.name);
            assert!(p.billing.ignore_local_only);
        }
    }
    let rows = size_scenario(&s).rows;
    for r in &rows {
        let classes = text(r, "classes");
        if text(r, "kind") != "dedicated" && classes.contains("private") {
            let parts = text(r, "parts");
            // Only the counterfactual pool (or a hybrid whose pooled part
            // serves only the open class) may hold private requests' rows.
            if parts.is_empty() {
                assert!(!flag(r, "respects_local_only"), "{}", text(r, "placement"));
            } else {
                assert!(flag(r, "respects_local_only"), "{parts}");
            }
        }
        if flag(r, "respects_local_only") && flag(r, "feasible") {
            let own = num(r, "tco_usd_per_user_year");
            let without = num(r, "tco_without_privacy_usd_per_user_year");
            let cost = num(r, "cost_of_privacy_usd_per_user_year");
            assert!(close(cost, own - without, 1e-12));
            assert!(cost >= 0.0);
        }
    }
    let hybrid = row_of(&rows, "private-local");
    let counterfactual = rows
        .iter()
        .find(|r| text(r, "placement") == "pool" && num(r, "pool_size") == num(hybrid, "pool_size"))
        .unwrap();
    // Keeping 30 % of the users on desktops costs more than pooling all.
    assert!(num(hybrid, "cost_of_privacy_usd_per_user_year") > 0.0);
    assert!(
        num(hybrid, "tco_without_privacy_usd_per_user_year")
            <= num(counterfactual, "tco_usd_per_user_year")
    );
}

#[test]
fn the_break_even_multiplier_equalises_both_tcos_when_resized_at_it() {
    // Pools of 16 users: one H100 per 16 users costs more than a desktop
    // each today but holds less memory per user, so the two cross.
    let text_at = |m: f64| {
        base(
            "",
            &format!("[sizing]\npool_sizes = [16]\n[costs]\nmemory_price_multiplier = {m}\n"),
        )
    };
    let rows = size_scenario(&scenario(&text_at(1.0))).rows;
    let pool = row_of(&rows, "pool");
    let m = num(pool, "breakeven_memory_price_multiplier");
    assert!(m > 0.0 && m < 1000.0, "{m}");
    let at = size_scenario(&scenario(&text_at(m))).rows;
    let (local, shared) = (row_of(&at, "desktop"), row_of(&at, "pool"));
    // The fleets do not depend on memory prices; their TCOs meet at m (the
    // energy part is re-simulated with the same seed, so it is the same).
    assert_eq!(
        num(shared, "servers_per_pool"),
        num(pool, "servers_per_pool")
    );
    let (a, b) = (
        num(local, "tco_usd_per_user_year"),
        num(shared, "tco_usd_per_user_year"),
    );
    assert!(close(a, b, 1e-9), "{a} vs {b} at x{m}");
    // And on either side, the order flips.
    let below = size_scenario(&scenario(&text_at(m * 0.5))).rows;
    let above = size_scenario(&scenario(&text_at(m * 2.0))).rows;
    let diff = |rows: &[Row]| {
        num(row_of(rows, "desktop"), "tco_usd_per_user_year")
            - num(row_of(rows, "pool"), "tco_usd_per_user_year")
    };
    assert!(diff(&below).signum() != diff(&above).signum());
    assert!(opt(
        row_of(&rows, "desktop"),
        "breakeven_memory_price_multiplier"
    )
    .is_none());
}

#[test]
fn the_world_report_scales_per_user_figures_and_compares_with_dram_output() {
    let s = scenario(&base("", "[world]\nusers = 7e8\n"));
    let results = size_scenario(&s);
    assert!(!results.world.is_empty());
    for w in &results.world {
        let r = row_of(&results.rows, &text(w, "placement"));
        assert!(close(
            num(w, "mem_gb_world"),
            num(r, "mem_gb_per_user") * 7e8,
            1e-12
        ));
        assert!(close(
            num(w, "hbm_gb_world"),
            num(r, "hbm_gb_per_user") * 7e8,
            1e-12
        ));
        let replaced = num(r, "mem_gb_replaced_per_user_year") * 7e8;
        assert!(close(
            num(w, "share_of_world_dram_output"),
            replaced / 3.5e10,
            1e-12
        ));
        assert!(text(w, "extrapolation").contains("linear in users"));
    }
    let desk = results
        .world
        .iter()
        .find(|w| text(w, "placement") == "desktop")
        .unwrap();
    // 700M desktops of 128 GB, replaced every 5 years: 17.9e9 GB a year.
    assert!(close(
        num(desk, "mem_gb_replaced_per_year_world"),
        7e8 * 128.0 / 5.0,
        1e-12
    ));
    assert_eq!(num(desk, "hbm_gb_world"), 0.0);
}
