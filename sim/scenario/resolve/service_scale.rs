//! A generic placement's multiplier on service times: `service_scale`, or
//! for speech classes the device's catalogue real-time factor.

use super::super::check::Check;
use super::super::placement::{PricedDevice, MAX_SERVICE_SCALE};
use super::super::raw::RawPlacement;
use super::super::{ScenarioError, Workload};
use super::placements::PlacementContext;

/// The multiplier on generic service times: `service_scale`, or a speech
/// task's catalogue real-time factor, else 1.
pub(super) fn service_scale(
    c: &Check,
    i: usize,
    p: &RawPlacement,
    cx: &PlacementContext,
    priced: Option<&PricedDevice>,
) -> Result<f64, ScenarioError> {
    let key = |k: &str| c.placement_key(i, k);
    Ok(match (p.service_scale, cx.workload, cx.task, priced) {
        (Some(_), Workload::Llm(_), ..) => {
            return Err(c.err(
                key("service_scale"),
                "LLM service times come from the device and model: remove it",
            ))
        }
        (Some(x), Workload::Generic { .. }, ..) => {
            // A multiplier on service times: beyond 1e6 the scaled times
            // overflow the statistics (found by fuzzing), and no device is a
            // million times slower than another.
            let x = c.positive(&key("service_scale"), x)?;
            if x > MAX_SERVICE_SCALE {
                return Err(c.err(
                    key("service_scale"),
                    format!("must be at most {MAX_SERVICE_SCALE:e} (got {x:e}): a multiplier on the service time, e.g. 0.1 for a real-time factor of 0.1"),
                ));
            }
            x
        }
        (None, Workload::Generic { .. }, Some(t), Some(d)) => t.rtf(&d.device).ok_or_else(|| {
            c.err(
                key("device"),
                format!(
                    "{} has no {} in the catalogue: add it to the device, or give the placement `service_scale`",
                    d.device.name,
                    t.rtf_key()
                ),
            )
        })?,
        (None, Workload::Generic { .. }, Some(t), None) => {
            return Err(c.err(
                key("device"),
                format!("missing: a placement serving {} requests needs `device` (its catalogue {}) or `service_scale`", t.name(), t.rtf_key()),
            ))
        }
        (None, ..) => 1.0,
    })
}
