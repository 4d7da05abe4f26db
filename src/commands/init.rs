//! `cargo gate init`: a commented starter gate.toml and the GitHub workflow.

use std::path::Path;

use crate::config;
use crate::context::display_path;
use crate::error::{EXIT_PASS, Error, Result};
use crate::workspace::Workspace;

/// The GitHub Actions workflow `cargo gate init` writes (`__DEFAULT_BRANCH__` filled in).
pub const STARTER_WORKFLOW: &str = include_str!("../../templates/workflow.yml");
/// `--shards N`: a matrix of shards and a merging job.
const SHARDS_WORKFLOW: &str = include_str!("../../templates/workflow-shards.yml");
/// `--fork-safe`: the untrusted half (runs) and the trusted half (publishes).
const FORK_WORKFLOW: &str = include_str!("../../templates/workflow-fork.yml");
const PUBLISH_WORKFLOW: &str = include_str!("../../templates/workflow-publish.yml");

/// Which workflow to write.
#[derive(Debug, Clone, Copy, Default)]
pub struct Workflow {
    /// Also the `workflow_run` publisher for fork pull requests.
    pub fork_safe: bool,
    /// Shards of the test run.
    pub shards: Option<u32>,
}

/// The branch the workflow saves baselines on: the remote's default (`origin/HEAD`), else the
/// branch checked out, else `main`. Never guessed as `main` when the repository says otherwise.
fn default_branch(root: &Path) -> (String, &'static str) {
    let Ok(repo) = git2::Repository::discover(root) else {
        return ("main".to_string(), "not a git repository");
    };
    if let Ok(r) = repo.find_reference("refs/remotes/origin/HEAD")
        && let Ok(Some(target)) = r.symbolic_target()
        && let Some(name) = target.strip_prefix("refs/remotes/origin/")
    {
        return (name.to_string(), "origin/HEAD");
    }
    // An unborn branch (no commit yet) still names itself in HEAD.
    if let Ok(head) = repo.find_reference("HEAD")
        && let Ok(Some(target)) = head.symbolic_target()
        && let Some(name) = target.strip_prefix("refs/heads/")
    {
        return (name.to_string(), "the branch checked out");
    }
    ("main".to_string(), "no branch found")
}

/// `package/bench` for every bench target of a member that depends on criterion.
fn criterion_benches(ws: &Workspace) -> Vec<String> {
    ws.members
        .iter()
        .filter(|p| p.dependencies.iter().any(|d| d.name == "criterion"))
        .flat_map(|p| {
            p.targets
                .iter()
                .filter(|t| t.kind.iter().any(|k| k.to_string() == "bench"))
                .map(move |t| format!("{}/{}", p.name, t.name))
        })
        .collect()
}

/// A commented `[bench]` section naming the benchmarks found, put before `[gate]`.
fn bench_suggestion(benches: &[String]) -> String {
    format!(
        "# This workspace has criterion benchmarks ({}). Uncomment to run them in the bench suite:\n\
         # each is compared with the baselines in git notes (saved on the default branch), and on\n\
         # pull requests the action's `paired: merge-base` input measures both sides in one job.\n\
         # Keep criterion's measurement short (a second) for paired rounds.\n\
         # [bench]\n\
         # run = [\"cargo\", \"bench\", \"--workspace\"]\n\
         # and in [gate]: warn = [\"bench.*.regression < 5%\"]\n\n[gate]\n",
        benches.join(", ")
    )
}

/// The workflow files for a repository whose default branch is `branch`: `(file name, text)`.
pub fn workflows_for(branch: &str, kind: Workflow) -> Vec<(&'static str, String)> {
    // YAML-quoted unless plain, so any branch name stays one flow-sequence item.
    let item = if branch
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'))
    {
        branch.to_string()
    } else {
        format!("\"{}\"", branch.replace('\\', "\\\\").replace('"', "\\\""))
    };
    let fill = |t: &str| t.replace("__DEFAULT_BRANCH__", &item);
    match kind {
        Workflow {
            shards: Some(n), ..
        } => {
            let list: Vec<String> = (1..=n).map(|k| k.to_string()).collect();
            vec![(
                "gate.yml",
                fill(SHARDS_WORKFLOW)
                    .replace("__SHARD_LIST__", &list.join(", "))
                    .replace("__SHARDS__", &n.to_string()),
            )]
        }
        Workflow {
            fork_safe: true, ..
        } => vec![
            ("gate.yml", fill(FORK_WORKFLOW)),
            ("gate-publish.yml", PUBLISH_WORKFLOW.to_string()),
        ],
        _ => vec![("gate.yml", fill(STARTER_WORKFLOW))],
    }
}

pub fn init(manifest: Option<&Path>, force: bool, workflow: Option<Workflow>) -> Result<i32> {
    let ws = Workspace::load(manifest)?;
    let benches = criterion_benches(&ws);
    let mut starter = config::STARTER.to_string();
    if !benches.is_empty() {
        starter = starter.replacen("[gate]\n", &bench_suggestion(&benches), 1);
    }
    let mut files = vec![(ws.root.join(config::FILE_NAME), starter)];
    let (branch, from) = default_branch(&ws.root);
    if let Some(kind) = workflow {
        for (name, text) in workflows_for(&branch, kind) {
            files.push((ws.root.join(".github/workflows").join(name), text));
        }
    }
    // Check every file first, so a refusal writes nothing.
    for (path, _) in &files {
        if path.exists() && !force {
            return Err(Error::usage(
                format!("{} already exists", display_path(path).display()),
                Some("pass --force to overwrite, --no-workflow to leave the workflow out, or edit the file and run `cargo gate check`".to_string()),
            ));
        }
    }
    for (path, text) in &files {
        crate::util::fs::write_atomic(path, text.as_bytes())?;
        println!("wrote {}", display_path(path).display());
    }
    if workflow.is_some() {
        println!("the workflow saves baselines on pushes to `{branch}` ({from})");
    }
    if !benches.is_empty() {
        println!(
            "found criterion benchmarks ({}): gate.toml suggests a [bench] section, commented out",
            benches.join(", ")
        );
    }
    println!("next: `cargo gate check`, then `cargo gate run`");
    Ok(EXIT_PASS)
}
