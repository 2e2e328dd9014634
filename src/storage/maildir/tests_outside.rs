//! Changes tern makes to a Maildir start from the files as they are: a
//! flag another program set and mail it delivered after tern last looked
//! are neither overwritten nor hidden by tern's next write.

use super::tests::{run, store_at};
use crate::storage::sdbox::test_dir;
use crate::storage::{
    AnyStore, AppendRequest, FlagOp, MailStore, Mailbox, MailboxName, SystemFlags,
};
use std::fs;
use std::path::{Path, PathBuf};

async fn maildir_store(home: &Path) -> AnyStore {
    store_at("maildir:~/Maildir", home).await
}

/// The one message file of the folder whose name contains `part`.
fn file_with(root: &Path, part: &str) -> PathBuf {
    ["new", "cur"]
        .iter()
        .flat_map(|d| fs::read_dir(root.join(d)).unwrap().flatten())
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains(part))
        .unwrap_or_else(|| panic!("no file with {part} in {}", root.display()))
}

/// What an MDA does: write into tmp/, rename into new/.
fn deliver(root: &Path, name: &str, text: &str) {
    let tmp = root.join("tmp").join(name);
    fs::write(&tmp, text).unwrap();
    fs::rename(&tmp, root.join("new").join(name)).unwrap();
}

#[test]
fn a_store_keeps_a_flag_another_program_set_and_shows_its_delivery() {
    let home = test_dir("md-outside-store");
    let root = home.join("Maildir");
    run(async {
        let s = maildir_store(&home).await;
        let mb = s.open(&MailboxName::inbox()).await.unwrap();
        let uids = mb
            .append(vec![AppendRequest {
                message: b"Subject: mine\r\n\r\nx\r\n".to_vec(),
                guid: Some("mine".into()),
                ..Default::default()
            }])
            .await
            .unwrap();
        assert_eq!(uids, vec![1]);
        // Another program flags the message (a rename, Maildir's way) and
        // an MDA delivers a second one; tern is not told.
        let path = file_with(&root, "");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let stem = name.split(':').next().unwrap().to_string();
        fs::rename(&path, root.join("cur").join(format!("{stem}:2,F"))).unwrap();
        deliver(&root, "1800000000.M1P2.mda", "Subject: outside\n\nhi\n");

        mb.store(&[1], FlagOp::Add, SystemFlags::SEEN, &[], None)
            .await
            .unwrap();
        let name = file_with(&root, &stem)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.ends_with(":2,FS"), "outside flag kept: {name}");
        assert_eq!(
            mb.message(1).unwrap().flags,
            SystemFlags::FLAGGED | SystemFlags::SEEN
        );
        // The STORE itself caught up: no refresh was asked for.
        assert_eq!(mb.uids(), vec![1, 2], "the delivery is visible");
        let ul = fs::read_to_string(root.join("dovecot-uidlist")).unwrap();
        assert!(ul.contains("2 :1800000000.M1P2.mda"), "{ul}");
    });
    let _ = fs::remove_dir_all(&home);
}

#[test]
fn an_expunge_keeps_and_shows_mail_delivered_after_the_view_looked() {
    let home = test_dir("md-outside-expunge");
    let root = home.join("Maildir");
    run(async {
        let s = maildir_store(&home).await;
        let mb = s.open(&MailboxName::inbox()).await.unwrap();
        mb.append(vec![AppendRequest {
            message: b"Subject: old\r\n\r\nx\r\n".to_vec(),
            ..Default::default()
        }])
        .await
        .unwrap();
        deliver(&root, "1800000001.M1P3.mda", "Subject: late\n\nhi\n");
        assert_eq!(mb.expunge(&[1]).await.unwrap(), vec![1]);
        assert_eq!(mb.uids(), vec![2], "the late delivery is in the view");
        assert!(file_with(&root, "1800000001.M1P3.mda").exists());
        assert_eq!(
            mb.read_message(2).await.unwrap(),
            b"Subject: late\r\n\r\nhi\r\n"
        );
    });
    let _ = fs::remove_dir_all(&home);
}

#[test]
fn a_delivery_that_leaves_the_directory_time_unchanged_is_still_found() {
    let home = test_dir("md-outside-coarse");
    let root = home.join("Maildir");
    run(async {
        let s = maildir_store(&home).await;
        let mb = s.open(&MailboxName::inbox()).await.unwrap();
        mb.refresh().await.unwrap();
        assert!(mb.uids().is_empty());
        // A filesystem with coarse timestamps: the delivery lands within
        // the same tick as the last change tern saw, so new/'s time stays.
        let new_dir = root.join("new");
        let before = fs::metadata(&new_dir).unwrap().modified().unwrap();
        deliver(&root, "1800000002.M1P4.mda", "Subject: same tick\n\nhi\n");
        fs::File::open(&new_dir)
            .unwrap()
            .set_modified(before)
            .unwrap();
        mb.refresh().await.unwrap();
        assert_eq!(mb.uids(), vec![1], "found while the times are unsettled");
    });
    let _ = fs::remove_dir_all(&home);
}
