//! cargo-gate's integration tests, one binary: each module runs the real binary on fixture
//! workspaces, git repositories in temp dirs, servers on 127.0.0.1 and the fake GitHub API.
//! One binary links the dependency graph once instead of once per file.

mod common;

mod affected;
mod bad_input;
mod baseline;
mod coverage;
mod errors;
mod events;
mod explain;
mod github;
mod history;
mod infra;
mod init;
mod install;
mod interrupt;
mod layering;
mod load;
mod mutants;
mod outputs;
mod package;
mod paired;
mod parity;
mod partition;
mod presentation;
mod properties;
mod proxy;
mod run;
mod security;
mod suites;
