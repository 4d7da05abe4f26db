//! "Did you mean …?" for names people type: metrics, suites, profiles.

/// The closest known name by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::levenshtein(name, k), *k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let known = ["tests.failed", "tests.flaky", "bench"];
        assert_eq!(closest("tests.fialed", &known), Some("tests.failed"));
        assert_eq!(closest("bnech", &known), Some("bench"));
        assert_eq!(closest("coverage.lines", &known), None);
    }
}
