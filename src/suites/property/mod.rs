//! The property suite: proptest failures found by the tests run, with the minimal failing
//! input, the seed, and the `proptest-regressions/` line to commit.

use std::path::{Path, PathBuf};

use crate::config::PropertyConfig;
use crate::model::{Case, CaseStatus, Metric, Suite, SuiteKind};
use crate::suites::watch::{self, Change, Watch};
use crate::suites::{relative, suite};

/// Files proptest writes when a property fails: `.txt` files anywhere under a
/// `proptest-regressions/` directory (nested like the module, `proptest-regressions/a/b.txt`),
/// and the `<test>.proptest-regressions` files beside integration tests.
pub fn is_regressions_file(path: &Path) -> bool {
    let under_dir = path.extension().is_some_and(|e| e == "txt")
        && path
            .ancestors()
            .skip(1)
            .any(|a| a.file_name().is_some_and(|n| n == "proptest-regressions"));
    let sibling = path
        .extension()
        .is_some_and(|e| e == "proptest-regressions");
    under_dir || sibling
}

/// The environment that carries the profile's proptest settings to every test process.
pub fn env(config: &PropertyConfig) -> Vec<(String, String)> {
    let mut env = Vec::new();
    if let Some(c) = config.cases {
        env.push(("PROPTEST_CASES".to_string(), c.to_string()));
    }
    if let Some(i) = config.max_shrink_iters {
        env.push(("PROPTEST_MAX_SHRINK_ITERS".to_string(), i.to_string()));
    }
    if let Some(t) = config.max_shrink_time {
        env.push((
            "PROPTEST_MAX_SHRINK_TIME".to_string(),
            t.as_millis().to_string(),
        ));
    }
    env
}

/// What proptest printed about one failure.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Failure {
    /// `Test failed: ...` reason.
    pub reason: Option<String>,
    /// The shrunk input, as proptest's `{:#?}` prints it.
    pub minimal_input: Option<String>,
    /// `cc <hex>` seed line.
    pub seed: Option<String>,
    /// The regressions file proptest saved to.
    pub saved_in: Option<String>,
}

/// Parses proptest's failure output; `None` when the output is not a proptest failure.
pub fn parse_failure(output: &str) -> Option<Failure> {
    let mut f = Failure::default();
    let mut lines = output.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(path) = line.strip_prefix("proptest: Saving this and future failures in ") {
            f.saved_in = Some(path.trim().to_string());
        } else if line.starts_with("cc ") && f.seed.is_none() {
            f.seed = Some(
                line.split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        } else if let Some(first) = line.strip_prefix("Test failed: ") {
            // Assertion messages span lines (`left: ..`, `right: ..`) up to the input line.
            let mut reason = vec![first.trim_end().to_string()];
            while let Some(next) = lines.peek() {
                if next.starts_with("minimal failing input: ") || next.is_empty() {
                    break;
                }
                reason.push(next.trim_end().to_string());
                lines.next();
            }
            f.reason = Some(reason.join("\n").trim_end_matches('.').to_string());
        } else if let Some(first) = line.strip_prefix("minimal failing input: ") {
            let mut input = vec![first.to_string()];
            // `{:#?}` spreads structs over lines; the runner's stats follow, indented by a tab.
            while let Some(next) = lines.peek() {
                if next.starts_with('\t') || next.is_empty() {
                    break;
                }
                input.push((*next).to_string());
                lines.next();
            }
            f.minimal_input = Some(input.join("\n"));
        }
    }
    (f.minimal_input.is_some() || f.saved_in.is_some()).then_some(f)
}

/// Set up before the tests run.
pub struct PropertyRun {
    watch: Watch,
    keep: bool,
}

impl PropertyRun {
    /// Starts watching the regressions files under `root`.
    pub fn start(root: &Path, skip: &[PathBuf], config: &PropertyConfig) -> PropertyRun {
        PropertyRun {
            watch: Watch::start(root, skip, is_regressions_file),
            keep: config.keep_regressions,
        }
    }

    /// Builds the suite from the tests suite's failures and restores the regressions files
    /// (unless configured to keep them), copying the run's versions to `<out_dir>/property/`.
    pub fn finish(self, tests: &Suite, out_dir: &Path, events: crate::event::Sink<'_>) -> Suite {
        let root = self.watch.root().to_path_buf();
        let changes = self.watch.changes();
        let mut cases = Vec::new();
        for case in &tests.cases {
            if !matches!(
                case.status,
                CaseStatus::Failed
                    | CaseStatus::TimedOut
                    | CaseStatus::Flaky
                    | CaseStatus::Quarantined
            ) {
                continue;
            }
            let Some(failure) = case
                .attempts
                .iter()
                .rev()
                .find_map(|a| parse_failure(&a.output_tail))
            else {
                continue;
            };
            cases.push(property_case(case, &failure, &changes, &root));
        }
        if !self.keep {
            let dest = out_dir.join("property");
            for change in &changes {
                if let Err(e) =
                    watch::keep_copy(change, &root, &dest).and_then(|_| watch::restore(change))
                {
                    let message =
                        format!("cannot move {} out of the tree: {e}", change.path.display());
                    crate::event::warn(events, Some(SuiteKind::Property), &message);
                }
            }
        }
        let failed = cases.iter().filter(|c| c.status.is_failure()).count();
        let mut s = suite(SuiteKind::Property, tests.duration, cases);
        s.metrics.push(Metric::count("property.failed", failed));
        s
    }
}

fn property_case(test: &Case, failure: &Failure, changes: &[Change], root: &Path) -> Case {
    // The full regression line (`cc <seed> # shrinks to ...`) is in the file proptest appended to.
    let regression = failure.seed.as_ref().and_then(|seed| {
        changes.iter().find_map(|c| {
            let text = String::from_utf8_lossy(c.after.as_deref()?).into_owned();
            let line = text
                .lines()
                .find(|l| l.starts_with(seed.as_str()))?
                .to_string();
            Some((relative(root, &c.path), line))
        })
    });
    let mut detail = Vec::new();
    if let Some(r) = &failure.reason {
        detail.push(format!("reason: {r}"));
    }
    if let Some(i) = &failure.minimal_input {
        detail.push(format!("minimal failing input: {i}"));
    }
    if let Some(s) = &failure.seed {
        detail.push(format!("seed: {s}"));
    }
    match &regression {
        Some((file, line)) => detail.push(format!("commit this line to {file}:\n{line}")),
        None => {
            if let (Some(seed), Some(file)) = (&failure.seed, &failure.saved_in) {
                let file = relative(root, Path::new(file));
                detail.push(format!("commit this line to {file}:\n{seed}"));
            }
        }
    }
    Case {
        id: format!("property {}", test.id),
        name: test.name.clone(),
        package: test.package.clone(),
        binary: test.binary.clone(),
        status: test.status,
        attempts: Vec::new(),
        location: test.location.clone(),
        message: Some(match &failure.minimal_input {
            Some(i) => format!("minimal failing input: {}", i.lines().next().unwrap_or("")),
            None => "property failed".to_string(),
        }),
        detail: Some(detail.join("\n")),
        regions: Vec::new(),
        diff: Vec::new(),
        history: None,
    }
}

/// The property suite: proptest failures found in the tests run, with their minimal inputs.
struct PropertySuite {
    run: Option<PropertyRun>,
}

/// Makes the property suite.
pub fn build(
    _config: &crate::config::Config,
    _options: &crate::suites::SuiteOptions,
) -> crate::error::Result<Box<dyn crate::suites::Suite>> {
    Ok(Box::new(PropertySuite { run: None }))
}

impl crate::suites::Suite for PropertySuite {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Property
    }

    fn prepare(&mut self, cx: &mut crate::suites::RunContext<'_>) -> crate::error::Result<()> {
        cx.test_env.extend(env(&cx.config.property));
        let skip = [cx.ws.target_dir.clone(), cx.out_dir.to_path_buf()];
        self.run = Some(PropertyRun::start(&cx.ws.root, &skip, &cx.config.property));
        Ok(())
    }

    fn run(&mut self, cx: &mut crate::suites::RunContext<'_>) -> crate::error::Result<Suite> {
        let run = self.run.take().ok_or_else(|| {
            crate::error::Error::Internal("the property suite ran without being prepared".into())
        })?;
        let tests = cx
            .finished(SuiteKind::Tests)
            .cloned()
            .unwrap_or_else(|| crate::suites::suite(SuiteKind::Tests, 0.0, Vec::new()));
        Ok(run.finish(&tests, cx.out_dir, cx.events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regressions_files_are_found_wherever_proptest_writes_them() {
        for p in [
            "proptest-regressions/lib.txt",
            "crates/x/proptest-regressions/adapter/strip.txt",
            "tests/testsuite.proptest-regressions",
        ] {
            assert!(is_regressions_file(Path::new(p)), "{p}");
        }
        for p in [
            "src/lib.txt",
            "proptest-regressions.rs",
            "notes/proptest-regressions",
        ] {
            assert!(!is_regressions_file(Path::new(p)), "{p}");
        }
    }

    const OUTPUT: &str = "running 1 test\nproptest: Saving this and future failures in /w/proptest-regressions/lib.txt\nproptest: If this test was run on a CI system, you may wish to add the following line to your copy of the file. (You may need to create it.)\ncc 009d5d78 \n\nthread 'tests::d' (1) panicked at src/lib.rs:18:5:\nTest failed: assertion failed: `(left == right)` \n  left: `1001`,\n right: `2002`: double(1001) is wrong at src/lib.rs:26.\nminimal failing input: x = 1001\n\tsuccesses: 3\n\tlocal rejects: 0\n";

    #[test]
    fn parses_proptest_failures() {
        let f = parse_failure(OUTPUT).unwrap();
        assert_eq!(f.minimal_input.as_deref(), Some("x = 1001"));
        assert_eq!(f.seed.as_deref(), Some("cc 009d5d78"));
        assert_eq!(
            f.saved_in.as_deref(),
            Some("/w/proptest-regressions/lib.txt")
        );
        assert_eq!(
            f.reason.as_deref(),
            Some(
                "assertion failed: `(left == right)`\n  left: `1001`,\n right: `2002`: double(1001) is wrong at src/lib.rs:26"
            )
        );
        assert_eq!(
            parse_failure("thread 'x' panicked at a.rs:1:1:\nboom\n"),
            None
        );
    }

    #[test]
    fn multi_line_inputs_are_kept_whole() {
        let f = parse_failure("minimal failing input: p = Point {\n    x: 1,\n}\n\tsuccesses: 0\n")
            .unwrap();
        assert_eq!(
            f.minimal_input.as_deref(),
            Some("p = Point {\n    x: 1,\n}")
        );
    }

    #[test]
    fn recognises_regressions_files() {
        assert!(is_regressions_file(Path::new(
            "/w/proptest-regressions/lib.txt"
        )));
        assert!(!is_regressions_file(Path::new("/w/notes/lib.txt")));
    }

    #[test]
    fn env_carries_the_profile() {
        let c = PropertyConfig {
            cases: Some(10_000),
            max_shrink_time: Some(std::time::Duration::from_secs(2)),
            ..PropertyConfig::default()
        };
        assert_eq!(
            env(&c),
            vec![
                ("PROPTEST_CASES".to_string(), "10000".to_string()),
                ("PROPTEST_MAX_SHRINK_TIME".to_string(), "2000".to_string())
            ]
        );
    }
}
