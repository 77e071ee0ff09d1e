//! Fingerprints of what determines a result: one stable hash (64-bit FNV-1a)
//! per component, namely each top-level key of the scenario table (its
//! canonical TOML, keys sorted), the contents of each file the scenario
//! names (a key `file` or `*_file`: traces, empirical values, catalogues;
//! the compiled-in catalogue when `[catalog]` names none), the crate version
//! and, for a sweep point, what it runs. Comparing two fingerprints names the
//! components that changed; comparing two scenario tables names the key
//! paths (`placements[1].servers`).
//!
//! Also the folder record (`fingerprint.toml`): the scenario identity of an
//! output folder, as the text that [`crate::output::claim_folder`] writes.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::core::rng::fnv1a;
use crate::llm::catalog::{BUILTIN_DEVICES_TOML, BUILTIN_MODELS_TOML};

/// The component that holds the crate version.
const VERSION: &str = "sharesim version";
/// The prefix of a file's component: `file trace.file`.
const FILE: &str = "file ";

/// A fingerprint: a hash per component (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint {
    /// Component name -> hash.
    pub components: BTreeMap<String, u64>,
}

/// File contents hashed once per path (a sweep's points share their files).
#[derive(Debug, Default)]
pub struct FileHashes(Mutex<HashMap<PathBuf, u64>>);

impl FileHashes {
    fn hash(&self, path: &Path) -> u64 {
        if let Some(h) = self.0.lock().expect("not poisoned").get(path) {
            return *h;
        }
        // Unreadable now: the scenario was validated, so it was readable;
        // a file that vanished since hashes as empty-and-missing.
        let h = std::fs::read(path)
            .map(|b| fnv1a(&b))
            .unwrap_or(0x006d_6973_7369_6e67);
        self.0
            .lock()
            .expect("not poisoned")
            .insert(path.to_path_buf(), h);
        h
    }
}

/// The canonical TOML of one top-level key, `key = value` (or its table).
fn canonical(key: &str, value: &toml::Value) -> String {
    let mut t = toml::Table::new();
    t.insert(key.to_string(), value.clone());
    toml::to_string(&t).unwrap_or_else(|_| format!("{key} = {value}"))
}

/// Every string at a key `file` or `*_file`, with its key path.
fn file_keys(value: &toml::Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if let (true, toml::Value::String(s)) = (k == "file" || k.ends_with("_file"), v) {
                    out.push((p, s.clone()));
                } else {
                    file_keys(v, &p, out);
                }
            }
        }
        toml::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                file_keys(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

impl Fingerprint {
    /// The fingerprint of a scenario table (without `[sweep]`) whose file
    /// references are relative to `base_dir`, with the crate version.
    pub fn of_table(table: &toml::Table, base_dir: &Path, files: &FileHashes) -> Fingerprint {
        let mut components = BTreeMap::new();
        for (k, v) in table {
            if k != "sweep" && k != "uncertainty" {
                components.insert(k.clone(), fnv1a(canonical(k, v).as_bytes()));
            }
        }
        let mut named = Vec::new();
        file_keys(&toml::Value::Table(table.clone()), "", &mut named);
        for (key, file) in named {
            components.insert(format!("{FILE}{key}"), files.hash(&base_dir.join(file)));
        }
        let catalog = table.get("catalog").and_then(|c| c.as_table());
        for (key, builtin) in [
            ("devices_file", BUILTIN_DEVICES_TOML),
            ("models_file", BUILTIN_MODELS_TOML),
        ] {
            if !catalog.is_some_and(|c| c.contains_key(key)) {
                components.insert(
                    format!("{FILE}catalog.{key} (shipped)"),
                    fnv1a(builtin.as_bytes()),
                );
            }
        }
        components.insert(
            VERSION.to_string(),
            fnv1a(env!("CARGO_PKG_VERSION").as_bytes()),
        );
        Fingerprint { components }
    }

    /// Add a component, e.g. what a sweep point runs.
    pub fn with(mut self, name: &str, value: &str) -> Fingerprint {
        self.components
            .insert(name.to_string(), fnv1a(value.as_bytes()));
        self
    }

    fn hash_where(&self, keep: impl Fn(&str) -> bool) -> u64 {
        let text: String = self
            .components
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| format!("{k}={v:016x}\n"))
            .collect();
        fnv1a(text.as_bytes())
    }

    /// The hash of every component, as 16 hex digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.hash_where(|_| true))
    }

    /// The hash of the scenario alone (not the crate version): the identity
    /// of an output folder, kept by a rebuild or an upgrade.
    pub fn scenario_hex(&self) -> String {
        format!("{:016x}", self.hash_where(|k| k != VERSION))
    }

    /// The components as a TOML table of hex strings.
    pub fn to_table(&self) -> toml::Table {
        self.components
            .iter()
            .map(|(k, v)| (k.clone(), toml::Value::String(format!("{v:016x}"))))
            .collect()
    }

    /// Read [`Fingerprint::to_table`] back; `None` if malformed.
    pub fn from_table(t: &toml::Table) -> Option<Fingerprint> {
        let components = t
            .iter()
            .map(|(k, v)| {
                let h = u64::from_str_radix(v.as_str()?, 16).ok()?;
                Some((k.clone(), h))
            })
            .collect::<Option<BTreeMap<String, u64>>>()?;
        Some(Fingerprint { components })
    }

    /// The components that differ from `old` (present in one only, or with
    /// another hash), in order.
    pub fn changed_since(&self, old: &Fingerprint) -> Vec<String> {
        let mut names: Vec<&String> = self.components.keys().collect();
        names.extend(old.components.keys());
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|k| self.components.get(*k) != old.components.get(*k))
            .cloned()
            .collect()
    }
}

/// The changed components as the user reads them: a top-level key refined
/// into the key paths that differ between `old` and `new` (when the old
/// table is known), a file as "the contents of <key>", the version as such.
pub fn describe_changes(
    changed: &[String],
    old: Option<&toml::Table>,
    new: &toml::Table,
) -> Vec<String> {
    let mut out = Vec::new();
    for c in changed {
        if c == VERSION {
            out.push(format!(
                "the sharesim version (now {})",
                env!("CARGO_PKG_VERSION")
            ));
        } else if let Some(key) = c.strip_prefix(FILE) {
            out.push(format!("the contents of the file of {key}"));
        } else if let Some(old) = old {
            let before = old.get(c).cloned();
            let after = new.get(c).cloned();
            let mut paths = Vec::new();
            diff_paths(before.as_ref(), after.as_ref(), c, &mut paths);
            if paths.is_empty() {
                out.push(c.clone());
            }
            out.extend(paths);
        } else {
            out.push(c.clone());
        }
    }
    out.dedup();
    out
}

/// The leaf key paths under `path` where `a` and `b` differ.
fn diff_paths(a: Option<&toml::Value>, b: Option<&toml::Value>, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Some(toml::Value::Table(x)), Some(toml::Value::Table(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                diff_paths(x.get(k), y.get(k), &format!("{path}.{k}"), out);
            }
        }
        (Some(toml::Value::Array(x)), Some(toml::Value::Array(y))) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                diff_paths(Some(u), Some(v), &format!("{path}[{i}]"), out);
            }
        }
        (a, b) if a == b => {}
        _ => out.push(path.to_string()),
    }
}

/// The scenario table of a file's text, without `[sweep]` and
/// `[uncertainty]` (designs of points, not inputs of one): what a folder's
/// identity is computed from.
pub fn scenario_table(text: &str) -> Option<toml::Table> {
    let mut t: toml::Table = text.parse().ok()?;
    t.remove("sweep");
    t.remove("uncertainty");
    Some(t)
}

/// The text of a folder record: the scenario identity (without the crate
/// version), its file, the version, the components and the scenario table
/// itself (so that a later scenario can name the keys it changed).
pub fn folder_record(fp: &Fingerprint, scenario_file: &Path, table: &toml::Table) -> String {
    let mut t = toml::Table::new();
    t.insert("fingerprint".into(), fp.scenario_hex().into());
    t.insert(
        "scenario_file".into(),
        scenario_file.display().to_string().into(),
    );
    t.insert(
        "sharesim_version".into(),
        env!("CARGO_PKG_VERSION").to_string().into(),
    );
    t.insert("components".into(), toml::Value::Table(fp.to_table()));
    t.insert("scenario".into(), toml::Value::Table(table.clone()));
    let body = toml::to_string(&t).unwrap_or_default();
    format!("# The scenario whose results this folder holds (written by sharesim when the folder was first used).\n# sharesim refuses to write the results of another scenario here.\n{body}")
}

/// The scenario table and components of a folder record's text.
pub fn read_folder_record(text: &str) -> Option<(toml::Table, Fingerprint)> {
    let t: toml::Table = text.parse().ok()?;
    let scenario = t.get("scenario")?.as_table()?.clone();
    let fp = Fingerprint::from_table(t.get("components")?.as_table()?)?;
    Some((scenario, fp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> toml::Table {
        s.parse().unwrap()
    }

    #[test]
    fn changes_are_named_by_key_path() {
        let files = FileHashes::default();
        let dir = Path::new(".");
        let a = table("name = \"x\"\n[[placements]]\nname = \"a\"\nservers = 2\n[[placements]]\nname = \"b\"\nservers = 200\n");
        let b = table("name = \"x\"\n[[placements]]\nname = \"a\"\nservers = 2\n[[placements]]\nname = \"b\"\nservers = 20\n");
        let (fa, fb) = (
            Fingerprint::of_table(&a, dir, &files),
            Fingerprint::of_table(&b, dir, &files),
        );
        assert_ne!(fa.hex(), fb.hex());
        assert_eq!(fa, Fingerprint::of_table(&a.clone(), dir, &files));
        let changed = fb.changed_since(&fa);
        assert_eq!(changed, vec!["placements".to_string()]);
        assert_eq!(
            describe_changes(&changed, Some(&a), &b),
            vec!["placements[1].servers".to_string()]
        );
        assert_eq!(describe_changes(&changed, None, &b), changed);
        let back = Fingerprint::from_table(&fa.to_table()).unwrap();
        assert_eq!(back, fa);
        let rec = folder_record(&fa, Path::new("x.toml"), &a);
        let (t, f) = read_folder_record(&rec).unwrap();
        assert_eq!((t, f), (a, fa));
    }
}
