//! The CSV reader: a small RFC 4180 record reader over bytes ([`Csv`]) and
//! loading a CSV trace's mapped columns into the [`Builder`].

use std::borrow::Cow;
use std::path::Path;

use super::build::{columns_phrase, parse_block_list, Builder, Cell, RowCells};
use super::error::{TraceError, UNCLOSED_QUOTE};
use super::format::{clean_name, column_indices};
use super::ColumnMapping;

/// The bytes of a CSV trace, refused when they are not CSV text (see
/// [`not_text`]).
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>, TraceError> {
    let data = std::fs::read(path).map_err(|source| TraceError::Read {
        file: path.to_path_buf(),
        source,
    })?;
    match not_text(&data) {
        Some(what) => Err(TraceError::NotText {
            file: path.to_path_buf(),
            what,
        }),
        None => Ok(data),
    }
}

/// What binary content looks like, when `data` is not CSV text: a known
/// file signature (Parquet, PNG, JPEG, gzip, zip, PDF), a NUL byte
/// anywhere (no text file has one; UTF-16 text has many), or a first line
/// that is not UTF-8. A bad byte in a later cell is left to the cell's own
/// error, which names its line and column.
pub(crate) fn not_text(data: &[u8]) -> Option<String> {
    const SIGNATURES: [(&[u8], &str); 7] = [
        (
            b"PAR1",
            "it is a Parquet file: give it the `.parquet` extension",
        ),
        (b"\x89PNG", "it is a PNG image"),
        (b"\xff\xd8\xff", "it is a JPEG image"),
        (b"\x1f\x8b", "it is gzip-compressed: decompress it first"),
        (b"PK\x03\x04", "it is a zip archive: extract the CSV first"),
        (b"%PDF", "it is a PDF document"),
        (b"\xff\xfe", "it is UTF-16 text: save it as UTF-8"),
    ];
    if let Some((_, what)) = SIGNATURES.iter().find(|(sig, _)| data.starts_with(sig)) {
        return Some((*what).to_string());
    }
    if let Some(at) = data.iter().position(|&b| b == 0) {
        return Some(format!("it holds NUL bytes (the first at byte {at}), so it is binary or UTF-16, not UTF-8 text"));
    }
    let first_line = data.split(|&b| b == b'\n').next().unwrap_or(data);
    if let Err(e) = std::str::from_utf8(first_line) {
        return Some(format!(
            "its first line is not UTF-8 text (byte {}): a binary file, or text in another encoding (save it as UTF-8)",
            e.valid_up_to()
        ));
    }
    None
}

pub(crate) fn header_names(fields: &[Cow<[u8]>]) -> Vec<String> {
    fields
        .iter()
        .map(|f| clean_name(&String::from_utf8_lossy(f)).to_string())
        .collect()
}

/// A small RFC 4180 reader over bytes: `,` separates fields, `"` quotes a
/// field (a doubled `""` is a quote inside it; commas and line breaks inside
/// are kept), lines end with `\n`, `\r\n` or `\r`. Lines holding only spaces
/// are skipped.
pub(crate) struct Csv<'a> {
    data: &'a [u8],
    pos: usize,
    line: usize,
}

pub(crate) type Record<'a> = (usize, Vec<Cow<'a, [u8]>>);

impl<'a> Csv<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Csv {
            data,
            pos: 0,
            line: 1,
        }
    }

    /// The next non-blank record and the line it starts on, or the line
    /// and field index of a quote that is never closed.
    pub(crate) fn next_record(&mut self) -> Option<Result<Record<'a>, (usize, usize)>> {
        loop {
            if self.pos >= self.data.len() {
                return None;
            }
            let start_line = self.line;
            let mut fields: Vec<Cow<'a, [u8]>> = Vec::new();
            let mut blank = true;
            loop {
                let field_line = self.line;
                let Some((field, quoted)) = self.field() else {
                    return Some(Err((field_line, fields.len())));
                };
                if quoted || !field.iter().all(u8::is_ascii_whitespace) {
                    blank = false;
                }
                fields.push(field);
                match self.data.get(self.pos) {
                    Some(b',') => {
                        self.pos += 1;
                        blank = false;
                    }
                    Some(b'\r') => {
                        self.pos += 1;
                        if self.data.get(self.pos) == Some(&b'\n') {
                            self.pos += 1;
                        }
                        self.line += 1;
                        break;
                    }
                    Some(b'\n') => {
                        self.pos += 1;
                        self.line += 1;
                        break;
                    }
                    _ => break,
                }
            }
            if !blank {
                return Some(Ok((start_line, fields)));
            }
        }
    }

    /// One field; stops before `,`, a line end or the end of the data.
    /// `None` for an unclosed quote.
    fn field(&mut self) -> Option<(Cow<'a, [u8]>, bool)> {
        let d = self.data;
        let start = self.pos;
        let mut p = start;
        while p < d.len() && (d[p] == b' ' || d[p] == b'\t') {
            p += 1;
        }
        let is_end = |c: u8| c == b',' || c == b'\n' || c == b'\r';
        if d.get(p) == Some(&b'"') {
            p += 1;
            let mut out = Vec::new();
            loop {
                match d.get(p) {
                    None => return None,
                    Some(b'"') => {
                        if d.get(p + 1) == Some(&b'"') {
                            out.push(b'"');
                            p += 2;
                        } else {
                            p += 1;
                            break;
                        }
                    }
                    Some(&c) => {
                        if c == b'\n' || (c == b'\r' && d.get(p + 1) != Some(&b'\n')) {
                            self.line += 1;
                        }
                        out.push(c);
                        p += 1;
                    }
                }
            }
            // Text between the closing quote and the next separator is kept.
            while let Some(&c) = d.get(p) {
                if is_end(c) {
                    break;
                }
                out.push(c);
                p += 1;
            }
            self.pos = p;
            Some((Cow::Owned(out), true))
        } else {
            while let Some(&c) = d.get(p) {
                if is_end(c) {
                    break;
                }
                p += 1;
            }
            self.pos = p;
            Some((Cow::Borrowed(&d[start..p]), false))
        }
    }
}

pub(crate) fn load_csv(path: &Path, m: &ColumnMapping, b: &mut Builder) -> Result<(), TraceError> {
    let data = read_bytes(path)?;
    let mut csv = Csv::new(&data);
    let unclosed = |line: usize, column: String| TraceError::InvalidValue {
        file: path.to_path_buf(),
        line,
        column,
        message: UNCLOSED_QUOTE.into(),
    };
    let header = match csv.next_record() {
        None => {
            return Err(TraceError::Empty {
                file: path.to_path_buf(),
                line: 1,
                columns: columns_phrase(m),
            })
        }
        Some(Err((line, _))) => return Err(unclosed(line, "(header)".into())),
        Some(Ok((_, fields))) => header_names(&fields),
    };
    let ix = column_indices(path, m, &header)?;
    while let Some(rec) = csv.next_record() {
        let (line, fields) = match rec {
            Ok(r) => r,
            Err((line, idx)) => {
                let column = header
                    .get(idx)
                    .cloned()
                    .unwrap_or_else(|| format!("field {}", idx + 1));
                return Err(unclosed(line, column));
            }
        };
        if fields.len() != header.len() {
            let column = match header.get(fields.len()) {
                Some(c) => c.clone(),
                None => format!(
                    "field {} (after the last header column `{}`)",
                    header.len() + 1,
                    header.last().map_or("", String::as_str)
                ),
            };
            return Err(TraceError::Ragged {
                file: path.to_path_buf(),
                line,
                column,
                found: fields.len(),
                expected: header.len(),
            });
        }
        let blocks =
            match ix.blocks {
                Some(bi) => Some(parse_block_list(&fields[bi]).map_err(|message| {
                    TraceError::InvalidValue {
                        file: path.to_path_buf(),
                        line,
                        column: header[bi].clone(),
                        message,
                    }
                })?),
                None => None,
            };
        let mut fields: Vec<Option<Cow<[u8]>>> = fields.into_iter().map(Some).collect();
        let mut take = |i: usize| Cell::Text(fields[i].take().unwrap_or(Cow::Borrowed(&[])));
        let row = RowCells {
            time: take(ix.time),
            input: take(ix.input),
            output: take(ix.output),
            user: ix.user.map(&mut take),
            session: ix.session.map(&mut take),
            blocks,
        };
        b.push(line, row)?;
    }
    Ok(())
}
