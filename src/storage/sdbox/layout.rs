//! Where an sdbox store keeps things, and walking its mailbox tree.
//! `<root>/mailboxes/<mUTF-7 path>/dbox-Mails/u.<uid>` (LAYOUT=fs).

use crate::storage::error::{Result, StorageError};
use crate::storage::name::MailboxName;
use std::fs;
use std::path::{Path, PathBuf};

pub const MAILBOXES_DIR: &str = "mailboxes";
pub const MAILS_DIR: &str = "dbox-Mails";
/// Deepest hierarchy walked by LIST; bounds work on a hostile tree.
const MAX_DEPTH: usize = 32;
/// Most mailboxes listed per user.
const MAX_MAILBOXES: usize = 100_000;

#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
    pub control: PathBuf,
    pub mailboxes_dirname: String,
    pub mails_dirname: String,
    pub utf8_names: bool,
}

/// One directory found under `mailboxes/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedDir {
    pub name: MailboxName,
    pub selectable: bool,
    pub has_children: bool,
}

impl Layout {
    pub fn mailboxes_root(&self) -> PathBuf {
        self.root.join(&self.mailboxes_dirname)
    }

    /// The directory of mailbox `name` (holds `dbox-Mails` and children).
    pub fn mailbox_dir(&self, name: &MailboxName) -> PathBuf {
        let mut p = self.mailboxes_root();
        for c in name.disk_components(self.utf8_names) {
            p.push(c);
        }
        p
    }

    /// The directory holding the mail files of `name`.
    pub fn mails_dir(&self, name: &MailboxName) -> PathBuf {
        self.mailbox_dir(name).join(&self.mails_dirname)
    }

    /// Refuse names that collide with the configured DIRNAME.
    pub fn check_name(&self, name: &MailboxName) -> Result<()> {
        if name.components().any(|c| c == self.mails_dirname) {
            return Err(StorageError::Name(
                crate::storage::name::NameError::Reserved(self.mails_dirname.clone()),
            ));
        }
        Ok(())
    }

    /// Walk the tree (blocking). Undecodable names are skipped with a warning.
    pub fn list(&self) -> Result<Vec<ListedDir>> {
        let mut out = Vec::new();
        let mut parts = Vec::new();
        self.walk(&self.mailboxes_root(), &mut parts, &mut out)?;
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn walk(&self, dir: &Path, parts: &mut Vec<String>, out: &mut Vec<ListedDir>) -> Result<()> {
        if parts.len() >= MAX_DEPTH || out.len() >= MAX_MAILBOXES {
            return Ok(());
        }
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StorageError::io(dir, e)),
        };
        for entry in entries.flatten() {
            let Ok(ft) = entry.file_type() else { continue };
            if !ft.is_dir() {
                continue;
            }
            let Some(comp) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if comp == self.mails_dirname {
                continue;
            }
            parts.push(comp);
            let path = entry.path();
            match MailboxName::from_disk_components(parts, self.utf8_names) {
                Ok(name) => {
                    let (selectable, has_children) = inspect(&path, &self.mails_dirname);
                    out.push(ListedDir {
                        name,
                        selectable,
                        has_children,
                    });
                    self.walk(&path, parts, out)?;
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "skipping mailbox directory")
                }
            }
            parts.pop();
        }
        Ok(())
    }
}

/// (has mail directory, has child mailbox directories)
pub fn inspect(mailbox_dir: &Path, mails_dirname: &str) -> (bool, bool) {
    let mut selectable = false;
    let mut children = false;
    if let Ok(entries) = fs::read_dir(mailbox_dir) {
        for e in entries.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                if e.file_name() == mails_dirname {
                    selectable = true;
                } else {
                    children = true;
                }
            }
        }
    }
    (selectable, children)
}
