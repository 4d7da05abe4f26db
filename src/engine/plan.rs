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
    let libtest = libtest_args(&select.filters)?;
    let ws = Workspace::load(select.manifest.as_deref())?;
    let path = crate::context::config_path(Some(&ws.root), select.config.as_deref())?;
    let mut config = crate::context::load_config(path.as_deref(), select.profile.as_deref())?;
    if let Some(r) = libtest.run_ignored.or(select.run_ignored) {
        config.tests.run_ignored = r;
    }
    if libtest.test_threads.is_some() {
        config.tests.jobs = libtest.test_threads;
    }
    if libtest.nocapture {
        events(&Event::Notice(
            "--nocapture: cargo-gate keeps every test's output and shows a failure's as it happens; the flag changes nothing",
        ));
    }
    let mut opts = RunOptions {
        packages: select.packages.clone(),
        filters: libtest.filters,
        skip: [select.skip.clone(), libtest.skip].concat(),
        exact: select.exact || libtest.exact,
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

/// What libtest's own arguments after `--` (`cargo gate run -- --exact name`, a cargo test
/// habit) ask for, and the filters left.
#[derive(Debug, Default, PartialEq)]
struct LibtestArgs {
    filters: Vec<String>,
    exact: bool,
    nocapture: bool,
    run_ignored: Option<RunIgnored>,
    test_threads: Option<usize>,
    skip: Vec<String>,
}

/// Reads libtest's flags among the filters: the ones cargo test users pass are honoured, any
/// other argument that starts with `-` is refused — taken as a filter it would match no test.
fn libtest_args(args: &[String]) -> Result<LibtestArgs> {
    let mut out = LibtestArgs::default();
    let mut it = args.iter();
    let value = |flag: &str, v: Option<&String>| {
        v.cloned().ok_or_else(|| {
            Error::usage(
                format!("`{flag}` needs a value"),
                Some(format!("e.g. `cargo gate run -- {flag} 4`")),
            )
        })
    };
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        match flag {
            "--exact" => out.exact = true,
            "--nocapture" | "--no-capture" | "--show-output" => out.nocapture = true,
            "--ignored" => out.run_ignored = Some(RunIgnored::Only),
            "--include-ignored" => out.run_ignored = Some(RunIgnored::All),
            "--skip" => out.skip.push(match inline {
                Some(v) => v,
                None => value(flag, it.next())?,
            }),
            "--test-threads" => {
                let v = match inline {
                    Some(v) => v,
                    None => value(flag, it.next())?,
                };
                let n = v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    Error::usage(
                        format!("`--test-threads {v}` is not a number of threads"),
                        Some("e.g. `--test-threads 4` (or cargo-gate's own `--jobs 4`)".into()),
                    )
                })?;
                out.test_threads = Some(n);
            }
            other if other.starts_with('-') => {
                return Err(Error::usage(
                    format!("`{a}` is not a test filter, and not a libtest flag cargo-gate passes on"),
                    Some("after `--`, cargo-gate takes libtest's --exact, --nocapture, --ignored, --include-ignored, --skip NAME and --test-threads N; its own options go before `--` (see `cargo gate run --help`)".to_string()),
                ));
            }
            _ => out.filters.push(a.clone()),
        }
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn libtest_flags_after_the_filters_are_honoured() {
        let got = libtest_args(&args(&[
            "parse",
            "--exact",
            "--nocapture",
            "--skip",
            "slow",
            "--test-threads=2",
            "--include-ignored",
        ]))
        .unwrap();
        assert_eq!(
            got,
            LibtestArgs {
                filters: args(&["parse"]),
                exact: true,
                nocapture: true,
                run_ignored: Some(RunIgnored::All),
                test_threads: Some(2),
                skip: args(&["slow"]),
            }
        );
        assert_eq!(
            libtest_args(&args(&["--ignored"])).unwrap().run_ignored,
            Some(RunIgnored::Only)
        );
    }

    #[test]
    fn an_unknown_flag_is_refused_not_taken_as_a_filter() {
        for bad in [
            &["--nocaptur"][..],
            &["--test-threads", "many"],
            &["--skip"],
            &["-q"],
        ] {
            let e = libtest_args(&args(bad)).err();
            assert!(
                e.as_ref()
                    .is_some_and(|e| e.exit_code() == crate::error::EXIT_USAGE),
                "{bad:?}: {e:?}"
            );
        }
        let hint = libtest_args(&args(&["--nocaptur"]))
            .err()
            .and_then(|e| e.hint().map(str::to_string))
            .unwrap_or_default();
        assert!(hint.contains("--nocapture"), "{hint}");
    }
}
