//! Guards of an output folder, knowing nothing of scenarios (it is given
//! text): the record of what the folder holds (`fingerprint.toml`, created
//! once and atomically, never clobbered by another), an advisory lock
//! (`sharesim.lock`, holding the process id of its holder; the OS releases
//! it when that process dies), and files written with a checksum sidecar
//! that is verified before a file is reused.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;

use crate::core::rng::fnv1a;

use super::{write_bytes_atomically, OutputError};

/// The folder record's file name.
pub const RECORD_FILE: &str = "fingerprint.toml";
/// The lock file's name.
pub const LOCK_FILE: &str = "sharesim.lock";

/// How a command holds the folder's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// Alone (`run`, `size`, an unsharded sweep).
    Exclusive,
    /// Beside other shards of the same sweep.
    Shared,
}

/// A claimed folder: the lock is held until this is dropped.
#[derive(Debug)]
pub struct FolderGuard {
    _lock: Option<File>,
    /// The record this claim replaced (when `adopt` allowed it), else `None`.
    pub replaced: Option<String>,
}

fn io(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> OutputError {
    let path = path.to_path_buf();
    move |source| OutputError::Io {
        path,
        action,
        source,
    }
}

/// A string field of TOML text, or `"?"`.
fn field(text: &str, key: &str) -> String {
    text.parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get(key).and_then(|v| v.as_str()).map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Claim `dir` for the results described by `record` (TOML text with a
/// `fingerprint` and a `scenario_file`): take the lock (`kind`), then create
/// the record if the folder has none, or compare fingerprints with the one
/// it has. A different one is refused unless `adopt`, which replaces it
/// (and returns the old record). A lock held by a live process is refused
/// naming it; on a filesystem without locks the record alone guards.
pub fn claim_folder(
    dir: &Path,
    record: &str,
    kind: LockKind,
    adopt: bool,
) -> Result<FolderGuard, OutputError> {
    let lock = lock(dir, kind)?;
    let path = dir.join(RECORD_FILE);
    let ours = field(record, "fingerprint");
    if create_exclusively(&path, record.as_bytes())? {
        return Ok(FolderGuard {
            _lock: lock,
            replaced: None,
        });
    }
    let existing =
        std::fs::read_to_string(&path).map_err(io(&path, "cannot read the folder's record"))?;
    let theirs = field(&existing, "fingerprint");
    if theirs == ours {
        return Ok(FolderGuard {
            _lock: lock,
            replaced: None,
        });
    }
    if !adopt {
        return Err(OutputError::OtherScenario {
            dir: dir.to_path_buf(),
            theirs,
            their_file: field(&existing, "scenario_file"),
            ours,
            our_file: field(record, "scenario_file"),
        });
    }
    write_bytes_atomically(&path, record.as_bytes())?;
    Ok(FolderGuard {
        _lock: lock,
        replaced: Some(existing),
    })
}

fn lock(dir: &Path, kind: LockKind) -> Result<Option<File>, OutputError> {
    let path = dir.join(LOCK_FILE);
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io(&path, "cannot open the folder's lock file"))?;
    let got = match kind {
        LockKind::Exclusive => f.try_lock(),
        LockKind::Shared => f.try_lock_shared(),
    };
    match got {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.trim();
            return Err(OutputError::Busy {
                dir: dir.to_path_buf(),
                holder: if holder.is_empty() { "?" } else { holder }.to_string(),
            });
        }
        // No locks on this filesystem (some network ones): the record and
        // the per-part checks still guard the results.
        Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
            return Ok(None)
        }
        Err(TryLockError::Error(e)) => {
            return Err(io(&path, "cannot lock the folder")(e));
        }
    }
    let pid = format!("{}\n", std::process::id());
    f.set_len(0)
        .and_then(|_| f.write_all(pid.as_bytes()))
        .map_err(io(&path, "cannot write the folder's lock file"))?;
    Ok(Some(f))
}

/// Create `path` with `bytes` unless it exists, never exposing a partial
/// file: a synced temporary sibling hard-linked into place (or, where hard
/// links are not supported, `create_new`). Returns whether it was created.
fn create_exclusively(path: &Path, bytes: &[u8]) -> Result<bool, OutputError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    let linked = written.and_then(|_| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(_) => match OpenOptions::new().write(true).create_new(true).open(path) {
            Ok(mut f) => {
                f.write_all(bytes)
                    .and_then(|_| f.sync_all())
                    .map_err(io(path, "cannot write the folder's record"))?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io(path, "cannot create the folder's record")(e)),
        },
    }
}

/// The checksum written in sidecars: 64-bit FNV-1a of the bytes.
pub fn checksum(bytes: &[u8]) -> String {
    format!("fnv1a64:{:016x}", fnv1a(bytes))
}

/// Write `bytes` to `path` atomically, then its sidecar (its size and
/// checksum, then `note`, TOML text) atomically at `sidecar`. A sidecar of
/// an earlier file is removed first, so that a file and a sidecar that are
/// both there always belong together; a crash (or a reader) in between
/// sees a file without a sidecar: [`Checked::Unchecked`].
pub fn write_checked(
    path: &Path,
    sidecar: &Path,
    bytes: &[u8],
    note: &str,
) -> Result<(), OutputError> {
    match std::fs::remove_file(sidecar) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(io(sidecar, "cannot remove the old check file")(e))
        }
        _ => {}
    }
    write_bytes_atomically(path, bytes)?;
    if let Some(folder) = sidecar.parent() {
        std::fs::create_dir_all(folder).map_err(io(folder, "cannot create the folder"))?;
    }
    let text = format!(
        "size = {}\nchecksum = \"{}\"\n{note}",
        bytes.len(),
        checksum(bytes)
    );
    write_bytes_atomically(sidecar, text.as_bytes())
}

/// What [`verify_checked`] found.
#[derive(Debug)]
pub enum Checked {
    /// No file.
    Missing,
    /// A file without a sidecar: still being written (the sidecar follows
    /// it), or its writer was killed in between. Not to be trusted.
    Unchecked,
    /// A file that does not match its sidecar (or has none): why.
    Damaged(String),
    /// A file matching its sidecar; the sidecar's table.
    Good(toml::Table),
}

/// Verify `path` against its `sidecar` (size, then checksum).
pub fn verify_checked(path: &Path, sidecar: &Path) -> Checked {
    let Ok(meta) = std::fs::metadata(path) else {
        return Checked::Missing;
    };
    let Ok(text) = std::fs::read_to_string(sidecar) else {
        return Checked::Unchecked;
    };
    let Ok(t) = text.parse::<toml::Table>() else {
        return Checked::Damaged(format!(
            "its check file {} does not read",
            sidecar.display()
        ));
    };
    let size = t.get("size").and_then(|v| v.as_integer()).unwrap_or(-1);
    if meta.len() as i64 != size {
        return Checked::Damaged(format!(
            "it has {} bytes, its check file says {size}",
            meta.len()
        ));
    }
    let Ok(bytes) = std::fs::read(path) else {
        return Checked::Damaged("it does not read".into());
    };
    if t.get("checksum").and_then(|v| v.as_str()) != Some(checksum(&bytes).as_str()) {
        return Checked::Damaged("its checksum does not match its check file".into());
    }
    Checked::Good(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_holds_one_fingerprint_and_one_writer() {
        let dir = tempfile::tempdir().unwrap();
        let a = "fingerprint = \"aaaa\"\nscenario_file = \"a.toml\"\n";
        let b = "fingerprint = \"bbbb\"\nscenario_file = \"b.toml\"\n";
        let g = claim_folder(dir.path(), a, LockKind::Exclusive, false).unwrap();
        assert!(g.replaced.is_none());
        drop(g);
        let again = claim_folder(dir.path(), a, LockKind::Shared, false).unwrap();
        let other = claim_folder(dir.path(), b, LockKind::Shared, false).unwrap_err();
        assert!(other.to_string().contains("aaaa") && other.to_string().contains("bbbb"));
        drop(again);
        let g = claim_folder(dir.path(), b, LockKind::Exclusive, true).unwrap();
        assert_eq!(g.replaced.as_deref(), Some(a));
        assert!(matches!(
            claim_folder(dir.path(), b, LockKind::Exclusive, false),
            Err(OutputError::Busy { .. })
        ));
    }

    #[test]
    fn damaged_files_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let (p, s) = (dir.path().join("x.bin"), dir.path().join("c/x.toml"));
        assert!(matches!(verify_checked(&p, &s), Checked::Missing));
        std::fs::write(&p, b"hello").unwrap();
        assert!(matches!(verify_checked(&p, &s), Checked::Unchecked));
        write_checked(&p, &s, b"hello", "note = 1\n").unwrap();
        assert!(
            matches!(verify_checked(&p, &s), Checked::Good(t) if t["note"].as_integer() == Some(1))
        );
        std::fs::write(&p, b"hell").unwrap();
        assert!(matches!(verify_checked(&p, &s), Checked::Damaged(_)));
        std::fs::write(&p, b"jello").unwrap();
        assert!(matches!(verify_checked(&p, &s), Checked::Damaged(_)));
    }
}
