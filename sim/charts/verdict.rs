//! The service-level verdicts a chart states, read from the same columns
//! the tables print: `slo_met` (run), `feasible` (size), and the per-target
//! `slo_detail` / `reason` text (`ttft_p99_s 6.6 (<= 5) MISSED; ...`). A
//! headline never recomputes a verdict from plotted numbers, so it cannot
//! disagree with the table.

use super::data::Frame;
use super::format::{list, sig};
use crate::results::columns;

/// One service-level target of a row, parsed from its verdict text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    /// The measured column, e.g. `ttft_p99_s` (without the class).
    pub(crate) column: String,
    /// The class the target is judged on (`ttft_p99_s[chat]`), if any.
    pub(crate) class: Option<String>,
    /// The compared value (None when the text says `none`).
    pub(crate) value: Option<f64>,
    /// The bound.
    pub(crate) bound: f64,
    /// `>=` (attainment) rather than `<=`.
    pub(crate) at_least: bool,
    /// ok rather than MISSED.
    pub(crate) ok: bool,
}

impl Target {
    /// The latency (`ttft`) and percentile (99.0) of a latency target.
    pub(crate) fn latency(&self) -> Option<(&str, f64)> {
        let body = self.column.strip_suffix("_s")?;
        let (metric, p) = body.rsplit_once("_p")?;
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let n: f64 = p.parse().ok()?;
        // `percentile_label` drops the point: p999 is 99.9, p9999 is 99.99.
        let pct = if n <= 100.0 {
            n
        } else {
            format!("{}.{}", &p[..2], &p[2..]).parse().ok()?
        };
        Some((metric, pct))
    }

    /// "p99 TTFT ≤ 5 s" (with the class: "p99 TTFT of chat ≤ 5 s").
    pub(crate) fn bound_text(&self) -> String {
        let class = self
            .class
            .as_ref()
            .map(|c| format!(" of {c}"))
            .unwrap_or_default();
        match self.latency() {
            Some((m, p)) => format!(
                "p{} {}{class} ≤ {} s",
                sig(p, 4),
                short_latency(m),
                sig(self.bound, 3)
            ),
            None => format!(
                "{}{class} {} {}",
                self.column.replace('_', " "),
                if self.at_least { "≥" } else { "≤" },
                sig(self.bound, 3)
            ),
        }
    }

    /// "p99 TTFT 6.6 s > 5 s" for a missed target.
    pub(crate) fn miss_text(&self) -> String {
        let class = self
            .class
            .as_ref()
            .map(|c| format!(" of {c}"))
            .unwrap_or_default();
        let v = self.value.map_or("none".to_string(), |v| sig(v, 2));
        match self.latency() {
            Some((m, p)) => format!(
                "p{} {}{class} {v} s > {} s",
                sig(p, 4),
                short_latency(m),
                sig(self.bound, 3)
            ),
            None => format!(
                "{}{class} {v} {} {}",
                self.column.replace('_', " "),
                if self.at_least { "<" } else { ">" },
                sig(self.bound, 3)
            ),
        }
    }
}

/// TTFT, TPOT, E2E, wait, response time.
pub(crate) fn short_latency(name: &str) -> &str {
    match name {
        "ttft" => "TTFT",
        "tpot" => "TPOT",
        "e2e" => "E2E",
        "wait" => "wait",
        "response" => "response time",
        other => other,
    }
}

/// The targets in a verdict text: `;`-separated parts of the form
/// `<column>[<class>] <value> (<= <bound>) ok|MISSED`, anywhere in the part
/// (a `reason` puts a sentence before the first).
pub(crate) fn parse_targets(text: &str) -> Vec<Target> {
    text.split(';').filter_map(parse_target).collect()
}

fn parse_target(part: &str) -> Option<Target> {
    let words: Vec<&str> = part.split_whitespace().collect();
    let op = words.iter().position(|w| *w == "(<=" || *w == "(>=")?;
    if op < 2 || words.len() < op + 3 {
        return None;
    }
    let name = words[op - 2];
    let (column, class) = match name.split_once('[') {
        Some((c, rest)) => (c.to_string(), Some(rest.trim_end_matches(']').to_string())),
        None => (name.to_string(), None),
    };
    let bound: f64 = words[op + 1].trim_end_matches(')').parse().ok()?;
    Some(Target {
        column,
        class,
        value: words[op - 1].parse().ok(),
        bound,
        at_least: words[op] == "(>=",
        ok: words[op + 2] == "ok",
    })
}

/// Each row's verdict: `slo_met` where the file has it, else `feasible`
/// (a sized answer meets the service level; an infeasible one cannot),
/// else whether every parsed target is ok; None when the row has none.
pub(crate) struct Verdicts {
    pub(crate) met: Vec<Option<bool>>,
    pub(crate) targets: Vec<Vec<Target>>,
}

pub(crate) fn verdicts(f: &Frame) -> Verdicts {
    let slo_met = f.flag(columns::SLO_MET);
    let feasible = f.flag("feasible");
    let detail = f.text(columns::SLO_DETAIL);
    let reason = f.text("reason");
    let mut met = Vec::with_capacity(f.rows());
    let mut targets = Vec::with_capacity(f.rows());
    for r in 0..f.rows() {
        let mut t = detail[r].as_deref().map(parse_targets).unwrap_or_default();
        if t.is_empty() {
            t = reason[r].as_deref().map(parse_targets).unwrap_or_default();
        }
        let m = slo_met[r]
            .or(feasible[r])
            .or_else(|| (!t.is_empty()).then(|| t.iter().all(|x| x.ok)));
        met.push(m);
        targets.push(t);
    }
    Verdicts { met, targets }
}

impl Verdicts {
    /// Whether `rows` have a verdict and every one is met (Some(true)),
    /// some is missed (Some(false)), or none has a verdict (None).
    pub(crate) fn all_met(&self, rows: &[usize]) -> Option<bool> {
        let known: Vec<bool> = rows.iter().filter_map(|&r| self.met[r]).collect();
        if known.is_empty() {
            None
        } else {
            Some(known.iter().all(|m| *m))
        }
    }

    /// The missed targets of row `r`, as "p99 TTFT 6.6 s > 5 s".
    pub(crate) fn missed_text(&self, r: usize) -> Vec<String> {
        self.targets[r]
            .iter()
            .filter(|t| !t.ok)
            .map(Target::miss_text)
            .collect()
    }

    /// Every distinct target bound on `column` among `rows`, with the
    /// class it applies to.
    pub(crate) fn bounds_of(&self, column: &str, rows: &[usize]) -> Vec<(f64, Option<String>)> {
        let mut out: Vec<(f64, Option<String>)> = Vec::new();
        for &r in rows {
            for t in &self.targets[r] {
                if t.column == column && !out.iter().any(|o| o.0 == t.bound && o.1 == t.class) {
                    out.push((t.bound, t.class.clone()));
                }
            }
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }
}

/// "<series> misses the service level at <points> (p99 TTFT 6.6 s > 5 s)"
/// for every series of `series` (label, rows) with a missed row; `at`
/// words a row's point ("duty cycle 10 %"), None for charts without one.
pub(crate) fn miss_phrases(
    v: &Verdicts,
    series: &[(String, Vec<usize>)],
    at: &dyn Fn(usize) -> Option<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (label, rows) in series {
        let missed: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&r| v.met[r] == Some(false))
            .collect();
        if missed.is_empty() {
            continue;
        }
        let mut points: Vec<String> = Vec::new();
        let mut why: Vec<String> = Vec::new();
        for &r in &missed {
            if let Some(p) = at(r) {
                if !points.contains(&p) {
                    points.push(p);
                }
            }
            for w in v.missed_text(r) {
                if !why.contains(&w) {
                    why.push(w);
                }
            }
        }
        // "desktop (TTFT p99 target 5 s) misses", not "desktop, TTFT ... misses".
        let who = match label.split_once(", ") {
            Some((p, rest)) => format!("{p} ({rest})"),
            None => label.clone(),
        };
        let mut s = format!("{who} misses the service level");
        if !points.is_empty() {
            s.push_str(&format!(" at {}", list(&points)));
        }
        if !why.is_empty() && why.len() <= 2 {
            s.push_str(&format!(" ({})", why.join("; ")));
        }
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_from_detail_and_reason() {
        let t = parse_targets(
            "one device per user misses the service level: ttft_p99_s 6.593 (<= 5) MISSED; tpot_p99_s 0.01719 (<= 0.1) ok",
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].column, "ttft_p99_s");
        assert!(!t[0].ok && t[1].ok);
        assert_eq!(t[0].latency(), Some(("ttft", 99.0)));
        assert_eq!(t[0].miss_text(), "p99 TTFT 6.6 s > 5 s");
        let c = parse_targets("ttft_p999_s[chat] 11.4 (<= 10) MISSED");
        assert_eq!(c[0].class.as_deref(), Some("chat"));
        assert_eq!(c[0].latency(), Some(("ttft", 99.9)));
        assert_eq!(c[0].bound_text(), "p99.9 TTFT of chat ≤ 10 s");
    }
}
