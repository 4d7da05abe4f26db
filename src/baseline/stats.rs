//! Statistics for comparing measurements: summaries, the Mann-Whitney U test and z-scores.
//! Pure functions.

/// Arithmetic mean (`NaN` for no values).
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.iter().sum::<f64>() / v.len() as f64
}

/// Sample standard deviation (`NaN` for fewer than two values).
pub fn std_dev(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return f64::NAN;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// The `q`-quantile (0..=1) by linear interpolation (`NaN` for no values).
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (s.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

/// The median.
pub fn median(v: &[f64]) -> f64 {
    quantile(v, 0.5)
}

/// Complementary error function (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Two-sided p-value of the Mann-Whitney U test (normal approximation with tie and continuity
/// corrections). `None` when either side has fewer than 2 values or every value is tied.
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> Option<f64> {
    let (n1, n2) = (a.len(), b.len());
    if n1 < 2 || n2 < 2 {
        return None;
    }
    let mut all: Vec<(f64, usize)> = a
        .iter()
        .map(|&x| (x, 0))
        .chain(b.iter().map(|&x| (x, 1)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = all.len();
    let mut ranks = vec![0.0; n];
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for r in ranks.iter_mut().take(j + 1).skip(i) {
            *r = rank;
        }
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    let r1: f64 = all
        .iter()
        .zip(&ranks)
        .filter(|((_, g), _)| *g == 0)
        .map(|(_, r)| r)
        .sum();
    let (n1f, n2f, nf) = (n1 as f64, n2 as f64, n as f64);
    let u1 = r1 - n1f * (n1f + 1.0) / 2.0;
    let mu = n1f * n2f / 2.0;
    let var = n1f * n2f / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    if var <= 0.0 {
        return None;
    }
    let z = ((u1 - mu).abs() - 0.5).max(0.0) / var.sqrt();
    Some(erfc(z / std::f64::consts::SQRT_2).min(1.0))
}

/// How many standard deviations `value` is from the history's mean (`None` with fewer than
/// three points or no spread).
pub fn z_score(value: f64, history: &[f64]) -> Option<f64> {
    if history.len() < 3 {
        return None;
    }
    let sd = std_dev(history);
    if sd.is_nan() || sd <= 0.0 {
        return None;
    }
    Some((value - mean(history)) / sd)
}

/// The robust spread of `v` in its logarithms: `(median, 1.4826 × MAD)` of `ln v`, i.e. the
/// typical value and the relative standard deviation a normal spread would have, unmoved by a
/// few outliers. `None` unless every value is positive and there are at least three.
pub fn log_spread(v: &[f64]) -> Option<(f64, f64)> {
    if v.len() < 3 || v.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
        return None;
    }
    let logs: Vec<f64> = v.iter().map(|x| x.ln()).collect();
    let m = median(&logs);
    let deviations: Vec<f64> = logs.iter().map(|l| (l - m).abs()).collect();
    Some((m, 1.4826 * median(&deviations)))
}

/// A small deterministic PRNG with normal deviates, for reproducible statistics tests and
/// benchmark data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(mean(&v), 2.5);
        assert_eq!(median(&v), 2.5);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert!((std_dev(&v) - 1.290_994).abs() < 1e-6);
        assert!(mean(&[]).is_nan() && std_dev(&[1.0]).is_nan());
    }

    #[test]
    fn erfc_matches_known_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_2).abs() < 1e-6);
        assert!((erfc(-1.0) - 1.842_700_8).abs() < 1e-6);
    }

    #[test]
    fn mann_whitney_separates_shifted_samples() {
        let a: Vec<f64> = (0..20).map(f64::from).collect();
        let b: Vec<f64> = (10..30).map(f64::from).collect();
        let p = mann_whitney_p(&a, &b).unwrap();
        assert!(p < 0.01, "p = {p}");
        let same = mann_whitney_p(&a, &a).unwrap();
        assert!(same > 0.9, "p = {same}");
        assert_eq!(mann_whitney_p(&[1.0], &a), None);
        assert_eq!(mann_whitney_p(&[1.0, 1.0], &[1.0, 1.0]), None);
    }

    #[test]
    fn rng_is_deterministic_and_roughly_normal() {
        let mut r = Rng::new(7);
        let v: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
        assert!(mean(&v).abs() < 0.03);
        assert!((std_dev(&v) - 1.0).abs() < 0.03);
        assert_eq!(Rng::new(7).uniform(), Rng::new(7).uniform());
    }

    #[test]
    fn z_scores() {
        assert_eq!(z_score(5.0, &[1.0, 2.0]), None);
        assert_eq!(z_score(5.0, &[2.0, 2.0, 2.0]), None);
        assert!((z_score(4.0, &[1.0, 2.0, 3.0]).unwrap() - 2.0).abs() < 1e-9);
    }
}
