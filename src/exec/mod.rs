//! The one process layer: every subprocess cargo-gate starts (tests, services, command checks,
//! bench and coverage commands, bisect, git) runs in its own process group, with a timeout, a
//! bounded output tail, and is killed on Ctrl-C or SIGTERM.

pub mod git;
pub mod process;
pub mod runtime;
