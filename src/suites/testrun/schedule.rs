//! How the tests of a binary in binary isolation are dealt to the jobs: no batch may become the
//! critical path. A binary's tests wait in a pool; a free job takes a chunk of them (guided
//! self-scheduling: a share of what is left, so chunks shrink towards the end and the last
//! ones are small) and runs it as one process with one libtest thread, so the test threads of
//! all running batches never outnumber the jobs. A binary whose tests turn out slow is dealt in
//! smaller chunks as soon as one chunk has told how long its tests take; tests the history
//! knows to be slow never join a pool (they run first, each in its own process). Pure: the
//! runner does the running.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::batch::BatchTest;

/// A chunk is at least this much work (by the pace seen so far), so a binary of tiny tests is
/// not dealt out in more process starts than it is worth.
pub const MIN_CHUNK_SECS: f64 = 0.05;

/// A test the history says takes at least this long runs alone, first.
pub const SLOW_ALONE_SECS: f64 = 1.0;

/// How long a binary's tests have taken in this run so far.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Pace {
    /// Tests finished in chunks.
    pub tests: usize,
    /// Seconds those chunks took.
    pub secs: f64,
}

impl Pace {
    /// Seconds a test of this binary takes, on average, once a chunk has finished.
    pub fn per_test(&self) -> Option<f64> {
        (self.tests > 0).then(|| self.secs / self.tests as f64)
    }
}

/// A binary's tests not yet handed out.
#[derive(Debug)]
pub struct Pool {
    /// Index into the plan's binaries.
    pub binary: usize,
    /// Tests left, in order.
    pub tests: VecDeque<BatchTest>,
    /// How many the pool started with.
    pub total: usize,
    /// The pool holds every listed test of the binary (no filter, no shard): the binary can be
    /// run with no names when one chunk takes them all.
    pub everything: bool,
    /// Shared with the chunks in flight, which report their time to it.
    pub pace: Arc<Mutex<Pace>>,
    /// Seconds a test of it took last time, by the history (an average), when known.
    pub expected_per_test: Option<f64>,
}

/// A chunk taken from a pool.
#[derive(Debug)]
pub struct Chunk {
    pub binary: usize,
    pub tests: Vec<BatchTest>,
    /// The chunk is the binary's whole selection, which is every test it has.
    pub everything: bool,
    pub pace: Arc<Mutex<Pace>>,
}

impl Pool {
    /// The next chunk for a free job; the pool keeps the rest.
    pub fn take(&mut self, jobs: usize) -> Chunk {
        let pace = self
            .pace
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .per_test();
        let n = chunk_size(self.tests.len(), jobs, pace.or(self.expected_per_test));
        let whole = n == self.total;
        let tests: Vec<BatchTest> = self.tests.drain(..n).collect();
        Chunk {
            binary: self.binary,
            tests,
            everything: self.everything && whole,
            pace: Arc::clone(&self.pace),
        }
    }
}

/// How many of `remaining` tests a free job takes: a share of what is left (so chunks shrink
/// and the jobs finish together), but no less than [`MIN_CHUNK_SECS`] of work at the pace
/// known, and all of them when there is one job (nothing to balance).
pub fn chunk_size(remaining: usize, jobs: usize, per_test: Option<f64>) -> usize {
    if jobs <= 1 || remaining == 0 {
        return remaining;
    }
    let guided = remaining.div_ceil(2 * jobs);
    let worth = per_test
        .filter(|t| t.is_finite() && *t > 0.0)
        .map_or(1, |t| {
            (MIN_CHUNK_SECS / t).ceil().min(usize::MAX as f64) as usize
        });
    guided.max(worth).clamp(1, remaining)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(n: usize, expected: Option<f64>) -> Pool {
        Pool {
            binary: 0,
            tests: (0..n)
                .map(|i| BatchTest {
                    name: format!("t{i}"),
                    id: format!("b t{i}"),
                    ignored: false,
                })
                .collect(),
            total: n,
            everything: true,
            pace: Arc::default(),
            expected_per_test: expected,
        }
    }

    fn sizes(mut p: Pool, jobs: usize) -> Vec<usize> {
        let mut out = Vec::new();
        while !p.tests.is_empty() {
            out.push(p.take(jobs).tests.len());
        }
        out
    }

    #[test]
    fn chunks_shrink_so_the_jobs_finish_together() {
        let s = sizes(pool(58, None), 2);
        assert_eq!(s.iter().sum::<usize>(), 58);
        assert_eq!(s[0], 15, "a quarter of what is left with two jobs");
        assert!(s.windows(2).all(|w| w[0] >= w[1]), "{s:?}");
        assert_eq!(
            *s.last().unwrap(),
            1,
            "the last chunks are single tests: {s:?}"
        );
    }

    #[test]
    fn tiny_tests_are_not_dealt_out_in_more_processes_than_they_are_worth() {
        // 3 000 tests of 0.1 ms: each chunk holds at least 50 ms of them.
        let s = sizes(pool(3000, Some(0.0001)), 2);
        assert!(s.len() <= 6, "{s:?}");
        assert!(
            s.iter().all(|n| *n >= 500 || *n == *s.last().unwrap()),
            "{s:?}"
        );
    }

    #[test]
    fn one_job_takes_the_whole_binary_and_runs_it_without_names() {
        let mut p = pool(40, None);
        let c = p.take(1);
        assert_eq!(c.tests.len(), 40);
        assert!(c.everything);
        let mut p = pool(40, None);
        assert!(!p.take(2).everything, "a part of the binary is named");
    }

    #[test]
    fn a_slow_pace_seen_in_this_run_shrinks_the_next_chunks() {
        let mut p = pool(100, None);
        let first = p.take(2);
        assert_eq!(first.tests.len(), 25);
        *first.pace.lock().unwrap() = Pace {
            tests: 25,
            secs: 50.0,
        };
        // Two seconds a test: the guided share alone decides, down to one.
        assert_eq!(p.take(2).tests.len(), 19);
        assert_eq!(chunk_size(3, 2, Some(2.0)), 1);
        // Odd paces never make a chunk of nothing, or of more than is left.
        assert_eq!(chunk_size(5, 4, Some(0.0)), 1);
        assert_eq!(chunk_size(5, 4, Some(f64::NAN)), 1);
        assert_eq!(chunk_size(5, 4, Some(1e-300)), 5);
    }
}
