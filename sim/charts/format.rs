//! Number and list formatting for tick labels, titles and subtitles:
//! significant digits, `10k`/`2.5M` ticks, prose numbers with thousands
//! separators, ratios, ranges, dollars and "a, b and c" lists.

/// Significant digits without trailing zeros.
pub(crate) fn sig(v: f64, digits: i32) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let d = (digits - 1 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.d$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Tick label: 1000, 10k, 2.5M, 0.0002.
pub(crate) fn fmt_tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if a < 1e-4 {
        let e = a.log10().floor();
        let m = v / 10f64.powf(e);
        return if (m - m.round()).abs() < 1e-9 && m.round() == 1.0 {
            format!("1e{e}")
        } else {
            format!("{}e{e}", sig(m, 2))
        };
    }
    let (s, suf) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    format!("{}{suf}", sig(s, 4))
}

/// A number for prose: 3 significant digits, thousands separated.
pub(crate) fn human(v: f64) -> String {
    let a = v.abs();
    if a >= 1e7 {
        return format!("{} million", sig(v / 1e6, 3));
    }
    if a >= 1000.0 {
        let p = 10f64.powi(a.log10().floor() as i32 - 2);
        let r = ((v / p).round() * p) as i64;
        let s = r.abs().to_string();
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(ch);
        }
        return if r < 0 { format!("-{out}") } else { out };
    }
    sig(v, 3)
}

pub(crate) fn ratio(v: f64) -> String {
    if v < 10.0 {
        format!("{}×", sig(v, 2))
    } else {
        format!("{}×", human(v))
    }
}

/// "a–b" of two numbers as shown, or one number when they read the same.
pub(crate) fn span_text(lo: &str, hi: &str) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}–{hi}")
    }
}

pub(crate) fn usd(v: f64) -> String {
    format!("${}", human(v))
}

/// "a", "a and b", "a, b and c".
pub(crate) fn list(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        _ => format!(
            "{} and {}",
            items[..items.len() - 1].join(", "),
            items[items.len() - 1]
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_tick(1000.0), "1000");
        assert_eq!(fmt_tick(20000.0), "20k");
        assert_eq!(fmt_tick(2.5e6), "2.5M");
        assert_eq!(fmt_tick(0.0002), "0.0002");
        assert_eq!(human(16000.0), "16,000");
        assert_eq!(human(2.85), "2.85");
        assert_eq!(human(1.999e7), "20 million");
    }
}
