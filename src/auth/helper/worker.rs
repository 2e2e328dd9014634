//! The helper worker process: one reader thread per shard socket, a
//! bounded pool of threads running the checks (PAM conversations, NSS,
//! hashing), responses sent back as one packet each.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::thread;

use crossbeam::channel::{self, TrySendError};

use super::HELLO_ID;
use super::config::HelperConfig;
use super::engine::{Engine, RealSystem, Reply};
use super::sys;
use crate::auth::protocol::{
    FailReason, FrameDecoder, MAX_FRAME_LEN, Request, Response, WireMessage,
};

/// Requests waiting for a pool thread; beyond this the helper answers
/// "busy" at once instead of letting latency grow without bound.
const QUEUE_DEPTH: usize = 4096;

struct Job {
    req: Request,
    reply: Reply,
}

fn sender(fd: Arc<OwnedFd>, shard: usize) -> Reply {
    Arc::new(move |resp: Response| {
        let mut frame = Vec::new();
        match resp.encode(&mut frame) {
            Ok(()) => {
                if let Err(e) = sys::send_packet(&fd, &frame) {
                    tracing::warn!("auth: shard {shard}: cannot send a response: {e}");
                }
            }
            Err(e) => tracing::error!("auth: shard {shard}: cannot encode a response: {e}"),
        }
    })
}

/// Runs the worker until a shard socket closes (the server is gone).
/// Never returns.
pub fn run(sockets: &[OwnedFd], cfg: HelperConfig) -> ! {
    let mut key = [0u8; 32];
    if let Err(e) = sys::random_bytes(&mut key) {
        tracing::error!("auth: no random key: {e}");
        std::process::exit(1);
    }
    let threads = cfg.worker_threads.max(1);
    let engine = Arc::new(Engine::new(cfg, RealSystem, key));
    let (tx, rx) = channel::bounded::<Job>(QUEUE_DEPTH);
    for i in 0..threads {
        let rx = rx.clone();
        let engine = engine.clone();
        let spawned = thread::Builder::new()
            .name(format!("auth-{i}"))
            .spawn(move || {
                for job in rx {
                    engine.handle(job.req, job.reply);
                }
            });
        if let Err(e) = spawned {
            tracing::error!("auth: cannot start a worker thread: {e}");
            std::process::exit(1);
        }
    }

    let mut readers = Vec::new();
    for (shard, fd) in sockets.iter().enumerate() {
        let fd = match fd.try_clone() {
            Ok(fd) => Arc::new(fd),
            Err(e) => {
                tracing::error!("auth: shard {shard}: {e}");
                std::process::exit(1);
            }
        };
        let tx = tx.clone();
        let spawned = thread::Builder::new()
            .name(format!("auth-read-{shard}"))
            .spawn(move || read_loop(shard, fd, tx));
        match spawned {
            Ok(h) => readers.push(h),
            Err(e) => {
                tracing::error!("auth: cannot start a reader thread: {e}");
                std::process::exit(1);
            }
        }
    }
    drop(tx);
    tracing::info!(
        pid = sys::own_pid(),
        "auth: worker started, serving {} shards",
        sockets.len()
    );
    // The server closes all its ends together (it exited): shard 0's
    // reader ending is enough to know.
    if let Some(first) = readers.into_iter().next() {
        let _ = first.join();
    }
    std::process::exit(0);
}

fn read_loop(shard: usize, fd: Arc<OwnedFd>, jobs: channel::Sender<Job>) {
    let reply = sender(fd.clone(), shard);
    // Tells the shard that a new worker took over: anything it still
    // waits for was lost with the previous one.
    reply(Response::Fail {
        id: HELLO_ID,
        reason: FailReason::TempFail("auth worker restarted".into()),
        delay_ms: 0,
    });
    let mut buf = vec![0u8; MAX_FRAME_LEN + 64];
    loop {
        let n = match sys::recv_packet(&fd, &mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) => {
                tracing::error!("auth: shard {shard}: {e}");
                return;
            }
        };
        // One packet is one frame; a fresh decoder per packet means a bad
        // packet costs only itself.
        let mut decoder = FrameDecoder::new();
        let req = decoder
            .push(&buf[..n])
            .and_then(|()| decoder.next_message::<Request>());
        let req = match req {
            Ok(Some(r)) => r,
            Ok(None) => {
                tracing::warn!("auth: shard {shard}: incomplete request packet");
                continue;
            }
            Err(e) => {
                tracing::warn!("auth: shard {shard}: bad request: {e}");
                continue;
            }
        };
        let id = req.id();
        match jobs.try_send(Job {
            req,
            reply: reply.clone(),
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => reply(Response::Fail {
                id,
                reason: FailReason::TempFail("auth helper busy".into()),
                delay_ms: 0,
            }),
            Err(TrySendError::Disconnected(_)) => return,
        }
    }
}
