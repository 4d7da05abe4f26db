//! `cargo gate merge`: shard reports combined into one.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::{Metric, Report, ShardMerge, SuiteKind, SuiteStatus};
use crate::error::{Error, Result};

/// Adds a shard's metric to the merged suite's, as the metric says: a wall time is the slowest
/// shard's (shards run side by side), not one entry per shard of which rules would only see the
/// first; other metrics pool their samples.
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
                    target.isolation.extend(suite.isolation);
                    // Shards build side by side: the merged build took the longest one's time.
                    target.build_duration = match (target.build_duration, suite.build_duration) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                    // The shards of one run share the base: any shard's record of it.
                    if target.base.is_none() {
                        target.base = suite.base;
                    }
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

fn describe_shard(name: &str, report: &Report) -> String {
    match &report.run.partition {
        Some(p) => format!("{name} ({p})"),
        None => name.to_string(),
    }
}
