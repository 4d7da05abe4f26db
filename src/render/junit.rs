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
            let mut ts = TestSuite::new(xml_text(&format!("{} (setup)", suite.name)));
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_message(xml_text(&first_line(err)))
                .set_description(xml_text(err))
                .set_type("build");
            ts.add_test_case(TestCase::new(
                xml_text(&format!("{} setup", suite.name)),
                status,
            ));
            out.add_test_suite(ts);
        }
        for (name, cases) in groups {
            let mut ts = TestSuite::new(xml_text(&name));
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
                s.set_message(xml_text(m));
            }
            s
        }
        CaseStatus::Failed | CaseStatus::TimedOut | CaseStatus::Quarantined => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let last = case.attempts.last();
            s.set_message(xml_text(&first_line(
                case.message.as_deref().unwrap_or("failed"),
            )))
            .set_type(match case.status {
                CaseStatus::TimedOut => "timeout",
                CaseStatus::Quarantined => "quarantined",
                _ => "failure",
            })
            .set_description(last.map(|a| xml_text(&a.output_tail)).unwrap_or_default());
            let earlier = case.attempts.len().saturating_sub(1);
            for a in case.attempts.iter().take(earlier) {
                s.add_rerun(rerun(a.status, a.duration, &a.output_tail, case));
            }
            s
        }
    };
    let mut tc = TestCase::new(xml_text(&case.name), status);
    tc.set_classname(xml_text(classname));
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
        .set_system_out(xml_text(output));
    if let Some(m) = &case.message {
        r.set_message(xml_text(&first_line(m)));
    }
    r
}

/// Text XML 1.0 can hold: test output is arbitrary bytes, and one control character (an ANSI
/// escape, a NUL) or U+FFFE/U+FFFF makes the whole junit.xml unreadable to every consumer.
/// Escapes become `\u{1b}`-style text so the colour codes are still visible for what they were.
fn xml_text(s: &str) -> String {
    let ok = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
    };
    if s.chars().all(ok) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if ok(c) {
                c.to_string()
            } else {
                c.escape_unicode().to_string()
            }
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_xml_cannot_hold_is_written_escaped() {
        assert_eq!(xml_text("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(xml_text("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(
            xml_text("a\u{0}b\u{fffe}c\u{ffff}"),
            "a\\u{0}b\\u{fffe}c\\u{ffff}"
        );
        assert_eq!(xml_text("é ✓ \u{10000}"), "é ✓ \u{10000}");
    }

    #[test]
    fn junit_from_hostile_output_holds_only_xml_characters() {
        let json = r#"{"schema": 2, "tool_version": "t", "run": {"id": "r", "started": "s", "duration": 1.0, "profile": "default"},
            "suites": [{"kind": "tests", "name": "tests\ufffe", "status": "failed", "duration": 1.0, "error": "setup\ufffe",
              "cases": [
              {"id": "p t\u001b", "name": "t\u001b", "binary": "bin\ufffe", "status": "failed", "message": "boom\u0000\uffff",
               "attempts": [{"status": "failed", "duration": 0.1, "output_tail": "\u001b[31mred\ufffe\u0007"}]}]}],
            "verdict": {"status": "failed"}}"#;
        let report = Report::parse(std::path::Path::new("r.json"), json).unwrap();
        let xml = to_junit(&report).unwrap();
        let valid = |c: char| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
        };
        assert!(xml.chars().all(valid), "{xml:?}");
        assert!(!xml.contains("&#x1b;") && !xml.contains("&#27;"), "{xml}");
        assert!(xml.contains("\\u{1b}[31mred"), "{xml}");
    }
}
