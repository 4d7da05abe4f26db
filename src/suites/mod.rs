//! The suites and the one interface they share. [`REGISTRY`] is the only list of suites:
//! `--suite`, `list`, default rules, sharding and the documentation tables all come from it.
//! Adding a suite is one folder implementing [`Suite`] and one line in [`REGISTRY`]
//! (ARCHITECTURE.md, "How to add a suite").

pub mod bench;
pub mod coverage;
pub mod infra;
pub mod load;
pub mod mutants;
pub mod property;
pub mod security;
pub mod snapshot;
pub mod testrun;
pub mod watch;

use std::path::Path;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::event::{Event, Sink};
use crate::gate::{self, Rule};
use crate::model::{self, Case, CaseStatus, RuleLevel, SuiteKind, SuiteStatus};
use crate::workspace::Workspace;
use testrun::RunOptions;

/// What every suite of one run shares: the workspace, the config, the selection from the command
/// line, and what earlier suites left (their reports; the services they started).
pub struct RunContext<'a> {
    /// The workspace under test.
    pub ws: &'a Workspace,
    /// The resolved configuration.
    pub config: &'a Config,
    /// The run selects every test (no filter, package, shard or `--affected-since`): only
    /// then can a suite tell something that is gone from something that was not selected.
    pub every_test: bool,
    /// Where the run's outputs go (`target/gate/`).
    pub out_dir: &'a Path,
    /// `--baseline-rev`: the base the change is compared with.
    pub baseline_rev: Option<&'a str>,
    /// Variables the test processes get, added in [`Suite::prepare`] by the suites that watch
    /// the tests (the user's `[tests.env]` wins over them).
    pub test_env: Vec<(String, String)>,
    /// Reports of the suites that already ran, in order.
    pub finished: Vec<model::Suite>,
    /// Services and proxies, started for the first suite that needs them and stopped at the end.
    pub environment: Option<infra::Environment>,
    /// Where the run's events go: the reporter decides how to show them (suites never print).
    pub events: Sink<'a>,
}

impl RunContext<'_> {
    /// The report of a suite that already ran.
    pub fn finished(&self, kind: SuiteKind) -> Option<&model::Suite> {
        self.finished.iter().find(|s| s.kind == kind)
    }

    /// The services and proxies, started on first use.
    pub fn environment(&mut self) -> Result<&mut infra::Environment> {
        match &mut self.environment {
            Some(env) => Ok(env),
            slot => Ok(slot.insert(infra::Environment::start(self.config, &self.ws.root)?)),
        }
    }
}

/// One entry of `cargo gate list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Listed {
    /// The case id, as in the report.
    pub id: String,
    /// `test`, `doctests`, `service`, `check`, `chaos`, `load`.
    pub kind: &'static str,
    /// Marked `#[ignore]`.
    pub ignored: bool,
    /// Would run (an ignored test does not, unless `--run-ignored`).
    pub runs: bool,
}

impl Listed {
    /// Entries `KIND NAME` for each name: what a suite other than the tests lists.
    pub fn all<'n>(kind: &'static str, names: impl IntoIterator<Item = &'n String>) -> Vec<Listed> {
        names.into_iter().map(|n| Listed::named(kind, n)).collect()
    }

    /// An entry of a suite other than the tests: `KIND NAME`, always run.
    pub fn named(kind: &'static str, name: &str) -> Listed {
        Listed {
            id: format!("{kind} {name}"),
            kind,
            ignored: false,
            runs: true,
        }
    }
}

/// What the command line says to the suites that take options of their own, one field per
/// such suite, as [`Config`] has one section per suite (the rest of the command line adjusts
/// the config).
#[derive(Debug, Clone, Default)]
pub struct SuiteOptions {
    /// The tests suite's selection: packages, name filters, shard, affected packages.
    pub tests: RunOptions,
    /// The security suite's `--offline`: its cached advisory database, as it is.
    pub offline: bool,
    /// The mutants suite's `--mutate PATH[:fn]`: mutate these instead of the change's lines.
    pub mutate: Vec<String>,
}

/// A suite: built from the config, it can say what it would run and run against a
/// [`RunContext`], returning its part of the report.
pub trait Suite {
    /// Which suite this is.
    fn kind(&self) -> SuiteKind;

    /// Called on every selected suite before the first one runs: suites that watch the tests
    /// start watching here and add variables to [`RunContext::test_env`].
    fn prepare(&mut self, _cx: &mut RunContext<'_>) -> Result<()> {
        Ok(())
    }

    /// What [`Suite::run`] would run, without running it.
    fn list(&self, _cx: &RunContext<'_>) -> Result<Vec<Listed>> {
        Ok(Vec::new())
    }

    /// Runs the suite. A suite that cannot run returns a report with status `error`; `Err` is
    /// for problems that stop the whole run (bad input, a missing tool).
    fn run(&mut self, cx: &mut RunContext<'_>) -> Result<model::Suite>;
}

/// How a suite takes part in `--partition K/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shard {
    /// Its work is split between the shards (the tests, and what is collected from them).
    Split,
    /// It runs once, on shard 1: on every shard it would repeat the same work and make `merge`
    /// refuse the duplicates.
    FirstOnly,
}

/// What the registry knows about a suite.
pub struct Entry {
    /// The suite.
    pub kind: SuiteKind,
    /// One line for `--help` and the documentation.
    pub help: &'static str,
    /// Its part in partitioned runs.
    pub shard: Shard,
    /// It is collected from the tests run, so selecting it runs the tests too.
    pub from_tests: bool,
    /// Whether it runs when `--suite` does not name it: configured in gate.toml, or (for
    /// `None` workspace) as far as the config alone can tell.
    pub enabled: fn(&Config, Option<&Workspace>) -> bool,
    /// It runs with the services up. Their startup is reported by the `infra` suite, which
    /// then runs too.
    pub needs_services: fn(&Config) -> bool,
    /// `fail` rules it adds when gate.toml lists none and the suite is enabled.
    pub default_rules: &'static [&'static str],
    /// `warn` rules it adds when gate.toml lists no `warn` rules and the suite is enabled.
    pub default_warn: &'static [&'static str],
    /// `fail` rules that hold whatever gate.toml lists, while the suite is enabled: that it
    /// measured at all (a file it could not read, a command or scenario that could not run).
    /// A list that names the metric itself (e.g. `warn = ["bench.failed == 0"]`) replaces it.
    pub collection_rules: &'static [&'static str],
    /// Makes the suite from the config and its own options.
    pub build: fn(&Config, &SuiteOptions) -> Result<Box<dyn Suite>>,
}

fn uses(ws: Option<&Workspace>, name: &str) -> bool {
    ws.is_some_and(|ws| workspace_uses(ws, name))
}

/// Every suite, in the order they run.
pub const REGISTRY: &[Entry] = &[
    Entry {
        kind: SuiteKind::Tests,
        help: "unit, integration and doc tests (built-in runner or cargo-nextest)",
        shard: Shard::Split,
        from_tests: false,
        enabled: |c, _| c.tests.enabled,
        needs_services: |_| false,
        default_rules: &["tests.failed == 0", "tests.timed_out == 0"],
        default_warn: &[],
        collection_rules: &[],
        build: testrun::build,
    },
    Entry {
        kind: SuiteKind::Snapshots,
        help: "insta snapshots the tests left pending",
        shard: Shard::Split,
        from_tests: true,
        enabled: |c, ws| c.snapshots.enabled.unwrap_or_else(|| uses(ws, "insta")),
        needs_services: |_| false,
        default_rules: &[],
        default_warn: &[],
        collection_rules: &[],
        build: snapshot::build,
    },
    Entry {
        kind: SuiteKind::Property,
        help: "proptest properties that found a failing input",
        shard: Shard::Split,
        from_tests: true,
        enabled: |c, ws| c.property.enabled.unwrap_or_else(|| uses(ws, "proptest")),
        needs_services: |_| false,
        default_rules: &[],
        default_warn: &[],
        collection_rules: &[],
        build: property::build,
    },
    Entry {
        kind: SuiteKind::Bench,
        help: "benchmarks (libtest, criterion, hyperfine, custom JSON) and timed commands",
        shard: Shard::FirstOnly,
        from_tests: false,
        enabled: |c, _| c.bench.enabled,
        needs_services: |_| false,
        default_rules: &["bench.failed == 0"],
        default_warn: &[],
        collection_rules: &["bench.failed == 0"],
        build: bench::build,
    },
    Entry {
        kind: SuiteKind::Coverage,
        help: "line, function, branch and patch coverage from an LCOV file",
        shard: Shard::FirstOnly,
        from_tests: false,
        enabled: |c, _| c.coverage.is_some(),
        needs_services: |_| false,
        default_rules: &["coverage.failed == 0"],
        default_warn: &[],
        collection_rules: &["coverage.failed == 0"],
        build: coverage::build,
    },
    Entry {
        kind: SuiteKind::Security,
        help: "advisories, licenses and sources of the dependencies; secrets in the change",
        shard: Shard::FirstOnly,
        from_tests: false,
        enabled: |c, _| c.security.is_some(),
        needs_services: |_| false,
        default_rules: &[
            "security.new_advisories == 0",
            "security.new_licenses == 0",
            "security.new_sources == 0",
            "security.secrets == 0",
        ],
        default_warn: &["security.advisories == 0", "security.new_yanked == 0"],
        collection_rules: &["security.failed == 0"],
        build: security::build,
    },
    Entry {
        kind: SuiteKind::Mutants,
        help: "mutation testing of the change: every mutant built once, behind a switch",
        shard: Shard::FirstOnly,
        from_tests: false,
        enabled: |c, _| c.mutants.is_some(),
        needs_services: |_| false,
        default_rules: &[],
        default_warn: &["mutants.missed == 0"],
        collection_rules: &["mutants.failed == 0"],
        build: mutants::build,
    },
    Entry {
        kind: SuiteKind::Infra,
        help: "services started around the run and checks on them",
        shard: Shard::FirstOnly,
        from_tests: false,
        // Proxies too: one that cannot listen is a failed startup case here, not a silent pass.
        enabled: |c, _| !c.checks.is_empty() || !c.services.is_empty() || !c.proxies.is_empty(),
        needs_services: |_| true,
        default_rules: &["infra.failed == 0"],
        default_warn: &[],
        collection_rules: &[],
        build: infra::build_checks,
    },
    Entry {
        kind: SuiteKind::Chaos,
        help: "chaos experiments: faults injected, steady state checked",
        shard: Shard::FirstOnly,
        from_tests: false,
        enabled: |c, _| !c.chaos.is_empty(),
        needs_services: |_| true,
        default_rules: &["chaos.failed == 0"],
        default_warn: &[],
        collection_rules: &[],
        build: infra::build_chaos,
    },
    Entry {
        kind: SuiteKind::Load,
        help: "HTTP load scenarios with k6-style thresholds",
        shard: Shard::FirstOnly,
        from_tests: false,
        enabled: |c, _| !c.load.is_empty(),
        needs_services: |c| !c.services.is_empty(),
        default_rules: &["load.failed == 0"],
        default_warn: &[],
        collection_rules: &["load.failed == 0"],
        build: load::build,
    },
];

/// The suite called `name`, or a usage error listing the names.
pub fn by_name(name: &str) -> Result<&'static Entry> {
    REGISTRY
        .iter()
        .find(|e| e.kind.as_str() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = REGISTRY.iter().map(|e| e.kind.as_str()).collect();
            let guess = crate::util::suggest::closest(name, &names)
                .map(|g| format!("did you mean `{g}`? "))
                .unwrap_or_default();
            Error::usage(
                format!("unknown suite `{name}`"),
                Some(format!("{guess}available suites: {}", names.join(", "))),
            )
        })
}

/// Puts the default `fail` rules of the enabled suites first when gate.toml lists none.
pub fn with_default_rules(mut config: Config) -> Result<Config> {
    let parse = |r: &str| {
        gate::parse_rule(r, RuleLevel::Fail)
            .map_err(|err| Error::Internal(format!("built-in rule `{r}`: {err}")))
    };
    let mut defaults: Vec<Rule> = Vec::new();
    if !config.fail_rules_written {
        // The tests' rules apply even with the tests switched off: they are then reported as
        // skipped, which says so in the gate table instead of passing in silence.
        let applies = |e: &Entry| e.kind == SuiteKind::Tests || (e.enabled)(&config, None);
        for e in REGISTRY.iter().filter(|e| applies(e)) {
            for r in e.default_rules {
                defaults.push(parse(r)?);
            }
        }
    }
    config.rules.splice(0..0, defaults);
    if !config.warn_rules_written {
        let enabled: Vec<&Entry> = REGISTRY
            .iter()
            .filter(|e| (e.enabled)(&config, None))
            .collect();
        for r in enabled.iter().flat_map(|e| e.default_warn) {
            let rule = gate::parse_rule(r, RuleLevel::Warn)
                .map_err(|err| Error::Internal(format!("built-in rule `{r}`: {err}")))?;
            config.rules.push(rule);
        }
        config.warn_rules_written = true;
    }
    // A suite that could not measure fails the gate whatever the list says, unless the list
    // decides about that metric itself. They come after the list, which stays as written.
    let mut kept = Vec::new();
    for e in REGISTRY.iter().filter(|e| (e.enabled)(&config, None)) {
        for r in e.collection_rules {
            let rule = parse(r)?;
            if !config.rules.iter().any(|w| w.target.same_as(&rule.target)) {
                kept.push(rule);
            }
        }
    }
    config.rules.extend(kept);
    config.fail_rules_written = true;
    Ok(config)
}

/// Which suites run: the ones `--suite` names (and the tests, for the suites collected from
/// them), else the enabled ones; on a later shard of a partition only the split suites.
pub fn select(
    config: &Config,
    ws: &Workspace,
    named: &[SuiteKind],
    later_shard: bool,
) -> Vec<&'static Entry> {
    select_from(REGISTRY, config, Some(ws), named, later_shard)
}

fn select_from<'r>(
    registry: &'r [Entry],
    config: &Config,
    ws: Option<&Workspace>,
    named: &[SuiteKind],
    later_shard: bool,
) -> Vec<&'r Entry> {
    let picked = |e: &Entry| {
        if named.is_empty() {
            (e.enabled)(config, ws) && (!later_shard || e.shard == Shard::Split)
        } else {
            named.contains(&e.kind)
        }
    };
    let any_from_tests = registry.iter().any(|e| e.from_tests && picked(e));
    let any_services = registry
        .iter()
        .any(|e| picked(e) && (e.needs_services)(config));
    registry
        .iter()
        .filter(|e| {
            picked(e)
                || (e.kind == SuiteKind::Tests && any_from_tests)
                || (e.kind == SuiteKind::Infra && any_services)
        })
        .collect()
}

/// Runs the selected suites in registry order: every one is prepared first, then each runs
/// (none after Ctrl-C), and the services are stopped whatever happens.
pub fn run_all(entries: &[&Entry], options: &SuiteOptions, cx: &mut RunContext<'_>) -> Result<()> {
    let mut suites = Vec::new();
    for e in entries {
        suites.push((e.build)(cx.config, options)?);
    }
    let result = (|| {
        for s in &mut suites {
            s.prepare(cx)?;
        }
        for s in &mut suites {
            if crate::exec::process::is_cancelled() {
                break;
            }
            (cx.events)(&Event::SuiteStarted(s.kind()));
            let report = s.run(cx)?;
            (cx.events)(&Event::SuiteFinished(&report));
            cx.finished.push(report);
        }
        Ok(())
    })();
    if let Some(env) = cx.environment.take() {
        env.stop();
    }
    result
}

/// True when a workspace member depends (in any section) on the crate `name`.
pub fn workspace_uses(ws: &Workspace, name: &str) -> bool {
    ws.members
        .iter()
        .any(|p| p.dependencies.iter().any(|d| d.name == name))
}

/// A path relative to the workspace root, for ids and messages.
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

pub(crate) fn suite(kind: SuiteKind, duration: f64, cases: Vec<Case>) -> model::Suite {
    let mut s = model::Suite {
        kind,
        name: kind.as_str().to_string(),
        status: SuiteStatus::Passed,
        duration,
        error: None,
        cases,
        metrics: Vec::new(),
        details: model::Details::None,
    };
    s.refresh_status();
    s
}

fn failed_case(id: String, name: String, message: String, detail: String) -> Case {
    Case {
        id,
        name,
        package: None,
        binary: None,
        status: CaseStatus::Failed,
        attempts: Vec::new(),
        location: None,
        message: Some(message),
        detail: Some(detail),
        regions: Vec::new(),
        diff: Vec::new(),
        history: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        static CALLS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    fn record(call: String) {
        CALLS.with(|c| c.borrow_mut().push(call));
    }

    /// A suite as small as one can be: it says when it is prepared and run, and reports one
    /// case naming what it saw of the suites before it.
    struct Tiny(SuiteKind);

    impl Suite for Tiny {
        fn kind(&self) -> SuiteKind {
            self.0
        }

        fn prepare(&mut self, cx: &mut RunContext<'_>) -> Result<()> {
            record(format!("prepare {}", self.0.as_str()));
            cx.test_env
                .push((format!("SEEN_{}", self.0.as_str()), "1".to_string()));
            Ok(())
        }

        fn run(&mut self, cx: &mut RunContext<'_>) -> Result<model::Suite> {
            record(format!("run {}", self.0.as_str()));
            let before: Vec<&str> = cx.finished.iter().map(|s| s.name.as_str()).collect();
            let case = Case::single(
                "tiny",
                "tiny",
                CaseStatus::Passed,
                0.0,
                format!(
                    "after [{}] with {} env",
                    before.join(","),
                    cx.test_env.len()
                ),
                String::new(),
            );
            Ok(suite(self.0, 0.0, vec![case]))
        }
    }

    fn tiny(kind: SuiteKind, shard: Shard, from_tests: bool, needs_services: bool) -> Entry {
        Entry {
            kind,
            help: "a tiny suite",
            shard,
            from_tests,
            enabled: |_, _| true,
            needs_services: if needs_services { |_| true } else { |_| false },
            default_rules: &[],
            default_warn: &[],
            collection_rules: &[],
            build: |_, _| Ok(Box::new(Tiny(SuiteKind::Bench))),
        }
    }

    fn kinds(entries: &[&Entry]) -> Vec<SuiteKind> {
        entries.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn every_suite_kind_is_registered_once_with_its_name() {
        let all = [
            SuiteKind::Tests,
            SuiteKind::Snapshots,
            SuiteKind::Property,
            SuiteKind::Bench,
            SuiteKind::Load,
            SuiteKind::Infra,
            SuiteKind::Chaos,
            SuiteKind::Coverage,
            SuiteKind::Security,
            SuiteKind::Mutants,
        ];
        for kind in all {
            let n = REGISTRY.iter().filter(|e| e.kind == kind).count();
            assert_eq!(n, 1, "{kind:?}");
            assert_eq!(by_name(kind.as_str()).map(|e| e.kind).ok(), Some(kind));
        }
        assert_eq!(REGISTRY.len(), all.len());
        let e = by_name("bnech")
            .err()
            .and_then(|e| e.hint().map(str::to_string))
            .unwrap_or_default();
        assert!(e.starts_with("did you mean `bench`?"), "{e}");
    }

    #[test]
    fn collection_rules_hold_with_a_custom_list_unless_it_decides_them() {
        let rules_of = |toml: &str| -> Vec<(String, RuleLevel)> {
            let c = Config::parse(std::path::Path::new("gate.toml"), toml, None).unwrap();
            with_default_rules(c)
                .unwrap()
                .rules
                .iter()
                .map(|r| (r.source.clone(), r.level))
                .collect()
        };
        let bench = "[[bench.command]]\nname = \"x\"\ncmd = [\"true\"]\n";
        let custom = rules_of(&format!(
            "{bench}[gate]\nfail = [\"bench.*.regression < 5%\"]\n"
        ));
        assert!(
            custom.contains(&("bench.failed == 0".to_string(), RuleLevel::Fail)),
            "{custom:?}"
        );
        assert!(
            !custom.iter().any(|(r, _)| r.starts_with("tests.")),
            "{custom:?}"
        );
        let warned = rules_of(&format!(
            "{bench}[gate]\nfail = []\nwarn = [\"bench.failed == 0\"]\n"
        ));
        assert_eq!(
            warned,
            vec![("bench.failed == 0".to_string(), RuleLevel::Warn)]
        );
        // The same metric written without spaces decides it too.
        let compact = rules_of(&format!(
            "{bench}[gate]\nfail = []\nwarn = [\"bench.failed<=0\"]\n"
        ));
        assert_eq!(
            compact,
            vec![("bench.failed<=0".to_string(), RuleLevel::Warn)]
        );
        // Defaults: added once, not twice.
        let defaults = rules_of(bench);
        assert_eq!(
            defaults
                .iter()
                .filter(|(r, _)| r == "bench.failed == 0")
                .count(),
            1
        );
        // A suite that is not configured adds nothing.
        assert!(
            !rules_of("[gate]\nfail = []\n")
                .iter()
                .any(|(r, _)| r.starts_with("bench"))
        );
    }

    #[test]
    fn the_event_schema_names_every_suite() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/events.schema.json")).unwrap();
        let mut named: Vec<&str> = schema["$defs"]["suite"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut kinds: Vec<&str> = SuiteKind::ALL.iter().map(|k| k.as_str()).collect();
        named.sort_unstable();
        kinds.sort_unstable();
        assert_eq!(named, kinds, "docs/events.schema.json's suite names");
    }

    #[test]
    fn the_book_suite_table_is_the_registry() {
        let readme = include_str!("../../docs/src/commands.md");
        for e in REGISTRY {
            let shard = match e.shard {
                Shard::Split => "split",
                Shard::FirstOnly => "shard 1",
            };
            let list = |rules: &[&str]| {
                if rules.is_empty() {
                    "—".to_string()
                } else {
                    rules
                        .iter()
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            let row = format!(
                "| `{}` | {} | {shard} | {} | {} |",
                e.kind.as_str(),
                e.help,
                list(e.default_rules),
                list(e.collection_rules)
            );
            assert!(
                readme.contains(&row),
                "docs/src/commands.md lacks the row:\n{row}"
            );
        }
    }

    #[test]
    fn selection_follows_the_registry_entries() {
        let config = Config::defaults(None).unwrap();
        let registry = [
            tiny(SuiteKind::Tests, Shard::Split, false, false),
            tiny(SuiteKind::Snapshots, Shard::Split, true, false),
            tiny(SuiteKind::Bench, Shard::FirstOnly, false, false),
            tiny(SuiteKind::Infra, Shard::FirstOnly, false, false),
            tiny(SuiteKind::Chaos, Shard::FirstOnly, false, true),
        ];
        let pick = |named: &[SuiteKind], later| {
            kinds(&select_from(&registry, &config, None, named, later))
        };
        assert_eq!(pick(&[], false).len(), 5, "all enabled");
        assert_eq!(
            pick(&[], true),
            [SuiteKind::Tests, SuiteKind::Snapshots],
            "a later shard runs the split suites only"
        );
        assert_eq!(pick(&[SuiteKind::Bench], false), [SuiteKind::Bench]);
        assert_eq!(
            pick(&[SuiteKind::Snapshots], false),
            [SuiteKind::Tests, SuiteKind::Snapshots],
            "a suite collected from the tests brings the tests"
        );
        assert_eq!(
            pick(&[SuiteKind::Chaos], false),
            [SuiteKind::Infra, SuiteKind::Chaos],
            "a suite that needs the services brings the suite reporting them"
        );
    }

    #[test]
    fn run_all_prepares_every_suite_before_running_them_in_order() {
        CALLS.with(|c| c.borrow_mut().clear());
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace {
            root: dir.path().to_path_buf(),
            manifest_path: dir.path().join("Cargo.toml"),
            target_dir: dir.path().join("target"),
            members: Vec::new(),
        };
        let config = Config::defaults(None).unwrap();
        let mut cx = RunContext {
            ws: &ws,
            config: &config,
            every_test: true,
            out_dir: dir.path(),
            baseline_rev: None,
            test_env: Vec::new(),
            finished: Vec::new(),
            environment: None,
            events: &|e| match e {
                Event::SuiteStarted(kind) => record(format!("started {}", kind.as_str())),
                Event::SuiteFinished(s) => record(format!("finished {}", s.name)),
                other => record(other.name().to_string()),
            },
        };
        let first = Entry {
            build: |_, _| Ok(Box::new(Tiny(SuiteKind::Tests))),
            ..tiny(SuiteKind::Tests, Shard::Split, false, false)
        };
        let second = Entry {
            build: |_, _| Ok(Box::new(Tiny(SuiteKind::Bench))),
            ..tiny(SuiteKind::Bench, Shard::Split, false, false)
        };
        run_all(&[&first, &second], &SuiteOptions::default(), &mut cx).unwrap();
        assert_eq!(
            CALLS.with(|c| c.borrow().clone()),
            [
                "prepare tests",
                "prepare bench",
                "started tests",
                "run tests",
                "finished tests",
                "started bench",
                "run bench",
                "finished bench"
            ]
        );
        let messages: Vec<&str> = cx
            .finished
            .iter()
            .filter_map(|s| s.cases[0].message.as_deref())
            .collect();
        assert_eq!(
            messages,
            ["after [] with 2 env", "after [tests] with 2 env"]
        );
    }

    #[test]
    fn the_registry_holds_every_kind_once_in_order() {
        let kinds: Vec<SuiteKind> = REGISTRY.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, SuiteKind::ALL);
    }
}
