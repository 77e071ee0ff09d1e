//! Units and labels every layer spells the same way.

/// Seconds in a day: the period of every daily profile.
pub const DAY_S: f64 = 86_400.0;

/// Column label of a percentile: 99 -> `p99`, 99.9 -> `p999`, 50 -> `p50`.
pub fn percentile_label(p: f64) -> String {
    format!("p{}", p.to_string().replace('.', ""))
}

/// `text` with control characters escaped (`\u{1b}`), so that a name or a
/// line read from a file cannot write raw control bytes to the terminal.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `x.round() as u64` for `x >= 0` (and NaN, which gives 0), without the
/// library call `round` is on a baseline x86-64 target: the integer part
/// by truncation, plus one when the (exactly computed) fraction is at least
/// one half, as `round` rounds halves away from zero. Below 2^53 the integer
/// part and the fraction are exact; above, every double is an integer.
#[inline]
pub fn round_to_u64(x: f64) -> u64 {
    if x < 9_007_199_254_740_992.0 {
        let whole = x as u64;
        whole + ((x - whole as f64) >= 0.5) as u64
    } else {
        x as u64
    }
}

/// `x.floor()` for `+0 <= x < 2^53` by truncation (no library call), else
/// `floor` itself.
#[inline]
pub fn floor_non_negative(x: f64) -> f64 {
    if x.is_sign_positive() && x < 9_007_199_254_740_992.0 {
        (x as u64) as f64
    } else {
        x.floor()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_round_and_floor_equal_the_library_ones() {
        let mut values = vec![
            0.0,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            4_503_599_627_370_495.5,
            4_503_599_627_370_497.0,
            9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            1e300,
            f64::INFINITY,
            f64::MIN_POSITIVE,
            5e-324,
        ];
        let mut x: f64 = 1e-9;
        while x < 1e17 {
            values.extend([x, x * 1.000_000_1, x + 0.5, (x + 0.5).next_up(), x - 0.5]);
            x *= 1.37;
        }
        for &v in values.iter().filter(|v| **v >= 0.0) {
            assert_eq!(round_to_u64(v), v.round() as u64, "round {v}");
            assert_eq!(
                floor_non_negative(v).to_bits(),
                v.floor().to_bits(),
                "floor {v}"
            );
        }
        assert_eq!(round_to_u64(f64::NAN), f64::NAN.round() as u64);
        assert_eq!(floor_non_negative(-0.5), -1.0);
        assert_eq!(floor_non_negative(-0.0).to_bits(), (-0.0f64).to_bits());
        assert!(floor_non_negative(f64::NAN).is_nan());
        for v in [-0.3, -0.5, -0.7, -2.5, -1e300] {
            assert_eq!(round_to_u64(v), v.round() as u64, "round {v}");
        }
    }
}
