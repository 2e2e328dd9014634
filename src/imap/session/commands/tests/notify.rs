//! NOTIFY (RFC 5465): the command's checks, and what a session hears of
//! another session's changes to other mailboxes and to the mailbox list.

use super::*;

const WATCH_ALL: &str = "w NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange)) \
(personal (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))";

#[test]
fn notify_rules_are_bad_and_unknown_events_badevent() {
    with_client(async |c| {
        for line in [
            "a NOTIFY SET (selected (MessageNew))",
            "b NOTIFY SET (personal (FlagChange))",
            "c NOTIFY SET (personal (MessageNew (UID) MessageExpunge))",
            "d NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew MessageExpunge))",
            "e NOTIFY SET (everything (MessageNew MessageExpunge))",
            "f NOTIFY",
        ] {
            let frame = format!("{line}\r\n");
            assert!(parse_command(frame.as_bytes()).is_err(), "{line}");
        }
        let text = c
            .cmd("g NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))")
            .await;
        assert_eq!(
            text,
            "g NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)] \
Unsupported NOTIFY events.\r\n"
        );
        c.ok("h NOTIFY NONE").await;
        c.ok("i NOTIFY SET (inboxes NONE)").await;
    })
}

#[test]
fn other_mailbox_changes_come_as_status() {
    with_two(async |a, b| {
        a.ok("c CREATE Other").await;
        a.ok("s SELECT INBOX").await;
        a.ok(WATCH_ALL).await;
        b.append("Other", "", &message(1)).await;
        let text = a.ok("n NOOP").await;
        let status = lines_with(&text, "* STATUS");
        assert_eq!(status.len(), 1, "{text}");
        assert!(
            status[0].starts_with("* STATUS Other (MESSAGES 1 UIDNEXT 2 UIDVALIDITY "),
            "{text}"
        );
        assert!(status[0].ends_with(" UNSEEN 1)"), "{text}");
        // Nothing new: no repeat.
        let text = a.ok("m NOOP").await;
        assert!(!text.contains("STATUS"), "{text}");
        // A flag change elsewhere is a STATUS too.
        b.ok("t SELECT Other").await;
        b.ok("f STORE 1 +FLAGS.SILENT (\\Seen)").await;
        let text = a.ok("o NOOP").await;
        assert!(text.contains(" UNSEEN 0)"), "{text}");
        // The selected mailbox is reported the usual way, not by STATUS.
        b.append("INBOX", "", &message(2)).await;
        let text = a.ok("p NOOP").await;
        assert!(!text.contains("STATUS"), "{text}");
        assert!(text.contains("* 1 EXISTS\r\n"), "{text}");
    })
}

#[test]
fn selected_message_new_sends_the_fetch_items() {
    with_two(async |a, b| {
        a.ok("s SELECT INBOX").await;
        a.ok(WATCH_ALL).await;
        b.append("INBOX", "\\Flagged", &message(1)).await;
        let text = a.ok("n NOOP").await;
        let exists = text.find("* 1 EXISTS").expect(&text);
        let fetch = text
            .find("* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))")
            .expect(&text);
        assert!(exists < fetch, "{text}");
        // BODY[] is sent as BODY.PEEK[]: the event leaves \Seen alone.
        a.ok(
            "w2 NOTIFY SET (selected (MessageNew (BODY[HEADER.FIELDS (Subject)]) MessageExpunge))",
        )
        .await;
        b.append("INBOX", "", &message(2)).await;
        let text = a.ok("m NOOP").await;
        assert!(
            text.contains(
                "* 2 FETCH (UID 2 BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: note 2\r\n\r\n)"
            ),
            "{text}"
        );
        let text = a.ok("f FETCH 2 (FLAGS)").await;
        assert!(!text.contains("\\Seen"), "{text}");
    })
}

#[test]
fn mailbox_list_changes_come_as_list() {
    with_two(async |a, b| {
        a.ok(WATCH_ALL).await;
        b.ok("c CREATE Box").await;
        let text = a.ok("n NOOP").await;
        assert!(
            text.contains("* LIST (\\HasNoChildren) \"/\" Box\r\n"),
            "{text}"
        );
        b.ok("r RENAME Box Crate").await;
        let text = a.ok("m NOOP").await;
        assert!(
            text.contains("* LIST (\\HasNoChildren) \"/\" Crate (\"OLDNAME\" (Box))\r\n"),
            "{text}"
        );
        b.ok("u SUBSCRIBE Crate").await;
        let text = a.ok("o NOOP").await;
        assert!(
            text.contains("* LIST (\\Subscribed \\HasNoChildren) \"/\" Crate\r\n"),
            "{text}"
        );
        b.ok("d DELETE Crate").await;
        let text = a.ok("p NOOP").await;
        assert!(
            text.contains("* LIST (\\NonExistent) \"/\" Crate\r\n"),
            "{text}"
        );
        // The session's own changes are not reported back to it.
        let text = a.ok("o1 CREATE Mine").await;
        assert!(!text.contains("LIST"), "{text}");
        let text = a.ok("o2 RENAME Mine Ours").await;
        assert!(!text.contains("LIST"), "{text}");
        let text = a.ok("o3 DELETE Ours").await;
        assert!(!text.contains("LIST"), "{text}");
        // NOTIFY NONE: quiet again.
        a.ok("q NOTIFY NONE").await;
        b.ok("c2 CREATE Again").await;
        let text = a.ok("r NOOP").await;
        assert!(!text.contains("LIST"), "{text}");
    })
}

#[test]
fn filters_choose_the_mailboxes() {
    with_two(async |a, b| {
        for name in ["Work/Old", "Play"] {
            a.ok(&format!("c CREATE {name}")).await;
        }
        a.ok("w NOTIFY SET (subtree Work (MessageNew MessageExpunge)) (mailboxes Play (MailboxName))")
            .await;
        b.append("Work/Old", "", &message(1)).await;
        b.append("Play", "", &message(2)).await;
        let text = a.ok("n NOOP").await;
        assert_eq!(lines_with(&text, "* STATUS").len(), 1, "{text}");
        assert!(text.contains("* STATUS Work/Old ("), "{text}");
    })
}

#[test]
fn set_status_reports_every_watched_mailbox_first() {
    with_two(async |a, b| {
        a.ok("c CREATE Other").await;
        b.append("Other", "", &message(1)).await;
        a.ok("s SELECT INBOX").await;
        let text = a
            .ok("w NOTIFY SET STATUS (personal (MessageNew MessageExpunge))")
            .await;
        let status = lines_with(&text, "* STATUS");
        assert_eq!(status.len(), 1, "{text}");
        assert!(
            status[0].starts_with("* STATUS Other (MESSAGES 1 "),
            "{text}"
        );
    })
}

#[test]
fn idle_delivers_other_mailbox_events() {
    with_two(async |a, b| {
        a.ok("c CREATE Other").await;
        a.ok("w NOTIFY SET (personal (MessageNew MessageExpunge))")
            .await;
        let (flow, _) = a.run("i IDLE").await;
        assert_eq!(
            flow,
            Flow::Idle(crate::imap::codec::types::Tag::try_from("i").unwrap())
        );
        let (notices, seen) = a.s.notify_wait().expect("NOTIFY is on");
        b.append("Other", "", &message(1)).await;
        assert!(notices.counter() > seen);
        a.s.idle_changes(&mut a.out).await;
        let text = a.out.take();
        assert!(text.starts_with("* STATUS Other (MESSAGES 1 "), "{text}");
    })
}

#[test]
fn too_many_events_overflow_and_stop_notify() {
    with_two(async |a, b| {
        a.ok("c CREATE Other").await;
        a.ok("w NOTIFY SET (personal (MailboxName))").await;
        for i in 0..2100 {
            b.ok(&format!("s{i} SUBSCRIBE Other")).await;
            b.ok(&format!("u{i} UNSUBSCRIBE Other")).await;
        }
        let text = a.ok("n NOOP").await;
        assert!(
            text.starts_with("* OK [NOTIFICATIONOVERFLOW] Too many notifications.\r\n"),
            "{text}"
        );
        b.ok("d CREATE Later").await;
        let text = a.ok("m NOOP").await;
        assert!(!text.contains("LIST"), "{text}");
    })
}
