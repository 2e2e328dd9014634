//! CREATE, DELETE, RENAME, SUBSCRIBE/UNSUBSCRIBE, LIST, LSUB, STATUS.

use super::*;

#[test]
fn create_then_list_shows_it() {
    with_client(async |c| {
        assert_eq!(c.cmd("a CREATE Work").await, "a OK Create completed.\r\n");
        let text = c.ok("b LIST \"\" *").await;
        assert!(
            text.contains("* LIST (\\HasNoChildren) \"/\" Work\r\n"),
            "{text}"
        );
        assert!(
            text.contains("* LIST (\\HasNoChildren) \"/\" INBOX\r\n"),
            "{text}"
        );
    })
}

#[test]
fn create_existing_is_no_alreadyexists() {
    with_client(async |c| {
        c.ok("a CREATE Work").await;
        assert_eq!(
            c.cmd("b CREATE Work").await,
            "b NO [ALREADYEXISTS] Mailbox already exists.\r\n"
        );
        assert_eq!(
            c.cmd("c CREATE inbox").await,
            "c NO [ALREADYEXISTS] Mailbox already exists.\r\n"
        );
    })
}

#[test]
fn create_with_special_use_shows_in_list() {
    with_client(async |c| {
        c.ok("a CREATE Bin (USE (\\Trash))").await;
        let text = c.ok("b LIST (SPECIAL-USE) \"\" *").await;
        assert_eq!(
            lines_with(&text, "* LIST"),
            vec!["* LIST (\\Trash) \"/\" Bin"],
            "{text}"
        );
    })
}

#[test]
fn create_with_unknown_special_use_is_no_useattr() {
    with_client(async |c| {
        assert_eq!(
            c.cmd("a CREATE Bin (USE (\\Important))").await,
            "a NO [USEATTR] Unsupported special-use attribute.\r\n"
        );
        assert_eq!(
            c.cmd("b CREATE Bin (USE (\\Trash \\Junk))").await,
            "b NO [USEATTR] Unsupported special-use attribute.\r\n"
        );
    })
}

#[test]
fn create_invalid_name_is_no_cannot() {
    with_client(async |c| {
        let text = c.cmd("a CREATE \"a//b\"").await;
        assert!(text.starts_with("a NO [CANNOT]"), "{text}");
    })
}

#[test]
fn delete_removes_the_mailbox() {
    with_client(async |c| {
        c.ok("a CREATE Work").await;
        assert_eq!(c.cmd("b DELETE Work").await, "b OK Delete completed.\r\n");
        let text = c.ok("c LIST \"\" Work").await;
        assert!(lines_with(&text, "* LIST").is_empty(), "{text}");
    })
}

#[test]
fn delete_inbox_and_missing_are_refused() {
    with_client(async |c| {
        assert_eq!(
            c.cmd("a DELETE INBOX").await,
            "a NO [CANNOT] INBOX can't be deleted.\r\n"
        );
        assert_eq!(
            c.cmd("b DELETE Nope").await,
            "b NO [NONEXISTENT] Mailbox doesn't exist.\r\n"
        );
    })
}

#[test]
fn delete_of_the_selected_mailbox_unselects_it() {
    with_client(async |c| {
        c.ok("a CREATE Work").await;
        c.ok("b SELECT Work").await;
        c.ok("c DELETE Work").await;
        assert!(c.s.selected.is_none());
        assert_eq!(
            c.cmd("d FETCH 1 FLAGS").await,
            "d BAD No mailbox selected.\r\n"
        );
    })
}

#[test]
fn rename_moves_the_mailbox_and_children() {
    with_client(async |c| {
        c.ok("a CREATE Work/2023").await;
        assert_eq!(
            c.cmd("b RENAME Work Job").await,
            "b OK Rename completed.\r\n"
        );
        let text = c.ok("c LIST \"\" *").await;
        assert!(text.contains("\"/\" Job\r\n"), "{text}");
        assert!(text.contains("\"/\" Job/2023\r\n"), "{text}");
        assert!(!text.contains("Work"), "{text}");
    })
}

#[test]
fn rename_errors() {
    with_client(async |c| {
        c.ok("a CREATE Work").await;
        c.ok("a CREATE Job").await;
        assert_eq!(
            c.cmd("b RENAME Work INBOX").await,
            "b NO [ALREADYEXISTS] Target mailbox already exists.\r\n"
        );
        assert_eq!(
            c.cmd("c RENAME Work Job").await,
            "c NO [ALREADYEXISTS] Mailbox already exists.\r\n"
        );
        assert_eq!(
            c.cmd("d RENAME Nope Other").await,
            "d NO [NONEXISTENT] Mailbox doesn't exist.\r\n"
        );
    })
}

#[test]
fn rename_of_the_selected_mailbox_keeps_the_session_on_it() {
    with_client(async |c| {
        c.ok("a CREATE Work").await;
        c.append("Work", "", &message(1)).await;
        c.ok("b SELECT Work").await;
        c.ok("c RENAME Work Job").await;
        let sel = c.s.selected.as_ref().expect("still selected");
        assert_eq!(sel.name.as_str(), "Job");
        let text = c.ok("d FETCH 1 (UID)").await;
        assert!(text.starts_with("* 1 FETCH (UID 1)\r\n"), "{text}");
    })
}

#[test]
fn rename_inbox_moves_messages_and_empties_it() {
    with_client(async |c| {
        c.append("INBOX", "", &message(1)).await;
        c.append("INBOX", "", &message(2)).await;
        c.ok("s SELECT INBOX").await;
        let text = c.ok("a RENAME INBOX Old").await;
        // The session stays on INBOX and sees its messages go.
        assert!(text.contains("* 2 EXPUNGE\r\n* 1 EXPUNGE\r\n"), "{text}");
        let text = c.ok("b STATUS Old (MESSAGES)").await;
        assert!(text.starts_with("* STATUS Old (MESSAGES 2)\r\n"), "{text}");
    })
}

#[test]
fn subscribe_and_lsub() {
    with_client(async |c| {
        c.ok("a CREATE Work").await;
        assert_eq!(
            c.cmd("b SUBSCRIBE Work").await,
            "b OK Subscribe completed.\r\n"
        );
        let text = c.ok("c LSUB \"\" *").await;
        assert_eq!(lines_with(&text, "* LSUB"), vec!["* LSUB () \"/\" Work"]);
        assert_eq!(
            c.cmd("d UNSUBSCRIBE Work").await,
            "d OK Unsubscribe completed.\r\n"
        );
        let text = c.ok("e LSUB \"\" *").await;
        assert!(lines_with(&text, "* LSUB").is_empty(), "{text}");
    })
}

#[test]
fn lsub_pattern_filters() {
    with_client(async |c| {
        for name in ["Work", "Work/A", "Play"] {
            c.ok(&format!("a CREATE {name}")).await;
            c.ok(&format!("b SUBSCRIBE {name}")).await;
        }
        let text = c.ok("c LSUB \"\" Work%").await;
        assert_eq!(lines_with(&text, "* LSUB"), vec!["* LSUB () \"/\" Work"]);
        let text = c.ok("d LSUB Work/ *").await;
        assert_eq!(lines_with(&text, "* LSUB"), vec!["* LSUB () \"/\" Work/A"]);
    })
}

#[test]
fn lsub_tb_lsub_flags_marks_unselectable() {
    run(async {
        let mail = Mail::new(&format()).await;
        let mut c = mail.client_with(with_workaround(ImapWorkaround::TbLsubFlags));
        c.ok("a CREATE Work").await;
        c.ok("b SUBSCRIBE Work").await;
        c.ok("c SUBSCRIBE Gone").await;
        let text = c.ok("d LSUB \"\" *").await;
        assert!(
            text.contains("* LSUB (\\Noselect) \"/\" Gone\r\n"),
            "{text}"
        );
        assert!(text.contains("* LSUB () \"/\" Work\r\n"), "{text}");
    })
}

#[test]
fn list_empty_pattern_gives_the_delimiter() {
    with_client(async |c| {
        let text = c.cmd("a LIST \"\" \"\"").await;
        assert_eq!(
            text,
            "* LIST (\\Noselect) \"/\" \"\"\r\na OK List completed.\r\n"
        );
    })
}

#[test]
fn list_percent_stops_at_the_delimiter() {
    with_client(async |c| {
        c.ok("a CREATE Work/2023").await;
        let text = c.ok("b LIST \"\" %").await;
        assert!(
            text.contains("* LIST (\\Noselect \\HasChildren) \"/\" Work\r\n"),
            "{text}"
        );
        assert!(!text.contains("Work/2023"), "{text}");
    })
}

#[test]
fn list_subscribed_shows_vanished_subscriptions() {
    with_client(async |c| {
        c.ok("a CREATE Work").await;
        c.ok("b SUBSCRIBE Work").await;
        c.ok("c SUBSCRIBE Gone").await;
        let text = c.ok("d LIST (SUBSCRIBED) \"\" *").await;
        assert!(
            text.contains("* LIST (\\Subscribed) \"/\" Work\r\n"),
            "{text}"
        );
        assert!(
            text.contains("* LIST (\\Subscribed \\NonExistent) \"/\" Gone\r\n"),
            "{text}"
        );
        assert!(!text.contains("INBOX"), "{text}");
    })
}

#[test]
fn list_recursivematch_alone_is_bad() {
    with_client(async |c| {
        assert_eq!(
            c.cmd("a LIST (RECURSIVEMATCH) \"\" *").await,
            "a BAD RECURSIVEMATCH must not be the only selection\r\n"
        );
    })
}

#[test]
fn list_recursivematch_reports_childinfo() {
    with_client(async |c| {
        c.ok("a CREATE Work/A").await;
        c.ok("b SUBSCRIBE Work/A").await;
        let text = c.ok("c LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %").await;
        assert!(
            text.contains("\"/\" Work (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"),
            "{text}"
        );
    })
}

#[test]
fn list_return_status() {
    with_client(async |c| {
        c.append("INBOX", "\\Seen", &message(1)).await;
        c.append("INBOX", "", &message(2)).await;
        let text = c
            .ok("a LIST \"\" INBOX RETURN (STATUS (MESSAGES UNSEEN))")
            .await;
        assert!(
            text.contains("* STATUS INBOX (MESSAGES 2 UNSEEN 1)\r\n"),
            "{text}"
        );
    })
}

#[test]
fn status_reports_counters() {
    with_client(async |c| {
        c.append("INBOX", "\\Seen", &message(1)).await;
        c.append("INBOX", "\\Deleted", &message(2)).await;
        let text = c
            .ok("a STATUS INBOX (MESSAGES UIDNEXT UNSEEN DELETED RECENT)")
            .await;
        assert!(
            text.starts_with(
                "* STATUS INBOX (MESSAGES 2 UIDNEXT 3 UNSEEN 1 DELETED 1 RECENT 2)\r\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("a OK Status completed.\r\n"), "{text}");
    })
}

#[test]
fn status_appendlimit_follows_the_setting() {
    run(async {
        let mail = Mail::new(&format()).await;
        let mut settings = SessionSettings::default();
        settings.options.append_limit = Some(1000);
        let mut c = mail.client_with(settings);
        let text = c.ok("a STATUS INBOX (APPENDLIMIT)").await;
        assert!(
            text.starts_with("* STATUS INBOX (APPENDLIMIT 1000)\r\n"),
            "{text}"
        );
    })
}

#[test]
fn status_of_missing_mailbox_is_nonexistent() {
    with_client(async |c| {
        assert_eq!(
            c.cmd("a STATUS Nope (MESSAGES)").await,
            "a NO [NONEXISTENT] Mailbox doesn't exist.\r\n"
        );
    })
}

#[test]
fn mailbox_names_travel_in_modified_utf7_until_utf8_is_enabled() {
    with_client(async |c| {
        c.ok("a CREATE Entw&APw-rfe").await;
        let text = c.ok("b LIST \"\" Entw*").await;
        assert!(text.contains("\"/\" Entw&APw-rfe\r\n"), "{text}");
        c.ok("c ENABLE UTF8=ACCEPT").await;
        let text = c.ok("d LIST \"\" Entw*").await;
        assert!(text.contains("\"/\" \"Entwürfe\"\r\n"), "{text}");
    })
}

#[test]
fn subscribe_invalid_name_is_no_cannot() {
    with_client(async |c| {
        let text = c.cmd("a SUBSCRIBE \"a//b\"").await;
        assert!(text.starts_with("a NO [CANNOT]"), "{text}");
        let text = c.cmd("b UNSUBSCRIBE \"a//b\"").await;
        assert!(text.starts_with("b NO [CANNOT]"), "{text}");
    })
}

#[test]
fn name_commands_fail_when_the_store_cannot_open() {
    run(async {
        let mut c = Client::new(None, SessionSettings::default());
        for line in [
            "a CREATE Work",
            "a DELETE Work",
            "a RENAME Work Job",
            "a SUBSCRIBE Work",
            "a LSUB \"\" *",
            "a STATUS INBOX (MESSAGES)",
        ] {
            assert_eq!(
                c.cmd(line).await,
                "a NO [SERVERBUG] Mail storage unavailable.\r\n",
                "{line}"
            );
        }
    })
}
