//! An sdbox store in a scratch directory, opened through the same entry
//! point a session uses after login, and filled through the Mailbox trait.

use super::ScratchDir;
use std::path::Path;
use tern::storage::{
    AnyStore, AppendRequest, MailStore, Mailbox, MailboxName, ShardStorage, SystemFlags,
    UserContext,
};

/// Per-shard cache budget for benchmarks: large enough that a
/// 100,000-message mailbox is never evicted behind the benchmark's back.
pub const CACHE_BUDGET: usize = 512 << 20;

pub fn user_context(root: &Path) -> UserContext {
    UserContext {
        user: "bench@example.net".into(),
        home: root.display().to_string(),
        mail_location: format!("sdbox:{}/mail", root.display()),
        mail_attachment_dir: String::new(),
    }
}

pub async fn open_store(shard: &ShardStorage, root: &Path) -> AnyStore {
    shard
        .open_user(&user_context(root))
        .await
        .unwrap_or_else(|e| panic!("cannot open the bench store: {e}"))
}

pub async fn open_inbox(store: &AnyStore) -> <AnyStore as MailStore>::Mailbox {
    store
        .open(&MailboxName::inbox())
        .await
        .unwrap_or_else(|e| panic!("cannot open INBOX: {e}"))
}

/// Appends `count` messages of about `size` bytes, `batch` per append call
/// (one durable group commit per call), all `\Seen`.
pub async fn fill<M: Mailbox>(mailbox: &M, count: usize, batch: usize, size: usize) {
    let mut done = 0;
    while done < count {
        let n = batch.min(count - done);
        let reqs = (done..done + n)
            .map(|i| AppendRequest {
                message: super::messages::small(i, size),
                flags: SystemFlags::SEEN,
                internal_date: Some(1_795_860_000 + i as i64),
                ..Default::default()
            })
            .collect();
        let uids = mailbox
            .append(reqs)
            .await
            .unwrap_or_else(|e| panic!("append failed after {done} messages: {e}"));
        assert_eq!(uids.len(), n);
        done += n;
    }
}

/// A store with one filled INBOX, built in a fresh scratch directory.
pub struct Fixture {
    pub dir: ScratchDir,
    pub shard: ShardStorage,
    pub store: AnyStore,
    pub inbox: <AnyStore as MailStore>::Mailbox,
}

pub async fn filled_inbox(base: &Path, label: &str, count: usize, size: usize) -> Fixture {
    let dir = ScratchDir::new(base, label);
    let shard = ShardStorage::new(CACHE_BUDGET);
    let store = open_store(&shard, dir.path()).await;
    let inbox = open_inbox(&store).await;
    fill(&inbox, count, 1_000, size).await;
    assert_eq!(inbox.status().messages as usize, count);
    Fixture {
        dir,
        shard,
        store,
        inbox,
    }
}
