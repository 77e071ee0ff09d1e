//! Results for people and for scripts. A printed answer is a list of
//! [`Column`]s (the result column, a header, a unit); [`render`] lays rows
//! out as a table that fits a terminal's width (headers and text wrap,
//! numbers never do; columns that still do not fit are left out and named
//! below the table), or writes them as CSV or JSON with the raw column names
//! and full-precision values.
//!
//! Numbers in tables have at most four significant digits, thousands
//! separators, no exponent between 1e-4 and 1e12, and their unit in the
//! header, never in the cell (shares are printed as percentages).

use comfy_table::{
    CellAlignment, ColumnConstraint, ContentArrangement, ContentLineStyle, LineStyle, Table,
    TableStyle, Width,
};

use crate::results::{get, Row, Value};

/// How a command prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An aligned table for people, fitted to the terminal's width.
    Table,
    /// Comma-separated values, header first.
    Csv,
    /// One JSON object per row, in an array.
    Json,
}

/// How a cell is shown in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Text as it is.
    Text,
    /// A whole number, with thousands separators.
    Count,
    /// A plain number (4 significant digits).
    Number,
    /// Seconds.
    Seconds,
    /// US dollars.
    Usd,
    /// Gigabytes.
    Gb,
    /// Kilowatt-hours.
    Kwh,
    /// A fraction in [0, 1], shown as a percentage.
    Share,
    /// A ratio ("x times").
    Factor,
    /// Yes or no.
    Flag,
}

impl Unit {
    /// The header suffix naming the unit, e.g. ` (s)`.
    fn suffix(self) -> &'static str {
        match self {
            Unit::Seconds => " (s)",
            Unit::Usd => " ($)",
            Unit::Gb => " (GB)",
            Unit::Kwh => " (kWh)",
            Unit::Share => " (%)",
            Unit::Factor => " (x)",
            Unit::Text | Unit::Count | Unit::Number | Unit::Flag => "",
        }
    }
}

/// One printed column: which result column, its header, its unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The result column it shows.
    pub name: String,
    /// The header, without its unit.
    pub header: String,
    /// How its cells are shown.
    pub unit: Unit,
}

impl Column {
    /// A printed column.
    pub fn new(name: impl Into<String>, header: impl Into<String>, unit: Unit) -> Self {
        Column {
            name: name.into(),
            header: header.into(),
            unit,
        }
    }

    fn title(&self) -> String {
        format!("{}{}", self.header, self.unit.suffix())
    }
}

/// `v` with at most `digits` significant digits, thousands separators and
/// no trailing zeros: 1999 -> `1,999`, 0.60 -> `0.6`, 16000.4 -> `16,000`.
pub fn format_significant(v: f64, digits: i32) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return if v.is_nan() {
            "-".into()
        } else {
            v.to_string()
        };
    }
    let a = v.abs();
    if !(1e-4..1e12).contains(&a) {
        return format!("{v:.*e}", (digits - 1).max(0) as usize);
    }
    let magnitude = a.log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    // Round to the significant digits first, so 99,995 -> 100,000.
    let scale = 10f64.powi(digits - 1 - magnitude);
    let rounded = (v * scale).round() / scale;
    let text = format!("{rounded:.decimals$}");
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i, f.trim_end_matches('0')),
        None => (text.as_str(), ""),
    };
    let (sign, digits_only) = match int_part.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", int_part),
    };
    let mut grouped = String::new();
    for (i, c) in digits_only.chars().enumerate() {
        if i > 0 && (digits_only.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac_part.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac_part}")
    }
}

/// A cell as shown in a table.
pub fn format_cell(v: Option<&Value>, unit: Unit) -> String {
    let Some(v) = v else { return "-".into() };
    match (v, unit) {
        (Value::Str(s), _) if s.is_empty() => "-".into(),
        (Value::Str(s), _) => s.clone(),
        (Value::Bool(None), _) | (Value::F64(None), _) => "-".into(),
        (Value::Bool(Some(b)), _) => if *b { "yes" } else { "no" }.into(),
        (Value::U64(n), Unit::Share) => format_significant(*n as f64 * 100.0, 4),
        (Value::U64(n), _) => format_significant(*n as f64, 20),
        (Value::F64(Some(x)), Unit::Share) => format_significant(x * 100.0, 4),
        (Value::F64(Some(x)), Unit::Count) if x.fract() == 0.0 => format_significant(*x, 20),
        (Value::F64(Some(x)), _) => format_significant(*x, 4),
    }
}

/// Rows as a table no wider than `width` characters (cells wrap when the
/// columns do not fit), or as CSV or JSON of the raw values.
pub fn render(rows: &[Row], columns: &[Column], format: Format, width: usize) -> String {
    match format {
        Format::Table => table(rows, columns, width),
        Format::Csv => csv(rows, columns),
        Format::Json => json(rows, columns),
    }
}

/// Lines under the header only; columns two spaces apart.
const STYLE: TableStyle = TableStyle::new()
    .header_separator(LineStyle::none().fill('-').junction(' '))
    .content_lines(ContentLineStyle::none().junction(' '))
    .header_lines(ContentLineStyle::none().junction(' '));

/// The narrowest a column may become: numbers never wrap, text wraps at
/// 20 characters at most, a header may wrap at word boundaries.
fn least_width(cells: &[String], header: &str, unit: Unit) -> usize {
    let widest = |it: &mut dyn Iterator<Item = usize>| it.max().unwrap_or(1);
    let content = widest(&mut cells.iter().map(|c| c.chars().count()));
    let header_word = widest(&mut header.split(' ').map(|w| w.chars().count()));
    let floor = if unit == Unit::Text {
        content.min(20)
    } else {
        content
    };
    floor.max(header_word.min(12)).max(1)
}

fn table(rows: &[Row], columns: &[Column], width: usize) -> String {
    let cells: Vec<Vec<String>> = columns
        .iter()
        .map(|c| {
            rows.iter()
                .map(|r| format_cell(get(r, &c.name), c.unit))
                .collect()
        })
        .collect();
    let shown_row = |shown: &[usize], r: usize| -> Vec<String> {
        shown.iter().map(|&i| cells[i][r].clone()).collect()
    };
    // Keep the columns, in order, whose least widths fit (each column adds
    // its width, two cells of padding and a separator).
    let mut used = 0;
    let mut shown = Vec::new();
    let mut hidden = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let least = least_width(&cells[i], &c.title(), c.unit) + 3;
        if used + least <= width.max(20) || shown.is_empty() {
            used += least;
            shown.push(i);
        } else {
            hidden.push(c.name.as_str());
        }
    }
    let mut t = Table::new();
    t.load_style(STYLE)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(width).unwrap_or(u16::MAX))
        .set_header(shown.iter().map(|&i| columns[i].title()));
    t.add_rows((0..rows.len()).map(|r| shown_row(&shown, r)));
    for (k, &i) in shown.iter().enumerate() {
        let least = least_width(&cells[i], &columns[i].title(), columns[i].unit);
        if let Some(col) = t.column_mut(k) {
            col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
                u16::try_from(least + 2).unwrap_or(u16::MAX),
            )));
            if columns[i].unit != Unit::Text {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
    let mut out: String = t.lines().map(|l| l.trim_end().to_string() + "\n").collect();
    if !hidden.is_empty() {
        let note = format!(
            "(not shown, the terminal is too narrow: {}; widen it or use --format csv)",
            hidden.join(", ")
        );
        for line in wrap_words(&note, width.max(20)) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// `text` in lines of at most `width` characters, broken at spaces (a
/// longer word stands alone on its line).
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let last = lines.last_mut().expect("one line at least");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

/// A raw value as text for CSV: full precision, empty when missing.
fn raw(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::F64(None)) | Some(Value::Bool(None)) => String::new(),
        Some(Value::Str(s)) => s.clone(),
        Some(Value::U64(n)) => n.to_string(),
        Some(Value::F64(Some(x))) => x.to_string(),
        Some(Value::Bool(Some(b))) => b.to_string(),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv(rows: &[Row], columns: &[Column]) -> String {
    let mut out = columns
        .iter()
        .map(|c| csv_field(&c.name))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in rows {
        let line: Vec<String> = columns
            .iter()
            .map(|c| csv_field(&raw(get(r, &c.name))))
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn json_value(v: Option<&Value>) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        None | Some(Value::F64(None)) | Some(Value::Bool(None)) => J::Null,
        Some(Value::Str(s)) => J::String(s.clone()),
        Some(Value::U64(n)) => J::from(*n),
        Some(Value::F64(Some(x))) => serde_json::Number::from_f64(*x).map_or(J::Null, J::Number),
        Some(Value::Bool(Some(b))) => J::Bool(*b),
    }
}

fn json(rows: &[Row], columns: &[Column]) -> String {
    let array: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let object: serde_json::Map<String, serde_json::Value> = columns
                .iter()
                .map(|c| (c.name.clone(), json_value(get(r, &c.name))))
                .collect();
            serde_json::Value::Object(object)
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&array).expect("JSON of plain values");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::cell;

    #[test]
    fn numbers_have_four_significant_digits_and_separators() {
        assert_eq!(format_significant(1999.0, 4), "1,999");
        assert_eq!(format_significant(16000.4, 4), "16,000");
        assert_eq!(format_significant(0.6, 4), "0.6");
        assert_eq!(format_significant(0.0016, 4), "0.0016");
        assert_eq!(format_significant(1.23456, 4), "1.235");
        assert_eq!(format_significant(99_995.0, 4), "100,000");
        assert_eq!(format_significant(-1234.5, 4), "-1,235");
        assert_eq!(format_significant(5.893e-5, 4), "5.893e-5");
        assert_eq!(format_significant(10_003_730.0, 20), "10,003,730");
    }

    #[test]
    fn shares_are_percentages_and_missing_cells_a_dash() {
        assert_eq!(
            format_cell(Some(&Value::F64(Some(0.25))), Unit::Share),
            "25"
        );
        assert_eq!(format_cell(Some(&Value::F64(None)), Unit::Seconds), "-");
        assert_eq!(format_cell(None, Unit::Number), "-");
        assert_eq!(
            format_cell(Some(&Value::Bool(Some(true))), Unit::Flag),
            "yes"
        );
    }

    fn rows() -> Vec<Row> {
        vec![
            vec![
                cell("placement", Value::Str("desktop, one per user".into())),
                cell("capex_usd_per_user", Value::F64(Some(1999.0))),
            ],
            vec![
                cell("placement", Value::Str("h100 \"pool\"".into())),
                cell("capex_usd_per_user", Value::F64(None)),
            ],
        ]
    }

    fn columns() -> Vec<Column> {
        vec![
            Column::new("placement", "placement", Unit::Text),
            Column::new("capex_usd_per_user", "capex per user", Unit::Usd),
        ]
    }

    #[test]
    fn csv_quotes_and_keeps_raw_values() {
        let text = render(&rows(), &columns(), Format::Csv, 80);
        assert_eq!(
            text,
            "placement,capex_usd_per_user\n\"desktop, one per user\",1999\n\"h100 \"\"pool\"\"\",\n"
        );
    }

    #[test]
    fn json_has_one_object_per_row_with_nulls() {
        let text = render(&rows(), &columns(), Format::Json, 80);
        let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(v[0]["capex_usd_per_user"], 1999.0);
        assert!(v[1]["capex_usd_per_user"].is_null());
    }

    #[test]
    fn tables_fit_the_width() {
        let many: Vec<Column> = (0..12)
            .map(|i| Column::new(format!("c{i}"), format!("a long header {i}"), Unit::Number))
            .collect();
        let row: Row = (0..12)
            .map(|i| cell(format!("c{i}"), Value::F64(Some(123_456.0 * i as f64))))
            .collect();
        for width in [80, 100, 200] {
            let text = render(std::slice::from_ref(&row), &many, Format::Table, width);
            let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            assert!(widest <= width, "{widest} > {width}:\n{text}");
            // Every value shown is whole: numbers never wrap.
            assert!(
                text.contains("1,235,000") || text.contains("not shown"),
                "{text}"
            );
        }
    }
}
