//! The mbox mailbox tree (`mbox:<root>[:INBOX=<path>]`): a mailbox is a
//! file, a directory is a `\NoSelect` folder; separator `/`. Index files
//! live as Dovecot keeps them, under `.imap/`: INBOX's in
//! `<root>/.imap/INBOX/`, `Sub/Child`'s in `<root>/Sub/.imap/Child/`.

use super::folder::MboxFolder;
use crate::storage::error::{Result, StorageError};
use crate::storage::indexed::create_dir_0700;
use crate::storage::indexed::folder::{FolderFormat, FolderLayout, ListedFolder, sync_dir};
use crate::storage::location::MailLocation;
use crate::storage::name::MailboxName;
use std::fs::{self, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Dovecot's index directory name inside mbox directories.
pub const INDEX_DIR: &str = ".imap";
/// Dovecot's mbox subscriptions file (in the root).
pub const SUBSCRIPTIONS_FILE: &str = ".subscriptions";

#[derive(Debug, Clone)]
pub struct MboxLayout {
    root: PathBuf,
    inbox: PathBuf,
    control: PathBuf,
    utf8_names: bool,
}

fn create_empty(p: &Path) -> Result<()> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(p)
        .map_err(|e| match e.kind() {
            ErrorKind::AlreadyExists => StorageError::AlreadyExists(p.display().to_string()),
            _ => StorageError::io(p, e),
        })?
        .sync_all()
        .map_err(|e| StorageError::io(p, e))
}

impl MboxLayout {
    /// `user` is only used for messages; `INBOX=` defaults to `<root>/inbox`.
    pub fn new(loc: &MailLocation, _user: &str) -> Result<Self> {
        Ok(MboxLayout {
            root: loc.root.clone(),
            inbox: loc.inbox.clone().unwrap_or_else(|| loc.root.join("inbox")),
            control: loc.control_dir().to_path_buf(),
            utf8_names: loc.utf8_names,
        })
    }

    pub fn mbox_path(&self, name: &MailboxName) -> PathBuf {
        if name.is_inbox() {
            return self.inbox.clone();
        }
        let mut p = self.root.clone();
        p.extend(name.disk_components(self.utf8_names));
        p
    }

    pub fn index_dir(&self, name: &MailboxName) -> PathBuf {
        if name.is_inbox() {
            return self.root.join(INDEX_DIR).join("INBOX");
        }
        let p = self.mbox_path(name);
        let leaf = p.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        p.parent().unwrap_or(&self.root).join(INDEX_DIR).join(leaf)
    }

    fn walk(&self, dir: &Path, prefix: &mut Vec<String>, out: &mut Vec<ListedFolder>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let Some(n) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if n.starts_with('.') || n.ends_with(".lock") {
                continue;
            }
            let Ok(ft) = e.file_type() else { continue };
            prefix.push(n);
            if let Ok(name) = MailboxName::from_disk_components(prefix, self.utf8_names) {
                let is_inbox_file = e.path() == self.inbox;
                if ft.is_file() && !name.is_inbox() && !is_inbox_file {
                    out.push(ListedFolder {
                        name,
                        selectable: true,
                    });
                } else if ft.is_dir() {
                    out.push(ListedFolder {
                        name,
                        selectable: false,
                    });
                    if prefix.len() < 64 {
                        self.walk(&e.path(), prefix, out);
                    }
                }
            }
            prefix.pop();
        }
    }
}

impl FolderLayout for MboxLayout {
    fn control_dir(&self) -> PathBuf {
        self.control.clone()
    }

    fn subscriptions_file(&self) -> &'static str {
        SUBSCRIPTIONS_FILE
    }

    fn init(&self) -> Result<()> {
        create_dir_0700(&self.root)?;
        create_dir_0700(&self.control)?;
        create_dir_0700(&self.root.join(INDEX_DIR))?;
        if !self.inbox.exists() {
            if let Some(p) = self.inbox.parent() {
                create_dir_0700(p)?;
            }
            match create_empty(&self.inbox) {
                Ok(()) | Err(StorageError::AlreadyExists(_)) => {}
                // A spool we may not create files in: INBOX appears with
                // the first delivery (the MDA creates it).
                Err(StorageError::Io { source, .. })
                    if source.kind() == ErrorKind::PermissionDenied =>
                {
                    tracing::info!(inbox = %self.inbox.display(), "INBOX does not exist yet");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn check_name(&self, name: &MailboxName) -> Result<()> {
        for c in name.disk_components(self.utf8_names) {
            if c.starts_with('.') || c.ends_with(".lock") {
                return Err(StorageError::NotAllowed(name.to_string()));
            }
        }
        Ok(())
    }

    fn list(&self) -> Result<Vec<ListedFolder>> {
        let mut out = Vec::new();
        self.walk(&self.root, &mut Vec::new(), &mut out);
        Ok(out)
    }

    fn create(&self, name: &MailboxName) -> Result<()> {
        let path = self.mbox_path(name);
        let mut p = name.parent();
        while let Some(parent) = p {
            if self.mbox_path(&parent).is_file() {
                // An mbox file cannot have children.
                return Err(StorageError::NotAllowed(name.to_string()));
            }
            p = parent.parent();
        }
        let Some(dir) = path.parent() else {
            return Err(StorageError::Internal("mailbox without parent".into()));
        };
        create_dir_0700(dir)?;
        create_empty(&path).map_err(|e| match e {
            StorageError::AlreadyExists(_) => StorageError::AlreadyExists(name.to_string()),
            other => other,
        })?;
        sync_dir(dir)
    }

    fn delete(&self, name: &MailboxName) -> Result<()> {
        let path = self.mbox_path(name);
        if path.is_dir() {
            // A \NoSelect directory: only when empty (children stay).
            let empty = fs::read_dir(&path)
                .map(|rd| rd.flatten().all(|e| e.file_name() == INDEX_DIR))
                .unwrap_or(false);
            if !empty {
                return Err(StorageError::NotAllowed(name.to_string()));
            }
            fs::remove_dir_all(&path).map_err(|e| StorageError::io(&path, e))?;
        } else {
            fs::remove_file(&path).map_err(|e| match e.kind() {
                ErrorKind::NotFound => StorageError::NoSuchMailbox(name.to_string()),
                _ => StorageError::io(&path, e),
            })?;
            let _ = fs::remove_dir_all(self.index_dir(name));
        }
        if let Some(p) = path.parent() {
            sync_dir(p)?;
        }
        Ok(())
    }

    fn rename(&self, from: &MailboxName, to: &MailboxName) -> Result<()> {
        let (src, dest) = (self.mbox_path(from), self.mbox_path(to));
        if !src.exists() {
            return Err(StorageError::NoSuchMailbox(from.to_string()));
        }
        if dest.exists() {
            return Err(StorageError::AlreadyExists(to.to_string()));
        }
        let Some(dest_dir) = dest.parent() else {
            return Err(StorageError::Internal("mailbox without parent".into()));
        };
        create_dir_0700(dest_dir)?;
        let (src_idx, dest_idx) = (self.index_dir(from), self.index_dir(to));
        if from.is_inbox() {
            // RFC 9051 §6.3.6: the mail moves, INBOX stays (empty). The
            // spool may be on another filesystem: copy, fsync, then empty.
            let data = fs::read(&src).map_err(|e| StorageError::io(&src, e))?;
            let name = dest
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            crate::storage::index::disk::replace_file(dest_dir, &name, &data)?;
            sync_dir(dest_dir)?;
            let f = OpenOptions::new()
                .write(true)
                .open(&src)
                .map_err(|e| StorageError::io(&src, e))?;
            f.set_len(0)
                .and_then(|_| f.sync_all())
                .map_err(|e| StorageError::io(&src, e))?;
            if let Some(p) = dest_idx.parent() {
                create_dir_0700(p)?;
            }
            let _ = fs::rename(&src_idx, &dest_idx);
            return Ok(());
        }
        fs::rename(&src, &dest).map_err(|e| StorageError::io(&dest, e))?;
        if src_idx.exists() {
            if let Some(p) = dest_idx.parent() {
                create_dir_0700(p)?;
            }
            let _ = fs::rename(&src_idx, &dest_idx);
        }
        sync_dir(dest_dir)?;
        if let Some(p) = src.parent() {
            sync_dir(p)?;
        }
        Ok(())
    }

    fn folder(&self, name: &MailboxName) -> Result<Arc<dyn FolderFormat>> {
        let folder = MboxFolder::new(
            self.mbox_path(name),
            self.index_dir(name),
            self.root.join(INDEX_DIR),
        );
        Ok(Arc::new(if name.is_inbox() {
            folder.inbox()
        } else {
            folder
        }))
    }

    fn exists(&self, name: &MailboxName) -> bool {
        name.is_inbox() || self.mbox_path(name).is_file()
    }
}
