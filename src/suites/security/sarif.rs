//! `target/gate/security.sarif`: the findings in SARIF 2.1.0, for GitHub code scanning
//! (`github/codeql-action/upload-sarif`). What the change introduces is an `error`, what the
//! base already had a `warning`, an ignored finding a `note`. Secrets appear only redacted.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::model::{Finding, SecuritySummary};

/// The SARIF document for `summary`; `prefix` is the workspace's directory in its repository
/// (code scanning places results by repository paths).
pub fn document(summary: &SecuritySummary, prefix: Option<&str>) -> Value {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for f in &summary.findings {
        let rule_id = rule_id(f);
        rules.entry(rule_id.clone()).or_insert_with(|| {
            let mut rule = json!({
                "id": rule_id,
                "shortDescription": { "text": format!("{}: {}", f.kind.label(), f.id) },
            });
            if let Some(url) = &f.url {
                rule["helpUri"] = json!(url);
            }
            rule
        });
        let level = if !f.counts() {
            "note"
        } else if f.new {
            "error"
        } else {
            "warning"
        };
        let mut result = json!({
            "ruleId": rule_id,
            "level": level,
            "message": { "text": f.describe() },
        });
        if let Some(file) = &f.file {
            let uri = match prefix {
                Some(p) => format!("{}/{file}", p.trim_end_matches('/')),
                None => file.clone(),
            };
            result["locations"] = json!([{
                "physicalLocation": {
                    "artifactLocation": { "uri": uri },
                    "region": { "startLine": f.line.unwrap_or(1) },
                }
            }]);
        }
        if let Some(fp) = &f.fingerprint {
            result["partialFingerprints"] = json!({ "cargoGate/v1": fp });
        }
        results.push(result);
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "cargo-gate",
                "informationUri": "https://github.com/cargo-gate/cargo-gate",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    })
}

/// Advisories by their id; licenses, sources and secrets by their kind and rule.
fn rule_id(f: &Finding) -> String {
    match f.kind {
        crate::model::FindingKind::License => "license".to_string(),
        crate::model::FindingKind::Source => "source".to_string(),
        crate::model::FindingKind::Secret => format!("secret/{}", f.id),
        _ => f.id.clone(),
    }
}

/// Writes the document to `path`.
pub fn write(path: &Path, summary: &SecuritySummary, prefix: Option<&str>) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text =
        serde_json::to_string_pretty(&document(summary, prefix)).map_err(std::io::Error::other)?;
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FindingKind;

    #[test]
    fn levels_follow_the_change_and_paths_the_repository() {
        let finding = |new: bool, ignored: Option<&str>| Finding {
            file: Some("src/config.rs".to_string()),
            line: Some(2),
            new,
            ignored: ignored.map(str::to_string),
            fingerprint: Some("src/config.rs:github-token:2".to_string()),
            ..Finding::new(
                FindingKind::Secret,
                "github-token",
                "GitHub token: ghp_…4QeW",
            )
        };
        let summary = SecuritySummary {
            findings: vec![
                finding(true, None),
                finding(false, None),
                finding(true, Some("why")),
            ],
            ..SecuritySummary::default()
        };
        let doc = document(&summary, Some("rust/app/"));
        let results = doc["runs"][0]["results"].as_array().unwrap();
        let levels: Vec<&str> = results
            .iter()
            .map(|r| r["level"].as_str().unwrap())
            .collect();
        assert_eq!(levels, ["error", "warning", "note"]);
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "rust/app/src/config.rs"
        );
        assert_eq!(results[0]["ruleId"], "secret/github-token");
        assert_eq!(
            doc["runs"][0]["tool"]["driver"]["rules"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}
