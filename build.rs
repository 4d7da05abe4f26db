//! Builds the clock-skew shim (`shim/clock_skew.rs`) into a shared library that the binary
//! embeds, so the `clock_skew` fault needs no system package. Only for Linux targets; where it
//! cannot be built, an empty file is embedded and the fault says it is unsupported.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=shim/clock_skew.rs");
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let lib = out.join("libcargo_gate_clock.so");
    let target = std::env::var("TARGET").unwrap_or_default();
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let built = linux
        && {
            let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
            let mut cmd = Command::new(rustc);
            cmd.args([
                "--edition",
                "2024",
                "--crate-type",
                "cdylib",
                "--crate-name",
                "cargo_gate_clock",
                "-C",
                "panic=abort",
                "-C",
                "opt-level=2",
                "-C",
                "strip=symbols",
                "-l",
                "dylib=c",
            ]);
            if !target.is_empty() {
                cmd.args(["--target", &target]);
            }
            if let Some(linker) = std::env::var_os(format!(
                "CARGO_TARGET_{}_LINKER",
                target.to_uppercase().replace('-', "_")
            )) {
                cmd.arg("-C")
                    .arg(format!("linker={}", linker.to_string_lossy()));
            }
            cmd.arg("shim/clock_skew.rs").arg("-o").arg(&lib);
            match cmd.status() {
                Ok(s) if s.success() => true,
                Ok(s) => {
                    println!(
                        "cargo:warning=the clock-skew shim did not build ({s}); the clock_skew fault will be unsupported"
                    );
                    false
                }
                Err(e) => {
                    println!(
                        "cargo:warning=cannot run rustc for the clock-skew shim ({e}); the clock_skew fault will be unsupported"
                    );
                    false
                }
            }
        };
    if !built {
        std::fs::write(&lib, b"").expect("OUT_DIR is writable");
    }
}
