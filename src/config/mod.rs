//! The `gate.toml` model: parsing with spans, profiles, and validation that points at
//! `file:line:col` with a hint. Pure: no processes, no network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::baseline::config::{BaselineConfig, RawBaseline};
use crate::error::{Error, Location, Result};
use crate::gate::{self, Rule};
use crate::model::RuleLevel;
use crate::suites::bench::config::{BenchConfig, RawBench};
use crate::suites::load::config::{LoadScenario, RawLoad};

/// Overlays every key `other` sets onto `this`.
macro_rules! overlay {
    ($this:expr, $other:expr, $($f:ident),*) => { $( if $other.$f.is_some() { $this.$f = $other.$f.clone(); } )* };
}

/// The config file's name, looked up at the workspace root.
pub const FILE_NAME: &str = "gate.toml";

/// The profile used when none is asked for.
pub const DEFAULT_PROFILE: &str = "default";

/// Which tests `#[ignore]` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum RunIgnored {
    /// Run normal tests; report ignored ones as skipped.
    #[default]
    Default,
    /// Run only the ignored tests.
    Only,
    /// Run both.
    All,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    tests: RawTests,
    #[serde(default)]
    snapshots: RawSnapshots,
    #[serde(default)]
    property: RawProperty,
    #[serde(default)]
    bench: Option<RawBench>,
    #[serde(default)]
    baseline: RawBaseline,
    #[serde(default)]
    load: Vec<Spanned<RawLoad>>,
    #[serde(default)]
    service: Vec<crate::suites::infra::spec::RawService>,
    #[serde(default)]
    check: Vec<crate::suites::infra::spec::RawCheck>,
    #[serde(default)]
    proxy: Vec<crate::suites::infra::spec::RawProxy>,
    #[serde(default)]
    chaos: Vec<crate::suites::infra::spec::RawChaos>,
    #[serde(default)]
    coverage: Option<RawCoverage>,
    #[serde(default)]
    security: Option<crate::suites::security::config::RawSecurity>,
    mutants: Option<crate::suites::mutants::config::RawMutants>,
    #[serde(default)]
    gate: RawGate,
    #[serde(default)]
    profile: BTreeMap<String, RawProfile>,
}

mod tests_section;
pub use tests_section::{
    DEFAULT_AFFECTED_IGNORE, FlakyConfig, FlakyQuarantine, Isolation, Quarantine, TestRunner,
    TestsConfig,
};
use tests_section::{RawTests, resolve_tests};

pub use crate::suites::coverage::config::CoverageConfig;
use crate::suites::coverage::config::RawCoverage;

/// What happens to pending snapshot files a run creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PendingMode {
    /// Move them to `<out-dir>/snapshots/` and leave the tree as it was.
    #[default]
    Move,
    /// Delete them.
    Delete,
    /// Leave them in the tree for `cargo insta review`.
    Keep,
}

/// Whether snapshot files no test asserted are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Unreferenced {
    /// Do not look for them.
    #[default]
    Ignore,
    /// Report each one (counted by `snapshots.unreferenced`).
    Report,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawSnapshots {
    enabled: Option<bool>,
    pending: Option<PendingMode>,
    unreferenced: Option<Unreferenced>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawProperty {
    enabled: Option<bool>,
    cases: Option<u64>,
    max_shrink_iters: Option<u64>,
    max_shrink_time: Option<Spanned<String>>,
    keep_regressions: Option<bool>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawGate {
    fail: Option<Vec<Spanned<String>>>,
    warn: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    inherits: Option<Spanned<String>>,
    tests: Option<RawTests>,
    snapshots: Option<RawSnapshots>,
    property: Option<RawProperty>,
    gate: Option<RawGate>,
}

/// Settings of the snapshot (insta) suite.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotsConfig {
    /// `Some(false)` turns it off; `None` means on when a member depends on insta.
    pub enabled: Option<bool>,
    /// What to do with pending files.
    pub pending: PendingMode,
    /// Whether unreferenced snapshots are reported.
    pub unreferenced: Unreferenced,
}

/// Settings of the property (proptest) suite.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PropertyConfig {
    /// `Some(false)` turns it off; `None` means on when a member depends on proptest.
    pub enabled: Option<bool>,
    /// `PROPTEST_CASES`.
    pub cases: Option<u64>,
    /// `PROPTEST_MAX_SHRINK_ITERS`.
    pub max_shrink_iters: Option<u64>,
    /// `PROPTEST_MAX_SHRINK_TIME`.
    pub max_shrink_time: Option<Duration>,
    /// Leave the regressions files proptest writes in the tree (default: move them out).
    pub keep_regressions: bool,
}

/// A loaded, validated configuration for one profile.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// The profile applied.
    pub profile: String,
    /// The tests suite.
    pub tests: TestsConfig,
    /// The snapshot suite.
    pub snapshots: SnapshotsConfig,
    /// The property suite.
    pub property: PropertyConfig,
    /// The bench suite.
    pub bench: BenchConfig,
    /// Baseline comparison.
    pub baseline: BaselineConfig,
    /// Load scenarios.
    pub load: Vec<LoadScenario>,
    /// Services started around the run.
    pub services: Vec<crate::suites::infra::spec::ServiceSpec>,
    /// Checks (`infra` suite).
    pub checks: Vec<crate::suites::infra::spec::CheckSpec>,
    /// Fault proxies.
    pub proxies: Vec<crate::suites::infra::spec::ProxySpec>,
    /// Chaos experiments (`chaos` suite).
    pub chaos: Vec<crate::suites::infra::spec::ChaosSpec>,
    /// The coverage suite, when configured.
    pub coverage: Option<CoverageConfig>,
    /// The security suite, when `[security]` is written.
    pub security: Option<crate::suites::security::config::SecurityConfig>,
    /// The mutants suite, when `[mutants]` is written.
    pub mutants: Option<crate::suites::mutants::config::MutantsConfig>,
    /// Gate rules, `fail` ones first.
    pub rules: Vec<Rule>,
    /// gate.toml lists its own `fail` rules; when false the suites' defaults are still to be
    /// added (`suites::with_default_rules`).
    pub fail_rules_written: bool,
    /// gate.toml lists its own `warn` rules: the suites' default warnings are not added.
    pub warn_rules_written: bool,
}

impl Config {
    /// The configuration used when there is no gate.toml: the tests suite and the default rules.
    pub fn defaults(profile: Option<&str>) -> Result<Config> {
        if let Some(p) = profile.filter(|p| *p != DEFAULT_PROFILE) {
            return Err(Error::usage(
                format!("unknown profile `{p}`: there is no {FILE_NAME}"),
                Some(format!(
                    "create one with `cargo gate init` and add a `[profile.{p}]` table, or drop --profile"
                )),
            ));
        }
        Ok(Config {
            path: None,
            profile: DEFAULT_PROFILE.to_string(),
            tests: TestsConfig::default(),
            snapshots: SnapshotsConfig::default(),
            property: PropertyConfig::default(),
            bench: BenchConfig::default(),
            baseline: BaselineConfig::default(),
            load: Vec::new(),
            services: Vec::new(),
            checks: Vec::new(),
            proxies: Vec::new(),
            chaos: Vec::new(),
            coverage: None,
            security: None,
            mutants: None,
            rules: Vec::new(),
            fail_rules_written: false,
            warn_rules_written: false,
        })
    }

    /// Reads and validates a config file for a profile.
    pub fn load(path: &Path, profile: Option<&str>) -> Result<Config> {
        let source = std::fs::read_to_string(path).map_err(|e| {
            Error::usage(
                format!("cannot read {}: {e}", path.display()),
                Some("check the path given to --config".to_string()),
            )
        })?;
        Config::parse(path, &source, profile)
    }

    /// Validates a config file for the default profile and every profile it defines.
    pub fn check_all(path: &Path) -> Result<Vec<Config>> {
        let source = std::fs::read_to_string(path).map_err(|e| {
            Error::usage(
                format!("cannot read {}: {e}", path.display()),
                Some("check the path given to --config".to_string()),
            )
        })?;
        let raw = parse_raw(path, &source)?;
        std::iter::once(DEFAULT_PROFILE)
            .chain(
                raw.profile
                    .keys()
                    .map(String::as_str)
                    .filter(|p| *p != DEFAULT_PROFILE),
            )
            .map(|p| Config::parse(path, &source, Some(p)))
            .collect()
    }

    /// Parses and validates config text (the path is only used in messages).
    pub fn parse(path: &Path, source: &str, profile: Option<&str>) -> Result<Config> {
        let at = |span: std::ops::Range<usize>| Location::from_span(path, source, span);
        let raw = parse_raw(path, source)?;
        Self::resolve(raw, path, source, profile, &at)
    }

    fn resolve(
        raw: RawConfig,
        path: &Path,
        source: &str,
        profile: Option<&str>,
        at: crate::util::spans::At<'_>,
    ) -> Result<Config> {
        let profile_name = profile.unwrap_or(DEFAULT_PROFILE).to_string();
        let Layered {
            tests,
            snapshots,
            property,
            gate: gate_raw,
        } = layered(&raw, &profile_name, path, source)?;
        let resolved = resolve_tests(&tests, at)?;
        let services = crate::suites::infra::spec::services(at, &raw.service)?;
        let checks = crate::suites::infra::spec::checks(at, &raw.check)?;
        let proxies = crate::suites::infra::spec::proxies(at, &raw.proxy)?;
        let mut rules = Vec::new();
        // Without a `fail` list the suites' default rules apply; the registry adds them
        // (`suites::with_default_rules`), since only it knows which suites are enabled.
        for r in gate_raw.fail.iter().flatten() {
            rules.push(parse_spanned_rule(r, RuleLevel::Fail, at)?);
        }
        for r in gate_raw.warn.iter().flatten() {
            rules.push(parse_spanned_rule(r, RuleLevel::Warn, at)?);
        }
        let property = PropertyConfig {
            enabled: property.enabled,
            cases: property.cases,
            max_shrink_iters: property.max_shrink_iters,
            max_shrink_time: parse_spanned_duration(&property.max_shrink_time, at)?,
            keep_regressions: property.keep_regressions.unwrap_or(false),
        };
        Ok(Config {
            path: Some(path.to_path_buf()),
            profile: profile_name,
            tests: resolved,
            snapshots: SnapshotsConfig {
                enabled: snapshots.enabled,
                pending: snapshots.pending.unwrap_or_default(),
                unreferenced: snapshots.unreferenced.unwrap_or_default(),
            },
            property,
            bench: crate::suites::bench::config::resolve(raw.bench.as_ref(), at)?,
            baseline: crate::baseline::config::resolve(&raw.baseline, at)?,
            load: {
                let scenarios = crate::suites::load::config::resolve(&raw.load, at)?;
                // Each threshold is a `fail` rule of the gate, so it shows in the gate table.
                for s in &scenarios {
                    for t in &s.thresholds {
                        rules.push(gate::load_rule(&s.name, t));
                    }
                }
                scenarios
            },
            services: services.clone(),
            checks: checks.clone(),
            proxies: proxies.clone(),
            chaos: crate::suites::infra::spec::chaos(at, &raw.chaos, &services, &checks, &proxies)?,
            fail_rules_written: gate_raw.fail.is_some(),
            warn_rules_written: gate_raw.warn.is_some(),
            coverage: raw
                .coverage
                .as_ref()
                .map(|c| crate::suites::coverage::config::resolve(c, at))
                .transpose()?,
            security: raw
                .security
                .as_ref()
                .map(|c| crate::suites::security::config::resolve(c, at))
                .transpose()?,
            mutants: raw
                .mutants
                .as_ref()
                .map(|c| crate::suites::mutants::config::resolve(c, at))
                .transpose()?,
            rules,
        })
    }
}

/// The sections profiles may change, with the profile's chain laid over the file's own.
struct Layered {
    tests: RawTests,
    snapshots: RawSnapshots,
    property: RawProperty,
    gate: RawGate,
}

/// The file's sections with `profile_name` and the profiles it inherits laid over them, the
/// nearest last so it wins.
fn layered(raw: &RawConfig, profile_name: &str, path: &Path, source: &str) -> Result<Layered> {
    let mut tests = raw.tests.clone();
    let mut snapshots = raw.snapshots.clone();
    let mut property = raw.property.clone();
    let mut gate = raw.gate.clone();
    if profile_name != DEFAULT_PROFILE || raw.profile.contains_key(DEFAULT_PROFILE) {
        let chain = profile_chain(raw, profile_name, path, source)?;
        for name in chain.iter().rev() {
            let Some(p) = raw.profile.get(name) else {
                continue;
            };
            if let Some(t) = &p.tests {
                tests.overlay(t);
            }
            if let Some(o) = &p.snapshots {
                overlay!(snapshots, o, enabled, pending, unreferenced);
            }
            if let Some(o) = &p.property {
                overlay!(
                    property,
                    o,
                    enabled,
                    cases,
                    max_shrink_iters,
                    max_shrink_time,
                    keep_regressions
                );
            }
            if let Some(g) = &p.gate {
                if g.fail.is_some() {
                    gate.fail = g.fail.clone();
                }
                if g.warn.is_some() {
                    gate.warn = g.warn.clone();
                }
            }
        }
    }

    Ok(Layered {
        tests,
        snapshots,
        property,
        gate,
    })
}

fn parse_raw(path: &Path, source: &str) -> Result<RawConfig> {
    toml::from_str(source).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().to_string();
        let hint = match did_you_mean(&message) {
            Some(near) => format!("did you mean `{near}`?"),
            None if message.starts_with("unknown field") => "remove the key or fix its spelling; `cargo gate explain` lists every key".to_string(),
            None if message.contains("unknown variant") => "use one of the values listed in the message".to_string(),
            None => "fix the TOML syntax or the value's type (`cargo gate explain KEY` shows a key's type)".to_string(),
        };
        Error::Config {
            location: Location::from_span(path, source, span),
            message,
            hint: Some(hint),
        }
    })
}

/// For serde's `unknown field `X`, expected one of `a`, `b`` (and `unknown variant`): the known
/// name closest to X, when it is close enough to be a typo.
fn did_you_mean(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))?;
    let (typed, rest) = rest.split_once('`')?;
    let expected = rest.split_once("expected")?.1;
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    crate::util::suggest::closest(typed, &known).map(str::to_string)
}

/// The profile and the profiles it inherits from, nearest first.
fn profile_chain(raw: &RawConfig, name: &str, path: &Path, source: &str) -> Result<Vec<String>> {
    let mut chain = vec![name.to_string()];
    let mut current = name.to_string();
    loop {
        let Some(p) = raw.profile.get(&current) else {
            if current == DEFAULT_PROFILE {
                break;
            }
            let known: Vec<&str> = raw.profile.keys().map(String::as_str).collect();
            let listed = if known.is_empty() {
                format!("{} defines no profiles", path.display())
            } else {
                format!("{} defines: {}", path.display(), known.join(", "))
            };
            return Err(Error::usage(
                format!("unknown profile `{current}`"),
                Some(format!(
                    "{listed}; add a `[profile.{current}]` table or pick one of those"
                )),
            ));
        };
        let Some(parent) = &p.inherits else {
            break;
        };
        let parent_name = parent.get_ref().clone();
        if chain.contains(&parent_name) {
            return Err(Error::Config {
                location: Location::from_span(path, source, parent.span()),
                message: format!(
                    "profile `{current}` inherits from `{parent_name}`, which forms a cycle"
                ),
                hint: Some("remove one of the `inherits` keys".to_string()),
            });
        }
        if parent_name != DEFAULT_PROFILE && !raw.profile.contains_key(&parent_name) {
            return Err(Error::Config {
                location: Location::from_span(path, source, parent.span()),
                message: format!(
                    "profile `{current}` inherits from unknown profile `{parent_name}`"
                ),
                hint: Some("name a profile defined in this file".to_string()),
            });
        }
        chain.push(parent_name.clone());
        current = parent_name;
    }
    Ok(chain)
}

/// Parses a duration string from gate.toml, pointing errors inside the string.
fn parse_spanned_duration(
    v: &Option<Spanned<String>>,
    at: crate::util::spans::At<'_>,
) -> Result<Option<Duration>> {
    crate::util::spans::opt_duration(at, v)
}

fn parse_spanned_rule(
    rule: &Spanned<String>,
    level: RuleLevel,
    at: crate::util::spans::At<'_>,
) -> Result<Rule> {
    gate::parse_rule(rule.get_ref(), level).map_err(|e| Error::Config {
        // +1 skips the opening quote; rule strings with escapes are rare enough that the
        // offset inside the literal is accurate for every realistic rule.
        location: at(crate::util::spans::rule_point(rule.span(), e.offset)),
        message: e.message,
        hint: Some(e.hint),
    })
}

/// The commented starter file `cargo gate init` writes.
pub const STARTER: &str = r#"# cargo-gate configuration: https://github.com/cargo-gate/cargo-gate#configuration
# Validate with `cargo gate check`; every key below is optional.

[tests]
# jobs = 8                  # tests run at once (default: one per core)
retries = 0                 # extra attempts after a failure; fail-then-pass is reported as flaky
slow_timeout = "60s"        # report a test as slow after this long
# timeout = "5m"            # kill a test (its whole process group) after this long: timed_out
# fail_fast = false         # stop scheduling tests after the first failure
# run_ignored = "default"   # "default" | "only" | "all"
# doctests = true
# allow_empty = false       # a run in which no test ran fails (a filter that matches nothing)
# output_tail = 16384       # bytes of output kept per attempt in the report
# cargo_args = ["--all-features"]
# quarantine = ["net::flaky_dns_lookup"]   # failures reported, never failing the gate
# affected_ignore = ["*.md", ".github/*"]  # --affected-since: files outside packages that affect nothing
# isolation = "auto"        # "process": a process per test; "binary": each binary once, as cargo test
# runner = "nextest"        # run the tests with cargo-nextest and your .config/nextest.toml
# nextest_profile = "ci"    # the nextest profile it uses (default: "default")
# [tests.env]
# RUST_LOG = "info"
# [tests.flaky]             # from the test history `baseline save` records on the default branch
# quarantine = "auto"       # quarantine what the history shows flaky, with the evidence
# min_flaky = 2             # flaky runs in the last `window` (30) runs; released after 10 clean runs

# Coverage from an LCOV file, e.g. written by `cargo llvm-cov --lcov --output-path target/lcov.info`;
# then gate on it with rules such as "coverage.patch >= 80%" or "coverage.lines_delta >= -1%".
# [coverage]
# lcov = "target/lcov.info"
# command = ["cargo", "llvm-cov", "--workspace", "--lcov", "--output-path", "target/lcov.info"]

# Mutation testing of the lines a change touches (cargo-mutants' mutants, all built in one build);
# a missed mutant warns by default, or fail on it with "mutants.missed == 0".
# [mutants]
# minimum_timeout = "20s"   # a mutant's test binary is killed after 5x its time, never before this

[gate]
# Each rule is `METRIC OP VALUE`. `fail` rules decide the verdict; `warn` rules are reported only.
fail = ["tests.failed == 0", "tests.timed_out == 0"]
warn = ["tests.flaky == 0"]

# Profiles override the keys above: `cargo gate run --profile ci`.
[profile.ci]
tests = { retries = 2, timeout = "10m" }
gate = { fail = ["tests.failed == 0", "tests.timed_out == 0", "tests.flaky <= 3"] }
"#;

#[cfg(test)]
mod tests {

    #[test]
    fn unknown_keys_and_values_get_the_nearest_name() {
        assert_eq!(
            did_you_mean("unknown field `retires`, expected one of `jobs`, `retries`, `timeout`"),
            Some("retries".to_string())
        );
        assert_eq!(
            did_you_mean("unknown variant `nextst`, expected `builtin` or `nextest`"),
            Some("nextest".to_string())
        );
        assert_eq!(
            did_you_mean("unknown field `zzzzzzzz`, expected one of `jobs`, `retries`"),
            None
        );
        assert_eq!(did_you_mean("invalid type: string"), None);
    }
    use super::*;
    use crate::suites::infra::spec::{Fault, Stream};

    fn parse(src: &str, profile: Option<&str>) -> Result<Config> {
        Config::parse(Path::new("gate.toml"), src, profile)
    }

    #[test]
    fn every_duration_spelling_means_the_same_in_config_rules_and_thresholds() {
        for spelling in ["5400s", "90min", "90mins", "1h30m", "1.5h", "1h 30min"] {
            let src = format!(
                "[tests]\ntimeout = \"{spelling}\"\n[gate]\nfail = [\"tests.duration < {spelling}\"]\n\
                 [[load]]\nname = \"api\"\nurl = \"http://127.0.0.1:1/\"\nrate = 1\nduration = \"{spelling}\"\n\
                 thresholds = [\"p(95) < {spelling}\"]\n"
            );
            let c = parse(&src, None).unwrap_or_else(|e| panic!("{spelling}: {e}"));
            assert_eq!(
                c.tests.timeout,
                Some(Duration::from_secs(5400)),
                "{spelling}"
            );
            assert_eq!(c.rules[0].limit, 5400.0, "{spelling}");
            assert_eq!(c.load[0].thresholds[0].limit, 5400.0, "{spelling}");
        }
    }

    fn config_error(src: &str, profile: Option<&str>) -> (String, String) {
        match parse(src, profile) {
            Err(e @ Error::Config { .. }) => {
                let hint = e.hint().unwrap_or_default().to_string();
                (e.to_string(), hint)
            }
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn proxy_faults_take_a_stream_and_a_toxicity() {
        let head = "[[proxy]]\nname = \"api\"\nlisten = \"127.0.0.1:1\"\nupstream = \"127.0.0.1:2\"\n[[service]]\nname = \"svc\"\ncmd = [\"true\"]\n[[chaos]]\nname = \"x\"\n";
        let c = parse(
            &format!("{head}fault = {{ kind = \"latency\", target = \"api\", stream = \"downstream\", toxicity = 0.5 }}\n"),
            None,
        )
        .unwrap();
        let Fault::Proxy(name, spec) = &c.chaos[0].fault else {
            panic!("{:?}", c.chaos[0].fault);
        };
        assert_eq!(name, "api");
        assert_eq!(spec.stream, Some(Stream::Downstream));
        assert_eq!(spec.toxicity, 0.5);
        assert_eq!(
            spec.to_string(),
            "latency 100ms on responses only on 50 % of connections"
        );
        for (fault, message, hint) in [
            (
                "{ kind = \"latency\", target = \"api\", stream = \"sideways\" }",
                "gate.toml:10:55: unknown stream `sideways`",
                "\"upstream\" (requests)",
            ),
            (
                "{ kind = \"down\", target = \"api\", stream = \"upstream\" }",
                "gate.toml:10:52: fault `down` acts on the whole connection, not on one stream",
                "remove `stream`",
            ),
            (
                "{ kind = \"reset_peer\", target = \"api\", toxicity = 1.5 }",
                "gate.toml:10:59: toxicity 1.5 is not between 0 and 1",
                "toxicity = 0.5",
            ),
            (
                "{ kind = \"http_error\", target = \"api\", toxicity = 0.5 }",
                "chooses its connections with `fraction` or `first`",
                "replace `toxicity` with `fraction`",
            ),
            (
                "{ kind = \"kill\", target = \"svc\", stream = \"upstream\" }",
                "gate.toml:10:52: `stream` only applies to proxy faults, not to `kill`",
                "remove `stream`",
            ),
        ] {
            let (e, h) = config_error(&format!("{head}fault = {fault}\n"), None);
            assert!(e.contains(message), "{e}");
            assert!(h.contains(hint), "{h}");
        }
    }

    /// The example in the book's Configuration chapter is a valid gate.toml, so the
    /// documentation cannot drift from the parser.
    #[test]
    fn the_book_configuration_example_parses() {
        let section = include_str!("../../docs/src/configuration.md");
        let block = section
            .split_once("```toml\n")
            .and_then(|(_, rest)| rest.split_once("\n```"))
            .map(|(block, _)| block)
            .unwrap();
        for profile in [None, Some("ci"), Some("nightly")] {
            let c = parse(block, profile).unwrap_or_else(|e| panic!("{profile:?}: {e}"));
            assert_eq!(c.tests.runner, TestRunner::Builtin);
            assert!(c.coverage.is_some());
        }
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = parse("", None).unwrap();
        assert_eq!(c.tests, TestsConfig::default());
        // The suites' default rules are added by the registry, not here.
        assert!(c.rules.is_empty());
        assert!(!c.fail_rules_written);
    }

    #[test]
    fn starter_file_is_valid_for_both_profiles() {
        let c = parse(STARTER, None).unwrap();
        assert_eq!(c.rules.len(), 3);
        let ci = parse(STARTER, Some("ci")).unwrap();
        assert_eq!(ci.tests.retries, 2);
        assert_eq!(ci.tests.timeout, Some(Duration::from_secs(600)));
        assert_eq!(
            ci.rules
                .iter()
                .filter(|r| r.level == RuleLevel::Fail)
                .count(),
            3
        );
    }

    #[test]
    fn profiles_override_and_inherit() {
        let src = r#"
[tests]
retries = 1
slow_timeout = "10s"
[gate]
fail = ["tests.failed == 0"]
[profile.ci]
tests = { retries = 3 }
[profile.nightly]
inherits = "ci"
tests = { timeout = "1h" }
gate = { warn = ["tests.flaky == 0"] }
"#;
        let n = parse(src, Some("nightly")).unwrap();
        assert_eq!(n.tests.retries, 3);
        assert_eq!(n.tests.timeout, Some(Duration::from_secs(3600)));
        assert_eq!(n.tests.slow_timeout, Some(Duration::from_secs(10)));
        assert_eq!(n.rules.len(), 2);
        assert_eq!(n.profile, "nightly");
        assert_eq!(parse(src, None).unwrap().tests.retries, 1);
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let (msg, hint) = config_error("[tests]\nretries = 1\nretires = 2\n", None);
        assert!(
            msg.starts_with("gate.toml:3:1: unknown field `retires`"),
            "{msg}"
        );
        assert_eq!(hint, "did you mean `retries`?");
    }

    #[test]
    fn malformed_toml_names_line_and_column() {
        let (msg, _) = config_error("[tests]\nretries = \n", None);
        assert!(msg.starts_with("gate.toml:2:"), "{msg}");
    }

    #[test]
    fn wrong_types_and_values_are_located() {
        let (msg, _) = config_error("[tests]\nretries = \"two\"\n", None);
        assert!(msg.starts_with("gate.toml:2:11:"), "{msg}");
        let (msg, hint) = config_error("[tests]\ntimeout = \"30\"\n", None);
        assert_eq!(
            msg,
            "gate.toml:2:12: `30` has no unit; write e.g. `30s` or `30ms`"
        );
        assert!(hint.contains("duration"));
        let (msg, _) = config_error("[tests]\njobs = 0\n", None);
        assert!(
            msg.starts_with("gate.toml:2:8: `jobs` must be at least 1"),
            "{msg}"
        );
        let (msg, _) = config_error("[tests]\nrun_ignored = \"sometimes\"\n", None);
        assert!(msg.contains("unknown variant"), "{msg}");
    }

    #[test]
    fn bad_rule_points_inside_the_string() {
        let (msg, hint) = config_error(
            "[gate]\nfail = [\"tests.failed == 0\", \"tests.flaky <= 2\", \"mutantz.caught >= 80%\"]\n",
            None,
        );
        assert_eq!(msg, "gate.toml:2:51: unknown metric `mutantz.caught`");
        assert!(hint.contains("known metrics: tests.total"), "{hint}");
        let (msg, _) = config_error("[gate]\nwarn = [\"tests.failed == 0 ms\"]\n", None);
        assert!(msg.starts_with("gate.toml:2:28:"), "{msg}");
    }

    #[test]
    fn unknown_profile_lists_the_known_ones() {
        let err = parse("[profile.ci]\n[profile.nightly]\n", Some("nighly")).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::EXIT_USAGE);
        assert_eq!(err.to_string(), "unknown profile `nighly`");
        assert!(err.hint().unwrap().contains("ci, nightly"));
        let err = Config::defaults(Some("ci")).unwrap_err();
        assert!(err.to_string().contains("there is no gate.toml"));
    }

    #[test]
    fn inheritance_cycles_and_unknown_parents_are_errors() {
        let (msg, _) = config_error(
            "[profile.a]\ninherits = \"b\"\n[profile.b]\ninherits = \"a\"\n",
            Some("a"),
        );
        assert!(msg.contains("cycle"), "{msg}");
        let (msg, _) = config_error("[profile.a]\ninherits = \"zz\"\n", Some("a"));
        assert!(msg.starts_with("gate.toml:2:12:"), "{msg}");
    }

    #[test]
    fn quarantine_matches_exact_and_prefix() {
        let t = TestsConfig {
            quarantine: vec!["net::dns".into(), "slow::*".into()],
            ..TestsConfig::default()
        };
        assert!(t.is_quarantined("pkg net::dns", "net::dns"));
        assert!(t.is_quarantined("pkg slow::a", "slow::a"));
        assert!(!t.is_quarantined("pkg net::dns2", "net::dns2"));
        let ran = [("pkg net::dns", "net::dns"), ("pkg x", "x")];
        assert_eq!(
            t.unmatched_quarantine(&ran).collect::<Vec<_>>(),
            ["slow::*"],
            "an entry that names no test is found"
        );
    }

    /// Quarantine hides flakiness, never breakage: the history's quarantine does not hide a test
    /// that failed every one of several attempts; the user's list hides anything.
    #[test]
    fn history_quarantine_never_hides_a_test_that_failed_every_attempt() {
        let mut t = TestsConfig {
            quarantine: vec!["net::dns".into()],
            ..TestsConfig::default()
        };
        t.auto_quarantine
            .insert("pkg zfails".into(), "flaky in 3 of 30 runs".into());
        let q = |id: &str, name: &str, n| t.quarantine_failure(id, name, n);
        assert_eq!(q("pkg zfails", "zfails", 3), Quarantine::FailedEveryAttempt);
        assert_eq!(q("pkg zfails", "zfails", 1), Quarantine::Hidden);
        assert_eq!(q("pkg net::dns", "net::dns", 3), Quarantine::Hidden);
        assert_eq!(q("pkg other", "other", 3), Quarantine::No);
        use crate::model::CaseStatus;
        let (status, note) = Quarantine::FailedEveryAttempt.apply(CaseStatus::Failed);
        assert_eq!(status, CaseStatus::Failed);
        assert!(note.is_some_and(|n| n.contains("failed every attempt")));
        assert_eq!(
            Quarantine::Hidden.apply(CaseStatus::TimedOut).0,
            CaseStatus::Quarantined
        );
    }
}
