//! Wildcards in names and paths (`bench.parse/*`, `.github/*`, `*.md`), with globset's syntax.
//! `*` also matches `/`: metric names use `/` as a plain character, and `.github/*` is meant to
//! cover everything below the folder.

/// True when `name` matches `pattern`. A pattern globset cannot read matches only itself.
pub fn matches(pattern: &str, name: &str) -> bool {
    if !pattern.contains(['*', '?', '[', '{']) {
        return pattern == name;
    }
    match globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
    {
        Ok(glob) => glob.compile_matcher().is_match(name),
        Err(_) => pattern == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_cross_slashes_and_literals_match_themselves() {
        assert!(matches("bench.*", "bench.a/b"));
        assert!(matches("bench.parse/*", "bench.parse/large"));
        assert!(!matches("bench.parse/*", "bench.render/large"));
        assert!(matches("*large", "bench.parse/large"));
        assert!(matches(".github/*", ".github/workflows/ci.yml"));
        assert!(matches("*.md", "docs/guide.md"));
        assert!(matches("load.api.p(95)", "load.api.p(95)"));
        assert!(!matches("bench.a", "bench.ab"));
        // Not a valid glob: compared as text.
        assert!(matches("bench.[x", "bench.[x"));
    }
}
