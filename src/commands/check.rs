//! `cargo gate check`: validate gate.toml, every profile of it.

use std::path::Path;

use crate::config::{self, Config};
use crate::context::{config_path, display_path};
use crate::error::{EXIT_PASS, Result};
use crate::workspace::Workspace;

pub fn check(manifest: Option<&Path>, explicit: Option<&Path>) -> Result<i32> {
    let root = if explicit.is_some() {
        None
    } else {
        Some(Workspace::load(manifest)?.root)
    };
    match config_path(root.as_deref(), explicit)? {
        None => {
            println!(
                "no {} found: the defaults apply ({})",
                config::FILE_NAME,
                default_rules().join(", ")
            );
        }
        Some(path) => {
            let configs = Config::check_all(&display_path(&path))?
                .into_iter()
                .map(crate::suites::with_default_rules)
                .collect::<Result<Vec<_>>>()?;
            for c in &configs {
                println!(
                    "{}: profile `{}` ok: {} rule(s)",
                    display_path(&path).display(),
                    c.profile,
                    c.rules.len()
                );
            }
        }
    }
    Ok(EXIT_PASS)
}

/// The rules that apply without a gate.toml: the tests suite's defaults.
fn default_rules() -> Vec<&'static str> {
    crate::suites::REGISTRY
        .iter()
        .filter(|e| e.kind == crate::model::SuiteKind::Tests)
        .flat_map(|e| e.default_rules.iter().copied())
        .collect()
}
