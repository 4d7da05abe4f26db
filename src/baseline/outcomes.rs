//! Each test's outcome on a run, as a note stores it: small enough for 10 000 tests on every
//! commit of the default branch, quick to read back over a thousand commits.
//!
//! A run's outcomes are two strings. `ids`: the test ids sorted, each written as the length of
//! the prefix it shares with the one before and the rest of it, the whole deflated and base64'd
//! (ids of one workspace share long prefixes, and consecutive commits usually have the very same
//! list, so readers decode each distinct list once). `outcomes`: one token per id in that order
//! — a status letter, the milliseconds, and `xN` for N attempts when there was more than one —
//! deflated and base64'd. Pure: no git here.

use std::io::{Read, Write};

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::model::CaseStatus;

/// One test's outcome on one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Its status.
    pub status: CaseStatus,
    /// Attempts (0 for a skipped test).
    pub attempts: u32,
    /// Milliseconds, all attempts.
    pub millis: u32,
}

/// One run's outcomes in a note (several runs can record on one commit: shards, reruns,
/// machines; the note keeps each, by run id).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TestRun {
    /// The run that recorded them.
    pub run_id: String,
    /// When (RFC 3339).
    #[serde(default)]
    pub recorded: String,
    /// The sorted test ids, front-coded, deflated, base64.
    pub ids: String,
    /// One token per id, deflated, base64.
    pub outcomes: String,
}

/// Why stored outcomes could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("test outcomes in the note are unreadable: {0}")]
pub struct OutcomesError(String);

impl OutcomesError {
    /// A run whose two lists are not the same length.
    pub fn mismatch(ids: usize, outcomes: usize) -> OutcomesError {
        OutcomesError(format!("{ids} ids but {outcomes} outcomes"))
    }
}

fn letter(status: CaseStatus) -> char {
    match status {
        CaseStatus::Passed => 'p',
        CaseStatus::Failed => 'f',
        CaseStatus::Flaky => 'k',
        CaseStatus::TimedOut => 't',
        CaseStatus::Skipped => 's',
        CaseStatus::Quarantined => 'q',
    }
}

fn status_of(c: char) -> Option<CaseStatus> {
    Some(match c {
        'p' => CaseStatus::Passed,
        'f' => CaseStatus::Failed,
        'k' => CaseStatus::Flaky,
        't' => CaseStatus::TimedOut,
        's' => CaseStatus::Skipped,
        'q' => CaseStatus::Quarantined,
        _ => return None,
    })
}

fn pack(text: &[u8]) -> String {
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = z.write_all(text);
    let bytes = z.finish().unwrap_or_default();
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

/// At most this much text comes out of one field: a note's outcomes are far smaller, so more is
/// not ours (a deflate bomb) and is refused.
const MAX_UNPACKED: u64 = 64 << 20;

fn unpack(field: &str) -> Result<String, OutcomesError> {
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(field.trim_end_matches('='))
        .map_err(|e| OutcomesError(format!("not base64: {e}")))?;
    let mut text = String::new();
    flate2::read::DeflateDecoder::new(bytes.as_slice())
        .take(MAX_UNPACKED + 1)
        .read_to_string(&mut text)
        .map_err(|e| OutcomesError(format!("not deflated text: {e}")))?;
    if text.len() as u64 > MAX_UNPACKED {
        return Err(OutcomesError("more than 64 MiB unpacked".to_string()));
    }
    Ok(text)
}

impl TestRun {
    /// A run's outcomes from `(test id, outcome)` pairs. Ids with a newline or a tab cannot be
    /// written in this form and are left out (no test name has one).
    pub fn new(run_id: &str, recorded: &str, tests: &[(&str, Outcome)]) -> TestRun {
        let mut sorted: Vec<&(&str, Outcome)> = tests
            .iter()
            .filter(|(id, _)| !id.contains(['\n', '\t']))
            .collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        sorted.dedup_by(|a, b| a.0 == b.0);
        let mut ids = String::new();
        let mut tokens = String::new();
        let mut prev = "";
        for (i, (id, o)) in sorted.iter().enumerate() {
            let shared = prev
                .char_indices()
                .zip(id.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((at, c), _)| at + c.len_utf8());
            ids.push_str(&format!("{shared}\t{}\n", &id[shared..]));
            prev = id;
            if i > 0 {
                tokens.push(',');
            }
            tokens.push(letter(o.status));
            tokens.push_str(&o.millis.to_string());
            if o.attempts != 1 {
                tokens.push_str(&format!("x{}", o.attempts));
            }
        }
        TestRun {
            run_id: run_id.to_string(),
            recorded: recorded.to_string(),
            ids: pack(ids.as_bytes()),
            outcomes: pack(tokens.as_bytes()),
        }
    }

    /// The sorted ids.
    pub fn ids(&self) -> Result<Vec<String>, OutcomesError> {
        decode_ids(&self.ids)
    }

    /// The outcomes, in the order of [`TestRun::ids`].
    pub fn outcomes(&self) -> Result<Vec<Outcome>, OutcomesError> {
        let text = unpack(&self.outcomes)?;
        if text.is_empty() {
            return Ok(Vec::new());
        }
        text.split(',').map(parse_token).collect()
    }
}

/// The ids of an `ids` field.
pub fn decode_ids(field: &str) -> Result<Vec<String>, OutcomesError> {
    let text = unpack(field)?;
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let (shared, rest) = line
            .split_once('\t')
            .ok_or_else(|| OutcomesError(format!("an id line without a tab: {line:?}")))?;
        let shared: usize = shared
            .parse()
            .map_err(|_| OutcomesError(format!("not a prefix length: {shared:?}")))?;
        let prefix = match out.last() {
            Some(prev) if prev.is_char_boundary(shared) && shared <= prev.len() => &prev[..shared],
            None if shared == 0 => "",
            _ => {
                return Err(OutcomesError(format!(
                    "a prefix of {shared} bytes does not fit"
                )));
            }
        };
        out.push(format!("{prefix}{rest}"));
    }
    Ok(out)
}

fn parse_token(t: &str) -> Result<Outcome, OutcomesError> {
    let bad = || OutcomesError(format!("not an outcome: {t:?}"));
    let mut chars = t.chars();
    let status = chars.next().and_then(status_of).ok_or_else(bad)?;
    let rest = chars.as_str();
    let (millis, attempts) = match rest.split_once('x') {
        Some((m, a)) => (m, a.parse().map_err(|_| bad())?),
        None => (rest, 1),
    };
    Ok(Outcome {
        status,
        attempts,
        millis: millis.parse().map_err(|_| bad())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(status: CaseStatus, attempts: u32, millis: u32) -> Outcome {
        Outcome {
            status,
            attempts,
            millis,
        }
    }

    #[test]
    fn outcomes_come_back_as_they_were_stored() {
        let tests = [
            ("app tests::b", o(CaseStatus::Failed, 2, 120)),
            ("app tests::a", o(CaseStatus::Passed, 1, 3)),
            ("app::it api::ünïcode", o(CaseStatus::Flaky, 2, 40)),
            (
                "app::doc src/lib.rs - f (line 3)",
                o(CaseStatus::Skipped, 0, 0),
            ),
            ("bad\nid", o(CaseStatus::Passed, 1, 1)),
        ];
        let run = TestRun::new("r1", "2026-12-01T00:00:00Z", &tests);
        let ids = run.ids().unwrap();
        assert_eq!(
            ids,
            [
                "app tests::a",
                "app tests::b",
                "app::doc src/lib.rs - f (line 3)",
                "app::it api::ünïcode"
            ]
        );
        assert_eq!(
            run.outcomes().unwrap(),
            [
                o(CaseStatus::Passed, 1, 3),
                o(CaseStatus::Failed, 2, 120),
                o(CaseStatus::Skipped, 0, 0),
                o(CaseStatus::Flaky, 2, 40)
            ]
        );
        let empty = TestRun::new("r", "", &[]);
        assert!(empty.ids().unwrap().is_empty() && empty.outcomes().unwrap().is_empty());
    }

    #[test]
    fn ten_thousand_tests_fit_in_a_small_note() {
        let names: Vec<String> = (0..10_000)
            .map(|i| {
                format!(
                    "crate_{}::integration_{} module_{}::submodule::test_case_number_{i}",
                    i % 7,
                    i % 13,
                    i % 50
                )
            })
            .collect();
        let tests: Vec<(&str, Outcome)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), o(CaseStatus::Passed, 1, (i % 200) as u32)))
            .collect();
        let run = TestRun::new("r", "", &tests);
        let size = run.ids.len() + run.outcomes.len();
        assert!(size < 100_000, "{size} bytes");
    }

    #[test]
    fn damaged_fields_are_errors_not_panics() {
        let run = TestRun {
            run_id: "r".to_string(),
            recorded: String::new(),
            ids: "!!!".to_string(),
            outcomes: pack(b"p1,zz"),
        };
        assert!(run.ids().is_err());
        assert!(run.outcomes().is_err());
        assert!(
            decode_ids(&pack(b"5\tx\n")).is_err(),
            "a prefix longer than nothing"
        );
        assert!(decode_ids(&pack(b"0\tab\n9\tc\n")).is_err());
        assert!(decode_ids(&pack(b"no tab\n")).is_err());
    }
}
