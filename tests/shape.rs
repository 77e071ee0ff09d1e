//! The shape of the library, checked: every module under `sim/` belongs to a
//! layer, uses only layers below its own (so no module cycle can form), and
//! stays readable (no file over 1,000 lines, no function over 150).
//!
//! The layers, bottom up, are those of the library's top doc (`sim/lib.rs`):
//! a module of rank r may use modules of rank < r and its own module's
//! insides; two modules of the same rank may not use each other.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top-level module -> rank. The binary (`main.rs`, `cli/`) sits on top.
const LAYERS: &[(&str, u32)] = &[
    ("core", 0),
    ("llm", 1),
    ("workload", 1),
    ("metrics", 1),
    ("engine", 2),
    ("scenario", 3),
    ("calibration", 3),
    ("results", 4),
    ("output", 5),
    ("slo", 6),
    ("run", 7),
    ("selfcheck", 8),
    ("sizing", 8),
    ("sweep", 9),
    ("charts", 10),
    ("cli", 11),
    ("main", 11),
];

const MAX_FILE_LINES: usize = 1_000;
const MAX_FN_LINES: usize = 150;

fn sim_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sim")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("sim/ is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `sim/` belongs to (`lib` for lib.rs).
fn top_module(file: &Path) -> String {
    let rel = file.strip_prefix(sim_dir()).expect("under sim/");
    let first = rel.components().next().expect("non-empty path");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

/// The code of a line, without a `//` comment (doc comments included).
/// Good enough for this code base: no `//` inside string literals on lines
/// that also name a module path.
fn code_of(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

/// Top-level modules a file names through `crate::` (or `sharesim::` in
/// the binary), grouped imports `crate::{a, b::c}` included.
fn used_modules(text: &str, root: &str) -> Vec<(usize, String)> {
    let mut used = Vec::new();
    let prefix = format!("{root}::");
    for (n, line) in text.lines().enumerate() {
        let code = code_of(line);
        let mut rest = code;
        while let Some(i) = rest.find(&prefix) {
            // Not part of a longer identifier (e.g. `my_crate::`).
            let before = rest[..i].chars().last();
            rest = &rest[i + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        used.push((n + 1, name));
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    used.push((n + 1, name));
                }
            }
        }
    }
    used
}

#[test]
fn every_module_uses_only_layers_below_its_own() {
    let ranks: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let mut files = Vec::new();
    rust_files(&sim_dir(), &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let module = top_module(file);
        if module == "lib" {
            continue;
        }
        let Some(&rank) = ranks.get(module.as_str()) else {
            problems.push(format!(
                "{}: module `{module}` has no layer; add it to LAYERS in tests/shape.rs and to the list in sim/lib.rs",
                file.display()
            ));
            continue;
        };
        if module == "main" || module == "cli" {
            // The binary is on top: it may use every layer.
            continue;
        }
        let text = std::fs::read_to_string(file).expect("readable source");
        for (line, used) in used_modules(&text, "crate") {
            if used == module {
                continue;
            }
            match ranks.get(used.as_str()) {
                Some(&r) if r < rank => {}
                Some(&r) => problems.push(format!(
                    "{}:{line}: `{module}` (layer {rank}) uses `{used}` (layer {r}): a module may only use layers below its own",
                    file.display()
                )),
                // A crate-root item (e.g. a re-export) or the crate itself.
                None => {}
            }
        }
    }
    assert!(
        problems.is_empty(),
        "layer violations:\n{}",
        problems.join("\n")
    );
}

/// Lines of each `fn` body: from the line of its signature to the line of
/// its closing brace at the same indentation.
fn long_functions(text: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut long = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let signature = ["fn ", "pub fn ", "pub(crate) fn ", "pub(super) fn "]
            .iter()
            .find_map(|p| trimmed.strip_prefix(p));
        let Some(rest) = signature else { continue };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = " ".repeat(indent) + "}";
        if let Some(len) = lines[i + 1..].iter().position(|l| l.trim_end() == close) {
            if len + 1 > MAX_FN_LINES {
                long.push((i + 1, name, len + 2));
            }
        }
    }
    long
}

#[test]
fn files_and_functions_stay_short() {
    let mut files = Vec::new();
    rust_files(&sim_dir(), &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        let n = text.lines().count();
        if n > MAX_FILE_LINES {
            problems.push(format!(
                "{}: {n} lines (at most {MAX_FILE_LINES}: split it into a folder behind a facade)",
                file.display()
            ));
        }
        for (line, name, len) in long_functions(&text) {
            problems.push(format!(
                "{}:{line}: fn {name} is {len} lines (at most {MAX_FN_LINES}: split it into named steps)",
                file.display()
            ));
        }
    }
    assert!(problems.is_empty(), "too long:\n{}", problems.join("\n"));
}

#[test]
fn every_module_file_says_what_it_owns() {
    let mut files = Vec::new();
    rust_files(&sim_dir(), &mut files);
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).expect("readable source");
            !text.trim_start().starts_with("//!")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a //! module doc: {missing:?}"
    );
}

#[test]
fn the_checker_sees_grouped_and_nested_uses() {
    let text =
        "use crate::{core::rng, engine};\nlet x = crate::run::f(); // crate::sweep\nmy_crate::x";
    let used: Vec<String> = used_modules(text, "crate")
        .into_iter()
        .map(|u| u.1)
        .collect();
    assert_eq!(used, ["core", "engine", "run"]);
    let f = format!("fn f() {{\n{}}}\n", "    x;\n".repeat(MAX_FN_LINES));
    assert_eq!(long_functions(&f).len(), 1);
}
