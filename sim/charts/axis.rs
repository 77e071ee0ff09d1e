//! Axes as drawn: from an [`AxisSpec`] and the values a panel plots,
//! [`Axis::build`] chooses log or linear, the range (padded, from zero when
//! asked), and the tick positions and labels (decades and mantissas on log
//! axes, nice steps on linear ones, HH:00 on hours, percentiles on the
//! tail-stretched axis). Plot coordinates are log10 of the value on log axes.

use super::figure::{AxisSpec, Scale};
use super::format::{fmt_tick, sig};

pub(crate) struct Axis {
    pub(crate) log: bool,
    nines: bool,
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    clamp: bool,
    pub(crate) ticks: Vec<(f64, String)>,
    pub(crate) light: Vec<f64>,
}

fn min_of(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max_of(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

impl Axis {
    /// Value to plot coordinate; None if it cannot be shown.
    pub(crate) fn t(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        if self.nines {
            return (0.0..1.0).contains(&v).then(|| -(1.0 - v).log10());
        }
        if self.log {
            if v > 0.0 {
                Some(v.log10())
            } else if self.clamp {
                Some(self.lo)
            } else {
                None
            }
        } else {
            Some(v)
        }
    }

    /// Plot coordinate kept inside the axis.
    pub(crate) fn t_clamped(&self, v: f64) -> Option<f64> {
        let t = if self.log && v <= 0.0 {
            self.lo
        } else {
            self.t(v)?
        };
        Some(t.clamp(self.lo, self.hi))
    }

    /// The label of the tick nearest plot coordinate `t`.
    pub(crate) fn label(&self, t: f64) -> String {
        self.ticks
            .iter()
            .min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()))
            .map(|x| x.1.clone())
            .unwrap_or_default()
    }

    pub(crate) fn build(spec: &AxisSpec, values: &[f64]) -> Axis {
        let vals: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let pos: Vec<f64> = vals.iter().copied().filter(|v| *v > 0.0).collect();
        let log = match spec.scale {
            Scale::Log => !pos.is_empty(),
            Scale::Auto => {
                !pos.is_empty()
                    && (pos.len() == vals.len() || spec.clamp)
                    && max_of(&pos) / min_of(&pos) > 10f64.powf(1.5)
            }
            _ => false,
        };
        let mut axis = Axis {
            log,
            nines: spec.scale == Scale::Nines,
            lo: 0.0,
            hi: 1.0,
            clamp: spec.clamp,
            ticks: Vec::new(),
            light: Vec::new(),
        };
        if axis.nines {
            axis.nines_ticks(&vals);
            return axis;
        }
        if log {
            axis.log_range(&pos);
        } else if vals.is_empty() {
            axis.lo = 0.0;
            axis.hi = 1.0;
        } else {
            axis.linear_range(spec, &vals);
        }
        if let Some(ticks) = &spec.ticks {
            axis.custom_ticks(ticks);
        } else if log {
            axis.log_ticks(spec.suffix);
        } else if spec.scale == Scale::Hours {
            axis.hour_ticks();
        } else {
            axis.linear_ticks(spec.suffix);
        }
        axis
    }

    /// Whether plot coordinate `t` lies on the axis.
    fn in_range(&self, t: f64) -> bool {
        t >= self.lo - 1e-9 && t <= self.hi + 1e-9
    }

    /// The tail-stretched cumulative axis: range up to the largest share
    /// plotted (at least 99 %), percentile ticks.
    fn nines_ticks(&mut self, vals: &[f64]) {
        let top = vals
            .iter()
            .filter(|v| (0.0..1.0).contains(*v))
            .map(|v| -(1.0 - v).log10())
            .fold(2.0, f64::max);
        self.hi = top + 0.12;
        let qs = [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999];
        let names = [
            "0 %", "50 %", "90 %", "99 %", "99.9 %", "99.99 %", "99.999 %",
        ];
        for (q, n) in qs.iter().zip(names) {
            let t = -(1.0f64 - q).log10();
            if t <= self.hi {
                self.ticks.push((t, n.to_string()));
            }
        }
        for q in [0.25, 0.75, 0.8, 0.95, 0.98, 0.995, 0.998, 0.9995, 0.9998] {
            let t = -(1.0f64 - q).log10();
            if t <= self.hi {
                self.light.push(t);
            }
        }
    }

    /// Log range of the positive values, padded by 5 % (a single value
    /// gets a decade around it).
    fn log_range(&mut self, pos: &[f64]) {
        let (a, b) = (min_of(pos).log10(), max_of(pos).log10());
        let (a, b) = if b - a < 1e-9 {
            (a - 0.5, b + 0.5)
        } else {
            (a, b)
        };
        let pad = ((b - a) * 0.05).max(0.04);
        self.lo = a - pad;
        self.hi = b + pad;
    }

    /// Linear range: whole hours on an hours axis, else padded by 5 %
    /// (from zero when the spec asks and the data allows).
    fn linear_range(&mut self, spec: &AxisSpec, vals: &[f64]) {
        let (mut a, mut b) = (min_of(vals), max_of(vals));
        if spec.scale == Scale::Hours {
            a = a.floor();
            b = b.ceil();
            if b - a < 1.0 {
                b = a + 1.0;
            }
        } else {
            if spec.zero && a >= 0.0 {
                a = 0.0;
            }
            if spec.zero && b <= 0.0 {
                b = 0.0;
            }
            if b - a < 1e-12 {
                let d = if a.abs() > 0.0 { a.abs() * 0.1 } else { 1.0 };
                a -= d;
                b += d;
            }
            let pad = (b - a) * 0.05;
            if !(spec.zero && a == 0.0) {
                a -= pad;
            }
            b += pad;
        }
        self.lo = a;
        self.hi = b;
    }

    /// The spec's own ticks that fall on the axis.
    fn custom_ticks(&mut self, ticks: &[(f64, String)]) {
        for (v, label) in ticks {
            if let Some(t) = self.t(*v) {
                if self.in_range(t) {
                    self.ticks.push((t, label.clone()));
                }
            }
        }
    }

    /// Decade ticks (with 2, 3, 5 mantissas on short axes), light lines at
    /// the other mantissas, labels thinned so they do not collide.
    fn log_ticks(&mut self, suffix: &str) {
        let span = self.hi - self.lo;
        let mantissas: &[f64] = if span <= 1.3 {
            &[1.0, 2.0, 3.0, 5.0]
        } else if span <= 4.2 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0]
        };
        let every = if span > 9.0 { 2 } else { 1 };
        let (d0, d1) = (self.lo.floor() as i32, self.hi.ceil() as i32);
        for d in d0..=d1 {
            for &m in mantissas {
                let v = m * 10f64.powi(d);
                let t = v.log10();
                if self.in_range(t) && (m != 1.0 || d.rem_euclid(every) == 0) {
                    self.ticks.push((t, format!("{}{}", fmt_tick(v), suffix)));
                }
            }
            if span <= 9.0 {
                for m in 2..=9 {
                    let t = (f64::from(m) * 10f64.powi(d)).log10();
                    if self.in_range(t) {
                        self.light.push(t);
                    }
                }
            }
        }
        // Labels closer than ~5 % of the axis would collide.
        let mut kept: Vec<(f64, String)> = Vec::new();
        for tick in std::mem::take(&mut self.ticks) {
            if kept.last().is_none_or(|k| tick.0 - k.0 >= span * 0.05) {
                kept.push(tick);
            }
        }
        self.ticks = kept;
        if self.ticks.len() < 2 {
            for t in [self.lo + span * 0.1, self.hi - span * 0.1] {
                let v = 10f64.powf(t);
                let v = sig(v, 2).parse::<f64>().unwrap_or(v);
                self.ticks
                    .push((v.log10(), format!("{}{}", fmt_tick(v), suffix)));
            }
        }
    }

    /// HH:00 every 1, 2 or 3 hours.
    fn hour_ticks(&mut self) {
        let span = self.hi - self.lo;
        let step = if span <= 6.0 {
            1.0
        } else if span <= 12.0 {
            2.0
        } else {
            3.0
        };
        let mut h = (self.lo / step).ceil() * step;
        while h <= self.hi + 1e-9 {
            self.ticks.push((h, format!("{:02}:00", h as i64)));
            h += step;
        }
    }

    /// About six ticks at a nice step.
    fn linear_ticks(&mut self, suffix: &str) {
        let step = nice_step((self.hi - self.lo) / 6.0);
        let mut k = (self.lo / step).ceil();
        while k * step <= self.hi + 1e-9 * step {
            let v = k * step;
            let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
            self.ticks.push((v, format!("{}{}", fmt_tick(v), suffix)));
            k += 1.0;
        }
    }
}

/// The step of 1, 2, 2.5, 5 or 10 times a power of ten at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    let n = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 2.5 {
        2.5
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    n * p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axis_ticks_cover_the_range() {
        let a = Axis::build(&AxisSpec::new("x", Scale::Log), &[1.0, 20000.0]);
        assert!(a.log);
        let labels: Vec<&str> = a.ticks.iter().map(|t| t.1.as_str()).collect();
        assert!(
            labels.contains(&"1") && labels.contains(&"10k"),
            "{labels:?}"
        );
        let b = Axis::build(&AxisSpec::new("x", Scale::Auto), &[1.0, 5.0]);
        assert!(!b.log);
    }
}
