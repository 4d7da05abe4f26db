//! Config errors shown like rustc's: the offending line of the file with a caret under the
//! value, rendered by annotate-snippets (what cargo and rustc use). The message and the help
//! stay on their own lines above it, so scripts that read `file:line:col` keep working.

use std::path::Path;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::error::Error;

/// The snippet under a config error, or `None` for other errors and when the file cannot be
/// read again (the message alone still says where).
pub fn snippet(e: &Error, color: bool) -> Option<String> {
    let Error::Config { location, .. } = e else {
        return None;
    };
    let text = std::fs::read_to_string(&location.path).ok()?;
    render(&text, &location.path, location.line, location.col, color)
}

/// The line `line` of `text` and the byte range of the value starting at character `col`.
pub fn span_of(text: &str, line: usize, col: usize) -> Option<(&str, std::ops::Range<usize>)> {
    let source = text.lines().nth(line.checked_sub(1)?)?;
    let start = source
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(source.len(), |(i, _)| i);
    let rest = &source[start..];
    let len = match rest.chars().next() {
        None => 0,
        // A string: to its closing quote (or the end of the line).
        Some(q @ ('"' | '\'')) => rest[1..].find(q).map_or(rest.len(), |end| end + 2),
        // An array or inline table on one line: to its matching bracket.
        Some(open @ ('[' | '{')) => {
            let close = if open == '[' { ']' } else { '}' };
            let mut depth = 0i32;
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                if c == open {
                    depth += 1;
                } else if c == close {
                    depth -= 1;
                    if depth == 0 {
                        end = i + c.len_utf8();
                        break;
                    }
                }
            }
            end
        }
        // A bare word, number or key — or a part of a rule inside a string: to the next
        // separator or quote.
        Some(_) => rest
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}' | '=' | '"' | '\''))
            .unwrap_or(rest.len()),
    };
    // Always at least one character, so the caret is visible.
    let end = (start + len.max(1)).min(source.len().max(start));
    Some((source, start..end.max(start)))
}

fn render(text: &str, path: &Path, line: usize, col: usize, color: bool) -> Option<String> {
    let (source, span) = span_of(text, line, col)?;
    // As the message above it shows the path, so the two lines agree.
    let shown = path.display().to_string();
    let report = [Group::with_level(Level::ERROR).element(
        Snippet::source(source)
            .line_start(line)
            .path(shown)
            .annotation(AnnotationKind::Primary.span(span)),
    )];
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    Some(renderer.render(&report).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_span_covers_the_value_at_the_column() {
        let text =
            "[tests]\nretries = \"two\"\nfail = [\"a\", \"b\"] # x\nx = { a = 1 }\njobs = 0\n";
        let (line, span) = span_of(text, 2, 11).unwrap();
        assert_eq!(&line[span], "\"two\"");
        let (line, span) = span_of(text, 3, 8).unwrap();
        assert_eq!(&line[span], "[\"a\", \"b\"]");
        let (line, span) = span_of(text, 4, 5).unwrap();
        assert_eq!(&line[span], "{ a = 1 }");
        let (line, span) = span_of(text, 5, 8).unwrap();
        assert_eq!(&line[span], "0");
        // A part of a rule inside its string ends at the quote.
        let rule = "fail = [\"tests.duration < 5\", \"x\"]";
        let (line, span) = span_of(rule, 1, 27).unwrap();
        assert_eq!(&line[span], "5");
        // A column past the end of the line still points somewhere; no line, no snippet.
        assert!(span_of(text, 5, 99).is_some());
        assert!(span_of(text, 9, 1).is_none());
        assert!(span_of(text, 0, 1).is_none());
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "name = \"é\" x = 1\n";
        let (line, span) = span_of(text, 1, 12).unwrap();
        assert_eq!(&line[span], "x");
    }

    #[test]
    fn the_rendered_snippet_has_the_line_and_a_caret() {
        let out = render(
            "[tests]\nretries = \"two\"\n",
            Path::new("gate.toml"),
            2,
            11,
            false,
        )
        .unwrap();
        assert!(out.contains("gate.toml:2:11"), "{out}");
        assert!(out.contains("2 | retries = \"two\""), "{out}");
        assert!(out.contains("^^^^^"), "{out}");
    }
}
