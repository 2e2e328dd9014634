//! mbox format tests: files as Dovecot writes them, numbering of mail
//! other programs delivered, locks, and interop with the installed Dovecot.

use super::folder::MboxFolder;
use crate::storage::dovecot_rig::DovecotRig;
use crate::storage::indexed::folder::{FolderFormat, NewMessage};
use crate::storage::sdbox::test_dir;
use crate::storage::testing;
pub(super) use crate::storage::testing::run;
use crate::storage::{
    AnyStore, AppendRequest, FlagOp, MailStore, Mailbox, MailboxName, SystemFlags,
};
use std::fs;
use std::path::Path;

pub(super) async fn store_at(home: &Path) -> AnyStore {
    let location = format!("mbox:~/mail:INBOX={}/mail/inbox", home.display());
    testing::store_at(&location, home).await
}

/// As in the shared doc: Dovecot's headers on message 1, a body with an
/// unquoted `From ` line, then a message another MDA appended (no X-UID)
/// that carries a forged one.
const SAMPLE: &str = "From other@vm  Sat Nov 28 11:26:13 2026\n\
Subject: one\n\
X-IMAPbase: 1795865173 0000000002 Work\n\
X-UID: 1\n\
Status: RO\n\
X-Keywords: Work                                                  \n\
Content-Length: 46\n\
X-Status: FTD\n\
\n\
From the start of a line\n\
>From already quoted\n\
\n\
From MAILER-DAEMON  Sat Nov 28 11:27:00 2026\n\
Subject: two\n\
X-UID: 2\n\
Status: \n\
X-Keywords:                                                   \n\
Content-Length: 4\n\
\n\
two\n\
\n\
From evil@example.org  Sat Nov 28 11:28:00 2026\n\
Subject: three\n\
X-UID: 999\n\
\n\
three\n\
\n";

#[test]
fn reads_dovecots_mbox_and_numbers_foreign_mail() {
    let home = test_dir("mbox-sample");
    fs::create_dir_all(home.join("mail")).unwrap();
    fs::write(home.join("mail/inbox"), SAMPLE).unwrap();
    run(async {
        let s = store_at(&home).await;
        let mb = s.open(&MailboxName::inbox()).await.unwrap();
        assert_eq!(mb.uids(), vec![1, 2, 3], "the forged X-UID 999 is replaced");
        let st = mb.status();
        assert_eq!((st.uidvalidity, st.uidnext), (1795865173, 4));
        let m1 = mb.message(1).unwrap();
        assert_eq!(
            m1.flags,
            SystemFlags::SEEN | SystemFlags::FLAGGED | SystemFlags::DRAFT | SystemFlags::DELETED
        );
        assert_eq!(m1.keywords, vec!["Work"]);
        assert_eq!(
            m1.internal_date,
            super::from_line::parse(b"From other@vm  Sat Nov 28 11:26:13 2026")
                .unwrap()
                .time
        );
        assert_eq!(
            mb.read_message(1).await.unwrap(),
            b"Subject: one\r\n\r\nFrom the start of a line\r\n>From already quoted\r\n"
        );
        assert_eq!(
            mb.read_message(3).await.unwrap(),
            b"Subject: three\r\n\r\nthree\r\n"
        );
    });
    let text = fs::read_to_string(home.join("mail/inbox")).unwrap();
    assert!(
        text.contains("X-IMAPbase: 1795865173 0000000003 Work\n"),
        "{text}"
    );
    assert!(text.contains("Subject: three\nX-UID: 3\n"), "{text}");
    assert!(!text.contains("999"));
    assert!(
        text.contains("\nFrom the start of a line\n>From already quoted\n\nFrom MAILER-DAEMON"),
        "no quoting added"
    );
    assert!(home.join("mail/.imap/INBOX/tern.index").exists());
    let _ = fs::remove_dir_all(&home);
}

#[test]
fn writes_status_headers_and_keeps_uids_when_emptied() {
    let home = test_dir("mbox-write");
    let path = home.join("mail/inbox");
    let uidv = run(async {
        let s = store_at(&home).await;
        let mb = s.open(&MailboxName::inbox()).await.unwrap();
        let req = AppendRequest {
            message: b"Subject: a\r\nX-UID: 77\r\nStatus: RO\r\n\r\nFrom here\r\n".to_vec(),
            flags: SystemFlags::SEEN | SystemFlags::ANSWERED,
            keywords: vec!["Work".into()],
            ..Default::default()
        };
        assert_eq!(mb.append(vec![req]).await.unwrap(), vec![1]);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("From MAILER-DAEMON  "), "{text}");
        let uidv = mb.status().uidvalidity;
        assert!(text.contains(&format!("Subject: a\nX-IMAPbase: {uidv} 0000000001 Work\nX-UID: 1\nStatus: R\nX-Keywords: Work ")), "{text}");
        assert!(
            text.contains("Content-Length: 10\nX-Status: A\n\nFrom here\n\n"),
            "{text}"
        );
        assert!(!text.contains("X-UID: 77"), "injected X-UID dropped");
        // A second append goes to the end and bumps X-IMAPbase in place.
        mb.append(vec![AppendRequest {
            message: b"Subject: b\r\n\r\nb\r\n".to_vec(),
            ..Default::default()
        }])
        .await
        .unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(&format!("X-IMAPbase: {uidv} 0000000002 Work\n")),
            "{text}"
        );
        mb.store(&[1], FlagOp::Remove, SystemFlags::ANSWERED, &[], None)
            .await
            .unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("X-Status"), "{text}");
        mb.expunge(&[1, 2]).await.unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"");
        uidv
    });
    run(async {
        let mb = store_at(&home)
            .await
            .open(&MailboxName::inbox())
            .await
            .unwrap();
        assert_eq!(
            mb.status().uidvalidity,
            uidv,
            "kept although the mbox is empty"
        );
        let uids = mb
            .append(vec![AppendRequest {
                message: b"Subject: c\r\n\r\nc\r\n".to_vec(),
                ..Default::default()
            }])
            .await
            .unwrap();
        assert_eq!(uids, vec![3]);
    });
    let _ = fs::remove_dir_all(&home);
}

#[test]
fn waits_for_another_programs_dotlock() {
    let home = test_dir("mbox-lock");
    let path = home.join("box");
    fs::write(&path, b"").unwrap();
    fs::write(home.join("box.lock"), b"other").unwrap();
    let remover = {
        let lock = home.join("box.lock");
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            fs::remove_file(lock).unwrap();
        })
    };
    let folder = MboxFolder::new(path.clone(), home.join(".imap/box"), home.join(".imap"));
    fs::create_dir_all(home.join(".imap/box")).unwrap();
    let start = std::time::Instant::now();
    let found = folder
        .append(vec![NewMessage {
            body: b"Subject: x\n\nx\n".to_vec(),
            flags: 0,
            keywords: vec![],
            internal_date: 0,
            guid: None,
            pop3_uidl: None,
            pop3_order: None,
            envelope_from: Some("a@b".into()),
        }])
        .unwrap();
    assert!(start.elapsed() >= std::time::Duration::from_millis(250));
    remover.join().unwrap();
    assert_eq!(found[0].uid, 1);
    assert!(fs::read_to_string(&path).unwrap().starts_with("From a@b  "));
    assert!(!home.join("box.lock").exists(), "our dotlock is released");
    let _ = fs::remove_dir_all(&home);
}

#[test]
fn folders_are_files_and_directories_are_noselect() {
    let home = test_dir("mbox-tree");
    run(async {
        let s = store_at(&home).await;
        s.create(&MailboxName::new("Lists/Rust").unwrap())
            .await
            .unwrap();
        assert!(home.join("mail/Lists/Rust").is_file());
        assert!(
            s.create(&MailboxName::new("Lists/Rust/Sub").unwrap())
                .await
                .is_err()
        );
        let l = s.list().await.unwrap();
        let lists = l.iter().find(|i| i.name.as_str() == "Lists").unwrap();
        assert!(!lists.selectable && lists.has_children);
        let mb = s
            .open(&MailboxName::new("Lists/Rust").unwrap())
            .await
            .unwrap();
        mb.append(vec![AppendRequest {
            message: b"S: x\r\n\r\nx\r\n".to_vec(),
            ..Default::default()
        }])
        .await
        .unwrap();
        assert!(home.join("mail/Lists/.imap/Rust/tern.index").exists());
        s.set_subscribed(&MailboxName::new("Lists/Rust").unwrap(), true)
            .await
            .unwrap();
        assert!(home.join("mail/.subscriptions").exists());
    });
    let _ = fs::remove_dir_all(&home);
}

/// Dovecot delivers into an mbox and sets flags; tern reads the same UIDs
/// and bodies. Then tern writes and Dovecot reads.
#[test]
fn interop_with_the_installed_dovecot() {
    let rig = DovecotRig::new("mbox-dovecot", "mbox:{home}/mail:INBOX={home}/mail/inbox");
    std::fs::create_dir_all(rig.home.join("mail")).unwrap();
    let out =
        rig.deliver(b"From: a@example.org\nSubject: one\n\nHello one.\nFrom the start of a line\n");
    rig.deliver(b"From: b@example.org\nSubject: two\n\nHello two.\n");
    assert!(
        rig.home.join("mail/inbox").exists(),
        "delivery failed: {out}"
    );
    let out = rig.imap(b"a SELECT INBOX\r\nb STORE 1 +FLAGS (\\Seen $Label1)\r\nc CREATE Archive\r\nd COPY 2 Archive\r\ne LOGOUT\r\n");
    assert!(out.contains("d OK"), "{out}");
    let home = rig.home.clone();
    run(async {
        let s = store_at(&home).await;
        let inbox = s.open(&MailboxName::inbox()).await.unwrap();
        assert_eq!(inbox.uids(), vec![1, 2]);
        let m1 = inbox.message(1).unwrap();
        assert_eq!(m1.flags, SystemFlags::SEEN);
        assert_eq!(m1.keywords, vec!["$Label1"]);
        let body = inbox.read_message(1).await.unwrap();
        assert!(
            body.ends_with(b"\r\n\r\nHello one.\r\nFrom the start of a line\r\n"),
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert!(!String::from_utf8_lossy(&body).contains("X-UID"));
        let arch = s.open(&MailboxName::new("Archive").unwrap()).await.unwrap();
        assert_eq!(arch.uids(), vec![1]);
        assert!(
            arch.read_message(1)
                .await
                .unwrap()
                .ends_with(b"Hello two.\r\n")
        );
        inbox
            .append(vec![AppendRequest {
                message: b"From: t@example.org\r\nSubject: tern\r\n\r\nWritten by tern.\r\nFrom here too\r\n".to_vec(),
                flags: SystemFlags::FLAGGED,
                keywords: vec!["Work".into()],
                ..Default::default()
            }])
            .await
            .unwrap();
        inbox
            .store(&[2], FlagOp::Add, SystemFlags::ANSWERED, &[], None)
            .await
            .unwrap();
    });
    let out =
        rig.imap(b"a SELECT INBOX\r\nb UID FETCH 1:* (UID FLAGS BODY.PEEK[TEXT])\r\nc LOGOUT\r\n");
    assert!(out.contains("b OK"), "{out}");
    // Dovecot adds \Recent: the message is new to its index.
    assert!(
        out.contains("UID 3 FLAGS (\\Flagged \\Recent Work)"),
        "{out}"
    );
    assert!(
        out.contains("Written by tern.\r\nFrom here too\r\n)"),
        "{out}"
    );
    assert!(out.contains("UID 2 FLAGS (\\Answered)"), "{out}");
    assert!(out.contains("UID 1 FLAGS (\\Seen $Label1)"), "{out}");
}

#[test]
fn a_torn_unacknowledged_append_is_moved_aside() {
    let home = test_dir("mbox-torn");
    let path = home.join("box");
    let good = "From a@b  Sat Nov 28 11:26:13 2026\nX-IMAPbase: 5 0000000001\nX-UID: 1\nContent-Length: 2\n\nx\n\n";
    let torn = "From a@b  Sat Nov 28 11:27:13 2026\nX-UID: 2\nContent-Length: 100\n\nonly part";
    fs::write(&path, format!("{good}{torn}")).unwrap();
    let folder = MboxFolder::new(path.clone(), home.join(".imap/box"), home.join(".imap"));
    let scan = folder.scan().unwrap();
    assert_eq!(scan.messages.len(), 1);
    assert_eq!((scan.uidvalidity, scan.uidnext), (5, 2));
    assert_eq!(fs::read_to_string(&path).unwrap(), good);
    let aside: Vec<_> = fs::read_dir(home.join(".imap/box"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("torn."))
        .collect();
    assert_eq!(fs::read_to_string(aside[0].path()).unwrap(), torn);
    let _ = fs::remove_dir_all(&home);
}

#[test]
fn a_missing_spool_inbox_is_an_empty_mailbox() {
    let home = test_dir("mbox-noinbox");
    run(async {
        let s = store_at(&home).await;
        fs::remove_file(home.join("mail/inbox")).unwrap();
        let mb = s.open(&MailboxName::inbox()).await.unwrap();
        assert_eq!(mb.status().messages, 0);
        let uidv = mb.status().uidvalidity;
        let uids = mb
            .append(vec![AppendRequest {
                message: b"S: x\r\n\r\nx\r\n".to_vec(),
                ..Default::default()
            }])
            .await
            .unwrap();
        assert_eq!(uids, vec![1]);
        assert!(home.join("mail/inbox").is_file());
        assert_eq!(mb.status().uidvalidity, uidv);
        let req = AppendRequest {
            message: b"S: y\r\n\r\ny\r\n".to_vec(),
            ..Default::default()
        };
        mb.append_from(vec![req], Some("lmtp@example.org".into()))
            .await
            .unwrap();
        assert!(
            fs::read_to_string(home.join("mail/inbox"))
                .unwrap()
                .contains("\nFrom lmtp@example.org  ")
        );
        assert!(
            fs::read_to_string(home.join("mail/inbox"))
                .unwrap()
                .contains(&format!("X-IMAPbase: {uidv} "))
        );
    });
    let _ = fs::remove_dir_all(&home);
}
