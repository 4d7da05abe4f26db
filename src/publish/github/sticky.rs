//! The sticky PR comment: one comment per gate id, found by a hidden marker among **all** pages
//! of the PR's comments, written only by the token's own user, updated in place.

use http::Method;
use serde_json::{Value, json};

use super::client::models::{Created, IssueComment, User};
use super::client::{Api, ApiError, decode};

/// What to do with an earlier comment of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Previous {
    /// Edit it in place (one comment, always current).
    Update,
    /// Minimize it as outdated and post a new one (keeps history visible in the timeline).
    Hide,
}

/// How the sticky comment is published.
#[derive(Debug, Clone)]
pub struct StickyOptions {
    /// The gate id in the marker.
    pub id: String,
    /// Update or hide earlier comments.
    pub previous: Previous,
    /// Delete our comment when the gate passes.
    pub delete_on_pass: bool,
    /// The author whose comments are ours; `None` asks GitHub who the token is.
    pub author: Option<String>,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StickyOutcome {
    /// A new comment.
    Created(u64),
    /// Our comment was edited.
    Updated(u64),
    /// Earlier comments were minimized and a new one posted.
    Replaced {
        /// Comments minimized.
        hidden: Vec<u64>,
        /// The new comment.
        created: u64,
    },
    /// The gate passed and our comments were deleted.
    Deleted(Vec<u64>),
    /// The gate passed and there was nothing to delete.
    NothingToDelete,
}

/// The hidden marker. Ids are reduced to characters that cannot end an HTML comment.
pub fn marker(id: &str) -> String {
    let mut safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "/_.:@ ".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    while safe.contains("--") {
        safe = safe.replace("--", "-");
    }
    format!("<!-- cargo-gate:{safe} -->")
}

/// Whether `body` is one of our comments: the marker is its exact last line, where
/// [`publish`] puts it. A marker quoted anywhere else (say, another gate's marker inside a
/// test's output) does not count.
pub fn is_marked(body: &str, mark: &str) -> bool {
    body.trim_end_matches(['\n', '\r'])
        .rsplit('\n')
        .next()
        .is_some_and(|last| last.trim_end_matches('\r') == mark)
}

/// The login GitHub's own Actions token writes as.
pub const ACTIONS_BOT: &str = "github-actions[bot]";

/// Who the token is. `GITHUB_TOKEN` cannot call `/user` (403), so that answer means the
/// Actions bot.
pub async fn whoami(api: &Api) -> Result<String, ApiError> {
    match api.request(Method::GET, "/user", None).await {
        Ok(r) => Ok(decode::<User>(&r.body, "GET /user")?.login),
        Err(e) if matches!(e.status(), Some(401 | 403 | 404)) => Ok(ACTIONS_BOT.to_string()),
        Err(e) => Err(e),
    }
}

/// Publishes `body` (the marker is appended here, so it can never be missing).
pub async fn publish(
    api: &Api,
    graphql: Option<&Api>,
    repo: &str,
    pr: u64,
    body: &str,
    passed: bool,
    opts: &StickyOptions,
) -> Result<StickyOutcome, ApiError> {
    let mark = marker(&opts.id);
    let author = match &opts.author {
        Some(a) => a.clone(),
        None => whoami(api).await?,
    };
    let comments: Vec<IssueComment> = api
        .get_all(&format!("/repos/{repo}/issues/{pr}/comments?per_page=100"))
        .await?
        .iter()
        .map(|c| decode(c, "a PR comment"))
        .collect::<Result<_, _>>()?;
    let ours: Vec<&IssueComment> = comments
        .iter()
        .filter(|c| c.user.as_ref().is_some_and(|u| u.login == author))
        .filter(|c| c.body.as_deref().is_some_and(|b| is_marked(b, &mark)))
        .collect();
    let id_of = |c: &IssueComment| c.id;
    if passed && opts.delete_on_pass {
        if ours.is_empty() {
            return Ok(StickyOutcome::NothingToDelete);
        }
        let mut deleted = Vec::new();
        for c in &ours {
            api.request(
                Method::DELETE,
                &format!("/repos/{repo}/issues/comments/{}", id_of(c)),
                None,
            )
            .await?;
            deleted.push(id_of(c));
        }
        return Ok(StickyOutcome::Deleted(deleted));
    }
    let full = format!("{body}\n{mark}\n");
    let payload = json!({ "body": full });
    match (opts.previous, ours.last()) {
        (Previous::Update, Some(last)) => {
            let id = id_of(last);
            api.request(
                Method::PATCH,
                &format!("/repos/{repo}/issues/comments/{id}"),
                Some(&payload),
            )
            .await?;
            Ok(StickyOutcome::Updated(id))
        }
        (Previous::Hide, Some(_)) => {
            let mut hidden = Vec::new();
            for c in &ours {
                let Some(node) = c.node_id.as_deref() else {
                    continue;
                };
                let query = json!({
                    "query": "mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) { minimizedComment { isMinimized } } }",
                    "variables": { "id": node }
                });
                let endpoint = graphql.unwrap_or(api);
                endpoint
                    .request(Method::POST, "/graphql", Some(&query))
                    .await?;
                hidden.push(id_of(c));
            }
            let created = create(api, repo, pr, &payload).await?;
            Ok(StickyOutcome::Replaced { hidden, created })
        }
        (_, None) => Ok(StickyOutcome::Created(
            create(api, repo, pr, &payload).await?,
        )),
    }
}

async fn create(api: &Api, repo: &str, pr: u64, payload: &Value) -> Result<u64, ApiError> {
    let r = api
        .request(
            Method::POST,
            &format!("/repos/{repo}/issues/{pr}/comments"),
            Some(payload),
        )
        .await?;
    Ok(decode::<Created>(&r.body, "the created comment")?.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_cannot_break_out_of_the_html_comment() {
        assert_eq!(marker("CI/test"), "<!-- cargo-gate:CI/test -->");
        assert_eq!(marker("a-->b"), "<!-- cargo-gate:a-b -->");
        assert!(!marker("x---->y<!--").contains("-->y"));
    }

    #[test]
    fn only_a_marker_on_the_last_line_counts() {
        let mark = marker("ci");
        assert!(is_marked(&format!("body\n{mark}\n"), &mark));
        assert!(is_marked(&format!("body\r\n{mark}\r\n"), &mark));
        assert!(!is_marked(&format!("```\n{mark}\n```\nmore\n"), &mark));
        assert!(!is_marked(&format!("body\n{mark} extra\n"), &mark));
        assert!(!is_marked(&format!("body\n{}\n", marker("other")), &mark));
    }
}
