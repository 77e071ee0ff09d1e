//! `[[hybrids]]`: placements reported together as one answer; their parts
//! must split the classes (every class served by exactly one part).

use super::super::check::Check;
use super::super::model::Hybrid;
use super::super::placement::Placement;
use super::super::raw::{RawHybrid, RawScenario};
use super::super::{ScenarioError, UserClass};

/// Every `[[hybrids]]` entry of `raw`, over the joined `placements`.
pub(super) fn resolve_hybrids(
    c: &Check,
    raw: &RawScenario,
    placements: &[Placement],
    classes: &[UserClass],
) -> Result<Vec<Hybrid>, ScenarioError> {
    let mut hybrids = Vec::new();
    for (h, raw_h) in raw.hybrids.iter().flatten().enumerate() {
        let hybrid = resolve_hybrid(c, h, raw_h, &hybrids, placements, classes)?;
        hybrids.push(hybrid);
    }
    Ok(hybrids)
}

fn resolve_hybrid(
    c: &Check,
    h: usize,
    raw_h: &RawHybrid,
    earlier: &[Hybrid],
    placements: &[Placement],
    classes: &[UserClass],
) -> Result<Hybrid, ScenarioError> {
    let key = |f: &str| format!("hybrids[{h}].{f}");
    if raw_h.name.is_empty()
        || earlier.iter().any(|x| x.name == raw_h.name)
        || placements.iter().any(|p| p.name == raw_h.name)
    {
        return Err(c.err(
            key("name"),
            format!(
                "{:?}: a hybrid needs a non-empty name no placement or other hybrid uses",
                raw_h.name
            ),
        ));
    }
    let mut parts = Vec::new();
    let mut covered = vec![0usize; classes.len()];
    for n in &raw_h.parts {
        let j = placements
            .iter()
            .position(|p| &p.name == n)
            .ok_or_else(|| {
                c.err(
                    key("parts"),
                    format!(
                        "unknown placement {n:?}: use one of {}",
                        placements
                            .iter()
                            .map(|p| p.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        for &ci in &placements[j].serves {
            covered[ci] += 1;
        }
        parts.push(j);
    }
    if parts.len() < 2 {
        return Err(c.err(
            key("parts"),
            "needs at least two placements (one placement is reported on its own)",
        ));
    }
    if let Some(ci) = covered.iter().position(|&n| n != 1) {
        return Err(c.err(
            key("parts"),
            format!(
                "class {:?} is served by {} of the parts: every class must be served by exactly one part (set each part's `serves`)",
                classes[ci].name, covered[ci]
            ),
        ));
    }
    Ok(Hybrid {
        name: raw_h.name.clone(),
        parts,
    })
}
