//! The commands, one file each: each turns parsed arguments into work on the library and an
//! exit code. Nothing below `commands` imports from here.

pub mod baseline;
mod check;
mod comment;
mod history;
mod init;
mod list;
mod merge;
mod proxy;
mod report;
mod run;

use std::io::Write;
use std::path::Path;

use crate::cli::{Cli, Command, SelectArgs};
use crate::config::Config;
use crate::context::load_config;
use crate::error::{EXIT_GATE_FAILED, EXIT_PASS, Error, Result};
use crate::model::{Report, VerdictStatus};
use crate::render::{Format, Renderer};
use crate::suites::testrun::RunOptions;
use crate::suites::testrun::partition::{Partition, Strategy};
use crate::workspace::Workspace;

/// Runs a parsed command line and returns the exit code.
pub fn main(cli: Cli) -> Result<i32> {
    let g = &cli.global;
    let manifest = g.manifest_path.as_deref();
    let config = g.config.as_deref();
    let term_color = std::env::var("CARGO_TERM_COLOR").ok();
    let when = crate::util::color::choose(g.color, term_color.as_deref()).map_err(|m| {
        Error::usage(
            m,
            Some("set CARGO_TERM_COLOR to auto, always or never, or pass --color".to_string()),
        )
    })?;
    crate::util::color::init(when);
    match cli.command {
        Command::Init {
            force,
            no_workflow,
            fork_safe,
            shards,
        } => init::init(
            manifest,
            force,
            (!no_workflow).then_some(init::Workflow { fork_safe, shards }),
        ),
        Command::Check => check::check(manifest, config),
        Command::Run(args) => run::run(manifest, config, args),
        Command::List(args) => list::list(manifest, config, args),
        Command::Report {
            format,
            template,
            output,
            report,
        } => report::report(&report, format, template.as_deref(), output.as_deref()),
        Command::Comment(args) => comment::comment(config, args),
        Command::Proxy { listen, upstream } => proxy::proxy(&listen, &upstream),
        Command::Baseline { action } => baseline::main(manifest, config, action),
        Command::History(args) => history::history(manifest, args),
        Command::Merge {
            profile,
            output,
            reports,
        } => merge::merge(manifest, config, profile, &output, &reports),
    }
}

/// The workspace, its config and the selection `run` and `list` share.
struct Prepared {
    ws: Workspace,
    config: Config,
    opts: RunOptions,
}

fn prepare(
    manifest: Option<&Path>,
    explicit: Option<&Path>,
    select: &SelectArgs,
) -> Result<Prepared> {
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
    let ws = Workspace::load(manifest)?;
    let path = crate::context::config_path(Some(&ws.root), explicit)?;
    let mut config = load_config(path.as_deref(), select.profile.as_deref())?;
    if let Some(r) = select.run_ignored {
        config.tests.run_ignored = r;
    }
    let mut opts = RunOptions {
        packages: select.package.clone(),
        filters: select.filters.clone(),
        skip: select.skip.clone(),
        exact: select.exact,
        partition,
        tty: false,
        affected: None,
        test_times: None,
        partition_basis: None,
    };
    if partition.is_some_and(|p| p.strategy == Strategy::Time) {
        let (times, basis) = test_times_for_partition(&ws);
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
        let (changed, base) = crate::suites::testrun::affected::changed_files(&ws.root, since)?;
        let members = crate::suites::testrun::affected::members(&ws);
        let root = crate::suites::testrun::affected::canonical(&ws.root);
        let packages = crate::suites::testrun::affected::decide(
            &root,
            &members,
            &changed,
            &config.tests.affected_ignore,
        );
        eprintln!(
            "affected since {since} (merge base {base}): {} of {} package(s)",
            packages.len(),
            members.len()
        );
        for (name, reason) in &packages {
            eprintln!("  {name}: {reason}");
        }
        // `--package` narrows the affected set; it never adds to it.
        opts.packages = packages
            .keys()
            .filter(|p| select.package.is_empty() || select.package.contains(p))
            .cloned()
            .collect();
        if opts.packages.is_empty() {
            eprintln!("  no package to test: the tests suite runs nothing");
        } else if !select.package.is_empty() {
            eprintln!("  --package narrows this to: {}", opts.packages.join(", "));
        }
        opts.affected = Some(crate::suites::testrun::Affected {
            since: since.clone(),
            base,
            packages,
        });
    }
    Ok(Prepared { ws, config, opts })
}

/// How far back `--partition time:K/N` looks for recorded test durations.
const TEST_TIMES_DEPTH: usize = 100;

/// The durations `--partition time:K/N` balances by, from the baseline notes; every shard finds
/// the same note, so every shard computes the same split. Without one it splits by count.
fn test_times_for_partition(ws: &Workspace) -> (Option<crate::baseline::note::TestTimes>, String) {
    let found = crate::baseline::notes::Store::open(&ws.root)
        .ok()
        .and_then(|store| {
            let (commit, times) =
                crate::baseline::recorded_test_times(&store, TEST_TIMES_DEPTH).ok()??;
            Some((store.short(commit), times))
        });
    match found {
        Some((commit, times)) => {
            eprintln!(
                "time partition: durations of {} slow test(s) from the note on {commit}; other tests count {}",
                times.slow.len(),
                crate::util::units::format_seconds(times.typical)
            );
            let json = serde_json::to_string(&times).unwrap_or_default();
            let hash = crate::suites::testrun::partition::fnv1a(json.as_bytes());
            (Some(times), format!("note {commit} {hash:016x}"))
        }
        None => {
            eprintln!(
                "time partition: no test durations in the baseline notes of the last {TEST_TIMES_DEPTH} commits before the base; splitting by count (record some with `cargo gate baseline save` after a full run)"
            );
            (None, "none".to_string())
        }
    }
}

fn exit_for(report: &Report) -> i32 {
    match report.verdict.status {
        VerdictStatus::Passed => EXIT_PASS,
        VerdictStatus::Failed => EXIT_GATE_FAILED,
    }
}

fn print_scorecard(renderer: &Renderer, report: &Report) {
    match renderer.render(report, Format::Terminal) {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
        Err(e) => eprintln!("warning: cannot render the scorecard: {e}"),
    }
}

/// Colours on standard output, as `--color` / `CARGO_TERM_COLOR` / the terminal decide.
fn color_stdout() -> bool {
    crate::util::color::stdout()
}
