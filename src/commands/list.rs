//! `cargo gate list`: what would run, without running it (the tests are built to be listed).

use std::io::Write;
use std::path::Path;

use super::selection;
use crate::cli::{ListArgs, ListFormat};
use crate::engine::{Prepared, prepare};
use crate::error::{EXIT_PASS, Error, Result};
use crate::exec::process;
use crate::model::SuiteKind;
use crate::suites::{self, Listed, RunContext};

pub fn list(manifest: Option<&Path>, explicit: Option<&Path>, args: ListArgs) -> Result<i32> {
    let Prepared { ws, config, opts } = prepare(
        &selection(manifest, explicit, &args.select),
        &crate::reporter::plain,
    )?;
    process::install_signal_handler();
    let out_dir = ws.out_dir();
    let options = suites::SuiteOptions {
        tests: opts,
        offline: false,
        mutate: Vec::new(),
    };
    let cx = RunContext {
        ws: &ws,
        config: &config,
        every_test: options.tests.selects_every_test(),
        out_dir: &out_dir,
        baseline_rev: None,
        test_env: Vec::new(),
        finished: Vec::new(),
        environment: None,
        events: &crate::reporter::plain,
    };
    let mut entries: Vec<Listed> = Vec::new();
    // The tests are always listed; the other suites when they are configured.
    for e in suites::REGISTRY
        .iter()
        .filter(|e| e.kind == SuiteKind::Tests || (e.enabled)(&config, Some(&ws)))
    {
        let mut listed = (e.build)(&config, &options)?.list(&cx)?;
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
                    ("doctest", false) => "  (skipped: ignored)",
                    ("service" | "check" | "chaos" | "load", _) => "",
                    (_, false) => "  (skipped: ignored)",
                    _ if e.ignored => "  (ignored, runs)",
                    _ => "",
                };
                r = r.and_then(|()| writeln!(out, "{}{mark}", e.id));
            }
            r.and_then(|()| writeln!(out, "{}", totals(&entries)))
        }
    };
    written.map_err(|e| Error::io("cannot write to standard output", e))?;
    Ok(EXIT_PASS)
}

/// `8 tests would run (1 doctest), 1 skipped; also 2 services, 1 check`: the test count is the
/// number of cases `run` reports, a package whose doctests could not be listed counting once.
fn totals(entries: &[Listed]) -> String {
    let is_test = |e: &&Listed| matches!(e.kind, "test" | "doctest" | "doctests");
    let tests: Vec<&Listed> = entries.iter().filter(is_test).collect();
    let runs = tests.iter().filter(|e| e.runs).count();
    let doctests = tests
        .iter()
        .filter(|e| e.runs && e.kind == "doctest")
        .count();
    let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let mut line = format!("{} would run", plural(runs, "test"));
    if doctests > 0 {
        line.push_str(&format!(" ({})", plural(doctests, "doctest")));
    }
    line.push_str(&format!(", {} skipped", tests.len() - runs));
    let mut others: Vec<(&str, usize)> = Vec::new();
    for e in entries.iter().filter(|e| !is_test(e)) {
        match others.iter_mut().find(|(k, _)| *k == e.kind) {
            Some((_, n)) => *n += 1,
            None => others.push((e.kind, 1)),
        }
    }
    if !others.is_empty() {
        let parts: Vec<String> = others
            .iter()
            .map(|(kind, n)| match *kind {
                "chaos" => format!("{n} chaos experiment{}", if *n == 1 { "" } else { "s" }),
                "load" => format!("{n} load scenario{}", if *n == 1 { "" } else { "s" }),
                k => plural(*n, k),
            })
            .collect();
        line.push_str(&format!("; also {}", parts.join(", ")));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &'static str, runs: bool) -> Listed {
        Listed {
            id: "x".to_string(),
            kind,
            ignored: !runs,
            runs,
        }
    }

    #[test]
    fn totals_count_tests_as_the_run_reports_them() {
        let entries = [
            entry("test", true),
            entry("test", false),
            entry("doctest", true),
            entry("doctest", false),
            entry("service", true),
            entry("service", true),
            entry("chaos", true),
        ];
        assert_eq!(
            totals(&entries),
            "2 tests would run (1 doctest), 2 skipped; also 2 services, 1 chaos experiment"
        );
        assert_eq!(
            totals(&[entry("test", true)]),
            "1 test would run, 0 skipped"
        );
    }
}
