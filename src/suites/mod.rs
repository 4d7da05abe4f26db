//! Suites derived from the tests run: insta snapshots and proptest properties. Each watches the
//! files its library writes during the run, reports them, and puts the user's tree back.

pub mod bench;
pub mod coverage;
pub mod infra;
pub mod load;
pub mod property;
pub mod snapshot;
pub mod watch;

use std::path::Path;

use crate::report::{Case, CaseStatus, Suite, SuiteKind, SuiteStatus};
use crate::workspace::Workspace;

/// True when a workspace member depends (in any section) on the crate `name`.
pub fn workspace_uses(ws: &Workspace, name: &str) -> bool {
    ws.members
        .iter()
        .any(|p| p.dependencies.iter().any(|d| d.name == name))
}

/// A path relative to the workspace root, for ids and messages.
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn suite(kind: SuiteKind, duration: f64, cases: Vec<Case>) -> Suite {
    let mut s = Suite {
        kind,
        name: kind.as_str().to_string(),
        status: SuiteStatus::Passed,
        duration,
        error: None,
        cases,
        metrics: Vec::new(),
    };
    s.refresh_status();
    s
}

fn failed_case(id: String, name: String, message: String, detail: String) -> Case {
    Case {
        id,
        name,
        package: None,
        binary: None,
        status: CaseStatus::Failed,
        attempts: Vec::new(),
        location: None,
        message: Some(message),
        detail: Some(detail),
    }
}
