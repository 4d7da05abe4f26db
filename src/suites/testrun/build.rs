//! Building test binaries with `cargo test --no-run --message-format=json`, and the environment
//! cargo gives each of them when it runs them.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io::{BufReader, IsTerminal};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::{Message, Package, PackageId, TargetKind, diagnostic::DiagnosticLevel};

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
    /// A `harness = false` target: its own `main`, which may not understand libtest's arguments.
    pub custom_harness: bool,
    /// How its harness takes libtest's arguments (libtest's own until listing learns otherwise).
    pub dialect: super::libtest::Dialect,
    /// The variables cargo sets when it runs this binary (`CARGO_PKG_*`, `OUT_DIR`,
    /// `CARGO_BIN_EXE_*`, the dynamic library path, ...).
    pub env: Vec<(String, OsString)>,
}

/// Why the tests could not be built.
#[derive(Debug, Default)]
pub struct BuildFailure {
    /// The compiler's errors, each once.
    pub errors: Vec<crate::model::CompilerError>,
    /// Why, when the compiler reported no error (an interrupt, cargo's own failure).
    pub reason: Option<String>,
}

impl BuildFailure {
    /// Short lines for messages: the reason, else one line per error.
    pub fn lines(&self) -> Vec<String> {
        match &self.reason {
            Some(r) if self.errors.is_empty() => vec![r.clone()],
            _ => self
                .errors
                .iter()
                .map(crate::model::CompilerError::one_line)
                .collect(),
        }
    }
}

/// The result of the build step.
pub enum BuildResult {
    /// Everything compiled.
    Built {
        /// The test binaries, sorted by id.
        binaries: Vec<TestBinary>,
    },
    /// The compiler reported errors (already shown to the user).
    Failed(BuildFailure),
}

/// Builds every test binary of the selected packages. Compiler diagnostics are printed to stderr
/// as cargo renders them; cargo's own progress lines pass through.
pub fn build(
    ws: &Workspace,
    packages: &[String],
    cargo_args: &[String],
    events: crate::event::Sink<'_>,
) -> Result<BuildResult> {
    Ok(build_with(ws, packages, cargo_args, &[], &BTreeSet::new(), events)?.0)
}

/// [`build`] with variables for cargo (a target directory of its own), also returning the
/// compiler's error diagnostics whole, spans and all (the mutants suite maps them to mutants).
///
/// With `stop_at` (package names) not empty, the build ends as soon as cargo has said it could
/// not compile a target of each of them: the mutants suite wants only the errors of the code
/// it changed, and a library's other target (its unit tests, built beside it) would repeat
/// them after compiling as long or longer, which cargo waits for.
pub fn build_with(
    ws: &Workspace,
    packages: &[String],
    cargo_args: &[String],
    env: &[(String, OsString)],
    stop_at: &BTreeSet<String>,
    events: crate::event::Sink<'_>,
) -> Result<(BuildResult, Vec<cargo_metadata::diagnostic::Diagnostic>)> {
    let specs = package_specs(ws, packages)?;
    let toolchain = std::thread::spawn(toolchain_lib_dirs);
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
    if specs.is_empty() {
        cmd.arg("--workspace");
    } else {
        for p in &specs {
            cmd.arg("--package").arg(p);
        }
    }
    cmd.args(cargo_args);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let watch = !stop_at.is_empty();
    if watch {
        // cargo's stderr passes through a pipe: keep its colours when ours has them.
        if crate::util::color::stderr() && std::env::var_os("CARGO_TERM_COLOR").is_none() {
            cmd.env("CARGO_TERM_COLOR", "always");
        }
        cmd.stderr(Stdio::piped());
    } else {
        cmd.stderr(Stdio::inherit());
    }
    cmd.stdout(Stdio::piped())
        .stdin(Stdio::null())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::io(format!("cannot start `{}`", cargo_bin().display()), e))?;
    let guard = crate::exec::process::ChildGuard::register(&child);
    let watcher = child.stderr.take().map(|stderr| {
        let pid = child.id();
        let names = stop_at.clone();
        std::thread::spawn(move || forward_until_failed(stderr, names, pid))
    });
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::Internal("cargo's stdout was not captured".to_string()))?;
    let mut seen = Seen::default();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        let message = message.map_err(|e| Error::io("cannot read cargo's output", e))?;
        seen.absorb(message, events);
    }
    let status = child
        .wait()
        .map_err(|e| Error::io("cannot wait for cargo", e))?;
    drop(guard);
    if let Some(w) = watcher {
        let _ = w.join();
    }
    let Seen {
        found,
        out_dirs,
        link_paths,
        bin_exes,
        errors,
        diagnostics,
        ..
    } = seen;
    if status.success() {
        let shared = Shared {
            lib_paths: library_path(&link_paths, toolchain.join().unwrap_or_default()),
            target_tmpdir: ws.target_dir.join("tmp"),
        };
        let mut binaries: Vec<TestBinary> = found
            .into_iter()
            .map(|f| f.binary(ws, &shared, &out_dirs, &bin_exes))
            .collect();
        binaries.sort_by(|a, b| a.id.cmp(&b.id));
        Ok((BuildResult::Built { binaries }, diagnostics))
    } else if crate::exec::process::is_cancelled() {
        // Ctrl-C killed cargo: the build did not fail, it was stopped (and the run says so).
        let failure = BuildFailure {
            errors,
            reason: Some("interrupted before the build finished".to_string()),
        };
        Ok((BuildResult::Failed(failure), diagnostics))
    } else {
        let reason = errors
            .is_empty()
            .then(|| format!("`cargo test --no-run` exited with {status} (see its output above)"));
        Ok((
            BuildResult::Failed(BuildFailure { errors, reason }),
            diagnostics,
        ))
    }
}

/// Copies cargo's stderr to ours, line by line, and kills cargo's process group once it has
/// said `could not compile `NAME`` of every package of `names`.
fn forward_until_failed(stderr: std::process::ChildStderr, mut names: BTreeSet<String>, pid: u32) {
    use std::io::{BufRead, Write};
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
        let _ = std::io::stderr().write_all(&line);
        if !names.is_empty()
            && let Some(name) = could_not_compile(&String::from_utf8_lossy(&line))
        {
            names.remove(&name);
            if names.is_empty() {
                crate::exec::process::kill_group(pid);
            }
        }
        line.clear();
    }
}

/// The package of cargo's `error: could not compile `NAME` (lib) due to …` line, colours
/// and all.
fn could_not_compile(line: &str) -> Option<String> {
    let plain = crate::util::sanitize::strip_controls(line, false);
    let rest = plain
        .trim_start()
        .strip_prefix("error: could not compile `")?;
    Some(rest.split_once('`')?.0.to_string())
}

/// What cargo's messages said while it built.
#[derive(Default)]
struct Seen {
    /// The test executables.
    found: Vec<Found>,
    /// Each package's build-script `OUT_DIR`.
    out_dirs: BTreeMap<PackageId, PathBuf>,
    /// Native library directories build scripts asked to link from.
    link_paths: BTreeSet<PathBuf>,
    /// Binary targets, for `CARGO_BIN_EXE_<name>`.
    bin_exes: BTreeMap<PackageId, Vec<(String, PathBuf)>>,
    /// Compiler errors, each once (a library's error is reported for its lib and its lib-test
    /// target alike).
    errors: Vec<crate::model::CompilerError>,
    /// The compiler's messages already shown, for the same reason.
    shown: BTreeSet<String>,
    /// Every error diagnostic, whole.
    diagnostics: Vec<cargo_metadata::diagnostic::Diagnostic>,
}

impl Seen {
    fn absorb(&mut self, message: Message, events: crate::event::Sink<'_>) {
        match message {
            Message::CompilerArtifact(artifact) => {
                let Some(exe) = artifact.executable else {
                    return;
                };
                if !artifact.profile.test {
                    // A binary target: integration tests find it by CARGO_BIN_EXE_<name>.
                    if artifact.target.kind.contains(&TargetKind::Bin) {
                        self.bin_exes
                            .entry(artifact.package_id.clone())
                            .or_default()
                            .push((artifact.target.name.clone(), exe.into_std_path_buf()));
                    }
                    return;
                }
                self.found.push(Found {
                    package_id: artifact.package_id.clone(),
                    target: artifact.target.name.clone(),
                    kinds: artifact.target.kind.clone(),
                    path: exe.into_std_path_buf(),
                });
            }
            Message::BuildScriptExecuted(script) => {
                self.out_dirs.insert(
                    script.package_id.clone(),
                    script.out_dir.into_std_path_buf(),
                );
                for p in &script.linked_paths {
                    // `native=`, `dependency=`, `all=` ... prefixes name a kind, not a path.
                    let text = p.as_str();
                    let path = text.split_once('=').map_or(text, |(_, p)| p);
                    self.link_paths.insert(PathBuf::from(path));
                }
            }
            Message::CompilerMessage(msg) => {
                if let Some(rendered) = &msg.message.rendered
                    && self.shown.insert(rendered.clone())
                {
                    events(&crate::event::Event::CompilerMessage { rendered });
                }
                if matches!(
                    msg.message.level,
                    DiagnosticLevel::Error | DiagnosticLevel::Ice
                ) {
                    self.diagnostics.push(msg.message.clone());
                    let error = compiler_error(&msg);
                    // The same error of a library comes for its lib and lib-test targets.
                    let same = |e: &crate::model::CompilerError| {
                        (&e.file, e.line, e.col, &e.message)
                            == (&error.file, error.line, error.col, &error.message)
                    };
                    if !self.errors.iter().any(same) {
                        self.errors.push(error);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Lines of rustc's rendering kept in the report: the error, its source lines and notes; an
/// error that explains at length (a trait bound's candidates) is cut with a note.
const RENDERED_LINES: usize = 40;

fn compiler_error(msg: &cargo_metadata::CompilerMessage) -> crate::model::CompilerError {
    let primary = msg.message.spans.iter().find(|s| s.is_primary);
    let rendered = msg
        .message
        .rendered
        .as_deref()
        .map(|r| anstream::adapter::strip_str(r).to_string())
        .unwrap_or_default();
    let lines: Vec<&str> = rendered.trim_end().lines().collect();
    let rendered = if lines.len() > RENDERED_LINES {
        format!(
            "{}\n[... {} more lines in cargo's output ...]",
            lines[..RENDERED_LINES].join("\n"),
            lines.len() - RENDERED_LINES
        )
    } else {
        lines.join("\n")
    };
    crate::model::CompilerError {
        target: msg.target.name.clone(),
        message: msg.message.message.clone(),
        file: primary.map(|s| s.file_name.clone()),
        line: primary.and_then(|s| u32::try_from(s.line_start).ok()),
        col: primary.and_then(|s| u32::try_from(s.column_start).ok()),
        rendered,
    }
}

/// A test executable from the build, before its environment is known.
struct Found {
    package_id: PackageId,
    target: String,
    kinds: Vec<TargetKind>,
    path: PathBuf,
}

/// What every test binary of a build shares.
struct Shared {
    lib_paths: Vec<PathBuf>,
    target_tmpdir: PathBuf,
}

impl Found {
    fn binary(
        self,
        ws: &Workspace,
        shared: &Shared,
        out_dirs: &BTreeMap<PackageId, PathBuf>,
        bin_exes: &BTreeMap<PackageId, Vec<(String, PathBuf)>>,
    ) -> TestBinary {
        let member = ws.members.iter().find(|p| p.id == self.package_id);
        let package_dir = member
            .and_then(|p| p.manifest_path.parent())
            .map(|p| p.as_std_path().to_path_buf())
            .unwrap_or_else(|| ws.root.clone());
        let package = member.map_or_else(|| self.target.clone(), |p| p.name.to_string());
        let kind = self.kinds.first().cloned();
        let custom_harness = member.is_some_and(|p| {
            matches!(kind, Some(TargetKind::Test | TargetKind::Bench))
                && custom_harness_targets(p).contains(&self.target)
        });
        let mut env: Vec<(String, OsString)> = Vec::new();
        let mut set = |k: &str, v: OsString| env.push((k.to_string(), v));
        set("CARGO", cargo_bin().into_os_string());
        set("CARGO_MANIFEST_DIR", package_dir.clone().into_os_string());
        set(
            "CARGO_MANIFEST_PATH",
            package_dir.join("Cargo.toml").into_os_string(),
        );
        set("CARGO_CRATE_NAME", self.target.replace('-', "_").into());
        if let Some(p) = member {
            for (k, v) in package_vars(p) {
                set(k, v.into());
            }
        }
        if kind == Some(TargetKind::Bin) {
            set("CARGO_BIN_NAME", self.target.clone().into());
        }
        if matches!(kind, Some(TargetKind::Test | TargetKind::Bench)) {
            set(
                "CARGO_TARGET_TMPDIR",
                shared.target_tmpdir.clone().into_os_string(),
            );
            for (name, exe) in bin_exes.get(&self.package_id).into_iter().flatten() {
                set(
                    &format!("CARGO_BIN_EXE_{name}"),
                    exe.clone().into_os_string(),
                );
            }
        }
        if let Some(out) = out_dirs.get(&self.package_id) {
            set("OUT_DIR", out.clone().into_os_string());
        }
        // As cargo orders it: the profile and deps directories (dylib and proc-macro
        // dependencies), the build scripts' native search paths, the toolchain's libraries, then
        // whatever the user had.
        let mut dirs: Vec<OsString> = Vec::new();
        if let Some(deps) = self.path.parent() {
            if let Some(profile_dir) = deps.parent() {
                dirs.push(profile_dir.as_os_str().to_os_string());
            }
            dirs.push(deps.as_os_str().to_os_string());
        }
        dirs.extend(shared.lib_paths.iter().map(|p| p.clone().into_os_string()));
        if let Some(existing) = std::env::var_os(LIBRARY_PATH) {
            dirs.push(existing);
        }
        set(LIBRARY_PATH, dirs.join(&OsString::from(":")));
        TestBinary {
            id: binary_id(&package, &self.target, &self.kinds),
            package,
            package_dir,
            crate_name: self.target.replace('-', "_"),
            path: self.path,
            custom_harness,
            dialect: super::libtest::Dialect::default(),
            env,
        }
    }
}

/// The dynamic library search path variable.
const LIBRARY_PATH: &str = "LD_LIBRARY_PATH";

/// The `CARGO_PKG_*` variables of a package, as cargo sets them.
pub fn package_vars(p: &Package) -> Vec<(&'static str, String)> {
    let v = &p.version;
    let text = |o: &Option<String>| o.clone().unwrap_or_default();
    let path = |o: &Option<cargo_metadata::camino::Utf8PathBuf>| {
        o.as_ref().map(|p| p.to_string()).unwrap_or_default()
    };
    vec![
        ("CARGO_PKG_NAME", p.name.to_string()),
        ("CARGO_PKG_VERSION", v.to_string()),
        ("CARGO_PKG_VERSION_MAJOR", v.major.to_string()),
        ("CARGO_PKG_VERSION_MINOR", v.minor.to_string()),
        ("CARGO_PKG_VERSION_PATCH", v.patch.to_string()),
        ("CARGO_PKG_VERSION_PRE", v.pre.to_string()),
        ("CARGO_PKG_AUTHORS", p.authors.join(":")),
        ("CARGO_PKG_DESCRIPTION", text(&p.description)),
        ("CARGO_PKG_HOMEPAGE", text(&p.homepage)),
        ("CARGO_PKG_REPOSITORY", text(&p.repository)),
        ("CARGO_PKG_LICENSE", text(&p.license)),
        ("CARGO_PKG_LICENSE_FILE", path(&p.license_file)),
        (
            "CARGO_PKG_RUST_VERSION",
            p.rust_version
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ),
        ("CARGO_PKG_README", path(&p.readme)),
    ]
}

/// Names of the `[[test]]` and `[[bench]]` targets of a member with `harness = false`: cargo's
/// metadata does not say, the manifest does.
fn custom_harness_targets(p: &Package) -> BTreeSet<String> {
    let Ok(text) = std::fs::read_to_string(p.manifest_path.as_std_path()) else {
        return BTreeSet::new();
    };
    let Ok(manifest) = text.parse::<toml::Table>() else {
        return BTreeSet::new();
    };
    ["test", "bench"]
        .iter()
        .filter_map(|section| manifest.get(*section)?.as_array())
        .flatten()
        .filter(|t| t.get("harness").and_then(toml::Value::as_bool) == Some(false))
        .filter_map(|t| Some(t.get("name")?.as_str()?.to_string()))
        .collect()
}

/// The search path test binaries need beyond their deps directory: the build scripts' native
/// paths and the toolchain's own libraries.
fn library_path(link_paths: &BTreeSet<PathBuf>, toolchain: Vec<PathBuf>) -> Vec<PathBuf> {
    link_paths.iter().cloned().chain(toolchain).collect()
}

/// The toolchain's library directories (proc-macro tests link libstd dynamically): the target
/// libdir and the sysroot's `lib`, from one `rustc --print` (started beside the build, so it
/// adds nothing to a run's time).
fn toolchain_lib_dirs() -> Vec<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut cmd = Command::new(&rustc);
    cmd.args(["--print", "target-libdir", "--print", "sysroot"]);
    let Ok(o) = crate::exec::process::output(cmd, Some(std::time::Duration::from_secs(60))) else {
        return Vec::new();
    };
    if !o.success() {
        return Vec::new();
    }
    let printed = o.stdout_text();
    let mut lines = printed.lines().map(str::trim).filter(|l| !l.is_empty());
    let libdir = lines.next().map(PathBuf::from);
    let sysroot_lib = lines.next().map(|s| Path::new(s).join("lib"));
    libdir.into_iter().chain(sysroot_lib).collect()
}

/// Every selected member as a package id spec, which cargo reads without ambiguity even when
/// a member shares its name with a crate in the lock file. `name` and `name@version` are
/// accepted; an unknown one is a usage error listing the members.
pub fn package_specs(ws: &Workspace, packages: &[String]) -> Result<Vec<String>> {
    packages
        .iter()
        .map(|p| {
            ws.member(p).map(|m| m.id.repr.clone()).ok_or_else(|| {
                let names: Vec<&str> = ws.members.iter().map(|m| m.name.as_str()).collect();
                let hint = match crate::util::suggest::closest(p, &names) {
                    Some(c) => format!(
                        "did you mean `{c}`? workspace members: {}",
                        names.join(", ")
                    ),
                    None => format!("workspace members: {}", names.join(", ")),
                };
                Error::usage(
                    format!("package `{p}` is not a member of the workspace"),
                    Some(hint),
                )
            })
        })
        .collect()
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

    #[test]
    fn cargo_s_failure_line_names_its_package_coloured_or_not() {
        let plain = "error: could not compile `regex-syntax` (lib) due to 4 previous errors\n";
        assert_eq!(could_not_compile(plain).as_deref(), Some("regex-syntax"));
        let coloured = "\x1b[1m\x1b[91merror\x1b[0m\x1b[1m:\x1b[0m could not compile `a_b` (lib test) \
                        due to 1 previous error; 1 warning emitted\n";
        assert_eq!(could_not_compile(coloured).as_deref(), Some("a_b"));
        for other in [
            "warning: build failed, waiting for other jobs to finish...\n",
            "error[E0277]: the trait bound `Opaque: Default` is not satisfied\n",
            "error: could not compile `unterminated\n",
        ] {
            assert_eq!(could_not_compile(other), None, "{other}");
        }
    }
}
