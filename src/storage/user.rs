//! The entry point sessions use after login: a user's store from the
//! context the config/auth layers hand over.

use super::cache::MailboxRegistry;
use super::error::{Result, StorageError};
use super::location::{MailFormat, MailLocation};
use super::sdbox::SdboxStore;
use super::sdbox::mailbox::MailboxShared;
use std::rc::Rc;

/// What storage needs to know about a logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserContext {
    pub user: String,
    /// Home directory from the userdb; may be empty.
    pub home: String,
    /// `mail_location` with `%` variables already expanded.
    pub mail_location: String,
    /// `mail_attachment_dir`, expanded; empty when not configured.
    pub mail_attachment_dir: String,
}

/// Shard-local caches, one per shard, created at shard start.
pub struct ShardStorage {
    pub sdbox: Rc<MailboxRegistry<MailboxShared>>,
}

impl ShardStorage {
    /// `cache_budget_bytes` is `mail_cache_max_memory` divided per shard.
    pub fn new(cache_budget_bytes: usize) -> Self {
        ShardStorage {
            sdbox: MailboxRegistry::new(cache_budget_bytes),
        }
    }

    /// Open the user's mail store. Only sdbox is implemented so far.
    pub async fn open_user(&self, user: &UserContext) -> Result<SdboxStore> {
        let loc = MailLocation::parse(&user.mail_location, &user.home)?;
        match loc.format {
            MailFormat::Sdbox => {
                let att = (!user.mail_attachment_dir.is_empty())
                    .then(|| user.mail_attachment_dir.clone().into());
                Ok(SdboxStore::open(&loc, self.sdbox.clone())
                    .await?
                    .with_attachment_dir(att))
            }
            MailFormat::Maildir | MailFormat::Mbox => Err(StorageError::Internal(format!(
                "{:?} storage is not implemented yet (user {})",
                loc.format, user.user
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sdbox::test_dir;
    use crate::storage::{MailStore, MailboxName};

    #[test]
    fn opens_sdbox_from_home_relative_location() {
        let home = test_dir("user");
        let ctx = UserContext {
            user: "jane@example.org".into(),
            home: home.display().to_string(),
            mail_location: "sdbox:~/mail".into(),
            mail_attachment_dir: String::new(),
        };
        glommio::LocalExecutorBuilder::default()
            .make()
            .unwrap()
            .run(async {
                let shard = ShardStorage::new(1 << 20);
                let store = shard.open_user(&ctx).await.unwrap();
                let list = store.list().await.unwrap();
                assert_eq!(list.len(), 1);
                assert_eq!(list[0].name, MailboxName::inbox());
                assert!(home.join("mail/mailboxes/INBOX/dbox-Mails").is_dir());
                let bad = UserContext {
                    mail_location: "maildir:~/Maildir".into(),
                    ..ctx.clone()
                };
                assert!(shard.open_user(&bad).await.is_err());
                let nohome = UserContext {
                    home: String::new(),
                    ..ctx
                };
                assert!(matches!(
                    shard.open_user(&nohome).await,
                    Err(StorageError::Location(_))
                ));
            });
        let _ = std::fs::remove_dir_all(&home);
    }
}
