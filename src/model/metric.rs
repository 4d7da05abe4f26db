//! Measurements as data: a metric carries its unit, which way is better, and its role, all set
//! by the suite that measured it. The gate, the baseline comparison, `merge` and the renderings
//! read the role; none of them decides anything from a metric's name.

use serde::{Deserialize, Serialize};

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Smaller values are better (time, memory).
    LowerIsBetter,
    /// Larger values are better (throughput).
    HigherIsBetter,
}

/// What a metric is for.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Gated on its own value only (counts, ratios of this run).
    Gated,
    /// Gated, saved in the baseline notes and compared with them (times, throughput).
    Compared,
    /// Gated and saved in the notes to follow its trend (`coverage.lines_delta`), never
    /// compared as performance.
    Trend,
    /// A series for charts (a load test's timeline): neither gated nor saved.
    Series,
}

impl Role {
    /// Saved in the baseline notes by `baseline save`.
    pub fn is_saved(self) -> bool {
        matches!(self, Role::Compared | Role::Trend)
    }
}

/// How the shards' values of one metric combine in `merge`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ShardMerge {
    /// Every shard's samples, pooled.
    #[default]
    Pool,
    /// The largest shard value: shards run side by side, so a wall time is the slowest one's.
    Longest,
}

/// A measurement.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(from = "MetricRepr")]
pub struct Metric {
    /// Name, e.g. `tests.duration`.
    pub name: String,
    /// Unit, e.g. `s`, `ms`, `bytes`, `count`.
    pub unit: String,
    /// Which way is better.
    pub direction: Direction,
    /// What it is for.
    pub role: Role,
    /// How shards combine.
    #[serde(default, skip_serializing_if = "is_pool")]
    pub shards: ShardMerge,
    /// Raw samples.
    #[serde(default)]
    pub samples: Vec<f64>,
    /// Why the suite could not measure it (no samples then). A rule on it fails with this
    /// message instead of being skipped: the suite ran, and what it should have measured is
    /// unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmeasured: Option<String>,
}

fn is_pool(m: &ShardMerge) -> bool {
    *m == ShardMerge::Pool
}

/// The unit of instruction counts, which change only with the code: compared by their ratio
/// alone, never by statistics.
pub const INSTRUCTIONS: &str = "instructions";

impl Metric {
    /// A metric with all its properties.
    pub fn new(
        name: impl Into<String>,
        unit: impl Into<String>,
        direction: Direction,
        role: Role,
        samples: Vec<f64>,
    ) -> Metric {
        Metric {
            name: name.into(),
            unit: unit.into(),
            direction,
            role,
            shards: ShardMerge::Pool,
            samples,
            unmeasured: None,
        }
    }

    /// A metric the suite should have measured and could not, with the reason and the fix.
    pub fn unmeasured(name: &str, unit: &str, direction: Direction, why: String) -> Metric {
        Metric {
            unmeasured: Some(why),
            ..Metric::new(name, unit, direction, Role::Gated, Vec::new())
        }
    }

    /// A count (one sample, unit `count`, lower is better), gated only.
    pub fn count(name: &str, value: usize) -> Metric {
        Metric::new(
            name,
            "count",
            Direction::LowerIsBetter,
            Role::Gated,
            vec![value as f64],
        )
    }

    /// A wall time in seconds: compared with baselines, and the slowest shard's in `merge`.
    pub fn wall_time(name: &str, secs: f64) -> Metric {
        Metric {
            shards: ShardMerge::Longest,
            ..Metric::new(
                name,
                "s",
                Direction::LowerIsBetter,
                Role::Compared,
                vec![secs],
            )
        }
    }
}

/// `Metric` as reports of schema 1 wrote it: without `role` and `shards`.
#[derive(Deserialize)]
struct MetricRepr {
    name: String,
    unit: String,
    direction: Direction,
    #[serde(default)]
    role: Option<Role>,
    #[serde(default)]
    shards: Option<ShardMerge>,
    #[serde(default)]
    samples: Vec<f64>,
    #[serde(default)]
    unmeasured: Option<String>,
}

impl From<MetricRepr> for Metric {
    fn from(r: MetricRepr) -> Metric {
        let role = r.role.unwrap_or_else(|| legacy_role(&r.name));
        let shards = r.shards.unwrap_or(if r.name == "tests.duration" {
            ShardMerge::Longest
        } else {
            ShardMerge::Pool
        });
        Metric {
            name: r.name,
            unit: r.unit,
            direction: r.direction,
            role,
            shards,
            samples: r.samples,
            unmeasured: r.unmeasured,
        }
    }
}

/// The role of a metric saved before roles were recorded (reports of schema 1, notes of schema
/// 1): what those versions decided from the name. Only old data is read this way.
pub fn legacy_role(name: &str) -> Role {
    let load_stat = name.starts_with("load.");
    if name.starts_with("bench.") || name == "tests.duration" {
        Role::Compared
    } else if load_stat && name.contains(".timeline.") {
        Role::Series
    } else if load_stat
        && !name.ends_with(".requests")
        && !name.ends_with(".min")
        && !name.ends_with(".max")
    {
        Role::Compared
    } else if matches!(
        name,
        "coverage.lines" | "coverage.functions" | "coverage.branches"
    ) {
        Role::Trend
    } else {
        Role::Gated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_metrics_get_the_role_their_name_had() {
        let old =
            r#"{"name":"tests.duration","unit":"s","direction":"lower_is_better","samples":[1.0]}"#;
        let m: Metric = serde_json::from_str(old).unwrap();
        assert_eq!((m.role, m.shards), (Role::Compared, ShardMerge::Longest));
        for (name, role) in [
            ("bench.parse", Role::Compared),
            ("load.api.p(95)", Role::Compared),
            ("load.api.requests", Role::Gated),
            ("load.api.timeline.rps", Role::Series),
            ("coverage.lines", Role::Trend),
            ("coverage.patch", Role::Gated),
            ("tests.failed", Role::Gated),
        ] {
            assert_eq!(legacy_role(name), role, "{name}");
        }
    }

    #[test]
    fn a_recorded_role_wins_over_the_name_and_round_trips() {
        let m = Metric::new(
            "bench.x",
            "ns",
            Direction::LowerIsBetter,
            Role::Gated,
            vec![1.0],
        );
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains(r#""role":"gated""#), "{json}");
        assert!(
            !json.contains("shards"),
            "the default is not written: {json}"
        );
        assert_eq!(serde_json::from_str::<Metric>(&json).unwrap(), m);
        let w = Metric::wall_time("tests.duration", 2.0);
        let back: Metric = serde_json::from_str(&serde_json::to_string(&w).unwrap()).unwrap();
        assert_eq!(back, w);
    }
}
