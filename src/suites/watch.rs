//! Watches a workspace for files a run creates or changes (pending snapshots, proptest
//! regressions), so they can be reported and the user's tree put back as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A file that a run created, changed or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Absolute path.
    pub path: PathBuf,
    /// Content before the run (`None`: it did not exist).
    pub before: Option<Vec<u8>>,
    /// Content after the run (`None`: it was removed).
    pub after: Option<Vec<u8>>,
}

/// The files matching a predicate under a root, with their content at the start.
pub struct Watch {
    root: PathBuf,
    skip: Vec<PathBuf>,
    matches: fn(&Path) -> bool,
    before: BTreeMap<PathBuf, Vec<u8>>,
}

impl Watch {
    /// Records every matching file under `root`, not descending into `skip` directories,
    /// `.git`, `node_modules`, or directories holding a `CACHEDIR.TAG` (cargo target dirs).
    pub fn start(root: &Path, skip: &[PathBuf], matches: fn(&Path) -> bool) -> Watch {
        let mut w = Watch {
            root: root.to_path_buf(),
            skip: skip.to_vec(),
            matches,
            before: BTreeMap::new(),
        };
        w.before = w.scan();
        w
    }

    fn scan(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut found = BTreeMap::new();
        let skip = |dir: &Path| {
            let name = dir.file_name().unwrap_or_default();
            name == ".git"
                || name == "node_modules"
                || self.skip.iter().any(|s| s == dir)
                || dir.join("CACHEDIR.TAG").exists()
        };
        crate::util::fs::walk_files(&self.root, skip, |path| {
            if (self.matches)(path)
                && let Ok(content) = std::fs::read(path)
            {
                found.insert(path.to_path_buf(), content);
            }
        });
        found
    }

    /// What changed since [`Watch::start`], sorted by path.
    pub fn changes(&self) -> Vec<Change> {
        let now = self.scan();
        let mut out = Vec::new();
        for (path, after) in &now {
            match self.before.get(path) {
                Some(before) if before == after => {}
                before => out.push(Change {
                    path: path.clone(),
                    before: before.cloned(),
                    after: Some(after.clone()),
                }),
            }
        }
        for (path, before) in &self.before {
            if !now.contains_key(path) {
                out.push(Change {
                    path: path.clone(),
                    before: Some(before.clone()),
                    after: None,
                });
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// The matching files found at start.
    pub fn files(&self) -> Vec<PathBuf> {
        self.before.keys().cloned().collect()
    }

    /// The watched root.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Puts a changed file back as it was before the run.
pub fn restore(change: &Change) -> std::io::Result<()> {
    match &change.before {
        Some(content) => std::fs::write(&change.path, content),
        None => match std::fs::remove_file(&change.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
    }
}

/// Copies the run's version of a changed file to `dest_root/<path relative to root>`.
pub fn keep_copy(change: &Change, root: &Path, dest_root: &Path) -> std::io::Result<PathBuf> {
    let rel = change.path.strip_prefix(root).unwrap_or(&change.path);
    let dest = dest_root.join(rel.strip_prefix("/").unwrap_or(rel));
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if let Some(after) = &change.after {
        std::fs::write(&dest, after)?;
    }
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_txt(p: &Path) -> bool {
        p.extension().is_some_and(|e| e == "txt")
    }

    #[test]
    fn sees_created_changed_and_removed_files_and_restores_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("keep.txt"), "same").unwrap();
        std::fs::write(root.join("edit.txt"), "old").unwrap();
        std::fs::write(root.join("gone.txt"), "bye").unwrap();
        std::fs::create_dir(root.join("target")).unwrap();
        std::fs::write(root.join("target/CACHEDIR.TAG"), "").unwrap();
        let w = Watch::start(root, &[], is_txt);

        std::fs::write(root.join("edit.txt"), "new").unwrap();
        std::fs::remove_file(root.join("gone.txt")).unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/made.txt"), "hi").unwrap();
        std::fs::write(root.join("target/ignored.txt"), "x").unwrap();
        std::fs::write(root.join("other.rs"), "x").unwrap();

        let changes = w.changes();
        let names: Vec<String> = changes
            .iter()
            .map(|c| c.path.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(names, vec!["edit.txt", "gone.txt", "sub/made.txt"]);
        assert_eq!(changes[0].before.as_deref(), Some(&b"old"[..]));
        assert_eq!(changes[1].after, None);

        let out = tempfile::tempdir().unwrap();
        let copied = keep_copy(&changes[2], root, out.path()).unwrap();
        assert_eq!(std::fs::read_to_string(copied).unwrap(), "hi");
        for c in &changes {
            restore(c).unwrap();
        }
        assert!(w.changes().is_empty());
        assert_eq!(
            std::fs::read_to_string(root.join("gone.txt")).unwrap(),
            "bye"
        );
    }
}
