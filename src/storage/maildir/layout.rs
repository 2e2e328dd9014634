//! The Maildir mailbox tree: Maildir++ (`<root>/.Sub.Child/`, the default)
//! or `LAYOUT=fs` (`<root>/Sub/Child/`). INBOX is the root itself (or
//! `INBOX=` when given). Names on disk are modified UTF-7 unless `UTF-8`.

use super::folder::MaildirFolder;
use super::{keywords, uidlist};
use crate::storage::error::{Result, StorageError};
use crate::storage::index::files::{INDEX_FILE, LOG_FILE, STATE_FILE};
use crate::storage::indexed::create_dir_0700;
use crate::storage::indexed::folder::{FolderFormat, FolderLayout, ListedFolder, sync_dir};
use crate::storage::location::{Layout, MailLocation};
use crate::storage::name::MailboxName;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Maildir++ marks subfolders with this empty file.
pub const MAILDIRFOLDER: &str = "maildirfolder";
/// Files that belong to a folder's mail (moved along when INBOX is renamed).
const FOLDER_FILES: [&str; 5] = [
    uidlist::FILE_NAME,
    keywords::FILE_NAME,
    INDEX_FILE,
    LOG_FILE,
    STATE_FILE,
];

#[derive(Debug, Clone)]
pub struct MaildirLayout {
    root: PathBuf,
    inbox: PathBuf,
    control: PathBuf,
    fs_layout: bool,
    utf8_names: bool,
}

fn create_maildir(dir: &Path) -> Result<()> {
    for sub in ["cur", "new", "tmp"] {
        create_dir_0700(&dir.join(sub))?;
    }
    sync_dir(dir)
}

impl MaildirLayout {
    pub fn new(loc: &MailLocation) -> Result<Self> {
        let fs_layout = match loc.effective_layout() {
            Layout::Fs => true,
            Layout::MaildirPlusPlus => false,
            other => {
                return Err(StorageError::Internal(format!(
                    "maildir: LAYOUT {other:?} is not supported"
                )));
            }
        };
        Ok(MaildirLayout {
            root: loc.root.clone(),
            inbox: loc.inbox.clone().unwrap_or_else(|| loc.root.clone()),
            control: loc.control_dir().to_path_buf(),
            fs_layout,
            utf8_names: loc.utf8_names,
        })
    }

    pub fn folder_dir(&self, name: &MailboxName) -> PathBuf {
        if name.is_inbox() {
            return self.inbox.clone();
        }
        let parts = name.disk_components(self.utf8_names);
        if self.fs_layout {
            let mut p = self.root.clone();
            p.extend(parts);
            p
        } else {
            self.root.join(format!(".{}", parts.join(".")))
        }
    }

    fn list_fs(
        &self,
        dir: &Path,
        prefix: &mut Vec<String>,
        out: &mut Vec<ListedFolder>,
    ) -> Result<()> {
        let Ok(rd) = fs::read_dir(dir) else {
            return Ok(());
        };
        for e in rd.flatten() {
            let Some(n) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if n.starts_with('.') || ["cur", "new", "tmp"].contains(&n.as_str()) {
                continue;
            }
            if !e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            prefix.push(n);
            if let Ok(name) = MailboxName::from_disk_components(prefix, self.utf8_names)
                && !(prefix.len() == 1 && name.is_inbox())
            {
                out.push(ListedFolder {
                    selectable: e.path().join("cur").is_dir(),
                    name,
                });
            }
            if prefix.len() < 64 {
                self.list_fs(&e.path(), prefix, out)?;
            }
            prefix.pop();
        }
        Ok(())
    }

    /// Maildir++ directories of `name` and all its children: (name, dir).
    fn plusplus_subtree(&self, name: &MailboxName) -> Result<Vec<(MailboxName, PathBuf)>> {
        let mut out = Vec::new();
        for f in self.list()? {
            if f.name.is_within(name) && f.selectable {
                out.push((f.name.clone(), self.folder_dir(&f.name)));
            }
        }
        Ok(out)
    }
}

impl FolderLayout for MaildirLayout {
    fn control_dir(&self) -> PathBuf {
        self.control.clone()
    }

    fn subscriptions_file(&self) -> &'static str {
        "subscriptions"
    }

    fn init(&self) -> Result<()> {
        create_dir_0700(&self.root)?;
        create_dir_0700(&self.control)?;
        if !self.inbox.join("cur").is_dir() {
            create_maildir(&self.inbox)?;
        }
        Ok(())
    }

    fn check_name(&self, name: &MailboxName) -> Result<()> {
        for c in name.disk_components(self.utf8_names) {
            let bad = if self.fs_layout {
                c.starts_with('.') || ["cur", "new", "tmp"].contains(&c.as_str())
            } else {
                // Maildir++ joins levels with '.', so a level cannot hold one.
                c.contains('.')
            };
            if bad {
                return Err(StorageError::NotAllowed(name.to_string()));
            }
        }
        Ok(())
    }

    fn list(&self) -> Result<Vec<ListedFolder>> {
        let mut out = Vec::new();
        if self.fs_layout {
            self.list_fs(&self.root, &mut Vec::new(), &mut out)?;
            return Ok(out);
        }
        let rd = fs::read_dir(&self.root).map_err(|e| StorageError::io(&self.root, e))?;
        for e in rd.flatten() {
            let Some(n) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let Some(rest) = n.strip_prefix('.') else {
                continue;
            };
            if rest.is_empty() || rest.starts_with('.') || !e.path().is_dir() {
                continue;
            }
            let parts: Vec<String> = rest.split('.').map(str::to_string).collect();
            if let Ok(name) = MailboxName::from_disk_components(&parts, self.utf8_names) {
                out.push(ListedFolder {
                    selectable: e.path().join("cur").is_dir(),
                    name,
                });
            }
        }
        Ok(out)
    }

    fn create(&self, name: &MailboxName) -> Result<()> {
        let dir = self.folder_dir(name);
        create_maildir(&dir)?;
        if !self.fs_layout {
            fs::write(dir.join(MAILDIRFOLDER), b"").map_err(|e| StorageError::io(&dir, e))?;
        }
        if let Some(p) = dir.parent() {
            sync_dir(p)?;
        }
        Ok(())
    }

    fn delete(&self, name: &MailboxName) -> Result<()> {
        let dir = self.folder_dir(name);
        if !dir.join("cur").is_dir() {
            if dir.is_dir() {
                return Err(StorageError::NotAllowed(name.to_string()));
            }
            return Err(StorageError::NoSuchMailbox(name.to_string()));
        }
        let has_children = self.fs_layout
            && fs::read_dir(&dir)
                .map(|rd| {
                    rd.flatten().any(|e| {
                        let n = e.file_name();
                        let n = n.to_string_lossy();
                        e.path().is_dir()
                            && !n.starts_with('.')
                            && !["cur", "new", "tmp"].contains(&n.as_ref())
                    })
                })
                .unwrap_or(false);
        if has_children {
            // Keep the directory as a \NoSelect parent.
            for sub in ["cur", "new", "tmp"] {
                let p = dir.join(sub);
                fs::remove_dir_all(&p).map_err(|e| StorageError::io(&p, e))?;
            }
            for f in FOLDER_FILES {
                let _ = fs::remove_file(dir.join(f));
            }
            return sync_dir(&dir);
        }
        fs::remove_dir_all(&dir).map_err(|e| StorageError::io(&dir, e))?;
        if let Some(p) = dir.parent() {
            sync_dir(p)?;
        }
        Ok(())
    }

    fn rename(&self, from: &MailboxName, to: &MailboxName) -> Result<()> {
        let found = from.is_inbox()
            || self.folder_dir(from).is_dir()
            || (!self.fs_layout && !self.plusplus_subtree(from)?.is_empty());
        if !found {
            return Err(StorageError::NoSuchMailbox(from.to_string()));
        }
        if self.exists(to) || self.folder_dir(to).exists() {
            return Err(StorageError::AlreadyExists(to.to_string()));
        }
        if from.is_inbox() {
            // RFC 9051 §6.3.6: INBOX's mail moves, INBOX stays (empty).
            let (src, dest) = (self.inbox.clone(), self.folder_dir(to));
            create_dir_0700(&dest)?;
            for sub in ["cur", "new", "tmp"] {
                fs::rename(src.join(sub), dest.join(sub))
                    .map_err(|e| StorageError::io(&dest, e))?;
            }
            for f in FOLDER_FILES {
                let _ = fs::rename(src.join(f), dest.join(f));
            }
            if !self.fs_layout {
                fs::write(dest.join(MAILDIRFOLDER), b"").map_err(|e| StorageError::io(&dest, e))?;
            }
            sync_dir(&dest)?;
            create_maildir(&src)?;
            if let Some(p) = dest.parent() {
                sync_dir(p)?;
            }
            return Ok(());
        }
        if self.fs_layout {
            let (src, dest) = (self.folder_dir(from), self.folder_dir(to));
            if let Some(p) = dest.parent() {
                create_dir_0700(p)?;
            }
            fs::rename(&src, &dest).map_err(|e| StorageError::io(&dest, e))?;
            if let Some(p) = dest.parent() {
                sync_dir(p)?;
            }
            return Ok(());
        }
        for (name, dir) in self.plusplus_subtree(from)? {
            let suffix = &name.as_str()[from.as_str().len()..];
            let new = MailboxName::new(&format!("{to}{suffix}"))?;
            self.check_name(&new)?;
            let dest = self.folder_dir(&new);
            fs::rename(&dir, &dest).map_err(|e| StorageError::io(&dest, e))?;
        }
        sync_dir(&self.root)
    }

    fn folder(&self, name: &MailboxName) -> Result<Arc<dyn FolderFormat>> {
        Ok(Arc::new(MaildirFolder::new(
            self.folder_dir(name),
            self.control.clone(),
        )))
    }

    fn exists(&self, name: &MailboxName) -> bool {
        self.folder_dir(name).join("cur").is_dir()
    }
}
