//! The one place a run's events ([`crate::event::Event`]) become output: the terminal's bar
//! and lines, a CI log's lines and status lines (`terminal.rs`, counting and wording pure in
//! `progress.rs`), or a JSON stream (`json.rs`). Suites and the engine never print; a command
//! makes a [`Reporter`] and hands the engine its [`Reporter::event`] as the sink.

pub mod json;
pub mod progress;
pub mod terminal;

use crate::event::Event;

/// How a run shows its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A bar on standard error (a terminal).
    Bar,
    /// One line per test and a periodic status line on standard error (a CI log, a pipe).
    Lines,
    /// One JSON object per event on standard output.
    Json,
    /// The same objects, indented.
    JsonPretty,
}

/// A run's reporter.
pub enum Reporter {
    /// For people.
    Terminal(terminal::Terminal),
    /// For programs.
    Json(json::Json<std::io::Stdout>),
}

impl Reporter {
    /// A reporter of this style; `CARGO_GATE_STATUS_INTERVAL` sets how often a log gets a
    /// status line (a bad value is warned about and the default used).
    pub fn new(style: Style) -> Reporter {
        let var = std::env::var("CARGO_GATE_STATUS_INTERVAL").ok();
        let (every, warning) = progress::status_every(var.as_deref());
        let reporter = match style {
            Style::Bar | Style::Lines => {
                Reporter::Terminal(terminal::Terminal::new(style == Style::Bar, every))
            }
            Style::Json | Style::JsonPretty => Reporter::Json(json::Json::new(
                std::io::stdout(),
                style == Style::JsonPretty,
            )),
        };
        if let Some(message) = warning {
            reporter.event(&Event::Warning {
                suite: None,
                message: &message,
            });
        }
        reporter
    }

    /// Shows one event.
    pub fn event(&self, event: &Event<'_>) {
        match self {
            Reporter::Terminal(t) => t.event(event),
            Reporter::Json(j) => j.event(event),
        }
    }

    /// True when standard output carries the event stream (the scorecard must not go there).
    pub fn owns_stdout(&self) -> bool {
        matches!(self, Reporter::Json(_))
    }
}

/// For commands without a live display (`merge`, `comment`, `list`): warnings, notices and the
/// compiler's messages on standard error, as text; everything else is not shown.
pub fn plain(event: &Event<'_>) {
    let clean = crate::util::sanitize::for_log;
    match event {
        Event::Warning { message, .. } => eprintln!("warning: {}", clean(message)),
        Event::Notice(message) => eprintln!("{}", clean(message)),
        Event::CompilerMessage { rendered } => {
            let color = crate::util::color::stderr();
            let text = crate::util::sanitize::strip_controls(rendered, color);
            eprint!("{}", crate::util::sanitize::no_workflow_commands(&text));
        }
        _ => {}
    }
}
