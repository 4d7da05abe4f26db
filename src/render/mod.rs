//! Renders a Report with minijinja: markdown summary, self-contained HTML, terminal scorecard.
//! Templates are embedded and can be overridden file by file from a directory.

pub mod badge;
pub mod diagnostic;
pub mod escape;
pub mod fit;
pub mod html;
pub mod junit;
mod mutants_view;
mod security_view;
mod view;

use std::path::{Path, PathBuf};

use minijinja::{Environment, Value, context};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{DiffKind, DiffLine, Report};
use crate::util::units::{format_bytes, format_seconds};

/// The built-in templates, by file name.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "summary.md.j2",
        include_str!("../../templates/summary.md.j2"),
    ),
    (
        "comment.md.j2",
        include_str!("../../templates/comment.md.j2"),
    ),
    (
        "report.html.j2",
        include_str!("../../templates/report.html.j2"),
    ),
    (
        "terminal.txt.j2",
        include_str!("../../templates/terminal.txt.j2"),
    ),
    (
        "coverage.md.j2",
        include_str!("../../templates/coverage.md.j2"),
    ),
    (
        "security.md.j2",
        include_str!("../../templates/security.md.j2"),
    ),
    (
        "security-rows.md.j2",
        include_str!("../../templates/security-rows.md.j2"),
    ),
    (
        "security-issue.md.j2",
        include_str!("../../templates/security-issue.md.j2"),
    ),
    (
        "mutants.md.j2",
        include_str!("../../templates/mutants.md.j2"),
    ),
];

/// How many failing cases a summary lists before saying "and N more".
pub const MAX_LISTED: usize = 50;

/// Size knobs templates receive as `limits`; the PR comment shrinks them until it fits.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Limits {
    /// Lines of a failing test's output shown.
    pub output_lines: usize,
    /// Lines of a diff or other detail shown.
    pub detail_lines: usize,
    /// Failing cases listed.
    pub max_listed: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            output_lines: 60,
            detail_lines: 80,
            max_listed: MAX_LISTED,
        }
    }
}

/// Output formats of `cargo gate report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The scorecard for a terminal.
    Terminal,
    /// GitHub-flavoured markdown (job summary).
    Markdown,
    /// The PR comment `cargo gate comment` posts (fitted to GitHub's 65,536 characters).
    Comment,
    /// One self-contained HTML file.
    Html,
    /// The report itself.
    Json,
    /// JUnit XML.
    Junit,
}

impl Format {
    fn template(self) -> Option<&'static str> {
        match self {
            Format::Terminal => Some("terminal.txt.j2"),
            Format::Markdown => Some("summary.md.j2"),
            Format::Html => Some("report.html.j2"),
            Format::Json | Format::Junit | Format::Comment => None,
        }
    }
}

/// A configured template environment.
pub struct Renderer {
    env: Environment<'static>,
    sources: Vec<(String, PathBuf)>,
}

/// The filters that shape text for a place: times and sizes, line cuts, excerpts, wrapping,
/// cells, fences, icons, `code` spans, anchors. Values are escaped on output (see `escape`);
/// these only shape them, and the ones that make markup return safe values.
fn add_text_filters(env: &mut Environment<'static>, color: bool) {
    env.add_filter("duration", |v: f64| format_seconds(v));
    env.add_filter("bytes", |v: f64| format_bytes(v));
    env.add_filter("first_line", |s: String| {
        s.lines().next().unwrap_or("").to_string()
    });
    env.add_filter("first_lines", |s: String, n: usize| {
        let lines: Vec<&str> = s.lines().collect();
        if lines.len() > n {
            format!(
                "{}\n[... {} more lines ...]",
                lines[..n].join("\n"),
                lines.len() - n
            )
        } else {
            s
        }
    });
    env.add_filter("last_lines", |s: String, n: usize| {
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    });
    env.add_filter("excerpt", |s: String, n: usize| {
        crate::util::excerpt::excerpt(&s, n)
    });
    // Values are escaped on output (see `escape`); these only shape text for a place.
    // Re-flowed for the terminal's 80 columns, continued lines indented by `indent`.
    env.add_filter("wrap", |s: String, width: usize, indent: usize| {
        crate::util::wrap::wrap(&s, width).join(&format!("\n{}", " ".repeat(indent)))
    });
    env.add_filter("md_cell", |s: String| s.replace(['\n', '\r'], " "));
    env.add_filter("split_lines", |s: String| {
        s.lines().map(str::to_string).collect::<Vec<String>>()
    });
    // Output inside a fence is shown literally: no markdown escaping, only what could
    // close the fence or reach a terminal is defused.
    env.add_filter("fence_safe", |s: String| {
        Value::from_safe_string(escape::code_block(&s))
    });
    env.add_filter("icon", |s: String| icon(&s).to_string());
    // The HTML report's own markup: icons, `code` spans in reasons, anchors of cases.
    env.add_filter("svg_icon", |s: String| {
        Value::from_safe_string(html::icon(&s).to_string())
    });
    // `code` in a reason or message shown as code in each format: <code> in HTML and
    // markdown (inside <summary> too), bold without backticks in the terminal.
    env.add_filter("code_spans", move |state: &minijinja::State, s: String| {
        Value::from_safe_string(match state.auto_escape() {
            minijinja::AutoEscape::Custom(escape::MARKDOWN) => escape::markdown_code_spans(&s),
            minijinja::AutoEscape::Html => html::code_spans(&s),
            _ => crate::util::color::code_spans(&escape::strip_controls(&s, false), color),
        })
    });
    env.add_filter("anchor", |s: String| html::anchor(&s));
    env.add_filter("strip", |s: String| {
        Value::from_safe_string(html::strip(&s))
    });
    // Kept for templates written before auto-escaping: escapes for the template's own
    // format once (not twice) and marks the result safe.
    env.add_filter("he", |state: &minijinja::State, v: Value| {
        minijinja::filters::escape(state, &v)
    });
}

impl Renderer {
    /// Built-in templates, each replaced by `DIR/<name>` when `override_dir` has that file.
    /// `color` turns on ANSI colours in the `diff_color` filter (for a terminal).
    pub fn new(override_dir: Option<&Path>, color: bool) -> Result<Renderer> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        add_text_filters(&mut env, color);
        env.set_auto_escape_callback(move |name| escape::mode_of(name, color));
        env.set_formatter(escape::formatter);
        // Coloured only in a coloured terminal rendering: in HTML or markdown an escape
        // sequence would be raw bytes in the page.
        env.add_filter("diff_line", |state: &minijinja::State, v: Value| {
            let terminal = state.auto_escape() == escape::mode_of("terminal", true);
            diff_line(&v, terminal)
        });
        // Kept for templates written before diffs were typed: the text, stripped, uncoloured.
        env.add_filter("diff_color", |s: String| {
            Value::from(escape::strip_controls(&s, false).as_ref())
        });
        // Our own words in the terminal scorecard (FAIL, PASSED, headings), coloured by role
        // when colour is on; text is stripped of controls first, whatever it is.
        env.add_filter("paint", move |s: String, role: String| {
            let text = crate::util::sanitize::strip_controls(&s, false);
            let painted = match crate::util::color::Role::named(&role) {
                Some(r) => crate::util::color::paint(&text, r, color),
                None => text.into_owned(),
            };
            Value::from_safe_string(painted)
        });
        if let Some(dir) = override_dir
            && !dir.is_dir()
        {
            return Err(Error::usage(
                format!("template directory {} does not exist", dir.display()),
                Some("pass a directory holding e.g. summary.md.j2 to --template".to_string()),
            ));
        }
        let mut sources = Vec::new();
        for (name, builtin) in TEMPLATES {
            let (source, origin) = match override_dir.map(|d| d.join(name)) {
                Some(path) if path.is_file() => {
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        Error::input(&path, format!("cannot read the template: {e}"), None)
                    })?;
                    (text, path)
                }
                _ => (
                    (*builtin).to_string(),
                    PathBuf::from(format!("<built-in>/{name}")),
                ),
            };
            env.add_template_owned(name.to_string(), source)
                .map_err(|e| template_error(&origin, &e))?;
            sources.push((name.to_string(), origin));
        }
        Ok(Renderer { env, sources })
    }

    /// Renders the report in `format`.
    pub fn render(&self, report: &Report, format: Format) -> Result<String> {
        match format.template() {
            None => match format {
                Format::Json => report.to_json(),
                Format::Comment => {
                    let run_url = report
                        .run
                        .github
                        .as_ref()
                        .and_then(|g| g.run_url.as_deref());
                    fit::render_comment(self, report, run_url)
                }
                _ => crate::render::junit::to_junit(report),
            },
            Some(name) => self.render_template(name, report, Limits::default(), Value::UNDEFINED),
        }
    }

    /// Renders one template with size limits and extra context (`extra` in the template).
    pub fn render_template(
        &self,
        name: &str,
        report: &Report,
        limits: Limits,
        extra: Value,
    ) -> Result<String> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| Error::Internal(format!("template {name}: {e}")))?;
        let view = view::View::of(report, limits.max_listed);
        // The case table's data only where a page's script reads it.
        let page = if name.ends_with(".html.j2") {
            context! { cases => Value::from_safe_string(html::cases_json(report)) }
        } else {
            Value::UNDEFINED
        };
        tmpl.render(context! {
            report => report,
            view => Value::from_serialize(&view),
            limits => Value::from_serialize(limits),
            extra => extra,
            page => page,
        })
        .map_err(|e| {
            let origin = self
                .sources
                .iter()
                .find(|(n, _)| n == name)
                .map_or_else(|| PathBuf::from(name), |(_, p)| p.clone());
            template_error(&origin, &e)
        })
    }
}

fn template_error(origin: &Path, e: &minijinja::Error) -> Error {
    let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
    Error::input(
        PathBuf::from(format!("{}{line}", origin.display())),
        format!("template error: {}", e.detail().unwrap_or(&e.to_string())),
        Some(
            "fix the template (minijinja / Jinja2 syntax) or remove it to use the built-in one"
                .to_string(),
        ),
    )
}

/// A diff line (a `DiffLine` of a case's `diff`) as a unified diff writes it, coloured by its
/// kind for a terminal. The text is untrusted: its own escape sequences go before ours are
/// added. Anything else is shown as plain text.
fn diff_line(v: &Value, color: bool) -> Value {
    let Ok(line) = DiffLine::deserialize(v.clone()) else {
        return Value::from(escape::strip_controls(&v.to_string(), false).as_ref());
    };
    let text = escape::strip_controls(&line.unified(), false).into_owned();
    let code = match line.kind {
        DiffKind::Old | DiffKind::New => "1",
        DiffKind::Added => "32",
        DiffKind::Removed => "31",
        DiffKind::Hunk => "36",
        DiffKind::Context => return Value::from(text),
    };
    if color {
        Value::from_safe_string(format!("\x1b[{code}m{text}\x1b[0m"))
    } else {
        Value::from(text)
    }
}

fn icon(status: &str) -> &'static str {
    match status {
        "passed" => "✅",
        "failed" | "error" => "❌",
        "flaky" | "warned" => "⚠️",
        "timed_out" => "⏱️",
        "skipped" => "⏭️",
        "quarantined" => "🔒",
        _ => "•",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(kind: DiffKind, text: &str, color: bool) -> String {
        let line = DiffLine {
            kind,
            text: text.to_string(),
        };
        diff_line(&Value::from_serialize(&line), color).to_string()
    }

    #[test]
    fn a_diff_line_is_coloured_by_its_kind_not_its_text() {
        // A removed line whose text looks like a header or an addition stays a removal.
        assert_eq!(shown(DiffKind::Removed, "--x", true), "\x1b[31m---x\x1b[0m");
        assert_eq!(shown(DiffKind::Added, "-y", true), "\x1b[32m+-y\x1b[0m");
        assert_eq!(shown(DiffKind::Context, "+z", true), " +z");
        assert_eq!(shown(DiffKind::Old, "a.snap", false), "--- a.snap");
        // The text's own escapes are gone before ours are added.
        assert_eq!(shown(DiffKind::Added, "\x1b[2Jx", false), "+x");
        // Anything that is not a diff line is plain text.
        assert_eq!(
            diff_line(&Value::from("+plain"), true).to_string(),
            "+plain"
        );
    }
}
