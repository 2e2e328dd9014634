//! The memory store's mailbox tree, subscriptions and special-use
//! attributes, with sdbox's rules for CREATE, DELETE and RENAME.

use super::mailbox::{MailboxShared, MemoryMailbox, Settings};
use crate::storage::error::{Result, StorageError};
use crate::storage::guid::Guid;
use crate::storage::indexed::MAX_MESSAGE_BYTES;
use crate::storage::name::MailboxName;
use crate::storage::notify::StoreNotices;
use crate::storage::traits::MailStore;
use crate::storage::types::{MailboxInfo, SpecialUse};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

/// How a [`MemoryStore`] starts.
#[derive(Debug, Clone)]
pub struct MemoryOptions {
    /// UIDVALIDITY of INBOX; each later mailbox gets the next value (as
    /// `dovecot-uidvalidity` hands them out).
    pub first_uidvalidity: u32,
    /// A fixed "now" (UNIX seconds) for INTERNALDATE and SAVEDATE, so
    /// tests can compare whole responses; `None` reads the clock.
    pub now: Option<i64>,
    /// Largest message APPEND accepts (sdbox's limit unless a test wants
    /// to reach it without allocating half a gigabyte).
    pub max_message_bytes: usize,
}

impl Default for MemoryOptions {
    fn default() -> Self {
        let now = crate::storage::indexed::unix_now();
        MemoryOptions {
            first_uidvalidity: u32::try_from(now).unwrap_or(u32::MAX).max(1),
            now: None,
            max_message_bytes: MAX_MESSAGE_BYTES,
        }
    }
}

impl MemoryOptions {
    /// Fixed UIDVALIDITY and clock: every run gives the same bytes.
    pub fn fixed(first_uidvalidity: u32, now: i64) -> Self {
        MemoryOptions {
            first_uidvalidity: first_uidvalidity.max(1),
            now: Some(now),
            ..Self::default()
        }
    }
}

struct Tree {
    /// Every mailbox and `\NoSelect` parent (`None`), sorted by name.
    nodes: BTreeMap<MailboxName, Option<Rc<MailboxShared>>>,
    /// In the order subscribed.
    subscriptions: Vec<MailboxName>,
    special_use: Vec<(SpecialUse, MailboxName)>,
    /// Private attributes by (mailbox GUID, key).
    attributes: HashMap<(Guid, String), Vec<u8>>,
    next_uidvalidity: u32,
}

impl Tree {
    fn new_mailbox(&mut self, name: &MailboxName, settings: &Rc<Settings>) -> Rc<MailboxShared> {
        let uidvalidity = self.next_uidvalidity;
        self.next_uidvalidity = match uidvalidity.wrapping_add(1) {
            0 => 1,
            n => n,
        };
        MailboxShared::empty(name.clone(), uidvalidity, settings.clone())
    }

    /// Create missing ancestors of `name` as `\NoSelect` parents.
    fn add_parents(&mut self, name: &MailboxName) {
        let mut parent = name.parent();
        while let Some(p) = parent {
            parent = p.parent();
            self.nodes.entry(p).or_insert(None);
        }
    }

    fn has_children(&self, name: &MailboxName) -> bool {
        self.nodes.keys().any(|k| k.parent().as_ref() == Some(name))
    }
}

/// A user's mail store held in memory: the [`MailStore`] semantics of
/// sdbox without files, glommio or a blocking pool. Clones share the
/// store; dropping the last clone loses the mail.
#[derive(Clone)]
pub struct MemoryStore {
    tree: Rc<RefCell<Tree>>,
    settings: Rc<Settings>,
    notices: Rc<StoreNotices>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// A store holding an empty INBOX, UIDVALIDITY from the clock.
    pub fn new() -> Self {
        Self::with_options(MemoryOptions::default())
    }

    pub fn with_options(options: MemoryOptions) -> Self {
        let settings = Rc::new(Settings {
            now: options.now,
            max_message_bytes: options.max_message_bytes,
        });
        let mut tree = Tree {
            nodes: BTreeMap::new(),
            subscriptions: Vec::new(),
            special_use: Vec::new(),
            attributes: HashMap::new(),
            next_uidvalidity: options.first_uidvalidity.max(1),
        };
        let inbox = MailboxName::inbox();
        let shared = tree.new_mailbox(&inbox, &settings);
        tree.nodes.insert(inbox, Some(shared));
        MemoryStore {
            tree: Rc::new(RefCell::new(tree)),
            settings,
            notices: Rc::default(),
        }
    }

    /// What happens to this store's mailboxes; clones share it.
    pub fn notices(&self) -> &Rc<StoreNotices> {
        &self.notices
    }

    fn delete_now(&self, name: &MailboxName) -> Result<()> {
        if name.is_inbox() {
            return Err(StorageError::NotAllowed(name.to_string()));
        }
        let mut tree = self.tree.borrow_mut();
        let Some(node) = tree.nodes.get(name).cloned() else {
            return Err(StorageError::NoSuchMailbox(name.to_string()));
        };
        if tree.has_children(name) {
            // The children stay; the mailbox itself becomes `\NoSelect`.
            let Some(shared) = node else {
                return Err(StorageError::NotAllowed(name.to_string()));
            };
            shared.mark_gone();
            tree.nodes.insert(name.clone(), None);
        } else {
            if let Some(shared) = node {
                shared.mark_gone();
            }
            tree.nodes.remove(name);
        }
        tree.special_use.retain(|(_, n)| n != name);
        Ok(())
    }

    fn rename_now(&self, from: &MailboxName, to: &MailboxName) -> Result<()> {
        if to.is_within(from) || to.is_inbox() {
            return Err(StorageError::NotAllowed(to.to_string()));
        }
        let mut tree = self.tree.borrow_mut();
        if from.is_inbox() {
            return self.rename_inbox(&mut tree, to);
        }
        if !tree.nodes.contains_key(from) {
            return Err(StorageError::NoSuchMailbox(from.to_string()));
        }
        if tree.nodes.contains_key(to) {
            return Err(StorageError::AlreadyExists(to.to_string()));
        }
        // Every new name first, so a too-long one changes nothing.
        let moving: Vec<(MailboxName, MailboxName)> = tree
            .nodes
            .keys()
            .filter(|n| n.is_within(from))
            .map(|n| Ok((n.clone(), renamed(n, from, to)?)))
            .collect::<Result<_>>()?;
        for (old, new) in &moving {
            if let Some(node) = tree.nodes.remove(old) {
                if let Some(shared) = &node {
                    shared.moved(new.clone());
                }
                tree.nodes.insert(new.clone(), node);
            }
        }
        tree.add_parents(to);
        for (_, n) in tree.special_use.iter_mut() {
            if let Some((_, new)) = moving.iter().find(|(old, _)| old == n) {
                *n = new.clone();
            }
        }
        Ok(())
    }

    /// RFC 9051 §6.3.6: INBOX's messages move to `to` (open views follow
    /// them), and an empty INBOX carries on its UIDs. INBOX's children stay.
    fn rename_inbox(&self, tree: &mut Tree, to: &MailboxName) -> Result<()> {
        if matches!(tree.nodes.get(to), Some(Some(_))) {
            return Err(StorageError::AlreadyExists(to.to_string()));
        }
        let inbox = MailboxName::inbox();
        let Some(Some(old)) = tree.nodes.get(&inbox).cloned() else {
            return Err(StorageError::NoSuchMailbox(inbox.to_string()));
        };
        let fresh = old.continuation(inbox.clone());
        old.moved(to.clone());
        tree.nodes.insert(to.clone(), Some(old));
        tree.nodes.insert(inbox.clone(), Some(fresh));
        tree.add_parents(to);
        for (_, n) in tree.special_use.iter_mut() {
            if *n == inbox {
                *n = to.clone();
            }
        }
        Ok(())
    }
}

/// `name` (within `from`) after `from` is renamed to `to`.
fn renamed(name: &MailboxName, from: &MailboxName, to: &MailboxName) -> Result<MailboxName> {
    let rest = &name.as_str()[from.as_str().len()..];
    Ok(MailboxName::new(&format!("{to}{rest}"))?)
}

impl MailStore for MemoryStore {
    type Mailbox = MemoryMailbox;

    async fn list(&self) -> Result<Vec<MailboxInfo>> {
        let tree = self.tree.borrow();
        let parents: HashSet<MailboxName> = tree.nodes.keys().filter_map(|k| k.parent()).collect();
        Ok(tree
            .nodes
            .iter()
            .map(|(name, node)| MailboxInfo {
                name: name.clone(),
                selectable: node.is_some(),
                has_children: parents.contains(name),
                subscribed: tree.subscriptions.contains(name),
                special_use: tree
                    .special_use
                    .iter()
                    .find(|(_, n)| n == name)
                    .map(|(u, _)| *u),
            })
            .collect())
    }

    async fn create(&self, name: &MailboxName) -> Result<()> {
        let mut tree = self.tree.borrow_mut();
        if matches!(tree.nodes.get(name), Some(Some(_))) {
            return Err(StorageError::AlreadyExists(name.to_string()));
        }
        let shared = tree.new_mailbox(name, &self.settings);
        tree.nodes.insert(name.clone(), Some(shared));
        tree.add_parents(name);
        Ok(())
    }

    async fn delete(&self, name: &MailboxName) -> Result<()> {
        self.delete_now(name)
    }

    async fn rename(&self, from: &MailboxName, to: &MailboxName) -> Result<()> {
        self.rename_now(from, to)
    }

    async fn subscriptions(&self) -> Result<Vec<MailboxName>> {
        Ok(self.tree.borrow().subscriptions.clone())
    }

    async fn set_subscribed(&self, name: &MailboxName, subscribed: bool) -> Result<()> {
        let subs = &mut self.tree.borrow_mut().subscriptions;
        if subs.contains(name) != subscribed {
            if subscribed {
                subs.push(name.clone());
            } else {
                subs.retain(|n| n != name);
            }
        }
        Ok(())
    }

    async fn set_special_use(&self, name: &MailboxName, usage: Option<SpecialUse>) -> Result<()> {
        let uses = &mut self.tree.borrow_mut().special_use;
        uses.retain(|(_, n)| n != name);
        if let Some(u) = usage {
            uses.push((u, name.clone()));
        }
        Ok(())
    }

    async fn private_attribute(&self, mailbox: &Guid, key: &str) -> Result<Option<Vec<u8>>> {
        let tree = self.tree.borrow();
        Ok(tree.attributes.get(&(*mailbox, key.to_string())).cloned())
    }

    async fn set_private_attribute(
        &self,
        mailbox: Option<&Guid>,
        key: &str,
        value: Option<Vec<u8>>,
    ) -> Result<()> {
        let attributes = &mut self.tree.borrow_mut().attributes;
        match (mailbox, value) {
            (Some(m), Some(v)) => {
                attributes.insert((*m, key.to_string()), v);
            }
            (Some(m), None) => {
                attributes.remove(&(*m, key.to_string()));
            }
            (None, _) => attributes.retain(|(_, k), _| k != key),
        }
        Ok(())
    }

    async fn open(&self, name: &MailboxName) -> Result<MemoryMailbox> {
        match self.tree.borrow().nodes.get(name) {
            Some(Some(shared)) => Ok(MemoryMailbox::new(shared.clone())),
            _ => Err(StorageError::NoSuchMailbox(name.to_string())),
        }
    }
}
