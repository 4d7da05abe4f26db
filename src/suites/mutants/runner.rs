//! Running the tests against one mutant: the test binaries of the packages that can reach it,
//! the tests most likely to catch it first, stopping at the first failure. Every run goes
//! through the process layer (own process group, killed at its timeout or at the first
//! failing test).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::exec::process::{self, Exit};
use crate::suites::testrun::build::TestBinary;

use super::schema::VARIABLE;

/// Bytes of a test binary's output kept: enough for its last lines.
const TAIL: usize = 64 * 1024;

/// How one run of a test binary ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ran {
    /// Every selected test passed (how many).
    Passed(usize),
    /// A test failed (its name, when the harness said), or the binary failed as a whole.
    Failed(Option<String>),
    /// Killed at its timeout.
    TimedOut,
    /// It could not be started, or was interrupted.
    Broken(String),
}

/// libtest's line for a failed test, `test name ... FAILED`.
fn is_failure(line: &str) -> bool {
    line.starts_with("test ") && line.ends_with(" ... FAILED")
}

/// The tests a libtest `test result:` line says passed.
fn passed_count(output: &str) -> usize {
    output
        .lines()
        .rev()
        .find_map(|l| {
            let rest = l.trim().strip_prefix("test result: ")?;
            let (_, after) = rest.split_once(". ")?;
            after.split(' ').next()?.parse().ok()
        })
        .unwrap_or(0)
}

/// Runs `bin` with `args`, the mutant `mutant` switched on (0: none), under `timeout`.
pub fn run_binary(
    bin: &TestBinary,
    args: &[&str],
    mutant: u32,
    threads: usize,
    timeout: Option<Duration>,
) -> Ran {
    let mut cmd = binary_command(bin, mutant);
    if !bin.custom_harness {
        cmd.args(args);
    }
    cmd.env("RUST_TEST_THREADS", threads.to_string());
    judge(process::run_until(cmd, TAIL, timeout, is_failure), &bin.id)
}

/// `bin` as cargo runs it (its directory and variables), mutant `mutant` switched on.
fn binary_command(bin: &TestBinary, mutant: u32) -> Command {
    let mut cmd = Command::new(&bin.path);
    cmd.current_dir(&bin.package_dir)
        .envs(bin.env.iter().map(|(k, v)| (k, v)))
        .env(VARIABLE, mutant.to_string());
    cmd
}

/// A package's doctests in the copy: its manifest, the package's name (for what the report
/// says) and its package ID spec (for cargo: a registry dependency may share the name, as
/// itertools' dev-dependencies bring an older itertools), with the build's variables.
pub struct Doctests<'a> {
    pub manifest: &'a Path,
    pub package: &'a str,
    pub spec: &'a str,
    pub env: &'a [(String, std::ffi::OsString)],
}

impl Doctests<'_> {
    /// `cargo test --doc` of the package.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(crate::workspace::cargo_bin());
        cmd.args(["test", "--doc", "--manifest-path"])
            .arg(self.manifest)
            .args(["--package", self.spec])
            .env("CARGO_TERM_COLOR", "never")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs them with mutant `mutant` switched on.
    pub fn run(&self, mutant: u32, timeout: Option<Duration>) -> Ran {
        let mut cmd = self.command();
        cmd.env(VARIABLE, mutant.to_string());
        judge(
            process::run_until(cmd, TAIL, timeout, is_failure),
            &format!("{}::doc", self.package),
        )
    }
}

fn judge(result: std::io::Result<(process::Outcome, Option<String>)>, what: &str) -> Ran {
    match result {
        Err(e) => Ran::Broken(format!("cannot run {what}: {e}")),
        Ok((_, Some(line))) => Ran::Failed(Some(
            line.trim_start_matches("test ")
                .trim_end_matches(" ... FAILED")
                .to_string(),
        )),
        Ok((outcome, None)) => match outcome.exit {
            Exit::Code(0) => Ran::Passed(passed_count(&outcome.output_text())),
            Exit::TimedOut => Ran::TimedOut,
            Exit::Interrupted => Ran::Broken("interrupted".to_string()),
            Exit::Code(_) | Exit::Signal(_) => Ran::Failed(None),
        },
    }
}

/// The verdict on one mutant from the tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// A test failed: the binary, and the test when the harness named it.
    Caught {
        /// The binary's id (`pkg::doc` for the doctests).
        binary: String,
        /// The failing test.
        test: Option<String>,
    },
    /// Every test passed.
    Missed,
    /// A binary ran past its timeout.
    Timeout(String),
    /// The tests could not run.
    Broken(String),
}

/// A test taking this long without mutants runs after the others: the first failure is
/// likelier to come sooner from the rest.
const SLOW: f64 = 0.5;

/// A binary's tests, each with a time it took at least without mutants, in the order they
/// ended.
pub type Times = Vec<(String, f64)>;

/// Runs `bin` without mutants on `threads` test threads: how it ended, and each test with the
/// time since the test before it ended. That gap is a lower bound of the test's own time: a
/// test that ends after a gap in which no other ended started no later than its start (a
/// thread only picks up a test when another ends), so a long gap marks a slow test, and with
/// one thread it is the test's time.
pub fn time_binary(bin: &TestBinary, threads: usize, timeout: Option<Duration>) -> (Ran, Times) {
    let mut cmd = binary_command(bin, 0);
    if !bin.custom_harness {
        cmd.arg(format!("--test-threads={}", threads.max(1)));
    }
    let mut times = Times::new();
    let mut failed: Option<String> = None;
    let mut last = std::time::Instant::now();
    let result = process::run_lines(cmd, TAIL, timeout, &mut |line| {
        let Some(rest) = line.strip_prefix("test ") else {
            return;
        };
        let Some((name, outcome)) = rest.rsplit_once(" ... ") else {
            return;
        };
        let now = std::time::Instant::now();
        times.push((name.to_string(), (now - last).as_secs_f64()));
        last = now;
        if outcome == "FAILED" && failed.is_none() {
            failed = Some(name.to_string());
        }
    });
    let ran = match result {
        Err(e) => Ran::Broken(format!("cannot run {}: {e}", bin.id)),
        Ok(outcome) => match outcome.exit {
            Exit::Code(0) => Ran::Passed(times.len()),
            Exit::TimedOut => Ran::TimedOut,
            Exit::Interrupted => Ran::Broken("interrupted".to_string()),
            Exit::Code(_) | Exit::Signal(_) => Ran::Failed(failed),
        },
    };
    (ran, times)
}

/// What [`try_mutant`] needs besides the mutant.
pub struct Plan<'a> {
    /// The binaries that can reach the mutant, its own package's first.
    pub binaries: Vec<&'a TestBinary>,
    /// Each binary's timeout, by id.
    pub timeouts: &'a BTreeMap<String, Duration>,
    /// Each binary's tests and their times without mutants, by id.
    pub times: &'a BTreeMap<String, Times>,
    /// Test threads per binary.
    pub threads: usize,
    /// Tests (binary id, name) that caught earlier mutants of the same function.
    pub caught_before: Vec<(String, String)>,
    /// A name to run first: tests whose names contain it are the likeliest to catch the
    /// mutant (the function's last segment).
    pub related: Option<String>,
}

/// The runs of one binary, in order: the related tests, then the rest but the slow ones,
/// then the slow ones by their exact names — together every test the binary runs, since a
/// `--skip` that also leaves out a fast test whose name holds a slow one's is made up for in
/// the last run, which names every test the skips left out.
fn binary_steps(related: Option<&str>, times: Option<&Times>) -> Vec<Vec<String>> {
    let slow: Vec<&str> = times
        .into_iter()
        .flatten()
        .filter(|(_, secs)| *secs >= SLOW)
        .map(|(name, _)| name.as_str())
        .filter(|name| related.is_none_or(|r| !name.contains(r)))
        .collect();
    let mut steps = Vec::new();
    let mut rest = Vec::new();
    if let Some(r) = related {
        steps.push(vec![r.to_string()]);
        rest.extend(["--skip".to_string(), r.to_string()]);
    }
    for s in &slow {
        rest.extend(["--skip".to_string(), (*s).to_string()]);
    }
    steps.push(rest);
    if !slow.is_empty() {
        let mut exact: Vec<String> = times
            .into_iter()
            .flatten()
            .map(|(name, _)| name.as_str())
            .filter(|n| slow.iter().any(|s| n.contains(s)))
            .filter(|n| related.is_none_or(|r| !n.contains(r)))
            .map(str::to_string)
            .collect();
        exact.push("--exact".to_string());
        steps.push(exact);
    }
    steps
}

/// Runs the plan's tests against mutant `id` until one fails: the verdict and the number of
/// tests that ran.
pub fn try_mutant(plan: &Plan<'_>, id: u32) -> (Verdict, usize) {
    let mut ran = 0;
    let by_id: BTreeMap<&str, &TestBinary> =
        plan.binaries.iter().map(|b| (b.id.as_str(), *b)).collect();
    let mut steps: Vec<(&TestBinary, Vec<String>)> = Vec::new();
    for (bin, test) in &plan.caught_before {
        if let Some(b) = by_id.get(bin.as_str()).filter(|b| !b.custom_harness) {
            steps.push((b, vec![test.clone(), "--exact".to_string()]));
        }
    }
    for b in &plan.binaries {
        if b.custom_harness {
            steps.push((b, Vec::new()));
            continue;
        }
        for args in binary_steps(plan.related.as_deref(), plan.times.get(&b.id)) {
            steps.push((b, args));
        }
    }
    for (bin, args) in steps {
        let timeout = plan.timeouts.get(&bin.id).copied();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match run_binary(bin, &args, id, plan.threads, timeout) {
            Ran::Passed(n) => ran += n,
            Ran::Failed(test) => {
                let binary = bin.id.clone();
                return (Verdict::Caught { binary, test }, ran + 1);
            }
            Ran::TimedOut => return (Verdict::Timeout(bin.id.clone()), ran),
            Ran::Broken(why) => return (Verdict::Broken(why), ran),
        }
    }
    (Verdict::Missed, ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_lines_are_read() {
        assert!(is_failure("test tests::adds ... FAILED"));
        assert!(!is_failure("test tests::adds ... ok"));
        assert!(!is_failure("failures:"));
        let out = "running 3 tests\ntest a ... ok\n\ntest result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 2 filtered out; finished in 0.00s\n";
        assert_eq!(passed_count(out), 3);
        assert_eq!(passed_count("no result here"), 0);
    }

    #[test]
    fn related_tests_come_first_and_slow_ones_last_and_none_is_lost() {
        let times: Times = vec![
            ("parse::big".to_string(), 3.0),
            ("parse::big_small".to_string(), 0.01),
            ("len::basic".to_string(), 0.01),
            ("len::huge".to_string(), 2.0),
        ];
        let steps = binary_steps(Some("len"), Some(&times));
        assert_eq!(
            steps,
            [
                vec!["len".to_string()],
                ["--skip", "len", "--skip", "parse::big"]
                    .map(String::from)
                    .to_vec(),
                ["parse::big", "parse::big_small", "--exact"]
                    .map(String::from)
                    .to_vec(),
            ]
        );
        assert_eq!(binary_steps(None, None), [Vec::<String>::new()]);
    }
}
