//! Parsing what libtest and the panic handler print: test lists, panic messages and locations,
//! and the pretty per-test result lines (used for doctests).

use crate::model::SourceLocation;

/// How a test binary's harness takes libtest's arguments, learned when it is listed. libtest
/// and libtest-mimic speak libtest's whole protocol; libtest2-mimic lists only with a plain
/// `--list`, spells the capture flag `--no-capture` (or has none that works), and its tests
/// decide at run time whether they are ignored, so `--list --ignored` lists every test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// The flag that lets a test's output through as it runs; `None` when the harness has
    /// none that works (its output then comes with its result).
    pub no_capture: Option<&'static str>,
    /// `--list --ignored` lists the ignored tests only.
    pub lists_ignored: bool,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect {
            no_capture: Some("--nocapture"),
            lists_ignored: true,
        }
    }
}

/// Parses `--list` output (`--format terse` or plain): one `name: test` line per test; the
/// plain form's blank line and `N tests` summary are not tests.
pub fn parse_list(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

/// True when `output` is a libtest listing with at least one test: every line is `NAME:
/// test` or `NAME: benchmark`, but for the summary a plain `--list` ends with (`5 tests`, `3
/// tests, 1 benchmark`).
pub fn is_list_output(output: &str) -> bool {
    let mut tests = 0;
    for line in output.lines().filter(|l| !l.trim().is_empty()) {
        if line.ends_with(": test") {
            tests += 1;
        } else if !line.ends_with(": benchmark") && !is_list_summary(line) {
            return false;
        }
    }
    tests > 0
}

/// `5 tests`, `1 test, 2 benchmarks`.
fn is_list_summary(line: &str) -> bool {
    line.split(", ").all(|part| {
        matches!(part.split_once(' '), Some((n, what))
            if n.parse::<u64>().is_ok()
                && matches!(what, "test" | "tests" | "benchmark" | "benchmarks"))
    })
}

/// The first panic in a test's output: its message and source location.
pub fn parse_panic(output: &str) -> Option<(String, Option<SourceLocation>)> {
    let mut lines = output.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("thread '") else {
            continue;
        };
        let Some(at) = rest.find(" panicked at ") else {
            continue;
        };
        let after = &rest[at + " panicked at ".len()..];
        // Since Rust 1.73 the message is on the following lines and the header ends with ':';
        // older toolchains print `panicked at 'msg', file:line:col`.
        if let Some(loc_text) = after.strip_suffix(':') {
            let location = parse_location(loc_text);
            let mut message = Vec::new();
            for l in lines.by_ref() {
                if l.starts_with("note: ")
                    || l.starts_with("stack backtrace:")
                    || l.starts_with("thread '")
                    || l.is_empty()
                {
                    break;
                }
                message.push(l);
            }
            return Some((message.join("\n"), location));
        }
        if let Some(quoted) = after.strip_prefix('\'')
            && let Some(end) = quoted.rfind("', ")
        {
            let location = parse_location(&quoted[end + 3..]);
            return Some((quoted[..end].to_string(), location));
        }
        return Some((after.to_string(), None));
    }
    None
}

/// Parses `file:line:col` (file names may contain ':').
pub fn parse_location(text: &str) -> Option<SourceLocation> {
    let text = text.trim();
    let mut parts = text.rsplitn(3, ':');
    let col = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    let file = parts.next()?.to_string();
    if file.is_empty() {
        return None;
    }
    Some(SourceLocation {
        file,
        line,
        col: Some(col),
    })
}

/// A result line of libtest's pretty format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultLine {
    /// The test's name.
    pub name: String,
    /// `ok`, `FAILED`, `ignored`.
    pub outcome: LineOutcome,
}

/// Outcome word of a result line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOutcome {
    /// `ok`
    Ok,
    /// `FAILED`
    Failed,
    /// `ignored` (optionally with a reason)
    Ignored,
}

/// Parses `test NAME ... ok|FAILED|ignored[, reason]` lines.
pub fn parse_result_lines(output: &str) -> Vec<ResultLine> {
    output
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("test ")?;
            // libtest-mimic pads names to line the results up: `test short  ... ok`.
            let (name, outcome) = rest.rsplit_once(" ... ")?;
            let name = name.trim_end();
            let outcome = match outcome.trim() {
                "ok" => LineOutcome::Ok,
                "FAILED" => LineOutcome::Failed,
                o if o.starts_with("ignored") => LineOutcome::Ignored,
                _ => return None,
            };
            Some(ResultLine {
                name: name.to_string(),
                outcome,
            })
        })
        .collect()
}

/// The captured output libtest prints for a failed test under `---- NAME stdout ----`.
pub fn failure_section<'a>(output: &'a str, name: &str) -> Option<&'a str> {
    // libtest heads it `---- NAME stdout ----`; libtest-mimic and libtest2-mimic `---- NAME ----`.
    let start = [
        format!("---- {name} stdout ----\n"),
        format!("---- {name} ----\n"),
    ]
    .iter()
    .find_map(|h| output.find(h.as_str()).map(|at| at + h.len()))?;
    let rest = &output[start..];
    let end = [rest.find("\n---- "), rest.find("\nfailures:\n")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].trim_end())
}

/// What a failed test's section of the output says first, when no panic says it (a custom
/// harness's own failure message): its first lines.
pub fn failure_message(output: &str, name: &str) -> Option<String> {
    let section = failure_section(output, name)?;
    let lines: Vec<&str> = section
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(5)
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_listings_and_mimic_failure_sections_are_read() {
        let plain = "first: test\nsecond: test\n\n2 tests\n";
        assert!(is_list_output(plain));
        assert_eq!(parse_list(plain), ["first", "second"]);
        assert!(is_list_output(
            "a: test\nb: benchmark\n\n1 test, 1 benchmark\n"
        ));
        assert!(!is_list_output(
            "`--format` requires `-Zunstable-options`\n"
        ));
        assert!(!is_list_output("a: test\n2 tests passed\n"));
        let out = "running 1 test\ntest fails ... FAILED\n\nfailures:\n\n---- fails ----\nmimic2 says no\n\n\nfailures:\n    fails\n";
        assert_eq!(
            failure_message(out, "fails").as_deref(),
            Some("mimic2 says no")
        );
        assert_eq!(failure_message(out, "other"), None);
    }

    #[test]
    fn lists_only_tests() {
        let out = "a::b: test\nc: test\nbench_x: benchmark\n\n";
        assert_eq!(parse_list(out), vec!["a::b", "c"]);
    }

    #[test]
    fn parses_modern_panics_with_and_without_thread_ids() {
        let out = "some output\nthread 'tests::fails' (4242) panicked at src/lib.rs:10:9:\nassertion `left == right` failed: numbers differ\n  left: 1\n right: 2\nnote: run with `RUST_BACKTRACE=1`\n";
        let (msg, loc) = parse_panic(out).unwrap();
        assert_eq!(
            msg,
            "assertion `left == right` failed: numbers differ\n  left: 1\n right: 2"
        );
        let loc = loc.unwrap();
        assert_eq!(
            (loc.file.as_str(), loc.line, loc.col),
            ("src/lib.rs", 10, Some(9))
        );
        let out = "thread 'x' panicked at tests/it.rs:3:5:\nboom\n";
        assert_eq!(parse_panic(out).unwrap().0, "boom");
    }

    #[test]
    fn parses_old_style_panics() {
        let out = "thread 'main' panicked at 'boom, really', src/main.rs:2:5\n";
        let (msg, loc) = parse_panic(out).unwrap();
        assert_eq!(msg, "boom, really");
        assert_eq!(loc.unwrap().line, 2);
    }

    #[test]
    fn no_panic_no_message() {
        assert_eq!(parse_panic("all good\n"), None);
        assert_eq!(parse_location("nonsense"), None);
        assert_eq!(parse_location(":1:2"), None);
    }

    #[test]
    fn parses_result_lines_and_failure_sections() {
        let out = "running 3 tests\ntest src/lib.rs - add (line 3) ... ok\ntest src/lib.rs - sub (line 9) ... FAILED\ntest src/lib.rs - x (line 12) ... ignored, needs network\n\nfailures:\n\n---- src/lib.rs - sub (line 9) stdout ----\nerror: boom\n\n\nfailures:\n    src/lib.rs - sub (line 9)\n";
        let lines = parse_result_lines(out);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].outcome, LineOutcome::Failed);
        assert_eq!(lines[2].outcome, LineOutcome::Ignored);
        assert_eq!(
            failure_section(out, "src/lib.rs - sub (line 9)"),
            Some("error: boom")
        );
        assert_eq!(failure_section(out, "nope"), None);
    }
}
