//! Starting the shards: one glommio `LocalExecutor` per shard on its own
//! thread, pinned to its CPU, all joined in a full channel mesh.

use std::future::Future;
use std::io;
use std::rc::Rc;

use glommio::channels::channel_mesh::{MeshBuilder, Senders};
use glommio::channels::shared_channel::ConnectedReceiver;
use glommio::{ExecutorJoinHandle, LocalExecutorBuilder, Placement, PoolPlacement};

/// How one shard's executor is built.
#[derive(Debug, Clone)]
pub struct ShardSpec {
    pub index: usize,
    /// CPU to pin to; `None` leaves the thread unpinned (tests).
    pub cpu: Option<usize>,
    /// Memory glommio registers with io_uring for file I/O buffers.
    pub io_memory: usize,
    pub ring_depth: usize,
    /// Threads for work that cannot run on the shard (fsync bursts, blocking
    /// file calls). They are not pinned so they never steal the shard's core.
    pub blocking_threads: usize,
}

/// io_uring registered memory counts against RLIMIT_MEMLOCK, which is often
/// only 8 MiB for an ordinary user; glommio's default (10 MiB per executor)
/// would then fail to start. Give each shard a share that fits, capped at
/// what a mail server's file I/O can use.
pub fn io_memory_per_shard(shards: usize) -> usize {
    const WANT: usize = 4 << 20;
    const FLOOR: usize = 64 << 10;
    // SAFETY: getrlimit/geteuid only fill a plain struct / return a value.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } == 0;
    let privileged = unsafe { libc::geteuid() } == 0;
    if !ok || privileged || lim.rlim_cur == libc::RLIM_INFINITY {
        return WANT;
    }
    // glommio registers the same buffer with each of its three rings (main,
    // latency, poll), and every registration counts against the limit. Use
    // half of the limit; the rest stays for other users of locked memory.
    let share = (lim.rlim_cur as usize / 2) / (3 * shards.max(1));
    share.clamp(FLOOR, WANT)
}

/// A message that could not be delivered to its shard.
pub struct SendError<M>(pub Option<M>);

impl<M> std::fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("shard message not delivered")
    }
}

/// What a shard knows about the runtime: who it is and how to reach peers.
pub struct ShardContext<M: Send + 'static> {
    pub index: usize,
    pub count: usize,
    senders: Option<Senders<M>>,
}

impl<M: Send + 'static> ShardContext<M> {
    /// Sends a message to another shard; gives it back (when it can) if the
    /// peer is gone.
    pub async fn send_to(&self, shard: usize, msg: M) -> Result<(), SendError<M>> {
        match &self.senders {
            Some(s) if shard != self.index && shard < self.count => {
                match super::repoll::repolled(s.send_to(shard, msg), super::repoll::REPOLL_PERIOD)
                    .await
                {
                    Ok(()) => Ok(()),
                    Err(glommio::GlommioError::Closed(glommio::ResourceType::Channel(m)))
                    | Err(glommio::GlommioError::WouldBlock(glommio::ResourceType::Channel(m))) => {
                        Err(SendError(Some(m)))
                    }
                    Err(_) => Err(SendError(None)),
                }
            }
            _ => Err(SendError(Some(msg))),
        }
    }
}

/// Starts one executor per spec. `body` runs on each shard with its context
/// and one receiver per peer shard; the shard ends when `body` returns.
pub fn spawn_shards<M, F, Fut>(
    specs: Vec<ShardSpec>,
    mesh_capacity: usize,
    body: F,
) -> io::Result<Vec<ExecutorJoinHandle<()>>>
where
    M: Send + 'static,
    F: Fn(Rc<ShardContext<M>>, Vec<(usize, ConnectedReceiver<M>)>) -> Fut + Send + Clone + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let count = specs.len();
    let mesh = (count > 1).then(|| MeshBuilder::<M, _>::full(count, mesh_capacity));
    let mut handles = Vec::with_capacity(count);
    for spec in specs {
        let placement = match spec.cpu {
            Some(cpu) => Placement::Fixed(cpu),
            None => Placement::Unbound,
        };
        let mesh = mesh.clone();
        let body = body.clone();
        let builder = LocalExecutorBuilder::new(placement)
            .name(&format!("shard-{}", spec.index))
            .io_memory(spec.io_memory)
            .ring_depth(spec.ring_depth.max(1))
            .blocking_thread_pool_placement(PoolPlacement::Unbound(spec.blocking_threads.max(1)));
        let h = builder
            .spawn(move || async move {
                let (senders, inbox) = match mesh {
                    Some(m) => {
                        match super::repoll::repolled(m.join(), super::repoll::REPOLL_PERIOD).await
                        {
                            Ok((s, mut r)) => {
                                let inbox = r.streams();
                                (Some(s), inbox)
                            }
                            Err(e) => {
                                tracing::error!(shard = spec.index, "shard mesh join failed: {e}");
                                (None, Vec::new())
                            }
                        }
                    }
                    None => (None, Vec::new()),
                };
                let ctx = Rc::new(ShardContext {
                    index: spec.index,
                    count,
                    senders,
                });
                body(ctx, inbox).await;
            })
            .map_err(|e| io::Error::other(format!("shard {}: {e}", spec.index)))?;
        handles.push(h);
    }
    Ok(handles)
}

/// Wraps a closure for glommio's blocking pool: a panic inside would kill the
/// pool thread and leave the awaiting future hanging forever (glommio issue
/// 37), so it is caught and returned as an error instead.
pub async fn run_blocking<F, R>(f: F) -> io::Result<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    glommio::executor()
        .spawn_blocking(move || std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)))
        .await
        .map_err(|_| io::Error::other("blocking task panicked"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn two_shards_exchange_messages() {
        let got = Arc::new(AtomicUsize::new(0));
        let specs = (0..2)
            .map(|i| ShardSpec {
                index: i,
                cpu: None,
                io_memory: 64 << 10,
                ring_depth: 32,
                blocking_threads: 1,
            })
            .collect();
        let g = got.clone();
        let hs = spawn_shards::<usize, _, _>(specs, 16, move |ctx, inbox| {
            let g = g.clone();
            async move {
                let peer = 1 - ctx.index;
                assert!(ctx.send_to(peer, ctx.index * 10 + 7).await.is_ok());
                assert!(ctx.send_to(ctx.index, 0).await.is_err(), "no self-send");
                for (from, rx) in inbox {
                    let v = rx.recv().await.unwrap();
                    assert_eq!(v, from * 10 + 7);
                    g.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
        .unwrap();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(got.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn blocking_panic_is_an_error_not_a_hang() {
        let ex = LocalExecutorBuilder::default().make().unwrap();
        ex.run(async {
            let r: io::Result<()> = run_blocking(|| panic!("boom")).await;
            assert!(r.is_err());
            assert_eq!(run_blocking(|| 41 + 1).await.unwrap(), 42);
        });
    }

    #[test]
    fn io_memory_fits_the_limit() {
        let m = io_memory_per_shard(4);
        assert!((64 << 10..=4 << 20).contains(&m));
    }
}
