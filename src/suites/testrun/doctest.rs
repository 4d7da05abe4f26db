//! Doctests: one `cargo test --doc` for every selected package, selected as the build selected
//! them (`--workspace`, or the same `--package` specs), so cargo resolves features exactly as
//! `cargo test --workspace` did and compiles nothing it did not — a call per package resolved
//! each package's features alone and built its dependencies again with other feature sets.
//! The output is split at cargo's `Doc-tests <crate>` headers and each doctest becomes a case
//! of its package.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use super::RunOptions;
use super::libtest::{LineOutcome, failure_section, parse_panic, parse_result_lines};
use crate::config::TestsConfig;
use crate::exec::process::{self, Exit, Limits};
use crate::model::{Attempt, Case, CaseStatus};
use crate::workspace::{Workspace, cargo_bin};

/// Doctest batches can include compiling every doctest, so they get a generous floor.
const BATCH_TIMEOUT_FLOOR: Duration = Duration::from_secs(600);

/// A package whose doctests run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocPackage {
    /// The package's name, for case ids (`<name>::doc <doctest>`).
    pub name: String,
    /// Its library's crate name, as cargo's `Doc-tests <crate>` header names it.
    pub crate_name: String,
}

impl DocPackage {
    /// The binary id its cases carry.
    pub fn binary(&self) -> String {
        format!("{}::doc", self.name)
    }
}

/// `cargo test --doc --no-fail-fast` with the build's selection, up to and including the `--`
/// before libtest's own arguments.
fn command(ws: &Workspace, cfg: &TestsConfig, opts: &RunOptions) -> Result<Command, String> {
    let mut cmd = Command::new(cargo_bin());
    cmd.arg("test")
        .arg("--doc")
        .arg("--no-fail-fast")
        .arg("--manifest-path")
        .arg(&ws.manifest_path);
    if opts.packages.is_empty() {
        cmd.arg("--workspace");
    } else {
        for spec in super::build::package_specs(ws, &opts.packages).map_err(|e| e.to_string())? {
            cmd.arg("--package").arg(spec);
        }
    }
    cmd.args(&cfg.cargo_args)
        .env("CARGO_TERM_COLOR", "never")
        .envs(&cfg.env)
        .arg("--");
    Ok(cmd)
}

/// libtest's selection arguments: filters, `--exact`, `--skip`.
fn selection_args(cmd: &mut Command, opts: &RunOptions) {
    cmd.args(&opts.filters);
    if opts.exact {
        cmd.arg("--exact");
    }
    for s in &opts.skip {
        cmd.arg("--skip").arg(s);
    }
}

/// The output of one invocation split at cargo's `Doc-tests <crate>` headers: each package's
/// part, by package name. Text before the first header (cargo's own lines) is not a package's.
fn sections<'a>(output: &'a str, packages: &[DocPackage]) -> BTreeMap<String, &'a str> {
    let norm = |s: &str| s.replace('-', "_");
    let mut found = BTreeMap::new();
    let mut current: Option<(String, usize)> = None;
    let mut offset = 0;
    for line in output.split_inclusive('\n') {
        if let Some(name) = line.trim().strip_prefix("Doc-tests ") {
            if let Some((pkg, start)) = current.take() {
                found.insert(pkg, &output[start..offset]);
            }
            current = packages
                .iter()
                .find(|p| norm(&p.crate_name) == norm(name.trim()))
                .map(|p| (p.name.clone(), offset + line.len()));
        }
        offset += line.len();
    }
    if let Some((pkg, start)) = current {
        found.insert(pkg, &output[start..]);
    }
    found
}

/// The doctests of the packages, as `(package, name, marked ignore)`, for `list`: rustdoc
/// collects them (with merged doctests, edition 2024, it compiles them to list them). `Err`
/// says why they could not be listed.
pub fn list(
    ws: &Workspace,
    packages: &[DocPackage],
    cfg: &TestsConfig,
    opts: &RunOptions,
) -> Result<Vec<(String, String, bool)>, String> {
    let names = |ignored: bool| -> Result<BTreeMap<String, Vec<String>>, String> {
        let mut cmd = command(ws, cfg, opts)?;
        cmd.args(["--list", "--format", "terse"]);
        selection_args(&mut cmd, opts);
        if ignored {
            cmd.arg("--ignored");
        }
        let limits = Limits {
            tail_bytes: 16 * 1024 * 1024,
            slow: None,
            timeout: Some(BATCH_TIMEOUT_FLOOR),
        };
        let out = process::run(cmd, &limits).map_err(|e| e.to_string())?;
        let text = out.output_text();
        if out.exit != Exit::Code(0) {
            return Err(text
                .lines()
                .find(|l| l.trim_start().starts_with("error"))
                .unwrap_or("`cargo test --doc -- --list` failed")
                .trim()
                .to_string());
        }
        Ok(sections(&text, packages)
            .into_iter()
            .map(|(pkg, part)| {
                let names = part
                    .lines()
                    .filter_map(|l| l.strip_suffix(": test"))
                    .map(str::to_string)
                    .collect();
                (pkg, names)
            })
            .collect())
    };
    let all = names(false)?;
    let ignored = names(true)?;
    let mut out = Vec::new();
    for (pkg, tests) in all {
        let marked = ignored.get(&pkg);
        for n in tests {
            let is_ignored = marked.is_some_and(|m| m.contains(&n));
            out.push((pkg.clone(), n, is_ignored));
        }
    }
    Ok(out)
}

/// Runs the doctests of the packages in one invocation and returns one case per doctest.
pub fn run(
    ws: &Workspace,
    packages: &[DocPackage],
    cfg: &TestsConfig,
    opts: &RunOptions,
) -> Vec<Case> {
    let failed_all = |status: CaseStatus, secs: f64, message: String, output: String| {
        packages
            .iter()
            .map(|p| batch_case(p, status, secs, message.clone(), output.clone()))
            .collect::<Vec<_>>()
    };
    let mut cmd = match command(ws, cfg, opts) {
        Ok(c) => c,
        Err(e) => return failed_all(CaseStatus::Failed, 0.0, e, String::new()),
    };
    selection_args(&mut cmd, opts);
    cmd.args(super::ignored_arg(cfg.run_ignored));
    let limits = Limits {
        tail_bytes: 8 * 1024 * 1024,
        slow: None,
        timeout: cfg.timeout.map(|t| t.max(BATCH_TIMEOUT_FLOOR)),
    };
    let outcome = match process::run(cmd, &limits) {
        Ok(o) => o,
        Err(e) => {
            return failed_all(
                CaseStatus::Failed,
                0.0,
                format!("cannot start `cargo test --doc`: {e}"),
                String::new(),
            );
        }
    };
    let secs = outcome.duration.as_secs_f64();
    if outcome.exit == Exit::Interrupted {
        return failed_all(
            CaseStatus::Skipped,
            secs,
            super::INTERRUPTED_WHILE_RUNNING.to_string(),
            String::new(),
        );
    }
    let output = outcome.output_text();
    let parts = sections(&output, packages);
    let mut cases = Vec::new();
    for p in packages {
        let part = parts.get(&p.name).copied().unwrap_or("");
        let lines = parse_result_lines(part);
        if !lines.is_empty() {
            cases.extend(doctest_cases(p, part, lines, cfg, secs));
            continue;
        }
        // Nothing of this package ran: it has no doctests, or rustdoc (or cargo, before any
        // package) failed first.
        let failed = match outcome.exit {
            Exit::Code(0) => None,
            Exit::TimedOut => Some((
                CaseStatus::TimedOut,
                "the doctest batch timed out".to_string(),
            )),
            _ if parts.contains_key(&p.name) || parts.is_empty() => Some((
                CaseStatus::Failed,
                // cargo's own first error says why (an ambiguous package, a build error).
                match part
                    .lines()
                    .chain(output.lines())
                    .find(|l| l.trim_start().starts_with("error"))
                {
                    Some(e) => format!(
                        "`cargo test --doc` failed before running any doctest: {}",
                        e.trim()
                    ),
                    None => "`cargo test --doc` failed before running any doctest".to_string(),
                },
            )),
            _ => None,
        };
        if let Some((status, message)) = failed {
            let text = if part.is_empty() {
                output.as_str()
            } else {
                part
            };
            cases.push(batch_case(
                p,
                status,
                secs,
                message,
                tail(text, cfg.output_tail),
            ));
        }
    }
    cases
}

/// The cases of one package's doctests from its part of the output. rustdoc times a package's
/// doctests as a whole (compiling them included), not each one: each gets an equal share of
/// the part's own `finished in` time (else of the whole invocation's), marked as such.
fn doctest_cases(
    p: &DocPackage,
    part: &str,
    lines: Vec<super::libtest::ResultLine>,
    cfg: &TestsConfig,
    whole: f64,
) -> Vec<Case> {
    let binary = p.binary();
    let ran = lines
        .iter()
        .filter(|l| !matches!(l.outcome, LineOutcome::Ignored))
        .count();
    let secs = finished_in(part).unwrap_or(whole);
    let share = secs / ran.max(1) as f64;
    lines
        .into_iter()
        .map(|l| {
            let status = match l.outcome {
                LineOutcome::Ok => CaseStatus::Passed,
                LineOutcome::Failed => CaseStatus::Failed,
                LineOutcome::Ignored => CaseStatus::Skipped,
            };
            let id = format!("{binary} {}", l.name);
            let section = failure_section(part, &l.name).unwrap_or("");
            let (message, location) = match status {
                CaseStatus::Failed => match parse_panic(section) {
                    Some((m, loc)) => (Some(m), loc),
                    None => (Some(first_error_line(section)), None),
                },
                CaseStatus::Skipped => (Some("ignored".to_string()), None),
                _ => (None, None),
            };
            // A doctest runs once: one attempt.
            let status = if status == CaseStatus::Failed {
                cfg.quarantine_failure(&id, &l.name, 1).apply(status).0
            } else {
                status
            };
            Case {
                id,
                name: l.name,
                package: Some(p.name.clone()),
                binary: Some(binary.clone()),
                status,
                attempts: if status == CaseStatus::Skipped {
                    Vec::new()
                } else {
                    vec![Attempt {
                        shared: true,
                        status: if status == CaseStatus::Passed {
                            CaseStatus::Passed
                        } else {
                            CaseStatus::Failed
                        },
                        duration: share,
                        output_tail: if status == CaseStatus::Passed {
                            String::new()
                        } else {
                            tail(section, cfg.output_tail)
                        },
                    }]
                },
                location,
                message,
                detail: None,
                regions: Vec::new(),
                diff: Vec::new(),
                history: None,
            }
        })
        .collect()
}

/// How long a package's doctests took, from its part of the output, in seconds: rustdoc's
/// `all doctests ran in 1.23s; merged doctests compilation took …` for merged doctests
/// (edition 2024: libtest's own `finished in` leaves the compilation out), else the
/// `test result: … finished in 1.23s` line (each doctest compiled as it runs).
fn finished_in(part: &str) -> Option<f64> {
    let seconds = |t: &str| {
        t.trim()
            .split(|c: char| c == ';' || c.is_whitespace())
            .next()?
            .strip_suffix('s')?
            .parse::<f64>()
            .ok()
    };
    let merged = part.lines().find_map(|l| {
        let (_, t) = l.trim().split_once("all doctests ran in ")?;
        seconds(t)
    });
    merged.or_else(|| {
        part.lines().rev().find_map(|l| {
            let rest = l.trim().strip_prefix("test result:")?;
            let (_, t) = rest.rsplit_once("finished in ")?;
            seconds(t)
        })
    })
}

fn first_error_line(section: &str) -> String {
    section
        .lines()
        .find(|l| l.starts_with("error"))
        .or_else(|| section.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("doctest failed")
        .to_string()
}

/// The last `limit` bytes of `text` (on a character boundary), with a note of what was cut.
pub(super) fn tail(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut cut = text.len() - limit;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    format!(
        "[... {cut} bytes of earlier output omitted ...]\n{}",
        &text[cut..]
    )
}

fn batch_case(
    p: &DocPackage,
    status: CaseStatus,
    secs: f64,
    message: String,
    output: String,
) -> Case {
    let binary = p.binary();
    Case {
        package: Some(p.name.clone()),
        binary: Some(binary.clone()),
        ..Case::single(
            format!("{binary} (doctests)"),
            "(doctests)",
            status,
            secs,
            message,
            output,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_part_is_timed_by_rustdoc_with_its_compilation() {
        let merged = "running 1 test\ntest src/lib.rs - f (line 1) ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\nall doctests ran in 0.68s; merged doctests compilation took 0.67s\n";
        assert_eq!(finished_in(merged), Some(0.68));
        let classic = "running 1 test\ntest src/lib.rs - f (line 1) ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.27s\n";
        assert_eq!(finished_in(classic), Some(0.27));
        assert_eq!(finished_in("nothing"), None);
    }

    #[test]
    fn the_output_is_split_at_each_packages_header() {
        let packages = [
            DocPackage {
                name: "my-lib".into(),
                crate_name: "my_lib".into(),
            },
            DocPackage {
                name: "b".into(),
                crate_name: "b".into(),
            },
        ];
        let out = "   Compiling x\n   Doc-tests my_lib\nrunning 1 test\ntest a ... ok\n   Doc-tests b\nrunning 0 tests\n";
        let parts = sections(out, &packages);
        assert_eq!(parts["my-lib"], "running 1 test\ntest a ... ok\n");
        assert_eq!(parts["b"], "running 0 tests\n");
    }
}
