//! cargo-gate: a quality gate and test orchestrator for Rust projects.
//!
//! Data flows one way: config → plan → suites → [`model::Report`] → compare → gate → render →
//! publish. Every stage after the suites works on a saved `report.json`. ARCHITECTURE.md has
//! the map.

pub mod baseline;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod engine;
pub mod error;
pub mod event;
pub mod exec;
pub mod gate;
pub mod model;
pub mod publish;
pub mod reference;
pub mod render;
pub mod reporter;
pub mod suites;
pub mod util;
pub mod workspace;
