//! Errors of the library. Every user-facing error says what went wrong, where, and what to do,
//! and maps to one of the exit codes of DESIGN.md.

use std::fmt;
use std::path::PathBuf;

/// Exit code: the gate passed.
pub const EXIT_PASS: i32 = 0;
/// Exit code: the gate failed (a `fail` rule did not hold, the build failed, or the run was interrupted).
pub const EXIT_GATE_FAILED: i32 = 1;
/// Exit code: usage, configuration or input error.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: internal or publishing error.
pub const EXIT_INTERNAL: i32 = 3;

/// A place in a text file, 1-based, for `file:line:col` messages, with the span of the value
/// there as the parser saw it, so a diagnostic underlines exactly that value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file the position is in.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// The text of that line, as it was parsed (the file may change before it is shown).
    pub line_text: Box<str>,
    /// The value's bytes within `line_text` (to the end of the line for a value that goes on).
    pub span: std::ops::Range<usize>,
}

impl Location {
    /// Where `span` (byte offsets into `source`) starts, and what of it is on that line.
    pub fn from_span(path: impl Into<PathBuf>, source: &str, span: std::ops::Range<usize>) -> Self {
        let start = floor_boundary(source, span.start);
        let end = floor_boundary(source, span.end.max(start));
        let before = &source[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line_text = source[line_start..line_end].trim_end_matches('\r');
        let col = before[line_start..].chars().count() + 1;
        let from = (start - line_start).min(line_text.len());
        Location {
            path: path.into(),
            line,
            col,
            span: from..(end.min(line_end) - line_start).clamp(from, line_text.len()),
            line_text: line_text.into(),
        }
    }

    /// Where `offset` is, with an empty span (the diagnostic marks one character).
    pub fn from_offset(path: impl Into<PathBuf>, source: &str, offset: usize) -> Self {
        Self::from_span(path, source, offset..offset)
    }
}

/// `offset` clamped into `source` and walked back to a char boundary, so slicing never panics
/// on odd spans.
fn floor_boundary(source: &str, offset: usize) -> usize {
    let mut cut = offset.min(source.len());
    while !source.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.col)
    }
}

/// The library's error type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `gate.toml` (or another config file) is malformed or invalid at a known position.
    #[error("{location}: {message}")]
    Config {
        /// Where the problem is.
        location: Location,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// The command line or the environment asks for something impossible.
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// An input file (a report, a template) cannot be used.
    #[error("{path}: {message}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Something failed that is not the user's input: a bug, or the environment.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// A usage error with a hint.
    pub fn usage(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// An input-file error with a hint.
    pub fn input(
        path: impl Into<PathBuf>,
        message: impl Into<String>,
        hint: impl Into<Option<String>>,
    ) -> Self {
        Error::Input {
            path: path.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// An I/O error with what we were doing.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. } | Error::Usage { .. } | Error::Input { .. } => EXIT_USAGE,
            Error::Io { .. } | Error::Internal(_) => EXIT_INTERNAL,
        }
    }

    /// The hint that tells the user what to do, if any.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Config { hint, .. } | Error::Usage { hint, .. } | Error::Input { hint, .. } => {
                hint.as_deref()
            }
            Error::Io { .. } | Error::Internal(_) => None,
        }
    }
}

/// Result alias of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_chars() {
        let src = "a = 1\nbé = x\n";
        let loc = Location::from_offset("gate.toml", src, src.find('x').unwrap());
        assert_eq!((loc.line, loc.col), (2, 6));
        assert_eq!(loc.to_string(), "gate.toml:2:6");
    }

    #[test]
    fn location_survives_offsets_past_end_or_inside_a_char() {
        let src = "é";
        assert_eq!(Location::from_offset("f", src, 1).col, 1);
        assert_eq!(Location::from_offset("f", src, 99).col, 2);
    }

    #[test]
    fn a_span_is_kept_on_its_first_line() {
        let src = "[tests]\nretries = \"two\"\n";
        let start = src.find('"').unwrap();
        let loc = Location::from_span("gate.toml", src, start..start + 5);
        assert_eq!((loc.line, loc.col), (2, 11));
        assert_eq!(&loc.line_text[loc.span.clone()], "\"two\"");
        let long = Location::from_span("gate.toml", src, 0..src.len());
        assert_eq!(&long.line_text[long.span.clone()], "[tests]");
        let past = Location::from_span("gate.toml", src, 99..200);
        assert!(past.span.is_empty());
    }
}
