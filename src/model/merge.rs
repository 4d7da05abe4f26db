//! `cargo gate merge`: shard reports combined into one.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::{Details, Metric, Report, ShardMerge, SuiteKind, SuiteStatus};
use crate::error::{Error, Result};

/// Adds a shard's metric to the merged suite's, as the metric says: a wall time is the slowest
/// shard's (shards run side by side), not one entry per shard of which rules would only see the
/// first; other metrics pool their samples.
/// A shard's suite data merged into the merged suite's.
fn merge_details(target: &mut Details, shard: Details) {
    match (target, shard) {
        (Details::Tests(t), Details::Tests(s)) => {
            t.isolation.extend(s.isolation);
            // Shards build side by side: the merged build took the longest one's time.
            t.build_duration = match (t.build_duration, s.build_duration) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            // The shards of one run share the base: any shard's record of it.
            if t.base.is_none() {
                t.base = s.base;
            }
        }
        (target @ Details::None, shard) => *target = shard,
        // Coverage and paired benchmarks are measured whole in every shard that runs them, not
        // split: the first shard's stay.
        _ => {}
    }
}

fn merge_metric(metrics: &mut Vec<Metric>, metric: Metric) {
    match metrics.iter_mut().find(|m| m.name == metric.name) {
        Some(m) if m.shards == ShardMerge::Longest => {
            let longest = m
                .samples
                .iter()
                .chain(&metric.samples)
                .copied()
                .filter(|v| v.is_finite())
                .reduce(f64::max);
            if let Some(longest) = longest {
                m.samples = vec![longest];
            }
        }
        Some(m) => m.samples.extend(metric.samples),
        None => metrics.push(metric),
    }
}

/// Combines shard reports into one. The same case id in two shards is an error: it means the
/// shards overlapped (or one report was passed twice), and summing them would double-count.
pub fn merge(reports: Vec<(String, Report)>) -> Result<Report> {
    let bases: BTreeSet<&str> = reports
        .iter()
        .filter_map(|(_, r)| r.run.partition_basis.as_deref())
        .collect();
    if bases.len() > 1 {
        let each: Vec<String> = reports
            .iter()
            .filter_map(|(n, r)| Some(format!("{n}: {}", r.run.partition_basis.as_deref()?)))
            .collect();
        return Err(Error::usage(
            format!(
                "the shards were split by time from different recorded durations, so some tests may have run twice or not at all:\n  {}",
                each.join("\n  ")
            ),
            Some("fetch the baseline notes once before the shards start (the notes on the base commit changed in between), or use --partition hash:K/N".to_string()),
        ));
    }
    check_whole(&reports)?;
    let mut iter = reports.into_iter();
    let Some((first_name, first)) = iter.next() else {
        return Err(Error::usage(
            "nothing to merge",
            Some("pass two or more report.json files".to_string()),
        ));
    };
    let mut merged = first.clone();
    merged.run.partition = None;
    merged.run.partition_basis = None;
    merged.run.merged_from = vec![describe_shard(&first_name, &first)];
    merged.gates.clear();
    let mut seen: HashSet<(SuiteKind, String, String)> = HashSet::new();
    let mut origin: BTreeMap<(SuiteKind, String, String), String> = BTreeMap::new();
    for suite in &first.suites {
        for case in &suite.cases {
            let key = (suite.kind, suite.name.clone(), case.id.clone());
            seen.insert(key.clone());
            origin.insert(key, first_name.clone());
        }
    }
    for (name, report) in iter {
        merged.run.merged_from.push(describe_shard(&name, &report));
        merged.run.duration = merged.run.duration.max(report.run.duration);
        merged.run.interrupted |= report.run.interrupted;
        if report.run.started < merged.run.started {
            merged.run.started = report.run.started.clone();
        }
        for suite in report.suites {
            for case in &suite.cases {
                let key = (suite.kind, suite.name.clone(), case.id.clone());
                if !seen.insert(key.clone()) {
                    let other = origin.get(&key).cloned().unwrap_or_default();
                    return Err(Error::usage(
                        format!(
                            "case `{}` of suite `{}` is in both {other} and {name}",
                            case.id, suite.name
                        ),
                        Some(
                            "each shard must run a distinct partition (`--partition hash:K/N` with the same N and different K); do not pass a report twice"
                                .to_string(),
                        ),
                    ));
                }
                origin.insert(key, name.clone());
            }
            match merged
                .suites
                .iter_mut()
                .find(|s| s.kind == suite.kind && s.name == suite.name)
            {
                Some(target) => {
                    target.duration = target.duration.max(suite.duration);
                    if suite.status == SuiteStatus::Error {
                        target.status = SuiteStatus::Error;
                        target.error = suite.error.clone();
                    }
                    target.cases.extend(suite.cases);
                    merge_details(&mut target.details, suite.details);
                    for metric in suite.metrics {
                        merge_metric(&mut target.metrics, metric);
                    }
                }
                None => merged.suites.push(suite),
            }
        }
    }
    for suite in &mut merged.suites {
        suite.cases.sort_by(|a, b| a.id.cmp(&b.id));
        suite.refresh_status();
    }
    merged.run.id = format!("merged-{}", merged.run.id);
    Ok(merged)
}

/// A shard's strategy, K and N.
type Shard<'a> = (&'a str, u32, u32);

/// `strategy:K/N` as the report records it.
fn parse_partition(text: &str) -> Option<Shard<'_>> {
    let (strategy, kn) = text.split_once(':')?;
    let (k, n) = kn.split_once('/')?;
    let (k, n) = (k.parse().ok()?, n.parse().ok()?);
    (k >= 1 && k <= n).then_some((strategy, k, n))
}

/// The reports are one run, whole: from one commit, and — when they are shards — every shard
/// of one partition scheme exactly once. A missing shard would otherwise merge to a verdict
/// on the tests it did not run.
fn check_whole(reports: &[(String, Report)]) -> Result<()> {
    let bad = |message: String, hint: &str| Err(Error::usage(message, Some(hint.to_string())));
    let commits: BTreeSet<&str> = reports
        .iter()
        .filter_map(|(_, r)| r.run.git.sha.as_deref())
        .collect();
    if commits.len() > 1 {
        let each: Vec<String> = reports
            .iter()
            .map(|(n, r)| format!("{n}: {}", r.run.git.sha.as_deref().unwrap_or("unknown")))
            .collect();
        return bad(
            format!(
                "the reports ran different commits:\n  {}",
                each.join("\n  ")
            ),
            "merge the shards of one run (one commit); re-run the shards that are from another",
        );
    }
    let shards: Vec<(&str, Option<Shard<'_>>)> = reports
        .iter()
        .map(|(n, r)| {
            (
                n.as_str(),
                r.run.partition.as_deref().and_then(parse_partition),
            )
        })
        .collect();
    let (partitioned, whole): (Vec<_>, Vec<_>) = shards.iter().partition(|(_, p)| p.is_some());
    if partitioned.is_empty() {
        return Ok(());
    }
    if let Some((name, _)) = whole.first() {
        return bad(
            format!("{name} is not a shard, but the other reports are shards of a partition"),
            "merge only the shards of one partitioned run (`--partition hash:K/N` with the same N)",
        );
    }
    let schemes: BTreeSet<(&str, u32)> = partitioned
        .iter()
        .filter_map(|(_, p)| p.map(|(s, _, n)| (s, n)))
        .collect();
    let Some(&(strategy, n)) = schemes.iter().next() else {
        return Ok(());
    };
    if schemes.len() > 1 {
        let each: Vec<String> = reports
            .iter()
            .map(|(n, r)| format!("{n}: {}", r.run.partition.as_deref().unwrap_or("none")))
            .collect();
        return bad(
            format!(
                "the shards come from different partition schemes:\n  {}",
                each.join("\n  ")
            ),
            "every shard of one run uses the same strategy and N (`--partition hash:K/N`)",
        );
    }
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    for (name, p) in &partitioned {
        let Some((_, k, _)) = p else { continue };
        if let Some(other) = seen.insert(*k, name) {
            return bad(
                format!("shard {strategy}:{k}/{n} is given twice: {other} and {name}"),
                "pass each shard's report once",
            );
        }
    }
    let missing: Vec<String> = (1..=n)
        .filter(|k| !seen.contains_key(k))
        .map(|k| format!("{strategy}:{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return bad(
            format!(
                "shard(s) {} missing: a merge of part of the shards would judge only the tests they ran",
                missing.join(", ")
            ),
            "pass every shard's report (a shard job that failed before it wrote one must be re-run)",
        );
    }
    Ok(())
}

fn describe_shard(name: &str, report: &Report) -> String {
    match &report.run.partition {
        Some(p) => format!("{name} ({p})"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RunInfo;

    fn shard(partition: Option<&str>, sha: &str) -> (String, Report) {
        let run = RunInfo {
            partition: partition.map(str::to_string),
            git: crate::model::GitInfo {
                sha: Some(sha.to_string()),
                ..Default::default()
            },
            ..RunInfo::default()
        };
        (
            format!("{}.json", partition.unwrap_or("whole")),
            Report::new(run, Vec::new()),
        )
    }

    fn error(reports: Vec<(String, Report)>) -> String {
        merge(reports)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn only_a_whole_set_of_shards_of_one_commit_merges() {
        let all = || {
            vec![
                shard(Some("hash:1/3"), "a"),
                shard(Some("hash:2/3"), "a"),
                shard(Some("hash:3/3"), "a"),
            ]
        };
        assert!(merge(all()).is_ok());
        let mut missing = all();
        missing.remove(1);
        assert!(error(missing).contains("shard(s) hash:2/3 missing"));
        let mut twice = all();
        twice.push(shard(Some("hash:3/3"), "a"));
        assert!(error(twice).contains("hash:3/3 is given twice"));
        let mut other_commit = all();
        other_commit[2] = shard(Some("hash:3/3"), "b");
        assert!(error(other_commit).contains("different commits"));
        let mut other_scheme = all();
        other_scheme[2] = shard(Some("count:3/3"), "a");
        assert!(error(other_scheme).contains("different partition schemes"));
        let mut mixed = all();
        mixed.push(shard(None, "a"));
        assert!(error(mixed).contains("is not a shard"));
        // Reports of one commit without partitions (separate runs of parts) still merge.
        assert!(merge(vec![shard(None, "a"), shard(None, "a")]).is_ok());
    }
}
