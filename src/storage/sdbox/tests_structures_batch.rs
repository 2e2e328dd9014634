//! Batch structure lookups (`Mailbox::cached_structures`) of sdbox: hits
//! from memory, all the misses of a batch parsed in one blocking job and
//! kept in `tern.cache`, results in the order asked, and vanished files
//! resynced like a single lookup does.

use super::SdboxMailbox;
use super::test_dir;
use super::test_support::text_plain_msg as msg;
use super::test_support::{inbox, run};
use crate::message::{CachedStructure, ParsedMessage};
use crate::storage::blocking::jobs_started;
use crate::storage::index::cache_file::CACHE_FILE;
use crate::storage::{Mailbox, Result, StorageError};
use std::fs;
use std::path::{Path, PathBuf};

fn mails(root: &Path) -> PathBuf {
    root.join("mailboxes/INBOX/dbox-Mails")
}

async fn expected(mb: &SdboxMailbox, uid: u32) -> CachedStructure {
    let wire = mb.read_message(uid).await.unwrap();
    ParsedMessage::parse(&wire).cached_structure()
}

fn subject(r: &Result<Option<CachedStructure>>) -> Vec<u8> {
    let s = r.as_ref().unwrap().as_ref().unwrap();
    s.envelope.subject.clone().unwrap_or_default()
}

#[test]
fn a_batch_of_misses_is_one_blocking_job_and_hits_are_none() {
    let root = test_dir("structs-batch");
    let asked: Vec<u32> = (1..=20).rev().collect();
    run(async {
        let mb = inbox(&root).await;
        mb.append((1..=21).map(msg).collect()).await.unwrap();
        // Loads tern.cache (its own job) and caches message 21.
        mb.cached_structure(21).await.unwrap().unwrap();
        let before = jobs_started();
        let got = mb.cached_structures(&asked).await.unwrap();
        assert_eq!(jobs_started() - before, 1, "20 misses, one pool trip");
        assert_eq!(got.len(), asked.len());
        for (&uid, r) in asked.iter().zip(&got) {
            assert_eq!(subject(r), format!("test {uid}").as_bytes(), "uid {uid}");
            assert_eq!(
                r.as_ref().unwrap().as_ref(),
                Some(&expected(&mb, uid).await)
            );
        }
        let before = jobs_started();
        let again = mb.cached_structures(&asked).await.unwrap();
        assert_eq!(jobs_started() - before, 0, "all hits, no pool trip");
        for (a, b) in got.iter().zip(&again) {
            assert_eq!(a.as_ref().unwrap(), b.as_ref().unwrap());
        }
        // Unknown UIDs keep their place and cost nothing.
        let before = jobs_started();
        let mixed = mb.cached_structures(&[77, 3, 78]).await.unwrap();
        assert_eq!(jobs_started() - before, 0);
        assert!(matches!(mixed[0], Err(StorageError::NoSuchMessage(77))));
        assert_eq!(subject(&mixed[1]), b"test 3");
        assert!(matches!(mixed[2], Err(StorageError::NoSuchMessage(78))));
    });
    // After a restart the batch is served from the file: one job (the load).
    run(async {
        let mb = inbox(&root).await;
        let file = fs::read(mails(&root).join(CACHE_FILE)).unwrap();
        let before = jobs_started();
        let got = mb.cached_structures(&asked).await.unwrap();
        assert_eq!(jobs_started() - before, 1, "only the load of tern.cache");
        for (&uid, r) in asked.iter().zip(&got) {
            assert_eq!(subject(r), format!("test {uid}").as_bytes(), "uid {uid}");
        }
        assert_eq!(fs::read(mails(&root).join(CACHE_FILE)).unwrap(), file);
    });
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn vanished_files_in_a_structure_batch_resync_the_mailbox_once() {
    let root = test_dir("structs-vanish");
    run(async {
        let mb = inbox(&root).await;
        let other_session = mb.clone();
        mb.append((1..=4).map(msg).collect()).await.unwrap();
        let m = mb.status().highest_modseq;
        fs::remove_file(mails(&root).join("u.1")).unwrap();
        fs::remove_file(mails(&root).join("u.3")).unwrap();
        let got = mb.cached_structures(&[1, 2, 3, 4]).await.unwrap();
        assert!(matches!(got[0], Err(StorageError::NoSuchMessage(1))));
        assert_eq!(subject(&got[1]), b"test 2");
        assert!(matches!(got[2], Err(StorageError::NoSuchMessage(3))));
        assert_eq!(subject(&got[3]), b"test 4");
        assert_eq!(other_session.uids(), vec![2, 4]);
        assert_eq!(mb.changes_since(m).expunged, vec![1, 3]);
        // The survivors are still cached after the resync's cache reset.
        let again = mb.cached_structures(&[2, 4]).await.unwrap();
        assert_eq!(subject(&again[0]), b"test 2");
        assert_eq!(subject(&again[1]), b"test 4");
    });
    let _ = fs::remove_dir_all(&root);
}
