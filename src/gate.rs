//! Gate rules: parsing (`"tests.flaky <= 2"`) and pure evaluation against a Report.
//! No I/O here, so every rule is unit-tested without processes.

use std::fmt;

use crate::report::{
    Counts, GateResult, GateStatus, Report, RuleLevel, SuiteKind, SuiteStatus, Verdict,
    VerdictStatus,
};
use crate::units::format_seconds;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    fn holds(self, observed: f64, limit: f64) -> bool {
        // Counts and durations are compared with a tolerance far below any unit we print,
        // so `tests.pass_rate == 100%` is not broken by float rounding.
        let eps = 1e-9 * limit.abs().max(1.0);
        match self {
            Op::Eq => (observed - limit).abs() <= eps,
            Op::Ne => (observed - limit).abs() > eps,
            Op::Lt => observed < limit - eps,
            Op::Le => observed <= limit + eps,
            Op::Gt => observed > limit + eps,
            Op::Ge => observed >= limit - eps,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// What kind of quantity a metric is; decides which units a limit may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// A number of cases.
    Count,
    /// A percentage, written with `%`.
    Percent,
    /// A duration, written with a time unit; stored in seconds.
    Seconds,
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
    /// One line for `cargo gate check --list-metrics` and error hints.
    pub help: &'static str,
}

/// Every metric rules can name. An unknown name is a config error, never a silent pass.
pub const METRICS: &[MetricDef] = &[
    MetricDef {
        name: "tests.total",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        help: "all test cases, including skipped",
    },
    MetricDef {
        name: "tests.executed",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        help: "cases that ran (total minus skipped)",
    },
    MetricDef {
        name: "tests.passed",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        help: "cases that passed on the first attempt",
    },
    MetricDef {
        name: "tests.failed",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        help: "cases that failed on every attempt",
    },
    MetricDef {
        name: "tests.flaky",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        help: "cases that failed, then passed on a retry",
    },
    MetricDef {
        name: "tests.timed_out",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        help: "cases killed after their timeout",
    },
    MetricDef {
        name: "tests.skipped",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        help: "cases not run (ignored, fail-fast, interrupted)",
    },
    MetricDef {
        name: "tests.quarantined",
        suite: SuiteKind::Tests,
        quantity: Quantity::Count,
        help: "quarantined cases that failed",
    },
    MetricDef {
        name: "tests.pass_rate",
        suite: SuiteKind::Tests,
        quantity: Quantity::Percent,
        help: "passed + flaky over executed, in %",
    },
    MetricDef {
        name: "tests.duration",
        suite: SuiteKind::Tests,
        quantity: Quantity::Seconds,
        help: "wall time of the tests suite",
    },
    MetricDef {
        name: "snapshots.pending",
        suite: SuiteKind::Snapshots,
        quantity: Quantity::Count,
        help: "snapshots that changed or are new (pending review)",
    },
    MetricDef {
        name: "snapshots.unreferenced",
        suite: SuiteKind::Snapshots,
        quantity: Quantity::Count,
        help: "snapshot files no test asserted (needs unreferenced = \"report\")",
    },
    MetricDef {
        name: "property.failed",
        suite: SuiteKind::Property,
        quantity: Quantity::Count,
        help: "property tests that found a failing input",
    },
];

/// Looks a metric up by name.
pub fn metric_def(name: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|m| m.name == name)
}

/// A parsed rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The rule as written.
    pub source: String,
    /// The metric it names.
    pub metric: &'static MetricDef,
    /// The comparison.
    pub op: Op,
    /// The limit, in the metric's base unit (count, percent, seconds).
    pub limit: f64,
    /// `fail` or `warn`.
    pub level: RuleLevel,
}

/// Why a rule does not parse; `offset` is a byte offset into the rule text.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    /// Byte offset of the problem within the rule text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

const FORM_HINT: &str =
    "write a rule as `METRIC OP VALUE`, e.g. `tests.failed == 0` or `tests.duration < 10m`";

/// Parses `METRIC OP VALUE[UNIT]`.
pub fn parse_rule(text: &str, level: RuleLevel) -> Result<Rule, RuleError> {
    let err = |offset: usize, message: String, hint: &str| RuleError {
        offset,
        message,
        hint: hint.to_string(),
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    let metric_start = i;
    while i < bytes.len() && is_metric_byte(bytes[i]) {
        i += 1;
    }
    let metric_name = &text[metric_start..i];
    if metric_name.is_empty() {
        return Err(err(
            metric_start,
            "expected a metric name".to_string(),
            FORM_HINT,
        ));
    }
    let Some(metric) = metric_def(metric_name) else {
        let known: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
        let suggestion = closest(metric_name, &known)
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        return Err(err(
            metric_start,
            format!("unknown metric `{metric_name}`"),
            &format!("{suggestion}known metrics: {}", known.join(", ")),
        ));
    };
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    let op_start = i;
    let two = text.get(i..i + 2).unwrap_or("");
    let one = text.get(i..i + 1).unwrap_or("");
    let (op, len) = match (two, one) {
        ("==", _) => (Op::Eq, 2),
        ("!=", _) => (Op::Ne, 2),
        ("<=", _) => (Op::Le, 2),
        (">=", _) => (Op::Ge, 2),
        (_, "<") => (Op::Lt, 1),
        (_, ">") => (Op::Gt, 1),
        (_, "=") => {
            return Err(err(
                op_start,
                "`=` is not a comparison".to_string(),
                "use `==` to compare",
            ));
        }
        _ => {
            return Err(err(
                op_start,
                "expected a comparison operator".to_string(),
                "use one of ==, !=, <, <=, >, >=",
            ));
        }
    };
    i += len;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    let value_start = i;
    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
        i += 1;
    }
    let number = &text[value_start..i];
    if number.is_empty() {
        return Err(err(value_start, "expected a number".to_string(), FORM_HINT));
    }
    let value: f64 = number.parse().map_err(|_| {
        err(
            value_start,
            format!("`{number}` is not a number"),
            FORM_HINT,
        )
    })?;
    let unit_start = i;
    let rest = text[i..].trim_end();
    let unit = rest.trim_start();
    let unit_offset = unit_start + (rest.len() - unit.len());
    let limit = match (metric.quantity, unit) {
        (Quantity::Count, "") => {
            if value.fract() != 0.0 {
                return Err(err(
                    value_start,
                    format!("`{metric_name}` is a count; `{number}` is not a whole number"),
                    "write a whole number",
                ));
            }
            value
        }
        (Quantity::Percent, "%") => value,
        (Quantity::Percent, _) => {
            return Err(err(
                unit_offset,
                format!("`{metric_name}` is a percentage; write the limit with `%`"),
                &format!("e.g. `{metric_name} >= 99%`"),
            ));
        }
        (Quantity::Seconds, u) => {
            let secs_per = match u {
                "ns" => 1e-9,
                "us" | "µs" => 1e-6,
                "ms" => 1e-3,
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                _ => {
                    return Err(err(
                        unit_offset,
                        format!("`{metric_name}` is a duration; `{u}` is not a time unit"),
                        &format!(
                            "write the limit with ns, us, ms, s, m or h, e.g. `{metric_name} < 10m`"
                        ),
                    ));
                }
            };
            value * secs_per
        }
        (Quantity::Count, u) => {
            return Err(err(
                unit_offset,
                format!("`{metric_name}` is a count; unexpected `{u}` after the number"),
                &format!("write a plain number, e.g. `{metric_name} == 0`"),
            ));
        }
    };
    Ok(Rule {
        source: text.trim().to_string(),
        metric,
        op,
        limit,
        level,
    })
}

fn is_metric_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'*' | b'(' | b')' | b':' | b'/')
}

/// The closest known name by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (levenshtein(name, k), *k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The value of a metric in a report, or `None` when its suite did not run.
pub fn observe(report: &Report, metric: &MetricDef) -> Option<f64> {
    let suite = report.suite(metric.suite)?;
    if suite.status == SuiteStatus::Error {
        return None;
    }
    let c = Counts::of(&suite.cases);
    let v = match metric.name {
        "tests.total" => c.total as f64,
        "tests.executed" => c.executed() as f64,
        "tests.passed" => c.passed as f64,
        "tests.failed" => c.failed as f64,
        "tests.flaky" => c.flaky as f64,
        "tests.timed_out" => c.timed_out as f64,
        "tests.skipped" => c.skipped as f64,
        "tests.quarantined" => c.quarantined as f64,
        "tests.pass_rate" => {
            if c.executed() == 0 {
                100.0
            } else {
                (c.passed + c.flaky) as f64 * 100.0 / c.executed() as f64
            }
        }
        "tests.duration" => suite.duration,
        other => return suite.metric_value(other),
    };
    Some(v)
}

fn format_value(quantity: Quantity, v: f64) -> String {
    match quantity {
        Quantity::Count => format!("{v:.0}"),
        Quantity::Percent => {
            let s = format!("{v:.2}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            format!("{s}%")
        }
        Quantity::Seconds => format_seconds(v),
    }
}

/// Evaluates every rule against the report.
pub fn evaluate(report: &Report, rules: &[Rule]) -> Vec<GateResult> {
    rules
        .iter()
        .map(|rule| {
            let limit = format_value(rule.metric.quantity, rule.limit);
            match observe(report, rule.metric) {
                None => GateResult {
                    rule: rule.source.clone(),
                    level: rule.level,
                    status: GateStatus::Skipped,
                    observed: None,
                    limit,
                    message: format!(
                        "not evaluated: the `{}` suite did not run to completion",
                        rule.metric.suite.as_str()
                    ),
                },
                Some(observed) => {
                    let holds = rule.op.holds(observed, rule.limit);
                    let shown = format_value(rule.metric.quantity, observed);
                    let status = match (holds, rule.level) {
                        (true, _) => GateStatus::Passed,
                        (false, RuleLevel::Fail) => GateStatus::Failed,
                        (false, RuleLevel::Warn) => GateStatus::Warned,
                    };
                    let message = if holds {
                        format!(
                            "{} is {shown} ({} {limit})",
                            rule.metric.name,
                            rule.op.as_str()
                        )
                    } else {
                        format!(
                            "{} is {shown}, expected {} {limit}",
                            rule.metric.name,
                            rule.op.as_str()
                        )
                    };
                    GateResult {
                        rule: rule.source.clone(),
                        level: rule.level,
                        status,
                        observed: Some(shown),
                        limit,
                        message,
                    }
                }
            }
        })
        .collect()
}

/// Decides the verdict from rule outcomes and the run's own failures (a build that failed, an
/// interrupted run): those fail the gate whatever the rules say, because nothing was measured.
pub fn verdict(report: &Report, gates: &[GateResult]) -> Verdict {
    let mut reasons = Vec::new();
    for suite in &report.suites {
        if suite.status == SuiteStatus::Error {
            reasons.push(format!(
                "{}: {}",
                suite.name,
                suite.error.as_deref().unwrap_or("the suite could not run")
            ));
        }
    }
    if report.run.interrupted {
        reasons.push("the run was interrupted; the report is partial".to_string());
    }
    for g in gates {
        if g.status == GateStatus::Failed {
            reasons.push(format!("`{}`: {}", g.rule, g.message));
        }
    }
    Verdict {
        status: if reasons.is_empty() {
            VerdictStatus::Passed
        } else {
            VerdictStatus::Failed
        },
        reasons,
    }
}

/// Evaluates the rules and stores results and verdict in the report.
pub fn apply(report: &mut Report, rules: &[Rule]) {
    report.gates = evaluate(report, rules);
    report.verdict = verdict(report, &report.gates);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Attempt, Case, CaseStatus, RunInfo, Suite};
    use proptest::prelude::*;

    fn case(id: &str, status: CaseStatus) -> Case {
        Case {
            id: id.into(),
            name: id.into(),
            package: None,
            binary: None,
            status,
            attempts: vec![Attempt {
                status,
                duration: 0.5,
                output_tail: String::new(),
            }],
            location: None,
            message: None,
            detail: None,
        }
    }

    fn report(statuses: &[CaseStatus]) -> Report {
        let cases: Vec<Case> = statuses
            .iter()
            .enumerate()
            .map(|(i, s)| case(&format!("t{i}"), *s))
            .collect();
        let mut suite = Suite {
            kind: SuiteKind::Tests,
            name: "tests".into(),
            status: SuiteStatus::Passed,
            duration: 12.0,
            error: None,
            cases,
            metrics: vec![],
        };
        suite.refresh_status();
        Report {
            schema: 1,
            tool_version: "test".into(),
            run: RunInfo::default(),
            suites: vec![suite],
            comparisons: vec![],
            gates: vec![],
            verdict: Verdict {
                status: VerdictStatus::Passed,
                reasons: vec![],
            },
        }
    }

    fn rule(text: &str) -> Rule {
        parse_rule(text, RuleLevel::Fail).unwrap()
    }

    #[test]
    fn parses_all_operators_and_units() {
        assert_eq!(rule("tests.failed == 0").op, Op::Eq);
        assert_eq!(rule("tests.failed!=0").op, Op::Ne);
        assert_eq!(rule(" tests.flaky <= 2 ").limit, 2.0);
        assert_eq!(rule("tests.flaky < 2").op, Op::Lt);
        assert_eq!(rule("tests.passed >= 10").op, Op::Ge);
        assert_eq!(rule("tests.passed > 10").op, Op::Gt);
        assert_eq!(rule("tests.duration < 10m").limit, 600.0);
        assert_eq!(rule("tests.duration < 1500ms").limit, 1.5);
        assert_eq!(rule("tests.pass_rate >= 99.5%").limit, 99.5);
        assert_eq!(rule("tests.failed == 0").source, "tests.failed == 0");
    }

    #[test]
    fn rejects_unknown_metrics_with_a_suggestion() {
        let e = parse_rule("tests.fialed == 0", RuleLevel::Fail).unwrap_err();
        assert_eq!(e.offset, 0);
        assert_eq!(e.message, "unknown metric `tests.fialed`");
        assert!(
            e.hint.starts_with("did you mean `tests.failed`?"),
            "{}",
            e.hint
        );
        let e = parse_rule("  coverage.lines >= 80%", RuleLevel::Fail).unwrap_err();
        assert_eq!(e.offset, 2);
    }

    #[test]
    fn rejects_wrong_units_and_shapes() {
        let e = parse_rule("tests.failed == 0ms", RuleLevel::Fail).unwrap_err();
        assert!(e.message.contains("is a count"), "{}", e.message);
        assert_eq!(e.offset, 17);
        assert!(parse_rule("tests.failed == 0.5", RuleLevel::Fail).is_err());
        assert!(
            parse_rule("tests.pass_rate > 0.99", RuleLevel::Fail)
                .unwrap_err()
                .message
                .contains('%')
        );
        assert!(
            parse_rule("tests.duration < 10", RuleLevel::Fail)
                .unwrap_err()
                .message
                .contains("time unit")
        );
        assert_eq!(
            parse_rule("tests.failed = 0", RuleLevel::Fail)
                .unwrap_err()
                .hint,
            "use `==` to compare"
        );
        assert_eq!(
            parse_rule("tests.failed 0", RuleLevel::Fail)
                .unwrap_err()
                .offset,
            13
        );
        assert!(
            parse_rule("tests.failed ==", RuleLevel::Fail)
                .unwrap_err()
                .message
                .contains("expected a number")
        );
        assert!(parse_rule("", RuleLevel::Fail).is_err());
        assert!(parse_rule("tests.failed == 1.2.3", RuleLevel::Fail).is_err());
    }

    #[test]
    fn evaluates_counts_rates_and_durations() {
        use CaseStatus::*;
        let r = report(&[Passed, Passed, Failed, Flaky, Skipped, TimedOut]);
        let results = evaluate(
            &r,
            &[
                rule("tests.failed == 0"),
                rule("tests.flaky <= 2"),
                rule("tests.pass_rate >= 60%"),
                rule("tests.duration < 10s"),
                parse_rule("tests.timed_out == 0", RuleLevel::Warn).unwrap(),
            ],
        );
        let statuses: Vec<GateStatus> = results.iter().map(|g| g.status).collect();
        assert_eq!(
            statuses,
            vec![
                GateStatus::Failed,
                GateStatus::Passed,
                GateStatus::Passed,
                GateStatus::Failed,
                GateStatus::Warned
            ]
        );
        assert_eq!(results[0].observed.as_deref(), Some("1"));
        assert_eq!(results[0].message, "tests.failed is 1, expected == 0");
        assert_eq!(results[2].observed.as_deref(), Some("60%"));
        assert_eq!(results[3].observed.as_deref(), Some("12.00s"));
        assert_eq!(results[3].limit, "10.00s");
    }

    #[test]
    fn verdict_lists_failed_rules_only_and_ignores_warnings() {
        let mut r = report(&[CaseStatus::Passed, CaseStatus::Flaky]);
        apply(
            &mut r,
            &[
                rule("tests.failed == 0"),
                parse_rule("tests.flaky == 0", RuleLevel::Warn).unwrap(),
            ],
        );
        assert_eq!(r.verdict.status, VerdictStatus::Passed);
        apply(&mut r, &[rule("tests.flaky == 0")]);
        assert_eq!(r.verdict.status, VerdictStatus::Failed);
        assert_eq!(
            r.verdict.reasons,
            vec!["`tests.flaky == 0`: tests.flaky is 1, expected == 0"]
        );
    }

    #[test]
    fn a_suite_that_did_not_run_skips_its_rules_and_fails_the_verdict_when_broken() {
        let mut r = report(&[]);
        r.suites[0].status = SuiteStatus::Error;
        r.suites[0].error = Some("build failed".into());
        apply(&mut r, &[rule("tests.failed == 0")]);
        assert_eq!(r.gates[0].status, GateStatus::Skipped);
        assert_eq!(r.verdict.status, VerdictStatus::Failed);
        assert_eq!(r.verdict.reasons, vec!["tests: build failed"]);
        r.suites.clear();
        apply(&mut r, &[rule("tests.failed == 0")]);
        assert_eq!(r.gates[0].status, GateStatus::Skipped);
        assert_eq!(r.verdict.status, VerdictStatus::Passed);
    }

    #[test]
    fn empty_suite_has_full_pass_rate() {
        let r = report(&[CaseStatus::Skipped]);
        assert_eq!(
            observe(&r, metric_def("tests.pass_rate").unwrap()),
            Some(100.0)
        );
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,40}") {
            let _ = parse_rule(&s, RuleLevel::Fail);
        }

        #[test]
        fn parser_never_panics_near_valid_rules(
            metric in prop::sample::select(vec!["tests.failed", "tests.duration", "tests.pass_rate", "x"]),
            op in "[=!<>]{0,3}",
            value in "[0-9.]{0,6}",
            unit in "(ms|s|%|µs|m|h|xx|)",
        ) {
            let text = format!("{metric} {op} {value}{unit}");
            if let Err(e) = parse_rule(&text, RuleLevel::Fail) {
                prop_assert!(e.offset <= text.len());
                prop_assert!(text.is_char_boundary(e.offset));
            }
        }

        #[test]
        fn parsed_counts_round_trip(n in 0u32..100_000) {
            let r = parse_rule(&format!("tests.failed <= {n}"), RuleLevel::Fail).unwrap();
            prop_assert_eq!(r.limit, f64::from(n));
        }
    }
}
