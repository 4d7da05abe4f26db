//! `cargo gate init` writes a workflow that fits the repository: baselines saved on its real
//! default branch, and each job with only the permissions it needs.

use std::path::Path;

use crate::common::*;

fn init(dir: &Path) -> (String, String) {
    // temp_workspace writes a gate.toml; init writes its own.
    let _ = std::fs::remove_file(dir.join("gate.toml"));
    let out = output(gate("none").current_dir(dir).args(["gate", "init"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let workflow = std::fs::read_to_string(dir.join(".github/workflows/gate.yml")).unwrap();
    (workflow, stdout(&out))
}

/// The text of one job: from `  NAME:` to the next job (`  other:` at two spaces) or the end.
fn job<'a>(workflow: &'a str, name: &str) -> &'a str {
    let start = workflow
        .find(&format!("\n  {name}:\n"))
        .unwrap_or_else(|| panic!("no job {name}:\n{workflow}"))
        + 1;
    let body = &workflow[start..];
    let mut end = body.len();
    let mut at = 0;
    for line in body.lines() {
        let next_job = at > 0
            && line.starts_with("  ")
            && !line.starts_with("   ")
            && line.trim_end().ends_with(':');
        if next_job {
            end = at;
            break;
        }
        at += line.len() + 1;
    }
    &body[..end]
}

/// A workspace cloned from a bare repository whose default branch is `branch`.
fn cloned_with_default(branch: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let seed = tmp.path().join("seed");
    std::fs::create_dir_all(&seed).unwrap();
    write_file(
        &seed,
        "Cargo.toml",
        "[package]\nname = \"t\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    );
    write_file(&seed, "src/lib.rs", "");
    git(&seed, &["init", "-q", "-b", branch]);
    git_init_commit_in(&seed);
    let bare = tmp.path().join("origin.git");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--bare",
            seed.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let work = tmp.path().join("work");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            bare.to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    // Check out another branch, so only origin/HEAD can tell the default.
    git(&work, &["checkout", "-q", "-b", "feature"]);
    tmp
}

fn git_init_commit_in(dir: &Path) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
}

#[test]
fn the_workflow_saves_baselines_on_the_remote_s_default_branch() {
    for branch in ["master", "main", "trunk"] {
        let tmp = cloned_with_default(branch);
        let (workflow, said) = init(&tmp.path().join("work"));
        assert!(
            workflow.contains(&format!("    branches: [{branch}]\n")),
            "{branch}:\n{workflow}"
        );
        assert!(
            said.contains(&format!("pushes to `{branch}` (origin/HEAD)")),
            "{said}"
        );
    }
}

#[test]
fn without_a_remote_the_checked_out_branch_is_the_default() {
    let dir = temp_workspace("");
    git(dir.path(), &["init", "-q", "-b", "develop"]);
    let (workflow, said) = init(dir.path());
    assert!(workflow.contains("    branches: [develop]\n"), "{workflow}");
    assert!(said.contains("(the branch checked out)"), "{said}");
}

#[test]
fn each_job_has_only_the_permissions_it_needs() {
    let dir = temp_workspace("");
    let (workflow, _) = init(dir.path());
    let top = &workflow
        [workflow.find("\npermissions:").unwrap()..workflow.find("\nconcurrency:").unwrap()];
    assert_eq!(top.trim(), "permissions:\n  contents: read", "{workflow}");
    let pr = job(&workflow, "pull-request");
    assert!(
        pr.contains("if: github.event_name == 'pull_request'"),
        "{pr}"
    );
    assert!(
        pr.contains("contents: read") && !pr.contains("contents: write"),
        "{pr}"
    );
    assert!(
        pr.contains("pull-requests: write") && pr.contains("checks: write"),
        "{pr}"
    );
    let push = job(&workflow, "default-branch");
    assert!(push.contains("if: github.event_name == 'push'"), "{push}");
    assert!(push.contains("contents: write"), "{push}");
    assert!(
        !push.contains("pull-requests: write"),
        "no PR to comment on: {push}"
    );
    for j in [pr, push] {
        assert!(
            j.contains("uses: Swatinem/rust-cache@v2"),
            "the build is cached: {j}"
        );
        assert!(j.contains("fetch-depth: 0"), "{j}");
    }
}

#[test]
fn shards_run_as_a_matrix_and_one_job_merges_and_publishes() {
    let dir = temp_workspace("");
    let _ = std::fs::remove_file(dir.path().join("gate.toml"));
    let out = output(
        gate("none")
            .current_dir(dir.path())
            .args(["gate", "init", "--shards", "3"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let workflow = std::fs::read_to_string(dir.path().join(".github/workflows/gate.yml")).unwrap();
    let shard = job(&workflow, "shard");
    assert!(shard.contains("shard: [1, 2, 3]"), "{shard}");
    assert!(
        shard.contains("args: --partition time:${{ matrix.shard }}/3"),
        "{shard}"
    );
    assert!(
        shard.contains("mode: run")
            && shard.contains("artifact-name: cargo-gate-report-${{ matrix.shard }}"),
        "{shard}"
    );
    assert!(!shard.contains("write"), "shards publish nothing: {shard}");
    for name in ["merge-pull-request", "merge-default-branch"] {
        let merge = job(&workflow, name);
        assert!(
            merge.contains("needs: shard") && merge.contains("mode: merge"),
            "{merge}"
        );
        assert!(
            !merge.contains("rust-toolchain"),
            "merging builds nothing: {merge}"
        );
    }
    assert!(job(&workflow, "merge-default-branch").contains("contents: write"));
    assert!(!job(&workflow, "merge-pull-request").contains("contents: write"));
}

#[test]
fn fork_safe_writes_the_trusted_publisher_too() {
    let dir = temp_workspace("");
    let _ = std::fs::remove_file(dir.path().join("gate.toml"));
    let out = output(
        gate("none")
            .current_dir(dir.path())
            .args(["gate", "init", "--fork-safe"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let gate_yml = std::fs::read_to_string(dir.path().join(".github/workflows/gate.yml")).unwrap();
    assert!(
        gate_yml.contains("mode: ${{ github.event.pull_request.head.repo.full_name == github.repository && 'all' || 'run' }}"),
        "{gate_yml}"
    );
    let publish =
        std::fs::read_to_string(dir.path().join(".github/workflows/gate-publish.yml")).unwrap();
    assert!(
        publish.contains("workflow_run:") && publish.contains("mode: publish"),
        "{publish}"
    );
    assert!(
        publish.contains("ref: ${{ github.event.repository.default_branch }}"),
        "the publisher never checks out the fork's code: {publish}"
    );
    // Both at once is not offered yet: said, not half-done.
    let dir = temp_workspace("");
    let _ = std::fs::remove_file(dir.path().join("gate.toml"));
    let out = output(gate("none").current_dir(dir.path()).args([
        "gate",
        "init",
        "--fork-safe",
        "--shards",
        "2",
    ]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}

#[test]
fn criterion_benchmarks_get_a_bench_section_suggested() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    copy_fixture(
        "bench",
        &["Cargo.toml", "Cargo.lock", "src/lib.rs", "benches/parse.rs"],
        d,
    );
    let out = output(
        gate("bench")
            .current_dir(d)
            .args(["gate", "init", "--no-workflow"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("found criterion benchmarks (bench-fixture/parse)"),
        "{}",
        stdout(&out)
    );
    let toml = std::fs::read_to_string(d.join("gate.toml")).unwrap();
    assert!(
        toml.contains("# [bench]\n# run = [\"cargo\", \"bench\", \"--workspace\"]"),
        "{toml}"
    );
    // Still valid: the suggestion is commented out.
    let check = output(gate("bench").current_dir(d).args(["gate", "check"]));
    assert_eq!(code(&check), 0, "{}", stderr(&check));
}

/// A workspace in a subdirectory of its repository: GitHub reads workflows from the
/// repository's root, so that is where init writes them, with every cargo-gate step running in
/// the workspace and rust-cache caching its target directory.
#[test]
fn a_workspace_in_a_subdirectory_gets_its_workflow_at_the_repository_root() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    git(repo, &["init", "-q", "-b", "trunk"]);
    let ws = repo.join("rust").join("app");
    write_file(
        &ws,
        "Cargo.toml",
        "[package]\nname = \"t\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    );
    write_file(&ws, "src/lib.rs", "");
    let out = output(
        gate("none")
            .current_dir(repo)
            .args(["gate", "init", "--manifest-path"])
            .arg(ws.join("Cargo.toml")),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        ws.join("gate.toml").is_file(),
        "gate.toml stays with the workspace"
    );
    assert!(!ws.join(".github").exists());
    let workflow = std::fs::read_to_string(repo.join(".github/workflows/gate.yml")).unwrap();
    assert_eq!(
        workflow.matches("working-directory: rust/app").count(),
        workflow.matches("uses: cargo-gate/cargo-gate@").count(),
        "{workflow}"
    );
    assert!(
        workflow.contains("workspaces: rust/app -> target"),
        "{workflow}"
    );
    assert!(workflow.contains("branches: [trunk]"), "{workflow}");
    assert!(
        stdout(&out).contains("the workspace is in `rust/app` of the repository"),
        "{}",
        stdout(&out)
    );
}

/// A workspace directory whose name holds a control character or `${{` cannot be written into
/// a workflow as inert text: `init` refuses and says what to do, and writes nothing.
#[test]
fn names_that_cannot_be_written_safely_are_refused() {
    for name in ["app\u{1b}[2J", "app\nrun: evil", "${{ github.token }}"] {
        let repo = tempfile::tempdir().unwrap();
        git(repo.path(), &["init", "-q"]);
        let ws = repo.path().join(name);
        std::fs::create_dir_all(ws.join("src")).unwrap();
        std::fs::write(
            ws.join("Cargo.toml"),
            "[package]\nname = \"t\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
        )
        .unwrap();
        std::fs::write(ws.join("src/lib.rs"), "").unwrap();
        let out = output(
            gate("none")
                .args(["init", "--manifest-path"])
                .arg(ws.join("Cargo.toml")),
        );
        assert_eq!(code(&out), 2, "{name:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("cannot be written into a workflow safely"),
            "{name:?}: {}",
            stderr(&out)
        );
        assert!(!repo.path().join(".github").exists(), "{name:?}");
        assert!(!ws.join("gate.toml").exists(), "{name:?}: nothing written");
    }
}
