//! Two sessions of one user on one mailbox: what each is told about the
//! other's changes, and when (RFC 9051 §7.5.1).

use super::*;

#[test]
fn new_mail_is_announced_after_any_command() {
    with_two(async |a, b| {
        a.ok("s SELECT INBOX").await;
        b.append("INBOX", "", &message(1)).await;
        let text = a.cmd("n NOOP").await;
        assert_eq!(text, "* 1 EXISTS\r\n* 1 RECENT\r\nn OK NOOP completed.\r\n");
    })
}

#[test]
fn delay_newmail_holds_exists_until_noop() {
    run(async {
        let mail = Mail::new(&format()).await;
        let mut a = mail.client_with(with_workaround(ImapWorkaround::DelayNewmail));
        let mut b = mail.client();
        a.ok("s SELECT INBOX").await;
        b.append("INBOX", "", &message(1)).await;
        let text = a.ok("f SEARCH ALL").await;
        assert!(!text.contains("EXISTS"), "{text}");
        let text = a.ok("n NOOP").await;
        assert!(text.contains("* 1 EXISTS\r\n"), "{text}");
    })
}

#[test]
fn expunge_by_other_waits_during_fetch_store_search() {
    with_two(async |a, b| {
        for i in 1..=2 {
            a.append("INBOX", "", &message(i)).await;
        }
        a.ok("s SELECT INBOX").await;
        b.ok("s SELECT INBOX").await;
        b.ok("d STORE 1 +FLAGS.SILENT (\\Deleted)").await;
        b.ok("e EXPUNGE").await;
        for line in [
            "f FETCH 1:* (UID)",
            "g STORE 2 +FLAGS.SILENT (\\Seen)",
            "h SEARCH ALL",
        ] {
            let text = a.ok(line).await;
            assert!(!text.contains("EXPUNGE"), "{line}: {text}");
        }
        // Sequence numbers did not move meanwhile.
        let text = a.ok("i FETCH 2 (UID)").await;
        assert!(text.starts_with("* 2 FETCH (UID 2)\r\n"), "{text}");
        // A UID command may announce it.
        let text = a.ok("j UID FETCH 2 (UID)").await;
        assert!(text.contains("* 1 EXPUNGE\r\n"), "{text}");
        let text = a.ok("k FETCH 1 (UID)").await;
        assert!(text.starts_with("* 1 FETCH (UID 2)\r\n"), "{text}");
    })
}

#[test]
fn expunge_by_other_is_announced_on_noop() {
    with_two(async |a, b| {
        a.append("INBOX", "", &message(1)).await;
        a.ok("s SELECT INBOX").await;
        b.ok("s SELECT INBOX").await;
        b.ok("d STORE 1 +FLAGS.SILENT (\\Deleted)").await;
        b.ok("e EXPUNGE").await;
        let text = a.cmd("n NOOP").await;
        assert!(
            text.starts_with("* 1 FETCH (UID 1 FLAGS (\\Deleted \\Recent))\r\n")
                || text.starts_with("* 1 EXPUNGE\r\n"),
            "{text}"
        );
        assert!(text.contains("* 1 EXPUNGE\r\n"), "{text}");
        assert!(text.ends_with("n OK NOOP completed.\r\n"), "{text}");
    })
}

#[test]
fn flag_changes_of_others_come_as_fetch_flags() {
    with_two(async |a, b| {
        a.append("INBOX", "", &message(1)).await;
        a.ok("s SELECT INBOX").await;
        b.ok("s SELECT INBOX").await;
        b.ok("f STORE 1 +FLAGS.SILENT (\\Flagged)").await;
        let text = a.cmd("n NOOP").await;
        assert_eq!(
            text,
            "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))\r\nn OK NOOP completed.\r\n"
        );
        // Reported once only.
        assert_eq!(a.cmd("m NOOP").await, "m OK NOOP completed.\r\n");
    })
}

#[test]
fn flag_changes_of_others_carry_modseq_with_condstore() {
    with_two(async |a, b| {
        a.append("INBOX", "", &message(1)).await;
        a.ok("e ENABLE CONDSTORE").await;
        a.ok("s SELECT INBOX").await;
        b.ok("s SELECT INBOX").await;
        b.ok("f STORE 1 +FLAGS.SILENT (\\Seen)").await;
        let text = a.cmd("n NOOP").await;
        assert!(
            text.starts_with("* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent) MODSEQ ("),
            "{text}"
        );
    })
}

#[test]
fn own_store_is_not_reported_twice() {
    with_inbox(1, async |c| {
        c.ok("a STORE 1 +FLAGS (\\Seen)").await;
        assert_eq!(c.cmd("b NOOP").await, "b OK NOOP completed.\r\n");
    })
}

#[test]
fn bad_commands_report_no_updates() {
    with_two(async |a, b| {
        a.ok("s SELECT INBOX").await;
        b.append("INBOX", "", &message(1)).await;
        assert_eq!(
            a.cmd("x FETCH 9 FLAGS").await,
            "x BAD Invalid messageset.\r\n"
        );
        assert!(a.cmd("n NOOP").await.contains("* 1 EXISTS\r\n"));
    })
}

#[test]
fn rename_by_other_is_followed() {
    with_two(async |a, b| {
        a.ok("c CREATE Work").await;
        a.append("Work", "", &message(1)).await;
        a.ok("s SELECT Work").await;
        b.ok("r RENAME Work Job").await;
        a.ok("n NOOP").await;
        assert_eq!(
            a.s.selected.as_ref().map(|s| s.name.as_str().to_string()),
            Some("Job".into())
        );
        let m = message(2);
        // APPEND by the new name reaches the selected mailbox.
        let text = a.ok(&format!("p APPEND Job {{{}+}}\r\n{m}", m.len())).await;
        assert!(text.contains("* 2 EXISTS\r\n"), "{text}");
    })
}
