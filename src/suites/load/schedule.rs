//! The open-loop timeline: when each request is due, stage by stage (a constant rate, or a
//! linear ramp from the previous stage's rate), computed one request at a time so a long run
//! at a high rate is never held in memory. Pure.

use std::time::Duration;

/// The intended send times (offsets from the start) of an open-loop schedule.
pub fn schedule(start_rate: f64, stages: &[(Duration, f64)]) -> Vec<Duration> {
    Schedule::new(start_rate, stages).collect()
}

/// How many requests [`Schedule`] yields, without listing them.
pub fn planned(start_rate: f64, stages: &[(Duration, f64)]) -> u64 {
    let mut from = start_rate;
    let mut n = 0u64;
    for (d, to) in stages {
        n = n.saturating_add(stage_total(from, *to, d.as_secs_f64()));
        from = *to;
    }
    n
}

/// Requests of one stage ramping `from` → `to` over `len` seconds.
fn stage_total(from: f64, to: f64, len: f64) -> u64 {
    // Float to int saturates; rates and lengths are validated finite by the config.
    ((from + to) / 2.0 * len + 1e-9).floor().max(0.0) as u64
}

/// The open-loop timeline, one intended send time at a time: a long run at a high rate is
/// never held in memory as a whole.
pub struct Schedule {
    stages: Vec<(Duration, f64)>,
    stage: usize,
    from: f64,
    stage_start: f64,
    k: u64,
    total: u64,
}

impl Schedule {
    /// The schedule of `stages`, starting at `start_rate`.
    pub fn new(start_rate: f64, stages: &[(Duration, f64)]) -> Schedule {
        let mut s = Schedule {
            stages: stages.to_vec(),
            stage: 0,
            from: start_rate,
            stage_start: 0.0,
            k: 0,
            total: 0,
        };
        s.total = s.current_total();
        s
    }

    fn current_total(&self) -> u64 {
        self.stages
            .get(self.stage)
            .map_or(0, |(d, to)| stage_total(self.from, *to, d.as_secs_f64()))
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        loop {
            let (d, to) = *self.stages.get(self.stage)?;
            let len = d.as_secs_f64();
            if self.k < self.total {
                // Requests due by time t into the stage: N(t) = from*t + (to-from)*t²/(2*len).
                // The k-th is due when k are done: the first at the start, the last one
                // period before the end, so every request falls inside its second.
                let n = self.k as f64;
                let from = self.from;
                let t = if (to - from).abs() < 1e-9 {
                    n / from.max(1e-9)
                } else {
                    let a = (to - from) / (2.0 * len);
                    (-from + (from * from + 4.0 * a * n).max(0.0).sqrt()) / (2.0 * a)
                };
                self.k += 1;
                return Some(Duration::from_secs_f64(
                    self.stage_start + t.clamp(0.0, len),
                ));
            }
            self.stage_start += len;
            self.from = to;
            self.stage += 1;
            self.k = 0;
            self.total = self.current_total();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_schedules_are_evenly_spaced() {
        let s = schedule(100.0, &[(Duration::from_secs(2), 100.0)]);
        assert_eq!(s.len(), 200);
        assert_eq!(s[0], Duration::ZERO);
        assert!((s[199].as_secs_f64() - 1.99).abs() < 1e-9);
    }

    #[test]
    fn ramps_grow_linearly() {
        // 0 → 100 rps over 2 s: 100 requests, denser at the end.
        let s = schedule(0.0, &[(Duration::from_secs(2), 100.0)]);
        assert_eq!(s.len(), 100);
        let first_half = s.iter().filter(|t| t.as_secs_f64() <= 1.0).count();
        assert!((20..30).contains(&first_half), "{first_half}");
        assert!(s.windows(2).all(|w| w[0] <= w[1]));
        let two = schedule(
            10.0,
            &[
                (Duration::from_secs(1), 10.0),
                (Duration::from_secs(1), 30.0),
            ],
        );
        assert_eq!(two.len(), 30);
    }

    #[test]
    fn the_schedule_is_lazy_and_its_size_known_in_advance() {
        let stages = [
            (Duration::from_secs(3), 1e6),
            (Duration::from_secs(3600), 1e6),
        ];
        assert_eq!(planned(0.0, &stages), 1_500_000 + 3_600_000_000);
        // Taking the first requests of a huge schedule does not build the rest.
        let first: Vec<Duration> = Schedule::new(0.0, &stages).take(3).collect();
        assert_eq!(first.len(), 3);
        for (start, stages) in [
            (100.0, vec![(Duration::from_secs(2), 100.0)]),
            (0.0, vec![(Duration::from_secs(2), 100.0)]),
            (
                10.0,
                vec![
                    (Duration::from_secs(1), 10.0),
                    (Duration::from_secs(1), 30.0),
                ],
            ),
        ] {
            assert_eq!(
                schedule(start, &stages).len() as u64,
                planned(start, &stages)
            );
        }
    }
}
