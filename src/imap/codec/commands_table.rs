//! The IMAP command table: one row per command keyword, read by the parser
//! (keyword → argument parser, and whether `UID <keyword>` exists) and by
//! the session (the state the command needs and what the dispatcher does
//! around it). Nothing else lists command keywords.
//!
//! # Adding a command
//!
//! 1. Its `CommandBody` variant (`types/command.rs`) and its argument
//!    parser in `parse/` (`fn(&mut Cursor) -> PResult<CommandBody>`, or
//!    with a `uid: bool` argument when a `UID` form exists), called with
//!    the cursor right after the keyword; encode it in `encode/mod.rs`
//!    (the command fuzzer checks encode → parse), test it in
//!    `command_tests.rs`.
//! 2. One row in [`COMMANDS`] below.
//! 3. One handler file under `src/imap/session/commands/`, named after the
//!    command, and its arm in `dispatch` (`commands/mod.rs`; the match is
//!    exhaustive, so the compiler points at it). A command allowed before
//!    login (state [`StateNeeded::Any`] or
//!    [`StateNeeded::NotAuthenticated`]) also gets an arm in
//!    `session/prelogin.rs`. Unit tests go in `session/commands/tests/`.
//! 4. Its capability, if any, in `session/capability.rs`.

use super::parse::connection::{authenticate, compress, enable, id, login};
use super::parse::context::cancel_update;
use super::parse::cursor::{Cursor, PResult};
use super::parse::mailbox::{
    append, create, delete, examine, list, lsub, rename, select, status, subscribe, unsubscribe,
};
use super::parse::message::{copy, expunge, fetch, move_, search, sort, store, thread};
use super::parse::notify::notify;
use super::parse::urlauth::{genurlauth, resetkey, urlfetch};
use super::types::CommandBody as B;

/// The state a command needs (RFC 9051 §3). Elsewhere it is answered BAD:
/// before login "not allowed before login", after it "Already logged in."
/// or "No mailbox selected.".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateNeeded {
    /// Only before login (STARTTLS, LOGIN, AUTHENTICATE).
    NotAuthenticated,
    /// Any state.
    Any,
    /// Logged in, with or without a selected mailbox.
    Authenticated,
    /// A selected mailbox.
    Selected,
}

impl StateNeeded {
    /// Whether the pre-login session may run the command.
    pub fn before_login(self) -> bool {
        matches!(self, StateNeeded::NotAuthenticated | StateNeeded::Any)
    }
}

/// When untagged EXPUNGEs may follow the command (RFC 9051 §7.5.1: not
/// after FETCH, STORE, SEARCH, nor SORT and THREAD, by sequence number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpungeAfter {
    Always,
    /// Only after the `UID` form.
    UidFormOnly,
    Never,
}

/// Catching up with other writers (another tern, the admin CLI, Dovecot's
/// tools, an MDA) before a command uses the selected mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

/// A command's argument parser, called right after its keyword.
#[derive(Clone, Copy)]
enum Parser {
    /// No `UID` form.
    Plain(fn(&mut Cursor<'_>) -> PResult<B>),
    /// Has a `UID` form; told which one was sent.
    WithUid(fn(&mut Cursor<'_>, bool) -> PResult<B>),
}

/// One row of the table.
pub struct CommandSpec {
    /// The keyword, in upper case.
    pub keyword: &'static str,
    parser: Parser,
    pub state: StateNeeded,
    pub expunge: ExpungeAfter,
    /// New mail (EXISTS) is announced after it even with the
    /// `delay-newmail` workaround.
    pub announces_new_mail: bool,
    pub catch_up: CatchUp,
}

use CatchUp::{Forced, No, Recent};
use ExpungeAfter::{Always, UidFormOnly};
use Parser::{Plain, WithUid};
use StateNeeded::{Any, Authenticated, NotAuthenticated, Selected};

/// Announces new mail under delay-newmail.
const NEW_MAIL: bool = true;
/// Holds new mail back under delay-newmail.
const HOLDS: bool = false;

/// Every command tern knows. Column by column: keyword, parser (`WithUid`
/// when `UID <keyword>` exists), state needed, when EXPUNGE may follow,
/// new mail under delay-newmail, catch-up before it.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    row("CAPABILITY",   Plain(|_| Ok(B::Capability)), Any,              Always,      HOLDS,    No),
    row("NOOP",         Plain(|_| Ok(B::Noop)),       Any,              Always,      NEW_MAIL, Forced),
    row("LOGOUT",       Plain(|_| Ok(B::Logout)),     Any,              Always,      HOLDS,    No),
    row("ID",           Plain(id),                    Any,              Always,      HOLDS,    No),
    row("STARTTLS",     Plain(|_| Ok(B::StartTls)),   NotAuthenticated, Always,      HOLDS,    No),
    row("LOGIN",        Plain(login),                 NotAuthenticated, Always,      HOLDS,    No),
    row("AUTHENTICATE", Plain(authenticate),          NotAuthenticated, Always,      HOLDS,    No),
    row("ENABLE",       Plain(enable),                Authenticated,    Always,      HOLDS,    No),
    row("NAMESPACE",    Plain(|_| Ok(B::Namespace)),  Authenticated,    Always,      HOLDS,    No),
    row("COMPRESS",     Plain(compress),              Authenticated,    Always,      HOLDS,    No),
    row("IDLE",         Plain(|_| Ok(B::Idle)),       Authenticated,    Always,      NEW_MAIL, Forced),
    row("SELECT",       Plain(select),                Authenticated,    Always,      HOLDS,    No),
    row("EXAMINE",      Plain(examine),               Authenticated,    Always,      HOLDS,    No),
    row("CREATE",       Plain(create),                Authenticated,    Always,      HOLDS,    No),
    row("DELETE",       Plain(delete),                Authenticated,    Always,      HOLDS,    No),
    row("RENAME",       Plain(rename),                Authenticated,    Always,      HOLDS,    No),
    row("SUBSCRIBE",    Plain(subscribe),             Authenticated,    Always,      HOLDS,    No),
    row("UNSUBSCRIBE",  Plain(unsubscribe),           Authenticated,    Always,      HOLDS,    No),
    row("LIST",         Plain(list),                  Authenticated,    Always,      HOLDS,    No),
    row("LSUB",         Plain(lsub),                  Authenticated,    Always,      HOLDS,    No),
    row("STATUS",       Plain(status),                Authenticated,    Always,      HOLDS,    No),
    row("APPEND",       Plain(append),                Authenticated,    Always,      HOLDS,    No),
    row("CHECK",        Plain(|_| Ok(B::Check)),      Selected,         Always,      NEW_MAIL, Forced),
    row("CLOSE",        Plain(|_| Ok(B::Close)),      Selected,         Always,      HOLDS,    No),
    row("UNSELECT",     Plain(|_| Ok(B::Unselect)),   Selected,         Always,      HOLDS,    No),
    row("EXPUNGE",      WithUid(expunge),             Selected,         Always,      HOLDS,    Recent),
    row("COPY",         WithUid(copy),                Selected,         Always,      HOLDS,    Recent),
    row("MOVE",         WithUid(move_),               Selected,         Always,      HOLDS,    Recent),
    row("SEARCH",       WithUid(search),              Selected,         UidFormOnly, HOLDS,    Recent),
    row("FETCH",        WithUid(fetch),               Selected,         UidFormOnly, HOLDS,    Recent),
    row("STORE",        WithUid(store),               Selected,         UidFormOnly, HOLDS,    Recent),
    row("SORT",         WithUid(sort),                Selected,         UidFormOnly, HOLDS,    Recent),
    row("THREAD",       WithUid(thread),              Selected,         UidFormOnly, HOLDS,    Recent),
    row("NOTIFY",       Plain(notify),                Authenticated,    Always,      NEW_MAIL, Forced),
    row("CANCELUPDATE", Plain(cancel_update),         Selected,         Always,      HOLDS,    No),
    row("GENURLAUTH",   Plain(genurlauth),            Authenticated,    Always,      HOLDS,    No),
    row("RESETKEY",     Plain(resetkey),              Authenticated,    Always,      HOLDS,    No),
    row("URLFETCH",     Plain(urlfetch),              Authenticated,    Always,      HOLDS,    No),
];

const fn row(
    keyword: &'static str,
    parser: Parser,
    state: StateNeeded,
    expunge: ExpungeAfter,
    announces_new_mail: bool,
    catch_up: CatchUp,
) -> CommandSpec {
    CommandSpec {
        keyword,
        parser,
        state,
        expunge,
        announces_new_mail,
        catch_up,
    }
}

impl CommandSpec {
    /// The row of `keyword` (any case).
    pub fn find(keyword: &[u8]) -> Option<&'static CommandSpec> {
        COMMANDS
            .iter()
            .find(|spec| keyword.eq_ignore_ascii_case(spec.keyword.as_bytes()))
    }

    /// The row of `UID keyword` (any case), if that form exists.
    pub fn find_uid(keyword: &[u8]) -> Option<&'static CommandSpec> {
        Self::find(keyword).filter(|spec| spec.has_uid_form())
    }

    pub fn has_uid_form(&self) -> bool {
        matches!(self.parser, WithUid(_))
    }

    /// Whether untagged EXPUNGEs may follow this form of the command.
    pub fn allows_expunge(&self, uid: bool) -> bool {
        match self.expunge {
            ExpungeAfter::Always => true,
            ExpungeAfter::UidFormOnly => uid,
            ExpungeAfter::Never => false,
        }
    }

    /// Parses the arguments, from right after the keyword.
    pub(super) fn parse_arguments(&self, c: &mut Cursor<'_>, uid: bool) -> PResult<B> {
        match self.parser {
            Plain(parse) => parse(c),
            WithUid(parse) => parse(c, uid),
        }
    }
}

// A row is its keyword: two parses of one command compare equal.
impl PartialEq for CommandSpec {
    fn eq(&self, other: &Self) -> bool {
        self.keyword == other.keyword
    }
}

impl Eq for CommandSpec {}

impl std::fmt::Debug for CommandSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.keyword)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_upper_case_and_unique() {
        for (i, spec) in COMMANDS.iter().enumerate() {
            assert_eq!(spec.keyword, spec.keyword.to_ascii_uppercase());
            assert!(
                COMMANDS[..i].iter().all(|s| s.keyword != spec.keyword),
                "{} twice",
                spec.keyword
            );
        }
    }

    #[test]
    fn lookup_ignores_case_and_knows_uid_forms() {
        assert_eq!(
            CommandSpec::find(b"fEtCh").map(|s| s.keyword),
            Some("FETCH")
        );
        assert!(CommandSpec::find(b"UID").is_none());
        assert!(CommandSpec::find_uid(b"expunge").is_some());
        assert!(CommandSpec::find_uid(b"NOOP").is_none());
        assert!(CommandSpec::find(b"FETCHX").is_none());
    }

    #[test]
    fn only_uid_forms_of_sequence_commands_allow_expunge() {
        for (keyword, uid, allowed) in [
            ("FETCH", false, false),
            ("FETCH", true, true),
            ("SEARCH", false, false),
            ("COPY", false, true),
            ("NOOP", false, true),
        ] {
            let spec = CommandSpec::find(keyword.as_bytes()).expect(keyword);
            assert_eq!(spec.allows_expunge(uid), allowed, "{keyword} uid={uid}");
        }
    }
}
