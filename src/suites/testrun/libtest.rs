//! Parsing what libtest and the panic handler print: test lists, panic messages and locations,
//! and the pretty per-test result lines (used for doctests).

use crate::model::SourceLocation;

/// Parses `--list --format terse` output: one `name: test` line per test.
pub fn parse_list(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

/// True when `output` is a libtest `--list --format terse` listing with at least one test:
/// every line is `NAME: test` or `NAME: benchmark`.
pub fn is_list_output(output: &str) -> bool {
    let mut tests = 0;
    for line in output.lines().filter(|l| !l.trim().is_empty()) {
        if line.ends_with(": test") {
            tests += 1;
        } else if !line.ends_with(": benchmark") {
            return false;
        }
    }
    tests > 0
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
            let (name, outcome) = rest.rsplit_once(" ... ")?;
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
    let header = format!("---- {name} stdout ----\n");
    let start = output.find(&header)? + header.len();
    let rest = &output[start..];
    let end = [rest.find("\n---- "), rest.find("\nfailures:\n")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

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
