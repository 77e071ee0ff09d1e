//! `[sizing] dedicated_devices`: every dedicated placement resolved again
//! on each listed catalogue device (or why that device cannot serve it),
//! and, in a population of classes, joined over the classes it serves.

use super::super::check::Check;
use super::super::placement::{Placement, PlacementKind};
use super::super::raw::RawScenario;
use super::super::{ScenarioError, UserClass};
use super::placements::{resolve_placement, PlacementContext};
use super::sizing::dedicated_device_names;

/// The same dedicated `placements` on other catalogue devices.
pub(super) fn resolve_alternatives(
    c: &Check,
    raw: &RawScenario,
    cx: &PlacementContext,
    placements: &mut [Placement],
) -> Result<(), ScenarioError> {
    let choices = dedicated_device_names(c, raw.sizing.as_ref(), cx.catalog_files, cx.base_dir)?;
    // Why a device cannot serve is quoted in another message: without the class.
    let quoted = c.unscoped();
    for (i, p) in raw.placements.iter().enumerate() {
        if placements[i].kind != PlacementKind::Dedicated {
            continue;
        }
        for name in &choices {
            let mut q = p.clone();
            q.device = Some(name.clone());
            q.price_usd = None;
            let alt = resolve_placement(&quoted, i, &q, cx).map_err(|e| match e {
                ScenarioError::Invalid { message, .. }
                | ScenarioError::InvalidBecause { message, .. } => message,
                other => other.to_string(),
            });
            placements[i].device_alternatives.push((name.clone(), alt));
        }
    }
    Ok(())
}

/// A device alternative serves the placement `p` (file index `j`) if it
/// serves every class the placement serves.
pub(super) fn join_alternatives(
    j: usize,
    p: &Placement,
    served: &[(usize, &Placement)],
    user_classes: &[UserClass],
) -> Vec<(String, Result<Placement, String>)> {
    let p0 = served[0].1;
    p0.device_alternatives
        .iter()
        .enumerate()
        .map(|(d, (name, _))| {
            let mut problems = Vec::new();
            let mut alt: Option<Placement> = None;
            for (ci, q) in served {
                match &q.device_alternatives[d].1 {
                    Ok(a) => {
                        let a0 = alt.get_or_insert_with(|| {
                            let mut a0 = a.clone();
                            a0.serves = p.serves.clone();
                            a0.service_scale_by_class = vec![1.0; user_classes.len()];
                            a0.stream_id = j as u64;
                            a0
                        });
                        a0.service_scale_by_class[*ci] = a.service_scale_by_class[0];
                    }
                    Err(m) => problems.push(format!("class {:?}: {m}", user_classes[*ci].name)),
                }
            }
            let result = match (problems.is_empty(), alt) {
                (true, Some(a)) => Ok(a),
                _ => Err(problems.join("; ")),
            };
            (name.clone(), result)
        })
        .collect()
}
