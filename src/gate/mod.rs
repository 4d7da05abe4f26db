//! Gate rules: parsing (`"tests.flaky <= 2"`) and pure evaluation against a Report.
//! No I/O here, so every rule is unit-tested without processes.

pub mod grammar;
pub mod metrics;
pub mod threshold;

use crate::baseline::compare::regression_pct;
use crate::model::{
    Counts, GateResult, GateStatus, PerfVerdict, Report, Role, RuleLevel, SuiteKind, SuiteStatus,
    Verdict, VerdictStatus,
};
use crate::util::glob;
use crate::util::units::{format_seconds, seconds_per};
pub use grammar::{Op, RuleError};
pub use metrics::{METRICS, MetricDef, Quantity, metric_def};
use threshold::Stat;

/// How a benchmark's samples are reduced to one value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Agg {
    /// Arithmetic mean.
    Mean,
    /// Median.
    Median,
    /// Smallest sample.
    Min,
    /// Largest sample.
    Max,
    /// A quantile in 0..=1 (`p(95)` is 0.95).
    Quantile(f64),
}

impl Agg {
    fn parse(s: &str) -> Option<Agg> {
        match s {
            "mean" => Some(Agg::Mean),
            "median" => Some(Agg::Median),
            "min" => Some(Agg::Min),
            "max" => Some(Agg::Max),
            _ => grammar::percentile(s).map(|v| Agg::Quantile(v / 100.0)),
        }
    }

    fn apply(self, samples: &[f64]) -> f64 {
        use crate::baseline::stats;
        let finite: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
        match self {
            Agg::Mean => stats::mean(&finite),
            Agg::Median => stats::median(&finite),
            Agg::Min => stats::quantile(&finite, 0.0),
            Agg::Max => stats::quantile(&finite, 1.0),
            Agg::Quantile(q) => stats::quantile(&finite, q),
        }
    }
}

/// What a rule measures.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A fixed metric such as `tests.failed`.
    Static(&'static MetricDef),
    /// `bench.<pattern>.<aggregate>`: every benchmark matching the pattern (`*` is a wildcard).
    Aggregate {
        /// `bench.` and the name pattern.
        pattern: String,
        /// The reduction.
        agg: Agg,
    },
    /// `<pattern>.regression`: the worst significant slowdown against the baseline, in %.
    Regression {
        /// Metric name pattern.
        pattern: String,
    },
    /// `load.<scenario>.<stat>`: a load scenario's statistic.
    Load {
        /// Scenario name.
        scenario: String,
        /// The statistic.
        stat: Stat,
    },
}

impl Target {
    /// Whether two rules' targets measure the same thing (`bench.failed` written twice, at
    /// either level).
    pub fn same_as(&self, other: &Target) -> bool {
        match (self, other) {
            (Target::Static(a), Target::Static(b)) => a.name == b.name,
            (Target::Aggregate { pattern, agg }, Target::Aggregate { pattern: p, agg: a }) => {
                pattern == p && agg == a
            }
            (Target::Regression { pattern }, Target::Regression { pattern: p }) => pattern == p,
            (
                Target::Load { scenario, stat },
                Target::Load {
                    scenario: s,
                    stat: t,
                },
            ) => scenario == s && stat == t,
            _ => false,
        }
    }
}

/// The gate rule of a load scenario's threshold.
pub fn load_rule(scenario: &str, t: &crate::gate::threshold::Threshold) -> Rule {
    Rule {
        source: format!("load.{scenario}: {}", t.source),
        target: Target::Load {
            scenario: scenario.to_string(),
            stat: t.stat,
        },
        op: t.op,
        limit: t.limit,
        quantity: match t.stat {
            s if s.is_latency() => Quantity::Seconds,
            Stat::ErrorRate => Quantity::Percent,
            _ => Quantity::Count,
        },
        level: RuleLevel::Fail,
    }
}

/// The metric name a load statistic is stored under.
pub fn load_metric(scenario: &str, stat: Stat) -> String {
    format!("load.{scenario}.{}", stat.key())
}

/// What a metric name measures, when it names one (a fixed metric, or a pattern of
/// `bench.NAME.AGG`, `load.NAME.STAT` or `PATTERN.regression`).
pub fn metric_target(name: &str) -> Option<Target> {
    match metric_def(name) {
        Some(def) => Some(Target::Static(def)),
        None => dynamic_target(name)?.ok(),
    }
}

fn dynamic_target(name: &str) -> Option<Result<Target, (String, String)>> {
    if let Some(pattern) = name.strip_suffix(".regression") {
        return Some(regression_target(pattern));
    }
    if let Some(rest) = name.strip_prefix("load.") {
        // `p(99.9)` holds a dot: the statistic starts at the last `.p(` when there is one.
        let split = rest.rfind(".p(").or_else(|| rest.rfind('.'));
        return Some(match split {
            Some(i) if i > 0 => match Stat::parse(&rest[i + 1..]) {
                Some(stat) => Ok(Target::Load {
                    scenario: rest[..i].to_string(),
                    stat,
                }),
                None => Err((
                    format!("unknown load statistic `{}` in `{name}`", &rest[i + 1..]),
                    "use p(N), avg, med, min, max, error_rate, rps or requests".to_string(),
                )),
            },
            _ => Err((
                format!("`{name}` needs a statistic"),
                "e.g. `load.api.p(95) < 200ms`".to_string(),
            )),
        });
    }
    let rest = name.strip_prefix("bench.")?;
    Some(match rest.rsplit_once('.') {
        Some((bench, agg)) if !bench.is_empty() => match Agg::parse(agg) {
            Some(agg) => Ok(Target::Aggregate {
                pattern: format!("bench.{bench}"),
                agg,
            }),
            None => Err((
                format!("unknown aggregate `{agg}` in `{name}`"),
                "use mean, median, min, max, p(95) (any percentile) or regression".to_string(),
            )),
        },
        _ => Err((
            format!("`{name}` needs an aggregate"),
            "e.g. `bench.parse.mean < 2ms` or `bench.*.regression < 5%`".to_string(),
        )),
    })
}

/// `PATTERN.regression`: what a metric's role says, not its name. A fixed metric qualifies when
/// runs compare it with its baseline; a pattern names the metrics of one suite, and at
/// evaluation only those that have a baseline comparison count.
fn regression_target(pattern: &str) -> Result<Target, (String, String)> {
    let example = "e.g. `bench.*.regression < 5%` or `tests.duration.regression < 20%`".to_string();
    if let Some(def) = metric_def(pattern) {
        return match def.role {
            Role::Compared => Ok(Target::Regression {
                pattern: pattern.to_string(),
            }),
            _ => Err((
                format!("`{pattern}` is not compared with a baseline, so it has no regression"),
                format!(
                    "gate its value instead (`{pattern} ...`), or name a compared metric: {example}"
                ),
            )),
        };
    }
    let suite = pattern.split('.').next().unwrap_or_default();
    if pattern.contains('.') && SuiteKind::ALL.iter().any(|k| k.as_str() == suite) {
        Ok(Target::Regression {
            pattern: pattern.to_string(),
        })
    } else {
        Err((format!("`{pattern}` names no suite's metrics"), example))
    }
}

/// A parsed rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The rule as written.
    pub source: String,
    /// What it measures.
    pub target: Target,
    /// The comparison.
    pub op: Op,
    /// The limit, in the quantity's base unit (count, percent, seconds, or raw).
    pub limit: f64,
    /// How the limit was written (and how values are shown).
    pub quantity: Quantity,
    /// `fail` or `warn`.
    pub level: RuleLevel,
}

const EXAMPLE: &str = "tests.failed == 0";

/// Parses `METRIC OP VALUE[UNIT]`.
pub fn parse_rule(text: &str, level: RuleLevel) -> Result<Rule, RuleError> {
    let parts = grammar::split(text, EXAMPLE)?;
    let metric_name = parts.subject;
    let target = match metric_def(metric_name) {
        Some(def) => Target::Static(def),
        None => match dynamic_target(metric_name) {
            Some(Ok(t)) => t,
            Some(Err((message, hint))) => {
                return Err(grammar::error(parts.subject_at, message, hint));
            }
            None => {
                let known: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
                let suggestion = crate::util::suggest::closest(metric_name, &known)
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                return Err(grammar::error(
                    parts.subject_at,
                    format!("unknown metric `{metric_name}`"),
                    format!(
                        "{suggestion}known metrics: {}, bench.NAME.AGGREGATE, bench.NAME.regression",
                        known.join(", ")
                    ),
                ));
            }
        },
    };
    let quantity = match &target {
        Target::Static(def) => def.quantity,
        Target::Aggregate { .. } => Quantity::Measured,
        Target::Regression { .. } => Quantity::Percent,
        Target::Load { stat, .. } if stat.is_latency() => Quantity::Seconds,
        Target::Load { stat, .. } if *stat == Stat::ErrorRate => Quantity::Percent,
        Target::Load { .. } => Quantity::Measured,
    };
    let (value, unit, number) = (parts.number, parts.unit, parts.number_text);
    let mut resolved = quantity;
    let limit = match (quantity, unit) {
        (Quantity::Measured, "") => {
            resolved = Quantity::Count;
            value
        }
        (Quantity::Measured, _) => {
            resolved = Quantity::Seconds;
            grammar::duration_secs(&parts, metric_name).map_err(|e| {
                grammar::error(
                    e.offset,
                    format!("`{unit}` is not a time unit"),
                    "write a time (ns, us, ms, s, m, h) or a plain number in the benchmark's own unit",
                )
            })?
        }
        (Quantity::Count, "") => {
            if value.fract() != 0.0 {
                return Err(grammar::error(
                    parts.value_at,
                    format!("`{metric_name}` is a count; `{number}` is not a whole number"),
                    "write a whole number",
                ));
            }
            value
        }
        (Quantity::Percent, "%") => value,
        (Quantity::Percent, _) => {
            return Err(grammar::error(
                parts.unit_at,
                format!("`{metric_name}` is a percentage; write the limit with `%`"),
                format!("e.g. `{metric_name} >= 99%`"),
            ));
        }
        (Quantity::Seconds, _) => grammar::duration_secs(&parts, metric_name)?,
        (Quantity::Count, u) => {
            return Err(grammar::error(
                parts.unit_at,
                format!("`{metric_name}` is a count; unexpected `{u}` after the number"),
                format!("write a plain number, e.g. `{metric_name} == 0`"),
            ));
        }
    };
    Ok(Rule {
        source: text.trim().to_string(),
        target,
        op: parts.op,
        limit,
        quantity: resolved,
        level,
    })
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
        // Counted from the cases' history, so merged shards count every shard's; without
        // history for the base there is nothing to count (the rule is skipped).
        "tests.new_failures" | "tests.still_failing" | "tests.new_flaky" => {
            suite.base()?;
            let want = |c: &crate::model::Case| {
                let h = c.history.as_ref();
                match metric.name {
                    "tests.new_failures" => {
                        h.and_then(|h| h.change) == Some(crate::model::Change::NewFailure)
                    }
                    "tests.still_failing" => {
                        h.and_then(|h| h.change) == Some(crate::model::Change::StillFailing)
                    }
                    _ => {
                        c.status == crate::model::CaseStatus::Flaky
                            && h.is_none_or(|h| h.flaky == 0)
                    }
                }
            };
            suite.cases.iter().filter(|c| want(c)).count() as f64
        }
        "tests.duration" => suite
            .metric_value("tests.duration")
            .unwrap_or(suite.duration),
        "infra.failed" | "chaos.failed" | "coverage.failed" | "bench.failed" | "load.failed" => {
            (c.failed + c.timed_out) as f64
        }
        "infra.passed" | "chaos.passed" => c.passed as f64,
        other => return suite.metric_value(other),
    };
    Some(v)
}

fn format_value(quantity: Quantity, v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    match quantity {
        Quantity::Count => {
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.3}")
            }
        }
        Quantity::Percent => {
            let s = format!("{v:.2}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            format!("{s}%")
        }
        Quantity::Seconds | Quantity::Measured => format_seconds(v),
    }
}

/// `v` with as many decimals as it takes to look different from `limit` (up to 9).
fn distinct(quantity: Quantity, v: f64, limit: f64) -> String {
    let suffix = match quantity {
        Quantity::Percent => "%",
        Quantity::Seconds => "s",
        _ => "",
    };
    for decimals in 3..=9 {
        let a = format!("{v:.decimals$}");
        if a != format!("{limit:.decimals$}") {
            let a = a.trim_end_matches('0').trim_end_matches('.').to_string();
            return format!("{a}{suffix}");
        }
    }
    format!("{v:e}{suffix}")
}

/// What a rule's target measured in a report.
enum Measured {
    /// The suite (or the baseline comparison) did not happen: the rule is skipped.
    NotRun(String),
    /// The suite ran but nothing matches: the rule does not hold (never a silent pass).
    NoMatch(String),
    /// Named values.
    Values(Vec<(String, f64)>),
}

fn measure(report: &Report, rule: &Rule) -> Measured {
    match &rule.target {
        Target::Static(def) => match observe(report, def) {
            Some(v) => Measured::Values(vec![(def.name.to_string(), v)]),
            None => {
                let unmeasured = report
                    .suite(def.suite)
                    .filter(|s| s.status != SuiteStatus::Error)
                    .and_then(|s| s.metrics.iter().find(|m| m.name == def.name))
                    .and_then(|m| m.unmeasured.clone());
                match unmeasured {
                    Some(why) => Measured::NoMatch(why),
                    None if metrics::FROM_HISTORY.contains(&def.name)
                        && report.suite(def.suite).is_some() =>
                    {
                        Measured::NotRun(
                            "not evaluated: the notes hold no test history for the base yet (`cargo gate baseline save` on the default branch records it)"
                                .to_string(),
                        )
                    }
                    None => Measured::NotRun(format!(
                        "not evaluated: the `{}` suite did not run to completion",
                        def.suite.as_str()
                    )),
                }
            }
        },
        Target::Aggregate { pattern, agg } => {
            let Some(suite) = report.suite(SuiteKind::Bench) else {
                return Measured::NotRun(
                    "not evaluated: the `bench` suite did not run".to_string(),
                );
            };
            let values: Vec<(String, f64)> = suite
                .metrics
                .iter()
                .filter(|m| glob::matches(pattern, &m.name))
                .map(|m| {
                    let raw = agg.apply(&m.samples);
                    let v = match rule.quantity {
                        // A time limit needs a time-valued benchmark.
                        Quantity::Seconds => seconds_per(&m.unit).map_or(f64::NAN, |k| raw * k),
                        _ => raw,
                    };
                    (m.name.clone(), v)
                })
                .collect();
            if values.is_empty() {
                Measured::NoMatch(format!("no benchmark matches `{pattern}`"))
            } else {
                Measured::Values(values)
            }
        }
        Target::Load { scenario, stat } => {
            let Some(suite) = report.suite(SuiteKind::Load) else {
                return Measured::NotRun("not evaluated: the `load` suite did not run".to_string());
            };
            let name = load_metric(scenario, *stat);
            match suite.metrics.iter().find(|m| m.name == name) {
                Some(m) => {
                    let raw = m.samples.first().copied().unwrap_or(f64::NAN);
                    let v = match rule.quantity {
                        Quantity::Seconds => seconds_per(&m.unit).map_or(f64::NAN, |k| raw * k),
                        _ => raw,
                    };
                    Measured::Values(vec![(name, v)])
                }
                None if suite.cases.iter().any(|c| c.name == *scenario) => {
                    Measured::NoMatch(format!("load `{scenario}` did not measure `{stat}`"))
                }
                None => Measured::NoMatch(format!("no load scenario is called `{scenario}`")),
            }
        }
        Target::Regression { pattern } => {
            let values: Vec<(String, f64)> = report
                .comparisons
                .iter()
                .filter(|c| glob::matches(pattern, &c.metric))
                .filter(|c| !matches!(c.verdict, PerfVerdict::New | PerfVerdict::Missing))
                .map(|c| (c.metric.clone(), regression_pct(c)))
                .collect();
            if values.is_empty() {
                let why = report
                    .baseline_note
                    .clone()
                    .unwrap_or_else(|| format!("no metric matching `{pattern}` has a baseline"));
                Measured::NotRun(format!("not evaluated: {why}"))
            } else {
                Measured::Values(values)
            }
        }
    }
}

/// Evaluates every rule against the report.
pub fn evaluate(report: &Report, rules: &[Rule]) -> Vec<GateResult> {
    rules
        .iter()
        .map(|rule| {
            let limit = format_value(rule.quantity, rule.limit);
            let result =
                |status: GateStatus, observed: Option<String>, message: String| GateResult {
                    rule: rule.source.clone(),
                    level: rule.level,
                    status,
                    observed,
                    limit: limit.clone(),
                    message,
                };
            let failing = match rule.level {
                RuleLevel::Fail => GateStatus::Failed,
                RuleLevel::Warn => GateStatus::Warned,
            };
            match measure(report, rule) {
                Measured::NotRun(why) => result(GateStatus::Skipped, None, why),
                Measured::NoMatch(why) => result(failing, None, why),
                Measured::Values(values) => {
                    let several = values.len() > 1;
                    // A pattern always says which metric it is talking about.
                    let named = several
                        || matches!(&rule.target,
                            Target::Aggregate { pattern, .. } | Target::Regression { pattern }
                                if pattern.contains('*'));
                    // Show the first value that breaks the rule, else the one nearest the limit.
                    let broken = values
                        .iter()
                        .find(|(_, v)| !(v.is_finite() && rule.op.holds(*v, rule.limit)));
                    let shown = broken.or_else(|| match rule.op {
                        Op::Lt | Op::Le => values.iter().max_by(|a, b| a.1.total_cmp(&b.1)),
                        Op::Gt | Op::Ge => values.iter().min_by(|a, b| a.1.total_cmp(&b.1)),
                        Op::Eq | Op::Ne => values.first(),
                    });
                    let Some((name, v)) = shown else {
                        return result(failing, None, "nothing measured".to_string());
                    };
                    let mut value = format_value(rule.quantity, *v);
                    if broken.is_some() && value == limit {
                        // 91.476 < 91.48 must not read "91.48 %, expected >= 91.48 %".
                        value = distinct(rule.quantity, *v, rule.limit);
                    }
                    let observed = if named {
                        format!("{value} ({name})")
                    } else {
                        value.clone()
                    };
                    let op = rule.op.as_str();
                    if broken.is_some() {
                        let message = if v.is_finite() {
                            format!("{name} is {value}, expected {op} {limit}")
                        } else {
                            format!("{name} has no value in the rule's unit (is it a time?)")
                        };
                        result(failing, Some(observed), message)
                    } else {
                        let what = if several {
                            format!("worst of {} metrics", values.len())
                        } else {
                            name.clone()
                        };
                        result(
                            GateStatus::Passed,
                            Some(observed),
                            format!("{what} is {value} ({op} {limit})"),
                        )
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

    #[test]
    fn a_failing_value_never_looks_equal_to_its_limit() {
        assert_eq!(format_value(Quantity::Percent, 91.476), "91.48%");
        assert_eq!(distinct(Quantity::Percent, 91.476, 91.48), "91.476%");
        assert_eq!(distinct(Quantity::Percent, 79.99999, 80.0), "79.99999%");
        assert_eq!(distinct(Quantity::Seconds, 5.0004, 5.0), "5.0004s");
    }
    use crate::model::{Case, CaseStatus, Role, RunInfo, Suite};
    use proptest::prelude::*;

    #[test]
    fn history_metrics_count_the_cases_and_are_skipped_without_history() {
        use crate::model::{BaseTests, CaseHistory, Change};
        let mut r = report(&[CaseStatus::Failed, CaseStatus::Failed, CaseStatus::Flaky]);
        let rule = |text: &str| parse_rule(text, RuleLevel::Fail).unwrap();
        apply(&mut r, &[rule("tests.new_failures == 0")]);
        assert_eq!(
            r.gates[0].status,
            GateStatus::Skipped,
            "no history: skipped"
        );
        let history = |change, flaky| CaseHistory {
            runs: 10,
            failed: 0,
            flaky,
            change,
            recent: String::new(),
            quarantined: None,
        };
        let s = &mut r.suites[0];
        s.tests_mut().base = Some(BaseTests {
            commit: "abc".into(),
            tests: 3,
            duration: None,
            removed: Vec::new(),
        });
        // As merged shards hold them: cases from every shard, one suite.
        s.cases[0].history = Some(history(Some(Change::NewFailure), 0));
        s.cases[1].history = Some(history(Some(Change::StillFailing), 0));
        s.cases[2].history = Some(history(None, 0));
        apply(
            &mut r,
            &[
                rule("tests.new_failures == 0"),
                rule("tests.still_failing <= 1"),
                rule("tests.new_flaky == 0"),
            ],
        );
        let got: Vec<(GateStatus, Option<&str>)> = r
            .gates
            .iter()
            .map(|g| (g.status, g.observed.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (GateStatus::Failed, Some("1")),
                (GateStatus::Passed, Some("1")),
                (GateStatus::Failed, Some("1"))
            ]
        );
    }

    fn case(id: &str, status: CaseStatus) -> Case {
        Case {
            message: None,
            ..Case::single(id, id, status, 0.5, "", String::new())
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
            details: crate::model::Details::None,
        };
        suite.refresh_status();
        Report {
            schema: 1,
            tool_version: "test".into(),
            run: RunInfo::default(),
            suites: vec![suite],
            comparisons: vec![],
            baseline_note: None,
            config_error: None,
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
        assert_eq!(rule("coverage.lines_delta >= -1.5%").limit, -1.5);
        assert!(parse_rule("coverage.lines_delta >= -%", RuleLevel::Fail).is_err());
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
        let e = parse_rule("  mutantz.caught >= 80%", RuleLevel::Fail).unwrap_err();
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
        // A bare number: the number is what lacks a unit, and the error says so (not "`` is
        // not a time unit").
        let e = parse_rule("tests.duration < 10", RuleLevel::Fail).unwrap_err();
        assert_eq!(
            e.message,
            "`tests.duration` is a duration and `10` has no unit"
        );
        assert_eq!(e.offset, "tests.duration < ".len());
        assert!(e.hint.contains("`tests.duration < 10s`"), "{}", e.hint);
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

    fn bench_report() -> Report {
        use crate::model::{Comparison, Direction, Metric};
        let mut r = report(&[CaseStatus::Passed]);
        r.suites.push(Suite {
            kind: SuiteKind::Bench,
            name: "bench".into(),
            status: SuiteStatus::Passed,
            duration: 1.0,
            error: None,
            cases: vec![],
            metrics: vec![
                Metric::new(
                    "bench.parse/large",
                    "ns",
                    Direction::LowerIsBetter,
                    Role::Compared,
                    vec![1.5e6, 1.7e6, 1.6e6],
                ),
                Metric::new(
                    "bench.parse/small",
                    "ns",
                    Direction::LowerIsBetter,
                    Role::Compared,
                    vec![900.0],
                ),
                Metric::new(
                    "bench.rps",
                    "rps",
                    Direction::HigherIsBetter,
                    Role::Compared,
                    vec![120.0, 140.0],
                ),
            ],
            details: crate::model::Details::None,
        });
        let cmp = |metric: &str, verdict, delta| Comparison {
            metric: metric.into(),
            unit: "ns".into(),
            direction: Direction::LowerIsBetter,
            baseline: Some(1.0),
            current: Some(1.0),
            delta_pct: Some(delta),
            p_value: Some(0.001),
            z: None,
            method: crate::model::Method::MannWhitney,
            verdict,
            baseline_rev: Some("abc".into()),
            history: vec![],
            history_machine: None,
            history_revs: Vec::new(),
            noise_pct: None,
            detectable_pct: None,
            interval_pct: None,
            inconclusive: false,
            unasked: false,
        };
        r.comparisons = vec![
            cmp("bench.parse/large", PerfVerdict::Regressed, 7.5),
            cmp("bench.parse/small", PerfVerdict::Unchanged, 1.0),
            cmp("bench.new_one", PerfVerdict::New, 0.0),
        ];
        r
    }

    #[test]
    fn bench_aggregates_convert_units_and_check_every_match() {
        let r = bench_report();
        let results = evaluate(
            &r,
            &[
                rule("bench.parse/large.mean < 2ms"),
                rule("bench.parse/*.max < 1ms"),
                rule("bench.rps.p(50) > 100"),
                rule("bench.nope.mean < 1ms"),
                rule("bench.rps.mean < 1ms"),
            ],
        );
        assert_eq!(
            results[0].status,
            GateStatus::Passed,
            "{}",
            results[0].message
        );
        assert_eq!(results[0].observed.as_deref(), Some("1.60ms"));
        assert_eq!(results[1].status, GateStatus::Failed);
        assert_eq!(
            results[1].observed.as_deref(),
            Some("1.70ms (bench.parse/large)")
        );
        assert_eq!(results[2].status, GateStatus::Passed);
        assert_eq!(
            results[3].status,
            GateStatus::Failed,
            "no match is never a pass"
        );
        assert_eq!(results[3].message, "no benchmark matches `bench.nope`");
        assert_eq!(results[4].status, GateStatus::Failed, "rps is not a time");
    }

    #[test]
    fn regression_rules_use_the_comparisons() {
        let mut r = bench_report();
        let results = evaluate(
            &r,
            &[
                rule("bench.*.regression < 5%"),
                rule("bench.parse/small.regression < 5%"),
            ],
        );
        assert_eq!(results[0].status, GateStatus::Failed);
        assert_eq!(
            results[0].observed.as_deref(),
            Some("7.5% (bench.parse/large)")
        );
        assert_eq!(results[1].status, GateStatus::Passed);
        r.comparisons.clear();
        r.baseline_note = Some("no baseline: no note within 100 commits".into());
        let results = evaluate(&r, &[rule("bench.*.regression < 5%")]);
        assert_eq!(
            results[0].status,
            GateStatus::Skipped,
            "a missing baseline is not a failure"
        );
        assert!(results[0].message.contains("no note within 100 commits"));
    }

    #[test]
    fn dynamic_rule_errors_are_located() {
        let e = parse_rule("bench.parse.average < 2ms", RuleLevel::Fail).unwrap_err();
        assert_eq!(
            e.message,
            "unknown aggregate `average` in `bench.parse.average`"
        );
        assert_eq!(
            parse_rule("bench.parse < 2ms", RuleLevel::Fail)
                .unwrap_err()
                .message,
            "`bench.parse` needs an aggregate"
        );
        assert!(
            parse_rule("bench.*.regression < 5", RuleLevel::Fail)
                .unwrap_err()
                .message
                .contains('%')
        );
        assert!(parse_rule("bench.x.mean < 5 parsecs", RuleLevel::Fail).is_err());
        assert_eq!(
            parse_rule("tests.duration.regression < 10%", RuleLevel::Fail)
                .unwrap()
                .quantity,
            Quantity::Percent
        );
    }

    #[test]
    fn infra_and_chaos_counts_gate() {
        let mut r = report(&[CaseStatus::Passed]);
        r.suites[0].kind = SuiteKind::Infra;
        r.suites[0].cases.push(case("check x", CaseStatus::Failed));
        let results = evaluate(
            &r,
            &[
                rule("infra.failed == 0"),
                rule("infra.passed == 1"),
                rule("chaos.failed == 0"),
            ],
        );
        assert_eq!(results[0].status, GateStatus::Failed);
        assert_eq!(results[1].status, GateStatus::Passed);
        assert_eq!(results[2].status, GateStatus::Skipped);
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

    #[test]
    fn a_regression_rule_takes_compared_metrics_by_their_role() {
        let ok = |r: &str| parse_rule(r, RuleLevel::Fail).map(|rule| rule.target);
        assert!(matches!(
            ok("tests.duration.regression < 20%"),
            Ok(Target::Regression { .. })
        ));
        assert!(matches!(
            ok("bench.*.regression < 5%"),
            Ok(Target::Regression { .. })
        ));
        assert!(matches!(
            ok("load.api.p95.regression < 5%"),
            Ok(Target::Regression { .. })
        ));
        for (rule, said) in [
            (
                "tests.failed.regression < 5%",
                "not compared with a baseline",
            ),
            (
                "coverage.lines.regression < 5%",
                "not compared with a baseline",
            ),
            ("nosuch.thing.regression < 5%", "names no suite's metrics"),
            ("bench.regression < 5%", "names no suite's metrics"),
        ] {
            let err = ok(rule).expect_err(rule);
            assert!(err.to_string().contains(said), "{rule}: {err}");
        }
    }
}
