//! The one escaping policy for everything cargo-gate renders. A value that comes from a report,
//! a test's output or an artifact is *text*: whatever output it lands in, it shows as the
//! characters it holds and never becomes markup, a mention, a link, a workflow command or a
//! terminal control sequence. Templates get this by auto-escaping (see [`formatter`]); filters
//! that produce markup on purpose return safe values.
//!
//! Markdown is escaped with character references rather than backslashes because the same
//! value may land in markdown text, in a table cell or inside an HTML block such as
//! `<details><summary>…`, where GitHub does not process backslash escapes but does decode
//! references. References are literal text in CommonMark, never syntax.

use minijinja::{AutoEscape, Error, Output, State, Value};

pub use crate::util::sanitize::strip_controls;

/// The auto-escape mode of markdown templates.
pub const MARKDOWN: &str = "markdown";
/// The auto-escape mode of the terminal template (colour allowed).
pub const TERMINAL_COLOR: &str = "terminal-color";
/// The auto-escape mode of the terminal template without colour.
pub const TERMINAL_PLAIN: &str = "terminal-plain";

/// Breaks what GitHub would turn into a mention, a team mention or an issue reference.
const ZWSP: char = '\u{200b}';

/// `s` as markdown text that renders as exactly these characters (newlines become spaces, since
/// every place a value lands in markdown is inline).
pub fn markdown(s: &str) -> String {
    let s = strip_controls(s, false);
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let reference = |out: &mut String, c: char| {
        out.push_str("&#");
        out.push_str(&(c as u32).to_string());
        out.push(';');
    };
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\\' | '`' | '*' | '[' | ']' | '!' | '|' | '~' | '#' | '$' => reference(&mut out, c),
            // `snake_case` cannot emphasise (an underscore inside a word never does), so names
            // stay readable in the raw markdown; one at a word's edge could.
            '_' if !(prev.is_some_and(char::is_alphanumeric)
                && next.is_some_and(char::is_alphanumeric)) =>
            {
                reference(&mut out, c)
            }
            // `scheme://` autolinks.
            ':' if next == Some('/') => reference(&mut out, c),
            // `www.` autolinks.
            '.' if i >= 3 && chars[i - 3..i].iter().all(|w| w.eq_ignore_ascii_case(&'w')) => {
                reference(&mut out, c)
            }
            '@' => {
                out.push('@');
                out.push(ZWSP);
            }
            '\n' => out.push(' '),
            // A list item or a rule, where a value starts a line.
            '-' | '+' if i == 0 && matches!(next, None | Some(' ' | '-')) => reference(&mut out, c),
            _ => out.push(c),
        }
    }
    out
}

/// `s` as markdown text with its `` `code` `` spans as `<code>` — which renders as code inside
/// HTML blocks such as `<summary>` too, where backtick spans do not. Both parts are escaped as
/// [`markdown`] escapes, so a span shows its characters and nothing else.
pub fn markdown_code_spans(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`').filter(|&l| l > 0) else {
            break;
        };
        out.push_str(&markdown(&rest[..open]));
        out.push_str("<code>");
        out.push_str(&markdown(&rest[open + 1..open + 1 + len]));
        out.push_str("</code>");
        rest = &rest[open + 2 + len..];
    }
    out.push_str(&markdown(rest));
    out
}

/// `s` for the inside of a fenced code block (which renders its content literally): controls
/// stripped and anything that would close the fence broken up.
pub fn code_block(s: &str) -> String {
    let s = strip_controls(s, false);
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let trimmed = line.trim_start_matches(' ');
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            // A zero-width space before the run: still reads as the same text.
            out.push(ZWSP);
        }
        out.push_str(line);
    }
    out
}

/// The escape mode of a template, by its file name.
pub fn mode_of(name: &str, color: bool) -> AutoEscape {
    let base = name.strip_suffix(".j2").unwrap_or(name);
    match base.rsplit('.').next() {
        Some("md" | "markdown") => AutoEscape::Custom(MARKDOWN),
        Some("html" | "htm" | "xml") => AutoEscape::Html,
        _ if color => AutoEscape::Custom(TERMINAL_COLOR),
        _ => AutoEscape::Custom(TERMINAL_PLAIN),
    }
}

/// The template formatter: every value printed by `{{ … }}` goes through the escape of the
/// template's mode unless a filter marked it safe.
pub fn formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if value.is_undefined() || value.is_none() {
        return Ok(());
    }
    if value.is_safe() {
        return write(out, &value.to_string());
    }
    let text = match value.as_str() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(value.to_string()),
    };
    match state.auto_escape() {
        AutoEscape::Custom(MARKDOWN) => write(out, &markdown(&text)),
        AutoEscape::Custom(TERMINAL_COLOR) => write(out, &strip_controls(&text, true)),
        AutoEscape::Custom(TERMINAL_PLAIN) => write(out, &strip_controls(&text, false)),
        AutoEscape::Html => {
            let clean = strip_controls(&text, false);
            minijinja::escape_formatter(out, state, &Value::from(clean.as_ref()))
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

fn write(out: &mut Output, s: &str) -> Result<(), Error> {
    out.write_str(s)
        .map_err(|e| Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_text_cannot_become_markup() {
        let hostile = "**@octocat** [click](https://evil.example) <img src=x onerror=alert(1)> `code` | cell #1 www.evil.example";
        let out = markdown(hostile);
        for active in [
            "**", "@octocat", "[click]", "](", "<img", "`", "| ", " #1", "https://", "www.",
        ] {
            assert!(!out.contains(active), "{active:?} survived in {out}");
        }
        assert!(out.contains("octocat") && out.contains("evil"));
    }

    #[test]
    fn code_spans_become_code_and_stay_text() {
        assert_eq!(
            markdown_code_spans("assertion `left == right` failed"),
            "assertion <code>left == right</code> failed"
        );
        let hostile = markdown_code_spans("`</code><img src=x>` and `**@octocat**`");
        assert!(
            !hostile.contains("<img") && !hostile.contains("**"),
            "{hostile}"
        );
        assert!(
            hostile.starts_with("<code>&lt;/code&gt;&lt;img"),
            "{hostile}"
        );
        assert_eq!(markdown_code_spans("a lone ` tick"), "a lone &#96; tick");
    }

    #[test]
    fn markdown_keeps_ordinary_text_readable() {
        assert_eq!(markdown("tests::add_one passed"), "tests::add_one passed");
        assert_eq!(markdown("a\nb"), "a b");
        assert_eq!(markdown("plain words 1.5s"), "plain words 1.5s");
    }

    #[test]
    fn a_leading_dash_cannot_start_a_list_or_rule() {
        assert!(markdown("-- x").starts_with("&#45;"));
        assert!(markdown("- x").starts_with("&#45;"));
        assert_eq!(markdown("-1.5%"), "-1.5%");
    }

    #[test]
    fn code_blocks_cannot_be_closed_from_inside() {
        let out = code_block("ok\n```\n  ~~~ x\n`inline`");
        assert!(
            !out.lines()
                .any(|l| l.trim_start().starts_with("```") || l.trim_start().starts_with("~~~"))
        );
        assert!(out.contains("`inline`"));
    }

    #[test]
    fn modes_follow_the_file_name() {
        assert_eq!(
            mode_of("comment.md.j2", false),
            AutoEscape::Custom(MARKDOWN)
        );
        assert_eq!(mode_of("report.html.j2", true), AutoEscape::Html);
        assert_eq!(
            mode_of("terminal.txt.j2", true),
            AutoEscape::Custom(TERMINAL_COLOR)
        );
        assert_eq!(
            mode_of("terminal.txt.j2", false),
            AutoEscape::Custom(TERMINAL_PLAIN)
        );
    }
}
