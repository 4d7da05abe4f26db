//! `[tests]` and `[tests.flaky]` of gate.toml: their raw shape, their resolved settings and the
//! validation between the two.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::RunIgnored;
use crate::error::{Error, Result};

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTests {
    enabled: Option<bool>,
    jobs: Option<Spanned<usize>>,
    retries: Option<Spanned<u64>>,
    slow_timeout: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    fail_fast: Option<bool>,
    run_ignored: Option<RunIgnored>,
    doctests: Option<bool>,
    allow_empty: Option<bool>,
    output_tail: Option<Spanned<u64>>,
    env: Option<Spanned<BTreeMap<String, String>>>,
    cargo_args: Option<Vec<String>>,
    quarantine: Option<Vec<Spanned<String>>>,
    affected_ignore: Option<Vec<String>>,
    runner: Option<TestRunner>,
    nextest_profile: Option<String>,
    isolation: Option<Isolation>,
    flaky: Option<RawFlaky>,
}

/// `[tests.flaky]`: quarantine from the test history in the notes.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawFlaky {
    quarantine: Option<FlakyQuarantine>,
    rate: Option<Spanned<String>>,
    window: Option<Spanned<u64>>,
    min_flaky: Option<Spanned<u64>>,
    release_after: Option<Spanned<u64>>,
}

/// Whether flaky tests are quarantined from their history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FlakyQuarantine {
    /// Only the `quarantine` list.
    #[default]
    Off,
    /// Also every test the history shows flaky (see `[tests.flaky]`).
    Auto,
}

/// `[tests.flaky]`, resolved.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlakyConfig {
    /// `quarantine = "auto"`.
    pub quarantine: FlakyQuarantine,
    /// When a test's history makes it flaky enough.
    pub policy: crate::baseline::testhistory::Policy,
}

impl RawTests {
    /// Overlays `other` on `self`: every key `other` sets wins.
    pub(super) fn overlay(&mut self, other: &RawTests) {
        overlay!(
            self,
            other,
            enabled,
            jobs,
            retries,
            slow_timeout,
            timeout,
            fail_fast,
            run_ignored,
            doctests,
            allow_empty,
            output_tail,
            env,
            cargo_args,
            quarantine,
            affected_ignore,
            runner,
            nextest_profile,
            isolation,
            flaky
        );
    }
}

/// Settings of the tests suite after the profile is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct TestsConfig {
    /// Whether the suite runs.
    pub enabled: bool,
    /// Tests run at once; `None` means one per available core.
    pub jobs: Option<usize>,
    /// Extra attempts after a failure; a later pass makes the test `flaky`.
    pub retries: u32,
    /// After this long a running test is reported as slow.
    pub slow_timeout: Option<Duration>,
    /// After this long a test is killed (its whole process group) and marked `timed_out`.
    pub timeout: Option<Duration>,
    /// Stop scheduling tests after the first failure.
    pub fail_fast: bool,
    /// Which ignored tests run.
    pub run_ignored: RunIgnored,
    /// Whether doctests run.
    pub doctests: bool,
    /// A run in which no test ran passes (else it fails: a filter that matches nothing, a typo
    /// in the action's `args`, must not give a green gate).
    pub allow_empty: bool,
    /// Bytes of output kept per attempt.
    pub output_tail: usize,
    /// Extra environment for every test process.
    pub env: BTreeMap<String, String>,
    /// Extra arguments for `cargo test --no-run` (features, target, ...).
    pub cargo_args: Vec<String>,
    /// `[tests.flaky]`: quarantine by history.
    pub flaky: FlakyConfig,
    /// Tests the history quarantined for this run, with the evidence (filled in by `run`
    /// from the notes when `[tests.flaky] quarantine = "auto"`; never from gate.toml).
    pub auto_quarantine: BTreeMap<String, String>,
    /// Tests whose failures are reported as `quarantined` and never fail the gate. Entries match
    /// a test's name or id exactly, or as a prefix when they end with `*`.
    pub quarantine: Vec<String>,
    /// `--affected-since`: changed files outside every package that affect nothing (globs,
    /// `*` matching any characters); any other such file affects every package.
    pub affected_ignore: Vec<String>,
    /// What runs the tests.
    pub runner: TestRunner,
    /// The nextest profile used with `runner = "nextest"`.
    pub nextest_profile: String,
    /// How the built-in runner isolates tests.
    pub isolation: Isolation,
}

/// How the built-in runner isolates tests from each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// Every test in a process of its own (as nextest does).
    Process,
    /// Each test binary once, with libtest's own threads (as `cargo test` does); failures are
    /// run again alone, so their outcome, retries and output are still per test.
    Binary,
    /// Per binary: `binary` for many quick tests, `process` for few or slow ones.
    #[default]
    Auto,
}

/// What runs the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TestRunner {
    /// cargo-gate's own process-per-test runner.
    #[default]
    Builtin,
    /// cargo-nextest, with the project's `.config/nextest.toml`; its JUnit report is read back.
    Nextest,
}

/// Files outside packages that `--affected-since` ignores unless `affected_ignore` says otherwise.
pub const DEFAULT_AFFECTED_IGNORE: &[&str] = &["*.md", ".github/*"];

impl Default for TestsConfig {
    fn default() -> Self {
        TestsConfig {
            enabled: true,
            jobs: None,
            retries: 0,
            slow_timeout: Some(Duration::from_secs(60)),
            timeout: None,
            fail_fast: false,
            run_ignored: RunIgnored::Default,
            doctests: true,
            allow_empty: false,
            output_tail: 16 * 1024,
            env: BTreeMap::new(),
            cargo_args: Vec::new(),
            quarantine: Vec::new(),
            affected_ignore: DEFAULT_AFFECTED_IGNORE
                .iter()
                .map(|g| g.to_string())
                .collect(),
            runner: TestRunner::Builtin,
            nextest_profile: "default".to_string(),
            isolation: Isolation::Auto,
            flaky: FlakyConfig::default(),
            auto_quarantine: BTreeMap::new(),
        }
    }
}

impl TestsConfig {
    /// True when a failure of this test is quarantined.
    pub fn is_quarantined(&self, id: &str, name: &str) -> bool {
        self.auto_quarantine.contains_key(id) || self.listed(id, name)
    }

    /// Whether the user's `quarantine` list names the test.
    fn listed(&self, id: &str, name: &str) -> bool {
        self.quarantine.iter().any(|q| names(q, id, name))
    }

    /// The entries of the `quarantine` list that name none of these `(id, name)` tests: a
    /// typo, or a test since renamed or removed, that quarantines nothing.
    pub fn unmatched_quarantine<'a>(
        &'a self,
        tests: &[(&str, &str)],
    ) -> impl Iterator<Item = &'a str> {
        let tests = tests.to_vec();
        self.quarantine
            .iter()
            .filter(move |q| !tests.iter().any(|(id, name)| names(q, id, name)))
            .map(String::as_str)
    }

    /// What a failure of the test after `attempts` attempts becomes. Quarantine hides
    /// flakiness, never breakage: a name in the `quarantine` list hides any failure; a test the
    /// history quarantined as flaky hides one only when there was a single attempt (flaky and
    /// broken cannot be told apart then) — with retries, failing every attempt is breakage.
    pub fn quarantine_failure(&self, id: &str, name: &str, attempts: usize) -> Quarantine {
        if self.listed(id, name) {
            Quarantine::Hidden
        } else if self.auto_quarantine.contains_key(id) {
            if attempts > 1 {
                Quarantine::FailedEveryAttempt
            } else {
                Quarantine::Hidden
            }
        } else {
            Quarantine::No
        }
    }
}

/// Whether the quarantine entry `q` names the test: its name or id, or a prefix of either when
/// `q` ends with `*`.
fn names(q: &str, id: &str, name: &str) -> bool {
    match q.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix) || id.starts_with(prefix),
        None => q == name || q == id,
    }
}

/// What [`TestsConfig::quarantine_failure`] decides for a failing test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quarantine {
    /// Not quarantined: a failure.
    No,
    /// Reported as `quarantined`, never failing the gate.
    Hidden,
    /// Quarantined by history as flaky, but it failed every attempt of this run: a failure,
    /// marked so.
    FailedEveryAttempt,
}

impl Quarantine {
    /// The status a failure with `status` gets, and the note its message starts with.
    pub fn apply(
        self,
        status: crate::model::CaseStatus,
    ) -> (crate::model::CaseStatus, Option<&'static str>) {
        match self {
            Quarantine::No => (status, None),
            Quarantine::Hidden => (crate::model::CaseStatus::Quarantined, None),
            Quarantine::FailedEveryAttempt => (
                status,
                Some("quarantined as flaky by its history, but failed every attempt"),
            ),
        }
    }
}

pub(super) fn resolve_tests(raw: &RawTests, at: crate::util::spans::At<'_>) -> Result<TestsConfig> {
    let d = TestsConfig::default();
    let jobs = match &raw.jobs {
        Some(j) if *j.get_ref() == 0 => {
            return Err(Error::Config {
                location: at(j.span()),
                message: "`jobs` must be at least 1".to_string(),
                hint: Some("remove the key to use one job per core".to_string()),
            });
        }
        Some(j) => Some(*j.get_ref()),
        None => None,
    };
    let retries = match &raw.retries {
        Some(r) => crate::util::spans::count_in(
            at,
            r,
            "retries",
            (0, 100),
            "retry a failing test 0 to 100 times (2 or 3 is usual)",
        )? as u32,
        None => d.retries,
    };
    let output_tail = match &raw.output_tail {
        Some(o) => crate::util::spans::count_in(
            at,
            o,
            "output_tail",
            (0, 64 << 20),
            "keep 0 bytes to 64 MiB of output per attempt (default 16384)",
        )? as usize,
        None => d.output_tail,
    };
    let positive = |v: &Option<Spanned<String>>, name: &str, default: Option<Duration>| {
        v.as_ref()
            .map(|s| crate::util::spans::nonzero_duration(at, s, name))
            .transpose()
            .map(|d| d.or(default))
    };
    let env = match &raw.env {
        Some(env) => {
            if let Some((key, _)) = env
                .get_ref()
                .iter()
                .find(|(k, v)| k.is_empty() || k.contains(['=', '\0']) || v.contains('\0'))
            {
                return Err(Error::Config {
                    location: at(env.span()),
                    message: format!(
                        "the environment variable `{}` cannot be set",
                        key.escape_debug()
                    ),
                    hint: Some(
                        "names must be non-empty without `=` or NUL, values without NUL"
                            .to_string(),
                    ),
                });
            }
            env.get_ref().clone()
        }
        None => BTreeMap::new(),
    };
    Ok(TestsConfig {
        enabled: raw.enabled.unwrap_or(d.enabled),
        jobs,
        retries,
        slow_timeout: positive(&raw.slow_timeout, "slow_timeout", d.slow_timeout)?,
        timeout: positive(&raw.timeout, "timeout", d.timeout)?,
        fail_fast: raw.fail_fast.unwrap_or(d.fail_fast),
        run_ignored: raw.run_ignored.unwrap_or(d.run_ignored),
        doctests: raw.doctests.unwrap_or(d.doctests),
        allow_empty: raw.allow_empty.unwrap_or(d.allow_empty),
        output_tail,
        env,
        cargo_args: raw.cargo_args.clone().unwrap_or_default(),
        quarantine: quarantine_list(raw.quarantine.as_deref(), at)?,
        affected_ignore: raw.affected_ignore.clone().unwrap_or(d.affected_ignore),
        runner: raw.runner.unwrap_or(d.runner),
        nextest_profile: raw.nextest_profile.clone().unwrap_or(d.nextest_profile),
        isolation: raw.isolation.unwrap_or(d.isolation),
        flaky: resolve_flaky(raw.flaky.as_ref(), at)?,
        auto_quarantine: BTreeMap::new(),
    })
}

/// The `quarantine` list: an empty entry (or a lone `*`) would quarantine nothing, or
/// everything, by accident.
fn quarantine_list(
    raw: Option<&[Spanned<String>]>,
    at: crate::util::spans::At<'_>,
) -> Result<Vec<String>> {
    raw.unwrap_or_default()
        .iter()
        .map(|q| {
            let name = q.get_ref().trim();
            if name.is_empty() || name == "*" {
                return Err(Error::Config {
                    location: at(q.span()),
                    message: format!("quarantine entry `{name}` names no test"),
                    hint: Some(
                        "write a test's name or id (`net::dns_lookup`), or a prefix ending in `*` (`net::*`)"
                            .to_string(),
                    ),
                });
            }
            Ok(name.to_string())
        })
        .collect()
}

fn resolve_flaky(raw: Option<&RawFlaky>, at: crate::util::spans::At<'_>) -> Result<FlakyConfig> {
    let mut c = FlakyConfig::default();
    let Some(raw) = raw else { return Ok(c) };
    c.quarantine = raw.quarantine.unwrap_or_default();
    let count = |v: &Spanned<u64>, name: &str, range: (u64, u64)| -> Result<usize> {
        let n = crate::util::spans::count_in(
            at,
            v,
            name,
            range,
            &format!("set {name} from {} to {}", range.0, range.1),
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    };
    if let Some(v) = &raw.window {
        c.policy.window = count(v, "window", (1, 10_000))?;
    }
    if let Some(v) = &raw.min_flaky {
        c.policy.min_flaky = count(v, "min_flaky", (1, 10_000))?;
    }
    if let Some(v) = &raw.release_after {
        c.policy.release_after = count(v, "release_after", (1, 10_000))?;
    }
    if let Some(v) = &raw.rate {
        c.policy.rate = crate::util::spans::percent(at, v, 100.0, "5%")? / 100.0;
    }
    Ok(c)
}
