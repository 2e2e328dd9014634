//! The entry point sessions use after login: a user's store from the
//! context the config/auth layers hand over, whatever its format.

use super::cache::MailboxRegistry;
use super::error::{Result, StorageError};
use super::guid::Guid;
use super::indexed::folder::store::FolderRegistry;
use super::indexed::folder::{FolderMailbox, FolderStore};
use super::location::{MailFormat, MailLocation};
use super::maildir::MaildirLayout;
use super::mbox::MboxLayout;
use super::memory::{MemoryMailbox, MemoryStore};
use super::name::MailboxName;
use super::notify::{NoticeRegistry, StoreEvent, StoreNotices};
use super::sdbox::mailbox::MailboxShared;
use super::sdbox::{SdboxMailbox, SdboxStore};
use super::traits::{MailStore, Mailbox};
use super::types::{
    AppendRequest, Changes, CopyResult, FlagOp, MailboxInfo, MailboxStatus, MessageInfo,
    MessagePart, SpecialUse, StoreResult, SystemFlags,
};
use crate::message::CachedStructure;
use std::rc::Rc;
use std::sync::Arc;

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
    /// Open Maildir and mbox mailboxes (keys never collide: they are paths).
    pub folders: Rc<FolderRegistry>,
    /// Each store's notices, shared by every session and delivery here.
    pub notices: NoticeRegistry,
}

impl ShardStorage {
    /// `cache_budget_bytes` is `mail_cache_max_memory` divided per shard.
    pub fn new(cache_budget_bytes: usize) -> Self {
        ShardStorage {
            sdbox: MailboxRegistry::new(cache_budget_bytes / 2),
            folders: MailboxRegistry::new(cache_budget_bytes / 2),
            notices: NoticeRegistry::default(),
        }
    }

    /// Open the user's mail store (sdbox, Maildir or mbox).
    pub async fn open_user(&self, user: &UserContext) -> Result<AnyStore> {
        let loc = MailLocation::parse(&user.mail_location, &user.home)?;
        let notices = self.notices.for_root(loc.root.clone());
        match loc.format {
            MailFormat::Sdbox => {
                let att = (!user.mail_attachment_dir.is_empty())
                    .then(|| user.mail_attachment_dir.clone().into());
                Ok(AnyStore::Sdbox(
                    SdboxStore::open(&loc, self.sdbox.clone())
                        .await?
                        .with_attachment_dir(att)
                        .with_notices(notices),
                ))
            }
            MailFormat::Maildir => {
                let layout = Arc::new(MaildirLayout::new(&loc)?);
                Ok(AnyStore::Folder(
                    FolderStore::open(layout, self.folders.clone())
                        .await?
                        .with_notices(notices),
                ))
            }
            MailFormat::Mbox => {
                let layout = Arc::new(MboxLayout::new(&loc, &user.user)?);
                Ok(AnyStore::Folder(
                    FolderStore::open(layout, self.folders.clone())
                        .await?
                        .with_notices(notices),
                ))
            }
        }
    }
}

/// A user's store in any supported format.
#[derive(Clone)]
pub enum AnyStore {
    Sdbox(SdboxStore),
    /// Maildir or mbox.
    Folder(FolderStore),
    /// Held in memory (session unit tests, benches); never from a config.
    Memory(MemoryStore),
}

impl AnyStore {
    /// What happens to this store's mailboxes, whoever changes them on
    /// this shard (IMAP NOTIFY).
    pub fn notices(&self) -> Rc<StoreNotices> {
        match self {
            AnyStore::Sdbox(s) => s.notices().clone(),
            AnyStore::Folder(s) => s.notices().clone(),
            AnyStore::Memory(s) => s.notices().clone(),
        }
    }

    /// Open `name` for a reader that must see what other writers did
    /// (SELECT, STATUS, a POP3 login). Maildir/mbox views catch up as they
    /// are opened; sdbox views are refreshed here. A failed refresh leaves
    /// the view as this shard last knew it; the failure comes beside it.
    pub async fn open_current(
        &self,
        name: &MailboxName,
    ) -> Result<(AnyMailbox, Option<StorageError>)> {
        let mbox = self.open(name).await?;
        let stale = match &mbox {
            AnyMailbox::Folder(_) | AnyMailbox::Memory(_) => None,
            AnyMailbox::Sdbox(_) => mbox.refresh().await.err(),
        };
        Ok((mbox, stale))
    }
}

/// A mailbox view in any supported format.
#[derive(Clone)]
pub enum AnyMailbox {
    Sdbox(SdboxMailbox),
    Folder(FolderMailbox),
    Memory(MemoryMailbox),
}

impl AnyMailbox {
    /// Tell `notices` of this mailbox's changes from now on.
    pub fn attach_notices(&self, notices: &Rc<StoreNotices>) {
        match self {
            AnyMailbox::Sdbox(m) => m.attach_notices(notices),
            AnyMailbox::Folder(m) => m.attach_notices(notices),
            AnyMailbox::Memory(m) => m.attach_notices(notices),
        }
    }

    /// The mailbox was deleted, or renamed by a backend whose views cannot
    /// follow a rename (Maildir, mbox): this view no longer changes.
    pub fn is_gone(&self) -> bool {
        match self {
            AnyMailbox::Sdbox(m) => m.is_gone(),
            AnyMailbox::Folder(m) => m.is_gone(),
            AnyMailbox::Memory(m) => m.is_gone(),
        }
    }

    /// Pick up changes other programs made to the mailbox (an MDA, a
    /// Dovecot still in service, another shard or tern process, the admin
    /// CLI): call at command start and on NOOP/IDLE polls. Cheap when
    /// nothing changed (a few stats). sdbox rate-limits the disk check to
    /// once per 250 ms per mailbox; see [`Self::refresh_forced`].
    pub async fn refresh(&self) -> Result<()> {
        match self {
            AnyMailbox::Sdbox(m) => sdbox_refreshed(m.refresh().await),
            AnyMailbox::Memory(_) => Ok(()),
            AnyMailbox::Folder(m) => m.refresh().await,
        }
    }

    /// [`Self::refresh`] that always looks at the disk (NOOP, IDLE polls).
    pub async fn refresh_forced(&self) -> Result<()> {
        match self {
            AnyMailbox::Sdbox(m) => sdbox_refreshed(m.refresh_forced().await),
            AnyMailbox::Memory(_) => Ok(()),
            AnyMailbox::Folder(m) => m.refresh().await,
        }
    }

    /// Whether other programs may change this mailbox's files behind this
    /// view's back, so an IDLE must poll with `refresh`. True for every
    /// format: even sdbox is written by other shards, tern processes and
    /// Dovecot's own tools. Only an in-memory mailbox has no other writer.
    pub fn changed_by_others(&self) -> bool {
        !matches!(self, AnyMailbox::Memory(_))
    }

    /// Append, keeping the LMTP envelope sender where the format has a
    /// place for it (mbox From_ lines); otherwise the same as `append`.
    pub async fn append_from(
        &self,
        requests: Vec<AppendRequest>,
        envelope_from: Option<String>,
    ) -> Result<Vec<u32>> {
        match self {
            AnyMailbox::Sdbox(m) => m.append(requests).await,
            AnyMailbox::Folder(m) => m.append_from(requests, envelope_from).await,
            AnyMailbox::Memory(m) => m.append(requests).await,
        }
    }

    /// Problems found and repaired when the view was opened or resynced.
    pub fn problems(&self) -> Vec<String> {
        match self {
            AnyMailbox::Sdbox(m) => m.open_report().problems,
            AnyMailbox::Folder(m) => m.problems(),
            AnyMailbox::Memory(_) => Vec::new(),
        }
    }

    /// Re-read the mail files and rewrite tern's index (`force-resync`);
    /// returns the problems found.
    pub async fn force_resync(&self) -> Result<Vec<String>> {
        match self {
            AnyMailbox::Sdbox(m) => m.force_resync().await.map(|r| r.problems),
            AnyMailbox::Folder(m) => m.force_resync().await,
            AnyMailbox::Memory(_) => Ok(Vec::new()),
        }
    }
}

/// A deleted or replaced sdbox mailbox is reported by `is_gone` and a
/// change notice, not as a failed refresh.
fn sdbox_refreshed(r: Result<bool>) -> Result<()> {
    match r {
        Ok(_) | Err(StorageError::MailboxGone) => Ok(()),
        Err(e) => Err(e),
    }
}

fn mixed() -> StorageError {
    StorageError::Internal("COPY/MOVE between stores of different formats".into())
}

macro_rules! each {
    ($self:expr, $m:ident => $e:expr) => {
        match $self {
            AnyStore::Sdbox($m) => $e,
            AnyStore::Folder($m) => $e,
            AnyStore::Memory($m) => $e,
        }
    };
}

macro_rules! each_mb {
    ($self:expr, $m:ident => $e:expr) => {
        match $self {
            AnyMailbox::Sdbox($m) => $e,
            AnyMailbox::Folder($m) => $e,
            AnyMailbox::Memory($m) => $e,
        }
    };
}

impl MailStore for AnyStore {
    type Mailbox = AnyMailbox;

    async fn list(&self) -> Result<Vec<MailboxInfo>> {
        each!(self, s => s.list().await)
    }
    async fn create(&self, name: &MailboxName) -> Result<()> {
        each!(self, s => s.create(name).await)?;
        self.notices().post(StoreEvent::Created(name.clone()));
        Ok(())
    }
    async fn delete(&self, name: &MailboxName) -> Result<()> {
        each!(self, s => s.delete(name).await)?;
        self.notices().post(StoreEvent::Deleted(name.clone()));
        Ok(())
    }
    async fn rename(&self, from: &MailboxName, to: &MailboxName) -> Result<()> {
        each!(self, s => s.rename(from, to).await)?;
        self.notices().post(StoreEvent::Renamed {
            from: from.clone(),
            to: to.clone(),
        });
        Ok(())
    }
    async fn subscriptions(&self) -> Result<Vec<MailboxName>> {
        each!(self, s => s.subscriptions().await)
    }
    async fn set_subscribed(&self, name: &MailboxName, subscribed: bool) -> Result<()> {
        each!(self, s => s.set_subscribed(name, subscribed).await)?;
        self.notices().post(if subscribed {
            StoreEvent::Subscribed(name.clone())
        } else {
            StoreEvent::Unsubscribed(name.clone())
        });
        Ok(())
    }
    async fn set_special_use(&self, name: &MailboxName, usage: Option<SpecialUse>) -> Result<()> {
        each!(self, s => s.set_special_use(name, usage).await)
    }
    async fn private_attribute(&self, mailbox: &Guid, key: &str) -> Result<Option<Vec<u8>>> {
        each!(self, s => s.private_attribute(mailbox, key).await)
    }
    async fn set_private_attribute(
        &self,
        mailbox: Option<&Guid>,
        key: &str,
        value: Option<Vec<u8>>,
    ) -> Result<()> {
        each!(self, s => s.set_private_attribute(mailbox, key, value).await)
    }
    async fn open(&self, name: &MailboxName) -> Result<AnyMailbox> {
        let mbox = match self {
            AnyStore::Sdbox(s) => s.open(name).await.map(AnyMailbox::Sdbox),
            AnyStore::Folder(s) => s.open(name).await.map(AnyMailbox::Folder),
            AnyStore::Memory(s) => s.open(name).await.map(AnyMailbox::Memory),
        }?;
        mbox.attach_notices(&self.notices());
        Ok(mbox)
    }
}

impl Mailbox for AnyMailbox {
    fn name(&self) -> MailboxName {
        each_mb!(self, m => m.name())
    }
    fn guid(&self) -> Guid {
        each_mb!(self, m => m.guid())
    }
    fn status(&self) -> MailboxStatus {
        each_mb!(self, m => m.status())
    }
    fn uids(&self) -> Vec<u32> {
        each_mb!(self, m => m.uids())
    }
    fn uid_at(&self, seq: u32) -> Option<u32> {
        each_mb!(self, m => m.uid_at(seq))
    }
    fn seq_of(&self, uid: u32) -> Option<u32> {
        each_mb!(self, m => m.seq_of(uid))
    }
    fn message(&self, uid: u32) -> Option<MessageInfo> {
        each_mb!(self, m => m.message(uid))
    }
    fn messages_by_uid(&self, uids: &[u32]) -> Vec<MessageInfo> {
        each_mb!(self, m => m.messages_by_uid(uids))
    }
    fn messages(&self) -> Vec<MessageInfo> {
        each_mb!(self, m => m.messages())
    }
    fn keywords(&self) -> Vec<String> {
        each_mb!(self, m => m.keywords())
    }
    fn keyword_count(&self) -> usize {
        each_mb!(self, m => m.keyword_count())
    }
    fn change_counter(&self) -> u64 {
        each_mb!(self, m => m.change_counter())
    }
    async fn wait_for_change(&self, seen: u64) -> u64 {
        each_mb!(self, m => m.wait_for_change(seen).await)
    }
    fn changes_since(&self, modseq: u64) -> Changes {
        each_mb!(self, m => m.changes_since(modseq))
    }
    async fn append(&self, requests: Vec<AppendRequest>) -> Result<Vec<u32>> {
        each_mb!(self, m => m.append(requests).await)
    }
    async fn store(
        &self,
        uids: &[u32],
        op: FlagOp,
        flags: SystemFlags,
        keywords: &[String],
        unchanged_since: Option<u64>,
    ) -> Result<StoreResult> {
        each_mb!(self, m => m.store(uids, op, flags, keywords, unchanged_since).await)
    }
    async fn expunge(&self, uids: &[u32]) -> Result<Vec<u32>> {
        each_mb!(self, m => m.expunge(uids).await)
    }
    async fn copy_to(&self, uids: &[u32], dest: &Self) -> Result<CopyResult> {
        match (self, dest) {
            (AnyMailbox::Sdbox(a), AnyMailbox::Sdbox(b)) => a.copy_to(uids, b).await,
            (AnyMailbox::Folder(a), AnyMailbox::Folder(b)) => a.copy_to(uids, b).await,
            (AnyMailbox::Memory(a), AnyMailbox::Memory(b)) => a.copy_to(uids, b).await,
            _ => Err(mixed()),
        }
    }
    async fn move_to(&self, uids: &[u32], dest: &Self) -> Result<CopyResult> {
        match (self, dest) {
            (AnyMailbox::Sdbox(a), AnyMailbox::Sdbox(b)) => a.move_to(uids, b).await,
            (AnyMailbox::Folder(a), AnyMailbox::Folder(b)) => a.move_to(uids, b).await,
            (AnyMailbox::Memory(a), AnyMailbox::Memory(b)) => a.move_to(uids, b).await,
            _ => Err(mixed()),
        }
    }
    async fn claim_recent(&self) -> Result<Vec<u32>> {
        each_mb!(self, m => m.claim_recent().await)
    }
    async fn read_message(&self, uid: u32) -> Result<Vec<u8>> {
        each_mb!(self, m => m.read_message(uid).await)
    }
    async fn read_range(&self, uid: u32, start: u64, len: u64) -> Result<Vec<u8>> {
        each_mb!(self, m => m.read_range(uid, start, len).await)
    }
    async fn read_header(&self, uid: u32) -> Result<Vec<u8>> {
        each_mb!(self, m => m.read_header(uid).await)
    }
    async fn read_parts(&self, uids: &[u32], part: MessagePart) -> Result<Vec<Result<Vec<u8>>>> {
        each_mb!(self, m => m.read_parts(uids, part).await)
    }
    async fn cached_structure(&self, uid: u32) -> Result<Option<CachedStructure>> {
        each_mb!(self, m => m.cached_structure(uid).await)
    }
    async fn cached_structures(
        &self,
        uids: &[u32],
    ) -> Result<Vec<Result<Option<CachedStructure>>>> {
        each_mb!(self, m => m.cached_structures(uids).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sdbox::test_dir;
    use crate::storage::{MailStore, MailboxName};

    #[test]
    fn opens_every_format_from_home_relative_locations() {
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
                assert!(matches!(store, AnyStore::Sdbox(_)));
                let list = store.list().await.unwrap();
                assert_eq!(list.len(), 1);
                assert_eq!(list[0].name, MailboxName::inbox());
                assert!(home.join("mail/mailboxes/INBOX/dbox-Mails").is_dir());
                let md = UserContext {
                    mail_location: "maildir:~/Maildir".into(),
                    ..ctx.clone()
                };
                let store = shard.open_user(&md).await.unwrap();
                assert!(matches!(store, AnyStore::Folder(_)));
                assert_eq!(store.list().await.unwrap()[0].name, MailboxName::inbox());
                assert!(home.join("Maildir/cur").is_dir());
                let mb = UserContext {
                    mail_location: format!("mbox:~/mail-mbox:INBOX={}/spool/jane", home.display()),
                    ..ctx.clone()
                };
                std::fs::create_dir_all(home.join("spool")).unwrap();
                let store = shard.open_user(&mb).await.unwrap();
                assert_eq!(store.list().await.unwrap()[0].name, MailboxName::inbox());
                assert!(home.join("spool/jane").is_file());
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
