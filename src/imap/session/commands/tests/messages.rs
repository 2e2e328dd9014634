//! APPEND, STORE, FETCH, EXPUNGE / UID EXPUNGE, COPY, MOVE.

use super::*;

#[test]
fn append_answers_appenduid() {
    with_client(async |c| {
        let text = c.append("INBOX", "\\Seen", &message(1)).await;
        assert!(text.starts_with("ap OK [APPENDUID "), "{text}");
        assert!(text.ends_with(" 1] Append completed.\r\n"), "{text}");
        assert_eq!(c.s.stats.appended, 1);
    })
}

#[test]
fn multiappend_saves_all() {
    with_client(async |c| {
        let (m1, m2) = (message(1), message(2));
        let line = format!(
            "a APPEND INBOX {{{}+}}\r\n{m1} (\\Flagged) {{{}+}}\r\n{m2}",
            m1.len(),
            m2.len()
        );
        let text = c.ok(&line).await;
        assert!(text.contains(" 1:2] Append completed.\r\n"), "{text}");
        assert_eq!(c.s.stats.appended, 2);
    })
}

#[test]
fn append_to_missing_mailbox_is_trycreate() {
    with_client(async |c| {
        let m = message(1);
        let text = c
            .cmd(&format!("a APPEND Nope {{{}+}}\r\n{m}", m.len()))
            .await;
        assert_eq!(text, "a NO [TRYCREATE] Mailbox doesn't exist.\r\n");
    })
}

#[test]
fn append_empty_message_is_refused() {
    with_client(async |c| {
        let text = c.cmd("a APPEND INBOX {0+}\r\n").await;
        assert_eq!(text, "a NO [CANNOT] Can't save an empty message.\r\n");
    })
}

#[test]
fn append_to_the_selected_mailbox_reports_exists() {
    with_inbox(1, async |c| {
        let text = c.append("INBOX", "", &message(2)).await;
        assert!(text.starts_with("* 2 EXISTS\r\n* 2 RECENT\r\n"), "{text}");
    })
}

#[test]
fn append_keeps_flags_and_internal_date() {
    with_client(async |c| {
        let m = message(1);
        let line = format!(
            "a APPEND INBOX (\\Flagged $Work) \"14-Nov-2023 10:00:00 +0000\" {{{}+}}\r\n{m}",
            m.len()
        );
        c.ok(&line).await;
        c.ok("s SELECT INBOX").await;
        let text = c.ok("b FETCH 1 (FLAGS INTERNALDATE)").await;
        assert!(text.contains("\\Flagged"), "{text}");
        assert!(text.contains("$Work"), "{text}");
        assert!(
            text.contains("INTERNALDATE \"14-Nov-2023 10:00:00 +0000\""),
            "{text}"
        );
    })
}

#[test]
fn store_reports_new_flags() {
    with_inbox(2, async |c| {
        let text = c.cmd("a STORE 1:2 +FLAGS (\\Seen)").await;
        assert_eq!(
            text,
            "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\n* 2 FETCH (FLAGS (\\Seen \\Recent))\r\na OK Store completed.\r\n"
        );
    })
}

#[test]
fn store_silent_reports_nothing() {
    with_inbox(1, async |c| {
        assert_eq!(
            c.cmd("a STORE 1 +FLAGS.SILENT (\\Seen)").await,
            "a OK Store completed.\r\n"
        );
    })
}

#[test]
fn uid_store_includes_uid_and_replace_and_remove() {
    with_inbox(1, async |c| {
        let text = c.cmd("a UID STORE 1 FLAGS (\\Answered $Label)").await;
        assert!(
            text.contains("\r\n* 1 FETCH (UID 1 FLAGS (\\Answered \\Recent $Label))\r\n"),
            "{text}"
        );
        let text = c.cmd("b UID STORE 1 -FLAGS ($Label)").await;
        assert!(
            text.starts_with("* 1 FETCH (UID 1 FLAGS (\\Answered \\Recent))\r\n"),
            "{text}"
        );
    })
}

#[test]
fn store_new_keyword_announces_flags() {
    with_inbox(1, async |c| {
        let text = c.cmd("a STORE 1 +FLAGS.SILENT ($Work)").await;
        assert!(
            text.contains("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)\r\n"),
            "{text}"
        );
        assert!(text.contains("* OK [PERMANENTFLAGS ("), "{text}");
    })
}

#[test]
fn store_out_of_range_is_bad() {
    with_inbox(1, async |c| {
        assert_eq!(
            c.cmd("a STORE 5 +FLAGS (\\Seen)").await,
            "a BAD Invalid messageset.\r\n"
        );
    })
}

#[test]
fn store_unchangedsince_reports_modified() {
    with_inbox(2, async |c| {
        c.ok("a STORE 2 +FLAGS.SILENT (\\Flagged)").await;
        let text = c
            .cmd("b STORE 1:2 (UNCHANGEDSINCE 1) +FLAGS.SILENT (\\Seen)")
            .await;
        assert!(text.contains("b OK [MODIFIED "), "{text}");
        assert!(c.s.enabled.condstore);
    })
}

#[test]
fn store_deleted_counts_for_the_logout_line() {
    with_inbox(2, async |c| {
        c.ok("a STORE 1:2 +FLAGS.SILENT (\\Deleted)").await;
        assert_eq!(c.s.stats.deleted, 2);
    })
}

#[test]
fn fetch_flags_uid_size() {
    with_inbox(1, async |c| {
        let size = message(1).len();
        let text = c.cmd("a FETCH 1 (FLAGS UID RFC822.SIZE)").await;
        assert_eq!(
            text,
            format!(
                "* 1 FETCH (FLAGS (\\Recent) UID 1 RFC822.SIZE {size})\r\na OK Fetch completed.\r\n"
            )
        );
    })
}

#[test]
fn fetch_body_sets_seen_and_sends_flags() {
    with_inbox(1, async |c| {
        let m = message(1);
        let text = c.cmd("a FETCH 1 BODY[]").await;
        assert!(
            text.starts_with(&format!("* 1 FETCH (BODY[] {{{}}}\r\n{m}", m.len())),
            "{text}"
        );
        assert!(text.contains("FLAGS (\\Seen \\Recent)"), "{text}");
        assert_eq!(c.s.stats.fetch_body_count, 1);
    })
}

#[test]
fn fetch_peek_leaves_seen_alone() {
    with_inbox(1, async |c| {
        let text = c.cmd("a FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]").await;
        assert!(
            text.starts_with(
                "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {19}\r\nSubject: note 1\r\n\r\n)\r\n"
            ),
            "{text}"
        );
        assert!(!text.contains("\\Seen"), "{text}");
        assert_eq!(c.s.stats.fetch_hdr_count, 1);
    })
}

#[test]
fn fetch_envelope() {
    with_inbox(1, async |c| {
        let text = c.ok("a FETCH 1 ENVELOPE").await;
        assert!(
            text.contains("\"note 1\" ((\"Sender 1\" NIL \"s1\" \"example.org\"))"),
            "{text}"
        );
        assert!(text.contains("\"<m1@example.org>\""), "{text}");
    })
}

#[test]
fn fetch_uid_range_and_out_of_range_sequence() {
    with_inbox(3, async |c| {
        let text = c.ok("a UID FETCH 2:* FLAGS").await;
        assert_eq!(lines_with(&text, "* ").len(), 2, "{text}");
        assert!(text.contains("* 2 FETCH (UID 2 FLAGS"), "{text}");
        assert_eq!(
            c.cmd("b FETCH 4 FLAGS").await,
            "b BAD Invalid messageset.\r\n"
        );
        // A UID range past the end answers nothing, OK.
        assert_eq!(
            c.cmd("c UID FETCH 9 FLAGS").await,
            "c OK Fetch completed.\r\n"
        );
    })
}

#[test]
fn fetch_vanished_needs_qresync() {
    with_inbox(1, async |c| {
        assert_eq!(
            c.cmd("a UID FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)")
                .await,
            "a BAD VANISHED needs UID FETCH with QRESYNC enabled.\r\n"
        );
    })
}

#[test]
fn fetch_changedsince_reports_only_changes() {
    with_inbox(2, async |c| {
        let text = c.ok("a FETCH 1:2 (MODSEQ)").await;
        let modseq = |line: &str| -> u64 {
            line.split("MODSEQ (")
                .nth(1)
                .unwrap()
                .split(')')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        let first = modseq(lines_with(&text, "* 2 FETCH")[0]);
        c.ok("b STORE 2 +FLAGS.SILENT (\\Flagged)").await;
        let text = c
            .ok(&format!("c FETCH 1:2 (FLAGS) (CHANGEDSINCE {first})"))
            .await;
        assert_eq!(lines_with(&text, "* ").len(), 1, "{text}");
        assert!(
            text.starts_with("* 2 FETCH (FLAGS (\\Flagged \\Recent) MODSEQ ("),
            "{text}"
        );
    })
}

#[test]
fn fetch_saved_result() {
    with_inbox(3, async |c| {
        c.ok("a SEARCH RETURN (SAVE) 2:3").await;
        let text = c.ok("b FETCH $ (UID)").await;
        assert_eq!(
            lines_with(&text, "* "),
            vec!["* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)"]
        );
    })
}

#[test]
fn fetch_streams_big_answers() {
    with_client(async |c| {
        let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(200 * 1024));
        c.append("INBOX", "", &big).await;
        c.ok("s SELECT INBOX").await;
        let before = c.out.flushes;
        let text = c.ok("a FETCH 1 BODY.PEEK[]").await;
        assert!(
            c.out.flushes > before,
            "a 200 KB answer is flushed as it grows"
        );
        assert!(text.contains(&"x".repeat(1000)));
    })
}

#[test]
fn fetch_stops_when_the_client_is_gone() {
    with_client(async |c| {
        let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(200 * 1024));
        c.append("INBOX", "", &big).await;
        c.ok("s SELECT INBOX").await;
        c.out.gone = true;
        let (flow, _) = c.run("a FETCH 1 BODY.PEEK[]").await;
        assert_eq!(flow, Flow::Close);
    })
}

#[test]
fn expunge_removes_deleted_and_reports() {
    with_inbox(3, async |c| {
        c.ok("a STORE 1,3 +FLAGS.SILENT (\\Deleted)").await;
        let text = c.cmd("b EXPUNGE").await;
        assert_eq!(
            text,
            "* 3 EXPUNGE\r\n* 1 EXPUNGE\r\n* 1 EXISTS\r\n* 1 RECENT\r\nb OK Expunge completed.\r\n"
        );
        assert_eq!(c.s.stats.expunged, 2);
    })
}

#[test]
fn expunge_with_qresync_reports_vanished() {
    with_inbox(3, async |c| {
        c.ok("e ENABLE QRESYNC").await;
        c.ok("a STORE 1:2 +FLAGS.SILENT (\\Deleted)").await;
        let text = c.cmd("b EXPUNGE").await;
        assert_eq!(
            text,
            "* VANISHED 1:2\r\n* 1 EXISTS\r\n* 1 RECENT\r\nb OK Expunge completed.\r\n"
        );
    })
}

#[test]
fn uid_expunge_only_the_named_uids() {
    with_inbox(3, async |c| {
        c.ok("a STORE 1:3 +FLAGS.SILENT (\\Deleted)").await;
        let text = c.cmd("b UID EXPUNGE 2").await;
        assert_eq!(
            text,
            "* 2 EXPUNGE\r\n* 2 EXISTS\r\n* 2 RECENT\r\nb OK Expunge completed.\r\n"
        );
    })
}

#[test]
fn copy_answers_copyuid_and_counts_trash() {
    run(async {
        let mail = Mail::new(&format()).await;
        let mut settings = SessionSettings::default();
        settings.options.logout_format = "trashed=%{trashed}".into();
        let mut c = mail.client_with(settings);
        c.ok("a CREATE Bin (USE (\\Trash))").await;
        c.append("INBOX", "", &message(1)).await;
        c.append("INBOX", "", &message(2)).await;
        c.ok("s SELECT INBOX").await;
        let text = c.cmd("b COPY 1:2 Bin").await;
        assert!(text.starts_with("b OK [COPYUID "), "{text}");
        assert!(text.ends_with(" 1:2 1:2] Copy completed.\r\n"), "{text}");
        assert_eq!(c.s.stats.trashed, 2);
        let text = c.ok("c STATUS Bin (MESSAGES)").await;
        assert!(text.starts_with("* STATUS Bin (MESSAGES 2)\r\n"), "{text}");
    })
}

#[test]
fn copy_to_missing_mailbox_is_trycreate() {
    with_inbox(1, async |c| {
        assert_eq!(
            c.cmd("a COPY 1 Nope").await,
            "a NO [TRYCREATE] Mailbox doesn't exist.\r\n"
        );
    })
}

#[test]
fn copy_of_nothing_is_ok() {
    with_inbox(1, async |c| {
        c.ok("a CREATE Work").await;
        assert_eq!(
            c.cmd("b UID COPY 7 Work").await,
            "b OK No messages found.\r\n"
        );
    })
}

#[test]
fn move_reports_copyuid_then_expunges() {
    with_inbox(2, async |c| {
        c.ok("a CREATE Work").await;
        let text = c.cmd("b MOVE 1 Work").await;
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert!(lines[0].starts_with("* OK [COPYUID "), "{text}");
        assert!(lines[0].ends_with(" 1 1] Moved UIDs."), "{text}");
        assert_eq!(lines[1], "* 1 EXPUNGE", "{text}");
        assert_eq!(lines[2], "* 1 EXISTS", "{text}");
        // The RECENT count changed with the expunge (as Dovecot says it).
        assert_eq!(lines[3], "* 1 RECENT", "{text}");
        assert_eq!(lines[4], "b OK Move completed.", "{text}");
        assert_eq!(c.s.stats.expunged, 1);
    })
}

#[test]
fn uid_move_in_read_only_is_refused() {
    with_client(async |c| {
        c.append("INBOX", "", &message(1)).await;
        c.ok("a CREATE Work").await;
        c.ok("b EXAMINE INBOX").await;
        assert_eq!(
            c.cmd("c UID MOVE 1 Work").await,
            "c NO [CANNOT] Mailbox is read-only.\r\n"
        );
        // COPY out of a read-only mailbox is fine.
        c.ok("d UID COPY 1 Work").await;
    })
}

#[test]
fn every_format_serves_the_same_session() {
    run(async {
        for format in ["memory", "sdbox", "maildir", "mbox"] {
            let mail = Mail::new(format).await;
            let mut c = mail.client();
            c.append("INBOX", "", &message(1)).await;
            c.append("INBOX", "\\Flagged", &message(2)).await;
            let text = c.ok("a SELECT INBOX").await;
            assert!(text.contains("* 2 EXISTS\r\n"), "{format}: {text}");
            let text = c
                .ok("b FETCH 2 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                .await;
            assert!(text.contains("\\Flagged"), "{format}: {text}");
            assert!(text.contains("Subject: note 2\r\n"), "{format}: {text}");
            c.ok("c STORE 1 +FLAGS.SILENT (\\Deleted)").await;
            let text = c.ok("d EXPUNGE").await;
            assert!(text.starts_with("* 1 EXPUNGE\r\n"), "{format}: {text}");
            assert_eq!(
                c.cmd("e SEARCH ALL").await,
                "* SEARCH 1\r\ne OK Search completed.\r\n",
                "{format}"
            );
        }
    })
}

#[test]
fn expunge_with_nothing_deleted_reports_nothing() {
    with_inbox(2, async |c| {
        assert_eq!(c.cmd("a EXPUNGE").await, "a OK Expunge completed.\r\n");
        assert_eq!(c.s.stats.expunged, 0);
    })
}

#[test]
fn append_fails_when_the_store_cannot_open() {
    run(async {
        let mut c = Client::new(None, SessionSettings::default());
        let m = message(1);
        let text = c
            .cmd(&format!("a APPEND INBOX {{{}+}}\r\n{m}", m.len()))
            .await;
        assert_eq!(text, "a NO [SERVERBUG] Mail storage unavailable.\r\n");
    })
}
