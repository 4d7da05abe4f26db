//! What only the HTML report needs, decided here so the template stays markup: the case table's
//! data (embedded JSON the page's script renders page by page, so a 100 000-case report stays
//! quick to open), stable anchors for cases with output, verdict icons as inline SVG (emoji
//! render as boxes without an emoji font), `code` spans in reasons, and the performance charts.
//!
//! Every string from the report reaches the page escaped: the JSON cannot close its `<script>`
//! (every `<` is `\u003c`), the page's script puts it in the DOM as text, and SVG text is
//! HTML-escaped here.

use minijinja::HtmlEscape;
use serde::Serialize;

use crate::model::{Case, CaseStatus, Report};
use crate::util::units::format_measure;

/// `c-<slug>-<hash>`: readable in a URL, stable across runs of the same test, and distinct for
/// ids whose slugs collide (`a::b` and `a_b`).
pub fn anchor(id: &str) -> String {
    let mut slug = String::with_capacity(id.len());
    for c in id.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    let slug: String = slug.chars().take(60).collect();
    // FNV-1a: tiny, deterministic, and enough to tell apart the few ids one slug can stand for.
    let hash = id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("c-{slug}-{:06x}", hash & 0xff_ffff)
}

/// Whether a case has a block of its own in the report (and so an anchor to link to).
pub fn has_block(case: &Case) -> bool {
    case.status.is_failure() || matches!(case.status, CaseStatus::Flaky | CaseStatus::Quarantined)
}

/// A 16×16 inline SVG for a status or verdict, with a `<title>` for screen readers and hover.
pub fn icon(status: &str) -> &'static str {
    match status {
        "passed" | "improved" => concat!(
            r##"<svg class="ic" viewBox="0 0 16 16" width="16" height="16" role="img"><title>passed</title>"##,
            r##"<circle cx="8" cy="8" r="7" fill="#1a7f37"/><path d="M4.5 8.2l2.3 2.3 4.7-4.9" fill="none" stroke="#fff" stroke-width="1.8"/></svg>"##
        ),
        "failed" | "error" | "regressed" => concat!(
            r##"<svg class="ic" viewBox="0 0 16 16" width="16" height="16" role="img"><title>failed</title>"##,
            r##"<circle cx="8" cy="8" r="7" fill="#cf222e"/><path d="M5.3 5.3l5.4 5.4M10.7 5.3l-5.4 5.4" stroke="#fff" stroke-width="1.8"/></svg>"##
        ),
        "timed_out" => concat!(
            r##"<svg class="ic" viewBox="0 0 16 16" width="16" height="16" role="img"><title>timed out</title>"##,
            r##"<circle cx="8" cy="8" r="7" fill="#cf222e"/><path d="M8 4v4.3l2.8 1.7" fill="none" stroke="#fff" stroke-width="1.6"/></svg>"##
        ),
        "flaky" | "warned" | "too noisy" => concat!(
            r##"<svg class="ic" viewBox="0 0 16 16" width="16" height="16" role="img"><title>warning</title>"##,
            r##"<path d="M8 1.2l7 13H1z" fill="#bf8700"/><path d="M8 5.5v4M8 11.3v1.2" stroke="#fff" stroke-width="1.6"/></svg>"##
        ),
        "quarantined" => concat!(
            r##"<svg class="ic" viewBox="0 0 16 16" width="16" height="16" role="img"><title>quarantined</title>"##,
            r##"<rect x="2.5" y="7" width="11" height="7.5" rx="1.5" fill="#9a6700"/><path d="M5 7V5a3 3 0 016 0v2" fill="none" stroke="#9a6700" stroke-width="1.6"/></svg>"##
        ),
        _ => concat!(
            r##"<svg class="ic" viewBox="0 0 16 16" width="16" height="16" role="img"><title>skipped</title>"##,
            r##"<circle cx="8" cy="8" r="7" fill="#8c959f"/><path d="M4.8 8h6.4" stroke="#fff" stroke-width="1.8"/></svg>"##
        ),
    }
}

/// Text with `` `code` `` spans as `<code>` — the rest HTML-escaped, and a lone backtick kept
/// as it is. Reasons and hints use backticks for names; the page shows them as code.
pub fn code_spans(text: &str) -> String {
    let text = crate::util::sanitize::strip_controls(text, false);
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest: &str = &text;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        out.push_str(&HtmlEscape(&rest[..open]).to_string());
        out.push_str("<code>");
        out.push_str(&HtmlEscape(&rest[open + 1..open + 1 + len]).to_string());
        out.push_str("</code>");
        rest = &rest[open + 2 + len..];
    }
    out.push_str(&HtmlEscape(rest).to_string());
    out
}

/// A test's recent outcomes (oldest first, a letter each, see `CaseHistory::recent`) as a row
/// of small coloured squares, each titled with what it was.
pub fn strip(recent: &str) -> String {
    let mut out =
        String::from(r#"<span class="strip" role="img" aria-label="recent runs, oldest first">"#);
    for c in recent.chars() {
        let (class, title) = match c {
            'p' => ("h-p", "passed"),
            'f' => ("h-f", "failed"),
            'k' => ("h-k", "flaky"),
            's' => ("h-s", "skipped"),
            '-' => ("h-n", "not run"),
            _ => continue,
        };
        out.push_str(&format!(
            r#"<span class="h {class}" title="{title}"></span>"#
        ));
    }
    out.push_str("</span>");
    out
}

/// One row of the case table: short keys, since a report can hold 100 000 of them.
#[derive(Serialize)]
struct Row<'a> {
    /// The case id (controls and bidi overrides out, as everywhere text is shown).
    i: std::borrow::Cow<'a, str>,
    /// Its status (`passed`, …).
    s: CaseStatus,
    /// Attempts.
    a: usize,
    /// Seconds (its longest attempt).
    t: f64,
    /// The anchor of its block, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    l: Option<String>,
    /// The time is a share of a batch (doctests), shown with `~`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    h: bool,
}

/// Every test case (the coverage file reading is not one) as JSON for the page's table, safe
/// inside `<script type="application/json">`.
pub fn cases_json(report: &Report) -> String {
    let rows: Vec<Row<'_>> = report
        .suites
        .iter()
        .filter(|s| s.kind != crate::model::SuiteKind::Coverage)
        .flat_map(|s| s.cases.iter())
        .map(|c| Row {
            i: crate::util::sanitize::strip_controls(&c.id, false),
            s: c.status,
            a: c.attempts.len(),
            // The longest attempt, as the progress lines and the Slowest table show it (a
            // test that timed out at 3 s twice took 3 s). `+ 0.0`: never -0.0 in JSON.
            t: (c.longest_attempt() * 1e6).round() / 1e6 + 0.0,
            l: has_block(c).then(|| anchor(&c.id)),
            h: c.attempts.iter().any(|a| a.shared),
        })
        .collect();
    // `\u003c` is the same character to JSON.parse and can never end the script element.
    serde_json::to_string(&rows)
        .unwrap_or_else(|_| "[]".to_string())
        .replace('<', "\\u003c")
}

/// A line chart: the value axis with its range in the metric's unit, the first and last
/// points' labels under the other axis, and each point's label and value on hover (`<title>`).
/// For a metric's history `labels` are its commits and the last point, this run, is red
/// (`mark_last`). Empty with fewer than two points.
pub fn chart(values: &[f64], labels: &[String], unit: &str, mark_last: bool) -> String {
    let points: Vec<(usize, f64)> = values
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .collect();
    if points.len() < 2 {
        return String::new();
    }
    let (w, h) = (320.0_f64, 110.0_f64);
    let (left, right, top, bottom) = (62.0, 8.0, 8.0, 22.0);
    let lo = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo {
        hi - lo
    } else {
        hi.abs().max(1e-12)
    };
    let last = values.len() - 1;
    let x = |i: usize| left + (w - left - right) * i as f64 / last.max(1) as f64;
    let y = |v: f64| top + (h - top - bottom) * (1.0 - (v - lo) / span);
    let label = |i: usize| -> String {
        labels
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("#{}", i + 1))
    };
    let mut svg = format!(
        r##"<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img"><title>{} to {} over {} runs</title>"##,
        HtmlEscape(&format_measure(lo, unit)),
        HtmlEscape(&format_measure(hi, unit)),
        points.len()
    );
    // Axes, with the value range and the commits at either end.
    svg.push_str(&format!(
        r##"<path d="M{left} {top}V{b}H{r}" fill="none" stroke="#8c959f" stroke-width="1"/>"##,
        b = h - bottom,
        r = w - right
    ));
    for (v, at) in [(hi, top + 4.0), (lo, h - bottom)] {
        svg.push_str(&format!(
            r##"<text x="{}" y="{at:.1}" text-anchor="end" font-size="10" fill="#57606a">{}</text>"##,
            left - 4.0,
            HtmlEscape(&format_measure(v, unit))
        ));
    }
    for (i, anchor) in [(0, "start"), (last, "end")] {
        svg.push_str(&format!(
            r##"<text x="{:.1}" y="{}" text-anchor="{anchor}" font-size="10" fill="#57606a">{}</text>"##,
            x(i),
            h - 6.0,
            HtmlEscape(&label(i))
        ));
    }
    let line: Vec<String> = points
        .iter()
        .map(|&(i, v)| format!("{:.1},{:.1}", x(i), y(v)))
        .collect();
    svg.push_str(&format!(
        r##"<polyline fill="none" stroke="#0969da" stroke-width="1.5" points="{}"/>"##,
        line.join(" ")
    ));
    for &(i, v) in &points {
        let (fill, r) = if mark_last && i == last {
            ("#cf222e", 3.5)
        } else {
            ("#0969da", 2.5)
        };
        svg.push_str(&format!(
            r##"<circle cx="{:.1}" cy="{:.1}" r="{r}" fill="{fill}"><title>{}: {}</title></circle>"##,
            x(i),
            y(v),
            HtmlEscape(&label(i)),
            HtmlEscape(&format_measure(v, unit))
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_readable_stable_and_distinct() {
        let a = anchor("mixed tests::fails_with_message");
        assert!(a.starts_with("c-mixed-tests-fails-with-message-"), "{a}");
        assert_eq!(a, anchor("mixed tests::fails_with_message"));
        assert_ne!(anchor("a::b"), anchor("a_b"));
        assert!(
            anchor("<script>\"x\"")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{}",
            anchor("<script>")
        );
    }

    #[test]
    fn a_strip_shows_each_run_and_nothing_else() {
        let s = strip("pk-f<x");
        assert_eq!(s.matches(r#"class="h "#).count(), 4, "{s}");
        assert!(s.contains(r#"title="flaky""#) && !s.contains("<x"), "{s}");
    }

    #[test]
    fn backticks_become_code_and_the_rest_stays_text() {
        assert_eq!(
            code_spans("`tests.failed == 0`: tests.failed is 3 <b>"),
            "<code>tests.failed == 0</code>: tests.failed is 3 &lt;b&gt;"
        );
        assert_eq!(code_spans("a ` lone"), "a ` lone");
        assert_eq!(code_spans("`<i>`"), "<code>&lt;i&gt;</code>");
        // Controls and bidi overrides are not text anyone should see.
        assert_eq!(code_spans("a\u{7}b\u{202e}c"), "abc");
    }

    #[test]
    fn the_case_data_cannot_close_its_script() {
        let mut report = Report::new(crate::model::RunInfo::default(), Vec::new());
        report.suites.push(crate::suites::suite(
            crate::model::SuiteKind::Tests,
            1.0,
            vec![Case::single(
                "b </script><script>alert(1)</script>",
                "t",
                CaseStatus::Failed,
                0.5,
                String::new(),
                String::new(),
            )],
        ));
        let json = cases_json(&report);
        assert!(!json.contains('<'), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back[0]["i"], "b </script><script>alert(1)</script>");
        assert_eq!(back[0]["s"], "failed");
        assert!(back[0]["l"].as_str().unwrap().starts_with("c-b-script"));
    }

    #[test]
    fn a_chart_has_axes_labels_and_a_value_per_point() {
        let labels = ["a1b2c3d", "e4f5a6b", "this run"].map(String::from);
        let svg = chart(&[8.0e3, 8.5e3, 9.0e3], &labels, "ns", true);
        assert!(svg.contains(">a1b2c3d</text>"), "{svg}");
        assert!(svg.contains(">this run</text>"), "{svg}");
        assert!(svg.contains("<title>e4f5a6b: 8.50µs</title>"), "{svg}");
        assert!(svg.contains("<title>this run: 9.00µs</title>"), "{svg}");
        assert!(
            svg.contains(">9.00µs</text>") && svg.contains(">8.00µs</text>"),
            "{svg}"
        );
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(svg.matches("#cf222e").count(), 1, "only this run is red");
        assert!(chart(&[1.0], &[], "ns", true).is_empty());
        // Untrusted text in a label is text.
        let odd = chart(&[1.0, 2.0], &["<b>".to_string()], "s", false);
        assert!(odd.contains("&lt;b&gt;") && !odd.contains("<b>"), "{odd}");
    }
}
