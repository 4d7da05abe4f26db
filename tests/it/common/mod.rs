//! Helpers for running the real `cargo-gate` binary on the fixture workspaces.
#![allow(dead_code)]

pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture's manifest.
pub fn manifest(fixture: &str) -> PathBuf {
    root().join("fixtures").join(fixture).join("Cargo.toml")
}

/// `cargo-gate` with a per-fixture target dir under our own target/, so fixtures stay clean and
/// builds are shared between tests.
pub fn gate(fixture: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-gate"));
    cmd.env(
        "CARGO_TARGET_DIR",
        root().join("target").join("fixture-builds").join(fixture),
    );
    // Deterministic output: no backtraces, no colours, no GitHub context from the outer CI.
    cmd.env("RUST_BACKTRACE", "0")
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_HEAD_REF")
        .env_remove("GITHUB_BASE_REF");
    cmd
}

/// Runs and returns output, printing it on failure of the caller's assertions.
pub fn output(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("cargo-gate runs");
    eprintln!("--- stdout\n{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("--- stderr\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// `cargo gate run` on a fixture, writing to `out`.
pub fn run(fixture: &str, out: &Path, extra: &[&str]) -> Output {
    let mut cmd = gate(fixture);
    cmd.args(["gate", "run", "--progress", "lines", "--manifest-path"])
        .arg(manifest(fixture))
        .arg("--out-dir")
        .arg(out)
        .args(extra);
    output(&mut cmd)
}

/// Reads a JSON file.
pub fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Status of every case in the tests suite, by id.
pub fn statuses(report: &Value) -> Vec<(String, String)> {
    report["suites"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The case with this id.
pub fn case<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["suites"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

/// The exit code.
pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

/// Stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Replaces everything that varies between runs (times, ids, host, commit) in a report file.
pub fn normalize(path: &Path) -> std::path::PathBuf {
    let mut r = json(path);
    r["run"]["id"] = "RUN".into();
    r["run"]["started"] = "2026-01-01T00:00:00.000Z".into();
    r["run"]["duration"] = 12.5.into();
    r["run"]["host"] = "host".into();
    r["run"]["git"] = serde_json::json!({"sha": "0123456789abcdef0123", "branch": "main"});
    r["tool_version"] = "0.0.0".into();
    // Timing comparisons are covered by tests/baseline.rs with fixed samples.
    if let Some(o) = r.as_object_mut() {
        o.remove("baseline_note");
    }
    r["comparisons"] = serde_json::json!([]);
    for suite in r["suites"].as_array_mut().unwrap() {
        suite["duration"] = 10.0.into();
        if let Some(tests) = suite.pointer_mut("/details/tests") {
            if tests.get("build_duration").is_some() {
                tests["build_duration"] = 2.5.into();
            }
            if tests.get("base").is_some() {
                tests["base"]["commit"] = "0123456789ab".into();
                if tests["base"].get("duration").is_some() {
                    tests["base"]["duration"] = 7.0.into();
                }
            }
        }
        for m in suite["metrics"].as_array_mut().into_iter().flatten() {
            if m["name"] == "tests.duration" {
                m["samples"] = serde_json::json!([7.5]);
            }
        }
        for case in suite["cases"].as_array_mut().unwrap() {
            for a in case["attempts"].as_array_mut().unwrap() {
                a["duration"] = 0.25.into();
            }
        }
    }
    for g in r["gates"].as_array_mut().unwrap() {
        if g["rule"].as_str().unwrap().starts_with("tests.duration") {
            g["observed"] = "10.00s".into();
            g["message"] = "normalized".into();
        }
    }
    let out = path.with_file_name("normalized.json");
    std::fs::write(&out, serde_json::to_string(&r).unwrap()).unwrap();
    out
}

/// Renders a report file with `cargo gate report`.
pub fn rendered(report: &Path, format: &str) -> String {
    let out = output(
        gate("demo")
            .args(["report", "--format", format])
            .arg(report),
    );
    assert_eq!(code(&out), 0);
    stdout(&out)
}

/// insta settings that redact thread ids and libtest timings.
pub fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"thread '([^']+)' \(\d+\)", "thread '$1' (TID)");
    s.add_filter(r"finished in \d+\.\d+s", "finished in TIME");
    // Which frames a backtrace has depends on the toolchain.
    s.add_filter(r"\[\d+ frames of std", "[N frames of std");
    s.add_filter(r"(?m)^  \d+: ", "  N: ");
    // How long a test ran before its timeout killed it: the limit plus the machine's delay.
    s.add_filter(r"timed out after \d+(\.\d+)?m?s", "timed out after [TIME]");
    // Paths that depend on where the project and cargo's registry live.
    let escaped: String = root()
        .display()
        .to_string()
        .chars()
        .flat_map(|c| {
            let meta = "\\.+*?()|[]{}^$#&-~".contains(c);
            meta.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect();
    s.add_filter(&escaped, "[ROOT]");
    s.add_filter(
        r"\S*/registry/src/[^/\s]+/([a-z_-]+)-[0-9][^/\s]*/",
        "[REGISTRY]/$1/",
    );
    s.set_prepend_module_to_snapshot(false);
    s
}

/// A temporary one-package workspace with this gate.toml (for suites that need no tests).
pub fn temp_workspace(gate_toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"scratch\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
    std::fs::write(dir.path().join("gate.toml"), gate_toml).unwrap();
    dir
}

/// Copies `files` (paths relative to `fixtures/NAME`) into `dest`: a fixture that a test may
/// change, or make a git repository of, without touching the checkout.
pub fn copy_fixture(name: &str, files: &[&str], dest: &Path) {
    let src = root().join("fixtures").join(name);
    for rel in files {
        let to = dest.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(src.join(rel), to).unwrap();
    }
}

/// [`temp_workspace`] meant to become a git repository: its build output and lock file are
/// ignored, so `git status` shows only what a test changes.
pub fn git_workspace(gate_toml: &str) -> tempfile::TempDir {
    let dir = temp_workspace(gate_toml);
    write_file(dir.path(), ".gitignore", "target/\nCargo.lock\n");
    dir
}

/// A TLS server (certificate from a throw-away CA) answering `ok`; with `h2`, it offers HTTP/2
/// by ALPN, else only HTTP/1.1. Returns its port and the CA's PEM.
pub async fn tls_server(h2: bool) -> (u16, String) {
    use std::sync::Arc;
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let ca_pem = AsRef::<rcgen::Certificate>::as_ref(&ca).pem();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    config.alpn_protocols = if h2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(
                        http_body_util::Full::new(hyper::body::Bytes::from_static(b"ok")),
                    ))
                });
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await;
            });
        }
    });
    (port, ca_pem)
}

/// Runs git in `dir` with a fixed identity and no signing; returns its trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Writes `text` to `dir/file`, creating directories.
pub fn write_file(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Processes as `(pid, state letter)` whose command line (arguments separated by NUL) satisfies
/// `matches`, read from /proc. Zombies are included with state `Z`.
pub fn processes(matches: impl Fn(&str) -> bool) -> Vec<(i32, char)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let state = stat.rsplit_once(") ")?.1.chars().next()?;
            matches(&String::from_utf8_lossy(&cmdline)).then_some((pid, state))
        })
        .collect()
}

/// The parent and the process group of `pid`, from /proc.
pub fn parent_and_group(pid: i32) -> Option<(i32, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name: state, ppid, pgrp, ...
    let mut fields = stat.rsplit_once(") ")?.1.split(' ').skip(1);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

/// Sends SIGINT to our child cargo-gate and waits (at most 30 s) for it to exit.
pub fn interrupt(child: &mut std::process::Child) -> std::process::ExitStatus {
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("cargo-gate did not stop within 30 s of SIGINT");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Makes `dir` a git repository whose first commit ("base") holds everything in it.
pub fn git_init_commit(dir: &Path) {
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
}

/// `PATH` with cargo-nextest on it: the machine's own when it has one, else one installed once
/// from crates.io (`cargo install --locked`) under the target directory, so the nextest runner
/// is tested on a machine that has only the Rust toolchain.
pub fn path_with_nextest() -> std::ffi::OsString {
    static PATH: std::sync::OnceLock<std::ffi::OsString> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let has = |path: &std::ffi::OsStr| {
            Command::new("cargo")
                .args(["nextest", "--version"])
                .env("PATH", path)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if has(&path) {
            return path;
        }
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("target"));
        let tools = target.join("tools");
        let mut dirs = vec![tools.join("bin")];
        dirs.extend(std::env::split_paths(&path));
        let with_tools = std::env::join_paths(dirs).unwrap();
        if !has(&with_tools) {
            let status = Command::new("cargo")
                .args(["install", "cargo-nextest", "--locked", "--root"])
                .arg(&tools)
                .status()
                .expect("cargo runs");
            assert!(status.success(), "cargo install cargo-nextest failed");
        }
        with_tools
    })
    .clone()
}

/// The HTML report's structure without its style and script: headings, navigation, blocks with
/// their anchors, table heads and rows, toggles, and the case table's data (one row a line);
/// each inline SVG icon as `[icon]`.
pub fn html_outline(html: &str) -> String {
    let mut out = String::new();
    let keep = [
        "<h1",
        "<h2",
        "<nav",
        "<details",
        "<thead",
        "<div class=\"toggles\"",
        "<tr><td",
        "<ul",
    ];
    for line in html.lines() {
        if line.starts_with("<script type=\"application/json\"") {
            let start = line.find('>').unwrap() + 1;
            let end = line.rfind("</script>").unwrap();
            let rows: Vec<serde_json::Value> = serde_json::from_str(&line[start..end]).unwrap();
            for r in rows {
                out.push_str(&format!("data: {r}\n"));
            }
        } else if keep.iter().any(|k| line.starts_with(k)) {
            let mut l = line.to_string();
            while let (Some(a), Some(b)) = (l.find("<svg"), l.find("</svg>")) {
                l.replace_range(a..b + "</svg>".len(), "[icon]");
            }
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
}
