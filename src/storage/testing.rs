//! Test fixtures for storage and for the code above it (protocol
//! sessions): a runtime to drive storage jobs, a temporary directory that
//! is removed afterwards, and stores opened as the server opens them.

use super::user::{AnyStore, ShardStorage, UserContext};
use std::path::{Path, PathBuf};

/// Runs `f` on a fresh single-threaded executor (storage jobs need one).
pub fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    glommio::LocalExecutorBuilder::default()
        .make()
        .expect("a test executor")
        .run(f)
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        TempDir(super::sdbox::test_dir(tag))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The store `location` names for a user whose home is `home`, opened as
/// the server opens it after login (through a shard storage of its own).
pub async fn store_at(location: &str, home: &Path) -> AnyStore {
    let ctx = UserContext {
        user: "testuser".into(),
        home: home.display().to_string(),
        mail_location: location.into(),
        mail_attachment_dir: String::new(),
    };
    ShardStorage::new(8 << 20)
        .open_user(&ctx)
        .await
        .expect("a test store")
}

/// Opens a store of `format` (`sdbox`, `maildir`, `mbox`) under `dir`
/// through `shard` (stores opened through one `ShardStorage` share their
/// views, as two sessions of one user on one shard do).
pub async fn open_store(shard: &ShardStorage, dir: &Path, format: &str) -> AnyStore {
    let root = dir.join(format);
    let mail_location = match format {
        "mbox" => format!("mbox:{}:INBOX={}/inbox", root.display(), root.display()),
        _ => format!("{format}:{}", root.display()),
    };
    let ctx = UserContext {
        user: "test".into(),
        home: dir.display().to_string(),
        mail_location,
        mail_attachment_dir: String::new(),
    };
    shard.open_user(&ctx).await.expect("a test store")
}
