//! What the outputs show of the security suite: the findings the change introduces, those the
//! base already had, and those set aside, as rows every template lays out its own way. Every
//! text in a row comes from the advisory database, a manifest or the change: the templates
//! escape it; the only link is built here from an advisory id of RustSec's own form.

use serde::Serialize;

use crate::model::{CaseStatus, Finding, FindingKind, Report, SuiteKind};

/// The security section.
#[derive(Serialize)]
pub struct SecurityView<'a> {
    status: CaseStatus,
    /// The audit case's one line (`412 crates checked · …`).
    message: &'a str,
    /// Why a check could not run, notes, the database used.
    detail: &'a str,
    /// `main (abc1234)`, when there was a base.
    base: Option<&'a str>,
    /// Introduced by the change (or an expired ignore), counting.
    new: Vec<Row<'a>>,
    /// Already on the base, counting.
    existing: Vec<Row<'a>>,
    /// Set aside by an ignore that holds.
    ignored: Vec<Row<'a>>,
    /// The counts over the noted history and this run, as an SVG chart (HTML only), or empty.
    trend_svg: minijinja::Value,
}

/// One finding, ready to show.
#[derive(Serialize)]
struct Row<'a> {
    kind: &'static str,
    id: &'a str,
    /// `https://rustsec.org/advisories/ID.html` for a RustSec id (safe: built here from an id
    /// checked to be `RUSTSEC-NNNN-NNNN`), else none.
    url: minijinja::Value,
    package: &'a str,
    title: &'a str,
    /// `critical (CVSS 9.8)`, or empty.
    severity: String,
    /// `>=1.4.2, <2.0.0 or >=2.0.3`, `none` for a vulnerability with no fix, or empty.
    fixed: String,
    /// `app → hyper → h2`, or empty.
    path: String,
    /// `Cargo.lock:12`, `src/config.rs:2`, or empty.
    place: String,
    /// The ignore's expired day, or empty.
    expired: &'a str,
    /// The ignore's reason, or empty.
    reason: &'a str,
    /// One line for the terminal.
    line: String,
}

fn is_rustsec_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 3
        && parts[0] == "RUSTSEC"
        && parts[1].len() == 4
        && parts[2].len() == 4
        && parts[1..]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

fn row(f: &Finding) -> Row<'_> {
    let severity = match (&f.severity, f.cvss) {
        (Some(s), Some(c)) => format!("{s} (CVSS {c:.1})"),
        (Some(s), None) => s.clone(),
        _ => String::new(),
    };
    let fixed = if !f.patched.is_empty() {
        f.patched.join(" or ")
    } else if matches!(f.kind, FindingKind::Vulnerability | FindingKind::Unsound) {
        "none".to_string()
    } else {
        String::new()
    };
    let place = match (&f.file, f.line) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        (Some(file), None) => file.clone(),
        _ => String::new(),
    };
    Row {
        kind: f.kind.label(),
        id: &f.id,
        url: if is_rustsec_id(&f.id) {
            minijinja::Value::from_safe_string(format!(
                "https://rustsec.org/advisories/{}.html",
                f.id
            ))
        } else {
            minijinja::Value::from(())
        },
        package: f.package.as_deref().unwrap_or(""),
        title: &f.title,
        severity,
        fixed,
        path: if f.path.len() > 1 {
            f.path.join(" → ")
        } else {
            String::new()
        },
        place,
        expired: f.expired.as_deref().unwrap_or(""),
        reason: f.ignored.as_deref().unwrap_or(""),
        line: f.describe(),
    }
}

/// The section, when the security suite ran.
pub fn view(report: &Report) -> Option<SecurityView<'_>> {
    let suite = report.suite(SuiteKind::Security)?;
    let audit = suite.cases.first()?;
    let summary = suite.security();
    let findings: &[Finding] = summary.map_or(&[], |s| &s.findings);
    let pick = |want: fn(&Finding) -> bool| findings.iter().filter(|f| want(f)).map(row).collect();
    Some(SecurityView {
        status: audit.status,
        message: audit.message.as_deref().unwrap_or(""),
        detail: audit.detail.as_deref().unwrap_or(""),
        base: summary.and_then(|s| s.base.as_deref()),
        new: pick(|f| f.counts() && f.new),
        existing: pick(|f| f.counts() && !f.new),
        ignored: pick(|f| !f.counts()),
        trend_svg: trend_chart(summary.map_or(&[], |s| &s.trend)),
    })
}

/// Vulnerabilities over the noted commits and this run; empty with fewer than two points.
fn trend_chart(trend: &[crate::model::TrendPoint]) -> minijinja::Value {
    let values: Vec<f64> = trend.iter().map(|p| p.advisories).collect();
    let labels: Vec<String> = trend.iter().map(|p| p.rev.clone()).collect();
    // The chart escapes its labels; the SVG is built here, never from the report's text.
    minijinja::Value::from_safe_string(super::html::chart(&values, &labels, "", true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rustsec_ids_are_linked() {
        assert!(is_rustsec_id("RUSTSEC-2026-0104"));
        assert!(!is_rustsec_id("RUSTSEC-2026-0104\"><script>"));
        assert!(!is_rustsec_id("GHSA-xxxx-yyyy-zzzz"));
        assert!(!is_rustsec_id("RUSTSEC-26-1"));
    }
}
