//! Performance in the report: paired A/B samples measured in one job, and each metric's
//! comparison with its baseline (how it was decided, the verdict, the noise it saw).

use serde::{Deserialize, Serialize};

use super::metric::Direction;

/// One benchmark measured on both sides, round by round: `base[i]` and `current[i]` ran in the
/// same round, back to back, so they shared the machine's state at that time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PairedSamples {
    /// Metric name (`bench.NAME`).
    pub metric: String,
    /// Unit of the samples.
    pub unit: String,
    /// Which way is better (reports written before this field: lower).
    #[serde(default = "lower_is_better")]
    pub direction: Direction,
    /// The revision measured as the base, as given.
    pub rev: String,
    /// The base's sample of each round.
    pub base: Vec<f64>,
    /// This checkout's sample of each round.
    pub current: Vec<f64>,
}

/// What a comparison concluded.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PerfVerdict {
    /// Significantly worse, by at least the minimum effect.
    Regressed,
    /// Significantly better, by at least the minimum effect.
    Improved,
    /// No significant change of at least the minimum effect.
    Unchanged,
    /// Measured now, not in the baseline.
    New,
    /// In the baseline, not measured now.
    Missing,
}

/// How a comparison reached its conclusion.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Nothing to compare (new or missing metric).
    None,
    /// Mann-Whitney U test on the samples of both sides.
    MannWhitney,
    /// z-score of a single value against the history.
    ZScore,
    /// Too little history to decide.
    InsufficientHistory,
    /// This run's value against the spread of earlier runs' values (median and MAD of their
    /// logarithms): a shift within the usual run-to-run (machine-to-machine) spread is no change.
    History,
    /// Both revisions measured in the same job, interleaved round by round; the per-round
    /// ratios decide (their median and a bootstrap confidence interval).
    Paired,
    /// Counts (instructions executed) that change only with the code: the ratio alone decides.
    Counts,
}

/// One metric compared with its baseline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Comparison {
    /// Metric name.
    pub metric: String,
    /// Unit.
    pub unit: String,
    /// Which way is better.
    pub direction: Direction,
    /// The baseline's central value (median of samples, or the single value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// The current central value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<f64>,
    /// Change in percent of the baseline (positive: larger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_pct: Option<f64>,
    /// Mann-Whitney p-value, when both sides have samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// z-score against the history, for single values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z: Option<f64>,
    /// How the conclusion was reached.
    pub method: Method,
    /// The conclusion.
    pub verdict: PerfVerdict,
    /// The commit the baseline came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_rev: Option<String>,
    /// Central values along first-parent history, oldest first (for sparklines and charts).
    #[serde(default)]
    pub history: Vec<f64>,
    /// The (short) commit of each `history` value, in the same order, for chart labels; empty
    /// in reports written before it was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history_revs: Vec<String>,
    /// The machine class the history was taken from, when it was narrowed to the run's own
    /// (enough runs of that class); `None`: runs of every machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_machine: Option<String>,
    /// The run-to-run noise the comparison saw, in percent (one robust standard deviation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_pct: Option<f64>,
    /// The smallest change, in percent, this comparison could tell from that noise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detectable_pct: Option<f64>,
    /// The 95 % confidence interval of the change, in percent (paired comparisons).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_pct: Option<[f64; 2]>,
    /// The change is as large as one that matters, but the noise does not allow a verdict
    /// ("too noisy to tell"); the verdict is then `unchanged`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inconclusive: bool,
    /// Recorded for the notes' trend, but nothing asked to see it: no rule reads the metric,
    /// its suite is not one the user configured for measuring (bench, load), and gate.toml has
    /// no `[baseline.metric]` table for it. Summaries and comments leave it out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unasked: bool,
}

fn lower_is_better() -> Direction {
    Direction::LowerIsBetter
}
