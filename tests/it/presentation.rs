//! What a person reads, for the runs they meet most: a build that breaks, a failure with
//! `RUST_BACKTRACE=1`, a timeout, a test the change fixed, and a project with no benchmarks and
//! a short history. Comment, summary, terminal (within 80 columns) and HTML, from real runs.

use std::path::Path;

use crate::common::*;

/// Every line of the terminal scorecard within 80 columns, except lines that quote a test's
/// or the compiler's own text (ids, source lines), which are not ours to cut.
fn assert_fits_80(scorecard: &str, quoted: &[&str]) {
    for line in scorecard.lines() {
        if quoted.iter().any(|q| line.contains(q)) {
            continue;
        }
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line:?}\n{scorecard}",
            line.chars().count()
        );
    }
}

/// No code span shown as raw backticks or as `&#96;` where a reader sees text (fenced blocks
/// hold output as it was).
fn assert_code_is_code(what: &str, md: &str) {
    let mut open = false;
    for line in md.lines() {
        if line.starts_with("```") {
            open = !open;
            continue;
        }
        if !open {
            assert!(!line.contains("&#96;"), "{what}: {line}");
            assert!(!line.contains('`'), "{what}: {line}");
        }
    }
}

#[test]
fn a_backtrace_and_a_timeout_lead_with_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = tempfile::tempdir().unwrap();
    let out = output(
        gate("mixed")
            .args(["run", "--progress", "lines", "--exact"])
            .args(["tests::fails_with_message", "tests::hangs"])
            .arg("--manifest-path")
            .arg(manifest("mixed"))
            .arg("--out-dir")
            .arg(dir.path())
            .env("RUST_BACKTRACE", "1")
            .env("MIXED_FLAKY_DIR", flaky.path()),
    );
    assert_eq!(code(&out), 1);
    let report_path = dir.path().join("report.json");
    let report = json(&report_path);
    // The whole output, frames of std included, stays in the report.
    let failed = case(&report, "mixed tests::fails_with_message");
    let full = failed["attempts"][0]["output_tail"].as_str().unwrap();
    assert!(full.contains("core::panicking"), "{full}");

    let comment = rendered(&report_path, "comment");
    assert!(
        comment.contains("  left: 4\n right: 5\nstack backtrace:\n"),
        "{comment}"
    );
    assert!(
        comment.contains("mixed::tests::fails_with_message\n        at ./src/lib.rs:24:9"),
        "{comment}"
    );
    assert!(
        !comment.contains("core::panicking") && !comment.contains("rust_begin_unwind"),
        "{comment}"
    );
    assert!(
        comment.contains("frames of std, core, the test harness and dependencies not shown"),
        "{comment}"
    );
    // A timed-out test that printed nothing says so instead of showing an empty block.
    assert!(
        comment.contains("<sub>the test printed no output</sub>"),
        "{comment}"
    );
    assert!(!comment.contains("```text\n\n```"), "{comment}");
    assert_code_is_code("comment", &comment);
    assert_code_is_code("summary", &rendered(&report_path, "markdown"));

    let scorecard = rendered(&report_path, "terminal");
    assert!(!scorecard.contains('`'), "{scorecard}");
    assert!(
        scorecard.contains("ok    tests.flaky == 0 (warn)"),
        "{scorecard}"
    );
    assert_fits_80(&scorecard, &[]);

    // Slowest and the case table: the longest attempt, never the attempts summed.
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let hangs = html
        .lines()
        .find(|l| l.starts_with("<tr><td><a href=\"#") && l.contains("tests::hangs"))
        .unwrap_or_else(|| panic!("no Slowest row for hangs:\n{html}"));
    assert!(hangs.contains("(longest of 2 attempts)"), "{hangs}");
    let shown: f64 = hangs
        .split("data-v=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (3.0..4.5).contains(&shown),
        "one attempt's time, not two: {hangs}"
    );

    let normalized = normalize(&report_path);
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("backtrace_comment", rendered(&normalized, "comment"));
        insta::assert_snapshot!("backtrace_summary", rendered(&normalized, "markdown"));
        insta::assert_snapshot!("backtrace_terminal", rendered(&normalized, "terminal"));
        insta::assert_snapshot!(
            "backtrace_html",
            html_outline(&rendered(&normalized, "html"))
        );
    });
}

#[test]
fn a_build_failure_shows_the_compiler_error_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(code(&run("broken", dir.path(), &[])), 1);
    let normalized = normalize(&dir.path().join("report.json"));
    let comment = rendered(&normalized, "comment");
    let summary = rendered(&normalized, "markdown");
    let scorecard = rendered(&normalized, "terminal");
    for (what, text) in [
        ("comment", &comment),
        ("summary", &summary),
        ("terminal", &scorecard),
    ] {
        assert!(
            text.contains("--> tests/does_not_compile.rs:3:18"),
            "{what}:\n{text}"
        );
        assert!(
            text.contains("expected `u32`, found `&str`"),
            "{what}:\n{text}"
        );
        assert_eq!(text.matches("error[E0308]").count(), 1, "{what}:\n{text}");
        assert!(!text.contains("removed"), "{what}:\n{text}");
    }
    assert_fits_80(&scorecard, &["let x: u32", "^^^^", "expected `u32`"]);
    // The HTML report shows it too, as rustc rendered it (escaped).
    let html = rendered(&normalized, "html");
    assert!(
        html.contains(
            "<pre>error[E0308]: mismatched types\n --&gt; tests&#x2f;does_not_compile.rs:3:18"
        ),
        "{html}"
    );
    assert!(html.contains("expected `u32`, found `&amp;str`"));
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("build_failure_comment", comment);
        insta::assert_snapshot!("build_failure_summary", summary);
        insta::assert_snapshot!("build_failure_terminal", scorecard);
        insta::assert_snapshot!(
            "build_failure_html",
            html_outline(&rendered(&normalized, "html"))
        );
    });
}

const FIXABLE: &str = r#"
#[cfg(test)]
mod tests {
    #[test]
    fn steady() {}

    #[test]
    fn fixable() {
        let broken = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("broken");
        assert!(!broken.exists(), "`broken` is still there");
    }
}
"#;

fn run_saving(dir: &Path, save: bool, extra: &[&str]) -> serde_json::Value {
    let out = output(
        gate("scratch-fixable")
            .current_dir(dir)
            .args(["run", "--progress", "lines", "--out-dir", "out"])
            .args(extra),
    );
    assert!(code(&out) <= 1, "{}", stderr(&out));
    if save {
        let saved = output(gate("scratch-fixable").current_dir(dir).args([
            "baseline",
            "save",
            "--report",
            "out/report.json",
        ]));
        assert_eq!(code(&saved), 0, "{}", stderr(&saved));
    }
    json(&dir.join("out/report.json"))
}

/// A pull request that fixes a test, on a project with no benchmarks and two noted runs: the
/// delta names the fix, and no performance table appears for a duration no rule reads.
#[test]
fn a_fixed_test_is_named_and_unasked_timings_stay_out() {
    let ws = git_workspace("");
    let dir = ws.path();
    write_file(dir, "src/lib.rs", FIXABLE);
    write_file(dir, "broken", "");
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "broken"]);
    run_saving(dir, true, &[]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "again"]);
    run_saving(dir, true, &[]);
    git(dir, &["rm", "-q", "broken"]);
    git(dir, &["commit", "-q", "-m", "fix"]);
    let report = run_saving(dir, false, &[]);
    assert_eq!(report["verdict"]["status"], "passed");
    // The duration was compared (and saved for the trend) but nothing asked to see it.
    let comparisons = report["comparisons"].as_array().unwrap();
    assert!(
        comparisons
            .iter()
            .any(|c| c["metric"] == "tests.duration" && c["unasked"] == true),
        "{comparisons:?}"
    );
    let path = dir.join("out/report.json");
    let comment = rendered(&path, "comment");
    assert!(comment.contains("1 fixed"), "{comment}");
    assert!(comment.contains("✅ 1 fixed since the base"), "{comment}");
    assert!(
        comment.contains("- <code>scratch tests::fixable</code>"),
        "{comment}"
    );
    let summary = rendered(&path, "markdown");
    let scorecard = rendered(&path, "terminal");
    for (what, text) in [
        ("comment", &comment),
        ("summary", &summary),
        ("terminal", &scorecard),
    ] {
        assert!(!text.contains("Performance"), "{what}:\n{text}");
        assert!(!text.contains("too noisy"), "{what}:\n{text}");
    }
    assert!(scorecard.contains("1 fixed"), "{scorecard}");
    assert_fits_80(&scorecard, &[]);
    let normalized = normalize(&path);
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("fixed_comment", rendered(&normalized, "comment"));
        insta::assert_snapshot!("fixed_summary", rendered(&normalized, "markdown"));
        insta::assert_snapshot!("fixed_terminal", rendered(&normalized, "terminal"));
    });

    // A rule that reads the duration asks for it: then it is shown.
    write_file(
        dir,
        "gate.toml",
        "[gate]\nwarn = [\"tests.duration.regression < 500%\"]\n",
    );
    run_saving(dir, false, &[]);
    let comment = rendered(&path, "comment");
    assert!(comment.contains("Performance"), "{comment}");
    assert!(comment.contains("<code>tests.duration</code>"), "{comment}");
}
