//! k6-style thresholds: `p(95) < 200ms`, `avg < 50ms`, `error_rate < 1%`, `rps > 150`.

use std::fmt;

use super::grammar::{self, Op, RuleError};

/// What a threshold measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    /// A latency percentile (0..=100).
    Percentile(f64),
    /// Mean latency.
    Avg,
    /// Median latency.
    Med,
    /// Fastest response.
    Min,
    /// Slowest response.
    Max,
    /// Failed requests over all requests, in %.
    ErrorRate,
    /// Completed requests per second.
    Rps,
    /// Completed requests.
    Requests,
}

impl Stat {
    /// Parses `p(95)`, `avg`, `med`, `min`, `max`, `error_rate`, `rps`, `requests`.
    pub fn parse(s: &str) -> Option<Stat> {
        Some(match s {
            "avg" | "mean" => Stat::Avg,
            "med" | "median" => Stat::Med,
            "min" => Stat::Min,
            "max" => Stat::Max,
            "error_rate" => Stat::ErrorRate,
            "rps" => Stat::Rps,
            "requests" => Stat::Requests,
            _ => Stat::Percentile(grammar::percentile(s)?),
        })
    }

    /// True for latency statistics (their limits are durations).
    pub fn is_latency(self) -> bool {
        matches!(
            self,
            Stat::Percentile(_) | Stat::Avg | Stat::Med | Stat::Min | Stat::Max
        )
    }

    /// The metric suffix: `p(95)`, `avg`, ...
    pub fn key(self) -> String {
        match self {
            Stat::Percentile(n) => format!("p({})", trim_float(n)),
            Stat::Avg => "avg".into(),
            Stat::Med => "med".into(),
            Stat::Min => "min".into(),
            Stat::Max => "max".into(),
            Stat::ErrorRate => "error_rate".into(),
            Stat::Rps => "rps".into(),
            Stat::Requests => "requests".into(),
        }
    }
}

fn trim_float(n: f64) -> String {
    let s = format!("{n}");
    s.trim_end_matches(".0").to_string()
}

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// A parsed threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The statistic.
    pub stat: Stat,
    /// The comparison.
    pub op: Op,
    /// Limit: seconds for latencies, percent for `error_rate`, a number otherwise.
    pub limit: f64,
    /// The text as written.
    pub source: String,
}

const STATS: &str = "p(N), avg, med, min, max, error_rate, rps, requests";

/// Parses `STAT OP VALUE[UNIT]` with the gate rules' grammar. A latency without a unit is in
/// milliseconds (as in k6); an `error_rate` without `%` is a fraction (`0.01` = 1 %).
pub fn parse(text: &str) -> Result<Threshold, RuleError> {
    let parts = grammar::split(text, "p(95) < 200ms")?;
    let stat = Stat::parse(parts.subject).ok_or_else(|| {
        grammar::error(
            parts.subject_at,
            format!("unknown statistic `{}`", parts.subject),
            format!("use one of {STATS}"),
        )
    })?;
    let (value, unit) = (parts.number, parts.unit);
    let limit = if stat.is_latency() {
        if unit.is_empty() {
            value * 1e-3
        } else {
            grammar::duration_secs(&parts, &stat.key())?
        }
    } else if stat == Stat::ErrorRate {
        match unit {
            "%" => value,
            "" => value * 100.0,
            _ => {
                return Err(grammar::error(
                    parts.unit_at,
                    format!("`{unit}` is not a rate"),
                    "write `1%` or `0.01`",
                ));
            }
        }
    } else {
        if !unit.is_empty() {
            return Err(grammar::error(
                parts.unit_at,
                format!("`{stat}` takes a plain number, not `{unit}`"),
                "e.g. `rps > 150`",
            ));
        }
        value
    };
    Ok(Threshold {
        stat,
        op: parts.op,
        limit,
        source: text.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_k6_style_thresholds() {
        let t = parse("p(95) < 200ms").unwrap();
        assert_eq!(
            (t.stat, t.op, t.limit),
            (Stat::Percentile(95.0), Op::Lt, 0.2)
        );
        assert_eq!(parse("p(99.9)<1s").unwrap().stat, Stat::Percentile(99.9));
        assert_eq!(
            parse("p(99) < 250").unwrap().limit,
            0.25,
            "no unit: milliseconds, as in k6"
        );
        assert_eq!(parse("error_rate < 1%").unwrap().limit, 1.0);
        assert_eq!(parse("error_rate < 0.01").unwrap().limit, 1.0);
        assert_eq!(parse(" rps >= 150 ").unwrap().op, Op::Ge);
        assert!((parse("avg < 50us").unwrap().limit - 50e-6).abs() < 1e-12);
        assert_eq!(Stat::Percentile(99.9).key(), "p(99.9)");
        assert_eq!(Stat::Percentile(95.0).key(), "p(95)");
    }

    #[test]
    fn rejects_unknown_stats_units_and_shapes() {
        let e = parse("q95 < 200ms").unwrap_err();
        assert_eq!(e.message, "unknown statistic `q95`");
        assert_eq!(e.offset, 0);
        assert!(parse("p(101) < 1s").is_err());
        let e = parse("p(95) < 200 parsecs").unwrap_err();
        assert!(
            e.message.contains("`parsecs` is not a time unit"),
            "{}",
            e.message
        );
        assert_eq!(e.offset, 12);
        assert_eq!(&"p(95) < 200 parsecs"[12..], "parsecs");
        assert!(
            parse("rps > 150ms")
                .unwrap_err()
                .message
                .contains("plain number")
        );
        assert!(parse("error_rate < 1ms").is_err());
        assert!(
            parse("p(95) 200")
                .unwrap_err()
                .message
                .contains("expected a comparison operator")
        );
        assert!(
            parse("p(95) < fast")
                .unwrap_err()
                .message
                .contains("expected a number")
        );
        assert!(parse("").is_err());
        // The same durations as everywhere else.
        assert_eq!(parse("p(95) < 1m30s").unwrap().limit, 90.0);
        assert_eq!(parse("p95 < 2min").unwrap().limit, 120.0);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            if let Err(e) = parse(&s) {
                prop_assert!(e.offset <= s.len());
            }
        }
    }
}
