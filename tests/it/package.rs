//! What `cargo package` would publish: what the binary needs at run time (its templates and the
//! clock-skew shim's source, built by build.rs) and none of the build outputs fixtures and
//! benchmarks leave in the tree.

use crate::common::*;

#[test]
fn the_package_holds_the_templates_and_no_build_outputs() {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["package", "--list", "--allow-dirty", "--offline"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let list = stdout(&out);
    let files: Vec<&str> = list.lines().collect();
    for needed in [
        "templates/comment.md.j2",
        "templates/summary.md.j2",
        "templates/report.html.j2",
        "templates/terminal.txt.j2",
        "templates/coverage.md.j2",
        "templates/workflow.yml",
        "templates/workflow-shards.yml",
        "templates/workflow-fork.yml",
        "templates/workflow-publish.yml",
        "shim/clock_skew.rs",
        "build.rs",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        // `cargo gate explain` answers from the book's reference, built into the binary.
        "docs/src/reference/config.md",
        "docs/src/reference/metrics.md",
    ] {
        assert!(files.contains(&needed), "{needed} is not packaged:\n{list}");
    }
    let stray: Vec<&&str> = files
        .iter()
        .filter(|f| {
            f.contains("/target/") || f.starts_with("target/") || f.starts_with("bench/out/")
        })
        .collect();
    assert!(
        stray.is_empty(),
        "build outputs would be published: {stray:?}"
    );
}
