//! The part of a failing test's output a person should see first. The full output stays in
//! report.json and the HTML report; terminal lines, comments and summaries show an excerpt that
//! starts where the test panicked and keeps the message (and `left`/`right`) before any
//! backtrace, without libtest's bookkeeping around a test that ran alone.

/// At most `max_lines` lines of `output` that explain the failure. The panic's message (up to
/// the backtrace) is kept first; what the test printed before it fills the room left, nearest
/// the panic first; backtrace frames come last, only if there is still room.
pub fn excerpt(output: &str, max_lines: usize) -> String {
    if max_lines == 0 {
        return String::new();
    }
    let lines: Vec<&str> = output.lines().collect();
    let lines = without_libtest_frame(trim_blank(&lines));
    let Some(panic_at) = lines.iter().position(|l| is_panic_header(l)) else {
        // No panic: the end of the output is where the failure shows.
        return lines[lines.len().saturating_sub(max_lines)..].join("\n");
    };
    let (before, from_panic) = lines.split_at(panic_at);
    let frames_at = from_panic
        .iter()
        .position(|l| l.starts_with("stack backtrace:"))
        .unwrap_or(from_panic.len());
    let (message, frames) = from_panic.split_at(frames_at);
    let message = trim_blank(message);
    let message = &message[..message.len().min(max_lines)];
    let mut room = max_lines - message.len();
    let before = trim_blank(before);
    let shown_before = &before[before.len().saturating_sub(room)..];
    room -= shown_before.len();
    let mut out: Vec<String> = Vec::new();
    if shown_before.len() < before.len() && !shown_before.is_empty() {
        // Say that the test printed more than is shown (the report holds all of it).
        out.push("[... earlier output not shown ...]".to_string());
        out.extend(shown_before.iter().skip(1).map(|l| (*l).to_string()));
    } else {
        out.extend(shown_before.iter().map(|l| (*l).to_string()));
    }
    out.extend(message.iter().map(|l| (*l).to_string()));
    let (own, hidden) = own_frames(trim_blank(frames));
    let frames: Vec<String> = match own.len() {
        0 => Vec::new(),
        _ if hidden == 0 => own,
        _ => own
            .into_iter()
            .chain([format!(
                "[{hidden} frames of std, core, the test harness and dependencies not shown]"
            )])
            .collect(),
    };
    if !frames.is_empty() && room > 1 {
        out.extend(frames.iter().take(room - 1).cloned());
        if frames.len() > room - 1 {
            out.push(format!(
                "[... {} more lines of backtrace ...]",
                frames.len() - (room - 1)
            ));
        }
    }
    out.join("\n")
}

/// A backtrace cut to the frames of the workspace's own code, which is where a failure is
/// read: `stack backtrace:`, then each frame whose source is not the toolchain's
/// (`/rustc/...`) or a dependency's (cargo's registry and git checkouts), with its `at` line.
/// Frames without a location are kept unless their symbol is std's, core's, alloc's or the
/// test harness's. Returns the lines and how many frames were left out; no lines when no
/// frame is the workspace's (the message says enough).
fn own_frames(lines: &[&str]) -> (Vec<String>, usize) {
    const LIBRARY: &[&str] = &[
        "std::",
        "core::",
        "alloc::",
        "test::",
        "__rust",
        "rust_begin_unwind",
        "<std::",
        "<core::",
        "<alloc::",
        "<fn(",
        "<F as ",
    ];
    let foreign_path = |at: &str| {
        at.starts_with("/rustc/") || at.contains("/.cargo/registry/") || at.contains("/.cargo/git/")
    };
    let mut kept = Vec::new();
    let mut hidden = 0;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        let Some((index, symbol)) = line
            .split_once(": ")
            .filter(|(n, _)| n.parse::<u32>().is_ok())
        else {
            i += 1;
            continue;
        };
        let at = lines
            .get(i + 1)
            .and_then(|l| l.trim_start().strip_prefix("at "));
        let own = match at {
            Some(path) => !foreign_path(path),
            None => !LIBRARY.iter().any(|p| symbol.starts_with(p)),
        };
        if own {
            kept.push(format!("  {index}: {symbol}"));
            if let Some(path) = at {
                kept.push(format!("        at {path}"));
            }
        } else {
            hidden += 1;
        }
        i += if at.is_some() { 2 } else { 1 };
    }
    if kept.is_empty() {
        return (Vec::new(), hidden);
    }
    kept.insert(0, "stack backtrace:".to_string());
    (kept, hidden)
}

fn is_panic_header(line: &str) -> bool {
    line.starts_with("thread '") && line.contains(" panicked at ")
}

/// The output without libtest's frame around one test run alone: the `running 1 test` header,
/// and from the test's own `test NAME ... FAILED` line on, the `failures:` lists and the
/// `test result:` summary. They repeat what the report already says.
fn without_libtest_frame<'a, 'b>(lines: &'b [&'a str]) -> &'b [&'a str] {
    let mut lines = lines;
    if let Some(first) = lines.first()
        && first.starts_with("running ")
        && (first.ends_with(" test") || first.ends_with(" tests"))
    {
        lines = trim_blank(&lines[1..]);
    }
    let summary = lines.iter().rposition(|l| l.starts_with("test result: "));
    let outcome = lines.iter().rposition(|l| {
        l.starts_with("test ")
            && (l.ends_with(" ... FAILED") || l.ends_with(" ... ok") || l.contains(" ... ignored"))
    });
    match (outcome, summary) {
        (Some(o), Some(s)) if o < s => trim_blank(&lines[..o]),
        _ => lines,
    }
}

fn trim_blank<'a, 'b>(lines: &'b [&'a str]) -> &'b [&'a str] {
    let start = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(start, |e| e + 1);
    &lines[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    const WITH_BACKTRACE: &str = "\nrunning 1 test\nsetting up\nthread 'tests::fails_here' (123) panicked at src/lib.rs:17:9:\nassertion `left == right` failed: the total is off\n  left: 3\n right: 4\nstack backtrace:\n   0: __rustc::rust_begin_unwind\n             at /rustc/x/library/std/src/panicking.rs:689:5\n   1: core::panicking::panic_fmt\n             at /rustc/x/library/core/src/panicking.rs:80:14\n   2: parity_user::tests::fails_here\n             at ./src/lib.rs:17:9\nnote: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\ntest tests::fails_here ... FAILED\n\nfailures:\n\nfailures:\n    tests::fails_here\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 1 filtered out; finished in 0.07s\n\n";

    #[test]
    fn keeps_the_panic_and_its_values_before_the_frames() {
        let e = excerpt(WITH_BACKTRACE, 7);
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines[0], "setting up", "what the test printed comes first");
        assert_eq!(
            lines[1..5],
            [
                "thread 'tests::fails_here' (123) panicked at src/lib.rs:17:9:",
                "assertion `left == right` failed: the total is off",
                "  left: 3",
                " right: 4",
            ]
        );
        assert_eq!(lines[5], "stack backtrace:");
        assert!(lines[6].starts_with("[... "), "{e}");
        assert!(!e.contains("rust_begin_unwind"), "{e}");
        assert!(!e.contains("test result"), "{e}");
        assert!(!e.contains("running 1 test"), "{e}");
    }

    #[test]
    fn with_little_room_only_the_message_is_kept() {
        let e = excerpt(WITH_BACKTRACE, 2);
        assert_eq!(
            e,
            "thread 'tests::fails_here' (123) panicked at src/lib.rs:17:9:\nassertion `left == right` failed: the total is off"
        );
        assert_eq!(excerpt(WITH_BACKTRACE, 0), "");
    }

    #[test]
    fn with_room_the_workspace_frames_follow_and_the_rest_is_counted() {
        let e = excerpt(WITH_BACKTRACE, 100);
        assert!(
            e.ends_with(
                " right: 4\nstack backtrace:\n  2: parity_user::tests::fails_here\n        at ./src/lib.rs:17:9\n[2 frames of std, core, the test harness and dependencies not shown]"
            ),
            "{e}"
        );
        assert!(!e.contains("more lines of backtrace"), "{e}");
    }

    #[test]
    fn a_backtrace_of_library_frames_only_is_left_out() {
        let out = "thread 'main' panicked at src/lib.rs:1:1:\nboom\nstack backtrace:\n   0: std::panicking::begin_panic\n   1: serde::de::x\n             at /root/.cargo/registry/src/index/serde-1.0.0/src/de.rs:3:4\n";
        assert_eq!(
            excerpt(out, 20),
            "thread 'main' panicked at src/lib.rs:1:1:\nboom"
        );
    }

    #[test]
    fn long_output_before_the_panic_is_cut_from_the_front() {
        let mut out: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        out.push_str("thread 'x' panicked at src/lib.rs:1:1:\nboom\n");
        let e = excerpt(&out, 4);
        assert_eq!(
            e,
            "[... earlier output not shown ...]\nline 999\nthread 'x' panicked at src/lib.rs:1:1:\nboom"
        );
    }

    #[test]
    fn output_without_a_panic_keeps_its_end() {
        let out = "compiling\nstep 1\nstep 2\nerror: exit code 3\n";
        assert_eq!(excerpt(out, 2), "step 2\nerror: exit code 3");
        assert_eq!(excerpt("", 5), "");
    }
}
