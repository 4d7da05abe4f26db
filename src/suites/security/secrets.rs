//! Secrets in the change: rules for the common credential formats applied to the lines the
//! change adds (never to history: what is already on the base is not this change's doing).
//! A secret is never kept or shown: a finding carries its rule, a redacted form (`ghp_…9XyZ`)
//! and a fingerprint `path:rule:line` to allow a known false positive.

use std::sync::OnceLock;

use regex::Regex;

use crate::model::{Finding, FindingKind};

/// One credential format.
struct Rule {
    id: &'static str,
    title: &'static str,
    pattern: &'static str,
    /// The capture group holding the secret (0: the whole match).
    group: usize,
    /// Bits of entropy per character the secret must reach (0: any), so that placeholders
    /// such as `password = "changeme"` pass.
    min_entropy: f64,
}

const RULES: &[Rule] = &[
    Rule {
        id: "github-token",
        title: "GitHub token",
        pattern: r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{82}\b",
        group: 0,
        min_entropy: 0.0,
    },
    Rule {
        id: "gitlab-token",
        title: "GitLab personal access token",
        pattern: r"\bglpat-[A-Za-z0-9_\-]{20,}",
        group: 0,
        min_entropy: 0.0,
    },
    Rule {
        id: "aws-access-key-id",
        title: "AWS access key id",
        pattern: r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
        group: 0,
        min_entropy: 0.0,
    },
    Rule {
        id: "aws-secret-access-key",
        title: "AWS secret access key",
        pattern: r#"(?i)aws.{0,20}secret.{0,20}['"]([A-Za-z0-9/+=]{40})['"]"#,
        group: 1,
        min_entropy: 3.5,
    },
    Rule {
        id: "google-api-key",
        title: "Google API key",
        pattern: r"\bAIza[0-9A-Za-z_\-]{35}\b",
        group: 0,
        min_entropy: 0.0,
    },
    Rule {
        id: "slack-token",
        title: "Slack token",
        pattern: r"\bxox[baprs]-[0-9A-Za-z\-]{10,}",
        group: 0,
        min_entropy: 0.0,
    },
    Rule {
        id: "slack-webhook",
        title: "Slack webhook URL",
        pattern: r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}",
        group: 0,
        min_entropy: 0.0,
    },
    Rule {
        id: "stripe-key",
        title: "Stripe secret key",
        pattern: r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,}\b",
        group: 0,
        min_entropy: 0.0,
    },
    Rule {
        id: "private-key",
        title: "private key block",
        pattern: r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----",
        group: 0,
        min_entropy: 0.0,
    },
    Rule {
        id: "jwt",
        title: "JSON Web Token",
        pattern: r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
        group: 0,
        min_entropy: 0.0,
    },
    Rule {
        id: "generic-secret",
        title: "hard-coded password, secret or token",
        pattern: r#"(?i)\b(?:password|passwd|secret|token|api_?key|access_?key)\w*\b["']?\s*[:=]\s*["']([^"'\s]{8,})["']"#,
        group: 1,
        min_entropy: 3.5,
    },
];

fn compiled() -> &'static [(&'static Rule, Regex)] {
    static SET: OnceLock<Vec<(&'static Rule, Regex)>> = OnceLock::new();
    SET.get_or_init(|| {
        RULES
            .iter()
            // The patterns are constants, checked by a unit test: one that did not compile
            // would be left out rather than stop the run.
            .filter_map(|r| Regex::new(r.pattern).ok().map(|re| (r, re)))
            .collect()
    })
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = s.chars().count() as f64;
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// A secret as it may be shown: its first four and last four characters, nothing of a short
/// one.
pub fn redact(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 16 {
        return "…".to_string();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// What the scan is told to leave alone.
pub struct Allow<'a> {
    /// Files never scanned.
    pub paths: &'a globset::GlobSet,
    /// `path:rule:line` of findings known not to be secrets.
    pub fingerprints: &'a [String],
}

/// The secrets in one added line of `path` (relative to the repository root).
pub fn scan_line(path: &str, line: u32, text: &str, allow: &Allow<'_>) -> Vec<Finding> {
    if allow.paths.is_match(path) {
        return Vec::new();
    }
    let mut out: Vec<Finding> = Vec::new();
    for (rule, re) in compiled() {
        for caps in re.captures_iter(text) {
            let Some(m) = caps.get(rule.group) else {
                continue;
            };
            let secret = m.as_str();
            if rule.min_entropy > 0.0 && entropy(secret) < rule.min_entropy {
                continue;
            }
            // One finding a place: a token the generic rule also matches is the specific one.
            if out
                .iter()
                .any(|f| f.line == Some(line) && f.title.ends_with(&redact(secret)))
            {
                continue;
            }
            let fingerprint = format!("{path}:{}:{line}", rule.id);
            if allow.fingerprints.iter().any(|f| f == &fingerprint) {
                continue;
            }
            let shown = if rule.id == "private-key" {
                String::new()
            } else {
                format!(": {}", redact(secret))
            };
            out.push(Finding {
                file: Some(path.to_string()),
                line: Some(line),
                fingerprint: Some(fingerprint),
                ..Finding::new(
                    FindingKind::Secret,
                    rule.id,
                    format!("{}{shown}", rule.title),
                )
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> globset::GlobSet {
        globset::GlobSet::empty()
    }

    fn found(text: &str) -> Vec<String> {
        let paths = none();
        let allow = Allow {
            paths: &paths,
            fingerprints: &[],
        };
        scan_line("src/a.rs", 3, text, &allow)
            .into_iter()
            .map(|f| f.id)
            .collect()
    }

    #[test]
    fn every_rule_compiles() {
        assert_eq!(compiled().len(), RULES.len());
    }

    #[test]
    fn common_formats_are_found_and_never_shown_whole() {
        let token = format!("ghp_{}", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY2zA4");
        let paths = none();
        let allow = Allow {
            paths: &paths,
            fingerprints: &[],
        };
        let f = scan_line("src/a.rs", 3, &format!("let t = \"{token}\";"), &allow);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, "github-token");
        assert_eq!(f[0].title, "GitHub token: ghp_…2zA4");
        assert!(!format!("{f:?}").contains(&token));
        assert_eq!(f[0].fingerprint.as_deref(), Some("src/a.rs:github-token:3"));
        assert_eq!(found("key = AKIAIOSFODNN7EXAMPLF"), ["aws-access-key-id"]);
        assert_eq!(
            found("-----BEGIN OPENSSH PRIVATE KEY-----"),
            ["private-key"]
        );
        assert_eq!(
            found(
                "url = \"https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx\""
            ),
            ["slack-webhook"]
        );
        assert_eq!(
            found("STRIPE = \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\""),
            ["stripe-key"]
        );
        assert_eq!(found("password = \"Zx8!qP2#vL9@wR4$\""), ["generic-secret"]);
    }

    #[test]
    fn placeholders_and_allowed_places_pass() {
        assert!(found("password = \"changeme\"").is_empty(), "low entropy");
        assert!(found("let token = read_token();").is_empty());
        let paths = {
            let mut b = globset::GlobSetBuilder::new();
            b.add(globset::Glob::new("tests/fixtures/**").expect("glob"));
            b.build().expect("set")
        };
        let fingerprints = ["src/a.rs:aws-access-key-id:3".to_string()];
        let allow = Allow {
            paths: &paths,
            fingerprints: &fingerprints,
        };
        assert!(scan_line("tests/fixtures/k.txt", 1, "AKIAIOSFODNN7EXAMPLF", &allow).is_empty());
        assert!(scan_line("src/a.rs", 3, "AKIAIOSFODNN7EXAMPLF", &allow).is_empty());
        assert_eq!(
            scan_line("src/a.rs", 4, "AKIAIOSFODNN7EXAMPLF", &allow).len(),
            1
        );
    }
}
