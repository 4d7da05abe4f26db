//! What the mutants suite found, as report.json keeps it.

use serde::{Deserialize, Serialize};

/// How a mutant fared, in cargo-mutants' terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MutantOutcome {
    /// A test failed with the mutant in: the tests notice this change.
    Caught,
    /// Every test passed with the mutant in: no test notices this change.
    Missed,
    /// The tests ran past their timeout with the mutant in (it made the code loop or stall).
    Timeout,
    /// The mutant does not compile; nothing to learn from it.
    Unviable,
}

impl MutantOutcome {
    /// The word shown beside it.
    pub fn label(self) -> &'static str {
        match self {
            MutantOutcome::Caught => "caught",
            MutantOutcome::Missed => "missed",
            MutantOutcome::Timeout => "timeout",
            MutantOutcome::Unviable => "unviable",
        }
    }

    /// cargo-mutants' name for the outcome in its `outcomes.json`.
    pub fn cargo_mutants_summary(self) -> &'static str {
        match self {
            MutantOutcome::Caught => "CaughtMutant",
            MutantOutcome::Missed => "MissedMutant",
            MutantOutcome::Timeout => "Timeout",
            MutantOutcome::Unviable => "Unviable",
        }
    }
}

/// One mutant and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutantResult {
    /// Its number in this run (the value of `CARGO_GATE_MUTANT` that switches it on).
    pub id: u32,
    /// cargo-mutants' name: `src/lib.rs:2:7: replace + with - in add`.
    pub name: String,
    /// The file, from the workspace root.
    pub file: String,
    /// 1-based line of what changes.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// The package it is in.
    pub package: String,
    /// The function it is in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// `fn_value`, `binary_operator`, `unary_operator`, `match_guard`.
    pub genre: String,
    /// What changes, as cargo-mutants says it: `replace + with - in add`.
    pub description: String,
    /// The source line as it is.
    pub original: String,
    /// The same line with the mutant in.
    pub mutated: String,
    /// What became of it.
    pub outcome: MutantOutcome,
    /// The test (or binary) that caught it, or the binary that timed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Tests that passed with it in before the verdict.
    pub tests_run: usize,
    /// Seconds spent on it (its tests; its own build when it was built alone).
    pub seconds: f64,
    /// Built with the others behind a switch (`schema`), or alone (`alone`).
    pub built: String,
}

/// The mutants suite's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MutantsSummary {
    /// What the change was compared with (`main (abc1234)`), when mutants came from a diff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Every mutant tried.
    pub mutants: Vec<MutantResult>,
    /// Schema builds it took (each without the mutants the last found unviable).
    pub schema_builds: usize,
    /// Seconds spent building (schema rounds and mutants built alone).
    pub build_seconds: f64,
    /// The score on the noted history of the base and this run, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trend: Vec<(String, f64)>,
}

impl MutantsSummary {
    /// How many mutants ended as `outcome`.
    pub fn count(&self, outcome: MutantOutcome) -> usize {
        self.mutants.iter().filter(|m| m.outcome == outcome).count()
    }

    /// `35 mutants: 29 caught, 3 missed, 2 timeout, 1 unviable`.
    pub fn counts_line(&self) -> String {
        format!(
            "{} mutant{}: {} caught, {} missed, {} timeout, {} unviable",
            self.mutants.len(),
            if self.mutants.len() == 1 { "" } else { "s" },
            self.count(MutantOutcome::Caught),
            self.count(MutantOutcome::Missed),
            self.count(MutantOutcome::Timeout),
            self.count(MutantOutcome::Unviable),
        )
    }

    /// caught / (caught + missed), as a percentage; none without either.
    pub fn score(&self) -> Option<f64> {
        let caught = self.count(MutantOutcome::Caught) as f64;
        let missed = self.count(MutantOutcome::Missed) as f64;
        (caught + missed > 0.0).then(|| 100.0 * caught / (caught + missed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_counts_caught_over_caught_and_missed() {
        let one = |outcome| MutantResult {
            id: 1,
            name: String::new(),
            file: String::new(),
            line: 1,
            col: 1,
            package: String::new(),
            function: None,
            genre: String::new(),
            description: String::new(),
            original: String::new(),
            mutated: String::new(),
            outcome,
            by: None,
            tests_run: 0,
            seconds: 0.0,
            built: String::new(),
        };
        let mut s = MutantsSummary::default();
        assert_eq!(s.score(), None);
        s.mutants = vec![
            one(MutantOutcome::Caught),
            one(MutantOutcome::Caught),
            one(MutantOutcome::Caught),
            one(MutantOutcome::Missed),
            one(MutantOutcome::Unviable),
            one(MutantOutcome::Timeout),
        ];
        assert_eq!(s.score(), Some(75.0));
        assert_eq!(
            s.counts_line(),
            "6 mutants: 3 caught, 1 missed, 1 timeout, 1 unviable"
        );
        assert_eq!(s.count(MutantOutcome::Unviable), 1);
    }
}
