//! Trait-level, format and self-healing tests for the sdbox backend.

use super::dbox_file;
use super::test_dir;
use super::{SdboxMailbox, SdboxRegistry, SdboxStore};
use crate::storage::dovecot_rig::{DOVECOT_IMAP, DOVECOT_LDA, DovecotRig};
use crate::storage::index::files::{INDEX_FILE, LOG_FILE, STATE_FILE};
use crate::storage::testing::run;
use crate::storage::{
    AppendRequest, FlagOp, MailLocation, MailStore, Mailbox, MailboxName, SpecialUse, StorageError,
    SystemFlags,
};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A store with a fresh registry: a new registry behaves like a restart.
async fn store(root: &Path) -> SdboxStore {
    let loc = MailLocation::parse(&format!("sdbox:{}", root.display()), "").unwrap();
    SdboxStore::open(&loc, SdboxRegistry::new(64 << 20))
        .await
        .unwrap()
}

fn name(s: &str) -> MailboxName {
    MailboxName::new(s).unwrap()
}

fn msg(n: u32) -> AppendRequest {
    AppendRequest {
        message: format!("Subject: test {n}\r\nFrom: a@example.org\r\n\r\nBody {n}\r\n")
            .into_bytes(),
        ..Default::default()
    }
}

fn inbox_dir(root: &Path) -> PathBuf {
    root.join("mailboxes/INBOX/dbox-Mails")
}

async fn inbox(root: &Path) -> SdboxMailbox {
    store(root).await.open(&MailboxName::inbox()).await.unwrap()
}

/// (uid, flags, keywords, guid, internal date) of each message.
type MessageSummary = Vec<(u32, u8, Vec<String>, String, i64)>;
/// (uidvalidity, mailbox guid, messages): what must survive any index damage.
type Fingerprint = (u32, [u8; 16], MessageSummary);

fn fingerprint(mb: &SdboxMailbox) -> Fingerprint {
    let st = mb.status();
    let msgs = mb
        .messages()
        .into_iter()
        .map(|m| (m.uid, m.flags.0, m.keywords, m.guid, m.internal_date))
        .collect();
    (st.uidvalidity, mb.guid(), msgs)
}

#[test]
fn append_read_and_reopen() {
    let root = test_dir("append");
    run(async {
        let mb = inbox(&root).await;
        let mut req = msg(1);
        req.internal_date = Some(0x5ec12740);
        req.flags = SystemFlags::SEEN;
        req.keywords = vec!["$Label1".into()];
        let uids = mb.append(vec![req, msg(2), msg(3)]).await.unwrap();
        assert_eq!(uids, vec![1, 2, 3]);
        let st = mb.status();
        assert_eq!(
            (st.messages, st.uidnext, st.unseen, st.recent),
            (3, 4, 2, 3)
        );
        let m1 = mb.message(1).unwrap();
        assert_eq!(m1.internal_date, 0x5ec12740);
        assert_eq!(m1.flags, SystemFlags::SEEN);
        assert_eq!(m1.keywords, vec!["$Label1".to_string()]);
        assert_eq!(m1.guid.len(), 32);
        let wire = mb.read_message(1).await.unwrap();
        assert_eq!(wire, msg(1).message);
        assert_eq!(wire.len() as u64, m1.virtual_size);
        assert_eq!(
            m1.physical_size,
            m1.virtual_size - 4,
            "stored with LF line ends"
        );
        assert_eq!(mb.read_range(1, 0, 9).await.unwrap(), b"Subject: ");
        assert_eq!(mb.read_range(1, 1000, 9).await.unwrap(), b"");
        assert!(matches!(
            mb.read_message(99).await,
            Err(StorageError::NoSuchMessage(99))
        ));

        // On disk: Dovecot's exact format.
        let raw = fs::read(inbox_dir(&root).join("u.1")).unwrap();
        assert!(raw.starts_with(b"2 M1e C"));
        let h = dbox_file::parse_header(&raw).unwrap();
        let md = dbox_file::parse_metadata(&raw[(h.body_offset + h.body_size) as usize..]).unwrap();
        assert_eq!(md.received, Some(0x5ec12740));
        assert_eq!(md.virtual_size, Some(m1.virtual_size));
        assert_eq!(md.guid.as_deref(), Some(m1.guid.as_str()));
        assert!(!raw.windows(2).any(|w| w == b"\r\n"));
        let tail =
            String::from_utf8_lossy(&raw[(h.body_offset + h.body_size) as usize..]).into_owned();
        assert!(tail.starts_with("\n\x01\x03\nR5ec12740\nV"), "{tail:?}");
        let before = fingerprint(&mb);
        drop(mb);

        let again = inbox(&root).await;
        assert_eq!(fingerprint(&again), before);
        assert!(!again.open_report().rebuilt);
        assert_eq!(again.append(vec![msg(4)]).await.unwrap(), vec![4]);
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn flags_keywords_modseq_and_changes() {
    let root = test_dir("flags");
    run(async {
        let mb = inbox(&root).await;
        mb.append(vec![msg(1), msg(2), msg(3)]).await.unwrap();
        let base = mb.status().highest_modseq;
        let r = mb
            .store(
                &[1, 2, 99],
                FlagOp::Add,
                SystemFlags::SEEN | SystemFlags::FLAGGED,
                &["Work".into()],
                None,
            )
            .await
            .unwrap();
        assert_eq!(r.changed, vec![1, 2]);
        assert!(r.modseq > base);
        assert_eq!(mb.message(2).unwrap().keywords, vec!["Work".to_string()]);
        assert_eq!(mb.keywords(), vec!["Work".to_string()]);
        // Same change again: nothing changes, modseq stays.
        let again = mb
            .store(&[1], FlagOp::Add, SystemFlags::SEEN, &[], None)
            .await
            .unwrap();
        assert!(again.changed.is_empty());
        assert_eq!(mb.status().highest_modseq, r.modseq);
        // UNCHANGEDSINCE below the message's modseq fails that message.
        let cond = mb
            .store(&[1, 3], FlagOp::Add, SystemFlags::DRAFT, &[], Some(base))
            .await
            .unwrap();
        assert_eq!(cond.modified, vec![1]);
        assert_eq!(cond.changed, vec![3]);
        mb.store(
            &[2],
            FlagOp::Remove,
            SystemFlags::SEEN,
            &["work".into()],
            None,
        )
        .await
        .unwrap();
        assert_eq!(mb.message(2).unwrap().flags, SystemFlags::FLAGGED);
        assert!(mb.message(2).unwrap().keywords.is_empty());
        mb.store(
            &[1],
            FlagOp::Replace,
            SystemFlags::ANSWERED,
            &["$Junk".into()],
            None,
        )
        .await
        .unwrap();
        assert_eq!(mb.message(1).unwrap().flags, SystemFlags::ANSWERED);
        assert_eq!(mb.message(1).unwrap().keywords, vec!["$Junk".to_string()]);
        assert!(matches!(
            mb.store(
                &[1],
                FlagOp::Add,
                SystemFlags::NONE,
                &["bad word".into()],
                None
            )
            .await,
            Err(StorageError::BadKeyword(_))
        ));

        let ch = mb.changes_since(cond.modseq);
        let changed: Vec<u32> = ch.changed.iter().map(|m| m.uid).collect();
        assert_eq!(changed, vec![1, 2]);
        assert!(ch.expunged.is_empty() && ch.expunged_complete);
        let before = fingerprint(&mb);
        let hm = mb.status().highest_modseq;
        drop(mb);
        let again = inbox(&root).await;
        assert_eq!(fingerprint(&again), before);
        assert_eq!(again.status().highest_modseq, hm);
        assert_eq!(again.message(1).unwrap().modseq, hm);
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn expunge_never_reuses_uids() {
    let root = test_dir("expunge");
    run(async {
        let mb = inbox(&root).await;
        mb.append(vec![msg(1), msg(2), msg(3)]).await.unwrap();
        let m = mb.status().highest_modseq;
        assert_eq!(mb.expunge(&[3, 2, 77]).await.unwrap(), vec![2, 3]);
        assert!(!inbox_dir(&root).join("u.3").exists());
        assert_eq!(mb.uids(), vec![1]);
        assert_eq!(
            (mb.uid_at(1), mb.uid_at(2), mb.uid_at(0)),
            (Some(1), None, None)
        );
        assert_eq!((mb.seq_of(1), mb.seq_of(2)), (Some(1), None));
        let ch = mb.changes_since(m);
        assert_eq!(ch.expunged, vec![2, 3]);
        assert_eq!(mb.status().uidnext, 4);
        drop(mb);
        let again = inbox(&root).await;
        assert_eq!(again.status().uidnext, 4);
        assert_eq!(again.changes_since(m).expunged, vec![2, 3]);
        assert_eq!(again.append(vec![msg(4)]).await.unwrap(), vec![4]);
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn copy_and_move_hard_link() {
    let root = test_dir("copy");
    run(async {
        let s = store(&root).await;
        s.create(&name("Archive")).await.unwrap();
        let src = s.open(&MailboxName::inbox()).await.unwrap();
        let dst = s.open(&name("Archive")).await.unwrap();
        let mut m = msg(1);
        m.keywords = vec!["$Label1".into()];
        m.flags = SystemFlags::FLAGGED;
        src.append(vec![m, msg(2), msg(3)]).await.unwrap();
        let r = src.copy_to(&[3, 1], &dst).await.unwrap();
        assert_eq!(r.uid_map, vec![(1, 1), (3, 2)]);
        assert_eq!(r.dest_uidvalidity, dst.status().uidvalidity);
        let a = fs::metadata(inbox_dir(&root).join("u.1")).unwrap();
        let b = fs::metadata(root.join("mailboxes/Archive/dbox-Mails/u.1")).unwrap();
        assert_eq!(a.ino(), b.ino());
        assert_eq!(a.nlink(), 2);
        let copied = dst.message(1).unwrap();
        assert_eq!(copied.flags, SystemFlags::FLAGGED);
        assert_eq!(copied.keywords, vec!["$Label1".to_string()]);
        assert_eq!(copied.guid, src.message(1).unwrap().guid);
        assert_eq!(dst.read_message(2).await.unwrap(), msg(3).message);

        let mv = src.move_to(&[2], &dst).await.unwrap();
        assert_eq!(mv.uid_map, vec![(2, 3)]);
        assert_eq!(src.uids(), vec![1, 3]);
        assert_eq!(src.seq_of(3), Some(2));
        let some: Vec<u32> = src
            .messages_by_uid(&[3, 2, 1, 3])
            .iter()
            .map(|m| m.uid)
            .collect();
        assert_eq!(some, vec![1, 3]);
        assert_eq!(dst.uids(), vec![1, 2, 3]);
        // MOVE into the same mailbox: a new UID for the message.
        let again = src.move_to(&[1], &src).await.unwrap();
        assert_eq!(again.uid_map, vec![(1, 4)]);
        assert_eq!(src.uids(), vec![3, 4]);
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn mailbox_tree_operations() {
    let root = test_dir("tree");
    run(async {
        let s = store(&root).await;
        s.create(&name("Archive/2024")).await.unwrap();
        s.create(&name("Café")).await.unwrap();
        assert!(root.join("mailboxes/Caf&AOk-/dbox-Mails").is_dir());
        assert!(matches!(
            s.create(&name("Café")).await,
            Err(StorageError::AlreadyExists(_))
        ));
        let list = s.list().await.unwrap();
        let names: Vec<(&str, bool, bool)> = list
            .iter()
            .map(|i| (i.name.as_str(), i.selectable, i.has_children))
            .collect();
        assert_eq!(
            names,
            vec![
                ("Archive", false, true),
                ("Archive/2024", true, false),
                ("Café", true, false),
                ("INBOX", true, false)
            ]
        );
        let a = s.open(&name("Archive/2024")).await.unwrap();
        a.append(vec![msg(1)]).await.unwrap();
        let uidv = a.status().uidvalidity;

        s.rename(&name("Archive"), &name("Old/Stuff"))
            .await
            .unwrap();
        // Views open across the rename follow the mailbox.
        assert!(!a.is_gone());
        assert_eq!(a.name(), name("Old/Stuff/2024"));
        assert_eq!(a.append(vec![msg(2)]).await.unwrap(), vec![2]);
        let moved = s.open(&name("Old/Stuff/2024")).await.unwrap();
        assert!(moved.same_as(&a));
        assert_eq!(moved.uids(), vec![1, 2]);
        assert_eq!(moved.status().uidvalidity, uidv);
        assert!(
            root.join("mailboxes/Old/Stuff/2024/dbox-Mails/u.2")
                .exists()
        );
        assert_eq!(a.read_message(2).await.unwrap(), msg(2).message);
        assert!(matches!(
            s.open(&name("Archive/2024")).await,
            Err(StorageError::NoSuchMailbox(_))
        ));
        assert!(s.rename(&name("Old"), &name("Old/x")).await.is_err());

        // INBOX rename: messages move (the open view with them), INBOX
        // stays, empty, and goes on with the same UIDVALIDITY and later
        // UIDs and modseqs, as if every message had been expunged.
        let ib = s.open(&MailboxName::inbox()).await.unwrap();
        ib.append(vec![msg(1), msg(2)]).await.unwrap();
        let old = ib.status();
        s.rename(&MailboxName::inbox(), &name("Saved"))
            .await
            .unwrap();
        let saved = s.open(&name("Saved")).await.unwrap();
        assert!(saved.same_as(&ib));
        assert_eq!(saved.uids(), vec![1, 2]);
        let new_inbox = s.open(&MailboxName::inbox()).await.unwrap();
        let now = new_inbox.status();
        assert_eq!(now.messages, 0);
        assert_eq!(now.uidvalidity, old.uidvalidity);
        assert_eq!(now.uidnext, old.uidnext);
        assert!(now.highest_modseq > old.highest_modseq);
        let since_old = new_inbox.changes_since(old.highest_modseq);
        assert!(!since_old.expunged_complete);
        assert_eq!(new_inbox.append(vec![msg(3)]).await.unwrap(), vec![3]);

        assert!(matches!(
            s.delete(&MailboxName::inbox()).await,
            Err(StorageError::NotAllowed(_))
        ));
        s.delete(&name("Old/Stuff/2024")).await.unwrap();
        s.delete(&name("Café")).await.unwrap();
        assert!(!root.join("mailboxes/Caf&AOk-").exists());
        assert!(matches!(
            s.delete(&name("Café")).await,
            Err(StorageError::NoSuchMailbox(_))
        ));
        assert!(MailboxName::new("x/dbox-Mails").is_err());
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn subscriptions_and_special_use() {
    let root = test_dir("subs");
    run(async {
        let s = store(&root).await;
        s.create(&name("Archive/2024")).await.unwrap();
        s.set_subscribed(&name("Archive"), true).await.unwrap();
        s.set_subscribed(&name("Archive/2024"), true).await.unwrap();
        s.set_subscribed(&name("Archive"), true).await.unwrap();
        assert_eq!(
            fs::read(root.join("subscriptions")).unwrap(),
            b"V\t2\n\nArchive\nArchive\t2024\n"
        );
        s.set_subscribed(&name("Archive"), false).await.unwrap();
        assert_eq!(s.subscriptions().await.unwrap(), vec![name("Archive/2024")]);
        s.set_special_use(&name("Archive/2024"), Some(SpecialUse::Archive))
            .await
            .unwrap();
        let list = s.list().await.unwrap();
        let e = list
            .iter()
            .find(|i| i.name.as_str() == "Archive/2024")
            .unwrap();
        assert!(e.subscribed);
        assert_eq!(e.special_use, Some(SpecialUse::Archive));
        // uidvalidity file as Dovecot writes it.
        let v = fs::read_to_string(root.join("dovecot-uidvalidity")).unwrap();
        assert_eq!(v.len(), 8);
        assert!(root.join(format!("dovecot-uidvalidity.{v}")).exists());
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn sessions_share_one_view_and_get_notified() {
    let root = test_dir("share");
    run(async {
        let s = store(&root).await;
        let a = s.open(&MailboxName::inbox()).await.unwrap();
        let b = s.open(&MailboxName::inbox()).await.unwrap();
        assert!(a.same_as(&b));
        let seen = b.change_counter();
        let b2 = b.clone();
        let waiter = glommio::spawn_local(async move { b2.wait_for_change(seen).await });
        a.append(vec![msg(1)]).await.unwrap();
        assert!(waiter.await > seen);
        assert_eq!(b.uids(), vec![1]);
        let recent = a.claim_recent().await.unwrap();
        assert_eq!(recent, vec![1]);
        assert_eq!(b.status().recent, 0);
        assert!(b.claim_recent().await.unwrap().is_empty());
    });
    let _ = fs::remove_dir_all(&root);
}

/// Build a mailbox whose flags/keywords live in the log (not compacted).
async fn populated(root: &Path) -> Fingerprint {
    let mb = inbox(root).await;
    mb.append(vec![msg(1), msg(2), msg(3), msg(4)])
        .await
        .unwrap();
    mb.store(
        &[1],
        FlagOp::Add,
        SystemFlags::SEEN | SystemFlags::FLAGGED,
        &[],
        None,
    )
    .await
    .unwrap();
    mb.store(
        &[2],
        FlagOp::Add,
        SystemFlags::ANSWERED,
        &["$Label1".into(), "MyKeyword".into()],
        None,
    )
    .await
    .unwrap();
    mb.expunge(&[3]).await.unwrap();
    fingerprint(&mb)
}

#[test]
fn self_heals_from_any_single_damaged_index_file() {
    type Damage = fn(&Path);
    let damages: [(&str, Damage); 4] = [
        ("delete", |p| fs::remove_file(p).unwrap()),
        ("truncate", |p| {
            let len = fs::metadata(p).unwrap().len();
            fs::OpenOptions::new()
                .write(true)
                .open(p)
                .unwrap()
                .set_len(len / 2)
                .unwrap();
        }),
        ("flip", |p| {
            let mut b = fs::read(p).unwrap();
            for i in (0..b.len()).step_by(37) {
                b[i] ^= 0x5a;
            }
            fs::write(p, b).unwrap();
        }),
        ("empty", |p| fs::write(p, b"").unwrap()),
    ];
    for file in [INDEX_FILE, LOG_FILE, STATE_FILE] {
        for (how, damage) in damages {
            let root = test_dir("heal");
            run(async {
                let want = populated(&root).await;
                damage(&inbox_dir(&root).join(file));
                let mb = inbox(&root).await;
                assert_eq!(fingerprint(&mb), want, "{how} {file}");
                assert!(mb.open_report().rebuilt, "{how} {file} not noticed");
                assert_eq!(mb.status().uidnext, 5, "{how} {file}");
                // Healed: the next open is clean, and saving still works.
                assert_eq!(mb.append(vec![msg(5)]).await.unwrap(), vec![5]);
                drop(mb);
                let again = inbox(&root).await;
                assert!(
                    !again.open_report().rebuilt,
                    "{how} {file}: still dirty after heal"
                );
                assert_eq!(again.uids(), vec![1, 2, 4, 5]);
            });
            let _ = fs::remove_dir_all(&root);
        }
    }
}

#[test]
fn heals_after_compaction_and_total_loss_keeps_messages() {
    let root = test_dir("total");
    run(async {
        let want = populated(&root).await;
        // force_resync rewrites (compacts) all three files.
        let mb = inbox(&root).await;
        mb.force_resync().await.unwrap();
        mb.store(&[4], FlagOp::Add, SystemFlags::DRAFT, &[], None)
            .await
            .unwrap();
        let after = fingerprint(&mb);
        assert_ne!(after, want);
        drop(mb);
        fs::remove_file(inbox_dir(&root).join(LOG_FILE)).unwrap();
        assert_eq!(fingerprint(&inbox(&root).await), after);
        fs::remove_file(inbox_dir(&root).join(INDEX_FILE)).unwrap();
        assert_eq!(fingerprint(&inbox(&root).await), after);

        // All three gone: every message survives with UID, GUID and date.
        for f in [INDEX_FILE, LOG_FILE, STATE_FILE] {
            fs::remove_file(inbox_dir(&root).join(f)).unwrap();
        }
        let mb = inbox(&root).await;
        let (uidv, _, msgs) = fingerprint(&mb);
        assert_ne!(uidv, after.0, "UIDs may repeat, so UIDVALIDITY must change");
        let strip = |v: &MessageSummary| {
            v.iter()
                .map(|m| (m.0, m.3.clone(), m.4))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&msgs), strip(&after.2));
        assert_eq!(mb.open_report().imported, vec![1, 2, 4]);
    });
    let _ = fs::remove_dir_all(&root);
}

/// The annotated Dovecot sample (§2.5) and the foreign-writer files (§6.3).
#[test]
fn reads_a_store_dovecot_wrote() {
    let root = test_dir("dovecot");
    let dir = inbox_dir(&root);
    fs::create_dir_all(&dir).unwrap();
    let body: Vec<u8> = b"Return-Path: <a@b>\nSubject: one\n\nHello one.\n".to_vec();
    let mut u1 = b"2 M1e C6b0ab955\n\x01\x02N          ".to_vec();
    u1.extend_from_slice(format!("{:016X}\n", body.len()).as_bytes());
    u1.extend_from_slice(&body);
    u1.extend_from_slice(b"\n\x01\x03\nR6b0ab955\nV30\nG0a47811155b90a6b953e000083ecc375\n\n");
    fs::write(dir.join("u.1"), &u1).unwrap();
    // u.8: no metadata lines at all; u.9: CRLF body, G not hex; u.13: M20 and unknown key.
    let mut u8f =
        b"2 M1e\n\x01\x02N          000000000000000B\nSubject: x\n\n\x01\x03\n\n".to_vec();
    u8f.truncate(u8f.len());
    fs::write(dir.join("u.8"), &u8f).unwrap();
    let mut u9 = b"2 M1e C1\n\x01\x02N          000000000000000C\nSubject: y\r\n".to_vec();
    u9.extend_from_slice(b"\n\x01\x03\nGnot-a-hex-guid\n\n");
    fs::write(dir.join("u.9"), &u9).unwrap();
    let mut u13 = b"2 M20\n\x01\x02N          0000000000000005  \nhello".to_vec();
    u13.extend_from_slice(b"\n\x01\x03\nQzzz\nR10\n\n");
    fs::write(dir.join("u.13"), &u13).unwrap();
    for junk in [
        "junkfile",
        "u.abc",
        "u.0",
        "u.5.broken",
        ".temp.1.P2Q3M4.host",
    ] {
        fs::write(dir.join(junk), b"junk").unwrap();
    }
    fs::write(dir.join("u.21"), b"From: plain rfc822\n\nnot dbox\n").unwrap();
    run(async {
        let mb = inbox(&root).await;
        assert_eq!(mb.uids(), vec![1, 8, 9, 13]);
        let m1 = mb.message(1).unwrap();
        assert_eq!(m1.internal_date, 0x6b0ab955);
        assert_eq!(m1.guid, "0a47811155b90a6b953e000083ecc375");
        assert_eq!(m1.virtual_size, 0x30);
        assert_eq!(mb.read_message(1).await.unwrap(), dbox_file::to_crlf(&body));
        let m8 = mb.message(8).unwrap();
        assert_eq!((m8.internal_date, m8.guid.as_str()), (0, ""));
        assert_eq!(mb.message(9).unwrap().guid, "not-a-hex-guid");
        assert_eq!(mb.read_message(9).await.unwrap(), b"Subject: y\r\n");
        assert_eq!(mb.read_message(13).await.unwrap(), b"hello");
        assert_eq!(mb.status().uidnext, 14);
        // The first save after a foreign import gets the next UID.
        assert_eq!(mb.append(vec![msg(1)]).await.unwrap(), vec![14]);
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn save_collision_with_unindexed_file_resyncs() {
    let root = test_dir("collide");
    run(async {
        let mb = inbox(&root).await;
        mb.append(vec![msg(1)]).await.unwrap();
        // A file that appeared behind our back (crash before the log commit,
        // or another writer) at the next UID.
        let sample = fs::read(inbox_dir(&root).join("u.1")).unwrap();
        fs::write(inbox_dir(&root).join("u.2"), &sample).unwrap();
        assert_eq!(mb.append(vec![msg(3)]).await.unwrap(), vec![3]);
        assert_eq!(mb.uids(), vec![1, 2, 3]);
        assert_eq!(mb.read_message(2).await.unwrap(), msg(1).message);
        let leftovers: Vec<_> = fs::read_dir(inbox_dir(&root))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".temp."))
            .collect();
        assert!(leftovers.is_empty(), "temp files left behind");
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn compaction_keeps_state() {
    let root = test_dir("compact");
    run(async {
        let mb = inbox(&root).await;
        mb.append(vec![msg(1), msg(2)]).await.unwrap();
        let n = super::mailbox::COMPACT_AFTER_ENTRIES + 5;
        for i in 0..n {
            let op = if i % 2 == 0 {
                FlagOp::Add
            } else {
                FlagOp::Remove
            };
            mb.store(&[1], op, SystemFlags::SEEN, &[], None)
                .await
                .unwrap();
        }
        let want = fingerprint(&mb);
        let log_len = fs::metadata(inbox_dir(&root).join(LOG_FILE)).unwrap().len();
        assert!(log_len < 4096, "log was not compacted ({log_len} bytes)");
        drop(mb);
        let again = inbox(&root).await;
        assert_eq!(fingerprint(&again), want);
        assert!(!again.open_report().rebuilt);
    });
    let _ = fs::remove_dir_all(&root);
}

/// Set in the environment of the child process the crash test spawns.
const CRASH_CHILD_ENV: &str = "TERN_STORAGE_CRASH_CHILD_DIR";

fn crash_guid(i: u32) -> String {
    format!("{:032x}", 0x00c0_ffee_0000_u64 + u64::from(i))
}

/// Child half of the crash test: appends and flags, printing an ACK line
/// after each call returns (i.e. after it is durable).
#[test]
#[ignore = "child half of the sdbox crash test, which starts it with its store directory"]
fn crash_child_writer() {
    let dir = std::env::var(CRASH_CHILD_ENV).expect("run only by the sdbox crash test");
    run(async move {
        let mb = inbox(Path::new(&dir)).await;
        for i in 0..200 {
            let mut req = msg(i);
            req.guid = Some(crash_guid(i));
            let uid = mb.append(vec![req]).await.unwrap()[0];
            println!("ACK {uid} {i}");
            if i % 40 == 20 {
                // Rewrites all index files: crashes must be safe here too.
                mb.force_resync().await.unwrap();
            }
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
        }
    });
}

#[test]
fn sigkill_during_appends_keeps_every_acknowledged_message() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().unwrap();
    for kill_after in [3usize, 21, 40, 61, 120] {
        let root = test_dir("crash");
        let mut child = Command::new(&exe)
            .args([
                "storage::sdbox::tests::crash_child_writer",
                "--exact",
                "--include-ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_CHILD_ENV, &root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut acked: Vec<(u32, u32)> = Vec::new();
        let mut flagged = Vec::new();
        let mut killed = false;
        for line in out.lines() {
            let line = line.unwrap();
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["ACK", uid, i] => acked.push((uid.parse().unwrap(), i.parse().unwrap())),
                ["FLAG", uid] => flagged.push(uid.parse::<u32>().unwrap()),
                _ => {}
            }
            if !killed && acked.len() >= kill_after {
                child.kill().unwrap();
                killed = true;
            }
        }
        child.wait().unwrap();
        assert!(acked.len() >= kill_after);
        run(async {
            let mb = inbox(&root).await;
            let all = mb.messages();
            let mut guids: Vec<&str> = all.iter().map(|m| m.guid.as_str()).collect();
            guids.sort_unstable();
            guids.dedup();
            assert_eq!(guids.len(), all.len(), "a message is present twice");
            for &(uid, i) in &acked {
                let m = mb
                    .message(uid)
                    .unwrap_or_else(|| panic!("acknowledged uid {uid} lost"));
                assert_eq!(m.guid, crash_guid(i));
                assert_eq!(mb.read_message(uid).await.unwrap(), msg(i).message);
            }
            for uid in &flagged {
                let m = mb.message(*uid).unwrap();
                assert!(m.flags.contains(SystemFlags::SEEN), "flag on {uid} lost");
                assert_eq!(m.keywords, vec!["Crash".to_string()]);
            }
            // Nothing partial: every visible message reads back whole.
            for m in &all {
                let body = mb.read_message(m.uid).await.unwrap();
                assert_eq!(body.len() as u64, m.virtual_size);
            }
            // Saving continues with fresh UIDs.
            let next = mb.append(vec![msg(999)]).await.unwrap()[0];
            assert!(acked.iter().all(|&(u, _)| u < next));
        });
        let _ = fs::remove_dir_all(&root);
    }
}

#[test]
fn takes_over_flags_from_dovecot_index() {
    let root = test_dir("takeover");
    let dir = inbox_dir(&root);
    fs::create_dir_all(&dir).unwrap();
    for (uid, n) in [(1u32, 1u32), (2, 2), (4, 4)] {
        let body = dbox_file::to_lf(&msg(n).message);
        let meta = dbox_file::DboxMetadata {
            guid: Some(format!("{uid:032x}")),
            received: Some(1000 + i64::from(uid)),
            virtual_size: Some(dbox_file::virtual_size(&body)),
            ..Default::default()
        };
        fs::write(
            dir.join(format!("u.{uid}")),
            dbox_file::encode(&body, &meta, 5),
        )
        .unwrap();
    }
    fs::write(
        dir.join("dovecot.index.log"),
        super::dovecot_index::tests::sample_log(),
    )
    .unwrap();
    run(async {
        let mb = inbox(&root).await;
        assert_eq!(mb.uids(), vec![1, 2, 4]);
        let st = mb.status();
        assert_eq!((st.uidvalidity, st.uidnext), (1795864917, 5));
        assert_eq!(mb.guid()[0], 0x08);
        assert_eq!(
            mb.message(1).unwrap().flags,
            SystemFlags::SEEN | SystemFlags::FLAGGED
        );
        let m2 = mb.message(2).unwrap();
        assert_eq!(m2.flags, SystemFlags::ANSWERED);
        assert_eq!(
            m2.keywords,
            vec!["$Label1".to_string(), "MyKeyword".to_string()]
        );
        assert_eq!(mb.append(vec![msg(5)]).await.unwrap(), vec![5]);
        // And back: the exported snapshot carries the state, stale files go.
        fs::write(dir.join("dovecot.index.cache"), b"stale").unwrap();
        mb.export_dovecot_index().await.unwrap();
        assert!(!dir.join("dovecot.index.log").exists());
        assert!(!dir.join("dovecot.index.cache").exists());
        let snap = fs::read(dir.join("dovecot.index")).unwrap();
        let d = super::dovecot_index::import(Some(&snap), None, None).unwrap();
        assert_eq!((d.uidvalidity, d.next_uid), (1795864917, 6));
        assert_eq!(
            d.messages.keys().copied().collect::<Vec<_>>(),
            vec![1, 2, 4, 5]
        );
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn concurrent_appends_share_commits() {
    let root = test_dir("group");
    run(async {
        let mb = inbox(&root).await;
        let before = mb.commit_count();
        let mut tasks = Vec::new();
        for i in 0..12 {
            let m = mb.clone();
            tasks.push(glommio::spawn_local(async move {
                m.append(vec![msg(i)]).await.unwrap()
            }));
        }
        let mut uids = Vec::new();
        for t in tasks {
            uids.extend(t.await);
        }
        uids.sort_unstable();
        assert_eq!(uids, (1..=12).collect::<Vec<u32>>());
        let commits = mb.commit_count() - before;
        assert!(commits < 12, "no group commit happened ({commits} commits)");
        for uid in 1..=12 {
            let wire = mb.read_message(uid).await.unwrap();
            let n: u32 = String::from_utf8_lossy(&wire[14..17])
                .trim()
                .parse()
                .unwrap();
            assert_eq!(wire, msg(n).message);
        }
        drop(mb);
        assert_eq!(inbox(&root).await.uids().len(), 12);
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn concurrent_opens_share_one_view() {
    let root = test_dir("opens");
    run(async {
        let s = std::rc::Rc::new(store(&root).await);
        let (a, b) = (s.clone(), s.clone());
        let t1 = glommio::spawn_local(async move { a.open(&MailboxName::inbox()).await.unwrap() });
        let t2 = glommio::spawn_local(async move { b.open(&MailboxName::inbox()).await.unwrap() });
        let (m1, m2) = (t1.await, t2.await);
        assert!(m1.same_as(&m2));
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn tree_edge_cases() {
    let root = test_dir("edges");
    run(async {
        let s = store(&root).await;
        s.create(&name("A/B")).await.unwrap();
        s.create(&name("C")).await.unwrap();
        s.set_special_use(&name("A/B"), Some(SpecialUse::Sent))
            .await
            .unwrap();
        let c = s.open(&name("C")).await.unwrap();
        // A failed rename must not disturb sessions on the source.
        assert!(matches!(
            s.rename(&name("C"), &name("A")).await,
            Err(StorageError::AlreadyExists(_))
        ));
        assert!(!c.is_gone());
        assert!(matches!(
            s.rename(&name("Nope"), &name("X")).await,
            Err(StorageError::NoSuchMailbox(_))
        ));
        // A \NoSelect parent with children cannot be deleted; a leaf can.
        assert!(matches!(
            s.delete(&name("A")).await,
            Err(StorageError::NotAllowed(_))
        ));
        // Deleting a selectable parent keeps the children and leaves \NoSelect.
        s.create(&name("C/D")).await.unwrap();
        s.delete(&name("C")).await.unwrap();
        assert!(c.is_gone());
        let list = s.list().await.unwrap();
        let cinfo = list.iter().find(|i| i.name.as_str() == "C").unwrap();
        assert!(!cinfo.selectable && cinfo.has_children);
        // Special-use follows a rename of the parent.
        s.rename(&name("A"), &name("Z")).await.unwrap();
        let list = s.list().await.unwrap();
        let zb = list.iter().find(|i| i.name.as_str() == "Z/B").unwrap();
        assert_eq!(zb.special_use, Some(SpecialUse::Sent));
        s.delete(&name("Z/B")).await.unwrap();
        assert!(
            fs::read_to_string(root.join("tern.special-use"))
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            s.open(&name("C")).await,
            Err(StorageError::NoSuchMailbox(_))
        ));
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn vanished_file_is_resynced_as_expunge() {
    let root = test_dir("vanish");
    run(async {
        let mb = inbox(&root).await;
        mb.append(vec![msg(1), msg(2)]).await.unwrap();
        let m = mb.status().highest_modseq;
        fs::remove_file(inbox_dir(&root).join("u.1")).unwrap();
        assert!(matches!(
            mb.read_message(1).await,
            Err(StorageError::NoSuchMessage(1))
        ));
        assert_eq!(mb.uids(), vec![2]);
        assert_eq!(mb.changes_since(m).expunged, vec![1]);
        assert_eq!(mb.status().uidnext, 3);
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn rename_during_append_never_splits_a_message() {
    let root = test_dir("renrace");
    run(async {
        let s = store(&root).await;
        s.create(&name("Work")).await.unwrap();
        let mb = s.open(&name("Work")).await.unwrap();
        let m = mb.clone();
        let task = glommio::spawn_local(async move { m.append(vec![msg(1), msg(2)]).await });
        glommio::executor().yield_now().await;
        s.rename(&name("Work"), &name("Done")).await.unwrap();
        let outcome = task.await;
        let moved = s.open(&name("Done")).await.unwrap();
        assert!(!moved.open_report().rebuilt, "{:?}", moved.open_report());
        // The append finished before the rename, or waited for it and
        // followed the mailbox, or (temp files caught mid-move) failed
        // whole; never half.
        match outcome {
            Ok(uids) => assert_eq!(moved.uids(), uids),
            Err(e) => assert!(moved.uids().is_empty(), "{e}"),
        }
        assert!(!root.join("mailboxes/Work").exists());
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn index_and_state_both_lost_log_restores_everything_since_compaction() {
    let root = test_dir("twolost");
    run(async {
        let want = populated(&root).await;
        fs::remove_file(inbox_dir(&root).join(INDEX_FILE)).unwrap();
        fs::write(inbox_dir(&root).join(STATE_FILE), b"junk").unwrap();
        let mb = inbox(&root).await;
        assert!(mb.open_report().rebuilt);
        assert_eq!(fingerprint(&mb), want);
        assert_eq!(
            mb.status().uidnext,
            5,
            "UIDNEXT must not regress (u.3 was expunged)"
        );
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn concurrent_subscribes_from_two_sessions_all_land() {
    let root = test_dir("subrace");
    run(async {
        let loc = MailLocation::parse(&format!("sdbox:{}", root.display()), "").unwrap();
        let reg = SdboxRegistry::new(1 << 20);
        let a = std::rc::Rc::new(SdboxStore::open(&loc, reg.clone()).await.unwrap());
        let b = std::rc::Rc::new(SdboxStore::open(&loc, reg).await.unwrap());
        let mut tasks = Vec::new();
        for i in 0..8 {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(glommio::spawn_local(async move {
                s.set_subscribed(&name(&format!("box{i}")), true)
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            t.await;
        }
        assert_eq!(a.subscriptions().await.unwrap().len(), 8);
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn open_notices_files_added_and_removed_behind_its_back() {
    let root = test_dir("foreign");
    run(async {
        let mb = inbox(&root).await;
        mb.append(vec![msg(1), msg(2)]).await.unwrap();
        mb.store(&[2], FlagOp::Add, SystemFlags::SEEN, &[], None)
            .await
            .unwrap();
        drop(mb);
        // Another writer (say Dovecot) delivered u.3 and removed u.1.
        let sample = fs::read(inbox_dir(&root).join("u.2")).unwrap();
        fs::write(inbox_dir(&root).join("u.3"), sample).unwrap();
        fs::remove_file(inbox_dir(&root).join("u.1")).unwrap();
        let mb = inbox(&root).await;
        let report = mb.open_report();
        assert_eq!(
            (report.imported.clone(), report.dropped.clone()),
            (vec![3], vec![1])
        );
        assert_eq!(mb.uids(), vec![2, 3]);
        assert_eq!(mb.message(2).unwrap().flags, SystemFlags::SEEN);
        assert_eq!(mb.status().uidnext, 4);
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn dropping_a_call_midway_keeps_memory_and_disk_in_step() {
    let root = test_dir("cancel");
    run(async {
        let mb = inbox(&root).await;
        mb.append(vec![msg(1)]).await.unwrap();
        {
            // A client disconnects: its command future is dropped mid-flight.
            let mut f = Box::pin(mb.append(vec![msg(2)]));
            let _ = futures_lite::future::poll_once(&mut f).await;
            let mut g = Box::pin(mb.store(&[1], FlagOp::Add, SystemFlags::SEEN, &[], None));
            let _ = futures_lite::future::poll_once(&mut g).await;
        }
        // The detached work still completes.
        let seen = mb.change_counter();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while (mb.uids().len() < 2 || !mb.message(1).unwrap().flags.contains(SystemFlags::SEEN))
            && std::time::Instant::now() < deadline
        {
            glommio::timer::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(mb.change_counter() >= seen);
        assert_eq!(mb.uids(), vec![1, 2]);
        let want = fingerprint(&mb);
        drop(mb);
        let again = inbox(&root).await;
        assert!(!again.open_report().rebuilt, "{:?}", again.open_report());
        assert_eq!(fingerprint(&again), want);
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn reads_bodies_compressed_by_the_installed_dovecot() {
    let rig = DovecotRig::with_settings(
        "dovecot-zlib",
        "sdbox:{home}",
        "mail_plugins = zlib\nplugin {\n zlib_save = gz\n}\n",
    );
    let plain = b"From: a@example.org\r\nSubject: zipped\r\n\r\nHello zipped world.\r\n";
    rig.run(DOVECOT_LDA, &["-e"], plain);
    let raw = fs::read(rig.home.join("mailboxes/INBOX/dbox-Mails/u.1")).unwrap();
    let h = dbox_file::parse_header(&raw).unwrap();
    assert_eq!(
        &raw[h.body_offset as usize..h.body_offset as usize + 2],
        &[0x1f, 0x8b]
    );
    run(async {
        let mb = inbox(&rig.home).await;
        let body = mb.read_message(1).await.unwrap();
        assert!(
            body.ends_with(b"Subject: zipped\r\n\r\nHello zipped world.\r\n"),
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(body.len() as u64, mb.message(1).unwrap().virtual_size);
    });
}

#[test]
fn reads_external_attachments_written_by_the_installed_dovecot() {
    let rig_conf_dir = test_dir("dovecot-att-dir");
    let att = rig_conf_dir.join("att");
    fs::create_dir_all(&att).unwrap();
    let extra = format!(
        "mail_attachment_dir = {}\nmail_attachment_min_size = 1\n",
        att.display()
    );
    let rig = DovecotRig::with_settings("dovecot-att", "sdbox:{home}", &extra);
    std::process::Command::new("chown")
        .args(["65534:65534", &att.display().to_string()])
        .status()
        .unwrap();
    let _ = std::process::Command::new("chmod")
        .args(["755", &rig_conf_dir.display().to_string()])
        .status();
    let blob: Vec<u8> = (0..5120u32).map(|i| (i % 251) as u8).collect();
    let mut msg = b"From: a@example.org\r\nSubject: att\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
        --XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    msg.extend(super::attachments::base64_lines(&blob, 76, true));
    msg.extend_from_slice(b"\r\n--XX--\r\n");
    rig.run(DOVECOT_LDA, &["-e"], &msg);
    let raw = fs::read(rig.home.join("mailboxes/INBOX/dbox-Mails/u.1")).unwrap();
    assert!(
        String::from_utf8_lossy(&raw).contains("\nX"),
        "Dovecot did not externalise"
    );
    run(async {
        let loc = MailLocation::parse(&format!("sdbox:{}", rig.home.display()), "").unwrap();
        let without = SdboxStore::open(&loc, SdboxRegistry::new(1 << 20))
            .await
            .unwrap();
        let mb = without.open(&MailboxName::inbox()).await.unwrap();
        assert!(matches!(
            mb.read_message(1).await,
            Err(StorageError::Unsupported { .. })
        ));
        let with = SdboxStore::open(&loc, SdboxRegistry::new(1 << 20))
            .await
            .unwrap()
            .with_attachment_dir(Some(att.clone()));
        let mb = with.open(&MailboxName::inbox()).await.unwrap();
        let body = mb.read_message(1).await.unwrap();
        assert_eq!(body, msg);
        assert_eq!(body.len() as u64, mb.message(1).unwrap().virtual_size);
    });
    let _ = fs::remove_dir_all(&rig_conf_dir);
}

/// Ground truth from a real Dovecot, when one is installed here: deliver
/// with dovecot-lda, change flags/copy/expunge/create with Dovecot's own
/// imap binary (PREAUTH on stdin), then open the store with tern.
#[test]
fn reads_a_store_written_by_the_installed_dovecot() {
    let rig = DovecotRig::new("dovecot-real", "sdbox:{home}");
    let (lda, imap) = (DOVECOT_LDA, DOVECOT_IMAP);
    let home = rig.home.clone();
    let run_with = |bin: &str, extra: &[&str], input: &[u8]| rig.run(bin, extra, input);
    run_with(
        lda,
        &["-e"],
        b"From: a@example.org\r\nSubject: one\r\n\r\nHello one.\r\n",
    );
    run_with(
        lda,
        &["-e"],
        b"From: b@example.org\r\nSubject: two\r\n\r\nHello two.\r\n",
    );
    let out = run_with(
        imap,
        &[],
        b"a SELECT INBOX\r\nb STORE 1 +FLAGS (\\Seen $Label1)\r\nc CREATE Archive\r\n\
          d APPEND Archive (\\Flagged MyKeyword) \"17-May-2020 12:00:00 +0000\" {24}\r\nSubject: six\r\n\r\nHi six\r\n\r\n\
          e COPY 1 Archive\r\nf STORE 2 +FLAGS (\\Deleted)\r\ng EXPUNGE\r\nh CREATE Caf&AOk-\r\n\
          i SUBSCRIBE Archive\r\nj LOGOUT\r\n",
    );
    let number_after = |key: &str| -> u32 {
        let at = out
            .find(key)
            .unwrap_or_else(|| panic!("{key} missing in {out}"))
            + key.len();
        out[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let inbox_uidv = number_after("[UIDVALIDITY ");
    let archive_uidv = number_after("[APPENDUID ");
    assert!(out.contains("g OK"), "{out}");
    // Make Dovecot write a dovecot.index snapshot for Archive, then change
    // more in its log only: the importer must combine both.
    let forced = [
        "-o",
        "mail_index_rewrite_min_log_bytes=1",
        "-o",
        "mail_index_rewrite_max_log_bytes=1",
    ];
    let out2 = run_with(
        imap,
        &forced,
        b"a SELECT Archive\r\nb STORE 1 +FLAGS (\\Answered)\r\nc LOGOUT\r\n",
    );
    assert!(out2.contains("b OK"), "{out2}");
    assert!(
        home.join("mailboxes/Archive/dbox-Mails/dovecot.index")
            .exists()
    );
    let out3 = run_with(
        imap,
        &[],
        b"a SELECT Archive\r\nb STORE 2 +FLAGS (\\Draft NewKw)\r\nc LOGOUT\r\n",
    );
    assert!(out3.contains("b OK"), "{out3}");
    let tern_vsize = run(async {
        let s = store(&home).await;
        let names: Vec<String> = s
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.name.to_string())
            .collect();
        assert_eq!(names, vec!["Archive", "Café", "INBOX"]);
        assert_eq!(s.subscriptions().await.unwrap(), vec![name("Archive")]);

        let inbox = s.open(&MailboxName::inbox()).await.unwrap();
        assert_eq!(inbox.uids(), vec![1]);
        assert_eq!(inbox.status().uidvalidity, inbox_uidv);
        assert_eq!(inbox.status().uidnext, 3, "UID 2 was expunged by Dovecot");
        let m1 = inbox.message(1).unwrap();
        assert_eq!(m1.flags, SystemFlags::SEEN);
        assert_eq!(m1.keywords, vec!["$Label1".to_string()]);
        assert_eq!(m1.guid.len(), 32);
        let body = inbox.read_message(1).await.unwrap();
        assert!(body.ends_with(b"\r\n\r\nHello one.\r\n"));
        assert_eq!(body.len() as u64, m1.virtual_size);

        let archive = s.open(&name("Archive")).await.unwrap();
        assert_eq!(archive.status().uidvalidity, archive_uidv);
        assert_eq!(archive.uids(), vec![1, 2]);
        let a1 = archive.message(1).unwrap();
        assert_eq!(a1.flags, SystemFlags::FLAGGED | SystemFlags::ANSWERED);
        assert_eq!(a1.keywords, vec!["MyKeyword".to_string()]);
        assert_eq!(a1.internal_date, 0x5ec1_2740);
        assert_eq!(
            archive.read_message(1).await.unwrap(),
            b"Subject: six\r\n\r\nHi six\r\n"
        );
        let a2 = archive.message(2).unwrap();
        assert_eq!(a2.flags, SystemFlags::SEEN | SystemFlags::DRAFT);
        let mut kws = a2.keywords.clone();
        kws.sort();
        assert_eq!(kws, vec!["$Label1".to_string(), "NewKw".to_string()]);
        assert_eq!(a2.guid, m1.guid, "COPY keeps the GUID");

        // UIDVALIDITY allocation is shared with Dovecot through
        // dovecot-uidvalidity: Archive, then Café, then ours.
        s.create(&name("TernBox")).await.unwrap();
        let ours = s.open(&name("TernBox")).await.unwrap().status().uidvalidity;
        assert_eq!(ours, archive_uidv + 2);
        // tern continues where Dovecot stopped...
        assert_eq!(inbox.append(vec![msg(3)]).await.unwrap(), vec![3]);
        inbox
            .store(
                &[3],
                FlagOp::Add,
                SystemFlags::FLAGGED,
                &["TernKw".into()],
                None,
            )
            .await
            .unwrap();
        // ...and hands the mailbox back.
        inbox.export_dovecot_index().await.unwrap();
        inbox.message(3).unwrap().virtual_size
    });
    let back = run_with(
        imap,
        &[],
        b"a SELECT INBOX\r\nb FETCH 1:* (UID FLAGS)\r\nd FETCH 2 (RFC822.SIZE BODY.PEEK[])\r\n\
          e CREATE DoveBox\r\nf STATUS DoveBox (UIDVALIDITY)\r\nc LOGOUT\r\n",
    );
    assert!(
        back.contains(&format!("[UIDVALIDITY {inbox_uidv}]")),
        "{back}"
    );
    assert!(back.contains("[UIDNEXT 4]"), "{back}");
    assert!(
        back.contains("* 1 FETCH (UID 1 FLAGS (\\Seen $Label1))"),
        "{back}"
    );
    assert!(
        back.contains("* 2 FETCH (UID 3 FLAGS (\\Flagged TernKw))"),
        "{back}"
    );
    // Dovecot reads the message file tern wrote, with the same size.
    assert!(
        back.contains(&format!("RFC822.SIZE {tern_vsize} ")),
        "{back}"
    );
    assert!(back.contains("Subject: test 3\r\n"), "{back}");
    assert!(back.contains("d OK"), "{back}");
    // And Dovecot's next allocation continues after tern's.
    assert!(
        back.contains(&format!(
            "STATUS DoveBox (UIDVALIDITY {})",
            archive_uidv + 3
        )),
        "{back}"
    );
}

#[test]
fn reads_gzip_bodies_saved_by_the_zlib_plugin() {
    use std::io::Write;
    let root = test_dir("zlib");
    let dir = inbox_dir(&root);
    fs::create_dir_all(&dir).unwrap();
    let plain = b"Subject: packed\n\nsqueezed body\n".to_vec();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&plain).unwrap();
    let packed = enc.finish().unwrap();
    let meta = dbox_file::DboxMetadata {
        guid: Some("00112233445566778899aabbccddeeff".into()),
        received: Some(77),
        virtual_size: Some(dbox_file::virtual_size(&plain)),
        plain_size: Some(plain.len() as u64),
        ..Default::default()
    };
    fs::write(dir.join("u.1"), dbox_file::encode(&packed, &meta, 1)).unwrap();
    let mut lying = meta.clone();
    lying.plain_size = Some(3);
    fs::write(dir.join("u.2"), dbox_file::encode(&packed, &lying, 1)).unwrap();
    let mut zstd = meta.clone();
    zstd.plain_size = Some(4);
    fs::write(
        dir.join("u.3"),
        dbox_file::encode(b"\x28\xb5\x2f\xfdxxxx", &zstd, 1),
    )
    .unwrap();
    run(async {
        let mb = inbox(&root).await;
        assert_eq!(mb.message(1).unwrap().physical_size, plain.len() as u64);
        assert_eq!(
            mb.read_message(1).await.unwrap(),
            dbox_file::to_crlf(&plain)
        );
        assert!(matches!(
            mb.read_message(2).await,
            Err(StorageError::CorruptMessage { uid: 2, .. })
        ));
        assert!(matches!(
            mb.read_message(3).await,
            Err(StorageError::Unsupported { uid: 3, .. })
        ));
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn partial_reads_match_the_full_wire_form() {
    let root = test_dir("partial");
    run(async {
        let mb = inbox(&root).await;
        // > 64 KiB, mixed CRLF/LF/CR so conversion crosses chunk borders.
        let mut big = b"Subject: big\r\nX-Mixed: yes\n\r\n".to_vec();
        for i in 0..9000u32 {
            big.extend_from_slice(
                format!("line {i}{}", ["\n", "\r\n", "\r"][(i % 3) as usize]).as_bytes(),
            );
        }
        let no_header = b"just one line without an empty line".to_vec();
        let empty_header = b"\r\nbody only\r\n".to_vec();
        let reqs = [&big, &no_header, &empty_header]
            .iter()
            .map(|m| AppendRequest {
                message: m.to_vec(),
                ..Default::default()
            })
            .collect();
        mb.append(reqs).await.unwrap();
        let full = mb.read_message(1).await.unwrap();
        let mut seed = 99u64;
        for _ in 0..40 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let start = (seed >> 33) % (full.len() as u64 + 10);
            let len = (seed >> 13) % 70_000;
            let want_end = (start + len).min(full.len() as u64) as usize;
            let want = &full
                [(start as usize).min(full.len())..want_end.max((start as usize).min(full.len()))];
            assert_eq!(
                mb.read_range(1, start, len).await.unwrap(),
                want,
                "range {start}+{len}"
            );
        }
        assert_eq!(mb.read_range(1, 0, u64::MAX).await.unwrap(), full);
        assert_eq!(
            mb.read_header(1).await.unwrap(),
            b"Subject: big\r\nX-Mixed: yes\r\n\r\n"
        );
        assert_eq!(mb.read_header(2).await.unwrap(), no_header);
        assert_eq!(mb.read_header(3).await.unwrap(), b"\r\n");
        assert!(matches!(
            mb.read_header(9).await,
            Err(StorageError::NoSuchMessage(9))
        ));
    });
    let _ = fs::remove_dir_all(&root);
}
