//! Joining classes resolved on their own into one population: arrivals
//! merged in class order, each placement built from its per-class
//! resolutions (one model and one service level per placement), and LLM
//! batch-1 times mixed over the classes a placement serves.

use std::path::Path;

use crate::workload::arrivals::PoissonArrivals;

use super::super::check::Check;
use super::super::placement::Placement;
use super::super::raw::RawScenario;
use super::super::{Scenario, ScenarioError, UserClass, Workload};
use super::hybrids::resolve_hybrids;
use super::sizing::resolve_sizing;
use super::workload::workload_label;

/// Each non-empty class resolved alone, with the file indices of the
/// placements it saw.
type Subs = Vec<(Scenario, Vec<usize>)>;

/// Join the classes `subs` into one scenario.
pub(super) fn join_classes(
    c: &Check,
    raw: &RawScenario,
    subs: Subs,
    path: &Path,
) -> Result<Scenario, ScenarioError> {
    // Join: merged arrivals (class order), classes, placements.
    let mut groups = Vec::new();
    let mut user_classes = Vec::with_capacity(subs.len());
    let mut first = 0u32;
    for (r, _) in subs.iter() {
        let start = groups.len();
        for g in r.arrivals.groups() {
            let mut g = g.clone();
            g.first_user += first;
            groups.push(g);
        }
        first += r.users as u32;
        let mut class = r.classes[0].clone();
        class.groups = start..groups.len();
        user_classes.push(class);
    }
    let mut placements = Vec::with_capacity(raw.placements.len());
    for j in 0..raw.placements.len() {
        placements.push(join_placement(c, j, &subs, &user_classes)?);
    }
    super::privacy::check_local_only(c, &placements, &user_classes)?;
    let hybrids = resolve_hybrids(c, raw, &placements, &user_classes)?;

    let (first_sub, _) = &subs[0];
    let mut s = Scenario {
        name: first_sub.name.clone(),
        source: path.to_path_buf(),
        seed: first_sub.seed,
        horizon_s: first_sub.horizon_s,
        warmup_s: first_sub.warmup_s,
        replications: first_sub.replications,
        users: first as usize,
        requests_per_user_per_day: 0.0,
        arrivals: PoissonArrivals::new(groups).with_bursts(first_sub.arrivals.bursts()),
        classes: user_classes,
        trace: None,
        trace_clock: subs[0].0.trace_clock,
        start_hour_of_day: subs[0].0.start_hour_of_day,
        trace_blocks: None,
        mean_service_s: 0.0,
        placements,
        hybrids,
        service_level: first_sub.service_level.clone(),
        sizing: resolve_sizing(c, raw.sizing.as_ref(), raw.users().count as usize)?,
        outages: None,
        benchmark: None,
        costs: first_sub.costs.clone(),
    };
    s.refresh_means();
    for j in 0..s.placements.len() {
        mix_request_times(&mut s, j, &subs);
    }
    Ok(s)
}

/// Placement `j` of the file from the resolutions of the classes it serves.
fn join_placement(
    c: &Check,
    j: usize,
    subs: &Subs,
    user_classes: &[UserClass],
) -> Result<Placement, ScenarioError> {
    let mut served: Vec<(usize, &Placement)> = Vec::new();
    for (ci, (r, idx)) in subs.iter().enumerate() {
        if let Some(pos) = idx.iter().position(|&x| x == j) {
            served.push((ci, &r.placements[pos]));
        }
    }
    let Some(&(c0, p0)) = served.first() else {
        return Err(c.err(
            format!("placements[{j}].serves"),
            "serves no class: list at least one class name",
        ));
    };
    let w0 = &user_classes[c0].workload;
    for &(ci, _) in &served[1..] {
        let w = &user_classes[ci].workload;
        let same = match (w0, w) {
            (Workload::Generic { .. }, Workload::Generic { .. }) => true,
            (Workload::Llm(a), Workload::Llm(b)) => {
                a.model.name == b.model.name && a.quantisation == b.quantisation
            }
            _ => false,
        };
        if !same {
            return Err(c.err(
                format!("placements[{j}].serves"),
                format!(
                    "serves classes {:?} ({}) and {:?} ({}): one server holds one model; give each its own placement and join them in [[hybrids]]",
                    user_classes[c0].name,
                    workload_label(w0),
                    user_classes[ci].name,
                    workload_label(w)
                ),
            ));
        }
        if user_classes[ci].service_level != user_classes[c0].service_level {
            return Err(c.err(
                format!("placements[{j}].serves"),
                format!(
                    "serves classes {:?} and {:?} with different service levels: one fleet is sized for one service level; give each its own placement",
                    user_classes[c0].name, user_classes[ci].name
                ),
            ));
        }
    }
    let mut p = p0.clone();
    p.serves = served.iter().map(|(ci, _)| *ci).collect();
    p.service_scale_by_class = vec![1.0; user_classes.len()];
    for (ci, q) in &served {
        p.service_scale_by_class[*ci] = q.service_scale_by_class[0];
    }
    p.stream_id = j as u64;
    p.device_alternatives = super::alternatives::join_alternatives(j, &p, &served, user_classes);
    Ok(p)
}

/// An LLM placement's batch-1 request time (and that of each of its
/// device alternatives): request-weighted over the classes it serves,
/// each class's own on its own resolution (its token counts).
fn mix_request_times(s: &mut Scenario, j: usize, subs: &Subs) {
    let shares = s.served_request_shares(j);
    // Per served class (class order, as `shares`): the time of the
    // placement picked by `pick` in that class's resolution.
    let mixed = |pick: &dyn Fn(&Placement) -> Option<f64>| -> Option<f64> {
        let times: Vec<f64> = subs
            .iter()
            .filter_map(|(r, idx)| {
                let pos = idx.iter().position(|&x| x == j)?;
                pick(&r.placements[pos])
            })
            .collect();
        (times.len() == shares.len())
            .then(|| shares.iter().zip(&times).map(|((_, sh), t)| sh * t).sum())
    };
    let request_s = |p: &Placement| p.llm().map(|l| l.mean_request_s);
    let main = mixed(&request_s);
    if let (Some(l), Some(t)) = (s.placements[j].llm_mut(), main) {
        l.mean_request_s = t;
    }
    for d in 0..s.placements[j].device_alternatives.len() {
        let on_device =
            |p: &Placement| p.device_alternatives[d].1.as_ref().ok().and_then(request_s);
        let t = mixed(&on_device);
        if let (Ok(a), Some(t)) = (&mut s.placements[j].device_alternatives[d].1, t) {
            if let Some(l) = a.llm_mut() {
                l.mean_request_s = t;
            }
        }
    }
}
