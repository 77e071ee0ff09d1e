//! `local_only` classes: their requests must stay on the user's own device,
//! so only dedicated placements may serve them. A pooled placement that
//! serves one is refused, naming the class and the placement, unless it
//! says `ignore_local_only = true` (a priced counterfactual: what the
//! service would cost without the constraint, reported as not respecting
//! it). Hybrids are built from placements, so they inherit the rule.

use super::super::check::Check;
use super::super::placement::{Placement, PlacementKind};
use super::super::{ScenarioError, UserClass};

/// Refuse a pooled placement serving a `local_only` class.
pub(super) fn check_local_only(
    c: &Check,
    placements: &[Placement],
    classes: &[UserClass],
) -> Result<(), ScenarioError> {
    for (j, p) in placements.iter().enumerate() {
        if p.kind == PlacementKind::Dedicated || p.billing.ignore_local_only {
            continue;
        }
        if let Some(&ci) = p.serves.iter().find(|&&ci| classes[ci].local_only) {
            return Err(c.err(
                format!("placements[{j}].serves"),
                format!(
                    "placement {:?} is pooled and serves class {:?}, which is local_only: only dedicated placements (the user's own device) may serve it; leave the class out of `serves` (and serve it from a dedicated placement, joined in [[hybrids]]), or set `ignore_local_only = true` to price this placement as a counterfactual",
                    p.name, classes[ci].name
                ),
            ));
        }
    }
    Ok(())
}
