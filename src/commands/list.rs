//! `cargo gate list`: what would run, without running it (the tests are built to be listed).

use std::io::Write;
use std::path::Path;

use super::{Prepared, prepare};
use crate::cli::{ListArgs, ListFormat};
use crate::error::{EXIT_PASS, Error, Result};
use crate::exec::process;
use crate::model::SuiteKind;
use crate::suites::{self, Listed, RunContext};

pub fn list(manifest: Option<&Path>, explicit: Option<&Path>, args: ListArgs) -> Result<i32> {
    let Prepared { ws, config, opts } = prepare(manifest, explicit, &args.select)?;
    process::install_signal_handler();
    let out_dir = ws.out_dir();
    let cx = RunContext {
        ws: &ws,
        config: &config,
        select: &opts,
        out_dir: &out_dir,
        baseline_rev: None,
        paired: None,
        test_env: Vec::new(),
        finished: Vec::new(),
        environment: None,
        events: &suites::no_events,
    };
    let mut entries: Vec<Listed> = Vec::new();
    // The tests are always listed; the other suites when they are configured.
    for e in suites::REGISTRY
        .iter()
        .filter(|e| e.kind == SuiteKind::Tests || (e.enabled)(&config, Some(&ws)))
    {
        let mut listed = (e.build)(&config)?.list(&cx)?;
        if e.kind == SuiteKind::Tests {
            listed.sort_by(|a, b| a.id.cmp(&b.id));
        }
        entries.extend(listed);
    }
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        ListFormat::Json => serde_json::to_string(&entries)
            .map_err(std::io::Error::other)
            .and_then(|json| writeln!(out, "{json}")),
        ListFormat::Human => {
            let mut r = Ok(());
            for e in &entries {
                let mark = match (e.kind, e.runs) {
                    ("doctests", _) => "  (all doctests of the package)",
                    ("service" | "check" | "chaos" | "load", _) => "",
                    (_, false) => "  (skipped: ignored)",
                    _ if e.ignored => "  (ignored, runs)",
                    _ => "",
                };
                r = r.and_then(|()| writeln!(out, "{}{mark}", e.id));
            }
            let runs = entries.iter().filter(|e| e.runs).count();
            let skipped = entries.len() - runs;
            r.and_then(|()| writeln!(out, "{runs} unit(s) would run, {skipped} skipped"))
        }
    };
    written.map_err(|e| Error::io("cannot write to standard output", e))?;
    Ok(EXIT_PASS)
}
