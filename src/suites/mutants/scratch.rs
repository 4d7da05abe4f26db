//! The scratch copy the mutants are built in: the workspace's files (as git lists them when it
//! is a repository: tracked and untracked, not ignored; else every file but `.git` and the
//! target directory), never the user's tree. Removed when dropped, which a run reaches
//! however it ends (success, failure, Ctrl-C). Its target directory is kept beside it, so the
//! dependencies are built once across runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// A copy of the workspace, removed on drop.
pub struct Scratch {
    /// The copy's root (the workspace root's counterpart).
    pub root: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl Scratch {
    /// Copies `files` (relative to `ws_root`) to `dest`, after removing what a run that was
    /// killed outright left there.
    pub fn create(ws_root: &Path, files: &[String], dest: &Path) -> Result<Scratch, String> {
        if dest.exists() {
            std::fs::remove_dir_all(dest)
                .map_err(|e| format!("cannot remove the old copy {}: {e}", dest.display()))?;
        }
        let scratch = Scratch {
            root: dest.to_path_buf(),
        };
        for rel in files {
            let from = ws_root.join(rel);
            let to = dest.join(rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            // A tracked file deleted in the working tree is simply not there.
            if from.is_file() {
                std::fs::copy(&from, &to).map_err(|e| {
                    format!("cannot copy {} to {}: {e}", from.display(), to.display())
                })?;
            }
        }
        Ok(scratch)
    }

    /// Writes `text` as the copy's `rel`.
    pub fn write(&self, rel: &str, text: &str) -> Result<(), String> {
        let path = self.root.join(rel);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// Held while a run uses `dir` (its copy and its target directory): a second run on the same
/// target directory would remove the first one's copy under it.
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

/// Takes the lock of `dir`, or says who holds it.
pub fn lock(dir: &Path) -> Result<Lock, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "another cargo-gate run is trying mutants in {}: wait for it to end, or give this \
             run its own CARGO_TARGET_DIR",
            dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// The workspace's files, relative to its root: git's list when it is a repository, else a
/// walk that leaves out `.git` and `target_dir`.
pub fn files(ws_root: &Path, target_dir: &Path) -> Result<Vec<String>, String> {
    let listed = crate::exec::git::run(
        ws_root,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
        Duration::from_secs(60),
    );
    if let Ok(out) = listed {
        let text = String::from_utf8_lossy(&out.stdout);
        let target = target_dir.strip_prefix(ws_root).ok();
        let mut files: Vec<String> = text
            .split('\0')
            .filter(|f| !f.is_empty())
            .filter(|f| target.is_none_or(|t| !Path::new(f).starts_with(t)))
            .map(str::to_string)
            .collect();
        files.sort();
        files.dedup();
        return Ok(files);
    }
    let mut out = Vec::new();
    walk(ws_root, ws_root, target_dir, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, target_dir: &Path, out: &mut Vec<String>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == ".git" || path == target_dir || (dir == root && name == "target") {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(root, &path, target_dir, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// A fingerprint of the files' contents: the same before and after a run, or the run touched
/// the user's tree.
pub fn fingerprint(ws_root: &Path, files: &[String]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.hash(&mut h);
        std::fs::read(ws_root.join(f)).ok().hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_holds_the_files_and_goes_away() {
        let base = std::env::temp_dir().join(format!("cg-scratch-{}", std::process::id()));
        let ws = base.join("ws");
        std::fs::create_dir_all(ws.join("src")).unwrap();
        std::fs::create_dir_all(ws.join("target/debug")).unwrap();
        std::fs::write(ws.join("Cargo.toml"), "[package]\n").unwrap();
        std::fs::write(ws.join("src/lib.rs"), "fn f() {}\n").unwrap();
        std::fs::write(ws.join("target/debug/big"), "x").unwrap();
        let listed = files(&ws, &ws.join("target")).unwrap();
        assert_eq!(listed, ["Cargo.toml", "src/lib.rs"]);
        let before = fingerprint(&ws, &listed);
        let dest = base.join("copy");
        {
            let held = lock(&base).unwrap();
            assert!(lock(&base).unwrap_err().contains("another cargo-gate run"));
            drop(held);
            assert!(lock(&base).is_ok());
            let s = Scratch::create(&ws, &listed, &dest).unwrap();
            s.write("src/lib.rs", "fn g() {}\n").unwrap();
            assert_eq!(
                std::fs::read_to_string(dest.join("src/lib.rs")).unwrap(),
                "fn g() {}\n"
            );
        }
        assert!(!dest.exists());
        assert_eq!(fingerprint(&ws, &listed), before);
        std::fs::write(ws.join("src/lib.rs"), "fn h() {}\n").unwrap();
        assert_ne!(fingerprint(&ws, &listed), before);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
