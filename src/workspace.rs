//! The Cargo workspace as `cargo metadata` describes it: root, target directory, members.

use std::path::{Path, PathBuf};

use cargo_metadata::{MetadataCommand, Package};

use crate::error::{Error, Result};

/// How long `cargo metadata` may take (it may have to read many manifests).
const METADATA_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// What cargo-gate needs to know about a workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Directory of the workspace's root Cargo.toml.
    pub root: PathBuf,
    /// The manifest cargo was pointed at.
    pub manifest_path: PathBuf,
    /// `target/` (honours CARGO_TARGET_DIR and .cargo/config.toml).
    pub target_dir: PathBuf,
    /// Workspace members.
    pub members: Vec<Package>,
}

impl Workspace {
    /// Loads the workspace that contains `manifest_path` (or the current directory).
    pub fn load(manifest_path: Option<&Path>) -> Result<Workspace> {
        let manifest = match manifest_path {
            Some(p) => {
                if !p.exists() {
                    return Err(Error::usage(
                        format!("manifest {} does not exist", p.display()),
                        Some("pass the path of a Cargo.toml to --manifest-path".to_string()),
                    ));
                }
                p.to_path_buf()
            }
            None => locate_manifest()?,
        };
        // cargo runs through the process layer like every subprocess (timeout, Ctrl-C).
        let cmd = MetadataCommand::new()
            .manifest_path(&manifest)
            .no_deps()
            .cargo_command();
        let fail = |detail: String| {
            Error::usage(
                format!(
                    "cannot read the workspace at {}:\n{detail}",
                    manifest.display()
                ),
                Some("fix Cargo.toml so that `cargo metadata` succeeds".to_string()),
            )
        };
        let out = crate::exec::process::output(cmd, Some(METADATA_TIMEOUT))
            .map_err(|e| fail(format!("cannot run cargo: {e}")))?;
        if !out.success() {
            return Err(fail(format!("{} ({})", out.stderr_text(), out.exit)));
        }
        let json = String::from_utf8_lossy(&out.stdout);
        let metadata = MetadataCommand::parse(json.as_ref())
            .map_err(|e| fail(format!("unreadable `cargo metadata` output: {e}")))?;
        let members = metadata.workspace_packages().into_iter().cloned().collect();
        Ok(Workspace {
            root: metadata.workspace_root.into_std_path_buf(),
            manifest_path: manifest,
            target_dir: metadata.target_directory.into_std_path_buf(),
            members,
        })
    }

    /// The member called `name` (or `name@version`), if any.
    pub fn member(&self, name: &str) -> Option<&Package> {
        let (name, version) = name.split_once('@').unwrap_or((name, ""));
        self.members.iter().find(|p| {
            p.name.as_str() == name && (version.is_empty() || p.version.to_string() == version)
        })
    }

    /// Each member's name and directory (where its Cargo.toml is), in member order.
    pub fn member_dirs(&self) -> Vec<(String, PathBuf)> {
        self.members
            .iter()
            .filter_map(|p| {
                let dir = p.manifest_path.parent()?.as_std_path().to_path_buf();
                Some((p.name.to_string(), dir))
            })
            .collect()
    }

    /// The default output directory, `target/gate`.
    pub fn out_dir(&self) -> PathBuf {
        self.target_dir.join("gate")
    }
}

/// Finds the Cargo.toml for the current directory the way cargo does.
fn locate_manifest() -> Result<PathBuf> {
    let cwd =
        std::env::current_dir().map_err(|e| Error::io("cannot read the current directory", e))?;
    let mut dir: Option<&Path> = Some(&cwd);
    while let Some(d) = dir {
        let candidate = d.join("Cargo.toml");
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = d.parent();
    }
    Err(Error::usage(
        format!(
            "could not find Cargo.toml in {} or any parent directory",
            cwd.display()
        ),
        Some(
            "run cargo gate inside a Cargo workspace, or pass --manifest-path PATH/Cargo.toml"
                .to_string(),
        ),
    ))
}

/// The cargo binary to run: `$CARGO` when cargo invoked us, else `cargo` from PATH.
pub fn cargo_bin() -> PathBuf {
    if let Some(cargo) = std::env::var_os("CARGO") {
        return PathBuf::from(cargo);
    }
    // Found on PATH as the shell would, so tests that read `CARGO` (as cargo sets it: an
    // absolute path) can run it.
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("cargo"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("cargo"))
}
