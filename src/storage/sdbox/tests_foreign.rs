//! Views of one sdbox mailbox that do not share memory (two shards, two
//! tern processes) and Dovecot's tools writing alongside: each view notices
//! the others' writes at `refresh`, and a stale view's changes never hide
//! or remove what it had not seen.

use super::dbox_file::{self, DboxMetadata};
use super::dovecot_index;
use super::test_dir;
use super::test_support::{inbox, run};
use super::{SdboxMailbox, SdboxRegistry, SdboxStore};
use crate::storage::index::flag;
use crate::storage::{
    AppendRequest, FlagOp, MailLocation, MailStore, Mailbox, MailboxName, SystemFlags,
};
use futures_lite::future;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn msg(n: u32) -> AppendRequest {
    AppendRequest {
        message: format!("Subject: m{n}\r\n\r\nbody {n}\r\n").into_bytes(),
        ..Default::default()
    }
}

fn mails(root: &Path) -> PathBuf {
    root.join("mailboxes/INBOX/dbox-Mails")
}

fn flags_of(mb: &SdboxMailbox, uid: u32) -> u8 {
    mb.message(uid).map(|m| m.flags.0).unwrap_or(0xff)
}

/// A mail file as a foreign writer (Dovecot, a restore) leaves it.
fn write_foreign(root: &Path, uid: u32, subject: &str) {
    let body = format!("Subject: {subject}\n\nhello\n").into_bytes();
    let meta = DboxMetadata {
        guid: Some(format!("{uid:032x}")),
        received: Some(1_700_000_000),
        ..Default::default()
    };
    let bytes = dbox_file::encode(&body, &meta, 1_700_000_000);
    std::fs::write(mails(root).join(format!("u.{uid}")), bytes).unwrap();
}

/// Waits at most a few seconds for `mb` to announce a change after `seen`.
async fn wakes(mb: &SdboxMailbox, seen: u64) -> bool {
    let wait = async { mb.wait_for_change(seen).await > seen };
    let limit = async {
        glommio::timer::sleep(Duration::from_secs(5)).await;
        false
    };
    future::or(wait, limit).await
}

#[test]
fn each_view_sees_the_others_changes_after_refresh() {
    let root = test_dir("foreign-two-views");
    run(async {
        let a = inbox(&root).await;
        let b = inbox(&root).await;
        assert!(!a.same_as(&b), "two shards, two views");

        // Append through A; B's IDLE-style waiter wakes on B's refresh.
        let seen = b.change_counter();
        let waiter = {
            let b = b.clone();
            glommio::spawn_local(async move { wakes(&b, seen).await })
        };
        a.append(vec![msg(1), msg(2)]).await.unwrap();
        assert!(b.refresh_forced().await.unwrap());
        assert!(waiter.await, "a session waiting on B was not woken");
        assert_eq!(b.uids(), vec![1, 2]);

        // STORE with a new keyword.
        a.store(
            &[1],
            FlagOp::Add,
            SystemFlags(flag::SEEN),
            &["Work".into()],
            None,
        )
        .await
        .unwrap();
        assert!(b.refresh_forced().await.unwrap());
        let m = b.message(1).unwrap();
        assert_eq!(m.flags.0, flag::SEEN);
        assert_eq!(m.keywords, vec!["Work".to_string()]);
        assert_eq!(b.status().highest_modseq, a.status().highest_modseq);
        let since = b.changes_since(m.modseq - 1);
        assert!(
            since.changed.iter().any(|c| c.uid == 1),
            "CONDSTORE sees it"
        );

        // EXPUNGE.
        a.expunge(&[2]).await.unwrap();
        assert!(b.refresh_forced().await.unwrap());
        assert_eq!(b.uids(), vec![1]);
        assert_eq!(b.changes_since(0).expunged, vec![2]);

        // And the other way round, B's change without an explicit refresh
        // of A before A's next change: A's commit notices it is stale,
        // reloads, and both changes survive.
        b.store(&[1], FlagOp::Add, SystemFlags(flag::FLAGGED), &[], None)
            .await
            .unwrap();
        a.append(vec![msg(3)]).await.unwrap();
        assert_eq!(flags_of(&a, 1), flag::SEEN | flag::FLAGGED);
        assert!(b.refresh_forced().await.unwrap());
        assert_eq!(b.uids(), a.uids());
    });
    run(async {
        // A restart sees the same.
        let c = inbox(&root).await;
        assert_eq!(c.uids(), vec![1, 3]);
        assert_eq!(flags_of(&c, 1), flag::SEEN | flag::FLAGGED);
    });
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn stale_view_expunge_and_compaction_keep_unseen_messages() {
    let root = test_dir("foreign-stale");
    run(async {
        let a = inbox(&root).await;
        let stale = inbox(&root).await;
        a.append(vec![msg(1), msg(2)]).await.unwrap();
        assert!(stale.refresh_forced().await.unwrap());
        // Two more messages and a flag the stale view has not seen.
        a.append(vec![msg(3), msg(4)]).await.unwrap();
        a.store(&[3], FlagOp::Add, SystemFlags(flag::FLAGGED), &[], None)
            .await
            .unwrap();

        // POP3 DELE + QUIT on the stale view: expunge of the UIDs it knows.
        let gone = stale.expunge(&[1, 2]).await.unwrap();
        assert_eq!(gone, vec![1, 2]);
        assert_eq!(stale.uids(), vec![3, 4], "reloaded before committing");
        assert_eq!(flags_of(&stale, 3), flag::FLAGGED);
        for uid in [3, 4] {
            assert!(mails(&root).join(format!("u.{uid}")).exists());
        }

        // Compaction from a stale snapshot (without the \Seen on 4) is
        // refused; checked after the restart below.
        a.store(&[4], FlagOp::Add, SystemFlags(flag::SEEN), &[], None)
            .await
            .unwrap();
        stale.compact_now_for_test().await.unwrap();
        assert_eq!(flags_of(&stale, 4), 0, "still stale");
        assert!(stale.refresh_forced().await.unwrap());
        assert_eq!(flags_of(&stale, 4), flag::SEEN);
        assert_eq!(stale.status().messages, 2);
        assert_eq!(a.uids(), vec![3, 4], "A was stale too and reloaded");
    });
    run(async {
        let c = inbox(&root).await;
        assert_eq!(c.uids(), vec![3, 4]);
        assert_eq!(flags_of(&c, 3), flag::FLAGGED);
        assert_eq!(flags_of(&c, 4), flag::SEEN);
        assert!(!c.open_report().rebuilt, "{:?}", c.open_report());
    });
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn refresh_without_changes_is_cheap_and_rate_limited() {
    let root = test_dir("foreign-quiet");
    run(async {
        let a = inbox(&root).await;
        let b = inbox(&root).await;
        a.append(vec![msg(1)]).await.unwrap();
        // Settle: A's own temp file moved the directory's mtime.
        a.refresh_forced().await.unwrap();
        assert!(b.refresh_forced().await.unwrap());
        assert_eq!(
            b.rebuild_count(),
            0,
            "another tern view's append needs no rebuild"
        );
        let counts = |m: &SdboxMailbox| (m.reload_count(), m.rebuild_count(), m.commit_count());
        let (ca, cb) = (counts(&a), counts(&b));
        for _ in 0..3 {
            assert!(!a.refresh_forced().await.unwrap());
            assert!(!b.refresh_forced().await.unwrap());
        }
        assert_eq!(
            counts(&a),
            ca,
            "no reload, rebuild or commit when nothing changed"
        );
        assert_eq!(counts(&b), cb);

        // Rate limit: right after a check, an unforced refresh does not look.
        assert!(!b.refresh_forced().await.unwrap());
        write_foreign(&root, 9, "quick");
        assert!(!b.refresh().await.unwrap());
        assert_eq!(b.uids(), vec![1]);
        assert!(b.refresh_forced().await.unwrap());
        assert_eq!(b.uids(), vec![1, 9]);
        glommio::timer::sleep(super::mailbox::REFRESH_INTERVAL).await;
        write_foreign(&root, 10, "later");
        assert!(b.refresh().await.unwrap(), "the interval has passed");
        assert_eq!(b.uids(), vec![1, 9, 10]);
    });
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn files_and_flags_written_by_dovecot_are_picked_up() {
    let root = test_dir("foreign-dovecot");
    run(async {
        let a = inbox(&root).await;
        a.append(vec![msg(1), msg(2)]).await.unwrap();
        a.refresh_forced().await.unwrap();
        let modseq = a.status().highest_modseq;

        // dovecot-lda: a new mail file (and its log record) under UID 3.
        write_foreign(&root, 3, "from lda");
        let seen = a.change_counter();
        assert!(a.refresh_forced().await.unwrap());
        assert!(wakes(&a, seen).await);
        assert_eq!(a.uids(), vec![1, 2, 3]);
        let body = a.read_message(3).await.unwrap();
        assert!(body.starts_with(b"Subject: from lda\r\n"));

        // doveadm flags: Dovecot's log says \Flagged \Seen on 1, \Answered
        // $Label1 MyKeyword on 2 (and knows UID 4, which tern has not).
        std::fs::write(
            mails(&root).join(dovecot_index::LOG_FILE),
            dovecot_index::tests::sample_log(),
        )
        .unwrap();
        assert!(a.refresh_forced().await.unwrap());
        assert_eq!(flags_of(&a, 1), flag::FLAGGED | flag::SEEN);
        let m2 = a.message(2).unwrap();
        assert_eq!(m2.flags.0, flag::ANSWERED);
        assert_eq!(
            m2.keywords,
            vec!["$Label1".to_string(), "MyKeyword".to_string()]
        );
        assert_eq!(flags_of(&a, 3), 0);
        assert!(m2.modseq > modseq, "new modseq for QRESYNC/CONDSTORE");
        // Applied once: the same log again changes nothing.
        assert!(!a.refresh_forced().await.unwrap());
    });
    run(async {
        // Durable as tern's own change.
        let c = inbox(&root).await;
        assert_eq!(flags_of(&c, 1), flag::FLAGGED | flag::SEEN);
    });
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_uid_dovecot_reused_after_a_tern_expunge_keeps_its_message() {
    let root = test_dir("foreign-reuse");
    run(async {
        let a = inbox(&root).await;
        a.append(vec![msg(1), msg(2)]).await.unwrap();
        a.expunge(&[2]).await.unwrap();
        a.refresh_forced().await.unwrap();
        // Dovecot's index never saw the expunge and saves a new message as
        // u.2; its log lists UID 2 as a live message.
        write_foreign(&root, 2, "reused");
        std::fs::write(
            mails(&root).join(dovecot_index::LOG_FILE),
            dovecot_index::tests::sample_log(),
        )
        .unwrap();
        assert!(a.refresh_forced().await.unwrap());
        assert_eq!(a.uids(), vec![1, 3], "kept, under a new UID");
        let body = a.read_message(3).await.unwrap();
        assert!(body.starts_with(b"Subject: reused\r\n"));
        assert!(!mails(&root).join("u.2").exists());
    });
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_view_of_a_mailbox_deleted_elsewhere_ends() {
    let root = test_dir("foreign-deleted");
    run(async {
        let a = inbox(&root).await;
        a.append(vec![msg(1)]).await.unwrap();
        std::fs::remove_dir_all(mails(&root)).unwrap();
        let seen = a.change_counter();
        assert!(a.refresh_forced().await.is_err());
        assert!(a.is_gone());
        assert!(wakes(&a, seen).await);
    });
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_view_of_a_mailbox_replaced_elsewhere_ends_without_writing_into_the_new_one() {
    let root = test_dir("foreign-replaced");
    run(async {
        let a = inbox(&root).await;
        a.append(vec![msg(1)]).await.unwrap();
        // Deleted and created again by another program: a new, empty
        // directory at the same path.
        std::fs::rename(mails(&root), root.join("old-inbox")).unwrap();
        std::fs::create_dir(mails(&root)).unwrap();
        assert!(a.refresh_forced().await.is_err());
        assert!(a.is_gone());
        let left: Vec<_> = std::fs::read_dir(mails(&root)).unwrap().collect();
        assert!(left.is_empty(), "the old view wrote into the new mailbox");
        // A new open gets the new mailbox.
        let b = inbox(&root).await;
        assert!(b.uids().is_empty());
        assert!(!b.is_gone());
    });
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn store_open_of_a_cached_mailbox_starts_from_the_disk() {
    let root = test_dir("foreign-store-open");
    run(async {
        let loc = MailLocation::parse(&format!("sdbox:{}", root.display()), "").unwrap();
        let store = SdboxStore::open(&loc, SdboxRegistry::new(64 << 20))
            .await
            .unwrap();
        let held = store.open(&MailboxName::inbox()).await.unwrap();
        // Another shard appends; a new session on this shard sees it at once.
        let other = inbox(&root).await;
        other.append(vec![msg(1)]).await.unwrap();
        let again = store.open(&MailboxName::inbox()).await.unwrap();
        assert!(again.same_as(&held), "the cached view, refreshed");
        assert_eq!(again.uids(), vec![1]);
        // Replaced elsewhere: the dead view is dropped and the new one loaded.
        std::fs::rename(mails(&root), root.join("old-inbox")).unwrap();
        std::fs::create_dir(mails(&root)).unwrap();
        let fresh = store.open(&MailboxName::inbox()).await.unwrap();
        assert!(!fresh.same_as(&held));
        assert!(held.is_gone() && !fresh.is_gone());
        assert!(fresh.uids().is_empty());
    });
    let _ = std::fs::remove_dir_all(&root);
}
