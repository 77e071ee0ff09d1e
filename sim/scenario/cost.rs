//! The whole bill of a fleet (docs/model.md section 19): total cost of
//! ownership per year ([`tco`]) and carbon per year ([`carbon`]) from the
//! devices a placement holds, the energy they drew and the site's prices
//! (`[costs]`, resolved into [`Costs`]; each placement's [`Billing`]), and
//! the memory price multiplier at which two fleets cost the same
//! ([`breakeven_multiplier`]).
//!
//! Pure arithmetic: the simulation measures devices and energy, this
//! prices them.

use crate::llm::{Device, MemoryKind};

/// Hours in a year (365 days).
pub const HOURS_PER_YEAR: f64 = 8760.0;

/// Resolved `[costs]`: the prices and carbon factors every placement shares.
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    /// Multiplier on the memory share of every device price.
    pub memory_price_multiplier: f64,
    /// Electricity bought by a datacenter, USD per kWh.
    pub electricity_usd_per_kwh_datacenter: f64,
    /// Electricity at home (residential tariff), USD per kWh.
    pub electricity_usd_per_kwh_home: f64,
    /// Facility build cost per kW of IT load, USD.
    pub facility_usd_per_kw: f64,
    /// Years the facility is amortised over.
    pub facility_lifetime_years: f64,
    /// Operations (staff, maintenance, software) as a share of the
    /// annualised capital of an owned datacenter fleet.
    pub operations_share: f64,
    /// Grid carbon intensity where datacenters draw power, g CO2e per kWh.
    pub grid_g_co2_per_kwh_datacenter: f64,
    /// Grid carbon intensity at home, g CO2e per kWh.
    pub grid_g_co2_per_kwh_home: f64,
    /// Embodied carbon of DRAM (DDR, LPDDR, GDDR), kg CO2e per GB.
    pub embodied_kg_co2e_per_gb_dram: f64,
    /// Embodied carbon of HBM, kg CO2e per GB.
    pub embodied_kg_co2e_per_gb_hbm: f64,
    /// World DRAM output (HBM included), GB per year.
    pub world_dram_output_gb_per_year: f64,
    /// `[world] users`: the user base the world report extrapolates to.
    pub world_users: Option<f64>,
}

impl Costs {
    /// Embodied carbon per GB of memory of `kind`, kg CO2e.
    pub fn embodied_per_gb(&self, kind: MemoryKind) -> f64 {
        match kind {
            MemoryKind::Dram => self.embodied_kg_co2e_per_gb_dram,
            MemoryKind::Hbm => self.embodied_kg_co2e_per_gb_hbm,
        }
    }
}

/// Who owns a placement's devices and where they stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// The user's own device at home (dedicated placements).
    Local,
    /// Bought and run in an owned datacenter (pooled default).
    Owned,
    /// Rented by the GPU-hour, held all year.
    Rented,
}

impl Ownership {
    /// `local`, `owned` or `rented`.
    pub fn name(self) -> &'static str {
        match self {
            Ownership::Local => "local",
            Ownership::Owned => "owned",
            Ownership::Rented => "rented",
        }
    }
}

/// How one placement is billed.
#[derive(Debug, Clone, PartialEq)]
pub struct Billing {
    /// Who owns its devices.
    pub ownership: Ownership,
    /// Electricity price at its site, USD per kWh.
    pub electricity_usd_per_kwh: f64,
    /// Grid carbon intensity at its site, g CO2e per kWh.
    pub grid_g_co2_per_kwh: f64,
    /// Dedicated: the price of the computer the user would own anyway, USD
    /// (the marginal cost subtracts it, amortised over the same lifetime).
    pub baseline_price_usd: Option<f64>,
    /// Set by `ignore_local_only = true`: this placement may serve
    /// `local_only` classes as a priced counterfactual.
    pub ignore_local_only: bool,
}

/// What a fleet held and drew over a year.
#[derive(Debug, Clone, Copy)]
pub struct Fleet<'a> {
    /// The device.
    pub device: &'a Device,
    /// How many devices.
    pub devices: f64,
    /// Price of one device after the memory price multiplier, USD.
    pub capex_per_device_usd: f64,
    /// Energy at the IT load (devices and host shares, before PUE), kWh per year.
    pub it_kwh_per_year: f64,
    /// The site's power usage effectiveness.
    pub pue: f64,
}

/// Total cost of ownership of a fleet for one year, by part, USD.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Tco {
    /// The devices' price over their lifetime.
    pub accelerator: f64,
    /// The host server share over the same lifetime.
    pub host: f64,
    /// The network share over the same lifetime.
    pub network: f64,
    /// Facility build cost per kW of peak IT load over the facility's life.
    pub facility: f64,
    /// kWh x PUE x electricity price.
    pub energy: f64,
    /// Operations share of the annualised capital.
    pub operations: f64,
    /// Rental: price per device-hour x hours held.
    pub rental: f64,
    /// The part of the total that scales with the memory price multiplier
    /// (the memory share of the devices' price and its operations share).
    pub memory: f64,
}

impl Tco {
    /// The sum of the parts (`memory` is inside `accelerator` and
    /// `operations`, not added again).
    pub fn total(&self) -> f64 {
        self.accelerator
            + self.host
            + self.network
            + self.facility
            + self.energy
            + self.operations
            + self.rental
    }
}

/// Price `P` amortised over `L` years: `P / L`.
pub fn amortised(price_usd: f64, lifetime_years: f64) -> f64 {
    price_usd / lifetime_years
}

/// Energy cost: kWh at the IT load x PUE x price.
pub fn energy_cost(it_kwh: f64, pue: f64, usd_per_kwh: f64) -> f64 {
    it_kwh * pue * usd_per_kwh
}

/// The yearly TCO of `f` billed as `b` under `c`. A rented fleet pays its
/// hourly price all year (energy, facility and host included in it); an
/// error names the missing rental price.
pub fn tco(c: &Costs, b: &Billing, f: &Fleet) -> Result<Tco, String> {
    let d = f.device;
    let life = d.ownership.lifetime_years;
    let n = f.devices;
    if b.ownership == Ownership::Rented {
        let per_h = d.rental_usd_per_h.ok_or_else(|| {
            format!(
                "device `{}` has no rental_usd_per_h in the catalogue",
                d.name
            )
        })?;
        return Ok(Tco {
            rental: per_h * HOURS_PER_YEAR * n,
            ..Tco::default()
        });
    }
    let memory_usd = d.price_usd * d.memory_price_share * c.memory_price_multiplier;
    let mut t = Tco {
        accelerator: n * amortised(f.capex_per_device_usd, life),
        host: n * amortised(d.ownership.host_usd, life),
        network: n * amortised(d.ownership.network_usd, life),
        energy: energy_cost(f.it_kwh_per_year, f.pue, b.electricity_usd_per_kwh),
        memory: n * amortised(memory_usd, life),
        ..Tco::default()
    };
    if b.ownership == Ownership::Owned {
        let peak_kw = (d.busy_w + d.host_w) / 1000.0;
        t.facility = n * peak_kw * amortised(c.facility_usd_per_kw, c.facility_lifetime_years);
        t.operations = c.operations_share * (t.accelerator + t.host + t.network + t.facility);
        t.memory *= 1.0 + c.operations_share;
    }
    Ok(t)
}

/// The marginal yearly cost of a local fleet: its TCO less the computer
/// each user would own anyway, amortised over the same lifetime.
pub fn marginal(t: &Tco, b: &Billing, f: &Fleet) -> Option<f64> {
    let base = b.baseline_price_usd?;
    Some(t.total() - f.devices * amortised(base, f.device.ownership.lifetime_years))
}

/// Carbon of a fleet for one year, kg CO2e.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Carbon {
    /// kWh x PUE x grid intensity.
    pub operational: f64,
    /// Embodied carbon (memory + rest) over the device lifetime.
    pub embodied: f64,
    /// The memory's part of `embodied`.
    pub embodied_memory: f64,
}

/// The yearly carbon of `f` at intensity `b.grid_g_co2_per_kwh`.
pub fn carbon(c: &Costs, b: &Billing, f: &Fleet) -> Carbon {
    let d = f.device;
    let life = d.ownership.lifetime_years;
    let memory = d.mem_gb * c.embodied_per_gb(d.ownership.memory_kind);
    let rest = d.ownership.embodied_kg_co2e_rest;
    Carbon {
        operational: f.it_kwh_per_year * f.pue * b.grid_g_co2_per_kwh / 1000.0,
        embodied: f.devices * amortised(memory + rest, life),
        embodied_memory: f.devices * amortised(memory, life),
    }
}

/// A TCO as a function of the memory price multiplier `m`: `base + per_m x m`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearTco {
    /// The part that does not depend on memory prices.
    pub base: f64,
    /// The memory part per unit of multiplier.
    pub per_m: f64,
}

impl LinearTco {
    /// From a TCO `total` whose memory part was `memory` at multiplier `m0`.
    pub fn from_total(total: f64, memory: f64, m0: f64) -> Self {
        LinearTco {
            base: total - memory,
            per_m: memory / m0,
        }
    }

    /// Its value at multiplier `m`.
    pub fn at(&self, m: f64) -> f64 {
        self.base + self.per_m * m
    }
}

/// Largest multiplier the break-even search looks at.
pub const MAX_BREAKEVEN_MULTIPLIER: f64 = 1000.0;

/// The memory price multiplier in [0, 1000] at which `local` and `pooled`
/// cost the same, found by bisection on their difference (None when they
/// do not cross there).
pub fn breakeven_multiplier(local: LinearTco, pooled: LinearTco) -> Option<f64> {
    let f = |m: f64| local.at(m) - pooled.at(m);
    let (mut lo, mut hi) = (0.0, MAX_BREAKEVEN_MULTIPLIER);
    let (flo, fhi) = (f(lo), f(hi));
    if !(flo.is_finite() && fhi.is_finite()) || flo.signum() == fhi.signum() && flo != 0.0 {
        return None;
    }
    if flo == 0.0 {
        return Some(0.0);
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid).signum() == flo.signum() {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi.max(1.0) {
            break;
        }
    }
    Some(0.5 * (lo + hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::DeviceOwnership;
    use proptest::prelude::*;

    fn costs() -> Costs {
        Costs {
            memory_price_multiplier: 1.0,
            electricity_usd_per_kwh_datacenter: 0.08,
            electricity_usd_per_kwh_home: 0.16,
            facility_usd_per_kw: 10_000.0,
            facility_lifetime_years: 15.0,
            operations_share: 0.1,
            grid_g_co2_per_kwh_datacenter: 400.0,
            grid_g_co2_per_kwh_home: 300.0,
            embodied_kg_co2e_per_gb_dram: 1.0,
            embodied_kg_co2e_per_gb_hbm: 2.0,
            world_dram_output_gb_per_year: 1e10,
            world_users: None,
        }
    }

    fn device(price: f64, life: f64, host: f64, net: f64) -> Device {
        let c = crate::llm::Catalog::builtin().expect("catalogue");
        let mut d = c.device("h100_sxm").expect("h100").clone();
        d.price_usd = price;
        d.ownership = DeviceOwnership {
            host_usd: host,
            network_usd: net,
            ..DeviceOwnership::plain(life)
        };
        d
    }

    fn billing(o: Ownership) -> Billing {
        Billing {
            ownership: o,
            electricity_usd_per_kwh: 0.08,
            grid_g_co2_per_kwh: 400.0,
            baseline_price_usd: Some(500.0),
            ignore_local_only: false,
        }
    }

    #[test]
    fn amortising_price_p_over_l_years_is_p_over_l_and_energy_is_kwh_pue_price() {
        assert_eq!(amortised(30_000.0, 5.0), 6_000.0);
        assert_eq!(amortised(1_999.0, 4.0), 499.75);
        assert!((energy_cost(1_000.0, 1.3, 0.08) - 104.0).abs() < 1e-9);
        let d = device(1_000.0, 4.0, 0.0, 0.0);
        let f = Fleet {
            device: &d,
            devices: 3.0,
            capex_per_device_usd: 1_000.0,
            it_kwh_per_year: 1_000.0,
            pue: 1.0,
        };
        let t = tco(&costs(), &billing(Ownership::Local), &f).unwrap();
        assert_eq!(t.accelerator, 750.0);
        assert!((t.energy - 80.0).abs() < 1e-9);
        assert_eq!((t.facility, t.operations, t.rental), (0.0, 0.0, 0.0));
        assert!(
            (marginal(&t, &billing(Ownership::Local), &f).unwrap() - (830.0 - 375.0)).abs() < 1e-9
        );
    }

    #[test]
    fn a_rented_fleet_pays_its_hourly_price_all_year() {
        let d = device(30_000.0, 5.0, 0.0, 0.0);
        let f = Fleet {
            device: &d,
            devices: 2.0,
            capex_per_device_usd: 30_000.0,
            it_kwh_per_year: 5_000.0,
            pue: 1.3,
        };
        let t = tco(&costs(), &billing(Ownership::Rented), &f).unwrap();
        assert_eq!(t.total(), 3.0 * 8760.0 * 2.0);
        let mut no_rent = d.clone();
        no_rent.rental_usd_per_h = None;
        let f = Fleet {
            device: &no_rent,
            ..f
        };
        assert!(tco(&costs(), &billing(Ownership::Rented), &f)
            .unwrap_err()
            .contains("rental_usd_per_h"));
    }

    #[test]
    fn the_break_even_multiplier_makes_both_sides_equal() {
        let local = LinearTco {
            base: 300.0,
            per_m: 200.0,
        };
        let pooled = LinearTco {
            base: 20.0,
            per_m: 5.0,
        };
        // local > pooled at every m >= 0: no crossing.
        assert_eq!(breakeven_multiplier(local, pooled), None);
        let pooled = LinearTco {
            base: 400.0,
            per_m: 5.0,
        };
        let m = breakeven_multiplier(local, pooled).expect("crosses");
        assert!(
            (local.at(m) - pooled.at(m)).abs() < 1e-6 * pooled.at(m),
            "{m}"
        );
        assert!((m - 100.0 / 195.0).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn tco_is_the_sum_of_its_parts(
            price in 1.0f64..1e5, life in 0.5f64..20.0, host in 0.0f64..1e4,
            net in 0.0f64..1e4, n in 1.0f64..1e4, kwh in 0.0f64..1e7,
            pue in 1.0f64..3.0, ops in 0.0f64..1.0, owned in any::<bool>(),
        ) {
            let d = device(price, life, host, net);
            let mut c = costs();
            c.operations_share = ops;
            let o = if owned { Ownership::Owned } else { Ownership::Local };
            let f = Fleet { device: &d, devices: n, capex_per_device_usd: price, it_kwh_per_year: kwh, pue };
            let t = tco(&c, &billing(o), &f).unwrap();
            let parts = n * price / life + n * host / life + n * net / life + t.facility
                + kwh * pue * 0.08 + t.operations;
            prop_assert!((t.total() - parts).abs() <= 1e-9 * parts.max(1.0));
            let expected_ops = if owned { ops * (t.total() - t.operations - t.energy) } else { 0.0 };
            prop_assert!((t.operations - expected_ops).abs() <= 1e-9 * t.total().max(1.0));
            // The memory part at multiplier 1 recovers the total at any other.
            let lin = LinearTco::from_total(t.total(), t.memory, 1.0);
            let mut c3 = c.clone();
            c3.memory_price_multiplier = 3.0;
            let f3 = Fleet { capex_per_device_usd: d.capex_usd(3.0), ..f };
            let t3 = tco(&c3, &billing(o), &f3).unwrap();
            prop_assert!((lin.at(3.0) - t3.total()).abs() <= 1e-9 * t3.total().max(1.0));
        }
    }
}
