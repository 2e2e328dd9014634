//! Fixtures shared by the sdbox test files.

use super::{SdboxMailbox, SdboxRegistry, SdboxStore};
use crate::storage::{AppendRequest, MailLocation, MailStore, MailboxName};
use std::path::Path;

pub use crate::storage::testing::run;

/// INBOX of the store at `root`, through a fresh registry: each call
/// behaves like a restart.
pub async fn inbox(root: &Path) -> SdboxMailbox {
    let loc = MailLocation::parse(&format!("sdbox:{}", root.display()), "").unwrap();
    let store = SdboxStore::open(&loc, SdboxRegistry::new(64 << 20))
        .await
        .unwrap();
    store.open(&MailboxName::inbox()).await.unwrap()
}

/// Message `n`: a small text/plain message with a distinct subject and body.
pub fn text_plain_msg(n: u32) -> AppendRequest {
    AppendRequest {
        message: format!(
            "Subject: test {n}\r\nFrom: a@example.org\r\nContent-Type: text/plain\r\n\r\nBody {n}\r\n"
        )
        .into_bytes(),
        ..Default::default()
    }
}
