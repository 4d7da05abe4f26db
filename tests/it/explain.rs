//! `cargo gate explain`: every key and metric the binary lists prints its entry, and what it
//! cannot explain is a usage error with a next step.

use crate::common::*;

fn explain(args: &[&str]) -> std::process::Output {
    gate("explain").arg("explain").args(args).output().unwrap()
}

#[test]
fn every_listed_key_and_metric_has_its_entry() {
    let list = explain(&[]);
    assert_eq!(code(&list), 0, "{}", stderr(&list));
    let listed = stdout(&list);
    let names: Vec<&str> = listed
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(str::trim)
        .collect();
    for known in [
        "[tests]",
        "tests.retries",
        "[[chaos]]",
        "chaos.fault.kind",
        "tests.failed",
    ] {
        assert!(names.contains(&known), "{known} is not listed:\n{listed}");
    }
    assert!(names.len() > 180, "only {} names:\n{listed}", names.len());
    for name in names {
        let out = explain(&[name]);
        assert_eq!(code(&out), 0, "{name}: {}", stderr(&out));
        let text = stdout(&out);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(name), "{name}:\n{text}");
        // The entry's text follows its heading, and the book's address ends it.
        assert!(
            lines.next().is_some_and(|l| !l.is_empty()),
            "{name}:\n{text}"
        );
        assert!(text.contains("/docs/src/reference/"), "{name}:\n{text}");
    }
}

#[test]
fn rules_and_spellings_are_read_and_unknown_names_are_usage_errors() {
    let out = explain(&["load.api.p(95) < 200ms"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("rule load.api.p(95) < 200ms\nholds when load.api.p(95) < 200ms."),
        "{text}"
    );
    assert!(text.contains("\nload.NAME.STAT\n"), "{text}");

    let out = explain(&["profile.ci.tests.jobs"]);
    assert!(
        stdout(&out).starts_with("profile.ci.tests.jobs is tests.jobs:\n\ntests.jobs\n"),
        "{}",
        stdout(&out)
    );

    let out = explain(&["tests.flakey"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("`tests.flakey` is not a gate.toml key, a metric or a rule"),
        "{err}"
    );
    assert!(err.contains("did you mean `tests.flaky`?"), "{err}");

    let out = explain(&["tests.failed >= 1%"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("is not a valid rule"),
        "{}",
        stderr(&out)
    );
}
