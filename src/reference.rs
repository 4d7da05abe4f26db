//! The book's reference chapters, built into the binary: `cargo gate explain` answers from them,
//! so the terminal and the book can never disagree, and tests hold them to the config parser
//! and the metric table (a key or metric missing from the book fails a test, and so does an
//! entry for a key that does not exist).

use crate::gate::{self, Target};
use crate::model::RuleLevel;

const CONFIG: &str = include_str!("../docs/src/reference/config.md");
const METRICS: &str = include_str!("../docs/src/reference/metrics.md");

/// Where an entry is in the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `docs/src/reference/config.md`.
    Config,
    /// `docs/src/reference/metrics.md`.
    Metrics,
}

impl Page {
    /// The chapter's path in the book.
    pub fn path(self) -> &'static str {
        match self {
            Page::Config => "reference/config.md",
            Page::Metrics => "reference/metrics.md",
        }
    }
}

/// One entry: a heading naming a key or metric in backticks, and the text under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The key (`tests.retries`), the table (`tests`, `profile.<name>`) or the metric.
    pub key: &'static str,
    /// How the heading wrote it (`[tests]`, `[[load]]`, `tests.retries`).
    pub heading: &'static str,
    /// A table's own entry (a `##` heading of the config page).
    pub table: bool,
    /// The chapter.
    pub page: Page,
    /// The markdown under the heading, up to the next heading.
    pub body: &'static str,
}

/// Every entry of a chapter, in order.
pub fn entries(page: Page) -> Vec<Entry> {
    let text = match page {
        Page::Config => CONFIG,
        Page::Metrics => METRICS,
    };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(line_end) = rest.find('\n').or((!rest.is_empty()).then_some(rest.len())) {
        let line = &rest[..line_end];
        rest = rest.get(line_end + 1..).unwrap_or("");
        let Some((hashes, title)) = line.split_once(' ') else {
            continue;
        };
        let table = hashes == "##";
        if !(table || hashes == "###") {
            continue;
        }
        let Some(heading) = title.strip_prefix('`').and_then(|t| t.strip_suffix('`')) else {
            continue;
        };
        let body_end = next_heading(rest);
        out.push(Entry {
            key: heading.trim_matches(|c| c == '[' || c == ']'),
            heading,
            table,
            page,
            body: rest[..body_end].trim(),
        });
    }
    out
}

/// Where the next heading line starts in `text` (its length when there is none).
fn next_heading(text: &str) -> usize {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("## ") || line.starts_with("### ") {
            return at;
        }
        at += line.len();
    }
    text.len()
}

/// What `explain` found for a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// One entry. `via` says how the query was read when it was not the entry's own key.
    Entry {
        /// The entry.
        entry: Entry,
        /// E.g. "`profile.ci.tests.retries` is `tests.retries` in a profile".
        via: Option<String>,
    },
    /// A rule: what it decides, and the entry of the metric it reads.
    Rule {
        /// The rule as given.
        rule: String,
        /// One sentence on what it checks.
        meaning: String,
        /// The metric's entry.
        entry: Entry,
    },
    /// A bare key name of several tables (`timeout`).
    Several(Vec<Entry>),
}

/// Why `explain` found nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct NotFound {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

/// Finds the entry of a config key, a metric or a rule.
pub fn explain(query: &str) -> Result<Answer, NotFound> {
    let query = query.trim();
    let config = entries(Page::Config);
    let metrics = entries(Page::Metrics);
    let key = normalise(query);
    let find = |key: &str| {
        config
            .iter()
            .chain(&metrics)
            .find(|e| e.key == key)
            .copied()
    };
    if let Some(entry) = find(&key) {
        let via = (key != query.trim_matches(|c| c == '[' || c == ']'))
            .then(|| format!("`{query}` is `{key}`"));
        return Ok(Answer::Entry { entry, via });
    }
    // After the keys: `<name>` in a key is not a comparison.
    if query.contains(['=', '<', '>']) {
        return explain_rule(query);
    }
    if let Some(entry) = metric_pattern(&key).and_then(find) {
        return Ok(Answer::Entry {
            entry,
            via: Some(format!("`{query}` is a metric of the form `{}`", entry.key)),
        });
    }
    let leaves: Vec<Entry> = config
        .iter()
        .filter(|e| !e.table && e.key.rsplit('.').next() == Some(key.as_str()))
        .copied()
        .collect();
    match leaves.len() {
        0 => {}
        1 => {
            return Ok(Answer::Entry {
                entry: leaves[0],
                via: Some(format!("`{query}` is `{}`", leaves[0].key)),
            });
        }
        _ => return Ok(Answer::Several(leaves)),
    }
    let known: Vec<&str> = config.iter().chain(&metrics).map(|e| e.key).collect();
    let near = crate::util::suggest::closest(&key, &known)
        .map(|k| format!("did you mean `{k}`? "))
        .unwrap_or_default();
    Err(NotFound {
        message: format!("`{query}` is not a gate.toml key, a metric or a rule"),
        hint: format!("{near}`cargo gate explain` with no argument lists every key and metric"),
    })
}

/// `[profile.ci.tests]`, `profile.ci.tests.retries`, `baseline.metric."bench.x".min_effect`:
/// the reference's own spelling of the key.
fn normalise(query: &str) -> String {
    let key = query.trim_matches(|c| c == '[' || c == ']').trim();
    if let Some(rest) = key.strip_prefix("profile.") {
        let (name, inner) = rest.split_once('.').unwrap_or((rest, ""));
        if name == "<name>" || inner.is_empty() || inner == "inherits" {
            return if inner.is_empty() {
                "profile.<name>".to_string()
            } else {
                format!("profile.<name>.{inner}")
            };
        }
        // A key inside a profile's table is the top-level key it overrides.
        return if inner.contains('.') {
            inner.to_string()
        } else {
            format!("profile.<name>.{inner}")
        };
    }
    if let Some(rest) = key.strip_prefix("baseline.metric.") {
        for field in ["significance", "min_effect", "z_threshold"] {
            if rest.ends_with(&format!(".{field}")) {
                return format!("baseline.metric.<metric>.{field}");
            }
        }
    }
    key.to_string()
}

/// The pattern entry of a metric the gate reads by its shape (`bench.parse.median`).
fn metric_pattern(name: &str) -> Option<&'static str> {
    match gate::metric_target(name)? {
        Target::Static(_) => None,
        other => Some(entry_key(&other)),
    }
}

/// The metrics page's entry for what a rule or metric name measures.
fn entry_key(target: &Target) -> &'static str {
    match target {
        Target::Static(def) => def.name,
        Target::Aggregate { .. } => "bench.NAME.AGG",
        Target::Regression { .. } => "PATTERN.regression",
        Target::Load { .. } => "load.NAME.STAT",
    }
}

fn explain_rule(text: &str) -> Result<Answer, NotFound> {
    let rule = gate::parse_rule(text, RuleLevel::Fail).map_err(|e| NotFound {
        message: format!("`{text}` is not a valid rule: {}", e.message),
        hint: e.hint,
    })?;
    // The rule parsed, so its parts split the same way.
    let (metric, limit) = gate::grammar::split(text, text)
        .map(|p| (p.subject, p.value))
        .unwrap_or((text, ""));
    let key = entry_key(&rule.target);
    let entry = entries(Page::Metrics)
        .into_iter()
        .find(|e| e.key == key)
        .ok_or_else(|| NotFound {
            message: format!("the reference has no entry for `{key}`"),
            hint: "report this as a bug of cargo-gate".to_string(),
        })?;
    let meaning = format!(
        "holds when {metric} {} {limit}. In `[gate] fail` the gate fails when it does not hold; \
         in `warn` it is reported and the gate still passes; when the suite that measures \
         {metric} did not run, the rule is skipped.",
        rule.op.as_str()
    );
    Ok(Answer::Rule {
        rule: rule.source,
        meaning,
        entry,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_key(query: &str) -> &'static str {
        match explain(query) {
            Ok(Answer::Entry { entry, .. }) | Ok(Answer::Rule { entry, .. }) => entry.key,
            other => panic!("{query}: {other:?}"),
        }
    }

    #[test]
    fn queries_find_their_entries() {
        assert_eq!(entry_key("tests.retries"), "tests.retries");
        assert_eq!(entry_key("[tests]"), "tests");
        assert_eq!(entry_key("[[load]]"), "load");
        assert_eq!(entry_key("retries"), "tests.retries");
        assert_eq!(entry_key("profile.ci.tests.retries"), "tests.retries");
        assert_eq!(entry_key("[profile.ci]"), "profile.<name>");
        assert_eq!(entry_key("profile.ci.inherits"), "profile.<name>.inherits");
        assert_eq!(
            entry_key("baseline.metric.\"bench.io/read\".min_effect"),
            "baseline.metric.<metric>.min_effect"
        );
        assert_eq!(entry_key("tests.failed"), "tests.failed");
        assert_eq!(entry_key("bench.parse/*.median"), "bench.NAME.AGG");
        assert_eq!(entry_key("load.api.p(99.9)"), "load.NAME.STAT");
        assert_eq!(entry_key("bench.*.regression"), "PATTERN.regression");
        assert_eq!(entry_key("tests.failed == 0"), "tests.failed");
    }

    #[test]
    fn a_bare_name_of_several_tables_lists_them() {
        let Ok(Answer::Several(list)) = explain("timeout") else {
            panic!("timeout is a key of several tables");
        };
        let keys: Vec<&str> = list.iter().map(|e| e.key).collect();
        assert!(keys.contains(&"tests.timeout") && keys.contains(&"load.timeout"));
    }

    #[test]
    fn unknown_names_and_bad_rules_say_what_to_do() {
        let e = explain("tests.retires").unwrap_err();
        assert!(e.hint.starts_with("did you mean `tests.retries`?"), "{e:?}");
        let e = explain("tests.failed == 0.5").unwrap_err();
        assert!(e.message.contains("not a valid rule"), "{e:?}");
        assert!(explain("nonsense").is_err());
    }

    #[test]
    fn a_rule_says_when_it_holds() {
        let Ok(Answer::Rule { meaning, .. }) = explain("coverage.patch >= 80%") else {
            panic!("a rule");
        };
        assert!(
            meaning.starts_with("holds when coverage.patch >= 80%"),
            "{meaning}"
        );
    }

    /// Every fixed metric has an entry whose first line says its quantity, suite and role, as
    /// the metric table does; and every entry of the page is a metric the gate reads.
    #[test]
    fn the_metrics_page_is_the_metric_table() {
        use crate::gate::{METRICS, Quantity};
        use crate::model::Role;
        let page = entries(Page::Metrics);
        for def in METRICS {
            let entry = page
                .iter()
                .find(|e| e.key == def.name)
                .unwrap_or_else(|| panic!("reference/metrics.md has no entry for {}", def.name));
            let quantity = match def.quantity {
                Quantity::Count => "Count",
                Quantity::Percent => "Percentage",
                Quantity::Seconds => "Duration",
                Quantity::Measured => "Measured value",
            };
            let role = match def.role {
                Role::Gated => "gated",
                Role::Compared => "compared with the baselines",
                Role::Trend => "trend saved in the notes",
                Role::Series => "series",
            };
            let first = entry.body.lines().next().unwrap_or_default();
            assert_eq!(
                first,
                format!("{quantity} · {} suite · {role}", def.suite.as_str()),
                "{}",
                def.name
            );
        }
        for e in &page {
            assert!(
                gate::metric_target(e.key).is_some()
                    || ["bench.NAME.AGG", "load.NAME.STAT", "PATTERN.regression"].contains(&e.key),
                "reference/metrics.md documents `{}`, which no rule can name",
                e.key
            );
        }
    }

    /// Tables written `[[name]]` in gate.toml.
    const ARRAYS: &[&str] = &[
        "load",
        "service",
        "check",
        "proxy",
        "chaos",
        "load.stages",
        "bench.command",
        "security.ignore",
        "security.licenses.exceptions",
    ];

    /// The keys the parser accepts in a table, read from its own error for an unknown key:
    /// this walks the real config structs, so a key added to one without an entry here fails.
    fn accepted(table: &str) -> std::collections::BTreeSet<String> {
        let mut root = toml::Table::new();
        let mut here = &mut root;
        let mut path = String::new();
        for segment in table.split('.').filter(|s| !s.is_empty()) {
            path = if path.is_empty() {
                segment.to_string()
            } else {
                format!("{path}.{segment}")
            };
            let name = if segment.starts_with('<') {
                "x"
            } else {
                segment
            };
            let inner = toml::Value::Table(toml::Table::new());
            let value = if ARRAYS.contains(&path.as_str()) {
                toml::Value::Array(vec![inner])
            } else {
                inner
            };
            let slot = here.entry(name.to_string()).or_insert(value);
            here = match slot {
                toml::Value::Array(items) => match items.last_mut() {
                    Some(toml::Value::Table(t)) => t,
                    _ => unreachable!("built above"),
                },
                toml::Value::Table(t) => t,
                _ => unreachable!("built above"),
            };
        }
        here.insert("zzz_not_a_key".into(), toml::Value::Integer(1));
        let source = toml::to_string(&root).unwrap();
        let err =
            match crate::config::Config::parse(std::path::Path::new("gate.toml"), &source, None) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("`{table}` accepted an unknown key:\n{source}"),
            };
        let expected = err
            .split_once("expected")
            .unwrap_or_else(|| panic!("`{table}`: {err}\n{source}"))
            .1;
        expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    /// The configuration reference names every key of every table the parser reads, and no
    /// key it does not.
    #[test]
    fn the_config_page_is_the_parser() {
        use std::collections::BTreeSet;
        let documented: BTreeSet<&str> = entries(Page::Config).iter().map(|e| e.key).collect();
        let mut tables: BTreeSet<String> = BTreeSet::from([String::new()]);
        for key in &documented {
            let segments: Vec<&str> = key.split('.').collect();
            for n in 1..segments.len() {
                tables.insert(segments[..n].join("."));
            }
        }
        let mut probed = 0;
        for table in &tables {
            let prefix = if table.is_empty() {
                String::new()
            } else {
                format!("{table}.")
            };
            let children: BTreeSet<String> = documented
                .iter()
                .filter_map(|k| k.strip_prefix(prefix.as_str()))
                .map(|rest| rest.split('.').next().unwrap_or(rest).to_string())
                .collect();
            // A map keyed by the user's names (`[profile.NAME]`) has no fixed keys.
            if children.iter().all(|c| c.starts_with('<')) {
                continue;
            }
            assert_eq!(
                children,
                accepted(table),
                "reference/config.md and the parser disagree on the keys of `{table}`"
            );
            probed += 1;
        }
        assert!(probed >= 20, "only {probed} tables walked");
    }
}
