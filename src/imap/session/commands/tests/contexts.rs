//! ESORT, PARTIAL and live results (RFC 5267, RFC 9394): answers, errors,
//! and the ADDTO / REMOVEFROM a session gets when its mailbox changes.

use super::*;

#[test]
fn esort_answers_in_sort_order() {
    with_inbox(3, async |c| {
        let text = c
            .ok("a SORT RETURN (MIN MAX ALL COUNT) (REVERSE SUBJECT) UTF-8 ALL")
            .await;
        assert!(
            text.starts_with("* ESEARCH (TAG \"a\") MIN 3 MAX 1 ALL 3,2,1 COUNT 3\r\n"),
            "{text}"
        );
        let text = c.ok("b UID SORT RETURN () (SUBJECT) UTF-8 ALL").await;
        assert!(
            text.starts_with("* ESEARCH (TAG \"b\") UID ALL 1:3\r\n"),
            "{text}"
        );
        // Without RETURN the answer stays a SORT response.
        let text = c.ok("c SORT (REVERSE SUBJECT) UTF-8 ALL").await;
        assert!(text.starts_with("* SORT 3 2 1\r\n"), "{text}");
    })
}

#[test]
fn partial_windows_from_both_ends() {
    with_inbox(5, async |c| {
        let text = c
            .ok("a SEARCH RETURN (MIN MAX COUNT PARTIAL 1:2) ALL")
            .await;
        assert!(
            text.starts_with("* ESEARCH (TAG \"a\") MIN 1 MAX 5 PARTIAL (1:2 1:2) COUNT 5\r\n"),
            "{text}"
        );
        let text = c.ok("b UID SEARCH RETURN (PARTIAL -1:-2) ALL").await;
        assert!(
            text.starts_with("* ESEARCH (TAG \"b\") UID PARTIAL (-1:-2 4:5)\r\n"),
            "{text}"
        );
        let text = c.ok("c SEARCH RETURN (PARTIAL 9:20) ALL").await;
        assert!(
            text.starts_with("* ESEARCH (TAG \"c\") PARTIAL (9:20 NIL)\r\n"),
            "{text}"
        );
        let text = c
            .ok("d SORT RETURN (PARTIAL 1:2) (REVERSE SUBJECT) UTF-8 ALL")
            .await;
        assert!(
            text.starts_with("* ESEARCH (TAG \"d\") PARTIAL (1:2 5,4)\r\n"),
            "{text}"
        );
    })
}

#[test]
fn partial_with_save_keeps_the_window() {
    with_inbox(5, async |c| {
        c.ok("a UID SEARCH RETURN (SAVE PARTIAL -1:-2) ALL").await;
        let text = c.ok("b UID FETCH $ (UID)").await;
        assert_eq!(
            lines_with(&text, "* "),
            ["* 4 FETCH (UID 4)", "* 5 FETCH (UID 5)"]
        );
    })
}

#[test]
fn malformed_partial_is_bad() {
    with_inbox(1, async |_c| {
        for line in [
            "a SEARCH RETURN (PARTIAL 1:5 ALL) ALL",
            "b SEARCH RETURN (PARTIAL 1:5 PARTIAL 6:9) ALL",
            "c SEARCH RETURN (PARTIAL 0:5) ALL",
            "d SEARCH RETURN (PARTIAL -1:5) ALL",
            "e SEARCH RETURN (PARTIAL 1:*) ALL",
            "f FETCH 1:* (UID) (PARTIAL 1:5)",
        ] {
            let frame = format!("{line}\r\n");
            assert!(parse_command(frame.as_bytes()).is_err(), "{line}");
        }
    })
}

#[test]
fn uid_fetch_partial_answers_the_window() {
    with_inbox(5, async |c| {
        let text = c.ok("a UID FETCH 1:* (UID) (PARTIAL -1:-2)").await;
        assert_eq!(
            lines_with(&text, "* "),
            ["* 4 FETCH (UID 4)", "* 5 FETCH (UID 5)"]
        );
        let text = c.ok("b UID FETCH 2:* (UID) (PARTIAL 1:2)").await;
        assert_eq!(
            lines_with(&text, "* "),
            ["* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)"]
        );
    })
}

#[test]
fn update_sends_addto_and_removefrom_as_the_mailbox_changes() {
    with_two(async |a, b| {
        for i in 1..=3 {
            a.append("INBOX", "", &message(i)).await;
        }
        a.ok("s SELECT INBOX").await;
        b.ok("s SELECT INBOX").await;
        let text = a.ok("u UID SEARCH RETURN (UPDATE) UNSEEN").await;
        assert!(text.starts_with("* ESEARCH (TAG \"u\") UID\r\n"), "{text}");
        // Another session reads message 2 and delivers a fourth.
        b.ok("f STORE 2 +FLAGS.SILENT (\\Seen)").await;
        b.append("INBOX", "", &message(4)).await;
        let text = a.ok("n NOOP").await;
        let exists = text.find("* 4 EXISTS").expect(&text);
        let removed = text
            .find("* ESEARCH (TAG \"u\") UID REMOVEFROM (0 2)\r\n")
            .expect(&text);
        let added = text
            .find("* ESEARCH (TAG \"u\") UID ADDTO (0 4)\r\n")
            .expect(&text);
        assert!(exists < added && removed < added, "{text}");
        // An expunge is reported before the EXPUNGE, with its number.
        b.ok("d STORE 1 +FLAGS.SILENT (\\Deleted)").await;
        b.ok("e EXPUNGE").await;
        let text = a.ok("m NOOP").await;
        let removed = text
            .find("* ESEARCH (TAG \"u\") UID REMOVEFROM (0 1)\r\n")
            .expect(&text);
        let expunge = text.find("* 1 EXPUNGE").expect(&text);
        assert!(removed < expunge, "{text}");
        // CANCELUPDATE stops it; an unknown tag is NO.
        a.ok("c CANCELUPDATE \"u\"").await;
        b.append("INBOX", "", &message(5)).await;
        let text = a.ok("o NOOP").await;
        assert!(!text.contains("ESEARCH"), "{text}");
        let text = a.cmd("x CANCELUPDATE \"u\"").await;
        assert_eq!(text, "x NO Unknown tag.\r\n");
    })
}

#[test]
fn update_by_sequence_number_follows_the_view() {
    with_two(async |a, b| {
        for i in 1..=3 {
            a.append("INBOX", "", &message(i)).await;
        }
        a.ok("s SELECT INBOX").await;
        b.ok("s SELECT INBOX").await;
        a.ok("u SEARCH RETURN (UPDATE COUNT) ALL").await;
        b.ok("d STORE 2 +FLAGS.SILENT (\\Deleted)").await;
        b.ok("e EXPUNGE").await;
        let text = a.ok("n NOOP").await;
        assert!(
            text.starts_with("* ESEARCH (TAG \"u\") REMOVEFROM (0 2)\r\n* 2 EXPUNGE\r\n"),
            "{text}"
        );
        // The session's own expunge is removed the same way (as Dovecot).
        a.ok("g STORE 1 +FLAGS.SILENT (\\Deleted)").await;
        let text = a.ok("h EXPUNGE").await;
        assert!(
            text.starts_with("* ESEARCH (TAG \"u\") REMOVEFROM (0 1)\r\n* 1 EXPUNGE\r\n"),
            "{text}"
        );
    })
}

#[test]
fn sort_update_gives_positions() {
    with_two(async |a, b| {
        for i in 1..=2 {
            a.append("INBOX", "", &message(i)).await;
        }
        a.ok("s SELECT INBOX").await;
        let text = a
            .ok("u UID SORT RETURN (UPDATE ALL) (REVERSE SUBJECT) UTF-8 ALL")
            .await;
        assert!(
            text.starts_with("* ESEARCH (TAG \"u\") UID ALL 2,1\r\n"),
            "{text}"
        );
        b.append("INBOX", "", &message(3)).await;
        let text = a.ok("n NOOP").await;
        assert!(
            text.contains("* ESEARCH (TAG \"u\") UID ADDTO (1 3)\r\n"),
            "{text}"
        );
        b.ok("s SELECT INBOX").await;
        b.ok("d STORE 2 +FLAGS.SILENT (\\Deleted)").await;
        b.ok("e EXPUNGE").await;
        let text = a.ok("m NOOP").await;
        assert!(
            text.contains("* ESEARCH (TAG \"u\") UID REMOVEFROM (2 2)\r\n"),
            "{text}"
        );
    })
}

#[test]
fn update_tag_reuse_is_bad_and_too_many_is_noupdate() {
    with_inbox(1, async |c| {
        c.ok("u SEARCH RETURN (UPDATE) ALL").await;
        let text = c.cmd("u SEARCH RETURN (UPDATE) ALL").await;
        assert_eq!(text, "u BAD Tag reuse.\r\n");
        for i in 1..crate::imap::session::contexts::MAX_CONTEXTS {
            c.ok(&format!("t{i} SEARCH RETURN (UPDATE) ALL")).await;
        }
        let text = c.ok("z SEARCH RETURN (UPDATE COUNT) ALL").await;
        assert!(
            text.starts_with("* NO [NOUPDATE \"z\"] Too many contexts.\r\n"),
            "{text}"
        );
        assert!(text.contains("COUNT 1"), "{text}");
    })
}

#[test]
fn leaving_the_mailbox_ends_updates() {
    with_two(async |a, b| {
        a.ok("c CREATE Other").await;
        a.ok("s SELECT INBOX").await;
        a.ok("u UID SEARCH RETURN (UPDATE) ALL").await;
        a.ok("t SELECT Other").await;
        b.append("INBOX", "", &message(1)).await;
        let text = a.ok("n NOOP").await;
        assert!(!text.contains("ESEARCH"), "{text}");
        let text = a.cmd("x CANCELUPDATE \"u\"").await;
        assert!(text.starts_with("x NO"), "{text}");
    })
}
