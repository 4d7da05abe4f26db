//! Doctests for every mutant the test binaries did not catch, compiled once. rustdoc compiles
//! each doctest every time `cargo test --doc` runs, which is most of a doctest run's time; so
//! the mutants suite runs `cargo test --doc` once per package with cargo-gate itself as the
//! target's runner (`CARGO_TARGET_<HOST>_RUNNER`, which cargo ≥ 1.89 applies to doctests):
//! rustdoc hands each compiled doctest to [`runner`], which runs it once without mutants and
//! once per mutant, and writes down which ones made it fail. Where the runner is not applied
//! (an older cargo), each mutant runs `cargo test --doc` of its own.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::exec::process::{self, Exit};

use super::rounds::Numbered;
use super::runner::{Ran, Verdict};
use super::schema::VARIABLE;
use super::{Bench, Tried};
use crate::event::Event;
use crate::model::{MutantOutcome, SuiteKind};

/// The line each doctest's runner writes before its mutants' (see [`runner`]).
const RAN: &str = "ran";

/// What the doctests said of one mutant.
#[derive(Debug, Clone, PartialEq)]
pub enum DocVerdict {
    /// A doctest failed with it in (where it panicked, when it said).
    Failed(Option<String>),
    /// A doctest ran past its timeout.
    TimedOut,
}

/// The variable cargo reads a host runner from: `CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER`.
fn runner_variable() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut cmd = Command::new(rustc);
    cmd.arg("-vV");
    let out = process::output(cmd, Some(Duration::from_secs(60))).ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let host = text.lines().find_map(|l| l.strip_prefix("host: "))?.trim();
    let name: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    Some(format!("CARGO_TARGET_{name}_RUNNER"))
}

/// Runs the doctests of `package` once, each doctest against mutant 0 (none) and every one of
/// `ids`; `None` when cargo did not use the runner (the caller then runs them one by one).
/// `libtest` goes to the doctests' harness: filters (`NAME…`, only the doctests whose names hold
/// one are compiled) or `--skip NAME` pairs.
pub fn run_batch(
    doc: &super::runner::Doctests<'_>,
    ids: &[u32],
    dir: &Path,
    cfg: &super::config::MutantsConfig,
    libtest: &[String],
) -> Result<Option<BTreeMap<u32, DocVerdict>>, String> {
    let package = doc.package;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find cargo-gate itself: {e}"))?;
    let spec = dir.join(format!("doctests-{package}.spec"));
    let results = dir.join(format!("doctests-{package}.results"));
    let variable = runner_variable().ok_or("cannot tell the host from `rustc -vV`")?;
    // cargo splits a runner from the environment at spaces: such paths take the slow way.
    if [exe.as_path(), spec.as_path()]
        .iter()
        .any(|p| p.to_string_lossy().contains(char::is_whitespace))
    {
        return Ok(None);
    }
    let ids_text: Vec<String> = ids.iter().map(u32::to_string).collect();
    let text = format!(
        "{}\n{}\n{}\n{}\n{}\n",
        results.display(),
        cfg.timeout_multiplier,
        cfg.minimum_timeout.as_secs_f64(),
        ids_text.join(","),
        cfg.coverage
    );
    std::fs::write(&spec, text).map_err(|e| format!("cannot write {}: {e}", spec.display()))?;
    let _ = std::fs::remove_file(&results);
    let mut cmd = doc.command();
    if !libtest.is_empty() {
        cmd.arg("--").args(libtest);
    }
    cmd.env(
        &variable,
        format!("{} mutants-doctest {}", exe.display(), spec.display()),
    );
    let out = process::run(
        cmd,
        &process::Limits {
            tail_bytes: 64 * 1024,
            slow: None,
            timeout: None,
        },
    )
    .map_err(|e| format!("cannot run the doctests of {package}: {e}"))?;
    if out.exit == Exit::Interrupted {
        return Err("interrupted".to_string());
    }
    if out.exit != Exit::Code(0) {
        return Err(format!(
            "the doctests of {package} fail without any mutant: fix them first, mutants are \
             judged against passing tests\n{}",
            crate::util::excerpt::excerpt(&out.output_text(), 20)
        ));
    }
    let written = std::fs::read_to_string(&results).unwrap_or_default();
    let ran_any = out
        .output_text()
        .lines()
        .any(|l| l.starts_with("running ") && !l.starts_with("running 0 tests"));
    if !written.lines().any(|l| l == RAN) && ran_any {
        return Ok(None);
    }
    Ok(Some(read_results(&written)))
}

/// The results file: `ID\tfailed\tWHERE` or `ID\ttimeout` lines, from every doctest.
/// The mutants a doctest noticed; those absent passed every doctest.
fn read_results(text: &str) -> BTreeMap<u32, DocVerdict> {
    let mut verdicts = BTreeMap::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(id), Some(what)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Ok(id) = id.parse::<u32>() else {
            continue;
        };
        let place = parts.next().filter(|p| !p.is_empty()).map(str::to_string);
        let verdict = if what == "timeout" {
            DocVerdict::TimedOut
        } else {
            DocVerdict::Failed(place)
        };
        // A failure says more than a timeout of another doctest.
        let keep = verdicts
            .get(&id)
            .is_some_and(|v| matches!(v, DocVerdict::Failed(_)));
        if !keep {
            verdicts.insert(id, verdict);
        }
    }
    verdicts
}

/// The spec [`run_batch`] writes for [`runner`].
struct Spec {
    results: std::path::PathBuf,
    multiplier: f64,
    minimum: Duration,
    ids: Vec<u32>,
    /// Run only the mutants the doctest reached without mutants.
    coverage: bool,
}

fn read_spec(path: &Path) -> Option<Spec> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let results = lines.next()?.into();
    let multiplier = lines.next()?.parse().ok()?;
    let minimum = Duration::try_from_secs_f64(lines.next()?.parse().ok()?).ok()?;
    let ids = lines
        .next()
        .unwrap_or("")
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let coverage = lines.next() == Some("true");
    Some(Spec {
        results,
        multiplier,
        minimum,
        ids,
        coverage,
    })
}

/// `src/lib.rs:46:5` from a panic message in the doctest's output.
fn panic_place(output: &str) -> Option<String> {
    output.lines().find_map(|l| {
        let (_, after) = l.split_once(" panicked at ")?;
        Some(after.trim_end_matches(':').to_string())
    })
}

/// cargo's runner for one compiled doctest (`cargo-gate mutants-doctest SPEC PROGRAM ARGS…`):
/// runs it without mutants, then with each mutant of the spec, and appends to the results each
/// mutant that changed how it ends (a `should_panic` doctest fails without mutants, so a
/// mutant is noticed when it passes). Returns the unmutated run's exit code and output, for
/// the command to exit and print as that run did: rustdoc judges it as it always does.
pub fn runner(spec: &Path, program: &Path, args: &[OsString]) -> Result<(i32, String), String> {
    let Some(spec) = read_spec(spec) else {
        return Err(format!("unreadable spec {}", spec.display()));
    };
    let run = |id: u32, timeout: Duration, trace: Option<&Path>| {
        let mut cmd = Command::new(program);
        // The backtrace variables come with the environment `Doctests::command` gave cargo.
        cmd.args(args).env(VARIABLE, id.to_string());
        if let Some(t) = trace {
            cmd.env(super::schema::TRACE, t);
        }
        process::run_in_group(cmd, timeout)
    };
    // Each doctest its own trace: rustdoc runs several at once, each under its own runner.
    let trace = spec
        .results
        .with_extension(format!("trace-{}", std::process::id()));
    let _ = std::fs::remove_file(&trace);
    let started = Instant::now();
    let traced = spec.coverage.then_some(trace.as_path());
    let base = run(0, spec.minimum.max(Duration::from_secs(600)), traced)
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    let base_secs = started.elapsed().as_secs_f64();
    let reached = super::runner::take_trace(&trace);
    let passes = base.exit == Exit::Code(0);
    let timeout = Duration::from_secs_f64(base_secs * spec.multiplier).max(spec.minimum);
    // Every doctest leaves a line, so an empty results file means cargo never used the runner
    // (not that no mutant was noticed).
    let mut lines = vec![RAN.to_string()];
    // A doctest that never reached a mutant's code runs as it did without it.
    let ids = spec
        .ids
        .iter()
        .filter(|id| !spec.coverage || reached.contains_key(id));
    for &id in ids {
        match run(id, timeout, None) {
            Ok(o) if o.exit == Exit::TimedOut => lines.push(format!("{id}\ttimeout")),
            Ok(o) if (o.exit == Exit::Code(0)) != passes => lines.push(format!(
                "{id}\tfailed\t{}",
                panic_place(&o.output_text()).unwrap_or_default()
            )),
            Ok(_) => {}
            Err(_) => lines.push(format!("{id}\tfailed\t")),
        }
    }
    // One write per doctest with O_APPEND: rustdoc runs doctests at once, each its own runner.
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&spec.results)
    {
        let _ = f.write_all(format!("{}\n", lines.join("\n")).as_bytes());
    }
    let code = match base.exit {
        Exit::Code(c) => c,
        _ => 101,
    };
    Ok((code, base.output_text()))
}

// How the suite uses the batch: which mutants meet the doctests, and what a batch's verdicts
// make of them.

/// A package with at least this many doctests (by its doc comments' code fences) runs those
/// related to its mutants first, when few mutants are left for them: rustdoc compiles only
/// the doctests a filter names, and a related one often catches the mutant (itertools: 1 s
/// instead of 13 for its 150). Each mutant no related doctest catches costs a second
/// `cargo test --doc` for the rest — with fewer doctests that costs more than one batch, and
/// with more mutants that is the likelier end.
const SPLIT_AT: usize = 12;
const SPLIT_MUTANTS: usize = 4;

/// The mutants no test binary caught, against their package's doctests: all of a package's
/// at once, each doctest compiled once (one `cargo test --doc` each where cargo does not use
/// the runner) — the doctests whose names relate to the mutants first when the package has
/// many, the others for the mutants those did not catch.
pub(super) fn with_doctests(
    bench: &Bench<'_>,
    chosen: &[Numbered],
    tried: &mut BTreeMap<u32, Tried>,
) -> Result<(), String> {
    let mut by_package: BTreeMap<&str, Vec<&Numbered>> = BTreeMap::new();
    for m in chosen {
        if tried
            .get(&m.id)
            .is_some_and(|t| t.verdict == MutantOutcome::Missed && !t.alone)
        {
            by_package.entry(&m.package).or_default().push(m);
        }
    }
    for (package, mutants) in by_package {
        let ids: Vec<u32> = mutants.iter().map(|m| m.id).collect();
        (bench.events)(&Event::Output {
            suite: SuiteKind::Mutants,
            line: &format!("doctests of {package} against {} mutants", ids.len()),
        });
        let started = Instant::now();
        let member_dir = bench
            .members
            .iter()
            .find(|m| m.name == package)
            .map(|m| m.dir.as_str());
        let related = match member_dir {
            Some(d)
                if mutants.len() <= SPLIT_MUTANTS
                    && count_doctests(&bench.root.join(d).join("src")) >= SPLIT_AT =>
            {
                doctest_filters(&mutants, d)
            }
            _ => Vec::new(),
        };
        let verdicts = split_batches(bench, package, &ids, &related)?;
        let share = started.elapsed().as_secs_f64() / ids.len().max(1) as f64;
        for id in ids {
            let Some(t) = tried.get_mut(&id) else {
                continue;
            };
            t.seconds += share;
            let key = format!("{package}::doc");
            match verdicts.get(&id) {
                Some(DocVerdict::Failed(place)) => {
                    t.verdict = MutantOutcome::Caught;
                    t.by = Some(place.as_ref().map_or(key.clone(), |p| format!("{key} {p}")));
                }
                Some(DocVerdict::TimedOut) => {
                    t.verdict = MutantOutcome::Timeout;
                    t.by = Some(key);
                }
                None => {}
            }
        }
    }
    Ok(())
}

/// `package`'s doctests against `ids`: those `related` names first (when there are any), then
/// the others against the mutants still missed. A mutant a related doctest timed out on is not
/// tried again.
fn split_batches(
    bench: &Bench<'_>,
    package: &str,
    ids: &[u32],
    related: &[String],
) -> Result<BTreeMap<u32, DocVerdict>, String> {
    let doc = bench.doctests(package);
    let mut verdicts = BTreeMap::new();
    let mut rest = ids.to_vec();
    let mut skips = Vec::new();
    if !related.is_empty() {
        match run_batch(&doc, &rest, &bench.dir, bench.cfg, related)? {
            Some(found) => {
                rest.retain(|id| !found.contains_key(id));
                verdicts.extend(found);
            }
            None => return one_by_one_instead(bench, package, ids),
        }
        for name in related {
            skips.extend(["--skip".to_string(), name.clone()]);
        }
    }
    if !rest.is_empty() {
        match run_batch(&doc, &rest, &bench.dir, bench.cfg, &skips)? {
            Some(found) => verdicts.extend(found),
            None => return one_by_one_instead(bench, package, ids),
        }
    }
    Ok(verdicts)
}

fn one_by_one_instead(
    bench: &Bench<'_>,
    package: &str,
    ids: &[u32],
) -> Result<BTreeMap<u32, DocVerdict>, String> {
    (bench.events)(&Event::Output {
        suite: SuiteKind::Mutants,
        line: &format!(
            "cargo did not run the doctests of {package} through cargo-gate (cargo < 1.89?): \
             one `cargo test --doc` per mutant"
        ),
    });
    doctests_one_by_one(bench, package, ids)
}

/// The names a doctest related to these mutants would hold — doctest names are the file and
/// the item's path (`src/sources.rs - sources::Unfold (line 10)`): the binaries' related names
/// (function, type in snake case, file stem), the type's own name, and the file's path in its
/// package (`member_dir` from the workspace root) unless it is the crate's root, whose doctests
/// are often most of them.
fn doctest_filters(mutants: &[&Numbered], member_dir: &str) -> Vec<String> {
    let mut names = Vec::new();
    for m in mutants {
        let function = m.mutant.function.as_deref();
        names.extend(super::runner::related_names(function, &m.mutant.file));
        names.extend(
            function
                .and_then(super::runner::owner_type)
                .filter(|t| t.len() >= 3)
                .map(str::to_string),
        );
        let file = Path::new(&m.mutant.file);
        let in_package = file.strip_prefix(member_dir).unwrap_or(file);
        if !matches!(
            in_package.to_str(),
            Some("src/lib.rs" | "src/main.rs") | None
        ) {
            names.extend(in_package.to_str().map(str::to_string));
        }
    }
    names.sort();
    names.dedup();
    names
}

/// About how many doctests the sources under `dir` hold: code fences in doc comments, two per
/// example (a `text` block counts too; a README included as docs does not).
fn count_doctests(dir: &Path) -> usize {
    let mut fences = 0;
    crate::util::fs::walk_files(
        dir,
        |_| false,
        |path| {
            if path.extension().is_some_and(|e| e == "rs") {
                fences += fences_in(&std::fs::read_to_string(path).unwrap_or_default());
            }
        },
    );
    fences / 2
}

fn fences_in(text: &str) -> usize {
    text.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            l.strip_prefix("///").or_else(|| l.strip_prefix("//!"))
        })
        .filter(|doc| doc.trim_start().starts_with("```"))
        .count()
}

/// The doctests of a mutant built alone (written straight into the copy).
pub(super) fn alone_doctests(
    bench: &Bench<'_>,
    m: &Numbered,
    timeouts: &BTreeMap<String, Duration>,
) -> Result<Verdict, String> {
    let key = format!("{}::doc", m.package);
    let timeout = timeouts.get(&m.package).copied();
    Ok(match bench.doctests(&m.package).run(0, timeout) {
        Ran::Passed(_) => Verdict::Missed,
        Ran::Failed(test) => Verdict::Caught { binary: key, test },
        Ran::TimedOut => Verdict::Timeout(key),
        Ran::Broken(why) => return Err(why),
    })
}

/// Runs `package`'s doctests without mutants: they must pass; their time sets the timeout.
pub(super) fn doctest_baseline(bench: &Bench<'_>, package: &str) -> Result<Duration, String> {
    let started = Instant::now();
    match bench.doctests(package).run(0, None) {
        Ran::Passed(_) => Ok(bench.cfg.timeout_after(started.elapsed().as_secs_f64())),
        _ => Err(format!("the doctests of {package} fail without any mutant")),
    }
}

/// The doctests against each mutant in turn, after a run without mutants that must pass.
fn doctests_one_by_one(
    bench: &Bench<'_>,
    package: &str,
    ids: &[u32],
) -> Result<BTreeMap<u32, DocVerdict>, String> {
    let timeout = doctest_baseline(bench, package)?;
    let mut out = BTreeMap::new();
    for &id in ids {
        match bench.doctests(package).run(id, Some(timeout)) {
            Ran::Passed(_) => {}
            Ran::Failed(test) => {
                out.insert(id, DocVerdict::Failed(test));
            }
            Ran::TimedOut => {
                out.insert(id, DocVerdict::TimedOut);
            }
            Ran::Broken(why) => return Err(why),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctests_are_counted_by_their_fences_in_doc_comments() {
        let src =
            "//! ```\n//! a\n//! ```\n/// text\n///   ```rust\n/// b\n/// ```\n// ```\nfn f() {}\n";
        assert_eq!(fences_in(src), 4);
        assert_eq!(fences_in("let s = \"```\";\n"), 0);
    }

    #[test]
    fn results_name_what_each_doctest_noticed() {
        let b = read_results("ran\n3\ttimeout\n3\tfailed\tsrc/lib.rs:46:5\n5\tfailed\t\nnoise\n");
        assert_eq!(
            b.get(&3),
            Some(&DocVerdict::Failed(Some("src/lib.rs:46:5".to_string())))
        );
        assert_eq!(b.get(&5), Some(&DocVerdict::Failed(None)));
        assert_eq!(b.len(), 2, "{b:?}");
        assert_eq!(
            panic_place("thread 'main' panicked at src/lib.rs:46:5:\nassertion failed"),
            Some("src/lib.rs:46:5".to_string())
        );
    }
}
