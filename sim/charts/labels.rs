//! Human labels for sweep axes: a `sweep_<key>` column becomes words with
//! a unit ("desktop price $1,999", "h100-pool network round trip 500 ms",
//! "chat share 50 %"), never the key path. Known keys come from a table
//! (label, unit, formatter); a placement's or class's index is replaced by
//! its name; unknown keys read as their last words, underscores as spaces,
//! with a unit from the suffix (`_s`, `_ms`, `_usd`, `_gb`).

use super::data::Frame;
use super::format::{fmt_tick, human, sig};
use super::verdict::short_latency;
use crate::results::columns;

/// How an axis value is written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    /// A share shown in % (value × 100).
    Percent,
    /// Users: "1,000 users".
    Users,
    /// US dollars: "$1,999".
    Usd,
    /// Seconds shown in milliseconds.
    Ms,
    /// Seconds.
    Seconds,
    /// A multiplier: "×2".
    Times,
    /// Gigabytes.
    Gb,
    /// A plain number.
    Plain,
}

/// How a sweep axis is shown on an axis, in a legend and in a title.
#[derive(Debug, Clone)]
pub(crate) struct AxisLabel {
    /// Axis description with its unit, e.g. "h100-pool network round trip (ms)".
    pub(crate) desc: String,
    /// Multiplier from the column's value to the value shown on the axis.
    pub(crate) mul: f64,
    /// Tick suffix (" %", " ms", "×", " s").
    pub(crate) suffix: &'static str,
    /// The name alone, e.g. "network round trip".
    pub(crate) short: String,
    unit: Unit,
}

impl AxisLabel {
    fn new(short: String, unit: Unit, desc: Option<String>) -> AxisLabel {
        let (mul, suffix, paren) = match unit {
            Unit::Percent => (100.0, " %", Some("%")),
            Unit::Users => (1.0, "", None),
            Unit::Usd => (1.0, "", Some("USD")),
            Unit::Ms => (1000.0, " ms", Some("ms")),
            Unit::Seconds => (1.0, " s", Some("s")),
            Unit::Times => (1.0, "×", None),
            Unit::Gb => (1.0, "", Some("GB")),
            Unit::Plain => (1.0, "", None),
        };
        let desc = desc.unwrap_or_else(|| match paren {
            Some(p) => format!("{short} ({p})"),
            None => short.clone(),
        });
        AxisLabel {
            desc,
            mul,
            suffix,
            short,
            unit,
        }
    }

    /// The value with its unit: "10 %", "$1,999", "500 ms", "×2".
    pub(crate) fn amount(&self, x: f64) -> String {
        match self.unit {
            Unit::Percent => format!("{} %", fmt_tick(x * 100.0)),
            Unit::Users => human(x),
            Unit::Usd => format!("${}", exact(x)),
            Unit::Ms => format!("{} ms", fmt_tick(x * 1000.0)),
            Unit::Seconds => format!("{} s", fmt_tick(x)),
            Unit::Times => format!("×{}", sig(x, 3)),
            Unit::Gb => format!("{} GB", fmt_tick(x)),
            Unit::Plain => fmt_tick(x),
        }
    }

    /// The axis at a value, for legends and titles: "duty cycle 10 %",
    /// "1,000 users", "desktop price $1,999".
    pub(crate) fn value(&self, x: f64) -> String {
        match self.unit {
            Unit::Users => format!("{} {}", human(x), self.short),
            _ => format!("{} {}", self.short, self.amount(x)),
        }
    }
}

/// A number as written, thousands separated when whole: 1,999 not 2,000
/// (the printed tables' formatting, with all the digits a value has).
fn exact(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e12 {
        crate::output::terminal::format_significant(x, 15)
    } else {
        human(x)
    }
}

/// The label of the sweep column `col` (`sweep_placements_1_network_rtt_s`).
pub(crate) fn axis_label(f: &Frame, col: &str) -> AxisLabel {
    let key = col.strip_prefix("sweep_").unwrap_or(col);
    match key {
        "users_duty_cycle" => {
            return AxisLabel::new(
                "duty cycle".into(),
                Unit::Percent,
                Some("duty cycle: share of the day one user keeps a device busy (%)".into()),
            )
        }
        "users_count" => return AxisLabel::new("users".into(), Unit::Users, None),
        "users_requests_per_day" => {
            return AxisLabel::new("requests per user per day".into(), Unit::Plain, None)
        }
        "costs_electricity_usd_per_kwh_datacenter" => {
            return AxisLabel::new(
                "datacenter electricity per kWh".into(),
                Unit::Usd,
                Some("datacenter electricity price (USD per kWh)".into()),
            )
        }
        "costs_electricity_usd_per_kwh_home" => {
            return AxisLabel::new(
                "home electricity per kWh".into(),
                Unit::Usd,
                Some("home electricity price (USD per kWh)".into()),
            )
        }
        "costs_memory_price_multiplier" => {
            return AxisLabel::new(
                "memory price".into(),
                Unit::Times,
                Some("memory price multiplier (× today's memory price)".into()),
            )
        }
        _ => {}
    }
    if let Some(target) = key.strip_prefix("service_level_") {
        return service_level_label(target);
    }
    for (section, owner_word, names) in [
        ("placements_", "placement", placement_names(f)),
        ("classes_", "class", class_names(f)),
    ] {
        if let Some(rest) = key.strip_prefix(section) {
            if let Some((idx, field)) = rest.split_once('_') {
                if let Ok(i) = idx.parse::<usize>() {
                    let owner = names
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| format!("{owner_word} {}", i + 1));
                    return owned_field(&owner, field);
                }
            }
        }
    }
    let rest = [
        "users_",
        "costs_",
        "model_",
        "sizing_",
        "trace_",
        "workload_",
    ]
    .iter()
    .find_map(|p| key.strip_prefix(p))
    .unwrap_or(key);
    let (words, unit) = unit_of(rest);
    AxisLabel::new(words, unit, None)
}

/// `ttft_p99_s` → "TTFT p99 target" in seconds.
fn service_level_label(target: &str) -> AxisLabel {
    let parts: Vec<&str> = target.split('_').collect();
    if parts.len() == 3 && parts[1].starts_with('p') && parts[2] == "s" {
        let short = format!("{} {} target", short_latency(parts[0]), parts[1]);
        return AxisLabel::new(short, Unit::Seconds, None);
    }
    let (words, unit) = unit_of(target);
    AxisLabel::new(format!("service level {words}"), unit, None)
}

/// A placement's or class's field: "desktop price", "chat share".
fn owned_field(owner: &str, field: &str) -> AxisLabel {
    let (name, unit) = match field {
        "price_usd" => ("price".to_string(), Unit::Usd),
        "network_rtt_s" => ("network round trip".to_string(), Unit::Ms),
        "share" => ("share".to_string(), Unit::Percent),
        "duty_cycle" => ("duty cycle".to_string(), Unit::Percent),
        "max_batch" => ("max batch".to_string(), Unit::Plain),
        "lifetime_years" => ("lifetime in years".to_string(), Unit::Plain),
        "pue" => ("PUE".to_string(), Unit::Plain),
        "bandwidth_efficiency" => ("bandwidth efficiency".to_string(), Unit::Percent),
        "compute_efficiency" => ("compute efficiency".to_string(), Unit::Percent),
        _ => unit_of(field),
    };
    AxisLabel::new(format!("{owner} {name}"), unit, None)
}

/// Words of a key without its unit suffix, and that unit.
fn unit_of(key: &str) -> (String, Unit) {
    let (stem, unit) = if let Some(s) = key.strip_suffix("_ms") {
        (s, Unit::Plain)
    } else if let Some(s) = key.strip_suffix("_s") {
        (s, Unit::Seconds)
    } else if let Some(s) = key.strip_suffix("_usd") {
        (s, Unit::Usd)
    } else if let Some(s) = key.strip_suffix("_gb") {
        (s, Unit::Gb)
    } else if let Some(s) = key.strip_suffix("_share") {
        (s, Unit::Percent)
    } else {
        (key, Unit::Plain)
    };
    let mut words = stem.replace('_', " ");
    if key.ends_with("_ms") {
        words.push_str(" (ms)");
    }
    if key.ends_with("_share") {
        words.push_str(" share");
    }
    (words, unit)
}

/// Placement names in scenario order: first appearance among the rows of
/// the first sweep point, placements (not hybrids) only.
fn placement_names(f: &Frame) -> Vec<String> {
    let names = f.text(columns::PLACEMENT);
    let kinds = f.text(columns::KIND);
    let point = f.num("point");
    let first = point
        .iter()
        .flatten()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let mut out: Vec<String> = Vec::new();
    for r in 0..f.rows() {
        if point[r].is_some_and(|p| p != first) || kinds[r].as_deref() == Some("hybrid") {
            continue;
        }
        if let Some(n) = &names[r] {
            if !out.contains(n) {
                out.push(n.clone());
            }
        }
    }
    out
}

/// Class names in scenario order, from the widest `classes` value
/// (`chat+agent`).
fn class_names(f: &Frame) -> Vec<String> {
    f.text("classes")
        .into_iter()
        .flatten()
        .max_by_key(|c| c.split('+').count())
        .map(|c| c.split('+').map(str::to_string).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_keys_read_as_words() {
        let df = polars::df!(
            "point" => [0u64, 0],
            columns::PLACEMENT => ["desktop", "h100-pool"],
            columns::KIND => ["dedicated", "pooled"],
            "classes" => ["chat", "chat+agent"],
        )
        .unwrap();
        let f = Frame { df: &df };
        let l = |c: &str, x: f64| axis_label(&f, c).value(x);
        assert_eq!(
            l("sweep_placements_0_price_usd", 1999.0),
            "desktop price $1,999"
        );
        assert_eq!(
            l("sweep_placements_1_network_rtt_s", 0.5),
            "h100-pool network round trip 500 ms"
        );
        assert_eq!(l("sweep_classes_1_share", 0.5), "agent share 50 %");
        assert_eq!(
            l("sweep_service_level_ttft_p99_s", 5.0),
            "TTFT p99 target 5 s"
        );
        assert_eq!(l("sweep_users_duty_cycle", 0.1), "duty cycle 10 %");
        assert_eq!(l("sweep_users_count", 1000.0), "1,000 users");
        assert_eq!(l("sweep_users_think_time_s", 2.0), "think time 2 s");
        assert_eq!(
            l("sweep_placements_7_max_batch", 8.0),
            "placement 8 max batch 8"
        );
        assert_eq!(
            axis_label(&f, "sweep_model_kv_cache_gb").desc,
            "kv cache (GB)"
        );
    }
}
