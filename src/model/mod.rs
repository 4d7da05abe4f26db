//! The data every stage after the suites works on: the [`Report`], its suites, cases and
//! metrics. Pure data and pure functions: no I/O but reading and writing `report.json`.

mod case;
mod coverage;
mod merge;
mod metric;
mod mutants;
mod perf;
mod report;
mod security;
mod suite;

pub use merge::merge;
pub use metric::{INSTRUCTIONS, legacy_role};

pub use case::*;
pub use mutants::{MutantOutcome, MutantResult, MutantsSummary};
pub use report::*;
pub use security::{Finding, FindingKind, SecuritySummary, TrendPoint};
pub use suite::*;
