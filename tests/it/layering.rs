//! The layering rules ARCHITECTURE.md states, checked on the source: which module may import
//! which, where output may be printed, where processes may be started. Only production code
//! counts (a file up to its `#[cfg(test)]`), and comment lines do not.

use std::path::{Path, PathBuf};

use crate::common::root;

/// A rule: in these files, none of these texts.
struct Rule {
    /// Folders (or single files) under `src/` the rule covers.
    under: &'static [&'static str],
    /// Texts that must not appear.
    forbidden: &'static [&'static str],
    /// Files under `under` the rule does not apply to, each with its reason in ARCHITECTURE.md.
    except: &'static [&'static str],
    /// Texts that make a line fine although it holds a forbidden one.
    allowed: &'static [&'static str],
    why: &'static str,
}

const PRINTING: &[&str] = &["println!", "eprintln!", "print!(", "eprint!(", "indicatif"];

const RULES: &[Rule] = &[
    Rule {
        under: &["render"],
        forbidden: &[
            "crate::suites",
            "crate::engine",
            "crate::publish",
            "crate::commands",
            "crate::reporter",
            "crate::baseline",
            "crate::exec",
            "crate::config",
            "crate::context",
        ],
        except: &[],
        allowed: &[],
        why: "render depends on model (and util) only",
    },
    Rule {
        under: &["model", "gate", "util", "event.rs", "reference.rs"],
        forbidden: &[
            "crate::suites",
            "crate::engine",
            "crate::publish",
            "crate::commands",
            "crate::reporter",
            "crate::render",
            "crate::baseline",
            "crate::exec",
            "crate::context",
        ],
        except: &[],
        // Statistics and comparisons are pure functions that live with the baselines.
        allowed: &["crate::baseline::stats", "crate::baseline::compare::"],
        why: "the pure core imports nothing that does I/O",
    },
    Rule {
        under: &["suites", "engine"],
        forbidden: &[
            "crate::commands",
            "crate::render",
            "crate::publish",
            "crate::reporter",
        ],
        except: &[],
        allowed: &[],
        why: "suites and the engine report through the event sink; rendering is the commands'",
    },
    Rule {
        under: &[
            "suites", "engine", "baseline", "exec", "model", "gate", "config",
        ],
        forbidden: PRINTING,
        except: &[],
        allowed: &[],
        why: "output belongs to the reporter (events) or the commands",
    },
    Rule {
        under: &["reporter"],
        forbidden: &[
            "crate::suites",
            "crate::engine",
            "crate::commands",
            "crate::publish",
            "crate::baseline",
            "crate::exec",
        ],
        except: &[],
        allowed: &[],
        why: "the reporter turns events into output and knows nothing else",
    },
    Rule {
        under: &[
            "suites",
            "engine",
            "baseline",
            "publish",
            "render",
            "reporter",
            "config",
            "model",
            "gate",
            "util",
            "context.rs",
            "workspace.rs",
            "reference.rs",
        ],
        forbidden: &["crate::commands"],
        except: &[],
        allowed: &[],
        why: "nothing imports from commands",
    },
    Rule {
        under: &[
            "suites",
            "engine",
            "baseline",
            "publish",
            "commands",
            "context.rs",
            "workspace.rs",
        ],
        forbidden: &[".spawn()", ".output()"],
        // cargo's build (its JSON streamed) and the infra suite's services (supervised until
        // stopped) are spawned by their owners and registered with the process layer.
        except: &["suites/testrun/build.rs", "suites/infra/service.rs"],
        allowed: &[],
        why: "every subprocess goes through exec::process",
    },
];

fn files(under: &Path) -> Vec<PathBuf> {
    if under.is_file() {
        return vec![under.to_path_buf()];
    }
    let mut out = Vec::new();
    let mut stack = vec![under.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A file's production lines: up to its `#[cfg(test)]`, comments left out.
fn production_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, l)| l.trim() != "#[cfg(test)]")
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l))
}

#[test]
fn the_source_keeps_the_layering_rules() {
    let src = root().join("src");
    let mut broken = Vec::new();
    let mut checked = 0;
    for rule in RULES {
        for under in rule.under {
            for file in files(&src.join(under)) {
                let rel = file.strip_prefix(&src).unwrap().display().to_string();
                if rule.except.contains(&rel.as_str()) {
                    continue;
                }
                let text = std::fs::read_to_string(&file).unwrap();
                checked += 1;
                for (n, line) in production_lines(&text) {
                    if rule.allowed.iter().any(|a| line.contains(a)) {
                        continue;
                    }
                    for f in rule.forbidden {
                        if line.contains(f) {
                            broken.push(format!("src/{rel}:{n}: `{f}` ({})", rule.why));
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} files were checked");
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn a_broken_rule_is_found() {
    let text = "use crate::suites::x;\n// crate::suites in a comment\n#[cfg(test)]\nuse crate::suites::y;\n";
    let hits: Vec<usize> = production_lines(text)
        .filter(|(_, l)| l.contains("crate::suites"))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(hits, [1], "code counts; comments and tests do not");
}
