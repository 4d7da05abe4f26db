//! The snapshot suite: insta snapshots the tests left pending (`.snap.new` files and inline
//! `.pending-snap` files), each a failed case with a unified diff, plus unreferenced snapshots.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use similar::{ChangeTag, TextDiff};

use crate::config::{PendingMode, SnapshotsConfig, Unreferenced};
use crate::model::{DiffKind, DiffLine, Metric, SourceLocation, Suite, SuiteKind};
use crate::suites::watch::{self, Change, Watch};
use crate::suites::{failed_case, relative, suite};

/// What insta writes for a failing assertion.
pub fn is_pending_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".snap.new") || (name.starts_with('.') && name.ends_with(".pending-snap"))
}

fn is_snapshot_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "snap")
}

/// Set up before the tests run.
pub struct SnapshotRun {
    watch: Watch,
    references: Option<PathBuf>,
    config: SnapshotsConfig,
}

impl SnapshotRun {
    /// Starts watching `root` and returns the environment the test processes need:
    /// pending snapshots are written as files (never accepted, never forced to pass), and insta
    /// is told the workspace root so it does not run `cargo metadata` in every test process.
    pub fn start(
        root: &Path,
        target_dir: &Path,
        out_dir: &Path,
        config: &SnapshotsConfig,
        full_run: bool,
    ) -> (SnapshotRun, Vec<(String, String)>) {
        let watch = Watch::start(
            root,
            &[target_dir.to_path_buf(), out_dir.to_path_buf()],
            is_pending_file,
        );
        let mut env = vec![
            ("INSTA_UPDATE".to_string(), "new".to_string()),
            ("INSTA_FORCE_PASS".to_string(), "0".to_string()),
            (
                "INSTA_WORKSPACE_ROOT".to_string(),
                root.display().to_string(),
            ),
        ];
        let references = (config.unreferenced == Unreferenced::Report && full_run).then(|| {
            let path = out_dir.join("snapshots").join("referenced.txt");
            if let Some(parent) = path.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let _ = std::fs::write(&path, "");
            path
        });
        if let Some(r) = &references {
            env.push((
                "INSTA_SNAPSHOT_REFERENCES_FILE".to_string(),
                r.display().to_string(),
            ));
        }
        (
            SnapshotRun {
                watch,
                references,
                config: config.clone(),
            },
            env,
        )
    }

    /// Collects pending snapshots into a suite and restores the tree as configured. Files moved
    /// out of the tree go to `<out_dir>/snapshots/`.
    /// `names` maps a snapshot file (relative to the root) to the name insta gave it, as the
    /// tests' output says.
    pub fn finish(
        self,
        out_dir: &Path,
        target_dir: &Path,
        duration: f64,
        names: &HashMap<String, String>,
        events: crate::event::Sink<'_>,
    ) -> Suite {
        let root = self.watch.root().to_path_buf();
        let changes = self.watch.changes();
        let mut cases = Vec::new();
        let mut notes = Vec::new();
        let dest = out_dir.join("snapshots");
        for change in &changes {
            if change.after.is_some() {
                cases.extend(cases_for(&root, change, names));
            }
            match self.config.pending {
                PendingMode::Keep => {}
                PendingMode::Move | PendingMode::Delete => {
                    if self.config.pending == PendingMode::Move
                        && change.after.is_some()
                        && let Err(e) = watch::keep_copy(change, &root, &dest)
                    {
                        notes.push(format!("cannot copy {}: {e}", change.path.display()));
                    }
                    if let Err(e) = watch::restore(change) {
                        notes.push(format!("cannot restore {}: {e}", change.path.display()));
                    }
                }
            }
        }
        for note in notes {
            crate::event::warn(events, Some(SuiteKind::Snapshots), &note);
        }
        let pending = cases.len();
        let mut unreferenced = 0;
        if let Some(refs) = &self.references {
            let referenced: BTreeSet<PathBuf> = std::fs::read_to_string(refs)
                .unwrap_or_default()
                .lines()
                .map(|l| canonical(Path::new(l.trim())))
                .collect();
            let all = Watch::start(
                &root,
                &[target_dir.to_path_buf(), out_dir.to_path_buf()],
                is_snapshot_file,
            );
            for change in all.files() {
                if referenced.contains(&canonical(&change)) {
                    continue;
                }
                unreferenced += 1;
                let rel = relative(&root, &change);
                cases.push(failed_case(
                    format!("unreferenced {rel}"),
                    rel.clone(),
                    format!("unreferenced snapshot {rel}: no test asserted it"),
                    "delete the file, or run `cargo insta test --unreferenced=delete`".to_string(),
                ));
            }
        }
        let mut s = suite(SuiteKind::Snapshots, duration, cases);
        s.metrics.push(Metric::count("snapshots.pending", pending));
        if self.references.is_some() {
            s.metrics
                .push(Metric::count("snapshots.unreferenced", unreferenced));
        }
        s
    }
}

/// Snapshot file → name, from insta's `Snapshot file: PATH` / `Snapshot: NAME` lines in the
/// tests' output.
pub fn names_from_output<'a>(
    outputs: impl IntoIterator<Item = &'a str>,
) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for output in outputs {
        let mut file: Option<&str> = None;
        for line in output.lines() {
            if let Some(f) = line.strip_prefix("Snapshot file: ") {
                file = Some(f.trim());
            } else if let Some(n) = line.strip_prefix("Snapshot: ")
                && let Some(f) = file.take()
                && n.trim() != "<inline>"
            {
                names.insert(f.to_string(), n.trim().to_string());
            }
        }
    }
    names
}

/// The snapshot's name in a `.snap` file stem `<module__path>__<name>`: what follows the last
/// `__`, as insta itself reads it back (the module path holds `__` between its parts).
fn snapshot_name(stem: &str) -> &str {
    stem.rsplit_once("__").map_or(stem, |(_, name)| name)
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

fn cases_for(
    root: &Path,
    change: &Change,
    names: &HashMap<String, String>,
) -> Vec<crate::model::Case> {
    let text = String::from_utf8_lossy(change.after.as_deref().unwrap_or_default()).into_owned();
    let name = change
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    if name.ends_with(".snap.new") {
        vec![file_case(root, &change.path, &text, names)]
    } else {
        inline_cases(root, &change.path, &text)
    }
}

/// Splits insta's `---`-delimited header from the snapshot body.
fn split_snap(text: &str) -> (Vec<(String, String)>, String) {
    let mut lines = text.lines();
    if lines.next() != Some("---") {
        return (Vec::new(), text.to_string());
    }
    let mut header = Vec::new();
    let mut consumed = 4;
    for line in lines.by_ref() {
        consumed += line.len() + 1;
        if line == "---" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            header.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let body = text.get(consumed.min(text.len())..).unwrap_or("");
    (header, body.trim_end_matches('\n').to_string())
}

fn file_case(
    root: &Path,
    pending: &Path,
    text: &str,
    names: &HashMap<String, String>,
) -> crate::model::Case {
    let (header, new_body) = split_snap(text);
    let snap_path = pending.with_extension("");
    let old = std::fs::read_to_string(&snap_path)
        .ok()
        .map(|t| split_snap(&t).1);
    let rel = relative(root, &snap_path);
    let stem = snap_path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("snapshot");
    // insta says the name when the assertion fails; the file name alone cannot tell a module
    // path from a name that holds `__` itself.
    let snapshot_name = names
        .get(&rel)
        .cloned()
        .unwrap_or_else(|| snapshot_name(stem).to_string());
    let get = |k: &str| {
        header
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let message = match &old {
        Some(_) => format!("snapshot `{snapshot_name}` does not match {rel}"),
        None => format!("new snapshot `{snapshot_name}` ({rel} does not exist yet)"),
    };
    let mut case = diff_case(
        format!("snapshot {rel}"),
        snapshot_name,
        message,
        diff_lines(old.as_deref().unwrap_or(""), &new_body, &rel),
    );
    if let Some(source) = get("source") {
        case.location = Some(SourceLocation {
            file: source.trim_matches('"').to_string(),
            line: get("assertion_line")
                .and_then(|l| l.parse().ok())
                .unwrap_or(1),
            col: None,
        });
    }
    case
}

fn inline_cases(root: &Path, pending: &Path, text: &str) -> Vec<crate::model::Case> {
    let file_name = pending.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let source_name = file_name
        .trim_start_matches('.')
        .trim_end_matches(".pending-snap");
    let source = pending.with_file_name(source_name);
    let source_rel = relative(root, &source);
    let entries: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    // insta appends one line per run; only the last run's entries are current.
    let last_run = entries
        .last()
        .and_then(|e| e["run_id"].as_str())
        .map(str::to_string);
    let mut seen_lines = BTreeSet::new();
    entries
        .iter()
        .filter(|e| e["run_id"].as_str().map(str::to_string) == last_run)
        .filter_map(|e| {
            let line = e["line"].as_u64()?;
            if !seen_lines.insert(line) {
                return None;
            }
            let new = e["new"]["snapshot"].as_str()?;
            let old = e["old"]["snapshot"].as_str().unwrap_or("");
            let name = e["new"]["snapshot_name"]
                .as_str()
                .unwrap_or("inline")
                .to_string();
            let where_ = format!("{source_rel}:{line}");
            let mut case = diff_case(
                format!("snapshot {where_}"),
                name.clone(),
                format!("inline snapshot `{name}` at {where_} does not match"),
                diff_lines(old, new, &where_),
            );
            case.location = Some(SourceLocation {
                file: source_rel.clone(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
                col: None,
            });
            Some(case)
        })
        .collect()
}

/// A unified diff, old (the accepted snapshot) vs new (what the test produced), line by line
/// with each line's kind as `similar` found it.
pub fn diff_lines(old: &str, new: &str, name: &str) -> Vec<DiffLine> {
    let old = ensure_newline(old);
    let new = ensure_newline(new);
    let line = |kind, text: &str| DiffLine {
        kind,
        text: text.trim_end_matches(['\n', '\r']).to_string(),
    };
    let diff = TextDiff::from_lines(&old, &new);
    let mut lines = vec![
        line(DiffKind::Old, &format!("{name} (accepted)")),
        line(DiffKind::New, &format!("{name} (new)")),
    ];
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        lines.push(line(DiffKind::Hunk, &hunk.header().to_string()));
        for change in hunk.iter_changes() {
            let kind = match change.tag() {
                ChangeTag::Delete => DiffKind::Removed,
                ChangeTag::Insert => DiffKind::Added,
                ChangeTag::Equal => DiffKind::Context,
            };
            lines.push(line(kind, &change.to_string_lossy()));
        }
    }
    lines
}

/// The diff as unified-diff text, for the outputs that show text.
pub fn unified_text(lines: &[DiffLine]) -> String {
    lines.iter().map(|l| l.unified() + "\n").collect()
}

/// A failed snapshot case with its diff, typed and as text.
fn diff_case(id: String, name: String, message: String, diff: Vec<DiffLine>) -> crate::model::Case {
    let mut case = failed_case(id, name, message, unified_text(&diff));
    case.diff = diff;
    case
}

fn ensure_newline(s: &str) -> String {
    if s.is_empty() || s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

/// The snapshots suite: watches the tests run for pending insta snapshots.
struct SnapshotSuite {
    run: Option<SnapshotRun>,
}

/// Makes the snapshots suite.
pub fn build(
    _config: &crate::config::Config,
    _options: &crate::suites::SuiteOptions,
) -> crate::error::Result<Box<dyn crate::suites::Suite>> {
    Ok(Box::new(SnapshotSuite { run: None }))
}

impl crate::suites::Suite for SnapshotSuite {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Snapshots
    }

    fn prepare(&mut self, cx: &mut crate::suites::RunContext<'_>) -> crate::error::Result<()> {
        // Unreferenced snapshots can only be told apart when every test ran.
        let full_run = cx.every_test;
        let (run, env) = SnapshotRun::start(
            &cx.ws.root,
            &cx.ws.target_dir,
            cx.out_dir,
            &cx.config.snapshots,
            full_run,
        );
        cx.test_env.extend(env);
        self.run = Some(run);
        Ok(())
    }

    fn run(&mut self, cx: &mut crate::suites::RunContext<'_>) -> crate::error::Result<Suite> {
        let tests = cx.finished(SuiteKind::Tests);
        let duration = tests.map_or(0.0, |t| t.duration);
        let names = names_from_output(
            tests
                .into_iter()
                .flat_map(|t| &t.cases)
                .flat_map(|c| &c.attempts)
                .map(|a| a.output_tail.as_str()),
        );
        let run = self.run.take().ok_or_else(|| {
            crate::error::Error::Internal("the snapshots suite ran without being prepared".into())
        })?;
        Ok(run.finish(cx.out_dir, &cx.ws.target_dir, duration, &names, cx.events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_are_read_as_insta_reads_them() {
        assert_eq!(snapshot_name("similar__text__char_diff"), "char_diff");
        assert_eq!(snapshot_name("snapshots__tests__greeting"), "greeting");
        assert_eq!(snapshot_name("greeting"), "greeting");
    }

    #[test]
    fn recognises_pending_files() {
        assert!(is_pending_file(Path::new("tests/snapshots/a__b.snap.new")));
        assert!(is_pending_file(Path::new("tests/.snap.rs.pending-snap")));
        assert!(!is_pending_file(Path::new("tests/snapshots/a__b.snap")));
        assert!(!is_pending_file(Path::new("tests/snap.rs.pending-snap")));
    }

    #[test]
    fn splits_header_and_body() {
        let (h, body) =
            split_snap("---\nsource: tests/a.rs\nassertion_line: 7\n---\nline one\nline two\n");
        assert_eq!(h[0], ("source".to_string(), "tests/a.rs".to_string()));
        assert_eq!(h[1].1, "7");
        assert_eq!(body, "line one\nline two");
        assert_eq!(split_snap("no header").1, "no header");
    }

    #[test]
    fn diff_marks_removed_and_added_lines() {
        let lines = diff_lines(
            "Hello\nWelcome to the team.",
            "Hello\nWelcome aboard.",
            "x.snap",
        );
        let kinds: Vec<DiffKind> = lines.iter().map(|l| l.kind).collect();
        use DiffKind::*;
        assert_eq!(kinds, [Old, New, Hunk, Context, Removed, Added]);
        // A line whose own text starts with a marker keeps its kind.
        let tricky = diff_lines("--x\n", "++y\n", "t");
        assert_eq!(tricky[3].kind, Removed);
        assert_eq!(tricky[3].text, "--x");
        assert_eq!(tricky[4].kind, Added);
        let d = unified_text(&lines);
        assert!(
            d.starts_with("--- x.snap (accepted)\n+++ x.snap (new)\n"),
            "{d}"
        );
        assert!(
            d.contains("\n-Welcome to the team.\n+Welcome aboard.\n"),
            "{d}"
        );
    }

    #[test]
    fn inline_entries_keep_only_the_last_run() {
        let dir = tempfile::tempdir().unwrap();
        let pending = dir.path().join("tests/.snap.rs.pending-snap");
        let text = concat!(
            r#"{"run_id":"1","line":5,"new":{"snapshot":"stale"},"old":{"snapshot":"a"}}"#,
            "\n",
            r#"{"run_id":"2","line":9,"new":{"snapshot_name":"inline","snapshot":"b"},"old":{"snapshot":"a"}}"#,
            "\n"
        );
        let cases = inline_cases(dir.path(), &pending, text);
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].id, "snapshot tests/snap.rs:9");
        assert!(cases[0].detail.as_deref().unwrap().contains("-a\n+b\n"));
    }
}
