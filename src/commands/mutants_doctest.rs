//! `cargo-gate mutants-doctest SPEC PROGRAM ARGS…` (hidden): cargo's runner for a compiled
//! doctest during a mutants run (see `suites::mutants::doctests`). It prints and exits as the
//! doctest did without mutants, so rustdoc reports that run as usual.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use crate::error::Result;

pub fn mutants_doctest(spec: &Path, program: &Path, args: &[OsString]) -> Result<i32> {
    match crate::suites::mutants::doctests::runner(spec, program, args) {
        Ok((code, output)) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(output.as_bytes());
            let _ = out.flush();
            // The doctest's own code, exactly (rustdoc reads a should_panic doctest's), which
            // the usual exit-code mapping of cargo-gate's commands would change.
            std::process::exit(code)
        }
        Err(why) => {
            eprintln!(
                "cargo-gate mutants-doctest: {}",
                crate::util::sanitize::for_log(&why)
            );
            Ok(101)
        }
    }
}
