//! One true and one false case for every SEARCH key.

use std::num::NonZeroU32;

use super::*;
use crate::imap::codec::types::{Atom, SeqBound, SeqRange};
use crate::imap::eval::sort::tests::info;
use crate::message::ParsedMessage;
use crate::storage::types::MessageInfo;

const RAW: &[u8] = b"From: Alice Example <alice@example.org>\r\n\
To: bob@example.net\r\nCc: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.de>\r\nBcc: hidden@example.com\r\n\
Subject: Re: Quarterly REPORT\r\nX-Spam: yes\r\n\
Date: Wed, 31 Jan 2024 23:30:00 -0800\r\nMessage-ID: <m1@example.org>\r\n\r\n\
The numbers look GOOD this quarter.\r\n";

fn d(y: u16, m: u8, day: u8) -> ImapDate {
    ImapDate::new(y, m, day).unwrap()
}

fn s(v: &str) -> AString {
    AString::from(v)
}

fn set(lo: u32, hi: Option<u32>) -> SequenceSet {
    let b = |n: u32| SeqBound::Value(NonZeroU32::new(n).unwrap());
    SequenceSet::ranges(vec![SeqRange {
        start: b(lo),
        end: hi.map(b).unwrap_or(SeqBound::Largest),
    }])
    .unwrap()
}

/// 2024-02-01 10:00:00 UTC.
const FEB1: i64 = 1_706_781_600;

fn msg_info() -> MessageInfo {
    let mut i = info(42, FEB1, 2048);
    i.flags = SystemFlags::SEEN | SystemFlags::FLAGGED;
    i.keywords = vec!["$Junk".into(), "Work".into()];
    i.recent = true;
    i.modseq = 700;
    // Saved on 2024-02-03.
    i.save_date = FEB1 + 2 * 86_400;
    i
}

fn env() -> SearchEnv<'static> {
    SearchEnv {
        max_seq: 5,
        max_uid: 50,
        saved: Some(&[7, 42]),
        now: FEB1 + 3600,
        zone_minutes: 0,
        savedate_supported: true,
    }
}

fn check(key: SearchKey, want: bool) {
    let info = msg_info();
    let parsed = ParsedMessage::parse(RAW);
    let m = MsgCtx {
        seq: 3,
        info: &info,
        content: Some(&parsed),
    };
    assert_eq!(matches(&key, &m, &env()), want, "{key:?}");
}

#[test]
fn flag_keys() {
    use SearchKey as K;
    for (key, want) in [
        (K::All, true),
        (K::Seen, true),
        (K::Unseen, false),
        (K::Flagged, true),
        (K::Unflagged, false),
        (K::Answered, false),
        (K::Unanswered, true),
        (K::Deleted, false),
        (K::Undeleted, true),
        (K::Draft, false),
        (K::Undraft, true),
        (K::Recent, true),
        (K::Old, false),
        // NEW = RECENT UNSEEN; this one is seen.
        (K::New, false),
        (
            K::Keyword(Flag::Keyword(Atom::try_from("work").unwrap())),
            true,
        ),
        (
            K::Keyword(Flag::Keyword(Atom::try_from("Home").unwrap())),
            false,
        ),
        (
            K::Unkeyword(Flag::Keyword(Atom::try_from("$junk").unwrap())),
            false,
        ),
        (
            K::Unkeyword(Flag::Keyword(Atom::try_from("Home").unwrap())),
            true,
        ),
        (K::Keyword(Flag::Seen), true),
        (K::Keyword(Flag::Draft), false),
    ] {
        check(key, want);
    }
}

#[test]
fn new_and_unrecent() {
    let mut info = msg_info();
    info.flags = SystemFlags::NONE;
    let m = MsgCtx {
        seq: 1,
        info: &info,
        content: None,
    };
    assert!(matches(&SearchKey::New, &m, &env()));
    info.recent = false;
    let m = MsgCtx {
        seq: 1,
        info: &info,
        content: None,
    };
    assert!(!matches(&SearchKey::New, &m, &env()));
    assert!(matches(&SearchKey::Old, &m, &env()));
}

#[test]
fn size_and_sets() {
    use SearchKey as K;
    for (key, want) in [
        (K::Larger(2047), true),
        (K::Larger(2048), false),
        (K::Smaller(2049), true),
        (K::Smaller(2048), false),
        (K::SequenceSet(set(2, Some(4))), true),
        (K::SequenceSet(set(4, None)), false),
        // `*` is the largest number: 3:* contains 3, 5:* does not.
        (K::SequenceSet(set(3, None)), true),
        (K::Uid(set(40, None)), true),
        (K::Uid(set(43, None)), false),
        // 100:* means 50:100 here (`*` is 50), which does not hold 42.
        (K::Uid(set(100, None)), false),
        (K::Uid(set(42, Some(42))), true),
        (K::SequenceSet(SequenceSet::Saved), true),
        (K::Uid(SequenceSet::Saved), true),
    ] {
        check(key, want);
    }
    let info = info(8, 0, 1);
    let m = MsgCtx {
        seq: 1,
        info: &info,
        content: None,
    };
    assert!(!matches(&K::Uid(SequenceSet::Saved), &m, &env()));
    let none = SearchEnv {
        saved: None,
        ..env()
    };
    let info = msg_info();
    let m = MsgCtx {
        seq: 1,
        info: &info,
        content: None,
    };
    assert!(!matches(&K::SequenceSet(SequenceSet::Saved), &m, &none));
}

#[test]
fn star_above_largest() {
    // UID 50:* when the largest UID is 42 means 42:50, which holds 42.
    let info = msg_info();
    let e = SearchEnv {
        max_uid: 42,
        ..env()
    };
    let m = MsgCtx {
        seq: 3,
        info: &info,
        content: None,
    };
    assert!(matches(&SearchKey::Uid(set(50, None)), &m, &e));
}

#[test]
fn internal_date_keys() {
    use SearchKey as K;
    for (key, want) in [
        (K::Before(d(2024, 2, 2)), true),
        (K::Before(d(2024, 2, 1)), false),
        (K::On(d(2024, 2, 1)), true),
        (K::On(d(2024, 1, 31)), false),
        (K::Since(d(2024, 2, 1)), true),
        (K::Since(d(2024, 2, 2)), false),
    ] {
        check(key, want);
    }
    // 10:00 UTC on Feb 1 is still Jan 31 at -1100.
    let info = msg_info();
    let m = MsgCtx {
        seq: 3,
        info: &info,
        content: None,
    };
    let west = SearchEnv {
        zone_minutes: -660,
        ..env()
    };
    assert!(matches(&K::On(d(2024, 1, 31)), &m, &west));
    assert!(!matches(&K::On(d(2024, 2, 1)), &m, &west));
}

#[test]
fn sent_date_keys_use_the_header_day() {
    use SearchKey as K;
    // Date: 31 Jan 2024 23:30 -0800 is Feb 1 in UTC; its own day counts.
    for (key, want) in [
        (K::SentOn(d(2024, 1, 31)), true),
        (K::SentOn(d(2024, 2, 1)), false),
        (K::SentBefore(d(2024, 2, 1)), true),
        (K::SentBefore(d(2024, 1, 31)), false),
        (K::SentSince(d(2024, 1, 31)), true),
        (K::SentSince(d(2024, 2, 1)), false),
    ] {
        check(key, want);
    }
}

#[test]
fn save_date_keys() {
    use SearchKey as K;
    for (key, want) in [
        (K::SaveDateOn(d(2024, 2, 3)), true),
        (K::SaveDateOn(d(2024, 2, 1)), false),
        (K::SaveDateBefore(d(2024, 2, 4)), true),
        (K::SaveDateBefore(d(2024, 2, 3)), false),
        (K::SaveDateSince(d(2024, 2, 3)), true),
        (K::SaveDateSince(d(2024, 2, 4)), false),
        (K::SaveDateSupported, true),
    ] {
        check(key, want);
    }
    let info = msg_info();
    let m = MsgCtx {
        seq: 3,
        info: &info,
        content: None,
    };
    let unsupported = SearchEnv {
        savedate_supported: false,
        ..env()
    };
    assert!(!matches(&K::SaveDateSupported, &m, &unsupported));
    // A mailbox without save dates: no SAVED* key matches.
    assert!(!matches(&K::SaveDateOn(d(2024, 2, 3)), &m, &unsupported));
    assert!(!matches(&K::SaveDateSince(d(2000, 1, 1)), &m, &unsupported));
    // A message without a recorded save date uses its internal date.
    let mut old = msg_info();
    old.save_date = 0;
    let m = MsgCtx {
        seq: 3,
        info: &old,
        content: None,
    };
    assert!(matches(&K::SaveDateOn(d(2024, 2, 1)), &m, &env()));
}

#[test]
fn older_younger_modseq_ids() {
    use SearchKey as K;
    for (key, want) in [
        (K::Older(3600), true),
        (K::Older(3601), false),
        (K::Younger(3600), true),
        (K::Younger(3599), false),
        (
            K::ModSeq {
                entry: None,
                modseq: 700,
            },
            true,
        ),
        (
            K::ModSeq {
                entry: Some((
                    s("/flags/\\Seen"),
                    crate::imap::codec::types::EntryType::All,
                )),
                modseq: 701,
            },
            false,
        ),
        (K::EmailId(Atom::try_from("g42").unwrap()), true),
        (K::EmailId(Atom::try_from("g43").unwrap()), false),
        (K::ThreadId(Atom::try_from("t1").unwrap()), false),
    ] {
        check(key, want);
    }
}

#[test]
fn header_and_text_keys() {
    use SearchKey as K;
    for (key, want) in [
        (K::From(s("ALICE@example")), true),
        (K::From(s("bob")), false),
        (K::To(s("bob@EXAMPLE.net")), true),
        (K::To(s("alice")), false),
        (K::Cc(s("jörg")), true),
        (K::Cc(s("hidden")), false),
        (K::Bcc(s("hidden")), true),
        (K::Bcc(s("bob")), false),
        (K::Subject(s("quarterly report")), true),
        (K::Subject(s("annual")), false),
        (K::Header(s("x-spam"), s("YES")), true),
        (K::Header(s("X-Spam"), s("no")), false),
        // An empty value asks whether the field exists.
        (K::Header(s("X-Spam"), s("")), true),
        (K::Header(s("X-Missing"), s("")), false),
        (K::Body(s("look good")), true),
        (K::Body(s("alice")), false),
        (K::Text(s("alice")), true),
        (K::Text(s("look good")), true),
        (K::Text(s("absent words")), false),
    ] {
        check(key, want);
    }
}

#[test]
fn content_keys_without_content_do_not_match() {
    let info = msg_info();
    let m = MsgCtx {
        seq: 3,
        info: &info,
        content: None,
    };
    assert!(!matches(&SearchKey::Subject(s("report")), &m, &env()));
    assert!(!matches(&SearchKey::SentOn(d(2024, 1, 31)), &m, &env()));
}

#[test]
fn boolean_combinations() {
    use SearchKey as K;
    check(K::Not(Box::new(K::Seen)), false);
    check(K::Not(Box::new(K::Deleted)), true);
    check(K::Or(Box::new(K::Deleted), Box::new(K::Seen)), true);
    check(K::Or(Box::new(K::Deleted), Box::new(K::Draft)), false);
    check(
        K::And(vec![K::Seen, K::Flagged, K::Subject(s("report"))]),
        true,
    );
    check(K::And(vec![K::Seen, K::Subject(s("nope"))]), false);
    check(K::And(vec![]), true);
    // Nesting beyond the evaluator's bound is refused, not overflowed.
    let mut deep = K::All;
    for _ in 0..200 {
        deep = K::Not(Box::new(deep));
    }
    check(deep, false);
}

#[test]
fn content_needs() {
    use SearchKey as K;
    assert_eq!(
        content_needed(&K::And(vec![K::Seen, K::Uid(set(1, None))])),
        Content::None
    );
    assert_eq!(
        content_needed(&K::Or(Box::new(K::Seen), Box::new(K::Subject(s("x"))))),
        Content::HeaderOnly
    );
    assert_eq!(
        content_needed(&K::Not(Box::new(K::SentOn(d(2024, 1, 1))))),
        Content::HeaderOnly
    );
    assert_eq!(
        content_needed(&K::And(vec![K::From(s("a")), K::Text(s("b"))])),
        Content::Full
    );
    assert!(needs_content(&K::Body(s("x"))));
    assert!(!needs_content(&K::Older(5)));
    assert!(needs_header_only(&K::Header(s("a"), s("b"))));
    assert!(!needs_header_only(&K::Body(s("x"))));
    assert!(uses_modseq(&K::Not(Box::new(K::ModSeq {
        entry: None,
        modseq: 1
    }))));
    assert!(!uses_modseq(&K::All));
    assert!(uses_saved(&K::Or(
        Box::new(K::All),
        Box::new(K::Uid(SequenceSet::Saved))
    )));
    assert!(!uses_saved(&K::Uid(set(1, None))));
}

#[test]
fn search_over_a_mailbox() {
    let infos: Vec<MessageInfo> = (1..=4)
        .map(|i| {
            let mut m = info(i * 10, 0, 1);
            m.modseq = u64::from(i) * 3;
            if i % 2 == 0 {
                m.flags = SystemFlags::SEEN;
            }
            m
        })
        .collect();
    let msgs: Vec<MsgCtx<'_, '_>> = infos
        .iter()
        .enumerate()
        .map(|(i, info)| MsgCtx {
            seq: i as u32 + 1,
            info,
            content: None,
        })
        .collect();
    let hits = search(&msgs, &SearchKey::Seen, &env(), false);
    assert_eq!(hits.ids, vec![2, 4]);
    assert_eq!(hits.uids, vec![20, 40]);
    assert_eq!(hits.modseqs, vec![6, 12]);
    assert_eq!(
        search(&msgs, &SearchKey::Unseen, &env(), true).ids,
        vec![10, 30]
    );
}

#[test]
fn prefilter_without_content() {
    use SearchKey as K;
    let info = msg_info(); // seen
    let m = MsgCtx {
        seq: 3,
        info: &info,
        content: None,
    };
    let e = env();
    let text = || Box::new(K::Text(s("x")));
    assert!(!may_match(&K::And(vec![K::Unseen, *text()]), &m, &e));
    assert!(may_match(&K::And(vec![K::Seen, *text()]), &m, &e));
    assert!(may_match(&K::Not(text()), &m, &e));
    assert!(may_match(&K::Or(Box::new(K::Deleted), text()), &m, &e));
    assert!(!may_match(
        &K::Or(Box::new(K::Deleted), Box::new(K::Draft)),
        &m,
        &e
    ));
    assert!(!may_match(
        &K::Not(Box::new(K::Or(Box::new(K::Seen), text()))),
        &m,
        &e
    ));
    assert!(may_match(&K::Seen, &m, &e));
}
