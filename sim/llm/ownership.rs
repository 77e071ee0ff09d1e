//! What owning one catalogue device costs beyond its price, as the
//! catalogue states it: its service life, its share of the host server and
//! of the datacenter network (zero for a computer that is its own host),
//! which memory it carries and the embodied carbon of everything but that
//! memory (docs/model.md section 19). The scenario's `[costs]` prices
//! these (electricity, facility, carbon per GB of memory).

use serde::Deserialize;

/// The memory technology of a device, which sets its embodied carbon per GB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemoryKind {
    /// DRAM on a board or package: DDR, LPDDR, GDDR.
    Dram,
    /// High-bandwidth memory stacked beside the accelerator.
    Hbm,
}

impl MemoryKind {
    /// `dram` or `hbm`.
    pub fn name(self) -> &'static str {
        match self {
            MemoryKind::Dram => "dram",
            MemoryKind::Hbm => "hbm",
        }
    }
}

/// The ownership figures of one device (validated by the catalogue).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceOwnership {
    /// Years the device is used before it is replaced, > 0.
    pub lifetime_years: f64,
    /// The host server's price shared by each device (CPUs, DRAM, NICs,
    /// chassis), USD; 0 for a computer that is its own host.
    pub host_usd: f64,
    /// The datacenter network's price per device (switch ports, optics,
    /// cables), USD; 0 at home.
    pub network_usd: f64,
    /// Which memory it carries.
    pub memory_kind: MemoryKind,
    /// Embodied carbon of the device without its memory (and of its host
    /// share for accelerators), kg CO2e.
    pub embodied_kg_co2e_rest: f64,
}

impl DeviceOwnership {
    /// Figures for hand-built test devices: 4 years, no host, network or
    /// embodied carbon beyond the memory, DRAM.
    pub fn plain(lifetime_years: f64) -> Self {
        DeviceOwnership {
            lifetime_years,
            host_usd: 0.0,
            network_usd: 0.0,
            memory_kind: MemoryKind::Dram,
            embodied_kg_co2e_rest: 0.0,
        }
    }
}

/// Longest service life accepted, years.
pub const MAX_LIFETIME_YEARS: f64 = 50.0;

/// Validate the ownership keys of device `name`; `bad(key, message)` builds
/// the error (the catalogue's, naming its file).
pub(crate) fn resolve_ownership<E>(
    name: &str,
    lifetime_years: f64,
    host_usd: f64,
    network_usd: f64,
    memory_kind: MemoryKind,
    embodied_kg_co2e_rest: f64,
    bad: impl Fn(String, String) -> E,
) -> Result<DeviceOwnership, E> {
    let k = |field: &str| format!("devices.{name}.{field}");
    if !(lifetime_years.is_finite() && lifetime_years > 0.0 && lifetime_years <= MAX_LIFETIME_YEARS)
    {
        return Err(bad(
            k("lifetime_years"),
            format!(
                "must be greater than 0 and at most {MAX_LIFETIME_YEARS} (got {lifetime_years}): the years the device serves before it is replaced"
            ),
        ));
    }
    for (field, v, what) in [
        (
            "host_usd",
            host_usd,
            "the host server's price per device in USD (0 for a computer)",
        ),
        (
            "network_usd",
            network_usd,
            "the datacenter network's price per device in USD (0 at home)",
        ),
        (
            "embodied_kg_co2e_rest",
            embodied_kg_co2e_rest,
            "the embodied carbon of the device without its memory, kg CO2e",
        ),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(bad(
                k(field),
                format!("must be a number of at least 0 (got {v}): {what}"),
            ));
        }
    }
    Ok(DeviceOwnership {
        lifetime_years,
        host_usd,
        network_usd,
        memory_kind,
        embodied_kg_co2e_rest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(lifetime: f64, host: f64) -> Result<DeviceOwnership, (String, String)> {
        resolve_ownership("d", lifetime, host, 0.0, MemoryKind::Hbm, 1.0, |k, m| {
            (k, m)
        })
    }

    #[test]
    fn a_zero_lifetime_or_a_negative_price_is_refused_naming_the_key_and_range() {
        let (k, m) = check(0.0, 1.0).unwrap_err();
        assert_eq!(k, "devices.d.lifetime_years");
        assert!(m.contains("greater than 0 and at most 50"), "{m}");
        let (k, m) = check(4.0, -1.0).unwrap_err();
        assert_eq!(k, "devices.d.host_usd");
        assert!(m.contains("at least 0"), "{m}");
        assert_eq!(check(4.0, 2.0).unwrap().host_usd, 2.0);
    }
}
