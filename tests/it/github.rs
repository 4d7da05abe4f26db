//! `cargo gate comment` against a local fake GitHub API (wiremock) that behaves like the real
//! one: paginated comment lists with `Link` headers, 403/404/422, rate limits, a flaky 502.

use std::path::{Path, PathBuf};

use crate::common::*;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "ghs_TopSecretToken123";
const MARK: &str = "<!-- cargo-gate:CI/test -->";

/// A report with `failures` failing cases (with locations) after one passing case.
fn report(failures: usize, flaky: usize) -> Value {
    let mut cases = vec![
        json!({"id": "app tests::ok", "name": "tests::ok", "status": "passed", "attempts": [{"status": "passed", "duration": 0.01, "output_tail": ""}]}),
    ];
    for i in 0..failures {
        cases.push(json!({
            "id": format!("app tests::fail_{i:05}"), "name": format!("tests::fail_{i:05}"), "status": "failed",
            "attempts": [{"status": "failed", "duration": 0.02, "output_tail": "some output\n".repeat(200) + "assertion failed\n"}],
            "location": {"file": "src/lib.rs", "line": i + 1, "col": 5},
            "message": format!("assertion failed in case {i}")
        }));
    }
    for i in 0..flaky {
        cases.push(json!({"id": format!("app tests::flaky_{i}"), "name": format!("tests::flaky_{i}"), "status": "flaky",
            "attempts": [{"status": "failed", "duration": 0.02, "output_tail": "boom\n"}, {"status": "passed", "duration": 0.02, "output_tail": ""}],
            "message": "passed on attempt 2 after: boom"}));
    }
    let failed = failures > 0;
    json!({
        "schema": 1, "tool_version": "0.0.0",
        "run": {"id": "r1", "started": "2026-01-01T00:00:00Z", "duration": 3.5, "profile": "ci",
                "git": {"sha": "0123456789abcdef"}, "root_in_repo": "rust"},
        "suites": [{"kind": "tests", "name": "tests", "status": if failed {"failed"} else {"passed"}, "duration": 3.0, "cases": cases, "metrics": []}],
        "gates": [{"rule": "tests.failed == 0", "level": "fail", "status": if failed {"failed"} else {"passed"}, "observed": failures.to_string(), "limit": "0", "message": "m"}],
        "verdict": {"status": if failed {"failed"} else {"passed"}, "reasons": if failed {vec!["`tests.failed == 0`: failures"]} else {vec![]}}
    })
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new(report: &Value, event: &Value) -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("report.json"),
            serde_json::to_string(report).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("event.json"),
            serde_json::to_string(event).unwrap(),
        )
        .unwrap();
        Env { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }
}

fn pr_event(head_repo: &str) -> Value {
    json!({"pull_request": {"number": 7, "head": {"sha": "headsha", "repo": {"full_name": head_repo}}, "base": {"repo": {"full_name": "acme/app"}}}})
}

/// Runs `cargo gate comment` with a GitHub Actions environment pointing at `api`.
async fn comment(env: &Env, api: &str, event_name: &str, extra: &[&str]) -> std::process::Output {
    comment_with(env, api, event_name, extra, &[]).await
}

/// [`comment`] with some variables changed (`None`: unset).
async fn comment_with(
    env: &Env,
    api: &str,
    event_name: &str,
    extra: &[&str],
    vars: &[(&str, Option<&str>)],
) -> std::process::Output {
    let mut cmd = gate("none");
    // The publishing checkout is the test's own directory: its gate.toml and notes (if the
    // test made any), never the cargo-gate repository's.
    cmd.current_dir(env.dir.path());
    cmd.arg("comment")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("GITHUB_API_URL", api)
        .env("GITHUB_GRAPHQL_URL", format!("{api}/graphql"))
        .env("GITHUB_EVENT_NAME", event_name)
        .env("GITHUB_EVENT_PATH", env.path("event.json"))
        .env("GITHUB_SHA", "mergesha")
        .env("GITHUB_SERVER_URL", "https://github.example")
        .env("GITHUB_RUN_ID", "99")
        .env("GITHUB_WORKFLOW", "CI")
        .env("GITHUB_JOB", "test")
        .env("GITHUB_STEP_SUMMARY", env.path("summary.md"))
        .env("GITHUB_OUTPUT", env.path("output.txt"))
        .env("GITHUB_TOKEN", TOKEN)
        .env("CARGO_GATE_GITHUB_BACKOFF_MS", "10")
        .args(extra);
    for (name, value) in vars {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
    if !extra.contains(&"--from-artifact") {
        cmd.arg(env.path("report.json"));
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    eprintln!("--- stdout\n{}\n--- stderr\n{}", stdout(&out), stderr(&out));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains(TOKEN), "the token was printed");
    out
}

fn comment_page(start: u64, n: u64, marker_at: Option<(u64, &str)>) -> Value {
    let items: Vec<Value> = (start..start + n)
        .map(|id| {
            let (body, login) = match marker_at {
                Some((at, login)) if at == id => (format!("old report\n{MARK}\n"), login),
                _ => (format!("a human comment {id}"), "octocat"),
            };
            json!({"id": id, "node_id": format!("IC_{id}"), "body": body, "user": {"login": login, "type": "User"}})
        })
        .collect();
    Value::Array(items)
}

async fn mount_user_forbidden(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "Resource not accessible by integration"})),
        )
        .mount(server)
        .await;
}

/// PR 7's comments: `page` when listed, and a new comment gets `new_id`.
async fn mount_pr7_comments(server: &MockServer, page: Value, new_id: u64) {
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": new_id})))
        .mount(server)
        .await;
}

async fn mount_check_runs(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/check-runs"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 555})))
        .mount(server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/app/check-runs/555"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 555})))
        .mount(server)
        .await;
}

fn requests_summary(reqs: &[Request]) -> Vec<String> {
    reqs.iter()
        .map(|r| {
            let q = r.url.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!("{} {}{q}", r.method, r.url.path())
        })
        .collect()
}

fn body(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

/// The body of the comment POSTed to a PR's comments, if one was.
fn posted_comment(reqs: &[Request]) -> Option<String> {
    reqs.iter()
        .find(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/comments"))
        .map(|r| body(r)["body"].as_str().unwrap_or_default().to_string())
}

/// The payload of the check run created, if one was.
fn created_check_run(reqs: &[Request]) -> Option<Value> {
    reqs.iter()
        .find(|r| r.method.as_str() == "POST" && r.url.path() == "/repos/acme/app/check-runs")
        .map(body)
}

/// `r` as the report of an artifact directory in `env`; returns the directory.
fn write_artifact(env: &Env, r: &Value) -> PathBuf {
    let dir = env.path("artifact");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("report.json"), r.to_string()).unwrap();
    dir
}

/// `report` published as a fork's artifact from a `workflow_run` job, with `extra` arguments.
async fn publish_artifact(
    env: &Env,
    api: &str,
    report: &Value,
    extra: &[&str],
) -> std::process::Output {
    let dir = write_artifact(env, report);
    let mut args = vec!["--from-artifact", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    comment(env, api, "workflow_run", &args).await
}

/// A fake GitHub for the `workflow_run` publisher: PR 5's head is the tested commit, its
/// comment list is empty and a new comment gets `comment_id`; check runs are accepted.
async fn publish_server(comment_id: u64) -> MockServer {
    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    mount_check_runs(&server).await;
    mount_pr5_tested(&server, comment_id).await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marker_on_page_3_of_250_comments_is_updated_not_duplicated() {
    let server = MockServer::start().await;
    let base = server.uri();
    mount_user_forbidden(&server).await;
    let comments = "/repos/acme/app/issues/7/comments";
    // Page 1 has a comment with our marker but by another author: it must be left alone.
    Mock::given(method("GET")).and(path(comments)).and(query_param_is_missing("page"))
        .respond_with(ResponseTemplate::new(200).set_body_json(comment_page(1000, 100, Some((1010, "someone-else"))))
            .insert_header("link", format!("<{base}{comments}?per_page=100&page=2>; rel=\"next\", <{base}{comments}?per_page=100&page=3>; rel=\"last\"")))
        .mount(&server).await;
    Mock::given(method("GET")).and(path(comments)).and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(comment_page(2000, 100, None))
            .insert_header("link", format!("<{base}{comments}?per_page=100&page=3>; rel=\"next\", <{base}{comments}?per_page=100&page=1>; rel=\"first\"")))
        .mount(&server).await;
    Mock::given(method("GET"))
        .and(path(comments))
        .and(query_param("page", "3"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(comment_page(3000, 50, Some((3042, "github-actions[bot]"))))
                .insert_header(
                    "link",
                    format!("<{base}{comments}?per_page=100&page=1>; rel=\"first\""),
                ),
        )
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/app/issues/comments/3042"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 3042})))
        .mount(&server)
        .await;
    mount_check_runs(&server).await;

    let env = Env::new(&report(2, 1), &pr_event("acme/app"));
    let out = comment(&env, &base, "pull_request", &[]).await;
    assert_eq!(code(&out), 1, "the failed gate's exit code is kept");

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(
        requests_summary(&reqs),
        vec![
            "GET /user",
            "GET /repos/acme/app/issues/7/comments?per_page=100",
            "GET /repos/acme/app/issues/7/comments?per_page=100&page=2",
            "GET /repos/acme/app/issues/7/comments?per_page=100&page=3",
            "PATCH /repos/acme/app/issues/comments/3042",
            "POST /repos/acme/app/check-runs",
        ]
    );
    let patch = body(&reqs[4]);
    let text = patch["body"].as_str().unwrap();
    assert!(text.contains(MARK) && text.contains("cargo-gate failed"));
    assert!(text.chars().count() <= 65_536);
    assert_eq!(
        reqs[4].headers.get("authorization").unwrap(),
        &format!("Bearer {TOKEN}")
    );

    let check = body(&reqs[5]);
    assert_eq!(
        check["head_sha"], "headsha",
        "checks attach to the PR head, not the merge commit"
    );
    assert_eq!(check["conclusion"], "failure");
    let anns = check["output"]["annotations"].as_array().unwrap();
    assert_eq!(anns.len(), 2);
    assert_eq!(
        anns[0]["path"], "rust/src/lib.rs",
        "paths are relative to the repository root"
    );

    assert_eq!(
        env.read("output.txt"),
        format!(
            "verdict=failed\nreport={}\n",
            std::fs::canonicalize(env.path("report.json"))
                .unwrap()
                .display()
        )
    );
    assert!(
        env.read("summary.md")
            .starts_with("## ❌ cargo-gate: failed")
    );
    let so = stdout(&out);
    assert!(
        so.contains("::error file=rust/src/lib.rs,line=1,title=app tests%3A%3Afail_00000 failed::"),
        "{so}"
    );
    assert!(
        so.contains("::warning title=app tests%3A%3Aflaky_0 flaky::"),
        "{so}"
    );
    for f in ["summary.md", "output.txt"] {
        assert!(!env.read(f).contains(TOKEN));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_a_comment_when_none_is_ours_and_deletes_it_on_pass_when_asked() {
    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    mount_pr7_comments(&server, comment_page(1, 3, None), 77).await;
    let env = Env::new(&report(0, 0), &pr_event("acme/app"));
    let out = comment(&env, &server.uri(), "pull_request", &["--no-check-run"]).await;
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("comment 77 created on PR #7"));
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(
        requests_summary(&reqs).last().unwrap(),
        "POST /repos/acme/app/issues/7/comments"
    );

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"login": "gate-bot"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(comment_page(
            1,
            5,
            Some((3, "gate-bot")),
        )))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/repos/acme/app/issues/comments/3"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let out = comment(
        &env,
        &server.uri(),
        "pull_request",
        &["--no-check-run", "--delete-on-pass"],
    )
    .await;
    assert_eq!(code(&out), 0);
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(
        requests_summary(&reqs).last().unwrap(),
        "DELETE /repos/acme/app/issues/comments/3"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hide_mode_minimizes_the_old_comment_with_graphql_and_posts_a_new_one() {
    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(comment_page(
            1,
            4,
            Some((2, "github-actions[bot]")),
        )))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_string_contains("minimizeComment"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"minimizeComment": {"minimizedComment": {"isMinimized": true}}}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 8})))
        .mount(&server)
        .await;
    let env = Env::new(&report(1, 0), &pr_event("acme/app"));
    let out = comment(
        &env,
        &server.uri(),
        "pull_request",
        &["--no-check-run", "--previous", "hide"],
    )
    .await;
    assert_eq!(code(&out), 1);
    let reqs = server.received_requests().await.unwrap();
    let summary = requests_summary(&reqs);
    assert_eq!(
        &summary[2..],
        ["POST /graphql", "POST /repos/acme/app/issues/7/comments"]
    );
    assert_eq!(body(&reqs[2])["variables"]["id"], "IC_2");
    assert!(stderr(&out).contains("1 earlier one(s) minimized"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_pull_requests_get_the_summary_and_no_api_calls() {
    let server = MockServer::start().await;
    let env = Env::new(&report(1, 0), &pr_event("mallory/app"));
    let out = comment(&env, &server.uri(), "pull_request", &[]).await;
    assert_eq!(code(&out), 1);
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "no write attempts with a read-only token"
    );
    let summary = env.read("summary.md");
    assert!(summary.contains("comes from a fork"), "{summary}");
    assert!(summary.contains("workflow_run"));
    assert!(stderr(&out).contains("warning: This pull request comes from a fork"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_not_found_and_unprocessable_are_warnings_unless_strict() {
    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/check-runs"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "Resource not accessible by integration"})),
        )
        .mount(&server)
        .await;
    let env = Env::new(&report(0, 0), &pr_event("acme/app"));
    let out = comment(&env, &server.uri(), "pull_request", &[]).await;
    assert_eq!(code(&out), 0, "a passing gate stays passing");
    let err = stderr(&out);
    assert!(err.contains("the PR comment failed: GET /repos/acme/app/issues/7/comments?per_page=100: HTTP 404: Not Found"), "{err}");
    assert!(err.contains("issues disabled"), "{err}");
    assert!(
        err.contains("the check run failed: POST /repos/acme/app/check-runs: HTTP 403"),
        "{err}"
    );
    assert!(err.contains("checks: write"), "{err}");
    let out = comment(&env, &server.uri(), "pull_request", &["--strict-publish"]).await;
    assert_eq!(code(&out), 3);

    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST")).and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({"message": "Validation Failed", "errors": [{"message": "Body is too long (maximum is 65536 characters)"}]})))
        .mount(&server).await;
    let out = comment(&env, &server.uri(), "pull_request", &["--no-check-run"]).await;
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("HTTP 422: Validation Failed (GitHub rejected the content)"));
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 1, "422 is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_a_flaky_502_are_retried() {
    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    // Secondary rate limit once, with Retry-After, then the list.
    Mock::given(method("GET")).and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(ResponseTemplate::new(403).insert_header("retry-after", "1")
            .set_body_json(json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."})))
        .up_to_n_times(1).with_priority(1)
        .mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .with_priority(2)
        .mount(&server)
        .await;
    // 429 on the create, then success.
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"message": "Too Many Requests"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 5})))
        .with_priority(2)
        .mount(&server)
        .await;
    // 502 once on the check run, then success.
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/check-runs"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/check-runs"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 6})))
        .with_priority(2)
        .mount(&server)
        .await;
    let env = Env::new(&report(0, 0), &pr_event("acme/app"));
    let started = std::time::Instant::now();
    let out = comment(&env, &server.uri(), "pull_request", &["--strict-publish"]).await;
    assert_eq!(code(&out), 0, "everything succeeded after retries");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "Retry-After was honoured twice"
    );
    let summary = requests_summary(&server.received_requests().await.unwrap());
    assert_eq!(
        summary,
        vec![
            "GET /user",
            "GET /repos/acme/app/issues/7/comments?per_page=100",
            "GET /repos/acme/app/issues/7/comments?per_page=100",
            "POST /repos/acme/app/issues/7/comments",
            "POST /repos/acme/app/issues/7/comments",
            "POST /repos/acme/app/check-runs",
            "POST /repos/acme/app/check-runs",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_5xx_gives_up_after_bounded_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/check-runs"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"message": "unavailable"})))
        .mount(&server)
        .await;
    let env = Env::new(&report(0, 0), &json!({}));
    let out = comment(&env, &server.uri(), "push", &[]).await;
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("no pull request for event `push`"));
    assert!(stderr(&out).contains("HTTP 503"));
    let n = server.received_requests().await.unwrap().len();
    assert_eq!(n, 4, "one try and three retries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_run_annotations_go_in_batches_of_50() {
    let server = MockServer::start().await;
    mount_check_runs(&server).await;
    let env = Env::new(&report(120, 0), &json!({}));
    let out = comment(&env, &server.uri(), "push", &[]).await;
    assert_eq!(code(&out), 1);
    let reqs = server.received_requests().await.unwrap();
    let sizes: Vec<(String, usize)> = reqs
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                body(r)["output"]["annotations"]
                    .as_array()
                    .map_or(0, Vec::len),
            )
        })
        .collect();
    assert_eq!(
        sizes,
        vec![
            ("POST".to_string(), 50),
            ("PATCH".to_string(), 50),
            ("PATCH".to_string(), 20)
        ]
    );
    assert_eq!(
        body(&reqs[0])["head_sha"],
        "mergesha",
        "a push checks the pushed commit"
    );
    // Only the first ten failures become workflow commands.
    assert_eq!(
        stdout(&out)
            .lines()
            .filter(|l| l.starts_with("::error"))
            .count(),
        10
    );
}

/// A created check run without an id (a proxy mangling answers, an API change): cargo-gate
/// must not go on to PATCH `/check-runs/0`; it says what was wrong, and the verdict stands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_without_an_id_is_an_error_not_id_zero() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/check-runs"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"name": "cargo-gate"})))
        .mount(&server)
        .await;
    let env = Env::new(&report(120, 0), &json!({}));
    let out = comment(&env, &server.uri(), "push", &[]).await;
    assert_eq!(code(&out), 1, "the failed verdict is kept");
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(
        requests_summary(&reqs),
        vec!["POST /repos/acme/app/check-runs"],
        "no request after the answer without an id"
    );
    assert!(
        stderr(&out).contains("the created check run: unexpected answer from GitHub")
            && stderr(&out).contains("missing field `id`"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_enterprise_paths_keep_the_api_prefix() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/repos/acme/app/check-runs"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .mount(&server)
        .await;
    let env = Env::new(&report(0, 0), &json!({}));
    let out = comment(
        &env,
        &format!("{}/api/v3", server.uri()),
        "push",
        &["--strict-publish"],
    )
    .await;
    assert_eq!(code(&out), 0);
    assert_eq!(
        requests_summary(&server.received_requests().await.unwrap()),
        vec!["POST /api/v3/repos/acme/app/check-runs"]
    );
}

/// PR #5 whose head is the commit the workflow_run event names (`forkhead`), with no comment
/// yet; a new comment gets `comment_id`.
async fn mount_pr5_tested(server: &MockServer, comment_id: u64) {
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/pulls/5"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"number": 5, "head": {"sha": "forkhead"}})),
        )
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/issues/5/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/issues/5/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": comment_id})))
        .mount(server)
        .await;
}

fn artifact(dir: &Path, pr: u64) {
    let mut r = report(1, 0);
    r["run"]["github"] = json!({"repository": "acme/app", "event": "pull_request", "pull_request": pr, "head_sha": "forkhead"});
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("report.json"), serde_json::to_string(&r).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_run_publishes_an_artifact_only_for_the_pr_it_tested() {
    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    mount_pr5_tested(&server, 50).await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/pulls/6"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"number": 6, "head": {"sha": "someotherhead"}})),
        )
        .mount(&server)
        .await;
    // GitHub leaves `pull_requests` empty for fork PRs in workflow_run events.
    let event = json!({"workflow_run": {"head_sha": "forkhead", "pull_requests": []}});
    let env = Env::new(&report(0, 0), &event);
    artifact(&env.path("artifact"), 5);
    let dir = env.path("artifact");
    let out = comment(
        &env,
        &server.uri(),
        "workflow_run",
        &["--no-check-run", "--from-artifact", dir.to_str().unwrap()],
    )
    .await;
    assert_eq!(code(&out), 1, "the artifact's verdict is the exit code");
    assert!(
        stderr(&out).contains("comment 50 created on PR #5"),
        "{}",
        stderr(&out)
    );

    // An artifact naming a PR whose head is not the tested commit is refused.
    artifact(&dir, 6);
    server.reset().await;
    mount_user_forbidden(&server).await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/pulls/6"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"number": 6, "head": {"sha": "someotherhead"}})),
        )
        .mount(&server)
        .await;
    let out = comment(
        &env,
        &server.uri(),
        "workflow_run",
        &["--no-check-run", "--from-artifact", dir.to_str().unwrap()],
    )
    .await;
    assert!(
        stderr(&out).contains("nothing published"),
        "{}",
        stderr(&out)
    );
    let reqs = requests_summary(&server.received_requests().await.unwrap());
    assert_eq!(reqs, vec!["GET /repos/acme/app/pulls/6"]);
}

/// Publish mode fails closed: whatever the artifact leaves out or says, nothing of it is
/// written anywhere (summary, annotations, comment, check run) unless every check passes, and
/// no artifact text reaches the trusted job's log unescaped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverifiable_artifact_publishes_nothing() {
    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    let event = json!({"workflow_run": {"head_sha": "forkhead", "pull_requests": []}});
    let env = Env::new(&report(0, 0), &event);
    let dir = env.path("artifact");
    let hostile = "evil/x\n::error title=pwned::owned\n::add-mask::x\n::stop-commands::abc";
    let cases: Vec<(&str, Value, &[&str])> = vec![
        (
            "a repository name carrying workflow commands",
            json!({"repository": hostile, "event": "pull_request", "pull_request": 5}),
            &[],
        ),
        ("no run.github at all", Value::Null, &[]),
        (
            "no tested commit in the trusted event or environment",
            json!({"repository": "acme/app", "event": "pull_request", "pull_request": 5}),
            &["GITHUB_SHA"],
        ),
    ];
    for (what, github, unset) in cases {
        let mut r = report(2, 0);
        if github.is_null() {
            r["run"].as_object_mut().unwrap().remove("github");
        } else {
            r["run"]["github"] = github;
        }
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("report.json"), r.to_string()).unwrap();
        let event = if unset.is_empty() {
            json!({"workflow_run": {"head_sha": "forkhead", "pull_requests": []}})
        } else {
            json!({"workflow_run": {"pull_requests": []}})
        };
        std::fs::write(env.path("event.json"), event.to_string()).unwrap();
        server.reset().await;
        let vars: Vec<(&str, Option<&str>)> = unset.iter().map(|v| (*v, None)).collect();
        let out = comment_with(
            &env,
            &server.uri(),
            "workflow_run",
            &["--from-artifact", dir.to_str().unwrap()],
            &vars,
        )
        .await;
        assert!(
            stderr(&out).contains("nothing published"),
            "{what}: {}",
            stderr(&out)
        );
        assert_eq!(
            requests_summary(&server.received_requests().await.unwrap()),
            Vec::<String>::new(),
            "{what}: no request reaches GitHub"
        );
        assert_eq!(env.read("summary.md"), "", "{what}: no untrusted summary");
        let log = format!("{}{}", stdout(&out), stderr(&out));
        for line in log.lines() {
            assert!(
                !line.starts_with("::"),
                "{what}: a workflow command in the log: {line}"
            );
        }
    }
}

/// The artifact's own verdict is never believed: a report that says `passed` over failed cases
/// is judged again with this repository's rules; and repository names match in any case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_artifacts_verdict_is_decided_again_and_its_repository_matches_in_any_case() {
    let server = publish_server(51).await;
    let event = json!({"workflow_run": {"head_sha": "forkhead", "pull_requests": []}});
    let env = Env::new(&report(0, 0), &event);
    let dir = env.path("artifact");
    let mut r = report(3, 0);
    r["run"]["github"] = json!({"repository": "ACME/App", "event": "pull_request", "pull_request": 5, "run_url": "https://evil.example/run"});
    r["verdict"] = json!({"status": "passed", "reasons": []});
    r["gates"] = json!([]);
    r["suites"][0]["status"] = json!("passed");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("report.json"), r.to_string()).unwrap();
    let out = comment(
        &env,
        &server.uri(),
        "workflow_run",
        &["--from-artifact", dir.to_str().unwrap()],
    )
    .await;
    assert_eq!(
        code(&out),
        1,
        "3 failed cases fail the gate, whatever the artifact says"
    );
    assert!(
        stderr(&out).contains("comment 51 created on PR #5"),
        "{}",
        stderr(&out)
    );
    let reqs = server.received_requests().await.unwrap();
    let check = created_check_run(&reqs).expect("a check run");
    assert_eq!(check["conclusion"], "failure");
    assert_ne!(check["details_url"], "https://evil.example/run");
    let text = posted_comment(&reqs).expect("a comment");
    assert!(
        !text.contains("evil.example"),
        "links come from the trusted run: {text}"
    );
    assert!(!text.contains("cargo-gate passed"), "{text}");

    // Too large an artifact is refused before it is read.
    let out = comment(
        &env,
        &server.uri(),
        "workflow_run",
        &[
            "--from-artifact",
            dir.to_str().unwrap(),
            "--max-artifact-bytes",
            "100",
        ],
    )
    .await;
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("--max-artifact-bytes"),
        "{}",
        stderr(&out)
    );
}

/// A token with a line break inside cannot go into a header: that is a publishing problem (a
/// warning naming the variable, not the value), never a panic, and the verdict stays the exit
/// code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_a_header_cannot_carry_is_a_warning_not_a_panic() {
    let server = MockServer::start().await;
    let env = Env::new(&report(1, 0), &json!({}));
    let out = comment_with(
        &env,
        &server.uri(),
        "push",
        &[],
        &[("GITHUB_TOKEN", Some("ghs_Top\nSecret"))],
    )
    .await;
    assert_eq!(code(&out), 1, "the failed verdict, not a crash");
    assert!(
        stderr(&out).contains("GITHUB_TOKEN holds characters an HTTP header cannot carry"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("Secret"),
        "the token is never printed"
    );
    assert!(
        env.read("summary.md").contains("cargo-gate"),
        "the summary is still written"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// A broken event file is an input error naming the file, never "no pull request".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_event_file_is_an_error_naming_it() {
    let server = MockServer::start().await;
    let env = Env::new(&report(1, 0), &json!({}));
    for (text, says) in [
        ("{\"pull_request\": {\"number\": 7", "is not JSON"),
        ("[1, 2]", "is not a JSON object"),
        ("", "is not JSON"),
    ] {
        std::fs::write(env.path("event.json"), text).unwrap();
        let out = comment(&env, &server.uri(), "pull_request", &[]).await;
        assert_eq!(code(&out), 2, "{text:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("event.json"), "{}", stderr(&out));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn outside_github_actions_comment_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.json"),
        serde_json::to_string(&report(0, 0)).unwrap(),
    )
    .unwrap();
    let mut cmd = gate("none");
    cmd.arg("comment")
        .arg(dir.path().join("r.json"))
        .env_remove("GITHUB_REPOSITORY");
    let out = output(&mut cmd);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("GITHUB_REPOSITORY is not set"));
}

#[test]
fn rendered_comments_stay_within_limits() {
    let dir = tempfile::tempdir().unwrap();
    let render = |name: &str, r: &Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, serde_json::to_string(r).unwrap()).unwrap();
        let out = output(gate("none").args(["report", "--format", "comment"]).arg(&p));
        assert_eq!(code(&out), 0);
        stdout(&out)
    };
    let huge = render("huge.json", &report(10_000, 0));
    assert!(
        huge.chars().count() <= 65_536 - 200,
        "{} chars",
        huge.chars().count()
    );
    assert!(huge.contains("…and 9980 more."), "says what was left out");
    // A single message too long for any layout is cut, with a note.
    let mut giant = report(1, 0);
    giant["suites"][0]["cases"][1]["message"] = json!("x".repeat(200_000));
    let cut = render("giant.json", &giant);
    assert!(cut.chars().count() <= 65_536 - 200);
    assert!(cut.contains("truncated to fit GitHub's size limit"));
    let pass = render("pass.json", &report(0, 0));
    let fail = render("fail.json", &report(3, 0));
    let flaky = render("flaky.json", &report(0, 4));
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("comment_all_pass", pass);
        insta::assert_snapshot!("comment_failures_long_output", fail);
        insta::assert_snapshot!("comment_flaky", flaky);
        insta::assert_snapshot!("comment_10000_failures", huge);
    });
}

/// The markdown outside fenced code blocks (inside one, GitHub shows text literally), and
/// whether every fence and `<details>` that opens also closes.
fn outside_fences(md: &str) -> (String, bool) {
    let (mut outside, mut open, mut details) = (String::new(), false, 0i64);
    for line in md.lines() {
        if line.starts_with("```") {
            open = !open;
            continue;
        }
        if !open {
            details += line.matches("<details").count() as i64;
            details -= line.matches("</details>").count() as i64;
            outside.push_str(line);
            outside.push('\n');
        }
    }
    (outside, !open && details == 0)
}

/// Forms that would be active markup, a mention, a link, a command or an escape if hostile
/// test output reached an output unescaped.
const ACTIVE_MARKDOWN: &[&str] = &[
    "@octocat",
    "](https://evil",
    "![",
    "<img",
    "<script",
    "<details open",
    // The test's own `</code></summary></details>` (a code span the message ends with is ours,
    // and is followed by the end of the line, never by more markup).
    "</code></summary></details>",
    "https://evil",
    "<!-- cargo-gate:CI/other -->",
    "| cell |",
];

fn assert_inert_markdown(what: &str, md: &str) {
    let (outside, balanced) = outside_fences(md);
    assert!(balanced, "{what}: unbalanced fences or <details>:\n{md}");
    for form in ACTIVE_MARKDOWN {
        assert!(
            !outside.contains(form),
            "{what}: {form:?} is active in:\n{outside}"
        );
    }
    assert_no_controls(what, md);
}

fn assert_no_controls(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| {
            (c.is_control() && !matches!(c, '\n' | '\t')) || ('\u{202a}'..='\u{202e}').contains(c)
        })
        .collect();
    assert!(bad.is_empty(), "{what}: control characters {bad:?}");
}

/// The injection test: a fixture whose tests print every hostile form the review found. What
/// cargo-gate renders of them — comment, summary, HTML, JUnit, the workflow log — holds the
/// text and none of the active forms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_test_output_stays_text_in_every_output() {
    let out_dir = tempfile::tempdir().unwrap();
    let ran = tokio::task::spawn_blocking({
        let dir = out_dir.path().to_path_buf();
        move || run("hostile", &dir, &[])
    })
    .await
    .unwrap();
    assert_eq!(code(&ran), 1, "every hostile test fails");
    assert_no_controls("the run's terminal output", &(stdout(&ran) + &stderr(&ran)));
    let report_path = out_dir.path().join("report.json");
    let report_json = json(&report_path);
    assert_eq!(statuses(&report_json).len(), 5);

    // The report keeps what the tests printed: escaping happens where it is rendered.
    assert!(
        std::fs::read_to_string(&report_path)
            .unwrap()
            .contains("@octocat")
    );

    for format in ["comment", "markdown"] {
        let md = rendered(&report_path, format);
        assert!(
            md.contains("octocat"),
            "{format}: the text itself is still there"
        );
        assert_inert_markdown(format, &md);
    }
    let html = rendered(&report_path, "html");
    for form in [
        "<script>alert",
        "<img src=x",
        "<details open><summary>forged",
        "</code></summary></details>",
    ] {
        assert!(!html.contains(form), "html: {form:?}");
    }
    assert_no_controls("html", &html);
    let junit = rendered(&report_path, "junit");
    assert!(!junit.contains("<script>alert") && !junit.contains("<img src=x"));
    assert!(
        !junit
            .chars()
            .any(|c| matches!(c, '\u{fffe}' | '\u{ffff}' | '\x1b' | '\x07'))
    );

    // Published: the posted comment, the job summary and the workflow commands on stdout.
    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 5})))
        .mount(&server)
        .await;
    mount_check_runs(&server).await;
    let env = Env::new(&report_json, &pr_event("acme/app"));
    let published = comment(&env, &server.uri(), "pull_request", &[]).await;
    assert_eq!(code(&published), 1, "the verdict is kept: failed");
    let reqs = server.received_requests().await.unwrap();
    let posted = posted_comment(&reqs).expect("a comment was posted");
    assert_inert_markdown("posted comment", &posted);
    assert!(
        posted.trim_end().ends_with(MARK),
        "our marker is the last line"
    );
    let check_run = created_check_run(&reqs).expect("a check run was created");
    assert_inert_markdown(
        "check run summary",
        check_run["output"]["summary"].as_str().unwrap_or_default(),
    );
    assert_inert_markdown("job summary", &env.read("summary.md"));
    let log = stdout(&published) + &stderr(&published);
    assert_no_controls("workflow log", &log);
    for line in log.lines() {
        for forged in [
            "::add-mask::",
            "::stop-commands::",
            "::error title=pwned",
            "::error::forged",
            "::warning::forged",
        ] {
            assert!(
                !line.starts_with(forged),
                "a forged workflow command: {line}"
            );
        }
        if line.starts_with("::") {
            assert!(
                line.starts_with("::error ") || line.starts_with("::warning "),
                "only our own annotations are commands: {line}"
            );
        }
    }
    assert!(log.contains("::error "), "the failures are annotated");
}

/// Redirects: a GET within the API's host is followed (GitHub answers 301 for a renamed
/// repository); an answer to a POST is never followed, and nothing goes to another host —
/// neither a redirect nor a `Link` to the next page takes the token there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_never_change_a_write_or_leave_the_host() {
    let elsewhere = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 666})))
        .mount(&elsewhere)
        .await;
    let comments = "/repos/acme/app/issues/7/comments";

    // 1. The list moved within the host (followed); the POST is answered with a redirect to
    //    another host (not followed: nothing was created, and it says so).
    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    Mock::given(method("GET"))
        .and(path(comments))
        .respond_with(
            ResponseTemplate::new(301)
                .insert_header("location", "/repositories/1/issues/7/comments?per_page=100"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repositories/1/issues/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(comments))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/steal", elsewhere.uri())),
        )
        .mount(&server)
        .await;
    let env = Env::new(&report(1, 0), &pr_event("acme/app"));
    let out = comment(&env, &server.uri(), "pull_request", &["--no-check-run"]).await;
    assert_eq!(code(&out), 1, "the verdict stays the gate's");
    let err = stderr(&out);
    assert!(
        err.contains("HTTP 302 redirect to") && err.contains("not followed"),
        "{err}"
    );
    assert!(!err.contains("created"), "{err}");
    let reqs = server.received_requests().await.unwrap();
    assert!(
        requests_summary(&reqs)
            .contains(&"GET /repositories/1/issues/7/comments?per_page=100".to_string()),
        "the GET redirect within the host was followed: {:?}",
        requests_summary(&reqs)
    );

    // 2. A 307 for the POST within the same host is not followed either.
    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    Mock::given(method("GET"))
        .and(path(comments))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(comments))
        .respond_with(ResponseTemplate::new(307).insert_header("location", "/elsewhere"))
        .mount(&server)
        .await;
    let out = comment(
        &env,
        &server.uri(),
        "pull_request",
        &["--no-check-run", "--strict-publish"],
    )
    .await;
    assert_eq!(code(&out), 1);
    let reqs = server.received_requests().await.unwrap();
    assert!(
        !requests_summary(&reqs)
            .iter()
            .any(|r| r.contains("/elsewhere"))
    );

    // 3. A GET redirected to another host, and 4. a next page on another host.
    for (status, link) in [
        (302, None),
        (
            200,
            Some(format!("<{}/page2>; rel=\"next\"", elsewhere.uri())),
        ),
    ] {
        let server = MockServer::start().await;
        mount_user_forbidden(&server).await;
        let mut answer = ResponseTemplate::new(status);
        answer = match &link {
            Some(l) => answer
                .set_body_json(json!([]))
                .insert_header("link", l.as_str()),
            None => answer.insert_header("location", format!("{}/list", elsewhere.uri())),
        };
        Mock::given(method("GET"))
            .and(path(comments))
            .respond_with(answer)
            .mount(&server)
            .await;
        let out = comment(&env, &server.uri(), "pull_request", &["--no-check-run"]).await;
        assert_eq!(code(&out), 1);
        let reqs = server.received_requests().await.unwrap();
        assert!(
            !requests_summary(&reqs)
                .iter()
                .any(|r| r.starts_with("POST")),
            "nothing is posted when the list could not be read whole"
        );
    }
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "another host was contacted"
    );
}

/// A schema-2 report whose bench suite measured `bench.parse` ten times around `around` s.
fn bench_report(around: f64) -> Value {
    let mut r = report(0, 0);
    r["schema"] = json!(2);
    let samples: Vec<f64> = [1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01, 0.99, 1.0]
        .iter()
        .map(|f| f * around)
        .collect();
    r["suites"] = json!([{"kind": "bench", "name": "bench", "status": "passed", "duration": 1.0, "cases": [],
        "metrics": [{"name": "bench.parse", "unit": "s", "direction": "lower_is_better", "role": "compared",
                     "samples": samples}]}]);
    r
}

/// An artifact's comparisons are computed again from its measurements and the publishing
/// checkout's notes: a report claiming "unchanged" for a metric twice as slow as the baseline
/// fails a regression rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_artifacts_comparisons_are_made_again_from_the_trusted_notes() {
    let server = publish_server(52).await;
    let event = json!({"workflow_run": {"head_sha": "forkhead", "pull_requests": []}});
    let env = Env::new(&report(0, 0), &event);
    // The trusted checkout: a repository with a gate.toml and a note on HEAD.
    std::fs::write(
        env.path("gate.toml"),
        "[gate]\nfail = [\"bench.*.regression < 5%\"]\n",
    )
    .unwrap();
    std::fs::write(
        env.path("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    )
    .unwrap();
    git_init_commit(env.dir.path());
    let base = bench_report(1.0);
    std::fs::write(env.path("base.json"), base.to_string()).unwrap();
    let saved = output(gate("none").current_dir(env.dir.path()).args([
        "gate",
        "baseline",
        "save",
        "--report",
        "base.json",
    ]));
    assert_eq!(code(&saved), 0);

    let mut r = bench_report(2.0);
    r["run"]["github"] =
        json!({"repository": "acme/app", "event": "pull_request", "pull_request": 5});
    r["comparisons"] = json!([{"metric": "bench.parse", "unit": "s", "direction": "lower_is_better",
        "verdict": "unchanged", "method": "mann_whitney", "baseline": 2.0, "current": 2.0, "delta_pct": 0.0, "history": [], "baseline_rev": "forged"}]);
    let out = publish_artifact(&env, &server.uri(), &r, &[]).await;
    assert_eq!(
        code(&out),
        1,
        "a 100 % regression fails `bench.*.regression < 5%`"
    );
    let reqs = server.received_requests().await.unwrap();
    let check = created_check_run(&reqs).expect("a check run");
    assert_eq!(check["conclusion"], "failure");
    let posted = posted_comment(&reqs).expect("a comment");
    assert!(
        !posted.contains("forged"),
        "the artifact's baseline is not shown: {posted}"
    );
    assert!(posted.contains("+100.0%"), "{posted}");

    // Without notes in the publishing checkout, no comparison is believed: every metric is new.
    let env2 = Env::new(&report(0, 0), &event);
    std::fs::write(
        env2.path("gate.toml"),
        "[gate]\nfail = [\"bench.*.regression < 5%\"]\n",
    )
    .unwrap();
    let dir2 = write_artifact(&env2, &r);
    let server = publish_server(53).await;
    let out = comment(
        &env2,
        &server.uri(),
        "workflow_run",
        &["--from-artifact", dir2.to_str().unwrap(), "--no-check-run"],
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let posted = posted_comment(&server.received_requests().await.unwrap()).expect("a comment");
    assert!(
        posted.contains("publishing checkout has no notes"),
        "{posted}"
    );
    assert!(!posted.contains("forged"), "{posted}");
}

/// A broken gate.toml on a pull request: `run` exits 2 but still writes a report saying where,
/// and publishing it gives a failed check run with an annotation at the broken line, a comment
/// saying the gate could not run and why, and a summary with the fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_error_reaches_the_pull_request_at_the_broken_line() {
    let ws = temp_workspace("[tests]\nretries = \"two\"\n");
    let run = output(gate("none").current_dir(ws.path()).args([
        "gate",
        "run",
        "--out-dir",
        "target/gate",
    ]));
    assert_eq!(code(&run), 2, "a config error is exit 2: {}", stderr(&run));
    let report = json(&ws.path().join("target/gate/report.json"));
    assert_eq!(report["config_error"]["file"], "gate.toml", "{report}");
    assert_eq!(
        (
            &report["config_error"]["line"],
            &report["config_error"]["col"]
        ),
        (&json!(2), &json!(11))
    );
    assert_eq!(report["verdict"]["status"], "failed");

    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    mount_check_runs(&server).await;
    mount_pr7_comments(&server, json!([]), 78).await;
    let env = Env::new(&report, &pr_event("acme/app"));
    let out = comment(&env, &server.uri(), "pull_request", &[]).await;
    assert_eq!(code(&out), 1, "the gate did not pass");
    let reqs = server.received_requests().await.unwrap();
    let check = created_check_run(&reqs).expect("a check run");
    assert_eq!(check["conclusion"], "failure", "{check}");
    let annotations = check["output"]["annotations"].as_array().unwrap();
    assert_eq!(annotations.len(), 1, "{check}");
    assert_eq!(
        (&annotations[0]["path"], &annotations[0]["start_line"]),
        (&json!("gate.toml"), &json!(2)),
        "{check}"
    );
    assert!(
        stdout(&out).contains("::error file=gate.toml,line=2"),
        "{}",
        stdout(&out)
    );
    let posted = posted_comment(&reqs).expect("a comment");
    assert!(
        posted.contains("cargo-gate could not run") && posted.contains("gate.toml:2:11"),
        "{posted}"
    );
    assert!(posted.contains("Nothing was tested"), "{posted}");
    let summary = env.read("summary.md");
    assert!(
        summary.contains("the gate could not run") && summary.contains("help:"),
        "{summary}"
    );
}

/// The comment and the summary link the report artifact given on the command line (never one
/// a report carries, and never a link that is not a plain https URL) and name the baseline
/// commit of the performance comparison.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_comment_links_the_artifact_and_names_the_baseline_commit() {
    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    mount_pr7_comments(&server, json!([]), 79).await;
    let mut r = report(0, 0);
    r["run"]["github"] = json!({"repository": "acme/app", "event": "pull_request",
        "artifact_url": "https://evil.example/from-the-report"});
    r["comparisons"] = json!([{"metric": "bench.parse", "unit": "ns", "direction": "lower_is_better",
        "baseline": 100.0, "current": 101.0, "delta_pct": 1.0, "method": "history",
        "verdict": "unchanged", "baseline_rev": "abc1234", "history": [100.0]}]);
    let env = Env::new(&r, &pr_event("acme/app"));
    let link = "https://github.example/acme/app/actions/runs/99/artifacts/5";
    let out = comment(
        &env,
        &server.uri(),
        "pull_request",
        &["--no-check-run", "--artifact-url", link],
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let reqs = server.received_requests().await.unwrap();
    let posted = posted_comment(&reqs).expect("a comment");
    assert!(
        posted.contains(&format!("[HTML report and artifacts]({link})")),
        "{posted}"
    );
    assert!(posted.contains("baseline <code>abc1234</code>"), "{posted}");
    assert!(!posted.contains("evil.example"), "{posted}");
    assert!(env.read("summary.md").contains(link));

    // A link that is not a plain https URL is not shown.
    let bad = comment(
        &env,
        &server.uri(),
        "pull_request",
        &["--no-check-run", "--artifact-url", "javascript:alert(1)"],
    )
    .await;
    assert_eq!(code(&bad), 0);
    assert!(!env.read("summary.md").contains("javascript"));
}

/// A fork's job can drop a suite, or every case, from its report; the rules of the trusted
/// gate.toml would then be skipped or pass on nothing. Publish mode fails such an artifact and
/// says what is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_artifact_stripped_of_its_tests_fails() {
    let event = json!({"workflow_run": {"head_sha": "forkhead", "pull_requests": []}});
    for (what, strip) in [("no tests suite", 0), ("a tests suite without tests", 1)] {
        let server = publish_server(60 + strip).await;
        let env = Env::new(&report(0, 0), &event);
        let mut r = report(0, 0);
        r["run"]["github"] =
            json!({"repository": "acme/app", "event": "pull_request", "pull_request": 5});
        if strip == 0 {
            r["suites"] = json!([]);
        } else {
            r["suites"][0]["cases"] = json!([]);
        }
        let out = publish_artifact(&env, &server.uri(), &r, &[]).await;
        assert_eq!(code(&out), 1, "{what}: {}", stderr(&out));
        let reqs = server.received_requests().await.unwrap();
        assert_eq!(
            created_check_run(&reqs).expect("a check run")["conclusion"],
            "failure",
            "{what}"
        );
        let check = created_check_run(&reqs).expect("a check run");
        let said = check["output"].to_string();
        let want = if strip == 0 {
            "the report has no"
        } else {
            "tests suite holds no test"
        };
        assert!(said.contains(want), "{what}: {said}");
        assert!(
            posted_comment(&reqs)
                .expect("a comment")
                .contains("❌ cargo-gate failed")
        );
    }
}

/// Answers with `status` and a body that echoes the request's Authorization header, as a
/// misconfigured proxy or debugging endpoint would.
struct EchoAuth {
    status: u16,
    html: bool,
}

impl wiremock::Respond for EchoAuth {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let r = ResponseTemplate::new(self.status);
        if self.html {
            r.set_body_string(format!("<html>bad gateway for {auth}</html>"))
        } else {
            r.set_body_json(json!({"message": format!("echo: {auth}")}))
        }
    }
}

/// The token never reaches a log or an output, whatever GitHub (or something in between)
/// echoes back: error bodies with the Authorization header in JSON and in a 5xx page, and a
/// redirect whose Location holds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_masked_in_everything_an_api_echoes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(EchoAuth {
            status: 400,
            html: false,
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/issues/7/comments"))
        .respond_with(EchoAuth {
            status: 502,
            html: true,
        })
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/check-runs"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("https://elsewhere.example/?t={TOKEN}")),
        )
        .mount(&server)
        .await;
    // And a test that printed the token: it is in the report's failure output and message.
    let mut r = report(1, 0);
    r["suites"][0]["cases"][1]["message"] = json!(format!("leaked {TOKEN}"));
    r["suites"][0]["cases"][1]["attempts"][0]["output_tail"] =
        json!(format!("GITHUB_TOKEN={TOKEN}\n"));
    let env = Env::new(&r, &pr_event("acme/app"));
    let out = comment(&env, &server.uri(), "pull_request", &[]).await;
    assert_eq!(
        code(&out),
        1,
        "publishing problems never change the verdict"
    );
    let err = stderr(&out);
    assert!(err.contains("HTTP 400: echo: Bearer ***"), "{err}");
    let summary = std::fs::read_to_string(env.path("summary.md")).unwrap_or_default();
    assert!(summary.contains("GITHUB_TOKEN=***"), "{summary}");
    assert!(
        err.contains("redirect to https://elsewhere.example/?t=***"),
        "{err}"
    );
    for (what, text) in [
        ("stderr", err.clone()),
        ("stdout", stdout(&out)),
        (
            "summary",
            std::fs::read_to_string(env.path("summary.md")).unwrap_or_default(),
        ),
        (
            "outputs",
            std::fs::read_to_string(env.path("output.txt")).unwrap_or_default(),
        ),
    ] {
        assert!(!text.contains(TOKEN), "the token is in the {what}:\n{text}");
        assert!(
            !text.contains("TopSecret"),
            "part of the token is in the {what}"
        );
    }
}

/// Publish mode, narrowed: a failing case the artifact relabels `quarantined` (this checkout
/// quarantines nothing), `flaky` with only failed attempts, or `skipped` after a failed attempt
/// fails the gate and says which case's status its attempts contradict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_artifact_whose_statuses_contradict_their_attempts_fails() {
    let event = json!({"workflow_run": {"head_sha": "forkhead", "pull_requests": []}});
    for (relabel, said) in [
        ("quarantined", "quarantines no such test"),
        ("flaky", "no failed attempt before a passing one"),
        ("skipped", "skipped, but it ran"),
        ("passed", "its last attempt did not"),
    ] {
        let server = publish_server(60).await;
        let env = Env::new(&report(0, 0), &event);
        let mut r = report(1, 0);
        r["run"]["github"] =
            json!({"repository": "acme/app", "event": "pull_request", "pull_request": 5});
        r["suites"][0]["cases"][1]["status"] = json!(relabel);
        r["suites"][0]["status"] = json!("passed");
        r["verdict"] = json!({"status": "passed", "reasons": []});
        let out = publish_artifact(&env, &server.uri(), &r, &[]).await;
        assert_eq!(code(&out), 1, "{relabel}: {}", stderr(&out));
        let reqs = server.received_requests().await.unwrap();
        let check = created_check_run(&reqs).expect("a check run");
        assert_eq!(check["conclusion"], "failure", "{relabel}");
        let text = check["output"].to_string();
        assert!(
            text.contains("app tests::fail_00000") && text.contains(said),
            "{relabel}: {text}"
        );
    }
}

/// A passed report whose security suite found `advisories` advisories already on the branch.
fn security_report(advisories: usize) -> Value {
    let findings: Vec<Value> = (0..advisories)
        .map(|i| json!({
            "kind": "vulnerability", "id": format!("RUSTSEC-2026-900{i}"), "package": format!("crate{i} 1.0.0"),
            "title": "Heap overflow <script>alert(1)</script>", "severity": "high", "cvss": 7.5,
            "patched": [">=1.0.1"], "path": ["app", format!("crate{i}")], "file": "Cargo.lock", "line": 10 + i,
            "new": false
        }))
        .collect();
    json!({
        "schema": 3, "tool_version": "0.0.0",
        "run": {"id": "r1", "started": "2026-01-01T00:00:00Z", "duration": 1.0, "profile": "ci",
                "git": {"sha": "0123456789abcdef"}},
        "suites": [{"kind": "security", "name": "security", "status": "passed", "duration": 0.1,
            "cases": [{"id": "security audit", "name": "audit", "status": "passed", "attempts": [],
                       "message": format!("120 crates checked · {advisories} findings already on main")}],
            "metrics": [], "details": {"security": {"findings": findings, "packages": 120, "base": "main (0123456)"}}}],
        "gates": [],
        "verdict": {"status": "passed", "reasons": []}
    })
}

/// The repository's open issues over two pages: a human's, a pull request carrying our marker,
/// another branch's issue of ours, and (on page 2) this branch's issue of ours, #42.
async fn mount_open_issues(server: &MockServer, ours_open: bool) {
    let base = server.uri();
    let issues = "/repos/acme/app/issues";
    let mark = "<!-- cargo-gate:security:main -->";
    let page1 = json!([
        {"number": 1, "user": {"login": "octocat"}, "body": format!("copied\n{mark}\n")},
        {"number": 2, "user": {"login": "github-actions[bot]"}, "body": format!("x\n{mark}\n"), "pull_request": {"url": "u"}},
        {"number": 3, "user": {"login": "github-actions[bot]"}, "body": "y\n<!-- cargo-gate:security:release -->\n"},
    ]);
    let page2 = if ours_open {
        json!([{"number": 42, "user": {"login": "github-actions[bot]"}, "body": format!("old\n{mark}\n")}])
    } else {
        json!([])
    };
    Mock::given(method("GET"))
        .and(path(issues))
        .and(query_param_is_missing("page"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(page1)
                .insert_header(
                    "link",
                    format!("<{base}{issues}?state=open&per_page=100&page=2>; rel=\"next\""),
                ),
        )
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(issues))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page2))
        .mount(server)
        .await;
}

/// A fake GitHub for the security issue: the Actions bot's token, the open issues, and one
/// write answered with `answer`.
async fn issue_server(
    ours_open: bool,
    verb: &str,
    route: &str,
    answer: ResponseTemplate,
) -> MockServer {
    let server = MockServer::start().await;
    mount_user_forbidden(&server).await;
    mount_open_issues(&server, ours_open).await;
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

async fn keep_issue(report: &Value, server: &MockServer) -> std::process::Output {
    let env = Env::new(report, &json!({}));
    comment_with(
        &env,
        &server.uri(),
        "schedule",
        &["--issue", "--no-comment", "--no-check-run"],
        &[("GITHUB_REF_NAME", Some("main"))],
    )
    .await
}

#[tokio::test]
async fn the_security_issue_of_a_branch_is_updated_opened_and_closed_in_place() {
    // Findings and our issue open: it is edited, nothing else is touched.
    let server = issue_server(
        true,
        "PATCH",
        "/repos/acme/app/issues/42",
        ResponseTemplate::new(200).set_body_json(json!({"number": 42})),
    )
    .await;
    let out = keep_issue(&security_report(2), &server).await;
    assert_eq!(code(&out), 0, "a passed verdict");
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(
        requests_summary(&reqs),
        vec![
            "GET /user",
            "GET /repos/acme/app/issues?state=open&per_page=100",
            "GET /repos/acme/app/issues?state=open&per_page=100&page=2",
            "PATCH /repos/acme/app/issues/42",
        ]
    );
    let patch = body(&reqs[3]);
    assert_eq!(patch["title"], "Security advisories on main");
    let text = patch["body"].as_str().unwrap();
    assert!(
        text.ends_with("<!-- cargo-gate:security:main -->\n"),
        "{text}"
    );
    assert!(
        text.contains("[RUSTSEC-2026-9000](https://rustsec.org/advisories/RUSTSEC-2026-9000.html)"),
        "{text}"
    );
    assert!(
        !text.contains("<script>"),
        "advisory text is escaped: {text}"
    );
    assert!(stderr(&out).contains("security issue #42 updated for main"));

    // Findings and no issue of ours: one is opened.
    let server = issue_server(
        false,
        "POST",
        "/repos/acme/app/issues",
        ResponseTemplate::new(201).set_body_json(json!({"number": 77})),
    )
    .await;
    let out = keep_issue(&security_report(1), &server).await;
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains("security issue #77 opened for main"),
        "{}",
        stderr(&out)
    );

    // Nothing left: our issue is closed, with the body saying so.
    let server = issue_server(
        true,
        "PATCH",
        "/repos/acme/app/issues/42",
        ResponseTemplate::new(200).set_body_json(json!({"number": 42})),
    )
    .await;
    let out = keep_issue(&security_report(0), &server).await;
    assert_eq!(code(&out), 0);
    let reqs = server.received_requests().await.unwrap();
    let patch = body(reqs.last().unwrap());
    assert_eq!(patch["state"], "closed");
    assert!(patch["body"].as_str().unwrap().contains("Nothing left"));
}

#[tokio::test]
async fn a_token_that_may_not_open_issues_is_a_warning_never_the_verdict() {
    let server = issue_server(
        false,
        "POST",
        "/repos/acme/app/issues",
        ResponseTemplate::new(403)
            .set_body_json(json!({"message": "Resource not accessible by integration"})),
    )
    .await;
    let out = keep_issue(&security_report(1), &server).await;
    assert_eq!(code(&out), 0, "the passed verdict stays the exit code");
    let err = stderr(&out);
    assert!(
        err.contains("warning:") && err.contains("security issue"),
        "{err}"
    );

    let env = Env::new(&security_report(1), &json!({}));
    let out = comment_with(
        &env,
        &server.uri(),
        "schedule",
        &["--issue"],
        &[("GITHUB_REF_NAME", None)],
    )
    .await;
    assert!(
        stderr(&out).contains("GITHUB_REF_NAME names none"),
        "{}",
        stderr(&out)
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}
