//! Durations and sizes as users write them (`"500ms"`, `"1.5s"`, `"2m"`) and as we print them.

use std::time::Duration;

/// Parses a duration such as `250ms`, `1.5s`, `2m`, `1h`, `100us`.
///
/// A bare number is rejected: `"30"` could be seconds or milliseconds, and guessing wrong
/// makes a timeout 1000 times off.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{text}` has no unit; write e.g. `{text}s` or `{text}ms`"))?;
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return Err(format!(
            "`{text}` is not a duration; write a number and a unit, e.g. `30s`"
        ));
    }
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{number}` is not a number"))?;
    let seconds_per_unit = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        "h" | "hour" | "hours" => 3600.0,
        other => {
            return Err(format!(
                "unknown duration unit `{other}`; use ns, us, ms, s, m or h"
            ));
        }
    };
    let secs = value * seconds_per_unit;
    if !secs.is_finite() || secs > 1e9 {
        return Err(format!("`{text}` is too long"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Formats seconds for people: `850µs`, `12ms`, `1.25s`, `2m05s`.
pub fn format_seconds(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "-".to_string();
    }
    // Three significant digits below a second: benchmarks differ in the decimals.
    let sig3 = |v: f64, unit: &str| {
        // Decided on the rounded value, so 99.99 prints as 100, not 100.0.
        if v >= 99.95 {
            format!("{v:.0}{unit}")
        } else if v >= 9.995 {
            format!("{v:.1}{unit}")
        } else {
            format!("{v:.2}{unit}")
        }
    };
    if secs == 0.0 {
        "0s".to_string()
    } else if secs < 1e-6 {
        sig3(secs * 1e9, "ns")
    } else if secs < 1e-3 {
        sig3(secs * 1e6, "µs")
    } else if secs < 1.0 {
        sig3(secs * 1e3, "ms")
    } else if secs < 60.0 {
        format!("{secs:.2}s")
    } else {
        let total = secs.round() as u64;
        if total < 3600 {
            format!("{}m{:02}s", total / 60, total % 60)
        } else {
            format!("{}h{:02}m", total / 3600, (total % 3600) / 60)
        }
    }
}

/// Formats a measured value with its unit: times become human durations, other units are
/// printed with their name.
pub fn format_measure(value: f64, unit: &str) -> String {
    match crate::gate::seconds_per(unit) {
        Some(k) => format_seconds(value * k),
        None if unit == "count" => format!("{value:.0}"),
        None => {
            let v = if value.abs() >= 100.0 {
                format!("{value:.0}")
            } else {
                format!("{value:.3}")
            };
            format!("{v} {unit}")
        }
    }
}

/// Formats a byte count: `512 B`, `1.5 KiB`, `3.2 MiB`.
pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("100us"), Ok(Duration::from_micros(100)));
    }

    #[test]
    fn rejects_ambiguous_or_malformed_durations() {
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(parse_duration("ms").unwrap_err().contains("not a duration"));
        assert!(
            parse_duration("1.2.3s")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(
            parse_duration("3 fortnights")
                .unwrap_err()
                .contains("unknown duration unit")
        );
        assert!(parse_duration("1e30h").is_err());
    }

    #[test]
    fn formats_durations_and_bytes() {
        assert_eq!(format_seconds(0.0004), "400µs");
        assert_eq!(format_seconds(0.012), "12.0ms");
        assert_eq!(format_seconds(0.00161), "1.61ms");
        assert_eq!(format_seconds(1.2e-7), "120ns");
        assert_eq!(format_seconds(0.0), "0s");
        assert_eq!(format_seconds(1.254), "1.25s");
        assert_eq!(format_seconds(125.0), "2m05s");
        assert_eq!(format_seconds(7260.0), "2h01m");
        assert_eq!(format_bytes(512.0), "512 B");
        assert_eq!(format_bytes(1536.0), "1.5 KiB");
    }
}
