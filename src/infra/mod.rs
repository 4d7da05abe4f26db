//! Infrastructure and chaos: services started around the run, goss-like checks, a TCP fault
//! proxy, and chaos experiments with steady-state hypotheses.

pub mod chaos;
pub mod check;
pub mod patterns;
pub mod proxy;
pub mod service;
pub mod spec;
