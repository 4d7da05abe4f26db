//! `cargo gate explain KEY|METRIC|RULE`: the book's reference entry, in the terminal.

use crate::error::{EXIT_PASS, Error, Result};
use crate::reference::{self, Answer, Entry, Page};
use crate::util::color::{self, Role};

/// Where the book is read on the web.
const BOOK: &str = "https://github.com/cargo-gate/cargo-gate/blob/main/docs/src";

pub fn explain(query: Option<&str>) -> Result<i32> {
    let on = color::stdout();
    let Some(query) = query else {
        print!("{}", list(on));
        return Ok(EXIT_PASS);
    };
    let answer = reference::explain(query).map_err(|e| Error::usage(e.message, Some(e.hint)))?;
    print!("{}", render(&answer, on));
    Ok(EXIT_PASS)
}

/// Every key and metric, one per line, grouped by chapter.
fn list(on: bool) -> String {
    let mut out = String::new();
    for (page, title) in [
        (Page::Config, "gate.toml keys"),
        (Page::Metrics, "metrics rules can name"),
    ] {
        out.push_str(&color::paint(title, Role::Heading, on));
        out.push('\n');
        for e in reference::entries(page) {
            let indent = if e.table || page == Page::Metrics {
                "  "
            } else {
                "    "
            };
            out.push_str(&format!("{indent}{}\n", e.heading));
        }
    }
    out.push_str("\n`cargo gate explain KEY` prints one entry.\n");
    color::code_spans(&out, on)
}

fn render(answer: &Answer, on: bool) -> String {
    match answer {
        Answer::Entry { entry, via } => {
            let mut out = String::new();
            if let Some(via) = via {
                out.push_str(&color::code_spans(&format!("{via}:\n\n"), on));
            }
            out.push_str(&entry_text(entry, on));
            out
        }
        Answer::Rule {
            rule,
            meaning,
            entry,
        } => format!(
            "{}\n{}\n\n{}",
            color::paint(&format!("rule {rule}"), Role::Heading, on),
            wrap(&color::code_spans(meaning, on)),
            entry_text(entry, on)
        ),
        Answer::Several(entries) => {
            let mut out = String::from("a key of several tables:\n\n");
            for e in entries {
                out.push_str(&entry_text(e, on));
                out.push('\n');
            }
            out
        }
    }
}

/// An entry as the terminal shows it: the key in bold, the text re-flowed, code blocks
/// indented, links as their text, and where the entry is in the book.
fn entry_text(e: &Entry, on: bool) -> String {
    let mut out = color::paint(e.heading, Role::Heading, on);
    out.push('\n');
    let mut in_code = false;
    for block in e.body.split("\n\n") {
        for line in block.lines() {
            if line.starts_with("```") {
                in_code = !in_code;
                continue;
            }
            if in_code {
                out.push_str(&format!("    {line}\n"));
            }
        }
        if !block.starts_with("```") && !in_code {
            let text = color::code_spans(&plain_links(&block.replace('*', "")), on);
            out.push_str(&wrap(&text));
            out.push('\n');
        }
        out.push('\n');
    }
    let anchor = anchor(e.heading);
    out.push_str(&color::paint(
        &format!("{BOOK}/{}#{anchor}", e.page.path()),
        Role::Dim,
        on,
    ));
    out.push('\n');
    out
}

/// `[text](target)` as `text`: the targets are the book's own pages.
fn plain_links(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|i| open + i) else {
            break;
        };
        let Some(end) = rest[close..].find(')').map(|i| close + i) else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A paragraph re-flowed to 80 columns.
fn wrap(text: &str) -> String {
    crate::util::wrap::wrap(text, 80).join("\n")
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_reads_as_text() {
        let answer = reference::explain("tests.retries").unwrap();
        let text = render(&answer, false);
        assert!(
            text.starts_with("tests.retries\nInteger · default 0\n"),
            "{text}"
        );
        assert!(text.contains("\n    [tests]\n    retries = 2\n"), "{text}");
        assert!(!text.contains('`'), "{text}");
        assert!(
            text.ends_with("reference/config.md#testsretries\n"),
            "{text}"
        );
        assert!(
            text.lines()
                .filter(|l| !l.starts_with("https://"))
                .all(|l| l.chars().count() <= 80),
            "{text}"
        );
    }

    #[test]
    fn links_show_their_text() {
        assert_eq!(
            plain_links("see [Tests](../suites/tests.md)."),
            "see Tests."
        );
    }
}
