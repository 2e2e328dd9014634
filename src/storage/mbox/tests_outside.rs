//! Changes tern makes to an mbox start from the file as it is: a flag
//! another program set survives tern's rewrite, and a message another
//! program appended after tern last read the file is kept and shown.

use super::folder::MboxFolder;
use super::tests::{run, store_at};
use crate::storage::dotlock::Dotlock;
use crate::storage::index::flag;
use crate::storage::indexed::folder::{FlagChange, FolderFormat};
use crate::storage::sdbox::test_dir;
use crate::storage::{AppendRequest, FlagOp, MailStore, Mailbox, MailboxName, SystemFlags};
use std::fs;
use std::io::Write;
use std::path::Path;

/// Another program working on the same file (its own index directory).
fn other_program(home: &Path) -> MboxFolder {
    let own = home.join("other-program");
    fs::create_dir_all(&own).unwrap();
    MboxFolder::new(home.join("mail/inbox"), own.clone(), own).inbox()
}

/// What an MDA does: append a From_ block under the mbox dotlock.
fn deliver(home: &Path, text: &str) {
    let path = home.join("mail/inbox");
    let _lock = Dotlock::acquire(&path, false).unwrap();
    let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

async fn two_messages(mb: &impl Mailbox) {
    for s in ["one", "two"] {
        mb.append(vec![AppendRequest {
            message: format!("Subject: {s}\r\n\r\n{s}\r\n").into_bytes(),
            ..Default::default()
        }])
        .await
        .unwrap();
    }
}

#[test]
fn a_store_keeps_a_flag_another_program_set() {
    let home = test_dir("mbox-outside-store");
    run(async {
        let s = store_at(&home).await;
        let mb = s.open(&MailboxName::inbox()).await.unwrap();
        two_messages(&mb).await;
        let other = other_program(&home);
        other
            .set_flags(&[FlagChange {
                uid: 2,
                flags: flag::FLAGGED,
                keywords: vec![],
            }])
            .unwrap();
        mb.store(&[2], FlagOp::Add, SystemFlags::SEEN, &[], None)
            .await
            .unwrap();
        assert_eq!(
            mb.message(2).unwrap().flags,
            SystemFlags::FLAGGED | SystemFlags::SEEN
        );
        let on_disk = other.scan().unwrap();
        let two = on_disk.messages.iter().find(|m| m.uid == 2).unwrap();
        assert_eq!(two.flags, flag::FLAGGED | flag::SEEN, "rewrite kept it");
    });
    let _ = fs::remove_dir_all(&home);
}

#[test]
fn an_expunge_rewrite_keeps_and_shows_a_message_appended_meanwhile() {
    let home = test_dir("mbox-outside-expunge");
    run(async {
        let s = store_at(&home).await;
        let mb = s.open(&MailboxName::inbox()).await.unwrap();
        two_messages(&mb).await;
        deliver(
            &home,
            "From mda@example.org  Sat Nov 28 11:26:13 2026\nSubject: late\n\nlate\n\n",
        );
        assert_eq!(mb.expunge(&[1]).await.unwrap(), vec![1]);
        assert_eq!(mb.uids(), vec![2, 3], "the late message is in the view");
        let text = fs::read_to_string(home.join("mail/inbox")).unwrap();
        assert!(!text.contains("Subject: one"), "{text}");
        assert!(text.contains("Subject: late\nX-UID: 3\n"), "{text}");
        assert_eq!(
            mb.read_message(3).await.unwrap(),
            b"Subject: late\r\n\r\nlate\r\n"
        );
    });
    let _ = fs::remove_dir_all(&home);
}
