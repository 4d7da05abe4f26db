//! Where we are on GitHub: repository, API URL, the event and its pull request, read from the
//! environment GitHub Actions sets. Pure parsing; the caller reads the files.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::model::GithubRun;

/// What the publishing step knows about its surroundings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Context {
    /// REST API base, e.g. `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub api_url: String,
    /// Repository owner.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// `pull_request`, `push`, `workflow_run`, ...
    pub event_name: String,
    /// The pull request the event is about.
    pub pull_request: Option<u64>,
    /// The commit checks attach to: a PR's head, or the pushed commit.
    pub head_sha: Option<String>,
    /// A pull request from a fork under `pull_request`: the token is read-only.
    pub fork: bool,
    /// Link to this workflow run.
    pub run_url: Option<String>,
    /// `GITHUB_WORKFLOW` + `GITHUB_JOB`, the default sticky-comment id.
    pub default_id: String,
}

/// Builds the context from environment variables and the parsed event payload.
pub fn from_env(env: &BTreeMap<String, String>, event: &Value) -> Result<Context, String> {
    let repository = env
        .get("GITHUB_REPOSITORY")
        .filter(|r| !r.is_empty())
        .ok_or("GITHUB_REPOSITORY is not set: this does not look like a GitHub Actions job")?;
    let (owner, repo) = repository
        .split_once('/')
        .filter(|(o, r)| !o.is_empty() && !r.is_empty())
        .ok_or_else(|| format!("GITHUB_REPOSITORY `{repository}` is not owner/name"))?;
    let api_url = env
        .get("GITHUB_API_URL")
        .filter(|u| !u.is_empty())
        .cloned()
        .unwrap_or_else(|| "https://api.github.com".to_string());
    let event_name = env.get("GITHUB_EVENT_NAME").cloned().unwrap_or_default();
    let run_url = match (env.get("GITHUB_SERVER_URL"), env.get("GITHUB_RUN_ID")) {
        (Some(server), Some(id)) if !server.is_empty() && !id.is_empty() => {
            Some(format!("{server}/{repository}/actions/runs/{id}"))
        }
        _ => None,
    };
    let mut ctx = Context {
        api_url: api_url.trim_end_matches('/').to_string(),
        owner: owner.to_string(),
        repo: repo.to_string(),
        event_name: event_name.clone(),
        run_url,
        head_sha: env.get("GITHUB_SHA").cloned().filter(|s| !s.is_empty()),
        default_id: format!(
            "{}/{}",
            env.get("GITHUB_WORKFLOW")
                .map_or("workflow", String::as_str),
            env.get("GITHUB_JOB").map_or("job", String::as_str)
        ),
        ..Context::default()
    };
    // `read_event` checked the types; an event it did not read (`Null`) has none of these.
    let ev = shape::Event::deserialize(event).unwrap_or_default();
    match event_name.as_str() {
        "pull_request" | "pull_request_target" => {
            let pr = ev.pull_request.as_ref();
            ctx.pull_request = pr.map(|p| p.number).or(ev.number);
            if let Some(sha) = pr.and_then(|p| p.head.as_ref()).and_then(|h| h.sha.clone()) {
                ctx.head_sha = Some(sha);
            }
            let full_name = |h: Option<&shape::Head>| {
                h.and_then(|h| h.repo.as_ref())
                    .and_then(|r| r.full_name.clone())
            };
            let head_repo = full_name(pr.and_then(|p| p.head.as_ref()));
            let base_repo =
                full_name(pr.and_then(|p| p.base.as_ref())).unwrap_or_else(|| repository.clone());
            // Only `pull_request` runs fork PRs with a read-only token; `pull_request_target`
            // runs in the base repository with a write token.
            ctx.fork = event_name == "pull_request" && head_repo.is_some_and(|h| h != base_repo);
        }
        "workflow_run" => {
            if let Some(run) = &ev.workflow_run {
                if let Some(sha) = &run.head_sha {
                    ctx.head_sha = Some(sha.clone());
                }
                // GitHub leaves this list empty for fork PRs; the report then supplies the
                // number.
                ctx.pull_request = run
                    .pull_requests
                    .as_ref()
                    .and_then(|p| p.first())
                    .map(|p| p.number);
            }
        }
        "merge_group" => {
            if let Some(sha) = ev.merge_group.and_then(|m| m.head_sha) {
                ctx.head_sha = Some(sha);
            }
        }
        _ => {}
    }
    Ok(ctx)
}

/// What `cargo gate run` records in the report when it runs on GitHub Actions.
pub fn run_record(env: &BTreeMap<String, String>, event: &Value) -> Option<GithubRun> {
    if env.get("GITHUB_ACTIONS").map(String::as_str) != Some("true") {
        return None;
    }
    from_env(env, event).ok().map(|ctx| record(&ctx))
}

/// The facts of `ctx` a report records (no artifact link: only `comment` is given one).
pub fn record(ctx: &Context) -> GithubRun {
    GithubRun {
        repository: format!("{}/{}", ctx.owner, ctx.repo),
        event: ctx.event_name.clone(),
        pull_request: ctx.pull_request,
        head_sha: ctx.head_sha.clone(),
        run_url: ctx.run_url.clone(),
        artifact_url: None,
    }
}

/// The environment as a map, and the event payload (`{}` when absent or unreadable).
pub fn read_env() -> (BTreeMap<String, String>, Value) {
    let env = github_vars();
    let event = read_event(&env).unwrap_or(Value::Null);
    (env, event)
}

/// The `GITHUB_*` variables, the token left out: it is never part of the context passed around.
pub fn github_vars() -> BTreeMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("GITHUB_"))
        .filter(|(k, _)| k != "GITHUB_TOKEN")
        .collect()
}

/// The event file GitHub wrote (`GITHUB_EVENT_PATH`): `Null` when there is none; an error that
/// names the file when it cannot be read or is not a JSON object, so a broken event is never
/// taken for "no pull request".
pub fn read_event(env: &BTreeMap<String, String>) -> Result<Value, String> {
    let Some(path) = env.get("GITHUB_EVENT_PATH").filter(|p| !p.is_empty()) else {
        return Ok(Value::Null);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the event file {path} (GITHUB_EVENT_PATH): {e}"))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{path}:{}:{}: the event file (GITHUB_EVENT_PATH) is not JSON: {e}",
            e.line(),
            e.column()
        )
    })?;
    if !value.is_object() {
        return Err(format!(
            "{path}: the event file (GITHUB_EVENT_PATH) is not a JSON object"
        ));
    }
    // The fields `from_env` reads must have GitHub's types: a pull request that is a number,
    // or a head sha that is not text, is a broken file, never "no pull request".
    for key in ["pull_request", "workflow_run", "merge_group"] {
        if value
            .get(key)
            .is_some_and(|v| !v.is_object() && !v.is_null())
        {
            return Err(format!(
                "{path}: the event file (GITHUB_EVENT_PATH) is broken: `{key}` is not an object"
            ));
        }
    }
    shape::Event::deserialize(&value).map_err(|e| {
        format!("{path}: the event file (GITHUB_EVENT_PATH) does not have GitHub's shape: {e}")
    })?;
    Ok(value)
}

/// The parts of GitHub's event payloads cargo-gate reads, with their types. Everything is
/// optional (each event has only some), unknown fields are ignored.
mod shape {
    use serde::Deserialize;

    #[derive(Deserialize, Default)]
    pub struct Event {
        #[serde(default)]
        pub pull_request: Option<PullRequest>,
        #[serde(default)]
        pub number: Option<u64>,
        #[serde(default)]
        pub workflow_run: Option<WorkflowRun>,
        #[serde(default)]
        pub merge_group: Option<MergeGroup>,
    }

    #[derive(Deserialize)]
    pub struct PullRequest {
        pub number: u64,
        #[serde(default)]
        pub head: Option<Head>,
        #[serde(default)]
        pub base: Option<Head>,
    }

    #[derive(Deserialize)]
    pub struct Head {
        #[serde(default)]
        pub sha: Option<String>,
        #[serde(default)]
        pub repo: Option<Repo>,
    }

    #[derive(Deserialize)]
    pub struct Repo {
        #[serde(default)]
        pub full_name: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct WorkflowRun {
        #[serde(default)]
        pub head_sha: Option<String>,
        #[serde(default)]
        pub pull_requests: Option<Vec<PrRef>>,
    }

    #[derive(Deserialize)]
    pub struct PrRef {
        pub number: u64,
    }

    #[derive(Deserialize)]
    pub struct MergeGroup {
        #[serde(default)]
        pub head_sha: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn pull_request_from_the_same_repository() {
        let e = env(&[
            ("GITHUB_REPOSITORY", "acme/widgets"),
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_SHA", "merge-sha"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_WORKFLOW", "CI"),
            ("GITHUB_JOB", "test"),
        ]);
        let event = json!({"pull_request": {"number": 7, "head": {"sha": "head-sha", "repo": {"full_name": "acme/widgets"}}, "base": {"repo": {"full_name": "acme/widgets"}}}});
        let c = from_env(&e, &event).unwrap();
        assert_eq!(c.pull_request, Some(7));
        assert_eq!(
            c.head_sha.as_deref(),
            Some("head-sha"),
            "checks go on the PR head, not the merge commit"
        );
        assert!(!c.fork);
        assert_eq!(c.api_url, "https://api.github.com");
        assert_eq!(
            c.run_url.as_deref(),
            Some("https://github.com/acme/widgets/actions/runs/42")
        );
        assert_eq!(c.default_id, "CI/test");
    }

    #[test]
    fn forks_are_detected_only_under_pull_request() {
        let event = json!({"pull_request": {"number": 7, "head": {"repo": {"full_name": "mallory/widgets"}}, "base": {"repo": {"full_name": "acme/widgets"}}}});
        let mut e = env(&[
            ("GITHUB_REPOSITORY", "acme/widgets"),
            ("GITHUB_EVENT_NAME", "pull_request"),
        ]);
        assert!(from_env(&e, &event).unwrap().fork);
        e.insert("GITHUB_EVENT_NAME".into(), "pull_request_target".into());
        assert!(!from_env(&e, &event).unwrap().fork);
    }

    #[test]
    fn workflow_run_push_and_merge_group() {
        let e = env(&[
            ("GITHUB_REPOSITORY", "a/b"),
            ("GITHUB_EVENT_NAME", "workflow_run"),
            ("GITHUB_API_URL", "https://ghe.example.com/api/v3/"),
        ]);
        let c = from_env(
            &e,
            &json!({"workflow_run": {"head_sha": "abc", "pull_requests": [{"number": 3}]}}),
        )
        .unwrap();
        assert_eq!(
            (c.pull_request, c.head_sha.as_deref()),
            (Some(3), Some("abc"))
        );
        assert_eq!(c.api_url, "https://ghe.example.com/api/v3");
        let c = from_env(
            &e,
            &json!({"workflow_run": {"head_sha": "abc", "pull_requests": []}}),
        )
        .unwrap();
        assert_eq!(c.pull_request, None);
        let e = env(&[
            ("GITHUB_REPOSITORY", "a/b"),
            ("GITHUB_EVENT_NAME", "merge_group"),
        ]);
        let c = from_env(&e, &json!({"merge_group": {"head_sha": "mg"}})).unwrap();
        assert_eq!((c.pull_request, c.head_sha.as_deref()), (None, Some("mg")));
        let e = env(&[
            ("GITHUB_REPOSITORY", "a/b"),
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_SHA", "p"),
        ]);
        assert_eq!(
            from_env(&e, &Value::Null).unwrap().head_sha.as_deref(),
            Some("p")
        );
    }

    #[test]
    fn missing_or_malformed_repository_is_an_error() {
        assert!(
            from_env(&env(&[]), &Value::Null)
                .unwrap_err()
                .contains("GITHUB_REPOSITORY is not set")
        );
        assert!(from_env(&env(&[("GITHUB_REPOSITORY", "nope")]), &Value::Null).is_err());
    }

    #[test]
    fn run_record_only_on_actions() {
        let mut e = env(&[("GITHUB_REPOSITORY", "a/b"), ("GITHUB_EVENT_NAME", "push")]);
        assert_eq!(run_record(&e, &Value::Null), None);
        e.insert("GITHUB_ACTIONS".into(), "true".into());
        assert_eq!(run_record(&e, &Value::Null).unwrap().repository, "a/b");
    }
}
