//! A future polled only when its own waker fired: the proxy's rare events (a toxic changed, the
//! connection killed, an injected answer) are waited on in the same `select!` as every read,
//! and polling their `watch`/`mpsc` futures on every read's wake-up cost as much as the rest of
//! the proxy's own work at 256 connections.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// Whether the inner future's waker fired, and the task to wake when it does.
struct Flag {
    woken: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(task) = task {
            task.wake();
        }
    }
}

/// `fut`, polled on its first poll and afterwards only once something woke it.
pub struct WhenWoken<F> {
    fut: Pin<Box<F>>,
    flag: Arc<Flag>,
    waker: Waker,
}

impl<F: Future> WhenWoken<F> {
    pub fn new(fut: F) -> Self {
        let flag = Arc::new(Flag {
            woken: AtomicBool::new(true),
            task: Mutex::new(None),
        });
        WhenWoken {
            fut: Box::pin(fut),
            waker: Waker::from(Arc::clone(&flag)),
            flag,
        }
    }
}

impl<F: Future> Future for WhenWoken<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // The task is stored before the flag is read: a wake between the two is not lost.
        {
            let mut task = self.flag.task.lock().unwrap_or_else(|p| p.into_inner());
            if !task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        if !self.flag.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let this = &mut *self;
        let waker = this.waker.clone();
        this.fut.as_mut().poll(&mut Context::from_waker(&waker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts its polls; ready once `go` is set, waking through the waker it was last given.
    struct Probe {
        polls: Arc<AtomicUsize>,
        go: Arc<Mutex<(bool, Option<Waker>)>>,
    }

    impl Future for Probe {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls.fetch_add(1, Ordering::SeqCst);
            let mut go = self.go.lock().unwrap();
            if go.0 {
                return Poll::Ready(());
            }
            go.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    #[test]
    fn the_inner_future_is_polled_only_after_its_own_wake_up() {
        let polls = Arc::new(AtomicUsize::new(0));
        let go = Arc::new(Mutex::new((false, None::<Waker>)));
        let mut fut = WhenWoken::new(Probe {
            polls: Arc::clone(&polls),
            go: Arc::clone(&go),
        });
        let task_woken = Arc::new(AtomicUsize::new(0));
        struct Count(Arc<AtomicUsize>);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let task = Waker::from(Arc::new(Count(Arc::clone(&task_woken))));
        let mut cx = Context::from_waker(&task);
        let mut pinned = Pin::new(&mut fut);
        assert!(pinned.as_mut().poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 1, "polled at first");
        // The task is woken by something else (a read): the inner future is left alone.
        for _ in 0..5 {
            assert!(pinned.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        // Its own event: the task is woken and the next poll reaches it.
        let inner = {
            let mut g = go.lock().unwrap();
            g.0 = true;
            g.1.take().unwrap()
        };
        inner.wake();
        assert_eq!(task_woken.load(Ordering::SeqCst), 1);
        assert!(pinned.as_mut().poll(&mut cx).is_ready());
        assert_eq!(polls.load(Ordering::SeqCst), 2);
    }
}
