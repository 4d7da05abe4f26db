//! Mutant schemata: every mutant of a file written into it at once, each behind a runtime
//! switch, so one build holds them all and a mutant is run by naming it in the environment
//! (Untch, Offutt and Harrold, 1993). A span several mutants share becomes one chain of
//! `MACRO!(N, MUTATED, …ORIGINAL)`; a mutant inside another's span is written into both the
//! original and the replacement, since only one switch is ever on. Pure: text in, text out.
//!
//! The switch is a `macro_rules!` written at the top of the file, so it is in scope everywhere
//! in it (nested modules too) without touching the crate root, and its call is one expression
//! token tree: no parentheses the compiler could lint as unneeded.

use std::collections::BTreeMap;
use std::ops::Range;

use super::generate::{Edit, LineIndex, Mutant};

/// The macro that switches a mutant on.
pub const MACRO: &str = "__cargo_gate_mutant";

/// The variable naming the mutant a process runs (unset or `0`: none).
pub const VARIABLE: &str = "CARGO_GATE_MUTANT";

/// The variable naming a file each switch, the first time a process reaches it, appends a line
/// to: `N\tTHREAD` (libtest names a test's thread after the test). What the unmutated run
/// reaches is the coverage that picks the tests run against each mutant.
pub const TRACE: &str = "CARGO_GATE_MUTANT_TRACE";

/// The mutants a process reached, each with the first test (thread name) seen reaching it.
pub type Reach = BTreeMap<u32, String>;

/// A trace file's mutants, each with the first test (thread name) seen reaching it.
pub fn reached(trace: &str) -> Reach {
    let mut out = BTreeMap::new();
    for line in trace.lines() {
        let (id, thread) = line.split_once('\t').unwrap_or((line, ""));
        if let Ok(id) = id.parse::<u32>() {
            let first = out.entry(id).or_insert_with(String::new);
            if first.is_empty() {
                *first = thread.to_string();
            }
        }
    }
    out
}

/// A file with its mutants written in, and where each mutant's own text landed.
#[derive(Debug)]
pub struct Schema {
    /// The new text of the file.
    pub text: String,
    /// Byte ranges of `text` holding a mutant's replacement (a mutant nested in another's span
    /// has several): a compiler error inside one is that mutant's.
    pub placed: Vec<(u32, Range<usize>)>,
}

impl Schema {
    /// The mutant whose replacement holds byte `at` (the innermost when nested).
    pub fn owner(&self, at: usize) -> Option<u32> {
        self.placed
            .iter()
            .filter(|(_, r)| r.start <= at && at < r.end.max(r.start + 1))
            .min_by_key(|(_, r)| r.len())
            .map(|(id, _)| *id)
    }
}

/// `source` with `mutants` (each with its number) behind switches, or why it cannot be.
pub fn apply(source: &str, mutants: &[(u32, &Mutant)]) -> Result<Schema, String> {
    let mut sorted: Vec<(u32, &Mutant)> = mutants.to_vec();
    sorted.sort_by_key(|(_, m)| (m.span.start, std::cmp::Reverse(m.span.end)));
    let at = prelude_offset(source)?;
    if sorted.iter().any(|(_, m)| m.span.start < at) {
        return Err("a mutant lies before the file's inner attributes".to_string());
    }
    let mut out = Out {
        text: source[..at].to_string(),
        placed: Vec::new(),
    };
    out.text.push_str(&prelude());
    render(&mut out, source, at..source.len(), &sorted, None);
    // What cannot be parsed cannot be built: the caller builds these mutants one by one.
    syn::parse_file(&out.text).map_err(|e| format!("the schema does not parse: {e}"))?;
    Ok(Schema {
        text: out.text,
        placed: out.placed,
    })
}

/// The text of one mutant alone, written in directly: what cargo-mutants builds, for the
/// mutants the schema could not hold.
pub fn direct(source: &str, m: &Mutant) -> String {
    let replaced = match &m.edit {
        Edit::Whole(text) => text.clone(),
        Edit::Part(r, text) => format!(
            "{}{text}{}",
            &source[m.span.start..r.start],
            &source[r.end..m.span.end]
        ),
    };
    format!(
        "{}{replaced}{}",
        &source[..m.span.start],
        &source[m.span.end..]
    )
}

/// The switch: a `static` per call site, so the variables are read once per process and each
/// later test costs one atomic load. Paths spelled out from `std` (linked in its own block) so
/// `no_std` crates and every edition build it.
fn prelude() -> String {
    format!(
        "\n#[allow(unused_macros)]\nmacro_rules! {MACRO} {{ ($n:literal, $then:expr, $else:expr) => {{ \
         if {{ extern crate std; static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new(); \
         *ON.get_or_init(|| {{ if let Some(p) = std::env::var_os(\"{TRACE}\") {{ \
         let t = std::thread::current(); let mut l = std::vec::Vec::new(); \
         l.extend_from_slice(stringify!($n).as_bytes()); l.push(b'\\t'); \
         l.extend_from_slice(t.name().unwrap_or(\"\").as_bytes()); l.push(b'\\n'); \
         if let Ok(mut f) = std::fs::OpenOptions::new().append(true).create(true).open(p) {{ \
         let _ = std::io::Write::write_all(&mut f, &l); }} }} \
         std::env::var(\"{VARIABLE}\").is_ok_and(|v| v == stringify!($n)) }}) }} \
         {{ $then }} else {{ $else }} }}; }}\n"
    )
}

/// Where the macro goes: after the shebang and the inner attributes (`#![…]`, `//!`), which
/// must come first.
fn prelude_offset(source: &str) -> Result<usize, String> {
    let file = syn::parse_file(source).map_err(|e| format!("cannot parse: {e}"))?;
    let lines = LineIndex::new(source);
    let mut at = 0;
    if source.starts_with("#!") && !source.starts_with("#![") {
        at = source.find('\n').map_or(source.len(), |n| n + 1);
    }
    for attr in file
        .attrs
        .iter()
        .filter(|a| matches!(a.style, syn::AttrStyle::Inner(_)))
    {
        let end = syn::spanned::Spanned::span(attr).end();
        at = at.max(lines.offset(end).ok_or("an attribute outside the file")?);
    }
    Ok(at)
}

struct Out {
    text: String,
    placed: Vec<(u32, Range<usize>)>,
}

/// Writes the text of `range` with the mutants inside it, and `edit` (an operator swapped)
/// applied.
fn render(
    out: &mut Out,
    source: &str,
    range: Range<usize>,
    inside: &[(u32, &Mutant)],
    edit: Option<(&Range<usize>, &str)>,
) {
    let mut at = range.start;
    let mut i = 0;
    while i < inside.len() {
        let span = inside[i].1.span.clone();
        if span.start < at || span.end > range.end {
            i += 1;
            continue;
        }
        // The mutants on exactly this span, then those nested in it.
        let same = inside[i..]
            .iter()
            .take_while(|(_, m)| m.span == span)
            .count();
        let nested_end = inside[i + same..]
            .iter()
            .take_while(|(_, m)| m.span.start < span.end)
            .count();
        let group = &inside[i..i + same];
        let nested = &inside[i + same..i + same + nested_end];
        plain(out, source, at..span.start, edit);
        switched(out, source, &span, group, nested, edit);
        at = span.end;
        i += same + nested_end;
    }
    plain(out, source, at..range.end, edit);
}

/// Source text with `edit` applied where it falls inside.
fn plain(out: &mut Out, source: &str, range: Range<usize>, edit: Option<(&Range<usize>, &str)>) {
    match edit {
        Some((r, text)) if r.start >= range.start && r.end <= range.end => {
            out.text.push_str(&source[range.start..r.start]);
            out.text.push_str(text);
            out.text.push_str(&source[r.end..range.end]);
        }
        _ => out.text.push_str(&source[range]),
    }
}

/// `MACRO!(id1, R1, MACRO!(id2, R2, ORIGINAL))` for the group on `span`; a body of several
/// statements becomes a block for the original branch.
fn switched(
    out: &mut Out,
    source: &str,
    span: &Range<usize>,
    group: &[(u32, &Mutant)],
    nested: &[(u32, &Mutant)],
    edit: Option<(&Range<usize>, &str)>,
) {
    let body = group.iter().any(|(_, m)| m.statements);
    for (id, m) in group {
        out.text.push_str(&format!("{MACRO}!({id}, "));
        let start = out.text.len();
        match &m.edit {
            Edit::Whole(t) => out.text.push_str(t),
            Edit::Part(r, t) => render(out, source, span.clone(), nested, Some((r, t))),
        }
        out.placed.push((*id, start..out.text.len()));
        out.text.push_str(", ");
    }
    if body {
        out.text.push_str("{ ");
    }
    render(out, source, span.clone(), nested, edit);
    if body {
        out.text.push_str(" }");
    }
    out.text.push_str(&")".repeat(group.len()));
}

#[cfg(test)]
mod tests {
    use super::super::generate::mutants;
    use super::*;

    fn numbered(found: &[Mutant]) -> Vec<(u32, &Mutant)> {
        found
            .iter()
            .enumerate()
            .map(|(i, m)| (i as u32 + 1, m))
            .collect()
    }

    #[test]
    fn a_trace_names_each_mutant_reached_and_the_first_test_that_did() {
        let r = reached("3\ttests::adds\n5\t\n3\ttests::other\n5\tmain_test\nnoise\n7\n");
        assert_eq!(r.get(&3).map(String::as_str), Some("tests::adds"));
        // An unnamed thread first (a test's own thread pool), then a test: the test.
        assert_eq!(r.get(&5).map(String::as_str), Some("main_test"));
        assert_eq!(r.get(&7).map(String::as_str), Some(""));
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn every_mutant_sits_behind_its_switch() {
        let source =
            "//! Docs.\n#![allow(dead_code)]\nfn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";
        let found = mutants("x.rs", source).unwrap();
        let schema = apply(source, &numbered(&found)).unwrap();
        let (head, rest) = schema.text.split_once("macro_rules!").unwrap();
        assert!(
            head.starts_with("//! Docs.\n#![allow(dead_code)]\n"),
            "{head}"
        );
        let body = rest.split_once("}; }\n").unwrap().1;
        let m = MACRO;
        assert_eq!(
            body,
            format!(
                "\nfn add(a: i32, b: i32) -> i32 {{\n    {m}!(1, 0, {m}!(2, 1, {m}!(3, -1, {m}!(4, a - b, {m}!(5, a * b, a + b)))))\n}}\n"
            )
        );
        // Each replacement is found at its place.
        let minus = schema.text.find("a - b").unwrap();
        assert_eq!(schema.owner(minus), Some(4));
        let one = schema.text.find("(2, 1").unwrap() + 4;
        assert_eq!(schema.owner(one), Some(2));
        assert_eq!(schema.owner(schema.text.rfind("a + b").unwrap()), None);
    }

    #[test]
    fn nested_mutants_are_in_both_branches_and_the_result_parses() {
        let source = "pub fn f(x: u32, on: bool) -> bool {\n    match x {\n        n if n + 1 > 9 => !on,\n        _ => x * 2 == 4,\n    }\n}\n";
        let found = mutants("x.rs", source).unwrap();
        let schema = apply(source, &numbered(&found)).unwrap();
        for (id, _) in numbered(&found) {
            assert!(
                schema.text.contains(&format!("{MACRO}!({id}, ")),
                "{id}: {}",
                schema.text
            );
        }
        // The `*` inside `x * 2 == 4` is swapped in the `==` mutant's branch too, and an error
        // there belongs to the innermost mutant.
        let star = found
            .iter()
            .position(|m| m.description.starts_with("replace * with +"))
            .unwrap() as u32
            + 1;
        let at = schema.text.rfind("x + 2").unwrap();
        assert_eq!(schema.owner(at), Some(star));
        assert!(apply(source, &[]).unwrap().text.len() > source.len());
    }

    #[test]
    fn only_a_body_of_statements_gets_braces() {
        let source =
            "fn f(a: u8) -> u8 {\n    let d = a;\n    d\n}\nfn g(a: u8) -> u8 {\n    a\n}\n";
        let found = mutants("x.rs", source).unwrap();
        let text = apply(source, &numbered(&found)).unwrap().text;
        assert!(
            text.contains(&format!("{MACRO}!(2, 1, {{ let d = a;\n    d }})")),
            "{text}"
        );
        assert!(text.contains(&format!("{MACRO}!(4, 1, a)")), "{text}");
    }

    #[test]
    fn a_mutant_alone_is_written_in_directly() {
        let source = "fn f(a: u8) -> bool {\n    !(a > 1)\n}\n";
        let found = mutants("x.rs", source).unwrap();
        let texts: Vec<String> = found.iter().map(|m| direct(source, m)).collect();
        assert!(
            texts.contains(&"fn f(a: u8) -> bool {\n    true\n}\n".to_string()),
            "{texts:#?}"
        );
        assert!(texts.contains(&"fn f(a: u8) -> bool {\n    (a > 1)\n}\n".to_string()));
        assert!(
            texts.contains(&"fn f(a: u8) -> bool {\n    !(a <= 1)\n}\n".to_string())
                || texts.iter().any(|t| t.contains("!(a == 1)"))
        );
    }

    #[test]
    fn let_chains_and_shebangs_are_left_parseable() {
        let source = "#!/usr/bin/env run-cargo-script\nfn f(x: Option<u8>) -> bool {\n    if let Some(v) = x && v > 2 { return true }\n    false\n}\n";
        let found = mutants("x.rs", source).unwrap();
        assert!(found.iter().all(|m| !m.description.contains("&&")));
        let schema = apply(source, &numbered(&found)).unwrap();
        assert!(
            schema
                .text
                .starts_with("#!/usr/bin/env run-cargo-script\n\n#[allow")
        );
    }
}
