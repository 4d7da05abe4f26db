//! The view model: everything templates need beyond the raw report (failures in order, the
//! performance, load and coverage rows, the bench summary, the delta against the base's
//! history), computed once in Rust so templates stay simple and fast on 100 000-case reports.
//! Pure: no I/O.

use minijinja::Value;
use serde::Serialize;

use super::html;
use crate::model::{Case, CaseStatus, Counts, GateStatus, Report, Suite, VerdictStatus};
use crate::util::units::format_seconds;

/// What a reviewer runs to accept changed snapshots. It re-runs the tests, so it works whether
/// the pending files were moved out of the tree or kept.
const SNAPSHOT_ACCEPT_HINT: &str =
    "review with `cargo insta test --review`, or accept all with `cargo insta test --accept`";

/// Everything templates need beyond the raw report, computed once in Rust so templates stay
/// simple and fast on 100 000-case reports.
#[derive(Serialize)]
pub(super) struct View<'a> {
    passed: bool,
    counts: Counts,
    suites: Vec<SuiteView<'a>>,
    failures: Vec<&'a Case>,
    failures_total: usize,
    flaky: Vec<&'a Case>,
    flaky_total: usize,
    quarantined: Vec<&'a Case>,
    slowest: Vec<Timed<'a>>,
    gates_failed: usize,
    gates_warned: usize,
    duration: String,
    /// The part of `duration` spent building (`1m07s`), empty when nothing was built.
    build: String,
    /// The tests against the base's history, one line (`312 tests (+4) · 2 new failures · 1
    /// failing on the base too · …`); empty without history.
    delta: String,
    /// Tests removed since the base (a run of every test only).
    removed: Vec<&'a str>,
    /// Tests that failed on the base and pass here, at most `max_listed`.
    fixed: Vec<&'a str>,
    /// The compiler's errors when the tests did not build: the first is shown whole.
    build_errors: &'a [crate::model::CompilerError],
    /// The commit the history's newest run is on.
    base_commit: &'a str,
    /// Tests the history shows flaky (this run's outcome aside), most flaky runs first.
    known_flaky: Vec<&'a Case>,
    snapshots_pending: usize,
    snapshot_hint: &'static str,
    perf: Vec<PerfRow<'a>>,
    perf_total: usize,
    perf_regressed: usize,
    loads: Vec<LoadRow<'a>>,
    coverage: Option<CoverageView<'a>>,
    security: Option<super::security_view::SecurityView<'a>>,
    mutants: Option<super::mutants_view::MutantsView<'a>>,
}

/// The coverage summary: the report case's one-line result and its missed changed lines, and
/// the tables of the comment (project base → head, patch, changed files).
#[derive(Serialize)]
struct CoverageView<'a> {
    status: CaseStatus,
    message: &'a str,
    detail: String,
    summary: Option<&'a crate::model::CoverageSummary>,
    /// Percentage points since the base, two decimals with a sign (`+0.52`).
    delta: Option<String>,
    /// Base → head rows: name, base, head, change.
    rows: Vec<(&'static str, String, String, String)>,
    files: Vec<CoverageFileRow<'a>>,
}

/// One changed file: its patch figure and a link to it at the head commit on GitHub.
#[derive(Serialize)]
struct CoverageFileRow<'a> {
    file: &'a str,
    percent: String,
    missed: &'a str,
    partial: &'a str,
    /// A safe `https://` URL (built here from checked parts), or empty.
    url: Value,
}

fn coverage_view(report: &Report) -> Option<CoverageView<'_>> {
    let suite = report.suite(crate::model::SuiteKind::Coverage)?;
    let case = suite.cases.first()?;
    let summary = suite.coverage();
    let pct = |v: f64| format!("{v:.2} %");
    let signed = |v: f64| {
        if v.abs() < 0.005 {
            "±0".to_string()
        } else {
            format!("{v:+.2}")
        }
    };
    let count_change = |a: u64, b: u64| {
        let d = b as i64 - a as i64;
        if d == 0 {
            "±0".to_string()
        } else {
            format!("{d:+}")
        }
    };
    let mut rows = Vec::new();
    let mut delta = None;
    if let Some(s) = summary {
        let h = s.head;
        match s.base {
            Some(b) => {
                delta = Some(signed(h.percent - b.percent));
                rows.push((
                    "coverage",
                    pct(b.percent),
                    pct(h.percent),
                    signed(h.percent - b.percent),
                ));
                for (name, bv, hv) in [
                    ("files", b.files, h.files),
                    ("lines", b.lines, h.lines),
                    ("hits", b.hits, h.hits),
                    ("misses", b.misses, h.misses),
                    ("partials", b.partials, h.partials),
                ] {
                    rows.push((name, bv.to_string(), hv.to_string(), count_change(bv, hv)));
                }
            }
            None => {
                rows.push(("coverage", "—".into(), pct(h.percent), String::new()));
                for (name, hv) in [
                    ("files", h.files),
                    ("lines", h.lines),
                    ("hits", h.hits),
                    ("misses", h.misses),
                    ("partials", h.partials),
                ] {
                    rows.push((name, "—".into(), hv.to_string(), String::new()));
                }
            }
        }
    }
    let blob = blob_url(report);
    let files: Vec<CoverageFileRow<'_>> = summary
        .map(|s| {
            s.files
                .iter()
                .map(|f| CoverageFileRow {
                    file: &f.file,
                    percent: if f.total == 0 {
                        "—".to_string()
                    } else {
                        pct(f.hits as f64 * 100.0 / f.total as f64)
                    },
                    missed: &f.missed,
                    partial: &f.partial_lines,
                    url: blob
                        .as_ref()
                        .map(|b| Value::from_safe_string(format!("{b}/{}", url_path(&f.file))))
                        .unwrap_or(Value::from("")),
                })
                .collect()
        })
        .unwrap_or_default();
    // The missed lines are in the files table; the detail holds the rest (paths left out,
    // records not used, why there is no patch figure).
    let detail = case.detail.clone().unwrap_or_default();
    Some(CoverageView {
        status: case.status,
        message: case.message.as_deref().unwrap_or(""),
        detail,
        summary,
        delta,
        rows,
        files,
    })
}

/// `https://github.com/OWNER/NAME/blob/SHA[/ROOT_IN_REPO]`, when the report knows all of it in
/// a form that can only be a plain URL: the server from the run's link, a repository name and
/// a hexadecimal commit.
fn blob_url(report: &Report) -> Option<String> {
    let gh = report.run.github.as_ref()?;
    let repo = &gh.repository;
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let (owner, name) = repo.split_once('/')?;
    if !plain(owner) || !plain(name) {
        return None;
    }
    let sha = gh.head_sha.as_deref().or(report.run.git.sha.as_deref())?;
    if !(7..=64).contains(&sha.len()) || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let run_url = gh.run_url.as_deref()?;
    let server = &run_url[..run_url.find(&format!("/{repo}/actions/runs/"))?];
    let host = server.strip_prefix("https://")?;
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'))
    {
        return None;
    }
    let root = report
        .run
        .root_in_repo
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| format!("/{}", url_path(r.trim_matches('/'))))
        .unwrap_or_default();
    Some(format!("{server}/{repo}/blob/{sha}{root}"))
}

/// A path with everything but unreserved characters and `/` percent-encoded.
fn url_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A load scenario's summary line and its per-second charts.
#[derive(Serialize)]
struct LoadRow<'a> {
    name: &'a str,
    status: CaseStatus,
    message: &'a str,
    detail: &'a str,
    rps_svg: String,
    p95_svg: String,
}

fn load_rows(report: &Report) -> Vec<LoadRow<'_>> {
    let Some(suite) = report.suite(crate::model::SuiteKind::Load) else {
        return Vec::new();
    };
    let series = |name: &str, what: &str| {
        suite
            .metrics
            .iter()
            .find(|m| m.name == format!("load.{name}.timeline.{what}"))
            .map(|m| {
                // One sample per second of the run.
                let seconds: Vec<String> = (1..=m.samples.len()).map(|i| format!("{i}s")).collect();
                html::chart(&m.samples, &seconds, &m.unit, false)
            })
            .unwrap_or_default()
    };
    suite
        .cases
        .iter()
        .map(|c| LoadRow {
            name: &c.name,
            status: c.status,
            message: c.message.as_deref().unwrap_or(""),
            detail: c.detail.as_deref().unwrap_or(""),
            rps_svg: series(&c.name, "rps"),
            p95_svg: series(&c.name, "p95"),
        })
        .collect()
}

/// One comparison, formatted for templates.
#[derive(Serialize)]
struct PerfRow<'a> {
    metric: &'a str,
    verdict: &'static str,
    icon: &'static str,
    baseline: String,
    current: String,
    delta: String,
    stat: String,
    /// Why there is no verdict, or what `unchanged` rests on when it is not "no significant
    /// change": no baseline yet, too little history, not measured.
    why: String,
    sparkline: String,
    /// An inline SVG line chart of the history and the current value.
    svg: String,
}

fn perf_row(c: &crate::model::Comparison) -> PerfRow<'_> {
    use crate::model::PerfVerdict::*;
    let fmt = |v: Option<f64>| {
        v.map_or("—".to_string(), |v| {
            crate::util::units::format_measure(v, &c.unit)
        })
    };
    let (verdict, icon) = match c.verdict {
        Regressed => ("regressed", "🔴"),
        Improved => ("improved", "🟢"),
        Unchanged if c.inconclusive => ("too noisy", "〰️"),
        // Not "unchanged": nothing was decided, whatever the change.
        Unchanged if c.method == crate::model::Method::InsufficientHistory => ("no verdict", "⚪"),
        Unchanged => ("unchanged", "⚪"),
        New => ("new", "🆕"),
        Missing => ("missing", "❔"),
    };
    let mut series = c.history.clone();
    if let Some(cur) = c.current {
        series.push(cur);
    }
    PerfRow {
        metric: &c.metric,
        verdict,
        icon,
        baseline: fmt(c.baseline),
        current: fmt(c.current),
        delta: c.delta_pct.map_or("—".to_string(), |d| format!("{d:+.1}%")),
        stat: match (c.method, c.p_value, c.z) {
            (crate::model::Method::History, _, _) => match (c.noise_pct, c.detectable_pct) {
                (Some(n), Some(d)) => format!(
                    "noise ±{n:.1} % over {} runs{}: detects ≥ {d:.1} %",
                    c.history.len(),
                    c.history_machine
                        .as_deref()
                        .map_or(String::new(), |m| format!(" on {m}"))
                ),
                _ => String::new(),
            },
            (crate::model::Method::Paired, _, _) => match c.interval_pct {
                Some([lo, hi]) => format!("paired A/B: 99 % CI {lo:+.1} % … {hi:+.1} %"),
                None => "paired A/B".to_string(),
            },
            (crate::model::Method::Counts, _, _) => "instruction count: exact".to_string(),
            (_, Some(p), _) => format!("p = {p:.3} (same machine assumed)"),
            (_, _, Some(z)) => format!("z = {z:.1}"),
            _ => String::new(),
        },
        why: perf_why(c),
        sparkline: crate::util::units::sparkline(&series),
        svg: {
            // The history's commits, then this run.
            let mut labels = c.history_revs.clone();
            labels.resize(c.history.len(), String::new());
            if c.current.is_some() {
                labels.push("this run".to_string());
            }
            html::chart(&series, &labels, &c.unit, c.current.is_some())
        },
    }
}

/// What a comparison without a real verdict rests on, in words (empty when the verdict speaks
/// for itself).
fn perf_why(c: &crate::model::Comparison) -> String {
    use crate::model::{Method, PerfVerdict};
    match (c.verdict, c.method) {
        (PerfVerdict::New, _) => "first run: nothing to compare with yet; this run becomes the baseline after `baseline save`".to_string(),
        (PerfVerdict::Missing, _) => "in the baseline, not measured in this run".to_string(),
        (_, Method::InsufficientHistory) => {
            let n = c.history.len();
            format!(
                "too little history to decide: {n} earlier run{}",
                if n == 1 { "" } else { "s" }
            )
        }
        (PerfVerdict::Unchanged, _) if c.inconclusive => match c.detectable_pct {
            Some(d) => format!("the noise hides changes below {d:.1} %"),
            None => "too noisy to tell".to_string(),
        },
        _ => String::new(),
    }
}

/// The tests suite against its base: `312 tests (+4) · 2 new failures · 1 failing on the
/// base too · 1 known flaky (quarantined) · 3m12s (−8.0s)`. Empty when the notes had no
/// history for the base.
fn delta_line(s: &Suite) -> String {
    use crate::model::Change;
    let Some(base) = s.base() else {
        return String::new();
    };
    // A suite that could not run (the build failed) ran nothing: nothing was removed either.
    if s.status == crate::model::SuiteStatus::Error && s.cases.is_empty() {
        return String::new();
    }
    let total = s.cases.len();
    if total == 0 && base.tests == 0 {
        return String::new();
    }
    let diff = total as i64 - base.tests as i64;
    let mut parts = vec![if diff == 0 {
        format!("{total} tests")
    } else {
        format!("{total} tests ({diff:+})")
    }];
    let count = |want: Change| {
        s.cases
            .iter()
            .filter(|c| c.history.as_ref().and_then(|h| h.change) == Some(want))
            .count()
    };
    let new = count(Change::NewFailure);
    let still = count(Change::StillFailing);
    let fixed = count(Change::Fixed);
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    if new > 0 {
        parts.push(plural(new, "new failure", "new failures"));
    }
    if fixed > 0 {
        parts.push(format!("{fixed} fixed"));
    }
    if still > 0 {
        parts.push(format!("{still} still failing"));
    }
    let known = s
        .cases
        .iter()
        .filter(|c| c.history.as_ref().is_some_and(|h| h.quarantined.is_some()))
        .count();
    if known > 0 {
        parts.push(format!("{known} known flaky (quarantined)"));
    }
    if !base.removed.is_empty() {
        parts.push(format!("{} removed", base.removed.len()));
    }
    let skipped = s
        .cases
        .iter()
        .filter(|c| c.status == CaseStatus::Skipped)
        .count();
    if skipped > 0 {
        parts.push(format!("{skipped} skipped"));
    }
    let now = s.metric_value("tests.duration");
    match (now, base.duration) {
        (Some(now), Some(then)) => {
            let d = now - then;
            let sign = if d < 0.0 { "−" } else { "+" };
            parts.push(format!(
                "{} ({sign}{})",
                format_seconds(now),
                format_seconds(d.abs())
            ));
        }
        (Some(now), None) => parts.push(format_seconds(now)),
        _ => {}
    }
    parts.join(" · ")
}

/// `4 benchmarks: 1 regressed, 3 unchanged, 1 error`: what was measured and what the
/// comparisons concluded (by the verdicts the performance table shows).
fn bench_summary(s: &Suite, comparisons: &[crate::model::Comparison]) -> String {
    let n = s.metrics.len();
    let mut line = format!("{n} benchmark{}", if n == 1 { "" } else { "s" });
    let mut verdicts: Vec<(&'static str, usize)> = Vec::new();
    for c in comparisons
        .iter()
        .filter(|c| c.metric.starts_with("bench."))
    {
        let v = perf_row(c).verdict;
        match verdicts.iter_mut().find(|(k, _)| *k == v) {
            Some((_, count)) => *count += 1,
            None => verdicts.push((v, 1)),
        }
    }
    // Worst first: what the reader must act on leads.
    let order = [
        "regressed",
        "too noisy",
        "improved",
        "unchanged",
        "no verdict",
        "new",
        "missing",
    ];
    verdicts.sort_by_key(|(v, _)| order.iter().position(|o| o == v));
    if !verdicts.is_empty() {
        let parts: Vec<String> = verdicts.iter().map(|(v, c)| format!("{c} {v}")).collect();
        line.push_str(&format!(": {}", parts.join(", ")));
    }
    let errors = s.cases.iter().filter(|c| c.status.is_failure()).count();
    if errors > 0 {
        line.push_str(&format!(
            ", {errors} error{}",
            if errors == 1 { "" } else { "s" }
        ));
    }
    line
}

/// A suite's time with its build apart: the tests' own time is what the tests cost, the build
/// depends on caches.
fn suite_time(s: &Suite) -> String {
    match s.build_duration() {
        Some(build) if build > 0.0 => format!(
            "{} + {} build",
            format_seconds((s.duration - build).max(0.0)),
            format_seconds(build)
        ),
        _ => format_seconds(s.duration),
    }
}

#[derive(Serialize)]
struct Timed<'a> {
    id: &'a str,
    status: CaseStatus,
    /// The longest attempt: a test retried twice after a 3 s timeout took 3 s, not 9.
    duration: f64,
    attempts: usize,
    /// The time is a share of a batch (doctests), shown with `~`.
    shared: bool,
}

#[derive(Serialize)]
struct SuiteView<'a> {
    name: &'a str,
    status: String,
    duration: f64,
    /// What the time was spent on: `0.74s + 1m07s build` when a build came first, else the
    /// duration alone.
    time: String,
    /// The bench and mutants suites in their own terms (`4 benchmarks: 1 regressed, 3
    /// unchanged`, `35 mutants: 29 caught, 3 missed, …`), instead of test counts.
    benchmarks: Option<String>,
    error: Option<&'a str>,
    counts: Counts,
}

impl<'a> View<'a> {
    pub(super) fn of(report: &'a Report, max_listed: usize) -> View<'a> {
        // A mutant is not a test: the mutants section shows them (a missed one is no failure
        // to list among the tests'). The coverage report is one case that reads a file, not a
        // test: "3 passed" must not count it (its failure still shows among the failures).
        use crate::model::SuiteKind::{Coverage, Mutants};
        let suites = || report.suites.iter().filter(|s| s.kind != Mutants);
        let all: Vec<&Case> = suites().flat_map(|s| s.cases.iter()).collect();
        let counts = Counts::of(
            suites()
                .filter(|s| s.kind != Coverage)
                .flat_map(|s| s.cases.iter()),
        );
        let (failures, failures_total) = failures_of(&all, max_listed);
        let mut flaky: Vec<&Case> = all
            .iter()
            .copied()
            .filter(|c| c.status == CaseStatus::Flaky)
            .collect();
        let flaky_total = flaky.len();
        flaky.truncate(max_listed);
        let mut quarantined: Vec<&Case> = all
            .iter()
            .copied()
            .filter(|c| c.status == CaseStatus::Quarantined)
            .collect();
        quarantined.truncate(max_listed);
        let slowest = slowest_of(&all);
        View {
            passed: report.verdict.status == VerdictStatus::Passed,
            counts,
            suites: report
                .suites
                .iter()
                .map(|s| SuiteView::of(s, &report.comparisons))
                .collect(),
            failures,
            failures_total,
            flaky,
            flaky_total,
            quarantined,
            slowest,
            gates_failed: report
                .gates
                .iter()
                .filter(|g| g.status == GateStatus::Failed)
                .count(),
            gates_warned: report
                .gates
                .iter()
                .filter(|g| g.status == GateStatus::Warned)
                .count(),
            duration: format_seconds(report.run.duration),
            delta: report
                .suite(crate::model::SuiteKind::Tests)
                .map(delta_line)
                .unwrap_or_default(),
            known_flaky: known_flaky(&all, max_listed),
            base_commit: report
                .suite(crate::model::SuiteKind::Tests)
                .and_then(|s| s.base())
                .map_or("", |b| b.commit.as_str()),
            build_errors: report
                .suite(crate::model::SuiteKind::Tests)
                .and_then(|s| s.tests())
                .map_or(&[][..], |t| t.build_errors.as_slice()),
            fixed: all
                .iter()
                .filter(|c| {
                    c.history.as_ref().and_then(|h| h.change) == Some(crate::model::Change::Fixed)
                })
                .map(|c| c.id.as_str())
                .take(max_listed)
                .collect(),
            removed: report
                .suite(crate::model::SuiteKind::Tests)
                .and_then(|s| s.base())
                .map(|b| b.removed.iter().map(String::as_str).collect())
                .unwrap_or_default(),
            build: build_time(report),
            snapshots_pending: report
                .suite(crate::model::SuiteKind::Snapshots)
                .and_then(|s| s.metric_value("snapshots.pending"))
                .map_or(0, |v| v as usize),
            snapshot_hint: SNAPSHOT_ACCEPT_HINT,
            perf: report
                .comparisons
                .iter()
                .filter(|c| !c.unasked)
                .take(max_listed)
                .map(perf_row)
                .collect(),
            perf_total: report.comparisons.iter().filter(|c| !c.unasked).count(),
            loads: load_rows(report),
            coverage: coverage_view(report),
            security: super::security_view::view(report),
            mutants: super::mutants_view::view(report),
            perf_regressed: report
                .comparisons
                .iter()
                .filter(|c| !c.unasked && c.verdict == crate::model::PerfVerdict::Regressed)
                .count(),
        }
    }
}

/// The failing cases to list, and how many fail in all: new failures first (what this change
/// broke), then the rest, then those failing on the base too; within each, timeouts first
/// (they often hide a hang), stable by id.
fn failures_of<'a>(all: &[&'a Case], max_listed: usize) -> (Vec<&'a Case>, usize) {
    let mut failures: Vec<&Case> = all
        .iter()
        .copied()
        .filter(|c| c.status.is_failure())
        .collect();
    failures.sort_by_key(|c| {
        let rank = match c.history.as_ref().and_then(|h| h.change) {
            Some(crate::model::Change::NewFailure) => 0,
            Some(crate::model::Change::StillFailing) => 2,
            _ => 1,
        };
        (rank, c.status != CaseStatus::TimedOut, c.id.as_str())
    });
    let total = failures.len();
    failures.truncate(max_listed);
    (failures, total)
}

/// The ten cases that took longest.
fn slowest_of<'a>(all: &[&'a Case]) -> Vec<Timed<'a>> {
    let mut slowest: Vec<&Case> = all
        .iter()
        .copied()
        .filter(|c| c.status != CaseStatus::Skipped)
        .collect();
    let cmp = |a: &&Case, b: &&Case| {
        b.longest_attempt()
            .total_cmp(&a.longest_attempt())
            .then_with(|| a.id.cmp(&b.id))
    };
    if slowest.len() > 10 {
        slowest.select_nth_unstable_by(9, cmp);
        slowest.truncate(10);
    }
    slowest.sort_by(cmp);
    slowest
        .into_iter()
        .map(|c| Timed {
            id: &c.id,
            status: c.status,
            duration: c.longest_attempt(),
            attempts: c.attempts.len(),
            shared: c.attempts.iter().any(|a| a.shared),
        })
        .collect()
}

/// Cases the history knows as flaky, the flakiest first.
fn known_flaky<'a>(all: &[&'a Case], max_listed: usize) -> Vec<&'a Case> {
    let mut k: Vec<&Case> = all
        .iter()
        .copied()
        .filter(|c| c.history.as_ref().is_some_and(|h| h.flaky > 0))
        .collect();
    k.sort_by_key(|c| {
        let h = c.history.as_ref().map_or(0, |h| h.flaky);
        (std::cmp::Reverse(h), c.id.as_str())
    });
    k.truncate(max_listed);
    k
}

/// The time spent building, when a suite built anything.
fn build_time(report: &Report) -> String {
    let build: f64 = report
        .suites
        .iter()
        .filter_map(|s| s.build_duration())
        .sum();
    if build > 0.0 {
        format_seconds(build)
    } else {
        String::new()
    }
}

impl<'a> SuiteView<'a> {
    fn of(s: &'a Suite, comparisons: &[crate::model::Comparison]) -> SuiteView<'a> {
        SuiteView {
            name: &s.name,
            status: serde_json::to_value(s.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            duration: s.duration,
            time: suite_time(s),
            benchmarks: match s.kind {
                crate::model::SuiteKind::Bench => Some(bench_summary(s, comparisons)),
                crate::model::SuiteKind::Mutants => {
                    s.mutants().map(crate::model::MutantsSummary::counts_line)
                }
                _ => None,
            },
            error: s.error.as_deref(),
            counts: Counts::of(&s.cases),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suite_that_could_not_run_has_no_delta_against_the_base() {
        let mut s = Suite::new(crate::model::SuiteKind::Tests);
        s.tests_mut().base = Some(crate::model::BaseTests {
            commit: "abc".into(),
            tests: 8,
            duration: None,
            removed: Vec::new(),
        });
        assert_eq!(delta_line(&s), "0 tests (-8)");
        s.status = crate::model::SuiteStatus::Error;
        assert_eq!(delta_line(&s), "", "nothing ran, so nothing was removed");
    }
    use crate::model::{Comparison, Direction, Method, PerfVerdict};

    fn comparison(metric: &str, verdict: PerfVerdict, method: Method) -> Comparison {
        Comparison {
            metric: metric.to_string(),
            unit: "ns".to_string(),
            direction: Direction::LowerIsBetter,
            baseline: Some(100.0),
            current: Some(211.0),
            delta_pct: Some(111.0),
            p_value: None,
            z: None,
            method,
            verdict,
            baseline_rev: None,
            history: vec![100.0, 101.0],
            history_machine: None,
            history_revs: Vec::new(),
            noise_pct: None,
            detectable_pct: None,
            interval_pct: None,
            inconclusive: false,
            unasked: false,
        }
    }

    #[test]
    fn an_unchanged_that_decided_nothing_says_why() {
        // +111 % with too little history is no verdict, not "unchanged".
        let c = comparison(
            "bench.x",
            PerfVerdict::Unchanged,
            Method::InsufficientHistory,
        );
        let row = perf_row(&c);
        assert_eq!(row.verdict, "no verdict");
        assert_eq!(row.why, "too little history to decide: 2 earlier runs");
        let first = comparison("bench.x", PerfVerdict::New, Method::None);
        assert!(
            perf_row(&first)
                .why
                .starts_with("first run: nothing to compare with yet")
        );
        let mut noisy = comparison("bench.x", PerfVerdict::Unchanged, Method::History);
        noisy.inconclusive = true;
        noisy.detectable_pct = Some(12.5);
        assert_eq!(perf_row(&noisy).verdict, "too noisy");
        assert_eq!(perf_row(&noisy).why, "the noise hides changes below 12.5 %");
        // A real "no significant change" needs no words.
        let plain = comparison("bench.x", PerfVerdict::Unchanged, Method::MannWhitney);
        assert_eq!(
            (perf_row(&plain).verdict, perf_row(&plain).why.as_str()),
            ("unchanged", "")
        );
    }

    #[test]
    fn the_bench_suite_is_summed_up_in_benchmarks_worst_first() {
        let mut s = crate::suites::suite(crate::model::SuiteKind::Bench, 1.0, Vec::new());
        for name in ["bench.a", "bench.b", "bench.c"] {
            s.metrics.push(crate::model::Metric::wall_time(name, 1.0));
        }
        let comparisons = [
            comparison("bench.a", PerfVerdict::Unchanged, Method::MannWhitney),
            comparison("bench.b", PerfVerdict::Regressed, Method::MannWhitney),
            comparison("bench.c", PerfVerdict::Unchanged, Method::MannWhitney),
            // Not a benchmark: the tests suite's time is compared too.
            comparison("tests.duration", PerfVerdict::Regressed, Method::History),
        ];
        assert_eq!(
            bench_summary(&s, &comparisons),
            "3 benchmarks: 1 regressed, 2 unchanged"
        );
        s.cases.push(Case::single(
            "bench run",
            "bench run",
            CaseStatus::Failed,
            0.0,
            "`cargo bench` failed".to_string(),
            String::new(),
        ));
        assert_eq!(bench_summary(&s, &[]), "3 benchmarks, 1 error");
    }
}
