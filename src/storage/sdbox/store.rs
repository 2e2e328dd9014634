//! A user's sdbox mail store: mailbox tree operations, subscriptions,
//! special-use attributes, and opening shared mailbox views.

use super::io;
use super::layout::{self, Layout};
use super::mailbox::{self, MailboxShared, SdboxMailbox};
use crate::storage::blocking::{self, detached};
use crate::storage::cache::MailboxRegistry;
use crate::storage::error::{Result, StorageError};
use crate::storage::guid::Guid;
use crate::storage::index::{MailboxState, recover};
use crate::storage::indexed::attributes;
use crate::storage::indexed::control::{
    self, SPECIAL_USE_FILE, read_special_use, read_subscriptions, write_special_use,
};
use crate::storage::indexed::create_dir_0700;
use crate::storage::indexed::subscriptions;
use crate::storage::location::{IndexLocation, Layout as LocLayout, MailFormat, MailLocation};
use crate::storage::name::MailboxName;
use crate::storage::notify::StoreNotices;
use crate::storage::traits::MailStore;
use crate::storage::types::{MailboxInfo, SpecialUse};
use std::fs;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The shard's cache of open sdbox mailboxes.
pub type SdboxRegistry = MailboxRegistry<MailboxShared>;

#[derive(Clone)]
pub struct SdboxStore {
    layout: Layout,
    registry: Rc<SdboxRegistry>,
    attachment_dir: Option<PathBuf>,
    /// What happens to this store's mailboxes (shared per shard by root).
    notices: Rc<StoreNotices>,
}

/// Serialises creating a new store's INBOX within the process. Taken only
/// on a blocking thread: for one `stat` when INBOX exists, for its creation
/// otherwise.
static INBOX_CREATION: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn unsupported(what: &str) -> StorageError {
    StorageError::Internal(format!("sdbox: mail_location {what} is not supported yet"))
}

impl SdboxStore {
    /// Open a user's store, creating the root, `mailboxes/` and INBOX if
    /// needed (as Dovecot does at first login).
    pub async fn open(location: &MailLocation, registry: Rc<SdboxRegistry>) -> Result<Self> {
        if location.format != MailFormat::Sdbox {
            return Err(unsupported("formats other than sdbox"));
        }
        if location.alt.is_some() {
            return Err(unsupported("ALT="));
        }
        if location.index != IndexLocation::Beside || location.index_private.is_some() {
            return Err(unsupported("INDEX= / INDEXPVT="));
        }
        if !matches!(location.layout, LocLayout::Default | LocLayout::Fs) {
            return Err(unsupported("LAYOUT other than fs"));
        }
        let layout = Layout {
            root: location.root.clone(),
            control: location.control_dir().to_path_buf(),
            mailboxes_dirname: location
                .mailboxdir
                .clone()
                .unwrap_or_else(|| layout::MAILBOXES_DIR.into()),
            mails_dirname: location
                .dirname
                .clone()
                .unwrap_or_else(|| layout::MAILS_DIR.into()),
            utf8_names: location.utf8_names,
        };
        let inbox = layout.mails_dir(&MailboxName::inbox());
        let l = layout.clone();
        blocking::run(move || {
            let mk = |p: &Path| create_dir_0700(p);
            mk(&l.root)?;
            mk(&l.control)?;
            mk(&l.mailboxes_root())?;
            // Two first deliveries (or logins) of a new user race here; the
            // second must find a complete INBOX, not fail with "already
            // exists" or open one whose index is not written yet. So the
            // check, too, waits for a creation in progress.
            let _creating = INBOX_CREATION.lock().unwrap_or_else(|e| e.into_inner());
            if !inbox.exists() {
                create_mailbox_dirs(&l, &inbox)?;
            }
            Ok(())
        })
        .await?;
        Ok(SdboxStore {
            layout,
            registry,
            attachment_dir: None,
            notices: Rc::default(),
        })
    }

    /// Set `mail_attachment_dir` so messages with external attachments
    /// (Dovecot's `X` metadata) can be read. tern never externalises.
    pub fn with_attachment_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.attachment_dir = dir;
        self
    }

    /// Share `notices` (the shard's for this store's root).
    pub fn with_notices(mut self, notices: Rc<StoreNotices>) -> Self {
        self.notices = notices;
        self
    }

    pub fn notices(&self) -> &Rc<StoreNotices> {
        &self.notices
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }
}

/// mkdir `…/<name>/dbox-Mails` and write an empty index (blocking).
fn create_mailbox_dirs(layout: &Layout, mails_dir: &Path) -> Result<()> {
    create_mailbox_dirs_after(layout, mails_dir, None)
}

/// The same, for a mailbox that carries on from `prior` (see
/// [`mailbox::init_index_continuing`]).
fn create_mailbox_dirs_after(
    layout: &Layout,
    mails_dir: &Path,
    prior: Option<&MailboxState>,
) -> Result<()> {
    let Some(parent) = mails_dir.parent() else {
        return Err(StorageError::Internal(
            "mail directory without parent".into(),
        ));
    };
    create_dir_0700(parent)?;
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .mode(0o700)
            .create(mails_dir)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    StorageError::AlreadyExists(mails_dir.display().to_string())
                } else {
                    StorageError::io(mails_dir, e)
                }
            })?;
    }
    match prior {
        Some(prior) => mailbox::init_index_continuing(mails_dir, prior)?,
        None => mailbox::init_index(mails_dir, &layout.control)?,
    }
    io::sync_dir(parent)?;
    if let Some(gp) = parent.parent() {
        io::sync_dir(gp)?;
    }
    Ok(())
}

impl MailStore for SdboxStore {
    type Mailbox = SdboxMailbox;

    async fn list(&self) -> Result<Vec<MailboxInfo>> {
        let l = self.layout.clone();
        blocking::run(move || {
            let dirs = l.list()?;
            let subs = read_subscriptions(&l.control, subscriptions::FILE_NAME)?;
            let uses = read_special_use(&l.control)?;
            Ok(dirs
                .into_iter()
                .map(|d| MailboxInfo {
                    subscribed: subs.contains(&d.name),
                    special_use: uses.iter().find(|(_, n)| *n == d.name).map(|(u, _)| *u),
                    name: d.name,
                    selectable: d.selectable,
                    has_children: d.has_children,
                })
                .collect())
        })
        .await
    }

    async fn create(&self, name: &MailboxName) -> Result<()> {
        self.layout.check_name(name)?;
        let l = self.layout.clone();
        let mails = l.mails_dir(name);
        let shown = name.to_string();
        blocking::run(move || {
            create_mailbox_dirs(&l, &mails).map_err(|e| match e {
                StorageError::AlreadyExists(_) => StorageError::AlreadyExists(shown),
                other => other,
            })
        })
        .await
    }

    async fn delete(&self, name: &MailboxName) -> Result<()> {
        // Detached: eviction must follow the directory change even if the
        // caller goes away.
        let (this, name) = (self.clone(), name.clone());
        detached(async move { this.delete_now(&name).await }).await
    }

    async fn rename(&self, from: &MailboxName, to: &MailboxName) -> Result<()> {
        let (this, from, to) = (self.clone(), from.clone(), to.clone());
        detached(async move { this.rename_now(&from, &to).await }).await
    }

    async fn subscriptions(&self) -> Result<Vec<MailboxName>> {
        let control = self.layout.control.clone();
        blocking::run(move || read_subscriptions(&control, subscriptions::FILE_NAME)).await
    }

    async fn set_subscribed(&self, name: &MailboxName, subscribed: bool) -> Result<()> {
        let (control, name) = (self.layout.control.clone(), name.clone());
        self.with_control_file(subscriptions::FILE_NAME, move || {
            control::set_subscribed(&control, subscriptions::FILE_NAME, name, subscribed)
        })
        .await
    }

    async fn set_special_use(&self, name: &MailboxName, usage: Option<SpecialUse>) -> Result<()> {
        let (control, name) = (self.layout.control.clone(), name.clone());
        self.with_control_file(SPECIAL_USE_FILE, move || {
            control::set_special_use(&control, name, usage)
        })
        .await
    }

    async fn private_attribute(&self, mailbox: &Guid, key: &str) -> Result<Option<Vec<u8>>> {
        let (control, mailbox, key) = (self.layout.control.clone(), *mailbox, key.to_string());
        blocking::run(move || attributes::get(&control, &mailbox, &key)).await
    }

    async fn set_private_attribute(
        &self,
        mailbox: Option<&Guid>,
        key: &str,
        value: Option<Vec<u8>>,
    ) -> Result<()> {
        let (control, mailbox, key) = (
            self.layout.control.clone(),
            mailbox.copied(),
            key.to_string(),
        );
        self.with_control_file(attributes::ATTRIBUTES_FILE, move || {
            attributes::set(&control, mailbox.as_ref(), &key, value)
        })
        .await
    }

    async fn open(&self, name: &MailboxName) -> Result<SdboxMailbox> {
        self.layout.check_name(name)?;
        let mails = self.layout.mails_dir(name);
        if let Some(shared) = self.registry.get(&mails) {
            // A new session starts from what is on disk now, whoever wrote it.
            let mb = SdboxMailbox::new(shared.clone());
            match mb.refresh_forced().await {
                Ok(_) => return Ok(mb),
                Err(StorageError::MailboxGone) => {
                    // Deleted or replaced behind this shard's back: drop the
                    // dead view (unless a fresh one took its place) and load
                    // whatever is there now.
                    if self
                        .registry
                        .get(&mails)
                        .is_some_and(|now| Rc::ptr_eq(&now, &shared))
                    {
                        self.registry.evict_under(&mails);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        let gate = self.registry.gate(&mails);
        let result = self.open_gated(name, &mails, &gate).await;
        self.registry.release_gate(&mails, gate);
        result.map(SdboxMailbox::new)
    }
}

impl SdboxStore {
    async fn delete_now(&self, name: &MailboxName) -> Result<()> {
        if name.is_inbox() {
            return Err(StorageError::NotAllowed(name.to_string()));
        }
        let l = self.layout.clone();
        let mbox_dir = l.mailbox_dir(name);
        let mails = l.mails_dir(name);
        // Let in-flight changes finish, then make every holder stop.
        let open = self.registry.cached_under(&mails);
        let mut permits = Vec::with_capacity(open.len());
        for mb in &open {
            permits.push(mb.quiesce().await?);
        }
        self.registry.evict_under(&mails);
        let shown = name.to_string();
        let name = name.clone();
        blocking::run(move || {
            let (selectable, children) = layout::inspect(&mbox_dir, &l.mails_dirname);
            if !mbox_dir.is_dir() {
                return Err(StorageError::NoSuchMailbox(shown));
            }
            let target = if children {
                if !selectable {
                    // A \NoSelect parent with children: nothing to delete.
                    return Err(StorageError::NotAllowed(shown));
                }
                mails
            } else {
                mbox_dir.clone()
            };
            fs::remove_dir_all(&target).map_err(|e| StorageError::io(&target, e))?;
            if let Some(p) = target.parent() {
                io::sync_dir(p)?;
            }
            let uses = read_special_use(&l.control)?;
            if uses.iter().any(|(_, n)| *n == name) {
                let kept: Vec<_> = uses.into_iter().filter(|(_, n)| *n != name).collect();
                write_special_use(&l.control, &kept)?;
            }
            Ok(())
        })
        .await
    }

    async fn rename_now(&self, from: &MailboxName, to: &MailboxName) -> Result<()> {
        self.layout.check_name(to)?;
        if to.is_within(from) || to.is_inbox() {
            return Err(StorageError::NotAllowed(to.to_string()));
        }
        let l = self.layout.clone();
        let (from_dir, to_dir) = (l.mailbox_dir(from), l.mailbox_dir(to));
        let (from_mails, to_mails) = (l.mails_dir(from), l.mails_dir(to));
        let (l_to_dir, l_to_mails) = (to_dir.clone(), to_mails.clone());
        let inbox = from.is_inbox();
        let evict = if inbox {
            from_mails.clone()
        } else {
            from_dir.clone()
        };
        let (from_s, to_s) = (from.to_string(), to.to_string());
        let (from_name, to_name) = (from.clone(), to.clone());
        // No change may land half in the old and half in the new place:
        // hold off writers of every open mailbox that moves.
        let open = self.registry.cached_under(&evict);
        let mut permits = Vec::with_capacity(open.len());
        for mb in &open {
            permits.push(mb.quiesce().await?);
        }
        let result = blocking::run(move || {
            let exists = if inbox {
                from_mails.is_dir()
            } else {
                from_dir.is_dir()
            };
            if !exists {
                return Err(StorageError::NoSuchMailbox(from_s));
            }
            if to_dir.exists() && (!inbox || to_mails.exists()) {
                return Err(StorageError::AlreadyExists(to_s));
            }
            let Some(parent) = to_dir.parent() else {
                return Err(StorageError::Internal("mailbox without parent".into()));
            };
            create_dir_0700(parent)?;
            if inbox {
                // RFC 9051 §6.3.6: INBOX's messages move, INBOX stays (empty).
                create_dir_0700(&to_dir)?;
                fs::rename(&from_mails, &to_mails).map_err(|e| StorageError::io(&to_mails, e))?;
                io::sync_dir(&to_dir)?;
                // Writers are held off, so the moved files are current.
                let prior = io::load_index_files(&to_mails).ok().and_then(|f| {
                    recover(f.index.as_deref(), f.log.as_deref(), f.state.as_deref()).state
                });
                create_mailbox_dirs_after(&l, &from_mails, prior.as_ref())?;
            } else {
                fs::rename(&from_dir, &to_dir).map_err(|e| StorageError::io(&to_dir, e))?;
                io::sync_dir(parent)?;
                if let Some(p) = from_dir.parent() {
                    io::sync_dir(p)?;
                }
            }
            // Special-use is an attribute of the mailbox: it moves along.
            let uses = read_special_use(&l.control)?;
            let moved: Vec<(SpecialUse, MailboxName)> = uses
                .iter()
                .map(|(u, n)| {
                    let follows = if inbox {
                        n == &from_name
                    } else {
                        n.is_within(&from_name)
                    };
                    let renamed = follows
                        .then(|| {
                            MailboxName::new(&format!(
                                "{}{}",
                                to_name,
                                &n.as_str()[from_name.as_str().len()..]
                            ))
                            .ok()
                        })
                        .flatten();
                    (*u, renamed.unwrap_or_else(|| n.clone()))
                })
                .collect();
            if moved != uses {
                write_special_use(&l.control, &moved)?;
            }
            Ok(())
        })
        .await;
        if result.is_ok() {
            // Sessions holding the old view follow it to its new place
            // (for INBOX: its messages, which are now `to`).
            let to_key = if inbox { l_to_mails } else { l_to_dir };
            for (key, shared) in self.registry.move_under(&evict, &to_key) {
                let old = shared.current_name();
                let name = if inbox {
                    Some(to.clone())
                } else {
                    MailboxName::new(&format!("{}{}", to, &old.as_str()[from.as_str().len()..]))
                        .ok()
                };
                match name {
                    Some(name) => shared.moved(key, name),
                    None => self.registry.evict_under(&key),
                }
            }
        }
        drop(permits);
        result
    }

    /// Run a read-modify-write job on a control file, serialised with the
    /// user's other sessions on this shard (Dovecot uses a dotlock here).
    async fn with_control_file<F>(&self, file: &str, job: F) -> Result<()>
    where
        F: FnOnce() -> Result<()> + Send + 'static,
    {
        control::with_control_file(&self.registry, &self.layout.control, file, job).await
    }

    async fn open_gated(
        &self,
        name: &MailboxName,
        mails: &Path,
        gate: &glommio::sync::Semaphore,
    ) -> Result<Rc<MailboxShared>> {
        let _permit = gate
            .acquire_permit(1)
            .await
            .map_err(|_| StorageError::Internal("open gate closed".into()))?;
        if let Some(shared) = self.registry.get(mails) {
            return Ok(shared);
        }
        let probe = mails.to_path_buf();
        let exists = blocking::run(move || Ok(probe.is_dir())).await?;
        if !exists {
            return Err(StorageError::NoSuchMailbox(name.to_string()));
        }
        let shared = MailboxShared::open(
            mails.to_path_buf(),
            self.layout.control.clone(),
            self.attachment_dir.clone(),
            name.clone(),
        )
        .await?;
        self.registry.insert(mails.to_path_buf(), shared.clone());
        Ok(shared)
    }
}
