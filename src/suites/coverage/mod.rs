//! The coverage suite: runs the configured coverage command (if any), reads its LCOV file, and
//! measures total and patch coverage. The change for patch coverage is what git says differs
//! between the base and the working tree (untracked files included).

pub mod config;
pub mod lcov;
pub mod paths;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::config::CoverageConfig;
use crate::exec::process::{self, Exit, Limits};
use crate::model::{
    Case, CaseStatus, CoverageFile, CoverageSummary, CoverageTotals, Direction, Metric, Role,
    Suite, SuiteKind,
};
use crate::suites::coverage::lcov::{Lcov, Ratio, patch};
use crate::suites::suite;

const ID: &str = "coverage report";

/// Why the suite could not measure: the case's message and what to do.
type Failure = (String, String);

/// What the run measured, gathered step by step into the suite's case, metrics and summary.
#[derive(Default)]
struct Measured {
    metrics: Vec<Metric>,
    /// Phrases of the case's message (`lines 80.00 %`, `patch …`).
    summary: Vec<String>,
    /// Lines of the case's detail (why no patch coverage, what was left out).
    detail: Vec<String>,
    regions: Vec<crate::model::Region>,
    files: Vec<(String, lcov::FilePatch)>,
    patch: Option<CoverageTotals>,
    /// The base's noted coverage: its commit and totals.
    noted_base: Option<(String, Option<CoverageTotals>)>,
}

/// Runs the suite. `default_base` is the baseline's base revision (`--baseline-rev`), used when
/// `[coverage] base` is not set.
pub fn run(cfg: &CoverageConfig, ws_root: &Path, default_base: Option<&str>) -> Suite {
    let clock = Instant::now();
    let elapsed = || clock.elapsed().as_secs_f64();
    let fail = |(message, detail): Failure| {
        let case = crate::suites::failed_case(ID.to_string(), "lcov".to_string(), message, detail);
        suite(SuiteKind::Coverage, elapsed(), vec![case])
    };
    if let Some(argv) = &cfg.command
        && let Err(failure) = run_command(argv, ws_root)
    {
        return fail(failure);
    }
    // The repository is opened once: for the path mapping, the base and the change.
    let store = crate::baseline::notes::Store::open(ws_root).map_err(|e| e.to_string());
    let (lcov, outside, gone) = match read(cfg, ws_root, store.as_ref().ok()) {
        Ok(read) => read,
        Err(failure) => return fail(failure),
    };
    let mode = cfg.partials;
    let (lines, _, _) = lcov.totals();
    let mut m = Measured::default();
    measure_totals(&lcov, mode, &mut m);
    let base = store.and_then(|store| resolve(store, cfg.base.as_deref().or(default_base)));
    if let (Ok((store, base_commit, _)), Some(current)) = (&base, lines.percent_with(mode)) {
        compare_with_base(store, *base_commit, current, &mut m);
    }
    let changed = base.and_then(|(store, commit, name)| {
        changed_lines(ws_root, &store, commit).map(|c| (c, name))
    });
    match changed {
        Ok((changed, base_name)) => measure_patch(&lcov, &changed, &base_name, mode, &mut m),
        Err(why) => {
            let why = format!("no patch coverage: {why}");
            if cfg.patch_without_base == config::NoBase::Fail {
                m.metrics.push(Metric::unmeasured(
                    "coverage.patch",
                    "%",
                    Direction::HigherIsBetter,
                    format!(
                        "{why} — fetch the base (actions/checkout with `fetch-depth: 0`), or set [coverage] patch_without_base = \"skip\""
                    ),
                ));
            }
            m.detail.push(why);
        }
    }
    if !outside.is_empty() || !gone.is_empty() {
        m.detail.push(left_out(&outside, &gone));
    }
    if !lcov.unknown.is_empty() {
        let tags: Vec<String> = lcov
            .unknown
            .iter()
            .map(|(t, n)| format!("{t} ×{n}"))
            .collect();
        m.detail
            .push(format!("record types not used: {}", tags.join(", ")));
    }
    let mut case = Case::single(
        ID,
        "lcov",
        CaseStatus::Passed,
        elapsed(),
        m.summary.join(", "),
        String::new(),
    );
    case.attempts.clear();
    case.detail = (!m.detail.is_empty()).then(|| m.detail.join("\n"));
    case.regions = m.regions;
    let mut s = suite(SuiteKind::Coverage, elapsed(), vec![case]);
    s.metrics = m.metrics;
    let (base_rev, base_totals) = m.noted_base.unzip();
    s.details = crate::model::Details::Coverage(CoverageSummary {
        head: totals(lcov.files.len() as u64, lines, mode),
        base: base_totals.flatten(),
        base_rev,
        patch: m.patch,
        files: m
            .files
            .into_iter()
            .map(|(file, fp)| CoverageFile {
                file,
                hits: fp.ratio.hit,
                partials: fp.ratio.partial,
                total: fp.ratio.total,
                missed: lcov::ranges(&fp.missed),
                partial_lines: lcov::ranges(&fp.partial),
            })
            .collect(),
    });
    s
}

/// The LCOV file read, parsed and mapped onto the workspace's files, with the paths it named
/// outside the workspace and those that no longer exist.
fn read(
    cfg: &CoverageConfig,
    ws_root: &Path,
    store: Option<&crate::baseline::notes::Store>,
) -> Result<(Lcov, Vec<String>, Vec<String>), Failure> {
    let path = ws_root.join(&cfg.lcov);
    let shown = crate::suites::relative(ws_root, &path);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        (
            format!("cannot read {shown}: {e}"),
            "write it first (e.g. `cargo llvm-cov --lcov --output-path target/lcov.info`), or set `[coverage] command` so cargo-gate runs it".to_string(),
        )
    })?;
    let lcov = Lcov::parse(&text).map_err(|e| {
        (
            format!("{shown} is not usable LCOV: {e}"),
            "produce LCOV output (`cargo llvm-cov --lcov`, `grcov --output-type lcov`, `cargo tarpaulin --out Lcov`)".to_string(),
        )
    })?;
    let repo_root = store.and_then(|s| s.repository().workdir().map(Path::to_path_buf));
    let mapper = paths::Mapper::new(ws_root, repo_root.as_deref(), &cfg.fixes);
    let mut outside = Vec::new();
    let mut gone = Vec::new();
    let lcov = lcov.map_paths(|p| match mapper.map(p) {
        paths::Mapped::File(f) => Some(f),
        paths::Mapped::Outside(f) => {
            outside.push(f);
            None
        }
        paths::Mapped::Gone(f) => {
            gone.push(f);
            None
        }
    });
    if lcov.files.is_empty() {
        let named = outside
            .iter()
            .chain(&gone)
            .take(3)
            .cloned()
            .collect::<Vec<_>>();
        return Err((
            format!("{shown} names no file of this workspace"),
            format!(
                "its records are for {} (and {} more); map its paths with [coverage] fixes = [\"before::after\"], e.g. fixes = [\"/build/::\"]",
                named.join(", "),
                (outside.len() + gone.len()).saturating_sub(named.len())
            ),
        ));
    }
    if lcov.totals().0.total == 0 {
        // Nothing instrumented: a figure of it would read 100 % (or be skipped) and pass.
        return Err((
            format!(
                "{shown} measured no line: its records for {} file(s) hold no `DA:` line",
                lcov.files.len()
            ),
            "the coverage run produced no line data: check the tool's output (`cargo llvm-cov --lcov` runs the tests; a run that failed or ran nothing leaves records without lines)".to_string(),
        ));
    }
    Ok((lcov, outside, gone))
}

/// The whole code's figures: percentages (saved to follow their trend) and the counts behind
/// them (the comment's base → head table reads them).
fn measure_totals(lcov: &Lcov, mode: config::Partials, m: &mut Measured) {
    let (lines, functions, branches) = lcov.totals();
    for (name, ratio) in [
        ("lines", lines),
        ("functions", functions),
        ("branches", branches),
    ] {
        if let Some(p) = ratio.percent_with(mode) {
            m.metrics
                .push(percent_metric(&format!("coverage.{name}"), p, Role::Trend));
            m.summary.push(format!("{name} {}", describe(ratio, mode)));
        }
    }
    for (name, value) in [
        ("coverage.files", lcov.files.len() as u64),
        ("coverage.hits", lines.hit),
        ("coverage.partials", lines.partial),
        ("coverage.misses", lines.missed()),
    ] {
        m.metrics.push(Metric::new(
            name,
            "count",
            Direction::HigherIsBetter,
            Role::Trend,
            vec![value as f64],
        ));
    }
}

/// How line coverage moved since the newest noted run of the base, when the notes hold one.
fn compare_with_base(
    store: &crate::baseline::notes::Store,
    base_commit: git2::Oid,
    current: f64,
    m: &mut Measured,
) {
    let Some((noted_on, before, base_totals)) = noted_lines(store, base_commit) else {
        return;
    };
    m.noted_base = Some((store.short(noted_on), base_totals));
    let delta = current - before;
    m.metrics.push(Metric::new(
        "coverage.lines_delta",
        "%",
        Direction::HigherIsBetter,
        Role::Gated,
        vec![delta],
    ));
    // `lines` is the first entry: the change reads right after it.
    if let Some(first) = m.summary.first_mut() {
        first.push_str(&format!(
            " ({delta:+.2} points vs {before:.2} % on {})",
            store.short(noted_on)
        ));
    }
}

/// Coverage of the lines the change touched.
fn measure_patch(
    lcov: &Lcov,
    changed: &std::collections::BTreeMap<String, std::collections::BTreeSet<u32>>,
    base_name: &str,
    mode: config::Partials,
    m: &mut Measured,
) {
    let p = patch(lcov, changed);
    if p.no_matching_paths() {
        let why = format!(
            "no patch coverage: none of the changed Rust files has a coverage record ({}); the LCOV file's paths do not match this workspace's — map them with [coverage] fixes = [\"before::after\"]",
            p.unrecorded
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
        m.metrics.push(Metric::unmeasured(
            "coverage.patch",
            "%",
            Direction::HigherIsBetter,
            why.clone(),
        ));
        m.detail.push(why);
        return;
    }
    // No changed code to cover counts as fully covered, so a docs-only change passes.
    m.metrics.push(percent_metric(
        "coverage.patch",
        p.ratio.percent_with(mode).unwrap_or(100.0),
        Role::Gated,
    ));
    m.metrics.push(Metric::count(
        "coverage.patch_missed",
        usize::try_from(p.ratio.missed()).unwrap_or(usize::MAX),
    ));
    m.summary.push(format!(
        "patch {} of the changed lines since {base_name}",
        describe(p.ratio, mode)
    ));
    m.regions = lcov::missed_regions(&p);
    m.patch = Some(totals(p.files.len() as u64, p.ratio, mode));
    m.files = p.files.into_iter().collect();
}

fn totals(files: u64, r: Ratio, mode: config::Partials) -> CoverageTotals {
    CoverageTotals {
        files,
        lines: r.total,
        hits: r.hit,
        partials: r.partial,
        misses: r.missed(),
        percent: r.percent_with(mode).unwrap_or(100.0),
    }
}

/// `left out 2 files outside the workspace: …; 1 file no longer in the tree: …`.
fn left_out(outside: &[String], gone: &[String]) -> String {
    let list = |v: &[String]| {
        let shown: Vec<&str> = v.iter().take(5).map(String::as_str).collect();
        let more = v.len().saturating_sub(shown.len());
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!("{}{tail}", shown.join(", "))
    };
    let files = |n: usize| if n == 1 { "file" } else { "files" };
    let mut parts = Vec::new();
    if !outside.is_empty() {
        parts.push(format!(
            "{} {} outside the workspace: {}",
            outside.len(),
            files(outside.len()),
            list(outside)
        ));
    }
    if !gone.is_empty() {
        parts.push(format!(
            "{} {} no longer in the tree: {}",
            gone.len(),
            files(gone.len()),
            list(gone)
        ));
    }
    format!("left out of the totals: {}", parts.join("; "))
}

fn percent_metric(name: &str, value: f64, role: Role) -> Metric {
    Metric::new(name, "%", Direction::HigherIsBetter, role, vec![value])
}

/// `83.42 % (1234 of 1480)`, and the partial lines when there are any.
fn describe(r: Ratio, mode: config::Partials) -> String {
    match r.percent_with(mode) {
        Some(p) => {
            let partial = if r.partial > 0 {
                format!(", {} partial", r.partial)
            } else {
                String::new()
            };
            format!("{p:.2} % ({} of {}{partial})", r.covered(mode), r.total)
        }
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
    store: crate::baseline::notes::Store,
    base: Option<&str>,
) -> Result<(crate::baseline::notes::Store, git2::Oid, String), String> {
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

/// `coverage.lines` as noted on the base or its nearest noted first-parent ancestor, with the
/// counts behind it when that note has them (notes saved before they were recorded do not).
fn noted_lines(
    store: &crate::baseline::notes::Store,
    base: git2::Oid,
) -> Option<(git2::Oid, f64, Option<CoverageTotals>)> {
    store
        .first_parent(base, NOTE_DEPTH)
        .ok()?
        .into_iter()
        .find_map(|commit| {
            let note = store.read(commit).ok()??;
            let value_of = |name: &str| {
                let (samples, _, _) = note.metric(name)?;
                let v = crate::baseline::stats::median(&samples);
                v.is_finite().then_some(v)
            };
            let value = value_of("coverage.lines")?;
            let count = |name: &str| value_of(name).map(|v| v.max(0.0) as u64);
            let counts = (|| {
                let (hits, partials, misses) = (
                    count("coverage.hits")?,
                    count("coverage.partials")?,
                    count("coverage.misses")?,
                );
                Some(CoverageTotals {
                    files: count("coverage.files")?,
                    lines: hits + partials + misses,
                    hits,
                    partials,
                    misses,
                    percent: value,
                })
            })();
            Some((commit, value, counts))
        })
}

/// Lines added or changed between `base_commit` and the working tree (untracked files
/// included), by path relative to the workspace root.
fn changed_lines(
    ws_root: &Path,
    store: &crate::baseline::notes::Store,
    base_commit: git2::Oid,
) -> Result<BTreeMap<String, BTreeSet<u32>>, String> {
    let mut changed: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    crate::baseline::change::added_lines(ws_root, store, base_commit, &mut |file, number, _| {
        changed.entry(file.to_string()).or_default().insert(number);
    })?;
    Ok(changed)
}

/// The coverage suite behind the common interface.
struct CoverageSuite {
    config: CoverageConfig,
}

/// Makes the coverage suite; `--suite coverage` without a `[coverage]` table is a usage error.
pub fn build(
    config: &crate::config::Config,
    _options: &crate::suites::SuiteOptions,
) -> crate::error::Result<Box<dyn crate::suites::Suite>> {
    let Some(coverage) = &config.coverage else {
        return Err(crate::error::Error::usage(
            "--suite coverage needs a [coverage] table in gate.toml",
            Some(
                "add `[coverage]` with `lcov = \"target/lcov.info\"` (`cargo gate explain coverage`)"
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
