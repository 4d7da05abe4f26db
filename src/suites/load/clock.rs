//! Sleeping to the microsecond inside a lane's runtime. tokio's timer ticks in milliseconds,
//! which would add up to 1 ms of the generator's own lateness to every open-loop latency (they
//! are measured from the intended send time). A dedicated pacing thread fixed that but cost two
//! thread wakeups per request. On Linux a timerfd registered with the lane's runtime wakes the
//! same epoll that waits for the sockets: one wakeup per due request, often shared with a
//! response. Elsewhere, or if the timerfd cannot be made, tokio's timer.

use std::time::Instant;

/// A one-shot timer a lane re-arms for each due request.
pub struct Clock {
    #[cfg(target_os = "linux")]
    fd: Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>,
}

impl Clock {
    /// Must be called inside the lane's runtime (it registers with its reactor).
    pub fn new() -> Clock {
        Clock {
            #[cfg(target_os = "linux")]
            fd: timerfd().and_then(|fd| {
                // SAFETY: an OwnedFd is a valid open descriptor that stays the same until the
                // AsyncFd, which owns it, is dropped.
                unsafe {
                    tokio::io::unix::AsyncFd::register_with_interest(
                        fd,
                        tokio::io::Interest::READABLE,
                    )
                }
                .ok()
            }),
        }
    }

    /// Returns at `t` (at once if it has passed).
    pub async fn sleep_until(&mut self, t: Instant) {
        let now = Instant::now();
        if t <= now {
            return;
        }
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd
            && arm(fd.get_ref(), t - now)
        {
            wait(fd, t).await;
            return;
        }
        tokio::time::sleep_until(t.into()).await;
    }
}

/// When a pacer with `slack` wakes for a request due at `t`: `t` itself with no slack, else
/// the first point of the `slack` grid from `origin` not before `t`, so every request due in
/// one step of the grid goes out on one wake-up (wrk2 wakes each millisecond the same way).
/// The lateness is the generator's and counts in the latency, measured from `t`.
pub fn wake_at(t: Instant, origin: Instant, slack: std::time::Duration) -> Instant {
    if slack.is_zero() || t <= origin {
        return t;
    }
    let since = (t - origin).as_nanos();
    let step = slack.as_nanos();
    let steps = since.div_ceil(step);
    let at = steps.saturating_mul(step);
    origin + std::time::Duration::from_nanos(u64::try_from(at).unwrap_or(u64::MAX))
}

#[cfg(target_os = "linux")]
fn timerfd() -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: timerfd_create takes no pointers; a non-negative result is a new descriptor we
    // own from here on.
    let raw = unsafe {
        libc::timerfd_create(
            libc::CLOCK_MONOTONIC,
            libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
        )
    };
    // SAFETY: `raw` was just returned by timerfd_create and is owned by nothing else.
    (raw >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) })
}

/// Sets the timer to fire once after `after` (`Instant` is CLOCK_MONOTONIC on Linux).
#[cfg(target_os = "linux")]
fn arm(fd: &std::os::fd::OwnedFd, after: std::time::Duration) -> bool {
    use std::os::fd::AsRawFd;
    let spec = libc::itimerspec {
        it_interval: libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: libc::timespec {
            tv_sec: libc::time_t::try_from(after.as_secs()).unwrap_or(libc::time_t::MAX),
            // All zero would disarm the timer instead of firing it.
            tv_nsec: libc::c_long::from(after.subsec_nanos().max(1)),
        },
    };
    // SAFETY: `spec` is a valid itimerspec for the call's duration; the old value is not asked.
    unsafe { libc::timerfd_settime(fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) == 0 }
}

/// Waits until the armed timer has fired. Re-arming resets the expiry count, and the reactor
/// watches edges, so the count is never read: readiness is cleared, and trusted only once the
/// due time has come (a stale readiness from the previous expiry is then waited past).
#[cfg(target_os = "linux")]
async fn wait(fd: &tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>, t: Instant) {
    loop {
        let Ok(mut guard) = fd.readable().await else {
            return tokio::time::sleep_until(t.into()).await;
        };
        guard.clear_ready();
        if Instant::now() >= t {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn slack_wakes_on_its_grid_never_before_a_request_is_due() {
        let o = Instant::now();
        let us = Duration::from_micros;
        assert_eq!(wake_at(o + us(250), o, Duration::ZERO), o + us(250));
        assert_eq!(wake_at(o + us(250), o, us(1000)), o + us(1000));
        assert_eq!(wake_at(o + us(1000), o, us(1000)), o + us(1000));
        assert_eq!(wake_at(o + us(1001), o, us(1000)), o + us(2000));
        assert_eq!(wake_at(o, o, us(1000)), o);
        // Four requests 250 µs apart share one wake-up.
        let wakes: std::collections::BTreeSet<Instant> = (1..=4)
            .map(|i| wake_at(o + us(250 * i), o, us(1000)))
            .collect();
        assert_eq!(wakes.len(), 1);
    }

    #[test]
    fn never_wakes_early_and_passes_times_gone_by() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut clock = Clock::new();
            #[cfg(target_os = "linux")]
            assert!(clock.fd.is_some(), "a timerfd on Linux");
            for step in [50u64, 300, 1_200, 20] {
                let due = Instant::now() + Duration::from_micros(step);
                clock.sleep_until(due).await;
                assert!(Instant::now() >= due);
            }
            let before = Instant::now();
            let gone = before
                .checked_sub(Duration::from_millis(5))
                .unwrap_or(before);
            clock.sleep_until(gone).await;
            clock.sleep_until(before).await;
        });
    }
}
