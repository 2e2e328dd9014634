//! SEARCH (ESEARCH, SAVE, MODSEQ), SORT, THREAD.

use super::*;

#[test]
fn search_all_and_flags() {
    with_inbox(3, async |c| {
        c.ok("a STORE 2 +FLAGS.SILENT (\\Seen)").await;
        assert_eq!(
            c.cmd("b SEARCH ALL").await,
            "* SEARCH 1 2 3\r\nb OK Search completed.\r\n"
        );
        assert_eq!(
            c.cmd("c SEARCH UNSEEN").await,
            "* SEARCH 1 3\r\nc OK Search completed.\r\n"
        );
        assert_eq!(
            c.cmd("d UID SEARCH SEEN").await,
            "* SEARCH 2\r\nd OK Search completed.\r\n"
        );
    })
}

#[test]
fn search_by_content() {
    with_inbox(3, async |c| {
        assert_eq!(
            c.cmd("a SEARCH SUBJECT \"note 2\"").await,
            "* SEARCH 2\r\na OK Search completed.\r\n"
        );
        assert_eq!(
            c.cmd("b SEARCH BODY \"text 3\"").await,
            "* SEARCH 3\r\nb OK Search completed.\r\n"
        );
        assert_eq!(
            c.cmd("c SEARCH TEXT nothing-like-it").await,
            "* SEARCH\r\nc OK Search completed.\r\n"
        );
    })
}

#[test]
fn search_unknown_charset_is_badcharset() {
    with_inbox(1, async |c| {
        assert_eq!(
            c.cmd("a SEARCH CHARSET X-UNKNOWN ALL").await,
            "a NO [BADCHARSET (UTF-8)] Unsupported charset.\r\n"
        );
        c.ok("b SEARCH CHARSET UTF-8 ALL").await;
    })
}

#[test]
fn esearch_returns_min_max_count() {
    with_inbox(3, async |c| {
        let text = c.cmd("a SEARCH RETURN (MIN MAX COUNT) ALL").await;
        assert_eq!(
            text,
            "* ESEARCH (TAG \"a\") MIN 1 MAX 3 COUNT 3\r\na OK Search completed.\r\n"
        );
        let text = c.cmd("b UID SEARCH RETURN () 2:3").await;
        assert_eq!(
            text,
            "* ESEARCH (TAG \"b\") UID ALL 2:3\r\nb OK Search completed.\r\n"
        );
    })
}

#[test]
fn search_save_keeps_uids_without_answering() {
    with_inbox(3, async |c| {
        let text = c.cmd("a SEARCH RETURN (SAVE) 1,3").await;
        assert_eq!(text, "a OK Search completed.\r\n");
        assert_eq!(c.s.saved, vec![1, 3]);
        assert_eq!(
            c.cmd("b SEARCH $").await,
            "* SEARCH 1 3\r\nb OK Search completed.\r\n"
        );
    })
}

#[test]
fn search_modseq_reports_highest_and_enables_condstore() {
    with_inbox(2, async |c| {
        let text = c.cmd("a SEARCH MODSEQ 1").await;
        assert!(text.starts_with("* OK [HIGHESTMODSEQ "), "{text}");
        assert!(text.contains("\r\n* SEARCH 1 2 (MODSEQ "), "{text}");
        assert!(c.s.enabled.condstore);
    })
}

#[test]
fn search_younger_uses_the_session_clock() {
    with_inbox(1, async |c| {
        // Internal dates are "now" by the storage's clock, long after NOW.
        assert_eq!(
            c.cmd("a SEARCH OLDER 1").await,
            "* SEARCH\r\na OK Search completed.\r\n"
        );
        assert_eq!(
            c.cmd("b SEARCH YOUNGER 1").await,
            "* SEARCH 1\r\nb OK Search completed.\r\n"
        );
    })
}

#[test]
fn search_streams_long_answers() {
    with_inbox(0, async |c| {
        // A streamed line is the same bytes as one built at once.
        let text = c.cmd("a SEARCH ALL").await;
        assert_eq!(text, "* SEARCH\r\na OK Search completed.\r\n");
    })
}

#[test]
fn sort_by_subject_reverse() {
    with_inbox(3, async |c| {
        assert_eq!(
            c.cmd("a SORT (REVERSE SUBJECT) UTF-8 ALL").await,
            "* SORT 3 2 1\r\na OK Sort completed.\r\n"
        );
        assert_eq!(
            c.cmd("b UID SORT (FROM) UTF-8 2:3").await,
            "* SORT 2 3\r\nb OK Sort completed.\r\n"
        );
    })
}

#[test]
fn sort_unknown_charset_is_no() {
    with_inbox(1, async |c| {
        assert_eq!(
            c.cmd("a SORT (DATE) X-UNKNOWN ALL").await,
            "a NO [BADCHARSET (UTF-8)] Unsupported charset.\r\n"
        );
    })
}

#[test]
fn thread_references_links_replies() {
    with_client(async |c| {
        c.append("INBOX", "", &message(1)).await;
        let reply = "From: b@example.org\r\nSubject: Re: note 1\r\nDate: Tue, 14 Nov 2023 11:00:00 +0000\r\nMessage-ID: <r1@example.org>\r\nIn-Reply-To: <m1@example.org>\r\nReferences: <m1@example.org>\r\n\r\nReply.\r\n";
        c.append("INBOX", "", reply).await;
        c.append("INBOX", "", &message(3)).await;
        c.ok("s SELECT INBOX").await;
        assert_eq!(
            c.cmd("a THREAD REFERENCES UTF-8 ALL").await,
            "* THREAD (1 2)(3)\r\na OK Thread completed.\r\n"
        );
        assert_eq!(
            c.cmd("b UID THREAD ORDEREDSUBJECT UTF-8 ALL").await,
            "* THREAD (1 2)(3)\r\nb OK Thread completed.\r\n"
        );
    })
}

#[test]
fn thread_unknown_algorithm_is_bad() {
    with_inbox(1, async |c| {
        assert_eq!(
            c.cmd("a THREAD XYZ UTF-8 ALL").await,
            "a BAD Unknown thread algorithm.\r\n"
        );
    })
}
