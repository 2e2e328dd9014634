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
use crate::storage::sdbox::SdboxStore;
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

/// Runs `job` on its owner shard and waits for the outcome. Anything that
/// keeps the answer from coming back is a temporary failure, so the MTA
/// keeps the message.
pub async fn deliver_on_owner(env: Rc<Env>, job: DeliveryJob) -> DeliveryOutcome {
    let owner = env.owner_of(&job.info.user);
    let (tx, rx) = flume::bounded::<DeliveryOutcome>(1);
    let task: RemoteTask = Box::new(move |env: Rc<Env>| {
        Box::pin(async move {
            let outcome = deliver_local(&env, job).await;
            // Capacity 1 and a single send: never blocks.
            let _ = tx.try_send(outcome);
        })
    });
    if !env.run_on(owner, task).await {
        tracing::warn!(to = owner, "lmtp: owner shard unreachable");
        return DeliveryOutcome::TemporaryFailure;
    }
    rx.recv_async()
        .await
        .unwrap_or(DeliveryOutcome::TemporaryFailure)
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

type MailboxView = <SdboxStore as MailStore>::Mailbox;

/// The detail folder if it exists (or may be created), otherwise INBOX,
/// as Dovecot falls back when the folder is missing or its name invalid.
async fn open_target(
    store: &SdboxStore,
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
