//! Noticing what other writers did to the mailbox: another shard's view of
//! it, another tern process, the admin CLI, Dovecot's `dovecot-lda` and
//! `doveadm`. Each view records a [`DiskStamp`] after its own writes;
//! `refresh` compares it with the disk and, when something else wrote,
//! reloads under the write lock: tern's index is re-read (and reconciled
//! with the mail files when they disagree), and flag changes Dovecot made
//! are applied as a tern commit with new modseqs, so CONDSTORE/QRESYNC
//! clients see them. Sessions waiting on the mailbox are woken.

use super::reload::{self, Probe, same_uids};
use super::{MailboxState, OpenReport, SdboxMailbox};
use crate::storage::blocking::{self, detached};
use crate::storage::cache::Cached;
use crate::storage::error::{Result, StorageError};
use crate::storage::index::Recovered;
use crate::storage::sdbox::disk_stamp::{self, DiskStamp, Guarded};
use crate::storage::sdbox::dovecot_delta;
use crate::storage::sdbox::dovecot_index::DovecotState;
use std::time::{Duration, Instant};

/// An unforced refresh checks the disk at most this often per mailbox.
pub const REFRESH_INTERVAL: Duration = Duration::from_millis(250);
/// Reload-and-retry rounds before a change gives up on a mailbox that
/// other writers keep changing.
pub(super) const STALE_RETRIES: usize = 4;

pub(super) fn busy() -> StorageError {
    StorageError::Internal("the mailbox keeps changing under this change; try again".into())
}

impl SdboxMailbox {
    /// Pick up what other writers changed. Cheap when nothing changed (one
    /// blocking job of three `stat`s), and rate-limited: within
    /// [`REFRESH_INTERVAL`] of the last check it returns at once. Returns
    /// whether the view changed. For the start of a command.
    pub async fn refresh(&self) -> Result<bool> {
        self.refresh_with(false).await
    }

    /// [`Self::refresh`] without the rate limit: for opening a mailbox,
    /// NOOP and IDLE polls.
    pub async fn refresh_forced(&self) -> Result<bool> {
        self.refresh_with(true).await
    }

    /// Reloads from disk so far (each found a change).
    pub fn reload_count(&self) -> u64 {
        self.inner.reloads.get()
    }

    /// Index rebuilds so far, including one made when the view was opened.
    pub fn rebuild_count(&self) -> u64 {
        self.inner.rebuilds.get()
    }

    async fn refresh_with(&self, force: bool) -> Result<bool> {
        self.check_gone()?;
        let now = Instant::now();
        let recent = self
            .inner
            .last_check
            .get()
            .is_some_and(|t| now.duration_since(t) < REFRESH_INTERVAL);
        if recent && !force {
            return Ok(false);
        }
        self.inner.last_check.set(Some(now));
        // Detached: a reload that has started must finish even if the
        // session goes away.
        let this = self.clone();
        detached(async move { this.refresh_now().await }).await
    }

    async fn refresh_now(&self) -> Result<bool> {
        let recorded = self.inner.stamp.get();
        let dir = self.inner.dir();
        match blocking::run(move || disk_stamp::read(&dir)).await {
            Ok(now) if now == recorded => return Ok(false),
            Ok(_) => {}
            Err(StorageError::MailboxGone) => return Err(self.vanished()),
            Err(e) => return Err(e),
        }
        let _permit = self.lock().await?;
        self.reload_locked().await
    }

    /// The mailbox was deleted or renamed by another writer.
    fn vanished(&self) -> StorageError {
        if !self.inner.core.gone.get() {
            tracing::info!(dir = %self.inner.dir().display(),
                "mailbox deleted or renamed by another writer");
            self.inner.mark_gone();
        }
        StorageError::MailboxGone
    }

    /// Bring the view up to date with the disk (caller holds the lock).
    /// Returns whether anything changed.
    pub(super) async fn reload_locked(&self) -> Result<bool> {
        let counter = self.inner.core.notifier.counter();
        for _ in 0..STALE_RETRIES {
            let recorded = self.inner.stamp.get();
            let dir = self.inner.dir();
            let probe = match blocking::run(move || reload::probe(&dir, &recorded)).await {
                Ok(p) => p,
                Err(StorageError::MailboxGone) => return Err(self.vanished()),
                Err(e) => return Err(e),
            };
            if probe.now == recorded || self.absorb(recorded, probe).await? {
                return Ok(self.inner.core.notifier.counter() != counter);
            }
        }
        Err(busy())
    }

    /// Take in what `probe` found. False: another tern writer committed
    /// meanwhile; probe again.
    async fn absorb(&self, recorded: DiskStamp, probe: Probe) -> Result<bool> {
        let Probe {
            now,
            tern,
            listing,
            dovecot,
        } = probe;
        self.inner.reloads.set(self.inner.reloads.get() + 1);
        if now.dir.ino != recorded.dir.ino {
            // Renames made here keep the directory; another one at this
            // path is another mailbox (deleted and created elsewhere).
            tracing::warn!(dir = %self.inner.dir().display(),
                "mailbox directory was replaced by another writer; closing this view");
            return Err(self.vanished());
        }
        let mut problems = Vec::new();
        let mut fresh: Option<MailboxState> = None;
        let mut damaged = false;
        match tern {
            None => {}
            Some(Recovered {
                state: Some(s),
                clean: true,
                ..
            }) => fresh = Some(s),
            Some(r) => {
                damaged = true;
                problems = r.problems;
                fresh = r.state;
            }
        }
        if let Some(s) = &fresh {
            self.check_same_incarnation(s)?;
        }
        let differs = listing.as_ref().is_some_and(|l| match &fresh {
            Some(s) => !same_uids(l, &s.records),
            None => !same_uids(l, &self.inner.core.state.borrow().records),
        });
        let mut changed = false;
        // The Dovecot part of the stamp moves only once its changes are in.
        let mut stamp = DiskStamp {
            dovecot_log: recorded.dovecot_log,
            ..now
        };
        if damaged || differs {
            if !damaged {
                problems.push("mail files changed outside this view".into());
            }
            tracing::warn!(dir = %self.inner.dir().display(), problems = %problems.join("; "),
                "mailbox changed on disk; resyncing the index with the mail files");
            let prior = fresh.unwrap_or_else(|| self.inner.core.state.borrow().clone());
            let hint: Option<DovecotState> = match &dovecot {
                Some(d) => d.clone(),
                None => self.inner.dovecot_seen.borrow().clone(),
            };
            let (dir, control) = (self.inner.dir(), self.inner.control_dir.clone());
            let report = OpenReport {
                problems,
                ..Default::default()
            };
            let outcome = blocking::run(move || {
                reload::rebuild_guarded(&dir, &control, prior, report, hint.as_ref(), &now)
            })
            .await?;
            match outcome {
                Guarded::Done((state, report), after) => {
                    self.install_rebuilt(state, report, after);
                    stamp = DiskStamp {
                        dovecot_log: recorded.dovecot_log,
                        ..after
                    };
                    changed = true;
                }
                Guarded::Stale => return Ok(false),
            }
        } else if let Some(s) = fresh {
            changed = self.install_reloaded(s);
        }
        self.inner.stamp.set(stamp);
        if changed {
            self.inner.core.announce();
        }
        if let Some(import) = dovecot {
            if !self.apply_dovecot(import).await? {
                return Ok(false);
            }
            let mut s = self.inner.stamp.get();
            s.dovecot_log = now.dovecot_log;
            self.inner.stamp.set(s);
        }
        Ok(true)
    }

    /// A mailbox deleted and created again under the same name is another
    /// mailbox: this view ends, a new open sees the new one.
    fn check_same_incarnation(&self, s: &MailboxState) -> Result<()> {
        let (uidvalidity, guid) = {
            let st = self.inner.core.state.borrow();
            (st.uidvalidity, st.mailbox_guid)
        };
        if s.uidvalidity == uidvalidity && s.mailbox_guid == guid {
            return Ok(());
        }
        tracing::warn!(dir = %self.inner.dir().display(), old = uidvalidity, new = s.uidvalidity,
            "mailbox was replaced by another writer (new UIDVALIDITY); closing this view");
        Err(self.vanished())
    }

    /// Another tern writer's index, read clean and matching the mail files.
    fn install_reloaded(&self, state: MailboxState) -> bool {
        if *self.inner.core.state.borrow() == state {
            return false;
        }
        let same_messages = {
            let old = &self.inner.core.state.borrow().records;
            old.len() == state.records.len()
                && old.iter().zip(&state.records).all(|(a, b)| a.uid == b.uid)
        };
        if state.generation != self.inner.core.state.borrow().generation {
            self.inner.since_compaction.set(0);
        }
        self.inner.core.replace(state);
        if !same_messages {
            self.cache_reset();
        }
        true
    }

    /// Apply what Dovecot changed since the last import. False: another
    /// tern writer committed first (nothing applied; reload and retry).
    async fn apply_dovecot(&self, import: Option<DovecotState>) -> Result<bool> {
        let Some(new) = import else {
            *self.inner.dovecot_seen.borrow_mut() = None;
            return Ok(true);
        };
        let entries = {
            let seen = self.inner.dovecot_seen.borrow();
            dovecot_delta::entries(seen.as_ref(), &new, &self.inner.core.state.borrow())
        };
        if !entries.is_empty() {
            tracing::info!(dir = %self.inner.dir().display(),
                "applying flag changes made through Dovecot");
        }
        if self.try_commit_locked(entries).await? {
            *self.inner.dovecot_seen.borrow_mut() = Some(new);
            Ok(true)
        } else {
            Ok(false)
        }
    }
}
