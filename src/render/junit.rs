//! JUnit XML export with quick-junit (what nextest uses): unlike junit-report it writes
//! `flakyFailure` / `rerunFailure` elements, so CI dashboards see retries, and it can read JUnit
//! back for importing other runners' results.

use std::time::Duration;

use quick_junit::{
    NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use crate::error::{Error, Result};
use crate::model::{Case, CaseStatus, Report};

/// Renders the report as JUnit XML: one `<testsuite>` per test binary.
pub fn to_junit(report: &Report) -> Result<String> {
    let mut out = JReport::new("cargo-gate");
    out.set_time(secs(report.run.duration));
    for suite in &report.suites {
        // Group by binary, keeping first-seen order (cases are sorted by id, so binaries are too).
        let mut groups: Vec<(String, Vec<&Case>)> = Vec::new();
        for case in &suite.cases {
            let key = case.binary.clone().unwrap_or_else(|| suite.name.clone());
            match groups.last_mut() {
                Some((k, v)) if *k == key => v.push(case),
                _ => groups.push((key, vec![case])),
            }
        }
        if let Some(err) = &suite.error {
            let mut ts = TestSuite::new(format!("{} (setup)", suite.name));
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_message(first_line(err))
                .set_description(err.clone())
                .set_type("build");
            ts.add_test_case(TestCase::new(format!("{} setup", suite.name), status));
            out.add_test_suite(ts);
        }
        for (name, cases) in groups {
            let mut ts = TestSuite::new(name.clone());
            ts.set_time(secs(cases.iter().map(|c| c.duration()).sum()));
            for case in cases {
                ts.add_test_case(test_case(&name, case));
            }
            out.add_test_suite(ts);
        }
    }
    out.to_string()
        .map_err(|e| Error::Internal(format!("cannot write JUnit XML: {e}")))
}

fn test_case(classname: &str, case: &Case) -> TestCase {
    let status = match case.status {
        CaseStatus::Passed => TestCaseStatus::success(),
        CaseStatus::Flaky => {
            let mut s = TestCaseStatus::success();
            if let TestCaseStatus::Success { flaky_runs } = &mut s {
                for a in case
                    .attempts
                    .iter()
                    .filter(|a| a.status != CaseStatus::Passed)
                {
                    flaky_runs.push(rerun(a.status, a.duration, &a.output_tail, case));
                }
            }
            s
        }
        CaseStatus::Skipped => {
            let mut s = TestCaseStatus::skipped();
            if let Some(m) = &case.message {
                s.set_message(m.clone());
            }
            s
        }
        CaseStatus::Failed | CaseStatus::TimedOut | CaseStatus::Quarantined => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let last = case.attempts.last();
            s.set_message(first_line(case.message.as_deref().unwrap_or("failed")))
                .set_type(match case.status {
                    CaseStatus::TimedOut => "timeout",
                    CaseStatus::Quarantined => "quarantined",
                    _ => "failure",
                })
                .set_description(last.map(|a| a.output_tail.clone()).unwrap_or_default());
            let earlier = case.attempts.len().saturating_sub(1);
            for a in case.attempts.iter().take(earlier) {
                s.add_rerun(rerun(a.status, a.duration, &a.output_tail, case));
            }
            s
        }
    };
    let mut tc = TestCase::new(case.name.clone(), status);
    tc.set_classname(classname.to_string());
    tc.set_time(secs(case.duration()));
    tc
}

fn rerun(status: CaseStatus, duration: f64, output: &str, case: &Case) -> TestRerun {
    let mut r = TestRerun::new(NonSuccessKind::Failure);
    r.set_time(secs(duration))
        .set_type(if status == CaseStatus::TimedOut {
            "timeout"
        } else {
            "failure"
        })
        .set_system_out(output.to_string());
    if let Some(m) = &case.message {
        r.set_message(first_line(m));
    }
    r
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

fn secs(s: f64) -> Duration {
    if s.is_finite() && s >= 0.0 {
        Duration::from_secs_f64(s)
    } else {
        Duration::ZERO
    }
}
