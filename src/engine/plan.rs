//! What a run (or `list`) decides before anything is built: the workspace, the config with
//! the command line's overrides, and the selection — packages, filters, the partition and its
//! recorded durations, the packages a change can affect.

use std::path::PathBuf;

use crate::config::{Config, RunIgnored};
use crate::error::{Error, Result};
use crate::event::{Event, Sink};
use crate::suites::testrun::RunOptions;
use crate::suites::testrun::partition::{Partition, Strategy};
use crate::workspace::Workspace;

/// Which workspace, config and tests: what `run` and `list` share.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--manifest-path`.
    pub manifest: Option<PathBuf>,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--package`.
    pub packages: Vec<String>,
    /// `--affected-since`.
    pub affected_since: Option<String>,
    /// `--partition`, as written.
    pub partition: Option<String>,
    /// `--run-ignored`.
    pub run_ignored: Option<RunIgnored>,
    /// `--exact`.
    pub exact: bool,
    /// `--skip`.
    pub skip: Vec<String>,
    /// Name filters.
    pub filters: Vec<String>,
}

/// The workspace, its config and the tests' selection.
pub struct Prepared {
    pub ws: Workspace,
    pub config: Config,
    pub opts: RunOptions,
}

/// How far back `--partition time:K/N` and `isolation = "auto"` look for recorded durations.
const TEST_TIMES_DEPTH: usize = 100;

/// Reads the workspace and config and decides the selection; what it decided (affected
/// packages, the partition's basis) is told through `events`.
pub fn prepare(select: &Selection, events: Sink<'_>) -> Result<Prepared> {
    let partition = select
        .partition
        .as_deref()
        .map(|p| {
            p.parse::<Partition>().map_err(|m| {
                Error::usage(
                    format!("invalid --partition `{p}`: {m}"),
                    Some("e.g. --partition hash:1/4 runs the first of four shards".to_string()),
                )
            })
        })
        .transpose()?;
    let ws = Workspace::load(select.manifest.as_deref())?;
    let path = crate::context::config_path(Some(&ws.root), select.config.as_deref())?;
    let mut config = crate::context::load_config(path.as_deref(), select.profile.as_deref())?;
    if let Some(r) = select.run_ignored {
        config.tests.run_ignored = r;
    }
    let mut opts = RunOptions {
        packages: select.packages.clone(),
        filters: select.filters.clone(),
        skip: select.skip.clone(),
        exact: select.exact,
        partition,
        affected: None,
        test_times: None,
        partition_basis: None,
    };
    if partition.is_some_and(|p| p.strategy == Strategy::Time) {
        let (times, basis) = test_times_for_partition(&ws, events);
        opts.test_times = times;
        opts.partition_basis = Some(basis);
    } else if config.tests.isolation == crate::config::Isolation::Auto {
        // `auto` isolation decides per binary from the durations the notes recorded.
        opts.test_times = crate::baseline::notes::Store::open(&ws.root)
            .ok()
            .and_then(|store| {
                crate::baseline::recorded_test_times(&store, TEST_TIMES_DEPTH).ok()?
            })
            .map(|(_, times)| times);
    }
    if let Some(since) = &select.affected_since {
        opts.affected = Some(affected(&ws, &config, select, since, &mut opts, events)?);
    }
    Ok(Prepared { ws, config, opts })
}

/// `--affected-since REV`: the packages a change since REV can affect, narrowed by
/// `--package` (which never adds to them).
fn affected(
    ws: &Workspace,
    config: &Config,
    select: &Selection,
    since: &str,
    opts: &mut RunOptions,
    events: Sink<'_>,
) -> Result<crate::suites::testrun::Affected> {
    use crate::suites::testrun::affected;
    let (changed, base) = affected::changed_files(&ws.root, since)?;
    let members = affected::members(ws);
    let root = affected::canonical(&ws.root);
    let packages = affected::decide(&root, &members, &changed, &config.tests.affected_ignore);
    let mut lines = vec![format!(
        "affected since {since} (merge base {base}): {} of {} package(s)",
        packages.len(),
        members.len()
    )];
    for (name, reason) in &packages {
        lines.push(format!("  {name}: {reason}"));
    }
    opts.packages = packages
        .keys()
        .filter(|p| select.packages.is_empty() || select.packages.contains(p))
        .cloned()
        .collect();
    if opts.packages.is_empty() {
        lines.push("  no package to test: the tests suite runs nothing".to_string());
    } else if !select.packages.is_empty() {
        lines.push(format!(
            "  --package narrows this to: {}",
            opts.packages.join(", ")
        ));
    }
    for line in &lines {
        events(&Event::Notice(line));
    }
    Ok(crate::suites::testrun::Affected {
        since: since.to_string(),
        base,
        packages,
    })
}

/// The durations `--partition time:K/N` balances by, from the baseline notes; every shard finds
/// the same note, so every shard computes the same split. Without one it splits by count.
fn test_times_for_partition(
    ws: &Workspace,
    events: Sink<'_>,
) -> (Option<crate::baseline::note::TestTimes>, String) {
    let found = crate::baseline::notes::Store::open(&ws.root)
        .ok()
        .and_then(|store| {
            let (commit, times) =
                crate::baseline::recorded_test_times(&store, TEST_TIMES_DEPTH).ok()??;
            Some((store.short(commit), times))
        });
    match found {
        Some((commit, times)) => {
            events(&Event::Notice(&format!(
                "time partition: durations of {} slow test(s) from the note on {commit}; other tests count {}",
                times.slow.len(),
                crate::util::units::format_seconds(times.typical)
            )));
            let json = serde_json::to_string(&times).unwrap_or_default();
            let hash = crate::suites::testrun::partition::fnv1a(json.as_bytes());
            (Some(times), format!("note {commit} {hash:016x}"))
        }
        None => {
            events(&Event::Notice(&format!(
                "time partition: no test durations in the baseline notes of the last {TEST_TIMES_DEPTH} commits before the base; splitting by count (record some with `cargo gate baseline save` after a full run)"
            )));
            (None, "none".to_string())
        }
    }
}
