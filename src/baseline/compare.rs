//! Deciding whether a metric changed: Mann-Whitney U on samples, z-score against history for
//! single values, and in both cases a minimum effect size so tiny-but-significant shifts on
//! quiet benchmarks do not cry wolf.

use super::stats::{log_spread, mann_whitney_p, mean, median, z_score};
use crate::model::{Comparison, Direction, Method, PerfVerdict};

/// Thresholds of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// p-value under which a difference of samples is significant.
    pub significance: f64,
    /// Smallest change, in percent, that can be a regression or improvement.
    pub min_effect_pct: f64,
    /// |z| over which a single value differs from its history.
    pub z_threshold: f64,
    /// History points needed before single values are judged.
    pub min_history: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            significance: 0.01,
            min_effect_pct: 2.0,
            z_threshold: 3.0,
            min_history: 5,
        }
    }
}

/// The least run-to-run noise assumed (0.1 %): a history of identical values does not make
/// every later change significant.
const MIN_NOISE: f64 = 0.001;

/// What is known about one metric.
pub struct Input<'a> {
    /// Name.
    pub metric: &'a str,
    /// Unit.
    pub unit: &'a str,
    /// Which way is better.
    pub direction: Direction,
    /// Current samples (`None`: not measured now).
    pub current: Option<&'a [f64]>,
    /// Baseline samples and the commit they come from.
    pub baseline: Option<(&'a [f64], &'a str)>,
    /// Central values of earlier commits, oldest first (the baseline's included).
    pub history: &'a [f64],
}

fn central(samples: &[f64]) -> f64 {
    if samples.len() >= 2 {
        median(samples)
    } else {
        mean(samples)
    }
}

/// Compares one metric.
pub fn compare(input: &Input<'_>, settings: &Settings) -> Comparison {
    let mut c = Comparison {
        metric: input.metric.to_string(),
        unit: input.unit.to_string(),
        direction: input.direction,
        baseline: None,
        current: None,
        delta_pct: None,
        p_value: None,
        z: None,
        method: Method::None,
        verdict: PerfVerdict::Unchanged,
        baseline_rev: input.baseline.map(|(_, rev)| rev.to_string()),
        history: input.history.to_vec(),
        history_machine: None,
        history_revs: Vec::new(),
        noise_pct: None,
        detectable_pct: None,
        interval_pct: None,
        inconclusive: false,
        unasked: false,
    };
    let current = input.current.filter(|s| !s.is_empty());
    let baseline = input.baseline.map(|(s, _)| s).filter(|s| !s.is_empty());
    let (cur, base) = match (current, baseline) {
        (None, _) => {
            c.verdict = PerfVerdict::Missing;
            c.baseline = baseline.map(central);
            return c;
        }
        (Some(cur), None) => {
            c.verdict = PerfVerdict::New;
            c.current = Some(central(cur));
            return c;
        }
        (Some(cur), Some(base)) => (cur, base),
    };
    let (cv, bv) = (central(cur), central(base));
    c.current = Some(cv);
    c.baseline = Some(bv);
    let mut delta = if bv != 0.0 {
        (cv - bv) / bv.abs() * 100.0
    } else {
        0.0
    };
    let spread = (input.history.len() >= settings.min_history)
        .then(|| log_spread(input.history))
        .flatten();
    let significant = if input.unit == crate::model::INSTRUCTIONS {
        // The same code executes the same instructions on any machine: no noise to tell a
        // change from.
        c.method = Method::Counts;
        true
    } else if let Some((center, sd)) = spread
        && cv > 0.0
    {
        // Run-level values against run-level values: samples within one run share its
        // machine, so comparing them with another run's samples measures the machines. The
        // spread of earlier runs' values is what two runs of the same code differ by.
        c.method = Method::History;
        let n = input.history.len() as f64;
        // MAD from few runs underestimates the spread; widen it (about 10 % at 30 runs).
        let sd = (sd * (1.0 + 3.0 / n)).max(MIN_NOISE);
        let typical = center.exp();
        c.baseline = Some(typical);
        delta = (cv / typical - 1.0) * 100.0;
        let z = (cv.ln() - center) / sd;
        c.z = Some(z);
        c.noise_pct = Some(sd.exp_m1() * 100.0);
        c.detectable_pct =
            Some(((settings.z_threshold * sd).exp_m1() * 100.0).max(settings.min_effect_pct));
        z.abs() > settings.z_threshold
    } else if cur.len() >= 2 && base.len() >= 2 {
        c.method = Method::MannWhitney;
        c.p_value = mann_whitney_p(cur, base);
        c.p_value.is_some_and(|p| p < settings.significance)
    } else if input.history.len() >= settings.min_history {
        c.method = Method::ZScore;
        c.z = z_score(cv, input.history);
        c.z.is_some_and(|z| z.abs() > settings.z_threshold)
    } else {
        c.method = Method::InsufficientHistory;
        false
    };
    decide(&mut c, delta, significant, settings.min_effect_pct);
    c
}

/// The verdict from the change and whether it is significant: regressed or improved (by the
/// metric's direction) when significant and at least `min_effect_pct`; "too noisy to tell"
/// when that large but not significant.
fn decide(c: &mut Comparison, delta: f64, significant: bool, min_effect_pct: f64) {
    c.delta_pct = Some(delta);
    let matters = delta.abs() >= min_effect_pct;
    c.inconclusive = !significant && matters;
    if significant && matters {
        let worse = match c.direction {
            Direction::LowerIsBetter => delta > 0.0,
            Direction::HigherIsBetter => delta < 0.0,
        };
        c.verdict = if worse {
            PerfVerdict::Regressed
        } else {
            PerfVerdict::Improved
        };
    }
}

/// Bootstrap resamples for the paired interval: enough for a stable 2.5 % quantile.
const RESAMPLES: usize = 2000;

/// A paired A/B comparison: `base[i]` and `current[i]` were measured in the same round. The
/// change is the median of the per-round ratios, with a 99 % bootstrap confidence interval;
/// regressed or improved only when the interval excludes no change and the change is at least
/// `min_effect_pct`. Drift and noisy neighbours hit both sides of a round alike, so they cancel in
/// the ratio instead of showing as a change.
pub fn compare_paired(
    metric: &str,
    unit: &str,
    direction: Direction,
    base: &[f64],
    current: &[f64],
    rev: &str,
    min_effect_pct: f64,
) -> Comparison {
    let logs: Vec<f64> = base
        .iter()
        .zip(current)
        .filter(|(b, c)| **b > 0.0 && **c > 0.0 && b.is_finite() && c.is_finite())
        .map(|(b, c)| (c / b).ln())
        .collect();
    let mut c = Comparison {
        metric: metric.to_string(),
        unit: unit.to_string(),
        direction,
        baseline: (!base.is_empty()).then(|| median(base)),
        current: (!current.is_empty()).then(|| median(current)),
        delta_pct: None,
        p_value: None,
        z: None,
        method: Method::Paired,
        verdict: PerfVerdict::Unchanged,
        baseline_rev: Some(rev.to_string()),
        history: Vec::new(),
        history_machine: None,
        history_revs: Vec::new(),
        noise_pct: None,
        detectable_pct: None,
        interval_pct: None,
        inconclusive: false,
        unasked: false,
    };
    if logs.len() < 3 {
        c.method = Method::InsufficientHistory;
        return c;
    }
    let center = median(&logs);
    // Seeded by the metric, so the same measurements always give the same interval.
    let seed = metric.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut rng = super::stats::Rng::new(seed);
    let mut medians: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let pick: Vec<f64> = (0..logs.len())
                .map(|_| logs[((rng.uniform() * logs.len() as f64) as usize).min(logs.len() - 1)])
                .collect();
            median(&pick)
        })
        .collect();
    medians.sort_by(f64::total_cmp);
    let (lo, hi) = (
        super::stats::quantile(&medians, 0.005),
        super::stats::quantile(&medians, 0.995),
    );
    let pct = |l: f64| l.exp_m1() * 100.0;
    let delta = pct(center);
    c.interval_pct = Some([pct(lo), pct(hi)]);
    let deviations: Vec<f64> = logs.iter().map(|l| (l - center).abs()).collect();
    c.noise_pct = Some(pct(1.4826 * median(&deviations)));
    c.detectable_pct = Some(((pct(hi) - pct(lo)) / 2.0).max(min_effect_pct));
    decide(&mut c, delta, lo > 0.0 || hi < 0.0, min_effect_pct);
    c
}

/// How much worse a comparison is, in percent (0 when it is not a regression).
pub fn regression_pct(c: &Comparison) -> f64 {
    match (c.verdict, c.delta_pct) {
        (PerfVerdict::Regressed, Some(d)) => d.abs(),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::super::stats::Rng;
    use super::*;

    fn samples(rng: &mut Rng, n: usize, center: f64, noise: f64) -> Vec<f64> {
        (0..n)
            .map(|_| center * (1.0 + noise * rng.normal()))
            .collect()
    }

    fn input<'a>(cur: &'a [f64], base: &'a [f64], history: &'a [f64]) -> Input<'a> {
        Input {
            metric: "bench.x",
            unit: "ns",
            direction: Direction::LowerIsBetter,
            current: Some(cur),
            baseline: Some((base, "abc")),
            history,
        }
    }

    /// Rates of `regressed` verdicts over 1 000 seeded trials with 3 % noise and 30 samples per
    /// side, for our method and for github-action-benchmark's fixed 105 % ratio on single values.
    fn rates(slowdown: f64) -> (f64, f64) {
        let mut rng = Rng::new(2026);
        let trials = 1000;
        let (mut ours, mut ratio) = (0, 0);
        for _ in 0..trials {
            let base = samples(&mut rng, 30, 100.0, 0.03);
            let cur = samples(&mut rng, 30, 100.0 * (1.0 + slowdown), 0.03);
            if compare(&input(&cur, &base, &[]), &Settings::default()).verdict
                == PerfVerdict::Regressed
            {
                ours += 1;
            }
            // One value per commit, alert when current / baseline > 105 %.
            if cur[0] / base[0] > 1.05 {
                ratio += 1;
            }
        }
        (
            f64::from(ours) / f64::from(trials),
            f64::from(ratio) / f64::from(trials),
        )
    }

    #[test]
    fn a_a_comparisons_rarely_cry_wolf() {
        let (ours, ratio) = rates(0.0);
        eprintln!(
            "A/A false alarms: ours {:.1} %, 105 % ratio {:.1} %",
            ours * 100.0,
            ratio * 100.0
        );
        assert!(ours < 0.01, "false alarm rate {ours}");
        assert!(
            (0.08..0.16).contains(&ratio),
            "ratio method false alarms {ratio}"
        );
    }

    #[test]
    fn a_five_percent_slowdown_is_found() {
        let (ours, ratio) = rates(0.05);
        eprintln!(
            "5 % slowdown detected: ours {:.1} %, 105 % ratio {:.1} %",
            ours * 100.0,
            ratio * 100.0
        );
        assert!(ours >= 0.95, "detection rate {ours}");
        assert!(
            (0.40..0.60).contains(&ratio),
            "ratio method detection {ratio}"
        );
    }

    #[test]
    fn tiny_significant_shifts_are_unchanged() {
        let mut rng = Rng::new(1);
        let base = samples(&mut rng, 200, 100.0, 0.001);
        let cur = samples(&mut rng, 200, 101.0, 0.001);
        let c = compare(&input(&cur, &base, &[]), &Settings::default());
        assert!(c.p_value.unwrap() < 1e-6, "significant");
        assert_eq!(
            c.verdict,
            PerfVerdict::Unchanged,
            "but 1 % is under the 2 % minimum effect"
        );
        assert!((c.delta_pct.unwrap() - 1.0).abs() < 0.1);
    }

    #[test]
    fn direction_decides_regressed_or_improved() {
        let mut rng = Rng::new(3);
        let base = samples(&mut rng, 30, 100.0, 0.01);
        let faster = samples(&mut rng, 30, 80.0, 0.01);
        let mut i = input(&faster, &base, &[]);
        assert_eq!(
            compare(&i, &Settings::default()).verdict,
            PerfVerdict::Improved
        );
        i.direction = Direction::HigherIsBetter;
        let c = compare(&i, &Settings::default());
        assert_eq!(c.verdict, PerfVerdict::Regressed);
        assert!((regression_pct(&c) - 20.0).abs() < 2.0);
    }

    #[test]
    fn single_values_use_the_history() {
        let history = [100.0, 101.0, 99.0, 100.5, 99.5, 100.0];
        let c = compare(&input(&[110.0], &[100.0], &history), &Settings::default());
        assert_eq!(c.method, Method::History);
        assert_eq!(c.verdict, PerfVerdict::Regressed);
        let c = compare(&input(&[100.8], &[100.0], &history), &Settings::default());
        assert_eq!(c.verdict, PerfVerdict::Unchanged);
        let c = compare(
            &input(&[150.0], &[100.0], &history[..2]),
            &Settings::default(),
        );
        assert_eq!(
            (c.method, c.verdict),
            (Method::InsufficientHistory, PerfVerdict::Unchanged)
        );
    }

    #[test]
    fn one_outlier_note_cannot_mask_a_regression() {
        let mut history = vec![1.0; 20];
        history[7] = 1000.0;
        let c = compare(
            &input(&[3.0, 3.1, 2.9], &[1.0], &history),
            &Settings::default(),
        );
        assert_eq!(
            (c.method, c.verdict),
            (Method::History, PerfVerdict::Regressed)
        );
        assert!((c.delta_pct.unwrap() - 200.0).abs() < 1.0, "{c:?}");
    }

    /// Each run on its own machine: a run-level speed factor with a 2.66 % spread (CodSpeed's
    /// figure for GitHub-hosted runners) and 1 % noise within the run. Comparing samples with
    /// samples would call about half of unchanged commits changed; against the history's
    /// spread, under 1 % are, and the comparison says what it could have seen.
    #[test]
    fn machine_to_machine_noise_is_not_a_regression() {
        let mut rng = Rng::new(42);
        let run = |rng: &mut Rng, speed: f64| {
            let machine = 1.0 + 0.0266 * rng.normal();
            samples(rng, 10, 100.0 * speed * machine, 0.01)
        };
        let (trials, mut alarms, mut found) = (1000, 0, 0);
        let mut detectable = Vec::new();
        for _ in 0..trials {
            let history: Vec<f64> = (0..30).map(|_| median(&run(&mut rng, 1.0))).collect();
            let base = run(&mut rng, 1.0);
            let same = compare(
                &input(&run(&mut rng, 1.0), &base, &history),
                &Settings::default(),
            );
            alarms += usize::from(same.verdict != PerfVerdict::Unchanged);
            detectable.push(same.detectable_pct.unwrap());
            let slower = compare(
                &input(&run(&mut rng, 1.15), &base, &history),
                &Settings::default(),
            );
            found += usize::from(slower.verdict == PerfVerdict::Regressed);
        }
        let rate = alarms as f64 / trials as f64;
        assert!(rate < 0.01, "false alarms {rate}");
        assert!(
            found as f64 / trials as f64 > 0.90,
            "15 % slowdowns found: {found}"
        );
        // 3 robust standard deviations of a 2.7 % spread (machine and the median's own noise).
        let d = median(&detectable);
        assert!((7.0..11.0).contains(&d), "detectable change {d} %");
    }

    /// Paired rounds on a machine whose speed changes by 2.66 % from job to job and drifts
    /// within the job, 1 % noise per sample, 20 rounds: the ratio cancels the machine. A/A
    /// stays unchanged, 2 % and 5 % slowdowns are found.
    #[test]
    fn paired_rounds_cancel_the_machine() {
        let mut rng = Rng::new(7);
        let job = |rng: &mut Rng, speed: f64| {
            let machine = 1.0 + 0.0266 * rng.normal();
            let (mut base, mut cur) = (Vec::new(), Vec::new());
            for round in 0..20 {
                let drift = 1.0 + 0.002 * f64::from(round);
                base.push(100.0 * machine * drift * (1.0 + 0.01 * rng.normal()));
                cur.push(100.0 * speed * machine * drift * (1.0 + 0.01 * rng.normal()));
            }
            compare_paired(
                "bench.x",
                "ns",
                Direction::LowerIsBetter,
                &base,
                &cur,
                "main",
                1.0,
            )
        };
        let trials = 300;
        // The share of jobs at `speed` with verdict `v`.
        let rate = |rng: &mut Rng, speed: f64, v: PerfVerdict| {
            (0..trials).filter(|_| job(rng, speed).verdict == v).count() as f64 / trials as f64
        };
        let alarms = 1.0 - rate(&mut rng, 1.0, PerfVerdict::Unchanged);
        assert!(alarms < 0.01, "A/A flagged {alarms}");
        let five = rate(&mut rng, 1.05, PerfVerdict::Regressed);
        assert!(five >= 0.95, "5 % found {five}");
        let two = rate(&mut rng, 1.02, PerfVerdict::Regressed);
        assert!(two >= 0.80, "2 % found {two}");
        let c = job(&mut rng, 1.05);
        let [lo, hi] = c.interval_pct.unwrap();
        assert!(
            lo < c.delta_pct.unwrap() && c.delta_pct.unwrap() < hi,
            "{c:?}"
        );
        assert_eq!(c.method, Method::Paired);
    }

    #[test]
    fn new_and_missing_metrics() {
        let mut i = input(&[1.0], &[], &[]);
        i.baseline = None;
        assert_eq!(compare(&i, &Settings::default()).verdict, PerfVerdict::New);
        let mut i = input(&[], &[1.0, 2.0], &[]);
        i.current = None;
        let c = compare(&i, &Settings::default());
        assert_eq!((c.verdict, c.baseline), (PerfVerdict::Missing, Some(1.5)));
    }
}
