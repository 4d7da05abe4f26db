//! Notes on commits under `refs/notes/cargo-gate`, read and written with git2.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository, Signature};

use super::note::{Note, NoteError};

/// The notes ref cargo-gate writes.
pub const NOTES_REF: &str = "refs/notes/cargo-gate";

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Not inside a git repository.
    #[error("{0} is not inside a git repository")]
    NotARepo(PathBuf),
    /// A revision does not resolve.
    #[error("revision `{rev}` not found: {message}")]
    BadRev {
        /// The revision.
        rev: String,
        /// git's message.
        message: String,
    },
    /// Any other git error.
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

/// A note that could not be used, with the commit it is on.
#[derive(Debug, Clone)]
pub struct Skipped {
    /// Short commit id.
    pub commit: String,
    /// Why.
    pub error: NoteError,
}

/// The repository's notes.
pub struct Store {
    repo: Repository,
    notes_ref: String,
}

impl Store {
    /// Opens the repository containing `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let repo =
            Repository::discover(dir).map_err(|_| StoreError::NotARepo(dir.to_path_buf()))?;
        Ok(Store {
            repo,
            notes_ref: NOTES_REF.to_string(),
        })
    }

    /// The same repository, reading and writing another notes ref.
    pub fn with_ref(dir: &Path, notes_ref: &str) -> Result<Store, StoreError> {
        let mut s = Store::open(dir)?;
        s.notes_ref = notes_ref.to_string();
        Ok(s)
    }

    /// The repository itself, for callers that need more than notes (diffs, trees).
    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    /// The repository's work tree (or git dir for a bare repository).
    pub fn dir(&self) -> PathBuf {
        self.repo
            .workdir()
            .unwrap_or_else(|| self.repo.path())
            .to_path_buf()
    }

    /// Resolves a revision to a commit.
    pub fn resolve(&self, rev: &str) -> Result<Oid, StoreError> {
        self.repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map(|c| c.id())
            .map_err(|e| StoreError::BadRev {
                rev: rev.to_string(),
                message: e.message().to_string(),
            })
    }

    /// A short id for people.
    pub fn short(&self, oid: Oid) -> String {
        oid.to_string()[..12].to_string()
    }

    /// The note on a commit: `Ok(None)` when there is none, `Err` when it is unusable.
    pub fn read(&self, commit: Oid) -> Result<Option<Note>, NoteError> {
        match self.repo.find_note(Some(&self.notes_ref), commit) {
            Ok(n) => Note::parse(n.message().unwrap_or("")).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// Adds `note`'s entries to the commit's note (union: nothing already there is lost). A
    /// corrupt existing note is replaced; one from a newer schema is refused.
    pub fn add(&self, commit: Oid, note: &Note) -> Result<Note, StoreError> {
        let merged = match self.read(commit) {
            Ok(Some(existing)) => existing.merge(note),
            Ok(None) | Err(NoteError::Corrupt(_)) => Note::default().merge(note),
            Err(e @ NoteError::NewerSchema(_)) => {
                return Err(StoreError::Git(git2::Error::from_str(&format!(
                    "the note on {} was written by a newer cargo-gate ({e}); upgrade before adding to it",
                    self.short(commit)
                ))));
            }
        };
        let sig = self.signature()?;
        self.repo.note(
            &sig,
            &sig,
            Some(&self.notes_ref),
            commit,
            &merged.to_json(),
            true,
        )?;
        Ok(merged)
    }

    fn signature(&self) -> Result<Signature<'static>, git2::Error> {
        // CI machines often have no user.name; a note's author does not matter.
        self.repo
            .signature()
            .map(|s| s.to_owned())
            .or_else(|_| Signature::now("cargo-gate", "cargo-gate@localhost"))
    }

    /// Every commit that has a note, with the note's blob.
    pub fn noted_commits(&self) -> HashMap<Oid, Oid> {
        let mut map = HashMap::new();
        if let Ok(iter) = self.repo.notes(Some(&self.notes_ref)) {
            for (blob, commit) in iter.flatten() {
                map.insert(commit, blob);
            }
        }
        map
    }

    /// Puts a note blob's text on a commit as it is: a note this build cannot read (a newer
    /// schema) is carried over unchanged instead of being dropped.
    pub fn add_blob(&self, commit: Oid, blob: Oid) -> Result<(), StoreError> {
        let text = String::from_utf8_lossy(self.repo.find_blob(blob)?.content()).into_owned();
        let sig = self.signature()?;
        self.repo
            .note(&sig, &sig, Some(&self.notes_ref), commit, &text, true)?;
        Ok(())
    }

    /// Reads a note blob found by [`Store::noted_commits`].
    pub fn read_blob(&self, blob: Oid) -> Result<Note, NoteError> {
        // The size first, from the object's header: a huge note (anyone who can push writes
        // notes) is refused before it is read into memory.
        let (size, _) = self
            .repo
            .odb()
            .and_then(|odb| odb.read_header(blob))
            .map_err(|e| NoteError::Corrupt(e.to_string()))?;
        if size > crate::baseline::note::MAX_NOTE_BYTES {
            return Err(NoteError::Corrupt(format!(
                "the note is {size} bytes, more than the {} a note can be",
                crate::baseline::note::MAX_NOTE_BYTES
            )));
        }
        let b = self
            .repo
            .find_blob(blob)
            .map_err(|e| NoteError::Corrupt(e.to_string()))?;
        Note::parse(&String::from_utf8_lossy(b.content()))
    }

    /// Commits along first-parent history from `from` (inclusive), newest first.
    pub fn first_parent(&self, from: Oid, limit: usize) -> Result<Vec<Oid>, StoreError> {
        let mut walk = self.repo.revwalk()?;
        walk.push(from)?;
        walk.simplify_first_parent()?;
        Ok(walk.take(limit).filter_map(Result::ok).collect())
    }

    /// What `pick` takes from the notes on the first-parent history of `from` (at most `limit`
    /// commits; commits without a note, or where `pick` finds nothing, left out), oldest first,
    /// each with its short commit name: a metric's trend.
    pub fn noted<T>(
        &self,
        from: Oid,
        limit: usize,
        pick: impl Fn(&Note) -> Option<T>,
    ) -> Vec<(String, T)> {
        let Ok(commits) = self.first_parent(from, limit) else {
            return Vec::new();
        };
        let mut points: Vec<(String, T)> = commits
            .into_iter()
            .filter_map(|c| Some((self.short(c), pick(&self.read(c).ok()??)?)))
            .collect();
        points.reverse();
        points
    }

    /// The merge base of two commits.
    pub fn merge_base(&self, a: Oid, b: Oid) -> Option<Oid> {
        self.repo.merge_base(a, b).ok()
    }

    /// The commit the notes ref points at, if any.
    pub fn notes_tip(&self) -> Option<Oid> {
        self.repo.refname_to_id(&self.notes_ref).ok()
    }

    /// Points the notes ref at `tip` (fast-forwards and resets after a fetch).
    pub fn set_notes_tip(&self, tip: Oid, message: &str) -> Result<(), StoreError> {
        self.repo.reference(&self.notes_ref, tip, true, message)?;
        Ok(())
    }

    /// Deletes the notes ref (used for scratch refs).
    pub fn delete_ref(&self) {
        if let Ok(mut r) = self.repo.find_reference(&self.notes_ref) {
            let _ = r.delete();
        }
    }

    /// True when `descendant` has `ancestor` in its history (or is it).
    pub fn is_ancestor(&self, ancestor: Oid, descendant: Oid) -> bool {
        ancestor == descendant
            || self
                .repo
                .graph_descendant_of(descendant, ancestor)
                .unwrap_or(false)
    }
}

/// Notes along first-parent history, for comparisons and `baseline log`.
pub struct History {
    /// Commits walked, newest first, with their usable notes.
    pub commits: Vec<(Oid, Option<Note>)>,
    /// Notes that were corrupt or from a newer schema: reported, skipped.
    pub skipped: Vec<Skipped>,
}

/// Reads the notes of up to `depth` first-parent commits from `from`.
pub fn history(store: &Store, from: Oid, depth: usize) -> Result<History, StoreError> {
    let noted = store.noted_commits();
    let mut commits = Vec::new();
    let mut skipped = Vec::new();
    for oid in store.first_parent(from, depth)? {
        let note = match noted.get(&oid) {
            None => None,
            Some(blob) => match store.read_blob(*blob) {
                Ok(n) => Some(n),
                Err(error) => {
                    skipped.push(Skipped {
                        commit: store.short(oid),
                        error,
                    });
                    None
                }
            },
        };
        commits.push((oid, note));
    }
    Ok(History { commits, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_over_the_limit_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let huge = vec![b' '; crate::baseline::note::MAX_NOTE_BYTES + 1];
        let blob = repo.blob(&huge).unwrap();
        let small = repo.blob(b"{\"schema\": 1, \"entries\": []}").unwrap();
        drop(repo);
        let store = Store::open(dir.path()).unwrap();
        let e = store
            .read_blob(blob)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("more than the"), "{e}");
        assert!(store.read_blob(small).is_ok());
    }
}
