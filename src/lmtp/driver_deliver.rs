//! One LMTP delivery on the recipient's owner shard: open the user's store,
//! pick the mailbox (INBOX, or the `+detail` folder with
//! `lmtp_save_to_detail_mailbox`), append, and report the outcome back to
//! the shard that holds the LMTP connection.
//!
//! The body is spooled once (`Arc<[u8]>`) and shared by every recipient's
//! job; only the per-recipient trace headers differ.

use std::rc::Rc;
use std::sync::Arc;

use super::codec_path::SmtpAddress;
use super::codec_reply::{EnhancedStatus, LmtpReply};
use super::session::DeliveryOutcome;
use crate::shard::env::{Env, Protocol, RemoteTask, UserInfo};
use crate::shard::repoll::{REPOLL_PERIOD, repolled};
use crate::storage::AnyStore;
use crate::storage::{AppendRequest, MailStore, Mailbox, MailboxName, StorageError};

/// Everything one recipient's delivery needs; `Send`, so it can travel to
/// the owner shard.
#[derive(Debug, Clone)]
pub struct DeliveryJob {
    pub info: UserInfo,
    pub address: SmtpAddress,
    /// `+detail` folder to save into (already filtered by
    /// `lmtp_save_to_detail_mailbox`).
    pub folder: Option<String>,
    pub autocreate: bool,
    /// Trace headers for this recipient (CRLF-terminated).
    pub headers: String,
    pub body: Arc<[u8]>,
}

/// Runs `job` on the shard that owns the recipient's store (the same one
/// IMAP and POP3 logins of that store move to) and waits for the outcome.
/// Anything that keeps the answer from coming back is a temporary failure,
/// so the MTA keeps the message.
pub async fn deliver_on_owner(env: Rc<Env>, job: DeliveryJob) -> DeliveryOutcome {
    let owner = env.owner_of_store(&job.info, Protocol::Lmtp);
    let (tx, rx) = flume::bounded::<DeliveryOutcome>(1);
    let task: RemoteTask = Box::new(move |env: Rc<Env>| {
        Box::pin(async move {
            let outcome = deliver_local(&env, job).await;
            // Capacity 1 and a single send: never blocks.
            let _ = tx.try_send(outcome);
        })
    });
    let outcome = if env.run_on(owner, task).await {
        // The answer is woken from the owner shard's thread; see shard::repoll.
        repolled(rx.recv_async(), REPOLL_PERIOD)
            .await
            .unwrap_or(DeliveryOutcome::TemporaryFailure)
    } else {
        tracing::warn!(to = owner, "lmtp: owner shard unreachable");
        DeliveryOutcome::TemporaryFailure
    };
    crate::metrics::lmtp_delivery(match &outcome {
        DeliveryOutcome::Delivered => crate::metrics::DeliveryResult::Delivered,
        DeliveryOutcome::TemporaryFailure => crate::metrics::DeliveryResult::TemporaryFailure,
        DeliveryOutcome::Failed(_) => crate::metrics::DeliveryResult::Failed,
    });
    outcome
}

/// The delivery itself; runs on the owner shard. The append returns after
/// the message is durable (storage fsyncs before it answers).
pub async fn deliver_local(env: &Rc<Env>, job: DeliveryJob) -> DeliveryOutcome {
    let store = match env.open_mail(Protocol::Lmtp, &job.info).await {
        Ok(store) => store,
        Err(e) => {
            tracing::warn!(
                user = job.info.user,
                "lmtp: cannot open the mail store: {e}"
            );
            return DeliveryOutcome::TemporaryFailure;
        }
    };
    let (name, mailbox) = match open_target(&store, job.folder.as_deref(), job.autocreate).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(user = job.info.user, "lmtp: cannot open the mailbox: {e}");
            return DeliveryOutcome::TemporaryFailure;
        }
    };
    let mut message = Vec::with_capacity(job.headers.len() + job.body.len());
    message.extend_from_slice(job.headers.as_bytes());
    message.extend_from_slice(&job.body);
    let request = AppendRequest {
        message,
        ..AppendRequest::default()
    };
    match mailbox.append(vec![request]).await {
        Ok(uids) => {
            tracing::info!(
                user = job.info.user,
                shard = env.shard,
                "lmtp: saved mail to {} uid={}",
                name.as_str(),
                uids.first().copied().unwrap_or(0)
            );
            DeliveryOutcome::Delivered
        }
        Err(StorageError::MessageTooLarge) => DeliveryOutcome::Failed(LmtpReply::for_recipient(
            552,
            EnhancedStatus::new(5, 2, 3),
            &job.address,
            "Message too large for the mailbox",
        )),
        Err(e) => {
            tracing::warn!(
                user = job.info.user,
                "lmtp: save to {} failed: {e}",
                name.as_str()
            );
            DeliveryOutcome::TemporaryFailure
        }
    }
}

type MailboxView = <AnyStore as MailStore>::Mailbox;

/// The detail folder if it exists (or may be created), otherwise INBOX,
/// as Dovecot falls back when the folder is missing or its name invalid.
async fn open_target(
    store: &AnyStore,
    folder: Option<&str>,
    autocreate: bool,
) -> Result<(MailboxName, MailboxView), StorageError> {
    if let Some(name) = folder.and_then(|f| MailboxName::new(f).ok()) {
        match store.open(&name).await {
            Ok(mailbox) => return Ok((name, mailbox)),
            Err(StorageError::NoSuchMailbox(_)) if autocreate => match store.create(&name).await {
                Ok(()) | Err(StorageError::AlreadyExists(_)) => {
                    let mailbox = store.open(&name).await?;
                    return Ok((name, mailbox));
                }
                Err(e) => tracing::info!("lmtp: cannot create {}: {e}", name.as_str()),
            },
            Err(e) => tracing::debug!("lmtp: {} unavailable, using INBOX: {e}", name.as_str()),
        }
    }
    let inbox = MailboxName::inbox();
    let mailbox = store.open(&inbox).await?;
    Ok((inbox, mailbox))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lmtp::driver_testenv::{env, run};
    use crate::storage::sdbox::test_dir;

    fn job(user: &str, folder: Option<&str>, autocreate: bool) -> DeliveryJob {
        DeliveryJob {
            info: UserInfo {
                user: user.into(),
                ..UserInfo::default()
            },
            address: SmtpAddress::new(user, Some("example.com")).unwrap(),
            folder: folder.map(str::to_owned),
            autocreate,
            headers: format!("Delivered-To: {user}@example.com\r\n"),
            body: Arc::from(&b"Subject: hi\r\n\r\nbody\r\n"[..]),
        }
    }

    async fn user_info(env: &Rc<Env>, user: &str) -> UserInfo {
        match env.auth.lookup_user(user).await {
            crate::shard::env::UserLookup::Found(info) => info,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn delivers_to_inbox_and_detail_folders() {
        let root = test_dir("lmtp-deliver");
        run(|| async {
            let env = env(&root);
            let mut inbox_job = job("alice", None, false);
            inbox_job.info = user_info(&env, "alice").await;
            // Through the owner-shard path (the local shard here).
            let outcome = deliver_on_owner(env.clone(), inbox_job.clone()).await;
            assert_eq!(outcome, DeliveryOutcome::Delivered);
            // A missing folder without autocreate falls back to INBOX.
            let mut missing = inbox_job.clone();
            missing.folder = Some("lists".into());
            assert_eq!(
                deliver_local(&env, missing).await,
                DeliveryOutcome::Delivered
            );
            // With autocreate the folder is made.
            let mut created = inbox_job.clone();
            created.folder = Some("lists".into());
            created.autocreate = true;
            assert_eq!(
                deliver_local(&env, created).await,
                DeliveryOutcome::Delivered
            );

            let store = env
                .open_mail(Protocol::Lmtp, &inbox_job.info)
                .await
                .unwrap();
            let inbox = store.open(&MailboxName::inbox()).await.unwrap();
            assert_eq!(inbox.uids().len(), 2);
            let stored = inbox.read_message(inbox.uids()[0]).await.unwrap();
            assert_eq!(
                stored,
                b"Delivered-To: alice@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
            );
            let lists = store
                .open(&MailboxName::new("lists").unwrap())
                .await
                .unwrap();
            assert_eq!(lists.uids().len(), 1);
        });
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn unusable_store_is_a_temporary_failure() {
        let root = test_dir("lmtp-deliver-fail");
        run(|| async {
            let env = env(&root);
            // No home: the `~/mail` location cannot be resolved.
            let homeless = job("alice", None, false);
            assert_eq!(
                deliver_local(&env, homeless).await,
                DeliveryOutcome::TemporaryFailure
            );
        });
        let _ = std::fs::remove_dir_all(&root);
    }
}
