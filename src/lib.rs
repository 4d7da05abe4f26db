//! cargo-gate: a quality gate and test orchestrator for Rust projects.
//!
//! Data flows one way: config → plan → run (suites) → [`report::Report`] → gate → render →
//! publish. Every stage after "run" works on a saved `report.json`.

pub mod affected;
pub mod app;
pub mod baseline;
pub mod baseline_cmd;
pub mod cli;
pub mod config;
pub mod coverage;
pub mod error;
pub mod fsutil;
pub mod gate;
pub mod github;
pub mod infra;
pub mod junit;
pub mod load;
pub mod render;
pub mod report;
pub mod runner;
pub mod suites;
pub mod units;
pub mod workspace;
