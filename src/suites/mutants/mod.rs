//! The mutants suite (issue "Mutation testing of the change, built once"), in progress: so far
//! the mutants of a file as cargo-mutants defines them (`generate.rs`) and the schemata that
//! put them all into one build behind runtime switches (`schema.rs`), both pure. Not
//! registered as a suite yet: the scratch copy, the build rounds, the runs and the outputs
//! are still to come.

pub mod generate;
pub mod schema;
