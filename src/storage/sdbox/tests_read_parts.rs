//! Batch reads (`Mailbox::read_parts`) of sdbox: one blocking job per
//! batch, results in the order asked, and files removed behind tern's back
//! resynced like a single read does.

use super::test_dir;
use super::test_support::{inbox, run};
use crate::storage::blocking::jobs_started;
use crate::storage::{AppendRequest, Mailbox, MessagePart, StorageError};
use std::fs;
use std::path::{Path, PathBuf};

fn inbox_dir(root: &Path) -> PathBuf {
    root.join("mailboxes/INBOX/dbox-Mails")
}

fn msg(n: u32) -> AppendRequest {
    AppendRequest {
        message: format!("Subject: test {n}\r\nFrom: a@example.org\r\n\r\nBody {n}\r\n")
            .into_bytes(),
        ..Default::default()
    }
}

fn ok(r: &crate::storage::Result<Vec<u8>>) -> &[u8] {
    r.as_deref().unwrap()
}

#[test]
fn a_batch_is_one_blocking_job_in_the_order_asked() {
    let root = test_dir("parts-order");
    run(async {
        let mb = inbox(&root).await;
        let uids = mb.append((1..=20).map(msg).collect()).await.unwrap();
        let mut asked: Vec<u32> = uids.iter().rev().copied().collect();
        asked.insert(3, 77);
        let before = jobs_started();
        let headers = mb.read_parts(&asked, MessagePart::Header).await.unwrap();
        assert_eq!(jobs_started() - before, 1, "one pool trip for the batch");
        assert_eq!(headers.len(), asked.len());
        for (&uid, r) in asked.iter().zip(&headers) {
            if uid == 77 {
                assert!(matches!(r, Err(StorageError::NoSuchMessage(77))));
                continue;
            }
            let want = format!("Subject: test {uid}\r\nFrom: a@example.org\r\n\r\n");
            assert_eq!(ok(r), want.as_bytes(), "uid {uid}");
        }
        let before = jobs_started();
        let whole = mb.read_parts(&[5, 2], MessagePart::Whole).await.unwrap();
        assert_eq!(jobs_started() - before, 1);
        assert_eq!(ok(&whole[0]), &msg(5).message[..]);
        assert_eq!(ok(&whole[1]), &msg(2).message[..]);
        let range = MessagePart::Range { start: 14, len: 2 };
        let ranges = mb.read_parts(&[12, 3], range).await.unwrap();
        assert_eq!(ok(&ranges[0]), b"12");
        assert_eq!(ok(&ranges[1]), b"3\r");
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn unknown_uids_alone_make_no_blocking_job() {
    let root = test_dir("parts-unknown");
    run(async {
        let mb = inbox(&root).await;
        mb.append(vec![msg(1)]).await.unwrap();
        let before = jobs_started();
        let got = mb.read_parts(&[8, 9], MessagePart::Whole).await.unwrap();
        assert!(matches!(got[0], Err(StorageError::NoSuchMessage(8))));
        assert!(matches!(got[1], Err(StorageError::NoSuchMessage(9))));
        assert_eq!(jobs_started() - before, 0, "nothing to read, no pool trip");
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn vanished_files_in_a_batch_resync_the_mailbox_once() {
    let root = test_dir("parts-vanish");
    run(async {
        let mb = inbox(&root).await;
        let other_session = mb.clone();
        mb.append(vec![msg(1), msg(2), msg(3), msg(4)])
            .await
            .unwrap();
        let m = mb.status().highest_modseq;
        fs::remove_file(inbox_dir(&root).join("u.1")).unwrap();
        fs::remove_file(inbox_dir(&root).join("u.3")).unwrap();
        let got = mb
            .read_parts(&[1, 2, 3, 4], MessagePart::Header)
            .await
            .unwrap();
        assert!(matches!(got[0], Err(StorageError::NoSuchMessage(1))));
        assert!(ok(&got[1]).starts_with(b"Subject: test 2\r\n"));
        assert!(matches!(got[2], Err(StorageError::NoSuchMessage(3))));
        assert!(ok(&got[3]).starts_with(b"Subject: test 4\r\n"));
        // Every holder sees both expunged, by one rebuild naming both.
        assert_eq!(other_session.uids(), vec![2, 4]);
        assert_eq!(mb.changes_since(m).expunged, vec![1, 3]);
        let report = mb.open_report();
        assert!(report.rebuilt || !report.problems.is_empty(), "{report:?}");
        assert!(
            report.problems.iter().any(|p| p == "u.1 vanished")
                && report.problems.iter().any(|p| p == "u.3 vanished"),
            "{report:?}"
        );
        assert_eq!(mb.status().uidnext, 5);
    });
    let _ = fs::remove_dir_all(&root);
}
