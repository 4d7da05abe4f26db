//! Values read from gate.toml with their position, turned into typed values or into errors that
//! name `file:line:col`. Shared by the core config and the suites' own sections.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use crate::error::{Error, Location, Result};

/// Maps a byte span of the config text (a value as the TOML parser saw it) to a location.
pub type At<'a> = &'a dyn Fn(Range<usize>) -> Location;

/// The inside of a quoted string's span: what a message about its text points at.
pub fn inside(span: Range<usize>) -> Range<usize> {
    let start = (span.start + 1).min(span.end);
    start..span.end.saturating_sub(1).max(start)
}

/// Where a rule written in a string (`"tests.failed == 0"`) went wrong: `offset` bytes into
/// its text. A point: the diagnostic underlines the token there.
pub fn rule_point(span: Range<usize>, offset: usize) -> Range<usize> {
    let at = inside(span).start + offset;
    at..at
}

/// A config error at `span` with a hint.
pub fn config_error(at: At<'_>, span: Range<usize>, message: String, hint: &str) -> Error {
    Error::Config {
        location: at(span),
        message,
        hint: Some(hint.to_string()),
    }
}

/// A duration string (`"90s"`, `"1h30m"`), located at its first character on error.
pub fn duration(at: At<'_>, s: &Spanned<String>) -> Result<Duration> {
    crate::util::units::parse_duration(s.get_ref()).map_err(|message| {
        // +1 skips the opening quote.
        config_error(
            at,
            inside(s.span()),
            message,
            "write a duration with a unit, e.g. \"90s\", \"500ms\", \"5m\" or \"1h30m\"",
        )
    })
}

/// A duration that must be above zero (a `0s` stage, run or timeout does nothing useful and
/// divides by zero somewhere).
pub fn nonzero_duration(at: At<'_>, s: &Spanned<String>, name: &str) -> Result<Duration> {
    let d = duration(at, s)?;
    if d.is_zero() {
        return Err(config_error(
            at,
            inside(s.span()),
            format!("`{name}` must be longer than 0s"),
            "write a positive duration, e.g. \"10s\"",
        ));
    }
    Ok(d)
}

/// A percentage string (`"2%"`) from 0 to `max`, located at its first character on error;
/// `example` is what the hint suggests writing.
pub fn percent(at: At<'_>, v: &Spanned<String>, max: f64, example: &str) -> Result<f64> {
    let text = v.get_ref().trim();
    text.strip_suffix('%')
        .and_then(|n| n.trim().parse::<f64>().ok())
        .filter(|n| n.is_finite() && (0.0..=max).contains(n))
        .ok_or_else(|| {
            config_error(
                at,
                inside(v.span()),
                format!("`{text}` is not a percentage"),
                &format!("write it like \"{example}\""),
            )
        })
}

/// A number that must be finite and in `min..=max`, located at the number on error.
pub fn number_in(
    at: At<'_>,
    v: &Spanned<f64>,
    name: &str,
    range: (f64, f64),
    hint: &str,
) -> Result<f64> {
    in_range(at, v, name, range, hint, |x| {
        if x.is_finite() && x != 0.0 && !(1e-4..1e9).contains(&x.abs()) {
            format!("{x:e}")
        } else {
            x.to_string()
        }
    })
}

/// A whole number that must be in `min..=max`, located at the number on error.
pub fn count_in(
    at: At<'_>,
    v: &Spanned<u64>,
    name: &str,
    range: (u64, u64),
    hint: &str,
) -> Result<u64> {
    in_range(at, v, name, range, hint, |x| x.to_string())
}

fn in_range<T: Copy + PartialOrd + std::fmt::Display>(
    at: At<'_>,
    v: &Spanned<T>,
    name: &str,
    (min, max): (T, T),
    hint: &str,
    show: impl Fn(T) -> String,
) -> Result<T> {
    let x = *v.get_ref();
    // Written so that NaN, which compares false with everything, is out of range.
    if !(x >= min && x <= max) {
        return Err(config_error(
            at,
            v.span(),
            format!("`{name}` is {}; it must be from {min} to {max}", show(x)),
            hint,
        ));
    }
    Ok(x)
}

/// An optional duration.
pub fn opt_duration(at: At<'_>, v: &Option<Spanned<String>>) -> Result<Option<Duration>> {
    v.as_ref().map(|s| duration(at, s)).transpose()
}

/// A size string (`"64KB"`, `"1MiB"`), located at its first character on error.
pub fn size(at: At<'_>, s: &Spanned<String>) -> Result<u64> {
    crate::util::units::parse_size(s.get_ref())
        .map_err(|m| config_error(at, inside(s.span()), m, "write e.g. \"64KB\" or \"64KiB\""))
}
