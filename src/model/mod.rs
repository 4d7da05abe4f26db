//! The data every stage after the suites works on: the [`Report`], its suites, cases and
//! metrics. Pure data and pure functions: no I/O but reading and writing `report.json`.

mod coverage;
mod merge;
mod metric;
mod perf;
mod report;

pub use merge::merge;
pub use metric::{INSTRUCTIONS, legacy_role};

pub use report::*;
