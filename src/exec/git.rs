//! Git. Reading the repository goes through git2; the CLI is used only where git's own
//! configuration matters (credentials for fetch and push, worktrees), always through the process
//! layer, in the C locale, and read from machine-readable output rather than from messages.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::{self, Captured, Exit};

/// How long a local git command may take before it is killed.
pub const LOCAL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a fetch or push may take: remotes can be slow, but never hang a CI job for good.
pub const NETWORK_TIMEOUT: Duration = Duration::from_secs(600);

/// Why a git command did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git could not be started.
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    /// git ran but did not succeed.
    #[error("`git {args}` failed ({exit}): {stderr}")]
    Failed {
        /// The arguments, joined.
        args: String,
        /// How it ended.
        exit: Exit,
        /// What git said on stderr.
        stderr: String,
        /// What git printed on stdout (porcelain output is read from here).
        stdout: String,
    },
}

/// The `git` program; `CARGO_GATE_GIT` replaces it (a wrapper, or a git outside PATH).
pub fn program() -> PathBuf {
    std::env::var_os("CARGO_GATE_GIT").map_or_else(|| PathBuf::from("git"), PathBuf::from)
}

/// A git command in `dir`, in the C locale and never prompting for credentials.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program());
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        // Messages in English whatever the user's locale, and nothing read from them anyway
        // where porcelain output exists; LANGUAGE would override LC_ALL for gettext.
        .env("LC_ALL", "C")
        .env_remove("LANGUAGE");
    cmd
}

/// Runs git under `timeout`; a non-zero exit is an error carrying both streams.
pub fn run(dir: &Path, args: &[&str], timeout: Duration) -> Result<Captured, GitError> {
    let out = run_unchecked(dir, args, timeout)?;
    if out.success() {
        Ok(out)
    } else {
        Err(GitError::Failed {
            args: args.join(" "),
            exit: out.exit,
            stderr: out.stderr_text(),
            stdout: out.stdout_text(),
        })
    }
}

/// Runs git under `timeout` and returns whatever it did.
pub fn run_unchecked(dir: &Path, args: &[&str], timeout: Duration) -> Result<Captured, GitError> {
    process::output(command(dir, args), Some(timeout)).map_err(GitError::Spawn)
}

/// Facts about the checkout a run reports: read with git2, so no git binary is needed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The commit HEAD points at.
    pub head: Option<String>,
    /// The branch HEAD is on (`HEAD` when detached).
    pub branch: Option<String>,
    /// `dir` relative to the repository's work tree (`""` at its root), when in a repository.
    pub prefix: Option<String>,
}

/// A temporary worktree of `repo` at a commit, removed when dropped (after success, an error or
/// Ctrl-C, which makes the work in it return): the user's checkout is never touched.
pub struct Worktree {
    repo: PathBuf,
    /// Its directory.
    pub dir: PathBuf,
}

impl Worktree {
    /// A detached worktree of `commit` in a new temporary directory named after `purpose`.
    pub fn add(repo: &Path, commit: &str, purpose: &str) -> Result<Worktree, String> {
        // git creates the directory; the name only has to be unused.
        let dir = std::env::temp_dir().join(format!(
            "cargo-gate-{purpose}-{}-{}",
            std::process::id(),
            &commit[..12.min(commit.len())]
        ));
        let dir_text = dir.to_string_lossy().to_string();
        let wt = Worktree {
            repo: repo.to_path_buf(),
            dir,
        };
        // A failed or interrupted `add` may already have registered the worktree: dropping
        // `wt` on the error path removes whatever it left.
        run(
            repo,
            &["worktree", "add", "--detach", "--quiet", &dir_text, commit],
            LOCAL_TIMEOUT,
        )
        .map_err(|e| e.to_string())?;
        Ok(wt)
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        // Also after Ctrl-C: that is when a worktree would otherwise be left behind.
        let dir = self.dir.to_string_lossy();
        // Twice --force: an `add` killed half-way leaves the worktree locked ("initializing"),
        // which one --force does not remove and `prune` does not touch.
        let _ = process::cleanup(
            command(
                &self.repo,
                &["worktree", "remove", "--force", "--force", &dir],
            ),
            LOCAL_TIMEOUT,
        );
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = process::cleanup(command(&self.repo, &["worktree", "prune"]), LOCAL_TIMEOUT);
    }
}

/// Reads [`Facts`] for `dir`; outside a repository every field is `None`.
pub fn facts(dir: &Path) -> Facts {
    let Ok(repo) = git2::Repository::discover(dir) else {
        return Facts::default();
    };
    let head_ref = repo.head().ok();
    let head = head_ref
        .as_ref()
        .and_then(|h| h.peel_to_commit().ok())
        .map(|c| c.id().to_string());
    let branch = head_ref.as_ref().map(|h| {
        if h.is_branch() {
            h.shorthand().unwrap_or("HEAD").to_string()
        } else {
            "HEAD".to_string()
        }
    });
    let prefix = repo.workdir().map(|work| {
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        canon(dir)
            .strip_prefix(canon(work))
            .map(|p| p.to_string_lossy().trim_end_matches('/').to_string())
            .unwrap_or_default()
    });
    Facts {
        head,
        branch,
        prefix,
    }
}

/// One line of `git push --porcelain`: the flag says what happened to a ref, in every locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushStatus {
    /// Updated, created, deleted or already up to date.
    Done,
    /// Refused because the remote has commits we do not (someone pushed first).
    Behind,
    /// Refused for another reason (a hook, permissions, a protected ref).
    Refused,
}

/// The status of `dst` in `git push --porcelain` output, if the output names it.
///
/// Lines are `<flag>\t<src>:<dst>\t<summary>`; flag `!` is a rejection. Its summary starts with
/// `[rejected]` when the remote moved on, and with `[remote rejected] (reason)` when the remote
/// refused; the reason is a protocol string (never translated), and a failed ref update or
/// lock means another push got there at the same moment.
pub fn push_status(porcelain: &str, dst: &str) -> Option<PushStatus> {
    porcelain.lines().find_map(|line| {
        let mut fields = line.split('\t');
        let flag = fields.next()?;
        let refs = fields.next()?;
        let summary = fields.next().unwrap_or("");
        if refs.rsplit(':').next() != Some(dst) {
            return None;
        }
        Some(match flag.trim() {
            "!" if summary.starts_with("[rejected]") => PushStatus::Behind,
            "!" if summary.starts_with("[remote rejected]")
                && (summary.contains("failed to update ref") || summary.contains("lock")) =>
            {
                PushStatus::Behind
            }
            "!" => PushStatus::Refused,
            _ => PushStatus::Done,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_push_porcelain_by_flag_not_by_message() {
        let out = "To /tmp/remote\n!\trefs/notes/x:refs/notes/x\t[rejected] (fetch first)\nDone\n";
        assert_eq!(push_status(out, "refs/notes/x"), Some(PushStatus::Behind));
        let hook = "To r\n!\trefs/notes/x:refs/notes/x\t[remote rejected] (hook declined)\n";
        assert_eq!(push_status(hook, "refs/notes/x"), Some(PushStatus::Refused));
        let race = "To r\n!\trefs/notes/x:refs/notes/x\t[remote rejected] (failed to update ref)\n";
        assert_eq!(push_status(race, "refs/notes/x"), Some(PushStatus::Behind));
        let ok = "To r\n \trefs/notes/x:refs/notes/x\tabc..def\nDone\n";
        assert_eq!(push_status(ok, "refs/notes/x"), Some(PushStatus::Done));
        let same = "To r\n=\trefs/notes/x:refs/notes/x\t[up to date]\n";
        assert_eq!(push_status(same, "refs/notes/x"), Some(PushStatus::Done));
        assert_eq!(push_status(ok, "refs/notes/other"), None);
    }

    #[test]
    fn facts_name_the_commit_the_branch_and_the_subdirectory() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        let tree = repo
            .find_tree(repo.index().unwrap().write_tree().unwrap())
            .unwrap();
        let commit = repo
            .commit(Some("HEAD"), &sig, &sig, "init", &tree, &[])
            .unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let f = facts(&dir.path().join("sub"));
        assert_eq!(f.head, Some(commit.to_string()));
        assert!(f.branch.is_some_and(|b| b != "HEAD"));
        assert_eq!(f.prefix.as_deref(), Some("sub"));
        assert_eq!(facts(dir.path()).prefix.as_deref(), Some(""));
    }

    #[test]
    fn a_hanging_git_is_killed_at_its_timeout() {
        // `git -c alias.x='!sleep 30' x` hangs in a shell alias, as a credential helper might.
        let dir = tempfile::tempdir().unwrap();
        let started = std::time::Instant::now();
        let out = run_unchecked(
            dir.path(),
            &["-c", "alias.hang=!sleep 30", "hang"],
            Duration::from_millis(300),
        )
        .unwrap();
        assert_eq!(out.exit, Exit::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}
