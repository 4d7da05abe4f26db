//! What the security suite found, as report.json keeps it.

use serde::{Deserialize, Serialize};

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A RustSec vulnerability advisory.
    Vulnerability,
    /// An informational advisory: the crate is unmaintained.
    Unmaintained,
    /// An informational advisory: the crate is unsound.
    Unsound,
    /// Any other informational advisory.
    Notice,
    /// A license the policy does not allow.
    License,
    /// A crate from a registry or git host not allowed.
    Source,
    /// A locked version yanked from crates.io.
    Yanked,
    /// A credential in the change's added lines.
    Secret,
}

impl FindingKind {
    /// The kinds read from the lock files, each counted whole and as the change's
    /// (`security.advisories`, `security.new_advisories`, …); secrets are all the change's.
    pub const FROM_LOCK: &[FindingKind] = &[
        FindingKind::Vulnerability,
        FindingKind::Unmaintained,
        FindingKind::Unsound,
        FindingKind::Notice,
        FindingKind::License,
        FindingKind::Source,
        FindingKind::Yanked,
    ];

    /// The metric family it counts in (`security.advisories`, …).
    pub fn family(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "advisories",
            FindingKind::Unmaintained => "unmaintained",
            FindingKind::Unsound => "unsound",
            FindingKind::Notice => "notices",
            FindingKind::License => "licenses",
            FindingKind::Source => "sources",
            FindingKind::Yanked => "yanked",
            FindingKind::Secret => "secrets",
        }
    }

    /// A short label for lists.
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "vulnerability",
            FindingKind::Unmaintained => "unmaintained",
            FindingKind::Unsound => "unsound",
            FindingKind::Notice => "notice",
            FindingKind::License => "license",
            FindingKind::Source => "source",
            FindingKind::Yanked => "yanked",
            FindingKind::Secret => "secret",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What it is.
    pub kind: FindingKind,
    /// The advisory id, the license expression, the source URL, or the secret's rule.
    pub id: String,
    /// `name version` of the crate concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// One line: the advisory's title, why the license or source is refused, the secret's
    /// redacted form.
    pub title: String,
    /// Where to read more (the advisory's page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `critical`, `high`, `medium`, `low`, `none` (from the CVSS vector), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// The CVSS base score, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss: Option<f64>,
    /// Version requirements that fix it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patched: Vec<String>,
    /// How a workspace member reaches the crate: `member → a → crate`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<String>,
    /// The file to point at (`Cargo.lock`, a manifest, the file a secret was added to),
    /// relative to the repository root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Its line in `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Introduced by the change (not found on the base): what fails a pull request.
    pub new: bool,
    /// Set aside by an `ignore` entry that still holds: its reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    /// An `ignore` entry for it expired on this day: it counts again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired: Option<String>,
    /// A stable hash of a secret finding (file, rule, value), for `allow_fingerprints`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl Finding {
    /// A finding the change introduces, with nothing but what it is: checks fill in the rest.
    pub fn new(kind: FindingKind, id: impl Into<String>, title: impl Into<String>) -> Finding {
        Finding {
            kind,
            id: id.into(),
            package: None,
            title: title.into(),
            url: None,
            severity: None,
            cvss: None,
            patched: Vec::new(),
            path: Vec::new(),
            file: None,
            line: None,
            new: true,
            ignored: None,
            expired: None,
            fingerprint: None,
        }
    }

    /// The name of the crate concerned (`package` is `name version`), if any.
    pub fn crate_name(&self) -> Option<&str> {
        self.package.as_deref().and_then(|p| p.split(' ').next())
    }

    /// Counts in the gate: not set aside.
    pub fn counts(&self) -> bool {
        self.ignored.is_none()
    }

    /// One line: what, in which crate, how severe, and an expired ignore.
    pub fn describe(&self) -> String {
        let mut line = match &self.package {
            Some(p) => format!("{} in {p}: {}", self.id, self.title),
            None => format!("{}: {}", self.id, self.title),
        };
        if let Some(sev) = &self.severity {
            line.push_str(&format!(" (severity {sev}"));
            if let Some(score) = self.cvss {
                line.push_str(&format!(", CVSS {score:.1}"));
            }
            line.push(')');
        }
        if let Some(until) = &self.expired {
            line.push_str(&format!(" — its ignore expired on {until}"));
        }
        line
    }
}

/// The security suite's part of the report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SecuritySummary {
    /// Every finding, new or already on the base, ignored ones included.
    pub findings: Vec<Finding>,
    /// The base the change was compared with (`main (abc1234)`), when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The advisory database used: where from, its commit, how old.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Crates in the lock file that were checked.
    pub packages: usize,
    /// The counts noted on the base's first-parent history, oldest first, then this run's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trend: Vec<TrendPoint>,
}

/// The security counts of one noted commit (or of this run).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrendPoint {
    /// A short commit id, or `this run`.
    pub rev: String,
    /// `security.advisories`.
    pub advisories: f64,
    /// Every counting finding of the other kinds but secrets: informational advisories,
    /// licenses, sources, yanked versions.
    pub other: f64,
}
