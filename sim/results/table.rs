//! Flat result rows: a row is an ordered list of named cells, so one
//! definition of the columns feeds the Parquet writer, the printed table and
//! the summaries across replications.

/// One cell of a result row. Missing values (a percentile of a placement
/// that completed nothing) are `None` and become nulls, never NaN.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text.
    Str(String),
    /// Count or identifier.
    U64(u64),
    /// Measurement.
    F64(Option<f64>),
    /// Flag.
    Bool(Option<bool>),
}

impl Value {
    /// The number, when it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::U64(v) => Some(*v as f64),
            Value::F64(v) => *v,
            _ => None,
        }
    }

    /// Display form for tables.
    pub fn display(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::U64(v) => v.to_string(),
            Value::F64(None) | Value::Bool(None) => "-".into(),
            Value::F64(Some(v)) => format_number(*v),
            Value::Bool(Some(b)) => if *b { "yes" } else { "no" }.into(),
        }
    }
}

/// Short, readable number: 4 significant digits, no exponent in the common range.
pub fn format_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    if !(1e-4..1e9).contains(&a) {
        return format!("{v:.3e}");
    }
    let digits = (4 - 1 - a.log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

/// A named, ordered row.
pub type Row = Vec<(String, Value)>;

/// A cell of a row.
pub fn cell(name: impl Into<String>, value: Value) -> (String, Value) {
    (name.into(), value)
}

/// Find a cell by column name.
pub fn get<'a>(row: &'a Row, name: &str) -> Option<&'a Value> {
    row.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Sum of a numeric column over `rows` (None when a row lacks a number).
pub fn sum_column(rows: &[&Row], name: &str) -> Option<f64> {
    rows.iter()
        .map(|r| get(r, name).and_then(Value::as_f64))
        .sum()
}

/// The non-empty texts of a column over `rows`, joined with `sep`.
pub fn join_column(rows: &[&Row], name: &str, sep: &str) -> String {
    rows.iter()
        .filter_map(|r| match get(r, name) {
            Some(Value::Str(t)) if !t.is_empty() => Some(t.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(sep)
}

/// The rows of `class` among per-class rows (empty when the class
/// had no user in the run).
pub fn rows_of_class<'a>(class_rows: &'a [Row], class: &str) -> Vec<&'a Row> {
    class_rows
        .iter()
        .filter(
            |r| matches!(get(r, crate::results::columns::CLASS), Some(Value::Str(c)) if c == class),
        )
        .collect()
}
