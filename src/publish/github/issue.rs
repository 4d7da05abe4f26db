//! The security issue of a branch: one open issue per branch ("Security advisories on main"),
//! found by a hidden marker among all pages of the repository's open issues, written only by
//! the token's own user — opened when the branch's latest run has findings, updated in place
//! while it has, closed when it has none. Sticky as the PR comment is.

use http::Method;
use serde_json::json;

use super::client::models::{CreatedIssue, Issue};
use super::client::{Api, ApiError, decode};
use super::sticky::{is_marked, marker, whoami};

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    /// A new issue.
    Opened(u64),
    /// Our open issue was edited.
    Updated(u64),
    /// No findings any more: our issue was closed.
    Closed(u64),
    /// No findings and no issue of ours open.
    NothingOpen,
}

/// The issue's title.
pub fn title(branch: &str) -> String {
    format!("Security advisories on {branch}")
}

/// Keeps the branch's issue as `body` says (`open`: the run has findings).
pub async fn publish(
    api: &Api,
    repo: &str,
    branch: &str,
    body: &str,
    open: bool,
    author: Option<&str>,
) -> Result<IssueOutcome, ApiError> {
    let mark = marker(&format!("security:{branch}"));
    let author = match author {
        Some(a) => a.to_string(),
        None => whoami(api).await?,
    };
    let issues: Vec<Issue> = api
        .get_all(&format!("/repos/{repo}/issues?state=open&per_page=100"))
        .await?
        .iter()
        .map(|i| decode(i, "an issue"))
        .collect::<Result<_, _>>()?;
    let ours = issues.iter().find(|i| {
        i.pull_request.is_none()
            && i.user.as_ref().is_some_and(|u| u.login == author)
            && i.body.as_deref().is_some_and(|b| is_marked(b, &mark))
    });
    let full = format!("{body}\n{mark}\n");
    match (open, ours) {
        (true, Some(issue)) => {
            let payload = json!({ "title": title(branch), "body": full });
            api.request(
                Method::PATCH,
                &format!("/repos/{repo}/issues/{}", issue.number),
                Some(&payload),
            )
            .await?;
            Ok(IssueOutcome::Updated(issue.number))
        }
        (true, None) => {
            let payload = json!({ "title": title(branch), "body": full });
            let r = api
                .request(
                    Method::POST,
                    &format!("/repos/{repo}/issues"),
                    Some(&payload),
                )
                .await?;
            Ok(IssueOutcome::Opened(
                decode::<CreatedIssue>(&r.body, "the created issue")?.number,
            ))
        }
        (false, Some(issue)) => {
            let payload = json!({ "body": full, "state": "closed", "state_reason": "completed" });
            api.request(
                Method::PATCH,
                &format!("/repos/{repo}/issues/{}", issue.number),
                Some(&payload),
            )
            .await?;
            Ok(IssueOutcome::Closed(issue.number))
        }
        (false, None) => Ok(IssueOutcome::NothingOpen),
    }
}
