//! `cargo gate merge`: combine shard reports into one and apply the gate to the whole.

use std::path::{Path, PathBuf};

use super::{color_stdout, exit_for, print_scorecard};
use crate::config;
use crate::context::{config_path, find_upwards, load_config};
use crate::error::Result;
use crate::model::{self, Report};
use crate::render::Renderer;
use crate::workspace::Workspace;

pub fn merge(
    manifest: Option<&Path>,
    explicit: Option<&Path>,
    profile: Option<String>,
    output: &Path,
    paths: &[PathBuf],
) -> Result<i32> {
    let mut reports = Vec::new();
    for p in paths {
        reports.push((p.display().to_string(), Report::read(p)?));
    }
    let profile = profile.or_else(|| reports.first().map(|(_, r)| r.run.profile.clone()));
    let mut merged = model::merge(reports)?;
    // Merging happens in a publish job that may have no Cargo workspace: the config is optional.
    let root = match manifest {
        Some(m) => Some(Workspace::load(Some(m))?.root),
        None => find_upwards(config::FILE_NAME).and_then(|p| p.parent().map(Path::to_path_buf)),
    };
    let config = load_config(
        config_path(root.as_deref(), explicit)?.as_deref(),
        profile.as_deref(),
    )?;
    merged.run.profile = config.profile.clone();
    // The merged metrics are compared and judged afresh (a shard's comparisons were made from
    // that shard's figures alone), and the shards' claims are checked as an artifact's are.
    // The notes are read from the workspace's repository, else the one the command runs in.
    let repo = root.or_else(|| std::env::current_dir().ok());
    crate::engine::Judge {
        root: repo.as_deref(),
        config: &config,
        base: crate::engine::Base::Run(None),
        no_baseline: false,
        events: &crate::reporter::plain,
    }
    .rejudge_untrusted(&mut merged);
    merged.write(output)?;
    let renderer = Renderer::new(None, color_stdout())?;
    print_scorecard(&renderer, &merged);
    eprintln!("merged {} report(s) into {}", paths.len(), output.display());
    Ok(exit_for(&merged))
}
