//! Build script: embeds the commit the binary is built from, so that
//! `sharesim --version` prints `0.1.0 (commit abc1234)`.
//!
//! The commit is `git describe --always --dirty` of the repository this
//! package is the root of; `unknown` when the source has no `.git` (a
//! tarball: git is then not asked, so a tarball unpacked inside another
//! repository does not take that repository's commit), when git is not
//! installed or when it fails. `SHARESIM_COMMIT` set at build time (e.g. by
//! a packager building from a tarball) is used instead.
//!
//! The script reruns only when the commit can have changed: when `HEAD`
//! moves (a checkout), when the branch it points to moves (a commit) or
//! when refs are packed, and when `SHARESIM_COMMIT` changes; not on every
//! build. So `-dirty` tells the state of the work tree when the script last
//! ran (the last commit or checkout), not at every later edit.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SHARESIM_COMMIT");
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let commit = match std::env::var("SHARESIM_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => from_git(&root).unwrap_or_else(|| "unknown".to_string()),
    };
    println!("cargo:rustc-env=SHARESIM_COMMIT={commit}");
}

/// `git describe --always --dirty` of `root`, watching the files that move
/// with the commit; None without `.git` or a working git.
fn from_git(root: &Path) -> Option<String> {
    let dot_git = root.join(".git");
    let git_dir = git_dir(&dot_git)?;
    watch(&git_dir);
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// The git directory: `.git` itself, or the one a `.git` file names
/// (`gitdir: ...`, a worktree or a submodule). None when there is neither.
fn git_dir(dot_git: &Path) -> Option<PathBuf> {
    if dot_git.is_dir() {
        return Some(dot_git.to_path_buf());
    }
    let text = std::fs::read_to_string(dot_git).ok()?;
    let named = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
    let dir = dot_git.parent()?.join(named);
    dir.is_dir().then_some(dir)
}

/// Rerun when HEAD, the branch it names, or the packed refs change. A
/// worktree keeps its HEAD in its own git directory and the refs in the
/// common one (`commondir`).
fn watch(git_dir: &Path) {
    let head = git_dir.join("HEAD");
    println!("cargo:rerun-if-changed={}", head.display());
    let common = std::fs::read_to_string(git_dir.join("commondir"))
        .map(|c| git_dir.join(c.trim()))
        .unwrap_or_else(|_| git_dir.to_path_buf());
    let packed = common.join("packed-refs");
    if packed.exists() {
        println!("cargo:rerun-if-changed={}", packed.display());
    }
    let Ok(text) = std::fs::read_to_string(&head) else {
        return;
    };
    if let Some(reference) = text.trim().strip_prefix("ref:") {
        let reference = reference.trim();
        for dir in [git_dir, common.as_path()] {
            let file = dir.join(reference);
            if file.exists() {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
    }
}
