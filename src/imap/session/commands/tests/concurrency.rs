//! What several sessions of one mailbox are told, and in which order:
//! `\Recent` (claimed once, never by EXAMINE), EXISTS before anything
//! naming the new messages, FLAGS before a FETCH shows a new keyword,
//! HIGHESTMODSEQ when CONDSTORE is enabled implicitly, COPY and MOVE into
//! the selected mailbox. Dovecot 2.3's answers are the reference.

use super::*;

/// Position of the first line of `text` starting with `prefix`.
fn line_at(text: &str, prefix: &str) -> Option<usize> {
    text.split("\r\n").position(|l| l.starts_with(prefix))
}

#[test]
fn recent_belongs_to_the_first_selecting_session() {
    with_two(async |a, b| {
        for i in 1..=2 {
            a.append("INBOX", "", &message(i)).await;
        }
        let text = a.ok("s SELECT INBOX").await;
        assert!(text.contains("* 2 RECENT\r\n"), "{text}");
        assert!(
            a.ok("r SEARCH RECENT")
                .await
                .starts_with("* SEARCH 1 2\r\n")
        );
        assert!(a.ok("n SEARCH NEW").await.starts_with("* SEARCH 1 2\r\n"));
        assert!(a.ok("o SEARCH OLD").await.starts_with("* SEARCH\r\n"));
        let text = b.ok("s SELECT INBOX").await;
        assert!(text.contains("* 0 RECENT\r\n"), "{text}");
        assert!(b.ok("r SEARCH RECENT").await.starts_with("* SEARCH\r\n"));
        assert!(b.ok("o SEARCH OLD").await.starts_with("* SEARCH 1 2\r\n"));
        // Seen messages are recent but not new.
        a.ok("f STORE 1 +FLAGS.SILENT (\\Seen)").await;
        assert!(a.ok("n SEARCH NEW").await.starts_with("* SEARCH 2\r\n"));
    })
}

#[test]
fn examine_shows_recent_without_taking_it() {
    with_two(async |a, b| {
        a.append("INBOX", "", &message(1)).await;
        let text = b.ok("e EXAMINE INBOX").await;
        assert!(text.contains("* 1 RECENT\r\n"), "{text}");
        assert!(text.contains("* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n"));
        assert!(b.ok("r SEARCH RECENT").await.starts_with("* SEARCH 1\r\n"));
        let text = a.ok("s SELECT INBOX").await;
        assert!(text.contains("* 1 RECENT\r\n"), "EXAMINE took it: {text}");
        // New mail: the read-only session sees it recent until claimed.
        a.ok("u UNSELECT").await;
        a.append("INBOX", "", &message(2)).await;
        let text = b.ok("n NOOP").await;
        assert_eq!(text, "* 2 EXISTS\r\n* 2 RECENT\r\nn OK NOOP completed.\r\n");
        let text = a.ok("s SELECT INBOX").await;
        assert!(text.contains("* 1 RECENT\r\n"), "{text}");
    })
}

#[test]
fn recent_is_announced_only_when_its_number_changes() {
    run(async {
        let mail = Mail::new(&format()).await;
        let (mut a, mut b, mut c) = (mail.client(), mail.client(), mail.client());
        a.append("INBOX", "", &message(1)).await;
        a.ok("s SELECT INBOX").await;
        b.ok("s SELECT INBOX").await;
        c.ok("s SELECT INBOX").await;
        // c's own APPEND claims the new message as it reports it.
        let text = c.append("INBOX", "", &message(2)).await;
        assert!(text.starts_with("* 2 EXISTS\r\n* 1 RECENT\r\n"), "{text}");
        // a and b learn of it, but their RECENT count did not change.
        assert_eq!(
            a.cmd("n NOOP").await,
            "* 2 EXISTS\r\nn OK NOOP completed.\r\n"
        );
        assert_eq!(
            b.cmd("n NOOP").await,
            "* 2 EXISTS\r\nn OK NOOP completed.\r\n"
        );
    })
}

#[test]
fn new_keyword_is_defined_before_a_fetch_shows_it() {
    with_two(async |a, b| {
        a.append("INBOX", "", &message(1)).await;
        a.ok("s SELECT INBOX").await;
        b.ok("s SELECT INBOX").await;
        // The storing session itself.
        let text = a.ok("f STORE 1 +FLAGS ($Label1)").await;
        let flags = line_at(&text, "* FLAGS (").expect(&text);
        let perm = line_at(&text, "* OK [PERMANENTFLAGS (").expect(&text);
        let fetch = line_at(&text, "* 1 FETCH").expect(&text);
        assert!(flags < perm && perm < fetch, "{text}");
        assert!(text.contains("$Label1 \\*)]"), "{text}");
        // Another session fetching right away.
        let text = b.ok("f FETCH 1 (FLAGS)").await;
        let flags = line_at(&text, "* FLAGS (").expect(&text);
        let fetch = line_at(&text, "* 1 FETCH").expect(&text);
        assert!(flags < fetch, "{text}");
        assert!(text.contains("$Label1"), "{text}");
        // Once only.
        assert!(!b.ok("g FETCH 1 (FLAGS)").await.contains("* FLAGS"));
    })
}

#[test]
fn keyword_of_an_appended_message_is_defined_for_read_only_sessions() {
    with_two(async |a, b| {
        b.ok("e EXAMINE INBOX").await;
        a.append("INBOX", "$Forwarded", &message(1)).await;
        let text = b.ok("n NOOP").await;
        let flags = line_at(&text, "* FLAGS (").expect(&text);
        assert!(text.contains("* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n"));
        let exists = line_at(&text, "* 1 EXISTS").expect(&text);
        assert!(flags < exists, "{text}");
    })
}

#[test]
fn fetch_modseq_enables_condstore_with_highestmodseq() {
    with_inbox(2, async |c| {
        let text = c.ok("f FETCH 1 (FLAGS MODSEQ)").await;
        assert!(text.starts_with("* OK [HIGHESTMODSEQ "), "{text}");
        assert!(text.contains("MODSEQ ("), "{text}");
        // Enabled now: no second announcement, MODSEQ with FLAGS.
        let text = c.ok("g FETCH 2 (FLAGS)").await;
        assert!(!text.contains("HIGHESTMODSEQ"), "{text}");
        assert!(text.contains("MODSEQ ("), "{text}");
    })
}

#[test]
fn other_condstore_enabling_commands_announce_highestmodseq() {
    for line in [
        "f FETCH 1 (FLAGS) (CHANGEDSINCE 1)",
        "s STORE 1 (UNCHANGEDSINCE 99) +FLAGS (\\Seen)",
        "q SEARCH MODSEQ 1",
        "t STATUS INBOX (HIGHESTMODSEQ)",
    ] {
        with_inbox(1, async |c| {
            let text = c.ok(line).await;
            assert!(text.starts_with("* OK [HIGHESTMODSEQ "), "{line}: {text}");
        })
    }
    // Without a selected mailbox there is nothing to announce.
    with_client(async |c| {
        let text = c.ok("t STATUS INBOX (HIGHESTMODSEQ)").await;
        assert!(!text.contains("[HIGHESTMODSEQ"), "{text}");
        assert!(c.s.enabled.condstore);
    })
}

#[test]
fn highestmodseq_is_what_the_session_was_told() {
    with_two(async |a, b| {
        a.append("INBOX", "", &message(1)).await;
        let text = a.ok("s SELECT INBOX").await;
        let known = text
            .split("[HIGHESTMODSEQ ")
            .nth(1)
            .and_then(|r| r.split(']').next())
            .map(str::to_string)
            .expect(&text);
        b.ok("s SELECT INBOX").await;
        b.ok("f STORE 1 +FLAGS.SILENT (\\Flagged)").await;
        let text = a.ok("q SEARCH MODSEQ 1").await;
        // The other session's change comes as FETCH with its MODSEQ.
        assert!(
            text.starts_with(&format!("* OK [HIGHESTMODSEQ {known}]")),
            "{text}"
        );
    })
}

#[test]
fn copy_into_the_selected_mailbox_announces_the_copies() {
    with_inbox(2, async |c| {
        let text = c.ok("c COPY 1:2 INBOX").await;
        assert!(text.starts_with("* 4 EXISTS\r\n"), "{text}");
        assert!(text.contains("c OK [COPYUID "), "{text}");
        assert!(text.contains(" 1:2 3:4] "), "{text}");
    })
}

#[test]
fn move_into_the_selected_mailbox_works() {
    with_inbox(2, async |c| {
        let text = c.ok("m MOVE 1 INBOX").await;
        let copyuid = line_at(&text, "* OK [COPYUID ").expect(&text);
        let expunge = line_at(&text, "* 1 EXPUNGE").expect(&text);
        let exists = line_at(&text, "* 2 EXISTS").expect(&text);
        assert!(copyuid < expunge && expunge < exists, "{text}");
        assert!(text.contains(" 1 3] "), "{text}");
        let text = c.ok("u UID MOVE 2 INBOX").await;
        assert!(text.contains(" 2 4] "), "{text}");
        let text = c.ok("f FETCH 1:* (UID)").await;
        assert!(
            text.starts_with("* 1 FETCH (UID 3)\r\n* 2 FETCH (UID 4)\r\n"),
            "{text}"
        );
    })
}

#[test]
fn never_a_number_above_exists() {
    // Another session appends while this one's view holds an expunge it
    // may not announce yet (FETCH by sequence number): EXISTS counts both.
    with_two(async |a, b| {
        for i in 1..=2 {
            a.append("INBOX", "", &message(i)).await;
        }
        a.ok("s SELECT INBOX").await;
        b.ok("s SELECT INBOX").await;
        b.ok("d STORE 1 +FLAGS.SILENT (\\Deleted)").await;
        b.ok("e EXPUNGE").await;
        b.append("INBOX", "$Junk", &message(3)).await;
        let text = a.ok("f FETCH 1:* (FLAGS)").await;
        assert!(!text.contains("EXPUNGE"), "{text}");
        let exists = line_at(&text, "* 3 EXISTS").expect(&text);
        let flags = line_at(&text, "* FLAGS (").expect(&text);
        assert!(flags < exists, "{text}");
        let text = a.ok("n NOOP").await;
        assert!(text.starts_with("* 1 EXPUNGE\r\n"), "{text}");
        assert!(
            a.ok("g FETCH 2 (UID)")
                .await
                .starts_with("* 2 FETCH (UID 3)")
        );
    })
}
