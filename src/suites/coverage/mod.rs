//! The coverage suite: runs the configured coverage command (if any), reads its LCOV file, and
//! measures total and patch coverage. The change for patch coverage is what git says differs
//! between the base and the working tree (untracked files included).

pub mod config;
pub mod lcov;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::config::CoverageConfig;
use crate::exec::process::{self, Exit, Limits};
use crate::model::{Case, CaseStatus, Direction, Metric, Role, Suite, SuiteKind};
use crate::suites::coverage::lcov::{Lcov, Ratio, patch};
use crate::suites::suite;

const ID: &str = "coverage report";

/// Runs the suite. `default_base` is the baseline's base revision (`--baseline-rev`), used when
/// `[coverage] base` is not set.
pub fn run(cfg: &CoverageConfig, ws_root: &Path, default_base: Option<&str>) -> Suite {
    let clock = Instant::now();
    let fail = |message: String, detail: String| {
        suite(
            SuiteKind::Coverage,
            clock.elapsed().as_secs_f64(),
            vec![crate::suites::failed_case(
                ID.to_string(),
                "lcov".to_string(),
                message,
                detail,
            )],
        )
    };
    if let Some(argv) = &cfg.command
        && let Err((message, output)) = run_command(argv, ws_root)
    {
        return fail(message, output);
    }
    let path = ws_root.join(&cfg.lcov);
    let shown = crate::suites::relative(ws_root, &path);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            return fail(
                format!("cannot read {shown}: {e}"),
                "write it first (e.g. `cargo llvm-cov --lcov --output-path target/lcov.info`), or set `[coverage] command` so cargo-gate runs it".to_string(),
            );
        }
    };
    let lcov = match Lcov::parse(&text) {
        Ok(l) => l,
        Err(e) => {
            return fail(
                format!("{shown} is not usable LCOV: {e}"),
                "produce LCOV output (`cargo llvm-cov --lcov`, `grcov --output-type lcov`, `cargo tarpaulin --out Lcov`)".to_string(),
            );
        }
    };
    let root = crate::suites::testrun::affected::canonical(ws_root);
    let lcov = lcov.map_paths(|p| {
        let path = Path::new(p);
        let relative = if path.is_absolute() {
            let canonical = crate::suites::testrun::affected::canonical(path);
            canonical
                .strip_prefix(&root)
                .map(Path::to_path_buf)
                .unwrap_or(canonical)
        } else {
            path.to_path_buf()
        };
        relative.to_string_lossy().replace('\\', "/")
    });
    let (lines, functions, branches) = lcov.totals();
    let mut metrics = Vec::new();
    let mut summary = Vec::new();
    for (name, ratio) in [
        ("lines", lines),
        ("functions", functions),
        ("branches", branches),
    ] {
        if let Some(p) = ratio.percent() {
            // Saved in the notes, so a later run can say how coverage moved.
            metrics.push(percent_metric(&format!("coverage.{name}"), p, Role::Trend));
            summary.push(format!("{name} {}", describe(ratio)));
        }
    }
    let mut detail = Vec::new();
    let base = resolve(ws_root, cfg.base.as_deref().or(default_base));
    if let (Ok((store, base_commit, _)), Some(current)) = (&base, lines.percent())
        && let Some((noted_on, before)) = noted_lines(store, *base_commit)
    {
        let delta = current - before;
        metrics.push(Metric::new(
            "coverage.lines_delta",
            "%",
            Direction::HigherIsBetter,
            Role::Gated,
            vec![delta],
        ));
        // `lines` is the first entry: the change reads right after it.
        if let Some(first) = summary.first_mut() {
            first.push_str(&format!(
                " ({delta:+.1} points vs {before:.1} % on {})",
                store.short(noted_on)
            ));
        }
    }
    let mut regions = Vec::new();
    match base
        .and_then(|(store, commit, name)| changed_lines(ws_root, &store, commit).map(|c| (c, name)))
    {
        Ok((changed, base_name)) => {
            let p = patch(&lcov, &changed);
            // No changed code to cover counts as fully covered, so a docs-only change passes.
            metrics.push(percent_metric(
                "coverage.patch",
                p.ratio.percent().unwrap_or(100.0),
                Role::Gated,
            ));
            metrics.push(Metric::count(
                "coverage.patch_missed",
                usize::try_from(p.ratio.total - p.ratio.hit).unwrap_or(usize::MAX),
            ));
            summary.push(format!(
                "patch {} of the changed lines since {base_name}",
                describe(p.ratio)
            ));
            detail.extend(lcov::missed_listing(&p));
            regions = lcov::missed_regions(&p);
        }
        Err(why) => detail.push(format!("no patch coverage: {why}")),
    }
    let mut case = Case::single(
        ID,
        "lcov",
        CaseStatus::Passed,
        clock.elapsed().as_secs_f64(),
        summary.join(", "),
        String::new(),
    );
    case.attempts.clear();
    case.detail = (!detail.is_empty()).then(|| detail.join("\n"));
    case.regions = regions;
    let mut s = suite(
        SuiteKind::Coverage,
        clock.elapsed().as_secs_f64(),
        vec![case],
    );
    s.metrics = metrics;
    s
}

fn percent_metric(name: &str, value: f64, role: Role) -> Metric {
    Metric::new(name, "%", Direction::HigherIsBetter, role, vec![value])
}

/// `83.4 % (1234 of 1480)`.
fn describe(r: Ratio) -> String {
    match r.percent() {
        Some(p) => format!("{p:.1} % ({} of {})", r.hit, r.total),
        None => "— (nothing instrumented)".to_string(),
    }
}

/// A coverage run builds and runs every test instrumented: slow, but never forever in CI.
const COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3 * 3600);

fn run_command(argv: &[String], root: &Path) -> Result<(), (String, String)> {
    let Some((program, args)) = argv.split_first() else {
        return Err(("`[coverage] command` is empty".to_string(), String::new()));
    };
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(root);
    let limits = Limits {
        tail_bytes: 16 * 1024,
        slow: None,
        timeout: Some(COMMAND_TIMEOUT),
    };
    let shown = argv.join(" ");
    match process::run(cmd, &limits) {
        Ok(o) if o.exit == Exit::Code(0) => Ok(()),
        Ok(o) => Err((format!("`{shown}` failed ({})", o.exit), o.output_text())),
        Err(e) => Err((
            format!("cannot start `{shown}`: {e}"),
            "is the coverage tool installed? (e.g. `cargo install cargo-llvm-cov`)".to_string(),
        )),
    }
}

/// The notes store, the commit changes count from — the merge base of `base` (default: the
/// baseline's base) and HEAD, since changes on the base branch after the fork are not this
/// change's — and how to name it.
fn resolve(
    ws_root: &Path,
    base: Option<&str>,
) -> Result<(crate::baseline::notes::Store, git2::Oid, String), String> {
    let store = crate::baseline::notes::Store::open(ws_root).map_err(|e| e.to_string())?;
    let (base_commit, base_name) =
        crate::baseline::resolve_base(&store, base).map_err(|e| e.to_string())?;
    let base_commit = store
        .resolve("HEAD")
        .ok()
        .and_then(|head| store.merge_base(head, base_commit))
        .unwrap_or(base_commit);
    let name = format!("{base_name} ({})", store.short(base_commit));
    Ok((store, base_commit, name))
}

/// How far back the coverage of the base is looked for in the notes.
const NOTE_DEPTH: usize = 100;

/// `coverage.lines` as noted on the base or its nearest noted first-parent ancestor.
fn noted_lines(store: &crate::baseline::notes::Store, base: git2::Oid) -> Option<(git2::Oid, f64)> {
    store
        .first_parent(base, NOTE_DEPTH)
        .ok()?
        .into_iter()
        .find_map(|commit| {
            let note = store.read(commit).ok()??;
            let (samples, _, _) = note.metric("coverage.lines")?;
            let value = crate::baseline::stats::median(&samples);
            value.is_finite().then_some((commit, value))
        })
}

/// Lines added or changed between `base_commit` and the working tree (untracked files
/// included), by path relative to the workspace root.
fn changed_lines(
    ws_root: &Path,
    store: &crate::baseline::notes::Store,
    base_commit: git2::Oid,
) -> Result<BTreeMap<String, BTreeSet<u32>>, String> {
    let repo = store.repository();
    let workdir = repo
        .workdir()
        .map(crate::suites::testrun::affected::canonical)
        .ok_or("a bare repository has no working tree")?;
    let root = crate::suites::testrun::affected::canonical(ws_root);
    let prefix = root.strip_prefix(&workdir).unwrap_or(Path::new(""));
    let tree = repo
        .find_commit(base_commit)
        .and_then(|c| c.tree())
        .map_err(|e| e.message().to_string())?;
    let mut opts = git2::DiffOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .show_untracked_content(true)
        .context_lines(0);
    let diff = repo
        .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut opts))
        .map_err(|e| e.message().to_string())?;
    let mut changed: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    diff.foreach(
        &mut |_, _| true,
        None,
        None,
        Some(&mut |delta, _hunk, line| {
            if line.origin() == '+'
                && let (Some(path), Some(number)) = (delta.new_file().path(), line.new_lineno())
                && let Ok(rel) = path.strip_prefix(prefix)
            {
                changed
                    .entry(rel.to_string_lossy().replace('\\', "/"))
                    .or_default()
                    .insert(number);
            }
            true
        }),
    )
    .map_err(|e| e.message().to_string())?;
    Ok(changed)
}

/// The coverage suite behind the common interface.
struct CoverageSuite {
    config: CoverageConfig,
}

/// Makes the coverage suite; `--suite coverage` without a `[coverage]` table is a usage error.
pub fn build(
    config: &crate::config::Config,
) -> crate::error::Result<Box<dyn crate::suites::Suite>> {
    let Some(coverage) = &config.coverage else {
        return Err(crate::error::Error::usage(
            "--suite coverage needs a [coverage] table in gate.toml",
            Some(
                "add `[coverage]` with `lcov = \"target/lcov.info\"` (see README, Coverage)"
                    .to_string(),
            ),
        ));
    };
    Ok(Box::new(CoverageSuite {
        config: coverage.clone(),
    }))
}

impl crate::suites::Suite for CoverageSuite {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Coverage
    }

    fn run(&mut self, cx: &mut crate::suites::RunContext<'_>) -> crate::error::Result<Suite> {
        Ok(run(&self.config, &cx.ws.root, cx.baseline_rev))
    }
}
