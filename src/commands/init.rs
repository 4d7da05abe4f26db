//! `cargo gate init`: a commented starter gate.toml and the GitHub workflow.

use std::path::Path;

use crate::config;
use crate::context::display_path;
use crate::error::{EXIT_PASS, Error, Result};
use crate::workspace::Workspace;

/// The GitHub Actions workflow `cargo gate init` writes (`__DEFAULT_BRANCH__` filled in).
pub const STARTER_WORKFLOW: &str = include_str!("../../templates/workflow.yml");

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

/// The workflow for a repository whose default branch is `branch`.
pub fn workflow_for(branch: &str) -> String {
    // YAML-quoted so any branch name stays one flow-sequence item.
    let quoted = format!("\"{}\"", branch.replace('\\', "\\\\").replace('"', "\\\""));
    let item = if branch
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'))
    {
        branch.to_string()
    } else {
        quoted
    };
    STARTER_WORKFLOW.replace("__DEFAULT_BRANCH__", &item)
}

pub fn init(manifest: Option<&Path>, force: bool, workflow: bool) -> Result<i32> {
    let ws = Workspace::load(manifest)?;
    let mut files = vec![(ws.root.join(config::FILE_NAME), config::STARTER.to_string())];
    let (branch, from) = default_branch(&ws.root);
    if workflow {
        files.push((
            ws.root.join(".github/workflows/gate.yml"),
            workflow_for(&branch),
        ));
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
    if workflow {
        println!("the workflow saves baselines on pushes to `{branch}` ({from})");
    }
    println!("next: `cargo gate check`, then `cargo gate run`");
    Ok(EXIT_PASS)
}
