//! Which mutants a run tries: those on the lines the change touches (as cargo-mutants'
//! `--in-diff` keeps them: a mutant whose changed span shares a line with the diff), or those
//! of the files and functions named with `--mutate`. Which files can be mutated and which
//! packages' tests can reach a mutant. Pure, apart from [`touched_lines`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::config::split_target;
use super::generate::{Edit, Genre, LineIndex, Mutant};

/// Lines (1-based) each file (from the workspace root) gains in the change.
pub type Touched = BTreeMap<String, BTreeSet<u32>>;

/// The lines the change adds against `base` (renames followed, untracked files included).
pub fn touched_lines(ws_root: &Path, base: Option<&str>) -> Result<(Touched, String), String> {
    let store = crate::baseline::notes::Store::open(ws_root).map_err(|e| e.to_string())?;
    let (commit, name) = crate::baseline::change_base(&store, base).map_err(|e| e.to_string())?;
    let mut touched = Touched::new();
    crate::baseline::change::added_lines(ws_root, &store, commit, &mut |path, line, _| {
        if path.ends_with(".rs") {
            touched.entry(path.to_string()).or_default().insert(line);
        }
    })?;
    Ok((touched, format!("{name} ({})", store.short(commit))))
}

/// A workspace member as far as mutating goes: its name, directory (from the workspace root,
/// `""` for the root package) and the members whose tests use it.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// Package name.
    pub name: String,
    /// Its directory from the workspace root.
    pub dir: String,
    /// Path dependencies on other members (normal, dev and build).
    pub uses: Vec<String>,
    /// A proc-macro crate: its code runs inside the compiler, where no runtime switch reaches.
    pub proc_macro: bool,
}

/// The members of `ws`, in the form the selection needs.
pub fn members(ws: &crate::workspace::Workspace) -> Vec<Member> {
    let names: BTreeSet<&str> = ws.members.iter().map(|p| p.name.as_str()).collect();
    ws.members
        .iter()
        .map(|p| {
            let dir = p
                .manifest_path
                .parent()
                .map(|d| d.as_std_path().to_path_buf())
                .unwrap_or_default();
            Member {
                name: p.name.to_string(),
                dir: relative(&ws.root, &dir),
                uses: p
                    .dependencies
                    .iter()
                    .filter(|d| d.path.is_some() && names.contains(d.name.as_str()))
                    .map(|d| d.name.clone())
                    .collect(),
                proc_macro: p
                    .targets
                    .iter()
                    .any(|t| t.kind.contains(&cargo_metadata::TargetKind::ProcMacro)),
            }
        })
        .collect()
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// The member a source file belongs to, if it is code a crate's library or binaries are built
/// from: not its tests, benches, examples or build script.
pub fn owner<'m>(members: &'m [Member], file: &str) -> Option<&'m Member> {
    let m = members
        .iter()
        .filter(|m| m.dir.is_empty() || file.starts_with(&format!("{}/", m.dir)))
        .max_by_key(|m| m.dir.len())?;
    let inside = if m.dir.is_empty() {
        file
    } else {
        &file[m.dir.len() + 1..]
    };
    let test_code = ["tests/", "benches/", "examples/"]
        .iter()
        .any(|d| inside.starts_with(d))
        || inside == "build.rs";
    (!test_code && file.ends_with(".rs")).then_some(m)
}

/// The members whose tests can reach code of `package`: itself and every member depending on
/// it, directly or not.
pub fn reaching(members: &[Member], package: &str) -> BTreeSet<String> {
    let mut reach: BTreeSet<String> = BTreeSet::from([package.to_string()]);
    loop {
        let before = reach.len();
        for m in members {
            if m.uses.iter().any(|u| reach.contains(u)) {
                reach.insert(m.name.clone());
            }
        }
        if reach.len() == before {
            return reach;
        }
    }
}

/// The lines a mutant changes, as cargo-mutants tests them against a diff: a body's whole
/// block, an operator's own line, a guard's lines.
fn lines_of(m: &Mutant, lines: &LineIndex<'_>) -> std::ops::RangeInclusive<u32> {
    let range = match (&m.edit, m.genre) {
        (_, Genre::FnValue) | (Edit::Whole(_), _) => m.span.clone(),
        (Edit::Part(r, _), _) => r.clone(),
    };
    lines.line_of(range.start)..=lines.line_of(range.end.saturating_sub(1).max(range.start))
}

/// The mutants of a file the change touches.
pub fn in_change(found: Vec<Mutant>, source: &str, lines: &BTreeSet<u32>) -> Vec<Mutant> {
    let index = LineIndex::new(source);
    found
        .into_iter()
        .filter(|m| lines_of(m, &index).any(|l| lines.contains(&l)))
        .collect()
}

/// The mutants `--mutate` asks for in `file`: all of them, or those of the named functions
/// (`parse`, `Parser::next`: a name matches the function or its last segment).
pub fn in_targets(found: Vec<Mutant>, file: &str, targets: &[String]) -> Vec<Mutant> {
    let wanted: Vec<Option<&str>> = targets
        .iter()
        .map(|t| split_target(t))
        .filter(|(path, _)| *path == file)
        .map(|(_, f)| f)
        .collect();
    if wanted.iter().any(Option::is_none) {
        return found;
    }
    found
        .into_iter()
        .filter(|m| {
            m.function.as_deref().is_some_and(|f| {
                wanted.iter().flatten().any(|w| {
                    f == *w || f.rsplit("::").next() == Some(w) || f.ends_with(&format!("::{w}"))
                })
            })
        })
        .collect()
}

/// The files `--mutate` names, each once.
pub fn target_files(targets: &[String]) -> Vec<String> {
    let files: BTreeSet<&str> = targets.iter().map(|t| split_target(t).0).collect();
    files.into_iter().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::super::generate::mutants;
    use super::*;

    const SOURCE: &str = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\npub fn sub(a: i32, b: i32) -> i32 {\n    let d = a - b;\n    d\n}\n";

    #[test]
    fn a_changed_line_keeps_its_function_and_its_operators() {
        let found = mutants("src/lib.rs", SOURCE).unwrap();
        let kept = in_change(found.clone(), SOURCE, &BTreeSet::from([7]));
        let names: Vec<&str> = kept.iter().map(|m| m.description.as_str()).collect();
        // Line 7 is in sub's body: its values, not its `-` on line 6, not add's.
        assert_eq!(
            names,
            [
                "replace sub -> i32 with 0",
                "replace sub -> i32 with 1",
                "replace sub -> i32 with -1"
            ]
        );
        let kept = in_change(found, SOURCE, &BTreeSet::from([2]));
        assert_eq!(kept.len(), 5, "{kept:#?}");
    }

    #[test]
    fn targets_pick_files_and_functions() {
        let found = mutants("src/lib.rs", SOURCE).unwrap();
        let all = in_targets(found.clone(), "src/lib.rs", &["src/lib.rs".to_string()]);
        assert_eq!(all.len(), found.len());
        let sub = in_targets(found.clone(), "src/lib.rs", &["src/lib.rs:sub".to_string()]);
        assert!(sub.iter().all(|m| m.function.as_deref() == Some("sub")));
        assert_eq!(sub.len(), 5);
        assert!(in_targets(found, "src/lib.rs", &["src/other.rs".to_string()]).is_empty());
    }

    #[test]
    fn owners_and_reverse_dependencies() {
        let members = vec![
            Member {
                name: "core".into(),
                dir: "crates/core".into(),
                uses: vec![],
                proc_macro: false,
            },
            Member {
                name: "app".into(),
                dir: "".into(),
                uses: vec!["mid".into()],
                proc_macro: false,
            },
            Member {
                name: "mid".into(),
                dir: "crates/mid".into(),
                uses: vec!["core".into()],
                proc_macro: false,
            },
        ];
        assert_eq!(
            owner(&members, "crates/core/src/lib.rs").map(|m| m.name.as_str()),
            Some("core")
        );
        assert_eq!(
            owner(&members, "src/main.rs").map(|m| m.name.as_str()),
            Some("app")
        );
        assert!(owner(&members, "crates/core/tests/it.rs").is_none());
        assert!(owner(&members, "build.rs").is_none());
        assert_eq!(
            reaching(&members, "core"),
            BTreeSet::from(["core".into(), "mid".into(), "app".into()])
        );
        assert_eq!(reaching(&members, "app"), BTreeSet::from(["app".into()]));
    }
}
