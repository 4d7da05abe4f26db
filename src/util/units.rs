//! Durations and sizes as users write them (`"500ms"`, `"1.5s"`, `"2min"`, `"1h30m"`, `"64MB"`)
//! and as we print them. One parser for each, used by config, gate rules and load thresholds
//! alike: durations by humantime, sizes by bytesize.

use std::time::Duration;

/// Parses a duration such as `250ms`, `1.5s`, `2m`, `2min`, `1h30m`, `100us`.
///
/// A bare number is rejected: `"30"` could be seconds or milliseconds, and guessing wrong
/// makes a timeout 1000 times off.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the duration is empty; write a number and a unit, e.g. `30s`".to_string());
    }
    if text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(format!(
            "`{text}` has no unit; write e.g. `{text}s` or `{text}ms`"
        ));
    }
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "`{text}` is not a duration; write a number and a unit, e.g. `30s`"
        ));
    }
    let d = humantime::parse_duration(text).map_err(|e| match e {
        humantime::DurationError::UnknownUnit { unit, .. } => format!(
            "unknown duration unit `{unit}`; use ns, us, ms, s, m (min), h, or a sum like `1h30m`"
        ),
        humantime::DurationError::NumberOverflow => format!("`{text}` is too long"),
        _ => format!("`{text}` is not a number and a unit, e.g. `30s`, `1.5s` or `1h30m`"),
    })?;
    if d.as_secs() > 1_000_000_000 {
        return Err(format!("`{text}` is too long"));
    }
    Ok(d)
}

/// Seconds per unit for the time units metrics are recorded in (`ns` … `h`); `None` for other
/// units (`count`, `%`, `bytes`, a benchmark's own).
pub fn seconds_per(unit: &str) -> Option<f64> {
    match unit {
        "ns" => Some(1e-9),
        "us" | "µs" => Some(1e-6),
        "ms" => Some(1e-3),
        "s" => Some(1.0),
        "m" | "min" => Some(60.0),
        "h" => Some(3600.0),
        _ => None,
    }
}

/// Parses a size: `512` or `512B` (bytes), `64KB` (64 000), `64KiB` (65 536), `1.5MB`, `2GiB`.
/// SI prefixes are powers of 1000 and IEC ones powers of 1024, as in Toxiproxy and most tools.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
        return t.parse().map_err(|_| format!("`{t}` is too large"));
    }
    t.parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|_| format!("`{t}` is not a size; write e.g. `512B`, `64KB`, `64KiB` or `1.5MB`"))
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
    match seconds_per(unit) {
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

/// Points a sparkline shows at most (the newest): wider charts wrap in terminals and tables.
pub const SPARKLINE_POINTS: usize = 40;

/// A one-line chart of the newest [`SPARKLINE_POINTS`] values: `▁▂▄█`.
pub fn sparkline(values: &[f64]) -> String {
    let values = &values[values.len().saturating_sub(SPARKLINE_POINTS)..];
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return String::new();
    }
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    finite
        .iter()
        .map(|v| {
            if hi > lo {
                BARS[(((v - lo) / (hi - lo)) * 7.0).round() as usize]
            } else {
                BARS[3]
            }
        })
        .collect()
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
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn every_spelling_of_a_duration_means_the_same() {
        let ninety = Duration::from_secs(90);
        for text in [
            "90s",
            "1m30s",
            "1min 30s",
            "1.5m",
            "1.5min",
            "90 seconds",
            "90000ms",
        ] {
            assert_eq!(parse_duration(text), Ok(ninety), "{text}");
        }
        assert_eq!(parse_duration("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("2mins"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("5ns"), Ok(Duration::from_nanos(5)));
    }

    #[test]
    fn sizes_use_si_and_iec_prefixes() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("512B"), Ok(512));
        assert_eq!(parse_size("64KB"), Ok(64_000));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("1.5MB"), Ok(1_500_000));
        assert_eq!(parse_size("2 GiB"), Ok(2 * 1024 * 1024 * 1024));
        assert!(parse_size("3 bananas").is_err());
        assert!(parse_size("").is_err());
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

    #[test]
    fn sparklines_show_the_newest_points() {
        assert_eq!(sparkline(&[1.0, 2.0, 3.0, 8.0]), "▁▂▃█");
        assert_eq!(sparkline(&[5.0, 5.0]), "▄▄");
        assert_eq!(sparkline(&[]), "");
        let many: Vec<f64> = (0..100).map(f64::from).collect();
        assert_eq!(sparkline(&many).chars().count(), SPARKLINE_POINTS);
    }
}
