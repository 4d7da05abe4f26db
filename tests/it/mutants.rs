//! The mutants suite on real git repositories made from `fixtures/mutants`: the base holds the
//! members without their functions, the change adds them, and each function's mutants have a
//! known fate (caught, missed, unviable, timeout, caught by another member's tests, caught by a
//! doctest) — the fates cargo-mutants gives them (`bench/mutants.sh` checks that).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::*;

const FILES: &[&str] = &[
    "Cargo.toml",
    "gate.toml",
    "calc/Cargo.toml",
    "calc/src/lib.rs",
    "app/Cargo.toml",
    "app/src/lib.rs",
    "app/tests/it.rs",
];

/// A repository whose `main` holds the fixture with empty libraries, and a working tree that
/// adds their functions (the change).
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy_fixture("mutants", FILES, d);
    write_file(d, ".gitignore", "target/\nout/\n");
    let calc = std::fs::read_to_string(d.join("calc/src/lib.rs")).unwrap();
    let app = std::fs::read_to_string(d.join("app/src/lib.rs")).unwrap();
    write_file(d, "calc/src/lib.rs", "//! calc\n");
    write_file(d, "app/src/lib.rs", "//! app\n");
    git_init_commit(d);
    write_file(d, "calc/src/lib.rs", &calc);
    write_file(d, "app/src/lib.rs", &app);
    dir
}

/// `cargo gate run --suite mutants --out-dir out EXTRA…` in `d`, building in `d/target` (each
/// test its own: runs on one target directory take turns by a lock).
fn mutants_cmd(d: &Path, extra: &[&str]) -> std::process::Command {
    let mut cmd = gate("mutants");
    cmd.env("CARGO_TARGET_DIR", d.join("target"))
        .current_dir(d)
        .args(["run", "--suite", "mutants", "--out-dir", "out"])
        .args(extra);
    cmd
}

/// [`mutants_cmd`] on the file `src/lib.rs` whole.
fn mutate_lib(d: &Path) -> std::process::Output {
    output(&mut mutants_cmd(d, &["--mutate", "src/lib.rs"]))
}

fn run_mutants(d: &Path, extra: &[&str]) -> (std::process::Output, serde_json::Value) {
    let mut args = vec!["--baseline-rev", "main"];
    args.extend_from_slice(extra);
    let out = output(&mut mutants_cmd(d, &args));
    let report = json(&d.join("out/mutants.json"));
    (out, report)
}

/// `(outcome, by)` of the mutant called `name`.
fn fate(report: &serde_json::Value, name: &str) -> (String, String) {
    let m = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no mutant {name}: {report:#}"));
    (
        m["outcome"].as_str().unwrap().to_string(),
        m["by"].as_str().unwrap_or("").to_string(),
    )
}

/// The outcomes of every mutant whose name contains `part`.
fn fates(report: &serde_json::Value, part: &str) -> Vec<String> {
    report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["name"].as_str().unwrap().contains(part))
        .map(|o| o["outcome"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn each_mutant_of_the_change_has_the_fate_its_tests_give_it() {
    let dir = repo();
    let d = dir.path();
    let status_before = git(d, &["status", "--porcelain"]);
    let (out, report) = run_mutants(d, &[]);
    // Missed mutants only warn by default.
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("mutants.missed == 0"),
        "{}",
        stdout(&out)
    );
    assert_eq!(report["total_mutants"], 35, "{report:#}");
    assert_eq!(
        (
            &report["caught"],
            &report["missed"],
            &report["timeout"],
            &report["unviable"]
        ),
        (&29.into(), &3.into(), &2.into(), &1.into())
    );
    assert!(fates(&report, " in add").iter().all(|o| o == "caught"));
    assert_eq!(
        fate(&report, "calc/src/lib.rs:15:7: replace > with >= in is_big").0,
        "missed"
    );
    assert_eq!(fates(&report, "replace greeting"), ["missed", "missed"]);
    assert_eq!(
        fate(
            &report,
            "calc/src/lib.rs:23:5: replace token -> Token with Default::default()"
        )
        .0,
        "unviable"
    );
    assert_eq!(
        fate(
            &report,
            "calc/src/lib.rs:29:11: replace -= with /= in count_down"
        )
        .0,
        "timeout"
    );
    // Caught only by the other member's integration test, or only by the doctest.
    let (outcome, by) = fate(&report, "calc/src/lib.rs:36:7: replace * with + in double");
    assert_eq!(
        (outcome.as_str(), by.as_str()),
        ("caught", "app::it quadruples")
    );
    let (outcome, by) = fate(&report, "calc/src/lib.rs:45:7: replace * with / in triple");
    assert_eq!(outcome, "caught");
    assert!(by.starts_with("calc::doc "), "{by}");
    // One build held them all (and one more without the unviable one).
    assert_eq!(report["schema_builds"], 2);
    assert!(
        report["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["built"] == "schema")
    );
    // The user's tree is as it was and the scratch copy is gone.
    assert_eq!(git(d, &["status", "--porcelain"]), status_before);
    assert!(!d.join("target/gate/mutants/tree").exists());
    let full = json(&d.join("out/report.json"));
    let suite = &full["suites"][0];
    assert_eq!(suite["name"], "mutants");
    let metric = |n: &str| {
        suite["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == n)
            .and_then(|m| m["samples"][0].as_f64())
    };
    assert_eq!(metric("mutants.missed"), Some(3.0));
    assert_eq!(metric("mutants.score"), Some(100.0 * 29.0 / 32.0));
    assert_eq!(metric("mutants.failed"), Some(0.0));
}

#[test]
fn named_functions_are_mutated_whole_and_a_fail_rule_fails_on_a_missed_one() {
    let dir = repo();
    let d = dir.path();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "functions"]);
    // `list` shows the mutants of the change since HEAD^ (the commit that added the functions).
    let listed = output(
        gate("mutants")
            .env("CARGO_TARGET_DIR", d.join("target"))
            .current_dir(d)
            .arg("list"),
    );
    assert!(
        stdout(&listed).contains("mutant calc/src/lib.rs:11:5: replace add -> i32 with 0"),
        "{}{}",
        stdout(&listed),
        stderr(&listed)
    );
    // Nothing changed since HEAD: only --mutate chooses.
    let (out, report) = run_mutants(d, &["--mutate", "calc/src/lib.rs:add"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(fates(&report, ""), ["caught"; 5]);
    let gate_toml = std::fs::read_to_string(d.join("gate.toml")).unwrap();
    write_file(
        d,
        "gate.toml",
        &format!("{gate_toml}\n[gate]\nfail = [\"mutants.missed == 0\"]\n"),
    );
    let (out, report) = run_mutants(d, &["--mutate", "calc/src/lib.rs:greeting"]);
    assert_eq!(code(&out), 1, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(fates(&report, ""), ["missed", "missed"]);
    assert!(
        stdout(&out).contains("+\"xyzzy\".into()"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_file_the_schema_cannot_hold_has_its_mutants_built_alone() {
    let dir = temp_workspace("[mutants]\nminimum_timeout = \"5s\"\n");
    let d = dir.path();
    // `2 + 2` is an array length: a constant, where no runtime switch can be read.
    write_file(
        d,
        "src/lib.rs",
        "pub fn four() -> usize {\n    let a = [0u8; 2 + 2];\n    a.len()\n}\n\n#[test]\nfn four_is_four() {\n    assert_eq!(four(), 4);\n}\n",
    );
    let out = mutate_lib(d);
    let report = json(&d.join("out/mutants.json"));
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let outcomes = report["outcomes"].as_array().unwrap();
    assert!(outcomes.iter().all(|o| o["built"] == "alone"), "{report:#}");
    assert_eq!(
        fate(&report, "src/lib.rs:2:21: replace + with - in four").0,
        "caught"
    );
    // 2 * 2 is 4 too: no test can tell.
    assert_eq!(
        fate(&report, "src/lib.rs:2:21: replace + with * in four").0,
        "missed"
    );
    assert!(!d.join("target/gate/mutants/tree").exists());
}

#[test]
fn a_no_std_crate_that_denies_warnings_in_its_tests_builds_its_schema_once() {
    // httparse's shape: `no_std` without its feature, `deny(warnings)` under test.
    let dir = temp_workspace("[mutants]\n");
    let d = dir.path();
    write_file(
        d,
        "src/lib.rs",
        "#![no_std]\n#![cfg_attr(test, deny(warnings))]\n\npub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n\npub fn span(a: u32, b: u32) -> u32 {\n    let d = b - a;\n    d\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() {\n        assert_eq!(super::add(2, 3), 5);\n        assert_eq!(super::span(2, 5), 3);\n    }\n}\n",
    );
    let out = mutate_lib(d);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let report = json(&d.join("out/mutants.json"));
    assert_eq!(report["schema_builds"], 1, "{report:#}");
    let outcomes = report["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 8);
    assert!(
        outcomes
            .iter()
            .all(|o| o["built"] == "schema" && o["outcome"] == "caught"),
        "{report:#}"
    );
}

/// A library whose unit-test target takes far longer to compile than the library: 2^14
/// functions under `cfg(test)`.
const SLOW_UNIT_TESTS: &str = "pub struct Opaque(pub u8);

pub fn make() -> Opaque {
    Opaque(1)
}

pub fn double(x: u8) -> u8 {
    x * 2
}

#[cfg(test)]
#[allow(dead_code)]
mod tests {
    macro_rules! twice {
        ($($t:tt)*) => { mod a { $($t)* } mod b { $($t)* } };
    }
    twice! { twice! { twice! { twice! { twice! { twice! { twice! {
    twice! { twice! { twice! { twice! { twice! { twice! { twice! {
        pub fn f(x: u32) -> u32 { x.wrapping_mul(3).wrapping_add(1) }
    } } } } } } } } } } } } } }

    #[test]
    fn makes_and_doubles() {
        assert_eq!(super::make().0, 1);
        assert_eq!(super::double(3), 6);
    }
}
";

#[test]
fn a_schema_round_ends_at_the_library_s_errors_without_waiting_for_its_unit_tests() {
    let dir = temp_workspace("[mutants]\n");
    let d = dir.path();
    write_file(d, "src/lib.rs", SLOW_UNIT_TESTS);
    let mut cmd = mutants_cmd(d, &["--mutate", "src/lib.rs"]);
    // Both targets build side by side whatever the machine's cores.
    cmd.env("CARGO_BUILD_JOBS", "2");
    let out = output(&mut cmd);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let report = json(&d.join("out/mutants.json"));
    // `Opaque` has no `Default`: the first round fails on it, in both targets.
    assert_eq!(
        fate(
            &report,
            "src/lib.rs:4:5: replace make -> Opaque with Default::default()"
        )
        .0,
        "unviable"
    );
    assert_eq!(report["schema_builds"], 2, "{report:#}");
    assert!(
        fates(&report, "in double").iter().all(|f| f == "caught"),
        "{report:#}"
    );
    // The library's errors ended the round: cargo never got to report the unit tests'.
    let err = stderr(&out);
    assert!(err.contains("could not compile `scratch` (lib)"), "{err}");
    assert!(!err.contains("(lib test)"), "{err}");
}

const DOCTESTED: &str = "/// ```\n/// assert_eq!(scratch::triple(2), 6);\n/// ```\npub fn triple(x: i32) -> i32 {\n    x * 3\n}\n\n/// ```should_panic\n/// scratch::checked(0);\n/// ```\npub fn checked(x: i32) -> i32 {\n    if x == 0 {\n        panic!(\"zero\")\n    }\n    x\n}\n";

#[test]
fn mutants_no_binary_catches_meet_the_doctests_compiled_once() {
    let dir = temp_workspace("[mutants]\n");
    let d = dir.path();
    write_file(d, "src/lib.rs", DOCTESTED);
    let out = mutate_lib(d);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let report = json(&d.join("out/mutants.json"));
    let outcomes = report["outcomes"].as_array().unwrap();
    // triple: 0, 1, -1, + and /; checked: 0, 1, -1 and != (a should_panic doctest that passes).
    assert_eq!(outcomes.len(), 9, "{report:#}");
    for o in outcomes {
        assert_eq!(o["outcome"], "caught", "{o:#}");
        assert!(
            o["by"].as_str().unwrap().starts_with("scratch::doc"),
            "{o:#}"
        );
    }
    // One batch: cargo ran cargo-gate as the doctests' runner, which wrote down the failures.
    let results =
        std::fs::read_to_string(d.join("target/gate/mutants/doctests-scratch.results")).unwrap();
    // One line per doctest that ran, one per mutant it noticed.
    assert_eq!(
        results.lines().filter(|l| *l == "ran").count(),
        2,
        "{results}"
    );
    assert_eq!(results.lines().count(), 11, "{results}");
    // Doctests that notice no mutant still take the batch, not a build per mutant.
    write_file(
        d,
        "src/lib.rs",
        "/// ```\n/// scratch::four();\n/// ```\npub fn four() -> i32 {\n    4\n}\n",
    );
    let out = mutate_lib(d);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        !stdout(&out).contains("one `cargo test --doc` per mutant"),
        "{}",
        stdout(&out)
    );
    let report = json(&d.join("out/mutants.json"));
    let outcomes = report["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 3, "{report:#}");
    assert!(
        outcomes.iter().all(|o| o["outcome"] == "missed"),
        "{report:#}"
    );
    let results =
        std::fs::read_to_string(d.join("target/gate/mutants/doctests-scratch.results")).unwrap();
    assert_eq!(results, "ran\n");
    // A doctest failing on its own is no ground to judge mutants on.
    write_file(
        d,
        "src/lib.rs",
        &DOCTESTED.replace("triple(2), 6", "triple(2), 7"),
    );
    let out = mutate_lib(d);
    assert_eq!(code(&out), 1, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("the doctests of scratch fail without any mutant"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_proc_macro_s_mutants_are_built_alone_and_judged_by_its_users_tests() {
    // The macro's code runs while `user` compiles: only a build with the mutant in can tell.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_file(
        d,
        "Cargo.toml",
        "[workspace]\nmembers = [\"answer\", \"user\"]\nresolver = \"2\"\n",
    );
    write_file(d, "gate.toml", "[mutants]\n");
    write_file(
        d,
        "answer/Cargo.toml",
        "[package]\nname = \"answer\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[lib]\nproc-macro = true\n",
    );
    write_file(
        d,
        "answer/src/lib.rs",
        "use proc_macro::TokenStream;\n\nfn value() -> u32 {\n    40 + 2\n}\n\n#[proc_macro]\npub fn answer(_: TokenStream) -> TokenStream {\n    format!(\"pub fn answer() -> u32 {{ {} }}\", value()).parse().unwrap()\n}\n",
    );
    write_file(
        d,
        "user/Cargo.toml",
        "[package]\nname = \"user\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\nanswer = { path = \"../answer\" }\n",
    );
    write_file(
        d,
        "user/src/lib.rs",
        "answer::answer!();\n\n#[test]\nfn is_42() {\n    assert_eq!(answer(), 42);\n}\n",
    );
    let out = output(&mut mutants_cmd(
        d,
        &["--mutate", "answer/src/lib.rs:value"],
    ));
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let report = json(&d.join("out/mutants.json"));
    let outcomes = report["outcomes"].as_array().unwrap();
    // 0, 1, 40 - 2 and 40 * 2: each caught by user's test, each built alone.
    assert_eq!(outcomes.len(), 4, "{report:#}");
    for o in outcomes {
        assert_eq!(
            (&o["outcome"], &o["built"]),
            (&"caught".into(), &"alone".into()),
            "{o:#}"
        );
        assert_eq!(o["by"], "user is_42", "{o:#}");
    }
}

#[test]
fn mutants_are_judged_only_against_passing_tests_of_a_building_workspace() {
    let dir = temp_workspace("[mutants]\n");
    let d = dir.path();
    write_file(
        d,
        "src/lib.rs",
        "pub fn one() -> u8 {\n    1\n}\n\n#[test]\nfn wrong() {\n    assert_eq!(one(), 2);\n}\n",
    );
    let out = mutate_lib(d);
    assert_eq!(code(&out), 1, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("the tests fail without any mutant"),
        "{}",
        stdout(&out)
    );
    write_file(d, "src/lib.rs", "pub fn one() -> u8 {\n    \"one\"\n}\n");
    let out = mutate_lib(d);
    assert_eq!(code(&out), 1, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("does not build unmutated"),
        "{}",
        stdout(&out)
    );
    assert!(!d.join("target/gate/mutants/tree").exists());
}

#[test]
fn ctrl_c_kills_the_mutant_running_and_removes_the_copy() {
    let dir = repo();
    let d = dir.path();
    // A timeout only the interruption can reach.
    write_file(
        d,
        "gate.toml",
        "[mutants]\nminimum_timeout = \"10m\"\njobs = 1\n",
    );
    let mut child = mutants_cmd(d, &["--mutate", "calc/src/lib.rs:count_down"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait (bounded) for a test binary of the copy to run a mutant.
    let scratch_bins = d.join("target/gate/mutants/target");
    let needle = scratch_bins.to_string_lossy().to_string();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if !processes(|cmd| cmd.contains(&needle) && cmd.contains("/deps/calc-")).is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "no mutant ever ran");
        assert!(
            child.try_wait().unwrap().is_none(),
            "cargo-gate ended early"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = interrupt(&mut child);
    assert_eq!(status.code(), Some(1));
    assert!(!d.join("target/gate/mutants/tree").exists());
    let left = processes(|cmd| cmd.contains(&needle));
    assert!(left.iter().all(|(_, state)| *state == 'Z'), "{left:?}");
}

#[test]
fn a_member_named_like_a_registry_crate_in_its_graph_gets_its_doctests_and_seeded_deps() {
    // itertools' shape: criterion, a dev-dependency, brings an older registry itertools, so
    // `--package itertools` is ambiguous. Here: `similar`, with insta depending on the
    // registry's similar (fixtures/parity).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy_fixture(
        "parity",
        &[
            "Cargo.lock",
            "crates/similar/Cargo.toml",
            "crates/similar/src/lib.rs",
        ],
        d,
    );
    write_file(
        d,
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/similar\"]\nresolver = \"2\"\n",
    );
    write_file(d, "gate.toml", "[mutants]\n");
    write_file(d, ".gitignore", "target/\nout/\n");
    git_init_commit(d);
    // Only a doctest checks `triple`.
    let lib = std::fs::read_to_string(d.join("crates/similar/src/lib.rs")).unwrap();
    write_file(
        d,
        "crates/similar/src/lib.rs",
        &lib.replacen(
            "\n",
            "\n\n/// ```\n/// assert_eq!(similar::triple(2), 6);\n/// ```\npub fn triple(x: i32) \
             -> i32 {\n    x * 3\n}\n",
            1,
        ),
    );
    // The user's own build of the dependencies, as CI's `cargo test` leaves it.
    let built = output(
        std::process::Command::new(env!("CARGO"))
            .args(["test", "--no-run", "--workspace"])
            .env("CARGO_TARGET_DIR", d.join("target"))
            .current_dir(d),
    );
    assert!(built.status.success(), "{}", stderr(&built));
    let out = output(&mut mutants_cmd(
        d,
        &["--mutate", "crates/similar/src/lib.rs:triple"],
    ));
    let text = stderr(&out);
    assert_eq!(code(&out), 0, "{}{text}", stdout(&out));
    assert!(
        text.contains("dependency build outputs taken from"),
        "{text}"
    );
    // insta and the registry's similar come from the user's build (the latter told from the
    // member by the sources it was compiled from); only the member compiles.
    let mut compiled: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Compiling "))
        .map(|l| l.split(" (").next().unwrap_or(l))
        .collect();
    compiled.sort();
    assert_eq!(compiled, ["similar v0.1.0"], "{text}");
    let report = json(&d.join("out/mutants.json"));
    let outcomes = report["outcomes"].as_array().unwrap();
    // 0, 1, -1, * → + and * → /: the doctest catches them all.
    assert_eq!(outcomes.len(), 5, "{report:#}");
    for o in outcomes {
        assert_eq!(o["outcome"], "caught", "{o:#}");
        assert!(
            o["by"].as_str().unwrap().starts_with("similar::doc"),
            "{o:#}"
        );
    }
}

const COVERED: &str = "/// ```\n/// std::io::Write::write_all(&mut std::fs::OpenOptions::new().append(true).create(true)\n///     .open(std::env::var(\"DOCTEST_RUNS\").unwrap()).unwrap(), b\"run\\n\").unwrap();\n/// assert_eq!(scratch::used(1), 2);\n/// ```\npub fn used(x: i32) -> i32 {\n    x + 1\n}\n\npub fn unused(x: i32) -> i32 {\n    x * 2\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn uses() {\n        assert_eq!(super::used(2), 3);\n    }\n}\n";

#[test]
fn a_mutant_meets_only_the_tests_that_reach_its_code_unless_coverage_is_off() {
    let dir = temp_workspace("[mutants]\n");
    let d = dir.path();
    write_file(d, "src/lib.rs", COVERED);
    write_file(
        d,
        "tests/other.rs",
        "#[test]\nfn elsewhere() {\n    assert_eq!(1 + 1, 2);\n}\n",
    );
    let runs = d.join("doctest-runs");
    let run = |gate_toml: &str| {
        write_file(d, "gate.toml", gate_toml);
        let _ = std::fs::remove_file(&runs);
        let mut cmd = mutants_cmd(d, &["--mutate", "src/lib.rs"]);
        let out = output(cmd.env("DOCTEST_RUNS", &runs));
        assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
        let report = json(&d.join("out/mutants.json"));
        let doctest_runs = std::fs::read_to_string(&runs)
            .unwrap_or_default()
            .lines()
            .count();
        (report, doctest_runs)
    };
    // `unused`: 0, 1, -1, * → + and * → /, reached by no test.
    let unused = |report: &serde_json::Value| -> Vec<u64> {
        let all = report["outcomes"].as_array().unwrap();
        let mine: Vec<&serde_json::Value> = all
            .iter()
            .filter(|o| o["name"].as_str().unwrap().contains("unused"))
            .collect();
        assert_eq!(mine.len(), 5, "{report:#}");
        assert!(mine.iter().all(|o| o["outcome"] == "missed"), "{report:#}");
        mine.iter()
            .map(|o| o["tests_run"].as_u64().unwrap())
            .collect()
    };
    let (report, doctest_runs) = run("[mutants]\n");
    // No binary reached it: none ran; the doctest ran once, unmutated, and never again.
    assert_eq!(unused(&report), [0; 5], "{report:#}");
    assert_eq!(doctest_runs, 1);
    // `used`'s mutants are caught by its unit test, never by the other binary.
    let used: Vec<&serde_json::Value> = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["name"].as_str().unwrap().contains(" used"))
        .collect();
    assert!(!used.is_empty());
    for o in used {
        assert_eq!(o["outcome"], "caught", "{o:#}");
        assert!(o["by"].as_str().unwrap().contains("uses"), "{o:#}");
    }
    // Without coverage every test meets every mutant, as in cargo-mutants.
    let (report, doctest_runs) = run("[mutants]\ncoverage = false\n");
    assert!(unused(&report).iter().all(|n| *n >= 2), "{report:#}");
    assert_eq!(doctest_runs, 6);
}

/// A library with 13 doctests that only note that they ran, and `name`, whose doctest checks
/// it (or only calls it).
fn many_doctests(name_checked: bool) -> String {
    let note = |what: &str| {
        format!(
            "/// std::io::Write::write_all(&mut std::fs::OpenOptions::new().append(true).create(true)\n///     .open(std::env::var(\"DOCTEST_RUNS\").unwrap()).unwrap(), b\"{what}\\n\").unwrap();\n"
        )
    };
    let mut lib = String::new();
    for i in 0..13 {
        lib += &format!(
            "/// ```\n{}/// assert_eq!(scratch::f{i}(1), {});\n/// ```\npub fn f{i}(x: i32) -> i32 {{\n    x + {i}\n}}\n\n",
            note(&format!("f{i}")),
            1 + i
        );
    }
    let check = if name_checked {
        "assert_eq!(scratch::name(), \"gate\");"
    } else {
        "let _ = scratch::name();"
    };
    lib += &format!(
        "/// ```\n{}/// {check}\n/// ```\npub fn name() -> String {{\n    \"gate\".to_string()\n}}\n",
        note("name")
    );
    lib
}

#[test]
fn with_many_doctests_the_related_ones_run_first_and_the_rest_only_for_what_they_missed() {
    let dir = temp_workspace("[mutants]\n");
    let d = dir.path();
    let runs = d.join("doctest-runs");
    let run = |name_checked: bool| {
        write_file(d, "src/lib.rs", &many_doctests(name_checked));
        let _ = std::fs::remove_file(&runs);
        let mut cmd = mutants_cmd(d, &["--mutate", "src/lib.rs:name"]);
        let out = output(cmd.env("DOCTEST_RUNS", &runs));
        assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
        let report = json(&d.join("out/mutants.json"));
        let ran: Vec<String> = std::fs::read_to_string(&runs)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        (report, ran)
    };
    // `name`'s two mutants (String::new(), "xyzzy") are caught by its own doctest, the only one
    // whose name relates to them: the other thirteen are never compiled, let alone run.
    let (report, ran) = run(true);
    let outcomes = report["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 2, "{report:#}");
    for o in outcomes {
        assert_eq!(o["outcome"], "caught", "{o:#}");
        assert!(o["by"].as_str().unwrap().contains("scratch::doc"), "{o:#}");
    }
    assert!(ran.iter().all(|r| r == "name"), "{ran:?}");
    assert!(!ran.is_empty());
    // When its doctest does not check it, the others run too (once each, unmutated: they never
    // reach `name`), and the mutants are missed.
    let (report, ran) = run(false);
    let outcomes = report["outcomes"].as_array().unwrap();
    assert!(
        outcomes.iter().all(|o| o["outcome"] == "missed"),
        "{report:#}"
    );
    for i in 0..13 {
        let me = format!("f{i}");
        assert_eq!(ran.iter().filter(|r| **r == me).count(), 1, "{ran:?}");
    }
}
