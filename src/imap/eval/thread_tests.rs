//! THREAD against the RFC 5256 response shape and hand-made mailboxes.

use super::*;
use crate::imap::codec::response::{Data, EncodeOptions};
use crate::imap::eval::sort::tests::info;
use crate::message::ParsedMessage;
use crate::storage::types::MessageInfo;

/// (seq, Message-ID, References, In-Reply-To, Subject, seconds after
/// 2024-01-01 00:00 UTC in the Date header)
type Spec = (
    u32,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    u32,
);

fn raw(spec: &Spec) -> Vec<u8> {
    let (_, id, refs, irt, subject, secs) = *spec;
    let mut m = format!(
        "Subject: {subject}\r\nDate: Mon, 01 Jan 2024 {:02}:{:02}:{:02} +0000\r\n",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    for (name, value) in [
        ("Message-ID", id),
        ("References", refs),
        ("In-Reply-To", irt),
    ] {
        if !value.is_empty() {
            m.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    m.push_str("\r\nbody\r\n");
    m.into_bytes()
}

fn run(specs: &[Spec], algorithm: fn(&[MsgCtx<'_, '_>], bool) -> Vec<ThreadNode>) -> String {
    let raws: Vec<Vec<u8>> = specs.iter().map(raw).collect();
    let parsed: Vec<ParsedMessage<'_>> = raws.iter().map(|r| ParsedMessage::parse(r)).collect();
    let infos: Vec<MessageInfo> = specs.iter().map(|s| info(s.0 + 100, 0, 10)).collect();
    let msgs: Vec<MsgCtx<'_, '_>> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| MsgCtx {
            seq: s.0,
            info: &infos[i],
            content: Some(&parsed[i]),
        })
        .collect();
    encode(algorithm(&msgs, false))
}

fn encode(roots: Vec<ThreadNode>) -> String {
    let mut out = Vec::new();
    Data::Thread(roots).encode(&mut out, EncodeOptions::default());
    String::from_utf8(out).unwrap()
}

#[test]
fn references_rfc5256_example_shape() {
    let specs: [Spec; 8] = [
        (2, "<a2@x>", "", "", "lonely", 0),
        (3, "<r3@x>", "", "", "topic", 1),
        (4, "<r4@x>", "<r3@x> <r6@x>", "", "Re: topic", 3),
        (6, "<r6@x>", "<r3@x>", "", "Re: topic", 2),
        (7, "<r7@x>", "<r3@x> <r6@x> <r44@x>", "", "Re: topic", 6),
        (23, "<r23@x>", "<r3@x> <r6@x> <r4@x>", "", "Re: topic", 5),
        (44, "<r44@x>", "<r3@x> <r6@x>", "", "Re: topic", 4),
        (96, "<r96@x>", "<r6@x> <r44@x> <r7@x>", "", "Re: topic", 7),
    ];
    assert_eq!(
        run(&specs, thread_references),
        "* THREAD (2)(3 6 (4 23)(44 7 96))\r\n"
    );
}

#[test]
fn missing_parents_become_dummies() {
    // Two replies to a message we do not have: kept under a dummy.
    let specs: [Spec; 3] = [
        (1, "<a@x>", "<gone@x>", "", "Re: one", 10),
        (2, "<b@x>", "<gone@x>", "", "Re: one", 5),
        (3, "<c@x>", "<elsewhere@x>", "", "other", 20),
    ];
    assert_eq!(run(&specs, thread_references), "* THREAD ((2)(1))(3)\r\n");
    // A dummy between two messages disappears; its child moves up.
    let specs: [Spec; 2] = [
        (1, "<a@x>", "", "", "x", 0),
        (2, "<b@x>", "<a@x> <gone@x>", "", "Re: x", 1),
    ];
    assert_eq!(run(&specs, thread_references), "* THREAD (1 2)\r\n");
}

#[test]
fn in_reply_to_when_no_references() {
    let specs: [Spec; 3] = [
        (1, "<a@x>", "", "", "q", 0),
        (2, "<b@x>", "", "<a@x> <other@x>", "answer", 1),
        (3, "<c@x>", "", "", "unrelated", 2),
    ];
    assert_eq!(run(&specs, thread_references), "* THREAD (1 2)(3)\r\n");
}

#[test]
fn subject_grouping() {
    let specs: [Spec; 5] = [
        // A reply without references joins the original by subject.
        (1, "<a@x>", "", "", "hello", 0),
        (2, "<b@x>", "", "", "Re: hello", 1),
        // Two originals with one subject meet under a new dummy.
        (3, "<c@x>", "", "", "news", 2),
        (4, "<d@x>", "", "", "News", 3),
        // Empty subjects are never grouped.
        (5, "<e@x>", "", "", "", 4),
    ];
    assert_eq!(
        run(&specs, thread_references),
        "* THREAD (1 2)((3)(4))(5)\r\n"
    );
}

#[test]
fn loops_and_duplicates_are_safe() {
    let specs: [Spec; 4] = [
        (1, "<a@x>", "<b@x>", "", "loop a", 0),
        (2, "<b@x>", "<a@x>", "", "loop b", 1),
        (3, "<dup@x>", "", "", "dup one", 2),
        (4, "<dup@x>", "<dup@x>", "", "dup two", 3),
    ];
    let out = run(&specs, thread_references);
    for id in ["1", "2", "3", "4"] {
        assert!(out.contains(id), "{out}");
    }
    // 1 is linked under 2 first; 2 under 1 would close a loop.
    assert_eq!(out, "* THREAD (2 1)(3 4)\r\n");
}

#[test]
fn deep_chain_does_not_overflow() {
    let n = 3000u32;
    let raws: Vec<Vec<u8>> = (1..=n)
        .map(|i| {
            let refs = if i > 1 {
                format!("References: <m{}@x>\r\n", i - 1)
            } else {
                String::new()
            };
            format!("Message-ID: <m{i}@x>\r\n{refs}Subject: chain\r\n\r\nx\r\n").into_bytes()
        })
        .collect();
    let parsed: Vec<ParsedMessage<'_>> = raws.iter().map(|r| ParsedMessage::parse(r)).collect();
    let infos: Vec<MessageInfo> = (1..=n).map(|i| info(i, i64::from(i), 1)).collect();
    let msgs: Vec<MsgCtx<'_, '_>> = (0..n as usize)
        .map(|i| MsgCtx {
            seq: i as u32 + 1,
            info: &infos[i],
            content: Some(&parsed[i]),
        })
        .collect();
    let out = encode(thread_references(&msgs, true));
    assert!(out.starts_with("* THREAD (1 2 3 4 "), "{}", &out[..40]);
    assert!(out.ends_with(" 2999 3000)\r\n"));
}

#[test]
fn ordered_subject() {
    let specs: [Spec; 5] = [
        (1, "", "", "", "b", 3),
        (2, "", "", "", "Re: a", 2),
        (3, "", "", "", "a", 5),
        (4, "", "", "", "b", 1),
        (5, "", "", "", "A", 4),
    ];
    assert_eq!(
        run(&specs, thread_ordered_subject),
        "* THREAD (4 1)(2 (5)(3))\r\n"
    );
    assert_eq!(encode(thread_ordered_subject(&[], false)), "* THREAD\r\n");
}

#[test]
fn reply_detection() {
    assert!(is_reply_or_forward(b" Re: x"));
    assert!(is_reply_or_forward(b" [list] FWD: x"));
    assert!(is_reply_or_forward(b" re[3]: x"));
    assert!(is_reply_or_forward(b" x (fwd)"));
    assert!(is_reply_or_forward(b" [Fwd: x]"));
    assert!(!is_reply_or_forward(b" [list] x"));
    assert!(!is_reply_or_forward(b" Rebate"));
}

#[test]
fn algorithm_dispatch() {
    use crate::imap::codec::types::{Atom, ThreadAlgorithm};
    assert_eq!(
        thread(&[], &ThreadAlgorithm::References, false),
        Some(Vec::new())
    );
    assert_eq!(
        thread(
            &[],
            &ThreadAlgorithm::Other(Atom::try_from("X").unwrap()),
            false
        ),
        None
    );
}

#[test]
fn subject_merge_into_dummy_and_reply_under_original() {
    // The dummy wins the subject table; the original joins its children.
    let specs: [Spec; 3] = [
        (1, "<a@x>", "<gone@x>", "", "Re: topic", 10),
        (2, "<b@x>", "<gone@x>", "", "Re: topic", 20),
        (3, "<c@x>", "", "", "topic", 0),
    ];
    assert_eq!(run(&specs, thread_references), "* THREAD ((3)(1)(2))\r\n");
    // An earlier reply goes under the later original with its subject.
    let specs: [Spec; 2] = [
        (1, "<a@x>", "", "", "Re: x", 0),
        (2, "<b@x>", "", "", "x", 5),
    ];
    assert_eq!(run(&specs, thread_references), "* THREAD (2 1)\r\n");
}

/// Every message appears exactly once, whatever the references say.
#[test]
fn random_reference_graphs_keep_every_message_once() {
    fn ids_of(nodes: &[ThreadNode], out: &mut Vec<u32>) {
        let mut stack: Vec<&ThreadNode> = nodes.iter().collect();
        while let Some(n) = stack.pop() {
            out.extend(n.id);
            stack.extend(n.children.iter());
        }
    }
    let subjects = ["a", "Re: a", "b", "Fwd: b", "", "[l] a"];
    let mut seed = 0x2545_f491u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for _ in 0..200 {
        let n = 1 + next() % 12;
        let raws: Vec<Vec<u8>> = (0..n)
            .map(|_| {
                let mut m = String::new();
                if next() % 5 != 0 {
                    m.push_str(&format!("Message-ID: <{}@x>\r\n", next() % 8));
                }
                let refs: Vec<String> = (0..next() % 4)
                    .map(|_| format!("<{}@x>", next() % 10))
                    .collect();
                if !refs.is_empty() {
                    m.push_str(&format!("References: {}\r\n", refs.join(" ")));
                }
                if next() % 3 == 0 {
                    m.push_str(&format!("In-Reply-To: <{}@x>\r\n", next() % 10));
                }
                let subject = subjects[(next() as usize) % subjects.len()];
                m.push_str(&format!("Subject: {subject}\r\n"));
                if next() % 2 == 0 {
                    m.push_str(&format!(
                        "Date: Mon, 01 Jan 2024 00:00:{:02} +0000\r\n",
                        next() % 4
                    ));
                }
                m.push_str("\r\n");
                m.into_bytes()
            })
            .collect();
        let parsed: Vec<ParsedMessage<'_>> = raws.iter().map(|r| ParsedMessage::parse(r)).collect();
        let infos: Vec<MessageInfo> = (1..=n).map(|i| info(i, 0, 1)).collect();
        let msgs: Vec<MsgCtx<'_, '_>> = (0..n as usize)
            .map(|i| MsgCtx {
                seq: i as u32 + 1,
                info: &infos[i],
                content: Some(&parsed[i]),
            })
            .collect();
        for algorithm in [thread_references, thread_ordered_subject] {
            let roots = algorithm(&msgs, false);
            // Dummies only at the top, and only holding two or more.
            for root in &roots {
                assert!(root.id.is_some() || root.children.len() >= 2);
                let mut below: Vec<&ThreadNode> = root.children.iter().collect();
                while let Some(node) = below.pop() {
                    assert!(node.id.is_some());
                    below.extend(node.children.iter());
                }
            }
            let mut ids = Vec::new();
            ids_of(&roots, &mut ids);
            ids.sort_unstable();
            assert_eq!(ids, (1..=n).collect::<Vec<u32>>());
        }
    }
}
