//! `--affected-since REV`: the workspace packages a change can affect, so a pull request runs
//! the tests of what it touched and of everything that depends on it, and nothing else.
//!
//! The decision ([`decide`]) is pure; [`changed_files`] asks git (git2) what changed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::workspace::Workspace;

/// What [`decide`] needs to know about one workspace member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Package name.
    pub name: String,
    /// Directory of its Cargo.toml.
    pub dir: PathBuf,
    /// Workspace members it depends on (normal, dev and build dependencies).
    pub depends_on: Vec<String>,
}

/// Why a package is affected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A file inside the package changed (the first one, and how many).
    Changed { file: String, count: usize },
    /// It depends on an affected package.
    DependsOn(String),
    /// A file that can change every package changed (Cargo.lock, a toolchain file, ...).
    Workspace(String),
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Changed { file, count: 1 } => write!(f, "{file} changed"),
            Reason::Changed { file, count } => {
                write!(f, "{file} and {} more file(s) changed", count - 1)
            }
            Reason::DependsOn(p) => write!(f, "depends on {p}"),
            Reason::Workspace(file) => write!(f, "{file} changed (affects every package)"),
        }
    }
}

/// Files, relative to the workspace root, whose change can alter every package's build.
fn is_workspace_wide(rel: &str) -> bool {
    matches!(
        rel,
        "Cargo.lock" | "Cargo.toml" | "rust-toolchain" | "rust-toolchain.toml"
    ) || rel.starts_with(".cargo/")
}

/// The members affected by `changed` (absolute paths), with the reason for each, by name.
///
/// A file inside a member's directory (the deepest one: nested packages are their own) affects
/// that member. Workspace-wide files affect every member. Any other file under the workspace
/// root affects every member too — it may be read by a build script or `include_str!` — unless
/// it matches one of `ignore` (`*` matches any characters, `/` included). Files outside the
/// workspace root affect nothing. Then every member that depends on an affected one is
/// affected, transitively.
pub fn decide(
    root: &Path,
    members: &[Member],
    changed: &[PathBuf],
    ignore: &[String],
) -> BTreeMap<String, Reason> {
    let mut out: BTreeMap<String, Reason> = BTreeMap::new();
    let mut everything: Option<String> = None;
    for file in changed {
        let Ok(rel) = file.strip_prefix(root) else {
            continue;
        };
        let rel_text = rel.to_string_lossy().replace('\\', "/");
        if is_workspace_wide(&rel_text) {
            everything.get_or_insert(rel_text);
            continue;
        }
        let owner = members
            .iter()
            .filter(|m| file.starts_with(&m.dir))
            .max_by_key(|m| m.dir.components().count());
        match owner {
            // The root package of a non-virtual workspace owns the root's other files.
            Some(m) => match out.get_mut(&m.name) {
                Some(Reason::Changed { count, .. }) => *count += 1,
                _ => {
                    out.insert(
                        m.name.clone(),
                        Reason::Changed {
                            file: rel_text,
                            count: 1,
                        },
                    );
                }
            },
            None if ignore
                .iter()
                .any(|g| crate::util::glob::matches(g, &rel_text)) => {}
            None => {
                everything.get_or_insert(rel_text);
            }
        }
    }
    if let Some(file) = everything {
        return members
            .iter()
            .map(|m| (m.name.clone(), Reason::Workspace(file.clone())))
            .collect();
    }
    // Reverse dependencies, to a fixed point (workspaces are small; no index needed).
    loop {
        let mut added = false;
        for m in members {
            if out.contains_key(&m.name) {
                continue;
            }
            if let Some(dep) = m.depends_on.iter().find(|d| out.contains_key(*d)) {
                out.insert(m.name.clone(), Reason::DependsOn(dep.clone()));
                added = true;
            }
        }
        if !added {
            return out;
        }
    }
}

pub use crate::util::fs::canonical;

/// The members of `ws` with their dependencies on each other (directories canonical).
pub fn members(ws: &Workspace) -> Vec<Member> {
    let dirs = ws.member_dirs();
    ws.members
        .iter()
        .filter_map(|p| {
            let (_, dir) = dirs.iter().find(|(name, _)| name == p.name.as_str())?;
            let depends_on: BTreeSet<String> = p
                .dependencies
                .iter()
                .filter_map(|d| {
                    let path = d.path.as_ref()?.as_std_path();
                    dirs.iter()
                        .find(|(_, dir)| dir == path)
                        .map(|(name, _)| name.clone())
                })
                .filter(|name| name.as_str() != p.name.as_str())
                .collect();
            Some(Member {
                name: p.name.to_string(),
                dir: canonical(dir),
                depends_on: depends_on.into_iter().collect(),
            })
        })
        .collect()
}

/// What changed since `since`: the files that differ between the merge base of `since` and
/// HEAD (so commits that landed on the base branch meanwhile do not count) and the working tree,
/// staged, unstaged and untracked alike. Returns absolute (canonical) paths and the base
/// commit's short id.
pub fn changed_files(root: &Path, since: &str) -> Result<(Vec<PathBuf>, String)> {
    let usage = |what: String, hint: &str| Error::usage(what, Some(hint.to_string()));
    let repo = git2::Repository::discover(root).map_err(|e| {
        usage(
            format!("--affected-since needs a git repository: {}", e.message()),
            "run inside a git checkout, or leave out --affected-since",
        )
    })?;
    let workdir = repo.workdir().ok_or_else(|| {
        usage(
            "--affected-since needs a working tree (this is a bare repository)".to_string(),
            "run in a checkout",
        )
    })?;
    let workdir = canonical(workdir);
    let target = repo
        .revparse_single(since)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| {
            usage(
                format!("--affected-since {since}: {}", e.message()),
                "name a commit, branch or tag; in CI fetch it first (e.g. actions/checkout with fetch-depth: 0)",
            )
        })?;
    let base = match repo.head().ok().and_then(|h| h.peel_to_commit().ok()) {
        Some(head) => repo
            .merge_base(head.id(), target.id())
            .ok()
            .and_then(|id| repo.find_commit(id).ok())
            .unwrap_or(target),
        None => target,
    };
    let tree = base
        .tree()
        .map_err(|e| Error::Internal(format!("cannot read the tree of {}: {e}", base.id())))?;
    let mut opts = git2::DiffOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(true);
    let diff = repo
        .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut opts))
        .map_err(|e| Error::Internal(format!("cannot diff against {}: {e}", base.id())))?;
    let mut files = BTreeSet::new();
    for delta in diff.deltas() {
        // Both sides: a file moved out of a package changes the package it left.
        for side in [delta.old_file(), delta.new_file()] {
            if let Some(p) = side.path() {
                files.insert(workdir.join(p));
            }
        }
    }
    let short = base.id().to_string().chars().take(12).collect();
    Ok((files.into_iter().collect(), short))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws() -> (PathBuf, Vec<Member>) {
        let root = PathBuf::from("/ws");
        let m = |name: &str, dir: &str, deps: &[&str]| Member {
            name: name.to_string(),
            dir: root.join(dir),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
        };
        (
            root.clone(),
            vec![
                m("core", "crates/core", &[]),
                m("core-macros", "crates/core/macros", &[]),
                m("api", "crates/api", &["core"]),
                m("cli", "crates/cli", &["api"]),
                m("tools", "tools", &[]),
            ],
        )
    }

    fn names(r: &BTreeMap<String, Reason>) -> Vec<&str> {
        r.keys().map(String::as_str).collect()
    }

    #[test]
    fn a_change_reaches_its_package_and_everything_depending_on_it() {
        let (root, members) = ws();
        let r = decide(
            &root,
            &members,
            &[
                root.join("crates/core/src/lib.rs"),
                root.join("crates/core/src/parse.rs"),
            ],
            &[],
        );
        assert_eq!(names(&r), ["api", "cli", "core"]);
        assert_eq!(
            r["core"].to_string(),
            "crates/core/src/lib.rs and 1 more file(s) changed"
        );
        assert_eq!(r["api"], Reason::DependsOn("core".to_string()));
        assert_eq!(r["cli"], Reason::DependsOn("api".to_string()));
    }

    #[test]
    fn a_nested_package_owns_its_own_files() {
        let (root, members) = ws();
        let r = decide(
            &root,
            &members,
            &[root.join("crates/core/macros/src/lib.rs")],
            &[],
        );
        assert_eq!(names(&r), ["core-macros"]);
    }

    #[test]
    fn workspace_wide_files_affect_every_package() {
        let (root, members) = ws();
        for file in [
            "Cargo.lock",
            "Cargo.toml",
            ".cargo/config.toml",
            "rust-toolchain.toml",
        ] {
            let r = decide(&root, &members, &[root.join(file)], &[]);
            assert_eq!(r.len(), 5, "{file}");
            assert_eq!(r["tools"], Reason::Workspace(file.to_string()));
        }
    }

    #[test]
    fn other_files_outside_packages_affect_everything_unless_ignored() {
        let (root, members) = ws();
        let file = [root.join("scripts/gen.sh")];
        assert_eq!(decide(&root, &members, &file, &[]).len(), 5);
        let ignore = vec!["*.md".to_string(), ".github/*".to_string()];
        let docs = [
            root.join("README.md"),
            root.join(".github/workflows/ci.yml"),
        ];
        assert!(decide(&root, &members, &docs, &ignore).is_empty());
        // Inside a package the ignore list does not apply: a doctest may include the README.
        let r = decide(&root, &members, &[root.join("tools/README.md")], &ignore);
        assert_eq!(names(&r), ["tools"]);
    }

    #[test]
    fn files_outside_the_workspace_affect_nothing() {
        let (root, members) = ws();
        let r = decide(
            &root,
            &members,
            &[PathBuf::from("/elsewhere/web/app.js")],
            &[],
        );
        assert!(r.is_empty());
    }

    #[test]
    fn dependency_cycles_through_dev_dependencies_end() {
        let root = PathBuf::from("/ws");
        let members = vec![
            Member {
                name: "a".into(),
                dir: root.join("a"),
                depends_on: vec!["b".into()],
            },
            Member {
                name: "b".into(),
                dir: root.join("b"),
                depends_on: vec!["a".into()],
            },
        ];
        let r = decide(&root, &members, &[root.join("a/src/lib.rs")], &[]);
        assert_eq!(names(&r), ["a", "b"]);
    }
}
