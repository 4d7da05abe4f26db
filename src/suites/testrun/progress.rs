//! What the user sees while tests run: a progress bar on a terminal, one line per finished test
//! otherwise (CI logs).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::model::{Case, CaseStatus};
use crate::util::units::format_seconds;

/// Lines of a failing test's output echoed immediately.
const ECHO_LINES: usize = 30;

/// Progress display; owned by the thread that collects results.
pub struct Progress {
    bar: Option<ProgressBar>,
    color: bool,
    running: usize,
    failed: usize,
}

impl Progress {
    /// A display for `total` units; a bar when `tty` is true.
    pub fn new(total: u64, tty: bool) -> Progress {
        let bar = tty.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner:.green} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} {msg} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        let p = Progress {
            color: crate::util::color::stderr(),
            bar,
            running: 0,
            failed: 0,
        };
        p.refresh();
        p
    }

    fn refresh(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("running {}, failed {}", self.running, self.failed));
        }
    }

    /// Prints a line above the bar (or plainly).
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// A unit started.
    pub fn started(&mut self) {
        self.running += 1;
        self.refresh();
    }

    /// A test is still running after its slow timeout.
    pub fn slow(&self, id: &str, elapsed: Duration) {
        let label = crate::util::color::paint(
            &format!("{:>11}", "SLOW"),
            crate::util::color::Role::Notice,
            self.color,
        );
        self.println(&format!(
            "{label} [{:>8}] {id}",
            format!(">{}", format_seconds(elapsed.as_secs_f64()))
        ));
    }

    /// A test failed and will run again.
    pub fn retrying(&self, id: &str, attempt: u32) {
        let label = crate::util::color::paint(
            &format!("{:>11}", "RETRY"),
            crate::util::color::Role::Notice,
            self.color,
        );
        self.println(&format!("{label} {id} (attempt {attempt})"));
    }

    /// A unit finished with these cases (a doctest batch yields several).
    pub fn finished(&mut self, cases: &[Case]) {
        self.running = self.running.saturating_sub(1);
        for case in cases {
            if case.status.is_failure() {
                self.failed += 1;
            }
            let label = format!("{:>11}", case.status.label());
            self.println(&format!(
                "{} [{:>8}] {}",
                self.paint(case.status, &label),
                format_seconds(case.duration()),
                case.id
            ));
            if matches!(
                case.status,
                CaseStatus::Failed | CaseStatus::TimedOut | CaseStatus::Quarantined
            ) && let Some(last) = case.attempts.last()
            {
                for l in crate::util::excerpt::excerpt(&last.output_tail, ECHO_LINES).lines() {
                    // The test's own output: colour survives on a terminal, nothing else does.
                    let l = crate::util::sanitize::strip_controls(l, self.color);
                    self.println(&format!("            │ {l}"));
                }
            }
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        self.refresh();
    }

    fn paint(&self, status: CaseStatus, text: &str) -> String {
        use crate::util::color::Role;
        let role = match status {
            CaseStatus::Passed => Role::Good,
            CaseStatus::Failed | CaseStatus::TimedOut => Role::Bad,
            CaseStatus::Flaky | CaseStatus::Quarantined => Role::Notice,
            CaseStatus::Skipped => Role::Dim,
        };
        crate::util::color::paint(text, role, self.color)
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
