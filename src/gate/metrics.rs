//! The metrics rules may name by a fixed name, with the suite that measures each and its
//! quantity. Names a suite makes up itself (`bench.*`, `load.NAME.*`) are rule targets of their
//! own (see `Target`).

use crate::model::{Role, SuiteKind};

/// What kind of quantity a metric is; decides which units a limit may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// A number of cases.
    Count,
    /// A percentage, written with `%`.
    Percent,
    /// A duration, written with a time unit; stored in seconds.
    Seconds,
    /// A measured value (benchmarks): a time unit converts to seconds, no unit compares raw.
    Measured,
}

/// A metric a rule may name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricDef {
    /// Full name, e.g. `tests.failed`.
    pub name: &'static str,
    /// Suite it belongs to.
    pub suite: SuiteKind,
    /// Its quantity.
    pub quantity: Quantity,
    /// What a run does with it besides gating: only a `Compared` metric has a baseline, so only
    /// it can be named in a `.regression` rule.
    pub role: Role,
    /// One line for `cargo gate check --list-metrics` and error hints.
    pub help: &'static str,
}

/// The metrics measured against the test history in the notes: without it they are not
/// evaluated (skipped), never failed.
pub const FROM_HISTORY: &[&str] = &[
    "tests.new_failures",
    "tests.still_failing",
    "tests.new_flaky",
];

/// Every metric rules can name. An unknown name is a config error, never a silent pass.
pub const METRICS: &[MetricDef] = &[
    MetricDef {
        name: "tests.total",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "all test cases, including skipped",
    },
    MetricDef {
        name: "tests.executed",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "cases that ran (total minus skipped)",
    },
    MetricDef {
        name: "tests.passed",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "cases that passed on the first attempt",
    },
    MetricDef {
        name: "tests.failed",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "cases that failed on every attempt",
    },
    MetricDef {
        name: "tests.flaky",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "cases that failed, then passed on a retry",
    },
    MetricDef {
        name: "tests.timed_out",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "cases killed after their timeout",
    },
    MetricDef {
        name: "tests.skipped",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "cases not run (ignored, fail-fast, interrupted)",
    },
    MetricDef {
        name: "tests.quarantined",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "quarantined cases that failed",
    },
    MetricDef {
        name: "tests.new_failures",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "failing tests that passed on the base (needs test history in the notes)",
    },
    MetricDef {
        name: "tests.still_failing",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "failing tests that failed on the base too (needs test history)",
    },
    MetricDef {
        name: "tests.new_flaky",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "flaky tests never flaky in the base's history (needs test history)",
    },
    MetricDef {
        name: "tests.pass_rate",
        suite: SuiteKind::Tests,
        quantity: Quantity::Percent,
        role: Role::Gated,
        help: "passed + flaky over executed, in %",
    },
    MetricDef {
        name: "tests.duration",
        suite: SuiteKind::Tests,
        quantity: Quantity::Seconds,
        role: Role::Compared,
        help: "wall time of the tests suite",
    },
    MetricDef {
        name: "snapshots.pending",
        suite: SuiteKind::Snapshots,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "snapshots that changed or are new (pending review)",
    },
    MetricDef {
        name: "snapshots.unreferenced",
        suite: SuiteKind::Snapshots,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "snapshot files no test asserted (needs unreferenced = \"report\")",
    },
    MetricDef {
        name: "property.failed",
        suite: SuiteKind::Property,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "property tests that found a failing input",
    },
    MetricDef {
        name: "infra.failed",
        suite: SuiteKind::Infra,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "checks (and services) that did not pass",
    },
    MetricDef {
        name: "infra.passed",
        suite: SuiteKind::Infra,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "checks (and services) that passed",
    },
    MetricDef {
        name: "chaos.failed",
        suite: SuiteKind::Chaos,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "experiments whose hypothesis did not hold",
    },
    MetricDef {
        name: "chaos.passed",
        suite: SuiteKind::Chaos,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "experiments whose hypothesis held",
    },
    MetricDef {
        name: "bench.failed",
        suite: SuiteKind::Bench,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "benchmark results that could not be read and commands that failed",
    },
    MetricDef {
        name: "load.failed",
        suite: SuiteKind::Load,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "load scenarios that could not run (no connection, a bad certificate, ...)",
    },
    MetricDef {
        name: "coverage.failed",
        suite: SuiteKind::Coverage,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "1 when the coverage report could not be produced or read",
    },
    MetricDef {
        name: "coverage.lines",
        suite: SuiteKind::Coverage,
        quantity: Quantity::Percent,
        role: Role::Trend,
        help: "instrumented lines the tests ran, in %",
    },
    MetricDef {
        name: "coverage.functions",
        suite: SuiteKind::Coverage,
        quantity: Quantity::Percent,
        role: Role::Trend,
        help: "functions the tests called, in %",
    },
    MetricDef {
        name: "coverage.branches",
        suite: SuiteKind::Coverage,
        quantity: Quantity::Percent,
        role: Role::Trend,
        help: "branches taken, in % (when the tool records branches)",
    },
    MetricDef {
        name: "coverage.lines_delta",
        suite: SuiteKind::Coverage,
        quantity: Quantity::Percent,
        role: Role::Gated,
        help: "change of coverage.lines since the base's saved note, in percentage points",
    },
    MetricDef {
        name: "coverage.patch",
        suite: SuiteKind::Coverage,
        quantity: Quantity::Percent,
        role: Role::Gated,
        help: "changed lines (since the base) the tests ran, in %; 100 with no changed code",
    },
    MetricDef {
        name: "coverage.patch_missed",
        suite: SuiteKind::Coverage,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "changed lines (since the base) the tests never ran",
    },
    MetricDef {
        name: "security.failed",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "1 when a security check could not run (no Cargo.lock, no advisory database, cargo metadata failed)",
    },
    MetricDef {
        name: "security.advisories",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Trend,
        help: "vulnerability advisories (RustSec) against the locked crates, ignored ones left out",
    },
    MetricDef {
        name: "security.new_advisories",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "vulnerability advisories the change introduces (not found on the base)",
    },
    MetricDef {
        name: "security.unmaintained",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Trend,
        help: "informational advisories: unmaintained crates, ignored ones left out",
    },
    MetricDef {
        name: "security.new_unmaintained",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "unmaintained crates the change introduces (not found on the base)",
    },
    MetricDef {
        name: "security.unsound",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Trend,
        help: "informational advisories: unsound crates, ignored ones left out",
    },
    MetricDef {
        name: "security.new_unsound",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "unsound crates the change introduces (not found on the base)",
    },
    MetricDef {
        name: "security.notices",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Trend,
        help: "other informational advisories, ignored ones left out",
    },
    MetricDef {
        name: "security.new_notices",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "informational notices the change introduces (not found on the base)",
    },
    MetricDef {
        name: "security.licenses",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Trend,
        help: "crates whose license the [security.licenses] policy does not allow, ignored ones left out",
    },
    MetricDef {
        name: "security.new_licenses",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "crates with a license not allowed that the change introduces (not on the base)",
    },
    MetricDef {
        name: "security.sources",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Trend,
        help: "crates from a registry or git repository not allowed, ignored ones left out",
    },
    MetricDef {
        name: "security.new_sources",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "crates from a source not allowed that the change introduces (not on the base)",
    },
    MetricDef {
        name: "security.yanked",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Trend,
        help: "locked versions yanked from crates.io (as the local index knows), ignored ones left out",
    },
    MetricDef {
        name: "security.new_yanked",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "yanked versions the change locks (not on the base)",
    },
    MetricDef {
        name: "security.secrets",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Trend,
        help: "credentials in the lines the change adds",
    },
    MetricDef {
        name: "security.ignored",
        suite: SuiteKind::Security,
        quantity: Quantity::Count,
        role: Role::Trend,
        help: "findings set aside by an `ignore` entry that has not expired",
    },
    MetricDef {
        name: "mutants.failed",
        suite: SuiteKind::Mutants,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "1 when the mutants could not all be tried (the workspace does not build, its tests fail unmutated, the run was interrupted)",
    },
    MetricDef {
        name: "mutants.missed",
        suite: SuiteKind::Mutants,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "mutants of the change no test noticed: every test passed with the change's code altered",
    },
    MetricDef {
        name: "mutants.caught",
        suite: SuiteKind::Mutants,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "mutants of the change a test caught (failed with the mutant in)",
    },
    MetricDef {
        name: "mutants.timeout",
        suite: SuiteKind::Mutants,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "mutants whose tests ran past their timeout (the mutant made the code loop or stall)",
    },
    MetricDef {
        name: "mutants.unviable",
        suite: SuiteKind::Mutants,
        quantity: Quantity::Count,
        role: Role::Gated,
        help: "mutants that do not compile (nothing to learn from them)",
    },
    MetricDef {
        name: "mutants.score",
        suite: SuiteKind::Mutants,
        quantity: Quantity::Percent,
        role: Role::Trend,
        help: "caught / (caught + missed), in %; not measured without either",
    },
];

/// Looks a metric up by name.
pub fn metric_def(name: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|m| m.name == name)
}
