//! The one grammar of gate rules (`tests.duration < 10m`) and load thresholds
//! (`p(95) < 200ms`): `SUBJECT OP VALUE[UNIT]`. One tokenizer, one error type, one percentile
//! syntax and one duration parser ([`crate::util::units::parse_duration`]) for both.

use std::fmt;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    /// True when `observed OP limit` holds.
    pub fn holds(self, observed: f64, limit: f64) -> bool {
        // Counts and durations are compared with a tolerance far below any unit we print,
        // so `tests.pass_rate == 100%` is not broken by float rounding.
        let eps = 1e-9 * limit.abs().max(1.0);
        match self {
            Op::Eq => (observed - limit).abs() <= eps,
            Op::Ne => (observed - limit).abs() > eps,
            Op::Lt => observed < limit - eps,
            Op::Le => observed <= limit + eps,
            Op::Gt => observed > limit + eps,
            Op::Ge => observed >= limit - eps,
        }
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// Why a rule or threshold does not parse; `offset` is a byte offset into its text.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    /// Byte offset of the problem within the text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for RuleError {}

/// Builds a [`RuleError`].
pub fn error(offset: usize, message: impl Into<String>, hint: impl Into<String>) -> RuleError {
    RuleError {
        offset,
        message: message.into(),
        hint: hint.into(),
    }
}

/// A rule split into its parts, each with its byte offset.
#[derive(Debug, Clone, PartialEq)]
pub struct Parts<'a> {
    /// The metric or statistic.
    pub subject: &'a str,
    /// Where it starts.
    pub subject_at: usize,
    /// The comparison.
    pub op: Op,
    /// The number (signed).
    pub number: f64,
    /// The number as written.
    pub number_text: &'a str,
    /// Where the value starts.
    pub value_at: usize,
    /// What follows the number (`ms`, `%`, `h30m`), trimmed; empty when nothing does.
    pub unit: &'a str,
    /// Where the unit starts.
    pub unit_at: usize,
    /// The whole value, number and unit (`1h30m`).
    pub value: &'a str,
}

fn is_subject_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'*' | b'(' | b')' | b':' | b'/')
}

/// Splits `SUBJECT OP VALUE[UNIT]`. `example` is shown in hints (`tests.failed == 0`).
pub fn split<'a>(text: &'a str, example: &str) -> Result<Parts<'a>, RuleError> {
    let form = format!("write `NAME OP VALUE`, e.g. `{example}`");
    let bytes = text.as_bytes();
    let skip_ws = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let subject_at = skip_ws(0);
    let mut i = subject_at;
    while i < bytes.len() && is_subject_byte(bytes[i]) {
        i += 1;
    }
    let subject = &text[subject_at..i];
    if subject.is_empty() {
        return Err(error(subject_at, "expected a metric name", form));
    }
    let op_at = skip_ws(i);
    let two = text.get(op_at..op_at + 2).unwrap_or("");
    let one = text.get(op_at..op_at + 1).unwrap_or("");
    let (op, len) = match (two, one) {
        ("==", _) => (Op::Eq, 2),
        ("!=", _) => (Op::Ne, 2),
        ("<=", _) => (Op::Le, 2),
        (">=", _) => (Op::Ge, 2),
        (_, "<") => (Op::Lt, 1),
        (_, ">") => (Op::Gt, 1),
        (_, "=") => {
            return Err(error(
                op_at,
                "`=` is not a comparison",
                "use `==` to compare",
            ));
        }
        _ => {
            return Err(error(
                op_at,
                format!("expected a comparison operator after `{subject}`"),
                "use one of ==, !=, <, <=, >, >=",
            ));
        }
    };
    let value_at = skip_ws(op_at + len);
    let mut j = value_at;
    // A sign, for limits on changes (`coverage.lines_delta >= -1%`).
    if j < bytes.len() && bytes[j] == b'-' {
        j += 1;
    }
    while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.') {
        j += 1;
    }
    let number_text = &text[value_at..j];
    if number_text.is_empty() || number_text == "-" {
        return Err(error(value_at, "expected a number", form));
    }
    let number: f64 = number_text
        .parse()
        .map_err(|_| error(value_at, format!("`{number_text}` is not a number"), form))?;
    let rest = text[j..].trim_end();
    let unit = rest.trim_start();
    let unit_at = j + (rest.len() - unit.len());
    Ok(Parts {
        subject,
        subject_at,
        op,
        number,
        number_text,
        value_at,
        unit,
        unit_at,
        value: text[value_at..].trim(),
    })
}

/// The limit of a duration value in seconds: the whole value goes through the one duration
/// parser, so `90s`, `1.5min`, `2mins` and `1h30m` mean the same here as in gate.toml.
pub fn duration_secs(parts: &Parts<'_>, what: &str) -> Result<f64, RuleError> {
    if parts.number < 0.0 {
        return Err(error(
            parts.value_at,
            format!("`{what}` is a duration; it cannot be negative"),
            "write a positive duration, e.g. `10m`",
        ));
    }
    crate::util::units::parse_duration(parts.value)
        .map(|d| d.as_secs_f64())
        .map_err(|m| {
            // A bare number has no unit to point at: the number is what needs one.
            let (at, message) = if parts.unit.is_empty() {
                (
                    parts.value_at,
                    format!(
                        "`{what}` is a duration and `{}` has no unit",
                        parts.number_text
                    ),
                )
            } else {
                (
                    parts.unit_at,
                    format!(
                        "`{what}` is a duration; `{}` is not a time unit ({m})",
                        parts.unit
                    ),
                )
            };
            error(
                at,
                message,
                format!(
                    "write the limit with ns, us, ms, s, m or h, e.g. `{what} < {}s` or `1h30m`",
                    if parts.number_text.is_empty() {
                        "10"
                    } else {
                        parts.number_text
                    }
                ),
            )
        })
}

/// A percentile written `p(95)`, `p(99.9)` or `p95`, as a number in 0..=100.
pub fn percentile(s: &str) -> Option<f64> {
    let n = s
        .strip_prefix("p(")
        .and_then(|r| r.strip_suffix(')'))
        .or_else(|| s.strip_prefix('p'))?;
    let v: f64 = n.trim().parse().ok()?;
    (0.0..=100.0).contains(&v).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_every_part_with_its_offset() {
        let p = split("  load.api.p(99.9) >= -1.5h30m ", "x").unwrap();
        assert_eq!(p.subject, "load.api.p(99.9)");
        assert_eq!(p.subject_at, 2);
        assert_eq!(p.op, Op::Ge);
        assert_eq!(p.number, -1.5);
        assert_eq!(p.unit, "h30m");
        assert_eq!(
            &"  load.api.p(99.9) >= -1.5h30m "[p.unit_at..p.unit_at + 4],
            "h30m"
        );
        assert_eq!(p.value, "-1.5h30m");
    }

    #[test]
    fn one_percentile_syntax() {
        assert_eq!(percentile("p(95)"), Some(95.0));
        assert_eq!(percentile("p95"), Some(95.0));
        assert_eq!(percentile("p(99.9)"), Some(99.9));
        assert_eq!(percentile("p(101)"), None);
        assert_eq!(percentile("q95"), None);
    }

    #[test]
    fn durations_are_the_config_durations() {
        for (text, secs) in [
            ("x < 90s", 90.0),
            ("x < 1h30m", 5400.0),
            ("x < 2min", 120.0),
        ] {
            let p = split(text, "x").unwrap();
            assert_eq!(duration_secs(&p, "x"), Ok(secs), "{text}");
        }
        let p = split("x < 3 fortnights", "x").unwrap();
        assert_eq!(duration_secs(&p, "x").unwrap_err().offset, 6);
    }
}
