//! `cargo-gate` binary: parse arguments, run, map errors to exit codes.

use clap::Parser;

use cargo_gate::cli::{Cli, normalize_args};
use cargo_gate::error::EXIT_INTERNAL;

fn main() {
    let args = normalize_args(std::env::args_os().collect());
    // clap exits with 2 on usage errors and 0 for --help/--version, as DESIGN.md asks.
    let cli = Cli::parse_from(args);
    let code = match cargo_gate::commands::main(cli) {
        Ok(code) => code,
        Err(e) => {
            // Messages name values from the command line, gate.toml and reports: printed as
            // text, never as terminal controls or workflow commands.
            let log = cargo_gate::util::sanitize::for_log;
            eprintln!("error: {}", log(&e.to_string()));
            if let Some(hint) = e.hint() {
                eprintln!("  help: {}", log(hint));
            }
            if let Some(snippet) =
                cargo_gate::render::diagnostic::snippet(&e, cargo_gate::util::color::stderr())
            {
                eprintln!("{snippet}");
            }
            e.exit_code()
        }
    };
    std::process::exit(if (0..=3).contains(&code) {
        code
    } else {
        EXIT_INTERNAL
    });
}
