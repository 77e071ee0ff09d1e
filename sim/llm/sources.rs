//! Where catalogue figures come from: the `# source:` comment above each
//! `[devices.<name>]` or `[models.<name>]` table of the catalogue files, and
//! the keys whose lines are marked `[E]` (an estimate). TOML parsers drop
//! comments, so they are read from the text here (`sharesim catalog`
//! prints them beside the figures).

use std::collections::BTreeMap;

/// The provenance of one catalogue entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntrySource {
    /// The `# source:` comment above the entry's table, its lines joined
    /// (empty when it has none).
    pub source: String,
    /// Keys of the entry whose line carries an `[E]` (estimate) mark, in
    /// file order.
    pub estimates: Vec<String>,
}

/// The sources of every `[<section>.<name>]` table of catalogue `text`
/// (e.g. section `devices`), by name. A source is the comment block that
/// ends just above the table header, from its line starting with
/// `source:` to its end; a table without one has an empty source.
/// Sub-tables (`[models.x.weights_gb]`) add their `[E]` keys to the entry.
pub fn entry_sources(text: &str, section: &str) -> BTreeMap<String, EntrySource> {
    let mut out: BTreeMap<String, EntrySource> = BTreeMap::new();
    let mut comments: Vec<&str> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(c) = t.strip_prefix('#') {
            comments.push(c.trim());
            continue;
        }
        if let Some(header) = t.strip_prefix('[').and_then(|h| h.split(']').next()) {
            let parts = split_key(header);
            current = match parts.as_slice() {
                [s, name] if s == section => {
                    let source = source_of(&comments);
                    out.entry(name.clone()).or_default().source = source;
                    Some(name.clone())
                }
                [s, name, ..] if s == section => Some(name.clone()),
                _ => None,
            };
        } else if let (Some(name), Some((key, rest))) = (&current, t.split_once('=')) {
            if rest.contains("[E]") {
                let key = key.trim().trim_matches('"').to_string();
                out.entry(name.clone()).or_default().estimates.push(key);
            }
        }
        comments.clear();
    }
    out
}

/// The comment block's `source:` line and the lines after it, joined.
fn source_of(comments: &[&str]) -> String {
    let Some(start) = comments.iter().position(|c| c.starts_with("source:")) else {
        return String::new();
    };
    let mut words: Vec<&str> = Vec::new();
    for (i, c) in comments[start..].iter().enumerate() {
        let c = if i == 0 {
            c.trim_start_matches("source:")
        } else {
            c
        };
        words.extend(c.split_whitespace());
    }
    words.join(" ")
}

/// A dotted TOML key split into its parts, quoted parts unquoted
/// (`profiles.dgx_spark."llama.cpp"` -> `profiles`, `dgx_spark`, `llama.cpp`).
fn split_key(key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut quoted = false;
    for c in key.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut part).trim().to_string()),
            _ => part.push(c),
        }
    }
    parts.push(part.trim().to_string());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_the_comment_above_each_table() {
        let text = r#"
# file header, not a source
[devices.a]
x = 1

# source: first line
# second line
[devices."b.c"]
x = 1        # [E] guessed
y = 2

# source: a model
[models.m]
[models.m.weights_gb]
q4 = 1.0     # [E]
"#;
        let d = entry_sources(text, "devices");
        assert_eq!(d["a"].source, "");
        assert_eq!(d["b.c"].source, "first line second line");
        assert_eq!(d["b.c"].estimates, vec!["x".to_string()]);
        let m = entry_sources(text, "models");
        assert_eq!(m["m"].source, "a model");
        assert_eq!(m["m"].estimates, vec!["q4".to_string()]);
    }

    #[test]
    fn every_shipped_device_and_model_has_a_source() {
        let d = entry_sources(super::super::catalog::BUILTIN_DEVICES_TOML, "devices");
        let m = entry_sources(super::super::catalog::BUILTIN_MODELS_TOML, "models");
        let catalog = super::super::Catalog::builtin().unwrap();
        for dev in catalog.devices() {
            assert!(!d[&dev.name].source.is_empty(), "{}", dev.name);
        }
        for model in catalog.models() {
            assert!(!m[&model.name].source.is_empty(), "{}", model.name);
        }
    }
}
