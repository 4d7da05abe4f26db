//! Fitting a rendering into a size limit (GitHub's comment and job summary limits): the same
//! template is rendered with shorter and shorter excerpts until it fits.

use minijinja::Value;

use super::{Limits, Renderer};
use crate::error::Result;
use crate::model::Report;

/// GitHub rejects comments longer than this many characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// GitHub refuses a job summary larger than this many bytes.
pub const SUMMARY_LIMIT: usize = 1024 * 1024;

/// Smaller and smaller renderings, tried in order until one fits: long outputs go first,
/// then the lists get shorter.
const LADDER: &[Limits] = &[
    Limits {
        output_lines: 60,
        detail_lines: 80,
        max_listed: 50,
    },
    Limits {
        output_lines: 40,
        detail_lines: 60,
        max_listed: 20,
    },
    Limits {
        output_lines: 20,
        detail_lines: 30,
        max_listed: 20,
    },
    Limits {
        output_lines: 8,
        detail_lines: 15,
        max_listed: 10,
    },
    Limits {
        output_lines: 0,
        detail_lines: 0,
        max_listed: 10,
    },
    Limits {
        output_lines: 0,
        detail_lines: 0,
        max_listed: 3,
    },
];

/// Where the PR comment starts on [`LADDER`]: a comment is read in a timeline, so it shows
/// 20 lines of output per failure at most, where the job summary shows 60.
const COMMENT_START: usize = 2;

/// Renders `template` at the largest size in [`LADDER`] (from `start`) that fits `limit`
/// (measured by `measure`), and cuts the smallest one with a note if none does.
#[allow(clippy::too_many_arguments)]
pub fn fit(
    renderer: &Renderer,
    template: &str,
    report: &Report,
    extra: Value,
    limit: usize,
    measure: fn(&str) -> usize,
    reserve: usize,
    start: usize,
) -> Result<String> {
    let budget = limit.saturating_sub(reserve);
    let mut last = String::new();
    for limits in &LADDER[start.min(LADDER.len() - 1)..] {
        last = renderer.render_template(template, report, *limits, extra.clone())?;
        if measure(&last) <= budget {
            return Ok(last);
        }
    }
    let note = "\n\n… _truncated to fit GitHub's size limit; the full report is in the workflow run's artifacts._\n";
    let keep = budget.saturating_sub(measure(note));
    // Measured once per character added, not over the whole prefix again each time.
    let mut cut = String::new();
    let mut size = 0;
    for c in last.chars() {
        let mut buf = [0u8; 4];
        let grown = size + measure(c.encode_utf8(&mut buf));
        if grown > keep {
            break;
        }
        size = grown;
        cut.push(c);
    }
    cut.push_str(note);
    Ok(cut)
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn bytes(s: &str) -> usize {
    s.len()
}

/// The PR comment body (without the marker), at most [`COMMENT_LIMIT`] characters with room
/// for the marker.
pub fn render_comment(
    renderer: &Renderer,
    report: &Report,
    run_url: Option<&str>,
) -> Result<String> {
    let extra = Value::from_serialize(serde_json::json!({ "run_url": run_url }));
    fit(
        renderer,
        "comment.md.j2",
        report,
        extra,
        COMMENT_LIMIT,
        chars,
        200,
        COMMENT_START,
    )
}

/// The job summary, at most [`SUMMARY_LIMIT`] bytes.
pub fn render_summary(
    renderer: &Renderer,
    report: &Report,
    run_url: Option<&str>,
) -> Result<String> {
    let extra = Value::from_serialize(serde_json::json!({ "run_url": run_url }));
    fit(
        renderer,
        "summary.md.j2",
        report,
        extra,
        SUMMARY_LIMIT,
        bytes,
        2048,
        0,
    )
}
