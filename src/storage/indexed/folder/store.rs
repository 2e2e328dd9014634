//! A user's Maildir or mbox store: the tree operations come from the
//! format's [`FolderLayout`]; subscriptions, special-use and the shared
//! per-shard views are the same for both.

use super::FolderLayout;
use super::mailbox::{FolderMailbox, FolderShared};
use crate::storage::blocking::{self, detached};
use crate::storage::cache::{Cached, MailboxRegistry};
use crate::storage::error::{Result, StorageError};
use crate::storage::guid::Guid;
use crate::storage::indexed::Backend;
use crate::storage::indexed::attributes;
use crate::storage::indexed::control::{
    self, SPECIAL_USE_FILE, read_special_use, read_subscriptions, write_special_use,
};
use crate::storage::name::MailboxName;
use crate::storage::notify::StoreNotices;
use crate::storage::traits::MailStore;
use crate::storage::types::{MailboxInfo, SpecialUse};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// The shard's cache of open Maildir/mbox mailboxes.
pub type FolderRegistry = MailboxRegistry<FolderShared>;

#[derive(Clone)]
pub struct FolderStore {
    layout: Arc<dyn FolderLayout>,
    registry: Rc<FolderRegistry>,
    /// Prefix of registry keys: `<control>/.tern-views/<name components>`,
    /// so a mailbox's children sit below it whatever the on-disk layout.
    key_root: PathBuf,
    /// What happens to this store's mailboxes (shared per shard by root).
    notices: Rc<StoreNotices>,
}

fn renamed(n: &MailboxName, from: &MailboxName, to: &MailboxName) -> Option<MailboxName> {
    if !n.is_within(from) {
        return None;
    }
    MailboxName::new(&format!("{}{}", to, &n.as_str()[from.as_str().len()..])).ok()
}

impl FolderStore {
    /// Open a user's store, creating the root and INBOX when missing.
    pub async fn open(layout: Arc<dyn FolderLayout>, registry: Rc<FolderRegistry>) -> Result<Self> {
        let l = layout.clone();
        blocking::run(move || l.init()).await?;
        let key_root = layout.control_dir().join(".tern-views");
        Ok(FolderStore {
            layout,
            registry,
            key_root,
            notices: Rc::default(),
        })
    }

    /// Share `notices` (the shard's for this store's root).
    pub fn with_notices(mut self, notices: Rc<StoreNotices>) -> Self {
        self.notices = notices;
        self
    }

    pub fn notices(&self) -> &Rc<StoreNotices> {
        &self.notices
    }

    fn key(&self, name: &MailboxName) -> PathBuf {
        let mut k = self.key_root.clone();
        for c in name.components() {
            k.push(c);
        }
        k
    }

    /// The cached view of `key`, unless it was deleted meanwhile.
    fn live(&self, key: &Path) -> Option<Rc<FolderShared>> {
        self.registry.get(key).filter(|s| !s.core().gone.get())
    }

    /// Serialise read-modify-write jobs on one control file on this shard.
    async fn with_control_file<F>(&self, file: &str, job: F) -> Result<()>
    where
        F: FnOnce() -> Result<()> + Send + 'static,
    {
        control::with_control_file(&self.registry, &self.layout.control_dir(), file, job).await
    }

    async fn delete_now(&self, name: &MailboxName) -> Result<()> {
        if name.is_inbox() {
            return Err(StorageError::NotAllowed(name.to_string()));
        }
        self.layout.check_name(name)?;
        let key = self.key(name);
        let open = self.registry.get(&key);
        let _permit = match &open {
            Some(mb) => Some(mb.quiesce().await?),
            None => None,
        };
        let (l, n) = (self.layout.clone(), name.clone());
        blocking::run(move || {
            l.delete(&n)?;
            let control = l.control_dir();
            let uses = read_special_use(&control)?;
            if uses.iter().any(|(_, x)| *x == n) {
                let kept: Vec<_> = uses.into_iter().filter(|(_, x)| *x != n).collect();
                write_special_use(&control, &kept)?;
            }
            Ok(())
        })
        .await?;
        // Holders of the deleted view learn it is gone. Only this view:
        // the children stay on disk and their sessions go on. The stale
        // entry is replaced at the next open (see `live`).
        if let Some(mb) = &open {
            mb.mark_gone();
        }
        drop(_permit);
        Ok(())
    }

    async fn rename_now(&self, from: &MailboxName, to: &MailboxName) -> Result<()> {
        self.layout.check_name(from)?;
        self.layout.check_name(to)?;
        if to.is_within(from) || to.is_inbox() {
            return Err(StorageError::NotAllowed(to.to_string()));
        }
        let key = self.key(from);
        let open = self.registry.cached_under(&key);
        let mut permits = Vec::with_capacity(open.len());
        for mb in &open {
            permits.push(mb.quiesce().await?);
        }
        let (l, f, t) = (self.layout.clone(), from.clone(), to.clone());
        let result = blocking::run(move || {
            l.rename(&f, &t)?;
            let control = l.control_dir();
            let uses = read_special_use(&control)?;
            let moved: Vec<(SpecialUse, MailboxName)> = uses
                .iter()
                .map(|(u, n)| {
                    let follows = if f.is_inbox() {
                        n == &f
                    } else {
                        n.is_within(&f)
                    };
                    let new = follows.then(|| renamed(n, &f, &t)).flatten();
                    (*u, new.unwrap_or_else(|| n.clone()))
                })
                .collect();
            if moved != uses {
                write_special_use(&control, &moved)?;
            }
            Ok(())
        })
        .await;
        drop(permits);
        if result.is_ok() {
            self.registry.evict_under(&key);
        }
        result
    }

    async fn open_gated(&self, name: &MailboxName, key: &Path) -> Result<Rc<FolderShared>> {
        let gate = self.registry.gate(key);
        let result = async {
            let _permit = gate
                .acquire_permit(1)
                .await
                .map_err(|_| StorageError::Internal("open gate closed".into()))?;
            if let Some(shared) = self.live(key) {
                return Ok(shared);
            }
            let (l, n) = (self.layout.clone(), name.clone());
            let folder = blocking::run(move || {
                if !l.exists(&n) {
                    return Err(StorageError::NoSuchMailbox(n.to_string()));
                }
                l.folder(&n)
            })
            .await?;
            let shared = FolderShared::open(folder, name.clone()).await?;
            self.registry.insert(key.to_path_buf(), shared.clone());
            Ok(shared)
        }
        .await;
        self.registry.release_gate(key, gate);
        result
    }
}

impl MailStore for FolderStore {
    type Mailbox = FolderMailbox;

    async fn list(&self) -> Result<Vec<MailboxInfo>> {
        let l = self.layout.clone();
        blocking::run(move || {
            let control = l.control_dir();
            let subs = read_subscriptions(&control, l.subscriptions_file())?;
            let uses = read_special_use(&control)?;
            let mut all: BTreeMap<MailboxName, bool> = BTreeMap::new();
            for f in l.list()? {
                let mut p = f.name.parent();
                while let Some(parent) = p {
                    p = parent.parent();
                    all.entry(parent).or_insert(false);
                }
                all.insert(f.name, f.selectable);
            }
            all.entry(MailboxName::inbox()).or_insert(true);
            let names: Vec<MailboxName> = all.keys().cloned().collect();
            Ok(all
                .into_iter()
                .map(|(name, selectable)| MailboxInfo {
                    has_children: names.iter().any(|n| n != &name && n.is_within(&name)),
                    subscribed: subs.contains(&name),
                    special_use: uses.iter().find(|(_, n)| *n == name).map(|(u, _)| *u),
                    name,
                    selectable,
                })
                .collect())
        })
        .await
    }

    async fn create(&self, name: &MailboxName) -> Result<()> {
        self.layout.check_name(name)?;
        let (l, n) = (self.layout.clone(), name.clone());
        blocking::run(move || {
            if l.exists(&n) {
                return Err(StorageError::AlreadyExists(n.to_string()));
            }
            l.create(&n)
        })
        .await
    }

    async fn delete(&self, name: &MailboxName) -> Result<()> {
        let (this, name) = (self.clone(), name.clone());
        detached(async move { this.delete_now(&name).await }).await
    }

    async fn rename(&self, from: &MailboxName, to: &MailboxName) -> Result<()> {
        let (this, from, to) = (self.clone(), from.clone(), to.clone());
        detached(async move { this.rename_now(&from, &to).await }).await
    }

    async fn subscriptions(&self) -> Result<Vec<MailboxName>> {
        let l = self.layout.clone();
        blocking::run(move || read_subscriptions(&l.control_dir(), l.subscriptions_file())).await
    }

    async fn set_subscribed(&self, name: &MailboxName, subscribed: bool) -> Result<()> {
        let (control, name) = (self.layout.control_dir(), name.clone());
        let file = self.layout.subscriptions_file();
        self.with_control_file(file, move || {
            control::set_subscribed(&control, file, name, subscribed)
        })
        .await
    }

    async fn set_special_use(&self, name: &MailboxName, usage: Option<SpecialUse>) -> Result<()> {
        let (control, name) = (self.layout.control_dir(), name.clone());
        self.with_control_file(SPECIAL_USE_FILE, move || {
            control::set_special_use(&control, name, usage)
        })
        .await
    }

    async fn private_attribute(&self, mailbox: &Guid, key: &str) -> Result<Option<Vec<u8>>> {
        let (control, mailbox, key) = (self.layout.control_dir(), *mailbox, key.to_string());
        blocking::run(move || attributes::get(&control, &mailbox, &key)).await
    }

    async fn set_private_attribute(
        &self,
        mailbox: Option<&Guid>,
        key: &str,
        value: Option<Vec<u8>>,
    ) -> Result<()> {
        let (control, mailbox, key) =
            (self.layout.control_dir(), mailbox.copied(), key.to_string());
        self.with_control_file(attributes::ATTRIBUTES_FILE, move || {
            attributes::set(&control, mailbox.as_ref(), &key, value)
        })
        .await
    }

    async fn open(&self, name: &MailboxName) -> Result<FolderMailbox> {
        self.layout.check_name(name)?;
        let key = self.key(name);
        if let Some(shared) = self.live(&key) {
            let mb = FolderMailbox::new(shared);
            // Other programs (an MDA, Dovecot) may have changed the folder.
            match mb.refresh().await {
                Ok(()) => return Ok(mb),
                // Removed behind our back: forget the view, open afresh.
                Err(StorageError::MailboxGone) => mb.mark_gone(),
                Err(e) => return Err(e),
            }
        }
        self.open_gated(name, &key).await.map(FolderMailbox::new)
    }
}
