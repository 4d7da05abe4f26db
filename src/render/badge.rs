//! Badges: small SVG images in the shields.io "flat" look, made here (no network), for a
//! README to show the default branch's coverage and verdict (`coverage.svg`, `gate.svg`).

/// The colour shields.io uses for a coverage percentage.
pub fn coverage_color(percent: f64) -> &'static str {
    match percent {
        p if p >= 90.0 => "#4c1",
        p if p >= 80.0 => "#97ca00",
        p if p >= 70.0 => "#a4a61d",
        p if p >= 60.0 => "#dfb317",
        p if p >= 50.0 => "#fe7d37",
        _ => "#e05d44",
    }
}

/// The coverage badge: `coverage | 83.33%`.
pub fn coverage(percent: f64) -> String {
    badge(
        "coverage",
        &format!("{percent:.2}%"),
        coverage_color(percent),
    )
}

/// The verdict badge: `cargo-gate | passed` (green) or `failed` (red).
pub fn verdict(passed: bool) -> String {
    if passed {
        badge("cargo-gate", "passed", "#4c1")
    } else {
        badge("cargo-gate", "failed", "#e05d44")
    }
}

/// Width of `text` in Verdana 11 px, closely enough to centre it (the widths of its
/// character classes, in pixels).
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '!' | '|' | '\'' => 3.7,
            'f' | 't' | 'r' | ' ' | '(' | ')' | '-' => 4.8,
            'm' | 'w' | 'M' | 'W' | '%' => 10.5,
            c if c.is_ascii_uppercase() => 7.8,
            _ => 7.0,
        })
        .sum()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A flat badge with `label` on grey and `message` on `color`.
pub fn badge(label: &str, message: &str, color: &str) -> String {
    let lw = (text_width(label) + 10.0).round();
    let mw = (text_width(message) + 10.0).round();
    let w = lw + mw;
    let (label, message) = (escape(label), escape(message));
    let lx = lw / 2.0;
    let mx = lw + mw / 2.0;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{label}: {message}"><title>{label}: {message}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{mw}" height="20" fill="{color}"/><rect width="{w}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="{lx}" y="15" fill="#010101" fill-opacity=".3">{label}</text><text x="{lx}" y="14">{label}</text><text x="{mx}" y="15" fill="#010101" fill-opacity=".3">{message}</text><text x="{mx}" y="14">{message}</text></g></svg>
"##
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_follow_the_coverage() {
        assert_eq!(coverage_color(95.0), "#4c1");
        assert_eq!(coverage_color(85.0), "#97ca00");
        assert_eq!(coverage_color(49.9), "#e05d44");
    }

    #[test]
    fn a_badge_is_svg_sized_to_its_text() {
        let b = coverage(83.333);
        assert!(b.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(b.contains(">83.33%</text>") && b.contains("fill=\"#97ca00\""));
        let width = |svg: &str| -> f64 {
            svg.split("width=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        assert!(
            width(&verdict(true)) < width(&badge("cargo-gate", "passed with a long note", "#4c1"))
        );
        assert!(verdict(false).contains(">failed</text>"));
        assert!(!badge("a<b", "\"x\"", "#fff").contains("a<b"));
    }
}
