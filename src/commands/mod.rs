//! The commands, one file each: each turns parsed arguments into work on the library and an
//! exit code. Nothing below `commands` imports from here.

pub mod baseline;
mod check;
mod comment;
mod explain;
mod history;
mod init;
mod list;
mod merge;
mod mutants_doctest;
mod proxy;
mod report;
mod run;

use std::io::Write;
use std::path::Path;

use crate::cli::{Cli, Command, SelectArgs};
use crate::engine::Selection;
use crate::error::{EXIT_GATE_FAILED, EXIT_PASS, Error, Result};
use crate::model::{Report, VerdictStatus};
use crate::render::{Format, Renderer};

/// Runs a parsed command line and returns the exit code.
pub fn main(cli: Cli) -> Result<i32> {
    let g = &cli.global;
    let manifest = g.manifest_path.as_deref();
    let config = g.config.as_deref();
    let term_color = std::env::var("CARGO_TERM_COLOR").ok();
    let when = crate::util::color::choose(g.color, term_color.as_deref()).map_err(|m| {
        Error::usage(
            m,
            Some("set CARGO_TERM_COLOR to auto, always or never, or pass --color".to_string()),
        )
    })?;
    crate::util::color::init(when);
    match cli.command {
        Command::Init {
            force,
            no_workflow,
            fork_safe,
            shards,
            security,
        } => init::init(
            manifest,
            force,
            (!no_workflow).then_some(init::Workflow {
                fork_safe,
                shards,
                security,
            }),
        ),
        Command::Check => check::check(manifest, config),
        Command::Run(args) => run::run(manifest, config, args),
        Command::List(args) => list::list(manifest, config, args),
        Command::Report {
            format,
            template,
            output,
            report,
        } => report::report(&report, format, template.as_deref(), output.as_deref()),
        Command::Comment(args) => comment::comment(config, args),
        Command::Explain { query } => explain::explain(query.as_deref()),
        Command::Proxy { listen, upstream } => proxy::proxy(&listen, &upstream),
        Command::MutantsDoctest {
            spec,
            program,
            args,
        } => mutants_doctest::mutants_doctest(&spec, &program, &args),
        Command::Baseline { action } => baseline::main(manifest, config, action),
        Command::History(args) => history::history(manifest, args),
        Command::Merge {
            profile,
            output,
            reports,
        } => merge::merge(manifest, config, profile, &output, &reports),
    }
}

/// The engine's selection from the command line.
fn selection(manifest: Option<&Path>, config: Option<&Path>, select: &SelectArgs) -> Selection {
    Selection {
        manifest: manifest.map(Path::to_path_buf),
        config: config.map(Path::to_path_buf),
        profile: select.profile.clone(),
        packages: select.package.clone(),
        affected_since: select.affected_since.clone(),
        partition: select.partition.clone(),
        run_ignored: select.run_ignored,
        exact: select.exact,
        skip: select.skip.clone(),
        filters: select.filters.clone(),
    }
}

/// Writes report.json first (the source of truth), then the renderings and the badges. Badges
/// of an earlier run are removed first, so a run that has none never leaves a stale one.
fn write_outputs(report: &Report, renderer: &Renderer, dir: &Path) -> Result<()> {
    report.write(&dir.join("report.json"))?;
    let outputs = [
        ("junit.xml", Format::Junit),
        ("summary.md", Format::Markdown),
        ("report.html", Format::Html),
    ];
    for (name, format) in outputs {
        let text = renderer.render(report, format)?;
        crate::util::fs::write_atomic(&dir.join(name), text.as_bytes())?;
    }
    // Badges, for a default-branch job to publish (e.g. to GitHub Pages or a badges branch).
    let passed = report.verdict.status == VerdictStatus::Passed;
    crate::util::fs::write_atomic(
        &dir.join("gate.svg"),
        crate::render::badge::verdict(passed).as_bytes(),
    )?;
    let coverage = dir.join("coverage.svg");
    match report
        .suite(crate::model::SuiteKind::Coverage)
        .and_then(|s| s.coverage())
    {
        Some(c) => crate::util::fs::write_atomic(
            &coverage,
            crate::render::badge::coverage(c.head.percent).as_bytes(),
        )?,
        None => {
            let _ = std::fs::remove_file(&coverage);
        }
    }
    Ok(())
}

fn exit_for(report: &Report) -> i32 {
    match report.verdict.status {
        VerdictStatus::Passed => EXIT_PASS,
        VerdictStatus::Failed => EXIT_GATE_FAILED,
    }
}

fn print_scorecard(renderer: &Renderer, report: &Report) {
    match renderer.render(report, Format::Terminal) {
        Ok(text) => {
            let text = crate::util::sanitize::no_workflow_commands(&text);
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
        Err(e) => eprintln!(
            "warning: cannot render the scorecard: {}",
            crate::util::sanitize::for_log(&e.to_string())
        ),
    }
}

/// Colours on standard output, as `--color` / `CARGO_TERM_COLOR` / the terminal decide.
fn color_stdout() -> bool {
    crate::util::color::stdout()
}
