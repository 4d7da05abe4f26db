//! `cargo gate report`: render a saved report.json in another format.

use std::io::{IsTerminal, Write};
use std::path::Path;

use super::color_stdout;
use crate::error::{EXIT_PASS, Error, Result};
use crate::model::Report;
use crate::render::{Format, Renderer};

pub fn report(
    path: &Path,
    format: Format,
    template: Option<&Path>,
    output: Option<&Path>,
) -> Result<i32> {
    let report = Report::read(path)?;
    let renderer = Renderer::new(
        template,
        format == Format::Terminal && output.is_none() && color_stdout(),
    )?;
    let text = renderer.render(&report, format)?;
    // A page of HTML is no use in a terminal: write it beside the report and say where, as a
    // browser needs a file anyway. A pipe or a file still gets it on standard output.
    if output.is_none() && format == Format::Html && std::io::stdout().is_terminal() {
        let beside = path.with_file_name("report.html");
        crate::util::fs::write_atomic(&beside, text.as_bytes())?;
        println!("wrote {} (open it in a browser)", beside.display());
        return Ok(EXIT_PASS);
    }
    match output {
        Some(o) => crate::util::fs::write_atomic(o, text.as_bytes())?,
        None => {
            // Printed into a log: no line of a report's text may start a workflow command.
            let text = match format {
                Format::Terminal | Format::Markdown => {
                    crate::util::sanitize::no_workflow_commands(&text).into_owned()
                }
                _ => text,
            };
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| Error::io("cannot write to standard output", e))?;
        }
    }
    Ok(EXIT_PASS)
}
