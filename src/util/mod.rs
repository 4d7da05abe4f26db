//! Small helpers shared by every layer: units, file writes, name matching.

pub mod color;
pub mod excerpt;
pub mod fs;
pub mod glob;
pub mod http1;
pub mod sanitize;
pub mod spans;
pub mod suggest;
pub mod units;
pub mod wrap;
