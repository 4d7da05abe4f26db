//! `cargo gate init`: a commented starter gate.toml and the GitHub workflow.

use std::path::Path;

use crate::config;
use crate::context::display_path;
use crate::error::{EXIT_PASS, Error, Result};
use crate::workspace::Workspace;

/// The GitHub Actions workflow `cargo gate init` writes (`__DEFAULT_BRANCH__` filled in).
pub const STARTER_WORKFLOW: &str = include_str!("../../templates/workflow.yml");
/// `--shards N`: a matrix of shards and a merging job.
const SHARDS_WORKFLOW: &str = include_str!("../../templates/workflow-shards.yml");
/// `--fork-safe`: the untrusted half (runs) and the trusted half (publishes).
const FORK_WORKFLOW: &str = include_str!("../../templates/workflow-fork.yml");
const PUBLISH_WORKFLOW: &str = include_str!("../../templates/workflow-publish.yml");
/// `--security`: the daily security run on the default branch.
const SECURITY_WORKFLOW: &str = include_str!("../../templates/workflow-security.yml");

/// Which workflow to write.
#[derive(Debug, Clone, Copy, Default)]
pub struct Workflow {
    /// Also the `workflow_run` publisher for fork pull requests.
    pub fork_safe: bool,
    /// Shards of the test run.
    pub shards: Option<u32>,
    /// Also the daily security run on the default branch (and `[security]` in gate.toml).
    pub security: bool,
}

/// The branch the workflow saves baselines on: the remote's default (`origin/HEAD`), else the
/// branch checked out, else `main`. Never guessed as `main` when the repository says otherwise.
fn default_branch(root: &Path) -> (String, &'static str) {
    let Ok(repo) = git2::Repository::discover(root) else {
        return ("main".to_string(), "not a git repository");
    };
    if let Ok(r) = repo.find_reference("refs/remotes/origin/HEAD")
        && let Ok(Some(target)) = r.symbolic_target()
        && let Some(name) = target.strip_prefix("refs/remotes/origin/")
    {
        return (name.to_string(), "origin/HEAD");
    }
    // An unborn branch (no commit yet) still names itself in HEAD.
    if let Ok(head) = repo.find_reference("HEAD")
        && let Ok(Some(target)) = head.symbolic_target()
        && let Some(name) = target.strip_prefix("refs/heads/")
    {
        return (name.to_string(), "the branch checked out");
    }
    ("main".to_string(), "no branch found")
}

/// `package/bench` for every bench target of a member that depends on criterion.
fn criterion_benches(ws: &Workspace) -> Vec<String> {
    ws.members
        .iter()
        .filter(|p| p.dependencies.iter().any(|d| d.name == "criterion"))
        .flat_map(|p| {
            p.targets
                .iter()
                .filter(|t| t.kind.iter().any(|k| k.to_string() == "bench"))
                .map(move |t| format!("{}/{}", p.name, t.name))
        })
        .collect()
}

/// A commented `[bench]` section naming the benchmarks found, put before `[gate]`.
fn bench_suggestion(benches: &[String]) -> String {
    format!(
        "# This workspace has criterion benchmarks ({}). Uncomment to run them in the bench suite:\n\
         # each is compared with the baselines in git notes (saved on the default branch), and on\n\
         # pull requests the action's `paired: merge-base` input measures both sides in one job.\n\
         # Keep criterion's measurement short (a second) for paired rounds.\n\
         # [bench]\n\
         # run = [\"cargo\", \"bench\", \"--workspace\"]\n\
         # and in [gate]: warn = [\"bench.*.regression < 5%\"]\n\n[gate]\n",
        benches.join(", ")
    )
}

/// `[security]` for `init --security`, before `[gate]`.
const SECURITY_SECTION: &str = "# The security suite (`init --security`): RustSec advisories, sources and secrets; a pull\n\
# request fails only for what it introduces. Add a license policy to check licenses too:\n\
# [security.licenses]\n\
# allow = [\"MIT\", \"Apache-2.0\"]\n\
[security]\n\n[gate]\n";

/// The starter with `[security]` enabled, and its rules in every `fail` and `warn` list (the
/// starter writes its lists, so the suite's defaults would not apply).
fn with_security(starter: &str) -> String {
    let fail = r#""tests.timed_out == 0""#;
    let rules = r#""tests.timed_out == 0", "security.new_advisories == 0", "security.new_licenses == 0", "security.new_sources == 0", "security.secrets == 0""#;
    starter
        .replacen("[gate]\n", SECURITY_SECTION, 1)
        .replace(fail, rules)
        .replace(
            r#"warn = ["tests.flaky == 0"]"#,
            r#"warn = ["tests.flaky == 0", "security.advisories == 0"]"#,
        )
}

/// The workflow files for a repository whose default branch is `branch`: `(file name, text)`.
pub fn workflows_for(branch: &str, kind: Workflow) -> Vec<(&'static str, String)> {
    // YAML-quoted unless plain, so any branch name stays one flow-sequence item.
    let item = if branch
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'))
    {
        branch.to_string()
    } else {
        format!("\"{}\"", branch.replace('\\', "\\\\").replace('"', "\\\""))
    };
    let fill = |t: &str| t.replace("__DEFAULT_BRANCH__", &item);
    let mut files = match kind {
        Workflow {
            shards: Some(n), ..
        } => {
            let list: Vec<String> = (1..=n).map(|k| k.to_string()).collect();
            vec![(
                "gate.yml",
                fill(SHARDS_WORKFLOW)
                    .replace("__SHARD_LIST__", &list.join(", "))
                    .replace("__SHARDS__", &n.to_string()),
            )]
        }
        Workflow {
            fork_safe: true, ..
        } => vec![
            ("gate.yml", fill(FORK_WORKFLOW)),
            ("gate-publish.yml", PUBLISH_WORKFLOW.to_string()),
        ],
        _ => vec![("gate.yml", fill(STARTER_WORKFLOW))],
    };
    if kind.security {
        files.push(("security.yml", fill(SECURITY_WORKFLOW)));
    }
    files
}

/// Where the repository's work tree is, when it contains the workspace root (GitHub reads
/// workflows from the repository's root, not the workspace's).
fn repository_root(ws_root: &Path) -> Option<std::path::PathBuf> {
    let repo = git2::Repository::discover(ws_root).ok()?;
    let work = repo.workdir()?.canonicalize().ok()?;
    let ws = ws_root.canonicalize().ok()?;
    ws.starts_with(&work).then_some(work)
}

/// A workflow for a workspace in the subdirectory `rel` of its repository: every cargo-gate
/// step runs there, and rust-cache caches that workspace's target directory.
pub fn in_subdirectory(text: &str, rel: &str) -> String {
    let plain = rel
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'));
    let quoted = |s: &str| {
        if plain {
            s.to_string()
        } else {
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len() + 256);
    // An input waiting for the step's own `with:` line, which comes next.
    let mut pending: Option<String> = None;
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        if let Some(p) = pending.take() {
            out.push_str(&p);
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let step = |name: &str| {
            lines[i]
                .trim_start()
                .starts_with(&format!("- uses: {name}@"))
        };
        let has_with = lines.get(i + 1).is_some_and(|next| {
            next.trim() == "with:" && next.len() - next.trim_start().len() == indent + 2
        });
        let input = |key: &str, value: &str| {
            format!("{}{key}: {}\n", " ".repeat(indent + 4), quoted(value))
        };
        // An input goes under the step's `with:`, which is made when the step has none.
        let (wanted, value) = if step("cargo-gate/cargo-gate") {
            ("working-directory", rel.to_string())
        } else if step("Swatinem/rust-cache") {
            ("workspaces", format!("{rel} -> target"))
        } else {
            continue;
        };
        if has_with {
            pending = Some(input(wanted, &value));
        } else {
            out.push_str(&format!("{}with:\n", " ".repeat(indent + 2)));
            out.push_str(&input(wanted, &value));
        }
    }
    out
}

/// A name `init` writes into a workflow must stay one inert YAML string: a control character
/// breaks the file (or hides text), and `${{` is evaluated by GitHub as an expression wherever
/// it stands, quoted or not.
fn workflow_safe(what: &str, value: &str) -> Result<()> {
    let bad = if value.chars().any(char::is_control) {
        Some("a control character")
    } else if value.contains("${{") {
        Some("`${{`, which GitHub evaluates as an expression")
    } else {
        None
    };
    match bad {
        Some(why) => Err(Error::usage(
            format!(
                "the {what} `{}` holds {why}: it cannot be written into a workflow safely",
                crate::util::sanitize::for_log(value).replace('\n', "^J")
            ),
            Some("rename it, or pass --no-workflow and write the workflow yourself".to_string()),
        )),
        None => Ok(()),
    }
}

pub fn init(manifest: Option<&Path>, force: bool, workflow: Option<Workflow>) -> Result<i32> {
    let ws = Workspace::load(manifest)?;
    let benches = criterion_benches(&ws);
    let mut starter = config::STARTER.to_string();
    if !benches.is_empty() {
        starter = starter.replacen("[gate]\n", &bench_suggestion(&benches), 1);
    }
    if workflow.is_some_and(|w| w.security) {
        starter = with_security(&starter);
    }
    let mut files = vec![(ws.root.join(config::FILE_NAME), starter)];
    let (branch, from) = default_branch(&ws.root);
    // A workspace below the repository's root: the workflows go to the root, and run here.
    let repo_root = repository_root(&ws.root);
    let subdir = repo_root.as_ref().and_then(|r| {
        let ws = ws.root.canonicalize().ok()?;
        let rel = ws.strip_prefix(r).ok()?.to_str()?.to_string();
        (!rel.is_empty()).then_some(rel)
    });
    if let Some(kind) = workflow {
        workflow_safe("default branch", &branch)?;
        if let Some(rel) = &subdir {
            workflow_safe("workspace directory", rel)?;
        }
        let dir = match (&repo_root, &subdir) {
            (Some(r), Some(_)) => r.join(".github/workflows"),
            _ => ws.root.join(".github/workflows"),
        };
        for (name, text) in workflows_for(&branch, kind) {
            let text = match &subdir {
                Some(rel) => in_subdirectory(&text, rel),
                None => text,
            };
            files.push((dir.join(name), text));
        }
    }
    // Check every file first, so a refusal writes nothing.
    for (path, _) in &files {
        if path.exists() && !force {
            return Err(Error::usage(
                format!("{} already exists", display_path(path).display()),
                Some("pass --force to overwrite, --no-workflow to leave the workflow out, or edit the file and run `cargo gate check`".to_string()),
            ));
        }
    }
    for (path, text) in &files {
        crate::util::fs::write_atomic(path, text.as_bytes())?;
        println!("wrote {}", display_path(path).display());
    }
    if workflow.is_some() {
        println!("the workflow saves baselines on pushes to `{branch}` ({from})");
        if let Some(rel) = &subdir {
            println!(
                "the workspace is in `{rel}` of the repository: the workflow is at the repository's root and runs cargo-gate in `{rel}`"
            );
        }
    }
    if !benches.is_empty() {
        println!(
            "found criterion benchmarks ({}): gate.toml suggests a [bench] section, commented out",
            benches.join(", ")
        );
    }
    println!("next: `cargo gate check`, then `cargo gate run`");
    Ok(EXIT_PASS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_security_starter_gates_on_what_a_change_introduces() {
        let text = with_security(config::STARTER);
        assert!(text.contains("\n[security]\n"));
        let config = config::Config::parse(std::path::Path::new("gate.toml"), &text, Some("ci"))
            .expect("the starter parses");
        let rules: Vec<&str> = config.rules.iter().map(|r| r.source.as_str()).collect();
        for want in [
            "security.new_advisories == 0",
            "security.secrets == 0",
            "security.advisories == 0",
        ] {
            assert!(rules.contains(&want), "{want} in {rules:?}");
        }
        let default = config::Config::parse(std::path::Path::new("gate.toml"), &text, None)
            .expect("the default profile parses");
        assert!(
            default
                .rules
                .iter()
                .any(|r| r.source == "security.new_sources == 0")
        );
    }

    #[test]
    fn a_subdirectory_workspace_runs_there_and_caches_its_target() {
        let text = "    steps:\n      - uses: Swatinem/rust-cache@v2   # cache\n      - uses: cargo-gate/cargo-gate@v0\n        with:\n          profile: ci\n";
        let out = in_subdirectory(text, "rust/app");
        assert_eq!(
            out,
            "    steps:\n      - uses: Swatinem/rust-cache@v2   # cache\n        with:\n          workspaces: rust/app -> target\n      - uses: cargo-gate/cargo-gate@v0\n        with:\n          working-directory: rust/app\n          profile: ci\n"
        );
        // Every template stays valid YAML with the inputs in place.
        for kind in [
            Workflow {
                fork_safe: false,
                shards: None,
                security: true,
            },
            Workflow {
                fork_safe: true,
                shards: None,
                security: false,
            },
            Workflow {
                fork_safe: false,
                shards: Some(3),
                security: false,
            },
        ] {
            for (_, t) in workflows_for("main", kind) {
                let sub = in_subdirectory(&t, "my dir");
                let uses = t.matches("- uses: cargo-gate/cargo-gate@").count();
                assert_eq!(
                    sub.matches("working-directory: \"my dir\"").count(),
                    uses,
                    "{sub}"
                );
                let caches = t.matches("- uses: Swatinem/rust-cache@").count();
                assert_eq!(
                    sub.matches("workspaces: \"my dir -> target\"").count(),
                    caches,
                    "{sub}"
                );
                // A step that already has `with:` (the shard jobs' rust-cache) gets no second.
                let had_with = t.matches("rust-cache@v2\n        with:").count();
                assert_eq!(
                    sub.matches("with:").count(),
                    t.matches("with:").count() + caches - had_with,
                    "{sub}"
                );
            }
        }
    }
}
