//! Config errors shown like rustc's: the offending line of the file with a caret under the
//! value, rendered by annotate-snippets (what cargo and rustc use). The message and the help
//! stay on their own lines above it, so scripts that read `file:line:col` keep working.

use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::error::{Error, Location};

/// The snippet under a config error, or `None` for other errors. It is drawn from the line and
/// the span the parser recorded, not from the file read again.
pub fn snippet(e: &Error, color: bool) -> Option<String> {
    let Error::Config { location, .. } = e else {
        return None;
    };
    Some(render(location, color))
}

/// The span to underline: the recorded one, or — for a point such as a TOML syntax error,
/// which has no extent — the token that starts there.
fn underlined(location: &Location) -> Range<usize> {
    let text = &location.line_text;
    let start = location.span.start.min(text.len());
    if location.span.end > start {
        return start..location.span.end.min(text.len());
    }
    let rest = &text[start..];
    let len = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}' | '=' | '"' | '\''))
        .unwrap_or(rest.len());
    // Always at least one character, so the caret is visible (past the end: on the end).
    let len = len.max(rest.chars().next().map_or(0, char::len_utf8));
    start..start + len
}

fn render(location: &Location, color: bool) -> String {
    // As the message above it shows the path, so the two lines agree.
    let shown = location.path.display().to_string();
    let report = [Group::with_level(Level::ERROR).element(
        Snippet::source(&*location.line_text)
            .line_start(location.line)
            .path(shown)
            .annotation(AnnotationKind::Primary.span(underlined(location))),
    )];
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.render(&report).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(source: &str, span: Range<usize>) -> String {
        let l = Location::from_span("gate.toml", source, span);
        l.line_text[underlined(&l)].to_string()
    }

    #[test]
    fn the_recorded_span_is_underlined() {
        let text = "[tests]\nretries = \"two\"\nfail = [\"a\", \"b\"] # x\n";
        let at = |s: &str| text.find(s).unwrap();
        assert_eq!(marked(text, at("\"two\"")..at("\"two\"") + 5), "\"two\"");
        let list = at("[\"a\"");
        assert_eq!(marked(text, list..list + 10), "[\"a\", \"b\"]");
        // A span that runs over several lines is cut at the end of its first.
        assert_eq!(marked(text, at("retries")..text.len()), "retries = \"two\"");
    }

    #[test]
    fn a_point_underlines_the_token_there() {
        let text = "[tests]\njobs = 0 # x\nname = \"é\" x = 1\n";
        assert_eq!(marked(text, 15..15), "0");
        let x = text.rfind("x =").unwrap();
        assert_eq!(marked(text, x..x), "x");
        // Past the end of the line, or of the file: still a snippet, never a panic.
        assert_eq!(marked(text, 20..20), "");
        let _ = marked(text, 999..999);
    }

    #[test]
    fn the_rendered_snippet_has_the_line_and_a_caret() {
        let source = "[tests]\nretries = \"two\"\n";
        let start = source.find('"').unwrap();
        let out = render(
            &Location::from_span("gate.toml", source, start..start + 5),
            false,
        );
        assert!(out.contains("gate.toml:2:11"), "{out}");
        assert!(out.contains("2 | retries = \"two\""), "{out}");
        assert!(out.contains("^^^^^"), "{out}");
    }
}
