//! Sharing notes through a git remote with the `git` CLI (so whatever credentials CI set up for
//! git work). Concurrent pushers never lose entries: a rejected push fetches, union-merges the
//! notes commit by commit on top of the remote's, and retries. Never a force push.

use std::path::Path;
use std::time::Duration;

use crate::exec::git::{self, GitError, NETWORK_TIMEOUT, PushStatus};

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
    #[error(transparent)]
    Git(#[from] GitError),
    /// The notes store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Every attempt was rejected.
    #[error("the push was still rejected after {0} attempts (the remote keeps moving)")]
    GaveUp(u32),
}

/// Fetches the remote's notes and merges them into ours. Returns how many commits' notes
/// changed locally (0 when the remote has none).
pub fn fetch(dir: &Path, remote: &str) -> Result<usize, RemoteError> {
    let refspec = format!("+{NOTES_REF}:{FETCHED_REF}");
    // Asking first whether the remote has notes at all tells "none yet" from a failure without
    // reading git's (translatable) messages.
    let listed = git::run(
        dir,
        &["ls-remote", "--refs", remote, NOTES_REF],
        NETWORK_TIMEOUT,
    )?;
    if listed.stdout_text().is_empty() {
        return Ok(0);
    }
    git::run(
        dir,
        &["fetch", "--no-tags", "--quiet", remote, &refspec],
        NETWORK_TIMEOUT,
    )?;
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
    // Diverged: remember our notes, start from theirs, and add ours on top, merged. Whatever
    // goes wrong on the way, our ref is put back where it was: no local note is ever lost.
    let mine: Vec<(git2::Oid, git2::Oid, Result<Note, NoteError>)> = ours
        .noted_commits()
        .into_iter()
        .map(|(commit, blob)| (commit, blob, ours.read_blob(blob)))
        .collect();
    ours.set_notes_tip(their_tip, "cargo-gate: merge notes from the remote")?;
    let merged = (|| {
        let mut changed = 0;
        for (commit, blob, note) in mine {
            let remote = theirs.read(commit);
            match (note, remote) {
                (Ok(note), Ok(remote)) => {
                    let remote_note = remote.unwrap_or_default();
                    if remote_note.merge(&note) != remote_note {
                        ours.add(commit, &note)?;
                        changed += 1;
                    }
                }
                // Ours cannot be read (corrupt, or newer) and theirs has none: keep ours as is.
                (Err(_), Ok(None)) => {
                    ours.add_blob(commit, blob)?;
                    changed += 1;
                }
                // A corrupt note of ours where theirs is readable: theirs stands.
                (Err(NoteError::Corrupt(_)), Ok(Some(_))) => {}
                // One side is newer than this build can merge: stop, keep everything as it was.
                (Err(e @ NoteError::NewerSchema(_)), Ok(Some(_)))
                | (Ok(_) | Err(NoteError::Corrupt(_)), Err(e @ NoteError::NewerSchema(_))) => {
                    return Err(StoreError::Git(git2::Error::from_str(&format!(
                        "the notes on {} cannot be merged: {e}; upgrade cargo-gate (your notes are unchanged)",
                        ours.short(commit)
                    ))));
                }
                (Err(NoteError::NewerSchema(_)), Err(NoteError::NewerSchema(_))) => {}
                // Theirs is corrupt: ours replaces it (add treats a corrupt note as empty).
                (Ok(note), Err(NoteError::Corrupt(_))) => {
                    ours.add(commit, &note)?;
                    changed += 1;
                }
                // Theirs is corrupt and ours cannot be read either: ours is kept as it is.
                (Err(_), Err(NoteError::Corrupt(_))) => {
                    ours.add_blob(commit, blob)?;
                }
            }
        }
        Ok(changed)
    })();
    match merged {
        Ok(changed) => Ok(changed),
        Err(e) => {
            ours.set_notes_tip(
                our_tip,
                "cargo-gate: notes as they were before a failed merge",
            )?;
            Err(e.into())
        }
    }
}

/// Pushes our notes; a rejection (someone pushed first) is resolved by fetch + merge + retry.
/// Returns the number of attempts it took. Rejections are read from `--porcelain` output, which
/// is the same in every locale.
pub fn push(dir: &Path, remote: &str) -> Result<u32, RemoteError> {
    let refspec = format!("{NOTES_REF}:{NOTES_REF}");
    for attempt in 1..=PUSH_ATTEMPTS {
        let out = git::run_unchecked(
            dir,
            &["push", "--porcelain", remote, &refspec],
            NETWORK_TIMEOUT,
        )?;
        let status = git::push_status(&String::from_utf8_lossy(&out.stdout), NOTES_REF);
        match status {
            _ if out.success() => return Ok(attempt),
            Some(PushStatus::Behind) => {}
            _ => {
                return Err(GitError::Failed {
                    args: format!("push --porcelain {remote} {refspec}"),
                    exit: out.exit,
                    stderr: out.stderr_text(),
                    stdout: out.stdout_text(),
                }
                .into());
            }
        }
        fetch(dir, remote)?;
        // Spread concurrent pushers apart so they do not collide again in lockstep.
        let jitter = u64::from(std::process::id() % 7 + 1) * 20 * u64::from(attempt);
        std::thread::sleep(Duration::from_millis(jitter));
    }
    Err(RemoteError::GaveUp(PUSH_ATTEMPTS))
}
