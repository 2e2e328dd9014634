//! One trait-level test suite, run against every backend through
//! `ShardStorage::open_user` (so the dispatch is tested too). A fresh
//! `ShardStorage` stands for a server restart. The memory store has no
//! `mail_location`: it is wrapped in `AnyStore` here, one per home, and
//! survives "restarts" as it would if it were a disk.

use crate::storage::sdbox::test_dir;
use crate::storage::testing::run;
use crate::storage::{
    AnyMailbox, AnyStore, AppendRequest, FlagOp, MailStore, Mailbox, MailboxName, MemoryStore,
    MessagePart, ShardStorage, SpecialUse, StorageError, SystemFlags, UserContext,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sdbox,
    Maildir,
    MaildirFs,
    Mbox,
    Memory,
}

const ALL: [Backend; 5] = [
    Backend::Sdbox,
    Backend::Maildir,
    Backend::MaildirFs,
    Backend::Mbox,
    Backend::Memory,
];

/// Backends whose open views follow their mailbox through a RENAME.
fn views_follow_renames(b: Backend) -> bool {
    matches!(b, Backend::Sdbox | Backend::Memory)
}

fn ctx(b: Backend, home: &Path) -> UserContext {
    let loc = match b {
        Backend::Sdbox => "sdbox:~/mail".to_string(),
        Backend::Maildir => "maildir:~/Maildir".to_string(),
        Backend::MaildirFs => "maildir:~/Maildir:LAYOUT=fs".to_string(),
        Backend::Mbox => format!("mbox:~/mail:INBOX={}/spool/inbox", home.display()),
        Backend::Memory => String::new(),
    };
    let _ = std::fs::create_dir_all(home.join("spool"));
    UserContext {
        user: "jane".into(),
        home: home.display().to_string(),
        mail_location: loc,
        mail_attachment_dir: String::new(),
    }
}

thread_local! {
    /// The memory store of each test home (what a disk is to the others).
    static MEMORY: RefCell<HashMap<PathBuf, MemoryStore>> = RefCell::new(HashMap::new());
}

/// A store as after a restart: a fresh shard cache.
async fn store(b: Backend, home: &Path) -> AnyStore {
    if b == Backend::Memory {
        let s = MEMORY.with(|m| {
            m.borrow_mut()
                .entry(home.to_path_buf())
                .or_default()
                .clone()
        });
        return AnyStore::Memory(s);
    }
    ShardStorage::new(8 << 20)
        .open_user(&ctx(b, home))
        .await
        .unwrap()
}

fn name(s: &str) -> MailboxName {
    MailboxName::new(s).unwrap()
}

fn msg(n: u32) -> AppendRequest {
    AppendRequest {
        message: format!(
            "From: a@example.org\r\nSubject: m{n}\r\n\r\nBody {n}\r\nFrom the start\r\n"
        )
        .into_bytes(),
        ..Default::default()
    }
}

fn home(b: Backend, tag: &str) -> PathBuf {
    test_dir(&format!("conf-{tag}-{b:?}"))
}

type Summary = Vec<(u32, u8, Vec<String>, i64, u64)>;

fn summary(mb: &AnyMailbox) -> Summary {
    mb.messages()
        .into_iter()
        .map(|m| {
            (
                m.uid,
                m.flags.0,
                m.keywords,
                m.internal_date,
                m.virtual_size,
            )
        })
        .collect()
}

/// Remove a test home (and the memory store standing for it).
fn clean(h: &Path) {
    MEMORY.with(|m| m.borrow_mut().remove(h));
    let _ = std::fs::remove_dir_all(h);
}

/// INBOX of `b`'s store at `home`.
async fn inbox(b: Backend, home: &Path) -> AnyMailbox {
    store(b, home)
        .await
        .open(&MailboxName::inbox())
        .await
        .unwrap()
}

fn each(tag: &str, case: impl AsyncFn(Backend, PathBuf)) {
    for b in ALL {
        let h = home(b, tag);
        run(case(b, h.clone()));
        clean(&h);
    }
}

#[test]
fn append_fetch_and_uid_stability_across_restarts() {
    each("append", async |b, h| {
        let mb = inbox(b, &h).await;
        let mut first = msg(1);
        first.flags = SystemFlags::SEEN | SystemFlags::FLAGGED;
        first.keywords = vec!["$Label1".into()];
        first.internal_date = Some(1_600_000_000);
        let uids = mb
            .append(vec![first.clone(), msg(2), msg(3)])
            .await
            .unwrap();
        assert_eq!(uids, vec![1, 2, 3], "{b:?}");
        let st = mb.status();
        assert_eq!((st.messages, st.uidnext, st.unseen), (3, 4, 2), "{b:?}");
        assert_eq!(mb.read_message(1).await.unwrap(), first.message, "{b:?}");
        let wire = mb.read_message(2).await.unwrap();
        assert_eq!(wire, msg(2).message, "{b:?}");
        assert_eq!(
            mb.message(2).unwrap().virtual_size,
            wire.len() as u64,
            "{b:?}"
        );
        let header = mb.read_header(2).await.unwrap();
        assert!(header.ends_with(b"Subject: m2\r\n\r\n"), "{b:?}");
        assert_eq!(
            mb.read_range(2, 6, 13).await.unwrap(),
            b"a@example.org",
            "{b:?}"
        );
        let m1 = mb.message(1).unwrap();
        assert_eq!(m1.flags, SystemFlags::SEEN | SystemFlags::FLAGGED, "{b:?}");
        assert_eq!(m1.keywords, vec!["$Label1"], "{b:?}");
        assert_eq!(m1.internal_date, 1_600_000_000, "{b:?}");
        assert_eq!(mb.seq_of(3), Some(3));
        assert_eq!(mb.uid_at(1), Some(1));
        let before = summary(&mb);
        let (uidv, guid) = (st.uidvalidity, mb.guid());
        drop(mb);
        let again = inbox(b, &h).await;
        assert_eq!(summary(&again), before, "{b:?}");
        assert_eq!(again.status().uidvalidity, uidv, "{b:?}");
        assert_eq!(again.guid(), guid, "{b:?}");
        assert_eq!(
            again.read_message(3).await.unwrap(),
            msg(3).message,
            "{b:?}"
        );
        assert!(matches!(
            again.read_message(9).await,
            Err(StorageError::NoSuchMessage(9))
        ));
    });
}

/// A message that starts with its empty line has an empty header:
/// BODY[HEADER] is that CRLF alone, as Dovecot 2.3 answers (`{2}`), on
/// every backend.
#[test]
fn header_of_a_message_without_header_lines_is_its_empty_line() {
    each("conf-empty-header", async |b, h| {
        let mb = inbox(b, &h).await;
        let req = AppendRequest {
            message: b"\r\nbody line\r\n\r\nsecond paragraph\r\n".to_vec(),
            ..AppendRequest::default()
        };
        let uid = mb.append(vec![req]).await.unwrap()[0];
        assert_eq!(mb.read_header(uid).await.unwrap(), b"\r\n", "{b:?}");
    });
}

#[test]
fn read_parts_match_single_reads_in_the_order_asked() {
    each("read-parts", async |b, h| {
        let mb = inbox(b, &h).await;
        let no_body = AppendRequest {
            message: b"Subject: only a header\r\n".to_vec(),
            ..Default::default()
        };
        mb.append(vec![msg(1), msg(2), no_body, msg(4)])
            .await
            .unwrap();
        mb.expunge(&[2]).await.unwrap();
        let asked = [4, 99, 1, 2, 3];
        let parts = [
            MessagePart::Whole,
            MessagePart::Header,
            MessagePart::Range { start: 6, len: 13 },
            MessagePart::Range {
                start: 1000,
                len: 5,
            },
        ];
        for part in parts {
            let got = mb.read_parts(&asked, part).await.unwrap();
            assert_eq!(got.len(), asked.len(), "{b:?} {part:?}");
            for (&uid, r) in asked.iter().zip(&got) {
                let single = match part {
                    MessagePart::Whole => mb.read_message(uid).await,
                    MessagePart::Header => mb.read_header(uid).await,
                    MessagePart::Range { start, len } => mb.read_range(uid, start, len).await,
                };
                match (r, single) {
                    (Ok(batch), Ok(one)) => assert_eq!(batch, &one, "{b:?} {part:?} uid {uid}"),
                    (Err(StorageError::NoSuchMessage(u)), Err(StorageError::NoSuchMessage(_))) => {
                        assert_eq!(*u, uid, "{b:?} {part:?}")
                    }
                    (r, single) => panic!("{b:?} {part:?} uid {uid}: {r:?} vs {single:?}"),
                }
            }
            assert!(
                matches!(got[1], Err(StorageError::NoSuchMessage(99))),
                "{b:?}"
            );
            assert!(
                matches!(got[3], Err(StorageError::NoSuchMessage(2))),
                "{b:?}"
            );
        }
        let whole = mb.read_parts(&[4, 1], MessagePart::Whole).await.unwrap();
        assert_eq!(whole[0].as_deref().unwrap(), &msg(4).message[..], "{b:?}");
        assert_eq!(whole[1].as_deref().unwrap(), &msg(1).message[..], "{b:?}");
        // mbox stores a header-only message with an empty line after it.
        let header = mb.read_parts(&[3], MessagePart::Header).await.unwrap();
        assert!(
            header[0]
                .as_deref()
                .unwrap()
                .starts_with(b"Subject: only a header\r\n"),
            "{b:?}"
        );
        assert!(
            mb.read_parts(&[], MessagePart::Whole)
                .await
                .unwrap()
                .is_empty()
        );
    });
}

#[test]
fn cached_structures_match_single_lookups_in_the_order_asked() {
    each("structures", async |b, h| {
        let mb = inbox(b, &h).await;
        mb.append(vec![msg(1), msg(2), msg(3), msg(4)])
            .await
            .unwrap();
        mb.expunge(&[2]).await.unwrap();
        let asked = [4, 99, 1, 2, 3];
        // Twice: cold (misses) and warm (hits) where the backend caches.
        for round in 0..2 {
            let got = mb.cached_structures(&asked).await.unwrap();
            assert_eq!(got.len(), asked.len(), "{b:?} round {round}");
            for (&uid, r) in asked.iter().zip(&got) {
                let single = mb.cached_structure(uid).await;
                match (r, single) {
                    (Ok(batch), Ok(one)) => {
                        assert_eq!(batch, &one, "{b:?} uid {uid}");
                        if let Some(s) = batch {
                            let wire = mb.read_message(uid).await.unwrap();
                            let parsed = crate::message::ParsedMessage::parse(&wire);
                            assert_eq!(s, &parsed.cached_structure(), "{b:?} uid {uid}");
                        }
                    }
                    (Err(StorageError::NoSuchMessage(u)), Err(StorageError::NoSuchMessage(_))) => {
                        assert_eq!(*u, uid, "{b:?}")
                    }
                    (r, single) => panic!("{b:?} uid {uid}: {r:?} vs {single:?}"),
                }
            }
        }
        if b == Backend::Sdbox {
            // The running server's view (AnyMailbox) reaches the cache.
            let got = mb.cached_structures(&[1, 3, 4]).await.unwrap();
            for (r, n) in got.iter().zip([1, 3, 4]) {
                let s = r
                    .as_ref()
                    .unwrap()
                    .as_ref()
                    .expect("sdbox caches structures");
                let subject = s.envelope.subject.clone().unwrap_or_default();
                assert_eq!(subject, format!("m{n}").into_bytes());
            }
        }
        assert!(mb.cached_structures(&[]).await.unwrap().is_empty(), "{b:?}");
    });
}

#[test]
fn flags_keywords_modseq_and_changes_since() {
    each("flags", async |b, h| {
        let mb = inbox(b, &h).await;
        mb.append(vec![msg(1), msg(2), msg(3)]).await.unwrap();
        let m0 = mb.status().highest_modseq;
        let r = mb
            .store(
                &[1, 2],
                FlagOp::Add,
                SystemFlags::SEEN,
                &["Work".into()],
                None,
            )
            .await
            .unwrap();
        assert_eq!(r.changed, vec![1, 2], "{b:?}");
        assert!(r.modseq > m0, "{b:?}");
        assert_eq!(mb.keywords(), vec!["Work"], "{b:?}");
        let ch = mb.changes_since(m0);
        assert_eq!(
            ch.changed.iter().map(|m| m.uid).collect::<Vec<_>>(),
            vec![1, 2],
            "{b:?}"
        );
        assert_eq!(ch.highest_modseq, r.modseq);
        // UNCHANGEDSINCE below the current modseq refuses.
        let r2 = mb
            .store(
                &[1, 3],
                FlagOp::Replace,
                SystemFlags::ANSWERED,
                &[],
                Some(m0),
            )
            .await
            .unwrap();
        assert_eq!((r2.changed, r2.modified), (vec![3], vec![1]), "{b:?}");
        let r3 = mb
            .store(
                &[2],
                FlagOp::Remove,
                SystemFlags::SEEN,
                &["work".into()],
                None,
            )
            .await
            .unwrap();
        assert_eq!(r3.changed, vec![2]);
        let noop = mb
            .store(&[2], FlagOp::Remove, SystemFlags::SEEN, &[], None)
            .await
            .unwrap();
        assert!(noop.changed.is_empty());
        assert_eq!(noop.modseq, mb.status().highest_modseq);
        assert!(
            mb.store(
                &[1],
                FlagOp::Add,
                SystemFlags::NONE,
                &["bad kw".into()],
                None
            )
            .await
            .is_err()
        );
        let before = summary(&mb);
        let modseqs: Vec<u64> = mb.messages().iter().map(|m| m.modseq).collect();
        drop(mb);
        let again = inbox(b, &h).await;
        assert_eq!(summary(&again), before, "{b:?}");
        assert_eq!(
            again
                .messages()
                .iter()
                .map(|m| m.modseq)
                .collect::<Vec<_>>(),
            modseqs,
            "{b:?}"
        );
        assert_eq!(again.message(1).unwrap().keywords, vec!["Work"], "{b:?}");
        assert_eq!(
            again.message(3).unwrap().flags,
            SystemFlags::ANSWERED,
            "{b:?}"
        );
    });
}

#[test]
fn expunge_never_reuses_uids_and_is_reported() {
    each("expunge", async |b, h| {
        let mb = inbox(b, &h).await;
        mb.append(vec![msg(1), msg(2), msg(3)]).await.unwrap();
        let m0 = mb.status().highest_modseq;
        assert_eq!(mb.expunge(&[3, 2, 9]).await.unwrap(), vec![2, 3], "{b:?}");
        assert_eq!(mb.uids(), vec![1]);
        let ch = mb.changes_since(m0);
        assert_eq!(ch.expunged, vec![2, 3], "{b:?}");
        assert!(ch.expunged_complete);
        drop(mb);
        let again = inbox(b, &h).await;
        assert_eq!(again.append(vec![msg(4)]).await.unwrap(), vec![4], "{b:?}");
        assert_eq!(again.uids(), vec![1, 4], "{b:?}");
        assert_eq!(
            again.read_message(4).await.unwrap(),
            msg(4).message,
            "{b:?}"
        );
        assert_eq!(
            again.read_message(1).await.unwrap(),
            msg(1).message,
            "{b:?}"
        );
        assert_eq!(again.changes_since(m0).expunged, vec![2, 3], "{b:?}");
    });
}

#[test]
fn copy_and_move_keep_flags_and_map_uids() {
    each("copy", async |b, h| {
        let s = store(b, &h).await;
        s.create(&name("Archive")).await.unwrap();
        let inbox = s.open(&MailboxName::inbox()).await.unwrap();
        let arch = s.open(&name("Archive")).await.unwrap();
        let mut m = msg(1);
        m.flags = SystemFlags::SEEN;
        m.keywords = vec!["Keep".into()];
        inbox.append(vec![m, msg(2), msg(3)]).await.unwrap();
        let c = inbox.copy_to(&[1, 3], &arch).await.unwrap();
        assert_eq!(c.uid_map, vec![(1, 1), (3, 2)], "{b:?}");
        assert_eq!(c.dest_uidvalidity, arch.status().uidvalidity);
        let copied = arch.message(1).unwrap();
        assert_eq!(copied.flags, SystemFlags::SEEN, "{b:?}");
        assert_eq!(copied.keywords, vec!["Keep"], "{b:?}");
        assert_eq!(arch.read_message(2).await.unwrap(), msg(3).message, "{b:?}");
        let mv = inbox.move_to(&[2], &arch).await.unwrap();
        assert_eq!(mv.uid_map, vec![(2, 3)], "{b:?}");
        assert_eq!(inbox.uids(), vec![1, 3], "{b:?}");
        assert_eq!(arch.read_message(3).await.unwrap(), msg(2).message, "{b:?}");
        // MOVE into the mailbox itself gives the message a new UID.
        let own = inbox.move_to(&[1], &inbox).await.unwrap();
        assert_eq!(own.uid_map, vec![(1, 4)], "{b:?}");
        assert_eq!(inbox.uids(), vec![3, 4], "{b:?}");
        drop((inbox, arch));
        let s2 = store(b, &h).await;
        assert_eq!(
            s2.open(&name("Archive")).await.unwrap().uids(),
            vec![1, 2, 3],
            "{b:?}"
        );
    });
}

#[test]
fn mailbox_tree_rename_and_delete() {
    each("tree", async |b, h| {
        let s = store(b, &h).await;
        s.create(&name("Work/Projects")).await.unwrap();
        assert!(matches!(
            s.create(&name("Work/Projects")).await,
            Err(StorageError::AlreadyExists(_))
        ));
        let list = s.list().await.unwrap();
        let names: Vec<&str> = list.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, vec!["INBOX", "Work", "Work/Projects"], "{b:?}");
        let work = list.iter().find(|i| i.name.as_str() == "Work").unwrap();
        assert!(work.has_children, "{b:?}");
        let p = s.open(&name("Work/Projects")).await.unwrap();
        p.append(vec![msg(1)]).await.unwrap();
        s.rename(&name("Work"), &name("Old")).await.unwrap();
        // A view open across the rename either follows the mailbox (sdbox:
        // the same view, now named Old/Projects) or refuses to change; it
        // never writes to the old place.
        let follows = views_follow_renames(b);
        assert_eq!(
            p.append(vec![msg(2)]).await.is_ok(),
            follows,
            "{b:?}: old view after rename"
        );
        let moved = s.open(&name("Old/Projects")).await.unwrap();
        assert_eq!(
            moved.read_message(1).await.unwrap(),
            msg(1).message,
            "{b:?}"
        );
        if follows {
            assert_eq!(p.name(), name("Old/Projects"));
            assert_eq!(moved.uids(), vec![1, 2]);
            assert_eq!(p.read_message(2).await.unwrap(), msg(2).message);
        }
        assert!(matches!(
            s.open(&name("Work/Projects")).await,
            Err(StorageError::NoSuchMailbox(_))
        ));
        s.delete(&name("Old/Projects")).await.unwrap();
        assert!(s.open(&name("Old/Projects")).await.is_err());
        assert!(matches!(
            s.delete(&MailboxName::inbox()).await,
            Err(StorageError::NotAllowed(_))
        ));
        // RENAME INBOX moves the messages and leaves INBOX empty.
        let inbox = s.open(&MailboxName::inbox()).await.unwrap();
        inbox.append(vec![msg(7)]).await.unwrap();
        let before = inbox.status();
        s.rename(&MailboxName::inbox(), &name("Saved"))
            .await
            .unwrap();
        // The new INBOX never reuses a UID under the old UIDVALIDITY.
        let after = s.open(&MailboxName::inbox()).await.unwrap().status();
        assert!(
            after.uidvalidity != before.uidvalidity || after.uidnext >= before.uidnext,
            "{b:?}: {before:?} -> {after:?}"
        );
        if follows {
            assert_eq!(after.uidvalidity, before.uidvalidity);
            assert_eq!(after.uidnext, before.uidnext);
            assert!(after.highest_modseq > before.highest_modseq);
        }
        let saved = s.open(&name("Saved")).await.unwrap();
        assert_eq!(
            saved.read_message(saved.uids()[0]).await.unwrap(),
            msg(7).message,
            "{b:?}"
        );
        assert_eq!(
            s.open(&MailboxName::inbox())
                .await
                .unwrap()
                .status()
                .messages,
            0,
            "{b:?}"
        );
        let names: Vec<String> = s
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.name.to_string())
            .collect();
        assert!(
            names.contains(&"Saved".to_string()) && names.contains(&"INBOX".to_string()),
            "{b:?}"
        );
    });
}

#[test]
fn subscriptions_and_special_use() {
    each("subs", async |b, h| {
        let s = store(b, &h).await;
        s.create(&name("Sent")).await.unwrap();
        s.set_subscribed(&name("Sent"), true).await.unwrap();
        s.set_subscribed(&MailboxName::inbox(), true).await.unwrap();
        s.set_subscribed(&MailboxName::inbox(), false)
            .await
            .unwrap();
        s.set_special_use(&name("Sent"), Some(SpecialUse::Sent))
            .await
            .unwrap();
        let s2 = store(b, &h).await;
        assert_eq!(
            s2.subscriptions().await.unwrap(),
            vec![name("Sent")],
            "{b:?}"
        );
        let sent = s2
            .list()
            .await
            .unwrap()
            .into_iter()
            .find(|i| i.name == name("Sent"))
            .unwrap();
        assert!(sent.subscribed);
        assert_eq!(sent.special_use, Some(SpecialUse::Sent), "{b:?}");
    });
}

#[test]
fn sessions_share_one_view_and_get_notified() {
    each("share", async |b, h| {
        let s = store(b, &h).await;
        let a = s.open(&MailboxName::inbox()).await.unwrap();
        let c = s.open(&MailboxName::inbox()).await.unwrap();
        let seen = c.change_counter();
        let waiter = {
            let c = c.clone();
            glommio::spawn_local(async move { c.wait_for_change(seen).await })
        };
        a.append(vec![msg(1)]).await.unwrap();
        assert!(waiter.await > seen, "{b:?}");
        assert_eq!(c.uids(), vec![1], "{b:?}");
        assert_eq!(c.claim_recent().await.unwrap(), vec![1], "{b:?}");
        assert_eq!(a.status().recent, 0, "{b:?}");
    });
}

/// Set in the environment of the child process the crash test spawns:
/// `<backend>:<home>`.
const CRASH_CHILD_ENV: &str = "TERN_FOLDER_CRASH_CHILD";

fn backend_named(s: &str) -> Option<Backend> {
    ALL.into_iter().find(|b| format!("{b:?}") == s)
}

/// Child half of the crash test: appends and flags, printing an ACK line
/// after each call returns (i.e. once durable).
#[test]
#[ignore = "child half of the crash test, which starts it with TERN_FOLDER_CRASH_CHILD set"]
fn crash_child_writer() {
    let spec = std::env::var(CRASH_CHILD_ENV)
        .expect("run only by the crash test, with TERN_FOLDER_CRASH_CHILD=<backend>:<home>");
    let (b, h) = spec
        .split_once(':')
        .expect("TERN_FOLDER_CRASH_CHILD is <backend>:<home>");
    let b = backend_named(b).expect("TERN_FOLDER_CRASH_CHILD names a backend");
    let h = PathBuf::from(h);
    run(async move {
        let mb = inbox(b, &h).await;
        for i in 0..200 {
            let uid = mb.append(vec![msg(i)]).await.unwrap()[0];
            println!("ACK {uid} {i}");
            if i % 3 == 0 {
                mb.store(
                    &[uid],
                    FlagOp::Add,
                    SystemFlags::SEEN,
                    &["Crash".into()],
                    None,
                )
                .await
                .unwrap();
                println!("FLAG {uid}");
            }
            if i % 50 == 25 {
                mb.expunge(&[uid]).await.unwrap();
                println!("EXPUNGED {uid}");
            }
        }
    });
}

/// SIGKILL a writer at several points during 200 appends: every
/// acknowledged message is there exactly once, nothing partial shows.
#[test]
fn sigkill_during_appends_keeps_every_acknowledged_message() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().unwrap();
    for b in [Backend::Maildir, Backend::Mbox] {
        for kill_after in [2usize, 27, 90] {
            let h = home(b, &format!("crash{kill_after}"));
            let mut child = Command::new(&exe)
                .args([
                    "storage::conformance::crash_child_writer",
                    "--exact",
                    "--include-ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CRASH_CHILD_ENV, format!("{b:?}:{}", h.display()))
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let out = BufReader::new(child.stdout.take().unwrap());
            let (mut acked, mut flagged, mut expunged) = (Vec::new(), Vec::new(), Vec::new());
            let mut killed = false;
            for line in out.lines() {
                let line = line.unwrap();
                let parts: Vec<&str> = line.split(' ').collect();
                match parts.as_slice() {
                    ["ACK", uid, i] => {
                        acked.push((uid.parse::<u32>().unwrap(), i.parse::<u32>().unwrap()))
                    }
                    ["FLAG", uid] => flagged.push(uid.parse::<u32>().unwrap()),
                    ["EXPUNGED", uid] => expunged.push(uid.parse::<u32>().unwrap()),
                    _ => {}
                }
                if !killed && acked.len() >= kill_after {
                    child.kill().unwrap();
                    killed = true;
                }
            }
            child.wait().unwrap();
            run(async {
                let mb = inbox(b, &h).await;
                let mut bodies = Vec::new();
                for m in mb.messages() {
                    let body = mb.read_message(m.uid).await.unwrap();
                    assert_eq!(body.len() as u64, m.virtual_size, "{b:?}: partial message");
                    bodies.push(body);
                }
                let mut unique = bodies.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(
                    unique.len(),
                    bodies.len(),
                    "{b:?}: a message is there twice"
                );
                for &(uid, i) in &acked {
                    if expunged.contains(&uid) {
                        assert!(mb.message(uid).is_none(), "{b:?}: expunged {uid} is back");
                        continue;
                    }
                    assert_eq!(
                        mb.read_message(uid).await.unwrap(),
                        msg(i).message,
                        "{b:?}: acknowledged uid {uid} lost (kill after {kill_after})"
                    );
                }
                for uid in flagged.iter().filter(|u| !expunged.contains(u)) {
                    let m = mb.message(*uid).unwrap();
                    assert!(
                        m.flags.contains(SystemFlags::SEEN),
                        "{b:?}: flag on {uid} lost"
                    );
                    assert_eq!(m.keywords, vec!["Crash".to_string()]);
                }
                let next = mb.append(vec![msg(999)]).await.unwrap()[0];
                assert!(acked.iter().all(|&(u, _)| u < next), "{b:?}: UID reused");
            });
            let _ = std::fs::remove_dir_all(&h);
        }
    }
}

#[test]
fn deleting_a_parent_leaves_open_children_alone() {
    // mbox folders are files and cannot have children.
    for b in [
        Backend::Sdbox,
        Backend::Maildir,
        Backend::MaildirFs,
        Backend::Memory,
    ] {
        let h = home(b, "delparent");
        run(async {
            let s = store(b, &h).await;
            s.create(&name("A")).await.unwrap();
            s.create(&name("A/B")).await.unwrap();
            let parent = s.open(&name("A")).await.unwrap();
            let child = s.open(&name("A/B")).await.unwrap();
            s.delete(&name("A")).await.unwrap();
            assert!(parent.append(vec![msg(1)]).await.is_err(), "{b:?}");
            assert_eq!(child.append(vec![msg(2)]).await.unwrap(), vec![1], "{b:?}");
            assert!(s.open(&name("A")).await.is_err(), "{b:?}");
            s.create(&name("A")).await.unwrap();
            let again = s.open(&name("A")).await.unwrap();
            assert_eq!(again.append(vec![msg(3)]).await.unwrap(), vec![1], "{b:?}");
        });
        clean(&h);
    }
}
