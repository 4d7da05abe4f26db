//! The commands: each turns parsed arguments into work on the library and an exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::cli::{
    Cli, Command, CommentArgs, ListArgs, ListFormat, ProgressMode, RunArgs, SelectArgs,
};
use crate::config::{self, Config};
use crate::error::{EXIT_GATE_FAILED, EXIT_PASS, Error, Result};
use crate::gate;
use crate::render::{Format, Renderer};
use crate::report::{self, GitInfo, Report, RunInfo, SCHEMA, Verdict, VerdictStatus};
use crate::runner::{self, RunOptions, Unit, partition::Partition, process};
use crate::suites::property::PropertyRun;
use crate::suites::snapshot::SnapshotRun;
use crate::workspace::{Workspace, git_output};

/// Suites this build can run. `snapshots` and `property` are collected from the tests run,
/// so asking for either runs the tests too.
pub const SUITES: &[&str] = &[
    "tests",
    "snapshots",
    "property",
    "bench",
    "infra",
    "chaos",
    "load",
    "coverage",
];

/// Runs a parsed command line and returns the exit code.
pub fn main(cli: Cli) -> Result<i32> {
    let g = &cli.global;
    match cli.command {
        Command::Init { force, no_workflow } => {
            init(g.manifest_path.as_deref(), force, !no_workflow)
        }
        Command::Check => check(g.manifest_path.as_deref(), g.config.as_deref()),
        Command::Run(args) => run(g.manifest_path.as_deref(), g.config.as_deref(), args),
        Command::List(args) => list(g.manifest_path.as_deref(), g.config.as_deref(), args),
        Command::Report {
            format,
            template,
            output,
            report,
        } => render_saved(&report, format, template.as_deref(), output.as_deref()),
        Command::Comment(args) => comment(args),
        Command::Proxy { listen, upstream } => proxy(&listen, &upstream),
        Command::Baseline { action } => {
            crate::baseline_cmd::main(g.manifest_path.as_deref(), g.config.as_deref(), action)
        }
        Command::Merge {
            profile,
            output,
            reports,
        } => merge(
            g.manifest_path.as_deref(),
            g.config.as_deref(),
            profile,
            &output,
            &reports,
        ),
    }
}

/// The config file that applies: `--config`, else `gate.toml` at the workspace root if present.
pub(crate) fn config_path(
    ws_root: Option<&Path>,
    explicit: Option<&Path>,
) -> Result<Option<PathBuf>> {
    if let Some(p) = explicit {
        if !p.is_file() {
            return Err(Error::usage(
                format!("config file {} does not exist", p.display()),
                Some(
                    "pass an existing gate.toml to --config, or create one with `cargo gate init`"
                        .to_string(),
                ),
            ));
        }
        return Ok(Some(p.to_path_buf()));
    }
    Ok(ws_root
        .map(|r| r.join(config::FILE_NAME))
        .filter(|p| p.is_file()))
}

pub(crate) fn load_config(path: Option<&Path>, profile: Option<&str>) -> Result<Config> {
    match path {
        Some(p) => Config::load(&relative(p), profile),
        None => Config::defaults(profile),
    }
}

/// Paths in messages are shown relative to the current directory when they are under it,
/// so `gate.toml:3:1` reads like a compiler message.
pub(crate) fn relative(p: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| p.to_path_buf())
}

/// The GitHub Actions workflow `cargo gate init` writes.
pub const STARTER_WORKFLOW: &str = include_str!("../templates/workflow.yml");

fn init(manifest: Option<&Path>, force: bool, workflow: bool) -> Result<i32> {
    let ws = Workspace::load(manifest)?;
    let mut files = vec![(ws.root.join(config::FILE_NAME), config::STARTER)];
    if workflow {
        files.push((ws.root.join(".github/workflows/gate.yml"), STARTER_WORKFLOW));
    }
    // Check every file first, so a refusal writes nothing.
    for (path, _) in &files {
        if path.exists() && !force {
            return Err(Error::usage(
                format!("{} already exists", relative(path).display()),
                Some("pass --force to overwrite, --no-workflow to leave the workflow out, or edit the file and run `cargo gate check`".to_string()),
            ));
        }
    }
    for (path, text) in &files {
        crate::fsutil::write_atomic(path, text.as_bytes())?;
        println!("wrote {}", relative(path).display());
    }
    println!("next: `cargo gate check`, then `cargo gate run`");
    Ok(EXIT_PASS)
}

fn check(manifest: Option<&Path>, explicit: Option<&Path>) -> Result<i32> {
    let root = if explicit.is_some() {
        None
    } else {
        Some(Workspace::load(manifest)?.root)
    };
    match config_path(root.as_deref(), explicit)? {
        None => {
            println!(
                "no {} found: the defaults apply ({})",
                config::FILE_NAME,
                config::DEFAULT_FAIL_RULES.join(", ")
            );
        }
        Some(path) => {
            let configs = Config::check_all(&relative(&path))?;
            for c in &configs {
                println!(
                    "{}: profile `{}` ok: {} rule(s)",
                    relative(&path).display(),
                    c.profile,
                    c.rules.len()
                );
            }
        }
    }
    Ok(EXIT_PASS)
}

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
    let path = config_path(Some(&ws.root), explicit)?;
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
    if partition.is_some_and(|p| p.strategy == crate::runner::partition::Strategy::Time) {
        let (times, basis) = test_times_for_partition(&ws);
        opts.test_times = times;
        opts.partition_basis = Some(basis);
    }
    if let Some(since) = &select.affected_since {
        let (changed, base) = crate::affected::changed_files(&ws.root, since)?;
        let members = crate::affected::members(&ws);
        let root = crate::affected::canonical(&ws.root);
        let packages =
            crate::affected::decide(&root, &members, &changed, &config.tests.affected_ignore);
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
        opts.affected = Some(runner::Affected {
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
                crate::units::format_seconds(times.typical)
            );
            let json = serde_json::to_string(&times).unwrap_or_default();
            let hash = crate::runner::partition::fnv1a(json.as_bytes());
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

fn run(manifest: Option<&Path>, explicit: Option<&Path>, args: RunArgs) -> Result<i32> {
    for s in &args.suite {
        if !SUITES.contains(&s.as_str()) {
            return Err(Error::usage(
                format!("unknown suite `{s}`"),
                Some(format!("available suites: {}", SUITES.join(", "))),
            ));
        }
    }
    if args.jobs == Some(0) {
        return Err(Error::usage("--jobs must be at least 1", None));
    }
    let Prepared {
        ws,
        mut config,
        mut opts,
    } = prepare(manifest, explicit, &args.select)?;
    let tests = &mut config.tests;
    if let Some(j) = args.jobs {
        tests.jobs = Some(j);
    }
    if let Some(r) = args.retries {
        tests.retries = r;
    }
    if args.fail_fast {
        tests.fail_fast = true;
    }
    if args.no_fail_fast {
        tests.fail_fast = false;
    }
    if args.no_doctests {
        tests.doctests = false;
    }
    opts.tty = match args.progress {
        ProgressMode::Auto => std::io::stderr().is_terminal(),
        ProgressMode::Bar => true,
        ProgressMode::Lines => false,
    };
    let renderer = Renderer::new(args.template.as_deref(), color_stdout())?;
    let out_dir = args.out_dir.clone().unwrap_or_else(|| ws.out_dir());
    process::install_signal_handler();

    let started = chrono::Utc::now();
    let clock = std::time::Instant::now();
    // A suite runs when it is configured, or when `--suite` names it.
    // Only the tests (and what is collected from them) are split by --partition; the other
    // suites would repeat the same work on every shard and collide in `merge`, so shard 1 alone
    // runs them unless --suite names them.
    let later_shard = opts.partition.is_some_and(|p| p.shard > 1);
    if later_shard && args.suite.is_empty() {
        eprintln!(
            "partition shard > 1: only the tests run here; shard 1 runs the other configured suites"
        );
    }
    let pick = |name: &str, configured: bool| {
        if args.suite.is_empty() {
            configured && (!later_shard || matches!(name, "tests" | "snapshots" | "property"))
        } else {
            args.suite.iter().any(|s| s == name)
        }
    };
    let snapshots_on = pick(
        "snapshots",
        config
            .snapshots
            .enabled
            .unwrap_or_else(|| crate::suites::workspace_uses(&ws, "insta")),
    );
    let property_on = pick(
        "property",
        config
            .property
            .enabled
            .unwrap_or_else(|| crate::suites::workspace_uses(&ws, "proptest")),
    );
    // Snapshots and properties are collected from the tests run, so they need it.
    let tests_on = pick("tests", config.tests.enabled) || snapshots_on || property_on;
    let mut suites = Vec::new();
    if tests_on {
        suites.extend(run_tests(
            &ws,
            &mut config,
            &opts,
            &out_dir,
            snapshots_on,
            property_on,
        )?);
    }
    if pick("bench", config.bench.enabled) && !process::is_cancelled() {
        suites.push(crate::suites::bench::run(
            &config.bench,
            &ws.root,
            &ws.target_dir,
        ));
    }
    if pick("coverage", config.coverage.is_some()) && !process::is_cancelled() {
        let Some(coverage) = &config.coverage else {
            return Err(Error::usage(
                "--suite coverage needs a [coverage] table in gate.toml",
                Some(
                    "add `[coverage]` with `lcov = \"target/lcov.info\"` (see README, Coverage)"
                        .to_string(),
                ),
            ));
        };
        suites.push(crate::suites::coverage::run(
            coverage,
            &ws.root,
            args.baseline_rev.as_deref(),
        ));
    }
    let infra_on = pick(
        "infra",
        !config.checks.is_empty() || !config.services.is_empty(),
    );
    let chaos_on = pick("chaos", !config.chaos.is_empty());
    let load_on = pick("load", !config.load.is_empty());
    suites.extend(run_environment_suites(
        &ws, &config, infra_on, chaos_on, load_on,
    )?);
    let mut report = Report {
        schema: SCHEMA,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        run: RunInfo {
            id: run_id(),
            started: started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            duration: clock.elapsed().as_secs_f64(),
            git: GitInfo {
                sha: std::env::var("GITHUB_SHA")
                    .ok()
                    .or_else(|| git_output(&ws.root, &["rev-parse", "HEAD"])),
                branch: std::env::var("GITHUB_HEAD_REF")
                    .ok()
                    .filter(|b| !b.is_empty())
                    .or_else(|| git_output(&ws.root, &["rev-parse", "--abbrev-ref", "HEAD"])),
                base: std::env::var("GITHUB_BASE_REF")
                    .ok()
                    .filter(|b| !b.is_empty()),
            },
            host: hostname(),
            profile: config.profile.clone(),
            partition: opts.partition.map(|p| p.to_string()),
            partition_basis: opts.partition_basis.clone(),
            affected: opts.affected.as_ref().map(|a| crate::report::AffectedInfo {
                since: a.since.clone(),
                base: a.base.clone(),
                packages: opts.packages.clone(),
            }),
            merged_from: Vec::new(),
            interrupted: process::is_cancelled(),
            root_in_repo: git_output(&ws.root, &["rev-parse", "--show-prefix"])
                .map(|p| p.trim_end_matches('/').to_string())
                .or_else(|| {
                    git_output(&ws.root, &["rev-parse", "--git-dir"]).map(|_| String::new())
                }),
            github: {
                let (env, event) = crate::github::context::read_env();
                crate::github::context::run_record(&env, &event)
            },
        },
        suites,
        comparisons: Vec::new(),
        baseline_note: None,
        gates: Vec::new(),
        verdict: Verdict {
            status: VerdictStatus::Failed,
            reasons: Vec::new(),
        },
    };
    attach_baseline(&mut report, &ws.root, &config, &args);
    gate::apply(&mut report, &config.rules);
    let written = write_outputs(&report, &renderer, &out_dir);
    print_scorecard(&renderer, &report);
    match written {
        Ok(()) => {
            eprintln!("reports written to {}", relative(&out_dir).display());
            Ok(exit_for(&report))
        }
        // A failed gate stays a failed gate (exit 1) even when an output cannot be written;
        // a passing gate whose outputs are missing is an internal error (exit 3).
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("  help: {hint}");
            }
            Ok(match report.verdict.status {
                VerdictStatus::Failed => EXIT_GATE_FAILED,
                VerdictStatus::Passed => crate::error::EXIT_INTERNAL,
            })
        }
    }
}

/// The tests suite, with the snapshot and property suites collected from it.
fn run_tests(
    ws: &Workspace,
    config: &mut Config,
    opts: &RunOptions,
    out_dir: &Path,
    snapshots_on: bool,
    property_on: bool,
) -> Result<Vec<crate::report::Suite>> {
    // Unreferenced snapshots can only be told apart when every test ran.
    let full_run = opts.filters.is_empty()
        && opts.skip.is_empty()
        && opts.packages.is_empty()
        && opts.partition.is_none();
    let skip_dirs = [ws.target_dir.clone(), out_dir.to_path_buf()];
    let mut extra_env = Vec::new();
    let snapshot_run = snapshots_on.then(|| {
        let (run, env) = SnapshotRun::start(
            &ws.root,
            &ws.target_dir,
            out_dir,
            &config.snapshots,
            full_run,
        );
        extra_env.extend(env);
        run
    });
    let property_run = property_on.then(|| {
        extra_env.extend(crate::suites::property::env(&config.property));
        PropertyRun::start(&ws.root, &skip_dirs, &config.property)
    });
    for (k, v) in extra_env {
        // The user's own [tests.env] wins.
        config.tests.env.entry(k).or_insert(v);
    }
    let tests = runner::run(ws, &config.tests, opts)?;
    let mut suites = Vec::new();
    if let Some(run) = snapshot_run {
        suites.push(run.finish(out_dir, &ws.target_dir, tests.duration));
    }
    if let Some(run) = property_run {
        suites.push(run.finish(&tests, out_dir));
    }
    suites.insert(0, tests);
    Ok(suites)
}

/// Checks, experiments and load, with services and proxies up around them (and always stopped).
fn run_environment_suites(
    ws: &Workspace,
    config: &Config,
    infra_on: bool,
    chaos_on: bool,
    load_on: bool,
) -> Result<Vec<crate::report::Suite>> {
    let mut suites = Vec::new();
    if process::is_cancelled() {
        return Ok(suites);
    }
    let needs_environment = infra_on || chaos_on || (load_on && !config.services.is_empty());
    let env = if needs_environment {
        let mut env = crate::suites::infra::Environment::start(config, &ws.root)?;
        suites.push(env.checks(config, &ws.root));
        if chaos_on && !process::is_cancelled() {
            suites.push(env.chaos(config, &ws.root));
        }
        Some(env)
    } else {
        None
    };
    if load_on && !process::is_cancelled() {
        suites.push(crate::suites::load::run(
            &config.load,
            &config.rules,
            &ws.root,
            true,
        ));
    }
    if let Some(env) = env {
        env.stop();
    }
    Ok(suites)
}

/// Compares the run's performance metrics with the baseline in git notes; says why not when it
/// cannot (the rules on regressions are then skipped, never silently passed).
fn attach_baseline(report: &mut Report, root: &Path, config: &Config, args: &RunArgs) {
    if crate::baseline::perf_metrics(report).is_empty() {
        return;
    }
    // Without benchmarks and without any saved note, the team does not use baselines: a table
    // of one "new" test duration on every run would only be noise.
    let has_bench = report.suite(crate::report::SuiteKind::Bench).is_some()
        || report.suite(crate::report::SuiteKind::Load).is_some();
    let has_notes =
        crate::baseline::notes::Store::open(root).is_ok_and(|s| s.notes_tip().is_some());
    if !has_bench && !has_notes {
        return;
    }
    let why_not = if args.no_baseline {
        Some("baseline comparison is off (--no-baseline)".to_string())
    } else if !config.baseline.enabled {
        Some("baseline comparison is off in gate.toml".to_string())
    } else {
        None
    };
    if let Some(reason) = why_not {
        report.baseline_note = Some(reason);
        return;
    }
    let result = crate::baseline::notes::Store::open(root).and_then(|store| {
        let (base, how) = crate::baseline::resolve_base(&store, args.baseline_rev.as_deref())?;
        let (comparisons, warnings) =
            crate::baseline::compare_report(&store, report, base, &config.baseline)?;
        Ok((comparisons, warnings, how))
    });
    match result {
        Ok((comparisons, warnings, how)) => {
            for w in warnings {
                eprintln!("warning: {w}");
            }
            if comparisons.iter().all(|c| c.baseline_rev.is_none()) {
                report.baseline_note = Some(format!(
                    "no baseline: no note within {} commits of {how} (save one with `cargo gate baseline save` on the default branch)",
                    config.baseline.max_depth
                ));
            }
            report.comparisons = comparisons;
        }
        Err(e) => {
            report.baseline_note = Some(format!("no baseline: {e}"));
            report.comparisons = crate::baseline::all_new(report);
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

/// Writes report.json first (the source of truth), then the renderings.
fn write_outputs(report: &Report, renderer: &Renderer, dir: &Path) -> Result<()> {
    report.write(&dir.join("report.json"))?;
    let outputs = [
        ("junit.xml", Format::Junit),
        ("summary.md", Format::Markdown),
        ("report.html", Format::Html),
    ];
    for (name, format) in outputs {
        let text = renderer.render(report, format)?;
        crate::fsutil::write_atomic(&dir.join(name), text.as_bytes())?;
    }
    Ok(())
}

fn list(manifest: Option<&Path>, explicit: Option<&Path>, args: ListArgs) -> Result<i32> {
    let Prepared { ws, config, opts } = prepare(manifest, explicit, &args.select)?;
    process::install_signal_handler();
    let plan = match runner::plan(&ws, &config.tests, &opts)? {
        Ok(p) => p,
        Err(errors) => {
            return Err(Error::usage(
                format!("the tests do not compile:\n{}", errors.join("\n")),
                Some("fix the build errors shown above".to_string()),
            ));
        }
    };
    let mut entries: Vec<serde_json::Value> = Vec::new();
    for u in &plan.units {
        let (kind, ignored) = match u {
            Unit::Test { ignored, .. } => ("test", *ignored),
            Unit::Doc { .. } => ("doctests", false),
        };
        entries.push(
            serde_json::json!({"id": u.id(), "kind": kind, "ignored": ignored, "runs": true}),
        );
    }
    for c in &plan.skipped {
        entries
            .push(serde_json::json!({"id": c.id, "kind": "test", "ignored": true, "runs": false}));
    }
    entries.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    // What the other suites would run, in the order they run.
    let others = config
        .services
        .iter()
        .map(|s| ("service", &s.name))
        .chain(config.checks.iter().map(|c| ("check", &c.name)))
        .chain(config.chaos.iter().map(|c| ("chaos", &c.name)))
        .chain(config.load.iter().map(|l| ("load", &l.name)));
    for (kind, name) in others {
        entries.push(serde_json::json!({"id": format!("{kind} {name}"), "kind": kind, "ignored": false, "runs": true}));
    }
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        ListFormat::Json => writeln!(out, "{}", serde_json::Value::Array(entries)),
        ListFormat::Human => {
            let mut r = Ok(());
            for e in &entries {
                let id = e["id"].as_str().unwrap_or("");
                let mark = match (e["kind"].as_str(), e["runs"].as_bool()) {
                    (Some("doctests"), _) => "  (all doctests of the package)",
                    (Some("service" | "check" | "chaos" | "load"), _) => "",
                    (_, Some(false)) => "  (skipped: ignored)",
                    _ if e["ignored"].as_bool() == Some(true) => "  (ignored, runs)",
                    _ => "",
                };
                r = r.and_then(|()| writeln!(out, "{id}{mark}"));
            }
            let runs = entries
                .iter()
                .filter(|e| e["runs"].as_bool() == Some(true))
                .count();
            r.and_then(|()| {
                writeln!(
                    out,
                    "{runs} unit(s) would run, {} skipped",
                    plan.skipped.len()
                )
            })
        }
    };
    written.map_err(|e| Error::io("cannot write to standard output", e))?;
    Ok(EXIT_PASS)
}

fn render_saved(
    path: &Path,
    format: Format,
    template: Option<&Path>,
    output: Option<&Path>,
) -> Result<i32> {
    let report = Report::read(path)?;
    let renderer = Renderer::new(
        template,
        format == Format::Terminal && output.is_none() && color_stdout(),
    )?;
    let text = renderer.render(&report, format)?;
    match output {
        Some(o) => crate::fsutil::write_atomic(o, text.as_bytes())?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| Error::io("cannot write to standard output", e))?;
        }
    }
    Ok(EXIT_PASS)
}

fn merge(
    manifest: Option<&Path>,
    explicit: Option<&Path>,
    profile: Option<String>,
    output: &Path,
    paths: &[PathBuf],
) -> Result<i32> {
    let mut reports = Vec::new();
    for p in paths {
        reports.push((p.display().to_string(), Report::read(p)?));
    }
    let profile = profile.or_else(|| reports.first().map(|(_, r)| r.run.profile.clone()));
    let mut merged = report::merge(reports)?;
    // Merging happens in a publish job that may have no Cargo workspace: the config is optional.
    let root = match manifest {
        Some(m) => Some(Workspace::load(Some(m))?.root),
        None => find_upwards(config::FILE_NAME).and_then(|p| p.parent().map(Path::to_path_buf)),
    };
    let config = load_config(
        config_path(root.as_deref(), explicit)?.as_deref(),
        profile.as_deref(),
    )?;
    merged.run.profile = config.profile.clone();
    gate::apply(&mut merged, &config.rules);
    merged.write(output)?;
    let renderer = Renderer::new(None, color_stdout())?;
    print_scorecard(&renderer, &merged);
    eprintln!("merged {} report(s) into {}", paths.len(), output.display());
    Ok(exit_for(&merged))
}

/// Colours on standard output when it is a terminal and NO_COLOR is not set.
fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn proxy(listen: &str, upstream: &str) -> Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the proxy runtime", e))?;
    process::install_signal_handler();
    runtime.block_on(async {
        let p = crate::infra::proxy::Proxy::start(listen, upstream)
            .await
            .map_err(|e| Error::usage(format!("cannot proxy {listen} → {upstream}: {e}"), None))?;
        eprintln!("proxying {} → {upstream} (Ctrl-C to stop)", p.addr);
        while !process::is_cancelled() {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        Ok(EXIT_PASS)
    })
}

fn comment(args: CommentArgs) -> Result<i32> {
    let report_path = match (&args.from_artifact, &args.report) {
        (Some(dir), _) => dir.join("report.json"),
        (None, Some(p)) => p.clone(),
        (None, None) => PathBuf::from("target/gate/report.json"),
    };
    let report = Report::read(&report_path)?;
    let (env, event) = crate::github::context::read_env();
    let ctx = crate::github::context::from_env(&env, &event).map_err(|m| {
        Error::usage(
            m,
            Some("`cargo gate comment` publishes from GitHub Actions; locally, use `cargo gate report --format markdown`".to_string()),
        )
    })?;
    let renderer = Renderer::new(args.template.as_deref(), false)?;
    let backoff = std::env::var("CARGO_GATE_GITHUB_BACKOFF_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(
            std::time::Duration::from_secs(1),
            std::time::Duration::from_millis,
        );
    let opts = crate::github::PublishOptions {
        sticky: crate::github::sticky::StickyOptions {
            id: args.id.clone().unwrap_or_else(|| ctx.default_id.clone()),
            previous: args.previous,
            delete_on_pass: args.delete_on_pass,
            author: args.author.clone(),
        },
        comment: !args.no_comment,
        check_run: !args.no_check_run,
        check_name: args.check_name.clone(),
        summary: !args.no_summary,
        annotations: !args.no_annotations,
        from_artifact: args.from_artifact.is_some(),
        report_path: std::fs::canonicalize(&report_path).unwrap_or(report_path.clone()),
        backoff,
    };
    // The token is read here and handed to the client only; it is never printed or stored.
    let token = std::env::var("GITHUB_TOKEN").ok();
    let outcome = crate::github::publish(&report, &renderer, &opts, &ctx, &env, token.as_deref())?;
    for line in &outcome.done {
        eprintln!("cargo-gate: {line}");
    }
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    Ok(match report.verdict.status {
        // The gate's verdict is never hidden by a publishing problem.
        VerdictStatus::Failed => EXIT_GATE_FAILED,
        VerdictStatus::Passed if args.strict_publish && !outcome.warnings.is_empty() => {
            crate::error::EXIT_INTERNAL
        }
        VerdictStatus::Passed => EXIT_PASS,
    })
}

pub(crate) fn find_upwards(name: &str) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors().map(|d| d.join(name)).find(|p| p.is_file())
}

fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}-{:x}", nanos, std::process::id())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}
