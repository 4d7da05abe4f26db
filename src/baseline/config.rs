//! `[baseline]` in gate.toml: how measurements are compared with the notes.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::error::Result;

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBaseline {
    enabled: Option<bool>,
    significance: Option<Spanned<f64>>,
    min_effect: Option<Spanned<String>>,
    z_threshold: Option<Spanned<f64>>,
    min_history: Option<Spanned<u64>>,
    history: Option<Spanned<u64>>,
    max_depth: Option<Spanned<u64>>,
    remote: Option<String>,
    metric: Option<BTreeMap<String, RawMetricSettings>>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawMetricSettings {
    significance: Option<Spanned<f64>>,
    min_effect: Option<Spanned<String>>,
    z_threshold: Option<Spanned<f64>>,
}

// The ranges in which the statistics mean something: a significance level is a probability
// below 1 (0.05 is usual); a z threshold of 0 flags everything, NaN flags nothing.
const SIGNIFICANCE: (f64, f64) = (1e-9, 0.5);
const Z_THRESHOLD: (f64, f64) = (0.1, 100.0);

fn significance(at: crate::util::spans::At<'_>, v: &Spanned<f64>) -> Result<f64> {
    crate::util::spans::number_in(
        at,
        v,
        "significance",
        SIGNIFICANCE,
        "a significance level is a probability such as 0.05 or 0.01",
    )
}

fn z_threshold(at: crate::util::spans::At<'_>, v: &Spanned<f64>) -> Result<f64> {
    crate::util::spans::number_in(
        at,
        v,
        "z_threshold",
        Z_THRESHOLD,
        "a z threshold is a number of standard deviations, such as 3",
    )
}

/// Settings of baseline comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineConfig {
    /// Compare with baselines during `run`.
    pub enabled: bool,
    /// Defaults for every metric.
    pub settings: crate::baseline::compare::Settings,
    /// Overrides by exact metric name.
    pub per_metric: BTreeMap<String, crate::baseline::compare::Settings>,
    /// Notes read for history and z-scores.
    pub history: usize,
    /// Commits walked back from the base to find a baseline.
    pub max_depth: usize,
    /// Remote for `baseline fetch` / `push`.
    pub remote: String,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            enabled: true,
            settings: crate::baseline::compare::Settings::default(),
            per_metric: BTreeMap::new(),
            history: 30,
            max_depth: 100,
            remote: "origin".to_string(),
        }
    }
}

impl BaselineConfig {
    /// The settings for one metric.
    pub fn settings_for(&self, metric: &str) -> crate::baseline::compare::Settings {
        self.per_metric
            .get(metric)
            .copied()
            .unwrap_or(self.settings)
    }
}

fn parse_percent(v: &Spanned<String>, at: crate::util::spans::At<'_>) -> Result<f64> {
    crate::util::spans::percent(at, v, f64::INFINITY, "2%")
}

pub(crate) fn resolve(raw: &RawBaseline, at: crate::util::spans::At<'_>) -> Result<BaselineConfig> {
    let d = BaselineConfig::default();
    let mut settings = d.settings;
    let count = |v: &Spanned<u64>, name: &str, range: (u64, u64)| {
        crate::util::spans::count_in(
            at,
            v,
            name,
            range,
            &format!("set {name} from {} to {}", range.0, range.1),
        )
    };
    if let Some(s) = &raw.significance {
        settings.significance = significance(at, s)?;
    }
    if let Some(m) = &raw.min_effect {
        settings.min_effect_pct = parse_percent(m, at)?;
    }
    if let Some(z) = &raw.z_threshold {
        settings.z_threshold = z_threshold(at, z)?;
    }
    if let Some(h) = &raw.min_history {
        settings.min_history = count(h, "min_history", (2, 10_000))? as usize;
    }
    let history = match &raw.history {
        Some(h) => count(h, "history", (1, 10_000))? as usize,
        None => d.history,
    };
    let max_depth = match &raw.max_depth {
        Some(m) => count(m, "max_depth", (1, 1_000_000))? as usize,
        None => d.max_depth,
    };
    let mut per_metric = BTreeMap::new();
    for (name, m) in raw.metric.iter().flatten() {
        let mut s = settings;
        if let Some(v) = &m.significance {
            s.significance = significance(at, v)?;
        }
        if let Some(v) = &m.min_effect {
            s.min_effect_pct = parse_percent(v, at)?;
        }
        if let Some(v) = &m.z_threshold {
            s.z_threshold = z_threshold(at, v)?;
        }
        per_metric.insert(name.clone(), s);
    }
    Ok(BaselineConfig {
        enabled: raw.enabled.unwrap_or(d.enabled),
        settings,
        per_metric,
        history,
        max_depth,
        remote: raw.remote.clone().unwrap_or(d.remote),
    })
}
