//! Sharing notes through a git remote with the `git` CLI (so whatever credentials CI set up for
//! git work). Concurrent pushers never lose entries: a rejected push fetches, union-merges the
//! notes commit by commit on top of the remote's, and retries. Never a force push.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::note::{Note, NoteError};
use super::notes::{NOTES_REF, Store, StoreError};

/// Scratch ref a fetch lands in before merging.
const FETCHED_REF: &str = "refs/notes/cargo-gate-fetched";

/// How many times a rejected push is retried.
pub const PUSH_ATTEMPTS: u32 = 10;

/// Errors of fetch and push.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// git failed.
    #[error("`git {args}` failed: {stderr}")]
    Git {
        /// The arguments.
        args: String,
        /// What git said.
        stderr: String,
    },
    /// Could not run git.
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    /// The notes store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Every attempt was rejected.
    #[error("the push was still rejected after {0} attempts (the remote keeps moving)")]
    GaveUp(u32),
}

fn git(dir: &Path, args: &[&str]) -> Result<(bool, String), RemoteError> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(RemoteError::Spawn)?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    ))
}

/// Fetches the remote's notes and merges them into ours. Returns how many commits' notes
/// changed locally (0 when the remote has none).
pub fn fetch(dir: &Path, remote: &str) -> Result<usize, RemoteError> {
    let refspec = format!("+{NOTES_REF}:{FETCHED_REF}");
    let (ok, stderr) = git(dir, &["fetch", "--no-tags", "--quiet", remote, &refspec])?;
    if !ok {
        if stderr.contains("couldn't find remote ref")
            || stderr.contains("could not find remote ref")
        {
            return Ok(0);
        }
        return Err(RemoteError::Git {
            args: format!("fetch {remote} {refspec}"),
            stderr,
        });
    }
    let merged = merge_fetched(dir)?;
    Store::with_ref(dir, FETCHED_REF)?.delete_ref();
    Ok(merged)
}

/// Makes our notes ref a descendant of the fetched one holding the union of both.
fn merge_fetched(dir: &Path) -> Result<usize, RemoteError> {
    let ours = Store::open(dir)?;
    let theirs = Store::with_ref(dir, FETCHED_REF)?;
    let Some(their_tip) = theirs.notes_tip() else {
        return Ok(0);
    };
    let Some(our_tip) = ours.notes_tip() else {
        ours.set_notes_tip(their_tip, "cargo-gate: notes from the remote")?;
        return Ok(theirs.noted_commits().len());
    };
    if ours.is_ancestor(their_tip, our_tip) {
        return Ok(0);
    }
    if ours.is_ancestor(our_tip, their_tip) {
        ours.set_notes_tip(their_tip, "cargo-gate: fast-forward notes")?;
        return Ok(theirs.noted_commits().len());
    }
    // Diverged: remember our notes, start from theirs, and add ours on top, merged.
    let mine: Vec<(git2::Oid, Result<Note, NoteError>)> = ours
        .noted_commits()
        .into_iter()
        .map(|(commit, blob)| (commit, ours.read_blob(blob)))
        .collect();
    ours.set_notes_tip(their_tip, "cargo-gate: merge notes from the remote")?;
    let mut changed = 0;
    for (commit, note) in mine {
        let Ok(note) = note else { continue };
        let remote_note = theirs.read(commit).ok().flatten().unwrap_or_default();
        if remote_note.merge(&note) != remote_note {
            ours.add(commit, &note)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Pushes our notes; a rejection (someone pushed first) is resolved by fetch + merge + retry.
/// Returns the number of attempts it took.
pub fn push(dir: &Path, remote: &str) -> Result<u32, RemoteError> {
    let refspec = format!("{NOTES_REF}:{NOTES_REF}");
    for attempt in 1..=PUSH_ATTEMPTS {
        let (ok, stderr) = git(dir, &["push", "--quiet", remote, &refspec])?;
        if ok {
            return Ok(attempt);
        }
        let rejected = [
            "rejected",
            "fetch first",
            "non-fast-forward",
            "failed to update ref",
            "cannot lock ref",
            "stale info",
        ]
        .iter()
        .any(|s| stderr.contains(s));
        if !rejected {
            return Err(RemoteError::Git {
                args: format!("push {remote} {refspec}"),
                stderr,
            });
        }
        fetch(dir, remote)?;
        // Spread concurrent pushers apart so they do not collide again in lockstep.
        let jitter = u64::from(std::process::id() % 7 + 1) * 20 * u64::from(attempt);
        std::thread::sleep(Duration::from_millis(jitter));
    }
    Err(RemoteError::GaveUp(PUSH_ATTEMPTS))
}
