//! Fixtures shared by the storage tests of every backend.

use crate::storage::{AnyStore, ShardStorage, UserContext};
use std::path::Path;

/// Runs `f` on a fresh glommio executor.
pub fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    glommio::LocalExecutorBuilder::default()
        .make()
        .unwrap()
        .run(f)
}

/// The store `location` names for a user whose home is `home`, opened as
/// the server opens it after login.
pub async fn store_at(location: &str, home: &Path) -> AnyStore {
    let ctx = UserContext {
        user: "testuser".into(),
        home: home.display().to_string(),
        mail_location: location.into(),
        mail_attachment_dir: String::new(),
    };
    ShardStorage::new(8 << 20).open_user(&ctx).await.unwrap()
}
