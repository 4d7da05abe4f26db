//! The security suite: advisories (RustSec), licenses (SPDX), sources of the dependencies, and
//! secrets in the lines the change adds. Each finding is compared with the same checks on the
//! base — its `Cargo.lock` read from git, against today's database — so a pull request fails
//! only for what it introduces, while what the base already had stays visible as a warning.

pub mod advisories;
pub mod config;
pub mod database;
pub mod licenses;
pub mod lockfile;
pub mod sarif;
pub mod secrets;
pub mod sources;
pub mod yanked;

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use self::config::SecurityConfig;
use self::lockfile::Lock;
use crate::model::{
    Case, CaseStatus, Details, Direction, Finding, FindingKind, Metric, Role, SecuritySummary,
    Suite, SuiteKind,
};
use crate::workspace::Workspace;

const ID: &str = "security audit";

/// How long `cargo metadata` (with the dependencies) may take.
const METADATA_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The base the change is compared with: its lock file's text (if it had one), the revision's
/// name, and the commit.
struct Base {
    lock: Option<String>,
    name: String,
    commit: git2::Oid,
    store: crate::baseline::notes::Store,
}

/// Runs the suite. `default_base` is the baseline's base revision (`--baseline-rev`), used when
/// `[security] base` is not set. `today` decides whether an ignore has expired.
pub fn run(
    cfg: &SecurityConfig,
    ws: &Workspace,
    default_base: Option<&str>,
    today: chrono::NaiveDate,
) -> Suite {
    let clock = Instant::now();
    let mut problems: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let lock_path = ws.root.join("Cargo.lock");
    let head = match std::fs::read_to_string(&lock_path) {
        Ok(text) => Lock::parse(&text),
        Err(e) => Err(format!(
            "cannot read {}: {e}; run `cargo generate-lockfile` (and commit Cargo.lock)",
            lock_path.display()
        )),
    };
    let base = base(ws, cfg.base.as_deref().or(default_base));
    let base_lock = match &base {
        Ok(b) => b
            .lock
            .as_deref()
            .map(Lock::parse)
            .transpose()
            .unwrap_or_else(|e| {
                notes.push(format!(
                    "the base's Cargo.lock is unreadable ({e}): every finding counts as new"
                ));
                None
            }),
        Err(why) => {
            notes.push(format!(
                "no base to compare with ({why}): every finding counts as new"
            ));
            None
        }
    };
    let (mut findings, database) = match &head {
        Err(e) => {
            problems.push(e.clone());
            (Vec::new(), None)
        }
        Ok(head) => lock_findings(cfg, ws, head, base_lock.as_ref(), &mut problems),
    };
    if cfg.secrets {
        match &base {
            Ok(b) => match secret_findings(cfg, ws, b) {
                Ok(found) => findings.extend(found),
                Err(e) => problems.push(format!("cannot scan the change for secrets: {e}")),
            },
            Err(why) => notes.push(format!(
                "secrets not scanned: no base to diff against ({why})"
            )),
        }
    }
    apply_ignores(&mut findings, &cfg.ignore, today);
    let mut trend = base.as_ref().map(noted_trend).unwrap_or_default();
    trend.push(trend_point("this run".to_string(), &|kind| {
        findings
            .iter()
            .filter(|f| f.counts() && f.kind == kind)
            .count() as f64
    }));
    let summary = SecuritySummary {
        findings,
        base: base
            .as_ref()
            .ok()
            .map(|b| format!("{} ({})", b.name, b.store.short(b.commit))),
        database,
        packages: head.as_ref().map_or(0, |h| h.file.packages.len()),
        trend,
    };
    assemble(summary, problems, notes, clock.elapsed().as_secs_f64())
}

/// `check` on the working tree's lock file, its findings marked new unless the same check on
/// the base's finds them too.
fn both_sides(
    head: &Lock,
    base: Option<&Lock>,
    check: impl Fn(&Lock) -> Vec<Finding>,
) -> Vec<Finding> {
    let mut now = check(head);
    if let Some(base) = base {
        mark_new(&mut now, &check(base));
    }
    now
}

/// Everything read from the lock files: advisories, yanked versions, sources and licenses, and
/// which database the advisories came from. What could not be checked goes to `problems`.
fn lock_findings(
    cfg: &SecurityConfig,
    ws: &Workspace,
    head: &Lock,
    base: Option<&Lock>,
    problems: &mut Vec<String>,
) -> (Vec<Finding>, Option<String>) {
    let mut findings = Vec::new();
    let mut database = None;
    match database::open(cfg, &ws.root) {
        Ok(opened) => {
            findings.extend(both_sides(head, base, |l| {
                advisories::check(&opened.db, l, "Cargo.lock")
            }));
            database = Some(opened.describe);
        }
        Err(e) => problems.push(e),
    }
    let caches = yanked::cargo_home()
        .map(|home| yanked::index_caches(&home))
        .unwrap_or_default();
    findings.extend(both_sides(head, base, |l| {
        yanked::check(l, &caches, "Cargo.lock")
    }));
    if cfg.sources {
        findings.extend(both_sides(head, base, |l| {
            sources::check(l, &cfg.registries, &cfg.git, "Cargo.lock")
        }));
    }
    if let Some(policy) = &cfg.licenses {
        match license_findings(policy, ws, head) {
            Ok(mut now) => {
                if let Some(base) = base {
                    mark_new_packages(&mut now, base);
                }
                findings.extend(now);
            }
            Err(e) => problems.push(e),
        }
    }
    (findings, database)
}

/// How far back the counts are looked for in the notes.
const TREND_DEPTH: usize = 100;

/// A trend point from a count of each kind.
fn trend_point(rev: String, count: &dyn Fn(FindingKind) -> f64) -> crate::model::TrendPoint {
    crate::model::TrendPoint {
        rev,
        advisories: count(FindingKind::Vulnerability),
        other: FindingKind::FROM_LOCK
            .iter()
            .filter(|k| **k != FindingKind::Vulnerability)
            .map(|k| count(*k))
            .sum(),
    }
}

/// The counts noted on the base and its first-parent ancestors (the notes `baseline save`
/// writes on the default branch), oldest first.
fn noted_trend(base: &Base) -> Vec<crate::model::TrendPoint> {
    base.store
        .noted(base.commit, TREND_DEPTH, |note| {
            let value = |name: &str| {
                let (samples, _, _) = note.metric(name)?;
                let v = crate::baseline::stats::median(&samples);
                v.is_finite().then_some(v)
            };
            value("security.advisories")?;
            let counts: Vec<(FindingKind, f64)> = FindingKind::FROM_LOCK
                .iter()
                .map(|&k| (k, value(&format!("security.{}", k.family())).unwrap_or(0.0)))
                .collect();
            Some(counts)
        })
        .into_iter()
        .map(|(rev, counts)| {
            trend_point(rev, &|kind| {
                counts
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map_or(0.0, |(_, v)| *v)
            })
        })
        .collect()
}

/// The base commit (merge base of the base revision and HEAD) and its lock file.
fn base(ws: &Workspace, rev: Option<&str>) -> Result<Base, String> {
    let store = crate::baseline::notes::Store::open(&ws.root).map_err(|e| e.to_string())?;
    let (commit, name) = crate::baseline::change_base(&store, rev).map_err(|e| e.to_string())?;
    let repo = store.repository();
    let workdir = repo
        .workdir()
        .map(crate::util::fs::canonical)
        .ok_or("a bare repository has no working tree")?;
    let root = crate::util::fs::canonical(&ws.root);
    let prefix = root.strip_prefix(&workdir).unwrap_or(Path::new(""));
    let lock = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .ok()
        .and_then(|tree| tree.get_path(&prefix.join("Cargo.lock")).ok())
        .and_then(|entry| repo.find_blob(entry.id()).ok())
        .map(|blob| String::from_utf8_lossy(blob.content()).into_owned());
    Ok(Base {
        lock,
        name,
        commit,
        store,
    })
}

/// The key a finding is the same by on both sides: an advisory on the same crate (whatever
/// its version: a bump that stays vulnerable is not new), a source of the same crate.
fn key(f: &Finding) -> (FindingKind, String, String) {
    let name = f.crate_name().unwrap_or("").to_string();
    (f.kind, f.id.clone(), name)
}

fn mark_new(now: &mut [Finding], before: &[Finding]) {
    let old: HashSet<_> = before.iter().map(key).collect();
    for f in now {
        f.new = !old.contains(&key(f));
    }
}

/// A license finding is new when its crate was not in the base's lock file.
fn mark_new_packages(now: &mut [Finding], base: &Lock) {
    let names: HashSet<&str> = base.file.packages.iter().map(|p| p.name.as_str()).collect();
    for f in now {
        f.new = !names.contains(f.crate_name().unwrap_or(""));
    }
}

/// The license of every package `cargo metadata` lists (dependencies included, as locked).
fn license_findings(
    policy: &config::LicensePolicy,
    ws: &Workspace,
    lock: &Lock,
) -> Result<Vec<Finding>, String> {
    // Offline first: after a build every locked crate is on disk, and nothing is fetched.
    let metadata = |extra: &[&str]| {
        let mut options = vec!["--locked".to_string()];
        options.extend(extra.iter().map(|s| s.to_string()));
        let cmd = cargo_metadata::MetadataCommand::new()
            .manifest_path(&ws.manifest_path)
            .other_options(options)
            .cargo_command();
        crate::exec::process::output(cmd, Some(METADATA_TIMEOUT))
            .map_err(|e| format!("cannot run cargo metadata: {e}"))
    };
    let mut out = metadata(&["--offline"])?;
    if !out.success() {
        out = metadata(&[])?;
    }
    if !out.success() {
        return Err(format!(
            "`cargo metadata --locked` failed ({}): {}",
            out.exit,
            out.stderr_text().trim()
        ));
    }
    let meta =
        cargo_metadata::MetadataCommand::parse(String::from_utf8_lossy(&out.stdout).as_ref())
            .map_err(|e| format!("unreadable `cargo metadata` output: {e}"))?;
    let members: HashSet<_> = meta.workspace_members.iter().collect();
    let packages: Vec<licenses::Licensed<'_>> = meta
        .packages
        .iter()
        .map(|p| {
            let version = p.version.to_string();
            let local = p.source.is_none();
            let manifest = p.manifest_path.as_std_path();
            let file = if members.contains(&p.id) {
                manifest.strip_prefix(&ws.root).map_or_else(
                    |_| "Cargo.toml".to_string(),
                    |r| r.to_string_lossy().replace('\\', "/"),
                )
            } else {
                "Cargo.lock".to_string()
            };
            let line = if file == "Cargo.lock" {
                lock.line_of(&p.name, &version)
            } else {
                manifest_line(manifest, "license")
            };
            licenses::Licensed {
                name: p.name.as_str(),
                version,
                license: p.license.as_deref(),
                license_file: p.license_file.as_ref().map(|f| f.to_string()),
                local,
                private: p.publish.as_ref().is_some_and(Vec::is_empty),
                file,
                line,
            }
        })
        .collect();
    Ok(licenses::check(policy, &packages))
}

/// The line of `key = …` in a manifest (1-based), for annotations.
fn manifest_line(manifest: &Path, key: &str) -> Option<u32> {
    let text = std::fs::read_to_string(manifest).ok()?;
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i as u32 + 1)
}

/// Secrets in the lines the change adds, paths from the workspace root.
fn secret_findings(
    cfg: &SecurityConfig,
    ws: &Workspace,
    base: &Base,
) -> Result<Vec<Finding>, String> {
    let mut builder = globset::GlobSetBuilder::new();
    for p in &cfg.allow_paths {
        builder.add(globset::Glob::new(p).map_err(|e| e.to_string())?);
    }
    let paths = builder.build().map_err(|e| e.to_string())?;
    let allow = secrets::Allow {
        paths: &paths,
        fingerprints: &cfg.allow_fingerprints,
    };
    let mut found = Vec::new();
    crate::baseline::change::added_lines(
        &ws.root,
        &base.store,
        base.commit,
        &mut |file, line, text| {
            found.extend(secrets::scan_line(file, line, text, &allow));
        },
    )?;
    Ok(found)
}

/// Sets aside what an `ignore` entry names until its day has passed; an expired one makes the
/// finding count as introduced, saying so: the deadline the team set has come.
fn apply_ignores(findings: &mut [Finding], ignores: &[config::Ignore], today: chrono::NaiveDate) {
    for f in findings {
        // A crate's name sets aside its license, source or yanked finding, never an advisory on it.
        let name = f.crate_name().filter(|_| {
            matches!(
                f.kind,
                FindingKind::License | FindingKind::Source | FindingKind::Yanked
            )
        });
        let matches = |i: &&config::Ignore| {
            let by_id = f.kind != FindingKind::Secret && i.id == f.id;
            by_id || Some(i.id.as_str()) == name || Some(&i.id) == f.fingerprint.as_ref()
        };
        let Some(ignore) = ignores.iter().find(matches) else {
            continue;
        };
        match ignore.until {
            Some(until) if until < today => {
                f.expired = Some(until.to_string());
                f.new = true;
            }
            _ => {
                f.ignored = Some(
                    ignore
                        .reason
                        .clone()
                        .unwrap_or_else(|| "ignored".to_string()),
                );
            }
        }
    }
}

/// The metrics: each family counted whole and, where the base tells, what the change adds.
fn metrics(s: &SecuritySummary, could_not: bool) -> Vec<Metric> {
    let count = |pred: &dyn Fn(&Finding) -> bool| {
        s.findings.iter().filter(|f| f.counts() && pred(f)).count() as f64
    };
    let mut out = Vec::new();
    // Totals go to the notes for their trend; what the change adds is gated only.
    let mut push = |name: &str, v: f64| {
        let role = if name.contains(".new_") || name == "security.failed" {
            Role::Gated
        } else {
            Role::Trend
        };
        out.push(Metric::new(
            name,
            "count",
            Direction::LowerIsBetter,
            role,
            vec![v],
        ));
    };
    push("security.failed", if could_not { 1.0 } else { 0.0 });
    for &kind in FindingKind::FROM_LOCK {
        let family = kind.family();
        push(&format!("security.{family}"), count(&|f| f.kind == kind));
        push(
            &format!("security.new_{family}"),
            count(&|f| f.kind == kind && f.new),
        );
    }
    push(
        "security.secrets",
        count(&|f| f.kind == FindingKind::Secret),
    );
    push(
        "security.ignored",
        s.findings.iter().filter(|f| !f.counts()).count() as f64,
    );
    out
}

fn case_of(f: &Finding) -> Case {
    let mut detail = Vec::new();
    if !f.patched.is_empty() {
        detail.push(format!("fixed in {}", f.patched.join(", ")));
    } else if matches!(f.kind, FindingKind::Vulnerability | FindingKind::Unsound) {
        detail.push("no fixed version".to_string());
    }
    if f.path.len() > 1 {
        detail.push(format!("reached by {}", f.path.join(" → ")));
    }
    if let Some(url) = &f.url {
        detail.push(url.clone());
    }
    if let Some(fp) = &f.fingerprint {
        detail.push(format!("fingerprint {fp} (add it to [security.secrets] allow_fingerprints if this is no secret)"));
    }
    let id = match &f.package {
        Some(p) => format!("{} {} {p}", f.kind.label(), f.id),
        None => format!(
            "{} {} {}:{}",
            f.kind.label(),
            f.id,
            f.file.as_deref().unwrap_or("?"),
            f.line.unwrap_or(0)
        ),
    };
    let mut case = Case::single(
        id,
        f.kind.label(),
        CaseStatus::Failed,
        0.0,
        f.describe(),
        String::new(),
    );
    case.attempts.clear();
    case.detail = (!detail.is_empty()).then(|| detail.join("\n"));
    case.location = f.file.as_ref().map(|file| crate::model::SourceLocation {
        file: file.clone(),
        line: f.line.unwrap_or(1),
        col: None,
    });
    case
}

/// The suite's report: a failing case per finding the change introduces, one case saying what
/// was checked (and what the base already had), the metrics and the findings in full.
fn assemble(
    summary: SecuritySummary,
    problems: Vec<String>,
    notes: Vec<String>,
    secs: f64,
) -> Suite {
    let could_not = !problems.is_empty();
    let mut cases: Vec<Case> = summary
        .findings
        .iter()
        .filter(|f| f.counts() && f.new)
        .map(case_of)
        .collect();
    let existing = summary
        .findings
        .iter()
        .filter(|f| f.counts() && !f.new)
        .count();
    let mut message = vec![format!("{} crates checked", summary.packages)];
    if existing > 0 {
        let base = summary.base.as_deref().unwrap_or("the base");
        message.push(format!(
            "{existing} finding{} already on {base}, not from this change",
            if existing == 1 { "" } else { "s" }
        ));
    }
    let ignored = summary.findings.iter().filter(|f| !f.counts()).count();
    if ignored > 0 {
        message.push(format!("{ignored} ignored"));
    }
    let mut detail: Vec<String> = problems.clone();
    detail.extend(notes);
    if let Some(db) = &summary.database {
        detail.push(format!("advisories from {db}"));
    }
    let status = if could_not {
        CaseStatus::Failed
    } else {
        CaseStatus::Passed
    };
    let text = if could_not {
        format!("could not check everything: {}", problems.join("; "))
    } else {
        message.join(" · ")
    };
    let mut audit = Case::single(ID, "audit", status, secs, text, String::new());
    audit.attempts.clear();
    audit.detail = (!detail.is_empty()).then(|| detail.join("\n"));
    cases.insert(0, audit);
    let mut s = crate::suites::suite(SuiteKind::Security, secs, cases);
    s.metrics = metrics(&summary, could_not);
    s.details = Details::Security(summary);
    s
}

/// The workspace's directory in its repository (`rust/app`), when it is not the root.
fn repo_prefix(ws_root: &Path) -> Option<String> {
    let repo = git2::Repository::discover(ws_root).ok()?;
    let work = crate::util::fs::canonical(repo.workdir()?);
    let root = crate::util::fs::canonical(ws_root);
    let rel = root.strip_prefix(&work).ok()?;
    (!rel.as_os_str().is_empty()).then(|| rel.to_string_lossy().replace('\\', "/"))
}

/// The security suite behind the common interface.
struct SecuritySuite {
    config: SecurityConfig,
}

/// Makes the security suite; `--suite security` without `[security]` uses the defaults
/// (advisories, sources and secrets; licenses need a policy).
pub fn build(
    config: &crate::config::Config,
    options: &crate::suites::SuiteOptions,
) -> crate::error::Result<Box<dyn crate::suites::Suite>> {
    let mut config = config
        .security
        .clone()
        .unwrap_or_else(config::SecurityConfig::defaults);
    config.offline |= options.offline;
    Ok(Box::new(SecuritySuite { config }))
}

impl crate::suites::Suite for SecuritySuite {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Security
    }

    fn list(
        &self,
        _cx: &crate::suites::RunContext<'_>,
    ) -> crate::error::Result<Vec<crate::suites::Listed>> {
        let mut names = vec!["advisories".to_string()];
        if self.config.licenses.is_some() {
            names.push("licenses".to_string());
        }
        if self.config.sources {
            names.push("sources".to_string());
        }
        if self.config.secrets {
            names.push("secrets".to_string());
        }
        Ok(crate::suites::Listed::all("security", &names))
    }

    fn run(&mut self, cx: &mut crate::suites::RunContext<'_>) -> crate::error::Result<Suite> {
        let suite = run(
            &self.config,
            cx.ws,
            cx.baseline_rev,
            chrono::Local::now().date_naive(),
        );
        if let Some(summary) = suite.security() {
            let prefix = repo_prefix(&cx.ws.root);
            sarif::write(
                &cx.out_dir.join("security.sarif"),
                summary,
                prefix.as_deref(),
            )
            .map_err(|e| {
                crate::error::Error::Internal(format!("cannot write security.sarif: {e}"))
            })?;
        }
        Ok(suite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: FindingKind, id: &str, package: &str) -> Finding {
        Finding {
            package: Some(package.to_string()),
            ..Finding::new(kind, id, "")
        }
    }

    #[test]
    fn a_bump_that_stays_vulnerable_is_not_new() {
        let before = [finding(FindingKind::Vulnerability, "RUSTSEC-1", "a 1.0.0")];
        let mut now = [
            finding(FindingKind::Vulnerability, "RUSTSEC-1", "a 1.1.0"),
            finding(FindingKind::Vulnerability, "RUSTSEC-1", "b 1.0.0"),
            finding(FindingKind::Unsound, "RUSTSEC-2", "a 1.1.0"),
        ];
        mark_new(&mut now, &before);
        let new: Vec<bool> = now.iter().map(|f| f.new).collect();
        assert_eq!(new, [false, true, true]);
    }

    #[test]
    fn ignores_match_by_kind_and_expire_after_their_day() {
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let ignore = |id: &str, until: Option<&str>| config::Ignore {
            id: id.to_string(),
            reason: Some("why".to_string()),
            until: until.and_then(day),
        };
        let mut found = [
            finding(FindingKind::Vulnerability, "RUSTSEC-1", "hyper 0.14.0"),
            finding(FindingKind::License, "GPL-3.0", "hyper 0.14.0"),
            finding(FindingKind::Vulnerability, "RUSTSEC-2", "h2 0.3.0"),
        ];
        found[2].new = false;
        let today = day("2026-12-03").unwrap();
        apply_ignores(
            &mut found,
            &[
                ignore("hyper", None),
                ignore("RUSTSEC-2", Some("2026-12-02")),
            ],
            today,
        );
        assert_eq!(
            found[0].ignored, None,
            "a crate name never hides an advisory"
        );
        assert_eq!(found[1].ignored.as_deref(), Some("why"));
        assert_eq!(found[2].expired.as_deref(), Some("2026-12-02"));
        assert!(found[2].new, "an expired ignore counts as introduced");
        let mut held = [finding(FindingKind::Vulnerability, "RUSTSEC-2", "h2 0.3.0")];
        apply_ignores(&mut held, &[ignore("RUSTSEC-2", Some("2026-12-03"))], today);
        assert!(held[0].ignored.is_some(), "the last day still holds");
    }
}
