//! Small file-system helpers.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// crash or Ctrl-C never leaves a half-written report behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".to_string());
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("cannot write {}", path.display()), e)
    })
}

/// `path` without symlinks, so paths from cargo and from git compare equal.
pub fn canonical(path: &Path) -> std::path::PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Calls `visit` with every regular file under `root`, unreadable directories passed over and
/// links never followed (a link to a parent would never end); a directory for which `skip`
/// holds is not entered.
pub fn walk_files(root: &Path, skip: impl Fn(&Path) -> bool, mut visit: impl FnMut(&Path)) {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !skip(&path) {
                    stack.push(path);
                }
            } else if kind.is_file() {
                visit(&path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_files_sees_every_file_once_skips_what_it_is_told_and_follows_no_link() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        std::fs::create_dir_all(d.join("skipped")).unwrap();
        std::fs::write(d.join("top.rs"), "").unwrap();
        std::fs::write(d.join("a/b/deep.rs"), "").unwrap();
        std::fs::write(d.join("skipped/no.rs"), "").unwrap();
        std::os::unix::fs::symlink(d, d.join("a/loop")).unwrap();
        let mut seen = Vec::new();
        walk_files(
            d,
            |p| p.ends_with("skipped"),
            |p| seen.push(p.strip_prefix(d).unwrap().to_path_buf()),
        );
        seen.sort();
        assert_eq!(
            seen,
            [Path::new("a/b/deep.rs"), Path::new("top.rs")].map(Path::to_path_buf)
        );
    }
}
