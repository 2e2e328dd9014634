//! The POP3 maildrop on the user's owner shard: open INBOX, take the
//! snapshot (size + UIDL per message), the per-shard session lock, and the
//! UPDATE state's expunge and `\Seen` marking.
//!
//! The lock is a shard-local set keyed by the store (not the login name,
//! which differs between `u` and `u@domain`): a store has exactly one
//! owner shard and every POP3 session on it runs there after the handoff,
//! so no cross-thread lock is needed.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashSet};
use std::rc::Rc;

use thiserror::Error;

use super::codec_response::ResponseCode;
use super::codec_uidl::{UidlFormatError, UidlValues, format_uidl};
use super::session::MessageInfo;
use crate::shard::env::{Env, Protocol, UserInfo, UserLookup};
use crate::storage::AnyStore;
use crate::storage::{
    FlagOp, MailStore, Mailbox, MailboxName, MessagePart, StorageError, SystemFlags,
};

type InboxView = <AnyStore as MailStore>::Mailbox;

/// Why a maildrop could not be opened.
#[derive(Debug, Error)]
pub enum MaildropError {
    #[error("userdb has no such user")]
    UnknownUser,
    #[error("userdb lookup failed: {0}")]
    UserdbTemporary(String),
    #[error("maildrop is locked by another POP3 session")]
    Locked,
    #[error("cannot open the mail store: {0}")]
    Store(String),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("UIDL: {0}")]
    Uidl(#[from] UidlFormatError),
}

impl MaildropError {
    /// The POP3 response code and text for the `-ERR` line.
    pub fn reply(&self) -> (ResponseCode, &'static str) {
        match self {
            MaildropError::Locked => (
                ResponseCode::InUse,
                "Mailbox is locked by another POP3 session.",
            ),
            MaildropError::UnknownUser => (ResponseCode::SysPerm, "User has no mail store."),
            _ => (
                ResponseCode::SysTemp,
                "Temporary failure opening the mailbox.",
            ),
        }
    }
}

thread_local! {
    /// Stores (`Env::store_key`) with an open POP3 maildrop on this shard.
    static LOCKED: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// Holds a store's maildrop lock until dropped.
#[derive(Debug)]
pub struct MaildropLock(String);

impl MaildropLock {
    fn acquire(user: &str) -> Option<MaildropLock> {
        LOCKED
            .with(|set| set.borrow_mut().insert(user.to_owned()))
            .then(|| MaildropLock(user.to_owned()))
    }
}

impl Drop for MaildropLock {
    fn drop(&mut self) {
        LOCKED.with(|set| set.borrow_mut().remove(&self.0));
    }
}

/// An open maildrop: the INBOX view and the UIDs of the snapshot.
pub struct OpenMaildrop {
    pub user: String,
    inbox: InboxView,
    /// UID of each message of the snapshot, by 0-based index.
    uids: Vec<u32>,
    /// Wire size of each message of the snapshot, by 0-based index.
    sizes: Vec<u64>,
    /// Messages read ahead of the client's RETRs (see `read`).
    ahead: RefCell<ReadAhead>,
    /// Messages sent completely by RETR (they get `\Seen` at QUIT).
    retrieved: BTreeSet<u32>,
    _lock: Option<MaildropLock>,
}

/// Clients download a maildrop in order (RETR 1, RETR 2, …). Each storage
/// read is a trip to the blocking pool that costs milliseconds when the
/// shard is busy, so one read fetches the next few messages too, bounded
/// by count and bytes; a message is handed out once and then forgotten.
#[derive(Debug, Default)]
struct ReadAhead {
    messages: Vec<(usize, Vec<u8>)>,
}

/// At most this many messages per storage read…
const READ_AHEAD_MESSAGES: usize = 16;
/// …and at most this many bytes beyond the one asked for.
const READ_AHEAD_BYTES: u64 = 256 * 1024;

/// The userdb record of a user who just logged in (it names the store,
/// and so the shard, the maildrop is served from).
pub async fn maildrop_user(env: &Env, user: &str) -> Result<UserInfo, MaildropError> {
    match env.auth.lookup_user(user).await {
        UserLookup::Found(info) => Ok(info),
        UserLookup::NotFound => Err(MaildropError::UnknownUser),
        UserLookup::TempFail(reason) => Err(MaildropError::UserdbTemporary(reason)),
    }
}

/// Everything the open needs from configuration.
#[derive(Debug, Clone)]
pub struct MaildropOptions {
    pub uidl_format: String,
    pub lock_session: bool,
}

impl OpenMaildrop {
    /// Locks `info`'s maildrop and takes the snapshot.
    pub async fn open(
        env: &Rc<Env>,
        info: &UserInfo,
        options: &MaildropOptions,
    ) -> Result<(OpenMaildrop, Vec<MessageInfo>), MaildropError> {
        let lock = if options.lock_session {
            let store = env.store_key(info, Protocol::Pop3);
            Some(MaildropLock::acquire(&store).ok_or(MaildropError::Locked)?)
        } else {
            None
        };
        let store = env
            .open_mail(Protocol::Pop3, info)
            .await
            .map_err(MaildropError::Store)?;
        // The snapshot must hold what other writers delivered or removed.
        let (inbox, stale) = store.open_current(&MailboxName::inbox()).await?;
        if let Some(e) = stale {
            tracing::warn!(
                user = info.user,
                "pop3: cannot look for other programs' changes to INBOX, listing it as last seen: {e}"
            );
        }
        let uidvalidity = inbox.status().uidvalidity;
        let mut messages = inbox.messages();
        pop3_listing_order(&mut messages);
        let snapshot = snapshot(&messages, uidvalidity, &options.uidl_format)?;
        let maildrop = OpenMaildrop {
            user: info.user.clone(),
            inbox,
            uids: messages.iter().map(|m| m.uid).collect(),
            sizes: snapshot.iter().map(|m| m.size).collect(),
            ahead: RefCell::new(ReadAhead::default()),
            retrieved: BTreeSet::new(),
            _lock: lock,
        };
        Ok((maildrop, snapshot))
    }

    /// The message at snapshot index `index`, in wire form (CRLF).
    pub async fn read(&self, index: usize) -> Result<Vec<u8>, StorageError> {
        self.uids.get(index).ok_or(StorageError::NoSuchMessage(0))?;
        {
            let mut ahead = self.ahead.borrow_mut();
            if let Some(pos) = ahead.messages.iter().position(|(i, _)| *i == index) {
                return Ok(ahead.messages.swap_remove(pos).1);
            }
            ahead.messages.clear();
        }
        let batch = read_ahead_batch(&self.sizes, index);
        let uids: Vec<u32> = batch.clone().map(|i| self.uids[i]).collect();
        let mut results = self
            .inbox
            .read_parts(&uids, MessagePart::Whole)
            .await?
            .into_iter();
        let first = results
            .next()
            .unwrap_or(Err(StorageError::NoSuchMessage(0)))?;
        let mut ahead = self.ahead.borrow_mut();
        for (i, r) in batch.skip(1).zip(results) {
            // A message that failed is read again (and reported) on its RETR.
            if let Ok(message) = r {
                ahead.messages.push((i, message));
            }
        }
        Ok(first)
    }

    /// The first `len` bytes of the message's wire form (TOP rarely needs
    /// more than the header and a few lines).
    pub async fn read_prefix(&self, index: usize, len: u64) -> Result<Vec<u8>, StorageError> {
        let uid = *self.uids.get(index).ok_or(StorageError::NoSuchMessage(0))?;
        self.inbox.read_range(uid, 0, len).await
    }

    /// Remembers that RETR sent the message completely.
    pub fn mark_retrieved(&mut self, index: usize) {
        if let Some(&uid) = self.uids.get(index) {
            self.retrieved.insert(uid);
        }
    }

    /// QUIT: sets `\Seen` on retrieved messages (unless `no_flag_updates`)
    /// and expunges the marked ones. Returns false if the expunge failed.
    pub async fn update(&mut self, expunge: &[usize], no_flag_updates: bool) -> bool {
        let doomed: Vec<u32> = expunge
            .iter()
            .filter_map(|&i| self.uids.get(i).copied())
            .collect();
        if !no_flag_updates {
            self.retrieved.retain(|uid| !doomed.contains(uid));
            self.mark_seen().await;
        }
        if doomed.is_empty() {
            return true;
        }
        match self.inbox.expunge(&doomed).await {
            // UIDs another session expunged meanwhile are gone as asked.
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(user = self.user, "pop3: expunge failed: {e}");
                false
            }
        }
    }

    /// QUIT without deletions: only the `\Seen` marking.
    pub async fn finish_without_update(&mut self, no_flag_updates: bool) {
        if !no_flag_updates {
            self.mark_seen().await;
        }
    }

    async fn mark_seen(&mut self) {
        let uids: Vec<u32> = std::mem::take(&mut self.retrieved).into_iter().collect();
        if uids.is_empty() {
            return;
        }
        if let Err(e) = self
            .inbox
            .store(&uids, FlagOp::Add, SystemFlags::SEEN, &[], None)
            .await
        {
            // Dovecot also logs and goes on: flags are not worth a -ERR.
            tracing::warn!(user = self.user, "pop3: setting \\Seen failed: {e}");
        }
    }
}

/// Messages with a POP3 order kept from a migration (`pop3_order`) come
/// first, in that order, so clients see the listing they knew; the rest
/// follow in UID order.
fn pop3_listing_order(messages: &mut [crate::storage::MessageInfo]) {
    if messages.iter().any(|m| m.pop3_order.is_some()) {
        messages.sort_by_key(|m| (m.pop3_order.unwrap_or(u32::MAX), m.uid));
    }
}

/// One [`MessageInfo`] per message: the CRLF size and the UIDL (a UIDL kept
/// from a migration wins over the format, so clients see no change).
/// The snapshot indexes one storage read covers when `index` is asked
/// for: `index` itself, then following messages while they fit the bounds.
fn read_ahead_batch(sizes: &[u64], index: usize) -> std::ops::Range<usize> {
    let mut end = index + 1;
    let mut bytes = 0u64;
    while end < sizes.len() && end - index < READ_AHEAD_MESSAGES {
        bytes = bytes.saturating_add(sizes[end]);
        if bytes > READ_AHEAD_BYTES {
            break;
        }
        end += 1;
    }
    index..end
}

fn snapshot(
    messages: &[crate::storage::MessageInfo],
    uidvalidity: u32,
    format: &str,
) -> Result<Vec<MessageInfo>, UidlFormatError> {
    messages
        .iter()
        .map(|m| {
            let uidl = match &m.pop3_uidl {
                Some(kept) if !kept.is_empty() => kept.clone(),
                _ => format_uidl(
                    format,
                    &UidlValues {
                        uid: m.uid,
                        uidvalidity,
                        guid: Some(&m.guid),
                        ..UidlValues::default()
                    },
                )?,
            };
            Ok(MessageInfo {
                size: m.virtual_size,
                uidl,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(uid: u32, size: u64, kept: Option<&str>) -> crate::storage::MessageInfo {
        crate::storage::MessageInfo {
            uid,
            flags: SystemFlags::NONE,
            keywords: Vec::new(),
            recent: false,
            modseq: 1,
            internal_date: 0,
            save_date: 0,
            physical_size: size,
            virtual_size: size + 2,
            guid: format!("guid{uid}"),
            pop3_uidl: kept.map(str::to_owned),
            pop3_order: None,
        }
    }

    #[test]
    fn snapshot_uses_format_or_kept_uidl() {
        let list = [message(42, 10, None), message(43, 20, Some("old-uidl"))];
        let snap = snapshot(&list, 0x5f3b_2c10, "%08Xu%08Xv").unwrap();
        assert_eq!(snap[0].uidl, "0000002a5f3b2c10");
        assert_eq!(snap[0].size, 12);
        assert_eq!(snap[1].uidl, "old-uidl");
        let snap = snapshot(&list, 1, "%g").unwrap();
        assert_eq!(snap[0].uidl, "guid42");
        assert!(snapshot(&list, 1, "%q").is_err());
    }

    #[test]
    fn migrated_pop3_order_comes_first() {
        let mut list = [
            message(1, 1, None),
            message(2, 1, None),
            message(3, 1, None),
        ];
        pop3_listing_order(&mut list);
        assert_eq!(list.map(|m| m.uid), [1, 2, 3]);
        let mut list = [
            message(1, 1, None),
            message(2, 1, None),
            message(3, 1, None),
        ];
        list[2].pop3_order = Some(1);
        list[1].pop3_order = Some(2);
        pop3_listing_order(&mut list);
        assert_eq!(list.map(|m| m.uid), [3, 2, 1]);
    }

    #[test]
    fn read_ahead_batch_is_bounded_by_count_and_bytes() {
        assert_eq!(read_ahead_batch(&[10; 40], 0), 0..READ_AHEAD_MESSAGES);
        assert_eq!(read_ahead_batch(&[10; 40], 30), 30..40);
        assert_eq!(read_ahead_batch(&[10; 40], 39), 39..40);
        // A big neighbour is left for its own read; the asked one always comes.
        let sizes = [1_000_000, 100, READ_AHEAD_BYTES, 100];
        assert_eq!(read_ahead_batch(&sizes, 0), 0..2);
        assert_eq!(read_ahead_batch(&sizes, 1), 1..3);
        assert_eq!(read_ahead_batch(&sizes, 2), 2..4);
    }

    #[test]
    fn lock_is_exclusive_until_dropped() {
        let first = MaildropLock::acquire("lock-test-user").unwrap();
        assert!(MaildropLock::acquire("lock-test-user").is_none());
        assert!(MaildropLock::acquire("lock-test-other").is_some());
        drop(first);
        assert!(MaildropLock::acquire("lock-test-user").is_some());
    }

    #[test]
    fn error_replies() {
        assert_eq!(MaildropError::Locked.reply().0, ResponseCode::InUse);
        assert_eq!(
            MaildropError::UserdbTemporary("x".into()).reply().0,
            ResponseCode::SysTemp
        );
    }
}

#[cfg(test)]
mod storage_tests {
    use super::*;
    use crate::lmtp::driver_testenv::{env, run};
    use crate::storage::AppendRequest;
    use crate::storage::sdbox::test_dir;

    fn options() -> MaildropOptions {
        MaildropOptions {
            uidl_format: "%08Xu%08Xv".into(),
            lock_session: true,
        }
    }

    async fn open_alice(env: &Rc<Env>) -> Result<(OpenMaildrop, Vec<MessageInfo>), MaildropError> {
        let info = maildrop_user(env, "alice").await?;
        OpenMaildrop::open(env, &info, &options()).await
    }

    async fn seed(env: &Rc<Env>, count: usize) {
        let info = match env.auth.lookup_user("alice").await {
            UserLookup::Found(info) => info,
            other => panic!("{other:?}"),
        };
        let store = env.open_mail(Protocol::Pop3, &info).await.unwrap();
        let inbox = store.open(&MailboxName::inbox()).await.unwrap();
        let requests = (0..count)
            .map(|i| AppendRequest {
                message: format!("Subject: {i}\n\nbody\n").into_bytes(),
                ..AppendRequest::default()
            })
            .collect();
        inbox.append(requests).await.unwrap();
    }

    #[test]
    fn open_lock_read_update() {
        let root = test_dir("pop3-maildrop");
        run(|| async {
            let env = env(&root);
            seed(&env, 3).await;
            let (mut maildrop, snapshot) = open_alice(&env).await.unwrap();
            assert_eq!(snapshot.len(), 3);
            // LF on disk, CRLF on the wire: "Subject: 0\r\n\r\nbody\r\n".
            assert_eq!(snapshot[0].size, 20);
            assert!(snapshot[0].uidl.starts_with("00000001"));
            assert!(matches!(open_alice(&env).await, Err(MaildropError::Locked)));
            // Another spelling of the same user names the same store.
            let mut spelled = maildrop_user(&env, "alice").await.unwrap();
            spelled.user = "alice@example.org".into();
            assert!(matches!(
                OpenMaildrop::open(&env, &spelled, &options()).await,
                Err(MaildropError::Locked)
            ));
            assert_eq!(
                maildrop.read(0).await.unwrap(),
                b"Subject: 0\r\n\r\nbody\r\n"
            );
            maildrop.mark_retrieved(0);
            maildrop.mark_retrieved(1);
            assert!(maildrop.update(&[1], false).await);
            drop(maildrop);

            let (maildrop, after) = open_alice(&env).await.unwrap();
            assert_eq!(after.len(), 2);
            assert_eq!(after[0].uidl, snapshot[0].uidl);
            assert_eq!(after[1].uidl, snapshot[2].uidl);
            let flags: Vec<bool> = maildrop
                .inbox
                .messages()
                .iter()
                .map(|m| m.flags.contains(SystemFlags::SEEN))
                .collect();
            assert_eq!(flags, vec![true, false], "RETR'd message got \\Seen");
        });
        let _ = std::fs::remove_dir_all(&root);
    }

    /// RETR of a whole maildrop in order costs a few storage trips, not
    /// one per message, and every message comes out right.
    #[test]
    fn sequential_reads_share_storage_trips() {
        let root = test_dir("pop3-maildrop-ahead");
        run(|| async {
            let env = env(&root);
            seed(&env, 40).await;
            let (maildrop, snapshot) = open_alice(&env).await.unwrap();
            let before = crate::storage::blocking::jobs_started();
            for (i, info) in snapshot.iter().enumerate() {
                let body = maildrop.read(i).await.unwrap();
                assert_eq!(body, format!("Subject: {i}\r\n\r\nbody\r\n").into_bytes());
                assert_eq!(body.len() as u64, info.size);
            }
            let trips = crate::storage::blocking::jobs_started() - before;
            assert!(trips <= 3, "{trips} storage trips for 40 sequential reads");
            // Out of order and repeated reads still work.
            assert_eq!(
                maildrop.read(5).await.unwrap(),
                b"Subject: 5\r\n\r\nbody\r\n"
            );
            assert_eq!(
                maildrop.read(5).await.unwrap(),
                b"Subject: 5\r\n\r\nbody\r\n"
            );
            assert_eq!(
                maildrop.read(0).await.unwrap(),
                b"Subject: 0\r\n\r\nbody\r\n"
            );
        });
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn no_flag_updates_leaves_flags_alone() {
        let root = test_dir("pop3-maildrop-noflags");
        run(|| async {
            let env = env(&root);
            seed(&env, 2).await;
            let (mut maildrop, _) = open_alice(&env).await.unwrap();
            maildrop.mark_retrieved(0);
            maildrop.finish_without_update(true).await;
            assert!(maildrop.update(&[], true).await);
            let seen = maildrop
                .inbox
                .messages()
                .iter()
                .filter(|m| m.flags.contains(SystemFlags::SEEN))
                .count();
            assert_eq!(seen, 0);
            maildrop.finish_without_update(false).await;
            let seen = maildrop
                .inbox
                .messages()
                .iter()
                .filter(|m| m.flags.contains(SystemFlags::SEEN))
                .count();
            assert_eq!(seen, 1, "QUIT without deletions still marks RETR'd mail");
        });
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn userdb_answers_map_to_response_codes() {
        let root = test_dir("pop3-maildrop-users");
        run(|| async {
            let env = env(&root);
            let unknown = maildrop_user(&env, "nobody").await;
            assert!(matches!(unknown, Err(MaildropError::UnknownUser)));
            let flaky = maildrop_user(&env, "flaky").await;
            let Err(e) = flaky else {
                panic!("flaky user opened");
            };
            assert_eq!(e.reply().0, ResponseCode::SysTemp);
        });
        let _ = std::fs::remove_dir_all(&root);
    }
}
