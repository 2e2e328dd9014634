//! A guard against lost cross-executor wake-ups. glommio 0.9's shared
//! channels (and the mesh join built on them) wake a peer executor through
//! an eventfd; under load that wake-up is occasionally lost, and the
//! waiting future then sleeps until something unrelated wakes it (seen
//! here: a server whose two shards took 15 s to join their mesh, and
//! upstream reports of mesh/shared-channel hangs). Their futures look at
//! the shared ring again whenever they are polled, so polling them on a
//! short timer as well turns a lost wake-up into a delay of one period.

use std::future::Future;
use std::time::Duration;

/// How long a lost wake-up may delay a waiting cross-shard future.
pub const REPOLL_PERIOD: Duration = Duration::from_millis(20);

/// Runs `fut` to completion, polling it again every `period` whether or
/// not it asked to be woken. Must run on a glommio executor (it uses its
/// timers).
pub async fn repolled<F: Future>(fut: F, period: Duration) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    loop {
        let done = async { Some(fut.as_mut().await) };
        let tick = async {
            glommio::timer::sleep(period).await;
            None
        };
        if let Some(out) = futures_lite::future::or(done, tick).await {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::pin::Pin;
    use std::rc::Rc;
    use std::task::{Context, Poll};

    /// Ready on its third poll and never registers its waker: without the
    /// timer it would sleep forever.
    struct NeverWakes(Rc<Cell<u32>>);

    impl Future for NeverWakes {
        type Output = u32;
        fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u32> {
            let n = self.0.get() + 1;
            self.0.set(n);
            if n >= 3 {
                Poll::Ready(n)
            } else {
                Poll::Pending
            }
        }
    }

    #[test]
    fn a_future_whose_wake_up_is_lost_still_completes() {
        let ex = glommio::LocalExecutorBuilder::default()
            .make()
            .expect("executor");
        let polls = Rc::new(Cell::new(0));
        let got = ex.run(repolled(
            NeverWakes(polls.clone()),
            Duration::from_millis(1),
        ));
        assert_eq!(got, 3);
        assert_eq!(polls.get(), 3);
    }
}
