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
