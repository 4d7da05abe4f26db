//! The schema build in rounds: every mutant written in behind its switch, one
//! `cargo test --no-run`; the compiler's errors are mapped back to the mutants whose own text
//! they point into (those are unviable), the rest of a file the compiler refused for reasons
//! no mutant explains is taken out of the schema (its mutants are built alone later, as
//! cargo-mutants builds every mutant), and the build repeats — a bounded number of times.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;

use cargo_metadata::diagnostic::{Diagnostic, DiagnosticSpan};

use super::generate::Mutant;
use super::schema::{self, Schema};
use super::scratch::Scratch;
use crate::suites::testrun::build::{self, BuildResult, TestBinary};
use crate::workspace::Workspace;

/// A mutant of the run: its number, package and the mutant.
#[derive(Debug, Clone)]
pub struct Numbered {
    /// Its switch number.
    pub id: u32,
    /// The package the file belongs to.
    pub package: String,
    /// The mutant.
    pub mutant: Mutant,
    /// Built alone from the start: its package is a proc-macro crate, whose code runs while
    /// the tests are compiled, before any switch could be set.
    pub alone: bool,
}

/// What the rounds ended with.
pub struct Rounds {
    /// The binaries of the last build that compiled (every schema mutant switched off: the
    /// unmutated code), if one did.
    pub binaries: Option<Vec<TestBinary>>,
    /// Mutants in those binaries, to run by their switch.
    pub in_schema: BTreeSet<u32>,
    /// Mutants the compiler refused in their own text.
    pub unviable: BTreeSet<u32>,
    /// Mutants to build alone.
    pub alone: BTreeSet<u32>,
    /// Builds run.
    pub builds: usize,
    /// Why the unmutated workspace does not build, when it does not.
    pub broken: Option<String>,
}

/// Which mutants an error is about: the mutants whose own text its primary spans (or, failing
/// those, its notes' spans) point into; when none, the mutated files it points into, which the
/// schema cannot hold as written.
fn blame(
    d: &Diagnostic,
    schemas: &BTreeMap<String, Schema>,
    files: &mut BTreeSet<String>,
    ids: &mut BTreeSet<u32>,
) {
    let mut primary: Vec<&DiagnosticSpan> = Vec::new();
    collect(d, false, &mut primary);
    let mut all: Vec<&DiagnosticSpan> = Vec::new();
    collect(d, true, &mut all);
    let owners = |spans: &[&DiagnosticSpan]| -> BTreeSet<u32> {
        spans
            .iter()
            .filter_map(|s| {
                let schema = schemas.get(s.file_name.trim_start_matches("./"))?;
                schema.owner(s.byte_start as usize)
            })
            .collect()
    };
    let mut found = owners(&primary);
    if found.is_empty() {
        found = owners(&all);
    }
    if !found.is_empty() {
        ids.extend(found);
        return;
    }
    for s in all {
        let file = s.file_name.trim_start_matches("./");
        if schemas.contains_key(file) {
            files.insert(file.to_string());
        }
    }
}

/// The primary spans of the diagnostic (and with `children`, its notes' too), with the places
/// macros were called from.
fn collect<'d>(d: &'d Diagnostic, children: bool, out: &mut Vec<&'d DiagnosticSpan>) {
    for s in d.spans.iter().filter(|s| s.is_primary) {
        let mut at = Some(s);
        while let Some(span) = at {
            out.push(span);
            at = span.expansion.as_ref().map(|e| &e.span);
        }
    }
    if children {
        for c in &d.children {
            collect(c, true, out);
        }
    }
}

/// Runs the rounds in `scratch` (whose workspace is `ws`, built with `env`).
pub fn run(
    scratch: &Scratch,
    ws: &Workspace,
    env: &[(String, OsString)],
    sources: &BTreeMap<String, String>,
    mutants: &[Numbered],
    max_rounds: usize,
    progress: &dyn Fn(&str),
) -> Result<Rounds, String> {
    let mut r = Rounds {
        binaries: None,
        in_schema: mutants.iter().filter(|m| !m.alone).map(|m| m.id).collect(),
        unviable: BTreeSet::new(),
        alone: mutants.iter().filter(|m| m.alone).map(|m| m.id).collect(),
        builds: 0,
        broken: None,
    };
    let quiet = |_: &crate::event::Event<'_>| {};
    loop {
        let schemas = write(scratch, sources, mutants, &mut r)?;
        progress(&format!(
            "schema build {}: {} mutants in {} files",
            r.builds + 1,
            r.in_schema.len(),
            schemas.len()
        ));
        r.builds += 1;
        let last = r.builds >= max_rounds;
        // A round needs the errors of the mutated packages only.
        let stop_at: BTreeSet<String> = mutants
            .iter()
            .filter(|m| schemas.contains_key(&m.mutant.file))
            .map(|m| m.package.clone())
            .collect();
        let (result, diagnostics) =
            build::build_with(ws, &[], &[], env, &stop_at, &quiet).map_err(|e| e.to_string())?;
        let failure = match result {
            BuildResult::Built { binaries } => {
                r.binaries = Some(binaries);
                return Ok(r);
            }
            BuildResult::Failed(f) => f,
        };
        if crate::exec::process::is_cancelled() {
            return Err("interrupted".to_string());
        }
        if schemas.is_empty() {
            r.broken = Some(failure.lines().join("\n"));
            return Ok(r);
        }
        let (mut files, mut ids) = (BTreeSet::new(), BTreeSet::new());
        for d in &diagnostics {
            blame(d, &schemas, &mut files, &mut ids);
        }
        // An error no mutated file explains (or a round too many): everything left is built
        // alone, from the unmutated files, so no verdict ever rests on a guess.
        if last || (files.is_empty() && ids.is_empty()) {
            files.extend(schemas.keys().cloned());
        }
        for id in ids {
            if r.in_schema.remove(&id) {
                r.unviable.insert(id);
            }
        }
        for m in mutants.iter().filter(|m| files.contains(&m.mutant.file)) {
            if r.in_schema.remove(&m.id) {
                r.alone.insert(m.id);
            }
        }
    }
}

/// Writes each mutated file with its mutants still in the schema (the original text when it
/// has none left): the schemas written, by file.
fn write(
    scratch: &Scratch,
    sources: &BTreeMap<String, String>,
    mutants: &[Numbered],
    r: &mut Rounds,
) -> Result<BTreeMap<String, Schema>, String> {
    let mut schemas = BTreeMap::new();
    for (file, source) in sources {
        let mine: Vec<(u32, &Mutant)> = mutants
            .iter()
            .filter(|m| &m.mutant.file == file && r.in_schema.contains(&m.id))
            .map(|m| (m.id, &m.mutant))
            .collect();
        if mine.is_empty() {
            scratch.write(file, source)?;
            continue;
        }
        match schema::apply(source, &mine) {
            Ok(s) => {
                scratch.write(file, &s.text)?;
                schemas.insert(file.clone(), s);
            }
            Err(_) => {
                for (id, _) in mine {
                    r.in_schema.remove(&id);
                    r.alone.insert(id);
                }
                scratch.write(file, source)?;
            }
        }
    }
    Ok(schemas)
}
