//! The action's install script (`scripts/install.sh`) against a local release server: a
//! verified archive is installed, a wrong or missing checksum is refused, a missing release
//! falls back to building from source, and a server error stops without building.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use crate::common::*;

const TARGET: &str = "x86_64-unknown-linux-musl";
const ASSET: &str = "/v9.9.9/cargo-gate-v9.9.9-x86_64-unknown-linux-musl.tar.gz";

/// A release server: path → (status, body, Location). Runs until the test ends.
fn serve(files: BTreeMap<String, (u16, Vec<u8>, Option<String>)>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let files = Arc::new(files);
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let files = Arc::clone(&files);
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match s.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let text = String::from_utf8_lossy(&head).to_string();
                let path = text.split(' ').nth(1).unwrap_or("/").to_string();
                let (status, body, location) =
                    files
                        .get(&path)
                        .cloned()
                        .unwrap_or((404, b"Not Found".to_vec(), None));
                let mut resp = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                if let Some(l) = location {
                    resp.push_str(&format!("Location: {l}\r\n"));
                }
                resp.push_str("\r\n");
                let _ = s.write_all(resp.as_bytes());
                let _ = s.write_all(&body);
            });
        }
    });
    base
}

/// A release archive holding a `cargo-gate` that answers `--version` like the real one, and
/// its checksum line as `sha256sum` prints it.
fn archive(dir: &Path) -> (Vec<u8>, String) {
    let stage = dir.join("stage/cargo-gate-v9.9.9");
    std::fs::create_dir_all(&stage).unwrap();
    write_file(&stage, "cargo-gate", "#!/bin/sh\necho 'cargo-gate 9.9.9'\n");
    let bin = stage.join("cargo-gate");
    let mut perm = std::fs::metadata(&bin).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&bin, perm).unwrap();
    let tgz = dir.join("a.tar.gz");
    let ok = Command::new("tar")
        .args(["-czf"])
        .arg(&tgz)
        .arg("-C")
        .arg(dir.join("stage"))
        .arg("cargo-gate-v9.9.9")
        .status()
        .unwrap();
    assert!(ok.success());
    let sum = Command::new("sha256sum").arg(&tgz).output().unwrap();
    let line = String::from_utf8_lossy(&sum.stdout).to_string();
    let hash = line.split_whitespace().next().unwrap().to_string();
    (
        std::fs::read(&tgz).unwrap(),
        format!("{hash}  cargo-gate-v9.9.9-{TARGET}.tar.gz\n"),
    )
}

fn install(releases: &str, root: &Path, version: &str) -> Output {
    Command::new("bash")
        .arg(root_dir().join("scripts/install.sh"))
        .env("VERSION", version)
        .env("ROOT", root)
        .env("SOURCE", root_dir().join("fixtures/install-source"))
        .env("RELEASES", releases)
        .env("TARGET", TARGET)
        .env(
            "CARGO_TARGET_DIR",
            root_dir().join("target/fixture-builds/install-source"),
        )
        .output()
        .unwrap()
}

fn root_dir() -> std::path::PathBuf {
    crate::common::root()
}

fn installed(root: &Path) -> Option<String> {
    let out = Command::new(root.join("bin/cargo-gate"))
        .arg("--version")
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn a_verified_release_is_installed_through_a_redirect_and_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let (tgz, sum) = archive(tmp.path());
    // GitHub answers release downloads with a redirect to its object storage.
    let files = BTreeMap::from([
        (
            ASSET.to_string(),
            (302, Vec::new(), Some("/objects/a".to_string())),
        ),
        ("/objects/a".to_string(), (200, tgz, None)),
        (format!("{ASSET}.sha256"), (200, sum.into_bytes(), None)),
    ]);
    let base = serve(files);
    let root = tmp.path().join("root");
    let out = install(&base, &root, "v9.9.9");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("sha256 verified"), "{}", stderr(&out));
    assert_eq!(installed(&root).as_deref(), Some("cargo-gate 9.9.9"));
    let again = install(&base, &root, "9.9.9");
    assert!(again.status.success());
    assert!(
        stderr(&again).contains("already installed"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn a_wrong_or_missing_checksum_is_refused_and_nothing_is_installed() {
    let tmp = tempfile::tempdir().unwrap();
    let (tgz, _) = archive(tmp.path());
    let wrong = format!("{}  x.tar.gz\n", "0".repeat(64));
    for (case, sum) in [("wrong", Some(wrong)), ("missing", None)] {
        let mut files = BTreeMap::from([(ASSET.to_string(), (200, tgz.clone(), None))]);
        if let Some(sum) = sum {
            files.insert(format!("{ASSET}.sha256"), (200, sum.into_bytes(), None));
        }
        let root = tmp.path().join(format!("root-{case}"));
        let out = install(&serve(files), &root, "9.9.9");
        assert_eq!(out.status.code(), Some(1), "{case}: {}", stderr(&out));
        let said = stderr(&out);
        assert!(said.contains("refused"), "{case}: {said}");
        assert!(!said.contains("building from source"), "{case}: {said}");
        assert!(
            !root.join("bin/cargo-gate").exists(),
            "{case}: installed anyway"
        );
    }
}

#[test]
fn no_release_for_the_version_builds_from_source() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let out = install(&serve(BTreeMap::new()), &root, "9.9.9");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no release asset cargo-gate-v9.9.9-"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        installed(&root).as_deref(),
        Some("cargo-gate built from source")
    );
}

#[test]
fn a_server_error_stops_without_building() {
    let tmp = tempfile::tempdir().unwrap();
    let files = BTreeMap::from([(ASSET.to_string(), (503, b"busy".to_vec(), None))]);
    let root = tmp.path().join("root");
    let out = install(&serve(files), &root, "9.9.9");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("HTTP 503"), "{}", stderr(&out));
    assert!(!root.join("bin/cargo-gate").exists());
}
