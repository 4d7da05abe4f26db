//! Licenses: each package's SPDX expression (Cargo.toml's `license`) evaluated against the
//! policy. An expression passes when some choice it offers uses only allowed licenses (the
//! crate's exceptions added) and none denied; a package with no `license` (only a
//! `license-file`, or nothing) is a finding, since no policy can be decided on it.

use super::config::LicensePolicy;
use crate::model::{Finding, FindingKind};

/// A package as the license check needs it.
pub struct Licensed<'a> {
    /// Crate name.
    pub name: &'a str,
    /// Version.
    pub version: String,
    /// The `license` field.
    pub license: Option<&'a str>,
    /// The `license-file` field, when there is no `license`.
    pub license_file: Option<String>,
    /// Not from a registry or git: a workspace member or a path dependency.
    pub local: bool,
    /// `publish = false` (or an empty registry list).
    pub private: bool,
    /// Where it is declared (the manifest of a member, else the lock file) and the line.
    pub file: String,
    /// The line in `file`, when known.
    pub line: Option<u32>,
}

/// Why a package's license does not pass, or `None`.
pub fn verdict(policy: &LicensePolicy, name: &str, license: Option<&str>) -> Option<String> {
    let Some(text) = license.map(str::trim).filter(|t| !t.is_empty()) else {
        return Some("no SPDX `license` expression".to_string());
    };
    let expr = match spdx::Expression::parse_mode(text, spdx::ParseMode::LAX) {
        Ok(e) => e,
        Err(e) => return Some(format!("`{text}` is not an SPDX expression: {}", e.reason)),
    };
    let extra: Vec<&String> = policy
        .exceptions
        .iter()
        .filter(|(c, _)| c == name)
        .flat_map(|(_, ids)| ids)
        .collect();
    let mut denied = Vec::new();
    let passes = expr.evaluate(|req| {
        let Some(id) = req.license.id() else {
            return false;
        };
        if policy.deny.iter().any(|d| d == id.name) {
            denied.push(id.name);
            return false;
        }
        policy
            .allow
            .iter()
            .chain(extra.iter().copied())
            .any(|a| a == id.name)
    });
    if passes {
        return None;
    }
    Some(if denied.is_empty() {
        format!("`{text}` offers no license the policy allows")
    } else {
        denied.sort_unstable();
        denied.dedup();
        format!("`{text}`: {} denied", denied.join(", "))
    })
}

/// The license findings of `packages`.
pub fn check(policy: &LicensePolicy, packages: &[Licensed<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in packages {
        if p.local && p.private && !policy.private {
            continue;
        }
        let Some(why) = verdict(policy, p.name, p.license) else {
            continue;
        };
        let why = match (&p.license_file, p.license) {
            (Some(file), None) => format!("{why} (only `license-file = \"{file}\"`)"),
            _ => why,
        };
        out.push(Finding {
            package: Some(format!("{} {}", p.name, p.version)),
            file: Some(p.file.clone()),
            line: p.line,
            ..Finding::new(FindingKind::License, p.license.unwrap_or("none"), why)
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LicensePolicy {
        LicensePolicy {
            allow: vec!["MIT".into(), "Apache-2.0".into()],
            deny: vec!["GPL-3.0".into()],
            exceptions: vec![("ring".into(), vec!["ISC".into()])],
            private: false,
        }
    }

    #[test]
    fn expressions_pass_on_any_allowed_choice() {
        let p = policy();
        assert_eq!(verdict(&p, "a", Some("MIT OR Apache-2.0")), None);
        assert_eq!(
            verdict(&p, "a", Some("MIT/Apache-2.0")),
            None,
            "cargo's old slash"
        );
        assert_eq!(
            verdict(&p, "a", Some("MIT OR GPL-3.0")),
            None,
            "MIT is a choice"
        );
        assert!(
            verdict(&p, "a", Some("MIT AND GPL-3.0")).is_some_and(|w| w.contains("GPL-3.0 denied")),
        );
        assert!(verdict(&p, "a", Some("ISC")).is_some_and(|w| w.contains("no license")));
        assert_eq!(verdict(&p, "ring", Some("MIT AND ISC")), None, "exception");
        assert!(verdict(&p, "a", None).is_some_and(|w| w.contains("no SPDX")));
        assert!(verdict(&p, "a", Some("MIT OR (")).is_some_and(|w| w.contains("not an SPDX")));
    }

    #[test]
    fn private_members_are_skipped_unless_asked() {
        let member = Licensed {
            name: "app",
            version: "0.1.0".into(),
            license: None,
            license_file: None,
            local: true,
            private: true,
            file: "Cargo.toml".into(),
            line: None,
        };
        assert!(check(&policy(), std::slice::from_ref(&member)).is_empty());
        let strict = LicensePolicy {
            private: true,
            ..policy()
        };
        assert_eq!(check(&strict, &[member]).len(), 1);
    }
}
