//! The per-second series of a load run, in memory that does not grow with its length.
//!
//! A request counts in the second it was due (open model) or sent (closed model), and is
//! recorded when it ends, at most two timeouts later. So only the last few seconds can still
//! change: they keep a histogram each (for their 95th percentile), and once no request can land
//! in a second any more it is closed into three numbers and its histogram reused for a new one.
//! A thirty-minute run keeps 1 800 small ticks and a handful of histograms, where one histogram
//! per connection per second needed 180 KB each (20 GB at 64 connections).

use std::collections::VecDeque;

use hdrhistogram::Histogram;

/// One second of the measured phase.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tick {
    /// Requests due in this second (the schedule; sent or not).
    pub requests: u64,
    /// Of which were answered (any status): the second's throughput.
    pub completed: u64,
    /// Of which errors.
    pub errors: u64,
    /// 95th percentile latency in ms.
    pub p95_ms: f64,
}

/// A second that may still get requests.
struct Open {
    hist: Histogram<u64>,
    tick: Tick,
}

/// The series being recorded.
#[derive(Default)]
pub struct Timeline {
    /// Seconds closed, from the first.
    closed: Vec<Tick>,
    /// Seconds from `closed.len()` on.
    open: VecDeque<Open>,
    /// Histograms of closed seconds, cleared, for the next ones.
    spare: Vec<Histogram<u64>>,
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 1 hour with 2 significant digits (a chart's percentile): 26 KB, where 3 digits
    // take 180 KB. The bounds are constants, so this cannot fail.
    Histogram::new_with_bounds(1, 3_600_000_000, 2)
        .unwrap_or_else(|_| Histogram::new(2).unwrap_or_else(|_| unreachable!()))
}

impl Timeline {
    /// Records one request of `second`: its latency in µs, whether it failed, and whether it
    /// was answered.
    pub fn record(&mut self, second: usize, us: u64, error: bool, completed: bool) {
        if let Some(t) = self.closed.get_mut(second) {
            // Later than the bound said (the clock, a stall): counted, percentile unchanged.
            Self::count(t, error, completed);
            return;
        }
        let index = second - self.closed.len();
        while self.open.len() <= index {
            let hist = self.spare.pop().unwrap_or_else(histogram);
            self.open.push_back(Open {
                hist,
                tick: Tick::default(),
            });
        }
        let open = &mut self.open[index];
        open.hist.saturating_record(us);
        Self::count(&mut open.tick, error, completed);
    }

    fn count(t: &mut Tick, error: bool, completed: bool) {
        t.requests += 1;
        t.errors += u64::from(error);
        t.completed += u64::from(completed);
    }

    /// Closes every second before `second`: no request can be recorded in them any more.
    pub fn close_before(&mut self, second: usize) {
        while self.closed.len() < second {
            match self.open.pop_front() {
                Some(mut open) => {
                    if !open.hist.is_empty() {
                        open.tick.p95_ms = open.hist.value_at_quantile(0.95) as f64 / 1000.0;
                    }
                    open.hist.reset();
                    self.spare.push(open.hist);
                    self.closed.push(open.tick);
                }
                // A second nothing was recorded in.
                None => self.closed.push(Tick::default()),
            }
        }
    }

    /// Histograms held now (open seconds and spares): what the memory bound is about.
    #[cfg(test)]
    fn histograms(&self) -> usize {
        self.open.len() + self.spare.len()
    }

    /// Every second, in order, the open ones closed.
    pub fn finish(mut self) -> Vec<Tick> {
        let end = self.closed.len() + self.open.len();
        self.close_before(end);
        self.closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_close_into_ticks_and_reuse_their_histograms() {
        let mut t = Timeline::default();
        for second in 0..600 {
            for ms in 1..=100u64 {
                t.record(second, ms * 1000, ms > 98, ms <= 99);
            }
            // Seconds more than 20 behind can get no more requests.
            t.close_before(second.saturating_sub(20));
            assert!(
                t.histograms() <= 23,
                "{} histograms at {second}",
                t.histograms()
            );
        }
        let ticks = t.finish();
        assert_eq!(ticks.len(), 600);
        for tick in &ticks {
            assert_eq!((tick.requests, tick.completed, tick.errors), (100, 99, 2));
            assert!((94.0..=96.5).contains(&tick.p95_ms), "{tick:?}");
        }
    }

    #[test]
    fn late_and_sparse_requests_are_counted() {
        let mut t = Timeline::default();
        t.record(3, 5_000, false, true);
        t.close_before(4);
        // A straggler in a closed second counts; seconds with nothing are zero.
        t.record(3, 9_000_000, true, false);
        t.record(5, 1_000, false, true);
        let ticks = t.finish();
        assert_eq!(ticks.len(), 6);
        assert_eq!(ticks[0], Tick::default());
        assert_eq!(
            (ticks[3].requests, ticks[3].errors, ticks[3].completed),
            (2, 1, 1)
        );
        assert!((ticks[3].p95_ms - 5.0).abs() < 0.1, "{:?}", ticks[3]);
        assert_eq!(ticks[5].requests, 1);
    }
}
