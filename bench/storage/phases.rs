//! The sdbox measurements issue 3 asks for: append and read of small
//! messages, and open / flag updates on a 100,000-message mailbox, all on
//! disk through the Mailbox trait.

use super::report::Report;
use super::run::{concurrently, drop_page_cache};
use crate::common::{self, ScratchDir, store};
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;
use tern::storage::{
    AppendRequest, FlagOp, MailStore, Mailbox, MailboxName, ShardStorage, SystemFlags,
};

pub struct Scale {
    pub appends: usize,
    pub sequential_appends: usize,
    pub big_mailbox: usize,
    pub flag_updates: usize,
}

const MESSAGE_SIZE: usize = 2_048;

fn request(i: usize) -> AppendRequest {
    AppendRequest {
        message: common::messages::small(i, MESSAGE_SIZE),
        ..Default::default()
    }
}

/// Append and read of small (2 KiB) messages.
pub async fn append_and_read(base: &Path, scale: &Scale, report: &mut Report) {
    let dir = ScratchDir::new(base, "storage-append");
    let shard = ShardStorage::new(store::CACHE_BUDGET);
    let st = store::open_store(&shard, dir.path()).await;
    let inbox = Rc::new(store::open_inbox(&st).await);
    eprintln!(
        "append and read, {} messages of {MESSAGE_SIZE} bytes",
        scale.appends
    );

    let mb = inbox.clone();
    let s = concurrently(scale.sequential_appends, 1, move |i| {
        let mb = mb.clone();
        async move {
            let r = mb.append(vec![request(i)]).await;
            assert_eq!(r.map(|u| u.len()).ok(), Some(1));
        }
    })
    .await;
    report.push(
        "append, 1 message per call, sequential",
        1,
        s,
        "each acknowledged only when durable",
    );

    let mb = inbox.clone();
    let s = concurrently(scale.appends, 32, move |i| {
        let mb = mb.clone();
        async move {
            let r = mb.append(vec![request(i)]).await;
            assert_eq!(r.map(|u| u.len()).ok(), Some(1));
        }
    })
    .await;
    report.push(
        "append, 1 message per call, 32 concurrent",
        32,
        s,
        "concurrent appends share one commit (group commit)",
    );

    let mb = inbox.clone();
    let calls = scale.appends / 100;
    let mut s = concurrently(calls, 1, move |c| {
        let mb = mb.clone();
        async move {
            let reqs = (c * 100..(c + 1) * 100).map(request).collect();
            let r = mb.append(reqs).await;
            assert_eq!(r.map(|u| u.len()).ok(), Some(100));
        }
    })
    .await;
    s.ops = calls * 100;
    report.push(
        "append, 100 messages per call",
        1,
        s,
        "latency is per call of 100",
    );

    // Reads of the last `appends` messages.
    let uids: Rc<Vec<u32>> = Rc::new({
        let all = inbox.uids();
        all[all.len() - scale.appends.min(all.len())..].to_vec()
    });
    for (label, in_flight, cold) in [
        ("read_message, page cache warm", 1, false),
        ("read_message, page cache warm", 16, false),
        ("read_message, page cache cold", 1, true),
        ("read_message, page cache cold", 16, true),
    ] {
        if cold && !drop_page_cache() {
            report
                .notes
                .push("cold reads skipped: dropping the page cache needs root".into());
            continue;
        }
        let mb = inbox.clone();
        let u = uids.clone();
        let s = concurrently(u.len(), in_flight, move |i| {
            let mb = mb.clone();
            let uid = u[i];
            async move {
                let r = mb.read_message(uid).await;
                assert!(r.map(|b| b.len() >= MESSAGE_SIZE).unwrap_or(false));
            }
        })
        .await;
        report.push(label, in_flight, s, "");
    }
}

/// Copies a directory tree (setup only; runs before any measurement).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<u64> {
    std::fs::create_dir_all(to)?;
    let mut files = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            files += copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
            files += 1;
        }
    }
    Ok(files)
}

/// Open and flag updates on a mailbox of `scale.big_mailbox` messages.
pub async fn big_mailbox(fast_base: &Path, disk_base: &Path, scale: &Scale, report: &mut Report) {
    let n = scale.big_mailbox;
    eprintln!("{n}-message mailbox: building on {}", fast_base.display());
    // Built through the API on tmpfs (100,000 fsyncs on this disk would
    // take minutes), then copied to disk: the result is the same files a
    // server would have written.
    let t = Instant::now();
    let fx = store::filled_inbox(fast_base, "storage-big-src", n, 600).await;
    let built = t.elapsed();
    let disk = ScratchDir::new(disk_base, "storage-big");
    let t = Instant::now();
    let copied = match copy_tree(fx.dir.path(), disk.path()) {
        Ok(c) => c,
        Err(e) => panic!("copying the fixture to disk failed: {e}"),
    };
    drop(fx);
    report.notes.push(format!(
        "{n}-message mailbox: appended through the Mailbox trait on tmpfs in {:.1} s (1,000 per call), \
         then {copied} files copied to disk in {:.1} s",
        built.as_secs_f64(),
        t.elapsed().as_secs_f64()
    ));
    let root = disk.path().to_path_buf();

    // Cold: page cache dropped and a fresh shard cache.
    let mut cold = Vec::new();
    for _ in 0..3 {
        if !drop_page_cache() {
            report
                .notes
                .push("cold open skipped: dropping the page cache needs root".into());
            break;
        }
        let shard = ShardStorage::new(store::CACHE_BUDGET);
        let t = Instant::now();
        let st = store::open_store(&shard, &root).await;
        let mb = store::open_inbox(&st).await;
        cold.push(t.elapsed());
        assert_eq!(mb.status().messages as usize, n);
        if let tern::storage::AnyMailbox::Sdbox(sd) = &mb
            && sd.open_report().rebuilt
        {
            report
                .notes
                .push("the copied index was rebuilt on open (unexpected)".into());
        }
    }
    if !cold.is_empty() {
        report.push(
            &format!("open {n}-message INBOX, cold (page cache dropped)"),
            1,
            sample_of(&cold),
            "store + mailbox open",
        );
    }
    // Warm page cache, fresh shard cache (a new login after eviction).
    let mut warm = Vec::new();
    for _ in 0..5 {
        let shard = ShardStorage::new(store::CACHE_BUDGET);
        let t = Instant::now();
        let st = store::open_store(&shard, &root).await;
        let mb = store::open_inbox(&st).await;
        warm.push(t.elapsed());
        assert_eq!(mb.status().messages as usize, n);
    }
    report.push(
        &format!("open {n}-message INBOX, page cache warm, shard cache empty"),
        1,
        sample_of(&warm),
        "store + mailbox open",
    );

    // Shard cache warm: another session opens the mailbox already held.
    let shard = ShardStorage::new(store::CACHE_BUDGET);
    let st = store::open_store(&shard, &root).await;
    let inbox = Rc::new(store::open_inbox(&st).await);
    let st = Rc::new(st);
    let s2 = st.clone();
    let s = concurrently(1_000, 1, move |_| {
        let st = s2.clone();
        async move {
            let mb = st.open(&MailboxName::inbox()).await;
            assert!(mb.is_ok());
        }
    })
    .await;
    report.push(
        &format!("open {n}-message INBOX, shard cache warm"),
        1,
        s,
        "mailbox already open on the shard",
    );
    report.notes.push(format!(
        "shard cache memory for the {n}-message INBOX: {:.1} MiB (MailboxRegistry::memory_used)",
        shard.sdbox.memory_used() as f64 / (1 << 20) as f64
    ));

    // Flag updates, each a durable commit.
    let uids = Rc::new(inbox.uids());
    let mb = inbox.clone();
    let u = uids.clone();
    let s = concurrently(scale.flag_updates, 1, move |k| {
        let mb = mb.clone();
        let uid = u[(k * 7_919) % u.len()];
        async move {
            let r = mb
                .store(&[uid], FlagOp::Add, SystemFlags::FLAGGED, &[], None)
                .await;
            assert!(r.is_ok());
        }
    })
    .await;
    report.push(
        &format!("STORE +FLAGS 1 message of {n}, sequential"),
        1,
        s,
        "one durable commit each",
    );

    let mb = inbox.clone();
    let u = uids.clone();
    let s = concurrently(scale.flag_updates, 16, move |k| {
        let mb = mb.clone();
        let uid = u[(k * 7_919 + 13) % u.len()];
        async move {
            let r = mb
                .store(&[uid], FlagOp::Add, SystemFlags::ANSWERED, &[], None)
                .await;
            assert!(r.is_ok());
        }
    })
    .await;
    report.push(
        &format!("STORE +FLAGS 1 message of {n}, 16 sessions"),
        16,
        s,
        "",
    );

    let mb = inbox.clone();
    let u = uids.clone();
    let ranges = (scale.flag_updates / 15).max(4);
    let s = concurrently(ranges, 1, move |k| {
        let mb = mb.clone();
        let from = (k / 2 * 7_919) % (u.len() - 1_000);
        let range = u[from..from + 1_000].to_vec();
        let op = if k.is_multiple_of(2) {
            FlagOp::Add
        } else {
            FlagOp::Remove
        };
        async move {
            let r = mb.store(&range, op, SystemFlags::DRAFT, &[], None).await;
            assert!(r.is_ok());
        }
    })
    .await;
    report.push(
        &format!("STORE 1,000 messages of {n}"),
        1,
        s,
        "latency per STORE of 1,000; add/remove alternate",
    );

    let mb = inbox.clone();
    let u = uids.clone();
    let s = concurrently(4, 1, move |k| {
        let mb = mb.clone();
        let all = u.clone();
        let op = if k.is_multiple_of(2) {
            FlagOp::Add
        } else {
            FlagOp::Remove
        };
        async move {
            let r = mb.store(&all, op, SystemFlags::DELETED, &[], None).await;
            assert_eq!(r.map(|s| s.changed.len()).ok(), Some(all.len()));
        }
    })
    .await;
    report.push(
        &format!("STORE all {n} messages"),
        1,
        s,
        "latency per STORE 1:*; add/remove alternate",
    );
    drop(inbox);
    drop(disk);
}

fn sample_of(times: &[std::time::Duration]) -> super::run::Sample {
    let mut latencies_us: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1e6).collect();
    latencies_us.sort_by(f64::total_cmp);
    super::run::Sample {
        ops: times.len(),
        wall: times.iter().sum(),
        latencies_us,
    }
}
