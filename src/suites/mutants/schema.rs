//! Mutant schemata: every mutant of a file written into it at once, each behind a runtime
//! switch, so one build holds them all and a mutant is run by naming it in the environment
//! (Untch, Offutt and Harrold, 1993). A span several mutants share becomes one `if … else if …
//! else ORIGINAL`; a mutant inside another's span is written into both the original and the
//! replacement, since only one switch is ever on. Pure: text in, text out.

use std::ops::Range;

use super::generate::{Edit, Genre, Mutant};

/// `source` with `mutants` (each with its number) behind `switch(N)` calls, e.g.
/// `crate::__cargo_gate_mutants::on`.
pub fn apply(source: &str, mutants: &[(u32, &Mutant)], switch: &str) -> String {
    let mut sorted: Vec<(u32, &Mutant)> = mutants.to_vec();
    sorted.sort_by_key(|(_, m)| (m.span.start, std::cmp::Reverse(m.span.end)));
    render(source, 0..source.len(), &sorted, None, switch)
}

/// The text of `range` with the mutants inside it, and `edit` (an operator swapped) applied.
fn render(
    source: &str,
    range: Range<usize>,
    inside: &[(u32, &Mutant)],
    edit: Option<(&Range<usize>, &str)>,
    switch: &str,
) -> String {
    let mut out = String::new();
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
        out.push_str(&plain(source, at..span.start, edit));
        out.push_str(&switched(source, &span, group, nested, edit, switch));
        at = span.end;
        i += same + nested_end;
    }
    out.push_str(&plain(source, at..range.end, edit));
    out
}

/// Source text with `edit` applied where it falls inside.
fn plain(source: &str, range: Range<usize>, edit: Option<(&Range<usize>, &str)>) -> String {
    match edit {
        Some((r, text)) if r.start >= range.start && r.end <= range.end => format!(
            "{}{text}{}",
            &source[range.start..r.start],
            &source[r.end..range.end]
        ),
        _ => source[range].to_string(),
    }
}

fn switched(
    source: &str,
    span: &Range<usize>,
    group: &[(u32, &Mutant)],
    nested: &[(u32, &Mutant)],
    edit: Option<(&Range<usize>, &str)>,
    switch: &str,
) -> String {
    let original = render(source, span.clone(), nested, edit, switch);
    let body = group
        .first()
        .is_some_and(|(_, m)| m.genre == Genre::FnValue);
    let mut text = String::from(if body { "{ " } else { "(" });
    for (n, (id, m)) in group.iter().enumerate() {
        let replacement = match &m.edit {
            // A body's value, without the braces it is shown with.
            Edit::Whole(t) if body => t
                .trim()
                .trim_start_matches('{')
                .trim_end_matches('}')
                .trim()
                .to_string(),
            Edit::Whole(t) => t.clone(),
            Edit::Part(r, t) => render(source, span.clone(), nested, Some((r, t)), switch),
        };
        if n > 0 {
            text.push_str(" else ");
        }
        text.push_str(&format!("if {switch}({id}) {{ {replacement} }}"));
    }
    if body {
        text.push_str(&format!(" else {original} }}"));
    } else {
        text.push_str(&format!(" else {{ {original} }})"));
    }
    text
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
    fn every_mutant_sits_behind_its_switch() {
        let source = "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";
        let found = mutants("x.rs", source).unwrap();
        let text = apply(source, &numbered(&found), "on");
        assert_eq!(
            text,
            "fn add(a: i32, b: i32) -> i32 { if on(1) { 0 } else if on(2) { 1 } else if on(3) { -1 } else {\n    (if on(4) { a - b } else if on(5) { a * b } else { a + b })\n} }\n"
        );
    }

    #[test]
    fn nested_mutants_are_in_both_branches_and_the_result_parses() {
        let source = "pub fn f(x: u32, on: bool) -> bool {\n    match x {\n        n if n + 1 > 9 => !on,\n        _ => x * 2 == 4,\n    }\n}\n";
        let found = mutants("x.rs", source).unwrap();
        let text = apply(source, &numbered(&found), "crate::m::on");
        syn::parse_file(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for (id, _) in numbered(&found) {
            assert!(
                text.contains(&format!("crate::m::on({id})")),
                "{id}: {text}"
            );
        }
        // The `*` inside `x * 2 == 4` is swapped in the `==` mutants' branches too.
        assert!(text.contains("(if crate::m::on("), "{text}");
        assert_eq!(apply(source, &[], "on"), source);
    }
}
