//! Running the tests against one mutant: the test binaries of the packages that can reach it,
//! the tests most likely to catch it first, stopping at the first failure. Every run goes
//! through the process layer (own process group, killed at its timeout or at the first
//! failing test).

use std::collections::BTreeMap;
use std::ffi::OsStr;
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
    quiet_panics(&mut cmd);
    cmd
}

/// The mutants' tests print no backtrace at a panic: under `RUST_BACKTRACE=1` (common in CI)
/// every failing test symbolizes one, ~70 ms of a caught mutant's ~80. Backtraces that code
/// captures itself (`std::backtrace`, anyhow) keep the user's setting through
/// `RUST_LIB_BACKTRACE`, which they read first. The runs without mutants get the same
/// variables, so a test that depends on them fails there, never only with a mutant.
fn quiet_panics(cmd: &mut Command) {
    let lib = std::env::var_os("RUST_LIB_BACKTRACE");
    let style = std::env::var_os("RUST_BACKTRACE");
    for (name, value) in backtrace_variables(lib.as_deref(), style.as_deref()) {
        cmd.env(name, value);
    }
}

/// The variables [`quiet_panics`] sets, from the user's `RUST_LIB_BACKTRACE` and
/// `RUST_BACKTRACE`.
fn backtrace_variables<'v>(
    lib: Option<&'v OsStr>,
    style: Option<&'v OsStr>,
) -> Vec<(&'static str, &'v OsStr)> {
    let mut vars = vec![("RUST_BACKTRACE", OsStr::new("0"))];
    if let (None, Some(style)) = (lib, style) {
        vars.push(("RUST_LIB_BACKTRACE", style));
    }
    vars
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
        quiet_panics(&mut cmd);
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
/// With `trace` (a file of its own), what it reached is read from the switches' trace there
/// (see [`super::schema::TRACE`]).
pub fn time_binary(
    bin: &TestBinary,
    threads: usize,
    timeout: Option<Duration>,
    trace: Option<&Path>,
) -> Timed {
    let mut cmd = binary_command(bin, 0);
    if let Some(t) = trace {
        cmd.env(super::schema::TRACE, t);
    }
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
    let reach = trace.map(take_trace);
    Timed { ran, times, reach }
}

/// What a trace file (see [`super::schema::TRACE`]) says was reached, the file removed: a
/// process that reached nothing left none.
pub fn take_trace(path: &Path) -> super::schema::Reach {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let _ = std::fs::remove_file(path);
    super::schema::reached(&text)
}

/// A binary's unmutated run: how it ended, its tests' times, and the mutants it reached with
/// the first test that reached each (when traced).
pub struct Timed {
    pub ran: Ran,
    pub times: Times,
    pub reach: Option<super::schema::Reach>,
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
    /// Names to run first: tests whose names contain one are the likeliest to catch the
    /// mutant (see [`related_names`]).
    pub related: Vec<String>,
}

/// What tests of a mutated function are likely called: the function's name, its type's in
/// snake case (`<impl Iterator for WhileSome<I>>::next` → `next`, `while_some`) and its file's
/// (`src/next_array.rs` → `next_array`), each of at least three letters.
pub fn related_names(function: Option<&str>, file: &str) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(f) = function {
        names.extend(f.rsplit("::").next().map(str::to_string));
        names.extend(owner_type(f).map(snake_case));
    }
    let stem = Path::new(file).file_stem().and_then(|s| s.to_str());
    if let Some(stem) = stem.filter(|s| !matches!(*s, "lib" | "mod" | "main")) {
        names.push(stem.to_string());
    }
    names.retain(|n| n.len() >= 3 && !n.starts_with("impl "));
    names.sort();
    names.dedup();
    names
}

/// The type a method belongs to, by its own name: `<impl Iterator for WhileSome<I>>::next` →
/// `WhileSome`, `ArrayBuilder<T, N>::take` → `ArrayBuilder`; `None` for a free function.
pub fn owner_type(function: &str) -> Option<&str> {
    let mut segments = function.rsplit("::");
    segments.next();
    let owner = segments.next()?;
    // `<impl Trait for Type<T>>` or `Type<T>`: the type's own name.
    let owner = owner.rsplit(" for ").next().unwrap_or(owner);
    let bare = owner
        .trim_start_matches('<')
        .split('<')
        .next()
        .unwrap_or("");
    Some(bare.trim_end_matches('>'))
}

fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The runs of one binary: the related tests (when it has any), the rest but the slow ones,
/// and the slow ones by their exact names — together every test the binary runs, since a
/// `--skip` that also leaves out a fast test whose name holds a slow one's is made up for in
/// the last run, which names every test the skips left out. A related run is left out only
/// when none of the binary's known tests matches, and then the rest does not skip the names.
struct Steps {
    related: Option<Vec<String>>,
    rest: Vec<String>,
    slow: Option<Vec<String>>,
}

fn binary_steps(related: &[String], times: Option<&Times>) -> Steps {
    let known: Vec<&str> = times
        .into_iter()
        .flatten()
        .map(|(name, _)| name.as_str())
        .collect();
    let holds = |name: &str| related.iter().any(|r| name.contains(r.as_str()));
    let run_related = !related.is_empty() && (times.is_none() || known.iter().any(|n| holds(n)));
    // From here on "related" means what the related run takes: nothing when it does not run.
    let related: &[String] = if run_related { related } else { &[] };
    let matches = |name: &str| run_related && holds(name);
    let slow: Vec<&str> = times
        .into_iter()
        .flatten()
        .filter(|(name, secs)| *secs >= SLOW && !matches(name))
        .map(|(name, _)| name.as_str())
        .collect();
    let mut rest = Vec::new();
    for name in related
        .iter()
        .map(String::as_str)
        .chain(slow.iter().copied())
    {
        rest.extend(["--skip".to_string(), name.to_string()]);
    }
    let slow = (!slow.is_empty()).then(|| {
        let mut exact: Vec<String> = known
            .iter()
            .filter(|n| slow.iter().any(|s| n.contains(s)) && !matches(n))
            .map(|n| n.to_string())
            .collect();
        exact.push("--exact".to_string());
        exact
    });
    Steps {
        related: run_related.then(|| related.to_vec()),
        rest,
        slow,
    }
}

/// Runs the plan's tests against mutant `id` until one fails: the verdict and the number of
/// tests that ran. The order: the tests that caught the function's earlier mutants, every
/// binary's related tests, every binary's other tests, every binary's slow tests.
pub fn try_mutant(plan: &Plan<'_>, id: u32) -> (Verdict, usize) {
    let by_id: BTreeMap<&str, &TestBinary> =
        plan.binaries.iter().map(|b| (b.id.as_str(), *b)).collect();
    let mut first = Vec::new();
    for (bin, test) in &plan.caught_before {
        if let Some(b) = by_id.get(bin.as_str()).filter(|b| !b.custom_harness) {
            first.push((*b, vec![test.clone(), "--exact".to_string()]));
        }
    }
    let (mut related, mut rest, mut slow) = (Vec::new(), Vec::new(), Vec::new());
    for b in &plan.binaries {
        if b.custom_harness {
            rest.push((*b, Vec::new()));
            continue;
        }
        let steps = binary_steps(&plan.related, plan.times.get(&b.id));
        related.extend(steps.related.map(|args| (*b, args)));
        rest.push((*b, steps.rest));
        slow.extend(steps.slow.map(|args| (*b, args)));
    }
    let steps: Vec<(&TestBinary, Vec<String>)> = first
        .into_iter()
        .chain(related)
        .chain(rest)
        .chain(slow)
        .collect();
    run_steps(steps, |bin, args| {
        let timeout = plan.timeouts.get(&bin.id).copied();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_binary(bin, &args, id, plan.threads, timeout)
    })
}

/// Runs `steps` in order with `run` until a test fails: the verdict and the tests that ran.
/// A single test that hangs is passed over (its name left out of that binary's later runs),
/// so a test that fails with the mutant still catches it; with none, the verdict is the
/// timeout. Which test reached the code first is chance; the verdict should not be.
fn run_steps(
    steps: Vec<(&TestBinary, Vec<String>)>,
    mut run: impl FnMut(&TestBinary, &[String]) -> Ran,
) -> (Verdict, usize) {
    let mut ran = 0;
    let mut hung: Option<(String, String)> = None;
    for (bin, mut args) in steps {
        let single = (args.len() == 2 && args[1] == "--exact").then(|| args[0].clone());
        if let Some((b, test)) = &hung
            && *b == bin.id
            && !bin.custom_harness
        {
            if args.iter().any(|a| a == "--exact") {
                args.retain(|a| a != test);
                // `--exact` alone would run every test.
                if args.len() == 1 {
                    continue;
                }
            } else {
                args.extend(["--skip".to_string(), test.clone()]);
            }
        }
        match run(bin, &args) {
            Ran::Passed(n) => ran += n,
            Ran::Failed(test) => {
                let binary = bin.id.clone();
                return (Verdict::Caught { binary, test }, ran + 1);
            }
            Ran::TimedOut => match single {
                Some(test) if hung.is_none() => hung = Some((bin.id.clone(), test)),
                _ => return (Verdict::Timeout(bin.id.clone()), ran),
            },
            Ran::Broken(why) => return (Verdict::Broken(why), ran),
        }
    }
    match hung {
        Some((binary, _)) => (Verdict::Timeout(binary), ran),
        None => (Verdict::Missed, ran),
    }
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
    fn panics_print_no_backtrace_but_library_backtraces_keep_the_users_setting() {
        fn s(v: &str) -> Option<&OsStr> {
            Some(OsStr::new(v))
        }
        assert_eq!(
            backtrace_variables(None, s("1")),
            vec![
                ("RUST_BACKTRACE", OsStr::new("0")),
                ("RUST_LIB_BACKTRACE", OsStr::new("1"))
            ]
        );
        // The user's own library setting already wins over RUST_BACKTRACE.
        assert_eq!(
            backtrace_variables(s("0"), s("full")),
            vec![("RUST_BACKTRACE", OsStr::new("0"))]
        );
        assert_eq!(
            backtrace_variables(None, None),
            vec![("RUST_BACKTRACE", OsStr::new("0"))]
        );
    }

    #[test]
    fn related_tests_come_first_and_slow_ones_last_and_none_is_lost() {
        let times: Times = vec![
            ("parse::big".to_string(), 3.0),
            ("parse::big_small".to_string(), 0.01),
            ("len::basic".to_string(), 0.01),
            ("len::huge".to_string(), 2.0),
        ];
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let steps = binary_steps(&strings(&["len"]), Some(&times));
        assert_eq!(steps.related, Some(strings(&["len"])));
        assert_eq!(
            steps.rest,
            strings(&["--skip", "len", "--skip", "parse::big"])
        );
        assert_eq!(
            steps.slow,
            Some(strings(&["parse::big", "parse::big_small", "--exact"]))
        );
        // No known test is related: no run of its own, and the rest skips none of the names.
        let steps = binary_steps(&strings(&["span"]), Some(&times));
        assert_eq!(steps.related, None);
        assert_eq!(
            steps.rest,
            strings(&["--skip", "parse::big", "--skip", "len::huge"])
        );
        // Tests not known: the related ones run first all the same.
        let steps = binary_steps(&strings(&["span"]), None);
        assert_eq!(steps.related, Some(strings(&["span"])));
        assert_eq!(steps.rest, strings(&["--skip", "span"]));
        assert_eq!(steps.slow, None);
    }

    fn binary(id: &str) -> TestBinary {
        TestBinary {
            id: id.to_string(),
            package: "p".to_string(),
            package_dir: "/p".into(),
            crate_name: "p".to_string(),
            path: "/p/t".into(),
            custom_harness: false,
            dialect: Default::default(),
            env: Vec::new(),
        }
    }

    #[test]
    fn a_test_that_hangs_is_passed_over_and_another_that_fails_still_catches() {
        let b = binary("p");
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let steps = || {
            vec![
                (&b, strings(&["loops", "--exact"])),
                (&b, strings(&["parse"])),
                (&b, strings(&["--skip", "parse"])),
                (&b, strings(&["slow", "loops", "--exact"])),
            ]
        };
        let mut seen = Vec::new();
        let verdict = run_steps(steps(), |_, args| {
            seen.push(args.to_vec());
            match args[0].as_str() {
                "loops" => Ran::TimedOut,
                "parse" => Ran::Passed(3),
                _ => Ran::Failed(Some("checks".to_string())),
            }
        });
        let caught = Verdict::Caught {
            binary: "p".to_string(),
            test: Some("checks".to_string()),
        };
        assert_eq!(verdict, (caught, 4));
        assert_eq!(seen[1], strings(&["parse", "--skip", "loops"]));
        assert_eq!(seen[2], strings(&["--skip", "parse", "--skip", "loops"]));
        // Nothing fails: the timeout is the verdict; the hung test never runs again.
        let mut seen = Vec::new();
        let verdict = run_steps(steps(), |_, args| {
            seen.push(args.to_vec());
            if args[0] == "loops" {
                Ran::TimedOut
            } else {
                Ran::Passed(1)
            }
        });
        assert_eq!(verdict, (Verdict::Timeout("p".to_string()), 3));
        assert_eq!(seen.last().unwrap(), &strings(&["slow", "--exact"]));
        // A run of many tests that hangs ends the trial: which test hung is unknown.
        let verdict = run_steps(steps(), |_, args| {
            if args[0] == "parse" {
                Ran::TimedOut
            } else {
                Ran::Passed(1)
            }
        });
        assert_eq!(verdict, (Verdict::Timeout("p".to_string()), 1));
    }

    #[test]
    fn related_names_come_from_the_function_its_type_and_its_file() {
        assert_eq!(
            related_names(
                Some("<impl Iterator for WhileSome<I>>::next"),
                "src/adaptors/mod.rs"
            ),
            ["next", "while_some"]
        );
        assert_eq!(
            related_names(Some("ArrayBuilder<T, N>::take"), "src/next_array.rs"),
            ["array_builder", "next_array", "take"]
        );
        assert_eq!(
            related_names(
                Some("private::<impl DoubleEndedIterator for DuplicatesBy<I, Key, F>>::next_back"),
                "src/duplicates_impl.rs"
            ),
            ["duplicates_by", "duplicates_impl", "next_back"]
        );
        assert_eq!(related_names(Some("f"), "src/lib.rs"), Vec::<String>::new());
        assert_eq!(related_names(None, "src/calc.rs"), ["calc"]);
    }
}
