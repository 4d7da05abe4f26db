//! Arbitrary strings and bytes fed to every parser of outside input: gate.toml, gate rules,
//! report.json, notes, LCOV and event files. None may panic, and what they say about where an
//! error is must point inside the text they were given.

use std::path::Path;

use cargo_gate::baseline::note::Note;
use cargo_gate::config::Config;
use cargo_gate::error::Error;
use cargo_gate::gate::parse_rule;
use cargo_gate::model::{Report, RuleLevel};
use cargo_gate::suites::coverage::lcov::Lcov;
use proptest::prelude::*;

/// A valid gate.toml touching most sections, for mutation.
const BASE: &str = r#"[tests]
retries = 1
timeout = "30s"
env = { A = "b" }

[gate]
fail = ["tests.failed == 0", "tests.duration < 5min"]
warn = ["tests.flaky == 0"]

[baseline]
significance = 0.05
z_threshold = 3

[[load]]
name = "api"
url = "http://127.0.0.1:9/"
rate = 10
duration = "1s"
thresholds = ["p(95) < 200ms"]

[[service]]
name = "db"
cmd = ["sleep", "9"]

[profile.ci]
tests = { retries = 2 }
"#;

fn assert_located(source: &str, e: &Error) -> Result<(), TestCaseError> {
    if let Error::Config { location, .. } = e {
        let lines = source.split('\n').count().max(1);
        prop_assert!(
            location.line >= 1 && location.line <= lines,
            "line {} of {lines}",
            location.line
        );
        prop_assert!(location.col >= 1);
    }
    Ok(())
}

fn config(source: &str) -> Result<(), TestCaseError> {
    for profile in [None, Some("ci")] {
        if let Err(e) = Config::parse(Path::new("gate.toml"), source, profile) {
            assert_located(source, &e)?;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn config_from_arbitrary_text(s in "\\PC{0,200}") {
        config(&s)?;
    }

    #[test]
    fn config_with_a_mutation(at in 0usize..BASE.len(), cut in 0usize..20, insert in "[\\PC\\n]{0,12}") {
        let start = (0..=at).rev().find(|i| BASE.is_char_boundary(*i)).unwrap_or(0);
        let end = (start + cut).min(BASE.len());
        let end = (end..=BASE.len()).find(|i| BASE.is_char_boundary(*i)).unwrap_or(BASE.len());
        let mutated = format!("{}{insert}{}", &BASE[..start], &BASE[end..]);
        config(&mutated)?;
    }

    #[test]
    fn rules_from_arbitrary_text(s in "\\PC{0,60}") {
        for level in [RuleLevel::Fail, RuleLevel::Warn] {
            if let Err(e) = parse_rule(&s, level) {
                prop_assert!(e.offset <= s.len());
            }
        }
    }

    #[test]
    fn rules_near_valid_ones(metric in "(tests|bench|load|coverage)\\.[a-z_.()0-9]{0,20}", op in "(==|<=|>=|<|>|!=|=|<>)", value in "[-0-9.e%a-z ]{0,12}") {
        let s = format!("{metric} {op} {value}");
        if let Err(e) = parse_rule(&s, RuleLevel::Fail) {
            prop_assert!(e.offset <= s.len());
        }
    }

    #[test]
    fn reports_from_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = Report::parse(Path::new("report.json"), &text);
    }

    #[test]
    fn reports_from_json_shaped_text(s in "[{}\\[\\]\":,0-9a-z ]{0,200}") {
        let _ = Report::parse(Path::new("report.json"), &s);
        let _ = Report::parse(Path::new("report.json"), &format!("{{\"schema\": 2, {s}}}"));
    }

    #[test]
    fn notes_from_arbitrary_text(s in "\\PC{0,200}") {
        let _ = Note::parse(&s);
        let _ = Note::parse(&format!("{{\"schema\": 1, \"entries\": [{s}]}}"));
    }

    #[test]
    fn lcov_from_arbitrary_lines(lines in proptest::collection::vec("(SF|DA|FN|FNDA|BRDA|LF|LH|end_of_record|TN)?:?[-0-9a-z,./_ ]{0,20}", 0..30)) {
        let _ = Lcov::parse(&lines.join("\n"));
    }
}
