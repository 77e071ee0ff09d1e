//! Pool compositions: how pools of k users split into classes
//! ([`pool_types`]), their labels, and the users per pool of a placement
//! that serves only some classes ([`part_pool_users`]).

use crate::scenario::Scenario;

/// The class compositions of pools of `k` of a view's users, with the share
/// of pools that have each. Class c averages `k x share_c` users per pool:
/// every pool gets the whole part, and the fractional parts are dealt out
/// systematically (class after class around a circle of pools), so the
/// population's mix is kept exactly and every pool holds k users. One
/// composition when the view has one class or the shares divide evenly.
pub fn pool_types(v: &Scenario, k: usize) -> Vec<(Vec<u32>, f64)> {
    let n = v.classes.len();
    if n == 1 || k >= v.users {
        let counts = (0..n).map(|c| v.class_users(c).1).collect();
        let counts = if k >= v.users { counts } else { vec![k as u32] };
        return vec![(counts, 1.0)];
    }
    let pools = v.users as f64 / k as f64;
    let expected: Vec<f64> = (0..n).map(|c| v.class_users(c).1 as f64 / pools).collect();
    let base: Vec<u32> = expected.iter().map(|e| (e + 1e-9).floor() as u32).collect();
    let frac: Vec<f64> = expected
        .iter()
        .zip(&base)
        .map(|(e, b)| (e - *b as f64).max(0.0))
        .collect();
    // Class c's extra users go to pools in [F_{c-1}, F_c) around the circle.
    let mut bounds = vec![0.0];
    for f in &frac {
        bounds.push(bounds.last().expect("non-empty") + f);
    }
    let mut cuts: Vec<f64> = bounds.iter().map(|b| b.rem_euclid(1.0)).collect();
    cuts.extend([0.0, 1.0]);
    cuts.sort_by(f64::total_cmp);
    cuts.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    let mut out: Vec<(Vec<u32>, f64)> = Vec::new();
    for w in cuts.windows(2) {
        let share = w[1] - w[0];
        if share < 1e-9 {
            continue;
        }
        let x = 0.5 * (w[0] + w[1]);
        let counts: Vec<u32> = (0..n)
            .map(|c| {
                let (lo, hi) = (bounds[c], bounds[c + 1]);
                // Is x + m in [lo, hi) for some whole m?
                let m = (lo - x).ceil();
                base[c] + u32::from(x + m < hi)
            })
            .collect();
        match out.iter_mut().find(|(c, _)| *c == counts) {
            Some(t) => t.1 += share,
            None => out.push((counts, share)),
        }
    }
    out
}

/// `agents 1 + chat 3` for a pool composition.
pub(crate) fn composition_label(v: &Scenario, counts: &[u32]) -> String {
    v.classes
        .iter()
        .zip(counts)
        .map(|(c, n)| format!("{} {n}", c.name))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Users per pool of a placement serving `served` of `all` users when
/// pools hold `k` users of every class.
pub fn part_pool_users(k: usize, served: usize, all: usize) -> usize {
    if k >= all {
        return served;
    }
    ((k as f64 * served as f64 / all as f64).round() as usize).clamp(1, served)
}
