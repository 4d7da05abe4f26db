//! Publishing a report on GitHub: sticky PR comment, job summary, annotations, check run and
//! step outputs. Publishing problems are warnings: they never change the gate's verdict.

pub mod annotations;
pub mod client;
pub mod context;
pub mod issue;
pub mod sticky;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use http::Method;

use crate::error::{Error, Result};
use crate::model::{Report, VerdictStatus};
use crate::render::Renderer;
use crate::render::fit::{render_comment, render_summary};
use client::models::PullRequest;
use client::{Api, ApiError, decode};
use context::Context;
use sticky::{StickyOptions, StickyOutcome};

/// What to publish.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Sticky comment settings.
    pub sticky: StickyOptions,
    /// Post the PR comment.
    pub comment: bool,
    /// Create a check run with all annotations.
    pub check_run: bool,
    /// Name of the check run.
    pub check_name: String,
    /// Append the job summary.
    pub summary: bool,
    /// Print workflow-command annotations.
    pub annotations: bool,
    /// The report comes from another (untrusted) workflow's artifact: take the PR from it, and
    /// verify it against the trusted event before writing anything.
    pub from_artifact: bool,
    /// Where the report is, for the `report` output.
    pub report_path: std::path::PathBuf,
    /// First wait after a 5xx (doubles on each retry).
    pub backoff: Duration,
    /// Keep the security issue of this branch (`--issue`).
    pub issue: Option<String>,
}

/// The result: what was done, and what could not be.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Lines describing what was published.
    pub done: Vec<String>,
    /// Publishing problems (the verdict is unaffected).
    pub warnings: Vec<String>,
}

const FORK_NOTE: &str = "This pull request comes from a fork, so this job's token is read-only and cargo-gate could not comment or create a check run. To publish from fork PRs safely, upload `target/gate/` as an artifact and run `cargo gate comment --from-artifact DIR` in a separate workflow triggered by `workflow_run` (see the cargo-gate book, chapter \"GitHub\", section \"Fork pull requests\").";

fn explain(e: &ApiError, what: &str) -> String {
    let hint = match e.status() {
        Some(401) => "the token is invalid or expired",
        Some(403) => {
            "the token may not write here: a fork PR's read-only token, or the workflow lacks `permissions: pull-requests: write` / `checks: write`"
        }
        Some(404) => {
            "not found: the repository may have issues disabled, or the PR number is wrong"
        }
        Some(422) => "GitHub rejected the content",
        Some(429) | Some(500..=599) => "GitHub kept failing after bounded retries",
        _ => "GitHub could not be reached",
    };
    format!("{what} failed: {e} ({hint})")
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// Where a verified artifact may be published: the PR it names and the commit the trusted
/// event says was tested.
struct Target {
    pr: Option<u64>,
    head_sha: Option<String>,
}

/// Checks an artifact's report (untrusted: a fork's job wrote it) against the trusted event
/// before anything of it is written anywhere. Every check is required: missing data means
/// nothing is published. The warning quotes artifact text only escaped (`{:?}`), so it cannot
/// start a workflow command in this job's log.
async fn verify_artifact(
    api: &Api,
    ctx: &Context,
    report: &Report,
    repo: &str,
) -> std::result::Result<Target, String> {
    let refuse = |why: String| Err(format!("{why}: nothing published"));
    let Some(recorded) = report.run.github.as_ref() else {
        return refuse(
            "the artifact's report does not say where it was made (no `run.github`)".to_string(),
        );
    };
    // GitHub's owner and repository names are case-insensitive.
    if !recorded.repository.eq_ignore_ascii_case(repo) {
        return refuse(format!(
            "the artifact's report was made in {:?} but this workflow runs in {repo}",
            recorded.repository
        ));
    }
    let Some(expected) = ctx.head_sha.as_deref() else {
        return refuse(
            "the triggering event names no tested commit (no `workflow_run.head_sha`, no GITHUB_SHA)"
                .to_string(),
        );
    };
    let Some(n) = ctx.pull_request.or(recorded.pull_request) else {
        // No PR: only the check run, on the trusted commit.
        return Ok(Target {
            pr: None,
            head_sha: Some(expected.to_string()),
        });
    };
    // The PR the artifact names must point at the commit the trusted event says was tested, or
    // a fork could make us comment elsewhere.
    let answer = api
        .request(Method::GET, &format!("/repos/{repo}/pulls/{n}"), None)
        .await
        .and_then(|r| decode::<PullRequest>(&r.body, &format!("PR #{n}")));
    match answer {
        Ok(p) if p.head.sha == expected => Ok(Target {
            pr: Some(n),
            head_sha: Some(expected.to_string()),
        }),
        Ok(p) => refuse(format!(
            "the artifact names PR #{n}, whose head is {:?} but the triggering run tested {expected}",
            p.head.sha
        )),
        Err(e) => refuse(explain(&e, &format!("checking PR #{n}"))),
    }
}

/// Publishes everything the options ask for. Only setup errors (no runtime, an unusable API
/// URL) are `Err`; GitHub's answers become warnings in the outcome. From an artifact, nothing
/// is written (outputs, summary, annotations, comment, check run) until the artifact is
/// verified against the trusted event, and links come from the trusted environment only.
pub fn publish(
    report: &Report,
    renderer: &Renderer,
    opts: &PublishOptions,
    ctx: &Context,
    env: &std::collections::BTreeMap<String, String>,
    token: Option<&str>,
) -> Result<Outcome> {
    let mut out = Outcome::default();
    let run_url = if opts.from_artifact {
        ctx.run_url.clone()
    } else {
        report
            .run
            .github
            .as_ref()
            .and_then(|g| g.run_url.clone())
            .or_else(|| ctx.run_url.clone())
    };
    let token = token.filter(|t| !t.is_empty());
    let repo = format!("{}/{}", ctx.owner, ctx.repo);
    let runtime = crate::exec::runtime::get()?;
    // octocrab's middleware spawns onto the runtime when the client is built.
    let _guard = runtime.enter();
    let api = token
        .map(|t| Api::new(&ctx.api_url, Some(t), opts.backoff))
        .transpose()
        .map_err(|m| Error::usage(m, None))?;
    let mut target = Target {
        pr: ctx.pull_request,
        head_sha: ctx.head_sha.clone(),
    };
    if opts.from_artifact {
        let Some(api) = &api else {
            out.warnings.push(
                "no GitHub token to verify the artifact against its pull request: nothing published"
                    .to_string(),
            );
            return Ok(out);
        };
        match runtime.block_on(verify_artifact(api, ctx, report, &repo)) {
            Ok(t) => target = t,
            Err(w) => {
                out.warnings.push(w);
                return Ok(out);
            }
        }
    }

    let job = Job {
        report,
        renderer,
        opts,
        ctx,
        run_url: run_url.as_deref(),
        repo: &repo,
    };
    job.write_step_files(env, &mut out)?;
    let annotations = annotations::collect(report);
    if opts.annotations {
        let mut stdout = std::io::stdout().lock();
        for line in annotations::workflow_commands(&annotations) {
            let _ = writeln!(stdout, "{line}");
        }
    }
    if ctx.fork && !opts.from_artifact {
        out.warnings.push(FORK_NOTE.to_string());
        return Ok(out);
    }
    if !opts.comment && !opts.check_run && opts.issue.is_none() {
        return Ok(out);
    }
    let Some(api) = api else {
        out.warnings.push(
            "no GitHub token (set GITHUB_TOKEN, e.g. `env: GITHUB_TOKEN: ${{ github.token }}`): comment and check run skipped"
                .to_string(),
        );
        return Ok(out);
    };
    let graphql_api = env
        .get("GITHUB_GRAPHQL_URL")
        .and_then(|u| u.strip_suffix("/graphql").map(str::to_string))
        .map(|base| Api::new(&base, token, opts.backoff))
        .transpose()
        .map_err(|m| Error::usage(m, None))?;

    runtime.block_on(job.post(&api, graphql_api.as_ref(), target, &annotations, &mut out));
    Ok(out)
}

/// What one publication works from: the report, how to render it, where it goes.
struct Job<'a> {
    report: &'a Report,
    renderer: &'a Renderer,
    opts: &'a PublishOptions,
    ctx: &'a Context,
    /// The workflow run's page, for links.
    run_url: Option<&'a str>,
    /// `owner/name`.
    repo: &'a str,
}

impl Job<'_> {
    /// The step's outputs and the job summary, when the runner gives their files.
    fn write_step_files(
        &self,
        env: &std::collections::BTreeMap<String, String>,
        out: &mut Outcome,
    ) -> Result<()> {
        let (report, opts) = (self.report, self.opts);
        let passed = report.verdict.status == VerdictStatus::Passed;
        if let Some(path) = env.get("GITHUB_OUTPUT").filter(|p| !p.is_empty()) {
            let text = format!(
                "verdict={}\nreport={}\n",
                if passed { "passed" } else { "failed" },
                opts.report_path.display()
            );
            match append(Path::new(path), &text) {
                Ok(()) => out
                    .done
                    .push("step outputs `verdict` and `report` set".to_string()),
                Err(e) => out
                    .warnings
                    .push(format!("cannot write $GITHUB_OUTPUT ({path}): {e}")),
            }
        }
        if opts.summary
            && let Some(path) = env.get("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())
        {
            let mut text = render_summary(self.renderer, report, self.run_url)?;
            if self.ctx.fork && !opts.from_artifact {
                text.push_str(&format!("\n> [!NOTE]\n> {FORK_NOTE}\n"));
            }
            match append(Path::new(path), &text) {
                Ok(()) => out
                    .done
                    .push(format!("job summary written ({} bytes)", text.len())),
                Err(e) => out
                    .warnings
                    .push(format!("cannot write $GITHUB_STEP_SUMMARY ({path}): {e}")),
            }
        }
        Ok(())
    }

    /// The comment and the check run, as the options ask.
    async fn post(
        &self,
        api: &Api,
        graphql_api: Option<&Api>,
        target: Target,
        annotations: &[annotations::Annotation],
        out: &mut Outcome,
    ) {
        if let Some(branch) = &self.opts.issue {
            self.security_issue(api, branch, out).await;
        }
        let comment_body = match (self.opts.comment, target.pr) {
            (false, _) => None,
            (true, None) => {
                out.done.push(format!(
                    "no pull request for event `{}`: no comment",
                    self.ctx.event_name
                ));
                None
            }
            (true, Some(n)) => self.comment(api, graphql_api, n, out).await,
        };
        if self.opts.check_run {
            self.check_run(
                api,
                target.head_sha.as_deref(),
                comment_body,
                annotations,
                out,
            )
            .await;
        }
    }

    /// The sticky comment on PR `n`; returns its body for the check run's summary.
    async fn comment(
        &self,
        api: &Api,
        graphql_api: Option<&Api>,
        n: u64,
        out: &mut Outcome,
    ) -> Option<String> {
        let passed = self.report.verdict.status == VerdictStatus::Passed;
        let body = match render_comment(self.renderer, self.report, self.run_url) {
            Ok(body) => body,
            Err(e) => {
                out.warnings.push(format!("cannot render the comment: {e}"));
                return None;
            }
        };
        let posted = sticky::publish(
            api,
            graphql_api,
            self.repo,
            n,
            &body,
            passed,
            &self.opts.sticky,
        )
        .await;
        match posted {
            Ok(StickyOutcome::Created(id)) => {
                out.done.push(format!("comment {id} created on PR #{n}"))
            }
            Ok(StickyOutcome::Updated(id)) => {
                out.done.push(format!("comment {id} updated on PR #{n}"))
            }
            Ok(StickyOutcome::Replaced { hidden, created }) => out.done.push(format!(
                "comment {created} created on PR #{n}; {} earlier one(s) minimized",
                hidden.len()
            )),
            Ok(StickyOutcome::Deleted(ids)) => out.done.push(format!(
                "gate passed: {} comment(s) deleted on PR #{n}",
                ids.len()
            )),
            Ok(StickyOutcome::NothingToDelete) => out
                .done
                .push("gate passed: no comment to delete".to_string()),
            Err(e) => out.warnings.push(explain(&e, "the PR comment")),
        }
        Some(body)
    }

    /// The branch's security issue: opened or updated while the run has findings, closed when
    /// it has none. A report without the security suite leaves it as it is.
    async fn security_issue(&self, api: &Api, branch: &str, out: &mut Outcome) {
        let Some(summary) = self
            .report
            .suite(crate::model::SuiteKind::Security)
            .and_then(|s| s.security())
        else {
            out.warnings.push(
                "the report has no security suite: the security issue is left as it is".to_string(),
            );
            return;
        };
        let open = summary.findings.iter().any(|f| f.counts());
        let body = match crate::render::fit::render_security_issue(
            self.renderer,
            self.report,
            self.run_url,
            branch,
        ) {
            Ok(b) => b,
            Err(e) => {
                out.warnings
                    .push(format!("cannot render the security issue: {e}"));
                return;
            }
        };
        let author = self.opts.sticky.author.as_deref();
        match issue::publish(api, self.repo, branch, &body, open, author).await {
            Ok(issue::IssueOutcome::Opened(n)) => out
                .done
                .push(format!("security issue #{n} opened for {branch}")),
            Ok(issue::IssueOutcome::Updated(n)) => out
                .done
                .push(format!("security issue #{n} updated for {branch}")),
            Ok(issue::IssueOutcome::Closed(n)) => out.done.push(format!(
                "no findings left on {branch}: security issue #{n} closed"
            )),
            Ok(issue::IssueOutcome::NothingOpen) => out.done.push(format!(
                "no findings on {branch}: no security issue to keep"
            )),
            Err(e) => out.warnings.push(explain(&e, "the security issue")),
        }
    }

    /// The check run on the head commit, with the annotations; its summary is the comment.
    async fn check_run(
        &self,
        api: &Api,
        head_sha: Option<&str>,
        comment_body: Option<String>,
        annotations: &[annotations::Annotation],
        out: &mut Outcome,
    ) {
        let Some(sha) = head_sha else {
            out.warnings
                .push("no commit to attach a check run to (GITHUB_SHA is not set)".to_string());
            return;
        };
        let summary = match comment_body {
            Some(b) => b,
            None => render_comment(self.renderer, self.report, self.run_url).unwrap_or_default(),
        };
        let run = annotations::CheckRun {
            repo: self.repo,
            head_sha: sha,
            name: &self.opts.check_name,
            details_url: self.run_url,
        };
        match annotations::check_run(api, &run, self.report, &summary, annotations).await {
            Ok(id) => out.done.push(format!(
                "check run {id} created with {} annotation(s)",
                annotations.iter().filter(|a| a.path.is_some()).count()
            )),
            Err(e) => out.warnings.push(explain(&e, "the check run")),
        }
    }
}
