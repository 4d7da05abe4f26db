//! When to colour, decided as cargo decides: `--color` wins, then `CARGO_TERM_COLOR`, and in
//! `auto` the stream must be a terminal and `NO_COLOR` / `CLICOLOR_FORCE` / `TERM=dumb` are
//! honoured (anstream's rules, the ones cargo uses). The styles of everything we colour.

use std::sync::OnceLock;

use anstyle::{AnsiColor, Style};

/// `--color` and `CARGO_TERM_COLOR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless `NO_COLOR` says otherwise.
    Auto,
    /// Always, even into a file or a pipe (CI logs render it).
    Always,
    /// Never.
    Never,
}

static WHEN: OnceLock<ColorWhen> = OnceLock::new();

/// The choice from the flag, else `CARGO_TERM_COLOR` (`cargo_term_color`), else `auto`. An
/// unknown `CARGO_TERM_COLOR` is an error, as in cargo.
pub fn choose(
    flag: Option<ColorWhen>,
    cargo_term_color: Option<&str>,
) -> Result<ColorWhen, String> {
    if let Some(f) = flag {
        return Ok(f);
    }
    match cargo_term_color.map(str::trim) {
        None | Some("") | Some("auto") => Ok(ColorWhen::Auto),
        Some("always") => Ok(ColorWhen::Always),
        Some("never") => Ok(ColorWhen::Never),
        Some(other) => Err(format!(
            "CARGO_TERM_COLOR is `{other}`: it must be auto, always or never"
        )),
    }
}

/// Records the run's choice (first call wins; tests and embedders may never call it: `auto`).
pub fn init(when: ColorWhen) {
    let _ = WHEN.set(when);
}

fn decide(stream_choice: anstream::ColorChoice) -> bool {
    match WHEN.get().copied().unwrap_or(ColorWhen::Auto) {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => stream_choice != anstream::ColorChoice::Never,
    }
}

/// Whether to colour what goes to standard output.
pub fn stdout() -> bool {
    decide(anstream::AutoStream::choice(&std::io::stdout()))
}

/// Whether to colour what goes to standard error (progress).
pub fn stderr() -> bool {
    decide(anstream::AutoStream::choice(&std::io::stderr()))
}

/// What a piece of output is, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Passed, ok, improved.
    Good,
    /// Failed, timed out, regressed: bold red.
    Bad,
    /// Flaky, quarantined, slow, a retry, a warning.
    Notice,
    /// Skipped and other asides.
    Dim,
    /// Section headings.
    Heading,
}

impl Role {
    /// Its style.
    pub fn style(self) -> Style {
        match self {
            Role::Good => Style::new().fg_color(Some(AnsiColor::Green.into())),
            Role::Bad => Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
            Role::Notice => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
            Role::Dim => Style::new().dimmed(),
            Role::Heading => Style::new().bold(),
        }
    }

    /// A role by name, as templates give it (`paint("bad")`).
    pub fn named(name: &str) -> Option<Role> {
        Some(match name {
            "good" => Role::Good,
            "bad" => Role::Bad,
            "notice" => Role::Notice,
            "dim" => Role::Dim,
            "heading" => Role::Heading,
            _ => return None,
        })
    }
}

/// `text` in `role`'s style when `on`; as is otherwise. `text` must already be safe for a
/// terminal (ours, or stripped of controls).
pub fn paint(text: &str, role: Role, on: bool) -> String {
    if !on || text.is_empty() {
        return text.to_string();
    }
    let style = role.style();
    format!("{style}{text}{style:#}")
}

/// Markdown code spans (`` `x` ``) for a terminal: the backticks dropped and the code in bold
/// when `on`. A lone backtick stays as it is.
pub fn code_spans(text: &str, on: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        let code = &rest[open + 1..open + 1 + len];
        out.push_str(&rest[..open]);
        if code.is_empty() {
            out.push_str("``");
        } else {
            out.push_str(&paint(code, Role::Heading, on));
        }
        rest = &rest[open + len + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_lose_their_backticks() {
        assert_eq!(
            code_spans("FAILED: `tests.failed == 0`: 3", false),
            "FAILED: tests.failed == 0: 3"
        );
        assert_eq!(
            code_spans("`a` and `b`", true),
            "\u{1b}[1ma\u{1b}[0m and \u{1b}[1mb\u{1b}[0m"
        );
        assert_eq!(code_spans("a lone ` stays", false), "a lone ` stays");
    }

    #[test]
    fn the_flag_wins_then_cargo_term_color_then_auto() {
        assert_eq!(
            choose(Some(ColorWhen::Never), Some("always")),
            Ok(ColorWhen::Never)
        );
        assert_eq!(choose(None, Some("always")), Ok(ColorWhen::Always));
        assert_eq!(choose(None, Some(" never ")), Ok(ColorWhen::Never));
        assert_eq!(choose(None, None), Ok(ColorWhen::Auto));
        assert_eq!(choose(None, Some("")), Ok(ColorWhen::Auto));
        assert!(
            choose(None, Some("sometimes"))
                .unwrap_err()
                .contains("auto, always or never")
        );
    }

    #[test]
    fn painting_wraps_in_a_style_and_its_reset_only_when_on() {
        assert_eq!(paint("FAIL", Role::Bad, false), "FAIL");
        let on = paint("FAIL", Role::Bad, true);
        assert!(
            on.starts_with("\x1b[") && on.ends_with("\x1b[0m") && on.contains("FAIL"),
            "{on:?}"
        );
        assert_eq!(paint("", Role::Good, true), "");
        assert_eq!(Role::named("notice"), Some(Role::Notice));
        assert_eq!(Role::named("rainbow"), None);
    }
}
