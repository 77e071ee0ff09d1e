//! Reading the data of a chart: [`Frame`] turns DataFrame columns into
//! numbers, text and flags; rows are grouped into series ([`group_rows`]),
//! and sweep axes found ([`first_axis`]; `labels` names them).

use std::collections::BTreeSet;

use polars::prelude::{DataFrame, DataType};

use super::format::human;
use super::labels::{axis_label, AxisLabel};
use crate::results::columns;

pub(crate) struct Frame<'a> {
    pub(crate) df: &'a DataFrame,
}

impl Frame<'_> {
    pub(crate) fn rows(&self) -> usize {
        self.df.height()
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.df.column(name).is_ok()
    }

    /// A numeric column as f64 (nulls and non-finite values as None); all
    /// None when missing or not numeric.
    pub(crate) fn num(&self, name: &str) -> Vec<Option<f64>> {
        let none = vec![None; self.rows()];
        let Ok(col) = self.df.column(name) else {
            return none;
        };
        if !col.dtype().is_primitive_numeric() {
            return none;
        }
        let Ok(c) = col.cast(&DataType::Float64) else {
            return none;
        };
        match c.f64() {
            Ok(ca) => ca.iter().map(|v| v.filter(|x| x.is_finite())).collect(),
            Err(_) => none,
        }
    }

    pub(crate) fn has_num(&self, name: &str) -> bool {
        self.num(name).iter().any(Option::is_some)
    }

    pub(crate) fn text(&self, name: &str) -> Vec<Option<String>> {
        let none = vec![None; self.rows()];
        let Ok(col) = self.df.column(name) else {
            return none;
        };
        let Ok(c) = col.cast(&DataType::String) else {
            return none;
        };
        match c.str() {
            Ok(ca) => ca.iter().map(|v| v.map(str::to_string)).collect(),
            Err(_) => none,
        }
    }

    pub(crate) fn flag(&self, name: &str) -> Vec<Option<bool>> {
        let none = vec![None; self.rows()];
        let Ok(col) = self.df.column(name) else {
            return none;
        };
        match col.bool() {
            Ok(ca) => ca.iter().collect(),
            Err(_) => none,
        }
    }

    pub(crate) fn first_text(&self, name: &str) -> Option<String> {
        self.text(name)
            .into_iter()
            .flatten()
            .find(|s| !s.is_empty())
    }

    /// Numeric `sweep_*` columns, in column order.
    pub(crate) fn sweep_axes(&self) -> Vec<String> {
        self.df
            .columns()
            .iter()
            .filter(|c| c.name().starts_with("sweep_") && c.dtype().is_primitive_numeric())
            .map(|c| c.name().to_string())
            .collect()
    }
}

/// The first numeric sweep axis that varies (or the first numeric one).
pub(crate) fn first_axis(f: &Frame) -> Option<String> {
    let axes = f.sweep_axes();
    axes.iter()
        .find(|a| distinct(&f.num(a)).len() > 1)
        .or(axes.first())
        .cloned()
}

pub(crate) fn distinct(v: &[Option<f64>]) -> Vec<f64> {
    let mut d: Vec<f64> = v.iter().flatten().copied().collect();
    d.sort_by(f64::total_cmp);
    d.dedup();
    d
}

/// One series of rows: (series label, kind, row indices).
pub(crate) type Group = (String, String, Vec<usize>);

/// The rows of a chart, each with its series label.
pub(crate) struct Grouped {
    /// The series in order of first appearance.
    pub(crate) groups: Vec<Group>,
}

/// A series: its label, its placement's kind and its points.
pub(crate) type Labelled = (String, String, Vec<(f64, f64)>);

/// Group `rows` into series: by placement (with its kind), plus the other
/// sweep axes that vary, plus the pool size when a placement has several at
/// one x value.
pub(crate) fn group_rows(f: &Frame, rows: &[usize], x_col: Option<&str>) -> Grouped {
    let placement = f.text(columns::PLACEMENT);
    let kind = f.text(columns::KIND);
    let others: Vec<(AxisLabel, Vec<Option<f64>>)> = series_axes(f, rows, x_col)
        .into_iter()
        .map(|(a, v)| (axis_label(f, &a), v))
        .collect();
    let xs = x_col.map(|c| f.num(c));
    let pool = f.num(columns::POOL_USERS);
    let key = |r: usize| {
        let mut k = placement[r].clone().unwrap_or_else(|| "all rows".into());
        for (a, v) in &others {
            if let Some(x) = v[r] {
                k.push_str(&format!(", {}", a.value(x)));
            }
        }
        k
    };
    // Several pool sizes per (series, x)? Then the pool size joins that
    // placement's labels.
    let mut seen = BTreeSet::new();
    let mut with_k = BTreeSet::new();
    for &r in rows {
        let x = xs.as_ref().and_then(|v| v[r]).map(f64::to_bits);
        if !seen.insert((key(r), x)) {
            with_k.insert(placement[r].clone());
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    for &r in rows {
        let mut label = key(r);
        if with_k.contains(&placement[r]) {
            if let Some(k) = pool[r] {
                label.push_str(&format!(", pool of {}", human(k)));
            }
        }
        let kd = kind[r].clone().unwrap_or_default();
        match groups.iter_mut().find(|g| g.0 == label) {
            Some(g) => g.2.push(r),
            None => groups.push((label, kd, vec![r])),
        }
    }
    Grouped { groups }
}

/// The sweep axes other than `x_col` that vary over `rows` and so split
/// them into series, with their values.
fn series_axes(f: &Frame, rows: &[usize], x_col: Option<&str>) -> Vec<(String, Vec<Option<f64>>)> {
    let others: Vec<(String, Vec<Option<f64>>)> = f
        .sweep_axes()
        .into_iter()
        .filter(|a| Some(a.as_str()) != x_col)
        .map(|a| {
            let v = f.num(&a);
            (a, v)
        })
        .filter(|(_, v)| distinct(&rows.iter().map(|&r| v[r]).collect::<Vec<_>>()).len() > 1)
        .collect();
    let xs = x_col.map(|c| f.num(c));
    // A sweep axis that moves with the x sweep axis (a zipped sweep: one
    // value per x value) is part of the x axis, not a series of its own.
    let x_is_axis = x_col.is_some_and(|c| c.starts_with("sweep_"));
    match &xs {
        Some(x) if x_is_axis => others
            .into_iter()
            .filter(|(_, v)| {
                let mut seen: Vec<(Option<f64>, Option<f64>)> = Vec::new();
                for &r in rows {
                    match seen.iter().find(|(xv, _)| *xv == x[r]) {
                        Some((_, av)) if *av != v[r] => return true,
                        Some(_) => {}
                        None => seen.push((x[r], v[r])),
                    }
                }
                false
            })
            .collect(),
        _ => others,
    }
}

/// A series label with its placement's kind after the placement name.
pub(crate) fn with_kind(label: &str, kind: &str) -> String {
    if kind.is_empty() {
        label.to_string()
    } else {
        match label.split_once(", ") {
            Some((p, rest)) => format!("{p} ({kind}), {rest}"),
            None => format!("{label} ({kind})"),
        }
    }
}

/// Rows whose `kind` is `kind` (all rows when the column is missing).
pub(crate) fn rows_of_kind(f: &Frame, kind: &str) -> Vec<usize> {
    if !f.has(columns::KIND) {
        return (0..f.rows()).collect();
    }
    f.text(columns::KIND)
        .iter()
        .enumerate()
        .filter(|(_, k)| k.as_deref() == Some(kind))
        .map(|(i, _)| i)
        .collect()
}

/// Points (x, y) of `rows` for numeric columns, sorted by x; rows with a
/// missing or non-positive value (when `positive`) skipped.
pub(crate) fn points(
    x: &[Option<f64>],
    y: &[Option<f64>],
    rows: &[usize],
    positive: bool,
) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|&r| Some((x[r]?, y[r]?)))
        .filter(|(a, b)| !positive || (*a > 0.0 && *b > 0.0))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipped_sweep_axes_do_not_split_series() {
        // Two axes advancing together (a zipped sweep) are one x axis; a
        // crossed axis still splits the series.
        let zipped = polars::df!(
            "sweep_classes_0_share" => [1.0, 0.5, 0.2, 1.0, 0.5, 0.2],
            "sweep_classes_1_share" => [0.0, 0.5, 0.8, 0.0, 0.5, 0.8],
            columns::PLACEMENT => ["a", "a", "a", "b", "b", "b"],
            columns::KIND => ["pooled"; 6],
        )
        .unwrap();
        let f = Frame { df: &zipped };
        let all: Vec<usize> = (0..6).collect();
        let g = group_rows(&f, &all, Some("sweep_classes_0_share"));
        assert_eq!(g.groups.len(), 2, "{:?}", g.groups);
        let crossed = polars::df!(
            "sweep_x" => [1.0, 2.0, 1.0, 2.0],
            "sweep_y" => [5.0, 5.0, 7.0, 7.0],
            columns::PLACEMENT => ["a"; 4],
            columns::KIND => ["pooled"; 4],
        )
        .unwrap();
        let f = Frame { df: &crossed };
        let g = group_rows(&f, &[0, 1, 2, 3], Some("sweep_x"));
        assert_eq!(g.groups.len(), 2, "{:?}", g.groups);
    }
}
