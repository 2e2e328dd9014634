//! Command handlers, one file per command named after it (pairs share
//! one: `select.rs` SELECT/EXAMINE, `close.rs` CLOSE/UNSELECT, `copy.rs`
//! COPY/MOVE, `subscribe.rs` SUBSCRIBE/UNSUBSCRIBE, `noop.rs` NOOP/CHECK,
//! `expunge.rs` EXPUNGE/UID EXPUNGE; UID forms live with their command),
//! and [`dispatch`]: from a parsed command to its handler, with the rules
//! of its row in the command table ([`crate::imap::codec::commands_table`],
//! which also says how to add a command) applied around it. Each handler writes
//! its untagged data to the output and leaves its tagged answer in
//! [`Session::reply`]; what only the driver can do (wait in IDLE, start
//! compression, close) it asks for with a [`Flow`]. Pre-login commands
//! are [`super::prelogin`]'s.

mod append;
mod cancelupdate;
mod capability;
mod catenate;
mod close;
mod compress;
mod copy;
mod create;
mod delete;
mod enable;
mod expunge;
mod fetch;
mod genurlauth;
mod id;
mod idle;
mod list;
mod logout;
mod lsub;
mod namespace;
mod noop;
pub(crate) mod notify;
mod rename;
mod resetkey;
mod search;
mod select;
mod sort;
mod status;
mod store;
mod subscribe;
mod thread;
mod urlfetch;

#[cfg(test)]
mod tests;

use super::output::Output;
use super::state::Session;
use crate::config::ImapWorkaround;
use crate::imap::codec::response::ResponseCode;
use crate::imap::codec::types::{Command, CommandBody, SequenceSet, Tag};
use crate::storage::StorageError;

pub use crate::imap::codec::commands_table::{CatchUp, CommandSpec, StateNeeded};

/// What the driver does once a command was handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// LOGOUT answered: flush and close.
    Logout,
    /// Close without a tagged answer (the client is gone).
    Close,
    /// COMPRESS=DEFLATE accepted: send the tagged OK as it is, then
    /// compress both directions.
    StartCompression,
    /// IDLE began (`+ idling` is in the output): wait for DONE, changes
    /// and timers, reporting through [`Session::idle_changes`], then answer
    /// through [`Session::idle_done`] with this tag.
    Idle(Tag),
}

/// Runs one command: the checks its row in the command table calls for
/// ([`CommandSpec`]: state needed, catch-up), the handler, then the
/// untagged updates the row allows and the tagged answer.
pub async fn dispatch(s: &mut Session, out: &mut impl Output, command: Command) -> Flow {
    let Command {
        tag,
        spec,
        uid,
        body,
    } = command;
    let tag = &tag;
    // delay-newmail: EXISTS only on NOOP / CHECK (and IDLE, which is
    // nothing but waiting for them).
    let allow_new = !s.workaround(ImapWorkaround::DelayNewmail) || spec.announces_new_mail;
    before_command(s, spec.catch_up).await;
    if spec.state == StateNeeded::Selected && s.selected.is_none() {
        out.bad(Some(tag), "No mailbox selected.");
        return Flow::Continue;
    }
    let flow = if spec.state == StateNeeded::NotAuthenticated {
        s.bad(tag, "Already logged in.");
        Flow::Continue
    } else {
        let own_event = super::notify::own_event(s, &body);
        let flow = handle(s, out, tag, body).await;
        super::notify::caused(s, own_event);
        flow
    };
    // LOGOUT and IDLE wrote their whole answer.
    if matches!(flow, Flow::Logout | Flow::Idle(_)) {
        return flow;
    }
    s.finish(out, spec.allows_expunge(uid), allow_new).await;
    flow
}

/// The handler of each command. A tagged answer already carries its
/// untagged updates; handlers that must order them themselves (FETCH,
/// STORE, SEARCH) do so.
async fn handle(s: &mut Session, out: &mut impl Output, tag: &Tag, body: CommandBody) -> Flow {
    use CommandBody as B;
    match body {
        B::Capability => capability::capability(s, out, tag),
        B::Noop | B::Check => noop::noop(s, tag),
        B::Logout => logout::logout(out, tag),
        B::Id { parameters } => id::id(s, out, tag, parameters.as_deref()),
        B::Enable { capabilities } => enable::enable(s, out, tag, &capabilities),
        B::Namespace => namespace::namespace(s, out, tag),
        // Answered by `dispatch`: their row needs the not-authenticated state.
        B::StartTls | B::Login { .. } | B::Authenticate { .. } => Flow::Continue,
        B::Compress { algorithm } => compress::compress(s, out, tag, &algorithm),
        B::Select { mailbox, params } => select::select(s, out, tag, &mailbox, params, false).await,
        B::Examine { mailbox, params } => select::select(s, out, tag, &mailbox, params, true).await,
        B::Close => close::close(s, tag, true).await,
        B::Unselect => close::close(s, tag, false).await,
        B::Create {
            mailbox,
            special_use,
        } => create::create(s, tag, &mailbox, &special_use).await,
        B::Delete { mailbox } => delete::delete(s, tag, &mailbox).await,
        B::Rename { from, to } => rename::rename(s, tag, &from, &to).await,
        B::Subscribe { mailbox } => subscribe::subscribe(s, tag, &mailbox, true).await,
        B::Unsubscribe { mailbox } => subscribe::subscribe(s, tag, &mailbox, false).await,
        B::List {
            extended,
            selection,
            reference,
            patterns,
            return_options,
        } => {
            list::list(
                s,
                out,
                tag,
                (extended, &selection),
                &reference,
                &patterns,
                &return_options,
            )
            .await
        }
        B::Lsub { reference, pattern } => lsub::lsub(s, out, tag, &reference, &pattern).await,
        B::Status { mailbox, items } => status::status(s, out, tag, &mailbox, &items).await,
        B::Append { mailbox, messages } => append::append(s, tag, &mailbox, messages).await,
        B::Idle => idle::idle(out, tag),
        B::Expunge => expunge::expunge(s, tag, None).await,
        B::UidExpunge { uids } => expunge::expunge(s, tag, Some(&uids)).await,
        B::Search { uid, search } => search::search(s, out, tag, uid, &search).await,
        B::Sort {
            uid,
            criteria,
            search,
        } => sort::sort(s, out, tag, uid, &criteria, &search).await,
        B::Thread {
            uid,
            algorithm,
            charset,
            criteria,
        } => thread::thread(s, out, tag, uid, &algorithm, &charset, &criteria).await,
        B::Fetch {
            uid,
            set,
            attributes,
            modifiers,
        } => fetch::fetch(s, out, tag, uid, &set, &attributes, modifiers).await,
        B::Store {
            uid,
            set,
            unchanged_since,
            action,
            silent,
            flags,
        } => {
            store::store(
                s,
                out,
                tag,
                uid,
                &set,
                unchanged_since,
                action,
                silent,
                &flags,
            )
            .await
        }
        B::Copy { uid, set, mailbox } => {
            copy::copy_or_move(s, out, tag, uid, &set, &mailbox, false).await
        }
        B::Move { uid, set, mailbox } => {
            copy::copy_or_move(s, out, tag, uid, &set, &mailbox, true).await
        }
        B::CancelUpdate { tags } => cancelupdate::cancel_update(s, tag, &tags),
        B::Notify(request) => notify::notify(s, out, tag, &request).await,
        B::GenUrlAuth { requests } => genurlauth::genurlauth(s, out, tag, &requests).await,
        B::ResetKey {
            mailbox,
            mechanisms,
        } => resetkey::resetkey(s, tag, mailbox.as_ref(), &mechanisms).await,
        B::UrlFetch { urls } => urlfetch::urlfetch(s, out, tag, &urls).await,
    }
}

/// The one place that runs before every command.
async fn before_command(s: &mut Session, catch_up: CatchUp) {
    // Another session may have renamed the selected mailbox: APPEND or
    // STATUS by name must see where it is now.
    super::selected::follow_rename(s).await;
    // Catch up with other writers before using the selected mailbox (a
    // no-op without one, where the command is refused next anyway), so
    // their changes are reported before the tagged answer.
    match catch_up {
        CatchUp::No => {}
        CatchUp::Recent => super::refresh::selected(s, false).await,
        CatchUp::Forced => super::refresh::selected(s, true).await,
    }
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

/// A sequence-number set naming a message past EXISTS is BAD (RFC 9051;
/// `*` aside); a UID set may name anything. False once answered BAD.
pub fn messageset_ok(s: &mut Session, tag: &Tag, uid_mode: bool, set: &SequenceSet) -> bool {
    let out_of_range = !uid_mode
        && s.selected
            .as_ref()
            .is_some_and(|sel| sel.seq_set_out_of_range(set));
    if out_of_range {
        s.bad(tag, "Invalid messageset.");
    }
    !out_of_range
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
