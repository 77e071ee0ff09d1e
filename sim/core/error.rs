//! Error plumbing shared by every file format sharesim reads: TOML
//! deserialisation that reports the key path and line of a mistake, so the
//! scenario, the sweep grid and the catalogue describe errors the same way.
//! The error types themselves live with what they describe
//! ([`crate::scenario::ScenarioError`], [`crate::output::OutputError`]).

/// The most characters of a line an error message quotes.
const MAX_QUOTED_CHARS: usize = 120;

/// Deserialize TOML text into `T`. On failure, returns the key path of the
/// problem (e.g. `placements[1].servers`; `.` for the whole file) and a
/// message ending with the line number and that line's text, so that every
/// file format reports mistakes the same way.
pub fn deserialize_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, (String, String)> {
    let describe = |e: toml::de::Error| {
        let mut message = e.message().to_string();
        if let Some(span) = e.span() {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let text_of_line = text.lines().nth(line - 1).unwrap_or("").trim();
            // Quoted escaped ({:?}) and shortened: a line of a file that is
            // not what it should be writes no raw bytes to the terminal.
            let mut shown: String = text_of_line.chars().take(MAX_QUOTED_CHARS).collect();
            if shown.len() < text_of_line.len() {
                shown.push_str("...");
            }
            message = format!("{message} (line {line}: {shown:?})");
        }
        message
    };
    let de = toml::Deserializer::parse(text).map_err(|e| (".".to_string(), describe(e)))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        (key, describe(e.into_inner()))
    })
}
