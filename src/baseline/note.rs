//! The JSON note stored on a commit: every measurement recorded for it. Pure data and the
//! union merge that lets several runners (and several machines) add to the same commit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Direction, Role};

/// Schema of the note JSON. A note from a newer schema is reported and skipped, never misread.
pub const NOTE_SCHEMA: u32 = 1;

/// One measurement of one metric by one run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// Metric name, e.g. `bench.parse/large`.
    pub metric: String,
    /// Unit (`ns`, `us`, `ms`, `s`, `count`, ...).
    pub unit: String,
    /// Which way is better.
    pub direction: Direction,
    /// Raw samples.
    pub samples: Vec<f64>,
    /// The run that measured it; entries of different runs are all kept.
    pub run_id: String,
    /// When it was recorded (RFC 3339).
    #[serde(default)]
    pub recorded: String,
    /// The metric's role when it was saved; notes written before roles were recorded get the
    /// role their name had ([`crate::model::legacy_role`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The machine class of the run (older notes have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
}

impl Entry {
    /// The metric's role.
    pub fn role(&self) -> Role {
        self.role
            .unwrap_or_else(|| crate::model::legacy_role(&self.metric))
    }

    fn key(&self) -> (String, String) {
        (self.metric.clone(), self.run_id.clone())
    }
}

/// A commit's note.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Note {
    /// [`NOTE_SCHEMA`].
    pub schema: u32,
    /// Entries, sorted by (metric, run id) so equal notes serialize identically.
    pub entries: Vec<Entry>,
    /// How long tests took, for `--partition time:K/N` (older notes have none).
    #[serde(default, skip_serializing_if = "TestTimes::is_empty")]
    pub test_times: TestTimes,
    /// Every test's outcome, one record per run that saved here (older notes have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<super::outcomes::TestRun>,
}

impl Default for Note {
    fn default() -> Self {
        Note {
            schema: NOTE_SCHEMA,
            entries: Vec::new(),
            test_times: TestTimes::default(),
            tests: Vec::new(),
        }
    }
}

/// Test durations kept small enough for a note on every commit: the slow tests by id, and one
/// typical duration standing for every other test.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct TestTimes {
    /// Seconds per test id, for tests at or above [`TestTimes::SLOW`] (the slowest
    /// [`TestTimes::MAX_ENTRIES`] at most).
    #[serde(default)]
    pub slow: BTreeMap<String, f64>,
    /// Mean seconds of the other tests: the weight of any test not in `slow`.
    #[serde(default)]
    pub typical: f64,
}

impl TestTimes {
    /// Tests this slow (seconds) are stored one by one.
    pub const SLOW: f64 = 0.05;
    /// At most this many tests are stored one by one.
    pub const MAX_ENTRIES: usize = 5000;

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.slow.is_empty() && self.typical == 0.0
    }

    /// From `(test id, seconds)` pairs.
    pub fn from_durations(durations: impl IntoIterator<Item = (String, f64)>) -> TestTimes {
        let mut all: Vec<(String, f64)> = durations
            .into_iter()
            .filter(|(_, d)| d.is_finite() && *d >= 0.0)
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let slow_count = all
            .iter()
            .take_while(|(_, d)| *d >= Self::SLOW)
            .count()
            .min(Self::MAX_ENTRIES);
        let rest = &all[slow_count..];
        let typical = if rest.is_empty() {
            0.0
        } else {
            rest.iter().map(|(_, d)| d).sum::<f64>() / rest.len() as f64
        };
        TestTimes {
            // Milliseconds are plenty for balancing and keep the note short.
            slow: all[..slow_count]
                .iter()
                .map(|(id, d)| (id.clone(), (d * 1000.0).round() / 1000.0))
                .collect(),
            typical: (typical * 1e6).round() / 1e6,
        }
    }

    /// The expected seconds of a test. A doctest batch (`pkg::doc`) weighs what its doctests
    /// (`pkg::doc src/lib.rs - f (line 3)`, each its share of the batch) took together.
    pub fn weight(&self, id: &str) -> f64 {
        if let Some(w) = self.slow.get(id) {
            return *w;
        }
        if !id.ends_with("::doc") {
            return self.typical;
        }
        let prefix = format!("{id} ");
        let batch: f64 = self
            .slow
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, w)| w)
            .sum();
        if batch > 0.0 { batch } else { self.typical }
    }

    /// Union, keeping the longer time where both have one (commutative, associative and
    /// idempotent, like the entries' merge).
    pub fn merge(&self, other: &TestTimes) -> TestTimes {
        let mut slow = self.slow.clone();
        for (id, d) in &other.slow {
            let slot = slow.entry(id.clone()).or_insert(*d);
            *slot = slot.max(*d);
        }
        TestTimes {
            slow,
            typical: self.typical.max(other.typical),
        }
    }
}

/// Why a note could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoteError {
    /// Not JSON, or not our shape.
    #[error("the note is not valid cargo-gate JSON: {0}")]
    Corrupt(String),
    /// Written by a newer cargo-gate.
    #[error("the note uses schema {0}; this cargo-gate reads schema {NOTE_SCHEMA}")]
    NewerSchema(u64),
}

/// The largest note read: 10 000 tests' outcomes and a few hundred metrics are well under a
/// megabyte, so anything this large was not written by cargo-gate and is not parsed (JSON
/// trees take several times their text in memory).
pub const MAX_NOTE_BYTES: usize = 32 << 20;

impl Note {
    /// Parses a note, refusing newer schemas and notes over [`MAX_NOTE_BYTES`].
    pub fn parse(text: &str) -> Result<Note, NoteError> {
        if text.len() > MAX_NOTE_BYTES {
            return Err(NoteError::Corrupt(format!(
                "the note is {} bytes, more than the {MAX_NOTE_BYTES} a note can be",
                text.len()
            )));
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| NoteError::Corrupt(e.to_string()))?;
        let schema = value["schema"]
            .as_u64()
            .ok_or_else(|| NoteError::Corrupt("no `schema` field".to_string()))?;
        if schema > u64::from(NOTE_SCHEMA) {
            return Err(NoteError::NewerSchema(schema));
        }
        serde_json::from_value(value).map_err(|e| NoteError::Corrupt(e.to_string()))
    }

    /// Serializes with sorted entries.
    pub fn to_json(&self) -> String {
        let mut n = self.clone();
        n.normalize();
        serde_json::to_string(&n).unwrap_or_else(|_| "{\"schema\":1,\"entries\":[]}".to_string())
    }

    fn normalize(&mut self) {
        self.entries.sort_by(|a, b| {
            a.key()
                .cmp(&b.key())
                .then_with(|| a.recorded.cmp(&b.recorded))
                .then_with(|| format!("{:?}", a.samples).cmp(&format!("{:?}", b.samples)))
        });
        self.entries.dedup();
        self.tests.sort_by(|a, b| {
            (&a.run_id, &a.recorded, &a.ids, &a.outcomes).cmp(&(
                &b.run_id,
                &b.recorded,
                &b.ids,
                &b.outcomes,
            ))
        });
        self.tests.dedup();
    }

    /// Union of two notes: every entry of either is kept; an entry present in both (same metric
    /// and run) is kept once. Commutative, associative and idempotent, so concurrent writers
    /// can merge in any order and nothing is lost.
    pub fn merge(&self, other: &Note) -> Note {
        let mut by_key: BTreeMap<(String, String), Vec<Entry>> = BTreeMap::new();
        for e in self.entries.iter().chain(other.entries.iter()) {
            let slot = by_key.entry(e.key()).or_default();
            if !slot.contains(e) {
                slot.push(e.clone());
            }
        }
        let mut merged = Note {
            schema: NOTE_SCHEMA,
            entries: by_key.into_values().flatten().collect(),
            test_times: self.test_times.merge(&other.test_times),
            // Every run's outcomes are kept; the same run saved twice is kept once.
            tests: self.tests.iter().chain(&other.tests).cloned().collect(),
        };
        merged.normalize();
        merged
    }

    /// All samples of a metric in this note (several runs are pooled), with its unit and
    /// direction.
    pub fn metric(&self, name: &str) -> Option<(Vec<f64>, &str, Direction)> {
        self.metric_where(name, |_| true)
    }

    /// [`Note::metric`] from the entries measured on `machine` only.
    pub fn metric_on(&self, name: &str, machine: &str) -> Option<(Vec<f64>, &str, Direction)> {
        self.metric_where(name, |e| e.machine.as_deref() == Some(machine))
    }

    /// The machine classes that measured `name` here, sorted (`None`: entries recorded
    /// without one, by older versions).
    pub fn machines(&self, name: &str) -> Vec<Option<String>> {
        let mut out: Vec<Option<String>> = self
            .entries
            .iter()
            .filter(|e| e.metric == name)
            .map(|e| e.machine.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// [`Note::metric`] from the entries of one machine class (`None`: those without one).
    pub fn metric_of_class(
        &self,
        name: &str,
        class: Option<&str>,
    ) -> Option<(Vec<f64>, &str, Direction)> {
        self.metric_where(name, |e| e.machine.as_deref() == class)
    }

    fn metric_where(
        &self,
        name: &str,
        keep: impl Fn(&Entry) -> bool,
    ) -> Option<(Vec<f64>, &str, Direction)> {
        let mut samples = Vec::new();
        let mut meta = None;
        for e in self.entries.iter().filter(|e| e.metric == name && keep(e)) {
            samples.extend(e.samples.iter().copied().filter(|v| v.is_finite()));
            meta.get_or_insert((e.unit.as_str(), e.direction));
        }
        meta.map(|(u, d)| (samples, u, d))
    }

    /// Names of every metric in the note.
    pub fn metric_names(&self) -> Vec<String> {
        self.names_where(|_| true)
    }

    /// The metric names of one role, sorted, once each.
    pub fn metric_names_of(&self, role: Role) -> Vec<String> {
        self.names_where(|e| e.role() == role)
    }

    fn names_where(&self, keep: impl Fn(&Entry) -> bool) -> Vec<String> {
        let mut names: Vec<String> = self
            .entries
            .iter()
            .filter(|e| keep(e))
            .map(|e| e.metric.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doctest_batch_weighs_its_doctests() {
        let times = TestTimes {
            slow: [
                ("app::doc src/lib.rs - a (line 3)".to_string(), 0.5),
                ("app::doc src/lib.rs - b (line 9)".to_string(), 0.25),
                ("app::docs t".to_string(), 9.0),
                ("app t".to_string(), 2.0),
            ]
            .into_iter()
            .collect(),
            typical: 0.01,
        };
        assert_eq!(times.weight("app::doc"), 0.75);
        assert_eq!(times.weight("app t"), 2.0);
        assert_eq!(times.weight("other::doc"), 0.01);
        assert_eq!(
            times.weight("app"),
            0.01,
            "`app t` is a test of `app`, not a doctest"
        );
    }
    use proptest::prelude::*;

    fn entry(metric: &str, run: &str, v: f64) -> Entry {
        Entry {
            metric: metric.into(),
            unit: "ns".into(),
            direction: Direction::LowerIsBetter,
            samples: vec![v],
            run_id: run.into(),
            recorded: String::new(),
            role: None,
            machine: None,
        }
    }

    #[test]
    fn entries_filter_by_machine_and_old_notes_have_none() {
        let old = Note::parse(r#"{"schema": 1, "entries": [{"metric": "bench.x", "unit": "ns", "direction": "lower_is_better", "samples": [1.0], "run_id": "r"}]}"#).unwrap();
        assert_eq!(old.entries[0].machine, None);
        assert!(old.metric_on("bench.x", "A ×2").is_none());
        let mut n = Note::default();
        n.entries.push(Entry {
            machine: Some("A ×2".into()),
            ..entry("bench.x", "r1", 1.0)
        });
        n.entries.push(Entry {
            machine: Some("B ×4".into()),
            ..entry("bench.x", "r2", 2.0)
        });
        assert_eq!(n.metric_on("bench.x", "A ×2").unwrap().0, vec![1.0]);
        assert_eq!(n.metric("bench.x").unwrap().0, vec![1.0, 2.0]);
        let back = Note::parse(&n.to_json()).unwrap();
        assert_eq!(back.entries[1].machine.as_deref(), Some("B ×4"));
    }

    #[test]
    fn a_note_too_large_to_be_ours_is_not_parsed() {
        let huge = format!(
            "{{\"schema\": 1, \"entries\": [], \"pad\": \"{}\"}}",
            "x".repeat(MAX_NOTE_BYTES)
        );
        assert!(matches!(Note::parse(&huge), Err(NoteError::Corrupt(m)) if m.contains("bytes")));
    }

    #[test]
    fn parse_refuses_newer_and_corrupt_notes() {
        assert_eq!(
            Note::parse(r#"{"schema": 2, "entries": []}"#),
            Err(NoteError::NewerSchema(2))
        );
        assert!(matches!(
            Note::parse("not json"),
            Err(NoteError::Corrupt(_))
        ));
        assert!(matches!(
            Note::parse(r#"{"entries": []}"#),
            Err(NoteError::Corrupt(_))
        ));
        assert!(matches!(
            Note::parse(r#"{"schema": 1, "entries": 5}"#),
            Err(NoteError::Corrupt(_))
        ));
        let n = Note {
            schema: 1,
            entries: vec![entry("a", "r", 1.0)],
            test_times: TestTimes::from_durations([("slow".to_string(), 2.5)]),
            tests: vec![outcomes_of("r", &["t1", "t2"])],
        };
        assert_eq!(Note::parse(&n.to_json()).unwrap(), n);
    }

    #[test]
    fn metric_pools_runs() {
        let n = Note {
            schema: 1,
            test_times: TestTimes::default(),
            tests: Vec::new(),
            entries: vec![
                entry("a", "r1", 1.0),
                entry("a", "r2", 3.0),
                entry("b", "r1", 9.0),
            ],
        };
        let (samples, unit, _) = n.metric("a").unwrap();
        assert_eq!(samples, vec![1.0, 3.0]);
        assert_eq!(unit, "ns");
        assert_eq!(n.metric_names(), vec!["a", "b"]);
        assert!(n.metric("c").is_none());
    }

    fn arb_note() -> impl Strategy<Value = Note> {
        (
            prop::collection::vec(
                (
                    prop::sample::select(vec!["a", "b", "c"]),
                    prop::sample::select(vec!["r1", "r2", "r3"]),
                    0u32..4,
                ),
                0..8,
            ),
            prop::collection::btree_map(
                prop::sample::select(vec!["t1", "t2", "t3"]),
                1u32..5,
                0..3,
            ),
            0u32..3,
            prop::collection::vec(prop::sample::select(vec!["r1", "r2", "r3"]), 0..3),
        )
            .prop_map(|(v, slow, typical, runs)| Note {
                schema: 1,
                entries: v
                    .into_iter()
                    .map(|(m, r, x)| entry(m, r, f64::from(x)))
                    .collect(),
                test_times: TestTimes {
                    slow: slow
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), f64::from(v)))
                        .collect(),
                    typical: f64::from(typical) / 100.0,
                },
                tests: runs
                    .into_iter()
                    .map(|r| outcomes_of(r, &["t1", r]))
                    .collect(),
            })
    }

    fn outcomes_of(run: &str, tests: &[&str]) -> super::super::outcomes::TestRun {
        let o = super::super::outcomes::Outcome {
            status: crate::model::CaseStatus::Passed,
            attempts: 1,
            millis: 3,
        };
        let tests: Vec<(&str, _)> = tests.iter().map(|t| (*t, o)).collect();
        super::super::outcomes::TestRun::new(run, "2026-12-01T00:00:00Z", &tests)
    }

    #[test]
    fn test_times_keep_slow_tests_and_one_typical_time() {
        let t = TestTimes::from_durations([
            ("fast1".to_string(), 0.001),
            ("fast2".to_string(), 0.003),
            ("slow".to_string(), 1.23456),
            ("edge".to_string(), TestTimes::SLOW),
            ("broken".to_string(), f64::NAN),
        ]);
        assert_eq!(t.slow.len(), 2);
        assert_eq!(t.weight("slow"), 1.235);
        assert_eq!(t.weight("edge"), 0.05);
        assert_eq!(t.weight("fast1"), 0.002);
        assert_eq!(t.weight("never-seen"), 0.002);
        // An old note without test times or outcomes still parses.
        let old = Note::parse(r#"{"schema": 1, "entries": []}"#).unwrap();
        assert!(old.test_times.is_empty() && old.tests.is_empty());
        assert!(!Note::default().to_json().contains("test_times"));
    }

    proptest! {
        #[test]
        fn merge_is_commutative(a in arb_note(), b in arb_note()) {
            prop_assert_eq!(a.merge(&b), b.merge(&a));
        }

        #[test]
        fn merge_is_idempotent_and_associative(a in arb_note(), b in arb_note(), c in arb_note()) {
            let ab = a.merge(&b);
            prop_assert_eq!(ab.merge(&ab), ab.clone());
            prop_assert_eq!(ab.merge(&c), a.merge(&b.merge(&c)));
        }

        #[test]
        fn merge_loses_nothing(a in arb_note(), b in arb_note()) {
            let m = a.merge(&b);
            for e in a.entries.iter().chain(b.entries.iter()) {
                prop_assert!(m.entries.contains(e), "lost {:?}", e);
            }
            for e in &m.entries {
                prop_assert!(a.entries.contains(e) || b.entries.contains(e), "invented {:?}", e);
            }
        }
    }
}
