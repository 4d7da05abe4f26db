//! Expectations on text: `substring`, `!absent`, `/regex/`, and for JSON bodies
//! `json:/pointer == value`.

use regex::Regex;

/// One expectation.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// The text contains this.
    Contains(String),
    /// The text does not contain this.
    Absent(String),
    /// The regex matches somewhere.
    Regex(Regex),
    /// The JSON value at the pointer equals this JSON value (or string).
    JsonEq(String, serde_json::Value),
}

/// Parses a pattern; `Err` names what is wrong.
pub fn parse(p: &str) -> Result<Pattern, String> {
    if let Some(rest) = p.strip_prefix("json:") {
        let (pointer, value) = rest
            .split_once("==")
            .ok_or_else(|| format!("`{p}`: write json:/pointer == value"))?;
        let pointer = pointer.trim();
        if !pointer.starts_with('/') && !pointer.is_empty() {
            return Err(format!("`{p}`: a JSON pointer starts with `/`"));
        }
        let value = value.trim();
        let parsed = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        return Ok(Pattern::JsonEq(pointer.to_string(), parsed));
    }
    if p.len() >= 2 && p.starts_with('/') && p.ends_with('/') {
        let re =
            Regex::new(&p[1..p.len() - 1]).map_err(|e| format!("`{p}`: invalid regex: {e}"))?;
        return Ok(Pattern::Regex(re));
    }
    if let Some(rest) = p.strip_prefix('!') {
        return Ok(Pattern::Absent(rest.to_string()));
    }
    Ok(Pattern::Contains(p.to_string()))
}

impl Pattern {
    /// `None` when the text satisfies the pattern, else why not.
    pub fn check(&self, text: &str) -> Option<String> {
        match self {
            Pattern::Contains(s) => {
                (!text.contains(s.as_str())).then(|| format!("does not contain `{s}`"))
            }
            Pattern::Absent(s) => text.contains(s.as_str()).then(|| format!("contains `{s}`")),
            Pattern::Regex(re) => {
                (!re.is_match(text)).then(|| format!("does not match /{}/", re.as_str()))
            }
            Pattern::JsonEq(pointer, want) => {
                let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
                    return Some("is not JSON".to_string());
                };
                match doc.pointer(pointer) {
                    None => Some(format!("has nothing at {pointer}")),
                    Some(v) if v == want => None,
                    Some(v) => Some(format!("has {v} at {pointer}, expected {want}")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind() {
        let body = r#"{"status": "up", "version": "v1.2", "checks": [1, 2]}"#;
        assert_eq!(parse("up").unwrap().check(body), None);
        assert!(parse("down").unwrap().check(body).is_some());
        assert_eq!(parse("!error").unwrap().check(body), None);
        assert_eq!(
            parse("!status").unwrap().check(body).unwrap(),
            "contains `status`"
        );
        assert_eq!(parse(r"/v\d+\.\d+/").unwrap().check(body), None);
        assert_eq!(parse("json:/status == \"up\"").unwrap().check(body), None);
        assert_eq!(
            parse("json:/status == up").unwrap().check(body),
            None,
            "bare strings work"
        );
        assert_eq!(parse("json:/checks/1 == 2").unwrap().check(body), None);
        assert!(
            parse("json:/checks/1 == 3")
                .unwrap()
                .check(body)
                .unwrap()
                .contains("expected 3")
        );
        assert!(
            parse("json:/nope == 1")
                .unwrap()
                .check(body)
                .unwrap()
                .contains("nothing at /nope")
        );
        assert!(
            parse("json:/a == 1")
                .unwrap()
                .check("not json")
                .unwrap()
                .contains("not JSON")
        );
        assert!(parse("/(/").is_err());
        assert!(parse("json:status").is_err());
    }
}
