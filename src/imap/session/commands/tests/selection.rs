//! SELECT / EXAMINE (CONDSTORE, QRESYNC), CLOSE, UNSELECT.

use super::*;

#[test]
fn select_reports_the_mailbox() {
    with_client(async |c| {
        c.append("INBOX", "\\Seen", &message(1)).await;
        c.append("INBOX", "", &message(2)).await;
        let text = c.ok("a SELECT INBOX").await;
        for want in [
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
            "* 2 EXISTS\r\n",
            "* 2 RECENT\r\n",
            "* OK [UNSEEN 2] First unseen.\r\n",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n",
            "* OK [UIDNEXT 3] Predicted next UID\r\n",
            "a OK [READ-WRITE] Select completed.\r\n",
        ] {
            assert!(text.contains(want), "{want:?} missing from {text}");
        }
        assert!(lines_with(&text, "* OK [UIDVALIDITY ").len() == 1, "{text}");
        assert!(
            lines_with(&text, "* OK [HIGHESTMODSEQ ").len() == 1,
            "{text}"
        );
    })
}

#[test]
fn select_claims_recent_once() {
    with_two(async |a, b| {
        a.append("INBOX", "", &message(1)).await;
        let text = a.ok("s SELECT INBOX").await;
        assert!(text.contains("* 1 RECENT\r\n"), "{text}");
        let text = b.ok("s SELECT INBOX").await;
        assert!(text.contains("* 0 RECENT\r\n"), "{text}");
    })
}

#[test]
fn examine_is_read_only() {
    with_client(async |c| {
        c.append("INBOX", "", &message(1)).await;
        let text = c.ok("a EXAMINE INBOX").await;
        assert!(
            text.contains("* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n"),
            "{text}"
        );
        assert!(
            text.ends_with("a OK [READ-ONLY] Examine completed.\r\n"),
            "{text}"
        );
        assert_eq!(
            c.cmd("b STORE 1 +FLAGS (\\Seen)").await,
            "b NO [CANNOT] Mailbox is read-only.\r\n"
        );
        assert_eq!(
            c.cmd("c EXPUNGE").await,
            "c NO [CANNOT] Mailbox is read-only.\r\n"
        );
    })
}

#[test]
fn examine_does_not_set_seen_on_fetch() {
    with_client(async |c| {
        c.append("INBOX", "", &message(1)).await;
        c.ok("a EXAMINE INBOX").await;
        let text = c.ok("b FETCH 1 BODY[]").await;
        assert!(!text.contains("\\Seen"), "{text}");
    })
}

#[test]
fn select_missing_mailbox_is_no_and_unselects() {
    with_inbox(0, async |c| {
        assert_eq!(
            c.cmd("a SELECT Nope").await,
            "a NO [NONEXISTENT] Mailbox doesn't exist.\r\n"
        );
        assert!(c.s.selected.is_none());
    })
}

#[test]
fn reselect_with_rev2_reports_closed() {
    with_inbox(0, async |c| {
        c.ok("e ENABLE IMAP4rev2").await;
        let text = c.ok("a SELECT INBOX").await;
        assert!(
            text.starts_with("* OK [CLOSED] Previous mailbox closed.\r\n"),
            "{text}"
        );
        assert!(text.contains("* LIST () \"/\" INBOX\r\n"), "{text}");
        assert!(!text.contains("RECENT"), "{text}");
    })
}

#[test]
fn select_condstore_enables_it() {
    with_client(async |c| {
        c.ok("a SELECT INBOX (CONDSTORE)").await;
        assert!(c.s.enabled.condstore);
    })
}

#[test]
fn select_qresync_needs_enable() {
    with_client(async |c| {
        assert_eq!(
            c.cmd("a SELECT INBOX (QRESYNC (1 1))").await,
            "a BAD QRESYNC is not enabled.\r\n"
        );
    })
}

#[test]
fn select_qresync_reports_vanished_and_changes() {
    with_client(async |c| {
        for i in 1..=3 {
            c.append("INBOX", "", &message(i)).await;
        }
        c.ok("e ENABLE QRESYNC").await;
        let text = c.ok("a SELECT INBOX").await;
        let validity = lines_with(&text, "* OK [UIDVALIDITY ")[0]
            .split(' ')
            .nth(3)
            .unwrap()
            .trim_end_matches(']')
            .to_string();
        let modseq: u64 = lines_with(&text, "* OK [HIGHESTMODSEQ ")[0]
            .split(' ')
            .nth(3)
            .unwrap()
            .trim_end_matches(']')
            .parse()
            .unwrap();
        c.ok("b STORE 2 +FLAGS.SILENT (\\Flagged)").await;
        c.ok("c UID STORE 3 +FLAGS.SILENT (\\Deleted)").await;
        c.ok("d UID EXPUNGE 3").await;
        let text = c
            .ok(&format!(
                "f SELECT INBOX (QRESYNC ({validity} {modseq} 1:3))"
            ))
            .await;
        assert!(text.contains("* VANISHED (EARLIER) 3\r\n"), "{text}");
        assert!(
            lines_with(&text, "* 2 FETCH (UID 2 FLAGS (\\Flagged")
                .first()
                .is_some_and(|l| l.contains("MODSEQ (")),
            "{text}"
        );
    })
}

#[test]
fn close_expunges_deleted_silently() {
    with_inbox(2, async |c| {
        c.ok("a STORE 1 +FLAGS.SILENT (\\Deleted)").await;
        assert_eq!(c.cmd("b CLOSE").await, "b OK Close completed.\r\n");
        assert!(c.s.selected.is_none());
        assert_eq!(c.s.stats.expunged, 1);
        let text = c.ok("c STATUS INBOX (MESSAGES)").await;
        assert!(
            text.starts_with("* STATUS INBOX (MESSAGES 1)\r\n"),
            "{text}"
        );
    })
}

#[test]
fn unselect_keeps_deleted_messages() {
    with_inbox(2, async |c| {
        c.ok("a STORE 1 +FLAGS.SILENT (\\Deleted)").await;
        assert_eq!(c.cmd("b UNSELECT").await, "b OK Unselect completed.\r\n");
        assert!(c.s.selected.is_none());
        let text = c.ok("c STATUS INBOX (MESSAGES)").await;
        assert!(
            text.starts_with("* STATUS INBOX (MESSAGES 2)\r\n"),
            "{text}"
        );
    })
}

#[test]
fn close_after_examine_expunges_nothing() {
    with_client(async |c| {
        c.append("INBOX", "\\Deleted", &message(1)).await;
        c.ok("a EXAMINE INBOX").await;
        c.ok("b CLOSE").await;
        let text = c.ok("c STATUS INBOX (MESSAGES)").await;
        assert!(
            text.starts_with("* STATUS INBOX (MESSAGES 1)\r\n"),
            "{text}"
        );
    })
}

#[test]
fn select_sends_permanentflags_before_exists_as_dovecot() {
    with_client(async |c| {
        c.append("INBOX", "", &message(1)).await;
        let text = c.ok("a SELECT INBOX").await;
        let flags = text.find("* FLAGS (").expect("FLAGS");
        let perm = text.find("* OK [PERMANENTFLAGS (").expect("PERMANENTFLAGS");
        let exists = text.find("* 1 EXISTS").expect("EXISTS");
        assert!(flags < perm && perm < exists, "{text}");
    })
}
