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
    // Room for the closers `balanced` may add: one fence and every `<details>` still open.
    let closers = measure("\n```\n") + last.matches("<details").count() * measure("</details>\n");
    let keep = budget.saturating_sub(measure(note) + closers);
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
    let mut cut = balanced(cut);
    cut.push_str(note);
    Ok(cut)
}

/// `cut` ended at a whole line, with any open code fence and `<details>` closed, so the rest of
/// a comment (and GitHub's rendering of it) is not swallowed by a block left open. A line cut in
/// half could be inside a tag; it is dropped.
fn balanced(mut cut: String) -> String {
    if !cut.ends_with('\n') {
        match cut.rfind('\n') {
            Some(end) => cut.truncate(end + 1),
            None => cut.clear(),
        }
    }
    let mut fence_open = false;
    let mut details_open = 0usize;
    for line in cut.lines() {
        if line.trim_start().starts_with("```") {
            fence_open = !fence_open;
        } else if !fence_open {
            details_open += line.matches("<details").count();
            details_open = details_open.saturating_sub(line.matches("</details>").count());
        }
    }
    if fence_open {
        cut.push_str("```\n");
    }
    for _ in 0..details_open {
        cut.push_str("\n</details>\n");
    }
    cut
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn bytes(s: &str) -> usize {
    s.len()
}

/// `extra` for the markdown templates: the run's link, if it is a plain `https://` URL (it
/// comes from the trusted environment, and is still checked: it lands in a link's target).
/// A link the templates may use as is: https, plain URL characters, not absurdly long.
fn safe_link(u: Option<&str>) -> Option<Value> {
    u.filter(|u| {
        u.starts_with("https://")
            && u.len() < 2048
            && u[8..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~/?#&=%+:@".contains(c))
    })
    .map(|u| Value::from_safe_string(u.to_string()))
}

fn link_context(report: &Report, run_url: Option<&str>) -> Value {
    let artifact = report
        .run
        .github
        .as_ref()
        .and_then(|g| g.artifact_url.as_deref());
    minijinja::context! {
        run_url => safe_link(run_url),
        artifact_url => safe_link(artifact),
    }
}

/// The PR comment body (without the marker), at most [`COMMENT_LIMIT`] characters with room
/// for the marker.
pub fn render_comment(
    renderer: &Renderer,
    report: &Report,
    run_url: Option<&str>,
) -> Result<String> {
    fit(
        renderer,
        "comment.md.j2",
        report,
        link_context(report, run_url),
        COMMENT_LIMIT,
        chars,
        200,
        COMMENT_START,
    )
}

/// The body of a branch's security issue (without the marker); an issue's body has the same
/// limit as a comment's.
pub fn render_security_issue(
    renderer: &Renderer,
    report: &Report,
    run_url: Option<&str>,
    branch: &str,
) -> Result<String> {
    fit(
        renderer,
        "security-issue.md.j2",
        report,
        minijinja::context! { run_url => safe_link(run_url), branch => branch },
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
    fit(
        renderer,
        "summary.md.j2",
        report,
        link_context(report, run_url),
        SUMMARY_LIMIT,
        bytes,
        2048,
        0,
    )
}

#[cfg(test)]
mod tests {
    use super::balanced;

    #[test]
    fn a_cut_closes_what_it_left_open() {
        let cut = balanced(
            "<details><summary>a</summary>\n\n```text\nout\n```\n</details>\n<details><summary>b</summary>\n\n```text\nhalf a li"
                .to_string(),
        );
        assert!(cut.ends_with("```\n\n</details>\n"), "{cut}");
        assert_eq!(
            cut.matches("<details").count(),
            cut.matches("</details>").count()
        );
        assert_eq!(cut.matches("```").count() % 2, 0);
        assert!(!cut.contains("half a li"));
    }

    #[test]
    fn a_cut_inside_a_tag_drops_the_partial_line() {
        assert_eq!(balanced("ok\n<details><summ".to_string()), "ok\n");
    }
}
