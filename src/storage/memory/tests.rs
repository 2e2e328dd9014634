//! The memory store driven by `futures_lite::future::block_on` alone: no
//! glommio executor exists in these tests, so anything that reached for
//! one would panic. The semantics shared with the file backends are
//! checked by `storage::conformance`; these cover what only it has.

use super::{MemoryOptions, MemoryStore};
use crate::storage::indexed::MAX_MESSAGE_BYTES;
use crate::storage::{
    AnyMailbox, AnyStore, AppendRequest, FlagOp, MailStore, Mailbox, MailboxName, MessagePart,
    SpecialUse, StorageError, SystemFlags,
};
use futures_lite::future::block_on;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

const NOW: i64 = 1_700_000_000;

fn store() -> MemoryStore {
    MemoryStore::with_options(MemoryOptions::fixed(1000, NOW))
}

fn name(s: &str) -> MailboxName {
    MailboxName::new(s).unwrap()
}

fn msg(text: &str) -> AppendRequest {
    AppendRequest {
        message: text.as_bytes().to_vec(),
        ..Default::default()
    }
}

fn names(s: &MemoryStore) -> Vec<(String, bool, bool)> {
    block_on(s.list())
        .unwrap()
        .into_iter()
        .map(|i| (i.name.to_string(), i.selectable, i.has_children))
        .collect()
}

#[test]
fn append_read_store_expunge_without_a_reactor() {
    let s = store();
    let inbox = block_on(s.open(&MailboxName::inbox())).unwrap();
    let uids = block_on(inbox.append(vec![
        msg("Subject: a\r\n\r\nA\r\n"),
        msg("Subject: b\r\n\r\nB\r\n"),
    ]))
    .unwrap();
    assert_eq!(uids, vec![1, 2]);
    let st = inbox.status();
    assert_eq!((st.uidvalidity, st.uidnext, st.messages), (1000, 3, 2));
    let r = block_on(inbox.store(&[2], FlagOp::Add, SystemFlags::SEEN, &[], None)).unwrap();
    assert_eq!((r.changed, r.modseq), (vec![2], st.highest_modseq + 1));
    assert_eq!(block_on(inbox.expunge(&[1])).unwrap(), vec![1]);
    assert_eq!(
        block_on(inbox.read_message(2)).unwrap(),
        b"Subject: b\r\n\r\nB\r\n"
    );
    assert!(matches!(
        block_on(inbox.read_message(1)),
        Err(StorageError::NoSuchMessage(1))
    ));
    let m = inbox.message(2).unwrap();
    assert_eq!((m.internal_date, m.save_date), (NOW, NOW));
    assert_eq!(inbox.status().unseen, 0);
}

/// Counts wake-ups, standing in for an executor's waker.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_change_through_one_view_wakes_a_waiter_on_another() {
    let s = store();
    let idle = block_on(s.open(&MailboxName::inbox())).unwrap();
    let writer = block_on(s.open(&MailboxName::inbox())).unwrap();
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let seen = idle.change_counter();
    let mut wait = pin!(idle.wait_for_change(seen));
    assert!(wait.as_mut().poll(&mut cx).is_pending());
    block_on(writer.append(vec![msg("Subject: x\r\n\r\n")])).unwrap();
    assert_eq!(counter.0.load(Ordering::SeqCst), 1, "woken once");
    assert_eq!(wait.as_mut().poll(&mut cx), Poll::Ready(seen + 1));
    assert_eq!(idle.uids(), vec![1], "the other view sees the message");
}

#[test]
fn lf_messages_are_served_as_crlf_with_sdbox_sizes() {
    let s = store();
    let inbox = block_on(s.open(&MailboxName::inbox())).unwrap();
    block_on(inbox.append(vec![msg("Subject: lf\n\nline 1\nline 2\n")])).unwrap();
    let wire = block_on(inbox.read_message(1)).unwrap();
    assert_eq!(wire, b"Subject: lf\r\n\r\nline 1\r\nline 2\r\n");
    let m = inbox.message(1).unwrap();
    assert_eq!(m.virtual_size, wire.len() as u64);
    assert_eq!(m.physical_size, wire.len() as u64 - 4, "stored with LF");
    assert_eq!(
        block_on(inbox.read_header(1)).unwrap(),
        b"Subject: lf\r\n\r\n"
    );
    assert_eq!(block_on(inbox.read_range(1, 15, 6)).unwrap(), b"line 1");
    assert_eq!(inbox.status().size, wire.len() as u64);
}

#[test]
fn append_limit_is_sdboxs_and_can_be_lowered_for_tests() {
    assert_eq!(
        MemoryOptions::default().max_message_bytes,
        MAX_MESSAGE_BYTES
    );
    let s = MemoryStore::with_options(MemoryOptions {
        max_message_bytes: 10,
        ..MemoryOptions::fixed(1, NOW)
    });
    let inbox = block_on(s.open(&MailboxName::inbox())).unwrap();
    assert_eq!(
        block_on(inbox.append(vec![msg("0123456789")])).unwrap(),
        vec![1]
    );
    assert!(matches!(
        block_on(inbox.append(vec![msg("0123456789A")])),
        Err(StorageError::MessageTooLarge)
    ));
    assert_eq!(inbox.uids(), vec![1], "nothing of a refused append is kept");
}

#[test]
fn bad_or_too_many_keywords_refuse_the_whole_append() {
    let s = store();
    let inbox = block_on(s.open(&MailboxName::inbox())).unwrap();
    let mut bad = msg("Subject: k\r\n\r\n");
    bad.keywords = vec!["ok".into(), "not ok".into()];
    assert!(matches!(
        block_on(inbox.append(vec![msg("Subject: fine\r\n\r\n"), bad])),
        Err(StorageError::BadKeyword(k)) if k == "not ok"
    ));
    assert!(inbox.uids().is_empty() && inbox.keywords().is_empty());
    let many: Vec<String> = (0..1025).map(|i| format!("k{i}")).collect();
    block_on(inbox.append(vec![msg("Subject: m\r\n\r\n")])).unwrap();
    assert!(matches!(
        block_on(inbox.store(&[1], FlagOp::Add, SystemFlags::NONE, &many, None)),
        Err(StorageError::TooManyKeywords)
    ));
    assert!(inbox.keywords().is_empty());
}

#[test]
fn deleting_a_parent_leaves_a_noselect_and_stops_its_views() {
    let s = store();
    block_on(s.create(&name("A/B"))).unwrap();
    assert_eq!(
        names(&s),
        vec![
            ("A".into(), false, true),
            ("A/B".into(), true, false),
            ("INBOX".into(), true, false),
        ]
    );
    block_on(s.create(&name("A"))).unwrap();
    let a = block_on(s.open(&name("A"))).unwrap();
    block_on(a.append(vec![msg("Subject: a\r\n\r\n")])).unwrap();
    let seen = a.change_counter();
    block_on(s.delete(&name("A"))).unwrap();
    assert!(a.is_gone() && a.change_counter() > seen);
    assert!(matches!(
        block_on(a.append(vec![msg("x")])),
        Err(StorageError::MailboxGone)
    ));
    assert!(matches!(
        block_on(a.read_message(1)),
        Err(StorageError::MailboxGone)
    ));
    assert!(matches!(
        block_on(a.read_parts(&[1], MessagePart::Whole)),
        Err(StorageError::MailboxGone)
    ));
    assert!(matches!(
        block_on(a.cached_structures(&[1])),
        Err(StorageError::MailboxGone)
    ));
    assert!(matches!(
        block_on(s.open(&name("A"))),
        Err(StorageError::NoSuchMailbox(_))
    ));
    assert!(matches!(
        block_on(s.delete(&name("A"))),
        Err(StorageError::NotAllowed(_))
    ));
    block_on(s.delete(&name("A/B"))).unwrap();
    assert_eq!(names(&s)[0], ("A".into(), false, false));
    block_on(s.delete(&name("A"))).unwrap();
    assert_eq!(names(&s), vec![("INBOX".into(), true, false)]);
    assert!(matches!(
        block_on(s.delete(&name("Nope"))),
        Err(StorageError::NoSuchMailbox(_))
    ));
}

#[test]
fn rename_moves_children_views_and_special_use_but_not_subscriptions() {
    let s = store();
    block_on(s.create(&name("Work/Projects"))).unwrap();
    block_on(s.set_special_use(&name("Work/Projects"), Some(SpecialUse::Archive))).unwrap();
    block_on(s.set_subscribed(&name("Work/Projects"), true)).unwrap();
    let view = block_on(s.open(&name("Work/Projects"))).unwrap();
    let seen = view.change_counter();
    for (to, refused) in [
        ("Work/Projects/Deeper", "within itself"),
        ("INBOX", "onto INBOX"),
    ] {
        assert!(
            matches!(
                block_on(s.rename(&name("Work"), &name(to))),
                Err(StorageError::NotAllowed(_))
            ),
            "{refused}"
        );
    }
    assert!(matches!(
        block_on(s.rename(&name("Missing"), &name("Other"))),
        Err(StorageError::NoSuchMailbox(_))
    ));
    assert!(matches!(
        block_on(s.rename(&name("Work/Projects"), &MailboxName::inbox())),
        Err(StorageError::NotAllowed(_))
    ));
    block_on(s.rename(&name("Work"), &name("Old/Stuff"))).unwrap();
    assert_eq!(view.name(), name("Old/Stuff/Projects"));
    assert!(view.change_counter() > seen);
    assert_eq!(
        block_on(view.append(vec![msg("Subject: still\r\n\r\n")])).unwrap(),
        vec![1]
    );
    let list = block_on(s.list()).unwrap();
    let shown: Vec<&str> = list.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        shown,
        vec!["INBOX", "Old", "Old/Stuff", "Old/Stuff/Projects"]
    );
    assert_eq!(list[3].special_use, Some(SpecialUse::Archive));
    assert!(!list[3].subscribed, "subscriptions keep the old name");
    assert_eq!(
        block_on(s.subscriptions()).unwrap(),
        vec![name("Work/Projects")]
    );
    block_on(s.create(&name("Taken"))).unwrap();
    assert!(matches!(
        block_on(s.rename(&name("Taken"), &name("Old"))),
        Err(StorageError::AlreadyExists(_))
    ));
}

#[test]
fn rename_inbox_hands_its_views_to_the_new_name_and_continues_uids() {
    let s = store();
    let old = block_on(s.open(&MailboxName::inbox())).unwrap();
    block_on(old.append(vec![msg("Subject: 1\r\n\r\n"), msg("Subject: 2\r\n\r\n")])).unwrap();
    block_on(s.create(&name("INBOX/Child"))).unwrap();
    block_on(s.set_special_use(&MailboxName::inbox(), Some(SpecialUse::Sent))).unwrap();
    let before = old.status();
    block_on(s.rename(&MailboxName::inbox(), &name("Saved"))).unwrap();
    assert_eq!(old.name(), name("Saved"));
    assert_eq!(old.uids(), vec![1, 2]);
    let inbox = block_on(s.open(&MailboxName::inbox())).unwrap();
    let after = inbox.status();
    assert_eq!(
        (after.messages, after.uidvalidity, after.uidnext),
        (0, before.uidvalidity, before.uidnext)
    );
    assert!(after.highest_modseq > before.highest_modseq);
    assert!(!inbox.changes_since(before.highest_modseq).expunged_complete);
    assert_ne!(inbox.guid(), old.guid());
    assert_eq!(block_on(inbox.append(vec![msg("x")])).unwrap(), vec![3]);
    let list = block_on(s.list()).unwrap();
    let saved = list.iter().find(|i| i.name == name("Saved")).unwrap();
    assert_eq!(saved.special_use, Some(SpecialUse::Sent));
    assert!(list.iter().any(|i| i.name == name("INBOX/Child")));
    block_on(s.create(&name("Busy"))).unwrap();
    assert!(matches!(
        block_on(s.rename(&MailboxName::inbox(), &name("Busy"))),
        Err(StorageError::AlreadyExists(_))
    ));
}

#[test]
fn fixed_options_give_repeatable_uidvalidities() {
    let s = store();
    block_on(s.create(&name("A"))).unwrap();
    block_on(s.create(&name("B"))).unwrap();
    let uidv = |n: &str| block_on(s.open(&name(n))).unwrap().status().uidvalidity;
    assert_eq!((uidv("INBOX"), uidv("A"), uidv("B")), (1000, 1001, 1002));
    block_on(s.delete(&name("A"))).unwrap();
    block_on(s.create(&name("A"))).unwrap();
    assert_eq!(uidv("A"), 1003, "a recreated mailbox is a new one");
}

#[test]
fn recent_is_claimed_once() {
    let s = store();
    let a = block_on(s.open(&MailboxName::inbox())).unwrap();
    let b = block_on(s.open(&MailboxName::inbox())).unwrap();
    block_on(a.append(vec![msg("1"), msg("2")])).unwrap();
    assert!(b.message(1).unwrap().recent);
    assert_eq!(block_on(b.claim_recent()).unwrap(), vec![1, 2]);
    let counter = a.change_counter();
    assert!(block_on(a.claim_recent()).unwrap().is_empty());
    assert_eq!(
        a.change_counter(),
        counter,
        "claiming nothing changes nothing"
    );
    block_on(a.append(vec![msg("3")])).unwrap();
    assert_eq!(a.status().recent, 1);
    assert!(!a.message(2).unwrap().recent && a.message(3).unwrap().recent);
}

#[test]
fn copy_and_move_into_itself_work() {
    let s = store();
    let inbox = block_on(s.open(&MailboxName::inbox())).unwrap();
    let mut m = msg("Subject: c\r\n\r\n");
    m.pop3_uidl = Some("uidl-1".into());
    block_on(inbox.append(vec![m])).unwrap();
    let c = block_on(inbox.copy_to(&[1, 7], &inbox)).unwrap();
    assert_eq!(c.uid_map, vec![(1, 2)]);
    let copy = inbox.message(2).unwrap();
    assert_eq!(
        copy.pop3_uidl.as_deref(),
        Some("uidl-1"),
        "kept as sdbox keeps it"
    );
    assert_eq!(copy.guid, inbox.message(1).unwrap().guid);
    let empty = block_on(inbox.copy_to(&[99], &inbox)).unwrap();
    assert!(empty.uid_map.is_empty());
    assert_eq!(empty.dest_uidvalidity, 1000);
    // MOVE into the same mailbox (RFC 6851 allows it; Dovecot does it): a
    // new UID, the old one expunged.
    let moved = block_on(inbox.move_to(&[1], &inbox)).unwrap();
    assert_eq!(moved.uid_map, vec![(1, 3)]);
    assert_eq!(inbox.uids(), vec![2, 3]);
}

#[test]
fn structures_are_parsed_once_and_forgotten_on_expunge() {
    let s = store();
    let inbox = block_on(s.open(&MailboxName::inbox())).unwrap();
    block_on(inbox.append(vec![msg("Subject: parsed\r\n\r\nbody\r\n")])).unwrap();
    let got = block_on(inbox.cached_structure(1)).unwrap().unwrap();
    assert_eq!(got.envelope.subject.as_deref(), Some(&b"parsed"[..]));
    block_on(inbox.expunge(&[1])).unwrap();
    assert!(matches!(
        block_on(inbox.cached_structure(1)),
        Err(StorageError::NoSuchMessage(1))
    ));
}

#[test]
fn any_store_dispatches_to_memory() {
    let any = AnyStore::Memory(store());
    block_on(any.create(&name("Dest"))).unwrap();
    let inbox = block_on(any.open(&MailboxName::inbox())).unwrap();
    let dest = block_on(any.open(&name("Dest"))).unwrap();
    assert!(matches!(inbox, AnyMailbox::Memory(_)));
    assert!(!inbox.changed_by_others());
    let uids = block_on(inbox.append_from(vec![msg("Subject: m\r\n\r\n")], None)).unwrap();
    let moved = block_on(inbox.move_to(&uids, &dest)).unwrap();
    assert_eq!(moved.uid_map, vec![(1, 1)]);
    assert!(inbox.uids().is_empty());
    block_on(inbox.refresh()).unwrap();
    assert!(inbox.problems().is_empty() && !inbox.is_gone());
}
