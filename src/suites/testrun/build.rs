//! Building test binaries with `cargo test --no-run --message-format=json`.

use std::io::{BufReader, IsTerminal};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use cargo_metadata::{Message, TargetKind, diagnostic::DiagnosticLevel};

use crate::error::{Error, Result};
use crate::workspace::{Workspace, cargo_bin};

/// A compiled test harness binary.
#[derive(Debug, Clone)]
pub struct TestBinary {
    /// `pkg`, `pkg::bin/name`, `pkg::it_name`, `pkg::bench/name`, `pkg::example/name`.
    pub id: String,
    /// Package name.
    pub package: String,
    /// Directory of the package's Cargo.toml: the working directory of its tests.
    pub package_dir: PathBuf,
    /// Name of the crate target, for `CARGO_CRATE_NAME`.
    pub crate_name: String,
    /// The executable.
    pub path: PathBuf,
}

/// The result of the build step.
pub enum BuildResult {
    /// Everything compiled.
    Built(Vec<TestBinary>),
    /// The compiler reported errors (already shown to the user).
    Failed {
        /// Short error lines for the report (`file:line: message`).
        errors: Vec<String>,
    },
}

/// Builds every test binary of the selected packages. Compiler diagnostics are printed to stderr
/// as cargo renders them; cargo's own progress lines pass through.
pub fn build(ws: &Workspace, packages: &[String], cargo_args: &[String]) -> Result<BuildResult> {
    let format = if std::io::stderr().is_terminal() {
        "json-diagnostic-rendered-ansi"
    } else {
        "json"
    };
    let mut cmd = Command::new(cargo_bin());
    cmd.arg("test")
        .arg("--no-run")
        .arg(format!("--message-format={format}"))
        .arg("--manifest-path")
        .arg(&ws.manifest_path);
    if packages.is_empty() {
        cmd.arg("--workspace");
    } else {
        for p in packages {
            cmd.arg("--package").arg(p);
        }
    }
    cmd.args(cargo_args);
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .stdin(Stdio::null())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::io(format!("cannot start `{}`", cargo_bin().display()), e))?;
    let guard = crate::exec::process::ChildGuard::register(&child);
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::Internal("cargo's stdout was not captured".to_string()))?;
    let mut binaries = Vec::new();
    let mut errors = Vec::new();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        let message = match message {
            Ok(m) => m,
            Err(e) => return Err(Error::io("cannot read cargo's output", e)),
        };
        match message {
            Message::CompilerArtifact(artifact) => {
                let Some(exe) = artifact.executable else {
                    continue;
                };
                if !artifact.profile.test {
                    continue;
                }
                let package_dir = artifact
                    .manifest_path
                    .parent()
                    .map(|p| p.as_std_path().to_path_buf())
                    .unwrap_or_else(|| ws.root.clone());
                let package = ws
                    .members
                    .iter()
                    .find(|p| p.id == artifact.package_id)
                    .map(|p| p.name.to_string())
                    .unwrap_or_else(|| artifact.target.name.clone());
                let id = binary_id(&package, &artifact.target.name, &artifact.target.kind);
                binaries.push(TestBinary {
                    id,
                    package,
                    package_dir,
                    crate_name: artifact.target.name.replace('-', "_"),
                    path: exe.into_std_path_buf(),
                });
            }
            Message::CompilerMessage(msg) => {
                if let Some(rendered) = &msg.message.rendered {
                    eprint!("{rendered}");
                }
                if matches!(
                    msg.message.level,
                    DiagnosticLevel::Error | DiagnosticLevel::Ice
                ) {
                    let at = msg
                        .message
                        .spans
                        .iter()
                        .find(|s| s.is_primary)
                        .map(|s| format!("{}:{}: ", s.file_name, s.line_start))
                        .unwrap_or_default();
                    errors.push(format!("{}: {at}{}", msg.target.name, msg.message.message));
                }
            }
            _ => {}
        }
    }
    let status = child
        .wait()
        .map_err(|e| Error::io("cannot wait for cargo", e))?;
    drop(guard);
    if status.success() {
        binaries.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(BuildResult::Built(binaries))
    } else {
        if errors.is_empty() {
            errors.push(format!(
                "`cargo test --no-run` exited with {status} (see its output above)"
            ));
        }
        Ok(BuildResult::Failed { errors })
    }
}

/// nextest-style binary ids: the library's tests are `pkg`, others are qualified by kind.
fn binary_id(package: &str, target: &str, kinds: &[TargetKind]) -> String {
    let kind = kinds.first();
    match kind {
        Some(TargetKind::Bin) => format!("{package}::bin/{target}"),
        Some(TargetKind::Test) => format!("{package}::{target}"),
        Some(TargetKind::Bench) => format!("{package}::bench/{target}"),
        Some(TargetKind::Example) => format!("{package}::example/{target}"),
        _ => package.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_ids_follow_nextest() {
        assert_eq!(binary_id("p", "p", &[TargetKind::Lib]), "p");
        assert_eq!(binary_id("p", "cli", &[TargetKind::Bin]), "p::bin/cli");
        assert_eq!(binary_id("p", "it", &[TargetKind::Test]), "p::it");
        assert_eq!(binary_id("p", "b", &[TargetKind::Bench]), "p::bench/b");
    }
}
