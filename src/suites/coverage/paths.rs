//! Which file of the workspace an LCOV `SF:` path names. Tools write them in every form:
//! absolute (llvm-cov, tarpaulin), `./src/x.rs`, relative to the workspace or to the repository
//! when the workspace is a subdirectory (the form Codecov expects), through symlinks, or under
//! a build machine's path that only a configured fix (`before::after`) can map. A record that
//! names no file of this workspace — a registry crate, a generated file, a file since deleted —
//! is left out of the totals and listed, never counted in silence.

use std::path::{Component, Path, PathBuf};

/// Where an `SF:` path points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// A file of the workspace, by its path relative to the workspace root (`/` separated).
    File(String),
    /// Outside the workspace (another crate's source, the standard library, the registry).
    Outside(String),
    /// Inside the workspace but not in the tree (deleted, or generated and cleaned).
    Gone(String),
}

/// Maps `SF:` paths to workspace files.
pub struct Mapper {
    workspace: PathBuf,
    /// The workspace root relative to the repository root (empty when they are the same).
    in_repo: PathBuf,
    repo: Option<PathBuf>,
    fixes: Vec<(String, String)>,
}

impl Mapper {
    /// A mapper for the workspace at `workspace`, inside the repository at `repo` (if any),
    /// applying `fixes` (prefix `before` replaced by `after`, the first that matches) first.
    pub fn new(workspace: &Path, repo: Option<&Path>, fixes: &[(String, String)]) -> Mapper {
        let workspace = canonical(workspace);
        let repo = repo.map(canonical);
        let in_repo = repo
            .as_ref()
            .and_then(|r| workspace.strip_prefix(r).ok())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Mapper {
            workspace,
            in_repo,
            repo,
            fixes: fixes.to_vec(),
        }
    }

    /// What `sf` names.
    pub fn map(&self, sf: &str) -> Mapped {
        let mut text = sf.replace('\\', "/");
        if let Some((before, after)) = self.fixes.iter().find(|(b, _)| text.starts_with(b)) {
            text = format!("{after}{}", &text[before.len()..]);
        }
        let path = Path::new(&text);
        if path.is_absolute() {
            let Some(clean) = lexical(path) else {
                return Mapped::Outside(sf.to_string());
            };
            // Symlinks: a tool may have run in /tmp/build -> /home/ci/project.
            let real = std::fs::canonicalize(&clean).unwrap_or(clean);
            return match real.strip_prefix(&self.workspace) {
                Ok(rel) => self.inside(rel),
                Err(_) => Mapped::Outside(sf.to_string()),
            };
        }
        let Some(rel) = lexical(path) else {
            // `../other/src/x.rs` climbs out of the workspace.
            return Mapped::Outside(sf.to_string());
        };
        if self.workspace.join(&rel).is_file() {
            return Mapped::File(slashes(&rel));
        }
        // Relative to the repository, with the workspace in a subdirectory of it.
        if !self.in_repo.as_os_str().is_empty()
            && let Ok(under) = rel.strip_prefix(&self.in_repo)
        {
            return self.inside(under);
        }
        if let Some(repo) = &self.repo
            && repo.join(&rel).is_file()
        {
            return Mapped::Outside(sf.to_string());
        }
        Mapped::Gone(slashes(&rel))
    }

    fn inside(&self, rel: &Path) -> Mapped {
        if self.workspace.join(rel).is_file() {
            Mapped::File(slashes(rel))
        } else {
            Mapped::Gone(slashes(rel))
        }
    }
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// `p` without `.` and with `..` applied; `None` when a relative path climbs above its start.
fn lexical(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    let mut depth = 0usize;
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if depth == 0 {
                    if p.is_absolute() {
                        continue;
                    }
                    return None;
                }
                out.pop();
                depth -= 1;
            }
            Component::Normal(n) => {
                out.push(n);
                depth += 1;
            }
            other => out.push(other.as_os_str()),
        }
    }
    Some(out)
}

fn slashes(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repository with the workspace in `semver/` and one source file.
    fn tree() -> (tempfile::TempDir, PathBuf) {
        let repo = tempfile::tempdir().unwrap();
        let ws = repo.path().join("semver");
        std::fs::create_dir_all(ws.join("src")).unwrap();
        std::fs::write(ws.join("src/eval.rs"), "").unwrap();
        std::fs::create_dir_all(repo.path().join("other/src")).unwrap();
        std::fs::write(repo.path().join("other/src/lib.rs"), "").unwrap();
        (repo, ws)
    }

    #[test]
    fn every_form_of_a_workspace_file_maps_to_it() {
        let (repo, ws) = tree();
        let m = Mapper::new(&ws, Some(repo.path()), &[]);
        let file = Mapped::File("src/eval.rs".to_string());
        let absolute = ws.join("src/eval.rs").display().to_string();
        for sf in [
            "src/eval.rs",
            "./src/eval.rs",
            "src/../src/./eval.rs",
            "semver/src/eval.rs",
            "./semver/src/eval.rs",
            absolute.as_str(),
            &format!("{}/semver/./src/eval.rs", repo.path().display()),
        ] {
            assert_eq!(m.map(sf), file, "{sf}");
        }
    }

    #[test]
    fn symlinked_build_paths_map_to_the_real_file() {
        let (repo, ws) = tree();
        let link = repo.path().join("build-link");
        std::os::unix::fs::symlink(&ws, &link).unwrap();
        let m = Mapper::new(&ws, Some(repo.path()), &[]);
        assert_eq!(
            m.map(&link.join("src/eval.rs").display().to_string()),
            Mapped::File("src/eval.rs".into())
        );
    }

    #[test]
    fn files_outside_or_gone_are_told_apart() {
        let (repo, ws) = tree();
        let m = Mapper::new(&ws, Some(repo.path()), &[]);
        let registry = "/root/.cargo/registry/src/index.crates.io-1/serde-1.0.0/src/lib.rs";
        assert_eq!(m.map(registry), Mapped::Outside(registry.into()));
        assert_eq!(
            m.map("other/src/lib.rs"),
            Mapped::Outside("other/src/lib.rs".into())
        );
        assert_eq!(
            m.map("../other/src/lib.rs"),
            Mapped::Outside("../other/src/lib.rs".into())
        );
        assert_eq!(m.map("src/gone.rs"), Mapped::Gone("src/gone.rs".into()));
        assert_eq!(
            m.map("semver/src/gone.rs"),
            Mapped::Gone("src/gone.rs".into())
        );
    }

    #[test]
    fn fixes_rewrite_a_prefix_first() {
        let (repo, ws) = tree();
        let fixes = vec![("/build/agent/work/".to_string(), String::new())];
        let m = Mapper::new(&ws, Some(repo.path()), &fixes);
        assert_eq!(
            m.map("/build/agent/work/src/eval.rs"),
            Mapped::File("src/eval.rs".into())
        );
    }
}
