//! A user's Maildir or mbox store: the tree operations come from the
//! format's [`FolderLayout`]; subscriptions, special-use and the shared
//! per-shard views are the same for both.

use super::mailbox::{FolderMailbox, FolderShared};
use super::{FolderLayout, sync_dir};
use crate::storage::blocking::{self, detached};
use crate::storage::cache::{Cached, MailboxRegistry};
use crate::storage::error::{Result, StorageError};
use crate::storage::indexed::Backend;
use crate::storage::name::MailboxName;
use crate::storage::sdbox::{io, subscriptions};
use crate::storage::traits::MailStore;
use crate::storage::types::{MailboxInfo, SpecialUse};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// The shard's cache of open Maildir/mbox mailboxes.
pub type FolderRegistry = MailboxRegistry<FolderShared>;

/// tern's own file for special-use attributes: `<attribute>\t<name>` lines.
pub const SPECIAL_USE_FILE: &str = "tern.special-use";

#[derive(Clone)]
pub struct FolderStore {
    layout: Arc<dyn FolderLayout>,
    registry: Rc<FolderRegistry>,
    /// Prefix of registry keys: `<control>/.tern-views/<name components>`,
    /// so a mailbox's children sit below it whatever the on-disk layout.
    key_root: PathBuf,
}

fn read_optional(p: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(p) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StorageError::io(p, e)),
    }
}

fn read_special_use(control: &Path) -> Result<Vec<(SpecialUse, MailboxName)>> {
    let Some(b) = read_optional(&control.join(SPECIAL_USE_FILE))? else {
        return Ok(Vec::new());
    };
    Ok(String::from_utf8_lossy(&b)
        .lines()
        .filter_map(|l| {
            let (a, n) = l.split_once('\t')?;
            Some((SpecialUse::parse(a)?, MailboxName::new(n).ok()?))
        })
        .collect())
}

fn write_special_use(control: &Path, entries: &[(SpecialUse, MailboxName)]) -> Result<()> {
    let mut text = String::new();
    for (u, n) in entries {
        text.push_str(&format!("{}\t{}\n", u.as_str(), n));
    }
    io::replace_file(control, SPECIAL_USE_FILE, text.as_bytes())?;
    sync_dir(control)
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
        })
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
        let key = self.layout.control_dir().join(file);
        let gate = self.registry.gate(&key);
        let result = match gate.acquire_permit(1).await {
            Ok(_permit) => blocking::run(job).await,
            Err(_) => Err(StorageError::Internal("control file gate closed".into())),
        };
        self.registry.release_gate(&key, gate);
        result
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
            let subs = read_optional(&control.join(l.subscriptions_file()))?
                .map(|b| subscriptions::parse(&b))
                .unwrap_or_default();
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
        blocking::run(move || {
            Ok(
                read_optional(&l.control_dir().join(l.subscriptions_file()))?
                    .map(|b| subscriptions::parse(&b))
                    .unwrap_or_default(),
            )
        })
        .await
    }

    async fn set_subscribed(&self, name: &MailboxName, subscribed: bool) -> Result<()> {
        let l = self.layout.clone();
        let name = name.clone();
        let file = self.layout.subscriptions_file();
        self.with_control_file(file, move || {
            let control = l.control_dir();
            let mut subs = read_optional(&control.join(file))?
                .map(|b| subscriptions::parse(&b))
                .unwrap_or_default();
            if subs.contains(&name) == subscribed {
                return Ok(());
            }
            if subscribed {
                subs.push(name);
            } else {
                subs.retain(|n| *n != name);
            }
            io::replace_file(&control, file, &subscriptions::format(&subs))?;
            sync_dir(&control)
        })
        .await
    }

    async fn set_special_use(&self, name: &MailboxName, usage: Option<SpecialUse>) -> Result<()> {
        let l = self.layout.clone();
        let name = name.clone();
        self.with_control_file(SPECIAL_USE_FILE, move || {
            let control = l.control_dir();
            let mut uses = read_special_use(&control)?;
            uses.retain(|(_, n)| *n != name);
            if let Some(u) = usage {
                uses.push((u, name));
            }
            write_special_use(&control, &uses)
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
