//! What the change adds: the lines added or changed between the base commit and the working
//! tree (untracked files included, renames followed so a moved file counts only the lines that
//! changed in it). Patch coverage counts them; the secret scan reads them.

use std::path::Path;

use super::notes::Store;

/// Calls `each(path, line, text)` for every added line, `path` relative to the workspace root
/// (files outside it are left out), `line` 1-based, `text` without its line ending (lossy
/// UTF-8).
pub fn added_lines(
    ws_root: &Path,
    store: &Store,
    base_commit: git2::Oid,
    each: &mut dyn FnMut(&str, u32, &str),
) -> Result<(), String> {
    let repo = store.repository();
    let workdir = repo
        .workdir()
        .map(crate::util::fs::canonical)
        .ok_or("a bare repository has no working tree")?;
    let root = crate::util::fs::canonical(ws_root);
    let prefix = root.strip_prefix(&workdir).unwrap_or(Path::new(""));
    let tree = repo
        .find_commit(base_commit)
        .and_then(|c| c.tree())
        .map_err(|e| e.message().to_string())?;
    let mut opts = git2::DiffOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .show_untracked_content(true)
        .context_lines(0);
    let mut diff = repo
        .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut opts))
        .map_err(|e| e.message().to_string())?;
    // A moved file counts only the lines that changed in it (as `git diff -M` shows), not
    // every line as new; untracked files are paired with deleted ones too.
    let mut find = git2::DiffFindOptions::new();
    find.renames(true)
        .renames_from_rewrites(true)
        .for_untracked(true);
    diff.find_similar(Some(&mut find))
        .map_err(|e| e.message().to_string())?;
    diff.foreach(
        &mut |_, _| true,
        None,
        None,
        Some(&mut |delta, _hunk, line| {
            if line.origin() == '+'
                && let (Some(path), Some(number)) = (delta.new_file().path(), line.new_lineno())
                && let Ok(rel) = path.strip_prefix(prefix)
            {
                let text = String::from_utf8_lossy(line.content());
                each(
                    &rel.to_string_lossy().replace('\\', "/"),
                    number,
                    text.trim_end_matches(['\n', '\r']),
                );
            }
            true
        }),
    )
    .map_err(|e| e.message().to_string())
}
