//! Publishing a verdict where people see it. GitHub is the one target today.

pub mod github;
