//! Command handlers, one file per command named after it (pairs share
//! one: `select.rs` SELECT/EXAMINE, `close.rs` CLOSE/UNSELECT, `copy.rs`
//! COPY/MOVE, `subscribe.rs` SUBSCRIBE/UNSUBSCRIBE, `noop.rs` NOOP/CHECK,
//! `expunge.rs` EXPUNGE/UID EXPUNGE; UID forms live with their command),
//! and [`dispatch`]: the table from a parsed command to its handler and
//! to the [`rules`] the dispatcher applies around it. Each handler writes
//! its untagged data to the output and leaves its tagged answer in
//! [`Session::reply`]; what only the driver can do (wait in IDLE, start
//! compression, close) it asks for with a [`Flow`]. Pre-login commands
//! are [`super::prelogin`]'s.

mod append;
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
use crate::imap::codec::types::{CommandBody, SequenceSet, Tag};
use crate::storage::StorageError;

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

/// What the dispatcher checks and allows around a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Only in the selected state (BAD otherwise).
    pub needs_selected: bool,
    /// Untagged EXPUNGEs may be sent after it (RFC 9051 §7.5.1: not after
    /// FETCH, STORE, SEARCH, SORT, THREAD by sequence number).
    pub allows_expunge: bool,
    /// New mail is announced after it even with delay-newmail.
    pub announces_new_mail: bool,
    /// Whether the selected mailbox first catches up with other writers.
    pub catch_up: CatchUp,
}

/// Catching up with other writers (another tern, the admin CLI, Dovecot's
/// tools, an MDA) before a command uses the selected mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchUp {
    /// Leaves the mailbox, or does not use it. APPEND and COPY's
    /// destination catch up in storage, which every change does first.
    No,
    /// Reads or changes it: a check made a moment ago will do (storage
    /// rate-limits them per mailbox).
    Recent,
    /// The clients' explicit polls (NOOP, CHECK, IDLE): look every time.
    Forced,
}

/// The rules of each command.
pub fn rules(body: &CommandBody) -> Rules {
    use CatchUp::{Forced, No, Recent};
    use CommandBody as B;
    let (needs_selected, allows_expunge, announces_new_mail, catch_up) = match body {
        B::Noop | B::Idle => (false, true, true, Forced),
        B::Check => (true, true, true, Forced),
        B::Close | B::Unselect => (true, true, false, No),
        B::Expunge | B::UidExpunge { .. } | B::Copy { .. } | B::Move { .. } => {
            (true, true, false, Recent)
        }
        B::Search { uid, .. }
        | B::Fetch { uid, .. }
        | B::Store { uid, .. }
        | B::Sort { uid, .. }
        | B::Thread { uid, .. } => (true, *uid, false, Recent),
        _ => (false, true, false, No),
    };
    Rules {
        needs_selected,
        allows_expunge,
        announces_new_mail,
        catch_up,
    }
}

/// Runs one command: the checks its [`rules`] call for, the handler, then
/// the untagged updates and the tagged answer.
pub async fn dispatch(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    body: CommandBody,
) -> Flow {
    let rules = rules(&body);
    // delay-newmail: EXISTS only on NOOP / CHECK (and IDLE, which is
    // nothing but waiting for them).
    let allow_new = !s.workaround(ImapWorkaround::DelayNewmail) || rules.announces_new_mail;
    before_command(s, &rules).await;
    if rules.needs_selected && s.selected.is_none() {
        out.bad(Some(tag), "No mailbox selected.");
        return Flow::Continue;
    }
    use CommandBody as B;
    // A tagged answer already carries its untagged updates; handlers that
    // must order them themselves (FETCH, STORE, SEARCH) do so.
    let flow = match body {
        B::Capability => capability::capability(s, out, tag),
        B::Noop | B::Check => noop::noop(s, tag),
        B::Logout => return logout::logout(out, tag),
        B::Id { parameters } => id::id(s, out, tag, parameters.as_deref()),
        B::Enable { capabilities } => enable::enable(s, out, tag, &capabilities),
        B::Namespace => namespace::namespace(s, out, tag),
        B::StartTls | B::Login { .. } | B::Authenticate { .. } => {
            s.bad(tag, "Already logged in.");
            Flow::Continue
        }
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
            selection,
            reference,
            patterns,
            return_options,
        } => {
            list::list(
                s,
                out,
                tag,
                &selection,
                &reference,
                &patterns,
                &return_options,
            )
            .await
        }
        B::Lsub { reference, pattern } => lsub::lsub(s, out, tag, &reference, &pattern).await,
        B::Status { mailbox, items } => status::status(s, out, tag, &mailbox, &items).await,
        B::Append { mailbox, messages } => append::append(s, tag, &mailbox, messages).await,
        B::Idle => return idle::idle(out, tag),
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
            criteria,
            ..
        } => thread::thread(s, out, tag, uid, &algorithm, &criteria).await,
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
        B::GenUrlAuth { requests } => genurlauth::genurlauth(s, out, tag, &requests).await,
        B::ResetKey {
            mailbox,
            mechanisms,
        } => resetkey::resetkey(s, tag, mailbox.as_ref(), &mechanisms).await,
        B::UrlFetch { urls } => urlfetch::urlfetch(s, out, tag, &urls).await,
    };
    s.finish(out, rules.allows_expunge, allow_new).await;
    flow
}

/// The one place that runs before every command.
async fn before_command(s: &mut Session, rules: &Rules) {
    // Another session may have renamed the selected mailbox: APPEND or
    // STATUS by name must see where it is now.
    super::selected::follow_rename(s).await;
    // Catch up with other writers before using the selected mailbox (a
    // no-op without one, where the command is refused next anyway), so
    // their changes are reported before the tagged answer.
    match rules.catch_up {
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
