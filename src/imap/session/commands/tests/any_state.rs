//! CAPABILITY, NOOP/CHECK, LOGOUT, ID, ENABLE, NAMESPACE, COMPRESS, IDLE,
//! and what is refused once logged in.

use super::*;
use crate::imap::codec::types::Tag;
use crate::imap::session::SessionSettings;

#[test]
fn capability_lists_the_authed_extensions() {
    with_client(async |c| {
        let text = c.ok("a CAPABILITY").await;
        let caps = lines_with(&text, "* CAPABILITY ");
        assert_eq!(caps.len(), 1, "{text}");
        for want in [
            " IMAP4rev2",
            " IDLE",
            " MOVE",
            " QRESYNC",
            " COMPRESS=DEFLATE",
        ] {
            assert!(caps[0].contains(want), "{want} missing: {text}");
        }
        assert!(text.ends_with("a OK Capability completed.\r\n"), "{text}");
    })
}

#[test]
fn capability_follows_imap_capability_setting() {
    run(async {
        let mail = Mail::new(&format()).await;
        let mut settings = SessionSettings::default();
        settings.options.capability = "IMAP4rev1 IDLE".into();
        let mut c = mail.client_with(settings);
        let text = c.ok("a CAPABILITY").await;
        assert!(
            text.starts_with("* CAPABILITY IMAP4rev1 IDLE\r\n"),
            "{text}"
        );
    })
}

#[test]
fn noop_without_mailbox_is_ok() {
    with_client(async |c| {
        assert_eq!(c.cmd("a NOOP").await, "a OK NOOP completed.\r\n");
    })
}

#[test]
fn check_needs_a_selected_mailbox() {
    with_client(async |c| {
        assert_eq!(c.cmd("a CHECK").await, "a BAD No mailbox selected.\r\n");
    })
}

#[test]
fn check_in_selected_state_is_noop() {
    with_inbox(1, async |c| {
        assert_eq!(c.cmd("a CHECK").await, "a OK NOOP completed.\r\n");
    })
}

#[test]
fn logout_says_bye_then_ok_and_asks_to_close() {
    with_client(async |c| {
        let (flow, text) = c.run("a LOGOUT").await;
        assert_eq!(flow, Flow::Logout);
        assert_eq!(text, "* BYE Logging out\r\na OK Logout completed.\r\n");
    })
}

#[test]
fn id_answers_with_configured_fields() {
    run(async {
        let mail = Mail::new(&format()).await;
        let mut settings = SessionSettings::default();
        settings.options.id_send = "name tern-test vendor \"Example Org\"".into();
        let mut c = mail.client_with(settings);
        let text = c.ok("a ID (\"name\" \"mutt\")").await;
        assert!(
            text.starts_with("* ID (\"name\" \"tern-test\" \"vendor\" \"Example Org\")\r\n"),
            "{text}"
        );
        assert!(c.s.id_logged);
    })
}

#[test]
fn id_with_empty_setting_sends_nil() {
    run(async {
        let mail = Mail::new(&format()).await;
        let mut settings = SessionSettings::default();
        settings.options.id_send = String::new();
        let mut c = mail.client_with(settings);
        let text = c.ok("a ID NIL").await;
        assert!(text.starts_with("* ID NIL\r\n"), "{text}");
    })
}

#[test]
fn enable_lists_only_newly_enabled() {
    with_client(async |c| {
        let text = c.ok("a ENABLE CONDSTORE XUNKNOWN").await;
        assert!(text.starts_with("* ENABLED CONDSTORE\r\n"), "{text}");
        let text = c.ok("b ENABLE CONDSTORE").await;
        assert!(text.starts_with("* ENABLED\r\n"), "{text}");
        assert!(c.s.enabled.condstore);
    })
}

#[test]
fn enable_qresync_implies_condstore() {
    with_client(async |c| {
        c.ok("a ENABLE QRESYNC").await;
        assert!(c.s.enabled.qresync && c.s.enabled.condstore);
    })
}

#[test]
fn enable_utf8_switches_the_encoding() {
    with_client(async |c| {
        use crate::imap::session::Output;
        assert!(!c.out.opts().utf8);
        c.ok("a ENABLE UTF8=ACCEPT").await;
        assert!(c.out.opts().utf8);
        assert!(c.s.utf8());
    })
}

#[test]
fn namespace_is_one_personal_namespace() {
    with_client(async |c| {
        let text = c.ok("a NAMESPACE").await;
        assert!(
            text.starts_with("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"),
            "{text}"
        );
    })
}

#[test]
fn compress_deflate_asks_the_driver_to_compress() {
    with_client(async |c| {
        let (flow, text) = c.run("a COMPRESS DEFLATE").await;
        assert_eq!(flow, Flow::StartCompression);
        assert_eq!(text, "a OK Begin compression.\r\n");
        assert!(c.s.compressing);
        let text = c.cmd("b COMPRESS DEFLATE").await;
        assert_eq!(
            text,
            "b NO [COMPRESSIONACTIVE] Compression already active.\r\n"
        );
    })
}

#[test]
fn compress_unknown_algorithm_is_bad() {
    with_client(async |c| {
        let text = c.cmd("a COMPRESS LZ4").await;
        assert_eq!(text, "a BAD Unknown compression algorithm.\r\n");
        assert!(!c.s.compressing);
    })
}

#[test]
fn login_and_starttls_are_refused_once_logged_in() {
    with_client(async |c| {
        assert_eq!(c.cmd("a STARTTLS").await, "a BAD Already logged in.\r\n");
        assert_eq!(
            c.cmd("b LOGIN joe secret").await,
            "b BAD Already logged in.\r\n"
        );
        assert_eq!(
            c.cmd("c AUTHENTICATE PLAIN").await,
            "c BAD Already logged in.\r\n"
        );
    })
}

#[test]
fn idle_asks_the_driver_to_wait_and_done_completes() {
    with_inbox(1, async |c| {
        let (flow, text) = c.run("i IDLE").await;
        let tag = Tag::try_from("i").unwrap();
        assert_eq!(flow, Flow::Idle(tag.clone()));
        assert_eq!(text, "+ idling\r\n");
        c.s.idle_done(&mut c.out, &tag, Some(b"DONE\r\n")).await;
        assert_eq!(c.out.take(), "i OK Idle completed.\r\n");
    })
}

#[test]
fn idle_ended_by_anything_but_done_is_bad() {
    with_inbox(0, async |c| {
        let tag = Tag::try_from("i").unwrap();
        c.run("i IDLE").await;
        c.s.idle_done(&mut c.out, &tag, Some(b"NOOP\r\n")).await;
        assert_eq!(c.out.take(), "i BAD Expected DONE.\r\n");
        c.s.idle_done(&mut c.out, &tag, None).await;
        assert_eq!(c.out.take(), "i BAD Expected DONE.\r\n");
    })
}

#[test]
fn idle_reports_new_mail_as_it_arrives() {
    with_two(async |a, b| {
        a.ok("s SELECT INBOX").await;
        let tag = Tag::try_from("i").unwrap();
        a.run("i IDLE").await;
        let watched = a.s.idle_watch().expect("INBOX is watched");
        use crate::storage::Mailbox;
        let before = watched.change_counter();
        b.append("INBOX", "", &message(1)).await;
        assert!(watched.change_counter() > before);
        a.s.idle_changes(&mut a.out).await;
        let text = a.out.take();
        assert!(text.contains("* 1 EXISTS\r\n"), "{text}");
        a.s.idle_done(&mut a.out, &tag, Some(b"done\r\n")).await;
        assert_eq!(a.out.take(), "i OK Idle completed.\r\n");
    })
}

#[test]
fn idle_watches_nothing_without_a_mailbox() {
    with_client(async |c| {
        assert!(c.s.idle_watch().is_none());
        c.s.idle_poll().await;
        c.s.idle_changes(&mut c.out).await;
        assert_eq!(c.out.take(), "");
    })
}

#[test]
fn mailbox_commands_fail_when_the_store_cannot_open() {
    run(async {
        let mut c = Client::new(None, SessionSettings::default());
        let text = c.cmd("a SELECT INBOX").await;
        assert_eq!(text, "a NO [SERVERBUG] Mail storage unavailable.\r\n");
        let text = c.cmd("b LIST \"\" *").await;
        assert_eq!(text, "b NO [SERVERBUG] Mail storage unavailable.\r\n");
        // Commands that need no mail still work.
        assert_eq!(c.cmd("c NOOP").await, "c OK NOOP completed.\r\n");
    })
}

#[test]
fn selected_state_commands_need_a_mailbox() {
    with_client(async |c| {
        for line in [
            "a FETCH 1 FLAGS",
            "a STORE 1 +FLAGS (\\Seen)",
            "a SEARCH ALL",
            "a UID SEARCH ALL",
            "a SORT (DATE) UTF-8 ALL",
            "a THREAD REFERENCES UTF-8 ALL",
            "a COPY 1 Trash",
            "a MOVE 1 Trash",
            "a EXPUNGE",
            "a UID EXPUNGE 1",
            "a CLOSE",
            "a UNSELECT",
        ] {
            assert_eq!(
                c.cmd(line).await,
                "a BAD No mailbox selected.\r\n",
                "{line}"
            );
        }
    })
}

#[test]
fn commands_on_the_selected_mailbox_catch_up_first() {
    use crate::imap::session::commands::{CatchUp, CommandSpec};
    let catch_up = |keyword: &str| CommandSpec::find(keyword.as_bytes()).map(|spec| spec.catch_up);
    for keyword in ["NOOP", "CHECK", "IDLE"] {
        assert_eq!(catch_up(keyword), Some(CatchUp::Forced), "{keyword}");
    }
    assert_eq!(catch_up("EXPUNGE"), Some(CatchUp::Recent));
    for keyword in ["CLOSE", "UNSELECT", "CAPABILITY", "LOGOUT"] {
        assert_eq!(catch_up(keyword), Some(CatchUp::No), "{keyword}");
    }
}
