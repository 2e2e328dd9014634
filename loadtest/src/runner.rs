//! Thread-per-core driver: one glommio executor per generator thread, each
//! running its share of the clients as tasks; a plain thread prints the
//! progress line. Every loop checks the stop flag and every step has a
//! timeout, and each executor has a hard deadline on top, so a run always
//! ends by itself.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use glommio::{LocalExecutorBuilder, Placement};

use crate::args::{Scenario, Settings, TlsMode};
use crate::conn::Conn;
use crate::ctx::{Ctx, Failed, Shared};
use crate::error::SetupError;
use crate::imap::Imap;
use crate::lmtp::Lmtp;
use crate::report::Summary;
use crate::scenarios::{Worker, primary};
use crate::stats::Stats;
use crate::{rss, sys, tls};

/// Result of a run: the merged stats and the printable summary.
pub struct Outcome {
    pub stats: Stats,
    pub summary: Summary,
}

/// How many of `total` items thread `t` of `threads` gets.
pub fn share(total: usize, threads: usize, t: usize) -> usize {
    total / threads + usize::from(t < total % threads)
}

pub fn run(settings: Settings) -> Result<Outcome, SetupError> {
    match sys::raise_nofile_limit() {
        // each client holds one descriptor (two in idle-hold's deliverer)
        Ok(limit) if limit < settings.clients as u64 + 64 => eprintln!(
            "warning: the open-files limit is {limit}, too low for {} clients; raise the \
             hard limit (ulimit -Hn)",
            settings.clients
        ),
        Ok(_) => {}
        Err(e) => eprintln!("warning: cannot raise the open-files limit: {e}"),
    }
    let tls = match settings.tls {
        TlsMode::None => None,
        _ => Some(tls::build(
            settings.ca.as_deref(),
            settings.insecure,
            &settings.sni,
            settings.resume,
        )?),
    };
    let threads = settings.threads.max(1);
    let slots = match settings.scenario {
        Scenario::IdleHold => settings
            .clients
            .min(usize::try_from(settings.user_count()).unwrap_or(usize::MAX)),
        _ => 0,
    };
    let rss_before = match (settings.scenario, settings.server_pid) {
        (Scenario::IdleHold, Some(pid)) => rss::tree_mem(pid),
        _ => None,
    };
    let quiet = settings.quiet;
    let shared = Arc::new(Shared::new(settings, tls, slots));
    let cpu_before = sys::process_cpu_time();

    let progress_done = Arc::new(AtomicBool::new(false));
    let progress = (!quiet).then(|| {
        let shared = shared.clone();
        let done = progress_done.clone();
        std::thread::spawn(move || progress_loop(&shared, &done))
    });

    let mut handles = Vec::with_capacity(threads);
    for t in 0..threads {
        let placement = match &shared.settings.cpus {
            Some(cpus) if !cpus.is_empty() => Placement::Fixed(cpus[t % cpus.len()]),
            _ => Placement::Unbound,
        };
        let sh = shared.clone();
        let h = LocalExecutorBuilder::new(placement)
            .name(&format!("loadgen{t}"))
            // small registered buffers: fits an unprivileged memlock limit
            .io_memory(1 << 20)
            .spawn(move || async move { thread_main(sh, t, threads, rss_before).await })
            .map_err(|e| SetupError::Executor(e.to_string()))?;
        handles.push(h);
    }
    let mut stats = Stats::default();
    let mut join_error = None;
    for h in handles {
        match h.join() {
            Ok(s) => stats.merge(s),
            Err(e) => join_error = Some(e.to_string()),
        }
    }
    shared.request_stop();
    progress_done.store(true, Ordering::Relaxed);
    if let Some(p) = progress {
        let _ = p.join();
    }
    if let Some(e) = join_error {
        return Err(SetupError::Executor(e));
    }
    if shared.settings.scenario == Scenario::Stress {
        // stress counts from the first second on (no warm-up by default)
        for (note, category) in [
            ("stress violations", "violation"),
            ("stress unexpected disconnects", "disconnect"),
            ("stress refused commands", "refused"),
        ] {
            let n = stats.errors(category) as f64;
            stats.notes.insert(note, n);
        }
    }
    let cpu = sys::process_cpu_time().saturating_sub(cpu_before);
    let s = &shared.settings;
    let params = vec![
        ("target".into(), s.target.to_string()),
        ("tls".into(), format!("{:?}", s.tls).to_lowercase()),
        ("clients".into(), s.clients.to_string()),
        (
            "rate".into(),
            s.rate.map_or("closed-loop".into(), |r| format!("{r}/s")),
        ),
        ("threads".into(), threads.to_string()),
        ("users".into(), format!("{}-{}", s.users.0, s.users.1)),
        ("warmup_s".into(), s.warmup.as_secs_f64().to_string()),
        ("duration_s".into(), s.duration.as_secs_f64().to_string()),
    ];
    let name = format!("{:?}", s.scenario).to_lowercase();
    let summary = Summary::new(
        &name,
        primary(s.scenario),
        &stats,
        shared.window(),
        cpu,
        shared.done.load(Ordering::Relaxed),
        params,
    );
    Ok(Outcome { stats, summary })
}

fn progress_loop(shared: &Shared, done: &AtomicBool) {
    let mut last = 0u64;
    let mut tick = 0u64;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let t = shared.started.elapsed().as_secs();
        if t <= tick {
            continue;
        }
        tick = t;
        let n = shared.done.load(Ordering::Relaxed);
        let phase = if shared.measuring(shared.now_ns()) {
            "measuring"
        } else {
            "warm-up"
        };
        let mut line = format!(
            "[{t:>4}s] {phase:<9} ops {n:>10} ({:>8}/s) errors {}",
            n - last,
            shared.errors.load(Ordering::Relaxed)
        );
        if shared.settings.scenario == Scenario::IdleHold {
            line.push_str(&format!(
                " idle {}/{}",
                shared.idle_ready.load(Ordering::Relaxed),
                shared.settings.clients
            ));
        }
        eprintln!("{line}");
        last = n;
    }
}

async fn thread_main(
    shared: Arc<Shared>,
    thread: usize,
    threads: usize,
    rss_before: Option<rss::TreeMem>,
) -> Stats {
    let ctx = Rc::new(Ctx::new(shared.clone(), thread, threads));
    let s = &shared.settings;
    let clients = share(s.clients, threads, thread);
    // worker w of thread t gets a global index, so users spread evenly
    let first_index = (0..thread)
        .map(|t| share(s.clients, threads, t))
        .sum::<usize>() as u64;
    let work = async {
        if s.scenario == Scenario::IdleHold {
            idle_hold(ctx.clone(), clients, first_index, rss_before).await;
        } else {
            let tasks: Vec<_> = (0..clients as u64)
                .map(|w| glommio::spawn_local(worker_loop(ctx.clone(), first_index + w)))
                .collect();
            for t in tasks {
                t.await;
            }
        }
    };
    // hard stop: the window end plus one timeout for operations in flight
    // (idle-hold's window starts after set-up, so give set-up its own bound)
    let setup_bound = if s.scenario == Scenario::IdleHold {
        s.timeout * 4 + Duration::from_millis(s.clients as u64 * 2)
    } else {
        Duration::ZERO
    };
    let hard = s.warmup + s.duration + s.timeout * 2 + s.idle_time + setup_bound;
    futures_lite::future::or(work, async {
        glommio::timer::sleep(hard).await;
        shared.request_stop();
    })
    .await;
    ctx.stats.take()
}

async fn worker_loop(ctx: Rc<Ctx>, index: u64) {
    let shared = &ctx.shared;
    let mut worker = Worker::new(index);
    let name = primary(shared.settings.scenario);
    loop {
        if shared.stopping() {
            break;
        }
        let intended = match ctx.interval {
            None => Instant::now(),
            Some(iv) => {
                // open loop: free workers take the next arrival of this
                // thread's schedule; a late worker does not move the schedule
                let k = ctx.seq.get();
                ctx.seq.set(k + 1);
                let Some(t) = u32::try_from(k)
                    .ok()
                    .and_then(|k32| iv.checked_mul(k32))
                    .map(|d| shared.started + d)
                else {
                    break;
                };
                if shared.at(t) >= shared.measure_until() {
                    break;
                }
                let now = Instant::now();
                if t > now {
                    glommio::timer::sleep(t - now).await;
                }
                t
            }
        };
        match worker.once(&ctx).await {
            Ok(op) => {
                let at = shared.at(intended);
                if op == name || name == "mix-total" || name == crate::stress::PRIMARY {
                    if shared.count_primary(at) {
                        let mut st = ctx.stats.borrow_mut();
                        let took = intended.elapsed();
                        st.record(op, took);
                        if op != name {
                            st.record(name, took);
                        }
                    }
                } else if shared.measuring(at) {
                    ctx.stats.borrow_mut().record(op, intended.elapsed());
                }
            }
            Err(f) => {
                ctx.fail(f);
                worker.reset();
                if ctx.interval.is_none() {
                    // closed loop: do not spin on a dead server
                    glommio::timer::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
}

/// idle-hold: open `clients` IDLE connections on this thread; thread 0 also
/// delivers over LMTP and measures how long each IDLE takes to wake.
async fn idle_hold(
    ctx: Rc<Ctx>,
    clients: usize,
    first_index: u64,
    rss_before: Option<rss::TreeMem>,
) {
    let shared = ctx.shared.clone();
    let s = &shared.settings;
    let slots = shared.delivered_at.len().max(1) as u64;
    let gate = Rc::new(glommio::sync::Semaphore::new(64));
    let mut tasks = Vec::with_capacity(clients);
    for i in 0..clients as u64 {
        let ctx = ctx.clone();
        let gate = gate.clone();
        let g = first_index + i;
        tasks.push(glommio::spawn_local(async move {
            idle_connection(ctx, gate, g, g % slots).await;
        }));
    }
    if ctx.thread == 0 {
        // wait for every thread's connections (or their failures)
        let total = s.clients as u64;
        while shared.idle_ready.load(Ordering::Relaxed) + shared.idle_failed.load(Ordering::Relaxed)
            < total
        {
            if shared.stopping_hard() {
                return;
            }
            glommio::timer::sleep(Duration::from_millis(20)).await;
        }
        let ready = shared.idle_ready.load(Ordering::Relaxed);
        if let (Some(before), Some(pid)) = (rss_before, s.server_pid) {
            // let the server settle its buffers before sampling
            glommio::timer::sleep(Duration::from_millis(500)).await;
            if let Some(after) = rss::tree_mem(pid) {
                let mut st = ctx.stats.borrow_mut();
                st.notes
                    .insert("server_rss_kib_before", before.rss_kib as f64);
                st.notes
                    .insert("server_rss_kib_after", after.rss_kib as f64);
                st.notes
                    .insert("server_pss_kib_before", before.pss_kib as f64);
                st.notes
                    .insert("server_pss_kib_after", after.pss_kib as f64);
                st.notes
                    .insert("server_processes_after", after.processes as f64);
                if ready > 0 {
                    let per = |a: u64, b: u64| a.saturating_sub(b) as f64 / ready as f64;
                    st.notes.insert(
                        "server_rss_kib_per_idle_conn",
                        per(after.rss_kib, before.rss_kib),
                    );
                    st.notes.insert(
                        "server_pss_kib_per_idle_conn",
                        per(after.pss_kib, before.pss_kib),
                    );
                }
            }
        }
        ctx.stats
            .borrow_mut()
            .notes
            .insert("idle_connections", ready as f64);
        shared.start_window_now();
        deliver_loop(&ctx, slots).await;
        shared.request_stop();
    } else {
        while !shared.stopping_hard() {
            glommio::timer::sleep(Duration::from_millis(50)).await;
        }
    }
    drop(tasks);
}

async fn idle_connection(ctx: Rc<Ctx>, gate: Rc<glommio::sync::Semaphore>, index: u64, slot: u64) {
    let shared = ctx.shared.clone();
    let s = &shared.settings;
    let setup = async {
        let _permit = gate.acquire_permit(1).await.map_err(|_| Failed {
            op: "connect",
            err: crate::error::ClientError::Closed,
        })?;
        let mut imap = ctx
            .step("connect", async {
                let conn = Conn::open(&ctx.dialer, ctx.implicit_tls()).await?;
                Imap::greet(conn).await
            })
            .await?;
        if let Some(tls) = ctx.starttls() {
            ctx.step("starttls", imap.starttls(tls)).await?;
        }
        ctx.step("login", imap.login(&s.user(index), &s.password, s.auth))
            .await?;
        ctx.step("select", imap.select(&s.mailbox)).await?;
        ctx.step("idle-start", imap.idle_start()).await?;
        Ok::<Imap, Failed>(imap)
    };
    // set-up happens before the window: its errors are kept, timings not
    let mut imap = match setup.await {
        Ok(i) => i,
        Err(f) => {
            ctx.stats.borrow_mut().error(f.op, || f.err.to_string());
            shared.errors.fetch_add(1, Ordering::Relaxed);
            shared.idle_failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    shared.idle_ready.fetch_add(1, Ordering::Relaxed);
    let slot = usize::try_from(slot).unwrap_or(0);
    loop {
        match imap.idle_wait_exists().await {
            Ok(_) => {
                let now = shared.now_ns();
                let sent = shared
                    .delivered_at
                    .get(slot)
                    .map_or(0, |a| a.swap(0, Ordering::Relaxed));
                if sent != 0 && shared.measuring(sent) {
                    let took = Duration::from_nanos(now.saturating_sub(sent));
                    ctx.stats.borrow_mut().record("wakeup", took);
                    shared.done.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(e) => {
                if !shared.stopping_hard() {
                    ctx.fail(Failed { op: "idle", err: e });
                }
                return;
            }
        }
    }
}

async fn deliver_loop(ctx: &Ctx, slots: u64) {
    let shared = &ctx.shared;
    let s = &shared.settings;
    let interval = Duration::from_secs_f64(1.0 / s.delivery_rate);
    let start = Instant::now();
    let mut lmtp: Option<Lmtp> = None;
    let mut k: u64 = 0;
    while !shared.stopping() {
        let Some(t) = u32::try_from(k)
            .ok()
            .and_then(|k32| interval.checked_mul(k32))
        else {
            break;
        };
        let due = start + t;
        let now = Instant::now();
        if due > now {
            glommio::timer::sleep(due - now).await;
        }
        let slot = k % slots;
        k += 1;
        if lmtp.is_none() {
            match ctx
                .step("lmtp-connect", async {
                    let conn = Conn::open(&ctx.lmtp_dialer, None).await?;
                    let mut lm = Lmtp::greet(conn).await?;
                    lm.lhlo("loadtest.example.org").await?;
                    Ok(lm)
                })
                .await
            {
                Ok(lm) => lmtp = Some(lm),
                Err(f) => {
                    ctx.fail(f);
                    continue;
                }
            }
        }
        let Some(lm) = lmtp.as_mut() else { continue };
        let rcpt = vec![s.recipient(slot)];
        let stamp = || {
            if let Some(a) = shared.delivered_at.get(usize::try_from(slot).unwrap_or(0)) {
                a.store(shared.now_ns().max(1), Ordering::Relaxed);
            }
        };
        let r = ctx
            .step(
                "delivery",
                lm.deliver("loadgen@example.org", &rcpt, &ctx.message, stamp),
            )
            .await;
        match r {
            Ok(1) => {}
            Ok(_) => ctx.fail(Failed {
                op: "delivery",
                err: crate::error::ClientError::Refused("recipient not delivered".into()),
            }),
            Err(f) => {
                ctx.fail(f);
                lmtp = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn clients_are_shared_out_completely() {
        for (total, threads) in [(10, 3), (1, 4), (0, 2), (1000, 7)] {
            let parts: Vec<usize> = (0..threads).map(|t| share(total, threads, t)).collect();
            assert_eq!(parts.iter().sum::<usize>(), total);
            let (lo, hi) = (parts.iter().min().unwrap(), parts.iter().max().unwrap());
            assert!(hi - lo <= 1, "{parts:?}");
        }
    }
}
