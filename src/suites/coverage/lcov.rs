//! Code coverage from an LCOV file (what `cargo llvm-cov --lcov`, grcov and tarpaulin write):
//! totals for lines, functions and branches, and *patch coverage* — the share of the lines a
//! change added or modified that the tests ran, the figure reviewers care about. Pure: the
//! suite (`suites/coverage.rs`) reads the files and asks git for the change.

use crate::model::Region;

use std::collections::{BTreeMap, BTreeSet};

/// Coverage of one source file, merged over every record naming it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileCoverage {
    /// Hit count per instrumented line.
    pub lines: BTreeMap<u32, u64>,
    /// Hit count per function name.
    pub functions: BTreeMap<String, u64>,
    /// Taken count per (line, block, branch); `-` (never evaluated) is 0.
    pub branches: BTreeMap<(u32, String, String), u64>,
}

/// A parsed LCOV file: coverage per source path, as the file names it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lcov {
    /// Files by path.
    pub files: BTreeMap<String, FileCoverage>,
    /// Record types this reader does not use (the format has many optional ones), by tag,
    /// with how often they appeared.
    pub unknown: BTreeMap<String, usize>,
}

/// Covered, partially covered and total counts. For lines, `partial` lines ran but have a
/// branch that was never taken; they are not in `hit`, and count as covered or not as
/// [`Partials`] says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ratio {
    /// Fully covered.
    pub hit: u64,
    /// Run, with a branch never taken (lines only).
    pub partial: u64,
    /// Instrumented.
    pub total: u64,
}

impl Ratio {
    /// Percent covered, partial lines counted as not covered (as Codecov does); `None` when
    /// nothing is instrumented.
    pub fn percent(self) -> Option<f64> {
        self.percent_with(Partials::Miss)
    }

    /// Percent covered, partial lines counted as `partials` says.
    pub fn percent_with(self, partials: Partials) -> Option<f64> {
        (self.total > 0).then(|| self.covered(partials) as f64 * 100.0 / self.total as f64)
    }

    /// Lines counted as covered.
    pub fn covered(self, partials: Partials) -> u64 {
        match partials {
            Partials::Miss => self.hit,
            Partials::Hit => self.hit + self.partial,
        }
    }

    /// Lines never run.
    pub fn missed(self) -> u64 {
        self.total.saturating_sub(self.hit + self.partial)
    }

    fn add(&mut self, state: LineState) {
        self.total += 1;
        match state {
            LineState::Hit => self.hit += 1,
            LineState::Partial => self.partial += 1,
            LineState::Miss => {}
        }
    }
}

/// How one instrumented line stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineState {
    /// Run, and every branch on it taken.
    Hit,
    /// Run, with a branch never taken.
    Partial,
    /// Never run.
    Miss,
}

impl FileCoverage {
    /// The state of instrumented `line`, `None` when it is not instrumented.
    pub fn line_state(&self, line: u32) -> Option<LineState> {
        let hits = *self.lines.get(&line)?;
        if hits == 0 {
            return Some(LineState::Miss);
        }
        let from = (line, String::new(), String::new());
        let untaken = self
            .branches
            .range(from..)
            .take_while(|((l, _, _), _)| *l == line)
            .any(|(_, taken)| *taken == 0);
        Some(if untaken {
            LineState::Partial
        } else {
            LineState::Hit
        })
    }

    /// Line coverage of this file.
    pub fn line_ratio(&self) -> Ratio {
        let mut r = Ratio::default();
        for line in self.lines.keys() {
            if let Some(state) = self.line_state(*line) {
                r.add(state);
            }
        }
        r
    }

    fn merge(&mut self, other: FileCoverage) {
        for (line, hits) in other.lines {
            let s = self.lines.entry(line).or_insert(0);
            *s = (*s).max(hits);
        }
        for (name, hits) in other.functions {
            let s = self.functions.entry(name).or_insert(0);
            *s = (*s).max(hits);
        }
        for (key, taken) in other.branches {
            let s = self.branches.entry(key).or_insert(0);
            *s = (*s).max(taken);
        }
    }
}

pub use super::config::Partials;

/// Why an LCOV file could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LcovError {
    /// A record line that does not parse.
    #[error("line {line}: {message}")]
    Malformed {
        /// 1-based line number in the file.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// No `SF:` record at all: not LCOV, or an empty run.
    #[error("no source file records (SF:) — is this an LCOV file?")]
    Empty,
    /// The last record never ends: the file was cut short (a killed coverage run, a full disk).
    #[error("the record for `{0}` has no end_of_record: the file is truncated")]
    Truncated(String),
    /// `SF:` with no path.
    #[error("line {0}: SF: names no file")]
    NoPath(usize),
}

impl FileCoverage {
    /// One record of the file's section; `Ok(false)` for a record type not used here. Counts
    /// of a line, function or branch recorded twice are merged by keeping the highest.
    fn record(&mut self, tag: &str, value: &str) -> Result<bool, String> {
        match tag {
            "DA" => {
                let mut parts = value.split(',');
                // Lines are numbered from 1.
                let number = parts
                    .next()
                    .and_then(|n| n.parse::<u32>().ok())
                    .filter(|n| *n > 0);
                let hits = parts.next().and_then(parse_count);
                let (Some(number), Some(hits)) = (number, hits) else {
                    return Err(
                        "DA needs a line number from 1 and a hit count (a whole number)"
                            .to_string(),
                    );
                };
                let slot = self.lines.entry(number).or_insert(0);
                *slot = (*slot).max(hits);
            }
            "FNDA" => {
                let Some((hits, name)) = value.split_once(',') else {
                    return Err("FNDA needs a hit count and a name".to_string());
                };
                let hits = parse_count(hits).ok_or_else(|| "FNDA hit count".to_string())?;
                let slot = self.functions.entry(name.to_string()).or_insert(0);
                *slot = (*slot).max(hits);
            }
            "FN" => {
                // `FN:<line>,<name>`, or LCOV 2's `FN:<start>,<end>,<name>`; the name may
                // itself hold commas (`<impl Combine for Pair<A,B>>::combine`), so only
                // leading numbers are taken off.
                let Some((start, rest)) = value.split_once(',') else {
                    return Err("FN needs a line and a name".to_string());
                };
                if start.trim().parse::<u32>().is_err() {
                    return Err("FN line".to_string());
                }
                let name = match rest.split_once(',') {
                    Some((end, name)) if end.trim().parse::<u32>().is_ok() => name,
                    _ => rest,
                };
                if name.is_empty() {
                    return Err("FN needs a name".to_string());
                }
                self.functions.entry(name.to_string()).or_insert(0);
            }
            "BRDA" => {
                let parts: Vec<&str> = value.split(',').collect();
                let [line_no, block, branch, taken] = parts[..] else {
                    return Err("BRDA needs line, block, branch and taken".to_string());
                };
                let number = line_no
                    .parse::<u32>()
                    .map_err(|_| "BRDA line".to_string())?;
                let taken = if taken == "-" {
                    0
                } else {
                    parse_count(taken).ok_or_else(|| "BRDA taken count".to_string())?
                };
                let slot = self
                    .branches
                    .entry((number, block.to_string(), branch.to_string()))
                    .or_insert(0);
                *slot = (*slot).max(taken);
            }
            // Summaries are recomputed from the records, but one that is not a count
            // means the file is not what it claims to be.
            "LF" | "LH" | "FNF" | "FNH" | "BRF" | "BRH" => {
                parse_count(value).ok_or_else(|| format!("{tag} must be a count"))?;
            }
            "TN" | "VER" => {}
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Lcov {
    /// Parses LCOV text. Unknown record types are skipped (the format has many optional ones);
    /// records for the same file are merged, keeping the highest count per line.
    pub fn parse(text: &str) -> Result<Lcov, LcovError> {
        let mut lcov = Lcov::default();
        let mut current: Option<String> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let bad = |message: &str| LcovError::Malformed {
                line: i + 1,
                message: format!("{message}: `{line}`"),
            };
            let Some((tag, value)) = line.split_once(':') else {
                if line == "end_of_record" {
                    current = None;
                }
                continue;
            };
            if tag == "SF" {
                if value.trim().is_empty() {
                    return Err(LcovError::NoPath(i + 1));
                }
                lcov.files.entry(value.to_string()).or_default();
                current = Some(value.to_string());
                continue;
            }
            let Some(file) = current.as_ref().and_then(|f| lcov.files.get_mut(f)) else {
                continue;
            };
            match file.record(tag, value) {
                Ok(true) => {}
                Ok(false) => *lcov.unknown.entry(tag.to_string()).or_default() += 1,
                Err(message) => return Err(bad(&message)),
            }
        }
        if let Some(open) = current {
            return Err(LcovError::Truncated(open));
        }
        if lcov.files.is_empty() {
            return Err(LcovError::Empty);
        }
        Ok(lcov)
    }

    /// Lines, functions and branches over every file.
    pub fn totals(&self) -> (Ratio, Ratio, Ratio) {
        let mut lines = Ratio::default();
        let mut functions = Ratio::default();
        let mut branches = Ratio::default();
        for f in self.files.values() {
            let l = f.line_ratio();
            lines.hit += l.hit;
            lines.partial += l.partial;
            lines.total += l.total;
            count(&mut functions, f.functions.values());
            count(&mut branches, f.branches.values());
        }
        (lines, functions, branches)
    }

    /// The same coverage with every path mapped by `f` (e.g. made relative to the workspace);
    /// paths mapped to the same name are merged, paths mapped to `None` are dropped.
    pub fn map_paths(self, mut f: impl FnMut(&str) -> Option<String>) -> Lcov {
        let mut out = Lcov {
            unknown: self.unknown,
            ..Lcov::default()
        };
        for (path, cov) in self.files {
            if let Some(to) = f(&path) {
                out.files.entry(to).or_default().merge(cov);
            }
        }
        out
    }
}

fn count<'a>(ratio: &mut Ratio, hits: impl Iterator<Item = &'a u64>) {
    for h in hits {
        ratio.total += 1;
        ratio.hit += u64::from(*h > 0);
    }
}

/// Hit counts are whole numbers; some tools write them as floats (`1.0`, `3e2`), which count
/// when they are whole and within u64. A fraction, a negative number or one beyond u64 (which
/// would be silently clamped) is not a count.
fn parse_count(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok().or_else(|| {
        let v: f64 = text.trim().parse().ok()?;
        (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < u64::MAX as f64).then_some(v as u64)
    })
}

/// Patch coverage: the changed lines (by file, relative paths as in the LCOV after mapping)
/// that are instrumented, and those of them the tests ran.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Patch {
    /// Instrumented changed lines, covered or not.
    pub ratio: Ratio,
    /// Per changed file with instrumented changed lines.
    pub files: BTreeMap<String, FilePatch>,
    /// Changed lines never run, by file.
    pub missed: BTreeMap<String, Vec<u32>>,
    /// Changed Rust files the LCOV file has no record of.
    pub unrecorded: Vec<String>,
    /// Changed files it has a record of.
    pub recorded: usize,
}

/// Patch coverage of one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilePatch {
    /// Its instrumented changed lines.
    pub ratio: Ratio,
    /// Changed lines never run.
    pub missed: Vec<u32>,
    /// Changed lines run with a branch never taken.
    pub partial: Vec<u32>,
}

/// Patch coverage of `changed` lines against `lcov`. Changed lines that are not instrumented
/// (comments, blank lines, declarations) do not count either way.
pub fn patch(lcov: &Lcov, changed: &BTreeMap<String, BTreeSet<u32>>) -> Patch {
    let mut out = Patch::default();
    for (file, lines) in changed {
        let Some(cov) = lcov.files.get(file) else {
            if file.ends_with(".rs") {
                out.unrecorded.push(file.clone());
            }
            continue;
        };
        out.recorded += 1;
        let mut fp = FilePatch::default();
        for line in lines {
            let Some(state) = cov.line_state(*line) else {
                continue;
            };
            fp.ratio.add(state);
            out.ratio.add(state);
            match state {
                LineState::Miss => fp.missed.push(*line),
                LineState::Partial => fp.partial.push(*line),
                LineState::Hit => {}
            }
        }
        if !fp.missed.is_empty() {
            out.missed.insert(file.clone(), fp.missed.clone());
        }
        if fp.ratio.total > 0 {
            out.files.insert(file.clone(), fp);
        }
    }
    out
}

impl Patch {
    /// Whether the change touched Rust files and none of them has a record: the LCOV paths do
    /// not match this workspace's, and a patch figure would be a made-up 100 %.
    pub fn no_matching_paths(&self) -> bool {
        !self.unrecorded.is_empty() && self.recorded == 0
    }
}

/// The missed lines as regions of consecutive lines, for annotations.
pub fn missed_regions(p: &Patch) -> Vec<Region> {
    p.missed
        .iter()
        .flat_map(|(file, lines)| {
            spans(lines).into_iter().map(|(line, end_line)| Region {
                file: file.clone(),
                line,
                end_line,
            })
        })
        .collect()
}

/// Runs of consecutive lines: `[12, 13, 14, 20]` gives `[(12, 14), (20, 20)]`.
fn spans(lines: &[u32]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut iter = lines.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        out.push((start, end));
    }
    out
}

/// `12-14, 20` for lines 12, 13, 14 and 20.
pub fn ranges(lines: &[u32]) -> String {
    spans(lines)
        .into_iter()
        .map(|(start, end)| {
            if start == end {
                start.to_string()
            } else {
                format!("{start}-{end}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_whole_numbers_within_u64_and_lines_start_at_1() {
        assert_eq!(parse_count("7"), Some(7));
        assert_eq!(parse_count("1.0"), Some(1));
        assert_eq!(parse_count("3e2"), Some(300));
        for bad in ["1e23", "-1", "0.5", "NaN", "inf", "x"] {
            assert_eq!(parse_count(bad), None, "{bad}");
        }
        let lcov = |da: &str| Lcov::parse(&format!("SF:src/lib.rs\nDA:{da}\nend_of_record\n"));
        assert!(lcov("3,1").is_ok());
        for bad in ["0,1", "3,1e23", "3,-2"] {
            let e = lcov(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("DA needs a line number from 1"), "{bad}: {e}");
        }
    }

    /// Shaped like `cargo llvm-cov --lcov` output: two records for the same file (two test
    /// binaries), functions with hit counts, a branch never evaluated.
    const LCOV: &str = "TN:\nSF:/ws/src/lib.rs\nFN:3,parse\nFN:10,unused\nFNDA:4,parse\nFNDA:0,unused\nFNF:2\nFNH:1\nBRDA:5,0,0,3\nBRDA:5,0,1,-\nDA:3,4\nDA:4,4\nDA:5,4\nDA:6,0\nDA:10,0\nLF:5\nLH:3\nend_of_record\nSF:/ws/src/lib.rs\nDA:6,2\nend_of_record\nSF:/ws/src/main.rs\nDA:1,1\nDA:2,0\nend_of_record\n";

    #[test]
    fn totals_merge_records_of_the_same_file() {
        let lcov = Lcov::parse(LCOV).unwrap();
        let (lines, functions, branches) = lcov.totals();
        // lib.rs: 3,4,6 hit (6 by the second record), 5 run with a branch never taken
        // (partial), 10 not run; main.rs: 1 of 2.
        let ratio = |hit, partial, total| Ratio {
            hit,
            partial,
            total,
        };
        assert_eq!(lines, ratio(4, 1, 7));
        assert_eq!(functions, ratio(1, 0, 2));
        assert_eq!(branches, ratio(1, 0, 2));
        assert_eq!(Ratio::default().percent(), None);
        // Partial lines count as missed (Codecov), or as hit when configured so.
        assert!((lines.percent().unwrap() - 57.142).abs() < 0.01);
        assert!((lines.percent_with(Partials::Hit).unwrap() - 71.428).abs() < 0.01);
        assert_eq!(lines.missed(), 2);
    }

    #[test]
    fn function_names_keep_their_commas_and_lcov2_end_lines_are_read() {
        let text = "SF:a.rs\nFN:8,<impl Combine for Pair<A,B>>::combine\nFNDA:3,<impl Combine for Pair<A,B>>::combine\nFN:20,25,two::words\nFNDA:0,two::words\nFN:30,31,<T as From<(u8,u16)>>::from\nFNDA:1,<T as From<(u8,u16)>>::from\nDA:8,3\nend_of_record\n";
        let lcov = Lcov::parse(text).unwrap();
        let names: Vec<&String> = lcov.files["a.rs"].functions.keys().collect();
        assert_eq!(
            names,
            [
                "<T as From<(u8,u16)>>::from",
                "<impl Combine for Pair<A,B>>::combine",
                "two::words"
            ]
        );
        let (_, functions, _) = lcov.totals();
        assert_eq!((functions.hit, functions.total), (2, 3));
    }

    #[test]
    fn unknown_record_types_are_counted_not_errors() {
        let lcov =
            Lcov::parse("TN:x\nSF:a.rs\nXYZ:1\nXYZ:2\nMCDC:1,2\nDA:1,1\nend_of_record\n").unwrap();
        assert_eq!(
            lcov.unknown,
            BTreeMap::from([("MCDC".to_string(), 1), ("XYZ".to_string(), 2)])
        );
    }

    #[test]
    fn patch_counts_only_changed_instrumented_lines() {
        let lcov = Lcov::parse(LCOV)
            .unwrap()
            .map_paths(|p| Some(p.trim_start_matches("/ws/").to_string()));
        let changed = BTreeMap::from([
            (
                "src/lib.rs".to_string(),
                BTreeSet::from([1, 2, 3, 5, 6, 10, 11]),
            ),
            ("src/main.rs".to_string(), BTreeSet::from([2])),
            ("src/new.rs".to_string(), BTreeSet::from([1])),
            ("README.md".to_string(), BTreeSet::from([1])),
        ]);
        let p = patch(&lcov, &changed);
        // Instrumented among them: lib 3 (hit), 5 (partial), 6 (hit), 10 (missed); main 2
        // (missed). src/new.rs has no record.
        assert_eq!(
            p.ratio,
            Ratio {
                hit: 2,
                partial: 1,
                total: 5
            }
        );
        assert_eq!(p.missed["src/lib.rs"], [10]);
        assert_eq!(p.missed["src/main.rs"], [2]);
        assert_eq!(p.files["src/lib.rs"].partial, [5]);
        assert_eq!(p.unrecorded, ["src/new.rs"]);
        assert!(!p.no_matching_paths());
        // Only unrecorded Rust files changed: the paths do not match.
        let other = BTreeMap::from([("src/eval.rs".to_string(), BTreeSet::from([1]))]);
        assert!(patch(&lcov, &other).no_matching_paths());
        let docs = BTreeMap::from([("README.md".to_string(), BTreeSet::from([1]))]);
        assert!(!patch(&lcov, &docs).no_matching_paths());
    }

    #[test]
    fn malformed_and_empty_files_are_errors_with_a_line() {
        let err = Lcov::parse("SF:a.rs\nDA:x,1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: DA needs a line number from 1 and a hit count (a whole number): `DA:x,1`"
        );
        assert_eq!(Lcov::parse("TN:\n").unwrap_err(), LcovError::Empty);
        assert_eq!(Lcov::parse("<coverage/>").unwrap_err(), LcovError::Empty);
        // Float counts (some tools) and checksums after the count are accepted.
        let lcov = Lcov::parse("SF:a.rs\nDA:1,2.0\nDA:2,0,abc\nend_of_record\n").unwrap();
        assert_eq!(
            lcov.totals().0,
            Ratio {
                hit: 1,
                partial: 0,
                total: 2
            }
        );
    }

    #[test]
    fn a_file_cut_short_is_not_partial_coverage() {
        let full = "SF:a.rs\nDA:1,1\nend_of_record\nSF:b.rs\nDA:1,0\nDA:2,0\nend_of_record\n";
        assert!(Lcov::parse(full).is_ok());
        let cut = &full[..full.len() - "end_of_record\n".len()];
        assert_eq!(
            Lcov::parse(cut).unwrap_err(),
            LcovError::Truncated("b.rs".into())
        );
        assert_eq!(
            Lcov::parse("SF:\nDA:1,1\nend_of_record\n").unwrap_err(),
            LcovError::NoPath(1)
        );
        assert!(Lcov::parse("SF:a.rs\nLF:many\nend_of_record\n").is_err());
    }

    #[test]
    fn missed_lines_become_regions() {
        let p = Patch {
            missed: BTreeMap::from([
                ("src/a b.rs".to_string(), vec![3, 4, 5, 9]),
                ("src/c.rs".to_string(), vec![1]),
            ]),
            ..Patch::default()
        };
        let region = |file: &str, line, end_line| Region {
            file: file.to_string(),
            line,
            end_line,
        };
        assert_eq!(
            missed_regions(&p),
            [
                region("src/a b.rs", 3, 5),
                region("src/a b.rs", 9, 9),
                region("src/c.rs", 1, 1),
            ]
        );
        assert_eq!(ranges(&p.missed["src/a b.rs"]), "3-5, 9");
        assert!(missed_regions(&Patch::default()).is_empty());
    }

    #[test]
    fn ranges_compress_consecutive_lines() {
        assert_eq!(ranges(&[12, 13, 14, 20, 22, 23]), "12-14, 20, 22-23");
        assert_eq!(ranges(&[]), "");
    }
}
