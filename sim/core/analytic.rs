//! Closed forms from queueing theory (docs/model.md section 11): the engine is
//! checked against these, and sizing uses them for a first guess.

/// Erlang-C: probability that an arrival waits in an M/M/c queue with offered
/// load `a = lambda / mu` Erlangs. Returns 1 when `a >= c` (unstable).
pub fn erlang_c(c: usize, a: f64) -> f64 {
    if c == 0 || a >= c as f64 {
        return 1.0;
    }
    // Erlang-B by the stable recursion, then C = B / (1 - rho (1 - B)).
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let rho = a / c as f64;
    b / (1.0 - rho * (1.0 - b))
}

/// Steady-state waiting-time figures of an M/M/c queue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmcWait {
    /// P(wait > 0).
    pub p_wait: f64,
    /// E[Wq], seconds (time units of 1/mu).
    pub mean_wait_s: f64,
    /// Decay rate of the waiting-time tail, `c mu - lambda`.
    pub tail_rate: f64,
}

impl MmcWait {
    /// M/M/c with `c` servers, arrival rate `lambda`, service rate `mu`.
    pub fn new(c: usize, lambda: f64, mu: f64) -> MmcWait {
        let a = lambda / mu;
        let p_wait = erlang_c(c, a);
        let tail_rate = c as f64 * mu - lambda;
        MmcWait {
            p_wait,
            mean_wait_s: if tail_rate > 0.0 {
                p_wait / tail_rate
            } else {
                f64::INFINITY
            },
            tail_rate,
        }
    }

    /// P(Wq > t).
    pub fn p_wait_above(&self, t_s: f64) -> f64 {
        self.p_wait * (-self.tail_rate * t_s).exp()
    }

    /// The q-quantile of Wq (0 when q <= 1 - P(wait > 0)).
    pub fn wait_quantile(&self, q: f64) -> f64 {
        if 1.0 - q >= self.p_wait {
            0.0
        } else {
            (self.p_wait / (1.0 - q)).ln() / self.tail_rate
        }
    }
}

/// Pollaczek-Khinchine: mean wait of an M/G/1 queue,
/// `E[Wq] = lambda E[S^2] / (2 (1 - rho))`.
pub fn pollaczek_khinchine_wait(lambda: f64, mean_s: f64, second_moment_s2: f64) -> f64 {
    let rho = lambda * mean_s;
    if rho >= 1.0 {
        return f64::INFINITY;
    }
    lambda * second_moment_s2 / (2.0 * (1.0 - rho))
}

/// Least number of servers with `erlang_c(c, a) * exp(-(c - a) mu t) <= p`,
/// i.e. P(Wq > t) <= p in M/M/c with `a` Erlangs and service rate `mu`.
pub fn min_servers_for_wait_tail(a: f64, mu: f64, t_s: f64, p: f64) -> usize {
    let mut c = (a.floor() as usize).max(1);
    loop {
        if (c as f64) > a {
            let w = MmcWait::new(c, a * mu, mu);
            if w.p_wait_above(t_s) <= p {
                return c;
            }
        }
        c += 1;
    }
}

/// Inverse of the standard normal CDF (Acklam's rational approximation,
/// relative error below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    assert!(p > 0.0 && p < 1.0, "probability in (0, 1)");
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let plow = 0.02425;
    if p < plow {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - plow {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

/// Upper `p` quantile of Student's t with `df` degrees of freedom
/// (Cornish-Fisher expansion around the normal quantile; accurate to ~1e-3
/// for df >= 5).
pub fn t_quantile(p: f64, df: usize) -> f64 {
    let z = normal_quantile(p);
    let n = df as f64;
    let z3 = z.powi(3);
    let z5 = z.powi(5);
    let z7 = z.powi(7);
    z + (z3 + z) / (4.0 * n)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n.powi(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_reference_values() {
        // docs/model.md section 11.1: c = 10, lambda = 8, mu = 1: C = 0.4092, E[Wq] = 0.2046.
        let w = MmcWait::new(10, 8.0, 1.0);
        assert!((w.p_wait - 0.4092).abs() < 5e-5, "{}", w.p_wait);
        assert!((w.mean_wait_s - 0.2046).abs() < 5e-5, "{}", w.mean_wait_s);
        // M/M/1: C = rho.
        assert!((erlang_c(1, 0.5) - 0.5).abs() < 1e-12);
        // Sizing references from the sizing issue.
        assert!((erlang_c(19, 10.0) - 0.0079).abs() < 1e-4);
        assert!((erlang_c(18, 10.0) - 0.0159).abs() < 1e-4);
        assert_eq!(min_servers_for_wait_tail(10.0, 1.0, 0.0, 0.01), 19);
        assert_eq!(min_servers_for_wait_tail(100.0, 1.0, 0.1, 0.01), 118);
    }

    #[test]
    fn pk_is_half_of_mm1_for_deterministic() {
        let mm1 = pollaczek_khinchine_wait(0.5, 1.0, 2.0);
        let md1 = pollaczek_khinchine_wait(0.5, 1.0, 1.0);
        assert!((mm1 - MmcWait::new(1, 0.5, 1.0).mean_wait_s).abs() < 1e-12);
        assert!((md1 * 2.0 - mm1).abs() < 1e-12);
    }

    #[test]
    fn quantiles() {
        assert!((normal_quantile(0.975) - 1.959_963_985).abs() < 1e-8);
        assert!((normal_quantile(0.01) + 2.326_347_874).abs() < 1e-8);
        assert!((t_quantile(0.975, 19) - 2.093).abs() < 2e-3);
        assert!((t_quantile(0.975, 9) - 2.262).abs() < 5e-3);
    }
}
