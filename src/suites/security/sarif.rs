//! `target/gate/security.sarif`: the findings in SARIF 2.1.0, for GitHub code scanning
//! (`github/codeql-action/upload-sarif`). What the change introduces is an `error`, what the
//! base already had a `warning`, an ignored finding a `note`. Secrets appear only redacted.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::model::{Finding, SecuritySummary};

/// The SARIF document for `summary`.
pub fn document(summary: &SecuritySummary) -> Value {
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
            result["locations"] = json!([{
                "physicalLocation": {
                    "artifactLocation": { "uri": file },
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
pub fn write(path: &Path, summary: &SecuritySummary) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(&document(summary)).map_err(std::io::Error::other)?;
    std::fs::write(path, text)
}
