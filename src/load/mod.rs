//! Load tests: an open-loop (and closed-loop) HTTP generator with k6-style thresholds.

pub mod engine;
pub mod http;
pub mod threshold;
