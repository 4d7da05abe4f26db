//! What a data toxic does to each piece of one direction of one connection: when it may be
//! written, how much of it, and when the connection ends. Pure: times in, decisions out; the
//! connection code does the waiting and the writing.
//!
//! Semantics follow Toxiproxy's toxics: latency is counted from when each piece was read (so a
//! stream keeps its throughput and its order); bandwidth paces *before* each write; `timeout`
//! counts from when the toxic reached the connection (its opening, or the moment the toxic was
//! applied to it) and closes idle connections too, `0` never closes; `limit_data` counts the
//! bytes of its own direction since the toxic was applied.

use std::time::{Duration, Instant};

use super::super::spec::Toxic;

/// How late a paced write may wake and still keep the bandwidth schedule.
const CATCH_UP: Duration = Duration::from_millis(10);

/// What to do with the rest of a piece.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Plan {
    /// Write `len` bytes of it, not before `not_before`.
    Write {
        /// Bytes from the front of the rest.
        len: usize,
        /// Earliest time to write them (`None`: now).
        not_before: Option<Instant>,
    },
    /// Swallow it (a `timeout` toxic holds the connection).
    Drop,
    /// End the connection now.
    Close,
}

/// The state of one direction under the toxic in force.
#[derive(Debug, Clone)]
pub struct Shaper {
    toxic: Option<Toxic>,
    /// When the toxic reached this connection.
    since: Instant,
    /// Bytes written under the toxic (for `limit_data`).
    sent: u64,
    /// When the bandwidth schedule lets the next byte go (for `bandwidth`).
    free_at: Option<Instant>,
}

impl Shaper {
    /// A direction of a connection opened at `opened` with `toxic` in force.
    pub fn new(toxic: Option<Toxic>, opened: Instant) -> Shaper {
        Shaper {
            toxic,
            since: opened,
            sent: 0,
            free_at: None,
        }
    }

    /// The toxic changed (or was applied again) at `now`: its clocks and counters restart.
    pub fn change(&mut self, toxic: Option<Toxic>, now: Instant) {
        *self = Shaper::new(toxic, now);
    }

    /// The toxic in force.
    pub fn toxic(&self) -> Option<&Toxic> {
        self.toxic.as_ref()
    }

    /// True when the toxic in force lets every piece through at once, as no toxic does.
    pub fn passes(&self) -> bool {
        matches!(self.toxic, None | Some(Toxic::HttpError { .. }))
    }

    /// When the connection must close even if no data arrives (`timeout`).
    pub fn close_at(&self) -> Option<Instant> {
        match self.toxic {
            Some(Toxic::Timeout { after }) if !after.is_zero() => Some(self.since + after),
            _ => None,
        }
    }

    /// What to do with `rest` bytes left of a piece read at `read_at`, of which `offset` were
    /// already written; `jitter` is this piece's uniform draw in [-1, 1].
    pub fn plan(
        &self,
        read_at: Instant,
        rest: usize,
        offset: usize,
        jitter: f64,
        now: Instant,
    ) -> Plan {
        let all = Plan::Write {
            len: rest,
            not_before: None,
        };
        match &self.toxic {
            None | Some(Toxic::HttpError { .. }) => all,
            Some(Toxic::Down | Toxic::ResetPeer) => Plan::Close,
            Some(Toxic::Timeout { .. }) => Plan::Drop,
            Some(Toxic::Latency {
                latency,
                jitter: spread,
            }) => {
                let delay = (latency.as_secs_f64() + jitter * spread.as_secs_f64()).max(0.0);
                Plan::Write {
                    len: rest,
                    not_before: Some(read_at + Duration::from_secs_f64(delay)),
                }
            }
            Some(Toxic::Bandwidth { rate }) => {
                // A tenth of a second's worth at a time, each sent when its time has come.
                let len = rest.min(((*rate / 10).max(1)) as usize);
                // Waking a millisecond late (timer resolution) must not push the schedule back
                // each time; an idle gap longer than that earns no credit.
                let start = match self.free_at {
                    Some(f) if now.saturating_duration_since(f) <= CATCH_UP => f,
                    _ => now,
                };
                Plan::Write {
                    len,
                    not_before: Some(start + Duration::from_secs_f64(len as f64 / *rate as f64)),
                }
            }
            Some(Toxic::Slice { size, delay }) => Plan::Write {
                len: rest.min(*size),
                // Slices of one piece are spaced by `delay`; the first goes at once.
                not_before: (offset > 0 && !delay.is_zero()).then(|| now + *delay),
            },
            Some(Toxic::LimitData { bytes }) => match bytes.saturating_sub(self.sent) {
                0 => Plan::Close,
                left => Plan::Write {
                    len: rest.min(usize::try_from(left).unwrap_or(usize::MAX)),
                    not_before: None,
                },
            },
        }
    }

    /// `len` bytes were written at `at` (the time the plan allowed).
    pub fn wrote(&mut self, len: usize, at: Instant) {
        self.sent += len as u64;
        if matches!(self.toxic, Some(Toxic::Bandwidth { .. })) {
            self.free_at = Some(at);
        }
    }

    /// True when the connection must end after what was written (`limit_data` reached).
    pub fn exhausted(&self) -> bool {
        matches!(self.toxic, Some(Toxic::LimitData { bytes }) if self.sent >= bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn latency_counts_from_each_piece_s_read_time_not_from_the_previous_write() {
        let t0 = Instant::now();
        let s = Shaper::new(
            Some(Toxic::Latency {
                latency: ms(200),
                jitter: ms(50),
            }),
            t0,
        );
        // Five pieces read 20 ms apart are each due 200 ms after their own read.
        for i in 0..5u64 {
            let read = t0 + ms(20 * i);
            let plan = s.plan(read, 10, 0, 0.0, t0 + ms(300));
            assert_eq!(
                plan,
                Plan::Write {
                    len: 10,
                    not_before: Some(read + ms(200))
                }
            );
        }
        // Jitter moves a piece within ± the spread.
        let Plan::Write {
            not_before: Some(late),
            ..
        } = s.plan(t0, 1, 0, 1.0, t0)
        else {
            panic!("latency writes");
        };
        assert_eq!(late, t0 + ms(250));
    }

    #[test]
    fn bandwidth_paces_before_every_write_with_no_credit_from_idle_time() {
        let t0 = Instant::now();
        let mut s = Shaper::new(Some(Toxic::Bandwidth { rate: 100_000 }), t0);
        // 5 000 B at 100 kB/s: one write, 50 ms after it could first go.
        assert_eq!(
            s.plan(t0, 5_000, 0, 0.0, t0),
            Plan::Write {
                len: 5_000,
                not_before: Some(t0 + ms(50))
            }
        );
        // 1 MB: 10 000 B a time, back to back on the schedule: 10 s in all.
        let mut now = t0;
        let mut rest = 1_000_000usize;
        while rest > 0 {
            let Plan::Write {
                len,
                not_before: Some(at),
            } = s.plan(t0, rest, 1_000_000 - rest, 0.0, now)
            else {
                panic!("bandwidth writes");
            };
            assert!(len <= 10_000);
            s.wrote(len, at);
            rest -= len;
            now = at;
        }
        assert_eq!(now, t0 + Duration::from_secs(10));
        // Each write waking 2 ms late still ends on time.
        let mut s = Shaper::new(Some(Toxic::Bandwidth { rate: 100_000 }), t0);
        let mut now = t0;
        let mut last = t0;
        for _ in 0..100 {
            let Plan::Write {
                len,
                not_before: Some(at),
            } = s.plan(t0, 10_000, 0, 0.0, now)
            else {
                panic!("bandwidth writes");
            };
            s.wrote(len, at);
            last = at;
            now = at + ms(2);
        }
        assert_eq!(last, t0 + Duration::from_secs(10));
        // After an idle second the schedule starts from now, not from the past.
        let later = now + Duration::from_secs(1);
        assert_eq!(
            s.plan(later, 25, 0, 0.0, later),
            Plan::Write {
                len: 25,
                not_before: Some(later + Duration::from_micros(250))
            }
        );
    }

    #[test]
    fn timeout_counts_from_the_toxic_reaching_the_connection_and_zero_never_closes() {
        let opened = Instant::now();
        let mut s = Shaper::new(None, opened);
        assert_eq!(s.close_at(), None);
        let applied = opened + Duration::from_secs(30);
        s.change(Some(Toxic::Timeout { after: ms(300) }), applied);
        assert_eq!(s.close_at(), Some(applied + ms(300)));
        assert_eq!(s.plan(applied, 5, 0, 0.0, applied), Plan::Drop);
        s.change(Some(Toxic::Timeout { after: ms(0) }), applied);
        assert_eq!(s.close_at(), None, "0 holds the connection open");
        assert_eq!(s.plan(applied, 5, 0, 0.0, applied), Plan::Drop);
    }

    #[test]
    fn limit_data_counts_its_own_direction_since_the_toxic_was_applied() {
        let t0 = Instant::now();
        let mut s = Shaper::new(None, t0);
        s.wrote(500, t0);
        s.change(Some(Toxic::LimitData { bytes: 1000 }), t0);
        assert_eq!(
            s.plan(t0, 800, 0, 0.0, t0),
            Plan::Write {
                len: 800,
                not_before: None
            }
        );
        s.wrote(800, t0);
        assert!(!s.exhausted());
        assert_eq!(
            s.plan(t0, 800, 0, 0.0, t0),
            Plan::Write {
                len: 200,
                not_before: None
            }
        );
        s.wrote(200, t0);
        assert!(s.exhausted());
        assert_eq!(s.plan(t0, 1, 0, 0.0, t0), Plan::Close);
    }

    #[test]
    fn slices_of_one_piece_are_spaced_and_connection_faults_close() {
        let t0 = Instant::now();
        let s = Shaper::new(
            Some(Toxic::Slice {
                size: 4,
                delay: ms(20),
            }),
            t0,
        );
        assert_eq!(
            s.plan(t0, 16, 0, 0.0, t0),
            Plan::Write {
                len: 4,
                not_before: None
            }
        );
        assert_eq!(
            s.plan(t0, 12, 4, 0.0, t0),
            Plan::Write {
                len: 4,
                not_before: Some(t0 + ms(20))
            }
        );
        for t in [Toxic::Down, Toxic::ResetPeer] {
            assert_eq!(
                Shaper::new(Some(t), t0).plan(t0, 1, 0, 0.0, t0),
                Plan::Close
            );
        }
    }
}
