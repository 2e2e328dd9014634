//! Command handlers, one file per group. Each handler writes its untagged
//! data and tagged status into the session's output buffer.

mod any;
mod append;
mod copy;
mod fetch;
mod idle;
mod mailboxes;
mod search;
mod select;
mod store;

use super::state::{Session, allows_expunge};
use crate::config::ImapWorkaround;
use crate::imap::codec::response::{ResponseCode, Status};
use crate::imap::codec::types::{CommandBody, Tag};
use crate::storage::StorageError;

/// What the command loop does next.
pub enum Flow {
    Continue,
    Logout,
    /// Close without a tagged answer (the client is gone).
    Close,
}

pub async fn dispatch(s: &mut Session, tag: &Tag, body: CommandBody) -> Flow {
    let allow_expunge = allows_expunge(&body);
    // delay-newmail: EXISTS only on NOOP / CHECK (and IDLE, which is
    // nothing but waiting for them).
    let allow_new = !s.workaround(ImapWorkaround::DelayNewmail)
        || matches!(
            body,
            CommandBody::Noop | CommandBody::Check | CommandBody::Idle
        );
    let needs_selected = matches!(
        body,
        CommandBody::Check
            | CommandBody::Close
            | CommandBody::Unselect
            | CommandBody::Expunge
            | CommandBody::UidExpunge { .. }
            | CommandBody::Search { .. }
            | CommandBody::Fetch { .. }
            | CommandBody::Store { .. }
            | CommandBody::Copy { .. }
            | CommandBody::Move { .. }
            | CommandBody::Sort { .. }
            | CommandBody::Thread { .. }
    );
    // Another session may have renamed the selected mailbox: APPEND or
    // STATUS by name must see where it is now.
    super::selected::follow_rename(s).await;
    if needs_selected && s.selected.is_none() {
        s.io.bad(Some(tag), "No mailbox selected.");
        return Flow::Continue;
    }
    if super::refresh::wanted_before(&body) {
        super::refresh::selected(s, super::refresh::forced_for(&body)).await;
    }
    // A tagged answer already carries its untagged updates; handlers that
    // must order them themselves (FETCH, STORE, SEARCH, IDLE) do so.
    let flow = match body {
        CommandBody::Capability => any::capability(s, tag),
        CommandBody::Noop => any::noop(s, tag),
        CommandBody::Check => any::noop(s, tag),
        CommandBody::Logout => return any::logout(s, tag),
        CommandBody::Id { parameters } => any::id(s, tag, parameters.as_deref()),
        CommandBody::Enable { capabilities } => any::enable(s, tag, &capabilities),
        CommandBody::Namespace => any::namespace(s, tag),
        CommandBody::StartTls | CommandBody::Login { .. } | CommandBody::Authenticate { .. } => {
            s.bad(tag, "Already logged in.");
            Flow::Continue
        }
        CommandBody::Compress { algorithm } => any::compress(s, tag, &algorithm).await,
        CommandBody::Select { mailbox, params } => {
            select::select(s, tag, &mailbox, params, false).await
        }
        CommandBody::Examine { mailbox, params } => {
            select::select(s, tag, &mailbox, params, true).await
        }
        CommandBody::Close => select::close(s, tag, true).await,
        CommandBody::Unselect => select::close(s, tag, false).await,
        CommandBody::Create {
            mailbox,
            special_use,
        } => mailboxes::create(s, tag, &mailbox, &special_use).await,
        CommandBody::Delete { mailbox } => mailboxes::delete(s, tag, &mailbox).await,
        CommandBody::Rename { from, to } => mailboxes::rename(s, tag, &from, &to).await,
        CommandBody::Subscribe { mailbox } => mailboxes::subscribe(s, tag, &mailbox, true).await,
        CommandBody::Unsubscribe { mailbox } => mailboxes::subscribe(s, tag, &mailbox, false).await,
        CommandBody::List {
            selection,
            reference,
            patterns,
            return_options,
        } => mailboxes::list(s, tag, &selection, &reference, &patterns, &return_options).await,
        CommandBody::Lsub { reference, pattern } => {
            mailboxes::lsub(s, tag, &reference, &pattern).await
        }
        CommandBody::Status { mailbox, items } => mailboxes::status(s, tag, &mailbox, &items).await,
        CommandBody::Append { mailbox, messages } => {
            append::append(s, tag, &mailbox, messages).await
        }
        CommandBody::Idle => idle::idle(s, tag).await,
        CommandBody::Expunge => copy::expunge(s, tag, None).await,
        CommandBody::UidExpunge { uids } => copy::expunge(s, tag, Some(&uids)).await,
        CommandBody::Search { uid, search } => search::search(s, tag, uid, &search).await,
        CommandBody::Sort {
            uid,
            criteria,
            search,
        } => search::sort(s, tag, uid, &criteria, &search).await,
        CommandBody::Thread {
            uid,
            algorithm,
            criteria,
            ..
        } => search::thread(s, tag, uid, &algorithm, &criteria).await,
        CommandBody::Fetch {
            uid,
            set,
            attributes,
            modifiers,
        } => fetch::fetch(s, tag, uid, &set, &attributes, modifiers).await,
        CommandBody::Store {
            uid,
            set,
            unchanged_since,
            action,
            silent,
            flags,
        } => store::store(s, tag, uid, &set, unchanged_since, action, silent, &flags).await,
        CommandBody::Copy { uid, set, mailbox } => {
            copy::copy_or_move(s, tag, uid, &set, &mailbox, false).await
        }
        CommandBody::Move { uid, set, mailbox } => {
            copy::copy_or_move(s, tag, uid, &set, &mailbox, true).await
        }
    };
    if let Some(reply) = s.reply.take() {
        if reply.status != Status::Bad {
            s.sync(allow_expunge, allow_new).await;
        }
        let opts = s.io.opts;
        reply.encode(s.io.out(), opts);
    }
    flow
}

/// The NO answer for a storage failure.
pub fn storage_no(s: &mut Session, tag: &Tag, e: &StorageError, trycreate: bool) {
    let (code, text) = match e {
        StorageError::NoSuchMailbox(_) if trycreate => (
            ResponseCode::TryCreate,
            "Mailbox doesn't exist.".to_string(),
        ),
        StorageError::NoSuchMailbox(_) | StorageError::MailboxGone => (
            ResponseCode::Nonexistent,
            "Mailbox doesn't exist.".to_string(),
        ),
        StorageError::AlreadyExists(_) => (
            ResponseCode::AlreadyExists,
            "Mailbox already exists.".to_string(),
        ),
        StorageError::Name(n) => (ResponseCode::Cannot, format!("Invalid mailbox name: {n}.")),
        StorageError::NotAllowed(_) => (ResponseCode::Cannot, e.to_string()),
        StorageError::TooManyKeywords => (ResponseCode::Limit, e.to_string()),
        StorageError::BadKeyword(_) => (ResponseCode::Cannot, e.to_string()),
        StorageError::MessageTooLarge => (ResponseCode::TooBig, e.to_string()),
        StorageError::NoSuchMessage(_) => (ResponseCode::ExpungeIssued, e.to_string()),
        _ => {
            tracing::error!(session = s.id, user = s.user, "imap: storage error: {e}");
            (
                ResponseCode::ServerBug,
                "Internal error occurred.".to_string(),
            )
        }
    };
    s.no(tag, code, &text);
}

/// A client mailbox name, or a NO answer when it is invalid.
pub fn mailbox_name(
    s: &mut Session,
    tag: &Tag,
    mailbox: &crate::imap::codec::types::Mailbox,
) -> Option<crate::storage::MailboxName> {
    let utf8 = s.utf8();
    match super::names::from_wire(mailbox, utf8) {
        Some(n) => Some(n),
        None => {
            s.no(tag, ResponseCode::Cannot, "Invalid mailbox name.");
            None
        }
    }
}

/// The user's mail store, opened on first use (like Dovecot, a login
/// succeeds even if the mail directory cannot be created yet); NO when it
/// cannot be opened.
pub async fn mail(s: &mut Session, tag: &Tag) -> Option<crate::storage::AnyStore> {
    match s.mail_store().await {
        Ok(store) => Some(store),
        Err(e) => {
            tracing::error!(session = s.id, user = s.user, "imap: cannot open mail: {e}");
            s.no(tag, ResponseCode::ServerBug, "Mail storage unavailable.");
            None
        }
    }
}
