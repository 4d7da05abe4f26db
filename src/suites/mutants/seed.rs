//! The copy's target directory starts from the user's build of the dependencies. The copy
//! builds in its own target directory (`target/gate/mutants/target`), so on a first run it
//! would compile every dependency again — most of the time on crates with heavy
//! dev-dependencies. Cargo names a dependency's build output by a hash of what it was built
//! from (package, version, features, profile, compiler), not by where the workspace lives, and
//! judges a registry dependency fresh by that hash alone; so the output the user's own
//! `cargo test` left in `target/debug` is valid in the copy as it is.
//!
//! Never seeded: the workspace members' own output. Their hashes do not depend on the
//! workspace's path either, and cargo judges them by file times: an unmutated build of the
//! user's could pass for the schema's. Those are left out by name: a unit named like one of
//! the members' targets is taken only when its dep-info shows registry sources (hex's
//! integration test `serde` shares its name with serde), and a build script's units only when
//! no member of that name has a build script.

use std::collections::BTreeSet;
use std::path::Path;

/// The directories of a profile that hold the dependencies' build output.
const PARTS: [&str; 3] = ["deps", "build", ".fingerprint"];

/// The unit a file or directory of `deps/`, `build/` or `.fingerprint/` belongs to and its
/// hash: its name before `-<16 hex digits>`, `lib` prefix kept
/// (`libfoo-0123456789abcdef.rlib` → `libfoo`, `0123456789abcdef`).
fn unit_of(name: &str) -> Option<(&str, &str)> {
    let stem = name.split('.').next()?;
    let (unit, hash) = stem.rsplit_once('-')?;
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) && !unit.is_empty())
        .then_some((unit, hash))
}

/// The names the workspace's members' units go by in `deps/`, `build/` and `.fingerprint/`.
#[derive(Debug, Default)]
pub struct MemberUnits {
    /// Package and target names, `-` as `_` and as is, with and without `lib`.
    pub names: BTreeSet<String>,
    /// The names of the members that have a build script (its units are named by package).
    pub scripts: BTreeSet<String>,
}

/// The [`MemberUnits`] of `members`.
pub fn member_units(members: &[cargo_metadata::Package]) -> MemberUnits {
    let mut units = MemberUnits::default();
    for p in members {
        let targets = p.targets.iter().map(|t| t.name.as_str());
        for name in std::iter::once(p.name.as_str()).chain(targets) {
            for n in [name.to_string(), name.replace('-', "_")] {
                units.names.insert(format!("lib{n}"));
                units.names.insert(n);
            }
        }
        if p.targets.iter().any(|t| t.is_custom_build()) {
            units.scripts.insert(p.name.to_string());
            units.scripts.insert(p.name.replace('-', "_"));
        }
    }
    units
}

/// Whether an entry of `part` belongs to a build script (its compilation or its run): every
/// entry of `build/`, and a `.fingerprint/` directory with a `build-script-*` or
/// `run-build-script-*` file (a unit's directory holds one unit's: a library's are `lib-*`).
fn is_build_script(part: &str, path: &Path) -> bool {
    match part {
        "build" => true,
        ".fingerprint" => std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .any(|n| n.starts_with("build-script-") || n.starts_with("run-build-script-")),
        _ => false,
    }
}

/// Copies into `to` (the copy's profile directory, e.g. `…/mutants/target/debug`) what
/// `from` (the user's, e.g. `target/debug`) holds of units that are not the members' and
/// `to` lacks, file times kept (cargo compares a unit's outputs with its dependencies').
/// A unit named like a member is taken only when its dep-info shows it was compiled from
/// sources outside `ws_root` (itertools' dev-dependencies bring a registry itertools), a
/// build script's unless a member of its name has one.
/// Returns how many entries it copied; a unit that cannot be copied whole is left out.
pub fn seed(from: &Path, to: &Path, members: &MemberUnits, ws_root: &Path) -> usize {
    let dep_infos: Vec<String> = std::fs::read_dir(from.join("deps"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".d"))
        .collect();
    let outside = |hash: &str| {
        let suffix = format!("-{hash}.d");
        dep_infos.iter().filter(|d| d.ends_with(&suffix)).any(|d| {
            std::fs::read_to_string(from.join("deps").join(d))
                .is_ok_and(|text| compiled_outside(&text, ws_root, from))
        })
    };
    let mut copied = 0;
    for part in PARTS {
        let Ok(entries) = std::fs::read_dir(from.join(part)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            let Some((unit, hash)) = unit_of(name) else {
                continue;
            };
            let dest = to.join(part).join(name);
            // Only a unit named like a member needs a closer look (a directory read, a
            // dep-info file).
            let named = members.names.contains(unit) || members.scripts.contains(unit);
            let member = named
                && if is_build_script(part, &entry.path()) {
                    members.scripts.contains(unit)
                } else {
                    members.names.contains(unit) && !outside(hash)
                };
            if dest.symlink_metadata().is_ok() || member {
                continue;
            }
            if copy_all(&entry.path(), &dest).is_ok() {
                copied += 1;
            } else if dest.is_dir() {
                let _ = std::fs::remove_dir_all(&dest);
            } else {
                let _ = std::fs::remove_file(&dest);
            }
        }
    }
    copied
}

/// Whether a dep-info file (`OUTPUT: SOURCE SOURCE…`, spaces in paths escaped) lists sources
/// and all of them lie outside `ws_root` (a member's are relative to it, or under it). Sources
/// under `build_dir` (what a build script generated in its `OUT_DIR`, as serde's) say
/// nothing either way, even when the target directory lies in the workspace.
fn compiled_outside(dep_info: &str, ws_root: &Path, build_dir: &Path) -> bool {
    let Some((_, sources)) = dep_info.lines().next().and_then(|l| l.split_once(": ")) else {
        return false;
    };
    let sources = sources.replace("\\ ", "\0");
    let mut any = false;
    for source in sources.split(' ').filter(|s| !s.is_empty()) {
        let path = Path::new(&source.replace('\0', " ")).to_path_buf();
        if path.is_absolute() && path.starts_with(build_dir) {
            continue;
        }
        if !path.is_absolute() || path.starts_with(ws_root) {
            return false;
        }
        any = true;
    }
    any
}

/// Copies a file, or a directory with everything under it, keeping modification times;
/// anything but files and directories (a symlink in a build script's output) is an error.
fn copy_all(from: &Path, to: &Path) -> std::io::Result<()> {
    let meta = from.symlink_metadata()?;
    if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_all(&entry.path(), &to.join(entry.file_name()))?;
        }
        return Ok(());
    }
    if !meta.is_file() {
        return Err(std::io::Error::other("not a file"));
    }
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(from, to)?;
    let file = std::fs::OpenOptions::new().write(true).open(to)?;
    file.set_modified(meta.modified()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_named_before_their_hash() {
        let h = "0123456789abcdef";
        let unit = |name: &str| unit_of(name).map(|(u, hash)| (u.to_string(), hash == h));
        assert_eq!(
            unit("libfoo_bar-0123456789abcdef.rlib"),
            Some(("libfoo_bar".into(), true))
        );
        assert_eq!(unit("foo-0123456789abcdef.d"), Some(("foo".into(), true)));
        assert_eq!(unit("foo-0123456789abcdef"), Some(("foo".into(), true)));
        assert_eq!(
            unit("serde-json-0123456789abcdef"),
            Some(("serde-json".into(), true))
        );
        assert_eq!(unit_of("foo-0123456789abcdeg"), None);
        assert_eq!(unit_of("foo-0123"), None);
        assert_eq!(unit_of("foo"), None);
    }

    #[test]
    fn a_unit_compiled_from_sources_outside_the_workspace_is_a_dependency() {
        let (ws, built) = (Path::new("/ws"), Path::new("/ws/target/debug"));
        let reg = "/t/deps/it-1.d: /r/it-0.10.5/src/lib.rs /r/it-0.10.5/src/a\\ b.rs\n\n";
        assert!(compiled_outside(reg, ws, built));
        // serde's shape: its build script's output, in the workspace's target directory.
        let generated = "/t/deps/serde-1.d: /r/serde-1.0.229/src/lib.rs /ws/target/debug/build/serde-2/out/private.rs\n";
        assert!(compiled_outside(generated, ws, built));
        assert!(!compiled_outside(
            "/t/deps/it-1.d: src/lib.rs src/a.rs\n",
            ws,
            built
        ));
        assert!(!compiled_outside(
            "/t/deps/it-1.d: /ws/src/lib.rs /ws/target/debug/build/it-2/out/gen.rs\n",
            ws,
            built
        ));
        assert!(!compiled_outside("/t/deps/it-1.d:\n", ws, built));
        assert!(!compiled_outside("", ws, built));
    }

    #[test]
    fn dependencies_are_copied_and_members_are_not() {
        let base = std::env::temp_dir().join(format!("cg-seed-{}", std::process::id()));
        let (from, to) = (base.join("user/debug"), base.join("copy/debug"));
        let h = "0123456789abcdef";
        for (dir, name) in [
            ("deps", format!("libdep-{h}.rlib")),
            ("deps", format!("libcalc-{h}.rlib")),
            ("deps", format!("calc-{h}")),
            ("build", format!("dep-{h}/out/gen.rs")),
            (".fingerprint", format!("dep-{h}/lib-dep")),
            (".fingerprint", format!("calc-{h}/lib-calc")),
            // A registry crate named like the member: its dep-info names the registry.
            ("deps", "libcalc-fedcba9876543210.rlib".to_string()),
            (".fingerprint", "calc-fedcba9876543210/lib-calc".to_string()),
            // The registry calc's build script, compiled and run: no dep-info in `deps/`,
            // and no member named calc has a build script.
            (
                "build",
                "calc-1111111111111111/build-script-build".to_string(),
            ),
            ("build", "calc-2222222222222222/out/gen.rs".to_string()),
            (
                ".fingerprint",
                "calc-1111111111111111/build-script-build-script-build".to_string(),
            ),
            (
                ".fingerprint",
                "calc-1111111111111111/dep-build-script-build-script-build".to_string(),
            ),
            (
                ".fingerprint",
                "calc-2222222222222222/run-build-script-build-script-build".to_string(),
            ),
            (
                ".fingerprint",
                "calc-2222222222222222/invoked.timestamp".to_string(),
            ),
            // A member's build script ran: never taken.
            ("build", "app-3333333333333333/out/gen.rs".to_string()),
            (
                ".fingerprint",
                "app-3333333333333333/run-build-script-build-script-build".to_string(),
            ),
        ] {
            let path = from.join(dir).join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "x").unwrap();
        }
        let dep_info = "/t/deps/calc-fedcba9876543210.d: /registry/calc-0.1.0/src/lib.rs\n";
        std::fs::write(from.join("deps/calc-fedcba9876543210.d"), dep_info).unwrap();
        std::fs::write(
            from.join(format!("deps/calc-{h}.d")),
            "x: calc/src/lib.rs\n",
        )
        .unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30);
        let rlib = from.join(format!("deps/libdep-{h}.rlib"));
        std::fs::File::options()
            .write(true)
            .open(&rlib)
            .unwrap()
            .set_modified(old)
            .unwrap();
        // What the copy built itself is never replaced.
        std::fs::create_dir_all(to.join(".fingerprint")).unwrap();
        std::fs::write(to.join(format!(".fingerprint/dep-{h}")), "mine").unwrap();
        let members = MemberUnits {
            names: ["calc", "libcalc", "app", "libapp"]
                .map(String::from)
                .into(),
            scripts: ["app"].map(String::from).into(),
        };
        assert_eq!(seed(&from, &to, &members, &base), 9);
        for taken in [
            "build/calc-1111111111111111/build-script-build",
            "build/calc-2222222222222222/out/gen.rs",
            ".fingerprint/calc-2222222222222222/run-build-script-build-script-build",
        ] {
            assert!(to.join(taken).is_file(), "{taken}");
        }
        assert!(!to.join("build/app-3333333333333333").exists());
        assert!(!to.join(".fingerprint/app-3333333333333333").exists());
        assert!(to.join("deps/libcalc-fedcba9876543210.rlib").is_file());
        assert!(
            to.join(".fingerprint/calc-fedcba9876543210/lib-calc")
                .is_file()
        );
        assert!(!to.join(format!("deps/calc-{h}.d")).exists());
        let copied = to.join(format!("deps/libdep-{h}.rlib"));
        assert_eq!(std::fs::metadata(&copied).unwrap().modified().unwrap(), old);
        assert!(to.join(format!("build/dep-{h}/out/gen.rs")).is_file());
        assert!(!to.join(format!("deps/libcalc-{h}.rlib")).exists());
        assert!(!to.join(format!("deps/calc-{h}")).exists());
        assert_eq!(
            std::fs::read_to_string(to.join(format!(".fingerprint/dep-{h}"))).unwrap(),
            "mine"
        );
        // A second seeding finds everything there.
        assert_eq!(seed(&from, &to, &members, &base), 0);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
