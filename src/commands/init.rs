//! `cargo gate init`: a commented starter gate.toml and the GitHub workflow.

use std::path::Path;

use crate::config;
use crate::context::display_path;
use crate::error::{EXIT_PASS, Error, Result};
use crate::workspace::Workspace;

/// The GitHub Actions workflow `cargo gate init` writes.
pub const STARTER_WORKFLOW: &str = include_str!("../../templates/workflow.yml");

pub fn init(manifest: Option<&Path>, force: bool, workflow: bool) -> Result<i32> {
    let ws = Workspace::load(manifest)?;
    let mut files = vec![(ws.root.join(config::FILE_NAME), config::STARTER)];
    if workflow {
        files.push((ws.root.join(".github/workflows/gate.yml"), STARTER_WORKFLOW));
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
    println!("next: `cargo gate check`, then `cargo gate run`");
    Ok(EXIT_PASS)
}
