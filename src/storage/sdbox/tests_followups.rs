//! Tests for the structure cache (`tern.cache`), STORE group commit and
//! the running status counters.

use super::test_support::text_plain_msg as msg;
use super::test_support::{inbox, run};
use super::{CACHE_COMPACT_MIN_DEAD, SdboxMailbox};
use crate::message::{CachedStructure, ParsedMessage};
use crate::storage::Mailbox;
use crate::storage::index::cache_file::CACHE_FILE;
use std::fs;
use std::path::{Path, PathBuf};

/// One way of damaging a file on disk.
type Damage = Box<dyn Fn(&Path)>;

fn cache_path(root: &Path) -> PathBuf {
    root.join("mailboxes/INBOX/dbox-Mails").join(CACHE_FILE)
}

async fn expected(mb: &SdboxMailbox, uid: u32) -> CachedStructure {
    let wire = mb.read_message(uid).await.unwrap();
    ParsedMessage::parse(&wire).cached_structure()
}

fn subject(s: &CachedStructure) -> Vec<u8> {
    s.envelope.subject.clone().unwrap_or_default()
}

#[test]
fn structure_cache_hit_miss_and_reopen() {
    let tmp = crate::storage::testing::TempDir::new("cache-hit");
    let root = tmp.path().to_path_buf();
    run(async {
        let mb = inbox(&root).await;
        mb.append((1..=3).map(msg).collect()).await.unwrap();
        let first = mb.cached_structure(2).await.unwrap().unwrap();
        assert_eq!(first, expected(&mb, 2).await);
        assert_eq!(subject(&first), b"test 2");
        // A hit gives the same answer and the file holds the record.
        assert_eq!(mb.cached_structure(2).await.unwrap().unwrap(), first);
        let len = fs::metadata(cache_path(&root)).unwrap().len();
        assert!(len > 16, "record written ({len} bytes)");
        assert!(mb.cached_structure(99).await.is_err(), "unknown UID");
    });
    run(async {
        let mb = inbox(&root).await;
        let before = fs::read(cache_path(&root)).unwrap();
        let again = mb.cached_structure(2).await.unwrap().unwrap();
        assert_eq!(subject(&again), b"test 2");
        // Served from the file: a hit appends nothing.
        assert_eq!(fs::read(cache_path(&root)).unwrap(), before);
    });
}

#[test]
fn structure_cache_heals_from_damage() {
    let tmp = crate::storage::testing::TempDir::new("cache-heal");
    let root = tmp.path().to_path_buf();
    run(async {
        let mb = inbox(&root).await;
        mb.append((1..=4).map(msg).collect()).await.unwrap();
        for uid in 1..=4 {
            mb.cached_structure(uid).await.unwrap().unwrap();
        }
    });
    let good = fs::read(cache_path(&root)).unwrap();
    let damage: Vec<Damage> = vec![
        Box::new(|p| fs::remove_file(p).unwrap()),
        Box::new(|p| {
            let b = fs::read(p).unwrap();
            fs::write(p, &b[..b.len() - 5]).unwrap();
        }),
        Box::new(|p| {
            let mut b = fs::read(p).unwrap();
            let mid = b.len() / 2;
            b[mid] ^= 0xff;
            fs::write(p, &b).unwrap();
        }),
        Box::new(|p| fs::write(p, b"not a cache at all").unwrap()),
    ];
    for (i, hurt) in damage.iter().enumerate() {
        fs::write(cache_path(&root), &good).unwrap();
        hurt(&cache_path(&root));
        run(async {
            let mb = inbox(&root).await;
            for uid in 1..=4 {
                let s = mb.cached_structure(uid).await.unwrap().unwrap();
                assert_eq!(s, expected(&mb, uid).await, "damage {i}, uid {uid}");
            }
        });
        // Healed: the file is whole again and every record reads back.
        let healed = fs::read(cache_path(&root)).unwrap();
        let loaded = crate::storage::index::cache_file::decode_cache_file(&healed, {
            let mut v = 0;
            run(async { v = inbox(&root).await.status().uidvalidity });
            v
        });
        assert_eq!(loaded.problem, None, "damage {i}");
        assert_eq!(loaded.entries.len(), 4, "damage {i}");
    }
}

#[test]
fn structure_cache_drops_expunged_at_compaction() {
    let tmp = crate::storage::testing::TempDir::new("cache-compact");
    let root = tmp.path().to_path_buf();
    let n = (CACHE_COMPACT_MIN_DEAD as u32) * 2 + 10;
    run(async {
        let mb = inbox(&root).await;
        mb.append((1..=n).map(msg).collect()).await.unwrap();
        for uid in 1..=n {
            mb.cached_structure(uid).await.unwrap().unwrap();
        }
        let full = fs::metadata(cache_path(&root)).unwrap().len();
        let doomed: Vec<u32> = (1..=n - 5).collect();
        mb.expunge(&doomed).await.unwrap();
        assert_eq!(mb.cache_dead_records(), 0, "compacted");
        let small = fs::metadata(cache_path(&root)).unwrap().len();
        assert!(small * 10 < full, "{small} vs {full}");
        for uid in n - 4..=n {
            let s = mb.cached_structure(uid).await.unwrap().unwrap();
            assert_eq!(subject(&s), format!("test {uid}").as_bytes());
        }
        // A resync drops the in-memory copy; the file serves it again.
        mb.force_resync().await.unwrap();
        let s = mb.cached_structure(n).await.unwrap().unwrap();
        assert_eq!(subject(&s), format!("test {n}").as_bytes());
        assert!(mb.cached_structure(1).await.is_err(), "expunged");
    });
    let uidvalidity = {
        let mut v = 0;
        run(async { v = inbox(&root).await.status().uidvalidity });
        v
    };
    let loaded = crate::storage::index::cache_file::decode_cache_file(
        &fs::read(cache_path(&root)).unwrap(),
        uidvalidity,
    );
    let mut uids: Vec<u32> = loaded.entries.keys().copied().collect();
    uids.sort_unstable();
    assert_eq!(uids, (n - 4..=n).collect::<Vec<_>>());
}

#[test]
fn concurrent_stores_share_commits_and_are_durable() {
    use crate::storage::{FlagOp, SystemFlags};
    let tmp = crate::storage::testing::TempDir::new("store-group");
    let root = tmp.path().to_path_buf();
    let n = 16u32;
    run(async {
        let mb = inbox(&root).await;
        mb.append((1..=n).map(msg).collect()).await.unwrap();
        let before = mb.commit_count();
        let mut tasks = Vec::new();
        for uid in 1..=n {
            let m = mb.clone();
            tasks.push(glommio::spawn_local(async move {
                let kw = vec![format!("$K{}", uid % 3)];
                m.store(&[uid], FlagOp::Add, SystemFlags::SEEN, &kw, None)
                    .await
            }));
        }
        let mut modseqs = Vec::new();
        for t in tasks {
            let r = t.await.unwrap();
            assert_eq!(r.changed.len(), 1);
            modseqs.push(r.modseq);
        }
        modseqs.sort_unstable();
        modseqs.dedup();
        assert_eq!(modseqs.len(), n as usize, "each store has its own modseq");
        let commits = mb.commit_count() - before;
        assert!(
            commits < u64::from(n),
            "no group commit ({commits} commits)"
        );
        assert_eq!(mb.status().unseen, 0);
    });
    run(async {
        let mb = inbox(&root).await;
        assert_eq!(mb.status().unseen, 0, "every store durable");
        for m in mb.messages() {
            assert!(m.flags.contains(SystemFlags::SEEN));
            assert_eq!(m.keywords, vec![format!("$K{}", m.uid % 3)]);
        }
    });
    let _ = fs::remove_dir_all(&root);
}

/// STATUS and changes-since recomputed by scanning every message.
fn scanned(mb: &SdboxMailbox, since: u64) -> ((u32, u32, u32, u32, u64), Vec<u32>) {
    use crate::storage::SystemFlags;
    let msgs = mb.messages();
    let counts = (
        msgs.len() as u32,
        msgs.iter().filter(|m| m.recent).count() as u32,
        msgs.iter()
            .filter(|m| !m.flags.contains(SystemFlags::SEEN))
            .count() as u32,
        msgs.iter()
            .filter(|m| m.flags.contains(SystemFlags::DELETED))
            .count() as u32,
        msgs.iter().map(|m| m.virtual_size).sum(),
    );
    let changed = msgs
        .iter()
        .filter(|m| m.modseq > since)
        .map(|m| m.uid)
        .collect();
    (counts, changed)
}

fn summarised(mb: &SdboxMailbox, since: u64) -> ((u32, u32, u32, u32, u64), Vec<u32>) {
    let s = mb.status();
    let changed = mb
        .changes_since(since)
        .changed
        .into_iter()
        .map(|m| m.uid)
        .collect();
    ((s.messages, s.recent, s.unseen, s.deleted, s.size), changed)
}

#[test]
fn status_counters_match_a_recount_after_random_operations() {
    use crate::storage::{FlagOp, SystemFlags};
    let tmp = crate::storage::testing::TempDir::new("counters");
    let root = tmp.path().to_path_buf();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: u32| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % u64::from(n.max(1))) as u32
    };
    run(async {
        let mb = inbox(&root).await;
        for step in 0..60 {
            let uids = mb.uids();
            let some: Vec<u32> = (0..3)
                .filter_map(|_| uids.get(next(uids.len() as u32) as usize).copied())
                .collect();
            match next(5) {
                0 | 1 => {
                    let mut m = msg(step);
                    m.flags = SystemFlags(next(32) as u8);
                    mb.append(vec![m]).await.unwrap();
                }
                2 => {
                    let op = [FlagOp::Add, FlagOp::Remove, FlagOp::Replace][next(3) as usize];
                    let flags = SystemFlags(next(32) as u8);
                    mb.store(&some, op, flags, &[], None).await.unwrap();
                }
                3 => {
                    mb.expunge(&some).await.unwrap();
                }
                _ => {
                    mb.claim_recent().await.unwrap();
                }
            }
            let since = u64::from(next(mb.status().highest_modseq as u32 + 1));
            assert_eq!(summarised(&mb, since), scanned(&mb, since), "step {step}");
        }
    });
    run(async {
        let mb = inbox(&root).await;
        for since in [0, 5, 20] {
            assert_eq!(summarised(&mb, since), scanned(&mb, since), "after reopen");
        }
    });
    let _ = fs::remove_dir_all(&root);
}

/// Not a check, a measurement: `cargo test --lib store_rate -- --ignored
/// --nocapture`. 16 sessions' STOREs at once against one at a time.
#[test]
#[ignore]
fn store_rate() {
    use crate::storage::{FlagOp, SystemFlags};
    let tmp = crate::storage::testing::TempDir::new("store-rate");
    let root = tmp.path().to_path_buf();
    run(async {
        let mb = inbox(&root).await;
        mb.append((1..=200).map(msg).collect()).await.unwrap();
        let rounds = 20u32;
        let t = std::time::Instant::now();
        for i in 0..rounds * 4 {
            let uid = i % 200 + 1;
            let op = if i % 2 == 0 {
                FlagOp::Add
            } else {
                FlagOp::Remove
            };
            mb.store(&[uid], op, SystemFlags::FLAGGED, &[], None)
                .await
                .unwrap();
        }
        let serial = f64::from(rounds * 4) / t.elapsed().as_secs_f64();
        let before = mb.commit_count();
        let t = std::time::Instant::now();
        let mut tasks = Vec::new();
        for s in 0..16u32 {
            let m = mb.clone();
            tasks.push(glommio::spawn_local(async move {
                for i in 0..rounds {
                    let uid = s * 12 + i % 12 + 1;
                    let op = if i % 2 == 0 {
                        FlagOp::Add
                    } else {
                        FlagOp::Remove
                    };
                    m.store(&[uid], op, SystemFlags::SEEN, &[], None)
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await;
        }
        let parallel = f64::from(16 * rounds) / t.elapsed().as_secs_f64();
        let commits = mb.commit_count() - before;
        println!(
            "STORE/s: one session {serial:.0}, 16 sessions {parallel:.0} ({} stores in {commits} commits)",
            16 * rounds
        );
        assert!(commits <= u64::from(16 * rounds));
    });
    let _ = fs::remove_dir_all(&root);
}

/// Descriptors this process holds on files under `dir`.
fn fds_under(dir: &Path) -> usize {
    fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|e| fs::read_link(e.path()).ok())
        .filter(|target| target.starts_with(dir))
        .count()
}

/// An open mailbox keeps no file open between commits: 10,000 IDLE
/// sessions must not cost 20,000 descriptors.
#[test]
fn open_mailbox_holds_no_descriptors() {
    let tmp = crate::storage::testing::TempDir::new("no-fds");
    let root = tmp.path().to_path_buf();
    run(async {
        let mb = inbox(&root).await;
        let root = fs::canonicalize(&root).unwrap();
        assert_eq!(fds_under(&root), 0, "after open");
        mb.append((1..=3).map(msg).collect()).await.unwrap();
        assert_eq!(fds_under(&root), 0, "after appends");
        assert!(!mb.read_message(2).await.unwrap().is_empty());
        assert_eq!(fds_under(&root), 0, "after a read");
        // Commits still land: a fresh open sees all three.
        drop(mb);
        let again = inbox(&root).await;
        assert_eq!(again.status().messages, 3);
    });
}

/// Issue 16: the first deliveries (or logins) of a new user race to create
/// the store. Every opener must succeed and find INBOX complete, whichever
/// thread wins; the UIDVALIDITY is the winner's for all of them.
#[test]
fn concurrent_first_opens_of_a_new_store_all_succeed() {
    use super::{SdboxRegistry, SdboxStore};
    use crate::storage::{MailLocation, MailStore, MailboxName};
    for round in 0..20 {
        let root = super::test_dir(&format!("race{round}"));
        let store_root = root.join("user");
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let store_root = store_root.clone();
                std::thread::spawn(move || {
                    run(async move {
                        let location = format!("sdbox:{}", store_root.display());
                        let loc = MailLocation::parse(&location, "").map_err(|e| e.to_string())?;
                        let store = SdboxStore::open(&loc, SdboxRegistry::new(1 << 20))
                            .await
                            .map_err(|e| e.to_string())?;
                        let inbox = store
                            .open(&MailboxName::inbox())
                            .await
                            .map_err(|e| e.to_string())?;
                        Ok::<u32, String>(inbox.status().uidvalidity)
                    })
                })
            })
            .collect();
        let results: Vec<Result<u32, String>> = threads
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|_| Err("panicked".into())))
            .collect();
        let _ = fs::remove_dir_all(&root);
        let first = results[0].clone();
        assert!(first.is_ok(), "round {round}: {results:?}");
        assert!(
            results.iter().all(|r| *r == first),
            "round {round}: {results:?}"
        );
    }
}
