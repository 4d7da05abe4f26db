//! `[baseline]` in gate.toml: how measurements are compared with the notes.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Location, Result};

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBaseline {
    enabled: Option<bool>,
    significance: Option<f64>,
    min_effect: Option<Spanned<String>>,
    z_threshold: Option<f64>,
    min_history: Option<usize>,
    history: Option<usize>,
    max_depth: Option<usize>,
    remote: Option<String>,
    metric: Option<BTreeMap<String, RawMetricSettings>>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawMetricSettings {
    significance: Option<f64>,
    min_effect: Option<Spanned<String>>,
    z_threshold: Option<f64>,
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

fn parse_percent(v: &Spanned<String>, at: &dyn Fn(usize) -> Location) -> Result<f64> {
    let text = v.get_ref().trim();
    text.strip_suffix('%')
        .and_then(|n| n.trim().parse::<f64>().ok())
        .filter(|n| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| Error::Config {
            location: at(v.span().start + 1),
            message: format!("`{text}` is not a percentage"),
            hint: Some("write it like \"2%\"".to_string()),
        })
}

pub(crate) fn resolve(raw: &RawBaseline, at: &dyn Fn(usize) -> Location) -> Result<BaselineConfig> {
    let d = BaselineConfig::default();
    let mut settings = d.settings;
    if let Some(s) = raw.significance {
        settings.significance = s;
    }
    if let Some(m) = &raw.min_effect {
        settings.min_effect_pct = parse_percent(m, at)?;
    }
    if let Some(z) = raw.z_threshold {
        settings.z_threshold = z;
    }
    if let Some(h) = raw.min_history {
        settings.min_history = h;
    }
    let mut per_metric = BTreeMap::new();
    for (name, m) in raw.metric.iter().flatten() {
        let mut s = settings;
        if let Some(v) = m.significance {
            s.significance = v;
        }
        if let Some(v) = &m.min_effect {
            s.min_effect_pct = parse_percent(v, at)?;
        }
        if let Some(v) = m.z_threshold {
            s.z_threshold = v;
        }
        per_metric.insert(name.clone(), s);
    }
    Ok(BaselineConfig {
        enabled: raw.enabled.unwrap_or(d.enabled),
        settings,
        per_metric,
        history: raw.history.unwrap_or(d.history),
        max_depth: raw.max_depth.unwrap_or(d.max_depth),
        remote: raw.remote.clone().unwrap_or(d.remote),
    })
}
