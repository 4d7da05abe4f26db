//! The clock-skew fault's shared library, built from `shim/clock_skew.rs` by `build.rs` and
//! embedded in the binary: written next to the workspace's build output when a fault needs it
//! and preloaded into the restarted service.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The library's bytes (empty where it could not be built).
const SHIM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libcargo_gate_clock.so"));

/// The variable the shim reads its offset from, in nanoseconds.
pub const OFFSET_VAR: &str = "CARGO_GATE_CLOCK_OFFSET_NS";

/// Offsets beyond this are not a clock skew anyone tests for (and would overflow a time_t
/// somewhere).
const MAX_OFFSET: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `offset` (`"+10d"`, `"-90s"`, `"1h30m"`) in nanoseconds, signed.
pub fn parse_offset(offset: &str) -> Result<i64, String> {
    let text = offset.trim();
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let d = crate::util::units::parse_duration(rest.trim())?;
    if d > MAX_OFFSET {
        return Err(format!("the offset `{text}` is more than 100 years"));
    }
    // Within 100 years, nanoseconds fit an i64 (which holds 292 years).
    Ok(sign * d.as_nanos() as i64)
}

/// The shim on disk under `dir` (created if needed), named by its content so different
/// cargo-gate versions never use each other's.
pub fn shim(dir: &Path) -> Result<PathBuf, String> {
    if SHIM.is_empty() {
        return Err(
            "the clock_skew fault is not supported on this platform (it preloads a Linux shared library)"
                .to_string(),
        );
    }
    let hash = SHIM.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    let path = dir.join(format!("libcargo_gate_clock-{hash:016x}.so"));
    if std::fs::read(&path).is_ok_and(|b| b == SHIM) {
        return Ok(path);
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create {} for the clock shim: {e}", dir.display()))?;
    // Written whole under another name, then renamed: a service never loads half a library.
    let partial = dir.join(format!(
        ".libcargo_gate_clock-{}.so.partial",
        std::process::id()
    ));
    std::fs::write(&partial, SHIM)
        .and_then(|()| std::fs::rename(&partial, &path))
        .map_err(|e| format!("cannot write the clock shim to {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_signed_durations() {
        assert_eq!(parse_offset("+10d").unwrap(), 10 * 86_400 * 1_000_000_000);
        assert_eq!(parse_offset("-90s").unwrap(), -90_000_000_000);
        assert_eq!(parse_offset("1h30m").unwrap(), 5_400_000_000_000);
        assert!(parse_offset("@2020-01-01").is_err());
        assert!(parse_offset("+1000y").is_err());
        assert!(parse_offset("").is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_shim_is_embedded_and_written_once() {
        assert!(!SHIM.is_empty(), "build.rs did not build the shim");
        assert_eq!(&SHIM[..4], b"\x7fELF");
        let dir = tempfile::tempdir().unwrap();
        let a = shim(dir.path()).unwrap();
        let b = shim(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(std::fs::read(&a).unwrap(), SHIM);
    }
}
